/* app.c - start-up and shutdown of a bridge process, and the `demo` job.
 *
 * Thread map: the outbound engine runs on the main thread; the producer, the listener's
 * libmicrohttpd threads and the admin endpoint have their own; the demo feeder runs on one
 * more. Signals only set `stop` (a second one exits at once). */
#include "app.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "envelope.h"
#include "kafka.h"
#include "listener.h"
#include "log.h"
#include "outbound.h"
#include "producer.h"
#include "signing.h"
#include "util.h"

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
    int bad = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const wb_connector *cc = &cfg->connectors[i];
        char err[256];
        if (cc->direction == WB_DIR_OUTBOUND) {
            wb_signer *s = wb_signer_new(&cc->signing, err, sizeof(err));
            if (!s) {
                fprintf(stderr, "%s:%d: signing: %s\n", cc->file, cc->line, err);
                bad = 1;
            }
            wb_signer_free(s);
        } else {
            wb_verifier *v = wb_verifier_new(&cc->signing, err, sizeof(err));
            if (!v) {
                fprintf(stderr, "%s:%d: verify: %s\n", cc->file, cc->line, err);
                bad = 1;
            }
            wb_verifier_free(v);
        }
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
    wb_outbound *ob;
    atomic_int produced, acked;
    atomic_int observed_ok, observed_dlq;
    atomic_int round_trips; /* verified by the listener and read back from Kafka */
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
        atomic_fetch_add(&d->observed_ok, 1);
    else if (!strcmp(ev->outcome, "dead-lettered"))
        atomic_fetch_add(&d->observed_dlq, 1);
    printf("  -> %-13s %-16s %-14s to %-14s HTTP %3d  attempt %d  %5.1f ms  (append->%s %" PRId64
           " ms)%s%s\n",
           ev->outcome, ev->type, ev->webhook_id, ev->connector, ev->status, ev->attempt,
           (double)ev->latency_us / 1000.0, "outcome", ev->age_ms, ev->error[0] ? "  " : "",
           ev->error);
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
    while (!stop) {
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

/* Feeder thread: produce the sample events at the requested rate, then wait until every
 * one has been delivered (or dead-lettered) and ask the bridge to stop. */
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
        wb_outbound_stats st;
        wb_outbound_get_stats(d->ob, &st);
        int want = atomic_load(&d->produced);
        if ((int)(st.delivered + st.dead_lettered) >= want && st.in_flight_records == 0 &&
            (!d->inbound_topic || atomic_load(&d->round_trips) >= (int)st.delivered))
            break;
        usleep(100000);
    }
    stop = 1;
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Reload (SIGHUP)                                                                      */

typedef struct reloader {
    const char *path;
    pthread_mutex_t lock;
    wb_config **old; /* configurations replaced by a reload: in-flight work may use them */
    size_t nold;
    wb_config **current;
    atomic_uint gen;       /* bumped when *current changes */
    wb_listener *listener; /* inbound secrets rotate with the reload, or NULL */
} reloader;

/* One outbound engine (a thread and a consumer-group member). */
typedef struct engine {
    wb_outbound *ob;
    reloader *rl;
    unsigned seen_gen;
    int primary; /* engine 0 loads the file; the others follow its generation */
    pthread_t thread;
    int started;
} engine;

