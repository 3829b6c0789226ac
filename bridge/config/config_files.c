/* config_files.c - connector files: where bridge.yaml's connectors: points, and one file.
 *
 * A connector file is a mapping walked with wb_config_connector_fields, on top of the
 * table's defaults, then checked as a whole (config_validate.c). Errors name the file as
 * the user wrote its path (joined to the folder of bridge.yaml), so "connectors/stripe.yaml:12"
 * points where the mistake is. */
#include "config/config_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_set.h"
#include "config/config_settings.h"
#include "config/config_validate.h"
#include "config/config_yaml.h"

/* See config_files.h. */
char *wb_config_join_path(const char *dir, const char *rel)
{
    wb_buf b;
    wb_buf_init(&b, 1 << 16);
    wb_err e;
    if (rel[0] == '/' || !dir[0])
        e = wb_buf_adds(&b, rel);
    else {
        size_t dl = strlen(dir);
        e = wb_buf_printf(&b, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", rel);
    }
    if (e != WB_OK) {
        wb_buf_free(&b);
        return NULL;
    }
    return wb_buf_steal(&b, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* One connector file                                                                          */
/* ------------------------------------------------------------------------------------------ */

/* Direction first: it decides which keys are valid (errors in its value come from the walk). */
static void prescan_direction(yaml_document_t *doc, yaml_node_t *root, wb_connector *cc)
{
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (kn->type == YAML_SCALAR_NODE && !strcmp(node_text(kn), "direction") &&
            vn->type == YAML_SCALAR_NODE && !strcmp(node_text(vn), "inbound"))
            cc->direction = WB_DIR_INBOUND;
    }
}

/* See config_files.h. */
void wb_config_load_connector_file(wb_config_ctx *c, const char *path)
{
    wb_config *cfg = c->cfg;
    yaml_document_t doc;
    wb_connector *grown = realloc(cfg->connectors, (cfg->nconnectors + 1) * sizeof(*grown));
    if (!grown) {
        wb_config_oom(c);
        return;
    }
    cfg->connectors = grown;
    wb_connector *cc = &cfg->connectors[cfg->nconnectors++];
    memset(cc, 0, sizeof(*cc));
    wb_config_defaults(c, wb_config_connector_fields, cc);
    cc->file = wb_config_strdup(c, path);
    cc->line = 1;
    if (!cc->file) return;
    if (wb_config_yaml_load(c, path, &doc)) return;
    const char *bridge_file = c->file;
    c->file = cc->file;
    c->cc = cc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cc->line = node_line(root);
    if (root->type != YAML_MAPPING_NODE) {
        wb_config_report(c, node_line(root), "connector", "expected a mapping, got %s",
                         node_kind(root));
        goto out;
    }
    prescan_direction(&doc, root, cc);
    wb_config_walk(c, &doc, root, wb_config_connector_fields, cc, "connector");
    wb_config_validate_connector(c, cc, &doc, root);
out:
    c->cc = NULL;
    c->file = bridge_file;
    yaml_document_delete(&doc);
}

/* ------------------------------------------------------------------------------------------ */
/* connectors: entries                                                                         */
/* ------------------------------------------------------------------------------------------ */

static int has_yaml_ext(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' &&
           ((n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .yaml/.yml files of the open folder d (at path), joined to path, sorted, into *names /
 * *n (the caller frees them with wb_config_strv_free, also on failure). -1 on OOM. */
static int list_yaml_files(wb_config_ctx *c, DIR *d, const char *path, char ***names, size_t *n)
{
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_yaml_ext(de->d_name)) continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(*names, ncap * sizeof(*grown));
            if (!grown) {
                wb_config_oom(c);
                return -1;
            }
            *names = grown;
            cap = ncap;
        }
        (*names)[*n] = wb_config_join_path(path, de->d_name);
        if (!(*names)[*n]) {
            wb_config_oom(c);
            return -1;
        }
        (*n)++;
    }
    /* readdir's order is the file system's: sorting makes the load (and its errors)
     * the same on every machine. */
    if (*n) qsort(*names, *n, sizeof(**names), cmp_str);
    return 0;
}

/* A connectors entry: a folder (every .yaml and .yml file, sorted) or one file. */
static void load_connector_path(wb_config_ctx *c, int line, const char *dir, const char *rel)
{
    char *path = wb_config_join_path(dir, rel);
    char **names = NULL;
    size_t n = 0;
    DIR *d = NULL;
    struct stat st;
    if (!path) {
        wb_config_oom(c);
        return;
    }
    if (stat(path, &st)) {
        wb_config_report(c, line, "connectors", "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        wb_config_load_connector_file(c, path);
        goto out;
    }
    d = opendir(path);
    if (!d) {
        wb_config_report(c, line, "connectors", "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (list_yaml_files(c, d, path, &names, &n)) goto out;
    for (size_t i = 0; i < n; i++)
        wb_config_load_connector_file(c, names[i]);
out:
    if (d) closedir(d);
    wb_config_strv_free(names, n);
    free(path);
}

/* See config_files.h. */
void wb_config_resolve_connectors(wb_config_ctx *c, yaml_document_t *doc, const char *dir)
{
    yaml_node_t *vn = c->connectors_node;
    if (!vn) return;
    if (vn->type == YAML_SCALAR_NODE) {
        load_connector_path(c, c->connectors_line, dir, node_text(vn));
    } else if (vn->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(doc, *it);
            if (item->type != YAML_SCALAR_NODE) {
                wb_config_report(c, node_line(item), "connectors",
                                 "expected a file or folder path, got %s", node_kind(item));
                continue;
            }
            load_connector_path(c, node_line(item), dir, node_text(item));
        }
    } else {
        wb_config_report(c, c->connectors_line, "connectors",
                         "expected a folder or a list of files, got %s", node_kind(vn));
    }
}
