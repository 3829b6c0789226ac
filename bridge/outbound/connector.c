/* outbound/connector.c - one outbound connector's lifecycle: start, pause, reload, drain and
 * stop, and the timers that drive it (dispatch, poll, commit, gauges). See connector.h and
 * conn_int.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fatal.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/connector.h"
#include "core/util.h"

#define GAUGE_MS 1000
static void dispatch(wb_loop *lp, void *arg)
{
    wb_conn *c = arg;
    int64_t now = wb_loop_now(lp);
    if (c->pending_revoke) consumer_finish_revoke(c, 0);
    wb_job *j;
    while ((j = wb_sched_next(c->sched, now)))
        delivery_start(c, (rec *)j);
    int64_t wait = wb_sched_wait_ms(c->sched, now);
    if (wait >= 0) wb_loop_timer_start(lp, &c->dispatch_timer, now + wait);
}

static void on_poll_timer(wb_loop *lp, void *arg)
{
    consumer_poll(arg);
}

static void on_commit_timer(wb_loop *lp, void *arg)
{
    wb_conn *c = arg;
    if (c->dirty && !c->closed && conn_commits(c)) consumer_commit(c, 0);
    wb_loop_timer_start(lp, &c->commit_timer,
                        wb_loop_now(lp) + c->st->cfg->outbound.commit_interval_ms);
}

static void stop_progress(wb_conn *c);

static void on_gauge_timer(wb_loop *lp, void *arg)
{
    wb_conn *c = arg;
    int64_t now = wb_now_ms();
    consumer_poll(c); /* keeps max.poll.interval.ms satisfied while everything is paused */
    if (c->pending_revoke) consumer_finish_revoke(c, 0);
    /* partitions waiting for the schema registry */
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = LIST_NEXT(p, link)) {
        part_user *u = p->user;
        if (!u || !u->paused_wait || now < u->wait_until) continue;
        u->paused_wait = 0;
        part_resume_maybe(c, p);
    }
    if (c->stopping) stop_progress(c);
    conn_refresh(c);
    if (!c->closed) wb_loop_timer_start(lp, &c->gauge_timer, wb_loop_now(lp) + GAUGE_MS);
}

/* ------------------------------------------------------------------------------------ */
/* Lifecycle                                                                            */

static void metrics_register(wb_conn *c)
{
    static const char *const name = "webhook_bridge_deliveries_total";
    static const char *const help = "Outbound delivery outcomes by connector";
    char l[300];
#define L(outcome) (snprintf(l, sizeof(l), "connector=\"%s\",outcome=\"" outcome "\"", c->name), l)
    c->m_delivered = wb_metrics_counter(name, help, L("delivered"));
    c->m_retried = wb_metrics_counter(name, help, L("retried"));
    c->m_dead_lettered = wb_metrics_counter(name, help, L("dead_lettered"));
    c->m_rejected = wb_metrics_counter(name, help, L("permanent"));
    c->m_filtered = wb_metrics_counter(name, help, L("filtered"));
#undef L
    snprintf(l, sizeof(l), "connector=\"%s\"", c->name);
    c->m_attempts = wb_metrics_counter("webhook_bridge_delivery_attempts_total",
                                       "HTTP attempts started by connector", l);
    c->m_consumed = wb_metrics_counter("webhook_bridge_records_consumed_total",
                                       "Records consumed by connector", l);
    c->m_unrouted = wb_metrics_counter("webhook_bridge_records_unrouted_total",
                                       "Records of types the connector does not subscribe to", l);
    c->m_poison = wb_metrics_counter("webhook_bridge_records_poison_total",
                                     "Undecodable records parked on the dead-letter topic", l);
    c->m_id_refused = wb_metrics_counter(
        "webhook_bridge_records_id_refused_total",
        "Records whose own id could not be a header value (the derived id was used)", l);
    c->m_commits = wb_metrics_counter("webhook_bridge_connector_commits_total",
                                      "Offset commits that advanced a partition", l);
    c->m_resumed = wb_metrics_counter(
        "webhook_bridge_connector_resumed_records_total",
        "Records not delivered again when a partition came back to this process soon after it "
        "lost it: they were delivered before, past the committed offset",
        l);
    c->m_reduced = wb_metrics_counter("webhook_bridge_dead_letter_reduced_total",
                                      "Records parked without their value (it could never be "
                                      "written to the dead-letter topic)",
                                      l);
    c->m_in_flight = wb_metrics_gauge("webhook_bridge_connector_in_flight_records",
                                      "Records consumed and not yet terminal", l);
    c->m_circuit = wb_metrics_gauge("webhook_bridge_circuit_state",
                                    "Circuit breaker: 0 closed, 1 open, 2 half-open", l);
    c->m_lag = wb_metrics_gauge("webhook_bridge_connector_lag_records",
                                "Log end offset minus committed offset, over the partitions "
                                "this replica owns",
                                l);
    c->m_oldest = wb_metrics_gauge("webhook_bridge_connector_oldest_undelivered_seconds",
                                   "Age of the oldest record not yet delivered", l);
    c->m_headroom = wb_metrics_gauge(
        "webhook_bridge_connector_retention_headroom_seconds",
        "Time left before topic retention deletes the oldest undelivered record", l);
    c->m_paused = wb_metrics_gauge("webhook_bridge_connector_paused",
                                   "1 while paused by config or the admin API", l);
    c->m_assigned = wb_metrics_gauge("webhook_bridge_connector_assigned_partitions",
                                     "Partitions this replica owns for the connector", l);
    c->m_latency = wb_metrics_histogram("webhook_bridge_delivery_latency_seconds",
                                        "Record append to 2xx, by connector", l, NULL, 0);
}

