/* cmd_transform.c - `webhook-bridge transform -c connector.yaml < event.json`: what the
 * partner of that connector would receive for an event, to debug a filter, a transform or a
 * contract without Kafka.
 *
 * The steps are the engine's, in its order: match the event type against `events`, run the
 * `filter` on {type, timestamp, data} with the event as decoded, resolve `contract` (a JSON
 * event, with the connector's contract_writer rule), build the envelope, run the
 * `transform`, sign. jq runs in process here: the event is the operator's own. */
#include "cli/cmd_transform.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "config/config.h"
#include "kafka/envelope.h"
#include "jq/jq.h"
#include "schema/registry.h"
#include "signing/signing.h"
#include "core/util.h"

#define MAX_EVENT (16u * 1024 * 1024)

static void usage(FILE *fp)
{
    fprintf(fp, "usage: webhook-bridge transform -c connector.yaml [options] < event.json\n"
                "Print what the connector's partner receives for the event on stdin: the request\n"
                "headers (as `webhook-bridge sign` prints them), a blank line, the body. Runs the\n"
                "connector's events match, filter, contract and transform, then signs.\n"
                "  -c, --connector FILE  the outbound connector file\n"
                "  --schemas DIR         schemas folder for contract: (default: schemas)\n"
                "  --type T              event type (default: the event's \"type\" field, or the\n"
                "                        connector's only event type)\n"
                "  --id ID               webhook-id (default: the connector's id_pointer value,\n"
                "                        else msg_transform)\n"
                "  --timestamp T         unix seconds (default: now)\n"
                "  --dataschema V        the record's ce_dataschema header (contract_writer)\n"
                "Exit 0: delivered; 1: filtered out or the event fails (the message says which);\n"
                "2: bad usage or connector file.\n");
}

static int read_stdin(wb_buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (wb_buf_add(b, chunk, n)) return -1;
    return ferror(stdin) ? -1 : 0;
}

/* The event type: --type, the body's "type", or the connector's one literal event. */
static int event_type(const wb_connector *cc, json_t *doc, const char *given, char *out,
                      size_t out_size)
{
    const char *t = given ? given : json_string_value(json_object_get(doc, "type"));
    if (!t && cc->nevents == 1 && !strpbrk(cc->events[0], "*?[")) t = cc->events[0];
    if (!t) return -1;
    snprintf(out, out_size, "%s", t);
    return 0;
}

/* The webhook-id: --id, the value at the connector's id_pointer, else "msg_transform". */
static void webhook_id(const wb_connector *cc, json_t *doc, const char *given, char *out,
                       size_t out_size)
{
    json_t *idv = cc->id_pointer ? wb_json_pointer(doc, cc->id_pointer) : NULL;
    if (given)
        snprintf(out, out_size, "%s", given);
    else if (json_is_string(idv))
        snprintf(out, out_size, "%s", json_string_value(idv));
    else if (json_is_integer(idv))
        snprintf(out, out_size, "%" JSON_INTEGER_FORMAT, json_integer_value(idv));
    else
        snprintf(out, out_size, "msg_transform");
}

/* Run a jq program in process; 0 pass, 1 filtered, -1 failed (printed). */
static int run_jq(const char *expr, wb_jq_kind kind, const wb_buf *in, wb_buf *out)
{
    char err[1024];
    wb_jq_status st = wb_jq_run_local(expr, kind, in->data, in->len, out, err, sizeof(err));
    if (st == WB_JQ_FAILED) {
        fprintf(stderr,
                "webhook-bridge transform: %s (the bridge dead-letters such a record with "
                "reason transform)\n",
                err);
        return -1;
    }
    return st == WB_JQ_FILTERED ? 1 : 0;
}

/* The command line of `transform`. */
typedef struct transform_args {
    const char *path, *schemas, *type, *id, *dataschema;
    long ts_s; /* --timestamp, default now */
} transform_args;

