/* test_listener.c - the inbound listener in-process: embedded mock cluster + producer +
 * listener on an ephemeral port, real HTTP over loopback (libcurl and raw sockets), records
 * consumed back with a librdkafka consumer. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kafka/kafka.h"
#include "inbound/listener.h"
#include "schema/registry.h"
#include "core/log.h"
#include "core/metrics.h"
#include "kafka/producer.h"
#include "signing/signing.h"
#include "test.h"
#include "core/util.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define TOPIC  "partner.std.events"

static wb_config cfg;
static wb_connector conns[5];
static char *std_secrets[] = {SECRET};
static char *gh_secrets[] = {"It's a Secret to Everybody"};
static char *fwd[] = {"X-Custom", "User-Agent"};
static wb_embedded *emb;
static wb_producer *prod;
static wb_listener *lis;
static int port;
static wb_signer *signer;
static wb_kv *extra_kafka; /* kafka.* keys for the next start() */
static size_t nextra_kafka;
static int64_t next_header_timeout; /* inbound.header_timeout for the next start(), 0 = 10s */
static int next_per_ip;             /* inbound.max_connections_per_ip for the next start() */

/* ------------------------------------------------------------------------------------------
 * Fixture
 * ---------------------------------------------------------------------------------------- */

static void setup_cfg(int64_t publish_timeout_ms, int max_conn, int64_t request_timeout_ms)
{
    memset(&cfg, 0, sizeof(cfg));
    memset(conns, 0, sizeof(conns));
    cfg.embedded = 1;
    cfg.kafka = extra_kafka;
    cfg.nkafka = nextra_kafka;
    cfg.embedded_brokers = 3;
    cfg.embedded_partitions = 2;
    cfg.inbound.listen = "127.0.0.1:0";
    cfg.inbound.max_connections = max_conn;
    cfg.inbound.request_timeout_ms = request_timeout_ms;
    cfg.inbound.header_timeout_ms = next_header_timeout;
    cfg.inbound.max_connections_per_ip = next_per_ip;
    cfg.inbound.publish_timeout_ms = publish_timeout_ms;
    cfg.inbound.max_header = 8192;
    cfg.inbound.threads = 2;

    wb_connector *cc = &conns[0];
    cc->name = "std";
    cc->direction = WB_DIR_INBOUND;
    cc->signing.scheme = WB_SCHEME_STANDARD;
    cc->signing.secrets = std_secrets;
    cc->signing.nsecrets = 1;
    cc->signing.tolerance_ms = 300000;
    cc->topic = TOPIC;
    cc->key_pointer = "/data/id";
    cc->event_type = "/type";
    cc->max_body = 4096;
    cc->dedupe_ttl_ms = 3600000;
    cc->forward_headers = fwd;
    cc->nforward_headers = 2;

    cc = &conns[1];
    cc->name = "gh";
    cc->direction = WB_DIR_INBOUND;
    cc->signing.scheme = WB_SCHEME_GITHUB;
    cc->signing.secrets = gh_secrets;
    cc->signing.nsecrets = 1;
    cc->topic = "partner.gh.events";
    cc->event_type = "X-GitHub-Event";
    cc->max_body = 4096;

    cc = &conns[2];
    cc->name = "limited";
    cc->direction = WB_DIR_INBOUND;
    cc->signing.scheme = WB_SCHEME_NONE;
    cc->signing.insecure = 1;
    cc->topic = "partner.limited.events";
    cc->max_body = 4096;
    cc->rate_per_s = 2;

    cc = &conns[3];
    cc->name = "outbound-one";
    cc->direction = WB_DIR_OUTBOUND;
    cc->url = "http://127.0.0.1:1/";

    /* schema-governed: validated and published as Confluent-framed Avro */
    static char schemas_dir[1024];
    const char *src = getenv("WB_SOURCE_DIR");
    snprintf(schemas_dir, sizeof(schemas_dir), "%s/schemas", src ? src : ".");
    cfg.schema_registry.dir = schemas_dir;
    cc = &conns[4];
    cc->name = "typed";
    cc->direction = WB_DIR_INBOUND;
    cc->signing.scheme = WB_SCHEME_NONE;
    cc->signing.insecure = 1;
    cc->topic = "partner.typed.events";
    cc->max_body = 4096;
    cc->schema = "order.paid@2";

    cfg.connectors = conns;
    cfg.nconnectors = 5;
}

static void start(int64_t publish_timeout_ms, int max_conn, int64_t request_timeout_ms)
{
    char err[512] = "";
    setup_cfg(publish_timeout_ms, max_conn, request_timeout_ms);
    emb = wb_embedded_start(&cfg, err, sizeof(err));
    if (!emb) FAIL_("embedded: %s", err);
    prod = wb_producer_new(&cfg, wb_embedded_bootstraps(emb), err, sizeof(err));
    if (!prod) FAIL_("producer: %s", err);
    lis = wb_listener_new(&cfg, prod, err, sizeof(err));
    if (!lis) FAIL_("listener: %s", err);
    port = wb_listener_port(lis);
    ASSERT(port > 0);
    signer = wb_signer_new(&conns[0].signing, err, sizeof(err));
    if (!signer) FAIL_("signer: %s", err);
}

static void stop(void)
{
    wb_listener_free(lis, 2000);
    wb_producer_free(prod, 2000);
    wb_embedded_stop(emb);
    wb_signer_free(signer);
    lis = NULL;
    prod = NULL;
    emb = NULL;
}

/* ------------------------------------------------------------------------------------------
 * HTTP client
 * ---------------------------------------------------------------------------------------- */

typedef struct resp {
    long status;
    wb_buf body;
    wb_buf headers;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    wb_buf_add(ud, p, sz * n);
    return sz * n;
}

