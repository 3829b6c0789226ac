/* outbound/engine.c - loops, connectors on them, reloads, the cluster sampler (engine.h).
 *
 * Threads and what they own:
 *   - each loop thread: its wb_loop, wb_http, wb_schemas and the connectors placed on it
 *     (everything a connector touches on the hot path);
 *   - the sampler thread: the table of cluster facts (log end offsets, partition counts,
 *     retention), guarded by `facts_lock`, read by the connectors' gauge timers;
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
#include "ops/admin.h"
#include "core/loop.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "http/http.h"
#include "schema/registry.h"
#include "core/util.h"

#define SAMPLE_MS      5000   /* log end offsets and partition counts */
#define RETENTION_MS   600000 /* topic configs */
#define CLOSE_GRACE_MS 5000   /* leaving the groups after the drain */

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                */

typedef enum cmd_kind { CMD_RELOAD, CMD_PAUSE, CMD_STOP } cmd_kind;

typedef struct cmd {
    struct cmd *next;
    cmd_kind kind;
    wb_config *cfg; /* CMD_RELOAD: a reference */
    int paused;     /* CMD_PAUSE */
    int64_t deadline;
    char name[65];
} cmd;

typedef struct topic_facts {
    char *topic;
    int partitions;
    int64_t *hw; /* per partition, -1 unknown */
    int64_t retention_ms;
} topic_facts;

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
    cmd *cmds, *cmds_tail;
    pthread_mutex_t conns_lock; /* conns/nconns change (loop thread) vs status readers */
    wb_loop_msg cmd_msg;
    wb_conn_hooks hooks;
    struct wb_heartbeat *hb;
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
    /* sampler */
    pthread_t sampler;
    int sampler_started;
    pthread_mutex_t facts_lock;
    pthread_cond_t facts_cond;
    int sampler_quit;
    topic_facts *facts;
    size_t nfacts;
    int retention_warned;
    /* dead-letter health */
    atomic_int dlq_failing;
    wb_counter *m_dlq_transient, *m_dlq_permanent;
    _Atomic int64_t retention_fallback_ms; /* outbound.retention of the current generation */
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
/* Cluster facts (sampler thread writes, gauge timers read)                             */

static topic_facts *facts_find(wb_engine *e, const char *topic)
{
    for (size_t i = 0; i < e->nfacts; i++)
        if (!strcmp(e->facts[i].topic, topic)) return &e->facts[i];
    return NULL;
}

static int64_t hook_hw(void *ctx, const char *topic, int32_t partition)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    int64_t v = -1;
    pthread_mutex_lock(&e->facts_lock);
    topic_facts *f = facts_find(e, topic);
    if (f && partition >= 0 && partition < f->partitions) v = f->hw[partition];
    pthread_mutex_unlock(&e->facts_lock);
    return v;
}

static int hook_partitions(void *ctx, const char *topic)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    pthread_mutex_lock(&e->facts_lock);
    topic_facts *f = facts_find(e, topic);
    int n = f ? f->partitions : 0;
    pthread_mutex_unlock(&e->facts_lock);
    return n;
}

static int64_t hook_retention(void *ctx, const char *topic)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    pthread_mutex_lock(&e->facts_lock);
    topic_facts *f = facts_find(e, topic);
    int64_t v = f && f->retention_ms > 0 ? f->retention_ms : atomic_load(&e->retention_fallback_ms);
    pthread_mutex_unlock(&e->facts_lock);
    return v;
}

static void hook_observe(void *ctx, const wb_delivery_event *ev)
{
    wb_engine *e = ((wb_engine_loop *)ctx)->e;
    if (e->observe) e->observe(e->observe_ctx, ev);
}

/* Topics some outbound connector of the current config consumes (deduplicated). */
static size_t wanted_topics(wb_engine *e, char ***out)
{
    pthread_mutex_lock(&e->cfg_lock);
    wb_config *cfg = wb_config_ref(e->cfg);
    pthread_mutex_unlock(&e->cfg_lock);
    char **v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        for (size_t t = 0; t < cc->ntopics; t++) {
            size_t k = 0;
            while (k < n && strcmp(v[k], cc->topics[t]))
                k++;
            if (k < n) continue;
            char **nv = realloc(v, (n + 1) * sizeof(*v));
            if (!nv) break;
            v = nv;
            if ((v[n] = strdup(cc->topics[t]))) n++;
        }
    }
    wb_config_unref(cfg);
    *out = v;
    return n;
}

