/* app.c - start-up, supervision and shutdown of a bridge process (the `demo` job: demo.c).
 *
 * Thread map: the main thread supervises (signals, SIGHUP reloads, the fatal flag, the demo's
 * end); the outbound engine runs its loop threads and a sampler; the producer, the listener's
 * libmicrohttpd threads and the admin endpoint have their own; the demo feeder and watcher run
 * on two more. Signals only set flags (a second SIGTERM/SIGINT exits at once).
 *
 * Shutdown order: stop taking inbound requests and drain the outbound connectors (within
 * outbound.drain_timeout), then the listener, then the producer (its last delivery reports --
 * dead-letter acks -- still reach the engine's loops, which exist until the engine is freed),
 * then the engine, the admin endpoint, the embedded cluster and the config. A watchdog ends
 * the process if that takes longer than the drain bound plus a grace period. */
#include "cli/app.h"

#include "cli/demo.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/admin.h"
#include "core/fatal.h"
#include "kafka/kafka.h"
#include "inbound/listener.h"
#include "core/log.h"
#include "core/metrics.h"
#include "ops/connectors_api.h"
#include "outbound/engine.h"
#include "kafka/producer.h"
#include "signing/signing.h"
#include "core/util.h"

#define EXIT_GRACE_MS 15000 /* beyond the drain bound: leaving groups, flushing the producer */

/* An outbound loop's turn: its admin heartbeat (the engine knows nothing of the admin). */
static void beat(void *hb)
{
    wb_heartbeat_beat(hb);
}

static volatile sig_atomic_t stop; /* also set by the demo's feeder when it is done */
static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
    reload_requested = 1;
}

