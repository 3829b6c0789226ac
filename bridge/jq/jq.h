/* outbound/jq.h - per-connector filters and transforms written in jq (libjq 1.6).
 *
 * Two ways to run a jq program:
 *
 *  - In process (wb_jq_check, wb_jq_prog_*): for the configuration (compile once, report
 *    jq's own message) and for the `transform` CLI, whose input is the operator's.
 *
 *  - In a sandbox worker process (wb_jq_new / wb_jq_eval): for events, which are not ours.
 *    libjq has no step counter, no interrupt and no allocator hook, and a runaway jq_next()
 *    cannot be abandoned safely in process (a longjmp out of it leaks and corrupts the
 *    jq_state). So each loop owns one worker process: the running binary re-executed as
 *    `webhook-bridge jq-worker` (exec, not a bare fork: the bridge is multi-threaded), with
 *    RLIMIT_AS capping its memory, RLIMIT_CPU as a backstop, an empty environment (jq's
 *    `env` and `$ENV` see nothing of the bridge's secrets) and a wall-clock budget per
 *    evaluation enforced here: past it the worker is killed and respawned, the evaluation
 *    fails with "exceeded the N ms budget" and the requests queued behind it are sent again
 *    to the new worker. The parent side is asynchronous on the loop (the worker's socket is a
 *    loop fd, the budget a loop timer), so a hostile event for one partner never stalls
 *    another partner's deliveries on the same loop; requests made in one loop turn go down
 *    the socket in one write. Programs are identified by their text: the worker compiles
 *    each once and keeps the last WB_JQ_PROGRAM_CACHE of them.
 *
 * Result rules (the same in process and in the sandbox):
 *   filter     must yield exactly one boolean: true -> WB_JQ_PASS, false -> WB_JQ_FILTERED.
 *              null, any other value, no value or several values are errors (a typo in a
 *              field name must not silently filter every event: write `.data.x // false`).
 *   transform  must yield exactly one object -> WB_JQ_PASS with its compact JSON text.
 *   Anything else (jq error, no value, several values, wrong type, output over max_output,
 *   input that is not JSON, the budget or the memory cap) -> WB_JQ_FAILED with a message;
 *   the engine dead-letters the record with reason `transform` and that message.
 * jq 1.6 holds numbers as doubles: integers beyond 2^53 lose precision (keep ids as strings).
 *
 * Thread: a wb_jq belongs to its loop's thread; wb_jq_check and wb_jq_prog_* are reentrant
 * (one wb_jq_prog per thread at a time). */
#ifndef WB_OUTBOUND_JQ_H
#define WB_OUTBOUND_JQ_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/loop.h"
#include "core/err.h"

typedef enum wb_jq_kind { WB_JQ_FILTER = 0, WB_JQ_TRANSFORM = 1 } wb_jq_kind;

typedef enum wb_jq_status {
    WB_JQ_PASS = 0,     /* filter: true; transform: out holds the object */
    WB_JQ_FILTERED = 1, /* filter: false (terminal for the connector, counted as filtered) */
    WB_JQ_FAILED = 2,   /* permanent for this record: error says why */
} wb_jq_status;

#define WB_JQ_PROGRAM_CACHE 64 /* compiled programs a worker keeps (LRU) */

/* ------------------------------------------------------------------ in process */

/* Compile expr and throw it away: WB_OK, or WB_ERR_CONFIG with jq's messages ("syntax
 * error, unexpected ..., line 1") joined in errstr. Any thread. */
wb_err wb_jq_check(const char *expr, char *errstr, size_t errstr_size);

typedef struct wb_jq_prog wb_jq_prog;

/* Compile expr for repeated runs. NULL + errstr (jq's message) on a compile error. */
wb_jq_prog *wb_jq_prog_new(const char *expr, char *errstr, size_t errstr_size);
void wb_jq_prog_free(wb_jq_prog *prog);

/* Run prog on the JSON text json[0..len) with the result rules above. On WB_JQ_PASS for a
 * transform, out gets the compact JSON of the object appended (at most max_output bytes; 0:
 * no bound other than out's). error (may be NULL) gets the reason on WB_JQ_FAILED. Nothing
 * bounds time or memory here: events go through the sandbox, not this. */
