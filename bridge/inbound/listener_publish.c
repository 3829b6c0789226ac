/* listener_publish.c - what happens to an inbound request once its body is in: verify,
 * rate, validate, dedupe, publish, wait for the broker's delivery report (tickets, the
 * shared pending list, the timer thread) and answer. See listener.c for the lifetimes. */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/header_value.h"
#include "inbound/inbound_ce.h"
#include "core/jscan.h"
#include "inbound/listener_int.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *ct,
                              const char *body, size_t len, int retry_after, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    if (retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result wb_listener_problem(request *r, const char *url, int status, const char *slug,
                                    const char *detail, int retry_after)
{
    struct MHD_Connection *c = r->conn;
    r->status = status;
    wb_buf b;
    wb_buf_init(&b, 4096);
    if (wb_problem_json(&b, status, slug, detail, url)) {
        wb_buf_free(&b);
        return MHD_NO;
    }
    WB_DEBUG("inbound %s -> %d %s", url ? url : "?", status, detail ? detail : "");
    enum MHD_Result rc = answer(c, status, WB_PROBLEM_CONTENT_TYPE, b.data, b.len, retry_after,
                                status == 405 ? "POST" : NULL);
    wb_buf_free(&b);
    return rc;
}

static enum MHD_Result json_ok(request *r, const char *body)
{
    r->status = 200;
    return answer(r->conn, 200, "application/json", body, strlen(body), 0, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Shared state and tickets
 * ---------------------------------------------------------------------------------------- */

void wb_listener_shared_unref(shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    int last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->lock);
    if (!last) return;
    for (size_t i = 0; i < sh->ndd; i++)
        wb_dedupe_free(sh->dd[i]);
    free(sh->dd);
    pthread_cond_destroy(&sh->cond);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

static void pending_unlink(shared *sh, ticket *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        sh->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        sh->tail = t->prev;
    t->prev = t->next = NULL;
    sh->npending--;
}

/* Commit (the broker acked) or abort (forget: the partner's retry is accepted) the dedupe
 * keys of a publish: the delivery id and the signature digest. */
static void keys_release(wb_dedupe *dd, const char *keys, size_t idlen, size_t dglen, int commit)
{
    if (!dd) return;
    void (*fn)(wb_dedupe *, const char *, size_t) = commit ? wb_dedupe_commit : wb_dedupe_abort;
    if (idlen) fn(dd, keys, idlen);
    if (dglen) fn(dd, keys + idlen, dglen);
}

/* Lock held: answer the ticket's request with a 503 (timeout or shutdown) and forget the
 * dedupe reservation so the partner's retry is accepted. Returns the connection to resume. */
struct MHD_Connection *wb_listener_expire(shared *sh, ticket *t, const char *why)
{
    request *r = t->req;
    pending_unlink(sh, t);
    t->req = NULL;
    keys_release(t->dd, t->keys, t->idlen, t->dglen, 0);
    r->perr = WB_ERR_TIMEOUT;
    r->timed_out = 1;
    snprintf(r->errmsg, sizeof(r->errmsg), "%s", why);
    r->phase = P_DONE;
    return r->conn;
}

/* Delivery report, on the producer thread. */
static void on_ack(void *opaque, wb_err err, const char *errmsg, int32_t partition, int64_t offset)
{
    ticket *t = opaque;
    shared *sh = t->sh;
    if (t->lat) wb_histogram_observe(t->lat, (double)(wb_now_us() - t->t0_us) / 1e6);
    /* Commit first, so a retry racing with our 200 already finds the id SEEN. A late success
     * (after a timeout) commits too; a late failure leaves the id alone (a retry may hold it). */
    if (!err) keys_release(t->dd, t->keys, t->idlen, t->dglen, 1);
    pthread_mutex_lock(&sh->lock);
    request *r = t->req;
    if (r) {
        pending_unlink(sh, t);
        t->req = NULL;
        if (err) keys_release(t->dd, t->keys, t->idlen, t->dglen, 0);
        r->perr = err;
        r->partition = partition;
        r->offset = offset;
        if (err) snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg ? errmsg : "kafka error");
        r->phase = P_DONE;
    } else if (!err) {
        WB_INFO("inbound: broker acked a request after it was answered 503 (id %.*s)",
                (int)(t->idlen < 64 ? t->idlen : 64), t->keys);
    }
    pthread_mutex_unlock(&sh->lock);
    if (r) MHD_resume_connection(r->conn);
    free(t);
    wb_listener_shared_unref(sh);
}

/* Timer thread: answers 503 to requests whose publish deadline passed, and cuts connections
 * past their own deadline (slow clients) every SWEEP_MS. */
void *wb_listener_timer_run(void *arg)
{
    shared *sh = arg;
    int64_t next_sweep = 0;
    pthread_mutex_lock(&sh->lock);
    while (!sh->stop) {
        int64_t now = wb_now_ms();
        if (now >= next_sweep && sh->guard) {
            pthread_mutex_unlock(&sh->lock);
            wb_connguard_sweep(sh->guard, now);
            pthread_mutex_lock(&sh->lock);
            next_sweep = now + SWEEP_MS;
            continue;
        }
        if (sh->head && sh->head->deadline_ms <= now) {
            struct MHD_Connection *c = wb_listener_expire(sh, sh->head,
                                                          "no acknowledgement from Kafka "
                                                          "within publish_timeout");
            pthread_mutex_unlock(&sh->lock);
            MHD_resume_connection(c);
            pthread_mutex_lock(&sh->lock);
            continue;
        }
        int64_t wake =
            sh->head && sh->head->deadline_ms < next_sweep ? sh->head->deadline_ms : next_sweep;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (wake - now) * 1000000LL;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&sh->cond, &sh->lock, &ts);
    }
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Publishing
 * ---------------------------------------------------------------------------------------- */

const char *wb_listener_header(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* Decimal text of v at p; returns the length. */
static size_t put_int(char *p, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0) p[len++] = '-';
    while (n)
        p[len++] = tmp[--n];
    return len;
}

/* Token bucket, burst = one second of rate (at least 1). Returns 0 or the Retry-After. */
static int rate_take(inconn *ic)
{
    double rate = ic->k->rate_per_s;
    if (rate <= 0) return 0;
    double burst = rate < 1 ? 1 : rate;
    int retry = 0;
    pthread_mutex_lock(&ic->rl_lock);
    int64_t now = wb_now_us();
    ic->tokens += (double)(now - ic->rl_last_us) / 1e6 * rate;
    if (ic->tokens > burst) ic->tokens = burst;
    ic->rl_last_us = now;
    if (ic->tokens >= 1)
        ic->tokens -= 1;
    else
        retry = (int)((1 - ic->tokens) / rate) + 1;
    pthread_mutex_unlock(&ic->rl_lock);
    return retry;
}

/* Kafka record headers being built, with their serialized size (librdkafka counts key +
 * value + headers against message.max.bytes; 8 bytes covers each header's varints). */
typedef struct hdrset {
    rd_kafka_headers_t *h;
    size_t bytes;
} hdrset;

static void add_hdr(hdrset *hs, const char *name, const char *value)
{
    if (!value) return;
    size_t vl = strlen(value);
    rd_kafka_header_add(hs->h, name, -1, value, (ssize_t)vl);
    hs->bytes += strlen(name) + vl + 8;
}

/* 400 when v (named field) cannot be a header value; 0 when it can. */
static int field_bad(request *r, const char *url, const char *field, const char *v, size_t max,
                     enum MHD_Result *rc)
{
    const char *bad = v ? wb_header_value_problem(v, strlen(v), max) : NULL;
    if (!bad) return 0;
    char detail[256];
    snprintf(detail, sizeof(detail), "%s %s", field, bad);
    *rc = wb_listener_problem(r, url, 400, "malformed", detail, 0);
    return 1;
}

/* Reserve the dedupe keys of a verified request. Anything but NEW leaves nothing reserved;
 * ERROR (out of memory) means: publish without dedupe. */
static wb_dedupe_state keys_reserve(wb_dedupe *dd, const char *keys, size_t idlen, size_t dglen)
{
    wb_dedupe_state st = WB_DEDUPE_NEW;
    if (idlen && (st = wb_dedupe_begin(dd, keys, idlen)) != WB_DEDUPE_NEW) return st;
    if (dglen && (st = wb_dedupe_begin(dd, keys + idlen, dglen)) != WB_DEDUPE_NEW) {
        if (idlen) wb_dedupe_abort(dd, keys, idlen);
        return st;
    }
    return st;
}

/* Body complete: verify, parse, dedupe, publish and suspend. */
enum MHD_Result wb_listener_process(wb_listener *l, request *r, const char *url)
{
    inconn *ic = &l->in[r->connector];
    const wb_connector *k = ic->k;
    struct MHD_Connection *c = r->conn;
    const char *body = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    enum MHD_Result rc;
    int is_json = 0;
    /* key and event type pointers, found by the same pass that validates the body */
    wb_jscan_target tg[2] = {
        {.pointer = k->key_pointer},
        {.pointer = k->event_type && k->event_type[0] == '/' ? k->event_type : NULL}};
    char *key = NULL, *type = NULL;
    hdrset hs = {NULL, 0};
    ticket *t = NULL;
    wb_dedupe *dd = NULL;
    char keys[256 + DIGEST_KEY_MAX];
    size_t idlen = 0, dglen = 0;

    /* 1. signature and freshness */
    wb_verify_result vr;
    wb_err err = wb_verifier_verify(atomic_load(&ic->v), wb_listener_header, c, body, len,
                                    (int64_t)time(NULL), &vr);
    if (err == WB_ERR_SIGNATURE) {
        wb_counter_inc(ic->m.verify_signature);
        rc = wb_listener_problem(r, url, 401, "signature",
                                 vr.reason[0] ? vr.reason : "bad signature", 0);
        goto out;
    }
    if (err == WB_ERR_STALE) {
        wb_counter_inc(ic->m.verify_stale);
        rc = wb_listener_problem(r, url, 401, "stale-timestamp",
                                 vr.reason[0] ? vr.reason : "timestamp outside the tolerance", 0);
        goto out;
    }
    if (err) {
        wb_counter_inc(ic->m.verify_malformed);
        rc = wb_listener_problem(r, url, 400, "malformed",
                                 vr.reason[0] ? vr.reason : wb_err_str(err), 0);
        goto out;
    }

    /* 1b. the rate token, only for requests that proved to be the partner's */
    int retry = rate_take(ic);
    if (retry) {
        rc = wb_listener_problem(r, url, 429, "rate-limited", "over the connector's rate_limit",
                                 retry);
        goto out;
    }

    /* 2. JSON (form bodies of Slack are validated as forms and forwarded as they are) */
    if (!r->form) {
        char jerr[96] = "empty body";
        int jline = 1;
        if (len == 0 || wb_jscan(body, len, tg, 2, jerr, sizeof(jerr), &jline)) {
            char detail[256];
            snprintf(detail, sizeof(detail), "body is not valid JSON: %s (line %d)", jerr, jline);
            rc = wb_listener_problem(r, url, 400, "malformed", detail, 0);
            goto out;
        }
        is_json = 1;
    } else if (!wb_listener_form_ok(body, len)) {
        rc = wb_listener_problem(
            r, url, 400, "malformed",
            "body is not application/x-www-form-urlencoded (name=value pairs joined "
            "by '&', percent-encoded)",
            0);
        goto out;
    }

    /* 2b. the values that become record headers: no control characters (typed headers
     * downstream never split them again, but a partner request header must not carry one) */
    if (k->event_type) {
        if (k->event_type[0] == '/')
            type = is_json ? wb_inbound_ce_pointer_text(&tg[1], r->body.data, r->body.len) : NULL;
        else
            type = wb_strdup(wb_listener_header(c, k->event_type));
        char field[96];
        snprintf(field, sizeof(field), "event type (%s)", k->event_type);
        if (field_bad(r, url, field, type, WB_HEADER_ID_MAX, &rc)) goto out;
    }
    if (field_bad(r, url, "Content-Type", wb_listener_header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
                  WB_SIG_MAX_HEADER, &rc))
        goto out;
    for (size_t i = 0; i < k->nforward_headers; i++) {
        char field[96];
        snprintf(field, sizeof(field), "header %s", k->forward_headers[i]);
        if (field_bad(r, url, field, wb_listener_header(c, k->forward_headers[i]),
                      WB_SIG_MAX_HEADER, &rc))
            goto out;
    }

    /* 2c. schema: validate and encode to Confluent-framed Avro (422 names the field) */
    if (k->schema && is_json) {
        char reason[256] = "";
        wb_buf_reset(&r->avro);
        pthread_mutex_lock(&l->schemas_lock);
        err = wb_schemas_from_json(l->schemas, k->schema, body, len, &r->avro, reason,
                                   sizeof(reason));
        pthread_mutex_unlock(&l->schemas_lock);
        if (err) {
            char detail[320];
            snprintf(detail, sizeof(detail), "body does not fit schema %s: %s", k->schema,
                     reason[0] ? reason : wb_err_str(err));
            rc = wb_listener_problem(r, url, 422, "schema", detail, 0);
            goto out;
        }
        body = r->avro.data;
        len = r->avro.len;
    }

    /* 3. dedupe: on the delivery id and, when a replay could change the id (it is not
     * signed) or there is none, on the signature's digest too */
    idlen = strlen(vr.delivery_id);
    memcpy(keys, vr.delivery_id, idlen);
    if (vr.digest_len && (!vr.id_signed || !idlen)) {
        keys[idlen] = DIGEST_KEY_TAG;
        memcpy(keys + idlen + 1, vr.digest, vr.digest_len);
        dglen = 1 + vr.digest_len;
    }
    dd = idlen || dglen ? l->sh->dd[r->connector] : NULL;
    if (dd) {
        wb_dedupe_state st = keys_reserve(dd, keys, idlen, dglen);
        if (st == WB_DEDUPE_SEEN) {
            wb_counter_inc(ic->m.duplicates);
            rc = json_ok(r, "{\"duplicate\":true}");
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_IN_FLIGHT) {
            wb_counter_inc(ic->m.in_flight_conflicts);
            rc = wb_listener_problem(
                r, url, 409, "in-flight",
                "a request with this delivery id is being published; retry later", 1);
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_FULL) {
            rc =
                wb_listener_problem(r, url, 503, "unavailable",
                                    "too many deliveries of this connector are being published", 1);
            dd = NULL;
            goto out;
        }
        if (st == WB_DEDUPE_ERROR) dd = NULL;
    }

    /* 4. key, CloudEvents headers */
    if (is_json && k->key_pointer)
        key = wb_inbound_ce_pointer_text(&tg[0], r->body.data, r->body.len);
    char ceid[37], cetime[48], tp[56];
    const char *id = vr.delivery_id;
    if (!id[0]) {
        wb_inbound_ce_uuid(ceid);
        id = ceid;
    }
    wb_inbound_ce_time(cetime);
    const char *in_tp = wb_listener_header(c, "traceparent");
    if (wb_inbound_ce_traceparent_ok(in_tp))
        snprintf(tp, sizeof(tp), "%s", in_tp);
    else
        wb_inbound_ce_traceparent_new(tp);
    hs.h = rd_kafka_headers_new(8 + k->nforward_headers);
    if (!hs.h) goto nomem;
    add_hdr(&hs, "ce_specversion", "1.0");
    add_hdr(&hs, "ce_id", id);
    add_hdr(&hs, "ce_source", ic->source);
    add_hdr(&hs, "ce_type", type ? type : "unknown");
    add_hdr(&hs, "ce_time", cetime);
    add_hdr(&hs, "content-type",
            k->schema ? "application/vnd.apache.avro+binary"
                      : wb_listener_header(c, MHD_HTTP_HEADER_CONTENT_TYPE));
    add_hdr(&hs, "traceparent", tp);
    for (size_t i = 0; i < k->nforward_headers; i++)
        add_hdr(&hs, k->forward_headers[i], wb_listener_header(c, k->forward_headers[i]));

    /* 4b. the record must fit the producer's message.max.bytes (max_body does, checked at
     * load; its key and headers may not) */
    if (len + (key ? strlen(key) : 0) + hs.bytes > l->max_record) {
        keys_release(dd, keys, idlen, dglen, 0);
        dd = NULL;
        rc = wb_listener_problem(
            r, url, 413, "too-large",
            "the record (body, key and headers) exceeds Kafka's message.max.bytes", 0);
        goto out;
    }

    /* 5. publish: ticket in the pending list and connection suspended before the send, so
     * the delivery report can never run ahead of us. */
    t = calloc(1, sizeof(*t) + idlen + dglen);
    if (!t) goto nomem;
    t->sh = l->sh;
    t->req = r;
    t->dd = dd;
    t->idlen = idlen;
    t->dglen = dglen;
    memcpy(t->keys, keys, idlen + dglen);
    t->deadline_ms = wb_now_ms() + l->publish_timeout_ms;
    t->lat = ic->m.publish_seconds;
    t->t0_us = wb_now_us();
    r->phase = P_WAIT;
    r->waiting = 1;
    wb_connguard_park(r->slot); /* publish_timeout bounds the wait */
    MHD_suspend_connection(c);  /* before the ticket is reachable: nobody resumes early */
    pthread_mutex_lock(&l->sh->lock);
    if (l->sh->stop) { /* shutting down: the timer is gone, do not start a wait */
        r->phase = P_DONE;
        r->perr = WB_ERR_TIMEOUT;
        snprintf(r->errmsg, sizeof(r->errmsg), "shutting down");
        pthread_mutex_unlock(&l->sh->lock);
        keys_release(dd, keys, idlen, dglen, 0);
        free(t);
        MHD_resume_connection(c);
        rc = MHD_YES;
        goto out;
    }
    l->sh->refs++;
    t->prev = l->sh->tail;
    if (l->sh->tail)
        l->sh->tail->next = t;
    else
        l->sh->head = t;
    l->sh->tail = t;
    l->sh->npending++;
    pthread_mutex_unlock(&l->sh->lock);
    err = wb_producer_send(l->prod, k->topic, -1, key, key ? strlen(key) : 0, body, len, hs.h,
                           on_ack, t);
    if (err) {
        /* No report will come: take the ticket back (the timer may have expired it already,
         * in which case the 503 is on its way). */
        pthread_mutex_lock(&l->sh->lock);
        int mine = t->req != NULL;
        if (mine) {
            pending_unlink(l->sh, t);
            t->req = NULL;
            r->perr = err;
            snprintf(r->errmsg, sizeof(r->errmsg), "%s",
                     err == WB_ERR_FULL ? "producer queue full" : "produce failed");
            r->phase = P_DONE;
        }
        l->sh->refs--; /* never the last: the listener holds one */
        pthread_mutex_unlock(&l->sh->lock);
        if (mine) /* else wb_listener_expire() already released it (and a retry may hold it now) */
            keys_release(dd, keys, idlen, dglen, 0);
        free(t);
        rd_kafka_headers_destroy(hs.h);
        if (mine) MHD_resume_connection(c);
    }
    hs.h = NULL; /* the producer owns them now */
    rc = MHD_YES;
    goto out;

nomem:
    keys_release(dd, keys, idlen, dglen, 0);
    rc = wb_listener_problem(r, url, 503, "unavailable", "out of memory", RETRY_AFTER_UNAVAILABLE);
out:
    if (hs.h) rd_kafka_headers_destroy(hs.h);
    free(key);
    free(type);

    return rc;
}

/* Resumed after the delivery report / timeout: give the outcome. */
enum MHD_Result wb_listener_finish(wb_listener *l, request *r, const char *url)
{
    pthread_mutex_lock(&l->sh->lock);
    enum phase ph = r->phase;
    wb_err perr = r->perr;
    int32_t partition = r->partition;
    int64_t offset = r->offset;
    char errmsg[128];
    memcpy(errmsg, r->errmsg, sizeof(errmsg));
    pthread_mutex_unlock(&l->sh->lock);
    if (ph != P_DONE) /* spurious call while still suspended: nothing to say yet */
        return MHD_YES;
    if (perr) {
        char detail[200];
        snprintf(detail, sizeof(detail), "Kafka did not acknowledge the event: %s", errmsg);
        return wb_listener_problem(r, url, 503, "unavailable", detail, RETRY_AFTER_UNAVAILABLE);
    }
    /* {"topic":"...","partition":N,"offset":N}, built without printf (the hot path) */
    char body[512];
    const char *topic = l->in[r->connector].k->topic; /* a topic name: <= 249 safe chars */
    size_t tl = strlen(topic), n = 0;
    memcpy(body, "{\"topic\":\"", 10);
    n = 10;
    memcpy(body + n, topic, tl);
    n += tl;
    memcpy(body + n, "\",\"partition\":", 14);
    n += 14;
    n += put_int(body + n, partition);
    memcpy(body + n, ",\"offset\":", 10);
    n += 10;
    n += put_int(body + n, offset);
    memcpy(body + n, "}", 2);
    return json_ok(r, body);
}
