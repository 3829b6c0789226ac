/* test_config.c - bridge.yaml / connector loading: parsed values, defaults, every error kind
 * with its exact "file:line: key: message", and the shipped connectors/ examples.
 *
 * Fixtures are written into a fresh temp dir (config_fixture.h); the test chdir()s there and
 * loads the relative path "bridge.yaml", so messages name "bridge.yaml" and
 * "connectors/<file>" exactly. */
#include "config_fixture.h"

static char errbuf[8192];

/* ---------------------------------------------------------------------------------------- */
/* Error cases                                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *bridge;    /* bridge.yaml text */
    const char *connector; /* connectors/c.yaml text, or NULL */
    const char *expect;    /* exact substring of the error text */
} bad_case;

static const bad_case bad_cases[] = {
    /* 1 misspelled key, suggestion */
    {BRIDGE_OK, OUT_HEAD "signing:\n  secert: x\n",
     "connectors/c.yaml:6: secert: unknown key; did you mean 'secret'?"},
    /* 2 wrong type */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "max_concurrency: lots\n",
     "connectors/c.yaml:6: max_concurrency: expected an integer in 1..10000, got 'lots'"},
    /* 3 out of range */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "max_concurrency: 10001\n",
     "connectors/c.yaml:6: max_concurrency: expected an integer in 1..10000, got '10001'"},
    /* 4 bad duration */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "timeout: 10 parsecs\n",
     "connectors/c.yaml:6: timeout: invalid duration '10 parsecs' (e.g. 250ms, 30s, 5m, 2h, 1d)"},
    /* 5 bad rate */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "rate_limit: fast\n",
     "connectors/c.yaml:6: rate_limit: invalid rate 'fast' (e.g. 200/s, 10/m, 3600/h)"},
    /* 6 bad size (inbound) */
    {BRIDGE_OK,
     "name: s\ndirection: inbound\ntopic: t\nverify: { scheme: stripe, secrets: [x] }\n"
     "max_body: 1 lightyear\n",
     "connectors/c.yaml:5: max_body: invalid size '1 lightyear' (e.g. 4096, 16KiB, 1MiB)"},
    /* 7 missing url: line of the mapping */
    {BRIDGE_OK, "name: acme\nevents: [a]\n" SIGN_OK,
     "connectors/c.yaml:1: url: required for outbound connectors"},
    /* 8 missing topic */
    {BRIDGE_OK, "\nname: s\ndirection: inbound\nverify: { scheme: github, secrets: [x] }\n",
     "connectors/c.yaml:2: topic: required for inbound connectors"},
    /* 9 unknown enum value */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "ordering: random\n",
     "connectors/c.yaml:6: ordering: unknown value 'random'; expected one of: key, partition, "
     "none"},
    /* 10 outbound events without outbound.topics */
    {"kafka: { bootstrap.servers: embedded }\nconnectors: connectors/\n", OUT_HEAD SIGN_OK,
     "connectors/c.yaml:1: events: connector 'acme' subscribes to events but neither its "
     "topics: nor outbound.topics in bridge.yaml is set"},
    /* 11 YAML syntax error */
    {BRIDGE_OK, "name: acme\nurl: [unclosed\nevents: x\n", "connectors/c.yaml:"},
    /* 12 unset environment variable */
    {BRIDGE_OK, OUT_HEAD "signing:\n  secrets: [\"${WB_TEST_SURELY_UNSET}\"]\n",
     "connectors/c.yaml:6: secrets: environment variable WB_TEST_SURELY_UNSET is not set"},
    /* 13 unreadable secret file */
    {BRIDGE_OK, OUT_HEAD "signing:\n  secrets: [\"file:/nonexistent/wb-secret\"]\n",
     "connectors/c.yaml:6: secrets: cannot read secret file '/nonexistent/wb-secret': No such "
     "file or directory"},
    /* 14 scheme none without insecure */
    {BRIDGE_OK, "name: s\ndirection: inbound\ntopic: t\nverify:\n  scheme: none\n",
     "connectors/c.yaml:4: scheme: 'none' disables verification; it needs insecure: true"},
    /* 15 scheme none outbound */
    {BRIDGE_OK, OUT_HEAD "signing:\n  scheme: none\n",
     "connectors/c.yaml:5: scheme: 'none' is only allowed for inbound connectors"},
    /* 16 non-http URL */
    {BRIDGE_OK, "name: a\nurl: ftp://x.example/\nevents: [a]\n" SIGN_OK,
     "connectors/c.yaml:2: url: expected an http:// or https:// URL with a host"},
    /* 17 bridge.yaml unknown key */
    {"kafka: { bootstrap.servers: embedded }\noutbond:\n  topics: [a]\n", NULL,
     "bridge.yaml:2: outbond: unknown key; did you mean 'outbound'?"},
    /* 18 bridge.yaml out of range */
    {"outbound:\n  topics: [a]\n  max_in_flight_per_partition: 0\n", NULL,
     "bridge.yaml:3: max_in_flight_per_partition: expected an integer in 1..1000000, got '0'"},
    /* 19 empty events */
    {BRIDGE_OK, "name: a\nurl: https://a.example/\nevents: []\n" SIGN_OK,
     "connectors/c.yaml:1: events: required for outbound connectors (a non-empty list)"},
    /* 20 outbound key in an inbound connector */
    {BRIDGE_OK,
     "name: s\ndirection: inbound\ntopic: t\nverify: { secrets: [x] }\nurl: https://a.example/\n",
     "connectors/c.yaml:5: url: only valid for outbound connectors"},
    /* 21 invalid name */
    {BRIDGE_OK, "name: Acme Corp\nurl: https://a.example/\nevents: [a]\n" SIGN_OK,
     "connectors/c.yaml:1: name: invalid name 'Acme Corp'"},
    /* 22 key is not a JSON pointer */
    {BRIDGE_OK, "name: s\ndirection: inbound\ntopic: t\nverify: { secrets: [x] }\nkey: data.id\n",
     "connectors/c.yaml:5: key: expected a JSON pointer starting with '/', got 'data.id'"},
    /* 23 no secrets */
    {BRIDGE_OK, OUT_HEAD "signing: { scheme: github }\n",
     "connectors/c.yaml:5: secrets: at least one secret is required for scheme github"},
    /* 24 connectors folder missing */
    {"outbound: { topics: [a] }\nconnectors: nope/\n", NULL,
     "bridge.yaml:2: connectors: cannot open 'nope/': No such file or directory"},
    /* 25 duplicate key */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "timeout: 1s\ntimeout: 2s\n",
     "connectors/c.yaml:7: timeout: duplicate key"},
    /* 26 wrong container type */
    {BRIDGE_OK, "name: a\nurl: https://a.example/\nevents: { a: b }\n" SIGN_OK,
     "connectors/c.yaml:3: events: expected a list, got a mapping"},
    /* 27 bad duration in a list */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "retry:\n  schedule: [1s, soon]\n",
     "connectors/c.yaml:7: schedule: invalid duration 'soon'"},
    /* 28 empty secret via ${X:-} */
    {BRIDGE_OK, OUT_HEAD "signing: { secrets: [\"${WB_TEST_SURELY_UNSET:-}\"] }\n",
     "connectors/c.yaml:5: secrets: secret is empty"},
    /* 29 hmac without header */
    {BRIDGE_OK, "name: s\ndirection: inbound\ntopic: t\nverify: { scheme: hmac, secrets: [x] }\n",
     "connectors/c.yaml:4: header: required for scheme hmac"},
    /* 30 bad enum in a nested mapping of bridge.yaml */
    {"log: { level: loud }\n", NULL,
     "bridge.yaml:1: level: unknown value 'loud'; expected one of: debug, info, warn, error"},
    /* 31 invalid topic name */
    {"outbound: { topics: [\"bad topic\"] }\n", NULL,
     "bridge.yaml:1: topics: invalid topic name 'bad topic'"},
    /* 32 bool */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "https_only: maybe\n",
     "connectors/c.yaml:6: https_only: expected true or false, got 'maybe'"},
    /* 33 bridge.yaml syntax error names line */
    {"kafka:\n  a: b\n c: d\n", NULL, "bridge.yaml:3: yaml: "},
    /* 34 kafka value not scalar */
    {"kafka:\n  bootstrap.servers: [a, b]\n", NULL,
     "bridge.yaml:2: bootstrap.servers: expected a scalar value, got a list"},
    /* 35 inbound-only key in outbound connector */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "topic: x\n",
     "connectors/c.yaml:6: topic: only valid for inbound connectors"},
    /* 36 malformed reference */
    {BRIDGE_OK, OUT_HEAD "signing: { secrets: [\"${BROKEN\"] }\n",
     "connectors/c.yaml:5: secrets: malformed reference: expected ${NAME} or ${NAME:-default}"},
    /* 37 number from an unset variable */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "max_concurrency: ${WB_TEST_SURELY_UNSET}\n",
     "connectors/c.yaml:6: max_concurrency: environment variable WB_TEST_SURELY_UNSET is not "
     "set"},
    /* 38 negative duration */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "timeout: -5s\n",
     "connectors/c.yaml:6: timeout: invalid duration '-5s'"},
    /* 39 zero timeout */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "timeout: 0s\n",
     "connectors/c.yaml:6: timeout: duration '0s' is too short (minimum 1ms)"},
    /* 40 connector file that is not a mapping */
    {BRIDGE_OK, "- a\n- b\n", "connectors/c.yaml:1: connector: expected a mapping, got a list"},
    /* 41 bad CIDR */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "allow_cidrs: [10.0.0.0/33]\n",
     "connectors/c.yaml:6: allow_cidrs: invalid CIDR '10.0.0.0/33'"},
    /* 42 property unknown to librdkafka */
    {"kafka:\n  bootstrap.servers: k:9092\n  enable.idempotance: true\n", NULL,
     "bridge.yaml:3: enable.idempotance: No such configuration property"},
    /* 43 value refused by librdkafka; a secret-like one is not echoed */
    {"kafka:\n  sasl.password: \"${WB_TEST_KPASS}\"\n  acks: maybe\n", NULL,
     "bridge.yaml:3: acks: Invalid value"},
    /* 44 listen address */
    {"inbound: { listen: 8080 }\n", NULL,
     "bridge.yaml:1: listen: expected host:port (e.g. 0.0.0.0:8080), got '8080'"},
    /* 45 reserved header */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "headers:\n  Webhook-Signature: forged\n",
     "connectors/c.yaml:7: Webhook-Signature: header is set by the bridge and cannot be "
     "overridden"},
    /* 46 a filter that jq cannot compile: jq's own message, on one line */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "filter: '.data.amount >'\n",
     "connectors/c.yaml:6: filter: invalid jq program: syntax error, unexpected $end (Unix "
     "shell quoting issues?) at <top-level>, line 1: .data.amount >"},
    /* 47 a transform calling what jq does not have */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "transform: |\n  {id: .data.order_id, amount: cents(.data)}\n",
     "connectors/c.yaml:6: transform: invalid jq program: cents/1 is not defined at "
     "<top-level>, line 1: {id: .data.order_id, amount: cents(.data)}"},
    /* 48 contract without a registry and without a schemas folder */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "contract: order.paid@1\n",
     "connectors/c.yaml:6: contract: 'order.paid@1' needs a schema source: set "
     "schema_registry.url or add the schemas folder (schemas/manifest.json not found)"},
    /* 49 filter and transform are outbound keys */
    {BRIDGE_OK,
     "name: in\ndirection: inbound\ntopic: t\nverify: { secrets: [x] }\nfilter: 'true'\n",
     "connectors/c.yaml:5: filter: only valid for outbound connectors"},
    /* 50 writer rule */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "contract_writer: header\n",
     "connectors/c.yaml:6: contract_writer: unknown value 'header'; expected one of: auto, "
     "ce_dataschema, schema_version, newest"},
    /* 52 registry cache bound */
    {"schema_registry: { url: \"http://sr:8081\", cache_size: 0 }\n", NULL,
     "bridge.yaml:1: cache_size: expected an integer in 1..1000000, got '0'"},
    /* 51 jq budget */
    {"outbound: { topics: [t], jq_budget: 0ms }\n", NULL,
     "bridge.yaml:1: jq_budget: duration '0ms' is too short (minimum 1ms)"},
    /* 46 hmac timestamp header outside the signed content (issue 9.9: replay passed) */
    {BRIDGE_OK,
     "name: h\ndirection: inbound\ntopic: t\nverify:\n  scheme: hmac\n  secrets: [x]\n"
     "  header: X-Sig\n  timestamp_header: X-Ts\n",
     "connectors/c.yaml:8: timestamp_header: X-Ts is not covered by the signed content "
     "'{body}': add {timestamp} to content"},
    /* 47 hmac id header outside the signed content */
    {BRIDGE_OK,
     "name: h\ndirection: inbound\ntopic: t\nverify:\n  scheme: hmac\n  secrets: [x]\n"
     "  header: X-Sig\n  timestamp_header: X-Ts\n  content: \"{timestamp}.{body}\"\n"
     "  id_header: X-Id\n",
     "connectors/c.yaml:10: id_header: X-Id is not covered by the signed content "
     "'{timestamp}.{body}': add {id} to content"},
    /* 48 max_body above the producer's message.max.bytes (issue 9.13) */
    {BRIDGE_OK,
     "name: s\ndirection: inbound\ntopic: t\nverify: { scheme: github, secrets: [x] }\n"
     "max_body: 2MiB\n",
     "connectors/c.yaml:5: max_body: 2097152 bytes is above kafka message.max.bytes (1000000)"},
    {"kafka:\n  bootstrap.servers: embedded\n  message.max.bytes: 100000\nconnectors: connectors\n",
     "name: s\ndirection: inbound\ntopic: t\nverify: { scheme: github, secrets: [x] }\n"
     "max_body: 200KiB\n",
     "connectors/c.yaml:5: max_body: 204800 bytes is above kafka message.max.bytes (100000)"},
    /* 46 http2 mode */
    {BRIDGE_OK, OUT_HEAD SIGN_OK "http2: yes\n",
     "connectors/c.yaml:6: http2: unknown value 'yes'; expected one of: auto, off, "
     "prior-knowledge"},
};

