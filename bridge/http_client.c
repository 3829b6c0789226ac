/* http_client.c - libcurl multi driver for outbound webhook deliveries.
 *
 * Shape:
 *   - one CURLM per wb_http, polled with curl_multi_poll() (extra fds for the caller's Kafka
 *     queue, curl_multi_wakeup() for other threads);
 *   - a pool of `xfer` records, each owning one CURL easy handle for its whole life. The
 *     options that never change (callbacks, TLS verify, HTTP version, keep-alive, share, ...)
 *     are set once when the xfer is created; a submit only sets the per-request ones (URL,
 *     headers, body, timeouts, protocols). An xfer that carried per-request TLS/proxy settings
 *     is reset (curl_easy_reset keeps connections and caches) before its next use so nothing
 *     leaks into a request that does not ask for it;
 *   - a CURLSH shared by all easies for the DNS cache and the TLS session cache (the
 *     connection cache already lives in the multi handle);
 *   - "Expect:" is prepended to the caller's header list through a curl_slist node embedded
 *     in the xfer (no copy of the list, no allocation);
 *   - the egress guard runs in CURLOPT_OPENSOCKETFUNCTION on the resolved address.
 *
 * Thread: everything belongs to the owner thread (see http_client.h); the share handle is
 * only used from that thread, so it needs no lock callbacks. */
#include "http_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#ifndef WB_VERSION
#define WB_VERSION "dev"
#endif

#define DEFAULT_TIMEOUT_MS         30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define MAX_RESPONSE_BODY          (1024 * 1024)

typedef struct xfer {
    CURL *easy;
    struct wb_http *h;
    struct xfer *next_free; /* free list link (idle xfers) */
    struct xfer *next_all;  /* every xfer, for wb_http_free */
    int in_use;
    int custom; /* TLS/proxy options set: reset before the next use */
    /* per request */
    wb_http_done_cb cb;
    void *opaque;
    const wb_egress_policy *policy;
    int allow_private;
    int via_proxy;
    int64_t start_us;
    int64_t timeout_ms, connect_timeout_ms;
    int64_t retry_after_ms;   /* from the last response's headers, -1 if none */
    size_t body_seen;         /* response body bytes discarded */
    int body_capped;          /* aborted because the response body was too large */
    char denied[128];         /* first egress denial reason, "" if none */
    int n_allowed;            /* addresses the guard let through (new connections) */
    struct curl_slist expect; /* "Expect:" node prepended to the caller's headers */
    char errbuf[CURL_ERROR_SIZE];
} xfer;

struct wb_http {
    CURLM *multi;
    CURLSH *share;
    xfer *free_list;
    xfer *all;
    int in_flight;
};

static char EXPECT_NONE[] = "Expect:";

/* ------------------------------------------------------------------------------------------
 * Classification and Retry-After */

wb_http_class wb_http_classify(int status, int curl_code)
{
    if (curl_code != CURLE_OK) {
        switch (curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
            return WB_HTTP_PERMANENT;
        default:
            return WB_HTTP_RETRY;
        }
    }
    if (status >= 200 && status <= 299) return WB_HTTP_DONE;
    if (status == 410) return WB_HTTP_GONE;
    /* 408 (the partner timed out reading us) and 425 (too early) are worth another try */
    if (status >= 400 && status <= 499 && status != 429 && status != 408 && status != 425)
        return WB_HTTP_PERMANENT;
    /* 408, 425, 429, 5xx, 3xx (redirects are not followed), 1xx/0 (no usable response) */
    return WB_HTTP_RETRY;
}

const char *wb_http_class_str(wb_http_class cls)
{
    switch (cls) {
    case WB_HTTP_DONE:
        return "done";
    case WB_HTTP_RETRY:
        return "retry";
    case WB_HTTP_PERMANENT:
        return "permanent";
    case WB_HTTP_GONE:
        return "gone";
    }
    return "?";
}

