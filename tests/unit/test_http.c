/* test_http_client.c - the libcurl multi driver against a real HTTP server on 127.0.0.1.
 *
 * The server (libmicrohttpd, thread per connection, ephemeral port) picks its answer from the
 * URL: /status/NNN[?retry_after=S|retry_after_date=S|location=/x], /sleep/MS, /big (2 MiB
 * body). It counts requests and accepted connections, and remembers the last request's body
 * size and whether it carried an Expect header. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http_client.h"
#include "test.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------
 * Test server */

static struct MHD_Daemon *srv;
static unsigned short port;
static atomic_int n_requests, n_connections;
static atomic_long last_body_len;
static atomic_int last_had_expect;

typedef struct reqstate {
    size_t body_len;
} reqstate;

static void on_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&n_connections, 1);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result queue(struct MHD_Connection *c, int status, const char *hdr, const char *val,
                             void *body, size_t body_len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (body)
        r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    if (hdr) MHD_add_response_header(r, hdr, val);
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    reqstate *st = *con_cls;
    const char *q;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        st->body_len += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&n_requests, 1);
    atomic_store(&last_body_len, (long)st->body_len);
    atomic_store(&last_had_expect,
                 MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect") != NULL);

    if (!strncmp(url, "/status/", 8)) {
        int status = (int)strtol(url + 8, NULL, 10);
        char date[64];
        if ((q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "retry_after")))
            return queue(c, status, "Retry-After", q, NULL, 0);
        if ((q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "retry_after_date"))) {
            time_t t = time(NULL) + strtol(q, NULL, 10);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            return queue(c, status, "Retry-After", date, NULL, 0);
        }
        if ((q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "location")))
            return queue(c, status, "Location", q, NULL, 0);
        return queue(c, status, NULL, NULL, NULL, 0);
    }
    if (!strncmp(url, "/sleep/", 7)) {
        usleep((useconds_t)strtol(url + 7, NULL, 10) * 1000);
        return queue(c, 200, NULL, NULL, NULL, 0);
    }
    if (!strcmp(url, "/big")) {
        size_t n = 2 * 1024 * 1024;
        char *body = malloc(n);
        if (!body) return MHD_NO;
        memset(body, 'x', n);
        return queue(c, 200, NULL, NULL, body, n);
    }
    return queue(c, 404, NULL, NULL, NULL, 0);
}

static void server_start(void)
{
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *info;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                               MHD_USE_POLL | MHD_USE_ERROR_LOG,
                           0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sin,
                           MHD_OPTION_NOTIFY_CONNECTION, on_conn, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                           on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
                           MHD_OPTION_END);
    ASSERT(srv != NULL);
    info = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT(info != NULL);
    port = info->port;
    ASSERT(port != 0);
}

/* ------------------------------------------------------------------------------------------
 * Client helpers */

typedef struct got {
    int n;
    wb_http_result res;
} got;

static void on_done(void *opaque, const wb_http_result *res)
{
    got *g = opaque;
    g->n++;
    g->res = *res;
}

static char *url(char *buf, size_t n, const char *host, const char *path)
{
    snprintf(buf, n, "http://%s:%u%s", host, port, path);
    return buf;
}

static wb_http_req base_req(const char *u)
{
    static struct curl_slist ct = {(char *)"Content-Type: application/json", NULL};
    wb_http_req r;
    memset(&r, 0, sizeof(r));
    r.url = u;
    r.headers = &ct;
    r.body = "{\"type\":\"test\"}";
    r.body_len = 15;
    r.timeout_ms = 5000;
    r.connect_timeout_ms = 2000;
    r.allow_private = 1;
    return r;
}

/* Run until the request completes (bounded); also check the callback fires only once. */
static wb_http_result one(wb_http *h, const wb_http_req *req)
{
    got g = {0};
    int64_t deadline = wb_now_ms() + 15000;
    ASSERT_EQ(wb_http_submit(h, req, on_done, &g), WB_OK);
    ASSERT_EQ(wb_http_in_flight(h), 1);
    while (g.n == 0 && wb_now_ms() < deadline)
        ASSERT(wb_http_run(h, 100, NULL, 0) >= 0);
    ASSERT_EQ(g.n, 1);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    ASSERT_EQ(wb_http_run(h, 0, NULL, 0), 0);
    ASSERT_EQ(g.n, 1);
    return g.res;
}

