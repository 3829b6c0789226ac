/* test_signing.c - every signature scheme: known answers, round trips, rotation, failures.
 *
 * Known-answer values were computed outside this code base when the test was written:
 * HMACs with python3's hmac module, the Ed25519 key with `openssl genpkey -algorithm ed25519`
 * and its signature with `openssl pkeyutl -sign -rawin`; the Standard Webhooks, GitHub and
 * Slack vectors are the ones published in their documentation. */
#include <pthread.h>
#include <string.h>

#include "http/http.h"
#include "signing/signing.h"
#include "test.h"

/* ---- a tiny header table for wb_verifier_verify ---- */

typedef struct hdrs {
    const char *n[8];
    const char *v[8];
    int count;
} hdrs;

static const char *hget(void *ctx, const char *name)
{
    hdrs *h = ctx;
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp(h->n[i], name)) return h->v[i];
    return NULL;
}

static void hset(hdrs *h, const char *n, const char *v)
{
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp(h->n[i], n)) {
            h->v[i] = v;
            return;
        }
    h->n[h->count] = n;
    h->v[h->count] = v;
    h->count++;
}

static void hdel(hdrs *h, const char *n)
{
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp(h->n[i], n)) {
            h->n[i] = h->n[h->count - 1];
            h->v[i] = h->v[h->count - 1];
            h->count--;
            return;
        }
}

/* Parse "Name: value\nName: value" from a signer into h (values point into buf). */
static void hparse(hdrs *h, char *buf)
{
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c = strstr(line, ": ");
        ASSERT(c != NULL);
        *c = 0;
        hset(h, line, c + 2);
    }
}

static wb_signing cfg_of(wb_scheme scheme, char **secrets, size_t n)
{
    wb_signing c;
    memset(&c, 0, sizeof(c));
    c.scheme = scheme;
    c.secrets = secrets;
    c.nsecrets = n;
    c.tolerance_ms = 300000;
    return c;
}

static wb_err verify(const wb_signing *c, hdrs *h, const char *body, int64_t now,
                     wb_verify_result *res)
{
    char err[256];
    wb_verifier *v = wb_verifier_new(c, err, sizeof(err));
    if (!v) FAIL_("wb_verifier_new: %s", err);
    wb_err e = wb_verifier_verify(v, hget, h, body, strlen(body), now, res);
    wb_verifier_free(v);
    return e;
}

/* Sign with cfg and return the header lines (static buffer). */
static char *sign(const wb_signing *c, const char *id, int64_t ts, const char *body)
{
    static char out[4096];
    char err[256];
    wb_signer *s = wb_signer_new(c, err, sizeof(err));
    if (!s) FAIL_("wb_signer_new: %s", err);
    wb_buf b;
    wb_buf_init(&b, 0);
    ASSERT_EQ(wb_signer_sign(s, id, ts, body, strlen(body), &b), WB_OK);
    snprintf(out, sizeof(out), "%s", b.data);
    wb_buf_free(&b);
    wb_signer_free(s);
    return out;
}

#define STD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define STD_BODY   "{\"test\": 2432232314}"
#define STD_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define ED_SK      "whsk_1EDZWR7iPB++xFI9hT8ek7/OGIunWOUL82F0uIu4k3M="
#define ED_PK      "whpk_D70S+sEKFSdWyFvTyyVplXds5nhsfro18bdd1+LifWg="
#define ED_SIG                                                                                     \
    "v1a,cBtkAkON0m3jYx6o8ATfT7zrq9QPhrNasdzLSHPJia/KN48MKexWzI2DQom2jLzQKr2WUAJBeKuSEGrvg8PgAA=="

/* ---- standard webhooks ---- */

