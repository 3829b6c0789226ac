/* listener.c - inbound HTTP listener on libmicrohttpd: the daemon, its callbacks (head,
 * body, drain, completion, connection limits) and the life cycle. What follows a complete
 * body (verify, dedupe, publish, the wait for the broker, the answers) is in
 * listener_publish.c, the pure route decision in listener_route.c, the types they share in
 * listener_int.h.
 *
 * Lifetimes (the delicate part):
 * - `request` is per HTTP request: created at MHD's first call, freed in on_completed.
 * - While a request waits for Kafka its connection is suspended, so MHD cannot complete (and
 *   free) it. A `ticket` carries the wait: it is the produce opaque, sits in the shared
 *   pending list (deadline order: one timeout for all, so FIFO), and points at the request.
 *   Whoever detaches the request from the ticket under shared->lock (the delivery report,
 *   the timer on timeout, or free on shutdown) stores the outcome and resumes the connection;
 *   nobody else touches that request afterwards.
 * - The ticket itself is freed by the delivery report only (it fires exactly once).
 * - `shared` (lock, pending list, dedupe caches) is reference-counted: the listener holds one
 *   reference and every ticket one, so a delivery report arriving after wb_listener_free
 *   still finds its lock and its dedupe cache. */
#include "inbound/listener.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "inbound/listener_int.h"
#include "core/log.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------------
 * MHD callbacks
 * ---------------------------------------------------------------------------------------- */

/* An error found before the body (route, header stage of verification). When the client
 * is sending a body without waiting for 100 Continue, read and discard it first (up to
 * DRAIN_MAX), then answer: answering now makes libmicrohttpd close the connection with
 * unread data in the socket, which the kernel turns into a reset that the client sees
 * instead of the answer (issue 9.14). */
static enum MHD_Result early_error(request *r, const char *url, int status, const char *slug,
                                   const char *detail, int retry_after, const wb_route *rt)
{
    struct MHD_Connection *c = r->conn;
    const char *te = wb_listener_header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = wb_listener_header(c, MHD_HTTP_HEADER_EXPECT);
    int body_coming = (rt->length > 0 && (unsigned long long)rt->length <= DRAIN_MAX) ||
                      (rt->length < 0 && te && strcasecmp(te, "identity"));
    if (!body_coming || (expect && !strcasecmp(expect, "100-continue"))) {
        r->phase = P_DONE;
        return wb_listener_problem(r, url, status, slug, detail, retry_after);
    }
    r->phase = P_DRAIN;
    r->drain_status = status;
    r->drain_slug = slug;
    r->drain_retry = retry_after;
    snprintf(r->drain_detail, sizeof(r->drain_detail), "%s", detail ? detail : "");
    return MHD_YES;
}

/* Switch a request whose body turned out bad (too large, too late) to draining. */
static void start_drain(request *r, int status, const char *slug, const char *detail)
{
    r->phase = P_DRAIN;
    r->drain_status = status;
    r->drain_slug = slug;
    r->drain_retry = 0;
    snprintf(r->drain_detail, sizeof(r->drain_detail), "%s", detail);
    wb_buf_free(&r->body);
}

