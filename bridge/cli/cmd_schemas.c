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

/* argv[*i] as "NAME VALUE" (advancing *i) or "NAME=VALUE": the value, else NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (!strcmp(a, name) && *i + 1 < argc) return argv[++*i];
    if (!strncmp(a, name, n) && a[n] == '=') return a + n + 1;
    return NULL;
}

/* An argument that is no option of cmd: -h / --help (usage, exit 0), else the folder (once;
 * -1: taken, go on), else an error (exit 2). */
static int positional(const char *cmd, const char *a, const char **dir, int *have_dir)
{
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        usage(stdout);
        return 0;
    }
    if (a[0] == '-' || *have_dir) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, a);
        usage(stderr);
        return 2;
    }
    *dir = a;
    *have_dir = 1;
    return -1;
}

/* Write the rendered catalog to file (NULL: stdout). 0, or 1 with a message. */
static int write_out(const wb_buf *out, const char *file)
{
    FILE *fp = file ? fopen(file, "w") : stdout;
    if (!fp || fwrite(out->data, 1, out->len, fp) != out->len || (file ? fclose(fp) : fflush(fp))) {
        fprintf(stderr, "schemas catalog: cannot write %s\n", file ? file : "stdout");
        return 1;
    }
    return 0;
}

/* `schemas catalog [DIR] [--format markdown|html] [-o FILE]` */
static int catalog(int argc, char **argv)
{
    const char *dir = "schemas", *file = NULL, *val;
    int have_dir = 0, rc;
    wb_catalog_format fmt = WB_CATALOG_MARKDOWN;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
            file = argv[++i];
        } else if ((val = opt_value(argc, argv, &i, "--format"))) {
            if (!strcmp(val, "markdown") || !strcmp(val, "md")) {
                fmt = WB_CATALOG_MARKDOWN;
            } else if (!strcmp(val, "html")) {
                fmt = WB_CATALOG_HTML;
            } else {
                fprintf(stderr, "schemas catalog: unknown format '%s' (markdown or html)\n", val);
                return 2;
            }
        } else if ((rc = positional("schemas catalog", a, &dir, &have_dir)) >= 0) {
            return rc;
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
    rc = write_out(&out, file);
    wb_buf_free(&out);
    return rc;
}

/* `schemas check [DIR] [--mode MODE]` */
static int check(int argc, char **argv)
{
    const char *dir = "schemas", *val;
    int mode = WB_COMPAT_BACKWARD, have_dir = 0, rc;
    for (int i = 2; i < argc; i++) {
        if ((val = opt_value(argc, argv, &i, "--mode"))) {
            if ((mode = wb_compat_mode_parse(val)) < 0) {
                fprintf(stderr, "schemas check: unknown mode '%s'\n", val);
                usage(stderr);
                return 2;
            }
        } else if ((rc = positional("schemas check", argv[i], &dir, &have_dir)) >= 0) {
            return rc;
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

/* Main thread: `schemas check ...`, `schemas catalog ...`, `schemas --help`. */
int wb_cmd_schemas(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "catalog")) return catalog(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "check")) return check(argc, argv);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
