/* timefmt.h - RFC 3339 timestamps: the one formatter and the one parser of the bridge.
 *
 * Formatting is UTC with milliseconds ("2026-11-23T17:44:06.123Z"), the form used in the
 * webhook envelope, CloudEvents ce_time, dead-letter headers and logs. Parsing accepts what
 * operators type on a command line or in a config file: RFC 3339 date-times with an optional
 * fraction and a "Z" or "+hh:mm" offset, a bare date ("2026-11-23", midnight UTC), or a
 * duration before now ("-2h", "-30m"; see wb_parse_duration_ms).
 *
 * Thread: pure functions; any thread. */
#ifndef WB_CORE_TIMEFMT_H
#define WB_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define WB_TIME_BUF 32 /* enough for any wb_time_format_ms output */

/* Write unix_ms as RFC 3339 UTC with milliseconds into out (>= WB_TIME_BUF bytes; shorter
 * buffers get a truncated, NUL-terminated string). Returns the length written. */
size_t wb_time_format_ms(int64_t unix_ms, char *out, size_t out_size);

/* Parse s (see above) into unix milliseconds. now_ms anchors relative forms. WB_OK, or
 * WB_ERR_INVALID for anything else (trailing text, month 13, second 61, ...). */
wb_err wb_time_parse_ms(const char *s, int64_t now_ms, int64_t *out_ms);

#endif
