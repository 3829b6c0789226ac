/* schemes.c - the table of signature schemes: one row of operations per scheme
 * (wb_scheme_ops, signing_int.h), and the functions of each row. keyset.c, signing.c and
 * verify.c only dispatch through the row, so each scheme's whole behaviour is in its section
 * here: its signed content, the headers it sends, the headers it reads and checks.
 *
 * Rows are immutable; every function is pure (keys are only read); any thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/util.h"
#include "signing/signing_int.h"

/* ------------------------------------------------------------------------------------------
 * Shared by several rows
 * ---------------------------------------------------------------------------------------- */

/* GitHub, Shopify: the signed content is the body alone. */
static size_t body_content(const wb_payload *pl, wb_part *p)
{
    p[0] = (wb_part){pl->body, pl->len};
    return 1;
}

/* The single-value schemes carry one signature: the first (current) secret signs; older
 * secrets only matter to a verifier during rotation. Header `name`: prefix + digest. */
static wb_err sign_first(const wb_keyset *k, const wb_payload *pl, wb_sink *sk, const char *name,
                         const char *prefix, int base64)
{
    unsigned char mac[WB_SIG_MAX_MAC];
    size_t ml = 0;
    wb_err err = wb_mac_hmac(k, 0, pl, mac, &ml);
    if (!err) err = wb_sink_start(sk, name);
    if (!err) err = wb_buf_adds(sk->out, prefix);
    if (!err) err = wb_sink_mac(sk, mac, ml, base64);
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

/* ------------------------------------------------------------------------------------------
 * Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature "v1,<b64> v1a,<b64>"
 * ---------------------------------------------------------------------------------------- */

/* id, timestamp and body are all signed: "id.ts.body" */
static size_t standard_content(const wb_payload *pl, wb_part *p)
{
    size_t n = 0;
    p[n++] = (wb_part){pl->id, strlen(pl->id)};
    p[n++] = (wb_part){".", 1};
    p[n++] = (wb_part){pl->ts, strlen(pl->ts)};
    p[n++] = (wb_part){".", 1};
    p[n++] = (wb_part){pl->body, pl->len};
    return n;
}

/* "v1,<b64> v1,<b64> v1a,<b64>": every HMAC secret, then every Ed25519 key. */
static wb_err standard_value(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = WB_OK;
    unsigned char mac[WB_SIG_MAX_MAC];
    unsigned char *msg = NULL;
    int first = 1;
    for (size_t i = 0; i < k->nhmac; i++) {
        size_t ml = 0;
        if ((err = wb_mac_hmac(k, i, pl, mac, &ml)) ||
            (err = wb_buf_adds(sk->out, first ? "v1," : " v1,")) ||
            (err = wb_sink_mac(sk, mac, ml, 1)))
            goto out;
        first = 0;
    }
    if (k->ned) {
        size_t mlen = 0;
        if (!(msg = wb_mac_message(k, pl, &mlen))) {
            err = WB_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < k->ned; i++) {
            unsigned char sig[64];
            if ((err = wb_mac_ed_sign(k->ed[i], msg, mlen, sig)) ||
                (err = wb_buf_adds(sk->out, first ? "v1a," : " v1a,")) ||
                (err = wb_sink_mac(sk, sig, 64, 1)))
                goto out;
            first = 0;
        }
    }
out:
    free(msg);
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

static wb_err standard_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = wb_sink_start(sk, "webhook-signature");
    return err ? err : standard_value(k, pl, sk);
}

static wb_err standard_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                            wb_verify_result *res)
{
    wb_err err;
    const char *v = wb_reqhdr_need(src, "webhook-id", h->idb, res);
    if (!v) return WB_ERR_SIGNATURE;
    if (!*v) {
        wb_sig_why(res->reason, sizeof(res->reason), "malformed webhook-id header");
        return WB_ERR_SIGNATURE;
    }
    if ((err = wb_reqhdr_set_id(v, strlen(v), "webhook-id", res))) return err;
    res->id_signed = 1;
    h->id = h->idb;
    if (!(h->ts = wb_reqhdr_need(src, "webhook-timestamp", h->tsb, res)) ||
        !(v = wb_reqhdr_need(src, "webhook-signature", h->sigb, res)))
        return WB_ERR_SIGNATURE;
    if ((err = wb_standard_sig_parse(v, &h->sigs, res->reason, sizeof(res->reason)))) return err;
    return wb_reqhdr_fresh_text(k, "webhook-timestamp", h->ts, now_s, res);
}

/* ------------------------------------------------------------------------------------------
 * Stripe: Stripe-Signature "t=<ts>,v1=<hex>[,v1=<hex>]"; the event id is in the body
 * ---------------------------------------------------------------------------------------- */

static size_t stripe_content(const wb_payload *pl, wb_part *p)
{
    size_t n = 0;
    p[n++] = (wb_part){pl->ts, strlen(pl->ts)};
    p[n++] = (wb_part){".", 1};
    p[n++] = (wb_part){pl->body, pl->len};
    return n;
}

