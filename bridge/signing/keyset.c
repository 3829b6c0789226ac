/* keyset.c - a wb_signing config decoded once into keys and scheme settings (signing_int.h).
 *
 * Every HMAC secret becomes an EVP_MAC_CTX already initialised with its key (the ipad/opad
 * blocks are computed then); mac.c duplicates it once per thread. Micro-benchmark
 * (HMAC-SHA256, 500-byte body, OpenSSL 3.0, shared 2-core VM, best/typical of 4 runs): dup of
 * a prepared context 1.4-2.0 us; new context + EVP_MAC_init with the key 3.0-3.8 us; HMAC()
 * one-shot 3.5-4.4 us; EVP_Q_mac 3.5-4.9 us. Decoded key bytes are cleansed once the
 * contexts hold them. What differs per scheme (options, how a secret is read) comes from the
 * scheme's row (schemes.c). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "core/util.h"
#include "signing/signing_int.h"

#define DEFAULT_TOLERANCE_MS (5 * 60 * 1000)
#define MAX_SECRET           4096 /* decoded key bytes */

static _Atomic uint64_t next_gen = 1; /* wb_keyset.gen */

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

wb_err wb_keyset_add_hmac(wb_keyset *k, const unsigned char *key, size_t klen)
{
    EVP_MAC_CTX *ctx = hmac_ctx_new(key, klen, k->maclen == 64);
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

/* A whsk_ (priv) or whpk_ key from its decoded bytes raw (n of them); NULL + errstr. */
static EVP_PKEY *ed25519_key(const unsigned char *raw, long n, int priv, size_t idx, char *errstr,
                             size_t errstr_size)
{
    EVP_PKEY *pkey = NULL;
    if (priv && (n == 32 || n == 64)) {
        pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
        if (pkey && n == 64) { /* seed + public key: the halves must agree */
            unsigned char pub[32];
            size_t publen = sizeof(pub);
            if (!EVP_PKEY_get_raw_public_key(pkey, pub, &publen) ||
                !wb_ct_equal(pub, raw + 32, 32)) {
                EVP_PKEY_free(pkey);
                wb_sig_why(errstr, errstr_size,
                           "secret %zu: whsk_ key's public half does not match its seed", idx + 1);
                return NULL;
            }
        }
    } else if (!priv && n == 32) {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32);
    } else {
        wb_sig_why(errstr, errstr_size, "secret %zu: %s must be base64 of %s Ed25519 key bytes",
                   idx + 1, priv ? "whsk_" : "whpk_", priv ? "32 or 64" : "32");
        return NULL;
    }
    if (!pkey) wb_sig_why(errstr, errstr_size, "secret %zu: invalid Ed25519 key", idx + 1);
    return pkey;
}

wb_err wb_keyset_add_standard(wb_keyset *k, const char *secret, size_t idx, int signer,
                              char *errstr, size_t errstr_size)
{
    unsigned char raw[MAX_SECRET + 4]; /* wb_base64_decode may need 3 spare bytes */
    wb_err err = WB_ERR_CONFIG;
    long n;
    if (!strncmp(secret, "whsk_", 5) || !strncmp(secret, "whpk_", 5)) {
        int priv = secret[2] == 's';
        n = decode_b64_secret(secret + 5, raw);
        if (!priv && signer) {
            wb_sig_why(errstr, errstr_size, "secret %zu: a whpk_ public key cannot sign", idx + 1);
            goto out;
        }
        EVP_PKEY *pkey = ed25519_key(raw, n, priv, idx, errstr, errstr_size);
        if (!pkey) goto out;
        k->ed[k->ned++] = pkey;
        err = WB_OK;
        goto out;
    }
    /* like the official SDKs: strip whsec_ and base64-decode; a bare secret is base64 too */
    n = decode_b64_secret(strncmp(secret, "whsec_", 6) ? secret : secret + 6, raw);
    if (n <= 0) {
        wb_sig_why(errstr, errstr_size, "secret %zu: not a whsec_<base64> secret", idx + 1);
        goto out;
    }
    err = wb_keyset_add_hmac(k, raw, (size_t)n);
    if (err) wb_sig_why(errstr, errstr_size, "secret %zu: cannot prepare HMAC", idx + 1);
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return err;
}

/* Stripe, GitHub, Shopify, Slack, hmac: the secret string itself is the key. */
static wb_err add_plain_secret(wb_keyset *k, const char *secret, size_t idx, char *errstr,
                               size_t errstr_size)
{
    size_t n = strlen(secret);
    if (n > MAX_SECRET) {
        wb_sig_why(errstr, errstr_size, "secret %zu is too long", idx + 1);
        return WB_ERR_CONFIG;
    }
    wb_err err = wb_keyset_add_hmac(k, (const unsigned char *)secret, n);
    if (err) wb_sig_why(errstr, errstr_size, "secret %zu: cannot prepare HMAC", idx + 1);
    return err;
}

static wb_err keyset_init(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                          size_t errstr_size)
{
    memset(k, 0, sizeof(*k));
    k->gen = atomic_fetch_add(&next_gen, 1);
    k->scheme = cfg->scheme;
    k->insecure = cfg->insecure;
    k->tolerance_ms = cfg->tolerance_ms > 0 ? cfg->tolerance_ms : DEFAULT_TOLERANCE_MS;
    k->maclen = 32;
    const wb_scheme_ops *ops = wb_schemes_find(cfg->scheme);
    if (!ops) {
        wb_sig_why(errstr, errstr_size, "unknown signature scheme %d", (int)cfg->scheme);
        return WB_ERR_CONFIG;
    }
    k->ops = ops;
    if (ops->keyless) {
        if (!cfg->insecure) {
            wb_sig_why(errstr, errstr_size, "scheme %s requires insecure: true", ops->name);
            return WB_ERR_DENIED;
        }
        return WB_OK;
    }
    if (cfg->nsecrets == 0 || !cfg->secrets) {
        wb_sig_why(errstr, errstr_size, "no secret configured");
        return WB_ERR_CONFIG;
    }
    k->hmac = calloc(cfg->nsecrets, sizeof(*k->hmac));
    k->ed = calloc(cfg->nsecrets, sizeof(*k->ed));
    if (!k->hmac || !k->ed) return WB_ERR_NOMEM;
    wb_err err;
    if (ops->configure && (err = ops->configure(k, cfg, signer, errstr, errstr_size))) return err;
    for (size_t i = 0; i < cfg->nsecrets; i++) {
        const char *s = cfg->secrets[i];
        if (!s || !*s) {
            wb_sig_why(errstr, errstr_size, "secret %zu is empty", i + 1);
            return WB_ERR_CONFIG;
        }
        err = ops->add_secret ? ops->add_secret(k, s, i, signer, errstr, errstr_size)
                              : add_plain_secret(k, s, i, errstr, errstr_size);
        if (err) return err;
    }
    return WB_OK;
}

wb_err wb_keyset_init(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                      size_t errstr_size)
{
    wb_err err = keyset_init(k, cfg, signer, errstr, errstr_size);
    /* whatever step ran out of memory, that is what the caller is told */
    if (err == WB_ERR_NOMEM) wb_sig_why(errstr, errstr_size, "out of memory");
    return err;
}
