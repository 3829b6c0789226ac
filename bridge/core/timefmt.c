/* timefmt.c - RFC 3339 formatting and parsing (see timefmt.h).
 *
 * Civil-date arithmetic uses Howard Hinnant's days_from_civil / civil_from_days algorithms
 * (public domain), so neither timegm() nor the range of time_t matters. Formatting writes the
 * digits by hand: the Avro decoder renders timestamps on the delivery hot path, where a
 * snprintf per value showed in the profile. */
#include "core/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define MS_PER_DAY 86400000LL
#define US_PER_S   1000000LL

/* ---------------------------------------------------------------- civil dates */

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

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* v = q * d + r with 0 <= r < d (C's '/' rounds towards zero; times before 1970 need floor). */
static int64_t floor_div(int64_t v, int64_t d, int64_t *r)
{
    int64_t q = v / d, m = v % d;
    if (m < 0) {
        m += d;
        q--;
    }
    if (r) *r = m;
    return q;
}

/* ---------------------------------------------------------------- formatting */

static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* "YYYY-MM-DD", then (unless date_only) "Thh:mm:ss", frac_digits digits of frac and "Z", into
 * out with snprintf's truncation rules. Years outside 0000-9999 take printf's "%04lld" (wider,
 * or signed), as wb_time_format_ms always did. */
static size_t format_utc(int64_t days, int64_t sod, int64_t frac, int frac_digits, int date_only,
                         char *out, size_t out_size)
{
    char tmp[64], *p = tmp;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    if (y >= 0 && y <= 9999) {
        p = put_digits(p, y, 4);
    } else {
        int n = snprintf(tmp, sizeof(tmp), "%04lld", (long long)y);
        p += n > 0 ? n : 0;
    }
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    if (!date_only) {
        *p++ = 'T';
        p = put_digits(p, sod / 3600, 2);
        *p++ = ':';
        p = put_digits(p, sod / 60 % 60, 2);
        *p++ = ':';
        p = put_digits(p, sod % 60, 2);
        *p++ = '.';
        p = put_digits(p, frac, frac_digits);
        *p++ = 'Z';
    }
    size_t n = (size_t)(p - tmp);
    if (!out_size) return 0;
    if (n >= out_size) n = out_size - 1;
    memcpy(out, tmp, n);
    out[n] = 0;
    return n;
}

/* Any thread. */
size_t wb_time_format_ms(int64_t unix_ms, char *out, size_t out_size)
{
    int64_t rem, days = floor_div(unix_ms, MS_PER_DAY, &rem);
    return format_utc(days, rem / 1000, rem % 1000, 3, 0, out, out_size);
}

/* Any thread. */
size_t wb_time_format_us(int64_t unix_us, char *out, size_t out_size)
{
    int64_t frac, secs = floor_div(unix_us, US_PER_S, &frac), sod;
    int64_t days = floor_div(secs, 86400, &sod);
    return format_utc(days, sod, frac, 6, 0, out, out_size);
}

/* Any thread. Days beyond +-2^60 (no calendar reaches them; Avro dates are 32-bit) are
 * clamped there, so the civil-date arithmetic cannot overflow. */
size_t wb_time_format_date(int64_t unix_days, char *out, size_t out_size)
{
    const int64_t lim = INT64_C(1) << 60;
    if (unix_days > lim) unix_days = lim;
    if (unix_days < -lim) unix_days = -lim;
    return format_utc(unix_days, 0, 0, 0, 1, out, out_size);
}

/* ---------------------------------------------------------------- parsing */

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

/* "YYYY-MM-DD" at *p (a real calendar day) -> days since the epoch; advances *p. */
static int parse_full_date(const char **p, int64_t *days)
{
    int y, mo, d;
    if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &mo) || *(*p)++ != '-' ||
        !digits(p, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return 0;
    *days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    return 1;
}

/* "hh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" at *p, the part after the date's 'T' -> seconds from
 * midnight UTC (negative or past a day when the offset crosses midnight) and the fraction in
 * microseconds (digits past the sixth are dropped, not rounded); advances *p. */
static int parse_time_offset(const char **p, int64_t *secs, int64_t *frac_us)
{
    int h, mi, sec, off = 0;
    const char *s = *p;
    if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) || *s++ != ':' ||
        !digits(&s, 2, &sec))
        return 0;
    /* 60 is a leap second: accepted as the next second's start */
    if (h > 23 || mi > 59 || sec > 60) return 0;
    *frac_us = 0;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s)) return 0;
        for (int64_t scale = US_PER_S / 10; isdigit((unsigned char)*s); s++, scale /= 10)
            *frac_us += (*s - '0') * scale;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s++ == '-' ? -1 : 1, oh, om;
        if (!digits(&s, 2, &oh) || *s++ != ':' || !digits(&s, 2, &om) || oh > 23 || om > 59)
            return 0;
        off = sign * (oh * 60 + om);
    } else {
        return 0; /* RFC 3339 requires an offset */
    }
    *secs = h * 3600 + mi * 60 + sec - (int64_t)off * 60;
    *p = s;
    return 1;
}

static int is_time_sep(char c)
{
    return c == 'T' || c == 't' || c == ' ';
}

/* Any thread. Kept lenient for people: relative forms and a bare date (see timefmt.h). */
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
    int64_t days, secs = 0, frac_us = 0;
    if (!parse_full_date(&p, &days)) return WB_ERR_INVALID;
    if (*p) {
        if (!is_time_sep(*p++) || !parse_time_offset(&p, &secs, &frac_us) || *p)
            return WB_ERR_INVALID;
    }
    *out_ms = (days * 86400 + secs) * 1000 + frac_us / 1000;
    return WB_OK;
}

/* Any thread. Strict: what data carries (Avro timestamp fields). */
wb_err wb_time_parse_datetime_us(const char *s, int64_t *out_us)
{
    const char *p = s;
    int64_t days, secs, frac_us;
    if (!s || !parse_full_date(&p, &days) || !is_time_sep(*p++) ||
        !parse_time_offset(&p, &secs, &frac_us) || *p)
        return WB_ERR_INVALID;
    *out_us = (days * 86400 + secs) * US_PER_S + frac_us;
    return WB_OK;
}

/* Any thread. */
wb_err wb_time_parse_date(const char *s, int64_t *out_days)
{
    const char *p = s;
    int64_t days;
    if (!s || !parse_full_date(&p, &days) || *p) return WB_ERR_INVALID;
    *out_days = days;
    return WB_OK;
}
