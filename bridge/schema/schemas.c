/* schema/schemas.c - the schema runtime: local schemas folder, bounded caches of registry
 * schemas and resolution plans, framed Avro -> JSON, JSON events -> contract, JSON -> framed
 * Avro (see schema/schemas.h).
 *
 * Writer entries and plans live in small chained hash tables (<sys/queue.h> lists) with an
 * LRU list each; local schemas are pinned (never on an LRU). A plan points into its writer's
 * and its contract's schemas, so a writer entry owns the list of plans built on it and takes
 * them along when it is evicted. */
#include "schema/schemas.h"
#include "schema/avro.h"
#include "schema/fetcher.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define MAX_SCHEMA_BYTES   (1 << 20)
#define DEFAULT_CACHE_SIZE 1000
#define DEFAULT_NEG_TTL_MS 60000
#define WBUCKETS           1024 /* hash buckets (chains stay short at the default bounds) */
#define PBUCKETS           4096

typedef struct plan_entry plan_entry;

typedef struct writer_entry {
    int32_t id;
    wb_avro_schema *sc; /* NULL: failed (code, err) */
    char *ref;          /* "order.paid@2" for local schemas, else NULL */
    char *err;
    wb_err code;        /* failures: WB_ERR_SCHEMA (until expires_ms) or transient */
    int64_t expires_ms; /* permanent failures: forgotten then */
    int local;          /* from the folder: pinned */
    LIST_ENTRY(writer_entry) hlink;
    TAILQ_ENTRY(writer_entry) lru; /* registry entries only */
    LIST_HEAD(, plan_entry) plans;
} writer_entry;

struct plan_entry {
    writer_entry *w;
    char *contract;     /* "" when none */
    wb_avro_plan *plan; /* NULL: unresolvable (err) */
    char *err;
    LIST_ENTRY(plan_entry) hlink;
    LIST_ENTRY(plan_entry) wlink;
    TAILQ_ENTRY(plan_entry) lru;
};

LIST_HEAD(wchain, writer_entry);
LIST_HEAD(pchain, plan_entry);
TAILQ_HEAD(wlru, writer_entry);
TAILQ_HEAD(plru, plan_entry);

struct wb_schemas {
    wb_registry *reg;  /* synchronous mode */
    wb_fetcher *fetch; /* async mode (owns the registry client) */
    writer_entry **locals;
    size_t nlocals;
    struct wchain wbucket[WBUCKETS];
    struct pchain pbucket[PBUCKETS];
    struct wlru wlru;
    struct plru plru;
    size_t nregistry, nplans, max_registry, max_plans;
    int64_t neg_ttl_ms;
    uint64_t evictions;
    plan_entry *last; /* consecutive records usually share a plan */
    wb_buf scratch;   /* JSON events: the Avro encoding on the way to the contract */
};

/* ---------------------------------------------------------------- entries */

static size_t whash(int32_t id)
{
    return ((uint32_t)id * 2654435761u) % WBUCKETS;
}

static size_t phash(int32_t id, const char *contract)
{
    uint32_t h = (uint32_t)id * 2654435761u;
    for (const char *p = contract; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % PBUCKETS;
}

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

void wb_schemas_free(wb_schemas *s)
{
    if (!s) return;
    wb_fetcher_free(s->fetch); /* first: nothing may call back into s afterwards */
    for (size_t i = 0; i < WBUCKETS; i++)
        while (!LIST_EMPTY(&s->wbucket[i]))
            writer_free(s, LIST_FIRST(&s->wbucket[i]));
    free(s->locals);
    wb_registry_free(s->reg);
    wb_buf_free(&s->scratch);
    free(s);
}

/* ---------------------------------------------------------------- the local folder */

static char *read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    wb_buf b;
    char chunk[4096];
    size_t n;
    wb_buf_init(&b, MAX_SCHEMA_BYTES);
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
    if (!b.data && wb_buf_add(&b, "", 0)) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    return wb_buf_steal(&b, len);
}

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

