/* mac.c - MACs and Ed25519 signatures made with a keyset (signing_int.h).
 *
 * The prepared contexts of a keyset (keyset.c) are only read after creation, so one
 * signer/verifier may be used from several threads: each thread duplicates a context once
 * (EVP_MAC_CTX_dup) and then re-initialises its own copy for each call (mac_start).
 *
 * Signed content is fed to the MAC in parts ("id" "." "ts" "." body, from the scheme's row)
 * or template segments (template.c) so the body is never copied for HMAC; Ed25519 (pure
 * EdDSA, one-shot) needs one contiguous message. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "signing/signing_int.h"

/* ------------------------------------------------------------------------------------------
 * Per-thread working copies of the prepared contexts
 * ---------------------------------------------------------------------------------------- */

/* EVP_MAC_CTX_dup costs about a dozen allocations (HMAC, three digest contexts, provider
 * state); a context this thread already owns, re-initialised with EVP_MAC_init(ctx, NULL, 0,
 * NULL) (HMAC keeps its key and restores the precomputed inner state), costs one. Slots are
 * keyed by the keyset's generation, which is never reused (an address can be, after a reload
 * frees a verifier); least recently filled is replaced; the cache is freed when its thread
 * exits. A retired keyset's copies stay until replaced or the thread exits. */
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

/* ------------------------------------------------------------------------------------------
 * HMAC and Ed25519
 * ---------------------------------------------------------------------------------------- */

wb_err wb_mac_hmac(const wb_keyset *k, size_t i, const wb_payload *pl, unsigned char *mac,
                   size_t *maclen)
{
    wb_err err = WB_ERR_INVALID;
    int owned;
    EVP_MAC_CTX *c = mac_start(k, i, &owned);
    if (!c) return WB_ERR_NOMEM;
    if (k->ops->content) {
        wb_part parts[WB_SIG_MAX_PARTS];
        size_t np = k->ops->content(pl, parts);
        for (size_t j = 0; j < np; j++)
            if (parts[j].n && !EVP_MAC_update(c, parts[j].p, parts[j].n)) goto out;
    } else if (!wb_template_feed(k, pl, c)) { /* templates may be long: fed segment-wise */
        goto out;
    }
    if (!EVP_MAC_final(c, mac, maclen, WB_SIG_MAX_MAC)) goto out;
    err = WB_OK;
out:
    if (owned) EVP_MAC_CTX_free(c);
    return err;
}

unsigned char *wb_mac_message(const wb_keyset *k, const wb_payload *pl, size_t *len)
{
    if (!k->ops->content) return NULL;
    wb_part parts[WB_SIG_MAX_PARTS];
    size_t np = k->ops->content(pl, parts), n = 0;
    for (size_t i = 0; i < np; i++) {
        if (parts[i].n > SIZE_MAX - n - 1) return NULL;
        n += parts[i].n;
    }
    unsigned char *m = malloc(n + 1);
    if (!m) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < np; i++) {
        if (parts[i].n) memcpy(m + o, parts[i].p, parts[i].n);
        o += parts[i].n;
    }
    *len = n;
    return m;
}

wb_err wb_mac_ed_sign(EVP_PKEY *pkey, const unsigned char *msg, size_t len, unsigned char sig[64])
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

int wb_mac_ed_verify(EVP_PKEY *pkey, const unsigned char *msg, size_t len, const unsigned char *sig,
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
