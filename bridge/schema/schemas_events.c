/* schema/schemas_events.c - plain JSON events pinned to a contract: which writer version an
 * event claims (the contract_writer rules and the ce_dataschema forms of schemas.h), then
 * JSON -> Avro with that version and through the same cached plan as framed Avro. Also the
 * list of an event's local versions. */
#include "schema/schemas.h"
#include "schema/avro.h"
#include "schema/schemas_int.h"
#include "core/util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- which version */

/* The newest local version of event (elen bytes), or 0. */
static long newest_version(const wb_schemas *s, const char *event, size_t elen)
{
    long best = 0;
    for (size_t i = 0; i < s->nlocals; i++) {
        long v = wb_schemas_ref_version(s->locals[i]->ref, event, elen);
        if (v > best) best = v;
    }
    return best;
}

/* The local schema a ce_dataschema value names (forms in schemas.h), or NULL + reason. */
static writer_entry *from_dataschema(const wb_schemas *s, const char *ds, char *reason,
                                     size_t reason_size)
{
    char buf[512], ref[600];
    snprintf(buf, sizeof(buf), "%s", ds);
    size_t n = strlen(buf);
    if (n > 5 && !strcmp(buf + n - 5, ".avsc")) buf[n -= 5] = 0;
    if (n > 5 && !strcmp(buf + n - 5, ".json")) buf[n -= 5] = 0;
    while (n && buf[n - 1] == '/')
        buf[--n] = 0;
    char *last = strrchr(buf, '/');
    long v;
    if (!last) {
        snprintf(ref, sizeof(ref), "%s", buf); /* "order.paid@2" */
    } else if (strchr(last + 1, '@')) {
        snprintf(ref, sizeof(ref), "%s", last + 1); /* ".../order.paid@2" */
    } else {
        *last = 0;
        char *prev = strrchr(buf, '/');
        prev = prev ? prev + 1 : buf;
        if (!strcmp(prev, "ids") && !wb_parse_int(last + 1, 0, INT32_MAX, &v)) {
            for (size_t i = 0; i < s->nlocals; i++) /* ".../schemas/ids/102" */
                if (s->locals[i]->id == (int32_t)v) return s->locals[i];
            snprintf(reason, reason_size, "ce_dataschema '%.200s': no local schema has id %ld", ds,
                     v);
            return NULL;
        }
        const char *ver = last[1] == 'v' ? last + 2 : last + 1; /* ".../order.paid/v2" */
        snprintf(ref, sizeof(ref), "%s@%s", prev, ver);
    }
    writer_entry *w = strchr(ref, '@') ? wb_schemas_ref_find(s, ref) : NULL;
    if (!w)
        snprintf(reason, reason_size,
                 "ce_dataschema '%.200s' names no local schema version (expected order.paid@2, "
                 ".../order.paid/v2 or .../schemas/ids/102)",
                 ds);
    return w;
}

/* Does the record schema declare a top-level field name? */
static int has_field(const wb_avro_schema *sc, const char *name)
{
    const wb_avro_type *t = wb_avro_schema_root(sc);
    return t->kind == WB_AVRO_RECORD && wb_avro_field_lookup(t, name) >= 0;
}

/* The writer version a "schema_version" member names (an integer, or digits with an optional
 * 'v'), for the contract's event (elen bytes). NULL + reason when it names none. */
static writer_entry *from_version_field(const wb_schemas *s, json_t *sv, const char *contract,
                                        size_t elen, char *reason, size_t reason_size)
{
    char ref[300];
    long v = 0;
    const char *str = json_string_value(sv);
    if (json_is_integer(sv) && json_integer_value(sv) > 0 && json_integer_value(sv) <= 100000)
        v = (long)json_integer_value(sv);
    else if (str && wb_parse_int(str[0] == 'v' ? str + 1 : str, 1, 100000, &v))
        v = 0;
    if (!v) {
        snprintf(reason, reason_size, "field 'schema_version': expected a version number");
        return NULL;
    }
    snprintf(ref, sizeof(ref), "%.*s@%ld", (int)elen, contract, v);
    writer_entry *w = wb_schemas_ref_find(s, ref);
    if (!w) {
        char have[256], list[256];
        snprintf(have, sizeof(have), "%.*s", (int)elen, contract);
        wb_schemas_versions(s, have, list, sizeof(list));
        snprintf(reason, reason_size,
                 "field 'schema_version': %s is not a known version (the schemas have %s)", ref,
                 list);
    }
    return w;
}

/* The writer version a JSON event claims under rule (see wb_json_writer), checked to be a
 * version of the contract's event. NULL + reason when it claims none or another event. */
