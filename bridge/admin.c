/* admin.c - admin HTTP endpoint: Prometheus scrape, liveness and readiness.
 *
 * One libmicrohttpd daemon with its internal polling thread answers every request inline
 * (all handlers are quick and never block on Kafka).
 *
 * @locks a->lock guards the ready-check and heartbeat lists; the heartbeat timestamps
 *        themselves are atomics written lock-free by the loops.
 * @locality lists: any thread (registration), admin thread (reads). */
#include "admin.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

#define READY_REASON_MAX 1024

typedef struct ready_check {
    struct ready_check *next;
    char *name;
    wb_ready_fn fn;
    void *ctx;
} ready_check;

struct wb_heartbeat {
    struct wb_heartbeat *next;
    char *name;
    int64_t stall_ms;
    _Atomic int64_t last_ms; /* wb_now_ms() of the last beat */
};

struct wb_admin {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t lock;
    ready_check *checks, *checks_tail;
    wb_heartbeat *beats, *beats_tail;
};

/* ------------------------------------------------------------- responses */

/* Queue body (copied) with status and content type. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Serialize j (stolen) and queue it. */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, const char *ctype,
                                  json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
    enum MHD_Result r = reply(conn, status, ctype, s, strlen(s));
    free(s);
    return r;
}

/* RFC 9457 problem body. */
static enum MHD_Result reply_problem(struct MHD_Connection *conn, unsigned status,
                                     const char *title, const char *detail)
{
    json_t *j = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          (int)status, "detail", detail);
    return reply_json(conn, status, "application/problem+json", j);
}

/* -------------------------------------------------------------- handlers */

static enum MHD_Result serve_metrics(struct MHD_Connection *conn)
{
    wb_buf b;
    wb_buf_init(&b, 0);
    enum MHD_Result r;
    if (wb_metrics_render(&b) != WB_OK) {
        r = reply_problem(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error",
                          "rendering the metrics failed");
        goto out;
    }
    r = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
              b.len);
out:
    wb_buf_free(&b);
    return r;
}

static enum MHD_Result serve_healthz(wb_admin *a, struct MHD_Connection *conn)
{
    json_t *stalled = json_object();
    int64_t now = wb_now_ms();
    char msg[128];
    pthread_mutex_lock(&a->lock);
    for (wb_heartbeat *hb = a->beats; hb; hb = hb->next) {
        int64_t age = now - atomic_load_explicit(&hb->last_ms, memory_order_relaxed);
        if (age > hb->stall_ms) {
            snprintf(msg, sizeof msg, "no heartbeat for %lld ms (limit %lld ms)", (long long)age,
                     (long long)hb->stall_ms);
            json_object_set_new(stalled, hb->name, json_string(msg));
        }
    }
    pthread_mutex_unlock(&a->lock);
    if (!stalled || json_object_size(stalled) == 0) {
        json_decref(stalled);
        return reply_json(conn, MHD_HTTP_OK, "application/json",
                          json_pack("{s:s}", "status", "ok"));
    }
    WB_WARN("healthz: %zu loop(s) stalled", json_object_size(stalled));
    return reply_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                      json_pack("{s:s,s:o}", "status", "stalled", "loops", stalled));
}

static enum MHD_Result serve_readyz(wb_admin *a, struct MHD_Connection *conn)
{
    json_t *checks = json_object();
    int ready = 1;
    wb_buf why;
    wb_buf_init(&why, READY_REASON_MAX);
    pthread_mutex_lock(&a->lock);
    for (ready_check *c = a->checks; c; c = c->next) {
        wb_buf_reset(&why);
        int ok = c->fn(c->ctx, &why);
        if (!ok) {
            ready = 0;
            json_object_set_new(checks, c->name, json_string(why.len ? why.data : "not ready"));
        } else {
            json_object_set_new(checks, c->name, json_string("ok"));
        }
    }
    pthread_mutex_unlock(&a->lock);
    wb_buf_free(&why);
    if (!checks)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
    return reply_json(
        conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
        json_pack("{s:s,s:o}", "status", ready ? "ready" : "not ready", "checks", checks));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    wb_admin *a = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return reply_problem(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed",
                             "the admin endpoint only answers GET");
    if (!strcmp(url, "/metrics")) return serve_metrics(conn);
    if (!strcmp(url, "/healthz")) return serve_healthz(a, conn);
    if (!strcmp(url, "/readyz")) return serve_readyz(a, conn);
    return reply_problem(conn, MHD_HTTP_NOT_FOUND, "Not Found",
                         "known paths: /metrics, /healthz, /readyz");
}

/* ------------------------------------------------------------- lifecycle */