/* Copy the repository's schemas/ manifest and order.paid into dir (for contract checks). */
static void write_schemas(const char *dir)
{
    char path[PATH_MAX], src[PATH_MAX];
    const char *sd = getenv("WB_SOURCE_DIR");
    ASSERT(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/order.paid", dir);
    ASSERT(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    write_file(path, "{\"order.paid\": {\"1\": 101, \"2\": 102}}\n");
    for (int v = 1; v <= 2; v++) {
        snprintf(src, sizeof(src), "cp %s/schemas/order.paid/v%d.avsc %s/order.paid/",
                 sd ? sd : ".", v, dir);
        ASSERT(system(src) == 0);
    }
}

/* contract: checked against the schemas `run` loads: exact messages. */
static void test_contract_checks(void)
{
    fixture_reset();
    write_schemas("schemas");
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "contract: order.paid@9\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "connectors/c.yaml:6: contract: unknown version 'order.paid@9' "
                          "(schemas/manifest.json has order.paid@1, order.paid@2)");
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "contract: order.payd@1\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "connectors/c.yaml:6: contract: unknown event 'order.payd' (not in "
                          "schemas/manifest.json)");
    /* a registry alone supplies writers, never the pinned reader schema */
    write_file("bridge.yaml",
               BRIDGE_OK "schema_registry: { url: \"http://sr:8081\", dir: none }\n");
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "contract: order.paid@1\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "connectors/c.yaml:6: contract: 'order.paid@1' must be a schema of the "
                          "local schemas folder (none/manifest.json not found); the registry "
                          "supplies only the writers' schemas");
    /* the good case, with filter and transform */
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "contract: order.paid@1\n"
                                                     "contract_writer: schema_version\n"
                                                     "filter: '.data.amount | tonumber > 100'\n"
                                                     "transform: '{id: .data.order_id}'\n");
    wb_config *cfg = wb_config_load("bridge.yaml", errbuf, sizeof(errbuf));
    if (!cfg) FAIL_("%s", errbuf);
    ASSERT_STR_EQ(cfg->connectors[0].filter, ".data.amount | tonumber > 100");
    ASSERT_STR_EQ(cfg->connectors[0].transform, "{id: .data.order_id}");
    ASSERT_EQ(cfg->connectors[0].contract_writer, 2);
    ASSERT_EQ(cfg->outbound.jq_budget_ms, 100);
    ASSERT_EQ(cfg->outbound.jq_memory, 256u << 20);
    ASSERT_EQ(cfg->schema_registry.cache_size, 1000);
    ASSERT_EQ(cfg->schema_registry.negative_ttl_ms, 60000);
    wb_config_free(cfg);
}

