/* outbound/jq_sandbox.c - the bridge's side of the jq sandbox (see outbound/jq.h).
 *
 * One worker process per wb_jq (per loop), started lazily and again after every death. A
 * request is a frame kept in a FIFO until its response arrives, so a worker that is killed
 * can be replaced and every request still queued sent again: only the request that was
 * running fails. Which one was running, and since when, is read from the shared progress
 * slot (jq_proto.h), so the worker need not write anything before an evaluation.
 *
 * Loop thread only. Nothing here blocks: the socket is non-blocking, writes that do not go
 * through wait for WRITE readiness, a killed worker is reaped with WNOHANG (later turns
 * retry), and a worker that cannot start is retried with a growing delay while the records
 * wait (a worker that never said hello is the machine's fault, never the event's). */
#include "jq/jq.h"
#include "jq/jq_proto.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELLO_TIMEOUT_MS 5000 /* a worker that has not said hello by then is restarted */
#define BACKOFF_MIN_MS   50
#define BACKOFF_MAX_MS   5000
#define MAX_REAP         32

struct wb_jq_req {
    TAILQ_ENTRY(wb_jq_req) link;
    uint32_t id;
    wb_jq_cb cb; /* NULL: cancelled */
    void *opaque;
    size_t len;
    unsigned char frame[]; /* the request frame, sent again to a new worker */
};

TAILQ_HEAD(req_queue, wb_jq_req);

struct wb_jq {
    wb_loop *lp;
    wb_jq_limits lim;
    char *exe;
    int fd;         /* socket to the worker, -1 when none */
    pid_t pid;      /* -1 when none */
    int hello;      /* the worker said hello */
    int want_write; /* WRITE interest registered */
    int64_t spawned_ms;
    wb_jqp_slot *slot;
    struct req_queue q;
    size_t npending;
    uint32_t next_id;
    wb_buf out; /* frames not yet written to the current worker */
    size_t out_off;
    wb_buf in; /* bytes read, not yet a whole frame */
    wb_timer flush_t, budget_t, respawn_t, reap_t;
    int64_t backoff_ms;
    int idle_deaths; /* deaths in a row while no evaluation was running */
    unsigned gen;    /* +1 per worker_down: the fd number alone may be reused at once */
    pid_t reap[MAX_REAP];
    size_t nreap;
    wb_jq_stats st;
};

enum down_why { DOWN_EOF, DOWN_BUDGET, DOWN_NO_HELLO, DOWN_IO, DOWN_RECYCLE };

static void worker_down(wb_jq *jq, enum down_why why);
static void ensure_worker(wb_jq *jq);

/* ------------------------------------------------------------------ reaping */

#define REAP_EVERY_MS 20

static void reap_some(wb_jq *jq)
{
    size_t keep = 0;
    for (size_t i = 0; i < jq->nreap; i++) {
        pid_t r = waitpid(jq->reap[i], NULL, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) jq->reap[keep++] = jq->reap[i];
    }
    jq->nreap = keep;
    if (keep && !jq->reap_t.active)
        (void)wb_loop_timer_start(jq->lp, &jq->reap_t, wb_now_ms() + REAP_EVERY_MS);
}

static void on_reap(wb_loop *lp, void *arg)
{
    (void)lp;
    reap_some(arg);
}

/* Kill pid and reap it if it is gone already; *status set when reaped (returns 1). */
static int kill_and_reap(wb_jq *jq, pid_t pid, int wait_a_little, int *status)
{
    kill(pid, SIGKILL);
    /* After EOF the process is exiting: a few short waits usually name its cause. */
    for (int i = 0; i < (wait_a_little ? 40 : 1); i++) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return 1;
        if (r < 0 && errno != EINTR) return 0;
        if (wait_a_little) nanosleep(&(struct timespec){0, 250000}, NULL);
    }
    if (jq->nreap < MAX_REAP) {
        jq->reap[jq->nreap++] = pid;
        if (!jq->reap_t.active)
            (void)wb_loop_timer_start(jq->lp, &jq->reap_t, wb_now_ms() + REAP_EVERY_MS);
    } else {
        (void)waitpid(pid, NULL, 0); /* SIGKILLed: short, and never happens in practice */
    }
    return 0;
}

/* ------------------------------------------------------------------ requests */

