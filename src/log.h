/* log: leveled logging to journald (when $JOURNAL_STREAM says stderr is the journal) or plain stderr lines.
 * Callers must never pass a scanned value, a conninfo or a password: log host, port, database, user, surface,
 * record id, path, category. The macros check the level before any formatting work. */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stdbool.h>

enum pa_log_level { PA_LOG_ERROR = 0, PA_LOG_WARN = 1, PA_LOG_INFO = 2, PA_LOG_DEBUG = 3 };

extern enum pa_log_level pa_log_threshold;

/* Decide the sink once at start-up (journald if $JOURNAL_STREAM matches stderr). */
void pa_log_init(enum pa_log_level level);
/* "error" | "warn" | "info" | "debug" -> level; -1 when unknown. */
int pa_log_level_parse(const char *s);

/* Structured context carried into journald fields (SURFACE=, SCAN_ID=); NULL / 0 to clear. */
void pa_log_set_context(const char *surface, long long scan_id);

void pa_log_write(enum pa_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pa_log(level, ...)                                                                                         \
    do {                                                                                                           \
        if ((level) <= pa_log_threshold)                                                                           \
            pa_log_write((level), __VA_ARGS__);                                                                    \
    } while (0)
#define pa_error(...) pa_log(PA_LOG_ERROR, __VA_ARGS__)
#define pa_warn(...) pa_log(PA_LOG_WARN, __VA_ARGS__)
#define pa_info(...) pa_log(PA_LOG_INFO, __VA_ARGS__)
#define pa_debug(...) pa_log(PA_LOG_DEBUG, __VA_ARGS__)

#endif
