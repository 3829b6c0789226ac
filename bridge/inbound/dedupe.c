/* dedupe.c - TTL cache of delivery ids: chained hash table + FIFO (<sys/queue.h>), one mutex.
 *
 * Keys reach this cache only after the signature verified (the partner's secret is needed to
 * choose them), so a seeded FNV-1a is enough against collisions; the seed is random
 * (RAND_bytes) so chains cannot be precomputed anyway.
 *
 * Only SEEN entries are in the FIFO: an IN_FLIGHT entry sits in the hash table alone until
 * its commit appends it. Reaping and eviction walk the FIFO, so they can never drop an entry
 * whose publish is still running (its duplicate would otherwise be published too), and they
 * stay O(1) per call whatever the number of requests in flight. */
#include "inbound/dedupe.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/metrics.h"
#include "core/util.h"

typedef struct entry {
    LIST_ENTRY(entry) hlink; /* its bucket */
    TAILQ_ENTRY(entry) fifo; /* oldest first; SEEN entries only */
    int64_t expires_ms;
    int in_flight;
    uint64_t hash;
    size_t len;
    char id[];
} entry;

LIST_HEAD(chain, entry);
TAILQ_HEAD(fifo, entry);

struct wb_dedupe {
    pthread_mutex_t lock; /* guards everything below */
    struct chain *buckets;
    size_t mask;
    struct fifo fifo;
    size_t count, max; /* count: SEEN + IN_FLIGHT entries */
    uint64_t evictions;
    wb_counter *evicted; /* optional metric, bumped with evictions */
    int64_t ttl_ms;
    uint64_t seed;
    wb_dedupe_clock clock;
    void *clock_ctx;
};

static int64_t now(wb_dedupe *dd)
{
    return dd->clock ? dd->clock(dd->clock_ctx) : wb_now_ms();
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
    wb_dedupe *dd = calloc(1, sizeof(*dd));
    if (!dd) return NULL;
    size_t nb = 16;
    while (nb < max_entries && nb < ((size_t)1 << 30))
        nb <<= 1;
    dd->buckets = malloc(nb * sizeof(*dd->buckets));
    if (!dd->buckets) {
        free(dd);
        return NULL;
    }
    for (size_t b = 0; b < nb; b++)
        LIST_INIT(&dd->buckets[b]);
    TAILQ_INIT(&dd->fifo);
    dd->mask = nb - 1;
    dd->max = max_entries;
    dd->ttl_ms = ttl_ms;
    dd->clock = clock;
    dd->clock_ctx = clock_ctx;
    /* a fixed seed only makes chains predictable, which the signature check already guards */
    if (RAND_bytes((unsigned char *)&dd->seed, sizeof(dd->seed)) != 1)
        dd->seed = (uint64_t)wb_now_us() * 0x9E3779B97F4A7C15ULL;
    pthread_mutex_init(&dd->lock, NULL);
    return dd;
}

void wb_dedupe_free(wb_dedupe *dd)
{
    if (!dd) return;
    /* every entry is in a bucket (in-flight ones are not in the FIFO) */
    for (size_t b = 0; b <= dd->mask; b++)
        while (!LIST_EMPTY(&dd->buckets[b])) {
            entry *e = LIST_FIRST(&dd->buckets[b]);
            LIST_REMOVE(e, hlink);
            free(e);
        }
    free(dd->buckets);
    pthread_mutex_destroy(&dd->lock);
    free(dd);
}

/* ---- internals (lock held) ---- */

static void remove_entry(wb_dedupe *dd, entry *e)
{
    LIST_REMOVE(e, hlink);
    if (!e->in_flight) TAILQ_REMOVE(&dd->fifo, e, fifo);
    dd->count--;
    free(e);
}

static entry *find(wb_dedupe *dd, uint64_t h, const char *id, size_t len)
{
    entry *e;
    LIST_FOREACH(e, &dd->buckets[h & dd->mask], hlink)
    {
        if (e->hash == h && e->len == len && !memcmp(e->id, id, len)) return e;
    }
    return NULL;
}

