/* avro_decode.c - Avro binary -> JSON with a compiled plan (see avro.h, avro_plan.h).
 *
 * Decoding walks the bytes once: each value is read by the writer's type and written as JSON
 * by the plan node's reader type (avro_json.c does the text). A record whose reader field
 * order differs from the writer's is first skipped over to note where each writer field
 * starts. Hostile input is bounded: lengths are checked against the bytes left, array/map
 * item counts against a budget proportional to the input, nesting against
 * WB_AVRO_MAX_DEPTH. */
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "schema/avro_json.h"
#include "schema/avro_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- reading */

/* Where decoding is: the bytes left, the work and nesting allowed, the output. */
typedef struct cursor {
    const unsigned char *p, *end;
    long budget; /* array/map items left: bounds work on hostile block counts */
    int depth;
    wb_buf *out;
    char *reason;
    size_t reason_size;
} cursor;

/* Note the first reason (the innermost problem) and return WB_ERR_SCHEMA. */
static wb_err fail(cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static wb_err fail(cursor *c, const char *fmt, ...)
{
    if (c->reason && c->reason_size && !c->reason[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, c->reason_size, fmt, ap);
        va_end(ap);
    }
    return WB_ERR_SCHEMA;
}

/* A zig-zag varint (Avro int and long), at most 10 bytes and 64 bits. */
static wb_err read_long(cursor *c, int64_t *v)
{
    uint64_t u = 0;
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end) return fail(c, "truncated Avro data");
        unsigned char b = *c->p++;
        if (shift == 63 && (b & 0x7e)) return fail(c, "varint overflows 64 bits");
        u |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return WB_OK;
        }
    }
    return fail(c, "varint longer than 10 bytes");
}

static wb_err read_int(cursor *c, int64_t *v)
{
    wb_err err = read_long(c, v);
    if (!err && (*v < INT32_MIN || *v > INT32_MAX)) return fail(c, "int out of 32-bit range");
    return err;
}

/* A length-prefixed bytes/string payload, borrowed from the input. */
static wb_err read_blob(cursor *c, const unsigned char **p, size_t *n)
{
    int64_t len = 0;
    wb_err err = read_long(c, &len);
    if (err) return err;
    if (len < 0 || (uint64_t)len > (uint64_t)(c->end - c->p)) return fail(c, "length out of range");
    *p = c->p;
    *n = (size_t)len;
    c->p += len;
    return WB_OK;
}

/* n raw bytes (boolean, float, double, fixed), borrowed from the input. */
static wb_err take(cursor *c, size_t n, const unsigned char **p)
{
    if ((size_t)(c->end - c->p) < n) return fail(c, "truncated Avro data");
    *p = c->p;
    c->p += n;
    return WB_OK;
}

/* Read the next block count of an array or map (0 ends it). */
static wb_err block_count(cursor *c, int64_t *count)
{
    wb_err err = read_long(c, count);
    if (err) return err;
    if (*count < 0) {
        int64_t bytes;
        if (*count == INT64_MIN) return fail(c, "bad block count");
        *count = -*count;
        if ((err = read_long(c, &bytes))) return err;
    }
    if (*count > c->budget) return fail(c, "too many array or map items");
    c->budget -= (long)*count;
    return WB_OK;
}

/* Step over one value of writer type w, checking it as decoding would (fields the reader
 * drops, and the first pass over a reordered record). */
static wb_err skip(cursor *c, const wb_avro_type *w)
{
    int64_t v = 0;
    const unsigned char *p = NULL;
    size_t n;
    wb_err err = WB_OK;
    if (++c->depth > WB_AVRO_MAX_DEPTH) return fail(c, "data nested too deeply");
    switch (w->kind) {
    case WB_AVRO_NULL:
        break;
    case WB_AVRO_BOOLEAN:
        err = take(c, 1, &p);
        break;
    case WB_AVRO_INT:
        err = read_int(c, &v);
        break;
    case WB_AVRO_LONG:
        err = read_long(c, &v);
        break;
    case WB_AVRO_FLOAT:
        err = take(c, 4, &p);
        break;
    case WB_AVRO_DOUBLE:
        err = take(c, 8, &p);
        break;
    case WB_AVRO_BYTES:
    case WB_AVRO_STRING:
        err = read_blob(c, &p, &n);
        break;
    case WB_AVRO_FIXED:
        err = take(c, w->size, &p);
        break;
    case WB_AVRO_ENUM:
        if (!(err = read_int(c, &v)) && (v < 0 || (uint64_t)v >= w->nsymbols))
            err = fail(c, "enum index out of range");
        break;
    case WB_AVRO_RECORD:
        for (size_t i = 0; !err && i < w->nfields; i++)
            err = skip(c, w->fields[i].type);
        break;
    case WB_AVRO_UNION:
        if (!(err = read_long(c, &v))) {
            if (v < 0 || (uint64_t)v >= w->nbranches)
                err = fail(c, "union index out of range");
            else
                err = skip(c, w->branches[v]);
        }
        break;
    case WB_AVRO_ARRAY:
    case WB_AVRO_MAP:
        for (;;) {
            int64_t count;
            if ((err = block_count(c, &count)) || !count) break;
            for (int64_t i = 0; !err && i < count; i++) {
                if (w->kind == WB_AVRO_MAP) err = read_blob(c, &p, &n);
                if (!err) err = skip(c, w->items);
            }
            if (err) break;
        }
        break;
    }
    c->depth--;
    return err;
}

