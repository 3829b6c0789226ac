/* test_schemes.c - the signing module's parts below signing.h: the table of schemes (one row
 * per scheme), the signed content each row builds, the sink, the content template and the
 * header stage helpers. test_signing.c covers the same rows end to end through signing.h. */
#include <string.h>
#include <strings.h>

#include "signing/signing_int.h"
#include "test.h"

static const wb_scheme all[] = {WB_SCHEME_STANDARD, WB_SCHEME_STRIPE, WB_SCHEME_GITHUB,
                                WB_SCHEME_SHOPIFY,  WB_SCHEME_SLACK,  WB_SCHEME_HMAC,
                                WB_SCHEME_NONE};
#define NALL (sizeof(all) / sizeof(all[0]))

/* The signed content of a row, joined as text. */
static const char *content_text(const wb_scheme_ops *ops, const wb_payload *pl)
{
    static char buf[256];
    wb_part p[WB_SIG_MAX_PARTS];
    size_t n = ops->content(pl, p), o = 0;
    ASSERT(n <= WB_SIG_MAX_PARTS);
    for (size_t i = 0; i < n; i++) {
        ASSERT(o + p[i].n < sizeof(buf));
        memcpy(buf + o, p[i].p, p[i].n);
        o += p[i].n;
    }
    buf[o] = 0;
    return buf;
}

/* Every scheme has exactly one row, named as the configuration names it. */
static void test_every_scheme_has_a_row(void)
{
    for (size_t i = 0; i < NALL; i++) {
        const wb_scheme_ops *ops = wb_schemes_find(all[i]);
        ASSERT(ops != NULL);
        ASSERT_EQ(ops->scheme, all[i]);
        ASSERT_STR_EQ(ops->name, wb_scheme_name(all[i]));
        for (size_t j = 0; j < i; j++)
            ASSERT(wb_schemes_find(all[j]) != ops);
    }
    ASSERT(wb_schemes_find((wb_scheme)-1) == NULL);
    ASSERT(wb_schemes_find((wb_scheme)(WB_SCHEME_NONE + 1)) == NULL);
}

/* What each row must provide: a keyed scheme signs and reads; its MAC has content parts or
 * the template (hmac only); the keyless one has nothing at all. */
static void test_row_shapes(void)
{
    for (size_t i = 0; i < NALL; i++) {
        const wb_scheme_ops *ops = wb_schemes_find(all[i]);
        if (ops->keyless) {
            ASSERT_EQ(all[i], WB_SCHEME_NONE);
            ASSERT(!ops->sign && !ops->read && !ops->content && !ops->add_secret);
            continue;
        }
        ASSERT(ops->sign != NULL);
        ASSERT(ops->read != NULL);
        ASSERT(ops->content != NULL || all[i] == WB_SCHEME_HMAC);
        ASSERT((ops->body_id_key == NULL) == (ops->body_id_field == NULL));
    }
    /* only Standard Webhooks has Ed25519, a bare value and a mandatory id */
    for (size_t i = 0; i < NALL; i++) {
        const wb_scheme_ops *ops = wb_schemes_find(all[i]);
        int std = all[i] == WB_SCHEME_STANDARD;
        ASSERT_EQ(ops->ed25519, std);
        ASSERT_EQ(ops->needs_id, std);
        ASSERT_EQ(ops->sign_value != NULL, std);
    }
}

/* The signed content of each row, as the partners document it. */
static void test_row_content(void)
{
    wb_payload pl = {.id = "msg_1", .ts = "1700000000", .body = "{\"a\":1}", .len = 7};
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_STANDARD), &pl),
                  "msg_1.1700000000.{\"a\":1}");
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_STRIPE), &pl), "1700000000.{\"a\":1}");
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_SLACK), &pl), "v0:1700000000:{\"a\":1}");
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_GITHUB), &pl), "{\"a\":1}");
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_SHOPIFY), &pl), "{\"a\":1}");
    /* an empty body is one empty part, not a missing one */
    wb_payload empty = {.id = "", .ts = "1", .body = "", .len = 0};
    ASSERT_STR_EQ(content_text(wb_schemes_find(WB_SCHEME_STRIPE), &empty), "1.");
}

