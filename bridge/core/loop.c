/* loop.c - epoll event loop: fd watchers, a timer heap, posted messages (see loop.h).
 *
 * Watchers live in an array indexed by fd (fds are small dense integers; a connector adds a
 * queue fd and libcurl a handful of sockets), so dispatch is one index per event. The heap
 * holds pointers to the callers' embedded wb_timer structs, each knowing its own index, so
 * stop and restart are O(log n) without a search.
 *
 * Wakeup is an eventfd: wb_loop_post() and wb_loop_wakeup() write to it from any thread; the
 * loop reads it (draining the counter) whenever it fires. */
#include "core/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/heap.h"
#include "core/util.h"

#define MAX_EVENTS 256 /* fd events taken per epoll_wait */

typedef struct watcher {
    wb_loop_io_cb cb;
    void *arg;
    unsigned events; /* the mask registered with epoll */
    int active;      /* registered with epoll (or, if parked, maybe closed since) */
    int parked;      /* registered, but its owner wants no events: see wb_loop_io_park */
} watcher;

struct wb_loop {
    int epfd;
    int evfd;
    int64_t now;
    watcher *w; /* indexed by fd */
    size_t nw;
    wb_heap timers;       /* on due_ms */
    pthread_mutex_t lock; /* guards the message queue and msg->queued */
    STAILQ_HEAD(, wb_loop_msg) msgs;
    uint64_t msg_turn; /* run_messages calls so far; a message posted during one waits */
};

/* ------------------------------------------------------------------------------------ */
/* Creation                                                                             */

wb_loop *wb_loop_new(char *errstr, size_t errstr_size)
{
    wb_loop *lp = calloc(1, sizeof(*lp));
    if (!lp) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (lp->epfd < 0 || lp->evfd < 0) {
        snprintf(errstr, errstr_size, "epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    /* The eventfd is not a watcher: data.fd == evfd tells it apart in dispatch. */
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lp->evfd};
    if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->evfd, &ev)) {
        snprintf(errstr, errstr_size, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&lp->lock, NULL);
    wb_heap_init(&lp->timers, offsetof(wb_timer, due_ms), offsetof(wb_timer, heap_idx), 64);
    STAILQ_INIT(&lp->msgs);
    lp->now = wb_now_ms();
    return lp;
fail:
    if (lp->epfd >= 0) close(lp->epfd);
    if (lp->evfd >= 0) close(lp->evfd);
    free(lp);
    return NULL;
}

void wb_loop_free(wb_loop *lp)
{
    if (!lp) return;
    close(lp->epfd);
    close(lp->evfd);
    free(lp->w);
    wb_heap_free(&lp->timers);
    pthread_mutex_destroy(&lp->lock);
    free(lp);
}

int64_t wb_loop_now(const wb_loop *lp)
{
    return lp->now;
}

/* ------------------------------------------------------------------------------------ */
/* fd watchers                                                                          */

static uint32_t to_epoll(unsigned events)
{
    return (events & WB_LOOP_READ ? EPOLLIN : 0) | (events & WB_LOOP_WRITE ? EPOLLOUT : 0);
}

wb_err wb_loop_io_add(wb_loop *lp, int fd, unsigned events, wb_loop_io_cb cb, void *arg)
{
    if (fd < 0 || !cb) return WB_ERR_INVALID;
    if (wb_grow_indexed((void **)&lp->w, &lp->nw, (size_t)fd, sizeof(*lp->w))) return WB_ERR_NOMEM;
    watcher *w = &lp->w[fd];
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(lp->epfd, w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev)) {
        /* An fd closed and reused behind our back is still registered under its old
         * open file description (EEXIST: replace the registration), or a watcher we
         * believed registered was closed, which drops it from epoll (ENOENT: add it). */
        if (errno == EEXIST && !epoll_ctl(lp->epfd, EPOLL_CTL_MOD, fd, &ev)) goto ok;
        if (errno == ENOENT && !epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev)) goto ok;
        return WB_ERR_IO;
    }
