/* avro.c - Avro schema model and resolution helpers (see avro.h), and the small helpers the
 * rest of schema/ shares (avro_int.h).
 *
 * The other parts of the Avro module: resolution plans are compiled in avro_plan.c and walked
 * over binary data in avro_decode.c, JSON text is written by avro_json.c, and the JSON -> Avro
 * encoder is avro_encode.c. */
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "core/util.h"

#include <avro/errors.h>
#include <errno.h>
#include <avro/schema.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- schema model */

/* A parsed schema owns every node it made; nodes reference each other (a named type used
 * twice, a recursive record), so they are freed from this list, not by walking the tree. */
struct wb_avro_schema {
    wb_avro_type *root;
    wb_avro_type **nodes; /* every node, for freeing (named types are referenced, not copied) */
    size_t nnodes, capnodes;
};

/* Parsing state: the schema being built, the caller's error buffer, the nesting so far. */
typedef struct parse_ctx {
    wb_avro_schema *sc;
    char *err;
    size_t err_size;
    int depth;
} parse_ctx;

/* A zeroed node of kind, registered with the schema (which frees it); NULL when out of
 * memory. */
static wb_avro_type *new_node(parse_ctx *pc, wb_avro_kind kind)
{
    wb_avro_schema *sc = pc->sc;
    if (sc->nnodes == sc->capnodes) {
        size_t ncap = sc->capnodes ? sc->capnodes * 2 : 16;
        wb_avro_type **n = realloc(sc->nodes, ncap * sizeof(*n));
        if (!n) return NULL;
        sc->nodes = n;
        sc->capnodes = ncap;
    }
    wb_avro_type *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->kind = kind;
    t->enum_default = -1;
    sc->nodes[sc->nnodes++] = t;
    return t;
}

/* A node's own strings, fields, symbols and branch array (not the nodes it points to). */
static void free_node(wb_avro_type *t)
{
    free(t->name);
    for (size_t i = 0; i < t->naliases; i++)
        free(t->aliases[i]);
    free(t->aliases);
    for (size_t i = 0; i < t->nfields; i++) {
        wb_avro_field *f = &t->fields[i];
        free(f->name);
        for (size_t j = 0; j < f->naliases; j++)
            free(f->aliases[j]);
        free(f->aliases);
        if (f->def) json_decref(f->def);
    }
    free(t->fields);
    for (size_t i = 0; i < t->nsymbols; i++)
        free(t->symbols[i]);
    free(t->symbols);
    free(t->branches);
    free(t);
}

/* Frees every node (named types are shared, so through the node list). NULL is fine; no
 * plan may still point into sc. */
void wb_avro_schema_free(wb_avro_schema *sc)
{
    if (!sc) return;
    for (size_t i = 0; i < sc->nnodes; i++)
        free_node(sc->nodes[i]);
    free(sc->nodes);
    free(sc);
}

/* Any thread. */
const wb_avro_type *wb_avro_schema_root(const wb_avro_schema *sc)
{
    return sc->root;
}

static const struct {
    const char *name;
    wb_avro_kind kind;
} primitives[] = {
    {"null", WB_AVRO_NULL},   {"boolean", WB_AVRO_BOOLEAN}, {"int", WB_AVRO_INT},
    {"long", WB_AVRO_LONG},   {"float", WB_AVRO_FLOAT},     {"double", WB_AVRO_DOUBLE},
    {"bytes", WB_AVRO_BYTES}, {"string", WB_AVRO_STRING},
};

/* The kind of a primitive type name, or -1. */
static int primitive_kind(const char *s)
{
    for (size_t i = 0; i < sizeof(primitives) / sizeof(primitives[0]); i++)
        if (!strcmp(primitives[i].name, s)) return (int)primitives[i].kind;
    return -1;
}

/* Full name from a name and the namespace in effect. Caller frees. */
/* A dotted name is already full; otherwise the namespace in effect is prefixed. */
static char *full_name(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns) return wb_strdup(name);
    size_t n = strlen(ns) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s.%s", ns, name);
    return s;
}

/* A reference to a named type defined earlier in the document: by its full name in the
 * namespace in effect, or by the name as written (a type defined without a namespace,
 * referenced from inside one). NULL when unknown. */
