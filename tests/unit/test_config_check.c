/* test_config_check.c - the format checks of one string value (config_check.h): for each
 * V_* kind the values it accepts, the ones it refuses and the exact message, and that a
 * URL (which may carry credentials once interpolated) is never echoed. */
#include <stdlib.h>

#include "config/config_check.h"
#include "test.h"

static wb_config_ctx c;

static void ctx_reset(wb_connector *cc)
{
    wb_buf_free(&c.errs);
    memset(&c, 0, sizeof(c));
    wb_buf_init(&c.errs, 0);
    c.file = "c.yaml";
    c.cc = cc;
}

static void expect_ok(int check, const char *s)
{
    ctx_reset(NULL);
    if (wb_config_check_value(&c, 7, "key", check, s))
        FAIL_("check %d refused '%s': %s", check, s, c.errs.data);
    ASSERT_EQ(c.nerrs, 0);
}

/* s is refused with exactly "c.yaml:7: key: <msg>\n". */
static void expect_bad(int check, const char *s, const char *msg)
{
    char want[1024];
    ctx_reset(NULL);
    ASSERT_EQ(wb_config_check_value(&c, 7, "key", check, s), -1);
    snprintf(want, sizeof(want), "c.yaml:7: key: %s\n", msg);
    ASSERT_STR_EQ(c.errs.data, want);
    ASSERT_EQ(c.nerrs, 1);
}

static void test_topic(void)
{
    char t[251], want[400];
    expect_ok(V_TOPIC, "orders");
    expect_ok(V_TOPIC, "a.b_c-D9");
    /* Kafka's limit: 249 characters */
    memset(t, 'a', 249);
    t[249] = 0;
    expect_ok(V_TOPIC, t);
    t[249] = 'a';
    t[250] = 0;
    snprintf(want, sizeof(want), "invalid topic name '%s' (letters, digits, '.', '_', '-')", t);
    expect_bad(V_TOPIC, t, want);
}

static void test_topic_messages(void)
{
    expect_bad(V_TOPIC, "bad topic",
               "invalid topic name 'bad topic' (letters, digits, '.', '_', '-')");
    expect_bad(V_TOPIC, ".", "invalid topic name '.' (letters, digits, '.', '_', '-')");
    expect_bad(V_TOPIC, "..", "invalid topic name '..' (letters, digits, '.', '_', '-')");
    expect_bad(V_TOPIC, "", "invalid topic name '' (letters, digits, '.', '_', '-')");
}

static void test_name_pointer_event_type(void)
{
    expect_ok(V_NAME, "acme-erp.v2_x");
    expect_ok(V_NAME, "9lives");
    expect_bad(V_NAME, "Acme",
               "invalid name 'Acme' (lowercase letters, digits, '.', '_', '-'; "
               "starting with a letter or digit)");
    expect_bad(V_NAME, "-acme",
               "invalid name '-acme' (lowercase letters, digits, '.', '_', '-'; "
               "starting with a letter or digit)");
    expect_ok(V_POINTER, "/data/id");
    expect_ok(V_POINTER, "/");
    expect_bad(V_POINTER, "data.id", "expected a JSON pointer starting with '/', got 'data.id'");
    expect_ok(V_EVENT_TYPE, "/type");
    expect_ok(V_EVENT_TYPE, "X-GitHub-Event");
    expect_bad(V_EVENT_TYPE, "event type",
               "expected a JSON pointer ('/type') or a header name, got 'event type'");
    expect_ok(V_TOKEN, "X-Sig");
    expect_bad(V_TOKEN, "X Sig", "invalid header name 'X Sig'");
    expect_bad(V_TOKEN, "", "invalid header name ''");
}

static void test_url_not_echoed(void)
{
    expect_ok(V_URL, "https://h.example/hook?x=1");
    expect_ok(V_URL, "HTTP://h:8080");
    static const char *const bad[] = {"ftp://u:pw-secret@h/", "https://",
                                      "https:///path",        "http://?q",
                                      "https://h/a b",        "h.example/hook"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_bad(V_URL, bad[i], "expected an http:// or https:// URL with a host");
        ASSERT(strstr(c.errs.data, "secret") == NULL);
    }
}