static void test_standard_known_answer(void)
{
    char *sec[] = {STD_SECRET};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 1);
    ASSERT_STR_EQ(sign(&c, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, STD_BODY),
                  "webhook-signature: " STD_SIG);
    /* wb_signer_signature gives only the value */
    char err[128];
    wb_signer *s = wb_signer_new(&c, err, sizeof(err));
    ASSERT(s);
    wb_buf b;
    wb_buf_init(&b, 0);
    ASSERT_EQ(wb_signer_signature(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, STD_BODY,
                                  strlen(STD_BODY), &b),
              WB_OK);
    ASSERT_STR_EQ(b.data, STD_SIG);
    wb_buf_free(&b);
    wb_signer_free(s);

    hdrs h = {0};
    hset(&h, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
    hset(&h, "webhook-timestamp", "1614265330");
    hset(&h, "webhook-signature", STD_SIG);
    wb_verify_result r;
    ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330 + 10, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    ASSERT_EQ(r.timestamp, 1614265330);
    /* a bare base64 secret (no whsec_) is the same key, as in the SDK */
    char *bare[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    wb_signing c2 = cfg_of(WB_SCHEME_STANDARD, bare, 1);
    ASSERT_EQ(verify(&c2, &h, STD_BODY, 1614265330, &r), WB_OK);
}

static void test_standard_failures(void)
{
    char *sec[] = {STD_SECRET};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 1);
    const int64_t ts = 1614265330;
    hdrs h = {0};
    hset(&h, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
    hset(&h, "webhook-timestamp", "1614265330");
    hset(&h, "webhook-signature", STD_SIG);
    wb_verify_result r;

    ASSERT_EQ(verify(&c, &h, "{\"test\": 2432232315}", ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "no signature matched");
    ASSERT_STR_EQ(r.delivery_id, "msg_p5jXN8AQM9LWM0D4loKWxJek"); /* filled on failure too */

    char *wrong[] = {"whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldA=="};
    wb_signing cw = cfg_of(WB_SCHEME_STANDARD, wrong, 1);
    ASSERT_EQ(verify(&cw, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "no signature matched");

    ASSERT_EQ(verify(&c, &h, STD_BODY, ts + 301, &r), WB_ERR_STALE);
    ASSERT_STR_EQ(r.reason, "timestamp too old (tolerance 300s)");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts + 300, &r), WB_OK);
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts - 301, &r), WB_ERR_STALE);
    ASSERT_CONTAINS(r.reason, "timestamp in the future");

    /* a wrong signature that is also stale reports staleness (order of checks) */
    hset(&h, "webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts + 1000, &r), WB_ERR_STALE);

    hset(&h, "webhook-signature", "garbage");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "malformed webhook-signature header");
    hset(&h, "webhook-signature", "v2,abc v1,!!!");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "malformed webhook-signature header");

    /* several entries: any one passes */
    hset(&h, "webhook-signature",
         "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,xyz " STD_SIG);
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_OK);

    hset(&h, "webhook-timestamp", "16142653x0");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "malformed webhook-timestamp header");
    hset(&h, "webhook-timestamp", "1614265330");

    hdel(&h, "webhook-signature");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing webhook-signature header");
    hset(&h, "webhook-signature", STD_SIG);
    hdel(&h, "webhook-id");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing webhook-id header");
    hset(&h, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
    hdel(&h, "webhook-timestamp");
    ASSERT_EQ(verify(&c, &h, STD_BODY, ts, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing webhook-timestamp header");
}

static void test_standard_bounds(void)
{
    char *sec[] = {STD_SECRET};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 1);
    hdrs h = {0};
    hset(&h, "webhook-id", "msg_1");
    hset(&h, "webhook-timestamp", "1614265330");
    static char big[WB_SIG_MAX_HEADER + 100];
    memset(big, 'a', sizeof(big) - 1);
    hset(&h, "webhook-signature", big);
    wb_verify_result r;
    ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "webhook-signature header too long");
    /* 33 entries */
    char many[33 * 8 + 1];
    for (int i = 0; i < 33; i++)
        memcpy(many + 8 * i, "v1,AAAA ", 8);
    many[33 * 8] = 0;
    hset(&h, "webhook-signature", many);
    ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "too many signatures");
    /* the reason never carries the expected value or the secret */
    hset(&h, "webhook-signature", "v1,AAAA");
    ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT(!strstr(r.reason, "MfKQ"));
    ASSERT(!strstr(r.reason, "g0hM"));
}

static void test_standard_rotation(void)
{
    char *two[] = {STD_SECRET, "whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldA=="};
    wb_signing c2 = cfg_of(WB_SCHEME_STANDARD, two, 2);
    char *lines = sign(&c2, "msg_2", 1700000000, "{\"b\":2}");
    /* both secrets sign; the first is python3's hmac over "msg_2.1700000000.{"b":2}" */
    ASSERT_CONTAINS(lines,
                    "webhook-signature: v1,wfsooLJIf/EBGvPd4s5aGKOR4o6HAEuGzXKaMJF+2LY= v1,");
    /* a verifier that only knows the new secret accepts the two-signature header */
    char *newonly[] = {"whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldA=="};
    wb_signing cn = cfg_of(WB_SCHEME_STANDARD, newonly, 1);
    hdrs h = {0};
    hset(&h, "webhook-id", "msg_2");
    hset(&h, "webhook-timestamp", "1700000000");
    hparse(&h, lines);
    wb_verify_result r;
    ASSERT_EQ(verify(&cn, &h, "{\"b\":2}", 1700000000, &r), WB_OK);
    /* a verifier with [other, old] accepts a signature made by old only (second secret) */
    char *old[] = {STD_SECRET};
    wb_signing co = cfg_of(WB_SCHEME_STANDARD, old, 1);
    char *lines2 = sign(&co, "msg_2", 1700000000, "{\"b\":2}");
    hdrs h2 = {0};
    hset(&h2, "webhook-id", "msg_2");
    hset(&h2, "webhook-timestamp", "1700000000");
    hparse(&h2, lines2);
    char *both[] = {"whsec_dGhpcyBpcyB0aGUgbmV3IHNlY3JldA==", STD_SECRET};
    wb_signing cb = cfg_of(WB_SCHEME_STANDARD, both, 2);
    ASSERT_EQ(verify(&cb, &h2, "{\"b\":2}", 1700000000, &r), WB_OK);
}

