/* registry.c - the Confluent Schema Registry client (see registry.h). The schema runtime and
 * its caches built on it are in schema/schemas.c.
 *
 * One libcurl easy handle per client, reused for keep-alive; the answer body is bounded by
 * the largest schema text we accept. Credentials are set on the handle, never put in a
 * reason. */
#include "schema/registry.h"
#include "schema/avro_int.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- registry client */

struct wb_registry {
    CURL *curl;
    char *url; /* without trailing '/' */
    char *bearer_header;
    struct curl_slist *headers;
    wb_buf body;
    unsigned long requests;
    int abort; /* set by wb_registry_abort from any thread (atomic) */
};

/* libcurl's progress callback: a non-zero return ends the transfer (shutdown). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return __atomic_load_n(&((wb_registry *)ud)->abort, __ATOMIC_ACQUIRE);
}

/* Any thread (an atomic flag the progress callback reads); NULL is fine. */
void wb_registry_abort(wb_registry *reg)
{
    if (reg) __atomic_store_n(&reg->abort, 1, __ATOMIC_RELEASE);
}

/* libcurl's write callback: append to the bounded body (past the bound: 0 ends the transfer). */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    wb_buf *b = ud;
    return wb_buf_add(b, p, size * n) ? 0 : size * n;
}

/* The thread that uses reg; NULL is fine. The bearer header is wiped before it is freed. */
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

/* Accept, and Authorization when a bearer token is set. 0, or -1 when out of memory. */
static int build_headers(wb_registry *reg, const wb_registry_opts *o)
{
    struct curl_slist *h =
        curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                "application/vnd.schemaregistry+json, application/json");
    if (!h) return -1;
    reg->headers = h;
    if (!o->bearer || !*o->bearer) return 0;
    wb_buf b;
    wb_buf_init(&b, 0);
    if (wb_buf_printf(&b, "Authorization: Bearer %s", o->bearer)) {
        wb_buf_free(&b);
        return -1;
    }
    reg->bearer_header = wb_buf_steal(&b, NULL);
    if (!reg->bearer_header || !(h = curl_slist_append(reg->headers, reg->bearer_header)))
        return -1;
    reg->headers = h;
    return 0;
}

/* The handle's options: timeouts, TLS, http(s) only, no redirects, basic auth. */
static void configure(wb_registry *reg, const wb_registry_opts *o)
{
    CURL *c = reg->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, reg->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reg->body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, reg);
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
}

/* Any thread (the client is then used by one thread at a time). */
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
    wb_buf_init(&reg->body, WB_AVRO_MAX_SCHEMA_BYTES);
    size_t ul = strlen(reg->url);
    while (ul && reg->url[ul - 1] == '/')
        reg->url[--ul] = 0;
    if (build_headers(reg, o)) goto nomem;
    configure(reg, o);
    ret = reg;
    reg = NULL;
    goto out;
nomem:
    snprintf(errstr, errstr_size, "out of memory");
out:
    wb_registry_free(reg);
    return ret;
}

/* The thread that uses reg (a plain counter, not atomic). */
unsigned long wb_registry_requests(const wb_registry *reg)
{
    return reg ? reg->requests : 0;
}

/* A non-200 answer: unknown id (404 / 40403) is permanent, anything else transient. */
static wb_err answer_error(long status, json_t *doc, int32_t id, char *reason, size_t reason_size)
{
    json_int_t code = json_integer_value(json_object_get(doc, "error_code"));
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (status == 404 || code == 40403) {
        snprintf(reason, reason_size,
                 "schema id %" PRId32 " not found in the registry (%" JSON_INTEGER_FORMAT
                 ": %.200s)",
                 id, code ? code : (json_int_t)404, msg ? msg : "not found");
        return WB_ERR_SCHEMA;
    }
    snprintf(reason, reason_size, "schema registry answered HTTP %ld for id %" PRId32 "%s%.200s",
             status, id, msg ? ": " : "", msg ? msg : "");
    return WB_ERR_IO;
}

/* The thread that uses reg; blocks for up to the timeouts (wb_registry_abort ends it). */
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
        err = answer_error(status, doc, id, reason, reason_size);
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
