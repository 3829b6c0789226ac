/* outbound/reprocess.c - `webhook-bridge replay` and `webhook-bridge redrive` (reprocess.h).
 *
 * One loop on this thread, one HTTP client, the dead-letter producer, and one bounded
 * connector per connector the run is about (wb_conn_opts: REPLAY or REDRIVE). The run ends when
 * every connector read its range to the end with nothing in flight; then redrive commits its
 * progress and every consumer leaves. */
#include "outbound/reprocess.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/loop.h"
#include "core/timefmt.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/engine.h"
#include "http/http.h"
#include "kafka/producer.h"
#include "schema/registry.h"
#include "core/util.h"

#define PROGRESS_TTY_MS 1000
#define PROGRESS_LOG_MS 5000

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    if (interrupted) _exit(130);
    interrupted = 1;
}

/* "acme" -> the progress group of a redrive of acme with these filters. */
static void redrive_group(const wb_config *cfg, const char *name, const wb_reprocess_opts *o,
                          char *out, size_t n)
{
    int len = snprintf(out, n, "%s.%s.redrive", wb_config_group_id(cfg), name);
    if (o->reason && len > 0 && (size_t)len < n) {
        len += snprintf(out + len, n - (size_t)len, ".reason-");
        for (const char *p = o->reason; *p && (size_t)len + 1 < n; p++)
            out[len++] = (strchr("._-", *p) || (*p >= 'a' && *p <= 'z') ||
                          (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
                             ? *p
                             : '_';
        out[len] = 0;
    }
    if (o->from_ms && len > 0 && (size_t)len < n)
        snprintf(out + len, n - (size_t)len, ".since-%" PRId64, o->from_ms);
}

static void progress_line(const wb_reprocess_opts *o, const wb_conn_progress *p, int64_t t0,
                          int final, int tty)
{
    double secs = (double)(wb_now_ms() - t0) / 1000.0;
    double rate = secs > 0 ? (double)p->scanned / secs : 0;
    char eta[32] = "-";
    if (!final && rate > 0 && p->total > p->scanned)
        snprintf(eta, sizeof(eta), "%.0fs", (double)(p->total - p->scanned) / rate);
    const char *verb = o->dry_run ? "would send" : "delivered";
    char line[400];
    snprintf(line, sizeof(line),
             "%s: scanned %" PRIu64 "/%" PRIu64 ", selected %" PRIu64 ", %s %" PRIu64
             ", dead-lettered %" PRIu64 ", failed %" PRIu64 "%s, %.0f/s, ETA %s",
             o->redrive ? "redrive" : "replay", p->scanned, p->total, p->selected, verb,
             p->delivered, p->dead_lettered, p->failed,
             p->orphaned ? " (+ orphaned records left in place)" : "", rate, eta);
    if (tty && !final)
        fprintf(stderr, "\r%-150s", line);
    else
        WB_INFO("%s", line);
}

static int find_outbound(const wb_config *cfg, const char *name, char *names, size_t n)
{
    size_t len = 0;
    names[0] = 0;
    int found = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        if (name && !strcmp(cc->name, name)) found = 1;
        int w = snprintf(names + len, n - len, "%s%s", len ? ", " : "", cc->name);
        if (w > 0 && len + (size_t)w < n) len += (size_t)w;
    }
    return found;
}

/* ------------------------------------------------------------------------------------ */
/* A run                                                                                */

typedef struct run {
    const wb_reprocess_opts *o;
    const char *cmd; /* "replay" or "redrive", for messages */
    wb_config *cfg;
    wb_loop *lp;
    wb_http *http;
    wb_producer *prod;
    wb_schemas *schemas;
    wb_jq *jq; /* started with the first connector that has a filter or transform */
    wb_conn **conns;
    size_t nconns;
} run;

/* Everything a run needs but its connectors. 0, or -1 with the reason printed. */
static int run_open(run *R, char *errstr, size_t errstr_size)
{
    const wb_reprocess_opts *o = R->o;
    const wb_config *cfg = R->cfg;
    char names[2048];
    if (!(R->conns = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*R->conns)))) return -1;
    if (cfg->embedded) {
        fprintf(stderr,
                "webhook-bridge %s: %s uses `bootstrap.servers: embedded`, an in-process cluster "
                "that lives only as long as the bridge process: there is nothing to %s from a "
                "separate process\n",
                R->cmd, o->config, R->cmd);
        return -1;
    }
    if (o->connector && !find_outbound(cfg, o->connector, names, sizeof(names))) {
        fprintf(stderr, "webhook-bridge %s: unknown connector '%s' (outbound connectors: %s)\n",
                R->cmd, o->connector, names[0] ? names : "none");
        return -1;
    }
    if (wb_engine_check(cfg, errstr, errstr_size)) {
        fprintf(stderr, "%s\n", errstr);
        return -1;
    }
    R->lp = wb_loop_new(errstr, errstr_size);
    R->prod = R->lp ? wb_producer_new(cfg, NULL, errstr, errstr_size) : NULL;
    wb_http_opts ho = {.max_total_connections = 64};
    R->http = R->prod ? wb_http_new(R->lp, &ho, errstr, errstr_size) : NULL;
    int sfail = 0;
    if (R->http) R->schemas = wb_engine_open_schemas(cfg, 0, errstr, errstr_size, &sfail);
    if (!R->http || sfail) {
        fprintf(stderr, "webhook-bridge %s: %s\n", R->cmd, errstr);
        return -1;
    }
    return 0;
}

