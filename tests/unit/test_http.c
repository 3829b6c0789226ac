/* test_http.c - the multi_socket HTTP client (outbound/http.h) on a wb_loop against a real
 * HTTP server on 127.0.0.1 (HTTP/2, TLS 1.3 with nginx and h2c are in test_http_h2.c).
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

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/loop.h"
#include "http/http.h"
#include "test.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------------
 * Test server */

static struct MHD_Daemon *srv;
static unsigned short port;
static atomic_int n_requests, n_connections;
static atomic_long last_body_len;
static atomic_int last_had_expect;
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_webhook_id[64]; /* guarded by last_lock */
static int last_empty;           /* an X-Empty header was present (empty value) */

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
    pthread_mutex_lock(&last_lock);
    q = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
    snprintf(last_webhook_id, sizeof(last_webhook_id), "%s", q ? q : "");
    q = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Empty");
    last_empty = q != NULL && q[0] == '\0';
    pthread_mutex_unlock(&last_lock);

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
 * Client helpers: one loop for the whole file, a client per test */

static wb_loop *lp;

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

static const wb_http_header CT[] = {{"Content-Type", "application/json"}};
static const char BODY[] = "{\"type\":\"test\"}";

static wb_http_target_opts base_opts(const char *u)
{
    wb_http_target_opts o;
    memset(&o, 0, sizeof(o));
    o.url = u;
    o.headers = CT;
    o.nheaders = 1;
    o.timeout_ms = 5000;
    o.connect_timeout_ms = 2000;
    o.allow_private = 1;
    return o;
}

static wb_http_target *target(wb_http *h, const wb_http_target_opts *o)
{
    char err[200] = "";
    wb_http_target *t = wb_http_target_new(h, o, err, sizeof(err));
    if (!t) FAIL_("wb_http_target_new(%s): %s", o->url, err);
    return t;
}

/* Turn the loop until pred-like condition *flag is non-zero (bounded). Returns turns run. */
static int run_until(const int *flag, int64_t ms)
{
    int64_t deadline = wb_now_ms() + ms;
    int turns = 0;
    while (!*flag && wb_now_ms() < deadline) {
        ASSERT(wb_loop_run_once(lp, 100) >= 0);
        turns++;
    }
    return turns;
}

/* Submit one request and turn the loop until it completes; the callback fires once only. */
static wb_http_result one_h(wb_http *h, wb_http_target *t, const wb_http_header *hdrs, size_t n,
                            const void *body, size_t len)
{
    got g = {0};
    ASSERT_EQ(wb_http_submit(h, t, hdrs, n, body, len, on_done, &g, NULL), WB_OK);
    ASSERT_EQ(g.n, 0); /* never from inside submit */
    ASSERT_EQ(wb_http_in_flight(h), 1);
    run_until(&g.n, 15000);
    ASSERT_EQ(g.n, 1);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    wb_loop_run_once(lp, 0);
    ASSERT_EQ(g.n, 1);
    return g.res;
}

static wb_http_result one(wb_http *h, wb_http_target *t)
{
    return one_h(h, t, NULL, 0, BODY, sizeof(BODY) - 1);
}

/* A target for url with opts from base_opts, used for one request, then released. */
static wb_http_result one_url(wb_http *h, const wb_http_target_opts *o)
{
    wb_http_target *t = target(h, o);
    wb_http_result r = one(h, t);
    wb_http_target_release(t);
    return r;
}

static wb_http *client(int max)
{
    char err[128] = "";
    wb_http_opts o = {.max_total_connections = max};
    wb_http *h = wb_http_new(lp, &o, err, sizeof(err));
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
    /* a date so far ahead that its milliseconds overflow int64 saturates too (found by
     * fuzz_http_parse; UBSan aborted on the signed overflow before) */
    ASSERT_EQ(wb_http_parse_retry_after("Wed, 21 Oct 919999999 07:28:00 GMT", now),
              INT64_MAX / 1000 * 1000);
}

