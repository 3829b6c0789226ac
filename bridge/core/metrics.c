/* metrics.c - Prometheus metrics registry and text exposition (format 0.0.4).
 *
 * Layout: a list (<sys/queue.h> STAILQ) of families in registration order, each holding a list
 * of series in registration order. Registration, lookup, render and reset take `reg_lock`;
 * updates touch only the series' atomics (no lock, no allocation).
 *
 * @locks reg_lock guards the family/series lists (never the values).
 * @locality any thread. */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/log.h"
#include "core/util.h"

/* ------------------------------------------------------------------ types */

typedef enum mtype { MT_COUNTER = 0, MT_GAUGE, MT_HISTOGRAM } mtype;

struct wb_counter {
    _Atomic uint64_t v;
};

/* A double kept as its IEEE-754 bit pattern so that plain atomics work. */
struct wb_gauge {
    _Atomic uint64_t bits;
};

struct wb_histogram {
    size_t n;                  /* finite upper bounds */
    double *bounds;            /* n ascending bounds */
    _Atomic uint64_t *counts;  /* n+1 per-bucket (non cumulative) counts; [n] is +Inf */
    _Atomic uint64_t sum_bits; /* double */
};

typedef struct series {
    STAILQ_ENTRY(series) link;
    char *labels;
    union {
        struct wb_counter c;
        struct wb_gauge g;
        struct wb_histogram h;
    } u;
} series;

typedef struct family {
    STAILQ_ENTRY(family) link;
    char *name;
    char *help;
    mtype type;
    STAILQ_HEAD(, series) series; /* registration order */
} family;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static STAILQ_HEAD(, family) families = STAILQ_HEAD_INITIALIZER(families);

static const double default_buckets[] = {.001, .0025, .005, .01, .025, .05, .1,
                                         .25,  .5,    1,    2.5, 5,    10};

static const char *type_name(mtype t)
{
    return t == MT_COUNTER ? "counter" : t == MT_GAUGE ? "gauge" : "histogram";
}

/* --------------------------------------------------------------- helpers */

