/* triage: see triage.h. Every statement reads or writes pii_audit.findings only, with parameters (never text
 * pasted into SQL but the fixed column list), so a surface or a reason cannot change what a statement does. */
#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

const struct pa_tab_col pa_triage_cols[] = {
    {"id", "ID", PA_TAB_NUMBER},
    {"status", "STATUS", PA_TAB_STRING},
    {"surface", "SURFACE", PA_TAB_STRING},
    {"table", NULL, PA_TAB_STRING},
    {"column", NULL, PA_TAB_STRING},
    {"record_id", "RECORD", PA_TAB_STRING},
    {"json_path", "PATH", PA_TAB_STRING},
    {"category", "CATEGORY", PA_TAB_STRING},
    {"detector", NULL, PA_TAB_STRING},
    {"rule", NULL, PA_TAB_STRING},
    {"first_seen_at", "FIRST SEEN", PA_TAB_STRING},
    {"last_seen_at", "LAST SEEN", PA_TAB_STRING},
    {"first_scan_id", NULL, PA_TAB_NUMBER},
    {"last_scan_id", NULL, PA_TAB_NUMBER},
    {"acknowledged_at", NULL, PA_TAB_STRING},
    {"acknowledged_by", NULL, PA_TAB_STRING},
    {"acknowledged_note", NULL, PA_TAB_STRING},
    {"resolved_at", NULL, PA_TAB_STRING},
    {"resolved_scan_id", NULL, PA_TAB_NUMBER},
    {"resolved_reason", NULL, PA_TAB_STRING},
    {"resolved_by", NULL, PA_TAB_STRING},
    {"resolved_note", NULL, PA_TAB_STRING},
    {"database", NULL, PA_TAB_STRING}, /* the scanned database's name (one findings database serves a fleet) */
    {"evidence", NULL, PA_TAB_STRING}, /* key | value | key+value | context; null: recorded before version 5 */
};
const size_t pa_triage_ncols = PA_ARRAY_LEN(pa_triage_cols);

#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The columns of pa_triage_cols, from pii_audit.findings f. A resolved finding without a reason was resolved by a
 * full scan before the reasons were recorded. */
#define FINDING_COLUMNS                                                                                                                  \
    "SELECT f.id, CASE WHEN f.resolved_at IS NOT NULL THEN 'resolved'"                                                                   \
    "   WHEN f.acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'open' END,"                                                         \
    " f.table_name || '.' || f.column_name, f.table_name, f.column_name, f.record_id, f.json_path, f.category,"                          \
    " f.detector, f.rule, " UTC("f.first_seen_at") ", " UTC(                                                                             \
        "f.last_seen_at") ", f.first_scan_id, f.last_scan_id,"                                                                           \
                          " " UTC("f.acknowledged_at") ", f.acknowledged_by, f.acknowledged_note, " UTC(                                 \
                              "f.resolved_at") ","                                                                                       \
                                               " f.resolved_scan_id,"                                                                    \
                                               " CASE WHEN f.resolved_at IS NOT NULL THEN coalesce(f.resolved_reason, 'full_scan') END," \
                                               " f.resolved_by, f.resolved_note, d.database_name, f.evidence"                            \
                                               " FROM pii_audit.findings f LEFT JOIN pii_audit.databases d ON d.id = f.database_id"

