/* inbound_server.c - test helper: run the inbound listener from a bridge.yaml.
 *
 * usage: inbound_server bridge.yaml
 *        inbound_server --mock BROKERS PARTITIONS TOPIC   (a mock cluster alone, for benches:
 *                                                         prints "READY 0 <bootstrap>")
 * Loads the config (config.c), starts the embedded mock cluster when configured, the producer
 * and the listener, prints one line "READY <port> <bootstrap.servers>" on stdout, and runs
 * until stdin is closed (the test driver holds the pipe), then shuts down gracefully. */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "kafka/kafka.h"
#include "inbound/listener.h"
#include "core/log.h"
#include "kafka/producer.h"

int main(int argc, char **argv)
{
    char err[4096] = "";
    if (argc == 5 && !strcmp(argv[1], "--mock")) {
        wb_config mc;
        memset(&mc, 0, sizeof(mc));
        mc.embedded_brokers = (int)strtol(argv[2], NULL, 10);
        mc.embedded_partitions = (int)strtol(argv[3], NULL, 10);
        wb_log_setup(WB_LOG_WARN, WB_LOG_TEXT);
        wb_embedded *e = wb_embedded_start(&mc, err, sizeof(err));
        if (!e || wb_embedded_topic(e, argv[4], mc.embedded_partitions)) {
            fprintf(stderr, "mock: %s\n", err);
            return 1;
        }
        printf("READY 0 %s\n", wb_embedded_bootstraps(e));
        fflush(stdout);
        char b[256];
        while (read(0, b, sizeof(b)) > 0)
            ;
        wb_embedded_stop(e);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s bridge.yaml\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    wb_log_setup(WB_LOG_WARN, WB_LOG_TEXT);
    wb_config *cfg = wb_config_load(argv[1], err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return 1;
    }
    wb_embedded *emb = NULL;
    const char *bootstrap = NULL;
    if (cfg->embedded) {
        emb = wb_embedded_start(cfg, err, sizeof(err));
        if (!emb) {
            fprintf(stderr, "embedded: %s\n", err);
            return 1;
        }
        bootstrap = wb_embedded_bootstraps(emb);
    }
    wb_producer *prod = wb_producer_new(cfg, bootstrap, err, sizeof(err));
    if (!prod) {
        fprintf(stderr, "producer: %s\n", err);
        return 1;
    }
    wb_listener *l = wb_listener_new(cfg, prod, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "listener: %s\n", err);
        return 1;
    }
    printf("READY %d %s\n", wb_listener_port(l), bootstrap ? bootstrap : "-");
    fflush(stdout);
    char buf[256];
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    wb_listener_free(l, 5000);
    wb_producer_free(prod, 5000);
    wb_embedded_stop(emb);
    wb_config_free(cfg);
    return 0;
}
