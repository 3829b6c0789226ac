/* reqhdr.c - the verifier's reads of a request (signing_int.h): bounded and trimmed header
 * copies, the delivery id checks, freshness, and the "<prefix><digest>" signature header the
 * scheme rows share. Every failure leaves its reason in res->reason and never an expected
 * value. Pure (the caller's lookup aside); any thread. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/header_value.h"
#include "signing/signing_int.h"

/* Header value with surrounding blanks trimmed, copied into buf (WB_SIG_MAX_HEADER + 1).
 * Returns NULL if absent; *toolong set if longer than the bound. */
static const char *header(const wb_hdr_src *src, const char *name, char *buf, int *toolong)
{
    *toolong = 0;
    const char *v = src->get(src->ctx, name);
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

const char *wb_reqhdr_need(const wb_hdr_src *src, const char *name, char *buf,
                           wb_verify_result *res)
{
    int toolong;
    const char *v = header(src, name, buf, &toolong);
    if (toolong)
        wb_sig_why(res->reason, sizeof(res->reason), "%s header too long", name);
    else if (!v)
        wb_sig_why(res->reason, sizeof(res->reason), "missing %s header", name);
    return v;
}

wb_err wb_reqhdr_set_id(const char *v, size_t n, const char *field, wb_verify_result *res)
{
    const char *bad = wb_header_value_problem(v, n, WB_HEADER_ID_MAX);
    if (bad) {
        wb_sig_why(res->reason, sizeof(res->reason), "%s %s", field, bad);
        return WB_ERR_INVALID;
    }
    memcpy(res->delivery_id, v, n);
    res->delivery_id[n] = 0;
    res->id_field = field;
    return WB_OK;
}

wb_err wb_reqhdr_id(const wb_hdr_src *src, const char *name, wb_verify_result *res)
{
    int toolong;
    char buf[WB_SIG_MAX_HEADER + 1];
    const char *v = header(src, name, buf, &toolong);
    if (toolong) {
        wb_sig_why(res->reason, sizeof(res->reason), "%s header is longer than %d bytes", name,
                   WB_HEADER_ID_MAX);
        return WB_ERR_INVALID;
    }
    return v && *v ? wb_reqhdr_set_id(v, strlen(v), name, res) : WB_OK;
}

wb_err wb_reqhdr_id_from_body(const void *body, size_t len, const char *key, const char *field,
                              wb_verify_result *res)
{
    json_error_t jerr;
    wb_err err = WB_OK;
    /* a body that is not JSON (Slack form posts) or has no such string simply has no id */
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (!doc) return WB_OK;
    json_t *v = json_is_object(doc) ? json_object_get(doc, key) : NULL;
    if (json_is_string(v) && json_string_length(v))
        err = wb_reqhdr_set_id(json_string_value(v), json_string_length(v), field, res);
    json_decref(doc);
    return err;
}

wb_err wb_reqhdr_fresh(const wb_keyset *k, int64_t ts, int64_t now_s, wb_verify_result *res)
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
        wb_sig_why(res->reason, sizeof(res->reason), "timestamp too old (tolerance %s)", tolstr);
        return WB_ERR_STALE;
    }
    if (d < 0 && -d * 1000 > tol) {
        wb_sig_why(res->reason, sizeof(res->reason), "timestamp in the future (tolerance %s)",
                   tolstr);
        return WB_ERR_STALE;
    }
    return WB_OK;
}

wb_err wb_reqhdr_fresh_text(const wb_keyset *k, const char *name, const char *tss, int64_t now_s,
                            wb_verify_result *res)
{
    int64_t ts;
    if (wb_sig_timestamp_parse(tss, &ts)) {
        wb_sig_why(res->reason, sizeof(res->reason), "malformed %s header", name);
        return WB_ERR_SIGNATURE;
    }
    return wb_reqhdr_fresh(k, ts, now_s, res);
}

wb_err wb_reqhdr_prefixed(const wb_keyset *k, const wb_hdr_src *src, const char *name,
                          const char *prefix, int base64, wb_reqhdrs *h, wb_verify_result *res)
{
    char sub[128];
    const char *sig = wb_reqhdr_need(src, name, h->sigb, res);
    if (!sig) return WB_ERR_SIGNATURE;
    if (wb_prefixed_sig_parse(sig, prefix, base64, k->maclen, &h->sigs, sub, sizeof(sub))) {
        wb_sig_why(res->reason, sizeof(res->reason), "malformed %s header (%s)", name, sub);
        return WB_ERR_SIGNATURE;
    }
    return WB_OK;
}
