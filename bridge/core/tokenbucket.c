/* tokenbucket.c - the token bucket (tokenbucket.h). Tokens are a double so a rate below one
 * a second, or a refill of a fraction of a token, loses nothing between calls. */
#include "core/tokenbucket.h"

static double burst_of(double rate, double burst)
{
    if (burst > 0) return burst;
    return rate >= 1 ? rate : 1; /* one second's worth, at least one token */
}

void wb_tokenbucket_init(wb_tokenbucket *tb, double rate_per_s, double burst)
{
    tb->rate = rate_per_s;
    tb->burst = burst_of(rate_per_s, burst);
    tb->tokens = tb->burst;
    tb->last_ms = -1;
}

void wb_tokenbucket_set(wb_tokenbucket *tb, double rate_per_s, double burst)
{
    tb->rate = rate_per_s;
    tb->burst = burst_of(rate_per_s, burst);
    if (tb->tokens > tb->burst) tb->tokens = tb->burst;
    tb->last_ms = -1;
}

/* Add what accrued since last_ms. A clock that went backwards (it should not) adds nothing. */
static void refill(wb_tokenbucket *tb, int64_t now_ms)
{
    if (tb->last_ms < 0) tb->last_ms = now_ms;
    if (now_ms <= tb->last_ms) return;
    tb->tokens += (double)(now_ms - tb->last_ms) * tb->rate / 1000.0;
    if (tb->tokens > tb->burst) tb->tokens = tb->burst;
    tb->last_ms = now_ms;
}

int wb_tokenbucket_ready(wb_tokenbucket *tb, int64_t now_ms)
{
    if (tb->rate <= 0) return 1;
    refill(tb, now_ms);
    return tb->tokens >= 1.0;
}

int wb_tokenbucket_take(wb_tokenbucket *tb, int64_t now_ms)
{
    if (!wb_tokenbucket_ready(tb, now_ms)) return 0;
    if (tb->rate > 0) tb->tokens -= 1.0;
    return 1;
}

int64_t wb_tokenbucket_wait_ms(wb_tokenbucket *tb, int64_t now_ms)
{
    if (wb_tokenbucket_ready(tb, now_ms)) return 0;
    return (int64_t)((1.0 - tb->tokens) * 1000.0 / tb->rate) + 1;
}
