/* log.h - levelled, structured logging.
 *
 * One line per event on stderr: JSON lines by default ({"ts","level","msg","src", and the
 * structured fields}), or a human "text" format. The message is printf-style; the fields a
 * record is about (connector, webhook-id, topic/partition/offset, status, attempt) are given
 * as a wb_log_fields. Never pass a secret or a full body.
 *
 * Thread: every function is safe from any thread (one write(2) per line). */
#ifndef WB_LOG_H
#define WB_LOG_H

#include <stdarg.h>
#include <stdint.h>

typedef enum wb_log_level {
    WB_LOG_DEBUG = 0,
    WB_LOG_INFO,
    WB_LOG_WARN,
    WB_LOG_ERROR,
} wb_log_level;

typedef enum wb_log_format { WB_LOG_JSON = 0, WB_LOG_TEXT } wb_log_format;

/* Set the minimum level and the format. Call before threads start. */
void wb_log_setup(wb_log_level level, wb_log_format format);
int wb_log_enabled(wb_log_level level);

/* The structured fields of a record: set what applies, leave the rest zero. They become JSON
 * members ("connector", "webhook-id", "topic", "partition", "offset", "status", "attempt") or
 * key=value pairs after the text message, so log queries need not parse the message. */
typedef struct wb_log_fields {
    const char *connector;
    const char *webhook_id;
    const char *topic; /* with it, partition and (when >= 0) offset are written */
    int32_t partition;
    int64_t offset;
    int status;  /* an HTTP status; 0: none */
    int attempt; /* 1-based delivery attempt; 0: none */
} wb_log_fields;

/* Emit one line. f: NULL or the record's fields. */
void wb_log_write(wb_log_level level, const char *file, int line, const wb_log_fields *f,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define WB_LOG(lvl, ...)                                                                           \
    do {                                                                                           \
        if (wb_log_enabled(lvl)) wb_log_write(lvl, __FILE__, __LINE__, NULL, __VA_ARGS__);         \
    } while (0)
/* With fields: f is a const wb_log_fields *. */
#define WB_LOGF(lvl, f, ...)                                                                       \
    do {                                                                                           \
        if (wb_log_enabled(lvl)) wb_log_write(lvl, __FILE__, __LINE__, f, __VA_ARGS__);            \
    } while (0)

#define WB_DEBUG(...)     WB_LOG(WB_LOG_DEBUG, __VA_ARGS__)
#define WB_INFO(...)      WB_LOG(WB_LOG_INFO, __VA_ARGS__)
#define WB_WARN(...)      WB_LOG(WB_LOG_WARN, __VA_ARGS__)
#define WB_ERROR(...)     WB_LOG(WB_LOG_ERROR, __VA_ARGS__)
#define WB_DEBUGF(f, ...) WB_LOGF(WB_LOG_DEBUG, f, __VA_ARGS__)
#define WB_INFOF(f, ...)  WB_LOGF(WB_LOG_INFO, f, __VA_ARGS__)
#define WB_WARNF(f, ...)  WB_LOGF(WB_LOG_WARN, f, __VA_ARGS__)
#define WB_ERRORF(f, ...) WB_LOGF(WB_LOG_ERROR, f, __VA_ARGS__)

#endif
