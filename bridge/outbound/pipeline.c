/* outbound/pipeline.c - one record of one connector: decode once, match, (filter, contract,
 * transform), envelope, then into its lane.
 *
 * Every record a connector consumes ends in exactly one of:
 *   - dropped untracked: its partition is being revoked or the connector is stopping (the
 *     next owner, or this process after a restart, reads it from the committed position), or
 *     the schema registry cannot be reached (the partition is paused and sought back to it:
 *     it is read again, never skipped);
 *   - terminal at once: the connector does not subscribe to its type (or a filter said no);
 *   - the dead-letter topic, with the reason (not JSON, schema, transform, ...);
 *   - queued in its lane for delivery.
 * Out of memory stops the process (fatal) rather than skip a record. */
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fatal.h"
#include "core/timefmt.h"
#include "kafka/envelope.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "core/util.h"

#define REGISTRY_RETRY_MS 2000 /* the registry was unreachable: read the record again after */
#define PENDING_RETRY_MS                                                                           \
    5000 /* its writer schema is being fetched: the fetcher's notice                               \
          * resumes the partition; this is only the backstop */

/* ------------------------------------------------------------------------------------ */
/* Lanes, subscriptions, the registry wait                                              */

/* The lane of a record: ordering key -> topic/partition/key, partition -> topic/partition,
 * none (or a record without a key) -> no lane. */
static size_t lane_key(const wb_connector *cc, const rec *r, char *buf, size_t size)
{
    const rd_kafka_message_t *rkm = r->rkm;
    if (cc->ordering == WB_ORDER_NONE) return 0;
    if (cc->ordering == WB_ORDER_KEY && (!rkm->key || rkm->key_len == 0)) return 0;
    size_t tl = strlen(r->part->topic);
    if (tl + 5 > size) tl = size - 5;
    memcpy(buf, r->part->topic, tl);
    buf[tl] = 0;
    memcpy(buf + tl + 1, &r->part->partition, 4);
    size_t n = tl + 5;
    if (cc->ordering == WB_ORDER_KEY) {
        if (n + rkm->key_len > size) { /* very long keys: their digest orders just as well */
            unsigned char md[32];
            SHA256(rkm->key, rkm->key_len, md);
            memcpy(buf + n, md, 32);
            n += 32;
        } else {
            memcpy(buf + n, rkm->key, rkm->key_len);
            n += rkm->key_len;
        }
    }
    return n;
}

static int subscribed(const wb_connector *cc, const char *type)
{
    for (size_t k = 0; k < cc->nevents; k++)
        if (wb_glob_match(cc->events[k], type)) return 1;
    return 0;
}

/* Whether the record names its type in a header (ce_type or event-type). */
static int has_type_header(const rd_kafka_message_t *rkm)
{
    char t[8];
    return (wb_record_header(rkm, "ce_type", t, sizeof(t)) && t[0]) ||
           (wb_record_header(rkm, "event-type", t, sizeof(t)) && t[0]);
}

/* The string or integer a target found, or NULL. */
static const char *found(const wb_jscan_target *t)
{
    return t->pointer && (t->kind == WB_JSCAN_STRING || t->kind == WB_JSCAN_INTEGER) ? t->value
                                                                                     : NULL;
}

/* The schema registry cannot answer now: pause the partition and seek back to this record, so
 * it and everything after it is read again once the wait is over. */
static void registry_wait(wb_conn *c, wb_ledger_part *p, int64_t offset, int64_t ms,
                          const char *why)
{
    part_user *u = p->user;
    if (why)
        WB_WARN("connector %s: %s[%d]@%" PRId64 ": %s; pausing the partition, retrying in %" PRId64
                " ms",
                c->name, p->topic, p->partition, offset, why, ms);
    if (!u->paused_wait) part_pause(c, p);
    u->paused_wait = 1;
    u->wait_until = wb_now_ms() + ms;
    part_seek(c, p, offset);
}

/* ------------------------------------------------------------------------------------ */
/* Bounded runs: what a replay or a redrive is about                                    */

/* Replay: the record's Kafka timestamp is in [from, to), and its type passes --events. 1
 * selected, 0 not. (Whether the connector subscribes to the type is checked as live.) */
static int replay_selects(wb_conn *c, rec *r)
{
    if (r->ev.ts_ms < c->from_ms || (c->to_ms > 0 && r->ev.ts_ms >= c->to_ms)) return 0;
    if (c->events_glob && !wb_glob_match(c->events_glob, r->ev.type)) return 0;
    return subscribed(c->st->cc, r->ev.type);
}