static void test_header_ok(void)
{
    ASSERT(wb_http_header_ok("webhook-id", "msg_1"));
    ASSERT(wb_http_header_ok("X-A!#$%&'*+-.^_`|~9", "v\tw x"));
    ASSERT(wb_http_header_ok("x", ""));
    ASSERT(wb_http_header_ok("x", "caf\xc3\xa9")); /* obs-text passes */
    ASSERT(!wb_http_header_ok("", "v"));
    ASSERT(!wb_http_header_ok(NULL, "v"));
    ASSERT(!wb_http_header_ok("x", NULL));
    ASSERT(!wb_http_header_ok("x y", "v"));
    ASSERT(!wb_http_header_ok("x:", "v"));
    ASSERT(!wb_http_header_ok("x\r\nHost", "v"));
    ASSERT(!wb_http_header_ok("x", "a\r\nHost: evil"));
    ASSERT(!wb_http_header_ok("x", "a\nb"));
    ASSERT(!wb_http_header_ok("x", "a\rb"));
    ASSERT(!wb_http_header_ok("x", "a\x01"));
    ASSERT(!wb_http_header_ok("x", "a\x7f"));
    char big[8194];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT(!wb_http_header_ok("x", big));
    big[8192] = '\0';
    ASSERT(wb_http_header_ok("x", big));
}

