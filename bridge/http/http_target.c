/* outbound/http_target.c - the HTTP client's targets and its egress guard (outbound/http.h).
 *
 * A target is what stays constant for a connector: its URL, its constant header lines
 * (checked and rendered once, "Expect:" appended so libcurl never waits for a 100-continue),
 * timeouts, TLS files, proxy and egress policy. Transfers (http.c) keep a target's options
 * set while they serve it.
 *
 * The guard checks the RESOLVED address of every connection libcurl opens and again, before
 * each request, the peer of the connection it is about to use (new or reused). With a proxy
 * the only connection allowed is to the proxy, and the target host is judged before any
 * request: an IP literal here once, a name on each request by a probe that resolves it with
 * libcurl's own resolver and DNS cache, opens nothing and sends nothing (http.c).
 *
 * Thread: the loop's, like the rest of the client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "http/http_int.h"
#include "core/util.h"

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
curl_socket_t wb_http_on_opensocket(void *clientp, curlsocktype purpose,
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
    curl_socket_t s = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (s >= 0) {
        /* A parked watcher left under this number by a socket closed behind the loop's back
         * would make "watch it again" a no-op: the new socket starts from a clean slate. */
        wb_loop_io_forget(x->h->lp, s);
        wb_http_own(x->h, s, 1);
    }
    return s;
}

int wb_http_on_closesocket(void *clientp, curl_socket_t s)
{
    wb_http *h = clientp;
    wb_http_own(h, s, 0);
    wb_loop_io_del(h->lp, s); /* rare (a connection closing): one EPOLL_CTL_DEL if watched */
    return close(s);
}

void wb_http_own(wb_http *h, curl_socket_t s, int on)
{
    if (s < 0 || (!on && (size_t)s >= h->nowned)) return;
    /* out of memory: not marked, so the socket is unregistered between uses, as before */
    if (wb_grow_indexed((void **)&h->owned, &h->nowned, (size_t)s, 1)) return;
    h->owned[s] = (unsigned char)(on != 0);
}

int wb_http_owns(const wb_http *h, curl_socket_t s)
{
    return s >= 0 && (size_t)s < h->nowned && h->owned[s];
}

/* Egress guard again just before the request is sent: on a NEW connection this repeats the
 * open-socket check; on a REUSED keep-alive connection it is the only check, and it matters:
 * the connection may have been opened by a target with a looser policy (allow_private or an
 * allowlist) to the same host. */
int wb_http_on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
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
    wb_http_xfer *x;
    while ((x = STAILQ_FIRST(&t->idle))) {
        STAILQ_REMOVE_HEAD(&t->idle, link);
        STAILQ_INSERT_HEAD(&h->free, x, link);
    }
    free(t->url);
    free(t->proxy);
    free(t->client_cert);
    free(t->client_key);
    free(t->ca_file);
    free(t->headers);
    free(t);
}

void wb_http_target_unref(wb_http_target *t)
{
    if (t && --t->refs == 0) target_free(t);
}

void wb_http_target_release(wb_http_target *t)
{
    wb_http_target_unref(t);
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
    STAILQ_INIT(&t->idle);
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
    /* libcurl before 8.0.0 (Debian 12 has 7.88.1) breaks an h2c prior-knowledge connection
     * as soon as a second request reuses or multiplexes onto it ("Error in the HTTP2
     * framing layer"; fixed by curl pull request 10643). There, each request gets its own
     * connection: correct, if slower. */
    if (t->http2 == WB_HTTP2_PRIOR_KNOWLEDGE &&
        curl_version_info(CURLVERSION_NOW)->version_num < 0x080000) {
        t->one_shot = 1;
        t->pipewait = 0;
        WB_WARN("http2: prior-knowledge with libcurl %s: one connection per request "
                "(libcurl 8.0.0 fixed reusing h2c connections)",
                curl_version_info(CURLVERSION_NOW)->version);
    }
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