int64_t wb_http_parse_retry_after(const char *value, int64_t now_unix_s)
{
    char tmp[64];
    size_t len;
    const char *p;

    if (!value) return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    len = strlen(value);
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
                   value[len - 1] == '\n'))
        len--;
    if (!len || len >= sizeof(tmp)) return -1;
    memcpy(tmp, value, len);
    tmp[len] = '\0';

    for (p = tmp; *p && isdigit((unsigned char)*p); p++)
        ;
    if (!*p) { /* delta-seconds */
        int64_t secs = 0;
        for (p = tmp; *p; p++) {
            if (secs > INT64_MAX / 10000) /* saturate: far beyond any sane cap */
                return INT64_MAX / 1000 * 1000;
            secs = secs * 10 + (*p - '0');
        }
        return secs * 1000;
    }
    /* HTTP-date must start with a day name (IMF-fixdate, RFC 850, asctime); this also keeps
     * curl_getdate's leniency ("-5", "1.5") from accepting non-dates. */
    if (!isalpha((unsigned char)tmp[0])) return -1;
    {
        time_t t = curl_getdate(tmp, NULL);
        if (t == (time_t)-1) return -1;
        if ((int64_t)t <= now_unix_s) return 0;
        return ((int64_t)t - now_unix_s) * 1000;
    }
}

/* ------------------------------------------------------------------------------------------
 * libcurl callbacks */

/* Discard the response body, counting it; abort past MAX_RESPONSE_BODY. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nmemb;
    (void)ptr;
    if (x->body_seen + n > MAX_RESPONSE_BODY) {
        x->body_capped = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    x->body_seen += n;
    return n;
}

/* Watch response headers for the status line (new response: forget older values) and
 * Retry-After. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    xfer *x = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";

    if (n >= 5 && !memcmp(buf, "HTTP/", 5)) {
        x->retry_after_ms = -1;
    } else if (n > sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1)) {
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

/* Egress guard at connect time, on the resolved address. */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose,
                                   struct curl_sockaddr *address)
{
    xfer *x = clientp;
    char why[sizeof(x->denied)];

    if (purpose == CURLSOCKTYPE_IPCXN && !x->via_proxy &&
        !wb_egress_check(x->policy, x->allow_private, &address->addr, why, sizeof(why))) {
        if (!x->denied[0]) snprintf(x->denied, sizeof(x->denied), "%s", why);
        WB_DEBUG("egress denied: %s", why);
        return CURL_SOCKET_BAD;
    }
    x->n_allowed++;
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/* Egress guard again just before the request is sent: on a NEW connection this repeats the
 * open-socket check; on a REUSED keep-alive connection it is the only check, and it matters:
 * the connection may have been opened by a request with a looser policy (allow_private or an
 * allowlist) to the same host. */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    xfer *x = clientp;
    struct sockaddr_storage ss;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    char ip[64], why[sizeof(x->denied)];
    char *pct;

    if (x->via_proxy) return CURL_PREREQFUNC_OK;
    snprintf(ip, sizeof(ip), "%s", conn_primary_ip ? conn_primary_ip : "");
    if ((pct = strchr(ip, '%'))) /* IPv6 zone id */
        *pct = '\0';
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1)
        in4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    if (!wb_egress_check(x->policy, x->allow_private, (struct sockaddr *)&ss, why, sizeof(why))) {
        if (!x->denied[0]) snprintf(x->denied, sizeof(x->denied), "%s", why);
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* ------------------------------------------------------------------------------------------
 * Easy handle pool */

/* Options that never change for an xfer; applied at creation and after a reset. */
static CURLcode set_constant_options(xfer *x)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) return rc;                           \
    } while (0)
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_SHARE, x->h->share);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_KEEPIDLE, 30L);
    SET(CURLOPT_TCP_KEEPINTVL, 15L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_PROXY, ""); /* ignore *_proxy environment variables */
    SET(CURLOPT_USERAGENT, "webhook-bridge/" WB_VERSION);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    SET(CURLOPT_OPENSOCKETDATA, x);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, x);
    SET(CURLOPT_DNS_CACHE_TIMEOUT, 60L);
#undef SET
    return rc;
}

