/* app.c - start-up, supervision and shutdown of a bridge process, and the `demo` job.
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
#include "kafka/event.h"
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

static volatile sig_atomic_t stop;
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
/* Demo                                                                                 */

typedef struct demo {
    const wb_demo_opts *opts;
    const wb_config *cfg;
    const char *bootstrap;
    wb_producer *prod;
    wb_engine *engine;
    atomic_int produced, acked;
    atomic_int delivered, dead_lettered, retried;
    atomic_int round_trips; /* verified by the listener and read back from Kafka */
    atomic_int finished;
    const char *inbound_topic;
    int64_t start_ms;
} demo;

static const char *const demo_types[] = {"order.paid", "inventory.low", "booking.created",
                                         "return.received", "lead.created"};

/* A realistic little payload for each sample type. */
static void demo_event(int i, char *out, size_t n, char *key, size_t kn)
{
    const char *type = demo_types[i % 5];
    int id = 1000 + i;
    snprintf(key, kn, "cust-%03d", i % 7);
    switch (i % 5) {
    case 0:
        snprintf(out, n,
                 "{\"id\":\"evt_%d\",\"type\":\"%s\",\"order_id\":\"ord_%d\",\"customer\":\"%s\","
                 "\"amount\":\"%d.%02d\",\"currency\":\"EUR\"}",
                 id, type, id, key, 10 + i * 3, i % 100);
        break;
    case 1:
        snprintf(out, n,
                 "{\"id\":\"evt_%d\",\"type\":\"%s\",\"sku\":\"SKU-%04d\",\"warehouse\":\"BER-1\","
                 "\"on_hand\":%d,\"threshold\":10}",
                 id, type, 17 * i % 9999, i % 10);
        break;
    case 2:
        snprintf(out, n,
                 "{\"id\":\"evt_%d\",\"type\":\"%s\",\"booking_id\":\"bkg_%d\",\"customer\":\"%s\","
                 "\"starts_at\":\"2026-12-0%dT10:00:00Z\",\"seats\":%d}",
                 id, type, id, key, 1 + i % 9, 1 + i % 4);
        break;
    case 3:
        snprintf(
            out, n,
            "{\"id\":\"evt_%d\",\"type\":\"%s\",\"return_id\":\"ret_%d\",\"order_id\":\"ord_%d\","
            "\"reason\":\"damaged\"}",
            id, type, id, id - 3);
        break;
    default:
        snprintf(out, n,
                 "{\"id\":\"evt_%d\",\"type\":\"%s\",\"lead_id\":\"lead_%d\",\"email\":\"buyer%d@"
                 "example.com\","
                 "\"source\":\"webinar\"}",
                 id, type, id, i);
        break;
    }
}

static void demo_acked(void *opaque, wb_err err, const char *errmsg, int32_t partition,
                       int64_t offset)
{
    demo *d = opaque;
    if (!err) atomic_fetch_add(&d->acked, 1);
}

static void demo_observe(void *ctx, const wb_delivery_event *ev)
{
    demo *d = ctx;
    if (!strcmp(ev->outcome, "delivered"))
        atomic_fetch_add(&d->delivered, 1);
    else if (!strcmp(ev->outcome, "dead-lettered"))
        atomic_fetch_add(&d->dead_lettered, 1);
    else if (!strcmp(ev->outcome, "retry"))
        atomic_fetch_add(&d->retried, 1);
    printf("  -> %-13s %-16s %-14s to %-14s HTTP %3d  attempt %d  %5.1f ms  (append->outcome "
           "%" PRId64 " ms)%s%s\n",
           ev->outcome, ev->type, ev->webhook_id, ev->connector, ev->status, ev->attempt,
           (double)ev->latency_us / 1000.0, ev->age_ms, ev->error[0] ? "  " : "", ev->error);
    fflush(stdout);
}

