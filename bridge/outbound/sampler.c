/* outbound/sampler.c - the cluster facts the connectors' gauges need, sampled off the loops
 * (see sampler.h): log end offsets and partition counts every SAMPLE_MS, topic retention.ms
 * every RETENTION_MS, all through the producer's client (metadata, ListOffsets,
 * DescribeConfigs), so no connector's loop ever blocks on a cluster query. */
#include "outbound/sampler.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

#define SAMPLE_MS    5000   /* log end offsets and partition counts */
#define RETENTION_MS 600000 /* topic configs */

typedef struct topic_facts {
    char *topic;
    int partitions;
    int64_t *hw; /* per partition, -1 unknown */
    int64_t retention_ms;
} topic_facts;

struct wb_sampler {
    rd_kafka_t *rk; /* borrowed: the producer's client */
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* everything below; the thread waits on cond between samples */
    pthread_cond_t cond;
    int quit;
    char **topics; /* what to sample: the current generation's outbound topics */
    size_t ntopics;
    topic_facts *facts;
    size_t nfacts;
    int retention_warned; /* sampler thread only */
    _Atomic int64_t retention_fallback_ms;
};

/* ------------------------------------------------------------------------------------ */
/* Sampling (sampler thread)                                                            */

/* Cluster facts (sampler thread writes, gauge timers read)                             */

static topic_facts *facts_find(wb_sampler *s, const char *topic)
{
    for (size_t i = 0; i < s->nfacts; i++)
        if (!strcmp(s->facts[i].topic, topic)) return &s->facts[i];
    return NULL;
}

/* retention.ms of each topic, from the brokers (DescribeConfigs). A broker that does not
 * answer (the embedded mock cluster does not implement it) leaves the configured
 * outbound.retention in place. */
static void sample_retention(wb_sampler *s, rd_kafka_t *rk, char **topics, size_t n, int64_t *out)
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
        if (!s->retention_warned)
            WB_INFO("topic retention.ms not available from the brokers (%s): assuming "
                    "outbound.retention (%" PRId64 " ms) for the retention headroom gauge",
                    ev ? rd_kafka_event_error_string(ev) : "timed out",
                    atomic_load(&s->retention_fallback_ms));
        s->retention_warned = 1;
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

static void sample_once(wb_sampler *s, int with_retention)
{
    rd_kafka_t *rk = s->rk;
    char **topics = NULL;
    size_t n = 0;
    pthread_mutex_lock(&s->lock); /* a copy: set_topics may replace the list meanwhile */
    for (size_t i = 0; i < s->ntopics; i++) {
        char **nv = realloc(topics, (n + 1) * sizeof(*nv));
        if (!nv) break;
        topics = nv;
        if ((topics[n] = strdup(s->topics[i]))) n++;
    }
    pthread_mutex_unlock(&s->lock);
    if (!n) {
        free(topics);
        return;
    }
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
    if (with_retention && ret) sample_retention(s, rk, topics, n, ret);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; parts && ret && i < n; i++) {
        topic_facts *f = facts_find(s, topics[i]);
        if (!f) {
            topic_facts *nf = realloc(s->facts, (s->nfacts + 1) * sizeof(*nf));
            if (!nf) break;
            s->facts = nf;
            f = &s->facts[s->nfacts++];
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
    pthread_mutex_unlock(&s->lock);
    rd_kafka_topic_partition_list_destroy(l);
    for (size_t i = 0; i < n; i++)
        free(topics[i]);
    free(topics);
    free(parts);
    free(ret);
}

static void *sampler_main(void *arg)
{
    wb_sampler *s = arg;
    int64_t next_retention = 0;
    pthread_mutex_lock(&s->lock);
    while (!s->quit) {
        pthread_mutex_unlock(&s->lock);
        int64_t now = wb_now_ms();
        sample_once(s, now >= next_retention);
        if (now >= next_retention) next_retention = now + RETENTION_MS;
        pthread_mutex_lock(&s->lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += SAMPLE_MS / 1000;
        if (!s->quit) pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Topics some outbound connector of cfg consumes (deduplicated, each strdup'ed). */
static size_t wanted_topics(const wb_config *cfg, char ***out)
{
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
    *out = v;
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* Lifetime and queries                                                                 */

wb_sampler *wb_sampler_new(rd_kafka_t *rk, const wb_config *cfg)
{
    wb_sampler *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->rk = rk;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    wb_sampler_set_config(s, cfg);
    return s;
}

void wb_sampler_set_config(wb_sampler *s, const wb_config *cfg)
{
    char **topics;
    size_t n = wanted_topics(cfg, &topics);
    pthread_mutex_lock(&s->lock);
    char **old = s->topics;
    size_t nold = s->ntopics;
    s->topics = topics;
    s->ntopics = n;
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < nold; i++)
        free(old[i]);
    free(old);
    atomic_store(&s->retention_fallback_ms, cfg->outbound.retention_ms);
}

wb_err wb_sampler_start(wb_sampler *s)
{
    if (pthread_create(&s->thread, NULL, sampler_main, s)) return WB_ERR_NOMEM;
    s->started = 1;
    return WB_OK;
}

void wb_sampler_stop(wb_sampler *s)
{
    if (!s || !s->started) return;
    pthread_mutex_lock(&s->lock);
    s->quit = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->started = 0;
}

void wb_sampler_free(wb_sampler *s)
{
    if (!s) return;
    wb_sampler_stop(s);
    for (size_t i = 0; i < s->nfacts; i++) {
        free(s->facts[i].topic);
        free(s->facts[i].hw);
    }
    free(s->facts);
    for (size_t i = 0; i < s->ntopics; i++)
        free(s->topics[i]);
    free(s->topics);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

int64_t wb_sampler_high_watermark(wb_sampler *s, const char *topic, int32_t partition)
{
    int64_t v = -1;
    pthread_mutex_lock(&s->lock);
    topic_facts *f = facts_find(s, topic);
    if (f && partition >= 0 && partition < f->partitions) v = f->hw[partition];
    pthread_mutex_unlock(&s->lock);
    return v;
}

int wb_sampler_partitions(wb_sampler *s, const char *topic)
{
    pthread_mutex_lock(&s->lock);
    topic_facts *f = facts_find(s, topic);
    int n = f ? f->partitions : 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int64_t wb_sampler_retention_ms(wb_sampler *s, const char *topic)
{
    pthread_mutex_lock(&s->lock);
    topic_facts *f = facts_find(s, topic);
    int64_t v = f && f->retention_ms > 0 ? f->retention_ms : atomic_load(&s->retention_fallback_ms);
    pthread_mutex_unlock(&s->lock);
    return v;
}
