/* compat.c - schema compatibility checker (see compat.h).
 *
 * The rules are the Avro specification's "Schema Resolution", plus one of ours: a decimal only
 * reads a decimal of the same scale (bytes <-> string promotion would turn an amount into
 * garbage). The resolution plans in avro_decode.c follow the same rules, so a pair this checker
 * accepts always builds a plan. */
#include "schema/compat.h"
#include "schema/avro_int.h"
#include "core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *mode_names[] = {
    "BACKWARD", "FORWARD", "FULL", "BACKWARD_TRANSITIVE", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE"};

/* Any thread; NULL is -1. */
int wb_compat_mode_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
        if (!strcasecmp(s, mode_names[i])) return (int)i;
    return -1;
}

/* Any thread; "?" for a value outside the enum. */
const char *wb_compat_mode_name(wb_compat_mode mode)
{
    return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}

/* ---------------------------------------------------------------- changes, for people */

/* The record a field's type leads to (itself, array items, map values, a union branch). */
static const wb_avro_type *inner_record(const wb_avro_type *t, const char **suffix)
{
    *suffix = "";
    for (int i = 0; t && i < 4; i++) {
        if (t->kind == WB_AVRO_RECORD) return t;
        if (t->kind == WB_AVRO_ARRAY) {
            *suffix = "[]";
            t = t->items;
        } else if (t->kind == WB_AVRO_MAP) {
            *suffix = "{}";
            t = t->items;
        } else if (t->kind == WB_AVRO_UNION) {
            const wb_avro_type *rec = NULL;
            for (size_t b = 0; b < t->nbranches; b++)
                if (t->branches[b]->kind == WB_AVRO_RECORD) rec = t->branches[b];
            t = rec;
        } else {
            return NULL;
        }
    }
    return NULL;
}

