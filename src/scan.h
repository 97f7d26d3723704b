/* scan: one scan over the configured surfaces — surface checks, keyset batches read with COPY (binary), detection,
 * and the findings commit per batch. The same code path serves --scan-once and the daemon's schedule. The code is
 * in src/scan/ (see docs/architecture.md): scan.c coordinates and commits, catalog.c checks, reader.c reads.
 *
 * Each batch is one short read-only statement (no snapshot across batches); the DB load is capped by
 * scan.batch_size, scan.parallelism (readers per scan, over the id ranges of one or more surfaces) and
 * scan.max_rows_per_second. Memory is bounded per reader by one row plus two batches' findings, whatever the table
 * size. A surface that fails (missing, no grant, RLS, timeout, lost connection) fails alone; the others are still
 * scanned. Values live only in libpq's row buffer and are wiped before it is freed. */
#ifndef PA_SCAN_H
#define PA_SCAN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"
#include "detect.h"
#include "err.h"
#include "findings.h"

struct pa_surface_result;

struct pa_scan_opts {
    bool full;                  /* --full: re-read everything and resolve what is gone */
    bool dry_run;               /* write nothing to the findings store */
    const char *trigger;        /* "cli" | "schedule" | "signal" */
    char **only;                /* --surface filters ("schema.table.column"), NULL = all */
    size_t n_only;
    bool progress;              /* a progress line on stderr (only when it is a terminal) */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop at the next batch boundary */
    /* optional observer (the daemon's metrics and sd_notify), called from the scanning thread */
    void *observer;
    void (*on_surface_start)(void *observer, const struct pa_surface_result *r);
    void (*on_batch)(void *observer, const struct pa_surface_result *r, long long rows, long long bytes);
    void (*on_surface_done)(void *observer, const struct pa_surface_result *r);
    void (*on_tick)(void *observer); /* about once a second while waiting for or reading rows: liveness */
};

enum pa_surface_status { PA_SURFACE_OK, PA_SURFACE_FAILED, PA_SURFACE_CANCELLED };

struct pa_surface_result {
    const struct pa_surface *surface;
    char *table;           /* "schema.table" */
    enum pa_surface_status status;
    struct pa_err err;     /* why it failed (reason none when ok); the message is safe: never a value or a
                            * conninfo */
    bool full;             /* this scan read the surface in full (a full pass, or part of one that resumes) */
    long long rows, bytes, invalid_documents, truncated_records, rows_estimated;
    long long rows_reread; /* of rows: rows read again because they changed since the last scan (or their
                            * partition joined since), by change detection */
    long long rows_unread; /* rows known not to be read by this scan: 0 when ok; when it failed, an estimate of what
                            * it did not reach (a surface refused, a full pass cut short), or -1 when unknown (an
                            * incremental scan cut short: its changed rows not read yet) */
    double duration;       /* seconds */
    struct pa_catcounts new_by_cat, resolved_by_cat, open_by_cat;
};

struct pa_scan_result {
    long long scan_id;     /* 0 in dry-run */
    struct pa_surface_result *surfaces;
    size_t n;
    double duration;
    int failed;            /* surfaces that failed or were cancelled */
    bool cancelled;
    long long open_total;  /* open findings on the scanned surfaces after the scan */
    int interrupted_runs;  /* runs of other processes found dead (killed, crashed) and marked interrupted */
    struct pa_err err;     /* err.msg is set when the scan could not start at all */
};

/* Run one scan. Returns 0 when the scan ran (surfaces may have failed: see result), -1 when it could not start
 * (database unreachable, findings schema missing) with result->err set. */
int pa_scan_run(const struct pa_config *cfg, const struct pa_detector *det, const struct pa_scan_opts *opts,
                struct pa_scan_result *result);
void pa_scan_result_free(struct pa_scan_result *r);

/* The names written for statuses and modes, everywhere (report, scan_runs, scan_run_surfaces): a surface
 * "ok" | "failed" | "cancelled"; a run "ok" | "partial" | "failed" | "cancelled" (failed also when it could not
 * start); a mode "full" | "incremental". */
const char *pa_scan_surface_status_name(enum pa_surface_status s);
const char *pa_scan_run_status_name(const struct pa_scan_result *r);
const char *pa_scan_mode_name(bool full);

/* The columns a surface's scans select, as GRANT SELECT (...) lists them (quoted where needed, ", " between): its key
 * (the primary key, any number of columns, or id_column), the scanned column, changed_column, and the system
 * columns ctid and xmin where its mode reads them. The same catalog questions as the surface check; without a
 * connection (conn NULL) from the configuration alone, which needs the key configured. NULL when the key is not
 * known (no connection, or the table or its key is missing). For --print-grants; the caller frees. */
char *pa_scan_grant_columns(PGconn *conn, const struct pa_surface *s);

#endif
