/* fuzz_retry_after.c - the Retry-After value parser of the HTTP client
 * (wb_http_parse_retry_after: delta-seconds or an HTTP-date in its three forms).
 * Invariants: -1 or a delay >= 0; the same input gives the same answer; a value made only of
 * digits (and blanks around them) is a delay of that many seconds when it fits; a date in
 * the past gives 0. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/http.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    int64_t ms = wb_http_parse_retry_after(s, NOW);
    if (ms < -1) abort();
    if (wb_http_parse_retry_after(s, NOW) != ms) abort();
    /* digits only: N seconds */
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t nd = 0;
    while (isdigit((unsigned char)p[nd]))
        nd++;
    const char *q = p + nd;
    while (*q == ' ' || *q == '\t')
        q++;
    if (nd && nd <= 9 && !*q && (size_t)(q - s) == size) {
        int64_t want = strtoll(p, NULL, 10) * 1000;
        if (ms != want) abort();
    }
    /* later "now": a delay can only shrink (dates) or stay (delta-seconds) */
    int64_t later = wb_http_parse_retry_after(s, NOW + 3600);
    if (ms >= 0 && (later < 0 || later > ms)) abort();
    free(s);
    return 0;
}