static wb_http *client(int max)
{
    char err[128] = "";
    wb_http *h = wb_http_new(max, err, sizeof(err));
    if (!h) FAIL_("wb_http_new: %s", err);
    return h;
}

/* A loopback port nobody listens on (bound then closed). */
static unsigned closed_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* ------------------------------------------------------------------------------------------
 * Tests */

static void test_classify(void)
{
    ASSERT_EQ(wb_http_classify(200, 0), WB_HTTP_DONE);
    ASSERT_EQ(wb_http_classify(204, 0), WB_HTTP_DONE);
    ASSERT_EQ(wb_http_classify(299, 0), WB_HTTP_DONE);
    ASSERT_EQ(wb_http_classify(301, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(408, 0), WB_HTTP_RETRY); /* partner timed out reading us */
    ASSERT_EQ(wb_http_classify(425, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(302, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(400, 0), WB_HTTP_PERMANENT);
    ASSERT_EQ(wb_http_classify(401, 0), WB_HTTP_PERMANENT);
    ASSERT_EQ(wb_http_classify(404, 0), WB_HTTP_PERMANENT);
    ASSERT_EQ(wb_http_classify(410, 0), WB_HTTP_GONE);
    ASSERT_EQ(wb_http_classify(429, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(500, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(503, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, 0), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, CURLE_COULDNT_CONNECT), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, CURLE_OPERATION_TIMEDOUT), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, CURLE_COULDNT_RESOLVE_HOST), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, CURLE_PEER_FAILED_VERIFICATION), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(200, CURLE_RECV_ERROR), WB_HTTP_RETRY);
    ASSERT_EQ(wb_http_classify(0, CURLE_UNSUPPORTED_PROTOCOL), WB_HTTP_PERMANENT);
    ASSERT_EQ(wb_http_classify(0, CURLE_URL_MALFORMAT), WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(wb_http_class_str(WB_HTTP_GONE), "gone");
}

static void test_retry_after_parse(void)
{
    const int64_t now = 1445412480 - 10; /* 10 s before Wed, 21 Oct 2015 07:28:00 GMT */
    ASSERT_EQ(wb_http_parse_retry_after("120", now), 120000);
    ASSERT_EQ(wb_http_parse_retry_after("0", now), 0);
    ASSERT_EQ(wb_http_parse_retry_after(" 2 \r\n", now), 2000);
    ASSERT_EQ(wb_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), 10000);
    ASSERT_EQ(wb_http_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now), 10000);
    ASSERT_EQ(wb_http_parse_retry_after("Wed Oct 21 07:28:00 2015", now), 10000);
    ASSERT_EQ(wb_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now + 100), 0);
    ASSERT_EQ(wb_http_parse_retry_after("", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after(NULL, now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("soon", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("-5", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("1.5", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("12abc", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("Monday", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("Wed, 99 Foo 2015 07:28:00 GMT", now), -1);
    ASSERT_EQ(wb_http_parse_retry_after("Wed, 21 Oct 2015 25:61:00 GMT", now), -1);
    ASSERT(wb_http_parse_retry_after("99999999999999999999999", now) > 0); /* saturates */
}

static void test_status_classes(void)
{
    wb_http *h = client(4);
    char u[128];
    wb_http_req req;
    wb_http_result r;
    int before;

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.curl_code, 0);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(r.retry_after_ms, -1);
    ASSERT_STR_EQ(r.error, "");
    ASSERT(r.elapsed_us > 0);
    ASSERT_EQ(atomic_load(&last_body_len), 15);

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/503?retry_after=2"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 503);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_EQ(r.retry_after_ms, 2000);
    ASSERT_STR_EQ(r.error, "HTTP 503");

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/429?retry_after_date=5"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 429);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    if (r.retry_after_ms < 3000 || r.retry_after_ms > 6000)
        FAIL_("HTTP-date Retry-After gave %lld ms", (long long)r.retry_after_ms);

    /* Retry-After only counts on 429/503 */
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/500?retry_after=7"));
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_EQ(r.retry_after_ms, -1);

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/400"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 400);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(r.error, "HTTP 400");

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/410"));
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_GONE);

    /* 302 is not followed: one request on the server, RETRY */
    before = atomic_load(&n_requests);
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/302?location=/status/200"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 302);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_CONTAINS(r.error, "HTTP 302 (redirect not followed) to http://127.0.0.1:");
    ASSERT_CONTAINS(r.error, "/status/200");
    ASSERT_EQ(atomic_load(&n_requests) - before, 1);
    wb_http_free(h);
}

static void test_large_bodies(void)
{
    wb_http *h = client(2);
    char u[128];
    wb_http_req req;
    wb_http_result r;
    size_t n = 1536 * 1024;
    char *body = malloc(n);
    ASSERT(body != NULL);
    memset(body, 'a', n);

    /* big request body: sent whole, without Expect: 100-continue */
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/204"));
    req.body = body;
    req.body_len = n;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(atomic_load(&last_body_len), (long)n);
    ASSERT_EQ(atomic_load(&last_had_expect), 0);

    /* empty body */
    req.body = NULL;
    req.body_len = 0;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(atomic_load(&last_body_len), 0);

    /* response body over the cap: aborted, classified by the status already received */
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/big"));
    r = one(h, &req);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_CONTAINS(r.error, "discarded");
    free(body);
    wb_http_free(h);
}

static void test_timeout_and_refused(void)
{
    wb_http *h = client(4);
    char u[128];
    wb_http_req req;
    wb_http_result r;
    int64_t t0;

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/sleep/1500"));
    req.timeout_ms = 300;
    t0 = wb_now_ms();
    r = one(h, &req);
    ASSERT(wb_now_ms() - t0 < 1400);
    ASSERT_EQ(r.curl_code, CURLE_OPERATION_TIMEDOUT);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_STR_EQ(r.error, "timeout after 300 ms");

    /* a port nobody listens on */
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/status/200", closed_port());
    req = base_req(u);
    r = one(h, &req);
    ASSERT_EQ(r.status, 0);
    ASSERT_EQ(r.curl_code, CURLE_COULDNT_CONNECT);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_STR_EQ(r.error, "connect refused");
    wb_http_free(h);
}

static void test_egress(void)
{
    wb_http *h = client(4);
    char u[128], err[128];
    wb_http_req req;
    wb_http_result r;
    int reqs = atomic_load(&n_requests), conns = atomic_load(&n_connections);
    char *cidrs[] = {"127.0.0.0/8"};
    wb_egress_policy *pol;

    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    req.allow_private = 0;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_EQ(r.status, 0);
    ASSERT_STR_EQ(r.error, "egress denied: 127.0.0.1 is loopback");

    /* a name resolving to loopback is checked on the resolved address */
    req = base_req(url(u, sizeof(u), "localhost", "/status/200"));
    req.allow_private = 0;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "egress denied: ");
    ASSERT_CONTAINS(r.error, "is loopback");

    /* the server saw nothing at all */
    ASSERT_EQ(atomic_load(&n_requests), reqs);
    ASSERT_EQ(atomic_load(&n_connections), conns);

    /* "localhost" is 127.0.0.1 and ::1: allowlisting only the IPv4 one still reaches the
     * server (::1 is refused by the guard, 127.0.0.1 is not) */
    {
        char *v4only[] = {"127.0.0.1"};
        wb_egress_policy *p4 = wb_egress_policy_new(v4only, 1, err, sizeof(err));
        ASSERT(p4 != NULL);
        req = base_req(url(u, sizeof(u), "localhost", "/status/200"));
        req.allow_private = 0;
        req.policy = p4;
        r = one(h, &req);
        ASSERT_EQ(r.cls, WB_HTTP_DONE);
        /* ... and when the allowed address refuses, that is a connect failure, not a denial */
        snprintf(u, sizeof(u), "http://localhost:%u/status/200", closed_port());
        req.url = u;
        r = one(h, &req);
        ASSERT_EQ(r.cls, WB_HTTP_RETRY);
        ASSERT_STR_EQ(r.error, "connect refused");
        wb_egress_policy_free(p4);
    }

    /* an allowlisted CIDR permits it */
    pol = wb_egress_policy_new(cidrs, 1, err, sizeof(err));
    ASSERT(pol != NULL);
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    req.allow_private = 0;
    req.policy = pol;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    wb_egress_policy_free(pol);

    /* same URL without the policy is denied, although a keep-alive connection to it is
     * open now: reused connections are checked too, and nothing is sent on it */
    reqs = atomic_load(&n_requests);
    req.policy = NULL;
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(r.error, "egress denied: 127.0.0.1 is loopback");
    ASSERT_EQ(atomic_load(&n_requests), reqs);

    /* https_only refuses http:// before connecting; other schemes never run */
    reqs = atomic_load(&n_requests);
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    req.https_only = 1;
    r = one(h, &req);
    ASSERT_EQ(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "unsupported protocol");
    req = base_req("ftp://127.0.0.1/x");
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    req = base_req("file:///etc/passwd");
    r = one(h, &req);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_EQ(atomic_load(&n_requests), reqs);
    wb_http_free(h);
}

/* Per-request TLS/proxy settings apply to that request only (the pooled handle is reset). */
static void test_proxy_and_reset(void)
{
    wb_http *h = client(4);
    char u[128], proxy[64];
    wb_http_req req;
    wb_http_result r;

    /* our server as the "proxy": it receives the absolute URI and answers 404 to it; the
     * proxy's address is not egress-checked */
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", port);
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    req.allow_private = 0;
    req.proxy = proxy;
    r = one(h, &req);
    ASSERT_EQ(r.status, 404); /* the "proxy" saw the absolute URI */
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);

    /* next request on the same pooled handle: no proxy any more, the guard applies again */
    req.proxy = NULL;
    r = one(h, &req);
    ASSERT_EQ(r.status, 0);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "egress denied");
    req.allow_private = 1;
    r = one(h, &req);
    ASSERT_EQ(r.status, 200);

    /* TLS file options on an http:// URL are harmless and do not stick either */
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/201"));
    req.ca_file = "/nonexistent/ca.pem";
    req.client_cert = "/nonexistent/cert.pem";
    req.client_key = "/nonexistent/key.pem";
    r = one(h, &req);
    ASSERT_EQ(r.status, 201);
    req.ca_file = req.client_cert = req.client_key = NULL;
    r = one(h, &req);
    ASSERT_EQ(r.status, 201);
    wb_http_free(h);
}

/* ------------------------------------------------------------------------------------------
 * TLS: a throwaway self-signed certificate for 127.0.0.1, made with OpenSSL at test time */

static char *pem_of(int (*write)(BIO *, const void *), const void *obj)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    long n;
    if (bio && write(bio, obj) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0 &&
        (out = malloc((size_t)n + 1))) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(bio);
    return out;
}

