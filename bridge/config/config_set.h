/* config_set.h - the setters: one YAML value converted per its wb_field and stored into the
 * struct being filled. Every string goes through secret.h (${NAME}, file:/path where the
 * field allows it). Private to bridge/config/. Thread: the caller's. */
#ifndef WB_CONFIG_SET_H
#define WB_CONFIG_SET_H

#include <yaml.h>

#include "config/config_int.h"

/* Convert value node vn per f into base (+ f->off). Bad values are reported and leave the
 * field as it was (its default); a list or mapping value replaces the previous one, which
 * is freed. A nested mapping (T_MAP) is walked with wb_config_walk(). */
void wb_config_set_field(wb_config_ctx *c, yaml_document_t *doc, const wb_field *f, yaml_node_t *vn,
                         void *base);

/* Convert the text s (already expanded) of a number-like field (T_INT, T_BOOL, T_DUR,
 * T_SIZE, T_RATE, T_ENUM) into p, checking f's bounds; reported at line when invalid.
 * Also writes the tables' defaults (config_settings.c). */
void wb_config_set_scalar(wb_config_ctx *c, const wb_field *f, char *p, int line, const char *s);

/* Free n strings of v and v (NULL is fine): the lists the setters build. */
void wb_config_strv_free(char **v, size_t n);

/* Free n headers of h and h (NULL is fine). */
void wb_config_headers_free(wb_header *h, size_t n);

/* Apply table to the mapping node map: every key is looked up (an unknown one is reported
 * with a "did you mean" suggestion, a duplicate or a key of the other direction is
 * reported), a null value keeps the default, anything else is converted into base by
 * wb_config_set_field(). mapkey names the mapping in messages about the mapping itself. */
void wb_config_walk(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *map, const wb_field *table,
                    void *base, const char *mapkey);

#endif