/* Header injection: refused at target creation and at submit; nothing reaches the server. */
static void test_header_injection(void)
{
    wb_http *h = client(2);
    char u[128], err[200] = "";
    int reqs = atomic_load(&n_requests);
    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    wb_http_header bad[] = {{"Content-Type", "application/json"},
                            {"Authorization", "Bearer s3cret\r\nHost: evil"}};
    o.headers = bad;
    o.nheaders = 2;
    ASSERT(wb_http_target_new(h, &o, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "header 2 'Authorization'");
    ASSERT(strstr(err, "s3cret") == NULL); /* a value may be a secret: never echoed */
    wb_http_header badname[] = {{"X Bad\n", "v"}};
    o.headers = badname;
    o.nheaders = 1;
    ASSERT(wb_http_target_new(h, &o, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "header 1: invalid name");

    o = base_opts(u);
    wb_http_target *t = target(h, &o);
    got g = {0};
    wb_http_header inj[] = {{"webhook-id", "msg_1\r\nHost: evil.example"}};
    ASSERT_EQ(wb_http_submit(h, t, inj, 1, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    wb_http_header inj2[] = {{"traceparent", "00-x\n"}, {"webhook-id", "ok"}};
    ASSERT_EQ(wb_http_submit(h, t, inj2, 2, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    wb_http_header nul_name[] = {{"", "v"}};
    ASSERT_EQ(wb_http_submit(h, t, nul_name, 1, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    wb_loop_run_once(lp, 50);
    ASSERT_EQ(g.n, 0);
    ASSERT_EQ(atomic_load(&n_requests), reqs);

    /* typed headers arrive as sent; a blank value is sent as an empty header, not dropped */
    wb_http_header ok[] = {{"webhook-id", "msg_\xc3\xa9 1"}, {"X-Empty", ""}};
    wb_http_result r = one_h(h, t, ok, 2, BODY, 15);
    ASSERT_EQ(r.status, 200);
    pthread_mutex_lock(&last_lock);
    ASSERT_STR_EQ(last_webhook_id, "msg_\xc3\xa9 1");
    ASSERT_EQ(last_empty, 1);
    pthread_mutex_unlock(&last_lock);
    wb_http_target_release(t);
    wb_http_free(h);
}

static void test_status_classes(void)
{
    wb_http *h = client(4);
    char u[128];
    wb_http_target_opts o;
    wb_http_result r;
    int before;

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.curl_code, 0);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(r.retry_after_ms, -1);
    ASSERT_STR_EQ(r.error, "");
    ASSERT(r.elapsed_us > 0);
    ASSERT_EQ(r.http_version, 11);
    ASSERT_EQ(atomic_load(&last_body_len), 15);

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/503?retry_after=2"));
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 503);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_EQ(r.retry_after_ms, 2000);
    ASSERT_STR_EQ(r.error, "HTTP 503");

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/429?retry_after_date=5"));
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 429);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    if (r.retry_after_ms < 3000 || r.retry_after_ms > 6000)
        FAIL_("HTTP-date Retry-After gave %lld ms", (long long)r.retry_after_ms);

    /* Retry-After only counts on 429/503 */
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/500?retry_after=7"));
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_EQ(r.retry_after_ms, -1);

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/400"));
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 400);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(r.error, "HTTP 400");

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/410"));
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_GONE);

    /* 302 is not followed: one request on the server, RETRY */
    before = atomic_load(&n_requests);
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/302?location=/status/200"));
    r = one_url(h, &o);
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
    wb_http_target_opts o;
    wb_http_target *t;
    wb_http_result r;
    size_t n = 1536 * 1024;
    char *body = malloc(n);
    ASSERT(body != NULL);
    memset(body, 'a', n);

    /* big request body: sent whole, without Expect: 100-continue */
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/204"));
    t = target(h, &o);
    r = one_h(h, t, NULL, 0, body, n);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(atomic_load(&last_body_len), (long)n);
    ASSERT_EQ(atomic_load(&last_had_expect), 0);

    /* empty body */
    r = one_h(h, t, NULL, 0, NULL, 0);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_EQ(atomic_load(&last_body_len), 0);
    wb_http_target_release(t);

    /* response body over the cap: aborted, classified by the status already received */
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/big"));
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT_CONTAINS(r.error, "discarded");
    free(body);
    wb_http_free(h);
}

/* Timeouts fire through the loop timer: few turns, no busy loop, on time. */
static void test_timeout_and_refused(void)
{
    wb_http *h = client(4);
    char u[128];
    wb_http_target_opts o;
    wb_http_target *t;
    wb_http_result r;
    int64_t t0;
    got g = {0};

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/sleep/1500"));
    o.timeout_ms = 300;
    t = target(h, &o);
    t0 = wb_now_ms();
    ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, on_done, &g, NULL), WB_OK);
    /* unbounded waits: only libcurl's timer (through the loop's timer heap) can end them */
    int turns = 0;
    while (!g.n && wb_now_ms() - t0 < 5000) {
        ASSERT(wb_loop_run_once(lp, -1) >= 0);
        turns++;
    }
    ASSERT_EQ(g.n, 1);
    r = g.res;
    int64_t took = wb_now_ms() - t0;
    fprintf(stderr, "  timeout after %lld ms in %d loop turns\n", (long long)took, turns);
    ASSERT(took >= 290 && took < 1400);
    ASSERT(turns < 40);
    ASSERT_EQ(r.curl_code, CURLE_OPERATION_TIMEDOUT);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_STR_EQ(r.error, "timeout after 300 ms");
    wb_http_target_release(t);

    /* a port nobody listens on */
    snprintf(u, sizeof(u), "http://127.0.0.1:%u/status/200", closed_port());
    o = base_opts(u);
    r = one_url(h, &o);
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
    wb_http_target_opts o;
    wb_http_result r;
    int reqs = atomic_load(&n_requests), conns = atomic_load(&n_connections);
    char *cidrs[] = {"127.0.0.0/8"};
    wb_egress_policy *pol;

    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.allow_private = 0;
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_EQ(r.status, 0);
    ASSERT_STR_EQ(r.error, "egress denied: 127.0.0.1 is loopback");

    /* a name resolving to loopback is checked on the resolved address */
    o = base_opts(url(u, sizeof(u), "localhost", "/status/200"));
    o.allow_private = 0;
    r = one_url(h, &o);
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
        o = base_opts(url(u, sizeof(u), "localhost", "/status/200"));
        o.allow_private = 0;
        o.policy = p4;
        r = one_url(h, &o);
        ASSERT_EQ(r.cls, WB_HTTP_DONE);
        /* ... and when the allowed address refuses, that is a connect failure, not a denial */
        snprintf(u, sizeof(u), "http://localhost:%u/status/200", closed_port());
        o.url = u;
        r = one_url(h, &o);
        ASSERT_EQ(r.cls, WB_HTTP_RETRY);
        ASSERT_STR_EQ(r.error, "connect refused");
        wb_egress_policy_free(p4);
    }

    /* an allowlisted CIDR permits it */
    pol = wb_egress_policy_new(cidrs, 1, err, sizeof(err));
    ASSERT(pol != NULL);
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.allow_private = 0;
    o.policy = pol;
    wb_http_target *allowed = target(h, &o);
    r = one(h, allowed);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);

    /* the same URL in a target without the policy is denied, although a keep-alive
     * connection to it is open now: reused connections are checked too (prereq), and
     * nothing is sent on it */
    reqs = atomic_load(&n_requests);
    conns = atomic_load(&n_connections);
    o.policy = NULL;
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(r.error, "egress denied: 127.0.0.1 is loopback");
    ASSERT_EQ(atomic_load(&n_requests), reqs);
    /* ... while the allowed target goes on (libcurl closes a connection whose request a
     * callback aborted, so this may be a new one) */
    r = one(h, allowed);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);
    ASSERT(atomic_load(&n_connections) - conns <= 1);
    wb_http_target_release(allowed);
    wb_egress_policy_free(pol);

    /* https_only refuses http:// before connecting; other schemes never run */
    reqs = atomic_load(&n_requests);
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.https_only = 1;
    r = one_url(h, &o);
    ASSERT_EQ(r.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "unsupported protocol");
    o = base_opts("ftp://127.0.0.1/x");
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    o = base_opts("file:///etc/passwd");
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_EQ(atomic_load(&n_requests), reqs);
    wb_http_free(h);
}

