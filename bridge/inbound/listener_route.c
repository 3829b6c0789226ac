/* listener_route.c - the inbound listener's pure decisions from the request head (route,
 * method, media type, Content-Length against max_body) and the form-body check (listener.h).
 * No I/O, no state: exported for the unit and fuzz tests. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "inbound/listener.h"

/* ------------------------------------------------------------------------------------------
 * Routing (pure)
 * ---------------------------------------------------------------------------------------- */

/* Media type of a Content-Type value equals want (case-insensitive, parameters ignored). */
static int media_is(const char *ct, const char *want)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static void route_err(wb_route *out, int status, const char *slug, const char *detail)
{
    out->status = status;
    out->slug = slug;
    out->detail = detail;
}

void wb_listener_route(const wb_config *cfg, const char *method, const char *url,
                       const char *content_type, const char *content_length, wb_route *out)
{
    static const char prefix[] = "/webhooks/";
    memset(out, 0, sizeof(*out));
    out->connector = -1;
    out->length = -1;
    if (!url || strncmp(url, prefix, sizeof(prefix) - 1)) {
        route_err(out, 404, "not-found", "no such endpoint: POST /webhooks/{connector}");
        return;
    }
    const char *name = url + sizeof(prefix) - 1;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < cfg->nconnectors && nlen; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction == WB_DIR_INBOUND && cc->name && strlen(cc->name) == nlen &&
            !memcmp(cc->name, name, nlen)) {
            out->connector = (int)i;
            break;
        }
    }
    if (out->connector < 0) {
        route_err(out, 404, "not-found", "unknown inbound connector");
        return;
    }
    const wb_connector *cc = &cfg->connectors[out->connector];
    if (!method || strcmp(method, "POST")) {
        route_err(out, 405, "method", "only POST is allowed here");
        return;
    }
    if (!content_type) {
        route_err(out, 415, "media-type", "Content-Type is missing (application/json expected)");
        return;
    }
    if (cc->signing.scheme == WB_SCHEME_SLACK &&
        media_is(content_type, "application/x-www-form-urlencoded")) {
        out->form = 1;
    } else if (!media_is(content_type, "application/json")) {
        route_err(out, 415, "media-type",
                  cc->signing.scheme == WB_SCHEME_SLACK
                      ? "Content-Type must be application/json or "
                        "application/x-www-form-urlencoded"
                      : "Content-Type must be application/json");
        return;
    }
    if (content_length) {
        long long v = 0;
        const char *p = content_length;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) {
            route_err(out, 400, "malformed", "malformed Content-Length");
            return;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > (long long)1 << 50) { /* way past any max_body: stop counting */
                v = (long long)1 << 51;
                continue;
            }
            v = v * 10 + (*p - '0');
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) {
            route_err(out, 400, "malformed", "malformed Content-Length");
            return;
        }
        out->length = v;
        size_t max = cc->max_body ? cc->max_body : 1024 * 1024;
        if ((unsigned long long)v > max) {
            route_err(out, 413, "too-large", "Content-Length exceeds the connector's max_body");
            return;
        }
    }
}

static int hexdigit(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

int wb_listener_form_ok(const char *body, size_t len)
{
    /* name=value pairs joined by '&'; bytes outside the URL-unreserved set must be
     * percent-encoded (what Slack, browsers and every form encoder send) */
    size_t pair_start = 0;
    int have_name = 0;
    if (len == 0) return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? body[i] : '&';
        if (ch == '&') {
            if (i == pair_start || !have_name) return 0; /* empty pair or "=value" */
            pair_start = i + 1;
            have_name = 0;
            continue;
        }
        if (ch == '=') {
            if (i == pair_start) return 0;
            have_name = 1;
            continue;
        }
        if (ch == '%') {
            if (i + 2 >= len || !hexdigit(body[i + 1]) || !hexdigit(body[i + 2])) return 0;
            i += 2;
        } else if (!ch || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || strchr("-._~*+!'()", ch))) {
            return 0;
        }
        if (i + 1 == len || body[i + 1] == '&') have_name = 1; /* "flag" alone is a name */
    }
    return 1;
}
