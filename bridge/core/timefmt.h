/* timefmt.h - RFC 3339 timestamps: the one formatter and the one parser of the bridge.
 *
 * Formatting is UTC with milliseconds ("2026-11-23T17:44:06.123Z"), the form used in the
 * webhook envelope, CloudEvents ce_time, dead-letter headers and logs; with microseconds
 * ("2026-11-23T17:44:06.123456Z") and as a bare date ("2026-11-23") for the Avro logical
 * types timestamp-micros and date. Years outside 0000-9999 come out as printf's "%04lld"
 * (RFC 3339 cannot express them: a caller that must produce valid RFC 3339 checks the range).
 *
 * Parsing comes in two strengths. wb_time_parse_ms accepts what operators type on a command
 * line or in a config file: RFC 3339 date-times with an optional fraction and a "Z" or
 * "+hh:mm" offset, a bare date ("2026-11-23", midnight UTC), or a duration before now ("-2h",
 * "-30m"; see wb_parse_duration_ms). wb_time_parse_datetime_us and wb_time_parse_date accept
 * exactly one RFC 3339 production each (date-time, full-date), for values inside data.
 * All parsers refuse dates that do not exist (2026-02-30) and trailing text.
 *
 * Thread: pure functions; any thread. */
#ifndef WB_CORE_TIMEFMT_H
#define WB_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

#define WB_TIME_BUF 32 /* enough for any wb_time_format_* output, whatever the input */

/* Write unix_ms as RFC 3339 UTC with milliseconds into out (>= WB_TIME_BUF bytes; shorter
 * buffers get a truncated, NUL-terminated string). Returns the length written. */
size_t wb_time_format_ms(int64_t unix_ms, char *out, size_t out_size);
/* The same with microseconds: "2026-11-23T17:44:06.123456Z". */
size_t wb_time_format_us(int64_t unix_us, char *out, size_t out_size);
/* Days since 1970-01-01 as an RFC 3339 full-date: "2026-11-23". Same buffer rules. */
size_t wb_time_format_date(int64_t unix_days, char *out, size_t out_size);

/* Parse s (lenient forms above) into unix milliseconds. now_ms anchors relative forms. WB_OK,
 * or WB_ERR_INVALID for anything else (trailing text, month 13, second 61, ...). */
wb_err wb_time_parse_ms(const char *s, int64_t now_ms, int64_t *out_ms);
/* Parse an RFC 3339 date-time ("2026-11-23T17:44:06.123456Z", "...T18:44:06+01:00"; 'T' may
 * be 't' or a space, the fraction is optional and cut after six digits, an offset is required)
 * into unix microseconds. No bare date, no relative form. WB_OK or WB_ERR_INVALID. */
wb_err wb_time_parse_datetime_us(const char *s, int64_t *out_us);
/* Parse an RFC 3339 full-date ("2026-11-23", nothing else) into days since 1970-01-01. */
wb_err wb_time_parse_date(const char *s, int64_t *out_days);

#endif
