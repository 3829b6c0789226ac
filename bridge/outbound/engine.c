/* outbound/engine.c - loops, connectors on them, reloads (engine.h).
 *
 * Threads and what they own:
 *   - each loop thread: its wb_loop, wb_http, wb_schemas and the connectors placed on it
 *     (everything a connector touches on the hot path);
 *   - the sampler thread (sampler.c): cluster facts, read by the connectors' gauge timers;
 *   - the caller (main) thread: new/start/reload/stop/wait/free.
 * Other threads talk to a loop only through its command queue (cmd_lock + one loop message),
 * so every change to a connector happens on its own loop at the top of a turn. */
#include "outbound/engine.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fatal.h"
#include "core/loop.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/sampler.h"
#include "http/http.h"
#include "schema/registry.h"
#include "core/util.h"

#define CLOSE_GRACE_MS 5000 /* leaving the groups after the drain */

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                */

typedef enum cmd_kind { CMD_RELOAD, CMD_PAUSE, CMD_STOP } cmd_kind;

typedef struct cmd {
    STAILQ_ENTRY(cmd) link;
    cmd_kind kind;
    wb_config *cfg; /* CMD_RELOAD: a reference */
    int paused;     /* CMD_PAUSE */
    int64_t deadline;
    char name[65];
} cmd;

struct wb_engine_loop {
    wb_engine *e;
    int idx;
    wb_loop *lp;
    wb_http *http;
    wb_schemas *schemas;
    wb_jq *jq; /* the jq sandbox of the loop's filters and transforms (started when needed) */
    wb_loop_msg schema_msg; /* the registry answered a writer schema a partition waits for */
    wb_conn **conns;        /* live connectors */
    size_t nconns, capconns;
    wb_conn **retiring; /* removed or replaced: draining, freed once stopped */
    size_t nretiring, capretiring;
    pthread_t thread;
    int started;
    int stopping;
    int64_t stop_deadline;
    atomic_int done;
    pthread_mutex_t cmd_lock;
    STAILQ_HEAD(, cmd) cmds;    /* under cmd_lock */
    pthread_mutex_t conns_lock; /* conns/nconns change (loop thread) vs status readers */
    wb_loop_msg cmd_msg;
    wb_conn_hooks hooks;
    wb_engine_beat_fn beat; /* liveness: called every turn */
    void *beat_ctx;
};

struct wb_engine {
    wb_config *cfg; /* current generation (a reference); guarded by cfg_lock for readers */
    pthread_mutex_t cfg_lock;
    char *bootstrap;
    wb_producer *prod;
    int nloops;
    wb_engine_loop *loops;
    void (*observe)(void *ctx, const wb_delivery_event *ev);
    void *observe_ctx;
    wb_sampler *sampler;
    /* dead-letter health */
    atomic_int dlq_failing;
    wb_counter *m_dlq_transient, *m_dlq_permanent;
};

/* ------------------------------------------------------------------------------------ */
/* Checking (shared with `webhook-bridge check`)                                        */

static int count_outbound(const wb_config *cfg)
{
    int n = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        n += cfg->connectors[i].direction == WB_DIR_OUTBOUND;
    return n;
}

static int loop_of(const char *name, int nloops)
{
    uint32_t h = 2166136261u; /* FNV-1a: stable across runs and reloads */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return nloops > 1 ? (int)(h % (uint32_t)nloops) : 0;
}

