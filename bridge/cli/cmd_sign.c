/* cmd_sign.c - `webhook-bridge sign` and `webhook-bridge verify`.
 *
 * Small tools around signing.c: a partner (or a test) can produce the exact headers the bridge
 * sends, and check a captured request against a secret. Secrets may come from --secret,
 * --secret-file (one per line) or the WB_SIGN_SECRET environment variable, so they need not
 * show in `ps`. They are never printed. */
#include "cli/cmd_sign.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "signing/signing.h"
#include "core/util.h"

/* Bounds: a command line or a captured request never needs more; past them the command
 * refuses instead of growing without limit (the body is read from a pipe of unknown size). */
#define MAX_SECRETS     32
#define MAX_HEADERS     64
#define MAX_BODY        (64u * 1024 * 1024)
#define MAX_SECRET_FILE (64 * 1024)

typedef struct cli {
    wb_signing cfg;
    char *secrets[MAX_SECRETS];
    char *owned[MAX_SECRETS]; /* secrets read from files, freed at exit */
    size_t nowned;
    wb_header hdrs[MAX_HEADERS];
    size_t nhdrs;
    const char *id;
    const char *ts;
    const char *now;
} cli;

enum {
    OPT_SECRET = 256,
    OPT_SECRET_FILE,
    OPT_SCHEME,
    OPT_ID,
    OPT_TIMESTAMP,
    OPT_TOLERANCE,
    OPT_NOW,
    OPT_INSECURE,
    OPT_H_HEADER,
    OPT_H_PREFIX,
    OPT_H_SHA512,
    OPT_H_BASE64,
    OPT_H_TSHEADER,
    OPT_H_CONTENT,
    OPT_H_IDHEADER,
    OPT_HELP,
};

static const char common_usage[] =
    "  --secret S            secret (repeat for rotation); or --secret-file F (one per line),\n"
    "                        or the WB_SIGN_SECRET environment variable\n"
    "  --scheme NAME         standard-webhooks (default), stripe, github, shopify, slack,\n"
    "                        hmac, none\n"
    "  hmac scheme:          --hmac-header NAME --hmac-prefix P --hmac-sha512 --hmac-base64\n"
    "                        --hmac-timestamp-header NAME --hmac-content TEMPLATE\n"
    "                        --hmac-id-header NAME\n"
    "  -h, --help            this help\n";

static void sign_usage(FILE *fp)
{
    fprintf(fp,
            "usage: webhook-bridge sign --secret S [--id ID] [--timestamp T|now] [options] "
            "< body\n"
            "Print the signature headers a receiver should get for the body on stdin.\n"
            "  --id ID               webhook-id / delivery id (required for standard-webhooks)\n"
            "  --timestamp T         unix seconds or 'now' (default now)\n%s",
            common_usage);
}

static void verify_usage(FILE *fp)
{
    fprintf(fp,
            "usage: webhook-bridge verify --secret S -H 'Name: value' [-H ...] [options] "
            "< body\n"
            "Check a request's signature; prints 'ok (delivery id ...)' or the failed check.\n"
            "  -H, --header 'N: V'   a request header (repeat)\n"
            "  --tolerance D         timestamp tolerance, e.g. 5m (default 5m)\n"
            "  --now T               unix seconds to use as the current time\n"
            "  --insecure            allow --scheme none\n%s",
            common_usage);
}

static void cli_free(cli *c)
{
    for (size_t i = 0; i < c->nowned; i++) {
        size_t n = strlen(c->owned[i]);
        memset(c->owned[i], 0, n);
        free(c->owned[i]);
    }
    c->nowned = 0;
}

/* Several secrets are a rotation, as in a connector file: sign signs with each where the
 * scheme's header carries several signatures (Standard Webhooks, Stripe), else with the
 * first; verify accepts a signature made with any of them. */
static int add_secret(cli *c, char *s, int owned, const char *cmd)
{
    if (c->cfg.nsecrets >= MAX_SECRETS) {
        fprintf(stderr, "webhook-bridge %s: too many secrets (max %d)\n", cmd, MAX_SECRETS);
        if (owned) free(s);
        return -1;
    }
    c->secrets[c->cfg.nsecrets++] = s;
    if (owned) c->owned[c->nowned++] = s;
    return 0;
}

/* Every non-empty line of path (trailing blanks/CR stripped) is a secret. The whole file is
 * read into one bounded buffer, which is wiped before it is freed: it held the secrets. */
