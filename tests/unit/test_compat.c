/* test_compat.c - compatibility verdicts and messages on the fixtures in
 * tests/unit/avro_cases/compat/<case>/thing/v<N>.avsc, the modes, and the real schemas/. */
#include "schema/avro.h"
#include "schema/compat.h"
#include "test.h"

static char cases_dir[1100];
static char src_dir[1024];

typedef struct expect {
    const char *name;
    wb_compat_mode mode;
    int violations;
    const char *message; /* a line the report must hold when violations > 0 */
} expect;

static const expect table[] = {
    /* breaks */
    {"field_removed_no_default", WB_COMPAT_BACKWARD, 0, NULL},
    {"field_removed_no_default", WB_COMPAT_FORWARD, 1,
     "thing v1 -> v2 (FORWARD): field 'note': removed, and v1 has no default for it (v1 cannot "
     "read v2 data)\n"},
    {"field_added_no_default", WB_COMPAT_BACKWARD, 1,
     "thing v2 -> v1 (BACKWARD): field 'sku': added without a default (v2 cannot read v1 data)\n"},
    {"field_added_no_default", WB_COMPAT_FORWARD, 0, NULL},
    {"type_changed", WB_COMPAT_BACKWARD, 1,
     "thing v2 -> v1 (BACKWARD): field 'amount': type changed from bytes(decimal) to string and "
     "cannot be promoted\n"},
    {"type_changed", WB_COMPAT_FULL, 2, "(FULL: forward): field 'amount': type changed"},
    {"enum_symbol_removed", WB_COMPAT_BACKWARD, 1,
     "thing v2 -> v1 (BACKWARD): field 'status': enum symbol 'SHIPPED' removed and enum Status in "
     "v2 has no default\n"},
    {"enum_symbol_removed", WB_COMPAT_FORWARD, 0, NULL},
    {"union_branch_removed", WB_COMPAT_BACKWARD, 1,
     "thing v2 -> v1 (BACKWARD): field 'ref': union branch 'long' removed (v1 data may hold it)\n"},
    {"union_branch_removed", WB_COMPAT_FORWARD, 0, NULL},
    /* allowed changes */
    {"promotion_int_long", WB_COMPAT_BACKWARD, 0, NULL},
    {"promotion_int_long", WB_COMPAT_FORWARD, 1,
     "thing v1 -> v2 (FORWARD): field 'qty': type changed from int to long and cannot be "
     "promoted\n"},
    {"field_added_with_default", WB_COMPAT_BACKWARD, 0, NULL},
    {"field_added_with_default", WB_COMPAT_FULL_TRANSITIVE, 0, NULL},
    {"alias_rename", WB_COMPAT_BACKWARD, 0, NULL},
    {"alias_rename", WB_COMPAT_FORWARD, 1, "field 'full_name': removed, and v1 has no default"},
    /* transitive: v3 reads v2 but not v1 */
    {"transitive", WB_COMPAT_BACKWARD, 0, NULL},
    {"transitive", WB_COMPAT_BACKWARD_TRANSITIVE, 1,
     "thing v3 -> v1 (BACKWARD_TRANSITIVE): field 'sku': added without a default (v3 cannot read "
     "v1 data)\n"},
    {"transitive", WB_COMPAT_FULL_TRANSITIVE, 1, "thing v3 -> v1 (FULL: backward)"},
};

static void test_fixtures(void)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const expect *e = &table[i];
        char dir[2048], err[256];
        wb_buf report;
        wb_buf_init(&report, 0);
        snprintf(dir, sizeof(dir), "%s/%s", cases_dir, e->name);
        int n = wb_compat_check_dir(dir, e->mode, &report, err, sizeof(err));
        if (n != e->violations)
            FAIL_("%s %s: %d violations, want %d:\n%s", e->name, wb_compat_mode_name(e->mode), n,
                  e->violations, report.data);
        if (e->message) ASSERT_CONTAINS(report.data, e->message);
        ASSERT_CONTAINS(report.data, e->violations ? "violation" : " 0 violations\n");
        wb_buf_free(&report);
    }
}

static wb_avro_schema *load_path(const char *path)
{
    char err[256];
    FILE *fp = fopen(path, "rb");
    ASSERT(fp);
    static char text[8192];
    size_t n = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    wb_avro_schema *sc = wb_avro_schema_parse(text, n, err, sizeof(err));
    if (!sc) FAIL_("%s: %s", path, err);
    return sc;
}

static wb_avro_schema *load(const char *name, int v)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s/thing/v%d.avsc", cases_dir, name, v);
    return load_path(path);
}

/* The runtime resolver agrees with the checker: a BACKWARD-compatible pair builds a plan
 * (new reader, old writer), a break does not. */
static void test_plans_agree(void)
{
    static const struct {
        const char *name;
        int ok;
        const char *why;
    } cases[] = {
        {"field_added_no_default", 0, "field 'sku': missing from the writer"},
        {"type_changed", 0, "field 'amount': writer type bytes(decimal) cannot be read as string"},
        {"promotion_int_long", 1, NULL},
        {"field_added_with_default", 1, NULL},
        {"alias_rename", 1, NULL},
        {"field_removed_no_default", 1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512] = "";
        wb_avro_schema *v1 = load(cases[i].name, 1), *v2 = load(cases[i].name, 2);
        wb_avro_plan *p = wb_avro_plan_new(v1, v2, err, sizeof(err));
        if (!!p != cases[i].ok)
            FAIL_("%s: plan %s (%s)", cases[i].name, p ? "built" : "failed", err);
        if (cases[i].why) ASSERT_CONTAINS(err, cases[i].why);
        wb_avro_plan_free(p);
        wb_avro_schema_free(v1);
        wb_avro_schema_free(v2);
    }
}

