/* metrics_internal: what the tests may do to the registry beyond its interface (metrics.h). Not for the daemon,
 * which rebuilds a family with pa_metric_replace (a scrape never sees it empty in between). */
#ifndef PA_METRICS_INTERNAL_H
#define PA_METRICS_INTERNAL_H

#include "metrics.h"

/* Drop every series of a family with labels; reset the one series of a family without labels to 0. */
void pa_metric_clear(struct pa_metric *f);

#endif
