/* test_ledger.c - the outbound ledger: terminal prefixes, generations and fencing, budgets,
 * positions to store. */
#include "outbound/ledger.h"
#include "core/util.h"
#include "test.h"

static void test_prefix(void)
{
    wb_ledger *l = wb_ledger_new(100, 1 << 20);
    wb_ledger_part *p = wb_ledger_assign(l, "orders", 3);
    ASSERT(p);
    ASSERT(wb_ledger_assign(l, "orders", 3) == p); /* already active: same generation */
    for (int64_t o = 10; o < 15; o++)
        ASSERT_EQ(wb_ledger_track(p, o, 100, 1000 + o), 0);
    ASSERT_EQ(wb_ledger_tracked(p), 5);
    ASSERT_EQ(wb_ledger_in_flight(l), 5);
    ASSERT_EQ(wb_ledger_bytes(l), 500);
    ASSERT_EQ(wb_ledger_done(p, 12, 100), 0); /* not the head: nothing new committable */
    ASSERT_EQ(p->next_commit, 10);            /* where the cursor stood: the first record tracked */
    ASSERT_EQ(wb_ledger_oldest_offset(p), 10);
    ASSERT_EQ(wb_ledger_oldest_ts(p), 1010);
    ASSERT_EQ(wb_ledger_done(p, 10, 100), 1);
    ASSERT_EQ(p->next_commit, 11);
    ASSERT_EQ(wb_ledger_done(p, 11, 100), 1); /* 11 and the already-terminal 12 pop */
    ASSERT_EQ(p->next_commit, 13);
    ASSERT_EQ(wb_ledger_oldest_ts(p), 1013);
    ASSERT_EQ(wb_ledger_tracked(p), 2);
    ASSERT_EQ(wb_ledger_bytes(l), 200);
    ASSERT_EQ(wb_ledger_done(p, 99, 1), -1);     /* unknown offset */
    ASSERT_EQ(wb_ledger_done(p, 12, 1), -1);     /* already terminal */
    ASSERT_EQ(wb_ledger_track(p, 12, 1, 0), -1); /* refetched after a seek */
    wb_ledger_free(l);
}

static void test_gaps_and_order(void)
{
    wb_ledger *l = wb_ledger_new(100, 1 << 20);
    wb_ledger_part *p = wb_ledger_assign(l, "t", 0);
    ASSERT_EQ(wb_ledger_track(p, 5, 1, 0), 0);
    ASSERT_EQ(wb_ledger_track(p, 9, 1, 0), 0);  /* gap (compaction) */
    ASSERT_EQ(wb_ledger_track(p, 7, 1, 0), -1); /* out of order */
    ASSERT_EQ(wb_ledger_done(p, 9, 1), 0);
    ASSERT_EQ(wb_ledger_done(p, 5, 1), 1);
    ASSERT_EQ(p->next_commit, 10);
    ASSERT_EQ(wb_ledger_tracked(p), 0);
    ASSERT_EQ(wb_ledger_oldest_ts(p), -1);
    ASSERT_EQ(wb_ledger_track(p, 3, 1, 0), -1); /* below the committable position */
    wb_ledger_free(l);
}

/* Many records, completed in a scrambled order, across ring growth and wrap-around. */
static void test_wrap(void)
{
    wb_ledger *l = wb_ledger_new(1000, 1 << 30);
    wb_ledger_part *p = wb_ledger_assign(l, "t", 0);
    int64_t next = 0;
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        int n = 1 + (int)(seed % 97);
        for (int i = 0; i < n; i++)
            ASSERT_EQ(wb_ledger_track(p, next + i, 10, 0), 0);
        /* complete backwards: only the last call (the head) advances */
        for (int i = n - 1; i >= 0; i--)
            ASSERT_EQ(wb_ledger_done(p, next + i, 10), i == 0);
        next += n;
        ASSERT_EQ(p->next_commit, next);
        seed = seed * 1103515245u + 12345u;
    }
    ASSERT_EQ(wb_ledger_tracked(p), 0);
    ASSERT_EQ(wb_ledger_bytes(l), 0);
    wb_ledger_free(l);
}

/* A revoked generation never commits again; a new assignment of the same partition is a
 * fresh part untouched by the old one's late completions. */
