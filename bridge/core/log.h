/* log.h - levelled, structured logging.
 *
 * One line per event on stderr: JSON lines by default ({"ts","level","msg","file","line",...}),
 * or a human "text" format. The message is printf-style; extra structured fields are given as
 * a JSON-ish "k=v" free text inside the message for now. Never pass a secret or a full body.
 *
 * Thread: every function is safe from any thread (one write(2) per line). */
#ifndef WB_LOG_H
#define WB_LOG_H

#include <stdarg.h>

typedef enum wb_log_level {
    WB_LOG_DEBUG = 0,
    WB_LOG_INFO,
    WB_LOG_WARN,
    WB_LOG_ERROR,
} wb_log_level;

typedef enum wb_log_format { WB_LOG_JSON = 0, WB_LOG_TEXT } wb_log_format;

/* Set the minimum level and the format. Call before threads start. */
void wb_log_setup(wb_log_level level, wb_log_format format);
/* Parse "debug|info|warn|error" / "json|text"; return -1 when unknown. */
int wb_log_level_parse(const char *s);
int wb_log_format_parse(const char *s);
int wb_log_enabled(wb_log_level level);

/* Emit one line. fields: NULL or a preformatted JSON object body without braces
 * (e.g. "\"connector\":\"acme\",\"status\":503") appended to the record. */
void wb_log_write(wb_log_level level, const char *file, int line, const char *fields,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define WB_LOG(lvl, ...)                                                                           \
    do {                                                                                           \
        if (wb_log_enabled(lvl)) wb_log_write(lvl, __FILE__, __LINE__, NULL, __VA_ARGS__);         \
    } while (0)
/* Variant with a structured fields string (see wb_log_write). */
#define WB_LOGF(lvl, fields, ...)                                                                  \
    do {                                                                                           \
        if (wb_log_enabled(lvl)) wb_log_write(lvl, __FILE__, __LINE__, fields, __VA_ARGS__);       \
    } while (0)

#define WB_DEBUG(...) WB_LOG(WB_LOG_DEBUG, __VA_ARGS__)
#define WB_INFO(...)  WB_LOG(WB_LOG_INFO, __VA_ARGS__)
#define WB_WARN(...)  WB_LOG(WB_LOG_WARN, __VA_ARGS__)
#define WB_ERROR(...) WB_LOG(WB_LOG_ERROR, __VA_ARGS__)

#endif