static wb_jq_req *find_req(wb_jq *jq, uint32_t id)
{
    wb_jq_req *r;
    TAILQ_FOREACH(r, &jq->q, link)
    if (r->id == id) return r;
    return NULL;
}

/* Remove r and run its callback (unless cancelled). r is freed before the callback runs. */
static void deliver(wb_jq *jq, wb_jq_req *r, wb_jq_status st, const char *out, size_t len,
                    const char *error)
{
    TAILQ_REMOVE(&jq->q, r, link);
    jq->npending--;
    jq->st.evaluations++;
    if (st == WB_JQ_FAILED) jq->st.failed++;
    wb_jq_cb cb = r->cb;
    void *opaque = r->opaque;
    free(r);
    if (cb) cb(opaque, st, out, len, error);
}

static void arm_budget(wb_jq *jq, int64_t due)
{
    if (!jq->budget_t.active || due < jq->budget_t.due_ms)
        (void)wb_loop_timer_start(jq->lp, &jq->budget_t, due);
}

static void set_write_interest(wb_jq *jq, int on)
{
    if (jq->fd < 0 || jq->want_write == on) return;
    if (wb_loop_io_mod(jq->lp, jq->fd, WB_LOOP_READ | (on ? WB_LOOP_WRITE : 0)) == WB_OK)
        jq->want_write = on;
}

/* Write what is buffered; the rest waits for WRITE readiness. */
static void flush(wb_jq *jq)
{
    while (jq->fd >= 0 && jq->out_off < jq->out.len) {
        ssize_t w = send(jq->fd, jq->out.data + jq->out_off, jq->out.len - jq->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            jq->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_write_interest(jq, 1);
            return;
        }
        worker_down(jq, DOWN_IO); /* EPIPE / ECONNRESET: it died; the queue is resent */
        return;
    }
    wb_buf_reset(&jq->out);
    jq->out_off = 0;
    set_write_interest(jq, 0);
}

static void on_flush(wb_loop *lp, void *arg)
{
    (void)lp;
    flush(arg);
}

/* Put r's frame on the wire to the current worker (at the end of this loop turn). */
static wb_err queue_frame(wb_jq *jq, const wb_jq_req *r)
{
    wb_err err = wb_buf_add(&jq->out, r->frame, r->len);
    if (err) return err;
    if (!jq->flush_t.active) (void)wb_loop_timer_start(jq->lp, &jq->flush_t, wb_loop_now(jq->lp));
    if (jq->hello) arm_budget(jq, wb_now_ms() + jq->lim.budget_ms);
    return WB_OK;
}

/* ------------------------------------------------------------------ responses */

static void on_frame(wb_jq *jq, const unsigned char *h, size_t flen)
{
    uint32_t id = wb_jqp_get32(h + 4), a = wb_jqp_get32(h + 8);
    const char *payload = (const char *)h + WB_JQP_HDR;
    size_t plen = flen - WB_JQP_HDR;
    if (id == 0 && a == WB_JQP_BYE) {
        jq->st.recycles++;
        worker_down(jq, DOWN_RECYCLE); /* planned: nothing is blamed, the rest is resent */
        return;
    }
    if (id == 0) {
        if (a != WB_JQP_VERSION) {
            WB_ERROR("jq sandbox: worker speaks version %u, not %d", a, WB_JQP_VERSION);
            worker_down(jq, DOWN_NO_HELLO);
            return;
        }
        jq->hello = 1;
        jq->backoff_ms = 0;
        if (!TAILQ_EMPTY(&jq->q)) arm_budget(jq, wb_now_ms() + jq->lim.budget_ms);
        return;
    }
    wb_jq_req *r = find_req(jq, id);
    if (!r) return; /* answered already (cannot happen: ids are unique per wb_jq) */
    jq->idle_deaths = 0;
    if (a == WB_JQ_PASS || a == WB_JQ_FILTERED) {
        deliver(jq, r, (wb_jq_status)a, a == WB_JQ_PASS && plen ? payload : NULL,
                a == WB_JQ_PASS ? plen : 0, NULL);
    } else {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%.*s", (int)(plen < 1000 ? plen : 1000), payload);
        deliver(jq, r, WB_JQ_FAILED, NULL, 0, msg);
    }
}