static void test_cidr_listen_schema(void)
{
    expect_ok(V_CIDR, "10.0.0.0/8");
    expect_ok(V_CIDR, "192.168.1.1");
    expect_ok(V_CIDR, "fd00::/8");
    expect_ok(V_CIDR, "::1/128");
    expect_bad(V_CIDR, "10.0.0.0/33", "invalid CIDR '10.0.0.0/33' (e.g. 10.0.0.0/8 or fd00::/8)");
    expect_bad(V_CIDR, "fd00::/129", "invalid CIDR 'fd00::/129' (e.g. 10.0.0.0/8 or fd00::/8)");
    expect_bad(V_CIDR, "/8", "invalid CIDR '/8' (e.g. 10.0.0.0/8 or fd00::/8)");
    expect_bad(V_CIDR, "example.com", "invalid CIDR 'example.com' (e.g. 10.0.0.0/8 or fd00::/8)");

    expect_ok(V_LISTEN, "0.0.0.0:8080");
    expect_ok(V_LISTEN, "[::1]:9090");
    expect_ok(V_LISTEN, ":0");
    expect_ok(V_LISTEN, "localhost:65535");
    expect_bad(V_LISTEN, "8080", "expected host:port (e.g. 0.0.0.0:8080), got '8080'");
    expect_bad(V_LISTEN, "h:65536", "expected host:port (e.g. 0.0.0.0:8080), got 'h:65536'");
    expect_bad(V_LISTEN, "a b:1", "expected host:port (e.g. 0.0.0.0:8080), got 'a b:1'");
    expect_bad(V_LISTEN, "unix:/x:1", "expected host:port (e.g. 0.0.0.0:8080), got 'unix:/x:1'");

    expect_ok(V_SCHEMA_REF, "order.paid@1");
    expect_ok(V_SCHEMA_REF, "a@b@1000000");
    expect_bad(V_SCHEMA_REF, "order.paid",
               "expected 'name@version' (e.g. order.paid@1), got 'order.paid'");
    expect_bad(V_SCHEMA_REF, "@1", "expected 'name@version' (e.g. order.paid@1), got '@1'");
    expect_bad(V_SCHEMA_REF, "x@0", "expected 'name@version' (e.g. order.paid@1), got 'x@0'");
}

static void test_group(void)
{
    char g[251];
    expect_ok(V_GROUP, "bridge.acme");
    memset(g, 'g', 250);
    g[250] = 0;
    expect_bad(V_GROUP, g, "expected a consumer group id of 1 to 249 characters");
    g[249] = 0;
    expect_ok(V_GROUP, g);
    expect_bad(V_GROUP, "", "expected a consumer group id of 1 to 249 characters");
    expect_bad(V_GROUP, "a\tb", "control character in consumer group id");
    expect_bad(V_GROUP, "a\x7f", "control character in consumer group id");
}

static void test_start(void)
{
    wb_connector cc;
    memset(&cc, 0, sizeof(cc));
    ctx_reset(&cc);
    ASSERT_EQ(wb_config_check_value(&c, 1, "start", V_START, "earliest"), 0);
    ASSERT_EQ(cc.start_mode, WB_START_EARLIEST);
    ASSERT_EQ(wb_config_check_value(&c, 1, "start", V_START, "2026-12-01T00:00:00Z"), 0);
    ASSERT_EQ(cc.start_mode, WB_START_TIME);
    ASSERT_EQ(cc.start_ms, 1796083200000LL);
    ASSERT_EQ(wb_config_check_value(&c, 1, "start", V_START, "latest"), 0);
    ASSERT_EQ(cc.start_mode, WB_START_LATEST);
    ASSERT_EQ(cc.start_ms, 0);
    ASSERT_EQ(c.nerrs, 0);
    static const char *const bad[] = {"yesterday", "-2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];
        snprintf(want, sizeof(want),
                 "expected latest, earliest or an RFC 3339 time (2026-12-01T00:00:00Z), got '%s'",
                 bad[i]);
        expect_bad(V_START, bad[i], want);
    }
    /* bridge.yaml has no connector: parsed, nothing stored */
    expect_ok(V_START, "earliest");
}

static void test_none_and_headers(void)
{
    expect_ok(V_NONE, "");
    expect_ok(V_NONE, "anything at all");
    expect_ok(V_COUNT + 5, "out of range kinds pass");
    ASSERT(wb_config_valid_token("X-Custom_1.~"));
    ASSERT(!wb_config_valid_token("X:Y"));
    ASSERT(!wb_config_valid_token(""));
    ASSERT(wb_config_reserved_header("Webhook-Signature"));
    ASSERT(wb_config_reserved_header("HOST"));
    ASSERT(wb_config_reserved_header("content-type"));
    ASSERT(!wb_config_reserved_header("X-Webhook-Signature"));
}

int main(void)
{
    RUN(test_topic);
    RUN(test_topic_messages);
    RUN(test_name_pointer_event_type);
    RUN(test_url_not_echoed);
    RUN(test_cidr_listen_schema);
    RUN(test_group);
    RUN(test_start);
    RUN(test_none_and_headers);
    wb_buf_free(&c.errs);
    TEST_DONE();
}