static wb_avro_type *find_named(parse_ctx *pc, const char *name, const char *ns)
{
    char *full = full_name(name, ns);
    if (!full) return NULL;
    wb_avro_type *hit = NULL;
    for (size_t i = 0; i < pc->sc->nnodes && !hit; i++) {
        wb_avro_type *t = pc->sc->nodes[i];
        if (t->name && (!strcmp(t->name, full) || !strcmp(t->name, name))) hit = t;
    }
    free(full);
    return hit;
}

/* Set the parse error and return -1. */
static int perr(parse_ctx *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(parse_ctx *pc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pc->err, pc->err_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* obj's "aliases" (strings) into *out / *n; absent is none. */
static int read_aliases(parse_ctx *pc, json_t *obj, char ***out, size_t *n)
{
    json_t *a = json_object_get(obj, "aliases");
    if (!a) return 0;
    if (!json_is_array(a)) return perr(pc, "aliases must be an array");
    size_t cnt = json_array_size(a);
    if (!cnt) return 0;
    *out = calloc(cnt, sizeof(char *));
    if (!*out) return perr(pc, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) return perr(pc, "alias must be a string");
        (*out)[i] = wb_strdup(s);
        if (!(*out)[i]) return perr(pc, "out of memory");
        (*n)++;
    }
    return 0;
}

static wb_avro_type *parse_type(parse_ctx *pc, json_t *j, const char *ns);

/* The logical type of t, from its JSON object j. */
static int parse_logical(parse_ctx *pc, wb_avro_type *t, json_t *j)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt) return 0;
    /* Unknown or misplaced logical types are ignored, as the specification asks. */
    if (!strcmp(lt, "decimal") && (t->kind == WB_AVRO_BYTES || t->kind == WB_AVRO_FIXED)) {
        json_int_t p = json_integer_value(json_object_get(j, "precision"));
        json_int_t s = json_integer_value(json_object_get(j, "scale"));
        if (p < 1 || p > 38 || s < 0 || s > p)
            return perr(pc, "decimal needs 1 <= precision <= 38 and 0 <= scale <= precision%s", "");
        t->logical = WB_AVRO_LT_DECIMAL;
        t->precision = (int)p;
        t->scale = (int)s;
    } else if (!strcmp(lt, "timestamp-millis") && t->kind == WB_AVRO_LONG) {
        t->logical = WB_AVRO_LT_TS_MILLIS;
    } else if (!strcmp(lt, "timestamp-micros") && t->kind == WB_AVRO_LONG) {
        t->logical = WB_AVRO_LT_TS_MICROS;
    } else if (!strcmp(lt, "date") && t->kind == WB_AVRO_INT) {
        t->logical = WB_AVRO_LT_DATE;
    }
    return 0;
}

/* A record's fields: unique names, aliases, types, defaults (kept as JSON: avro-c 1.11 drops
 * them and resolution needs them). */
static int parse_record(parse_ctx *pc, wb_avro_type *t, json_t *j, const char *ns)
{
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) return perr(pc, "record %s: fields must be an array", t->name);
    size_t n = json_array_size(fields);
    if (n > WB_AVRO_MAX_FIELDS) return perr(pc, "record %s: too many fields", t->name);
    t->fields = calloc(n ? n : 1, sizeof(*t->fields));
    if (!t->fields) return perr(pc, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *fj = json_array_get(fields, i);
        const char *fname = json_string_value(json_object_get(fj, "name"));
        if (!fname) return perr(pc, "record %s: field without a name", t->name);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->fields[k].name, fname))
                return perr(pc, "record %s: duplicate field '%s'", t->name, fname);
        wb_avro_field *f = &t->fields[i];
        t->nfields++;
        f->name = wb_strdup(fname);
        if (!f->name) return perr(pc, "out of memory");
        if (read_aliases(pc, fj, &f->aliases, &f->naliases)) return -1;
        f->type = parse_type(pc, json_object_get(fj, "type"), ns);
        if (!f->type) return -1;
        json_t *def = json_object_get(fj, "default");
        if (def) f->def = json_incref(def);
    }
    return 0;
}