/* retention.ms of each topic, from the brokers (DescribeConfigs). A broker that does not
 * answer (the embedded mock cluster does not implement it) leaves the configured
 * outbound.retention in place. */
static void sample_retention(wb_engine *e, rd_kafka_t *rk, char **topics, size_t n, int64_t *out)
{
    rd_kafka_ConfigResource_t **res = calloc(n, sizeof(*res));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (!res || !q) goto out;
    for (size_t i = 0; i < n; i++)
        res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topics[i]);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(opt, 5000, NULL, 0);
    rd_kafka_DescribeConfigs(rk, res, n, opt, q);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
    const rd_kafka_DescribeConfigs_result_t *r =
        ev ? rd_kafka_event_DescribeConfigs_result(ev) : NULL;
    if (!r || rd_kafka_event_error(ev)) {
        if (!e->retention_warned)
            WB_INFO("topic retention.ms not available from the brokers (%s): assuming "
                    "outbound.retention (%" PRId64 " ms) for the retention headroom gauge",
                    ev ? rd_kafka_event_error_string(ev) : "timed out",
                    atomic_load(&e->retention_fallback_ms));
        e->retention_warned = 1;
    } else {
        size_t cnt;
        const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(r, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            if (rd_kafka_ConfigResource_error(rs[i])) continue;
            size_t ne;
            const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[i], &ne);
            for (size_t k = 0; k < ne; k++) {
                if (strcmp(rd_kafka_ConfigEntry_name(ce[k]), "retention.ms")) continue;
                const char *v = rd_kafka_ConfigEntry_value(ce[k]);
                long long ms = v ? strtoll(v, NULL, 10) : 0;
                for (size_t t = 0; t < n; t++)
                    if (!strcmp(topics[t], rd_kafka_ConfigResource_name(rs[i])))
                        out[t] = ms > 0 ? ms : -1; /* -1: retention.ms=-1, kept forever */
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
out:
    for (size_t i = 0; res && i < n; i++)
        if (res[i]) rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (q) rd_kafka_queue_destroy(q);
}

static void sample_once(wb_engine *e, int with_retention)
{
    rd_kafka_t *rk = wb_producer_handle(e->prod);
    char **topics;
    size_t n = wanted_topics(e, &topics);
    if (!n) return;
    int *parts = calloc(n, sizeof(*parts));
    int64_t *ret = calloc(n, sizeof(*ret));
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (size_t i = 0; parts && ret && i < n; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[i], NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (rkt && !rd_kafka_metadata(rk, 0, rkt, &md, 5000) && md && md->topic_cnt == 1 &&
            !md->topics[0].err)
            parts[i] = md->topics[0].partition_cnt;
        if (md) rd_kafka_metadata_destroy(md);
        if (rkt) rd_kafka_topic_destroy(rkt);
        for (int p = 0; p < parts[i]; p++)
            rd_kafka_topic_partition_list_add(l, topics[i], p)->offset = -1; /* latest */
    }
    /* ListOffsets for "latest" (timestamp -1) of every partition in one go. */
    int ok = parts && ret && l->cnt > 0 && !rd_kafka_offsets_for_times(rk, l, 5000);
    if (with_retention && ret) sample_retention(e, rk, topics, n, ret);
    pthread_mutex_lock(&e->facts_lock);
    for (size_t i = 0; parts && ret && i < n; i++) {
        topic_facts *f = facts_find(e, topics[i]);
        if (!f) {
            topic_facts *nf = realloc(e->facts, (e->nfacts + 1) * sizeof(*nf));
            if (!nf) break;
            e->facts = nf;
            f = &e->facts[e->nfacts++];
            memset(f, 0, sizeof(*f));
            f->topic = strdup(topics[i]);
        }
        if (parts[i] > 0 && parts[i] != f->partitions) {
            int64_t *hw = realloc(f->hw, (size_t)parts[i] * sizeof(*hw));
            if (!hw) continue;
            for (int p = f->partitions; p < parts[i]; p++)
                hw[p] = -1;
            f->hw = hw;
            f->partitions = parts[i];
        }
        if (with_retention && ret[i]) f->retention_ms = ret[i] > 0 ? ret[i] : INT64_MAX / 4;
        for (int k = 0; ok && k < l->cnt; k++)
            if (!strcmp(l->elems[k].topic, topics[i]) && !l->elems[k].err &&
                l->elems[k].offset >= 0 && l->elems[k].partition < f->partitions)
                f->hw[l->elems[k].partition] = l->elems[k].offset;
    }
    pthread_mutex_unlock(&e->facts_lock);
    rd_kafka_topic_partition_list_destroy(l);
    for (size_t i = 0; i < n; i++)
        free(topics[i]);
    free(topics);
    free(parts);
    free(ret);
}

static void *sampler_main(void *arg)
{
    wb_engine *e = arg;
    int64_t next_retention = 0;
    pthread_mutex_lock(&e->facts_lock);
    while (!e->sampler_quit) {
        pthread_mutex_unlock(&e->facts_lock);
        int64_t now = wb_now_ms();
        sample_once(e, now >= next_retention);
        if (now >= next_retention) next_retention = now + RETENTION_MS;
        pthread_mutex_lock(&e->facts_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SAMPLE_MS / 1000;
        if (!e->sampler_quit) pthread_cond_timedwait(&e->facts_cond, &e->facts_lock, &ts);
    }
    pthread_mutex_unlock(&e->facts_lock);
    return NULL;
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
    cmd *list = el->cmds;
    el->cmds = el->cmds_tail = NULL;
    pthread_mutex_unlock(&el->cmd_lock);
    while (list) {
        cmd *k = list;
        list = k->next;
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
    if (el->cmds_tail)
        el->cmds_tail->next = k;
    else
        el->cmds = k;
    el->cmds_tail = k;
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
        wb_heartbeat_beat(el->hb);
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
    while (el->cmds) {
        cmd *k = el->cmds;
        el->cmds = k->next;
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
    atomic_store(&e->retention_fallback_ms, cfg->outbound.retention_ms);
    pthread_mutex_init(&e->cfg_lock, NULL);
    pthread_mutex_init(&e->facts_lock, NULL);
    pthread_cond_init(&e->facts_cond, NULL);
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
        pthread_mutex_init(&el->conns_lock, NULL);
        el->hooks = (wb_conn_hooks){.high_watermark = hook_hw,
                                    .partition_count = hook_partitions,
                                    .retention_ms = hook_retention,
                                    .observe = hook_observe};
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

void wb_engine_set_heartbeat(wb_engine *e, int loop, struct wb_heartbeat *hb)
{
    if (loop >= 0 && loop < e->nloops) e->loops[loop].hb = hb;
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
    if (pthread_create(&e->sampler, NULL, sampler_main, e)) {
        snprintf(errstr, errstr_size, "cannot start the sampler thread");
        return WB_ERR_NOMEM;
    }
    e->sampler_started = 1;
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
    atomic_store(&e->retention_fallback_ms, cfg->outbound.retention_ms);
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
    if (e->sampler_started) {
        pthread_mutex_lock(&e->facts_lock);
        e->sampler_quit = 1;
        pthread_cond_broadcast(&e->facts_cond);
        pthread_mutex_unlock(&e->facts_lock);
        pthread_join(e->sampler, NULL);
        e->sampler_started = 0;
    }
    return clean ? 0 : 1;
}

void wb_engine_free(wb_engine *e)
{
    if (!e) return;
    wb_engine_wait(e, 0);
    for (int i = 0; e->loops && i < e->nloops; i++)
        if (e->loops[i].lp) loop_teardown(&e->loops[i]);
    free(e->loops);
    for (size_t i = 0; i < e->nfacts; i++) {
        free(e->facts[i].topic);
        free(e->facts[i].hw);
    }
    free(e->facts);
    free(e->bootstrap);
    wb_config_unref(e->cfg);
    pthread_mutex_destroy(&e->cfg_lock);
    pthread_mutex_destroy(&e->facts_lock);
    pthread_cond_destroy(&e->facts_cond);
    free(e);
}

void wb_engine_dlq_failing(wb_engine_loop *el, int delta)
{
    atomic_fetch_add(&el->e->dlq_failing, delta);
}

wb_counter *wb_engine_m_dlq_transient(wb_engine_loop *el)
{
    return el->e->m_dlq_transient;
}

wb_counter *wb_engine_m_dlq_permanent(wb_engine_loop *el)
{
    return el->e->m_dlq_permanent;
}
