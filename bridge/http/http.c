/* outbound/http.c - partner POSTs on libcurl's multi_socket API, driven by a wb_loop.
 *
 * Shape (see outbound/http.h for the contract):
 *   - one CURLM per wb_http. CURLMOPT_SOCKETFUNCTION maps libcurl's wishes onto loop fd
 *     watchers, CURLMOPT_TIMERFUNCTION onto one wb_timer; a ready fd or the timer runs
 *     curl_multi_socket_action() for just that socket, then the finished transfers are
 *     reported. Nothing walks every transfer on a turn.
 *   - a pool of transfers (`wb_http_xfer`), each owning one easy handle for its whole life.
 *     An idle transfer stays on the free list of the target it last served, still carrying
 *     that target's options (URL, timeouts, TLS files, proxy, HTTP version), so a request to
 *     the same target sets only the body and the header list: two pointer stores. A transfer
 *     that moves to another target is reset first, so nothing of one target leaks into
 *     another's request.
 *   - the header list of a request is curl_slist nodes owned by the transfer, pointing into
 *     the transfer's own text buffer, chained in front of the target's constant lines
 *     (rendered once at target creation). Both buffers only grow: once warm, a request
 *     allocates nothing here.
 *   - a CURLSH shared by all transfers for the DNS cache and the TLS session cache (the
 *     connection cache lives in the multi handle).
 *   - the egress guard (egress.h) runs in CURLOPT_OPENSOCKETFUNCTION on the resolved address
 *     and again in CURLOPT_PREREQFUNCTION, which also sees reused connections. With a proxy,
 *     only the proxy may be connected to, and the target host is checked first (below).
 *
 * Requests that fail before they reach libcurl (a proxied target whose host is a denied IP
 * literal) still complete through the callback, from a zero-delay loop timer: never inside
 * wb_http_submit().
 *
 * Thread: everything belongs to the loop's thread; the share handle is only used from there,
 * so it needs no lock callbacks. */
#include "http/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "http/http_int.h"
#include "core/util.h"

#ifndef WB_VERSION
#define WB_VERSION "dev"
#endif

#define MAX_RESPONSE_BODY (1024 * 1024)

static void drain(wb_http *h);

/* ------------------------------------------------------------------------------------------
 * Response callbacks */

/* Discard the response body, counting it; abort past MAX_RESPONSE_BODY. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    wb_http_xfer *x = userdata;
    size_t n = size * nmemb;
    (void)ptr;
    if (x->body_seen + n > MAX_RESPONSE_BODY) {
        x->body_capped = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    x->body_seen += n;
    return n;
}

/* Watch response headers for the status line (a new response: forget older values) and
 * Retry-After. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    wb_http_xfer *x = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";

    if (n >= 5 && !memcmp(buf, "HTTP/", 5)) {
        x->retry_after_ms = -1;
    } else if (n > sizeof(name) - 1 && (buf[0] == 'r' || buf[0] == 'R') &&
               !strncasecmp(buf, name, sizeof(name) - 1)) {
        char val[64];
        size_t vlen = n - (sizeof(name) - 1);
        if (vlen < sizeof(val)) {
            memcpy(val, buf + sizeof(name) - 1, vlen);
            val[vlen] = '\0';
            x->retry_after_ms = wb_http_parse_retry_after(val, (int64_t)time(NULL));
        }
    }
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Transfer pool */

#define SET(e, opt, val)                                                                           \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) return rc;                           \
    } while (0)

