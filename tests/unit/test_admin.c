/* test_admin.c - the admin endpoint over real HTTP (libcurl) on an ephemeral port. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ops/admin.h"
#include "core/log.h"
#include "core/metrics.h"
#include "prom_check.h"
#include "test.h"
#include "core/util.h"

typedef struct resp {
    long status;
    char ctype[128];
    wb_buf body;
    wb_buf headers;
} resp;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    return wb_buf_add(&r->body, p, size * n) == WB_OK ? size * n : 0;
}

/* Perform method on http://127.0.0.1:port/path; the caller frees r->body. */
static void fetch(int port, const char *method, const char *path, resp *r)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    memset(r, 0, sizeof *r);
    wb_buf_init(&r->body, 1 << 20);
    CURL *c = curl_easy_init();
    ASSERT(c != NULL);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) FAIL_("%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->ctype, sizeof r->ctype, "%s", ct ? ct : "");
    curl_easy_cleanup(c);
    if (!r->body.data) wb_buf_adds(&r->body, "");
}

static json_t *parse(const resp *r)
{
    json_error_t e;
    json_t *j = json_loads(r->body.data, 0, &e);
    if (!j) FAIL_("not JSON (%s): %s", e.text, r->body.data);
    return j;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_bad_listen(void)
{
    char err[256] = "";
    ASSERT(wb_admin_new("nonsense", err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "admin.listen");
    ASSERT(wb_admin_new("127.0.0.1:99999", err, sizeof err) == NULL);
    /* A port already in use is a clean error. */
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", wb_admin_port(a));
    err[0] = 0;
    ASSERT(wb_admin_new(busy, err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "cannot listen");
    wb_admin_free(a);
}

/* Whether this host can bind [::1] at all, asked of the kernel directly (not of the code
 * under test): only then may the IPv6 test be skipped. */
static int host_has_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* IPv6 literal in brackets. Regression (issue 9): the test skipped whenever wb_admin_new
 * failed, so a broken IPv6 path passed; now it fails unless the host itself has no IPv6. */
static void test_ipv6_listen(void)
{
    char err[256] = "";
    if (!host_has_ipv6_loopback()) {
        fprintf(stderr, "skip: the kernel refuses to bind [::1] on this host\n");
        return;
    }
    wb_admin *a = wb_admin_new("[::1]:0", err, sizeof err);
    if (!a) FAIL_("wb_admin_new([::1]:0) failed on a host with IPv6 loopback: %s", err);
    ASSERT(wb_admin_port(a) > 0);
    char url[64];
    snprintf(url, sizeof url, "http://[::1]:%d/healthz", wb_admin_port(a));
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    ASSERT_EQ(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ASSERT_EQ(status, 200);
    curl_easy_cleanup(c);
    wb_admin_free(a);
}

static void test_metrics_scrape(void)
{
    wb_metrics_reset();
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    if (!a) FAIL_("wb_admin_new: %s", err);
    ASSERT(wb_admin_port(a) > 0);
    wb_counter *c =
        wb_metrics_counter("webhook_bridge_test_total", "Test counter.", "connector=\"acme\"");
    wb_histogram *h = wb_metrics_histogram("webhook_bridge_test_seconds", "Test.", "", NULL, 0);
    wb_counter_add(c, 7);
    wb_histogram_observe(h, 0.2);

    resp r;
    fetch(wb_admin_port(a), "GET", "/metrics", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.ctype, "text/plain; version=0.0.4");
    char why[512] = "";
    int n = prom_check(r.body.data, why, sizeof why);
    if (n < 0) FAIL_("scrape does not parse: %s", why);
    ASSERT(n >= 3 + 16);
    ASSERT_CONTAINS(r.body.data, "webhook_bridge_build_info{version=\"" WB_VERSION "\"} 1\n");
    ASSERT_CONTAINS(r.body.data, "webhook_bridge_test_total{connector=\"acme\"} 7\n");
    ASSERT_CONTAINS(r.body.data, "webhook_bridge_test_seconds_count 1\n");
    wb_buf_free(&r.body);

    /* Counters move between scrapes. */
    wb_counter_inc(c);
    fetch(wb_admin_port(a), "GET", "/metrics", &r);
    ASSERT_CONTAINS(r.body.data, "webhook_bridge_test_total{connector=\"acme\"} 8\n");
    wb_buf_free(&r.body);

    /* HEAD is answered like GET, without a body. */
    fetch(wb_admin_port(a), "HEAD", "/metrics", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, 0);
    wb_buf_free(&r.body);

    /* Unknown path and wrong method: problem+json. */
    fetch(wb_admin_port(a), "GET", "/nope", &r);
    ASSERT_EQ(r.status, 404);
    ASSERT_CONTAINS(r.ctype, "application/problem+json");
    json_t *j = parse(&r);
    ASSERT_EQ(json_integer_value(json_object_get(j, "status")), 404);
    json_decref(j);
    wb_buf_free(&r.body);
    fetch(wb_admin_port(a), "POST", "/metrics", &r);
    ASSERT_EQ(r.status, 405);
    j = parse(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "title")), "Method Not Allowed");
    json_decref(j);
    wb_buf_free(&r.body);
    wb_admin_free(a);
    wb_metrics_reset();
}

static atomic_int consumer_ok;
static int consumer_check(void *ctx, wb_buf *why)
{
    if (atomic_load(&consumer_ok)) return 1;
    wb_buf_adds(why, (const char *)ctx);
    return 0;
}
static int always_ok(void *ctx, wb_buf *why)
{
    return 1;
}

static void test_readyz(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    int port = wb_admin_port(a);
    resp r;
    /* No checks: ready. */
    fetch(port, "GET", "/readyz", &r);
    ASSERT_EQ(r.status, 200);
    wb_buf_free(&r.body);

    wb_admin_add_ready_check(a, "producer", always_ok, NULL);
    wb_admin_add_ready_check(a, "consumer", consumer_check, "no partitions assigned");
    atomic_store(&consumer_ok, 0);
    fetch(port, "GET", "/readyz", &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_CONTAINS(r.ctype, "application/json");
    json_t *j = parse(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")), "not ready");
    json_t *checks = json_object_get(j, "checks");
    ASSERT_STR_EQ(json_string_value(json_object_get(checks, "consumer")), "no partitions assigned");
    ASSERT_STR_EQ(json_string_value(json_object_get(checks, "producer")), "ok");
    json_decref(j);
    wb_buf_free(&r.body);

    atomic_store(&consumer_ok, 1);
    fetch(port, "GET", "/readyz", &r);
    ASSERT_EQ(r.status, 200);
    j = parse(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")), "ready");
    json_decref(j);
    wb_buf_free(&r.body);

    atomic_store(&consumer_ok, 0);
    fetch(port, "GET", "/readyz", &r);
    ASSERT_EQ(r.status, 503);
    wb_buf_free(&r.body);

    /* Liveness is independent of readiness. */
    fetch(port, "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 200);
    wb_buf_free(&r.body);
    wb_admin_free(a);
}

static void test_healthz(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    int port = wb_admin_port(a);
    wb_heartbeat *fast = wb_admin_heartbeat(a, "consumer", 500);
    wb_heartbeat *slow = wb_admin_heartbeat(a, "http", 60000);
    ASSERT(fast && slow);
    resp r;
    fetch(port, "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 200);
    json_t *j = parse(&r);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    wb_buf_free(&r.body);

    /* Beating keeps it alive past the stall limit. */
    for (int i = 0; i < 6; i++) {
        wb_heartbeat_beat(fast);
        sleep_ms(100);
    }
    wb_heartbeat_beat(fast);
    fetch(port, "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 200);
    wb_buf_free(&r.body);

    /* The consumer loop stops beating: 503 naming it, not the healthy loop. */
    sleep_ms(1200);
    fetch(port, "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 503);
    j = parse(&r);
    json_t *loops = json_object_get(j, "loops");
    ASSERT(json_object_get(loops, "consumer") != NULL);
    ASSERT_CONTAINS(json_string_value(json_object_get(loops, "consumer")), "no heartbeat for");
    ASSERT(json_object_get(loops, "http") == NULL);
    json_decref(j);
    wb_buf_free(&r.body);

    /* And recovers when it beats again. */
    wb_heartbeat_beat(fast);
    fetch(port, "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 200);
    wb_buf_free(&r.body);
    wb_admin_free(a);
}

/* ---- added routes, the token, the ready gauge, slow clients ---- */

static size_t on_hdr(char *p, size_t size, size_t n, void *ud)
{
    resp *r = ud;
    wb_buf_add(&r->headers, p, size * n);
    return size * n;
}

/* method path with extra headers (NULL-terminated) and an optional body. */
static void call(int port, const char *method, const char *path, const char *const *hdrs,
                 const char *body, size_t len, resp *r)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    memset(r, 0, sizeof *r);
    wb_buf_init(&r->body, 1 << 20);
    wb_buf_init(&r->headers, 1 << 20);
    CURL *c = curl_easy_init();
    struct curl_slist *sl = NULL;
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    sl = curl_slist_append(sl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) FAIL_("%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->ctype, sizeof r->ctype, "%s", ct ? ct : "");
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    if (!r->body.data) wb_buf_adds(&r->body, "");
    if (!r->headers.data) wb_buf_adds(&r->headers, "");
}

static void resp_free(resp *r)
{
    wb_buf_free(&r->body);
    wb_buf_free(&r->headers);
}

static atomic_int pauses;

static void h_list(void *ctx, const wb_admin_request *req, wb_admin_response *out)
{
    const char *only = wb_admin_query(req, "only");
    wb_buf_printf(&out->body, "{\"connectors\":[\"%s\"],\"method\":\"%s\"}",
                  only ? only : (const char *)ctx, req->method);
}

static void h_pause(void *ctx, const wb_admin_request *req, wb_admin_response *out)
{
    const char *name = req->path + strlen("/connectors/");
    if (strncmp(name, "acme/", 5)) {
        wb_admin_problem(out, 404, "no such connector");
        return;
    }
    atomic_fetch_add(&pauses, 1);
    out->status = 202;
    snprintf(out->content_type, sizeof out->content_type, "text/plain");
    wb_buf_printf(&out->body, "paused, body=%zu:%s", req->body_len, req->body);
}

static void test_routes_and_token(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    int port = wb_admin_port(a);
    ASSERT_EQ(wb_admin_route(a, "GET", "/connectors", 0, h_list, "acme", 0), WB_OK);
    ASSERT_EQ(wb_admin_route(a, "POST", "/connectors/", 1, h_pause, NULL, 1), WB_OK);
    ASSERT_EQ(wb_admin_route(a, "GET", "/metrics", 0, h_list, NULL, 0), WB_ERR_INVALID);
    ASSERT_EQ(wb_admin_route(a, "GET", "no-slash", 0, h_list, NULL, 0), WB_ERR_INVALID);
    resp r;
    call(port, "GET", "/connectors?only=x", NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body.data, "{\"connectors\":[\"x\"],\"method\":\"GET\"}");
    ASSERT_CONTAINS(r.ctype, "application/json");
    resp_free(&r);
    call(port, "DELETE", "/connectors", NULL, NULL, 0, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_CONTAINS(r.headers.data, "Allow: GET");
    ASSERT_CONTAINS(r.ctype, "application/problem+json");
    resp_free(&r);

    /* no token configured: every mutating call is refused, whatever it carries */
    const char *bearer[] = {"Authorization: Bearer s3cret-token", NULL};
    call(port, "POST", "/connectors/acme/pause", bearer, "{}", 2, &r);
    ASSERT_EQ(r.status, 403);
    ASSERT_CONTAINS(r.body.data, "admin.token is not configured");
    resp_free(&r);
    ASSERT_EQ(atomic_load(&pauses), 0);

    ASSERT_EQ(wb_admin_set_token(a, "s3cret-token"), WB_OK);
    const char *wrong[] = {"Authorization: Bearer s3cret-tokeN", NULL};
    const char *longer[] = {"Authorization: Bearer s3cret-token-and-more", NULL};
    const char *basic[] = {"Authorization: Basic czNjcmV0LXRva2Vu", NULL};
    const char *const *bad[] = {NULL, wrong, longer, basic};
    for (size_t i = 0; i < 4; i++) {
        call(port, "POST", "/connectors/acme/pause", bad[i], "{}", 2, &r);
        ASSERT_EQ(r.status, 401);
        ASSERT_CONTAINS(r.headers.data, "WWW-Authenticate: Bearer");
        ASSERT_CONTAINS(r.ctype, "application/problem+json");
        ASSERT(!strstr(r.body.data, "s3cret"));
        resp_free(&r);
    }
    ASSERT_EQ(atomic_load(&pauses), 0);
    call(port, "POST", "/connectors/acme/pause", bearer, "{\"for\":\"1h\"}", 12, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STR_EQ(r.body.data, "paused, body=12:{\"for\":\"1h\"}");
    ASSERT_CONTAINS(r.ctype, "text/plain");
    resp_free(&r);
    ASSERT_EQ(atomic_load(&pauses), 1);
    call(port, "POST", "/connectors/other/pause", bearer, NULL, 0, &r);
    ASSERT_EQ(r.status, 404);
    ASSERT_CONTAINS(r.body.data, "no such connector");
    resp_free(&r);
    /* a body over the bound: 413 after the body, nothing run */
    char *big = malloc(100000);
    memset(big, 'x', 100000);
    call(port, "POST", "/connectors/acme/pause", bearer, big, 100000, &r);
    ASSERT_EQ(r.status, 413);
    resp_free(&r);
    free(big);
    ASSERT_EQ(atomic_load(&pauses), 1);
    /* the token can be withdrawn (reload): mutating calls are refused again */
    ASSERT_EQ(wb_admin_set_token(a, NULL), WB_OK);
    call(port, "POST", "/connectors/acme/pause", bearer, "{}", 2, &r);
    ASSERT_EQ(r.status, 403);
    resp_free(&r);
    wb_admin_free(a);
}

static void test_ready_gauge(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    wb_gauge *g = wb_metrics_gauge("webhook_bridge_ready", "", "");
    ASSERT_EQ(wb_gauge_value(g), 1);
    atomic_store(&consumer_ok, 0);
    wb_admin_add_ready_check(a, "consumer", consumer_check, "no partitions assigned");
    /* nobody calls /readyz: the admin thread re-evaluates on its own */
    int64_t end = wb_now_ms() + 3000;
    while (wb_gauge_value(g) != 0 && wb_now_ms() < end)
        sleep_ms(50);
    ASSERT_EQ(wb_gauge_value(g), 0);
    resp r;
    fetch(wb_admin_port(a), "GET", "/metrics", &r);
    ASSERT_CONTAINS(r.body.data, "\nwebhook_bridge_ready 0\n");
    wb_buf_free(&r.body);
    atomic_store(&consumer_ok, 1);
    end = wb_now_ms() + 3000;
    while (wb_gauge_value(g) != 1 && wb_now_ms() < end)
        sleep_ms(50);
    ASSERT_EQ(wb_gauge_value(g), 1);
    wb_admin_free(a);
}

/* 1 if the peer closed within ms (discarding what it sends). */
static int closed_within(int fd, int ms)
{
    int64_t end = wb_now_ms() + ms;
    while (wb_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            char b[512];
            if (recv(fd, b, sizeof b, 0) <= 0) return 1;
        }
    }
    return 0;
}

/* Issue 9.7 on the admin endpoint: a header trickle is cut 5 s after the accept. */
static void test_admin_slow_client(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("127.0.0.1:0", err, sizeof err);
    ASSERT(a != NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)wb_admin_port(a))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: "
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    int64_t t0 = wb_now_ms();
    int cut = 0;
    for (size_t i = 0; req[i] && !cut; i++) {
        if (send(fd, req + i, 1, MSG_NOSIGNAL) < 0) break;
        cut = closed_within(fd, 250);
    }
    int64_t took = wb_now_ms() - t0;
    close(fd);
    ASSERT(cut);
    ASSERT(took >= 4800 && took < 7000);
    ASSERT_EQ(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_request_timeouts_total",
                                                  "", "endpoint=\"admin\",phase=\"headers\"")),
              1);
    resp r;
    fetch(wb_admin_port(a), "GET", "/healthz", &r);
    ASSERT_EQ(r.status, 200);
    wb_buf_free(&r.body);
    wb_admin_free(a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_bad_listen);
    RUN(test_ipv6_listen);
    RUN(test_metrics_scrape);
    RUN(test_readyz);
    RUN(test_healthz);
    RUN(test_routes_and_token);
    RUN(test_ready_gauge);
    RUN(test_admin_slow_client);
    curl_global_cleanup();
    wb_metrics_reset();
    TEST_DONE();
}
