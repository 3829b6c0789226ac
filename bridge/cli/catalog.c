/* cli/catalog.c - the partner-facing event catalog in Markdown or HTML (see catalog.h).
 *
 * One walk over the folder writes both formats through a tiny emitter (headings, paragraphs,
 * code blocks, tables, lists) that escapes text for the format at hand; the HTML page is
 * self-contained (inline CSS, no script, nothing fetched). */
#include "cli/catalog.h"
#include "schema/avro.h"
#include "schema/compat.h"
#include "config/config.h"
#include "kafka/envelope.h"
#include "signing/signing.h"
#include "core/timefmt.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VERSIONS 64
#define MAX_EVENTS   256
#define EXAMPLE_TS_S 1795455846LL /* 2026-11-23T17:44:06Z: fixed, so the catalog is stable */
#define EXAMPLE_ID   "msg_2Ta1nZ7ck9Yy0KxHb3pQ0pWfWjE"

/* ---------------------------------------------------------------- emitter */

/* Where the page goes and in which format; the first append error sticks and stops the
 * rest (every emitter checks it), so callers need not. */
typedef struct emit {
    wb_buf *out;
    int html;
    wb_err err;
} emit;

/* Markup, as is. */
static void raw(emit *e, const char *s)
{
    if (!e->err) e->err = wb_buf_adds(e->out, s);
}

/* Formatted markup: short pieces only (cut at 2 KiB). */
static void rawf(emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rawf(emit *e, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    raw(e, tmp);
}

/* Text for the format: HTML entities, or Markdown with its active characters escaped. */
static void text(emit *e, const char *s)
{
    for (const char *p = s; *p && !e->err; p++) {
        char c[2] = {*p, 0};
        if (e->html && *p == '&')
            raw(e, "&amp;");
        else if (e->html && *p == '<')
            raw(e, "&lt;");
        else if (e->html && *p == '>')
            raw(e, "&gt;");
        else if (e->html && *p == '"')
            raw(e, "&quot;");
        else if (!e->html && strchr("\\`*_[]<>|#", *p)) {
            raw(e, "\\");
            raw(e, c);
        } else
            raw(e, c);
    }
}

/* Inline code: verbatim in Markdown backticks, escaped in <code>. */
static void code(emit *e, const char *s)
{
    if (e->html) {
        raw(e, "<code>");
        text(e, s);
        raw(e, "</code>");
    } else {
        raw(e, strchr(s, '`') ? "`` " : "`");
        raw(e, s);
        raw(e, strchr(s, '`') ? " ``" : "`");
    }
}

/* A heading with an anchor that the event list and version links point to. */
static void heading(emit *e, int level, const char *anchor, const char *s)
{
    if (e->html) {
        rawf(e, "<h%d id=\"", level);
        text(e, anchor);
        raw(e, "\">");
        text(e, s);
        rawf(e, "</h%d>\n", level);
    } else {
        /* an explicit anchor: heading ids differ between Markdown renderers */
        raw(e, "\n<a id=\"");
        text(e, anchor);
        rawf(e, "\"></a>\n\n%.*s ", level, "######");
        text(e, s);
        raw(e, "\n\n");
    }
}

/* Paragraphs, code blocks, lists: the same calls write either format. */
static void para_begin(emit *e)
{
    raw(e, e->html ? "<p>" : "");
}

static void para_end(emit *e)
{
    raw(e, e->html ? "</p>\n" : "\n\n");
}

static void para(emit *e, const char *s)
{
    para_begin(e);
    text(e, s);
    para_end(e);
}

static void block(emit *e, const char *lang, const char *s)
{
    if (e->html) {
        rawf(e, "<pre><code class=\"language-%s\">", lang);
        text(e, s);
        raw(e, "</code></pre>\n");
    } else {
        rawf(e, "```%s\n", lang);
        raw(e, s);
        raw(e, s[0] && s[strlen(s) - 1] == '\n' ? "```\n\n" : "\n```\n\n");
    }
}

static void list_begin(emit *e)
{
    raw(e, e->html ? "<ul>\n" : "");
}

static void item_begin(emit *e)
{
    raw(e, e->html ? "<li>" : "- ");
}

static void item_end(emit *e)
{
    raw(e, e->html ? "</li>\n" : "\n");
}

static void list_end(emit *e)
{
    raw(e, e->html ? "</ul>\n" : "\n");
}

/* A link to an in-page anchor. */
static void link(emit *e, const char *anchor, const char *s)
{
    if (e->html) {
        raw(e, "<a href=\"#");
        text(e, anchor);
        raw(e, "\">");
        text(e, s);
        raw(e, "</a>");
    } else {
        raw(e, "[");
        text(e, s);
        rawf(e, "](#%s)", anchor);
    }
}

/* A table with n columns: the header row (and Markdown's separator row). */
static void table_begin(emit *e, const char *const *cols, int n)
{
    raw(e, e->html ? "<table>\n<thead><tr>" : "|");
    for (int i = 0; i < n; i++) {
        raw(e, e->html ? "<th>" : " ");
        text(e, cols[i]);
        raw(e, e->html ? "</th>" : " |");
    }
    raw(e, e->html ? "</tr></thead>\n<tbody>\n" : "\n|");
    for (int i = 0; !e->html && i < n; i++)
        raw(e, "---|");
    raw(e, e->html ? "" : "\n");
}

/* One row; cells whose bit is set in code_mask are inline code. */
static void table_row(emit *e, const char *const *cells, int n, unsigned code_mask)
{
    raw(e, e->html ? "<tr>" : "|");
    for (int i = 0; i < n; i++) {
        raw(e, e->html ? "<td>" : " ");
        if ((code_mask >> i) & 1 && cells[i][0])
            code(e, cells[i]);
        else
            text(e, cells[i]);
        raw(e, e->html ? "</td>" : " |");
    }
    raw(e, e->html ? "</tr>\n" : "\n");
}

static void table_end(emit *e)
{
    raw(e, e->html ? "</tbody></table>\n" : "\n");
}

/* ---------------------------------------------------------------- the folder */

/* One version of an event as the catalog shows it. */
typedef struct version {
    long num;
    int32_t id;
    wb_avro_schema *sc;
    json_t *doc; /* the .avsc as JSON, for the docs avro-c drops */
} version;

/* An event type with its versions, oldest first. */
typedef struct event {
    char name[200];
    version v[MAX_VERSIONS];
    size_t nv;
} event;

static int cmp_version(const void *a, const void *b)
{
    long x = ((const version *)a)->num, y = ((const version *)b)->num;
    return x < y ? -1 : x > y;
}

static int cmp_event(const void *a, const void *b)
{
    return strcmp(((const event *)a)->name, ((const event *)b)->name);
}

/* The events and every schema and document they hold. */
static void free_events(event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ev[i].nv; j++) {
            wb_avro_schema_free(ev[i].v[j].sc);
            json_decref(ev[i].v[j].doc);
        }
    free(ev);
}

