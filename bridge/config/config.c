/* config.c - bridge.yaml + connector files -> wb_config (see config.h).
 *
 * The YAML is loaded with libyaml's document API (nodes carry their line). Settings are
 * described by tables of `field` (name, type, offset into the struct being filled, bounds),
 * after nginx's ngx_command_t: one generic walker applies a table to a mapping, reports
 * unknown keys with a "did you mean" suggestion, and converts every scalar. Defaults are
 * written before the walk, so a key that is present simply replaces its default.
 *
 * Errors never stop the walk: each one is appended as "path:line: key: message" and the
 * load fails at the end if any was reported, so one run shows every mistake. */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <librdkafka/rdkafka.h>
#include <yaml.h>

#include "core/buf.h"
#include "core/timefmt.h"
#include "core/log.h"
#include "jq/jq.h"
#include "schema/registry.h"
#include "config/secret.h"
#include "core/util.h"

#ifndef WB_VERSION
#define WB_VERSION "0"
#endif

#define MAX_ERRORS_TEXT (64 * 1024)

static int live_configs; /* allocated by wb_config_load and not yet freed (atomic) */

/* ------------------------------------------------------------------------------------------ */
/* Load context and error reporting                                                            */
/* ------------------------------------------------------------------------------------------ */

typedef struct ctx {
    wb_buf errs;
    int nerrs;
    int nomem;
    const char *file; /* display path of the file being walked */
    wb_config *cfg;
    wb_connector *conn;           /* connector being filled, or NULL for bridge.yaml */
    yaml_node_t *connectors_node; /* "connectors:" value in bridge.yaml */
    int connectors_line;
} ctx;

static int node_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 1;
}

__attribute__((format(printf, 4, 5))) static void report(ctx *c, int line, const char *key,
                                                         const char *fmt, ...)
{
    va_list ap;
    c->nerrs++;
    if (wb_buf_printf(&c->errs, "%s:%d: %s: ", c->file, line, key) != WB_OK) return;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)wb_buf_printf(&c->errs, "%s\n", msg);
}

static void oom(ctx *c)
{
    if (!c->nomem) {
        c->nomem = 1;
        c->nerrs++;
        (void)wb_buf_adds(&c->errs, "out of memory\n");
    }
}

static char *dup_or_oom(ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d) oom(c);
    return d;
}

/* Optimal-string-alignment (Damerau-Levenshtein) distance, case-insensitive, short words. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 &&
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

/* ------------------------------------------------------------------------------------------ */
/* Field tables                                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef enum ftype {
    T_STR,        /* char * */
    T_SECRET,     /* char *, may be file:/path */
    T_SECRETS,    /* char ** + size_t count at off2; file:/path allowed */
    T_SECRET1,    /* one more entry for the T_SECRETS list at off/off2 ("secret:") */
    T_STRLIST,    /* char ** + size_t count */
    T_INT,        /* int in [min,max] */
    T_BOOL,       /* int 0/1 */
    T_DUR,        /* int64_t ms, >= min ms */
    T_DURLIST,    /* int64_t * + size_t count */
    T_SIZE,       /* size_t in [min,max] */
    T_RATE,       /* double per second */
    T_ENUM,       /* int index into names */
    T_MAP,        /* nested table, same base */
    T_HEADERS,    /* wb_header * + size_t count */
    T_KAFKA,      /* bridge.yaml kafka: */
    T_CONNECTORS, /* bridge.yaml connectors: (resolved after the walk) */
} ftype;

/* Extra checks on string values. */
enum {
    V_NONE = 0,
    V_TOPIC,
    V_POINTER,
    V_NAME,
    V_URL,
    V_CIDR,
    V_SCHEMA_REF,
    V_EVENT_TYPE,
    V_TOKEN,
    V_LISTEN,
    V_GROUP,
    V_START,
};
/* Connector keys restricted to one direction. */
enum { F_OUT = 1, F_IN = 2 };

typedef struct field {
    const char *name;
    ftype type;
    size_t off;
    size_t off2; /* count of a list */
    long min, max;
    const char *const *names; /* T_ENUM, NULL-terminated */
    const struct field *sub;  /* T_MAP */
    int check;                /* V_* */
    int flags;                /* F_* */
} field;

#define END_FIELDS                                                                                 \
    {                                                                                              \
        NULL, 0, 0, 0, 0, 0, NULL, NULL, 0, 0                                                      \
    }

static const char *const scheme_names[] = {
    "standard-webhooks", "stripe", "github", "shopify", "slack", "hmac", "none", NULL};
