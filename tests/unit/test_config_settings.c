/* test_config_settings.c - the settings tables (config_settings.h): every default the tables
 * write (the values config_defaults() and connector_defaults() used to hard-code), and the
 * tables' own consistency: unique keys, enum defaults among the enum's values, nested
 * tables present, defaults only where a type takes one. */
#include <stdlib.h>

#include "config/config_set.h"
#include "config/config_settings.h"
#include "core/log.h"
#include "test.h"

static wb_config_ctx c;

static void ctx_reset(void)
{
    wb_buf_free(&c.errs);
    memset(&c, 0, sizeof(c));
    wb_buf_init(&c.errs, 0);
    c.file = "bridge.yaml";
}

static void test_bridge_defaults(void)
{
    wb_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    ctx_reset();
    wb_config_defaults(&c, wb_config_root_fields, &cfg);
    if (c.nerrs) FAIL_("a default does not convert: %s", c.errs.data);
    ASSERT_EQ(cfg.embedded_brokers, 3);
    ASSERT_EQ(cfg.embedded_partitions, 4);
    ASSERT_STR_EQ(cfg.outbound.dead_letter_topic, "webhook-bridge.dlq");
    ASSERT_EQ(cfg.outbound.max_in_flight_per_partition, 1000);
    ASSERT_EQ(cfg.outbound.drain_timeout_ms, 30000);
    ASSERT_EQ(cfg.outbound.loops, 1);
    ASSERT_EQ(cfg.outbound.fetch_buffer, 16 * 1024 * 1024);
    ASSERT_EQ(cfg.outbound.max_in_flight_bytes, 64 * 1024 * 1024);
    ASSERT_EQ(cfg.outbound.commit_interval_ms, 250);
    ASSERT_EQ(cfg.outbound.retention_ms, 7LL * 24 * 3600 * 1000);
    ASSERT_EQ(cfg.outbound.jq_budget_ms, 100);
    ASSERT_EQ(cfg.outbound.jq_memory, 256u << 20);
    ASSERT_STR_EQ(cfg.outbound.user_agent, "webhook-bridge/" WB_VERSION);
    ASSERT(cfg.outbound.topics == NULL && cfg.outbound.event_type_pointer == NULL);
    ASSERT_EQ(cfg.inbound.max_connections, 1024);
    ASSERT_EQ(cfg.inbound.request_timeout_ms, 30000);
    ASSERT_EQ(cfg.inbound.header_timeout_ms, 10000);
    ASSERT_EQ(cfg.inbound.max_connections_per_ip, 256);
    ASSERT_EQ(cfg.inbound.publish_timeout_ms, 10000);
    ASSERT_EQ(cfg.inbound.max_header, 16 * 1024);
    ASSERT_EQ(cfg.inbound.threads, 2);
    ASSERT(cfg.inbound.listen == NULL && cfg.admin.listen == NULL && cfg.admin.token == NULL);
    ASSERT_EQ(cfg.log.level, WB_LOG_INFO);
    ASSERT_EQ(cfg.log.format, WB_LOG_JSON);
    ASSERT_EQ(cfg.schema_registry.cache_size, 1000);
    ASSERT_EQ(cfg.schema_registry.negative_ttl_ms, 60000);
    ASSERT(cfg.schema_registry.url == NULL && cfg.schema_registry.dir == NULL);
    ASSERT_EQ(cfg.allow_private_networks, 0);
    free(cfg.outbound.dead_letter_topic);
    free(cfg.outbound.user_agent);
}

