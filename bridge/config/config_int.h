/* config_int.h - the types the parts of the configuration loader share. Not a public header:
 * only bridge/config/ files (and their unit tests) include it; the rest of the tree uses
 * config.h.
 *
 * The loader, one concern per file:
 *   config.c           public entry points, the wb_config lifetime (ref/unref/live)
 *   config_model.c     the read-only lookups on a loaded configuration (config_model.h)
 *   config_yaml.c      libyaml documents, "file:line: key: message" errors
 *   config_settings.c  the settings tables: every key with its type, bounds and default
 *   config_set.c       the table walk; one YAML value -> its field (scalars, lists, headers,
 *                      kafka:, secrets)
 *   config_check.c     format checks of one string value (topic, URL, CIDR, listen, ...)
 *   config_validate.c  rules across the keys of a connector, and across files
 *   config_contract.c  pinned contracts against the local schemas folder
 *   config_files.c     the connector files and folders named by connectors:
 *   config_summary.c   wb_config_print_summary
 *   secret.c           ${NAME}, ${NAME:-default} and file:/path references
 *
 * Thread: a load runs on one thread and owns its wb_config_ctx; nothing here is shared. */
#ifndef WB_CONFIG_INT_H
#define WB_CONFIG_INT_H

#include <stddef.h>
#include <yaml.h>

#include "config/config_model.h"
#include "core/buf.h"

/* ------------------------------------------------------------------------------------------ */
/* Load context                                                                                */
/* ------------------------------------------------------------------------------------------ */

/* State of one load (wb_config_load or wb_config_load_connector), on the caller's stack.
 * Errors never stop a load: each is appended to errs and the load fails at the end if any
 * was reported, so one run shows every mistake. */
typedef struct wb_config_ctx {
    wb_buf errs;                  /* "file:line: key: message\n" lines (bounded) */
    int nerrs;                    /* errors reported (the load fails if > 0) */
    int nomem;                    /* "out of memory" is reported once */
    const char *file;             /* display path of the file being walked (borrowed) */
    wb_config *cfg;               /* the config being filled (owned by the load) */
    wb_connector *cc;             /* connector being filled, or NULL while in bridge.yaml */
    yaml_node_t *connectors_node; /* bridge.yaml "connectors:" value, resolved after the walk */
    int connectors_line;
} wb_config_ctx;

/* ------------------------------------------------------------------------------------------ */
/* Settings tables (after nginx's ngx_command_t)                                               */
/* ------------------------------------------------------------------------------------------ */

/* How a field's value is converted and stored. */
typedef enum wb_field_type {
    T_STR,        /* char * */
    T_SECRET,     /* char *, may be file:/path */
    T_SECRETS,    /* char ** + size_t count; file:/path allowed; "secrets:" */
    T_SECRET1,    /* one more entry for the T_SECRETS list at the same offsets ("secret:") */
    T_STRLIST,    /* char ** + size_t count */
    T_INT,        /* int in [min,max] */
    T_BOOL,       /* int 0/1 */
    T_DUR,        /* int64_t ms, >= min ms */
    T_DURLIST,    /* int64_t * + size_t count */
    T_SIZE,       /* size_t in [min,max] */
    T_RATE,       /* double per second */
    T_ENUM,       /* int index into names */
    T_MAP,        /* nested table, same base */
    T_HEADERS,    /* wb_header * + size_t count */
    T_KAFKA,      /* bridge.yaml kafka: (librdkafka properties, in file order) */
    T_CONNECTORS, /* bridge.yaml connectors: (resolved after the walk) */
} wb_field_type;

/* Format checks on string values (config_check.c). */
enum {
    V_NONE = 0,
    V_TOPIC,
    V_POINTER,
    V_NAME,
    V_URL,
    V_CIDR,
    V_SCHEMA_REF,
    V_EVENT_TYPE,
    V_TOKEN,
    V_LISTEN,
    V_GROUP,
    V_START,
    V_COUNT
};

/* Connector keys restricted to one direction. */
enum { F_OUT = 1, F_IN = 2 };

/* One setting: its key, how it is stored, its bounds and its default. A table is an array
 * ending with {.name = NULL}; its offsets are relative to the struct being filled (wb_config
 * for bridge.yaml, wb_connector for a connector file). */
typedef struct wb_field {
    const char *name;
    wb_field_type type;
    size_t off;                 /* offset of the value */
    size_t count;               /* lists: offset of their size_t count */
    long min, max;              /* T_INT, T_SIZE: bounds; T_DUR: minimum ms */
    const char *def;            /* default, written as in YAML ("10s", "1MiB", "key"), or NULL
                                 * (zero); a list: comma-separated */
    const char *const *names;   /* T_ENUM values, NULL-terminated; the index is stored */
    const struct wb_field *sub; /* T_MAP: the nested table */
    int check;                  /* V_*: format check of a string value */
    int flags;                  /* F_*: direction restriction */
} wb_field;

#endif
