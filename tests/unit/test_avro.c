/* test_avro.c - Avro decoding, contract pinning, inbound encoding; interop with python3-avro.
 *
 * The independent implementation is Debian's python3-avro run by /usr/bin/python3 through
 * tests/unit/avro_cases/interop.py: it encodes records (framed with an id) that the bridge
 * decodes, and decodes what the bridge encodes. Without python3-avro the suite fails (it
 * used to skip those cases and pass: a test that cannot fail). */
#include "schema/avro.h"
#include "schema/registry.h"
#include "test.h"
#include "core/util.h"

#include <jansson.h>

static char src_dir[1024];
static char schemas_dir[1100];
static wb_schemas *S;

static char *run(const char *cmd)
{
    FILE *fp = popen(cmd, "r");
    static char buf[65536];
    size_t n = 0, r;
    ASSERT(fp != NULL);
    while ((r = fread(buf + n, 1, sizeof(buf) - 1 - n, fp)) > 0)
        n += r;
    buf[n] = 0;
    int rc = pclose(fp);
    if (rc != 0) FAIL_("command failed (%d): %s", rc, cmd);
    while (n && (buf[n - 1] == '\n'))
        buf[--n] = 0;
    return buf;
}

/* python3-avro encodes case `c` of event@version framed with id; returns bytes. */
static unsigned char *py_encode(const char *event, int version, int id, size_t *len)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/tests/unit/avro_cases/interop.py encode %s %s %d %d basic",
             src_dir, schemas_dir, event, version, id);
    char *hex = run(cmd);
    unsigned char *b = malloc(strlen(hex) / 2 + 1);
    ASSERT(b);
    long n = wb_hex_decode(hex, strlen(hex), b);
    ASSERT(n > 5);
    *len = (size_t)n;
    return b;
}

/* python3-avro decodes framed bytes with event@version; returns its JSON (owned). */
static json_t *py_decode(const char *event, int version, const unsigned char *b, size_t len)
{
    char *hex = malloc(2 * len + 1), *cmd = malloc(2 * len + 2048);
    ASSERT(hex && cmd);
    wb_hex_encode(b, len, hex);
    snprintf(cmd, 2 * len + 2048,
             "/usr/bin/python3 %s/tests/unit/avro_cases/interop.py decode %s %s %d %s", src_dir,
             schemas_dir, event, version, hex);
    json_t *doc = json_loads(run(cmd), 0, NULL);
    ASSERT(doc);
    free(hex);
    free(cmd);
    return doc;
}

static char *compact(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The bridge's JSON for a python-encoded record equals python's view, field by field and in
 * schema order. */
static void interop_case(const char *event, int version, int id)
{
    size_t len;
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    unsigned char *b = py_encode(event, version, id, &len);
    wb_err err = wb_schemas_to_json(S, b, len, NULL, &out, reason, sizeof(reason));
    if (err) FAIL_("%s@%d: %s: %s", event, version, wb_err_str(err), reason);
    json_t *mine = json_loads(out.data, 0, NULL);
    ASSERT(mine);
    json_t *theirs = py_decode(event, version, b, len);
    ASSERT_EQ(json_integer_value(json_object_get(theirs, "id")), id);
    char *a = compact(mine), *c = compact(json_object_get(theirs, "value"));
    ASSERT_STR_EQ(a, c);
    free(a);
    free(c);
    json_decref(mine);
    json_decref(theirs);
    wb_buf_free(&out);
    free(b);
}

static void test_interop_decode(void)
{
    interop_case("order.paid", 1, 101);
    interop_case("order.paid", 2, 102);
    interop_case("lead.created", 1, 601);
    interop_case("lead.created", 2, 602);
    interop_case("contract.signed", 1, 701);
}

static void test_pin_v2_to_v1(void)
{
    size_t len;
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    unsigned char *b = py_encode("order.paid", 2, 102, &len);
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "order.paid@1", &out, reason, sizeof(reason)), WB_OK);
    /* Exactly the v1 payload: v2-only fields gone, BNPL (unknown to v1) -> v1's enum default. */
    ASSERT_STR_EQ(
        out.data,
        "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_1002\","
        "\"customer_id\":\"cus_78\",\"amount\":\"-0.05\",\"currency\":\"USD\","
        "\"payment_method\":\"OTHER\",\"paid_at\":\"1969-12-31T23:59:59.999Z\","
        "\"coupon_code\":\"WELCOME\\\"10\\n\",\"lines\":[]}");
    /* Pinned again: same answer from the cached plan. */
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "order.paid@v1", &out, reason, sizeof(reason)), WB_OK);
    ASSERT_CONTAINS(out.data, "\"payment_method\":\"OTHER\"");
    free(b);

    /* v1 producer, partner pinned to v2: renamed field through its alias, defaults filled. */
    b = py_encode("lead.created", 1, 601, &len);
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "lead.created@2", &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data,
                  "{\"event_id\":\"00000000-0000-4000-8000-000000000002\",\"lead_id\":\"lead_8\","
                  "\"email\":\"bo@example.com\",\"contact_name\":\"Bo Chen\",\"company\":\"Acme\","
                  "\"source\":\"EVENT\",\"score\":-3,\"created_at\":\"2026-01-02T03:04:05.000Z\","
                  "\"phone\":null}");
    free(b);
    wb_buf_free(&out);
}

