/* test_config_files.c - connector files (config_files.c) and the load entry points: the
 * shapes bridge.yaml's connectors: may take, paths joined to bridge.yaml's folder, the
 * one-file load of `transform` (wb_config_load_connector), and the count of live configs
 * and the reference a load starts with. */
#include "config/config_files.h"
#include "config_fixture.h"

static void test_join_path(void)
{
    static const char *const cases[][3] = {
        {"", "a.yaml", "a.yaml"},
        {"etc", "a.yaml", "etc/a.yaml"},
        {"etc/", "a.yaml", "etc/a.yaml"},
        {"etc/", "/abs/a.yaml", "/abs/a.yaml"},
        {"/", "x", "/x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = wb_config_join_path(cases[i][0], cases[i][1]);
        ASSERT_STR_EQ(p, cases[i][2]);
        free(p);
    }
}

static void test_connectors_shapes(void)
{
    ASSERT_STR_EQ(fixture_errors("outbound: { topics: [a] }\nconnectors: { a: b }\n", NULL),
                  "bridge.yaml:2: connectors: expected a folder or a list of files, got a mapping");
    ASSERT_STR_EQ(fixture_errors("outbound: { topics: [a] }\nconnectors:\n  - connectors/c.yaml\n"
                                 "  - [x]\n  - connectors/nope.yaml\n",
                                 OUT_HEAD SIGN_OK),
                  "bridge.yaml:4: connectors: expected a file or folder path, got a list\n"
                  "bridge.yaml:5: connectors: cannot open 'connectors/nope.yaml': No such file or "
                  "directory");
    /* connectors: absent, null, or an empty folder: a bridge without connectors */
    wb_config *cfg = fixture_load("outbound: { topics: [a] }\n", NULL);
    ASSERT_EQ(cfg->nconnectors, 0);
    wb_config_free(cfg);
    cfg = fixture_load("outbound: { topics: [a] }\nconnectors:\n", NULL);
    ASSERT_EQ(cfg->nconnectors, 0);
    wb_config_free(cfg);
    cfg = fixture_load("outbound: { topics: [a] }\nconnectors: connectors\n", NULL);
    ASSERT_EQ(cfg->nconnectors, 0);
    wb_config_free(cfg);
    /* a list may mix files and folders; a file named twice is loaded twice (and is then a
     * duplicate name) */
    fixture_reset();
    ASSERT(mkdir("more", 0700) == 0);
    write_file("more/b.yaml", "name: b\nurl: https://b.example/\nevents: [e]\n" SIGN_OK);
    write_file("connectors/c.yaml", OUT_HEAD SIGN_OK);
    write_file("bridge.yaml", "outbound: { topics: [a] }\n"
                              "connectors: [connectors/c.yaml, more, connectors/c.yaml]\n");
    ASSERT(wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_STR_EQ(fixture_err, "connectors/c.yaml:1: name: duplicate connector name 'acme' (also "
                               "in connectors/c.yaml:1)");
}

/* Each connector file is walked on its own defaults, in its own file's lines. */
static void test_files_are_independent(void)
{
    fixture_reset();
    write_file("bridge.yaml", BRIDGE_OK);
    write_file("connectors/a.yaml", OUT_HEAD SIGN_OK "timeout: 1s\nmax_concurrency: 2\n");
    write_file("connectors/b.yaml",
               "name: bee\nurl: https://b.example/\nevents: [e]\n" SIGN_OK "ordering: none\n");
    wb_config *cfg = wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err));
    if (!cfg) FAIL_("%s", fixture_err);
    ASSERT_EQ(cfg->nconnectors, 2);
    ASSERT_EQ(cfg->connectors[0].timeout_ms, 1000);
    ASSERT_EQ(cfg->connectors[1].timeout_ms, 10000);
    ASSERT_EQ(cfg->connectors[1].max_concurrency, 64);
    ASSERT_EQ(cfg->connectors[1].ordering, WB_ORDER_NONE);
    ASSERT_EQ(cfg->connectors[0].line, 1);
    wb_config_free(cfg);
    /* an error in one file does not hide those of the next */
    write_file("connectors/a.yaml", OUT_HEAD SIGN_OK "timeout: never\n");
    write_file("connectors/b.yaml",
               "name: bee\nurl: https://b.example/\nevents: [e]\n" SIGN_OK "ordering: random\n");
    ASSERT(wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_STR_EQ(fixture_err,
                  "connectors/a.yaml:6: timeout: invalid duration 'never' (e.g. 250ms, 30s, 5m, "
                  "2h, 1d)\n"
                  "connectors/b.yaml:5: ordering: unknown value 'random'; expected one of: key, "
                  "partition, none");
    /* a YAML error in a connector file names it */
    write_file("connectors/b.yaml", "name: [\n");
    ASSERT(wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_CONTAINS(fixture_err, "\nconnectors/b.yaml:2: yaml: ");
}

/* `transform` loads one connector file on the bridge defaults. */
static void test_load_connector(void)
{
    fixture_reset();
    int live = wb_config_live();
    write_file("c.yaml", OUT_HEAD SIGN_OK "timeout: 2s\n");
    wb_config *cfg = wb_config_load_connector("c.yaml", NULL, fixture_err, sizeof(fixture_err));
    if (!cfg) FAIL_("%s", fixture_err);
    ASSERT_EQ(cfg->nconnectors, 1);
    ASSERT_STR_EQ(cfg->connectors[0].file, "c.yaml");
    ASSERT_EQ(cfg->connectors[0].timeout_ms, 2000);
    ASSERT_STR_EQ(cfg->schema_registry.dir, "schemas");
    ASSERT_STR_EQ(cfg->outbound.dead_letter_topic, "webhook-bridge.dlq");
    ASSERT_EQ(cfg->refs, 1);
    /* regression: a connector load was not counted, and its free made the count drop */
    ASSERT_EQ(wb_config_live(), live + 1);
    wb_config_free(cfg);
    ASSERT_EQ(wb_config_live(), live);

    write_file("c.yaml", OUT_HEAD SIGN_OK "contract: order.paid@1\ntimeout: x\n");
    ASSERT(wb_config_load_connector("c.yaml", "elsewhere", fixture_err, sizeof(fixture_err)) ==
           NULL);
    ASSERT_STR_EQ(fixture_err, "c.yaml:7: timeout: invalid duration 'x' (e.g. 250ms, 30s, 5m, 2h, "
                               "1d)\n"
                               "c.yaml:6: contract: 'order.paid@1' needs a schema source: set "
                               "schema_registry.url or add the schemas folder "
                               "(elsewhere/manifest.json not found)");
    ASSERT(wb_config_load_connector("no.yaml", NULL, fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_STR_EQ(fixture_err, "no.yaml: cannot open: No such file or directory");
    ASSERT_EQ(wb_config_live(), live);
}

/* A generation is shared by reference; a failed load leaves nothing live. */
static void test_lifetime(void)
{
    int live = wb_config_live();
    wb_config *cfg = fixture_load(BRIDGE_OK, OUT_HEAD SIGN_OK);
    ASSERT_EQ(cfg->refs, 1);
    ASSERT_EQ(wb_config_live(), live + 1);
    ASSERT(wb_config_ref(cfg) == cfg);
    wb_config_unref(cfg);
    ASSERT_EQ(wb_config_live(), live + 1);
    wb_config_unref(cfg);
    ASSERT_EQ(wb_config_live(), live);
    ASSERT(wb_config_ref(NULL) == NULL);
    wb_config_unref(NULL);
    wb_config_free(NULL);
    fixture_errors(BRIDGE_OK, OUT_HEAD "signing: { secrets: [] }\n");
    ASSERT_EQ(wb_config_live(), live);
    ASSERT(wb_config_load("missing.yaml", fixture_err, sizeof(fixture_err)) == NULL);
    ASSERT_EQ(wb_config_live(), live);
}

int main(void)
{
    fixture_init("test-config-files");
    RUN(test_join_path);
    RUN(test_connectors_shapes);
    RUN(test_files_are_independent);
    RUN(test_load_connector);
    RUN(test_lifetime);
    fixture_done();
    TEST_DONE();
}
