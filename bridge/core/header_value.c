/* header_value.c - see header_value.h. */
#include "core/header_value.h"

#include <stdio.h>

const char *wb_header_value_problem(const char *v, size_t len, size_t max)
{
    /* The message names the bound, and the bounds used are few: keep it static. */
    static _Thread_local char toolong[48];
    if (len > max) {
        snprintf(toolong, sizeof(toolong), "is longer than %zu bytes", max);
        return toolong;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) return "contains a control character";
    }
    return NULL;
}
