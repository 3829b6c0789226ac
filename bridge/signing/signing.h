/* signing.h - every webhook signature scheme: sign (outbound) and verify (inbound).
 *
 * Keys are decoded and MAC contexts prepared once, in wb_signer_new / wb_verifier_new; the
 * per-event calls do no key parsing. Every comparison of a signature is constant-time.
 * Secrets are never logged and never appear in an error reason.
 *
 * Ownership: the caller owns the wb_signing config, which must outlive the signer/verifier
 * only during *_new (everything needed is copied). Thread: a signer/verifier is immutable
 * after creation; sign/verify may be called from several threads at once. */
#ifndef WB_SIGNING_H
#define WB_SIGNING_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "config/config.h"
#include "core/err.h"

/* ---- outbound ---- */

typedef struct wb_signer wb_signer;

/* Prepare a signer for cfg (scheme standard-webhooks: "whsec_<base64>" secrets sign v1
 * HMAC-SHA256, "whsk_<base64>" Ed25519 private keys sign v1a; other schemes as in the
 * table of DESIGN.md). Returns NULL with a message in errstr on a malformed secret. */
wb_signer *wb_signer_new(const wb_signing *cfg, char *errstr, size_t errstr_size);
void wb_signer_free(wb_signer *s);

/* Sign one payload. Appends header lines "Name: value" (no CRLF), one per array entry, to
 * *out (for standard-webhooks: the single "webhook-signature: v1,... v1a,..." line, one
 * signature per configured secret, space separated; for stripe: "Stripe-Signature: t=..,v1=..";
 * github: "X-Hub-Signature-256: sha256=..."; ...). id and ts_s are the webhook-id and the
 * unix timestamp in seconds that the caller also sends. */
wb_err wb_signer_sign(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                      size_t len, wb_buf *out_headers);

struct wb_http_header; /* outbound/http.h: a typed (name, value) pair */

/* The same headers as wb_signer_sign, typed: up to max (name, value) pairs in out[], *n set
 * to the count. The strings are appended to *storage (NUL-terminated names and values) and
 * out[] points into it: valid until storage is next changed or freed. Nothing is split on
 * newlines, so an id with a control character cannot add a header here (the HTTP client
 * refuses such values anyway). WB_ERR_TOO_LARGE when more than max headers; on any error
 * storage is left as it was and out[] is undefined. */
wb_err wb_signer_sign_headers(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                              size_t len, struct wb_http_header *out, size_t max, size_t *n,
                              wb_buf *storage);

/* Only the standard-webhooks signature value ("v1,xxx v1a,yyy"), appended to out. */
wb_err wb_signer_signature(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                           size_t len, wb_buf *out);

/* ---- inbound ---- */

typedef struct wb_verifier wb_verifier;

/* Case-insensitive header lookup provided by the caller; NULL when absent. */
typedef const char *(*wb_header_get_fn)(void *ctx, const char *name);

typedef struct wb_verify_result {
    char reason[160];         /* on failure: which check failed, never an expected value */
    char delivery_id[256];    /* webhook-id, X-GitHub-Delivery, Stripe event id, ... ("" if none);
                               * always a valid header value (header_value.h), <= 255 bytes */
    const char *id_field;     /* where delivery_id came from ("webhook-id", ...), static */
    int id_signed;            /* delivery_id is covered by the signature (a replay cannot change
                               * it); else dedupe should also key on the digest */
    int64_t timestamp;        /* signed timestamp (unix s) when the scheme has one, else 0 */
    size_t digest_len;        /* bytes in digest, 0 when none (Ed25519, scheme none) */
    unsigned char digest[32]; /* the HMAC that matched (first 32 bytes): the same request
                               * replayed has the same one, whatever its unsigned headers */
} wb_verify_result;

/* Prepare a verifier ("whpk_<base64>" Ed25519 public keys for v1a). NULL + errstr on error. */
wb_verifier *wb_verifier_new(const wb_signing *cfg, char *errstr, size_t errstr_size);
void wb_verifier_free(wb_verifier *v);

/* Verify one request. Returns WB_OK, WB_ERR_SIGNATURE (missing/malformed header or no
 * secret matches: res->reason says which), WB_ERR_STALE (timestamp outside tolerance, too
 * old or too new) or WB_ERR_INVALID (the delivery id is not a valid header value or longer
 * than 255 bytes: reason names the field; or bad arguments). now_s is the current unix time.
 * Fills res->delivery_id even on failure when it could be read. */
wb_err wb_verifier_verify(const wb_verifier *v, wb_header_get_fn get, void *ctx, const void *body,
                          size_t len, int64_t now_s, wb_verify_result *res);

/* The checks of wb_verifier_verify that need no body: signature headers present and well
 * formed, timestamp fresh, delivery id header valid. Same return values and reasons; WB_OK
 * means the request may be authentic and its body is worth reading. */
wb_err wb_verifier_precheck(const wb_verifier *v, wb_header_get_fn get, void *ctx, int64_t now_s,
                            wb_verify_result *res);

/* ---- signature-header parsers (exported for the fuzz targets and tests) ---- */

#define WB_SIG_MAX_HEADER  8192 /* longer signature headers are rejected */
#define WB_SIG_MAX_ENTRIES 32   /* more signatures in one header are rejected */
#define WB_SIG_MAX_MAC     64   /* largest decoded signature kept (Ed25519, SHA-512) */

typedef enum wb_sig_kind { WB_SIG_HMAC = 0, WB_SIG_ED25519 } wb_sig_kind;

typedef struct wb_sig_entry {
    wb_sig_kind kind;
    size_t len; /* decoded bytes in mac */
    unsigned char mac[WB_SIG_MAX_MAC];
} wb_sig_entry;

typedef struct wb_sig_list {
    int64_t ts; /* Stripe "t=" value, else 0 */
    size_t n;
    wb_sig_entry e[WB_SIG_MAX_ENTRIES];
} wb_sig_list;

/* Parse a Standard Webhooks webhook-signature value ("v1,<b64> v1a,<b64> ..."). Unknown
 * versions and entries that do not decode are skipped (as the official SDKs do); fails with
 * WB_ERR_SIGNATURE and a reason when the value is too long, holds more than
 * WB_SIG_MAX_ENTRIES entries or no usable entry. Pure function; any thread. */
wb_err wb_standard_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize);

/* Parse a Stripe-Signature value "t=<unix s>,v1=<hex>[,v1=<hex>]..." (unknown keys such as
 * v0 ignored). Needs exactly one valid t and at least one v1. Pure; any thread. */
wb_err wb_stripe_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize);

/* Parse a single "<prefix><digest>" value (GitHub "sha256=<hex>", Slack "v0=<hex>", Shopify
 * "<base64>", generic hmac). The prefix matches case-insensitively; the digest must decode
 * (hex or base64) to exactly maclen bytes. One entry on success. Pure; any thread. */
wb_err wb_prefixed_sig_parse(const char *value, const char *prefix, int base64, size_t maclen,
                             wb_sig_list *out, char *reason, size_t rsize);

/* Parse a unix timestamp in seconds: 1..12 ASCII digits, nothing else. */
wb_err wb_sig_timestamp_parse(const char *s, int64_t *out);

#endif
