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
#include "core/jscan.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/util.h"
#include "inbound/inbound_ce.h"
#include "inbound/listener_int.h"
#include "kafka/event.h"

/* ------------------------------------------------------------------------------------------
 * Answers
 * ---------------------------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *conn, int status, const char *ct,
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
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result wb_listener_problem(request *r, const char *url, int status, const char *slug,
                                    const char *detail, int retry_after)
{
    r->status = status;
    wb_buf b;
    wb_buf_init(&b, 4096);
    if (wb_problem_json(&b, status, slug, detail, url)) {
        wb_buf_free(&b);
        return MHD_NO;
    }
    wb_log_fields lf = {.connector = r->cc ? r->cc->name : NULL,
                        .webhook_id = r->delivery_id[0] ? r->delivery_id : NULL,
                        .status = status};
    WB_DEBUGF(&lf, "inbound %s -> %d %s", url ? url : "?", status, detail ? detail : "");
    enum MHD_Result rc = answer(r->conn, status, WB_PROBLEM_CONTENT_TYPE, b.data, b.len,
                                retry_after, status == 405 ? "POST" : NULL);
    wb_buf_free(&b);
    return rc;
}

static enum MHD_Result json_ok(request *r, const char *body)
{
    r->status = 200;
    return answer(r->conn, 200, "application/json", body, strlen(body), 0, NULL);
}

void wb_listener_verify_failed(inconn *ic, wb_err err, int *status, const char **slug)
{
    wb_counter *ctr = err == WB_ERR_SIGNATURE ? ic->m.verify_signature
                      : err == WB_ERR_STALE   ? ic->m.verify_stale
                                              : ic->m.verify_malformed;
    wb_counter_inc(ctr);
    *status = err == WB_ERR_SIGNATURE || err == WB_ERR_STALE ? 401 : 400;
    *slug = err == WB_ERR_STALE       ? "stale-timestamp"
            : err == WB_ERR_SIGNATURE ? "signature"
                                      : "malformed";
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

/* Lock held: t leaves the pending list. */
static void pending_unlink(shared *sh, ticket *t)
{
    TAILQ_REMOVE(&sh->pending, t, link);
    sh->npending--;
}

/* Commit (the broker acked) or abort (forget: the partner's retry is accepted) the dedupe
 * keys of a publish: the delivery id and the signature digest. */
static void keys_release(wb_dedupe *dd, const dkeys *keys, int commit)
{
    if (!dd) return;
    void (*fn)(wb_dedupe *, const char *, size_t) = commit ? wb_dedupe_commit : wb_dedupe_abort;
    if (keys->idlen) fn(dd, keys->id, keys->idlen);
    if (keys->dglen) fn(dd, keys->digest, keys->dglen);
}

/* Lock held: answer the ticket's request with a 503 (timeout or shutdown) and forget the
 * dedupe reservation so the partner's retry is accepted. Returns the connection to resume. */