static void post(const char *path, const char *const *hdrs, const char *body, size_t len,
                 const char *method, resp *out)
{
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    wb_buf_init(&out->body, 1 << 20);
    wb_buf_init(&out->headers, 1 << 20);
    CURL *c = curl_easy_init();
    struct curl_slist *sl = NULL;
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    out->status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    else
        fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
}

static void resp_free(resp *r)
{
    wb_buf_free(&r->body);
    wb_buf_free(&r->headers);
}

/* A standard-webhooks request signed with SECRET. */
static void post_std(const char *id, int64_t ts, const char *body, resp *out)
{
    wb_buf sig;
    wb_buf_init(&sig, 4096);
    ASSERT_EQ(wb_signer_signature(signer, id, ts, body, strlen(body), &sig), WB_OK);
    char h_id[300], h_ts[64], h_sig[600];
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %lld", (long long)ts);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig.data);
    const char *h[] = {"Content-Type: application/json",
                       h_id,
                       h_ts,
                       h_sig,
                       "X-Custom: custom-value",
                       "X-Not-Forwarded: no",
                       "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                       NULL};
    post("/webhooks/std", h, body, strlen(body), NULL, out);
    wb_buf_free(&sig);
}

/* ------------------------------------------------------------------------------------------
 * Consumer: every record of a topic from the beginning
 * ---------------------------------------------------------------------------------------- */

typedef struct rec {
    char *val;
    size_t vlen;
    char *key;
    rd_kafka_headers_t *hdrs;
} rec;

static int consume_all(const char *topic, rec *out, int max, int wait_ms)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", wb_embedded_bootstraps(emb), err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "test-listener", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ASSERT(rk);
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(2);
    for (int p = 0; p < 2; p++)
        rd_kafka_topic_partition_list_add(tp, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ASSERT_EQ(rd_kafka_assign(rk, tp), 0);
    rd_kafka_topic_partition_list_destroy(tp);
    int n = 0;
    int64_t end = wb_now_ms() + wait_ms;
    while (wb_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err && n < max) {
            out[n].val = malloc(m->len + 1);
            memcpy(out[n].val, m->payload, m->len);
            out[n].val[m->len] = '\0';
            out[n].vlen = m->len;
            out[n].key = NULL;
            if (m->key) {
                out[n].key = malloc(m->key_len + 1);
                memcpy(out[n].key, m->key, m->key_len);
                out[n].key[m->key_len] = '\0';
            }
            rd_kafka_headers_t *h = NULL;
            out[n].hdrs = NULL;
            if (!rd_kafka_message_headers(m, &h)) out[n].hdrs = rd_kafka_headers_copy(h);
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

static void recs_free(rec *recs, int n)
{
    for (int i = 0; i < n; i++) {
        free(recs[i].val);
        free(recs[i].key);
        if (recs[i].hdrs) rd_kafka_headers_destroy(recs[i].hdrs);
    }
}

static const char *hget(rd_kafka_headers_t *h, const char *name, char *buf, size_t n)
{
    const void *v;
    size_t len;
    if (!h || rd_kafka_header_get_last(h, name, &v, &len)) return NULL;
    snprintf(buf, n, "%.*s", (int)len, (const char *)v);
    return buf;
}

static uint64_t counter_of(const char *name, const char *labels);

/* ------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------- */

static void test_route(void)
{
    setup_cfg(1000, 16, 5000);
    wb_route rt;
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json", "10", &rt);
    ASSERT_EQ(rt.status, 0);
    ASSERT_EQ(rt.connector, 0);
    ASSERT_EQ(rt.length, 10);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "Application/JSON; charset=utf-8", NULL, &rt);
    ASSERT_EQ(rt.status, 0);
    ASSERT_EQ(rt.length, -1);
    wb_listener_route(&cfg, "POST", "/webhooks/nope", "application/json", NULL, &rt);
    ASSERT_EQ(rt.status, 404);
    wb_listener_route(&cfg, "POST", "/webhooks/outbound-one", "application/json", NULL, &rt);
    ASSERT_EQ(rt.status, 404);
    wb_listener_route(&cfg, "POST", "/webhooks/", "application/json", NULL, &rt);
    ASSERT_EQ(rt.status, 404);
    wb_listener_route(&cfg, "POST", "/webhooks/std/x", "application/json", NULL, &rt);
    ASSERT_EQ(rt.status, 404);
    wb_listener_route(&cfg, "POST", "/other", "application/json", NULL, &rt);
    ASSERT_EQ(rt.status, 404);
    wb_listener_route(&cfg, "GET", "/webhooks/std", NULL, NULL, &rt);
    ASSERT_EQ(rt.status, 405);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "text/plain", NULL, &rt);
    ASSERT_EQ(rt.status, 415);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/jsonx", NULL, &rt);
    ASSERT_EQ(rt.status, 415);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/x-www-form-urlencoded", NULL,
                      &rt);
    ASSERT_EQ(rt.status, 415);
    wb_listener_route(&cfg, "POST", "/webhooks/std", NULL, NULL, &rt);
    ASSERT_EQ(rt.status, 415);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json", "4097", &rt);
    ASSERT_EQ(rt.status, 413);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json", "4096", &rt);
    ASSERT_EQ(rt.status, 0);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json",
                      "99999999999999999999999999999", &rt);
    ASSERT_EQ(rt.status, 413);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json", "12a", &rt);
    ASSERT_EQ(rt.status, 400);
    wb_listener_route(&cfg, "POST", "/webhooks/std", "application/json", "-1", &rt);
    ASSERT_EQ(rt.status, 400);
    conns[1].signing.scheme = WB_SCHEME_SLACK;
    wb_listener_route(&cfg, "POST", "/webhooks/gh", "application/x-www-form-urlencoded", NULL, &rt);
    ASSERT_EQ(rt.status, 0);
    ASSERT_EQ(rt.form, 1);
}

