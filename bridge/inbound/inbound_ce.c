/* inbound_ce.c - the CloudEvents attributes an inbound record gets that the partner did not
 * send: a ce_id when the scheme has no delivery id, a W3C traceparent when the request has
 * none (or a malformed one: kafka/event.h checks it), ce_time, and the text of a JSON value
 * found by the body scan (key, event type). Random bits come from the bridge's one id
 * generator, wb_event_random (kafka/event.h). See inbound_ce.h. */
#include "inbound/inbound_ce.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "core/util.h"
#include "kafka/envelope.h"
#include "kafka/event.h"

void wb_inbound_ce_uuid(char out[37])
{
    unsigned char b[16];
    wb_event_random(b, sizeof(b));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    char hex[33];
    wb_hex_encode(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

void wb_inbound_ce_traceparent_new(char out[56])
{
    unsigned char b[24];
    wb_event_random(b, sizeof(b));
    b[0] |= 1;
    b[16] |= 1;
    /* "00-" <32 hex trace id> "-" <16 hex parent id> "-00", built without printf */
    memcpy(out, "00-", 3);
    wb_hex_encode(b, 16, out + 3);
    out[35] = '-';
    wb_hex_encode(b + 16, 8, out + 36);
    memcpy(out + 52, "-00", 4);
}

/* ce_time now. The formatter (envelope.h) runs once a second per thread; the milliseconds
 * are patched in. */
void wb_inbound_ce_time(char out[48])
{
    static _Thread_local int64_t cached_s = -1;
    static _Thread_local char cached[32]; /* "2026-11-23T18:00:00.000Z" */
    int64_t ms = wb_wall_ms();
    if (ms / 1000 != cached_s) {
        wb_time_format_ms(ms - ms % 1000, cached, sizeof(cached));
        cached_s = ms / 1000;
    }
    memcpy(out, cached, 25);
    int frac = (int)(ms % 1000);
    out[20] = (char)('0' + frac / 100);
    out[21] = (char)('0' + frac / 10 % 10);
    out[22] = (char)('0' + frac % 10);
}

/* A JSON value as Kafka key / header text: strings as is, anything else compact JSON.
 * Returns a malloc'd string or NULL (null / absent). */
static char *json_text(json_t *v)
{
    if (!v || json_is_null(v)) return NULL;
    if (json_is_string(v)) return wb_strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* The text of a value found by the scan: strings and integers directly; anything else
 * (a float, an object used as a key...) rendered by jansson, which is rare enough. */
char *wb_inbound_ce_pointer_text(const wb_jscan_target *t, const char *json, size_t len)
{
    /* (a string that filled the scanner's buffer may be longer: take the slow path) */
    if ((t->kind == WB_JSCAN_STRING && strlen(t->value) < sizeof(t->value) - 4) ||
        t->kind == WB_JSCAN_INTEGER)
        return wb_strdup(t->value);
    if (t->kind == WB_JSCAN_NONE) return NULL;
    json_t *doc = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    char *text = json_text(wb_json_pointer(doc, t->pointer));
    json_decref(doc);
    return text;
}
