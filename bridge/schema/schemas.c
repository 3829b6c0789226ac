/* schema/schemas.c - the schema runtime: local schemas folder, bounded caches of registry
 * schemas and resolution plans, framed Avro -> JSON, JSON -> framed Avro (see
 * schema/schemas.h). Plain JSON events (which version they claim) are schemas_events.c's.
 *
 * Writer entries and plans live in small chained hash tables (<sys/queue.h> lists) with an
 * LRU list each; local schemas are pinned (never on an LRU). A plan points into its writer's
 * and its contract's schemas, so a writer entry owns the list of plans built on it and takes
 * them along when it is evicted. */
#include "schema/schemas.h"
#include "schema/avro.h"
#include "schema/avro_int.h"
#include "schema/fetcher.h"
#include "schema/schemas_int.h"
#include "core/util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define DEFAULT_CACHE_SIZE 1000
#define DEFAULT_NEG_TTL_MS 60000

/* ---------------------------------------------------------------- entries */

static size_t whash(int32_t id)
{
    return ((uint32_t)id * 2654435761u) % WB_SCHEMAS_WBUCKETS;
}

static size_t phash(int32_t id, const char *contract)
{
    uint32_t h = (uint32_t)id * 2654435761u;
    for (const char *p = contract; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % WB_SCHEMAS_PBUCKETS;
}

/* Unlink pe from the hash, its writer and the LRU, and free it. */
static void plan_free(wb_schemas *s, plan_entry *pe)
{
    if (s->last == pe) s->last = NULL;
    LIST_REMOVE(pe, hlink);
    LIST_REMOVE(pe, wlink);
    TAILQ_REMOVE(&s->plru, pe, lru);
    s->nplans--;
    wb_avro_plan_free(pe->plan);
    free(pe->contract);
    free(pe->err);
    free(pe);
}

/* Free w and the plans built on it (they point into its schema). */
static void writer_free(wb_schemas *s, writer_entry *w)
{
    while (!LIST_EMPTY(&w->plans))
        plan_free(s, LIST_FIRST(&w->plans));
    LIST_REMOVE(w, hlink);
    if (!w->local) {
        TAILQ_REMOVE(&s->wlru, w, lru);
        s->nregistry--;
    }
    wb_avro_schema_free(w->sc);
    free(w->ref);
    free(w->err);
    free(w);
}

static writer_entry *writer_lookup(wb_schemas *s, int32_t id)
{
    writer_entry *w;
    LIST_FOREACH(w, &s->wbucket[whash(id)], hlink)
    if (w->id == id) return w;
    return NULL;
}

/* A new entry for id in the hash (and, for registry entries, at the LRU's front, evicting
 * the least recently used one past the bound). */
static writer_entry *writer_add(wb_schemas *s, int32_t id, int local)
{
    writer_entry *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->id = id;
    w->local = local;
    LIST_INIT(&w->plans);
    LIST_INSERT_HEAD(&s->wbucket[whash(id)], w, hlink);
    if (!local) {
        while (s->nregistry >= s->max_registry && !TAILQ_EMPTY(&s->wlru)) {
            writer_free(s, TAILQ_LAST(&s->wlru, wlru));
            s->evictions++;
        }
        TAILQ_INSERT_HEAD(&s->wlru, w, lru);
        s->nregistry++;
    }
    return w;
}

/* Owner thread; NULL is fine. */
void wb_schemas_free(wb_schemas *s)
{
    if (!s) return;
    wb_fetcher_free(s->fetch); /* first: nothing may call back into s afterwards */
    for (size_t i = 0; i < WB_SCHEMAS_WBUCKETS; i++)
        while (!LIST_EMPTY(&s->wbucket[i]))
            writer_free(s, LIST_FIRST(&s->wbucket[i]));
    free(s->locals);
    wb_registry_free(s->reg);
    wb_buf_free(&s->scratch);
    free(s);
}

/* ---------------------------------------------------------------- the local folder */

/* Pin a parsed local schema under id and ref ("order.paid@2"); sc is owned from here (also
 * on failure). 0 or -1 (out of memory). */
static int add_local(wb_schemas *s, int32_t id, const char *ref, wb_avro_schema *sc)
{
    writer_entry **v = realloc(s->locals, (s->nlocals + 1) * sizeof(*v));
    if (!v) {
        wb_avro_schema_free(sc);
        return -1;
    }
    s->locals = v;
    writer_entry *w = writer_add(s, id, 1);
    if (!w || !(w->ref = wb_strdup(ref))) {
        if (w) writer_free(s, w);
        wb_avro_schema_free(sc);
        return -1;
    }
    w->sc = sc;
    s->locals[s->nlocals++] = w;
    return 0;
}

/* One manifest entry: event version ver has registry id idj; load dir/<event>/v<N>.avsc.
 * manifest is the manifest's path, for errors. */
static int load_version(wb_schemas *s, const char *dir, const char *manifest, const char *event,
                        const char *ver, json_t *idj, char *errstr, size_t errstr_size)
{
    long v;
    json_int_t id = json_integer_value(idj);
    if (wb_parse_int(ver, 1, 100000, &v) || !json_is_integer(idj) || id < 0 || id > INT32_MAX) {
        snprintf(errstr, errstr_size, "%s: %s version '%s': bad version or id", manifest, event,
                 ver);
        return -1;
    }
    writer_entry *dup = writer_lookup(s, (int32_t)id);
    if (dup) {
        snprintf(errstr, errstr_size, "%s: id %" JSON_INTEGER_FORMAT " used twice (%s and %s@%s)",
                 manifest, id, dup->ref, event, ver);
        return -1;
    }
    char file[4096], perr[512], ref[512];
    size_t len;
    snprintf(file, sizeof(file), "%s/%s/v%ld.avsc", dir, event, v);
    char *text = wb_avro_read_file(file, &len, errstr, errstr_size);
    if (!text) return -1;
    wb_avro_schema *sc = wb_avro_schema_parse(text, len, perr, sizeof(perr));
    free(text);
    if (!sc) {
        snprintf(errstr, errstr_size, "%s: %s", file, perr);
        return -1;
    }
    snprintf(ref, sizeof(ref), "%s@%ld", event, v);
    if (add_local(s, (int32_t)id, ref, sc)) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

/* Load dir/manifest.json and every dir/<event>/v<N>.avsc it names. */
static int load_dir(wb_schemas *s, const char *dir, char *errstr, size_t errstr_size)
{
    char path[4096];
    json_error_t jerr;
    const char *event, *ver;
    json_t *versions, *idj;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    json_t *man = json_load_file(path, 0, &jerr);
    int rc = -1;
    if (!man || !json_is_object(man)) {
        snprintf(errstr, errstr_size, "%s:%d: %s", path, jerr.line,
                 man ? "manifest must be an object" : jerr.text);
        goto out;
    }
    json_object_foreach(man, event, versions)
    {
        if (!json_is_object(versions)) {
            snprintf(errstr, errstr_size, "%s: '%s' must map versions to ids", path, event);
            goto out;
        }
        json_object_foreach(versions, ver, idj)
        {
            if (load_version(s, dir, path, event, ver, idj, errstr, errstr_size)) goto out;
        }
    }
    rc = 0;
out:
    json_decref(man);
    return rc;
}

/* Owner thread (the fetch thread starts here). */
wb_schemas *wb_schemas_new_opts(const char *dir, const wb_registry_opts *opts, char *errstr,
                                size_t errstr_size)
{
    wb_schemas *s = calloc(1, sizeof(*s)), *ret = NULL;
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < WB_SCHEMAS_WBUCKETS; i++)
        LIST_INIT(&s->wbucket[i]);
    for (size_t i = 0; i < WB_SCHEMAS_PBUCKETS; i++)
        LIST_INIT(&s->pbucket[i]);
    TAILQ_INIT(&s->wlru);
    TAILQ_INIT(&s->plru);
    wb_buf_init(&s->scratch, 0);
    s->max_registry = opts && opts->cache_size ? opts->cache_size : DEFAULT_CACHE_SIZE;
    s->max_plans = 4 * s->max_registry;
    s->neg_ttl_ms = opts && opts->negative_ttl_ms > 0 ? opts->negative_ttl_ms : DEFAULT_NEG_TTL_MS;
    if (!dir && !(opts && opts->url)) {
        snprintf(errstr, errstr_size, "schemas: need a local folder or a registry URL");
        goto out;
    }
    if (dir && load_dir(s, dir, errstr, errstr_size)) goto out;
    if (opts && opts->url) {
        wb_registry *reg = wb_registry_new(opts, errstr, errstr_size);
        if (!reg) goto out;
        if (!opts->async_fetch)
            s->reg = reg;
        else if (!(s->fetch = wb_fetcher_new(reg, 0, errstr, errstr_size)))
            goto out;
    }
    ret = s;
    s = NULL;
out:
    wb_schemas_free(s);
    return ret;
}

/* Owner thread. */
wb_schemas *wb_schemas_new(const char *dir, const char *registry_url, const char *username,
                           const char *password, const char *bearer, char *errstr,
                           size_t errstr_size)
{
    wb_registry_opts o = {0};
    o.url = registry_url;
    o.username = username;
    o.password = password;
    o.bearer = bearer;
    return wb_schemas_new_opts(dir, &o, errstr, errstr_size);
}

/* Owner thread, before the first lookup. */
void wb_schemas_set_notify(wb_schemas *s, wb_schemas_notify_fn fn, void *ctx)
{
    if (s->fetch) wb_fetcher_set_notify(s->fetch, fn, ctx);
}

/* Any thread. */
int wb_schemas_is_framed(const void *val, size_t len)
{
    return val && len >= 5 && ((const unsigned char *)val)[0] == 0;
}

/* Owner thread (schemas_int.h). */
long wb_schemas_ref_version(const char *ref, const char *event, size_t elen)
{
    long v;
    if (strncmp(ref, event, elen) || ref[elen] != '@' ||
        wb_parse_int(ref + elen + 1, 1, 100000, &v))
        return 0;
    return v;
}

/* Owner thread (schemas_int.h). "order.paid@1" and "order.paid@v1" name the same local
 * schema. */
writer_entry *wb_schemas_ref_find(const wb_schemas *s, const char *ref)
{
    const char *at = strrchr(ref, '@');
    if (!at) return NULL;
    size_t elen = (size_t)(at - ref);
    const char *ver = at[1] == 'v' ? at + 2 : at + 1;
    for (size_t i = 0; i < s->nlocals; i++) {
        const char *r = s->locals[i]->ref;
        if (!strncmp(r, ref, elen) && r[elen] == '@' && !strcmp(r + elen + 1, ver))
            return s->locals[i];
    }
    return NULL;
}

/* Owner thread (read-only: any thread once loaded). */
int32_t wb_schemas_id_of(const wb_schemas *s, const char *schema_ref)
{
    const writer_entry *e = wb_schemas_ref_find(s, schema_ref);
    return e ? e->id : -1;
}

/* ---------------------------------------------------------------- registry writers */

/* Store a registry answer (sync or from the fetch thread) as a cache entry. */
static void store_answer(wb_schemas *s, int32_t id, wb_err err, const char *text, const char *why)
{
    writer_entry *w = writer_lookup(s, id);
    if (w && w->local) return; /* the folder wins */
    if (w) writer_free(s, w);
    if (!(w = writer_add(s, id, 0))) return; /* out of memory: the next call asks again */
    char perr[512], reason[700];
    w->code = err;
    if (!err) {
        w->sc = wb_avro_schema_parse(text, strlen(text), perr, sizeof(perr));
        if (w->sc) return;
        snprintf(reason, sizeof(reason), "schema id %" PRId32 ": %s", id, perr);
        w->code = WB_ERR_SCHEMA;
        why = reason;
    }
    w->err = wb_strdup(why); /* NULL on OOM is fine: a generic message then */
    if (w->code == WB_ERR_SCHEMA) w->expires_ms = wb_now_ms() + s->neg_ttl_ms;
}

/* Cache every answer the fetch thread has ready (async mode). */
static void take_answers(wb_schemas *s)
{
    struct wb_fetcher_results done = STAILQ_HEAD_INITIALIZER(done);
    if (!s->fetch) return;
    wb_fetcher_take(s->fetch, &done);
    while (!STAILQ_EMPTY(&done)) {
        wb_fetcher_result *r = STAILQ_FIRST(&done);
        STAILQ_REMOVE_HEAD(&done, link);
        store_answer(s, r->id, r->err, r->text, r->reason);
        wb_fetcher_result_free(r);
    }
}

/* Ask the registry for id: queue it for the fetch thread (WB_ERR_PENDING), or fetch it now
 * and cache the answer (a transient failure is only reported). */
static wb_err ask_registry(wb_schemas *s, int32_t id, char *reason, size_t reason_size)
{
    if (s->fetch) {
        wb_err err = wb_fetcher_request(s->fetch, id);
        if (err == WB_ERR_FULL) {
            snprintf(reason, reason_size, "schema registry fetch queue full (id %" PRId32 ")", id);
            return WB_ERR_IO;
        }
        if (err) {
            snprintf(reason, reason_size, "out of memory");
            return err;
        }
        snprintf(reason, reason_size, "schema id %" PRId32 " is being fetched from the registry",
                 id);
        return WB_ERR_PENDING;
    }
    char *text = NULL;
    wb_err err = wb_registry_fetch(s->reg, id, &text, reason, reason_size);
    if (err && err != WB_ERR_SCHEMA) return err; /* transient: nothing cached */
    store_answer(s, id, err, text, reason);
    free(text);
    return WB_OK;
}

/* Writer schema for id: cache, then registry (now, or on the fetch thread). On WB_OK *out
 * has a schema; otherwise reason is filled. */
static wb_err get_writer(wb_schemas *s, int32_t id, writer_entry **out, char *reason,
                         size_t reason_size)
{
    take_answers(s);
    writer_entry *w = writer_lookup(s, id);
    if (w && w->sc) {
        if (!w->local) {
            TAILQ_REMOVE(&s->wlru, w, lru);
            TAILQ_INSERT_HEAD(&s->wlru, w, lru);
        }
        *out = w;
        return WB_OK;
    }
    if (w) {
        wb_err code = w->code;
        snprintf(reason, reason_size, "%s", w->err ? w->err : "schema registry failure");
        /* permanent: remembered until it expires; transient: told once, then asked again */
        if (code == WB_ERR_SCHEMA && wb_now_ms() < w->expires_ms) return code;
        writer_free(s, w);
        if (code != WB_ERR_SCHEMA) return code;
    }
    if (!s->reg && !s->fetch) {
        snprintf(reason, reason_size,
                 "unknown schema id %" PRId32 " (not in the local manifest; no registry)", id);
        return WB_ERR_SCHEMA;
    }
    wb_err err = ask_registry(s, id, reason, reason_size);
    if (err) return err;
    /* fetched now: the answer is in the cache (a schema or a permanent failure) */
    if (!(w = writer_lookup(s, id))) {
        snprintf(reason, reason_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    if (w->sc) {
        *out = w;
        return WB_OK;
    }
    snprintf(reason, reason_size, "%s", w->err ? w->err : "schema registry failure");
    return WB_ERR_SCHEMA;
}

/* ---------------------------------------------------------------- plans */

/* Compile pe's plan from writer w to contract (NULL: none). A failure is kept in pe->err
 * rather than retried: every record of this pair would fail the same way. */
static void compile_plan(wb_schemas *s, plan_entry *pe, const writer_entry *w, int32_t id,
                         const char *contract)
{
    char why[512] = "";
    if (contract) {
        const writer_entry *r = wb_schemas_ref_find(s, contract);
        if (!r)
            snprintf(why, sizeof(why), "unknown contract '%s' (not in the local schemas)",
                     contract);
        else
            pe->plan = wb_avro_plan_new(w->sc, r->sc, why, sizeof(why));
        if (r && !pe->plan) {
            char tmp[1200];
            snprintf(tmp, sizeof(tmp), "schema id %" PRId32 "%s%s%s cannot be resolved to %s: %s",
                     id, w->ref ? " (" : "", w->ref ? w->ref : "", w->ref ? ")" : "", contract,
                     why);
            snprintf(why, sizeof(why), "%.500s", tmp);
        }
    } else {
        pe->plan = wb_avro_plan_new(w->sc, NULL, why, sizeof(why));
    }
    if (!pe->plan) pe->err = wb_strdup(why[0] ? why : "out of memory");
}

/* Owner thread (schemas_int.h): the last plan used, the cache, or a new one (evicting the
 * least recently used past the bound). */
wb_err wb_schemas_plan_get(wb_schemas *s, int32_t id, const char *contract, plan_entry **out,
                           char *reason, size_t reason_size)
{
    const char *key = contract ? contract : "";
    plan_entry *pe = s->last;
    /* consecutive records of a partition mostly share writer and contract: no hashing */
    if (pe && pe->w->id == id && !strcmp(pe->contract, key)) {
        *out = pe;
        return WB_OK;
    }
    size_t h = phash(id, key);
    LIST_FOREACH(pe, &s->pbucket[h], hlink)
    if (pe->w->id == id && !strcmp(pe->contract, key)) {
        TAILQ_REMOVE(&s->plru, pe, lru);
        TAILQ_INSERT_HEAD(&s->plru, pe, lru);
        s->last = *out = pe;
        return WB_OK;
    }
    /* a miss: the writer schema first (it may be pending or failed: nothing cached then) */
    writer_entry *w;
    wb_err err = get_writer(s, id, &w, reason, reason_size);
    if (err) return err;
    while (s->nplans >= s->max_plans && !TAILQ_EMPTY(&s->plru)) {
        plan_free(s, TAILQ_LAST(&s->plru, plru));
        s->evictions++;
    }
    if (!(pe = calloc(1, sizeof(*pe))) || !(pe->contract = wb_strdup(key))) {
        free(pe);
        snprintf(reason, reason_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    pe->w = w;
    compile_plan(s, pe, w, id, contract);
    /* on the writer's list too: evicting the writer takes its plans along */
    LIST_INSERT_HEAD(&s->pbucket[h], pe, hlink);
    LIST_INSERT_HEAD(&w->plans, pe, wlink);
    TAILQ_INSERT_HEAD(&s->plru, pe, lru);
    s->nplans++;
    s->last = *out = pe;
    return WB_OK;
}

/* Owner thread: the hot path of every framed record. */
wb_err wb_schemas_to_json(wb_schemas *s, const void *val, size_t len, const char *contract,
                          wb_buf *out, char *reason, size_t reason_size)
{
    const unsigned char *b = val;
    plan_entry *pe;
    char tmp[8];
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    if (!wb_schemas_is_framed(val, len)) {
        snprintf(reason, reason_size, "value is not Confluent-framed Avro");
        return WB_ERR_SCHEMA;
    }
    int32_t id = (int32_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 |
                           (uint32_t)b[4]);
    wb_err err = wb_schemas_plan_get(s, id, contract, &pe, reason, reason_size);
    if (err) return err;
    if (!pe->plan) {
        snprintf(reason, reason_size, "%s", pe->err ? pe->err : "unresolvable");
        return WB_ERR_SCHEMA;
    }
    char why[400];
    err = wb_avro_plan_to_json(pe->plan, b + 5, len - 5, out, why, sizeof(why));
    if (err)
        snprintf(reason, reason_size, "schema id %" PRId32 "%s%s: %s", id, contract ? " as " : "",
                 contract ? contract : "", why);
    return err;
}

/* Owner thread (read-only on s: local schemas only). */
wb_err wb_schemas_from_json(wb_schemas *s, const char *schema_ref, const char *json, size_t len,
                            wb_buf *out, char *reason, size_t reason_size)
{
    char tmp[8];
    json_error_t jerr;
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    const writer_entry *e = wb_schemas_ref_find(s, schema_ref);
    if (!e) {
        snprintf(reason, reason_size, "unknown schema '%s'", schema_ref);
        return WB_ERR_SCHEMA;
    }
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(reason, reason_size, "body is not JSON: %s (line %d)", jerr.text, jerr.line);
        return WB_ERR_SCHEMA;
    }
    size_t mark = out->len;
    unsigned char hdr[5] = {0, (unsigned char)(e->id >> 24), (unsigned char)(e->id >> 16),
                            (unsigned char)(e->id >> 8), (unsigned char)e->id};
    wb_err err = wb_buf_add(out, hdr, 5);
    if (!err) err = wb_avro_from_json(e->sc, doc, out, reason, reason_size);
    if (err) {
        out->len = mark;
        if (out->data) out->data[mark] = 0;
    }
    json_decref(doc);
    return err;
}

/* ---------------------------------------------------------------- figures */

/* Owner thread. */
void wb_schemas_get_stats(const wb_schemas *s, wb_schemas_stats *st)
{
    st->registry_schemas = s->nregistry;
    st->plans = s->nplans;
    st->evictions = s->evictions;
    st->fetches = s->fetch ? wb_fetcher_requests(s->fetch) : wb_registry_requests(s->reg);
}