int wb_engine_check(const wb_config *cfg, char *errstr, size_t errstr_size)
{
    wb_buf errs;
    wb_buf_init(&errs, 0);
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        const char *file = cc->file ? cc->file : cc->name;
        char serr[256];
        wb_signer *s = wb_signer_new(&cc->signing, serr, sizeof(serr));
        if (!s) wb_buf_printf(&errs, "%s:%d: signing: %s\n", file, cc->line, serr);
        wb_signer_free(s);
        if (cc->nallow_cidrs > 0) {
            wb_egress_policy *p =
                wb_egress_policy_new(cc->allow_cidrs, cc->nallow_cidrs, serr, sizeof(serr));
            if (!p) wb_buf_printf(&errs, "%s:%d: allow_cidrs: %s\n", file, cc->line, serr);
            wb_egress_policy_free(p);
        }
        /* the consumer's configuration, exactly as the connector will build it */
        rd_kafka_conf_t *conf =
            consumer_conf(cfg, cc, NULL, count_outbound(cfg), NULL, 0, serr, sizeof(serr));
        if (!conf)
            wb_buf_printf(&errs, "%s\n", serr);
        else
            rd_kafka_conf_destroy(conf);
        for (size_t k = 0; k < cc->nheaders; k++)
            if (!wb_http_header_ok(cc->headers[k].name, cc->headers[k].value))
                wb_buf_printf(&errs,
                              "%s:%d: headers: '%s' has a control character or is not a token\n",
                              file, cc->line, cc->headers[k].name);
    }
    if (cfg->outbound.user_agent && !wb_http_header_ok("user-agent", cfg->outbound.user_agent))
        wb_buf_printf(&errs, "%s: outbound.user_agent: control character\n", cfg->path);
    /* the schema sources the connectors would open */
    char serr[700];
    int sfail = 0;
    wb_schemas *s = wb_engine_open_schemas(cfg, 0, serr, sizeof(serr), &sfail);
    if (sfail) wb_buf_printf(&errs, "%s\n", serr);
    if (s) wb_schemas_free(s);
    int bad = errs.len > 0;
    if (bad) {
        while (errs.len && errs.data[errs.len - 1] == '\n')
            errs.data[--errs.len] = 0;
        snprintf(errstr, errstr_size, "%s", errs.data);
    }
    wb_buf_free(&errs);
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------------------------------ */
/* The connectors' hooks: cluster facts, the observer, dead-letter health             */

static int64_t hook_hw(void *ctx, const char *topic, int32_t partition)
{
    return wb_sampler_high_watermark(((wb_engine_loop *)ctx)->e->sampler, topic, partition);
}

static int hook_partitions(void *ctx, const char *topic)
{
    return wb_sampler_partitions(((wb_engine_loop *)ctx)->e->sampler, topic);
}

static int64_t hook_retention(void *ctx, const char *topic)
{
    return wb_sampler_retention_ms(((wb_engine_loop *)ctx)->e->sampler, topic);
}

static void hook_dlq_failing(void *ctx, int delta)
{
    atomic_fetch_add(&((wb_engine_loop *)ctx)->e->dlq_failing, delta);
}

static void hook_dlq_write_failed(void *ctx, int permanent)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    wb_counter_inc(permanent ? e->m_dlq_permanent : e->m_dlq_transient);
}

static void hook_observe(void *ctx, const wb_delivery_event *ev)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    if (e->observe) e->observe(e->observe_ctx, ev);
}

/* ------------------------------------------------------------------------------------ */
/* Connectors on a loop (loop thread, except during wb_engine_new)                      */

static int push(wb_conn ***v, size_t *n, size_t *cap, wb_conn *c)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        wb_conn **nv = realloc(*v, ncap * sizeof(*nv));
        if (!nv) return -1;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = c;
    return 0;
}

/* The loop's jq sandbox, started the first time a connector on it needs one. */
static int need_jq(wb_engine_loop *el, const wb_config *cfg, const wb_connector *cc, char *errstr,
                   size_t errstr_size)
{
    if (el->jq || (!cc->filter && !cc->transform)) return 0;
    wb_jq_limits lim = {.budget_ms = cfg->outbound.jq_budget_ms,
                        .memory_bytes = cfg->outbound.jq_memory};
    el->jq = wb_jq_new(el->lp, &lim, errstr, errstr_size);
    return el->jq ? 0 : -1;
}

