/* test_config_validate.c - the rules across keys and files (config_validate.c) through
 * wb_config_load: required keys and cross-field rules of one connector, the rules across
 * files, and the defaults that depend on other settings (a connector's topics and group id,
 * max_body against the producer's message.max.bytes). Exact "file:line: key: message". */
#include "config_fixture.h"

/* ---------------------------------------------------------------------------------------- */
/* One connector                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void test_required(void)
{
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "url: https://a.example/\nevents: [a]\n" SIGN_OK),
                  "connectors/c.yaml:1: name: required");
    /* events: absent, null or empty are all "required" */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "name: a\nurl: https://a.example/\n" SIGN_OK),
                  "connectors/c.yaml:1: events: required for outbound connectors (a non-empty "
                  "list)");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "name: a\nurl: https://a.example/\nevents:\n" SIGN_OK),
                  "connectors/c.yaml:1: events: required for outbound connectors (a non-empty "
                  "list)");
    /* a present but invalid url is reported once, by the walk */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "name: a\nurl: nope\nevents: [a]\n" SIGN_OK),
                  "connectors/c.yaml:2: url: expected an http:// or https:// URL with a host");
    /* the line of a missing key is the line of the connector's first key */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "# partner\n\nname: s\ndirection: inbound\n"
                                            "verify: { secrets: [x] }\n"),
                  "connectors/c.yaml:3: topic: required for inbound connectors");
}

static void test_outbound_rules(void)
{
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "name: a\nurl: http://a.example/\nevents: [a]\n" SIGN_OK
                                            "https_only: true\n"),
                  "connectors/c.yaml:1: url: https_only is set but the URL is not https://");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "tls: { client_cert: /c.crt }\n"),
                  "connectors/c.yaml:1: tls: client_cert and client_key must be given together");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD SIGN_OK "tls: { client_key: /c.key }\n"),
                  "connectors/c.yaml:1: tls: client_cert and client_key must be given together");
    /* several rules of one connector: all listed, in the order of the checks */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "url: http://a.example/\n"
                                            "signing:\n  scheme: none\n"
                                            "https_only: true\n"),
                  "connectors/c.yaml:1: name: required\n"
                  "connectors/c.yaml:1: url: https_only is set but the URL is not https://\n"
                  "connectors/c.yaml:1: events: required for outbound connectors (a non-empty "
                  "list)\n"
                  "connectors/c.yaml:2: scheme: 'none' is only allowed for inbound connectors");
}

static void test_signing_rules(void)
{
    /* no signing: at all: reported at the connector's first line */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD),
                  "connectors/c.yaml:1: secrets: at least one secret is required for scheme "
                  "standard-webhooks");
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  secrets: []\n"),
                  "connectors/c.yaml:5: secrets: at least one secret is required for scheme "
                  "standard-webhooks");
    /* secrets given but unusable: only the walk's error, not "at least one" as well */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  secret: \"${WB_TEST_UNSET}\"\n"),
                  "connectors/c.yaml:6: secret: environment variable WB_TEST_UNSET is not set");
    ASSERT_STR_EQ(
        fixture_errors(BRIDGE_OK, OUT_HEAD "signing:\n  secrets: [\"${WB_TEST_UNSET}\"]\n"),
        "connectors/c.yaml:6: secrets: environment variable WB_TEST_UNSET is not set");
    /* hmac: header required; both uncovered headers reported, each at its own line */
    ASSERT_STR_EQ(fixture_errors(BRIDGE_OK, "name: h\ndirection: inbound\ntopic: t\nverify:\n"
                                            "  scheme: hmac\n  secrets: [x]\n"
                                            "  timestamp_header: X-Ts\n  id_header: X-Id\n"),
                  "connectors/c.yaml:4: header: required for scheme hmac\n"
                  "connectors/c.yaml:7: timestamp_header: X-Ts is not covered by the signed "
                  "content '{body}': add {timestamp} to content (a replay with a fresh "
                  "timestamp would pass)\n"
                  "connectors/c.yaml:8: id_header: X-Id is not covered by the signed content "
                  "'{body}': add {id} to content (a replay with a new id would pass dedupe)");
    /* covered: fine; scheme none with insecure: fine */
    wb_config *cfg = fixture_load(BRIDGE_OK, "name: h\ndirection: inbound\ntopic: t\nverify:\n"
                                             "  scheme: hmac\n  secrets: [x]\n  header: X-Sig\n"
                                             "  timestamp_header: X-Ts\n  id_header: X-Id\n"
                                             "  content: \"{id}.{timestamp}.{body}\"\n");
    wb_config_free(cfg);
    cfg = fixture_load(BRIDGE_OK, "name: o\ndirection: inbound\ntopic: t\n"
                                  "verify: { scheme: none, insecure: true }\n");
    ASSERT_EQ(cfg->connectors[0].signing.nsecrets, 0);
    wb_config_free(cfg);
}

