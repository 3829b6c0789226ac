/* registry.c - Schema Registry client, local schemas folder and the per-id / per-contract
 * caches behind wb_schemas_to_json() and wb_schemas_from_json() (see registry.h). */
#include "registry.h"
#include "avro.h"
#include "log.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHEMA_BYTES (1 << 20)

/* ---------------------------------------------------------------- registry client */

struct wb_registry {
    CURL *curl;
    char *url; /* without trailing '/' */
    char *bearer_header;
    struct curl_slist *headers;
    wb_buf body;
    unsigned long requests;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    wb_buf *b = ud;
    return wb_buf_add(b, p, size * n) ? 0 : size * n;
}

void wb_registry_free(wb_registry *reg)
{
    if (!reg) return;
    if (reg->curl) curl_easy_cleanup(reg->curl);
    curl_slist_free_all(reg->headers);
    free(reg->url);
    if (reg->bearer_header) {
        memset(reg->bearer_header, 0, strlen(reg->bearer_header));
        free(reg->bearer_header);
    }
    wb_buf_free(&reg->body);
    free(reg);
}

wb_registry *wb_registry_new(const wb_registry_opts *o, char *errstr, size_t errstr_size)
{
    wb_registry *reg = NULL, *ret = NULL;
    if (!o || !o->url || strncmp(o->url, "http", 4)) {
        snprintf(errstr, errstr_size, "schema_registry.url must be an http(s) URL");
        goto out;
    }
    if (!(reg = calloc(1, sizeof(*reg))) || !(reg->url = wb_strdup(o->url)) ||
        !(reg->curl = curl_easy_init()))
        goto nomem;
    wb_buf_init(&reg->body, MAX_SCHEMA_BYTES);
    size_t ul = strlen(reg->url);
    while (ul && reg->url[ul - 1] == '/')
        reg->url[--ul] = 0;
    struct curl_slist *h =
        curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                "application/vnd.schemaregistry+json, application/json");
    if (!h) goto nomem;
    reg->headers = h;
    if (o->bearer && *o->bearer) {
        wb_buf b;
        wb_buf_init(&b, 0);
        if (wb_buf_printf(&b, "Authorization: Bearer %s", o->bearer)) {
            wb_buf_free(&b);
            goto nomem;
        }
        reg->bearer_header = wb_buf_steal(&b, NULL);
        if (!reg->bearer_header || !(h = curl_slist_append(reg->headers, reg->bearer_header)))
            goto nomem;
        reg->headers = h;
    }
    CURL *c = reg->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, reg->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reg->body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "webhook-bridge/" WB_VERSION);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure_skip_verify ? 0L : 2L);
    if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (!reg->bearer_header && o->username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    ret = reg;
    reg = NULL;
    goto out;
nomem:
    snprintf(errstr, errstr_size, "out of memory");
out:
    wb_registry_free(reg);
    return ret;
}

unsigned long wb_registry_requests(const wb_registry *reg)
{
    return reg ? reg->requests : 0;
}

