/* app.h - wiring of a running bridge (used by main.c): config, embedded Kafka, producer,
 * inbound listener, admin endpoint, outbound engine, signals and ordered shutdown. */
#ifndef WB_APP_H
#define WB_APP_H

#include <stdio.h>
#include "config/config.h"

typedef struct wb_demo_opts {
    int events;  /* sample events to produce */
    double rate; /* per second */
} wb_demo_opts;

/* Run the bridge from config_path until SIGTERM/SIGINT (or, with demo, until the demo's
 * events have made the round trip). Returns the process exit status. */
int wb_app_run(const char *config_path, const wb_demo_opts *demo);

/* Deeper checks than parsing (secrets decode, signers/verifiers build) and a summary on out.
 * Returns 0 when valid, 1 otherwise. */
int wb_app_check(const wb_config *cfg, FILE *out);

#endif
