/* main.c - the webhook-bridge CLI: parse arguments, dispatch to a command.
 *
 * `run` wires the modules: config -> logging -> (embedded Kafka) -> producer -> inbound
 * listener -> admin endpoint -> outbound engine on this thread; shutdown in reverse order. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/app.h"
#include "cli/cmd_schemas.h"
#include "cli/cmd_sign.h"
#include "cli/cmd_transform.h"
#include "config/config.h"
#include "core/log.h"
#include "outbound/reprocess.h"
#include "jq/jq.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge <command> [options]\n"
                "\n"
                "commands:\n"
                "  run -c bridge.yaml        run the bridge (outbound, inbound, admin)\n"
                "  demo [-c demo.yaml]       embedded Kafka + sample events, watch the round trip\n"
                "  check -c bridge.yaml      validate the config and every connector\n"
                "  sign ...                  print the headers a partner receives for a body\n"
                "  verify ...                verify a signed body (debug a sender)\n"
                "  transform -c conn.yaml    what a connector's partner receives for an event\n"
                "  schemas check [DIR]       prove each schema version compatible\n"
                "  replay -c bridge.yaml --connector NAME --from TIME [--to TIME] [--events GLOB]\n"
                "                            deliver a time window again, to one connector\n"
                "  redrive -c bridge.yaml [--connector NAME] [--reason R] [--since TIME]\n"
                "                            deliver dead-lettered records again\n"
                "  schemas catalog [DIR]     the partner-facing event catalog (markdown, html)\n"
                "  version                   print the version\n"
                "\n"
                "`webhook-bridge <command> --help` describes each command.\n");
}

/* Parse `-c FILE` / `--config FILE` for run/check; returns the path or NULL (usage shown). */
static const char *config_arg(int argc, char **argv, const char *cmd, const char *help,
                              const char *dflt, int *want_help)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = dflt;
    int c;
    optind = 1;
    *want_help = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else if (c == 'h') {
            printf("usage: webhook-bridge %s -c bridge.yaml\n%s", cmd, help);
            *want_help = 1;
            return NULL;
        } else {
            fprintf(stderr, "usage: webhook-bridge %s -c bridge.yaml\n", cmd);
            return NULL;
        }
    }
    if (!path) fprintf(stderr, "webhook-bridge %s: missing -c bridge.yaml\n", cmd);
    return path;
}

static int cmd_check(int argc, char **argv)
{
    int help;
    const char *path = config_arg(argc, argv, "check",
                                  "Validates bridge.yaml and every connector it names, prints a "
                                  "summary, exits 1 on any error.\n",
                                  NULL, &help);
    if (!path) return help ? 0 : 2;
    char errstr[8192];
    wb_config *cfg = wb_config_load(path, errstr, sizeof(errstr));
    if (!cfg) {
        fprintf(stderr, "%s", errstr);
        if (errstr[0] && errstr[strlen(errstr) - 1] != '\n') fputc('\n', stderr);
        fprintf(stderr, "webhook-bridge check: %s is not valid\n", path);
        return 1;
    }
    int rc = wb_app_check(cfg, stdout);
    wb_config_free(cfg);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    int help;
    const char *path = config_arg(argc, argv, "run",
                                  "Runs the bridge until SIGTERM/SIGINT: drains in-flight "
                                  "deliveries, commits, exits 0. A second signal exits at once.\n",
                                  NULL, &help);
    if (!path) return help ? 0 : 2;
    return wb_app_run(path, NULL);
}

static int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"events", required_argument, NULL, 'n'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    wb_demo_opts d = {.events = 25, .rate = 10};
    const char *path = "connectors/demo/bridge.yaml";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:n:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'n':
            d.events = (int)strtol(optarg, NULL, 10);
            break;
        case 'r':
            d.rate = strtod(optarg, NULL);
            break;
        case 'h':
            printf("usage: webhook-bridge demo [-c connectors/demo/bridge.yaml] [--events N] "
                   "[--rate PER_S]\n"
                   "Starts embedded Kafka, produces sample domain events, delivers them as "
                   "signed webhooks to the bridge's own inbound listener, which verifies them and "
                   "publishes them back to Kafka. Prints every step and a summary.\n");
            return 0;
        default:
            return 2;
        }
    }
    if (d.events <= 0 || d.rate <= 0) {
        fprintf(stderr, "webhook-bridge demo: --events and --rate must be positive\n");
        return 2;
    }
    return wb_app_run(path, &d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* The jq sandbox re-executes this binary (outbound/jq.h): nothing else may run first. */
    if (!strcmp(cmd, "jq-worker")) return wb_jq_worker_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("webhook-bridge %s\n", WB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check")) return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "demo")) return cmd_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign")) return wb_cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify")) return wb_cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "transform")) return wb_cmd_transform(argc - 1, argv + 1);
    if (!strcmp(cmd, "schemas")) return wb_cmd_schemas(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay")) return wb_cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "redrive")) return wb_cmd_redrive(argc - 1, argv + 1);
    fprintf(stderr, "webhook-bridge: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
