/* header_value.h - the one rule for values that become a header (HTTP or Kafka).
 *
 * Ids, event types, trace contexts and forwarded request headers end up as Kafka record
 * headers and, outbound, as partner request headers. A value carrying a control character
 * (CR, LF, NUL, TAB, ESC, DEL...) could split or forge a header wherever some later step
 * writes it as text, so such values are refused at the door instead of being cleaned up.
 *
 * Thread: pure functions, any thread. */
#ifndef WB_HEADER_VALUE_H
#define WB_HEADER_VALUE_H

#include <stddef.h>

/* Longest id or event type accepted (webhook-id, ce_id, ce_type, delivery ids). */
#define WB_HEADER_ID_MAX 255

/* Why the len bytes at v cannot be a header value, or NULL when they can: every byte is
 * visible ASCII, a space or part of a UTF-8 sequence (>= 0x80), and len <= max. The reason
 * is a static phrase to append to the field name ("contains a control character",
 * "is longer than 255 bytes"). An empty value is acceptable here; callers that need a
 * non-empty one check that themselves. */
const char *wb_header_value_problem(const char *v, size_t len, size_t max);

#endif