/* Proxy semantics (issue 9 item 4): through the proxy only, NO_PROXY and the environment's
 * proxies ignored, the target host checked first, the guard still on for everything else.
 * Our server plays the proxy: it receives the absolute URI and answers 404 to it. */
static void test_proxy(void)
{
    wb_http *h = client(4);
    char u[128], proxy[64];
    wb_http_target_opts o;
    wb_http_result r;
    int reqs, conns;

    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", port);
    /* The regression: NO_PROXY matching the target used to send the request direct, with
     * the guard off because a proxy was configured. Now the request goes to the proxy. */
    setenv("NO_PROXY", "*", 1);
    setenv("no_proxy", "*", 1);
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
    reqs = atomic_load(&n_requests);
    snprintf(u, sizeof(u), "http://127.0.0.2:%u/status/200", port);
    o = base_opts(u);
    o.proxy = proxy;
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 404); /* the proxy answered (an absolute URI), not 127.0.0.2 */
    ASSERT_EQ(atomic_load(&n_requests) - reqs, 1);

    /* a target host that is a denied literal is refused before any connection, even
     * through a proxy (which would happily reach it) */
    reqs = atomic_load(&n_requests);
    conns = atomic_load(&n_connections);
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.allow_private = 0;
    o.proxy = proxy;
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_STR_EQ(r.error, "egress denied: 127.0.0.1 is loopback");
    o = base_opts("http://169.254.169.254/latest/meta-data/");
    o.allow_private = 0;
    o.proxy = proxy;
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "cloud metadata");
    /* ... and so is a name resolving to a denied address */
    o = base_opts(url(u, sizeof(u), "localhost", "/status/200"));
    o.allow_private = 0;
    o.proxy = proxy;
    r = one_url(h, &o);
    ASSERT_EQ(r.cls, WB_HTTP_PERMANENT);
    ASSERT_CONTAINS(r.error, "is loopback");
    ASSERT_EQ(atomic_load(&n_requests), reqs);
    ASSERT_EQ(atomic_load(&n_connections), conns); /* not even the proxy was contacted */

    /* an allowed target host (a documentation address: nothing is ever sent to it, the
     * proxy here answers itself) goes through the proxy, which may be on loopback */
    o = base_opts("http://192.0.2.1/hook");
    o.allow_private = 0;
    o.proxy = proxy;
    wb_http_target *via = target(h, &o);
    r = one(h, via);
    ASSERT_EQ(r.status, 404);
    ASSERT_EQ(atomic_load(&n_requests) - reqs, 1);
    /* a proxy that is not http(s) is refused at creation */
    {
        char err[128] = "";
        o.proxy = "socks5://127.0.0.1:1080";
        ASSERT(wb_http_target_new(h, &o, err, sizeof(err)) == NULL);
        ASSERT_CONTAINS(err, "proxy must be");
    }

    /* next request on the same pooled handle, to a target without a proxy: the guard
     * applies again and no proxy setting sticks */
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.allow_private = 0;
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 0);
    ASSERT_CONTAINS(r.error, "egress denied");
    o.allow_private = 1;
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 200);
    /* the proxied target still works after that (its handle is reconfigured) */
    r = one(h, via);
    ASSERT_EQ(r.status, 404);
    wb_http_target_release(via);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");

    /* TLS file options on an http:// URL are harmless and do not stick either */
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/201"));
    o.ca_file = "/nonexistent/ca.pem";
    o.client_cert = "/nonexistent/cert.pem";
    o.client_key = "/nonexistent/key.pem";
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 201);
    o.ca_file = o.client_cert = o.client_key = NULL;
    r = one_url(h, &o);
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
    wb_http_target_opts o;
    wb_http_result r;
    int fd;

    /* Debian's libmicrohttpd has TLS (GnuTLS): without it this test must fail, not skip */
    ASSERT(MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES);
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
    o = base_opts(u);
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 0);
    ASSERT_EQ(r.curl_code, CURLE_PEER_FAILED_VERIFICATION);
    ASSERT_EQ(r.cls, WB_HTTP_RETRY);
    ASSERT_CONTAINS(r.error, "TLS: ");

    /* with the partner's CA file it verifies (https_only is satisfied by https://) */
    o.ca_file = ca_path;
    o.https_only = 1;
    r = one_url(h, &o);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.cls, WB_HTTP_DONE);

    /* the CA file does not stick to the pooled handle */
    o.ca_file = NULL;
    r = one_url(h, &o);
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
    wb_http_target *t;
    int done, ok, left;
} chain;

