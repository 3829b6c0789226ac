/* test_admin.c - the admin endpoint over real HTTP (libcurl) on an ephemeral port. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <time.h>

#include "admin.h"
#include "metrics.h"
#include "prom_check.h"
#include "test.h"

typedef struct resp {
    long status;
    char ctype[128];
    wb_buf body;
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

/* IPv6 literal in brackets, when the host has IPv6 loopback. */
static void test_ipv6_listen(void)
{
    char err[256] = "";
    wb_admin *a = wb_admin_new("[::1]:0", err, sizeof err);
    if (!a) {
        fprintf(stderr, "skip: no IPv6 loopback here (%s)\n", err);
        return;
    }
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

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(test_bad_listen);
    RUN(test_ipv6_listen);
    RUN(test_metrics_scrape);
    RUN(test_readyz);
    RUN(test_healthz);
    curl_global_cleanup();
    wb_metrics_reset();
    TEST_DONE();
}
