/* schema/schemas_int.h - the schema runtime's state, shared by schemas.c (caches, framed
 * Avro, inbound encoding) and schemas_events.c (plain JSON events); not for other modules.
 *
 * Thread: everything here is the owner thread's (see schemas.h); the fetch thread never
 * touches it. */
#ifndef WB_SCHEMA_SCHEMAS_INT_H
#define WB_SCHEMA_SCHEMAS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include "core/buf.h"
#include "schema/avro.h"
#include "schema/fetcher.h"
#include "schema/schemas.h"

#define WB_SCHEMAS_WBUCKETS 1024 /* hash buckets (chains stay short at the default bounds) */
#define WB_SCHEMAS_PBUCKETS 4096

typedef struct plan_entry plan_entry;

/* A writer schema by registry id: a local one (pinned), a registry one (on the LRU), or a
 * remembered registry failure. */
typedef struct writer_entry {
    int32_t id;
    wb_avro_schema *sc; /* NULL: failed (code, err) */
    char *ref;          /* "order.paid@2" for local schemas, else NULL */
    char *err;
    wb_err code;        /* failures: WB_ERR_SCHEMA (until expires_ms) or transient */
    int64_t expires_ms; /* permanent failures: forgotten then */
    int local;          /* from the folder: pinned */
    LIST_ENTRY(writer_entry) hlink;
    TAILQ_ENTRY(writer_entry) lru; /* registry entries only */
    LIST_HEAD(, plan_entry) plans;
} writer_entry;

/* A resolution plan for (writer id, contract), or why there cannot be one. */
struct plan_entry {
    writer_entry *w;
    char *contract;     /* "" when none */
    wb_avro_plan *plan; /* NULL: unresolvable (err) */
    char *err;
    LIST_ENTRY(plan_entry) hlink;
    LIST_ENTRY(plan_entry) wlink;
    TAILQ_ENTRY(plan_entry) lru;
};

LIST_HEAD(wchain, writer_entry);
LIST_HEAD(pchain, plan_entry);
TAILQ_HEAD(wlru, writer_entry);
TAILQ_HEAD(plru, plan_entry);

/* The runtime. Owner thread only, no lock: the fetch thread reaches it solely through the
 * fetcher's queue (fetch). */
struct wb_schemas {
    wb_registry *reg;      /* synchronous mode */
    wb_fetcher *fetch;     /* async mode (owns the registry client) */
    writer_entry **locals; /* the folder's schemas, in manifest order (also in the hash) */
    size_t nlocals;
    struct wchain wbucket[WB_SCHEMAS_WBUCKETS];
    struct pchain pbucket[WB_SCHEMAS_PBUCKETS];
    struct wlru wlru;
    struct plru plru;
    size_t nregistry, nplans, max_registry, max_plans;
    int64_t neg_ttl_ms;
    uint64_t evictions;
    plan_entry *last; /* consecutive records usually share a plan */
    wb_buf scratch;   /* JSON events: the Avro encoding on the way to the contract */
};

/* The local schema ref names ("order.paid@1" or "order.paid@v1"), or NULL. Borrowed. */
writer_entry *wb_schemas_ref_find(const wb_schemas *s, const char *ref);
/* The version of ref when it is "<event>@<N>" for event (its first elen bytes): 1-100000,
 * else 0. */
long wb_schemas_ref_version(const char *ref, const char *event, size_t elen);
/* The cached plan for (writer id, contract; NULL: none), built when missing. WB_OK with *out
 * (borrowed; pe->plan NULL means unresolvable, pe->err says why), or the writer schema's
 * error with reason. */
wb_err wb_schemas_plan_get(wb_schemas *s, int32_t id, const char *contract, plan_entry **out,
                           char *reason, size_t reason_size);

#endif
