/* config_files.h - the connector files: the "connectors:" entries of bridge.yaml (folders and
 * files, relative to bridge.yaml's folder) and the load of one connector file.
 * Private to bridge/config/. Thread: the caller's (one load). */
#ifndef WB_CONFIG_FILES_H
#define WB_CONFIG_FILES_H

#include <yaml.h>

#include "config/config_int.h"

/* dir joined with rel ("" dir or absolute rel -> rel). Caller frees; NULL on OOM. */
char *wb_config_join_path(const char *dir, const char *rel);

/* Parse the connector file path into a new element of c->cfg->connectors (defaults, walk,
 * validate_connector); errors name path. The element is added even when the file fails, so
 * wb_config_free() releases what it holds. */
void wb_config_load_connector_file(wb_config_ctx *c, const char *path);

/* Load what c->connectors_node (bridge.yaml's connectors:, if any) names: a folder (every
 * .yaml and .yml file in it, sorted by name; dotfiles skipped), a file, or a list of those.
 * Relative paths are joined to dir (the folder of bridge.yaml, "" for the current one). */
void wb_config_resolve_connectors(wb_config_ctx *c, yaml_document_t *doc, const char *dir);

#endif
