/* outbound/settings.c - what a config generation says about one connector, built once: its
 * signer, egress policy and HTTP target (URL, constant headers, TLS, proxy). Immutable and
 * refcounted (see wb_settings in conn_int.h). Built on the thread that applies a config; used
 * and released on the connector's loop thread. */
#include <stdio.h>
#include <stdlib.h>

#include "outbound/conn_int.h"

/* Settings                                                                             */

wb_settings *wb_settings_new(wb_config *cfg, const wb_connector *cc, wb_http *http, char *errstr,
                             size_t errstr_size)
{
    wb_settings *st = calloc(1, sizeof(*st));
    char serr[256];
    if (!st) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    st->refs = 1;
    st->cfg = wb_config_ref(cfg);
    st->cc = cc;
    const char *file = cc->file ? cc->file : cc->name;
    st->signer = wb_signer_new(&cc->signing, serr, sizeof(serr));
    if (!st->signer) {
        snprintf(errstr, errstr_size, "%s:%d: signing: %s", file, cc->line, serr);
        goto fail;
    }
    if (cc->nallow_cidrs > 0) {
        st->policy = wb_egress_policy_new(cc->allow_cidrs, cc->nallow_cidrs, serr, sizeof(serr));
        if (!st->policy) {
            snprintf(errstr, errstr_size, "%s:%d: allow_cidrs: %s", file, cc->line, serr);
            goto fail;
        }
    }
    /* The constant headers, rendered once by the HTTP client. */
    wb_http_header hdrs[2 + 64];
    size_t n = 0;
    hdrs[n++] = (wb_http_header){"content-type", "application/json"};
    hdrs[n++] =
        (wb_http_header){"user-agent", cfg->outbound.user_agent ? cfg->outbound.user_agent
                                                                : "webhook-bridge/" WB_VERSION};
    for (size_t k = 0; k < cc->nheaders && n < sizeof(hdrs) / sizeof(hdrs[0]); k++)
        hdrs[n++] = (wb_http_header){cc->headers[k].name, cc->headers[k].value};
    wb_http_target_opts to = {
        .url = cc->url,
        .headers = hdrs,
        .nheaders = n,
        .timeout_ms = cc->timeout_ms,
        .connect_timeout_ms = cc->connect_timeout_ms,
        .allow_private = cc->allow_private_networks || cfg->allow_private_networks,
        .policy = st->policy,
        .https_only = cc->https_only,
        .client_cert = cc->client_cert,
        .client_key = cc->client_key,
        .ca_file = cc->ca_file,
        .proxy = cc->proxy,
    };
    if (http) {
        st->target = wb_http_target_new(http, &to, serr, sizeof(serr));
        if (!st->target) {
            snprintf(errstr, errstr_size, "%s:%d: %s", file, cc->line, serr);
            goto fail;
        }
    }
    st->type_pointer = cfg->outbound.event_type_pointer;
    st->id_pointer = cc->id_pointer ? cc->id_pointer : cfg->outbound.id_pointer;
    st->rate_per_s = cc->rate_per_s;
    return st;
fail:
    wb_settings_unref(st);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */

wb_settings *wb_settings_ref(wb_settings *st)
{
    st->refs++;
    return st;
}

/* gauges, status, keep-alive poll, registry and drain checks */

void wb_settings_unref(wb_settings *st)
{
    if (!st || --st->refs > 0) return;
    if (st->target) wb_http_target_release(st->target);
    wb_signer_free(st->signer);
    wb_egress_policy_free(st->policy);
    wb_config_unref(st->cfg);
    free(st);
}
