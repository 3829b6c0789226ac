/* avro_plan.h - the compiled writer->reader resolution plan (internal to schema/: built by
 * avro_plan.c, walked by avro_decode.c).
 *
 * A plan is a graph of nodes, one per (writer type, reader type) pair met while compiling:
 * record field mappings, pre-rendered reader defaults and JSON keys, enum symbol maps, union
 * branch maps. Recursive schemas make it cyclic, so the plan owns every node in one array.
 *
 * Thread: immutable once wb_avro_plan_new returns; shared read-only by any thread. */
#ifndef WB_AVRO_PLAN_H
#define WB_AVRO_PLAN_H

#include <stddef.h>
#include "schema/avro.h"

/* What decoding a node does. */
typedef enum plan_op {
    OP_PRIM,   /* a primitive: read by the writer's kind, written by the reader's */
    OP_ENUM,   /* symmap */
    OP_FIXED,  /* same size on both sides */
    OP_ARRAY,  /* item */
    OP_MAP,    /* item */
    OP_RECORD, /* wf, outs */
    OP_WUNION, /* the writer is a union: wb, one node per writer branch */
    OP_ERROR,  /* this pair cannot be read: err (reported when data hits it) */
} plan_op;

typedef struct pnode pnode;

/* One reader field of a record node, in reader order. */
typedef struct pout {
    int widx;  /* writer field read for this reader field, or -1: default */
    char *key; /* "\"name\":" (with a leading ',' after the first field) */
    size_t keylen;
    char *defjson; /* rendered default when widx < 0 */
} pout;

struct pnode {
    plan_op op;
    const wb_avro_type *kw, *kr; /* the pair this node was built for (memo key) */
    const wb_avro_type *w, *r;   /* writer type, concrete reader type (a union branch) */
    int wrap;                    /* reader is a union: 1 nullable (plain value), 2 {"b": v} */
    char *wrap_key;              /* "{\"branch\":" */
    int *symmap;                 /* enum: writer index -> reader index or -1 */
    pnode **wf;                  /* record: per writer field, node or NULL (skipped) */
    pout *outs;                  /* record: reader fields in reader order */
    size_t nouts;
    int in_order; /* record: reader fields are the writer's first fields, in order */
    pnode *item;  /* array / map */
    pnode **wb;   /* writer union: per writer branch */
    char *err;    /* OP_ERROR */
};

struct wb_avro_plan {
    pnode *root;
    pnode **all; /* every node (owned), also the memo of built pairs */
    size_t n, cap;
};

#endif