static int diff_line(wb_buf *lines, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int diff_line(wb_buf *lines, int *n, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (*n)++;
    return wb_buf_printf(lines, "%s\n", msg) ? -1 : 0;
}

static void default_text(const json_t *def, char *out, size_t n)
{
    char *s = def ? json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(out, n, "%.100s", s ? s : "none");
    free(s);
}

/* The old field a new field continues: same name, else one of the new field's aliases
 * (*renamed: that alias). -1 when the field is new. */
static int old_field(const wb_avro_type *o, const wb_avro_field *nf, const char **renamed)
{
    int oi = -1;
    *renamed = NULL;
    for (size_t j = 0; j < o->nfields; j++)
        if (!strcmp(o->fields[j].name, nf->name)) oi = (int)j;
    for (size_t k = 0; oi < 0 && k < nf->naliases; k++)
        for (size_t j = 0; j < o->nfields; j++)
            if (!strcmp(o->fields[j].name, nf->aliases[k])) {
                oi = (int)j;
                *renamed = nf->aliases[k];
            }
    return oi;
}

/* "symbols added: A, B" when both are enums and the new one has symbols the old lacks. */
static int diff_symbols(const wb_avro_type *ot, const wb_avro_type *nt, const char *path,
                        wb_buf *lines, int *n)
{
    char added[400] = "";
    size_t used = 0;
    if (ot->kind != WB_AVRO_ENUM || nt->kind != WB_AVRO_ENUM) return 0;
    for (size_t s2 = 0; s2 < nt->nsymbols; s2++) {
        int found = 0;
        for (size_t s1 = 0; s1 < ot->nsymbols; s1++)
            found |= !strcmp(ot->symbols[s1], nt->symbols[s2]);
        if (!found) {
            int w = snprintf(added + used, sizeof(added) - used, "%s%s", used ? ", " : "",
                             nt->symbols[s2]);
            if (w > 0 && (size_t)w < sizeof(added) - used) used += (size_t)w;
        }
    }
    return used ? diff_line(lines, n, "field '%s': symbols added: %s", path, added) : 0;
}

static int diff_record(const wb_avro_type *o, const wb_avro_type *nw, const char *prefix,
                       wb_buf *lines, int *n, int depth);

/* What changed in one field that both versions have: name, type, symbols, default, and the
 * fields of a record it leads to. */
static int diff_field(const wb_avro_field *of, const wb_avro_field *nf, const char *renamed,
                      const char *prefix, const char *path, wb_buf *lines, int *n, int depth)
{
    char a[128], b[128];
    if (renamed && diff_line(lines, n,
                             "field '%s%s' renamed to '%s' (alias: data written with the old "
                             "name still reads)",
                             prefix, renamed, nf->name))
        return -1;
    wb_avro_type_describe(of->type, a, sizeof(a));
    wb_avro_type_describe(nf->type, b, sizeof(b));
    if (strcmp(a, b) && diff_line(lines, n, "field '%s': type changed from %s to %s", path, a, b))
        return -1;
    if (diff_symbols(of->type, nf->type, path, lines, n)) return -1;
    if ((of->def == NULL) != (nf->def == NULL) ||
        (of->def && nf->def && !json_equal(of->def, nf->def))) {
        default_text(nf->def, b, sizeof(b));
        if (diff_line(lines, n, "field '%s': default %s %s", path,
                      of->def ? (nf->def ? "changed to" : "removed") : "added:", nf->def ? b : ""))
            return -1;
    }
    const char *so, *sn;
    const wb_avro_type *ro = inner_record(of->type, &so), *rn = inner_record(nf->type, &sn);
    if (ro && rn) {
        char sub[300];
        snprintf(sub, sizeof(sub), "%.290s%s.", path, sn);
        if (diff_record(ro, rn, sub, lines, n, depth + 1)) return -1;
    }
    return 0;
}

/* The new record's fields in order (added, renamed, changed), then the old ones it dropped. */
static int diff_record(const wb_avro_type *o, const wb_avro_type *nw, const char *prefix,
                       wb_buf *lines, int *n, int depth)
{
    char path[400], a[128];
    if (depth > 8) return 0;
    for (size_t i = 0; i < nw->nfields; i++) {
        const wb_avro_field *nf = &nw->fields[i];
        const char *renamed;
        snprintf(path, sizeof(path), "%.300s%.90s", prefix, nf->name);
        int oi = old_field(o, nf, &renamed);
        if (oi < 0) {
            default_text(nf->def, a, sizeof(a));
            if (diff_line(lines, n,
                          nf->def ? "field '%s' added (default %s)" : "field '%s' added%s", path,
                          nf->def ? a : " (required: no default)"))
                return -1;
        } else if (diff_field(&o->fields[oi], nf, renamed, prefix, path, lines, n, depth)) {
            return -1;
        }
    }
    for (size_t j = 0; j < o->nfields; j++) {
        int kept = 0;
        for (size_t i = 0; i < nw->nfields; i++) {
            kept |= !strcmp(nw->fields[i].name, o->fields[j].name);
            for (size_t k = 0; k < nw->fields[i].naliases; k++)
                kept |= !strcmp(nw->fields[i].aliases[k], o->fields[j].name);
        }
        if (!kept && diff_line(lines, n, "field '%s%s' removed", prefix, o->fields[j].name))
            return -1;
    }
    return 0;
}

/* Any thread; appends to lines (the caller's). */
int wb_compat_diff(const wb_avro_type *old_t, const wb_avro_type *new_t, wb_buf *lines)
{
    int n = 0;
    if (old_t->kind == WB_AVRO_RECORD && new_t->kind == WB_AVRO_RECORD) {
        if (diff_record(old_t, new_t, "", lines, &n, 0)) return -1;
        return n;
    }
    char a[128], b[128];
    wb_avro_type_describe(old_t, a, sizeof(a));
    wb_avro_type_describe(new_t, b, sizeof(b));
    if (strcmp(a, b) && diff_line(lines, &n, "type changed from %s to %s", a, b)) return -1;
    return n;
}

/* ---------------------------------------------------------------- pairwise check */

#define MAX_STACK 64

typedef struct cctx {
    int reader_is_new;
    const char *prefix, *old_label, *new_label;
    wb_buf *msgs;
    int count;
    int oom;
    char path[512];
    const wb_avro_type *stack[MAX_STACK][2];
    int depth;
} cctx;

static void violation(cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(cctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->count++;
    if (wb_buf_printf(c->msgs, "%s: %s%s%s%s\n", c->prefix, c->path[0] ? "field '" : "", c->path,
                      c->path[0] ? "': " : "", msg))
        c->oom = 1;
}

static void type_changed(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    char od[160], nd[160];
    wb_avro_type_describe(c->reader_is_new ? w : r, od, sizeof(od));
    wb_avro_type_describe(c->reader_is_new ? r : w, nd, sizeof(nd));
    violation(c, "type changed from %s to %s and cannot be promoted", od, nd);
}

static void check(cctx *c, const wb_avro_type *r, const wb_avro_type *w);

/* Append a path component: a field name ("a.b"), "[]" for array items, "{}" for map values. */
static void push_path(cctx *c, size_t *saved, const char *s)
{
    *saved = strlen(c->path);
    int dotted = *saved && s[0] != '[' && s[0] != '{';
    snprintf(c->path + *saved, sizeof(c->path) - *saved, "%s%s", dotted ? "." : "", s);
}

static void check_record(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    size_t saved;
    for (size_t i = 0; i < r->nfields; i++) {
        const wb_avro_field *rf = &r->fields[i];
        int wi = -1;
        for (size_t j = 0; j < w->nfields && wi < 0; j++)
            if (wb_avro_field_lookup(r, w->fields[j].name) == (int)i) wi = (int)j;
        push_path(c, &saved, rf->name);
        if (wi >= 0) {
            check(c, rf->type, w->fields[wi].type);
        } else if (!rf->def) {
            if (c->reader_is_new)
                violation(c, "added without a default (%s cannot read %s data)", c->new_label,
                          c->old_label);
            else
                violation(c, "removed, and %s has no default for it (%s cannot read %s data)",
                          c->old_label, c->old_label, c->new_label);
        }
        c->path[saved] = 0;
    }
}

static int is_named(const wb_avro_type *t)
{
    return t->kind == WB_AVRO_RECORD || t->kind == WB_AVRO_ENUM || t->kind == WB_AVRO_FIXED;
}

/* A writer union: every branch must be readable (by the reader union's matching branch, or
 * by the reader itself). */
static void check_writer_union(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    for (size_t i = 0; i < w->nbranches; i++) {
        const wb_avro_type *b = w->branches[i];
        if (r->kind != WB_AVRO_UNION) {
            check(c, r, b);
            continue;
        }
        int k = wb_avro_union_pick(r, b);
        if (k >= 0) {
            check(c, r->branches[k], b);
            continue;
        }
        char bd[160];
        wb_avro_type_describe(b, bd, sizeof(bd));
        if (c->reader_is_new)
            violation(c, "union branch '%s' removed (%s data may hold it)", bd, c->old_label);
        else
            violation(c, "union branch '%s' added, unreadable by %s", bd, c->old_label);
    }
}

/* Kinds, names and decimal scales agree (neither is a union)? Reports and returns 0 when
 * not, so the parts are not checked. */
static int check_head(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    if (is_named(w) || is_named(r)) {
        if (w->kind != r->kind) {
            type_changed(c, r, w);
            return 0;
        }
        if (!wb_avro_names_match(w, r)) {
            const wb_avro_type *o = c->reader_is_new ? w : r, *n = c->reader_is_new ? r : w;
            violation(c, "%s name changed from %s to %s without an alias",
                      r->kind == WB_AVRO_RECORD ? "record"
                      : r->kind == WB_AVRO_ENUM ? "enum"
                                                : "fixed",
                      o->short_name, n->short_name);
            return 0;
        }
    } else if (!wb_avro_promotable(w->kind, r->kind)) {
        type_changed(c, r, w);
        return 0;
    }
    if ((w->logical == WB_AVRO_LT_DECIMAL) != (r->logical == WB_AVRO_LT_DECIMAL)) {
        type_changed(c, r, w);
        return 0;
    }
    if (w->logical == WB_AVRO_LT_DECIMAL && w->scale != r->scale) {
        violation(c, "decimal scale changed from %d to %d", c->reader_is_new ? w->scale : r->scale,
                  c->reader_is_new ? r->scale : w->scale);
        return 0;
    }
    return 1;
}

/* Every writer symbol must be a reader symbol, unless the reader enum has a default. */
static void check_enum(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    for (size_t i = 0; i < w->nsymbols; i++) {
        size_t j;
        for (j = 0; j < r->nsymbols && strcmp(w->symbols[i], r->symbols[j]); j++)
            ;
        if (j < r->nsymbols || r->enum_default >= 0) continue;
        if (c->reader_is_new)
            violation(c, "enum symbol '%s' removed and enum %s in %s has no default", w->symbols[i],
                      r->short_name, c->new_label);
        else
            violation(c, "enum symbol '%s' added and enum %s in %s has no default", w->symbols[i],
                      r->short_name, c->old_label);
    }
}

/* Can r read w's data? The (r, w) pairs on the way down are kept so a recursive type is
 * checked once. */
static void check(cctx *c, const wb_avro_type *r, const wb_avro_type *w)
{
    size_t saved;
    for (int i = 0; i < c->depth; i++)
        if (c->stack[i][0] == r && c->stack[i][1] == w)
            return; /* recursive type: already being checked */
    if (c->depth >= MAX_STACK) {
        violation(c, "schema nested too deeply to check");
        return;
    }
    c->stack[c->depth][0] = r;
    c->stack[c->depth][1] = w;
    c->depth++;
    if (w->kind == WB_AVRO_UNION) {
        check_writer_union(c, r, w);
    } else if (r->kind == WB_AVRO_UNION) {
        int k = wb_avro_union_pick(r, w);
        if (k < 0)
            type_changed(c, r, w);
        else
            check(c, r->branches[k], w);
    } else if (check_head(c, r, w)) {
        switch (w->kind) {
        case WB_AVRO_RECORD:
            check_record(c, r, w);
            break;
        case WB_AVRO_ENUM:
            check_enum(c, r, w);
            break;
        case WB_AVRO_FIXED:
            if (w->size != r->size)
                violation(c, "fixed size changed from %zu to %zu",
                          c->reader_is_new ? w->size : r->size,
                          c->reader_is_new ? r->size : w->size);
            break;
        case WB_AVRO_ARRAY:
        case WB_AVRO_MAP:
            push_path(c, &saved, w->kind == WB_AVRO_ARRAY ? "[]" : "{}");
            check(c, r->items, w->items);
            c->path[saved] = 0;
            break;
        default:
            break;
        }
    }
    c->depth--;
}

/* Any thread; appends to msgs (the caller's). */
int wb_compat_check(const wb_avro_type *reader, const wb_avro_type *writer, int reader_is_new,
                    const char *prefix, const char *old_label, const char *new_label, wb_buf *msgs)
{
    cctx *c = calloc(1, sizeof(*c));
    if (!c) return -1;
    c->reader_is_new = reader_is_new;
    c->prefix = prefix;
    c->old_label = old_label;
    c->new_label = new_label;
    c->msgs = msgs;
    check(c, reader, writer);
    int n = c->oom ? -1 : c->count;
    free(c);
    return n;
}

/* ---------------------------------------------------------------- folder check */

typedef struct version {
    long num;
    wb_avro_schema *sc;
} version;

static int cmp_version(const void *a, const void *b)
{
    long x = ((const version *)a)->num, y = ((const version *)b)->num;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Versions of one event folder, parsed and sorted. Parse failures are violations. */
static int load_versions(const char *dir, const char *event, version **out, size_t *n,
                         wb_buf *report, int *violations)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, event);
    DIR *d = opendir(path);
    struct dirent *de;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!d) return -1;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        long num;
        if (nm[0] != 'v' || l < 7 || strcmp(nm + l - 5, ".avsc")) continue;
        char digits[32];
        if (l - 6 >= sizeof(digits)) continue;
        memcpy(digits, nm + 1, l - 6);
        digits[l - 6] = 0;
        if (wb_parse_int(digits, 1, 100000, &num)) continue;
        char file[4400], perr[512];
        size_t len;
        snprintf(file, sizeof(file), "%s/%s", path, nm);
        char why[8]; /* the report says "cannot read file", as it always did */
        char *text = wb_avro_read_file(file, &len, why, sizeof(why));
        wb_avro_schema *sc = text ? wb_avro_schema_parse(text, len, perr, sizeof(perr)) : NULL;
        int was_read = text != NULL;
        free(text);
        if (!sc) {
            (*violations)++;
            wb_buf_printf(report, "%s v%ld: %s\n", event, num,
                          was_read ? perr : "cannot read file");
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            version *nv = realloc(*out, cap * sizeof(*nv));
            if (!nv) {
                wb_avro_schema_free(sc);
                closedir(d);
                return -1;
            }
            *out = nv;
        }
        (*out)[*n].num = num;
        (*out)[(*n)++].sc = sc;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof(version), cmp_version);
    return 0;
}