static int write_key(BIO *b, const void *k)
{
    return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(BIO *b, const void *c)
{
    return PEM_write_bio_X509(b, (X509 *)c);
}

static void make_cert(char **key_pem, char **cert_pem)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *crt = X509_new();
    X509_NAME *name;
    X509V3_CTX ctx;
    const char *exts[][2] = {{"subjectAltName", "IP:127.0.0.1,DNS:localhost"},
                             {"basicConstraints", "critical,CA:TRUE"},
                             {"keyUsage", "critical,digitalSignature,keyCertSign"}};
    ASSERT(key && crt);
    ASSERT(X509_set_version(crt, 2) == 1);
    ASSERT(ASN1_INTEGER_set(X509_get_serialNumber(crt), 1) == 1);
    ASSERT(X509_gmtime_adj(X509_getm_notBefore(crt), -3600));
    ASSERT(X509_gmtime_adj(X509_getm_notAfter(crt), 86400));
    ASSERT(X509_set_pubkey(crt, key) == 1);
    name = X509_get_subject_name(crt);
    ASSERT(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"wb-test",
                                      -1, -1, 0) == 1);
    ASSERT(X509_set_issuer_name(crt, name) == 1);
    X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        X509_EXTENSION *ext = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        ASSERT(ext != NULL);
        ASSERT(X509_add_ext(crt, ext, -1) == 1);
        X509_EXTENSION_free(ext);
    }
    ASSERT(X509_sign(crt, key, EVP_sha256()) > 0);
    *key_pem = pem_of(write_key, key);
    *cert_pem = pem_of(write_cert, crt);
    ASSERT(*key_pem && *cert_pem);
    X509_free(crt);
    EVP_PKEY_free(key);
}

