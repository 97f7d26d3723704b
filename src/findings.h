/* findings: the findings store (schema pii_audit): schema version check and --init-db, the scanned databases'
 * identities, scan runs, per-surface cursors (the tail, the change-detection watermark, a full pass in progress),
 * batched finding upserts, and the three resolutions of the scans: a record read again without a finding (gone), a
 * record that no longer exists (deleted), a finding no scan saw since a full pass began (full_scan).
 *
 * One store can serve a fleet: every finding, cursor, run and surface lock belongs to one scanned database
 * (pii_audit.databases: the cluster's system identifier and the database name), so two databases with the same
 * table names never share a cursor or a finding, and a full scan of one never resolves the other's.
 *
 * The invariant that keeps "nothing lost, nothing duplicated": a batch's findings, its resolutions, its cursor move
 * and its counters commit in ONE transaction, so the cursor is never ahead of committed findings, and findings are
 * upserted on (table, column, record id, path, category) so re-reading a batch after a crash adds nothing.
 * Never stores a value: only ids, paths, categories and rules. */
#ifndef PA_FINDINGS_H
#define PA_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "db.h"
#include "util.h"

/* The highest findings-schema version this build knows. The versions are installed file by file (schema_version
 * has a row per sql/NNN_*.sql applied), and the check wants every embedded file's row: 002 (database identity), 003
 * (change detection), 004 (the findings workflow) and 005 (evidence) do not depend on each other, so a store may get
 * them in any order. */
#define PA_SCHEMA_VERSION 5

/* Per-category counter list, sorted by name (categories include custom ones, so keyed by name). */
struct pa_catcount {
    char *name;
    long long n;
};
struct pa_catcounts {
    struct pa_catcount *v;
    size_t n;
};
void pa_catcounts_add(struct pa_catcounts *c, const char *name, long long n);
long long pa_catcounts_total(const struct pa_catcounts *c);
void pa_catcounts_free(struct pa_catcounts *c);

/* Check schema_version. 0 when current; -1 with a message saying exactly which file(s) to apply. */
int pa_findings_check_schema(PGconn *conn, struct pa_err *e);
/* The same verdict on what pa_findings_missing_files returned (top >= 0 and its missing[]). */
int pa_findings_schema_error(int top, const bool *missing, struct pa_err *e);
/* -1 with e set when the highest installed version top is newer than this pii-auditd understands; else 0. */
int pa_findings_schema_too_new(int top, struct pa_err *e);
/* When e is a permission error (SQLSTATE 42501) and conn is idle, append to its message the findings-schema grants
 * the role lacks (grants.h), as GRANT statements: the server's message names the object but not the privilege. */
void pa_findings_explain_denied(PGconn *conn, struct pa_err *e);
/* Which embedded sql/NNN_*.sql files (pa_sql_files, sql_embed.h) the store lacks: missing[i] for file i (an array
 * of pa_sql_files_count). Returns the highest version installed (0: no schema), or -1 with e set. */
int pa_findings_missing_files(PGconn *conn, bool *missing, struct pa_err *e);
/* The findings-schema grants (grants.h) the connection's role lacks, as GRANT statements joined by "; ", appended
 * to out (nothing when it has them all). 0, or -1 with e set. */
int pa_findings_missing_grants(PGconn *conn, struct pa_buf *out, struct pa_err *e);
/* Apply the embedded sql/NNN_*.sql files not installed yet (missing[], from pa_findings_missing_files), in order
 * (--init-db). */
int pa_findings_init_db(PGconn *conn, const bool *missing, struct pa_err *e);

/* The store's id of the scanned database s (pii_audit.databases), into *id. With claim (a scan that writes): a
 * database seen for the first time adopts the rows recorded before schema version 2 when an unclaimed identity
 * exists (*adopted set; the first one to ask wins), else gets a new row. Without claim (a dry run, the daemon's
 * read-only gauges): *id 0 when the database is not known yet. 0, or -1 with e set. */
int pa_findings_database(PGconn *conn, const struct pa_db_server *s, bool claim, int *id, bool *adopted,
                         struct pa_err *e);
/* The store's only database (*id 0 when it knows none or several): the daemon's gauges at start while the scanned
 * database cannot be asked who it is. 0, or -1 with e set. */
int pa_findings_only_database(PGconn *conn, int *id, struct pa_err *e);

/* A surface in the store: its database (pa_findings_database) and its schema.table and column. Every statement on
 * findings, scan_cursors and scan_run_surfaces matches a surface by these three, written in one place in
 * findings.c (SURFACE_IS, key_params). */
struct pa_surface_key {
    int database_id;
    const char *table; /* schema.table */
    const char *column;
};

/* Start a scan run: marks runs left 'running' by a dead process as 'interrupted', inserts the new run and holds a
 * session advisory lock that proves this process is alive. *interrupted receives how many of the runs it marked
 * belonged to another process (killed or crashed; a run of this process cut by a lost connection was already
 * counted by its surfaces). Returns the run id or -1. */
