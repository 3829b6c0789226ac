/* config.c - the public side of the configuration (see config.h): the two load entry
 * points, the wb_config lifetime (free, ref/unref, the count of live generations) and
 * lookups on a loaded config.
 *
 * A load is a sequence of the parts named in config_int.h: the tables' defaults, the walk
 * of bridge.yaml, the connector files it names, then the rules across files. Errors never
 * stop it: each is appended as "path:line: key: message" and the load fails at the end if
 * any was reported, so one run shows every mistake. */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_contract.h"
#include "config/config_files.h"
#include "config/config_int.h"
#include "config/config_set.h"
#include "config/config_settings.h"
#include "config/config_validate.h"
#include "config/config_yaml.h"
#include "config/secret.h"
#include "core/util.h"

#define MAX_ERRORS_TEXT (64 * 1024)

static int live_configs; /* allocated by a load and not yet freed (atomic) */

/* ------------------------------------------------------------------------------------------ */
/* Loading                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* Start a load of path: c reset, an empty config (one reference, counted live) in c->cfg.
 * -1 when memory is short (reported; load_finish() still frees what there is). */
static int load_begin(wb_config_ctx *c, const char *path, char *errstr, size_t errstr_size)
{
    memset(c, 0, sizeof(*c));
    wb_buf_init(&c->errs, MAX_ERRORS_TEXT);
    c->file = path;
    if (errstr && errstr_size) errstr[0] = 0;
    c->cfg = calloc(1, sizeof(*c->cfg));
    if (c->cfg) {
        __atomic_add_fetch(&live_configs, 1, __ATOMIC_RELAXED);
        c->cfg->refs = 1;
    }
    if (!c->cfg || !(c->cfg->path = strdup(path))) {
        wb_config_oom(c);
        return -1;
    }
    return 0;
}

/* The end of a load: the config, or NULL (the config freed) with every error, one per
 * line and without the last newline, in errstr (truncated to errstr_size). */
static wb_config *load_finish(wb_config_ctx *c, char *errstr, size_t errstr_size)
{
    wb_config *cfg = c->cfg;
    if (c->nerrs) {
        if (errstr && errstr_size) {
            size_t n = c->errs.len;
            while (n && c->errs.data[n - 1] == '\n')
                n--;
            if (n >= errstr_size) n = errstr_size - 1;
            if (n) memcpy(errstr, c->errs.data, n);
            errstr[n] = 0;
        }
        wb_config_free(cfg);
        cfg = NULL;
    }
    wb_buf_free(&c->errs);
    return cfg;
}

/* Load path and its connector files (see config.h). Returns a config the caller frees with
 * wb_config_free() (or releases with wb_config_unref()), or NULL with every error, one per
 * line, in errstr. Any thread; uses getenv() and the current directory for relative paths. */
wb_config *wb_config_load(const char *path, char *errstr, size_t errstr_size)
{
    wb_config_ctx c;
    yaml_document_t doc;
    int have_doc = 0;
    char *dir = NULL, *sdir;
    if (load_begin(&c, path, errstr, errstr_size)) goto out;
    /* Connector paths are relative to the folder of bridge.yaml, as the user wrote it. */
    const char *slash = strrchr(path, '/');
    dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup("");
    if (!dir) {
        wb_config_oom(&c);
        goto out;
    }
    wb_config_defaults(&c, wb_config_root_fields, c.cfg);
    if (wb_config_yaml_load(&c, path, &doc)) goto out;
    have_doc = 1;
    wb_config_walk(&c, &doc, yaml_document_get_root_node(&doc), wb_config_root_fields, c.cfg,
                   "config");
    /* schemas/ (default) or a relative dir: next to bridge.yaml. */
    sdir = wb_config_join_path(dir,
                               c.cfg->schema_registry.dir ? c.cfg->schema_registry.dir : "schemas");
    if (!sdir) wb_config_oom(&c);
    free(c.cfg->schema_registry.dir);
    c.cfg->schema_registry.dir = sdir;
    wb_config_resolve_connectors(&c, &doc, dir);
    wb_config_validate_all(&c, &doc);

out:
    if (have_doc) yaml_document_delete(&doc);
    free(dir);
    return load_finish(&c, errstr, errstr_size);
}