/* Redrive: a dead-letter record parked by this connector (and matching --reason / --since).
 * It is delivered with its original webhook-id and event type, and the envelope timestamp of
 * the source record. 1 selected, 0 not this run's, -1 this connector's but it cannot be
 * redriven (missing headers, value not kept): reported, left where it is. */
static int redrive_selects(wb_conn *c, rec *r)
{
    const rd_kafka_message_t *rkm = r->rkm;
    char conn[80] = "", id[160] = "", type[128] = "", reason[300] = "", last[48] = "";
    char n[24] = "", ts[24] = "";
    if (!wb_record_header(rkm, "wb-connector", conn, sizeof(conn)) || strcmp(conn, c->name)) {
        const wb_connector *k = conn[0] ? wb_config_connector(c->st->cfg, conn) : NULL;
        if (c->report_orphans && (!k || k->direction != WB_DIR_OUTBOUND)) {
            c->progress.orphaned++;
            WB_WARN("redrive: dead-letter record %s[%d]@%" PRId64 " belongs to %s%s%s, which "
                    "the configuration no longer has: left in place",
                    r->part->topic, r->part->partition, r->offset, conn[0] ? "connector '" : "",
                    conn[0] ? conn : "no connector (no wb-connector header)", conn[0] ? "'" : "");
        }
        return 0;
    }
    wb_record_header(rkm, "wb-error-reason", reason, sizeof(reason));
    if (c->reason && strncmp(reason, c->reason, strlen(c->reason))) return 0;
    if (c->from_ms > 0) {
        int64_t at;
        if (!wb_record_header(rkm, "wb-last-attempt", last, sizeof(last)) ||
            wb_time_parse_ms(last, 0, &at) != WB_OK)
            at = r->ev.ts_ms;
        if (at < c->from_ms) return 0;
    }
    if (!wb_record_header(rkm, "wb-webhook-id", id, sizeof(id)) || !id[0] ||
        !wb_header_token_ok(id, WB_EVENT_ID_MAX) ||
        !wb_record_header(rkm, "wb-event-type", type, sizeof(type)) || !type[0]) {
        WB_ERROR("redrive %s: dead-letter record %s[%d]@%" PRId64 " lacks a usable "
                 "wb-webhook-id or wb-event-type header: left in place, not sent",
                 c->name, r->part->topic, r->part->partition, r->offset);
        return -1;
    }
    if (wb_record_header(rkm, "wb-dead-letter-reduced", n, sizeof(n)) || rkm->len == 0) {
        WB_ERROR("redrive %s: dead-letter record %s[%d]@%" PRId64 " (webhook-id %s) was parked "
                 "without its value (it could not be written): it cannot be delivered again",
                 c->name, r->part->topic, r->part->partition, r->offset, id);
        return -1;
    }
    snprintf(r->ev.id, sizeof(r->ev.id), "%s", id);
    snprintf(r->ev.type, sizeof(r->ev.type), "%s", type);
    if (wb_record_header(rkm, "wb-source-timestamp", ts, sizeof(ts))) {
        long long v = strtoll(ts, NULL, 10);
        if (v > 0) r->ev.ts_ms = v;
    }
    long cnt;
    if (wb_record_header(rkm, "wb-redrive-count", n, sizeof(n)) &&
        wb_parse_int(n, 0, 1000000, &cnt) == WB_OK)
        r->redrive_count = (int)cnt;
    return 1;
}

/* ------------------------------------------------------------------------------------ */
/* Filter and transform (jq sandbox, asynchronous)                                      */

static void stage_transform(wb_conn *c, rec *r);

/* The record is ready: its job, held since it was consumed, may start when its turn comes. */
static void prepared(wb_conn *c, rec *r)
{
    if (c->dry_run) { /* counted as what would be sent */
        c->progress.delivered++;
        conn_record_terminal(c, r);
        return;
    }
    r->state = REC_QUEUED;
    wb_sched_release(c->sched, &r->job, wb_loop_now(c->lp));
    conn_dispatch_soon(c);
}

static void on_transform(void *opaque, wb_jq_status st, const char *out, size_t len,
                         const char *error)
{
    rec *r = opaque;
    wb_conn *c = r->conn;
    r->jq_req = NULL;
    if (st != WB_JQ_PASS) {
        deadletter_send(c, r, "transform", "transform: %s", error ? error : "failed");
        return;
    }
    wb_buf_reset(&r->body);
    if (wb_buf_add(&r->body, out, len)) {
        deadletter_send(c, r, "transform", "transform: output too large");
        return;
    }
    prepared(c, r);
}

