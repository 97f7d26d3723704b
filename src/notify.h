/* notify: the systemd notify protocol (sd_notify) — READY, STATUS, RELOADING + MONOTONIC_USEC, STOPPING, WATCHDOG.
 * All calls are no-ops when $NOTIFY_SOCKET is not set. Status texts carry surface names, never values. */
#ifndef PA_NOTIFY_H
#define PA_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

void pa_notify_ready(void);
void pa_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pa_notify_reloading(void); /* RELOADING=1 with MONOTONIC_USEC= (systemd >= 253 wants it; harmless before) */
void pa_notify_stopping(void);
void pa_notify_watchdog(void);
/* The watchdog period in seconds when systemd asked for pings (WatchdogSec=), else 0. */
double pa_notify_watchdog_period(void);

#endif
