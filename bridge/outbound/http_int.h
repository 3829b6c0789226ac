/* outbound/http_int.h - internals shared by the HTTP client's files (http.c drives libcurl,
 * http_parse.c holds the pure helpers). Not for use outside bridge/outbound/http*.c. */
#ifndef WB_OUTBOUND_HTTP_INT_H
#define WB_OUTBOUND_HTTP_INT_H

#include <stddef.h>

#define WB_HTTP_MAX_HEADER_LEN 8192 /* longest header name or value accepted */

/* wb_http_header_ok() that also returns both lengths (one pass over each string). */
int wb_http_header_check(const char *name, const char *value, size_t *name_len, size_t *value_len);

/* Render one checked header as the line libcurl expects ("Name: value", or "Name;" for a
 * blank value) plus a NUL into out, which holds at least nl + vl + 3 bytes. Returns the bytes
 * written including the NUL. */
size_t wb_http_header_render(char *out, const char *name, size_t nl, const char *value, size_t vl);

#endif
