/* test_registry.c - Schema Registry client and caches against a local libmicrohttpd server
 * that answers like Confluent's REST API (GET /schemas/ids/{id}). */
#include "schema/registry.h"
#include "test.h"
#include "registry_mock.h"
#include "core/util.h"

#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

static char src_dir[1024];
static char lead_v1[8192]; /* schema text served for id 1234 */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int hits_1234, hits_7, hits_8, hits_12, hits_20xx;
static char last_auth[256];
static char last_accept[256];

static mhd_result handler(void *cls, struct MHD_Connection *conn, const char *url,
                          const char *method, const char *version, const char *upload_data,
                          size_t *upload_data_size, void **con_cls)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
    pthread_mutex_lock(&mu);
    snprintf(last_auth, sizeof(last_auth), "%s", auth ? auth : "");
    snprintf(last_accept, sizeof(last_accept), "%s", accept ? accept : "");
    pthread_mutex_unlock(&mu);
    if (strcmp(method, "GET"))
        return reply(conn, 405, "{\"error_code\":405,\"message\":\"method\"}");
    if (!strcmp(url, "/schemas/ids/1234")) {
        pthread_mutex_lock(&mu);
        hits_1234++;
        pthread_mutex_unlock(&mu);
        json_t *doc = json_pack("{s:s}", "schema", lead_v1);
        char *body = json_dumps(doc, JSON_COMPACT);
        mhd_result r = reply(conn, 200, body);
        free(body);
        json_decref(doc);
        return r;
    }
    if (!strcmp(url, "/schemas/ids/7")) {
        pthread_mutex_lock(&mu);
        hits_7++;
        pthread_mutex_unlock(&mu);
        return reply(conn, 404, "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}");
    }
    if (!strcmp(url, "/schemas/ids/8")) {
        /* Fails twice, then recovers: a transient error must not stick. */
        pthread_mutex_lock(&mu);
        int n = ++hits_8;
        pthread_mutex_unlock(&mu);
        if (n > 2) return reply(conn, 200, "{\"schema\":\"\\\"string\\\"\"}");
        return reply(conn, 500, "{\"error_code\":50001,\"message\":\"Error in the backend\"}");
    }
    if (!strcmp(url, "/schemas/ids/9"))
        return reply(conn, 200, "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = 1;\"}");
    if (!strcmp(url, "/schemas/ids/10"))
        return reply(conn, 200, "{\"schema\":\"{\\\"type\\\":\\\"nope\\\"}\"}");
    if (!strncmp(url, "/schemas/ids/20", 15) && strlen(url) == 17) {
        /* 2000..2099: a valid schema each (the cache bound test) */
        pthread_mutex_lock(&mu);
        hits_20xx++;
        pthread_mutex_unlock(&mu);
        return reply(conn, 200, "{\"schema\":\"\\\"string\\\"\"}");
    }
    if (!strcmp(url, "/schemas/ids/12")) {
        /* as id 8, for the asynchronous path */
        pthread_mutex_lock(&mu);
        int n = ++hits_12;
        pthread_mutex_unlock(&mu);
        if (n > 2) return reply(conn, 200, "{\"schema\":\"\\\"string\\\"\"}");
        return reply(conn, 500, "{\"error_code\":50001,\"message\":\"Error in the backend\"}");
    }
    if (!strcmp(url, "/schemas/ids/11") || !strcmp(url, "/schemas/ids/13")) {
        usleep(1500 * 1000);
        return reply(conn, 200, "{\"schema\":\"\\\"string\\\"\"}");
    }
    return reply(conn, 404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
}

