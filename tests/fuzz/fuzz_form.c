/* fuzz_form.c - the two checks of inbound values: Slack's form bodies
 * (wb_listener_form_ok) and values that become headers (wb_header_value_problem).
 * Invariants: an accepted form has no control characters, no empty pair, and only
 * well-formed %XX escapes; an accepted header value has no byte < 0x20 and no DEL. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/header_value.h"
#include "inbound/listener.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    if (wb_listener_form_ok(s, size)) {
        if (!size || s[0] == '&' || s[size - 1] == '&' || s[0] == '=') abort();
        for (size_t i = 0; i < size; i++) {
            unsigned char c = data[i];
            if (c < 0x21 || c >= 0x7f) abort();
            if (c == '%' && (i + 2 >= size + 0 || !isxdigit(data[i + 1]) || !isxdigit(data[i + 2])))
                abort();
            if (c == '&' && data[i + 1] == '&') abort();
        }
    }
    const char *why = wb_header_value_problem(s, size, WB_HEADER_ID_MAX);
    if (!why) {
        if (size > WB_HEADER_ID_MAX) abort();
        for (size_t i = 0; i < size; i++)
            if (data[i] < 0x20 || data[i] == 0x7f) abort();
    } else if (size <= WB_HEADER_ID_MAX && !memchr(s, 0, size)) {
        int bad = 0;
        for (size_t i = 0; i < size; i++)
            bad |= data[i] < 0x20 || data[i] == 0x7f;
        if (!bad) abort();
    }
    return 0;
}