/* Watcher thread: read what the inbound listener published, to show the round trip. */
static void *demo_watch(void *arg)
{
    demo *d = arg;
    char errstr[512];
    rd_kafka_conf_t *conf =
        wb_kafka_conf(d->cfg, WB_KAFKA_CONSUMER, d->bootstrap, errstr, sizeof(errstr));
    if (!conf) return NULL;
    rd_kafka_conf_set(conf, "group.id", "webhook-bridge-demo-watch", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, d->inbound_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    while (!atomic_load(&d->finished)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 200);
        if (!rkm) continue;
        if (!rkm->err) {
            char id[160] = "", type[128] = "";
            wb_record_header(rkm, "ce_id", id, sizeof(id));
            wb_record_header(rkm, "ce_type", type, sizeof(type));
            atomic_fetch_add(&d->round_trips, 1);
            printf("  <= verified & published  %-16s %-14s back to %s[%d]@%" PRId64 "\n", type, id,
                   rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
            fflush(stdout);
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* Whether every connector has consumed every produced event and has nothing in flight. */
static int demo_settled(demo *d)
{
    wb_conn_status st[64];
    size_t n = wb_engine_status(d->engine, st, 64);
    if (n > 64) n = 64;
    for (size_t i = 0; i < n; i++)
        if (st[i].consumed < (uint64_t)atomic_load(&d->produced) || st[i].in_flight > 0) return 0;
    return 1;
}

/* Feeder thread: produce the sample events at the requested rate, then wait until every
 * connector is done with them (and the inbound side has read back what it verified). */
static void *demo_feed(void *arg)
{
    demo *d = arg;
    const char *topic = d->cfg->outbound.topics[0];
    int64_t gap_us = (int64_t)(1e6 / d->opts->rate);
    for (int i = 0; i < d->opts->events && !stop; i++) {
        char val[512], key[32];
        demo_event(i, val, sizeof(val), key, sizeof(key));
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "event-type", -1, demo_types[i % 5], -1);
        if (wb_producer_send(d->prod, topic, -1, key, strlen(key), val, strlen(val), h, demo_acked,
                             d) != WB_OK) {
            rd_kafka_headers_destroy(h);
            continue;
        }
        atomic_fetch_add(&d->produced, 1);
        printf("  <- produced  %-16s key=%s to %s\n", demo_types[i % 5], key, topic);
        fflush(stdout);
        usleep((useconds_t)gap_us);
    }
    int64_t deadline = wb_now_ms() + 60000;
    while (!stop && wb_now_ms() < deadline) {
        if (demo_settled(d) &&
            (!d->inbound_topic || atomic_load(&d->round_trips) >= atomic_load(&d->delivered)))
            break;
        usleep(100000);
    }
    atomic_store(&d->finished, 1);
    stop = 1;
    return NULL;
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

int wb_app_run(const char *config_path, const wb_demo_opts *demo_opts)
{
    char errstr[8192];
    int rc = 1;
    wb_embedded *emb = NULL;
    wb_producer *prod = NULL;
    wb_admin *admin = NULL;
    wb_listener *listener = NULL;
    wb_engine *engine = NULL;
    wb_config *listener_cfg = NULL; /* the generation the listener routes with (a reference) */
    ready_ctx rctx;
    pthread_t feeder, watcher;
    int feeding = 0, watching = 0;
    demo dm;
    memset(&dm, 0, sizeof(dm));

    wb_config *cfg = wb_config_load(config_path, errstr, sizeof(errstr));
    if (!cfg) {
        fprintf(stderr, "%s%s", errstr,
                errstr[0] && errstr[strlen(errstr) - 1] != '\n' ? "\n" : "");
        return 1;
    }
    wb_log_setup((wb_log_level)cfg->log.level, (wb_log_format)cfg->log.format);
    install_signals();

    const char *bootstrap = NULL;
    if (cfg->embedded) {
        emb = wb_embedded_start(cfg, errstr, sizeof(errstr));
        if (!emb) {
            WB_ERROR("%s", errstr);
            goto out;
        }
        bootstrap = wb_embedded_bootstraps(emb);
    } else if (demo_opts) {
        WB_ERROR("demo needs `bootstrap.servers: embedded` in %s", config_path);
        goto out;
    }
    if (demo_opts && cfg->outbound.ntopics == 0) {
        WB_ERROR("demo needs at least one outbound topic");
        goto out;
    }
    prod = wb_producer_new(cfg, bootstrap, errstr, sizeof(errstr));
    if (!prod) {
        WB_ERROR("%s", errstr);
        goto out;
    }
    engine = wb_engine_new(cfg, bootstrap, prod, errstr, sizeof(errstr));
    if (!engine) {
        WB_ERROR("%s", errstr);
        goto out;
    }
    if (cfg->inbound.listen) {
        listener = wb_listener_new(cfg, prod, errstr, sizeof(errstr));
        if (!listener) {
            WB_ERROR("inbound: %s", errstr);
            goto out;
        }
        listener_cfg = wb_config_ref(cfg);
        WB_INFO("inbound listener on port %d", wb_listener_port(listener));
    }
    if (cfg->admin.listen) {
        admin = wb_admin_new(cfg->admin.listen, errstr, sizeof(errstr));
        if (!admin) {
            WB_ERROR("admin: %s", errstr);
            goto out;
        }
        rctx = (ready_ctx){.want_listener = cfg->inbound.listen != NULL,
                           .engine = engine,
                           .prod = prod,
                           .listener = listener};
        wb_admin_add_ready_check(admin, "outbound", ready_outbound, &rctx);
        wb_admin_add_ready_check(admin, "producer", ready_producer, &rctx);
        wb_admin_add_ready_check(admin, "listener", ready_listener, &rctx);
        wb_admin_add_ready_check(admin, "fatal", ready_fatal, &rctx);
        for (int i = 0; i < wb_engine_loops(engine); i++) {
            char name[32];
            snprintf(name, sizeof(name), "outbound-%d", i);
            wb_engine_set_heartbeat(engine, i, beat, wb_admin_heartbeat(admin, name, 30000));
        }
        if (wb_admin_set_token(admin, cfg->admin.token) ||
            wb_connectors_api_register(admin, engine)) {
            WB_ERROR("admin: cannot register the connector routes");
            goto out;
        }
        WB_INFO("admin endpoint on port %d (/metrics, /healthz, /readyz)", wb_admin_port(admin));
    }
    if (demo_opts) {
        dm.opts = demo_opts;
        dm.cfg = cfg;
        dm.bootstrap = bootstrap;
        dm.prod = prod;
        dm.engine = engine;
        dm.start_ms = wb_now_ms();
        wb_engine_observe(engine, demo_observe, &dm);
        for (size_t i = 0; listener && i < cfg->nconnectors; i++)
            if (cfg->connectors[i].direction == WB_DIR_INBOUND)
                dm.inbound_topic = cfg->connectors[i].topic;
    }
    if (wb_engine_start(engine, errstr, sizeof(errstr))) {
        WB_ERROR("%s", errstr);
        goto out;
    }
    WB_INFO("webhook-bridge %s running: %zu topic(s), %zu connector(s), %d outbound loop(s)",
            WB_VERSION, cfg->outbound.ntopics, cfg->nconnectors, cfg->outbound.loops);
    if (demo_opts) {
        printf("webhook-bridge demo: embedded Kafka at %s; %d sample events at %.0f/s\n", bootstrap,
               demo_opts->events, demo_opts->rate);
        if (pthread_create(&feeder, NULL, demo_feed, &dm) == 0) feeding = 1;
        if (dm.inbound_topic && pthread_create(&watcher, NULL, demo_watch, &dm) == 0) watching = 1;
    }

    /* Supervise: signals, reloads, the fatal flag. */
    wb_gauge *m_gens = wb_metrics_gauge(
        "webhook_bridge_config_generations",
        "Configuration generations still in use (the running one, the listener's, and "
        "older ones until their last delivery ends)",
        "");
    while (!stop && !wb_fatal_raised()) {
        wb_gauge_set(m_gens, wb_config_live());
        if (reload_requested) {
            reload_requested = 0;
            reload(config_path, &cfg, listener, engine, admin);
        }
        usleep(50000);
    }
    int fatal = wb_fatal_raised();
    rc = fatal ? 1 : 0;
    int64_t drain = cfg->outbound.drain_timeout_ms;
    exit_deadline_ms = wb_now_ms() + drain + EXIT_GRACE_MS;
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, NULL) == 0) pthread_detach(wd);
    WB_INFO("%s: draining (up to %" PRId64 " ms)", fatal ? "fatal error" : "stopping", drain);
    wb_engine_stop(engine, wb_now_ms() + drain);
    if (wb_engine_wait(engine, wb_now_ms() + drain + EXIT_GRACE_MS / 2))
        WB_WARN("the drain did not finish: what was in flight is redelivered after the restart");
    else
        WB_INFO("drained; offsets committed");
    atomic_store(&dm.finished, 1);
    if (watching) pthread_join(watcher, NULL);
    if (feeding) {
        pthread_join(feeder, NULL);
        printf("\nsummary: produced %d, delivered %d, retried %d, dead-lettered %d, verified & "
               "published back %d, %.1f s\n",
               atomic_load(&dm.produced), atomic_load(&dm.delivered), atomic_load(&dm.retried),
               atomic_load(&dm.dead_lettered), atomic_load(&dm.round_trips),
               (double)(wb_now_ms() - dm.start_ms) / 1000.0);
        if (!demo_settled(&dm)) rc = 1;
    }
out:
    wb_listener_free(listener, 5000);
    wb_config_unref(listener_cfg);
    /* The producer before the engine: its last reports (dead-letter acks) are posted to the
     * engine's loops, which exist until wb_engine_free. */
    if (prod) wb_producer_free(prod, 5000);
    wb_engine_free(engine);
    wb_admin_free(admin);
    wb_embedded_stop(emb);
    wb_config_unref(cfg);
    return rc;
}