static void test_publish_and_duplicate(void)
{
    start(5000, 64, 5000);
    const char *body = "{\"type\":\"invoice.paid\",\"data\":{\"id\":\"inv_42\",\"amount\":12},"
                       "\"note\":\"bytes \\u00e9 kept  as sent\"}";
    int64_t now = time(NULL);
    resp r;
    post_std("msg_1", now, body, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body.data, "\"topic\":\"" TOPIC "\"");
    ASSERT_CONTAINS(r.body.data, "\"partition\":");
    ASSERT_CONTAINS(r.body.data, "\"offset\":0");
    resp_free(&r);

    /* duplicate: 200 duplicate:true, not published again */
    post_std("msg_1", now, body, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body.data, "\"duplicate\":true");
    resp_free(&r);

    /* another id with a numeric key */
    const char *body2 = "{\"type\":\"invoice.created\",\"data\":{\"id\":7}}";
    post_std("msg_2", now, body2, &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);

    rec recs[8];
    int n = consume_all(TOPIC, recs, 8, 3000);
    ASSERT_EQ(n, 2);
    rec *a = strcmp(recs[0].val, body) ? &recs[1] : &recs[0];
    rec *b = a == &recs[0] ? &recs[1] : &recs[0];
    ASSERT_EQ(a->vlen, strlen(body));
    ASSERT(!memcmp(a->val, body, a->vlen)); /* byte-identical */
    ASSERT_STR_EQ(a->key, "inv_42");
    char buf[256];
    ASSERT_STR_EQ(hget(a->hdrs, "ce_specversion", buf, sizeof(buf)), "1.0");
    ASSERT_STR_EQ(hget(a->hdrs, "ce_id", buf, sizeof(buf)), "msg_1");
    ASSERT_STR_EQ(hget(a->hdrs, "ce_source", buf, sizeof(buf)), "webhook-bridge/std");
    ASSERT_STR_EQ(hget(a->hdrs, "ce_type", buf, sizeof(buf)), "invoice.paid");
    ASSERT(hget(a->hdrs, "ce_time", buf, sizeof(buf)));
    ASSERT_EQ(strlen(buf), 24); /* 2026-11-23T18:00:00.000Z */
    ASSERT_EQ(buf[23], 'Z');
    ASSERT_STR_EQ(hget(a->hdrs, "content-type", buf, sizeof(buf)), "application/json");
    ASSERT_STR_EQ(hget(a->hdrs, "traceparent", buf, sizeof(buf)),
                  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ASSERT_STR_EQ(hget(a->hdrs, "X-Custom", buf, sizeof(buf)), "custom-value");
    ASSERT(!hget(a->hdrs, "X-Not-Forwarded", buf, sizeof(buf)));
    ASSERT(!hget(a->hdrs, "webhook-signature", buf, sizeof(buf)));
    ASSERT_STR_EQ(b->key, "7");
    ASSERT_STR_EQ(hget(b->hdrs, "ce_type", buf, sizeof(buf)), "invoice.created");
    recs_free(recs, n);
    stop();
    /* metrics: 3 answers 200 (one a duplicate), one duplicate, two publishes timed */
    ASSERT_EQ(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_requests_total", "",
                                                  "connector=\"std\",status=\"200\"")),
              3);
    ASSERT_EQ(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_duplicates_total", "",
                                                  "connector=\"std\"")),
              1);
    wb_buf prom;
    wb_buf_init(&prom, 1 << 20);
    wb_metrics_render(&prom);
    ASSERT_CONTAINS(prom.data, "webhook_bridge_inbound_publish_seconds_count{connector=\"std\"} 2");
    wb_buf_free(&prom);
}

/* SIGHUP secret rotation: after wb_listener_reload the new secret verifies and the old one
 * no longer does; a reload with a secret that does not decode changes nothing. */
static void test_reload_secret(void)
{
    start(5000, 64, 5000);
    const char *body = "{\"type\":\"t\",\"data\":{\"id\":\"r1\"}}";
    int64_t now = time(NULL);
    resp r;
    post_std("rot_1", now, body, &r); /* old secret */
    ASSERT_EQ(r.status, 200);
    resp_free(&r);

    static char *rotated[] = {"whsec_ZGVtby1zZWNyZXQtZG8tbm90LXVzZS1pbi1wcm9kdWN0aW9u"};
    static wb_connector next[5];
    static wb_config ncfg;
    ncfg = cfg;
    memcpy(next, conns, sizeof(next));
    next[0].signing.secrets = rotated;
    ncfg.connectors = next;
    char err[256];
    ASSERT_EQ(wb_listener_reload(lis, &ncfg, err, sizeof(err)), WB_OK);

    post_std("rot_2", now, body, &r); /* signed with the old secret: refused now */
    ASSERT_EQ(r.status, 401);
    resp_free(&r);
    wb_signer_free(signer);
    signer = wb_signer_new(&next[0].signing, err, sizeof(err));
    ASSERT(signer != NULL);
    post_std("rot_3", now, body, &r); /* the new secret */
    ASSERT_EQ(r.status, 200);
    resp_free(&r);

    static char *broken[] = {"whsec_!!!not-base64!!!"};
    static wb_connector bad[5];
    static wb_config bcfg;
    bcfg = cfg;
    memcpy(bad, conns, sizeof(bad));
    bad[0].signing.secrets = broken;
    bcfg.connectors = bad;
    ASSERT_NE(wb_listener_reload(lis, &bcfg, err, sizeof(err)), WB_OK);
    ASSERT_CONTAINS(err, "std");
    post_std("rot_4", now, body, &r); /* still the rotated secret */
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    stop();
}

/* Reloads do not pile up verifiers: the ones replaced more than request_timeout (+1 s) ago,
 * which no request can still be using, are freed (they were kept until exit before). */