/* Which body member becomes the delivery id after a match. */
static void test_row_body_ids(void)
{
    ASSERT_STR_EQ(wb_schemes_find(WB_SCHEME_STRIPE)->body_id_key, "id");
    ASSERT_STR_EQ(wb_schemes_find(WB_SCHEME_SLACK)->body_id_key, "event_id");
    ASSERT(wb_schemes_find(WB_SCHEME_GITHUB)->body_id_key == NULL);
    wb_verify_result res;
    memset(&res, 0, sizeof(res));
    const char *body = "{\"event_id\":\"Ev1\",\"id\":\"x\"}";
    ASSERT_EQ(wb_reqhdr_id_from_body(body, strlen(body), "event_id", "f", &res), WB_OK);
    ASSERT_STR_EQ(res.delivery_id, "Ev1");
    ASSERT_STR_EQ(res.id_field, "f");
    memset(&res, 0, sizeof(res));
    ASSERT_EQ(wb_reqhdr_id_from_body("a=b", 3, "id", "f", &res), WB_OK); /* not JSON: no id */
    ASSERT_STR_EQ(res.delivery_id, "");
}

/* The same headers in both forms of the sink. */
static void test_sink(void)
{
    wb_buf b;
    wb_buf_init(&b, 0);
    wb_sink text = {.out = &b, .typed = 0, .open = 0};
    const unsigned char mac[3] = {0xde, 0xad, 0xbe};
    ASSERT_EQ(wb_sink_header(&text, "A", "1"), WB_OK);
    ASSERT_EQ(wb_sink_start(&text, "B"), WB_OK);
    ASSERT_EQ(wb_buf_adds(text.out, "x="), WB_OK);
    ASSERT_EQ(wb_sink_mac(&text, mac, 3, 0), WB_OK);
    ASSERT_EQ(wb_sink_end(&text), WB_OK);
    ASSERT_STR_EQ(b.data, "A: 1\nB: x=deadbe");
    wb_buf_reset(&b);
    wb_sink typed = {.out = &b, .typed = 1, .open = 0};
    ASSERT_EQ(wb_sink_header(&typed, "A", "1"), WB_OK);
    ASSERT_EQ(wb_sink_start(&typed, "B"), WB_OK);
    ASSERT_EQ(wb_sink_mac(&typed, mac, 3, 1), WB_OK);
    ASSERT_EQ(wb_sink_end(&typed), WB_OK);
    ASSERT_EQ(b.len, 11);
    ASSERT(!memcmp(b.data,
                   "A\0"
                   "1\0"
                   "B\0"
                   "3q2+\0",
                   11));
    wb_buf_free(&b);
}

/* The hmac template: literals merged, placeholders found, typos refused. */
static void test_template(void)
{
    wb_keyset k;
    memset(&k, 0, sizeof(k));
    char err[160] = "";
    ASSERT_EQ(wb_template_parse(&k, "{timestamp}.{id}:{body}{x", err, sizeof(err)), WB_OK);
    ASSERT_EQ(k.nsegs, 6);
    ASSERT_EQ(k.segs[0].kind, SEG_TS);
    ASSERT_EQ(k.segs[1].kind, SEG_LIT);
    ASSERT_EQ(k.segs[1].len, 1);
    ASSERT_EQ(k.segs[2].kind, SEG_ID);
    ASSERT_EQ(k.segs[4].kind, SEG_BODY);
    ASSERT_EQ(k.segs[5].kind, SEG_LIT); /* "{x" without '}' is literal text */
    ASSERT_EQ(k.segs[5].len, 2);
    ASSERT(k.uses_ts && k.uses_id);
    wb_keyset_clear(&k);
    ASSERT_EQ(wb_template_parse(&k, "{body}.{timstamp}", err, sizeof(err)), WB_ERR_CONFIG);
    ASSERT_CONTAINS(err, "unknown placeholder '{timstamp}'");
    wb_keyset_clear(&k);
}

