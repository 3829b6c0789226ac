/* test_producer.c - the shared producer against the embedded mock cluster: an acked write
 * reports its partition and offset once; a record too large for message.max.bytes is refused
 * synchronously as permanent (the dead-letter path then writes a reduced record); the error
 * classes; records still queued at free get their callback with an error. */
#include <pthread.h>
#include <unistd.h>

#include "config/config.h"
#include "core/util.h"
#include "kafka/kafka.h"
#include "kafka/producer.h"
#include "test.h"

static wb_config cfg;
static wb_kv kafka_kv[2];

typedef struct result {
    pthread_mutex_t lock;
    int calls;
    wb_produce_result res;
} result;

static void on_result(void *opaque, const wb_produce_result *res)
{
    result *r = opaque;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->res = *res;
    r->res.errmsg = NULL; /* valid during the callback only */
    pthread_mutex_unlock(&r->lock);
}

static int calls(result *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->calls;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static int wait_calls(result *r, int n, int64_t ms)
{
    int64_t until = wb_now_ms() + ms;
    while (calls(r) < n && wb_now_ms() < until)
        usleep(10000);
    return calls(r);
}

static void setup(size_t nkv)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.embedded = 1;
    cfg.embedded_brokers = 3;
    cfg.embedded_partitions = 2;
    cfg.kafka = kafka_kv;
    cfg.nkafka = nkv;
}

static void test_acked_write_reports_once(void)
{
    char err[512] = "";
    setup(0);
    wb_embedded *emb = wb_embedded_start(&cfg, err, sizeof(err));
    if (!emb) FAIL_("embedded: %s", err);
    ASSERT_EQ(wb_embedded_topic(emb, "t", 2), WB_OK);
    wb_producer *p = wb_producer_new(&cfg, wb_embedded_bootstraps(emb), err, sizeof(err));
    if (!p) FAIL_("producer: %s", err);
    ASSERT(wb_producer_handle(p) != NULL);
    result r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    wb_produce_result sync;
    ASSERT_EQ(wb_producer_send_ex(p, "t", 1, "k", 1, "{}", 2, 0, NULL, on_result, &r, &sync),
              WB_OK);
    ASSERT_EQ(wait_calls(&r, 1, 10000), 1);
    ASSERT_EQ(r.res.err, WB_OK);
    ASSERT_EQ(r.res.kafka_err, 0);
    ASSERT_EQ(r.res.partition, 1);
    ASSERT(r.res.offset >= 0);
    usleep(200000);
    ASSERT_EQ(calls(&r), 1); /* exactly once */
    wb_producer_free(p, 2000);
    wb_embedded_stop(emb);
}

static void test_too_large_is_permanent_and_sync(void)
{
    char err[512] = "";
    kafka_kv[0] = (wb_kv){.key = "message.max.bytes", .value = "2000"};
    setup(1);
    wb_embedded *emb = wb_embedded_start(&cfg, err, sizeof(err));
    if (!emb) FAIL_("embedded: %s", err);
    ASSERT_EQ(wb_embedded_topic(emb, "t", 1), WB_OK);
    wb_producer *p = wb_producer_new(&cfg, wb_embedded_bootstraps(emb), err, sizeof(err));
    if (!p) FAIL_("producer: %s", err);
    static char big[4000];
    memset(big, 'x', sizeof(big));
    result r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    wb_produce_result sync;
    memset(&sync, 0, sizeof(sync));
    wb_err e =
        wb_producer_send_ex(p, "t", 0, NULL, 0, big, sizeof(big), 0, NULL, on_result, &r, &sync);
    ASSERT_NE(e, WB_OK);
    ASSERT_EQ(sync.permanent, 1);
    ASSERT(sync.kafka_err != 0);
    usleep(200000);
    ASSERT_EQ(calls(&r), 0); /* refused synchronously: the callback never fires */
    wb_producer_free(p, 2000);
    wb_embedded_stop(emb);
}

static void test_error_classes(void)
{
    ASSERT(wb_producer_error_permanent(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
    ASSERT(wb_producer_error_permanent(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
    ASSERT(!wb_producer_error_permanent(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT));
    ASSERT(!wb_producer_error_permanent(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN));
    ASSERT(!wb_producer_error_permanent(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS));
    ASSERT(!wb_producer_error_permanent(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION));
}

/* A record the cluster never acks (its only broker is down) still gets exactly one callback,
 * with an error, when the producer is freed: nobody waits forever for it. */
static void test_free_reports_unacked(void)
{
    char err[512] = "";
    setup(0);
    cfg.embedded_brokers = 1;
    wb_embedded *emb = wb_embedded_start(&cfg, err, sizeof(err));
    if (!emb) FAIL_("embedded: %s", err);
    ASSERT_EQ(wb_embedded_topic(emb, "t", 1), WB_OK);
    wb_producer *p = wb_producer_new(&cfg, wb_embedded_bootstraps(emb), err, sizeof(err));
    if (!p) FAIL_("producer: %s", err);
    result r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ASSERT_EQ(wb_producer_send_ex(p, "t", 0, NULL, 0, "a", 1, 0, NULL, on_result, &r, NULL), WB_OK);
    ASSERT_EQ(wait_calls(&r, 1, 10000), 1); /* the first one is acked */
    ASSERT_EQ(r.res.err, WB_OK);
    rd_kafka_mock_broker_set_down(wb_embedded_cluster(emb), 1);
    result r2 = {.lock = PTHREAD_MUTEX_INITIALIZER};
    ASSERT_EQ(wb_producer_send_ex(p, "t", 0, NULL, 0, "b", 1, 0, NULL, on_result, &r2, NULL),
              WB_OK);
    usleep(300000);
    ASSERT_EQ(calls(&r2), 0);
    wb_producer_free(p, 500);
    ASSERT_EQ(calls(&r2), 1);
    ASSERT_NE(r2.res.err, WB_OK);
    wb_embedded_stop(emb);
}

int main(void)
{
    RUN(test_error_classes);
    RUN(test_acked_write_reports_once);
    RUN(test_too_large_is_permanent_and_sync);
    RUN(test_free_reports_unacked);
    TEST_DONE();
}
