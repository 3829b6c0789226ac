/* outbound/connector.h - one outbound connector: its own Kafka cursor and delivery pipeline.
 *
 * A connector consumes its topics in its own consumer group (its "cursor"), decodes each
 * record once, keeps the records it subscribes to in per-key lanes, signs and POSTs them,
 * retries, dead-letters what can never be delivered, and commits an offset only once every
 * record before it is terminal. Nothing of it is shared with another connector but the event
 * loop, the HTTP client (connections, DNS and TLS caches), the dead-letter producer and the
 * schema cache: a partner that is down fills only its own window and pauses only its own
 * partitions.
 *
 * Lifecycle: wb_conn_new subscribes; wb_conn_set_paused stops fetching and starting deliveries
 * (in-flight ones finish and are committed); wb_conn_reload swaps in new settings (URL,
 * secrets, limits: queued and retrying deliveries use them from their next attempt);
 * wb_conn_stop drains within a deadline, commits and closes the consumer (its group keeps its
 * offsets: re-adding the connector resumes there); wb_conn_free after wb_conn_stopped.
 *
 * Thread: everything on the loop thread the connector was created on, except
 * wb_conn_get_status (any thread). */
#ifndef WB_OUTBOUND_CONNECTOR_H
#define WB_OUTBOUND_CONNECTOR_H

#include <stdint.h>
#include "core/loop.h"
#include "core/err.h"

typedef struct wb_conn wb_conn;
typedef struct wb_settings wb_settings;
struct wb_http;
struct wb_producer;
struct wb_schemas;

/* Outcome of one delivery attempt, for observers (the demo prints these). */
typedef struct wb_delivery_event {
    const char *connector;
    const char *type;
    const char *webhook_id;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int status;          /* HTTP status, 0 when none */
    int attempt;         /* 1-based */
    int64_t latency_us;  /* this attempt */
    int64_t age_ms;      /* now - record timestamp (append -> outcome) */
    const char *outcome; /* "delivered", "retry", "exhausted", "rejected", "dead-lettered",
                          * "filtered" */
    const char *error;   /* short reason or "" */
} wb_delivery_event;

/* What the engine provides: cluster facts sampled off the loop thread (watermarks, partition
 * counts, retention), and an observer. Every function may be NULL. Loop thread. */
typedef struct wb_conn_hooks {
    /* log end offset of topic/partition, -1 unknown */
    int64_t (*high_watermark)(void *ctx, const char *topic, int32_t partition);
    /* partitions of topic, 0 unknown */
    int (*partition_count)(void *ctx, const char *topic);
    /* retention.ms of topic (the configured fallback when the broker does not say) */
    int64_t (*retention_ms)(void *ctx, const char *topic);
    void (*observe)(void *ctx, const wb_delivery_event *ev);
} wb_conn_hooks;

typedef struct wb_conn_status {
    char name[65];
    char state[16]; /* "starting", "running", "paused", "breaker-open", "stopping", "stopped",
                     * "failed" */
    char group[250];
    int paused;
    int circuit; /* 0 closed, 1 open, 2 half-open */
    int assigned_partitions;
    int64_t lag;                 /* records, -1 unknown */
    double oldest_undelivered_s; /* 0 when nothing is undelivered */
    double retention_headroom_s; /* retention - oldest age */
    int in_flight;               /* records consumed and not terminal */
    uint64_t consumed, delivered, dead_lettered, filtered, retried, commits;
    char last_error[200];
    int64_t last_error_ms; /* wall ms, 0 none */
} wb_conn_status;

/* What a connector runs: its live cursor (the default), or a bounded reprocessing run
 * through the same delivery path (same envelope, signature scheme and webhook-ids):
 *   REPLAY   its topics again, every record whose Kafka timestamp is in [from_ms, to_ms), up
 *            to the log end offsets when the run starts, with no group of its own (manual
 *            assignment, nothing committed): the live connector's offsets never move;
 *   REDRIVE  the dead-letter topic: the records whose wb-connector header names this
 *            connector (optionally: wb-error-reason starting with `reason`, dead-lettered at or
 *            after from_ms), delivered with their original webhook-id and event type; records
 *            failing again go back to the dead-letter topic with wb-redrive-count + 1. Progress
 *            is committed in `group` (so a second identical run sends nothing twice), up to the
 *            log end offsets when the run starts.
 * dry_run: count what would be sent, send nothing (and, for redrive, commit nothing). */
