/* signing.c - webhook signature schemes: sign (outbound) and verify (inbound).
 *
 * Keys are decoded once in *_new. Every HMAC secret becomes an EVP_MAC_CTX already
 * initialised with its key (the ipad/opad blocks are computed then); a thread duplicates it
 * once (EVP_MAC_CTX_dup) and then re-initialises its own copy for each call (mac_start).
 * Micro-benchmark (HMAC-SHA256, 500-byte body, OpenSSL 3.0, shared 2-core VM, best/typical of
 * 4 runs): dup of a prepared context 1.4-2.0 us; new context + EVP_MAC_init with the key
 * 3.0-3.8 us; HMAC() one-shot 3.5-4.4 us; EVP_Q_mac 3.5-4.9 us; the thread's own copy
 * re-initialised: see verify_bench in the report of this change. The prepared contexts are
 * only read after creation, so one signer/verifier may be used from several threads.
 *
 * Signed content is fed to the MAC in parts ("id" "." "ts" "." body) so the body is never
 * copied for HMAC; Ed25519 (pure EdDSA, one-shot) needs one contiguous message. */
#include "signing/signing.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "http/http.h"
#include "signing/signing_int.h"
#include "core/util.h"

#define DEFAULT_TOLERANCE_MS (5 * 60 * 1000)
#define MAX_SECRET           4096 /* decoded key bytes */

struct wb_signer {
    wb_keyset k;
};

static _Atomic uint64_t next_gen = 1; /* wb_keyset.gen */

/* ------------------------------------------------------------------------------------------ */
/* Key material shared by signer and verifier (verify.c)                                      */
/* ------------------------------------------------------------------------------------------ */

static void seterr(char *errstr, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *errstr, size_t n, const char *fmt, ...)
{
    if (!errstr || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, n, fmt, ap);
    va_end(ap);
}

void wb_keyset_clear(wb_keyset *k)
{
    for (size_t i = 0; i < k->nhmac; i++)
        EVP_MAC_CTX_free(k->hmac[i]);
    free(k->hmac);
    for (size_t i = 0; i < k->ned; i++)
        EVP_PKEY_free(k->ed[i]);
    free(k->ed);
    free(k->header);
    free(k->prefix);
    free(k->ts_header);
    free(k->id_header);
    free(k->tmpl);
    free(k->segs);
    memset(k, 0, sizeof(*k));
}

static EVP_MAC_CTX *hmac_ctx_new(const unsigned char *key, size_t klen, int sha512)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (!ctx) return NULL;
    char digest[8];
    snprintf(digest, sizeof(digest), "%s", sha512 ? "SHA512" : "SHA256");
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(ctx, key, klen, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static wb_err add_hmac(wb_keyset *k, const unsigned char *key, size_t klen, int sha512)
{
    EVP_MAC_CTX *ctx = hmac_ctx_new(key, klen, sha512);
    if (!ctx) return WB_ERR_NOMEM;
    k->hmac[k->nhmac++] = ctx;
    return WB_OK;
}

/* Decode the base64 text after a "whsec_"/"whsk_"/"whpk_" prefix into out (MAX_SECRET). */
static long decode_b64_secret(const char *s, unsigned char *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > (MAX_SECRET / 3) * 4) return -1;
    return wb_base64_decode(s, n, out);
}

/* Standard Webhooks secret: whsec_ (or bare base64) HMAC key, whsk_ Ed25519 private key,
 * whpk_ Ed25519 public key (verifier only). */