/* t=..,v1=<secret 1>,v1=<secret 2>...: Stripe's own rotation form signs with every secret */
static wb_err stripe_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    unsigned char mac[WB_SIG_MAX_MAC];
    size_t ml = 0;
    wb_err err = wb_sink_start(sk, "Stripe-Signature");
    if (!err) err = wb_buf_printf(sk->out, "t=%s", pl->ts);
    for (size_t i = 0; i < k->nhmac && !err; i++) {
        if (!(err = wb_mac_hmac(k, i, pl, mac, &ml)) && !(err = wb_buf_adds(sk->out, ",v1=")))
            err = wb_sink_mac(sk, mac, ml, 0);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

static wb_err stripe_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                          wb_verify_result *res)
{
    wb_err err;
    const char *v = wb_reqhdr_need(src, "Stripe-Signature", h->sigb, res);
    if (!v) return WB_ERR_SIGNATURE;
    if ((err = wb_stripe_sig_parse(v, &h->sigs, res->reason, sizeof(res->reason)))) return err;
    if ((err = wb_reqhdr_fresh(k, h->sigs.ts, now_s, res))) return err;
    /* the timestamp is signed as the text of t=, which the parser bounded to 12 digits */
    snprintf(h->tsb, sizeof(h->tsb), "%" PRId64, h->sigs.ts);
    h->ts = h->tsb;
    res->id_signed = 1; /* the id comes from the (signed) body */
    return WB_OK;
}

/* ------------------------------------------------------------------------------------------
 * GitHub: X-Hub-Signature-256 "sha256=<hex>"; X-GitHub-Delivery is not signed
 * ---------------------------------------------------------------------------------------- */

static wb_err github_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = sign_first(k, pl, sk, "X-Hub-Signature-256", "sha256=", 0);
    if (!err && *pl->id) err = wb_sink_header(sk, "X-GitHub-Delivery", pl->id);
    return err;
}

static wb_err github_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                          wb_verify_result *res)
{
    (void)now_s; /* GitHub signs no timestamp */
    wb_err err = wb_reqhdr_id(src, "X-GitHub-Delivery", res);
    return err ? err : wb_reqhdr_prefixed(k, src, "X-Hub-Signature-256", "sha256=", 0, h, res);
}

/* ------------------------------------------------------------------------------------------
 * Shopify: X-Shopify-Hmac-Sha256 "<base64>"; the webhook (or event) id is not signed
 * ---------------------------------------------------------------------------------------- */

static wb_err shopify_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = sign_first(k, pl, sk, "X-Shopify-Hmac-Sha256", "", 1);
    if (!err && *pl->id) err = wb_sink_header(sk, "X-Shopify-Webhook-Id", pl->id);
    return err;
}

static wb_err shopify_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                           wb_verify_result *res)
{
    (void)now_s; /* Shopify signs no timestamp */
    wb_err err;
    if ((err = wb_reqhdr_id(src, "X-Shopify-Webhook-Id", res))) return err;
    if (!res->delivery_id[0] && (err = wb_reqhdr_id(src, "X-Shopify-Event-Id", res))) return err;
    return wb_reqhdr_prefixed(k, src, "X-Shopify-Hmac-Sha256", "", 1, h, res);
}

/* ------------------------------------------------------------------------------------------
 * Slack: X-Slack-Signature "v0=<hex>" of "v0:<ts>:<body>"; event_id, if any, in the body
 * ---------------------------------------------------------------------------------------- */

static size_t slack_content(const wb_payload *pl, wb_part *p)
{
    size_t n = 0;
    p[n++] = (wb_part){"v0:", 3};
    p[n++] = (wb_part){pl->ts, strlen(pl->ts)};
    p[n++] = (wb_part){":", 1};
    p[n++] = (wb_part){pl->body, pl->len};
    return n;
}

static wb_err slack_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = wb_sink_header(sk, "X-Slack-Request-Timestamp", pl->ts);
    return err ? err : sign_first(k, pl, sk, "X-Slack-Signature", "v0=", 0);
}

static wb_err slack_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                         wb_verify_result *res)
{
    wb_err err = wb_reqhdr_prefixed(k, src, "X-Slack-Signature", "v0=", 0, h, res);
    if (err) return err;
    if (!(h->ts = wb_reqhdr_need(src, "X-Slack-Request-Timestamp", h->tsb, res)))
        return WB_ERR_SIGNATURE;
    res->id_signed = 1; /* event_id, when there is one, comes from the signed body */
    return wb_reqhdr_fresh_text(k, "X-Slack-Request-Timestamp", h->ts, now_s, res);
}