long long pa_findings_begin_run(PGconn *conn, int database_id, const char *trigger, const char *mode,
                                int surfaces_total, int *interrupted, struct pa_err *e);

struct pa_run_totals {
    const char *status; /* ok | partial | failed | cancelled */
    const char *mode;
    int surfaces_failed;
    long long rows, bytes, new_findings, resolved_findings, invalid_documents, oversized_documents, retries;
    const char *error_class, *error_message; /* NULL when ok */
};
int pa_findings_finish_run(PGconn *conn, long long scan_id, const struct pa_run_totals *t, struct pa_err *e);

/* Cursor of a surface: what its scans have read (sql/003_change_detection.sql says what each field means). Strings
 * are malloc'd, NULL when not set; all NULL and 0 when the surface was never scanned. */
struct pa_cursor {
    char *last_id; /* the tail: every row up to it in key order was read (since the watermark) */
    char *id_column, *id_type;
    double last_full_scan_at; /* epoch seconds, 0 = never */
    long long oversized_rows; /* oversized rows met by the last complete full pass and the scans since */
    char *watermark;          /* xid8 as text */
    char *changed_watermark;  /* changed_column's value at the watermark (changed_column surfaces) */
    char *watermark_last_id, *tail_watermark, *watermark_kind;
    long long relation_oid;
    char *full_pos, *full_watermark, *full_fingerprint; /* a full pass in progress */
    long long full_scan_id;                             /* 0: none in progress */
};
int pa_findings_get_cursor(PGconn *conn, const struct pa_surface_key *k, struct pa_cursor *c, struct pa_err *e);
void pa_cursor_free(struct pa_cursor *c);

/* Per-surface advisory lock so two scanners never interleave on one surface of one database (a primary and its
 * standby are one database). 1 acquired, 0 busy, -1 error. */
int pa_findings_lock_surface(PGconn *conn, const struct pa_surface_key *k, struct pa_err *e);
void pa_findings_unlock_surface(PGconn *conn, const struct pa_surface_key *k);

int pa_findings_surface_start(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *mode,
                              struct pa_err *e);

/* Findings of one batch, accumulated as PostgreSQL array literals (no per-finding allocation); seen: the record ids
 * the batch read, when its findings are resolved per record (change detection's re-reads). */
struct pa_batch {
    struct pa_buf record_ids, paths, categories, detectors, rules, evidence;
    size_t n;
    struct pa_buf seen;
    size_t n_seen;
};
void pa_batch_init(struct pa_batch *b);
void pa_batch_reset(struct pa_batch *b);
void pa_batch_free(struct pa_batch *b);
/* The json_path stored for a finding: the path itself up to PA_FINDINGS_PATH_MAX bytes; a longer one (64 KB keys,
 * thousands of levels) is cut at a UTF-8 boundary and ends "...#" + 16 hex digits of a hash of the whole path, so
 * it stays unique and stable across scans and fits the findings_identity btree (whose entries are limited to
 * about 2.7 KB: a longer path would fail every batch holding it, for ever). Writes to out (NUL-terminated). */
#define PA_FINDINGS_PATH_MAX 1024
void pa_findings_store_path(struct pa_buf *out, const char *path, size_t len);
/* evidence: "key", "value", "key+value" or "context" (pa_evidence_name) */
void pa_batch_add(struct pa_batch *b, const char *record_id, size_t id_len, const char *path, size_t path_len,
                  const char *category, const char *detector, const char *rule, const char *evidence);
/* A record the batch read (pa_batch.seen). */
void pa_batch_add_seen(struct pa_batch *b, const char *record_id, size_t id_len);

/* Which position of the cursor a batch moves. */
enum pa_cursor_move {
    PA_MOVE_NONE, /* change detection's re-reads: nothing to resume (the watermark moves when the scan completes) */
    PA_MOVE_TAIL, /* last_id (rows past the tail); the first move past watermark_last_id records tail_watermark */
    PA_MOVE_FULL, /* full_pos of the full pass in progress, with the pass's scan id, watermark and fingerprint */
};

struct pa_batch_commit {
    long long scan_id;
    struct pa_surface_key key;
    const char *id_column, *id_type;
    enum pa_cursor_move move;
    const char *cursor;      /* the position moved to (NULL: none yet) */
    const char *watermark;   /* TAIL: the tail_watermark to record; FULL: the pass's watermark */
    long long full_scan_id;  /* FULL: the scan the pass began in */
    const char *fingerprint; /* FULL: the keyless pass's relations */
    long long rows, bytes, invalid_documents, truncated_records, reread;
    long long oversized; /* documents not fetched: added to the cursor's oversized_rows (a FULL move: to the
                              * pass's, which become oversized_rows when it completes) */
    long long retries;   /* batches read again before this one (recovery conflicts) */
};
/* One transaction: upsert the findings, resolve (reason gone) the open findings of the records the batch read
 * (b->seen) that it did not find again, move the cursor, add the counters. new_by_cat receives the findings that
 * were new, resolved_by_cat those resolved. On failure e->reason is connection_lost or findings_store. */