static struct MHD_Daemon *start(int *port)
{
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         handler, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    ASSERT(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ASSERT(info && info->port);
    *port = info->port;
    return d;
}

/* A lead.created v1 record framed with registry id 1234. */
static void lead_record(wb_schemas *local, wb_buf *out)
{
    const char *body = "{\"event_id\":\"e\",\"lead_id\":\"l1\",\"email\":\"a@b.c\","
                       "\"full_name\":\"Ana\",\"source\":\"PARTNER\",\"created_at\":0}";
    char reason[256];
    wb_err err = wb_schemas_from_json(local, "lead.created@1", body, strlen(body), out, reason,
                                      sizeof(reason));
    if (err) FAIL_("%s", reason);
    out->data[1] = 0;
    out->data[2] = 0;
    out->data[3] = 0x04;
    out->data[4] = (char)0xd2; /* 1234 */
}

static void test_cache_and_basic_auth(void)
{
    int port;
    char url[64], err[256], reason[512];
    struct MHD_Daemon *d = start(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    char dir[1100];
    snprintf(dir, sizeof(dir), "%s/schemas", src_dir);
    wb_schemas *s = wb_schemas_new(dir, url, "user", "pa:ss", NULL, err, sizeof(err));
    if (!s) FAIL_("%s", err);
    wb_buf rec, out;
    wb_buf_init(&rec, 0);
    wb_buf_init(&out, 0);
    lead_record(s, &rec);

    ASSERT_EQ(wb_schemas_to_json(s, rec.data, rec.len, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data, "{\"event_id\":\"e\",\"lead_id\":\"l1\",\"email\":\"a@b.c\","
                            "\"full_name\":\"Ana\",\"company\":null,\"source\":\"PARTNER\","
                            "\"score\":0,\"created_at\":\"1970-01-01T00:00:00.000Z\"}");
    for (int i = 0; i < 3; i++) {
        wb_buf_reset(&out);
        ASSERT_EQ(wb_schemas_to_json(s, rec.data, rec.len, i ? "lead.created@2" : NULL, &out,
                                     reason, sizeof(reason)),
                  WB_OK);
    }
    ASSERT_CONTAINS(out.data, "\"contact_name\":\"Ana\"");
    pthread_mutex_lock(&mu);
    ASSERT_EQ(hits_1234, 1); /* cached forever: exactly one request for the id */
    ASSERT_STR_EQ(last_auth, "Basic dXNlcjpwYTpzcw=="); /* user:pa:ss */
    ASSERT_CONTAINS(last_accept, "application/vnd.schemaregistry.v1+json");
    pthread_mutex_unlock(&mu);

    /* 40403: permanent, clear reason, remembered (no second request). */
    unsigned char id7[] = {0, 0, 0, 0, 7, 0};
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(wb_schemas_to_json(s, id7, sizeof(id7), NULL, &out, reason, sizeof(reason)),
                  WB_ERR_SCHEMA);
        ASSERT_CONTAINS(reason,
                        "schema id 7 not found in the registry (40403: Schema 7 not found)");
    }
    pthread_mutex_lock(&mu);
    ASSERT_EQ(hits_7, 1);
    pthread_mutex_unlock(&mu);

    /* 5xx: transient, not cached (the caller retries). */
    unsigned char id8[] = {0, 0, 0, 0, 8, 0};
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(wb_schemas_to_json(s, id8, sizeof(id8), NULL, &out, reason, sizeof(reason)),
                  WB_ERR_IO);
        ASSERT_CONTAINS(reason, "HTTP 500 for id 8: Error in the backend");
    }
    pthread_mutex_lock(&mu);
    ASSERT_EQ(hits_8, 2);
    pthread_mutex_unlock(&mu);
    /* The registry is back: the retried record decodes (id 8 is the schema "string"). */
    unsigned char id8ok[] = {0, 0, 0, 0, 8, 4, 'h', 'i'};
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(s, id8ok, sizeof(id8ok), NULL, &out, reason, sizeof(reason)),
              WB_OK);
    ASSERT_STR_EQ(out.data, "\"hi\"");

