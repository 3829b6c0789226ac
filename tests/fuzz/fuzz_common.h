/* fuzz_common.h - helpers shared by the fuzz targets. */
#ifndef WB_FUZZ_COMMON_H
#define WB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* NUL-terminated copy of the input (the parsers take C strings). Caller frees. */
static char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    return s;
}

#endif
