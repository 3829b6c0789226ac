/* test_fetcher.c - the registry fetch thread (schema/fetcher.h) against a local
 * libmicrohttpd server: answers in order, deduplication, the queue bound, the notify
 * callback's thread, and a shutdown that does not wait for a slow request. */
#include "schema/fetcher.h"
#include "test.h"
#include "registry_mock.h"
#include "core/util.h"

#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hits[64];       /* requests per id (ids below 64) */
static unsigned slow_ms;   /* how long id 50 takes */
static pthread_t notified; /* the thread the last notify ran on */
static int32_t notified_ids[16];
static int nnotified;

/* /schemas/ids/N: 1-9 the schema "string", 7 unknown (40403), 8 a 500, 50 slow. */
static mhd_result handler(void *cls, struct MHD_Connection *conn, const char *url,
                          const char *method, const char *version, const char *upload_data,
                          size_t *upload_data_size, void **con_cls)
{
    long id;
    if (strncmp(url, "/schemas/ids/", 13) || wb_parse_int(url + 13, 0, 63, &id))
        return reply(conn, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
    pthread_mutex_lock(&mu);
    hits[id]++;
    unsigned ms = slow_ms;
    pthread_mutex_unlock(&mu);
    if (id == 7) return reply(conn, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
    if (id == 8) return reply(conn, 500, "{\"error_code\":50001,\"message\":\"backend\"}");
    if (id == 50) usleep(ms * 1000);
    return reply(conn, 200, "{\"schema\":\"\\\"string\\\"\"}");
}

static struct MHD_Daemon *start(char *url, size_t url_size)
{
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                         NULL, handler, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    ASSERT(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT(info && info->port);
    snprintf(url, url_size, "http://127.0.0.1:%d", info->port);
    return d;
}

static wb_fetcher *fetcher(const char *url, size_t max_queue)
{
    char err[256];
    wb_registry_opts o = {0};
    o.url = url;
    wb_registry *reg = wb_registry_new(&o, err, sizeof(err));
    if (!reg) FAIL_("wb_registry_new: %s", err);
    wb_fetcher *f = wb_fetcher_new(reg, max_queue, err, sizeof(err));
    if (!f) FAIL_("wb_fetcher_new: %s", err);
    return f;
}

static void on_ready(void *ctx, int32_t id)
{
    pthread_mutex_lock(&mu);
    notified = pthread_self();
    if (nnotified < 16) notified_ids[nnotified] = id;
    nnotified++;
    pthread_mutex_unlock(&mu);
    (void)ctx;
}

/* Wait (at most ~5 s) until the notify callback has run n times: the fetch thread calls it
 * after it has published the answer and unlocked, so a taken answer may not be notified
 * yet. */
static void wait_notified(int n)
{
    int have = 0;
    for (int waited = 0; waited <= 5000; waited += 5) {
        pthread_mutex_lock(&mu);
        have = nnotified;
        pthread_mutex_unlock(&mu);
        if (have >= n) return;
        usleep(5000);
    }
    FAIL_("%d notifications after 5 s, want %d", have, n);
}

/* Take answers until n have come (at most ~5 s). */
static void take_n(wb_fetcher *f, struct wb_fetcher_results *got, int n)
{
    for (int waited = 0; waited < 5000; waited += 5) {
        wb_fetcher_take(f, got);
        int have = 0;
        wb_fetcher_result *r;
        STAILQ_FOREACH(r, got, link)
        {
            have++;
        }
        if (have >= n) return;
        usleep(5000);
    }
    FAIL_("fewer than %d answers after 5 s", n);
}

static void free_results(struct wb_fetcher_results *got)
{
    while (!STAILQ_EMPTY(got)) {
        wb_fetcher_result *r = STAILQ_FIRST(got);
        STAILQ_REMOVE_HEAD(got, link);
        wb_fetcher_result_free(r);
    }
}

static int hits_of(int id)
{
    pthread_mutex_lock(&mu);
    int n = hits[id];
    pthread_mutex_unlock(&mu);
    return n;
}

/* Wait (at most 5 s) until the server has seen n requests for id. */
static void wait_hits(int id, int n)
{
    for (int i = 0; i < 500 && hits_of(id) < n; i++)
        usleep(10000);
    if (hits_of(id) < n) FAIL_("id %d: %d requests after 5 s, want %d", id, hits_of(id), n);
}

/* A fetcher whose thread is busy with id 50, which takes ms. */
static wb_fetcher *busy_fetcher(const char *url, size_t max_queue, unsigned ms)
{
    pthread_mutex_lock(&mu);
    slow_ms = ms;
    int before = hits[50];
    pthread_mutex_unlock(&mu);
    wb_fetcher *f = fetcher(url, max_queue);
    ASSERT_EQ(wb_fetcher_request(f, 50), WB_OK);
    wait_hits(50, before + 1);
    return f;
}

/* Answers arrive oldest first with their outcome; the notify callback runs on the fetch
 * thread, once per answer. */
static void test_answers(void)
{
    char url[64];
    struct MHD_Daemon *d = start(url, sizeof(url));
    wb_fetcher *f = fetcher(url, 0);
    struct wb_fetcher_results got = STAILQ_HEAD_INITIALIZER(got);
    wb_fetcher_take(f, &got); /* nothing yet: the list stays empty */
    ASSERT(STAILQ_EMPTY(&got));
    wb_fetcher_set_notify(f, on_ready, NULL);
    ASSERT_EQ(wb_fetcher_request(f, 1), WB_OK);
    ASSERT_EQ(wb_fetcher_request(f, 7), WB_OK);
    ASSERT_EQ(wb_fetcher_request(f, 8), WB_OK);
    take_n(f, &got, 3);
    wb_fetcher_result *r = STAILQ_FIRST(&got);
    ASSERT_EQ(r->id, 1);
    ASSERT_EQ(r->err, WB_OK);
    ASSERT_STR_EQ(r->text, "\"string\"");
    r = STAILQ_NEXT(r, link);
    ASSERT_EQ(r->id, 7);
    ASSERT_EQ(r->err, WB_ERR_SCHEMA);
    ASSERT(r->text == NULL);
    ASSERT_CONTAINS(r->reason, "schema id 7 not found in the registry (40403");
    r = STAILQ_NEXT(r, link);
    ASSERT_EQ(r->id, 8);
    ASSERT_EQ(r->err, WB_ERR_IO);
    ASSERT_CONTAINS(r->reason, "HTTP 500 for id 8");
    ASSERT(STAILQ_NEXT(r, link) == NULL);
    wait_notified(3);
    pthread_mutex_lock(&mu);
    ASSERT_EQ(nnotified, 3);
    ASSERT_EQ(notified_ids[0], 1);
    ASSERT_EQ(notified_ids[2], 8);
    ASSERT(!pthread_equal(notified, pthread_self()));
    pthread_mutex_unlock(&mu);
    ASSERT_EQ(wb_fetcher_requests(f), 3);
    free_results(&got);
    /* taken answers are forgotten: asking again fetches again */
    ASSERT_EQ(wb_fetcher_request(f, 1), WB_OK);
    take_n(f, &got, 1);
    ASSERT_EQ(hits_of(1), 2);
    free_results(&got);
    wb_fetcher_free(f);
    MHD_stop_daemon(d);
}

/* An id queued, in flight or answered but not taken is asked once; max_queue bounds the ids
 * waiting; an answer nobody takes is freed with the fetcher. */
static void test_dedupe_and_bound(void)
{
    char url[64];
    struct MHD_Daemon *d = start(url, sizeof(url));
    wb_fetcher *f = busy_fetcher(url, 1, 800);
    struct wb_fetcher_results got = STAILQ_HEAD_INITIALIZER(got);
    ASSERT_EQ(wb_fetcher_request(f, 50), WB_OK); /* in flight: not again */
    ASSERT_EQ(wb_fetcher_request(f, 2), WB_OK);  /* queued: the one place there is */
    ASSERT_EQ(wb_fetcher_request(f, 2), WB_OK);  /* queued already */
    ASSERT_EQ(wb_fetcher_request(f, 3), WB_ERR_FULL);
    take_n(f, &got, 2);
    ASSERT_EQ(STAILQ_FIRST(&got)->id, 50);
    ASSERT_EQ(hits_of(50), 1); /* the first test does not ask for 50 */
    ASSERT_EQ(hits_of(2), 1);
    ASSERT_EQ(hits_of(3), 0);
    free_results(&got);
    /* answered, not taken: known, so not asked twice; freed by wb_fetcher_free */
    ASSERT_EQ(wb_fetcher_request(f, 4), WB_OK);
    wait_hits(4, 1);
    usleep(50000);
    ASSERT_EQ(wb_fetcher_request(f, 4), WB_OK);
    usleep(50000);
    ASSERT_EQ(hits_of(4), 1);
    wb_fetcher_free(f);
    MHD_stop_daemon(d);
}

/* Freeing the fetcher aborts the request in flight instead of waiting for its answer. */
static void test_free_aborts(void)
{
    char url[64];
    struct MHD_Daemon *d = start(url, sizeof(url));
    wb_fetcher *f = busy_fetcher(url, 0, 4000);
    ASSERT_EQ(wb_fetcher_request(f, 5), WB_OK); /* still queued when the fetcher goes */
    int64_t t0 = wb_now_ms();
    wb_fetcher_free(f);
    int64_t took = wb_now_ms() - t0;
    if (took > 2500)
        FAIL_("wb_fetcher_free took %lld ms (the request takes 4000)", (long long)took);
    ASSERT_EQ(hits_of(5), 0);
    MHD_stop_daemon(d); /* waits for the sleeping handler */
}

int main(void)
{
    RUN(test_answers);
    RUN(test_dedupe_and_bound);
    RUN(test_free_aborts);
    TEST_DONE();
}
