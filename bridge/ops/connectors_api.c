/* ops/connectors_api.c - GET /connectors, POST /connectors/{name}/pause|resume. */
#include "ops/connectors_api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/log.h"

static json_t *status_json(const wb_conn_status *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "state", json_string(s->state));
    json_object_set_new(o, "group", json_string(s->group));
    json_object_set_new(o, "paused", json_boolean(s->paused));
    static const char *const circuit[] = {"closed", "open", "half-open"};
    json_object_set_new(
        o, "breaker",
        json_string(s->circuit >= 0 && s->circuit <= 2 ? circuit[s->circuit] : "unknown"));
    json_object_set_new(o, "assigned_partitions", json_integer(s->assigned_partitions));
    json_object_set_new(o, "lag", s->lag >= 0 ? json_integer(s->lag) : json_null());
    json_object_set_new(o, "oldest_undelivered_seconds", json_real(s->oldest_undelivered_s));
    json_object_set_new(o, "retention_headroom_seconds", json_real(s->retention_headroom_s));
    json_object_set_new(o, "in_flight", json_integer(s->in_flight));
    json_object_set_new(o, "consumed", json_integer((json_int_t)s->consumed));
    json_object_set_new(o, "delivered", json_integer((json_int_t)s->delivered));
    json_object_set_new(o, "dead_lettered", json_integer((json_int_t)s->dead_lettered));
    json_object_set_new(o, "filtered", json_integer((json_int_t)s->filtered));
    json_object_set_new(o, "retried", json_integer((json_int_t)s->retried));
    json_object_set_new(o, "commits", json_integer((json_int_t)s->commits));
    if (s->last_error_ms) {
        json_t *e = json_object();
        char t[WB_TIME_BUF];
        wb_time_format_ms(s->last_error_ms, t, sizeof(t));
        json_object_set_new(e, "at", json_string(t));
        /* json_string refuses invalid UTF-8: a partner's error text may hold anything */
        json_t *msg = json_string(s->last_error);
        json_object_set_new(e, "message", msg ? msg : json_string("(not UTF-8)"));
        json_object_set_new(o, "last_error", e);
    } else {
        json_object_set_new(o, "last_error", json_null());
    }
    return o;
}

static void reply_json(wb_admin_response *resp, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) {
        wb_admin_problem(resp, 500, "out of memory");
        return;
    }
    wb_buf_adds(&resp->body, text);
    wb_buf_adds(&resp->body, "\n");
    free(text);
}

/* Every connector's status, or NULL when out of memory; *n their count. */
static wb_conn_status *snapshot(wb_engine *e, size_t *n)
{
    size_t want = wb_engine_status(e, NULL, 0) + 8; /* room for a reload adding some */
    wb_conn_status *st = calloc(want, sizeof(*st));
    if (!st) return NULL;
    *n = wb_engine_status(e, st, want);
    if (*n > want) *n = want;
    return st;
}

static void on_get(void *ctx, const wb_admin_request *req, wb_admin_response *resp)
{
    wb_engine *e = ctx;
    size_t n = 0;
    wb_conn_status *st = snapshot(e, &n);
    if (!st) {
        wb_admin_problem(resp, 500, "out of memory");
        return;
    }
    const char *name = NULL;
    if (!strncmp(req->path, "/connectors/", 12)) name = req->path + 12;
    if (name && *name) {
        for (size_t i = 0; i < n; i++)
            if (!strcmp(st[i].name, name)) {
                reply_json(resp, status_json(&st[i]));
                free(st);
                return;
            }
        free(st);
        wb_admin_problem(resp, 404, "no outbound connector of that name");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, status_json(&st[i]));
    free(st);
    json_t *doc = json_object();
    json_object_set_new(doc, "connectors", arr);
    reply_json(resp, doc);
}

/* POST /connectors/{name}/pause | /resume */
static void on_post(void *ctx, const wb_admin_request *req, wb_admin_response *resp)
{
    wb_engine *e = ctx;
    const char *rest = req->path + strlen("/connectors/");
    const char *slash = strrchr(rest, '/');
    if (!slash || slash == rest) {
        wb_admin_problem(resp, 404, "use /connectors/{name}/pause or /connectors/{name}/resume");
        return;
    }
    int paused;
    if (!strcmp(slash, "/pause"))
        paused = 1;
    else if (!strcmp(slash, "/resume"))
        paused = 0;
    else {
        wb_admin_problem(resp, 404, "use /connectors/{name}/pause or /connectors/{name}/resume");
        return;
    }
    char name[65];
    size_t len = (size_t)(slash - rest);
    if (len >= sizeof(name)) {
        wb_admin_problem(resp, 404, "no outbound connector of that name");
        return;
    }
    memcpy(name, rest, len);
    name[len] = 0;
    wb_err err = wb_engine_pause(e, name, paused);
    if (err == WB_ERR_NOT_FOUND) {
        wb_admin_problem(resp, 404, "no outbound connector of that name");
        return;
    }
    if (err) {
        wb_admin_problem(resp, 500, wb_err_str(err));
        return;
    }
    WB_WARN("admin: connector %s %s", name, paused ? "pause requested" : "resume requested");
    resp->status = 202;
    json_t *doc = json_object();
    json_object_set_new(doc, "name", json_string(name));
    json_object_set_new(doc, "paused", json_boolean(paused));
    reply_json(resp, doc);
}

wb_err wb_connectors_api_register(wb_admin *a, wb_engine *e)
{
    wb_err err = wb_admin_route(a, "GET", "/connectors", 0, on_get, e, 0);
    if (!err) err = wb_admin_route(a, "GET", "/connectors/", 1, on_get, e, 0);
    if (!err) err = wb_admin_route(a, "POST", "/connectors/", 1, on_post, e, 1);
    return err;
}