wb_err wb_registry_fetch(wb_registry *reg, int32_t id, char **schema_json, char *reason,
                         size_t reason_size)
{
    char url[2048];
    json_t *doc = NULL;
    wb_err err = WB_ERR_IO;
    *schema_json = NULL;
    if ((size_t)snprintf(url, sizeof(url), "%s/schemas/ids/%" PRId32, reg->url, id) >=
        sizeof(url)) {
        snprintf(reason, reason_size, "schema registry URL too long");
        return WB_ERR_IO;
    }
    wb_buf_reset(&reg->body);
    curl_easy_setopt(reg->curl, CURLOPT_URL, url);
    reg->requests++;
    CURLcode cc = curl_easy_perform(reg->curl);
    if (cc != CURLE_OK) {
        snprintf(reason, reason_size, "schema registry unreachable for id %" PRId32 ": %s", id,
                 curl_easy_strerror(cc));
        return cc == CURLE_OPERATION_TIMEDOUT ? WB_ERR_TIMEOUT : WB_ERR_IO;
    }
    long status = 0;
    curl_easy_getinfo(reg->curl, CURLINFO_RESPONSE_CODE, &status);
    doc = json_loadb(reg->body.data ? reg->body.data : "", reg->body.len, 0, NULL);
    if (status != 200) {
        json_int_t code = json_integer_value(json_object_get(doc, "error_code"));
        const char *msg = json_string_value(json_object_get(doc, "message"));
        if (status == 404 || code == 40403) {
            err = WB_ERR_SCHEMA;
            snprintf(reason, reason_size,
                     "schema id %" PRId32 " not found in the registry (%" JSON_INTEGER_FORMAT
                     ": %.200s)",
                     id, code ? code : (json_int_t)404, msg ? msg : "not found");
        } else {
            snprintf(reason, reason_size,
                     "schema registry answered HTTP %ld for id %" PRId32 "%s%.200s", status, id,
                     msg ? ": " : "", msg ? msg : "");
        }
        goto out;
    }
    const char *type = json_string_value(json_object_get(doc, "schemaType"));
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (type && strcmp(type, "AVRO")) {
        err = WB_ERR_SCHEMA;
        snprintf(reason, reason_size, "schema id %" PRId32 " is a %.20s schema, not Avro", id,
                 type);
        goto out;
    }
    if (!schema) {
        snprintf(reason, reason_size, "schema registry answer for id %" PRId32 " has no schema",
                 id);
        goto out;
    }
    if (!(*schema_json = wb_strdup(schema))) {
        err = WB_ERR_NOMEM;
        snprintf(reason, reason_size, "out of memory");
        goto out;
    }
    err = WB_OK;
out:
    json_decref(doc);
    return err;
}

/* ---------------------------------------------------------------- caches */

typedef struct writer_entry {
    int32_t id;
    wb_avro_schema *sc; /* NULL: permanently bad (err) */
    char *ref;          /* "order.paid@2" for local schemas, else NULL */
    char *err;
} writer_entry;

typedef struct plan_entry {
    int32_t id;
    char *contract;     /* "" when none */
    wb_avro_plan *plan; /* NULL: unresolvable (err) */
    char *err;
} plan_entry;

struct wb_schemas {
    wb_registry *reg;
    writer_entry *w;
    size_t nw, capw;
    plan_entry *p;
    size_t np, capp;
    size_t last_plan; /* index of the last plan hit: consecutive records usually share it */
};

void wb_schemas_free(wb_schemas *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->np; i++) {
        wb_avro_plan_free(s->p[i].plan);
        free(s->p[i].contract);
        free(s->p[i].err);
    }
    for (size_t i = 0; i < s->nw; i++) {
        wb_avro_schema_free(s->w[i].sc);
        free(s->w[i].ref);
        free(s->w[i].err);
    }
    free(s->p);
    free(s->w);
    wb_registry_free(s->reg);
    free(s);
}

static writer_entry *add_writer(wb_schemas *s)
{
    if (s->nw == s->capw) {
        size_t ncap = s->capw ? s->capw * 2 : 16;
        writer_entry *n = realloc(s->w, ncap * sizeof(*n));
        if (!n) return NULL;
        s->w = n;
        s->capw = ncap;
    }
    writer_entry *e = &s->w[s->nw++];
    memset(e, 0, sizeof(*e));
    return e;
}

static char *read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    wb_buf b;
    char chunk[4096];
    size_t n;
    wb_buf_init(&b, MAX_SCHEMA_BYTES);
    if (!fp) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (wb_buf_add(&b, chunk, n)) {
            snprintf(errstr, errstr_size, "%s: too large", path);
            fclose(fp);
            wb_buf_free(&b);
            return NULL;
        }
    fclose(fp);
    if (!b.data && wb_buf_add(&b, "", 0)) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    return wb_buf_steal(&b, len);
}