/* Options that never change for a transfer; applied at creation and after a reset. */
static CURLcode set_constant_options(wb_http_xfer *x)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
    SET(e, CURLOPT_PRIVATE, x);
    SET(e, CURLOPT_SHARE, x->h->share);
    SET(e, CURLOPT_NOSIGNAL, 1L);
    SET(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SET(e, CURLOPT_FOLLOWLOCATION, 0L);
    SET(e, CURLOPT_SSL_VERIFYPEER, 1L);
    SET(e, CURLOPT_SSL_VERIFYHOST, 2L);
    SET(e, CURLOPT_TCP_KEEPALIVE, 1L);
    SET(e, CURLOPT_TCP_KEEPIDLE, 30L);
    SET(e, CURLOPT_TCP_KEEPINTVL, 15L);
    SET(e, CURLOPT_TCP_NODELAY, 1L);
    /* Proxies are ours to choose, never the environment's: "" disables http_proxy & co.,
     * and an explicit empty NOPROXY keeps NO_PROXY from sending a proxied target direct. */
    SET(e, CURLOPT_PROXY, "");
    SET(e, CURLOPT_NOPROXY, "");
    SET(e, CURLOPT_USERAGENT, "webhook-bridge/" WB_VERSION);
    SET(e, CURLOPT_POST, 1L);
    SET(e, CURLOPT_WRITEFUNCTION, on_body);
    SET(e, CURLOPT_WRITEDATA, x);
    SET(e, CURLOPT_HEADERFUNCTION, on_header);
    SET(e, CURLOPT_HEADERDATA, x);
    SET(e, CURLOPT_OPENSOCKETFUNCTION, wb_http_on_opensocket);
    SET(e, CURLOPT_OPENSOCKETDATA, x);
    SET(e, CURLOPT_CLOSESOCKETFUNCTION, wb_http_on_closesocket);
    SET(e, CURLOPT_CLOSESOCKETDATA, x->h);
    SET(e, CURLOPT_PREREQFUNCTION, wb_http_on_prereq);
    SET(e, CURLOPT_PREREQDATA, x);
    SET(e, CURLOPT_DNS_CACHE_TIMEOUT, 60L);
    return rc;
}

