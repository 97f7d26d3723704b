/* metrics_internal: what the tests may do to the registry beyond its interface (metrics.h). Not for the daemon,
 * which rebuilds a family with pa_metric_replace (a scrape never sees it empty in between). */
#ifndef PA_METRICS_INTERNAL_H
#define PA_METRICS_INTERNAL_H

#include "metrics.h"

/* Drop every series of a family with labels; reset the one series of a family without labels to 0. */
void pa_metric_clear(struct pa_metric *f);

/* /proc/self/stat as the process metrics read it: CPU time (utime + stime), the start in seconds after boot
 * (starttime), the virtual and resident sizes. */
struct pa_proc_stat {
    double cpu_seconds, start_since_boot, vsize, rss_bytes;
};
/* Parse the text of /proc/self/stat (comm may hold spaces and parentheses) with the clock ticks per second and the
 * page size. 0, or -1 when it is not that file's format. */
int pa_metrics_parse_proc_stat(const char *buf, long ticks, long page, struct pa_proc_stat *ps);
/* The source of the boot time (epoch seconds) that process_start_time_seconds adds to starttime; NULL restores the
 * default, CLOCK_REALTIME - CLOCK_BOOTTIME. Also forgets the start time worked out so far (it is kept once known). */
void pa_metrics_set_boot_time_source(double (*fn)(void));

#endif
