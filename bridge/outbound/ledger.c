/* outbound/ledger.c - per-partition windows, terminal prefixes and generations (see ledger.h).
 *
 * Each part is a ring of (offset, timestamp, done) in offset order. Offsets are unique and
 * increasing within a partition, so a binary search over the ring finds a record without a
 * side table; when the head becomes terminal the terminal prefix is popped and the committable
 * position moves. */
#include "outbound/ledger.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* The delivered prefix of a fenced generation that is gone (it tracked nothing any more):
 * what wb_ledger_resume_take answers once its part is freed. */
typedef struct resume_mem {
    LIST_ENTRY(resume_mem) link;
    char *topic;
    int32_t partition;
    uint64_t generation;
    int64_t position;
    int64_t fenced_ms;
} resume_mem;

struct wb_ledger {
    LIST_HEAD(, wb_ledger_part) active; /* assigned partitions */
    LIST_HEAD(, wb_ledger_part) fenced; /* revoked, still tracking records being released */
    LIST_HEAD(, resume_mem) resume;     /* delivered prefixes of fenced parts already freed */
    size_t window, max_bytes;
    size_t bytes;
    size_t in_flight;
    uint64_t generation;
    uint64_t fenced_drops;
};

wb_ledger *wb_ledger_new(size_t window, size_t max_bytes)
{
    wb_ledger *l = calloc(1, sizeof(*l));
    if (!l) return NULL;
    wb_ledger_set_budgets(l, window, max_bytes);
    return l;
}

void wb_ledger_set_budgets(wb_ledger *l, size_t window, size_t max_bytes)
{
    l->window = window ? window : 1;
    l->max_bytes = max_bytes ? max_bytes : 1;
}

static void part_free(wb_ledger_part *p)
{
    free(p->off);
    free(p->ts);
    free(p->done);
    free(p->topic);
    free(p);
}

static void mem_free(resume_mem *m)
{
    LIST_REMOVE(m, link);
    free(m->topic);
    free(m);
}

static resume_mem *mem_find(wb_ledger *l, const char *topic, int32_t partition)
{
    resume_mem *m;
    LIST_FOREACH(m, &l->resume, link)
    if (m->partition == partition && !strcmp(m->topic, topic)) return m;
    return NULL;
}

/* A fenced part is being freed: keep its delivered prefix for a resume (one entry per
 * partition, the newest generation's). Out of memory: nothing is remembered, which only means
 * a redelivery from the committed offset. */
static void mem_keep(wb_ledger *l, const wb_ledger_part *p)
{
    if (p->superseded || p->next_commit < 0) return;
    resume_mem *m = mem_find(l, p->topic, p->partition);
    if (m && m->generation > p->generation) return;
    if (!m) {
        if (!(m = calloc(1, sizeof(*m))) || !(m->topic = strdup(p->topic))) {
            free(m);
            return;
        }
        m->partition = p->partition;
        LIST_INSERT_HEAD(&l->resume, m, link);
    }
    m->generation = p->generation;
    m->position = p->next_commit;
    m->fenced_ms = p->fenced_ms;
}

/* Entries fenced longer than ttl_ms ago: gone (the list holds at most one per partition this
 * connector ever owned; pruning keeps it to the recent ones). */
static void mem_prune(wb_ledger *l, int64_t now_ms, int64_t ttl_ms)
{
    resume_mem *m, *next;
    for (m = LIST_FIRST(&l->resume); m; m = next) {
        next = LIST_NEXT(m, link);
        if (now_ms - m->fenced_ms > ttl_ms) mem_free(m);
    }
}

void wb_ledger_free(wb_ledger *l)
{
    if (!l) return;
    resume_mem *m;
    while ((m = LIST_FIRST(&l->resume)))
        mem_free(m);
    wb_ledger_part *p;
    while ((p = LIST_FIRST(&l->active))) {
        LIST_REMOVE(p, link);
        part_free(p);
    }
    while ((p = LIST_FIRST(&l->fenced))) {
        LIST_REMOVE(p, link);
        part_free(p);
    }
    free(l);
}

/* ------------------------------------------------------------------------------------ */
/* Parts                                                                                */

wb_ledger_part *wb_ledger_find(wb_ledger *l, const char *topic, int32_t partition)
{
    wb_ledger_part *p;
    LIST_FOREACH(p, &l->active, link)
    if (p->partition == partition && !strcmp(p->topic, topic)) return p;
    return NULL;
}

