/* outbound/delivery.c - one delivery attempt of a record and what its outcome means.
 *
 * An attempt is built from the connector's CURRENT settings (after a reload, a queued or
 * retrying record goes to the new URL with the new secrets), and holds a reference on them
 * until it completes. Headers are typed values: webhook-id, webhook-timestamp, the signature
 * header(s) of the scheme, traceparent -- plus the target's constant headers. The signature
 * covers exactly the body sent (the envelope, or the transform's output).
 *
 * Outcomes: 2xx delivered (terminal); 429/503 honour Retry-After; other retryable failures
 * follow the retry schedule with +-20% jitter drawn from OpenSSL's RNG (replicas do not retry
 * in lockstep); exhausted (on_exhausted: dead-letter) or permanent -> dead-letter topic with
 * the reason; `on_exhausted: block` keeps retrying at the last interval. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "outbound/conn_int.h"
#include "outbound/retry.h"
#include "core/util.h"

#define MAX_REQ_HEADERS 8

static void on_done(void *opaque, const wb_http_result *res);

static void attempt_failed_to_start(wb_conn *c, rec *r, wb_err err);

void delivery_start(wb_conn *c, rec *r)
{
    int64_t now = wb_loop_now(c->lp);
    part_user *u = r->part->user;
    if (r->part->fenced || !u) { /* revoked meanwhile: the new owner redelivers it */
        wb_sched_finish(c->sched, &r->job, -1, now);
        r->queued = 0;
        rec_free(c, r);
        return;
    }
    if (u->revoking) {
        /* The partition is leaving: start nothing new; the revoke drops this record. */
        wb_sched_defer(c->sched, &r->job, now + 1000, now);
        return;
    }
    wb_settings *st = c->st;
    r->attempts++;
    r->last_attempt_ms = wb_wall_ms();
    if (!r->first_attempt_ms) r->first_attempt_ms = r->last_attempt_ms;
    int64_t ts_s = r->last_attempt_ms / 1000;
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, ts_s);

    wb_http_header h[MAX_REQ_HEADERS];
    size_t n = 0;
    h[n++] = (wb_http_header){"webhook-id", r->ev.id};
    h[n++] = (wb_http_header){"webhook-timestamp", ts};
    wb_buf_reset(&c->sig);
    size_t nsig = 0;
    wb_err err = wb_signer_sign_headers(st->signer, r->ev.id, ts_s, r->body.data, r->body.len,
                                        h + n, MAX_REQ_HEADERS - 3, &nsig, &c->sig);
    if (!err) {
        n += nsig;
        h[n++] = (wb_http_header){"traceparent", r->ev.traceparent};
        r->started_us = wb_now_us();
        wb_counter_inc(c->m_attempts);
        err = wb_http_submit(c->http, st->target, h, n, r->body.data, r->body.len, on_done, r,
                             &r->xfer);
    }
    if (err) {
        attempt_failed_to_start(c, r, err);
        return;
    }
    r->attempt_st = wb_settings_ref(st);
    r->state = REC_RUNNING;
}

void delivery_cancel(wb_conn *c, rec *r)
{
    if (r->state != REC_RUNNING || !r->xfer) return;
    wb_http_cancel(c->http, r->xfer);
    r->xfer = NULL;
    wb_settings_unref(r->attempt_st);
    r->attempt_st = NULL;
    wb_sched_finish(c->sched, &r->job, -1, wb_loop_now(c->lp));
    r->queued = 0;
    r->state = REC_QUEUED; /* idle: dropped by whoever cancelled it */
}

static void handle_result(wb_conn *c, rec *r, const wb_http_result *res, int64_t latency_us);

/* A request that could not even be sent: one that cannot be built never will be
 * (permanent); anything else (memory) counts as a failed attempt like a connection error. */
static void attempt_failed_to_start(wb_conn *c, rec *r, wb_err err)
{
    wb_http_result res;
    memset(&res, 0, sizeof(res));
    res.retry_after_ms = -1;
    res.cls = err == WB_ERR_INVALID || err == WB_ERR_TOO_LARGE ? WB_HTTP_PERMANENT : WB_HTTP_RETRY;
    snprintf(res.error, sizeof(res.error), "cannot start the request: %s", wb_err_str(err));
    handle_result(c, r, &res, 0);
}

