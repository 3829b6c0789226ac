/* test_config_yaml.c - the loader's YAML walk on its own (config_yaml.h): a small settings
 * table of every kind of key, applied by wb_config_walk() to documents read by
 * wb_config_yaml_load(). Checks the stored values, that a null value keeps the default, and
 * each error the walk reports with its exact "file:line: key: message": unknown keys (and
 * the suggestion), duplicates, keys that are not scalars, nested mappings, keys of the other
 * direction, YAML syntax errors and empty documents. */
#include <stddef.h>

#include "config/config_settings.h"
#include "config/config_set.h"
#include "config/config_yaml.h"
#include "config_fixture.h"

typedef struct demo {
    char *name;
    int count;
    int64_t wait_ms;
    int on;
    int mode;
    int depth;
    char **tags;
    size_t ntags;
    int out_only, in_only;
} demo;

static const char *const modes[] = {"fast", "slow", NULL};

static const wb_field nested_fields[] = {
    {"depth", T_INT, .off = offsetof(demo, depth), .min = 1, .max = 9, .def = "1"},
    {.name = NULL},
};

static const wb_field demo_fields[] = {
    {"name", T_STR, .off = offsetof(demo, name)},
    {"count", T_INT, .off = offsetof(demo, count), .min = 0, .max = 10, .def = "3"},
    {"wait", T_DUR, .off = offsetof(demo, wait_ms), .min = 1, .def = "5s"},
    {"on", T_BOOL, .off = offsetof(demo, on)},
    {"mode", T_ENUM, .off = offsetof(demo, mode), .names = modes, .def = "slow"},
    {"nested", T_MAP, .sub = nested_fields},
    {"tags", T_STRLIST, .off = offsetof(demo, tags), .count = offsetof(demo, ntags)},
    {"out_only", T_INT, .off = offsetof(demo, out_only), .max = 9, .flags = F_OUT},
    {"in_only", T_INT, .off = offsetof(demo, in_only), .max = 9, .flags = F_IN},
    {.name = NULL},
};

static wb_config_ctx c;
static demo d;
static yaml_document_t doc;
static int have_doc;

static void ctx_reset(void)
{
    if (have_doc) yaml_document_delete(&doc);
    have_doc = 0;
    wb_buf_free(&c.errs);
    memset(&c, 0, sizeof(c));
    wb_buf_init(&c.errs, 0);
    c.file = "w.yaml";
    free(d.name);
    for (size_t i = 0; i < d.ntags; i++)
        free(d.tags[i]);
    free(d.tags);
    memset(&d, 0, sizeof(d));
}

/* Defaults, then the walk of text as w.yaml. Returns the error text ("" when none). */
static const char *walk_text(const char *text, wb_connector *cc)
{
    ctx_reset();
    c.cc = cc;
    wb_config_defaults(&c, demo_fields, &d);
    ASSERT_EQ(c.nerrs, 0);
    write_file("w.yaml", text);
    if (wb_config_yaml_load(&c, "w.yaml", &doc) == 0) {
        have_doc = 1;
        wb_config_walk(&c, &doc, yaml_document_get_root_node(&doc), demo_fields, &d, "demo");
    }
    return c.errs.data ? c.errs.data : "";
}

static void test_values_and_defaults(void)
{
    /* absent and null keys keep the table's default */
    const char *errs = walk_text("name: x\ncount:\nwait: 250ms\non: yes\nmode: fast\n"
                                 "nested: {depth: 4}\ntags: [a, b]\n",
                                 NULL);
    ASSERT_STR_EQ(errs, "");
    ASSERT_STR_EQ(d.name, "x");
    ASSERT_EQ(d.count, 3);
    ASSERT_EQ(d.wait_ms, 250);
    ASSERT_EQ(d.on, 1);
    ASSERT_EQ(d.mode, 0);
    ASSERT_EQ(d.depth, 4);
    ASSERT_EQ(d.ntags, 2);
    ASSERT_STR_EQ(d.tags[1], "b");
    errs = walk_text("name: ~\n", NULL);
    ASSERT_STR_EQ(errs, "");
    ASSERT(d.name == NULL);
    ASSERT_EQ(d.wait_ms, 5000);
    ASSERT_EQ(d.mode, 1);
    ASSERT_EQ(d.depth, 1);
    /* a scalar is a one-item list */
    ASSERT_STR_EQ(walk_text("tags: solo\n", NULL), "");
    ASSERT_EQ(d.ntags, 1);
    ASSERT_STR_EQ(d.tags[0], "solo");
}