/* Outbound thread, once per loop turn: apply a requested reload, or keep what runs. */
static void maybe_reload(void *arg)
{
    engine *e = arg;
    reloader *r = e->rl;
    if (e->primary && reload_requested) {
        reload_requested = 0;
        char errstr[8192];
        wb_config *ncfg = wb_config_load(r->path, errstr, sizeof(errstr));
        if (!ncfg) {
            WB_ERROR("reload of %s rejected, the running configuration stays: %s", r->path, errstr);
            return;
        }
        wb_config **old = realloc(r->old, (r->nold + 1) * sizeof(*old));
        if (!old) {
            WB_ERROR("reload rejected: out of memory");
            wb_config_free(ncfg);
            return;
        }
        r->old = old;
        if (ncfg->outbound.loops != (*r->current)->outbound.loops)
            WB_WARN("reload: outbound.loops changes on restart");
        ncfg->outbound.loops = (*r->current)->outbound.loops;
        if (r->listener && wb_listener_reload(r->listener, ncfg, errstr, sizeof(errstr))) {
            WB_ERROR("reload of %s rejected, the running configuration stays: %s", r->path, errstr);
            wb_config_free(ncfg);
            return;
        }
        if (wb_outbound_reload(e->ob, ncfg, errstr, sizeof(errstr))) {
            WB_ERROR("reload of %s rejected, the running configuration stays: %s", r->path, errstr);
            /* put the listener back on the running secrets (they decoded before) */
            char ignore[256];
            if (r->listener) wb_listener_reload(r->listener, *r->current, ignore, sizeof(ignore));
            wb_config_free(ncfg);
            return;
        }
        wb_log_setup((wb_log_level)ncfg->log.level, (wb_log_format)ncfg->log.format);
        pthread_mutex_lock(&r->lock);
        r->old[r->nold++] = *r->current;
        *r->current = ncfg;
        e->seen_gen = atomic_fetch_add(&r->gen, 1) + 1;
        pthread_mutex_unlock(&r->lock);
        WB_WARN("reloaded %s: new deliveries use the new connectors and secrets, inbound "
                "requests verify with the new secrets; new inbound connectors, listener "
                "settings and outbound topics change on restart",
                r->path);
        return;
    }
    unsigned g = atomic_load(&r->gen);
    if (e->primary || g == e->seen_gen) return;
    pthread_mutex_lock(&r->lock);
    const wb_config *cfg = *r->current;
    g = atomic_load(&r->gen);
    pthread_mutex_unlock(&r->lock);
    char errstr[1024];
    /* The primary built the same connectors already: this cannot fail but for memory. */
    if (wb_outbound_reload(e->ob, cfg, errstr, sizeof(errstr)))
        WB_ERROR("reload on a worker failed: %s", errstr);
    e->seen_gen = g;
}