static void test_bad_cases(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case *bc = &bad_cases[i];
        fixture_reset();
        write_file("bridge.yaml", bc->bridge);
        if (bc->connector) write_file("connectors/c.yaml", bc->connector);
        errbuf[0] = 0;
        wb_config *cfg = wb_config_load("bridge.yaml", errbuf, sizeof(errbuf));
        if (cfg || !strstr(errbuf, bc->expect)) {
            fprintf(stderr, "case %zu: expected \"%s\"\n  got \"%s\"\n", i + 1, bc->expect, errbuf);
        }
        ASSERT(cfg == NULL);
        ASSERT_CONTAINS(errbuf, bc->expect);
    }
}

/* A lone error is exactly one line in errstr (no trailing newline). */
static void test_exact_single_error(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "ordering: random\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "connectors/c.yaml:6: ordering: unknown value 'random'; expected one "
                          "of: key, partition, none");
}

static void test_several_errors(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK "outbond: {}\n");
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK "timeout: soon\nmax_concurrency: 0\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_CONTAINS(errbuf, "bridge.yaml:6: outbond: unknown key; did you mean 'outbound'?\n");
    ASSERT_CONTAINS(errbuf, "connectors/c.yaml:6: timeout: invalid duration 'soon'");
    ASSERT_CONTAINS(errbuf, "connectors/c.yaml:7: max_concurrency: expected an integer");
}

