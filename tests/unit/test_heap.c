/* test_heap.c - the intrusive min-heap (core/heap.c): against a brute-force minimum through
 * random pushes, removals from the middle and key changes both ways; every element's slot
 * index stays true; equal keys all come out. */
#include <stddef.h>

#include "core/heap.h"
#include "test.h"

typedef struct item {
    int tag;
    int64_t due; /* the key */
    size_t slot; /* the heap's index */
    int in;
} item;

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check(const wb_heap *h, item *it, size_t n)
{
    int64_t min = INT64_MAX;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (it[i].in) {
            count++;
            if (it[i].due < min) min = it[i].due;
            ASSERT(h->v[it[i].slot] == &it[i]);
        }
    ASSERT_EQ(h->n, count);
    const item *top = wb_heap_top(h);
    if (!count) {
        ASSERT(top == NULL);
        return;
    }
    ASSERT_EQ(top->due, min);
    for (size_t i = 1; i < h->n; i++) /* the heap property itself */
        ASSERT(wb_heap_key(h, h->v[(i - 1) / 2]) <= wb_heap_key(h, h->v[i]));
}

static void test_random_against_brute_force(void)
{
    enum { N = 300 };
    static item it[N];
    wb_heap h;
    wb_heap_init(&h, offsetof(item, due), offsetof(item, slot), 4); /* grows several times */
    for (int round = 0; round < 20000; round++) {
        item *x = &it[next_rand() % N];
        switch (next_rand() % 3) {
        case 0:
            if (x->in) break;
            x->due = (int64_t)(next_rand() % 1000);
            ASSERT_EQ(wb_heap_push(&h, x), WB_OK);
            x->in = 1;
            break;
        case 1:
            if (!x->in) break;
            wb_heap_remove(&h, x);
            x->in = 0;
            break;
        default:
            if (!x->in) break;
            x->due = (int64_t)(next_rand() % 1000);
            wb_heap_fix(&h, x);
        }
        if (round % 97 == 0) check(&h, it, N);
    }
    check(&h, it, N);
    /* drain in order */
    int64_t last = INT64_MIN;
    item *t;
    while ((t = wb_heap_top(&h))) {
        ASSERT(t->due >= last);
        last = t->due;
        wb_heap_remove(&h, t);
        t->in = 0;
    }
    ASSERT_EQ(h.n, 0);
    wb_heap_free(&h);
    ASSERT(h.v == NULL);
}

static void test_equal_keys_and_last_removal(void)
{
    item it[5] = {{0}};
    wb_heap h;
    wb_heap_init(&h, offsetof(item, due), offsetof(item, slot), 0);
    for (int i = 0; i < 5; i++) {
        it[i].tag = i;
        it[i].due = 7;
        ASSERT_EQ(wb_heap_push(&h, &it[i]), WB_OK);
    }
    wb_heap_remove(&h, &it[4]); /* the last slot: nothing moves */
    ASSERT_EQ(h.n, 4);
    int seen = 0;
    item *t;
    while ((t = wb_heap_top(&h))) {
        ASSERT_EQ(t->due, 7);
        seen |= 1 << t->tag;
        wb_heap_remove(&h, t);
    }
    ASSERT_EQ(seen, 0xf);
    wb_heap_free(&h);
}

int main(void)
{
    RUN(test_random_against_brute_force);
    RUN(test_equal_keys_and_last_removal);
    TEST_DONE();
}