static wb_conn *add_conn(wb_engine_loop *el, wb_config *cfg, const wb_connector *cc, char *errstr,
                         size_t errstr_size)
{
    if (need_jq(el, cfg, cc, errstr, errstr_size)) return NULL;
    wb_settings *st = wb_settings_new(cfg, cc, el->http, errstr, errstr_size);
    if (!st) return NULL;
    wb_conn *c = wb_conn_new(el->lp, el->http, el->e->prod, el->schemas, st, el->e->bootstrap,
                             count_outbound(cfg), &el->hooks, el, NULL, errstr, errstr_size);
    wb_settings_unref(st);
    if (!c) return NULL;
    c->el = el;
    wb_conn_set_jq(c, el->jq);
    pthread_mutex_lock(&el->conns_lock);
    int err = push(&el->conns, &el->nconns, &el->capconns, c);
    pthread_mutex_unlock(&el->conns_lock);
    if (err) {
        wb_conn_free(c);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    WB_INFO("connector %s runs on outbound loop %d", cc->name, el->idx);
    return c;
}

static void retire(wb_engine_loop *el, size_t i, int64_t deadline)
{
    wb_conn *c = el->conns[i];
    pthread_mutex_lock(&el->conns_lock);
    el->conns[i] = el->conns[--el->nconns];
    pthread_mutex_unlock(&el->conns_lock);
    wb_conn_stop(c, deadline);
    if (push(&el->retiring, &el->nretiring, &el->capretiring, c)) {
        /* no memory to keep it draining: tear it down now (redelivered after restart) */
        wb_conn_free(c);
    }
}

/* Whether the connector must be rebuilt (a new consumer) rather than updated in place: its
 * cursor changed. */
static int cursor_changed(const wb_connector *a, const wb_connector *b)
{
    if (strcmp(a->group_id, b->group_id) || a->ntopics != b->ntopics) return 1;
    for (size_t i = 0; i < a->ntopics; i++)
        if (strcmp(a->topics[i], b->topics[i])) return 1;
    if ((a->start == NULL) != (b->start == NULL) || (a->start && strcmp(a->start, b->start)))
        return 1;
    return 0;
}

static void apply_reload(wb_engine_loop *el, wb_config *cfg)
{
    int64_t deadline = wb_now_ms() + cfg->outbound.drain_timeout_ms;
    char errstr[1024];
    /* removed or rebuilt */
    for (size_t i = 0; i < el->nconns;) {
        wb_conn *c = el->conns[i];
        const wb_connector *cc = wb_config_connector(cfg, c->name);
        if (!cc || cc->direction != WB_DIR_OUTBOUND) {
            WB_WARN("reload: connector %s removed: draining it; its group %s keeps its offsets",
                    c->name, c->st->cc->group_id);
            retire(el, i, deadline);
            continue;
        }
        if (cursor_changed(c->st->cc, cc)) {
            WB_WARN("reload: connector %s: group, topics or start changed: restarting its "
                    "consumer",
                    c->name);
            retire(el, i, deadline);
            continue;
        }
        wb_settings *st = need_jq(el, cfg, cc, errstr, sizeof(errstr))
                              ? NULL
                              : wb_settings_new(cfg, cc, el->http, errstr, sizeof(errstr));
        if (!st) {
            WB_ERROR("reload: connector %s keeps its running settings: %s", c->name, errstr);
        } else {
            wb_conn_set_jq(c, el->jq);
            wb_conn_reload(c, st);
            wb_settings_unref(st);
        }
        i++;
    }
    /* added (or rebuilt) */
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction != WB_DIR_OUTBOUND || loop_of(cc->name, el->e->nloops) != el->idx)
            continue;
        size_t k = 0;
        while (k < el->nconns && strcmp(el->conns[k]->name, cc->name))
            k++;
        if (k < el->nconns) continue;
        if (!add_conn(el, cfg, cc, errstr, sizeof(errstr)))
            WB_ERROR("reload: connector %s not started: %s", cc->name, errstr);
        else
            WB_WARN("reload: connector %s started", cc->name);
    }
}

