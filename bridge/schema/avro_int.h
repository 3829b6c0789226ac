/* avro_int.h - limits and helpers shared inside schema/ (avro*.c, compat.c, schemas.c); not
 * for other modules. The helpers live in avro.c.
 *
 * Thread: pure functions; any thread. */
#ifndef WB_AVRO_INT_H
#define WB_AVRO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"
#include "schema/avro.h"

#define WB_AVRO_MAX_FIELDS       256       /* fields per record */
#define WB_AVRO_MAX_DEPTH        32        /* nesting of schemas and of decoded values */
#define WB_AVRO_MAX_SCHEMA_BYTES (1 << 20) /* one schema text (.avsc file, registry answer) */

/* Is v, a value of logical type lt (ms, us or days since the epoch), within years
 * 0001-9999, the range RFC 3339 text covers? Always 1 for other types. */
int wb_avro_time_in_range(int64_t v, wb_avro_logical lt);

/* The bytes of a bytes/fixed field default: the Avro specification writes them as a JSON
 * string of code points 0-255. Returns a malloc'd copy (caller frees) and its length, or NULL
 * when def is not a string, holds a code point above 255, or memory ran out. */
unsigned char *wb_avro_default_bytes(const json_t *def, size_t *n);

/* The whole file at path (at most WB_AVRO_MAX_SCHEMA_BYTES), NUL-terminated, *len bytes;
 * caller frees. NULL with errstr "<path>: <strerror>", "<path>: too large" or "out of
 * memory". */
char *wb_avro_read_file(const char *path, size_t *len, char *errstr, size_t errstr_size);

/* After a failed encode or decode: out back to mark (its length on entry), and for a failure
 * of out itself (not WB_ERR_SCHEMA) the reason "<what>: <error>" unless one is set. */
void wb_avro_unwind(wb_buf *out, size_t mark, wb_err err, const char *what, char *reason,
                    size_t reason_size);

#endif