/* First call for a request: its head is complete. Route, header stage of verification. */
static enum MHD_Result on_head(wb_listener *l, request *r, const char *method, const char *url)
{
    struct MHD_Connection *c = r->conn;
    wb_route rt;
    wb_listener_route(l->cfg, method, url, wb_listener_header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
                      wb_listener_header(c, MHD_HTTP_HEADER_CONTENT_LENGTH), &rt);
    r->connector = rt.connector; /* 405/413/415 count under their connector */
    if (rt.status) return early_error(r, url, rt.status, rt.slug, rt.detail, 0, &rt);
    inconn *ic = &l->in[rt.connector];
    r->form = rt.form;
    /* Signature headers present and well formed, timestamp fresh: before a byte of body is
     * buffered (the full check needs the body, below). */
    wb_verify_result vr;
    wb_err err =
        wb_verifier_precheck(atomic_load(&ic->v), wb_listener_header, c, (int64_t)time(NULL), &vr);
    if (err) {
        wb_counter *m = err == WB_ERR_SIGNATURE ? ic->m.verify_signature
                        : err == WB_ERR_STALE   ? ic->m.verify_stale
                                                : ic->m.verify_malformed;
        wb_counter_inc(m);
        int st = err == WB_ERR_SIGNATURE || err == WB_ERR_STALE ? 401 : 400;
        const char *slug = err == WB_ERR_STALE       ? "stale-timestamp"
                           : err == WB_ERR_SIGNATURE ? "signature"
                                                     : "malformed";
        return early_error(r, url, st, slug, vr.reason[0] ? vr.reason : wb_err_str(err), 0, &rt);
    }
    const wb_connector *k = ic->k;
    size_t max = k->max_body ? k->max_body : 1024 * 1024;
    wb_buf_init(&r->body, max);
    /* One allocation when the length is known (saves the doubling copies). */
    if (rt.length > 0 && wb_buf_reserve(&r->body, (size_t)rt.length)) return MHD_NO;
    wb_buf_init(&r->avro, 0);
    return MHD_YES; /* MHD sends 100 Continue when asked, then the body arrives */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    wb_listener *l = cls;
    request *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        r->conn = c;
        r->connector = -1;
        r->start_ms = wb_now_ms();
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->slot = ci ? ci->socket_context : NULL;
        wb_connguard_head_done(r->slot);
        *con_cls = r;
        atomic_fetch_add(&l->active, 1);
        return on_head(l, r, method, url);
    }

    if (r->waiting) return wb_listener_finish(l, r, url);
    if (r->phase == P_DONE) { /* error already queued; swallow whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->phase == P_DRAIN) {
        if (*upload_data_size) {
            r->drained += *upload_data_size;
            *upload_data_size = 0;
            /* past the bound: close rather than read an unbounded body */
            return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
        }
        r->phase = P_DONE;
        return wb_listener_problem(r, url, r->drain_status, r->drain_slug, r->drain_detail,
                                   r->drain_retry);
    }

    if (*upload_data_size) {
        if (wb_connguard_expired(r->slot, wb_now_ms()))
            start_drain(r, 408, "timeout", "request_timeout exceeded");
        else if (wb_buf_add(&r->body, upload_data, *upload_data_size))
            start_drain(r, 413, "too-large", "body exceeds max_body");
        else
            *upload_data_size = 0;
        if (r->phase == P_DRAIN) {
            r->drained = *upload_data_size;
            *upload_data_size = 0;
        }
        return MHD_YES;
    }

    /* body complete */
    if (wb_connguard_expired(r->slot, wb_now_ms())) {
        r->phase = P_DONE;
        return wb_listener_problem(r, url, 408, "timeout", "request_timeout exceeded", 0);
    }
    return wb_listener_process(l, r, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    wb_listener *l = cls;
    request *r = *con_cls;
    if (!r) return;
    if (r->status) {
        inmetrics *m = r->connector >= 0 ? &l->in[r->connector].m : &l->unknown;
        for (size_t i = 0; i < NSTATUS; i++)
            if (counted_status[i] == r->status && m->requests[i]) wb_counter_inc(m->requests[i]);
    }
    wb_connguard_next(r->slot); /* the next request on this connection starts now */
    wb_buf_free(&r->body);
    wb_buf_free(&r->avro);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&l->active, 1);
}

/* Over max_connections or max_connections_per_ip a new connection is closed at once (MHD
 * itself would merely stop accepting and leave clients hanging in the kernel's backlog). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    wb_listener *l = cls;
    return wb_connguard_admit(l->guard, addr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    wb_listener *l = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        *socket_context =
            fd ? wb_connguard_open(l->guard, fd->connect_fd, ad ? ad->client_addr : NULL) : NULL;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        wb_connguard_close(l->guard, *socket_context);
        *socket_context = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    WB_DEBUG("microhttpd: %s", msg);
}

/* ------------------------------------------------------------------------------------------
 * Life cycle
 * ---------------------------------------------------------------------------------------- */