static void test_tls(void)
{
    char *key_pem, *cert_pem;
    char ca_path[] = "/tmp/wb-test-ca-XXXXXX";
    struct MHD_Daemon *tls;
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *info;
    unsigned short tport;
    char u[128];
    wb_http *h;
    wb_http_req req;
    wb_http_result r;
    int fd;

    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        fprintf(stderr, "  libmicrohttpd without TLS: skipped\n");
        return;
    }
    make_cert(&key_pem, &cert_pem);
    fd = mkstemp(ca_path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, cert_pem, strlen(cert_pem)), (long)strlen(cert_pem));
    close(fd);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tls = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                               MHD_USE_POLL | MHD_USE_TLS, /* quiet: failed handshakes */
                           0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sin,
                           MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
                           MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    ASSERT(tls != NULL);
    info = MHD_get_daemon_info(tls, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT(info != NULL);
    tport = info->port;

    h = client(4);
    snprintf(u, sizeof(u), "https://127.0.0.1:%u/status/200", tport);
    /* the system CAs do not know this certificate: verification is on */
    req = base_req(u);
    r = one(h, &req);
    ASSERT_EQ(r.status, 0);
    ASSERT_EQ(r.curl_code, CURLE_PEER_FAILED_VERIFICATION);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_CONTAINS(r.error, "TLS: ");

    /* with the partner's CA file it verifies (https_only is satisfied by https://) */
    req.ca_file = ca_path;
    req.https_only = 1;
    r = one(h, &req);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);

    /* the CA file does not stick to the pooled handle */
    req.ca_file = NULL;
    r = one(h, &req);
    ASSERT_EQ(r.curl_code, CURLE_PEER_FAILED_VERIFICATION);

    wb_http_free(h);
    MHD_stop_daemon(tls);
    unlink(ca_path);
    free(key_pem);
    free(cert_pem);
}

