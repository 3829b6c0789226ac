/* config_validate.c - rules across keys (one connector) and across files (the whole config).
 *
 * The walk checked every value on its own; what is left needs several: a key that is
 * required, a key that only makes sense with another, a limit that depends on the Kafka
 * settings. Each message names the key the user has to change, at its line when present
 * (else at the line of the mapping that lacks it). */
#include "config/config_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_contract.h"
#include "config/config_settings.h"
#include "config/config_yaml.h"
#include "jq/jq.h"

/* An inbound body is published as one record: max_body above the producer's
 * message.max.bytes is a body that can never be published. The default (1MiB) is lowered to
 * leave WB_RECORD_HEADROOM for the key and headers when the producer's limit is smaller. */
#define WB_RECORD_HEADROOM (32 * 1024)

/* ------------------------------------------------------------------------------------------ */
/* One connector                                                                               */
/* ------------------------------------------------------------------------------------------ */

/* A jq program compiles now (as `run` compiles it), or the error carries jq's message. */
static void check_jq(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *root, const char *key,
                     const char *expr)
{
    char msg[600];
    int line = 1;
    if (!expr) return;
    wb_config_map_get(doc, root, key, &line);
    if (wb_jq_check(expr, msg, sizeof(msg)) != WB_OK)
        wb_config_report(c, line, key, "invalid jq program: %s", msg);
}

/* hmac: a timestamp_header or id_header outside the signed content can be rewritten by
 * whoever replays a captured request (a fresh timestamp, a new id that passes dedupe).
 * header is the configured header of key (or NULL); placeholder must be in content. */
static void check_covered(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *sig, int sigline,
                          const char *key, const char *header, const char *content,
                          const char *placeholder, const char *replay)
{
    int line = sigline;
    if (!header || strstr(content, placeholder)) return;
    wb_config_map_get(doc, sig, key, &line);
    wb_config_report(c, line, key,
                     "%s is not covered by the signed content '%s': add %s to content (a replay "
                     "%s)",
                     header, content, placeholder, replay);
}

static void hmac_coverage(wb_config_ctx *c, const wb_connector *cc, yaml_document_t *doc,
                          yaml_node_t *sig, int sigline)
{
    const wb_hmac_opts *o = &cc->signing.hmac;
    const char *content = o->content ? o->content : "{body}";
    check_covered(c, doc, sig, sigline, "timestamp_header", o->timestamp_header, content,
                  "{timestamp}", "with a fresh timestamp would pass");
    check_covered(c, doc, sig, sigline, "id_header", o->id_header, content, "{id}",
                  "with a new id would pass dedupe");
}

/* max_body against the producer's message.max.bytes: an explicit value above it is an
 * error, the default is lowered to fit (see WB_RECORD_HEADROOM). */
static void inbound_body_limit(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                               yaml_node_t *root)
{
    size_t mmb = wb_config_kafka_max_message(c->cfg);
    int line = cc->line;
    if (!wb_config_map_get(doc, root, "max_body", &line)) {
        if (cc->max_body + WB_RECORD_HEADROOM > mmb)
            cc->max_body = mmb > 2 * WB_RECORD_HEADROOM ? mmb - WB_RECORD_HEADROOM : mmb / 2;
        return;
    }
    if (cc->max_body > mmb)
        wb_config_report(c, line, "max_body",
                         "%zu bytes is above kafka message.max.bytes (%zu): such a body could "
                         "never be published; raise kafka.message.max.bytes (and the topic's "
                         "max.message.bytes) or lower max_body",
                         cc->max_body, mmb);
}

/* Outbound: a URL (https:// when https_only), events to subscribe to, a real signature,
 * both halves of a client certificate, jq programs that compile. */
static void outbound_rules(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                           yaml_node_t *root, int sigline)
{
    int line = cc->line;
    yaml_node_t *ev = wb_config_map_get(doc, root, "events", NULL);
    int events_empty = !ev || (ev->type == YAML_SEQUENCE_NODE &&
                               ev->data.sequence.items.top == ev->data.sequence.items.start);
    if (!wb_config_map_get(doc, root, "url", NULL))
        wb_config_report(c, line, "url", "required for outbound connectors");
    else if (cc->url && cc->https_only && strncasecmp(cc->url, "https://", 8))
        wb_config_report(c, line, "url", "https_only is set but the URL is not https://");
    if (events_empty)
        wb_config_report(c, line, "events", "required for outbound connectors (a non-empty list)");
    if (cc->signing.scheme == WB_SCHEME_NONE)
        wb_config_report(c, sigline, "scheme", "'none' is only allowed for inbound connectors");
    if ((cc->client_cert != NULL) != (cc->client_key != NULL))
        wb_config_report(c, line, "tls", "client_cert and client_key must be given together");
    check_jq(c, doc, root, "filter", cc->filter);
    check_jq(c, doc, root, "transform", cc->transform);
    /* The contract itself is checked once every connector is loaded (the schemas folder is
     * read once): remember where it was written. */
    if (cc->contract) wb_config_map_get(doc, root, "contract", &cc->contract_line);
}

/* Inbound: a topic to publish to; scheme none only when insecure: true says it is meant. */
static void inbound_rules(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                          yaml_node_t *root, int sigline)
{
    if (!wb_config_map_get(doc, root, "topic", NULL))
        wb_config_report(c, cc->line, "topic", "required for inbound connectors");
    if (cc->signing.scheme == WB_SCHEME_NONE && !cc->signing.insecure)
        wb_config_report(c, sigline, "scheme",
                         "'none' disables verification; it needs insecure: true");
}

