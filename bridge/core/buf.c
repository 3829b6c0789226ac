/* buf.c - growable byte buffer with a hard maximum. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wb_buf_init(wb_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : (size_t)-1 / 2;
}

void wb_buf_free(wb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void wb_buf_reset(wb_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

static wb_err ensure(wb_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) return WB_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return WB_OK;
    size_t ncap = b->cap ? b->cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    char *p = realloc(b->data, ncap);
    if (!p) return WB_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return WB_OK;
}

wb_err wb_buf_reserve(wb_buf *b, size_t n)
{
    return ensure(b, n);
}

wb_err wb_buf_add(wb_buf *b, const void *p, size_t n)
{
    wb_err err = ensure(b, n);
    if (err) return err;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return WB_OK;
}

wb_err wb_buf_adds(wb_buf *b, const char *s)
{
    return wb_buf_add(b, s, strlen(s));
}

wb_err wb_buf_printf(wb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return WB_ERR_INVALID;
    wb_err err = ensure(b, (size_t)n);
    if (err) return err;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return WB_OK;
}

char *wb_buf_steal(wb_buf *b, size_t *len)
{
    char *p = b->data;
    if (len) *len = b->len;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
