/* config_summary.c - wb_config_print_summary: what `check` prints about a valid config.
 *
 * Only what helps to see that the config says what was meant (topics, listeners, connectors
 * and their schemes); never a secret: secrets are counted, URLs lose their userinfo and
 * query. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_settings.h"

/* Print a URL without userinfo and with the query hidden: either may carry a credential. */
static void print_url(FILE *fp, const char *url)
{
    const char *hs = strstr(url, "://");
    hs = hs ? hs + 3 : url;
    size_t hostlen = strcspn(hs, "/?#");
    const char *at = memchr(hs, '@', hostlen);
    fprintf(fp, "%.*s", (int)(hs - url), url);
    const char *rest = at ? at + 1 : hs;
    size_t keep = strcspn(rest, "?#");
    fprintf(fp, "%.*s%s", (int)keep, rest, rest[keep] == '?' ? "?..." : "");
}

/* "a, b, c", or "-" for an empty list. */
static void print_list(FILE *fp, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%s", i ? ", " : "", v[i]);
    if (!n) fputs("-", fp);
}

/* The kafka: line: embedded cluster or the bootstrap servers. */
static void print_kafka(const wb_config *cfg, FILE *fp)
{
    if (cfg->embedded) {
        fprintf(fp, "kafka: embedded (%d brokers, %d partitions per topic), %zu properties\n",
                cfg->embedded_brokers, cfg->embedded_partitions, cfg->nkafka);
        return;
    }
    const char *bs = NULL;
    for (size_t i = 0; i < cfg->nkafka; i++)
        if (!strcmp(cfg->kafka[i].key, "bootstrap.servers")) bs = cfg->kafka[i].value;
    fprintf(fp, "kafka: bootstrap.servers %s, %zu properties\n", bs ? bs : "(unset)", cfg->nkafka);
}

/* One connector's lines: direction, target (URL and events, or topic), scheme and secrets. */
static void print_connector(const wb_connector *cc, FILE *fp)
{
    size_t ns = cc->signing.nsecrets;
    const char *plural = ns == 1 ? "" : "s";
    fprintf(fp, "  %s (%s)\n", cc->name, cc->direction == WB_DIR_OUTBOUND ? "outbound" : "inbound");
    if (cc->direction == WB_DIR_OUTBOUND) {
        fputs("    url: ", fp);
        print_url(fp, cc->url);
        fputs("\n    events: ", fp);
        print_list(fp, cc->events, cc->nevents);
        fprintf(fp, "\n    ordering: %s, max concurrency %d", wb_config_ordering_name(cc->ordering),
                cc->max_concurrency);
        if (cc->rate_per_s > 0) fprintf(fp, ", rate %g/s", cc->rate_per_s);
        fprintf(fp, "\n    signing: %s, %zu secret%s\n", wb_scheme_name(cc->signing.scheme), ns,
                plural);
    } else {
        fprintf(fp, "    topic: %s\n", cc->topic);
        if (cc->rate_per_s > 0) fprintf(fp, "    rate: %g/s\n", cc->rate_per_s);
        fprintf(fp, "    verify: %s, %zu secret%s%s\n", wb_scheme_name(cc->signing.scheme), ns,
                plural, cc->signing.insecure ? " (insecure)" : "");
    }
}

/* Human summary on fp (see config.h); never prints secret values (only their count).
 * Any thread (cfg is read-only). */
void wb_config_print_summary(const wb_config *cfg, FILE *fp)
{
    if (!cfg || !fp) return;
    fprintf(fp, "config: %s\n", cfg->path);
    print_kafka(cfg, fp);
    fputs("outbound topics: ", fp);
    print_list(fp, cfg->outbound.topics, cfg->outbound.ntopics);
    fprintf(fp, "\ndead-letter topic: %s\n", cfg->outbound.dead_letter_topic);
    fprintf(fp, "inbound listener: %s\n", cfg->inbound.listen ? cfg->inbound.listen : "off");
    fprintf(fp, "admin listener: %s%s\n", cfg->admin.listen ? cfg->admin.listen : "off",
            cfg->admin.token ? " (token set)" : "");
    if (cfg->schema_registry.url) {
        fputs("schema registry: ", fp);
        print_url(fp, cfg->schema_registry.url);
        fputs("\n", fp);
    }
    fprintf(fp, "connectors: %zu\n", cfg->nconnectors);
    for (size_t i = 0; i < cfg->nconnectors; i++)
        print_connector(&cfg->connectors[i], fp);
}