static void test_connector_defaults(void)
{
    static const int64_t schedule[] = {0, 5000, 300000, 1800000, 7200000, 18000000, 36000000};
    wb_connector cc;
    memset(&cc, 0, sizeof(cc));
    ctx_reset();
    wb_config_defaults(&c, wb_config_connector_fields, &cc);
    if (c.nerrs) FAIL_("a default does not convert: %s", c.errs.data);
    ASSERT_EQ(cc.direction, WB_DIR_OUTBOUND);
    ASSERT_EQ(cc.signing.scheme, WB_SCHEME_STANDARD);
    ASSERT_EQ(cc.signing.tolerance_ms, 300000);
    ASSERT_STR_EQ(cc.signing.hmac.prefix, "");
    ASSERT_STR_EQ(cc.signing.hmac.content, "{body}");
    ASSERT_EQ(cc.signing.hmac.sha512, 0);
    ASSERT_EQ(cc.signing.hmac.base64, 0);
    ASSERT_EQ(cc.ordering, WB_ORDER_KEY);
    ASSERT_EQ(cc.max_concurrency, 64);
    ASSERT_EQ(cc.timeout_ms, 10000);
    ASSERT_EQ(cc.connect_timeout_ms, 5000);
    ASSERT_EQ(cc.nretry, sizeof(schedule) / sizeof(schedule[0]));
    for (size_t i = 0; i < cc.nretry; i++)
        ASSERT_EQ(cc.retry_schedule_ms[i], schedule[i]);
    ASSERT_EQ(cc.retry_after_cap_ms, 3600000);
    ASSERT_EQ(cc.on_exhausted, WB_EXHAUST_DEAD_LETTER);
    ASSERT_EQ(cc.circuit_failures, 10);
    ASSERT_EQ(cc.circuit_cooldown_ms, 30000);
    ASSERT_EQ(cc.contract_writer, 0);
    ASSERT_EQ(cc.http2, 0);
    ASSERT_EQ(cc.max_body, 1024 * 1024);
    ASSERT_EQ(cc.dedupe_ttl_ms, 86400000);
    ASSERT(cc.rate_per_s == 0);
    ASSERT(cc.name == NULL && cc.url == NULL && cc.start == NULL && cc.signing.secrets == NULL);
    /* written twice (signing: and verify: share a table) without leaking: applying again
     * replaces the strings and the schedule (ASan's leak check sees the rest) */
    wb_config_defaults(&c, wb_config_connector_fields, &cc);
    ASSERT_EQ(c.nerrs, 0);
    ASSERT_EQ(cc.nretry, 7);
    free(cc.signing.hmac.prefix);
    free(cc.signing.hmac.content);
    free(cc.retry_schedule_ms);
}

/* Every table reachable from root, checked row by row. */
static void check_table(const wb_field *table, const char *where, int depth)
{
    ASSERT(depth < 4);
    for (const wb_field *f = table; f->name; f++) {
        for (const wb_field *g = table; g < f; g++)
            if (!strcmp(g->name, f->name)) FAIL_("%s: key '%s' twice", where, f->name);
        if (f->type == T_MAP) {
            if (!f->sub) FAIL_("%s.%s: a mapping without a table", where, f->name);
            ASSERT(f->def == NULL);
            check_table(f->sub, f->name, depth + 1);
            continue;
        }
        if (f->type == T_ENUM) {
            ASSERT(f->names != NULL && f->names[0] != NULL);
            if (f->def) {
                int found = 0;
                for (size_t i = 0; f->names[i]; i++)
                    found |= !strcmp(f->names[i], f->def);
                if (!found) FAIL_("%s.%s: default '%s' is not a value", where, f->name, f->def);
            }
        }
        if (f->def && (f->type == T_SECRET || f->type == T_SECRETS || f->type == T_SECRET1 ||
                       f->type == T_STRLIST || f->type == T_HEADERS || f->type == T_KAFKA ||
                       f->type == T_CONNECTORS))
            FAIL_("%s.%s: this type takes no default", where, f->name);
        if (f->type == T_INT || f->type == T_SIZE) ASSERT(f->min <= f->max);
        if ((f->flags & F_OUT) && (f->flags & F_IN))
            FAIL_("%s.%s: both directions", where, f->name);
        ASSERT(f->check >= V_NONE && f->check < V_COUNT);
    }
}

