/* config_settings.c - every setting in one place: key, type, offset, bounds, default.
 *
 * A row reads {"key", T_TYPE, .off = where, ...}: the walker (config_yaml.c) finds keys
 * here, the setters (config_set.c) convert values by type and bounds, and
 * wb_config_defaults() writes the defaults before the walk, so a key that is present simply
 * replaces its default. Defaults are written as a user would write them in YAML ("10s",
 * "1MiB", "key") and go through the same conversion as a value from a file. */
#include "config/config_settings.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_set.h"
#include "config/config_yaml.h"
#include "core/util.h"

#ifndef WB_VERSION
#define WB_VERSION "0"
#endif

/* ------------------------------------------------------------------------------------------ */
/* Enum values (the index is what is stored)                                                   */
/* ------------------------------------------------------------------------------------------ */

/* order as wb_scheme (config.h) */
static const char *const scheme_names[] = {
    "standard-webhooks", "stripe", "github", "shopify", "slack", "hmac", "none", NULL};
static const char *const ordering_names[] = {"key", "partition", "none", NULL};
static const char *const exhausted_names[] = {"dead-letter", "block", NULL};
static const char *const direction_names[] = {"outbound", "inbound", NULL};
static const char *const algorithm_names[] = {"sha256", "sha512", NULL};
static const char *const encoding_names[] = {"hex", "base64", NULL};
/* order as wb_log_level / wb_log_format (core/log.h) */
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const format_names[] = {"json", "text", NULL};
/* order as wb_json_writer (registry.h) */
static const char *const writer_names[] = {"auto", "ce_dataschema", "schema_version", "newest",
                                           NULL};
/* index = wb_http2_mode (outbound/http.h) */
static const char *const http2_names[] = {"auto", "off", "prior-knowledge", NULL};

/* ------------------------------------------------------------------------------------------ */
/* Connector files (fields of wb_connector)                                                    */
/* ------------------------------------------------------------------------------------------ */

#define CO(m) offsetof(wb_connector, m)
#define GO(m) offsetof(wb_config, m)
#define END_FIELDS                                                                                 \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* signing: (outbound) and verify: (inbound) */
static const wb_field signing_fields[] = {
    {"scheme", T_ENUM, .off = CO(signing.scheme), .names = scheme_names,
     .def = "standard-webhooks"},
    {"secrets", T_SECRETS, .off = CO(signing.secrets), .count = CO(signing.nsecrets)},
    {"secret", T_SECRET1, .off = CO(signing.secrets), .count = CO(signing.nsecrets)},
    {"tolerance", T_DUR, .off = CO(signing.tolerance_ms), .min = 1000, .def = "5m"},
    {"insecure", T_BOOL, .off = CO(signing.insecure)},
    /* scheme hmac */
    {"header", T_STR, .off = CO(signing.hmac.header), .check = V_TOKEN},
    {"prefix", T_STR, .off = CO(signing.hmac.prefix), .def = ""},
    {"algorithm", T_ENUM, .off = CO(signing.hmac.sha512), .names = algorithm_names,
     .def = "sha256"},
    {"encoding", T_ENUM, .off = CO(signing.hmac.base64), .names = encoding_names, .def = "hex"},
    {"timestamp_header", T_STR, .off = CO(signing.hmac.timestamp_header), .check = V_TOKEN},
    {"content", T_STR, .off = CO(signing.hmac.content), .def = "{body}"},
    {"id_header", T_STR, .off = CO(signing.hmac.id_header), .check = V_TOKEN},
    END_FIELDS,
};

static const wb_field retry_fields[] = {
    {"schedule", T_DURLIST, .off = CO(retry_schedule_ms), .count = CO(nretry),
     .def = "0s, 5s, 5m, 30m, 2h, 5h, 10h"},
    {"on_exhausted", T_ENUM, .off = CO(on_exhausted), .names = exhausted_names,
     .def = "dead-letter"},
    {"retry_after_cap", T_DUR, .off = CO(retry_after_cap_ms), .def = "1h"},
    END_FIELDS,
};

static const wb_field breaker_fields[] = {
    {"failures", T_INT, .off = CO(circuit_failures), .min = 1, .max = 1000000, .def = "10"},
    {"cooldown", T_DUR, .off = CO(circuit_cooldown_ms), .min = 1, .def = "30s"},
    END_FIELDS,
};