wb_ledger_part *wb_ledger_parts(wb_ledger *l)
{
    return LIST_FIRST(&l->active);
}

wb_ledger_part *wb_ledger_assign(wb_ledger *l, const char *topic, int32_t partition)
{
    wb_ledger_part *p = wb_ledger_find(l, topic, partition);
    if (p) return p;
    /* A new generation: what older ones delivered is no resume position any more. */
    resume_mem *m = mem_find(l, topic, partition);
    if (m) mem_free(m);
    LIST_FOREACH(p, &l->fenced, link)
    if (p->partition == partition && !strcmp(p->topic, topic)) p->superseded = 1;
    p = calloc(1, sizeof(*p));
    if (!p || !(p->topic = strdup(topic))) {
        free(p);
        return NULL;
    }
    p->ledger = l;
    p->partition = partition;
    p->generation = ++l->generation;
    p->next_commit = -1;
    p->stored = -1;
    p->last_offset = -1;
    LIST_INSERT_HEAD(&l->active, p, link);
    return p;
}

void wb_ledger_fence(wb_ledger *l, wb_ledger_part *p)
{
    if (p->fenced) return;
    LIST_REMOVE(p, link);
    p->fenced = 1;
    p->fenced_ms = wb_now_ms();
    /* What it still tracks no longer counts against the connector's budgets: the records
     * belong to an assignment that is gone, the caller is releasing them. */
    l->in_flight -= p->count;
    if (p->count == 0) {
        l->bytes -= p->bytes;
        mem_keep(l, p);
        part_free(p);
        return;
    }
    LIST_INSERT_HEAD(&l->fenced, p, link);
}

int64_t wb_ledger_resume_take(wb_ledger *l, const char *topic, int32_t partition, int64_t now_ms,
                              int64_t ttl_ms)
{
    mem_prune(l, now_ms, ttl_ms);
    /* The newest generation of the partition: a fenced part still releasing records (its
     * prefix may still grow until it is taken), else the remembered one. */
    int64_t pos = -1;
    uint64_t gen = 0;
    wb_ledger_part *p;
    LIST_FOREACH(p, &l->fenced, link)
    {
        if (p->partition != partition || strcmp(p->topic, topic) || p->superseded) continue;
        if (p->generation > gen && now_ms - p->fenced_ms <= ttl_ms) {
            gen = p->generation;
            pos = p->next_commit;
        }
        p->superseded = 1; /* taken: nothing of it is remembered later */
    }
    resume_mem *m = mem_find(l, topic, partition);
    if (m) {
        if (m->generation > gen) pos = m->position;
        mem_free(m);
    }
    return pos;
}

void wb_ledger_start_at(wb_ledger_part *p, int64_t position)
{
    if (p->count == 0 && position > p->next_commit) p->next_commit = position;
}

/* ------------------------------------------------------------------------------------ */
/* The ring                                                                             */

static int grow(wb_ledger_part *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 64;
    int64_t *noff = malloc(ncap * sizeof(*noff));
    int64_t *nts = malloc(ncap * sizeof(*nts));
    uint8_t *ndone = malloc(ncap);
    if (!noff || !nts || !ndone) {
        free(noff);
        free(nts);
        free(ndone);
        return -1;
    }
    for (size_t i = 0; i < p->count; i++) {
        size_t j = (p->head + i) & (p->cap - 1);
        noff[i] = p->off[j];
        nts[i] = p->ts[j];
        ndone[i] = p->done[j];
    }
    free(p->off);
    free(p->ts);
    free(p->done);
    p->off = noff;
    p->ts = nts;
    p->done = ndone;
    p->cap = ncap;
    p->head = 0;
    return 0;
}

int wb_ledger_track(wb_ledger_part *p, int64_t offset, size_t bytes, int64_t ts_ms)
{
    if (p->fenced) return -3;
    if (p->count > 0 && offset <= p->off[(p->head + p->count - 1) & (p->cap - 1)]) return -1;
    if (p->count == 0 && offset < p->next_commit) return -1; /* already terminal */
    if (p->count == p->cap && grow(p)) return -2;
    /* The first record of a generation is where its cursor stands (the commit, or where
     * auto.offset.reset put it): committable at once. A group with no commit yet must not
     * depend on the reset again after a restart or rebalance: `latest` would then skip every
     * record fetched but not yet terminal (a partner down since the connector was added). */
    if (p->next_commit < 0) p->next_commit = offset;
    size_t idx = (p->head + p->count) & (p->cap - 1);
    p->off[idx] = offset;
    p->ts[idx] = ts_ms;
    p->done[idx] = 0;
    p->count++;
    p->bytes += bytes;
    p->last_offset = offset;
    p->ledger->bytes += bytes;
    p->ledger->in_flight++;
    return 0;
}