static void run_cmds(wb_loop *lp, void *arg)
{
    wb_engine_loop *el = arg;
    pthread_mutex_lock(&el->cmd_lock);
    STAILQ_HEAD(, cmd) list = STAILQ_HEAD_INITIALIZER(list);
    STAILQ_CONCAT(&list, &el->cmds); /* all of them: a command never cancels another */
    pthread_mutex_unlock(&el->cmd_lock);
    cmd *k;
    while ((k = STAILQ_FIRST(&list))) {
        STAILQ_REMOVE_HEAD(&list, link);
        switch (k->kind) {
        case CMD_RELOAD:
            if (!el->stopping) apply_reload(el, k->cfg);
            wb_config_unref(k->cfg);
            break;
        case CMD_PAUSE:
            for (size_t i = 0; i < el->nconns; i++)
                if (!strcmp(el->conns[i]->name, k->name))
                    wb_conn_set_paused(el->conns[i], k->paused);
            break;
        case CMD_STOP:
            el->stopping = 1;
            el->stop_deadline = k->deadline;
            for (size_t i = 0; i < el->nconns; i++)
                wb_conn_stop(el->conns[i], k->deadline);
            break;
        }
        free(k);
    }
}

static void post(wb_engine_loop *el, cmd *k)
{
    pthread_mutex_lock(&el->cmd_lock);
    STAILQ_INSERT_TAIL(&el->cmds, k, link);
    pthread_mutex_unlock(&el->cmd_lock);
    wb_loop_post(el->lp, &el->cmd_msg, run_cmds, el);
}

/* Free retired connectors that have finished; 1 when everything of the loop has stopped. */
static int reap(wb_engine_loop *el)
{
    for (size_t i = 0; i < el->nretiring;) {
        if (wb_conn_stopped(el->retiring[i])) {
            wb_conn_free(el->retiring[i]);
            el->retiring[i] = el->retiring[--el->nretiring];
        } else {
            i++;
        }
    }
    if (!el->stopping) return 0;
    for (size_t i = 0; i < el->nconns; i++)
        if (!wb_conn_stopped(el->conns[i])) return 0;
    return el->nretiring == 0;
}

static void *loop_main(void *arg)
{
    wb_engine_loop *el = arg;
    while (!atomic_load(&el->done)) {
        if (el->beat) el->beat(el->beat_ctx);
        if (wb_loop_run_once(el->lp, 100) < 0) {
            WB_ERROR("outbound loop %d: epoll failed", el->idx);
            wb_fatal_raise("outbound loop", "epoll failed");
            break;
        }
        if (reap(el)) break;
        /* Past the drain and the close grace: leave what is left for the teardown. */
        if (el->stopping && wb_now_ms() > el->stop_deadline + CLOSE_GRACE_MS) break;
    }
    atomic_store(&el->done, 1);
    return NULL;
}

/* The registry's fetch thread has an answer: the loop resumes the partitions waiting for it
 * (at most one notice is queued at a time; a resumed partition that still lacks its schema
 * simply waits again). */
static void run_fetched(wb_loop *lp, void *arg)
{
    wb_engine_loop *el = arg;
    for (size_t i = 0; i < el->nconns; i++)
        wb_conn_registry_ready(el->conns[i]);
}

static void on_fetched(void *ctx, int32_t id)
{
    wb_engine_loop *el = ctx;
    wb_loop_post(el->lp, &el->schema_msg, run_fetched, el);
}

/* ------------------------------------------------------------------------------------ */
/* Engine                                                                               */

