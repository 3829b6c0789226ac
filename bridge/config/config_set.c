/* config_set.c - the setters: a YAML value -> the field a settings table describes.
 *
 * Scalars come first through secret.h: every value may use ${NAME} / ${NAME:-default}
 * (numbers and durations too: "${CONCURRENCY:-64}"), and secret fields may be file:/path.
 * Then the text is converted by type (integers, durations, sizes, rates, enums, booleans),
 * checked (config_check.c) and stored. Lists, header maps and the kafka: section have their
 * own setters below. A bad value is reported and the field keeps what it had. The table walk
 * that finds each key in a table ("did you mean" for an unknown one) ends the file. */
#include "config/config_set.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "config/config_check.h"
#include "config/config_yaml.h"
#include "config/secret.h"
#include "core/util.h"

/* ------------------------------------------------------------------------------------------ */
/* Strings and references                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* s with references expanded (secret.h); NULL when reported. The caller frees. */
static char *expand(wb_config_ctx *c, int line, const char *key, const char *s, int allow_file)
{
    char msg[512];
    char *v = wb_secret_expand(s, allow_file, msg, sizeof(msg));
    if (!v) {
        if (!strcmp(msg, "out of memory"))
            wb_config_oom(c);
        else
            wb_config_report(c, line, key, "%s", msg);
    }
    return v;
}

/* A string value: must be a scalar; interpolated; file:/path read when secret != 0. */
static char *string_value(wb_config_ctx *c, const yaml_node_t *vn, const char *key, int secret)
{
    if (vn->type != YAML_SCALAR_NODE) {
        wb_config_report(c, node_line(vn), key, "expected a string, got %s", node_kind(vn));
        return NULL;
    }
    return expand(c, node_line(vn), key, node_text(vn), secret);
}