/* Parse argv into a: -1 to go on, else the exit code (0 for --help; 2 with the usage). */
static int parse_args(int argc, char **argv, transform_args *a)
{
    static const struct option opts[] = {{"connector", required_argument, NULL, 'c'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"schemas", required_argument, NULL, 's'},
                                         {"type", required_argument, NULL, 't'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"timestamp", required_argument, NULL, 'T'},
                                         {"dataschema", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *ts_arg = NULL;
    int ch;
    memset(a, 0, sizeof(*a));
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->path = optarg;
            break;
        case 's':
            a->schemas = optarg;
            break;
        case 't':
            a->type = optarg;
            break;
        case 'i':
            a->id = optarg;
            break;
        case 'T':
            ts_arg = optarg;
            break;
        case 'd':
            a->dataschema = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!a->path || optind < argc) {
        fprintf(stderr, "webhook-bridge transform: %s\n",
                a->path ? "unexpected argument" : "missing -c connector.yaml");
        usage(stderr);
        return 2;
    }
    a->ts_s = (long)time(NULL);
    if (ts_arg && wb_parse_int(ts_arg, 0, 999999999999L, &a->ts_s)) {
        fprintf(stderr, "webhook-bridge transform: bad --timestamp '%s'\n", ts_arg);
        return 2;
    }
    return -1;
}

/* Step 1: the filter, on the event as decoded. 0 pass; 1 filtered out or failed (printed). */
static int apply_filter(const wb_connector *cc, const char *type, int64_t ts_ms,
                        const wb_buf *event)
{
    if (!cc->filter) return 0;
    /* As in the engine, the filter runs on the envelope of the event as decoded, before the
     * contract; only its verdict matters, its output is dropped. */
    wb_buf fin, fout;
    wb_buf_init(&fin, 0);
    wb_buf_init(&fout, 0);
    int r = wb_envelope_build(&fin, type, ts_ms, event->data, event->len)
                ? -1
                : run_jq(cc->filter, WB_JQ_FILTER, &fin, &fout);
    wb_buf_free(&fin);
    wb_buf_free(&fout);
    if (r > 0)
        fprintf(stderr,
                "webhook-bridge transform: filtered out: the filter of '%s' yields "
                "false for this event (the bridge counts it as filtered and "
                "commits it)\n",
                cc->name);
    return r ? 1 : 0;
}

/* Step 2: the contract: the event resolved to the connector's pinned schema (or as it is)
 * into data. 0; 2 when the schemas cannot be loaded, 1 when the event fails (printed). */
static int apply_contract(const wb_config *cfg, const wb_connector *cc, const wb_buf *event,
                          const char *dataschema, wb_buf *data)
{
    char errstr[8192], reason[1024];
    if (!cc->contract) return wb_buf_add(data, event->data, event->len) ? 1 : 0;
    wb_schemas *s =
        wb_schemas_new(cfg->schema_registry.dir, NULL, NULL, NULL, NULL, errstr, sizeof(errstr));
    if (!s) {
        fprintf(stderr, "webhook-bridge transform: %s\n", errstr);
        return 2;
    }
    int rc = 0;
    if (wb_schemas_json_to_contract(s, event->data, event->len, (wb_json_writer)cc->contract_writer,
                                    dataschema, cc->contract, data, reason, sizeof(reason))) {
        fprintf(stderr,
                "webhook-bridge transform: contract %s: %s (the bridge dead-letters such a "
                "record with reason schema)\n",
                cc->contract, reason);
        rc = 1;
    }
    wb_schemas_free(s);
    return rc;
}

/* Steps 3 and 4: the envelope, then the transform: the body the partner receives, into
 * body. 0, or 1 (a jq failure is printed). */
static int build_body(const wb_connector *cc, const char *type, int64_t ts_ms, const wb_buf *data,
                      wb_buf *body)
{
    wb_buf env;
    int rc = 1;
    wb_buf_init(&env, 0);
    if (wb_envelope_build(&env, type, ts_ms, data->data, data->len)) goto out;
    if (cc->transform) {
        if (run_jq(cc->transform, WB_JQ_TRANSFORM, &env, body)) goto out;
    } else if (wb_buf_add(body, env.data, env.len)) {
        goto out;
    }
    rc = 0;
out:
    wb_buf_free(&env);
    return rc;
}

/* Step 5: sign the body and print the request: headers, a blank line, the body. 0, or 1. */
static int sign_and_print(const wb_connector *cc, wb_signer *signer, const char *id, long ts_s,
                          const wb_buf *body)
{
    wb_buf hdrs;
    int rc = 1;
    wb_buf_init(&hdrs, 0);
    /* The headers in the order the engine sends them: its own, the connector's, then for
     * Standard Webhooks the id and timestamp the signature covers (the signer appends
     * only the signature line: the caller sends id and timestamp itself). */
    wb_err err = wb_buf_printf(&hdrs, "content-type: application/json\n");
    for (size_t i = 0; !err && i < cc->nheaders; i++)
        err = wb_buf_printf(&hdrs, "%s: %s\n", cc->headers[i].name, cc->headers[i].value);
    if (!err && cc->signing.scheme == WB_SCHEME_STANDARD)
        err = wb_buf_printf(&hdrs, "webhook-id: %s\nwebhook-timestamp: %ld\n", id, ts_s);
    if (!err) err = wb_signer_sign(signer, id, ts_s, body->data, body->len, &hdrs);
    if (err) {
        fprintf(stderr, "webhook-bridge transform: signing: %s\n", wb_err_str(err));
    } else {
        printf("%s\n\n%s\n", hdrs.data, body->data);
        rc = fflush(stdout) ? 1 : 0;
    }
    wb_buf_free(&hdrs);
    return rc;
}

/* See cmd_transform.h. Exit codes: 2 until the connector and its signer are ready, then 1
 * for whatever the event does wrong, 0 once the request is printed. */
int wb_cmd_transform(int argc, char **argv)
{
    transform_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    rc = 2;

    char errstr[8192], type[256], id[256];
    wb_config *cfg = NULL;
    wb_signer *signer = NULL;
    json_t *doc = NULL;
    wb_buf event, data, body;
    wb_buf_init(&event, MAX_EVENT);
    wb_buf_init(&data, 0);
    wb_buf_init(&body, 0);
    if (!(cfg = wb_config_load_connector(a.path, a.schemas, errstr, sizeof(errstr)))) {
        fprintf(stderr, "%s\nwebhook-bridge transform: %s is not valid\n", errstr, a.path);
        goto out;
    }
    const wb_connector *cc = &cfg->connectors[0];
    if (cc->direction != WB_DIR_OUTBOUND) {
        fprintf(stderr, "webhook-bridge transform: %s is an inbound connector\n", a.path);
        goto out;
    }
    if (!(signer = wb_signer_new(&cc->signing, errstr, sizeof(errstr)))) {
        fprintf(stderr, "webhook-bridge transform: %s: signing: %s\n", a.path, errstr);
        goto out;
    }
    /* From here on the connector is fine: what fails is the event (exit 1). */
    rc = 1;
    json_error_t jerr;
    if (read_stdin(&event) || !event.data) {
        fprintf(stderr, "webhook-bridge transform: cannot read the event from stdin\n");
        goto out;
    }
    if (!(doc = json_loadb(event.data, event.len, 0, &jerr))) {
        fprintf(stderr, "webhook-bridge transform: the event is not JSON: %s (line %d)\n",
                jerr.text, jerr.line);
        goto out;
    }
    if (event_type(cc, doc, a.type, type, sizeof(type))) {
        fprintf(stderr, "webhook-bridge transform: the event has no \"type\": give --type\n");
        goto out;
    }
    int subscribed = 0;
    for (size_t i = 0; i < cc->nevents; i++)
        subscribed |= wb_glob_match(cc->events[i], type);
    if (!subscribed) {
        fprintf(stderr,
                "webhook-bridge transform: not delivered: connector '%s' does not "
                "subscribe to %s\n",
                cc->name, type);
        goto out;
    }
    webhook_id(cc, doc, a.id, id, sizeof(id));

    /* The engine's order: filter, contract, envelope + transform, sign. */
    int64_t ts_ms = (int64_t)a.ts_s * 1000;
    int step;
    if (apply_filter(cc, type, ts_ms, &event)) goto out;
    if ((step = apply_contract(cfg, cc, &event, a.dataschema, &data))) {
        rc = step;
        goto out;
    }
    if (build_body(cc, type, ts_ms, &data, &body)) goto out;
    rc = sign_and_print(cc, signer, id, a.ts_s, &body);
out:
    json_decref(doc);
    wb_signer_free(signer);
    wb_config_free(cfg);
    wb_buf_free(&event);
    wb_buf_free(&data);
    wb_buf_free(&body);
    return rc;
}