/* Read everything available and hand out whole frames. Returns -1 on EOF or error. */
static int read_frames(wb_jq *jq)
{
    int eof = 0;
    for (;;) {
        if (wb_buf_reserve(&jq->in, 65536)) return -1;
        ssize_t r =
            recv(jq->fd, jq->in.data + jq->in.len, jq->in.cap - jq->in.len - 1, MSG_DONTWAIT);
        if (r > 0) {
            jq->in.len += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        eof = 1;
        break;
    }
    size_t off = 0;
    unsigned gen = jq->gen;
    while (jq->gen == gen && jq->in.len - off >= WB_JQP_HDR) {
        const unsigned char *h = (const unsigned char *)jq->in.data + off;
        size_t flen = (size_t)wb_jqp_get32(h) + 4;
        if (flen < WB_JQP_HDR) return -1;
        if (jq->in.len - off < flen) break;
        on_frame(jq, h, flen); /* callbacks may queue requests, never touch jq->in */
        off += flen;
    }
    if (jq->gen != gen) return 0; /* a bad hello or a bye took the worker down already */
    memmove(jq->in.data, jq->in.data + off, jq->in.len - off);
    jq->in.len -= off;
    return eof ? -1 : 0;
}

static void on_io(wb_loop *lp, int fd, unsigned events, void *arg)
{
    (void)lp;
    (void)fd;
    wb_jq *jq = arg;
    unsigned gen = jq->gen;
    if ((events & (WB_LOOP_READ | WB_LOOP_ERROR)) && read_frames(jq)) {
        worker_down(jq, DOWN_EOF);
        return;
    }
    if ((events & WB_LOOP_WRITE) && jq->gen == gen) flush(jq);
}

/* ------------------------------------------------------------------ the budget */

static void on_budget(wb_loop *lp, void *arg)
{
    (void)lp;
    wb_jq *jq = arg;
    int64_t now = wb_now_ms();
    reap_some(jq);
    if (jq->fd < 0) return;
    if (!jq->hello) {
        if (now - jq->spawned_ms >= HELLO_TIMEOUT_MS)
            worker_down(jq, DOWN_NO_HELLO);
        else
            arm_budget(jq, jq->spawned_ms + HELLO_TIMEOUT_MS);
        return;
    }
    if (TAILQ_EMPTY(&jq->q)) return;
    uint32_t id = __atomic_load_n(&jq->slot->id, __ATOMIC_ACQUIRE);
    int64_t start = __atomic_load_n(&jq->slot->start_ms, __ATOMIC_ACQUIRE);
    if (!id) {
        arm_budget(jq, now + jq->lim.budget_ms); /* between evaluations: answers on the way */
        return;
    }
    if (now - start < jq->lim.budget_ms) {
        arm_budget(jq, start + jq->lim.budget_ms);
        return;
    }
    worker_down(jq, DOWN_BUDGET);
}

static void on_respawn(wb_loop *lp, void *arg)
{
    (void)lp;
    ensure_worker(arg);
}

/* ------------------------------------------------------------------ the worker's life */

/* An fd number >= 5, so the dup2 to 3 and 4 in the child never lands on itself. */
static int high_fd(int fd)
{
    if (fd < 0 || fd > WB_JQP_SLOT_FD) return fd;
    int n = fcntl(fd, F_DUPFD_CLOEXEC, WB_JQP_SLOT_FD + 1);
    close(fd);
    return n;
}

/* What the child starts with: stdin and stdout on /dev/null, its socket and the slot on the
 * fixed fds 3 and 4 and nothing else open, no signal blocked, the default action for the
 * signals the bridge handles, and its own process group: a Ctrl-C for the bridge must not
 * kill evaluations mid-drain. */
static int worker_actions(posix_spawn_file_actions_t *fa, int *have_fa, posix_spawnattr_t *attr,
                          int *have_attr, int sock, int memfd)
{
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGHUP);
    if (posix_spawn_file_actions_init(fa)) return -1;
    *have_fa = 1;
    if (posix_spawnattr_init(attr)) return -1;
    *have_attr = 1;
    if (posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) ||
        posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0) ||
        posix_spawn_file_actions_adddup2(fa, sock, WB_JQP_FD) ||
        posix_spawn_file_actions_adddup2(fa, memfd, WB_JQP_SLOT_FD) ||
        posix_spawn_file_actions_addclosefrom_np(fa, WB_JQP_SLOT_FD + 1) ||
        posix_spawnattr_setpgroup(attr, 0) || posix_spawnattr_setsigmask(attr, &none) ||
        posix_spawnattr_setsigdefault(attr, &dfl) ||
        posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF))
        return -1;
    return 0;
}

