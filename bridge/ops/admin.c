/* admin.c - admin HTTP endpoint: Prometheus scrape, liveness, readiness, added routes.
 *
 * One libmicrohttpd daemon in external-polling mode, driven by the endpoint's own thread
 * (run()): it serves requests, sweeps connections past their deadline and refreshes the
 * webhook_bridge_ready gauge once a second. Every handler runs there, one at a time, and
 * must be quick (none blocks on Kafka).
 *
 * @locks a->lock guards the ready-check, heartbeat and route lists and the token; the
 *        heartbeat timestamps themselves are atomics written lock-free by the loops.
 * @locality lists: any thread (registration), admin thread (reads). */
#include "ops/admin.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/connguard.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/util.h"

#define READY_REASON_MAX 1024
#define RESPONSE_MAX     (16u << 20)
#define DRAIN_MAX        (1u << 20) /* body read and dropped before an early error */
#define TURN_MS          100        /* longest wait of the loop (stop latency) */

typedef struct ready_check {
    STAILQ_ENTRY(ready_check) link;
    char *name;
    wb_ready_fn fn;
    void *ctx;
} ready_check;

struct wb_heartbeat {
    STAILQ_ENTRY(wb_heartbeat) link;
    char *name;
    int64_t stall_ms;
    _Atomic int64_t last_ms; /* wb_now_ms() of the last beat */
};

typedef struct route {
    STAILQ_ENTRY(route) link;
    char method[16];
    char *path;
    size_t plen;
    int prefix, needs_auth;
    wb_admin_handler fn;
    void *ctx;
} route;

struct wb_admin {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t lock;
    /* in the order they were added; under lock */
    STAILQ_HEAD(, ready_check) checks;
    STAILQ_HEAD(, wb_heartbeat) beats;
    STAILQ_HEAD(, route) routes;
    int have_token;
    unsigned char token_digest[32]; /* SHA-256 of admin.token: compared, never the token */
    wb_connguard *guard;
    wb_gauge *ready;
    pthread_t thread;
    int started;
    atomic_int stop;
};

/* One request: what was decided at its head, and its body. */
typedef struct areq {
    wb_conn_slot *slot;
    const route *rt; /* the route to run when the body is in, or NULL */
    int early;       /* an answer decided at the head, given after the body (drained) */
    int early_status;
    const char *early_detail;
    size_t drained;
    wb_buf body;
} areq;

/* ------------------------------------------------------------- responses */

/* Queue body (copied) with status and content type. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             const char *body, size_t len, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow ? allow : "GET, HEAD");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"webhook-bridge admin\"");
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
    if (!s)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14,
                     NULL);
    enum MHD_Result r = reply(conn, status, ctype, s, strlen(s), NULL);
    free(s);
    return r;
}

/* RFC 9457 problem body (problem.h). */
static enum MHD_Result reply_problem(struct MHD_Connection *conn, unsigned status,
                                     const char *detail, const char *url, const char *allow)
{
    wb_buf b;
    wb_buf_init(&b, 8192);
    if (wb_problem_json(&b, (int)status, NULL, detail, url)) {
        wb_buf_free(&b);
        return MHD_NO;
    }
    enum MHD_Result r = reply(conn, status, WB_PROBLEM_CONTENT_TYPE, b.data, b.len, allow);
    wb_buf_free(&b);
    return r;
}

void wb_admin_problem(wb_admin_response *resp, int status, const char *detail)
{
    resp->status = status;
    snprintf(resp->content_type, sizeof(resp->content_type), "%s", WB_PROBLEM_CONTENT_TYPE);
    wb_buf_reset(&resp->body);
    if (wb_problem_json(&resp->body, status, NULL, detail, NULL)) wb_buf_reset(&resp->body);
}

/* -------------------------------------------------------------- built-ins */

static enum MHD_Result serve_metrics(struct MHD_Connection *conn)
{
    wb_buf b;
    wb_buf_init(&b, 0);
    enum MHD_Result r;
    if (wb_metrics_render(&b) != WB_OK) {
        r = reply_problem(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the metrics failed",
                          "/metrics", NULL);
        goto out;
    }
    r = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
              b.len, NULL);
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
    wb_heartbeat *hb;
    STAILQ_FOREACH(hb, &a->beats, link)
    {
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

/* Run every ready check (admin thread); 1 when all pass. checks (or NULL) gets each result. */
static int eval_ready(wb_admin *a, json_t *checks)
{
    int ready = 1;
    wb_buf why;
    wb_buf_init(&why, READY_REASON_MAX);
    pthread_mutex_lock(&a->lock);
    ready_check *c;
    STAILQ_FOREACH(c, &a->checks, link)
    {
        wb_buf_reset(&why);
        int ok = c->fn(c->ctx, &why);
        ready &= ok != 0;
        if (checks)
            json_object_set_new(checks, c->name,
                                json_string(ok        ? "ok"
                                            : why.len ? why.data
                                                      : "not ready"));
    }
    pthread_mutex_unlock(&a->lock);
    wb_buf_free(&why);
    return ready;
}

static enum MHD_Result serve_readyz(wb_admin *a, struct MHD_Connection *conn)
{
    json_t *checks = json_object();
    if (!checks)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14,
                     NULL);
    int ready = eval_ready(a, checks);
    wb_gauge_set(a->ready, ready);
    return reply_json(
        conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
        json_pack("{s:s,s:o}", "status", ready ? "ready" : "not ready", "checks", checks));
}

