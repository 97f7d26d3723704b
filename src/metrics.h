/* metrics: a small registry of metric families (gauge, counter, histogram) with bounded labels, and the Prometheus
 * text exposition format 0.0.4 writer. Updated by the scan/daemon thread, rendered by the HTTP thread: every call
 * is thread-safe (one short mutex per registry); rendering never blocks a scan for long and never runs a query.
 * Label values are names of tables, columns, categories and reasons — never a scanned value or a record id.
 * Must not include libpq, libmicrohttpd or libsystemd headers. */
#ifndef PA_METRICS_H
#define PA_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum pa_metric_type { PA_METRIC_GAUGE, PA_METRIC_COUNTER, PA_METRIC_HISTOGRAM };

struct pa_metrics;
struct pa_metric; /* one family */

struct pa_metrics *pa_metrics_new(void);
void pa_metrics_free(struct pa_metrics *m);

/* Register a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*; counters must end in _total. label_names has
 * n_labels entries (copied). For histograms, buckets are the upper bounds in increasing order (copied; +Inf is
 * implicit). Families render in registration order. Returns the family (owned by the registry). */
struct pa_metric *pa_metrics_register(struct pa_metrics *m, const char *name, const char *help,
                                      enum pa_metric_type type, size_t n_labels, const char *const *label_names,
                                      const double *buckets, size_t n_buckets);

/* Series are addressed by their label values (n_labels strings, NULL when the family has no labels). A series is
 * created on first use. */
void pa_metric_set(struct pa_metric *f, const char *const *label_values, double v);     /* gauge */
void pa_metric_add(struct pa_metric *f, const char *const *label_values, double delta); /* gauge or counter */
void pa_metric_observe(struct pa_metric *f, const char *const *label_values, double v); /* histogram */
/* Replace every series of a gauge or counter family by n new ones in one step under the registry lock, so a scrape
 * sees the old set or the new one, never an empty family in between. label_values holds n rows of n_labels values
 * (row i starts at label_values[i * n_labels]; NULL for a family without labels), values[i] is row i's value (a
 * later row with the same labels wins). Counter values are taken as given: for counters mirrored from another
 * source, where a lower value reads as a reset to Prometheus. */
void pa_metric_replace(struct pa_metric *f, size_t n, const char *const *label_values, const double *values);
/* Create the series with these label values at zero when it does not exist (a histogram's with every bucket
 * empty); an existing series is left as it is. For series whose zero is true before anything happened (a surface
 * configured but not scanned yet has read no rows), so that increase() sees the first change. */
void pa_metric_touch(struct pa_metric *f, const char *const *label_values);
/* Drop every series of a family with labels for which keep(arg, label values) is false (the label values in the
 * family's label order). keep runs under the registry lock: it must not call into the registry. For series of
 * something that no longer exists (a surface removed from the configuration). */
void pa_metric_retain(struct pa_metric *f, bool (*keep)(void *arg, const char *const *label_values), void *arg);
/* Current value of a gauge/counter series, or NaN when it does not exist (tests, the daemon's own logic). */
double pa_metric_get(struct pa_metric *f, const char *const *label_values);

/* Render every family (HELP, TYPE, series; label values escaped; numbers in the C locale: integers without a
 * fraction, NaN/+Inf/-Inf spelled as Prometheus expects), then the standard process_* metrics read from /proc
 * (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
 * process_max_fds, process_start_time_seconds). Appends to out. */
void pa_metrics_render(struct pa_metrics *m, struct pa_buf *out);

/* Append a label value escaped per the text format (backslash, double quote, newline). Exposed for tests. */
void pa_metrics_escape_label(struct pa_buf *out, const char *v);

/* The two halves of pa_metrics_render, for tests and the fuzzer (exact text without the /proc-dependent part):
 * every registered family, and the process_* block alone. */
void pa_metrics_render_families(struct pa_metrics *m, struct pa_buf *out);
void pa_metrics_render_process(struct pa_buf *out);

/* Append a sample value as rendered: C locale whatever the process locale; integers up to 2^53 without fraction or
 * exponent ("1234567", -0 as "0"); other finite values in the shortest %g form that round-trips through strtod;
 * "NaN", "+Inf", "-Inf". Histogram le values use the same form. */
void pa_metrics_format_value(struct pa_buf *out, double v);

#endif
