/* outbound/ledger.h - what one connector may commit: per partition, the records in flight and
 * the contiguous terminal prefix; fencing by assignment generation.
 *
 * The bottom layer of the outbound engine: it calls nothing above it. Records enter a
 * partition in offset order (wb_ledger_track) and become terminal in any order
 * (wb_ledger_done): delivered, filtered out, not subscribed, or parked on the dead-letter topic
 * and acked. The committable position of a partition is offset+1 of its longest terminal
 * prefix; only the ledger decides it. Gaps in Kafka offsets (compaction, transaction markers)
 * need no care: the ring holds the records themselves, not an offset range. The first record
 * tracked in a part makes its own offset committable: that is where the cursor stood, and
 * committing it keeps a group without a commit from starting at `latest` again.
 *
 * Generations: each assignment of a partition gets a fresh wb_ledger_part. A revoke (or a lost
 * assignment) fences it: from then on nothing of it is committable, its late completions are
 * counted and dropped, and it is freed when its last tracked record is released. A new
 * assignment of the same partition is a new part: late completions of the old generation can
 * never move the new one's offsets.
 *
 * Resuming. A fenced part keeps its delivered prefix: offset+1 of the records that became
 * terminal before the first one released without (wb_ledger_release: dropped, or cut short by
 * the revoke). When the same partition comes back to this process soon after -- a lost
 * assignment is typically handed back to the same member in the next round -- everything
 * below that position was delivered by this connector already, so the new generation may start
 * there instead of at the group's committed offset (wb_ledger_resume_take). The caller takes
 * max(committed, resume): a resume position never makes anything skip what is not terminal.
 *
 * Budgets: each part holds at most `window` records; the connector holds at most `max_bytes`
 * of record bytes in flight. The caller pauses fetching when a budget is reached and resumes at
 * half (wb_ledger_part_full / wb_ledger_part_low, wb_ledger_over_budget / wb_ledger_low_bytes).
 *
 * Ownership: the ledger owns its parts; records are the caller's (the ledger stores offsets,
 * sizes and timestamps only). Thread: the connector's loop thread; no locking. */
#ifndef WB_OUTBOUND_LEDGER_H
#define WB_OUTBOUND_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "core/err.h"

typedef struct wb_ledger wb_ledger;

typedef struct wb_ledger_part {
    LIST_ENTRY(wb_ledger_part) link; /* active list, or fenced list */
    struct wb_ledger *ledger;
    char *topic;
    int32_t partition;
    uint64_t generation;
    int fenced;
    int cut;           /* fenced: a record was released without being terminal */
    int superseded;    /* fenced: a newer generation exists, remember nothing of this one */
    int64_t fenced_ms; /* when it was fenced (wb_now_ms clock) */
    /* ring of tracked records, in offset order */
    int64_t *off;
    int64_t *ts;
    uint8_t *done;
    size_t cap, head, count;
    int64_t next_commit; /* offset+1 of the terminal prefix; -1 = nothing yet */
    int64_t stored;      /* last position handed out by wb_ledger_take_stores, -1 none */
    size_t bytes;        /* record bytes tracked and not yet released */
    int64_t last_offset; /* last offset tracked, -1 none (consumed position) */
    void *user;          /* the caller's per-partition state (metrics, pause flags) */
} wb_ledger_part;

/* window: records per part (>= 1); max_bytes: per ledger (>= 1). NULL when out of memory. */
wb_ledger *wb_ledger_new(size_t window, size_t max_bytes);
/* Free the ledger and every part (active and fenced). */
void wb_ledger_free(wb_ledger *l);
/* Change the budgets (reload). */
void wb_ledger_set_budgets(wb_ledger *l, size_t window, size_t max_bytes);

/* A new generation of topic/partition (an assignment). If the partition is already active,
 * that part is returned unchanged. NULL when out of memory. */
