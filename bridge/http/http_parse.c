/* outbound/http_parse.c - the pure parts of the HTTP client (see outbound/http.h): header
 * validation, outcome classification, Retry-After parsing.
 *
 * Kept apart from http.c (the libcurl driver) because none of this touches a handle: each
 * function is a pure function of its arguments, callable from any thread and from the fuzz
 * targets. */
#include "http/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"

/* ------------------------------------------------------------------------------------------
 * Header validation */

/* RFC 9110 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
 * "`" / "|" / "~" / DIGIT / ALPHA. A table: this runs for every header of every request. */
static const unsigned char TCHAR[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int wb_http_header_check(const char *name, const char *value, size_t *name_len, size_t *value_len)
{
    if (!name || !value) return 0;
    const unsigned char *p = (const unsigned char *)name;
    while (TCHAR[*p]) /* TCHAR[0] is 0: stops at the end too */
        p++;
    size_t n = (size_t)(p - (const unsigned char *)name);
    if (*p || n == 0 || n > WB_HTTP_MAX_HEADER_LEN) return 0;
    /* field-value: VCHAR, SP, HTAB and obs-text (>= 0x80). NUL ends it; any other control
     * character (CR and LF above all, which could end the line and start a header of the
     * record's choosing) or DEL stops the scan short of the end: refused */
    p = (const unsigned char *)value;
    while (*p >= 0x20 ? *p != 0x7f : *p == '\t')
        p++;
    size_t v = (size_t)(p - (const unsigned char *)value);
    if (*p || v > WB_HTTP_MAX_HEADER_LEN) return 0;
    if (name_len) *name_len = n;
    if (value_len) *value_len = v;
    return 1;
}

int wb_http_header_ok(const char *name, const char *value)
{
    return wb_http_header_check(name, value, NULL, NULL);
}

size_t wb_http_header_render(char *out, const char *name, size_t nl, const char *value, size_t vl)
{
    size_t i = 0;
    memcpy(out, name, nl);
    i = nl;
    /* libcurl reads "Name:" with nothing after the colon as "do not send Name" and
     * "Name;" as "send Name with an empty value": a blank value must take the second form */
    size_t k = 0;
    while (k < vl && (value[k] == ' ' || value[k] == '\t'))
        k++;
    if (k == vl) {
        out[i++] = ';';
    } else {
        out[i++] = ':';
        out[i++] = ' ';
        memcpy(out + i, value, vl);
        i += vl;
    }
    out[i++] = '\0';
    return i;
}

/* ------------------------------------------------------------------------------------------
 * Classification */

wb_http_class wb_http_classify(int status, int curl_code)
{
    if (curl_code != CURLE_OK) {
        switch (curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
            return WB_HTTP_PERMANENT;
        default:
            return WB_HTTP_RETRY;
        }
    }
    if (status >= 200 && status <= 299) return WB_HTTP_DONE;
    if (status == 410) return WB_HTTP_GONE;
    /* 408 (the partner timed out reading us) and 425 (too early) are worth another try */
    if (status >= 400 && status <= 499 && status != 429 && status != 408 && status != 425)
        return WB_HTTP_PERMANENT;
    /* 408, 425, 429, 5xx, 3xx (redirects are not followed), 1xx/0 (no usable response) */
    return WB_HTTP_RETRY;
}

const char *wb_http_class_str(wb_http_class cls)
{
    switch (cls) {
    case WB_HTTP_DONE:
        return "done";
    case WB_HTTP_RETRY:
        return "retry";
    case WB_HTTP_PERMANENT:
        return "permanent";
    case WB_HTTP_GONE:
        return "gone";
    }
    return "?";
}

/* ------------------------------------------------------------------------------------------
 * Retry-After */

int64_t wb_http_parse_retry_after(const char *value, int64_t now_unix_s)
{
    char tmp[64];
    size_t len;
    const char *p;

    if (!value) return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    len = strlen(value);
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
                   value[len - 1] == '\n'))
        len--;
    if (!len || len >= sizeof(tmp)) return -1;
    memcpy(tmp, value, len);
    tmp[len] = '\0';

    for (p = tmp; *p && isdigit((unsigned char)*p); p++)
        ;
    if (!*p) { /* delta-seconds */
        int64_t secs = 0;
        for (p = tmp; *p; p++) {
            if (secs > INT64_MAX / 10000) /* saturate: far beyond any sane cap */
                return INT64_MAX / 1000 * 1000;
            secs = secs * 10 + (*p - '0');
        }
        return secs * 1000;
    }
    /* An HTTP-date starts with a day name (IMF-fixdate, RFC 850, asctime); this also keeps
     * curl_getdate's leniency ("-5", "1.5") from accepting non-dates. */
    if (!isalpha((unsigned char)tmp[0])) return -1;
    time_t t = curl_getdate(tmp, NULL);
    if (t == (time_t)-1) return -1;
    if ((int64_t)t <= now_unix_s) return 0;
    int64_t secs = (int64_t)t - now_unix_s;
    if (secs > INT64_MAX / 1000) /* a date in year 900000000: saturate, like delta-seconds */
        return INT64_MAX / 1000 * 1000;
    return secs * 1000;
}
