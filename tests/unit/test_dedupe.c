/* test_dedupe.c - TTL expiry with an injected clock, bound/eviction, in-flight states,
 * and a concurrency smoke test. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "inbound/dedupe.h"
#include "core/metrics.h"
#include "test.h"

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

#define S(x) x, strlen(x)

static void test_states(void)
{
    fake_now = 1000;
    wb_dedupe *dd = wb_dedupe_new(100, 5000, fake_clock, &fake_now);
    ASSERT(dd);
    ASSERT_EQ(wb_dedupe_begin(dd, S("a")), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_begin(dd, S("a")), WB_DEDUPE_IN_FLIGHT);
    wb_dedupe_abort(dd, S("a"));
    ASSERT_EQ(wb_dedupe_count(dd), 0);
    ASSERT_EQ(wb_dedupe_begin(dd, S("a")), WB_DEDUPE_NEW);
    wb_dedupe_commit(dd, S("a"));
    ASSERT_EQ(wb_dedupe_begin(dd, S("a")), WB_DEDUPE_SEEN);
    wb_dedupe_abort(dd, S("a")); /* a SEEN id is not forgotten by abort */
    ASSERT_EQ(wb_dedupe_begin(dd, S("a")), WB_DEDUPE_SEEN);
    /* ids are binary-safe and exact: a prefix is another id */
    ASSERT_EQ(wb_dedupe_begin(dd, "a\0b", 3), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_begin(dd, S("ab")), WB_DEDUPE_NEW);
    /* commit of an unknown id (reservation evicted or timed out) inserts it */
    wb_dedupe_commit(dd, S("late"));
    ASSERT_EQ(wb_dedupe_begin(dd, S("late")), WB_DEDUPE_SEEN);
    wb_dedupe_free(dd);
}

static void test_ttl(void)
{
    fake_now = 0;
    wb_dedupe *dd = wb_dedupe_new(100, 5000, fake_clock, &fake_now);
    ASSERT_EQ(wb_dedupe_begin(dd, S("x")), WB_DEDUPE_NEW);
    fake_now = 1000;
    wb_dedupe_commit(dd, S("x")); /* window starts at the ack: expires at 6000 */
    fake_now = 5999;
    ASSERT_EQ(wb_dedupe_begin(dd, S("x")), WB_DEDUPE_SEEN);
    fake_now = 6000;
    ASSERT_EQ(wb_dedupe_begin(dd, S("x")), WB_DEDUPE_NEW); /* expired -> new reservation */
    ASSERT_EQ(wb_dedupe_count(dd), 1);
    wb_dedupe_abort(dd, S("x")); /* (an in-flight reservation is never reaped) */
    /* reaping keeps memory bounded by the window */
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof(id), "id%d", i);
        wb_dedupe_commit(dd, id, strlen(id));
    }
    ASSERT_EQ(wb_dedupe_count(dd), 50);
    fake_now = 20000;
    ASSERT_EQ(wb_dedupe_begin(dd, S("fresh")), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_count(dd), 1);
    wb_dedupe_free(dd);
}

static void test_bound(void)
{
    fake_now = 0;
    wb_dedupe *dd = wb_dedupe_new(1000, 3600000, fake_clock, &fake_now);
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "e%d", i);
        fake_now = i;
        ASSERT_EQ(wb_dedupe_begin(dd, id, strlen(id)), WB_DEDUPE_NEW);
        wb_dedupe_commit(dd, id, strlen(id));
        ASSERT(wb_dedupe_count(dd) <= 1000);
    }
    ASSERT_EQ(wb_dedupe_count(dd), 1000);
    ASSERT_EQ(wb_dedupe_evictions(dd), 4000);
    /* the oldest were evicted, the newest 1000 are still duplicates */
    ASSERT_EQ(wb_dedupe_begin(dd, S("e3999")), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_begin(dd, S("e4999")), WB_DEDUPE_SEEN);
    ASSERT_EQ(wb_dedupe_begin(dd, S("e4001")), WB_DEDUPE_SEEN);
    wb_dedupe_free(dd);
}

/* Regression (issue 9.12): a full cache evicted the oldest entry even while its publish was
 * running, so the partner's retry of that delivery was published a second time; and an
 * in-flight entry older than the TTL was reaped the same way. */
static void test_in_flight_never_evicted(void)
{
    wb_metrics_reset();
    wb_counter *ev =
        wb_metrics_counter("webhook_bridge_inbound_dedupe_evictions_total", "t", "connector=\"t\"");
    fake_now = 0;
    wb_dedupe *dd = wb_dedupe_new(3, 100, fake_clock, &fake_now);
    wb_dedupe_set_eviction_counter(dd, ev);
    ASSERT_EQ(wb_dedupe_begin(dd, S("slow")), WB_DEDUPE_NEW); /* oldest, still publishing */
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "f%d", i);
        ASSERT_EQ(wb_dedupe_begin(dd, id, strlen(id)), WB_DEDUPE_NEW);
        wb_dedupe_commit(dd, id, strlen(id));
        ASSERT(wb_dedupe_count(dd) <= 3);
    }
    ASSERT_EQ(wb_dedupe_begin(dd, S("slow")), WB_DEDUPE_IN_FLIGHT);
    ASSERT_EQ(wb_dedupe_evictions(dd), 8);
    ASSERT_EQ(wb_counter_value(ev), 8);
    /* past the TTL the reservation still holds */
    fake_now = 10000;
    ASSERT_EQ(wb_dedupe_begin(dd, S("other")), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_begin(dd, S("slow")), WB_DEDUPE_IN_FLIGHT);
    /* every entry in flight: nothing may be evicted, the newcomer is told to come back */
    ASSERT_EQ(wb_dedupe_begin(dd, S("third")), WB_DEDUPE_NEW);
    ASSERT_EQ(wb_dedupe_begin(dd, S("fourth")), WB_DEDUPE_FULL);
    wb_dedupe_commit(dd, S("slow"));
    ASSERT_EQ(wb_dedupe_begin(dd, S("slow")), WB_DEDUPE_SEEN);
    wb_dedupe_abort(dd, S("other"));
    ASSERT_EQ(wb_dedupe_begin(dd, S("fourth")), WB_DEDUPE_NEW);
    wb_dedupe_free(dd);
    wb_metrics_reset();
}

typedef struct {
    wb_dedupe *dd;
    int news;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 20000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "k%d", i % 5000);
        wb_dedupe_state st = wb_dedupe_begin(w->dd, id, strlen(id));
        if (st == WB_DEDUPE_NEW) {
            w->news++;
            wb_dedupe_commit(w->dd, id, strlen(id));
        }
    }
    return NULL;
}

static void test_concurrency(void)
{
    wb_dedupe *dd = wb_dedupe_new(100000, 3600000, NULL, NULL);
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i].dd = dd;
        w[i].news = 0;
        ASSERT_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += w[i].news;
    }
    /* every id was accepted as new exactly once across all threads */
    ASSERT_EQ(total, 5000);
    ASSERT_EQ(wb_dedupe_count(dd), 5000);
    wb_dedupe_free(dd);
}

int main(void)
{
    RUN(test_states);
    RUN(test_ttl);
    RUN(test_bound);
    RUN(test_in_flight_never_evicted);
    RUN(test_concurrency);
    TEST_DONE();
}
