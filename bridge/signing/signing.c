/* signing.c - the signer (signing.h): outbound signature headers for one payload.
 *
 * Keys are decoded once in wb_signer_new (keyset.c); each call only computes MACs (mac.c).
 * What a scheme sends is its row's sign operation (schemes.c); this file checks the
 * arguments, makes the payload, picks the output form (text lines or typed pairs, sink.c) and
 * leaves the caller's buffer as it was on any error. */
#include "signing/signing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "signing/signing_int.h"

struct wb_signer {
    wb_keyset k;
};

wb_signer *wb_signer_new(const wb_signing *cfg, char *errstr, size_t errstr_size)
{
    wb_signer *s = calloc(1, sizeof(*s));
    if (!s) {
        wb_sig_why(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (wb_keyset_init(&s->k, cfg, 1, errstr, errstr_size)) {
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

/* Undo what was appended to out since mark (an error must leave the caller's buffer as it
 * was). */
static void rewind_to(wb_buf *out, size_t mark)
{
    if (!out->data) return;
    out->len = mark;
    out->data[mark] = 0;
}

wb_err wb_signer_signature(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                           size_t len, wb_buf *out)
{
    if (!s || !out || !s->k.ops->sign_value || !id || ts_s < 0 || (!body && len))
        return WB_ERR_INVALID;
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ts_s);
    wb_payload pl = {.id = id, .ts = ts, .body = body ? body : "", .len = len};
    wb_sink sk = {.out = out, .typed = 0, .open = 0};
    size_t mark = out->len;
    wb_err err = s->k.ops->sign_value(&s->k, &pl, &sk);
    if (err) rewind_to(out, mark);
    return err;
}

/* The signature headers of s's scheme for one payload, onto sk. On error sk->out is left as
 * it was. */
static wb_err sign_to(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                      size_t len, wb_sink *sk)
{
    wb_buf *out = sk->out;
    if (!s || !out || ts_s < 0 || (!body && len)) return WB_ERR_INVALID;
    const wb_keyset *k = &s->k;
    if (!id) id = "";
    if (k->ops->needs_id && !*id) return WB_ERR_INVALID; /* the id is part of the content */
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ts_s);
    wb_payload pl = {.id = id, .ts = ts, .body = body ? body : "", .len = len};
    size_t mark = out->len;
    wb_err err = k->ops->sign ? k->ops->sign(k, &pl, sk) : WB_OK;
    if (!err) err = wb_sink_end(sk);
    if (err) rewind_to(out, mark);
    return err;
}

wb_err wb_signer_sign(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                      size_t len, wb_buf *out)
{
    wb_sink sk = {.out = out, .typed = 0, .open = 0};
    return sign_to(s, id, ts_s, body, len, &sk);
}

wb_err wb_signer_sign_headers(const wb_signer *s, const char *id, int64_t ts_s, const void *body,
                              size_t len, struct wb_http_header *out, size_t max, size_t *n,
                              wb_buf *storage)
{
    if (!out || !n || !storage) return WB_ERR_INVALID;
    size_t mark = storage->len;
    wb_sink sk = {.out = storage, .typed = 1, .open = 0};
    wb_err err = sign_to(s, id, ts_s, body, len, &sk);
    if (err) return err;
    /* The pairs are complete: only now take pointers (the buffer no longer moves). */
    size_t count = 0;
    const char *p = storage->data ? storage->data + mark : NULL, *end = p + (storage->len - mark);
    while (p && p < end) {
        if (count == max) {
            rewind_to(storage, mark);
            return WB_ERR_TOO_LARGE;
        }
        out[count].name = p;
        p += strlen(p) + 1;
        out[count].value = p;
        p += strlen(p) + 1;
        count++;
    }
    *n = count;
    return WB_OK;
}