/* max_body against kafka message.max.bytes (issue 9.13): an explicit value above it is an
 * error, the default is lowered to leave 32KiB for the key and headers. */
static void test_body_limit(void)
{
    wb_config *cfg = fixture_load("kafka:\n  bootstrap.servers: embedded\n"
                                  "  message.max.bytes: 100000\nconnectors: connectors\n",
                                  IN_HEAD);
    ASSERT_EQ(cfg->connectors[0].max_body, 100000 - 32 * 1024);
    wb_config_free(cfg);
    /* below twice the headroom: half of the limit */
    cfg = fixture_load("kafka:\n  bootstrap.servers: embedded\n"
                       "  message.max.bytes: 50000\nconnectors: connectors\n",
                       IN_HEAD);
    ASSERT_EQ(cfg->connectors[0].max_body, 25000);
    wb_config_free(cfg);
    /* room enough: the default stays */
    cfg = fixture_load("kafka:\n  bootstrap.servers: embedded\n"
                       "  message.max.bytes: 4000000\nconnectors: connectors\n",
                       IN_HEAD);
    ASSERT_EQ(cfg->connectors[0].max_body, 1024 * 1024);
    ASSERT_EQ(wb_config_kafka_max_message(cfg), 4000000);
    wb_config_free(cfg);
    /* an explicit value at the limit is accepted as it is */
    cfg = fixture_load(BRIDGE_OK, IN_HEAD "max_body: 1000000\n");
    ASSERT_EQ(cfg->connectors[0].max_body, 1000000);
    ASSERT_EQ(wb_config_kafka_max_message(cfg), 1000000);
    wb_config_free(cfg);
}

/* ---------------------------------------------------------------------------------------- */
/* Across files                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_inbound_timeouts(void)
{
    ASSERT_STR_EQ(fixture_errors("inbound:\n  listen: \":0\"\n  request_timeout: 5s\n"
                                 "  header_timeout: 6s\n",
                                 NULL),
                  "bridge.yaml:4: header_timeout: must not be longer than request_timeout");
    /* the default header_timeout (10s) against a shorter request_timeout: at inbound: */
    ASSERT_STR_EQ(fixture_errors("log: { level: info }\ninbound: { request_timeout: 5s }\n", NULL),
                  "bridge.yaml:2: header_timeout: must not be longer than request_timeout");
    wb_config *cfg = fixture_load("inbound: { request_timeout: 5s, header_timeout: 5s }\n", NULL);
    wb_config_free(cfg);
}

/* An outbound connector's own Kafka cursor: topics default to outbound.topics, the group
 * to "<group.id>.<name>"; its own values are kept. */
