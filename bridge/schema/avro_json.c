/* avro_json.c - JSON text for Avro values: strings, numbers, logical types, blobs and reader
 * defaults (see avro_json.h). Timestamps and dates go through core/timefmt, the bridge's one
 * RFC 3339 formatter. */
#include "schema/avro_json.h"
#include "schema/avro_int.h"
#include "core/timefmt.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- strings */

/* Length of the valid UTF-8 sequence whose lead byte (>= 0x80) is s[i], or 0. */
static size_t utf8_len(const unsigned char *s, size_t i, size_t n)
{
    unsigned char ch = s[i];
    size_t len = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
    if (!len || ch > 0xf4 || i + len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[i + k] & 0xc0) != 0x80) return 0;
    /* RFC 3629: the second byte's range rules out overlong forms and surrogates */
    if ((ch == 0xe0 && s[i + 1] < 0xa0) || (ch == 0xed && s[i + 1] > 0x9f) ||
        (ch == 0xf0 && s[i + 1] < 0x90) || (ch == 0xf4 && s[i + 1] > 0x8f))
        return 0;
    return len;
}

/* The JSON escape of an ASCII byte that needs one ('"', '\\', a control) into esc; its
 * length. The short forms where JSON has them, else \u00XX. */
static size_t escape_ascii(unsigned char ch, char esc[6])
{
    static const char hex[] = "0123456789abcdef", from[] = "\"\\\n\r\t\b\f", to[] = "\"\\nrtbf";
    esc[0] = '\\';
    for (size_t k = 0; k < sizeof(from) - 1; k++)
        if (ch == (unsigned char)from[k]) {
            esc[1] = to[k];
            return 2;
        }
    esc[1] = 'u';
    esc[2] = '0';
    esc[3] = '0';
    esc[4] = hex[ch >> 4];
    esc[5] = hex[ch & 15];
    return 6;
}

/* Any thread. */
wb_err wb_avro_json_string(wb_buf *out, const unsigned char *s, size_t n, int *bad_utf8)
{
    wb_err err = wb_buf_add(out, "\"", 1);
    size_t run = 0, i = 0; /* s[run..i) is plain ASCII not yet copied */
    while (!err && i < n) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x80) {
            i++;
            continue;
        }
        if (i > run && (err = wb_buf_add(out, s + run, i - run))) break;
        if (ch >= 0x80) {
            size_t len = utf8_len(s, i, n);
            if (!len) {
                *bad_utf8 = 1;
                return WB_ERR_SCHEMA;
            }
            err = wb_buf_add(out, s + i, len);
            i += len;
        } else {
            char esc[6];
            err = wb_buf_add(out, esc, escape_ascii(ch, esc));
            i++;
        }
        run = i;
    }
    if (!err && i > run) err = wb_buf_add(out, s + run, i - run);
    if (!err) err = wb_buf_add(out, "\"", 1);
    return err;
}

