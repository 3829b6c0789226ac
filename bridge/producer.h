/* producer.h - the idempotent Kafka producer shared by inbound publishing and the outbound
 * dead-letter topic.
 *
 * acks=all + enable.idempotence=true. Each send takes a completion callback that fires
 * exactly once, from the producer's own poll thread, when the broker acked the write or it
 * definitively failed (message.timeout.ms). Callers hop back to their own thread if needed.
 *
 * Thread: wb_producer_send is safe from any thread; callbacks run on the producer thread. */
#ifndef WB_PRODUCER_H
#define WB_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "err.h"

typedef struct wb_producer wb_producer;

/* err is WB_OK when acked (partition/offset set), else WB_ERR_KAFKA with errmsg. */
typedef void (*wb_produce_cb)(void *opaque, wb_err err, const char *errmsg, int32_t partition,
                              int64_t offset);

/* Create the producer from cfg->kafka (bootstrap overrides bootstrap.servers when non-NULL)
 * and start its poll thread. NULL + errstr on error. */
wb_producer *wb_producer_new(const wb_config *cfg, const char *bootstrap, char *errstr,
                             size_t errstr_size);

/* Queue one record. key/val are copied. hdrs (may be NULL) is taken over on WB_OK only.
 * partition -1 = partitioner (by key). On WB_OK cb fires exactly once later; on error never.
 * WB_ERR_FULL when the local queue is full. */
wb_err wb_producer_send(wb_producer *p, const char *topic, int32_t partition, const void *key,
                        size_t klen, const void *val, size_t vlen, rd_kafka_headers_t *hdrs,
                        wb_produce_cb cb, void *opaque);

/* Wait up to timeout_ms for outstanding records; returns how many are still queued. */
int wb_producer_flush(wb_producer *p, int timeout_ms);
/* Records queued or in flight (not yet reported). */
int wb_producer_outq(wb_producer *p);
/* 1 while the producer can reach the cluster (last metadata probe ok and no all-brokers-down
 * since), else 0. */
int wb_producer_connected(wb_producer *p);
rd_kafka_t *wb_producer_rk(wb_producer *p);
/* Flush (up to timeout_ms), stop the thread, destroy. Callbacks of records still unreported
 * fire with an error before this returns. */
void wb_producer_free(wb_producer *p, int timeout_ms);

#endif
