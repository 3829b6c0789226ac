/* cmd_schemas.c - `webhook-bridge schemas check [DIR] [--mode MODE]`. */
#include "cmd_schemas.h"
#include "buf.h"
#include "compat.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge schemas check [DIR] [--mode backward|forward|full|"
                "backward_transitive|forward_transitive|full_transitive]\n"
                "  Checks each DIR/<event>/v<N>.avsc against the earlier versions (default DIR:\n"
                "  schemas, mode: backward) and DIR/manifest.json. Exit 1 on any violation.\n");
}

int wb_cmd_schemas(int argc, char **argv)
{
    const char *dir = "schemas";
    int mode = WB_COMPAT_BACKWARD, have_dir = 0;
    if (argc < 2 ||
        (strcmp(argv[1], "check") && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "check")) {
        usage(stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!strcmp(a, "--mode") && i + 1 < argc)
            val = argv[++i];
        else if (!strncmp(a, "--mode=", 7))
            val = a + 7;
        if (val) {
            if ((mode = wb_compat_mode_parse(val)) < 0) {
                fprintf(stderr, "schemas check: unknown mode '%s'\n", val);
                usage(stderr);
                return 2;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' || have_dir) {
            fprintf(stderr, "schemas check: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            dir = a;
            have_dir = 1;
        }
    }
    wb_buf report;
    char err[512];
    wb_buf_init(&report, 0);
    int n = wb_compat_check_dir(dir, (wb_compat_mode)mode, &report, err, sizeof(err));
    if (n < 0) {
        fprintf(stderr, "schemas check: %s\n", err);
        wb_buf_free(&report);
        return 2;
    }
    fputs(report.data ? report.data : "", n ? stderr : stdout);
    wb_buf_free(&report);
    return n ? 1 : 0;
}
