/* kafka.c - librdkafka configuration and the embedded mock cluster. */
#include "kafka/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct wb_embedded {
    rd_kafka_t *rk; /* owner handle the mock cluster hangs off */
    rd_kafka_mock_cluster_t *mcluster;
    char *bootstraps;
    int partitions;
};

/* Whether a librdkafka property only concerns the other role. */
static int other_role(const char *key, wb_kafka_role role)
{
    static const char *const consumer_only[] = {"group.",
                                                "auto.offset.reset",
                                                "enable.auto.",
                                                "auto.commit.",
                                                "partition.assignment",
                                                "session.timeout",
                                                "heartbeat.",
                                                "max.poll",
                                                "fetch.",
                                                "isolation.level",
                                                "check.crcs",
                                                "queued.",
                                                "consume.",
                                                "enable.partition.eof",
                                                "offset.store",
                                                "allow.auto.create"};
    static const char *const producer_only[] = {"acks",
                                                "request.required.acks",
                                                "linger.ms",
                                                "queue.buffering.",
                                                "batch.",
                                                "message.timeout.ms",
                                                "delivery.timeout.ms",
                                                "enable.idempotence",
                                                "compression.",
                                                "retries",
                                                "message.send.max.retries",
                                                "transactional.",
                                                "partitioner",
                                                "sticky.partitioning"};
    const char *const *list = role == WB_KAFKA_PRODUCER ? consumer_only : producer_only;
    size_t n = role == WB_KAFKA_PRODUCER ? sizeof(consumer_only) / sizeof(*consumer_only)
                                         : sizeof(producer_only) / sizeof(*producer_only);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(key, list[i], strlen(list[i]))) return 1;
    return 0;
}

rd_kafka_conf_t *wb_kafka_conf(const wb_config *cfg, wb_kafka_role role, const char *bootstrap,
                               char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char kerr[256];
    for (size_t i = 0; i < cfg->nkafka; i++) {
        if (other_role(cfg->kafka[i].key, role)) continue;
        if (rd_kafka_conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value, kerr, sizeof(kerr)) !=
            RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s: kafka.%s: %s", cfg->path ? cfg->path : "config",
                     cfg->kafka[i].key, kerr);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (bootstrap && rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, kerr, sizeof(kerr)) !=
                         RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "bootstrap.servers: %s", kerr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

wb_err wb_embedded_topic(wb_embedded *e, const char *topic, int partitions)
{
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
        e->mcluster, topic, partitions > 0 ? partitions : e->partitions, 1);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        WB_ERROR("embedded kafka: cannot create topic %s: %s", topic, rd_kafka_err2str(err));
        return WB_ERR_KAFKA;
    }
    return WB_OK;
}

wb_embedded *wb_embedded_start(const wb_config *cfg, char *errstr, size_t errstr_size)
{
    char kerr[256];
    wb_embedded *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    e->partitions = cfg->embedded_partitions > 0 ? cfg->embedded_partitions : 4;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A handle with no brokers of its own: it only owns the mock cluster's threads. */
    rd_kafka_conf_set(conf, "log_level", "3", kerr, sizeof(kerr));
    e->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr));
    if (!e->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "embedded kafka: %s", kerr);
        goto fail;
    }
    e->mcluster =
        rd_kafka_mock_cluster_new(e->rk, cfg->embedded_brokers > 0 ? cfg->embedded_brokers : 3);
    if (!e->mcluster) {
        snprintf(errstr, errstr_size, "embedded kafka: cannot start the mock cluster");
        goto fail;
    }
    e->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(e->mcluster));
    if (!e->bootstraps) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->outbound.ntopics; i++)
        if (wb_embedded_topic(e, cfg->outbound.topics[i], 0)) goto topic_fail;
    if (cfg->outbound.dead_letter_topic && wb_embedded_topic(e, cfg->outbound.dead_letter_topic, 0))
        goto topic_fail;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        if (cfg->connectors[i].direction == WB_DIR_INBOUND && cfg->connectors[i].topic &&
            wb_embedded_topic(e, cfg->connectors[i].topic, 0))
            goto topic_fail;
    WB_WARN("EMBEDDED KAFKA: in-process mock cluster at %s (%d brokers); all data is in memory "
            "and lost on exit: not for production",
            e->bootstraps, cfg->embedded_brokers > 0 ? cfg->embedded_brokers : 3);
    return e;
topic_fail:
    snprintf(errstr, errstr_size, "embedded kafka: cannot create topics");
fail:
    wb_embedded_stop(e);
    return NULL;
}

const char *wb_embedded_bootstraps(const wb_embedded *e)
{
    return e->bootstraps;
}

rd_kafka_mock_cluster_t *wb_embedded_cluster(wb_embedded *e)
{
    return e->mcluster;
}

void wb_embedded_stop(wb_embedded *e)
{
    if (!e) return;
    if (e->mcluster) rd_kafka_mock_cluster_destroy(e->mcluster);
    if (e->rk) rd_kafka_destroy(e->rk);
    free(e->bootstraps);
    free(e);
}
