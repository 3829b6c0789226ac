/* log.c - JSON-lines / text logger writing whole lines to stderr with one write(2). */
#include "core/log.h"

#include "core/timefmt.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static wb_log_level min_level = WB_LOG_INFO;
static wb_log_format out_format = WB_LOG_JSON;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wb_log_setup(wb_log_level level, wb_log_format format)
{
    min_level = level;
    out_format = format;
}

int wb_log_enabled(wb_log_level level)
{
    return level >= min_level;
}

/* Append s to out as JSON string content (no quotes); returns new length, bounded by cap. */
static size_t json_escape(char *out, size_t len, size_t cap, const char *s)
{
    for (; *s && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
        } else if (c == '\n') {
            out[len++] = '\\';
            out[len++] = 'n';
        } else if (c < 0x20) {
            len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
        } else {
            out[len++] = (char)c;
        }
    }
    return len;
}

/* Append s to out for the text format: one record stays one line, whatever the message
 * carries (a partner's value with "\n" could otherwise forge a log line): CR, LF, TAB and
 * the other control characters become visible escapes. Returns the new length (< cap). */
static size_t text_escape(char *out, size_t len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s && len + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7f && c != '\\') {
            out[len++] = (char)c;
            continue;
        }
        out[len++] = '\\';
        switch (c) {
        case '\n':
            out[len++] = 'n';
            break;
        case '\r':
            out[len++] = 'r';
            break;
        case '\t':
            out[len++] = 't';
            break;
        case '\\':
            out[len++] = '\\';
            break;
        default:
            out[len++] = 'x';
            out[len++] = hex[c >> 4];
            out[len++] = hex[c & 15];
        }
    }
    return len;
}

/* The fields as JSON members (",\"k\":v" each) or text pairs (" k=v" each) at out[len]. */
static size_t add_fields(char *out, size_t len, size_t cap, const wb_log_fields *f, int json)
{
    struct {
        const char *key, *s;
        int64_t n;
        int is_num, present;
    } kv[] = {
        {"connector", f->connector, 0, 0, f->connector != NULL},
        {"webhook-id", f->webhook_id, 0, 0, f->webhook_id != NULL},
        {"topic", f->topic, 0, 0, f->topic != NULL},
        {"partition", NULL, f->partition, 1, f->topic != NULL},
        {"offset", NULL, f->offset, 1, f->topic != NULL && f->offset >= 0},
        {"status", NULL, f->status, 1, f->status != 0},
        {"attempt", NULL, f->attempt, 1, f->attempt != 0},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (!kv[i].present || len + 40 + strlen(kv[i].key) >= cap) continue;
        len += (size_t)snprintf(out + len, cap - len, json ? ",\"%s\":" : " %s=", kv[i].key);
        if (kv[i].is_num) {
            len += (size_t)snprintf(out + len, cap - len, "%lld", (long long)kv[i].n);
        } else if (json) {
            out[len++] = '"';
            len = json_escape(out, len, cap - 2, kv[i].s);
            out[len++] = '"';
        } else {
            len = text_escape(out, len, cap - 1, kv[i].s);
        }
    }
    return len;
}

void wb_log_write(wb_log_level level, const char *file, int line, const wb_log_fields *f,
                  const char *fmt, ...)
{
    char msg[2048], out[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    char tbuf[WB_TIME_BUF];
    wb_time_format_ms(wb_wall_ms(), tbuf, sizeof(tbuf));
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    /* 64 bytes stay free after the message for the source, the fields' framing and the
     * closing characters: a long message is cut, the record stays one well-formed line. */
    size_t len;
    if (out_format == WB_LOG_JSON) {
        len = (size_t)snprintf(out, sizeof(out), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", tbuf,
                               level_names[level]);
        len = json_escape(out, len, sizeof(out) - 1024, msg);
        len += (size_t)snprintf(out + len, sizeof(out) - len, "\",\"src\":\"%s:%d\"", base, line);
        if (f) len = add_fields(out, len, sizeof(out) - 3, f, 1);
        out[len++] = '}';
    } else {
        len = (size_t)snprintf(out, sizeof(out), "%s %-5s ", tbuf, level_names[level]);
        len = text_escape(out, len, sizeof(out) - 1024, msg);
        if (f) len = add_fields(out, len, sizeof(out) - 2, f, 0);
    }
    out[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, out, len);
    (void)w;
}
