/* daemon: the long-running mode — scheduled scans (interval + jitter, initial delay, SIGUSR1 for a scan now,
 * SIGUSR2 for a full scan now), the
 * metrics registry fed by the scan observer and refreshed from the findings store, the HTTP endpoint, sd_notify
 * (READY, STATUS, RELOADING, STOPPING, WATCHDOG), SIGHUP reload (a bad config keeps the old one), SIGTERM/SIGINT
 * stop at a batch boundary. Scans never overlap: they run on the main thread, the HTTP thread only renders. */
#ifndef PA_DAEMON_H
#define PA_DAEMON_H

#include "config.h"
#include "detect.h"

/* Runs until stopped. Takes ownership of cfg and det (they are replaced on reload and freed at exit).
 * Returns the process exit status: 0 after a requested stop, 1 when the endpoint could not be started. */
int pa_daemon_run(const char *config_path, struct pa_config *cfg, struct pa_detector *det);

#endif
