/* main.c - the webhook-bridge CLI: parse arguments, dispatch to a command. */
#include <stdio.h>
#include <string.h>

#include "cmd_schemas.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge <command> [options]\n"
                "commands:\n"
                "  version              print the version\n"
                "  schemas check [DIR]  check schema versions are compatible\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("webhook-bridge %s\n", WB_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "schemas"))
        return wb_cmd_schemas(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "webhook-bridge: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
