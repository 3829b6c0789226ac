/* util.c - clocks, unit parsing, globs, JSON pointers, encoders. */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t wb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t wb_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse a non-negative decimal number prefix; *end set past it. */
static int parse_number(const char *s, double *out, const char **end)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s) && *s != '.') return -1;
    errno = 0;
    double v = strtod(s, &e);
    if (errno || e == s || !isfinite(v) || v < 0) return -1;
    while (isspace((unsigned char)*e))
        e++;
    *out = v;
    *end = e;
    return 0;
}

wb_err wb_parse_duration_ms(const char *s, int64_t *out_ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1},      {"s", 1000},    {"sec", 1000},   {"m", 60000},
                 {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {"", 1000}};
    double v;
    const char *u;
    if (!s || parse_number(s, &v, &u)) return WB_ERR_INVALID;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!strcmp(u, units[i].unit)) {
            double ms = v * units[i].ms;
            if (ms > 9.0e15) return WB_ERR_INVALID;
            *out_ms = (int64_t)llround(ms);
            return WB_OK;
        }
    }
    return WB_ERR_INVALID;
}

wb_err wb_parse_size(const char *s, size_t *out)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KiB", 1024.0},
                 {"MiB", 1048576.0},
                 {"GiB", 1073741824.0},
                 {"KB", 1e3},
                 {"MB", 1e6},
                 {"GB", 1e9},
                 {"k", 1024.0},
                 {"K", 1024.0},
                 {"M", 1048576.0},
                 {"G", 1073741824.0}};
    double v;
    const char *u;
    if (!s || parse_number(s, &v, &u)) return WB_ERR_INVALID;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!strcmp(u, units[i].unit)) {
            double b = v * units[i].mult;
            if (b > 1.0e15) return WB_ERR_INVALID;
            *out = (size_t)llround(b);
            return WB_OK;
        }
    }
    return WB_ERR_INVALID;
}

wb_err wb_parse_rate(const char *s, double *out_per_s)
{
    double v;
    const char *u;
    if (!s || parse_number(s, &v, &u)) return WB_ERR_INVALID;
    double per = 1;
    if (*u == 0 || !strcmp(u, "/s"))
        per = 1;
    else if (!strcmp(u, "/m") || !strcmp(u, "/min"))
        per = 60;
    else if (!strcmp(u, "/h"))
        per = 3600;
    else
        return WB_ERR_INVALID;
    if (v <= 0) return WB_ERR_INVALID;
    *out_per_s = v / per;
    return WB_OK;
}

wb_err wb_parse_int(const char *s, long min, long max, long *out)
{
    char *e;
    if (!s || !*s) return WB_ERR_INVALID;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (errno || *e || v < min || v > max) return WB_ERR_INVALID;
    *out = v;
    return WB_OK;
}

int wb_glob_match(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

json_t *wb_json_pointer(json_t *doc, const char *pointer)
{
    if (!doc || !pointer) return NULL;
    if (!*pointer) return doc;
    if (*pointer != '/') return NULL;
    json_t *cur = doc;
    const char *p = pointer + 1;
    char tok[256];
    for (;;) {
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~') {
                if (*p == '0')
                    c = '~';
                else if (*p == '1')
                    c = '/';
                else
                    return NULL;
                p++;
            }
            if (n + 1 >= sizeof(tok)) return NULL;
            tok[n++] = c;
        }
        tok[n] = 0;
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            long idx;
            if (n == 0 || (n > 1 && tok[0] == '0') || wb_parse_int(tok, 0, 1L << 30, &idx))
                return NULL;
            cur = json_array_get(cur, (size_t)idx);
        } else {
            return NULL;
        }
        if (!cur) return NULL;
        if (!*p) return cur;
        p++; /* skip '/' */
    }
}

char *wb_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

size_t wb_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
    return 2 * n;
}

size_t wb_base64_encode(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n); /* NUL-terminates */
}

long wb_base64_decode(const char *in, size_t n, unsigned char *out)
{
    /* OpenSSL decodes whole 4-character groups and tolerates surrounding blanks; we take
     * padding as optional and nothing but the alphabet, so check first, then hand it the
     * full groups and the padded remainder. */
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1 || n > INT_MAX) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!isalnum(c) && c != '+' && c != '/') return -1;
    }
    size_t full = n - n % 4;
    long o = 0;
    if (full > 0) {
        if (EVP_DecodeBlock(out, (const unsigned char *)in, (int)full) < 0) return -1;
        o = (long)(full / 4 * 3);
    }
    size_t rest = n % 4;
    if (rest) {
        unsigned char group[4] = {'=', '=', '=', '='}, bytes[3];
        memcpy(group, in + full, rest);
        if (EVP_DecodeBlock(bytes, group, 4) < 0) return -1;
        memcpy(out + o, bytes, rest - 1);
        o += (long)(rest - 1);
    }
    return o;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long wb_hex_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 2) return -1;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval((unsigned char)in[i]), lo = hexval((unsigned char)in[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

int wb_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

wb_err wb_grow_indexed(void **arr, size_t *n, size_t idx, size_t elem_size)
{
    if (idx < *n) return WB_OK;
    size_t nn = *n ? *n : 64;
    while (nn <= idx)
        nn *= 2;
    unsigned char *p = realloc(*arr, nn * elem_size);
    if (!p) return WB_ERR_NOMEM;
    memset(p + *n * elem_size, 0, (nn - *n) * elem_size);
    *arr = p;
    *n = nn;
    return WB_OK;
}
