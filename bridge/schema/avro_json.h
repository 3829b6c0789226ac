/* avro_json.h - JSON text for Avro values (internal to schema/: avro_plan.c renders reader
 * defaults and keys with it, avro_decode.c the decoded data). The mapping is avro.h's.
 *
 * Every function appends to out; WB_ERR_TOO_LARGE / WB_ERR_NOMEM come from out, a problem
 * with the value itself is WB_ERR_SCHEMA with *bad (or *range) set, so the caller can word
 * the reason. On error out may hold a partial value: callers restore its length.
 *
 * Thread: pure functions over immutable schemas; any thread. */
#ifndef WB_AVRO_JSON_H
#define WB_AVRO_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"
#include "schema/avro.h"

/* s[0..n) as a quoted JSON string; *bad_utf8 = 1 (and WB_ERR_SCHEMA) when it is not valid
 * UTF-8 (RFC 3629: no overlong forms, no surrogates). */
wb_err wb_avro_json_string(wb_buf *out, const unsigned char *s, size_t n, int *bad_utf8);

/* An int/long read from the writer as the reader type r wants it: a number, a double for a
 * float/double reader, RFC 3339 text for timestamp-millis/-micros and date. *range = 1 (and
 * WB_ERR_SCHEMA) for a timestamp or date outside years 0001-9999. */
wb_err wb_avro_json_integer(wb_buf *out, const wb_avro_type *r, int64_t v, int *range);

/* A float (%.9g when is_float) or double (%.17g); NaN and infinities as null. */
wb_err wb_avro_json_double(wb_buf *out, double d, int is_float);

/* A bytes/fixed/string payload as reader r wants it: a string, a decimal's digits ("-12.50")
 * or base64. *bad = 1: not UTF-8 (string reader); 2: a decimal too long to render. */
wb_err wb_avro_json_blob(wb_buf *out, const wb_avro_type *r, const unsigned char *p, size_t n,
                         int *bad);

/* A reader field default (JSON as the schema writes it) as the JSON a decoded value of type
 * r would be. 0, or -1 when def does not fit r or out could not grow. */
int wb_avro_json_default(const wb_avro_type *r, json_t *def, wb_buf *out);

#endif