static wb_err add_standard_secret(wb_keyset *k, const char *secret, size_t idx, int signer,
                                  char *errstr, size_t errstr_size)
{
    unsigned char raw[MAX_SECRET + 4]; /* wb_base64_decode may need 3 spare bytes */
    wb_err err = WB_ERR_CONFIG;
    long n;
    if (!strncmp(secret, "whsk_", 5) || !strncmp(secret, "whpk_", 5)) {
        int priv = secret[2] == 's';
        n = decode_b64_secret(secret + 5, raw);
        if (!priv && signer) {
            seterr(errstr, errstr_size, "secret %zu: a whpk_ public key cannot sign", idx + 1);
            goto out;
        }
        EVP_PKEY *pkey = NULL;
        if (priv && (n == 32 || n == 64)) {
            pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
            if (pkey && n == 64) { /* seed + public key: the halves must agree */
                unsigned char pub[32];
                size_t publen = sizeof(pub);
                if (!EVP_PKEY_get_raw_public_key(pkey, pub, &publen) ||
                    !wb_ct_equal(pub, raw + 32, 32)) {
                    EVP_PKEY_free(pkey);
                    seterr(errstr, errstr_size,
                           "secret %zu: whsk_ key's public half does not match its seed", idx + 1);
                    goto out;
                }
            }
        } else if (!priv && n == 32) {
            pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
        } else {
            seterr(errstr, errstr_size, "secret %zu: %s must be base64 of %s Ed25519 key bytes",
                   idx + 1, priv ? "whsk_" : "whpk_", priv ? "32 or 64" : "32");
            goto out;
        }
        if (!pkey) {
            seterr(errstr, errstr_size, "secret %zu: invalid Ed25519 key", idx + 1);
            goto out;
        }
        k->ed[k->ned++] = pkey;
        err = WB_OK;
        goto out;
    }
    /* like the official SDKs: strip whsec_ and base64-decode; a bare secret is base64 too */
    n = decode_b64_secret(strncmp(secret, "whsec_", 6) ? secret : secret + 6, raw);
    if (n <= 0) {
        seterr(errstr, errstr_size, "secret %zu: not a whsec_<base64> secret", idx + 1);
        goto out;
    }
    err = add_hmac(k, raw, (size_t)n, 0);
    if (err) seterr(errstr, errstr_size, "secret %zu: cannot prepare HMAC", idx + 1);
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return err;
}

/* Split the hmac content template into literal / placeholder segments. */
static wb_err parse_template(wb_keyset *k, const char *t, char *errstr, size_t errstr_size)
{
    size_t len = strlen(t);
    k->tmpl = wb_strdup(t);
    k->segs = calloc(len + 1, sizeof(wb_seg));
    if (!k->tmpl || !k->segs) return WB_ERR_NOMEM;
    static const struct {
        const char *name;
        enum wb_seg_kind kind;
    } ph[] = {{"{body}", SEG_BODY}, {"{timestamp}", SEG_TS}, {"{id}", SEG_ID}};
    size_t i = 0;
    while (i < len) {
        int matched = 0;
        if (t[i] == '{') {
            for (size_t j = 0; j < sizeof(ph) / sizeof(ph[0]); j++) {
                size_t pl = strlen(ph[j].name);
                if (!strncmp(t + i, ph[j].name, pl)) {
                    k->segs[k->nsegs++] = (wb_seg){ph[j].kind, 0, 0};
                    k->uses_ts |= ph[j].kind == SEG_TS;
                    k->uses_id |= ph[j].kind == SEG_ID;
                    i += pl;
                    matched = 1;
                    break;
                }
            }
            if (!matched) { /* "{word}" that is not a known placeholder: surely a typo */
                size_t e = i + 1;
                while (e < len && (islower((unsigned char)t[e]) || t[e] == '_'))
                    e++;
                if (e > i + 1 && e < len && t[e] == '}') {
                    seterr(errstr, errstr_size,
                           "hmac content: unknown placeholder '%.*s' (use {body}, "
                           "{timestamp}, {id})",
                           (int)(e - i + 1), t + i);
                    return WB_ERR_CONFIG;
                }
            }
        }
        if (matched) continue;
        if (k->nsegs && k->segs[k->nsegs - 1].kind == SEG_LIT)
            k->segs[k->nsegs - 1].len++;
        else
            k->segs[k->nsegs++] = (wb_seg){SEG_LIT, i, 1};
        i++;
    }
    return WB_OK;
}