/* ------------------------------------------------------------------------------------------
 * hmac: the generic scheme (wb_hmac_opts): header, prefix, hex/base64, SHA-256/512, and a
 * content template over {body}, {timestamp}, {id} (template.c)
 * ---------------------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s && *s ? wb_strdup(s) : NULL;
}

static wb_err hmac_configure(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                             size_t errstr_size)
{
    const wb_hmac_opts *o = &cfg->hmac;
    if (!o->header || !*o->header) {
        wb_sig_why(errstr, errstr_size, "hmac: header is required");
        return WB_ERR_CONFIG;
    }
    k->maclen = o->sha512 ? 64 : 32;
    k->base64 = o->base64;
    k->header = wb_strdup(o->header);
    k->prefix = wb_strdup(o->prefix ? o->prefix : "");
    k->ts_header = dup_or_null(o->timestamp_header);
    k->id_header = dup_or_null(o->id_header);
    if (!k->header || !k->prefix ||
        (o->timestamp_header && *o->timestamp_header && !k->ts_header) ||
        (o->id_header && *o->id_header && !k->id_header))
        return WB_ERR_NOMEM;
    wb_err err = wb_template_parse(k, o->content && *o->content ? o->content : "{body}", errstr,
                                   errstr_size);
    if (err) return err;
    if (!signer && k->uses_ts && !k->ts_header) {
        wb_sig_why(errstr, errstr_size, "hmac content uses {timestamp} but no timestamp_header");
        return WB_ERR_CONFIG;
    }
    if (!signer && k->uses_id && !k->id_header) {
        wb_sig_why(errstr, errstr_size, "hmac content uses {id} but no id_header");
        return WB_ERR_CONFIG;
    }
    /* A header outside the signed content can be rewritten by anyone replaying a captured
     * request: a fresh timestamp passes the freshness check, a new id passes dedupe. Both
     * directions refuse it (a partner verifying us would be as exposed). */
    if (k->ts_header && !k->uses_ts) {
        wb_sig_why(errstr, errstr_size,
                   "hmac: timestamp_header %s is not covered by the signed content; add "
                   "{timestamp} to content",
                   k->ts_header);
        return WB_ERR_CONFIG;
    }
    if (k->id_header && !k->uses_id) {
        wb_sig_why(errstr, errstr_size,
                   "hmac: id_header %s is not covered by the signed content; add {id} to "
                   "content",
                   k->id_header);
        return WB_ERR_CONFIG;
    }
    return WB_OK;
}

static wb_err hmac_sign(const wb_keyset *k, const wb_payload *pl, wb_sink *sk)
{
    wb_err err = sign_first(k, pl, sk, k->header, k->prefix, k->base64);
    if (!err && k->ts_header) err = wb_sink_header(sk, k->ts_header, pl->ts);
    if (!err && k->id_header && *pl->id) err = wb_sink_header(sk, k->id_header, pl->id);
    return err;
}

static wb_err hmac_read(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                        wb_verify_result *res)
{
    wb_err err;
    if (k->id_header) { /* configured only with {id} in the content (checked at load) */
        if ((err = wb_reqhdr_id(src, k->id_header, res))) return err;
        if (k->uses_id && !res->delivery_id[0]) {
            wb_sig_why(res->reason, sizeof(res->reason), "missing %s header", k->id_header);
            return WB_ERR_SIGNATURE;
        }
        h->id = res->delivery_id;
        res->id_signed = k->uses_id;
    }
    if ((err = wb_reqhdr_prefixed(k, src, k->header, k->prefix, k->base64, h, res))) return err;
    if (!k->ts_header) return WB_OK;
    if (!(h->ts = wb_reqhdr_need(src, k->ts_header, h->tsb, res))) return WB_ERR_SIGNATURE;
    return wb_reqhdr_fresh_text(k, k->ts_header, h->ts, now_s, res);
}

/* ------------------------------------------------------------------------------------------
 * The table
 * ---------------------------------------------------------------------------------------- */

static const wb_scheme_ops schemes[] = {
    {
        .scheme = WB_SCHEME_STANDARD,
        .name = "standard-webhooks",
        .needs_id = 1,
        .ed25519 = 1,
        .add_secret = wb_keyset_add_standard,
        .content = standard_content,
        .sign = standard_sign,
        .sign_value = standard_value,
        .read = standard_read,
    },
    {
        .scheme = WB_SCHEME_STRIPE,
        .name = "stripe",
        .body_id_key = "id",
        .body_id_field = "body field \"id\"",
        .content = stripe_content,
        .sign = stripe_sign,
        .read = stripe_read,
    },
    {
        .scheme = WB_SCHEME_GITHUB,
        .name = "github",
        .content = body_content,
        .sign = github_sign,
        .read = github_read,
    },
    {
        .scheme = WB_SCHEME_SHOPIFY,
        .name = "shopify",
        .content = body_content,
        .sign = shopify_sign,
        .read = shopify_read,
    },
    {
        .scheme = WB_SCHEME_SLACK,
        .name = "slack",
        .body_id_key = "event_id",
        .body_id_field = "body field \"event_id\"",
        .content = slack_content,
        .sign = slack_sign,
        .read = slack_read,
    },
    {
        .scheme = WB_SCHEME_HMAC,
        .name = "hmac",
        .configure = hmac_configure,
        .content = NULL, /* the configured template (template.c) */
        .sign = hmac_sign,
        .read = hmac_read,
    },
    {
        .scheme = WB_SCHEME_NONE,
        .name = "none",
        .keyless = 1, /* nothing to sign, nothing to read: every request passes */
    },
};

const wb_scheme_ops *wb_schemes_find(wb_scheme s)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (schemes[i].scheme == s) return &schemes[i];
    return NULL;
}
