/* allowlist: see allowlist.h. The store side of the allowlist; what an entry covers is decided by
 * pii_audit.allow_path_regex() in SQL (the same language as the scanner's matcher, src/detect/detect.c) so that
 * counting and resolving what an entry covers is one statement, whatever the number of findings. Never prints. */
#include "allowlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

static char *dup_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : pa_xstrdup(PQgetvalue(r, row, col));
}

int pa_allowlist_load(PGconn *conn, struct pa_allowlist *out, struct pa_err *e)
{
    memset(out, 0, sizeof *out);
    /* ORDER BY with COLLATE "C": pa_allowlist_for looks entries up with strcmp */
    PGresult *r = pa_db_exec(conn,
                             "SELECT id, table_name, column_name, json_path, category FROM pii_audit.allowlist"
                             " ORDER BY table_name COLLATE \"C\", column_name COLLATE \"C\", id",
                             0, NULL, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    size_t n = (size_t)PQntuples(r);
    out->v = pa_xcalloc(n ? n : 1, sizeof *out->v);
    out->det = pa_xcalloc(n ? n : 1, sizeof *out->det);
    for (size_t i = 0; i < n; i++) {
        struct pa_allowlist_entry *a = &out->v[i];
        a->id = atoll(PQgetvalue(r, (int)i, 0));
        a->table = pa_xstrdup(PQgetvalue(r, (int)i, 1));
        a->column = pa_xstrdup(PQgetvalue(r, (int)i, 2));
        a->path = pa_xstrdup(PQgetvalue(r, (int)i, 3));
        a->category = dup_or_null(r, (int)i, 4);
        out->det[i] = (struct pa_detect_allow){a->path, a->category};
    }
    out->n = n;
    PQclear(r);
    return 0;
}

const struct pa_detect_allow *pa_allowlist_for(const struct pa_allowlist *a, const char *table, const char *column,
                                               size_t *n)
{
    *n = 0;
    size_t first = 0;
    while (first < a->n && (strcmp(a->v[first].table, table) != 0 || strcmp(a->v[first].column, column) != 0))
        first++;
    size_t k = first;
    while (k < a->n && strcmp(a->v[k].table, table) == 0 && strcmp(a->v[k].column, column) == 0)
        k++;
    *n = k - first;
    return *n ? &a->det[first] : NULL;
}

void pa_allowlist_free(struct pa_allowlist *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].table);
        free(a->v[i].column);
        free(a->v[i].path);
        free(a->v[i].category);
    }
    free(a->v);
    free(a->det);
    memset(a, 0, sizeof *a);
}

int pa_allowlist_add(PGconn *conn, const char *table, const char *column, const char *path, const char *category,
                     const char *by, const char *reason, long long *id, bool *existed, struct pa_err *e)
{
    const char *p[] = {table, column, path, category, by, reason};
    /* ON CONFLICT DO NOTHING returns no row for an entry that exists: the second branch finds it */
    PGresult *r = pa_db_exec(conn,
                             "WITH ins AS (INSERT INTO pii_audit.allowlist (table_name, column_name, json_path,"
                             "   category, created_by, reason) VALUES ($1, $2, $3, $4, $5, $6)"
                             "   ON CONFLICT ON CONSTRAINT allowlist_identity DO NOTHING RETURNING id)"
                             " SELECT id, false FROM ins"
                             " UNION ALL SELECT id, true FROM pii_audit.allowlist WHERE NOT EXISTS (SELECT FROM ins)"
                             "   AND table_name = $1 AND column_name = $2 AND json_path = $3"
                             "   AND category IS NOT DISTINCT FROM $4",
                             6, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    int rc = 0;
    if (PQntuples(r) != 1) {
        rc = pa_err_set(e, PA_FAIL_QUERY, "the allowlist entry was neither added nor found (a concurrent remove?)");
    } else {
        *id = atoll(PQgetvalue(r, 0, 0));
        *existed = PQgetvalue(r, 0, 1)[0] == 't';
    }
    PQclear(r);
    return rc;
}

/* The open findings entry $1 covers: same surface, the path matching its pattern, its category when it has one. */
#define COVERED_BY_ENTRY                                                                                               \
    " FROM pii_audit.allowlist a JOIN pii_audit.findings f ON f.table_name = a.table_name"                             \
    "   AND f.column_name = a.column_name AND f.resolved_at IS NULL"                                                   \
    "   AND (a.category IS NULL OR f.category = a.category)"                                                           \
    "   AND f.json_path ~ pii_audit.allow_path_regex(a.json_path)"                                                     \
    " WHERE a.id = $1"

int pa_allowlist_cover(PGconn *conn, long long id, bool resolve, const char *by, long long *count, struct pa_err *e)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids, by};
    PGresult *r =
        resolve
            ? pa_db_exec(
                  conn,
                  "WITH c AS (SELECT f.id, 'allowlist entry ' || a.id || ': ' || a.reason AS note" COVERED_BY_ENTRY "),"
                  " res AS (UPDATE pii_audit.findings f SET resolved_at = now(),"
                  "   resolved_scan_id = NULL, resolved_reason = 'allowlist',"
                  "   resolved_by = $2, resolved_note = c.note"
                  "   FROM c WHERE f.id = c.id AND f.resolved_at IS NULL RETURNING 1)"
                  " SELECT count(*) FROM res",
                  2, p, PGRES_TUPLES_OK, e)
            : pa_db_exec(conn, "SELECT count(*)" COVERED_BY_ENTRY, 1, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    *count = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int pa_allowlist_remove(PGconn *conn, long long id, bool *found, struct pa_err *e)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    PGresult *r = pa_db_exec(conn, "DELETE FROM pii_audit.allowlist WHERE id = $1 RETURNING id", 1, p, PGRES_TUPLES_OK,
                             e);
    if (!r)
        return -1;
    *found = PQntuples(r) == 1;
    PQclear(r);
    return 0;
}

PGresult *pa_allowlist_query(PGconn *conn, const char *const *surfaces, size_t n_surfaces, struct pa_err *e)
{
    struct pa_buf list;
    pa_buf_init(&list);
    pa_buf_append_json_list(&list, surfaces, n_surfaces);
    const char *p[] = {n_surfaces ? list.data : NULL};
    PGresult *r = pa_db_exec(
        conn,
        "SELECT a.id, a.table_name || '.' || a.column_name AS surface, a.table_name, a.column_name, a.json_path,"
        "   a.category, to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,"
        "   a.created_by, a.reason,"
        "   (SELECT count(*) FROM pii_audit.findings f WHERE f.table_name = a.table_name"
        "     AND f.column_name = a.column_name AND f.resolved_at IS NULL"
        "     AND (a.category IS NULL OR f.category = a.category)"
        "     AND f.json_path ~ pii_audit.allow_path_regex(a.json_path)) AS covers_open"
        " FROM pii_audit.allowlist a"
        " WHERE $1::jsonb IS NULL"
        "    OR a.table_name || '.' || a.column_name IN (SELECT jsonb_array_elements_text($1::jsonb))"
        " ORDER BY a.id",
        1, p, PGRES_TUPLES_OK, e);
    pa_buf_free(&list);
    return r;
}