static void xfer_destroy(xfer *x)
{
    if (!x) return;
    if (x->easy) curl_easy_cleanup(x->easy);
    free(x);
}

/* Take an idle xfer from the pool or create one. NULL on allocation failure. */
static xfer *xfer_get(wb_http *h)
{
    xfer *x = h->free_list;
    if (x) {
        h->free_list = x->next_free;
        x->next_free = NULL;
        if (x->custom) {
            curl_easy_reset(x->easy);
            x->custom = 0;
            if (set_constant_options(x) != CURLE_OK) {
                x->custom = 1;
                x->next_free = h->free_list;
                h->free_list = x;
                return NULL;
            }
        }
        return x;
    }
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
    return x;
}

static void xfer_put(wb_http *h, xfer *x)
{
    x->in_use = 0;
    x->cb = NULL;
    x->opaque = NULL;
    x->policy = NULL;
    x->next_free = h->free_list;
    h->free_list = x;
}

/* ------------------------------------------------------------------------------------------
 * Client */

wb_http *wb_http_new(int max_total_connections, char *errstr, size_t errstr_size)
{
    wb_http *h = NULL, *ret = NULL;
    int global = 0;

    if (max_total_connections < 1) {
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
    if (curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_total_connections) !=
            CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)max_total_connections) !=
            CURLM_OK ||
        curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK) {
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

wb_err wb_http_set_max_host_connections(wb_http *h, long max)
{
    if (!h || max < 0) return WB_ERR_INVALID;
    return curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max) == CURLM_OK
               ? WB_OK
               : WB_ERR_HTTP;
}

void wb_http_free(wb_http *h)
{
    xfer *x, *next;

    if (!h) return;
    for (x = h->all; x; x = x->next_all)
        if (x->in_use) curl_multi_remove_handle(h->multi, x->easy);
    /* easies first (they reference the share), then the multi (connection cache), share */
    for (x = h->all; x; x = next) {
        next = x->next_all;
        xfer_destroy(x);
    }
    curl_multi_cleanup(h->multi);
    curl_share_cleanup(h->share);
    free(h);
    curl_global_cleanup();
}

wb_err wb_http_submit(wb_http *h, const wb_http_req *req, wb_http_done_cb cb, void *opaque)
{
    xfer *x;
    CURL *e;
    CURLcode rc = CURLE_OK;
    int custom;

    if (!h || !req || !req->url || !cb || (!req->body && req->body_len)) return WB_ERR_INVALID;
    x = xfer_get(h);
    if (!x) return WB_ERR_NOMEM;
    e = x->easy;

    x->cb = cb;
    x->opaque = opaque;
    x->policy = req->policy;
    x->allow_private = req->allow_private;
    x->via_proxy = req->proxy && req->proxy[0];
    x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
    x->connect_timeout_ms =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    x->retry_after_ms = -1;
    x->body_seen = 0;
    x->body_capped = 0;
    x->denied[0] = '\0';
    x->n_allowed = 0;
    x->errbuf[0] = '\0';
    x->expect.data = EXPECT_NONE;
    x->expect.next = req->headers;

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val);                                    \
    } while (0)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_HTTPHEADER, &x->expect);
    SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
    SET(CURLOPT_TIMEOUT_MS, (long)x->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)x->connect_timeout_ms);
    SET(CURLOPT_PROTOCOLS_STR, req->https_only ? "https" : "http,https");
    /* wait for a TLS connection in progress to see whether it multiplexes (HTTP/2) rather
     * than opening a parallel one; plain http:// is always HTTP/1.1 here */
    SET(CURLOPT_PIPEWAIT, strncasecmp(req->url, "https:", 6) ? 0L : 1L);
    custom = (req->client_cert || req->client_key || req->ca_file || x->via_proxy);
    if (custom) {
        x->custom = 1;
        if (req->client_cert) SET(CURLOPT_SSLCERT, req->client_cert);
        if (req->client_key) SET(CURLOPT_SSLKEY, req->client_key);
        if (req->ca_file) SET(CURLOPT_CAINFO, req->ca_file);
        if (x->via_proxy) SET(CURLOPT_PROXY, req->proxy);
    }