/* Drop expired entries from the head (in-flight entries are not in the FIFO). */
static void reap(wb_dedupe *dd, int64_t t)
{
    entry *e;
    while ((e = TAILQ_FIRST(&dd->fifo)) && e->expires_ms <= t)
        remove_entry(dd, e);
}

/* Make room for one more entry by evicting the oldest SEEN ones; 0 when every entry is in
 * flight (nothing may be evicted). */
static int make_room(wb_dedupe *dd)
{
    while (dd->count >= dd->max && !TAILQ_EMPTY(&dd->fifo)) {
        remove_entry(dd, TAILQ_FIRST(&dd->fifo));
        dd->evictions++;
        if (dd->evicted) wb_counter_inc(dd->evicted);
    }
    return dd->count < dd->max;
}

static entry *insert(wb_dedupe *dd, uint64_t h, const char *id, size_t len, int64_t t,
                     int in_flight)
{
    entry *e = malloc(sizeof(*e) + len + 1);
    if (!e) return NULL;
    e->hash = h;
    e->len = len;
    memcpy(e->id, id, len);
    e->id[len] = '\0';
    e->in_flight = in_flight;
    e->expires_ms = t + dd->ttl_ms;
    LIST_INSERT_HEAD(&dd->buckets[h & dd->mask], e, hlink);
    if (!in_flight) TAILQ_INSERT_TAIL(&dd->fifo, e, fifo);
    dd->count++;
    return e;
}

/* ---- API ---- */

wb_dedupe_state wb_dedupe_begin(wb_dedupe *dd, const char *id, size_t len)
{
    uint64_t h = hash(dd->seed, id, len);
    wb_dedupe_state st;
    pthread_mutex_lock(&dd->lock);
    int64_t t = now(dd);
    reap(dd, t);
    entry *e = find(dd, h, id, len);
    if (e)
        st = e->in_flight ? WB_DEDUPE_IN_FLIGHT : WB_DEDUPE_SEEN;
    else if (!make_room(dd))
        st = WB_DEDUPE_FULL;
    else
        st = insert(dd, h, id, len, t, 1) ? WB_DEDUPE_NEW : WB_DEDUPE_ERROR;
    pthread_mutex_unlock(&dd->lock);
    return st;
}

void wb_dedupe_commit(wb_dedupe *dd, const char *id, size_t len)
{
    uint64_t h = hash(dd->seed, id, len);
    pthread_mutex_lock(&dd->lock);
    int64_t t = now(dd);
    reap(dd, t);
    entry *e = find(dd, h, id, len);
    if (e) {
        /* Restart the window at the ack and (re)append to keep the FIFO sorted. */
        if (!e->in_flight) TAILQ_REMOVE(&dd->fifo, e, fifo);
        e->in_flight = 0;
        e->expires_ms = t + dd->ttl_ms;
        TAILQ_INSERT_TAIL(&dd->fifo, e, fifo);
    } else if (make_room(dd)) {
        insert(dd, h, id, len, t, 0);
    }
    pthread_mutex_unlock(&dd->lock);
}

void wb_dedupe_abort(wb_dedupe *dd, const char *id, size_t len)
{
    uint64_t h = hash(dd->seed, id, len);
    pthread_mutex_lock(&dd->lock);
    entry *e = find(dd, h, id, len);
    if (e && e->in_flight) remove_entry(dd, e);
    pthread_mutex_unlock(&dd->lock);
}

size_t wb_dedupe_count(wb_dedupe *dd)
{
    pthread_mutex_lock(&dd->lock);
    size_t n = dd->count;
    pthread_mutex_unlock(&dd->lock);
    return n;
}

uint64_t wb_dedupe_evictions(wb_dedupe *dd)
{
    pthread_mutex_lock(&dd->lock);
    uint64_t n = dd->evictions;
    pthread_mutex_unlock(&dd->lock);
    return n;
}

void wb_dedupe_set_eviction_counter(wb_dedupe *dd, wb_counter *c)
{
    pthread_mutex_lock(&dd->lock);
    dd->evicted = c;
    pthread_mutex_unlock(&dd->lock);
}
