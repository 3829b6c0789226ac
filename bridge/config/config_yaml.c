/* config_yaml.c - YAML documents and "file:line: key: message" errors.
 *
 * The YAML is loaded with libyaml's document API, so every node carries its line; the
 * table walk that applies a settings table to a mapping lives with the setters it calls
 * (config_set.c), since a nested mapping's setter walks again. */
#include "config/config_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Error reporting                                                                             */
/* ------------------------------------------------------------------------------------------ */

/* The error text, counting one more error: for a line that is not about a key (the file
 * cannot be opened, its YAML syntax), written whole by the caller. */
static wb_buf *raw_error(wb_config_ctx *c)
{
    c->nerrs++;
    return &c->errs;
}

/* See config_yaml.h. */
void wb_config_report(wb_config_ctx *c, int line, const char *key, const char *fmt, ...)
{
    va_list ap;
    c->nerrs++;
    if (wb_buf_printf(&c->errs, "%s:%d: %s: ", c->file, line, key) != WB_OK) return;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)wb_buf_printf(&c->errs, "%s\n", msg);
}

/* See config_yaml.h. */
void wb_config_oom(wb_config_ctx *c)
{
    if (!c->nomem) {
        c->nomem = 1;
        c->nerrs++;
        (void)wb_buf_adds(&c->errs, "out of memory\n");
    }
}

/* See config_yaml.h. */
char *wb_config_strdup(wb_config_ctx *c, const char *s)
{
    char *d = strdup(s);
    if (!d) wb_config_oom(c);
    return d;
}

/* ------------------------------------------------------------------------------------------ */
/* Documents                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* See config_yaml.h. */
int wb_config_yaml_load(wb_config_ctx *c, const char *path, yaml_document_t *doc)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        (void)wb_buf_printf(raw_error(c), "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        wb_config_oom(c);
        fclose(fp);
        return -1;
    }
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, doc)) {
        const char *problem = parser.problem ? parser.problem : "syntax error";
        (void)wb_buf_printf(raw_error(c), "%s:%zu: yaml: %s%s%s (column %zu)\n", path,
                            parser.problem_mark.line + 1, problem, parser.context ? " " : "",
                            parser.context ? parser.context : "", parser.problem_mark.column + 1);
        goto out;
    }
    if (!yaml_document_get_root_node(doc)) {
        (void)wb_buf_printf(raw_error(c), "%s:1: yaml: empty document\n", path);
        yaml_document_delete(doc);
        goto out;
    }
    rc = 0;
out:
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}

/* See config_yaml.h. */
yaml_node_t *wb_config_map_get(yaml_document_t *doc, yaml_node_t *map, const char *name,
                               int *key_line)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        if (kn->type != YAML_SCALAR_NODE || strcmp(node_text(kn), name)) continue;
        if (key_line) *key_line = node_line(kn);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        return node_is_null(vn) ? NULL : vn;
    }
    return NULL;
}