wb_err wb_keyset_init(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                      size_t errstr_size)
{
    wb_err err = WB_OK;
    memset(k, 0, sizeof(*k));
    k->gen = atomic_fetch_add(&next_gen, 1);
    k->scheme = cfg->scheme;
    k->insecure = cfg->insecure;
    k->tolerance_ms = cfg->tolerance_ms > 0 ? cfg->tolerance_ms : DEFAULT_TOLERANCE_MS;
    k->maclen = 32;
    if (cfg->scheme == WB_SCHEME_NONE) {
        if (!cfg->insecure) {
            seterr(errstr, errstr_size, "scheme none requires insecure: true");
            return WB_ERR_DENIED;
        }
        return WB_OK;
    }
    if (cfg->scheme < WB_SCHEME_STANDARD || cfg->scheme > WB_SCHEME_HMAC) {
        seterr(errstr, errstr_size, "unknown signature scheme %d", (int)cfg->scheme);
        return WB_ERR_CONFIG;
    }
    if (cfg->nsecrets == 0 || !cfg->secrets) {
        seterr(errstr, errstr_size, "no secret configured");
        return WB_ERR_CONFIG;
    }
    k->hmac = calloc(cfg->nsecrets, sizeof(*k->hmac));
    k->ed = calloc(cfg->nsecrets, sizeof(*k->ed));
    if (!k->hmac || !k->ed) return WB_ERR_NOMEM;
    if (cfg->scheme == WB_SCHEME_HMAC) {
        const wb_hmac_opts *o = &cfg->hmac;
        if (!o->header || !*o->header) {
            seterr(errstr, errstr_size, "hmac: header is required");
            return WB_ERR_CONFIG;
        }
        k->maclen = o->sha512 ? 64 : 32;
        k->base64 = o->base64;
        k->header = wb_strdup(o->header);
        k->prefix = wb_strdup(o->prefix ? o->prefix : "");
        k->ts_header =
            o->timestamp_header && *o->timestamp_header ? wb_strdup(o->timestamp_header) : NULL;
        k->id_header = o->id_header && *o->id_header ? wb_strdup(o->id_header) : NULL;
        if (!k->header || !k->prefix ||
            (o->timestamp_header && *o->timestamp_header && !k->ts_header) ||
            (o->id_header && *o->id_header && !k->id_header))
            return WB_ERR_NOMEM;
        err = parse_template(k, o->content && *o->content ? o->content : "{body}", errstr,
                             errstr_size);
        if (err) return err;
        if (!signer && k->uses_ts && !k->ts_header) {
            seterr(errstr, errstr_size, "hmac content uses {timestamp} but no timestamp_header");
            return WB_ERR_CONFIG;
        }
        if (!signer && k->uses_id && !k->id_header) {
            seterr(errstr, errstr_size, "hmac content uses {id} but no id_header");
            return WB_ERR_CONFIG;
        }
        /* A header outside the signed content can be rewritten by anyone replaying a
         * captured request: a fresh timestamp passes the freshness check, a new id passes
         * dedupe. Both directions refuse it (a partner verifying us would be as exposed). */
        if (k->ts_header && !k->uses_ts) {
            seterr(errstr, errstr_size,
                   "hmac: timestamp_header %s is not covered by the signed content; add "
                   "{timestamp} to content",
                   k->ts_header);
            return WB_ERR_CONFIG;
        }
        if (k->id_header && !k->uses_id) {
            seterr(errstr, errstr_size,
                   "hmac: id_header %s is not covered by the signed content; add {id} to "
                   "content",
                   k->id_header);
            return WB_ERR_CONFIG;
        }
    }
    for (size_t i = 0; i < cfg->nsecrets; i++) {
        const char *s = cfg->secrets[i];
        if (!s || !*s) {
            seterr(errstr, errstr_size, "secret %zu is empty", i + 1);
            return WB_ERR_CONFIG;
        }
        if (cfg->scheme == WB_SCHEME_STANDARD) {
            err = add_standard_secret(k, s, i, signer, errstr, errstr_size);
        } else {
            /* Stripe, GitHub, Shopify, Slack, hmac: the secret string itself is the key */
            size_t n = strlen(s);
            if (n > MAX_SECRET) {
                seterr(errstr, errstr_size, "secret %zu is too long", i + 1);
                return WB_ERR_CONFIG;
            }
            err = add_hmac(k, (const unsigned char *)s, n, k->maclen == 64);
            if (err) seterr(errstr, errstr_size, "secret %zu: cannot prepare HMAC", i + 1);
        }
        if (err) return err;
    }
    return WB_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Primitives                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Per-thread working copies of the prepared contexts. EVP_MAC_CTX_dup costs about a dozen
 * allocations (HMAC, three digest contexts, provider state); a context this thread already
 * owns, re-initialised with EVP_MAC_init(ctx, NULL, 0, NULL) (HMAC keeps its key and restores
 * the precomputed inner state), costs one. Slots are keyed by the keyset's generation, which
 * is never reused (an address can be, after a reload frees a verifier); least recently
 * filled is replaced; the cache is freed when its thread exits. A retired keyset's copies
 * stay until replaced or the thread exits. */
#define MAC_SLOTS 16
typedef struct mac_slot {
    uint64_t gen;
    size_t idx;
    EVP_MAC_CTX *ctx;
} mac_slot;
typedef struct mac_cache {
    mac_slot s[MAC_SLOTS];
    unsigned next;
} mac_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ok;

static void cache_free(void *p)
{
    mac_cache *c = p;
    for (size_t i = 0; i < MAC_SLOTS; i++)
        EVP_MAC_CTX_free(c->s[i].ctx);
    free(c);
}

static void cache_init(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/* A context for secret i of k, at its keyed start state. *owned: the caller frees it. */
static EVP_MAC_CTX *mac_start(const wb_keyset *k, size_t i, int *owned)
{
    pthread_once(&cache_once, cache_init);
    mac_cache *c = cache_ok ? pthread_getspecific(cache_key) : NULL;
    if (cache_ok && !c && (c = calloc(1, sizeof(*c))) && pthread_setspecific(cache_key, c)) {
        free(c);
        c = NULL;
    }
    *owned = 0;
    for (size_t j = 0; c && j < MAC_SLOTS; j++) {
        mac_slot *sl = &c->s[j];
        if (!sl->ctx || sl->gen != k->gen || sl->idx != i) continue;
        if (EVP_MAC_init(sl->ctx, NULL, 0, NULL)) return sl->ctx;
        EVP_MAC_CTX_free(sl->ctx); /* cannot be reset: start over */
        sl->ctx = NULL;
        break;
    }
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(k->hmac[i]);
    if (!ctx || !c) {
        *owned = ctx != NULL;
        return ctx;
    }
    mac_slot *sl = &c->s[c->next++ % MAC_SLOTS];
    EVP_MAC_CTX_free(sl->ctx);
    *sl = (mac_slot){k->gen, i, ctx};
    return ctx;
}

/* HMAC of the concatenated parts with secret i. */
static wb_err hmac_parts(const wb_keyset *k, size_t idx, const wb_part *parts, size_t nparts,
                         unsigned char *out, size_t outsize, size_t *outlen)
{
    wb_err err = WB_ERR_INVALID;
    int owned;
    EVP_MAC_CTX *c = mac_start(k, idx, &owned);
    if (!c) return WB_ERR_NOMEM;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].n && !EVP_MAC_update(c, parts[i].p, parts[i].n)) goto out;
    if (!EVP_MAC_final(c, out, outlen, outsize)) goto out;
    err = WB_OK;
out:
    if (owned) EVP_MAC_CTX_free(c);
    return err;
}

