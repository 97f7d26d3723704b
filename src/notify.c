/* notify: see notify.h. */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"

void pa_notify_ready(void)
{
    sd_notify(0, "READY=1");
}

void pa_notify_status(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", msg);
}

void pa_notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long usec = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

void pa_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void pa_notify_watchdog(void)
{
    sd_notify(0, "WATCHDOG=1");
}

double pa_notify_watchdog_period(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        return (double)usec / 1e6;
    return 0;
}