ok:
    w->cb = cb;
    w->arg = arg;
    w->events = events;
    w->active = 1;
    w->parked = 0;
    return WB_OK;
}

wb_err wb_loop_io_mod(wb_loop *lp, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= lp->nw || !lp->w[fd].active) return WB_ERR_NOT_FOUND;
    watcher *w = &lp->w[fd];
    /* Unparking with the mask still registered (the keep-alive socket that goes back to
     * waiting for its next answer) costs no system call: that is what parking is for. */
    w->parked = 0;
    if (w->events == events) return WB_OK;
    struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
    if (epoll_ctl(lp->epfd, EPOLL_CTL_MOD, fd, &ev)) {
        /* The fd was closed and its number reused without wb_loop_io_del (libcurl closes a
         * socket that lost a connect race without telling): register the new one. */
        if (errno != ENOENT || epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev)) return WB_ERR_IO;
    }
    w->events = events;
    return WB_OK;
}

void wb_loop_io_park(wb_loop *lp, int fd)
{
    if (fd < 0 || (size_t)fd >= lp->nw || !lp->w[fd].active) return;
    /* Only a read-only registration is worth keeping: an idle socket is writable at once,
     * so a parked write interest would wake every turn. */
    if (lp->w[fd].events != WB_LOOP_READ) {
        wb_loop_io_del(lp, fd);
        return;
    }
    lp->w[fd].parked = 1;
}

void wb_loop_io_forget(wb_loop *lp, int fd)
{
    if (fd < 0 || (size_t)fd >= lp->nw) return;
    memset(&lp->w[fd], 0, sizeof(lp->w[fd]));
}

void wb_loop_io_del(wb_loop *lp, int fd)
{
    if (fd < 0 || (size_t)fd >= lp->nw || !lp->w[fd].active) return;
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL); /* ENOENT/EBADF: already gone, fine */
    memset(&lp->w[fd], 0, sizeof(lp->w[fd]));
}

/* ------------------------------------------------------------------------------------ */
/* Timers: the min-heap of core/heap.h on due_ms                                       */

void wb_timer_init(wb_timer *t, wb_loop_fn cb, void *arg)
{
    memset(t, 0, sizeof(*t));
    t->cb = cb;
    t->arg = arg;
}

wb_err wb_loop_timer_start(wb_loop *lp, wb_timer *t, int64_t due_ms)
{
    if (t->active) {
        t->due_ms = due_ms;
        wb_heap_fix(&lp->timers, t);
        return WB_OK;
    }
    t->due_ms = due_ms;
    if (wb_heap_push(&lp->timers, t)) return WB_ERR_NOMEM;
    t->active = 1;
    return WB_OK;
}

void wb_loop_timer_stop(wb_loop *lp, wb_timer *t)
{
    if (!t->active) return;
    t->active = 0;
    wb_heap_remove(&lp->timers, t);
}

int64_t wb_loop_next_timer_ms(const wb_loop *lp)
{
    const wb_timer *t = wb_heap_top(&lp->timers);
    if (!t) return -1;
    int64_t d = t->due_ms - wb_now_ms();
    return d > 0 ? d : 0;
}

/* Run every timer due at `now`. A callback may restart its own timer (even for `now`): it
 * then runs on the next turn, not again in this one, so a zero-delay timer cannot starve
 * the fds. */
