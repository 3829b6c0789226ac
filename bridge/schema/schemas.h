/* schema/schemas.h - the schema runtime the outbound/inbound engines call: writer schemas by
 * id (the local schemas/ folder and/or a Confluent Schema Registry), Confluent-framed Avro ->
 * JSON (optionally pinned to a contract), JSON events -> a contract, JSON -> framed Avro.
 *
 * Caches (bounded):
 *  - local schemas (the folder's manifest): loaded at start, kept for the process's life;
 *  - registry schemas by id: at most opts->cache_size (default 1000), least recently used
 *    evicted (ids are immutable, so an evicted one is simply fetched again);
 *  - permanent registry failures (unknown id 40403, not Avro, unparsable) are remembered for
 *    opts->negative_ttl_ms (default 60 s), then asked again (an id may be registered late);
 *  - one resolution plan per (writer id, contract), at most 4 x cache_size, LRU; a plan goes
 *    with its writer schema.
 * Registry errors that may pass (connection, timeout, 5xx, 401/403) are reported to the one
 * call that meets them (WB_ERR_IO / WB_ERR_TIMEOUT) and not kept: the caller retries.
 *
 * Fetching: synchronously on the calling thread by default (as before); with
 * opts->async_fetch a background thread fetches misses, the call returns WB_ERR_PENDING and
 * the notify callback (wb_schemas_set_notify) says when the id's answer is in: the engine then
 * retries the waiting record (a partition waits; nothing is skipped).
 *
 * Thread: a wb_schemas is owned by one thread (the hot path; no locks there); with async_fetch
 * it also owns one fetch thread, which only touches the registry client and the result queue
 * (its own lock). */
#ifndef WB_SCHEMA_SCHEMAS_H
#define WB_SCHEMA_SCHEMAS_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "schema/registry.h"

typedef struct wb_schemas wb_schemas;

/* dir: local schemas folder with manifest.json (may be NULL); registry_url may be NULL (local
 * only); username/password (basic) or bearer may be NULL. At least one of dir / registry_url.
 * Local schemas are parsed and checked here: an error names the file. NULL + errstr.
 * Synchronous fetching, default cache bounds. */
wb_schemas *wb_schemas_new(const char *dir, const char *registry_url, const char *username,
                           const char *password, const char *bearer, char *errstr,
                           size_t errstr_size);
/* Same with full registry and cache options (opts->url NULL: no registry; opts may be NULL).
 * With opts->async_fetch the fetch thread starts here. */
wb_schemas *wb_schemas_new_opts(const char *dir, const wb_registry_opts *opts, char *errstr,
                                size_t errstr_size);
/* Stops the fetch thread (a request in flight is aborted) and frees everything. */
void wb_schemas_free(wb_schemas *s);

/* Async fetching: fn(ctx, id) runs on the fetch thread each time the answer for id (schema,
 * permanent or transient failure) is ready to be picked up by the next call on the owner
 * thread; it must only post to the owner (e.g. wb_loop_post) and return. Set it before the
 * first call; NULL clears it. Owner thread. */
typedef void (*wb_schemas_notify_fn)(void *ctx, int32_t id);
void wb_schemas_set_notify(wb_schemas *s, wb_schemas_notify_fn fn, void *ctx);

/* 1 when val looks Confluent-framed: magic byte 0 and a 4-byte schema id (payload may be
 * empty). JSON values never start with a 0 byte. */
int wb_schemas_is_framed(const void *val, size_t len);

/* Decode a framed value with its writer schema, resolve it to contract ("order.paid@1";
 * NULL: no resolution) and append the JSON to out (mapping: schemas/README.md).
 * WB_OK; WB_ERR_SCHEMA for a permanent problem (not framed, undecodable bytes, unknown id,
 * unknown contract, unresolvable to the contract) with reason filled; WB_ERR_IO /
 * WB_ERR_TIMEOUT when the registry is unreachable (transient: retry later, never skip);
 * WB_ERR_PENDING (async_fetch only) when the writer schema is being fetched: retry after the
 * notify callback; WB_ERR_TOO_LARGE / WB_ERR_NOMEM from out. out is unchanged on error. */
wb_err wb_schemas_to_json(wb_schemas *s, const void *val, size_t len, const char *contract,
                          wb_buf *out, char *reason, size_t reason_size);

/* How a plain JSON event names the schema version it was written with (connector key
 * contract_writer):
 *   AUTO            the ce_dataschema header when present, else a top-level
 *                   "schema_version" field when present, else the newest local version;
 *   DATASCHEMA      the ce_dataschema header, required;
 *   FIELD           the "schema_version" field (integer or digits), required;
 *   NEWEST          always the newest local version of the contract's event.
 * ce_dataschema may be "order.paid@2", a URL or path ending in ".../order.paid/v2" (".avsc"
 * or ".json" allowed) or ".../order.paid@2", or a registry URL ".../schemas/ids/102" (the
 * local schema with that id). It must name a version of the contract's event. */
typedef enum wb_json_writer {
    WB_JSON_WRITER_AUTO = 0,
    WB_JSON_WRITER_DATASCHEMA,
    WB_JSON_WRITER_FIELD,
    WB_JSON_WRITER_NEWEST,
} wb_json_writer;

/* A plain JSON event for a connector pinned to contract: validate it against the writer
 * version it claims (rule above; dataschema is the ce_dataschema header value or NULL) and
 * resolve it to contract exactly as a framed Avro record would be, appending the contract's
 * JSON to out. A "schema_version" field that the writer schema does not declare is
 * metadata: it is dropped before validation. WB_ERR_SCHEMA with a reason naming the field at
 * fault ("order.paid@2: field 'amount': expected a decimal string, got number") when the
 * event is not JSON, names no known version, does not match its writer schema or cannot be
 * resolved; out unchanged on error. Local schemas only: never waits for the registry. */
wb_err wb_schemas_json_to_contract(wb_schemas *s, const char *json, size_t len, wb_json_writer rule,
                                   const char *dataschema, const char *contract, wb_buf *out,
                                   char *reason, size_t reason_size);

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

/* Cache figures (tests, metrics). */
typedef struct wb_schemas_stats {
    size_t registry_schemas; /* cached registry writer entries (schemas and failures) */
    size_t plans;
    uint64_t evictions;    /* writer entries and plans evicted by the bounds */
    unsigned long fetches; /* registry requests sent */
} wb_schemas_stats;
void wb_schemas_get_stats(const wb_schemas *s, wb_schemas_stats *st);

#endif