/* Every event of dir/manifest.json with its versions, parsed, each sorted by version and
 * the events by name (caller frees with free_events). Entries the manifest gets wrong are
 * skipped (`schemas check` reports them); a schema that does not parse fails the catalog. */
static wb_err load(const char *dir, event **out, size_t *nout, char *errstr, size_t errstr_size)
{
    char path[4096];
    json_error_t jerr;
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    json_t *man = json_load_file(path, 0, &jerr);
    event *ev = NULL;
    size_t n = 0;
    wb_err err = WB_ERR_SCHEMA;
    if (!man || !json_is_object(man)) {
        snprintf(errstr, errstr_size, "%s: %s", path,
                 man ? "manifest must be an object" : jerr.text);
        err = man ? WB_ERR_SCHEMA : WB_ERR_IO;
        goto out;
    }
    if (!(ev = calloc(json_object_size(man) ? json_object_size(man) : 1, sizeof(*ev)))) {
        err = WB_ERR_NOMEM;
        goto out;
    }
    const char *name;
    json_t *vers;
    json_object_foreach(man, name, vers)
    {
        if (n == MAX_EVENTS || !json_is_object(vers)) continue;
        event *e = &ev[n++];
        snprintf(e->name, sizeof(e->name), "%s", name);
        const char *vs;
        json_t *idj;
        json_object_foreach(vers, vs, idj)
        {
            long num;
            if (e->nv == MAX_VERSIONS || wb_parse_int(vs, 1, 100000, &num)) continue;
            char file[4400], perr[512];
            snprintf(file, sizeof(file), "%s/%s/v%ld.avsc", dir, name, num);
            json_t *doc = json_load_file(file, 0, &jerr);
            char *txt = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
            wb_avro_schema *sc =
                txt ? wb_avro_schema_parse(txt, strlen(txt), perr, sizeof(perr)) : NULL;
            free(txt);
            if (!sc) {
                snprintf(errstr, errstr_size, "%s: %s", file, doc ? perr : jerr.text);
                json_decref(doc);
                goto out;
            }
            version *v = &e->v[e->nv++];
            v->num = num;
            v->id = (int32_t)json_integer_value(idj);
            v->sc = sc;
            v->doc = doc;
        }
        qsort(e->v, e->nv, sizeof(version), cmp_version);
    }
    qsort(ev, n, sizeof(event), cmp_event);
    *out = ev;
    *nout = n;
    ev = NULL;
    n = 0;
    err = WB_OK;
out:
    free_events(ev, n);
    json_decref(man);
    return err;
}

