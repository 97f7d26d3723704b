/* allowlist: the allowlist kept in the findings database (pii_audit.allowlist, sql/004_findings_workflow.sql): JSON
 * path patterns of a surface that scans never report, each with an optional category and who, why and when. Scans
 * load it when they start and hand each surface's entries to the detector (pa_detect_ctx_set_allow), the same
 * matching as detectors.allow_paths; `pii-auditd allow add|list|remove` edits it (the operators' role, grants.h).
 * Never stores or prints a scanned value: entries are surfaces, path patterns, categories and people's words. */
#ifndef PA_ALLOWLIST_H
#define PA_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "detect.h"
#include "err.h"

struct pa_allowlist_entry {
    long long id;
    char *table; /* schema.table */
    char *column;
    char *path;     /* the pattern: "$.items[*].email" */
    char *category; /* NULL: every category */
};

/* The whole allowlist, sorted by (table, column), so a surface's entries are contiguous; det[i] is v[i] as the
 * detector takes it. */
struct pa_allowlist {
    struct pa_allowlist_entry *v;
    struct pa_detect_allow *det;
    size_t n;
};

/* Load every entry (one short query on the findings store). 0, or -1 with e set (out is then empty). */
int pa_allowlist_load(PGconn *conn, struct pa_allowlist *out, struct pa_err *e);
/* The entries of one surface, as the detector takes them: *n of them from the returned pointer (NULL when none).
 * Valid as long as a is. */
const struct pa_detect_allow *pa_allowlist_for(const struct pa_allowlist *a, const char *table, const char *column,
                                               size_t *n);
void pa_allowlist_free(struct pa_allowlist *a);

/* allow add: a new entry (category NULL = every category). Adding an entry that exists (same surface, path and
 * category) changes nothing: *existed is set and *id receives the existing entry's. 0, or -1 with e set. */
int pa_allowlist_add(PGconn *conn, const char *table, const char *column, const char *path, const char *category,
                     const char *by, const char *reason, long long *id, bool *existed, struct pa_err *e);
/* The open (unresolved) findings entry id covers: with resolve, they are resolved in one statement
 * (resolved_reason 'allowlist', resolved_by by, resolved_note "allowlist entry ID: reason"); without, only counted.
 * *count receives how many. 0, or -1 with e set. */
int pa_allowlist_cover(PGconn *conn, long long id, bool resolve, const char *by, long long *count, struct pa_err *e);
/* allow remove: delete entry id. *found says whether it existed. 0, or -1 with e set. */
int pa_allowlist_remove(PGconn *conn, long long id, bool *found, struct pa_err *e);
/* allow list: the entries (of the surfaces given as "schema.table.column", all when n_surfaces is 0), oldest first,
 * as a result with the columns id, surface, table, column, json_path, category, created_at, created_by, reason and
 * covers_open (the open findings each entry covers). NULL with e set on failure. The caller clears it. */
PGresult *pa_allowlist_query(PGconn *conn, const char *const *surfaces, size_t n_surfaces, struct pa_err *e);

#endif
