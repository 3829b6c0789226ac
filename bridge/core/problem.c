/* problem.c - RFC 9457 problem+json bodies (jansson does the escaping). */
#include "core/problem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
    int status;
    const char *title, *slug;
} statuses[] = {
    {400, "Bad Request", "malformed"},
    {401, "Unauthorized", "signature"},
    {403, "Forbidden", "forbidden"},
    {404, "Not Found", "not-found"},
    {405, "Method Not Allowed", "method"},
    {408, "Request Timeout", "timeout"},
    {409, "Conflict", "in-flight"},
    {413, "Content Too Large", "too-large"},
    {415, "Unsupported Media Type", "media-type"},
    {429, "Too Many Requests", "rate-limited"},
    {500, "Internal Server Error", "internal"},
    {503, "Service Unavailable", "unavailable"},
};

static int find(int status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status) return (int)i;
    return -1;
}

const char *wb_problem_title(int status)
{
    int i = find(status);
    return i >= 0 ? statuses[i].title : "Error";
}

static json_t *str_or(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("(not UTF-8)");
}

wb_err wb_problem_json(wb_buf *out, int status, const char *slug, const char *detail,
                       const char *instance)
{
    int i = find(status);
    if (!slug) slug = i >= 0 ? statuses[i].slug : "error";
    wb_err rc = WB_ERR_NOMEM;
    char *s = NULL;
    json_t *o = json_object();
    if (!o) goto out;
    char type[128];
    snprintf(type, sizeof(type), "urn:webhook-bridge:problem:%s", slug);
    if (json_object_set_new(o, "type", json_string(type)) ||
        json_object_set_new(o, "title", json_string(wb_problem_title(status))) ||
        json_object_set_new(o, "status", json_integer(status)))
        goto out;
    /* json_string() refuses invalid UTF-8 (NULL): a fixed text stands in then. */
    if (detail && json_object_set_new(o, "detail", str_or(detail))) goto out;
    if (instance && json_object_set_new(o, "instance", str_or(instance))) goto out;
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s) goto out;
    rc = wb_buf_adds(out, s);
out:
    free(s);
    json_decref(o);
    return rc;
}
