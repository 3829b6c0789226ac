/* prom_check.h - a small checker of the Prometheus text exposition format 0.0.4 (tests).
 *
 * prom_check(text, why, whysize) returns the number of samples, or -1 with a reason naming
 * the offending line. It checks every line: "# HELP name text", "# TYPE name type" (once per
 * family, before its samples), blank lines, or "name{label="value",...} value [timestamp]";
 * names and label names are valid, label values use only \\ \" \n escapes, values parse as
 * floats (or +Inf/-Inf/NaN), a family's samples are contiguous, and for histograms the
 * buckets are cumulative, end with le="+Inf", and _count equals the +Inf bucket. */
#ifndef WB_PROM_CHECK_H
#define WB_PROM_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_FAMILIES 256

typedef struct prom_family {
    char name[128];
    char type[16];
    int help, typed, had_samples, closed;
} prom_family;

static int prom_name_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return 1;
    return !first && c >= '0' && c <= '9';
}

static prom_family *prom_fam(prom_family *f, int *n, const char *name, size_t len)
{
    for (int i = 0; i < *n; i++)
        if (strlen(f[i].name) == len && !strncmp(f[i].name, name, len)) return &f[i];
    if (*n >= PROM_MAX_FAMILIES || len >= sizeof f[0].name) return NULL;
    prom_family *nf = &f[(*n)++];
    memset(nf, 0, sizeof *nf);
    memcpy(nf->name, name, len);
    return nf;
}

static int prom_value(const char *s, double *out)
{
    if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN")) {
        *out = s[0] == '-' ? -1e308 : 1e308;
        return 0;
    }
    char *end;
    *out = strtod(s, &end);
    return (end == s || *end) ? -1 : 0;
}

static int prom_check(const char *text, char *why, size_t whysize)
{
    static prom_family fams[PROM_MAX_FAMILIES];
    int nfam = 0, samples = 0, lineno = 0;
    prom_family *cur = NULL;
    double last_bucket = -1, inf_bucket = -1;
    char line[4096];
    const char *p = text;
    if (*p && text[strlen(text) - 1] != '\n') {
        snprintf(why, whysize, "text does not end with a newline");
        return -1;
    }
#define PROM_BAD(msg)                                                                              \
    do {                                                                                           \
        snprintf(why, whysize, "line %d: %s: %.200s", lineno, msg, line);                          \
        return -1;                                                                                 \
    } while (0)
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p);
        lineno++;
        if (len >= sizeof line) {
            snprintf(why, whysize, "line %d too long", lineno);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p = nl + 1;
        if (!len) continue;
        if (line[0] == '#') {
            int is_help = !strncmp(line, "# HELP ", 7), is_type = !strncmp(line, "# TYPE ", 7);
            if (!is_help && !is_type) continue; /* plain comment */
            const char *n0 = line + 7, *q = n0;
            if (!prom_name_char(*q, 1)) PROM_BAD("bad metric name");
            while (prom_name_char(*q, 0))
                q++;
            if (*q != ' ' && !(is_help && !*q)) PROM_BAD("expected a space after the name");
            prom_family *f = prom_fam(fams, &nfam, n0, (size_t)(q - n0));
            if (!f) PROM_BAD("too many families");
            if (f->had_samples) PROM_BAD("HELP/TYPE after the family's samples");
            if (is_help) {
                if (f->help++) PROM_BAD("second HELP");
                for (const char *e = q; *e; e++)
                    if (*e == '\\') {
                        if (e[1] != '\\' && e[1] != 'n') PROM_BAD("bad escape in HELP");
                        e++;
                    }
            } else {
                if (f->typed++) PROM_BAD("second TYPE");
                q++;
                if (strcmp(q, "counter") && strcmp(q, "gauge") && strcmp(q, "histogram") &&
                    strcmp(q, "summary") && strcmp(q, "untyped"))
                    PROM_BAD("unknown type");
                snprintf(f->type, sizeof f->type, "%s", q);
            }
            continue;
        }
        /* sample */
        const char *q = line;
        if (!prom_name_char(*q, 1)) PROM_BAD("bad metric name");
        while (prom_name_char(*q, 0))
            q++;
        size_t nlen = (size_t)(q - line);
        int is_bucket = 0, is_count = 0, has_inf = 0;
        /* The family of a histogram sample is the name without its suffix. */
        prom_family *f = NULL;
        static const char *suffixes[] = {"_bucket", "_sum", "_count"};
        for (int i = 0; i < 3 && !f; i++) {
            size_t sl = strlen(suffixes[i]);
            if (nlen > sl && !strncmp(line + nlen - sl, suffixes[i], sl)) {
                for (int k = 0; k < nfam; k++)
                    if (strlen(fams[k].name) == nlen - sl &&
                        !strncmp(fams[k].name, line, nlen - sl) &&
                        !strcmp(fams[k].type, "histogram")) {
                        f = &fams[k];
                        is_bucket = i == 0;
                        is_count = i == 2;
                    }
            }
        }
        if (!f) f = prom_fam(fams, &nfam, line, nlen);
        if (!f) PROM_BAD("too many families");
        if (!strcmp(f->type, "histogram") && !is_bucket && !is_count &&
            (nlen < 4 || strncmp(line + nlen - 4, "_sum", 4)))
            PROM_BAD("histogram sample without _bucket/_sum/_count");
        if (f->closed) PROM_BAD("family samples not contiguous");
        if (cur && cur != f) cur->closed = 1;
        cur = f;
        f->had_samples = 1;
        if (*q == '{') {
            q++;
            while (*q != '}') {
                const char *l0 = q;
                if (!prom_name_char(*q, 1)) PROM_BAD("bad label name");
                while (prom_name_char(*q, 0))
                    q++;
                int is_le = (q - l0 == 2 && !strncmp(l0, "le", 2));
                if (*q++ != '=' || *q++ != '"') PROM_BAD("expected =\"");
                const char *v0 = q;
                while (*q != '"') {
                    if (!*q) PROM_BAD("unterminated label value");
                    if (*q == '\\') {
                        q++;
                        if (*q != '\\' && *q != '"' && *q != 'n')
                            PROM_BAD("bad escape in label value");
                    }
                    q++;
                }
                if (is_le && q - v0 == 4 && !strncmp(v0, "+Inf", 4)) has_inf = 1;
                q++;
                if (*q == ',')
                    q++;
                else if (*q != '}')
                    PROM_BAD("expected , or }");
            }
            q++;
        }
        if (*q++ != ' ') PROM_BAD("expected a space before the value");
        char val[64];
        const char *sp = strchr(q, ' ');
        size_t vlen = sp ? (size_t)(sp - q) : strlen(q);
        if (!vlen || vlen >= sizeof val) PROM_BAD("bad value");
        memcpy(val, q, vlen);
        val[vlen] = 0;
        double v;
        if (prom_value(val, &v)) PROM_BAD("value is not a float");
        if (sp) {
            char *end;
            strtoll(sp + 1, &end, 10);
            if (end == sp + 1 || *end) PROM_BAD("bad timestamp");
        }
        if (is_bucket) {
            if (v < last_bucket) PROM_BAD("buckets not cumulative");
            last_bucket = has_inf ? -1 : v;
            if (has_inf) inf_bucket = v;
        } else if (is_count) {
            if (inf_bucket < 0) PROM_BAD("_count without a preceding le=\"+Inf\" bucket");
            if (v != inf_bucket) PROM_BAD("_count differs from the +Inf bucket");
            inf_bucket = -1;
        }
        samples++;
    }
#undef PROM_BAD
    return samples;
}

#endif