/* An enum's symbols (unique) and its default (one of them). */
static int parse_enum(parse_ctx *pc, wb_avro_type *t, json_t *j)
{
    int rc = 0;
    json_t *syms = json_object_get(j, "symbols");
    if (!json_is_array(syms)) rc = perr(pc, "enum %s: symbols must be an array", t->name);
    size_t n = json_array_size(syms);
    t->symbols = calloc(n ? n : 1, sizeof(char *));
    if (!t->symbols) rc = perr(pc, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        t->symbols[i] = wb_strdup(json_string_value(json_array_get(syms, i)));
        if (!t->symbols[i]) {
            rc = perr(pc, "enum %s: bad symbol", t->name);
            break;
        }
        t->nsymbols++;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->symbols[k], t->symbols[i]))
                rc = perr(pc, "enum %s: duplicate symbol '%s'", t->name, t->symbols[i]);
    }
    const char *def = json_string_value(json_object_get(j, "default"));
    for (size_t i = 0; !rc && def && i < t->nsymbols; i++)
        if (!strcmp(t->symbols[i], def)) t->enum_default = (int)i;
    if (!rc && def && t->enum_default < 0)
        rc = perr(pc, "enum %s: default is not one of its symbols", t->name);
    return rc;
}

/* A fixed's size (at most 1 MiB) and its logical type. */
static int parse_fixed(parse_ctx *pc, wb_avro_type *t, json_t *j)
{
    json_int_t size = json_integer_value(json_object_get(j, "size"));
    if (size < 0 || size > (1 << 20)) return perr(pc, "fixed %s: bad size", t->name);
    t->size = (size_t)size;
    return parse_logical(pc, t, j);
}

/* A named type (record, error, enum, fixed): defined once, its full name from the namespace
 * in effect; nested definitions take its namespace. */
static wb_avro_type *parse_named(parse_ctx *pc, json_t *j, const char *type, const char *ns)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!name) return perr(pc, "%s without a name", type), NULL;
    const char *own_ns = json_string_value(json_object_get(j, "namespace"));
    wb_avro_kind kind = !strcmp(type, "record") || !strcmp(type, "error") ? WB_AVRO_RECORD
                        : !strcmp(type, "enum")                           ? WB_AVRO_ENUM
                                                                          : WB_AVRO_FIXED;
    char *full = full_name(name, own_ns ? own_ns : ns);
    if (!full) return perr(pc, "out of memory"), NULL;
    for (size_t i = 0; i < pc->sc->nnodes; i++)
        if (pc->sc->nodes[i]->name && !strcmp(pc->sc->nodes[i]->name, full)) {
            perr(pc, "type %s defined twice", full);
            free(full);
            return NULL;
        }
    wb_avro_type *t = new_node(pc, kind);
    if (!t) {
        free(full);
        return perr(pc, "out of memory"), NULL;
    }
    t->name = full;
    if (!t->name) return perr(pc, "out of memory"), NULL;
    const char *dot = strrchr(t->name, '.');
    t->short_name = dot ? dot + 1 : t->name;
    /* The namespace of nested definitions is the one of this name. */
    char *inner_ns = NULL;
    if (dot) {
        inner_ns = wb_strdup(t->name);
        if (!inner_ns) return perr(pc, "out of memory"), NULL;
        inner_ns[dot - t->name] = 0;
    }
    int rc = read_aliases(pc, j, &t->aliases, &t->naliases);
    if (!rc && kind == WB_AVRO_RECORD)
        rc = parse_record(pc, t, j, inner_ns);
    else if (!rc && kind == WB_AVRO_ENUM)
        rc = parse_enum(pc, t, j);
    else if (!rc)
        rc = parse_fixed(pc, t, j);
    free(inner_ns);
    return rc ? NULL : t;
}

