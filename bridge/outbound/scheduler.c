/* scheduler.c - lanes, ready queues, retry timers, rate limits and circuit breakers. */
#include "outbound/scheduler.h"

#include <stdlib.h>
#include <string.h>

#include "core/heap.h"
#include "core/tokenbucket.h"

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                */

struct wb_lane {
    SLIST_ENTRY(wb_lane) chain; /* hash chain */
    uint64_t hash;
    STAILQ_HEAD(, wb_job) jobs; /* the head is the one that may start */
    size_t klen;
    unsigned char key[]; /* lane key bytes */
};

SLIST_HEAD(lane_chain, wb_lane);

struct wb_sched_conn {
    STAILQ_ENTRY(wb_sched_conn) link; /* registration order */
    int max_concurrency;
    int running;
    size_t jobs; /* submitted and not terminal */
    /* ready FIFO */
    TAILQ_HEAD(, wb_job) ready;
    wb_tokenbucket bucket; /* rate_per_s; burst: one second's worth */
    /* circuit breaker */
    int cb_threshold, cb_failures;
    int cb_opens; /* consecutive openings without a success: the open period grows with it */
    int paused;
    int64_t cb_cooldown_ms, cb_open_until;
    wb_circuit circuit;
    int probe_running;
    /* lanes: chained hash table */
    struct lane_chain *buckets;
    size_t nbuckets, nlanes;
};

struct wb_sched {
    STAILQ_HEAD(, wb_sched_conn) conns;
    wb_sched_conn *rr;    /* where the next round-robin scan starts */
    wb_heap timers;       /* jobs waiting for due_ms (WB_JOB_TIMER) */
    size_t jobs, running; /* over all connectors */
};

/* ------------------------------------------------------------------------------------ */
/* Ready queue and lanes                                                                */

static void ready_push(wb_sched_conn *c, wb_job *j)
{
    j->state = WB_JOB_READY;
    TAILQ_INSERT_TAIL(&c->ready, j, ready_link);
}

static void ready_unlink(wb_sched_conn *c, wb_job *j)
{
    TAILQ_REMOVE(&c->ready, j, ready_link);
}

/* Make a job that may start (no lane or lane head) ready now or at due_ms; a held job
 * only takes the HELD state (wb_sched_release arms it). */
static int arm(wb_sched *s, wb_job *j, int64_t now)
{
    if (j->held) {
        j->state = WB_JOB_HELD;
        return 0;
    }
    if (j->due_ms > now) {
        j->state = WB_JOB_TIMER;
        return wb_heap_push(&s->timers, j) ? -1 : 0;
    }
    ready_push(j->conn, j);
    return 0;
}