static void stage_transform(wb_conn *c, rec *r)
{
    const wb_connector *cc = c->st->cc;
    if (!cc->transform) {
        prepared(c, r);
        return;
    }
    wb_err e = wb_jq_eval(c->jq, cc->transform, WB_JQ_TRANSFORM, r->body.data, r->body.len,
                          on_transform, r, &r->jq_req);
    if (e) deadletter_send(c, r, "transform", "transform: %s", wb_err_str(e));
}

static void on_filter(void *opaque, wb_jq_status st, const char *out, size_t len, const char *error)
{
    rec *r = opaque;
    wb_conn *c = r->conn;
    r->jq_req = NULL;
    if (st == WB_JQ_FILTERED) {
        /* not for this partner: terminal for the connector, counted */
        c->filtered++;
        c->progress.filtered++;
        wb_counter_inc(c->m_filtered);
        conn_record_terminal(c, r);
        return;
    }
    if (st != WB_JQ_PASS) {
        deadletter_send(c, r, "transform", "filter: %s", error ? error : "failed");
        return;
    }
    stage_transform(c, r);
}

/* Take the record's lane place now (so an evaluation that finishes late never lets a later
 * record of its key overtake it), then filter and transform in the sandbox. */
static void prepare_async(wb_conn *c, rec *r)
{
    const wb_connector *cc = c->st->cc;
    char key[1024];
    size_t kl = lane_key(cc, r, key, sizeof(key));
    if (!c->jq) {
        deadletter_send(c, r, "transform", "no jq sandbox on this loop");
        return;
    }
    if (!c->dry_run) {
        if (wb_sched_submit_held(c->sched, c->sc, &r->job, kl ? key : NULL, kl,
                                 wb_loop_now(c->lp))) {
            deadletter_send(c, r, "internal", "out of memory in the scheduler");
            return;
        }
        r->queued = 1;
    }
    r->state = REC_PREPARING;
    if (!cc->filter) {
        stage_transform(c, r);
        return;
    }
    wb_err e = wb_jq_eval(c->jq, cc->filter, WB_JQ_FILTER, r->body.data, r->body.len, on_filter, r,
                          &r->jq_req);
    if (e) deadletter_send(c, r, "transform", "filter: %s", wb_err_str(e));
}

/* ------------------------------------------------------------------------------------ */
/* Consume                                                                              */

/* What the decode of one value found: the JSON to work on (the record's own, or the Avro
 * decoded to JSON in a scratch buffer) and why it is unusable, if it is. */
typedef struct decoded {
    const char *val;
    size_t vlen;
    int framed;     /* the value was Confluent-framed Avro */
    int schema_bad; /* ... and could not be decoded: schema_reason says why */
    char schema_reason[256];
    int bad; /* not JSON (jerr, jline) */
    char jerr[96];
    int jline;
} decoded;

/* The partition p of rkm when the record is to be processed; else NULL, the record dropped
 * untracked: revoked, waiting for the registry, stopping, or past a bounded run's end. */
static wb_ledger_part *admit(wb_conn *c, rd_kafka_message_t *rkm)
{
    wb_ledger_part *p = wb_ledger_find(c->ledger, rd_kafka_topic_name(rkm->rkt), rkm->partition);
    part_user *u = p ? p->user : NULL;
    if (!u || u->revoking || u->paused_wait || c->stopping) {
        rd_kafka_message_destroy(rkm);
        return NULL;
    }
    if (c->mode != WB_CONN_LIVE && rkm->offset >= u->end_offset) {
        /* past the end of a bounded run: appended after it started */
        u->reached = 1;
        part_pause(c, p);
        rd_kafka_message_destroy(rkm);
        return NULL;
    }
    u->next_offset = rkm->offset + 1;
    return p;
}

/* Confluent-framed Avro becomes JSON first (writer schema by id; resolved to the connector's
 * contract when it pins one). -1 when the registry cannot answer now: the partition waits
 * and reads this record again (it is never skipped), the record is released. */