static int run_timers(wb_loop *lp, int64_t now)
{
    int n = 0;
    size_t budget = lp->timers.n;
    wb_timer *t;
    while (budget-- > 0 && (t = wb_heap_top(&lp->timers)) && t->due_ms <= now) {
        wb_loop_timer_stop(lp, t);
        t->cb(lp, t->arg);
        n++;
    }
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* Messages and wakeup                                                                  */

void wb_loop_wakeup(wb_loop *lp)
{
    uint64_t one = 1;
    ssize_t w = write(lp->evfd, &one, sizeof(one)); /* EAGAIN: counter saturated, still wakes */
    (void)w;
}

void wb_loop_post(wb_loop *lp, wb_loop_msg *m, wb_loop_fn fn, void *arg)
{
    pthread_mutex_lock(&lp->lock);
    if (!m->queued) {
        m->fn = fn;
        m->arg = arg;
        m->queued = 1;
        m->turn = lp->msg_turn;
        STAILQ_INSERT_TAIL(&lp->msgs, m, link);
    }
    pthread_mutex_unlock(&lp->lock);
    wb_loop_wakeup(lp);
}

void wb_loop_unpost(wb_loop *lp, wb_loop_msg *m)
{
    pthread_mutex_lock(&lp->lock);
    if (m->queued) {
        STAILQ_REMOVE(&lp->msgs, m, wb_loop_msg, link);
        m->queued = 0;
    }
    pthread_mutex_unlock(&lp->lock);
}

/* Run the messages queued when the turn started, each outside the lock: a message may post
 * again (it then runs next turn) or post to another loop without deadlocking. Each is taken
 * off the queue under the lock just before it runs, so a callback that posts or unposts
 * another message of this turn finds it still queued, not in a detached list. */
static int run_messages(wb_loop *lp)
{
    pthread_mutex_lock(&lp->lock);
    uint64_t turn = ++lp->msg_turn;
    wb_loop_msg *m;
    int n = 0;
    /* FIFO: the first message stamped with this turn starts what waits for the next one */
    while ((m = STAILQ_FIRST(&lp->msgs)) && m->turn != turn) {
        STAILQ_REMOVE_HEAD(&lp->msgs, link);
        m->queued = 0;
        wb_loop_fn fn = m->fn;
        void *arg = m->arg;
        pthread_mutex_unlock(&lp->lock);
        fn(lp, arg); /* m may be freed or re-posted by fn */
        n++;
        pthread_mutex_lock(&lp->lock);
    }
    pthread_mutex_unlock(&lp->lock);
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* The turn                                                                             */

int wb_loop_run_once(wb_loop *lp, int max_wait_ms)
{
    int n = run_messages(lp);
    int64_t wait = wb_loop_next_timer_ms(lp);
    if (n > 0) wait = 0; /* messages may have queued work: do not sleep on it */
    if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) wait = max_wait_ms;
    struct epoll_event evs[MAX_EVENTS];
    int ne = epoll_wait(lp->epfd, evs, MAX_EVENTS, (int)wait);
    if (ne < 0) {
        if (errno != EINTR) return -1;
        ne = 0;
    }
    lp->now = wb_now_ms();
    for (int i = 0; i < ne; i++) {
        int fd = evs[i].data.fd;
        if (fd == lp->evfd) {
            uint64_t v;
            ssize_t r = read(lp->evfd, &v, sizeof(v));
            (void)r;
            continue;
        }
        /* A callback earlier in this batch may have removed this fd (or replaced it). */
        if ((size_t)fd >= lp->nw || !lp->w[fd].active) continue;
        watcher *w = &lp->w[fd];
        if (w->parked) {
            /* Data, EOF or an error on a socket nobody waits for (a pooled connection the
             * peer closed): unregister it for real, or level-triggered epoll (which reports
             * errors even with an empty mask) would wake us every turn. Its owner sees the
             * state when it next uses the socket. */
            wb_loop_io_del(lp, fd);
            continue;
        }
        unsigned what = (evs[i].events & EPOLLIN ? WB_LOOP_READ : 0) |
                        (evs[i].events & EPOLLOUT ? WB_LOOP_WRITE : 0) |
                        (evs[i].events & (EPOLLERR | EPOLLHUP) ? WB_LOOP_ERROR : 0);
        w->cb(lp, fd, what, w->arg);
        n++;
    }
    n += run_timers(lp, lp->now);
    n += run_messages(lp); /* posted while we slept: do not wait a turn for them */
    return n;
}