/* Load dir/manifest.json and every dir/<event>/v<N>.avsc it names. */
static int load_dir(wb_schemas *s, const char *dir, char *errstr, size_t errstr_size)
{
    char path[4096];
    json_error_t jerr;
    const char *event;
    json_t *versions;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    json_t *man = json_load_file(path, 0, &jerr);
    int rc = -1;
    if (!man || !json_is_object(man)) {
        snprintf(errstr, errstr_size, "%s:%d: %s", path, jerr.line,
                 man ? "manifest must be an object" : jerr.text);
        goto out;
    }
    json_object_foreach(man, event, versions)
    {
        const char *ver;
        json_t *idj;
        if (!json_is_object(versions)) {
            snprintf(errstr, errstr_size, "%s: '%s' must map versions to ids", path, event);
            goto out;
        }
        json_object_foreach(versions, ver, idj)
        {
            long v;
            json_int_t id = json_integer_value(idj);
            if (wb_parse_int(ver, 1, 100000, &v) || !json_is_integer(idj) || id < 0 ||
                id > INT32_MAX) {
                snprintf(errstr, errstr_size, "%s: %s version '%s': bad version or id", path, event,
                         ver);
                goto out;
            }
            for (size_t i = 0; i < s->nw; i++)
                if (s->w[i].id == (int32_t)id) {
                    snprintf(errstr, errstr_size,
                             "%s: id %" JSON_INTEGER_FORMAT " used twice (%s and %s@%s)", path, id,
                             s->w[i].ref, event, ver);
                    goto out;
                }
            char file[4096], perr[512];
            size_t len;
            snprintf(file, sizeof(file), "%s/%s/v%ld.avsc", dir, event, v);
            char *text = read_file(file, &len, errstr, errstr_size);
            if (!text) goto out;
            wb_avro_schema *sc = wb_avro_schema_parse(text, len, perr, sizeof(perr));
            free(text);
            if (!sc) {
                snprintf(errstr, errstr_size, "%s: %s", file, perr);
                goto out;
            }
            writer_entry *e = add_writer(s);
            char ref[512];
            snprintf(ref, sizeof(ref), "%s@%ld", event, v);
            if (!e || !(e->ref = wb_strdup(ref))) {
                if (e)
                    e->sc = sc;
                else
                    wb_avro_schema_free(sc);
                snprintf(errstr, errstr_size, "out of memory");
                goto out;
            }
            e->id = (int32_t)id;
            e->sc = sc;
        }
    }
    rc = 0;
out:
    json_decref(man);
    return rc;
}

wb_schemas *wb_schemas_new_opts(const char *dir, const wb_registry_opts *opts, char *errstr,
                                size_t errstr_size)
{
    wb_schemas *s = calloc(1, sizeof(*s)), *ret = NULL;
    if (!s) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    if (!dir && !(opts && opts->url)) {
        snprintf(errstr, errstr_size, "schemas: need a local folder or a registry URL");
        goto out;
    }
    if (dir && load_dir(s, dir, errstr, errstr_size)) goto out;
    if (opts && opts->url && !(s->reg = wb_registry_new(opts, errstr, errstr_size))) goto out;
    ret = s;
    s = NULL;
out:
    wb_schemas_free(s);
    return ret;
}

wb_schemas *wb_schemas_new(const char *dir, const char *registry_url, const char *username,
                           const char *password, const char *bearer, char *errstr,
                           size_t errstr_size)
{
    wb_registry_opts o = {0};
    o.url = registry_url;
    o.username = username;
    o.password = password;
    o.bearer = bearer;
    return wb_schemas_new_opts(dir, &o, errstr, errstr_size);
}

int wb_schemas_is_framed(const void *val, size_t len)
{
    return val && len >= 5 && ((const unsigned char *)val)[0] == 0;
}

