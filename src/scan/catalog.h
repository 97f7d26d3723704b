/* scan/catalog: the scan's questions to the scanned database's catalog (internal to src/scan/). Whether a surface
 * can be read completely (table, column and type, key, grants, row-level security, NULL ids), the quoted names, key
 * and order the batch SQL is written with, the bounds of a range in that SQL, the relations (partitions, children)
 * a surface's rows live in, the watermark a scan starts from, which findings' records no longer exist, and the split
 * points of a surface into ranges. Never reads a document: catalog, statistics, keys, system columns and index-only
 * min/max. */
#ifndef PA_SCAN_CATALOG_H
#define PA_SCAN_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"
#include "detect.h"
#include "err.h"
#include "util.h"

/* How a surface's rows are identified. */
enum surface_key {
    KEY_SINGLE,    /* one column (primary key, or id_column): record id = its text */
    KEY_COMPOSITE, /* several columns (a composite primary key, a partitioned table's): record id = a text array */
    KEY_CTID,      /* keyless: ctid (row location), record id "ctid:(b,o)", read whole at every scan */
};

/* An order of rows for keyset batches: columns of row `t`, compared as a row. A position is a row's text: one
 * column's text, or the text array literal of the columns' texts ({1,2024-06-01}). */
struct pa_order {
    size_t n;
    char **exprs; /* "t.\"id\"" */
    char **types; /* format_type() of each */
};
void pa_order_free(struct pa_order *o);

/* A checked surface, as the readers' SQL needs it. */
struct surface_info {
    char *qtable; /* quoted "schema"."table" */
    char *qcol;   /* quoted column */
    enum surface_key key;
    struct pa_order key_order; /* the key's columns (none for KEY_CTID) */
    char **key_names;          /* unquoted, for messages */
    char *rec_expr;            /* SQL: the record id of row t, as text */
    char *id_column;           /* as scan_cursors keeps it: the name; a composite key's quoted names; "ctid" */
    char *id_type;             /* as scan_cursors keeps it: the type; a composite key's types; "tid" */
    char *qchanged;            /* changed_column, quoted; NULL: transaction ids (xmin) */
    char *changed_type;        /* its type: timestamptz, timestamp or date */
    enum pa_doc_kind kind;
    long long estimate; /* pg_class.reltuples */
    char oid[16];
    bool has_children; /* partitioned, or inheritance children: rows in other relations */
};

void pa_catalog_info_free(struct surface_info *si);

/* Check a surface before reading it; fills si, or returns -1 with e saying what is wrong and what to do (reason
 * missing, unsupported_type, no_unique_id, null_id, permission, rls, or the query's own failure). */
int pa_catalog_check(PGconn *conn, const struct pa_surface *s, struct surface_info *si, struct pa_err *e);

/* A WHERE clause being written: each condition adds " WHERE " first, " AND " after. */
struct pa_where {
    struct pa_buf *sql;
    bool any;
};
void pa_where_and(struct pa_where *w);

/* A row's position in order o (SQL, text) appended to sql. */
void pa_order_pos_expr(const struct pa_order *o, struct pa_buf *sql);
/* "t.a, t.b" */
void pa_order_by(const struct pa_order *o, struct pa_buf *sql);
/* "(order) op position" appended to sql (pos quoted as a literal); -1 when it cannot be quoted (connection gone). */
int pa_order_cmp(PGconn *conn, const struct pa_order *o, struct pa_buf *sql, const char *op, const char *pos);
/* Keyset bounds: "order > lo" and "order <= hi" (either optional; NULL = open) as conditions of w. -1 as above. */
int pa_catalog_append_bounds(PGconn *conn, const struct pa_order *o, struct pa_where *w, const char *lo,
                             const char *hi);
/* Block bounds of a range of row locations [lo, hi) (block numbers), as a condition of w. */
void pa_catalog_append_blocks(struct pa_where *w, const char *lo, const char *hi);

/* The transaction ids and time a scan of a surface starts from, read on the scanned database before its first
 * batch: xid = pg_snapshot_xmin (every older transaction had ended), next = pg_snapshot_xmax, both 64-bit (xid8);
 * changed = now() in changed_column's type, with a changed_column. */
struct pa_watermark {
    unsigned long long xid, next;
    char changed[64];
};
int pa_catalog_watermark(PGconn *conn, const struct surface_info *si, struct pa_watermark *w, struct pa_err *e);
/* The SQL predicate "the xid expr (a row's xmin) is in [from, ref)", where ref is the statement's next xid (age()'s
 * reference, stable within it: every row version the statement can see is older), over the 32-bit xids rows carry:
 * both ages modulo 2^32, so the window must stay below 2^31 (the caller checks from against the scan's next xid). An
 * xid older than from by a multiple of 2^32 (a frozen row after 4 billion transactions: frozen rows keep their raw
 * xmin) reads as new: a harmless re-read, never a miss; the special xids (bootstrap, frozen before 9.4) are old. age()
 * is an integer subtraction: cheaper per row than the xid's text. Caller frees. */
char *pa_catalog_xid_window(const char *expr, unsigned long long from);

/* The relations a surface's rows are stored in: the table itself, or the leaf partitions and inheritance children
 * (enumerated at every scan), with their size and file. A relation is new when the link that made it part of the
 * surface (pg_inherits, at any level) was written by a transaction in the window `attached` (an xid window
 * predicate on the link's "xmin", or NULL: none is new): its rows may be older than the watermark. */
struct pa_rel {
    char oid[16];
    char filenode[16];
    long long blocks;
    bool is_new;
    char *constraint; /* the partition constraint of a partition (SQL on t's columns), else NULL */
};
struct pa_rels {
    struct pa_rel *v;
    size_t n;
    long long max_blocks;  /* of the relations that are not new */
    double rows_per_block; /* from the statistics; 0 when unknown */
    char fingerprint[33];  /* md5 of every relation's oid and file */
};
int pa_catalog_relations(PGconn *conn, const struct surface_info *si, const char *attached, struct pa_rels *out,
                         struct pa_err *e);
void pa_catalog_rels_free(struct pa_rels *r);
/* Whether every relation of r that still exists keeps its file (no VACUUM FULL, CLUSTER, TRUNCATE or rewrite since
 * r was read: block numbers still mean the same rows). 1 yes, 0 no, -1 with e set. */
int pa_catalog_rels_unchanged(PGconn *conn, const struct pa_rels *r, struct pa_err *e);

/* Of the record ids in ids (a text array literal), those whose row no longer exists, as a PGresult of one text
 * column (caller clears), or NULL with e set. */
PGresult *pa_catalog_missing_records(PGconn *conn, const struct surface_info *si, const char *ids, struct pa_err *e);

/* How many rows have a key after `after` in key order (NULL: all rows), into *n: an index-only count (the document
 * is not read), bounded by statement_timeout. 0, or -1 when the count failed or the surface is keyless. */
int pa_catalog_count_after(PGconn *conn, const struct surface_info *si, const char *after, long long *n);

/* Split points for n readers, strictly increasing in the id's order, into pts (at most n - 1, malloc'd; *np set).
 * Any failure here only means fewer readers. Single-column keys only. */
void pa_catalog_split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si, const char *after,
                             size_t n, char **pts, size_t *np);

/* The integer split points between lo and hi (both included in the range) for n readers: at most n - 1, strictly
 * increasing, each > lo - 1 and < hi. Pure. Returns how many were written to out. */
size_t pa_catalog_int_splits(long long lo, long long hi, size_t n, long long *out);

#endif