struct MHD_Connection *wb_listener_expire(shared *sh, ticket *t, const char *why)
{
    request *r = t->req;
    pending_unlink(sh, t);
    t->req = NULL;
    keys_release(t->dd, &t->keys, 0);
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
    if (!err) keys_release(t->dd, &t->keys, 1);
    pthread_mutex_lock(&sh->lock);
    request *r = t->req;
    if (r) {
        pending_unlink(sh, t);
        t->req = NULL;
        if (err) keys_release(t->dd, &t->keys, 0);
        r->perr = err;
        r->partition = partition;
        r->offset = offset;
        if (err) snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg ? errmsg : "kafka error");
        r->phase = P_DONE;
    } else if (!err) {
        /* the partner was told 503 and will retry: its retry is the duplicate */
        wb_log_fields lf = {.connector = t->connector,
                            .webhook_id = t->keys.idlen ? t->keys.id : NULL,
                            .status = 503};
        WB_INFOF(&lf, "inbound: broker acked a request after it was answered 503 (id %.*s)",
                 (int)(t->keys.idlen < 64 ? t->keys.idlen : 64), t->keys.id);
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
        /* one publish_timeout for all: the oldest ticket is always the first to expire */
        ticket *oldest = TAILQ_FIRST(&sh->pending);
        if (oldest && oldest->deadline_ms <= now) {
            struct MHD_Connection *conn = wb_listener_expire(sh, oldest,
                                                             "no acknowledgement from Kafka "
                                                             "within publish_timeout");
            pthread_mutex_unlock(&sh->lock);
            MHD_resume_connection(conn);
            pthread_mutex_lock(&sh->lock);
            continue;
        }
        int64_t wake =
            oldest && oldest->deadline_ms < next_sweep ? oldest->deadline_ms : next_sweep;
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
 * Publishing: the steps of wb_listener_process
 * ---------------------------------------------------------------------------------------- */

const char *wb_listener_header(void *ctx, const char *name)
{
    return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

/* Decimal text of v at out; returns the length. */
static size_t put_int(char *out, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0) out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    return len;
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

/* One request on its way through wb_listener_process: what each step found, for the next.
 * A step returns 0 to go on, or 1 when it has queued the answer (rc). */
typedef struct pub {
    wb_listener *l;
    inconn *ic;
    const wb_connector *cc;
    request *r;
    const char *url;
    const char *body; /* what is published: the request body, or its Avro encoding */
    size_t len;
    int is_json;
    wb_jscan_target tg[2]; /* key and event-type pointers, found by the validating scan */
    char *key, *type;      /* record key and ce_type (malloc'd), or NULL */
    wb_verify_result res;
    dkeys keys;    /* the dedupe keys, reserved in dd when dd is set */
    wb_dedupe *dd; /* NULL: nothing reserved (no keys, duplicate, or out of memory) */
    hdrset hs;     /* the record's headers until the producer owns them */
    enum MHD_Result rc;
} pub;

/* A step's answer: queue it and stop. */
static int answered(pub *pb, int status, const char *slug, const char *detail, int retry_after)
{
    pb->rc = wb_listener_problem(pb->r, pb->url, status, slug, detail, retry_after);
    return 1;
}

/* Out of memory after the keys may have been reserved: give them back, answer 503. */
static int out_of_memory(pub *pb)
{
    keys_release(pb->dd, &pb->keys, 0);
    pb->dd = NULL;
    return answered(pb, 503, "unavailable", "out of memory", RETRY_AFTER_UNAVAILABLE);
}

/* 1. Signature and freshness over the whole body (the header stage ran in on_head). */
static int check_signature(pub *pb)
{
    wb_err err = wb_verifier_verify(atomic_load(&pb->ic->v), wb_listener_header, pb->r->conn,
                                    pb->body, pb->len, (int64_t)time(NULL), &pb->res);
    snprintf(pb->r->delivery_id, sizeof(pb->r->delivery_id), "%s", pb->res.delivery_id);
    if (!err) return 0;
    int status;
    const char *slug;
    wb_listener_verify_failed(pb->ic, err, &status, &slug);
    const char *fallback = err == WB_ERR_SIGNATURE ? "bad signature"
                           : err == WB_ERR_STALE   ? "timestamp outside the tolerance"
                                                   : wb_err_str(err);
    return answered(pb, status, slug, pb->res.reason[0] ? pb->res.reason : fallback, 0);
}

/* 1b. The rate token, only for requests that proved to be the partner's (unsigned junk must
 * not use up the partner's rate). 429 with the seconds until the next token. */
static int check_rate(pub *pb)
{
    inconn *ic = pb->ic;
    if (ic->bucket.rate <= 0) return 0; /* no rate_limit: no lock either */
    pthread_mutex_lock(&ic->rl_lock);
    int64_t now = wb_now_ms();
    int64_t wait_ms =
        wb_tokenbucket_take(&ic->bucket, now) ? 0 : wb_tokenbucket_wait_ms(&ic->bucket, now);
    pthread_mutex_unlock(&ic->rl_lock);
    if (!wait_ms) return 0;
    return answered(pb, 429, "rate-limited", "over the connector's rate_limit",
                    (int)((wait_ms + 999) / 1000));
}

/* 2. JSON, in the same pass that finds the key and event type (form bodies of Slack are
 * validated as forms and forwarded as they are). */
static int check_body(pub *pb)
{
    if (pb->r->form) {
        if (wb_listener_form_ok(pb->body, pb->len)) return 0;
        return answered(pb, 400, "malformed",
                        "body is not application/x-www-form-urlencoded (name=value pairs joined "
                        "by '&', percent-encoded)",
                        0);
    }
    char jerr[96] = "empty body";
    int jline = 1;
    if (pb->len == 0 || wb_jscan(pb->body, pb->len, pb->tg, 2, jerr, sizeof(jerr), &jline)) {
        char detail[256];
        snprintf(detail, sizeof(detail), "body is not valid JSON: %s (line %d)", jerr, jline);
        return answered(pb, 400, "malformed", detail, 0);
    }
    pb->is_json = 1;
    return 0;
}

/* 400 when v (named field) cannot be a header value; 0 when it can. */
static int field_bad(pub *pb, const char *field, const char *v, size_t max)
{
    const char *bad = v ? wb_header_value_problem(v, strlen(v), max) : NULL;
    if (!bad) return 0;
    char detail[256];
    snprintf(detail, sizeof(detail), "%s %s", field, bad);
    return answered(pb, 400, "malformed", detail, 0);
}

/* 2b. The values that become record headers: no control characters (typed headers
 * downstream never split them again, but a partner request header must not carry one). */
static int check_header_values(pub *pb)
{
    const wb_connector *cc = pb->cc;
    struct MHD_Connection *conn = pb->r->conn;
    char field[96];
    if (cc->event_type) {
        if (cc->event_type[0] == '/')
            pb->type = pb->is_json ? wb_inbound_ce_pointer_text(&pb->tg[1], pb->r->body.data,
                                                                pb->r->body.len)
                                   : NULL;
        else
            pb->type = wb_strdup(wb_listener_header(conn, cc->event_type));
        snprintf(field, sizeof(field), "event type (%s)", cc->event_type);
        if (field_bad(pb, field, pb->type, WB_HEADER_ID_MAX)) return 1;
    }
    if (field_bad(pb, "Content-Type", wb_listener_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE),
                  WB_SIG_MAX_HEADER))
        return 1;
    for (size_t i = 0; i < cc->nforward_headers; i++) {
        snprintf(field, sizeof(field), "header %s", cc->forward_headers[i]);
        if (field_bad(pb, field, wb_listener_header(conn, cc->forward_headers[i]),
                      WB_SIG_MAX_HEADER))
            return 1;
    }
    return 0;
}

/* 2c. schema: validate and encode to Confluent-framed Avro (422 names the field); what is
 * published becomes the encoding. */
static int encode_schema(pub *pb)
{
    const wb_connector *cc = pb->cc;
    if (!cc->schema || !pb->is_json) return 0;
    char reason[256] = "";
    request *r = pb->r;
    wb_buf_reset(&r->avro);
    pthread_mutex_lock(&pb->l->schemas_lock); /* wb_schemas is single-threaded */
    wb_err err = wb_schemas_from_json(pb->l->schemas, cc->schema, pb->body, pb->len, &r->avro,
                                      reason, sizeof(reason));
    pthread_mutex_unlock(&pb->l->schemas_lock);
    if (err) {
        char detail[320];
        snprintf(detail, sizeof(detail), "body does not fit schema %s: %s", cc->schema,
                 reason[0] ? reason : wb_err_str(err));
        return answered(pb, 422, "schema", detail, 0);
    }
    pb->body = r->avro.data;
    pb->len = r->avro.len;
    return 0;
}

/* Reserve the dedupe keys of a verified request. Anything but NEW leaves nothing reserved;
 * ERROR (out of memory) means: publish without dedupe. */
static wb_dedupe_state keys_reserve(wb_dedupe *dd, const dkeys *keys)
{
    wb_dedupe_state st = WB_DEDUPE_NEW;
    if (keys->idlen && (st = wb_dedupe_begin(dd, keys->id, keys->idlen)) != WB_DEDUPE_NEW)
        return st;
    if (keys->dglen && (st = wb_dedupe_begin(dd, keys->digest, keys->dglen)) != WB_DEDUPE_NEW) {
        if (keys->idlen) wb_dedupe_abort(dd, keys->id, keys->idlen);
        return st;
    }
    return st;
}

/* 3. dedupe: on the delivery id and, when a replay could change the id (it is not signed)
 * or there is none, on the signature's digest too. */
static int reserve_keys(pub *pb)
{
    dkeys *keys = &pb->keys;
    keys->idlen = strlen(pb->res.delivery_id);
    memcpy(keys->id, pb->res.delivery_id, keys->idlen + 1);
    if (pb->res.digest_len && (!pb->res.id_signed || !keys->idlen)) {
        keys->digest[0] = DIGEST_KEY_TAG;
        memcpy(keys->digest + 1, pb->res.digest, pb->res.digest_len);
        keys->dglen = 1 + pb->res.digest_len;
    }
    if (!keys->idlen && !keys->dglen) return 0;
    wb_dedupe *dd = pb->l->sh->dd[pb->r->connector];
    if (!dd) return 0;
    switch (keys_reserve(dd, keys)) {
    case WB_DEDUPE_NEW:
        pb->dd = dd;
        return 0;
    case WB_DEDUPE_ERROR: /* out of memory: publish without dedupe */
        return 0;
    case WB_DEDUPE_SEEN:
        wb_counter_inc(pb->ic->m.duplicates);
        pb->rc = json_ok(pb->r, "{\"duplicate\":true}");
        return 1;
    case WB_DEDUPE_IN_FLIGHT:
        wb_counter_inc(pb->ic->m.in_flight_conflicts);
        return answered(pb, 409, "in-flight",
                        "a request with this delivery id is being published; retry later", 1);
    case WB_DEDUPE_FULL:
        return answered(pb, 503, "unavailable",
                        "too many deliveries of this connector are being published", 1);
    }
    return 0;
}

/* 4. The record key and its CloudEvents headers (a ce_id and a traceparent are made up when
 * the partner sent none). 1 when out of memory (answered). */
static int build_record(pub *pb)
{
    const wb_connector *cc = pb->cc;
    struct MHD_Connection *conn = pb->r->conn;
    if (pb->is_json && cc->key_pointer)
        pb->key = wb_inbound_ce_pointer_text(&pb->tg[0], pb->r->body.data, pb->r->body.len);
    char ceid[37], cetime[48], tp[56];
    const char *id = pb->res.delivery_id;
    if (!id[0]) {
        wb_inbound_ce_uuid(ceid);
        id = ceid;
    }
    wb_inbound_ce_time(cetime);
    const char *in_tp = wb_listener_header(conn, "traceparent");
    if (wb_traceparent_valid(in_tp))
        snprintf(tp, sizeof(tp), "%s", in_tp);
    else
        wb_inbound_ce_traceparent_new(tp);
    if (!(pb->hs.h = rd_kafka_headers_new(8 + cc->nforward_headers))) return out_of_memory(pb);
    hdrset *hs = &pb->hs;
    add_hdr(hs, "ce_specversion", "1.0");
    add_hdr(hs, "ce_id", id);
    add_hdr(hs, "ce_source", pb->ic->source);
    add_hdr(hs, "ce_type", pb->type ? pb->type : "unknown");
    add_hdr(hs, "ce_time", cetime);
    add_hdr(hs, "content-type",
            cc->schema ? "application/vnd.apache.avro+binary"
                       : wb_listener_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE));
    add_hdr(hs, "traceparent", tp);
    for (size_t i = 0; i < cc->nforward_headers; i++)
        add_hdr(hs, cc->forward_headers[i], wb_listener_header(conn, cc->forward_headers[i]));
    return 0;
}

