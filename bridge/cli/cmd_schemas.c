/* cmd_schemas.c - `webhook-bridge schemas check [DIR] [--mode MODE]` and
 * `webhook-bridge schemas catalog [DIR] [--format markdown|html] [-o FILE]`. */
#include "cli/cmd_schemas.h"
#include "core/buf.h"
#include "schema/compat.h"
#include "cli/catalog.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge schemas check [DIR] [--mode backward|forward|full|"
                "backward_transitive|forward_transitive|full_transitive]\n"
                "  Checks each DIR/<event>/v<N>.avsc against the earlier versions (default DIR:\n"
                "  schemas, mode: backward) and DIR/manifest.json. Exit 1 on any violation.\n"
                "usage: webhook-bridge schemas catalog [DIR] [--format markdown|html] [-o FILE]\n"
                "  Writes the partner-facing event catalog of DIR (default: schemas) to FILE\n"
                "  (default: stdout): every event and version, what changed, fields, a signed\n"
                "  example request and how to verify it.\n");
}

static int catalog(int argc, char **argv)
{
    const char *dir = "schemas", *file = NULL;
    int have_dir = 0;
    wb_catalog_format fmt = WB_CATALOG_MARKDOWN;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if ((!strcmp(a, "--format") || !strcmp(a, "-o") || !strcmp(a, "--output")) &&
            i + 1 < argc) {
            val = argv[++i];
            if (a[1] == 'o' || a[2] == 'o') {
                file = val;
                continue;
            }
        } else if (!strncmp(a, "--format=", 9)) {
            val = a + 9;
        }
        if (val) {
            if (!strcmp(val, "markdown") || !strcmp(val, "md"))
                fmt = WB_CATALOG_MARKDOWN;
            else if (!strcmp(val, "html"))
                fmt = WB_CATALOG_HTML;
            else {
                fprintf(stderr, "schemas catalog: unknown format '%s' (markdown or html)\n", val);
                return 2;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' || have_dir) {
            fprintf(stderr, "schemas catalog: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            dir = a;
            have_dir = 1;
        }
    }
    wb_buf out;
    char err[1024];
    wb_buf_init(&out, 0);
    if (wb_catalog_render(dir, fmt, &out, err, sizeof(err))) {
        fprintf(stderr, "schemas catalog: %s\n", err);
        wb_buf_free(&out);
        return 1;
    }
    FILE *fp = file ? fopen(file, "w") : stdout;
    int rc = 0;
    if (!fp || fwrite(out.data, 1, out.len, fp) != out.len || (file ? fclose(fp) : fflush(fp))) {
        fprintf(stderr, "schemas catalog: cannot write %s\n", file ? file : "stdout");
        rc = 1;
    }
    wb_buf_free(&out);
    return rc;
}

int wb_cmd_schemas(int argc, char **argv)
{
    const char *dir = "schemas";
    int mode = WB_COMPAT_BACKWARD, have_dir = 0;
    if (argc >= 2 && !strcmp(argv[1], "catalog")) return catalog(argc, argv);
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