/* The target's options: set when a transfer starts serving t, kept while it does. */
static CURLcode set_target_options(wb_http_xfer *x, const wb_http_target *t)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
    long version = t->http2 == WB_HTTP2_OFF               ? CURL_HTTP_VERSION_1_1
                   : t->http2 == WB_HTTP2_PRIOR_KNOWLEDGE ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                                          : CURL_HTTP_VERSION_2TLS;
    SET(e, CURLOPT_URL, t->url);
    SET(e, CURLOPT_TIMEOUT_MS, t->timeout_ms);
    SET(e, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    SET(e, CURLOPT_PROTOCOLS_STR, t->https_only ? "https" : "http,https");
    SET(e, CURLOPT_HTTP_VERSION, version);
    /* wait for a connection in progress to see whether it multiplexes (HTTP/2) rather than
     * opening a parallel one; HTTP/1.1 targets never wait */
    SET(e, CURLOPT_PIPEWAIT, (long)t->pipewait);
    if (t->one_shot) {
        SET(e, CURLOPT_FRESH_CONNECT, 1L);
        SET(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (t->client_cert) SET(e, CURLOPT_SSLCERT, t->client_cert);
    if (t->client_key) SET(e, CURLOPT_SSLKEY, t->client_key);
    if (t->ca_file) SET(e, CURLOPT_CAINFO, t->ca_file);
    if (t->proxy) SET(e, CURLOPT_PROXY, t->proxy);
    return rc;
}

/* Switch a proxied transfer between probing the host (direct, never sending: every socket
 * is refused and the connection may not be an old one) and the request (via the proxy). */
static CURLcode set_probe(wb_http_xfer *x, int probe)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
    SET(e, CURLOPT_PROXY, probe ? "" : x->t->proxy);
    SET(e, CURLOPT_FRESH_CONNECT, (long)(probe || x->t->one_shot));
    SET(e, CURLOPT_CONNECT_ONLY, (long)probe);
    return rc;
}
#undef SET

static void xfer_destroy(wb_http_xfer *x)
{
    if (!x) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    free(x->nodes);
    free(x->text);
    free(x);
}

/* An idle transfer for t: one already configured for t, else any idle one (reset and
 * configured), else a new one. NULL on allocation or option failure. */
static wb_http_xfer *xfer_get(wb_http *h, wb_http_target *t)
{
    wb_http_xfer *x = STAILQ_FIRST(&t->idle);
    if (x) {
        STAILQ_REMOVE_HEAD(&t->idle, link);
        return x;
    }
    x = STAILQ_FIRST(&h->free);
    if (x) {
        STAILQ_REMOVE_HEAD(&h->free, link);
    } else {
        x = calloc(1, sizeof(*x));
        if (!x) return NULL;
        x->h = h;
        x->easy = curl_easy_init();
        if (!x->easy || set_constant_options(x) != CURLE_OK) {
            xfer_destroy(x);
            return NULL;
        }
        SLIST_INSERT_HEAD(&h->all, x, all_link);
    }
    /* Options of another target (or half-applied ones) go first: a CA file, a client
     * certificate or a proxy must never carry over to a target that did not ask for it. */
    if (x->configured || x->dirty) {
        curl_easy_reset(x->easy);
        x->configured = 0;
        x->dirty = 1;
        if (set_constant_options(x) != CURLE_OK) goto fail;
    }
    x->dirty = 1;
    if (set_target_options(x, t) != CURLE_OK) goto fail;
    x->dirty = 0;
    x->configured = t->id;
    return x;
fail:
    STAILQ_INSERT_HEAD(&h->free, x, link);
    return NULL;
}

/* Back to its target's idle list (still configured for it), dropping the request's
 * reference on the target. */
static void xfer_put(wb_http *h, wb_http_xfer *x)
{
    wb_http_target *t = x->t;
    x->phase = PH_IDLE;
    x->cb = NULL;
    x->opaque = NULL;
    x->t = NULL;
    h->in_flight--;
    if (x->dirty || x->configured != t->id)
        STAILQ_INSERT_HEAD(&h->free, x, link);
    else
        STAILQ_INSERT_HEAD(&t->idle, x, link);
    wb_http_target_unref(t);
}

/* ------------------------------------------------------------------------------------------
 * Loop glue: sockets and the timer */

static void on_io(wb_loop *lp, int fd, unsigned events, void *arg)
{
    wb_http *h = arg;
    int running = 0;
    int mask = (events & WB_LOOP_READ ? CURL_CSELECT_IN : 0) |
               (events & WB_LOOP_WRITE ? CURL_CSELECT_OUT : 0) |
               (events & WB_LOOP_ERROR ? CURL_CSELECT_ERR : 0);
    CURLMcode mc = curl_multi_socket_action(h->multi, fd, mask, &running);
    if (mc != CURLM_OK) WB_ERROR("http: libcurl multi error: %s", curl_multi_strerror(mc));
    drain(h);
}

static void on_timer(wb_loop *lp, void *arg)
{
    wb_http *h = arg;
    int running = 0;
    CURLMcode mc = curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    if (mc != CURLM_OK) WB_ERROR("http: libcurl multi error: %s", curl_multi_strerror(mc));
    drain(h);
}

/* CURLMOPT_SOCKETFUNCTION: libcurl says what it wants to hear about a socket. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    wb_http *h = userp;
    if (what == CURL_POLL_REMOVE) {
        /* Usually a keep-alive connection going back to the pool, to be watched for reading
         * again by the next transfer: parked, that costs no epoll_ctl either way (it was an
         * EPOLL_CTL_DEL and an EPOLL_CTL_ADD per request). Closing it goes through
         * wb_http_on_closesocket. Sockets we did not open (libcurl's resolver wake-up
         * socketpair, which it closes itself) are unregistered at once. */
        if (wb_http_owns(h, s))
            wb_loop_io_park(h->lp, s);
        else
            wb_loop_io_del(h->lp, s);
        return 0;
    }
    unsigned ev =
        (what & CURL_POLL_IN ? WB_LOOP_READ : 0u) | (what & CURL_POLL_OUT ? WB_LOOP_WRITE : 0u);
    wb_err err = wb_loop_io_mod(h->lp, s, ev); /* the common case: a known socket */
    if (err == WB_ERR_NOT_FOUND) err = wb_loop_io_add(h->lp, s, ev, on_io, h);
    if (err) {
        WB_ERROR("http: cannot watch socket %d: %s", (int)s, wb_err_str(err));
        return -1;
    }
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    wb_http *h = userp;
    if (timeout_ms < 0) {
        wb_loop_timer_stop(h->lp, &h->timer);
        return 0;
    }
    return wb_loop_timer_start(h->lp, &h->timer, wb_now_ms() + timeout_ms) ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------
 * Results */

