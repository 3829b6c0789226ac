/* config_yaml.h - the loader's YAML side: documents read with libyaml, errors reported as
 * "file:line: key: message", and the walk that applies a settings table to a mapping.
 * Private to bridge/config/. Thread: the caller's (one load = one thread). */
#ifndef WB_CONFIG_YAML_H
#define WB_CONFIG_YAML_H

#include <string.h>
#include <yaml.h>

#include "config/config_int.h"

/* 1-based line of node n (libyaml counts from 0); 1 for NULL. */
static inline int node_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 1;
}

/* Text of a scalar node (borrowed from the document). */
static inline const char *node_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain scalar that YAML reads as null: "", "~", "null", "Null", "NULL". */
static inline int node_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *s = node_text(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* "a mapping", "a list" or "a scalar", for "expected X, got Y" messages. */
static inline const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* Append "<c->file>:<line>: <key>: <message>" to the load's errors. The message must never
 * contain a secret value (name the variable or the file instead). */
__attribute__((format(printf, 4, 5))) void wb_config_report(wb_config_ctx *c, int line,
                                                            const char *key, const char *fmt, ...);

/* Report "out of memory" (once per load). */
void wb_config_oom(wb_config_ctx *c);

/* strdup(s), reporting out of memory on failure. The caller owns the copy. */
char *wb_config_strdup(wb_config_ctx *c, const char *s);

/* Load the first YAML document of path into doc. Returns 0 (the caller deletes doc with
 * yaml_document_delete), or -1 with the error reported ("path: cannot open: ...",
 * "path:line: yaml: ... (column N)", "path:1: yaml: empty document"). */
int wb_config_yaml_load(wb_config_ctx *c, const char *path, yaml_document_t *doc);

/* Value node of key name in mapping map, or NULL when absent or null. When the key is
 * present, *key_line (if not NULL) gets its line. Borrowed from doc. */
yaml_node_t *wb_config_map_get(yaml_document_t *doc, yaml_node_t *map, const char *name,
                               int *key_line);

#endif