static const wb_field tls_fields[] = {
    {"client_cert", T_STR, .off = CO(client_cert)},
    {"client_key", T_STR, .off = CO(client_key)},
    {"ca_file", T_STR, .off = CO(ca_file)},
    END_FIELDS,
};

const wb_field wb_config_connector_fields[] = {
    {"name", T_STR, .off = CO(name), .check = V_NAME},
    {"direction", T_ENUM, .off = CO(direction), .names = direction_names, .def = "outbound"},
    {"rate_limit", T_RATE, .off = CO(rate_per_s)},
    /* outbound */
    {"url", T_STR, .off = CO(url), .check = V_URL, .flags = F_OUT},
    {"events", T_STRLIST, .off = CO(events), .count = CO(nevents), .flags = F_OUT},
    {"signing", T_MAP, .sub = signing_fields, .flags = F_OUT},
    {"ordering", T_ENUM, .off = CO(ordering), .names = ordering_names, .def = "key",
     .flags = F_OUT},
    {"max_concurrency", T_INT, .off = CO(max_concurrency), .min = 1, .max = 10000, .def = "64",
     .flags = F_OUT},
    {"timeout", T_DUR, .off = CO(timeout_ms), .min = 1, .def = "10s", .flags = F_OUT},
    {"connect_timeout", T_DUR, .off = CO(connect_timeout_ms), .min = 1, .def = "5s",
     .flags = F_OUT},
    {"retry", T_MAP, .sub = retry_fields, .flags = F_OUT},
    {"headers", T_HEADERS, .off = CO(headers), .count = CO(nheaders), .flags = F_OUT},
    {"id_pointer", T_STR, .off = CO(id_pointer), .check = V_POINTER, .flags = F_OUT},
    {"contract", T_STR, .off = CO(contract), .check = V_SCHEMA_REF, .flags = F_OUT},
    {"contract_writer", T_ENUM, .off = CO(contract_writer), .names = writer_names, .def = "auto",
     .flags = F_OUT},
    {"filter", T_STR, .off = CO(filter), .flags = F_OUT},
    {"transform", T_STR, .off = CO(transform), .flags = F_OUT},
    {"circuit_breaker", T_MAP, .sub = breaker_fields, .flags = F_OUT},
    {"allow_private_networks", T_BOOL, .off = CO(allow_private_networks), .flags = F_OUT},
    {"allow_cidrs", T_STRLIST, .off = CO(allow_cidrs), .count = CO(nallow_cidrs), .check = V_CIDR,
     .flags = F_OUT},
    {"https_only", T_BOOL, .off = CO(https_only), .flags = F_OUT},
    {"tls", T_MAP, .sub = tls_fields, .flags = F_OUT},
    {"proxy", T_STR, .off = CO(proxy), .flags = F_OUT},
    /* default "<kafka group.id>.<name>" and outbound.topics, filled after the walk */
    {"group_id", T_STR, .off = CO(group_id), .check = V_GROUP, .flags = F_OUT},
    {"topics", T_STRLIST, .off = CO(topics), .count = CO(ntopics), .check = V_TOPIC,
     .flags = F_OUT},
    /* absent: latest (start_mode 0) */
    {"start", T_STR, .off = CO(start), .check = V_START, .flags = F_OUT},
    {"paused", T_BOOL, .off = CO(paused), .flags = F_OUT},
    {"http2", T_ENUM, .off = CO(http2), .names = http2_names, .def = "auto", .flags = F_OUT},
    /* inbound */
    {"verify", T_MAP, .sub = signing_fields, .flags = F_IN},
    {"topic", T_STR, .off = CO(topic), .check = V_TOPIC, .flags = F_IN},
    {"key", T_STR, .off = CO(key_pointer), .check = V_POINTER, .flags = F_IN},
    {"event_type", T_STR, .off = CO(event_type), .check = V_EVENT_TYPE, .flags = F_IN},
    /* lowered after the walk when kafka message.max.bytes is smaller (config_validate.c) */
    {"max_body", T_SIZE, .off = CO(max_body), .min = 1, .max = 1L << 30, .def = "1MiB",
     .flags = F_IN},
    {"dedupe_ttl", T_DUR, .off = CO(dedupe_ttl_ms), .def = "24h", .flags = F_IN},
    {"forward_headers", T_STRLIST, .off = CO(forward_headers), .count = CO(nforward_headers),
     .check = V_TOKEN, .flags = F_IN},
    {"schema", T_STR, .off = CO(schema), .check = V_SCHEMA_REF, .flags = F_IN},
    END_FIELDS,
};

