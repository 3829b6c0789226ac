/* config_contract.h - the `contract:` of outbound connectors checked against the local
 * schemas folder, as `run` will load it. Private to bridge/config/. Thread: the caller's. */
#ifndef WB_CONFIG_CONTRACT_H
#define WB_CONFIG_CONTRACT_H

#include "config/config_int.h"

/* Every outbound connector with a contract: needs a schema source, and the pinned
 * "event@version" must be a version of cfg->schema_registry.dir (the reader side of the
 * resolution always comes from that folder; a registry supplies only writers). Reports at
 * each connector's contract_line; the folder is loaded at most once. Sets c->file. */
void wb_config_check_contracts(wb_config_ctx *c);

#endif