/* Sequential requests chained from the done callback: one keep-alive connection. */
typedef struct chain {
    wb_http *h;
    wb_http_req req;
    int done, ok, left;
} chain;

static void chain_next(void *opaque, const wb_http_result *res)
{
    chain *c = opaque;
    c->done++;
    c->ok += res->cls == WB_HTTP_DONE;
    if (c->left > 0) {
        c->left--;
        ASSERT_EQ(wb_http_submit(c->h, &c->req, chain_next, c), WB_OK);
    }
}

static void test_keepalive_reuse(void)
{
    const int max = 4;
    chain c;
    char u[128];
    int conns = atomic_load(&n_connections), reqs = atomic_load(&n_requests);
    int64_t deadline = wb_now_ms() + 20000;

    memset(&c, 0, sizeof(c));
    c.h = client(max);
    c.req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    c.left = 199;
    ASSERT_EQ(wb_http_submit(c.h, &c.req, chain_next, &c), WB_OK);
    while (c.done < 200 && wb_now_ms() < deadline)
        ASSERT(wb_http_run(c.h, 100, NULL, 0) >= 0);
    ASSERT_EQ(c.done, 200);
    ASSERT_EQ(c.ok, 200);
    ASSERT_EQ(atomic_load(&n_requests) - reqs, 200);
    ASSERT(atomic_load(&n_connections) - conns <= max);
    ASSERT_EQ(atomic_load(&n_connections) - conns, 1); /* strictly sequential: one */
    wb_http_free(c.h);
}