static int check_pair(const char *event, const version *newer, const version *older,
                      wb_compat_mode mode, wb_buf *report)
{
    char prefix[512], ol[32], nl[32];
    int v = 0, n;
    int base = mode % 3; /* 0 backward, 1 forward, 2 full */
    snprintf(ol, sizeof(ol), "v%ld", older->num);
    snprintf(nl, sizeof(nl), "v%ld", newer->num);
    const wb_avro_type *nt = wb_avro_schema_root(newer->sc), *ot = wb_avro_schema_root(older->sc);
    if (base != 1) {
        snprintf(prefix, sizeof(prefix), "%s %s -> %s (%s)", event, nl, ol,
                 base == 0 ? wb_compat_mode_name(mode) : "FULL: backward");
        if ((n = wb_compat_check(nt, ot, 1, prefix, ol, nl, report)) < 0) return -1;
        v += n;
    }
    if (base != 0) {
        snprintf(prefix, sizeof(prefix), "%s %s -> %s (%s)", event, ol, nl,
                 base == 1 ? wb_compat_mode_name(mode) : "FULL: forward");
        if ((n = wb_compat_check(ot, nt, 0, prefix, ol, nl, report)) < 0) return -1;
        v += n;
    }
    return v;
}

static void free_versions(version *vs, size_t nv)
{
    for (size_t k = 0; k < nv; k++)
        wb_avro_schema_free(vs[k].sc);
    free(vs);
}

