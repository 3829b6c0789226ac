/* fuzz_timefmt.c - the RFC 3339 parsers and formatters of core/timefmt.
 *
 * Input: the bytes as a string for the three parsers, and (when there are 8 bytes) the first
 * eight as a signed 64-bit value for the three formatters.
 * Invariants: a strict date-time is also a lenient one, at the same instant (ms = floor of
 * us / 1000); a strict date is the lenient parser's midnight; whatever a parser accepts
 * inside 0001-9999, the formatter writes back and the parser reads again as the same value;
 * any 64-bit value formats within WB_TIME_BUF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "core/timefmt.h"

#define MIN_US (-62135596800LL * 1000000)          /* 0001-01-01T00:00:00Z */
#define MAX_US (253402300799LL * 1000000 + 999999) /* 9999-12-31T23:59:59.999999Z */

static int64_t floor_div(int64_t v, int64_t d)
{
    return v >= 0 ? v / d : -((-v + d - 1) / d);
}

static void formats(int64_t v)
{
    char b[WB_TIME_BUF];
    int64_t back;
    if (wb_time_format_ms(v, b, sizeof(b)) >= sizeof(b) - 1) abort();
    if (wb_time_format_us(v, b, sizeof(b)) >= sizeof(b) - 1) abort();
    if (v >= MIN_US && v <= MAX_US && (wb_time_parse_datetime_us(b, &back) != WB_OK || back != v))
        abort();
    if (wb_time_format_date(v, b, sizeof(b)) >= sizeof(b) - 1) abort();
    if (v >= -719162 && v <= 2932896 && (wb_time_parse_date(b, &back) != WB_OK || back != v))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    int64_t us, ms, days;
    wb_err lenient = wb_time_parse_ms(s, 1700000000000LL, &ms);
    if (wb_time_parse_datetime_us(s, &us) == WB_OK) {
        if (lenient != WB_OK || ms != floor_div(us, 1000)) abort();
        if (us >= MIN_US && us <= MAX_US) formats(us);
    }
    if (wb_time_parse_date(s, &days) == WB_OK) {
        if (lenient != WB_OK || ms != days * 86400000) abort();
        formats(days);
    }
    if (size >= 8) {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u = u << 8 | data[i];
        formats((int64_t)u);
    }
    free(s);
    return 0;
}