static void test_concurrent(void)
{
    enum { N = 1000, MAXC = 32, MAXHOST = 16 };
    static int fired[N];
    static got g[N];
    wb_http *h = client(MAXC);
    char u[128];
    wb_http_req req;
    int conns = atomic_load(&n_connections), reqs = atomic_load(&n_requests);
    int total = 0;
    int64_t deadline = wb_now_ms() + 30000;

    ASSERT_EQ(wb_http_set_max_host_connections(h, MAXHOST), WB_OK);
    req = base_req(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    for (int i = 0; i < N; i++)
        ASSERT_EQ(wb_http_submit(h, &req, on_done, &g[i]), WB_OK);
    ASSERT_EQ(wb_http_in_flight(h), N);
    while (wb_http_in_flight(h) > 0 && wb_now_ms() < deadline) {
        int n = wb_http_run(h, 100, NULL, 0);
        ASSERT(n >= 0);
        total += n;
    }
    total += wb_http_run(h, 0, NULL, 0);
    ASSERT_EQ(total, N);
    for (int i = 0; i < N; i++) {
        fired[i] = g[i].n;
        if (fired[i] != 1 || g[i].res.cls != WB_HTTP_DONE)
            FAIL_("request %d: fired %d times, class %d (%s)", i, fired[i], g[i].res.cls,
                  g[i].res.error);
    }
    ASSERT_EQ(atomic_load(&n_requests) - reqs, N);
    ASSERT(atomic_load(&n_connections) - conns <= MAXHOST);
    fprintf(stderr, "  %d concurrent requests over %d connections\n", N,
            atomic_load(&n_connections) - conns);
    wb_http_free(h);
}

/* wb_http_free with transfers running: no callback, no leak (ASan). */
static void test_free_aborts(void)
{
    wb_http *h = client(4);
    char u[128];
    got g[3] = {{0}};
    wb_http_req req = base_req(url(u, sizeof(u), "127.0.0.1", "/sleep/400"));
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(wb_http_submit(h, &req, on_done, &g[i]), WB_OK);
    ASSERT(wb_http_run(h, 50, NULL, 0) == 0);
    ASSERT_EQ(wb_http_in_flight(h), 3);
    wb_http_free(h);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(g[i].n, 0);
}

static void test_submit_errors(void)
{
    wb_http *h = client(1);
    wb_http_req req = base_req(NULL);
    got g = {0};
    char err[64] = "";
    ASSERT_EQ(wb_http_submit(h, &req, on_done, &g), WB_ERR_INVALID);
    req.url = "http://127.0.0.1:1/";
    ASSERT_EQ(wb_http_submit(h, &req, NULL, &g), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_submit(h, NULL, on_done, &g), WB_ERR_INVALID);
    req.body = NULL; /* with body_len 15 */
    ASSERT_EQ(wb_http_submit(h, &req, on_done, &g), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    ASSERT_EQ(wb_http_run(h, 0, NULL, 0), 0);
    ASSERT_EQ(g.n, 0);
    ASSERT_EQ(wb_http_set_max_host_connections(h, -1), WB_ERR_INVALID);
    wb_http_free(h);
    ASSERT(wb_http_new(0, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "max_total_connections");
}

/* wb_http_run wakes for an extra fd and for wb_http_wakeup from another thread. */
static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    wb_http_wakeup(arg);
    return NULL;
}

static void test_wakeups(void)
{
    wb_http *h = client(1);
    int fds[2];
    struct curl_waitfd wfd;
    pthread_t th;
    int64_t t0;

    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(write(fds[1], "x", 1), 1);
    memset(&wfd, 0, sizeof(wfd));
    wfd.fd = fds[0];
    wfd.events = CURL_WAIT_POLLIN;
    t0 = wb_now_ms();
    ASSERT_EQ(wb_http_run(h, 5000, &wfd, 1), 0);
    ASSERT(wb_now_ms() - t0 < 1000);
    ASSERT(wfd.revents & CURL_WAIT_POLLIN);

    ASSERT_EQ(pthread_create(&th, NULL, wake_later, h), 0);
    t0 = wb_now_ms();
    ASSERT_EQ(wb_http_run(h, 5000, NULL, 0), 0);
    ASSERT(wb_now_ms() - t0 < 2000);
    pthread_join(th, NULL);
    close(fds[0]);
    close(fds[1]);
    wb_http_free(h);
}

int main(void)
{
    server_start();
    RUN(test_classify);
    RUN(test_retry_after_parse);
    RUN(test_submit_errors);
    RUN(test_status_classes);
    RUN(test_large_bodies);
    RUN(test_timeout_and_refused);
    RUN(test_egress);
    RUN(test_proxy_and_reset);
    RUN(test_tls);
    RUN(test_keepalive_reuse);
    RUN(test_concurrent);
    RUN(test_free_aborts);
    RUN(test_wakeups);
    MHD_stop_daemon(srv);
    TEST_DONE();
}
