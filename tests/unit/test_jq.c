/* test_jq.c - jq filters and transforms: the result rules in process, and the sandbox worker
 * (batching, budget kill and respawn, memory cap, cancel, a worker that cannot start, a
 * worker killed from outside, and a hostile event that must not stall the loop).
 *
 * This executable is also its own sandbox worker: the sandbox re-executes /proc/self/exe
 * with "jq-worker", exactly as the bridge does. */
#include "core/loop.h"
#include "jq/jq.h"
#include "test.h"
#include "core/util.h"

#include <signal.h>
#include <unistd.h>

/* ------------------------------------------------------------------ in process */

static wb_jq_status local(const char *expr, wb_jq_kind kind, const char *json, char *out,
                          size_t out_size, char *err, size_t err_size)
{
    wb_buf b;
    wb_buf_init(&b, 0);
    wb_jq_status st = wb_jq_run_local(expr, kind, json, strlen(json), &b, err, err_size);
    snprintf(out, out_size, "%s", b.data ? b.data : "");
    wb_buf_free(&b);
    return st;
}

static void test_check(void)
{
    char err[512];
    ASSERT_EQ(wb_jq_check(".data.amount > 100", err, sizeof(err)), WB_OK);
    ASSERT_EQ(wb_jq_check(".data | {id: .order_id", err, sizeof(err)), WB_ERR_CONFIG);
    ASSERT_CONTAINS(err, "syntax error");
    ASSERT(!strchr(err, '\n'));
    ASSERT_EQ(wb_jq_check("nosuchfunction(1)", err, sizeof(err)), WB_ERR_CONFIG);
    ASSERT_CONTAINS(err, "nosuchfunction/1 is not defined");
    /* a small buffer is truncated, never overrun */
    char tiny[8];
    ASSERT_EQ(wb_jq_check("}}}", tiny, sizeof(tiny)), WB_ERR_CONFIG);
    ASSERT(strlen(tiny) < sizeof(tiny));
}

