/* triage: the findings store as people work on it (pii-auditd findings list|show|ack|resolve): filtered lists,
 * one finding with its history, acknowledging (still open: someone owns it) and resolving by hand (resolved_reason
 * 'manual', who and why). Queries only pii_audit.*, never a scanned table; never stores or returns a value (the
 * store has none: paths, categories, rules, record ids, people's words).
 *
 * Status, as the CLI names it, is a partition: open (not resolved, not acknowledged), acknowledged (not resolved,
 * acknowledged), resolved. pii_audit_findings, --scan-once's exit status and the daemon's gauges count open and
 * acknowledged findings alike as open. */
#ifndef PA_TRIAGE_H
#define PA_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "err.h"
#include "tabular.h"

enum {
    PA_STATUS_OPEN = 1,
    PA_STATUS_ACKNOWLEDGED = 2,
    PA_STATUS_RESOLVED = 4,
    PA_STATUS_ALL = 7,
};

struct pa_triage_filter {
    const char *const *surfaces; /* "schema.table.column"; none: every surface */
    size_t n_surfaces;
    const char *const *databases; /* scanned databases' names (pii_audit.databases); none: every database */
    size_t n_databases;
    const char *const *categories; /* none: every category */
    size_t n_categories;
    double since;    /* first seen at or after (epoch seconds); 0: any time */
    unsigned status; /* PA_STATUS_* bits, at least one */
    long long limit; /* rows at most; 0: no limit */
};

/* The fields of a finding, in the order of the rows pa_triage_list and pa_triage_show return: the JSON members and
 * CSV header of docs/cli.md (a public interface: add, never rename), and the text table's columns. */
extern const struct pa_tab_col pa_triage_cols[];
extern const size_t pa_triage_ncols;

/* The findings that pass the filter, newest first (first seen, then id), at most limit + 1 rows (so the caller can
 * tell that more match). NULL with e set on failure. The caller clears the result. */
PGresult *pa_triage_list(PGconn *conn, const struct pa_triage_filter *f, struct pa_err *e);
/* Finding id (0 or 1 row). */
PGresult *pa_triage_show(PGconn *conn, long long id, struct pa_err *e);

/* Acknowledge (ack) or resolve by hand the findings ids[0..n): as `by`, because of `note`. Returns a result with
 * one row per distinct id, in order: (id, outcome), outcome "done", "missing" (no such finding) or "resolved" (it
 * is resolved already: nothing to acknowledge or resolve). Acknowledging an acknowledged finding records the new
 * who, why and when. NULL with e set on failure (nothing changed). */
PGresult *pa_triage_ack(PGconn *conn, const long long *ids, size_t n, const char *by, const char *note,
                        struct pa_err *e);
PGresult *pa_triage_resolve(PGconn *conn, const long long *ids, size_t n, const char *by, const char *note,
                            struct pa_err *e);

/* The rows of a result (its columns in pa_triage_cols' order) into t, at most max rows (0: all). */
void pa_triage_rows(struct pa_tab *t, const PGresult *r, size_t max);

#endif
