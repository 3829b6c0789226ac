/* config_yaml.c - YAML documents, "file:line: key: message" errors and the table walk.
 *
 * The YAML is loaded with libyaml's document API, so every node carries its line. One
 * generic walker applies a settings table (config_settings.c) to a mapping: it finds each
 * key in the table (or reports it, with a "did you mean" suggestion), then hands the value
 * to wb_config_set_field() (config_set.c), which may come back here for a nested mapping. */
#include "config/config_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_set.h"

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

/* ------------------------------------------------------------------------------------------ */
/* The table walker                                                                            */
/* ------------------------------------------------------------------------------------------ */

/* Optimal-string-alignment (Damerau-Levenshtein) distance, case-insensitive, short words. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 &&
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

/* The entry of table for key name, or NULL after reporting it unknown (with the closest
 * key within two edits as the suggestion). */
static const wb_field *find_field(wb_config_ctx *c, const wb_field *table, const char *name,
                                  int line)
{
    const wb_field *best = NULL;
    int bestd = 3;
    for (const wb_field *f = table; f->name; f++) {
        if (!strcmp(f->name, name)) return f;
        int d = edit_distance(name, f->name);
        if (d < bestd) {
            bestd = d;
            best = f;
        }
    }
    if (best)
        wb_config_report(c, line, name, "unknown key; did you mean '%s'?", best->name);
    else
        wb_config_report(c, line, name, "unknown key");
    return NULL;
}

/* Whether the key of pair p repeats one of an earlier pair of map. */
static int is_duplicate(yaml_document_t *doc, yaml_node_t *map, yaml_node_pair_t *p,
                        const char *name)
{
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *kn = yaml_document_get_node(doc, q->key);
        if (kn->type == YAML_SCALAR_NODE && !strcmp(node_text(kn), name)) return 1;
    }
    return 0;
}

/* A connector key of the other direction is reported (and skipped) rather than stored. */
static int wrong_direction(wb_config_ctx *c, const wb_field *f, int line)
{
    if (!c->cc) return 0;
    if ((f->flags & F_OUT) && c->cc->direction == WB_DIR_INBOUND) {
        wb_config_report(c, line, f->name, "only valid for outbound connectors");
        return 1;
    }
    if ((f->flags & F_IN) && c->cc->direction == WB_DIR_OUTBOUND) {
        wb_config_report(c, line, f->name, "only valid for inbound connectors");
        return 1;
    }
    return 0;
}

/* See config_yaml.h. */
void wb_config_walk(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *map, const wb_field *table,
                    void *base, const char *mapkey)
{
    if (map->type != YAML_MAPPING_NODE) {
        wb_config_report(c, node_line(map), mapkey, "expected a mapping, got %s", node_kind(map));
        return;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn->type != YAML_SCALAR_NODE) {
            wb_config_report(c, node_line(kn), mapkey, "expected a key, got %s", node_kind(kn));
            continue;
        }
        const char *name = node_text(kn);
        /* libyaml keeps both pairs of a repeated key; the first one wins, the second is
         * an error (a later value silently replacing an earlier one hides mistakes). */
        if (is_duplicate(doc, map, p, name)) {
            wb_config_report(c, node_line(kn), name, "duplicate key");
            continue;
        }
        const wb_field *f = find_field(c, table, name, node_line(kn));
        if (!f || wrong_direction(c, f, node_line(kn))) continue;
        if (node_is_null(vn)) continue; /* "key:" with no value keeps the default */
        wb_config_set_field(c, doc, f, vn, base);
    }
}