int pa_findings_commit_batch(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc,
                             struct pa_catcounts *new_by_cat, struct pa_catcounts *resolved_by_cat, struct pa_err *e);

/* The watermark a completed scan of a surface leaves (pa_findings_set_watermark, pa_findings_complete_full). */
struct pa_watermark_rec {
    const char *watermark, *changed_watermark, *kind;
    long long relation_oid;
    const char *last_id; /* complete_full: the pass's end, as last_id and watermark_last_id (NULL: empty) */
};

/* A scan read every row inserted or changed since the watermark (and past the tail): the new watermark, covering
 * the keys up to last_id; tail_watermark cleared. */
int pa_findings_set_watermark(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *id_column,
                              const char *id_type, const struct pa_watermark_rec *w, struct pa_err *e);

/* After a complete full pass (begun in scan pass_scan_id): resolve (reason full_scan) the surface's open findings not
 * seen since the pass began, record the full scan in the cursor (last_full_scan_*; oversized_rows: those the pass's
 * runs met; the pass's duration: the seconds every run since it began spent on the surface, into *seconds), end the
 * pass; with w, also the watermark the pass gives (it read every row older than its own watermark). */
int pa_findings_complete_full(PGconn *conn, long long scan_id, long long pass_scan_id, const struct pa_surface_key *k,
                              const char *id_column, const char *id_type, const struct pa_watermark_rec *w,
                              struct pa_catcounts *resolved_by_cat, double *seconds, struct pa_err *e);

/* Forget a full pass in progress (a new one starts, or what it was made on changed). */
int pa_findings_drop_full(PGconn *conn, const struct pa_surface_key *k, struct pa_err *e);

/* Up to limit distinct record ids of the surface's open findings after `after` (NULL: from the start), in text
 * order, into a text array literal (*n of them; *last receives the last, malloc'd). For the check of deleted
 * records. A keyless surface's ctid: ids are left out (only its full reads resolve them). */
int pa_findings_open_records(PGconn *conn, const struct pa_surface_key *k, const char *after, int limit,
                             struct pa_buf *ids, int *n, char **last, struct pa_err *e);
/* Resolve (reason deleted) the surface's open findings of these records (a text array literal), which no longer
 * exist. */
int pa_findings_resolve_deleted(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *ids,
                                struct pa_catcounts *resolved_by_cat, struct pa_err *e);

struct pa_surface_outcome {
    const char *status; /* ok | failed | cancelled */
    const char *mode;   /* full | incremental */
    long long new_findings, resolved_findings;
    long long retries; /* batches of the surface read again in this run (failed ones included) */
    const char *error_class, *error_message;
};
int pa_findings_surface_finish(PGconn *conn, long long scan_id, const struct pa_surface_key *k,
                               const struct pa_surface_outcome *o, struct pa_err *e);

/* Open findings of a surface by category. */
int pa_findings_open_counts(PGconn *conn, const struct pa_surface_key *k, struct pa_catcounts *out, struct pa_err *e);

/* State for the daemon's gauges, read back from the store (after a restart, before the first new scan completes),
 * of one database (database_id; 0: not known yet, nothing is read): cb is called with kind "open" (table, column,
 * category, open findings), "records" (table, column, NULL, distinct records with open findings), "full_scan"
 * (table, column, NULL, epoch seconds of the last full scan), "oversized" (table, column, NULL, oversized rows not
 * read since the last full scan) and "last_new" (NULLs, new findings of the last finished scan run).
 * *last_success receives the end of the last scan run with status ok (epoch seconds, 0 = none). */
typedef void (*pa_findings_state_cb)(void *arg, const char *kind, const char *table, const char *column,
                                     const char *category, double value);
int pa_findings_load_state(PGconn *conn, int database_id, pa_findings_state_cb cb, void *arg, double *last_success,
                           struct pa_err *e);

/* The duration of each surface's last complete full scan (seconds: the time the surface's scans spent on the pass,
 * summed over the runs of a pass that resumed; for a pass ended before schema version 3, from the start of the
 * surface in its run to its outcome), of one database: cb with kind "full_duration" (table, column, NULL, seconds)
 * once per surface that has one. For the daemon's pii_audit_surface_full_scan_duration_seconds at start (a restart keeps the stuck-scan
 * threshold). 0, or -1 with e set. */
int pa_findings_load_full_durations(PGconn *conn, int database_id, pa_findings_state_cb cb, void *arg,
                                    struct pa_err *e);

#endif