unsigned char *wb_parts_join(const wb_part *parts, size_t nparts, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n > SIZE_MAX - n - 1) return NULL;
        n += parts[i].n;
    }
    unsigned char *m = malloc(n + 1);
    if (!m) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n) memcpy(m + o, parts[i].p, parts[i].n);
        o += parts[i].n;
    }
    *len = n;
    return m;
}

static wb_err ed_sign(EVP_PKEY *pkey, const unsigned char *msg, size_t len, unsigned char sig[64])
{
    wb_err err = WB_ERR_INVALID;
    size_t siglen = 64;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx) return WB_ERR_NOMEM;
    if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, pkey) == 1 &&
        EVP_DigestSign(mctx, sig, &siglen, msg, len) == 1 && siglen == 64)
        err = WB_OK;
    EVP_MD_CTX_free(mctx);
    return err;
}

/* Parts of the signed content for k's scheme. ts is the decimal timestamp text. */
size_t wb_keyset_parts(const wb_keyset *k, const char *id, const char *ts, const void *body,
                       size_t len, wb_part *p)
{
    size_t n = 0;
    switch (k->scheme) {
    case WB_SCHEME_STANDARD:
        p[n++] = (wb_part){id, strlen(id)};
        p[n++] = (wb_part){".", 1};
        p[n++] = (wb_part){ts, strlen(ts)};
        p[n++] = (wb_part){".", 1};
        p[n++] = (wb_part){body, len};
        break;
    case WB_SCHEME_STRIPE:
        p[n++] = (wb_part){ts, strlen(ts)};
        p[n++] = (wb_part){".", 1};
        p[n++] = (wb_part){body, len};
        break;
    case WB_SCHEME_SLACK:
        p[n++] = (wb_part){"v0:", 3};
        p[n++] = (wb_part){ts, strlen(ts)};
        p[n++] = (wb_part){":", 1};
        p[n++] = (wb_part){body, len};
        break;
    case WB_SCHEME_HMAC:
        /* templates may be long; hmac_template() handles them, this is never reached */
        break;
    default:
        p[n++] = (wb_part){body, len};
        break;
    }
    return n;
}