    unsigned char id9[] = {0, 0, 0, 0, 9, 0};
    ASSERT_EQ(wb_schemas_to_json(s, id9, sizeof(id9), NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "PROTOBUF schema, not Avro");
    unsigned char id10[] = {0, 0, 0, 0, 10, 0};
    ASSERT_EQ(wb_schemas_to_json(s, id10, sizeof(id10), NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "schema id 10: invalid schema");
    /* Plain 404 without a Confluent body. */
    unsigned char id99[] = {0, 0, 0, 0, 99, 0};
    ASSERT_EQ(wb_schemas_to_json(s, id99, sizeof(id99), NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "schema id 99 not found");

    wb_schemas_free(s);
    MHD_stop_daemon(d);

    /* Server down: transient WB_ERR_IO, never a permanent verdict. */
    s = wb_schemas_new(NULL, url, NULL, NULL, NULL, err, sizeof(err));
    ASSERT(s);
    ASSERT_EQ(wb_schemas_to_json(s, rec.data, rec.len, NULL, &out, reason, sizeof(reason)),
              WB_ERR_IO);
    ASSERT_CONTAINS(reason, "schema registry unreachable for id 1234");
    wb_schemas_free(s);
    wb_buf_free(&rec);
    wb_buf_free(&out);
}

static void test_bearer_and_timeout(void)
{
    int port;
    char url[64], err[256], reason[512];
    struct MHD_Daemon *d = start(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    wb_registry_opts o = {0};
    o.url = url;
    o.bearer = "tok-123";
    o.username = "ignored";
    o.timeout_ms = 300;
    wb_registry *reg = wb_registry_new(&o, err, sizeof(err));
    ASSERT(reg);
    char *text = NULL;
    ASSERT_EQ(wb_registry_fetch(reg, 1234, &text, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(text, lead_v1);
    free(text);
    pthread_mutex_lock(&mu);
    ASSERT_STR_EQ(last_auth, "Bearer tok-123");
    pthread_mutex_unlock(&mu);
    ASSERT_EQ(wb_registry_fetch(reg, 11, &text, reason, sizeof(reason)), WB_ERR_TIMEOUT);
    ASSERT(text == NULL);
    ASSERT_CONTAINS(reason, "unreachable for id 11");
    ASSERT_EQ(wb_registry_requests(reg), 2);
    wb_registry_free(reg);
    MHD_stop_daemon(d);

    o.url = "ftp://nope";
    ASSERT(!wb_registry_new(&o, err, sizeof(err)));
    ASSERT_CONTAINS(err, "http(s) URL");
    ASSERT(!wb_schemas_new(NULL, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "need a local folder or a registry URL");
}

static int hits(int *which)
{
    pthread_mutex_lock(&mu);
    int n = *which;
    pthread_mutex_unlock(&mu);
    return n;
}

static int notified;
static int32_t notified_id;

static void on_notify(void *ctx, int32_t id)
{
    (void)ctx;
    __atomic_store_n(&notified_id, id, __ATOMIC_RELEASE);
    __atomic_add_fetch(&notified, 1, __ATOMIC_ACQ_REL);
}

/* Wait for the fetch thread's notify (the engine would get a loop message). */
static void wait_notified(int want)
{
    for (int i = 0; i < 500 && __atomic_load_n(&notified, __ATOMIC_ACQUIRE) < want; i++)
        usleep(10000);
    ASSERT_EQ(__atomic_load_n(&notified, __ATOMIC_ACQUIRE), want);
}

static unsigned char *framed(int32_t id, unsigned char *b)
{
    b[0] = 0;
    b[1] = (unsigned char)(id >> 24);
    b[2] = (unsigned char)(id >> 16);
    b[3] = (unsigned char)(id >> 8);
    b[4] = (unsigned char)id;
    b[5] = 4; /* the string "hi" for the "string" schemas */
    b[6] = 'h';
    b[7] = 'i';
    return b;
}

/* async_fetch: a miss answers WB_ERR_PENDING at once (the delivery thread never waits for the
 * registry), the fetch thread notifies, the retry decodes; permanent failures are remembered,
 * transient ones are told once and asked again. */
static void test_async_fetch(void)
{
    int port;
    char url[64], err[256], reason[512];
    struct MHD_Daemon *d = start(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    wb_registry_opts o = {.url = url, .async_fetch = 1, .timeout_ms = 5000};
    wb_schemas *s = wb_schemas_new_opts(NULL, &o, err, sizeof(err));
    if (!s) FAIL_("%s", err);
    wb_schemas_set_notify(s, on_notify, NULL);
    notified = 0;
    wb_buf out;
    wb_buf_init(&out, 0);
    unsigned char b[8];

    /* the slow id (the server sleeps 1.5 s) does not hold the caller */
    int64_t t0 = wb_now_ms();
    ASSERT_EQ(wb_schemas_to_json(s, framed(11, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_PENDING);
    ASSERT_STR_EQ(reason, "schema id 11 is being fetched from the registry");
    ASSERT_EQ(wb_schemas_to_json(s, framed(2001, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_PENDING);
    /* well under the 1.5 s a blocking fetch would take, with room for a loaded machine */
    ASSERT(wb_now_ms() - t0 < 1000);
    ASSERT(out.len == 0);
    wait_notified(2);
    ASSERT_EQ(wb_schemas_to_json(s, framed(11, b), 8, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data, "\"hi\"");
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(s, framed(2001, b), 8, NULL, &out, reason, sizeof(reason)), WB_OK);

    /* permanent: asked once, remembered */
    int h7 = hits(&hits_7);
    ASSERT_EQ(wb_schemas_to_json(s, framed(7, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_PENDING);
    wait_notified(3);
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(wb_schemas_to_json(s, framed(7, b), 8, NULL, &out, reason, sizeof(reason)),
                  WB_ERR_SCHEMA);
        ASSERT_CONTAINS(reason, "schema id 7 not found in the registry");
    }
    ASSERT_EQ(hits(&hits_7), h7 + 1);

    /* transient (HTTP 500 twice, then the schema): told once each, then it decodes */
    for (int round = 0; round < 2; round++) {
        ASSERT_EQ(wb_schemas_to_json(s, framed(12, b), 8, NULL, &out, reason, sizeof(reason)),
                  WB_ERR_PENDING);
        wait_notified(4 + round);
        ASSERT_EQ(notified_id, 12);
        ASSERT_EQ(wb_schemas_to_json(s, framed(12, b), 8, NULL, &out, reason, sizeof(reason)),
                  WB_ERR_IO);
        ASSERT_CONTAINS(reason, "HTTP 500 for id 12");
    }
    ASSERT_EQ(wb_schemas_to_json(s, framed(12, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_PENDING);
    wait_notified(6);
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(s, framed(12, b), 8, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data, "\"hi\"");
    ASSERT_EQ(hits(&hits_12), 3);

    /* many misses for one id while it is fetched: one request */
    int h20 = hits(&hits_20xx);
    for (int i = 0; i < 50; i++)
        ASSERT_EQ(wb_schemas_to_json(s, framed(2002, b), 8, NULL, &out, reason, sizeof(reason)),
                  WB_ERR_PENDING);
    wait_notified(7);
    ASSERT_EQ(hits(&hits_20xx), h20 + 1);

    /* free while a request is in flight: aborted, not waited out */
    ASSERT_EQ(wb_schemas_to_json(s, framed(13, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_PENDING);
    usleep(100 * 1000); /* the request is in flight (the server sleeps 1.5 s) */
    t0 = wb_now_ms();
    wb_schemas_free(s);
    ASSERT(wb_now_ms() - t0 < 1000);
    wb_buf_free(&out);
    MHD_stop_daemon(d);
}

/* The registry cache is bounded (LRU) and a permanent failure is forgotten after its TTL. */
static void test_cache_bounds(void)
{
    int port;
    char url[64], err[256], reason[512];
    struct MHD_Daemon *d = start(&port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    wb_registry_opts o = {.url = url, .cache_size = 3, .negative_ttl_ms = 1000};
    wb_schemas *s = wb_schemas_new_opts(NULL, &o, err, sizeof(err));
    if (!s) FAIL_("%s", err);
    wb_buf out;
    wb_buf_init(&out, 0);
    unsigned char b[8];
    int h0 = hits(&hits_20xx);
    for (int32_t id = 2010; id < 2020; id++) {
        wb_buf_reset(&out);
        ASSERT_EQ(wb_schemas_to_json(s, framed(id, b), 8, NULL, &out, reason, sizeof(reason)),
                  WB_OK);
    }
    wb_schemas_stats st;
    wb_schemas_get_stats(s, &st);
    ASSERT_EQ(st.registry_schemas, 3);
    ASSERT(st.plans <= 12);
    ASSERT_EQ(st.evictions, 7);
    ASSERT_EQ(hits(&hits_20xx), h0 + 10);
    /* the most recent ones are still there; the oldest is fetched again */
    ASSERT_EQ(wb_schemas_to_json(s, framed(2019, b), 8, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_EQ(hits(&hits_20xx), h0 + 10);
    ASSERT_EQ(wb_schemas_to_json(s, framed(2010, b), 8, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_EQ(hits(&hits_20xx), h0 + 11);

    int h7 = hits(&hits_7);
    ASSERT_EQ(wb_schemas_to_json(s, framed(7, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_EQ(wb_schemas_to_json(s, framed(7, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_EQ(hits(&hits_7), h7 + 1);
    /* the TTL is long enough that the second miss above always falls inside it, even when
     * the test is descheduled between the two; past it, the id is asked again */
    usleep(1200 * 1000);
    ASSERT_EQ(wb_schemas_to_json(s, framed(7, b), 8, NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_EQ(hits(&hits_7), h7 + 2);
    wb_buf_free(&out);
    wb_schemas_free(s);
    MHD_stop_daemon(d);
}

int main(void)
{
    const char *sd = getenv("WB_SOURCE_DIR");
    snprintf(src_dir, sizeof(src_dir), "%s", sd ? sd : ".");
    char path[1200];
    snprintf(path, sizeof(path), "%s/schemas/lead.created/v1.avsc", src_dir);
    FILE *fp = fopen(path, "rb");
    ASSERT(fp);
    size_t n = fread(lead_v1, 1, sizeof(lead_v1) - 1, fp);
    lead_v1[n] = 0;
    fclose(fp);
    RUN(test_cache_and_basic_auth);
    RUN(test_bearer_and_timeout);
    RUN(test_async_fetch);
    RUN(test_cache_bounds);
    TEST_DONE();
}
