/* schema/fetcher.h - a background thread that fetches writer schemas from the registry, so
 * a registry miss never blocks a delivery thread (issue: registry cache).
 *
 * The owner asks for ids (deduplicated: an id queued, in flight or answered but not yet
 * taken is not asked twice) and takes the answers when it likes; the notify callback says
 * an answer is waiting. The schema text is handed over unparsed: the owner parses it on its
 * own thread (avro-c is not known to be thread-safe).
 *
 * Thread: wb_fetcher_request / _take / _set_notify are the owner's; the fetch thread runs
 * the registry client and the notify callback. One mutex guards the queues. */
#ifndef WB_SCHEMA_FETCHER_H
#define WB_SCHEMA_FETCHER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "core/err.h"
#include "schema/registry.h"

typedef struct wb_fetcher wb_fetcher;

/* One registry answer. Made by the fetch thread, owned by the owner once taken. */
typedef struct wb_fetcher_result {
    STAILQ_ENTRY(wb_fetcher_result) link;
    int32_t id;
    wb_err err;       /* WB_OK: text; WB_ERR_SCHEMA: permanent; IO / TIMEOUT: transient */
    char *text;       /* the schema (WB_OK), owned by the result */
    char reason[512]; /* on error */
} wb_fetcher_result;

/* Answers in the order they came (oldest first). */
STAILQ_HEAD(wb_fetcher_results, wb_fetcher_result);

typedef void (*wb_fetcher_notify_fn)(void *ctx, int32_t id);

/* Start the thread; reg is owned by the fetcher from now on (also on failure). max_queue
 * bounds the ids waiting (0: 4096). NULL + errstr on failure. Owner thread. */
wb_fetcher *wb_fetcher_new(wb_registry *reg, size_t max_queue, char *errstr, size_t errstr_size);
/* Abort a request in flight, join the thread, free every queue (answers not taken too) and
 * the registry client. Owner thread; NULL is fine. */
void wb_fetcher_free(wb_fetcher *f);
/* fn(ctx, id) runs on the fetch thread after each answer is queued (NULL: none). */
void wb_fetcher_set_notify(wb_fetcher *f, wb_fetcher_notify_fn fn, void *ctx);

/* Ask for id. WB_OK (queued now or already), WB_ERR_FULL (max_queue ids wait), NOMEM. */
wb_err wb_fetcher_request(wb_fetcher *f, int32_t id);
/* Move every answer ready, oldest first, to the end of *out (initialised by the caller).
 * Cheap when none (no lock). The caller frees each with wb_fetcher_result_free(). */
void wb_fetcher_take(wb_fetcher *f, struct wb_fetcher_results *out);
void wb_fetcher_result_free(wb_fetcher_result *r);
/* Registry requests sent so far. Any thread. */
unsigned long wb_fetcher_requests(wb_fetcher *f);

#endif