static void test_reload_frees_old_verifiers(void)
{
    start(5000, 64, 1000);
    char err[256];
    for (int i = 0; i < 20; i++)
        ASSERT_EQ(wb_listener_reload(lis, &cfg, err, sizeof(err)), WB_OK);
    size_t kept = wb_listener_retired(lis);
    ASSERT(kept >= 20); /* every inbound connector's verifier, 20 times: all recent */
    usleep(2200 * 1000);
    ASSERT_EQ(wb_listener_reload(lis, &cfg, err, sizeof(err)), WB_OK);
    ASSERT_EQ(wb_listener_retired(lis), kept / 20); /* only the last reload's */
    const char *body = "{\"type\":\"t\",\"data\":{\"id\":\"v1\"}}";
    resp r;
    post_std("reap_1", time(NULL), body, &r); /* the current verifier still works */
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    stop();
}

/* A connector with schema: the body is validated (422 naming the field, nothing published)
 * and published as Confluent-framed Avro that decodes back to the same event. */
static void test_schema(void)
{
    start(5000, 64, 5000);
    static const char *const json[] = {"Content-Type: application/json", NULL};
    const char *good =
        "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_7\","
        "\"customer_id\":\"cus_1\",\"amount\":\"12.50\",\"currency\":\"EUR\","
        "\"payment_method\":\"CARD\",\"paid_at\":\"2026-11-23T17:44:06.123Z\","
        "\"coupon_code\":null,\"lines\":[{\"sku\":\"A\",\"quantity\":2,\"unit_price\":\"6.25\"}],"
        "\"sales_channel\":\"web\",\"tax_amount\":null}";
    resp r;
    post("/webhooks/typed", json, good, strlen(good), NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    const char *bad = "{\"event_id\":\"x\",\"order_id\":\"ord_8\",\"customer_id\":\"c\","
                      "\"amount\":\"1.00\",\"currency\":\"EUR\",\"payment_method\":\"CARD\","
                      "\"paid_at\":\"2026-11-23T17:44:06.123Z\","
                      "\"lines\":[{\"sku\":\"A\",\"quantity\":\"two\",\"unit_price\":\"1.00\"}]}";
    post("/webhooks/typed", json, bad, strlen(bad), NULL, &r);
    ASSERT_EQ(r.status, 422);
    ASSERT_CONTAINS(r.body.data, "quantity");
    ASSERT_CONTAINS(r.body.data, "\"status\":422");
    resp_free(&r);

    rec recs[4];
    int n = consume_all("partner.typed.events", recs, 4, 3000);
    ASSERT_EQ(n, 1); /* only the valid one */
    ASSERT(recs[0].vlen > 5);
    ASSERT_EQ((unsigned char)recs[0].val[0], 0);
    char buf[128];
    ASSERT_STR_EQ(hget(recs[0].hdrs, "content-type", buf, sizeof(buf)),
                  "application/vnd.apache.avro+binary");
    char err[256];
    wb_schemas *s =
        wb_schemas_new(cfg.schema_registry.dir, NULL, NULL, NULL, NULL, err, sizeof(err));
    ASSERT(s != NULL);
    ASSERT_EQ(((unsigned char)recs[0].val[1] << 24 | (unsigned char)recs[0].val[2] << 16 |
               (unsigned char)recs[0].val[3] << 8 | (unsigned char)recs[0].val[4]),
              wb_schemas_id_of(s, "order.paid@2"));
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_schemas_to_json(s, recs[0].val, recs[0].vlen, NULL, &out, err, sizeof(err)),
              WB_OK);
    ASSERT_CONTAINS(out.data, "\"order_id\":\"ord_7\"");
    ASSERT_CONTAINS(out.data, "\"amount\":\"12.50\"");
    wb_buf_free(&out);
    wb_schemas_free(s);
    recs_free(recs, n);
    stop();
}