/* Fill res->error for a failed transfer. */
static void describe_failure(const wb_http_xfer *x, CURLcode code, wb_http_result *res)
{
    size_t sz = sizeof(res->error);
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    long oserr = 0;
    curl_off_t connect_us = 0;

    switch (code) {
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
        if (oserr == ECONNREFUSED)
            snprintf(res->error, sz, "connect refused");
        else if (oserr)
            snprintf(res->error, sz, "connect failed: %s", strerror((int)oserr));
        else
            snprintf(res->error, sz, "connect failed: %.120s", detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us == 0 && res->elapsed_us / 1000 < x->t->timeout_ms)
            snprintf(res->error, sz, "connect timeout after %ld ms", x->t->connect_timeout_ms);
        else
            snprintf(res->error, sz, "timeout after %ld ms", x->t->timeout_ms);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(res->error, sz, "DNS: %.120s", detail);
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(res->error, sz, "proxy DNS: %.120s", detail);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(res->error, sz, "unsupported protocol: %.120s", detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(res->error, sz, "TLS: %.120s", detail);
        break;
    default:
        snprintf(res->error, sz, "%.150s", detail);
        break;
    }
}

static void denied_result(const wb_http_xfer *x, wb_http_result *res)
{
    res->cls = WB_HTTP_PERMANENT;
    size_t n = strlen(x->denied);
    memcpy(res->error, "egress denied: ", 15);
    if (n > sizeof(res->error) - 16) n = sizeof(res->error) - 16;
    memcpy(res->error + 15, x->denied, n);
    res->error[15 + n] = '\0';
}

/* Build the result of a finished transfer. No formatting on the success path. */
static void make_result(wb_http_xfer *x, CURLcode code, wb_http_result *res)
{
    long status = 0, version = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    res->curl_code = (int)code;
    res->retry_after_ms = -1;
    res->elapsed_us = wb_now_us() - x->start_us;
    res->error[0] = '\0';
    res->http_version = 0;
    if (status > 0 && curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK)
        res->http_version = version == CURL_HTTP_VERSION_1_0   ? 10
                            : version == CURL_HTTP_VERSION_1_1 ? 11
                            : version == CURL_HTTP_VERSION_2_0 ? 20
                            : version == CURL_HTTP_VERSION_3   ? 30
                                                               : 0;

    /* denied: every address was refused (a host with one internal and one public address
     * whose public one failed is an ordinary connect failure), or the reused connection was */
    if (x->denied[0] && ((code == CURLE_COULDNT_CONNECT && x->n_allowed == 0) ||
                         code == CURLE_ABORTED_BY_CALLBACK)) {
        denied_result(x, res);
        return;
    }
    /* The status is known and final, and the failure came after it: the status decides.
     *  - the response body went over the cap (we aborted it);
     *  - HTTP/2: the server answered before reading the whole request body and reset the
     *    stream, which RFC 9113 section 8.1 allows (RST_STREAM NO_ERROR after a complete
     *    response; nginx does it for `return 204`). libcurl 7.88 reports that as a stream
     *    error although the answer is complete: retrying would duplicate the delivery;
     *  - HTTP/2, same servers: libcurl 7.88 in multi_socket mode may also leave such a
     *    stream, its answer already received, waiting until the timeout (about one request
     *    in 200 against nginx; curl_multi_perform does not show it). The answer counts. */
    int h2 = res->http_version == 20;
    int stalled = h2 && code == CURLE_OPERATION_TIMEDOUT;
    int status_decides = status >= 200 && ((code == CURLE_WRITE_ERROR && x->body_capped) ||
                                           (h2 && code == CURLE_HTTP2_STREAM) || stalled);
    res->cls = wb_http_classify(res->status, status_decides ? CURLE_OK : code);
    if (code != CURLE_OK && !status_decides) {
        describe_failure(x, code, res);
        return;
    }
    if (res->status == 429 || res->status == 503) res->retry_after_ms = x->retry_after_ms;
    if (res->status >= 300 && res->status <= 399) {
        char *location = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &location);
        snprintf(res->error, sizeof(res->error), "HTTP %d (redirect not followed)%s%.100s",
                 res->status, location ? " to " : "", location ? location : "");
    } else if (res->cls != WB_HTTP_DONE) {
        snprintf(res->error, sizeof(res->error), "HTTP %d", res->status);
    } else if (x->body_capped) {
        snprintf(res->error, sizeof(res->error), "response body over %d bytes discarded",
                 MAX_RESPONSE_BODY);
    } else if (stalled) {
        snprintf(res->error, sizeof(res->error),
                 "answered, then the HTTP/2 stream stalled until the %ld ms timeout",
                 x->t->timeout_ms);
    }
}

