/* buf.h - growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * A wb_buf owns its memory; wb_buf_free() releases it. Appends fail with WB_ERR_TOO_LARGE
 * past max (the buffer is left unchanged) and WB_ERR_NOMEM when allocation fails.
 * The content is always NUL-terminated (the NUL is not counted in len). Not thread-safe. */
#ifndef WB_BUF_H
#define WB_BUF_H

#include <stddef.h>
#include "core/err.h"

typedef struct wb_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} wb_buf;

void wb_buf_init(wb_buf *b, size_t max);
void wb_buf_free(wb_buf *b);
void wb_buf_reset(wb_buf *b); /* len = 0, memory kept */
/* Make room for n more bytes at once (saves the doubling steps when the size is known). */
wb_err wb_buf_reserve(wb_buf *b, size_t n);
wb_err wb_buf_add(wb_buf *b, const void *p, size_t n);
wb_err wb_buf_adds(wb_buf *b, const char *s);
wb_err wb_buf_printf(wb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (who frees them with free()); b is left empty. */
char *wb_buf_steal(wb_buf *b, size_t *len);

#endif
