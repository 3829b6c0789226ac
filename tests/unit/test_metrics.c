/* test_metrics.c - registry, atomics and the Prometheus text exposition. */
#include <math.h>
#include <pthread.h>

#include "core/metrics.h"
#include "prom_check.h"
#include "test.h"

static char *render(void)
{
    wb_buf b;
    wb_buf_init(&b, 0);
    ASSERT_EQ(wb_metrics_render(&b), WB_OK);
    if (!b.data) wb_buf_adds(&b, "");
    return wb_buf_steal(&b, NULL);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void check_valid(const char *text)
{
    char why[512] = "";
    int n = prom_check(text, why, sizeof why);
    if (n < 0) FAIL_("invalid exposition: %s\n%s", why, text);
}

/* The checker itself must reject broken text, or the other tests prove nothing. */
static void test_checker_rejects(void)
{
    char why[256];
    ASSERT_EQ(prom_check("a 1\n", why, sizeof why), 1);
    ASSERT_EQ(prom_check("a 1", why, sizeof why), -1);              /* no newline */
    ASSERT_EQ(prom_check("1a 1\n", why, sizeof why), -1);           /* bad name */
    ASSERT_EQ(prom_check("a{b=\"x} 1\n", why, sizeof why), -1);     /* unterminated */
    ASSERT_EQ(prom_check("a{b=\"\\x\"} 1\n", why, sizeof why), -1); /* bad escape */
    ASSERT_EQ(prom_check("a one\n", why, sizeof why), -1);          /* not a float */
    ASSERT_EQ(prom_check("# TYPE a counter\n# TYPE a counter\n", why, sizeof why), -1);
    ASSERT_EQ(prom_check("a 1\nb 1\na 2\n", why, sizeof why), -1); /* not contiguous */
    ASSERT_EQ(prom_check("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                         "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                         why, sizeof why),
              -1); /* not cumulative */
    ASSERT_EQ(prom_check("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
                         "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
                         why, sizeof why),
              -1); /* count != +Inf */
}

static void test_counter_gauge(void)
{
    wb_metrics_reset();
    wb_counter *c = wb_metrics_counter("wb_deliveries_total", "Deliveries.",
                                       "connector=\"acme\",outcome=\"delivered\"");
    ASSERT(c != NULL);
    /* Same family and labels: same handle. */
    ASSERT(c == wb_metrics_counter("wb_deliveries_total", "Deliveries.",
                                   "connector=\"acme\",outcome=\"delivered\""));
    wb_counter *c2 = wb_metrics_counter("wb_deliveries_total", "Deliveries.",
                                        "connector=\"acme\",outcome=\"retried\"");
    ASSERT(c2 != NULL && c2 != c);
    wb_counter_inc(c);
    wb_counter_add(c, 41);
    ASSERT_EQ(wb_counter_value(c), 42);
    ASSERT_EQ(wb_counter_value(c2), 0);

    wb_gauge *g = wb_metrics_gauge("wb_in_flight", "In flight.", "");
    ASSERT(g != NULL);
    wb_gauge_set(g, 2.5);
    wb_gauge_add(g, -1);
    ASSERT(wb_gauge_value(g) == 1.5);

    /* A name reused with another type is refused. */
    ASSERT(wb_metrics_gauge("wb_deliveries_total", "x", "") == NULL);
    /* Invalid names and label strings are refused. */
    ASSERT(wb_metrics_counter("1bad", "x", "") == NULL);
    ASSERT(wb_metrics_counter("ok_total", "x", "a=b") == NULL);
    ASSERT(wb_metrics_counter("ok_total", "x", "a=\"b\",") == NULL);
    ASSERT(wb_metrics_counter("ok_total", "x", "__a=\"b\"") == NULL);
    ASSERT(wb_metrics_histogram("h_seconds", "x", "le=\"1\"", NULL, 0) == NULL);

    char *t = render();
    check_valid(t);
    const char *want = "# HELP wb_deliveries_total Deliveries.\n"
                       "# TYPE wb_deliveries_total counter\n"
                       "wb_deliveries_total{connector=\"acme\",outcome=\"delivered\"} 42\n"
                       "wb_deliveries_total{connector=\"acme\",outcome=\"retried\"} 0\n"
                       "# HELP wb_in_flight In flight.\n"
                       "# TYPE wb_in_flight gauge\n"
                       "wb_in_flight 1.5\n";
    ASSERT_STR_EQ(t, want);
    free(t);
}

static void test_histogram(void)
{
    wb_metrics_reset();
    static const double b[] = {0.1, 0.5, 1, INFINITY};
    wb_histogram *h =
        wb_metrics_histogram("wb_latency_seconds", "Latency.", "connector=\"acme\"", b, 4);
    ASSERT(h != NULL);
    wb_histogram_observe(h, 0.05);
    wb_histogram_observe(h, 0.1); /* le is inclusive */
    wb_histogram_observe(h, 0.7);
    wb_histogram_observe(h, 30);
    char *t = render();
    check_valid(t);
    ASSERT_CONTAINS(t, "# TYPE wb_latency_seconds histogram\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_bucket{connector=\"acme\",le=\"0.1\"} 2\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_bucket{connector=\"acme\",le=\"0.5\"} 2\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_bucket{connector=\"acme\",le=\"1\"} 3\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_bucket{connector=\"acme\",le=\"+Inf\"} 4\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_sum{connector=\"acme\"} 30.85\n");
    ASSERT_CONTAINS(t, "wb_latency_seconds_count{connector=\"acme\"} 4\n");
    /* Exactly one +Inf bucket although the caller passed one explicitly. */
    ASSERT_EQ(count(t, "+Inf"), 1);
    free(t);

    /* Default buckets, no labels. */
    wb_histogram *d = wb_metrics_histogram("wb_publish_seconds", "Publish.", "", NULL, 0);
    wb_histogram_observe(d, 0.003);
    t = render();
    check_valid(t);
    ASSERT_CONTAINS(t, "wb_publish_seconds_bucket{le=\"0.001\"} 0\n");
    ASSERT_CONTAINS(t, "wb_publish_seconds_bucket{le=\"0.0025\"} 0\n");
    ASSERT_CONTAINS(t, "wb_publish_seconds_bucket{le=\"0.005\"} 1\n");
    ASSERT_CONTAINS(t, "wb_publish_seconds_bucket{le=\"10\"} 1\n");
    ASSERT_CONTAINS(t, "wb_publish_seconds_sum 0.003\n");
    ASSERT_CONTAINS(t, "wb_publish_seconds_count 1\n");
    free(t);

    static const double bad[] = {1, 0.5};
    ASSERT(wb_metrics_histogram("wb_bad_seconds", "x", "", bad, 2) == NULL);
}

static void test_escaping(void)
{
    wb_metrics_reset();
    wb_buf lb;
    wb_buf_init(&lb, 0);
    ASSERT_EQ(wb_buf_adds(&lb, "connector=\""), WB_OK);
    ASSERT_EQ(wb_metrics_escape_label(&lb, "we\"ird\\na\nme"), WB_OK);
    ASSERT_EQ(wb_buf_adds(&lb, "\""), WB_OK);
    ASSERT_STR_EQ(lb.data, "connector=\"we\\\"ird\\\\na\\nme\"");
    wb_gauge *g = wb_metrics_gauge("wb_odd", "Help with \\ and\nnewline.", lb.data);
    ASSERT(g != NULL);
    wb_gauge_set(g, NAN);
    wb_gauge *g2 = wb_metrics_gauge("wb_odd", "ignored second help", "x=\"1\"");
    wb_gauge_set(g2, -INFINITY);
    char *t = render();
    check_valid(t);
    ASSERT_CONTAINS(t, "# HELP wb_odd Help with \\\\ and\\nnewline.\n");
    ASSERT_CONTAINS(t, "wb_odd{connector=\"we\\\"ird\\\\na\\nme\"} NaN\n");
    ASSERT_CONTAINS(t, "wb_odd{x=\"1\"} -Inf\n");
    /* HELP and TYPE exactly once for the family. */
    ASSERT_EQ(count(t, "# TYPE wb_odd gauge\n"), 1);
    ASSERT_EQ(count(t, "# HELP wb_odd "), 1);
    free(t);
    wb_buf_free(&lb);
}

/* Lock-free updates from several threads lose nothing. */
static wb_counter *tc;
static wb_gauge *tg;
static wb_histogram *th;
static void *hammer(void *arg)
{
    for (int i = 0; i < 100000; i++) {
        wb_counter_inc(tc);
        wb_gauge_add(tg, 0.5);
        wb_histogram_observe(th, (i % 3) ? 0.01 : 2);
    }
    return arg;
}

static void test_concurrent(void)
{
    wb_metrics_reset();
    tc = wb_metrics_counter("c_total", "c", "");
    tg = wb_metrics_gauge("g", "g", "");
    th = wb_metrics_histogram("h_seconds", "h", "", NULL, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(wb_counter_value(tc), 400000);
    ASSERT(wb_gauge_value(tg) == 200000.0);
    char *s = render();
    check_valid(s);
    ASSERT_CONTAINS(s, "h_seconds_count 400000\n");
    ASSERT_CONTAINS(s, "h_seconds_bucket{le=\"0.01\"} 266664\n");
    free(s);
    wb_metrics_reset();
}

int main(void)
{
    RUN(test_checker_rejects);
    RUN(test_counter_gauge);
    RUN(test_histogram);
    RUN(test_escaping);
    RUN(test_concurrent);
    TEST_DONE();
}