static void chain_next(void *opaque, const wb_http_result *res)
{
    chain *c = opaque;
    c->done++;
    c->ok += res->cls == WB_HTTP_DONE;
    if (c->left > 0) {
        c->left--;
        ASSERT_EQ(wb_http_submit(c->h, c->t, NULL, 0, BODY, 15, chain_next, c, NULL), WB_OK);
    }
}

static void test_keepalive_reuse(void)
{
    const int max = 4;
    chain c;
    char u[128];
    int conns = atomic_load(&n_connections), reqs = atomic_load(&n_requests);
    int all = 0;

    memset(&c, 0, sizeof(c));
    c.h = client(max);
    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    c.t = target(c.h, &o);
    c.left = 199;
    ASSERT_EQ(wb_http_submit(c.h, c.t, NULL, 0, BODY, 15, chain_next, &c, NULL), WB_OK);
    int64_t deadline = wb_now_ms() + 20000;
    while (c.done < 200 && wb_now_ms() < deadline)
        ASSERT(wb_loop_run_once(lp, 100) >= 0);
    (void)all;
    ASSERT_EQ(c.done, 200);
    ASSERT_EQ(c.ok, 200);
    ASSERT_EQ(atomic_load(&n_requests) - reqs, 200);
    ASSERT(atomic_load(&n_connections) - conns <= max);
    ASSERT_EQ(atomic_load(&n_connections) - conns, 1); /* strictly sequential: one */
    wb_http_target_release(c.t);
    wb_http_free(c.h);
}