static writer_entry *claimed_writer(const wb_schemas *s, json_t *sv, wb_json_writer rule,
                                    const char *dataschema, const char *contract, char *reason,
                                    size_t reason_size)
{
    const char *at = strrchr(contract, '@');
    size_t elen = at ? (size_t)(at - contract) : strlen(contract);
    writer_entry *w = NULL;
    if (rule == WB_JSON_WRITER_DATASCHEMA && !dataschema) {
        snprintf(reason, reason_size, "no ce_dataschema header (contract_writer: ce_dataschema)");
        return NULL;
    }
    if (rule == WB_JSON_WRITER_FIELD && !sv) {
        snprintf(reason, reason_size,
                 "field 'schema_version': missing (contract_writer: schema_version)");
        return NULL;
    }
    if ((rule == WB_JSON_WRITER_AUTO || rule == WB_JSON_WRITER_DATASCHEMA) && dataschema) {
        if (!(w = from_dataschema(s, dataschema, reason, reason_size))) return NULL;
    } else if ((rule == WB_JSON_WRITER_AUTO || rule == WB_JSON_WRITER_FIELD) && sv) {
        if (!(w = from_version_field(s, sv, contract, elen, reason, reason_size))) return NULL;
    } else {
        char ref[300];
        snprintf(ref, sizeof(ref), "%.*s@%ld", (int)elen, contract,
                 newest_version(s, contract, elen));
        w = wb_schemas_ref_find(s, ref);
    }
    if (!w || strncmp(w->ref, contract, elen) || w->ref[elen] != '@') {
        snprintf(reason, reason_size, "the event claims %s, not a version of %.*s",
                 w ? w->ref : "no schema", (int)elen, contract);
        return NULL;
    }
    return w;
}

/* Owner thread (local schemas only: never waits for the registry). The event goes JSON ->
 * Avro with its writer schema (validation, defaults), then through the same plan as a framed
 * record, so both paths give the partner the same bytes. */
wb_err wb_schemas_json_to_contract(wb_schemas *s, const char *json, size_t len, wb_json_writer rule,
                                   const char *dataschema, const char *contract, wb_buf *out,
                                   char *reason, size_t reason_size)
{
    char tmp[8], why[512];
    json_error_t jerr;
    json_t *doc = NULL;
    writer_entry *w = NULL;
    plan_entry *pe;
    wb_err err = WB_ERR_SCHEMA;
    if (!reason || !reason_size) {
        reason = tmp;
        reason_size = sizeof(tmp);
    }
    reason[0] = 0;
    if (!wb_schemas_ref_find(s, contract)) {
        snprintf(reason, reason_size, "unknown contract '%s' (not in the local schemas)", contract);
        return WB_ERR_SCHEMA;
    }
    if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
        snprintf(reason, reason_size, "event is not JSON: %s (line %d)", jerr.text, jerr.line);
        return WB_ERR_SCHEMA;
    }
    json_t *sv = json_object_get(doc, "schema_version");
    if (dataschema && !*dataschema) dataschema = NULL;
    if (!(w = claimed_writer(s, sv, rule, dataschema, contract, reason, reason_size))) goto out;
    /* schema_version is metadata unless the writer schema declares it */
    if (sv && !has_field(w->sc, "schema_version")) json_object_del(doc, "schema_version");
    wb_buf_reset(&s->scratch);
    if ((err = wb_avro_from_json(w->sc, doc, &s->scratch, why, sizeof(why)))) {
        if (err == WB_ERR_SCHEMA)
            snprintf(reason, reason_size, "%s: %s", w->ref, why);
        else
            snprintf(reason, reason_size, "%s", wb_err_str(err));
        goto out;
    }
    if ((err = wb_schemas_plan_get(s, w->id, contract, &pe, reason, reason_size))) goto out;
    if (!pe->plan) {
        snprintf(reason, reason_size, "%s", pe->err ? pe->err : "unresolvable");
        err = WB_ERR_SCHEMA;
        goto out;
    }
    if ((err = wb_avro_plan_to_json(pe->plan, s->scratch.data, s->scratch.len, out, why,
                                    sizeof(why))))
        snprintf(reason, reason_size, "%s as %s: %s", w->ref, contract, why);
out:
    json_decref(doc);
    return err;
}

/* ---------------------------------------------------------------- versions */

/* Owner thread (read-only: any thread once loaded). */
int wb_schemas_versions(const wb_schemas *s, const char *event, char *out, size_t out_size)
{
    size_t elen = strlen(event), used = 0;
    int n = 0;
    long last = 0;
    if (out_size) out[0] = 0;
    /* ascending without sorting: pick the next larger version each pass (a few versions) */
    for (;;) {
        long best = 0;
        for (size_t i = 0; i < s->nlocals; i++) {
            long v = wb_schemas_ref_version(s->locals[i]->ref, event, elen);
            if (v > last && (!best || v < best)) best = v;
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
