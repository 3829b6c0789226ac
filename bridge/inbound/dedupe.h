/* dedupe.h - TTL cache of webhook delivery ids in bounded memory.
 *
 * A hash table of ids plus a FIFO in commit order. One cache has one TTL, so the FIFO is
 * also the expiry order: expired entries are reaped from its head, and when the cache is full
 * the oldest SEEN entry is evicted (a duplicate older than the eviction horizon then passes
 * again: the bound wins over the window, and the at-least-once side is kept). An IN_FLIGHT
 * entry is never reaped nor evicted: its publish is still running. Evictions are counted
 * (wb_dedupe_evictions, and an optional metric).
 *
 * An id goes through two states: IN_FLIGHT (wb_dedupe_begin: a request is publishing it) and
 * SEEN (wb_dedupe_commit: the broker acked it; remembered for ttl). wb_dedupe_abort forgets an
 * in-flight id so the partner's retry is accepted. A request that finds an id IN_FLIGHT is
 * told so (the listener answers 409 + Retry-After: the first request's outcome decides).
 *
 * Ownership: ids are copied. Thread: every function is safe from any thread (one mutex). */
#ifndef WB_DEDUPE_H
#define WB_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/metrics.h"

typedef struct wb_dedupe wb_dedupe;

typedef enum wb_dedupe_state {
    WB_DEDUPE_NEW = 0,   /* not known: now IN_FLIGHT, the caller must commit or abort */
    WB_DEDUPE_SEEN,      /* acked within the window: a duplicate */
    WB_DEDUPE_IN_FLIGHT, /* another request is publishing it right now */
    WB_DEDUPE_ERROR,     /* out of memory: treat as NEW without dedupe (nothing reserved) */
    WB_DEDUPE_FULL,      /* every entry is in flight: nothing reserved, try again later */
} wb_dedupe_state;

/* Clock in milliseconds (monotonic); NULL = wb_now_ms. */
typedef int64_t (*wb_dedupe_clock)(void *ctx);

/* A cache of at most max_entries ids (>= 1), each remembered ttl_ms after its commit.
 * NULL on allocation failure. Free with wb_dedupe_free. */
wb_dedupe *wb_dedupe_new(size_t max_entries, int64_t ttl_ms, wb_dedupe_clock clock,
                         void *clock_ctx);
void wb_dedupe_free(wb_dedupe *dd);

/* Look id up (len bytes, any content) and reserve it when new (see wb_dedupe_state). */
wb_dedupe_state wb_dedupe_begin(wb_dedupe *dd, const char *id, size_t len);
/* The publish of id was acked: remember it as SEEN for ttl from now (inserts if absent, e.g.
 * when the reservation was evicted or aborted by a timeout meanwhile). */
void wb_dedupe_commit(wb_dedupe *dd, const char *id, size_t len);
/* The publish failed: forget an IN_FLIGHT id (a SEEN one is left alone). */
void wb_dedupe_abort(wb_dedupe *dd, const char *id, size_t len);

/* Entries held now (expired ones not yet reaped included) and evictions so far. */
size_t wb_dedupe_count(wb_dedupe *dd);
uint64_t wb_dedupe_evictions(wb_dedupe *dd);

/* Bump c (borrowed, must outlive dd; NULL = none) on every eviction. */
void wb_dedupe_set_eviction_counter(wb_dedupe *dd, wb_counter *c);

#endif