/* ---------------------------------------------------------------- examples */

static json_t *sample(const wb_avro_type *t, const char *field, int depth);

/* The example's timestamps and dates: the moment the example request is signed at. */
static json_t *sample_time(wb_avro_logical lt)
{
    char b[WB_TIME_BUF];
    if (lt == WB_AVRO_LT_DATE)
        wb_time_format_date(EXAMPLE_TS_S / 86400, b, sizeof(b));
    else if (lt == WB_AVRO_LT_TS_MICROS)
        wb_time_format_us(EXAMPLE_TS_S * 1000000 + 123456, b, sizeof(b));
    else
        wb_time_format_ms(EXAMPLE_TS_S * 1000 + 123, b, sizeof(b));
    return json_string(b);
}

/* bytes / fixed: a decimal's digits, or base64 of some bytes (fixed: exactly its size). */
static json_t *sample_blob(const wb_avro_type *t)
{
    if (t->logical == WB_AVRO_LT_DECIMAL) return json_string(t->scale ? "19.99" : "20");
    if (t->kind == WB_AVRO_FIXED && t->size <= 256) {
        unsigned char raw_bytes[256];
        char b64[4 * ((256 + 2) / 3) + 1];
        for (size_t i = 0; i < t->size; i++)
            raw_bytes[i] = (unsigned char)(i * 37 + 11);
        wb_base64_encode(raw_bytes, t->size, b64);
        return json_string(b64);
    }
    return json_string("AQID");
}

/* A string that reads like the field it fills. */
static json_t *sample_string(const char *field)
{
    char s[160];
    if (strstr(field, "event_id") || !strcmp(field, "id"))
        snprintf(s, sizeof(s), "6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d");
    else if (strstr(field, "currency"))
        snprintf(s, sizeof(s), "EUR");
    else if (strstr(field, "email"))
        snprintf(s, sizeof(s), "ana@example.com");
    else
        snprintf(s, sizeof(s), "%.40s_1001", field);
    return json_string(s);
}

/* The first non-null branch: the value when nullable, else {"branch": value}. */
static json_t *sample_union(const wb_avro_type *t, const char *field, int depth)
{
    for (size_t i = 0; i < t->nbranches; i++)
        if (t->branches[i]->kind != WB_AVRO_NULL) {
            json_t *v = sample(t->branches[i], field, depth + 1);
            if (wb_avro_is_nullable(t)) return v;
            json_t *o = json_object();
            json_object_set_new(o, wb_avro_branch_name(t->branches[i]), v);
            return o;
        }
    return json_null();
}

/* A record: each field's default when it has a non-null one, else a sample. */
static json_t *sample_record(const wb_avro_type *t, int depth)
{
    json_t *o = json_object();
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_avro_field *f = &t->fields[i];
        json_object_set_new(o, f->name,
                            f->def && !json_is_null(f->def) ? json_deep_copy(f->def)
                                                            : sample(f->type, f->name, depth + 1));
    }
    return o;
}

