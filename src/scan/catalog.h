/* scan/catalog: the scan's questions to the scanned database's catalog (internal to src/scan/). Whether a surface
 * can be read completely (table, column and type, id column, grants, row-level security), the quoted names and id
 * type the batch SQL is written with, the id range bounds in that SQL, and the split points of a surface into
 * ranges. Never reads a row of a surface: catalog, statistics and index-only min/max. */
#ifndef PA_SCAN_CATALOG_H
#define PA_SCAN_CATALOG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"
#include "detect.h"
#include "err.h"
#include "util.h"

/* A checked surface, as the readers' SQL needs it. */
struct surface_info {
    char *qtable;   /* quoted "schema"."table" */
    char *qcol;     /* quoted column */
    char *qid;      /* quoted id column */
    char *id_column;
    char *id_type;  /* format_type() of the id column: ids compare in their own type */
    enum pa_doc_kind kind;
    long long estimate; /* pg_class.reltuples */
};

void pa_catalog_info_free(struct surface_info *si);

/* Check a surface before reading it; fills si, or returns -1 with e saying what is wrong and what to do (reason
 * missing, unsupported_type, no_unique_id, permission, rls, or the query's own failure). */
int pa_catalog_check(PGconn *conn, const struct pa_surface *s, struct surface_info *si, struct pa_err *e);

/* " WHERE id > lo AND id <= hi" (either part optional; NULL = open) appended to sql; -1 when a literal cannot be
 * quoted (the connection is gone). */
int pa_catalog_append_bounds(PGconn *conn, const struct surface_info *si, struct pa_buf *sql, const char *lo,
                             const char *hi);

/* How many rows have an id after `after` (NULL: all rows), into *n: an index-only count (the document is not
 * read), bounded by statement_timeout. 0, or -1 when the count failed. */
int pa_catalog_count_after(PGconn *conn, const struct surface_info *si, const char *after, long long *n);

/* Split points for n readers, strictly increasing in the id's order, into pts (at most n - 1, malloc'd; *np set).
 * Any failure here only means fewer readers. */
void pa_catalog_split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si,
                             const char *after, size_t n, char **pts, size_t *np);

/* The integer split points between lo and hi (both included in the range) for n readers: at most n - 1, strictly
 * increasing, each > lo - 1 and < hi. Pure. Returns how many were written to out. */
size_t pa_catalog_int_splits(long long lo, long long hi, size_t n, long long *out);

#endif
