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
#include "outbound/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "outbound/http_int.h"
#include "util.h"

#ifndef WB_VERSION
#define WB_VERSION "dev"
#endif

#define DEFAULT_TIMEOUT_MS         30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define MAX_RESPONSE_BODY          (1024 * 1024)

enum phase {
    PH_IDLE = 0, /* in a free list */
    PH_PROBE,    /* proxied target with a host name: resolving it to check the addresses */
    PH_REQUEST,  /* the request itself, in the multi handle */
    PH_FAILQ,    /* failed before libcurl saw it: completes from the kick timer */
};

struct wb_http_target {
    wb_http *h;
    uint64_t id; /* unique per client: tells a transfer whether its options are ours */
    int refs;
    char *url, *proxy, *client_cert, *client_key, *ca_file;
    struct curl_slist *headers; /* constant lines + "Expect:", one allocation with the text */
    long timeout_ms, connect_timeout_ms;
    int allow_private;
    const wb_egress_policy *policy;
    int https_only;
    wb_http2_mode http2;
    int pipewait;
    /* proxy: the identity of the proxy (port always, address when given as a literal) and
     * the verdict on the target host when it is an IP literal */
    int proxy_literal;
    struct sockaddr_storage proxy_addr;
    int proxy_port;
    int host_is_name;      /* target host is a name: each request resolves and checks it */
    char host_denied[128]; /* target host is a denied literal: why ("" = allowed / a name) */
    wb_http_xfer *idle;    /* idle transfers configured for this target */
};

struct wb_http_xfer {
    CURL *easy;
    wb_http *h;
    wb_http_xfer *next;     /* free list, target idle list or fail queue */
    wb_http_xfer *next_all; /* every transfer, for wb_http_free */
    int phase;
    uint64_t configured; /* id of the target whose options the handle carries, 0 = none */
    int dirty;           /* options half applied: reset before the next use */
    /* per request */
    wb_http_target *t; /* holds a reference while the request runs */
    wb_http_done_cb cb;
    void *opaque;
    int64_t start_us;
    int64_t retry_after_ms; /* from the last response's headers, -1 if none */
    size_t body_seen;       /* response body bytes discarded */
    int body_capped;        /* aborted because the response body was too large */
    char denied[128];       /* first egress denial reason, "" if none */
    int n_allowed;          /* addresses the guard let through (new connections) */
    /* per-request header lines: nodes[] point into text; both only grow */
    struct curl_slist *nodes;
    size_t cap_nodes;
    char *text;
    size_t cap_text;
    char errbuf[CURL_ERROR_SIZE];
};

struct wb_http {
    wb_loop *lp;
    CURLM *multi;
    CURLSH *share;
    wb_timer timer;      /* libcurl's timeout */
    wb_timer kick;       /* completes the fail queue */
    wb_http_xfer *free;  /* idle transfers configured for no live target */
    wb_http_xfer *all;   /* every transfer */
    wb_http_xfer *failq; /* failed before start, waiting for the kick */
    wb_http_xfer **failq_tail;
    uint64_t next_target_id;
    int in_flight;
};

static void drain(wb_http *h);

/* ------------------------------------------------------------------------------------------
 * Egress guard callbacks */

static int sockaddr_from_ip(const char *ip_in, struct sockaddr_storage *ss)
{
    char ip[64];
    char *pct;
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    size_t n = strlen(ip_in ? ip_in : "");
    if (n >= sizeof(ip)) return -1;
    memcpy(ip, ip_in ? ip_in : "", n + 1);
    if ((pct = strchr(ip, '%'))) /* IPv6 zone id */
        *pct = '\0';
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family) return 0;
    if (a->sa_family == AF_INET)
        return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                       &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr));
    if (a->sa_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
    return 0;
}

static int sa_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return -1;
}

/* Is sa (a connection libcurl wants for a proxied request) the configured proxy? libcurl
 * only ever connects to the proxy then (CURLOPT_NOPROXY ""): this is a second lock. */