static void test_fence_generations(void)
{
    wb_ledger *l = wb_ledger_new(100, 1 << 20);
    wb_ledger_part *old = wb_ledger_assign(l, "t", 1);
    uint64_t g1 = old->generation;
    for (int64_t o = 0; o < 4; o++)
        ASSERT_EQ(wb_ledger_track(old, o, 10, 0), 0);
    ASSERT_EQ(wb_ledger_done(old, 0, 10), 1);
    wb_ledger_fence(l, old);
    ASSERT(wb_ledger_find(l, "t", 1) == NULL);
    ASSERT_EQ(wb_ledger_in_flight(l), 0); /* fenced records no longer count */
    ASSERT_EQ(wb_ledger_track(old, 9, 1, 0), -3);
    wb_ledger_part *fresh = wb_ledger_assign(l, "t", 1);
    ASSERT(fresh != old);
    ASSERT(fresh->generation > g1);
    ASSERT_EQ(wb_ledger_track(fresh, 1, 10, 0), 0);
    /* late completions of the old generation: dropped, nothing committable */
    ASSERT_EQ(wb_ledger_done(old, 1, 10), 0);
    ASSERT_EQ(wb_ledger_done(old, 3, 10), 0);
    ASSERT_EQ(fresh->next_commit, 1); /* its own first record, nothing of the old one */
    ASSERT_EQ(wb_ledger_fenced_drops(l), 2);
    ASSERT_EQ(wb_ledger_done(old, 2, 10), 0); /* last one: the old part is freed */
    ASSERT_EQ(wb_ledger_bytes(l), 10);        /* only fresh's record */
    ASSERT_EQ(wb_ledger_done(fresh, 1, 10), 1);
    ASSERT_EQ(fresh->next_commit, 2);
    /* fencing an empty part frees it at once */
    wb_ledger_part *empty = wb_ledger_assign(l, "t", 2);
    wb_ledger_fence(l, empty);
    ASSERT(wb_ledger_find(l, "t", 2) == NULL);
    wb_ledger_free(l); /* frees fresh; a fenced part with records would be freed too */
}

static void test_budgets(void)
{
    wb_ledger *l = wb_ledger_new(4, 1000);
    wb_ledger_part *p = wb_ledger_assign(l, "t", 0);
    wb_ledger_part *q = wb_ledger_assign(l, "t", 1);
    for (int64_t o = 0; o < 4; o++)
        ASSERT_EQ(wb_ledger_track(p, o, 100, 0), 0);
    ASSERT(wb_ledger_part_full(p));
    ASSERT(!wb_ledger_part_full(q));
    ASSERT(!wb_ledger_part_low(p));
    ASSERT_EQ(wb_ledger_done(p, 0, 100), 1);
    ASSERT(!wb_ledger_part_low(p)); /* 3 > 4/2 */
    ASSERT_EQ(wb_ledger_done(p, 1, 100), 1);
    ASSERT(wb_ledger_part_low(p));
    ASSERT_EQ(wb_ledger_track(q, 0, 900, 0), 0);
    ASSERT(wb_ledger_over_budget(l)); /* 200 + 900 */
    ASSERT(!wb_ledger_low_bytes(l));
    ASSERT_EQ(wb_ledger_done(q, 0, 900), 1);
    ASSERT(!wb_ledger_over_budget(l));
    ASSERT(wb_ledger_low_bytes(l));
    wb_ledger_set_budgets(l, 2, 100);
    ASSERT(wb_ledger_part_full(p));
    ASSERT(wb_ledger_over_budget(l));
    wb_ledger_free(l);
}

typedef struct stores {
    int n;
    int32_t part[8];
    int64_t pos[8];
} stores;

static void take(void *ctx, const char *topic, int32_t partition, int64_t position)
{
    stores *s = ctx;
    ASSERT_STR_EQ(topic, "t");
    s->part[s->n] = partition;
    s->pos[s->n++] = position;
}

static void test_take_stores(void)
{
    wb_ledger *l = wb_ledger_new(10, 1 << 20);
    wb_ledger_part *p = wb_ledger_assign(l, "t", 0);
    wb_ledger_part *q = wb_ledger_assign(l, "t", 1);
    stores s = {0};
    ASSERT_EQ(wb_ledger_take_stores(l, take, &s), 0);
    wb_ledger_track(p, 5, 1, 0);
    wb_ledger_track(q, 7, 1, 0);
    /* a new cursor's first positions: stored before anything is delivered, so a group that
     * had no commit never falls back to auto.offset.reset */
    ASSERT_EQ(wb_ledger_take_stores(l, take, &s), 2);
    ASSERT_EQ(s.pos[0] + s.pos[1], 5 + 7);
    s.n = 0;
    wb_ledger_done(p, 5, 1);
    ASSERT_EQ(wb_ledger_take_stores(l, take, &s), 1);
    ASSERT_EQ(s.part[0], 0);
    ASSERT_EQ(s.pos[0], 6);
    ASSERT_EQ(wb_ledger_take_stores(l, take, &s), 0); /* nothing new */
    wb_ledger_done(q, 7, 1);
    ASSERT_EQ(wb_ledger_take_stores(l, take, &s), 1);
    ASSERT_EQ(s.part[1], 1);
    ASSERT_EQ(s.pos[1], 8);
    wb_ledger_free(l);
}