static void test_unknown_keys(void)
{
    ASSERT_STR_EQ(walk_text("name: x\ncuont: 1\n", NULL),
                  "w.yaml:2: cuont: unknown key; did you mean 'count'?\n");
    ASSERT_STR_EQ(walk_text("COUNT: 1\n", NULL),
                  "w.yaml:1: COUNT: unknown key; did you mean 'count'?\n");
    ASSERT_STR_EQ(walk_text("\n\nzzzzzzzz: 1\n", NULL), "w.yaml:3: zzzzzzzz: unknown key\n");
    /* inside a nested mapping, the nested table's keys are suggested */
    ASSERT_STR_EQ(walk_text("nested:\n  deth: 2\n", NULL),
                  "w.yaml:2: deth: unknown key; did you mean 'depth'?\n");
}

/* Errors never stop the walk: every one is listed, in file order, and the good keys are
 * still stored. */
static void test_errors_in_order(void)
{
    const char *errs = walk_text("count: 11\n"
                                 "name: kept\n"
                                 "count: 2\n"
                                 "wait: 0s\n"
                                 "mode: medium\n"
                                 "on: perhaps\n"
                                 "nested: 3\n"
                                 "tags: {a: b}\n",
                                 NULL);
    ASSERT_STR_EQ(errs, "w.yaml:1: count: expected an integer in 0..10, got '11'\n"
                        "w.yaml:3: count: duplicate key\n"
                        "w.yaml:4: wait: duration '0s' is too short (minimum 1ms)\n"
                        "w.yaml:5: mode: unknown value 'medium'; expected one of: fast, slow\n"
                        "w.yaml:6: on: expected true or false, got 'perhaps'\n"
                        "w.yaml:7: nested: expected a mapping, got a scalar\n"
                        "w.yaml:8: tags: expected a list, got a mapping\n");
    ASSERT_EQ(c.nerrs, 7);
    ASSERT_STR_EQ(d.name, "kept");
    ASSERT_EQ(d.count, 3); /* the bad value left the default */
}

static void test_shapes(void)
{
    ASSERT_STR_EQ(walk_text("- a\n- b\n", NULL),
                  "w.yaml:1: demo: expected a mapping, got a list\n");
    ASSERT_STR_EQ(walk_text("? [a, b]\n: c\n", NULL),
                  "w.yaml:1: demo: expected a key, got a list\n");
    ASSERT_STR_EQ(walk_text("name: [a]\n", NULL),
                  "w.yaml:1: name: expected a scalar, got a list\n");
    ASSERT_STR_EQ(walk_text("count: {a: 1}\n", NULL),
                  "w.yaml:1: count: expected a scalar, got a mapping\n");
    ASSERT_STR_EQ(walk_text("tags: [a, [b], c]\n", NULL),
                  "w.yaml:1: tags: expected a string, got a list\n");
    ASSERT_EQ(d.ntags, 2);
    /* lines of nested values are their own */
    ASSERT_STR_EQ(walk_text("name: x\nnested:\n\n  depth: 10\n", NULL),
                  "w.yaml:4: depth: expected an integer in 1..9, got '10'\n");
}