static uint64_t dbl_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double bits_dbl(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Atomic d += delta on a double stored as bits (CAS loop). */
static void atomic_add_double(_Atomic uint64_t *p, double delta)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    for (;;) {
        uint64_t nw = dbl_bits(bits_dbl(old) + delta);
        if (atomic_compare_exchange_weak_explicit(p, &old, nw, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

static int name_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') return 1;
    return !first && c >= '0' && c <= '9';
}

static int valid_name(const char *s)
{
    if (!s || !*s) return 0;
    for (size_t i = 0; s[i]; i++)
        if (!name_char(s[i], i == 0)) return 0;
    return 1;
}

/* labels must look like  name="value"(,name="value")*  with \\ \" \n escapes only;
 * label names must not be "le" for histograms (reserved) nor start with "__". */
static int valid_labels(const char *s, int histogram)
{
    const char *p = s;
    if (!*p) return 1;
    for (;;) {
        const char *n0 = p;
        if (!name_char(*p, 1)) return 0;
        while (name_char(*p, 0))
            p++;
        size_t nlen = (size_t)(p - n0);
        if ((nlen == 2 && !strncmp(n0, "le", 2) && histogram) ||
            (nlen >= 2 && n0[0] == '_' && n0[1] == '_'))
            return 0;
        if (*p++ != '=' || *p++ != '"') return 0;
        while (*p != '"') {
            if (!*p || *p == '\n') return 0;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n') return 0;
            }
            p++;
        }
        p++;
        if (!*p) return 1;
        if (*p++ != ',') return 0;
    }
}

/* Find or create the family; NULL when the name is taken by another type. reg_lock held. */
static family *family_get(const char *name, const char *help, mtype type)
{
    family *f;
    STAILQ_FOREACH(f, &families, link)
    {
        if (strcmp(f->name, name)) continue;
        if (f->type != type) {
            WB_ERROR("metric %s registered as %s and as %s", name, type_name(f->type),
                     type_name(type));
            return NULL;
        }
        return f;
    }
    f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->name = wb_strdup(name);
    f->help = wb_strdup(help ? help : "");
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    f->type = type;
    STAILQ_INIT(&f->series);
    STAILQ_INSERT_TAIL(&families, f, link);
    return f;
}

static series *series_find(family *f, const char *labels)
{
    series *s;
    STAILQ_FOREACH(s, &f->series, link)
    if (!strcmp(s->labels, labels)) return s;
    return NULL;
}

static void series_append(family *f, series *s)
{
    STAILQ_INSERT_TAIL(&f->series, s, link);
}

static void series_free(family *f, series *s)
{
    if (f->type == MT_HISTOGRAM) {
        free(s->u.h.bounds);
        free((void *)s->u.h.counts);
    }
    free(s->labels);
    free(s);
}

/* Common front half of registration: validate, lock, find family and existing series. */
static series *register_series(const char *name, const char *help, const char *labels, mtype type,
                               const double *buckets, size_t nbuckets)
{
    if (!labels) labels = "";
    if (!valid_name(name) || !valid_labels(labels, type == MT_HISTOGRAM)) {
        WB_ERROR("metric %s{%s}: invalid name or labels", name ? name : "(null)", labels);
        return NULL;
    }
    if (type == MT_HISTOGRAM) {
        if (!buckets) {
            buckets = default_buckets;
            nbuckets = sizeof default_buckets / sizeof default_buckets[0];
        }
        if (nbuckets && isinf(buckets[nbuckets - 1]) && buckets[nbuckets - 1] > 0)
            nbuckets--; /* +Inf is implicit */
        for (size_t i = 0; i < nbuckets; i++)
            if (isnan(buckets[i]) || (i && buckets[i] <= buckets[i - 1])) {
                WB_ERROR("metric %s: buckets must be strictly ascending", name);
                return NULL;
            }
    }

    series *s = NULL, *out = NULL;
    pthread_mutex_lock(&reg_lock);
    family *f = family_get(name, help, type);
    if (!f) goto out;
    out = series_find(f, labels);
    if (out) goto out;
    s = calloc(1, sizeof *s);
    if (!s || !(s->labels = wb_strdup(labels))) goto out;
    if (type == MT_HISTOGRAM) {
        s->u.h.n = nbuckets;
        s->u.h.bounds = malloc((nbuckets ? nbuckets : 1) * sizeof(double));
        s->u.h.counts = calloc(nbuckets + 1, sizeof(_Atomic uint64_t));
        if (!s->u.h.bounds || !s->u.h.counts) goto out;
        if (nbuckets) memcpy(s->u.h.bounds, buckets, nbuckets * sizeof(double));
        for (size_t i = 0; i <= nbuckets; i++)
            atomic_init(&s->u.h.counts[i], 0);
        atomic_init(&s->u.h.sum_bits, dbl_bits(0.0));
    } else if (type == MT_GAUGE) {
        atomic_init(&s->u.g.bits, dbl_bits(0.0));
    } else {
        atomic_init(&s->u.c.v, 0);
    }
    series_append(f, s);
    out = s;
    s = NULL; /* owned by the family now */
out:
    if (s) series_free(f, s);
    pthread_mutex_unlock(&reg_lock);
    return out;
}

/* ---------------------------------------------------------- registration */

/* Register (or find) a counter series. Returns NULL on a bad name/labels, a type clash or
 * no memory. The handle is owned by the registry. Any thread. */
wb_counter *wb_metrics_counter(const char *name, const char *help, const char *labels)
{
    series *s = register_series(name, help, labels, MT_COUNTER, NULL, 0);
    return s ? &s->u.c : NULL;
}

/* Register (or find) a gauge series (starts at 0). Same contract as wb_metrics_counter. */
wb_gauge *wb_metrics_gauge(const char *name, const char *help, const char *labels)
{
    series *s = register_series(name, help, labels, MT_GAUGE, NULL, 0);
    return s ? &s->u.g : NULL;
}

/* Register (or find) a histogram series. buckets are copied; an explicit trailing +Inf
 * is accepted and dropped (it is always rendered). An existing series keeps its buckets. */
wb_histogram *wb_metrics_histogram(const char *name, const char *help, const char *labels,
                                   const double *buckets, size_t nbuckets)
{
    series *s = register_series(name, help, labels, MT_HISTOGRAM, buckets, nbuckets);
    return s ? &s->u.h : NULL;
}

/* --------------------------------------------------------------- updates */

/* Hot path: one relaxed atomic add. NULL handles are ignored (failed registration). */
void wb_counter_add(wb_counter *c, uint64_t n)
{
    if (c) atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

void wb_gauge_set(wb_gauge *g, double v)
{
    if (g) atomic_store_explicit(&g->bits, dbl_bits(v), memory_order_relaxed);
}

void wb_gauge_add(wb_gauge *g, double delta)
{
    if (g) atomic_add_double(&g->bits, delta);
}

/* Count the observation in its bucket (le is inclusive) and add it to the sum. */
void wb_histogram_observe(wb_histogram *h, double seconds)
{
    if (!h || isnan(seconds)) return;
    size_t i = 0;
    while (i < h->n && seconds > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_add_double(&h->sum_bits, seconds);
}

uint64_t wb_counter_value(const wb_counter *c)
{
    return c ? atomic_load_explicit(&((wb_counter *)c)->v, memory_order_relaxed) : 0;
}

double wb_gauge_value(const wb_gauge *g)
{
    return g ? bits_dbl(atomic_load_explicit(&((wb_gauge *)g)->bits, memory_order_relaxed)) : 0.0;
}

/* ------------------------------------------------------------- rendering */

/* Shortest "%g" text that reads back as the same double; Prometheus spellings for
 * the non-finite values. */
static void fmt_double(char *out, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(out, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* HELP text escaping: backslash and newline. */
static wb_err add_help(wb_buf *out, const char *s)
{
    wb_err err = WB_OK;
    for (; *s && !err; s++) {
        if (*s == '\\')
            err = wb_buf_add(out, "\\\\", 2);
        else if (*s == '\n')
            err = wb_buf_add(out, "\\n", 2);
        else
            err = wb_buf_add(out, s, 1);
    }
    return err;
}

/* Append an escaped label value (\\, \" and \n) to out, for building a labels string. */
wb_err wb_metrics_escape_label(wb_buf *out, const char *value)
{
    wb_err err = WB_OK;
    for (const char *s = value ? value : ""; *s && !err; s++) {
        if (*s == '\\')
            err = wb_buf_add(out, "\\\\", 2);
        else if (*s == '"')
            err = wb_buf_add(out, "\\\"", 2);
        else if (*s == '\n')
            err = wb_buf_add(out, "\\n", 2);
        else
            err = wb_buf_add(out, s, 1);
    }
    return err;
}

static wb_err render_histogram(wb_buf *out, const family *f, const series *s)
{
    const struct wb_histogram *h = &s->u.h;
    const char *sep = *s->labels ? "," : "";
    uint64_t cum = 0;
    char num[64];
    wb_err err = WB_OK;
    for (size_t i = 0; i <= h->n && !err; i++) {
        cum += atomic_load_explicit(&((struct wb_histogram *)h)->counts[i], memory_order_relaxed);
        if (i < h->n)
            fmt_double(num, sizeof num, h->bounds[i]);
        else
            snprintf(num, sizeof num, "+Inf");
        err = wb_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", f->name, s->labels, sep, num,
                            (unsigned long long)cum);
    }
    if (err) return err;
    /* _count equals the +Inf bucket so a scrape is always self-consistent. */
    fmt_double(num, sizeof num,
               bits_dbl(atomic_load_explicit(&((struct wb_histogram *)h)->sum_bits,
                                             memory_order_relaxed)));
    const char *lb = *s->labels ? "{" : "", *rb = *s->labels ? "}" : "";
    err = wb_buf_printf(out, "%s_sum%s%s%s %s\n", f->name, lb, s->labels, rb, num);
    if (!err)
        err = wb_buf_printf(out, "%s_count%s%s%s %llu\n", f->name, lb, s->labels, rb,
                            (unsigned long long)cum);
    return err;
}

/* Render every family (registration order) with HELP and TYPE once, then its series.
 * Families without series are skipped. Appends to out; on error out may hold a prefix. */
int wb_metrics_render(wb_buf *out)
{
    wb_err err = WB_OK;
    char num[64];
    pthread_mutex_lock(&reg_lock);
    const family *f;
    STAILQ_FOREACH(f, &families, link)
    {
        if (err) break;
        if (STAILQ_EMPTY(&f->series)) continue;
        err = wb_buf_printf(out, "# HELP %s ", f->name);
        if (!err) err = add_help(out, f->help);
        if (!err) err = wb_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
        const series *s;
        STAILQ_FOREACH(s, &f->series, link)
        {
            if (err) break;
            const char *lb = *s->labels ? "{" : "", *rb = *s->labels ? "}" : "";
            if (f->type == MT_COUNTER) {
                err = wb_buf_printf(out, "%s%s%s%s %llu\n", f->name, lb, s->labels, rb,
                                    (unsigned long long)wb_counter_value(&s->u.c));
            } else if (f->type == MT_GAUGE) {
                fmt_double(num, sizeof num, wb_gauge_value(&s->u.g));
                err = wb_buf_printf(out, "%s%s%s%s %s\n", f->name, lb, s->labels, rb, num);
            } else {
                err = render_histogram(out, f, s);
            }
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return err;
}

/* Free the whole registry. Tests only: every handle becomes invalid. */
void wb_metrics_reset(void)
{
    pthread_mutex_lock(&reg_lock);
    family *f;
    while ((f = STAILQ_FIRST(&families))) {
        STAILQ_REMOVE_HEAD(&families, link);
        series *s;
        while ((s = STAILQ_FIRST(&f->series))) {
            STAILQ_REMOVE_HEAD(&f->series, link);
            series_free(f, s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_unlock(&reg_lock);
}