/* Many transfers at once over a capped number of connections; per-request headers differ. */
static void test_concurrent(void)
{
    enum { N = 2000, MAXC = 32, MAXHOST = 16 };
    static got g[N];
    static char ids[N][24];
    char u[128];
    wb_http *h = client(MAXC);
    int conns = atomic_load(&n_connections), reqs = atomic_load(&n_requests);
    wb_http_opts lim = {.max_total_connections = MAXC, .max_host_connections = MAXHOST};

    memset(g, 0, sizeof(g));
    ASSERT_EQ(wb_http_set_limits(h, &lim), WB_OK);
    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.timeout_ms = 30000;
    wb_http_target *t = target(h, &o);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "msg_%d", i);
        wb_http_header hd[] = {{"webhook-id", ids[i]}};
        ASSERT_EQ(wb_http_submit(h, t, hd, 1, BODY, 15, on_done, &g[i], NULL), WB_OK);
    }
    wb_http_target_release(t); /* the requests hold their own references */
    ASSERT_EQ(wb_http_in_flight(h), N);
    int64_t t0 = wb_now_ms(), deadline = t0 + 40000;
    while (wb_http_in_flight(h) > 0 && wb_now_ms() < deadline)
        ASSERT(wb_loop_run_once(lp, 100) >= 0);
    int64_t took = wb_now_ms() - t0;
    ASSERT_EQ(wb_http_in_flight(h), 0);
    for (int i = 0; i < N; i++)
        if (g[i].n != 1 || g[i].res.cls != WB_HTTP_DONE)
            FAIL_("request %d: fired %d times, class %d (%s)", i, g[i].n, g[i].res.cls,
                  g[i].res.error);
    ASSERT_EQ(atomic_load(&n_requests) - reqs, N);
    ASSERT(atomic_load(&n_connections) - conns <= MAXHOST);
    fprintf(stderr, "  %d concurrent requests over %d connections in %lld ms\n", N,
            atomic_load(&n_connections) - conns, (long long)took);
    wb_http_free(h);
}

/* Cancel: the callback never fires, the others finish; cancel from inside a callback too. */
typedef struct canceller {
    wb_http *h;
    wb_http_xfer *victim;
    int n;
} canceller;

static void cancel_other(void *opaque, const wb_http_result *res)
{
    canceller *c = opaque;
    c->n++;
    if (c->victim) wb_http_cancel(c->h, c->victim);
    c->victim = NULL;
}

