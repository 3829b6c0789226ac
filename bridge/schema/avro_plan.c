/* avro_plan.c - compiling writer->reader resolution plans (Avro specification, "Schema
 * Resolution"; see avro.h and avro_plan.h).
 *
 * Problems every record would hit fail the whole plan; problems only some data hits (an enum
 * symbol or a union branch the reader lacks) become OP_ERROR nodes that avro_decode.c reports
 * when a value reaches them. The rules match compat.c's, so a pair the checker accepts always
 * builds a plan. */
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "schema/avro_json.h"
#include "schema/avro_plan.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- nodes */

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

/* Frees every node and the plan; the schemas it points into stay. Any thread, once no
 * decoder uses the plan. */
void wb_avro_plan_free(wb_avro_plan *plan)
{
    if (!plan) return;
    for (size_t i = 0; i < plan->n; i++)
        free_pnode(plan->all[i]);
    free(plan->all);
    free(plan);
}

/* Turn n into an OP_ERROR node with the message. 0, or -1 when out of memory. */
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

/* set_err with a message naming both types: before, writer, between, reader. */
static int set_pair_err(pnode *n, const char *before, const wb_avro_type *w, const char *between,
                        const wb_avro_type *r)
{
    char wd[160], rd[160];
    wb_avro_type_describe(w, wd, sizeof(wd));
    wb_avro_type_describe(r, rd, sizeof(rd));
    return set_err(n, "%s%s%s%s", before, wd, between, rd);
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

/* prefix + name as a JSON string + suffix, malloc'd: the keys decoding copies as they are. */
static char *dup_printf_key(const char *prefix, const char *name, const char *suffix)
{
    wb_buf b;
    int bad = 0;
    wb_buf_init(&b, 0);
    if (wb_buf_adds(&b, prefix) ||
        wb_avro_json_string(&b, (const unsigned char *)name, strlen(name), &bad) ||
        wb_buf_adds(&b, suffix)) {
        wb_buf_free(&b);
        return NULL;
    }
    return wb_buf_steal(&b, NULL);
}

/* ---------------------------------------------------------------- concrete pairs */

static pnode *build(wb_avro_plan *plan, const wb_avro_type *w, const wb_avro_type *r, int depth);

/* Can data of writer type w be read as reader type r (neither a union)? Named types by kind
 * and name (or alias), others by promotion; a decimal only reads a decimal of the same scale
 * (as compat.c checks). */
static int readable(const wb_avro_type *w, const wb_avro_type *r)
{
    int ok = (w->kind == WB_AVRO_RECORD || w->kind == WB_AVRO_ENUM || w->kind == WB_AVRO_FIXED)
                 ? (w->kind == r->kind && wb_avro_names_match(w, r))
                 : wb_avro_promotable(w->kind, r->kind);
    if (ok && (w->logical == WB_AVRO_LT_DECIMAL) != (r->logical == WB_AVRO_LT_DECIMAL)) ok = 0;
    if (ok && w->logical == WB_AVRO_LT_DECIMAL && w->scale != r->scale) ok = 0;
    return ok;
}

/* Writer symbol -> reader symbol by name, else the reader's default (or -1). */
static int build_enum(pnode *n, const wb_avro_type *w, const wb_avro_type *r)
{
    n->op = OP_ENUM;
    if (!(n->symmap = calloc(w->nsymbols ? w->nsymbols : 1, sizeof(int)))) return -1;
    for (size_t i = 0; i < w->nsymbols; i++) {
        n->symmap[i] = r->enum_default;
        for (size_t j = 0; j < r->nsymbols; j++)
            if (!strcmp(w->symbols[i], r->symbols[j])) n->symmap[i] = (int)j;
    }
    return 0;
}

/* The reader fields in reader order: which writer field feeds each (rmap: writer field ->
 * reader field), its JSON key, and the rendered default when the writer lacks it. */
static int build_record_outs(pnode *n, const wb_avro_type *w, const wb_avro_type *r,
                             const int *rmap)
{
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
            return set_err(n, "field '%s': missing from the writer and the reader has no default",
                           r->fields[i].name);
        wb_buf b;
        wb_buf_init(&b, 0);
        if (wb_avro_json_default(r->fields[i].type, r->fields[i].def, &b)) {
            wb_buf_free(&b);
            return set_err(n, "field '%s': default does not match its type", r->fields[i].name);
        }
        if (!(o->defjson = wb_buf_steal(&b, NULL))) return -1;
    }
    return 0;
}

