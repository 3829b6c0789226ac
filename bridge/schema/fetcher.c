/* schema/fetcher.c - the registry fetch thread (see schema/fetcher.h).
 *
 * Two queues under one lock: the ids wanted (oldest first) and the answers not yet taken.
 * The id in flight sits in neither, so a request for it while it is fetched is deduplicated
 * through in_flight. The notify callback runs without the lock, so it may call back into
 * wb_fetcher_request (or post to a loop that does). */
#include "schema/fetcher.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An id to fetch. */
typedef struct wanted {
    STAILQ_ENTRY(wanted) link;
    int32_t id;
} wanted;

STAILQ_HEAD(wanted_queue, wanted);

struct wb_fetcher {
    wb_registry *reg; /* fetch thread only (after start) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled when an id is queued or stop is set */
    /* guarded by lock */
    struct wanted_queue wanted; /* ids to fetch, oldest first */
    size_t nqueued, max_queue;
    int32_t in_flight; /* id being fetched, or -1 */
    struct wb_fetcher_results done;
    int stop;
    unsigned long requests;
    wb_fetcher_notify_fn notify;
    void *notify_ctx;
    int have_done; /* atomic mirror of !STAILQ_EMPTY(&done): take() skips the lock when 0 */
};

/* Is id queued, in flight or answered but not taken? Lock held. */
static int known(const wb_fetcher *f, int32_t id)
{
    const wanted *w;
    const wb_fetcher_result *r;
    if (f->in_flight == id) return 1;
    STAILQ_FOREACH(w, &f->wanted, link)
    {
        if (w->id == id) return 1;
    }
    STAILQ_FOREACH(r, &f->done, link)
    {
        if (r->id == id) return 1;
    }
    return 0;
}

/* Append w to the ids to fetch. Lock held. */
static void push(wb_fetcher *f, wanted *w)
{
    STAILQ_INSERT_TAIL(&f->wanted, w, link);
    f->nqueued++;
}

/* The fetch thread: take the oldest id, fetch it without the lock, queue the answer, tell
 * the owner; until stop. */
static void *run(void *arg)
{
    wb_fetcher *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && STAILQ_EMPTY(&f->wanted))
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stop) break;
        wanted *w = STAILQ_FIRST(&f->wanted);
        STAILQ_REMOVE_HEAD(&f->wanted, link);
        f->nqueued--;
        f->in_flight = w->id;
        f->requests++;
        pthread_mutex_unlock(&f->lock);

        wb_fetcher_result *r = calloc(1, sizeof(*r));
        if (r) {
            r->id = w->id;
            r->err = wb_registry_fetch(f->reg, w->id, &r->text, r->reason, sizeof(r->reason));
        }
        pthread_mutex_lock(&f->lock);
        f->in_flight = -1;
        if (!r) {
            /* no memory for the answer: ask again later rather than lose the id */
            push(f, w);
            continue;
        }
        STAILQ_INSERT_TAIL(&f->done, r, link);
        __atomic_store_n(&f->have_done, 1, __ATOMIC_RELEASE);
        wb_fetcher_notify_fn fn = f->notify;
        void *ctx = f->notify_ctx;
        int32_t id = w->id;
        free(w);
        pthread_mutex_unlock(&f->lock);
        if (fn) fn(ctx, id);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Owner thread. */
wb_fetcher *wb_fetcher_new(wb_registry *reg, size_t max_queue, char *errstr, size_t errstr_size)
{
    wb_fetcher *f = calloc(1, sizeof(*f));
    if (!f) {
        wb_registry_free(reg);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    f->reg = reg;
    f->max_queue = max_queue ? max_queue : 4096;
    f->in_flight = -1;
    STAILQ_INIT(&f->wanted);
    STAILQ_INIT(&f->done);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    int e = pthread_create(&f->thread, NULL, run, f);
    if (e) {
        snprintf(errstr, errstr_size, "cannot start the registry fetch thread: %s", strerror(e));
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        wb_registry_free(reg);
        free(f);
        return NULL;
    }
    return f;
}

/* Owner thread. */
void wb_fetcher_free(wb_fetcher *f)
{
    if (!f) return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    wb_registry_abort(f->reg); /* a request in flight ends now, not at its timeout */
    pthread_join(f->thread, NULL);
    while (!STAILQ_EMPTY(&f->wanted)) {
        wanted *w = STAILQ_FIRST(&f->wanted);
        STAILQ_REMOVE_HEAD(&f->wanted, link);
        free(w);
    }
    while (!STAILQ_EMPTY(&f->done)) {
        wb_fetcher_result *r = STAILQ_FIRST(&f->done);
        STAILQ_REMOVE_HEAD(&f->done, link);
        wb_fetcher_result_free(r);
    }
    wb_registry_free(f->reg);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

/* Owner thread; takes the lock, so the fetch thread sees fn and ctx together. */
void wb_fetcher_set_notify(wb_fetcher *f, wb_fetcher_notify_fn fn, void *ctx)
{
    pthread_mutex_lock(&f->lock);
    f->notify = fn;
    f->notify_ctx = ctx;
    pthread_mutex_unlock(&f->lock);
}

/* Owner thread. */
wb_err wb_fetcher_request(wb_fetcher *f, int32_t id)
{
    wb_err err = WB_OK;
    pthread_mutex_lock(&f->lock);
    if (known(f, id)) goto out;
    if (f->nqueued >= f->max_queue) {
        err = WB_ERR_FULL;
        goto out;
    }
    wanted *w = malloc(sizeof(*w));
    if (!w) {
        err = WB_ERR_NOMEM;
        goto out;
    }
    w->id = id;
    push(f, w);
    pthread_cond_signal(&f->cond);
out:
    pthread_mutex_unlock(&f->lock);
    return err;
}

/* Owner thread: the hot path calls this before every lookup, hence the lock-free check. */
void wb_fetcher_take(wb_fetcher *f, struct wb_fetcher_results *out)
{
    if (!__atomic_load_n(&f->have_done, __ATOMIC_ACQUIRE)) return;
    pthread_mutex_lock(&f->lock);
    STAILQ_CONCAT(out, &f->done);
    __atomic_store_n(&f->have_done, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&f->lock);
}

/* Any thread; NULL is fine. */
void wb_fetcher_result_free(wb_fetcher_result *r)
{
    if (!r) return;
    free(r->text);
    free(r);
}

/* Any thread. */
unsigned long wb_fetcher_requests(wb_fetcher *f)
{
    pthread_mutex_lock(&f->lock);
    unsigned long n = f->requests;
    pthread_mutex_unlock(&f->lock);
    return n;
}
