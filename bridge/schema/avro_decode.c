/* avro_decode.c - writer->reader resolution plans and Avro binary -> JSON (see avro.h).
 *
 * A plan is a graph of nodes, one per (writer type, reader type) pair, compiled once: record
 * field mappings, pre-rendered reader defaults and JSON keys, enum symbol maps, union branch
 * maps. Decoding walks the bytes once with the plan; a record whose reader field order differs
 * from the writer's is first skipped over to note where each writer field starts. */
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "core/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum op { OP_PRIM, OP_ENUM, OP_FIXED, OP_ARRAY, OP_MAP, OP_RECORD, OP_WUNION, OP_ERROR } op;

typedef struct pnode pnode;

typedef struct pout {
    int widx;  /* writer field read for this reader field, or -1: default */
    char *key; /* "\"name\":" (with a leading ',' after the first field) */
    size_t keylen;
    char *defjson; /* rendered default when widx < 0 */
} pout;

struct pnode {
    op op;
    const wb_avro_type *kw, *kr; /* the pair this node was built for (memo key) */
    const wb_avro_type *w, *r;   /* writer type, concrete reader type (a union branch) */
    int wrap;                    /* reader is a union: 1 nullable (plain value), 2 {"b": v} */
    char *wrap_key;              /* "{\"branch\":" */
    int *symmap;                 /* enum: writer index -> reader index or -1 */
    pnode **wf;                  /* record: per writer field, node or NULL (skipped) */
    pout *outs;                  /* record: reader fields in reader order */
    size_t nouts;
    int in_order; /* record: reader fields are the writer's first fields, in order */
    pnode *item;  /* array / map */
    pnode **wb;   /* writer union: per writer branch */
    char *err;    /* OP_ERROR */
};

struct wb_avro_plan {
    pnode *root;
    pnode **all;
    size_t n, cap;
};

/* ---------------------------------------------------------------- JSON output helpers */

static wb_err json_str(wb_buf *out, const unsigned char *s, size_t n, int *bad_utf8)
{
    static const char hex[] = "0123456789abcdef";
    wb_err err = wb_buf_add(out, "\"", 1);
    size_t run = 0, i = 0;
    while (!err && i < n) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x80) {
            i++;
            continue;
        }
        if (i > run && (err = wb_buf_add(out, s + run, i - run))) break;
        if (ch >= 0x80) {
            /* Validate one UTF-8 sequence (RFC 3629: no overlongs, no surrogates). */
            size_t len = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
            if (!len || ch > 0xf4 || i + len > n) goto bad;
            for (size_t k = 1; k < len; k++)
                if ((s[i + k] & 0xc0) != 0x80) goto bad;
            if ((ch == 0xe0 && s[i + 1] < 0xa0) || (ch == 0xed && s[i + 1] > 0x9f) ||
                (ch == 0xf0 && s[i + 1] < 0x90) || (ch == 0xf4 && s[i + 1] > 0x8f))
                goto bad;
            err = wb_buf_add(out, s + i, len);
            i += len;
        } else {
            char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
            size_t el = 2;
            switch (ch) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[ch >> 4];
                esc[5] = hex[ch & 15];
                el = 6;
            }
            err = wb_buf_add(out, esc, el);
            i++;
        }
        run = i;
    }
    if (!err && i > run) err = wb_buf_add(out, s + run, i - run);
    if (!err) err = wb_buf_add(out, "\"", 1);
    return err;
bad:
    *bad_utf8 = 1;
    return WB_ERR_SCHEMA;
}

static wb_err json_base64(wb_buf *out, const unsigned char *p, size_t n)
{
    char chunk[65];
    wb_err err = wb_buf_add(out, "\"", 1);
    while (!err && n) {
        size_t take = n > 48 ? 48 : n;
        size_t w = wb_base64_encode(p, take, chunk);
        err = wb_buf_add(out, chunk, w);
        p += take;
        n -= take;
    }
    return err ? err : wb_buf_add(out, "\"", 1);
}