/* libcurl completion (loop thread). */
static void on_done(void *opaque, const wb_http_result *res)
{
    rec *r = opaque;
    wb_conn *c = r->conn;
    r->xfer = NULL;
    if (r->attempt_st) wb_settings_unref(r->attempt_st);
    r->attempt_st = NULL;
    r->state = REC_QUEUED;
    handle_result(c, r, res, wb_now_us() - r->started_us);
    conn_dispatch_soon(c);
}

static void handle_result(wb_conn *c, rec *r, const wb_http_result *res, int64_t latency_us)
{
    const wb_connector *cc = c->st->cc;
    int64_t now = wb_loop_now(c->lp);
    r->last_status = res->status;
    if (r->part->fenced) {
        /* Revoked or lost meanwhile: the new owner redelivers it. A success still extends the
         * old generation's delivered prefix, where this process resumes should the partition
         * come back to it soon (ledger.h). */
        wb_sched_finish(c->sched, &r->job, -1, now);
        r->queued = 0;
        if (res->cls == WB_HTTP_DONE)
            conn_record_terminal(c, r);
        else
            rec_free(c, r);
        return;
    }
    switch (res->cls) {
    case WB_HTTP_DONE:
        wb_sched_finish(c->sched, &r->job, 1, now);
        r->queued = 0;
        c->delivered++;
        c->progress.delivered++;
        wb_counter_inc(c->m_delivered);
        wb_histogram_observe(c->m_latency, (double)(wb_wall_ms() - r->ev.ts_ms) / 1000.0);
        conn_observe(c, r, "delivered", latency_us, NULL);
        conn_record_terminal(c, r);
        return;
    case WB_HTTP_RETRY: {
        conn_set_error(c, "%s", res->error);
        int exhausted = (size_t)r->attempts > cc->nretry;
        if (exhausted && cc->on_exhausted == WB_EXHAUST_DEAD_LETTER) {
            wb_sched_finish(c->sched, &r->job, 0, now);
            r->queued = 0;
            wb_log_fields lf = conn_log_fields(c, r);
            WB_WARNF(&lf, "connector %s: %s %s: attempt %d failed (%s); retries exhausted", c->name,
                     r->ev.type, r->ev.id, r->attempts, res->error);
            conn_observe(c, r, "exhausted", latency_us, res->error);
            deadletter_send(c, r, "exhausted", "%s", res->error);
            return;
        }
        int64_t delay = wb_retry_backoff_ms(cc, r->attempts);
        int64_t ra = res->retry_after_ms;
        if (ra >= 0) {
            if (ra > cc->retry_after_cap_ms) ra = cc->retry_after_cap_ms;
            if (ra > delay) delay = ra;
        }
        c->retried++;
        wb_counter_inc(c->m_retried);
        wb_log_fields lf = conn_log_fields(c, r);
        WB_WARNF(&lf, "connector %s: %s %s: attempt %d failed (%s); retry in %" PRId64 " ms",
                 c->name, r->ev.type, r->ev.id, r->attempts, res->error, delay);
        conn_observe(c, r, "retry", latency_us, res->error);
        wb_sched_retry(c->sched, &r->job, 0, now + delay, ra, now);
        return;
    }
    case WB_HTTP_GONE:
    case WB_HTTP_PERMANENT:
    default: {
        /* An answer is no reason to open the breaker; no answer (egress denied, a request
         * that cannot be built) says nothing about the endpoint either way. */
        wb_sched_finish(c->sched, &r->job, res->status > 0 ? 1 : -1, now);
        r->queued = 0;
        wb_counter_inc(c->m_rejected);
        conn_set_error(c, "%s", res->error);
        wb_log_fields lf = conn_log_fields(c, r);
        if (res->cls == WB_HTTP_GONE)
            WB_ERRORF(&lf, "connector %s: %s: endpoint gone (HTTP 410): check the connector's url",
                      c->name, r->ev.id);
        else
            WB_WARNF(&lf, "connector %s: %s %s: permanent failure (%s)", c->name, r->ev.type,
                     r->ev.id, res->error);
        conn_observe(c, r, "rejected", latency_us, res->error);
        deadletter_send(c, r, res->cls == WB_HTTP_GONE ? "gone" : "rejected", "%s", res->error);
        return;
    }
    }
}
