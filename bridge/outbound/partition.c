/* outbound/partition.c - the partitions of one connector: their state beside the ledger,
 * pausing, resuming and seeking them, and the budgets that pause them.
 *
 * A partition is paused when its window is full (max_in_flight_per_partition records not yet
 * terminal), when the connector's record bytes in flight pass max_in_flight_bytes, while the
 * schema registry cannot be reached for one of its records, and while the connector is paused
 * or stopping; it resumes when none of these holds any more. Loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/util.h"
#include "outbound/conn_int.h"

/* ------------------------------------------------------------------------------------ */
/* Partition state                                                                      */

static void part_metrics(wb_conn *c, wb_ledger_part *p)
{
    part_user *u = p->user;
    char labels[600];
    wb_buf esc;
    wb_buf_init(&esc, 512);
    wb_metrics_escape_label(&esc, p->topic);
    snprintf(labels, sizeof(labels), "connector=\"%s\",topic=\"%s\",partition=\"%d\"", c->name,
             esc.data ? esc.data : "", p->partition);
    wb_buf_free(&esc);
    u->m_committed = wb_metrics_gauge("webhook_bridge_connector_committed_offset",
                                      "Next offset committed to the connector's group", labels);
    u->m_stored = wb_metrics_gauge("webhook_bridge_connector_stored_offset",
                                   "Next offset stored for commit (terminal prefix)", labels);
    u->m_consumed = wb_metrics_gauge("webhook_bridge_connector_consumed_offset",
                                     "Offset of the last record consumed", labels);
}

wb_ledger_part *part_new(wb_conn *c, const char *topic, int32_t partition)
{
    wb_ledger_part *p = wb_ledger_assign(c->ledger, topic, partition);
    if (!p) return NULL;
    if (!p->user) {
        part_user *u = calloc(1, sizeof(*u));
        if (!u) return NULL; /* the part stays without user state: treated as out of memory */
        u->committed = -1;
        u->next_offset = -1;
        u->caught_up_ms = wb_wall_ms();
        p->user = u;
        part_metrics(c, p);
    }
    return p;
}

/* ------------------------------------------------------------------------------------ */
/* Pause, resume, seek                                                                  */

static wb_err pause_resume(wb_conn *c, wb_ledger_part *p, int pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    rd_kafka_resp_err_t err =
        pause ? rd_kafka_pause_partitions(c->rk, l) : rd_kafka_resume_partitions(c->rk, l);
    if (!err) err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (!err) return WB_OK;
    WB_WARN("connector %s: cannot %s %s[%d]: %s", c->name, pause ? "pause" : "resume", p->topic,
            p->partition, rd_kafka_err2str(err));
    return WB_ERR_KAFKA;
}

void part_pause(wb_conn *c, wb_ledger_part *p)
{
    pause_resume(c, p, 1);
}

void part_resume(wb_conn *c, wb_ledger_part *p)
{
    if (pause_resume(c, p, 0)) return;
    /* librdkafka 2.0's fetcher thread learns of a resume only on its next wake-up, up to a
     * second later when every partition it fetches for was paused; a seek to where the
     * partition stands wakes it at once (and fetches from the same offset). */
    part_user *u = p->user;
    if (u && u->next_offset >= 0) part_seek(c, p, u->next_offset);
}

void parts_pause_all(wb_conn *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l) || !l) return;
    if (l->cnt > 0) rd_kafka_pause_partitions(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

void part_seek(wb_conn *c, wb_ledger_part *p, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = offset;
    if (p->user) user_of(p)->next_offset = offset;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, l, 0);
    if (e) {
        WB_ERROR("connector %s: seek %s[%d]@%" PRId64 ": %s", c->name, p->topic, p->partition,
                 offset, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* ------------------------------------------------------------------------------------ */
/* Budgets                                                                              */

void part_resume_maybe(wb_conn *c, wb_ledger_part *p)
{
    part_user *u = p->user;
    if (!u || c->paused || c->bytes_paused || c->stopping || u->paused_window || u->paused_wait ||
        u->revoking)
        return;
    part_resume(c, p);
}

void conn_check_budgets(wb_conn *c, wb_ledger_part *p)
{
    part_user *u = p && !p->fenced ? p->user : NULL;
    if (u) {
        if (!u->paused_window && wb_ledger_part_full(p)) {
            u->paused_window = 1;
            part_pause(c, p);
        } else if (u->paused_window && wb_ledger_part_low(p)) {
            u->paused_window = 0;
            part_resume_maybe(c, p);
        }
    }
    if (!c->bytes_paused && wb_ledger_over_budget(c->ledger)) {
        c->bytes_paused = 1;
        WB_INFO("connector %s: %zu bytes in flight: pausing its partitions", c->name,
                wb_ledger_bytes(c->ledger));
        parts_pause_all(c);
    } else if (c->bytes_paused && wb_ledger_low_bytes(c->ledger)) {
        c->bytes_paused = 0;
        for (wb_ledger_part *q = wb_ledger_parts(c->ledger); q; q = LIST_NEXT(q, link))
            part_resume_maybe(c, q);
    }
}
