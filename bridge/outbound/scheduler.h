/* scheduler.h - which delivery may start now.
 *
 * Pure bookkeeping, no I/O: per-connector concurrency caps, token-bucket rate limits, circuit
 * breakers, per-lane FIFOs (ordering) and retry timers. The outbound loop submits jobs,
 * asks for the next job to start, and reports each attempt's outcome.
 *
 * A lane is an ordering domain: jobs sharing a lane key start strictly one after another in
 * submission order (ordering: key -> topic/partition/key; partition -> topic/partition;
 * none -> no lane). The head of a lane keeps its place while it waits for a retry, so a
 * later job never overtakes it.
 *
 * Ownership: wb_job is embedded in the caller's delivery struct; the scheduler links it but
 * never frees it. Lanes are owned by the scheduler. Thread: one thread (the outbound loop). */
#ifndef WB_SCHEDULER_H
#define WB_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

typedef struct wb_sched wb_sched;
typedef struct wb_sched_conn wb_sched_conn;
typedef struct wb_lane wb_lane;

typedef enum wb_job_state {
    WB_JOB_IDLE = 0, /* not in the scheduler */
    WB_JOB_QUEUED,   /* in a lane behind its head */
    WB_JOB_TIMER,    /* waiting for due_ms */
    WB_JOB_READY,    /* may start when the connector has capacity */
    WB_JOB_RUNNING,  /* handed out by wb_sched_next */
    WB_JOB_HELD,     /* keeps its lane place but may not start until wb_sched_release */
} wb_job_state;

typedef struct wb_job {
    wb_sched_conn *conn;
    wb_lane *lane;
    STAILQ_ENTRY(wb_job) lane_link; /* its lane's FIFO */
    TAILQ_ENTRY(wb_job) ready_link; /* its connector's ready FIFO */
    int64_t due_ms;
    size_t heap_idx;
    wb_job_state state;
    int held; /* submitted with wb_sched_submit_held and not released yet */
} wb_job;

typedef enum wb_circuit { WB_CIRCUIT_CLOSED = 0, WB_CIRCUIT_OPEN, WB_CIRCUIT_HALF_OPEN } wb_circuit;

wb_sched *wb_sched_new(void);
/* Free the scheduler and its lanes (jobs are the caller's). */
void wb_sched_free(wb_sched *s);

/* Register a connector. rate_per_s 0 = unlimited (bucket size: one second's worth, >= 1).
 * circuit_failures 0 = no breaker. Returns NULL when out of memory. */
wb_sched_conn *wb_sched_conn_new(wb_sched *s, int max_concurrency, double rate_per_s,
                                 int circuit_failures, int64_t circuit_cooldown_ms);

/* Change a connector's limits (config reload); jobs already queued keep their places. */
void wb_sched_conn_update(wb_sched_conn *c, int max_concurrency, double rate_per_s,
                          int circuit_failures, int64_t circuit_cooldown_ms);

/* Submit a job, due at due_ms (monotonic). lane_key NULL = unordered. Returns 0, or -1 when
 * out of memory (the job is then not queued). */
int wb_sched_submit(wb_sched *s, wb_sched_conn *c, wb_job *j, const void *lane_key,
                    size_t lane_key_len, int64_t due_ms, int64_t now);

/* Submit a job that takes its lane place now but may not start before wb_sched_release()
 * (its payload is still being prepared, e.g. by an asynchronous transform): jobs behind it in
 * its lane wait for it, so preparation never reorders a lane. Same results as submit. */
int wb_sched_submit_held(wb_sched *s, wb_sched_conn *c, wb_job *j, const void *lane_key,
                         size_t lane_key_len, int64_t now);
/* The held job may start (now, or when it reaches the head of its lane). */
void wb_sched_release(wb_sched *s, wb_job *j, int64_t now);

/* Pause a connector: nothing of it starts until unpaused (jobs keep their places). */
void wb_sched_conn_pause(wb_sched_conn *c, int paused);

/* Next job allowed to start now, marked RUNNING (counts against concurrency, takes a rate
 * token, and in half-open state is the single probe), or NULL. Round-robin over connectors. */
wb_job *wb_sched_next(wb_sched *s, int64_t now);

/* The running job's attempt ended. endpoint_ok feeds the circuit breaker: 1 the endpoint
 * answered, 0 an endpoint failure (5xx, 429, timeout, connection error), -1 no evidence
 * either way (the breaker is left as it is). Then:
 *   wb_sched_finish: the job is terminal; its lane advances.
 *   wb_sched_retry:  the job stays lane head and becomes READY again at due_ms.
 * retry_after_ms (>= 0 when the partner sent Retry-After on a 429/503, else -1): if this
 * failure opens the breaker, it stays open at least that long.
 *
 * Breaker: opens after circuit_failures consecutive endpoint failures, or at once when a
 * half-open probe fails. The open period starts short (1 s, or the cooldown if shorter) and
 * doubles on each consecutive opening up to circuit_cooldown_ms, never shorter than the
 * partner's Retry-After; a success closes it and resets the growth. So a brief burst of 503s
 * costs a second or two, a partner that stays down is probed every cooldown. */
void wb_sched_finish(wb_sched *s, wb_job *j, int endpoint_ok, int64_t now);
void wb_sched_retry(wb_sched *s, wb_job *j, int endpoint_ok, int64_t due_ms, int64_t retry_after_ms,
                    int64_t now);

/* When the breaker of c closes again (half-open -> closed), ms since it opened, else 0;
 * the open-until time (monotonic) while open, else 0. */
int64_t wb_sched_conn_open_until(const wb_sched_conn *c);

/* Put a RUNNING job back without an attempt having been made (no breaker effect): it
 * becomes READY again at due_ms, keeping its lane position. */
void wb_sched_defer(wb_sched *s, wb_job *j, int64_t due_ms, int64_t now);

/* Remove a job that is not RUNNING (fenced after a revoke). Its lane advances. */
void wb_sched_cancel(wb_sched *s, wb_job *j, int64_t now);

/* Milliseconds until the scheduler could hand out a job (timer due, token refill, circuit
 * half-open), 0 = now, -1 = nothing waiting. */
int64_t wb_sched_wait_ms(wb_sched *s, int64_t now);

/* Jobs submitted and not yet started or terminal, over all connectors (the backlog). */
size_t wb_sched_backlog(const wb_sched *s);

/* Introspection for metrics/tests. */
wb_circuit wb_sched_conn_circuit(const wb_sched_conn *c);
int wb_sched_conn_running(const wb_sched_conn *c);
size_t wb_sched_conn_queued(const wb_sched_conn *c); /* jobs of this connector not terminal */

#endif
