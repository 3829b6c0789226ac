/* config_validate.h - the rules that need more than one value: required keys and cross-field
 * checks of a connector, then the rules across files (unique names, topics to consume) and
 * the defaults that depend on other settings (a connector's group id and topics).
 * Private to bridge/config/. Thread: the caller's (one load). */
#ifndef WB_CONFIG_VALIDATE_H
#define WB_CONFIG_VALIDATE_H

#include <yaml.h>

#include "config/config_int.h"

/* After the walk of one connector file (root is its mapping, still in doc): required keys,
 * direction rules, signing rules, jq programs compiled, max_body against the producer's
 * message.max.bytes (an absent max_body is lowered to fit). A required key that is present
 * but invalid was already reported by the walk: only its absence is reported here. */
void wb_config_validate_connector(wb_config_ctx *c, wb_connector *cc, yaml_document_t *doc,
                                  yaml_node_t *root);

/* After every connector is loaded (doc is bridge.yaml): header_timeout within
 * request_timeout, unique connector names, outbound topics; fills each outbound
 * connector's topics (outbound.topics) and group_id ("<group.id>.<name>") when not set;
 * then the contracts (config_contract.c). */
void wb_config_validate_all(wb_config_ctx *c, yaml_document_t *doc);

#endif