static int is_proxy(const wb_http_target *t, const struct sockaddr *sa, int port)
{
    if (t->proxy_port > 0 && port != t->proxy_port) return 0;
    if (t->proxy_literal && !same_addr(sa, &t->proxy_addr)) return 0;
    return 1;
}

static void deny(wb_http_xfer *x, const char *why)
{
    if (!x->denied[0]) snprintf(x->denied, sizeof(x->denied), "%s", why);
}

/* Egress guard at connect time, on the resolved address. While probing a proxied target's
 * host name every address is only checked and no socket is opened. */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose,
                                   struct curl_sockaddr *address)
{
    wb_http_xfer *x = clientp;
    const wb_http_target *t = x->t;
    char why[sizeof(x->denied)];

    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    if (x->phase == PH_PROBE) {
        if (!wb_egress_check(t->policy, t->allow_private, &address->addr, why, sizeof(why)))
            deny(x, why);
        return CURL_SOCKET_BAD;
    }
    if (t->proxy) {
        if (!is_proxy(t, &address->addr, sa_port(&address->addr))) {
            deny(x, "connection to an address other than the proxy");
            return CURL_SOCKET_BAD;
        }
    } else if (!wb_egress_check(t->policy, t->allow_private, &address->addr, why, sizeof(why))) {
        deny(x, why);
        WB_DEBUG("egress denied: %s", why);
        return CURL_SOCKET_BAD;
    }
    x->n_allowed++;
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* Egress guard again just before the request is sent: on a NEW connection this repeats the
 * open-socket check; on a REUSED keep-alive connection it is the only check, and it matters:
 * the connection may have been opened by a target with a looser policy (allow_private or an
 * allowlist) to the same host. */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    wb_http_xfer *x = clientp;
    const wb_http_target *t = x->t;
    struct sockaddr_storage ss;
    char why[sizeof(x->denied)];