static void test_direction(void)
{
    wb_connector cc;
    memset(&cc, 0, sizeof(cc));
    cc.direction = WB_DIR_INBOUND;
    ASSERT_STR_EQ(walk_text("out_only: 1\nin_only: 2\n", &cc),
                  "w.yaml:1: out_only: only valid for outbound connectors\n");
    ASSERT_EQ(d.in_only, 2);
    cc.direction = WB_DIR_OUTBOUND;
    ASSERT_STR_EQ(walk_text("out_only: 1\nin_only: 2\n", &cc),
                  "w.yaml:2: in_only: only valid for inbound connectors\n");
    /* outside a connector (bridge.yaml) the flags do not apply */
    ASSERT_STR_EQ(walk_text("out_only: 1\nin_only: 2\n", NULL), "");
}

static void test_documents(void)
{
    ASSERT_STR_EQ(walk_text("", NULL), "w.yaml:1: yaml: empty document\n");
    ASSERT_STR_EQ(walk_text("# only a comment\n", NULL), "w.yaml:1: yaml: empty document\n");
    ASSERT_EQ(c.nerrs, 1);
    /* syntax errors: libyaml's problem and context, at its line and column */
    const char *errs = walk_text("name: x\ntags: [a, b\n", NULL);
    ASSERT_CONTAINS(errs, "w.yaml:3: yaml: did not find expected ',' or ']' while parsing a flow "
                          "sequence (column 1)\n");
    errs = walk_text("name: x\n  count: 1\n", NULL);
    ASSERT_CONTAINS(errs, "w.yaml:2: yaml: mapping values are not allowed in this context "
                          "(column 8)\n");
    ASSERT_EQ(c.nerrs, 1);
    /* only the first document is read */
    ASSERT_STR_EQ(walk_text("name: one\n---\nname: two\n", NULL), "");
    ASSERT_STR_EQ(d.name, "one");

    ctx_reset();
    ASSERT_EQ(wb_config_yaml_load(&c, "no-such.yaml", &doc), -1);
    ASSERT_STR_EQ(c.errs.data, "no-such.yaml: cannot open: No such file or directory\n");
}

static void test_map_get(void)
{
    walk_text("name: x\n\ncount:\nnested: {depth: 2}\n", NULL);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int line = -1;
    yaml_node_t *vn = wb_config_map_get(&doc, root, "name", &line);
    ASSERT(vn != NULL);
    ASSERT_STR_EQ(node_text(vn), "x");
    ASSERT_EQ(line, 1);
    /* a null value: NULL, but the key's line is known */
    ASSERT(wb_config_map_get(&doc, root, "count", &line) == NULL);
    ASSERT_EQ(line, 3);
    line = -1;
    ASSERT(wb_config_map_get(&doc, root, "absent", &line) == NULL);
    ASSERT_EQ(line, -1);
    vn = wb_config_map_get(&doc, root, "nested", NULL);
    ASSERT(vn != NULL && vn->type == YAML_MAPPING_NODE);
    ASSERT_STR_EQ(node_kind(vn), "a mapping");
}

static void test_report(void)
{
    ctx_reset();
    c.file = "connectors/x.yaml";
    wb_config_report(&c, 12, "secert", "unknown key; did you mean '%s'?", "secret");
    wb_config_oom(&c);
    wb_config_oom(&c); /* once */
    ASSERT_STR_EQ(c.errs.data, "connectors/x.yaml:12: secert: unknown key; did you mean "
                               "'secret'?\nout of memory\n");
    ASSERT_EQ(c.nerrs, 2);
    char *s = wb_config_strdup(&c, "copy");
    ASSERT_STR_EQ(s, "copy");
    free(s);
}

int main(void)
{
    fixture_init("test-config-yaml");
    RUN(test_values_and_defaults);
    RUN(test_unknown_keys);
    RUN(test_errors_in_order);
    RUN(test_shapes);
    RUN(test_direction);
    RUN(test_documents);
    RUN(test_map_get);
    RUN(test_report);
    ctx_reset();
    wb_buf_free(&c.errs);
    fixture_done();
    TEST_DONE();
}