wb_jq_status wb_jq_prog_run(wb_jq_prog *prog, wb_jq_kind kind, const char *json, size_t len,
                            size_t max_output, wb_buf *out, char *error, size_t error_size);

/* One-shot compile + run (the `transform` CLI). */
wb_jq_status wb_jq_run_local(const char *expr, wb_jq_kind kind, const char *json, size_t len,
                             wb_buf *out, char *error, size_t error_size);

/* ------------------------------------------------------------------ the sandbox */

typedef struct wb_jq_limits {
    int64_t budget_ms;      /* wall clock per evaluation; 0: 100 ms */
    size_t memory_bytes;    /* RLIMIT_AS of the worker; 0: 256 MiB */
    int cpu_s;              /* RLIMIT_CPU backstop per batch of requests; 0: 10 s */
    size_t max_input;       /* largest event sent; 0: 16 MiB (larger: WB_ERR_TOO_LARGE) */
    size_t max_output;      /* largest transform output; 0: 1 MiB */
    size_t max_pending;     /* requests queued or running; 0: 100000 (more: WB_ERR_FULL) */
    long recycle_after;     /* a worker retires after this many evaluations (a fresh heap:
                             * libjq 1.6 leaks a little on some errors); 0: 1000000 */
    const char *worker_exe; /* binary run as `<exe> jq-worker ...`; NULL: /proc/self/exe */
} wb_jq_limits;

typedef struct wb_jq wb_jq;
typedef struct wb_jq_req wb_jq_req;

/* Result of one evaluation, on the loop thread, never from inside wb_jq_eval(). out/len:
 * the transform's JSON (WB_JQ_PASS of a transform; else NULL, 0); error: the reason
 * (WB_JQ_FAILED; else NULL). Both are borrowed for the duration of the call. */
typedef void (*wb_jq_cb)(void *opaque, wb_jq_status st, const char *out, size_t len,
                         const char *error);

typedef struct wb_jq_stats {
    uint64_t evaluations; /* results delivered (any status) */
    uint64_t failed;      /* of which WB_JQ_FAILED */
    uint64_t budget_kills;
    uint64_t worker_deaths; /* died while evaluating (memory cap, crash, CPU backstop) */
    uint64_t spawns;
    uint64_t recycles; /* planned retirements (recycle_after) */
} wb_jq_stats;

/* One sandbox for the loop lp (loop thread). The worker starts lazily with the first
 * request. lim may be NULL (defaults); its strings are copied. NULL + errstr on failure. */
wb_jq *wb_jq_new(wb_loop *lp, const wb_jq_limits *lim, char *errstr, size_t errstr_size);
/* Kill the worker and free everything. Requests still pending are dropped without their
 * callback: the owner cancels or forgets them first. NULL is fine. Loop thread, never from
 * inside a wb_jq_cb. */
void wb_jq_free(wb_jq *jq);

/* Queue expr on json[0..len) (both copied). cb(opaque, ...) runs exactly once later on the
 * loop thread, unless the request is cancelled. *req (may be NULL) identifies it for
 * wb_jq_cancel and is valid until the callback starts. Errors (the callback never fires):
 * WB_ERR_TOO_LARGE (event over max_input), WB_ERR_FULL (max_pending reached), WB_ERR_NOMEM. */
wb_err wb_jq_eval(wb_jq *jq, const char *expr, wb_jq_kind kind, const char *json, size_t len,
                  wb_jq_cb cb, void *opaque, wb_jq_req **req);
/* Forget req: its callback will not run. Its evaluation may still be running. */
void wb_jq_cancel(wb_jq *jq, wb_jq_req *req);

/* Requests queued or running. */
size_t wb_jq_pending(const wb_jq *jq);
void wb_jq_get_stats(const wb_jq *jq, wb_jq_stats *st);
/* Process id of the current worker, or -1 (tests). */
int wb_jq_worker_pid(const wb_jq *jq);

/* The worker's main: `webhook-bridge jq-worker FD MEMORY CPU MAX_OUTPUT RECYCLE`. Every program
 * that creates a wb_jq with worker_exe NULL must call this first thing in main() when
 * argv[1] is "jq-worker" (argv[0] is then "jq-worker"). Returns the exit code. */
int wb_jq_worker_main(int argc, char **argv);

#endif