/* A plausible value for a type, by the JSON mapping of schemas/README.md. */
static json_t *sample(const wb_avro_type *t, const char *field, int depth)
{
    if (depth > 16) return json_null();
    switch (t->kind) {
    case WB_AVRO_NULL:
        return json_null();
    case WB_AVRO_BOOLEAN:
        return json_true();
    case WB_AVRO_INT:
        return t->logical == WB_AVRO_LT_DATE ? sample_time(t->logical) : json_integer(2);
    case WB_AVRO_LONG:
        if (t->logical == WB_AVRO_LT_TS_MILLIS || t->logical == WB_AVRO_LT_TS_MICROS)
            return sample_time(t->logical);
        return json_integer(42);
    case WB_AVRO_FLOAT:
    case WB_AVRO_DOUBLE:
        return json_real(1.5);
    case WB_AVRO_BYTES:
    case WB_AVRO_FIXED:
        return sample_blob(t);
    case WB_AVRO_STRING:
        return sample_string(field);
    case WB_AVRO_ENUM:
        return json_string(t->nsymbols ? t->symbols[0] : "");
    case WB_AVRO_ARRAY: {
        json_t *a = json_array();
        json_array_append_new(a, sample(t->items, field, depth + 1));
        return a;
    }
    case WB_AVRO_MAP: {
        json_t *o = json_object();
        json_object_set_new(o, "key", sample(t->items, field, depth + 1));
        return o;
    }
    case WB_AVRO_UNION:
        return sample_union(t, field, depth);
    case WB_AVRO_RECORD:
        return sample_record(t, depth);
    }
    return json_null();
}

/* The example's data as the bridge sends it: sample -> Avro -> JSON through our own codec. */
static wb_err example_data(const wb_avro_schema *sc, wb_buf *out, char *why, size_t why_size)
{
    json_t *doc = sample(wb_avro_schema_root(sc), "", 0);
    wb_buf bin;
    wb_buf_init(&bin, 0);
    wb_err err = wb_avro_from_json(sc, doc, &bin, why, why_size);
    wb_avro_plan *plan = err ? NULL : wb_avro_plan_new(sc, NULL, why, why_size);
    if (!err && !plan) err = WB_ERR_SCHEMA;
    if (!err) err = wb_avro_plan_to_json(plan, bin.data, bin.len, out, why, why_size);
    wb_avro_plan_free(plan);
    wb_buf_free(&bin);
    json_decref(doc);
    return err;
}

/* Envelope and Standard Webhooks headers, signed with the sample secret by the real signer. */
static wb_err example_request(const char *type, const char *data, wb_buf *headers, wb_buf *body)
{
    char *secrets[] = {(char *)WB_CATALOG_SAMPLE_SECRET};
    wb_signing cfg = {0};
    char err[256];
    cfg.scheme = WB_SCHEME_STANDARD;
    cfg.secrets = secrets;
    cfg.nsecrets = 1;
    wb_signer *s = wb_signer_new(&cfg, err, sizeof(err));
    if (!s) return WB_ERR_INVALID;
    /* the body a partner gets, pretty-printed would change the signed bytes: compact */
    wb_err e = wb_envelope_build(body, type, EXAMPLE_TS_S * 1000 + 123, data, strlen(data));
    if (!e)
        e = wb_buf_printf(headers,
                          "POST /webhooks HTTP/1.1\ncontent-type: application/json\n"
                          "webhook-id: %s\nwebhook-timestamp: %lld\n",
                          EXAMPLE_ID, EXAMPLE_TS_S);
    if (!e) e = wb_signer_sign(s, EXAMPLE_ID, EXAMPLE_TS_S, body->data, body->len, headers);
    wb_signer_free(s);
    return e;
}

/* ---------------------------------------------------------------- sections */

/* The "doc" of field i in the .avsc's "fields" array (our model does not keep docs). */
static const char *field_doc(json_t *fields_json, size_t i)
{
    return json_string_value(json_object_get(json_array_get(fields_json, i), "doc"));
}

/* One table row per field of record t, then the fields of records nested in a field
 * (directly, or as array items: "lines[].sku"), to depth 8. */