static void on_signal(int sig)
{
    if (stop) {
        static const char msg[] = "second signal: exiting at once\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)w;
        _exit(130);
    }
    stop = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int wb_app_check(const wb_config *cfg, FILE *out)
{
    char err[8192];
    int bad = 0;
    /* Exactly what `run` builds before it touches the network: the engine's check (signers,
     * egress policies, header values, consumer configurations, schema sources) ... */
    if (wb_engine_check(cfg, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        bad = 1;
    }
    /* ... the inbound verifiers ... */
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        if (cc->direction != WB_DIR_INBOUND) continue;
        wb_verifier *v = wb_verifier_new(&cc->signing, err, sizeof(err));
        if (!v) {
            fprintf(stderr, "%s:%d: verify: %s\n", cc->file, cc->line, err);
            bad = 1;
        }
        wb_verifier_free(v);
    }
    /* ... and the producer's configuration. */
    rd_kafka_conf_t *pc = wb_kafka_conf(cfg, WB_KAFKA_PRODUCER, NULL, err, sizeof(err));
    if (!pc) {
        fprintf(stderr, "%s\n", err);
        bad = 1;
    } else {
        rd_kafka_conf_destroy(pc);
    }
    if (bad) return 1;
    wb_config_print_summary(cfg, out);
    fprintf(out, "ok: %s is valid\n", cfg->path);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Readiness                                                                            */

typedef struct ready_ctx {
    int want_listener; /* inbound.listen is set (fixed for the process's life) */
    wb_engine *engine;
    wb_producer *prod;
    wb_listener *listener;
} ready_ctx;

static int ready_outbound(void *arg, wb_buf *why)
{
    ready_ctx *r = arg;
    return wb_engine_ready(r->engine, why);
}

static int ready_producer(void *arg, wb_buf *why)
{
    ready_ctx *r = arg;
    if (wb_producer_connected(r->prod)) return 1;
    wb_buf_adds(why, "kafka unreachable");
    return 0;
}

static int ready_listener(void *arg, wb_buf *why)
{
    ready_ctx *r = arg;
    if (!r->want_listener || r->listener) return 1;
    wb_buf_adds(why, "listener not bound");
    return 0;
}

static int ready_fatal(void *arg, wb_buf *why)
{
    if (!wb_fatal_raised()) return 1;
    wb_buf_adds(why, wb_fatal_reason());
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Supervision                                                                          */

/* SIGHUP: a new configuration generation for the listener (secrets) and the engine
 * (connectors). All or nothing: a broken file keeps the running generation. */
static void reload(const char *path, wb_config **current, wb_listener *listener, wb_engine *e,
                   wb_admin *admin)
{
    char errstr[8192];
    wb_config *ncfg = wb_config_load(path, errstr, sizeof(errstr));
    if (!ncfg) {
        WB_ERROR("reload of %s rejected, the running configuration stays: %s", path, errstr);
        return;
    }
    if (listener && wb_listener_reload(listener, ncfg, errstr, sizeof(errstr))) {
        WB_ERROR("reload of %s rejected, the running configuration stays: %s", path, errstr);
        wb_config_unref(ncfg);
        return;
    }
    if (wb_engine_reload(e, ncfg, errstr, sizeof(errstr))) {
        WB_ERROR("reload of %s rejected, the running configuration stays: %s", path, errstr);
        char ignore[256];
        if (listener) wb_listener_reload(listener, *current, ignore, sizeof(ignore));
        wb_config_unref(ncfg);
        return;
    }
    wb_log_setup((wb_log_level)ncfg->log.level, (wb_log_format)ncfg->log.format);
    if (admin && wb_admin_set_token(admin, ncfg->admin.token))
        WB_ERROR("reload: the new admin.token could not be set; the previous one stays");
    /* The listener copied the new secrets into its verifiers (it routes with the generation
     * it started with, which app holds for it); connectors hold references of their own:
     * the previous generation is freed as soon as its last user lets go. */
    wb_config_unref(*current);
    *current = ncfg;
    WB_WARN("reloaded %s: connectors added, removed and changed; inbound requests verify with "
            "the new secrets; new inbound connectors and listener settings change on restart",
            path);
}

/* The watchdog: a drain that cannot finish must not keep the pod from terminating. */
static int64_t exit_deadline_ms;

static void *watchdog(void *arg)
{
    while (wb_now_ms() < exit_deadline_ms)
        usleep(100000);
    static const char msg[] = "{\"level\":\"error\",\"msg\":\"shutdown exceeded its bound: "
                              "exiting now; undelivered records are redelivered after the "
                              "restart\"}\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    _exit(1);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Run                                                                                  */

/* Everything a running bridge holds, in start-up order. */
typedef struct app {
    const char *config_path;
    wb_config *cfg; /* the current generation (a reference; reloads replace it) */
    wb_embedded *emb;
    const char *bootstrap; /* the embedded cluster's, or NULL: the config's */
    wb_producer *prod;
    wb_engine *engine;
    wb_listener *listener;
    wb_config *listener_cfg; /* the generation the listener routes with (a reference) */
    wb_admin *admin;
    ready_ctx rctx;
    wb_demo *demo;
} app;

/* Kafka (the embedded cluster when configured), the producer, the outbound engine and the
 * inbound listener. 0, or -1 logged. */
static int start_core(app *A, const wb_demo_opts *demo_opts, char *errstr, size_t errstr_size)
{
    wb_config *cfg = A->cfg;
    if (cfg->embedded) {
        if (!(A->emb = wb_embedded_start(cfg, errstr, errstr_size))) {
            WB_ERROR("%s", errstr);
            return -1;
        }
        A->bootstrap = wb_embedded_bootstraps(A->emb);
    } else if (demo_opts) {
        WB_ERROR("demo needs `bootstrap.servers: embedded` in %s", A->config_path);
        return -1;
    }
    if (demo_opts && cfg->outbound.ntopics == 0) {
        WB_ERROR("demo needs at least one outbound topic");
        return -1;
    }
    if (!(A->prod = wb_producer_new(cfg, A->bootstrap, errstr, errstr_size)) ||
        !(A->engine = wb_engine_new(cfg, A->bootstrap, A->prod, errstr, errstr_size))) {
        WB_ERROR("%s", errstr);
        return -1;
    }
    if (cfg->inbound.listen) {
        if (!(A->listener = wb_listener_new(cfg, A->prod, errstr, errstr_size))) {
            WB_ERROR("inbound: %s", errstr);
            return -1;
        }
        A->listener_cfg = wb_config_ref(cfg);
        WB_INFO("inbound listener on port %d", wb_listener_port(A->listener));
    }
    return 0;
}

/* The admin endpoint: readiness checks, the loops' heartbeats, the connector routes. 0, or
 * -1 logged. */
static int start_admin(app *A, char *errstr, size_t errstr_size)
{
    const wb_config *cfg = A->cfg;
    if (!cfg->admin.listen) return 0;
    if (!(A->admin = wb_admin_new(cfg->admin.listen, errstr, errstr_size))) {
        WB_ERROR("admin: %s", errstr);
        return -1;
    }
    A->rctx = (ready_ctx){.want_listener = cfg->inbound.listen != NULL,
                          .engine = A->engine,
                          .prod = A->prod,
                          .listener = A->listener};
    wb_admin_add_ready_check(A->admin, "outbound", ready_outbound, &A->rctx);
    wb_admin_add_ready_check(A->admin, "producer", ready_producer, &A->rctx);
    wb_admin_add_ready_check(A->admin, "listener", ready_listener, &A->rctx);
    wb_admin_add_ready_check(A->admin, "fatal", ready_fatal, &A->rctx);
    for (int i = 0; i < wb_engine_loops(A->engine); i++) {
        char name[32];
        snprintf(name, sizeof(name), "outbound-%d", i);
        wb_engine_set_heartbeat(A->engine, i, beat, wb_admin_heartbeat(A->admin, name, 30000));
    }
    if (wb_admin_set_token(A->admin, cfg->admin.token) ||
        wb_connectors_api_register(A->admin, A->engine)) {
        WB_ERROR("admin: cannot register the connector routes");
        return -1;
    }
    WB_INFO("admin endpoint on port %d (/metrics, /healthz, /readyz)", wb_admin_port(A->admin));
    return 0;
}

/* Until a signal, the fatal flag or the demo's end: reloads on SIGHUP, the generations
 * gauge. */
static void supervise(app *A)
{
    wb_gauge *m_gens = wb_metrics_gauge(
        "webhook_bridge_config_generations",
        "Configuration generations still in use (the running one, the listener's, and "
        "older ones until their last delivery ends)",
        "");
    while (!stop && !wb_fatal_raised()) {
        wb_gauge_set(m_gens, wb_config_live());
        if (reload_requested) {
            reload_requested = 0;
            reload(A->config_path, &A->cfg, A->listener, A->engine, A->admin);
        }
        usleep(50000);
    }
}

/* Drain the outbound connectors within outbound.drain_timeout (a watchdog ends the process
 * if the whole shutdown takes longer than that plus a grace period). */
static void drain(app *A, int fatal)
{
    int64_t drain_ms = A->cfg->outbound.drain_timeout_ms;
    exit_deadline_ms = wb_now_ms() + drain_ms + EXIT_GRACE_MS;
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, NULL) == 0) pthread_detach(wd);
    WB_INFO("%s: draining (up to %" PRId64 " ms)", fatal ? "fatal error" : "stopping", drain_ms);
    wb_engine_stop(A->engine, wb_now_ms() + drain_ms);
    if (wb_engine_wait(A->engine, wb_now_ms() + drain_ms + EXIT_GRACE_MS / 2))
        WB_WARN("the drain did not finish: what was in flight is redelivered after the restart");
    else
        WB_INFO("drained; offsets committed");
}

static void app_close(app *A)
{
    wb_listener_free(A->listener, 5000);
    wb_config_unref(A->listener_cfg);
    /* The producer before the engine: its last reports (dead-letter acks) are posted to the
     * engine's loops, which exist until wb_engine_free. */
    if (A->prod) wb_producer_free(A->prod, 5000);
    wb_engine_free(A->engine);
    wb_admin_free(A->admin);
    wb_embedded_stop(A->emb);
    wb_config_unref(A->cfg);
}

int wb_app_run(const char *config_path, const wb_demo_opts *demo_opts)
{
    char errstr[8192];
    app A = {.config_path = config_path};
    if (!(A.cfg = wb_config_load(config_path, errstr, sizeof(errstr)))) {
        fprintf(stderr, "%s%s", errstr,
                errstr[0] && errstr[strlen(errstr) - 1] != '\n' ? "\n" : "");
        return 1;
    }
    wb_log_setup((wb_log_level)A.cfg->log.level, (wb_log_format)A.cfg->log.format);
    install_signals();
    int rc = 1;
    if (start_core(&A, demo_opts, errstr, sizeof(errstr)) ||
        start_admin(&A, errstr, sizeof(errstr)))
        goto out;
    if (demo_opts && !(A.demo = wb_demo_new(demo_opts, A.cfg, A.bootstrap, A.prod, A.engine,
                                            A.listener != NULL, &stop)))
        goto out;
    if (wb_engine_start(A.engine, errstr, sizeof(errstr))) {
        WB_ERROR("%s", errstr);
        goto out;
    }
    WB_INFO("webhook-bridge %s running: %zu topic(s), %zu connector(s), %d outbound loop(s)",
            WB_VERSION, A.cfg->outbound.ntopics, A.cfg->nconnectors, A.cfg->outbound.loops);
    if (A.demo) wb_demo_start(A.demo);
    supervise(&A);
    int fatal = wb_fatal_raised();
    rc = fatal ? 1 : 0;
    drain(&A, fatal);
    if (A.demo && !wb_demo_end(A.demo)) rc = 1;
    A.demo = NULL;
out:
    wb_demo_end(A.demo); /* (a start that failed half-way) */
    app_close(&A);
    return rc;
}
