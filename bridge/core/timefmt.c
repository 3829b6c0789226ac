/* timefmt.c - RFC 3339 formatting and parsing (see timefmt.h).
 *
 * Civil-date arithmetic uses Howard Hinnant's days_from_civil / civil_from_days algorithms
 * (public domain), so neither timegm() nor the range of time_t matters. */
#include "core/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t wb_time_format_ms(int64_t unix_ms, char *out, size_t out_size)
{
    int64_t days = unix_ms / 86400000, rem = unix_ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    int secs = (int)(rem / 1000);
    int n = snprintf(out, out_size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
                     secs / 3600, secs / 60 % 60, secs % 60, (int)(rem % 1000));
    if (n < 0) return 0;
    return (size_t)n < out_size ? (size_t)n : out_size ? out_size - 1 : 0;
}

/* Exactly n digits at *p into *v; advances *p. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return 0;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 1;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

wb_err wb_time_parse_ms(const char *s, int64_t now_ms, int64_t *out_ms)
{
    if (!s) return WB_ERR_INVALID;
    if (s[0] == '-') { /* "-2h": that long before now */
        int64_t d;
        if (wb_parse_duration_ms(s + 1, &d) != WB_OK) return WB_ERR_INVALID;
        *out_ms = now_ms - d;
        return WB_OK;
    }
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return WB_ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return WB_ERR_INVALID;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ') return WB_ERR_INVALID;
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
            !digits(&p, 2, &sec))
            return WB_ERR_INVALID;
        /* 60 is a leap second: accepted as the next second's start */
        if (h > 23 || mi > 59 || sec > 60) return WB_ERR_INVALID;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p)) return WB_ERR_INVALID;
            int scale = 100;
            while (isdigit((unsigned char)*p)) {
                ms += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
                return WB_ERR_INVALID;
            off = sign * (oh * 60 + om);
        } else {
            return WB_ERR_INVALID; /* RFC 3339 requires an offset */
        }
        if (*p) return WB_ERR_INVALID;
    }
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *out_ms = secs * 1000 + ms;
    return WB_OK;
}
