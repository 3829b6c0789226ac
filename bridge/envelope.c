/* envelope.c - event type, webhook-id and the Standard Webhooks envelope. */
#include "envelope.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

int wb_record_header(const rd_kafka_message_t *rkm, const char *name, char *out, size_t out_size)
{
    rd_kafka_headers_t *hdrs;
    const void *val;
    size_t size;
    if (rd_kafka_message_headers(rkm, &hdrs) || rd_kafka_header_get_last(hdrs, name, &val, &size))
        return 0;
    if (!val) return 0;
    if (size >= out_size) size = out_size - 1;
    memcpy(out, val, size);
    out[size] = 0;
    return 1;
}

void wb_event_type(const rd_kafka_message_t *rkm, const char *from_body, char *out, size_t out_size)
{
    if (wb_record_header(rkm, "ce_type", out, out_size) && *out) return;
    if (wb_record_header(rkm, "event-type", out, out_size) && *out) return;
    if (from_body && *from_body) {
        snprintf(out, out_size, "%s", from_body);
        return;
    }
    snprintf(out, out_size, "%s", rd_kafka_topic_name(rkm->rkt));
}

void wb_webhook_id(const rd_kafka_message_t *rkm, const char *from_body, char *out, size_t out_size)
{
    if (wb_record_header(rkm, "ce_id", out, out_size) && *out) return;
    if (from_body && *from_body) {
        snprintf(out, out_size, "%s", from_body);
        return;
    }
    wb_webhook_id_derived(rkm, out, out_size);
}

void wb_webhook_id_derived(const rd_kafka_message_t *rkm, char *out, size_t out_size)
{
    char src[512];
    int n = snprintf(src, sizeof(src), "%s/%" PRId32 "/%" PRId64, rd_kafka_topic_name(rkm->rkt),
                     rkm->partition, rkm->offset);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)src, (size_t)(n < (int)sizeof(src) ? n : (int)sizeof(src) - 1),
           md);
    char hex[33];
    wb_hex_encode(md, 16, hex);
    snprintf(out, out_size, "wb_%s", hex);
}

void wb_rfc3339_ms(int64_t unix_ms, char *out, size_t out_size)
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
    snprintf(out, out_size, "%s", tmp);
}

/* Append s as a JSON string literal (quotes and escapes). */
static wb_err add_json_string(wb_buf *out, const char *s)
{
    wb_err err = wb_buf_add(out, "\"", 1);
    for (const char *p = s; !err && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            err = wb_buf_add(out, e, 2);
        } else if (c < 0x20) {
            err = wb_buf_printf(out, "\\u%04x", c);
        } else {
            err = wb_buf_add(out, p, 1);
        }
    }
    return err ? err : wb_buf_add(out, "\"", 1);
}

wb_err wb_envelope_build(wb_buf *out, const char *type, int64_t unix_ms, const char *data,
                         size_t data_len)
{
    char ts[96];
    wb_rfc3339_ms(unix_ms, ts, sizeof(ts));
    wb_err err = wb_buf_reserve(out, data_len + strlen(type) + 64);
    if (!err) err = wb_buf_add(out, "{\"type\":", 8);
    if (!err) err = add_json_string(out, type);
    if (!err) err = wb_buf_printf(out, ",\"timestamp\":\"%s\",\"data\":", ts);
    if (!err) err = wb_buf_add(out, data, data_len);
    if (!err) err = wb_buf_add(out, "}", 1);
    return err;
}