static void test_pairwise_api(void)
{
    wb_avro_schema *v1 = load("enum_symbol_removed", 1), *v2 = load("enum_symbol_removed", 2);
    wb_buf msgs;
    wb_buf_init(&msgs, 0);
    ASSERT_EQ(wb_compat_check(wb_avro_schema_root(v2), wb_avro_schema_root(v1), 1, "x", "v1", "v2",
                              &msgs),
              1);
    ASSERT_STR_EQ(msgs.data,
                  "x: field 'status': enum symbol 'SHIPPED' removed and enum Status in v2 has no "
                  "default\n");
    wb_buf_reset(&msgs);
    ASSERT_EQ(wb_compat_check(wb_avro_schema_root(v1), wb_avro_schema_root(v2), 0, "x", "v1", "v2",
                              &msgs),
              0);
    wb_buf_free(&msgs);
    wb_avro_schema_free(v1);
    wb_avro_schema_free(v2);
}

static void test_modes_and_real_schemas(void)
{
    ASSERT_EQ(wb_compat_mode_parse("backward"), WB_COMPAT_BACKWARD);
    ASSERT_EQ(wb_compat_mode_parse("FULL_TRANSITIVE"), WB_COMPAT_FULL_TRANSITIVE);
    ASSERT_EQ(wb_compat_mode_parse("sideways"), -1);
    char dir[2048], err[256];
    wb_buf report;
    wb_buf_init(&report, 0);
    snprintf(dir, sizeof(dir), "%s/schemas", src_dir);
    int n = wb_compat_check_dir(dir, WB_COMPAT_BACKWARD_TRANSITIVE, &report, err, sizeof(err));
    if (n != 0) FAIL_("schemas/: %d violations:\n%s", n, report.data);
    ASSERT_CONTAINS(report.data, "7 events");
    wb_buf_free(&report);
    ASSERT_EQ(
        wb_compat_check_dir("/nonexistent-dir", WB_COMPAT_BACKWARD, &report, err, sizeof(err)), -1);
    ASSERT_CONTAINS(err, "/nonexistent-dir");
}

static wb_avro_schema *load_real(const char *event, int v)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/schemas/%s/v%d.avsc", src_dir, event, v);
    return load_path(path);
}

/* What changed between versions, for the event catalog: exact lines on the real schemas and a
 * fixture that removes a field. */
static void test_diff(void)
{
    static const struct {
        const char *event;
        const char *lines;
    } cases[] = {
        {"order.paid", "field 'payment_method': symbols added: BNPL, GIFT_CARD\n"
                       "field 'sales_channel' added (default \"web\")\n"
                       "field 'tax_amount' added (default null)\n"},
        {"lead.created", "field 'full_name' renamed to 'contact_name' (alias: data written with "
                         "the old name still reads)\n"
                         "field 'phone' added (default null)\n"},
        {"inventory.low", "field 'quantity_on_hand': type changed from int to long\n"
                          "field 'reorder_point': type changed from int to long\n"
                          "field 'preferred_supplier_id' added (default null)\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wb_avro_schema *a = load_real(cases[i].event, 1), *b = load_real(cases[i].event, 2);
        wb_buf lines;
        wb_buf_init(&lines, 0);
        ASSERT(wb_compat_diff(wb_avro_schema_root(a), wb_avro_schema_root(b), &lines) > 0);
        ASSERT_STR_EQ(lines.data, cases[i].lines);
        /* and backwards: the new field is "removed" */
        wb_buf_reset(&lines);
        ASSERT(wb_compat_diff(wb_avro_schema_root(b), wb_avro_schema_root(a), &lines) > 0);
        wb_buf_free(&lines);
        wb_avro_schema_free(a);
        wb_avro_schema_free(b);
    }
    wb_avro_schema *a = load_real("order.paid", 2), *b = load_real("order.paid", 1);
    wb_buf lines;
    wb_buf_init(&lines, 0);
    ASSERT_EQ(wb_compat_diff(wb_avro_schema_root(a), wb_avro_schema_root(b), &lines), 2);
    ASSERT_CONTAINS(lines.data, "field 'sales_channel' removed\n");
    ASSERT_EQ(wb_compat_diff(wb_avro_schema_root(a), wb_avro_schema_root(a), &lines), 0);
    wb_buf_free(&lines);
    wb_avro_schema_free(a);
    wb_avro_schema_free(b);
}

int main(void)
{
    const char *sd = getenv("WB_SOURCE_DIR");
    snprintf(src_dir, sizeof(src_dir), "%s", sd ? sd : ".");
    snprintf(cases_dir, sizeof(cases_dir), "%s/tests/unit/avro_cases/compat", src_dir);
    RUN(test_fixtures);
    RUN(test_plans_agree);
    RUN(test_pairwise_api);
    RUN(test_modes_and_real_schemas);
    RUN(test_diff);
    TEST_DONE();
}