wb_conn *wb_conn_new(wb_loop *lp, struct wb_http *http, struct wb_producer *prod,
                     struct wb_schemas *schemas, wb_settings *st, const char *bootstrap,
                     int nconsumers, const wb_conn_hooks *hooks, void *hooks_ctx,
                     const wb_conn_opts *opts, char *errstr, size_t errstr_size)
{
    const wb_connector *cc = st->cc;
    static const wb_conn_opts live = {.mode = WB_CONN_LIVE};
    if (!opts) opts = &live;
    wb_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->name = strdup(cc->name)) ||
        !(c->group = strdup(opts->group ? opts->group : cc->group_id)) ||
        (opts->events_glob && !(c->events_glob = strdup(opts->events_glob))) ||
        (opts->reason && !(c->reason = strdup(opts->reason)))) {
        if (c) {
            free(c->name);
            free(c->group);
            free(c->events_glob);
        }
        free(c);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->mode = opts->mode;
    c->from_ms = opts->from_ms;
    c->to_ms = opts->to_ms;
    c->dry_run = opts->dry_run;
    c->report_orphans = opts->report_orphans;
    c->lp = lp;
    c->http = http;
    c->prod = prod;
    c->schemas = schemas;
    c->st = wb_settings_ref(st);
    c->hooks = hooks;
    c->hooks_ctx = hooks_ctx;
    c->qfd[0] = c->qfd[1] = -1;
    TAILQ_INIT(&c->recs);
    pthread_mutex_init(&c->status_lock, NULL);
    snprintf(c->status.name, sizeof(c->status.name), "%s", cc->name);
    snprintf(c->status.group, sizeof(c->status.group), "%s", c->group);
    snprintf(c->status.state, sizeof(c->status.state), "starting");
    c->status.lag = -1;
    wb_buf_init(&c->avro_json, 0);
    wb_buf_init(&c->sig, 64 * 1024);
    wb_buf_init(&c->pinned, 0);
    c->targets[0].pointer = st->type_pointer;
    c->targets[1].pointer = st->id_pointer;
    wb_timer_init(&c->dispatch_timer, dispatch, c);
    wb_timer_init(&c->poll_timer, on_poll_timer, c);
    wb_timer_init(&c->commit_timer, on_commit_timer, c);
    wb_timer_init(&c->gauge_timer, on_gauge_timer, c);
    const wb_config *cfg = st->cfg;
    c->ledger = wb_ledger_new((size_t)cfg->outbound.max_in_flight_per_partition,
                              cfg->outbound.max_in_flight_bytes);
    c->sched = wb_sched_new();
    c->sc = c->sched ? wb_sched_conn_new(c->sched, cc->max_concurrency, cc->rate_per_s,
                                         cc->circuit_failures, cc->circuit_cooldown_ms)
                     : NULL;
    if (!c->ledger || !c->sc) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    metrics_register(c);
    c->paused = cc->paused;
    wb_sched_conn_pause(c->sc, c->paused);
    if (consumer_start(c, bootstrap, nconsumers, errstr, errstr_size)) goto fail;
    wb_loop_timer_start(lp, &c->gauge_timer, wb_loop_now(lp) + GAUGE_MS);
    wb_loop_timer_start(lp, &c->commit_timer, wb_loop_now(lp) + cfg->outbound.commit_interval_ms);
    if (c->mode == WB_CONN_LIVE)
        WB_INFO("connector %s: consuming %zu topic(s) in group %s%s", c->name, cc->ntopics,
                c->group, c->paused ? " (paused)" : "");
    return c;
fail:
    wb_conn_free(c);
    return NULL;
}