static void test_errors(void)
{
    start(5000, 64, 5000);
    int64_t now = time(NULL);
    resp r;
    const char *json[] = {"Content-Type: application/json", NULL};

    post("/webhooks/nope", json, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 404);
    ASSERT_CONTAINS(r.headers.data, "application/problem+json");
    ASSERT_CONTAINS(r.body.data, "\"status\":404");
    ASSERT_CONTAINS(r.body.data, "\"type\":\"urn:webhook-bridge:problem:not-found\"");
    ASSERT_CONTAINS(r.body.data, "\"instance\":\"/webhooks/nope\"");
    ASSERT_CONTAINS(r.body.data, "\"title\":\"Not Found\"");
    resp_free(&r);

    post("/webhooks/std", NULL, NULL, 0, "GET", &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_CONTAINS(r.headers.data, "Allow: POST");
    resp_free(&r);

    const char *text[] = {"Content-Type: text/plain", NULL};
    post("/webhooks/std", text, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 415);
    resp_free(&r);

    /* 413 from Content-Length: curl waits for 100 Continue, which never comes */
    size_t big = 8u << 20;
    char *huge = malloc(big);
    memset(huge, 'x', big);
    int64_t t0 = wb_now_ms();
    post("/webhooks/std", json, huge, big, NULL, &r);
    ASSERT_EQ(r.status, 413);
    ASSERT_CONTAINS(r.body.data, "max_body");
    ASSERT(wb_now_ms() - t0 < 3000);
    resp_free(&r);
    /* and without Expect (the client pushes the body anyway) */
    const char *noexpect[] = {"Content-Type: application/json", "Expect:", NULL};
    post("/webhooks/std", noexpect, huge, big, NULL, &r);
    ASSERT_EQ(r.status, 413);
    resp_free(&r);
    /* chunked, no Content-Length: past max_body the rest is read and dropped, then 413
     * (before: the connection was dropped at max_body and the client saw no answer) */
    const char *chunked[] = {"Content-Type: application/json", "Transfer-Encoding: chunked",
                             "Expect:", NULL};
    post("/webhooks/limited", chunked, huge, 64 * 1024, NULL, &r);
    ASSERT_EQ(r.status, 413);
    ASSERT_CONTAINS(r.headers.data, "application/problem+json");
    ASSERT_CONTAINS(r.body.data, "body exceeds max_body");
    resp_free(&r);
    /* an error found from the head (no signature) while the body is already coming: the
     * answer comes after the body, on a connection still usable */
    post("/webhooks/std", noexpect, huge, 3000, NULL, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_CONTAINS(r.body.data, "missing webhook-id header");
    resp_free(&r);
    free(huge);

    /* headers beyond max_header (8 KiB here): refused by MHD (431), server still healthy */
    char *bigh = malloc(20000);
    memcpy(bigh, "X-Big: ", 7);
    memset(bigh + 7, 'h', 19000);
    bigh[19007] = '\0';
    const char *bighdr[] = {"Content-Type: application/json", bigh, NULL};
    post("/webhooks/limited", bighdr, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 431);
    resp_free(&r);
    free(bigh);

    /* 401: bad signature, and the detail names the check, never a value */
    const char *badsig[] = {
        "Content-Type: application/json", "webhook-id: m1", NULL,
        "webhook-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL};
    char ts[64];
    snprintf(ts, sizeof(ts), "webhook-timestamp: %lld", (long long)now);
    badsig[2] = ts;
    post("/webhooks/std", badsig, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_CONTAINS(r.body.data, "\"status\":401");
    ASSERT_CONTAINS(r.body.data, "signature");
    resp_free(&r);
    /* missing headers */
    post("/webhooks/std", json, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_CONTAINS(r.body.data, "webhook-");
    resp_free(&r);
    /* stale and future timestamps */
    post_std("m_old", now - 3600, "{}", &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_CONTAINS(r.body.data, "stale-timestamp");
    resp_free(&r);
    post_std("m_future", now + 3600, "{}", &r);
    ASSERT_EQ(r.status, 401);
    resp_free(&r);

    /* 400: signed but not JSON */
    post_std("m_bad", now, "{not json", &r);
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.body.data, "not valid JSON");
    resp_free(&r);

    /* 429 over the rate (2/s, burst 2) */
    int ok = 0, limited = 0;
    for (int i = 0; i < 5; i++) {
        post("/webhooks/limited", json, "{\"i\":1}", 7, NULL, &r);
        if (r.status == 200) ok++;
        if (r.status == 429) {
            limited++;
            ASSERT_CONTAINS(r.headers.data, "Retry-After: ");
        }
        resp_free(&r);
    }
    ASSERT(ok >= 2 && ok <= 3);
    ASSERT(limited >= 2);

    ASSERT_EQ(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_requests_total", "",
                                                  "connector=\"-\",status=\"404\"")),
              1);
    /* regression (issue 9.15): 405/413/415 were counted under connector "-" */
    ASSERT_EQ(
        counter_of("webhook_bridge_inbound_requests_total", "connector=\"std\",status=\"405\""), 1);
    ASSERT_EQ(
        counter_of("webhook_bridge_inbound_requests_total", "connector=\"std\",status=\"415\""), 1);
    ASSERT(counter_of("webhook_bridge_inbound_requests_total",
                      "connector=\"std\",status=\"413\"") >= 2);
    ASSERT_EQ(counter_of("webhook_bridge_inbound_requests_total", "connector=\"-\",status=\"405\""),
              0);
    ASSERT_EQ(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_verify_failures_total",
                                                  "", "connector=\"std\",reason=\"stale\"")),
              2);
    ASSERT(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_verify_failures_total", "",
                                               "connector=\"std\",reason=\"signature\"")) >= 2);
    ASSERT(wb_counter_value(wb_metrics_counter("webhook_bridge_inbound_requests_total", "",
                                               "connector=\"limited\",status=\"429\"")) >= 2);

    /* nothing of the above reached the topic */
    rec recs[4];
    int n = consume_all(TOPIC, recs, 4, 1500);
    ASSERT_EQ(n, 0);
    stop();
}