/* See config.h. Same walk and checks as a connector named by bridge.yaml, on the bridge
 * defaults; the caller frees the result. Any thread. */
wb_config *wb_config_load_connector(const char *path, const char *schemas_dir, char *errstr,
                                    size_t errstr_size)
{
    wb_config_ctx c;
    if (!load_begin(&c, path, errstr, errstr_size) &&
        !(c.cfg->schema_registry.dir = strdup(schemas_dir ? schemas_dir : "schemas")))
        wb_config_oom(&c);
    if (!c.nomem) {
        wb_config_defaults(&c, wb_config_root_fields, c.cfg);
        wb_config_load_connector_file(&c, path);
        wb_config_check_contracts(&c);
    }
    return load_finish(&c, errstr, errstr_size);
}

/* ------------------------------------------------------------------------------------------ */
/* Lifetime                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static void connector_free(wb_connector *cc)
{
    free(cc->name);
    free(cc->file);
    wb_config_strv_free(cc->signing.secrets, cc->signing.nsecrets);
    free(cc->signing.hmac.header);
    free(cc->signing.hmac.prefix);
    free(cc->signing.hmac.timestamp_header);
    free(cc->signing.hmac.content);
    free(cc->signing.hmac.id_header);
    free(cc->url);
    wb_config_strv_free(cc->events, cc->nevents);
    free(cc->retry_schedule_ms);
    wb_config_headers_free(cc->headers, cc->nheaders);
    free(cc->id_pointer);
    free(cc->contract);
    free(cc->filter);
    free(cc->transform);
    wb_config_strv_free(cc->allow_cidrs, cc->nallow_cidrs);
    free(cc->client_cert);
    free(cc->client_key);
    free(cc->ca_file);
    free(cc->proxy);
    free(cc->group_id);
    wb_config_strv_free(cc->topics, cc->ntopics);
    free(cc->start);
    free(cc->topic);
    free(cc->key_pointer);
    free(cc->event_type);
    wb_config_strv_free(cc->forward_headers, cc->nforward_headers);
    free(cc->schema);
}

/* Free cfg and everything it owns, whatever its reference count (NULL is fine). The
 * thread that frees must be the last user. */
void wb_config_free(wb_config *cfg)
{
    if (!cfg) return;
    __atomic_sub_fetch(&live_configs, 1, __ATOMIC_RELAXED);
    free(cfg->path);
    for (size_t i = 0; i < cfg->nkafka; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    wb_config_strv_free(cfg->outbound.topics, cfg->outbound.ntopics);
    free(cfg->outbound.dead_letter_topic);
    free(cfg->outbound.event_type_pointer);
    free(cfg->outbound.id_pointer);
    free(cfg->outbound.user_agent);
    free(cfg->inbound.listen);
    free(cfg->admin.listen);
    if (cfg->admin.token) wb_secret_free(cfg->admin.token);
    free(cfg->schema_registry.url);
    free(cfg->schema_registry.username);
    free(cfg->schema_registry.password);
    free(cfg->schema_registry.bearer_token);
    free(cfg->schema_registry.dir);
    for (size_t i = 0; i < cfg->nconnectors; i++)
        connector_free(&cfg->connectors[i]);
    free(cfg->connectors);
    free(cfg);
}

/* Configurations loaded and not yet freed (a gauge of generations in use). Any thread. */
int wb_config_live(void)
{
    return __atomic_load_n(&live_configs, __ATOMIC_RELAXED);
}

/* One more reference to cfg (NULL is fine); returns cfg. Any thread. */
wb_config *wb_config_ref(wb_config *cfg)
{
    if (cfg) __atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
    return cfg;
}

/* Drop a reference; the last one frees cfg (acquire-release: every earlier reader's use
 * happens before the free). Any thread. */
void wb_config_unref(wb_config *cfg)
{
    if (cfg && __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) == 0) wb_config_free(cfg);
}