/* HMAC for the generic scheme: segments fed one at a time. */
static wb_err hmac_template(const wb_keyset *k, size_t idx, const char *id, const char *ts,
                            const void *body, size_t len, unsigned char *out, size_t *outlen)
{
    wb_err err = WB_ERR_INVALID;
    int owned;
    EVP_MAC_CTX *c = mac_start(k, idx, &owned);
    if (!c) return WB_ERR_NOMEM;
    for (size_t i = 0; i < k->nsegs; i++) {
        const void *p = NULL;
        size_t n = 0;
        switch (k->segs[i].kind) {
        case SEG_LIT:
            p = k->tmpl + k->segs[i].off;
            n = k->segs[i].len;
            break;
        case SEG_BODY:
            p = body;
            n = len;
            break;
        case SEG_TS:
            p = ts;
            n = strlen(ts);
            break;
        case SEG_ID:
            p = id;
            n = strlen(id);
            break;
        }
        if (n && !EVP_MAC_update(c, p, n)) goto out;
    }
    if (!EVP_MAC_final(c, out, outlen, WB_SIG_MAX_MAC)) goto out;
    err = WB_OK;
out:
    if (owned) EVP_MAC_CTX_free(c);
    return err;
}

wb_err wb_keyset_mac(const wb_keyset *k, size_t i, const char *id, const char *ts, const void *body,
                     size_t len, unsigned char *mac, size_t *maclen)
{
    if (k->scheme == WB_SCHEME_HMAC) return hmac_template(k, i, id, ts, body, len, mac, maclen);
    wb_part parts[WB_SIG_MAX_PARTS];
    size_t np = wb_keyset_parts(k, id, ts, body, len, parts);
    return hmac_parts(k, i, parts, np, mac, WB_SIG_MAX_MAC, maclen);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsers                                                                                    */
/* ------------------------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------------------------ */
/* Signer                                                                                     */
/* ------------------------------------------------------------------------------------------ */

wb_signer *wb_signer_new(const wb_signing *cfg, char *errstr, size_t errstr_size)
{
    wb_signer *s = calloc(1, sizeof(*s));
    if (!s) {
        seterr(errstr, errstr_size, "out of memory");
        return NULL;
    }
    wb_err err = wb_keyset_init(&s->k, cfg, 1, errstr, errstr_size);
    if (err) {
        if (err == WB_ERR_NOMEM) seterr(errstr, errstr_size, "out of memory");
        wb_signer_free(s);
        return NULL;
    }
    return s;
}

void wb_signer_free(wb_signer *s)
{
    if (!s) return;
    wb_keyset_clear(&s->k);
    free(s);
}

static wb_err encode_add(wb_buf *out, const unsigned char *mac, size_t n, int base64)
{
    char enc[2 * WB_SIG_MAX_MAC + 4];
    size_t el = base64 ? wb_base64_encode(mac, n, enc) : wb_hex_encode(mac, n, enc);
    return wb_buf_add(out, enc, el);
}

/* "v1,<b64> v1,<b64> v1a,<b64>": every HMAC secret, then every Ed25519 key. */
static wb_err standard_value(const wb_keyset *k, const char *id, const char *ts, const void *body,
                             size_t len, wb_buf *out)
{
    wb_err err = WB_OK;
    unsigned char mac[WB_SIG_MAX_MAC];
    unsigned char *msg = NULL;
    int first = 1;
    for (size_t i = 0; i < k->nhmac; i++) {
        size_t ml = 0;
        if ((err = wb_keyset_mac(k, i, id, ts, body, len, mac, &ml)) ||
            (err = wb_buf_adds(out, first ? "v1," : " v1,")) || (err = encode_add(out, mac, ml, 1)))
            goto out;
        first = 0;
    }
    if (k->ned) {
        wb_part parts[WB_SIG_MAX_PARTS];
        size_t np = wb_keyset_parts(k, id, ts, body, len, parts), mlen = 0;
        msg = wb_parts_join(parts, np, &mlen);
        if (!msg) {
            err = WB_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < k->ned; i++) {
            unsigned char sig[64];
            if ((err = ed_sign(k->ed[i], msg, mlen, sig)) ||
                (err = wb_buf_adds(out, first ? "v1a," : " v1a,")) ||
                (err = encode_add(out, sig, 64, 1)))
                goto out;
            first = 0;
        }
    }
out:
    free(msg);
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

wb_err wb_signer_signature(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                           size_t len, wb_buf *out)
{
    if (!s || !out || s->k.scheme != WB_SCHEME_STANDARD || !id || ts_s < 0 || (!body && len))
        return WB_ERR_INVALID;
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ts_s);
    size_t mark = out->len;
    wb_err err = standard_value(&s->k, id, ts, body ? body : "", len, out);
    if (err && out->data) { /* leave out as it was */
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

/* Where the signer's headers go: "Name: value" text lines separated by "\n" (the text form,
 * for `webhook-bridge sign`), or typed "name\0value\0" pairs that become wb_http_header
 * entries (the outbound engine: nothing is split on newlines again). */
typedef struct sink {
    wb_buf *out;
    int typed;
    int open; /* typed: a value is being written and needs its NUL */
} sink;

/* Start the header `name` on the sink; its value is then appended to sk->out. */
static wb_err line_start(sink *sk, const char *name)
{
    wb_buf *out = sk->out;
    wb_err err = WB_OK;
    if (sk->typed) {
        if (sk->open) err = wb_buf_add(out, "", 1);
        if (!err) err = wb_buf_add(out, name, strlen(name) + 1);
        sk->open = 1;
        return err;
    }
    if (out->len && out->data[out->len - 1] != '\n') err = wb_buf_adds(out, "\n");
    if (!err) err = wb_buf_adds(out, name);
    if (!err) err = wb_buf_adds(out, ": ");
    return err;
}

static wb_err line_finish(sink *sk)
{
    if (!sk->typed || !sk->open) return WB_OK;
    sk->open = 0;
    return wb_buf_add(sk->out, "", 1);
}

/* The signature headers of every scheme, onto sk. On error sk->out is left as it was. */
static wb_err sign_to(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                      size_t len, sink *sk)
{
    wb_buf *out = sk->out;
    if (!s || !out || ts_s < 0 || (!body && len)) return WB_ERR_INVALID;
    const wb_keyset *k = &s->k;
    if (!id) id = "";
    if (!body) body = "";
    if (k->scheme == WB_SCHEME_STANDARD && !*id)
        return WB_ERR_INVALID; /* the id is part of the signed content */
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ts_s);
    unsigned char mac[WB_SIG_MAX_MAC];
    size_t ml = 0, mark = out->len;
    wb_err err = WB_OK;
    switch (k->scheme) {
    case WB_SCHEME_NONE:
        break;
    case WB_SCHEME_STANDARD:
        if (!(err = line_start(sk, "webhook-signature")))
            err = standard_value(k, id, ts, body, len, out);
        break;
    case WB_SCHEME_STRIPE: /* t=..,v1=<secret 1>,v1=<secret 2>... */
        if ((err = line_start(sk, "Stripe-Signature")) || (err = wb_buf_printf(out, "t=%s", ts)))
            break;
        for (size_t i = 0; i < k->nhmac && !err; i++) {
            if (!(err = wb_keyset_mac(k, i, id, ts, body, len, mac, &ml)) &&
                !(err = wb_buf_adds(out, ",v1=")))
                err = encode_add(out, mac, ml, 0);
        }
        break;
    /* The single-value schemes below carry one signature: the first (current) secret signs;
     * older secrets only matter to a verifier during rotation. */
    case WB_SCHEME_GITHUB:
        if (!(err = wb_keyset_mac(k, 0, id, ts, body, len, mac, &ml)) &&
            !(err = line_start(sk, "X-Hub-Signature-256")) &&
            !(err = wb_buf_adds(out, "sha256=")) && !(err = encode_add(out, mac, ml, 0)) && *id &&
            !(err = line_start(sk, "X-GitHub-Delivery")))
            err = wb_buf_adds(out, id);
        break;
    case WB_SCHEME_SHOPIFY:
        if (!(err = wb_keyset_mac(k, 0, id, ts, body, len, mac, &ml)) &&
            !(err = line_start(sk, "X-Shopify-Hmac-Sha256")) &&
            !(err = encode_add(out, mac, ml, 1)) && *id &&
            !(err = line_start(sk, "X-Shopify-Webhook-Id")))
            err = wb_buf_adds(out, id);
        break;
    case WB_SCHEME_SLACK:
        if (!(err = wb_keyset_mac(k, 0, id, ts, body, len, mac, &ml)) &&
            !(err = line_start(sk, "X-Slack-Request-Timestamp")) && !(err = wb_buf_adds(out, ts)) &&
            !(err = line_start(sk, "X-Slack-Signature")) && !(err = wb_buf_adds(out, "v0=")))
            err = encode_add(out, mac, ml, 0);
        break;
    case WB_SCHEME_HMAC:
        if ((err = wb_keyset_mac(k, 0, id, ts, body, len, mac, &ml)) ||
            (err = line_start(sk, k->header)) || (err = wb_buf_adds(out, k->prefix)) ||
            (err = encode_add(out, mac, ml, k->base64)))
            break;
        if (k->ts_header && (err = line_start(sk, k->ts_header)) == WB_OK)
            err = wb_buf_adds(out, ts);
        if (!err && k->id_header && *id && (err = line_start(sk, k->id_header)) == WB_OK)
            err = wb_buf_adds(out, id);
        break;
    default:
        err = WB_ERR_INVALID;
    }
    if (!err) err = line_finish(sk);
    OPENSSL_cleanse(mac, sizeof(mac));
    if (err && out->data) { /* leave out as it was */
        out->len = mark;
        out->data[mark] = 0;
    }
    return err;
}

wb_err wb_signer_sign(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                      size_t len, wb_buf *out)
{
    sink sk = {.out = out, .typed = 0, .open = 0};
    return sign_to(s, id, ts_s, body, len, &sk);
}

wb_err wb_signer_sign_headers(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                              size_t len, struct wb_http_header *out, size_t max, size_t *n,
                              wb_buf *storage)
{
    if (!out || !n || !storage) return WB_ERR_INVALID;
    size_t mark = storage->len;
    sink sk = {.out = storage, .typed = 1, .open = 0};
    wb_err err = sign_to(s, id, ts_s, body, len, &sk);
    if (err) return err;
    /* The pairs are complete: only now take pointers (the buffer no longer moves). */
    size_t k = 0;
    const char *p = storage->data ? storage->data + mark : NULL, *end = p + (storage->len - mark);
    while (p && p < end) {
        if (k == max) {
            storage->len = mark;
            storage->data[mark] = 0;
            return WB_ERR_TOO_LARGE;
        }
        out[k].name = p;
        p += strlen(p) + 1;
        out[k].value = p;
        p += strlen(p) + 1;
        k++;
    }
    *n = k;
    return WB_OK;
}