static void test_broker_down(void)
{
    start(1500, 64, 5000);
    int64_t now = time(NULL);
    resp r;
    post_std("warm", now, "{\"type\":\"t\"}", &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    rd_kafka_mock_cluster_t *mc = wb_embedded_cluster(emb);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_down(mc, b);
    int64_t t0 = wb_now_ms();
    post_std("down_1", now, "{\"type\":\"t\",\"n\":1}", &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_CONTAINS(r.headers.data, "Retry-After: ");
    ASSERT_CONTAINS(r.body.data, "Kafka");
    ASSERT(wb_now_ms() - t0 >= 1400);
    resp_free(&r);
    /* a retry while the first is unacked and timed out is accepted for publishing again */
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_up(mc, b);
    int64_t end = wb_now_ms() + 15000;
    long st = 0;
    while (wb_now_ms() < end) {
        post_std("down_1", now, "{\"type\":\"t\",\"n\":1}", &r);
        st = r.status;
        resp_free(&r);
        if (st == 200) break;
    }
    ASSERT_EQ(st, 200);
    /* a new event is accepted too; the producer may still be re-establishing its other
     * broker connections, so it gets the partner's retries (503 + Retry-After) as well */
    st = 0;
    end = wb_now_ms() + 15000;
    while (wb_now_ms() < end && st != 200) {
        post_std("after", now, "{\"type\":\"t\",\"n\":2}", &r);
        st = r.status;
        ASSERT(st == 200 || st == 503);
        resp_free(&r);
    }
    ASSERT_EQ(st, 200);
    stop();
}

/* The producer's local queue is full: 503 at once, the id stays free for the retry. */
static void test_queue_full(void)
{
    static wb_kv kv[] = {{"queue.buffering.max.messages", "1"}};
    extra_kafka = kv;
    nextra_kafka = 1;
    start(1500, 64, 5000);
    extra_kafka = NULL;
    nextra_kafka = 0;
    rd_kafka_mock_cluster_t *mc = wb_embedded_cluster(emb);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_down(mc, b);
    int64_t now = time(NULL);
    resp r;
    post_std("q_1", now, "{\"type\":\"t\"}", &r); /* fills the queue, times out */
    ASSERT_EQ(r.status, 503);
    resp_free(&r);
    int64_t t0 = wb_now_ms();
    post_std("q_2", now, "{\"type\":\"t\"}", &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_CONTAINS(r.body.data, "queue full");
    ASSERT(wb_now_ms() - t0 < 1000); /* no wait for the publish timeout */
    resp_free(&r);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_up(mc, b);
    int64_t end = wb_now_ms() + 15000;
    long st = 0;
    while (wb_now_ms() < end && st != 200) {
        post_std("q_2", now, "{\"type\":\"t\"}", &r);
        st = r.status;
        resp_free(&r);
        if (st != 200) usleep(200000);
    }
    ASSERT_EQ(st, 200);
    stop();
}

/* Issue 9.13: a body within max_body whose record (key + headers) would exceed the
 * producer's message.max.bytes gets 413 and is not published (librdkafka would refuse it). */
static void test_record_too_large(void)
{
    static wb_kv kv[] = {{"message.max.bytes", "2000"}, {"batch.size", "2000"}};
    extra_kafka = kv;
    nextra_kafka = 2;
    start(5000, 64, 5000);
    extra_kafka = NULL;
    nextra_kafka = 0;
    char body[2200];
    int n = snprintf(body, sizeof body, "{\"type\":\"t\",\"data\":{\"id\":\"k\"},\"pad\":\"");
    memset(body + n, 'p', 1800);
    snprintf(body + n + 1800, sizeof body - (size_t)n - 1800, "\"}");
    resp r;
    post_std("big_1", time(NULL), body, &r);
    ASSERT_EQ(r.status, 413);
    ASSERT_CONTAINS(r.body.data, "message.max.bytes");
    resp_free(&r);
    post_std("small_1", time(NULL), "{\"type\":\"t\"}", &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    post_std("big_1", time(NULL), "{\"type\":\"t\"}", &r); /* the id was not kept */
    ASSERT_EQ(r.status, 200);
    ASSERT(!strstr(r.body.data, "duplicate"));
    resp_free(&r);
    stop();
}

typedef struct bg_post {
    const char *id;
    resp r;
} bg_post;

static void *bg_post_run(void *arg)
{
    bg_post *b = arg;
    post_std(b->id, time(NULL), "{\"type\":\"t\"}", &b->r);
    return NULL;
}

/* wb_listener_free while a request waits for the broker: the client gets 503, and the
 * delivery report arriving after the listener is gone (from wb_producer_free) touches no
 * freed memory (ASan build). Also: Expect: 100-continue on a good request. */
static void test_shutdown_while_waiting(void)
{
    start(10000, 64, 20000);
    resp r;
    rd_kafka_mock_cluster_t *mc = wb_embedded_cluster(emb);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_down(mc, b);
    bg_post b = {.id = "stuck_1"};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, bg_post_run, &b), 0);
    int64_t end = wb_now_ms() + 5000;
    while (wb_listener_active(lis) < 1 && wb_now_ms() < end)
        usleep(10000);
    usleep(200000);
    ASSERT_EQ(wb_listener_active(lis), 1);
    /* the same delivery id while the first is unacked: 409 + Retry-After, not published */
    post_std("stuck_1", time(NULL), "{\"type\":\"t\"}", &r);
    ASSERT_EQ(r.status, 409);
    ASSERT_CONTAINS(r.headers.data, "Retry-After: 1");
    ASSERT_CONTAINS(r.body.data, "in-flight");
    resp_free(&r);
    int64_t t0 = wb_now_ms();
    wb_listener_free(lis, 300);
    lis = NULL;
    ASSERT(wb_now_ms() - t0 < 3000);
    pthread_join(t, NULL);
    ASSERT_EQ(b.r.status, 503);
    ASSERT_CONTAINS(b.r.body.data, "shutting down");
    resp_free(&b.r);
    /* the listener is gone: nothing answers any more */
    const char *json[] = {"Content-Type: application/json", NULL};
    post("/webhooks/limited", json, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, -1);
    resp_free(&r);
    for (int i = 1; i <= 3; i++)
        rd_kafka_mock_broker_set_up(mc, i);
    wb_producer_free(prod, 3000); /* the late report runs here, after the listener is freed */
    prod = NULL;
    wb_embedded_stop(emb);
    emb = NULL;
    wb_signer_free(signer);
    signer = NULL;
}

static void test_expect_continue(void)
{
    start(5000, 64, 5000);
    resp r;
    const char *h[] = {"Content-Type: application/json", "Expect: 100-continue", NULL};
    post("/webhooks/limited", h, "{\"x\":1}", 7, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.headers.data, "HTTP/1.1 100 Continue");
    ASSERT_CONTAINS(r.body.data, "\"topic\":\"partner.limited.events\"");
    resp_free(&r);
    stop();
}

/* Raw socket helpers. */
static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 if the peer closed (or reset) within ms, reading and discarding any bytes. */
static int closed_within(int fd, int ms, wb_buf *got)
{
    int64_t end = wb_now_ms() + ms;
    while (wb_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            char b[4096];
            ssize_t n = recv(fd, b, sizeof(b), 0);
            if (n <= 0) return 1;
            if (got) wb_buf_add(got, b, (size_t)n);
        }
    }
    return 0;
}

static uint64_t counter_of(const char *name, const char *labels)
{
    return wb_counter_value(wb_metrics_counter(name, "", labels));
}

/* Regression (issue 9.7): MHD's timeout is an idle timeout, so a client sending a header
 * byte every 200 ms held its connection for ever. Now the head must be complete within
 * header_timeout of the accept and the whole request within request_timeout: each slow
 * client below is cut at its deadline, well before MHD's idle timeout (request_timeout + 1 s)
 * could matter, and counted. */
static void test_slow_client(void)
{
    next_header_timeout = 600;
    start(5000, 64, 1800);
    next_header_timeout = 0;
    uint64_t h0 = counter_of("webhook_bridge_inbound_request_timeouts_total",
                             "endpoint=\"inbound\",phase=\"headers\"");
    uint64_t b0 = counter_of("webhook_bridge_inbound_request_timeouts_total",
                             "endpoint=\"inbound\",phase=\"body\"");
    /* headers byte by byte, never idle for long: cut at header_timeout. Each t0 below is
     * taken before the event the server's deadline counts from (the accept, the answer), so
     * a test thread descheduled right after it cannot make the cut look early. */
    int64_t t0 = wb_now_ms();
    int fd = dial();
    ASSERT(fd >= 0);
    const char *req = "POST /webhooks/limited HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    int cut = 0;
    for (size_t i = 0; req[i] && !cut; i++) {
        if (send(fd, req + i, 1, MSG_NOSIGNAL) < 0) {
            cut = 1;
            break;
        }
        cut = closed_within(fd, 200, NULL);
    }
    int64_t took = wb_now_ms() - t0;
    ASSERT(cut);
    ASSERT(took >= 550);
    ASSERT(took < 1700); /* header_timeout + sweep period + slack, far below the idle timeout */
    close(fd);
    ASSERT_EQ(counter_of("webhook_bridge_inbound_request_timeouts_total",
                         "endpoint=\"inbound\",phase=\"headers\""),
              h0 + 1);

    /* body trickled 3 bytes every 200 ms: cut at request_timeout (1.8 s from accept) */
    t0 = wb_now_ms();
    fd = dial();
    ASSERT(fd >= 0);
    const char *hdr = "POST /webhooks/limited HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 100\r\n\r\n";
    ASSERT(send(fd, hdr, strlen(hdr), MSG_NOSIGNAL) > 0);
    wb_buf got;
    wb_buf_init(&got, 65536);
    cut = 0;
    for (int i = 0; i < 30 && !cut; i++) {
        if (send(fd, "   ", 3, MSG_NOSIGNAL) < 0)
            cut = 1;
        else
            cut = closed_within(fd, 200, &got);
    }
    took = wb_now_ms() - t0;
    ASSERT(cut);
    ASSERT(took >= 1750);
    ASSERT(took < 2900);
    ASSERT_EQ(got.len, 0); /* MHD 0.9.75 cannot answer mid-body: closed without an answer */
    wb_buf_free(&got);
    close(fd);
    ASSERT_EQ(counter_of("webhook_bridge_inbound_request_timeouts_total",
                         "endpoint=\"inbound\",phase=\"body\""),
              b0 + 1);

    /* an idle kept-alive connection is closed after header_timeout too */
    fd = dial();
    const char *ok = "POST /webhooks/limited HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     "application/json\r\nContent-Length: 2\r\n\r\n{}";
    wb_buf_init(&got, 65536);
    t0 = wb_now_ms();
    ASSERT(send(fd, ok, strlen(ok), MSG_NOSIGNAL) > 0);
    ASSERT(closed_within(fd, 2500, &got));
    ASSERT_CONTAINS(got.data, "HTTP/1.1 200 OK");
    ASSERT(wb_now_ms() - t0 >= 550);
    wb_buf_free(&got);
    close(fd);

    /* still healthy */
    resp r;
    const char *json[] = {"Content-Type: application/json", NULL};
    post("/webhooks/limited", json, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
    stop();
}

/* Issue 9.7: at most max_connections_per_ip open connections per client address; the rest
 * are closed at accept and counted; closing some makes room again. */
/* Open n connections 20 ms apart into fds (-1: could not connect); returns how many the
 * listener refused (failed or closed at once). */
static int dial_many(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        fds[i] = dial();
        usleep(20000);
    }
    int refused = 0;
    for (int i = 0; i < n; i++)
        if (fds[i] < 0 || closed_within(fds[i], 100, NULL)) refused++;
    return refused;
}

/* Close fds: once they are gone, a new request is served again. */
static void close_then_serve(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
    usleep(200000);
    resp r;
    const char *json[] = {"Content-Type: application/json", NULL};
    post("/webhooks/limited", json, "{}", 2, NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_free(&r);
}

static void test_per_ip_limit(void)
{
    next_per_ip = 4;
    start(5000, 64, 5000);
    next_per_ip = 0;
    uint64_t r0 = counter_of("webhook_bridge_inbound_connections_refused_total",
                             "endpoint=\"inbound\",reason=\"per_ip\"");
    int fds[10];
    int refused = dial_many(fds, 10);
    ASSERT(refused >= 5 && refused <= 6); /* 4 (+ at most one per accepting thread) stay */
    ASSERT_EQ(counter_of("webhook_bridge_inbound_connections_refused_total",
                         "endpoint=\"inbound\",reason=\"per_ip\""),
              r0 + (uint64_t)refused);
    close_then_serve(fds, 10);
    stop();
}

/* Issue 9.2: values that become Kafka headers (delivery id, event type, forwarded headers)
 * must not carry control characters: 400 problem+json naming the field, nothing published. */
static void test_header_values_refused(void)
{
    start(5000, 64, 5000);
    int64_t now = time(NULL);
    resp r;
    post_std("msg_ok", now, "{\"type\":\"a\\nX-Injected: 1\"}", &r);
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.headers.data, "application/problem+json");
    ASSERT_CONTAINS(r.body.data, "event type (/type) contains a control character");
    resp_free(&r);
    char longtype[400];
    memset(longtype, 't', 300);
    longtype[300] = 0;
    char body[512];
    snprintf(body, sizeof body, "{\"type\":\"%s\"}", longtype);
    post_std("msg_ok2", now, body, &r);
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.body.data, "event type (/type) is longer than 255 bytes");
    resp_free(&r);
    post_std("msg\ttab", now, "{\"type\":\"t\"}", &r); /* a TAB is legal HTTP, not a header */
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.body.data, "webhook-id contains a control character");
    resp_free(&r);

    /* a forwarded header with a TAB */
    wb_buf sig;
    wb_buf_init(&sig, 4096);
    const char *b = "{\"type\":\"t\"}";
    ASSERT_EQ(wb_signer_signature(signer, "msg_fw", now, b, strlen(b), &sig), WB_OK);
    char h_ts[64], h_sig[600];
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %lld", (long long)now);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig.data);
    const char *h[] = {"Content-Type: application/json",
                       "webhook-id: msg_fw",
                       h_ts,
                       h_sig,
                       "X-Custom: a\tb",
                       NULL};
    post("/webhooks/std", h, b, strlen(b), NULL, &r);
    ASSERT_EQ(r.status, 400);
    ASSERT_CONTAINS(r.body.data, "header X-Custom contains a control character");
    resp_free(&r);
    wb_buf_free(&sig);

    rec recs[4];
    ASSERT_EQ(consume_all(TOPIC, recs, 4, 1500), 0);
    stop();
}

