/* fuzz_route.c - the listener's routing / content-type / Content-Length decision
 * (wb_listener_route) and the problem+json body built from its outcome. The input is
 * "<method>\n<url>\n<content-type>\n<content-length>"; a missing line means "header absent".
 * Invariants: only the documented statuses; an accepted request names an inbound connector,
 * is a POST and declares no more than max_body; the problem body is valid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "config/config.h"
#include "inbound/listener.h"
#include "core/problem.h"

static char *next_line(char **p)
{
    if (!*p) return NULL;
    char *s = *p;
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *p = nl + 1;
    } else {
        *p = NULL;
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wb_connector conns[3];
    static wb_config cfg;
    if (!cfg.connectors) {
        conns[0].name = "stripe";
        conns[0].direction = WB_DIR_INBOUND;
        conns[0].signing.scheme = WB_SCHEME_STRIPE;
        conns[0].max_body = 1024;
        conns[1].name = "slack";
        conns[1].direction = WB_DIR_INBOUND;
        conns[1].signing.scheme = WB_SCHEME_SLACK;
        conns[1].max_body = 0; /* default 1MiB */
        conns[2].name = "acme";
        conns[2].direction = WB_DIR_OUTBOUND;
        cfg.connectors = conns;
        cfg.nconnectors = 3;
    }
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    char *p = s;
    char *method = next_line(&p), *url = next_line(&p), *ct = next_line(&p), *cl = next_line(&p);
    wb_route rt;
    wb_listener_route(&cfg, method, url, ct, cl, &rt);
    switch (rt.status) {
    case 0: {
        if (rt.connector < 0 || rt.connector >= 3 ||
            conns[rt.connector].direction != WB_DIR_INBOUND)
            abort();
        if (!method || strcmp(method, "POST") || !ct) abort();
        size_t max = conns[rt.connector].max_body ? conns[rt.connector].max_body : 1024 * 1024;
        if (rt.length < -1 || (rt.length >= 0 && (size_t)rt.length > max)) abort();
        if ((rt.length >= 0) != (cl != NULL)) abort();
        if (rt.form && conns[rt.connector].signing.scheme != WB_SCHEME_SLACK) abort();
        break;
    }
    case 400:
    case 404:
    case 405:
    case 413:
    case 415:
        if (!rt.slug || !rt.detail) abort();
        break;
    default:
        abort();
    }
    if (rt.status) {
        wb_buf b;
        wb_buf_init(&b, 1 << 20);
        if (wb_problem_json(&b, rt.status, rt.slug, rt.detail, url)) abort();
        json_error_t je;
        json_t *doc = json_loadb(b.data, b.len, 0, &je);
        if (!doc || json_integer_value(json_object_get(doc, "status")) != rt.status) abort();
        json_decref(doc);
        wb_buf_free(&b);
    }
    free(s);
    return 0;
}