/* Both directions: a secret for every scheme but none; hmac needs its header, and whatever
 * it trusts from other headers must be signed. sig is the signing:/verify: mapping or NULL. */
static void signing_rules(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                          yaml_node_t *sig, int sigline)
{
    /* Secrets given but unusable (unset variable, ...) were reported by the walk. */
    int secrets_given = 0;
    if (sig && sig->type == YAML_MAPPING_NODE) {
        yaml_node_t *sv = wb_config_map_get(doc, sig, "secrets", NULL);
        secrets_given = wb_config_map_get(doc, sig, "secret", NULL) ||
                        (sv && (sv->type != YAML_SEQUENCE_NODE ||
                                sv->data.sequence.items.top > sv->data.sequence.items.start));
    }
    if (cc->signing.scheme != WB_SCHEME_NONE && !cc->signing.nsecrets && !secrets_given)
        wb_config_report(c, sigline, "secrets", "at least one secret is required for scheme %s",
                         wb_scheme_name(cc->signing.scheme));
    if (cc->signing.scheme == WB_SCHEME_HMAC && !cc->signing.hmac.header)
        wb_config_report(c, sigline, "header", "required for scheme hmac");
    if (cc->signing.scheme == WB_SCHEME_HMAC && sig && sig->type == YAML_MAPPING_NODE)
        hmac_coverage(c, cc, doc, sig, sigline);
}

/* See config_validate.h. */
void wb_config_validate_connector(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                                  yaml_node_t *root)
{
    const char *sigkey = cc->direction == WB_DIR_OUTBOUND ? "signing" : "verify";
    int sigline = cc->line;
    yaml_node_t *sig = wb_config_map_get(doc, root, sigkey, &sigline);
    if (!wb_config_map_get(doc, root, "name", NULL))
        wb_config_report(c, cc->line, "name", "required");
    if (cc->direction == WB_DIR_OUTBOUND)
        outbound_rules(c, cc, doc, root, sigline);
    else
        inbound_rules(c, cc, doc, root, sigline);
    signing_rules(c, cc, doc, sig, sigline);
    if (cc->direction == WB_DIR_INBOUND) inbound_body_limit(c, cc, doc, root);
}

/* ------------------------------------------------------------------------------------------ */
/* The whole configuration                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* inbound.header_timeout within inbound.request_timeout (both count from the same start). */
static void inbound_timeouts(wb_config_ctx *c, yaml_document_t *doc)
{
    wb_config *cfg = c->cfg;
    if (cfg->inbound.header_timeout_ms <= cfg->inbound.request_timeout_ms) return;
    int line = 1;
    yaml_node_t *root = yaml_document_get_root_node(doc);
    yaml_node_t *in = root ? wb_config_map_get(doc, root, "inbound", &line) : NULL;
    if (in && in->type == YAML_MAPPING_NODE) wb_config_map_get(doc, in, "header_timeout", &line);
    wb_config_report(c, line, "header_timeout", "must not be longer than request_timeout");
}

/* Connector i's name is not one of an earlier connector (reported at the later one). */
static void unique_name(wb_config_ctx *c, size_t i)
{
    wb_config *cfg = c->cfg;
    wb_connector *cc = &cfg->connectors[i];
    for (size_t j = 0; j < i && cc->name; j++) {
        wb_connector *other = &cfg->connectors[j];
        if (other->name && !strcmp(other->name, cc->name)) {
            wb_config_report(c, cc->line, "name", "duplicate connector name '%s' (also in %s:%d)",
                             cc->name, other->file ? other->file : "?", other->line);
            return;
        }
    }
}

/* An outbound connector has its own Kafka cursor: topics default to the bridge's, the group
 * to <group.id>.<name>. */
static void default_cursor(wb_config_ctx *c, wb_connector *cc)
{
    wb_config *cfg = c->cfg;
    if (!cc->ntopics && cfg->outbound.ntopics) {
        cc->topics = calloc(cfg->outbound.ntopics, sizeof(char *));
        if (!cc->topics) {
            wb_config_oom(c);
            return;
        }
        for (size_t t = 0; t < cfg->outbound.ntopics; t++)
            if ((cc->topics[t] = wb_config_strdup(c, cfg->outbound.topics[t]))) cc->ntopics = t + 1;
    }
    if (!cc->group_id && cc->name) {
        size_t n = strlen(wb_config_group_id(cfg)) + strlen(cc->name) + 2;
        if ((cc->group_id = malloc(n)))
            snprintf(cc->group_id, n, "%s.%s", wb_config_group_id(cfg), cc->name);
        else
            wb_config_oom(c);
    }
}

/* See config_validate.h. */
void wb_config_validate_all(wb_config_ctx *c, yaml_document_t *doc)
{
    wb_config *cfg = c->cfg;
    const char *bridge_file = c->file;
    inbound_timeouts(c, doc);
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        wb_connector *cc = &cfg->connectors[i];
        c->file = cc->file ? cc->file : "?";
        unique_name(c, i);
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        if (cc->nevents && !cfg->outbound.ntopics && !cc->ntopics)
            wb_config_report(c, cc->line, "events",
                             "connector '%s' subscribes to events but neither its topics: nor "
                             "outbound.topics in %s is set",
                             cc->name ? cc->name : "?", bridge_file);
        default_cursor(c, cc);
    }
    wb_config_check_contracts(c);
    c->file = bridge_file;
}
