/* htmlreport_db: the report's queries on the findings store (see htmlreport.h). Reads pii_audit.* only, on a
 * read-only session, with the surface filter as a parameter; a handful of aggregate statements whatever the number
 * of findings (the trend is two GROUP BYs and a count, accumulated here). Never a value: the store has none. */
#include "htmlreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowlist.h"
#include "config.h"
#include "db.h"
#include "triage.h"

#define ACK_LIST_MAX 200

/* "f" filtered to the report's surfaces ($1, a JSON list or NULL). */
#define SURFACES_OK(f)                                                                                                 \
    "($1::jsonb IS NULL OR " f ".table_name || '.' || " f                                                              \
    ".column_name IN (SELECT jsonb_array_elements_text($1::jsonb)))"
#define UTC(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void utc_text(double t, char *out, size_t cap)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static long long ll(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : atoll(PQgetvalue(r, row, col));
}

/* Run sql with the report's parameters, all given as text so that a statement may leave some unused: $1 the
 * surfaces (a JSON list, or NULL for all), $2 the window's start (epoch seconds), $3 the configured surfaces (a JSON
 * list, or NULL without a configuration). */
static PGresult *q(PGconn *conn, const char *const *p, const char *sql, struct pa_err *e)
{
    static const Oid text[3] = {25, 25, 25};
    PGresult *r = PQexecParams(conn, sql, 3, text, p, NULL, NULL, 0);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    pa_db_classify(conn, r, e);
    PQclear(r);
    return NULL;
}

static int summary(PGconn *conn, const char *const *p, struct pa_hr_data *d, struct pa_err *e)
{
    PGresult *r = q(conn, p,
                    "SELECT count(*) FILTER (WHERE f.resolved_at IS NULL),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.acknowledged_at IS NOT NULL),"
                    " count(DISTINCT (f.table_name, f.column_name, f.record_id)) FILTER (WHERE f.resolved_at IS NULL),"
                    " count(DISTINCT (f.table_name, f.column_name)) FILTER (WHERE f.resolved_at IS NULL),"
                    " count(*) FILTER (WHERE f.first_seen_at >= to_timestamp($2::float8)),"
                    " count(*) FILTER (WHERE f.resolved_at >= to_timestamp($2::float8)),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.first_seen_at > now() - interval '1 day'),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.first_seen_at <= now() - interval '1 day'"
                    "   AND f.first_seen_at > now() - interval '7 days'),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.first_seen_at <= now() - interval '7 days'"
                    "   AND f.first_seen_at > now() - interval '30 days'),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.first_seen_at <= now() - interval '30 days'"
                    "   AND f.first_seen_at > now() - interval '90 days'),"
                    " count(*) FILTER (WHERE f.resolved_at IS NULL AND f.first_seen_at <= now() - interval '90 days'),"
                    " current_database()"
                    " FROM pii_audit.findings f WHERE " SURFACES_OK("f"),
                    e);
    if (!r)
        return -1;
    d->open = ll(r, 0, 0);
    d->acknowledged = ll(r, 0, 1);
    d->records = ll(r, 0, 2);
    d->surfaces_affected = ll(r, 0, 3);
    d->opened_window = ll(r, 0, 4);
    d->resolved_window = ll(r, 0, 5);
    for (int i = 0; i < PA_HR_AGE_BUCKETS; i++)
        d->age[i] = ll(r, 0, 6 + i);
    d->database = pa_xstrdup(PQgetvalue(r, 0, 11));
    PQclear(r);
    return 0;
}

/* Days from the window's first to today (UTC): opened and resolved each day, and open at each day's end (the open
 * at the window's start plus what each day added and took away). */
static int trend(PGconn *conn, const char *const *p, struct pa_hr_data *d, struct pa_err *e)
{
    PGresult *r = q(
        conn, p,
        "WITH days AS (SELECT generate_series((to_timestamp($2::float8) AT TIME ZONE 'UTC')::date,"
        "   (now() AT TIME ZONE 'UTC')::date, interval '1 day')::date AS d),"
        " o AS (SELECT (f.first_seen_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n"
        "   FROM pii_audit.findings f WHERE f.first_seen_at >= to_timestamp($2::float8)"
        "   AND " SURFACES_OK(
            "f") " GROUP BY 1),"
                 " r AS (SELECT (f.resolved_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n"
                 "   FROM pii_audit.findings f WHERE f.resolved_at >= to_timestamp($2::float8)"
                 "   AND " SURFACES_OK(
                     "f") " GROUP BY 1),"
                          " s AS (SELECT count(*) AS n FROM pii_audit.findings f"
                          "   WHERE f.first_seen_at < to_timestamp($2::float8)"
                          "   AND (f.resolved_at IS NULL OR f.resolved_at >= to_timestamp($2::float8))"
                          "   AND " SURFACES_OK(
                              "f") ")"
                                   " SELECT to_char(days.d, 'YYYY-MM-DD'), coalesce(o.n, 0), coalesce(r.n, 0), (SELECT n FROM s)"
                                   " FROM days LEFT JOIN o ON o.d = days.d LEFT JOIN r ON r.d = days.d ORDER BY days.d",
        e);
    if (!r)
        return -1;
    d->n_days = (size_t)PQntuples(r);
    d->days = pa_xcalloc(d->n_days ? d->n_days : 1, sizeof *d->days);
    long long open = d->n_days ? ll(r, 0, 3) : 0;
    for (size_t i = 0; i < d->n_days; i++) {
        struct pa_hr_day *day = &d->days[i];
        snprintf(day->date, sizeof day->date, "%s", PQgetvalue(r, (int)i, 0));
        day->opened = ll(r, (int)i, 1);
        day->resolved = ll(r, (int)i, 2);
        open += day->opened - day->resolved;
        day->open = open < 0 ? 0 : open;
    }
    PQclear(r);
    return 0;
}

