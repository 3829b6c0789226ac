/* outbound/conn_int.h - the inside of one outbound connector, shared by the files that make it
 * up (not for use outside bridge/outbound/). From the bottom up -- each file calls only the
 * ones above it in this list, never one below:
 *
 *   settings.c    what a config generation says about the connector (signer, HTTP target)
 *   partition.c   its partitions: state, pause/resume/seek, the window and byte budgets
 *   conn_state.c  last error, the dispatch turn, releasing records, events, gauges, status
 *   deadletter.c  parking a record on the dead-letter topic, acked before it is terminal
 *   delivery.c    attempts: headers, signature, HTTP, outcome, retry, breaker
 *   pipeline.c    one record: decode once -> match -> filter -> contract -> transform -> queue
 *   consumer.c    the connector's own Kafka consumer: group, rebalance, poll, commit
 *   connector.c   lifecycle (start, pause, reload, drain, stop) and the timers driving it
 *
 * The timers in connector.c are what run the lower parts: a part that wants a dispatch turn
 * arms the dispatch timer (conn_dispatch_soon) instead of calling delivery itself.
 *
 * Locality: everything here runs on the connector's loop thread, except the dead-letter
 * producer callback (producer thread), which only posts the record's loop message, and the
 * status snapshot, which is published under `status_lock` for the admin thread. */
#ifndef WB_OUTBOUND_CONN_INT_H
#define WB_OUTBOUND_CONN_INT_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/queue.h>

#include "core/buf.h"
#include "config/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/jscan.h"
#include "kafka/event.h"
#include "core/metrics.h"
#include "outbound/conn_types.h"
#include "http/http.h"
#include "jq/jq.h"
#include "outbound/ledger.h"
#include "kafka/producer.h"
#include "schema/registry.h"
#include "outbound/scheduler.h"
#include "signing/signing.h"

#define WB_CONN_POLL_BATCH 256 /* records taken from the consumer per callback at most */

/* ---------------------------------------------------------------------------------- */
/* Settings: what a config generation says about one connector, built once             */

/* Immutable once built; refcounted: the connector holds the current one, every running
 * attempt holds the one it started with (a reload swaps the connector's pointer; the old
 * settings -- URL, secrets, headers -- are freed when their last attempt ends). Holds a
 * reference on its config generation, whose strings it points into. */
typedef struct wb_settings {
    int refs;
    wb_config *cfg;
    const wb_connector *cc;
    wb_signer *signer;
    wb_egress_policy *policy;
    wb_http_target *target;
    /* JSON pointers read from every record by one scan: [0] type, [1] id */
    const char *type_pointer, *id_pointer;
    double rate_per_s; /* the deployment-wide rate_limit (this replica applies its share) */
} wb_settings;

wb_settings *wb_settings_new(wb_config *cfg, const wb_connector *cc, wb_http *http, char *errstr,
                             size_t errstr_size);
wb_settings *wb_settings_ref(wb_settings *st);
void wb_settings_unref(wb_settings *st);

/* ---------------------------------------------------------------------------------- */
/* Records                                                                              */

typedef enum rec_state {
    REC_PREPARING = 0, /* decoded; filter/contract/transform still running (job held) */
    REC_QUEUED,        /* in the scheduler, waiting for its turn / a retry timer */
    REC_RUNNING,       /* an HTTP attempt is in flight */
    REC_DEAD_LETTER,   /* a dead-letter write is in flight or waiting to be retried */
    REC_DONE,          /* terminal (being released) */
} rec_state;