/* Load dir/manifest.json and every dir/<event>/v<N>.avsc it names. */
static int load_dir(wb_schemas *s, const char *dir, char *errstr, size_t errstr_size)
{
    char path[4096];
    json_error_t jerr;
    const char *event;
    json_t *versions;
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
        const char *ver;
        json_t *idj;
        if (!json_is_object(versions)) {
            snprintf(errstr, errstr_size, "%s: '%s' must map versions to ids", path, event);
            goto out;
        }
        json_object_foreach(versions, ver, idj)
        {
            long v;
            json_int_t id = json_integer_value(idj);
            if (wb_parse_int(ver, 1, 100000, &v) || !json_is_integer(idj) || id < 0 ||
                id > INT32_MAX) {
                snprintf(errstr, errstr_size, "%s: %s version '%s': bad version or id", path, event,
                         ver);
                goto out;
            }
            writer_entry *dup = writer_lookup(s, (int32_t)id);
            if (dup) {
                snprintf(errstr, errstr_size,
                         "%s: id %" JSON_INTEGER_FORMAT " used twice (%s and %s@%s)", path, id,
                         dup->ref, event, ver);
                goto out;
            }
            char file[4096], perr[512], ref[512];
            size_t len;
            snprintf(file, sizeof(file), "%s/%s/v%ld.avsc", dir, event, v);
            char *text = read_file(file, &len, errstr, errstr_size);
            if (!text) goto out;
            wb_avro_schema *sc = wb_avro_schema_parse(text, len, perr, sizeof(perr));
            free(text);
            if (!sc) {
                snprintf(errstr, errstr_size, "%s: %s", file, perr);
                goto out;
            }
            snprintf(ref, sizeof(ref), "%s@%ld", event, v);
            if (add_local(s, (int32_t)id, ref, sc)) {
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
            }
        }
    }
    rc = 0;
out:
    json_decref(man);
    return rc;
}

wb_schemas *wb_schemas_new_opts(const char *dir, const wb_registry_opts *opts, char *errstr,
                                size_t errstr_size)
{
    wb_schemas *s = calloc(1, sizeof(*s)), *ret = NULL;
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < WBUCKETS; i++)
        LIST_INIT(&s->wbucket[i]);
    for (size_t i = 0; i < PBUCKETS; i++)
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

void wb_schemas_set_notify(wb_schemas *s, wb_schemas_notify_fn fn, void *ctx)
{
    if (s->fetch) wb_fetcher_set_notify(s->fetch, fn, ctx);
}

int wb_schemas_is_framed(const void *val, size_t len)
{
    return val && len >= 5 && ((const unsigned char *)val)[0] == 0;
}

/* "order.paid@1" and "order.paid@v1" name the same local schema. */
static writer_entry *find_ref(const wb_schemas *s, const char *ref)
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