/* "host:port", "[v6]:port", ":port" -> sockaddr. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, char *errstr, size_t n)
{
    char host[256] = "";
    const char *port;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host)) goto bad;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        port = e + 2;
    } else {
        const char *e = strrchr(s, ':');
        if (!e || (size_t)(e - s) >= sizeof(host)) goto bad;
        memcpy(host, s, (size_t)(e - s));
        port = e + 1;
    }
    long p;
    if (wb_parse_int(port, 0, 65535, &p)) goto bad;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai || !res) {
        snprintf(errstr, n, "inbound.listen: %s: %s", s, gai_strerror(gai));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(errstr, n, "inbound.listen: '%s' is not host:port", s);
    return -1;
}

/* Register the metric series of one connector ("-" for requests that match none). */
static void metrics_register(inmetrics *m, const char *name)
{
    char lb[512];
    for (size_t i = 0; i < NSTATUS; i++) {
        snprintf(lb, sizeof(lb), "connector=\"%s\",status=\"%d\"", name, counted_status[i]);
        m->requests[i] = wb_metrics_counter("webhook_bridge_inbound_requests_total",
                                            "Inbound webhook requests by answer status", lb);
    }
    if (!strcmp(name, "-")) return;
    static const char vhelp[] = "Inbound requests failing verification, by reason class";
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"signature\"", name);
    m->verify_signature =
        wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"stale\"", name);
    m->verify_stale = wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\",reason=\"malformed\"", name);
    m->verify_malformed =
        wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", vhelp, lb);
    snprintf(lb, sizeof(lb), "connector=\"%s\"", name);
    m->duplicates = wb_metrics_counter("webhook_bridge_inbound_duplicates_total",
                                       "Duplicate deliveries answered without publishing", lb);
    m->dedupe_evictions =
        wb_metrics_counter("webhook_bridge_inbound_dedupe_evictions_total",
                           "Delivery ids forgotten before their dedupe_ttl to stay in bounds", lb);
    m->in_flight_conflicts =
        wb_metrics_counter("webhook_bridge_inbound_in_flight_conflicts_total",
                           "Deliveries answered 409 while the same id was being published", lb);
    m->publish_seconds =
        wb_metrics_histogram("webhook_bridge_inbound_publish_seconds",
                             "Time from produce to the broker's delivery report", lb, NULL, 0);
}

static void free_inconns(wb_listener *l)
{
    if (!l->in) return;
    for (size_t i = 0; i < l->cfg->nconnectors; i++) {
        if (!l->in[i].k) continue;
        wb_verifier_free(atomic_load(&l->in[i].v));
        pthread_mutex_destroy(&l->in[i].rl_lock);
    }
    free(l->in);
    l->in = NULL;
    for (size_t i = 0; i < l->nretired; i++)
        wb_verifier_free(l->retired[i]);
    free(l->retired);
    free(l->retired_at);
    l->retired = NULL;
    l->retired_at = NULL;
    l->nretired = 0;
}

