/* avro_encode.c - JSON -> Avro binary, the inverse of the JSON mapping (see avro.h).
 *
 * Used by inbound connectors that name a schema: a body that does not fit is refused with the
 * field at fault. Defaults follow the Avro specification (a union's default is for its first
 * branch; bytes/fixed defaults are strings of code points 0-255). */
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "core/timefmt.h"
#include "core/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The encoder's state: the output, the path of the value at hand (for reasons), the reason. */
typedef struct enc {
    wb_buf *out;
    char path[256];
    char *reason;
    size_t reason_size;
} enc;

/* Note the first reason, prefixed with the field path, and return WB_ERR_SCHEMA. */
static wb_err efail(enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static wb_err efail(enc *e, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (e->reason && e->reason_size && !e->reason[0]) {
        if (e->path[0])
            snprintf(e->reason, e->reason_size, "field '%s': %s", e->path, msg);
        else
            snprintf(e->reason, e->reason_size, "body: %s", msg);
    }
    return WB_ERR_SCHEMA;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* A zig-zag varint (Avro int and long). */
static wb_err put_long(wb_buf *out, int64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (u & ~0x7fULL) {
        b[n++] = (unsigned char)((u & 0x7f) | 0x80);
        u >>= 7;
    }
    b[n++] = (unsigned char)u;
    return wb_buf_add(out, b, n);
}

static wb_err put_blob(wb_buf *out, const void *p, size_t n)
{
    wb_err err = put_long(out, (int64_t)n);
    return err ? err : wb_buf_add(out, p, n);
}

/* An RFC 3339 date-time (timestamp-millis/-micros) or full-date (date) -> ms, us or days
 * since the epoch, through core/timefmt's strict parsers. -1 when malformed or outside years
 * 0001-9999. */
static int parse_time(const char *s, wb_avro_logical lt, int64_t *out)
{
    int64_t us;
    if (lt == WB_AVRO_LT_DATE) {
        if (wb_time_parse_date(s, out)) return -1;
    } else {
        if (wb_time_parse_datetime_us(s, &us)) return -1;
        /* ms: the fraction's first three digits, so round towards minus infinity */
        *out = lt == WB_AVRO_LT_TS_MICROS ? us : us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    }
    return wb_avro_time_in_range(*out, lt) ? 0 : -1;
}

/* "-12.5" with scale 2 -> unscaled 128-bit integer -1250. */
static int parse_decimal(const char *s, int precision, int scale, __int128 *out, const char **why)
{
    int neg = 0, digits = 0, fdigits = 0, seen_dot = 0;
    __int128 v = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (!*s) return *why = "is not a decimal number", -1;
    for (; *s; s++) {
        if (*s == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (!isdigit((unsigned char)*s)) return *why = "is not a decimal number", -1;
        if (seen_dot && ++fdigits > scale)
            return *why = "has more decimal places than the schema's scale", -1;
        if (digits || *s != '0') digits++;
        if (digits > 38) return *why = "has too many digits", -1;
        v = v * 10 + (*s - '0');
    }
    for (; fdigits < scale; fdigits++) {
        if (v && ++digits > precision) /* checked before it could overflow */
            return *why = "has more digits than the schema's precision", -1;
        v *= 10;
    }
    if (digits > precision) return *why = "has more digits than the schema's precision", -1;
    *out = neg ? -v : v;
    return 0;
}

/* Minimal big-endian two's complement of v, or sign-extended to exactly size bytes. */
static wb_err put_decimal(enc *e, const wb_avro_type *t, __int128 v)
{
    unsigned char b[16];
    for (int i = 15; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8; /* arithmetic shift keeps the sign */
    }
    size_t start = 0;
    while (start < 15 && ((b[start] == 0 && !(b[start + 1] & 0x80)) ||
                          (b[start] == 0xff && (b[start + 1] & 0x80))))
        start++;
    size_t n = 16 - start;
    if (t->kind == WB_AVRO_BYTES) return put_blob(e->out, b + start, n);
    if (n > t->size) return efail(e, "decimal does not fit fixed[%zu]", t->size);
    unsigned char pad = (b[start] & 0x80) ? 0xff : 0x00;
    for (size_t i = n; i < t->size; i++) {
        wb_err err = wb_buf_add(e->out, &pad, 1);
        if (err) return err;
    }
    return wb_buf_add(e->out, b + start, n);
}

/* Bytes of a bytes/fixed value: base64 in bodies, code points 0-255 in defaults. Caller frees. */
static unsigned char *blob_of(json_t *j, int is_default, size_t *n)
{
    if (is_default) return wb_avro_default_bytes(j, n);
    size_t len = json_string_length(j);
    unsigned char *b = malloc(len + 4);
    if (!b) return NULL;
    long r = wb_base64_decode(json_string_value(j), len, b);
    if (r < 0) {
        free(b);
        return NULL;
    }
    *n = (size_t)r;
    return b;
}

static wb_err encode(enc *e, const wb_avro_type *t, json_t *j, int is_default, int depth);

/* A record: every field in schema order, a missing one from its default; a member the
 * schema does not know is refused (a typo must not vanish silently). */
static wb_err encode_record(enc *e, const wb_avro_type *t, json_t *j, int depth)
{
    const char *key;
    json_t *v;
    size_t plen = strlen(e->path);
    wb_err err;
    if (!json_is_object(j))
        return efail(e, "expected object (record %s), got %s", t->short_name, json_kind(j));
    json_object_foreach(j, key, v)
    {
        size_t i;
        for (i = 0; i < t->nfields && strcmp(t->fields[i].name, key); i++)
            ;
        if (i == t->nfields) {
            snprintf(e->path + plen, sizeof(e->path) - plen, "%s%s", plen ? "." : "", key);
            return efail(e, "not in the schema (record %s)", t->short_name);
        }
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_avro_field *f = &t->fields[i];
        snprintf(e->path + plen, sizeof(e->path) - plen, "%s%s", plen ? "." : "", f->name);
        v = json_object_get(j, f->name);
        if (v)
            err = encode(e, f->type, v, 0, depth + 1);
        else if (f->def)
            err = encode(e, f->type, f->def, 1, depth + 1);
        else
            err = efail(e, "required (no default)");
        if (err) return err;
    }
    e->path[plen] = 0;
    return WB_OK;
}

/* A union: null to the null branch, a nullable's value to the other one, else
 * {"<branch>": value} by full or short name. */
static wb_err encode_union(enc *e, const wb_avro_type *t, json_t *j, int is_default, int depth)
{
    wb_err err;
    if (is_default) /* the default belongs to the first branch */
        return (err = put_long(e->out, 0)) ? err : encode(e, t->branches[0], j, 1, depth + 1);
    if (json_is_null(j)) {
        for (size_t i = 0; i < t->nbranches; i++)
            if (t->branches[i]->kind == WB_AVRO_NULL) return put_long(e->out, (int64_t)i);
        return efail(e, "null is not allowed");
    }
    if (wb_avro_is_nullable(t)) {
        size_t i = t->branches[0]->kind == WB_AVRO_NULL ? 1 : 0;
        return (err = put_long(e->out, (int64_t)i)) ? err
                                                    : encode(e, t->branches[i], j, 0, depth + 1);
    }
    if (json_is_object(j) && json_object_size(j) == 1) {
        const char *key = json_object_iter_key(json_object_iter(j));
        for (size_t i = 0; i < t->nbranches; i++) {
            const wb_avro_type *b = t->branches[i];
            if (!strcmp(wb_avro_branch_name(b), key) || (b->name && !strcmp(b->short_name, key)))
                return (err = put_long(e->out, (int64_t)i))
                           ? err
                           : encode(e, b, json_object_iter_value(json_object_iter(j)), 0,
                                    depth + 1);
        }
    }
    char d[160];
    wb_avro_type_describe(t, d, sizeof(d));
    return efail(e, "expected {\"<branch>\": value} for %s", d);
}

/* int / long, also as RFC 3339 text for timestamp and date fields (not in defaults: the
 * specification writes those as numbers). */
static wb_err encode_integer(enc *e, const wb_avro_type *t, json_t *j, int is_default)
{
    int64_t v;
    wb_avro_logical lt = t->logical;
    const char *what = lt == WB_AVRO_LT_DATE ? "date" : "timestamp";
    if (json_is_integer(j)) {
        v = json_integer_value(j);
    } else if (json_is_string(j) && !is_default &&
               (lt == WB_AVRO_LT_TS_MILLIS || lt == WB_AVRO_LT_TS_MICROS ||
                lt == WB_AVRO_LT_DATE)) {
        if (parse_time(json_string_value(j), lt, &v))
            return efail(e, "expected an RFC 3339 %s", what);
    } else {
        return efail(e, "expected %s, got %s", lt ? "timestamp / integer" : "integer",
                     json_kind(j));
    }
    /* the decoder could not render it: refuse it here rather than park it there */
    if (lt && !wb_avro_time_in_range(v, lt))
        return efail(e, "%s out of range (years 0001-9999)", what);
    if (t->kind == WB_AVRO_INT && (v < INT32_MIN || v > INT32_MAX))
        return efail(e, "integer out of int range");
    return put_long(e->out, v);
}

/* float / double, little-endian IEEE 754. */
static wb_err encode_real(enc *e, const wb_avro_type *t, json_t *j)
{
    if (!json_is_number(j)) return efail(e, "expected number, got %s", json_kind(j));
    unsigned char b[8];
    double d = json_number_value(j);
    if (t->kind == WB_AVRO_FLOAT) {
        float f = (float)d;
        uint32_t u;
        memcpy(&u, &f, 4);
        for (int i = 0; i < 4; i++)
            b[i] = (unsigned char)(u >> (8 * i));
        return wb_buf_add(e->out, b, 4);
    }
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (8 * i));
    return wb_buf_add(e->out, b, 8);
}

/* A decimal from a string ("12.50") or an integer, as its unscaled two's complement. */
static wb_err encode_decimal(enc *e, const wb_avro_type *t, json_t *j)
{
    __int128 v;
    const char *why = NULL;
    char tmp[64];
    const char *s = json_string_value(j);
    if (json_is_integer(j)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        s = tmp;
    }
    if (!s) return efail(e, "expected a decimal string, got %s", json_kind(j));
    if (parse_decimal(s, t->precision, t->scale, &v, &why))
        return efail(e, "'%.40s' %s (decimal(%d,%d))", s, why, t->precision, t->scale);
    return put_decimal(e, t, v);
}

/* bytes / fixed: a decimal, or base64 text (code points in defaults). */
static wb_err encode_blob(enc *e, const wb_avro_type *t, json_t *j, int is_default)
{
    wb_err err;
    if (t->logical == WB_AVRO_LT_DECIMAL && !is_default) return encode_decimal(e, t, j);
    if (!json_is_string(j))
        return efail(e, "expected %s string, got %s", is_default ? "bytes" : "base64",
                     json_kind(j));
    size_t n;
    unsigned char *b = blob_of(j, is_default, &n);
    if (!b) return efail(e, "%s", is_default ? "bad bytes default" : "invalid base64");
    if (t->kind == WB_AVRO_FIXED && n != t->size)
        err = efail(e, "expected %zu bytes, got %zu", t->size, n);
    else
        err = t->kind == WB_AVRO_FIXED ? wb_buf_add(e->out, b, n) : put_blob(e->out, b, n);
    free(b);
    return err;
}

static wb_err encode_enum(enc *e, const wb_avro_type *t, json_t *j)
{
    const char *s = json_string_value(j);
    if (!s) return efail(e, "expected a symbol of enum %s, got %s", t->short_name, json_kind(j));
    for (size_t i = 0; i < t->nsymbols; i++)
        if (!strcmp(t->symbols[i], s)) return put_long(e->out, (int64_t)i);
    return efail(e, "'%.60s' is not a symbol of enum %s", s, t->short_name);
}

/* An array as one block of all its items (then the 0 that ends it); the path says "[i]". */
static wb_err encode_array(enc *e, const wb_avro_type *t, json_t *j, int is_default, int depth)
{
    size_t plen = strlen(e->path);
    wb_err err;
    if (!json_is_array(j)) return efail(e, "expected array, got %s", json_kind(j));
    if (json_array_size(j) && (err = put_long(e->out, (int64_t)json_array_size(j)))) return err;
    for (size_t i = 0; i < json_array_size(j); i++) {
        snprintf(e->path + plen, sizeof(e->path) - plen, "[%zu]", i);
        if ((err = encode(e, t->items, json_array_get(j, i), is_default, depth + 1))) return err;
    }
    e->path[plen] = 0;
    return put_long(e->out, 0);
}

/* A map as one block of key/value pairs; the path says ".key". */
static wb_err encode_map(enc *e, const wb_avro_type *t, json_t *j, int is_default, int depth)
{
    size_t plen = strlen(e->path);
    const char *key;
    json_t *v;
    wb_err err;
    if (!json_is_object(j)) return efail(e, "expected object (map), got %s", json_kind(j));
    if (json_object_size(j) && (err = put_long(e->out, (int64_t)json_object_size(j)))) return err;
    json_object_foreach(j, key, v)
    {
        snprintf(e->path + plen, sizeof(e->path) - plen, "%s%s", plen ? "." : "", key);
        if ((err = put_blob(e->out, key, strlen(key))) ||
            (err = encode(e, t->items, v, is_default, depth + 1)))
            return err;
    }
    e->path[plen] = 0;
    return put_long(e->out, 0);
}

/* One value j of type t; is_default: j is a schema default (the specification's forms). */
static wb_err encode(enc *e, const wb_avro_type *t, json_t *j, int is_default, int depth)
{
    if (depth > WB_AVRO_MAX_DEPTH) return efail(e, "nested too deeply");
    switch (t->kind) {
    case WB_AVRO_NULL:
        return json_is_null(j) ? WB_OK : efail(e, "expected null, got %s", json_kind(j));
    case WB_AVRO_BOOLEAN:
        if (!json_is_boolean(j)) return efail(e, "expected boolean, got %s", json_kind(j));
        return wb_buf_add(e->out, json_is_true(j) ? "\1" : "\0", 1);
    case WB_AVRO_INT:
    case WB_AVRO_LONG:
        return encode_integer(e, t, j, is_default);
    case WB_AVRO_FLOAT:
    case WB_AVRO_DOUBLE:
        return encode_real(e, t, j);
    case WB_AVRO_STRING:
        if (!json_is_string(j)) return efail(e, "expected string, got %s", json_kind(j));
        return put_blob(e->out, json_string_value(j), json_string_length(j));
    case WB_AVRO_BYTES:
    case WB_AVRO_FIXED:
        return encode_blob(e, t, j, is_default);
    case WB_AVRO_ENUM:
        return encode_enum(e, t, j);
    case WB_AVRO_ARRAY:
        return encode_array(e, t, j, is_default, depth);
    case WB_AVRO_MAP:
        return encode_map(e, t, j, is_default, depth);
    case WB_AVRO_RECORD:
        return encode_record(e, t, j, depth);
    case WB_AVRO_UNION:
        return encode_union(e, t, j, is_default, depth);
    }
    return efail(e, "unsupported type");
}

/* Encode doc (see avro.h). Any thread; sc is read-only, only out grows. */
wb_err wb_avro_from_json(const wb_avro_schema *sc, json_t *doc, wb_buf *out, char *reason,
                         size_t reason_size)
{
    enc e = {out, "", reason, reason_size};
    size_t mark = out->len;
    if (reason && reason_size) reason[0] = 0;
    wb_err err = encode(&e, wb_avro_schema_root(sc), doc, 0, 0);
    if (err) wb_avro_unwind(out, mark, err, "encoding", reason, reason_size);
    return err;
}