/* A query's rows into t (its columns in t's order). */
static int rows_into(PGconn *conn, const char *const *p, const char *sql, struct pa_tab *t, struct pa_err *e)
{
    PGresult *r = q(conn, p, sql, e);
    if (!r)
        return -1;
    pa_triage_rows(t, r, 0);
    PQclear(r);
    return 0;
}

static int sections(PGconn *conn, const char *const *p, struct pa_hr_data *d, struct pa_err *e)
{
    if (rows_into(
            conn, p,
            "SELECT f.table_name || '.' || f.column_name, f.category, count(*),"
            "   count(*) FILTER (WHERE f.acknowledged_at IS NOT NULL), " UTC(
                "min(f.first_seen_at)") " FROM pii_audit.findings f WHERE f.resolved_at IS NULL AND " SURFACES_OK("f") " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
            &d->by_surface, e) != 0)
        return -1;
    if (rows_into(conn, p,
                  "SELECT f.category, count(*)"
                  " FROM pii_audit.findings f WHERE f.resolved_at IS NULL AND " SURFACES_OK(
                      "f") " GROUP BY 1 ORDER BY 2 DESC, 1",
                  &d->by_category, e) != 0)
        return -1;
    if (rows_into(conn, p,
                  "SELECT f.table_name || '.' || f.column_name, f.json_path, f.category, count(*),"
                  "   count(DISTINCT f.record_id)"
                  " FROM pii_audit.findings f WHERE f.resolved_at IS NULL AND " SURFACES_OK(
                      "f") " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT 20", /* the top 20 */
                  &d->top_paths, e) != 0)
        return -1;
    /* every surface configured or ever scanned: its last scan (any mode), its last complete full scan */
    return rows_into(
        conn, p,
        "WITH conf AS (SELECT jsonb_array_elements_text($3::jsonb) AS s),"
        " last AS (SELECT DISTINCT ON (table_name, column_name) table_name || '.' || column_name AS s, status,"
        "   started_at, mode, rows_scanned, error_class, error_message FROM pii_audit.scan_run_surfaces"
        "   ORDER BY table_name, column_name, started_at DESC),"
        " cur AS (SELECT table_name || '.' || column_name AS s, last_full_scan_at FROM pii_audit.scan_cursors),"
        " opn AS (SELECT table_name || '.' || column_name AS s, count(*) AS n FROM pii_audit.findings"
        "   WHERE resolved_at IS NULL GROUP BY 1),"
        " alls AS (SELECT s FROM conf UNION SELECT s FROM last UNION SELECT s FROM cur)"
        " SELECT alls.s, CASE WHEN $3::jsonb IS NULL THEN NULL WHEN conf.s IS NOT NULL THEN 'yes'"
        "   ELSE 'no longer' END,"
        "   coalesce(last.status, 'never scanned'), " UTC(
            "last.started_at") ", last.mode, last.rows_scanned,"
                               "   " UTC(
                                   "cur.last_full_scan_at") ","
                                                            "   CASE WHEN last.error_class IS NOT NULL THEN last.error_class || ': ' || coalesce(last.error_message, '')"
                                                            "   END, coalesce(opn.n, 0)"
                                                            " FROM alls LEFT JOIN conf ON conf.s = alls.s LEFT JOIN last ON last.s = alls.s"
                                                            "   LEFT JOIN cur ON cur.s = alls.s LEFT JOIN opn ON opn.s = alls.s"
                                                            " WHERE $1::jsonb IS NULL OR alls.s IN (SELECT jsonb_array_elements_text($1::jsonb))"
                                                            " ORDER BY (last.status IS DISTINCT FROM 'ok') DESC, alls.s",
        &d->coverage, e);
}