/* ----------------------------------------------------------------- routes */

static int route_matches_path(const route *rt, const char *url)
{
    return rt->prefix ? !strncmp(url, rt->path, rt->plen) : !strcmp(url, rt->path);
}

static int method_is(const char *method, const char *want)
{
    return !strcmp(method, want) || (!strcmp(method, "HEAD") && !strcmp(want, "GET"));
}

/* Lock held. The route for method + url; else NULL with allow listing the methods of the
 * routes whose path matches ("" when none: 404). */
static const route *find_route(wb_admin *a, const char *method, const char *url, char *allow,
                               size_t n)
{
    allow[0] = 0;
    const route *rt;
    STAILQ_FOREACH(rt, &a->routes, link)
    {
        if (!route_matches_path(rt, url)) continue;
        if (method_is(method, rt->method)) return rt;
        size_t used = strlen(allow);
        if (!strstr(allow, rt->method))
            snprintf(allow + used, n - used, "%s%s", used ? ", " : "", rt->method);
    }
    return NULL;
}

/* Bearer token check in constant time: both sides are hashed first, so neither the length
 * nor a prefix of the token leaks through timing. */
static int token_ok(wb_admin *a, struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
    h += 7;
    while (*h == ' ')
        h++;
    unsigned char d[32];
    unsigned int dl = 0;
    if (!EVP_Digest(h, strlen(h), d, &dl, EVP_sha256(), NULL) || dl != 32) return 0;
    int ok = CRYPTO_memcmp(d, a->token_digest, 32) == 0;
    OPENSSL_cleanse(d, sizeof d);
    return ok;
}

static int builtin(const char *url)
{
    return !strcmp(url, "/metrics") || !strcmp(url, "/healthz") || !strcmp(url, "/readyz");
}

/* The request head is in: decide (built-ins answer at once). */
static enum MHD_Result on_head(wb_admin *a, areq *q, struct MHD_Connection *conn, const char *url,
                               const char *method)
{
    if (builtin(url)) {
        if (!method_is(method, "GET"))
            return reply_problem(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                 "the admin endpoint only answers GET here", url, "GET, HEAD");
        if (!strcmp(url, "/metrics")) return serve_metrics(conn);
        if (!strcmp(url, "/healthz")) return serve_healthz(a, conn);
        return serve_readyz(a, conn);
    }
    char allow[96];
    int status = 0;
    const char *detail = NULL;
    pthread_mutex_lock(&a->lock);
    q->rt = find_route(a, method, url, allow, sizeof allow);
    int have_token = a->have_token;
    int authorized = q->rt && q->rt->needs_auth && have_token && token_ok(a, conn);
    pthread_mutex_unlock(&a->lock);
    if (!q->rt) {
        if (allow[0])
            return reply_problem(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed here", url,
                                 allow);
        status = MHD_HTTP_NOT_FOUND;
        detail = "no such admin endpoint";
    } else if (q->rt->needs_auth && !have_token) {
        status = MHD_HTTP_FORBIDDEN;
        detail = "admin.token is not configured: mutating admin calls are disabled";
    } else if (q->rt->needs_auth && !authorized) {
        status = MHD_HTTP_UNAUTHORIZED;
        detail = "a valid 'Authorization: Bearer <admin.token>' header is required";
    } else {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        long n = 0;
        if (cl && (wb_parse_int(cl, 0, 1L << 40, &n) || n > WB_ADMIN_MAX_BODY)) {
            status = MHD_HTTP_CONTENT_TOO_LARGE;
            detail = "request body over 64 KiB";
        }
    }
    if (status) {
        /* answered after the body (if one is coming and small), so the client reads it */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
        long n = 0;
        int coming = (cl && !wb_parse_int(cl, 1, DRAIN_MAX, &n)) || te;
        if (!coming) return reply_problem(conn, (unsigned)status, detail, url, NULL);
        q->rt = NULL;
        q->early = 1;
        q->early_status = status;
        q->early_detail = detail;
        return MHD_YES;
    }
    wb_buf_init(&q->body, WB_ADMIN_MAX_BODY);
    return MHD_YES;
}

