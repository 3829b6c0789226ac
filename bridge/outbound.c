/* outbound.c - the outbound engine: consumer group, routing, deliveries, offsets.
 *
 * Locality: everything in this file runs on the outbound thread (inside wb_outbound_run and
 * the librdkafka callbacks it serves), except dlq_cb(), which runs on the producer thread
 * and only touches the locked `acks` queue. */
#include "outbound.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/loop.h"
#include "egress.h"
#include "envelope.h"
#include "jscan.h"
#include "kafka.h"
#include "admin.h"
#include "log.h"
#include "metrics.h"
#include "offsets.h"
#include "outbound/http.h"
#include "registry.h"
#include "scheduler.h"
#include "signing.h"
#include "util.h"

#define CONSUME_BATCH 256  /* records taken per loop turn at most */
#define MAX_HDRS      12   /* per-attempt headers (id, timestamp, signatures, trace) */
#define DLQ_RETRY_MS  1000 /* a failed dead-letter write is tried again after this */

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                */

/* Runtime state of one outbound connector. */
typedef struct conn_rt {
    const wb_connector *cc;
    wb_signer *signer;
    wb_sched_conn *sc;
    wb_http_target *target;   /* URL, constant headers, timeouts, TLS, proxy: built once */
    wb_egress_policy *policy; /* allow_cidrs, or NULL (borrowed by target) */
    int id_target;            /* index into wb_outbound.targets of its id_pointer, -1 */
    uint64_t delivered, dead_lettered;
    /* metrics, registered once per connector */
    wb_counter *m_delivered, *m_retried, *m_dead_lettered, *m_rejected, *m_attempts;
    wb_gauge *m_in_flight, *m_circuit;
    wb_histogram *m_latency;
} conn_rt;

struct record;

/* One partition as assigned in one generation. A revoke marks it fenced: completions that
 * arrive later are dropped and store nothing. Freed when fenced and no record refers to it. */
typedef struct part_st {
    struct part_st *next;
    rd_kafka_topic_t *rkt; /* identity of the topic (borrowed from the records) */
    char *topic;
    int32_t partition;
    wb_offsets win;
    struct record *records; /* in-flight records, doubly linked, newest first */
    struct record *oldest;  /* tail of records */
    int fenced;
    int revoking;              /* being revoked: nothing new starts, only running work is awaited */
    int64_t decode_wait_until; /* schema registry unreachable: paused until (monotonic ms) */
    int paused;
    int dirty;      /* win.next_commit advanced since the last store */
    int64_t stored; /* last offset handed to rd_kafka_offsets_store */
    size_t refs;    /* records alive */
    wb_gauge *m_consumed, *m_stored, *m_committed, *m_oldest_age, *m_in_flight;
} part_st;

/* One delivery of a record to one connector (conn == NULL: the record itself goes to the
 * dead-letter topic, e.g. it could not be decoded). */
typedef struct delivery {
    wb_job job; /* scheduler link */
    struct record *rec;
    conn_rt *conn;
    int attempts;
    int in_http; /* an HTTP attempt is running */
    int in_dlq;  /* a dead-letter write is running */
    int done;    /* terminal */
    int last_status;
    int64_t first_attempt_ms, last_attempt_ms; /* wall clock */
    int64_t started_us;
    int64_t dlq_due_ms; /* retry of a failed dead-letter write */
    const char *reason; /* dead-letter reason class */
    char error[256];
    char dlq_error[160];       /* last dead-letter write failure (kept apart from the cause) */
    char *own_id;              /* webhook-id from the connector's own id_pointer, or NULL */
    wb_buf own_payload;        /* envelope of a connector pinned to a contract (else empty) */
    struct delivery *dlq_next; /* ack queue / retry list link */
    wb_err dlq_err;
} delivery;

typedef struct record {
    struct record *prev, *next; /* in part_st.records */
    struct wb_outbound *o;
    part_st *ps;
    rd_kafka_message_t *rkm;
    int64_t offset;
    int64_t ts_ms; /* record timestamp (append/create), wall clock */
    int pending;   /* deliveries not terminal */
    int ndeliveries;
    wb_buf payload; /* the envelope sent to every connector */
    char type[128];
    char id[160];
    char traceparent[128];
    delivery d[]; /* ndeliveries */
} record;

struct wb_outbound {
    const wb_config *cfg;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int wake_pipe[2]; /* the consumer queue's io event: watched by lp */
    wb_producer *prod;
    wb_loop *lp; /* epoll: the queue's pipe and libcurl's sockets and timer */
    wb_http *http;
    wb_sched *sched;
    conn_rt **conns; /* current connectors (routing) */
    size_t nconns;
    conn_rt **retired; /* replaced by a reload; in-flight deliveries may still use them */
    size_t nretired;
    void (*on_turn)(void *ctx);
    void *on_turn_ctx;
    part_st *parts;   /* active (not fenced) partitions */
    part_st *fenced;  /* fenced, waiting for in-flight completions */
    part_st *last_ps; /* lookup cache */
    int stopping;
    int fatal;
    int window, low_water;
    size_t backlog_target; /* consume only while fewer jobs than this wait to start */
    conn_rt **match;       /* scratch: connectors matching the record being routed */
    /* JSON pointers read from every record, resolved by one scan of the value:
     * [0] outbound.event_type_pointer, [1] outbound.id_pointer, then connectors' own. */
    wb_jscan_target targets[WB_JSCAN_MAX_TOKENS];
    size_t ntargets;
    wb_schemas *schemas; /* Avro: writer schemas (registry / local dir), or NULL */
    wb_buf avro_json;    /* scratch: a framed value decoded to JSON */
    int decode_waits;    /* partitions paused for the registry */
    /* dead-letter acks from the producer thread */
    pthread_mutex_t lock;
    delivery *acks;
    delivery *dlq_retry; /* failed dead-letter writes waiting for DLQ_RETRY_MS */
    wb_delivery_observer observer;
    void *observer_ctx;
    wb_buf scratch; /* per-attempt header text (the client copies it at submit) */
    wb_heartbeat *heartbeat;
    wb_counter *m_consumed, *m_unrouted, *m_poison;
    wb_gauge *m_paused, *m_records;
    int64_t next_gauges_ms;
    /* stats (written by the outbound thread, read anywhere) */
    _Atomic uint64_t consumed, delivered, retried, dead_lettered, unrouted, failed_attempts;
    atomic_int in_flight, assigned, paused;
};

static void record_delivery_done(wb_outbound *o, delivery *d);
static void dlq_send(wb_outbound *o, delivery *d);

/* ------------------------------------------------------------------------------------ */
/* Partitions                                                                           */

static part_st *part_find(wb_outbound *o, rd_kafka_topic_t *rkt, const char *topic,
                          int32_t partition)
{
    part_st *ps = o->last_ps;
    if (ps && rkt && ps->rkt == rkt && ps->partition == partition)
        return ps; /* fast path: consecutive records of one partition */
    const char *name = rkt ? rd_kafka_topic_name(rkt) : topic;
    for (ps = o->parts; ps; ps = ps->next)
        if (ps->partition == partition && !strcmp(ps->topic, name)) break;
    if (ps) {
        if (rkt) ps->rkt = rkt;
        o->last_ps = ps;
    }
    return ps;
}

static void part_free(part_st *ps)
{
    wb_offsets_free(&ps->win);
    free(ps->topic);
    free(ps);
}

/* Pause or resume one partition (fetching only; in-flight work continues). */
static void part_pause(wb_outbound *o, part_st *ps, int pause)
{
    if (ps->paused == pause) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, ps->topic, ps->partition);
    rd_kafka_resp_err_t err =
        pause ? rd_kafka_pause_partitions(o->rk, l) : rd_kafka_resume_partitions(o->rk, l);
    if (!err) err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        WB_WARN("cannot %s %s[%d]: %s", pause ? "pause" : "resume", ps->topic, ps->partition,
                rd_kafka_err2str(err));
        return;
    }
    ps->paused = pause;
    atomic_fetch_add(&o->paused, pause ? 1 : -1);
    WB_DEBUG("%s %s[%d] (%zu in flight)", pause ? "paused" : "resumed", ps->topic, ps->partition,
             wb_offsets_in_flight(&ps->win));
}

