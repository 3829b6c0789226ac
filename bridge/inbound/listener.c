/* listener.c - inbound HTTP listener on libmicrohttpd: the daemon, its callbacks (head,
 * body, drain, completion) and the life cycle. What follows a complete
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
 *   still finds its lock and its dedupe cache.
 *
 * The daemon and its connection guard are wired by core/httpd.c (shared with the admin
 * endpoint). */
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

#include "core/httpd.h"
#include "core/log.h"
#include "core/util.h"
#include "inbound/listener_int.h"

/* ------------------------------------------------------------------------------------------
 * MHD callbacks
 * ---------------------------------------------------------------------------------------- */

/* Read and drop the rest of the body (P_DRAIN), then give this answer. */
static void drain_then(request *r, int status, const char *slug, const char *detail,
                       int retry_after)
{
    r->phase = P_DRAIN;
    r->drain_status = status;
    r->drain_slug = slug;
    r->drain_retry = retry_after;
    snprintf(r->drain_detail, sizeof(r->drain_detail), "%s", detail ? detail : "");
}

/* An error found before the body (route, header stage of verification). When the client
 * is sending a body without waiting for 100 Continue, read and discard it first (up to
 * DRAIN_MAX), then answer: answering now makes libmicrohttpd close the connection with
 * unread data in the socket, which the kernel turns into a reset that the client sees
 * instead of the answer (issue 9.14). */