static void test_standard_ed25519(void)
{
    char *sk[] = {ED_SK};
    wb_signing cs = cfg_of(WB_SCHEME_STANDARD, sk, 1);
    /* known answer: openssl pkeyutl -sign -rawin over "msg_ed.1700000000.{"c":3}" */
    ASSERT_STR_EQ(sign(&cs, "msg_ed", 1700000000, "{\"c\":3}"), "webhook-signature: " ED_SIG);
    char *pk[] = {ED_PK};
    wb_signing cv = cfg_of(WB_SCHEME_STANDARD, pk, 1);
    hdrs h = {0};
    hset(&h, "webhook-id", "msg_ed");
    hset(&h, "webhook-timestamp", "1700000000");
    hset(&h, "webhook-signature", ED_SIG);
    wb_verify_result r;
    ASSERT_EQ(verify(&cv, &h, "{\"c\":3}", 1700000000, &r), WB_OK);
    ASSERT_EQ(verify(&cs, &h, "{\"c\":3}", 1700000000, &r), WB_OK); /* whsk_ verifies too */
    ASSERT_EQ(verify(&cv, &h, "{\"c\":4}", 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "no signature matched");
    /* an HMAC-only verifier does not accept v1a */
    char *hm[] = {STD_SECRET};
    wb_signing ch = cfg_of(WB_SCHEME_STANDARD, hm, 1);
    ASSERT_EQ(verify(&ch, &h, "{\"c\":3}", 1700000000, &r), WB_ERR_SIGNATURE);

    /* mixed signer: v1 then v1a */
    char *mixed[] = {STD_SECRET, ED_SK};
    wb_signing cm = cfg_of(WB_SCHEME_STANDARD, mixed, 2);
    char *lines = sign(&cm, "msg_ed", 1700000000, "{\"c\":3}");
    ASSERT_CONTAINS(lines, " " ED_SIG);
    ASSERT(!strncmp(lines, "webhook-signature: v1,", 22));

    /* whpk_ cannot sign; bad key lengths are rejected without echoing the key */
    char err[256];
    ASSERT(wb_signer_new(&cv, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "cannot sign");
    char *bad[] = {"whsk_AAAA"};
    wb_signing cbad = cfg_of(WB_SCHEME_STANDARD, bad, 1);
    ASSERT(wb_signer_new(&cbad, err, sizeof(err)) == NULL);
    ASSERT(!strstr(err, "AAAA"));
    char *badb64[] = {"whsec_!!!"};
    wb_signing cb2 = cfg_of(WB_SCHEME_STANDARD, badb64, 1);
    ASSERT(wb_verifier_new(&cb2, err, sizeof(err)) == NULL);
    ASSERT(!strstr(err, "!!!"));
}

/* ---- stripe ---- */

#define STRIPE_BODY                                                                                \
    "{\"id\":\"evt_1NG8Du2eZvKYlo2CUI79vXWy\",\"object\":\"event\",\"type\":\"charge.succeeded\"}"
#define STRIPE_V1  "ea0a8c6df020a098fd57a17f7b76d3bb047829a08e9b0b1bfe25c016a3f34c61"
#define STRIPE_V1B "9d71a7706f12fb9ff9614b1535e903eb6ff028e64bb1c33b90b75a6907da85db"

static void test_stripe(void)
{
    char *sec[] = {"whsec_test_secret"};
    wb_signing c = cfg_of(WB_SCHEME_STRIPE, sec, 1);
    ASSERT_STR_EQ(sign(&c, NULL, 1700000000, STRIPE_BODY),
                  "Stripe-Signature: t=1700000000,v1=" STRIPE_V1);
    char *two[] = {"whsec_test_secret", "whsec_rotated_secret"};
    wb_signing c2 = cfg_of(WB_SCHEME_STRIPE, two, 2);
    ASSERT_STR_EQ(sign(&c2, NULL, 1700000000, STRIPE_BODY),
                  "Stripe-Signature: t=1700000000,v1=" STRIPE_V1 ",v1=" STRIPE_V1B);

    hdrs h = {0};
    wb_verify_result r;
    hset(&h, "stripe-signature", "t=1700000000,v1=" STRIPE_V1 ",v0=deadbeef");
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1700000100, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
    ASSERT_EQ(r.timestamp, 1700000000);
    /* rotation: the second configured secret passes */
    char *rot[] = {"whsec_other", "whsec_rotated_secret"};
    wb_signing cr = cfg_of(WB_SCHEME_STRIPE, rot, 2);
    hset(&h, "stripe-signature", "t=1700000000,v1=" STRIPE_V1B);
    ASSERT_EQ(verify(&cr, &h, STRIPE_BODY, 1700000000, &r), WB_OK);
    /* wrong secret, altered body, stale, future */
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "no signature matched");
    ASSERT_STR_EQ(r.delivery_id, ""); /* body not parsed when unverified */
    hset(&h, "stripe-signature", "t=1700000000,v1=" STRIPE_V1);
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY " ", 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1700000301, &r), WB_ERR_STALE);
    ASSERT_STR_EQ(r.reason, "timestamp too old (tolerance 300s)");
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1699999000, &r), WB_ERR_STALE);
    ASSERT_CONTAINS(r.reason, "timestamp in the future");
    /* malformed / missing */
    const char *bad[] = {
        "",         "v1=" STRIPE_V1, "t=abc,v1=" STRIPE_V1, "t=1,t=2,v1=" STRIPE_V1,
        "nonsense", "t=1700000000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hset(&h, "stripe-signature", bad[i]);
        ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1700000000, &r), WB_ERR_SIGNATURE);
        ASSERT(strstr(r.reason, "Stripe-Signature"));
    }
    hdel(&h, "stripe-signature");
    ASSERT_EQ(verify(&c, &h, STRIPE_BODY, 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing Stripe-Signature header");
}

/* ---- github / shopify ---- */

static void test_github(void)
{
    char *sec[] = {"It's a Secret to Everybody"};
    wb_signing c = cfg_of(WB_SCHEME_GITHUB, sec, 1);
    ASSERT_STR_EQ(sign(&c, "72d3162e-cc78-11e3-81ab-4c9367dc0958", 0, "Hello, World!"),
                  "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c"
                  "46f4379c8b043e17\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958");
    hdrs h = {0};
    wb_verify_result r;
    hset(&h, "X-Hub-Signature-256",
         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    hset(&h, "X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    ASSERT_EQ(verify(&c, &h, "Hello, World!", 1, &r), WB_OK); /* no timestamp: any now */
    ASSERT_STR_EQ(r.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    ASSERT_EQ(verify(&c, &h, "Hello, World?", 1, &r), WB_ERR_SIGNATURE);
    char *rot[] = {"new secret", "It's a Secret to Everybody"};
    wb_signing cr = cfg_of(WB_SCHEME_GITHUB, rot, 2);
    ASSERT_EQ(verify(&cr, &h, "Hello, World!", 1, &r), WB_OK);
    hset(&h, "X-Hub-Signature-256",
         "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    ASSERT_EQ(verify(&c, &h, "Hello, World!", 1, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "malformed X-Hub-Signature-256 header");
    hset(&h, "X-Hub-Signature-256", "sha256=757107");
    ASSERT_EQ(verify(&c, &h, "Hello, World!", 1, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "malformed X-Hub-Signature-256 header");
    hdel(&h, "X-Hub-Signature-256");
    ASSERT_EQ(verify(&c, &h, "Hello, World!", 1, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing X-Hub-Signature-256 header");
}

static void test_shopify(void)
{
    const char *body = "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}";
    char *sec[] = {"shpss_test_secret"};
    wb_signing c = cfg_of(WB_SCHEME_SHOPIFY, sec, 1);
    ASSERT_STR_EQ(sign(&c, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", 0, body),
                  "X-Shopify-Hmac-Sha256: LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=\n"
                  "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    hdrs h = {0};
    wb_verify_result r;
    hset(&h, "X-Shopify-Hmac-Sha256", "LnwdZPLBbdjkBwPD/lDL1/rYEGby/GHPtL1aAH6Dxjc=");
    hset(&h, "X-Shopify-Event-Id", "evt-fallback");
    ASSERT_EQ(verify(&c, &h, body, 1, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "evt-fallback");
    hset(&h, "X-Shopify-Webhook-Id", "wh-1");
    ASSERT_EQ(verify(&c, &h, body, 1, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "wh-1");
    ASSERT_EQ(verify(&c, &h, "{}", 1, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "no signature matched");
    hset(&h, "X-Shopify-Hmac-Sha256", "not base64!");
    ASSERT_EQ(verify(&c, &h, body, 1, &r), WB_ERR_SIGNATURE);
    ASSERT_CONTAINS(r.reason, "malformed X-Shopify-Hmac-Sha256 header");
}

/* ---- slack ---- */

#define SLACK_BODY                                                                                 \
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="         \
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"     \
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"             \
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."               \
    "803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

static void test_slack(void)
{
    char *sec[] = {"8f742231b10e8888abcd99yyyzzz85a5"};
    wb_signing c = cfg_of(WB_SCHEME_SLACK, sec, 1);
    /* Slack's documented example */
    ASSERT_STR_EQ(sign(&c, NULL, 1531420618, SLACK_BODY),
                  "X-Slack-Request-Timestamp: 1531420618\nX-Slack-Signature: " SLACK_SIG);
    hdrs h = {0};
    wb_verify_result r;
    hset(&h, "X-Slack-Signature", SLACK_SIG);
    hset(&h, "X-Slack-Request-Timestamp", "1531420618");
    ASSERT_EQ(verify(&c, &h, SLACK_BODY, 1531420618 + 60, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, ""); /* form body: no event_id */
    ASSERT_EQ(verify(&c, &h, SLACK_BODY "x", 1531420618, &r), WB_ERR_SIGNATURE);
    ASSERT_EQ(verify(&c, &h, SLACK_BODY, 1531420618 + 301, &r), WB_ERR_STALE);
    ASSERT_EQ(verify(&c, &h, SLACK_BODY, 1531420618 - 301, &r), WB_ERR_STALE);
    hset(&h, "X-Slack-Request-Timestamp", "-1");
    ASSERT_EQ(verify(&c, &h, SLACK_BODY, 1531420618, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "malformed X-Slack-Request-Timestamp header");
    hdel(&h, "X-Slack-Request-Timestamp");
    ASSERT_EQ(verify(&c, &h, SLACK_BODY, 1531420618, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing X-Slack-Request-Timestamp header");

    /* JSON events: event_id becomes the delivery id, rotation works */
    const char *ev = "{\"type\":\"event_callback\",\"event_id\":\"Ev08MFMKH6\"}";
    char *rot[] = {"new-slack-secret", "8f742231b10e8888abcd99yyyzzz85a5"};
    wb_signing cr = cfg_of(WB_SCHEME_SLACK, rot, 2);
    char *lines = sign(&c, NULL, 1700000000, ev);
    hdrs h2 = {0};
    hparse(&h2, lines);
    ASSERT_EQ(verify(&cr, &h2, ev, 1700000000, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "Ev08MFMKH6");
}

/* ---- generic hmac ---- */

static void test_hmac(void)
{
    char *sec[] = {"plain-secret"};
    wb_signing c = cfg_of(WB_SCHEME_HMAC, sec, 1);
    c.hmac.header = "X-Signature";
    c.hmac.prefix = "sha512=";
    c.hmac.sha512 = 1;
    c.hmac.base64 = 1;
    c.hmac.timestamp_header = "X-Timestamp";
    c.hmac.id_header = "X-Delivery";
    c.hmac.content = "{timestamp}:{id}:{body}";
    ASSERT_STR_EQ(sign(&c, "msg-42", 1700000000, "{\"a\":1}"),
                  "X-Signature: sha512=r4cm5dTI7TGcGLcNhZV9UvX2OHEdw1eNdHVZ8vjsoSn3Q2F324YH5szdt"
                  "fOKZA2cYmWaSJu+LVIHfdEp2QqbZQ==\nX-Timestamp: 1700000000\nX-Delivery: msg-42");
    hdrs h = {0};
    wb_verify_result r;
    hparse(&h, sign(&c, "msg-42", 1700000000, "{\"a\":1}"));
    ASSERT_EQ(verify(&c, &h, "{\"a\":1}", 1700000000, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "msg-42");
    ASSERT_EQ(verify(&c, &h, "{\"a\":2}", 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_EQ(verify(&c, &h, "{\"a\":1}", 1700009000, &r), WB_ERR_STALE);
    hset(&h, "X-Delivery", "msg-43"); /* the id is signed */
    ASSERT_EQ(verify(&c, &h, "{\"a\":1}", 1700000000, &r), WB_ERR_SIGNATURE);
    hdel(&h, "X-Timestamp");
    ASSERT_EQ(verify(&c, &h, "{\"a\":1}", 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing X-Timestamp header");

    /* defaults: hex SHA-256 over the body, no prefix, no timestamp (== GitHub digest) */
    char *gh[] = {"It's a Secret to Everybody"};
    wb_signing d = cfg_of(WB_SCHEME_HMAC, gh, 1);
    d.hmac.header = "X-Sig";
    ASSERT_STR_EQ(sign(&d, NULL, 5, "Hello, World!"),
                  "X-Sig: 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    hdrs h2 = {0};
    hset(&h2, "X-Sig", "757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17");
    ASSERT_EQ(verify(&d, &h2, "Hello, World!", 0, &r), WB_OK);

    /* config errors */
    char err[256];
    d.hmac.content = "{body}{tstamp}";
    ASSERT(wb_verifier_new(&d, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "unknown placeholder '{tstamp}'");
    d.hmac.content = "{timestamp}.{body}";
    ASSERT(wb_verifier_new(&d, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "timestamp_header");
    /* issue 9.9: a timestamp/id header the content does not sign would let a replay pass
     * with a fresh timestamp or a new id: refused for the verifier and the signer alike */
    d.hmac.content = "{body}";
    d.hmac.timestamp_header = "X-Ts";
    ASSERT(wb_verifier_new(&d, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "timestamp_header X-Ts is not covered by the signed content");
    ASSERT(wb_signer_new(&d, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "add {timestamp} to content");
    d.hmac.content = "{timestamp}.{body}";
    d.hmac.id_header = "X-Id";
    ASSERT(wb_verifier_new(&d, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "id_header X-Id is not covered by the signed content");
    d.hmac.content = "{timestamp}.{id}.{body}";
    wb_verifier *ok = wb_verifier_new(&d, err, sizeof(err));
    ASSERT(ok != NULL);
    wb_verifier_free(ok);
    d.hmac.timestamp_header = NULL;
    d.hmac.id_header = NULL;
    d.hmac.content = NULL;
    d.hmac.header = NULL;
    ASSERT(wb_verifier_new(&d, err, sizeof(err)) == NULL);
}

/* Issue 9.2: a delivery id becomes ce_id (a Kafka header, then a partner request header): a
 * control character or an absurd length is refused with WB_ERR_INVALID naming the field,
 * from a header or from a (signed) body alike. Before, body ids over 255 bytes were dropped
 * silently and "\n" escapes reached the header as real newlines. */
static void test_delivery_id_checked(void)
{
    char *sec[] = {STD_SECRET};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 1);
    wb_verify_result r;
    const char *bad_ids[] = {"msg\x01", "msg\tx", "a\x7f", NULL};
    for (int i = 0; bad_ids[i]; i++) {
        char lines[4096];
        snprintf(lines, sizeof(lines), "%s", sign(&c, bad_ids[i], 1614265330, STD_BODY));
        hdrs h = {0};
        hparse(&h, lines);
        hset(&h, "webhook-id", bad_ids[i]);
        hset(&h, "webhook-timestamp", "1614265330");
        ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330, &r), WB_ERR_INVALID);
        ASSERT_STR_EQ(r.reason, "webhook-id contains a control character");
    }
    char longid[400];
    memset(longid, 'a', 300);
    longid[300] = 0;
    char lines[4096];
    snprintf(lines, sizeof(lines), "%s", sign(&c, longid, 1614265330, STD_BODY));
    hdrs h = {0};
    hparse(&h, lines);
    hset(&h, "webhook-id", longid);
    hset(&h, "webhook-timestamp", "1614265330");
    ASSERT_EQ(verify(&c, &h, STD_BODY, 1614265330, &r), WB_ERR_INVALID);
    ASSERT_STR_EQ(r.reason, "webhook-id is longer than 255 bytes");

    /* GitHub: the (unsigned) delivery header */
    char *gh[] = {"It's a Secret to Everybody"};
    wb_signing g = cfg_of(WB_SCHEME_GITHUB, gh, 1);
    char gl[4096];
    snprintf(gl, sizeof(gl), "%s", sign(&g, "d-1", 0, "Hello, World!"));
    hdrs hg = {0};
    hparse(&hg, gl);
    ASSERT_EQ(verify(&g, &hg, "Hello, World!", 0, &r), WB_OK);
    ASSERT_EQ(r.id_signed, 0);
    ASSERT_EQ(r.digest_len, 32);
    unsigned char d1[32];
    memcpy(d1, r.digest, 32);
    hset(&hg, "X-GitHub-Delivery", "another-id"); /* a replay with a new id: same digest */
    ASSERT_EQ(verify(&g, &hg, "Hello, World!", 0, &r), WB_OK);
    ASSERT(!memcmp(d1, r.digest, 32));
    hset(&hg, "X-GitHub-Delivery", "bad\x1b[31m");
    ASSERT_EQ(verify(&g, &hg, "Hello, World!", 0, &r), WB_ERR_INVALID);
    ASSERT_STR_EQ(r.reason, "X-GitHub-Delivery contains a control character");
    hset(&hg, "X-GitHub-Delivery", longid);
    ASSERT_EQ(verify(&g, &hg, "Hello, World!", 0, &r), WB_ERR_INVALID);
    ASSERT_CONTAINS(r.reason, "X-GitHub-Delivery is longer than 255 bytes");

    /* Stripe: the id comes from the signed body; JSON escapes decode to control chars */
    char *ss[] = {"whsec_stripe"};
    wb_signing st = cfg_of(WB_SCHEME_STRIPE, ss, 1);
    const char *nl = "{\"id\":\"evt_1\\nX-Injected: 1\",\"type\":\"t\"}";
    char sl[4096];
    snprintf(sl, sizeof(sl), "%s", sign(&st, NULL, 1700000000, nl));
    hdrs hs = {0};
    hparse(&hs, sl);
    ASSERT_EQ(verify(&st, &hs, nl, 1700000000, &r), WB_ERR_INVALID);
    ASSERT_STR_EQ(r.reason, "body field \"id\" contains a control character");
    char big[600];
    snprintf(big, sizeof(big), "{\"id\":\"%s\"}", longid);
    snprintf(sl, sizeof(sl), "%s", sign(&st, NULL, 1700000000, big));
    hdrs hs2 = {0};
    hparse(&hs2, sl);
    ASSERT_EQ(verify(&st, &hs2, big, 1700000000, &r), WB_ERR_INVALID);
    ASSERT_STR_EQ(r.reason, "body field \"id\" is longer than 255 bytes");
    const char *okb = "{\"id\":\"evt_2\"}";
    snprintf(sl, sizeof(sl), "%s", sign(&st, NULL, 1700000000, okb));
    hdrs hs3 = {0};
    hparse(&hs3, sl);
    ASSERT_EQ(verify(&st, &hs3, okb, 1700000000, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "evt_2");
    ASSERT_EQ(r.id_signed, 1);
}

/* The per-thread MAC context cache (signing/mac.c) never mixes keys up: verifiers used in turn
 * on one thread, and a verifier freed and another made (likely at the same address) with
 * another key, as a reload does. */
static void test_mac_cache_keys(void)
{
    char *ka[] = {"key-a"}, *kb[] = {"key-b"};
    wb_signing a = cfg_of(WB_SCHEME_GITHUB, ka, 1), b = cfg_of(WB_SCHEME_GITHUB, kb, 1);
    char la[512], lb[512], err[128];
    snprintf(la, sizeof la, "%s", sign(&a, NULL, 0, "body"));
    snprintf(lb, sizeof lb, "%s", sign(&b, NULL, 0, "body"));
    hdrs ha = {0}, hb = {0};
    hparse(&ha, la);
    hparse(&hb, lb);
    wb_verify_result r;
    for (int round = 0; round < 40; round++) {
        wb_verifier *v = wb_verifier_new(round % 2 ? &b : &a, err, sizeof err);
        ASSERT(v);
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ(wb_verifier_verify(v, hget, round % 2 ? &hb : &ha, "body", 4, 0, &r), WB_OK);
            ASSERT_EQ(wb_verifier_verify(v, hget, round % 2 ? &ha : &hb, "body", 4, 0, &r),
                      WB_ERR_SIGNATURE);
        }
        wb_verifier_free(v);
    }
    wb_verifier *va = wb_verifier_new(&a, err, sizeof err),
                *vb = wb_verifier_new(&b, err, sizeof err);
    for (int i = 0; i < 40; i++) {
        ASSERT_EQ(wb_verifier_verify(i % 2 ? vb : va, hget, i % 2 ? &hb : &ha, "body", 4, 0, &r),
                  WB_OK);
    }
    wb_verifier_free(va);
    wb_verifier_free(vb);
}

/* Issue 9.8: what needs no body is checked before the body is read. */
static void test_precheck(void)
{
    char *sec[] = {STD_SECRET};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 1);
    char err[256];
    wb_verifier *v = wb_verifier_new(&c, err, sizeof(err));
    ASSERT(v);
    wb_verify_result r;
    hdrs h = {0};
    ASSERT_EQ(wb_verifier_precheck(v, hget, &h, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing webhook-id header");
    hset(&h, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek");
    hset(&h, "webhook-timestamp", "1614265330");
    ASSERT_EQ(wb_verifier_precheck(v, hget, &h, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing webhook-signature header");
    hset(&h, "webhook-signature", "v1,!!!");
    ASSERT_EQ(wb_verifier_precheck(v, hget, &h, 1614265330, &r), WB_ERR_SIGNATURE);
    hset(&h, "webhook-signature", STD_SIG);
    ASSERT_EQ(wb_verifier_precheck(v, hget, &h, 1614265330 + 3600, &r), WB_ERR_STALE);
    /* headers fine: the precheck passes whatever the body will be */
    ASSERT_EQ(wb_verifier_precheck(v, hget, &h, 1614265330, &r), WB_OK);
    ASSERT_STR_EQ(r.delivery_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    ASSERT_EQ(wb_verifier_verify(v, hget, &h, "x", 1, 1614265330, &r), WB_ERR_SIGNATURE);
    ASSERT_EQ(wb_verifier_verify(v, hget, &h, STD_BODY, strlen(STD_BODY), 1614265330, &r), WB_OK);
    ASSERT_EQ(r.id_signed, 1);
    wb_verifier_free(v);

    char *sl[] = {"sl-secret"};
    wb_signing s = cfg_of(WB_SCHEME_SLACK, sl, 1);
    v = wb_verifier_new(&s, err, sizeof(err));
    hdrs hs = {0};
    hset(&hs, "X-Slack-Signature",
         "v0="
         "0000000000000000000000000000000000000000000000000000000000000000");
    ASSERT_EQ(wb_verifier_precheck(v, hget, &hs, 1700000000, &r), WB_ERR_SIGNATURE);
    ASSERT_STR_EQ(r.reason, "missing X-Slack-Request-Timestamp header");
    hset(&hs, "X-Slack-Request-Timestamp", "1600000000");
    ASSERT_EQ(wb_verifier_precheck(v, hget, &hs, 1700000000, &r), WB_ERR_STALE);
    hset(&hs, "X-Slack-Request-Timestamp", "1700000000");
    ASSERT_EQ(wb_verifier_precheck(v, hget, &hs, 1700000000, &r), WB_OK);
    wb_verifier_free(v);
}

static void test_none_and_config(void)
{
    char err[256];
    wb_signing n = cfg_of(WB_SCHEME_NONE, NULL, 0);
    ASSERT(wb_verifier_new(&n, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "insecure");
    n.insecure = 1;
    wb_verifier *v = wb_verifier_new(&n, err, sizeof(err));
    ASSERT(v);
    hdrs h = {0};
    wb_verify_result r;
    ASSERT_EQ(wb_verifier_verify(v, hget, &h, "x", 1, 0, &r), WB_OK);
    wb_verifier_free(v);
    wb_signing s = cfg_of(WB_SCHEME_STRIPE, NULL, 0);
    ASSERT(wb_verifier_new(&s, err, sizeof(err)) == NULL);
    ASSERT_CONTAINS(err, "no secret");
}

/* ---- parsers directly ---- */

static void test_parsers(void)
{
    wb_sig_list l;
    char why[160];
    ASSERT_EQ(wb_stripe_sig_parse(" t=12 , v1=" STRIPE_V1 ",,", &l, why, sizeof(why)), WB_OK);
    ASSERT_EQ(l.ts, 12);
    ASSERT_EQ(l.n, 1);
    ASSERT_EQ(wb_stripe_sig_parse("t=12,v1=zz", &l, why, sizeof(why)), WB_OK);
    ASSERT_EQ(l.n, 0); /* undecodable v1 cannot match but is not fatal */
    ASSERT_EQ(wb_standard_sig_parse("  v1,AAAA   v1a,BBBB  ", &l, why, sizeof(why)), WB_OK);
    ASSERT_EQ(l.n, 2);
    ASSERT_EQ(l.e[1].kind, WB_SIG_ED25519);
    ASSERT_EQ(wb_prefixed_sig_parse("SHA256=" STRIPE_V1, "sha256=", 0, 32, &l, why, sizeof(why)),
              WB_OK);
    ASSERT_EQ(wb_prefixed_sig_parse("sha256", "sha256=", 0, 32, &l, why, sizeof(why)),
              WB_ERR_SIGNATURE);
    int64_t t;
    ASSERT_EQ(wb_sig_timestamp_parse("1234567890123", &t), WB_ERR_INVALID);
    ASSERT_EQ(wb_sig_timestamp_parse("", &t), WB_ERR_INVALID);
    ASSERT_EQ(wb_sig_timestamp_parse("+1", &t), WB_ERR_INVALID);
    ASSERT_EQ(wb_sig_timestamp_parse("0042", &t), WB_OK);
    ASSERT_EQ(t, 42);
}

/* ---- one signer/verifier shared by several threads (the contract in signing.h) ---- */

typedef struct shared {
    wb_signer *s;
    wb_verifier *v;
    int failures;
} shared;

static void *worker(void *arg)
{
    shared *sh = arg;
    char body[64];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(body, sizeof(body), "{\"n\":%d}", i);
        wb_buf b;
        wb_buf_init(&b, 0);
        hdrs h = {0};
        hset(&h, "webhook-id", "msg_t");
        hset(&h, "webhook-timestamp", "1700000000");
        wb_verify_result r;
        if (wb_signer_sign(sh->s, "msg_t", 1700000000, body, (size_t)n, &b) != WB_OK)
            __atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
        else {
            hparse(&h, b.data);
            if (wb_verifier_verify(sh->v, hget, &h, body, (size_t)n, 1700000000, &r) != WB_OK ||
                wb_verifier_verify(sh->v, hget, &h, body, (size_t)n - 1, 1700000000, &r) !=
                    WB_ERR_SIGNATURE)
                __atomic_add_fetch(&sh->failures, 1, __ATOMIC_RELAXED);
        }
        wb_buf_free(&b);
    }
    return NULL;
}

static void test_threads(void)
{
    char *sec[] = {STD_SECRET, ED_SK};
    wb_signing c = cfg_of(WB_SCHEME_STANDARD, sec, 2);
    char err[256];
    shared sh = {wb_signer_new(&c, err, sizeof(err)), wb_verifier_new(&c, err, sizeof(err)), 0};
    ASSERT(sh.s && sh.v);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, worker, &sh), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(sh.failures, 0);
    wb_signer_free(sh.s);
    wb_verifier_free(sh.v);
}

/* ---- typed headers: the same headers as the text form, as (name, value) pairs ---- */

static void test_sign_headers(void)
{
    char *sec[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    char *raw[] = {"It's a Secret to Everybody"};
    wb_scheme schemes[] = {WB_SCHEME_STANDARD, WB_SCHEME_STRIPE, WB_SCHEME_GITHUB,
                           WB_SCHEME_SHOPIFY, WB_SCHEME_SLACK};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        wb_signing c = cfg_of(schemes[i], i == 0 || i == 1 ? sec : raw, 1);
        char err[256];
        wb_signer *s = wb_signer_new(&c, err, sizeof(err));
        if (!s) FAIL_("wb_signer_new: %s", err);
        wb_buf text, store, joined;
        wb_buf_init(&text, 0);
        wb_buf_init(&store, 0);
        wb_buf_init(&joined, 0);
        ASSERT_EQ(wb_signer_sign(s, "msg_1", 1700000000, STD_BODY, strlen(STD_BODY), &text), WB_OK);
        wb_buf_adds(&store, "kept"); /* what the caller had is left in front */
        wb_http_header h[8];
        size_t n = 99;
        ASSERT_EQ(wb_signer_sign_headers(s, "msg_1", 1700000000, STD_BODY, strlen(STD_BODY), h, 8,
                                         &n, &store),
                  WB_OK);
        ASSERT(n >= 1 && n <= 2);
        ASSERT(!strncmp(store.data, "kept", 4));
        for (size_t k = 0; k < n; k++) {
            ASSERT(wb_http_header_ok(h[k].name, h[k].value));
            wb_buf_printf(&joined, "%s%s: %s", k ? "\n" : "", h[k].name, h[k].value);
        }
        ASSERT_STR_EQ(joined.data, text.data);
        /* more headers than room: refused, storage as it was */
        if (n == 2) {
            size_t len = store.len, m = 0;
            ASSERT_EQ(wb_signer_sign_headers(s, "msg_1", 1700000000, STD_BODY, strlen(STD_BODY), h,
                                             1, &m, &store),
                      WB_ERR_TOO_LARGE);
            ASSERT_EQ(store.len, len);
        }
        wb_buf_free(&text);
        wb_buf_free(&store);
        wb_buf_free(&joined);
        wb_signer_free(s);
    }
    /* scheme none: no header at all */
    wb_signing none = cfg_of(WB_SCHEME_NONE, NULL, 0);
    none.insecure = 1;
    char err[256];
    wb_signer *s = wb_signer_new(&none, err, sizeof(err));
    if (!s) FAIL_("wb_signer_new(none): %s", err);
    wb_buf store;
    wb_buf_init(&store, 0);
    wb_http_header h[2];
    size_t n = 9;
    ASSERT_EQ(wb_signer_sign_headers(s, "msg_1", 1, "{}", 2, h, 2, &n, &store), WB_OK);
    ASSERT_EQ(n, 0);
    wb_buf_free(&store);
    wb_signer_free(s);
}

int main(void)
{
    RUN(test_standard_known_answer);
    RUN(test_standard_failures);
    RUN(test_standard_bounds);
    RUN(test_standard_rotation);
    RUN(test_standard_ed25519);
    RUN(test_stripe);
    RUN(test_github);
    RUN(test_shopify);
    RUN(test_slack);
    RUN(test_hmac);
    RUN(test_delivery_id_checked);
    RUN(test_precheck);
    RUN(test_mac_cache_keys);
    RUN(test_none_and_config);
    RUN(test_parsers);
    RUN(test_threads);
    RUN(test_sign_headers);
    TEST_DONE();
}
