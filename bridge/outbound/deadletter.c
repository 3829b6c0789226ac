/* outbound/deadletter.c - parking a record on the dead-letter topic.
 *
 * The dead-letter record carries the original key, value and headers plus wb-* headers saying
 * why and where from (wb-connector, wb-webhook-id, wb-event-type and the source coordinates are
 * what `webhook-bridge redrive` needs to deliver it again, to that connector only, with the
 * same id). The record is terminal -- its offset may be committed -- only once the broker acked
 * that write.
 *
 * A write that can never succeed must not stall the partition forever: when the broker (or
 * librdkafka, before sending) refuses the record as such -- too large, invalid, not
 * authorised -- a REDUCED record is written instead: the same headers and source coordinates,
 * no value, and wb-dead-letter-reduced naming why; it is counted. Transient failures (brokers
 * down, timeouts) are retried with a growing delay (0.5 s .. 30 s) and show in metrics, in the
 * connector's last error and in readiness. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/retry.h"
#include "core/util.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 30000

static void write_record(wb_conn *c, rec *r);

/* Records whose dead-letter write is failing, counted by the engine for readiness. */
static void dlq_failing(wb_conn *c, int delta)
{
    if (c->hooks && c->hooks->dlq_failing) c->hooks->dlq_failing(c->hooks_ctx, delta);
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_header(rd_kafka_headers_t *h, const char *name, const char *fmt, ...)
{
    char v[300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    rd_kafka_header_add(h, name, -1, v, n < (int)sizeof(v) ? n : (int)sizeof(v) - 1);
}

static rd_kafka_headers_t *build_headers(wb_conn *c, rec *r)
{
    rd_kafka_headers_t *orig = NULL, *h;
    if (!rd_kafka_message_headers(r->rkm, &orig) && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(16);
    if (c->mode == WB_CONN_REDRIVE) {
        /* Parked again: the record's own headers stay, the previous wb-* ones of this
         * connector's attempt are replaced by this attempt's; the source coordinates stay
         * those of the first source. */
        static const char *const ours[] = {
            "wb-error-reason",  "wb-error-status",       "wb-error-attempts", "wb-connector",
            "wb-first-attempt", "wb-last-attempt",       "wb-webhook-id",     "wb-event-type",
            "wb-redrive-count", "wb-dead-letter-reduced"};
        for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
            rd_kafka_header_remove(h, ours[i]);
    }
    char t1[WB_TIME_BUF], t2[WB_TIME_BUF];
    int64_t now = wb_wall_ms();
    wb_time_format_ms(r->first_attempt_ms ? r->first_attempt_ms : now, t1, sizeof(t1));
    wb_time_format_ms(r->last_attempt_ms ? r->last_attempt_ms : now, t2, sizeof(t2));
    /* A redriven record that fails again: its new reason replaces the old one (headers are
     * "last wins" for readers), and wb-redrive-count is carried as the redrive set it. */
    add_header(h, "wb-error-reason", "%s: %s", r->reason ? r->reason : "error", r->error);
    add_header(h, "wb-error-status", "%d", r->last_status);
    add_header(h, "wb-error-attempts", "%d", r->attempts);
    add_header(h, "wb-connector", "%s", c->name);
    if (c->mode != WB_CONN_REDRIVE) { /* a redriven record keeps its first source */
        add_header(h, "wb-source-topic", "%s", r->part->topic);
        add_header(h, "wb-source-partition", "%" PRId32, r->part->partition);
        add_header(h, "wb-source-offset", "%" PRId64, r->offset);
        add_header(h, "wb-source-timestamp", "%" PRId64, r->ev.ts_ms);
    } else {
        add_header(h, "wb-redrive-count", "%d", r->redrive_count + 1);
    }
    add_header(h, "wb-first-attempt", "%s", t1);
    add_header(h, "wb-last-attempt", "%s", t2);
    add_header(h, "wb-webhook-id", "%s", r->ev.id);
    add_header(h, "wb-event-type", "%s", r->ev.type);
    if (r->dlq_reduced)
        add_header(h, "wb-dead-letter-reduced", "%s", r->dlq_errmsg[0] ? r->dlq_errmsg : "yes");
    return h;
}

/* Loop thread: what the producer said about our write. */
static void on_result(wb_conn *c, rec *r, const wb_produce_result *res)
{
    if (res->err == WB_OK) {
        c->dead_lettered++;
        c->progress.dead_lettered++;
        wb_counter_inc(c->m_dead_lettered);
        if (r->dlq_reduced) wb_counter_inc(c->m_reduced);
        if (r->dlq_tries) dlq_failing(c, -1);
        wb_log_fields lf = conn_log_fields(c, r);
        WB_WARNF(&lf, "connector %s: dead-lettered %s %s (%s[%d]@%" PRId64 "): %s: %s%s", c->name,
                 r->ev.type, r->ev.id, r->part->topic, r->part->partition, r->offset, r->reason,
                 r->error, r->dlq_reduced ? " (reduced: without its value)" : "");
        conn_observe(c, r, "dead-lettered", 0, r->error);
        conn_record_terminal(c, r);
        return;
    }
    snprintf(r->dlq_errmsg, sizeof(r->dlq_errmsg), "%s", res->errmsg ? res->errmsg : "?");
    if (r->part->fenced) { /* revoked meanwhile: the new owner will park it */
        if (r->dlq_tries) dlq_failing(c, -1);
        rec_free(c, r);
        return;
    }
    if (c->hooks && c->hooks->dlq_write_failed)
        c->hooks->dlq_write_failed(c->hooks_ctx, res->permanent);
    if (res->permanent && !r->dlq_reduced) {
        /* These bytes can never be written: park the record without its value. */
        wb_log_fields lf = conn_log_fields(c, r);
        WB_ERRORF(&lf,
                  "connector %s: dead-letter write of %s[%d]@%" PRId64 " refused for good (%s): "
                  "writing a reduced record (headers and source coordinates, no value)",
                  c->name, r->part->topic, r->part->partition, r->offset, r->dlq_errmsg);
        r->dlq_reduced = 1;
        write_record(c, r);
        return;
    }
    int64_t delay = RETRY_MIN_MS;
    for (int i = 0; i < r->dlq_tries && delay < RETRY_MAX_MS; i++)
        delay *= 2;
    if (delay > RETRY_MAX_MS) delay = RETRY_MAX_MS;
    delay = wb_retry_jitter_ms(delay + delay / 10, delay / 10); /* delay .. delay * 1.2 */
    if (!r->dlq_tries) dlq_failing(c, 1);
    r->dlq_tries++;
    conn_set_error(c, "dead-letter write failed: %s", r->dlq_errmsg);
    wb_log_fields lf = conn_log_fields(c, r);
    WB_WARNF(&lf,
             "connector %s: dead-letter write of %s[%d]@%" PRId64 " failed (%s%s); retry %d in "
             "%" PRId64 " ms",
             c->name, r->part->topic, r->part->partition, r->offset, r->dlq_errmsg,
             res->permanent ? ", even without its value" : "", r->dlq_tries, delay);
    wb_loop_timer_start(c->lp, &r->dlq_timer, wb_loop_now(c->lp) + delay);
}

static void on_msg(wb_loop *lp, void *arg)
{
    rec *r = arg;
    r->dlq_inflight = 0;
    on_result(r->conn, r, &r->dlq_res);
}

/* Producer thread: hand the result to the record's loop. */
static void on_produced(void *opaque, const wb_produce_result *res)
{
    rec *r = opaque;
    r->dlq_res = *res;
    r->dlq_res.errmsg = NULL;
    snprintf(r->dlq_errmsg, sizeof(r->dlq_errmsg), "%s", res->errmsg ? res->errmsg : "");
    r->dlq_res.errmsg = r->dlq_errmsg;
    wb_loop_post(r->conn->lp, &r->dlq_msg, on_msg, r);
}

static void on_retry_timer(wb_loop *lp, void *arg)
{
    rec *r = arg;
    write_record(r->conn, r);
}

static void write_record(wb_conn *c, rec *r)
{
    const rd_kafka_message_t *rkm = r->rkm;
    rd_kafka_headers_t *h = build_headers(c, r);
    /* Reduced: no value; the key too when it is what made the record too large. */
    const void *val = r->dlq_reduced ? NULL : rkm->payload;
    size_t vlen = r->dlq_reduced ? 0 : rkm->len;
    size_t klen = r->dlq_reduced && rkm->key_len > 4096 ? 0 : rkm->key_len;
    wb_produce_result sync;
    memset(&sync, 0, sizeof(sync));
    r->dlq_inflight = 1;
    wb_err err =
        wb_producer_send_ex(c->prod, c->st->cfg->outbound.dead_letter_topic, -1,
                            klen ? rkm->key : NULL, klen, val, vlen, 0, h, on_produced, r, &sync);
    if (err) {
        r->dlq_inflight = 0;
        rd_kafka_headers_destroy(h);
        on_result(c, r, &sync);
    }
}

void deadletter_send(wb_conn *c, rec *r, const char *reason, const char *fmt, ...)
{
    if (r->queued) {
        wb_sched_cancel(c->sched, &r->job, wb_loop_now(c->lp));
        r->queued = 0;
    }
    r->state = REC_DEAD_LETTER;
    r->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    wb_timer_init(&r->dlq_timer, on_retry_timer, r);
    write_record(c, r);
}

void deadletter_cancel(wb_conn *c, rec *r)
{
    wb_loop_timer_stop(c->lp, &r->dlq_timer);
    wb_loop_unpost(c->lp, &r->dlq_msg);
    if (r->dlq_tries) dlq_failing(c, -1);
    r->dlq_tries = 0;
}
