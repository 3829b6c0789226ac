/* registry.h - the Confluent Schema Registry client (GET /schemas/ids/{id}), and (through
 * schema/schemas.h, included at the end) the schema runtime the engines call.
 *
 * Thread: a wb_registry is used by one thread at a time (the schema runtime's fetch thread,
 * or its owner in synchronous mode); wb_registry_abort() may be called from any thread. */
#ifndef WB_REGISTRY_H
#define WB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

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
    /* The schema runtime (wb_schemas_new_opts) reads these; the client ignores them. */
    int async_fetch;         /* 1: misses are fetched on a background thread (WB_ERR_PENDING) */
    size_t cache_size;       /* registry schemas kept (LRU); 0: 1000 */
    int64_t negative_ttl_ms; /* how long a permanent failure is remembered; 0: 60 s */
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
/* Any thread: make the request in progress (and every later one) fail at once (shutdown). */
void wb_registry_abort(wb_registry *reg);

#include "schema/schemas.h"

#endif
