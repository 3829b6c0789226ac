/* envelope.c - event type, webhook-id and the Standard Webhooks envelope. */
#include "kafka/envelope.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "core/util.h"
#include "kafka/event.h"

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
    wb_time_format_ms(unix_ms, ts, sizeof(ts));
    wb_err err = wb_buf_reserve(out, data_len + strlen(type) + 64);
    if (!err) err = wb_buf_add(out, "{\"type\":", 8);
    if (!err) err = add_json_string(out, type);
    if (!err) err = wb_buf_printf(out, ",\"timestamp\":\"%s\",\"data\":", ts);
    if (!err) err = wb_buf_add(out, data, data_len);
    if (!err) err = wb_buf_add(out, "}", 1);
    return err;
}