/* Two's-complement big-endian unscaled integer -> "-123.45". 0 on success, -1 if too long. */
static int decimal_format(const unsigned char *b, size_t n, int scale, char *out, size_t out_size)
{
    unsigned char mag[64];
    char digits[200];
    size_t nd = 0;
    if (n > sizeof(mag) || out_size < 2 + (size_t)scale + 155) return -1;
    int neg = n && (b[0] & 0x80);
    memcpy(mag, b, n);
    if (neg) {
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int v = (unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
    }
    /* Repeated division by ten over the magnitude. */
    size_t start = 0;
    while (start < n && !mag[start])
        start++;
    while (start < n) {
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && !mag[start])
            start++;
    }
    while (nd <= (size_t)scale)
        digits[nd++] = '0';
    size_t o = 0;
    if (neg) out[o++] = '-';
    for (size_t i = nd; i-- > 0;) {
        out[o++] = digits[i];
        if (i == (size_t)scale && scale) out[o++] = '.';
    }
    out[o] = 0;
    return 0;
}

/* Decimal digits of v into the end of buf; returns the start. */
static char *fmt_i64(int64_t v, char *end)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return p;
}

static wb_err put_i64(wb_buf *out, int64_t v)
{
    char tmp[24];
    char *p = fmt_i64(v, tmp + sizeof(tmp));
    return wb_buf_add(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Quoted RFC 3339 UTC text of v: ms (or us when micros) since the epoch, or days when
 * date_only: "2026-11-23T17:44:06.123Z" / "2026-12-01". Civil-from-days after H. Hinnant's
 * public-domain algorithm. -1 when outside years 0001-9999. */
static int rfc3339(int64_t v, int micros, int date_only, char *out, size_t out_size)
{
    int64_t unit = micros ? 1000000 : 1000, days, sod = 0, frac = 0;
    if (out_size < 32) return -1;
    if (date_only) {
        days = v;
    } else {
        int64_t secs = v / unit;
        frac = v % unit;
        if (frac < 0) {
            frac += unit;
            secs--;
        }
        days = secs / 86400;
        sod = secs % 86400;
        if (sod < 0) {
            sod += 86400;
            days--;
        }
    }
    if (days < -719162 || days > 2932896) /* 0001-01-01 .. 9999-12-31 */
        return -1;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    char *p = out;
    *p++ = '"';
    put2(p, y / 100);
    put2(p + 2, y % 100);
    p[4] = '-';
    put2(p + 5, m);
    p[7] = '-';
    put2(p + 8, d);
    p += 10;
    if (!date_only) {
        *p++ = 'T';
        put2(p, (int)(sod / 3600));
        p[2] = ':';
        put2(p + 3, (int)(sod / 60 % 60));
        p[5] = ':';
        put2(p + 6, (int)(sod % 60));
        p[8] = '.';
        p += 9;
        for (int64_t div = unit / 10; div; div /= 10)
            *p++ = (char)('0' + frac / div % 10);
        *p++ = 'Z';
    }
    *p++ = '"';
    *p = 0;
    return (int)(p - out);
}

/* Emit an integer read from the writer as the reader type wants it. */
static wb_err emit_integer(wb_buf *out, const wb_avro_type *r, int64_t v, int *range)
{
    char tmp[48];
    if (r->kind == WB_AVRO_FLOAT || r->kind == WB_AVRO_DOUBLE)
        return wb_buf_printf(out, "%.17g", (double)v);
    if (r->logical == WB_AVRO_LT_TS_MILLIS || r->logical == WB_AVRO_LT_TS_MICROS ||
        r->logical == WB_AVRO_LT_DATE) {
        int n = rfc3339(v, r->logical == WB_AVRO_LT_TS_MICROS, r->logical == WB_AVRO_LT_DATE, tmp,
                        sizeof(tmp));
        if (n < 0) {
            *range = 1;
            return WB_ERR_SCHEMA;
        }
        return wb_buf_add(out, tmp, (size_t)n);
    }
    return put_i64(out, v);
}

static wb_err emit_double(wb_buf *out, double d, int is_float)
{
    if (!isfinite(d)) return wb_buf_add(out, "null", 4); /* JSON has no NaN / Infinity */
    return wb_buf_printf(out, is_float ? "%.9g" : "%.17g", d);
}

/* Bytes/fixed/string payload as the reader type wants it. */
static wb_err emit_blob(wb_buf *out, const wb_avro_type *r, const unsigned char *p, size_t n,
                        int *bad)
{
    if (r->kind == WB_AVRO_STRING) return json_str(out, p, n, bad);
    if (r->logical == WB_AVRO_LT_DECIMAL) {
        char tmp[256];
        tmp[0] = '"';
        if (decimal_format(p, n, r->scale, tmp + 1, sizeof(tmp) - 2)) {
            *bad = 2;
            return WB_ERR_SCHEMA;
        }
        size_t l = strlen(tmp);
        tmp[l] = '"';
        return wb_buf_add(out, tmp, l + 1);
    }
    return json_base64(out, p, n);
}

/* ---------------------------------------------------------------- defaults */

static int render_default(const wb_avro_type *r, json_t *def, wb_buf *out, int depth);

static int render_blob_default(const wb_avro_type *r, json_t *def, wb_buf *out)
{
    /* Avro encodes bytes/fixed defaults as strings of code points 0-255. */
    const char *s = json_string_value(def);
    if (!s) return -1;
    size_t n = json_string_length(def), k = 0;
    unsigned char *b = malloc(n + 1);
    if (!b) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            b[k++] = c;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < n) {
            b[k++] = (unsigned char)(((c & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        } else {
            free(b);
            return -1;
        }
    }
    int bad = 0;
    int rc = (r->kind == WB_AVRO_FIXED && k != r->size) || emit_blob(out, r, b, k, &bad) != WB_OK
                 ? -1
                 : 0;
    free(b);
    return rc;
}

static int render_default(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    int bad = 0, range = 0;
    if (depth > WB_AVRO_MAX_DEPTH) return -1;
    switch (r->kind) {
    case WB_AVRO_NULL:
        return json_is_null(def) ? (int)wb_buf_add(out, "null", 4) : -1;
    case WB_AVRO_BOOLEAN:
        return json_is_boolean(def) ? (int)wb_buf_adds(out, json_is_true(def) ? "true" : "false")
                                    : -1;
    case WB_AVRO_INT:
    case WB_AVRO_LONG:
        if (!json_is_integer(def)) return -1;
        return emit_integer(out, r, json_integer_value(def), &range) ? -1 : 0;
    case WB_AVRO_FLOAT:
    case WB_AVRO_DOUBLE:
        if (!json_is_number(def)) return -1;
        return emit_double(out, json_number_value(def), r->kind == WB_AVRO_FLOAT) ? -1 : 0;
    case WB_AVRO_STRING:
        if (!json_is_string(def)) return -1;
        return json_str(out, (const unsigned char *)json_string_value(def), json_string_length(def),
                        &bad)
                   ? -1
                   : 0;
    case WB_AVRO_BYTES:
    case WB_AVRO_FIXED:
        return render_blob_default(r, def, out);
    case WB_AVRO_ENUM: {
        const char *s = json_string_value(def);
        for (size_t i = 0; s && i < r->nsymbols; i++)
            if (!strcmp(r->symbols[i], s)) return wb_buf_printf(out, "\"%s\"", s) ? -1 : 0;
        return -1;
    }
    case WB_AVRO_ARRAY: {
        if (!json_is_array(def) || wb_buf_add(out, "[", 1)) return -1;
        for (size_t i = 0; i < json_array_size(def); i++)
            if ((i && wb_buf_add(out, ",", 1)) ||
                render_default(r->items, json_array_get(def, i), out, depth + 1))
                return -1;
        return wb_buf_add(out, "]", 1) ? -1 : 0;
    }
    case WB_AVRO_MAP: {
        const char *k;
        json_t *v;
        int first = 1;
        if (!json_is_object(def) || wb_buf_add(out, "{", 1)) return -1;
        json_object_foreach(def, k, v)
        {
            if ((!first && wb_buf_add(out, ",", 1)) ||
                json_str(out, (const unsigned char *)k, strlen(k), &bad) ||
                wb_buf_add(out, ":", 1) || render_default(r->items, v, out, depth + 1))
                return -1;
            first = 0;
        }
        return wb_buf_add(out, "}", 1) ? -1 : 0;
    }
    case WB_AVRO_RECORD: {
        if (!json_is_object(def) || wb_buf_add(out, "{", 1)) return -1;
        for (size_t i = 0; i < r->nfields; i++) {
            json_t *v = json_object_get(def, r->fields[i].name);
            if (!v) v = r->fields[i].def;
            if (!v || (i && wb_buf_add(out, ",", 1)) ||
                json_str(out, (const unsigned char *)r->fields[i].name, strlen(r->fields[i].name),
                         &bad) ||
                wb_buf_add(out, ":", 1) || render_default(r->fields[i].type, v, out, depth + 1))
                return -1;
        }
        return wb_buf_add(out, "}", 1) ? -1 : 0;
    }
    case WB_AVRO_UNION: {
        /* A union's default belongs to its first branch. */
        if (!r->nbranches) return -1;
        const wb_avro_type *b0 = r->branches[0];
        int nullable = r->nbranches == 2 && (r->branches[0]->kind == WB_AVRO_NULL ||
                                             r->branches[1]->kind == WB_AVRO_NULL);
        if (b0->kind == WB_AVRO_NULL || nullable) return render_default(b0, def, out, depth + 1);
        if (wb_buf_printf(out, "{\"%s\":", wb_avro_branch_name(b0)) ||
            render_default(b0, def, out, depth + 1))
            return -1;
        return wb_buf_add(out, "}", 1) ? -1 : 0;
    }
    }
    return -1;
}

/* ---------------------------------------------------------------- plan building */

static void free_pnode(pnode *n)
{
    free(n->wrap_key);
    free(n->symmap);
    free(n->wf);
    for (size_t i = 0; i < n->nouts; i++) {
        free(n->outs[i].key);
        free(n->outs[i].defjson);
    }
    free(n->outs);
    free(n->wb);
    free(n->err);
    free(n);
}

void wb_avro_plan_free(wb_avro_plan *plan)
{
    if (!plan) return;
    for (size_t i = 0; i < plan->n; i++)
        free_pnode(plan->all[i]);
    free(plan->all);
    free(plan);
}

static int set_err(pnode *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_err(pnode *n, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    free(n->err);
    n->err = wb_strdup(tmp);
    n->op = OP_ERROR;
    return n->err ? 0 : -1;
}

/* Child error under a field: "field 'a.b': ..." */
static int set_field_err(pnode *n, const char *field, const char *child_err)
{
    if (!strncmp(child_err, "field '", 7)) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "field '%s.%s", field, child_err + 7);
        return set_err(n, "%s", tmp);
    }
    return set_err(n, "field '%s': %s", field, child_err);
}

static char *dup_printf_key(const char *prefix, const char *name, const char *suffix)
{
    wb_buf b;
    int bad = 0;
    wb_buf_init(&b, 0);
    if (wb_buf_adds(&b, prefix) || json_str(&b, (const unsigned char *)name, strlen(name), &bad) ||
        wb_buf_adds(&b, suffix)) {
        wb_buf_free(&b);
        return NULL;
    }
    return wb_buf_steal(&b, NULL);
}

static pnode *build(wb_avro_plan *plan, const wb_avro_type *w, const wb_avro_type *r, int depth);

static int build_concrete(wb_avro_plan *plan, pnode *n, const wb_avro_type *w,
                          const wb_avro_type *r, int depth)
{
    char wd[160], rd[160];
    n->w = w;
    n->r = r;
    int ok = (w->kind == WB_AVRO_RECORD || w->kind == WB_AVRO_ENUM || w->kind == WB_AVRO_FIXED)
                 ? (w->kind == r->kind && wb_avro_names_match(w, r))
                 : wb_avro_promotable(w->kind, r->kind);
    /* A decimal reads only a decimal of the same scale (as compat.c checks). */
    if (ok && (w->logical == WB_AVRO_LT_DECIMAL) != (r->logical == WB_AVRO_LT_DECIMAL)) ok = 0;
    if (ok && w->logical == WB_AVRO_LT_DECIMAL && w->scale != r->scale) ok = 0;
    if (!ok) {
        wb_avro_type_describe(w, wd, sizeof(wd));
        wb_avro_type_describe(r, rd, sizeof(rd));
        return set_err(n, "writer type %s cannot be read as %s", wd, rd);
    }
    switch (w->kind) {
    case WB_AVRO_ENUM:
        n->op = OP_ENUM;
        if (!(n->symmap = calloc(w->nsymbols ? w->nsymbols : 1, sizeof(int)))) return -1;
        for (size_t i = 0; i < w->nsymbols; i++) {
            n->symmap[i] = r->enum_default;
            for (size_t j = 0; j < r->nsymbols; j++)
                if (!strcmp(w->symbols[i], r->symbols[j])) n->symmap[i] = (int)j;
        }
        return 0;
    case WB_AVRO_FIXED:
        n->op = OP_FIXED;
        if (w->size != r->size) {
            wb_avro_type_describe(w, wd, sizeof(wd));
            wb_avro_type_describe(r, rd, sizeof(rd));
            return set_err(n, "fixed size differs: writer %s, reader %s", wd, rd);
        }
        return 0;
    case WB_AVRO_ARRAY:
    case WB_AVRO_MAP:
        n->op = w->kind == WB_AVRO_ARRAY ? OP_ARRAY : OP_MAP;
        if (!(n->item = build(plan, w->items, r->items, depth + 1))) return -1;
        if (n->item->op == OP_ERROR)
            return set_err(n, "%s items: %s", w->kind == WB_AVRO_ARRAY ? "array" : "map",
                           n->item->err);
        return 0;
    case WB_AVRO_RECORD: {
        n->op = OP_RECORD;
        int rmap[WB_AVRO_MAX_FIELDS];
        if (!(n->wf = calloc(w->nfields ? w->nfields : 1, sizeof(pnode *))) ||
            !(n->outs = calloc(r->nfields ? r->nfields : 1, sizeof(pout))))
            return -1;
        for (size_t j = 0; j < w->nfields; j++)
            rmap[j] = wb_avro_field_lookup(r, w->fields[j].name);
        n->in_order = r->nfields <= w->nfields;
        for (size_t i = 0; i < r->nfields; i++) {
            pout *o = &n->outs[i];
            n->nouts++;
            o->widx = -1;
            for (size_t j = 0; j < w->nfields && o->widx < 0; j++)
                if (rmap[j] == (int)i) o->widx = (int)j;
            if (o->widx != (int)i) n->in_order = 0;
            if (!(o->key = dup_printf_key(i ? "," : "", r->fields[i].name, ":"))) return -1;
            o->keylen = strlen(o->key);
            if (o->widx >= 0) continue;
            if (!r->fields[i].def)
                return set_err(n,
                               "field '%s': missing from the writer and the reader has no default",
                               r->fields[i].name);
            wb_buf b;
            wb_buf_init(&b, 0);
            if (render_default(r->fields[i].type, r->fields[i].def, &b, 0)) {
                wb_buf_free(&b);
                return set_err(n, "field '%s': default does not match its type", r->fields[i].name);
            }
            o->defjson = wb_buf_steal(&b, NULL);
            if (!o->defjson) return -1;
        }
        for (size_t j = 0; j < w->nfields; j++) {
            if (rmap[j] < 0) continue;
            int seen = 0; /* two writer fields for one reader field: first wins */
            for (size_t i = 0; i < r->nfields; i++)
                seen |= n->outs[i].widx == (int)j;
            if (!seen) continue;
            n->wf[j] = build(plan, w->fields[j].type, r->fields[rmap[j]].type, depth + 1);
            if (!n->wf[j]) return -1;
            if (n->wf[j]->op == OP_ERROR)
                return set_field_err(n, r->fields[rmap[j]].name, n->wf[j]->err);
        }
        return 0;
    }
    default:
        n->op = OP_PRIM;
        return 0;
    }
}

static pnode *build(wb_avro_plan *plan, const wb_avro_type *w, const wb_avro_type *r, int depth)
{
    for (size_t i = 0; i < plan->n; i++)
        if (plan->all[i]->kw == w && plan->all[i]->kr == r) return plan->all[i];
    if (plan->n == plan->cap) {
        size_t ncap = plan->cap ? plan->cap * 2 : 32;
        pnode **a = realloc(plan->all, ncap * sizeof(*a));
        if (!a) return NULL;
        plan->all = a;
        plan->cap = ncap;
    }
    pnode *n = calloc(1, sizeof(*n));
    if (!n) return NULL;
    plan->all[plan->n++] = n;
    n->kw = w;
    n->kr = r;
    n->w = w;
    n->r = r;
    if (depth > WB_AVRO_MAX_DEPTH) return set_err(n, "schema nested too deeply") ? NULL : n;
    if (w->kind == WB_AVRO_UNION) {
        n->op = OP_WUNION;
        if (!(n->wb = calloc(w->nbranches ? w->nbranches : 1, sizeof(pnode *)))) return NULL;
        size_t good = 0;
        for (size_t i = 0; i < w->nbranches; i++) {
            if (!(n->wb[i] = build(plan, w->branches[i], r, depth + 1))) return NULL;
            good += n->wb[i]->op != OP_ERROR;
        }
        if (!good && w->nbranches) {
            char wd[160], rd[160];
            wb_avro_type_describe(w, wd, sizeof(wd));
            wb_avro_type_describe(r, rd, sizeof(rd));
            if (set_err(n, "no branch of writer %s can be read as %s", wd, rd)) return NULL;
        }
        return n;
    }
    if (r->kind == WB_AVRO_UNION) {
        int pick = wb_avro_union_pick(r, w);
        if (pick < 0) {
            char wd[160], rd[160];
            wb_avro_type_describe(w, wd, sizeof(wd));
            wb_avro_type_describe(r, rd, sizeof(rd));
            return set_err(n, "writer type %s matches no branch of reader %s", wd, rd) ? NULL : n;
        }
        int nullable = r->nbranches == 2 && (r->branches[0]->kind == WB_AVRO_NULL ||
                                             r->branches[1]->kind == WB_AVRO_NULL);
        n->wrap = nullable ? 1 : 2;
        if (n->wrap == 2 &&
            !(n->wrap_key = dup_printf_key("{", wb_avro_branch_name(r->branches[pick]), ":")))
            return NULL;
        return build_concrete(plan, n, w, r->branches[pick], depth) ? NULL : n;
    }
    return build_concrete(plan, n, w, r, depth) ? NULL : n;
}

wb_avro_plan *wb_avro_plan_new(const wb_avro_schema *writer, const wb_avro_schema *reader,
                               char *errstr, size_t errstr_size)
{
    wb_avro_plan *plan = calloc(1, sizeof(*plan));
    if (!plan) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    const wb_avro_type *w = wb_avro_schema_root(writer);
    plan->root = build(plan, w, reader ? wb_avro_schema_root(reader) : w, 0);
    if (!plan->root) {
        snprintf(errstr, errstr_size, "out of memory");
        wb_avro_plan_free(plan);
        return NULL;
    }
    if (plan->root->op == OP_ERROR) {
        snprintf(errstr, errstr_size, "%s", plan->root->err);
        wb_avro_plan_free(plan);
        return NULL;
    }
    return plan;
}

/* ---------------------------------------------------------------- decoding */

typedef struct cursor {
    const unsigned char *p, *end;
    long budget; /* array/map items left: bounds work on hostile block counts */
    int depth;
    wb_buf *out;
    char *reason;
    size_t reason_size;
} cursor;

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

static wb_err emit_concrete(cursor *c, const pnode *n)
{
    const wb_avro_type *w = n->w, *r = n->r;
    wb_buf *out = c->out;
    int64_t v = 0;
    const unsigned char *p = NULL;
    size_t len;
    wb_err err;
    int bad = 0;
    switch (n->op) {
    case OP_ENUM:
        if ((err = read_int(c, &v))) return err;
        if (v < 0 || (uint64_t)v >= w->nsymbols) return fail(c, "enum index out of range");
        if (n->symmap[v] < 0)
            return fail(c, "enum symbol '%s' is unknown to the reader and it has no default",
                        w->symbols[v]);
        {
            /* Avro names need no JSON escaping. */
            const char *sym = r->symbols[n->symmap[v]];
            if ((err = wb_buf_add(out, "\"", 1)) || (err = wb_buf_adds(out, sym))) return err;
            return wb_buf_add(out, "\"", 1);
        }
    case OP_FIXED:
        if ((err = take(c, w->size, &p))) return err;
        err = emit_blob(out, r, p, w->size, &bad);
        return bad ? fail(c, "decimal too long") : err;
    case OP_ARRAY:
    case OP_MAP: {
        int first = 1;
        if ((err = wb_buf_add(out, n->op == OP_ARRAY ? "[" : "{", 1))) return err;
        for (;;) {
            int64_t count;
            if ((err = block_count(c, &count))) return err;
            if (!count) break;
            for (int64_t i = 0; i < count; i++) {
                if (!first && (err = wb_buf_add(out, ",", 1))) return err;
                first = 0;
                if (n->op == OP_MAP) {
                    if ((err = read_blob(c, &p, &len))) return err;
                    if ((err = json_str(out, p, len, &bad)))
                        return bad ? fail(c, "map key is not valid UTF-8") : err;
                    if ((err = wb_buf_add(out, ":", 1))) return err;
                }
                if ((err = emit(c, n->item))) return err;
            }
        }
        return wb_buf_add(out, n->op == OP_ARRAY ? "]" : "}", 1);
    }
    case OP_RECORD: {
        if ((err = wb_buf_add(out, "{", 1))) return err;
        if (n->in_order) {
            for (size_t i = 0; i < n->nouts; i++)
                if ((err = wb_buf_add(out, n->outs[i].key, n->outs[i].keylen)) ||
                    (err = emit(c, n->wf[i])))
                    return err;
            for (size_t j = n->nouts; j < w->nfields; j++) /* fields the reader drops */
                if ((err = skip(c, w->fields[j].type))) return err;
            return wb_buf_add(out, "}", 1);
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
            if ((err = wb_buf_add(out, o->key, o->keylen))) return err;
            if (o->widx < 0) {
                err = wb_buf_adds(out, o->defjson);
            } else {
                c->p = start[o->widx];
                err = emit(c, n->wf[o->widx]);
            }
            if (err) return err;
        }
        c->p = end;
        return wb_buf_add(out, "}", 1);
    }
    default:
        break;
    }
    /* Primitives: read by the writer's kind, write by the reader's. */
    switch (w->kind) {
    case WB_AVRO_NULL:
        return wb_buf_add(out, "null", 4);
    case WB_AVRO_BOOLEAN:
        if ((err = take(c, 1, &p))) return err;
        if (*p > 1) return fail(c, "boolean byte is not 0 or 1");
        return wb_buf_adds(out, *p ? "true" : "false");
    case WB_AVRO_INT:
    case WB_AVRO_LONG:
        if ((err = w->kind == WB_AVRO_INT ? read_int(c, &v) : read_long(c, &v))) return err;
        err = emit_integer(out, r, v, &bad);
        return bad ? fail(c, "timestamp or date out of range") : err;
    case WB_AVRO_FLOAT: {
        float f;
        uint32_t u;
        if ((err = take(c, 4, &p))) return err;
        u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        memcpy(&f, &u, 4);
        return emit_double(out, f, r->kind == WB_AVRO_FLOAT);
    }
    case WB_AVRO_DOUBLE: {
        double d;
        uint64_t u = 0;
        if ((err = take(c, 8, &p))) return err;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | p[i];
        memcpy(&d, &u, 8);
        return emit_double(out, d, 0);
    }
    case WB_AVRO_BYTES:
    case WB_AVRO_STRING:
        if ((err = read_blob(c, &p, &len))) return err;
        err = emit_blob(out, r, p, len, &bad);
        if (bad == 1) return fail(c, "string is not valid UTF-8");
        return bad ? fail(c, "decimal too long") : err;
    default:
        return fail(c, "unexpected type");
    }
}

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

wb_err wb_avro_plan_to_json(const wb_avro_plan *plan, const void *data, size_t len, wb_buf *out,
                            char *reason, size_t reason_size)
{
    size_t mark = out->len;
    cursor c = {data,       (const unsigned char *)data + len, 1024 + 8 * (long)len, 0, out, reason,
                reason_size};
    if (reason && reason_size) reason[0] = 0;
    wb_err err = emit(&c, plan->root);
    if (!err && c.p != c.end) err = fail(&c, "%s", "trailing bytes after the Avro datum");
    if (err) {
        if (err != WB_ERR_SCHEMA && reason && reason_size && !reason[0])
            snprintf(reason, reason_size, "JSON output: %s", wb_err_str(err));
        out->len = mark;
        if (out->data) out->data[mark] = 0;
    }
    return err;
}
