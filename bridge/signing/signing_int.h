/* signing_int.h - what signing.c (keys, signer) shares with verify.c (verifier, parsers).
 * Not a public header: only those two files include it. */
#ifndef WB_SIGNING_INT_H
#define WB_SIGNING_INT_H

#include <openssl/evp.h>

#include "signing/signing.h"

enum wb_seg_kind { SEG_LIT = 0, SEG_BODY, SEG_TS, SEG_ID };

/* One piece of the generic hmac content template. */
typedef struct wb_seg {
    enum wb_seg_kind kind;
    size_t off, len; /* literal text: offset/length in wb_keyset.tmpl */
} wb_seg;

/* Decoded keys and scheme settings, immutable after wb_keyset_init. */
typedef struct wb_keyset {
    uint64_t gen; /* unique per wb_keyset_init (keys the per-thread MAC context cache) */
    wb_scheme scheme;
    int64_t tolerance_ms;
    int insecure;
    EVP_MAC_CTX **hmac; /* initialised with the key; duplicated per call, never modified */
    size_t nhmac;
    EVP_PKEY **ed; /* standard-webhooks v1a: private keys (signer) or either kind (verifier) */
    size_t ned;
    size_t maclen; /* 32 (SHA-256) or 64 (SHA-512) */
    /* scheme hmac */
    char *header, *prefix, *ts_header, *id_header, *tmpl;
    int base64;
    wb_seg *segs;
    size_t nsegs;
    int uses_ts, uses_id;
} wb_keyset;

/* A byte range of the signed content. */
typedef struct wb_part {
    const void *p;
    size_t n;
} wb_part;

#define WB_SIG_MAX_PARTS 8

/* Decode cfg's secrets into k (signer: keys that sign; verifier: keys that verify). On error
 * k may hold partial state: wb_keyset_clear it. */
wb_err wb_keyset_init(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                      size_t errstr_size);
void wb_keyset_clear(wb_keyset *k);
/* The scheme's signed content as parts (not for the hmac scheme's templates). */
size_t wb_keyset_parts(const wb_keyset *k, const char *id, const char *ts, const void *body,
                       size_t len, wb_part *p);
/* The parts copied into one malloc'd message (Ed25519 needs it whole); NULL on OOM. */
unsigned char *wb_parts_join(const wb_part *parts, size_t nparts, size_t *len);
/* HMAC of the signed content with secret i. */
wb_err wb_keyset_mac(const wb_keyset *k, size_t i, const char *id, const char *ts, const void *body,
                     size_t len, unsigned char *mac, size_t *maclen);

#endif
