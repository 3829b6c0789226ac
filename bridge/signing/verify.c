/* verify.c - inbound signature verification: the signature-header parsers, freshness, the
 * constant-time comparison and the delivery id each scheme carries (signing.h).
 *
 * Verification runs in two stages. The header stage (wb_verifier_precheck) checks all that
 * needs no body: the signature headers are present and parse, the timestamp is fresh, the
 * delivery id header is a valid header value. The listener runs it as soon as the request
 * head is in, so nothing is buffered for a request that cannot be authentic. The body stage
 * (wb_verifier_verify, which repeats the header stage: it is cheap, and the CLI calls it
 * alone) computes the MAC over the body and compares in constant time. */
#include "signing/signing.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/header_value.h"
#include "signing/signing_int.h"
#include "core/util.h"

struct wb_verifier {
    wb_keyset k;
};

/* ------------------------------------------------------------------------------------------ */
/* Parsers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void why(char *reason, size_t rsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why(char *reason, size_t rsize, const char *fmt, ...)
{
    if (!reason || !rsize) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, rsize, fmt, ap);
    va_end(ap);
}

wb_err wb_sig_timestamp_parse(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 12) return WB_ERR_INVALID;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return WB_ERR_INVALID;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return WB_OK;
}

wb_err wb_standard_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize)
{
    out->n = 0;
    out->ts = 0;
    size_t len = strlen(value);
    if (len > WB_SIG_MAX_HEADER) {
        why(reason, rsize, "webhook-signature header too long");
        return WB_ERR_SIGNATURE;
    }
    size_t tokens = 0;
    const char *p = value, *end = value + len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        if (p == end) break;
        const char *t = p;
        while (p < end && *p != ' ')
            p++;
        if (++tokens > WB_SIG_MAX_ENTRIES) {
            why(reason, rsize, "too many signatures in webhook-signature header");
            return WB_ERR_SIGNATURE;
        }
        const char *comma = memchr(t, ',', (size_t)(p - t));
        if (!comma) continue;
        size_t vlen = (size_t)(comma - t), slen = (size_t)(p - comma - 1);
        wb_sig_kind kind;
        if (vlen == 2 && !memcmp(t, "v1", 2))
            kind = WB_SIG_HMAC;
        else if (vlen == 3 && !memcmp(t, "v1a", 3))
            kind = WB_SIG_ED25519;
        else
            continue; /* unknown version: ignored, like the SDKs */
        unsigned char tmp[3 * (128 / 4) + 3];
        if (slen == 0 || slen > 128) continue;
        long n = wb_base64_decode(comma + 1, slen, tmp);
        if (n <= 0 || n > WB_SIG_MAX_MAC) continue;
        wb_sig_entry *e = &out->e[out->n++];
        e->kind = kind;
        e->len = (size_t)n;
        memcpy(e->mac, tmp, (size_t)n);
    }
    if (out->n == 0) {
        why(reason, rsize, "malformed webhook-signature header (no v1/v1a signature)");
        return WB_ERR_SIGNATURE;
    }
    return WB_OK;
}

