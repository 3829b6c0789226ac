/* outbound/consumer.c - a connector's own Kafka consumer: its group, rebalances, polling,
 * committing and the bounded runs' assignment.
 *
 * The consumer queue's io-event fd is watched by the connector's loop, so hundreds of
 * consumers share one thread of ours. librdkafka signals that fd only when the queue goes from
 * empty to non-empty: a poll that stops at the batch limit must come back by itself (the poll
 * timer), and the gauge timer polls once a second anyway so max.poll.interval.ms never expires
 * while every partition is paused.
 *
 * Rebalances (cooperative-sticky). An assignment is applied in the callback. A revoke is not:
 * the callback marks the partitions revoking (nothing new starts on them, records still
 * arriving for them are dropped: the next owner reads them from our committed position) and
 * returns; the loop keeps turning, and at the top of a later turn -- when the attempts still
 * running on them are done, or the drain bound passed -- consumer_finish_revoke() commits their
 * terminal prefix, fences them in the ledger and calls incremental_unassign. So a revoke never
 * re-enters the loop from inside a callback and never stalls the other connectors of the loop.
 * A lost assignment stores nothing and is fenced at once. Pausing, resuming and seeking a
 * partition are in partition.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fatal.h"
#include "kafka/kafka.h"
#include "core/log.h"
#include "outbound/conn_int.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------ */
/* Partitions: bounds, drains, fencing                                                  */

/* The range of a partition for a bounded run: from start (or the committed position) to the
 * log end offset now. */
static void set_bounds(wb_conn *c, wb_ledger_part *p, int64_t start, int64_t lo, int64_t hi)
{
    part_user *u = user_of(p);
    u->start_offset = start >= 0 ? start : lo;
    u->end_offset = hi;
    u->reached = u->start_offset >= hi;
    if (hi > u->start_offset) c->progress.total += (uint64_t)(hi - u->start_offset);
}

/* Records of p with work the drain must wait for: an HTTP attempt or a dead-letter write
 * in flight (a record waiting for a retry timer is not: the next owner redelivers it). */
static size_t part_running(wb_conn *c, wb_ledger_part *p)
{
    size_t n = 0;
    rec *r;
    TAILQ_FOREACH(r, &c->recs, link)
    if (r->part == p && (r->state == REC_RUNNING || r->state == REC_DEAD_LETTER)) n++;
    return n;
}

/* Drop every record of p that is not running (queued, preparing, waiting for a retry): they
 * were not delivered, so their offsets were not committed either -- the next owner of the
 * partition (or this process after a restart) delivers them. */
static void part_drop_idle(wb_conn *c, wb_ledger_part *p)
{
    rec *r, *next;
    for (r = TAILQ_FIRST(&c->recs); r; r = next) {
        next = TAILQ_NEXT(r, link);
        if (r->part != p || r->state == REC_RUNNING) continue;
        /* a write in the producer: its callback comes; the record is released then */
        if (r->state == REC_DEAD_LETTER && r->dlq_inflight) continue;
        if (r->state == REC_DEAD_LETTER) deadletter_cancel(c, r);
        rec_free(c, r);
    }
}

/* Fence p: nothing of it is committable any more; its idle records are dropped (the ledger
 * counts that as a release of a fenced part, never as terminal), running attempts and
 * dead-letter writes finish into the void. p may be freed by the last release. */
static void part_fence(wb_conn *c, wb_ledger_part *p)
{
    free(p->user);
    p->user = NULL;
    if (c->assigned > 0) c->assigned--;
    int tracked = wb_ledger_tracked(p) > 0;
    wb_ledger_fence(c->ledger, p); /* frees p at once when it tracks nothing */
    if (tracked) part_drop_idle(c, p);
}

/* ------------------------------------------------------------------------------------ */
/* Committing                                                                           */

static void add_store(void *ctx, const char *topic, int32_t partition, int64_t position)
{
    rd_kafka_topic_partition_list_t **l = ctx;
    if (!*l) *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_add(*l, topic, partition)->offset = position;
}

/* Hand the advanced terminal prefixes to librdkafka and commit them (async by default: the
 * result arrives in on_commit; sync during revoke and shutdown). */