/* The event folders of dir (its subdirectories but dot ones), sorted. -1 when out of
 * memory (*events then holds what was read, for the caller to free). */
static int list_events(DIR *d, const char *dir, char ***events, size_t *nev)
{
    struct dirent *de;
    size_t cap = 0;
    while ((de = readdir(d))) {
        char p[4096];
        DIR *sub;
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (!(sub = opendir(p))) continue;
        closedir(sub);
        if (*nev == cap) {
            cap = cap ? cap * 2 : 16;
            char **ne = realloc(*events, cap * sizeof(*ne));
            if (!ne) return -1;
            *events = ne;
        }
        if (!((*events)[*nev] = wb_strdup(de->d_name))) return -1;
        (*nev)++;
    }
    if (*nev) qsort(*events, *nev, sizeof(char *), cmp_str);
    return 0;
}

/* dir/manifest.json when there is one (NULL when not); one that is not a JSON object is a
 * violation (returned as is, for the caller to free). */
static json_t *load_manifest(const char *dir, wb_buf *report, int *violations)
{
    char mpath[4096];
    json_t *man = NULL;
    snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
    FILE *mf = fopen(mpath, "r");
    if (mf) {
        json_error_t jerr;
        fclose(mf);
        if (!(man = json_load_file(mpath, 0, &jerr)) || !json_is_object(man)) {
            (*violations)++;
            wb_buf_printf(report, "manifest.json:%d: %s\n", jerr.line,
                          man ? "must be an object" : jerr.text);
        }
    }
    return man;
}