/* A union (JSON array): no union directly inside, one branch per unnamed kind / per name. */
static wb_avro_type *parse_union(parse_ctx *pc, json_t *j, const char *ns)
{
    size_t n = json_array_size(j);
    wb_avro_type *t = new_node(pc, WB_AVRO_UNION);
    if (!t || !(t->branches = calloc(n ? n : 1, sizeof(*t->branches))))
        return perr(pc, "out of memory"), NULL;
    for (size_t i = 0; i < n; i++) {
        wb_avro_type *b = parse_type(pc, json_array_get(j, i), ns);
        if (!b) return NULL;
        for (size_t k = 0; k < t->nbranches; k++)
            if (t->branches[k]->kind == b->kind &&
                (!b->name || !strcmp(t->branches[k]->name, b->name)))
                return perr(pc, "union has two branches of type %s", wb_avro_branch_name(b)), NULL;
        if (b->kind == WB_AVRO_UNION) return perr(pc, "union directly inside a union"), NULL;
        t->branches[t->nbranches++] = b;
    }
    return t;
}

/* A type written as a JSON object: {"type": <primitive>, "logicalType": ...}, a named type,
 * an array or map, a reference, or {"type": {...}} / {"type": [...]} nesting a full type. */
static wb_avro_type *parse_object(parse_ctx *pc, json_t *j, const char *ns)
{
    wb_avro_type *t = NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) return parse_type(pc, json_object_get(j, "type"), ns);
    int k = primitive_kind(type);
    if (k >= 0) {
        t = new_node(pc, (wb_avro_kind)k);
        if (t && parse_logical(pc, t, j)) t = NULL;
    } else if (!strcmp(type, "record") || !strcmp(type, "error") || !strcmp(type, "enum") ||
               !strcmp(type, "fixed")) {
        t = parse_named(pc, j, type, ns);
    } else if (!strcmp(type, "array") || !strcmp(type, "map")) {
        t = new_node(pc, !strcmp(type, "array") ? WB_AVRO_ARRAY : WB_AVRO_MAP);
        if (t && !(t->items = parse_type(
                       pc, json_object_get(j, !strcmp(type, "array") ? "items" : "values"), ns)))
            t = NULL;
    } else if (!(t = find_named(pc, type, ns))) {
        perr(pc, "unknown type '%s'", type);
    }
    return t;
}

/* Any type: a name (primitive or defined before), a union, or an object. NULL with pc->err
 * set (out of memory when nothing more precise was said). */
static wb_avro_type *parse_type(parse_ctx *pc, json_t *j, const char *ns)
{
    wb_avro_type *t = NULL;
    if (++pc->depth > WB_AVRO_MAX_DEPTH) {
        perr(pc, "schema nested too deeply");
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        int k = primitive_kind(s);
        if (k >= 0)
            t = new_node(pc, (wb_avro_kind)k);
        else if (!(t = find_named(pc, s, ns)))
            perr(pc, "unknown type '%s'", s);
    } else if (json_is_array(j)) {
        t = parse_union(pc, j, ns);
    } else if (json_is_object(j)) {
        t = parse_object(pc, j, ns);
    } else {
        perr(pc, "a type must be a string, an array or an object");
    }
    pc->depth--;
    if (!t && !pc->err[0]) perr(pc, "out of memory");
    return t;
}

/* Our model first, then avro-c's verdict. avro-c is not known to be thread-safe (its error
 * text is process-wide), so schemas are parsed on the thread that owns them (fetcher.h hands
 * registry texts over unparsed for this). The caller owns the result. */
wb_avro_schema *wb_avro_schema_parse(const char *json, size_t len, char *errstr, size_t errstr_size)
{
    wb_avro_schema *sc = NULL, *ret = NULL;
    json_t *doc = NULL;
    avro_schema_t as = NULL;
    char tmp[256] = "";
    if (!errstr || !errstr_size) {
        errstr = tmp;
        errstr_size = sizeof(tmp);
    }
    errstr[0] = 0;
    json_error_t jerr;
    doc = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "invalid schema JSON: %s", jerr.text);
        goto out;
    }
    sc = calloc(1, sizeof(*sc));
    if (!sc) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    /* Our model first: it refuses what avro-c 1.11 lets through (duplicate fields, which also
     * make avro-c leak), then avro-c has the last word on validity. */
    parse_ctx pc = {sc, errstr, errstr_size, 0};
    sc->root = parse_type(&pc, doc, NULL);
    if (!sc->root) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", errstr);
        snprintf(errstr, errstr_size, "invalid schema: %s", msg);
        goto out;
    }
    if (avro_schema_from_json_length(json, len, &as)) {
        as = NULL;
        snprintf(errstr, errstr_size, "invalid schema: %s", avro_strerror());
        goto out;
    }
    ret = sc;
    sc = NULL;