/* ------------------------------------------------------------------------------------------ */
/* bridge.yaml (fields of wb_config)                                                           */
/* ------------------------------------------------------------------------------------------ */

static const wb_field embedded_fields[] = {
    {"brokers", T_INT, .off = GO(embedded_brokers), .min = 1, .max = 16, .def = "3"},
    {"partitions", T_INT, .off = GO(embedded_partitions), .min = 1, .max = 1024, .def = "4"},
    END_FIELDS,
};

static const wb_field outbound_fields[] = {
    {"topics", T_STRLIST, .off = GO(outbound.topics), .count = GO(outbound.ntopics),
     .check = V_TOPIC},
    {"dead_letter_topic", T_STR, .off = GO(outbound.dead_letter_topic), .check = V_TOPIC,
     .def = "webhook-bridge.dlq"},
    {"max_in_flight_per_partition", T_INT, .off = GO(outbound.max_in_flight_per_partition),
     .min = 1, .max = 1000000, .def = "1000"},
    {"drain_timeout", T_DUR, .off = GO(outbound.drain_timeout_ms), .def = "30s"},
    {"event_type_pointer", T_STR, .off = GO(outbound.event_type_pointer), .check = V_POINTER},
    {"id_pointer", T_STR, .off = GO(outbound.id_pointer), .check = V_POINTER},
    {"user_agent", T_STR, .off = GO(outbound.user_agent), .def = "webhook-bridge/" WB_VERSION},
    {"loops", T_INT, .off = GO(outbound.loops), .min = 1, .max = 64, .def = "1"},
    /* before loops existed, several engines per process were "workers": same meaning now */
    {"workers", T_INT, .off = GO(outbound.loops), .min = 1, .max = 64},
    {"fetch_buffer", T_SIZE, .off = GO(outbound.fetch_buffer), .min = 1L << 20, .max = 1L << 34,
     .def = "16MiB"},
    {"max_in_flight_bytes", T_SIZE, .off = GO(outbound.max_in_flight_bytes), .min = 1L << 16,
     .max = 1L << 36, .def = "64MiB"},
    {"commit_interval", T_DUR, .off = GO(outbound.commit_interval_ms), .min = 10, .def = "250ms"},
    {"retention", T_DUR, .off = GO(outbound.retention_ms), .min = 1000, .def = "7d"},
    {"jq_budget", T_DUR, .off = GO(outbound.jq_budget_ms), .min = 1, .def = "100ms"},
    {"jq_memory", T_SIZE, .off = GO(outbound.jq_memory), .min = 32L << 20, .max = 1L << 40,
     .def = "256MiB"},
    END_FIELDS,
};

static const wb_field inbound_fields[] = {
    {"listen", T_STR, .off = GO(inbound.listen), .check = V_LISTEN},
    {"max_connections", T_INT, .off = GO(inbound.max_connections), .min = 1, .max = 1000000,
     .def = "1024"},
    {"request_timeout", T_DUR, .off = GO(inbound.request_timeout_ms), .min = 1, .def = "30s"},
    {"header_timeout", T_DUR, .off = GO(inbound.header_timeout_ms), .min = 100, .def = "10s"},
    {"max_connections_per_ip", T_INT, .off = GO(inbound.max_connections_per_ip), .min = 0,
     .max = 1000000, .def = "256"},
    {"publish_timeout", T_DUR, .off = GO(inbound.publish_timeout_ms), .min = 1, .def = "10s"},
    {"max_header", T_SIZE, .off = GO(inbound.max_header), .min = 1024, .max = 1L << 24,
     .def = "16KiB"},
    {"threads", T_INT, .off = GO(inbound.threads), .min = 1, .max = 256, .def = "2"},
    END_FIELDS,
};