static void loop_teardown(wb_engine_loop *el)
{
    for (size_t i = 0; i < el->nconns; i++)
        wb_conn_free(el->conns[i]);
    for (size_t i = 0; i < el->nretiring; i++)
        wb_conn_free(el->retiring[i]);
    free(el->conns);
    free(el->retiring);
    el->conns = el->retiring = NULL;
    el->nconns = el->nretiring = 0;
    if (el->jq) wb_jq_free(el->jq);
    wb_http_free(el->http);
    if (el->schemas) wb_schemas_free(el->schemas);
    cmd *k;
    while ((k = STAILQ_FIRST(&el->cmds))) {
        STAILQ_REMOVE_HEAD(&el->cmds, link);
        if (k->kind == CMD_RELOAD) wb_config_unref(k->cfg);
        free(k);
    }
    wb_loop_free(el->lp);
    pthread_mutex_destroy(&el->cmd_lock);
    pthread_mutex_destroy(&el->conns_lock);
}

/* Avro: a registry, or a local schemas folder with a manifest. */
wb_schemas *wb_engine_open_schemas(const wb_config *cfg, int async, char *errstr,
                                   size_t errstr_size, int *fail)
{
    *fail = 0;
    int need = cfg->schema_registry.url != NULL;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        need |=
            cfg->connectors[i].direction == WB_DIR_OUTBOUND && cfg->connectors[i].contract != NULL;
    char manifest[4096];
    snprintf(manifest, sizeof(manifest), "%s/manifest.json",
             cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas");
    int have_dir = cfg->schema_registry.dir && access(manifest, R_OK) == 0;
    if (!need && !have_dir) return NULL;
    wb_registry_opts ro = {.url = cfg->schema_registry.url,
                           .username = cfg->schema_registry.username,
                           .password = cfg->schema_registry.password,
                           .bearer = cfg->schema_registry.bearer_token,
                           .async_fetch = async && cfg->schema_registry.url != NULL,
                           .cache_size = cfg->schema_registry.cache_size,
                           .negative_ttl_ms = cfg->schema_registry.negative_ttl_ms};
    char serr[512];
    wb_schemas *s =
        wb_schemas_new_opts(have_dir ? cfg->schema_registry.dir : NULL, &ro, serr, sizeof(serr));
    if (!s) {
        snprintf(errstr, errstr_size, "schemas: %s", serr);
        *fail = 1;
    }
    return s;
}

wb_engine *wb_engine_new(wb_config *cfg, const char *bootstrap, wb_producer *prod, char *errstr,
                         size_t errstr_size)
{
    if (wb_engine_check(cfg, errstr, errstr_size)) return NULL;
    wb_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    e->cfg = wb_config_ref(cfg);
    e->bootstrap = bootstrap ? strdup(bootstrap) : NULL;
    e->prod = prod;
    pthread_mutex_init(&e->cfg_lock, NULL);
    e->sampler = wb_sampler_new(wb_producer_handle(prod), cfg);
    if (!e->sampler) goto oom;
    e->m_dlq_transient =
        wb_metrics_counter("webhook_bridge_dead_letter_write_failures_total",
                           "Dead-letter writes that failed (retried)", "kind=\"transient\"");
    e->m_dlq_permanent =
        wb_metrics_counter("webhook_bridge_dead_letter_write_failures_total",
                           "Dead-letter writes that failed (retried)", "kind=\"permanent\"");
    e->nloops = cfg->outbound.loops > 0 ? cfg->outbound.loops : 1;
    e->loops = calloc((size_t)e->nloops, sizeof(*e->loops));
    if (!e->loops) goto oom;
    for (int i = 0; i < e->nloops; i++) {
        wb_engine_loop *el = &e->loops[i];
        el->e = e;
        el->idx = i;
        pthread_mutex_init(&el->cmd_lock, NULL);
        STAILQ_INIT(&el->cmds);
        pthread_mutex_init(&el->conns_lock, NULL);
        el->hooks = (wb_conn_hooks){.high_watermark = hook_hw,
                                    .partition_count = hook_partitions,
                                    .retention_ms = hook_retention,
                                    .observe = hook_observe,
                                    .dlq_failing = hook_dlq_failing,
                                    .dlq_write_failed = hook_dlq_write_failed};
        el->lp = wb_loop_new(errstr, errstr_size);
        if (!el->lp) goto fail;
        /* Connections: the sum of the loop's connectors' concurrency (each scheduler caps
         * its own connector); waiting inside libcurl for a connection costs it CPU. */
        int conc = 0;
        for (size_t k = 0; k < cfg->nconnectors; k++)
            if (cfg->connectors[k].direction == WB_DIR_OUTBOUND &&
                loop_of(cfg->connectors[k].name, e->nloops) == i)
                conc += cfg->connectors[k].max_concurrency;
        wb_http_opts ho = {.max_total_connections = conc > 0 ? conc : 1};
        el->http = wb_http_new(el->lp, &ho, errstr, errstr_size);
        if (!el->http) goto fail;
        int sfail;
        el->schemas = wb_engine_open_schemas(cfg, 1, errstr, errstr_size, &sfail);
        if (sfail) goto fail;
        if (el->schemas) wb_schemas_set_notify(el->schemas, on_fetched, el);
    }
    for (size_t k = 0; k < cfg->nconnectors; k++) {
        const wb_connector *cc = &cfg->connectors[k];
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        if (!add_conn(&e->loops[loop_of(cc->name, e->nloops)], cfg, cc, errstr, errstr_size))
            goto fail;
    }
    return e;
oom:
    snprintf(errstr, errstr_size, "out of memory");
fail:
    wb_engine_free(e);
    return NULL;
}

void wb_engine_observe(wb_engine *e, void (*fn)(void *ctx, const wb_delivery_event *ev), void *ctx)
{
    e->observe = fn;
    e->observe_ctx = ctx;
}

int wb_engine_loops(const wb_engine *e)
{
    return e->nloops;
}

void wb_engine_set_heartbeat(wb_engine *e, int loop, wb_engine_beat_fn beat, void *ctx)
{
    if (loop < 0 || loop >= e->nloops) return;
    e->loops[loop].beat = beat;
    e->loops[loop].beat_ctx = ctx;
}

wb_err wb_engine_start(wb_engine *e, char *errstr, size_t errstr_size)
{
    for (int i = 0; i < e->nloops; i++) {
        if (pthread_create(&e->loops[i].thread, NULL, loop_main, &e->loops[i])) {
            snprintf(errstr, errstr_size, "cannot start outbound loop %d", i);
            return WB_ERR_NOMEM;
        }
        e->loops[i].started = 1;
    }
    if (wb_sampler_start(e->sampler)) {
        snprintf(errstr, errstr_size, "cannot start the sampler thread");
        return WB_ERR_NOMEM;
    }
    return WB_OK;
}

wb_err wb_engine_reload(wb_engine *e, wb_config *cfg, char *errstr, size_t errstr_size)
{
    if (wb_engine_check(cfg, errstr, errstr_size)) return WB_ERR_CONFIG;
    if (cfg->outbound.loops != e->cfg->outbound.loops)
        WB_WARN("reload: outbound.loops changes on restart");
    for (int i = 0; i < e->nloops; i++) {
        cmd *k = calloc(1, sizeof(*k));
        if (!k) {
            snprintf(errstr, errstr_size, "out of memory");
            return WB_ERR_NOMEM; /* loops before i got it: they run the new generation */
        }
        k->kind = CMD_RELOAD;
        k->cfg = wb_config_ref(cfg);
        post(&e->loops[i], k);
    }
    pthread_mutex_lock(&e->cfg_lock);
    wb_config *old = e->cfg;
    e->cfg = wb_config_ref(cfg);
    pthread_mutex_unlock(&e->cfg_lock);
    wb_sampler_set_config(e->sampler, cfg);
    wb_config_unref(old);
    return WB_OK;
}

wb_err wb_engine_pause(wb_engine *e, const char *name, int paused)
{
    int found = 0;
    pthread_mutex_lock(&e->cfg_lock);
    const wb_connector *cc = wb_config_connector(e->cfg, name);
    found = cc && cc->direction == WB_DIR_OUTBOUND;
    pthread_mutex_unlock(&e->cfg_lock);
    if (!found) return WB_ERR_NOT_FOUND;
    cmd *k = calloc(1, sizeof(*k));
    if (!k) return WB_ERR_NOMEM;
    k->kind = CMD_PAUSE;
    k->paused = paused;
    snprintf(k->name, sizeof(k->name), "%s", name);
    post(&e->loops[loop_of(name, e->nloops)], k);
    return WB_OK;
}

static int cmp_status(const void *a, const void *b)
{
    return strcmp(((const wb_conn_status *)a)->name, ((const wb_conn_status *)b)->name);
}

size_t wb_engine_status(wb_engine *e, wb_conn_status *out, size_t max)
{
    /* The connector arrays change only on their loop, under conns_lock. */
    size_t n = 0;
    for (int i = 0; i < e->nloops; i++) {
        wb_engine_loop *el = &e->loops[i];
        pthread_mutex_lock(&el->conns_lock);
        for (size_t k = 0; k < el->nconns; k++, n++)
            if (out && n < max) wb_conn_get_status(el->conns[k], &out[n]);
        pthread_mutex_unlock(&el->conns_lock);
    }
    if (out && n) qsort(out, n < max ? n : max, sizeof(*out), cmp_status);
    return n;
}

int wb_engine_ready(wb_engine *e, wb_buf *why)
{
    if (atomic_load(&e->dlq_failing) > 0) {
        wb_buf_printf(why, "%d dead-letter write(s) failing", atomic_load(&e->dlq_failing));
        return 0;
    }
    size_t n = wb_engine_status(e, NULL, 0);
    wb_conn_status *st = n ? calloc(n, sizeof(*st)) : NULL;
    if (n && !st) return 1;
    n = wb_engine_status(e, st, n);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(st[i].state, "starting") || !strcmp(st[i].state, "failed")) {
            if (ok) wb_buf_printf(why, "connector %s %s", st[i].name, st[i].state);
            ok = 0;
        }
    }
    free(st);
    return ok;
}

