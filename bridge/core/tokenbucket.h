/* tokenbucket.h - one token bucket: `rate` tokens a second, at most `burst` held, refilled
 * from a monotonic clock in milliseconds that the caller passes in (so tests drive time and
 * the owner reads its clock once per decision).
 *
 * Used for the outbound per-connector rate (outbound/scheduler.c) and the inbound
 * per-connector rate (inbound/listener_publish.c).
 *
 * Ownership: the caller embeds the struct; nothing is allocated. Thread: no lock of its own;
 * the owner serialises the calls (the scheduler's loop thread, the listener's per-connector
 * mutex). */
#ifndef WB_TOKENBUCKET_H
#define WB_TOKENBUCKET_H

#include <stdint.h>

typedef struct wb_tokenbucket {
    double rate;     /* tokens per second; <= 0: unlimited */
    double burst;    /* most tokens held */
    double tokens;   /* held now (as of last_ms) */
    int64_t last_ms; /* clock of the last refill; -1: none yet (the next call starts it) */
} wb_tokenbucket;

/* A full bucket of rate_per_s (<= 0: unlimited). burst <= 0 means one second's worth of
 * rate, at least 1 token. */
void wb_tokenbucket_init(wb_tokenbucket *tb, double rate_per_s, double burst);

/* New rate and burst (as in init); the tokens held are kept, clipped to the new burst, and
 * the refill restarts at the next call. */
void wb_tokenbucket_set(wb_tokenbucket *tb, double rate_per_s, double burst);

/* 1 when a token is available at now_ms (always, when unlimited); takes nothing. */
int wb_tokenbucket_ready(wb_tokenbucket *tb, int64_t now_ms);

/* Take one token: 1 when taken (always, when unlimited), 0 when none is available. */
int wb_tokenbucket_take(wb_tokenbucket *tb, int64_t now_ms);

/* Milliseconds until the next token: 0 when one is available now (or unlimited), else at
 * least 1 (rounded so that asking again then finds the token). */
int64_t wb_tokenbucket_wait_ms(wb_tokenbucket *tb, int64_t now_ms);

#endif