static void *engine_main(void *arg)
{
    engine *e = arg;
    wb_outbound_run(e->ob, &stop);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Readiness                                                                            */

typedef struct ready_ctx {
    const wb_config *cfg;
    struct engine *engines;
    int nengines;
    wb_producer *prod;
    wb_listener *listener;
} ready_ctx;

static int ready_consumer(void *arg, wb_buf *why)
{
    ready_ctx *r = arg;
    if (r->cfg->outbound.ntopics == 0) return 1;
    for (int i = 0; i < r->nengines; i++)
        if (wb_outbound_ready(r->engines[i].ob)) return 1;
    wb_buf_adds(why, "no partitions assigned");
    return 0;
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
    if (!r->cfg->inbound.listen || r->listener) return 1;
    wb_buf_adds(why, "listener not bound");
    return 0;
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
    engine *engines = NULL;
    int nengines = 0;
    reloader rl;
    memset(&rl, 0, sizeof(rl));
    pthread_mutex_init(&rl.lock, NULL);
    ready_ctx rctx;
    pthread_t feeder, watcher;
    int feeding = 0, watching = 0;
    demo dm;
    memset(&dm, 0, sizeof(dm));

    wb_config *cfg = wb_config_load(config_path, errstr, sizeof(errstr));
    if (!cfg) {
        fprintf(stderr, "%s%s", errstr,
                errstr[0] && errstr[strlen(errstr) - 1] != '\n' ? "\n" : "");
        pthread_mutex_destroy(&rl.lock);
        return 1;
    }
    wb_log_setup((wb_log_level)cfg->log.level, (wb_log_format)cfg->log.format);
    install_signals();
    if (demo_opts || cfg->outbound.ntopics == 0)
        cfg->outbound.loops = 1; /* the demo watches one engine; no topics, no consumers */

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
    prod = wb_producer_new(cfg, bootstrap, errstr, sizeof(errstr));
    if (!prod) {
        WB_ERROR("%s", errstr);
        goto out;
    }
    if (cfg->inbound.listen) {
        listener = wb_listener_new(cfg, prod, errstr, sizeof(errstr));
        if (!listener) {
            WB_ERROR("inbound: %s", errstr);
            goto out;
        }
        WB_INFO("inbound listener on port %d", wb_listener_port(listener));
    }
    /* Outbound engines: each one a thread with its own consumer in the group, HTTP client
     * and scheduler; the group spreads the partitions over them. */
    engines = calloc((size_t)cfg->outbound.loops, sizeof(*engines));
    if (!engines) {
        WB_ERROR("out of memory");
        goto out;
    }
    rl.path = config_path;
    rl.current = &cfg;
    rl.listener = listener;
    for (nengines = 0; nengines < cfg->outbound.loops; nengines++) {
        engine *e = &engines[nengines];
        e->ob = wb_outbound_new(cfg, bootstrap, prod, errstr, sizeof(errstr));
        if (!e->ob) {
            WB_ERROR("%s", errstr);
            goto out;
        }
        e->rl = &rl;
        e->primary = nengines == 0;
        wb_outbound_on_turn(e->ob, maybe_reload, e);
    }
    if (cfg->admin.listen) {
        admin = wb_admin_new(cfg->admin.listen, errstr, sizeof(errstr));
        if (!admin) {
            WB_ERROR("admin: %s", errstr);
            goto out;
        }
        rctx = (ready_ctx){.cfg = cfg,
                           .engines = engines,
                           .nengines = nengines,
                           .prod = prod,
                           .listener = listener};
        wb_admin_add_ready_check(admin, "consumer", ready_consumer, &rctx);
        wb_admin_add_ready_check(admin, "producer", ready_producer, &rctx);
        wb_admin_add_ready_check(admin, "listener", ready_listener, &rctx);
        for (int i = 0; i < nengines; i++) {
            char name[32];
            snprintf(name, sizeof(name), nengines > 1 ? "outbound-%d" : "outbound", i);
            wb_outbound_set_heartbeat(engines[i].ob, wb_admin_heartbeat(admin, name, 30000));
        }
        WB_INFO("admin endpoint on port %d (/metrics, /healthz, /readyz)", wb_admin_port(admin));
    }
    WB_INFO("webhook-bridge %s running: %zu topic(s), %zu connector(s), %d outbound worker(s)",
            WB_VERSION, cfg->outbound.ntopics, cfg->nconnectors, nengines);

    if (demo_opts) {
        if (cfg->outbound.ntopics == 0) {
            WB_ERROR("demo needs at least one outbound topic");
            goto out;
        }
        dm.opts = demo_opts;
        dm.cfg = cfg;
        dm.bootstrap = bootstrap;
        dm.prod = prod;
        dm.ob = engines[0].ob;
        dm.start_ms = wb_now_ms();
        wb_outbound_observe(dm.ob, demo_observe, &dm);
        for (size_t i = 0; listener && i < cfg->nconnectors; i++)
            if (cfg->connectors[i].direction == WB_DIR_INBOUND)
                dm.inbound_topic = cfg->connectors[i].topic;
        printf("webhook-bridge demo: embedded Kafka at %s; %d sample events at %.0f/s\n", bootstrap,
               demo_opts->events, demo_opts->rate);
        if (pthread_create(&feeder, NULL, demo_feed, &dm) == 0) feeding = 1;
        if (dm.inbound_topic && pthread_create(&watcher, NULL, demo_watch, &dm) == 0) watching = 1;
    }

    for (int i = 1; i < nengines; i++)
        engines[i].started =
            pthread_create(&engines[i].thread, NULL, engine_main, &engines[i]) == 0;
    int r = wb_outbound_run(engines[0].ob, &stop);
    stop = 1; /* a fatal stop of the primary stops the others too */
    for (int i = 1; i < nengines; i++)
        if (engines[i].started) pthread_join(engines[i].thread, NULL);
    rc = r < 0 ? 1 : 0;
    if (watching) pthread_join(watcher, NULL);
    if (feeding) {
        pthread_join(feeder, NULL);
        wb_outbound_stats st;
        wb_outbound_get_stats(dm.ob, &st);
        printf("\nsummary: produced %d, delivered %" PRIu64 ", retried %" PRIu64
               ", dead-lettered %" PRIu64 ", in flight %d, verified & published back %d, %.1f s\n",
               atomic_load(&dm.produced), st.delivered, st.retried, st.dead_lettered,
               st.in_flight_records, atomic_load(&dm.round_trips),
               (double)(wb_now_ms() - dm.start_ms) / 1000.0);
        if ((int)st.delivered + (int)st.dead_lettered < atomic_load(&dm.produced)) rc = 1;
    }
out:
    wb_admin_free(admin);
    wb_listener_free(listener, 5000);
    /* The producer goes before the outbound engines: its last delivery reports (dead-letter
     * acks) still reach the engines' queues, which must exist until then. */
    if (prod) wb_producer_free(prod, 10000);
    for (int i = 0; i < nengines; i++)
        wb_outbound_free(engines[i].ob);
    free(engines);
    wb_embedded_stop(emb);
    for (size_t i = 0; i < rl.nold; i++)
        wb_config_free(rl.old[i]);
    free(rl.old);
    pthread_mutex_destroy(&rl.lock);
    wb_config_free(cfg);
    return rc;
}
