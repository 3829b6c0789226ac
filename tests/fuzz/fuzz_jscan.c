/* fuzz_jscan.c - differential: the one-pass scanner (jscan.c) against jansson.
 *
 * Any text jansson accepts must be accepted by the scanner, with the same values at the
 * pointers; any text the scanner accepts must be accepted by jansson, except for numbers
 * jansson cannot represent (it refuses them; the bridge forwards them as text). Depth beyond
 * WB_JSCAN_MAX_DEPTH, and a raw NUL byte (where jansson stops reading), are refused by the
 * scanner alone. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jscan.h"
#include "core/util.h"

static int deep(const uint8_t *d, size_t n)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (d[i] == '\\')
                i++;
            else if (d[i] == '"')
                in_str = 0;
        } else if (d[i] == '"') {
            in_str = 1;
        } else if (d[i] == '[' || d[i] == '{') {
            if (++depth > max) max = depth;
        } else if (d[i] == ']' || d[i] == '}') {
            depth--;
        }
    }
    return max > WB_JSCAN_MAX_DEPTH - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ptrs[] = {"/id", "/type", "/a/0", "/data/object/id", "/~1x", ""};
    wb_jscan_target t[6];
    for (int i = 0; i < 6; i++)
        t[i].pointer = ptrs[i];
    char err[128];
    int line;
    int ours = wb_jscan((const char *)data, size, t, 6, err, sizeof(err), &line) == 0;
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    /* jansson stops reading at a NUL byte; the scanner (rightly) calls what follows
     * trailing garbage: a NUL outside a string is never valid JSON. */
    if (doc && !ours && !deep(data, size) && !memchr(data, 0, size)) {
        fprintf(stderr, "jansson accepts, scanner refuses: %s\n", err);
        abort();
    }
    if (!doc && ours && !strstr(je.text, "too big") && !strstr(je.text, "overflow")) {
        fprintf(stderr, "scanner accepts, jansson refuses: %s\n", je.text);
        abort();
    }
    if (doc && ours) {
        for (int i = 0; i < 5; i++) {
            json_t *v = wb_json_pointer(doc, ptrs[i]);
            if (json_is_string(v)) {
                if (t[i].kind != WB_JSCAN_STRING) abort();
                size_t n = json_string_length(v);
                /* same bytes up to the scanner's (truncating) buffer */
                if (n < sizeof(t[i].value) - 4 &&
                    (strlen(t[i].value) != n || memcmp(t[i].value, json_string_value(v), n))) {
                    /* an embedded \u0000 ends the C string early: compare up to it */
                    if (memchr(json_string_value(v), 0, n) == NULL) abort();
                }
            } else if (json_is_integer(v)) {
                if (t[i].kind != WB_JSCAN_INTEGER) abort();
            } else if (v && t[i].kind == WB_JSCAN_NONE) {
                abort();
            } else if (!v && t[i].kind != WB_JSCAN_NONE) {
                abort();
            }
        }
    }
    json_decref(doc);
    return 0;
}
