/* outbound/engine.h - every outbound connector of a process, spread over a few event loops.
 *
 * Each connector has its own consumer group (its cursor) and runs on one of
 * `outbound.loops` loop threads (chosen by a hash of its name, so a reload keeps it where it
 * is); a loop thread serves its connectors' Kafka queues, their HTTP sockets and timers. One
 * thread more samples what the connectors' gauges need from the cluster (log end offsets,
 * partition counts, retention.ms) off the loops.
 *
 * Cost model: each connector fetches its topics itself (N connectors on one topic read it N
 * times), and each of its consumers has librdkafka's own threads (about one per broker plus
 * two). librdkafka's prefetch is budgeted for the whole process: `outbound.fetch_buffer` is
 * split across the consumers. Past a few dozen connectors per topic, shard connectors across
 * deployments (README "Scaling").
 *
 * Thread: new/start/stop/wait/free/reload on the supervising (main) thread; pause/resume,
 * status and ready from any thread (admin endpoint); the rest inside the loops. */
#ifndef WB_OUTBOUND_ENGINE_H
#define WB_OUTBOUND_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "config/config.h"
#include "core/err.h"
#include "outbound/connector.h"
#include "kafka/producer.h"

typedef struct wb_engine wb_engine;
typedef struct wb_engine_loop wb_engine_loop;

/* Check what wb_engine_new / wb_engine_reload would build for cfg, without building it
 * (signers, egress policies, header values, schema sources): the one validation path that
 * `webhook-bridge check` shares with `run`. 0 when valid, else -1 with errors in errstr. */
int wb_engine_check(const wb_config *cfg, char *errstr, size_t errstr_size);

/* Build the loops and connectors of cfg (a reference is taken). bootstrap (NULL: the config's)
 * overrides bootstrap.servers. prod (borrowed) writes the dead-letter topic and answers the
 * cluster queries. Nothing runs until wb_engine_start. NULL + errstr. */
wb_engine *wb_engine_new(wb_config *cfg, const char *bootstrap, wb_producer *prod, char *errstr,
                         size_t errstr_size);
/* Observe every attempt outcome (demo); before start. Called on loop threads. */
void wb_engine_observe(wb_engine *e, void (*fn)(void *ctx, const wb_delivery_event *ev), void *ctx);
/* Liveness: loop i calls beat(ctx) every turn (before start; the supervisor wires it to the
 * admin endpoint's heartbeats). */
typedef void (*wb_engine_beat_fn)(void *ctx);
int wb_engine_loops(const wb_engine *e);
void wb_engine_set_heartbeat(wb_engine *e, int loop, wb_engine_beat_fn beat, void *ctx);

/* Start the loop threads and the sampler. */
wb_err wb_engine_start(wb_engine *e, char *errstr, size_t errstr_size);

/* A new configuration generation (a reference is taken): added connectors start, removed
 * ones drain and stop (their groups keep their offsets), changed ones use the new settings
 * from their next attempt -- each connector on its own loop at the top of a turn, nothing
 * moving between connectors. Checked first: on error nothing changes (WB_ERR_CONFIG +
 * errstr). */
wb_err wb_engine_reload(wb_engine *e, wb_config *cfg, char *errstr, size_t errstr_size);

/* Pause or resume one connector (admin API). WB_ERR_NOT_FOUND for an unknown name. The change
 * is applied on the connector's loop within a turn. Any thread. */
wb_err wb_engine_pause(wb_engine *e, const char *name, int paused);

/* Snapshot of every connector (at most max), in name order. Returns how many exist. Any
 * thread. */
size_t wb_engine_status(wb_engine *e, wb_conn_status *out, size_t max);

/* Readiness: every connector in its group (or paused), no dead-letter write failing, no
 * fatal error. Appends the reason to why when not ready. Any thread. */
int wb_engine_ready(wb_engine *e, wb_buf *why);

/* Stop every connector: drain until deadline_ms (monotonic), commit, close. Returns at once;
 * wb_engine_wait joins. */
void wb_engine_stop(wb_engine *e, int64_t deadline_ms);
/* Wait until the loops have stopped their connectors or until_ms; joins the threads. 0 when
 * everything stopped cleanly, 1 when the bound was hit (the rest is torn down without
 * commit: redelivered after a restart). */
int wb_engine_wait(wb_engine *e, int64_t until_ms);
void wb_engine_free(wb_engine *e);

/* The schema runtime cfg asks for (a registry, or a local schemas folder with a manifest), or
 * NULL when it asks for none; *fail set (errstr filled) when it cannot be opened. */
struct wb_schemas *wb_engine_open_schemas(const wb_config *cfg, int async, char *errstr,
                                          size_t errstr_size, int *fail);

#endif
