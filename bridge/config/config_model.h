/* config_model.h - the configuration as the rest of the bridge reads it: the structs a load
 * fills (config.c builds them, config_*.c fill the parts) and the read-only lookups on them.
 * Everything that only reads a configuration needs this header, not the loader's config.h.
 *
 * Ownership: a wb_config owns every string and array below it; wb_config_free() (config.h)
 * releases all. Thread: read-only after load, shared freely between threads. */
#ifndef WB_CONFIG_MODEL_H
#define WB_CONFIG_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef enum wb_direction { WB_DIR_OUTBOUND = 0, WB_DIR_INBOUND } wb_direction;

typedef enum wb_scheme {
    WB_SCHEME_STANDARD = 0, /* Standard Webhooks v1 (HMAC) / v1a (Ed25519) */
    WB_SCHEME_STRIPE,
    WB_SCHEME_GITHUB,
    WB_SCHEME_SHOPIFY,
    WB_SCHEME_SLACK,
    WB_SCHEME_HMAC, /* generic, see wb_hmac_opts */
    WB_SCHEME_NONE, /* inbound only, needs insecure: true */
} wb_scheme;

typedef enum wb_ordering { WB_ORDER_KEY = 0, WB_ORDER_PARTITION, WB_ORDER_NONE } wb_ordering;
typedef enum wb_start { WB_START_LATEST = 0, WB_START_EARLIEST, WB_START_TIME } wb_start;
typedef enum wb_on_exhausted { WB_EXHAUST_DEAD_LETTER = 0, WB_EXHAUST_BLOCK } wb_on_exhausted;

/* Generic HMAC scheme (scheme: hmac). */
typedef struct wb_hmac_opts {
    char *header;           /* header carrying the signature, e.g. "X-Signature" */
    char *prefix;           /* stripped/added before the digest, e.g. "sha256=" ("" = none) */
    int sha512;             /* 0 = SHA-256, 1 = SHA-512 */
    int base64;             /* 0 = hex, 1 = base64 */
    char *timestamp_header; /* optional: header with unix seconds, checked against tolerance */
    char *content;   /* signed-content template: "{body}" default; may use {timestamp}, {id} */
    char *id_header; /* optional: header carrying the delivery id (dedupe) */
} wb_hmac_opts;

typedef struct wb_signing {
    wb_scheme scheme;
    char **secrets; /* resolved secret values; every one signs (outbound) / any one passes */
    size_t nsecrets;
    int64_t tolerance_ms; /* inbound freshness window, default 5m */
    wb_hmac_opts hmac;
    int insecure; /* scheme none allowed */
} wb_signing;

typedef struct wb_header {
    char *name;
    char *value;
} wb_header;

typedef struct wb_connector {
    char *name;
    char *file; /* source file, for messages */
    int line;   /* line of the connector's first key */
    wb_direction direction;
    wb_signing signing; /* outbound: "signing:", inbound: "verify:" */
    double rate_per_s;  /* 0 = unlimited */

    /* ---- outbound ---- */
    char *url;
    char **events; /* event-type globs */
    size_t nevents;
    wb_ordering ordering;
    int max_concurrency;        /* default 64 */
    int64_t timeout_ms;         /* total request timeout, default 10s */
    int64_t connect_timeout_ms; /* default 5s */
    int64_t *retry_schedule_ms; /* delays before attempt 2..n; default [0s,5s,5m,30m,2h,5h,10h] */
    size_t nretry;
    int64_t retry_after_cap_ms; /* cap on Retry-After, default 1h */
    wb_on_exhausted on_exhausted;
    wb_header *headers; /* extra static request headers */
    size_t nheaders;
    char *id_pointer;     /* JSON pointer giving webhook-id (overrides outbound.id_pointer) */
    char *contract;       /* "order.paid@1" pinned reader schema (Avro or JSON events), or NULL */
    int contract_line;    /* line of `contract:` (checked against the schemas after the walk) */
    int contract_writer;  /* wb_json_writer (registry.h): how a JSON event names its version */
    char *filter;         /* jq program: the record is delivered only if it yields true, or NULL */
    char *transform;      /* jq program applied to the envelope {type,timestamp,data}, or NULL */
    int circuit_failures; /* consecutive failures that open the breaker, default 10 */
    int64_t circuit_cooldown_ms; /* open -> half-open after, default 30s */
    int allow_private_networks;  /* egress guard off for this connector */
    char **allow_cidrs;          /* egress allowlist */
    size_t nallow_cidrs;
    int https_only;
    char *client_cert; /* mTLS, file paths */
    char *client_key;
    char *ca_file;
    char *proxy;
    /* the connector's own Kafka cursor */
    char *group_id; /* consumer group; default "<kafka group.id>.<name>" (filled at load) */
    char **topics;  /* topics it consumes; default outbound.topics (filled at load) */
    size_t ntopics;
    char *start;      /* where a group without committed offsets starts: "latest" (default),
                       * "earliest" or an RFC 3339 time */
    int start_mode;   /* WB_START_* parsed from start */
    int64_t start_ms; /* WB_START_TIME: unix ms */
    int paused;       /* paused: true -- fetch nothing, start nothing until resumed */
    int http2;        /* wb_http2_mode: 0 auto (h2 over TLS via ALPN), 1 off, 2 prior-knowledge */

    /* ---- inbound ---- */
    char *topic;
    char *key_pointer;      /* JSON pointer for the Kafka key, or NULL */
    char *event_type;       /* JSON pointer ("/type") or header name ("X-GitHub-Event") */
    size_t max_body;        /* default 1MiB */
    int64_t dedupe_ttl_ms;  /* default 24h */
    char **forward_headers; /* allowlist of request headers copied to Kafka headers */
    size_t nforward_headers;
    char *schema; /* inbound Avro schema "order.paid@2" or NULL */
} wb_connector;