wb_listener *wb_listener_new(const wb_config *cfg, wb_producer *prod, char *errstr,
                             size_t errstr_size)
{
    wb_listener *l = calloc(1, sizeof(*l));
    shared *sh = calloc(1, sizeof(*sh));
    if (!l || !sh) {
        free(l);
        free(sh);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    l->cfg = cfg;
    l->prod = prod;
    l->sh = sh;
    pthread_mutex_init(&l->schemas_lock, NULL);
    sh->refs = 1;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh->cond, &ca);
    pthread_condattr_destroy(&ca);

    if (!cfg->inbound.listen) {
        snprintf(errstr, errstr_size, "inbound.listen is not set");
        goto fail;
    }
    size_t nin = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        nin += cfg->connectors[i].direction == WB_DIR_INBOUND;
    l->in = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*l->in));
    sh->dd = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*sh->dd));
    if (!l->in || !sh->dd) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    sh->ndd = cfg->nconnectors;
    size_t per = nin ? DEDUPE_TOTAL_ENTRIES / nin : DEDUPE_TOTAL_ENTRIES;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *k = &cfg->connectors[i];
        if (k->direction != WB_DIR_INBOUND) continue;
        if (!k->topic) {
            snprintf(errstr, errstr_size, "inbound connector %s: no topic", k->name);
            goto fail;
        }
        char verr[256] = "";
        wb_verifier *v = wb_verifier_new(&k->signing, verr, sizeof(verr));
        atomic_store(&l->in[i].v, v);
        if (!v) {
            snprintf(errstr, errstr_size, "inbound connector %s: %s", k->name, verr);
            goto fail;
        }
        l->in[i].k = k;
        if (k->schema && !l->schemas) {
            char serr[512] = "";
            l->schemas =
                wb_schemas_new(cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas",
                               NULL, NULL, NULL, NULL, serr, sizeof(serr));
            if (!l->schemas) {
                snprintf(errstr, errstr_size, "inbound connector %s: schema: %s", k->name, serr);
                goto fail;
            }
        }
        if (k->schema && wb_schemas_id_of(l->schemas, k->schema) < 0) {
            snprintf(errstr, errstr_size, "inbound connector %s: schema %s is not in the manifest",
                     k->name, k->schema);
            goto fail;
        }
        metrics_register(&l->in[i].m, k->name);
        snprintf(l->in[i].source, sizeof(l->in[i].source), "webhook-bridge/%s", k->name);
        pthread_mutex_init(&l->in[i].rl_lock, NULL);
        l->in[i].tokens = k->rate_per_s < 1 ? 1 : k->rate_per_s;
        l->in[i].rl_last_us = wb_now_us();
        if (k->signing.scheme == WB_SCHEME_NONE)
            WB_WARN("inbound connector %s accepts UNSIGNED requests (scheme none, insecure)",
                    k->name);
        int64_t ttl = k->dedupe_ttl_ms > 0 ? k->dedupe_ttl_ms : 86400000;
        sh->dd[i] = wb_dedupe_new(per, ttl, NULL, NULL);
        if (!sh->dd[i]) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
        wb_dedupe_set_eviction_counter(sh->dd[i], l->in[i].m.dedupe_evictions);
    }

    metrics_register(&l->unknown, "-");

    struct sockaddr_storage ss;
    if (parse_listen(cfg->inbound.listen, &ss, errstr, errstr_size)) goto fail;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    int threads = cfg->inbound.threads > 0 ? cfg->inbound.threads : 2;
    l->publish_timeout_ms =
        cfg->inbound.publish_timeout_ms > 0 ? cfg->inbound.publish_timeout_ms : 10000;
    l->request_timeout_ms =
        cfg->inbound.request_timeout_ms > 0 ? cfg->inbound.request_timeout_ms : 30000;
    int64_t header_ms = cfg->inbound.header_timeout_ms > 0 ? cfg->inbound.header_timeout_ms : 10000;
    if (header_ms > l->request_timeout_ms) header_ms = l->request_timeout_ms;
    /* MHD's idle timeout is only a backstop now: the guard's deadlines are shorter */
    int64_t to_s = (l->request_timeout_ms + 999) / 1000 + 1;
    size_t max_header = cfg->inbound.max_header ? cfg->inbound.max_header : 16384;
    l->max_conn = cfg->inbound.max_connections > 0 ? cfg->inbound.max_connections : 1024;
    l->max_record = wb_config_kafka_max_message(cfg);
    wb_connguard_conf gc = {.endpoint = "inbound",
                            .max_connections = l->max_conn,
                            .max_per_ip = cfg->inbound.max_connections_per_ip,
                            .header_timeout_ms = header_ms,
                            .request_timeout_ms = l->request_timeout_ms};
    if (!(l->guard = wb_connguard_new(&gc))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    sh->guard = l->guard;
    l->d = MHD_start_daemon(
        flags, 0, on_accept, l, on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        /* MHD's own cap is a backstop (split between the pool's threads); on_accept refuses */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(l->max_conn + 16 * threads),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)to_s,
        /* the per-connection pool holds the read buffer and the request headers */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(max_header + 8192),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!l->d) {
        snprintf(errstr, errstr_size, "inbound: cannot listen on %s", cfg->inbound.listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = di ? di->port : 0;
    if (pthread_create(&l->timer, NULL, wb_listener_timer_run, sh)) {
        snprintf(errstr, errstr_size, "inbound: cannot start the timer thread");
        goto fail;
    }
    l->timer_started = 1;
    WB_INFO("inbound listener on %s (port %d), %zu connector(s), %d thread(s)", cfg->inbound.listen,
            l->port, nin, threads);
    return l;
fail:
    if (l->d) MHD_stop_daemon(l->d);
    sh->guard = NULL;
    wb_connguard_free(l->guard);
    free_inconns(l);
    wb_listener_shared_unref(sh);
    if (l->schemas) wb_schemas_free(l->schemas);
    pthread_mutex_destroy(&l->schemas_lock);
    free(l);
    return NULL;
}

/* Free the verifiers replaced long enough ago that no request can still be using one: a
 * request loads its connector's verifier and is done with it before its request_timeout
 * (the connection guard cuts it there), so a grace period of that plus a margin is enough.
 * Without this every SIGHUP kept the old verifiers (and their keys) until exit. */
static void reap_retired(wb_listener *l)
{
    int64_t grace = l->cfg->inbound.request_timeout_ms + 1000, now = wb_now_ms();
    size_t k = 0;
    for (size_t i = 0; i < l->nretired; i++) {
        if (now - l->retired_at[i] > grace) {
            wb_verifier_free(l->retired[i]);
            continue;
        }
        l->retired[k] = l->retired[i];
        l->retired_at[k] = l->retired_at[i];
        k++;
    }
    l->nretired = k;
}

size_t wb_listener_retired(wb_listener *l)
{
    reap_retired(l);
    return l->nretired;
}

wb_err wb_listener_reload(wb_listener *l, const wb_config *cfg, char *errstr, size_t errstr_size)
{
    size_t n = l->cfg->nconnectors;
    reap_retired(l);
    wb_verifier **fresh = calloc(n ? n : 1, sizeof(*fresh));
    wb_verifier **retired = realloc(l->retired, (l->nretired + n + 1) * sizeof(*retired));
    if (retired) l->retired = retired;
    int64_t *at = retired ? realloc(l->retired_at, (l->nretired + n + 1) * sizeof(*at)) : NULL;
    if (at) l->retired_at = at;
    if (!fresh || !retired || !at) {
        free(fresh);
        snprintf(errstr, errstr_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    /* Build every new verifier first: all or nothing. */
    for (size_t j = 0; j < cfg->nconnectors; j++) {
        const wb_connector *nk = &cfg->connectors[j];
        if (nk->direction != WB_DIR_INBOUND) continue;
        size_t i = 0;
        while (i < n && !(l->in[i].k && !strcmp(l->in[i].k->name, nk->name)))
            i++;
        if (i == n) {
            WB_WARN("reload: new inbound connector %s is served after a restart", nk->name);
            continue;
        }
        char verr[256] = "";
        fresh[i] = wb_verifier_new(&nk->signing, verr, sizeof(verr));
        if (!fresh[i]) {
            snprintf(errstr, errstr_size, "inbound connector %s: %s", nk->name, verr);
            for (size_t k = 0; k < n; k++)
                wb_verifier_free(fresh[k]);
            free(fresh);
            return WB_ERR_CONFIG;
        }
    }
    /* Swap: requests verifying right now finish with the verifier they loaded. */
    int64_t now = wb_now_ms();
    for (size_t i = 0; i < n; i++)
        if (fresh[i]) {
            l->retired_at[l->nretired] = now;
            l->retired[l->nretired++] = atomic_exchange(&l->in[i].v, fresh[i]);
        }
    free(fresh);
    return WB_OK;
}

int wb_listener_port(const wb_listener *l)
{
    return l->port;
}

int wb_listener_active(const wb_listener *l)
{
    return atomic_load(&((wb_listener *)l)->active);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void wb_listener_free(wb_listener *l, int timeout_ms)
{
    if (!l) return;
    shared *sh = l->sh;
    /* 1. stop accepting (the listen socket is ours to close after the stop) */
    MHD_socket lsock = MHD_quiesce_daemon(l->d);
    /* 2. let requests in progress finish */
    int64_t end = wb_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (atomic_load(&l->active) > 0 && wb_now_ms() < end)
        sleep_ms(10);
    /* 3. whoever still waits for the broker gets a 503 */
    pthread_mutex_lock(&sh->lock);
    int forced = 0;
    while (sh->head) {
        struct MHD_Connection *c = wb_listener_expire(sh, sh->head, "shutting down");
        pthread_mutex_unlock(&sh->lock);
        MHD_resume_connection(c);
        forced++;
        pthread_mutex_lock(&sh->lock);
    }
    sh->stop = 1;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    if (forced) {
        WB_WARN("inbound: answered 503 to %d request(s) still waiting for Kafka at shutdown",
                forced);
        end = wb_now_ms() + 1000;
        while (atomic_load(&l->active) > 0 && wb_now_ms() < end)
            sleep_ms(10);
    }
    if (l->timer_started) pthread_join(l->timer, NULL);
    MHD_stop_daemon(l->d);
    if (lsock != MHD_INVALID_SOCKET) close(lsock);
    sh->guard = NULL;
    wb_connguard_free(l->guard); /* the timer (its sweeper) is joined, MHD stopped */
    free_inconns(l);
    wb_listener_shared_unref(sh);
    if (l->schemas) wb_schemas_free(l->schemas);
    pthread_mutex_destroy(&l->schemas_lock);
    free(l);
}