/* A fenced generation's delivered prefix: the records terminal before the first one released
 * without being terminal, also when they complete after the fence; asked once; forgotten by a
 * newer generation and after the TTL. */
static void test_resume(void)
{
    wb_ledger *l = wb_ledger_new(100, 1 << 20);
    int64_t now = wb_now_ms();
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 0, now, 60000), -1); /* never owned */
    wb_ledger_part *p = wb_ledger_assign(l, "t", 0);
    for (int64_t o = 10; o < 16; o++)
        ASSERT_EQ(wb_ledger_track(p, o, 10, 0), 0);
    ASSERT_EQ(wb_ledger_done(p, 10, 10), 1);
    ASSERT_EQ(wb_ledger_done(p, 11, 10), 1);    /* committable 12, maybe never committed */
    wb_ledger_fence(l, p);                      /* lost */
    ASSERT_EQ(wb_ledger_done(p, 12, 10), 0);    /* an attempt running at the fence succeeds */
    ASSERT_EQ(wb_ledger_release(p, 14, 10), 0); /* dropped, not delivered */
    ASSERT_EQ(wb_ledger_done(p, 15, 10), 0);    /* delivered, but after a hole */
    /* still releasing: the prefix so far (13 is running) */
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 0, wb_now_ms(), 60000), 13);
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 0, wb_now_ms(), 60000), -1); /* asked once */
    ASSERT_EQ(wb_ledger_done(p, 13, 10), 0); /* last one: p is freed, remembers nothing more */
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 0, wb_now_ms(), 60000), -1);
    ASSERT_EQ(wb_ledger_bytes(l), 0);

    /* Freed before it is asked: remembered; a hole stops the prefix for good. */
    p = wb_ledger_assign(l, "t", 1);
    for (int64_t o = 0; o < 4; o++)
        ASSERT_EQ(wb_ledger_track(p, o, 1, 0), 0);
    ASSERT_EQ(wb_ledger_done(p, 0, 1), 1);
    wb_ledger_fence(l, p);
    ASSERT_EQ(wb_ledger_release(p, 1, 1), 0);
    ASSERT_EQ(wb_ledger_done(p, 2, 1), 0);
    ASSERT_EQ(wb_ledger_done(p, 3, 1), 0);                                       /* freed */
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 1, wb_now_ms() + 61000, 60000), -1); /* too old */
    p = wb_ledger_assign(l, "t", 1);
    ASSERT_EQ(wb_ledger_track(p, 7, 1, 0), 0);
    ASSERT_EQ(wb_ledger_done(p, 7, 1), 1);
    wb_ledger_fence(l, p); /* empty: freed at once, remembered */
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 1, wb_now_ms(), 60000), 8);

    /* A newer generation forgets what an older one delivered. */
    p = wb_ledger_assign(l, "t", 2);
    ASSERT_EQ(wb_ledger_track(p, 3, 1, 0), 0);
    ASSERT_EQ(wb_ledger_track(p, 4, 1, 0), 0);
    ASSERT_EQ(wb_ledger_done(p, 3, 1), 1);
    wb_ledger_fence(l, p);
    wb_ledger_part *fresh = wb_ledger_assign(l, "t", 2);
    wb_ledger_start_at(fresh, 20); /* a resume: committable at once */
    ASSERT_EQ(fresh->next_commit, 20);
    ASSERT_EQ(wb_ledger_track(fresh, 19, 1, 0), -1); /* below it: already terminal */
    ASSERT_EQ(wb_ledger_done(p, 4, 1), 0);           /* old one freed, superseded */
    wb_ledger_fence(l, fresh);
    ASSERT_EQ(wb_ledger_resume_take(l, "t", 2, wb_now_ms(), 60000), 20);

    /* An active part: a release counts as terminal (callers never release there). */
    p = wb_ledger_assign(l, "t", 3);
    ASSERT_EQ(wb_ledger_track(p, 0, 1, 0), 0);
    ASSERT_EQ(wb_ledger_release(p, 0, 1), 1);
    ASSERT_EQ(p->next_commit, 1);
    wb_ledger_free(l); /* frees the remembered positions too (valgrind, ASan) */
}

int main(void)
{
    RUN(test_prefix);
    RUN(test_gaps_and_order);
    RUN(test_wrap);
    RUN(test_fence_generations);
    RUN(test_budgets);
    RUN(test_take_stores);
    RUN(test_resume);
    TEST_DONE();
}