static void field_rows(emit *e, const wb_avro_type *t, json_t *fields_json, const char *prefix,
                       int depth)
{
    for (size_t i = 0; t->kind == WB_AVRO_RECORD && i < t->nfields && depth < 8; i++) {
        const wb_avro_field *f = &t->fields[i];
        char name[300], type[160], req[200];
        snprintf(name, sizeof(name), "%s%s", prefix, f->name);
        wb_avro_type_describe(f->type, type, sizeof(type));
        if (f->def) {
            char *d = json_dumps(f->def, JSON_COMPACT | JSON_ENCODE_ANY);
            snprintf(req, sizeof(req), "no (default %.150s)", d ? d : "?");
            free(d);
        } else {
            snprintf(req, sizeof(req), "yes");
        }
        const char *doc = field_doc(fields_json, i);
        const char *cells[] = {name, type, req, doc ? doc : ""};
        table_row(e, cells, 4, 3);
        /* nested records (array items, nullable records) get their own rows */
        const wb_avro_type *in = f->type;
        const char *suffix = ".";
        json_t *jt = json_object_get(json_array_get(fields_json, i), "type");
        if (in->kind == WB_AVRO_ARRAY) {
            in = in->items;
            suffix = "[].";
            jt = json_object_get(jt, "items");
        }
        if (in->kind == WB_AVRO_RECORD && json_is_object(jt)) {
            char sub[320];
            snprintf(sub, sizeof(sub), "%.300s%s", name, suffix);
            field_rows(e, in, json_object_get(jt, "fields"), sub, depth + 1);
        }
    }
}

/* What changed from the version before (wb_compat_diff) and whether each reads the other's
 * data (wb_compat_check both ways), in words for partners. */
static void changes_section(emit *e, const version *p, const version *v)
{
    wb_buf lines, msgs;
    wb_buf_init(&lines, 0);
    wb_buf_init(&msgs, 0);
    int n = wb_compat_diff(wb_avro_schema_root(p->sc), wb_avro_schema_root(v->sc), &lines);
    int back = wb_compat_check(wb_avro_schema_root(v->sc), wb_avro_schema_root(p->sc), 1, "", "",
                               "", &msgs);
    int fwd = wb_compat_check(wb_avro_schema_root(p->sc), wb_avro_schema_root(v->sc), 0, "", "", "",
                              &msgs);
    para_begin(e);
    rawf(e, "Changes from v%ld:", p->num);
    para_end(e);
    list_begin(e);
    for (char *l = lines.data; n > 0 && l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = 0;
        item_begin(e);
        text(e, l);
        item_end(e);
        l = nl ? nl + 1 : NULL;
    }
    if (n == 0) {
        item_begin(e);
        text(e, "no field changes (docs only)");
        item_end(e);
    }
    list_end(e);
    para_begin(e);
    rawf(e, "Compatibility: v%ld %s v%ld data (backward), v%ld %s v%ld data (forward). ", v->num,
         back ? "cannot read" : "reads", p->num, p->num, fwd ? "cannot read" : "reads", v->num);
    if (!fwd)
        rawf(e,
             "A partner pinned to v%ld keeps receiving the v%ld shape when producers move "
             "to v%ld.",
             p->num, p->num, v->num);
    else
        rawf(e,
             "Records written as v%ld cannot be turned into v%ld: a partner pinned to v%ld "
             "does not receive them (they are parked for the operator); move to v%ld "
             "before producers do.",
             v->num, p->num, p->num, v->num);
    para_end(e);
    wb_buf_free(&lines);
    wb_buf_free(&msgs);
}

/* The signed example request a partner pinned to ref receives. An example that cannot be
 * built fails the catalog (e->err, errstr naming title): it would mean the bridge cannot
 * send this version either. */
static void example_section(emit *e, const version *v, const char *type, const char *ref,
                            const char *title, char *errstr, size_t errstr_size)
{
    char why[512];
    wb_buf data, headers, body;
    wb_buf_init(&data, 0);
    wb_buf_init(&headers, 0);
    wb_buf_init(&body, 0);
    if (example_data(v->sc, &data, why, sizeof(why)) ||
        example_request(type, data.data, &headers, &body)) {
        if (!e->err) e->err = WB_ERR_SCHEMA;
        snprintf(errstr, errstr_size, "%s: cannot build the example: %s", title, why);
    } else {
        para_begin(e);
        text(e, "Example: the request a partner pinned to ");
        code(e, ref);
        text(e, " receives (signed with the sample secret ");
        code(e, WB_CATALOG_SAMPLE_SECRET);
        text(e, "; the body is sent compact, exactly these bytes are signed):");
        para_end(e);
        block(e, "http", headers.data);
        block(e, "json", body.data);
    }
    wb_buf_free(&data);
    wb_buf_free(&headers);
    wb_buf_free(&body);
}