typedef struct rec {
    wb_job job; /* scheduler link; first member */
    TAILQ_ENTRY(rec) link;
    struct wb_conn *conn;
    wb_ledger_part *part;
    rd_kafka_message_t *rkm;
    int64_t offset;
    size_t bytes; /* counted against the ledger's byte budget */
    rec_state state;
    wb_event ev;
    wb_buf body; /* what the partner receives (envelope, or the transform's output) */
    int queued;  /* in the scheduler (submitted and not finished/cancelled) */
    /* attempts */
    wb_settings *attempt_st; /* settings of the running attempt (a reference) */
    wb_http_xfer *xfer;
    int attempts;
    int last_status;
    int64_t first_attempt_ms, last_attempt_ms; /* wall clock */
    int64_t started_us;
    /* dead letter */
    const char *reason; /* dead-letter reason class: decode, schema, transform, rejected, ... */
    char error[256];
    int dlq_reduced; /* the full record could never be written: park it without its value */
    int dlq_tries;
    int dlq_inflight;  /* a write is queued in the producer: its callback is still to come */
    int redrive_count; /* redrive: the wb-redrive-count the dead-letter record carried */
    wb_jq_req *jq_req; /* a filter or transform being evaluated in the jq sandbox */
    wb_produce_result dlq_res; /* copied from the producer thread */
    char dlq_errmsg[160];
    wb_loop_msg dlq_msg;
    wb_timer dlq_timer;
} rec;

TAILQ_HEAD(rec_list, rec);

/* ---------------------------------------------------------------------------------- */
/* The connector                                                                        */

typedef struct part_user {
    int paused_window; /* paused because its window is full */
    int paused_wait;   /* paused while the schema registry is unreachable */
    int64_t wait_until;
    int revoking; /* a revoke is pending: nothing new starts, records arriving are dropped */
    int64_t caught_up_ms;   /* wall ms when lag was last seen to be 0 */
    int64_t skip_before_ms; /* start: <time> read from the beginning: records older than this
                             * are terminal at once until the first one at or after it */
    int64_t start_offset;   /* bounded runs: where the range starts (-1 unknown) */
    int64_t end_offset;     /* bounded runs: the log end offset when the run started */
    int reached;            /* bounded runs: everything below end_offset was read */
    int64_t committed;      /* last committed position, -1 unknown */
    int64_t next_offset;    /* the offset after the last record taken from the consumer, or
                             * where a seek sent it; -1 unknown */
    wb_gauge *m_committed, *m_stored, *m_consumed;
} part_user;

struct wb_conn {
    char *name;
    struct wb_engine_loop *el; /* the loop this connector lives on */
    wb_loop *lp;
    wb_http *http;
    wb_producer *prod;
    wb_settings *st;     /* current settings (a reference) */
    wb_schemas *schemas; /* Avro / contracts: borrowed from the loop, or NULL */
    wb_jq *jq;           /* the loop's jq sandbox (filters, transforms), or NULL */
    const wb_conn_hooks *hooks;
    void *hooks_ctx;
    /* what it runs (live, replay, redrive) */
    wb_conn_mode mode;
    char *group;       /* consumer group in use */
    char *events_glob; /* replay */
    char *reason;      /* redrive */
    int64_t from_ms, to_ms;
    int dry_run;
    int report_orphans;
    wb_conn_progress progress;
    /* Kafka */
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int qfd[2]; /* queue io-event pipe */
    int more;   /* the consumer queue may hold more than the last batch took */
    wb_timer poll_timer;
    rd_kafka_topic_partition_list_t *pending_revoke; /* revoked, waiting for its drain */
    int64_t revoke_deadline;
    int joined;   /* the group gave this member an assignment (maybe empty) at least once */
    int assigned; /* partitions assigned now */
    int lost;
    /* state */
    wb_ledger *ledger;
    wb_sched *sched;
    wb_sched_conn *sc;
    struct rec_list recs;
    int paused; /* by config or the admin API */
    int bytes_paused;
    int stopping; /* draining for a stop (SIGTERM, removed connector) */
    int64_t stop_deadline;
    int closed; /* consumer closed */
    int dead;   /* fatal error in this connector's consumer */
    wb_timer dispatch_timer, commit_timer, gauge_timer;
    int dirty; /* a committable position moved since the last commit */
    /* the JSON scan of every record */
    wb_jscan_target targets[2];
    wb_buf avro_json; /* scratch: a framed value decoded to JSON */
    wb_buf sig;       /* scratch: the signer's header lines of the attempt being built */
    wb_buf pinned;    /* scratch: a JSON event resolved to the connector's contract */
    /* rate share across replicas */
    int owned_partitions, total_partitions;
    /* counters (loop thread) */
    uint64_t consumed, delivered, dead_lettered, filtered, unrouted, retried;
    uint64_t commits;
    char last_error[200];
    int64_t last_error_ms;
    /* metrics */
    wb_counter *m_delivered, *m_retried, *m_dead_lettered, *m_rejected, *m_filtered, *m_attempts;
    wb_counter *m_consumed, *m_unrouted, *m_poison, *m_commits, *m_reduced, *m_id_refused;
    wb_counter *m_resumed;
    wb_gauge *m_in_flight, *m_circuit, *m_lag, *m_oldest, *m_headroom, *m_paused, *m_assigned;
    wb_histogram *m_latency;
    /* status for the admin thread */
    pthread_mutex_t status_lock;
    wb_conn_status status;
};

