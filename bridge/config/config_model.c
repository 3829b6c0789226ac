/* config_model.c - read-only lookups on a loaded configuration (config_model.h). */
#include "config/config_model.h"

#include <string.h>

#include "core/util.h"

/* kafka group.id, or "webhook-bridge"; borrowed from cfg (or static). */
const char *wb_config_group_id(const wb_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka[i].key, "group.id")) return cfg->kafka[i].value;
    return "webhook-bridge";
}

/* Connector by name; borrowed pointer valid until wb_config_free(). */
const wb_connector *wb_config_connector(const wb_config *cfg, const char *name)
{
    if (!cfg || !name) return NULL;
    for (size_t i = 0; i < cfg->nconnectors; i++)
        if (cfg->connectors[i].name && !strcmp(cfg->connectors[i].name, name))
            return &cfg->connectors[i];
    return NULL;
}

/* The producer's message.max.bytes: the kafka: value when set, else librdkafka's default. */
size_t wb_config_kafka_max_message(const wb_config *cfg)
{
    for (size_t i = 0; i < cfg->nkafka; i++) {
        long v;
        if (!strcmp(cfg->kafka[i].key, "message.max.bytes") &&
            wb_parse_int(cfg->kafka[i].value, 1, 1000000000, &v) == WB_OK)
            return (size_t)v;
    }
    return 1000000;
}