wb_ledger_part *wb_ledger_assign(wb_ledger *l, const char *topic, int32_t partition);
/* The active part of topic/partition, or NULL. */
wb_ledger_part *wb_ledger_find(wb_ledger *l, const char *topic, int32_t partition);
/* First active part (iterate with LIST_NEXT(p, link)). */
wb_ledger_part *wb_ledger_parts(wb_ledger *l);
/* Fence an active part (revoke, lost, connector stopping): nothing of it is committable any
 * more. It is freed now if it tracks nothing, else when its last record is released. p must
 * not be used by the caller afterwards unless it still tracks records it will release. */
void wb_ledger_fence(wb_ledger *l, wb_ledger_part *p);

/* Where a new generation of topic/partition may start on this process: the delivered prefix
 * of its latest fenced generation, if that was fenced at most ttl_ms before now_ms (wb_now_ms
 * clock) and no newer generation was assigned since; -1 when none. Asked once: the memory is
 * gone afterwards. Call it before wb_ledger_assign (which forgets it anyway). */
int64_t wb_ledger_resume_take(wb_ledger *l, const char *topic, int32_t partition, int64_t now_ms,
                              int64_t ttl_ms);
/* A new generation starts at position (a resume): it is committable at once. */
void wb_ledger_start_at(wb_ledger_part *p, int64_t position);

/* Track a record: offset must be greater than every offset tracked before in p. 0 OK,
 * -1 out of order (already tracked, e.g. refetched after a seek: the first copy decides),
 * -2 out of memory, -3 p is fenced. */
int wb_ledger_track(wb_ledger_part *p, int64_t offset, size_t bytes, int64_t ts_ms);

/* The record at offset is terminal; its bytes are released. Returns 1 when p's committable
 * position advanced, 0 otherwise (also for a fenced part: then p may have been freed by this
 * call, and -- if it returned 0 -- must not be touched again unless wb_ledger_tracked(p) was
 * > 1 before), -1 when the offset is not tracked. */
int wb_ledger_done(wb_ledger_part *p, int64_t offset, size_t bytes);

/* The record at offset leaves without being terminal (its part was fenced: the next owner
 * delivers it). Its bytes are released; the fenced part's delivered prefix ends before it.
 * On an active part it counts as terminal, as wb_ledger_done does (callers release only
 * records of fenced parts). p may be freed by this call. -1 when the offset is not tracked. */
int wb_ledger_release(wb_ledger_part *p, int64_t offset, size_t bytes);

/* Records tracked and not yet part of the terminal prefix. */
size_t wb_ledger_tracked(const wb_ledger_part *p);
/* Kafka timestamp of the oldest record not yet terminal, -1 when none. */
int64_t wb_ledger_oldest_ts(const wb_ledger_part *p);
/* Offset of the oldest record not yet terminal, -1 when none. */
int64_t wb_ledger_oldest_offset(const wb_ledger_part *p);

/* Budgets: the window of p is full / back at half; the ledger's bytes are over the budget /
 * back at half. */
int wb_ledger_part_full(const wb_ledger_part *p);
int wb_ledger_part_low(const wb_ledger_part *p);
int wb_ledger_over_budget(const wb_ledger *l);
int wb_ledger_low_bytes(const wb_ledger *l);
size_t wb_ledger_bytes(const wb_ledger *l);
size_t wb_ledger_in_flight(const wb_ledger *l); /* records over every active part */

/* Positions to store: for each active part whose committable position advanced since the
 * last call, fn(ctx, topic, partition, position) is called and the position remembered.
 * Returns the number of positions handed out. */
size_t wb_ledger_take_stores(wb_ledger *l,
                             void (*fn)(void *ctx, const char *topic, int32_t partition,
                                        int64_t position),
                             void *ctx);

/* Late completions dropped because their part was fenced (tests, metrics). */
uint64_t wb_ledger_fenced_drops(const wb_ledger *l);

#endif