/* One bounded connector for cc (REPLAY, or REDRIVE with its progress group). 0, or -1 with
 * the reason printed. */
static int add_connector(run *R, const wb_connector *cc, int first, char *errstr,
                         size_t errstr_size)
{
    const wb_reprocess_opts *o = R->o;
    const wb_config *cfg = R->cfg;
    char group[600];
    if (o->redrive)
        redrive_group(cfg, cc->name, o, group, sizeof(group));
    else /* a throwaway group: a replay commits nothing */
        snprintf(group, sizeof(group), "%s.%s.replay-%d-%" PRId64, wb_config_group_id(cfg),
                 cc->name, (int)getpid(), wb_wall_ms());
    wb_conn_opts co = {.mode = o->redrive ? WB_CONN_REDRIVE : WB_CONN_REPLAY,
                       .group = group,
                       .from_ms = o->from_ms,
                       .to_ms = o->to_ms,
                       .events_glob = o->events,
                       .reason = o->reason,
                       .dry_run = o->dry_run,
                       .report_orphans = first};
    if ((cc->filter || cc->transform) && !R->jq) {
        wb_jq_limits lim = {.budget_ms = cfg->outbound.jq_budget_ms,
                            .memory_bytes = cfg->outbound.jq_memory};
        if (!(R->jq = wb_jq_new(R->lp, &lim, errstr, errstr_size))) {
            fprintf(stderr, "webhook-bridge %s: jq sandbox: %s\n", R->cmd, errstr);
            return -1;
        }
    }
    wb_settings *st = wb_settings_new(R->cfg, cc, R->http, errstr, errstr_size);
    wb_conn *c = st ? wb_conn_new(R->lp, R->http, R->prod, R->schemas, st, NULL, 1, NULL, NULL, &co,
                                  errstr, errstr_size)
                    : NULL;
    if (st) wb_settings_unref(st);
    if (!c) {
        fprintf(stderr, "webhook-bridge %s: connector %s: %s\n", R->cmd, cc->name, errstr);
        return -1;
    }
    wb_conn_set_jq(c, R->jq);
    R->conns[R->nconns++] = c;
    char from[WB_TIME_BUF] = "", to[WB_TIME_BUF] = "the log end";
    if (o->from_ms) wb_time_format_ms(o->from_ms, from, sizeof(from));
    if (o->to_ms) wb_time_format_ms(o->to_ms, to, sizeof(to));
    if (o->redrive)
        WB_INFO("redrive %s: dead-letter topic %s, progress group %s%s", cc->name,
                cfg->outbound.dead_letter_topic, group, o->dry_run ? " (dry run)" : "");
    else
        WB_INFO("replay %s: %s .. %s%s%s%s", cc->name, from, to, o->events ? ", events " : "",
                o->events ? o->events : "", o->dry_run ? " (dry run)" : "");
    return 0;
}

