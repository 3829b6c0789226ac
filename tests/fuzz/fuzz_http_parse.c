/* fuzz_http_parse.c - the HTTP client's pure parsers (outbound/http.h): the Retry-After
 * parser and the header (name, value) check with the line rendered for libcurl.
 * Input: "<name>\n<value>" (no newline: the whole input is the value, name "x").
 * Invariants: Retry-After is -1 or >= 0, and all digits give exactly secs * 1000 (or the
 * saturated value); an accepted header has a token name and a value without control
 * characters (HTAB aside), and its rendered line holds no CR, LF or NUL before its end. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/http.h"
#include "http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char *nl = strchr(s, '\n');
    const char *name = "x", *value = s;
    if (nl) {
        *nl = '\0';
        name = s;
        value = nl + 1;
    }

    int64_t ra = wb_http_parse_retry_after(value, 1700000000);
    if (ra < -1) abort();
    size_t vl = strlen(value), k = 0;
    while (k < vl && isdigit((unsigned char)value[k]))
        k++;
    if (vl > 0 && k == vl && vl < 15) { /* plain delta-seconds, no saturation */
        if (ra != strtoll(value, NULL, 10) * 1000) abort();
    }

    size_t nlen = 0, vlen = 0;
    int ok = wb_http_header_check(name, value, &nlen, &vlen);
    if (ok != wb_http_header_ok(name, value)) abort();
    if (ok) {
        if (nlen != strlen(name) || vlen != strlen(value) || nlen == 0) abort();
        for (size_t i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char)value[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) abort();
        }
        for (size_t i = 0; i < nlen; i++)
            if (!isalnum((unsigned char)name[i]) && !strchr("!#$%&'*+-.^_`|~", name[i])) abort();
        char *line = malloc(nlen + vlen + 3);
        if (!line) abort();
        size_t n = wb_http_header_render(line, name, nlen, value, vlen);
        if (n == 0 || n > nlen + vlen + 3 || line[n - 1] != '\0') abort();
        for (size_t i = 0; i + 1 < n; i++)
            if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0') abort();
        free(line);
    }
    free(s);
    return 0;
}