void consumer_commit(wb_conn *c, int sync)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    wb_ledger_take_stores(c->ledger, add_store, &l);
    c->dirty = 0;
    if (l) {
        for (int i = 0; i < l->cnt; i++) {
            wb_ledger_part *p = wb_ledger_find(c->ledger, l->elems[i].topic, l->elems[i].partition);
            if (p && p->user) wb_gauge_set(user_of(p)->m_stored, (double)l->elems[i].offset);
        }
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
        if (err) WB_WARN("connector %s: offsets_store: %s", c->name, rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(l);
    } else if (!sync) {
        return; /* nothing new to commit */
    }
    /* NULL: everything stored so far. Sync results are handled here, async ones in
     * on_commit (served by consumer_poll). */
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, sync ? 0 : 1);
    if (sync && err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        WB_WARN("connector %s: commit: %s", c->name, rd_kafka_err2str(err));
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    wb_conn *c = opaque;
    if (err) {
        if (err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            WB_WARN("connector %s: offset commit failed: %s", c->name, rd_kafka_err2str(err));
            conn_set_error(c, "offset commit failed: %s", rd_kafka_err2str(err));
        }
        return;
    }
    int advanced = 0;
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        if (offsets->elems[i].err || offsets->elems[i].offset < 0) continue;
        wb_ledger_part *p =
            wb_ledger_find(c->ledger, offsets->elems[i].topic, offsets->elems[i].partition);
        if (!p || !p->user) continue;
        part_user *u = user_of(p);
        if (offsets->elems[i].offset > u->committed) advanced = 1;
        u->committed = offsets->elems[i].offset;
        wb_gauge_set(u->m_committed, (double)u->committed);
    }
    if (advanced) {
        c->commits++;
        wb_counter_inc(c->m_commits);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Rebalance                                                                            */

/* start: <time> for partitions without a committed offset: the first offset at or after that
 * time. Partitions with a committed offset resume from it. Blocking lookups, bounded: this is
 * an assignment, not the hot path. */
static void apply_start_time(wb_conn *c, rd_kafka_topic_partition_list_t *parts,
                             const rd_kafka_topic_partition_list_t *q)
{
    rd_kafka_resp_err_t err;
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(q->cnt);
    for (int i = 0; i < q->cnt; i++)
        if (q->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(t, q->elems[i].topic, q->elems[i].partition)->offset =
                c->st->cc->start_ms;
    if (t->cnt > 0) {
        err = rd_kafka_offsets_for_times(c->rk, t, 10000);
        if (err)
            WB_WARN("connector %s: offsets for the start time: %s", c->name, rd_kafka_err2str(err));
        for (int i = 0; i < t->cnt; i++) {
            rd_kafka_topic_partition_t *e =
                rd_kafka_topic_partition_list_find(parts, t->elems[i].topic, t->elems[i].partition);
            if (!e) continue;
            int64_t at = err || t->elems[i].err ? -1 : t->elems[i].offset;
            if (at >= 0) {
                e->offset = at;
                WB_INFO("connector %s: %s[%d] has no committed offset: starting at %" PRId64
                        ", the first record at or after the configured start time",
                        c->name, t->elems[i].topic, t->elems[i].partition, at);
                continue;
            }
            /* No answer by time (no record at or after it yet, or a broker that cannot look
             * up timestamps, like the embedded mock): read from the beginning and let records
             * older than the start time be terminal at once, until the first one at or after
             * it. Correct either way, only slower. */
            e->offset = RD_KAFKA_OFFSET_BEGINNING;
            wb_ledger_part *p = wb_ledger_find(c->ledger, e->topic, e->partition);
            if (p && p->user) user_of(p)->skip_before_ms = c->st->cc->start_ms;
            WB_INFO("connector %s: %s[%d] has no committed offset: reading it from the "
                    "beginning, records before the start time are skipped",
                    c->name, e->topic, e->partition);
        }
    }
    rd_kafka_topic_partition_list_destroy(t);
}

/* How long a fenced generation's delivered prefix stays a resume position: a lost assignment
 * handed back in the next rebalance round comes back within seconds. */
#define RESUME_TTL_MS 60000

/* Partitions given back to this process soon after it lost (or revoked) them: start each at
 * max(committed, what this process delivered of it before), not at the committed offset
 * alone. librdkafka 2.0 declares the whole assignment lost when an offset commit races a
 * rebalance (ILLEGAL_GENERATION) and the same member usually gets it back a round later;
 * without this every record delivered since the last commit would be delivered again.
 * resume: the positions from wb_ledger_resume_take, indexed like parts (-1 none); q: the
 * committed offsets. Blocking watermark lookups, bounded together, and only after a fence. */
static void apply_resume(wb_conn *c, rd_kafka_topic_partition_list_t *parts, const int64_t *resume,
                         const rd_kafka_topic_partition_list_t *q)
{
    /* One bound for all the lookups: the loop is shared with other connectors. */
    int64_t deadline = wb_now_ms() + 5000;
    for (int i = 0; i < parts->cnt; i++) {
        if (resume[i] < 0) continue;
        rd_kafka_topic_partition_t *e = &parts->elems[i];
        const rd_kafka_topic_partition_t *k =
            rd_kafka_topic_partition_list_find(q, e->topic, e->partition);
        if (!k || k->err) continue;
        int64_t committed = k->offset, lo = 0, hi = -1;
        /* Only forward of the commit (none yet: auto.offset.reset would pick the position,
         * `latest` past records nobody delivered), and within the log (a topic recreated under
         * the same name starts again at 0; retention may have deleted the head). */
        if (resume[i] <= committed || e->offset >= 0) continue;
        int64_t left = deadline - wb_now_ms();
        if (left < 1 ||
            rd_kafka_query_watermark_offsets(c->rk, e->topic, e->partition, &lo, &hi, (int)left) ||
            resume[i] > hi || resume[i] < lo)
            continue;
        e->offset = resume[i];
        wb_ledger_part *p = wb_ledger_find(c->ledger, e->topic, e->partition);
        if (p && p->user) {
            wb_ledger_start_at(p, resume[i]);
            user_of(p)->committed = committed;
            user_of(p)->next_offset = resume[i];
            /* start: <time> read from the beginning: the old generation usually passed the
             * start time already, and a record after it with an older timestamp must not be
             * skipped now. Clearing the skip can only deliver an older record, never lose one. */
            user_of(p)->skip_before_ms = 0;
            c->dirty = 1; /* commit the resume position soon */
        }
        uint64_t saved = (uint64_t)(resume[i] - (committed > lo ? committed : lo));
        wb_counter_add(c->m_resumed, saved);
        WB_INFO("connector %s: %s[%d] is back: resuming at %" PRId64 " (committed %" PRId64
                "): this process delivered the records in between already",
                c->name, e->topic, e->partition, resume[i], committed);
    }
}

/* The group's committed offsets of parts: one blocking lookup per assignment, shared by the
 * start time, the resume and a redrive's range. NULL (warned) when the group did not answer. */
static rd_kafka_topic_partition_list_t *
committed_of(wb_conn *c, rd_kafka_topic_partition_list_t *parts, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t err = rd_kafka_committed(c->rk, q, timeout_ms);
    if (!err) return q;
    if (c->mode != WB_CONN_REDRIVE) /* a redrive reads from the group's position then */
        WB_WARN("connector %s: committed offsets unknown (%s): start time and resumes not "
                "applied",
                c->name, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(q);
    return NULL;
}

static void on_assign(wb_conn *c, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    int64_t *resume = calloc((size_t)parts->cnt + 1, sizeof(*resume));
    int nresume = 0;
    for (int i = 0; i < parts->cnt; i++) {
        if (resume) resume[i] = -1;
        wb_ledger_part *p =
            wb_ledger_find(c->ledger, parts->elems[i].topic, parts->elems[i].partition);
        if (p && p->user && user_of(p)->revoking) {
            /* Revoked and given back before our drain finished: cancel the pending revoke
             * of it; it simply stays ours. */
            user_of(p)->revoking = 0;
            continue;
        }
        int64_t at = wb_ledger_resume_take(c->ledger, parts->elems[i].topic,
                                           parts->elems[i].partition, wb_now_ms(), RESUME_TTL_MS);
        if (resume && at >= 0 && c->mode == WB_CONN_LIVE) {
            resume[i] = at;
            nresume++;
        }
        if (!part_new(c, parts->elems[i].topic, parts->elems[i].partition)) {
            WB_ERROR("connector %s: out of memory on assignment", c->name);
            wb_fatal_raise(c->name, "out of memory on assignment");
            continue;
        }
        c->assigned++;
    }
    c->joined = 1;
    int start_time = c->mode == WB_CONN_LIVE && c->st->cc->start &&
                     c->st->cc->start_mode == WB_START_TIME && parts->cnt > 0;
    int redrive = c->mode == WB_CONN_REDRIVE;
    rd_kafka_topic_partition_list_t *q =
        start_time || nresume || redrive
            ? committed_of(c, parts, start_time || redrive ? 10000 : 5000)
            : NULL;
    if (start_time && q) apply_start_time(c, parts, q);
    if (nresume && q) apply_resume(c, parts, resume, q);
    free(resume);
    if (redrive) {
        /* The run ends at the log end offsets of now; it starts at the group's position. */
        if (!q) {
            q = rd_kafka_topic_partition_list_copy(parts);
            for (int i = 0; i < q->cnt; i++)
                q->elems[i].offset = -1;
        }
        for (int i = 0; i < q->cnt; i++) {
            int64_t lo = 0, hi = 0;
            wb_ledger_part *p = wb_ledger_find(c->ledger, q->elems[i].topic, q->elems[i].partition);
            if (!p || !p->user) continue;
            if (rd_kafka_query_watermark_offsets(rk, q->elems[i].topic, q->elems[i].partition, &lo,
                                                 &hi, 10000))
                hi = lo = 0;
            set_bounds(c, p, q->elems[i].offset, lo, hi);
            user_of(p)->committed = q->elems[i].offset;
        }
    }
    if (q) rd_kafka_topic_partition_list_destroy(q);
    WB_INFO("connector %s: assigned %d partition(s) (%d now)", c->name, parts->cnt, c->assigned);
    rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
    if (e) {
        WB_ERROR("connector %s: incremental_assign: %s", c->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    /* A pause set before an earlier revoke stays on librdkafka's partition object across
     * unassign/assign: decide afresh for what we now own. */
    if (c->paused || c->stopping)
        rd_kafka_pause_partitions(rk, parts);
    else
        rd_kafka_resume_partitions(rk, parts);
    conn_refresh(c); /* "starting" -> "running" is visible at once */
}

static void merge_revoke(wb_conn *c, rd_kafka_topic_partition_list_t *parts)
{
    if (!c->pending_revoke) c->pending_revoke = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++)
        if (!rd_kafka_topic_partition_list_find(c->pending_revoke, parts->elems[i].topic,
                                                parts->elems[i].partition))
            rd_kafka_topic_partition_list_add(c->pending_revoke, parts->elems[i].topic,
                                              parts->elems[i].partition);
}

/* Fence and unassign parts now. store: commit their terminal prefix first (not when lost:
 * another member may own them already). */
static void revoke_now(wb_conn *c, rd_kafka_topic_partition_list_t *parts, int store)
{
    if (store && conn_commits(c)) consumer_commit(c, 1);
    for (int i = 0; i < parts->cnt; i++) {
        wb_ledger_part *p =
            wb_ledger_find(c->ledger, parts->elems[i].topic, parts->elems[i].partition);
        if (p) part_fence(c, p);
    }
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(c->rk, parts);
    if (e) {
        WB_ERROR("connector %s: incremental_unassign: %s", c->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    wb_conn *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(c, rk, parts);
        return;
    }
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        /* Unknown state: fence everything (store nothing more), then unassign. */
        WB_ERROR("connector %s: rebalance error: %s", c->name, rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_t *all = NULL;
        if (!rd_kafka_assignment(rk, &all) && all) {
            revoke_now(c, all, 0);
            rd_kafka_topic_partition_list_destroy(all);
        }
        return;
    }
    int lost = rd_kafka_assignment_lost(rk);
    WB_INFO("connector %s: %s %d partition(s)", c->name, lost ? "lost" : "revoking", parts->cnt);
    if (lost || c->stopping) {
        /* Lost: another member may own them already, store nothing. Stopping: the drain is
         * over (wb_conn_stop waited for it), commit what is terminal and let go. */
        revoke_now(c, parts, !lost);
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        wb_ledger_part *p =
            wb_ledger_find(c->ledger, parts->elems[i].topic, parts->elems[i].partition);
        if (p && p->user) user_of(p)->revoking = 1;
    }
    merge_revoke(c, parts);
    c->revoke_deadline = wb_now_ms() + c->st->cfg->outbound.drain_timeout_ms;
    conn_dispatch_soon(c); /* consumer_finish_revoke runs from there, outside this callback */
}

void consumer_finish_revoke(wb_conn *c, int force)
{
    rd_kafka_topic_partition_list_t *l = c->pending_revoke;
    if (!l) return;
    size_t busy = 0;
    for (int i = 0; i < l->cnt; i++) {
        wb_ledger_part *p = wb_ledger_find(c->ledger, l->elems[i].topic, l->elems[i].partition);
        if (p && p->user && user_of(p)->revoking) busy += part_running(c, p);
    }
    if (busy && !force && wb_now_ms() < c->revoke_deadline) return;
    if (busy)
        WB_WARN("connector %s: rebalance: %zu deliveries still running after the drain bound; "
                "their records will be redelivered by the new owner",
                c->name, busy);
    c->pending_revoke = NULL;
    /* Only the ones still revoking: a partition given back meanwhile stays. */
    rd_kafka_topic_partition_list_t *go = rd_kafka_topic_partition_list_new(l->cnt);
    for (int i = 0; i < l->cnt; i++) {
        wb_ledger_part *p = wb_ledger_find(c->ledger, l->elems[i].topic, l->elems[i].partition);
        if (!p || !p->user || user_of(p)->revoking)
            rd_kafka_topic_partition_list_add(go, l->elems[i].topic, l->elems[i].partition);
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (go->cnt > 0) revoke_now(c, go, 1);
    rd_kafka_topic_partition_list_destroy(go);
}

/* ------------------------------------------------------------------------------------ */
/* Errors, polling                                                                      */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    wb_conn *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        char msg[700];
        snprintf(msg, sizeof(msg), "%s: %s", rd_kafka_err2name(orig), why);
        char who[100];
        snprintf(who, sizeof(who), "connector %s: consumer", c->name);
        c->dead = 1;
        wb_fatal_raise(who, msg);
        return;
    }
    conn_set_error(c, "kafka: %s: %s", rd_kafka_err2name(err), reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        WB_WARN("connector %s: consumer: all brokers down: %s", c->name, reason);
    else
        WB_WARN("connector %s: consumer: %s: %s", c->name, rd_kafka_err2name(err), reason);
}

void consumer_poll(wb_conn *c)
{
    if (!c->rk || c->closed) return;
    int n = 0;
    while (n < WB_CONN_POLL_BATCH) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(c->rk, 0);
        if (!rkm) break;
        n++;
        if (rkm->err) {
            if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && c->mode != WB_CONN_LIVE) {
                wb_ledger_part *p =
                    wb_ledger_find(c->ledger, rd_kafka_topic_name(rkm->rkt), rkm->partition);
                if (p && p->user && rkm->offset >= user_of(p)->end_offset) user_of(p)->reached = 1;
            }
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                WB_WARN("connector %s: consumer: %s", c->name, rd_kafka_message_errstr(rkm));
                conn_set_error(c, "consumer: %s", rd_kafka_message_errstr(rkm));
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        pipeline_consume(c, rkm);
    }
    /* The io-event fd fires again only after the queue has been emptied: come back next
     * turn ourselves when the batch limit cut this poll short. */
    c->more = n >= WB_CONN_POLL_BATCH;
    if (c->more) wb_loop_timer_start(c->lp, &c->poll_timer, wb_loop_now(c->lp));
    if (c->stopping && !c->closed && rd_kafka_consumer_closed(c->rk)) c->closed = 1;
    conn_dispatch_soon(c);
}

static void on_queue_fd(wb_loop *lp, int fd, unsigned events, void *arg)
{
    wb_conn *c = arg;
    char drain[64];
    while (read(fd, drain, sizeof(drain)) > 0) {
    }
    consumer_poll(c);
}

static int conf_has(const wb_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka[i].key, key)) return 1;
    return 0;
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *errstr, size_t n)
{
    char kerr[256];
    if (rd_kafka_conf_set(conf, k, v, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, n, "consumer: %s: %s", k, kerr);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Start and close                                                                      */

rd_kafka_conf_t *consumer_conf(const wb_config *cfg, const wb_connector *cc, const char *bootstrap,
                               int nconsumers, const char *group, int bounded, char *errstr,
                               size_t errstr_size)
{
    rd_kafka_conf_t *conf = wb_kafka_conf(cfg, WB_KAFKA_CONSUMER, bootstrap, errstr, errstr_size);
    if (!conf) return NULL;
    /* Where a group without committed offsets starts: the connector's start:, else the
     * kafka.auto.offset.reset the operator set, else latest (a new partner gets the events
     * from now on). A time is applied per partition on assignment. */
    const char *reset = NULL;
    if (bounded) /* a redrive's group starts at the beginning of the dead-letter topic */
        reset = "earliest";
    else if (cc->start)
        reset = cc->start_mode == WB_START_LATEST ? "latest" : "earliest";
    else if (!conf_has(cfg, "auto.offset.reset"))
        reset = "latest";
    /* The process-wide fetch budget, split between the consumers (librdkafka prefetches up to
     * queued.max.messages.kbytes per consumer). queued.min.messages keeps librdkafka's default:
     * once a consumer's queue holds that many messages its fetcher stops and, in librdkafka
     * 2.0, looks again only on its next 1 s wake-up, even if the queue was drained at once (a
     * low value made the bridge consume in one burst per second). The connector drains the
     * queue into its ledger as fast as it fills; the window pauses partitions instead. */
    char kb[32], client[120];
    size_t per = cfg->outbound.fetch_buffer / 1024 / (size_t)(nconsumers > 0 ? nconsumers : 1);
    snprintf(kb, sizeof(kb), "%zu", per < 1024 ? 1024 : per);
    snprintf(client, sizeof(client), "webhook-bridge.%s", cc->name);
    const char *file = cc->file ? cc->file : cc->name;
    char serr[300];
    if (set(conf, "group.id", group ? group : cc->group_id, serr, sizeof(serr)) ||
        (bounded && set(conf, "enable.partition.eof", "true", serr, sizeof(serr))) ||
        set(conf, "enable.auto.offset.store", "false", serr, sizeof(serr)) ||
        set(conf, "enable.auto.commit", "false", serr, sizeof(serr)) ||
        (reset && set(conf, "auto.offset.reset", reset, serr, sizeof(serr))) ||
        (!conf_has(cfg, "partition.assignment.strategy") &&
         set(conf, "partition.assignment.strategy", "cooperative-sticky", serr, sizeof(serr))) ||
        (!conf_has(cfg, "client.id") && set(conf, "client.id", client, serr, sizeof(serr))) ||
        (!conf_has(cfg, "queued.max.messages.kbytes") &&
         set(conf, "queued.max.messages.kbytes", kb, serr, sizeof(serr))) ||
        /* librdkafka's mock broker answers a fetch only when fetch.wait.max.ms expires, even
         * when data is there (a real broker answers at once): keep the embedded cluster's
         * latency realistic. */
        (cfg->embedded && !conf_has(cfg, "fetch.wait.max.ms") &&
         set(conf, "fetch.wait.max.ms", "10", serr, sizeof(serr)))) {
        snprintf(errstr, errstr_size, "%s:%d: %s", file, cc->line, serr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* ------------------------------------------------------------------------------------ */
/* Bounded runs (replay, redrive)                                                       */

/* Replay: assign every partition of the connector's topics by hand (no group membership, so
 * the live connector's assignment and offsets are untouched), from the first offset at or
 * after from_ms (by timestamp lookup; where the broker cannot look timestamps up, from the
 * beginning, records before from_ms skipped) to the log end offset now. */
static wb_err replay_assign(wb_conn *c, char *errstr, size_t errstr_size)
{
    const wb_connector *cc = c->st->cc;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (size_t t = 0; t < cc->ntopics; t++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, cc->topics[t], NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err =
            rkt ? rd_kafka_metadata(c->rk, 0, rkt, &md, 10000) : RD_KAFKA_RESP_ERR__NOENT;
        if (!err && md && md->topic_cnt == 1 && md->topics[0].err) err = md->topics[0].err;
        int n = !err && md && md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
        if (md) rd_kafka_metadata_destroy(md);
        if (rkt) rd_kafka_topic_destroy(rkt);
        if (err || n == 0) {
            snprintf(errstr, errstr_size, "topic %s: %s", cc->topics[t],
                     err ? rd_kafka_err2str(err) : "no partitions");
            rd_kafka_topic_partition_list_destroy(l);
            return WB_ERR_KAFKA;
        }
        for (int p = 0; p < n; p++)
            rd_kafka_topic_partition_list_add(l, cc->topics[t], p)->offset = c->from_ms;
    }
    rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_copy(l);
    rd_kafka_resp_err_t terr = rd_kafka_offsets_for_times(c->rk, at, 10000);
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *e = &l->elems[i];
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(c->rk, e->topic, e->partition, &lo, &hi, 10000);
        if (err) {
            snprintf(errstr, errstr_size, "%s[%d]: log end offset: %s", e->topic, e->partition,
                     rd_kafka_err2str(err));
            rd_kafka_topic_partition_list_destroy(at);
            rd_kafka_topic_partition_list_destroy(l);
            return WB_ERR_KAFKA;
        }
        wb_ledger_part *p = part_new(c, e->topic, e->partition);
        if (!p || !p->user) {
            snprintf(errstr, errstr_size, "out of memory");
            rd_kafka_topic_partition_list_destroy(at);
            rd_kafka_topic_partition_list_destroy(l);
            return WB_ERR_NOMEM;
        }
        int64_t start = !terr && !at->elems[i].err ? at->elems[i].offset : -1;
        if (start < 0 || start > hi) {
            start = lo; /* no answer by time: scan from the beginning */
            user_of(p)->skip_before_ms = c->from_ms;
        }
        e->offset = start;
        set_bounds(c, p, start, lo, hi);
        c->assigned++;
    }
    rd_kafka_topic_partition_list_destroy(at);
    rd_kafka_resp_err_t err = rd_kafka_assign(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        snprintf(errstr, errstr_size, "assign: %s", rd_kafka_err2str(err));
        return WB_ERR_KAFKA;
    }
    c->joined = 1;
    return WB_OK;
}

wb_err consumer_start(wb_conn *c, const char *bootstrap, int nconsumers, char *errstr,
                      size_t errstr_size)
{
    const wb_connector *cc = c->st->cc;
    rd_kafka_conf_t *conf = consumer_conf(c->st->cfg, cc, bootstrap, nconsumers, c->group,
                                          c->mode != WB_CONN_LIVE, errstr, errstr_size);
    if (!conf) return WB_ERR_CONFIG;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, c);
    char kerr[256];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr));
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "connector %s: consumer: %s", cc->name, kerr);
        return WB_ERR_KAFKA;
    }
    rd_kafka_poll_set_consumer(c->rk);
    if (pipe2(c->qfd, O_NONBLOCK | O_CLOEXEC)) {
        snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
        c->qfd[0] = c->qfd[1] = -1;
        return WB_ERR_IO;
    }
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    rd_kafka_queue_io_event_enable(c->queue, c->qfd[1], "1", 1);
    if (wb_loop_io_add(c->lp, c->qfd[0], WB_LOOP_READ, on_queue_fd, c)) {
        snprintf(errstr, errstr_size, "connector %s: cannot watch the consumer queue", cc->name);
        return WB_ERR_IO;
    }
    if (c->mode == WB_CONN_REPLAY) return replay_assign(c, errstr, errstr_size);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)cc->ntopics);
    if (c->mode == WB_CONN_REDRIVE)
        rd_kafka_topic_partition_list_add(topics, c->st->cfg->outbound.dead_letter_topic,
                                          RD_KAFKA_PARTITION_UA);
    else
        for (size_t i = 0; i < cc->ntopics; i++)
            rd_kafka_topic_partition_list_add(topics, cc->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        snprintf(errstr, errstr_size, "connector %s: subscribe: %s", cc->name,
                 rd_kafka_err2str(err));
        return WB_ERR_KAFKA;
    }
    return WB_OK;
}

void consumer_close(wb_conn *c)
{
    if (!c->rk || c->closed) return;
    /* Asynchronous close on the consumer queue: the revoke callback (stopping: commit and
     * unassign at once) and the leave happen while the loop keeps serving the others. */
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(c->rk, c->queue);
    if (e) {
        WB_WARN("connector %s: consumer close: %s", c->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        c->closed = 1;
        return;
    }
    consumer_poll(c);
}
