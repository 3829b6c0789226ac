/* listener_int.h - what the inbound listener's files share: listener.c (libmicrohttpd
 * callbacks, life cycle), listener_publish.c (verify, dedupe, publish, the wait for the
 * broker and the answers). Not a public header. See listener.c for the lifetimes. */
#ifndef WB_LISTENER_INT_H
#define WB_LISTENER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>

#include "core/buf.h"
#include "core/connguard.h"
#include "core/metrics.h"
#include "core/tokenbucket.h"
#include "inbound/dedupe.h"
#include "inbound/listener.h"
#include "schema/registry.h"
#include "signing/signing.h"

#define DEDUPE_TOTAL_ENTRIES    1000000 /* shared between the inbound connectors */
#define RETRY_AFTER_UNAVAILABLE 5       /* seconds, on 503 */
/* An error decided before the body (404, 401...) while the client is already sending one
 * (no Expect: 100-continue) is answered after reading and discarding up to this much of it:
 * answering at once makes libmicrohttpd close with unread data, and the client sees a
 * reset instead of the answer (nginx's lingering close, done before the answer). */
#define DRAIN_MAX (16u << 20)
#define SWEEP_MS  200 /* connection deadlines are checked this often */

/* ------------------------------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------------------------- */

typedef struct ticket ticket;
typedef struct request request;

TAILQ_HEAD(ticket_list, ticket);

typedef struct shared {
    pthread_mutex_t lock; /* guards refs, the pending list and every ticket->req */
    pthread_cond_t cond;  /* timer wake-up (monotonic clock) */
    int refs;
    struct ticket_list pending; /* pending publishes, oldest (earliest deadline) first */
    int npending;
    int stop;       /* timer thread exits */
    wb_dedupe **dd; /* per connector index (NULL for outbound connectors) */
    size_t ndd;
    wb_connguard *guard; /* swept by the timer thread (joined before the guard is freed) */
} shared;

/* Statuses the listener answers; one requests_total series per connector and status. */
static const int counted_status[] = {200, 400, 401, 404, 405, 408, 409, 413, 415, 422, 429, 503};
/* The key of a signature digest in the dedupe cache: ids are header values, so no id can
 * start with this byte. */
#define DIGEST_KEY_TAG '\x01'
#define DIGEST_KEY_MAX (1 + 32)
#define NSTATUS        (sizeof(counted_status) / sizeof(counted_status[0]))
#define CONNECTOR_MAX  64 /* longest connector name (the config's rule), kept in tickets */

/* The dedupe keys of one publish: the delivery id and, when a replay could change the id
 * (it is not signed) or there is none, the signature digest (DIGEST_KEY_TAG + digest). */
typedef struct dkeys {
    char id[sizeof(((wb_verify_result *)0)->delivery_id)]; /* NUL-terminated */
    size_t idlen;
    char digest[DIGEST_KEY_MAX];
    size_t dglen;
} dkeys;

struct ticket {
    TAILQ_ENTRY(ticket) link; /* in sh->pending while req is set */
    shared *sh;
    request *req; /* NULL once answered (ack, timeout, shutdown); guarded by sh->lock */
    int64_t deadline_ms;
    wb_dedupe *dd;     /* reservation to commit/abort, or NULL */
    wb_histogram *lat; /* publish latency, observed on the report */
    int64_t t0_us;
    dkeys keys;
    char connector[CONNECTOR_MAX + 1]; /* for the report's log line: the config may be gone */
};

typedef struct inmetrics {
    wb_counter *requests[NSTATUS];
    wb_counter *verify_signature, *verify_stale, *verify_malformed;
    wb_counter *duplicates, *in_flight_conflicts, *dedupe_evictions;
    wb_histogram *publish_seconds;
} inmetrics;

typedef struct inconn {
    const wb_connector *cc;
    _Atomic(wb_verifier *) v; /* swapped by wb_listener_reload (secret rotation) */
    inmetrics m;
    pthread_mutex_t rl_lock; /* guards bucket */
    wb_tokenbucket bucket;   /* rate_limit; burst: one second's worth */
    char source[96];         /* ce_source: "webhook-bridge/<name>" */
} inconn;