out:
    if (as) avro_schema_decref(as);
    json_decref(doc);
    wb_avro_schema_free(sc);
    return ret;
}

/* ---------------------------------------------------------------- helpers */

/* Any thread; the name is static or lives as long as the schema. */
const char *wb_avro_branch_name(const wb_avro_type *t)
{
    if (t->name) return t->name;
    switch (t->kind) {
    case WB_AVRO_NULL:
        return "null";
    case WB_AVRO_BOOLEAN:
        return "boolean";
    case WB_AVRO_INT:
        return "int";
    case WB_AVRO_LONG:
        return "long";
    case WB_AVRO_FLOAT:
        return "float";
    case WB_AVRO_DOUBLE:
        return "double";
    case WB_AVRO_BYTES:
        return "bytes";
    case WB_AVRO_STRING:
        return "string";
    case WB_AVRO_ARRAY:
        return "array";
    case WB_AVRO_MAP:
        return "map";
    default:
        return "union";
    }
}

/* Any thread; out is the caller's, truncated to out_size. */
void wb_avro_type_describe(const wb_avro_type *t, char *out, size_t out_size)
{
    static const char *lt[] = {"", "decimal", "timestamp-millis", "timestamp-micros", "date"};
    size_t used = 0;
    out[0] = 0;
    switch (t->kind) {
    case WB_AVRO_RECORD:
        snprintf(out, out_size, "record %s", t->short_name);
        return;
    case WB_AVRO_ENUM:
        snprintf(out, out_size, "enum %s", t->short_name);
        return;
    case WB_AVRO_FIXED:
        snprintf(out, out_size, "fixed %s[%zu]%s%s%s", t->short_name, t->size,
                 t->logical ? "(" : "", lt[t->logical], t->logical ? ")" : "");
        return;
    case WB_AVRO_ARRAY:
    case WB_AVRO_MAP: {
        char inner[128];
        wb_avro_type_describe(t->items, inner, sizeof(inner));
        snprintf(out, out_size, "%s<%s>", t->kind == WB_AVRO_ARRAY ? "array" : "map", inner);
        return;
    }
    case WB_AVRO_UNION:
        used = (size_t)snprintf(out, out_size, "union[");
        for (size_t i = 0; i < t->nbranches && used < out_size; i++)
            used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? "," : "",
                                     t->branches[i]->name ? t->branches[i]->short_name
                                                          : wb_avro_branch_name(t->branches[i]));
        if (used < out_size) snprintf(out + used, out_size - used, "]");
        return;
    default:
        snprintf(out, out_size, "%s%s%s%s", wb_avro_branch_name(t), t->logical ? "(" : "",
                 lt[t->logical], t->logical ? ")" : "");
        return;
    }
}

/* Any thread. The specification's promotions: int -> long/float/double, long -> float/double,
 * float -> double, string <-> bytes. */
int wb_avro_promotable(wb_avro_kind w, wb_avro_kind r)
{
    if (w == r) return 1;
    switch (w) {
    case WB_AVRO_INT:
        return r == WB_AVRO_LONG || r == WB_AVRO_FLOAT || r == WB_AVRO_DOUBLE;
    case WB_AVRO_LONG:
        return r == WB_AVRO_FLOAT || r == WB_AVRO_DOUBLE;
    case WB_AVRO_FLOAT:
        return r == WB_AVRO_DOUBLE;
    case WB_AVRO_STRING:
        return r == WB_AVRO_BYTES;
    case WB_AVRO_BYTES:
        return r == WB_AVRO_STRING;
    default:
        return 0;
    }
}

/* The part of a full name after its last dot. */
static const char *short_of(const char *n)
{
    const char *dot = strrchr(n, '.');
    return dot ? dot + 1 : n;
}

/* Any thread. Unqualified names compare, as the specification's resolution does. */
int wb_avro_names_match(const wb_avro_type *w, const wb_avro_type *r)
{
    if (!w->name || !r->name) return 0;
    if (!strcmp(w->short_name, r->short_name)) return 1;
    for (size_t i = 0; i < r->naliases; i++)
        if (!strcmp(short_of(r->aliases[i]), w->short_name)) return 1;
    return 0;
}

