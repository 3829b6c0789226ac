/* schema/fetcher.c - the registry fetch thread (see schema/fetcher.h). */
#include "schema/fetcher.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wanted {
    struct wanted *next;
    int32_t id;
} wanted;

struct wb_fetcher {
    wb_registry *reg; /* fetch thread only (after start) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* guarded by lock */
    wanted *head, *tail; /* ids to fetch, oldest first */
    size_t nqueued, max_queue;
    int32_t in_flight; /* id being fetched, or -1 */
    wb_fetch_result *done, *done_tail;
    int stop;
    unsigned long requests;
    wb_fetch_notify_fn notify;
    void *notify_ctx;
    int have_done; /* atomic mirror of done != NULL: take() skips the lock when 0 */
};

static int known(const wb_fetcher *f, int32_t id)
{
    if (f->in_flight == id) return 1;
    for (const wanted *w = f->head; w; w = w->next)
        if (w->id == id) return 1;
    for (const wb_fetch_result *r = f->done; r; r = r->next)
        if (r->id == id) return 1;
    return 0;
}

/* Append w to the ids to fetch. Lock held. */
static void push(wb_fetcher *f, wanted *w)
{
    w->next = NULL;
    if (f->tail)
        f->tail->next = w;
    else
        f->head = w;
    f->tail = w;
    f->nqueued++;
}

static void *run(void *arg)
{
    wb_fetcher *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && !f->head)
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stop) break;
        wanted *w = f->head;
        f->head = w->next;
        if (!f->head) f->tail = NULL;
        f->nqueued--;
        f->in_flight = w->id;
        f->requests++;
        pthread_mutex_unlock(&f->lock);

        wb_fetch_result *r = calloc(1, sizeof(*r));
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
        if (f->done_tail)
            f->done_tail->next = r;
        else
            f->done = r;
        f->done_tail = r;
        __atomic_store_n(&f->have_done, 1, __ATOMIC_RELEASE);
        wb_fetch_notify_fn fn = f->notify;
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

void wb_fetcher_free(wb_fetcher *f)
{
    if (!f) return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->lock);
    wb_registry_abort(f->reg); /* a request in flight ends now, not at its timeout */
    pthread_join(f->thread, NULL);
    while (f->head) {
        wanted *w = f->head;
        f->head = w->next;
        free(w);
    }
    wb_fetch_result *r = f->done;
    while (r) {
        wb_fetch_result *n = r->next;
        wb_fetch_result_free(r);
        r = n;
    }
    wb_registry_free(f->reg);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

void wb_fetcher_set_notify(wb_fetcher *f, wb_fetch_notify_fn fn, void *ctx)
{
    pthread_mutex_lock(&f->lock);
    f->notify = fn;
    f->notify_ctx = ctx;
    pthread_mutex_unlock(&f->lock);
}

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

wb_fetch_result *wb_fetcher_take(wb_fetcher *f)
{
    if (!__atomic_load_n(&f->have_done, __ATOMIC_ACQUIRE)) return NULL;
    pthread_mutex_lock(&f->lock);
    wb_fetch_result *r = f->done;
    f->done = f->done_tail = NULL;
    __atomic_store_n(&f->have_done, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&f->lock);
    return r;
}

void wb_fetch_result_free(wb_fetch_result *r)
{
    if (!r) return;
    free(r->text);
    free(r);
}

unsigned long wb_fetcher_requests(wb_fetcher *f)
{
    pthread_mutex_lock(&f->lock);
    unsigned long n = f->requests;
    pthread_mutex_unlock(&f->lock);
    return n;
}
