/* sig_parse.c - the signature-header parsers (signing.h): Standard Webhooks, Stripe and the
 * single "<prefix><digest>" value of GitHub, Shopify, Slack and the generic hmac scheme; the
 * timestamp parser; the reason formatter the module shares (signing_int.h).
 *
 * Pure functions on received text, so every bound is checked before a byte is copied: the
 * header length (WB_SIG_MAX_HEADER), the number of entries (WB_SIG_MAX_ENTRIES) and each
 * decoded digest (WB_SIG_MAX_MAC). Any thread. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "signing/signing_int.h"

void wb_sig_why(char *buf, size_t n, const char *fmt, ...)
{
    if (!buf || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
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

/* The start every parser shares: out emptied, the value's length in *len, and a value over
 * WB_SIG_MAX_HEADER refused ("<what> too long"). */
static wb_err parse_start(const char *value, const char *what, wb_sig_list *out, size_t *len,
                          char *reason, size_t rsize)
{
    out->n = 0;
    out->ts = 0;
    *len = strlen(value);
    if (*len <= WB_SIG_MAX_HEADER) return WB_OK;
    wb_sig_why(reason, rsize, "%s too long", what);
    return WB_ERR_SIGNATURE;
}

/* Append one decoded signature to out (the caller has checked the bounds). */
static void add_entry(wb_sig_list *out, wb_sig_kind kind, const unsigned char *mac, size_t n)
{
    wb_sig_entry *e = &out->e[out->n++];
    e->kind = kind;
    e->len = n;
    memcpy(e->mac, mac, n);
}

wb_err wb_standard_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize)
{
    size_t len;
    if (parse_start(value, "webhook-signature header", out, &len, reason, rsize))
        return WB_ERR_SIGNATURE;
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
            wb_sig_why(reason, rsize, "too many signatures in webhook-signature header");
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
        add_entry(out, kind, tmp, (size_t)n);
    }
    if (out->n == 0) {
        wb_sig_why(reason, rsize, "malformed webhook-signature header (no v1/v1a signature)");
        return WB_ERR_SIGNATURE;
    }
    return WB_OK;
}

/* One "key=value" item of a Stripe-Signature (item..te, trimmed, not empty): t= sets the
 * timestamp (once), v1= adds a signature (counted in *v1 even when it cannot decode: Stripe
 * compares strings, so such a value simply never matches), other keys are ignored. */
static wb_err stripe_item(const char *item, const char *te, wb_sig_list *out, int *have_t,
                          size_t *v1, char *reason, size_t rsize)
{
    const char *eq = memchr(item, '=', (size_t)(te - item));
    if (!eq) {
        wb_sig_why(reason, rsize, "malformed Stripe-Signature header");
        return WB_ERR_SIGNATURE;
    }
    size_t klen = (size_t)(eq - item), vlen = (size_t)(te - eq - 1);
    const char *v = eq + 1;
    if (klen == 1 && item[0] == 't') {
        char ts[16];
        int64_t t;
        if (*have_t || vlen >= sizeof(ts)) {
            wb_sig_why(reason, rsize, "malformed Stripe-Signature header (bad t)");
            return WB_ERR_SIGNATURE;
        }
        memcpy(ts, v, vlen);
        ts[vlen] = 0;
        if (wb_sig_timestamp_parse(ts, &t)) {
            wb_sig_why(reason, rsize, "malformed Stripe-Signature header (bad t)");
            return WB_ERR_SIGNATURE;
        }
        out->ts = t;
        *have_t = 1;
    } else if (klen == 2 && !memcmp(item, "v1", 2)) {
        if (++*v1 > WB_SIG_MAX_ENTRIES) {
            wb_sig_why(reason, rsize, "too many signatures in Stripe-Signature header");
            return WB_ERR_SIGNATURE;
        }
        unsigned char tmp[32];
        if (vlen == 64 && wb_hex_decode(v, 64, tmp) == 32) add_entry(out, WB_SIG_HMAC, tmp, 32);
    }
    /* other keys (v0, future schemes) are ignored */
    return WB_OK;
}

wb_err wb_stripe_sig_parse(const char *value, wb_sig_list *out, char *reason, size_t rsize)
{
    size_t len;
    if (parse_start(value, "Stripe-Signature header", out, &len, reason, rsize))
        return WB_ERR_SIGNATURE;
    int have_t = 0;
    size_t items = 0, v1 = 0;
    const char *p = value, *end = value + len;
    while (p <= end) {
        /* one comma-separated item, blanks around it trimmed */
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
            wb_sig_why(reason, rsize, "too many entries in Stripe-Signature header");
            return WB_ERR_SIGNATURE;
        }
        wb_err err = stripe_item(item, te, out, &have_t, &v1, reason, rsize);
        if (err) return err;
        if (!comma) break;
    }
    if (!have_t) {
        wb_sig_why(reason, rsize, "malformed Stripe-Signature header (no t=)");
        return WB_ERR_SIGNATURE;
    }
    if (v1 == 0) {
        wb_sig_why(reason, rsize, "no v1 signature in Stripe-Signature header");
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
    size_t len, pl = prefix ? strlen(prefix) : 0;
    if (parse_start(value, "header", out, &len, reason, rsize)) return WB_ERR_SIGNATURE;
    if (len < pl || (pl && strncasecmp(value, prefix, pl))) {
        wb_sig_why(reason, rsize, "missing '%s' prefix", prefix);
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
        wb_sig_why(reason, rsize, "not a %s %zu-byte digest", base64 ? "base64" : "hex", maclen);
        return WB_ERR_SIGNATURE;
    }
    add_entry(out, WB_SIG_HMAC, tmp, maclen);
    return WB_OK;
}
