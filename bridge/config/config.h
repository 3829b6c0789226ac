/* config.h - typed configuration of webhook-bridge (bridge.yaml + connector files).
 *
 * wb_config_load() parses YAML with libyaml into these structs, resolves secret references
 * (${ENV} and file:/path), applies defaults and validates. Every error names its source as
 * "file:line: key: message" (and suggests a fix for a misspelled key).
 *
 * Ownership: a wb_config owns every string and array below it; wb_config_free() releases
 * all. Thread: built on one thread, then read-only (shared freely between threads). */
#ifndef WB_CONFIG_H
#define WB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "config/config_model.h"
#include "core/err.h"

/* Load and validate path. On error returns NULL and writes "file:line: key: message" lines
 * into errstr (several errors may be listed, one per line). Caller frees with
 * wb_config_free() (or wb_config_unref()). Any thread; reads the environment. */
wb_config *wb_config_load(const char *path, char *errstr, size_t errstr_size);
/* Free cfg and all it owns, whatever its reference count (NULL is fine). */
void wb_config_free(wb_config *cfg);

/* A configuration is a generation: immutable after load, shared by reference. A reload
 * builds a new one; whoever still uses the old one (a delivery in flight, a connector being
 * drained) holds a reference, and the last unref frees it. Thread-safe (atomic count).
 * wb_config_load() returns a config with one reference; wb_config_free() frees regardless
 * (for single owners such as tests and `check`). */
wb_config *wb_config_ref(wb_config *cfg);
void wb_config_unref(wb_config *cfg);

/* Configurations loaded and not yet freed (every generation still in use counts). */
int wb_config_live(void);

/* Load one connector file on its own (the `transform` CLI): a config with bridge defaults,
 * that connector, and schema_registry.dir = schemas_dir (NULL: "schemas"), checked as
 * wb_config_load() checks connectors (jq programs compiled, contract against the folder).
 * NULL + "file:line: key: message" lines on error. */
wb_config *wb_config_load_connector(const char *path, const char *schemas_dir, char *errstr,
                                    size_t errstr_size);

/* Print a human summary (topics, connectors, schemes; never secret values) to fp. */
void wb_config_print_summary(const wb_config *cfg, FILE *fp);

#endif
