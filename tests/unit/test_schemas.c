/* test_schemas.c - the schema runtime (schema/schemas.h) with a local folder only: loading
 * and its errors, refs and ids, framing, the plan cache and its bound, and the ways a plain
 * JSON event names its writer version (ce_dataschema forms, schema_version). The registry
 * side is test_registry.c's, Avro itself test_avro.c's. */
#include "schema/schemas.h"
#include "test.h"
#include "test_dir.h"

static const char *E1 = "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\",\"type\":"
                        "\"string\"}]}";
static const char *E2 = "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\",\"type\":"
                        "\"string\"},{\"name\":\"b\",\"type\":\"int\",\"default\":7}]}";

/* test_dir: ev v1 (id 11) and v2 (id 12), other v1 (id 21, the schema "string"). */
static void make_folder(void)
{
    test_dir_make("wb_test_schemas");
    test_dir_mkdir("ev");
    test_dir_mkdir("other");
    test_dir_put("ev/v1.avsc", E1);
    test_dir_put("ev/v2.avsc", E2);
    test_dir_put("other/v1.avsc", "\"string\"");
    test_dir_put("manifest.json", "{\"ev\":{\"1\":11,\"2\":12},\"other\":{\"1\":21}}");
}

static wb_schemas *open_ok(void)
{
    char err[512];
    wb_schemas *s = wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err));
    if (!s) FAIL_("wb_schemas_new: %s", err);
    return s;
}