/* 4b. The record must fit the producer's message.max.bytes (max_body does, checked at load;
 * its key and headers may not). */
static int check_record_size(pub *pb)
{
    if (pb->len + (pb->key ? strlen(pb->key) : 0) + pb->hs.bytes <= pb->l->max_record) return 0;
    keys_release(pb->dd, &pb->keys, 0);
    pb->dd = NULL;
    return answered(pb, 413, "too-large",
                    "the record (body, key and headers) exceeds Kafka's message.max.bytes", 0);
}

/* The send failed: no report will come, take the ticket back (the timer may have expired it
 * already, in which case the 503 is on its way). */
static void send_failed(pub *pb, ticket *t, wb_err err)
{
    shared *sh = pb->l->sh;
    request *r = pb->r;
    pthread_mutex_lock(&sh->lock);
    int mine = t->req != NULL;
    if (mine) {
        pending_unlink(sh, t);
        t->req = NULL;
        r->perr = err;
        snprintf(r->errmsg, sizeof(r->errmsg), "%s",
                 err == WB_ERR_FULL ? "producer queue full" : "produce failed");
        r->phase = P_DONE;
    }
    sh->refs--; /* never the last: the listener holds one */
    pthread_mutex_unlock(&sh->lock);
    if (mine) /* else wb_listener_expire() already released it (and a retry may hold it now) */
        keys_release(pb->dd, &pb->keys, 0);
    free(t);
    rd_kafka_headers_destroy(pb->hs.h);
    if (mine) MHD_resume_connection(r->conn);
}