#undef SET
    if (rc != CURLE_OK) {
        WB_WARN("http submit: curl_easy_setopt: %s", curl_easy_strerror(rc));
        x->custom = 1; /* partially applied: reset before reuse */
        xfer_put(h, x);
        return rc == CURLE_OUT_OF_MEMORY ? WB_ERR_NOMEM : WB_ERR_INVALID;
    }
    x->start_us = wb_now_us();
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        xfer_put(h, x);
        return WB_ERR_HTTP;
    }
    x->in_use = 1;
    h->in_flight++;
    return WB_OK;
}

/* Fill res->error for a failed transfer. */
static void describe_failure(const xfer *x, CURLcode code, wb_http_result *res)
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
        if (connect_us == 0 && res->elapsed_us / 1000 < x->timeout_ms)
            snprintf(res->error, sz, "connect timeout after %lld ms",
                     (long long)x->connect_timeout_ms);
        else
            snprintf(res->error, sz, "timeout after %lld ms", (long long)x->timeout_ms);
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

/* Build the result of a finished transfer. */
static void make_result(xfer *x, CURLcode code, wb_http_result *res)
{
    long status = 0;

    memset(res, 0, sizeof(*res));
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    res->curl_code = (int)code;
    res->retry_after_ms = -1;
    res->elapsed_us = wb_now_us() - x->start_us;

    /* denied: every address was refused (a host with one internal and one public address
     * whose public one failed is an ordinary connect failure), or the reused connection was */
    if (x->denied[0] && ((code == CURLE_COULDNT_CONNECT && x->n_allowed == 0) ||
                         code == CURLE_ABORTED_BY_CALLBACK)) {
        res->cls = WB_HTTP_PERMANENT;
        snprintf(res->error, sizeof(res->error), "egress denied: %s", x->denied);
        return;
    }
    if (code == CURLE_WRITE_ERROR && x->body_capped && status > 0)
        res->cls = wb_http_classify(res->status, CURLE_OK); /* status is known: use it */
    else
        res->cls = wb_http_classify(res->status, code);

    if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && x->body_capped && status > 0)) {
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
    } else if (x->body_capped)
        snprintf(res->error, sizeof(res->error), "response body over %d bytes discarded",
                 MAX_RESPONSE_BODY);
}

/* Report every finished transfer: remove it, recycle its xfer, fire the callback. */
static int drain(wb_http *h)
{
    CURLMsg *msg;
    int left, n = 0;

    while ((msg = curl_multi_info_read(h->multi, &left))) {
        xfer *x = NULL;
        wb_http_done_cb cb;
        void *opaque;
        wb_http_result res;

        if (msg->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x || !x->in_use) continue;
        make_result(x, msg->data.result, &res);
        curl_multi_remove_handle(h->multi, x->easy);
        cb = x->cb;
        opaque = x->opaque;
        xfer_put(h, x); /* before the callback: it may submit again and reuse it */
        h->in_flight--;
        cb(opaque, &res);
        n++;
    }
    return n;
}

int wb_http_run(wb_http *h, int timeout_ms, struct curl_waitfd *extra, unsigned nextra)
{
    int running = 0;
    CURLMcode mc;

    if (!h) return -1;
    /* One poll + one perform per call. Newly added handles (and the callbacks' re-submits)
     * carry an immediate libcurl timeout, so the poll returns at once when there is work;
     * completions are always drained in the same call that found them. */
    mc = curl_multi_poll(h->multi, extra, nextra, timeout_ms < 0 ? 0 : timeout_ms, NULL);
    if (mc == CURLM_OK) mc = curl_multi_perform(h->multi, &running);
    if (mc != CURLM_OK) {
        WB_ERROR("http: libcurl multi error: %s", curl_multi_strerror(mc));
        return -1;
    }
    return drain(h);
}

void wb_http_wakeup(wb_http *h)
{
    if (h) curl_multi_wakeup(h->multi);
}

int wb_http_in_flight(const wb_http *h)
{
    return h ? h->in_flight : 0;
}
