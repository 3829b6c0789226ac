/* outbound/conn_state.c - what the parts of a connector share: its last error, the dispatch
 * turn, releasing records (terminal or dropped), the delivery events it reports, and its
 * gauges and status snapshot. Loop thread, except the snapshot, published under status_lock
 * for the admin thread. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "outbound/conn_int.h"

/* ------------------------------------------------------------------------------------ */
/* Errors and the dispatch turn                                                         */

/* Records, budgets, dispatch                                                           */

void conn_set_error(wb_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
    c->last_error_ms = wb_wall_ms();
}

void conn_dispatch_soon(wb_conn *c)
{
    /* Runs in this turn's timer phase: after the fd callbacks, never inside one. */
    wb_loop_timer_start(c->lp, &c->dispatch_timer, wb_loop_now(c->lp));
}

/* ------------------------------------------------------------------------------------ */
/* Records: released, terminal, reported                                                */

/* Release a record: its ledger slot (terminal on an active part, a drop on a fenced one --
 * see conn_record_terminal for the accounting), its Kafka message and memory. */
void rec_free(wb_conn *c, rec *r)
{
    if (r->jq_req) {
        wb_jq_cancel(c->jq, r->jq_req);
        r->jq_req = NULL;
    }
    if (r->queued) {
        wb_sched_cancel(c->sched, &r->job, wb_loop_now(c->lp));
        r->queued = 0;
    }
    TAILQ_REMOVE(&c->recs, r, link);
    wb_ledger_release(r->part, r->offset, r->bytes); /* not terminal: see ledger.h */
    if (r->attempt_st) wb_settings_unref(r->attempt_st);
    wb_buf_free(&r->body);
    rd_kafka_message_destroy(r->rkm);
    free(r);
}

/* A record is terminal for this connector: delivered, filtered, not subscribed, or parked
 * on the dead-letter topic and acked. The ledger decides what becomes committable. */
void conn_record_terminal(wb_conn *c, rec *r)
{
    wb_ledger_part *p = r->part;
    int fenced = p->fenced;
    r->state = REC_DONE;
    if (r->queued) {
        wb_sched_finish(c->sched, &r->job, -1, wb_loop_now(c->lp));
        r->queued = 0;
    }
    TAILQ_REMOVE(&c->recs, r, link);
    int advanced = wb_ledger_done(p, r->offset, r->bytes);
    if (r->attempt_st) wb_settings_unref(r->attempt_st);
    wb_buf_free(&r->body);
    rd_kafka_message_destroy(r->rkm);
    free(r);
    if (fenced) return; /* p may be gone */
    if (advanced > 0) c->dirty = 1;
    conn_check_budgets(c, p);
}

void conn_observe(wb_conn *c, const rec *r, const char *outcome, int64_t latency_us,
                  const char *error)
{
    if (wb_log_enabled(WB_LOG_DEBUG)) {
        wb_log_fields lf = conn_log_fields(c, r);
        WB_DEBUGF(&lf, "connector %s: %s %s %s", c->name, outcome, r->ev.type, r->ev.id);
    }
    if (!c->hooks || !c->hooks->observe) return;
    wb_delivery_event ev = {
        .connector = c->name,
        .type = r->ev.type,
        .webhook_id = r->ev.id,
        .topic = r->part->topic,
        .partition = r->part->partition,
        .offset = r->offset,
        .status = r->last_status,
        .attempt = r->attempts,
        .latency_us = latency_us,
        .age_ms = wb_wall_ms() - r->ev.ts_ms,
        .outcome = outcome,
        .error = error ? error : "",
    };
    c->hooks->observe(c->hooks_ctx, &ev);
}

wb_log_fields conn_log_fields(const wb_conn *c, const rec *r)
{
    return (wb_log_fields){.connector = c->name,
                           .webhook_id = r->ev.id,
                           .topic = r->part->topic,
                           .partition = r->part->partition,
                           .offset = r->offset,
                           .status = r->last_status,
                           .attempt = r->attempts};
}

/* ------------------------------------------------------------------------------------ */
/* Gauges and status                                                                    */

/* Gauges and status                                                                    */

/* What the connector's partitions say about its backlog. */
typedef struct backlog {
    int64_t lag;     /* records behind the log end (when lag_known) */
    int lag_known;   /* some partition's log end offset is known */
    int64_t oldest;  /* ms since the oldest undelivered record was appended, -1 none */
    double headroom; /* seconds before the oldest undelivered record ages out of retention */
    int owned;       /* partitions assigned to this member */
} backlog;