/* The body is in: run the route's handler and send what it filled. */
static enum MHD_Result run_route(areq *q, struct MHD_Connection *conn, const char *url,
                                 const char *method)
{
    wb_admin_request req = {.method = method,
                            .path = url,
                            .body = q->body.data ? q->body.data : "",
                            .body_len = q->body.len,
                            .conn = conn};
    wb_admin_response resp = {.status = 200};
    snprintf(resp.content_type, sizeof resp.content_type, "application/json");
    wb_buf_init(&resp.body, RESPONSE_MAX);
    q->rt->fn(q->rt->ctx, &req, &resp);
    if (resp.status < 100 || resp.status > 999) resp.status = 500;
    enum MHD_Result r = reply(conn, (unsigned)resp.status, resp.content_type,
                              resp.body.data ? resp.body.data : "", resp.body.len, NULL);
    wb_buf_free(&resp.body);
    return r;
}

const char *wb_admin_query(const wb_admin_request *req, const char *name)
{
    return req && req->conn ? MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name)
                            : NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    wb_admin *a = cls;
    areq *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof(*q));
        if (!q) return MHD_NO;
        q->slot = wb_httpd_head_done(conn);
        *con_cls = q;
        return on_head(a, q, conn, url, method);
    }
    if (*upload_data_size) {
        if (q->early) {
            q->drained += *upload_data_size;
        } else if (q->rt && wb_buf_add(&q->body, upload_data, *upload_data_size)) {
            q->rt = NULL; /* chunked body over the bound */
            q->early = 1;
            q->early_status = MHD_HTTP_CONTENT_TOO_LARGE;
            q->early_detail = "request body over 64 KiB";
            q->drained = *upload_data_size;
            wb_buf_free(&q->body);
        }
        *upload_data_size = 0;
        return q->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    if (q->early) {
        q->early = 0;
        return reply_problem(conn, (unsigned)q->early_status, q->early_detail, url, NULL);
    }
    if (q->rt) {
        enum MHD_Result r = run_route(q, conn, url, method);
        q->rt = NULL;
        return r;
    }
    return MHD_YES; /* answered at the head: nothing more to do */
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    areq *q = *con_cls;
    if (!q) return;
    wb_connguard_next(q->slot);
    wb_buf_free(&q->body);
    free(q);
    *con_cls = NULL;
}