/* The progress of every connector, summed; 1 when all are done. */
static int sum_progress(const run *R, wb_conn_progress *sum)
{
    memset(sum, 0, sizeof(*sum));
    int done = 1;
    for (size_t i = 0; i < R->nconns; i++) {
        wb_conn_progress p;
        wb_conn_get_progress(R->conns[i], &p);
        sum->total += p.total;
        sum->scanned += p.scanned;
        sum->selected += p.selected;
        sum->delivered += p.delivered;
        sum->dead_lettered += p.dead_lettered;
        sum->filtered += p.filtered;
        sum->failed += p.failed;
        sum->orphaned += p.orphaned;
        done &= p.done;
    }
    return done;
}

/* Turn the loop until every range is read and settled (or SIGINT/SIGTERM), printing
 * progress; then commit (redrive) and leave the groups within the drain bound. */
static void run_to_end(run *R, wb_conn_progress *sum, int64_t t0)
{
    int tty = isatty(STDERR_FILENO);
    int64_t next = t0 + (tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
    for (;;) {
        wb_loop_run_once(R->lp, 100);
        if (sum_progress(R, sum) || interrupted) break;
        if (wb_now_ms() >= next) {
            progress_line(R->o, sum, t0, 0, tty);
            next = wb_now_ms() + (tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS);
        }
    }
    if (tty) fputc('\n', stderr);
    int64_t deadline = wb_now_ms() + R->cfg->outbound.drain_timeout_ms;
    for (size_t i = 0; i < R->nconns; i++)
        wb_conn_stop(R->conns[i], deadline);
    for (;;) {
        int stopped = 1;
        for (size_t i = 0; i < R->nconns; i++)
            stopped &= wb_conn_stopped(R->conns[i]);
        if (stopped || wb_now_ms() > deadline + 5000) break;
        wb_loop_run_once(R->lp, 50);
    }
    progress_line(R->o, sum, t0, 1, tty);
}

static void run_close(run *R)
{
    for (size_t i = 0; i < R->nconns; i++)
        if (!wb_conn_stopped(R->conns[i])) wb_conn_stop(R->conns[i], 1);
    if (R->prod) wb_producer_free(R->prod, 5000);
    for (size_t i = 0; i < R->nconns; i++)
        wb_conn_free(R->conns[i]);
    free(R->conns);
    if (R->jq) wb_jq_free(R->jq);
    wb_http_free(R->http);
    if (R->schemas) wb_schemas_free(R->schemas);
    wb_loop_free(R->lp);
    wb_config_unref(R->cfg);
}

int wb_reprocess_run(const wb_reprocess_opts *o)
{
    char errstr[8192];
    run R = {.o = o, .cmd = o->redrive ? "redrive" : "replay"};
    if (!(R.cfg = wb_config_load(o->config, errstr, sizeof(errstr)))) {
        fprintf(stderr, "%s\nwebhook-bridge %s: %s is not valid\n", errstr, R.cmd, o->config);
        return 2;
    }
    wb_log_setup((wb_log_level)R.cfg->log.level, (wb_log_format)R.cfg->log.format);
    int rc = 2;
    if (run_open(&R, errstr, sizeof(errstr))) goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < R.cfg->nconnectors; i++) {
        const wb_connector *cc = &R.cfg->connectors[i];
        if (cc->direction != WB_DIR_OUTBOUND) continue;
        if (o->connector && strcmp(cc->name, o->connector)) continue;
        if (add_connector(&R, cc, R.nconns == 0, errstr, sizeof(errstr))) goto out;
    }
    if (!R.nconns) {
        fprintf(stderr, "webhook-bridge %s: no outbound connector to %s\n", R.cmd, R.cmd);
        goto out;
    }
    int64_t t0 = wb_now_ms();
    wb_conn_progress sum;
    run_to_end(&R, &sum, t0);
    int complete =
        !interrupted && sum.failed == 0 && sum.delivered + sum.dead_lettered == sum.selected;
    printf("%s%s: %s; scanned %" PRIu64 ", selected %" PRIu64 ", %s %" PRIu64
           ", dead-lettered %" PRIu64 ", failed %" PRIu64 ", orphaned %" PRIu64 ", %.1f s\n",
           R.cmd, o->dry_run ? " (dry run)" : "",
           interrupted ? "interrupted"
           : complete  ? "complete"
                       : "incomplete",
           sum.scanned, sum.selected, o->dry_run ? "would send" : "delivered", sum.delivered,
           sum.dead_lettered, sum.failed, sum.orphaned, (double)(wb_now_ms() - t0) / 1000.0);
    rc = complete ? 0 : 1;
out:
    run_close(&R);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Command lines                                                                        */

static int parse_time(const char *cmd, const char *flag, const char *v, int64_t *out)
{
    if (wb_time_parse_ms(v, wb_wall_ms(), out) != WB_OK) {
        fprintf(stderr,
                "webhook-bridge %s: %s: unparsable time '%s' (RFC 3339, e.g. "
                "2026-12-01T10:00:00Z, a date, or a duration before now such as -2h)\n",
                cmd, flag, v);
        return -1;
    }
    return 0;
}

static void usage(int redrive)
{
    if (redrive)
        printf("usage: webhook-bridge redrive -c bridge.yaml [--connector NAME] "
               "[--reason R] [--since TIME] [--dry-run]\n"
               "Delivers the dead-letter topic's records again, each only to the "
               "connector its wb-connector header names, with its original webhook-id. "
               "Records failing again are parked again with wb-redrive-count + 1. "
               "Progress is committed, so running it twice sends nothing twice.\n");
    else
        printf("usage: webhook-bridge replay -c bridge.yaml --connector NAME --from TIME "
               "[--to TIME] [--events GLOB] [--dry-run]\n"
               "Delivers again, to that connector only, every record of its topics with "
               "a Kafka timestamp in [from, to) (default to: the log end when the run "
               "starts), with the original webhook-ids. The live connector's offsets do "
               "not move.\n");
}

/* The required flags and the time window. A replay needs a connector and a start: replaying
 * every connector from the beginning of time is never what was meant. A redrive's --since
 * bounds the dead-letter records by the time they were parked. */
static int check_times(wb_reprocess_opts *o, const char *cmd, const char *from, const char *to,
                       const char *since)
{
    if (!o->config) {
        fprintf(stderr, "webhook-bridge %s: missing -c bridge.yaml\n", cmd);
        return -1;
    }
    if (!o->redrive && !o->connector) {
        fprintf(stderr, "webhook-bridge replay: missing --connector NAME\n");
        return -1;
    }
    if (!o->redrive && !from) {
        fprintf(stderr, "webhook-bridge replay: missing --from TIME\n");
        return -1;
    }
    if (from && parse_time(cmd, "--from", from, &o->from_ms)) return -1;
    if (to && parse_time(cmd, "--to", to, &o->to_ms)) return -1;
    if (since && parse_time(cmd, "--since", since, &o->from_ms)) return -1;
    if (to && o->from_ms >= o->to_ms) {
        fprintf(stderr, "webhook-bridge replay: --from (%s) must be before --to (%s)\n", from, to);
        return -1;
    }
    return 0;
}

static int run_cmd(int argc, char **argv, int redrive)
{
    const char *cmd = redrive ? "redrive" : "replay";
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"connector", required_argument, NULL, 'n'},
        {"from", required_argument, NULL, 'f'},   {"to", required_argument, NULL, 't'},
        {"events", required_argument, NULL, 'e'}, {"reason", required_argument, NULL, 'r'},
        {"since", required_argument, NULL, 's'},  {"dry-run", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    wb_reprocess_opts o = {.redrive = redrive};
    const char *from = NULL, *to = NULL, *since = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config = optarg;
            break;
        case 'n':
            o.connector = optarg;
            break;
        case 'f':
        case 't':
        case 'e':
            if (redrive) goto bad_flag;
            if (c == 'f') from = optarg;
            if (c == 't') to = optarg;
            if (c == 'e') o.events = optarg;
            break;
        case 'r':
        case 's':
            if (!redrive) goto bad_flag;
            if (c == 'r') o.reason = optarg;
            if (c == 's') since = optarg;
            break;
        case 'd':
            o.dry_run = 1;
            break;
        case 'h':
            usage(redrive);
            return 0;
        default:
            return 2;
        }
    }
    if (check_times(&o, cmd, from, to, since)) return 2;
    return wb_reprocess_run(&o);
bad_flag:
    fprintf(stderr, "webhook-bridge %s: %s is not an option of %s (see --help)\n", cmd,
            argv[optind - 1], cmd);
    return 2;
}

int wb_cmd_replay(int argc, char **argv)
{
    return run_cmd(argc, argv, 0);
}

int wb_cmd_redrive(int argc, char **argv)
{
    return run_cmd(argc, argv, 1);
}