static void test_filter_rules(void)
{
    char out[256], err[512];
    const char *ev = "{\"type\":\"order.paid\",\"data\":{\"amount\":150}}";
    ASSERT_EQ(local(".data.amount > 100", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_PASS);
    ASSERT_EQ(local(".data.amount > 200", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FILTERED);
    /* null (a typo'd field) is an error, not a silent "filtered" */
    ASSERT_EQ(local(".data.amuont", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "filter must yield true or false, got null");
    ASSERT_EQ(local("empty", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)), WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "filter yielded no value (it must yield exactly one)");
    ASSERT_EQ(local("true, false", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "filter yielded several values (it must yield exactly one)");
    ASSERT_EQ(local(".data.amount.x", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "filter: Cannot index number with string \"x\"");
    ASSERT_EQ(local("error({\"why\":1})", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "filter: {\"why\":1}");
    /* several values: stops at the second, even for an endless stream */
    ASSERT_EQ(local("range(1e15) | true", WB_JQ_FILTER, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_CONTAINS(err, "several values");
}

static void test_transform_rules(void)
{
    char out[256], err[512];
    const char *ev = "{\"type\":\"order.paid\",\"timestamp\":\"2026-11-23T17:44:06.123Z\","
                     "\"data\":{\"total_cents\":1500,\"id\":\"o1\"}}";
    ASSERT_EQ(local("{type, amount: .data.total_cents, id: .data.id}", WB_JQ_TRANSFORM, ev, out,
                    sizeof(out), err, sizeof(err)),
              WB_JQ_PASS);
    ASSERT_STR_EQ(out, "{\"type\":\"order.paid\",\"amount\":1500,\"id\":\"o1\"}");
    ASSERT_EQ(local(".data.id", WB_JQ_TRANSFORM, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "transform must yield an object, got string");
    ASSERT_EQ(local(".data, .data", WB_JQ_TRANSFORM, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "transform yielded several values (it must yield exactly one)");
    ASSERT_EQ(local("halt_error", WB_JQ_TRANSFORM, ev, out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_CONTAINS(err, "transform halted");
    ASSERT_EQ(local(".", WB_JQ_TRANSFORM, "{\"a\":", out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_CONTAINS(err, "the event is not JSON: ");
    ASSERT_EQ(local(".", WB_JQ_TRANSFORM, "{} {}", out, sizeof(out), err, sizeof(err)),
              WB_JQ_FAILED);
    ASSERT_CONTAINS(err, "the event is not JSON: ");
    /* a compile error through the one-shot path */
    ASSERT_EQ(local("{", WB_JQ_TRANSFORM, ev, out, sizeof(out), err, sizeof(err)), WB_JQ_FAILED);
    ASSERT_CONTAINS(err, "syntax error");
    /* max_output */
    wb_jq_prog *p = wb_jq_prog_new("{x: (\"a\" * 100)}", err, sizeof(err));
    ASSERT(p);
    wb_buf b;
    wb_buf_init(&b, 0);
    ASSERT_EQ(wb_jq_prog_run(p, WB_JQ_TRANSFORM, "{}", 2, 50, &b, err, sizeof(err)), WB_JQ_FAILED);
    ASSERT_STR_EQ(err, "transform output is 108 bytes, over the 50-byte limit");
    ASSERT_EQ(wb_jq_prog_run(p, WB_JQ_TRANSFORM, "{}", 2, 0, &b, err, sizeof(err)), WB_JQ_PASS);
    ASSERT_EQ(b.len, 108);
    wb_buf_free(&b);
    wb_jq_prog_free(p);
}

/* ------------------------------------------------------------------ the sandbox */

typedef struct result {
    int done;
    wb_jq_status st;
    char out[512];
    char err[512];
    int64_t at_ms;
} result;

static void on_result(void *opaque, wb_jq_status st, const char *out, size_t len, const char *error)
{
    result *r = opaque;
    r->done++;
    r->st = st;
    r->at_ms = wb_now_ms();
    snprintf(r->out, sizeof(r->out), "%.*s", (int)len, out ? out : "");
    snprintf(r->err, sizeof(r->err), "%s", error ? error : "");
}

/* Turn the loop until *count reaches want or timeout_ms passes. */
static void run_until(wb_loop *lp, const int *count, int want, int64_t timeout_ms)
{
    int64_t end = wb_now_ms() + timeout_ms;
    while (*count < want && wb_now_ms() < end)
        ASSERT(wb_loop_run_once(lp, 10) >= 0);
}

static wb_loop *new_loop(void)
{
    char err[256];
    wb_loop *lp = wb_loop_new(err, sizeof(err));
    if (!lp) FAIL_("wb_loop_new: %s", err);
    return lp;
}

static wb_jq *new_jq(wb_loop *lp, int64_t budget_ms, size_t memory)
{
    char err[256];
    wb_jq_limits lim = {.budget_ms = budget_ms, .memory_bytes = memory};
    wb_jq *jq = wb_jq_new(lp, &lim, err, sizeof(err));
    if (!jq) FAIL_("wb_jq_new: %s", err);
    return jq;
}

static void eval(wb_jq *jq, const char *expr, wb_jq_kind kind, const char *json, result *r)
{
    ASSERT_EQ(wb_jq_eval(jq, expr, kind, json, strlen(json), on_result, r, NULL), WB_OK);
}

#define EV "{\"type\":\"order.paid\",\"data\":{\"amount\":150,\"id\":\"o1\"}}"

static void test_sandbox_basic(void)
{
    wb_loop *lp = new_loop();
    wb_jq *jq = new_jq(lp, 0, 0);
    result r[4] = {{0}};
    int total = 0;
    eval(jq, ".data.amount > 100", WB_JQ_FILTER, EV, &r[0]);
    eval(jq, ".data.amount > 200", WB_JQ_FILTER, EV, &r[1]);
    eval(jq, "{id: .data.id}", WB_JQ_TRANSFORM, EV, &r[2]);
    eval(jq, ".data.id", WB_JQ_TRANSFORM, EV, &r[3]);
    ASSERT_EQ(r[0].done, 0); /* never from inside wb_jq_eval */
    ASSERT_EQ(wb_jq_pending(jq), 4);
    for (int64_t end = wb_now_ms() + 5000; wb_now_ms() < end && total < 4;) {
        ASSERT(wb_loop_run_once(lp, 10) >= 0);
        total = r[0].done + r[1].done + r[2].done + r[3].done;
    }
    ASSERT_EQ(total, 4);
    ASSERT_EQ(r[0].st, WB_JQ_PASS);
    ASSERT_EQ(r[1].st, WB_JQ_FILTERED);
    ASSERT_EQ(r[2].st, WB_JQ_PASS);
    ASSERT_STR_EQ(r[2].out, "{\"id\":\"o1\"}");
    ASSERT_EQ(r[3].st, WB_JQ_FAILED);
    ASSERT_STR_EQ(r[3].err, "transform must yield an object, got string");
    /* a compile error reaches the record too (config checks normally catch it first) */
    result c = {0};
    eval(jq, "{", WB_JQ_TRANSFORM, EV, &c);
    run_until(lp, &c.done, 1, 5000);
    ASSERT_EQ(c.st, WB_JQ_FAILED);
    ASSERT_CONTAINS(c.err, "compile error: syntax error");
    /* the worker has an empty environment: env cannot leak the bridge's secrets */
    setenv("WB_TEST_SECRET", "hunter2", 1);
    result e = {0};
    eval(jq, "{env: env}", WB_JQ_TRANSFORM, EV, &e);
    run_until(lp, &e.done, 1, 5000);
    ASSERT_STR_EQ(e.out, "{\"env\":{}}");
    /* too large / limits */
    ASSERT_EQ(wb_jq_eval(jq, ".", WB_JQ_FILTER, EV, 5u << 20, on_result, &e, NULL),
              WB_ERR_TOO_LARGE);
    wb_jq_stats st;
    wb_jq_get_stats(jq, &st);
    ASSERT_EQ(st.spawns, 1);
    ASSERT_EQ(st.evaluations, 6);
    wb_jq_free(jq);
    wb_loop_free(lp);
}

/* Many requests made in one turn all come back, in order, from one worker. */
static void test_sandbox_batch(void)
{
    wb_loop *lp = new_loop();
    wb_jq *jq = new_jq(lp, 0, 0);
    enum { N = 2000 };
    static result r[N];
    memset(r, 0, sizeof(r));
    char ev[128];
    int done = 0;
    for (int i = 0; i < N; i++) {
        snprintf(ev, sizeof(ev), "{\"n\":%d}", i);
        eval(jq, i % 2 ? "{m: (.n * 2)}" : ".n % 3 == 0", i % 2 ? WB_JQ_TRANSFORM : WB_JQ_FILTER,
             ev, &r[i]);
    }
    for (int64_t end = wb_now_ms() + 10000; wb_now_ms() < end && done < N;) {
        ASSERT(wb_loop_run_once(lp, 10) >= 0);
        done = 0;
        for (int i = 0; i < N; i++)
            done += r[i].done;
    }
    ASSERT_EQ(done, N);
    for (int i = 0; i < N; i++) {
        if (i % 2) {
            char want[64];
            snprintf(want, sizeof(want), "{\"m\":%d}", 2 * i);
            ASSERT_EQ(r[i].st, WB_JQ_PASS);
            ASSERT_STR_EQ(r[i].out, want);
        } else {
            ASSERT_EQ(r[i].st, i % 3 == 0 ? WB_JQ_PASS : WB_JQ_FILTERED);
        }
        if (i) ASSERT(r[i].at_ms >= r[i - 1].at_ms);
    }
    wb_jq_free(jq);
    wb_loop_free(lp);
}

typedef struct ticker {
    wb_timer t;
    wb_loop *lp;
    int ticks;
    int64_t worst_gap_ms;
    int64_t last_ms;
} ticker;

static void on_tick(wb_loop *lp, void *arg)
{
    ticker *tk = arg;
    int64_t now = wb_now_ms();
    if (tk->last_ms && now - tk->last_ms > tk->worst_gap_ms) tk->worst_gap_ms = now - tk->last_ms;
    tk->last_ms = now;
    tk->ticks++;
    wb_loop_timer_start(lp, &tk->t, now + 5);
}

/* A runaway evaluation is killed at its budget, fails alone, and the requests queued behind
 * it (another partner's) are answered by the respawned worker; the loop never stops turning. */
static void test_sandbox_budget(void)
{
    wb_loop *lp = new_loop();
    wb_jq *jq = new_jq(lp, 600, 0);
    result warm = {0}, hostile = {0}, after[3] = {{0}};
    eval(jq, "true", WB_JQ_FILTER, "{}", &warm);
    run_until(lp, &warm.done, 1, 5000);
    ASSERT_EQ(warm.st, WB_JQ_PASS);
    int pid1 = wb_jq_worker_pid(jq);
    ASSERT(pid1 > 0);

    ticker tk = {.lp = lp};
    wb_timer_init(&tk.t, on_tick, &tk);
    wb_loop_timer_start(lp, &tk.t, wb_now_ms() + 5);
    int64_t t0 = wb_now_ms();
    eval(jq, "last(range(1e15))", WB_JQ_FILTER, "{}", &hostile);
    for (int i = 0; i < 3; i++)
        eval(jq, "{id: .data.id}", WB_JQ_TRANSFORM, EV, &after[i]);
    run_until(lp, &after[2].done, 1, 5000);
    ASSERT_EQ(hostile.done, 1);
    ASSERT_EQ(hostile.st, WB_JQ_FAILED);
    ASSERT_STR_EQ(hostile.err, "exceeded the 600 ms budget of the jq sandbox");
    ASSERT(hostile.at_ms - t0 >= 600);
    ASSERT(hostile.at_ms - t0 < 3000);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(after[i].st, WB_JQ_PASS);
        ASSERT_STR_EQ(after[i].out, "{\"id\":\"o1\"}");
    }
    /* the loop kept turning while the worker spun for 600 ms: a 5 ms ticker never waited
     * anywhere near that (a synchronous evaluation would show a gap >= the budget) */
    ASSERT(tk.ticks >= 20);
    if (tk.worst_gap_ms > 250) FAIL_("loop stalled %lld ms", (long long)tk.worst_gap_ms);
    wb_loop_timer_stop(lp, &tk.t);
    int pid2 = wb_jq_worker_pid(jq);
    ASSERT(pid2 > 0 && pid2 != pid1);
    for (int i = 0; i < 50 && kill(pid1, 0) == 0; i++)
        wb_loop_run_once(lp, 10);
    ASSERT_EQ(kill(pid1, 0), -1); /* killed and reaped: no zombie left behind */
    wb_jq_stats st;
    wb_jq_get_stats(jq, &st);
    ASSERT_EQ(st.budget_kills, 1);
    ASSERT_EQ(st.spawns, 2);
    wb_jq_free(jq);
    wb_loop_free(lp);
}

/* An event that makes the program allocate without bound hits RLIMIT_AS; it fails with the
 * memory message, the next request is served by a new worker. */
static void test_sandbox_memory_cap(void)
{
    wb_loop *lp = new_loop();
    wb_jq *jq = new_jq(lp, 20000, 192u << 20);
    result big = {0}, next = {0};
    /* the event decides how much the program builds: hostile input, not a hostile program */
    eval(jq, "[range(.n) | tostring] | length > 0", WB_JQ_FILTER, "{\"n\":1e10}", &big);
    eval(jq, "[range(.n) | tostring] | length > 0", WB_JQ_FILTER, "{\"n\":10}", &next);
    run_until(lp, &next.done, 1, 30000);
    ASSERT_EQ(big.done, 1);
    ASSERT_EQ(big.st, WB_JQ_FAILED);
    ASSERT_STR_EQ(big.err, "exceeded the 192 MiB memory limit of the jq sandbox");
    ASSERT_EQ(next.st, WB_JQ_PASS);
    wb_jq_stats st;
    wb_jq_get_stats(jq, &st);
    ASSERT_EQ(st.spawns, 2);
    wb_jq_free(jq);
    wb_loop_free(lp);
}

/* A cancelled request never calls back; a worker killed from outside while idle is
 * replaced on the next request; deeply nested hostile JSON is an error, not a crash. */
static void test_sandbox_cancel_and_kill(void)
{
    wb_loop *lp = new_loop();
    wb_jq *jq = new_jq(lp, 0, 0);
    result a = {0}, b = {0};
    wb_jq_req *req;
    ASSERT_EQ(wb_jq_eval(jq, "true", WB_JQ_FILTER, "{}", 2, on_result, &a, &req), WB_OK);
    eval(jq, "false", WB_JQ_FILTER, "{}", &b);
    wb_jq_cancel(jq, req);
    run_until(lp, &b.done, 1, 5000);
    ASSERT_EQ(a.done, 0);
    ASSERT_EQ(b.st, WB_JQ_FILTERED);
    ASSERT_EQ(wb_jq_pending(jq), 0);

    ASSERT_EQ(kill(wb_jq_worker_pid(jq), SIGKILL), 0);
    for (int i = 0; i < 20; i++)
        wb_loop_run_once(lp, 5);
    result c = {0};
    eval(jq, "true", WB_JQ_FILTER, "{}", &c);
    run_until(lp, &c.done, 1, 5000);
    ASSERT_EQ(c.st, WB_JQ_PASS);

    enum { DEPTH = 20000 };
    static char deep[2 * DEPTH + 1];
    memset(deep, '[', DEPTH);
    memset(deep + DEPTH, ']', DEPTH);
    result d = {0};
    eval(jq, "true", WB_JQ_FILTER, deep, &d);
    run_until(lp, &d.done, 1, 5000);
    ASSERT_EQ(d.st, WB_JQ_FAILED);
    ASSERT_CONTAINS(d.err, "the event is not JSON: ");
    wb_jq_free(jq);
    wb_loop_free(lp);
}

/* A worker retires after recycle_after evaluations (libjq 1.6 leaks a little on some
 * errors): the next one takes over, nothing fails, nothing is lost or answered twice. */
static void test_sandbox_recycle(void)
{
    wb_loop *lp = new_loop();
    char err[256];
    wb_jq_limits lim = {.recycle_after = 40};
    wb_jq *jq = wb_jq_new(lp, &lim, err, sizeof(err));
    ASSERT(jq);
    enum { N = 300 };
    static result r[N];
    memset(r, 0, sizeof(r));
    int done = 0;
    for (int i = 0; i < N; i++)
        eval(jq, i % 3 ? ".n > 1" : "{n}", i % 3 ? WB_JQ_FILTER : WB_JQ_TRANSFORM,
             i % 2 ? "{\"n\":2}" : "{\"n\":2} junk", &r[i]);
    for (int64_t end = wb_now_ms() + 20000; wb_now_ms() < end && done < N;) {
        ASSERT(wb_loop_run_once(lp, 10) >= 0);
        done = 0;
        for (int i = 0; i < N; i++)
            done += r[i].done;
    }
    ASSERT_EQ(done, N);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(r[i].done, 1);
        if (i % 2 == 0) {
            ASSERT_EQ(r[i].st, WB_JQ_FAILED);
            ASSERT_CONTAINS(r[i].err, "the event is not JSON: ");
        } else {
            ASSERT_EQ(r[i].st, WB_JQ_PASS);
        }
    }
    wb_jq_stats st;
    wb_jq_get_stats(jq, &st);
    ASSERT(st.recycles >= N / 40 - 1);
    ASSERT_EQ(st.budget_kills + st.worker_deaths, 0);
    ASSERT_EQ(st.evaluations, N);
    wb_jq_free(jq);
    wb_loop_free(lp);
}

/* A worker that cannot start fails no record: they wait (retried with a growing delay). */
static void test_sandbox_cannot_start(void)
{
    wb_loop *lp = new_loop();
    char err[256];
    wb_jq_limits lim = {.worker_exe = "/nonexistent/webhook-bridge"};
    wb_jq *jq = wb_jq_new(lp, &lim, err, sizeof(err));
    ASSERT(jq);
    result r = {0};
    eval(jq, "true", WB_JQ_FILTER, "{}", &r);
    int64_t end = wb_now_ms() + 300;
    while (wb_now_ms() < end)
        wb_loop_run_once(lp, 10);
    ASSERT_EQ(r.done, 0);
    ASSERT_EQ(wb_jq_pending(jq), 1);
    wb_jq_free(jq);
    wb_loop_free(lp);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "jq-worker")) return wb_jq_worker_main(argc - 1, argv + 1);
    /* RLIMIT_AS cannot be set under AddressSanitizer: the memory cap is its own CTest entry,
     * unit.test_jq.memory_cap, labelled nosan (run in the release pass) */
    if (argc > 1 && !strcmp(argv[1], "memory_cap")) {
        RUN(test_sandbox_memory_cap);
        TEST_DONE();
    }
    RUN(test_check);
    RUN(test_filter_rules);
    RUN(test_transform_rules);
    RUN(test_sandbox_basic);
    RUN(test_sandbox_batch);
    RUN(test_sandbox_budget);
    RUN(test_sandbox_cancel_and_kill);
    RUN(test_sandbox_recycle);
    RUN(test_sandbox_cannot_start);
    TEST_DONE();
}