static uint64_t hash_key(const void *key, size_t n)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int lanes_grow(wb_sched_conn *c)
{
    size_t nb = c->nbuckets ? c->nbuckets * 2 : 1024;
    struct lane_chain *b = calloc(nb, sizeof(*b)); /* all zero: every chain empty */
    if (!b) return -1;
    for (size_t i = 0; i < c->nbuckets; i++) {
        wb_lane *l;
        while ((l = SLIST_FIRST(&c->buckets[i]))) {
            SLIST_REMOVE_HEAD(&c->buckets[i], chain);
            SLIST_INSERT_HEAD(&b[l->hash & (nb - 1)], l, chain);
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
    return 0;
}

static wb_lane *lane_get(wb_sched_conn *c, const void *key, size_t n, int create)
{
    uint64_t h = hash_key(key, n);
    wb_lane *l;
    if (c->nbuckets) {
        SLIST_FOREACH(l, &c->buckets[h & (c->nbuckets - 1)], chain)
        if (l->hash == h && l->klen == n && !memcmp(l->key, key, n)) return l;
    }
    if (!create) return NULL;
    if (c->nlanes >= c->nbuckets && lanes_grow(c)) return NULL;
    l = malloc(sizeof(*l) + n);
    if (!l) return NULL;
    l->hash = h;
    l->klen = n;
    memcpy(l->key, key, n);
    STAILQ_INIT(&l->jobs);
    SLIST_INSERT_HEAD(&c->buckets[h & (c->nbuckets - 1)], l, chain);
    c->nlanes++;
    return l;
}

static void lane_free(wb_sched_conn *c, wb_lane *l)
{
    SLIST_REMOVE(&c->buckets[l->hash & (c->nbuckets - 1)], l, wb_lane, chain);
    c->nlanes--;
    free(l);
}

/* Remove j (which must be in its lane) and arm the new head if j was the head. */
static void lane_remove(wb_sched *s, wb_job *j, int64_t now)
{
    wb_lane *l = j->lane;
    wb_sched_conn *c = j->conn;
    j->lane = NULL;
    if (!l) return;
    int was_head = STAILQ_FIRST(&l->jobs) == j;
    STAILQ_REMOVE(&l->jobs, j, wb_job, lane_link);
    wb_job *head = STAILQ_FIRST(&l->jobs);
    if (!head) {
        lane_free(c, l);
        return;
    }
    if (was_head && arm(s, head, now))
        ready_push(c, head); /* no memory for a timer: start it early instead */
}

/* ------------------------------------------------------------------------------------ */
/* Public API                                                                           */

wb_sched *wb_sched_new(void)
{
    wb_sched *s = calloc(1, sizeof(wb_sched));
    if (!s) return NULL;
    STAILQ_INIT(&s->conns);
    wb_heap_init(&s->timers, offsetof(wb_job, due_ms), offsetof(wb_job, heap_idx), 256);
    return s;
}

void wb_sched_free(wb_sched *s)
{
    if (!s) return;
    wb_sched_conn *c;
    while ((c = STAILQ_FIRST(&s->conns))) {
        STAILQ_REMOVE_HEAD(&s->conns, link);
        for (size_t i = 0; i < c->nbuckets; i++) {
            wb_lane *l;
            while ((l = SLIST_FIRST(&c->buckets[i]))) {
                SLIST_REMOVE_HEAD(&c->buckets[i], chain);
                free(l);
            }
        }
        free(c->buckets);
        free(c);
    }
    wb_heap_free(&s->timers);
    free(s);
}

wb_sched_conn *wb_sched_conn_new(wb_sched *s, int max_concurrency, double rate_per_s,
                                 int circuit_failures, int64_t circuit_cooldown_ms)
{
    wb_sched_conn *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->max_concurrency = max_concurrency > 0 ? max_concurrency : 1;
    wb_tokenbucket_init(&c->bucket, rate_per_s, 0);
    c->cb_threshold = circuit_failures;
    c->cb_cooldown_ms = circuit_cooldown_ms;
    TAILQ_INIT(&c->ready);
    STAILQ_INSERT_TAIL(&s->conns, c, link);
    return c;
}

void wb_sched_conn_update(wb_sched_conn *c, int max_concurrency, double rate_per_s,
                          int circuit_failures, int64_t circuit_cooldown_ms)
{
    c->max_concurrency = max_concurrency > 0 ? max_concurrency : 1;
    if (c->bucket.rate != rate_per_s) wb_tokenbucket_set(&c->bucket, rate_per_s, 0);
    c->cb_threshold = circuit_failures;
    c->cb_cooldown_ms = circuit_cooldown_ms;
}

int wb_sched_submit(wb_sched *s, wb_sched_conn *c, wb_job *j, const void *lane_key,
                    size_t lane_key_len, int64_t due_ms, int64_t now)
{
    j->conn = c;
    j->lane = NULL;
    j->due_ms = due_ms;
    if (lane_key) {
        wb_lane *l = lane_get(c, lane_key, lane_key_len, 1);
        if (!l) return -1;
        j->lane = l;
        int behind = !STAILQ_EMPTY(&l->jobs);
        STAILQ_INSERT_TAIL(&l->jobs, j, lane_link);
        if (behind) {
            j->state = WB_JOB_QUEUED;
            c->jobs++;
            s->jobs++;
            return 0;
        }
    }
    if (arm(s, j, now)) {
        if (j->lane) lane_remove(s, j, now);
        return -1;
    }
    c->jobs++;
    s->jobs++;
    return 0;
}

int wb_sched_submit_held(wb_sched *s, wb_sched_conn *c, wb_job *j, const void *lane_key,
                         size_t lane_key_len, int64_t now)
{
    j->held = 1;
    int r = wb_sched_submit(s, c, j, lane_key, lane_key_len, now, now);
    if (r) j->held = 0;
    return r;
}

void wb_sched_release(wb_sched *s, wb_job *j, int64_t now)
{
    if (!j->held) return;
    j->held = 0;
    /* Still behind another job of its lane: it is armed when it becomes the head. */
    if (j->state != WB_JOB_HELD) return;
    j->due_ms = now;
    if (arm(s, j, now)) ready_push(j->conn, j);
}

void wb_sched_conn_pause(wb_sched_conn *c, int paused)
{
    c->paused = paused;
}

int64_t wb_sched_conn_open_until(const wb_sched_conn *c)
{
    return c->circuit == WB_CIRCUIT_OPEN ? c->cb_open_until : 0;
}

/* Whether c may start one more job now. */
static int can_start(wb_sched_conn *c, int64_t now)
{
    if (TAILQ_EMPTY(&c->ready) || c->running >= c->max_concurrency || c->paused) return 0;
    if (c->circuit == WB_CIRCUIT_OPEN) {
        if (now < c->cb_open_until) return 0;
        c->circuit = WB_CIRCUIT_HALF_OPEN;
        c->probe_running = 0;
    }
    if (c->circuit == WB_CIRCUIT_HALF_OPEN && c->probe_running) return 0;
    return wb_tokenbucket_ready(&c->bucket, now);
}

/* Move due timers to their ready queues. */
static void fire_timers(wb_sched *s, int64_t now)
{
    wb_job *j;
    while ((j = wb_heap_top(&s->timers)) && j->due_ms <= now) {
        wb_heap_remove(&s->timers, j);
        ready_push(j->conn, j);
    }
}

wb_job *wb_sched_next(wb_sched *s, int64_t now)
{
    fire_timers(s, now);
    wb_sched_conn *first = STAILQ_FIRST(&s->conns);
    if (!first) return NULL;
    wb_sched_conn *start = s->rr ? s->rr : first, *c = start;
    do {
        if (can_start(c, now)) {
            wb_job *j = TAILQ_FIRST(&c->ready);
            ready_unlink(c, j);
            j->state = WB_JOB_RUNNING;
            c->running++;
            s->running++;
            wb_tokenbucket_take(&c->bucket, now); /* can_start saw the token */
            if (c->circuit == WB_CIRCUIT_HALF_OPEN) c->probe_running = 1;
            s->rr = STAILQ_NEXT(c, link) ? STAILQ_NEXT(c, link) : first;
            return j;
        }
        c = STAILQ_NEXT(c, link) ? STAILQ_NEXT(c, link) : first;
    } while (c != start);
    return NULL;
}

/* How long the breaker stays open this time (see scheduler.h). */
static int64_t open_period(wb_sched_conn *c, int64_t retry_after_ms)
{
    int64_t period = c->cb_cooldown_ms < 1000 ? c->cb_cooldown_ms : 1000;
    for (int i = 1; i < c->cb_opens && period < c->cb_cooldown_ms; i++)
        period *= 2;
    if (period > c->cb_cooldown_ms) period = c->cb_cooldown_ms;
    if (retry_after_ms > period) period = retry_after_ms;
    return period;
}

static void circuit_record(wb_sched_conn *c, int endpoint_ok, int64_t retry_after_ms, int64_t now)
{
    if (endpoint_ok < 0) {
        /* no evidence: a half-open probe that proved nothing lets the next one go */
        c->probe_running = 0;
        return;
    }
    if (c->cb_threshold <= 0) return;
    if (endpoint_ok) {
        c->cb_failures = 0;
        c->cb_opens = 0;
        c->circuit = WB_CIRCUIT_CLOSED;
        c->probe_running = 0;
        return;
    }
    c->cb_failures++;
    if (c->circuit == WB_CIRCUIT_OPEN) return; /* a straggler that started before it opened */
    if (c->circuit == WB_CIRCUIT_HALF_OPEN || c->cb_failures >= c->cb_threshold) {
        c->cb_opens++;
        c->circuit = WB_CIRCUIT_OPEN;
        c->cb_open_until = now + open_period(c, retry_after_ms);
        c->probe_running = 0;
    }
}

void wb_sched_finish(wb_sched *s, wb_job *j, int endpoint_ok, int64_t now)
{
    wb_sched_conn *c = j->conn;
    if (j->state == WB_JOB_RUNNING) {
        c->running--;
        s->running--;
        circuit_record(c, endpoint_ok, -1, now);
    }
    j->state = WB_JOB_IDLE;
    c->jobs--;
    s->jobs--;
    lane_remove(s, j, now);
}

void wb_sched_retry(wb_sched *s, wb_job *j, int endpoint_ok, int64_t due_ms, int64_t retry_after_ms,
                    int64_t now)
{
    wb_sched_conn *c = j->conn;
    if (j->state == WB_JOB_RUNNING) {
        c->running--;
        s->running--;
        circuit_record(c, endpoint_ok, retry_after_ms, now);
    }
    j->due_ms = due_ms;
    if (arm(s, j, now)) {
        /* Out of memory for the timer: retry as soon as possible instead. */
        ready_push(c, j);
    }
}

void wb_sched_defer(wb_sched *s, wb_job *j, int64_t due_ms, int64_t now)
{
    wb_sched_retry(s, j, -1, due_ms, -1, now);
}

void wb_sched_cancel(wb_sched *s, wb_job *j, int64_t now)
{
    wb_sched_conn *c = j->conn;
    switch (j->state) {
    case WB_JOB_TIMER:
        wb_heap_remove(&s->timers, j);
        break;
    case WB_JOB_READY:
        ready_unlink(c, j);
        break;
    case WB_JOB_RUNNING:
        c->running--;
        s->running--;
        c->probe_running = 0;
        break;
    default:
        break;
    }
    j->state = WB_JOB_IDLE;
    c->jobs--;
    s->jobs--;
    lane_remove(s, j, now);
}

int64_t wb_sched_wait_ms(wb_sched *s, int64_t now)
{
    int64_t best = -1;
#define TAKE(v)                                                                                    \
    do {                                                                                           \
        int64_t v_ = (v) < 0 ? 0 : (v);                                                            \
        if (best < 0 || v_ < best) best = v_;                                                      \
    } while (0)
    const wb_job *first = wb_heap_top(&s->timers);
    if (first) TAKE(first->due_ms - now);
    wb_sched_conn *c;
    STAILQ_FOREACH(c, &s->conns, link)
    {
        if (TAILQ_EMPTY(&c->ready) || c->running >= c->max_concurrency || c->paused) continue;
        if (c->circuit == WB_CIRCUIT_OPEN) {
            TAKE(c->cb_open_until - now);
            continue;
        }
        if (c->circuit == WB_CIRCUIT_HALF_OPEN && c->probe_running) continue;
        TAKE(wb_tokenbucket_wait_ms(&c->bucket, now)); /* 0 when a token is there */
    }
#undef TAKE
    return best;
}

size_t wb_sched_backlog(const wb_sched *s)
{
    return s->jobs - s->running;
}

wb_circuit wb_sched_conn_circuit(const wb_sched_conn *c)
{
    return c->circuit;
}

int wb_sched_conn_running(const wb_sched_conn *c)
{
    return c->running;
}

size_t wb_sched_conn_queued(const wb_sched_conn *c)
{
    return c->jobs;
}