int pa_htmlreport_gather(PGconn *conn, const struct pa_htmlreport_opts *o, struct pa_hr_data *d, struct pa_err *e)
{
    memset(d, 0, sizeof *d);
    pa_tab_init(&d->by_surface, pa_hr_by_surface_cols, 5);
    pa_tab_init(&d->by_category, pa_hr_by_category_cols, 2);
    pa_tab_init(&d->top_paths, pa_hr_top_paths_cols, 5);
    pa_tab_init(&d->coverage, pa_hr_coverage_cols, 9);
    pa_tab_init(&d->allowlist, NULL, 0);
    pa_tab_init(&d->acknowledged_list, pa_triage_cols, pa_triage_ncols);
    utc_text(pa_now_wall(), d->generated_at, sizeof d->generated_at);
    utc_text(o->since, d->since, sizeof d->since);

    struct pa_buf surfaces, conf, filter;
    pa_buf_init(&surfaces);
    pa_buf_init(&conf);
    pa_buf_init(&filter);
    pa_buf_append_json_list(&surfaces, o->surfaces, o->n_surfaces);
    const char **names = pa_xcalloc(o->cfg && o->cfg->n_surfaces ? o->cfg->n_surfaces : 1, sizeof *names);
    for (size_t i = 0; o->cfg && i < o->cfg->n_surfaces; i++)
        names[i] = o->cfg->surfaces[i].name;
    pa_buf_append_json_list(&conf, names, o->cfg ? o->cfg->n_surfaces : 0);
    free(names);
    char since[64];
    snprintf(since, sizeof since, "%.3f", o->since);
    const char *p[] = {o->n_surfaces ? surfaces.data : NULL, since, o->cfg ? conf.data : NULL};
    if (o->n_surfaces) {
        pa_buf_appends(&filter, "surfaces: ");
        for (size_t i = 0; i < o->n_surfaces; i++)
            pa_buf_printf(&filter, "%s%s", i ? ", " : "", o->surfaces[i]);
    } else {
        pa_buf_appends(&filter, "every surface");
    }
    d->filter = filter.data; /* owned by d from here */
    pa_buf_init(&filter);

    int rc = -1;
    if (summary(conn, p, d, e) != 0 || trend(conn, p, d, e) != 0 || sections(conn, p, d, e) != 0)
        goto out;
    PGresult *r = pa_allowlist_query(conn, o->surfaces, o->n_surfaces, e);
    if (!r)
        goto out;
    static const struct pa_tab_col allow_cols[] = {
        {"id", "ID", PA_TAB_NUMBER},
        {"surface", "Surface", PA_TAB_STRING},
        {"table", NULL, PA_TAB_STRING},
        {"column", NULL, PA_TAB_STRING},
        {"json_path", "JSON path", PA_TAB_STRING},
        {"category", "Category", PA_TAB_STRING},
        {"created_at", "Added", PA_TAB_STRING},
        {"created_by", "By", PA_TAB_STRING},
        {"reason", "Reason", PA_TAB_STRING},
        {"covers_open", "Covers (open)", PA_TAB_NUMBER},
    };
    pa_tab_init(&d->allowlist, allow_cols, PA_ARRAY_LEN(allow_cols));
    pa_triage_rows(&d->allowlist, r, 0);
    PQclear(r);
    struct pa_triage_filter f = {
        .surfaces = o->surfaces, .n_surfaces = o->n_surfaces, .status = PA_STATUS_ACKNOWLEDGED, .limit = ACK_LIST_MAX};
    if (!(r = pa_triage_list(conn, &f, e)))
        goto out;
    d->acknowledged_more = PQntuples(r) > ACK_LIST_MAX;
    pa_triage_rows(&d->acknowledged_list, r, ACK_LIST_MAX);
    PQclear(r);
    rc = 0;
out:
    pa_buf_free(&surfaces);
    pa_buf_free(&conf);
    return rc;
}

void pa_hr_data_free(struct pa_hr_data *d)
{
    free((char *)d->database);
    free((char *)d->filter);
    free(d->days);
    pa_tab_free(&d->by_surface);
    pa_tab_free(&d->by_category);
    pa_tab_free(&d->top_paths);
    pa_tab_free(&d->coverage);
    pa_tab_free(&d->allowlist);
    pa_tab_free(&d->acknowledged_list);
    memset(d, 0, sizeof *d);
}

int pa_htmlreport_write(PGconn *conn, const struct pa_htmlreport_opts *o, FILE *out, struct pa_err *e)
{
    struct pa_hr_data d;
    int rc = pa_htmlreport_gather(conn, o, &d, e);
    if (rc == 0) {
        struct pa_buf b;
        pa_buf_init(&b);
        pa_htmlreport_render(&b, &d);
        if (fwrite(b.data, 1, b.len, out) != b.len)
            rc = pa_err_set(e, PA_FAIL_QUERY, "cannot write the report");
        pa_buf_free(&b);
    }
    pa_hr_data_free(&d);
    return rc;
}
