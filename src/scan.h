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

/* What a batch adds to its surface's counters besides rows and bytes (pa_scan_opts.on_counts). */
struct pa_scan_counts {
    long long oversized;              /* documents not fetched (scan.max_document_bytes) */
    long long retries[PA_FAIL_COUNT]; /* batches read again, by the reason of the failure (recovery_conflict) */
};

struct pa_scan_opts {
    bool full;           /* --full: re-read everything and resolve what is gone */
    bool dry_run;        /* write nothing to the findings store */
    const char *trigger; /* "cli" | "schedule" | "signal" */
    char **only;         /* --surface filters ("schema.table.column"), NULL = all */
    size_t n_only;
    bool progress;               /* a progress line on stderr (only when it is a terminal) */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop at the next batch boundary */
    /* optional observer (the daemon's metrics and sd_notify), called from the scanning thread */
    void *observer;
    void (*on_surface_start)(void *observer, const struct pa_surface_result *r);
    void (*on_batch)(void *observer, const struct pa_surface_result *r, long long rows, long long bytes);
    /* a batch (committed, or the failure that ended its range) brought oversized documents or retries */
    void (*on_counts)(void *observer, const struct pa_surface_result *r, const struct pa_scan_counts *delta);
    void (*on_surface_done)(void *observer, const struct pa_surface_result *r);
    void (*on_tick)(void *observer); /* about once a second while waiting for or reading rows: liveness */
};

enum pa_surface_status { PA_SURFACE_OK, PA_SURFACE_FAILED, PA_SURFACE_CANCELLED };

/* Why rows of a surface are known not to have been read (pii_audit_surface_rows_unread{reason}); X(NAME, "label"):
 *   oversized  rows whose document was too big to fetch (scan.max_document_bytes), met by the surface's last complete
 *              full pass (all its runs, when it resumed) and the scans since: none of them was read (kept in the
 *              findings store; an upper bound: a row met twice, by a pass and a re-read, counts twice)
 *   failed     the surface's scan failed or was cancelled: the rows after the position it had committed (counted on
 *              the scanned database after the failure; a first or full pass's whole rest from its position); a
 *              surface refused before any row was read (null_id, no key): its estimated rows; not known when change
 *              detection was cut short (its changed rows are not counted); 0 when it succeeded */
/* clang-format off: one row per line, aligned by hand */
#define PA_UNREAD_REASONS(X)                                                                                           \
    X(OVERSIZED, "oversized")                                                                                          \
    X(FAILED, "failed")
/* clang-format on */
#define PA_UNREAD_ENUM_(name, label) PA_UNREAD_##name,
enum pa_unread_reason { PA_UNREAD_REASONS(PA_UNREAD_ENUM_) PA_UNREAD_COUNT };
#undef PA_UNREAD_ENUM_
const char *pa_scan_unread_reason_name(enum pa_unread_reason r);

struct pa_surface_result {
    const struct pa_surface *surface;
    char *table; /* "schema.table" */
    enum pa_surface_status status;
    struct pa_err err; /* why it failed (reason none when ok); the message is safe: never a value or a
                            * conninfo */
    bool full;         /* this scan read the surface in full (a full pass, or part of one that resumes) */
    long long rows, bytes, invalid_documents, truncated_records, rows_estimated;
    long long rows_reread;             /* of rows: rows read again because they changed since the last scan (or their
                            * partition joined since), by change detection */
    long long oversized_documents;     /* rows of this scan whose document was not fetched (not in rows) */
    long long retries[PA_FAIL_COUNT];  /* batches read again, by the reason of the failure */
    long long unread[PA_UNREAD_COUNT]; /* coverage after this scan (see PA_UNREAD_REASONS); -1: not known */
    double full_duration; /* a full pass this scan completed: the seconds the surface's scans spent on it since it
                            * began (summed over the runs of a pass that resumed); 0 when none completed */
    double duration;      /* seconds */
    struct pa_catcounts new_by_cat, resolved_by_cat, open_by_cat;
};

struct pa_scan_result {
    long long scan_id;          /* 0 in dry-run */
    struct pa_db_server server; /* the scanned database (identity, role, limits); server.database "" when unknown */
    int database_id;            /* its id in the findings store; 0 when not known there (a dry run) */
    struct pa_surface_result *surfaces;
    size_t n;
    double duration;
    int failed; /* surfaces that failed or were cancelled */
    bool cancelled;
    long long open_total; /* open findings on the scanned surfaces after the scan */
    int interrupted_runs; /* runs of other processes found dead (killed, crashed) and marked interrupted */
    struct pa_err err;    /* err.msg is set when the scan could not start at all */
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

/* What the surface check (the one every scan makes before reading a surface) found. */
struct pa_scan_surface_check {
    char id_column[128]; /* the key as scan_cursors keeps it: a column, a composite key's columns, or ctid */
    char id_type[128];   /* format_type() of the key's column(s) */
    char columns[512];   /* what a scan selects, as GRANT SELECT (...) lists them (pa_scan_grant_columns) */
    bool json;           /* the column is json or jsonb (else text, varchar or char) */
    long long estimate;  /* pg_class.reltuples */
};
/* The scan's own surface check, on a scanned-database connection (pa_db_open PA_DB_SCANNED): the table, the column
 * and its type, the key (id_column, configured and unique, or the primary key, any number of columns; keyless:
 * ctid), no NULL ids, column-level SELECT on every column a scan selects (ctid and xmin included), and no row-level
 * security that could hide rows. 0 with out filled, or -1 with e saying what is wrong and the fix (reason missing,
 * unsupported_type, no_unique_id, null_id, permission, rls, or the query's failure). For --check-config --connect.
 * Reads no document. */
int pa_scan_check_surface(PGconn *conn, const struct pa_surface *s, struct pa_scan_surface_check *out,
                          struct pa_err *e);

#endif