/* A node per writer field some reader field reads (others are skipped when decoding). */
static int build_record_fields(wb_avro_plan *plan, pnode *n, const wb_avro_type *w,
                               const wb_avro_type *r, const int *rmap, int depth)
{
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

static int build_record(wb_avro_plan *plan, pnode *n, const wb_avro_type *w, const wb_avro_type *r,
                        int depth)
{
    int rmap[WB_AVRO_MAX_FIELDS];
    n->op = OP_RECORD;
    if (!(n->wf = calloc(w->nfields ? w->nfields : 1, sizeof(pnode *))) ||
        !(n->outs = calloc(r->nfields ? r->nfields : 1, sizeof(pout))))
        return -1;
    for (size_t j = 0; j < w->nfields; j++)
        rmap[j] = wb_avro_field_lookup(r, w->fields[j].name);
    int rc = build_record_outs(n, w, r, rmap);
    if (rc || n->op == OP_ERROR) return rc;
    return build_record_fields(plan, n, w, r, rmap, depth);
}

/* Fill n for writer w read as reader r, neither a union. 0, or -1 when out of memory (an
 * unreadable pair makes n an OP_ERROR node and returns 0). */
static int build_concrete(wb_avro_plan *plan, pnode *n, const wb_avro_type *w,
                          const wb_avro_type *r, int depth)
{
    n->w = w;
    n->r = r;
    if (!readable(w, r)) return set_pair_err(n, "writer type ", w, " cannot be read as ", r);
    switch (w->kind) {
    case WB_AVRO_ENUM:
        return build_enum(n, w, r);
    case WB_AVRO_FIXED:
        n->op = OP_FIXED;
        if (w->size != r->size)
            return set_pair_err(n, "fixed size differs: writer ", w, ", reader ", r);
        return 0;
    case WB_AVRO_ARRAY:
    case WB_AVRO_MAP:
        n->op = w->kind == WB_AVRO_ARRAY ? OP_ARRAY : OP_MAP;
        if (!(n->item = build(plan, w->items, r->items, depth + 1))) return -1;
        if (n->item->op == OP_ERROR)
            return set_err(n, "%s items: %s", w->kind == WB_AVRO_ARRAY ? "array" : "map",
                           n->item->err);
        return 0;
    case WB_AVRO_RECORD:
        return build_record(plan, n, w, r, depth);
    default:
        n->op = OP_PRIM;
        return 0;
    }
}

/* ---------------------------------------------------------------- unions and the memo */

/* A writer union: one node per branch; the plan fails only when no branch is readable. */
static int build_writer_union(wb_avro_plan *plan, pnode *n, const wb_avro_type *w,
                              const wb_avro_type *r, int depth)
{
    size_t good = 0;
    n->op = OP_WUNION;
    if (!(n->wb = calloc(w->nbranches ? w->nbranches : 1, sizeof(pnode *)))) return -1;
    for (size_t i = 0; i < w->nbranches; i++) {
        if (!(n->wb[i] = build(plan, w->branches[i], r, depth + 1))) return -1;
        good += n->wb[i]->op != OP_ERROR;
    }
    if (!good && w->nbranches)
        return set_pair_err(n, "no branch of writer ", w, " can be read as ", r);
    return 0;
}

/* A reader union (writer not a union): the branch the writer resolves to, and how decoded
 * values are wrapped (plain when nullable, {"branch": value} otherwise). */
static int build_reader_union(wb_avro_plan *plan, pnode *n, const wb_avro_type *w,
                              const wb_avro_type *r, int depth)
{
    int pick = wb_avro_union_pick(r, w);
    if (pick < 0) return set_pair_err(n, "writer type ", w, " matches no branch of reader ", r);
    n->wrap = wb_avro_is_nullable(r) ? 1 : 2;
    if (n->wrap == 2 &&
        !(n->wrap_key = dup_printf_key("{", wb_avro_branch_name(r->branches[pick]), ":")))
        return -1;
    return build_concrete(plan, n, w, r->branches[pick], depth);
}

/* The node for (w, r): the one built before (recursive types come back to their own pair),
 * or a new one. NULL only when out of memory. */
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
    /* in the memo before its children are built, so a cycle finds it */
    plan->all[plan->n++] = n;
    n->kw = w;
    n->kr = r;
    n->w = w;
    n->r = r;
    int rc;
    if (depth > WB_AVRO_MAX_DEPTH)
        rc = set_err(n, "schema nested too deeply");
    else if (w->kind == WB_AVRO_UNION)
        rc = build_writer_union(plan, n, w, r, depth);
    else if (r->kind == WB_AVRO_UNION)
        rc = build_reader_union(plan, n, w, r, depth);
    else
        rc = build_concrete(plan, n, w, r, depth);
    return rc ? NULL : n;
}

/* Compile the plan (see avro.h). Any thread; the schemas must outlive the plan. */
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