/* One version: heading, contract and id, changes (from v2 on), fields, example. */
static void version_section(emit *e, const event *ev, size_t vi, char *errstr, size_t errstr_size)
{
    const version *v = &ev->v[vi];
    char title[300], anchor[300], ref[260];
    snprintf(title, sizeof(title), "%s v%ld", ev->name, v->num);
    snprintf(anchor, sizeof(anchor), "%s-v%ld", ev->name, v->num);
    heading(e, 3, anchor, title);
    para_begin(e);
    text(e, "Contract ");
    snprintf(ref, sizeof(ref), "%s@%ld", ev->name, v->num);
    code(e, ref);
    rawf(e, ", registry id %" PRId32 ".%s", v->id, vi + 1 == ev->nv ? " The newest version." : "");
    para_end(e);
    if (vi > 0) changes_section(e, &ev->v[vi - 1], v);
    static const char *const cols[] = {"Field", "Type", "Required", "Description"};
    table_begin(e, cols, 4);
    field_rows(e, wb_avro_schema_root(v->sc), json_object_get(v->doc, "fields"), "", 0);
    table_end(e);
    example_section(e, v, ev->name, ref, title, errstr, errstr_size);
}

static const char verify_steps[] =
    "webhook-signed-content = webhook-id + \".\" + webhook-timestamp + \".\" + raw body\n"
    "key       = base64-decode(secret without its \"whsec_\" prefix)\n"
    "expected  = base64(HMAC-SHA256(key, webhook-signed-content))\n"
    "accept if  some \"v1,<sig>\" in webhook-signature equals expected (constant-time compare)\n"
    "      and  |now - webhook-timestamp| <= 5 minutes\n"
    "then       answer 2xx quickly; drop a webhook-id you have already processed\n";

static const char verify_node[] =
    "// npm install standardwebhooks\n"
    "import { Webhook } from \"standardwebhooks\";\n"
    "const wh = new Webhook(process.env.WEBHOOK_SECRET); // \"whsec_...\"\n"
    "// rawBody: the exact bytes received, before any JSON parsing\n"
    "const event = wh.verify(rawBody, {\n"
    "  \"webhook-id\": req.headers[\"webhook-id\"],\n"
    "  \"webhook-timestamp\": req.headers[\"webhook-timestamp\"],\n"
    "  \"webhook-signature\": req.headers[\"webhook-signature\"],\n"
    "}); // throws on a bad signature or a stale timestamp\n";

static const char verify_python[] =
    "# pip install standardwebhooks\n"
    "from standardwebhooks.webhooks import Webhook\n"
    "wh = Webhook(os.environ[\"WEBHOOK_SECRET\"])\n"
    "event = wh.verify(raw_body, request.headers)  # raises WebhookVerificationError\n";