/* Ids must be unique across the manifest. */
static void check_manifest_ids(json_t *man, wb_buf *report, int *violations)
{
    const char *ev, *ver, *ev2, *ver2;
    json_t *vers, *id, *vers2, *id2;
    json_object_foreach(man, ev, vers)
    {
        json_object_foreach(vers, ver, id)
        {
            int dup = 0;
            json_object_foreach(man, ev2, vers2)
            {
                json_object_foreach(vers2, ver2, id2)
                {
                    if (!(ev2 == ev && ver2 == ver) && json_equal(id, id2)) dup = 1;
                }
            }
            if (dup) {
                (*violations)++;
                wb_buf_printf(
                    report, "manifest.json: id %" JSON_INTEGER_FORMAT " of %s v%s is used twice\n",
                    json_integer_value(id), ev, ver);
            }
        }
    }
}

/* Figures for the summary line. */
typedef struct dir_stats {
    int violations;
    size_t nversions, npairs;
} dir_stats;

/* One event folder: its versions pairwise in mode (each against the one before, or against
 * all before when transitive) and, with a manifest, an id for each. -1 when out of memory. */
static int check_event(const char *dir, const char *event, wb_compat_mode mode, json_t *man,
                       wb_buf *report, dir_stats *st)
{
    version *vs = NULL;
    size_t nv = 0;
    int transitive = mode >= WB_COMPAT_BACKWARD_TRANSITIVE;
    if (load_versions(dir, event, &vs, &nv, report, &st->violations)) {
        free_versions(vs, nv);
        return -1;
    }
    st->nversions += nv;
    for (size_t i = 1; i < nv; i++) {
        for (size_t j = transitive ? 0 : i - 1; j < i; j++) {
            int n = check_pair(event, &vs[i], &vs[j], mode, report);
            if (n < 0) {
                free_versions(vs, nv);
                return -1;
            }
            st->violations += n;
            st->npairs++;
        }
    }
    for (size_t i = 0; man && json_is_object(man) && i < nv; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%ld", vs[i].num);
        json_t *id = json_object_get(json_object_get(man, event), key);
        if (!json_is_integer(id)) {
            st->violations++;
            wb_buf_printf(report, "manifest.json: %s v%ld has no registry id\n", event, vs[i].num);
        }
    }
    free_versions(vs, nv);
    return 0;
}

