/* outbound/connector.c - one outbound connector's lifecycle: settings, start, pause, reload,
 * drain and stop; its timers, gauges and status (see connector.h and conn_int.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fatal.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/engine.h"
#include "core/util.h"

#define GAUGE_MS 1000 /* gauges, status, keep-alive poll, registry and drain checks */

/* ------------------------------------------------------------------------------------ */
/* Settings                                                                             */

wb_settings *wb_settings_new(wb_config *cfg, const wb_connector *cc, wb_http *http, char *errstr,
                             size_t errstr_size)
{
    wb_settings *st = calloc(1, sizeof(*st));
    char serr[256];
    if (!st) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    st->refs = 1;
    st->cfg = wb_config_ref(cfg);
    st->cc = cc;
    const char *file = cc->file ? cc->file : cc->name;
    st->signer = wb_signer_new(&cc->signing, serr, sizeof(serr));
    if (!st->signer) {
        snprintf(errstr, errstr_size, "%s:%d: signing: %s", file, cc->line, serr);
        goto fail;
    }
    if (cc->nallow_cidrs > 0) {
        st->policy = wb_egress_policy_new(cc->allow_cidrs, cc->nallow_cidrs, serr, sizeof(serr));
        if (!st->policy) {
            snprintf(errstr, errstr_size, "%s:%d: allow_cidrs: %s", file, cc->line, serr);
            goto fail;
        }
    }
    /* The constant headers, rendered once by the HTTP client. */
    wb_http_header hdrs[2 + 64];
    size_t n = 0;
    hdrs[n++] = (wb_http_header){"content-type", "application/json"};
    hdrs[n++] =
        (wb_http_header){"user-agent", cfg->outbound.user_agent ? cfg->outbound.user_agent
                                                                : "webhook-bridge/" WB_VERSION};
    for (size_t k = 0; k < cc->nheaders && n < sizeof(hdrs) / sizeof(hdrs[0]); k++)
        hdrs[n++] = (wb_http_header){cc->headers[k].name, cc->headers[k].value};
    wb_http_target_opts to = {
        .url = cc->url,
        .headers = hdrs,
        .nheaders = n,
        .timeout_ms = cc->timeout_ms,
        .connect_timeout_ms = cc->connect_timeout_ms,
        .allow_private = cc->allow_private_networks || cfg->allow_private_networks,
        .policy = st->policy,
        .https_only = cc->https_only,
        .client_cert = cc->client_cert,
        .client_key = cc->client_key,
        .ca_file = cc->ca_file,
        .proxy = cc->proxy,
    };
    if (http) {
        st->target = wb_http_target_new(http, &to, serr, sizeof(serr));
        if (!st->target) {
            snprintf(errstr, errstr_size, "%s:%d: %s", file, cc->line, serr);
            goto fail;
        }
    }
    st->type_pointer = cfg->outbound.event_type_pointer;
    st->id_pointer = cc->id_pointer ? cc->id_pointer : cfg->outbound.id_pointer;
    st->rate_per_s = cc->rate_per_s;
    return st;
fail:
    wb_settings_unref(st);
    return NULL;
}

wb_settings *wb_settings_ref(wb_settings *st)
{
    st->refs++;
    return st;
}

void wb_settings_unref(wb_settings *st)
{
    if (!st || --st->refs > 0) return;
    if (st->target) wb_http_target_release(st->target);
    wb_signer_free(st->signer);
    wb_egress_policy_free(st->policy);
    wb_config_unref(st->cfg);
    free(st);
}

/* ------------------------------------------------------------------------------------ */
/* Records, budgets, dispatch                                                           */

void conn_set_error(wb_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
    c->last_error_ms = wb_wall_ms();
}

static void maybe_resume_part(wb_conn *c, wb_ledger_part *p)
{
    part_user *u = p->user;
    if (!u || c->paused || c->bytes_paused || c->stopping || u->paused_window || u->paused_wait ||
        u->revoking)
        return;
    consumer_pause_part(c, p, 0);
}