/* Index (from head) of offset in the ring, -1 when absent. */
static long find(const wb_ledger_part *p, int64_t offset)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = p->off[(p->head + mid) & (p->cap - 1)];
        if (v == offset) return (long)mid;
        if (v < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Settle the record at offset: terminal (done) or released without (a fenced part's
 * delivered prefix ends there: cut). */
static int settle(wb_ledger_part *p, int64_t offset, size_t bytes, int terminal)
{
    wb_ledger *l = p->ledger;
    long i = find(p, offset);
    if (i < 0) return -1;
    size_t idx = (p->head + (size_t)i) & (p->cap - 1);
    if (p->done[idx]) return -1; /* reported twice: the first report counted */
    p->done[idx] = (uint8_t)(terminal || !p->fenced ? 1 : 2);
    if (bytes > p->bytes) bytes = p->bytes;
    p->bytes -= bytes;
    l->bytes -= bytes;
    int advanced = 0;
    if (i == 0) {
        /* The head settled: pop the settled prefix. In an active part all of it is terminal;
         * in a fenced one the prefix stops moving at the first record released without. */
        while (p->count > 0 && p->done[p->head]) {
            if (p->done[p->head] == 2) p->cut = 1;
            if (!p->cut) p->next_commit = p->off[p->head] + 1;
            p->head = (p->head + 1) & (p->cap - 1);
            p->count--;
            if (!p->fenced) l->in_flight--;
        }
        advanced = 1;
    }
    if (p->fenced) {
        l->fenced_drops++;
        if (p->count == 0) {
            l->bytes -= p->bytes;
            LIST_REMOVE(p, link);
            mem_keep(l, p);
            part_free(p);
        }
        return 0;
    }
    return advanced;
}

int wb_ledger_done(wb_ledger_part *p, int64_t offset, size_t bytes)
{
    return settle(p, offset, bytes, 1);
}

int wb_ledger_release(wb_ledger_part *p, int64_t offset, size_t bytes)
{
    return settle(p, offset, bytes, 0);
}

size_t wb_ledger_tracked(const wb_ledger_part *p)
{
    return p->count;
}

int64_t wb_ledger_oldest_ts(const wb_ledger_part *p)
{
    /* The head is never terminal (terminal heads are popped), so it is the oldest. */
    return p->count ? p->ts[p->head] : -1;
}

int64_t wb_ledger_oldest_offset(const wb_ledger_part *p)
{
    return p->count ? p->off[p->head] : -1;
}

/* ------------------------------------------------------------------------------------ */
/* Budgets and stores                                                                   */

int wb_ledger_part_full(const wb_ledger_part *p)
{
    return p->count >= p->ledger->window;
}

int wb_ledger_part_low(const wb_ledger_part *p)
{
    return p->count <= p->ledger->window / 2;
}

int wb_ledger_over_budget(const wb_ledger *l)
{
    return l->bytes >= l->max_bytes;
}

int wb_ledger_low_bytes(const wb_ledger *l)
{
    return l->bytes <= l->max_bytes / 2;
}

size_t wb_ledger_bytes(const wb_ledger *l)
{
    return l->bytes;
}

size_t wb_ledger_in_flight(const wb_ledger *l)
{
    return l->in_flight;
}

size_t wb_ledger_take_stores(wb_ledger *l,
                             void (*fn)(void *ctx, const char *topic, int32_t partition,
                                        int64_t position),
                             void *ctx)
{
    size_t n = 0;
    wb_ledger_part *p;
    LIST_FOREACH(p, &l->active, link)
    {
        if (p->next_commit <= p->stored) continue;
        p->stored = p->next_commit;
        fn(ctx, p->topic, p->partition, p->stored);
        n++;
    }
    return n;
}

uint64_t wb_ledger_fenced_drops(const wb_ledger *l)
{
    return l->fenced_drops;
}