void wb_conn_reload(wb_conn *c, wb_settings *st)
{
    const wb_connector *old = c->st->cc, *cc = st->cc;
    int was_paused_in_file = old->paused;
    wb_settings_ref(st);
    wb_settings_unref(c->st);
    c->st = st;
    c->targets[0].pointer = st->type_pointer;
    c->targets[1].pointer = st->id_pointer;
    c->owned_partitions = -1; /* recompute the rate share with the new limit */
    wb_sched_conn_update(c->sc, cc->max_concurrency, cc->rate_per_s, cc->circuit_failures,
                         cc->circuit_cooldown_ms);
    wb_ledger_set_budgets(c->ledger, (size_t)st->cfg->outbound.max_in_flight_per_partition,
                          st->cfg->outbound.max_in_flight_bytes);
    /* `paused:` applies when the file changed it; an admin pause is not undone by a reload
     * of an unchanged file. */
    if (cc->paused != was_paused_in_file) wb_conn_set_paused(c, cc->paused);
    conn_refresh(c);
    conn_dispatch_soon(c);
}

void wb_conn_set_paused(wb_conn *c, int paused)
{
    if (c->paused == paused) return;
    c->paused = paused;
    wb_sched_conn_pause(c->sc, paused);
    if (paused) {
        parts_pause_all(c);
    } else {
        for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = LIST_NEXT(p, link))
            part_resume_maybe(c, p);
        conn_dispatch_soon(c);
    }
    WB_WARN("connector %s: %s", c->name,
            paused ? "paused: fetching and new deliveries stopped; in-flight ones finish"
                   : "resumed");
    conn_refresh(c);
}

/* Stopping: once nothing is in flight, or at the deadline, abort what still runs, commit the
 * terminal prefix, drop the rest (redelivered after a restart) and close the consumer. */
static void stop_progress(wb_conn *c)
{
    if (c->closed) return;
    size_t busy = wb_ledger_in_flight(c->ledger);
    if (c->stop_deadline > 0 && (busy == 0 || wb_now_ms() >= c->stop_deadline)) {
        c->stop_deadline = 0; /* once */
        if (busy)
            WB_WARN("connector %s: drain bound reached with %zu record(s) in flight: they will "
                    "be redelivered after the restart",
                    c->name, busy);
        rec *r, *next;
        for (r = TAILQ_FIRST(&c->recs); r; r = next) {
            next = TAILQ_NEXT(r, link);
            if (r->state == REC_RUNNING) delivery_cancel(c, r);
        }
        if (conn_commits(c)) consumer_commit(c, 1);
        /* Fence every partition (drops what is idle; dead-letter writes in the producer come
         * back and are released then), then leave the group. */
        wb_ledger_part *p;
        while ((p = wb_ledger_parts(c->ledger))) {
            free(p->user);
            p->user = NULL;
            int tracked = wb_ledger_tracked(p) > 0;
            wb_ledger_fence(c->ledger, p);
            if (!tracked) continue;
            for (r = TAILQ_FIRST(&c->recs); r; r = next) {
                next = TAILQ_NEXT(r, link);
                if (r->part != p || (r->state == REC_DEAD_LETTER && r->dlq_inflight)) continue;
                if (r->state == REC_DEAD_LETTER) deadletter_cancel(c, r);
                rec_free(c, r);
            }
        }
        c->assigned = 0;
        consumer_close(c);
    }
    if (!c->closed && rd_kafka_consumer_closed(c->rk)) c->closed = 1;
}