static void test_tables(void)
{
    check_table(wb_config_root_fields, "bridge.yaml", 0);
    check_table(wb_config_connector_fields, "connector", 0);
}

static void test_names(void)
{
    static const char *const schemes[] = {
        "standard-webhooks", "stripe", "github", "shopify", "slack", "hmac", "none"};
    for (int s = WB_SCHEME_STANDARD; s <= WB_SCHEME_NONE; s++)
        ASSERT_STR_EQ(wb_scheme_name((wb_scheme)s), schemes[s]);
    ASSERT_STR_EQ(wb_scheme_name((wb_scheme)(WB_SCHEME_NONE + 1)), "unknown");
    ASSERT_STR_EQ(wb_scheme_name((wb_scheme)-1), "unknown");
    ASSERT_STR_EQ(wb_config_ordering_name(WB_ORDER_KEY), "key");
    ASSERT_STR_EQ(wb_config_ordering_name(WB_ORDER_PARTITION), "partition");
    ASSERT_STR_EQ(wb_config_ordering_name(WB_ORDER_NONE), "none");
    ASSERT_STR_EQ(wb_config_ordering_name((wb_ordering)7), "unknown");
}

/* The scalar converters on their own: bounds and messages. */
static void test_set_scalar(void)
{
    static const char *const two[] = {"a", "b", NULL};
    const wb_field fint = {"n", T_INT, .min = -1, .max = 5};
    const wb_field fsize = {"sz", T_SIZE, .min = 1024, .max = 1L << 20};
    const wb_field fdur = {"d", T_DUR, .min = 100};
    const wb_field fenum = {"e", T_ENUM, .names = two};
    const wb_field frate = {"r", T_RATE, .off = 0};
    int n = 0;
    size_t sz = 0;
    int64_t ms = 0;
    double r = 0;
    ctx_reset();
    wb_config_set_scalar(&c, &fint, (char *)&n, 3, "-1");
    ASSERT_EQ(n, -1);
    wb_config_set_scalar(&c, &fsize, (char *)&sz, 3, "1MiB");
    ASSERT_EQ(sz, 1L << 20);
    wb_config_set_scalar(&c, &fdur, (char *)&ms, 3, "1.5s");
    ASSERT_EQ(ms, 1500);
    wb_config_set_scalar(&c, &fenum, (char *)&n, 3, "b");
    ASSERT_EQ(n, 1);
    wb_config_set_scalar(&c, &frate, (char *)&r, 3, "60/m");
    ASSERT(r > 0.99 && r < 1.01);
    ASSERT_EQ(c.nerrs, 0);
    wb_config_set_scalar(&c, &fint, (char *)&n, 4, "6");
    wb_config_set_scalar(&c, &fsize, (char *)&sz, 5, "1023");
    wb_config_set_scalar(&c, &fdur, (char *)&ms, 6, "99ms");
    wb_config_set_scalar(&c, &fenum, (char *)&n, 7, "c");
    ASSERT_STR_EQ(c.errs.data, "bridge.yaml:4: n: expected an integer in -1..5, got '6'\n"
                               "bridge.yaml:5: sz: size '1023' out of range 1024..1048576 bytes\n"
                               "bridge.yaml:6: d: duration '99ms' is too short (minimum 100ms)\n"
                               "bridge.yaml:7: e: unknown value 'c'; expected one of: a, b\n");
    /* bad values leave the field as it was */
    ASSERT_EQ(n, 1);
    ASSERT_EQ(sz, 1L << 20);
    ASSERT_EQ(ms, 1500);
}

int main(void)
{
    RUN(test_bridge_defaults);
    RUN(test_connector_defaults);
    RUN(test_tables);
    RUN(test_names);
    RUN(test_set_scalar);
    wb_buf_free(&c.errs);
    TEST_DONE();
}