/* The admin thread: serve, cut slow clients, refresh the ready gauge about every second. */
static void *run(void *arg)
{
    wb_admin *a = arg;
    int64_t next_ready = 0;
    while (!atomic_load(&a->stop)) {
        MHD_run_wait(a->mhd, TURN_MS);
        int64_t now = wb_now_ms();
        wb_connguard_sweep(a->guard, now);
        if (now >= next_ready) {
            wb_gauge_set(a->ready, eval_ready(a, NULL));
            next_ready = now + 1000;
        }
    }
    return NULL;
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

/* The address to bind for "host:port". Without a host, prefer the IPv4 wildcard result
 * (what "0.0.0.0" means to operators). *res is for freeaddrinfo. */
static struct addrinfo *resolve_listen(const char *listen, long *port_out, struct addrinfo **res,
                                       char *errstr, size_t errstr_size)
{
    char host[256], port[16];
    struct addrinfo hints;
    if (!listen || split_listen(listen, host, sizeof host, port, sizeof port)) {
        snprintf(errstr, errstr_size, "admin.listen: '%s' is not host:port",
                 listen ? listen : "(null)");
        return NULL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, res);
    if (gai) {
        snprintf(errstr, errstr_size, "admin.listen: %s: %s", listen, gai_strerror(gai));
        return NULL;
    }
    wb_parse_int(port, 0, 65535, port_out); /* split_listen checked it */
    for (struct addrinfo *r = *res; r; r = r->ai_next)
        if (!*host && r->ai_family == AF_INET) return r;
    return *res;
}

/* The daemon, polled externally: run() drives it on the admin thread. Probes and scrapes
 * come from a few addresses: 64 connections, 16 per address; a request must be complete 5 s
 * after its start, 10 s with its body. */
static int start_daemon(wb_admin *a, const struct addrinfo *ai, long port)
{
    wb_connguard_conf gc = {.endpoint = "admin",
                            .max_connections = 64,
                            .max_per_ip = 16,
                            .header_timeout_ms = 5000,
                            .request_timeout_ms = 10000};
    a->guard = wb_connguard_new(&gc);
    if (!a->guard) return -1;
    wb_httpd_conf hc = {.log_prefix = "admin microhttpd",
                        .flags = MHD_USE_EPOLL,
                        .addr = ai->ai_addr,
                        .port = (uint16_t)port,
                        .guard = a->guard,
                        .handler = handle,
                        .handler_cls = a,
                        .completed = on_completed,
                        .completed_cls = a,
                        .connection_limit = 80,
                        .connection_timeout_s = 11,
                        .memory_limit = 32768};
    a->mhd = wb_httpd_start(&hc);
    if (!a->mhd) return -1;
    int bound = wb_httpd_port(a->mhd);
    a->port = bound ? bound : (int)port; /* port 0 asks the kernel for one */
    return 0;
}

wb_admin *wb_admin_new(const char *listen, char *errstr, size_t errstr_size)
{
    struct addrinfo *res = NULL;
    wb_admin *a = NULL, *out = NULL;
    long port = 0;
    const struct addrinfo *ai = resolve_listen(listen, &port, &res, errstr, errstr_size);
    if (!ai) goto out;
    a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(errstr, errstr_size, "admin: out of memory");
        goto out;
    }
    pthread_mutex_init(&a->lock, NULL);
    STAILQ_INIT(&a->checks);
    STAILQ_INIT(&a->beats);
    STAILQ_INIT(&a->routes);
    a->ready = wb_metrics_gauge("webhook_bridge_ready",
                                "1 when every readiness check passes (/readyz), else 0; "
                                "evaluated about every second",
                                "");
    if (start_daemon(a, ai, port)) {
        if (a->guard)
            snprintf(errstr, errstr_size, "admin.listen: cannot listen on %s (address in use?)",
                     listen);
        else
            snprintf(errstr, errstr_size, "admin: out of memory");
        goto out;
    }
    register_build_info();
    wb_gauge_set(a->ready, 1); /* no checks yet: ready, as /readyz says */
    if (pthread_create(&a->thread, NULL, run, a)) {
        snprintf(errstr, errstr_size, "admin: cannot start its thread");
        goto out;
    }
    a->started = 1;
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

wb_err wb_admin_set_token(wb_admin *a, const char *token)
{
    unsigned char d[32];
    unsigned int dl = 0;
    int have = token && *token;
    if (have && (!EVP_Digest(token, strlen(token), d, &dl, EVP_sha256(), NULL) || dl != 32))
        return WB_ERR_NOMEM;
    pthread_mutex_lock(&a->lock);
    a->have_token = have;
    if (have) memcpy(a->token_digest, d, 32);
    pthread_mutex_unlock(&a->lock);
    OPENSSL_cleanse(d, sizeof d);
    return WB_OK;
}

wb_err wb_admin_route(wb_admin *a, const char *method, const char *path, int prefix_match,
                      wb_admin_handler fn, void *ctx, int needs_auth)
{
    if (!a || !method || !path || !fn || path[0] != '/' || builtin(path) ||
        strlen(method) >= sizeof(((route *)0)->method) || !*method)
        return WB_ERR_INVALID;
    route *rt = calloc(1, sizeof *rt);
    if (!rt || !(rt->path = wb_strdup(path))) {
        free(rt);
        return WB_ERR_NOMEM;
    }
    snprintf(rt->method, sizeof rt->method, "%s", method);
    rt->plen = strlen(path);
    rt->prefix = prefix_match;
    rt->needs_auth = needs_auth;
    rt->fn = fn;
    rt->ctx = ctx;
    pthread_mutex_lock(&a->lock);
    STAILQ_INSERT_TAIL(&a->routes, rt, link);
    pthread_mutex_unlock(&a->lock);
    return WB_OK;
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
    STAILQ_INSERT_TAIL(&a->checks, c, link);
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
    STAILQ_INSERT_TAIL(&a->beats, hb, link);
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
    atomic_store(&a->stop, 1);
    if (a->started) pthread_join(a->thread, NULL); /* no handler runs after this */
    if (a->mhd) MHD_stop_daemon(a->mhd);
    wb_connguard_free(a->guard);
    ready_check *c;
    while ((c = STAILQ_FIRST(&a->checks))) {
        STAILQ_REMOVE_HEAD(&a->checks, link);
        free(c->name);
        free(c);
    }
    wb_heartbeat *hb;
    while ((hb = STAILQ_FIRST(&a->beats))) {
        STAILQ_REMOVE_HEAD(&a->beats, link);
        free(hb->name);
        free(hb);
    }
    route *rt;
    while ((rt = STAILQ_FIRST(&a->routes))) {
        STAILQ_REMOVE_HEAD(&a->routes, link);
        free(rt->path);
        free(rt);
    }
    OPENSSL_cleanse(a->token_digest, sizeof a->token_digest);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