static wb_err json_base64(wb_buf *out, const unsigned char *p, size_t n)
{
    char chunk[65]; /* 48 bytes -> 64 characters and the NUL */
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

/* ---------------------------------------------------------------- numbers */

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

static int is_time(wb_avro_logical lt)
{
    return lt == WB_AVRO_LT_TS_MILLIS || lt == WB_AVRO_LT_TS_MICROS || lt == WB_AVRO_LT_DATE;
}

/* Any thread. */
wb_err wb_avro_json_integer(wb_buf *out, const wb_avro_type *r, int64_t v, int *range)
{
    if (r->kind == WB_AVRO_FLOAT || r->kind == WB_AVRO_DOUBLE)
        return wb_buf_printf(out, "%.17g", (double)v);
    if (!is_time(r->logical)) return put_i64(out, v);
    /* RFC 3339 has four-digit years: what it cannot write is refused, not mangled */
    if (!wb_avro_time_in_range(v, r->logical)) {
        *range = 1;
        return WB_ERR_SCHEMA;
    }
    char tmp[WB_TIME_BUF + 2];
    size_t n = r->logical == WB_AVRO_LT_DATE        ? wb_time_format_date(v, tmp + 1, WB_TIME_BUF)
               : r->logical == WB_AVRO_LT_TS_MICROS ? wb_time_format_us(v, tmp + 1, WB_TIME_BUF)
                                                    : wb_time_format_ms(v, tmp + 1, WB_TIME_BUF);
    tmp[0] = '"';
    tmp[n + 1] = '"';
    return wb_buf_add(out, tmp, n + 2);
}

/* Any thread. */
wb_err wb_avro_json_double(wb_buf *out, double d, int is_float)
{
    if (!isfinite(d)) return wb_buf_add(out, "null", 4); /* JSON has no NaN / Infinity */
    return wb_buf_printf(out, is_float ? "%.9g" : "%.17g", d);
}

/* Any thread. */
wb_err wb_avro_json_blob(wb_buf *out, const wb_avro_type *r, const unsigned char *p, size_t n,
                         int *bad)
{
    if (r->kind == WB_AVRO_STRING) return wb_avro_json_string(out, p, n, bad);
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

/* ---------------------------------------------------------------- reader defaults */

static int render(const wb_avro_type *r, json_t *def, wb_buf *out, int depth);

static int render_blob(const wb_avro_type *r, json_t *def, wb_buf *out)
{
    size_t k;
    unsigned char *b = wb_avro_default_bytes(def, &k);
    if (!b) return -1;
    int bad = 0;
    int rc =
        (r->kind == WB_AVRO_FIXED && k != r->size) || wb_avro_json_blob(out, r, b, k, &bad) != WB_OK
            ? -1
            : 0;
    free(b);
    return rc;
}

/* A JSON string (a map key or field name) as a JSON string: 0 or -1. */
static int render_key(const char *s, wb_buf *out)
{
    int bad = 0;
    return wb_avro_json_string(out, (const unsigned char *)s, strlen(s), &bad) ? -1 : 0;
}

static int render_array(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    if (!json_is_array(def) || wb_buf_add(out, "[", 1)) return -1;
    for (size_t i = 0; i < json_array_size(def); i++)
        if ((i && wb_buf_add(out, ",", 1)) ||
            render(r->items, json_array_get(def, i), out, depth + 1))
            return -1;
    return wb_buf_add(out, "]", 1) ? -1 : 0;
}

static int render_map(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    const char *k;
    json_t *v;
    int first = 1;
    if (!json_is_object(def) || wb_buf_add(out, "{", 1)) return -1;
    json_object_foreach(def, k, v)
    {
        if ((!first && wb_buf_add(out, ",", 1)) || render_key(k, out) || wb_buf_add(out, ":", 1) ||
            render(r->items, v, out, depth + 1))
            return -1;
        first = 0;
    }
    return wb_buf_add(out, "}", 1) ? -1 : 0;
}

/* A record default: every field in schema order, a field the default omits takes its own. */
static int render_record(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    if (!json_is_object(def) || wb_buf_add(out, "{", 1)) return -1;
    for (size_t i = 0; i < r->nfields; i++) {
        json_t *v = json_object_get(def, r->fields[i].name);
        if (!v) v = r->fields[i].def;
        if (!v || (i && wb_buf_add(out, ",", 1)) || render_key(r->fields[i].name, out) ||
            wb_buf_add(out, ":", 1) || render(r->fields[i].type, v, out, depth + 1))
            return -1;
    }
    return wb_buf_add(out, "}", 1) ? -1 : 0;
}

/* A union's default belongs to its first branch (Avro specification), wrapped as decoded
 * union values are: plain when nullable, else {"branch": value}. */
static int render_union(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    if (!r->nbranches) return -1;
    const wb_avro_type *b0 = r->branches[0];
    if (b0->kind == WB_AVRO_NULL || wb_avro_is_nullable(r)) return render(b0, def, out, depth + 1);
    if (wb_buf_printf(out, "{\"%s\":", wb_avro_branch_name(b0)) || render(b0, def, out, depth + 1))
        return -1;
    return wb_buf_add(out, "}", 1) ? -1 : 0;
}

static int render(const wb_avro_type *r, json_t *def, wb_buf *out, int depth)
{
    int range = 0;
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
        return wb_avro_json_integer(out, r, json_integer_value(def), &range) ? -1 : 0;
    case WB_AVRO_FLOAT:
    case WB_AVRO_DOUBLE:
        if (!json_is_number(def)) return -1;
        return wb_avro_json_double(out, json_number_value(def), r->kind == WB_AVRO_FLOAT) ? -1 : 0;
    case WB_AVRO_STRING: {
        int bad = 0;
        if (!json_is_string(def)) return -1;
        return wb_avro_json_string(out, (const unsigned char *)json_string_value(def),
                                   json_string_length(def), &bad)
                   ? -1
                   : 0;
    }
    case WB_AVRO_BYTES:
    case WB_AVRO_FIXED:
        return render_blob(r, def, out);
    case WB_AVRO_ENUM: {
        const char *s = json_string_value(def);
        for (size_t i = 0; s && i < r->nsymbols; i++)
            if (!strcmp(r->symbols[i], s)) return wb_buf_printf(out, "\"%s\"", s) ? -1 : 0;
        return -1;
    }
    case WB_AVRO_ARRAY:
        return render_array(r, def, out, depth);
    case WB_AVRO_MAP:
        return render_map(r, def, out, depth);
    case WB_AVRO_RECORD:
        return render_record(r, def, out, depth);
    case WB_AVRO_UNION:
        return render_union(r, def, out, depth);
    }
    return -1;
}

/* Any thread; called once per reader field default when a plan is built. */
int wb_avro_json_default(const wb_avro_type *r, json_t *def, wb_buf *out)
{
    return render(r, def, out, 0);
}