static int decode_framed(wb_conn *c, wb_ledger_part *p, rd_kafka_message_t *rkm, decoded *d)
{
    d->val = rkm->payload;
    d->vlen = rkm->len;
    d->framed = d->vlen > 0 && wb_schemas_is_framed(d->val, d->vlen);
    if (!d->framed) return 0;
    wb_buf_reset(&c->avro_json);
    wb_err e = WB_ERR_SCHEMA;
    if (!c->schemas)
        snprintf(d->schema_reason, sizeof(d->schema_reason),
                 "Avro record but neither schema_registry.url nor a schemas folder is "
                 "configured");
    else
        e = wb_schemas_to_json(c->schemas, d->val, d->vlen, c->st->cc->contract, &c->avro_json,
                               d->schema_reason, sizeof(d->schema_reason));
    if (e == WB_ERR_IO || e == WB_ERR_TIMEOUT || e == WB_ERR_PENDING) {
        /* PENDING: the fetch thread is getting the writer schema and posts a notice when it
         * is in; the longer wait is only the backstop. */
        registry_wait(c, p, rkm->offset, e == WB_ERR_PENDING ? PENDING_RETRY_MS : REGISTRY_RETRY_MS,
                      e == WB_ERR_PENDING ? NULL : d->schema_reason);
        rd_kafka_message_destroy(rkm);
        return -1;
    }
    if (e) {
        d->schema_bad = 1;
    } else {
        d->val = c->avro_json.data;
        d->vlen = c->avro_json.len;
    }
    return 0;
}

/* A record for rkm, tracked in p's window (it counts against the budgets from now on); NULL
 * when it is already tracked (refetched after a seek: the first copy decides) or out of
 * memory (fatal: nothing past this offset may be committed). */
static rec *track(wb_conn *c, wb_ledger_part *p, rd_kafka_message_t *rkm)
{
    rec *r = calloc(1, sizeof(*r));
    size_t bytes = sizeof(*r) + rkm->len + rkm->key_len;
    int64_t ts = rd_kafka_message_timestamp(rkm, NULL);
    int t = r ? wb_ledger_track(p, rkm->offset, bytes, ts >= 0 ? ts : wb_wall_ms()) : -2;
    if (t != 0) {
        free(r);
        rd_kafka_message_destroy(rkm);
        if (t == -2) wb_fatal_raise(c->name, "out of memory tracking a record");
        return NULL;
    }
    if (p->next_commit > p->stored) c->dirty = 1; /* a new cursor's first position (ledger.h) */
    r->conn = c;
    r->part = p;
    r->rkm = rkm;
    r->offset = rkm->offset;
    r->bytes = bytes;
    wb_buf_init(&r->body, 0);
    TAILQ_INSERT_TAIL(&c->recs, r, link);
    c->consumed++;
    wb_counter_inc(c->m_consumed);
    wb_gauge_set(user_of(p)->m_consumed, (double)rkm->offset);
    conn_check_budgets(c, p);
    return r;
}

static void unrouted(wb_conn *c, rec *r)
{
    c->unrouted++;
    wb_counter_inc(c->m_unrouted);
    conn_record_terminal(c, r);
}

/* Whether r is this connector's to deliver. 0 when it is; 1 when it was settled here:
 * terminal (not selected by a bounded run, before the start time, a type it does not take)
 * or parked on the dead-letter topic as poison. */
static int route(wb_conn *c, rec *r, const decoded *d)
{
    const wb_connector *cc = c->st->cc;
    wb_ledger_part *p = r->part;
    part_user *u = user_of(p);
    int usable = !d->bad && !d->schema_bad;
    if (c->mode != WB_CONN_LIVE) {
        c->progress.scanned++;
        if (r->offset + 1 >= u->end_offset) u->reached = 1;
        int sel = c->mode == WB_CONN_REPLAY ? replay_selects(c, r) : redrive_selects(c, r);
        if (sel <= 0) {
            if (sel < 0) c->progress.failed++;
            conn_record_terminal(c, r);
            return 1;
        }
        c->progress.selected++;
    }
    if (r->ev.id_refused) {
        wb_counter_inc(c->m_id_refused);
        wb_log_fields lf = conn_log_fields(c, r);
        WB_WARNF(&lf,
                 "connector %s: %s[%d]@%" PRId64 ": the record's own id is not usable in a "
                 "header (control characters or too long): webhook-id %s instead",
                 c->name, p->topic, p->partition, r->offset, r->ev.id);
    }
    if (u->skip_before_ms) {
        if (r->ev.ts_ms < u->skip_before_ms) { /* before the connector's start time */
            unrouted(c, r);
            return 1;
        }
        u->skip_before_ms = 0; /* from here on, everything (timestamps need not be ordered) */
    }
    if (!usable && c->mode != WB_CONN_REDRIVE && has_type_header(r->rkm) &&
        !subscribed(cc, r->ev.type)) {
        /* Poison, but its headers name a type this connector does not take: not ours to
         * park (a connector that subscribes to it parks its own copy). Without such a
         * header the type is unknown, and an unknown record is parked, never skipped. */
        unrouted(c, r);
        return 1;
    }
    if (d->schema_bad) {
        wb_counter_inc(c->m_poison);
        deadletter_send(c, r, "schema", "%s", d->schema_reason);
        return 1;
    }
    if (d->bad) {
        wb_counter_inc(c->m_poison);
        deadletter_send(c, r, "decode", "value is not JSON: %s (line %d)", d->jerr, d->jline);
        return 1;
    }
    if (c->mode != WB_CONN_REDRIVE && !subscribed(cc, r->ev.type)) {
        unrouted(c, r); /* not for this connector: terminal at once */
        return 1;
    }
    return 0;
}

