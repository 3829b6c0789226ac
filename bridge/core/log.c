/* log.c - JSON-lines / text logger writing whole lines to stderr with one write(2). */
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static wb_log_level min_level = WB_LOG_INFO;
static wb_log_format out_format = WB_LOG_JSON;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void wb_log_setup(wb_log_level level, wb_log_format format)
{
    min_level = level;
    out_format = format;
}

int wb_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, level_names[i])) return i;
    if (!strcasecmp(s, "warning")) return WB_LOG_WARN;
    return -1;
}

int wb_log_format_parse(const char *s)
{
    if (!strcasecmp(s, "json")) return WB_LOG_JSON;
    if (!strcasecmp(s, "text")) return WB_LOG_TEXT;
    return -1;
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

void wb_log_write(wb_log_level level, const char *file, int line, const char *fields,
                  const char *fmt, ...)
{
    char msg[2048], out[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[64];
    snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    size_t len;
    if (out_format == WB_LOG_JSON) {
        len = (size_t)snprintf(out, sizeof(out), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", tbuf,
                               level_names[level]);
        len = json_escape(out, len, sizeof(out) - 64, msg);
        len += (size_t)snprintf(out + len, sizeof(out) - len, "\",\"src\":\"%s:%d\"", base, line);
        if (fields && *fields && len < sizeof(out) - 8)
            len += (size_t)snprintf(out + len, sizeof(out) - len, ",%s", fields);
        if (len > sizeof(out) - 3) len = sizeof(out) - 3;
        out[len++] = '}';
    } else {
        len = (size_t)snprintf(out, sizeof(out), "%s %-5s ", tbuf, level_names[level]);
        len = text_escape(out, len, sizeof(out) - 64, msg);
        if (fields && *fields && len < sizeof(out) - 8) {
            out[len++] = ' ';
            out[len++] = '{';
            len = text_escape(out, len, sizeof(out) - 4, fields);
            out[len++] = '}';
        }
        if (len > sizeof(out) - 2) len = sizeof(out) - 2;
    }
    out[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, out, len);
    (void)w;
}