static int spawn(wb_jq *jq, char *errstr, size_t errstr_size)
{
    int sv[2] = {-1, -1}, memfd = -1, rc = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int have_fa = 0, have_attr = 0;
    char mem[32], cpu[32], maxout[32], recycle[32];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
        (memfd = memfd_create("wb-jq-slot", MFD_CLOEXEC)) < 0 ||
        ftruncate(memfd, sizeof(wb_jqp_slot))) {
        snprintf(errstr, errstr_size, "jq sandbox: %s", strerror(errno));
        goto out;
    }
    sv[1] = high_fd(sv[1]);
    memfd = high_fd(memfd);
    wb_jqp_slot *slot =
        mmap(NULL, sizeof(wb_jqp_slot), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (sv[1] < 0 || memfd < 0 || slot == MAP_FAILED) {
        snprintf(errstr, errstr_size, "jq sandbox: %s", strerror(errno));
        goto out;
    }
    snprintf(mem, sizeof(mem), "%zu", jq->lim.memory_bytes);
    snprintf(cpu, sizeof(cpu), "%d", jq->lim.cpu_s);
    snprintf(maxout, sizeof(maxout), "%zu", jq->lim.max_output);
    snprintf(recycle, sizeof(recycle), "%ld", jq->lim.recycle_after);
    char fdarg[] = "3";
    char *argv[] = {"webhook-bridge", "jq-worker", fdarg, mem, cpu, maxout, recycle, NULL};
    char *envp[] = {NULL}; /* jq's env / $ENV must not see the bridge's secrets */
    if (worker_actions(&fa, &have_fa, &attr, &have_attr, sv[1], memfd)) {
        snprintf(errstr, errstr_size, "jq sandbox: cannot prepare the worker");
        munmap(slot, sizeof(wb_jqp_slot));
        goto out;
    }
    pid_t pid;
    const char *exe = jq->exe ? jq->exe : "/proc/self/exe";
    int e = posix_spawn(&pid, exe, &fa, &attr, argv, envp);
    if (e) {
        snprintf(errstr, errstr_size, "jq sandbox: cannot start %s: %s", exe, strerror(e));
        munmap(slot, sizeof(wb_jqp_slot));
        goto out;
    }
    if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) ||
        wb_loop_io_add(jq->lp, sv[0], WB_LOOP_READ, on_io, jq)) {
        snprintf(errstr, errstr_size, "jq sandbox: cannot watch the worker's socket");
        kill_and_reap(jq, pid, 0, &e);
        munmap(slot, sizeof(wb_jqp_slot));
        goto out;
    }
    jq->fd = sv[0];
    sv[0] = -1;
    jq->pid = pid;
    jq->slot = slot;
    jq->hello = 0;
    jq->want_write = 0;
    jq->spawned_ms = wb_now_ms();
    jq->st.spawns++;
    arm_budget(jq, jq->spawned_ms + HELLO_TIMEOUT_MS);
    rc = 0;
out:
    if (have_fa) posix_spawn_file_actions_destroy(&fa);
    if (have_attr) posix_spawnattr_destroy(&attr);
    if (sv[0] >= 0) close(sv[0]);
    if (sv[1] >= 0) close(sv[1]);
    if (memfd >= 0) close(memfd);
    return rc;
}

/* A worker for the queued requests: start one (or schedule a retry) and send them all. */
static void ensure_worker(wb_jq *jq)
{
    if (jq->fd >= 0 || TAILQ_EMPTY(&jq->q) || jq->respawn_t.active) return;
    char err[256];
    reap_some(jq);
    if (spawn(jq, err, sizeof(err))) {
        jq->backoff_ms = jq->backoff_ms ? jq->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (jq->backoff_ms > BACKOFF_MAX_MS) jq->backoff_ms = BACKOFF_MAX_MS;
        WB_ERROR("%s (retry in %lld ms; %zu evaluations wait)", err, (long long)jq->backoff_ms,
                 jq->npending);
        (void)wb_loop_timer_start(jq->lp, &jq->respawn_t, wb_now_ms() + jq->backoff_ms);
        return;
    }
    wb_jq_req *r;
    TAILQ_FOREACH(r, &jq->q, link)
    if (queue_frame(jq, r)) {
        worker_down(jq, DOWN_IO); /* out of memory for the buffer: try again later */
        return;
    }
}

