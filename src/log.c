/* log: see log.h. Never formats anything below the threshold; never logs scanned bytes (callers' duty,
 * enforced by the canary tests, in text and JSON mode). Each line is written with one call, so lines of the reader
 * threads never interleave within a line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

enum pa_log_level pa_log_threshold = PA_LOG_INFO;

static bool use_journal;
static enum pa_log_format log_format = PA_LOG_FORMAT_TEXT;
static _Thread_local char ctx_surface[256]; /* per thread: readers log for their own surface */
static _Thread_local long long ctx_scan_id;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* $JOURNAL_STREAM is "dev:inode" of the journal stream; only trust it when it is our stderr. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js)
        return false;
    unsigned long long dev, ino;
    if (sscanf(js, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pa_log_init(enum pa_log_level level)
{
    pa_log_threshold = level;
    use_journal = stderr_is_journal();
}

int pa_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return PA_LOG_WARN;
    return -1;
}

void pa_log_set_format(enum pa_log_format format)
{
    log_format = format;
}

int pa_log_format_parse(const char *s)
{
    if (strcmp(s, "text") == 0)
        return PA_LOG_FORMAT_TEXT;
    if (strcmp(s, "json") == 0)
        return PA_LOG_FORMAT_JSON;
    return -1;
}

static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* A field of the line: "NAME":"value" (every value a string, as journalctl -o json writes them). */
static void json_field(struct pa_buf *out, const char *name, const char *value)
{
    pa_buf_printf(out, "%s\"%s\":", out->len && out->data[out->len - 1] != '{' ? "," : "", name);
    pa_buf_append_json_name(out, value, strlen(value)); /* valid UTF-8 whatever the message holds */
}

void pa_log_json_line(struct pa_buf *out, enum pa_log_level level, const char *msg, const char *surface,
                      long long scan_id, long long realtime_us, int pid)
{
    char num[32];
    pa_buf_appendc(out, '{');
    snprintf(num, sizeof num, "%lld", realtime_us);
    json_field(out, "__REALTIME_TIMESTAMP", num);
    snprintf(num, sizeof num, "%d", syslog_prio[level]);
    json_field(out, "PRIORITY", num);
    json_field(out, "SYSLOG_IDENTIFIER", "pii-auditd");
    snprintf(num, sizeof num, "%d", pid);
    json_field(out, "SYSLOG_PID", num);
    if (surface && *surface)
        json_field(out, "SURFACE", surface);
    if (scan_id) {
        snprintf(num, sizeof num, "%lld", scan_id);
        json_field(out, "SCAN_ID", num);
    }
    json_field(out, "MESSAGE", msg);
    pa_buf_appends(out, "}\n");
}

void pa_log_set_context(const char *surface, long long scan_id)
{
    snprintf(ctx_surface, sizeof ctx_surface, "%s", surface ? surface : "");
    ctx_scan_id = scan_id;
}

void pa_log_write(enum pa_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (use_journal) {
        const int *prio = syslog_prio;
        char scan[32];
        snprintf(scan, sizeof scan, "%lld", ctx_scan_id);
        if (ctx_surface[0] && ctx_scan_id)
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SURFACE=%s", ctx_surface, "SCAN_ID=%s",
                            scan, "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        else if (ctx_scan_id)
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SCAN_ID=%s", scan,
                            "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        else
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        return;
    }
    if (log_format == PA_LOG_FORMAT_JSON) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct pa_buf line;
        pa_buf_init(&line);
        pa_log_json_line(&line, level, msg, ctx_surface, ctx_scan_id,
                         (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000, (int)getpid());
        fwrite(line.data, 1, line.len, stderr);
        pa_buf_free(&line);
        return;
    }
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s pii-auditd[%d] %s: %s\n", ts, (int)getpid(), level_names[level], msg);
}
