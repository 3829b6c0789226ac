/* cli/demo.h - the `demo` job (webhook-bridge demo): on the embedded cluster, a feeder thread
 * produces sample domain events at a rate, the engine's observer prints every delivery
 * outcome, and a watcher thread reads back what the inbound listener verified and published
 * (the round trip). The feeder sets the supervisor's stop flag once every connector is done.
 *
 * Thread: new/start/end on the supervising thread; the observer runs on the engine's loops. */
#ifndef WB_CLI_DEMO_H
#define WB_CLI_DEMO_H

#include <signal.h>

#include "cli/app.h"
#include "config/config.h"
#include "kafka/producer.h"
#include "outbound/engine.h"

typedef struct wb_demo wb_demo;

/* Installs the engine's observer (before wb_engine_start). cfg, bootstrap, prod, engine and
 * stop are borrowed and must outlive the demo. NULL when out of memory. */
wb_demo *wb_demo_new(const wb_demo_opts *opts, const wb_config *cfg, const char *bootstrap,
                     wb_producer *prod, wb_engine *engine, int with_listener,
                     volatile sig_atomic_t *stop);
/* Start the feeder (and the watcher when the config has an inbound connector). */
void wb_demo_start(wb_demo *d);
/* Join the threads, print the summary, free. 1 when every event was settled (or d is NULL). */
int wb_demo_end(wb_demo *d);

#endif