static void test_unresolvable(void)
{
    size_t len;
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_buf_adds(&out, "keep"), WB_OK);
    /* v2 renamed full_name (alias only in v2): a v1 reader has no default for it. */
    unsigned char *b = py_encode("lead.created", 2, 602, &len);
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "lead.created@1", &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "field 'full_name'");
    ASSERT_CONTAINS(reason, "lead.created@1");
    ASSERT_STR_EQ(out.data, "keep");
    /* Another event entirely. */
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "order.paid@1", &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "record LeadCreated");
    /* Unknown contract. */
    ASSERT_EQ(wb_schemas_to_json(S, b, len, "nope@1", &out, reason, sizeof(reason)), WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "unknown contract 'nope@1'");
    free(b);
    ASSERT_STR_EQ(out.data, "keep");
    wb_buf_free(&out);
}

/* A framed value the decoder refuses with needle, leaving out as it was. */
static void framed_err(const unsigned char *b, size_t n, const char *needle)
{
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_schemas_to_json(S, b, n, NULL, &out, reason, sizeof(reason)), WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, needle);
    ASSERT_EQ(out.len, 0);
    wb_buf_free(&out);
}

static void test_hostile(void)
{
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    /* inventory.low v1: string uuid, sku, warehouse, int, int, enum, long */
    unsigned char ok[] = {0, 0, 0, 0, 201, 2, 'e', 2, 's', 2, 'w', 6, 20, 4, 0x80, 0x01};
    ASSERT_EQ(wb_schemas_to_json(S, ok, sizeof(ok), NULL, &out, reason, sizeof(reason)), WB_OK);
    ASSERT_STR_EQ(out.data,
                  "{\"event_id\":\"e\",\"sku\":\"s\",\"warehouse_id\":\"w\","
                  "\"quantity_on_hand\":3,\"reorder_point\":10,\"severity\":\"OUT_OF_STOCK\","
                  "\"detected_at\":\"1970-01-01T00:00:00.064Z\"}");
    /* Promotion int -> long with a pin to v2 (defaults filled). */
    wb_buf_reset(&out);
    ASSERT_EQ(
        wb_schemas_to_json(S, ok, sizeof(ok), "inventory.low@2", &out, reason, sizeof(reason)),
        WB_OK);
    ASSERT_CONTAINS(out.data, "\"quantity_on_hand\":3,");
    ASSERT_CONTAINS(out.data, "\"preferred_supplier_id\":null}");
    wb_buf_reset(&out);

    unsigned char trunc[sizeof(ok) - 1];
    memcpy(trunc, ok, sizeof(trunc));
    framed_err(trunc, sizeof(trunc), "truncated");

    unsigned char trail[sizeof(ok) + 1];
    memcpy(trail, ok, sizeof(ok));
    trail[sizeof(ok)] = 0;
    framed_err(trail, sizeof(trail), "trailing bytes");

    unsigned char badenum[sizeof(ok)];
    memcpy(badenum, ok, sizeof(ok));
    badenum[13] = 6 * 2; /* enum index 6 of 3 */
    framed_err(badenum, sizeof(badenum), "enum index out of range");

    unsigned char huge[] = {0, 0, 0, 0, 201, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    framed_err(huge, sizeof(huge), "length out of range");

    unsigned char badutf[] = {0, 0, 0, 0, 201, 2, 0xff, 2, 's', 2, 'w', 6, 20, 4, 0};
    framed_err(badutf, sizeof(badutf), "UTF-8");

    unsigned char unknown[] = {0, 0, 0, 0x30, 0x39, 0};
    framed_err(unknown, sizeof(unknown), "unknown schema id 12345");

    ASSERT_EQ(wb_schemas_is_framed("{\"a\":1}", 7), 0);
    ASSERT_EQ(wb_schemas_is_framed(ok, 4), 0);
    ASSERT_EQ(wb_schemas_is_framed(ok, 5), 1);
    ASSERT_EQ(wb_schemas_to_json(S, "{}", 2, NULL, &out, reason, sizeof(reason)), WB_ERR_SCHEMA);
    ASSERT_EQ(out.len, 0);
    wb_buf_free(&out);
}

static const char *BODY_V2 =
    "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_7\","
    "\"customer_id\":\"cus_7\",\"amount\":\"-1234567890.05\",\"currency\":\"EUR\","
    "\"payment_method\":\"GIFT_CARD\",\"paid_at\":\"2026-11-23T18:44:06.5+01:00\","
    "\"coupon_code\":\"X\",\"lines\":[{\"sku\":\"A\",\"quantity\":2,\"unit_price\":\"0.5\"},"
    "{\"sku\":\"B\",\"quantity\":-1,\"unit_price\":7}],\"tax_amount\":null}";

static void test_inbound(void)
{
    char reason[512];
    wb_buf out, js;
    wb_buf_init(&out, 0);
    wb_buf_init(&js, 0);
    wb_err err = wb_schemas_from_json(S, "order.paid@2", BODY_V2, strlen(BODY_V2), &out, reason,
                                      sizeof(reason));
    if (err) FAIL_("%s: %s", wb_err_str(err), reason);
    ASSERT_EQ((unsigned char)out.data[0], 0);
    ASSERT_EQ((unsigned char)out.data[4], 102);
    ASSERT_EQ(wb_schemas_to_json(S, out.data, out.len, NULL, &js, reason, sizeof(reason)), WB_OK);
    const char *expect =
        "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_7\","
        "\"customer_id\":\"cus_7\",\"amount\":\"-1234567890.05\",\"currency\":\"EUR\","
        "\"payment_method\":\"GIFT_CARD\",\"paid_at\":\"2026-11-23T17:44:06.500Z\","
        "\"coupon_code\":\"X\",\"lines\":[{\"sku\":\"A\",\"quantity\":2,\"unit_price\":\"0.50\"},"
        "{\"sku\":\"B\",\"quantity\":-1,\"unit_price\":\"7.00\"}],\"sales_channel\":\"web\","
        "\"tax_amount\":null}";
    ASSERT_STR_EQ(js.data, expect);
    {
        json_t *theirs = py_decode("order.paid", 2, (unsigned char *)out.data, out.len);
        ASSERT_EQ(json_integer_value(json_object_get(theirs, "id")), 102);
        char *c = compact(json_object_get(theirs, "value"));
        ASSERT_STR_EQ(c, expect);
        free(c);
        json_decref(theirs);
    }
    /* contract.signed: fixed, date, nested record, non-nullable union. */
    const char *cs =
        "{\"event_id\":\"e\",\"contract_id\":\"c\",\"customer_id\":\"u\",\"plan\":\"MONTHLY\","
        "\"value\":\"1.00\",\"currency\":\"EUR\",\"signed_at\":1700000000000,"
        "\"starts_on\":\"2026-12-01\",\"signatory\":{\"name\":\"n\",\"email\":\"e\"},"
        "\"document_sha256\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\","
        "\"signature\":{\"string\":\"wet ink\"}}";
    wb_buf_reset(&out);
    err =
        wb_schemas_from_json(S, "contract.signed@1", cs, strlen(cs), &out, reason, sizeof(reason));
    if (err) FAIL_("%s: %s", wb_err_str(err), reason);
    wb_buf_reset(&js);
    ASSERT_EQ(wb_schemas_to_json(S, out.data, out.len, NULL, &js, reason, sizeof(reason)), WB_OK);
    ASSERT_CONTAINS(js.data, "\"starts_on\":\"2026-12-01\"");
    ASSERT_CONTAINS(js.data, "\"signatory\":{\"name\":\"n\",\"email\":\"e\",\"title\":null}");
    ASSERT_CONTAINS(js.data, "\"signature\":{\"string\":\"wet ink\"}}");
    ASSERT_CONTAINS(js.data, "\"signed_at\":\"2023-11-14T22:13:20.000Z\"");
    {
        json_t *theirs = py_decode("contract.signed", 1, (unsigned char *)out.data, out.len);
        char *a = compact(json_object_get(theirs, "value"));
        ASSERT_STR_EQ(a, js.data);
        free(a);
        json_decref(theirs);
    }
    wb_buf_free(&out);
    wb_buf_free(&js);
}

static void inbound_err(const char *body, const char *needle)
{
    char reason[512];
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(
        wb_schemas_from_json(S, "order.paid@2", body, strlen(body), &out, reason, sizeof(reason)),
        WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, needle);
    ASSERT_EQ(out.len, 0);
    wb_buf_free(&out);
}

/* BODY_V2 with the start of its first `from` overwritten by `to` is refused with needle. */
static void inbound_mutated_err(const char *from, const char *to, const char *needle)
{
    char body[2048];
    snprintf(body, sizeof(body), "%s", BODY_V2);
    char *p = strstr(body, from);
    ASSERT(p && strlen(to) <= strlen(from));
    memcpy(p, to, strlen(to));
    inbound_err(body, needle);
}

static void test_inbound_errors(void)
{
    char body[2048];
    inbound_err("[1]", "body: expected object");
    inbound_err("{", "not JSON");
    snprintf(body, sizeof(body), "%s", BODY_V2);
    char *p = strstr(body, "\"order_id\":\"ord_7\",");
    memmove(p, p + 19, strlen(p + 19) + 1);
    inbound_err(body, "field 'order_id': required");
    inbound_mutated_err("\"quantity\":-1", "\"quantity\":\"\"",
                        "field 'lines[1].quantity': expected integer, got string");
    inbound_err("{\"bogus\":1}", "field 'bogus': not in the schema");
    inbound_mutated_err("GIFT_CARD", "GIFT_CARX",
                        "field 'payment_method': 'GIFT_CARX' is not a symbol");
    inbound_mutated_err("-1234567890.05", "-12345678.9051",
                        "field 'amount': '-12345678.9051' has more decimal places");
    inbound_mutated_err("-1234567890.05", "12345678901.05",
                        "more digits than the schema's precision");
    inbound_mutated_err("2026-11-23T18", "2026-13",
                        "field 'paid_at': expected an RFC 3339 timestamp");
    char reason[256];
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_schemas_from_json(S, "order.paid@9", "{}", 2, &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(reason, "unknown schema 'order.paid@9'");
    wb_buf_free(&out);
    ASSERT_EQ(wb_schemas_id_of(S, "lead.created@2"), 602);
    ASSERT_EQ(wb_schemas_id_of(S, "lead.created@3"), -1);
}

static void test_schema_parse_errors(void)
{
    char err[256];
    const char *bad =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}";
    ASSERT(!wb_avro_schema_parse(bad, strlen(bad), err, sizeof(err)));
    ASSERT_CONTAINS(err, "invalid schema");
    /* Regressions from fuzzing: avro-c accepts these, the Avro spec does not. */
    static const struct {
        const char *schema, *why;
    } bad_cases[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
         "{\"name\":\"a\",\"type\":\"long\"}]}",
         "duplicate field 'a'"},
        {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"A\"]}",
         "duplicate symbol 'A'"},
        {"[\"null\",\"string\",\"string\"]", "two branches of type string"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},{\"name\":\"b\",\"type\":{\"type\":"
         "\"enum\",\"name\":\"E\",\"symbols\":[\"B\"]}}]}",
         "type E defined twice"},
        {"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":50,\"scale\":2}",
         "precision"},
    };
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        err[0] = 0;
        wb_avro_schema *b = wb_avro_schema_parse(bad_cases[i].schema, strlen(bad_cases[i].schema),
                                                 err, sizeof(err));
        if (b) FAIL_("accepted: %s", bad_cases[i].schema);
        ASSERT_CONTAINS(err, bad_cases[i].why);
    }
    const char *recursive = "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\","
                            "\"type\":\"int\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";
    wb_avro_schema *sc = wb_avro_schema_parse(recursive, strlen(recursive), err, sizeof(err));
    ASSERT(sc);
    wb_avro_plan *plan = wb_avro_plan_new(sc, NULL, err, sizeof(err));
    ASSERT(plan);
    unsigned char data[] = {2, 2, 4, 0}; /* v=1, next={v=2, next=null} */
    wb_buf out;
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_avro_plan_to_json(plan, data, sizeof(data), &out, err, sizeof(err)), WB_OK);
    ASSERT_STR_EQ(out.data, "{\"v\":1,\"next\":{\"v\":2,\"next\":null}}");
    /* A chain deeper than the depth limit is refused, not a stack overflow. */
    unsigned char deep[200];
    for (size_t i = 0; i < sizeof(deep) - 1; i += 2) {
        deep[i] = 2;
        deep[i + 1] = 2;
    }
    deep[sizeof(deep) - 1] = 0;
    wb_buf_reset(&out);
    ASSERT_EQ(wb_avro_plan_to_json(plan, deep, sizeof(deep), &out, err, sizeof(err)),
              WB_ERR_SCHEMA);
    ASSERT_CONTAINS(err, "too deeply");
    wb_buf_free(&out);
    wb_avro_plan_free(plan);
    wb_avro_schema_free(sc);
}

