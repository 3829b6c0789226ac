/* producer.c - idempotent producer with a dedicated poll thread for delivery reports. */
#include "kafka/producer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fatal.h"
#include "kafka/kafka.h"
#include "core/log.h"
#include "core/util.h"

struct wb_producer {
    rd_kafka_t *rk;
    pthread_t thread;
    atomic_int stop;
    atomic_int connected;
    atomic_llong down_since_ms; /* monotonic ms of the last all-brokers-down, 0 = none */
};

/* Per-record completion, carried as the message opaque. Freed by the delivery report.
 * Exactly one of cb / ex is set. */
typedef struct pending {
    wb_produce_cb cb;
    wb_produce_ex_cb ex;
    void *opaque;
} pending;

int wb_producer_error_permanent(int kafka_err)
{
    switch (kafka_err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return 1;
    default:
        return 0;
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *unused)
{
    wb_producer *p = rd_kafka_opaque(rk);
    pending *pd = rkm->_private;
    if (!rkm->err) atomic_store(&p->connected, 1);
    if (!pd) return;
    if (pd->ex) {
        wb_produce_result res = {
            .err = rkm->err ? WB_ERR_KAFKA : WB_OK,
            .kafka_err = rkm->err,
            .permanent = rkm->err ? wb_producer_error_permanent(rkm->err) : 0,
            .errmsg = rkm->err ? rd_kafka_err2str(rkm->err) : "",
            .partition = rkm->partition,
            .offset = rkm->err ? -1 : rkm->offset,
        };
        pd->ex(pd->opaque, &res);
    } else if (rkm->err) {
        pd->cb(pd->opaque, WB_ERR_KAFKA, rd_kafka_err2str(rkm->err), rkm->partition, -1);
    } else {
        pd->cb(pd->opaque, WB_OK, NULL, rkm->partition, rkm->offset);
    }
    free(pd);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *unused)
{
    wb_producer *p = rd_kafka_opaque(rk);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        atomic_store(&p->connected, 0);
        atomic_store(&p->down_since_ms, wb_now_ms());
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        /* The idempotent producer is fenced or its sequence broke: this instance can write
         * nothing more, and inbound acks and dead-letter parking depend on it. */
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: %s", rd_kafka_err2name(orig), why);
        wb_fatal_raise("kafka producer", msg);
        return;
    }
    WB_WARN("kafka producer: %s: %s", rd_kafka_err2name(err), reason);
}

/* Serves delivery reports, and probes metadata every few seconds so readiness reflects
 * whether the cluster is reachable even when nothing is being produced. */
static void *run(void *arg)
{
    wb_producer *p = arg;
    int64_t next_probe = 0;
    while (!atomic_load(&p->stop)) {
        rd_kafka_poll(p->rk, 100);
        int64_t now = wb_now_ms();
        if (now >= next_probe) {
            const struct rd_kafka_metadata *md = NULL;
            rd_kafka_resp_err_t err = rd_kafka_metadata(p->rk, 0, NULL, &md, 1000);
            int ok = !err && md && md->broker_cnt > 0;
            if (md) rd_kafka_metadata_destroy(md);
            atomic_store(&p->connected, ok);
            next_probe = wb_now_ms() + (ok ? 5000 : 1000);
        }
    }
    return NULL;
}

wb_producer *wb_producer_new(const wb_config *cfg, const char *bootstrap, char *errstr,
                             size_t errstr_size)
{
    wb_producer *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rd_kafka_conf_t *conf = wb_kafka_conf(cfg, WB_KAFKA_PRODUCER, bootstrap, errstr, errstr_size);
    if (!conf) goto fail;
    char kerr[256];
    /* Safety first: the bridge acknowledges partners and stores offsets on these acks, so
     * idempotence and acks=all are forced over any kafka.* key; batching and timeouts are
     * only defaults. */
    static const char *const safe[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        {"message.timeout.ms", "30000"},
        {"socket.keepalive.enable", "true"},
    };
    for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
        /* The first two are forced; the others are defaults an operator may override. */
        int user_set = 0;
        for (size_t k = 0; i >= 2 && k < cfg->nkafka; k++)
            user_set |= !strcmp(cfg->kafka[k].key, safe[i][0]);
        if (user_set) continue;
        if (rd_kafka_conf_set(conf, safe[i][0], safe[i][1], kerr, sizeof(kerr)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "producer: %s: %s", safe[i][0], kerr);
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr));
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "producer: %s", kerr);
        goto fail;
    }
    if (pthread_create(&p->thread, NULL, run, p)) {
        snprintf(errstr, errstr_size, "producer: cannot start thread");
        rd_kafka_destroy(p->rk);
        goto fail;
    }
    return p;
fail:
    free(p);
    return NULL;
}

static wb_err produce(wb_producer *p, const char *topic, int32_t partition, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t ts_ms,
                      rd_kafka_headers_t *hdrs, pending *pd, wb_produce_result *sync)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
        RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_TIMESTAMP(ts_ms > 0 ? ts_ms : 0),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(pd), RD_KAFKA_V_END);
    if (!err) return WB_OK;
    free(pd);
    if (sync) {
        sync->err = err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? WB_ERR_FULL : WB_ERR_KAFKA;
        sync->kafka_err = err;
        sync->permanent = wb_producer_error_permanent(err);
        sync->errmsg = rd_kafka_err2str(err);
        sync->partition = partition;
        sync->offset = -1;
    }
    WB_WARN("kafka produce to %s refused: %s", topic, rd_kafka_err2str(err));
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return WB_ERR_FULL;
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) return WB_ERR_TOO_LARGE;
    return WB_ERR_KAFKA;
}

wb_err wb_producer_send(wb_producer *p, const char *topic, int32_t partition, const void *key,
                        size_t klen, const void *val, size_t vlen, rd_kafka_headers_t *hdrs,
                        wb_produce_cb cb, void *opaque)
{
    pending *pd = calloc(1, sizeof(*pd));
    if (!pd) return WB_ERR_NOMEM;
    pd->cb = cb;
    pd->opaque = opaque;
    wb_err err = produce(p, topic, partition, key, klen, val, vlen, 0, hdrs, pd, NULL);
    return err == WB_ERR_TOO_LARGE ? WB_ERR_KAFKA : err;
}

wb_err wb_producer_send_ex(wb_producer *p, const char *topic, int32_t partition, const void *key,
                           size_t klen, const void *val, size_t vlen, int64_t ts_ms,
                           rd_kafka_headers_t *hdrs, wb_produce_ex_cb cb, void *opaque,
                           wb_produce_result *sync)
{
    pending *pd = calloc(1, sizeof(*pd));
    if (!pd) {
        if (sync) *sync = (wb_produce_result){.err = WB_ERR_NOMEM, .errmsg = "out of memory"};
        return WB_ERR_NOMEM;
    }
    pd->ex = cb;
    pd->opaque = opaque;
    return produce(p, topic, partition, key, klen, val, vlen, ts_ms, hdrs, pd, sync);
}

int wb_producer_connected(wb_producer *p)
{
    return atomic_load(&p->connected);
}

rd_kafka_t *wb_producer_handle(wb_producer *p)
{
    return p ? p->rk : NULL;
}

void wb_producer_free(wb_producer *p, int timeout_ms)
{
    if (!p) return;
    rd_kafka_flush(p->rk, timeout_ms);
    atomic_store(&p->stop, 1);
    pthread_join(p->thread, NULL);
    /* rd_kafka_destroy purges what is left; their reports fire from here via a final poll. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(p->rk, 1000); /* serves the purged records' reports (with an error) */
    rd_kafka_destroy(p->rk);
    free(p);
}
