/* test_scheduler.c - lanes, concurrency caps, rate limits, retries, circuit breaker. */
#include "outbound/scheduler.h"
#include "test.h"

#define N 8

static void test_lane_order(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 64, 0, 0, 0);
    wb_job j[N] = {0};
    /* jobs 0,2,4 share lane "a"; 1,3 lane "b"; 5,6,7 unordered */
    for (int i = 0; i < N; i++) {
        const char *key = i < 5 ? (i % 2 ? "b" : "a") : NULL;
        ASSERT_EQ(wb_sched_submit(s, c, &j[i], key, key ? 1 : 0, 0, 0), 0);
    }
    /* Startable now: heads of a (0) and b (1), and 5,6,7. */
    wb_job *got[N];
    int n = 0;
    wb_job *x;
    while ((x = wb_sched_next(s, 0)))
        got[n++] = x;
    ASSERT_EQ(n, 5);
    ASSERT(got[0] == &j[0] && got[1] == &j[1]);
    /* Retry job 0 later: lane a stays blocked, job 2 must not start. */
    wb_sched_retry(s, &j[0], 0, 100, -1, 0);
    ASSERT(wb_sched_next(s, 50) == NULL);
    ASSERT_EQ(wb_sched_wait_ms(s, 50), 50);
    ASSERT(wb_sched_next(s, 100) == &j[0]);
    wb_sched_finish(s, &j[0], 1, 100);
    ASSERT(wb_sched_next(s, 100) == &j[2]);
    wb_sched_finish(s, &j[1], 1, 100);
    ASSERT(wb_sched_next(s, 100) == &j[3]);
    ASSERT(wb_sched_next(s, 100) == NULL); /* 4 waits behind 2 */
    wb_sched_finish(s, &j[2], 1, 100);
    ASSERT(wb_sched_next(s, 100) == &j[4]);
    ASSERT_EQ(wb_sched_conn_running(c), 5); /* 3,4,5,6,7 */
    for (int i = 3; i < N; i++)
        wb_sched_finish(s, &j[i], 1, 100);
    ASSERT_EQ(wb_sched_conn_queued(c), 0);
    ASSERT_EQ(wb_sched_wait_ms(s, 100), -1);
    wb_sched_free(s);
}

static void test_concurrency_and_rate(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 2, 0, 0, 0);
    wb_sched_conn *r = wb_sched_conn_new(s, 100, 10.0, 0, 0); /* 10/s, burst 10 */
    wb_job a[5] = {0}, b[30] = {0};
    for (int i = 0; i < 5; i++)
        wb_sched_submit(s, c, &a[i], NULL, 0, 0, 0);
    for (int i = 0; i < 30; i++)
        wb_sched_submit(s, r, &b[i], NULL, 0, 0, 0);
    int from_c = 0, from_r = 0;
    wb_job *x;
    while ((x = wb_sched_next(s, 0)))
        if (x->conn == c)
            from_c++;
        else
            from_r++;
    ASSERT_EQ(from_c, 2);  /* concurrency cap */
    ASSERT_EQ(from_r, 10); /* burst of one second */
    ASSERT(wb_sched_wait_ms(s, 0) > 0);
    from_r = 0;
    while ((x = wb_sched_next(s, 500)))
        if (x->conn == r) from_r++;
    ASSERT_EQ(from_r, 5); /* half a second refills 5 tokens */
    wb_sched_free(s);
}

static void test_circuit(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 10, 0, 3, 1000);
    wb_job j[6] = {0};
    for (int i = 0; i < 6; i++)
        wb_sched_submit(s, c, &j[i], NULL, 0, 0, 0);
    /* three failures open the breaker */
    for (int i = 0; i < 3; i++) {
        wb_job *x = wb_sched_next(s, 0);
        ASSERT(x == &j[i]);
        wb_sched_retry(s, x, 0, 0, -1, 0);
    }
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_OPEN);
    ASSERT(wb_sched_next(s, 500) == NULL); /* open: nothing is sent, no retries burned */
    ASSERT_EQ(wb_sched_wait_ms(s, 500), 500);
    /* half-open: exactly one probe */
    wb_job *probe = wb_sched_next(s, 1000);
    ASSERT(probe != NULL);
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_HALF_OPEN);
    ASSERT(wb_sched_next(s, 1000) == NULL);
    wb_sched_retry(s, probe, 0, 1000, -1, 1000); /* probe failed: open again */
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_OPEN);
    probe = wb_sched_next(s, 2000);
    ASSERT(probe != NULL);
    wb_sched_finish(s, probe, 1, 2000); /* probe ok: closed, all flow */
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_CLOSED);
    int n = 0;
    while (wb_sched_next(s, 2000))
        n++;
    ASSERT_EQ(n, 5);
    wb_sched_free(s);
}

static void test_cancel(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 10, 0, 0, 0);
    wb_job j[3] = {0};
    for (int i = 0; i < 3; i++)
        wb_sched_submit(s, c, &j[i], "k", 1, 0, 0);
    wb_sched_cancel(s, &j[1], 0); /* queued behind the head */
    wb_sched_cancel(s, &j[0], 0); /* ready head: lane advances to 2 */
    ASSERT(wb_sched_next(s, 0) == &j[2]);
    wb_sched_finish(s, &j[2], 1, 0);
    ASSERT_EQ(wb_sched_conn_queued(c), 0);
    wb_sched_free(s);
}