static int secret_file(cli *c, const char *path, const char *cmd)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "webhook-bridge %s: cannot open secret file %s\n", cmd, path);
        return -1;
    }
    int rc = -1;
    char *data = malloc(MAX_SECRET_FILE + 1);
    if (!data) goto out;
    size_t n = fread(data, 1, MAX_SECRET_FILE + 1, fp);
    if (n > MAX_SECRET_FILE || ferror(fp)) {
        fprintf(stderr, "webhook-bridge %s: cannot read secret file %s\n", cmd, path);
        goto out;
    }
    data[n] = 0;
    size_t before = c->cfg.nsecrets;
    char *p = data, *end = data + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *s = p;
        while (s < le && (*s == ' ' || *s == '\t'))
            s++;
        char *e = le;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (e > s) {
            char *sec = strndup(s, (size_t)(e - s));
            if (!sec || add_secret(c, sec, 1, cmd)) goto out;
        }
        p = le + 1;
    }
    if (c->cfg.nsecrets == before) {
        fprintf(stderr, "webhook-bridge %s: no secret in %s\n", cmd, path);
        goto out;
    }
    rc = 0;
out:
    if (data) {
        memset(data, 0, MAX_SECRET_FILE + 1);
        free(data);
    }
    fclose(fp);
    return rc;
}

static int add_header(cli *c, char *arg)
{
    char *colon = strchr(arg, ':');
    if (!colon || colon == arg || c->nhdrs >= MAX_HEADERS) return -1;
    *colon = 0;
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    c->hdrs[c->nhdrs].name = arg;
    c->hdrs[c->nhdrs].value = v;
    c->nhdrs++;
    return 0;
}

static const char *get_header(void *ctx, const char *name)
{
    const cli *c = ctx;
    for (size_t i = 0; i < c->nhdrs; i++)
        if (!strcasecmp(c->hdrs[i].name, name)) return c->hdrs[i].value;
    return NULL;
}

static int read_body(wb_buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (wb_buf_add(b, chunk, n)) return -1;
    return ferror(stdin) ? -1 : 0;
}

static int parse_time(const char *s, int64_t *out)
{
    if (!strcmp(s, "now")) {
        *out = (int64_t)time(NULL);
        return 0;
    }
    long v;
    if (wb_parse_int(s, 0, 999999999999L, &v)) return -1;
    *out = v;
    return 0;
}

