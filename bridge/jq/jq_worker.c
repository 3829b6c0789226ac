/* outbound/jq_worker.c - the jq sandbox worker process (`webhook-bridge jq-worker`).
 *
 * A fresh single-threaded image (exec'd by jq_sandbox.c) that reads request frames from its
 * socket, runs each program on its event with wb_jq_prog_run() and writes the responses
 * back, one write per batch. It limits itself before reading anything: RLIMIT_AS (memory),
 * RLIMIT_CPU (a backstop behind the parent's wall-clock budget, re-armed per batch so a
 * long-lived worker is not killed for its total), no core files, death with its parent.
 * When libjq runs out of memory under the cap it calls our handler: the responses already
 * computed and a failure for the running request are written, then the process exits (the
 * jq_state cannot be used after that). Everything here is process-global on purpose: one
 * worker per process. */
#include "jq/jq.h"
#include "jq/jq_proto.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of shadow address space: under it RLIMIT_AS cannot be
 * set (the sanitizer build runs the memory-cap test in the release pass only, label nosan). */
#if defined(__SANITIZE_ADDRESS__)
#define WB_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WB_UNDER_ASAN 1
#endif
#endif
#ifndef WB_UNDER_ASAN
#define WB_UNDER_ASAN 0
#endif

typedef struct cached {
    char *text;
    size_t len;
    wb_jq_prog *prog;
    char *error; /* compile error, remembered like a program */
    uint64_t used;
} cached;

static struct {
    int fd;
    size_t memory;
    long cpu_s;
    size_t max_output;
    long recycle_after;
    long evaluations;
    wb_jqp_slot *slot;
    wb_buf out;  /* responses of the current batch */
    size_t done; /* bytes of out that are whole responses (the rest is being built) */
    uint32_t current;
    cached cache[WB_JQ_PROGRAM_CACHE];
    uint64_t tick;
} W;

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* libjq's allocation failed under RLIMIT_AS: no allocation from here on. */
static void on_nomem(void *data)
{
    (void)data;
    unsigned char frame[WB_JQP_HDR + 160];
    int n =
        snprintf((char *)frame + WB_JQP_HDR, sizeof(frame) - WB_JQP_HDR,
                 "exceeded the %zu MiB memory limit of the jq sandbox", W.memory / (1024 * 1024));
    if (n < 0) n = 0;
    wb_jqp_put32(frame, (uint32_t)(12 + n));
    wb_jqp_put32(frame + 4, W.current);
    wb_jqp_put32(frame + 8, WB_JQ_FAILED);
    wb_jqp_put32(frame + 12, 0);
    if (W.done) (void)write_all(W.fd, W.out.data, W.done);
    (void)write_all(W.fd, frame, WB_JQP_HDR + (size_t)n);
    _exit(3);
}

/* Program for text (compiled on first use, least recently used evicted). */
static cached *program(const char *text, size_t len)
{
    cached *victim = &W.cache[0];
    for (size_t i = 0; i < WB_JQ_PROGRAM_CACHE; i++) {
        cached *c = &W.cache[i];
        if (c->text && c->len == len && !memcmp(c->text, text, len)) {
            c->used = ++W.tick;
            return c;
        }
        if (!c->text || c->used < victim->used) victim = c;
    }
    wb_jq_prog_free(victim->prog);
    free(victim->text);
    free(victim->error);
    memset(victim, 0, sizeof(*victim));
    char err[512];
    if (!(victim->text = malloc(len + 1))) return NULL;
    memcpy(victim->text, text, len);
    victim->text[len] = 0;
    victim->len = len;
    victim->used = ++W.tick;
    victim->prog = wb_jq_prog_new(victim->text, err, sizeof(err));
    if (!victim->prog && !(victim->error = wb_strdup(err))) return NULL;
    if (victim->prog) wb_jq_prog_set_nomem(victim->prog, on_nomem, NULL);
    return victim;
}

/* Evaluate one request frame (header already checked) and append its response to W.out. */
static void evaluate(uint32_t id, uint32_t kind, const char *expr, size_t elen, const char *json,
                     size_t jlen)
{
    char error[600] = "";
    size_t mark = W.done = W.out.len;
    unsigned char hdr[WB_JQP_HDR] = {0};
    wb_jq_status st = WB_JQ_FAILED;
    if (wb_buf_add(&W.out, hdr, sizeof(hdr))) on_nomem(NULL);
    W.current = id;
    /* Compiling is the operator's program, not the event, and libjq 1.6 takes tens of ms
     * for it (it binds every builtin): it does not count against the event's budget. */
    cached *c = program(expr, elen);
    __atomic_store_n(&W.slot->start_ms, wb_now_ms(), __ATOMIC_RELEASE);
    __atomic_store_n(&W.slot->id, id, __ATOMIC_RELEASE);
    if (!c)
        on_nomem(NULL);
    else if (!c->prog)
        snprintf(error, sizeof(error), "compile error: %s", c->error);
    else
        st = wb_jq_prog_run(c->prog, kind == WB_JQ_FILTER ? WB_JQ_FILTER : WB_JQ_TRANSFORM, json,
                            jlen, W.max_output, &W.out, error, sizeof(error));
    __atomic_store_n(&W.slot->id, 0, __ATOMIC_RELEASE);
    if (st != WB_JQ_PASS || kind == WB_JQ_FILTER) W.out.len = mark + WB_JQP_HDR;
    if (st == WB_JQ_FAILED && wb_buf_adds(&W.out, error[0] ? error : "failed")) on_nomem(NULL);
    unsigned char *h = (unsigned char *)W.out.data + mark;
    wb_jqp_put32(h, (uint32_t)(W.out.len - mark - 4));
    wb_jqp_put32(h + 4, id);
    wb_jqp_put32(h + 8, (uint32_t)st);
    wb_jqp_put32(h + 12, 0);
    W.done = W.out.len;
}

