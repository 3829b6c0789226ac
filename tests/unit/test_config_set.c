/* test_config_set.c - the setters (config_set.c) through wb_config_load: the kafka: section
 * (file order, librdkafka's checks, secrets never echoed, file: only for secret-like
 * properties), extra headers, the secret:/secrets: pair, lists, and values from the
 * environment. Exact "file:line: key: message". */
#include "config_fixture.h"

#define KAFKA_TAIL "outbound: { topics: [a] }\n"

static void test_kafka(void)
{
    /* the secret file lives in a private dir of its own: the fixture dir is emptied by
     * fixture_load, and a fixed name in /tmp could collide with a parallel run */
    char dir[] = "/tmp/wb-test-config-set-kpass-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char kpass[PATH_MAX], file_ref[PATH_MAX + 8], yaml[2 * (PATH_MAX + 8) + 256];
    snprintf(kpass, sizeof(kpass), "%s/kpass", dir);
    snprintf(file_ref, sizeof(file_ref), "file:%s", kpass);
    write_file(kpass, "from-file\n");
    ASSERT(chmod(kpass, 0600) == 0);
    snprintf(yaml, sizeof(yaml),
             "kafka:\n"
             "  bootstrap.servers: k1:9092\n"
             "  client.id: \"%s\"\n"
             "  sasl.password: \"%s\"\n"
             "  linger.ms: \"${WB_TEST_LINGER:-7}\"\n" KAFKA_TAIL,
             file_ref, file_ref);
    wb_config *cfg = fixture_load(yaml, NULL);
    ASSERT_EQ(cfg->nkafka, 4);
    ASSERT_STR_EQ(cfg->kafka[0].key, "bootstrap.servers");
    ASSERT_STR_EQ(cfg->kafka[1].value, file_ref); /* not a secret */
    ASSERT_STR_EQ(cfg->kafka[2].value, "from-file");
    ASSERT_STR_EQ(cfg->kafka[3].value, "7");
    ASSERT_EQ(cfg->embedded, 0);
    wb_config_free(cfg);
    unlink(kpass);
    rmdir(dir);

    ASSERT_STR_EQ(fixture_errors("kafka: [a]\n", NULL),
                  "bridge.yaml:1: kafka: expected a mapping of librdkafka properties, got a list");
    ASSERT_STR_EQ(fixture_errors("kafka:\n  ? [a]\n  : b\n", NULL),
                  "bridge.yaml:2: kafka: expected a property name, got a list");
    ASSERT_STR_EQ(fixture_errors("kafka:\n  group.id: a\n  linger.ms: 5\n  group.id: b\n", NULL),
                  "bridge.yaml:4: group.id: duplicate key");
    /* embedded is not stored, yet a second bootstrap.servers is still a duplicate */
    ASSERT_STR_EQ(fixture_errors("kafka:\n  bootstrap.servers: embedded\n"
                                 "  bootstrap.servers: k:9092\n",
                                 NULL),
                  "bridge.yaml:3: bootstrap.servers: duplicate key");
    /* librdkafka's message quotes the value: not for a secret-like property */
    setenv("WB_TEST_KSECRET", "k-s3cr3t", 1);
    const char *errs = fixture_errors(
        "kafka:\n  my.secret.thing: \"${WB_TEST_KSECRET}\"\n  linger.ms: soon\n", NULL);
    ASSERT_CONTAINS(errs, "bridge.yaml:2: my.secret.thing: rejected by librdkafka\n");
    ASSERT_CONTAINS(errs, "bridge.yaml:3: linger.ms: Invalid value");
    ASSERT(strstr(errs, "k-s3cr3t") == NULL);
}

static void test_headers(void)
{
    setenv("WB_TEST_HDR", "from-env", 1);
    wb_config *cfg = fixture_load(BRIDGE_OK, OUT_HEAD SIGN_OK
                                  "headers: { X-A: a, X-Env: \"${WB_TEST_HDR}\" }\n");
    const wb_connector *cc = &cfg->connectors[0];
    ASSERT_EQ(cc->nheaders, 2);
    ASSERT_STR_EQ(cc->headers[1].name, "X-Env");
    ASSERT_STR_EQ(cc->headers[1].value, "from-env");
    wb_config_free(cfg);

    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "headers: [X-A]\n"),
                  "connectors/c.yaml:6: headers: expected a mapping of header names to values, "
                  "got a list");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "headers:\n  \"X A\": v\n"
                                                             "  X-B: \"a\\nb\"\n"
                                                             "  Content-Type: text/plain\n"
                                                             "  X-C: [v]\n"),
                  "connectors/c.yaml:7: headers: invalid header name\n"
                  "connectors/c.yaml:8: X-B: header value must not contain a line break\n"
                  "connectors/c.yaml:9: Content-Type: header is set by the bridge and cannot be "
                  "overridden\n"
                  "connectors/c.yaml:10: X-C: expected a string, got a list");
}

