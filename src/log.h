/* log: leveled logging to journald (when $JOURNAL_STREAM says stderr is the journal), or lines on stderr: plain
 * text, or (log.format: json) one JSON object per line with the journal's field names (MESSAGE, PRIORITY, SURFACE,
 * SCAN_ID, SYSLOG_IDENTIFIER, SYSLOG_PID, __REALTIME_TIMESTAMP), for a log shipper reading stderr.
 * Callers must never pass a scanned value, a conninfo or a password: log host, port, database, user, surface,
 * record id, path, category. The macros check the level before any formatting work. */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stdbool.h>

#include "util.h"

enum pa_log_level { PA_LOG_ERROR = 0, PA_LOG_WARN = 1, PA_LOG_INFO = 2, PA_LOG_DEBUG = 3 };

extern enum pa_log_level pa_log_threshold;

/* Decide the sink once at start-up (journald if $JOURNAL_STREAM matches stderr). */
void pa_log_init(enum pa_log_level level);
/* Lines on stderr as text (the default) or JSON (log.format); journald, when it is stderr, keeps its own fields. */
enum pa_log_format { PA_LOG_FORMAT_TEXT, PA_LOG_FORMAT_JSON };
void pa_log_set_format(enum pa_log_format format);
/* "text" | "json" -> format; -1 when unknown. */
int pa_log_format_parse(const char *s);
/* One JSON log line (with its newline) appended to out: the journal's fields, MESSAGE escaped as JSON (control
 * characters escaped, invalid UTF-8 as U+FFFD: always a valid JSON text), SURFACE when surface is set, SCAN_ID when
 * scan_id is not 0. What pa_log_write writes in JSON mode; exposed for tests. */
void pa_log_json_line(struct pa_buf *out, enum pa_log_level level, const char *msg, const char *surface,
                      long long scan_id, long long realtime_us, int pid);

/* "error" | "warn" | "info" | "debug" -> level; -1 when unknown. */
int pa_log_level_parse(const char *s);

/* Structured context carried into journald fields (SURFACE=, SCAN_ID=); NULL / 0 to clear. */
void pa_log_set_context(const char *surface, long long scan_id);

void pa_log_write(enum pa_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pa_log(level, ...)                                                                                             \
    do {                                                                                                               \
        if ((level) <= pa_log_threshold)                                                                               \
            pa_log_write((level), __VA_ARGS__);                                                                        \
    } while (0)
#define pa_error(...) pa_log(PA_LOG_ERROR, __VA_ARGS__)
#define pa_warn(...) pa_log(PA_LOG_WARN, __VA_ARGS__)
#define pa_info(...) pa_log(PA_LOG_INFO, __VA_ARGS__)
#define pa_debug(...) pa_log(PA_LOG_DEBUG, __VA_ARGS__)

#endif
