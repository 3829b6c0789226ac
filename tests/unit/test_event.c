/* test_event.c - a record decoded into the event model (kafka/event.c) and the envelope
 * (kafka/envelope.c): which webhook-id wins (ce_id, then the body's id, then the derived
 * wb_ id), ids and traceparents that could split a header refused, the derived id stable and
 * distinct per coordinate, and the Standard Webhooks envelope. Records are real ones: written
 * to the embedded mock cluster and read back. */
#include <jansson.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "kafka/envelope.h"
#include "kafka/event.h"
#include "kafka/kafka.h"
#include "test.h"

static wb_config cfg;
static wb_embedded *emb;
static rd_kafka_t *prod, *cons;

static void produce(const char *val, const char *const *hdrs)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    for (size_t i = 0; hdrs && hdrs[i]; i += 2)
        rd_kafka_header_add(h, hdrs[i], -1, hdrs[i + 1], -1);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        prod, RD_KAFKA_V_TOPIC("ev"), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY("k", 1),
        RD_KAFKA_V_VALUE((void *)val, strlen(val)), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) FAIL_("producev: %s", rd_kafka_err2str(err));
}

static void setup(void)
{
    char err[512] = "";
    memset(&cfg, 0, sizeof(cfg));
    cfg.embedded = 1;
    cfg.embedded_brokers = 1;
    emb = wb_embedded_start(&cfg, err, sizeof(err));
    if (!emb) FAIL_("embedded: %s", err);
    ASSERT_EQ(wb_embedded_topic(emb, "ev", 1), WB_OK);
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", wb_embedded_bootstraps(emb), err, sizeof(err));
    prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    ASSERT(prod != NULL);
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    rd_kafka_conf_set(cc, "bootstrap.servers", wb_embedded_bootstraps(emb), err, sizeof(err));
    rd_kafka_conf_set(cc, "group.id", "test-event", err, sizeof(err));
    cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    ASSERT(cons != NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "ev", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(cons, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
}

static rd_kafka_message_t *next(void)
{
    for (int i = 0; i < 100; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
        if (!m) continue;
        if (!m->err) return m;
        rd_kafka_message_destroy(m);
    }
    FAIL_("no record within 10 s");
}

static void decode(rd_kafka_message_t *m, wb_event *ev, const char *type_ptr, const char *id_ptr)
{
    wb_event_decode(ev, m, m->payload, m->len, type_ptr, id_ptr);
}

static void test_id_precedence_and_refusals(void)
{
    const char *ce[] = {"ce_id", "ce-1", "ce_type", "order.paid", NULL};
    produce("{\"id\":\"body-1\"}", ce);
    produce("{\"id\":\"body-2\"}", NULL);
    produce("{}", NULL);
    const char *bad_ce[] = {"ce_id", "evil\r\nx-injected: 1", NULL};
    produce("{}", bad_ce);
    const char *tp[] = {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                        NULL};
    produce("{}", tp);
    const char *bad_tp[] = {"traceparent", "00-zz-b7ad6b7169203331-01", NULL};
    produce("{}", bad_tp);
    ASSERT_EQ(rd_kafka_flush(prod, 10000), 0);

    wb_event ev;
    rd_kafka_message_t *m = next(); /* ce_id wins over the body's id; ce_type gives the type */
    decode(m, &ev, NULL, "body-1");
    ASSERT_STR_EQ(ev.id, "ce-1");
    ASSERT_STR_EQ(ev.type, "order.paid");
    ASSERT_EQ(ev.id_refused, 0);
    ASSERT(ev.ts_ms > 0);
    rd_kafka_message_destroy(m);

    m = next(); /* no ce_id: the body's id; no type anywhere: the topic */
    decode(m, &ev, NULL, "body-2");
    ASSERT_STR_EQ(ev.id, "body-2");
    ASSERT_STR_EQ(ev.type, "ev");
    rd_kafka_message_destroy(m);

    m = next(); /* neither: the derived id of its coordinates */
    decode(m, &ev, "inventory.low", NULL);
    char want[64];
    wb_event_fallback_id("ev", 0, m->offset, want, sizeof(want));
    ASSERT_STR_EQ(ev.id, want);
    ASSERT_STR_EQ(ev.type, "inventory.low");
    rd_kafka_message_destroy(m);

    m = next(); /* an own id that would split a header: refused, the derived one instead */
    decode(m, &ev, NULL, NULL);
    ASSERT_EQ(ev.id_refused, 1);
    wb_event_fallback_id("ev", 0, m->offset, want, sizeof(want));
    ASSERT_STR_EQ(ev.id, want);
    rd_kafka_message_destroy(m);

    m = next(); /* a valid traceparent is kept */
    decode(m, &ev, NULL, NULL);
    ASSERT_STR_EQ(ev.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    rd_kafka_message_destroy(m);

    m = next(); /* an invalid one is replaced by a fresh valid one */
    decode(m, &ev, NULL, NULL);
    ASSERT(wb_traceparent_valid(ev.traceparent));
    ASSERT(!strstr(ev.traceparent, "zz"));
    rd_kafka_message_destroy(m);
}

static void test_fallback_id_stable_and_distinct(void)
{
    char a[64], b[64], c[64], d[64];
    wb_event_fallback_id("orders", 3, 42, a, sizeof(a));
    wb_event_fallback_id("orders", 3, 42, b, sizeof(b));
    wb_event_fallback_id("orders", 3, 43, c, sizeof(c));
    wb_event_fallback_id("orders", 4, 42, d, sizeof(d));
    ASSERT_STR_EQ(a, b);
    ASSERT(strcmp(a, c) && strcmp(a, d) && strcmp(c, d));
    ASSERT(!strncmp(a, "wb_", 3));
    ASSERT_EQ(strlen(a), 3 + 32);
    ASSERT(wb_header_token_ok(a, WB_EVENT_ID_MAX));
    /* partition 1 offset 23 and partition 12 offset 3 are different coordinates */
    wb_event_fallback_id("orders", 1, 23, c, sizeof(c));
    wb_event_fallback_id("orders", 12, 3, d, sizeof(d));
    ASSERT(strcmp(c, d));
}

static void test_tokens_and_traceparents(void)
{
    ASSERT(wb_header_token_ok("msg_1", 10));
    ASSERT(!wb_header_token_ok("", 10));
    ASSERT(!wb_header_token_ok("a b", 10));
    ASSERT(!wb_header_token_ok("a\x7f", 10));
    ASSERT(!wb_header_token_ok("0123456789a", 10));
    char tp[64], tp2[64];
    wb_traceparent_new(tp, sizeof(tp));
    wb_traceparent_new(tp2, sizeof(tp2));
    ASSERT(wb_traceparent_valid(tp));
    ASSERT(strcmp(tp, tp2));
    ASSERT(!wb_traceparent_valid("00-00000000000000000000000000000000-b7ad6b7169203331-01"));
    ASSERT(!wb_traceparent_valid("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
    ASSERT(!wb_traceparent_valid("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
}

/* wb_event_random draws from a per-thread buffer of RAND_bytes output: no byte handed out
 * twice (4,000 16-byte ids across several refills are all distinct), requests larger than
 * the buffer's share go straight to RAND_bytes, and a forked child does not replay what its
 * parent would draw next. */
static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static void test_random_pool(void)
{
    enum { N = 4000 };
    static unsigned char ids[N][16];
    for (int i = 0; i < N; i++)
        wb_event_random(ids[i], 16);
    qsort(ids, N, 16, cmp16);
    for (int i = 1; i < N; i++)
        ASSERT(memcmp(ids[i - 1], ids[i], 16) != 0);
    unsigned char big[2048], zero[2048] = {0};
    wb_event_random(big, sizeof(big));
    ASSERT(memcmp(big, zero, sizeof(big)) != 0);
    wb_event_random(ids[0], 7); /* leave the buffer part-used */
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        unsigned char c[16];
        wb_event_random(c, sizeof(c));
        _exit(write(p[1], c, sizeof(c)) == (ssize_t)sizeof(c) ? 0 : 1);
    }
    unsigned char mine[16], child[16];
    wb_event_random(mine, sizeof(mine));
    ASSERT_EQ(read(p[0], child, sizeof(child)), (ssize_t)sizeof(child));
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ASSERT(memcmp(mine, child, sizeof(mine)) != 0);
    close(p[0]);
    close(p[1]);
}

static void test_envelope(void)
{
    wb_buf b;
    wb_buf_init(&b, 1 << 20);
    ASSERT_EQ(wb_envelope_build(&b, "order.paid", 1767225600123LL, "{\"id\":1}", 8), WB_OK);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    ASSERT(j != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "type")), "order.paid");
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "timestamp")), "2026-01-01T00:00:00.123Z");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(j, "data"), "id")), 1);
    json_decref(j);
    wb_buf_reset(&b);
    /* a type that needs escaping stays one JSON string */
    ASSERT_EQ(wb_envelope_build(&b, "a\"b\n", 0, "null", 4), WB_OK);
    j = json_loadb(b.data, b.len, 0, &je);
    ASSERT(j != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "type")), "a\"b\n");
    json_decref(j);
    wb_buf_free(&b);
}

int main(void)
{
    RUN(test_fallback_id_stable_and_distinct);
    RUN(test_tokens_and_traceparents);
    RUN(test_envelope);
    RUN(test_random_pool);
    setup();
    RUN(test_id_precedence_and_refusals);
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    rd_kafka_destroy(prod);
    wb_embedded_stop(emb);
    TEST_DONE();
}
