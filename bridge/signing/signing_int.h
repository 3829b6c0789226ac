/* signing_int.h - what the files of the signing module share. Not a public header: only
 * bridge/signing/ includes it.
 *
 *   schemes.c    the table of schemes: one row of operations per scheme (wb_scheme_ops)
 *   keyset.c     a wb_signing config decoded into keys and scheme settings (wb_keyset)
 *   template.c   the generic hmac scheme's content template ("{timestamp}.{body}")
 *   mac.c        MACs and Ed25519 signatures made with a keyset (per-thread MAC contexts)
 *   sig_parse.c  the signature-header parsers of signing.h
 *   sink.c       where the signer's headers go: text lines or typed (name, value) pairs
 *   reqhdr.c     the verifier's bounded, checked reads of request headers
 *   signing.c    the signer (signing.h), dispatching through the scheme's row
 *   verify.c     the verifier (signing.h), dispatching through the scheme's row
 *
 * Thread: a wb_keyset and the table are immutable once built; every function here may run on
 * several threads at once (mac.c keeps its working MAC contexts per thread). */
#ifndef WB_SIGNING_INT_H
#define WB_SIGNING_INT_H

#include <openssl/evp.h>

#include "signing/signing.h"

/* printf into an error or reason buffer (sig_parse.c; buf NULL or n 0: nothing). */
void wb_sig_why(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------------------------
 * Keys (keyset.c, template.c)
 * ---------------------------------------------------------------------------------------- */

enum wb_seg_kind { SEG_LIT = 0, SEG_BODY, SEG_TS, SEG_ID };

/* One piece of the generic hmac content template. */
typedef struct wb_seg {
    enum wb_seg_kind kind;
    size_t off, len; /* literal text: offset/length in wb_keyset.tmpl */
} wb_seg;

typedef struct wb_scheme_ops wb_scheme_ops;

/* Decoded keys and scheme settings, immutable after wb_keyset_init. */
typedef struct wb_keyset {
    uint64_t gen; /* unique per wb_keyset_init (keys the per-thread MAC context cache) */
    wb_scheme scheme;
    const wb_scheme_ops *ops; /* the scheme's row (schemes.c), never NULL once initialised */
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

/* Decode cfg's secrets into k (signer: keys that sign; verifier: keys that verify) through
 * the scheme's row. On error errstr says why ("out of memory" for WB_ERR_NOMEM) and k may
 * hold partial state: wb_keyset_clear it. Main thread (configuration time). */
wb_err wb_keyset_init(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                      size_t errstr_size);
/* Free what k holds (keys are cleansed by OpenSSL) and zero it. */
void wb_keyset_clear(wb_keyset *k);
/* Add an HMAC key (copied into a prepared context). WB_ERR_NOMEM on failure. */
wb_err wb_keyset_add_hmac(wb_keyset *k, const unsigned char *key, size_t klen);
/* A Standard Webhooks secret (the standard row's add_secret): whsec_<base64> (or bare
 * base64) HMAC key, whsk_ Ed25519 private key, whpk_ Ed25519 public key (verifier only). idx
 * numbers the secret in errors. */
wb_err wb_keyset_add_standard(wb_keyset *k, const char *secret, size_t idx, int signer,
                              char *errstr, size_t errstr_size);

/* Split the content template t into k->segs (copied into k->tmpl); sets uses_ts/uses_id.
 * WB_ERR_CONFIG + errstr on an unknown "{placeholder}", WB_ERR_NOMEM. */
wb_err wb_template_parse(wb_keyset *k, const char *t, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------------------------------
 * Signed content and MACs (mac.c, template.c)
 * ---------------------------------------------------------------------------------------- */

/* What one request signs: id and ts are text ("" when the scheme has none), body borrowed. */
typedef struct wb_payload {
    const char *id;
    const char *ts;
    const void *body;
    size_t len;
} wb_payload;

/* A byte range of the signed content. */
typedef struct wb_part {
    const void *p;
    size_t n;
} wb_part;

#define WB_SIG_MAX_PARTS 8

/* HMAC of pl's signed content (the row's content parts, or k's template) with secret i into
 * mac (WB_SIG_MAX_MAC bytes); *maclen set. */
wb_err wb_mac_hmac(const wb_keyset *k, size_t i, const wb_payload *pl, unsigned char *mac,
                   size_t *maclen);
/* The signed content copied into one malloc'd message (Ed25519 signs it whole); the caller
 * frees. NULL when out of memory or the scheme has no content parts. */
unsigned char *wb_mac_message(const wb_keyset *k, const wb_payload *pl, size_t *len);
/* Ed25519 signature of msg with private key pkey into sig. */
wb_err wb_mac_ed_sign(EVP_PKEY *pkey, const unsigned char *msg, size_t len, unsigned char sig[64]);
/* 1 when sig is a valid Ed25519 signature of msg by pkey (either kind of key). */
int wb_mac_ed_verify(EVP_PKEY *pkey, const unsigned char *msg, size_t len, const unsigned char *sig,
                     size_t siglen);
/* Feed pl as k's content template to c (template.c). 0 on failure. */
int wb_template_feed(const wb_keyset *k, const wb_payload *pl, EVP_MAC_CTX *c);

/* ------------------------------------------------------------------------------------------
 * The signer's output (sink.c)
 * ---------------------------------------------------------------------------------------- */

/* Where the signer's headers go: "Name: value" text lines separated by "\n" (the text form,
 * for `webhook-bridge sign`), or typed "name\0value\0" pairs that become wb_http_header
 * entries (the outbound engine: nothing is split on newlines again). The caller owns out. */
typedef struct wb_sink {
    wb_buf *out;
    int typed;
    int open; /* typed: a value is being written and needs its NUL */
} wb_sink;

/* Start header `name`; its value is then appended to sk->out (wb_buf_adds & co, wb_sink_mac). */
wb_err wb_sink_start(wb_sink *sk, const char *name);
/* A whole header: name and value. */
wb_err wb_sink_header(wb_sink *sk, const char *name, const char *value);
/* Append a digest to the open value: hex, or base64 when base64 is set. */
wb_err wb_sink_mac(wb_sink *sk, const unsigned char *mac, size_t n, int base64);
/* Close the last value (typed sinks need its NUL). */
wb_err wb_sink_end(wb_sink *sk);

/* ------------------------------------------------------------------------------------------
 * The verifier's reads of a request (reqhdr.c)
 * ---------------------------------------------------------------------------------------- */

/* The caller's header lookup. */
typedef struct wb_hdr_src {
    wb_header_get_fn get;
    void *ctx;
} wb_hdr_src;

/* What the header stage read, for the body stage (received values only: nothing secret). */
typedef struct wb_reqhdrs {
    char sigb[WB_SIG_MAX_HEADER + 1], tsb[WB_SIG_MAX_HEADER + 1], idb[WB_SIG_MAX_HEADER + 1];
    const char *ts; /* timestamp text as signed ("" when the scheme has none) */
    const char *id; /* id text as signed ("" when the scheme signs none) */
    wb_sig_list sigs;
} wb_reqhdrs;

/* A required header, trimmed, copied into buf (WB_SIG_MAX_HEADER + 1); NULL with res->reason
 * ("missing X header", "X header too long") when absent or too long. */
const char *wb_reqhdr_need(const wb_hdr_src *src, const char *name, char *buf,
                           wb_verify_result *res);
/* Take v (n bytes) as the delivery id, named field in errors: WB_ERR_INVALID unless it is a
 * valid header value of at most WB_HEADER_ID_MAX bytes (it becomes ce_id and a dedupe key). */
wb_err wb_reqhdr_set_id(const char *v, size_t n, const char *field, wb_verify_result *res);
/* An optional delivery-id header: absent is fine; too long or not a header value is not. */
wb_err wb_reqhdr_id(const wb_hdr_src *src, const char *name, wb_verify_result *res);
/* A top-level string member `key` of a JSON body as the delivery id (after a match only:
 * an attacker cannot make us parse JSON). No JSON or no such member: no id, WB_OK. */
wb_err wb_reqhdr_id_from_body(const void *body, size_t len, const char *key, const char *field,
                              wb_verify_result *res);
/* ts (unix s) within k's tolerance of now_s: WB_OK, else WB_ERR_STALE + reason. */
wb_err wb_reqhdr_fresh(const wb_keyset *k, int64_t ts, int64_t now_s, wb_verify_result *res);
/* The text tss of timestamp header `name` parsed and checked (malformed: WB_ERR_SIGNATURE). */
wb_err wb_reqhdr_fresh_text(const wb_keyset *k, const char *name, const char *tss, int64_t now_s,
                            wb_verify_result *res);
/* A "<prefix><digest>" signature header `name` (k->maclen bytes, hex or base64) into h->sigs. */
wb_err wb_reqhdr_prefixed(const wb_keyset *k, const wb_hdr_src *src, const char *name,
                          const char *prefix, int base64, wb_reqhdrs *h, wb_verify_result *res);

/* ------------------------------------------------------------------------------------------
 * The table of schemes (schemes.c)
 * ---------------------------------------------------------------------------------------- */

/* One row per signature scheme: what keyset.c, signing.c and verify.c do differently for it.
 * An operation left NULL has the default its comment names. Adding a scheme is adding its
 * functions and a row to schemes.c (and its wb_scheme value and name to config/config.{h,c};
 * test_schemes.c checks that every value has a row of that name). */
struct wb_scheme_ops {
    wb_scheme scheme;
    const char *name; /* as in the configuration: "standard-webhooks", "stripe", ... */
    int keyless;      /* no secrets at all (scheme none, which needs insecure: true) */
    int needs_id;     /* the signer needs a non-empty id: it is part of the signed content */
    int ed25519;      /* the verifier also tries Ed25519 (v1a) signatures */
    const char *body_id_key, *body_id_field; /* after a match, the delivery id is this
                                              * top-level string of the JSON body (NULL: none) */
    /* keyset.c: scheme settings from cfg before the secrets (NULL: none) */
    wb_err (*configure)(wb_keyset *k, const wb_signing *cfg, int signer, char *errstr,
                        size_t errstr_size);
    /* keyset.c: one secret into k (NULL: the secret string itself is the HMAC key) */
    wb_err (*add_secret)(wb_keyset *k, const char *secret, size_t idx, int signer, char *errstr,
                         size_t errstr_size);
    /* mac.c: the signed content as at most WB_SIG_MAX_PARTS parts (NULL: k's template) */
    size_t (*content)(const wb_payload *pl, wb_part *p);
    /* signing.c: the scheme's headers for one payload onto sk (NULL: none) */
    wb_err (*sign)(const wb_keyset *k, const wb_payload *pl, wb_sink *sk);
    /* signing.c: only the signature header's value, appended to sk's open value (NULL:
     * WB_ERR_INVALID, see wb_signer_signature) */
    wb_err (*sign_value)(const wb_keyset *k, const wb_payload *pl, wb_sink *sk);
    /* verify.c: the header stage (every check that needs no body) into h and res: h->id and
     * h->ts as signed, h->sigs the received signatures (NULL: nothing to read) */
    wb_err (*read)(const wb_keyset *k, const wb_hdr_src *src, int64_t now_s, wb_reqhdrs *h,
                   wb_verify_result *res);
};

/* The row of scheme s; NULL for a value that is no scheme. */
const wb_scheme_ops *wb_schemes_find(wb_scheme s);

#endif
