/* config_contract.c - pinned contracts (`contract: order.paid@1`) against the schemas folder.
 *
 * A pinned contract needs a schema source, and must name a version the local schemas have
 * (the reader side of the resolution always comes from the schemas folder). The folder is
 * loaded once, as `run` loads it, and only when some connector pins a contract. */
#include "config/config_contract.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_yaml.h"
#include "schema/registry.h"

/* The folder has no manifest: say what the contract needs (a registry alone is not enough). */
static void report_no_manifest(wb_config_ctx *c, const wb_connector *cc, const char *manifest)
{
    if (!c->cfg->schema_registry.url)
        wb_config_report(c, cc->contract_line, "contract",
                         "'%s' needs a schema source: set schema_registry.url or add the "
                         "schemas folder (%s not found)",
                         cc->contract, manifest);
    else
        wb_config_report(c, cc->contract_line, "contract",
                         "'%s' must be a schema of the local schemas folder (%s not found); the "
                         "registry supplies only the writers' schemas",
                         cc->contract, manifest);
}

/* The contract is not in the folder: an unknown version of a known event (listing the
 * versions there are) or an unknown event. */
static void report_unknown(wb_config_ctx *c, const wb_connector *cc, wb_schemas *s,
                           const char *manifest)
{
    char versions[512], event[256];
    const char *at = strrchr(cc->contract, '@');
    size_t elen = at ? (size_t)(at - cc->contract) : strlen(cc->contract);
    snprintf(event, sizeof(event), "%.*s", (int)(elen < 255 ? elen : 255), cc->contract);
    if (wb_schemas_versions(s, event, versions, sizeof(versions)) > 0)
        wb_config_report(c, cc->contract_line, "contract", "unknown version '%s' (%s has %s)",
                         cc->contract, manifest, versions);
    else
        wb_config_report(c, cc->contract_line, "contract", "unknown event '%s' (not in %s)", event,
                         manifest);
}

/* See config_contract.h. */
void wb_config_check_contracts(wb_config_ctx *c)
{
    wb_config *cfg = c->cfg;
    wb_schemas *s = NULL;
    char err[1024] = "";
    int loaded = 0;
    const char *dir = cfg->schema_registry.dir ? cfg->schema_registry.dir : "schemas";
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        wb_connector *cc = &cfg->connectors[i];
        if (!cc->contract || cc->direction != WB_DIR_OUTBOUND) continue;
        c->file = cc->file ? cc->file : "?";
        char manifest[4096];
        struct stat st;
        snprintf(manifest, sizeof(manifest), "%s/manifest.json", dir);
        if (stat(manifest, &st)) {
            report_no_manifest(c, cc, manifest);
            continue;
        }
        if (!loaded) {
            loaded = 1;
            s = wb_schemas_new(dir, NULL, NULL, NULL, NULL, err, sizeof(err));
        }
        if (!s) {
            wb_config_report(c, cc->contract_line, "contract", "cannot load the schemas: %s", err);
            continue;
        }
        if (wb_schemas_id_of(s, cc->contract) < 0) report_unknown(c, cc, s, manifest);
    }
    wb_schemas_free(s);
}
