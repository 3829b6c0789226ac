/* jscan.c - one-pass JSON validator with JSON-pointer lookups (see jscan.h).
 *
 * Recursive descent; each level carries the bit set of targets whose pointer still matches
 * the path walked so far, so a lookup costs one key compare per member on that path. */
#include "core/jscan.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_TARGETS 32

typedef struct ptr {
    char buf[256]; /* unescaped tokens, NUL separated */
    const char *tok[WB_JSCAN_MAX_TOKENS];
    size_t len[WB_JSCAN_MAX_TOKENS];
    int ntok; /* -1: not a usable pointer */
} ptr;

typedef struct scan {
    const char *p, *end;
    int line;
    const char *err;
    wb_jscan_target *t;
    ptr ptrs[MAX_TARGETS];
    size_t nt;
} scan;

static int fail(scan *s, const char *why)
{
    if (!s->err) s->err = why;
    return -1;
}

/* ---------------------------------------------------------------------------------- */
/* Pointers                                                                           */

static void ptr_init(ptr *pt, const char *pointer)
{
    pt->ntok = -1;
    if (!pointer || (*pointer && *pointer != '/')) return;
    size_t o = 0;
    int n = 0;
    const char *q = pointer;
    while (*q) {
        q++; /* '/' */
        if (n == WB_JSCAN_MAX_TOKENS) return;
        pt->tok[n] = pt->buf + o;
        size_t start = o;
        while (*q && *q != '/') {
            char c = *q++;
            if (c == '~') {
                if (*q == '0')
                    c = '~';
                else if (*q == '1')
                    c = '/';
                else
                    return;
                q++;
            }
            if (o + 2 >= sizeof(pt->buf)) return;
            pt->buf[o++] = c;
        }
        pt->len[n] = o - start;
        pt->buf[o++] = 0;
        n++;
    }
    pt->ntok = n;
}

/* ---------------------------------------------------------------------------------- */
/* Lexing                                                                             */

static void skip_ws(scan *s)
{
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '\n')
            s->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        s->p++;
    }
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Append code point cp as UTF-8 to out (bounded; silently truncates). */
static void put_utf8(char *out, size_t cap, size_t *n, unsigned cp)
{
    unsigned char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*n + k < cap) {
        memcpy(out + *n, b, k);
        *n += k;
    }
}

/* Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t k;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

/* A string at s->p (on the opening quote). When out is non-NULL, its unescaped value is
 * written there (truncated to cap-1) and *outlen set. */
static int string(scan *s, char *out, size_t cap, size_t *outlen)
{
    size_t n = 0;
    s->p++; /* '"' */
    for (;;) {
        if (s->p >= s->end) return fail(s, "unterminated string");
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c < 0x20) return fail(s, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2) return fail(s, "unterminated string");
            char e = s->p[1];
            s->p += 2;
            unsigned cp;
            switch (e) {
            case '"':
                cp = '"';
                break;
            case '\\':
                cp = '\\';
                break;
            case '/':
                cp = '/';
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u':
                if (s->end - s->p < 4 || hex4(s->p, &cp)) return fail(s, "invalid \\u escape");
                s->p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(s, "unpaired surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
                        hex4(s->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(s, "unpaired surrogate in \\u escape");
                    s->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                break;
            default:
                return fail(s, "invalid escape in a string");
            }
            if (out) put_utf8(out, cap, &n, cp);
            continue;
        }
        size_t k = 1;
        if (c >= 0x80) {
            k = utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
            if (!k) return fail(s, "invalid UTF-8");
        }
        if (out && n + k < cap) {
            memcpy(out + n, s->p, k);
            n += k;
        }
        s->p += k;
    }
    if (out) {
        out[n] = 0;
        *outlen = n;
    }
    return 0;
}