static const char *const ordering_names[] = {"key", "partition", "none", NULL};
static const char *const exhausted_names[] = {"dead-letter", "block", NULL};
static const char *const direction_names[] = {"outbound", "inbound", NULL};
static const char *const algorithm_names[] = {"sha256", "sha512", NULL};
static const char *const encoding_names[] = {"hex", "base64", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const format_names[] = {"json", "text", NULL};
/* order as wb_json_writer (registry.h) */
static const char *const writer_names[] = {"auto", "ce_dataschema", "schema_version", "newest",
                                           NULL};
/* index = wb_http2_mode (outbound/http.h) */
static const char *const http2_names[] = {"auto", "off", "prior-knowledge", NULL};

#define CO(m) offsetof(wb_connector, m)
#define GO(m) offsetof(wb_config, m)
#define MS(x) ((long)(x))

static const field signing_fields[] = {
    {"scheme", T_ENUM, CO(signing.scheme), 0, 0, 0, scheme_names, NULL, 0, 0},
    {"secrets", T_SECRETS, CO(signing.secrets), CO(signing.nsecrets), 0, 0, NULL, NULL, 0, 0},
    {"secret", T_SECRET1, CO(signing.secrets), CO(signing.nsecrets), 0, 0, NULL, NULL, 0, 0},
    {"tolerance", T_DUR, CO(signing.tolerance_ms), 0, 1000, 0, NULL, NULL, 0, 0},
    {"insecure", T_BOOL, CO(signing.insecure), 0, 0, 0, NULL, NULL, 0, 0},
    {"header", T_STR, CO(signing.hmac.header), 0, 0, 0, NULL, NULL, V_TOKEN, 0},
    {"prefix", T_STR, CO(signing.hmac.prefix), 0, 0, 0, NULL, NULL, 0, 0},
    {"algorithm", T_ENUM, CO(signing.hmac.sha512), 0, 0, 0, algorithm_names, NULL, 0, 0},
    {"encoding", T_ENUM, CO(signing.hmac.base64), 0, 0, 0, encoding_names, NULL, 0, 0},
    {"timestamp_header", T_STR, CO(signing.hmac.timestamp_header), 0, 0, 0, NULL, NULL, V_TOKEN, 0},
    {"content", T_STR, CO(signing.hmac.content), 0, 0, 0, NULL, NULL, 0, 0},
    {"id_header", T_STR, CO(signing.hmac.id_header), 0, 0, 0, NULL, NULL, V_TOKEN, 0},
    END_FIELDS,
};

static const field retry_fields[] = {
    {"schedule", T_DURLIST, CO(retry_schedule_ms), CO(nretry), 0, 0, NULL, NULL, 0, 0},
    {"on_exhausted", T_ENUM, CO(on_exhausted), 0, 0, 0, exhausted_names, NULL, 0, 0},
    {"retry_after_cap", T_DUR, CO(retry_after_cap_ms), 0, 0, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field breaker_fields[] = {
    {"failures", T_INT, CO(circuit_failures), 0, 1, 1000000, NULL, NULL, 0, 0},
    {"cooldown", T_DUR, CO(circuit_cooldown_ms), 0, 1, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field tls_fields[] = {
    {"client_cert", T_STR, CO(client_cert), 0, 0, 0, NULL, NULL, 0, 0},
    {"client_key", T_STR, CO(client_key), 0, 0, 0, NULL, NULL, 0, 0},
    {"ca_file", T_STR, CO(ca_file), 0, 0, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field connector_fields[] = {
    {"name", T_STR, CO(name), 0, 0, 0, NULL, NULL, V_NAME, 0},
    {"direction", T_ENUM, CO(direction), 0, 0, 0, direction_names, NULL, 0, 0},
    {"rate_limit", T_RATE, CO(rate_per_s), 0, 0, 0, NULL, NULL, 0, 0},
    /* outbound */
    {"url", T_STR, CO(url), 0, 0, 0, NULL, NULL, V_URL, F_OUT},
    {"events", T_STRLIST, CO(events), CO(nevents), 0, 0, NULL, NULL, 0, F_OUT},
    {"signing", T_MAP, 0, 0, 0, 0, NULL, signing_fields, 0, F_OUT},
    {"ordering", T_ENUM, CO(ordering), 0, 0, 0, ordering_names, NULL, 0, F_OUT},
    {"max_concurrency", T_INT, CO(max_concurrency), 0, 1, 10000, NULL, NULL, 0, F_OUT},
    {"timeout", T_DUR, CO(timeout_ms), 0, 1, 0, NULL, NULL, 0, F_OUT},
    {"connect_timeout", T_DUR, CO(connect_timeout_ms), 0, 1, 0, NULL, NULL, 0, F_OUT},
    {"retry", T_MAP, 0, 0, 0, 0, NULL, retry_fields, 0, F_OUT},
    {"headers", T_HEADERS, CO(headers), CO(nheaders), 0, 0, NULL, NULL, 0, F_OUT},
    {"id_pointer", T_STR, CO(id_pointer), 0, 0, 0, NULL, NULL, V_POINTER, F_OUT},
    {"contract", T_STR, CO(contract), 0, 0, 0, NULL, NULL, V_SCHEMA_REF, F_OUT},
    {"contract_writer", T_ENUM, CO(contract_writer), 0, 0, 0, writer_names, NULL, 0, F_OUT},
    {"filter", T_STR, CO(filter), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"transform", T_STR, CO(transform), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"circuit_breaker", T_MAP, 0, 0, 0, 0, NULL, breaker_fields, 0, F_OUT},
    {"allow_private_networks", T_BOOL, CO(allow_private_networks), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"allow_cidrs", T_STRLIST, CO(allow_cidrs), CO(nallow_cidrs), 0, 0, NULL, NULL, V_CIDR, F_OUT},
    {"https_only", T_BOOL, CO(https_only), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"tls", T_MAP, 0, 0, 0, 0, NULL, tls_fields, 0, F_OUT},
    {"proxy", T_STR, CO(proxy), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"group_id", T_STR, CO(group_id), 0, 0, 0, NULL, NULL, V_GROUP, F_OUT},
    {"topics", T_STRLIST, CO(topics), CO(ntopics), 0, 0, NULL, NULL, V_TOPIC, F_OUT},
    {"start", T_STR, CO(start), 0, 0, 0, NULL, NULL, V_START, F_OUT},
    {"paused", T_BOOL, CO(paused), 0, 0, 0, NULL, NULL, 0, F_OUT},
    {"http2", T_ENUM, CO(http2), 0, 0, 0, http2_names, NULL, 0, F_OUT},
    /* inbound */
    {"verify", T_MAP, 0, 0, 0, 0, NULL, signing_fields, 0, F_IN},
    {"topic", T_STR, CO(topic), 0, 0, 0, NULL, NULL, V_TOPIC, F_IN},
    {"key", T_STR, CO(key_pointer), 0, 0, 0, NULL, NULL, V_POINTER, F_IN},
    {"event_type", T_STR, CO(event_type), 0, 0, 0, NULL, NULL, V_EVENT_TYPE, F_IN},
    {"max_body", T_SIZE, CO(max_body), 0, 1, 1L << 30, NULL, NULL, 0, F_IN},
    {"dedupe_ttl", T_DUR, CO(dedupe_ttl_ms), 0, 0, 0, NULL, NULL, 0, F_IN},
    {"forward_headers", T_STRLIST, CO(forward_headers), CO(nforward_headers), 0, 0, NULL, NULL,
     V_TOKEN, F_IN},
    {"schema", T_STR, CO(schema), 0, 0, 0, NULL, NULL, V_SCHEMA_REF, F_IN},
    END_FIELDS,
};

static const field embedded_fields[] = {
    {"brokers", T_INT, GO(embedded_brokers), 0, 1, 16, NULL, NULL, 0, 0},
    {"partitions", T_INT, GO(embedded_partitions), 0, 1, 1024, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field outbound_fields[] = {
    {"topics", T_STRLIST, GO(outbound.topics), GO(outbound.ntopics), 0, 0, NULL, NULL, V_TOPIC, 0},
    {"dead_letter_topic", T_STR, GO(outbound.dead_letter_topic), 0, 0, 0, NULL, NULL, V_TOPIC, 0},
    {"max_in_flight_per_partition", T_INT, GO(outbound.max_in_flight_per_partition), 0, 1, 1000000,
     NULL, NULL, 0, 0},
    {"drain_timeout", T_DUR, GO(outbound.drain_timeout_ms), 0, 0, 0, NULL, NULL, 0, 0},
    {"event_type_pointer", T_STR, GO(outbound.event_type_pointer), 0, 0, 0, NULL, NULL, V_POINTER,
     0},
    {"id_pointer", T_STR, GO(outbound.id_pointer), 0, 0, 0, NULL, NULL, V_POINTER, 0},
    {"user_agent", T_STR, GO(outbound.user_agent), 0, 0, 0, NULL, NULL, 0, 0},
    {"loops", T_INT, GO(outbound.loops), 0, 1, 64, NULL, NULL, 0, 0},
    /* before loops existed, several engines per process were "workers": same meaning now */
    {"workers", T_INT, GO(outbound.loops), 0, 1, 64, NULL, NULL, 0, 0},
    {"fetch_buffer", T_SIZE, GO(outbound.fetch_buffer), 0, 1L << 20, 1L << 34, NULL, NULL, 0, 0},
    {"max_in_flight_bytes", T_SIZE, GO(outbound.max_in_flight_bytes), 0, 1L << 16, 1L << 36, NULL,
     NULL, 0, 0},
    {"commit_interval", T_DUR, GO(outbound.commit_interval_ms), 0, 10, 0, NULL, NULL, 0, 0},
    {"retention", T_DUR, GO(outbound.retention_ms), 0, 1000, 0, NULL, NULL, 0, 0},
    {"jq_budget", T_DUR, GO(outbound.jq_budget_ms), 0, 1, 0, NULL, NULL, 0, 0},
    {"jq_memory", T_SIZE, GO(outbound.jq_memory), 0, 32L << 20, 1L << 40, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field inbound_fields[] = {
    {"listen", T_STR, GO(inbound.listen), 0, 0, 0, NULL, NULL, V_LISTEN, 0},
    {"max_connections", T_INT, GO(inbound.max_connections), 0, 1, 1000000, NULL, NULL, 0, 0},
    {"request_timeout", T_DUR, GO(inbound.request_timeout_ms), 0, 1, 0, NULL, NULL, 0, 0},
    {"header_timeout", T_DUR, GO(inbound.header_timeout_ms), 0, 100, 0, NULL, NULL, 0, 0},
    {"max_connections_per_ip", T_INT, GO(inbound.max_connections_per_ip), 0, 0, 1000000, NULL, NULL,
     0, 0},
    {"publish_timeout", T_DUR, GO(inbound.publish_timeout_ms), 0, 1, 0, NULL, NULL, 0, 0},
    {"max_header", T_SIZE, GO(inbound.max_header), 0, 1024, 1L << 24, NULL, NULL, 0, 0},
    {"threads", T_INT, GO(inbound.threads), 0, 1, 256, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field admin_fields[] = {
    {"listen", T_STR, GO(admin.listen), 0, 0, 0, NULL, NULL, V_LISTEN, 0},
    {"token", T_SECRET, GO(admin.token), 0, 0, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field log_fields[] = {
    {"level", T_ENUM, GO(log.level), 0, 0, 0, level_names, NULL, 0, 0},
    {"format", T_ENUM, GO(log.format), 0, 0, 0, format_names, NULL, 0, 0},
    END_FIELDS,
};

static const field registry_fields[] = {
    {"url", T_STR, GO(schema_registry.url), 0, 0, 0, NULL, NULL, V_URL, 0},
    {"username", T_STR, GO(schema_registry.username), 0, 0, 0, NULL, NULL, 0, 0},
    {"password", T_SECRET, GO(schema_registry.password), 0, 0, 0, NULL, NULL, 0, 0},
    {"bearer_token", T_SECRET, GO(schema_registry.bearer_token), 0, 0, 0, NULL, NULL, 0, 0},
    {"dir", T_STR, GO(schema_registry.dir), 0, 0, 0, NULL, NULL, 0, 0},
    {"cache_size", T_INT, GO(schema_registry.cache_size), 0, 1, 1000000, NULL, NULL, 0, 0},
    {"negative_ttl", T_DUR, GO(schema_registry.negative_ttl_ms), 0, 1000, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

static const field root_fields[] = {
    {"kafka", T_KAFKA, 0, 0, 0, 0, NULL, NULL, 0, 0},
    {"embedded", T_MAP, 0, 0, 0, 0, NULL, embedded_fields, 0, 0},
    {"outbound", T_MAP, 0, 0, 0, 0, NULL, outbound_fields, 0, 0},
    {"inbound", T_MAP, 0, 0, 0, 0, NULL, inbound_fields, 0, 0},
    {"admin", T_MAP, 0, 0, 0, 0, NULL, admin_fields, 0, 0},
    {"log", T_MAP, 0, 0, 0, 0, NULL, log_fields, 0, 0},
    {"schema_registry", T_MAP, 0, 0, 0, 0, NULL, registry_fields, 0, 0},
    {"allow_private_networks", T_BOOL, GO(allow_private_networks), 0, 0, 0, NULL, NULL, 0, 0},
    {"connectors", T_CONNECTORS, 0, 0, 0, 0, NULL, NULL, 0, 0},
    END_FIELDS,
};

/* ------------------------------------------------------------------------------------------ */
/* Scalars: null test, ${ENV} interpolation, file:/path secrets                                */
/* ------------------------------------------------------------------------------------------ */

static const char *scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static int is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = scalar(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* s with references expanded (secret.h); NULL when reported. */
static char *expand(ctx *c, int line, const char *key, const char *s, int allow_file)
{
    char msg[512];
    char *v = wb_secret_expand(s, allow_file, msg, sizeof(msg));
    if (!v) {
        if (!strcmp(msg, "out of memory"))
            oom(c);
        else
            report(c, line, key, "%s", msg);
    }
    return v;
}

/* A string value: must be a scalar; interpolated; file:/path read when secret != 0. */
static char *string_value(ctx *c, const yaml_node_t *n, const char *key, int secret)
{
    if (n->type != YAML_SCALAR_NODE) {
        report(c, node_line(n), key, "expected a string, got %s", kind_name(n));
        return NULL;
    }
    return expand(c, node_line(n), key, scalar(n), secret);
}

/* ------------------------------------------------------------------------------------------ */
/* Value checks                                                                                */
/* ------------------------------------------------------------------------------------------ */

static int valid_topic(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i])) return 0;
    return 1;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && !strchr("._-", s[i]))
            return 0;
    return 1;
}

static int valid_token(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s)) return 0;
    return 1;
}

/* "host:port", "[v6]:port" or ":port"; port 0..65535 (0: an ephemeral port, logged at start). */
static int valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    long port;
    if (!colon || wb_parse_int(colon + 1, 0, 65535, &port) != WB_OK) return 0;
    for (const char *p = s; p < colon; p++)
        if ((unsigned char)*p <= ' ' || *p == '/') return 0;
    return 1;
}

/* Headers the HTTP client or the signer owns. */
static int reserved_header(const char *name)
{
    static const char *const reserved[] = {
        "host",         "content-length", "transfer-encoding", "connection",
        "content-type", "webhook-id",     "webhook-timestamp", "webhook-signature"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (!strcasecmp(name, reserved[i])) return 1;
    return 0;
}

static int valid_url(const char *s)
{
    const char *h;
    if (!strncasecmp(s, "https://", 8))
        h = s + 8;
    else if (!strncasecmp(s, "http://", 7))
        h = s + 7;
    else
        return 0;
    if (!*h || *h == '/' || *h == '?' || *h == '#') return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ') return 0;
    return 1;
}

static int valid_cidr(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr)) return 0;
    memcpy(addr, s, n);
    addr[n] = 0;
    unsigned char bin[16];
    long max;
    if (inet_pton(AF_INET, addr, bin) == 1)
        max = 32;
    else if (inet_pton(AF_INET6, addr, bin) == 1)
        max = 128;
    else
        return 0;
    long bits;
    return !slash || wb_parse_int(slash + 1, 0, max, &bits) == WB_OK;
}

static int valid_schema_ref(const char *s)
{
    const char *at = strrchr(s, '@');
    long v;
    return at && at != s && wb_parse_int(at + 1, 1, 1000000, &v) == WB_OK;
}

/* Reports and returns -1 when s fails check. */
static int check_value(ctx *c, int line, const char *key, int check, const char *s)
{
    switch (check) {
    case V_TOPIC:
        if (!valid_topic(s)) {
            report(c, line, key, "invalid topic name '%s' (letters, digits, '.', '_', '-')", s);
            return -1;
        }
        break;
    case V_POINTER:
        if (s[0] != '/') {
            report(c, line, key, "expected a JSON pointer starting with '/', got '%s'", s);
            return -1;
        }
        break;
    case V_EVENT_TYPE:
        if (s[0] != '/' && !valid_token(s)) {
            report(c, line, key, "expected a JSON pointer ('/type') or a header name, got '%s'", s);
            return -1;
        }
        break;
    case V_NAME:
        if (!valid_name(s)) {
            report(c, line, key,
                   "invalid name '%s' (lowercase letters, digits, '.', '_', '-'; "
                   "starting with a letter or digit)",
                   s);
            return -1;
        }
        break;
    case V_URL:
        /* The URL may carry credentials after interpolation: not echoed. */
        if (!valid_url(s)) {
            report(c, line, key, "expected an http:// or https:// URL with a host");
            return -1;
        }
        break;
    case V_CIDR:
        if (!valid_cidr(s)) {
            report(c, line, key, "invalid CIDR '%s' (e.g. 10.0.0.0/8 or fd00::/8)", s);
            return -1;
        }
        break;
    case V_SCHEMA_REF:
        if (!valid_schema_ref(s)) {
            report(c, line, key, "expected 'name@version' (e.g. order.paid@1), got '%s'", s);
            return -1;
        }
        break;
    case V_LISTEN:
        if (!valid_listen(s)) {
            report(c, line, key, "expected host:port (e.g. 0.0.0.0:8080), got '%s'", s);
            return -1;
        }
        break;
    case V_TOKEN:
        if (!valid_token(s)) {
            report(c, line, key, "invalid header name '%s'", s);
            return -1;
        }
        break;
    case V_GROUP:
        for (const char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                report(c, line, key, "control character in consumer group id");
                return -1;
            }
        if (!*s || strlen(s) > 249) {
            report(c, line, key, "expected a consumer group id of 1 to 249 characters");
            return -1;
        }
        break;
    case V_START: {
        int64_t ms = 0;
        int mode;
        if (!strcmp(s, "latest"))
            mode = WB_START_LATEST;
        else if (!strcmp(s, "earliest"))
            mode = WB_START_EARLIEST;
        else if (s[0] != '-' && wb_time_parse_ms(s, 0, &ms) == WB_OK)
            mode = WB_START_TIME;
        else {
            report(c, line, key,
                   "expected latest, earliest or an RFC 3339 time (2026-12-01T00:00:00Z), "
                   "got '%s'",
                   s);
            return -1;
        }
        if (c->conn) {
            c->conn->start_mode = mode;
            c->conn->start_ms = ms;
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static void free_strv(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ------------------------------------------------------------------------------------------ */
/* The table walker                                                                            */
/* ------------------------------------------------------------------------------------------ */

static void walk(ctx *c, yaml_document_t *doc, yaml_node_t *map, const field *table, void *base,
                 const char *mapkey);

static void enum_error(ctx *c, int line, const char *key, const char *v, const char *const *names)
{
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; names[i]; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used) break;
        used += (size_t)w;
    }
    report(c, line, key, "unknown value '%s'; expected one of: %s", v, list);
}

/* Items of a list value; a single scalar counts as a one-item list. */
static int list_items(ctx *c, yaml_document_t *doc, yaml_node_t *n, const char *key,
                      yaml_node_t ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (n->type == YAML_SCALAR_NODE) {
        yaml_node_t **v = malloc(sizeof(*v));
        if (!v) {
            oom(c);
            return -1;
        }
        v[0] = n;
        *out = v;
        *count = 1;
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        report(c, node_line(n), key, "expected a list, got %s", kind_name(n));
        return -1;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    yaml_node_t **v = calloc(len ? len : 1, sizeof(*v));
    if (!v) {
        oom(c);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        v[i] = yaml_document_get_node(doc, n->data.sequence.items.start[i]);
    *out = v;
    *count = len;
    return 0;
}

/* Parse a list of strings into a fresh char ** (replacing *dst). */
static void set_strlist(ctx *c, yaml_document_t *doc, yaml_node_t *n, const char *key, int check,
                        int secret, char ***dst, size_t *dstn, int append)
{
    yaml_node_t **items;
    size_t len;
    if (list_items(c, doc, n, key, &items, &len)) return;
    size_t base = append ? *dstn : 0;
    char **v = calloc(base + len + 1, sizeof(*v));
    if (!v) {
        oom(c);
        free(items);
        return;
    }
    size_t got = 0;
    if (append) {
        for (size_t i = 0; i < base; i++)
            v[got++] = (*dst)[i];
        free(*dst);
    } else {
        free_strv(*dst, *dstn);
    }
    *dst = v;
    *dstn = got;
    for (size_t i = 0; i < len; i++) {
        if (items[i]->type != YAML_SCALAR_NODE) {
            report(c, node_line(items[i]), key, "expected a string, got %s", kind_name(items[i]));
            continue;
        }
        char *s = string_value(c, items[i], key, secret);
        if (!s) continue;
        if (secret && !*s) {
            report(c, node_line(items[i]), key, "secret is empty");
            free(s);
            continue;
        }
        if (check_value(c, node_line(items[i]), key, check, s)) {
            free(s);
            continue;
        }
        v[got++] = s;
        *dstn = got;
    }
    free(items);
}

static void set_durlist(ctx *c, yaml_document_t *doc, yaml_node_t *n, const char *key,
                        int64_t **dst, size_t *dstn)
{
    yaml_node_t **items;
    size_t len;
    if (list_items(c, doc, n, key, &items, &len)) return;
    free(*dst);
    *dst = NULL;
    *dstn = 0;
    int64_t *v = calloc(len ? len : 1, sizeof(*v));
    if (!v) {
        oom(c);
        free(items);
        return;
    }
    *dst = v;
    for (size_t i = 0; i < len; i++) {
        int64_t ms;
        if (items[i]->type != YAML_SCALAR_NODE) {
            report(c, node_line(items[i]), key, "expected a duration, got %s", kind_name(items[i]));
            continue;
        }
        char *txt = expand(c, node_line(items[i]), key, scalar(items[i]), 0);
        if (!txt) continue;
        if (wb_parse_duration_ms(txt, &ms) != WB_OK)
            report(c, node_line(items[i]), key,
                   "invalid duration '%s' (e.g. 250ms, 30s, 5m, 2h, 1d)", txt);
        else
            v[(*dstn)++] = ms;
        free(txt);
    }
    free(items);
}

static void set_headers(ctx *c, yaml_document_t *doc, yaml_node_t *n, const char *key,
                        wb_header **dst, size_t *dstn)
{
    if (n->type != YAML_MAPPING_NODE) {
        report(c, node_line(n), key, "expected a mapping of header names to values, got %s",
               kind_name(n));
        return;
    }
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    wb_header *h = calloc(len ? len : 1, sizeof(*h));
    if (!h) {
        oom(c);
        return;
    }
    for (size_t i = 0; i < *dstn; i++) {
        free((*dst)[i].name);
        free((*dst)[i].value);
    }
    free(*dst);
    *dst = h;
    *dstn = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k->type != YAML_SCALAR_NODE || !valid_token(scalar(k))) {
            report(c, node_line(k), key, "invalid header name");
            continue;
        }
        if (reserved_header(scalar(k))) {
            report(c, node_line(k), scalar(k),
                   "header is set by the bridge and cannot be overridden");
            continue;
        }
        char *val = string_value(c, v, scalar(k), 0);
        if (!val) continue;
        if (strpbrk(val, "\r\n")) {
            report(c, node_line(v), scalar(k), "header value must not contain a line break");
            free(val);
            continue;
        }
        h[*dstn].name = strdup(scalar(k));
        if (!h[*dstn].name) {
            free(val);
            oom(c);
            continue;
        }
        h[(*dstn)++].value = val;
    }
}

/* Whether `name` is a kafka property whose value may be a file:/path secret. */
static int kafka_secret_key(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret");
}

static void set_kafka(ctx *c, yaml_document_t *doc, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        report(c, node_line(n), "kafka", "expected a mapping of librdkafka properties, got %s",
               kind_name(n));
        return;
    }
    wb_config *cfg = c->cfg;
    size_t len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    /* librdkafka checks names and values now, so a typo gets its file:line. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cfg->kafka = calloc(len ? len : 1, sizeof(*cfg->kafka));
    if (!cfg->kafka || !conf) {
        oom(c);
        goto out;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            report(c, node_line(k), "kafka", "expected a property name, got %s", kind_name(k));
            continue;
        }
        const char *name = scalar(k);
        if (v->type != YAML_SCALAR_NODE) {
            report(c, node_line(v), name, "expected a scalar value, got %s", kind_name(v));
            continue;
        }
        int dup = 0;
        for (size_t i = 0; i < cfg->nkafka; i++)
            dup |= !strcmp(cfg->kafka[i].key, name);
        if (dup || (!strcmp(name, "bootstrap.servers") && cfg->embedded)) {
            report(c, node_line(k), name, "duplicate key");
            continue;
        }
        char *val = string_value(c, v, name, kafka_secret_key(name));
        if (!val) continue;
        if (!strcmp(name, "bootstrap.servers") && !strcmp(val, "embedded")) {
            cfg->embedded = 1;
            free(val);
            continue;
        }
        char kerr[512];
        if (rd_kafka_conf_set(conf, name, val, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
            /* librdkafka quotes the value in its message: not for a secret. */
            if (kafka_secret_key(name))
                report(c, node_line(k), name, "rejected by librdkafka");
            else
                report(c, node_line(k), name, "%s", kerr);
            free(val);
            continue;
        }
        cfg->kafka[cfg->nkafka].key = strdup(name);
        if (!cfg->kafka[cfg->nkafka].key) {
            free(val);
            oom(c);
            continue;
        }
        cfg->kafka[cfg->nkafka++].value = val;
    }
out:
    if (conf) rd_kafka_conf_destroy(conf);
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes",  "on",  "True", "Yes",
                                      "On",   "TRUE", "YES", "ON"};
    static const char *const no[] = {"false", "no",    "off", "False", "No",
                                     "Off",   "FALSE", "NO",  "OFF"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Convert the scalar text s (already expanded) of a number-like field into p. */
static void set_scalar(ctx *c, const field *f, char *p, int line, const char *s)
{
    const char *key = f->name;
    switch (f->type) {
    case T_INT: {
        long n;
        if (wb_parse_int(s, f->min, f->max, &n) != WB_OK) {
            report(c, line, key, "expected an integer in %ld..%ld, got '%s'", f->min, f->max, s);
            return;
        }
        *(int *)(void *)p = (int)n;
        return;
    }
    case T_BOOL: {
        int b;
        if (parse_bool(s, &b)) {
            report(c, line, key, "expected true or false, got '%s'", s);
            return;
        }
        *(int *)(void *)p = b;
        return;
    }
    case T_DUR: {
        int64_t ms;
        if (wb_parse_duration_ms(s, &ms) != WB_OK) {
            report(c, line, key, "invalid duration '%s' (e.g. 250ms, 30s, 5m, 2h, 1d)", s);
            return;
        }
        if (ms < f->min) {
            report(c, line, key, "duration '%s' is too short (minimum %ldms)", s, f->min);
            return;
        }
        *(int64_t *)(void *)p = ms;
        return;
    }
    case T_SIZE: {
        size_t n;
        if (wb_parse_size(s, &n) != WB_OK) {
            report(c, line, key, "invalid size '%s' (e.g. 4096, 16KiB, 1MiB)", s);
            return;
        }
        if (n < (size_t)f->min || n > (size_t)f->max) {
            report(c, line, key, "size '%s' out of range %ld..%ld bytes", s, f->min, f->max);
            return;
        }
        *(size_t *)(void *)p = n;
        return;
    }
    case T_RATE: {
        double r;
        if (wb_parse_rate(s, &r) != WB_OK) {
            report(c, line, key, "invalid rate '%s' (e.g. 200/s, 10/m, 3600/h)", s);
            return;
        }
        *(double *)(void *)p = r;
        return;
    }
    case T_ENUM:
        for (int i = 0; f->names[i]; i++) {
            if (!strcmp(s, f->names[i])) {
                *(int *)(void *)p = i;
                return;
            }
        }
        enum_error(c, line, key, s, f->names);
        return;
    default:
        return;
    }
}

/* Convert one value per its field description into base. */
static void set_field(ctx *c, yaml_document_t *doc, const field *f, yaml_node_t *v, void *base)
{
    char *p = (char *)base + f->off;
    const char *key = f->name;
    int line = node_line(v);

    switch (f->type) {
    case T_MAP:
        if (v->type != YAML_MAPPING_NODE) {
            report(c, line, key, "expected a mapping, got %s", kind_name(v));
            return;
        }
        walk(c, doc, v, f->sub, base, key);
        return;
    case T_KAFKA:
        set_kafka(c, doc, v);
        return;
    case T_CONNECTORS:
        c->connectors_node = v;
        c->connectors_line = line;
        return;
    case T_STRLIST:
    case T_SECRETS:
    case T_SECRET1:
        if (f->type == T_SECRET1 && v->type != YAML_SCALAR_NODE) {
            report(c, line, key, "expected a string, got %s", kind_name(v));
            return;
        }
        set_strlist(c, doc, v, key, f->check, f->type != T_STRLIST, (char ***)(void *)p,
                    (size_t *)(void *)((char *)base + f->off2), f->type != T_STRLIST);
        return;
    case T_DURLIST:
        set_durlist(c, doc, v, key, (int64_t **)(void *)p,
                    (size_t *)(void *)((char *)base + f->off2));
        return;
    case T_HEADERS:
        set_headers(c, doc, v, key, (wb_header **)(void *)p,
                    (size_t *)(void *)((char *)base + f->off2));
        return;
    default:
        break;
    }

    if (v->type != YAML_SCALAR_NODE) {
        report(c, line, key, "expected a scalar, got %s", kind_name(v));
        return;
    }
    if (f->type == T_STR || f->type == T_SECRET) {
        char *val = string_value(c, v, key, f->type == T_SECRET);
        if (!val) return;
        if (check_value(c, line, key, f->check, val)) {
            free(val);
            return;
        }
        free(*(char **)(void *)p);
        *(char **)(void *)p = val;
        return;
    }
    /* Numbers, durations, ... may come from the environment too: "${CONCURRENCY:-64}". */
    char *s = expand(c, line, key, scalar(v), 0);
    if (s) set_scalar(c, f, p, line, s);
    free(s);
}

/* Apply table to the mapping node map; fields are written relative to base. */
static void walk(ctx *c, yaml_document_t *doc, yaml_node_t *map, const field *table, void *base,
                 const char *mapkey)
{
    if (map->type != YAML_MAPPING_NODE) {
        report(c, node_line(map), mapkey, "expected a mapping, got %s", kind_name(map));
        return;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            report(c, node_line(k), mapkey, "expected a key, got %s", kind_name(k));
            continue;
        }
        const char *name = scalar(k);
        int dup = 0;
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(doc, q->key);
            dup |= qk->type == YAML_SCALAR_NODE && !strcmp(scalar(qk), name);
        }
        if (dup) {
            report(c, node_line(k), name, "duplicate key");
            continue;
        }
        const field *f = NULL, *best = NULL;
        int bestd = 3;
        for (const field *t = table; t->name; t++) {
            if (!strcmp(t->name, name)) {
                f = t;
                break;
            }
            int d = edit_distance(name, t->name);
            if (d < bestd) {
                bestd = d;
                best = t;
            }
        }
        if (!f) {
            if (best)
                report(c, node_line(k), name, "unknown key; did you mean '%s'?", best->name);
            else
                report(c, node_line(k), name, "unknown key");
            continue;
        }
        if (c->conn && (f->flags & F_OUT) && c->conn->direction == WB_DIR_INBOUND) {
            report(c, node_line(k), name, "only valid for outbound connectors");
            continue;
        }
        if (c->conn && (f->flags & F_IN) && c->conn->direction == WB_DIR_OUTBOUND) {
            report(c, node_line(k), name, "only valid for inbound connectors");
            continue;
        }
        if (is_null(v)) continue; /* "key:" with no value keeps the default */
        set_field(c, doc, f, v, base);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Load the first YAML document of path into doc. Returns 0, or -1 with the error reported. */
static int load_yaml(ctx *c, const char *path, yaml_document_t *doc)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        c->nerrs++;
        (void)wb_buf_printf(&c->errs, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        oom(c);
        fclose(fp);
        return -1;
    }
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, doc)) {
        const char *problem = parser.problem ? parser.problem : "syntax error";
        c->nerrs++;
        (void)wb_buf_printf(&c->errs, "%s:%zu: yaml: %s%s%s (column %zu)\n", path,
                            parser.problem_mark.line + 1, problem, parser.context ? " " : "",
                            parser.context ? parser.context : "", parser.problem_mark.column + 1);
        goto out;
    }
    if (!yaml_document_get_root_node(doc)) {
        c->nerrs++;
        (void)wb_buf_printf(&c->errs, "%s:1: yaml: empty document\n", path);
        yaml_document_delete(doc);
        goto out;
    }
    rc = 0;
out:
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}

/* dir joined with rel ("" dir or absolute rel -> rel). Caller frees; NULL on OOM. */
static char *join_path(const char *dir, const char *rel)
{
    wb_buf b;
    wb_buf_init(&b, 1 << 16);
    wb_err e;
    if (rel[0] == '/' || !dir[0])
        e = wb_buf_adds(&b, rel);
    else {
        size_t dl = strlen(dir);
        e = wb_buf_printf(&b, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", rel);
    }
    if (e != WB_OK) {
        wb_buf_free(&b);
        return NULL;
    }
    return wb_buf_steal(&b, NULL);
}

static void connector_defaults(ctx *c, wb_connector *k)
{
    static const int64_t schedule[] = {0, 5000, 300000, 1800000, 7200000, 18000000, 36000000};
    k->direction = WB_DIR_OUTBOUND;
    k->signing.scheme = WB_SCHEME_STANDARD;
    k->signing.tolerance_ms = 300000;
    k->signing.hmac.prefix = dup_or_oom(c, "");
    k->signing.hmac.content = dup_or_oom(c, "{body}");
    k->ordering = WB_ORDER_KEY;
    k->max_concurrency = 64;
    k->timeout_ms = 10000;
    k->connect_timeout_ms = 5000;
    k->retry_schedule_ms = malloc(sizeof(schedule));
    if (k->retry_schedule_ms) {
        memcpy(k->retry_schedule_ms, schedule, sizeof(schedule));
        k->nretry = sizeof(schedule) / sizeof(schedule[0]);
    } else {
        oom(c);
    }
    k->retry_after_cap_ms = 3600000;
    k->on_exhausted = WB_EXHAUST_DEAD_LETTER;
    k->circuit_failures = 10;
    k->circuit_cooldown_ms = 30000;
    k->max_body = 1024 * 1024;
    k->dedupe_ttl_ms = 86400000;
}

/* Value node of key name in mapping map, or NULL when absent or null. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *name, int *key_line)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = yaml_document_get_node(doc, p->key);
        if (key->type != YAML_SCALAR_NODE || strcmp(scalar(key), name)) continue;
        if (key_line) *key_line = node_line(key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        return is_null(v) ? NULL : v;
    }
    return NULL;
}

/* A jq program compiles now (as `run` compiles it), or the error carries jq's message. */
static void check_jq(ctx *c, yaml_document_t *doc, yaml_node_t *root, const char *key,
                     const char *expr)
{
    char msg[600];
    int line = 1;
    if (!expr) return;
    map_get(doc, root, key, &line);
    if (wb_jq_check(expr, msg, sizeof(msg)) != WB_OK)
        report(c, line, key, "invalid jq program: %s", msg);
}

/* hmac: a timestamp_header or id_header outside the signed content can be rewritten by
 * whoever replays a captured request (a fresh timestamp, a new id that passes dedupe). */
static void hmac_coverage(ctx *c, const wb_connector *k, yaml_document_t *doc, yaml_node_t *sig,
                          int sigline)
{
    const wb_hmac_opts *o = &k->signing.hmac;
    const char *content = o->content ? o->content : "{body}";
    int line = sigline;
    if (o->timestamp_header && !strstr(content, "{timestamp}")) {
        map_get(doc, sig, "timestamp_header", &line);
        report(c, line, "timestamp_header",
               "%s is not covered by the signed content '%s': add {timestamp} to content (a "
               "replay with a fresh timestamp would pass)",
               o->timestamp_header, content);
    }
    line = sigline;
    if (o->id_header && !strstr(content, "{id}")) {
        map_get(doc, sig, "id_header", &line);
        report(c, line, "id_header",
               "%s is not covered by the signed content '%s': add {id} to content (a replay "
               "with a new id would pass dedupe)",
               o->id_header, content);
    }
}

/* The producer's message.max.bytes: the kafka: value when set, else librdkafka's default. */
size_t wb_config_kafka_max_message(const wb_config *cfg)
{
    for (size_t i = 0; i < cfg->nkafka; i++) {
        long v;
        if (!strcmp(cfg->kafka[i].key, "message.max.bytes") &&
            wb_parse_int(cfg->kafka[i].value, 1, 1000000000, &v) == WB_OK)
            return (size_t)v;
    }
    return 1000000;
}

/* An inbound body is published as one record: max_body above the producer's
 * message.max.bytes is a body that can never be published. The default (1MiB) is lowered to
 * leave WB_RECORD_HEADROOM for the key and headers when the producer's limit is smaller. */
#define WB_RECORD_HEADROOM (32 * 1024)
static void inbound_body_limit(ctx *c, wb_connector *k, yaml_document_t *doc, yaml_node_t *root)
{
    size_t mmb = wb_config_kafka_max_message(c->cfg);
    int line = k->line;
    if (!map_get(doc, root, "max_body", &line)) {
        if (k->max_body + WB_RECORD_HEADROOM > mmb)
            k->max_body = mmb > 2 * WB_RECORD_HEADROOM ? mmb - WB_RECORD_HEADROOM : mmb / 2;
        return;
    }
    if (k->max_body > mmb)
        report(c, line, "max_body",
               "%zu bytes is above kafka message.max.bytes (%zu): such a body could never be "
               "published; raise kafka.message.max.bytes (and the topic's max.message.bytes) "
               "or lower max_body",
               k->max_body, mmb);
}

/* Checks that need the whole connector (required keys, cross-field rules). A required key
 * that is present but invalid was already reported by the walk: only absence is reported. */
static void connector_validate(ctx *c, wb_connector *k, yaml_document_t *doc, yaml_node_t *root)
{
    int line = k->line;
    const char *sigkey = k->direction == WB_DIR_OUTBOUND ? "signing" : "verify";
    int sigline = line;
    yaml_node_t *sig = map_get(doc, root, sigkey, &sigline);
    yaml_node_t *ev = map_get(doc, root, "events", NULL);
    int events_empty = !ev || (ev->type == YAML_SEQUENCE_NODE &&
                               ev->data.sequence.items.top == ev->data.sequence.items.start);
    /* Secrets given but unusable (unset variable, ...) were reported by the walk. */
    int secrets_given = 0;
    if (sig && sig->type == YAML_MAPPING_NODE) {
        yaml_node_t *sv = map_get(doc, sig, "secrets", NULL);
        secrets_given = map_get(doc, sig, "secret", NULL) ||
                        (sv && (sv->type != YAML_SEQUENCE_NODE ||
                                sv->data.sequence.items.top > sv->data.sequence.items.start));
    }
    if (!map_get(doc, root, "name", NULL)) report(c, line, "name", "required");
    if (k->direction == WB_DIR_OUTBOUND) {
        if (!map_get(doc, root, "url", NULL))
            report(c, line, "url", "required for outbound connectors");
        else if (k->url && k->https_only && strncasecmp(k->url, "https://", 8))
            report(c, line, "url", "https_only is set but the URL is not https://");
        if (events_empty)
            report(c, line, "events", "required for outbound connectors (a non-empty list)");
        if (k->signing.scheme == WB_SCHEME_NONE)
            report(c, sigline, "scheme", "'none' is only allowed for inbound connectors");
        if ((k->client_cert != NULL) != (k->client_key != NULL))
            report(c, line, "tls", "client_cert and client_key must be given together");
        check_jq(c, doc, root, "filter", k->filter);
        check_jq(c, doc, root, "transform", k->transform);
        if (k->contract) map_get(doc, root, "contract", &k->contract_line);
    } else {
        if (!map_get(doc, root, "topic", NULL))
            report(c, line, "topic", "required for inbound connectors");
        if (k->signing.scheme == WB_SCHEME_NONE && !k->signing.insecure)
            report(c, sigline, "scheme", "'none' disables verification; it needs insecure: true");
    }
    if (k->signing.scheme != WB_SCHEME_NONE && !k->signing.nsecrets && !secrets_given)
        report(c, sigline, "secrets", "at least one secret is required for scheme %s",
               wb_scheme_name(k->signing.scheme));
    if (k->signing.scheme == WB_SCHEME_HMAC && !k->signing.hmac.header)
        report(c, sigline, "header", "required for scheme hmac");
    if (k->signing.scheme == WB_SCHEME_HMAC && sig && sig->type == YAML_MAPPING_NODE)
        hmac_coverage(c, k, doc, sig, sigline);
    if (k->direction == WB_DIR_INBOUND) inbound_body_limit(c, k, doc, root);
}

/* Parse one connector file into a new element of cfg->connectors. */
static void load_connector(ctx *c, const char *path)
{
    wb_config *cfg = c->cfg;
    yaml_document_t doc;
    wb_connector *v = realloc(cfg->connectors, (cfg->nconnectors + 1) * sizeof(*v));
    if (!v) {
        oom(c);
        return;
    }
    cfg->connectors = v;
    wb_connector *k = &cfg->connectors[cfg->nconnectors++];
    memset(k, 0, sizeof(*k));
    connector_defaults(c, k);
    k->file = dup_or_oom(c, path);
    k->line = 1;
    if (!k->file) return;
    if (load_yaml(c, path, &doc)) return;
    const char *saved = c->file;
    c->file = k->file;
    c->conn = k;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    k->line = node_line(root);
    if (root->type != YAML_MAPPING_NODE) {
        report(c, node_line(root), "connector", "expected a mapping, got %s", kind_name(root));
        goto out;
    }
    /* Direction first: it decides which keys are valid (errors come from the walk). */
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = yaml_document_get_node(&doc, p->key);
        yaml_node_t *val = yaml_document_get_node(&doc, p->value);
        if (key->type == YAML_SCALAR_NODE && !strcmp(scalar(key), "direction") &&
            val->type == YAML_SCALAR_NODE && !strcmp(scalar(val), "inbound"))
            k->direction = WB_DIR_INBOUND;
    }
    walk(c, &doc, root, connector_fields, k, "connector");
    connector_validate(c, k, &doc, root);
out:
    c->conn = NULL;
    c->file = saved;
    yaml_document_delete(&doc);
}

static int has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' &&
           ((n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A connectors entry: a folder (every .yaml and .yml file, sorted) or one file. */
static void load_connector_path(ctx *c, int line, const char *dir, const char *rel)
{
    char *path = join_path(dir, rel);
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = NULL;
    struct stat st;
    if (!path) {
        oom(c);
        return;
    }
    if (stat(path, &st)) {
        report(c, line, "connectors", "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        load_connector(c, path);
        goto out;
    }
    d = opendir(path);
    if (!d) {
        report(c, line, "connectors", "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_yaml_ext(de->d_name)) continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*nn));
            if (!nn) {
                oom(c);
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        names[n] = join_path(path, de->d_name);
        if (!names[n]) {
            oom(c);
            goto out;
        }
        n++;
    }
    if (n) qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++)
        load_connector(c, names[i]);
out:
    if (d) closedir(d);
    free_strv(names, n);
    free(path);
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void config_defaults(ctx *c, wb_config *cfg, const char *dir)
{
    cfg->embedded_brokers = 3;
    cfg->embedded_partitions = 4;
    cfg->outbound.dead_letter_topic = dup_or_oom(c, "webhook-bridge.dlq");
    cfg->outbound.max_in_flight_per_partition = 1000;
    cfg->outbound.drain_timeout_ms = 30000;
    cfg->outbound.loops = 1;
    cfg->outbound.fetch_buffer = 16 * 1024 * 1024;
    cfg->outbound.max_in_flight_bytes = 64 * 1024 * 1024;
    cfg->outbound.commit_interval_ms = 250;
    cfg->outbound.retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->outbound.jq_budget_ms = 100;
    cfg->outbound.jq_memory = 256u << 20;
    cfg->schema_registry.cache_size = 1000;
    cfg->schema_registry.negative_ttl_ms = 60000;
    cfg->outbound.user_agent = dup_or_oom(c, "webhook-bridge/" WB_VERSION);
    cfg->inbound.max_connections = 1024;
    cfg->inbound.request_timeout_ms = 30000;
    cfg->inbound.header_timeout_ms = 10000;
    cfg->inbound.max_connections_per_ip = 256;
    cfg->inbound.publish_timeout_ms = 10000;
    cfg->inbound.max_header = 16 * 1024;
    cfg->inbound.threads = 2;
    cfg->log.level = WB_LOG_INFO;
    cfg->log.format = WB_LOG_JSON;
    (void)dir; /* schema_registry.dir is resolved after the walk */
}

static void resolve_connectors(ctx *c, yaml_document_t *doc, const char *dir)
{
    yaml_node_t *n = c->connectors_node;
    if (!n) return;
    if (n->type == YAML_SCALAR_NODE) {
        load_connector_path(c, c->connectors_line, dir, scalar(n));
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *e = yaml_document_get_node(doc, *it);
            if (e->type != YAML_SCALAR_NODE) {
                report(c, node_line(e), "connectors", "expected a file or folder path, got %s",
                       kind_name(e));
                continue;
            }
            load_connector_path(c, node_line(e), dir, scalar(e));
        }
    } else {
        report(c, c->connectors_line, "connectors", "expected a folder or a list of files, got %s",
               kind_name(n));
    }
}

/* A pinned contract needs a schema source, and must name a version the local schemas have
 * (the reader side of the resolution always comes from the schemas folder). The folder is
 * loaded once, as `run` loads it. */
static void check_contracts(ctx *c)
{
    wb_config *cfg = c->cfg;
    wb_schemas *s = NULL;
    char err[1024] = "";
    int loaded = 0;
    const char *dir = cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas";
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        wb_connector *k = &cfg->connectors[i];
        if (!k->contract || k->direction != WB_DIR_OUTBOUND) continue;
        c->file = k->file ? k->file : "?";
        char manifest[4096];
        struct stat st;
        snprintf(manifest, sizeof(manifest), "%s/manifest.json", dir);
        if (stat(manifest, &st)) {
            if (!cfg->schema_registry.url)
                report(c, k->contract_line, "contract",
                       "'%s' needs a schema source: set schema_registry.url or add the schemas "
                       "folder (%s not found)",
                       k->contract, manifest);
            else
                report(c, k->contract_line, "contract",
                       "'%s' must be a schema of the local schemas folder (%s not found); the "
                       "registry supplies only the writers' schemas",
                       k->contract, manifest);
            continue;
        }
        if (!loaded) {
            loaded = 1;
            s = wb_schemas_new(dir, NULL, NULL, NULL, NULL, err, sizeof(err));
        }
        if (!s) {
            report(c, k->contract_line, "contract", "cannot load the schemas: %s", err);
            continue;
        }
        if (wb_schemas_id_of(s, k->contract) >= 0) continue;
        char versions[512];
        const char *at = strrchr(k->contract, '@');
        size_t elen = at ? (size_t)(at - k->contract) : strlen(k->contract);
        char event[256];
        snprintf(event, sizeof(event), "%.*s", (int)(elen < 255 ? elen : 255), k->contract);
        if (wb_schemas_versions(s, event, versions, sizeof(versions)) > 0)
            report(c, k->contract_line, "contract", "unknown version '%s' (%s has %s)", k->contract,
                   manifest, versions);
        else
            report(c, k->contract_line, "contract", "unknown event '%s' (not in %s)", event,
                   manifest);
    }
    wb_schemas_free(s);
}

/* Rules across files: unique names, outbound connectors need outbound.topics. */
static void cross_validate(ctx *c, yaml_document_t *doc)
{
    wb_config *cfg = c->cfg;
    const char *saved = c->file;
    if (cfg->inbound.header_timeout_ms > cfg->inbound.request_timeout_ms) {
        int line = 1;
        yaml_node_t *root = yaml_document_get_root_node(doc);
        yaml_node_t *in = root ? map_get(doc, root, "inbound", &line) : NULL;
        if (in && in->type == YAML_MAPPING_NODE) map_get(doc, in, "header_timeout", &line);
        report(c, line, "header_timeout", "must not be longer than request_timeout");
    }
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        wb_connector *k = &cfg->connectors[i];
        c->file = k->file ? k->file : "?";
        for (size_t j = 0; j < i && k->name; j++) {
            wb_connector *o = &cfg->connectors[j];
            if (o->name && !strcmp(o->name, k->name)) {
                report(c, k->line, "name", "duplicate connector name '%s' (also in %s:%d)", k->name,
                       o->file ? o->file : "?", o->line);
                break;
            }
        }
        if (k->direction != WB_DIR_OUTBOUND) continue;
        if (k->nevents && !cfg->outbound.ntopics && !k->ntopics)
            report(c, k->line, "events",
                   "connector '%s' subscribes to events but neither its topics: nor "
                   "outbound.topics in %s is set",
                   k->name ? k->name : "?", saved);
        /* Its own cursor: topics default to the bridge's, the group to <group.id>.<name>. */
        if (!k->ntopics && cfg->outbound.ntopics) {
            k->topics = calloc(cfg->outbound.ntopics, sizeof(char *));
            if (!k->topics) {
                oom(c);
                continue;
            }
            for (size_t t = 0; t < cfg->outbound.ntopics; t++)
                if ((k->topics[t] = dup_or_oom(c, cfg->outbound.topics[t]))) k->ntopics = t + 1;
        }
        if (!k->group_id && k->name) {
            size_t n = strlen(wb_config_group_id(cfg)) + strlen(k->name) + 2;
            if ((k->group_id = malloc(n)))
                snprintf(k->group_id, n, "%s.%s", wb_config_group_id(cfg), k->name);
            else
                oom(c);
        }
    }
    check_contracts(c);
    c->file = saved;
    (void)doc;
}

/* The end of a load: cfg, or NULL with every error (one per line) in errstr. */
static wb_config *finish(ctx *c, wb_config *cfg, char *errstr, size_t errstr_size)
{
    if (c->nerrs) {
        if (errstr && errstr_size) {
            size_t n = c->errs.len;
            while (n && c->errs.data[n - 1] == '\n')
                n--;
            if (n >= errstr_size) n = errstr_size - 1;
            if (n) memcpy(errstr, c->errs.data, n);
            errstr[n] = 0;
        }
        wb_config_free(cfg);
        cfg = NULL;
    }
    wb_buf_free(&c->errs);
    return cfg;
}

/* Load path and its connector files (see config.h). Returns a config the caller frees with
 * wb_config_free(), or NULL with every error, one per line, in errstr. Any thread; uses
 * getenv() and the current directory for relative paths. */
wb_config *wb_config_load(const char *path, char *errstr, size_t errstr_size)
{
    ctx c;
    yaml_document_t doc;
    int have_doc = 0;
    char *dir = NULL;
    wb_config *cfg = calloc(1, sizeof(*cfg));

    memset(&c, 0, sizeof(c));
    wb_buf_init(&c.errs, MAX_ERRORS_TEXT);
    c.file = path;
    c.cfg = cfg;
    if (errstr && errstr_size) errstr[0] = 0;
    if (cfg) __atomic_add_fetch(&live_configs, 1, __ATOMIC_RELAXED);
    if (!cfg || !(cfg->path = strdup(path))) {
        oom(&c);
        goto out;
    }
    cfg->refs = 1;
    /* Connector paths are relative to the folder of bridge.yaml, as the user wrote it. */
    const char *slash = strrchr(path, '/');
    dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup("");
    if (!dir) {
        oom(&c);
        goto out;
    }
    config_defaults(&c, cfg, dir);
    if (load_yaml(&c, path, &doc)) goto out;
    have_doc = 1;
    walk(&c, &doc, yaml_document_get_root_node(&doc), root_fields, cfg, "config");
    /* schemas/ (default) or a relative dir: next to bridge.yaml. */
    char *sdir = join_path(dir, cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas");
    if (!sdir) oom(&c);
    free(cfg->schema_registry.dir);
    cfg->schema_registry.dir = sdir;
    resolve_connectors(&c, &doc, dir);
    cross_validate(&c, &doc);

out:
    if (have_doc) yaml_document_delete(&doc);
    free(dir);
    return finish(&c, cfg, errstr, errstr_size);
}

/* See config.h. Same walk and checks as a connector named by bridge.yaml. */
wb_config *wb_config_load_connector(const char *path, const char *schemas_dir, char *errstr,
                                    size_t errstr_size)
{
    ctx c;
    wb_config *cfg = calloc(1, sizeof(*cfg));
    memset(&c, 0, sizeof(c));
    wb_buf_init(&c.errs, MAX_ERRORS_TEXT);
    c.file = path;
    c.cfg = cfg;
    if (errstr && errstr_size) errstr[0] = 0;
    if (!cfg || !(cfg->path = strdup(path)) ||
        !(cfg->schema_registry.dir = strdup(schemas_dir ? schemas_dir : "schemas"))) {
        oom(&c);
    } else {
        config_defaults(&c, cfg, "");
        load_connector(&c, path);
        check_contracts(&c);
    }
    return finish(&c, cfg, errstr, errstr_size);
}

static void connector_free(wb_connector *k)
{
    free(k->name);
    free(k->file);
    free_strv(k->signing.secrets, k->signing.nsecrets);
    free(k->signing.hmac.header);
    free(k->signing.hmac.prefix);
    free(k->signing.hmac.timestamp_header);
    free(k->signing.hmac.content);
    free(k->signing.hmac.id_header);
    free(k->url);
    free_strv(k->events, k->nevents);
    free(k->retry_schedule_ms);
    for (size_t i = 0; i < k->nheaders; i++) {
        free(k->headers[i].name);
        free(k->headers[i].value);
    }
    free(k->headers);
    free(k->id_pointer);
    free(k->contract);
    free(k->filter);
    free(k->transform);
    free_strv(k->allow_cidrs, k->nallow_cidrs);
    free(k->client_cert);
    free(k->client_key);
    free(k->ca_file);
    free(k->proxy);
    free(k->group_id);
    free_strv(k->topics, k->ntopics);
    free(k->start);
    free(k->topic);
    free(k->key_pointer);
    free(k->event_type);
    free_strv(k->forward_headers, k->nforward_headers);
    free(k->schema);
}

/* Free cfg and everything it owns (NULL is fine). */
void wb_config_free(wb_config *cfg)
{
    if (!cfg) return;
    __atomic_sub_fetch(&live_configs, 1, __ATOMIC_RELAXED);
    free(cfg->path);
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free_strv(cfg->outbound.topics, cfg->outbound.ntopics);
    free(cfg->outbound.dead_letter_topic);
    free(cfg->outbound.event_type_pointer);
    free(cfg->outbound.id_pointer);
    free(cfg->outbound.user_agent);
    free(cfg->inbound.listen);
    free(cfg->admin.listen);
    if (cfg->admin.token) wb_secret_free(cfg->admin.token);
    free(cfg->schema_registry.url);
    free(cfg->schema_registry.username);
    free(cfg->schema_registry.password);
    free(cfg->schema_registry.bearer_token);
    free(cfg->schema_registry.dir);
    for (size_t i = 0; i < cfg->nconnectors; i++)
        connector_free(&cfg->connectors[i]);
    free(cfg->connectors);
    free(cfg);
}

int wb_config_live(void)
{
    return __atomic_load_n(&live_configs, __ATOMIC_RELAXED);
}

wb_config *wb_config_ref(wb_config *cfg)
{
    if (cfg) __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
    return cfg;
}

void wb_config_unref(wb_config *cfg)
{
    if (cfg && __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) == 0) wb_config_free(cfg);
}

const char *wb_config_group_id(const wb_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka[i].key, "group.id")) return cfg->kafka[i].value;
    return "webhook-bridge";
}

/* Connector by name; borrowed pointer valid until wb_config_free(). */
const wb_connector *wb_config_connector(const wb_config *cfg, const char *name)
{
    if (!cfg || !name) return NULL;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        if (cfg->connectors[i].name && !strcmp(cfg->connectors[i].name, name))
            return &cfg->connectors[i];
    return NULL;
}

/* Static name of a scheme ("standard-webhooks", ...); "unknown" when out of range. */
const char *wb_scheme_name(wb_scheme s)
{
    if ((int)s < 0 || (int)s > WB_SCHEME_NONE) return "unknown";
    return scheme_names[s];
}

/* Print a URL without userinfo and with the query hidden: either may carry a credential. */
static void print_url(FILE *fp, const char *url)
{
    const char *hs = strstr(url, "://");
    hs = hs ? hs + 3 : url;
    size_t hostlen = strcspn(hs, "/?#");
    const char *at = memchr(hs, '@', hostlen);
    fprintf(fp, "%.*s", (int)(hs - url), url);
    const char *rest = at ? at + 1 : hs;
    size_t keep = strcspn(rest, "?#");
    fprintf(fp, "%.*s%s", (int)keep, rest, rest[keep] == '?' ? "?..." : "");
}

static void print_list(FILE *fp, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%s", i ? ", " : "", v[i]);
    if (!n) fputs("-", fp);
}

/* Human summary on fp; never prints secret values (only their count). */
void wb_config_print_summary(const wb_config *cfg, FILE *fp)
{
    if (!cfg || !fp) return;
    fprintf(fp, "config: %s\n", cfg->path);
    if (cfg->embedded)
        fprintf(fp, "kafka: embedded (%d brokers, %d partitions per topic), %zu properties\n",
                cfg->embedded_brokers, cfg->embedded_partitions, cfg->nkafka);
    else {
        const char *bs = NULL;
        for (size_t i = 0; i < cfg->nkafka; i++)
            if (!strcmp(cfg->kafka[i].key, "bootstrap.servers")) bs = cfg->kafka[i].value;
        fprintf(fp, "kafka: bootstrap.servers %s, %zu properties\n", bs ? bs : "(unset)",
                cfg->nkafka);
    }
    fputs("outbound topics: ", fp);
    print_list(fp, cfg->outbound.topics, cfg->outbound.ntopics);
    fprintf(fp, "\ndead-letter topic: %s\n", cfg->outbound.dead_letter_topic);
    fprintf(fp, "inbound listener: %s\n", cfg->inbound.listen ? cfg->inbound.listen : "off");
    fprintf(fp, "admin listener: %s%s\n", cfg->admin.listen ? cfg->admin.listen : "off",
            cfg->admin.token ? " (token set)" : "");
    if (cfg->schema_registry.url) {
        fputs("schema registry: ", fp);
        print_url(fp, cfg->schema_registry.url);
        fputs("\n", fp);
    }
    fprintf(fp, "connectors: %zu\n", cfg->nconnectors);
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *k = &cfg->connectors[i];
        size_t ns = k->signing.nsecrets;
        fprintf(fp, "  %s (%s)\n", k->name,
                k->direction == WB_DIR_OUTBOUND ? "outbound" : "inbound");
        if (k->direction == WB_DIR_OUTBOUND) {
            fputs("    url: ", fp);
            print_url(fp, k->url);
            fputs("\n    events: ", fp);
            print_list(fp, k->events, k->nevents);
            fprintf(fp, "\n    ordering: %s, max concurrency %d", ordering_names[k->ordering],
                    k->max_concurrency);
            if (k->rate_per_s > 0) fprintf(fp, ", rate %g/s", k->rate_per_s);
            fprintf(fp, "\n    signing: %s, %zu secret%s\n", wb_scheme_name(k->signing.scheme), ns,
                    ns == 1 ? "" : "s");
        } else {
            fprintf(fp, "    topic: %s\n", k->topic);
            if (k->rate_per_s > 0) fprintf(fp, "    rate: %g/s\n", k->rate_per_s);
            fprintf(fp, "    verify: %s, %zu secret%s%s\n", wb_scheme_name(k->signing.scheme), ns,
                    ns == 1 ? "" : "s", k->signing.insecure ? " (insecure)" : "");
        }
    }
}
