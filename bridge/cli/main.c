/* main.c - the webhook-bridge CLI: one table of commands, each a function taking the
 * command's own argv (argv[0] is the command name) and returning the exit code: 0 success,
 * 1 the work failed, 2 a usage error.
 *
 * Only wiring lives here: `run` and `demo` hand over to cli/app.c, which builds the modules
 * (config -> logging -> embedded Kafka -> producer -> listener -> admin -> outbound engine)
 * and shuts them down in reverse order. */
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
#include "core/util.h"
#include "jq/jq.h"
#include "outbound/reprocess.h"

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
        case 'n': {
            long n;
            if (wb_parse_int(optarg, 1, 1000000, &n)) {
                fprintf(stderr, "webhook-bridge demo: --events wants 1..1000000, not '%s'\n",
                        optarg);
                return 2;
            }
            d.events = (int)n;
            break;
        }
        case 'r':
            if (wb_parse_rate(optarg, &d.rate) || d.rate <= 0) {
                fprintf(stderr,
                        "webhook-bridge demo: --rate wants a rate such as 10 or 10/s, "
                        "not '%s'\n",
                        optarg);
                return 2;
            }
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
    return wb_app_run(path, &d);
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("webhook-bridge %s\n", WB_VERSION);
    return 0;
}

/* The commands, in the order `help` lists them. `schemas` has two subcommands, so it has
 * two lines of help and one entry point. */
static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis; /* NULL: a second help line of the command above */
    const char *summary;
} commands[] = {
    {"run", cmd_run, "run -c bridge.yaml", "run the bridge (outbound, inbound, admin)"},
    {"demo", cmd_demo, "demo [-c demo.yaml]",
     "embedded Kafka + sample events, watch the round trip"},
    {"check", cmd_check, "check -c bridge.yaml", "validate the config and every connector"},
    {"sign", wb_cmd_sign, "sign ...", "print the headers a partner receives for a body"},
    {"verify", wb_cmd_verify, "verify ...", "verify a signed body (debug a sender)"},
    {"transform", wb_cmd_transform, "transform -c conn.yaml",
     "what a connector's partner receives for an event"},
    {"schemas", wb_cmd_schemas, "schemas check [DIR]", "prove each schema version compatible"},
    {"schemas", NULL, "schemas catalog [DIR]", "the partner-facing event catalog (markdown, html)"},
    {"replay", wb_cmd_replay,
     "replay -c bridge.yaml --connector NAME --from TIME [--to TIME] [--events GLOB]",
     "deliver a time window again, to one connector"},
    {"redrive", wb_cmd_redrive,
     "redrive -c bridge.yaml [--connector NAME] [--reason R] [--since TIME]",
     "deliver dead-lettered records again"},
    {"version", cmd_version, "version", "print the version"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct command *k = &commands[i];
        /* a long synopsis takes its own line, the summary under it */
        if (strlen(k->synopsis) > 24)
            fprintf(fp, "  %s\n  %-24s  %s\n", k->synopsis, "", k->summary);
        else
            fprintf(fp, "  %-24s  %s\n", k->synopsis, k->summary);
    }
    fprintf(fp, "\n`webhook-bridge <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    /* The jq sandbox re-executes this binary (jq/jq.h): nothing else may run first, and it is
     * no command of the table (an operator never types it). */
    if (!strcmp(cmd, "jq-worker")) return wb_jq_worker_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version")) return cmd_version(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].fn && !strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "webhook-bridge: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