static const struct option longopts[] = {
    {"secret", required_argument, NULL, OPT_SECRET},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"scheme", required_argument, NULL, OPT_SCHEME},
    {"id", required_argument, NULL, OPT_ID},
    {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {"now", required_argument, NULL, OPT_NOW},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"header", required_argument, NULL, 'H'},
    {"hmac-header", required_argument, NULL, OPT_H_HEADER},
    {"hmac-prefix", required_argument, NULL, OPT_H_PREFIX},
    {"hmac-sha512", no_argument, NULL, OPT_H_SHA512},
    {"hmac-base64", no_argument, NULL, OPT_H_BASE64},
    {"hmac-timestamp-header", required_argument, NULL, OPT_H_TSHEADER},
    {"hmac-content", required_argument, NULL, OPT_H_CONTENT},
    {"hmac-id-header", required_argument, NULL, OPT_H_IDHEADER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What one option did to the parse. */
enum { OPT_TAKEN = -1, OPT_NOT_HERE = -2 }; /* else: exit with that code */

/* The --hmac-* options describe the generic HMAC scheme, one field each; both commands
 * take them, so a signature made by `sign` can be checked by `verify` with the same line. */
static int hmac_option(cli *c, int ch)
{
    switch (ch) {
    case OPT_H_HEADER:
        c->cfg.hmac.header = optarg;
        break;
    case OPT_H_PREFIX:
        c->cfg.hmac.prefix = optarg;
        break;
    case OPT_H_SHA512:
        c->cfg.hmac.sha512 = 1;
        break;
    case OPT_H_BASE64:
        c->cfg.hmac.base64 = 1;
        break;
    case OPT_H_TSHEADER:
        c->cfg.hmac.timestamp_header = optarg;
        break;
    case OPT_H_CONTENT:
        c->cfg.hmac.content = optarg;
        break;
    case OPT_H_IDHEADER:
        c->cfg.hmac.id_header = optarg;
        break;
    default:
        return OPT_NOT_HERE;
    }
    return OPT_TAKEN;
}

/* --scheme takes the names of the configuration (wb_scheme_name), and "standard" for short. */
static int scheme_option(cli *c, const char *cmd)
{
    if (!strcmp(optarg, "standard")) {
        c->cfg.scheme = WB_SCHEME_STANDARD;
        return OPT_TAKEN;
    }
    for (int s = 0; s <= WB_SCHEME_NONE; s++)
        if (!strcmp(optarg, wb_scheme_name((wb_scheme)s))) {
            c->cfg.scheme = (wb_scheme)s;
            return OPT_TAKEN;
        }
    fprintf(stderr, "webhook-bridge %s: unknown scheme '%s'\n", cmd, optarg);
    return 2;
}

/* One option of either command. The producing side (sign) names the id and timestamp it
 * signs; the checking side (verify) gets them from the headers and names its clock and
 * tolerance instead, so each refuses the other's options rather than ignoring them. */
static int one_option(cli *c, int ch, const char *cmd, int is_verify)
{
    switch (ch) {
    case 'h':
        (is_verify ? verify_usage : sign_usage)(stdout);
        return 0;
    case OPT_SECRET:
        return add_secret(c, optarg, 0, cmd) ? OPT_NOT_HERE : OPT_TAKEN;
    case OPT_SECRET_FILE:
        return secret_file(c, optarg, cmd) ? 2 : OPT_TAKEN;
    case OPT_SCHEME:
        return scheme_option(c, cmd);
    case OPT_ID:
        c->id = optarg;
        return is_verify ? OPT_NOT_HERE : OPT_TAKEN;
    case OPT_TIMESTAMP:
        c->ts = optarg;
        return is_verify ? OPT_NOT_HERE : OPT_TAKEN;
    case OPT_NOW:
        c->now = optarg;
        return is_verify ? OPT_TAKEN : OPT_NOT_HERE;
    case OPT_INSECURE:
        c->cfg.insecure = 1;
        return is_verify ? OPT_TAKEN : OPT_NOT_HERE;
    case OPT_TOLERANCE:
        if (!is_verify || wb_parse_duration_ms(optarg, &c->cfg.tolerance_ms) ||
            c->cfg.tolerance_ms <= 0) {
            fprintf(stderr, "webhook-bridge %s: bad --tolerance '%s'\n", cmd, optarg);
            return 2;
        }
        return OPT_TAKEN;
    case 'H':
        if (!is_verify) return OPT_NOT_HERE;
        if (add_header(c, optarg)) {
            fprintf(stderr, "webhook-bridge %s: bad header '%s' (want 'Name: value')\n", cmd,
                    optarg);
            return 2;
        }
        return OPT_TAKEN;
    default:
        return hmac_option(c, ch);
    }
}

/* Without --secret the environment may hold it (keeps it out of `ps` and shell history);
 * only the unsigned scheme needs none. */
static int secret_from_env(cli *c, const char *cmd)
{
    if (c->cfg.nsecrets == 0 && c->cfg.scheme != WB_SCHEME_NONE) {
        char *env = getenv("WB_SIGN_SECRET");
        if (env && *env) add_secret(c, env, 0, cmd);
    }
    if (c->cfg.nsecrets == 0 && c->cfg.scheme != WB_SCHEME_NONE) {
        fprintf(stderr,
                "webhook-bridge %s: no secret (use --secret, --secret-file or "
                "WB_SIGN_SECRET)\n",
                cmd);
        return 2;
    }
    return -1;
}

/* Shared option parsing. Returns -1 to continue, else an exit code. */
static int parse(cli *c, int argc, char **argv, int is_verify)
{
    const char *cmd = is_verify ? "verify" : "sign";
    void (*usage)(FILE *) = is_verify ? verify_usage : sign_usage;
    c->cfg.scheme = WB_SCHEME_STANDARD;
    c->cfg.secrets = c->secrets;
    c->cfg.tolerance_ms = 5 * 60 * 1000;
    optind = 1;
    opterr = 0;
    int ch, li = -1;
    while ((ch = getopt_long(argc, argv, is_verify ? ":hH:" : ":h", longopts, &li)) != -1) {
        if (ch == ':') {
            fprintf(stderr, "webhook-bridge %s: option '%s' needs a value\n", cmd,
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        int r = ch == '?' ? OPT_NOT_HERE : one_option(c, ch, cmd, is_verify);
        if (r >= 0) return r;
        if (r == OPT_NOT_HERE && ch == '?') {
            fprintf(stderr, "webhook-bridge %s: unknown option '%s'\n", cmd, argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (r == OPT_NOT_HERE) {
            fprintf(stderr, "webhook-bridge %s: option --%s is not valid here\n", cmd,
                    li >= 0 ? longopts[li].name : "?");
            usage(stderr);
            return 2;
        }
        li = -1; /* only long options set it */
    }
    if (optind < argc) {
        fprintf(stderr, "webhook-bridge %s: unexpected argument '%s'\n", cmd, argv[optind]);
        usage(stderr);
        return 2;
    }
    return secret_from_env(c, cmd);
}

/* Exit codes, as for every command: 2 for a usage error (nothing was read from stdin yet),
 * 1 when the work itself failed, 0 on success. */
int wb_cmd_sign(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    wb_buf body, out;
    wb_buf_init(&body, MAX_BODY);
    wb_buf_init(&out, 0);
    wb_signer *s = NULL;
    char errstr[256];
    int64_t ts;
    int rc = parse(&c, argc, argv, 0);
    if (rc >= 0) goto out;
    rc = 2;
    if (parse_time(c.ts ? c.ts : "now", &ts)) {
        fprintf(stderr, "webhook-bridge sign: bad --timestamp '%s'\n", c.ts);
        goto out;
    }
    if (c.cfg.scheme == WB_SCHEME_STANDARD && (!c.id || !*c.id)) {
        fprintf(stderr, "webhook-bridge sign: --id is required for standard-webhooks\n");
        goto out;
    }
    if (c.cfg.scheme == WB_SCHEME_NONE) {
        fprintf(stderr, "webhook-bridge sign: scheme none does not sign\n");
        goto out;
    }
    if (!(s = wb_signer_new(&c.cfg, errstr, sizeof(errstr)))) {
        fprintf(stderr, "webhook-bridge sign: %s\n", errstr);
        goto out;
    }
    rc = 1;
    if (read_body(&body)) {
        fprintf(stderr, "webhook-bridge sign: cannot read the body from stdin\n");
        goto out;
    }
    /* Standard Webhooks signs "id.timestamp.body" and the receiver needs both values: print
     * them as the headers the bridge sends, before the signature line(s). */
    wb_err err = WB_OK;
    if (c.cfg.scheme == WB_SCHEME_STANDARD)
        err = wb_buf_printf(&out, "webhook-id: %s\nwebhook-timestamp: %" PRId64 "\n", c.id, ts);
    if (!err) err = wb_signer_sign(s, c.id, ts, body.data, body.len, &out);
    if (err) {
        fprintf(stderr, "webhook-bridge sign: %s\n", wb_err_str(err));
        goto out;
    }
    printf("%s\n", out.data);
    rc = fflush(stdout) ? 1 : 0;
out:
    wb_signer_free(s);
    wb_buf_free(&body);
    wb_buf_free(&out);
    cli_free(&c);
    return rc;
}

int wb_cmd_verify(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    wb_buf body;
    wb_buf_init(&body, MAX_BODY);
    wb_verifier *v = NULL;
    char errstr[256];
    int64_t now;
    int rc = parse(&c, argc, argv, 1);
    if (rc >= 0) goto out;
    rc = 2;
    if (parse_time(c.now ? c.now : "now", &now)) {
        fprintf(stderr, "webhook-bridge verify: bad --now '%s'\n", c.now);
        goto out;
    }
    if (!(v = wb_verifier_new(&c.cfg, errstr, sizeof(errstr)))) {
        fprintf(stderr, "webhook-bridge verify: %s\n", errstr);
        goto out;
    }
    rc = 1;
    if (read_body(&body)) {
        fprintf(stderr, "webhook-bridge verify: cannot read the body from stdin\n");
        goto out;
    }
    /* The same verifier as the inbound listener's: freshness against --now, every secret of
     * the rotation, constant-time compares; the reason says which check failed. */
    wb_verify_result res;
    wb_err err = wb_verifier_verify(v, get_header, &c, body.data, body.len, now, &res);
    if (err) {
        fprintf(stderr, "webhook-bridge verify: %s (%s)\n", res.reason, wb_err_str(err));
        goto out;
    }
    printf("ok (delivery id %s)\n", res.delivery_id[0] ? res.delivery_id : "none");
    rc = fflush(stdout) ? 1 : 0;
out:
    wb_verifier_free(v);
    wb_buf_free(&body);
    cli_free(&c);
    return rc;
}