wb_err wb_stripe_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize)
{
    out->n = 0;
    out->ts = 0;
    size_t len = strlen(value);
    if (len > WB_SIG_MAX_HEADER) {
        why(reason, rsize, "Stripe-Signature header too long");
        return WB_ERR_SIGNATURE;
    }
    int have_t = 0;
    size_t items = 0, v1 = 0;
    const char *p = value, *end = value + len;
    while (p <= end) {
        const char *item = p;
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *ie = comma ? comma : end;
        p = ie + 1;
        while (item < ie && (*item == ' ' || *item == '\t'))
            item++;
        const char *te = ie;
        while (te > item && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if (item == te) {
            if (!comma && items == 0) break; /* empty value: reported below */
            continue;                        /* tolerate "a,,b" and a trailing comma */
        }
        if (++items > 2 * WB_SIG_MAX_ENTRIES) {
            why(reason, rsize, "too many entries in Stripe-Signature header");
            return WB_ERR_SIGNATURE;
        }
        const char *eq = memchr(item, '=', (size_t)(te - item));
        if (!eq) {
            why(reason, rsize, "malformed Stripe-Signature header");
            return WB_ERR_SIGNATURE;
        }
        size_t klen = (size_t)(eq - item), vlen = (size_t)(te - eq - 1);
        const char *v = eq + 1;
        if (klen == 1 && item[0] == 't') {
            char ts[16];
            int64_t t;
            if (have_t || vlen >= sizeof(ts)) {
                why(reason, rsize, "malformed Stripe-Signature header (bad t)");
                return WB_ERR_SIGNATURE;
            }
            memcpy(ts, v, vlen);
            ts[vlen] = 0;
            if (wb_sig_timestamp_parse(ts, &t)) {
                why(reason, rsize, "malformed Stripe-Signature header (bad t)");
                return WB_ERR_SIGNATURE;
            }
            out->ts = t;
            have_t = 1;
        } else if (klen == 2 && !memcmp(item, "v1", 2)) {
            if (++v1 > WB_SIG_MAX_ENTRIES) {
                why(reason, rsize, "too many signatures in Stripe-Signature header");
                return WB_ERR_SIGNATURE;
            }
            unsigned char tmp[32];
            if (vlen != 64 || wb_hex_decode(v, 64, tmp) != 32)
                continue; /* cannot match; not fatal (Stripe compares strings) */
            wb_sig_entry *e = &out->e[out->n++];
            e->kind = WB_SIG_HMAC;
            e->len = 32;
            memcpy(e->mac, tmp, 32);
        }
        /* other keys (v0, future schemes) are ignored */
        if (!comma) break;
    }
    if (!have_t) {
        why(reason, rsize, "malformed Stripe-Signature header (no t=)");
        return WB_ERR_SIGNATURE;
    }
    if (v1 == 0) {
        why(reason, rsize, "no v1 signature in Stripe-Signature header");
        return WB_ERR_SIGNATURE;
    }
    return WB_OK;
}

wb_err wb_prefixed_sig_parse(const char *value, const char *prefix, int base64, size_t maclen,
                             wb_sig_list *out, char *reason, size_t rsize)
{
    out->n = 0;
    out->ts = 0;
    if (maclen == 0 || maclen > WB_SIG_MAX_MAC) return WB_ERR_INVALID;
    size_t len = strlen(value), pl = prefix ? strlen(prefix) : 0;
    if (len > WB_SIG_MAX_HEADER) {
        why(reason, rsize, "header too long");
        return WB_ERR_SIGNATURE;
    }
    if (len < pl || (pl && strncasecmp(value, prefix, pl))) {
        why(reason, rsize, "missing '%s' prefix", prefix);
        return WB_ERR_SIGNATURE;
    }
    const char *d = value + pl;
    size_t dl = len - pl;
    unsigned char tmp[2 * WB_SIG_MAX_MAC];
    long n = -1;
    if (base64) {
        if (dl >= 1 && dl <= 4 * ((maclen + 2) / 3)) n = wb_base64_decode(d, dl, tmp);
    } else if (dl == 2 * maclen) {
        n = wb_hex_decode(d, dl, tmp);
    }
    if (n != (long)maclen) {
        why(reason, rsize, "not a %s %zu-byte digest", base64 ? "base64" : "hex", maclen);
        return WB_ERR_SIGNATURE;
    }
    out->e[0].kind = WB_SIG_HMAC;
    out->e[0].len = maclen;
    memcpy(out->e[0].mac, tmp, maclen);
    out->n = 1;
    return WB_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Verifier                                                                                   */
/* ------------------------------------------------------------------------------------------ */

wb_verifier *wb_verifier_new(const wb_signing *cfg, char *errstr, size_t errstr_size)
{
    wb_verifier *v = calloc(1, sizeof(*v));
    if (!v) {
        if (errstr && errstr_size) snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    wb_err err = wb_keyset_init(&v->k, cfg, 0, errstr, errstr_size);
    if (err) {
        if (err == WB_ERR_NOMEM && errstr && errstr_size)
            snprintf(errstr, errstr_size, "out of memory");
        wb_verifier_free(v);
        return NULL;
    }
    return v;
}

void wb_verifier_free(wb_verifier *v)
{
    if (!v) return;
    wb_keyset_clear(&v->k);
    free(v);
}

static int ed_verify(EVP_PKEY *pkey, const unsigned char *msg, size_t len, const unsigned char *sig,
                     size_t siglen)
{
    int ok = 0;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx) return 0;
    if (EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) == 1 &&
        EVP_DigestVerify(mctx, sig, siglen, msg, len) == 1)
        ok = 1;
    EVP_MD_CTX_free(mctx);
    return ok;
}

/* What the header stage read, for the body stage. */
typedef struct reqhdrs {
    char sigb[WB_SIG_MAX_HEADER + 1], tsb[WB_SIG_MAX_HEADER + 1], idb[WB_SIG_MAX_HEADER + 1];
    const char *ts; /* timestamp text as signed ("" when the scheme has none) */
    const char *id; /* id text as signed ("" when the scheme signs none) */
    wb_sig_list sigs;
} reqhdrs;

/* Header value with surrounding blanks trimmed, copied into buf (WB_SIG_MAX_HEADER + 1).
 * Returns NULL if absent; *toolong set if longer than the bound. */
static const char *header(wb_header_get_fn get, void *ctx, const char *name, char *buf,
                          int *toolong)
{
    *toolong = 0;
    const char *v = get(ctx, name);
    if (!v) return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strnlen(v, WB_SIG_MAX_HEADER + 1);
    if (n > WB_SIG_MAX_HEADER) {
        *toolong = 1;
        return NULL;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    memcpy(buf, v, n);
    buf[n] = 0;
    return buf;
}

/* Read a required header into buf, or explain why not (reason) and return NULL. */
static const char *need(wb_header_get_fn get, void *ctx, const char *name, char *buf,
                        wb_verify_result *res)
{
    int toolong;
    const char *v = header(get, ctx, name, buf, &toolong);
    if (toolong)
        why(res->reason, sizeof(res->reason), "%s header too long", name);
    else if (!v)
        why(res->reason, sizeof(res->reason), "missing %s header", name);
    return v;
}

/* Take v as the delivery id, named `field` in errors. It becomes ce_id and a dedupe key, so
 * it must be a valid header value of at most WB_HEADER_ID_MAX bytes: else WB_ERR_INVALID
 * (the request is malformed, whatever its signature). */
static wb_err set_id(const char *v, size_t n, const char *field, wb_verify_result *res)
{
    const char *bad = wb_header_value_problem(v, n, WB_HEADER_ID_MAX);
    if (bad) {
        why(res->reason, sizeof(res->reason), "%s %s", field, bad);
        return WB_ERR_INVALID;
    }
    memcpy(res->delivery_id, v, n);
    res->delivery_id[n] = 0;
    res->id_field = field;
    return WB_OK;
}

/* An optional delivery-id header: absent is fine; too long or not a header value is not. */
static wb_err id_from_header(wb_header_get_fn get, void *ctx, const char *name,
                             wb_verify_result *res)
{
    int toolong;
    char buf[WB_SIG_MAX_HEADER + 1];
    const char *v = header(get, ctx, name, buf, &toolong);
    if (toolong) {
        why(res->reason, sizeof(res->reason), "%s header is longer than %d bytes", name,
            WB_HEADER_ID_MAX);
        return WB_ERR_INVALID;
    }
    return v && *v ? set_id(v, strlen(v), name, res) : WB_OK;
}

/* Top-level string member of a JSON body (Stripe "id", Slack "event_id"). Only called after
 * the signature verified, so an attacker cannot make us parse arbitrary JSON. A body that is
 * not JSON (Slack form posts) or has no such string simply has no id. */
static wb_err id_from_body(const void *body, size_t len, const char *key, const char *field,
                           wb_verify_result *res)
{
    json_error_t jerr;
    wb_err err = WB_OK;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (!doc) return WB_OK;
    json_t *v = json_is_object(doc) ? json_object_get(doc, key) : NULL;
    if (json_is_string(v) && json_string_length(v))
        err = set_id(json_string_value(v), json_string_length(v), field, res);
    json_decref(doc);
    return err;
}

static wb_err check_fresh(const wb_keyset *k, int64_t ts, int64_t now_s, wb_verify_result *res)
{
    res->timestamp = ts;
    int64_t d = now_s - ts; /* both bounded by the parser to < 10^12 */
    int64_t tol = k->tolerance_ms;
    char tolstr[32];
    if (tol % 1000)
        snprintf(tolstr, sizeof(tolstr), "%" PRId64 "ms", tol);
    else
        snprintf(tolstr, sizeof(tolstr), "%" PRId64 "s", tol / 1000);
    if (d > 0 && d * 1000 > tol) {
        why(res->reason, sizeof(res->reason), "timestamp too old (tolerance %s)", tolstr);
        return WB_ERR_STALE;
    }
    if (d < 0 && -d * 1000 > tol) {
        why(res->reason, sizeof(res->reason), "timestamp in the future (tolerance %s)", tolstr);
        return WB_ERR_STALE;
    }
    return WB_OK;
}

/* Timestamp header text -> checked value (malformed: WB_ERR_SIGNATURE; stale: WB_ERR_STALE). */
static wb_err fresh_header(const wb_keyset *k, const char *name, const char *tss, int64_t now_s,
                           wb_verify_result *res)
{
    int64_t ts;
    if (wb_sig_timestamp_parse(tss, &ts)) {
        why(res->reason, sizeof(res->reason), "malformed %s header", name);
        return WB_ERR_SIGNATURE;
    }
    return check_fresh(k, ts, now_s, res);
}

/* A "<prefix><digest>" signature header into h->sigs. */
static wb_err prefixed(const wb_keyset *k, wb_header_get_fn get, void *ctx, const char *name,
                       const char *prefix, int base64, reqhdrs *h, wb_verify_result *res)
{
    char sub[128];
    const char *sig = need(get, ctx, name, h->sigb, res);
    if (!sig) return WB_ERR_SIGNATURE;
    if (wb_prefixed_sig_parse(sig, prefix, base64, k->maclen, &h->sigs, sub, sizeof(sub))) {
        why(res->reason, sizeof(res->reason), "malformed %s header (%s)", name, sub);
        return WB_ERR_SIGNATURE;
    }
    return WB_OK;
}

/* The header stage: every check that needs no body (see the top of this file). */
static wb_err read_headers(const wb_keyset *k, wb_header_get_fn get, void *ctx, int64_t now_s,
                           reqhdrs *h, wb_verify_result *res)
{
    wb_err err;
    const char *v;
    h->ts = "";
    h->id = "";
    h->sigs.n = 0;
    switch (k->scheme) {
    case WB_SCHEME_NONE:
        return WB_OK;
    case WB_SCHEME_STANDARD: /* id, timestamp and body are all signed */
        if (!(v = need(get, ctx, "webhook-id", h->idb, res))) return WB_ERR_SIGNATURE;
        if (!*v) {
            why(res->reason, sizeof(res->reason), "malformed webhook-id header");
            return WB_ERR_SIGNATURE;
        }
        if ((err = set_id(v, strlen(v), "webhook-id", res))) return err;
        res->id_signed = 1;
        h->id = h->idb;
        if (!(h->ts = need(get, ctx, "webhook-timestamp", h->tsb, res)) ||
            !(v = need(get, ctx, "webhook-signature", h->sigb, res)))
            return WB_ERR_SIGNATURE;
        if ((err = wb_standard_sig_parse(v, &h->sigs, res->reason, sizeof(res->reason))))
            return err;
        return fresh_header(k, "webhook-timestamp", h->ts, now_s, res);
    case WB_SCHEME_STRIPE: /* the id comes from the (signed) body */
        if (!(v = need(get, ctx, "Stripe-Signature", h->sigb, res))) return WB_ERR_SIGNATURE;
        if ((err = wb_stripe_sig_parse(v, &h->sigs, res->reason, sizeof(res->reason)))) return err;
        if ((err = check_fresh(k, h->sigs.ts, now_s, res))) return err;
        snprintf(h->tsb, sizeof(h->tsb), "%" PRId64, h->sigs.ts);
        h->ts = h->tsb;
        res->id_signed = 1;
        return WB_OK;
    case WB_SCHEME_GITHUB: /* the delivery id header is not signed */
        if ((err = id_from_header(get, ctx, "X-GitHub-Delivery", res))) return err;
        return prefixed(k, get, ctx, "X-Hub-Signature-256", "sha256=", 0, h, res);
    case WB_SCHEME_SHOPIFY:
        if ((err = id_from_header(get, ctx, "X-Shopify-Webhook-Id", res))) return err;
        if (!res->delivery_id[0] && (err = id_from_header(get, ctx, "X-Shopify-Event-Id", res)))
            return err;
        return prefixed(k, get, ctx, "X-Shopify-Hmac-Sha256", "", 1, h, res);
    case WB_SCHEME_SLACK: /* event_id, when there is one, comes from the signed body */
        if ((err = prefixed(k, get, ctx, "X-Slack-Signature", "v0=", 0, h, res))) return err;
        if (!(h->ts = need(get, ctx, "X-Slack-Request-Timestamp", h->tsb, res)))
            return WB_ERR_SIGNATURE;
        res->id_signed = 1;
        return fresh_header(k, "X-Slack-Request-Timestamp", h->ts, now_s, res);
    case WB_SCHEME_HMAC:
        if (k->id_header) { /* configured only with {id} in the content (checked at load) */
            if ((err = id_from_header(get, ctx, k->id_header, res))) return err;
            if (k->uses_id && !res->delivery_id[0]) {
                why(res->reason, sizeof(res->reason), "missing %s header", k->id_header);
                return WB_ERR_SIGNATURE;
            }
            h->id = res->delivery_id;
            res->id_signed = k->uses_id;
        }
        if ((err = prefixed(k, get, ctx, k->header, k->prefix, k->base64, h, res))) return err;
        if (!k->ts_header) return WB_OK;
        if (!(h->ts = need(get, ctx, k->ts_header, h->tsb, res))) return WB_ERR_SIGNATURE;
        return fresh_header(k, k->ts_header, h->ts, now_s, res);
    default:
        why(res->reason, sizeof(res->reason), "unknown scheme");
        return WB_ERR_INVALID;
    }
}

/* Any HMAC secret matching any entry of sigs? The matching MAC is kept as the digest. */
static int hmac_match(const wb_keyset *k, const reqhdrs *h, const void *body, size_t len,
                      wb_verify_result *res, wb_err *err)
{
    int ok = 0;
    unsigned char mac[WB_SIG_MAX_MAC];
    for (size_t i = 0; i < k->nhmac && !ok; i++) {
        size_t ml = 0;
        if ((*err = wb_keyset_mac(k, i, h->id, h->ts, body, len, mac, &ml))) break;
        for (size_t j = 0; j < h->sigs.n && !ok; j++)
            if (h->sigs.e[j].kind == WB_SIG_HMAC && h->sigs.e[j].len == ml &&
                wb_ct_equal(h->sigs.e[j].mac, mac, ml)) {
                ok = 1;
                res->digest_len = ml < sizeof(res->digest) ? ml : sizeof(res->digest);
                memcpy(res->digest, mac, res->digest_len);
            }
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

static int ed25519_match(const wb_keyset *k, const reqhdrs *h, const void *body, size_t len,
                         wb_err *err)
{
    int have_ed = 0;
    for (size_t j = 0; j < h->sigs.n; j++)
        have_ed |= h->sigs.e[j].kind == WB_SIG_ED25519;
    if (!have_ed || !k->ned) return 0;
    wb_part parts[WB_SIG_MAX_PARTS];
    size_t np = wb_keyset_parts(k, h->id, h->ts, body, len, parts), mlen = 0;
    unsigned char *msg = wb_parts_join(parts, np, &mlen);
    if (!msg) {
        *err = WB_ERR_NOMEM;
        return 0;
    }
    int ok = 0;
    for (size_t i = 0; i < k->ned && !ok; i++)
        for (size_t j = 0; j < h->sigs.n && !ok; j++)
            if (h->sigs.e[j].kind == WB_SIG_ED25519 && h->sigs.e[j].len == 64)
                ok = ed_verify(k->ed[i], msg, mlen, h->sigs.e[j].mac, 64);
    free(msg);
    return ok;
}

static int args_ok(const wb_verifier *v, wb_header_get_fn get, wb_verify_result *res)
{
    memset(res, 0, sizeof(*res));
    if (v && get) return 1;
    why(res->reason, sizeof(res->reason), "invalid arguments");
    return 0;
}

wb_err wb_verifier_precheck(const wb_verifier *v, wb_header_get_fn get, void *ctx, int64_t now_s,
                            wb_verify_result *res)
{
    if (!res) return WB_ERR_INVALID;
    if (!args_ok(v, get, res)) return WB_ERR_INVALID;
    reqhdrs h; /* received values only: nothing secret to cleanse */
    return read_headers(&v->k, get, ctx, now_s, &h, res);
}

wb_err wb_verifier_verify(const wb_verifier *v, wb_header_get_fn get, void *ctx, const void *body,
                          size_t len, int64_t now_s, wb_verify_result *res)
{
    if (!res) return WB_ERR_INVALID;
    if (!args_ok(v, get, res) || (!body && len)) {
        why(res->reason, sizeof(res->reason), "invalid arguments");
        return WB_ERR_INVALID;
    }
    if (!body) body = "";
    const wb_keyset *k = &v->k;
    reqhdrs h;
    wb_err err = read_headers(k, get, ctx, now_s, &h, res);
    if (err || k->scheme == WB_SCHEME_NONE) return err;
    if (hmac_match(k, &h, body, len, res, &err) ||
        (!err && k->scheme == WB_SCHEME_STANDARD && ed25519_match(k, &h, body, len, &err))) {
        if (k->scheme == WB_SCHEME_STRIPE)
            err = id_from_body(body, len, "id", "body field \"id\"", res);
        else if (k->scheme == WB_SCHEME_SLACK)
            err = id_from_body(body, len, "event_id", "body field \"event_id\"", res);
        return err;
    }
    why(res->reason, sizeof(res->reason), "%s",
        err ? "internal error while verifying" : "no signature matched");
    return err ? err : WB_ERR_SIGNATURE;
}