/* Recycle x, then fire its callback (which may submit again and get x back). */
static void complete(wb_http *h, wb_http_xfer *x, const wb_http_result *res)
{
    wb_http_done_cb cb = x->cb;
    void *opaque = x->opaque;
    xfer_put(h, x);
    cb(opaque, res);
}

/* A probe finished: every address of the target's host name was seen by the guard. */
static void probe_done(wb_http *h, wb_http_xfer *x)
{
    wb_http_result res;
    memset(&res, 0, sizeof(res));
    curl_multi_remove_handle(h->multi, x->easy);
    if (!x->denied[0]) {
        /* allowed, or the name does not resolve here (the proxy may know it): ask the proxy */
        x->phase = PH_REQUEST;
        x->errbuf[0] = '\0';
        if (set_probe(x, 0) == CURLE_OK && curl_multi_add_handle(h->multi, x->easy) == CURLM_OK)
            return;
        x->dirty = 1;
        res.cls = WB_HTTP_PERMANENT;
        snprintf(res.error, sizeof(res.error), "cannot start the proxied request");
    } else {
        denied_result(x, &res);
    }
    res.retry_after_ms = -1;
    res.curl_code = CURLE_COULDNT_CONNECT;
    res.elapsed_us = wb_now_us() - x->start_us;
    complete(h, x, &res);
}

/* Report every finished transfer. */
static void drain(wb_http *h)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(h->multi, &left))) {
        wb_http_xfer *x = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        CURLcode code = msg->data.result; /* msg is gone once the handle is removed */
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x) continue;
        if (x->phase == PH_PROBE) {
            probe_done(h, x);
            continue;
        }
        if (x->phase != PH_REQUEST) continue;
        wb_http_result res;
        make_result(x, code, &res);
        curl_multi_remove_handle(h->multi, x->easy);
        complete(h, x, &res);
    }
}

/* Kick timer: complete the requests that failed before libcurl saw them. */
static void on_kick(wb_loop *lp, void *arg)
{
    wb_http *h = arg;
    /* Each is taken off the queue as it completes, so a callback that cancels another
     * queued one finds it there; the budget keeps a callback that queues more from holding
     * the loop (what it queues restarts the kick). */
    size_t budget = 0;
    wb_http_xfer *x;
    STAILQ_FOREACH(x, &h->failq, link)
    budget++;
    while (budget-- > 0 && (x = STAILQ_FIRST(&h->failq))) {
        STAILQ_REMOVE_HEAD(&h->failq, link);
        wb_http_result res;
        memset(&res, 0, sizeof(res));
        denied_result(x, &res);
        res.retry_after_ms = -1;
        res.curl_code = CURLE_COULDNT_CONNECT;
        res.elapsed_us = wb_now_us() - x->start_us;
        complete(h, x, &res);
    }
}