void wb_engine_stop(wb_engine *e, int64_t deadline_ms)
{
    for (int i = 0; i < e->nloops; i++) {
        cmd *k = calloc(1, sizeof(*k));
        if (!k) {
            atomic_store(&e->loops[i].done, 1); /* no memory: stop it hard */
            continue;
        }
        k->kind = CMD_STOP;
        k->deadline = deadline_ms;
        post(&e->loops[i], k);
    }
}

int wb_engine_wait(wb_engine *e, int64_t until_ms)
{
    int clean = 1;
    for (int i = 0; i < e->nloops; i++) {
        wb_engine_loop *el = &e->loops[i];
        if (!el->started) continue;
        while (!atomic_load(&el->done) && wb_now_ms() < until_ms)
            usleep(20000);
        if (!atomic_load(&el->done)) {
            clean = 0;
            atomic_store(&el->done, 1);
            wb_loop_wakeup(el->lp);
        }
        pthread_join(el->thread, NULL);
        el->started = 0;
        for (size_t k = 0; k < el->nconns; k++)
            clean &= wb_conn_stopped(el->conns[k]);
        clean &= el->nretiring == 0;
    }
    wb_sampler_stop(e->sampler);
    return clean ? 0 : 1;
}

void wb_engine_free(wb_engine *e)
{
    if (!e) return;
    wb_engine_wait(e, 0);
    for (int i = 0; e->loops && i < e->nloops; i++)
        if (e->loops[i].lp) loop_teardown(&e->loops[i]);
    free(e->loops);
    wb_sampler_free(e->sampler);
    free(e->bootstrap);
    wb_config_unref(e->cfg);
    pthread_mutex_destroy(&e->cfg_lock);
    free(e);
}