/* A plain JSON event under contract: validated against the version it claims and resolved to
 * the pinned one, as a framed record already was at decode. Before the filter and the
 * transform: a partner's jq programs see the shape it is pinned to, whatever version the
 * producer wrote. -1 when r was dead-lettered. */
static int pin_contract(wb_conn *c, rec *r, decoded *d)
{
    const wb_connector *cc = c->st->cc;
    if (!cc->contract || d->framed) return 0;
    char reason[256] = "", dataschema[256];
    int has_ds = wb_event_ce_attr(r->rkm, "ce_dataschema", dataschema, sizeof(dataschema));
    wb_buf_reset(&c->pinned);
    wb_err e = c->schemas ? wb_schemas_json_to_contract(c->schemas, d->val, d->vlen,
                                                        (wb_json_writer)cc->contract_writer,
                                                        has_ds ? dataschema : NULL, cc->contract,
                                                        &c->pinned, reason, sizeof(reason))
                          : WB_ERR_SCHEMA;
    if (e) {
        deadletter_send(c, r, "schema", "contract %s: %s", cc->contract,
                        reason[0] ? reason : "no schema source");
        return -1;
    }
    d->val = c->pinned.data;
    d->vlen = c->pinned.len;
    return 0;
}

/* Into its lane (or, for a dry run, counted as what would be sent). */
static void enqueue(wb_conn *c, rec *r)
{
    if (c->dry_run) {
        c->progress.delivered++;
        conn_record_terminal(c, r);
        return;
    }
    char key[1024];
    size_t kl = lane_key(c->st->cc, r, key, sizeof(key));
    int64_t now = wb_loop_now(c->lp);
    if (wb_sched_submit(c->sched, c->sc, &r->job, kl ? key : NULL, kl, now, now)) {
        deadletter_send(c, r, "internal", "out of memory in the scheduler");
        return;
    }
    r->queued = 1;
    r->state = REC_QUEUED;
    conn_dispatch_soon(c);
}

void pipeline_consume(wb_conn *c, rd_kafka_message_t *rkm)
{
    const wb_connector *cc = c->st->cc;
    wb_ledger_part *p = admit(c, rkm);
    if (!p) return;
    decoded d;
    memset(&d, 0, sizeof(d));
    if (decode_framed(c, p, rkm, &d)) return;
    rec *r = track(c, p, rkm);
    if (!r) return;

    /* One pass over the value: is it JSON, and what is at the type and id pointers. */
    wb_jscan_target *tg = c->targets;
    tg[0].kind = tg[1].kind = WB_JSCAN_NONE;
    if (!d.schema_bad) {
        d.bad =
            d.vlen == 0 || wb_jscan(d.val, d.vlen, tg, 2, d.jerr, sizeof(d.jerr), &d.jline) != 0;
        if (d.vlen == 0) snprintf(d.jerr, sizeof(d.jerr), "empty value");
    }
    int usable = !d.bad && !d.schema_bad;
    wb_event_decode(&r->ev, rkm, d.val, d.vlen, usable ? found(&tg[0]) : NULL,
                    usable ? found(&tg[1]) : NULL);
    if (route(c, r, &d) || pin_contract(c, r, &d)) return;
    if (wb_envelope_build(&r->body, r->ev.type, r->ev.ts_ms, d.val, d.vlen)) {
        deadletter_send(c, r, "decode", "cannot build the envelope");
        return;
    }
    r->ev.body = NULL; /* val may be a scratch buffer: the envelope holds the copy */
    r->ev.body_len = 0;
    if (cc->filter || cc->transform) {
        /* (a dry run evaluates them too: its count is what would really be sent) */
        prepare_async(c, r);
        return;
    }
    enqueue(c, r);
}