/* The keyset goes through the row: unknown schemes, keyless, the hmac options. */
static void test_keyset_rows(void)
{
    wb_signing c;
    memset(&c, 0, sizeof(c));
    wb_keyset k;
    char err[200] = "";
    c.scheme = (wb_scheme)42;
    ASSERT_EQ(wb_keyset_init(&k, &c, 0, err, sizeof(err)), WB_ERR_CONFIG);
    ASSERT_STR_EQ(err, "unknown signature scheme 42");
    wb_keyset_clear(&k);
    c.scheme = WB_SCHEME_NONE;
    ASSERT_EQ(wb_keyset_init(&k, &c, 0, err, sizeof(err)), WB_ERR_DENIED);
    ASSERT_STR_EQ(err, "scheme none requires insecure: true");
    wb_keyset_clear(&k);
    char *sec[] = {"s3cret"};
    c.scheme = WB_SCHEME_HMAC;
    c.secrets = sec;
    c.nsecrets = 1;
    c.hmac.header = "X-Sig";
    c.hmac.sha512 = 1;
    ASSERT_EQ(wb_keyset_init(&k, &c, 1, err, sizeof(err)), WB_OK);
    ASSERT(k.ops == wb_schemes_find(WB_SCHEME_HMAC));
    ASSERT_EQ(k.maclen, 64);
    ASSERT_EQ(k.nhmac, 1);
    ASSERT_EQ(k.nsegs, 1); /* the default content: {body} */
    /* a template scheme has no content parts to join */
    size_t n = 0;
    wb_payload pl = {.id = "", .ts = "1", .body = "b", .len = 1};
    ASSERT(wb_mac_message(&k, &pl, &n) == NULL);
    unsigned char mac[WB_SIG_MAX_MAC];
    size_t ml = 0;
    ASSERT_EQ(wb_mac_hmac(&k, 0, &pl, mac, &ml), WB_OK);
    ASSERT_EQ(ml, 64);
    wb_keyset_clear(&k);
}

/* The request-header helpers the rows share. */
static const char *one_header(void *ctx, const char *name)
{
    return !strcasecmp(name, "X-Ts") ? (const char *)ctx : NULL;
}

static void test_reqhdr(void)
{
    wb_verify_result res;
    memset(&res, 0, sizeof(res));
    char buf[WB_SIG_MAX_HEADER + 1];
    wb_hdr_src src = {one_header, (void *)"  1700000000 \r\n"};
    ASSERT_STR_EQ(wb_reqhdr_need(&src, "X-Ts", buf, &res), "1700000000");
    ASSERT(wb_reqhdr_need(&src, "X-Other", buf, &res) == NULL);
    ASSERT_STR_EQ(res.reason, "missing X-Other header");
    wb_keyset k;
    memset(&k, 0, sizeof(k));
    k.tolerance_ms = 1500;
    ASSERT_EQ(wb_reqhdr_fresh(&k, 100, 101, &res), WB_OK);
    ASSERT_EQ(wb_reqhdr_fresh(&k, 100, 102, &res), WB_ERR_STALE);
    ASSERT_STR_EQ(res.reason, "timestamp too old (tolerance 1500ms)");
    ASSERT_EQ(wb_reqhdr_fresh(&k, 102, 100, &res), WB_ERR_STALE);
    ASSERT_STR_EQ(res.reason, "timestamp in the future (tolerance 1500ms)");
    ASSERT_EQ(wb_reqhdr_fresh_text(&k, "X-Ts", "12a", 100, &res), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(res.reason, "malformed X-Ts header");
    ASSERT_EQ(wb_reqhdr_set_id("a\nb", 3, "webhook-id", &res), WB_ERR_INVALID);
    ASSERT_CONTAINS(res.reason, "webhook-id");
}

int main(void)
{
    RUN(test_every_scheme_has_a_row);
    RUN(test_row_shapes);
    RUN(test_row_content);
    RUN(test_row_body_ids);
    RUN(test_sink);
    RUN(test_template);
    RUN(test_keyset_rows);
    RUN(test_reqhdr);
    TEST_DONE();
}
