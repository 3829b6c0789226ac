/* inbound_bench.c - HTTP load generator for the inbound listener (and a ceiling server).
 *
 * usage: inbound_bench -p PORT [-c CONNECTIONS] [-d SECONDS] [-s whsec_SECRET] [-u PATH]
 *                      [-P SERVER_PID] [-b BODY_BYTES] [-n LABEL]
 *
 * Many keep-alive connections on one epoll loop; every request is a fresh Standard Webhooks
 * delivery (unique webhook-id, current timestamp, signed with -s) so the server verifies,
 * dedupes and publishes each one. Without -s requests go unsigned (for a ceiling server such
 * as nginx `return 204`). Prints requests/s of 2xx answers, status counts, p50/p99 latency
 * and, with -P, the server's CPU time per request (from /proc/PID/stat) and peak RSS
 * (VmHWM). Figures only: no pass/fail. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "signing/signing.h"
#include "core/util.h"

typedef struct conn {
    int fd;
    wb_buf out;
    size_t sent;
    wb_buf in;
    int64_t t0_us;
    int busy;
} conn;

static int port = 0, nconn = 64, seconds = 10, body_bytes = 200;
static const char *secret = NULL, *path = "/webhooks/bench", *label = "inbound";
static long server_pid = 0;
static wb_signer *signer;
static unsigned long long seq;
static char run_id[32];
static uint32_t *lat_us;
static size_t nlat, cap_lat;
static unsigned long long status_2xx, status_other, errors;

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void build(conn *c)
{
    char body[8192];
    char id[96];
    snprintf(id, sizeof(id), "msg_%s_%llu", run_id, ++seq);
    int n = snprintf(body, sizeof(body),
                     "{\"type\":\"bench.event\",\"data\":{\"id\":\"%s\",\"pad\":\"", id);
    while (n < body_bytes - 4 && n < (int)sizeof(body) - 8)
        body[n++] = 'x';
    n += snprintf(body + n, sizeof(body) - (size_t)n, "\"}}");
    wb_buf_reset(&c->out);
    c->sent = 0;
    wb_buf_printf(&c->out,
                  "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n",
                  path, n);
    if (signer) {
        int64_t ts = wall_s();
        wb_buf sig;
        wb_buf_init(&sig, 1024);
        wb_signer_signature(signer, id, ts, body, (size_t)n, &sig);
        wb_buf_printf(&c->out,
                      "webhook-id: %s\r\nwebhook-timestamp: %lld\r\nwebhook-signature: %s\r\n", id,
                      (long long)ts, sig.data);
        wb_buf_free(&sig);
    }
    wb_buf_adds(&c->out, "\r\n");
    wb_buf_add(&c->out, body, (size_t)n);
}

static int flush_out(conn *c)
{
    while (c->sent < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (w < 0) return errno == EAGAIN ? 0 : -1;
        c->sent += (size_t)w;
    }
    return 0;
}

/* One complete response in c->in? Returns its status (and consumes it), 0 if incomplete. */
static int take_response(conn *c, int *close_after)
{
    char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t hlen = (size_t)(end - c->in.data) + 4;
    long clen = 0;
    char *cl = strcasestr(c->in.data, "\r\ncontent-length:");
    if (cl && cl < end) clen = strtol(cl + 17, NULL, 10);
    char *conn_close = strcasestr(c->in.data, "\r\nconnection: close");
    *close_after = conn_close && conn_close < end;
    if (c->in.len < hlen + (size_t)clen) return 0;
    int status = (int)strtol(c->in.data + 9, NULL, 10);
    size_t used = hlen + (size_t)clen;
    memmove(c->in.data, c->in.data + used, c->in.len - used);
    c->in.len -= used;
    c->in.data[c->in.len] = '\0';
    return status ? status : -1;
}

static void record(int64_t us)
{
    if (nlat == cap_lat) {
        cap_lat = cap_lat ? cap_lat * 2 : 1 << 20;
        uint32_t *n = realloc(lat_us, cap_lat * sizeof(*n));
        if (!n) return;
        lat_us = n;
    }
    lat_us[nlat++] = (uint32_t)(us > 0xffffffff ? 0xffffffff : us);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int proc_cpu_ticks(long pid, unsigned long long *ticks)
{
    char p[64], buf[2048];
    snprintf(p, sizeof(p), "/proc/%ld/stat", pid);
    FILE *fp = fopen(p, "r");
    if (!fp) return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *s = strrchr(buf, ')');
    if (!s) return -1;
    /* fields after ")": state(3) ... utime(14) stime(15) */
    unsigned long long ut = 0, st = 0;
    int field = 2;
    for (char *t = s + 1; *t; t++) {
        if (*t == ' ') {
            field++;
            if (field == 14)
                ut = strtoull(t + 1, NULL, 10);
            else if (field == 15) {
                st = strtoull(t + 1, NULL, 10);
                break;
            }
        }
    }
    *ticks = ut + st;
    return 0;
}

static long proc_hwm_kb(long pid)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%ld/status", pid);
    FILE *fp = fopen(p, "r");
    if (!fp) return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), fp))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
    fclose(fp);
    return kb;
}