/* 5. Publish: the ticket is in the pending list and the connection suspended before the
 * send, so the delivery report can never run ahead of us. The answer comes when the request
 * is resumed (wb_listener_finish). */
static void publish(pub *pb)
{
    wb_listener *l = pb->l;
    shared *sh = l->sh;
    request *r = pb->r;
    ticket *t = calloc(1, sizeof(*t));
    if (!t) {
        out_of_memory(pb);
        return;
    }
    t->sh = sh;
    t->req = r;
    t->dd = pb->dd;
    t->keys = pb->keys;
    snprintf(t->connector, sizeof(t->connector), "%s", pb->cc->name);
    t->deadline_ms = wb_now_ms() + l->publish_timeout_ms;
    t->lat = pb->ic->m.publish_seconds;
    t->t0_us = wb_now_us();
    r->phase = P_WAIT;
    r->waiting = 1;
    pb->rc = MHD_YES;
    wb_connguard_park(r->slot);      /* publish_timeout bounds the wait */
    MHD_suspend_connection(r->conn); /* before the ticket is reachable: nobody resumes early */
    pthread_mutex_lock(&sh->lock);
    if (sh->stop) { /* shutting down: the timer is gone, do not start a wait */
        r->phase = P_DONE;
        r->perr = WB_ERR_TIMEOUT;
        snprintf(r->errmsg, sizeof(r->errmsg), "shutting down");
        pthread_mutex_unlock(&sh->lock);
        keys_release(pb->dd, &pb->keys, 0);
        free(t);
        MHD_resume_connection(r->conn);
        return;
    }
    sh->refs++;
    TAILQ_INSERT_TAIL(&sh->pending, t, link);
    sh->npending++;
    pthread_mutex_unlock(&sh->lock);
    wb_err err =
        wb_producer_send(l->prod, pb->cc->topic, -1, pb->key, pb->key ? strlen(pb->key) : 0,
                         pb->body, pb->len, pb->hs.h, on_ack, t);
    if (err) send_failed(pb, t, err);
    pb->hs.h = NULL; /* the producer owns them now (or send_failed freed them) */
}

/* Body complete: each step either passes the request on or answers it; the order matters
 * (see each step): nothing is reserved before the request proved authentic and well formed,
 * and nothing is published that could not be answered. */
enum MHD_Result wb_listener_process(wb_listener *l, request *r, const char *url)
{
    inconn *ic = &l->in[r->connector];
    pub pb = {
        .l = l,
        .ic = ic,
        .cc = ic->cc,
        .r = r,
        .url = url,
        .body = r->body.data ? r->body.data : "",
        .len = r->body.len,
        .tg = {{.pointer = ic->cc->key_pointer},
               {.pointer = ic->cc->event_type && ic->cc->event_type[0] == '/' ? ic->cc->event_type
                                                                              : NULL}}};
    if (!check_signature(&pb) && !check_rate(&pb) && !check_body(&pb) &&
        !check_header_values(&pb) && !encode_schema(&pb) && !reserve_keys(&pb) &&
        !build_record(&pb) && !check_record_size(&pb))
        publish(&pb);
    if (pb.hs.h) rd_kafka_headers_destroy(pb.hs.h);
    free(pb.key);
    free(pb.type);
    return pb.rc;
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
    const char *topic = l->in[r->connector].cc->topic; /* a topic name: <= 249 safe chars */
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