static void test_default_cursor(void)
{
    wb_config *cfg = fixture_load(BRIDGE_OK, OUT_HEAD SIGN_OK);
    const wb_connector *cc = &cfg->connectors[0];
    ASSERT_EQ(cc->ntopics, 1);
    ASSERT_STR_EQ(cc->topics[0], "orders");
    ASSERT_STR_EQ(cc->group_id, "webhook-bridge.acme");
    ASSERT_EQ(cc->start_mode, WB_START_LATEST);
    ASSERT(cc->start == NULL);
    ASSERT_STR_EQ(wb_config_group_id(cfg), "webhook-bridge");
    wb_config_free(cfg);

    cfg = fixture_load("kafka: { bootstrap.servers: embedded, group.id: hooks }\n"
                       "outbound: { topics: [orders, inventory] }\nconnectors: connectors/\n",
                       OUT_HEAD SIGN_OK "topics: [special]\nstart: earliest\n");
    cc = &cfg->connectors[0];
    ASSERT_EQ(cc->ntopics, 1);
    ASSERT_STR_EQ(cc->topics[0], "special");
    ASSERT_STR_EQ(cc->group_id, "hooks.acme");
    ASSERT_EQ(cc->start_mode, WB_START_EARLIEST);
    wb_config_free(cfg);

    /* own topics without outbound.topics: fine; a group of its own is kept */
    cfg = fixture_load("kafka: { bootstrap.servers: embedded }\nconnectors: connectors/\n",
                       OUT_HEAD SIGN_OK "topics: [t1, t2]\ngroup_id: mine\n");
    cc = &cfg->connectors[0];
    ASSERT_EQ(cc->ntopics, 2);
    ASSERT_STR_EQ(cc->group_id, "mine");
    wb_config_free(cfg);

    /* inbound connectors have no cursor */
    cfg = fixture_load(BRIDGE_OK, IN_HEAD);
    ASSERT(cfg->connectors[0].group_id == NULL);
    ASSERT_EQ(cfg->connectors[0].ntopics, 0);
    wb_config_free(cfg);
}

/* Names are unique across files, whatever the direction; the later file is reported. */
static void test_unique_names(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/a.yaml", "name: same\n"
                                    "direction: inbound\ntopic: t\n"
                                    "verify: { secrets: [x] }\n");
    write_file("connectors/b.yaml",
               "\n\nname: same\nurl: https://b.example/\nevents: [e]\n" SIGN_OK);
    write_file("connectors/c.yaml", "name: same\nurl: https://c.example/\nevents: [e]\n" SIGN_OK);
    ASSERT(wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_STR_EQ(fixture_err, "connectors/b.yaml:3: name: duplicate connector name 'same' (also "
                               "in connectors/a.yaml:1)\n"
                               "connectors/c.yaml:1: name: duplicate connector name 'same' (also "
                               "in connectors/a.yaml:1)");
}

/* A schemas folder that cannot be loaded is reported at the contract. */
static void test_contract_unloadable(void)
{
    fixture_reset();
    ASSERT(mkdir("schemas", 0700) == 0);
    write_file("schemas/manifest.json", "{ not json\n");
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "\ncontract: order.paid@1\n");
    ASSERT(wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_CONTAINS(fixture_err, "connectors/c.yaml:7: contract: cannot load the schemas: ");
    ASSERT(strchr(fixture_err, '\n') == NULL); /* one error */
    /* inbound connectors are not checked here (their schema: is resolved at run) */
    write_file("connectors/c.yaml", IN_HEAD "schema: order.paid@1\n");
    wb_config *cfg = wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err));
    if (!cfg) FAIL_("%s", fixture_err);
    wb_config_free(cfg);
}

int main(void)
{
    fixture_init("test-config-validate");
    unsetenv("WB_TEST_UNSET");
    RUN(test_required);
    RUN(test_outbound_rules);
    RUN(test_signing_rules);
    RUN(test_body_limit);
    RUN(test_inbound_timeouts);
    RUN(test_default_cursor);
    RUN(test_unique_names);
    RUN(test_contract_unloadable);
    fixture_done();
    TEST_DONE();
}