/* ------------------------------------------------------------------------------------------
 * Client */

static wb_err apply_limits(wb_http *h, const wb_http_opts *opts)
{
    if (curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          (long)opts->max_total_connections) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)opts->max_total_connections) !=
            CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)opts->max_host_connections) != CURLM_OK)
        return WB_ERR_HTTP;
    return WB_OK;
}

wb_http *wb_http_new(wb_loop *lp, const wb_http_opts *opts, char *errstr, size_t errstr_size)
{
    wb_http *h = NULL, *ret = NULL;
    int global = 0;

    if (!lp || !opts || opts->max_total_connections < 1 || opts->max_host_connections < 0) {
        snprintf(errstr, errstr_size, "max_total_connections must be >= 1");
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(errstr, errstr_size, "curl_global_init failed");
        goto out;
    }
    global = 1;
    h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    h->lp = lp;
    STAILQ_INIT(&h->free);
    STAILQ_INIT(&h->failq);
    SLIST_INIT(&h->all);
    wb_timer_init(&h->timer, on_timer, h);
    wb_timer_init(&h->kick, on_kick, h);
    h->multi = curl_multi_init();
    h->share = curl_share_init();
    if (!h->multi || !h->share) {
        snprintf(errstr, errstr_size, "libcurl: cannot create multi/share handle");
        goto out;
    }
    if (curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        snprintf(errstr, errstr_size, "libcurl: cannot configure share handle");
        goto out;
    }
    if (apply_limits(h, opts) ||
        curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
        snprintf(errstr, errstr_size, "libcurl: cannot configure multi handle");
        goto out;
    }
    ret = h;
    h = NULL;
    global = 0;
out:
    if (h) {
        if (h->multi) curl_multi_cleanup(h->multi);
        if (h->share) curl_share_cleanup(h->share);
        free(h);
    }
    if (global) curl_global_cleanup();
    return ret;
}

wb_err wb_http_set_limits(wb_http *h, const wb_http_opts *opts)
{
    if (!h || !opts || opts->max_total_connections < 1 || opts->max_host_connections < 0)
        return WB_ERR_INVALID;
    return apply_limits(h, opts);
}

void wb_http_free(wb_http *h)
{
    if (!h) return;
    /* Abort what still runs (no callbacks); their target references go with them. */
    wb_http_xfer *x;
    SLIST_FOREACH(x, &h->all, all_link)
    {
        if (x->phase == PH_PROBE || x->phase == PH_REQUEST)
            curl_multi_remove_handle(h->multi, x->easy);
        if (x->phase != PH_IDLE) {
            x->phase = PH_IDLE;
            wb_http_target *t = x->t;
            x->t = NULL;
            wb_http_target_unref(t);
        }
    }
    /* easies first (they reference the share), then the multi (connection cache, closing
     * sockets through on_socket), then the share */
    while ((x = SLIST_FIRST(&h->all))) {
        SLIST_REMOVE_HEAD(&h->all, all_link);
        xfer_destroy(x);
    }
    curl_multi_cleanup(h->multi);
    curl_share_cleanup(h->share);
    free(h->owned);
    wb_loop_timer_stop(h->lp, &h->timer);
    wb_loop_timer_stop(h->lp, &h->kick);
    free(h);
    curl_global_cleanup();
}

int wb_http_in_flight(const wb_http *h)
{
    return h ? h->in_flight : 0;
}

/* ------------------------------------------------------------------------------------------
 * Requests */