/* "order.paid@1" and "order.paid@v1" name the same local schema. */
static const writer_entry *find_ref(const wb_schemas *s, const char *ref)
{
    const char *at = strrchr(ref, '@');
    if (!at) return NULL;
    size_t elen = (size_t)(at - ref);
    const char *ver = at[1] == 'v' ? at + 2 : at + 1;
    for (size_t i = 0; i < s->nw; i++) {
        const char *r = s->w[i].ref;
        if (r && !strncmp(r, ref, elen) && r[elen] == '@' && !strcmp(r + elen + 1, ver))
            return &s->w[i];
    }
    return NULL;
}

int32_t wb_schemas_id_of(const wb_schemas *s, const char *schema_ref)
{
    const writer_entry *e = find_ref(s, schema_ref);
    return e ? e->id : -1;
}

/* Writer schema for id: cache, then registry. On error *reason is filled. */
static wb_err get_writer(wb_schemas *s, int32_t id, const writer_entry **out, char *reason,
                         size_t reason_size)
{
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].id == id) {
            *out = &s->w[i];
            return WB_OK;
        }
    if (!s->reg) {
        snprintf(reason, reason_size,
                 "unknown schema id %" PRId32 " (not in the local manifest; no registry)", id);
        return WB_ERR_SCHEMA;
    }
    char *text = NULL, perr[512];
    wb_err err = wb_registry_fetch(s->reg, id, &text, reason, reason_size);
    if (err && err != WB_ERR_SCHEMA) return err; /* transient: nothing cached */
    writer_entry *e = add_writer(s);
    if (!e) {
        free(text);
        snprintf(reason, reason_size, "out of memory");
        return WB_ERR_NOMEM;
    }
    e->id = id;
    if (!err) {
        e->sc = wb_avro_schema_parse(text, strlen(text), perr, sizeof(perr));
        if (!e->sc) snprintf(reason, reason_size, "schema id %" PRId32 ": %s", id, perr);
    }
    free(text);
    if (!e->sc) e->err = wb_strdup(reason); /* permanent: remembered (NULL on OOM is fine) */
    *out = e;
    return WB_OK;
}

static wb_err get_plan(wb_schemas *s, int32_t id, const char *contract, const plan_entry **out,
                       char *reason, size_t reason_size)
{
    const char *key = contract ? contract : "";
    if (s->last_plan < s->np && s->p[s->last_plan].id == id &&
        !strcmp(s->p[s->last_plan].contract, key)) {
        *out = &s->p[s->last_plan];
        return WB_OK;
    }
    for (size_t i = 0; i < s->np; i++)
        if (s->p[i].id == id && !strcmp(s->p[i].contract, key)) {
            s->last_plan = i;
            *out = &s->p[i];
            return WB_OK;
        }
    const writer_entry *w;
    wb_err err = get_writer(s, id, &w, reason, reason_size);
    if (err) return err;
    if (s->np == s->capp) {
        size_t ncap = s->capp ? s->capp * 2 : 16;
        plan_entry *n = realloc(s->p, ncap * sizeof(*n));
        if (!n) goto nomem;
        s->p = n;
        s->capp = ncap;
    }
    plan_entry *pe = &s->p[s->np];
    memset(pe, 0, sizeof(*pe));
    if (!(pe->contract = wb_strdup(key))) goto nomem;
    pe->id = id;
    s->np++;
    char why[512] = "";
    if (!w->sc) {
        snprintf(why, sizeof(why), "%s", w->err ? w->err : "bad writer schema");
    } else if (contract) {
        const writer_entry *r = find_ref(s, contract);
        if (!r)
            snprintf(why, sizeof(why), "unknown contract '%s' (not in the local schemas)",
                     contract);
        else
            pe->plan = wb_avro_plan_new(w->sc, r->sc, why, sizeof(why));
        if (r && !pe->plan) {
            char tmp[1200];
            snprintf(tmp, sizeof(tmp), "schema id %" PRId32 "%s%s%s cannot be resolved to %s: %s",
                     id, w->ref ? " (" : "", w->ref ? w->ref : "", w->ref ? ")" : "", contract,
                     why);
            snprintf(why, sizeof(why), "%.500s", tmp);
        }
    } else {
        pe->plan = wb_avro_plan_new(w->sc, NULL, why, sizeof(why));
    }
    if (!pe->plan && !(pe->err = wb_strdup(why[0] ? why : "out of memory"))) goto nomem;
    s->last_plan = s->np - 1;
    *out = pe;
    return WB_OK;
nomem:
    snprintf(reason, reason_size, "out of memory");
    return WB_ERR_NOMEM;
}