/* Any thread; reads the folder, appends to report (the caller's). */
int wb_compat_check_dir(const char *dir, wb_compat_mode mode, wb_buf *report, char *errstr,
                        size_t errstr_size)
{
    DIR *d = opendir(dir);
    char **events = NULL;
    size_t nev = 0;
    dir_stats st = {0, 0, 0};
    int ret = -1;
    json_t *man = NULL;
    if (!d) {
        snprintf(errstr, errstr_size, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (list_events(d, dir, &events, &nev)) goto nomem;
    man = load_manifest(dir, report, &st.violations);
    for (size_t e = 0; e < nev; e++)
        if (check_event(dir, events[e], mode, man, report, &st)) goto nomem;
    if (man && json_is_object(man)) check_manifest_ids(man, report, &st.violations);
    wb_buf_printf(
        report, "schemas check (%s): %zu events, %zu versions, %zu pairs checked, %d violation%s\n",
        wb_compat_mode_name(mode), nev, st.nversions, st.npairs, st.violations,
        st.violations == 1 ? "" : "s");
    ret = st.violations;
    goto out;
nomem:
    snprintf(errstr, errstr_size, "out of memory");
out:
    for (size_t i = 0; i < nev; i++)
        free(events[i]);
    free(events);
    json_decref(man);
    closedir(d);
    return ret;
}
