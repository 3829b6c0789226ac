/* outbound.h - the outbound engine: Kafka consumer group -> signed webhooks.
 *
 * One thread runs everything here (the caller's, inside wb_outbound_run): consumer polls,
 * rebalance callbacks, scheduling, the libcurl multi loop and offset stores. Dead-letter acks
 * arrive on the producer thread and are handed over through a locked queue.
 *
 * A record's offset is stored (offset+1 of the contiguous terminal prefix, committed by
 * librdkafka's auto-commit) only once every delivery it owes is terminal: 2xx, or parked on
 * the dead-letter topic and acked. */
#ifndef WB_OUTBOUND_H
#define WB_OUTBOUND_H

#include <signal.h>
#include <stdint.h>
#include "config.h"
#include "producer.h"

typedef struct wb_outbound wb_outbound;

/* Outcome of one delivery attempt, for observers (the demo prints these). */
typedef struct wb_delivery_event {
    const char *connector;
    const char *type;
    const char *webhook_id;
    int32_t partition;
    int64_t offset;
    int status;          /* HTTP status, 0 when none */
    int attempt;         /* 1-based */
    int64_t latency_us;  /* this attempt */
    int64_t age_ms;      /* now - record timestamp (append -> outcome) */
    const char *outcome; /* "delivered", "retry", "dead-lettered", "rejected" */
    const char *error;   /* short reason or "" */
} wb_delivery_event;

typedef void (*wb_delivery_observer)(void *ctx, const wb_delivery_event *ev);

typedef struct wb_outbound_stats {
    uint64_t consumed, delivered, retried, dead_lettered, unrouted, failed_attempts;
    int in_flight_records, assigned_partitions, paused_partitions;
} wb_outbound_stats;

/* Create the consumer (subscribed to cfg->outbound.topics; bootstrap overrides
 * bootstrap.servers when non-NULL), the signers and the HTTP client. prod (borrowed) writes
 * the dead-letter topic. NULL + errstr on error. */
wb_outbound *wb_outbound_new(const wb_config *cfg, const char *bootstrap, wb_producer *prod,
                             char *errstr, size_t errstr_size);

/* Liveness: beat hb (from admin.h) every loop turn. */
struct wb_heartbeat;
void wb_outbound_set_heartbeat(wb_outbound *o, struct wb_heartbeat *hb);

/* Apply a reloaded configuration (call on the outbound thread, e.g. from the on_turn hook):
 * new records are routed to cfg's connectors with their new secrets and limits; deliveries
 * already in flight finish with the settings they started with. A connector that keeps its
 * name keeps its ordering lanes and breaker. On error nothing changes. cfg is borrowed and
 * must outlive the engine (the previous one too: in-flight work may still refer to it). */
wb_err wb_outbound_reload(wb_outbound *o, const wb_config *cfg, char *errstr, size_t errstr_size);

/* Call fn(ctx) on the outbound thread once per loop turn (reload checks and the like). */
void wb_outbound_on_turn(wb_outbound *o, void (*fn)(void *ctx), void *ctx);

/* Observe every attempt outcome (optional; called on the outbound thread). */
void wb_outbound_observe(wb_outbound *o, wb_delivery_observer fn, void *ctx);

/* Run until *stop becomes non-zero, then stop fetching, drain in-flight deliveries within
 * drain_timeout, store and commit offsets and close the consumer. Returns 0 on a clean
 * drain, 1 when the drain timed out (the rest is redelivered after a restart), -1 on a
 * fatal error. */
int wb_outbound_run(wb_outbound *o, volatile sig_atomic_t *stop);

/* Counters (safe to read from any thread; values may be slightly stale). */
void wb_outbound_get_stats(wb_outbound *o, wb_outbound_stats *st);

/* 1 when the consumer has partitions assigned (readiness). */
int wb_outbound_ready(wb_outbound *o);

void wb_outbound_free(wb_outbound *o);

#endif