static void describe_status(int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGXCPU ? ", the CPU backstop" : "");
    else if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(out, n, "status %d", status);
}

/* The worker is gone or must go: kill it, fail the request it was running (if it was
 * running one and had started properly), and start again for the rest. */
static void worker_down(wb_jq *jq, enum down_why why)
{
    uint32_t running = 0;
    if (jq->slot) {
        running = __atomic_load_n(&jq->slot->id, __ATOMIC_ACQUIRE);
        munmap(jq->slot, sizeof(wb_jqp_slot));
        jq->slot = NULL;
    }
    int was_up = jq->hello, status = 0, reaped = 0;
    jq->gen++;
    if (jq->fd >= 0) {
        wb_loop_io_del(jq->lp, jq->fd);
        close(jq->fd);
        jq->fd = -1;
    }
    if (jq->pid > 0) reaped = kill_and_reap(jq, jq->pid, why == DOWN_EOF, &status);
    jq->pid = -1;
    jq->hello = 0;
    jq->want_write = 0;
    wb_buf_reset(&jq->out);
    jq->out_off = 0;
    wb_buf_reset(&jq->in);
    wb_loop_timer_stop(jq->lp, &jq->flush_t);
    wb_loop_timer_stop(jq->lp, &jq->budget_t);

    if (why == DOWN_RECYCLE) running = 0;
    wb_jq_req *r = was_up && running ? find_req(jq, running) : NULL;
    /* A death outside any evaluation again and again, with the same request first in line:
     * that request is what kills it (e.g. a frame too large to buffer). */
    if (was_up && why != DOWN_RECYCLE && !running && !TAILQ_EMPTY(&jq->q) &&
        ++jq->idle_deaths >= 3) {
        r = TAILQ_FIRST(&jq->q);
        jq->idle_deaths = 0;
    }
    if (!was_up) {
        /* never started properly: the machine's problem, not an event's */
        jq->backoff_ms = jq->backoff_ms ? jq->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (jq->backoff_ms > BACKOFF_MAX_MS) jq->backoff_ms = BACKOFF_MAX_MS;
        WB_ERROR("jq sandbox: the worker did not start (retry in %lld ms)",
                 (long long)jq->backoff_ms);
        (void)wb_loop_timer_start(jq->lp, &jq->respawn_t, wb_now_ms() + jq->backoff_ms);
    } else if (r) {
        char msg[256], how[96] = "";
        if (why == DOWN_BUDGET) {
            jq->st.budget_kills++;
            snprintf(msg, sizeof(msg), "exceeded the %lld ms budget of the jq sandbox",
                     (long long)jq->lim.budget_ms);
        } else {
            jq->st.worker_deaths++;
            if (reaped) describe_status(status, how, sizeof(how));
            snprintf(msg, sizeof(msg), "the jq sandbox died while evaluating this event%s%s%s",
                     how[0] ? " (" : "", how, how[0] ? ")" : "");
        }
        WB_WARN("jq sandbox: %s; worker restarted", msg);
        deliver(jq, r, WB_JQ_FAILED, NULL, 0, msg);
    }
    ensure_worker(jq);
}

/* ------------------------------------------------------------------ API */