/* A GitHub request signed by the partner, with its delivery id. */
static void post_gh(wb_signer *gs, const char *delivery, const char *body, resp *out)
{
    wb_buf lines;
    wb_buf_init(&lines, 4096);
    ASSERT_EQ(wb_signer_sign(gs, "ignored", 0, body, strlen(body), &lines), WB_OK);
    char sig[200] = "", dl[300];
    const char *p = strstr(lines.data, "X-Hub-Signature-256: ");
    ASSERT(p);
    snprintf(sig, sizeof sig, "%.*s", (int)strcspn(p, "\n"), p);
    snprintf(dl, sizeof dl, "X-GitHub-Delivery: %s", delivery);
    const char *h[] = {"Content-Type: application/json", sig, dl, "X-GitHub-Event: push", NULL};
    post("/webhooks/gh", h, body, strlen(body), NULL, out);
    wb_buf_free(&lines);
}

/* Regression (issue 9.12): GitHub's delivery id is not signed, so a captured request
 * replayed with a new X-GitHub-Delivery was published again. Dedupe also keys on the digest
 * of the signature now. Regression (issue 9.8): the rate token was taken before the
 * signature check, so unsigned junk used up a partner's rate. */
static void test_signature_dedupe_and_rate(void)
{
    start(5000, 64, 5000);
    char err[256];
    wb_signer *gs = wb_signer_new(&conns[1].signing, err, sizeof err);
    ASSERT(gs);
    conns[1].rate_per_s = 1; /* one token (burst 1) */
    resp r;
    const char *bad[] = {"Content-Type: application/json",
                         "X-Hub-Signature-256: sha256="
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         NULL};
    for (int i = 0; i < 5; i++) {
        post("/webhooks/gh", bad, "{}", 2, NULL, &r);
        ASSERT_EQ(r.status, 401);
        resp_free(&r);
    }
    const char *body = "{\"ref\":\"refs/heads/main\",\"after\":\"abc\"}";
    post_gh(gs, "d-1", body, &r);
    ASSERT_EQ(r.status, 200); /* the token was still there */
    ASSERT_CONTAINS(r.body.data, "\"offset\":");
    resp_free(&r);
    conns[1].rate_per_s = 0;
    post_gh(gs, "d-2-replayed", body, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_CONTAINS(r.body.data, "\"duplicate\":true");
    resp_free(&r);
    post_gh(gs, "d-1", body, &r);
    ASSERT_CONTAINS(r.body.data, "\"duplicate\":true");
    resp_free(&r);
    post_gh(gs, "d-3", "{\"ref\":\"refs/heads/dev\"}", &r); /* another event */
    ASSERT_EQ(r.status, 200);
    ASSERT(!strstr(r.body.data, "duplicate"));
    resp_free(&r);
    rec recs[8];
    int n = consume_all("partner.gh.events", recs, 8, 2000);
    ASSERT_EQ(n, 2);
    recs_free(recs, n);
    wb_signer_free(gs);
    stop();
}

static void test_connection_limit(void)
{
    start(5000, 8, 5000);
    int fds[20];
    int refused = dial_many(fds, 20);
    ASSERT(refused >= 10);
    close_then_serve(fds, 20);
    stop();
}

static void test_bad_secret_fails_start(void)
{
    char err[512] = "";
    setup_cfg(1000, 8, 1000);
    static char *bad[] = {"whsec_!!!not-base64"};
    conns[0].signing.secrets = bad;
    wb_listener *l = wb_listener_new(&cfg, NULL, err, sizeof(err));
    ASSERT(!l);
    ASSERT_CONTAINS(err, "std");
    ASSERT(!strstr(err, "!!!not-base64"));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wb_log_setup(WB_LOG_ERROR, WB_LOG_TEXT);
    RUN(test_route);
    RUN(test_bad_secret_fails_start);
    RUN(test_publish_and_duplicate);
    RUN(test_errors);
    RUN(test_schema);
    RUN(test_reload_secret);
    RUN(test_reload_frees_old_verifiers);
    RUN(test_broker_down);
    RUN(test_slow_client);
    RUN(test_connection_limit);
    RUN(test_per_ip_limit);
    RUN(test_header_values_refused);
    RUN(test_signature_dedupe_and_rate);
    RUN(test_expect_continue);
    RUN(test_queue_full);
    RUN(test_record_too_large);
    RUN(test_shutdown_while_waiting);
    curl_global_cleanup();
    TEST_DONE();
}
