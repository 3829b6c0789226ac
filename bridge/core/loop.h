/* loop.h - a small single-threaded event loop on epoll: fd watchers, timers, cross-thread
 * messages and a wakeup.
 *
 * One wb_loop belongs to one thread (the "loop thread", the one calling wb_loop_run_once).
 * The outbound engine runs several connectors on one loop: their librdkafka queue fds, the
 * HTTP client's sockets (libcurl multi_socket) and their timers all live here, so hundreds of
 * connectors do not need hundreds of threads of ours.
 *
 * Timers are intrusive (struct wb_timer embedded in the owner's struct, a min-heap links them):
 * starting, moving and stopping one allocates nothing. Messages (struct wb_loop_msg, also
 * embedded in the sender's struct) are the one way other threads talk to a loop: posted under a
 * mutex, run on the loop thread at the top of the next turn, in posting order. Nothing runs a
 * callback re-entrantly: a callback that changes watchers or timers sees the change take
 * effect from the next dispatch on.
 *
 * Ownership: the loop owns its epoll and eventfd descriptors, never the watched fds, timers or
 * messages. Thread: everything is loop-thread only except wb_loop_post() and wb_loop_wakeup(). */
#ifndef WB_CORE_LOOP_H
#define WB_CORE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "core/err.h"

typedef struct wb_loop wb_loop;

enum { WB_LOOP_READ = 1, WB_LOOP_WRITE = 2, WB_LOOP_ERROR = 4 /* reported, never requested */ };

/* fd became ready: events is a mask of WB_LOOP_READ / WRITE / ERROR. */
typedef void (*wb_loop_io_cb)(wb_loop *lp, int fd, unsigned events, void *arg);
typedef void (*wb_loop_fn)(wb_loop *lp, void *arg);

typedef struct wb_timer {
    int64_t due_ms; /* monotonic (wb_now_ms clock) */
    size_t heap_idx;
    int active;
    wb_loop_fn cb;
    void *arg;
} wb_timer;

typedef struct wb_loop_msg {
    STAILQ_ENTRY(wb_loop_msg) link;
    wb_loop_fn fn;
    void *arg;
    int queued;    /* guarded by the loop's lock */
    uint64_t turn; /* the loop's message turn when it was posted (same lock) */
} wb_loop_msg;

/* Create a loop. NULL + errstr on failure. */
wb_loop *wb_loop_new(char *errstr, size_t errstr_size);
/* Free the loop. Watched fds are not closed; messages still queued are dropped without
 * running (their owners are going away too). NULL is fine. */
void wb_loop_free(wb_loop *lp);

/* Watch fd for events (WB_LOOP_READ | WB_LOOP_WRITE). Level-triggered. One watcher per fd:
 * adding an fd already watched replaces its callback and mask. */
wb_err wb_loop_io_add(wb_loop *lp, int fd, unsigned events, wb_loop_io_cb cb, void *arg);
/* Change the event mask of a watched fd (0 = keep it registered but quiet). */
wb_err wb_loop_io_mod(wb_loop *lp, int fd, unsigned events);
/* Stop watching fd (before closing it). Unknown fds are ignored. */
void wb_loop_io_del(wb_loop *lp, int fd);
/* Stop calling fd's callback but leave a read registration in epoll, so that watching it
 * again with the same mask (wb_loop_io_mod) needs no system call: for sockets that are idle
 * between uses, like libcurl's pooled keep-alive connections, whose transfers would
 * otherwise cost an EPOLL_CTL_DEL and an EPOLL_CTL_ADD each. An event on a parked fd
 * unregisters it (no callback). A parked fd may be closed without wb_loop_io_del (close
 * drops it from epoll); then call wb_loop_io_forget, or at the latest before the fd number
 * is watched again through wb_loop_io_mod. */
void wb_loop_io_park(wb_loop *lp, int fd);
/* Drop fd's watcher without a system call: the fd was closed (epoll forgot it already). */
void wb_loop_io_forget(wb_loop *lp, int fd);

/* Timers: init once, then start (or restart at a new due time) and stop freely. */
void wb_timer_init(wb_timer *t, wb_loop_fn cb, void *arg);
wb_err wb_loop_timer_start(wb_loop *lp, wb_timer *t, int64_t due_ms);
void wb_loop_timer_stop(wb_loop *lp, wb_timer *t);

/* Any thread: run m->fn(lp, m->arg) on the loop thread at the top of the next turn and wake
 * the loop. Posting a message that is still queued does nothing (it runs once). */
void wb_loop_post(wb_loop *lp, wb_loop_msg *m, wb_loop_fn fn, void *arg);
/* Loop thread: drop m if it is still queued (its owner is going away). */
void wb_loop_unpost(wb_loop *lp, wb_loop_msg *m);

/* Any thread: make a wb_loop_run_once() that is waiting return early. */
void wb_loop_wakeup(wb_loop *lp);

/* One turn: run posted messages, wait up to max_wait_ms (0 = poll, -1 = no bound; always cut
 * short by the earliest timer) for fd events, dispatch them, run due timers, then messages
 * posted meanwhile. Returns the number of callbacks run (messages, fds, timers), or -1 on an
 * epoll error (errno set). */
int wb_loop_run_once(wb_loop *lp, int max_wait_ms);

/* The monotonic clock read at the start of the current turn's dispatch (cheap). */
int64_t wb_loop_now(const wb_loop *lp);

/* Milliseconds until the earliest timer is due (0 when overdue), -1 when none. */
int64_t wb_loop_next_timer_ms(const wb_loop *lp);

#endif