static void test_cancel(void)
{
    wb_http *h = client(8);
    char u[128];
    got g[4];
    wb_http_xfer *x[4];
    memset(g, 0, sizeof(g));
    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/sleep/300"));
    wb_http_target *t = target(h, &o);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, on_done, &g[i], &x[i]), WB_OK);
    wb_http_cancel(h, x[1]); /* before it even started */
    ASSERT_EQ(wb_http_in_flight(h), 3);
    ASSERT(wb_loop_run_once(lp, 50) >= 0);
    wb_http_cancel(h, x[2]); /* while connected and waiting for the answer */
    ASSERT_EQ(wb_http_in_flight(h), 2);
    int64_t deadline = wb_now_ms() + 10000;
    while ((g[0].n == 0 || g[3].n == 0) && wb_now_ms() < deadline)
        ASSERT(wb_loop_run_once(lp, 100) >= 0);
    ASSERT_EQ(g[0].n, 1);
    ASSERT_EQ(g[3].n, 1);
    ASSERT_EQ(g[0].res.status, 200);
    ASSERT_EQ(g[1].n, 0);
    ASSERT_EQ(g[2].n, 0);
    ASSERT_EQ(wb_http_in_flight(h), 0);

    /* from a completion callback: a quick request cancels a slow one */
    char u2[128];
    wb_http_target_opts o2 = base_opts(url(u2, sizeof(u2), "127.0.0.1", "/status/200"));
    wb_http_target *quick = target(h, &o2);
    canceller c = {.h = h};
    got slow = {0};
    ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, on_done, &slow, &c.victim), WB_OK);
    ASSERT_EQ(wb_http_submit(h, quick, NULL, 0, BODY, 15, cancel_other, &c, NULL), WB_OK);
    run_until(&c.n, 5000);
    ASSERT_EQ(c.n, 1);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    for (int i = 0; i < 10; i++)
        wb_loop_run_once(lp, 50);
    ASSERT_EQ(slow.n, 0);

    /* a cancelled request of a proxied, denied target (queued for the kick timer) */
    char proxy[64];
    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%u", port);
    o2.allow_private = 0;
    o2.proxy = proxy;
    wb_http_target *denied = target(h, &o2);
    got dg[2];
    memset(dg, 0, sizeof(dg));
    wb_http_xfer *dx;
    ASSERT_EQ(wb_http_submit(h, denied, NULL, 0, BODY, 15, on_done, &dg[0], &dx), WB_OK);
    ASSERT_EQ(wb_http_submit(h, denied, NULL, 0, BODY, 15, on_done, &dg[1], NULL), WB_OK);
    wb_http_cancel(h, dx);
    wb_http_target_release(denied);
    run_until(&dg[1].n, 2000);
    ASSERT_EQ(dg[0].n, 0);
    ASSERT_EQ(dg[1].n, 1);
    ASSERT_EQ(dg[1].res.cls, WB_HTTP_PERMANENT);
    /* ... and one cancelled by the completion of another refused one queued before it, in
     * the same kick: the victim never completes (the kick used to run a detached copy of
     * its queue and completed the cancelled transfer again, with no callback left) */
    denied = target(h, &o2);
    canceller dc = {.h = h};
    got victim = {0};
    ASSERT_EQ(wb_http_submit(h, denied, NULL, 0, BODY, 15, cancel_other, &dc, NULL), WB_OK);
    ASSERT_EQ(wb_http_submit(h, denied, NULL, 0, BODY, 15, on_done, &victim, &dc.victim), WB_OK);
    wb_http_target_release(denied);
    run_until(&dc.n, 2000);
    for (int i = 0; i < 5; i++)
        wb_loop_run_once(lp, 20);
    ASSERT_EQ(dc.n, 1);
    ASSERT_EQ(victim.n, 0);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    wb_http_target_release(quick);
    wb_http_target_release(t);
    wb_http_free(h);
}

/* wb_http_free with transfers running: no callback, no leak (ASan), sockets unwatched. */
static void test_free_aborts(void)
{
    wb_http *h = client(4);
    char u[128];
    got g[3] = {{0}};
    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/sleep/400"));
    wb_http_target *t = target(h, &o);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, on_done, &g[i], NULL), WB_OK);
    wb_http_target_release(t);
    for (int i = 0; i < 3; i++)
        ASSERT(wb_loop_run_once(lp, 20) >= 0);
    ASSERT_EQ(wb_http_in_flight(h), 3);
    wb_http_free(h);
    /* nothing of the client is left on the loop: a turn runs no callback of it */
    ASSERT_EQ(wb_loop_next_timer_ms(lp), -1);
    ASSERT_EQ(wb_loop_run_once(lp, 50), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(g[i].n, 0);
}