typedef struct wb_kv {
    char *key;
    char *value;
} wb_kv;

typedef struct wb_config {
    char *path; /* the bridge.yaml that was loaded */
    int refs;   /* wb_config_ref / wb_config_unref (atomic); 1 after load */

    /* kafka.* passes to librdkafka as-is, in file order (both consumer and producer). */
    wb_kv *kafka;
    size_t nkafka;
    int embedded;            /* bootstrap.servers: embedded */
    int embedded_brokers;    /* default 3 */
    int embedded_partitions; /* partitions of auto-created topics, default 4 */

    struct {
        char **topics;
        size_t ntopics;
        char *dead_letter_topic;         /* default "webhook-bridge.dlq" */
        int max_in_flight_per_partition; /* default 1000 */
        int64_t drain_timeout_ms;        /* default 30s */
        char *event_type_pointer;        /* JSON pointer to the event type, or NULL */
        char *id_pointer;                /* JSON pointer to the event id, or NULL */
        char *user_agent;                /* default "webhook-bridge/<version>" */
        int loops;           /* event-loop threads the connectors are spread over, default 1 */
        size_t fetch_buffer; /* librdkafka prefetch budget for the whole process, split
                              * across the connectors' consumers; default 16MiB */
        size_t max_in_flight_bytes; /* per connector: record bytes in flight, default 64MiB */
        int64_t commit_interval_ms; /* store + commit the terminal prefix this often, 250ms */
        int64_t retention_ms;       /* topic retention assumed when the broker does not tell
                                     * (DescribeConfigs refused), default 7d */
        int64_t jq_budget_ms;       /* wall clock per filter/transform evaluation, default 100ms */
        size_t jq_memory;           /* memory cap of the jq sandbox worker, default 256MiB */
    } outbound;

    struct {
        char *listen;               /* "0.0.0.0:8080"; NULL = no listener */
        int max_connections;        /* default 1024 */
        int64_t request_timeout_ms; /* whole request incl. body, from accept (or the previous
                                     * answer on a kept-alive connection), default 30s */
        int64_t header_timeout_ms;  /* request head complete within, same start, default 10s;
                                     * also the idle limit of a kept-alive connection */
        int max_connections_per_ip; /* open connections per client address (IPv6: per /64),
                                     * default 256, 0 = no limit */
        int64_t publish_timeout_ms; /* wait for the broker ack, default 10s */
        size_t max_header;          /* default 16KiB */
        int threads;                /* default 2 */
    } inbound;

    struct {
        char *listen; /* "0.0.0.0:9090"; NULL = no admin endpoint */
        char *token;  /* bearer token for mutating admin routes (a secret), or NULL */
    } admin;

    struct {
        int level;  /* wb_log_level */
        int format; /* wb_log_format */
    } log;

    struct {
        char *url; /* Confluent-compatible Schema Registry, or NULL */
        char *username;
        char *password;
        char *bearer_token;
        char *dir;               /* local schemas/ folder (default: "schemas" next to the config) */
        int cache_size;          /* registry schemas kept (LRU), default 1000 */
        int64_t negative_ttl_ms; /* a permanent registry failure is remembered, default 60s */
    } schema_registry;

    int allow_private_networks; /* bridge-wide egress guard override */

    wb_connector *connectors;
    size_t nconnectors;
} wb_config;

/* The kafka group.id of cfg ("webhook-bridge" when not set). Borrowed. */
const char *wb_config_group_id(const wb_config *cfg);

/* Connector lookup by name (NULL if none); borrowed, valid as long as cfg. */
const wb_connector *wb_config_connector(const wb_config *cfg, const char *name);

/* The producer's message.max.bytes: kafka.message.max.bytes when set, else librdkafka's
 * default (1000000). The largest record (value + key + headers) a produce accepts. */
size_t wb_config_kafka_max_message(const wb_config *cfg);

/* Static name of a scheme as written in YAML ("standard-webhooks", ...), "unknown" if out
 * of range. (The names are the settings table's: config_settings.c.) */
const char *wb_scheme_name(wb_scheme s);

#endif