void conn_check_budgets(wb_conn *c, wb_ledger_part *p)
{
    part_user *u = p && !p->fenced ? p->user : NULL;
    if (u) {
        if (!u->paused_window && wb_ledger_part_full(p)) {
            u->paused_window = 1;
            consumer_pause_part(c, p, 1);
        } else if (u->paused_window && wb_ledger_part_low(p)) {
            u->paused_window = 0;
            maybe_resume_part(c, p);
        }
    }
    if (!c->bytes_paused && wb_ledger_over_budget(c->ledger)) {
        c->bytes_paused = 1;
        WB_INFO("connector %s: %zu bytes in flight: pausing its partitions", c->name,
                wb_ledger_bytes(c->ledger));
        consumer_pause_all(c, 1);
    } else if (c->bytes_paused && wb_ledger_low_bytes(c->ledger)) {
        c->bytes_paused = 0;
        for (wb_ledger_part *q = wb_ledger_parts(c->ledger); q; q = q->next)
            maybe_resume_part(c, q);
    }
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

void conn_dispatch_soon(wb_conn *c)
{
    /* Runs in this turn's timer phase: after the fd callbacks, never inside one. */
    wb_loop_timer_start(c->lp, &c->dispatch_timer, wb_loop_now(c->lp));
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

/* ------------------------------------------------------------------------------------ */
/* Gauges and status                                                                    */

void conn_refresh(wb_conn *c)
{
    int64_t wall = wb_wall_ms();
    int64_t lag = 0, oldest = -1;
    double headroom = -1;
    int owned = 0, total = 0, lag_known = 0;
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = p->next) {
        part_user *u = p->user;
        if (!u) continue;
        owned++;
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
            lag += plag;
            lag_known = 1;
        }
        /* Oldest undelivered: the ledger's oldest record when it holds one; when records are
         * waiting that were not even fetched (paused, lagging), they were appended after the
         * last moment this partition was caught up: that bounds their age from above. */
        int64_t ts = wb_ledger_oldest_ts(p);
        if (plag == 0 && ts < 0) u->caught_up_ms = wall;
        if (ts < 0 && plag > 0) ts = u->caught_up_ms;
        int64_t age = ts >= 0 ? wall - ts : 0;
        if (age < 0) age = 0;
        if (ts >= 0 && (oldest < 0 || age > oldest)) oldest = age;
        int64_t ret = c->hooks && c->hooks->retention_ms
                          ? c->hooks->retention_ms(c->hooks_ctx, p->topic)
                          : c->st->cfg->outbound.retention_ms;
        double left = (double)(ret - age) / 1000.0;
        if (headroom < 0 || left < headroom) headroom = left;
    }
    for (size_t i = 0; c->hooks && c->hooks->partition_count && i < c->st->cc->ntopics; i++)
        total += c->hooks->partition_count(c->hooks_ctx, c->st->cc->topics[i]);
    if (headroom < 0) headroom = (double)c->st->cfg->outbound.retention_ms / 1000.0;

    /* rate_limit is the deployment's: this member sends its share (partitions it owns out of
     * all the connector's partitions), so replicas together stay within the limit. */
    if (owned != c->owned_partitions || total != c->total_partitions) {
        c->owned_partitions = owned;
        c->total_partitions = total;
        const wb_connector *cc = c->st->cc;
        double share = total > 0 && owned > 0 && owned < total ? (double)owned / total : 1.0;
        wb_sched_conn_update(c->sc, cc->max_concurrency, cc->rate_per_s * share,
                             cc->circuit_failures, cc->circuit_cooldown_ms);
        if (cc->rate_per_s > 0 && share < 1.0)
            WB_INFO("connector %s: owns %d of %d partitions: rate limit share %.2f/s of %.2f/s",
                    c->name, owned, total, cc->rate_per_s * share, cc->rate_per_s);
    }

    int circuit = (int)wb_sched_conn_circuit(c->sc);
    int in_flight = (int)wb_ledger_in_flight(c->ledger);
    wb_gauge_set(c->m_lag, lag_known ? (double)lag : 0);
    wb_gauge_set(c->m_oldest, oldest > 0 ? (double)oldest / 1000.0 : 0);
    wb_gauge_set(c->m_headroom, headroom);
    wb_gauge_set(c->m_in_flight, in_flight);
    wb_gauge_set(c->m_circuit, circuit);
    wb_gauge_set(c->m_paused, c->paused);
    wb_gauge_set(c->m_assigned, c->assigned);

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
    s->lag = lag_known ? lag : -1;
    s->oldest_undelivered_s = oldest > 0 ? (double)oldest / 1000.0 : 0;
    s->retention_headroom_s = headroom;
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

static void stop_progress(wb_conn *c);

static void on_gauge_timer(wb_loop *lp, void *arg)
{
    wb_conn *c = arg;
    int64_t now = wb_now_ms();
    consumer_poll(c); /* keeps max.poll.interval.ms satisfied while everything is paused */
    if (c->pending_revoke) consumer_finish_revoke(c, 0);
    /* partitions waiting for the schema registry */
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = p->next) {
        part_user *u = p->user;
        if (!u || !u->paused_wait || now < u->wait_until) continue;
        u->paused_wait = 0;
        maybe_resume_part(c, p);
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
        consumer_pause_all(c, 1);
    } else {
        for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = p->next)
            maybe_resume_part(c, p);
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
    consumer_pause_all(c, 1);
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
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); p; p = p->next) {
        part_user *u = p->user;
        if (!u || !u->paused_wait) continue;
        u->paused_wait = 0;
        maybe_resume_part(c, p);
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
    for (wb_ledger_part *p = wb_ledger_parts(c->ledger); done && p; p = p->next)
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