static void test_duplicate_names(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/a.yaml", OUT_HEAD SIGN_OK);
    write_file("connectors/b.yaml", "# second\n" OUT_HEAD SIGN_OK);
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "connectors/b.yaml:2: name: duplicate connector name 'acme' (also in "
                          "connectors/a.yaml:1)");
}

/* Secret values never show up in messages. */
static void test_secret_not_leaked(void)
{
    fixture_reset();
    setenv("WB_TEST_LEAK", "s3cr3t-value-xyz", 1);
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/c.yaml", "name: a\nurl: \"ftp://u:${WB_TEST_LEAK}@h/\"\nevents: [a]\n"
                                    "signing: { secrets: [\"${WB_TEST_LEAK}\"] }\n"
                                    "https_only: true\n");
    ASSERT(wb_config_load("bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_CONTAINS(errbuf, "connectors/c.yaml:2: url:");
    ASSERT(strstr(errbuf, "s3cr3t") == NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Good configs                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_full_config(void)
{
    fixture_reset();
    setenv("WB_TEST_SECRET", "whsec_fromenv", 1);
    setenv("WB_TEST_PASS", "registry-pass", 1);
    setenv("WB_TEST_DELAY", "5s", 1);
    unsetenv("WB_TEST_CONC");
    unsetenv("WB_TEST_UNSET_HOST");
    write_file("secret.txt", "filesecret\n");
    write_schemas("avro");
    write_file("bridge.yaml",
               "kafka:\n"
               "  bootstrap.servers: k1:9092,k2:9092\n"
               "  group.id: webhook-bridge\n"
               "  enable.idempotence: true\n"
               "  queued.max.messages.kbytes: 65536\n"
               "  message.max.bytes: 4000000\n"
               "outbound:\n"
               "  topics: [orders, inventory]\n"
               "  dead_letter_topic: my.dlq\n"
               "  max_in_flight_per_partition: 500\n"
               "  drain_timeout: 45s\n"
               "  event_type_pointer: /type\n"
               "  id_pointer: /id\n"
               "  user_agent: acme-bridge/1\n"
               "inbound: { listen: \"127.0.0.1:8080\", max_connections: 100, request_timeout: 20s,"
               " publish_timeout: 3s, max_header: 32KiB, threads: 4 }\n"
               "admin: { listen: \"0.0.0.0:9090\" }\n"
               "log: { level: debug, format: text }\n"
               "schema_registry: { url: \"http://${WB_TEST_UNSET_HOST:-sr.local}:8081\","
               " username: u, password: \"${WB_TEST_PASS}\", dir: avro }\n"
               "allow_private_networks: true\n"
               "connectors: [connectors/out.yaml, connectors/in.yaml]\n");
    write_file("connectors/out.yaml",
               "name: acme-erp\n"
               "direction: outbound\n"
               "url: https://erp.acme.example/webhooks\n"
               "events: [\"order.*\", inventory.low]\n"
               "signing:\n"
               "  scheme: standard-webhooks\n"
               "  secrets: [\"${WB_TEST_SECRET}\", \"file:secret.txt\"]\n"
               "ordering: partition\n"
               "max_concurrency: \"${WB_TEST_CONC:-16}\"\n"
               "rate_limit: 120/m\n"
               "timeout: 2.5s\n"
               "connect_timeout: 250ms\n"
               "retry: { schedule: [0s, \"${WB_TEST_DELAY}\", 1m], on_exhausted: block, "
               "retry_after_cap: 10m }\n"
               "headers: { X-Partner: acme, X-Env: prod }\n"
               "id_pointer: /meta/id\n"
               "contract: order.paid@1\n"
               "circuit_breaker: { failures: 3, cooldown: 1m }\n"
               "allow_private_networks: true\n"
               "allow_cidrs: [10.0.0.0/8, \"fd00::/8\"]\n"
               "https_only: true\n"
               "tls: { client_cert: /c.crt, client_key: /c.key, ca_file: /ca.pem }\n"
               "proxy: http://proxy:3128\n"
               "http2: prior-knowledge\n");
    write_file("connectors/in.yaml", "name: stripe\n"
                                     "direction: inbound\n"
                                     "topic: partner.stripe.events\n"
                                     "verify:\n"
                                     "  scheme: hmac\n"
                                     "  secret: one\n"
                                     "  secrets: [two]\n"
                                     "  tolerance: 2m\n"
                                     "  header: X-Signature\n"
                                     "  prefix: \"sha512=\"\n"
                                     "  algorithm: sha512\n"
                                     "  encoding: base64\n"
                                     "  timestamp_header: X-Ts\n"
                                     "  content: \"{timestamp}.{id}.{body}\"\n"
                                     "  id_header: X-Id\n"
                                     "key: /data/object/id\n"
                                     "event_type: X-Event\n"
                                     "max_body: 2MiB\n"
                                     "rate_limit: 500/s\n"
                                     "dedupe_ttl: 1h\n"
                                     "forward_headers: [X-GitHub-Event]\n"
                                     "schema: order.paid@2\n");
    wb_config *cfg = wb_config_load("bridge.yaml", errbuf, sizeof(errbuf));
    if (!cfg) fprintf(stderr, "%s\n", errbuf);
    ASSERT(cfg != NULL);
    ASSERT_STR_EQ(cfg->path, "bridge.yaml");
    ASSERT_EQ(cfg->embedded, 0);
    ASSERT_EQ(cfg->nkafka, 5);
    ASSERT_STR_EQ(cfg->kafka[0].key, "bootstrap.servers");
    ASSERT_STR_EQ(cfg->kafka[0].value, "k1:9092,k2:9092");
    ASSERT_STR_EQ(cfg->kafka[2].key, "enable.idempotence");
    ASSERT_STR_EQ(cfg->kafka[2].value, "true");
    ASSERT_STR_EQ(cfg->kafka[3].value, "65536");
    ASSERT_EQ(cfg->outbound.ntopics, 2);
    ASSERT_STR_EQ(cfg->outbound.topics[1], "inventory");
    ASSERT_STR_EQ(cfg->outbound.dead_letter_topic, "my.dlq");
    ASSERT_EQ(cfg->outbound.max_in_flight_per_partition, 500);
    ASSERT_EQ(cfg->outbound.drain_timeout_ms, 45000);
    ASSERT_STR_EQ(cfg->outbound.event_type_pointer, "/type");
    ASSERT_STR_EQ(cfg->outbound.id_pointer, "/id");
    ASSERT_STR_EQ(cfg->outbound.user_agent, "acme-bridge/1");
    ASSERT_STR_EQ(cfg->inbound.listen, "127.0.0.1:8080");
    ASSERT_EQ(cfg->inbound.max_connections, 100);
    ASSERT_EQ(cfg->inbound.request_timeout_ms, 20000);
    ASSERT_EQ(cfg->inbound.publish_timeout_ms, 3000);
    ASSERT_EQ(cfg->inbound.max_header, 32768);
    ASSERT_EQ(cfg->inbound.threads, 4);
    ASSERT_STR_EQ(cfg->admin.listen, "0.0.0.0:9090");
    ASSERT_EQ(cfg->log.level, 0);
    ASSERT_EQ(cfg->log.format, 1);
    ASSERT_STR_EQ(cfg->schema_registry.url, "http://sr.local:8081");
    ASSERT_STR_EQ(cfg->schema_registry.username, "u");
    ASSERT_STR_EQ(cfg->schema_registry.password, "registry-pass");
    ASSERT_STR_EQ(cfg->schema_registry.dir, "avro");
    ASSERT_EQ(cfg->allow_private_networks, 1);
    ASSERT_EQ(cfg->nconnectors, 2);

    const wb_connector *o = wb_config_connector(cfg, "acme-erp");
    ASSERT(o != NULL);
    ASSERT_STR_EQ(o->file, "connectors/out.yaml");
    ASSERT_EQ(o->line, 1);
    ASSERT_EQ(o->direction, WB_DIR_OUTBOUND);
    ASSERT_STR_EQ(o->url, "https://erp.acme.example/webhooks");
    ASSERT_EQ(o->nevents, 2);
    ASSERT_STR_EQ(o->events[0], "order.*");
    ASSERT_STR_EQ(o->events[1], "inventory.low");
    ASSERT_EQ(o->signing.scheme, WB_SCHEME_STANDARD);
    ASSERT_EQ(o->signing.nsecrets, 2);
    ASSERT_STR_EQ(o->signing.secrets[0], "whsec_fromenv");
    ASSERT_STR_EQ(o->signing.secrets[1], "filesecret");
    ASSERT_EQ(o->ordering, WB_ORDER_PARTITION);
    ASSERT_EQ(o->max_concurrency, 16);
    ASSERT(o->rate_per_s > 1.99 && o->rate_per_s < 2.01);
    ASSERT_EQ(o->timeout_ms, 2500);
    ASSERT_EQ(o->connect_timeout_ms, 250);
    ASSERT_EQ(o->nretry, 3);
    ASSERT_EQ(o->retry_schedule_ms[0], 0);
    ASSERT_EQ(o->retry_schedule_ms[1], 5000);
    ASSERT_EQ(o->retry_schedule_ms[2], 60000);
    ASSERT_EQ(o->on_exhausted, WB_EXHAUST_BLOCK);
    ASSERT_EQ(o->retry_after_cap_ms, 600000);
    ASSERT_EQ(o->nheaders, 2);
    ASSERT_STR_EQ(o->headers[0].name, "X-Partner");
    ASSERT_STR_EQ(o->headers[0].value, "acme");
    ASSERT_STR_EQ(o->headers[1].name, "X-Env");
    ASSERT_STR_EQ(o->id_pointer, "/meta/id");
    ASSERT_STR_EQ(o->contract, "order.paid@1");
    ASSERT_EQ(o->circuit_failures, 3);
    ASSERT_EQ(o->circuit_cooldown_ms, 60000);
    ASSERT_EQ(o->allow_private_networks, 1);
    ASSERT_EQ(o->nallow_cidrs, 2);
    ASSERT_STR_EQ(o->allow_cidrs[1], "fd00::/8");
    ASSERT_EQ(o->https_only, 1);
    ASSERT_STR_EQ(o->client_cert, "/c.crt");
    ASSERT_STR_EQ(o->client_key, "/c.key");
    ASSERT_STR_EQ(o->ca_file, "/ca.pem");
    ASSERT_STR_EQ(o->proxy, "http://proxy:3128");
    ASSERT_EQ(o->http2, 2); /* WB_HTTP2_PRIOR_KNOWLEDGE */

    const wb_connector *in = wb_config_connector(cfg, "stripe");
    ASSERT(in != NULL);
    ASSERT_EQ(in->direction, WB_DIR_INBOUND);
    ASSERT_STR_EQ(in->topic, "partner.stripe.events");
    ASSERT_EQ(in->signing.scheme, WB_SCHEME_HMAC);
    ASSERT_EQ(in->signing.nsecrets, 2);
    ASSERT_STR_EQ(in->signing.secrets[0], "one");
    ASSERT_STR_EQ(in->signing.secrets[1], "two");
    ASSERT_EQ(in->signing.tolerance_ms, 120000);
    ASSERT_STR_EQ(in->signing.hmac.header, "X-Signature");
    ASSERT_STR_EQ(in->signing.hmac.prefix, "sha512=");
    ASSERT_EQ(in->signing.hmac.sha512, 1);
    ASSERT_EQ(in->signing.hmac.base64, 1);
    ASSERT_STR_EQ(in->signing.hmac.timestamp_header, "X-Ts");
    ASSERT_STR_EQ(in->signing.hmac.content, "{timestamp}.{id}.{body}");
    ASSERT_STR_EQ(in->signing.hmac.id_header, "X-Id");
    ASSERT_STR_EQ(in->key_pointer, "/data/object/id");
    ASSERT_STR_EQ(in->event_type, "X-Event");
    ASSERT_EQ(in->max_body, 2 * 1024 * 1024);
    ASSERT(in->rate_per_s > 499.9 && in->rate_per_s < 500.1);
    ASSERT_EQ(in->dedupe_ttl_ms, 3600000);
    ASSERT_EQ(in->nforward_headers, 1);
    ASSERT_STR_EQ(in->forward_headers[0], "X-GitHub-Event");
    ASSERT_STR_EQ(in->schema, "order.paid@2");
    ASSERT(wb_config_connector(cfg, "nope") == NULL);

    /* Summary: names and counts, never secret values. */
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    ASSERT(fp != NULL);
    wb_config_print_summary(cfg, fp);
    fclose(fp);
    ASSERT_CONTAINS(text, "acme-erp (outbound)");
    ASSERT_CONTAINS(text, "https://erp.acme.example/webhooks");
    ASSERT_CONTAINS(text, "order.*, inventory.low");
    ASSERT_CONTAINS(text, "signing: standard-webhooks, 2 secrets");
    ASSERT_CONTAINS(text, "ordering: partition, max concurrency 16");
    ASSERT_CONTAINS(text, "stripe (inbound)");
    ASSERT_CONTAINS(text, "topic: partner.stripe.events");
    ASSERT_CONTAINS(text, "dead-letter topic: my.dlq");
    ASSERT_CONTAINS(text, "orders, inventory");
    ASSERT(strstr(text, "whsec_fromenv") == NULL);
    ASSERT(strstr(text, "filesecret") == NULL);
    ASSERT(strstr(text, "registry-pass") == NULL);
    free(text);
    wb_config_free(cfg);
}

static void test_defaults_and_folder(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK);
    /* Sorted: a.yml before b.yaml; other extensions and dotfiles ignored. */
    write_file("connectors/b.yaml", "name: bee\nurl: http://b.example/\nevents: [x]\n"
                                    "signing: { secret: s }\n");
    write_file("connectors/a.yml", "name: ay\ndirection: inbound\ntopic: in.t\n"
                                   "verify: { scheme: none, insecure: true }\n");
    write_file("connectors/README.md", "not yaml: [\n");
    write_file("connectors/.hidden.yaml", "garbage: [\n");
    wb_config *cfg = wb_config_load("bridge.yaml", errbuf, sizeof(errbuf));
    if (!cfg) fprintf(stderr, "%s\n", errbuf);
    ASSERT(cfg != NULL);
    ASSERT_EQ(cfg->embedded, 1);
    ASSERT_EQ(cfg->nkafka, 0);
    ASSERT_EQ(cfg->embedded_brokers, 3);
    ASSERT_EQ(cfg->embedded_partitions, 4);
    ASSERT_STR_EQ(cfg->outbound.dead_letter_topic, "webhook-bridge.dlq");
    ASSERT_EQ(cfg->outbound.max_in_flight_per_partition, 1000);
    ASSERT_EQ(cfg->outbound.drain_timeout_ms, 30000);
    ASSERT(cfg->outbound.event_type_pointer == NULL);
    ASSERT_CONTAINS(cfg->outbound.user_agent, "webhook-bridge/");
    ASSERT(cfg->inbound.listen == NULL);
    ASSERT_EQ(cfg->inbound.max_connections, 1024);
    ASSERT_EQ(cfg->inbound.request_timeout_ms, 30000);
    ASSERT_EQ(cfg->inbound.publish_timeout_ms, 10000);
    ASSERT_EQ(cfg->inbound.max_header, 16384);
    ASSERT_EQ(cfg->inbound.threads, 2);
    ASSERT(cfg->admin.listen == NULL);
    ASSERT_EQ(cfg->log.level, 1);
    ASSERT_EQ(cfg->log.format, 0);
    ASSERT(cfg->schema_registry.url == NULL);
    ASSERT_STR_EQ(cfg->schema_registry.dir, "schemas");
    ASSERT_EQ(cfg->nconnectors, 2);
    ASSERT_STR_EQ(cfg->connectors[0].name, "ay");
    ASSERT_STR_EQ(cfg->connectors[0].file, "connectors/a.yml");
    ASSERT_STR_EQ(cfg->connectors[1].name, "bee");

    const wb_connector *b = &cfg->connectors[1];
    ASSERT_EQ(b->signing.scheme, WB_SCHEME_STANDARD);
    ASSERT_EQ(b->signing.nsecrets, 1);
    ASSERT_EQ(b->signing.tolerance_ms, 300000);
    ASSERT_EQ(b->ordering, WB_ORDER_KEY);
    ASSERT_EQ(b->http2, 0); /* WB_HTTP2_AUTO */
    ASSERT_EQ(b->max_concurrency, 64);
    ASSERT_EQ(b->timeout_ms, 10000);
    ASSERT_EQ(b->connect_timeout_ms, 5000);
    ASSERT(b->rate_per_s == 0);
    static const int64_t sched[] = {0, 5000, 300000, 1800000, 7200000, 18000000, 36000000};
    ASSERT_EQ(b->nretry, 7);
    for (size_t i = 0; i < 7; i++)
        ASSERT_EQ(b->retry_schedule_ms[i], sched[i]);
    ASSERT_EQ(b->retry_after_cap_ms, 3600000);
    ASSERT_EQ(b->on_exhausted, WB_EXHAUST_DEAD_LETTER);
    ASSERT_EQ(b->circuit_failures, 10);
    ASSERT_EQ(b->circuit_cooldown_ms, 30000);
    ASSERT_EQ(b->nheaders, 0);
    ASSERT_EQ(b->https_only, 0);

    const wb_connector *a = &cfg->connectors[0];
    ASSERT_EQ(a->signing.scheme, WB_SCHEME_NONE);
    ASSERT_EQ(a->signing.insecure, 1);
    ASSERT_EQ(a->signing.nsecrets, 0);
    /* 1MiB lowered to fit librdkafka's message.max.bytes (1000000) with 32KiB of headroom */
    ASSERT_EQ(a->max_body, 1000000 - 32 * 1024);
    ASSERT_EQ(a->dedupe_ttl_ms, 86400000);
    ASSERT(a->key_pointer == NULL);
    ASSERT_STR_EQ(a->signing.hmac.content, "{body}");
    wb_config_free(cfg);
}

/* Paths are relative to the directory of bridge.yaml, as the user wrote it. */
static void test_relative_to_config_dir(void)
{
    fixture_reset();
    ASSERT(mkdir("etc", 0700) == 0);
    ASSERT(mkdir("etc/conns", 0700) == 0);
    write_file("etc/bridge.yaml", "outbound: { topics: [t] }\nconnectors: conns\n");
    write_file("etc/conns/x.yaml", "name: x\nurl: https://x.example/\nevents: [e]\n"
                                   "signing: { secrets: [\"${WB_TEST_UNSET:-default-secret}\"],"
                                   " scheme: github }\nretry: { schedule: [] }\n");
    wb_config *cfg = wb_config_load("etc/bridge.yaml", errbuf, sizeof(errbuf));
    if (!cfg) fprintf(stderr, "%s\n", errbuf);
    ASSERT(cfg != NULL);
    ASSERT_EQ(cfg->nconnectors, 1);
    ASSERT_STR_EQ(cfg->connectors[0].file, "etc/conns/x.yaml");
    ASSERT_STR_EQ(cfg->connectors[0].signing.secrets[0], "default-secret");
    ASSERT_EQ(cfg->connectors[0].signing.scheme, WB_SCHEME_GITHUB);
    ASSERT_EQ(cfg->connectors[0].nretry, 0); /* explicit empty schedule: no retries */
    ASSERT_STR_EQ(cfg->schema_registry.dir, "etc/schemas");
    wb_config_free(cfg);

    /* Errors in connector files name the joined path. */
    write_file("etc/conns/x.yaml", "name: x\nurl: https://x.example/\nevents: [e]\n"
                                   "signing: { secrets: [s] }\ntimeout: never\n");
    ASSERT(wb_config_load("etc/bridge.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_STR_EQ(errbuf, "etc/conns/x.yaml:5: timeout: invalid duration 'never' "
                          "(e.g. 250ms, 30s, 5m, 2h, 1d)");
}

static void test_missing_file_and_small_errstr(void)
{
    fixture_reset();
    ASSERT(wb_config_load("nope.yaml", errbuf, sizeof(errbuf)) == NULL);
    ASSERT_CONTAINS(errbuf, "nope.yaml: cannot open: No such file or directory");
    char small[16];
    ASSERT(wb_config_load("nope.yaml", small, sizeof(small)) == NULL);
    ASSERT_EQ(strlen(small), sizeof(small) - 1);
    ASSERT(wb_scheme_name(WB_SCHEME_SLACK) != NULL);
    ASSERT_STR_EQ(wb_scheme_name(WB_SCHEME_SLACK), "slack");
    ASSERT_STR_EQ(wb_scheme_name(WB_SCHEME_STANDARD), "standard-webhooks");
}

/* The shipped connectors/ examples must stay valid. */
static void test_shipped_examples(void)
{
    const char *src = getenv("WB_SOURCE_DIR");
    ASSERT(src != NULL);
    static const char *const vars[] = {"EXAMPLE_PARTNER_SECRET",  "WAREHOUSE_SECRET",
                                       "STRIPE_WEBHOOK_SECRET",   "GITHUB_WEBHOOK_SECRET",
                                       "SHOPIFY_WEBHOOK_SECRET",  "SLACK_SIGNING_SECRET",
                                       "PLATFORM_WEBHOOK_SECRET", "LEGACY_CRM_SECRET"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        setenv(vars[i], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    fixture_reset();
    char text[PATH_MAX + 200];
    snprintf(text, sizeof(text),
             "kafka: { bootstrap.servers: embedded }\n"
             "outbound: { topics: [orders, inventory, bookings] }\n"
             "inbound: { listen: \"127.0.0.1:8080\" }\n"
             "connectors: %s/connectors\n",
             src);
    write_file("bridge.yaml", text);
    wb_config *cfg = wb_config_load("bridge.yaml", errbuf, sizeof(errbuf));
    if (!cfg) fprintf(stderr, "%s\n", errbuf);
    ASSERT(cfg != NULL);
    ASSERT_EQ(cfg->nconnectors, 8);
    const wb_connector *p = wb_config_connector(cfg, "example-partner");
    ASSERT(p != NULL);
    ASSERT_EQ(p->ordering, WB_ORDER_KEY);
    ASSERT_STR_EQ(p->events[1], "lead.created");
    const wb_connector *w = wb_config_connector(cfg, "warehouse");
    ASSERT(w != NULL);
    ASSERT_EQ(w->ordering, WB_ORDER_PARTITION);
    ASSERT(w->rate_per_s > 0);
    static const char *const inbound[] = {"stripe", "github",   "shopify",
                                          "slack",  "platform", "legacy-crm"};
    for (size_t i = 0; i < sizeof(inbound) / sizeof(inbound[0]); i++) {
        const wb_connector *k = wb_config_connector(cfg, inbound[i]);
        ASSERT(k != NULL);
        ASSERT_EQ(k->direction, WB_DIR_INBOUND);
        ASSERT(k->topic != NULL);
        ASSERT_EQ(k->signing.nsecrets, 1);
    }
    ASSERT_EQ(wb_config_connector(cfg, "legacy-crm")->signing.scheme, WB_SCHEME_HMAC);
    wb_config_free(cfg);
}

int main(void)
{
    fixture_init("test-config");
    unsetenv("WB_TEST_SURELY_UNSET");
    unsetenv("WB_TEST_UNSET");
    setenv("WB_TEST_KPASS", "kafka-pass", 1);
    RUN(test_bad_cases);
    RUN(test_contract_checks);
    RUN(test_exact_single_error);
    RUN(test_several_errors);
    RUN(test_duplicate_names);
    RUN(test_secret_not_leaked);
    RUN(test_full_config);
    RUN(test_defaults_and_folder);
    RUN(test_relative_to_config_dir);
    RUN(test_missing_file_and_small_errstr);
    RUN(test_shipped_examples);
    fixture_done();
    TEST_DONE();
}