/* RLIMIT_CPU counts the whole process life: keep the soft limit cpu_s ahead of what was used,
 * so only one batch that runs away (and escaped the parent's budget) hits it. */
static void rearm_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return;
    rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec);
    struct rlimit rl = {used + (rlim_t)W.cpu_s + 1, RLIM_INFINITY};
    (void)setrlimit(RLIMIT_CPU, &rl);
}

/* Map 1 MiB of stack now: under RLIMIT_AS a stack that must grow while the heap took the
 * last byte is a SIGSEGV, not a message. */
__attribute__((noinline)) static void prefault_stack(void)
{
    volatile char pad[1 << 20];
    for (size_t i = 0; i < sizeof(pad); i += 4096)
        pad[i] = 0;
}

static int arg_size(const char *s, size_t *out)
{
    long v;
    if (wb_parse_int(s, 1, 1L << 40, &v)) return -1;
    *out = (size_t)v;
    return 0;
}

int wb_jq_worker_main(int argc, char **argv)
{
    long fd, cpu;
    if (argc != 6 || wb_parse_int(argv[1], 0, 1024, &fd) || arg_size(argv[2], &W.memory) ||
        wb_parse_int(argv[3], 1, 86400, &cpu) || arg_size(argv[4], &W.max_output) ||
        wb_parse_int(argv[5], 1, 1L << 40, &W.recycle_after)) {
        fprintf(stderr, "jq-worker: internal command of webhook-bridge, not for direct use\n");
        return 2;
    }
    W.fd = (int)fd;
    W.cpu_s = cpu;
    /* die with the bridge; if it is already gone, so are we */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) return 1;
    struct rlimit none = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &none);
    W.slot = mmap(NULL, sizeof(*W.slot), PROT_READ | PROT_WRITE, MAP_SHARED, WB_JQP_SLOT_FD, 0);
    if (W.slot == MAP_FAILED) return 1;
    close(WB_JQP_SLOT_FD);
    prefault_stack();
#if !WB_UNDER_ASAN
    struct rlimit as = {W.memory, W.memory};
    if (setrlimit(RLIMIT_AS, &as)) {
        fprintf(stderr, "jq-worker: setrlimit(RLIMIT_AS): %s\n", strerror(errno));
        return 1;
    }
#endif
    rearm_cpu();
    wb_buf in;
    wb_buf_init(&in, 0);
    wb_buf_init(&W.out, 0);
    unsigned char hello[WB_JQP_HDR] = {0};
    wb_jqp_put32(hello, 12);
    wb_jqp_put32(hello + 8, WB_JQP_VERSION);
    if (write_all(W.fd, hello, sizeof(hello))) return 1;
    for (;;) {
        if (wb_buf_reserve(&in, 65536)) on_nomem(NULL);
        ssize_t r = read(W.fd, in.data + in.len, in.cap - in.len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0; /* the bridge closed the socket: done */
        in.len += (size_t)r;
        rearm_cpu();
        size_t off = 0;
        while (in.len - off >= WB_JQP_HDR) {
            const unsigned char *h = (const unsigned char *)in.data + off;
            size_t flen = (size_t)wb_jqp_get32(h) + 4;
            if (flen < WB_JQP_HDR) return 1; /* not our parent speaking */
            if (in.len - off < flen) {
                /* buffering a large event can hit the cap: blame it, not the one before */
                W.current = wb_jqp_get32(h + 4);
                __atomic_store_n(&W.slot->start_ms, wb_now_ms(), __ATOMIC_RELEASE);
                __atomic_store_n(&W.slot->id, W.current, __ATOMIC_RELEASE);
                if (wb_buf_reserve(&in, flen)) on_nomem(NULL);
                __atomic_store_n(&W.slot->id, 0, __ATOMIC_RELEASE);
                break;
            }
            uint32_t elen = wb_jqp_get32(h + 12);
            if (elen > flen - WB_JQP_HDR) return 1;
            const char *expr = (const char *)h + WB_JQP_HDR;
            evaluate(wb_jqp_get32(h + 4), wb_jqp_get32(h + 8), expr, elen, expr + elen,
                     flen - WB_JQP_HDR - elen);
            off += flen;
            if (++W.evaluations >= W.recycle_after) break;
        }
        memmove(in.data, in.data + off, in.len - off);
        in.len -= off;
        if (W.evaluations >= W.recycle_after) {
            /* retire with a fresh heap next time: answers so far, then bye */
            unsigned char bye[WB_JQP_HDR] = {0};
            wb_jqp_put32(bye, 12);
            wb_jqp_put32(bye + 8, WB_JQP_BYE);
            if (!wb_buf_add(&W.out, bye, sizeof(bye))) (void)write_all(W.fd, W.out.data, W.out.len);
            return 0;
        }
        if (W.out.len && write_all(W.fd, W.out.data, W.out.len)) return 0;
        wb_buf_reset(&W.out);
        W.done = 0;
    }
}
