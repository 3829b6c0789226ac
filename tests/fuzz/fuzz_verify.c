/* fuzz_verify.c - wb_verifier_verify for every scheme with headers taken from the input, plus
 * a round-trip property: what wb_signer_sign produces for the input body must verify, and
 * must stop verifying once the body changes.
 *
 * Input: byte 0 picks the scheme, byte 1 the clock offset; then "Name: value\n" header lines
 * up to an empty line; the rest is the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "signing/signing.h"

#define NSCHEMES 6
#define MAXH     16
#define TS       1700000000

typedef struct hdrs {
    const char *n[MAXH + 8], *v[MAXH + 8];
    int count;
} hdrs;

static const char *hget(void *ctx, const char *name)
{
    hdrs *h = ctx;
    for (int i = 0; i < h->count; i++)
        if (!strcasecmp(h->n[i], name)) return h->v[i];
    return NULL;
}

static wb_signer *signers[NSCHEMES];
static wb_verifier *verifiers[NSCHEMES];

static void setup(void)
{
    static char *std[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                          "whsk_1EDZWR7iPB++xFI9hT8ek7/OGIunWOUL82F0uIu4k3M="};
    static char *plain[] = {"fuzz-secret", "second-secret"};
    for (int i = 0; i < NSCHEMES; i++) {
        wb_signing c;
        memset(&c, 0, sizeof(c));
        c.scheme = (wb_scheme)i;
        c.secrets = i == WB_SCHEME_STANDARD ? std : plain;
        c.nsecrets = 2;
        c.tolerance_ms = 300000;
        if (i == WB_SCHEME_HMAC) {
            c.hmac.header = "X-Sig";
            c.hmac.prefix = "sha512=";
            c.hmac.sha512 = 1;
            c.hmac.base64 = 1;
            c.hmac.timestamp_header = "X-Ts";
            c.hmac.id_header = "X-Id";
            c.hmac.content = "{timestamp}.{id}.{body}";
        }
        char err[256];
        signers[i] = wb_signer_new(&c, err, sizeof(err));
        verifiers[i] = wb_verifier_new(&c, err, sizeof(err));
        if (!signers[i] || !verifiers[i]) {
            fprintf(stderr, "setup %d: %s\n", i, err);
            abort();
        }
    }
}

/* Split the signer's "Name: value" lines into h (pointing into buf). */
static void add_lines(hdrs *h, char *buf)
{
    char *p = buf;
    while (p && *p && h->count < MAXH + 8) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        char *c = strstr(p, ": ");
        if (!c) abort();
        *c = 0;
        h->n[h->count] = p;
        h->v[h->count++] = c + 2;
        p = nl ? nl + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!signers[0]) setup();
    if (size < 2) return 0;
    int scheme = data[0] % NSCHEMES;
    int64_t now = TS + (int64_t)data[1] * 4 - 512;
    char *s = fuzz_cstr(data + 2, size - 2);
    size_t slen = size - 2;

    /* 1. arbitrary headers and body */
    hdrs h = {0};
    char *p = s, *body = s + slen;
    while (p < s + slen && h.count < MAXH) {
        char *nl = memchr(p, '\n', (size_t)(s + slen - p));
        if (!nl) break;
        *nl = 0;
        if (nl == p) { /* empty line: body follows */
            body = nl + 1;
            break;
        }
        char *c = strchr(p, ':');
        if (c) {
            *c = 0;
            h.n[h.count] = p;
            h.v[h.count++] = c + 1;
        }
        p = nl + 1;
    }
    size_t blen = (size_t)(s + slen - body);
    wb_verify_result r;
    wb_err err = wb_verifier_verify(verifiers[scheme], hget, &h, body, blen, now, &r);
    if (err && !r.reason[0]) abort();
    if (memchr(r.delivery_id, 0, sizeof(r.delivery_id)) == NULL) abort();

    /* 2. round trip over the same body */
    wb_buf out;
    wb_buf_init(&out, 0);
    if (wb_signer_sign(signers[scheme], "msg_fuzz", TS, body, blen, &out) != WB_OK) abort();
    hdrs h2 = {0};
    h2.n[0] = "webhook-id";
    h2.v[0] = "msg_fuzz";
    h2.n[1] = "webhook-timestamp";
    h2.v[1] = "1700000000";
    h2.n[2] = "X-Id";
    h2.v[2] = "msg_fuzz";
    h2.count = 3;
    add_lines(&h2, out.data);
    int64_t near = TS + (data[1] % 200) - 100;
    if (wb_verifier_verify(verifiers[scheme], hget, &h2, body, blen, near, &r) != WB_OK) {
        fprintf(stderr, "round trip failed for scheme %d: %s\n", scheme, r.reason);
        abort();
    }
    char *changed = malloc(blen + 1);
    if (!changed) abort();
    if (blen) memcpy(changed, body, blen);
    changed[blen] = 'x';
    if (wb_verifier_verify(verifiers[scheme], hget, &h2, changed, blen + 1, near, &r) == WB_OK)
        abort();
    free(changed);
    wb_buf_free(&out);
    free(s);
    return 0;
}