/* Hand every advanced terminal prefix to librdkafka (committed by auto-commit). */
static void store_offsets(wb_outbound *o, part_st *only)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    for (part_st *ps = o->parts; ps; ps = ps->next) {
        if ((only && ps != only) || !ps->dirty || ps->fenced) continue;
        ps->dirty = 0;
        if (ps->win.next_commit <= ps->stored) continue;
        if (!l) l = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(l, ps->topic, ps->partition)->offset =
            ps->win.next_commit;
        ps->stored = ps->win.next_commit;
        wb_gauge_set(ps->m_stored, (double)ps->stored);
    }
    if (!l) return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(o->rk, l);
    if (err) WB_WARN("offsets_store: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* ------------------------------------------------------------------------------------ */
/* Records                                                                              */

/* Release a record's memory and its Kafka message (no bookkeeping). */
static void record_destroy(record *r)
{
    for (int i = 0; i < r->ndeliveries; i++) {
        wb_buf_free(&r->d[i].own_payload);
        free(r->d[i].own_id);
    }
    wb_buf_free(&r->payload);
    rd_kafka_message_destroy(r->rkm);
    free(r);
}

/* Unlink a record from its partition and free it; retire the partition when it was the
 * last record of a fenced one. */
static void record_free(wb_outbound *o, record *r)
{
    part_st *ps = r->ps;
    if (r->prev)
        r->prev->next = r->next;
    else
        ps->records = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        ps->oldest = r->prev;
    record_destroy(r);
    atomic_fetch_sub(&o->in_flight, 1);
    if (--ps->refs == 0 && ps->fenced) {
        part_st **pp = &o->fenced;
        while (*pp && *pp != ps)
            pp = &(*pp)->next;
        if (*pp) *pp = ps->next;
        part_free(ps);
    }
}

/* A record whose deliveries are all terminal: advance the window, maybe resume, free. */
static void record_terminal(wb_outbound *o, record *r)
{
    part_st *ps = r->ps;
    if (!ps->fenced) {
        if (wb_offsets_done(&ps->win, r->offset)) ps->dirty = 1;
        if (ps->paused && !o->stopping && !ps->decode_wait_until &&
            wb_offsets_in_flight(&ps->win) <= (size_t)o->low_water)
            part_pause(o, ps, 0);
    }
    record_free(o, r);
}

static void record_delivery_done(wb_outbound *o, delivery *d)
{
    record *r = d->rec;
    if (d->done) return;
    d->done = 1;
    if (--r->pending == 0) record_terminal(o, r);
}

/* ------------------------------------------------------------------------------------ */
/* Observers and logging                                                                */

static void notify(wb_outbound *o, delivery *d, const char *outcome, int64_t latency_us)
{
    record *r = d->rec;
    if (!o->observer && !wb_log_enabled(WB_LOG_DEBUG)) return;
    wb_delivery_event ev = {
        .connector = d->conn ? d->conn->cc->name : "-",
        .type = r->type,
        .webhook_id = r->id,
        .partition = r->ps->partition,
        .offset = r->offset,
        .status = d->last_status,
        .attempt = d->attempts,
        .latency_us = latency_us,
        .age_ms = wb_wall_ms() - r->ts_ms,
        .outcome = outcome,
        .error = d->error,
    };
    if (o->observer)
        o->observer(o->observer_ctx, &ev);
    else
        WB_DEBUG("%s %s %s -> %s status=%d attempt=%d", outcome, r->type, r->id, ev.connector,
                 ev.status, ev.attempt);
}

/* ------------------------------------------------------------------------------------ */
/* Dead-letter topic                                                                    */

/* Producer thread: queue the ack for the outbound thread and wake it. */
static void dlq_cb(void *opaque, wb_err err, const char *errmsg, int32_t partition, int64_t offset)
{
    delivery *d = opaque;
    wb_outbound *o = d->rec->o;
    d->dlq_err = err;
    if (err) snprintf(d->dlq_error, sizeof(d->dlq_error), "dead-letter write failed: %s", errmsg);
    pthread_mutex_lock(&o->lock);
    d->dlq_next = o->acks;
    o->acks = d;
    pthread_mutex_unlock(&o->lock);
    wb_loop_wakeup(o->lp);
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_header(rd_kafka_headers_t *h, const char *name, const char *fmt, ...)
{
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    rd_kafka_header_add(h, name, -1, v, n < (int)sizeof(v) ? n : (int)sizeof(v) - 1);
}

/* Produce the original record plus error headers to the dead-letter topic. The delivery is
 * terminal only when the write is acked (dlq_cb -> process_acks). */
static void dlq_send(wb_outbound *o, delivery *d)
{
    record *r = d->rec;
    rd_kafka_message_t *rkm = r->rkm;
    rd_kafka_headers_t *orig = NULL, *h;
    if (!rd_kafka_message_headers(rkm, &orig) && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(12);
    char t1[40], t2[40];
    wb_rfc3339_ms(d->first_attempt_ms ? d->first_attempt_ms : wb_wall_ms(), t1, sizeof(t1));
    wb_rfc3339_ms(d->last_attempt_ms ? d->last_attempt_ms : wb_wall_ms(), t2, sizeof(t2));
    add_header(h, "wb-error-reason", "%s: %s", d->reason ? d->reason : "error", d->error);
    add_header(h, "wb-error-status", "%d", d->last_status);
    add_header(h, "wb-error-attempts", "%d", d->attempts);
    add_header(h, "wb-connector", "%s", d->conn ? d->conn->cc->name : "");
    add_header(h, "wb-source-topic", "%s", r->ps->topic);
    add_header(h, "wb-source-partition", "%" PRId32, r->ps->partition);
    add_header(h, "wb-source-offset", "%" PRId64, r->offset);
    add_header(h, "wb-first-attempt", "%s", t1);
    add_header(h, "wb-last-attempt", "%s", t2);
    add_header(h, "wb-webhook-id", "%s", d->own_id ? d->own_id : r->id);
    add_header(h, "wb-event-type", "%s", r->type);

    wb_err err = wb_producer_send(o->prod, o->cfg->outbound.dead_letter_topic, -1, rkm->key,
                                  rkm->key_len, rkm->payload, rkm->len, h, dlq_cb, d);
    if (err) {
        rd_kafka_headers_destroy(h);
        WB_WARN("dead-letter write of %s[%d]@%" PRId64 " not queued (%s); retrying", r->ps->topic,
                r->ps->partition, r->offset, wb_err_str(err));
        d->dlq_due_ms = wb_now_ms() + DLQ_RETRY_MS;
        d->dlq_next = o->dlq_retry;
        o->dlq_retry = d;
        return;
    }
    d->in_dlq = 1;
}

/* Outbound thread: finish acked dead-letter writes, re-send failed ones later. */
static void process_acks(wb_outbound *o, int64_t now)
{
    pthread_mutex_lock(&o->lock);
    delivery *list = o->acks;
    o->acks = NULL;
    pthread_mutex_unlock(&o->lock);
    while (list) {
        delivery *d = list;
        list = d->dlq_next;
        d->in_dlq = 0;
        if (d->rec->ps->fenced) {
            record_delivery_done(o, d);
            continue;
        }
        if (d->dlq_err) {
            WB_WARN("%s; retrying in %d ms", d->dlq_error, DLQ_RETRY_MS);
            d->dlq_due_ms = now + DLQ_RETRY_MS;
            d->dlq_next = o->dlq_retry;
            o->dlq_retry = d;
            continue;
        }
        atomic_fetch_add(&o->dead_lettered, 1);
        if (d->conn) {
            d->conn->dead_lettered++;
            wb_counter_inc(d->conn->m_dead_lettered);
        } else {
            wb_counter_inc(o->m_poison);
        }
        WB_WARN("dead-lettered %s %s (%s[%d]@%" PRId64 ") for %s: %s: %s", d->rec->type, d->rec->id,
                d->rec->ps->topic, d->rec->ps->partition, d->rec->offset,
                d->conn ? d->conn->cc->name : "-", d->reason, d->error);
        notify(o, d, "dead-lettered", 0);
        record_delivery_done(o, d);
    }
    /* due retries of failed writes */
    delivery **pp = &o->dlq_retry;
    while (*pp) {
        delivery *d = *pp;
        if (d->rec->ps->fenced) {
            *pp = d->dlq_next;
            record_delivery_done(o, d);
        } else if (d->dlq_due_ms <= now) {
            *pp = d->dlq_next;
            dlq_send(o, d);
        } else {
            pp = &d->dlq_next;
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* HTTP attempts                                                                        */

static void on_http_done(void *opaque, const wb_http_result *res);

/* Decimal text of v >= 0 (no printf on the per-attempt path). out holds 21 bytes. */
static const char *u64_text(uint64_t v, char out[21])
{
    char *p = out + 20;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

/* The per-attempt headers (webhook-id, webhook-timestamp, signatures, traceparent) as typed
 * pairs in hdrs[MAX_HDRS]; their text lives in o->scratch and ts until the submit copies them.
 * The record's id and traceparent were checked with wb_http_header_ok when it was consumed
 * (choose_id, choose_traceparent): nothing here can carry a control character. Returns the
 * count, or -1 with *errp. */
static int build_headers(wb_outbound *o, delivery *d, int64_t now_s, wb_http_header *hdrs,
                         char ts[21], wb_err *errp)
{
    record *r = d->rec;
    const char *id = d->own_id ? d->own_id : r->id;
    const wb_buf *body = d->own_payload.len ? &d->own_payload : &r->payload;
    size_t n = 0, ns = 0;
    wb_buf_reset(&o->scratch);
    hdrs[n++] = (wb_http_header){"webhook-id", id};
    hdrs[n++] = (wb_http_header){"webhook-timestamp", u64_text((uint64_t)now_s, ts)};
    if (d->conn->signer) {
        wb_err err = wb_signer_sign_headers(d->conn->signer, id, now_s, body->data, body->len,
                                            hdrs + n, MAX_HDRS - n - 1, &ns, &o->scratch);
        if (err) {
            *errp = err;
            return -1;
        }
        n += ns;
    }
    if (r->traceparent[0]) hdrs[n++] = (wb_http_header){"traceparent", r->traceparent};
    return (int)n;
}

static void handle_result(wb_outbound *o, delivery *d, const wb_http_result *res,
                          int64_t latency_us);

static void start_attempt(wb_outbound *o, delivery *d, int64_t now)
{
    record *r = d->rec;
    conn_rt *c = d->conn;
    if (r->ps->fenced) {
        wb_sched_finish(o->sched, &d->job, -1, now);
        record_delivery_done(o, d);
        return;
    }
    if (r->ps->revoking) {
        /* The partition is leaving: start nothing new; the fence cancels this job. */
        wb_sched_defer(o->sched, &d->job, now + 1000, now);
        return;
    }
    d->attempts++;
    d->last_attempt_ms = wb_wall_ms();
    if (!d->first_attempt_ms) d->first_attempt_ms = d->last_attempt_ms;
    wb_http_header hdrs[MAX_HDRS];
    char ts[21];
    wb_err err = WB_OK;
    int nh = build_headers(o, d, d->last_attempt_ms / 1000, hdrs, ts, &err);
    if (nh >= 0) {
        const wb_buf *body = d->own_payload.len ? &d->own_payload : &r->payload;
        d->started_us = wb_now_us();
        wb_counter_inc(c->m_attempts);
        err = wb_http_submit(o->http, c->target, hdrs, (size_t)nh, body->data, body->len,
                             on_http_done, d, NULL);
    }
    if (err) {
        /* Could not even start. A request we cannot build never will be: permanent.
         * Anything else (memory) counts as a failed attempt like a connection error. */
        wb_http_result res;
        memset(&res, 0, sizeof(res));
        res.retry_after_ms = -1;
        res.cls =
            err == WB_ERR_INVALID || err == WB_ERR_TOO_LARGE ? WB_HTTP_PERMANENT : WB_HTTP_RETRY;
        snprintf(res.error, sizeof(res.error), "cannot start request: %s", wb_err_str(err));
        handle_result(o, d, &res, 0);
        return;
    }
    d->in_http = 1;
}

/* Delay before the next attempt after `attempts` failed ones, with +-20% jitter. */
static int64_t backoff_ms(const wb_connector *cc, int attempts)
{
    if (cc->nretry == 0) return 1000;
    size_t i = (size_t)(attempts - 1);
    if (i >= cc->nretry) i = cc->nretry - 1;
    int64_t base = cc->retry_schedule_ms[i];
    if (base <= 0) return 0;
    int64_t span = base / 5;
    return base - span + (span > 0 ? (int64_t)(random() % (2 * span + 1)) : 0);
}

/* Completion of one attempt (outbound thread, from a loop callback). */
static void on_http_done(void *opaque, const wb_http_result *res)
{
    delivery *d = opaque;
    d->in_http = 0;
    handle_result(d->rec->o, d, res, wb_now_us() - d->started_us);
}

/* Decide what an attempt's outcome means: done, retry later, or dead-letter. */
static void handle_result(wb_outbound *o, delivery *d, const wb_http_result *res,
                          int64_t latency_us)
{
    record *r = d->rec;
    conn_rt *c = d->conn;
    int64_t now = wb_now_ms();
    d->last_status = res->status;
    snprintf(d->error, sizeof(d->error), "%s", res->error);

    if (r->ps->fenced) { /* partition revoked meanwhile: the new owner redelivers */
        wb_sched_finish(o->sched, &d->job, -1, now);
        record_delivery_done(o, d);
        return;
    }
    switch (res->cls) {
    case WB_HTTP_DONE:
        wb_sched_finish(o->sched, &d->job, 1, now);
        atomic_fetch_add(&o->delivered, 1);
        c->delivered++;
        wb_counter_inc(c->m_delivered);
        wb_histogram_observe(c->m_latency, (double)(wb_wall_ms() - r->ts_ms) / 1000.0);
        d->error[0] = 0;
        notify(o, d, "delivered", latency_us);
        record_delivery_done(o, d);
        return;
    case WB_HTTP_RETRY: {
        atomic_fetch_add(&o->failed_attempts, 1);
        int exhausted = (size_t)d->attempts > c->cc->nretry;
        if (exhausted && c->cc->on_exhausted == WB_EXHAUST_DEAD_LETTER) {
            wb_sched_finish(o->sched, &d->job, 0, now);
            d->reason = "exhausted";
            WB_WARN("%s %s -> %s: attempt %d failed (%s); retries exhausted", r->type, r->id,
                    c->cc->name, d->attempts, d->error);
            notify(o, d, "exhausted", latency_us);
            dlq_send(o, d);
            return;
        }
        int64_t delay = backoff_ms(c->cc, d->attempts);
        if (res->retry_after_ms >= 0) {
            int64_t ra = res->retry_after_ms;
            if (ra > c->cc->retry_after_cap_ms) ra = c->cc->retry_after_cap_ms;
            if (ra > delay) delay = ra;
        }
        atomic_fetch_add(&o->retried, 1);
        wb_counter_inc(c->m_retried);
        WB_WARN("%s %s -> %s: attempt %d failed (%s); retry in %" PRId64 " ms", r->type, r->id,
                c->cc->name, d->attempts, d->error, delay);
        notify(o, d, "retry", latency_us);
        wb_sched_retry(o->sched, &d->job, 0, now + delay, now);
        return;
    }
    case WB_HTTP_GONE:
    case WB_HTTP_PERMANENT:
    default:
        atomic_fetch_add(&o->failed_attempts, 1);
        /* An answer is no reason to open the breaker; no answer (egress denied, a request
         * that cannot be built) says nothing about the endpoint either way. */
        wb_sched_finish(o->sched, &d->job, res->status > 0 ? 1 : -1, now);
        d->reason = res->cls == WB_HTTP_GONE ? "gone" : "rejected";
        wb_counter_inc(c->m_rejected);
        if (res->cls == WB_HTTP_GONE)
            WB_ERROR("%s -> %s: endpoint gone (HTTP 410): check the connector's url", r->id,
                     c->cc->name);
        else
            WB_WARN("%s %s -> %s: permanent failure (%s)", r->type, r->id, c->cc->name, d->error);
        notify(o, d, "rejected", latency_us);
        dlq_send(o, d);
        return;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Consuming                                                                            */

static size_t lane_key(const wb_connector *cc, const record *r, char *buf, size_t size)
{
    const rd_kafka_message_t *rkm = r->rkm;
    size_t tl = strlen(r->ps->topic);
    if (cc->ordering == WB_ORDER_NONE) return 0;
    if (cc->ordering == WB_ORDER_KEY && (!rkm->key || rkm->key_len == 0))
        return 0; /* records without a key are not ordered relative to each other */
    if (tl + 5 > size) tl = size - 5;
    memcpy(buf, r->ps->topic, tl);
    buf[tl] = 0;
    memcpy(buf + tl + 1, &r->ps->partition, 4);
    size_t n = tl + 5;
    if (cc->ordering == WB_ORDER_KEY) {
        size_t kl = rkm->key_len;
        if (n + kl > size) { /* very long keys: their digest orders just as well */
            unsigned char md[32];
            SHA256(rkm->key, kl, md);
            memcpy(buf + n, md, 32);
            n += 32;
        } else {
            memcpy(buf + n, rkm->key, kl);
            n += kl;
        }
    }
    return n;
}

/* Park a record that cannot be processed (undecodable) on the dead-letter topic. */
static void poison(wb_outbound *o, record *r, const char *reason, const char *detail)
{
    delivery *d = &r->d[0];
    d->rec = r;
    d->reason = reason;
    snprintf(d->error, sizeof(d->error), "%s", detail);
    r->pending = 1;
    WB_WARN("poison record %s[%d]@%" PRId64 ": %s: %s", r->ps->topic, r->ps->partition, r->offset,
            reason, detail);
    dlq_send(o, d);
}

/* The string or integer found at target i by the last scan, or NULL. */
static const char *target_value(wb_outbound *o, size_t i)
{
    if (i >= o->ntargets) return NULL;
    const wb_jscan_target *t = &o->targets[i];
    return t->kind == WB_JSCAN_STRING || t->kind == WB_JSCAN_INTEGER ? t->value : NULL;
}

/* (Re)build the pointer list from cfg and the current connectors. Slots 0 and 1 are always
 * the type and id pointers (possibly NULL: they match nothing). */
static void build_targets(wb_outbound *o, const wb_config *cfg)
{
    memset(o->targets, 0, sizeof(o->targets));
    o->targets[0].pointer = cfg->outbound.event_type_pointer;
    o->targets[1].pointer = cfg->outbound.id_pointer;
    o->ntargets = 2;
    for (size_t i = 0; i < o->nconns; i++) {
        conn_rt *c = o->conns[i];
        const char *p = c->cc->id_pointer;
        c->id_target = -1;
        if (!p || (cfg->outbound.id_pointer && !strcmp(p, cfg->outbound.id_pointer))) continue;
        size_t k = 2;
        while (k < o->ntargets && strcmp(o->targets[k].pointer, p))
            k++;
        if (k == o->ntargets) {
            if (k == WB_JSCAN_MAX_TOKENS) {
                WB_WARN("connector %s: too many distinct id_pointers; using the bridge's",
                        c->cc->name);
                continue;
            }
            o->targets[o->ntargets++].pointer = p;
        }
        c->id_target = (int)k;
    }
}

/* Paused because the schema registry is unreachable: seek back to the record so that it
 * and everything after it is fetched again, and retry after a while. Nothing is skipped. */
static void decode_wait(wb_outbound *o, part_st *ps, int64_t offset, const char *why)
{
    WB_WARN("%s[%d]@%" PRId64 ": %s; pausing the partition and retrying in 2 s", ps->topic,
            ps->partition, offset, why);
    part_pause(o, ps, 1);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, ps->topic, ps->partition)->offset = offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(o->rk, l, 0);
    if (e) {
        WB_ERROR("seek %s[%d]@%" PRId64 ": %s", ps->topic, ps->partition, offset,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
    ps->decode_wait_until = wb_now_ms() + 2000;
    o->decode_waits++;
}

/* Resume partitions whose registry back-off has passed. */
static void decode_resume(wb_outbound *o, int64_t now)
{
    if (!o->decode_waits) return;
    for (part_st *ps = o->parts; ps; ps = ps->next) {
        if (!ps->decode_wait_until || now < ps->decode_wait_until) continue;
        ps->decode_wait_until = 0;
        o->decode_waits--;
        if (!o->stopping && wb_offsets_in_flight(&ps->win) < (size_t)o->window)
            part_pause(o, ps, 0);
    }
}

/* Build a delivery's own envelope from the record resolved to its connector's pinned
 * contract. Returns 0, or -1 after handing the delivery to the dead-letter topic. */
static int pin_contract(wb_outbound *o, record *r, delivery *d)
{
    char reason[256] = "";
    wb_buf json;
    wb_buf_init(&json, 0);
    wb_err e = wb_schemas_to_json(o->schemas, r->rkm->payload, r->rkm->len, d->conn->cc->contract,
                                  &json, reason, sizeof(reason));
    if (!e) e = wb_envelope_build(&d->own_payload, r->type, r->ts_ms, json.data, json.len);
    wb_buf_free(&json);
    if (!e) return 0;
    d->reason = "schema";
    snprintf(d->error, sizeof(d->error), "contract %s: %s", d->conn->cc->contract,
             reason[0] ? reason : wb_err_str(e));
    WB_WARN("%s %s -> %s: %s", r->type, r->id, d->conn->cc->name, d->error);
    dlq_send(o, d);
    return -1;
}

/* webhook-id of a record: ce_id, the id pointer's value, else the derived wb_ id; a value
 * that cannot be a header value (a control character: a JSON "\n" escape, a crafted ce_id)
 * falls back to the derived id, which is just as stable across retries and replays. */
static void choose_id(const rd_kafka_message_t *rkm, const char *from_body, char *out,
                      size_t out_size)
{
    wb_webhook_id(rkm, from_body, out, out_size);
    if (!wb_http_header_ok("webhook-id", out)) {
        WB_DEBUG("%s[%d]@%" PRId64 ": record id unusable as a header value; using the derived id",
                 rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
        wb_webhook_id_derived(rkm, out, out_size);
    }
}

/* The record's traceparent header, or "" when absent; one that cannot be a header value is
 * replaced by a fresh one (new trace id, new parent id, sampled), as a tracer starting a
 * trace would. out holds at least 56 bytes. */
static void choose_traceparent(const rd_kafka_message_t *rkm, char *out, size_t out_size)
{
    if (!wb_record_header(rkm, "traceparent", out, out_size) || !out[0]) {
        out[0] = '\0';
        return;
    }
    if (wb_http_header_ok("traceparent", out)) return;
    unsigned char rnd[24];
    if (out_size < 56 || RAND_bytes(rnd, sizeof(rnd)) != 1) {
        out[0] = '\0'; /* no trace rather than a broken one */
        return;
    }
    memcpy(out, "00-", 3);
    wb_hex_encode(rnd, 16, out + 3);
    out[35] = '-';
    wb_hex_encode(rnd + 16, 8, out + 36);
    memcpy(out + 52, "-01", 4);
}

/* Route one record: decode, resolve type and id, build the envelope, submit deliveries.
 * Every record ends in exactly one of: deliveries submitted, dead-letter (undecodable),
 * terminal at once (no connector subscribes), or a fatal stop (out of memory; nothing is
 * stored past it, so it is redelivered after the restart). */
static void consume_one(wb_outbound *o, rd_kafka_message_t *rkm)
{
    part_st *ps = part_find(o, rkm->rkt, NULL, rkm->partition);
    if (!ps || ps->fenced) {
        rd_kafka_message_destroy(rkm);
        return;
    }
    if (ps->decode_wait_until) {
        /* Waiting for the schema registry: refetched from the seek position on resume. */
        rd_kafka_message_destroy(rkm);
        return;
    }

    /* Decode. Confluent-framed Avro becomes JSON first (writer schema by id). A value that
     * is neither is poison whatever its type: dead-letter topic, never skipped. */
    const char *val = rkm->payload;
    size_t vlen = rkm->len;
    int framed = vlen > 0 && wb_schemas_is_framed(val, vlen);
    char schema_reason[256] = "";
    int schema_bad = 0;
    if (framed) {
        wb_buf_reset(&o->avro_json);
        wb_err e = WB_ERR_SCHEMA;
        if (!o->schemas)
            snprintf(schema_reason, sizeof(schema_reason),
                     "Avro record but neither schema_registry.url nor a schemas folder is "
                     "configured");
        else
            e = wb_schemas_to_json(o->schemas, val, vlen, NULL, &o->avro_json, schema_reason,
                                   sizeof(schema_reason));
        if (e == WB_ERR_IO || e == WB_ERR_TIMEOUT) {
            decode_wait(o, ps, rkm->offset, schema_reason);
            rd_kafka_message_destroy(rkm);
            return;
        }
        if (e) {
            schema_bad = 1;
        } else {
            val = o->avro_json.data;
            vlen = o->avro_json.len;
        }
    }
    atomic_fetch_add(&o->consumed, 1);
    wb_counter_inc(o->m_consumed);
    wb_gauge_set(ps->m_consumed, (double)rkm->offset);

    /* One pass over the value: is it JSON, and what is at the configured pointers. */
    char jerr[96] = "";
    int jline = 0;
    int bad = 0;
    if (!schema_bad)
        bad = vlen == 0 ||
              wb_jscan(val, vlen, o->targets, o->ntargets, jerr, sizeof(jerr), &jline) != 0;
    if (vlen == 0) snprintf(jerr, sizeof(jerr), "empty value");

    char type[128];
    wb_event_type(rkm, bad || schema_bad ? NULL : target_value(o, 0), type, sizeof(type));
    conn_rt **match = o->match;
    int nmatch = 0;
    if (!bad) {
        for (size_t i = 0; i < o->nconns; i++) {
            const wb_connector *cc = o->conns[i]->cc;
            for (size_t k = 0; k < cc->nevents; k++) {
                if (wb_glob_match(cc->events[k], type)) {
                    match[nmatch++] = o->conns[i];
                    break;
                }
            }
        }
    }
    int n = nmatch > 0 ? nmatch : 1;
    record *r = calloc(1, sizeof(*r) + (size_t)n * sizeof(delivery));
    int64_t pushed = r ? wb_offsets_push(&ps->win, rkm->offset) : -2;
    if (pushed < 0) {
        free(r);
        if (pushed == -1) {
            /* Already tracked (a replay after a seek): the first copy decides. */
            WB_DEBUG("ignoring out-of-order %s[%d]@%" PRId64, ps->topic, ps->partition,
                     rkm->offset);
            rd_kafka_message_destroy(rkm);
            return;
        }
        /* Out of memory: stop rather than skip. Nothing past this offset is stored. */
        WB_ERROR("out of memory tracking %s[%d]@%" PRId64 ": stopping", ps->topic, ps->partition,
                 rkm->offset);
        rd_kafka_message_destroy(rkm);
        o->fatal = 1;
        return;
    }
    if (!ps->paused && wb_offsets_in_flight(&ps->win) >= (size_t)o->window) part_pause(o, ps, 1);

    r->o = o;
    r->ps = ps;
    r->rkm = rkm;
    r->offset = rkm->offset;
    r->ndeliveries = n;
    r->next = ps->records;
    if (ps->records)
        ps->records->prev = r;
    else
        ps->oldest = r;
    ps->records = r;
    ps->refs++;
    atomic_fetch_add(&o->in_flight, 1);
    snprintf(r->type, sizeof(r->type), "%s", type);
    wb_buf_init(&r->payload, 0);
    for (int i = 0; i < n; i++) {
        wb_buf_init(&r->d[i].own_payload, 0);
        r->d[i].rec = r;
    }
    rd_kafka_timestamp_type_t tstype;
    r->ts_ms = rd_kafka_message_timestamp(rkm, &tstype);
    if (r->ts_ms < 0) r->ts_ms = wb_wall_ms();
    choose_id(rkm, bad || schema_bad ? NULL : target_value(o, 1), r->id, sizeof(r->id));
    choose_traceparent(rkm, r->traceparent, sizeof(r->traceparent));

    if (schema_bad) {
        poison(o, r, "schema", schema_reason);
        return;
    }
    if (bad) {
        char detail[200];
        snprintf(detail, sizeof(detail), "value is not JSON: %s (line %d)", jerr, jline);
        poison(o, r, "decode", detail);
        return;
    }
    if (nmatch == 0) {
        /* No connector wants this type: terminal at once. */
        atomic_fetch_add(&o->unrouted, 1);
        wb_counter_inc(o->m_unrouted);
        r->pending = 0;
        record_terminal(o, r);
        return;
    }
    /* A connector with its own id_pointer gets its own webhook-id for this record. */
    for (int i = 0; i < n; i++) {
        if (match[i]->id_target >= 0) {
            char id[160];
            choose_id(rkm, target_value(o, (size_t)match[i]->id_target), id, sizeof(id));
            r->d[i].own_id = strdup(id);
        }
    }
    r->pending = n;
    if (wb_envelope_build(&r->payload, r->type, r->ts_ms, val, vlen)) {
        r->pending = 1;
        poison(o, r, "decode", "cannot build the envelope");
        return;
    }
    int64_t now = wb_now_ms();
    for (int i = 0; i < n; i++) {
        delivery *d = &r->d[i];
        d->conn = match[i];
        if (framed && d->conn->cc->contract && pin_contract(o, r, d))
            continue; /* cannot be resolved to the partner's contract: dead-lettered */
        char key[1024];
        size_t kl = lane_key(d->conn->cc, r, key, sizeof(key));
        if (wb_sched_submit(o->sched, d->conn->sc, &d->job, kl ? key : NULL, kl, now, now)) {
            /* Out of memory in the scheduler: this delivery cannot be tracked. Park it. */
            d->reason = "internal";
            snprintf(d->error, sizeof(d->error), "out of memory in the scheduler");
            dlq_send(o, d);
        }
    }
}

/* Take up to CONSUME_BATCH records. Returns the number taken (events and errors). */
static int consume(wb_outbound *o)
{
    int n = 0;
    if (!o->rk) return 0; /* no outbound topics: inbound-only bridge */
    /* Enough work is already waiting for a free connection: taking more now would only
     * delay the HTTP side (consuming is not free) without adding parallelism. librdkafka
     * keeps prefetching meanwhile, and consumer_poll still runs for rebalance callbacks. */
    size_t backlog = wb_sched_backlog(o->sched);
    int budget = CONSUME_BATCH;
    if (backlog >= o->backlog_target) budget = 1;
    while (n < budget) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(o->rk, 0);
        if (!rkm) break;
        n++;
        if (rkm->err) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                WB_WARN("consumer: %s", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        consume_one(o, rkm);
    }
    return n;
}

/* ------------------------------------------------------------------------------------ */
/* The loop                                                                             */

/* One turn without consuming: acks, dispatch, HTTP I/O (waiting up to max_wait_ms). */
/* Gauges that are cheaper to sample than to maintain: a few times a second. */
static void refresh_gauges(wb_outbound *o, int64_t now)
{
    if (now < o->next_gauges_ms) return;
    o->next_gauges_ms = now + 250;
    int64_t wall = wb_wall_ms();
    for (size_t i = 0; i < o->nconns; i++) {
        conn_rt *c = o->conns[i];
        wb_gauge_set(c->m_circuit, (double)wb_sched_conn_circuit(c->sc));
        wb_gauge_set(c->m_in_flight, (double)wb_sched_conn_queued(c->sc));
    }
    for (part_st *ps = o->parts; ps; ps = ps->next) {
        wb_gauge_set(ps->m_in_flight, (double)wb_offsets_in_flight(&ps->win));
        /* the oldest record is the tail of the list (records are pushed at the head) */
        record *r = ps->oldest;
        wb_gauge_set(ps->m_oldest_age, r ? (double)(wall - r->ts_ms) / 1000.0 : 0.0);
    }
    wb_gauge_set(o->m_paused, (double)atomic_load(&o->paused));
    wb_gauge_set(o->m_records, (double)atomic_load(&o->in_flight));
}

static void pump(wb_outbound *o, int max_wait_ms)
{
    int64_t now = wb_now_ms();
    wb_heartbeat_beat(o->heartbeat);
    refresh_gauges(o, now);
    if (o->on_turn) o->on_turn(o->on_turn_ctx);
    decode_resume(o, now);
    process_acks(o, now);
    wb_job *j;
    while ((j = wb_sched_next(o->sched, now)))
        start_attempt(o, (delivery *)j, now);
    store_offsets(o, NULL);

    int64_t wait = wb_sched_wait_ms(o->sched, now);
    if (wait < 0 || wait > max_wait_ms) wait = max_wait_ms;
    if (o->dlq_retry && wait > DLQ_RETRY_MS) wait = DLQ_RETRY_MS;
    if (wb_loop_run_once(o->lp, (int)wait) < 0) WB_ERROR("event loop: %s", strerror(errno));
    process_acks(o, wb_now_ms());
}

/* The consumer queue became non-empty: empty the pipe; consume() takes the records at the
 * top of the next iteration of wb_outbound_run. */
static void on_queue_fd(wb_loop *lp, int fd, unsigned events, void *arg)
{
    char drain[256];
    while (read(fd, drain, sizeof(drain)) > 0) {
    }
}

/* Records of ps not yet terminal (shutdown drain: everything is waited for). */
static size_t part_busy(part_st *ps)
{
    return wb_offsets_in_flight(&ps->win);
}

/* Deliveries of ps with an HTTP attempt or a dead-letter write running (revoke drain: work
 * waiting for a retry timer is not waited for; the new owner redelivers it). */
static size_t part_running(part_st *ps)
{
    size_t n = 0;
    for (record *r = ps->records; r; r = r->next)
        for (int i = 0; i < r->ndeliveries; i++)
            n += r->d[i].in_http || r->d[i].in_dlq;
    return n;
}

/* Fence ps: cancel its queued deliveries (running ones are dropped on completion), move it
 * to the fenced list. */
static void part_fence(wb_outbound *o, part_st *ps)
{
    int64_t now = wb_now_ms();
    part_st **pp = &o->parts;
    while (*pp && *pp != ps)
        pp = &(*pp)->next;
    if (*pp) *pp = ps->next;
    if (o->last_ps == ps) o->last_ps = NULL;
    if (ps->paused) atomic_fetch_sub(&o->paused, 1);
    if (ps->decode_wait_until) {
        ps->decode_wait_until = 0;
        o->decode_waits--;
    }
    ps->fenced = 1;
    ps->next = o->fenced;
    o->fenced = ps;
    atomic_fetch_sub(&o->assigned, 1);
    ps->refs++; /* keep ps alive while its records are dropped below */
    record *r = ps->records;
    while (r) {
        record *next = r->next;
        int remaining = r->pending;
        for (int i = 0; i < r->ndeliveries && remaining > 0; i++) {
            delivery *d = &r->d[i];
            if (d->done || d->in_http || d->in_dlq || !d->conn) continue;
            if (d->job.state == WB_JOB_IDLE) /* waiting in the dead-letter retry list */
                continue;
            wb_sched_cancel(o->sched, &d->job, now);
            remaining--;
            record_delivery_done(o, d); /* may free r (and ps once empty) */
            if (remaining == 0) break;
        }
        r = next;
    }
    if (--ps->refs == 0) {
        pp = &o->fenced;
        while (*pp && *pp != ps)
            pp = &(*pp)->next;
        if (*pp) *pp = ps->next;
        part_free(ps);
    }
}

/* Wait (bounded) until the listed partitions have nothing in flight, then store and commit
 * their terminal prefixes synchronously. */
static void drain_partitions(wb_outbound *o, rd_kafka_topic_partition_list_t *parts,
                             int64_t timeout_ms)
{
    int64_t deadline = wb_now_ms() + timeout_ms;
    for (int i = 0; i < parts->cnt; i++) {
        part_st *ps = part_find(o, NULL, parts->elems[i].topic, parts->elems[i].partition);
        if (ps) ps->revoking = 1;
    }
    for (;;) {
        size_t busy = 0;
        for (int i = 0; i < parts->cnt; i++) {
            part_st *ps = part_find(o, NULL, parts->elems[i].topic, parts->elems[i].partition);
            if (ps) busy += part_running(ps);
        }
        if (busy == 0 || wb_now_ms() >= deadline) {
            if (busy)
                WB_WARN("rebalance: %zu deliveries still running after %" PRId64
                        " ms; their records will be redelivered by the new owner",
                        busy, timeout_ms);
            break;
        }
        pump(o, 50);
    }
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        part_st *ps = part_find(o, NULL, parts->elems[i].topic, parts->elems[i].partition);
        if (ps && ps->win.next_commit > 0) {
            rd_kafka_topic_partition_list_add(commit, ps->topic, ps->partition)->offset =
                ps->win.next_commit;
            ps->stored = ps->win.next_commit;
            ps->dirty = 0;
        }
    }
    if (commit->cnt > 0) {
        rd_kafka_offsets_store(o->rk, commit);
        rd_kafka_resp_err_t err = rd_kafka_commit(o->rk, commit, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            WB_WARN("commit on revoke: %s", rd_kafka_err2str(err));
    }
    rd_kafka_topic_partition_list_destroy(commit);
}

/* Per-partition series (bounded by the partition count; re-registering returns the same). */
static void part_metrics(part_st *ps)
{
    char labels[512];
    wb_buf esc;
    wb_buf_init(&esc, 400);
    wb_metrics_escape_label(&esc, ps->topic);
    snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", esc.data ? esc.data : "",
             ps->partition);
    wb_buf_free(&esc);
    ps->m_consumed = wb_metrics_gauge("webhook_bridge_partition_consumed_offset",
                                      "Offset of the last record consumed", labels);
    ps->m_stored = wb_metrics_gauge("webhook_bridge_partition_stored_offset",
                                    "Next offset stored for commit (terminal prefix)", labels);
    ps->m_committed = wb_metrics_gauge("webhook_bridge_partition_committed_offset",
                                       "Next offset committed to the group coordinator", labels);
    ps->m_oldest_age = wb_metrics_gauge("webhook_bridge_partition_oldest_in_flight_seconds",
                                        "Age of the oldest record not yet terminal", labels);
    ps->m_in_flight = wb_metrics_gauge("webhook_bridge_partition_in_flight_records",
                                       "Records in the partition window", labels);
}

/* Commit results from librdkafka (outbound thread, inside consumer_poll/commit). */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    wb_outbound *o = opaque;
    if (err) {
        if (err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            WB_WARN("offset commit failed: %s", rd_kafka_err2str(err));
        return;
    }
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        if (offsets->elems[i].err || offsets->elems[i].offset < 0) continue;
        part_st *ps = part_find(o, NULL, offsets->elems[i].topic, offsets->elems[i].partition);
        if (ps) wb_gauge_set(ps->m_committed, (double)offsets->elems[i].offset);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    wb_outbound *o = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            if (part_find(o, NULL, parts->elems[i].topic, parts->elems[i].partition)) continue;
            part_st *ps = calloc(1, sizeof(*ps));
            if (!ps || !(ps->topic = strdup(parts->elems[i].topic))) {
                free(ps);
                WB_ERROR("out of memory on assignment");
                o->fatal = 1;
                continue;
            }
            ps->partition = parts->elems[i].partition;
            ps->stored = -1;
            part_metrics(ps);
            wb_offsets_init(&ps->win);
            ps->next = o->parts;
            o->parts = ps;
            atomic_fetch_add(&o->assigned, 1);
        }
        WB_INFO("assigned %d partition(s) (%s)", parts->cnt, rd_kafka_rebalance_protocol(rk));
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e) {
            WB_ERROR("incremental_assign: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (o->stopping) { /* assigned while shutting down: fetch nothing */
            for (part_st *ps = o->parts; ps; ps = ps->next)
                part_pause(o, ps, 1);
        } else {
            /* A pause set by us before an earlier revoke stays on librdkafka's partition
             * object across unassign/assign: clear it for what we now own. */
            rd_kafka_resume_partitions(rk, parts);
        }
        return;
    }
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Unknown state: fence everything (store nothing more), then unassign. */
        WB_ERROR("rebalance error: %s", rd_kafka_err2str(err));
        while (o->parts)
            part_fence(o, o->parts);
        if (cooperative && rd_kafka_assignment(rk, &parts) == 0) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e) rd_kafka_error_destroy(e);
            rd_kafka_topic_partition_list_destroy(parts);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        return;
    }
    int lost = rd_kafka_assignment_lost(rk);
    WB_INFO("%s %d partition(s)", lost ? "lost" : "revoking", parts->cnt);
    if (!lost) {
        /* During shutdown the drain already happened; consumer_close must not wait twice. */
        int64_t t = o->stopping ? 0 : o->cfg->outbound.drain_timeout_ms;
        drain_partitions(o, parts, t);
    }
    for (int i = 0; i < parts->cnt; i++) {
        part_st *ps = part_find(o, NULL, parts->elems[i].topic, parts->elems[i].partition);
        if (ps) part_fence(o, ps);
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) {
            WB_ERROR("incremental_unassign: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void on_consumer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        WB_WARN("consumer: all brokers down: %s", reason);
    else
        WB_WARN("consumer: %s: %s", rd_kafka_err2name(err), reason);
}

int wb_outbound_run(wb_outbound *o, volatile sig_atomic_t *stop)
{
    while (!*stop && !o->fatal) {
        int n = consume(o);
        pump(o, n >= CONSUME_BATCH || (n > 0 && wb_sched_backlog(o->sched) < o->backlog_target)
                    ? 0
                    : 100);
    }
    /* Shutdown: stop fetching, drain within drain_timeout, store, commit, close. */
    o->stopping = 1;
    if (!o->rk) return 0;
    for (part_st *ps = o->parts; ps; ps = ps->next)
        part_pause(o, ps, 1);
    int64_t deadline = wb_now_ms() + o->cfg->outbound.drain_timeout_ms;
    size_t busy = 0;
    WB_INFO("draining %d in-flight record(s) (up to %" PRId64 " ms)", atomic_load(&o->in_flight),
            o->cfg->outbound.drain_timeout_ms);
    for (;;) {
        busy = 0;
        for (part_st *ps = o->parts; ps; ps = ps->next)
            busy += part_busy(ps);
        if (busy == 0 || wb_now_ms() >= deadline) break;
        pump(o, 50);
    }
    store_offsets(o, NULL);
    rd_kafka_resp_err_t err = rd_kafka_commit(o->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        WB_WARN("final commit: %s", rd_kafka_err2str(err));
    rd_kafka_consumer_close(o->rk);
    if (busy)
        WB_WARN("drain timed out with %zu record(s) in flight: they will be redelivered", busy);
    else
        WB_INFO("drained; offsets committed");
    return o->fatal ? -1 : busy ? 1 : 0;
}

/* ------------------------------------------------------------------------------------ */
/* Construction                                                                         */

void wb_outbound_set_heartbeat(wb_outbound *o, struct wb_heartbeat *hb)
{
    o->heartbeat = hb;
}

void wb_outbound_observe(wb_outbound *o, wb_delivery_observer fn, void *ctx)
{
    o->observer = fn;
    o->observer_ctx = ctx;
}

void wb_outbound_get_stats(wb_outbound *o, wb_outbound_stats *st)
{
    st->consumed = atomic_load(&o->consumed);
    st->delivered = atomic_load(&o->delivered);
    st->retried = atomic_load(&o->retried);
    st->dead_lettered = atomic_load(&o->dead_lettered);
    st->unrouted = atomic_load(&o->unrouted);
    st->failed_attempts = atomic_load(&o->failed_attempts);
    st->in_flight_records = atomic_load(&o->in_flight);
    st->assigned_partitions = atomic_load(&o->assigned);
    st->paused_partitions = atomic_load(&o->paused);
}

int wb_outbound_ready(wb_outbound *o)
{
    return atomic_load(&o->assigned) > 0;
}

static void conn_metrics(conn_rt *c)
{
    static const char *const name = "webhook_bridge_deliveries_total";
    static const char *const help = "Outbound delivery outcomes by connector";
    char l[300];
#define L(outcome)                                                                                 \
    (snprintf(l, sizeof(l), "connector=\"%s\",outcome=\"" outcome "\"", c->cc->name), l)
    c->m_delivered = wb_metrics_counter(name, help, L("delivered"));
    c->m_retried = wb_metrics_counter(name, help, L("retried"));
    c->m_dead_lettered = wb_metrics_counter(name, help, L("dead_lettered"));
    c->m_rejected = wb_metrics_counter(name, help, L("permanent"));
#undef L
    snprintf(l, sizeof(l), "connector=\"%s\"", c->cc->name);
    c->m_attempts = wb_metrics_counter("webhook_bridge_delivery_attempts_total",
                                       "HTTP attempts started by connector", l);
    c->m_in_flight = wb_metrics_gauge("webhook_bridge_connector_in_flight_deliveries",
                                      "Deliveries not yet terminal by connector", l);
    c->m_circuit = wb_metrics_gauge("webhook_bridge_circuit_state",
                                    "Circuit breaker: 0 closed, 1 open, 2 half-open", l);
    c->m_latency = wb_metrics_histogram("webhook_bridge_delivery_latency_seconds",
                                        "Record append to 2xx, by connector", l, NULL, 0);
}

/* Each of `workers` engines gets its share of a connector's concurrency and rate. */
static int share_conc(const wb_config *cfg, int conc)
{
    int w = cfg->outbound.workers > 1 ? cfg->outbound.workers : 1;
    conc = conc > 0 ? conc : 1;
    return conc / w > 0 ? conc / w : 1;
}

static double share_rate(const wb_config *cfg, double rate)
{
    int w = cfg->outbound.workers > 1 ? cfg->outbound.workers : 1;
    return rate / w;
}

static void conn_free(conn_rt *c)
{
    if (!c) return;
    wb_signer_free(c->signer);
    wb_http_target_release(c->target);
    wb_egress_policy_free(c->policy);
    free(c);
}

/* Runtime state for one outbound connector, except its scheduler slot and metrics. */
static conn_rt *conn_build(const wb_config *cfg, wb_http *http, const wb_connector *cc,
                           char *errstr, size_t errstr_size)
{
    conn_rt *c = calloc(1, sizeof(*c));
    char serr[256];
    if (!c) goto oom;
    c->cc = cc;
    c->signer = wb_signer_new(&cc->signing, serr, sizeof(serr));
    if (!c->signer) {
        snprintf(errstr, errstr_size, "%s:%d: signing: %s", cc->file ? cc->file : cc->name,
                 cc->line, serr);
        goto fail;
    }
    if (cc->nallow_cidrs > 0) {
        c->policy = wb_egress_policy_new(cc->allow_cidrs, cc->nallow_cidrs, serr, sizeof(serr));
        if (!c->policy) {
            snprintf(errstr, errstr_size, "%s:%d: allow_cidrs: %s", cc->file ? cc->file : cc->name,
                     cc->line, serr);
            goto fail;
        }
    }
    /* The constant headers, checked and rendered once for the connector's life. */
    wb_http_header *hdrs = calloc(cc->nheaders + 2, sizeof(*hdrs));
    if (!hdrs) goto oom;
    size_t nh = 0;
    hdrs[nh++] = (wb_http_header){"content-type", "application/json"};
    hdrs[nh++] =
        (wb_http_header){"user-agent", cfg->outbound.user_agent ? cfg->outbound.user_agent
                                                                : "webhook-bridge/" WB_VERSION};
    for (size_t k = 0; k < cc->nheaders; k++)
        hdrs[nh++] = (wb_http_header){cc->headers[k].name, cc->headers[k].value};
    wb_http_target_opts to = {
        .url = cc->url,
        .headers = hdrs,
        .nheaders = nh,
        .timeout_ms = cc->timeout_ms,
        .connect_timeout_ms = cc->connect_timeout_ms,
        .allow_private = cc->allow_private_networks || cfg->allow_private_networks,
        .policy = c->policy,
        .https_only = cc->https_only,
        .client_cert = cc->client_cert,
        .client_key = cc->client_key,
        .ca_file = cc->ca_file,
        .proxy = cc->proxy,
        .http2 = (wb_http2_mode)cc->http2,
    };
    c->target = wb_http_target_new(http, &to, serr, sizeof(serr));
    free(hdrs);
    if (!c->target) {
        snprintf(errstr, errstr_size, "%s:%d: %s", cc->file ? cc->file : cc->name, cc->line, serr);
        goto fail;
    }
    return c;
oom:
    snprintf(errstr, errstr_size, "out of memory");
fail:
    conn_free(c);
    return NULL;
}

/* Build every outbound connector of cfg into *out (array of *n). All or nothing. */
static int build_conns(const wb_config *cfg, wb_http *http, conn_rt ***out, size_t *n, char *errstr,
                       size_t errstr_size)
{
    conn_rt **v = calloc(cfg->nconnectors ? cfg->nconnectors : 1, sizeof(*v));
    size_t k = 0;
    if (!v) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        if (cfg->connectors[i].direction != WB_DIR_OUTBOUND) continue;
        v[k] = conn_build(cfg, http, &cfg->connectors[i], errstr, errstr_size);
        if (!v[k]) {
            while (k > 0)
                conn_free(v[--k]);
            free(v);
            return -1;
        }
        k++;
    }
    *out = v;
    *n = k;
    return 0;
}

wb_err wb_outbound_reload(wb_outbound *o, const wb_config *cfg, char *errstr, size_t errstr_size)
{
    conn_rt **v;
    size_t n;
    if (build_conns(cfg, o->http, &v, &n, errstr, errstr_size)) return WB_ERR_CONFIG;
    conn_rt **match = calloc(n ? n : 1, sizeof(*match));
    conn_rt **retired = realloc(o->retired, (o->nretired + o->nconns) * sizeof(*retired) + 1);
    if (!match || !retired) {
        free(match);
        if (retired) o->retired = retired;
        for (size_t i = 0; i < n; i++)
            conn_free(v[i]);
        free(v);
        snprintf(errstr, errstr_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    o->retired = retired;
    /* A connector keeping its name keeps its scheduler slot: its lanes, its queue and its
     * breaker state carry over, so ordering holds across the reload. */
    for (size_t i = 0; i < n; i++) {
        conn_rt *c = v[i];
        for (size_t k = 0; k < o->nconns; k++) {
            if (o->conns[k] && !strcmp(o->conns[k]->cc->name, c->cc->name)) {
                c->sc = o->conns[k]->sc;
                break;
            }
        }
        int conc = share_conc(cfg, c->cc->max_concurrency);
        double rate = share_rate(cfg, c->cc->rate_per_s);
        if (c->sc)
            wb_sched_conn_update(c->sc, conc, rate, c->cc->circuit_failures,
                                 c->cc->circuit_cooldown_ms);
        else
            c->sc = wb_sched_conn_new(o->sched, conc, rate, c->cc->circuit_failures,
                                      c->cc->circuit_cooldown_ms);
        conn_metrics(c);
    }
    /* Old runtime states stay alive: deliveries in flight finish with the settings they
     * started with (their headers and egress policy may still be in use by libcurl). */
    for (size_t k = 0; k < o->nconns; k++)
        o->retired[o->nretired++] = o->conns[k];
    free(o->conns);
    free(o->match);
    o->conns = v;
    o->nconns = n;
    o->match = match;
    if (cfg->outbound.ntopics != o->cfg->outbound.ntopics)
        WB_WARN("reload: outbound.topics changed; the subscription changes only on restart");
    o->cfg = cfg;
    build_targets(o, cfg);
    WB_INFO("reload: %zu outbound connector(s) active", n);
    return WB_OK;
}

void wb_outbound_on_turn(wb_outbound *o, void (*fn)(void *ctx), void *ctx)
{
    o->on_turn = fn;
    o->on_turn_ctx = ctx;
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errstr,
               size_t errstr_size)
{
    char kerr[256];
    if (rd_kafka_conf_set(conf, k, v, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errstr_size, "consumer: %s: %s", k, kerr);
        return -1;
    }
    return 0;
}

static int conf_has(const wb_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka[i].key, key)) return 1;
    return 0;
}

wb_outbound *wb_outbound_new(const wb_config *cfg, const char *bootstrap, wb_producer *prod,
                             char *errstr, size_t errstr_size)
{
    wb_outbound *o = calloc(1, sizeof(*o));
    rd_kafka_conf_t *conf = NULL;
    if (!o) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    o->cfg = cfg;
    o->prod = prod;
    o->wake_pipe[0] = o->wake_pipe[1] = -1;
    o->window = cfg->outbound.max_in_flight_per_partition > 0
                    ? cfg->outbound.max_in_flight_per_partition
                    : 1000;
    o->low_water = o->window / 2;
    pthread_mutex_init(&o->lock, NULL);
    wb_buf_init(&o->scratch, 0);
    o->m_consumed = wb_metrics_counter("webhook_bridge_records_consumed_total",
                                       "Records consumed from the outbound topics", "");
    o->m_unrouted = wb_metrics_counter("webhook_bridge_records_unrouted_total",
                                       "Records no connector subscribes to", "");
    o->m_poison = wb_metrics_counter("webhook_bridge_records_poison_total",
                                     "Undecodable records parked on the dead-letter topic", "");
    o->m_paused = wb_metrics_gauge("webhook_bridge_paused_partitions",
                                   "Partitions paused because their window is full", "");
    o->m_records = wb_metrics_gauge("webhook_bridge_in_flight_records",
                                    "Records consumed and not yet terminal", "");

    /* The loop and its HTTP client come first: connectors build their targets on it.
     * No outbound connector (an inbound-only bridge, or topics whose records nobody
     * subscribes to) still gets a client: one idle connection. */
    int total_conc = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        if (cfg->connectors[i].direction == WB_DIR_OUTBOUND)
            total_conc += share_conc(cfg, cfg->connectors[i].max_concurrency);
    o->lp = wb_loop_new(errstr, errstr_size);
    if (!o->lp) goto fail;
    wb_http_opts ho = {.max_total_connections = total_conc > 0 ? total_conc : 1};
    o->http = wb_http_new(o->lp, &ho, errstr, errstr_size);
    if (!o->http) goto fail;

    /* connectors */
    o->sched = wb_sched_new();
    if (!o->sched || build_conns(cfg, o->http, &o->conns, &o->nconns, errstr, errstr_size)) {
        if (!o->sched) snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    o->match = calloc(o->nconns ? o->nconns : 1, sizeof(*o->match));
    if (!o->match) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    build_targets(o, cfg);
    for (size_t i = 0; i < o->nconns; i++) {
        conn_rt *c = o->conns[i];
        c->sc = wb_sched_conn_new(o->sched, share_conc(cfg, c->cc->max_concurrency),
                                  share_rate(cfg, c->cc->rate_per_s), c->cc->circuit_failures,
                                  c->cc->circuit_cooldown_ms);
        if (!c->sc) {
            snprintf(errstr, errstr_size, "out of memory");
            goto fail;
        }
        conn_metrics(c);
    }
    /* Avro: a registry, or a local schemas folder with a manifest. */
    wb_buf_init(&o->avro_json, 0);
    int need_schemas = cfg->schema_registry.url != NULL;
    for (size_t i = 0; i < o->nconns; i++)
        need_schemas |= o->conns[i]->cc->contract != NULL;
    char manifest[4096];
    snprintf(manifest, sizeof(manifest), "%s/manifest.json",
             cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas");
    int have_dir = cfg->schema_registry.dir && access(manifest, R_OK) == 0;
    if (need_schemas || have_dir) {
        wb_registry_opts ro = {.url = cfg->schema_registry.url,
                               .username = cfg->schema_registry.username,
                               .password = cfg->schema_registry.password,
                               .bearer = cfg->schema_registry.bearer_token};
        char serr[512];
        o->schemas = wb_schemas_new_opts(have_dir ? cfg->schema_registry.dir : NULL, &ro, serr,
                                         sizeof(serr));
        if (!o->schemas) {
            snprintf(errstr, errstr_size, "schemas: %s", serr);
            goto fail;
        }
    }
    o->backlog_target = (size_t)total_conc * 4 + CONSUME_BATCH;

    if (cfg->outbound.ntopics == 0) return o; /* inbound only */

    /* consumer */
    conf = wb_kafka_conf(cfg, WB_KAFKA_CONSUMER, bootstrap, errstr, errstr_size);
    if (!conf) goto fail;
    if (set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
        set(conf, "enable.auto.commit", "true", errstr, errstr_size) ||
        (!conf_has(cfg, "partition.assignment.strategy") &&
         set(conf, "partition.assignment.strategy", "cooperative-sticky", errstr, errstr_size)) ||
        (!conf_has(cfg, "group.id") &&
         set(conf, "group.id", "webhook-bridge", errstr, errstr_size)) ||
        (!conf_has(cfg, "auto.offset.reset") &&
         set(conf, "auto.offset.reset", "earliest", errstr, errstr_size)) ||
        /* Prefetch 16 MiB, not librdkafka's 64 MiB: the window already bounds the work in
         * flight, and memory is what a sidecar-sized pod runs short of. */
        (!conf_has(cfg, "queued.max.messages.kbytes") &&
         set(conf, "queued.max.messages.kbytes", "16384", errstr, errstr_size)) ||
        /* librdkafka's mock broker answers a fetch only when fetch.wait.max.ms expires,
         * even when data is there (a real broker answers at once): keep the embedded
         * cluster's latency realistic. */
        (cfg->embedded && !conf_has(cfg, "fetch.wait.max.ms") &&
         set(conf, "fetch.wait.max.ms", "10", errstr, errstr_size)))
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_consumer_error);
    rd_kafka_conf_set_opaque(conf, o);
    char kerr[256];
    o->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
    if (!o->rk) {
        snprintf(errstr, errstr_size, "consumer: %s", kerr);
        goto fail;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(o->rk);
    if (pipe2(o->wake_pipe, O_NONBLOCK | O_CLOEXEC)) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        goto fail;
    }
    o->queue = rd_kafka_queue_get_consumer(o->rk);
    rd_kafka_queue_io_event_enable(o->queue, o->wake_pipe[1], "1", 1);
    if (wb_loop_io_add(o->lp, o->wake_pipe[0], WB_LOOP_READ, on_queue_fd, o)) {
        snprintf(errstr, errstr_size, "event loop: cannot watch the consumer queue");
        goto fail;
    }

    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)cfg->outbound.ntopics);
    for (size_t i = 0; i < cfg->outbound.ntopics; i++)
        rd_kafka_topic_partition_list_add(topics, cfg->outbound.topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(o->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
        goto fail;
    }
    return o;
fail:
    if (conf) rd_kafka_conf_destroy(conf);
    wb_outbound_free(o);
    return NULL;
}

void wb_outbound_free(wb_outbound *o)
{
    if (!o) return;
    /* The consumer goes first: with NO_CONSUMER_CLOSE no rebalance callback can run into
     * the state torn down below (wb_outbound_run already closed it on the normal path). */
    if (o->queue) rd_kafka_queue_destroy(o->queue);
    o->queue = NULL;
    if (o->rk) rd_kafka_destroy_flags(o->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    o->rk = NULL;
    /* Targets are released before their client; transfers still running hold their own
     * references and are aborted without callbacks; then every record is dropped. */
    for (size_t i = 0; i < o->nconns; i++) {
        wb_http_target_release(o->conns[i]->target);
        o->conns[i]->target = NULL;
    }
    for (size_t i = 0; i < o->nretired; i++) {
        wb_http_target_release(o->retired[i]->target);
        o->retired[i]->target = NULL;
    }
    if (o->http) wb_http_free(o->http);
    o->http = NULL;
    part_st *lists[2] = {o->parts, o->fenced};
    for (int k = 0; k < 2; k++) {
        part_st *ps = lists[k];
        while (ps) {
            part_st *next = ps->next;
            record *r = ps->records;
            while (r) {
                record *rn = r->next;
                record_destroy(r);
                r = rn;
            }
            part_free(ps);
            ps = next;
        }
    }
    for (size_t i = 0; i < o->nconns; i++)
        conn_free(o->conns[i]);
    for (size_t i = 0; i < o->nretired; i++)
        conn_free(o->retired[i]);
    free(o->conns);
    free(o->retired);
    free(o->match);
    wb_sched_free(o->sched);
    if (o->schemas) wb_schemas_free(o->schemas);
    wb_buf_free(&o->avro_json);
    if (o->wake_pipe[0] >= 0) {
        if (o->lp) wb_loop_io_del(o->lp, o->wake_pipe[0]);
        close(o->wake_pipe[0]);
        close(o->wake_pipe[1]);
    }
    wb_loop_free(o->lp);
    wb_buf_free(&o->scratch);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