/* Render the per-request headers into x's buffers, chained in front of t's lines. */
static wb_err render_request(wb_http_xfer *x, const wb_http_target *t, const wb_http_header *hdrs,
                             size_t n, size_t text)
{
    if (n > x->cap_nodes) {
        size_t cap = n < 8 ? 8 : n;
        struct curl_slist *nodes = realloc(x->nodes, cap * sizeof(*nodes));
        if (!nodes) return WB_ERR_NOMEM;
        x->nodes = nodes;
        x->cap_nodes = cap;
    }
    if (text > x->cap_text) {
        size_t cap = text < 1024 ? 1024 : text;
        char *p = realloc(x->text, cap);
        if (!p) return WB_ERR_NOMEM;
        x->text = p;
        x->cap_text = cap;
    }
    char *p = x->text;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(hdrs[i].name), vl = strlen(hdrs[i].value);
        x->nodes[i].data = p;
        x->nodes[i].next = i + 1 < n ? &x->nodes[i + 1] : t->headers;
        p += wb_http_header_render(p, hdrs[i].name, nl, hdrs[i].value, vl);
    }
    return WB_OK;
}

wb_err wb_http_submit(wb_http *h, wb_http_target *t, const wb_http_header *hdrs, size_t nhdrs,
                      const void *body, size_t body_len, wb_http_done_cb cb, void *opaque,
                      wb_http_xfer **xp)
{
    size_t text = 0;
    if (!h || !t || !cb || (!body && body_len) || (nhdrs && !hdrs)) return WB_ERR_INVALID;
    for (size_t i = 0; i < nhdrs; i++) {
        size_t nl, vl;
        if (!wb_http_header_check(hdrs[i].name, hdrs[i].value, &nl, &vl)) return WB_ERR_INVALID;
        text += nl + vl + 3;
    }
    wb_http_xfer *x = xfer_get(h, t);
    if (!x) return WB_ERR_NOMEM;
    /* from here x holds a reference on t and counts as in flight; xfer_put undoes both */
    x->t = t;
    t->refs++;
    h->in_flight++;
    x->cb = cb;
    x->opaque = opaque;
    x->retry_after_ms = -1;
    x->body_seen = 0;
    x->body_capped = 0;
    x->denied[0] = '\0';
    x->n_allowed = 0;
    x->errbuf[0] = '\0';
    x->start_us = wb_now_us();

    wb_err err = render_request(x, t, hdrs, nhdrs, text);
    if (err) goto fail;
    CURLcode rc = curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, nhdrs ? x->nodes : t->headers);
    if (!rc) rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body ? body : "");
    if (!rc)
        rc = curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)(body ? body_len : 0));
    if (rc) {
        err = rc == CURLE_OUT_OF_MEMORY ? WB_ERR_NOMEM : WB_ERR_HTTP;
        goto fail;
    }
    x->phase = PH_REQUEST;
    if (t->proxy && t->host_denied[0]) {
        /* a denied literal: no connection at all; the callback comes from the kick timer */
        snprintf(x->denied, sizeof(x->denied), "%s", t->host_denied);
        if (wb_loop_timer_start(h->lp, &h->kick, wb_now_ms())) {
            err = WB_ERR_NOMEM;
            goto fail;
        }
        x->phase = PH_FAILQ;
        STAILQ_INSERT_TAIL(&h->failq, x, link);
        if (xp) *xp = x;
        return WB_OK;
    }
    if (t->proxy) {
        if (t->host_is_name && set_probe(x, 1) == CURLE_OK)
            x->phase = PH_PROBE;
        else if (set_probe(x, 0) != CURLE_OK)
            x->dirty = 1;
    }
    if (x->dirty || curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        err = WB_ERR_HTTP;
        goto fail;
    }
    if (xp) *xp = x;
    return WB_OK;
fail:
    x->phase = PH_IDLE;
    xfer_put(h, x);
    return err;
}

void wb_http_cancel(wb_http *h, wb_http_xfer *x)
{
    if (!h || !x) return;
    switch (x->phase) {
    case PH_PROBE:
    case PH_REQUEST:
        curl_multi_remove_handle(h->multi, x->easy);
        break;
    case PH_FAILQ:
        STAILQ_REMOVE(&h->failq, x, wb_http_xfer, link);
        break;
    default:
        return; /* idle: not a running request */
    }
    xfer_put(h, x);
}
