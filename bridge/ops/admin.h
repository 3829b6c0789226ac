/* admin.h - the admin HTTP endpoint (admin.listen): /metrics, /healthz, /readyz, and routes
 * other modules add.
 *
 * A libmicrohttpd daemon driven by the endpoint's own thread, which also refreshes the
 * readiness gauge about once a second.
 *   GET /metrics  200 text/plain; version=0.0.4 (wb_metrics_render)
 *   GET /healthz  200 {"status":"ok"}, or 503 naming every loop whose heartbeat is older
 *                 than its stall limit
 *   GET /readyz   200 {"status":"ready","checks":{...}}, or 503
 *                 {"status":"not ready","checks":{"consumer":"no partitions assigned"}}
 *   routes added with wb_admin_route (e.g. GET /connectors, POST /connectors/x/pause)
 *   other paths 404, a known path with another method 405 + Allow (problem+json bodies).
 * A route registered with needs_auth (every mutating one) requires
 * "Authorization: Bearer <admin.token>", compared in constant time: without a configured
 * token such a route answers 403 ("admin.token is not configured"); a missing or wrong token
 * 401 with "WWW-Authenticate: Bearer". The token is never logged.
 * Connections are bounded like the inbound listener's (connguard.h: time from accept,
 * per-IP and total caps; metrics with endpoint="admin").
 * At start it registers webhook_bridge_build_info{version="..."} 1 and
 * webhook_bridge_ready (1 when every ready check passes, else 0; re-evaluated about every
 * second, so flapping readiness can be alerted on).
 *
 * Ownership: wb_admin_free() releases the daemon, every heartbeat handle, route and check.
 * Thread: the setters may be called from any thread; ready checks and route handlers run on
 * the admin thread only (one at a time). */
#ifndef WB_ADMIN_H
#define WB_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct wb_admin wb_admin;
typedef struct wb_heartbeat wb_heartbeat;

#define WB_ADMIN_MAX_BODY (64 * 1024) /* request bodies of added routes; larger: 413 */

/* Readiness check: return 1 when ready; else 0 after appending a short reason to why.
 * Called on the admin thread (every /readyz and once a second for the gauge): must be
 * thread-safe and quick. */
typedef int (*wb_ready_fn)(void *ctx, wb_buf *why);

/* Start the endpoint on listen ("host:port", "[v6]:port" or ":port"; port 0 picks an
 * ephemeral port, see wb_admin_port()). Returns NULL with a message in errstr on a bad
 * address or when binding fails. Free with wb_admin_free(). */
wb_admin *wb_admin_new(const char *listen, char *errstr, size_t errstr_size);

/* The bound TCP port. */
int wb_admin_port(const wb_admin *a);

/* The bearer token mutating routes require (config admin.token), copied; NULL or "" = none
 * (then every needs_auth route answers 403). May be called again (reload). */
wb_err wb_admin_set_token(wb_admin *a, const char *token);

/* Add a named readiness check (name is copied; ctx is borrowed and must outlive a).
 * /readyz is ready when every check passes. */
void wb_admin_add_ready_check(wb_admin *a, const char *name, wb_ready_fn fn, void *ctx);

/* Register a loop for liveness. The loop calls wb_heartbeat_beat() each turn; /healthz
 * fails when now - last beat > stall_ms. The handle is owned by a (freed with it) and
 * counts as beaten at registration. stall_ms must be > 0. Returns NULL when out of memory. */
wb_heartbeat *wb_admin_heartbeat(wb_admin *a, const char *loop_name, int64_t stall_ms);

/* Hot path: one relaxed atomic store of the monotonic clock. NULL is ignored. */
void wb_heartbeat_beat(wb_heartbeat *hb);

/* ---- routes added by other modules ---- */

typedef struct wb_admin_request {
    const char *method; /* "GET", "POST", ... (HEAD is served as GET without a body) */
    const char *path;   /* the URL path, no query */
    const char *body;   /* request body ("" when none), NUL-terminated */
    size_t body_len;    /* <= WB_ADMIN_MAX_BODY */
    void *conn;         /* for wb_admin_query */
} wb_admin_request;

typedef struct wb_admin_response {
    int status;            /* preset 200 */
    char content_type[96]; /* preset "application/json" */
    wb_buf body;           /* empty; the handler appends (at most 16 MiB) */
} wb_admin_response;

/* Fill resp for req. Runs on the admin thread; must not block for long (every admin request
 * waits behind it). */
typedef void (*wb_admin_handler)(void *ctx, const wb_admin_request *req, wb_admin_response *resp);

/* Serve method (exact, e.g. "GET" or "POST") on path: exactly, or with prefix_match every
 * path starting with it ("/connectors/" matches "/connectors/acme/pause"). Routes are tried
 * in registration order; the built-in paths cannot be taken over. needs_auth: the bearer
 * token is required (see the top). path is copied; ctx borrowed (must outlive a).
 * WB_ERR_INVALID for a bad method/path, WB_ERR_NOMEM. Any thread. */
wb_err wb_admin_route(wb_admin *a, const char *method, const char *path, int prefix_match,
                      wb_admin_handler fn, void *ctx, int needs_auth);

/* A query-string argument of the request (?name=value), or NULL. */
const char *wb_admin_query(const wb_admin_request *req, const char *name);

/* Make resp an RFC 9457 problem: status, application/problem+json, detail (may be NULL). */
void wb_admin_problem(wb_admin_response *resp, int status, const char *detail);

/* Stop the daemon (waits for its thread) and free everything. NULL is ignored. Stop every
 * loop holding a heartbeat handle before calling this. */
void wb_admin_free(wb_admin *a);

#endif
