/* cli/demo.c - the `demo` job: sample events produced to the embedded cluster, every outcome
 * printed as the connectors deliver them, and what the inbound listener verified read back
 * from Kafka (see demo.h). */
#include "cli/demo.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "kafka/event.h"
#include "kafka/kafka.h"

struct wb_demo {
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
    volatile sig_atomic_t *stop; /* the supervisor's: set when the feeder is done */
    pthread_t feeder, watcher;
    int feeding, watching;
};
typedef struct wb_demo demo;

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
    for (int i = 0; i < d->opts->events && !*d->stop; i++) {
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
    while (!*d->stop && wb_now_ms() < deadline) {
        if (demo_settled(d) &&
            (!d->inbound_topic || atomic_load(&d->round_trips) >= atomic_load(&d->delivered)))
            break;
        usleep(100000);
    }
    atomic_store(&d->finished, 1);
    *d->stop = 1;
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Lifetime                                                                             */

wb_demo *wb_demo_new(const wb_demo_opts *opts, const wb_config *cfg, const char *bootstrap,
                     wb_producer *prod, wb_engine *engine, int with_listener,
                     volatile sig_atomic_t *stop)
{
    demo *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->opts = opts;
    d->cfg = cfg;
    d->bootstrap = bootstrap;
    d->prod = prod;
    d->engine = engine;
    d->stop = stop;
    d->start_ms = wb_now_ms();
    for (size_t i = 0; with_listener && i < cfg->nconnectors; i++)
        if (cfg->connectors[i].direction == WB_DIR_INBOUND)
            d->inbound_topic = cfg->connectors[i].topic;
    wb_engine_observe(engine, demo_observe, d);
    return d;
}

void wb_demo_start(wb_demo *d)
{
    printf("webhook-bridge demo: embedded Kafka at %s; %d sample events at %.0f/s\n", d->bootstrap,
           d->opts->events, d->opts->rate);
    if (pthread_create(&d->feeder, NULL, demo_feed, d) == 0) d->feeding = 1;
    if (d->inbound_topic && pthread_create(&d->watcher, NULL, demo_watch, d) == 0) d->watching = 1;
}

int wb_demo_end(wb_demo *d)
{
    if (!d) return 1;
    atomic_store(&d->finished, 1);
    if (d->watching) pthread_join(d->watcher, NULL);
    int ok = 1;
    if (d->feeding) {
        pthread_join(d->feeder, NULL);
        printf("\nsummary: produced %d, delivered %d, retried %d, dead-lettered %d, verified & "
               "published back %d, %.1f s\n",
               atomic_load(&d->produced), atomic_load(&d->delivered), atomic_load(&d->retried),
               atomic_load(&d->dead_lettered), atomic_load(&d->round_trips),
               (double)(wb_now_ms() - d->start_ms) / 1000.0);
        ok = demo_settled(d);
    }
    free(d);
    return ok;
}
