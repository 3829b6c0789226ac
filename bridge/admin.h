/* admin.h - the admin HTTP endpoint (admin.listen): /metrics, /healthz, /readyz.
 *
 * A libmicrohttpd daemon with its own internal polling thread.
 *   GET /metrics  200 text/plain; version=0.0.4 (wb_metrics_render)
 *   GET /healthz  200 {"status":"ok"}, or 503 naming every loop whose heartbeat is older
 *                 than its stall limit
 *   GET /readyz   200 {"status":"ready","checks":{...}}, or 503
 *                 {"status":"not ready","checks":{"consumer":"no partitions assigned"}}
 *   other paths 404, methods other than GET/HEAD 405 (application/problem+json bodies).
 * At start it registers the gauge webhook_bridge_build_info{version="..."} 1.
 *
 * Ownership: wb_admin_free() releases the daemon, every heartbeat handle and the check list.
 * Thread: the setters may be called from any thread; ready checks run on the admin thread. */
#ifndef WB_ADMIN_H
#define WB_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct wb_admin wb_admin;
typedef struct wb_heartbeat wb_heartbeat;

/* Readiness check: return 1 when ready; else 0 after appending a short reason to why.
 * Called on the admin thread for every /readyz request: must be thread-safe and quick. */
typedef int (*wb_ready_fn)(void *ctx, wb_buf *why);

/* Start the endpoint on listen ("host:port", "[v6]:port" or ":port"; port 0 picks an
 * ephemeral port, see wb_admin_port()). Returns NULL with a message in errstr on a bad
 * address or when binding fails. Free with wb_admin_free(). */
wb_admin *wb_admin_new(const char *listen, char *errstr, size_t errstr_size);

/* The bound TCP port. */
int wb_admin_port(const wb_admin *a);

/* Add a named readiness check (name is copied; ctx is borrowed and must outlive a).
 * /readyz is ready when every check passes. */
void wb_admin_add_ready_check(wb_admin *a, const char *name, wb_ready_fn fn, void *ctx);

/* Register a loop for liveness. The loop calls wb_heartbeat_beat() each turn; /healthz
 * fails when now - last beat > stall_ms. The handle is owned by a (freed with it) and
 * counts as beaten at registration. stall_ms must be > 0. Returns NULL when out of memory. */
wb_heartbeat *wb_admin_heartbeat(wb_admin *a, const char *loop_name, int64_t stall_ms);

/* Hot path: one relaxed atomic store of the monotonic clock. NULL is ignored. */
void wb_heartbeat_beat(wb_heartbeat *hb);

/* Stop the daemon (waits for its thread) and free everything. NULL is ignored. Stop every
 * loop holding a heartbeat handle before calling this. */
void wb_admin_free(wb_admin *a);

#endif
