/* test_tokenbucket.c - the token bucket with a clock driven by the test: burst, refill,
 * fractional rates, the wait until the next token, rate changes, unlimited. */
#include "core/tokenbucket.h"
#include "test.h"

/* A full bucket gives its burst at once, then one token per 1/rate. */
static void test_burst_then_rate(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 10, 0); /* burst: one second's worth = 10 */
    ASSERT_EQ(tb.burst, 10);
    for (int i = 0; i < 10; i++)
        ASSERT_EQ(wb_tokenbucket_take(&tb, 1000), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 1000), 0);
    ASSERT_EQ(wb_tokenbucket_wait_ms(&tb, 1000), 101); /* 100 ms per token, rounded up */
    ASSERT_EQ(wb_tokenbucket_take(&tb, 1099), 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 1100), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 1100), 0);
    /* a long pause refills up to the burst, not beyond */
    ASSERT_EQ(wb_tokenbucket_ready(&tb, 60000), 1);
    ASSERT_EQ(tb.tokens, 10);
}

/* Below one a second the burst is one token; nothing is lost to rounding between calls. */
static void test_fractional_rate(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 0.5, 0);
    ASSERT(tb.burst == 1.0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 0), 1);
    ASSERT_EQ(wb_tokenbucket_wait_ms(&tb, 0), 2001);
    /* 2 s in small steps add up to one token (steps whose fractions are exact in binary) */
    for (int64_t t = 0; t < 2000; t += 250)
        ASSERT_EQ(wb_tokenbucket_take(&tb, t), 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 2000), 1);
}

/* An explicit burst; ready does not take. */
static void test_explicit_burst_and_ready(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 100, 3);
    ASSERT_EQ(wb_tokenbucket_ready(&tb, 5), 1);
    ASSERT_EQ(wb_tokenbucket_ready(&tb, 5), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 5), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 5), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 5), 1);
    ASSERT_EQ(wb_tokenbucket_ready(&tb, 5), 0);
    ASSERT_EQ(wb_tokenbucket_wait_ms(&tb, 5), 11);
    int64_t w = wb_tokenbucket_wait_ms(&tb, 14); /* 0.9 tokens: about 1 ms to go */
    ASSERT(w >= 1 && w <= 2);
    ASSERT_EQ(wb_tokenbucket_wait_ms(&tb, 15), 0);
}

/* Unlimited: always a token, never a wait. */
static void test_unlimited(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 0, 0);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ(wb_tokenbucket_take(&tb, 0), 1);
    ASSERT_EQ(wb_tokenbucket_wait_ms(&tb, 0), 0);
}

/* A new rate keeps the tokens held (clipped to the new burst) and restarts the refill: time
 * before the change does not count at the new rate. */
static void test_set(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 10, 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 0), 1); /* 9 left */
    wb_tokenbucket_set(&tb, 2, 0);             /* burst 2: clipped */
    ASSERT(tb.tokens == 2.0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10000), 1); /* the refill restarts here */
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10000), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10000), 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10500), 1);
    wb_tokenbucket_set(&tb, 0, 0); /* limit removed */
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10500), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 10500), 1);
}

/* A clock that goes backwards adds nothing (and takes nothing away). */
static void test_clock_backwards(void)
{
    wb_tokenbucket tb;
    wb_tokenbucket_init(&tb, 1, 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 5000), 1);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 1000), 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 5999), 0);
    ASSERT_EQ(wb_tokenbucket_take(&tb, 6000), 1);
}

int main(void)
{
    RUN(test_burst_then_rate);
    RUN(test_fractional_rate);
    RUN(test_explicit_burst_and_ready);
    RUN(test_unlimited);
    RUN(test_set);
    RUN(test_clock_backwards);
    TEST_DONE();
}
