/* verify.c - the verifier (signing.h): inbound signature verification in two stages.
 *
 * The header stage (wb_verifier_precheck) checks all that needs no body: the signature
 * headers are present and parse, the timestamp is fresh, the delivery id header is a valid
 * header value. It is the scheme's row's read operation (schemes.c). The listener runs it as
 * soon as the request head is in, so nothing is buffered for a request that cannot be
 * authentic. The body stage (wb_verifier_verify, which repeats the header stage: it is cheap,
 * and the CLI calls it alone) computes the MAC over the body and compares in constant time;
 * then the scheme may take the delivery id from the signed body. */
#include "signing/signing.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/util.h"
#include "signing/signing_int.h"

struct wb_verifier {
    wb_keyset k;
};

wb_verifier *wb_verifier_new(const wb_signing *cfg, char *errstr, size_t errstr_size)
{
    wb_verifier *v = calloc(1, sizeof(*v));
    if (!v) {
        wb_sig_why(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (wb_keyset_init(&v->k, cfg, 0, errstr, errstr_size)) {
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

/* The header stage: the row's read, into h (see the top of this file). */
static wb_err read_headers(const wb_keyset *k, wb_header_get_fn get, void *ctx, int64_t now_s,
                           wb_reqhdrs *h, wb_verify_result *res)
{
    wb_hdr_src src = {get, ctx};
    h->ts = "";
    h->id = "";
    h->sigs.n = 0;
    return k->ops->read ? k->ops->read(k, &src, now_s, h, res) : WB_OK;
}

/* Any HMAC secret matching any entry of h->sigs? The matching MAC is kept as the digest. */
static int hmac_match(const wb_keyset *k, const wb_reqhdrs *h, const wb_payload *pl,
                      wb_verify_result *res, wb_err *err)
{
    int ok = 0;
    unsigned char mac[WB_SIG_MAX_MAC];
    for (size_t i = 0; i < k->nhmac && !ok; i++) {
        size_t ml = 0;
        if ((*err = wb_mac_hmac(k, i, pl, mac, &ml))) break;
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

/* Any Ed25519 key verifying any v1a entry of h->sigs? (Only joined into one message when the
 * request carries such an entry.) */
static int ed25519_match(const wb_keyset *k, const wb_reqhdrs *h, const wb_payload *pl, wb_err *err)
{
    int have_ed = 0;
    for (size_t j = 0; j < h->sigs.n; j++)
        have_ed |= h->sigs.e[j].kind == WB_SIG_ED25519;
    if (!have_ed || !k->ned) return 0;
    size_t mlen = 0;
    unsigned char *msg = wb_mac_message(k, pl, &mlen);
    if (!msg) {
        *err = WB_ERR_NOMEM;
        return 0;
    }
    int ok = 0;
    for (size_t i = 0; i < k->ned && !ok; i++)
        for (size_t j = 0; j < h->sigs.n && !ok; j++)
            if (h->sigs.e[j].kind == WB_SIG_ED25519 && h->sigs.e[j].len == 64)
                ok = wb_mac_ed_verify(k->ed[i], msg, mlen, h->sigs.e[j].mac, 64);
    free(msg);
    return ok;
}

static int args_ok(const wb_verifier *v, wb_header_get_fn get, wb_verify_result *res)
{
    memset(res, 0, sizeof(*res));
    if (v && get) return 1;
    wb_sig_why(res->reason, sizeof(res->reason), "invalid arguments");
    return 0;
}

wb_err wb_verifier_precheck(const wb_verifier *v, wb_header_get_fn get, void *ctx, int64_t now_s,
                            wb_verify_result *res)
{
    if (!res) return WB_ERR_INVALID;
    if (!args_ok(v, get, res)) return WB_ERR_INVALID;
    wb_reqhdrs h; /* received values only: nothing secret to cleanse */
    return read_headers(&v->k, get, ctx, now_s, &h, res);
}

wb_err wb_verifier_verify(const wb_verifier *v, wb_header_get_fn get, void *ctx, const void *body,
                          size_t len, int64_t now_s, wb_verify_result *res)
{
    if (!res) return WB_ERR_INVALID;
    if (!args_ok(v, get, res) || (!body && len)) {
        wb_sig_why(res->reason, sizeof(res->reason), "invalid arguments");
        return WB_ERR_INVALID;
    }
    if (!body) body = "";
    const wb_keyset *k = &v->k;
    const wb_scheme_ops *ops = k->ops;
    wb_reqhdrs h;
    wb_err err = read_headers(k, get, ctx, now_s, &h, res);
    if (err || ops->keyless) return err;
    wb_payload pl = {.id = h.id, .ts = h.ts, .body = body, .len = len};
    if (hmac_match(k, &h, &pl, res, &err) ||
        (!err && ops->ed25519 && ed25519_match(k, &h, &pl, &err))) {
        if (ops->body_id_key)
            err = wb_reqhdr_id_from_body(body, len, ops->body_id_key, ops->body_id_field, res);
        return err;
    }
    wb_sig_why(res->reason, sizeof(res->reason), "%s",
               err ? "internal error while verifying" : "no signature matched");
    return err ? err : WB_ERR_SIGNATURE;
}