int32_t wb_schemas_id_of(const wb_schemas *s, const char *schema_ref)
{
    const writer_entry *e = find_ref(s, schema_ref);
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
    w = writer_lookup(s, id);
    if (!w) {
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

static wb_err get_plan(wb_schemas *s, int32_t id, const char *contract, plan_entry **out,
                       char *reason, size_t reason_size)
{
    const char *key = contract ? contract : "";
    plan_entry *pe = s->last;
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
    char why[512] = "";
    if (contract) {
        const writer_entry *r = find_ref(s, contract);
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
    LIST_INSERT_HEAD(&s->pbucket[h], pe, hlink);
    LIST_INSERT_HEAD(&w->plans, pe, wlink);
    TAILQ_INSERT_HEAD(&s->plru, pe, lru);
    s->nplans++;
    s->last = *out = pe;
    return WB_OK;
}

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
    wb_err err = get_plan(s, id, contract, &pe, reason, reason_size);
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
    const writer_entry *e = find_ref(s, schema_ref);
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

/* ---------------------------------------------------------------- JSON events */

static long newest_version(const wb_schemas *s, const char *event, size_t elen)
{
    long best = 0, v;
    for (size_t i = 0; i < s->nlocals; i++) {
        const char *r = s->locals[i]->ref;
        if (!strncmp(r, event, elen) && r[elen] == '@' &&
            !wb_parse_int(r + elen + 1, 1, 100000, &v) && v > best)
            best = v;
    }
    return best;
}

/* The local schema a ce_dataschema value names (forms in schemas.h), or NULL + reason. */
static writer_entry *from_dataschema(const wb_schemas *s, const char *ds, char *reason,
                                     size_t reason_size)
{
    char buf[512], ref[600];
    snprintf(buf, sizeof(buf), "%s", ds);
    size_t n = strlen(buf);
    if (n > 5 && !strcmp(buf + n - 5, ".avsc")) buf[n -= 5] = 0;
    if (n > 5 && !strcmp(buf + n - 5, ".json")) buf[n -= 5] = 0;
    while (n && buf[n - 1] == '/')
        buf[--n] = 0;
    char *last = strrchr(buf, '/');
    long v;
    if (!last) {
        snprintf(ref, sizeof(ref), "%s", buf); /* "order.paid@2" */
    } else if (strchr(last + 1, '@')) {
        snprintf(ref, sizeof(ref), "%s", last + 1); /* ".../order.paid@2" */
    } else {
        *last = 0;
        char *prev = strrchr(buf, '/');
        prev = prev ? prev + 1 : buf;
        if (!strcmp(prev, "ids") && !wb_parse_int(last + 1, 0, INT32_MAX, &v)) {
            for (size_t i = 0; i < s->nlocals; i++) /* ".../schemas/ids/102" */
                if (s->locals[i]->id == (int32_t)v) return s->locals[i];
            snprintf(reason, reason_size, "ce_dataschema '%.200s': no local schema has id %ld", ds,
                     v);
            return NULL;
        }
        const char *ver = last[1] == 'v' ? last + 2 : last + 1; /* ".../order.paid/v2" */
        snprintf(ref, sizeof(ref), "%s@%s", prev, ver);
    }
    writer_entry *w = strchr(ref, '@') ? find_ref(s, ref) : NULL;
    if (!w)
        snprintf(reason, reason_size,
                 "ce_dataschema '%.200s' names no local schema version (expected order.paid@2, "
                 ".../order.paid/v2 or .../schemas/ids/102)",
                 ds);
    return w;
}

/* Does the record schema declare a top-level field name? */
static int has_field(const wb_avro_schema *sc, const char *name)
{
    const wb_avro_type *t = wb_avro_schema_root(sc);
    return t->kind == WB_AVRO_RECORD && wb_avro_field_lookup(t, name) >= 0;
}

wb_err wb_schemas_json_to_contract(wb_schemas *s, const char *json, size_t len, wb_json_writer rule,
                                   const char *dataschema, const char *contract, wb_buf *out,
                                   char *reason, size_t reason_size)
{
    char tmp[8], ref[300], why[512];
    json_error_t jerr;
    json_t *doc = NULL;
    writer_entry *w = NULL;
    wb_err err = WB_ERR_SCHEMA;
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    const char *at = strrchr(contract, '@');
    size_t elen = at ? (size_t)(at - contract) : strlen(contract);
    if (!find_ref(s, contract)) {
        snprintf(reason, reason_size, "unknown contract '%s' (not in the local schemas)", contract);
        return WB_ERR_SCHEMA;
    }
    if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
        snprintf(reason, reason_size, "event is not JSON: %s (line %d)", jerr.text, jerr.line);
        return WB_ERR_SCHEMA;
    }
    json_t *sv = json_object_get(doc, "schema_version");
    if (dataschema && !*dataschema) dataschema = NULL;
    if (rule == WB_JSON_WRITER_DATASCHEMA && !dataschema) {
        snprintf(reason, reason_size, "no ce_dataschema header (contract_writer: ce_dataschema)");
        goto out;
    }
    if (rule == WB_JSON_WRITER_FIELD && !sv) {
        snprintf(reason, reason_size,
                 "field 'schema_version': missing (contract_writer: schema_version)");
        goto out;
    }
    if ((rule == WB_JSON_WRITER_AUTO || rule == WB_JSON_WRITER_DATASCHEMA) && dataschema) {
        if (!(w = from_dataschema(s, dataschema, reason, reason_size))) goto out;
    } else if ((rule == WB_JSON_WRITER_AUTO || rule == WB_JSON_WRITER_FIELD) && sv) {
        long v = 0;
        const char *str = json_string_value(sv);
        if (json_is_integer(sv) && json_integer_value(sv) > 0 && json_integer_value(sv) <= 100000)
            v = (long)json_integer_value(sv);
        else if (str && wb_parse_int(str[0] == 'v' ? str + 1 : str, 1, 100000, &v))
            v = 0;
        if (!v) {
            snprintf(reason, reason_size, "field 'schema_version': expected a version number");
            goto out;
        }
        snprintf(ref, sizeof(ref), "%.*s@%ld", (int)elen, contract, v);
        if (!(w = find_ref(s, ref))) {
            char have[256], list[256];
            snprintf(have, sizeof(have), "%.*s", (int)elen, contract);
            wb_schemas_versions(s, have, list, sizeof(list));
            snprintf(reason, reason_size,
                     "field 'schema_version': %s is not a known version (the schemas have %s)", ref,
                     list);
            goto out;
        }
    } else {
        snprintf(ref, sizeof(ref), "%.*s@%ld", (int)elen, contract,
                 newest_version(s, contract, elen));
        w = find_ref(s, ref);
    }
    if (!w || strncmp(w->ref, contract, elen) || w->ref[elen] != '@') {
        snprintf(reason, reason_size, "the event claims %s, not a version of %.*s",
                 w ? w->ref : "no schema", (int)elen, contract);
        goto out;
    }
    /* schema_version is metadata unless the writer schema declares it */
    if (sv && !has_field(w->sc, "schema_version")) json_object_del(doc, "schema_version");
    wb_buf_reset(&s->scratch);
    if ((err = wb_avro_from_json(w->sc, doc, &s->scratch, why, sizeof(why)))) {
        if (err == WB_ERR_SCHEMA)
            snprintf(reason, reason_size, "%s: %s", w->ref, why);
        else
            snprintf(reason, reason_size, "%s", wb_err_str(err));
        goto out;
    }
    plan_entry *pe;
    if ((err = get_plan(s, w->id, contract, &pe, reason, reason_size))) goto out;
    if (!pe->plan) {
        snprintf(reason, reason_size, "%s", pe->err ? pe->err : "unresolvable");
        err = WB_ERR_SCHEMA;
        goto out;
    }
    if ((err = wb_avro_plan_to_json(pe->plan, s->scratch.data, s->scratch.len, out, why,
                                    sizeof(why))))
        snprintf(reason, reason_size, "%s as %s: %s", w->ref, contract, why);
out:
    json_decref(doc);
    return err;
}

/* ---------------------------------------------------------------- figures */

int wb_schemas_versions(const wb_schemas *s, const char *event, char *out, size_t out_size)
{
    size_t elen = strlen(event), used = 0;
    int n = 0;
    long last = 0;
    if (out_size) out[0] = 0;
    /* ascending without sorting: pick the next larger version each pass (a few versions) */
    for (;;) {
        long best = 0;
        for (size_t i = 0; i < s->nlocals; i++) {
            const char *r = s->locals[i]->ref;
            long v;
            if (strncmp(r, event, elen) || r[elen] != '@' ||
                wb_parse_int(r + elen + 1, 1, 100000, &v) || v <= last || (best && v >= best))
                continue;
            best = v;
        }
        if (!best) break;
        int w = snprintf(out + used, out_size > used ? out_size - used : 0, "%s%s@%ld",
                         n ? ", " : "", event, best);
        if (w > 0) used = used + (size_t)w < out_size ? used + (size_t)w : out_size;
        last = best;
        n++;
    }
    return n;
}

void wb_schemas_get_stats(const wb_schemas *s, wb_schemas_stats *st)
{
    st->registry_schemas = s->nregistry;
    st->plans = s->nplans;
    st->evictions = s->evictions;
    st->fetches = s->fetch ? wb_fetcher_requests(s->fetch) : wb_registry_requests(s->reg);
}