/* What the manifest or a schema gets wrong is named with its file. */
static void test_load_errors(void)
{
    char err[512], want[700];
    ASSERT(!wb_schemas_new(NULL, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_STR_EQ(err, "schemas: need a local folder or a registry URL");
    ASSERT(!wb_schemas_new("/nonexistent-wb", NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "/nonexistent-wb/manifest.json:");

    test_dir_put("manifest.json", "[1]");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "manifest must be an object");
    test_dir_put("manifest.json", "{\"ev\":3}");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "'ev' must map versions to ids");
    test_dir_put("manifest.json", "{\"ev\":{\"one\":11}}");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "ev version 'one': bad version or id");
    test_dir_put("manifest.json", "{\"ev\":{\"1\":11,\"2\":11}}");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    ASSERT_CONTAINS(err, "id 11 used twice (ev@1 and ev@2)");
    test_dir_put("manifest.json", "{\"ev\":{\"3\":13}}");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/ev/v3.avsc: No such file or directory", test_dir);
    ASSERT_STR_EQ(err, want);
    test_dir_put("ev/v2.avsc",
                 "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"a\"}]}");
    test_dir_put("manifest.json", "{\"ev\":{\"2\":12}}");
    ASSERT(!wb_schemas_new(test_dir, NULL, NULL, NULL, NULL, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s/ev/v2.avsc: invalid schema", test_dir);
    ASSERT_CONTAINS(err, want);
    test_dir_put("ev/v2.avsc", E2);
    test_dir_put("manifest.json", "{\"ev\":{\"1\":11,\"2\":12},\"other\":{\"1\":21}}");
}

static void test_refs(void)
{
    wb_schemas *s = open_ok();
    char list[64];
    ASSERT_EQ(wb_schemas_id_of(s, "ev@1"), 11);
    ASSERT_EQ(wb_schemas_id_of(s, "ev@v2"), 12);
    ASSERT_EQ(wb_schemas_id_of(s, "other@1"), 21);
    ASSERT_EQ(wb_schemas_id_of(s, "ev@3"), -1);
    ASSERT_EQ(wb_schemas_id_of(s, "ev"), -1);
    ASSERT_EQ(wb_schemas_id_of(s, "e@1"), -1);
    ASSERT_EQ(wb_schemas_versions(s, "ev", list, sizeof(list)), 2);
    ASSERT_STR_EQ(list, "ev@1, ev@2");
    ASSERT_EQ(wb_schemas_versions(s, "e", list, sizeof(list)), 0);
    ASSERT_STR_EQ(list, "");
    char tiny[6]; /* the count stays right when the list is cut */
    ASSERT_EQ(wb_schemas_versions(s, "ev", tiny, sizeof(tiny)), 2);
    ASSERT_STR_EQ(tiny, "ev@1,");
    ASSERT(wb_schemas_is_framed("\0\0\0\0\x0b", 5));
    ASSERT(!wb_schemas_is_framed("\0\0\0\0", 4));
    ASSERT(!wb_schemas_is_framed("{\"a\":1}", 7));
    ASSERT(!wb_schemas_is_framed(NULL, 5));
    wb_schemas_free(s);
}

/* JSON -> framed Avro -> JSON, with and without a contract, and what cannot be read. */
static void test_framed(void)
{
    wb_schemas *s = open_ok();
    char reason[512];
    wb_buf bin, out;
    wb_buf_init(&bin, 0);
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_schemas_from_json(s, "ev@1", "{\"a\":\"x\"}", 9, &bin, reason, sizeof(reason)),
              WB_OK);
    ASSERT_EQ(bin.len, 7);
    ASSERT(!memcmp(bin.data, "\0\0\0\0\x0b\x02x", 7)); /* magic, id 11, "x" */
    ASSERT_EQ(wb_schemas_to_json(s, bin.data, bin.len, NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data, "{\"a\":\"x\"}");
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(s, bin.data, bin.len, "ev@2", &out, reason, sizeof(reason)),
              WB_OK);
    ASSERT_STR_EQ(out.data, "{\"a\":\"x\",\"b\":7}");
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(s, bin.data, bin.len, "other@1", &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "schema id 11 (ev@1) cannot be resolved to other@1: writer type "
                          "record E cannot be read as string");
    ASSERT_EQ(out.len, 0);
    ASSERT_EQ(wb_schemas_to_json(s, bin.data, bin.len, "ev@9", &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "unknown contract 'ev@9' (not in the local schemas)");
    ASSERT_EQ(wb_schemas_to_json(s, "\0\0\0\0\x63\x00", 6, NULL, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "unknown schema id 99 (not in the local manifest; no registry)");
    ASSERT_EQ(wb_schemas_to_json(s, "{}", 2, NULL, &out, reason, sizeof(reason)), WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "value is not Confluent-framed Avro");
    ASSERT_EQ(wb_schemas_to_json(s, "\0\0\0\0\x0b\x02", 6, NULL, &out, NULL, 0), WB_ERR_SCHEMA);
    ASSERT_EQ(wb_schemas_from_json(s, "ev@7", "{}", 2, &bin, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "unknown schema 'ev@7'");
    size_t before = bin.len;
    ASSERT_EQ(wb_schemas_from_json(s, "ev@1", "{\"a\":", 5, &bin, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "body is not JSON: ");
    ASSERT_EQ(wb_schemas_from_json(s, "ev@1", "{\"a\":1}", 7, &bin, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "field 'a': expected string, got integer");
    ASSERT_EQ(bin.len, before); /* out unchanged on error */
    wb_buf_free(&bin);
    wb_buf_free(&out);
    wb_schemas_free(s);
}

/* Plans are bounded (4 x cache_size), least recently used first; local writers never go. */
static void test_plan_bound(void)
{
    char err[512], reason[512];
    wb_registry_opts o = {0};
    o.cache_size = 1;
    wb_schemas *s = wb_schemas_new_opts(test_dir, &o, err, sizeof(err));
    if (!s) FAIL_("%s", err);
    const char *contracts[] = {NULL, "ev@1", "ev@2"};
    wb_buf b1, b2, out;
    wb_buf_init(&b1, 0);
    wb_buf_init(&b2, 0);
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_schemas_from_json(s, "ev@1", "{\"a\":\"x\"}", 9, &b1, reason, sizeof(reason)),
              WB_OK);
    ASSERT_EQ(
        wb_schemas_from_json(s, "ev@2", "{\"a\":\"y\",\"b\":1}", 15, &b2, reason, sizeof(reason)),
        WB_OK);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 6; i++) {
            const wb_buf *b = i % 2 ? &b2 : &b1;
            wb_buf_reset(&out);
            if (wb_schemas_to_json(s, b->data, b->len, contracts[i / 2], &out, reason,
                                   sizeof(reason)))
                FAIL_("round %d case %d: %s", round, i, reason);
            const char *want = i % 2 ? (i / 2 == 1 ? "{\"a\":\"y\"}" : "{\"a\":\"y\",\"b\":1}")
                                     : (i / 2 == 2 ? "{\"a\":\"x\",\"b\":7}" : "{\"a\":\"x\"}");
            ASSERT_STR_EQ(out.data, want);
        }
    wb_schemas_stats st;
    wb_schemas_get_stats(s, &st);
    ASSERT_EQ(st.plans, 4);
    ASSERT_EQ(st.evictions, 8); /* 12 plans built (6 pairs, twice), 4 kept */
    ASSERT_EQ(st.registry_schemas, 0);
    ASSERT_EQ(st.fetches, 0);
    wb_buf_free(&b1);
    wb_buf_free(&b2);
    wb_buf_free(&out);
    wb_schemas_free(s);
}

/* Every form of ce_dataschema (schemas.h) and schema_version names ev v2. */
static void test_event_writer_forms(void)
{
    wb_schemas *s = open_ok();
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    const char *ev = "{\"a\":\"x\",\"b\":3}";
    static const char *forms[] = {
        "ev@2",
        "ev@v2",
        "https://schemas.example.com/ev/v2.avsc",
        "https://schemas.example.com/ev/v2.json",
        "https://schemas.example.com/ev/v2/",
        "https://schemas.example.com/ev/2",
        "https://schemas.example.com/x/ev@2",
        "https://registry.example.com/schemas/ids/12",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        wb_buf_reset(&out);
        if (wb_schemas_json_to_contract(s, ev, strlen(ev), WB_JSON_WRITER_DATASCHEMA, forms[i],
                                        "ev@1", &out, reason, sizeof(reason)))
            FAIL_("%s: %s", forms[i], reason);
        ASSERT_STR_EQ(out.data, "{\"a\":\"x\"}");
    }
    /* schema_version: a number or "v2"; it is metadata, dropped unless the schema has it */
    const char *fields[] = {"{\"schema_version\":2,\"a\":\"x\",\"b\":3}",
                            "{\"schema_version\":\"v2\",\"a\":\"x\",\"b\":3}"};
    for (int i = 0; i < 2; i++) {
        wb_buf_reset(&out);
        if (wb_schemas_json_to_contract(s, fields[i], strlen(fields[i]), WB_JSON_WRITER_FIELD, NULL,
                                        "ev@2", &out, reason, sizeof(reason)))
            FAIL_("%s: %s", fields[i], reason);
        ASSERT_STR_EQ(out.data, "{\"a\":\"x\",\"b\":3}");
    }
    /* an empty header is no header: AUTO falls back to the newest version */
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_json_to_contract(s, ev, strlen(ev), WB_JSON_WRITER_AUTO, "", "ev@1", &out,
                                          reason, sizeof(reason)),
              WB_OK);
    ASSERT_STR_EQ(out.data, "{\"a\":\"x\"}");
    /* the header names another event's version: refused, and out stays empty */
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_json_to_contract(s, ev, strlen(ev), WB_JSON_WRITER_AUTO,
                                          ".../schemas/ids/21", "ev@1", &out, reason,
                                          sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "the event claims other@1, not a version of ev");
    ASSERT_EQ(out.len, 0);
    /* v1 has no "b": a v1 event with one is refused with the field named */
    ASSERT_EQ(wb_schemas_json_to_contract(s, ev, strlen(ev), WB_JSON_WRITER_DATASCHEMA, "ev@1",
                                          "ev@2", &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "ev@1: field 'b': not in the schema (record E)");
    wb_buf_free(&out);
    wb_schemas_free(s);
}

int main(void)
{
    make_folder();
    RUN(test_load_errors);
    RUN(test_refs);
    RUN(test_framed);
    RUN(test_plan_bound);
    RUN(test_event_writer_forms);
    test_dir_remove();
    TEST_DONE();
}