enum phase { P_BODY = 0, P_DRAIN, P_WAIT, P_DONE };

struct request {
    struct MHD_Connection *conn;
    wb_conn_slot *slot;     /* the connection's deadlines (connguard.h), or NULL */
    int connector;          /* index into cfg->connectors, -1 when unknown */
    const wb_connector *cc; /* that connector, NULL when unknown (for log fields) */
    char delivery_id[sizeof(((wb_verify_result *)0)->delivery_id)]; /* once read, for logs */
    int form;
    int64_t start_ms;
    /* P_DRAIN: the answer decided before the body, given once the body has been read */
    size_t drained;
    int drain_status, drain_retry;
    const char *drain_slug;
    char drain_detail[200];
    wb_buf body;
    wb_buf avro; /* the body encoded with the connector's schema, when it has one */
    enum phase phase;
    int status;  /* HTTP status queued (metrics), 0 = none yet */
    int waiting; /* suspended for a delivery report (set on the MHD thread) */
    /* publish outcome, written under shared->lock by whoever detaches the ticket */
    wb_err perr;
    int timed_out;
    int32_t partition;
    int64_t offset;
    char errmsg[128];
};

struct wb_listener {
    const wb_config *cfg;
    wb_producer *prod;
    struct MHD_Daemon *d;
    int port;
    inconn *in; /* cfg->nconnectors entries; only inbound ones are set up */
    shared *sh;
    pthread_t timer;
    int timer_started;
    inmetrics unknown; /* requests to no connector (404): connector="-" */
    atomic_int active; /* requests between first call and completion */
    int max_conn;
    int64_t publish_timeout_ms; /* cfg values, defaults applied when unset (<= 0) */
    wb_schemas *schemas;        /* inbound Avro encoding (connectors with `schema:`), or NULL */
    wb_verifier **retired;      /* replaced by a reload; a request may still be using one */
    int64_t *retired_at;        /* monotonic ms each was replaced */
    size_t nretired;
    pthread_mutex_t schemas_lock; /* wb_schemas is single-threaded; MHD serves from a pool */
    int64_t request_timeout_ms;
    wb_connguard *guard; /* time from accept, per-IP and total connection limits */
    size_t max_record;   /* the producer's message.max.bytes */
};

/* ---- listener_publish.c ---- */

/* Header lookup for the verifier (ctx is the MHD connection); NULL when absent. The value is
 * MHD's, valid while the request lasts. MHD threads. */
const char *wb_listener_header(void *ctx, const char *name);
/* Queue an RFC 9457 answer for r (records the status for the metrics; logs at debug with
 * r's connector and delivery id as fields). MHD threads. */
enum MHD_Result wb_listener_problem(request *r, const char *url, int status, const char *slug,
                                    const char *detail, int retry_after);
/* A failed verification of ic's request (header or body stage): counts it under its reason
 * class and gives the answer's status (401 signature/stale, 400 malformed) and slug. */
void wb_listener_verify_failed(inconn *ic, wb_err err, int *status, const char **slug);
/* Body complete: verify, parse, dedupe, publish and suspend (or answer the error). MHD
 * threads; r stays the caller's (it is suspended, not freed). */
enum MHD_Result wb_listener_process(wb_listener *l, request *r, const char *url);
/* Resumed after the delivery report / timeout: give the outcome. MHD threads. */
enum MHD_Result wb_listener_finish(wb_listener *l, request *r, const char *url);
/* Lock held: answer the ticket's request 503 and release its dedupe keys; the connection to
 * resume is returned (the ticket itself stays the delivery report's to free). */
struct MHD_Connection *wb_listener_expire(shared *sh, ticket *t, const char *why);
/* Drop one reference to sh; the last frees it (dedupe caches included). Any thread. */
void wb_listener_shared_unref(shared *sh);
/* The timer thread (arg: shared): publish deadlines and the connection sweep. */
void *wb_listener_timer_run(void *arg);

#endif
