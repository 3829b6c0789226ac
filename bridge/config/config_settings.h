/* config_settings.h - the settings tables: every key of bridge.yaml and of a connector file
 * with its type, bounds and default (after nginx's ngx_command_t and Redis' standardConfig).
 * Private to bridge/config/. The tables are constant: any thread. */
#ifndef WB_CONFIG_SETTINGS_H
#define WB_CONFIG_SETTINGS_H

#include "config/config_int.h"

/* bridge.yaml (fields of wb_config) and a connector file (fields of wb_connector). */
extern const wb_field wb_config_root_fields[];
extern const wb_field wb_config_connector_fields[];

/* Write the defaults of table (and of its nested tables) into base: what a key that is
 * absent or null leaves. A string default replaces (and frees) what base held; memory that
 * cannot be had is reported. Base is otherwise zeroed by the caller (calloc). */
void wb_config_defaults(wb_config_ctx *c, const wb_field *table, void *base);

/* Static name of an ordering ("key", "partition", "none"). */
const char *wb_config_ordering_name(wb_ordering o);

#endif
