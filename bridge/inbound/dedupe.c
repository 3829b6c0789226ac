/* dedupe.c - TTL cache of delivery ids: chained hash table + intrusive FIFO, one mutex.
 *
 * Keys reach this cache only after the signature verified (the partner's secret is needed to
 * choose them), so a seeded FNV-1a is enough against collisions; the seed comes from
 * getrandom so chains cannot be precomputed anyway.
 *
 * Only SEEN entries are in the FIFO: an IN_FLIGHT entry sits in the hash table alone until
 * its commit appends it. Reaping and eviction walk the FIFO, so they can never drop an entry
 * whose publish is still running (its duplicate would otherwise be published too), and they
 * stay O(1) per call whatever the number of requests in flight. */
#include "inbound/dedupe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/metrics.h"
#include "core/util.h"

typedef struct entry {
    struct entry *chain;       /* next in the bucket */
    struct entry *prev, *next; /* FIFO, oldest at head (SEEN entries only) */
    int64_t expires_ms;
    int in_flight;
    uint64_t hash;
    size_t len;
    char id[];
} entry;

struct wb_dedupe {
    pthread_mutex_t lock; /* guards everything below */
    entry **buckets;
    size_t mask;
    entry *head, *tail;
    size_t count, max; /* count: SEEN + IN_FLIGHT entries */
    uint64_t evictions;
    wb_counter *evicted; /* optional metric, bumped with evictions */
    int64_t ttl_ms;
    uint64_t seed;
    wb_dedupe_clock clock;
    void *clock_ctx;
};

static int64_t now(wb_dedupe *d)
{
    return d->clock ? d->clock(d->clock_ctx) : wb_now_ms();
}

static uint64_t hash(uint64_t seed, const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

wb_dedupe *wb_dedupe_new(size_t max_entries, int64_t ttl_ms, wb_dedupe_clock clock, void *clock_ctx)
{
    if (max_entries < 1) max_entries = 1;
    wb_dedupe *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    size_t nb = 16;
    while (nb < max_entries && nb < ((size_t)1 << 30))
        nb <<= 1;
    d->buckets = calloc(nb, sizeof(*d->buckets));
    if (!d->buckets) {
        free(d);
        return NULL;
    }
    d->mask = nb - 1;
    d->max = max_entries;
    d->ttl_ms = ttl_ms;
    d->clock = clock;
    d->clock_ctx = clock_ctx;
    if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != (ssize_t)sizeof(d->seed))
        d->seed = (uint64_t)wb_now_us() * 0x9E3779B97F4A7C15ULL;
    pthread_mutex_init(&d->lock, NULL);
    return d;
}

void wb_dedupe_free(wb_dedupe *d)
{
    if (!d) return;
    /* every entry is in a bucket (in-flight ones are not in the FIFO) */
    for (size_t b = 0; b <= d->mask; b++)
        for (entry *e = d->buckets[b], *n; e; e = n) {
            n = e->chain;
            free(e);
        }
    free(d->buckets);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* ---- internals (lock held) ---- */

static void fifo_unlink(wb_dedupe *d, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        d->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->tail = e->prev;
    e->prev = e->next = NULL;
}

static void fifo_append(wb_dedupe *d, entry *e)
{
    e->prev = d->tail;
    e->next = NULL;
    if (d->tail)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
}

static void remove_entry(wb_dedupe *d, entry *e)
{
    entry **pp = &d->buckets[e->hash & d->mask];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp) *pp = e->chain;
    if (!e->in_flight) fifo_unlink(d, e);
    d->count--;
    free(e);
}

static entry *find(wb_dedupe *d, uint64_t h, const char *id, size_t len)
{
    for (entry *e = d->buckets[h & d->mask]; e; e = e->chain)
        if (e->hash == h && e->len == len && !memcmp(e->id, id, len)) return e;
    return NULL;
}

/* Drop expired entries from the head (in-flight entries are not in the FIFO). */
static void reap(wb_dedupe *d, int64_t t)
{
    while (d->head && d->head->expires_ms <= t)
        remove_entry(d, d->head);
}

/* Make room for one more entry by evicting the oldest SEEN ones; 0 when every entry is in
 * flight (nothing may be evicted). */
static int make_room(wb_dedupe *d)
{
    while (d->count >= d->max && d->head) {
        remove_entry(d, d->head);
        d->evictions++;
        if (d->evicted) wb_counter_inc(d->evicted);
    }
    return d->count < d->max;
}

static entry *insert(wb_dedupe *d, uint64_t h, const char *id, size_t len, int64_t t, int in_flight)
{
    entry *e = malloc(sizeof(*e) + len + 1);
    if (!e) return NULL;
    e->hash = h;
    e->len = len;
    memcpy(e->id, id, len);
    e->id[len] = '\0';
    e->in_flight = in_flight;
    e->expires_ms = t + d->ttl_ms;
    e->prev = e->next = NULL;
    entry **b = &d->buckets[h & d->mask];
    e->chain = *b;
    *b = e;
    if (!in_flight) fifo_append(d, e);
    d->count++;
    return e;
}

/* ---- API ---- */

wb_dedupe_state wb_dedupe_begin(wb_dedupe *d, const char *id, size_t len)
{
    uint64_t h = hash(d->seed, id, len);
    wb_dedupe_state st;
    pthread_mutex_lock(&d->lock);
    int64_t t = now(d);
    reap(d, t);
    entry *e = find(d, h, id, len);
    if (e)
        st = e->in_flight ? WB_DEDUPE_IN_FLIGHT : WB_DEDUPE_SEEN;
    else if (!make_room(d))
        st = WB_DEDUPE_FULL;
    else
        st = insert(d, h, id, len, t, 1) ? WB_DEDUPE_NEW : WB_DEDUPE_ERROR;
    pthread_mutex_unlock(&d->lock);
    return st;
}

void wb_dedupe_commit(wb_dedupe *d, const char *id, size_t len)
{
    uint64_t h = hash(d->seed, id, len);
    pthread_mutex_lock(&d->lock);
    int64_t t = now(d);
    reap(d, t);
    entry *e = find(d, h, id, len);
    if (e) {
        /* Restart the window at the ack and (re)append to keep the FIFO sorted. */
        if (!e->in_flight) fifo_unlink(d, e);
        e->in_flight = 0;
        e->expires_ms = t + d->ttl_ms;
        fifo_append(d, e);
    } else if (make_room(d)) {
        insert(d, h, id, len, t, 0);
    }
    pthread_mutex_unlock(&d->lock);
}

void wb_dedupe_abort(wb_dedupe *d, const char *id, size_t len)
{
    uint64_t h = hash(d->seed, id, len);
    pthread_mutex_lock(&d->lock);
    entry *e = find(d, h, id, len);
    if (e && e->in_flight) remove_entry(d, e);
    pthread_mutex_unlock(&d->lock);
}

size_t wb_dedupe_count(wb_dedupe *d)
{
    pthread_mutex_lock(&d->lock);
    size_t n = d->count;
    pthread_mutex_unlock(&d->lock);
    return n;
}

uint64_t wb_dedupe_evictions(wb_dedupe *d)
{
    pthread_mutex_lock(&d->lock);
    uint64_t n = d->evictions;
    pthread_mutex_unlock(&d->lock);
    return n;
}

void wb_dedupe_set_eviction_counter(wb_dedupe *d, wb_counter *c)
{
    pthread_mutex_lock(&d->lock);
    d->evicted = c;
    pthread_mutex_unlock(&d->lock);
}