typedef enum wb_conn_mode { WB_CONN_LIVE = 0, WB_CONN_REPLAY, WB_CONN_REDRIVE } wb_conn_mode;

typedef struct wb_conn_opts {
    wb_conn_mode mode;
    const char *group;       /* consumer group (redrive progress; replay: a throwaway one) */
    int64_t from_ms, to_ms;  /* replay window; redrive: dead-lettered since (0: any) */
    const char *events_glob; /* replay: only these event types (NULL: all it subscribes to) */
    const char *reason;      /* redrive: wb-error-reason prefix (NULL: any) */
    int dry_run;
    int report_orphans; /* redrive: log records of connectors the config no longer has */
} wb_conn_opts;

/* Progress of a bounded run (also filled, as far as it applies, for a live connector). */
typedef struct wb_conn_progress {
    uint64_t total;     /* records in the run's range (known at start; 0 live) */
    uint64_t scanned;   /* records read */
    uint64_t selected;  /* records the run is about (in the window / named the connector) */
    uint64_t delivered; /* 2xx (dry run: would be sent) */
    uint64_t dead_lettered;
    uint64_t filtered; /* the connector's filter said no (terminal, as live) */
    uint64_t failed;   /* could not be processed (no value kept, missing headers, ...) */
    uint64_t orphaned; /* redrive: records of connectors the config no longer has */
    int done;          /* every partition reached its end and nothing is in flight */
} wb_conn_progress;

/* Create a connector on lp with settings st (a reference is taken), consuming through a new
 * consumer to bootstrap (NULL: the config's bootstrap.servers). nconsumers: how many consumers
 * the process runs (the fetch buffer budget is split between them). http, prod and schemas
 * are borrowed (schemas may be NULL); opts (NULL: live) is copied. NULL + errstr. */
wb_conn *wb_conn_new(wb_loop *lp, struct wb_http *http, struct wb_producer *prod,
                     struct wb_schemas *schemas, wb_settings *st, const char *bootstrap,
                     int nconsumers, const wb_conn_hooks *hooks, void *hooks_ctx,
                     const wb_conn_opts *opts, char *errstr, size_t errstr_size);

/* A bounded run's progress (loop thread). */
void wb_conn_get_progress(const wb_conn *c, wb_conn_progress *out);

/* The loop's jq sandbox for filters and transforms (borrowed; set before records flow). A
 * connector with a filter or transform and no sandbox dead-letters nothing: it refuses to
 * start (wb_conn_new checks). */
struct wb_jq;
void wb_conn_set_jq(wb_conn *c, struct wb_jq *jq);

/* The schema registry answered something a partition was waiting for: partitions paused for
 * it read on now (the record is decoded again, with the schema now cached). */
void wb_conn_registry_ready(wb_conn *c);

/* Apply new settings of the same connector (a reference is taken, the old one released). */
void wb_conn_reload(wb_conn *c, wb_settings *st);

/* Pause (1) or resume (0): fetching and starting deliveries stop; in-flight ones finish. */
void wb_conn_set_paused(wb_conn *c, int paused);

/* Begin stopping: fetch nothing more, let in-flight work finish until deadline_ms
 * (monotonic), then abort what still runs (it is redelivered after a restart: its offsets
 * were not committed), commit the terminal prefix, close the consumer. */
void wb_conn_stop(wb_conn *c, int64_t deadline_ms);
/* 1 once stopped (consumer closed, nothing referenced). */
int wb_conn_stopped(const wb_conn *c);
/* Free (after wb_conn_stopped, or at any time to tear down without committing). */
void wb_conn_free(wb_conn *c);

/* The name (borrowed). */
const char *wb_conn_name(const wb_conn *c);
/* 1 when the consumer is in its group (an assignment, maybe empty, was received) or the
 * connector is paused; 0 while joining or after a fatal consumer error. */
int wb_conn_ready(const wb_conn *c);
/* Records consumed and not yet terminal. */
int wb_conn_in_flight(const wb_conn *c);

/* A snapshot, refreshed about every second by the loop. Any thread. */
void wb_conn_get_status(wb_conn *c, wb_conn_status *out);

#endif
