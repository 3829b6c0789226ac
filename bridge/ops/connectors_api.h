/* ops/connectors_api.h - the admin endpoint's view of the outbound connectors.
 *
 *   GET  /connectors              every connector: state (starting, running, paused,
 *                                 breaker-open, stopping, stopped, failed), group, lag,
 *                                 oldest undelivered age, retention headroom, in flight,
 *                                 counters, last error
 *   GET  /connectors/{name}       one of them (404 problem+json when unknown)
 *   POST /connectors/{name}/pause   stop fetching and starting deliveries for that connector
 *   POST /connectors/{name}/resume  (both need the admin bearer token; 202 when accepted)
 * A pause is applied on the connector's loop within a turn; in-flight deliveries finish and are
 * committed; nothing is lost. A pause set here lasts until resumed or the process restarts
 * (`paused: true` in the connector file makes it permanent).
 *
 * Thread: handlers run on the admin thread; the engine's status and pause calls are
 * thread-safe. */
#ifndef WB_OPS_CONNECTORS_API_H
#define WB_OPS_CONNECTORS_API_H

#include "ops/admin.h"
#include "outbound/engine.h"

/* Register the routes on a (e borrowed: must outlive a). */
wb_err wb_connectors_api_register(wb_admin *a, wb_engine *e);

#endif