static enum MHD_Result early_error(request *r, const char *url, int status, const char *slug,
                                   const char *detail, int retry_after, const wb_route *rt)
{
    const char *te = wb_listener_header(r->conn, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = wb_listener_header(r->conn, MHD_HTTP_HEADER_EXPECT);
    int body_coming = (rt->length > 0 && (unsigned long long)rt->length <= DRAIN_MAX) ||
                      (rt->length < 0 && te && strcasecmp(te, "identity"));
    if (!body_coming || (expect && !strcasecmp(expect, "100-continue"))) {
        r->phase = P_DONE;
        return wb_listener_problem(r, url, status, slug, detail, retry_after);
    }
    drain_then(r, status, slug, detail, retry_after);
    return MHD_YES;
}

/* Switch a request whose body turned out bad (too large, too late) to draining. */
static void start_drain(request *r, int status, const char *slug, const char *detail)
{
    drain_then(r, status, slug, detail, 0);
    wb_buf_free(&r->body);
}

/* First call for a request: its head is complete. Route, header stage of verification. */
static enum MHD_Result on_head(wb_listener *l, request *r, const char *method, const char *url)
{
    struct MHD_Connection *conn = r->conn;
    wb_route rt;
    wb_listener_route(l->cfg, method, url, wb_listener_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE),
                      wb_listener_header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH), &rt);
    r->connector = rt.connector; /* 405/413/415 count under their connector */
    if (rt.connector >= 0) r->cc = &l->cfg->connectors[rt.connector];
    if (rt.status) return early_error(r, url, rt.status, rt.slug, rt.detail, 0, &rt);
    inconn *ic = &l->in[rt.connector];
    r->form = rt.form;
    /* Signature headers present and well formed, timestamp fresh: before a byte of body is
     * buffered (the full check needs the body, below). */
    wb_verify_result res;
    wb_err err = wb_verifier_precheck(atomic_load(&ic->v), wb_listener_header, conn,
                                      (int64_t)time(NULL), &res);
    snprintf(r->delivery_id, sizeof(r->delivery_id), "%s", res.delivery_id); /* for the logs */
    if (err) {
        int status;
        const char *slug;
        wb_listener_verify_failed(ic, err, &status, &slug);
        return early_error(r, url, status, slug, res.reason[0] ? res.reason : wb_err_str(err), 0,
                           &rt);
    }
    size_t max = ic->cc->max_body ? ic->cc->max_body : 1024 * 1024;
    wb_buf_init(&r->body, max);
    /* One allocation when the length is known (saves the doubling copies). */
    if (rt.length > 0 && wb_buf_reserve(&r->body, (size_t)rt.length)) return MHD_NO;
    wb_buf_init(&r->avro, 0);
    return MHD_YES; /* MHD sends 100 Continue when asked, then the body arrives */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    wb_listener *l = cls;
    request *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r) return MHD_NO;
        r->conn = conn;
        r->connector = -1;
        r->start_ms = wb_now_ms();
        r->slot = wb_httpd_head_done(conn); /* from now on request_timeout applies */
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

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
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
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai || !ai) {
        snprintf(errstr, n, "inbound.listen: %s: %s", s, gai_strerror(gai));
        return -1;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
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
        if (!l->in[i].cc) continue;
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

/* Set up inbound connector i of l->cfg: its verifier (a bad secret fails start-up), schema,
 * metrics, rate bucket and a dedupe cache of per_dd entries. -1 + errstr on failure (what was
 * made is freed with the listener). */
static int setup_inconn(wb_listener *l, size_t i, size_t per_dd, char *errstr, size_t errstr_size)
{
    const wb_config *cfg = l->cfg;
    const wb_connector *cc = &cfg->connectors[i];
    inconn *ic = &l->in[i];
    if (!cc->topic) {
        snprintf(errstr, errstr_size, "inbound connector %s: no topic", cc->name);
        return -1;
    }
    char verr[256] = "";
    wb_verifier *v = wb_verifier_new(&cc->signing, verr, sizeof(verr));
    atomic_store(&ic->v, v);
    if (!v) {
        snprintf(errstr, errstr_size, "inbound connector %s: %s", cc->name, verr);
        return -1;
    }
    ic->cc = cc; /* from now on free_inconns frees what ic holds */
    pthread_mutex_init(&ic->rl_lock, NULL);
    wb_tokenbucket_init(&ic->bucket, cc->rate_per_s, 0);
    if (cc->schema && !l->schemas) { /* one schema set for every connector that has one */
        char serr[512] = "";
        l->schemas = wb_schemas_new(cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas",
                                    NULL, NULL, NULL, NULL, serr, sizeof(serr));
        if (!l->schemas) {
            snprintf(errstr, errstr_size, "inbound connector %s: schema: %s", cc->name, serr);
            return -1;
        }
    }
    if (cc->schema && wb_schemas_id_of(l->schemas, cc->schema) < 0) {
        snprintf(errstr, errstr_size, "inbound connector %s: schema %s is not in the manifest",
                 cc->name, cc->schema);
        return -1;
    }
    metrics_register(&ic->m, cc->name);
    snprintf(ic->source, sizeof(ic->source), "webhook-bridge/%s", cc->name);
    if (cc->signing.scheme == WB_SCHEME_NONE) {
        wb_log_fields lf = {.connector = cc->name};
        WB_WARNF(&lf, "inbound connector %s accepts UNSIGNED requests (scheme none, insecure)",
                 cc->name);
    }
    int64_t ttl = cc->dedupe_ttl_ms > 0 ? cc->dedupe_ttl_ms : 86400000;
    shared *sh = l->sh;
    if (!(sh->dd[i] = wb_dedupe_new(per_dd, ttl, NULL, NULL))) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    wb_dedupe_set_eviction_counter(sh->dd[i], ic->m.dedupe_evictions);
    return 0;
}

/* The connection guard and the daemon on ss: limits and timeouts from cfg->inbound, with
 * their defaults. -1 + errstr on failure. */
static int start_daemon(wb_listener *l, const struct sockaddr_storage *ss, int threads,
                        char *errstr, size_t errstr_size)
{
    const wb_config *cfg = l->cfg;
    int64_t header_ms = cfg->inbound.header_timeout_ms > 0 ? cfg->inbound.header_timeout_ms : 10000;
    if (header_ms > l->request_timeout_ms) header_ms = l->request_timeout_ms;
    size_t max_header = cfg->inbound.max_header ? cfg->inbound.max_header : 16384;
    l->max_conn = cfg->inbound.max_connections > 0 ? cfg->inbound.max_connections : 1024;
    wb_connguard_conf gc = {.endpoint = "inbound",
                            .max_connections = l->max_conn,
                            .max_per_ip = cfg->inbound.max_connections_per_ip,
                            .header_timeout_ms = header_ms,
                            .request_timeout_ms = l->request_timeout_ms};
    if (!(l->guard = wb_connguard_new(&gc))) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    l->sh->guard = l->guard;
    wb_httpd_conf hc = {
        .log_prefix = "microhttpd",
        .flags =
            MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_TURBO,
        .addr = (const struct sockaddr *)ss,
        .guard = l->guard,
        .handler = on_request,
        .handler_cls = l,
        .completed = on_completed,
        .completed_cls = l,
        .thread_pool = (unsigned)threads,
        /* MHD's own cap is a backstop (split between the pool's threads); the guard refuses */
        .connection_limit = (unsigned)(l->max_conn + 16 * threads),
        /* MHD's idle timeout is only a backstop now: the guard's deadlines are shorter */
        .connection_timeout_s = (unsigned)((l->request_timeout_ms + 999) / 1000 + 1),
        /* the per-connection pool holds the read buffer and the request headers */
        .memory_limit = max_header + 8192,
        .listen_backlog = 1024};
    if (!(l->d = wb_httpd_start(&hc))) {
        snprintf(errstr, errstr_size, "inbound: cannot listen on %s", cfg->inbound.listen);
        return -1;
    }
    l->port = wb_httpd_port(l->d);
    return 0;
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
    TAILQ_INIT(&sh->pending);
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
    /* the dedupe bound is the listener's: shared out evenly between its connectors */
    size_t per_dd = nin ? DEDUPE_TOTAL_ENTRIES / nin : DEDUPE_TOTAL_ENTRIES;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        if (cfg->connectors[i].direction == WB_DIR_INBOUND &&
            setup_inconn(l, i, per_dd, errstr, errstr_size))
            goto fail;
    metrics_register(&l->unknown, "-");

    struct sockaddr_storage ss;
    if (parse_listen(cfg->inbound.listen, &ss, errstr, errstr_size)) goto fail;
    int threads = cfg->inbound.threads > 0 ? cfg->inbound.threads : 2;
    l->publish_timeout_ms =
        cfg->inbound.publish_timeout_ms > 0 ? cfg->inbound.publish_timeout_ms : 10000;
    l->request_timeout_ms =
        cfg->inbound.request_timeout_ms > 0 ? cfg->inbound.request_timeout_ms : 30000;
    l->max_record = wb_config_kafka_max_message(cfg);
    if (start_daemon(l, &ss, threads, errstr, errstr_size)) goto fail;
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
    size_t kept = 0;
    for (size_t i = 0; i < l->nretired; i++) {
        if (now - l->retired_at[i] > grace) {
            wb_verifier_free(l->retired[i]);
            continue;
        }
        l->retired[kept] = l->retired[i];
        l->retired_at[kept] = l->retired_at[i];
        kept++;
    }
    l->nretired = kept;
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
        const wb_connector *ncc = &cfg->connectors[j]; /* the new config's */
        if (ncc->direction != WB_DIR_INBOUND) continue;
        size_t i = 0;
        while (i < n && !(l->in[i].cc && !strcmp(l->in[i].cc->name, ncc->name)))
            i++;
        if (i == n) {
            wb_log_fields lf = {.connector = ncc->name};
            WB_WARNF(&lf, "reload: new inbound connector %s is served after a restart", ncc->name);
            continue;
        }
        char verr[256] = "";
        fresh[i] = wb_verifier_new(&ncc->signing, verr, sizeof(verr));
        if (!fresh[i]) {
            snprintf(errstr, errstr_size, "inbound connector %s: %s", ncc->name, verr);
            for (size_t f = 0; f < n; f++)
                wb_verifier_free(fresh[f]);
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
    while (!TAILQ_EMPTY(&sh->pending)) {
        struct MHD_Connection *conn =
            wb_listener_expire(sh, TAILQ_FIRST(&sh->pending), "shutting down");
        pthread_mutex_unlock(&sh->lock);
        MHD_resume_connection(conn);
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