wb_err wb_schemas_to_json(wb_schemas *s, const void *val, size_t len, const char *contract,
                          wb_buf *out, char *reason, size_t reason_size)
{
    const unsigned char *b = val;
    const plan_entry *pe;
    char tmp[8];
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    if (!wb_schemas_is_framed(val, len)) {
        snprintf(reason, reason_size, "value is not Confluent-framed Avro");
        return WB_ERR_SCHEMA;
    }
    int32_t id = (int32_t)((uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 |
                           (uint32_t)b[4]);
    wb_err err = get_plan(s, id, contract, &pe, reason, reason_size);
    if (err) return err;
    if (!pe->plan) {
        snprintf(reason, reason_size, "%s", pe->err);
        return WB_ERR_SCHEMA;
    }
    char why[400];
    err = wb_avro_plan_to_json(pe->plan, b + 5, len - 5, out, why, sizeof(why));
    if (err)
        snprintf(reason, reason_size, "schema id %" PRId32 "%s%s: %s", id, contract ? " as " : "",
                 contract ? contract : "", why);
    return err;
}

wb_err wb_schemas_from_json(wb_schemas *s, const char *schema_ref, const char *json, size_t len,
                            wb_buf *out, char *reason, size_t reason_size)
{
    char tmp[8];
    json_error_t jerr;
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    const writer_entry *e = find_ref(s, schema_ref);
    if (!e) {
        snprintf(reason, reason_size, "unknown schema '%s'", schema_ref);
        return WB_ERR_SCHEMA;
    }
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(reason, reason_size, "body is not JSON: %s (line %d)", jerr.text, jerr.line);
        return WB_ERR_SCHEMA;
    }
    size_t mark = out->len;
    unsigned char hdr[5] = {0, (unsigned char)(e->id >> 24), (unsigned char)(e->id >> 16),
                            (unsigned char)(e->id >> 8), (unsigned char)e->id};
    wb_err err = wb_buf_add(out, hdr, 5);
    if (!err) err = wb_avro_from_json(e->sc, doc, out, reason, reason_size);
    if (err) {
        out->len = mark;
        if (out->data) out->data[mark] = 0;
    }
    json_decref(doc);
    return err;
}

int wb_schemas_versions(const wb_schemas *s, const char *event, char *out, size_t out_size)
{
    size_t elen = strlen(event), used = 0;
    int n = 0;
    long last = 0;
    if (out_size) out[0] = 0;
    /* ascending without sorting: pick the next larger version each pass (a few versions) */
    for (;;) {
        long best = 0;
        for (size_t i = 0; i < s->nw; i++) {
            const char *r = s->w[i].ref;
            long v;
            if (!r || strncmp(r, event, elen) || r[elen] != '@' ||
                wb_parse_int(r + elen + 1, 1, 100000, &v) || v <= last || (best && v >= best))
                continue;
            best = v;
        }
        if (!best) break;
        int w = snprintf(out + used, out_size > used ? out_size - used : 0, "%s%s@%ld",
                         n ? ", " : "", event, best);
        if (w > 0) used = used + (size_t)w < out_size ? used + (size_t)w : out_size;
        last = best;
        n++;
    }
    return n;
}