static wb_err emit(cursor *c, const pnode *n);

/* An enum index as the reader's symbol (Avro names need no JSON escaping). */
static wb_err emit_enum(cursor *c, const pnode *n)
{
    int64_t v;
    wb_err err = read_int(c, &v);
    if (err) return err;
    if (v < 0 || (uint64_t)v >= n->w->nsymbols) return fail(c, "enum index out of range");
    if (n->symmap[v] < 0)
        return fail(c, "enum symbol '%s' is unknown to the reader and it has no default",
                    n->w->symbols[v]);
    const char *sym = n->r->symbols[n->symmap[v]];
    if ((err = wb_buf_add(c->out, "\"", 1)) || (err = wb_buf_adds(c->out, sym))) return err;
    return wb_buf_add(c->out, "\"", 1);
}

/* Array items or map entries, block by block, as a JSON array or object. */
static wb_err emit_items(cursor *c, const pnode *n)
{
    const unsigned char *p = NULL;
    size_t len = 0;
    int first = 1, bad = 0;
    wb_err err = wb_buf_add(c->out, n->op == OP_ARRAY ? "[" : "{", 1);
    if (err) return err;
    for (;;) {
        int64_t count;
        if ((err = block_count(c, &count))) return err;
        if (!count) break;
        for (int64_t i = 0; i < count; i++) {
            if (!first && (err = wb_buf_add(c->out, ",", 1))) return err;
            first = 0;
            if (n->op == OP_MAP) {
                if ((err = read_blob(c, &p, &len))) return err;
                if ((err = wb_avro_json_string(c->out, p, len, &bad)))
                    return bad ? fail(c, "map key is not valid UTF-8") : err;
                if ((err = wb_buf_add(c->out, ":", 1))) return err;
            }
            if ((err = emit(c, n->item))) return err;
        }
    }
    return wb_buf_add(c->out, n->op == OP_ARRAY ? "]" : "}", 1);
}

/* A record as a JSON object in reader field order. */
static wb_err emit_record(cursor *c, const pnode *n)
{
    const wb_avro_type *w = n->w;
    wb_err err = wb_buf_add(c->out, "{", 1);
    if (err) return err;
    if (n->in_order) {
        /* the common case: one pass, the reader's fields first, then what it drops */
        for (size_t i = 0; i < n->nouts; i++)
            if ((err = wb_buf_add(c->out, n->outs[i].key, n->outs[i].keylen)) ||
                (err = emit(c, n->wf[i])))
                return err;
        for (size_t j = n->nouts; j < w->nfields; j++)
            if ((err = skip(c, w->fields[j].type))) return err;
        return wb_buf_add(c->out, "}", 1);
    }
    /* Reader order differs: note where each writer field starts, then emit. */
    const unsigned char *start[WB_AVRO_MAX_FIELDS];
    for (size_t j = 0; j < w->nfields; j++) {
        start[j] = c->p;
        if ((err = skip(c, w->fields[j].type))) return err;
    }
    const unsigned char *end = c->p;
    for (size_t i = 0; i < n->nouts; i++) {
        const pout *o = &n->outs[i];
        if ((err = wb_buf_add(c->out, o->key, o->keylen))) return err;
        if (o->widx < 0) {
            err = wb_buf_adds(c->out, o->defjson);
        } else {
            c->p = start[o->widx];
            err = emit(c, n->wf[o->widx]);
        }
        if (err) return err;
    }
    c->p = end;
    return wb_buf_add(c->out, "}", 1);
}

