/* log: see log.h. Never formats anything below the threshold; never logs scanned bytes (callers' duty,
 * enforced by the canary tests). */
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
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        char scan[32];
        snprintf(scan, sizeof scan, "%lld", ctx_scan_id);
        if (ctx_surface[0] && ctx_scan_id)
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SURFACE=%s", ctx_surface,
                            "SCAN_ID=%s", scan, "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        else if (ctx_scan_id)
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SCAN_ID=%s", scan,
                            "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        else
            sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level], "SYSLOG_IDENTIFIER=pii-auditd", NULL);
        return;
    }
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s pii-auditd[%d] %s: %s\n", ts, (int)getpid(), level_names[level], msg);
}
