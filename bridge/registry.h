/* registry.h - writer schemas by id (Confluent Schema Registry and/or the local schemas/
 * folder), and the schema runtime the outbound/inbound engines call: Confluent-framed Avro ->
 * JSON (optionally pinned to a contract) and JSON -> framed Avro.
 *
 * Caches: writer schemas by id forever (ids are immutable); one resolution plan per
 * (writer id, contract), built on first use and reused; failures that are permanent (unknown id
 * 40403, unparsable schema, unresolvable contract) are cached too. Registry errors that may
 * pass (connection, timeout, 5xx, 401/403) are not cached: the caller retries.
 *
 * Thread: a wb_schemas / wb_registry is owned by one thread (the hot path); no locks. */
#ifndef WB_REGISTRY_H
#define WB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

/* ---------------------------------------------------------------- registry client */

typedef struct wb_registry wb_registry;

typedef struct wb_registry_opts {
    const char *url;      /* "https://registry:8081" (required) */
    const char *username; /* basic auth (with password) or NULL */
    const char *password;
    const char *bearer;       /* bearer token or NULL (wins over basic) */
    const char *ca_file;      /* extra CA bundle or NULL */
    long connect_timeout_ms;  /* 0: 5000 */
    long timeout_ms;          /* 0: 10000 */
    int insecure_skip_verify; /* 1 disables TLS peer/host checks (tests only) */
} wb_registry_opts;

/* Create a client (a reusable libcurl easy handle: keep-alive). NULL + errstr on failure.
 * Strings are copied. Free with wb_registry_free(). */
wb_registry *wb_registry_new(const wb_registry_opts *opts, char *errstr, size_t errstr_size);
void wb_registry_free(wb_registry *reg);

/* GET {url}/schemas/ids/{id}: on WB_OK *schema_json is the schema text (caller frees).
 * WB_ERR_SCHEMA: the registry says the id does not exist (404 / 40403) or it is not an Avro
 * schema (permanent). WB_ERR_IO: unreachable, 5xx, 401/403 or an unreadable answer;
 * WB_ERR_TIMEOUT: timed out (both transient). reason explains, never with credentials. */
wb_err wb_registry_fetch(wb_registry *reg, int32_t id, char **schema_json, char *reason,
                         size_t reason_size);
/* Requests sent so far (tests, metrics). */
unsigned long wb_registry_requests(const wb_registry *reg);

/* ---------------------------------------------------------------- schema runtime */

typedef struct wb_schemas wb_schemas;

/* dir: local schemas folder with manifest.json (may be NULL); registry_url may be NULL (local
 * only); username/password (basic) or bearer may be NULL. At least one of dir / registry_url.
 * Local schemas are parsed and checked here: an error names the file. NULL + errstr. */
wb_schemas *wb_schemas_new(const char *dir, const char *registry_url, const char *username,
                           const char *password, const char *bearer, char *errstr,
                           size_t errstr_size);
/* Same with full registry options (opts->url NULL: no registry). */
wb_schemas *wb_schemas_new_opts(const char *dir, const wb_registry_opts *opts, char *errstr,
                                size_t errstr_size);
void wb_schemas_free(wb_schemas *s);

/* 1 when val looks Confluent-framed: magic byte 0 and a 4-byte schema id (payload may be
 * empty). JSON values never start with a 0 byte. */
int wb_schemas_is_framed(const void *val, size_t len);

/* Decode a framed value with its writer schema, resolve it to contract ("order.paid@1";
 * NULL: no resolution) and append the JSON to out (mapping: schemas/README.md).
 * WB_OK; WB_ERR_SCHEMA for a permanent problem (not framed, undecodable bytes, unknown id,
 * unknown contract, unresolvable to the contract) with reason filled; WB_ERR_IO /
 * WB_ERR_TIMEOUT when the registry is unreachable (transient: retry later, never skip);
 * WB_ERR_TOO_LARGE / WB_ERR_NOMEM from out. out is unchanged on error. */
wb_err wb_schemas_to_json(wb_schemas *s, const void *val, size_t len, const char *contract,
                          wb_buf *out, char *reason, size_t reason_size);

/* Inbound: validate a JSON body against local schema schema_ref ("order.paid@2") and append
 * the Confluent-framed Avro (its manifest id) to out. WB_ERR_SCHEMA with a reason naming the
 * field at fault ("field 'amount': ...") on mismatch or unknown schema_ref; out unchanged on
 * error. */
wb_err wb_schemas_from_json(wb_schemas *s, const char *schema_ref, const char *json, size_t len,
                            wb_buf *out, char *reason, size_t reason_size);

/* Registry id of a local schema ("order.paid@2"), or -1. */
int32_t wb_schemas_id_of(const wb_schemas *s, const char *schema_ref);

/* The local versions of event as "order.paid@1, order.paid@2" (ascending) in out; returns
 * how many (0: the event is not in the local schemas). */
int wb_schemas_versions(const wb_schemas *s, const char *event, char *out, size_t out_size);

#endif
