/* util.h - small shared helpers: clocks, unit parsing, globs, JSON pointers. */
#ifndef WB_UTIL_H
#define WB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/err.h"

/* Monotonic milliseconds / microseconds (CLOCK_MONOTONIC), and wall-clock ms / s. */
int64_t wb_now_ms(void);
int64_t wb_now_us(void);
int64_t wb_wall_ms(void);

/* "250ms", "30s", "5m", "2h", "1d", "1.5s"; a bare number is seconds. -> ms. */
wb_err wb_parse_duration_ms(const char *s, int64_t *out_ms);
/* "1MiB", "512KiB", "10MB", "4096", "1GiB" -> bytes. */
wb_err wb_parse_size(const char *s, size_t *out);
/* "200/s", "10/m", "3600/h", "50" (per second) -> events per second. */
wb_err wb_parse_rate(const char *s, double *out_per_s);
/* strtol with full checks: the whole string must be an integer in [min,max]. */
wb_err wb_parse_int(const char *s, long min, long max, long *out);

/* Shell-style glob match ('*', '?', '[...]') of an event type against a pattern. */
int wb_glob_match(const char *pattern, const char *s);

/* RFC 6901 JSON pointer lookup ("" = the whole document). Borrowed reference or NULL. */
json_t *wb_json_pointer(json_t *doc, const char *pointer);

/* Grow *arr (of *n elements of elem_size bytes) so that index idx exists: doubling from 64,
 * new elements zeroed. For tables indexed by fd. WB_ERR_NOMEM leaves *arr and *n as they
 * were. */
wb_err wb_grow_indexed(void **arr, size_t *n, size_t idx, size_t elem_size);

/* strdup that returns NULL for NULL. */
char *wb_strdup(const char *s);

/* Lowercase hex / standard base64 encoders; output NUL-terminated; return length written.
 * out must hold 2*n+1 (hex) or 4*((n+2)/3)+1 (base64) bytes. */
size_t wb_hex_encode(const unsigned char *in, size_t n, char *out);
size_t wb_base64_encode(const unsigned char *in, size_t n, char *out);
/* Decode standard base64 (padding optional, no whitespace). Returns bytes written or -1.
 * out must hold 3*(n/4)+3 bytes. */
long wb_base64_decode(const char *in, size_t n, unsigned char *out);
/* Decode hex (either case). Returns bytes written or -1. */
long wb_hex_decode(const char *in, size_t n, unsigned char *out);
/* Constant-time equality of two byte strings (length difference is not secret). */
int wb_ct_equal(const void *a, const void *b, size_t n);

#endif