/* Whether c commits offsets: its live cursor and a redrive's progress do; a replay (no group
 * of its own) and a dry run do not. */
static inline int conn_commits(const struct wb_conn *c);

static inline part_user *user_of(wb_ledger_part *p)
{
    return p->user;
}

/* partition.c */
/* The part of topic/partition in c's ledger, with its state (created on first use; metrics
 * registered). NULL when out of memory. */
wb_ledger_part *part_new(wb_conn *c, const char *topic, int32_t partition);
void part_pause(wb_conn *c, wb_ledger_part *p);
/* Resume p and seek it to where it stands (see partition.c: wakes librdkafka's fetcher). */
void part_resume(wb_conn *c, wb_ledger_part *p);
/* Resume p unless something still holds it paused (window, bytes, registry, pause, stop,
 * revoke). */
void part_resume_maybe(wb_conn *c, wb_ledger_part *p);
void parts_pause_all(wb_conn *c);
/* Read p from offset next (async; the next record taken from it is that one). */
void part_seek(wb_conn *c, wb_ledger_part *p, int64_t offset);
/* Pause or resume p (NULL: only the connector-wide byte budget) after its count changed. */
void conn_check_budgets(wb_conn *c, wb_ledger_part *p);

/* conn_state.c */
void conn_set_error(wb_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Arm the dispatch timer for this turn (it runs after the fd callbacks, never inside one). */
void conn_dispatch_soon(wb_conn *c);
/* Release r without it becoming terminal (dropped: revoked, stopping, cancelled). */
void rec_free(wb_conn *c, rec *r);
/* r is terminal for this connector: delivered, filtered, unsubscribed, or parked and acked. */
void conn_record_terminal(wb_conn *c, rec *r);
/* Report what happened to r (delivered, retry, rejected, exhausted, dead-lettered, ...) to
 * the engine's observer, if any. */
void conn_observe(wb_conn *c, const rec *r, const char *outcome, int64_t latency_us,
                  const char *error);
/* The log fields of r: connector, webhook-id, topic/partition/offset, status, attempt. */
wb_log_fields conn_log_fields(const wb_conn *c, const rec *r);
/* Recompute the gauges and publish the status snapshot now (state changes; else once a
 * second). */
void conn_refresh(wb_conn *c);

/* deadletter.c */
void deadletter_send(wb_conn *c, rec *r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void deadletter_cancel(wb_conn *c, rec *r);

/* delivery.c */
void delivery_start(wb_conn *c, rec *r);
void delivery_cancel(wb_conn *c, rec *r);

/* pipeline.c */
void pipeline_consume(wb_conn *c, rd_kafka_message_t *rkm);

/* consumer.c */
rd_kafka_conf_t *consumer_conf(const wb_config *cfg, const wb_connector *cc, const char *bootstrap,
                               int nconsumers, const char *group, int bounded, char *errstr,
                               size_t errstr_size);
wb_err consumer_start(wb_conn *c, const char *bootstrap, int nconsumers, char *errstr,
                      size_t errstr_size);
void consumer_poll(wb_conn *c);
void consumer_commit(wb_conn *c, int sync);
void consumer_finish_revoke(wb_conn *c, int force);
void consumer_close(wb_conn *c);

static inline int conn_commits(const struct wb_conn *c)
{
    return c->mode == WB_CONN_LIVE || (c->mode == WB_CONN_REDRIVE && !c->dry_run);
}

#endif