/* The page's opening: what the catalog is, how a webhook arrives, the list of events. */
static void intro(emit *e, const event *ev, size_t n)
{
    heading(e, 1, "event-catalog", "Event catalog");
    para(e, "The events this platform sends to partners as webhooks, every version of each, and "
            "how to verify what you receive. Generated from the schemas the bridge itself uses "
            "(webhook-bridge schemas catalog): the examples are exactly what it sends.");
    heading(e, 2, "delivery", "How a webhook arrives");
    list_begin(e);
    item_begin(e);
    text(e, "An HTTPS POST with a JSON body, the envelope ");
    code(e, "{\"type\": ..., \"timestamp\": ..., \"data\": ...}");
    text(e, ": the event type, when it happened (RFC 3339, UTC) and the event itself in the "
            "version you are pinned to (unless your integration agreed a custom shape).");
    item_end(e);
    item_begin(e);
    text(e, "Headers ");
    code(e, "webhook-id");
    text(e, " (the same on every retry: use it to drop duplicates), ");
    code(e, "webhook-timestamp");
    text(e, " (unix seconds) and ");
    code(e, "webhook-signature");
    text(e, " (Standard Webhooks, one or more space-separated signatures while a secret is "
            "rotated).");
    item_end(e);
    item_begin(e);
    text(e, "Answer 2xx within the timeout. Other answers are retried with growing delays "
            "(429 and 503 honour Retry-After); events with the same key arrive in order.");
    item_end(e);
    item_begin(e);
    text(e, "Versions: your integration is pinned to one version of each event (a contract). "
            "When producers move to a newer version you keep receiving your version's fields "
            "until you choose to move.");
    item_end(e);
    list_end(e);
    heading(e, 2, "events", "Events");
    list_begin(e);
    for (size_t i = 0; i < n; i++) {
        item_begin(e);
        link(e, ev[i].name, ev[i].name);
        text(e, " - versions:");
        for (size_t j = 0; j < ev[i].nv; j++) {
            char a[300], t[32];
            snprintf(a, sizeof(a), "%s-v%ld", ev[i].name, ev[i].v[j].num);
            snprintf(t, sizeof(t), "v%ld", ev[i].v[j].num);
            text(e, " ");
            link(e, a, t);
        }
        item_end(e);
    }
    list_end(e);
}

/* How to verify a signature: the official SDKs, the steps by hand, our own verify command. */
static void verification(emit *e)
{
    heading(e, 2, "verify", "Verifying a webhook (Standard Webhooks)");
    para(e, "Verify the signature over the raw body bytes before parsing them, then check the "
            "timestamp. The official Standard Webhooks libraries do both:");
    block(e, "javascript", verify_node);
    block(e, "python", verify_python);
    para(e, "Or by hand, in any language:");
    block(e, "text", verify_steps);
    para_begin(e);
    text(e, "To check your verifier against an example below: ");
    code(e, "webhook-bridge verify --secret " WB_CATALOG_SAMPLE_SECRET
            " -H 'webhook-id: ...' -H 'webhook-timestamp: ...' -H 'webhook-signature: ...' "
            "--now 1795455846 < body.json");
    para_end(e);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Event catalog</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;"
    "margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1f24}\n"
    "h1{border-bottom:2px solid #d0d7de}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}\n"
    "h3{margin-top:2rem}code{background:#f3f4f6;padding:.1em .3em;border-radius:4px;"
    "font-size:90%}\n"
    "pre{background:#0f172a;color:#e2e8f0;padding:1rem;border-radius:6px;overflow-x:auto}\n"
    "pre code{background:none;padding:0;font-size:85%;white-space:pre-wrap;"
    "word-break:break-all}\n"
    "table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:92%}\n"
    "th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}\n"
    "th{background:#f6f8fa}tr:nth-child(even) td{background:#fafbfc}\n"
    "a{color:#0969da}\n</style>\n</head>\n<body>\n";

/* Any thread: reads the folder, appends to out (the caller's). */
wb_err wb_catalog_render(const char *dir, wb_catalog_format fmt, wb_buf *out, char *errstr,
                         size_t errstr_size)
{
    event *ev = NULL;
    size_t n = 0;
    errstr[0] = 0;
    wb_err err = load(dir, &ev, &n, errstr, errstr_size);
    if (err) return err;
    emit e = {out, fmt == WB_CATALOG_HTML, WB_OK};
    if (e.html) raw(&e, html_head);
    intro(&e, ev, n);
    verification(&e);
    for (size_t i = 0; i < n && !e.err; i++) {
        heading(&e, 2, ev[i].name, ev[i].name);
        const version *last = &ev[i].v[ev[i].nv ? ev[i].nv - 1 : 0];
        const char *doc = ev[i].nv ? json_string_value(json_object_get(last->doc, "doc")) : NULL;
        if (doc) para(&e, doc);
        for (size_t j = ev[i].nv; j-- > 0 && !e.err;) /* newest first */
            version_section(&e, &ev[i], j, errstr, errstr_size);
    }
    if (e.html) raw(&e, "</body>\n</html>\n");
    free_events(ev, n);
    if (e.err && !errstr[0]) snprintf(errstr, errstr_size, "%s", wb_err_str(e.err));
    return e.err;
}