static void reconnect(int ep, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = dial();
    wb_buf_reset(&c->in);
    c->sent = 0;
    if (c->fd < 0) return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "p:c:d:s:u:P:b:n:")) != -1) {
        switch (opt) {
        case 'p':
            port = (int)strtol(optarg, NULL, 10);
            break;
        case 'c':
            nconn = (int)strtol(optarg, NULL, 10);
            break;
        case 'd':
            seconds = (int)strtol(optarg, NULL, 10);
            break;
        case 's':
            secret = optarg;
            break;
        case 'u':
            path = optarg;
            break;
        case 'P':
            server_pid = strtol(optarg, NULL, 10);
            break;
        case 'b':
            body_bytes = (int)strtol(optarg, NULL, 10);
            break;
        case 'n':
            label = optarg;
            break;
        default:
            fprintf(stderr,
                    "usage: %s -p PORT [-c CONN] [-d SEC] [-s SECRET] [-u PATH] "
                    "[-P PID] [-b BYTES] [-n LABEL]\n",
                    argv[0]);
            return 2;
        }
    }
    if (port <= 0 || nconn <= 0 || seconds <= 0) return 2;
    if (secret) {
        char *secrets[] = {(char *)secret};
        wb_signing sg = {.scheme = WB_SCHEME_STANDARD, .secrets = secrets, .nsecrets = 1};
        char err[256];
        signer = wb_signer_new(&sg, err, sizeof(err));
        if (!signer) {
            fprintf(stderr, "signer: %s\n", err);
            return 1;
        }
    }
    snprintf(run_id, sizeof(run_id), "%llx", (unsigned long long)wb_now_us());
    int ep = epoll_create1(0);
    conn *cs = calloc((size_t)nconn, sizeof(*cs));
    for (int i = 0; i < nconn; i++) {
        wb_buf_init(&cs[i].out, 1 << 16);
        wb_buf_init(&cs[i].in, 1 << 20);
        cs[i].fd = -1;
        reconnect(ep, &cs[i]);
        build(&cs[i]);
        cs[i].t0_us = wb_now_us();
        cs[i].busy = 1;
        flush_out(&cs[i]);
    }
    unsigned long long t0_ticks = 0, t1_ticks = 0;
    if (server_pid) proc_cpu_ticks(server_pid, &t0_ticks);
    int64_t start = wb_now_us();
    int64_t stop_at = start + (int64_t)seconds * 1000000;
    int64_t hard_end = stop_at + 10000000;
    int inflight = nconn;
    struct epoll_event evs[256];
    while (inflight > 0 && wb_now_us() < hard_end) {
        int n = epoll_wait(ep, evs, 256, 100);
        int64_t now = wb_now_us();
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT && c->busy && flush_out(c)) {
                errors++;
                reconnect(ep, c);
                build(c);
                continue;
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            int eof = 0;
            for (;;) {
                char buf[16384];
                ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
                if (r > 0) {
                    wb_buf_add(&c->in, buf, (size_t)r);
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) eof = 1;
                break;
            }
            int close_after = 0, st;
            while (c->busy && (st = take_response(c, &close_after)) != 0) {
                if (st >= 200 && st < 300) {
                    status_2xx++;
                    record(now - c->t0_us);
                } else {
                    status_other++;
                }
                c->busy = 0;
            }
            if (eof || close_after) {
                if (c->busy) errors++;
                reconnect(ep, c);
                if (c->busy) { /* lost in flight: resend a fresh one */
                    build(c);
                    c->t0_us = now;
                }
            }
            if (!c->busy) {
                if (now >= stop_at) {
                    inflight--;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    continue;
                }
                build(c);
                c->t0_us = now;
                c->busy = 1;
            }
            if (c->busy && flush_out(c)) {
                errors++;
                reconnect(ep, c);
                build(c);
            }
        }
    }
    int64_t elapsed = wb_now_us() - start;
    if (server_pid) proc_cpu_ticks(server_pid, &t1_ticks);
    qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
    double secs = (double)elapsed / 1e6;
    printf("%s: %d connections, %.1f s: %llu 2xx (%.0f req/s), %llu other status, %llu "
           "connection errors\n",
           label, nconn, secs, status_2xx, (double)status_2xx / secs, status_other, errors);
    if (nlat)
        printf("%s: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", label,
               lat_us[nlat / 2] / 1000.0, lat_us[(size_t)(nlat * 0.99)] / 1000.0,
               lat_us[nlat - 1] / 1000.0);
    if (server_pid) {
        double cpu_us = (double)(t1_ticks - t0_ticks) * 1e6 / (double)sysconf(_SC_CLK_TCK);
        printf("%s: server cpu %.2f s = %.1f us/request, %.0f%% of one core; peak RSS %ld KiB\n",
               label, cpu_us / 1e6, status_2xx ? cpu_us / (double)status_2xx : 0,
               cpu_us / (double)elapsed * 100, proc_hwm_kb(server_pid));
    }
    printf("RESULT %s rps=%.0f\n", label, (double)status_2xx / secs);
    for (int i = 0; i < nconn; i++) {
        if (cs[i].fd >= 0) close(cs[i].fd);
        wb_buf_free(&cs[i].out);
        wb_buf_free(&cs[i].in);
    }
    free(cs);
    free(lat_us);
    wb_signer_free(signer);
    close(ep);
    return 0;
}