PGresult *pa_triage_list(PGconn *conn, const struct pa_triage_filter *f, struct pa_err *e)
{
    struct pa_buf surfaces, categories, databases;
    pa_buf_init(&surfaces);
    pa_buf_init(&categories);
    pa_buf_init(&databases);
    pa_buf_append_json_list(&surfaces, f->surfaces, f->n_surfaces);
    pa_buf_append_json_list(&databases, f->databases, f->n_databases);
    pa_buf_append_json_list(&categories, f->categories, f->n_categories);
    char since[64], limit[32], st[3][2];
    snprintf(since, sizeof since, "%.3f", f->since);
    snprintf(limit, sizeof limit, "%lld", f->limit > 0 ? f->limit + 1 : 0);
    for (int i = 0; i < 3; i++)
        snprintf(st[i], sizeof st[i], "%c", (f->status >> i) & 1 ? 't' : 'f');
    const char *p[] = {f->n_surfaces ? surfaces.data : NULL,
                       f->n_categories ? categories.data : NULL,
                       f->since > 0 ? since : NULL,
                       st[0],
                       st[1],
                       st[2],
                       f->limit > 0 ? limit : NULL,
                       f->n_databases ? databases.data : NULL};
    PGresult *r = pa_db_exec(
        conn,
        FINDING_COLUMNS " WHERE ($1::jsonb IS NULL OR f.table_name || '.' || f.column_name IN"
                        "        (SELECT jsonb_array_elements_text($1::jsonb)))"
                        "   AND ($2::jsonb IS NULL OR f.category IN (SELECT jsonb_array_elements_text($2::jsonb)))"
                        "   AND ($3::float8 IS NULL OR f.first_seen_at >= to_timestamp($3::float8))"
                        "   AND (($4::bool AND f.resolved_at IS NULL AND f.acknowledged_at IS NULL)"
                        "     OR ($5::bool AND f.resolved_at IS NULL AND f.acknowledged_at IS NOT NULL)"
                        "     OR ($6::bool AND f.resolved_at IS NOT NULL))"
                        "   AND ($8::jsonb IS NULL OR d.database_name IN (SELECT jsonb_array_elements_text($8::jsonb)))"
                        " ORDER BY f.first_seen_at DESC, f.id DESC LIMIT $7::bigint",
        8, p, PGRES_TUPLES_OK, e);
    pa_buf_free(&surfaces);
    pa_buf_free(&databases);
    pa_buf_free(&categories);
    return r;
}

PGresult *pa_triage_show(PGconn *conn, long long id, struct pa_err *e)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    return pa_db_exec(conn, FINDING_COLUMNS " WHERE f.id = $1::bigint", 1, p, PGRES_TUPLES_OK, e);
}

/* ids as a PostgreSQL array literal: digits and commas only. */
static void id_array(struct pa_buf *b, const long long *ids, size_t n)
{
    pa_buf_appendc(b, '{');
    for (size_t i = 0; i < n; i++)
        pa_buf_printf(b, "%s%lld", i ? "," : "", ids[i]);
    pa_buf_appendc(b, '}');
}

/* One statement: the update of the unresolved findings among ids ($1), and each id's outcome. */
static PGresult *update_each(PGconn *conn, const char *set, const long long *ids, size_t n, const char *by,
                             const char *note, struct pa_err *e)
{
    struct pa_buf arr, sql;
    pa_buf_init(&arr);
    pa_buf_init(&sql);
    id_array(&arr, ids, n);
    pa_buf_printf(&sql,
                  "WITH req AS (SELECT DISTINCT unnest($1::bigint[]) AS id),"
                  " upd AS (UPDATE pii_audit.findings f SET %s FROM req"
                  "   WHERE f.id = req.id AND f.resolved_at IS NULL RETURNING f.id)"
                  " SELECT req.id, CASE WHEN upd.id IS NOT NULL THEN 'done' WHEN f.id IS NULL THEN 'missing'"
                  "   ELSE 'resolved' END"
                  " FROM req LEFT JOIN upd ON upd.id = req.id LEFT JOIN pii_audit.findings f ON f.id = req.id"
                  " ORDER BY req.id",
                  set);
    const char *p[] = {arr.data, by, note};
    PGresult *r = pa_db_exec(conn, sql.data, 3, p, PGRES_TUPLES_OK, e);
    pa_buf_free(&arr);
    pa_buf_free(&sql);
    return r;
}

PGresult *pa_triage_ack(PGconn *conn, const long long *ids, size_t n, const char *by, const char *note,
                        struct pa_err *e)
{
    return update_each(conn, "acknowledged_at = now(), acknowledged_by = $2, acknowledged_note = $3", ids, n, by, note,
                       e);
}

PGresult *pa_triage_resolve(PGconn *conn, const long long *ids, size_t n, const char *by, const char *note,
                            struct pa_err *e)
{
    return update_each(conn,
                       "resolved_at = now(), resolved_scan_id = NULL, resolved_reason = 'manual',"
                       " resolved_by = $2, resolved_note = $3",
                       ids, n, by, note, e);
}

void pa_triage_rows(struct pa_tab *t, const PGresult *r, size_t max)
{
    size_t rows = (size_t)PQntuples(r);
    if (max && rows > max)
        rows = max;
    const char **cells = pa_xcalloc(t->ncols, sizeof *cells);
    for (size_t i = 0; i < rows; i++) {
        for (size_t c = 0; c < t->ncols && c < (size_t)PQnfields(r); c++)
            cells[c] = PQgetisnull(r, (int)i, (int)c) ? NULL : PQgetvalue(r, (int)i, (int)c);
        pa_tab_add_row(t, cells);
    }
    free(cells);
}