/* Split "host:port" / "[v6]:port" / ":port". host is "" for any address. */
static int split_listen(const char *listen, char *host, size_t hostsize, char *port,
                        size_t portsize)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) return -1;
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hostsize || strlen(colon + 1) >= portsize) return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, portsize, "%s", colon + 1);
    long p;
    return wb_parse_int(port, 0, 65535, &p) == WB_OK ? 0 : -1;
}

static void register_build_info(void)
{
    wb_gauge *g = wb_metrics_gauge("webhook_bridge_build_info",
                                   "Always 1; the version label names the running build.",
                                   "version=\"" WB_VERSION "\"");
    wb_gauge_set(g, 1);
    g = wb_metrics_gauge("webhook_bridge_start_time_seconds",
                         "Start time of the process since the Unix epoch in seconds.", "");
    wb_gauge_set(g, (double)wb_wall_ms() / 1000.0);
}

wb_admin *wb_admin_new(const char *listen, char *errstr, size_t errstr_size)
{
    char host[256], port[16];
    struct addrinfo hints, *res = NULL;
    wb_admin *a = NULL, *out = NULL;
    if (!listen || split_listen(listen, host, sizeof host, port, sizeof port)) {
        snprintf(errstr, errstr_size, "admin.listen: '%s' is not host:port",
                 listen ? listen : "(null)");
        goto out;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (gai) {
        snprintf(errstr, errstr_size, "admin.listen: %s: %s", listen, gai_strerror(gai));
        goto out;
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(errstr, errstr_size, "admin: out of memory");
        goto out;
    }
    pthread_mutex_init(&a->lock, NULL);
    /* Without a host, prefer the IPv4 wildcard result (what "0.0.0.0" means to operators). */
    struct addrinfo *ai = res;
    for (struct addrinfo *r = res; r; r = r->ai_next)
        if (!*host && r->ai_family == AF_INET) {
            ai = r;
            break;
        }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    long p;
    wb_parse_int(port, 0, 65535, &p);
    a->mhd = MHD_start_daemon(flags, (uint16_t)p, NULL, NULL, handle, a, MHD_OPTION_SOCK_ADDR,
                              ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (!a->mhd) {
        snprintf(errstr, errstr_size, "admin.listen: cannot listen on %s (address in use?)",
                 listen);
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : (int)p;
    register_build_info();
    WB_INFO("admin endpoint listening on %s (port %d)", listen, a->port);
    out = a;
    a = NULL;
out:
    if (res) freeaddrinfo(res);
    wb_admin_free(a);
    return out;
}

int wb_admin_port(const wb_admin *a)
{
    return a ? a->port : 0;
}

void wb_admin_add_ready_check(wb_admin *a, const char *name, wb_ready_fn fn, void *ctx)
{
    ready_check *c = calloc(1, sizeof *c);
    if (!c || !(c->name = wb_strdup(name))) {
        free(c);
        WB_ERROR("admin: out of memory adding ready check %s", name);
        return;
    }
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&a->lock);
    if (a->checks_tail)
        a->checks_tail->next = c;
    else
        a->checks = c;
    a->checks_tail = c;
    pthread_mutex_unlock(&a->lock);
}

wb_heartbeat *wb_admin_heartbeat(wb_admin *a, const char *loop_name, int64_t stall_ms)
{
    wb_heartbeat *hb = calloc(1, sizeof *hb);
    if (!hb || !(hb->name = wb_strdup(loop_name))) {
        free(hb);
        WB_ERROR("admin: out of memory adding heartbeat %s", loop_name);
        return NULL;
    }
    hb->stall_ms = stall_ms;
    atomic_init(&hb->last_ms, wb_now_ms());
    pthread_mutex_lock(&a->lock);
    if (a->beats_tail)
        a->beats_tail->next = hb;
    else
        a->beats = hb;
    a->beats_tail = hb;
    pthread_mutex_unlock(&a->lock);
    return hb;
}

void wb_heartbeat_beat(wb_heartbeat *hb)
{
    if (hb) atomic_store_explicit(&hb->last_ms, wb_now_ms(), memory_order_relaxed);
}

void wb_admin_free(wb_admin *a)
{
    if (!a) return;
    if (a->mhd) MHD_stop_daemon(a->mhd); /* joins the admin thread: no handler runs after this */
    for (ready_check *c = a->checks, *n; c; c = n) {
        n = c->next;
        free(c->name);
        free(c);
    }
    for (wb_heartbeat *hb = a->beats, *n; hb; hb = n) {
        n = hb->next;
        free(hb->name);
        free(hb);
    }
    pthread_mutex_destroy(&a->lock);
    free(a);
}