static void test_submit_errors(void)
{
    wb_http *h = client(1);
    char u[128];
    got g = {0};
    char err[64] = "";
    wb_http_target_opts o = base_opts(NULL);
    ASSERT(wb_http_target_new(h, &o, err, sizeof(err)) == NULL);
    o = base_opts(url(u, sizeof(u), "127.0.0.1", "/status/200"));
    o.http2 = (wb_http2_mode)7;
    ASSERT(wb_http_target_new(h, &o, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "http2");
    o.http2 = WB_HTTP2_AUTO;
    wb_http_target *t = target(h, &o);
    ASSERT_EQ(wb_http_submit(h, NULL, NULL, 0, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, NULL, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_submit(NULL, t, NULL, 0, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_submit(h, t, NULL, 0, NULL, 15, on_done, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_submit(h, t, NULL, 2, BODY, 15, on_done, &g, NULL), WB_ERR_INVALID);
    ASSERT_EQ(wb_http_in_flight(h), 0);
    ASSERT_EQ(wb_loop_run_once(lp, 0), 0);
    ASSERT_EQ(g.n, 0);
    wb_http_opts bad = {.max_total_connections = 1, .max_host_connections = -1};
    ASSERT_EQ(wb_http_set_limits(h, &bad), WB_ERR_INVALID);
    wb_http_target_release(t);
    wb_http_free(h);
    wb_http_opts zero = {.max_total_connections = 0};
    ASSERT(wb_http_new(lp, &zero, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "max_total_connections");
}

/* The loop serves other watchers and wakeups while the client has work on it. */
static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    wb_loop_wakeup(arg);
    return NULL;
}

static int pipe_fired;
static void on_pipe(wb_loop *l, int fd, unsigned events, void *arg)
{
    char b[8];
    pipe_fired += read(fd, b, sizeof(b)) > 0;
}

static void test_wakeups(void)
{
    wb_http *h = client(1);
    char u[128];
    int fds[2];
    pthread_t th;
    int64_t t0;
    got g = {0};

    wb_http_target_opts o = base_opts(url(u, sizeof(u), "127.0.0.1", "/sleep/3000"));
    wb_http_target *t = target(h, &o);
    ASSERT_EQ(wb_http_submit(h, t, NULL, 0, BODY, 15, on_done, &g, NULL), WB_OK);
    for (int i = 0; i < 3; i++)
        ASSERT(wb_loop_run_once(lp, 20) >= 0);
    ASSERT_EQ(pipe(fds), 0);
    ASSERT_EQ(wb_loop_io_add(lp, fds[0], WB_LOOP_READ, on_pipe, NULL), WB_OK);
    ASSERT_EQ(write(fds[1], "x", 1), 1);
    t0 = wb_now_ms();
    while (!pipe_fired && wb_now_ms() - t0 < 1000)
        ASSERT(wb_loop_run_once(lp, 5000) >= 0);
    ASSERT(wb_now_ms() - t0 < 1000);
    ASSERT_EQ(pipe_fired, 1);
    wb_loop_io_del(lp, fds[0]);

    ASSERT_EQ(pthread_create(&th, NULL, wake_later, lp), 0);
    t0 = wb_now_ms();
    ASSERT(wb_loop_run_once(lp, 5000) >= 0);
    ASSERT(wb_now_ms() - t0 < 2000);
    pthread_join(th, NULL);
    close(fds[0]);
    close(fds[1]);
    ASSERT_EQ(g.n, 0);
    wb_http_target_release(t);
    wb_http_free(h);
}

int main(void)
{
    char err[128] = "";
    lp = wb_loop_new(err, sizeof(err));
    if (!lp) FAIL_("wb_loop_new: %s", err);
    server_start();
    RUN(test_classify);
    RUN(test_retry_after_parse);
    RUN(test_header_ok);
    RUN(test_submit_errors);
    RUN(test_header_injection);
    RUN(test_status_classes);
    RUN(test_large_bodies);
    RUN(test_timeout_and_refused);
    RUN(test_egress);
    RUN(test_proxy);
    RUN(test_tls);
    RUN(test_keepalive_reuse);
    RUN(test_concurrent);
    RUN(test_cancel);
    RUN(test_free_aborts);
    RUN(test_wakeups);
    MHD_stop_daemon(srv);
    wb_loop_free(lp);
    TEST_DONE();
}