wb_jq *wb_jq_new(wb_loop *lp, const wb_jq_limits *lim, char *errstr, size_t errstr_size)
{
    wb_jq *jq = calloc(1, sizeof(*jq));
    if (!jq) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (lim) jq->lim = *lim;
    if (jq->lim.budget_ms <= 0) jq->lim.budget_ms = 100;
    if (!jq->lim.memory_bytes) jq->lim.memory_bytes = 256u << 20;
    if (jq->lim.cpu_s <= 0) jq->lim.cpu_s = 10;
    if (!jq->lim.max_input) jq->lim.max_input = 4u << 20;
    if (!jq->lim.max_output) jq->lim.max_output = 1u << 20;
    if (!jq->lim.max_pending) jq->lim.max_pending = 100000;
    if (jq->lim.recycle_after <= 0) jq->lim.recycle_after = 1000000;
    jq->lim.worker_exe = NULL;
    if (lim && lim->worker_exe && !(jq->exe = wb_strdup(lim->worker_exe))) {
        free(jq);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    jq->lp = lp;
    jq->fd = -1;
    jq->pid = -1;
    TAILQ_INIT(&jq->q);
    wb_buf_init(&jq->out, 0);
    wb_buf_init(&jq->in, 0);
    wb_timer_init(&jq->flush_t, on_flush, jq);
    wb_timer_init(&jq->budget_t, on_budget, jq);
    wb_timer_init(&jq->respawn_t, on_respawn, jq);
    wb_timer_init(&jq->reap_t, on_reap, jq);
    return jq;
}

void wb_jq_free(wb_jq *jq)
{
    if (!jq) return;
    wb_loop_timer_stop(jq->lp, &jq->flush_t);
    wb_loop_timer_stop(jq->lp, &jq->budget_t);
    wb_loop_timer_stop(jq->lp, &jq->respawn_t);
    wb_loop_timer_stop(jq->lp, &jq->reap_t);
    if (jq->fd >= 0) {
        wb_loop_io_del(jq->lp, jq->fd);
        close(jq->fd);
    }
    if (jq->slot) munmap(jq->slot, sizeof(wb_jqp_slot));
    if (jq->pid > 0) {
        kill(jq->pid, SIGKILL);
        (void)waitpid(jq->pid, NULL, 0);
    }
    for (size_t i = 0; i < jq->nreap; i++)
        (void)waitpid(jq->reap[i], NULL, 0);
    wb_jq_req *r;
    while ((r = TAILQ_FIRST(&jq->q))) {
        TAILQ_REMOVE(&jq->q, r, link);
        free(r);
    }
    wb_buf_free(&jq->out);
    wb_buf_free(&jq->in);
    free(jq->exe);
    free(jq);
}

wb_err wb_jq_eval(wb_jq *jq, const char *expr, wb_jq_kind kind, const char *json, size_t len,
                  wb_jq_cb cb, void *opaque, wb_jq_req **req)
{
    size_t elen = strlen(expr);
    if (len > jq->lim.max_input || elen > WB_JQP_MAX_EXPR) return WB_ERR_TOO_LARGE;
    if (jq->npending >= jq->lim.max_pending) return WB_ERR_FULL;
    size_t flen = WB_JQP_HDR + elen + len;
    wb_jq_req *r = malloc(sizeof(*r) + flen);
    if (!r) return WB_ERR_NOMEM;
    if (++jq->next_id == 0) jq->next_id = 1; /* 0 is the hello */
    r->id = jq->next_id;
    r->cb = cb;
    r->opaque = opaque;
    r->len = flen;
    wb_jqp_put32(r->frame, (uint32_t)(flen - 4));
    wb_jqp_put32(r->frame + 4, r->id);
    wb_jqp_put32(r->frame + 8, (uint32_t)kind);
    wb_jqp_put32(r->frame + 12, (uint32_t)elen);
    memcpy(r->frame + WB_JQP_HDR, expr, elen);
    if (len) memcpy(r->frame + WB_JQP_HDR + elen, json, len);
    if (jq->fd >= 0 && queue_frame(jq, r)) {
        free(r);
        return WB_ERR_NOMEM;
    }
    TAILQ_INSERT_TAIL(&jq->q, r, link);
    jq->npending++;
    if (jq->fd < 0) ensure_worker(jq); /* sends the whole queue, r included */
    if (req) *req = r;
    return WB_OK;
}

void wb_jq_cancel(wb_jq *jq, wb_jq_req *req)
{
    (void)jq;
    if (req) req->cb = NULL;
}

size_t wb_jq_pending(const wb_jq *jq)
{
    return jq->npending;
}

void wb_jq_get_stats(const wb_jq *jq, wb_jq_stats *st)
{
    *st = jq->st;
}

int wb_jq_worker_pid(const wb_jq *jq)
{
    return jq->pid > 0 ? (int)jq->pid : -1;
}