    if (x->phase == PH_PROBE) return CURL_PREREQFUNC_ABORT; /* never sends anything */
    if (sockaddr_from_ip(conn_primary_ip, &ss)) {
        deny(x, "connection without a known peer address");
        return CURL_PREREQFUNC_ABORT;
    }
    if (t->proxy) {
        if (!is_proxy(t, (struct sockaddr *)&ss, conn_primary_port)) {
            deny(x, "connection to an address other than the proxy");
            return CURL_PREREQFUNC_ABORT;
        }
        return CURL_PREREQFUNC_OK;
    }
    if (!wb_egress_check(t->policy, t->allow_private, (struct sockaddr *)&ss, why, sizeof(why))) {
        deny(x, why);
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

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
    SET(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    SET(e, CURLOPT_OPENSOCKETDATA, x);
    SET(e, CURLOPT_PREREQFUNCTION, on_prereq);
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
    SET(e, CURLOPT_FRESH_CONNECT, (long)probe);
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
    wb_http_xfer *x = t->idle;
    if (x) {
        t->idle = x->next;
        x->next = NULL;
        return x;
    }
    x = h->free;
    if (x) {
        h->free = x->next;
        x->next = NULL;
    } else {
        x = calloc(1, sizeof(*x));
        if (!x) return NULL;
        x->h = h;
        x->easy = curl_easy_init();
        if (!x->easy || set_constant_options(x) != CURLE_OK) {
            xfer_destroy(x);
            return NULL;
        }
        x->next_all = h->all;
        h->all = x;
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
    x->next = h->free;
    h->free = x;
    return NULL;
}

static void target_unref(wb_http_target *t);

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
    if (x->dirty || x->configured != t->id) {
        x->next = h->free;
        h->free = x;
    } else {
        x->next = t->idle;
        t->idle = x;
    }
    target_unref(t);
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
    int capped_with_status = code == CURLE_WRITE_ERROR && x->body_capped && status > 0;
    res->cls = wb_http_classify(res->status, capped_with_status ? CURLE_OK : code);
    if (code != CURLE_OK && !capped_with_status) {
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
    wb_http_xfer *list = h->failq;
    h->failq = NULL;
    h->failq_tail = &h->failq;
    while (list) {
        wb_http_xfer *x = list;
        list = x->next;
        x->next = NULL;
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
    h->failq_tail = &h->failq;
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
    for (wb_http_xfer *x = h->all; x; x = x->next_all) {
        if (x->phase == PH_PROBE || x->phase == PH_REQUEST)
            curl_multi_remove_handle(h->multi, x->easy);
        if (x->phase != PH_IDLE) {
            x->phase = PH_IDLE;
            wb_http_target *t = x->t;
            x->t = NULL;
            x->next = NULL;
            target_unref(t);
        }
    }
    /* easies first (they reference the share), then the multi (connection cache, closing
     * sockets through on_socket), then the share */
    wb_http_xfer *next;
    for (wb_http_xfer *x = h->all; x; x = next) {
        next = x->next_all;
        xfer_destroy(x);
    }
    curl_multi_cleanup(h->multi);
    curl_share_cleanup(h->share);
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
 * Targets */

/* Render hdrs (checked) plus "Expect:" into one allocation: nodes first, then the text. */
static struct curl_slist *render_constant(const wb_http_header *hdrs, size_t n, char *errstr,
                                          size_t errstr_size)
{
    static const char expect[] = "Expect:"; /* never 100-continue: a round trip per request */
    size_t text = sizeof(expect);
    for (size_t i = 0; i < n; i++) {
        size_t nl, vl;
        if (!wb_http_header_check(hdrs[i].name, hdrs[i].value, &nl, &vl)) {
            /* name the header only when its name is printable: never echo the value */
            if (hdrs[i].name && wb_http_header_ok(hdrs[i].name, ""))
                snprintf(errstr, errstr_size, "header %zu '%.64s': invalid name or value", i + 1,
                         hdrs[i].name);
            else
                snprintf(errstr, errstr_size, "header %zu: invalid name", i + 1);
            return NULL;
        }
        text += nl + vl + 3;
    }
    struct curl_slist *nodes = malloc((n + 1) * sizeof(*nodes) + text);
    if (!nodes) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    char *p = (char *)(nodes + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(hdrs[i].name), vl = strlen(hdrs[i].value);
        nodes[i].data = p;
        nodes[i].next = &nodes[i + 1];
        p += wb_http_header_render(p, hdrs[i].name, nl, hdrs[i].value, vl);
    }
    memcpy(p, expect, sizeof(expect));
    nodes[n].data = p;
    nodes[n].next = NULL;
    return nodes;
}

/* Host (and port) of a URL; IPv6 brackets removed. 0 on success. */
static int url_host(const char *url, char *host, size_t hsize, int *port)
{
    CURLU *u = curl_url();
    char *hp = NULL, *pp = NULL;
    int rc = -1;
    if (!u) return -1;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ||
        curl_url_get(u, CURLUPART_HOST, &hp, 0))
        goto out;
    size_t n = strlen(hp);
    const char *s = hp;
    if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') {
        s = hp + 1;
        n -= 2;
    }
    if (n >= hsize) goto out;
    memcpy(host, s, n);
    host[n] = '\0';
    if (port) {
        *port = 0;
        if (!curl_url_get(u, CURLUPART_PORT, &pp, 0)) {
            long v = 0;
            if (wb_parse_int(pp, 1, 65535, &v) == WB_OK) *port = (int)v;
        }
    }
    rc = 0;
out:
    curl_free(hp);
    curl_free(pp);
    curl_url_cleanup(u);
    return rc;
}

static void target_free(wb_http_target *t)
{
    wb_http *h = t->h;
    /* its idle transfers carry its options: they go to the shared free list and are reset
     * before their next use (the target id is never used again) */
    while (t->idle) {
        wb_http_xfer *x = t->idle;
        t->idle = x->next;
        x->next = h->free;
        h->free = x;
    }
    free(t->url);
    free(t->proxy);
    free(t->client_cert);
    free(t->client_key);
    free(t->ca_file);
    free(t->headers);
    free(t);
}

static void target_unref(wb_http_target *t)
{
    if (t && --t->refs == 0) target_free(t);
}

void wb_http_target_release(wb_http_target *t)
{
    target_unref(t);
}

/* With a proxy: who the proxy is, and what the target host is (a literal is judged now, a
 * name on every request). 0, or -1 with errstr. */
static int target_proxy(wb_http_target *t, char *errstr, size_t errstr_size)
{
    char host[256];
    int port = 0;
    if (strncasecmp(t->proxy, "http://", 7) && strncasecmp(t->proxy, "https://", 8)) {
        snprintf(errstr, errstr_size, "proxy must be http://host:port or https://host:port");
        return -1;
    }
    if (url_host(t->proxy, host, sizeof(host), &port)) {
        snprintf(errstr, errstr_size, "proxy: malformed URL");
        return -1;
    }
    t->proxy_port = port; /* 0: libcurl's default proxy port, not checked */
    t->proxy_literal = sockaddr_from_ip(host, &t->proxy_addr) == 0;
    if (url_host(t->url, host, sizeof(host), NULL)) {
        t->host_is_name = 1; /* libcurl will refuse the URL itself */
        return 0;
    }
    struct sockaddr_storage ss;
    if (sockaddr_from_ip(host, &ss)) {
        t->host_is_name = 1;
        return 0;
    }
    char why[sizeof(t->host_denied)];
    if (!wb_egress_check(t->policy, t->allow_private, (struct sockaddr *)&ss, why, sizeof(why)))
        snprintf(t->host_denied, sizeof(t->host_denied), "%s", why);
    return 0;
}

wb_http_target *wb_http_target_new(wb_http *h, const wb_http_target_opts *opts, char *errstr,
                                   size_t errstr_size)
{
    wb_http_target *t = NULL;
    if (!h || !opts || !opts->url || (opts->nheaders && !opts->headers)) {
        snprintf(errstr, errstr_size, "no URL");
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) goto oom;
    t->h = h;
    t->refs = 1;
    t->id = ++h->next_target_id;
    t->timeout_ms = opts->timeout_ms > 0 ? (long)opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    t->connect_timeout_ms =
        opts->connect_timeout_ms > 0 ? (long)opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    t->allow_private = opts->allow_private;
    t->policy = opts->policy;
    t->https_only = opts->https_only;
    t->http2 = opts->http2;
    if (t->http2 != WB_HTTP2_AUTO && t->http2 != WB_HTTP2_OFF &&
        t->http2 != WB_HTTP2_PRIOR_KNOWLEDGE) {
        snprintf(errstr, errstr_size, "unknown http2 mode %d", (int)t->http2);
        goto fail;
    }
    t->pipewait = t->http2 == WB_HTTP2_PRIOR_KNOWLEDGE ||
                  (t->http2 == WB_HTTP2_AUTO && !strncasecmp(opts->url, "https:", 6));
    t->url = strdup(opts->url);
    if (!t->url) goto oom;
    if ((opts->client_cert && !(t->client_cert = strdup(opts->client_cert))) ||
        (opts->client_key && !(t->client_key = strdup(opts->client_key))) ||
        (opts->ca_file && !(t->ca_file = strdup(opts->ca_file))) ||
        (opts->proxy && opts->proxy[0] && !(t->proxy = strdup(opts->proxy))))
        goto oom;
    t->headers = render_constant(opts->headers, opts->nheaders, errstr, errstr_size);
    if (!t->headers) goto fail;
    if (t->proxy && target_proxy(t, errstr, errstr_size)) goto fail;
    return t;
oom:
    snprintf(errstr, errstr_size, "out of memory");
fail:
    if (t) target_free(t);
    return NULL;
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
        x->next = NULL;
        *h->failq_tail = x;
        h->failq_tail = &x->next;
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
    case PH_FAILQ: {
        wb_http_xfer **pp = &h->failq;
        while (*pp && *pp != x)
            pp = &(*pp)->next;
        if (*pp) *pp = x->next;
        h->failq_tail = &h->failq;
        while (*h->failq_tail)
            h->failq_tail = &(*h->failq_tail)->next;
        break;
    }
    default:
        return; /* idle: not a running request */
    }
    xfer_put(h, x);
}
