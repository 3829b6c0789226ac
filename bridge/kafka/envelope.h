/* envelope.h - what a partner receives: event type, webhook-id, the Standard Webhooks
 * envelope {"type","timestamp","data"} and the per-attempt signed headers.
 *
 * Thread: pure functions; call from any thread. */
#ifndef WB_ENVELOPE_H
#define WB_ENVELOPE_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

#include "kafka/event.h"

/* RFC 3339 UTC with milliseconds, e.g. "2026-11-23T17:44:06.123Z". out >= 32 bytes. */
void wb_rfc3339_ms(int64_t unix_ms, char *out, size_t out_size);

/* Append {"type":<type>,"timestamp":<ts>,"data":<data>} to out. data must be one valid JSON
 * text (it is copied verbatim, not re-serialised). */
wb_err wb_envelope_build(wb_buf *out, const char *type, int64_t unix_ms, const char *data,
                         size_t data_len);

#endif