/* secret: adds one more to secrets:, in file order; every secret is a secret (file:
 * allowed, not empty). */
static void test_secret_pair(void)
{
    wb_config *cfg = fixture_load(BRIDGE_OK, OUT_HEAD "signing:\n  secrets: [a, b]\n  secret: c\n");
    const wb_connector *cc = &cfg->connectors[0];
    ASSERT_EQ(cc->signing.nsecrets, 3);
    ASSERT_STR_EQ(cc->signing.secrets[0], "a");
    ASSERT_STR_EQ(cc->signing.secrets[2], "c");
    wb_config_free(cfg);
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  secret: [a]\n"),
                  "connectors/c.yaml:6: secret: expected a string, got a list");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  secrets: [a, \"\"]\n"),
                  "connectors/c.yaml:6: secrets: secret is empty");
    /* a secret file's content never shows in a message */
    write_file("s.txt", "whsec_from_file\n");
    chmod("s.txt", 0600);
    const char *errs = fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  scheme: bogus\n"
                                                          "  secrets: [\"file:s.txt\"]\n");
    ASSERT(strstr(errs, "whsec_from_file") == NULL);
}

static void test_lists(void)
{
    /* a scalar is a one-item list; an explicit empty schedule means no retries */
    wb_config *cfg =
        fixture_load(BRIDGE_OK, "name: a\nurl: https://a.example/\nevents: \"order.*\"\n" SIGN_OK
                                "retry: { schedule: 30s }\nallow_cidrs: 10.0.0.0/8\n");
    const wb_connector *cc = &cfg->connectors[0];
    ASSERT_EQ(cc->nevents, 1);
    ASSERT_STR_EQ(cc->events[0], "order.*");
    ASSERT_EQ(cc->nretry, 1);
    ASSERT_EQ(cc->retry_schedule_ms[0], 30000);
    ASSERT_EQ(cc->nallow_cidrs, 1);
    wb_config_free(cfg);
    /* bad items are reported and left out; the others are kept (the load still fails) */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK
                                 "retry:\n  schedule: [1s, [2s], \"${WB_TEST_UNSET}\", 3s]\n"),
                  "connectors/c.yaml:7: schedule: expected a duration, got a list\n"
                  "connectors/c.yaml:7: schedule: environment variable WB_TEST_UNSET is not set");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "retry:\n  schedule: { a: 1s }\n"),
                  "connectors/c.yaml:7: schedule: expected a list, got a mapping");
    ASSERT_STR_EQ(fixture_errors("outbound:\n  topics: [ok, \"not ok\", also.ok]\n", NULL),
                  "bridge.yaml:2: topics: invalid topic name 'not ok' (letters, digits, '.', '_', "
                  "'-')");
}

/* Numbers and durations may come from the environment, with their default. */
static void test_scalars_from_env(void)
{
    setenv("WB_TEST_CONC", "12", 1);
    wb_config *cfg =
        fixture_load(BRIDGE_OK, OUT_HEAD SIGN_OK "max_concurrency: \"${WB_TEST_CONC}\"\n"
                                                 "timeout: \"${WB_TEST_UNSET:-750ms}\"\n"
                                                 "https_only: \"${WB_TEST_UNSET:-true}\"\n"
                                                 "rate_limit: \"${WB_TEST_UNSET:-5/s}\"\n");
    const wb_connector *cc = &cfg->connectors[0];
    ASSERT_EQ(cc->max_concurrency, 12);
    ASSERT_EQ(cc->timeout_ms, 750);
    ASSERT_EQ(cc->https_only, 1);
    ASSERT(cc->rate_per_s > 4.99 && cc->rate_per_s < 5.01);
    wb_config_free(cfg);
    ASSERT_STR_EQ(
        fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "max_concurrency: \"${WB_TEST_CONC}000\"\n"),
        "connectors/c.yaml:6: max_concurrency: expected an integer in 1..10000, got "
        "'12000'");
    ASSERT_STR_EQ(fixture_errors("inbound: { max_header: 100 }\n", NULL),
                  "bridge.yaml:1: max_header: size '100' out of range 1024..16777216 bytes");
}

int main(void)
{
    fixture_init("test-config-set");
    unsetenv("WB_TEST_UNSET");
    unsetenv("WB_TEST_LINGER");
    RUN(test_kafka);
    RUN(test_headers);
    RUN(test_secret_pair);
    RUN(test_lists);
    RUN(test_scalars_from_env);
    fixture_done();
    TEST_DONE();
}
