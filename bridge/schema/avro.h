/* avro.h - Avro schema model, writer->reader resolution plans, Avro binary -> JSON and
 * JSON -> Avro binary.
 *
 * Schemas are checked with avro-c (avro_schema_from_json_length) and then read into a small
 * model of our own (wb_avro_type) that keeps what avro-c 1.11 drops: field defaults, aliases,
 * enum defaults and logical types. avro-c 1.11's resolver cannot apply reader defaults and maps
 * enums by index, so resolution follows the Avro specification ("Schema Resolution") in a plan
 * compiled once per (writer, reader) pair; decoding a value then walks the bytes once with the
 * plan and appends JSON, with no allocation besides the output buffer.
 *
 * JSON mapping (documented in schemas/README.md): nullable unions as the value or null, other
 * unions as {"<branch>": value}, enums as strings, timestamp-millis/micros as RFC 3339 UTC,
 * date as "YYYY-MM-DD", decimal as a string ("12.50"), bytes/fixed as base64, maps as
 * objects, arrays as arrays, records as objects in schema field order.
 *
 * Thread: schemas and plans are immutable after construction and may be shared read-only. */
#ifndef WB_AVRO_H
#define WB_AVRO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/buf.h"
#include "core/err.h"

typedef enum wb_avro_kind {
    WB_AVRO_NULL = 0,
    WB_AVRO_BOOLEAN,
    WB_AVRO_INT,
    WB_AVRO_LONG,
    WB_AVRO_FLOAT,
    WB_AVRO_DOUBLE,
    WB_AVRO_BYTES,
    WB_AVRO_STRING,
    WB_AVRO_RECORD,
    WB_AVRO_ENUM,
    WB_AVRO_ARRAY,
    WB_AVRO_MAP,
    WB_AVRO_UNION,
    WB_AVRO_FIXED,
} wb_avro_kind;

typedef enum wb_avro_logical {
    WB_AVRO_LT_NONE = 0,
    WB_AVRO_LT_DECIMAL,   /* bytes / fixed: precision, scale */
    WB_AVRO_LT_TS_MILLIS, /* long */
    WB_AVRO_LT_TS_MICROS, /* long */
    WB_AVRO_LT_DATE,      /* int */
} wb_avro_logical;

typedef struct wb_avro_type wb_avro_type;

typedef struct wb_avro_field {
    char *name;
    char **aliases;
    size_t naliases;
    wb_avro_type *type;
    json_t *def; /* default value (owned reference) or NULL when the field has none */
} wb_avro_field;

struct wb_avro_type {
    wb_avro_kind kind;
    wb_avro_logical logical;
    int precision, scale;   /* decimal */
    char *name;             /* full name of a named type (record, enum, fixed) */
    const char *short_name; /* points into name: part after the last '.' */
    char **aliases;         /* named types: aliases (as written) */
    size_t naliases;
    wb_avro_field *fields; /* record */
    size_t nfields;
    char **symbols; /* enum */
    size_t nsymbols;
    int enum_default;        /* enum: index of the default symbol or -1 */
    wb_avro_type **branches; /* union */
    size_t nbranches;
    wb_avro_type *items; /* array items / map values */
    size_t size;         /* fixed */
};

typedef struct wb_avro_schema wb_avro_schema;

/* Parse and validate a schema (JSON text). Returns NULL and fills errstr (avro-c's message for
 * schemas avro-c rejects, ours for unsupported constructs). Free with wb_avro_schema_free(). */
wb_avro_schema *wb_avro_schema_parse(const char *json, size_t len, char *errstr,
                                     size_t errstr_size);
void wb_avro_schema_free(wb_avro_schema *sc);
/* The top-level type (borrowed, lives as long as sc). */
const wb_avro_type *wb_avro_schema_root(const wb_avro_schema *sc);

/* Short human description of a type: "int", "bytes(decimal)", "long(timestamp-millis)",
 * "record OrderPaid", "enum PaymentMethod", "union[null,string]", "array<string>". */
void wb_avro_type_describe(const wb_avro_type *t, char *out, size_t out_size);
/* Name a union branch the way the JSON mapping and inbound bodies do: primitive name or the
 * named type's full name. Borrowed static or schema string. */
const char *wb_avro_branch_name(const wb_avro_type *t);
/* 1 when t is a union of two branches one of which is null: the JSON mapping writes its
 * values plainly (the value or null) instead of {"<branch>": value}. */
int wb_avro_is_nullable(const wb_avro_type *t);
/* Resolution helpers shared with compat.c (Avro spec "Schema Resolution"). */
int wb_avro_promotable(wb_avro_kind writer, wb_avro_kind reader); /* same kind counts */
/* Named types: reader's unqualified name, or one of the reader's aliases, equals the writer's. */
int wb_avro_names_match(const wb_avro_type *writer, const wb_avro_type *reader);
/* Index of the reader field that reads writer field name wname (by name, then reader aliases),
 * or -1. */
int wb_avro_field_lookup(const wb_avro_type *reader_record, const char *wname);
/* Reader union branch a (non-union) writer type resolves to: first exact kind/name match,
 * then first promotable one; -1 when none. */
int wb_avro_union_pick(const wb_avro_type *reader_union, const wb_avro_type *writer);

typedef struct wb_avro_plan wb_avro_plan;

/* Compile the resolution of writer data to the reader schema (reader NULL: no resolution,
 * the writer schema is the reader). Problems that every record would hit (a reader field
 * without default missing from the writer, incompatible types) make this fail with NULL and a
 * reason in errstr; problems that only some data hits (an enum symbol or union branch the
 * reader lacks) are reported by wb_avro_plan_to_json when a value hits them.
 * Both schemas must outlive the plan. Free with wb_avro_plan_free(). */
wb_avro_plan *wb_avro_plan_new(const wb_avro_schema *writer, const wb_avro_schema *reader,
                               char *errstr, size_t errstr_size);
void wb_avro_plan_free(wb_avro_plan *plan);

/* Decode one Avro binary datum (no framing) with the plan and append its JSON to out.
 * Trailing bytes, truncated data, invalid UTF-8, out-of-range indexes and lengths are
 * WB_ERR_SCHEMA with a reason; WB_ERR_TOO_LARGE / WB_ERR_NOMEM from out pass through.
 * On error out is restored to its length on entry. Allocation-free except out. */
wb_err wb_avro_plan_to_json(const wb_avro_plan *plan, const void *data, size_t len, wb_buf *out,
                            char *reason, size_t reason_size);

/* Validate a JSON document against the schema and append its Avro binary encoding to out
 * (inverse of the JSON mapping; missing fields take their defaults; unknown fields are
 * rejected). WB_ERR_SCHEMA with a reason naming the field ("field 'lines[0].sku': expected
 * string, got number") on mismatch; out is restored on error. */
wb_err wb_avro_from_json(const wb_avro_schema *sc, json_t *doc, wb_buf *out, char *reason,
                         size_t reason_size);

#endif
