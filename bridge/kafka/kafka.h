/* kafka.h - librdkafka configuration from bridge.yaml, and the embedded mock cluster.
 *
 * `bootstrap.servers: embedded` starts librdkafka's mock cluster in this process (real Kafka
 * protocol over TCP on loopback, data in memory only) and points consumer and producer at it.
 *
 * Thread: call from the main thread during start-up / shutdown. */
#ifndef WB_KAFKA_H
#define WB_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include "config/config.h"

typedef enum wb_kafka_role { WB_KAFKA_CONSUMER = 0, WB_KAFKA_PRODUCER } wb_kafka_role;

/* A new rd_kafka_conf_t holding the cfg->kafka keys that apply to role (in file order; keys
 * of the other role only, such as group.id for a producer, are left out so librdkafka does
 * not warn), then bootstrap.servers = bootstrap when non-NULL (embedded). NULL + errstr
 * naming the key on error. The caller owns the conf (destroy, or hand it to rd_kafka_new). */
rd_kafka_conf_t *wb_kafka_conf(const wb_config *cfg, wb_kafka_role role, const char *bootstrap,
                               char *errstr, size_t errstr_size);

typedef struct wb_embedded wb_embedded;

/* Start the mock cluster (cfg->embedded_brokers brokers) and create every topic the config
 * names (outbound topics, dead-letter topic, inbound topics) with cfg->embedded_partitions
 * partitions. extra_topics (may be NULL) are created too. Logs loudly that data is in memory.
 * NULL + errstr on failure. */
wb_embedded *wb_embedded_start(const wb_config *cfg, char *errstr, size_t errstr_size);
const char *wb_embedded_bootstraps(const wb_embedded *e);
rd_kafka_mock_cluster_t *wb_embedded_cluster(wb_embedded *e);
/* Create one more topic (idempotent). */
wb_err wb_embedded_topic(wb_embedded *e, const char *topic, int partitions);
void wb_embedded_stop(wb_embedded *e);

#endif
