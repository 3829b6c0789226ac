/* jscan.h - validate a JSON text and pick a few values by JSON pointer, without building a
 * document.
 *
 * The outbound hot path only needs to know that a record's value is JSON (else it is
 * poison) and to read the event id and type at configured pointers. Building a jansson
 * document for that costs allocations per member; this scanner walks the bytes once.
 *
 * Accepts exactly RFC 8259 JSON texts (any value at the top, whitespace around; UTF-8 that
 * is well formed; no control characters in strings; surrogate escapes in pairs; \u0000
 * allowed), with nesting up to WB_JSCAN_MAX_DEPTH. Numbers of any size are accepted (they
 * are forwarded as text, never converted). When a member name repeats, the last one wins
 * (as in jansson).
 *
 * Thread: pure functions; no allocation. */
#ifndef WB_JSCAN_H
#define WB_JSCAN_H

#include <stddef.h>

#define WB_JSCAN_MAX_DEPTH  512
#define WB_JSCAN_MAX_TOKENS 16

typedef enum wb_jscan_kind {
    WB_JSCAN_NONE = 0, /* the pointer matched nothing */
    WB_JSCAN_STRING,
    WB_JSCAN_INTEGER,
    WB_JSCAN_OTHER /* number with fraction/exponent, object, array, true/false/null */
} wb_jscan_kind;

/* A value to find. Fill `pointer` (RFC 6901, e.g. "/data/id"); the scan fills the rest.
 * For a string, value holds it unescaped (UTF-8, NUL-terminated, truncated to fit); for an
 * integer, its text. */
typedef struct wb_jscan_target {
    const char *pointer;
    wb_jscan_kind kind;
    char value[160];
} wb_jscan_target;

/* Scan text[0..len). Returns 0 when it is one valid JSON text, else -1 with a short reason
 * and the 1-based line in err / *line. targets may be NULL when ntargets is 0; a pointer
 * that is not well formed or has more than WB_JSCAN_MAX_TOKENS tokens matches nothing. */
int wb_jscan(const char *text, size_t len, wb_jscan_target *targets, size_t ntargets, char *err,
             size_t err_size, int *line);

#endif