static const wb_field admin_fields[] = {
    {"listen", T_STR, .off = GO(admin.listen), .check = V_LISTEN},
    {"token", T_SECRET, .off = GO(admin.token)},
    END_FIELDS,
};

static const wb_field log_fields[] = {
    {"level", T_ENUM, .off = GO(log.level), .names = level_names, .def = "info"},
    {"format", T_ENUM, .off = GO(log.format), .names = format_names, .def = "json"},
    END_FIELDS,
};

static const wb_field registry_fields[] = {
    {"url", T_STR, .off = GO(schema_registry.url), .check = V_URL},
    {"username", T_STR, .off = GO(schema_registry.username)},
    {"password", T_SECRET, .off = GO(schema_registry.password)},
    {"bearer_token", T_SECRET, .off = GO(schema_registry.bearer_token)},
    /* absent: "schemas"; a relative dir is joined to the folder of bridge.yaml after the walk */
    {"dir", T_STR, .off = GO(schema_registry.dir)},
    {"cache_size", T_INT, .off = GO(schema_registry.cache_size), .min = 1, .max = 1000000,
     .def = "1000"},
    {"negative_ttl", T_DUR, .off = GO(schema_registry.negative_ttl_ms), .min = 1000, .def = "60s"},
    END_FIELDS,
};

const wb_field wb_config_root_fields[] = {
    {.name = "kafka", .type = T_KAFKA},
    {"embedded", T_MAP, .sub = embedded_fields},
    {"outbound", T_MAP, .sub = outbound_fields},
    {"inbound", T_MAP, .sub = inbound_fields},
    {"admin", T_MAP, .sub = admin_fields},
    {"log", T_MAP, .sub = log_fields},
    {"schema_registry", T_MAP, .sub = registry_fields},
    {"allow_private_networks", T_BOOL, .off = GO(allow_private_networks)},
    {.name = "connectors", .type = T_CONNECTORS},
    END_FIELDS,
};

/* ------------------------------------------------------------------------------------------ */
/* Defaults                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* A list default ("0s, 5s, 5m") into the T_DURLIST f of base (replacing what it held). */
static void default_durlist(wb_config_ctx *c, const wb_field *f, void *base)
{
    int64_t **dst = (int64_t **)(void *)((char *)base + f->off);
    size_t *dstn = (size_t *)(void *)((char *)base + f->count);
    size_t n = 1;
    for (const char *s = f->def; *s; s++)
        n += *s == ',';
    free(*dst);
    *dstn = 0;
    if (!(*dst = calloc(n, sizeof(**dst)))) {
        wb_config_oom(c);
        return;
    }
    for (const char *s = f->def; *s;) {
        char item[32];
        size_t len = strcspn(s, ",");
        snprintf(item, sizeof(item), "%.*s", (int)len, s);
        s += len + (s[len] == ',');
        s += strspn(s, " ");
        if (wb_parse_duration_ms(item, &(*dst)[*dstn]) == WB_OK)
            (*dstn)++;
        else /* a bad built-in default: every load fails, which the unit tests see */
            wb_config_report(c, 0, f->name, "invalid default '%s'", item);
    }
}

/* See config_model.h. */
void wb_config_defaults(wb_config_ctx *c, const wb_field *table, void *base)
{
    for (const wb_field *f = table; f->name; f++) {
        char *p = (char *)base + f->off;
        if (f->type == T_MAP) {
            /* signing: and verify: share a table (and offsets): written twice, same values */
            wb_config_defaults(c, f->sub, base);
            continue;
        }
        if (!f->def) continue;
        if (f->type == T_STR) {
            free(*(char **)(void *)p);
            *(char **)(void *)p = wb_config_strdup(c, f->def);
        } else if (f->type == T_DURLIST) {
            default_durlist(c, f, base);
        } else {
            wb_config_set_scalar(c, f, p, 0, f->def);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* See config_model.h. */
const char *wb_config_ordering_name(wb_ordering o)
{
    if ((int)o < 0 || (int)o > WB_ORDER_NONE) return "unknown";
    return ordering_names[o];
}

/* See config_model.h. */
const char *wb_scheme_name(wb_scheme s)
{
    if ((int)s < 0 || (int)s > WB_SCHEME_NONE) return "unknown";
    return scheme_names[s];
}