/* A held job keeps its lane place: what is behind it waits until it is released, even when
 * it is released after later jobs were submitted. */
static void test_held(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 10, 0, 0, 0);
    wb_job j[4] = {0};
    ASSERT_EQ(wb_sched_submit_held(s, c, &j[0], "k", 1, 0), 0);
    ASSERT_EQ(wb_sched_submit(s, c, &j[1], "k", 1, 0, 0), 0);
    ASSERT_EQ(wb_sched_submit_held(s, c, &j[2], "k", 1, 0), 0);
    ASSERT_EQ(wb_sched_submit_held(s, c, &j[3], NULL, 0, 0), 0);
    ASSERT(wb_sched_next(s, 0) == NULL); /* head held, unordered one held */
    wb_sched_release(s, &j[2], 0);       /* behind the head: still waits for its turn */
    ASSERT(wb_sched_next(s, 0) == NULL);
    wb_sched_release(s, &j[3], 0);
    ASSERT(wb_sched_next(s, 0) == &j[3]);
    wb_sched_release(s, &j[0], 5);
    ASSERT(wb_sched_next(s, 5) == &j[0]);
    ASSERT(wb_sched_next(s, 5) == NULL);
    wb_sched_finish(s, &j[0], 1, 5);
    ASSERT(wb_sched_next(s, 5) == &j[1]);
    wb_sched_finish(s, &j[1], 1, 5);
    ASSERT(wb_sched_next(s, 5) == &j[2]); /* released earlier: starts as soon as it is head */
    wb_sched_finish(s, &j[2], 1, 5);
    wb_sched_finish(s, &j[3], 1, 5);
    /* a held job can be cancelled */
    ASSERT_EQ(wb_sched_submit_held(s, c, &j[0], "k", 1, 5), 0);
    ASSERT_EQ(wb_sched_submit(s, c, &j[1], "k", 1, 5, 5), 0);
    wb_sched_cancel(s, &j[0], 5);
    ASSERT(wb_sched_next(s, 5) == &j[1]);
    wb_sched_finish(s, &j[1], 1, 5);
    ASSERT_EQ(wb_sched_conn_queued(c), 0);
    wb_sched_free(s);
}

/* The breaker opens short (1 s) and grows to the cooldown; Retry-After lengthens it; a success
 * resets the growth. */
static void test_circuit_growth(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 10, 0, 2, 30000);
    wb_job j[2] = {0};
    for (int i = 0; i < 2; i++)
        wb_sched_submit(s, c, &j[i], NULL, 0, 0, 0);
    int64_t now = 0;
    wb_job *x = wb_sched_next(s, now);
    wb_sched_retry(s, x, 0, now, -1, now);
    x = wb_sched_next(s, now);
    wb_sched_retry(s, x, 0, now, -1, now);
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_OPEN);
    ASSERT_EQ(wb_sched_conn_open_until(c), 1000); /* first opening: one second */
    int64_t expect[] = {2000, 4000, 8000, 16000, 30000, 30000};
    for (int k = 0; k < 6; k++) {
        now = wb_sched_conn_open_until(c);
        x = wb_sched_next(s, now); /* the half-open probe */
        ASSERT(x != NULL);
        wb_sched_retry(s, x, 0, now, -1, now);
        ASSERT_EQ(wb_sched_conn_open_until(c) - now, expect[k]);
    }
    /* Retry-After longer than the period wins */
    now = wb_sched_conn_open_until(c);
    x = wb_sched_next(s, now);
    wb_sched_retry(s, x, 0, now, 45000, now);
    ASSERT_EQ(wb_sched_conn_open_until(c) - now, 45000);
    /* success resets: the next opening is short again */
    now = wb_sched_conn_open_until(c);
    x = wb_sched_next(s, now);
    wb_sched_retry(s, x, 1, now, -1, now);
    ASSERT_EQ(wb_sched_conn_circuit(c), WB_CIRCUIT_CLOSED);
    for (int i = 0; i < 2; i++) {
        x = wb_sched_next(s, now);
        ASSERT(x != NULL);
        wb_sched_retry(s, x, 0, now, i == 1 ? 1000 : -1, now);
    }
    ASSERT_EQ(wb_sched_conn_open_until(c) - now, 1000);
    wb_sched_free(s);
}

static void test_pause(void)
{
    wb_sched *s = wb_sched_new();
    wb_sched_conn *c = wb_sched_conn_new(s, 10, 0, 0, 0);
    wb_job j[2] = {0};
    wb_sched_submit(s, c, &j[0], NULL, 0, 0, 0);
    wb_sched_conn_pause(c, 1);
    ASSERT(wb_sched_next(s, 0) == NULL);
    ASSERT_EQ(wb_sched_wait_ms(s, 0), -1);
    wb_sched_submit(s, c, &j[1], NULL, 0, 0, 0);
    wb_sched_conn_pause(c, 0);
    ASSERT(wb_sched_next(s, 0) == &j[0]);
    ASSERT(wb_sched_next(s, 0) == &j[1]);
    wb_sched_finish(s, &j[0], 1, 0);
    wb_sched_finish(s, &j[1], 1, 0);
    wb_sched_free(s);
}

int main(void)
{
    RUN(test_held);
    RUN(test_circuit_growth);
    RUN(test_pause);
    RUN(test_lane_order);
    RUN(test_concurrency_and_rate);
    RUN(test_circuit);
    RUN(test_cancel);
    TEST_DONE();
}
