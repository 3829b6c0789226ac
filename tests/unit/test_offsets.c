/* test_offsets.c - the contiguous terminal prefix of a partition window. */
#include "offsets.h"
#include "test.h"

static void test_prefix(void)
{
    wb_offsets w;
    wb_offsets_init(&w);
    for (int64_t o = 10; o < 15; o++)
        ASSERT_EQ(wb_offsets_push(&w, o), o);
    ASSERT_EQ(wb_offsets_in_flight(&w), 5);
    ASSERT_EQ(wb_offsets_done(&w, 12), 0); /* not the head: nothing committable */
    ASSERT_EQ(w.next_commit, -1);
    ASSERT_EQ(wb_offsets_oldest(&w), 10);
    ASSERT_EQ(wb_offsets_done(&w, 10), 1);
    ASSERT_EQ(w.next_commit, 11);
    ASSERT_EQ(wb_offsets_done(&w, 11), 1); /* 11 and the already-terminal 12 pop */
    ASSERT_EQ(w.next_commit, 13);
    ASSERT_EQ(wb_offsets_in_flight(&w), 2);
    ASSERT_EQ(wb_offsets_done(&w, 99), 0); /* unknown offset */
    wb_offsets_free(&w);
}

static void test_gaps_and_order(void)
{
    wb_offsets w;
    wb_offsets_init(&w);
    ASSERT_EQ(wb_offsets_push(&w, 5), 5);
    ASSERT_EQ(wb_offsets_push(&w, 9), 9);  /* gap (compaction) */
    ASSERT_EQ(wb_offsets_push(&w, 7), -1); /* out of order */
    ASSERT_EQ(wb_offsets_done(&w, 9), 0);
    ASSERT_EQ(wb_offsets_done(&w, 5), 1);
    ASSERT_EQ(w.next_commit, 10);
    ASSERT_EQ(wb_offsets_in_flight(&w), 0);
    wb_offsets_free(&w);
}

/* Many records, completed in a scrambled order, across ring growth and wrap-around. */
static void test_wrap(void)
{
    wb_offsets w;
    wb_offsets_init(&w);
    int64_t next = 0, committed = 0;
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        int n = 1 + (int)(seed % 97);
        for (int i = 0; i < n; i++)
            ASSERT_EQ(wb_offsets_push(&w, next + i), next + i);
        /* complete backwards: only the last call (the head) advances */
        for (int i = n - 1; i >= 0; i--)
            ASSERT_EQ(wb_offsets_done(&w, next + i), i == 0);
        next += n;
        committed = w.next_commit;
        ASSERT_EQ(committed, next);
        seed = seed * 1103515245u + 12345u;
    }
    ASSERT_EQ(wb_offsets_in_flight(&w), 0);
    wb_offsets_free(&w);
}

int main(void)
{
    RUN(test_prefix);
    RUN(test_gaps_and_order);
    RUN(test_wrap);
    TEST_DONE();
}