static void roundtrip(const wb_avro_schema *sc, const wb_avro_plan *plan, const char *in,
                      const char *want)
{
    char err[256];
    wb_buf bin, out;
    wb_buf_init(&bin, 0);
    wb_buf_init(&out, 0);
    json_t *doc = json_loads(in, 0, NULL);
    ASSERT(doc);
    wb_err e = wb_avro_from_json(sc, doc, &bin, err, sizeof(err));
    if (!want) { /* the encoder refuses what the decoder could not render */
        ASSERT_EQ(e, WB_ERR_SCHEMA);
        ASSERT_CONTAINS(err, "field 'ms': ");
    } else {
        if (e) FAIL_("%s: %s", in, err);
        if ((e = wb_avro_plan_to_json(plan, bin.data, bin.len, &out, err, sizeof(err))))
            FAIL_("%s: %s", in, err);
        ASSERT_STR_EQ(out.data, want);
    }
    json_decref(doc);
    wb_buf_free(&bin);
    wb_buf_free(&out);
}

static void test_logical_edges(void)
{
    const char *schema =
        "{\"type\":\"record\",\"name\":\"T\",\"fields\":["
        "{\"name\":\"ms\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        "{\"name\":\"us\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
        "{\"name\":\"f\",\"type\":\"float\"},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"Money\",\"size\":4,"
        "\"logicalType\":\"decimal\",\"precision\":9,\"scale\":3}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"double\"}}]}";
    char err[256];
    wb_avro_schema *sc = wb_avro_schema_parse(schema, strlen(schema), err, sizeof(err));
    if (!sc) FAIL_("%s", err);
    wb_avro_plan *plan = wb_avro_plan_new(sc, NULL, err, sizeof(err));
    ASSERT(plan);
    roundtrip(
        sc, plan,
        "{\"ms\":-1,\"us\":1700000000123456,\"d\":-1,\"f\":1.5,\"fx\":\"-1.5\","
        "\"m\":{\"a\":2.25,\"\\u00e9\\n\":-0.5}}",
        "{\"ms\":\"1969-12-31T23:59:59.999Z\",\"us\":\"2023-11-14T22:13:20.123456Z\","
        "\"d\":\"1969-12-31\",\"f\":1.5,\"fx\":\"-1.500\",\"m\":{\"a\":2.25,\"\u00e9\\n\":-0.5}}");
    roundtrip(sc, plan,
              "{\"ms\":\"9999-12-31T23:59:59.999Z\",\"us\":0,\"d\":\"0001-01-01\",\"f\":0,"
              "\"fx\":\"999999.999\",\"m\":{}}",
              "{\"ms\":\"9999-12-31T23:59:59.999Z\",\"us\":\"1970-01-01T00:00:00.000000Z\","
              "\"d\":\"0001-01-01\",\"f\":0,\"fx\":\"999999.999\",\"m\":{}}");
    roundtrip(sc, plan, "{\"ms\":253402300800000,\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
              NULL);
    roundtrip(sc, plan,
              "{\"ms\":\"-026-11-23T17:44:06Z\",\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
              NULL);
    /* Fuzzing regressions: 38-digit decimals scaled up overflowed; short timestamps overread. */
    static const char *bad[] = {
        "{\"ms\":0,\"us\":0,\"d\":0,\"f\":0,\"fx\":\"99999999999999999999999999999999999999\","
        "\"m\":{}}",
        "{\"ms\":\"2026-1\",\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
        "{\"ms\":\"2026-11-23T17:44:06+01\",\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
        /* a day that does not exist was read as 2026-03-02 before core/timefmt parsed it */
        "{\"ms\":\"2026-02-30T00:00:00Z\",\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
        /* a bare date is not a timestamp */
        "{\"ms\":\"2026-11-23\",\"us\":0,\"d\":0,\"f\":0,\"fx\":\"0\",\"m\":{}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_buf b;
        wb_buf_init(&b, 0);
        json_t *doc = json_loads(bad[i], 0, NULL);
        ASSERT(doc);
        ASSERT_EQ(wb_avro_from_json(sc, doc, &b, err, sizeof(err)), WB_ERR_SCHEMA);
        ASSERT_CONTAINS(err, i ? "field 'ms': expected an RFC 3339" : "field 'fx': ");
        json_decref(doc);
        wb_buf_free(&b);
    }
    /* offsets, a seventh fraction digit (cut) and dates, through core/timefmt */
    roundtrip(sc, plan,
              "{\"ms\":\"2026-11-23T18:44:06.1239+01:00\",\"us\":\"2026-11-23 17:44:06.1234567z\","
              "\"d\":\"2024-02-29\",\"f\":0,\"fx\":\"0\",\"m\":{}}",
              "{\"ms\":\"2026-11-23T17:44:06.123Z\",\"us\":\"2026-11-23T17:44:06.123456Z\","
              "\"d\":\"2024-02-29\",\"f\":0,\"fx\":\"0.000\",\"m\":{}}");
    roundtrip(sc, plan,
              "{\"ms\":\"1969-12-31T23:59:59.9999Z\",\"us\":\"0001-01-01T00:00:00Z\",\"d\":0,"
              "\"f\":0,\"fx\":\"0\",\"m\":{}}",
              "{\"ms\":\"1969-12-31T23:59:59.999Z\",\"us\":\"0001-01-01T00:00:00.000000Z\","
              "\"d\":\"1970-01-01\",\"f\":0,\"fx\":\"0.000\",\"m\":{}}");
    {
        wb_buf b;
        wb_buf_init(&b, 0);
        json_t *doc = json_loads("{\"ms\":0,\"us\":0,\"d\":\"2026-02-30\",\"f\":0,\"fx\":\"0\","
                                 "\"m\":{}}",
                                 0, NULL);
        ASSERT(doc);
        ASSERT_EQ(wb_avro_from_json(sc, doc, &b, err, sizeof(err)), WB_ERR_SCHEMA);
        ASSERT_STR_EQ(err, "field 'd': expected an RFC 3339 date");
        json_decref(doc);
        wb_buf_free(&b);
    }
    wb_avro_plan_free(plan);
    wb_avro_schema_free(sc);

    /* The decoder refuses a timestamp it cannot render (written as a plain long). */
    const char *plain = "\"long\"",
               *ts = "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}";
    wb_avro_schema *wp = wb_avro_schema_parse(plain, strlen(plain), err, sizeof(err));
    wb_avro_schema *rt = wb_avro_schema_parse(ts, strlen(ts), err, sizeof(err));
    ASSERT(wp && rt);
    wb_avro_plan *pl = wb_avro_plan_new(rt, NULL, err, sizeof(err));
    ASSERT(pl);
    wb_buf bin, out;
    wb_buf_init(&bin, 0);
    wb_buf_init(&out, 0);
    json_t *big = json_integer(253402300800000LL);
    ASSERT_EQ(wb_avro_from_json(wp, big, &bin, err, sizeof(err)), WB_OK);
    ASSERT_EQ(wb_avro_plan_to_json(pl, bin.data, bin.len, &out, err, sizeof(err)), WB_ERR_SCHEMA);
    ASSERT_CONTAINS(err, "out of range");
    json_decref(big);
    wb_buf_free(&bin);
    wb_buf_free(&out);
    wb_avro_plan_free(pl);
    wb_avro_schema_free(wp);
    wb_avro_schema_free(rt);
}

/* A plain JSON event for a pinned partner: validated against the version it claims and
 * resolved to the contract exactly as framed Avro is (issue 13). */
static void test_json_to_contract(void)
{
    char reason[512];
    wb_buf out, avro_path;
    wb_buf_init(&out, 0);
    wb_buf_init(&avro_path, 0);
    /* what the Avro path gives for the same v2 event pinned to v1 */
    wb_buf framed;
    wb_buf_init(&framed, 0);
    ASSERT_EQ(wb_schemas_from_json(S, "order.paid@2", BODY_V2, strlen(BODY_V2), &framed, reason,
                                   sizeof(reason)),
              WB_OK);
    ASSERT_EQ(wb_schemas_to_json(S, framed.data, framed.len, "order.paid@1", &avro_path, reason,
                                 sizeof(reason)),
              WB_OK);
    const char *v1 =
        "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_7\","
        "\"customer_id\":\"cus_7\",\"amount\":\"-1234567890.05\",\"currency\":\"EUR\","
        "\"payment_method\":\"OTHER\",\"paid_at\":\"2026-11-23T17:44:06.500Z\","
        "\"coupon_code\":\"X\",\"lines\":[{\"sku\":\"A\",\"quantity\":2,\"unit_price\":\"0.50\"},"
        "{\"sku\":\"B\",\"quantity\":-1,\"unit_price\":\"7.00\"}]}";
    ASSERT_STR_EQ(avro_path.data, v1);

    /* every way of naming v2 gives exactly the v1 shape */
    char body[2048];
    snprintf(body, sizeof(body), "{\"schema_version\":2,%s", BODY_V2 + 1);
    static const struct {
        wb_json_writer rule;
        const char *ds;
        int with_field;
    } ways[] = {
        {WB_JSON_WRITER_AUTO, "order.paid@2", 0},
        {WB_JSON_WRITER_AUTO, "https://schemas.example.com/order.paid/v2.avsc", 0},
        {WB_JSON_WRITER_AUTO, "https://sr.example.com/schemas/ids/102", 0},
        {WB_JSON_WRITER_AUTO, NULL, 1},
        {WB_JSON_WRITER_FIELD, "order.paid@1", 1}, /* the rule says: the field, not the header */
        {WB_JSON_WRITER_DATASCHEMA, "/order.paid@2", 1},
        {WB_JSON_WRITER_NEWEST, NULL, 0},
        {WB_JSON_WRITER_AUTO, NULL, 0}, /* nothing claimed: the newest (v2) */
    };
    for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
        const char *ev = ways[i].with_field ? body : BODY_V2;
        wb_buf_reset(&out);
        wb_err err = wb_schemas_json_to_contract(S, ev, strlen(ev), ways[i].rule, ways[i].ds,
                                                 "order.paid@1", &out, reason, sizeof(reason));
        if (err) FAIL_("way %zu: %s", i, reason);
        ASSERT_STR_EQ(out.data, v1);
    }
    /* a v1 event stays v1 (schema_version 1), and pinning to v2 fills v2's defaults */
    const char *ev1 = "{\"schema_version\":\"1\",\"event_id\":\"e\",\"order_id\":\"o\","
                      "\"customer_id\":\"c\",\"amount\":\"1.00\",\"currency\":\"EUR\","
                      "\"payment_method\":\"CARD\",\"paid_at\":0,\"lines\":[]}";
    wb_buf_reset(&out);
    ASSERT_EQ(wb_schemas_json_to_contract(S, ev1, strlen(ev1), WB_JSON_WRITER_AUTO, NULL,
                                          "order.paid@2", &out, reason, sizeof(reason)),
              WB_OK);
    ASSERT_CONTAINS(out.data, "\"sales_channel\":\"web\",\"tax_amount\":null}");
    ASSERT(!strstr(out.data, "schema_version"));

    /* errors name the field at fault; out is untouched */
    static const struct {
        const char *ev;
        wb_json_writer rule;
        const char *ds;
        const char *expect;
    } bad[] = {
        {"{\"schema_version\":2,\"order_id\":\"o\"}", WB_JSON_WRITER_AUTO, NULL,
         "order.paid@2: field 'event_id': "},
        {"{\"schema_version\":2,\"event_id\":1}", WB_JSON_WRITER_AUTO, NULL,
         "order.paid@2: field 'event_id': expected string, got integer"},
        {"{\"schema_version\":7}", WB_JSON_WRITER_AUTO, NULL,
         "field 'schema_version': order.paid@7 is not a known version (the schemas have "
         "order.paid@1, order.paid@2)"},
        {"{\"schema_version\":\"two\"}", WB_JSON_WRITER_AUTO, NULL,
         "field 'schema_version': expected a version number"},
        {"{}", WB_JSON_WRITER_FIELD, NULL,
         "field 'schema_version': missing (contract_writer: schema_version)"},
        {"{}", WB_JSON_WRITER_DATASCHEMA, NULL,
         "no ce_dataschema header (contract_writer: ce_dataschema)"},
        {"{}", WB_JSON_WRITER_AUTO, "lead.created@1",
         "the event claims lead.created@1, not a version of order.paid"},
        {"{}", WB_JSON_WRITER_AUTO, "https://x/schemas/ids/999",
         "ce_dataschema 'https://x/schemas/ids/999': no local schema has id 999"},
        {"{}", WB_JSON_WRITER_AUTO, "whatever",
         "ce_dataschema 'whatever' names no local schema version"},
        {"{\"a\":", WB_JSON_WRITER_AUTO, NULL, "event is not JSON: "},
        {"[1]", WB_JSON_WRITER_NEWEST, NULL, "order.paid@2: "},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wb_buf_reset(&out);
        wb_err err =
            wb_schemas_json_to_contract(S, bad[i].ev, strlen(bad[i].ev), bad[i].rule, bad[i].ds,
                                        "order.paid@1", &out, reason, sizeof(reason));
        if (err != WB_ERR_SCHEMA || !strstr(reason, bad[i].expect))
            FAIL_("bad %zu: %s: %s (want %s)", i, wb_err_str(err), reason, bad[i].expect);
        ASSERT_EQ(out.len, 0);
    }
    ASSERT_EQ(wb_schemas_json_to_contract(S, "{}", 2, WB_JSON_WRITER_AUTO, NULL, "order.paid@9",
                                          &out, reason, sizeof(reason)),
              WB_ERR_SCHEMA);
    ASSERT_STR_EQ(reason, "unknown contract 'order.paid@9' (not in the local schemas)");
    char list[128];
    ASSERT_EQ(wb_schemas_versions(S, "lead.created", list, sizeof(list)), 2);
    ASSERT_STR_EQ(list, "lead.created@1, lead.created@2");
    ASSERT_EQ(wb_schemas_versions(S, "nope", list, sizeof(list)), 0);
    wb_buf_free(&out);
    wb_buf_free(&avro_path);
    wb_buf_free(&framed);
}

int main(void)
{
    char err[512];
    const char *sd = getenv("WB_SOURCE_DIR");
    snprintf(src_dir, sizeof(src_dir), "%s", sd ? sd : ".");
    snprintf(schemas_dir, sizeof(schemas_dir), "%s/schemas", src_dir);
    if (system("/usr/bin/python3 -c 'import avro' 2>/dev/null") != 0)
        FAIL_("python3-avro is missing: `bash .ci/deps --test` installs it; the interop cases "
              "cannot be skipped");
    S = wb_schemas_new(schemas_dir, NULL, NULL, NULL, NULL, err, sizeof(err));
    if (!S) FAIL_("wb_schemas_new: %s", err);
    RUN(test_interop_decode);
    RUN(test_pin_v2_to_v1);
    RUN(test_unresolvable);
    RUN(test_hostile);
    RUN(test_inbound);
    RUN(test_inbound_errors);
    RUN(test_schema_parse_errors);
    RUN(test_logical_edges);
    RUN(test_json_to_contract);
    wb_schemas_free(S);
    TEST_DONE();
}