/* See config_set.h. */
void wb_config_strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* See config_set.h. */
void wb_config_headers_free(wb_header *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* Lists                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Items of a list value (a malloc'd array the caller frees; the nodes are borrowed); a
 * single scalar counts as a one-item list. -1 when reported. */
static int list_items(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *vn, const char *key,
                      yaml_node_t ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (vn->type == YAML_SCALAR_NODE) {
        yaml_node_t **v = malloc(sizeof(*v));
        if (!v) {
            wb_config_oom(c);
            return -1;
        }
        v[0] = vn;
        *out = v;
        *count = 1;
        return 0;
    }
    if (vn->type != YAML_SEQUENCE_NODE) {
        wb_config_report(c, node_line(vn), key, "expected a list, got %s", node_kind(vn));
        return -1;
    }
    size_t len = (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start);
    yaml_node_t **v = calloc(len ? len : 1, sizeof(*v));
    if (!v) {
        wb_config_oom(c);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        v[i] = yaml_document_get_node(doc, vn->data.sequence.items.start[i]);
    *out = v;
    *count = len;
    return 0;
}

/* A list of strings into *dst / *dstn: a fresh list replacing the old one, or (append) the
 * old entries followed by the new ones ("secret:" next to "secrets:"). Items that fail are
 * reported and left out; secret items must not be empty. */
static void set_strlist(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *vn, const char *key,
                        int check, int secret, char ***dst, size_t *dstn, int append)
{
    yaml_node_t **items;
    size_t len;
    if (list_items(c, doc, vn, key, &items, &len)) return;
    size_t base = append ? *dstn : 0;
    char **v = calloc(base + len + 1, sizeof(*v));
    if (!v) {
        wb_config_oom(c);
        free(items);
        return;
    }
    size_t got = 0;
    if (append) {
        for (size_t i = 0; i < base; i++)
            v[got++] = (*dst)[i];
        free(*dst);
    } else {
        wb_config_strv_free(*dst, *dstn);
    }
    *dst = v;
    *dstn = got;
    for (size_t i = 0; i < len; i++) {
        int line = node_line(items[i]);
        if (items[i]->type != YAML_SCALAR_NODE) {
            wb_config_report(c, line, key, "expected a string, got %s", node_kind(items[i]));
            continue;
        }
        char *s = string_value(c, items[i], key, secret);
        if (!s) continue;
        if (secret && !*s) {
            wb_config_report(c, line, key, "secret is empty");
            free(s);
            continue;
        }
        if (wb_config_check_value(c, line, key, check, s)) {
            free(s);
            continue;
        }
        v[got++] = s;
        *dstn = got;
    }
    free(items);
}

/* A list of durations into a fresh *dst / *dstn (replacing the old one, even when empty:
 * "schedule: []" means no retries). */
static void set_durlist(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *vn, const char *key,
                        int64_t **dst, size_t *dstn)
{
    yaml_node_t **items;
    size_t len;
    if (list_items(c, doc, vn, key, &items, &len)) return;
    free(*dst);
    *dst = NULL;
    *dstn = 0;
    int64_t *v = calloc(len ? len : 1, sizeof(*v));
    if (!v) {
        wb_config_oom(c);
        free(items);
        return;
    }
    *dst = v;
    for (size_t i = 0; i < len; i++) {
        int64_t ms;
        int line = node_line(items[i]);
        if (items[i]->type != YAML_SCALAR_NODE) {
            wb_config_report(c, line, key, "expected a duration, got %s", node_kind(items[i]));
            continue;
        }
        char *txt = expand(c, line, key, node_text(items[i]), 0);
        if (!txt) continue;
        if (wb_parse_duration_ms(txt, &ms) != WB_OK)
            wb_config_report(c, line, key, "invalid duration '%s' (e.g. 250ms, 30s, 5m, 2h, 1d)",
                             txt);
        else
            v[(*dstn)++] = ms;
        free(txt);
    }
    free(items);
}

/* ------------------------------------------------------------------------------------------ */
/* Mappings: headers, kafka                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* A mapping of extra request headers into a fresh *dst / *dstn. Names are HTTP tokens the
 * bridge does not own; values have no line break (no header injection). */
static void set_headers(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *vn, const char *key,
                        wb_header **dst, size_t *dstn)
{
    if (vn->type != YAML_MAPPING_NODE) {
        wb_config_report(c, node_line(vn), key,
                         "expected a mapping of header names to values, got %s", node_kind(vn));
        return;
    }
    size_t len = (size_t)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
    wb_header *h = calloc(len ? len : 1, sizeof(*h));
    if (!h) {
        wb_config_oom(c);
        return;
    }
    wb_config_headers_free(*dst, *dstn);
    *dst = h;
    *dstn = 0;
    for (yaml_node_pair_t *p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *hv = yaml_document_get_node(doc, p->value);
        if (kn->type != YAML_SCALAR_NODE || !wb_config_valid_token(node_text(kn))) {
            wb_config_report(c, node_line(kn), key, "invalid header name");
            continue;
        }
        const char *name = node_text(kn);
        if (wb_config_reserved_header(name)) {
            wb_config_report(c, node_line(kn), name,
                             "header is set by the bridge and cannot be overridden");
            continue;
        }
        char *val = string_value(c, hv, name, 0);
        if (!val) continue;
        if (strpbrk(val, "\r\n")) {
            wb_config_report(c, node_line(hv), name, "header value must not contain a line break");
            free(val);
            continue;
        }
        h[*dstn].name = strdup(name);
        if (!h[*dstn].name) {
            free(val);
            wb_config_oom(c);
            continue;
        }
        h[(*dstn)++].value = val;
    }
}

/* Whether `name` is a kafka property whose value may be a file:/path secret. */
static int kafka_secret_key(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret");
}

/* One kafka: property appended to cfg->kafka (sized for every pair by set_kafka). conf is a
 * scratch librdkafka config: setting the property there now gives a typo its file:line. */
static void kafka_property(wb_config_ctx *c, rd_kafka_conf_t *conf, yaml_node_t *kn,
                           yaml_node_t *vn)
{
    wb_config *cfg = c->cfg;
    if (kn->type != YAML_SCALAR_NODE) {
        wb_config_report(c, node_line(kn), "kafka", "expected a property name, got %s",
                         node_kind(kn));
        return;
    }
    const char *name = node_text(kn);
    if (vn->type != YAML_SCALAR_NODE) {
        wb_config_report(c, node_line(vn), name, "expected a scalar value, got %s", node_kind(vn));
        return;
    }
    int dup = 0;
    for (size_t i = 0; i < cfg->nkafka; i++)
        dup |= !strcmp(cfg->kafka[i].key, name);
    /* "bootstrap.servers: embedded" is not stored: a second bootstrap.servers is a dup. */
    if (dup || (!strcmp(name, "bootstrap.servers") && cfg->embedded)) {
        wb_config_report(c, node_line(kn), name, "duplicate key");
        return;
    }
    char *val = string_value(c, vn, name, kafka_secret_key(name));
    if (!val) return;
    if (!strcmp(name, "bootstrap.servers") && !strcmp(val, "embedded")) {
        cfg->embedded = 1;
        free(val);
        return;
    }
    char kerr[512];
    if (rd_kafka_conf_set(conf, name, val, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        /* librdkafka quotes the value in its message: not for a secret. */
        if (kafka_secret_key(name))
            wb_config_report(c, node_line(kn), name, "rejected by librdkafka");
        else
            wb_config_report(c, node_line(kn), name, "%s", kerr);
        free(val);
        return;
    }
    cfg->kafka[cfg->nkafka].key = strdup(name);
    if (!cfg->kafka[cfg->nkafka].key) {
        free(val);
        wb_config_oom(c);
        return;
    }
    cfg->kafka[cfg->nkafka++].value = val;
}

/* bridge.yaml kafka: librdkafka properties into cfg->kafka, in file order. */
static void set_kafka(wb_config_ctx *c, yaml_document_t *doc, yaml_node_t *vn)
{
    if (vn->type != YAML_MAPPING_NODE) {
        wb_config_report(c, node_line(vn), "kafka",
                         "expected a mapping of librdkafka properties, got %s", node_kind(vn));
        return;
    }
    wb_config *cfg = c->cfg;
    size_t len = (size_t)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cfg->kafka = calloc(len ? len : 1, sizeof(*cfg->kafka));
    if (!cfg->kafka || !conf) {
        wb_config_oom(c);
    } else {
        for (yaml_node_pair_t *p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top;
             p++)
            kafka_property(c, conf, yaml_document_get_node(doc, p->key),
                           yaml_document_get_node(doc, p->value));
    }
    if (conf) rd_kafka_conf_destroy(conf);
}

/* ------------------------------------------------------------------------------------------ */
/* Scalars                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/* YAML 1.1 booleans as libyaml leaves them (plain text). 0, or -1 if s is not one. */
static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes",  "on",  "True", "Yes",
                                      "On",   "TRUE", "YES", "ON"};
    static const char *const no[] = {"false", "no",    "off", "False", "No",
                                     "Off",   "FALSE", "NO",  "OFF"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* "unknown value 'v'; expected one of: a, b, c". */
static void enum_error(wb_config_ctx *c, int line, const char *key, const char *v,
                       const char *const *names)
{
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; names[i]; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used) break;
        used += (size_t)w;
    }
    wb_config_report(c, line, key, "unknown value '%s'; expected one of: %s", v, list);
}

/* See config_set.h. */
void wb_config_set_scalar(wb_config_ctx *c, const wb_field *f, char *p, int line, const char *s)
{
    const char *key = f->name;
    switch (f->type) {
    case T_INT: {
        long n;
        if (wb_parse_int(s, f->min, f->max, &n) != WB_OK) {
            wb_config_report(c, line, key, "expected an integer in %ld..%ld, got '%s'", f->min,
                             f->max, s);
            return;
        }
        *(int *)(void *)p = (int)n;
        return;
    }
    case T_BOOL: {
        int b;
        if (parse_bool(s, &b)) {
            wb_config_report(c, line, key, "expected true or false, got '%s'", s);
            return;
        }
        *(int *)(void *)p = b;
        return;
    }
    case T_DUR: {
        int64_t ms;
        if (wb_parse_duration_ms(s, &ms) != WB_OK) {
            wb_config_report(c, line, key, "invalid duration '%s' (e.g. 250ms, 30s, 5m, 2h, 1d)",
                             s);
            return;
        }
        if (ms < f->min) {
            wb_config_report(c, line, key, "duration '%s' is too short (minimum %ldms)", s, f->min);
            return;
        }
        *(int64_t *)(void *)p = ms;
        return;
    }
    case T_SIZE: {
        size_t n;
        if (wb_parse_size(s, &n) != WB_OK) {
            wb_config_report(c, line, key, "invalid size '%s' (e.g. 4096, 16KiB, 1MiB)", s);
            return;
        }
        if (n < (size_t)f->min || n > (size_t)f->max) {
            wb_config_report(c, line, key, "size '%s' out of range %ld..%ld bytes", s, f->min,
                             f->max);
            return;
        }
        *(size_t *)(void *)p = n;
        return;
    }
    case T_RATE: {
        double r;
        if (wb_parse_rate(s, &r) != WB_OK) {
            wb_config_report(c, line, key, "invalid rate '%s' (e.g. 200/s, 10/m, 3600/h)", s);
            return;
        }
        *(double *)(void *)p = r;
        return;
    }
    case T_ENUM:
        for (int i = 0; f->names[i]; i++) {
            if (!strcmp(s, f->names[i])) {
                *(int *)(void *)p = i;
                return;
            }
        }
        enum_error(c, line, key, s, f->names);
        return;
    default:
        return;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* See config_set.h. */
void wb_config_set_field(wb_config_ctx *c, yaml_document_t *doc, const wb_field *f, yaml_node_t *vn,
                         void *base)
{
    char *p = (char *)base + f->off;
    size_t *count = (size_t *)(void *)((char *)base + f->count);
    const char *key = f->name;
    int line = node_line(vn);

    /* Containers first: each has its own setter. */
    switch (f->type) {
    case T_MAP:
        if (vn->type != YAML_MAPPING_NODE) {
            wb_config_report(c, line, key, "expected a mapping, got %s", node_kind(vn));
            return;
        }
        wb_config_walk(c, doc, vn, f->sub, base, key);
        return;
    case T_KAFKA:
        set_kafka(c, doc, vn);
        return;
    case T_CONNECTORS:
        /* Resolved after the walk, once schema_registry.dir and the rest are known. */
        c->connectors_node = vn;
        c->connectors_line = line;
        return;
    case T_STRLIST:
    case T_SECRETS:
    case T_SECRET1:
        if (f->type == T_SECRET1 && vn->type != YAML_SCALAR_NODE) {
            wb_config_report(c, line, key, "expected a string, got %s", node_kind(vn));
            return;
        }
        set_strlist(c, doc, vn, key, f->check, f->type != T_STRLIST, (char ***)(void *)p, count,
                    f->type != T_STRLIST);
        return;
    case T_DURLIST:
        set_durlist(c, doc, vn, key, (int64_t **)(void *)p, count);
        return;
    case T_HEADERS:
        set_headers(c, doc, vn, key, (wb_header **)(void *)p, count);
        return;
    default:
        break;
    }

    if (vn->type != YAML_SCALAR_NODE) {
        wb_config_report(c, line, key, "expected a scalar, got %s", node_kind(vn));
        return;
    }
    if (f->type == T_STR || f->type == T_SECRET) {
        char *val = string_value(c, vn, key, f->type == T_SECRET);
        if (!val) return;
        if (wb_config_check_value(c, line, key, f->check, val)) {
            free(val);
            return;
        }
        free(*(char **)(void *)p);
        *(char **)(void *)p = val;
        return;
    }
    /* Numbers, durations, ... may come from the environment too: "${CONCURRENCY:-64}". */
    char *s = expand(c, line, key, node_text(vn), 0);
    if (s) wb_config_set_scalar(c, f, p, line, s);
    free(s);
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

/* See config_set.h. */
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