/* Any thread. Names first over all fields, then aliases: a name wins over an alias. */
int wb_avro_field_lookup(const wb_avro_type *r, const char *wname)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, wname)) return (int)i;
    for (size_t i = 0; i < r->nfields; i++)
        for (size_t j = 0; j < r->fields[i].naliases; j++)
            if (!strcmp(r->fields[i].aliases[j], wname)) return (int)i;
    return -1;
}

/* Same kind and, for named types, matching names. */
static int shallow_match(const wb_avro_type *w, const wb_avro_type *r)
{
    if (w->kind != r->kind) return 0;
    if (w->kind == WB_AVRO_RECORD || w->kind == WB_AVRO_ENUM || w->kind == WB_AVRO_FIXED)
        return wb_avro_names_match(w, r);
    return 1;
}

/* Any thread. */
int wb_avro_union_pick(const wb_avro_type *ru, const wb_avro_type *w)
{
    /* Exact kind and name first, then names through aliases, then promotions. */
    for (size_t i = 0; i < ru->nbranches; i++) {
        const wb_avro_type *b = ru->branches[i];
        if (b->kind == w->kind && (!w->name || (b->name && !strcmp(b->short_name, w->short_name))))
            return (int)i;
    }
    for (size_t i = 0; i < ru->nbranches; i++)
        if (shallow_match(w, ru->branches[i])) return (int)i;
    for (size_t i = 0; i < ru->nbranches; i++)
        if (ru->branches[i]->kind != w->kind && wb_avro_promotable(w->kind, ru->branches[i]->kind))
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- shared inside schema/ */

/* Any thread. */
int wb_avro_is_nullable(const wb_avro_type *t)
{
    return t->kind == WB_AVRO_UNION && t->nbranches == 2 &&
           (t->branches[0]->kind == WB_AVRO_NULL || t->branches[1]->kind == WB_AVRO_NULL);
}

/* Any thread. The bounds: 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999 UTC. */
int wb_avro_time_in_range(int64_t v, wb_avro_logical lt)
{
    if (lt == WB_AVRO_LT_DATE) return v >= -719162 && v <= 2932896;
    if (lt != WB_AVRO_LT_TS_MILLIS && lt != WB_AVRO_LT_TS_MICROS) return 1;
    int64_t unit = lt == WB_AVRO_LT_TS_MICROS ? 1000000 : 1000;
    return v >= -62135596800LL * unit && v <= 253402300799LL * unit + (unit - 1);
}

/* Any thread. Code point 0xe9 is UTF-8 0xc3 0xa9 in the JSON text: two bytes back to one. */
unsigned char *wb_avro_default_bytes(const json_t *def, size_t *n)
{
    const char *s = json_string_value(def);
    if (!s) return NULL;
    size_t len = json_string_length(def), k = 0;
    unsigned char *b = malloc(len + 1);
    if (!b) return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            b[k++] = c;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < len) {
            b[k++] = (unsigned char)(((c & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            free(b);
            return NULL;
        }
    }
    *n = k;
    return b;
}

/* Any thread. */
char *wb_avro_read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    wb_buf b;
    char chunk[4096];
    size_t n;
    wb_buf_init(&b, WB_AVRO_MAX_SCHEMA_BYTES);
    if (!fp) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (wb_buf_add(&b, chunk, n)) {
            snprintf(errstr, errstr_size, "%s: too large", path);
            fclose(fp);
            wb_buf_free(&b);
            return NULL;
        }
    fclose(fp);
    /* an empty file is "" (then a parse error), not a read error */
    if (!b.data && wb_buf_add(&b, "", 0)) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    return wb_buf_steal(&b, len);
}

/* Any thread. */
void wb_avro_unwind(wb_buf *out, size_t mark, wb_err err, const char *what, char *reason,
                    size_t reason_size)
{
    if (err != WB_ERR_SCHEMA && reason && reason_size && !reason[0])
        snprintf(reason, reason_size, "%s: %s", what, wb_err_str(err));
    out->len = mark;
    if (out->data) out->data[mark] = 0;
}