/* Primitives: read by the writer's kind, write by the reader's (promotions). */
static wb_err emit_primitive(cursor *c, const pnode *n)
{
    const wb_avro_type *w = n->w, *r = n->r;
    const unsigned char *p = NULL;
    int64_t v = 0;
    size_t len;
    int bad = 0;
    wb_err err;
    switch (w->kind) {
    case WB_AVRO_NULL:
        return wb_buf_add(c->out, "null", 4);
    case WB_AVRO_BOOLEAN:
        if ((err = take(c, 1, &p))) return err;
        if (*p > 1) return fail(c, "boolean byte is not 0 or 1");
        return wb_buf_adds(c->out, *p ? "true" : "false");
    case WB_AVRO_INT:
    case WB_AVRO_LONG:
        if ((err = w->kind == WB_AVRO_INT ? read_int(c, &v) : read_long(c, &v))) return err;
        err = wb_avro_json_integer(c->out, r, v, &bad);
        return bad ? fail(c, "timestamp or date out of range") : err;
    case WB_AVRO_FLOAT: {
        float f;
        uint32_t u;
        if ((err = take(c, 4, &p))) return err;
        u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        memcpy(&f, &u, 4);
        return wb_avro_json_double(c->out, f, r->kind == WB_AVRO_FLOAT);
    }
    case WB_AVRO_DOUBLE: {
        double d;
        uint64_t u = 0;
        if ((err = take(c, 8, &p))) return err;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | p[i];
        memcpy(&d, &u, 8);
        return wb_avro_json_double(c->out, d, 0);
    }
    case WB_AVRO_BYTES:
    case WB_AVRO_STRING:
        if ((err = read_blob(c, &p, &len))) return err;
        err = wb_avro_json_blob(c->out, r, p, len, &bad);
        if (bad == 1) return fail(c, "string is not valid UTF-8");
        return bad ? fail(c, "decimal too long") : err;
    default:
        return fail(c, "unexpected type");
    }
}

/* A value of a non-union writer type, unwrapped. */
static wb_err emit_concrete(cursor *c, const pnode *n)
{
    const unsigned char *p = NULL;
    int bad = 0;
    wb_err err;
    switch (n->op) {
    case OP_ENUM:
        return emit_enum(c, n);
    case OP_FIXED:
        if ((err = take(c, n->w->size, &p))) return err;
        err = wb_avro_json_blob(c->out, n->r, p, n->w->size, &bad);
        return bad ? fail(c, "decimal too long") : err;
    case OP_ARRAY:
    case OP_MAP:
        return emit_items(c, n);
    case OP_RECORD:
        return emit_record(c, n);
    default:
        return emit_primitive(c, n);
    }
}

/* ---------------------------------------------------------------- the walk */

/* One value with node n: an OP_ERROR node fails here (only data that reaches it); a writer
 * union picks its branch's node; a reader union wraps the value when it is not nullable. */
static wb_err emit(cursor *c, const pnode *n)
{
    wb_err err;
    if (++c->depth > WB_AVRO_MAX_DEPTH) return fail(c, "data nested too deeply");
    if (n->op == OP_ERROR) {
        err = fail(c, "%s", n->err);
    } else if (n->op == OP_WUNION) {
        int64_t idx;
        if (!(err = read_long(c, &idx))) {
            if (idx < 0 || (uint64_t)idx >= n->w->nbranches)
                err = fail(c, "union index out of range");
            else if (n->wb[idx]->op == OP_ERROR)
                err = fail(c, "union branch not readable: %s", n->wb[idx]->err);
            else
                err = emit(c, n->wb[idx]);
        }
    } else if (n->wrap == 2 && n->w->kind != WB_AVRO_NULL) {
        if (!(err = wb_buf_adds(c->out, n->wrap_key)) && !(err = emit_concrete(c, n)))
            err = wb_buf_add(c->out, "}", 1);
    } else {
        err = emit_concrete(c, n);
    }
    c->depth--;
    return err;
}

/* Decode one datum (see avro.h). Any thread: the plan is read-only, the state is on the
 * stack; only out grows. */
wb_err wb_avro_plan_to_json(const wb_avro_plan *plan, const void *data, size_t len, wb_buf *out,
                            char *reason, size_t reason_size)
{
    size_t mark = out->len;
    cursor c = {data,       (const unsigned char *)data + len, 1024 + 8 * (long)len, 0, out, reason,
                reason_size};
    if (reason && reason_size) reason[0] = 0;
    wb_err err = emit(&c, plan->root);
    if (!err && c.p != c.end) err = fail(&c, "%s", "trailing bytes after the Avro datum");
    if (err) wb_avro_unwind(out, mark, err, "JSON output", reason, reason_size);
    return err;
}
