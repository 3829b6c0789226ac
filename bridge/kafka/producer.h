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
#include "config/config.h"
#include "core/err.h"

typedef struct wb_producer wb_producer;

/* err is WB_OK when acked (partition/offset set), else WB_ERR_KAFKA with errmsg. */
typedef void (*wb_produce_cb)(void *opaque, wb_err err, const char *errmsg, int32_t partition,
                              int64_t offset);

/* Outcome of one write, with the class the caller needs to decide what to do next. */
typedef struct wb_produce_result {
    wb_err err;         /* WB_OK when acked */
    int kafka_err;      /* rd_kafka_resp_err_t, 0 when acked */
    int permanent;      /* 1: this record can never be written as it is (too large, invalid
                         * record, not authorised): retrying the same bytes is pointless */
    const char *errmsg; /* librdkafka's text ("" when acked); valid during the callback */
    int32_t partition;
    int64_t offset;
} wb_produce_result;

typedef void (*wb_produce_ex_cb)(void *opaque, const wb_produce_result *res);

/* Whether a librdkafka produce error (from producev or a delivery report) can never succeed
 * for the same record: message too large, invalid record, authorisation failures, invalid
 * topic. Everything else (timeouts, brokers down, not enough replicas, ...) is transient. */
int wb_producer_error_permanent(int kafka_err);

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

/* As wb_producer_send, with the record's timestamp (ts_ms > 0: that CreateTime, e.g. the
 * source record's for a dead-letter record; 0: now) and the typed result. On a synchronous
 * refusal (queue full, record too large for message.max.bytes, unknown topic ...) returns the
 * error, fills *sync (when not NULL) with its class, and cb never fires; hdrs then stays the
 * caller's. */
wb_err wb_producer_send_ex(wb_producer *p, const char *topic, int32_t partition, const void *key,
                           size_t klen, const void *val, size_t vlen, int64_t ts_ms,
                           rd_kafka_headers_t *hdrs, wb_produce_ex_cb cb, void *opaque,
                           wb_produce_result *sync);

/* 1 while the producer can reach the cluster (last metadata probe ok and no all-brokers-down
 * since), else 0. */
int wb_producer_connected(wb_producer *p);

/* The producer's client handle, for read-only cluster queries from other threads
 * (watermarks, topic configs, metadata): librdkafka's query calls are thread-safe. */
rd_kafka_t *wb_producer_handle(wb_producer *p);
/* Flush (up to timeout_ms), stop the thread, destroy. Callbacks of records still unreported
 * fire with an error before this returns. */
void wb_producer_free(wb_producer *p, int timeout_ms);

#endif