/* A number; *integer set when it has neither fraction nor exponent. */
static int number(scan *s, int *integer)
{
    const char *p = s->p;
    *integer = 1;
    if (p < s->end && *p == '-') p++;
    if (p >= s->end) return fail(s, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(s, "invalid number");
    }
    if (p < s->end && *p == '.') {
        *integer = 0;
        p++;
        if (p >= s->end || *p < '0' || *p > '9') return fail(s, "invalid number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        *integer = 0;
        p++;
        if (p < s->end && (*p == '+' || *p == '-')) p++;
        if (p >= s->end || *p < '0' || *p > '9') return fail(s, "invalid number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int literal(scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n)) return fail(s, "invalid literal");
    s->p += n;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Values                                                                             */

static int value(scan *s, int depth, uint32_t on);

/* Targets of `on` whose pointer ends at this depth get the value now starting at s->p. */
static void capture(scan *s, int depth, uint32_t on, const char *start, wb_jscan_kind kind)
{
    for (size_t i = 0; on && i < s->nt; i++) {
        if (!(on >> i & 1) || s->ptrs[i].ntok != depth) continue;
        wb_jscan_target *t = &s->t[i];
        t->kind = kind;
        t->value[0] = 0;
        if (kind == WB_JSCAN_STRING) {
            /* Only the cursor fields: an initializer would zero the whole struct, its 32
             * pointer buffers (16 KiB) included, once per captured value. */
            scan sub;
            sub.p = start;
            sub.end = s->end;
            sub.line = 0;
            sub.err = NULL;
            size_t n;
            string(&sub, t->value, sizeof(t->value), &n);
        } else if (kind == WB_JSCAN_INTEGER) {
            size_t n = (size_t)(s->p - start);
            if (n >= sizeof(t->value)) n = sizeof(t->value) - 1;
            memcpy(t->value, start, n);
            t->value[n] = 0;
        }
    }
}

/* Bit set of targets in `on` whose token at `depth` equals name[0..n). */
static uint32_t follow(scan *s, int depth, uint32_t on, const char *name, size_t n)
{
    uint32_t next = 0;
    for (size_t i = 0; on && i < s->nt; i++) {
        const ptr *pt = &s->ptrs[i];
        if ((on >> i & 1) && pt->ntok > depth && pt->len[depth] == n &&
            !memcmp(pt->tok[depth], name, n))
            next |= 1u << i;
    }
    return next;
}

/* After a member or element: 1 when a ',' announces another, 0 at the closing bracket,
 * -1 (with why) otherwise. */
static int separator(scan *s, char close, const char *why)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == ',') {
        s->p++;
        skip_ws(s);
        return 1;
    }
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    return fail(s, why);
}

static int object(scan *s, int depth, uint32_t on)
{
    s->p++; /* '{' */
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p >= s->end || *s->p != '"') return fail(s, "expected a member name");
        char name[256];
        size_t n = 0;
        uint32_t next = 0;
        if (on) {
            const char *a = s->p + 1, *q = a;
            /* plain names compare in place; escaped ones are unescaped first */
            while (q < s->end && *q != '"' && *q != '\\')
                q++;
            if (q < s->end && *q == '"') {
                if (string(s, NULL, 0, NULL)) return -1;
                next = follow(s, depth, on, a, (size_t)(q - a));
            } else {
                if (string(s, name, sizeof(name), &n)) return -1;
                next = n < sizeof(name) - 1 ? follow(s, depth, on, name, n) : 0;
            }
        } else if (string(s, NULL, 0, NULL)) {
            return -1;
        }
        /* A repeated member name replaces the earlier value (last wins, as in jansson):
         * forget what the earlier one's subtree matched. */
        for (size_t i = 0; next && i < s->nt; i++)
            if (next >> i & 1) {
                s->t[i].kind = WB_JSCAN_NONE;
                s->t[i].value[0] = 0;
            }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return fail(s, "expected ':'");
        s->p++;
        skip_ws(s);
        if (value(s, depth + 1, next)) return -1;
        int more = separator(s, '}', "expected ',' or '}'");
        if (more <= 0) return more;
    }
}

static int array(scan *s, int depth, uint32_t on)
{
    s->p++; /* '[' */
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (unsigned long idx = 0;; idx++) {
        uint32_t next = 0;
        if (on) {
            char num[24];
            int n = snprintf(num, sizeof(num), "%lu", idx);
            next = follow(s, depth, on, num, (size_t)n);
        }
        if (value(s, depth + 1, next)) return -1;
        int more = separator(s, ']', "expected ',' or ']'");
        if (more <= 0) return more;
    }
}

static int value(scan *s, int depth, uint32_t on)
{
    if (depth > WB_JSCAN_MAX_DEPTH) return fail(s, "nested too deeply");
    if (s->p >= s->end) return fail(s, "unexpected end of input");
    const char *start = s->p;
    int integer;
    switch (*s->p) {
    case '{':
        if (object(s, depth, on)) return -1;
        capture(s, depth, on, start, WB_JSCAN_OTHER);
        return 0;
    case '[':
        if (array(s, depth, on)) return -1;
        capture(s, depth, on, start, WB_JSCAN_OTHER);
        return 0;
    case '"':
        if (string(s, NULL, 0, NULL)) return -1;
        capture(s, depth, on, start, WB_JSCAN_STRING);
        return 0;
    case 't':
        if (literal(s, "true")) return -1;
        break;
    case 'f':
        if (literal(s, "false")) return -1;
        break;
    case 'n':
        if (literal(s, "null")) return -1;
        break;
    default:
        if (number(s, &integer)) return -1;
        capture(s, depth, on, start, integer ? WB_JSCAN_INTEGER : WB_JSCAN_OTHER);
        return 0;
    }
    capture(s, depth, on, start, WB_JSCAN_OTHER);
    return 0;
}

int wb_jscan(const char *text, size_t len, wb_jscan_target *targets, size_t ntargets, char *err,
             size_t err_size, int *line)
{
    scan s;
    s.p = text;
    s.end = text + len;
    s.line = 1;
    s.err = NULL;
    s.t = targets;
    s.nt = ntargets < MAX_TARGETS ? ntargets : MAX_TARGETS;
    uint32_t on = 0;
    for (size_t i = 0; i < s.nt; i++) {
        targets[i].kind = WB_JSCAN_NONE;
        targets[i].value[0] = 0;
        ptr_init(&s.ptrs[i], targets[i].pointer);
        if (s.ptrs[i].ntok >= 0) on |= 1u << i;
    }
    skip_ws(&s);
    int rc = value(&s, 0, on);
    if (!rc) {
        skip_ws(&s);
        if (s.p != s.end) rc = fail(&s, "trailing characters after the JSON value");
    }
    if (rc) {
        if (err && err_size) snprintf(err, err_size, "%s", s.err ? s.err : "invalid JSON");
        if (line) *line = s.line;
        for (size_t i = 0; i < s.nt; i++)
            targets[i].kind = WB_JSCAN_NONE;
        return -1;
    }
    return 0;
}