void wb_conn_stop(wb_conn *c, int64_t deadline_ms)
{
    if (c->stopping) return;
    c->stopping = 1;
    c->stop_deadline = deadline_ms > 0 ? deadline_ms : 1;
    parts_pause_all(c);
    WB_INFO("connector %s: stopping: draining %zu record(s)", c->name,
            wb_ledger_in_flight(c->ledger));
    stop_progress(c);
    conn_refresh(c);
}

int wb_conn_stopped(const wb_conn *c)
{
    if (!c->closed) return 0;
    const rec *r;
    TAILQ_FOREACH(r, &c->recs, link)
    if (r->dlq_inflight) return 0;
    return 1;
}

void wb_conn_free(wb_conn *c)
{
    if (!c) return;
    /* The consumer goes first: with NO_CONSUMER_CLOSE no rebalance callback can run into
     * the state torn down below. */
    if (c->qfd[0] >= 0) wb_loop_io_del(c->lp, c->qfd[0]);
    if (c->pending_revoke) rd_kafka_topic_partition_list_destroy(c->pending_revoke);
    if (c->queue) rd_kafka_queue_destroy(c->queue);
    if (c->rk) rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    wb_loop_timer_stop(c->lp, &c->dispatch_timer);
    wb_loop_timer_stop(c->lp, &c->poll_timer);
    wb_loop_timer_stop(c->lp, &c->commit_timer);
    wb_loop_timer_stop(c->lp, &c->gauge_timer);
    rec *r;
    while ((r = TAILQ_FIRST(&c->recs))) {
        if (r->state == REC_RUNNING && r->xfer) wb_http_cancel(c->http, r->xfer);
        r->xfer = NULL;
        wb_loop_timer_stop(c->lp, &r->dlq_timer);
        wb_loop_unpost(c->lp, &r->dlq_msg);
        if (r->jq_req && c->jq) wb_jq_cancel(c->jq, r->jq_req);
        TAILQ_REMOVE(&c->recs, r, link);
        if (r->attempt_st) wb_settings_unref(r->attempt_st);
        wb_buf_free(&r->body);
        rd_kafka_message_destroy(r->rkm);
        free(r);
    }
    for (int i = 0; i < 2; i++)
        if (c->qfd[i] >= 0) close(c->qfd[i]);
    wb_ledger_free(c->ledger);
    wb_sched_free(c->sched);
    wb_buf_free(&c->avro_json);
    wb_buf_free(&c->sig);
    wb_buf_free(&c->pinned);
    if (c->st) wb_settings_unref(c->st);
    pthread_mutex_destroy(&c->status_lock);
    free(c->name);
    free(c->group);
    free(c->events_glob);
    free(c->reason);
    free(c);
}

void wb_conn_registry_ready(wb_conn *c)
{
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = LIST_NEXT(p, link)) {
        part_user *u = p->user;
        if (!u || !u->paused_wait) continue;
        u->paused_wait = 0;
        part_resume_maybe(c, p);
    }
}

void wb_conn_set_jq(wb_conn *c, struct wb_jq *jq)
{
    c->jq = jq;
}

void wb_conn_get_progress(const wb_conn *c, wb_conn_progress *out)
{
    *out = c->progress;
    if (c->mode == WB_CONN_LIVE || !c->joined) {
        out->done = 0;
        return;
    }
    /* done: every partition read to its end, nothing in flight (dead-letter writes included) */
    int done = wb_ledger_in_flight(c->ledger) == 0;
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); done && p; p = LIST_NEXT(p, link))
        done = p->user && ((part_user *)p->user)->reached;
    const rec *r;
    TAILQ_FOREACH(r, &c->recs, link)
    if (r->dlq_inflight || r->state == REC_DEAD_LETTER) done = 0;
    out->done = done && (c->mode == WB_CONN_REPLAY || c->assigned > 0 || c->joined);
}

const char *wb_conn_name(const wb_conn *c)
{
    return c->name;
}

int wb_conn_ready(const wb_conn *c)
{
    return !c->dead && (c->joined || c->paused);
}

int wb_conn_in_flight(const wb_conn *c)
{
    return (int)wb_ledger_in_flight(c->ledger);
}

void wb_conn_get_status(wb_conn *c, wb_conn_status *out)
{
    pthread_mutex_lock(&c->status_lock);
    *out = c->status;
    pthread_mutex_unlock(&c->status_lock);
}
