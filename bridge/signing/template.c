/* template.c - the generic hmac scheme's signed content: a template such as
 * "{timestamp}.{id}.{body}" split once (at load) into literal and placeholder segments, then
 * fed to the MAC segment by segment so the body is never copied (signing_int.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "signing/signing_int.h"

static const struct {
    const char *name;
    enum wb_seg_kind kind;
} placeholders[] = {{"{body}", SEG_BODY}, {"{timestamp}", SEG_TS}, {"{id}", SEG_ID}};

/* The placeholder at t (which starts with '{'), or -1. */
static int placeholder_at(const char *t)
{
    for (size_t j = 0; j < sizeof(placeholders) / sizeof(placeholders[0]); j++)
        if (!strncmp(t, placeholders[j].name, strlen(placeholders[j].name))) return (int)j;
    return -1;
}

wb_err wb_template_parse(wb_keyset *k, const char *t, char *errstr, size_t errstr_size)
{
    size_t len = strlen(t);
    k->tmpl = wb_strdup(t);
    k->segs = calloc(len + 1, sizeof(wb_seg)); /* at most one segment per byte */
    if (!k->tmpl || !k->segs) return WB_ERR_NOMEM;
    size_t i = 0;
    while (i < len) {
        int ph = t[i] == '{' ? placeholder_at(t + i) : -1;
        if (ph >= 0) {
            enum wb_seg_kind kind = placeholders[ph].kind;
            k->segs[k->nsegs++] = (wb_seg){kind, 0, 0};
            k->uses_ts |= kind == SEG_TS;
            k->uses_id |= kind == SEG_ID;
            i += strlen(placeholders[ph].name);
            continue;
        }
        if (t[i] == '{') { /* "{word}" that is not a known placeholder: surely a typo */
            size_t e = i + 1;
            while (e < len && (islower((unsigned char)t[e]) || t[e] == '_'))
                e++;
            if (e > i + 1 && e < len && t[e] == '}') {
                wb_sig_why(errstr, errstr_size,
                           "hmac content: unknown placeholder '%.*s' (use {body}, "
                           "{timestamp}, {id})",
                           (int)(e - i + 1), t + i);
                return WB_ERR_CONFIG;
            }
        }
        /* literal text: grow the current literal segment or start one */
        if (k->nsegs && k->segs[k->nsegs - 1].kind == SEG_LIT)
            k->segs[k->nsegs - 1].len++;
        else
            k->segs[k->nsegs++] = (wb_seg){SEG_LIT, i, 1};
        i++;
    }
    return WB_OK;
}

int wb_template_feed(const wb_keyset *k, const wb_payload *pl, EVP_MAC_CTX *c)
{
    for (size_t i = 0; i < k->nsegs; i++) {
        const void *p = NULL;
        size_t n = 0;
        switch (k->segs[i].kind) {
        case SEG_LIT:
            p = k->tmpl + k->segs[i].off;
            n = k->segs[i].len;
            break;
        case SEG_BODY:
            p = pl->body;
            n = pl->len;
            break;
        case SEG_TS:
            p = pl->ts;
            n = strlen(pl->ts);
            break;
        case SEG_ID:
            p = pl->id;
            n = strlen(pl->id);
            break;
        }
        if (n && !EVP_MAC_update(c, p, n)) return 0;
    }
    return 1;
}