static void measure_backlog(wb_conn *c, backlog *b)
{
    int64_t wall = wb_wall_ms();
    *b = (backlog){.oldest = -1, .headroom = -1};
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = LIST_NEXT(p, link)) {
        part_user *u = p->user;
        if (!u) continue;
        b->owned++;
        int64_t hw = c->hooks && c->hooks->high_watermark
                         ? c->hooks->high_watermark(c->hooks_ctx, p->topic, p->partition)
                         : -1;
        /* The position this member is responsible for: committed, else what it consumed */
        int64_t pos = u->committed >= 0                 ? u->committed
                      : p->next_commit >= 0             ? p->next_commit
                      : wb_ledger_oldest_offset(p) >= 0 ? wb_ledger_oldest_offset(p)
                      : p->last_offset >= 0             ? p->last_offset + 1
                                                        : -1;
        int64_t plag = hw >= 0 && pos >= 0 ? (hw > pos ? hw - pos : 0) : -1;
        if (plag >= 0) {
            b->lag += plag;
            b->lag_known = 1;
        }
        /* Oldest undelivered: the ledger's oldest record when it holds one; when records are
         * waiting that were not even fetched (paused, lagging), they were appended after the
         * last moment this partition was caught up: that bounds their age from above. */
        int64_t ts = wb_ledger_oldest_ts(p);
        if (plag == 0 && ts < 0) u->caught_up_ms = wall;
        if (ts < 0 && plag > 0) ts = u->caught_up_ms;
        int64_t age = ts >= 0 ? wall - ts : 0;
        if (age < 0) age = 0;
        if (ts >= 0 && (b->oldest < 0 || age > b->oldest)) b->oldest = age;
        int64_t ret = c->hooks && c->hooks->retention_ms
                          ? c->hooks->retention_ms(c->hooks_ctx, p->topic)
                          : c->st->cfg->outbound.retention_ms;
        double left = (double)(ret - age) / 1000.0;
        if (b->headroom < 0 || left < b->headroom) b->headroom = left;
    }
    if (b->headroom < 0) b->headroom = (double)c->st->cfg->outbound.retention_ms / 1000.0;
}

/* rate_limit is the deployment's: this member sends its share (partitions it owns out of all
 * the connector's partitions), so replicas together stay within the limit. */
static void update_rate_share(wb_conn *c, int owned)
{
    int total = 0;
    for (size_t i = 0; c->hooks && c->hooks->partition_count && i < c->st->cc->ntopics; i++)
        total += c->hooks->partition_count(c->hooks_ctx, c->st->cc->topics[i]);
    if (owned == c->owned_partitions && total == c->total_partitions) return;
    c->owned_partitions = owned;
    c->total_partitions = total;
    const wb_connector *cc = c->st->cc;
    double share = total > 0 && owned > 0 && owned < total ? (double)owned / total : 1.0;
    wb_sched_conn_update(c->sc, cc->max_concurrency, cc->rate_per_s * share, cc->circuit_failures,
                         cc->circuit_cooldown_ms);
    if (cc->rate_per_s > 0 && share < 1.0)
        WB_INFO("connector %s: owns %d of %d partitions: rate limit share %.2f/s of %.2f/s",
                c->name, owned, total, cc->rate_per_s * share, cc->rate_per_s);
}

/* The snapshot the admin thread reads (GET /connectors), under status_lock. */
static void publish_status(wb_conn *c, const backlog *b, int circuit, int in_flight)
{
    pthread_mutex_lock(&c->status_lock);
    wb_conn_status *s = &c->status;
    const char *state = c->dead        ? "failed"
                        : c->closed    ? "stopped"
                        : c->stopping  ? "stopping"
                        : c->paused    ? "paused"
                        : circuit == 1 ? "breaker-open"
                        : !c->joined   ? "starting"
                                       : "running";
    snprintf(s->state, sizeof(s->state), "%s", state);
    s->paused = c->paused;
    s->circuit = circuit;
    s->assigned_partitions = c->assigned;
    s->lag = b->lag_known ? b->lag : -1;
    s->oldest_undelivered_s = b->oldest > 0 ? (double)b->oldest / 1000.0 : 0;
    s->retention_headroom_s = b->headroom;
    s->in_flight = in_flight;
    s->consumed = c->consumed;
    s->delivered = c->delivered;
    s->dead_lettered = c->dead_lettered;
    s->filtered = c->filtered;
    s->retried = c->retried;
    s->commits = c->commits;
    snprintf(s->last_error, sizeof(s->last_error), "%s", c->last_error);
    s->last_error_ms = c->last_error_ms;
    pthread_mutex_unlock(&c->status_lock);
}

void conn_refresh(wb_conn *c)
{
    backlog b;
    measure_backlog(c, &b);
    update_rate_share(c, b.owned);
    int circuit = (int)wb_sched_conn_circuit(c->sc);
    int in_flight = (int)wb_ledger_in_flight(c->ledger);
    wb_gauge_set(c->m_lag, b.lag_known ? (double)b.lag : 0);
    wb_gauge_set(c->m_oldest, b.oldest > 0 ? (double)b.oldest / 1000.0 : 0);
    wb_gauge_set(c->m_headroom, b.headroom);
    wb_gauge_set(c->m_in_flight, in_flight);
    wb_gauge_set(c->m_circuit, circuit);
    wb_gauge_set(c->m_paused, c->paused);
    wb_gauge_set(c->m_assigned, c->assigned);
    publish_status(c, &b, circuit, in_flight);
}
