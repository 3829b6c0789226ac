/* outbound/connector.h - one outbound connector: its own Kafka cursor and delivery pipeline.
 *
 * A connector consumes its topics in its own consumer group (its "cursor"), decodes each
 * record once, keeps the records it subscribes to in per-key lanes, signs and POSTs them,
 * retries, dead-letters what can never be delivered, and commits an offset only once every
 * record before it is terminal. Nothing of it is shared with another connector but the event
 * loop, the HTTP client (connections, DNS and TLS caches), the dead-letter producer and the
 * schema cache: a partner that is down fills only its own window and pauses only its own
 * partitions.
 *
 * Lifecycle: wb_conn_new subscribes; wb_conn_set_paused stops fetching and starting deliveries
 * (in-flight ones finish and are committed); wb_conn_reload swaps in new settings (URL,
 * secrets, limits: queued and retrying deliveries use them from their next attempt);
 * wb_conn_stop drains within a deadline, commits and closes the consumer (its group keeps its
 * offsets: re-adding the connector resumes there); wb_conn_free after wb_conn_stopped.
 *
 * Thread: everything on the loop thread the connector was created on, except
 * wb_conn_get_status (any thread). */
#ifndef WB_OUTBOUND_CONNECTOR_H
#define WB_OUTBOUND_CONNECTOR_H

#include <stdint.h>

#include "core/err.h"
#include "core/loop.h"
#include "outbound/conn_types.h"

/* Create a connector on lp with settings st (a reference is taken), consuming through a new
 * consumer to bootstrap (NULL: the config's bootstrap.servers). nconsumers: how many consumers
 * the process runs (the fetch buffer budget is split between them). http, prod and schemas
 * are borrowed (schemas may be NULL); opts (NULL: live) is copied. NULL + errstr. */
wb_conn *wb_conn_new(wb_loop *lp, struct wb_http *http, struct wb_producer *prod,
                     struct wb_schemas *schemas, wb_settings *st, const char *bootstrap,
                     int nconsumers, const wb_conn_hooks *hooks, void *hooks_ctx,
                     const wb_conn_opts *opts, char *errstr, size_t errstr_size);

/* A bounded run's progress (loop thread). */
void wb_conn_get_progress(const wb_conn *c, wb_conn_progress *out);

/* The loop's jq sandbox for filters and transforms (borrowed; set before records flow). A
 * connector with a filter or transform and no sandbox dead-letters nothing: it refuses to
 * start (wb_conn_new checks). */
struct wb_jq;
void wb_conn_set_jq(wb_conn *c, struct wb_jq *jq);

/* The schema registry answered something a partition was waiting for: partitions paused for
 * it read on now (the record is decoded again, with the schema now cached). */
void wb_conn_registry_ready(wb_conn *c);

/* Apply new settings of the same connector (a reference is taken, the old one released). */
void wb_conn_reload(wb_conn *c, wb_settings *st);

/* Pause (1) or resume (0): fetching and starting deliveries stop; in-flight ones finish. */
void wb_conn_set_paused(wb_conn *c, int paused);

/* Begin stopping: fetch nothing more, let in-flight work finish until deadline_ms
 * (monotonic), then abort what still runs (it is redelivered after a restart: its offsets
 * were not committed), commit the terminal prefix, close the consumer. */
void wb_conn_stop(wb_conn *c, int64_t deadline_ms);
/* 1 once stopped (consumer closed, nothing referenced). */
int wb_conn_stopped(const wb_conn *c);
/* Free (after wb_conn_stopped, or at any time to tear down without committing). */
void wb_conn_free(wb_conn *c);

/* The name (borrowed). */
const char *wb_conn_name(const wb_conn *c);
/* 1 when the consumer is in its group (an assignment, maybe empty, was received) or the
 * connector is paused; 0 while joining or after a fatal consumer error. */
int wb_conn_ready(const wb_conn *c);
/* Records consumed and not yet terminal. */
int wb_conn_in_flight(const wb_conn *c);

/* A snapshot, refreshed about every second by the loop. Any thread. */
void wb_conn_get_status(wb_conn *c, wb_conn_status *out);

#endif
