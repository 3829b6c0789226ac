/* outbound/conn_types.h - the types an outbound connector shares with the rest of the
 * engine: what it reports (delivery events, status, progress), what it is given (hooks, run
 * options). Declarations only; the functions are in connector.h. */
#ifndef WB_OUTBOUND_CONN_TYPES_H
#define WB_OUTBOUND_CONN_TYPES_H

#include <stdint.h>

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
 * counts, retention), an observer, and the process-wide dead-letter counters. Every function
 * may be NULL (a reprocessing run has none). Loop thread. */
typedef struct wb_conn_hooks {
    /* log end offset of topic/partition, -1 unknown */
    int64_t (*high_watermark)(void *ctx, const char *topic, int32_t partition);
    /* partitions of topic, 0 unknown */
    int (*partition_count)(void *ctx, const char *topic);
    /* retention.ms of topic (the configured fallback when the broker does not say) */
    int64_t (*retention_ms)(void *ctx, const char *topic);
    void (*observe)(void *ctx, const wb_delivery_event *ev);
    /* delta records whose dead-letter write is failing (+1 at the first failure, -1 when it
     * finally succeeds or the record is dropped): readiness */
    void (*dlq_failing)(void *ctx, int delta);
    /* a dead-letter write failed; permanent: the broker refused the record as such */
    void (*dlq_write_failed)(void *ctx, int permanent);
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

#endif
