/* scan/catalog: see catalog.h. Every question is a catalog query, a statistics read or an index-only min/max on the
 * scanning thread's connection; nothing here reads a document, so nothing here can see a value. */
#include "scan/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "grants.h"
#include "log.h"
#include "scan.h"

/* The primary key of schema.table, written once for the surface check and --print-grants: one row (column name,
 * type, SELECT privilege on it, number of key columns) when the table has a primary key. */
static const char primary_key_sql[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
    "       has_column_privilege(a.attrelid, a.attnum, 'SELECT'), i.indnkeyatts"
    "  FROM pg_catalog.pg_index i"
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    "  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary";

/* A named column of a relation (by oid), for the scanned column and a configured id column: its number, base type
 * name, SELECT privilege, formatted type, and whether a unique index of its own covers it. */
static const char attribute_sql[] =
    "SELECT a.attnum, bt.typname, has_column_privilege(a.attrelid, a.attnum, 'SELECT'),"
    "       format_type(a.atttypid, a.atttypmod),"
    "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique"
    "               AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL"
    "               AND i.indexprs IS NULL AND i.indisvalid)"
    "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    "  JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
    " WHERE a.attrelid = $1::oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

static bool single_column_key(const PGresult *res)
{
    return PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 3)) == 1;
}

char *pa_scan_primary_key(PGconn *conn, const char *schema, const char *table)
{
    const char *p[] = {schema, table};
    PGresult *r = PQexecParams(conn, primary_key_sql, 2, NULL, p, NULL, NULL, 0);
    char *id = PQresultStatus(r) == PGRES_TUPLES_OK && single_column_key(r) ? pa_xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return id;
}

void pa_catalog_info_free(struct surface_info *si)
{
    free(si->qtable);
    PQfreemem(si->qcol);
    PQfreemem(si->qid);
    free(si->id_column);
    free(si->id_type);
    memset(si, 0, sizeof *si);
}

/* Names as a hint's SQL writes them (pa_db_quote_ident), kept until the check ends. */
struct hints {
    char *v[5];
    size_t n;
};

static const char *hint(struct hints *h, PGconn *conn, const char *name)
{
    if (h->n == PA_ARRAY_LEN(h->v))
        return "?"; /* not reached: no message names more than five */
    return h->v[h->n++] = pa_db_quote_ident(conn, name);
}

static void hints_free(struct hints *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    h->n = 0;
}

/* What the checks learn on the way, besides surface_info. */
struct check {
    PGconn *conn;
    const struct pa_surface *s;
    struct surface_info *si;
    struct pa_err *e;
    struct hints h;
    char role[128];
    char oid[16];
    bool col_select, id_select;
    bool rls_active;
};

/* Run a catalog query and hand its result to judge, which fills c (or sets c->e and returns -1). */
static int ask(struct check *c, const char *sql, int n, const char *const *p,
               int (*judge)(struct check *c, const PGresult *res))
{
    PGresult *res = pa_db_exec(c->conn, sql, n, p, PGRES_TUPLES_OK, c->e);
    if (!res)
        return -1;
    int rc = judge(c, res);
    PQclear(res);
    return rc;
}

static int judge_role(struct check *c, const PGresult *res)
{
    snprintf(c->role, sizeof c->role, "%s", PQgetvalue(res, 0, 0));
    return 0;
}

/* The relation: a table, partitioned table or materialized view, with USAGE on its schema. */
static int judge_relation(struct check *c, const PGresult *res)
{
    const struct pa_surface *s = c->s;
    if (PQntuples(res) != 1)
        return pa_err_set(c->e, PA_FAIL_MISSING,
                          "table %s.%s does not exist (check surfaces[].table in the configuration, and the database)",
                          s->schema, s->table);
    snprintf(c->oid, sizeof c->oid, "%s", PQgetvalue(res, 0, 0));
    char relkind = PQgetvalue(res, 0, 1)[0];
    c->si->estimate = atoll(PQgetvalue(res, 0, 2));
    bool schema_usage = PQgetvalue(res, 0, 3)[0] == 't';
    c->rls_active = PQgetvalue(res, 0, 5)[0] == 't';
    if (relkind != 'r' && relkind != 'p' && relkind != 'm')
        return pa_err_set(c->e, PA_FAIL_UNSUPPORTED_TYPE,
                          "%s.%s is not a table, partitioned table or materialized view (relkind '%c')", s->schema,
                          s->table, relkind);
    if (!schema_usage)
        return pa_err_set(c->e, PA_FAIL_PERMISSION,
                          "permission denied: role %s lacks USAGE on schema %s (" PA_GRANT_SCHEMA_USAGE_FMT ")",
                          c->role, s->schema, hint(&c->h, c->conn, s->schema), hint(&c->h, c->conn, c->role));
    return 0;
}

/* The scanned column and its (base) type. */
static int judge_column(struct check *c, const PGresult *res)
{
    const struct pa_surface *s = c->s;
    if (PQntuples(res) != 1)
        return pa_err_set(c->e, PA_FAIL_MISSING, "column %s does not exist in table %s.%s", s->column, s->schema,
                          s->table);
    const char *typ = PQgetvalue(res, 0, 1);
    if (strcmp(typ, "jsonb") == 0 || strcmp(typ, "json") == 0)
        c->si->kind = PA_DOC_JSON;
    else if (strcmp(typ, "text") == 0 || strcmp(typ, "varchar") == 0 || strcmp(typ, "bpchar") == 0)
        c->si->kind = PA_DOC_TEXT;
    else
        return pa_err_set(c->e, PA_FAIL_UNSUPPORTED_TYPE,
                          "column %s of %s.%s has type %s; pii-auditd scans jsonb, json, text and varchar columns",
                          s->column, s->schema, s->table, PQgetvalue(res, 0, 3));
    c->col_select = PQgetvalue(res, 0, 2)[0] == 't';
    return 0;
}

static void take_id(struct check *c, const char *name, const char *type, const char *select)
{
    c->si->id_column = pa_xstrdup(name);
    c->si->id_type = pa_xstrdup(type);
    c->id_select = select[0] == 't';
}

/* A configured id column: it must exist and have a unique index of its own. */
static int judge_configured_id(struct check *c, const PGresult *res)
{
    const struct pa_surface *s = c->s;
    if (PQntuples(res) != 1)
        return pa_err_set(c->e, PA_FAIL_MISSING, "id column %s does not exist in table %s.%s", s->id_column,
                          s->schema, s->table);
    if (PQgetvalue(res, 0, 4)[0] != 't')
        return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID,
                          "id column %s of %s.%s is not unique: keyset batches need a column with a unique index "
                          "(CREATE UNIQUE INDEX ... ON %s.%s (%s)) or the primary key",
                          s->id_column, s->schema, s->table, hint(&c->h, c->conn, s->schema),
                          hint(&c->h, c->conn, s->table), hint(&c->h, c->conn, s->id_column));
    take_id(c, s->id_column, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2));
    return 0;
}

/* No id column configured: the single-column primary key. */
static int judge_primary_key(struct check *c, const PGresult *res)
{
    if (!single_column_key(res))
        return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID,
                          PQntuples(res) ? "%s.%s has a multi-column primary key: set surfaces[].id_column to a "
                                           "column with a unique index"
                                         : "%s.%s has no primary key: set surfaces[].id_column to a column with a "
                                           "unique index",
                          c->s->schema, c->s->table);
    take_id(c, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    return 0;
}

static int check_relation(struct check *c)
{
    const char *p[] = {c->s->schema, c->s->table};
    if (ask(c, "SELECT current_user", 0, NULL, judge_role) != 0)
        return -1;
    return ask(c,
               "SELECT c.oid, c.relkind, c.reltuples::bigint, has_schema_privilege(n.oid, 'USAGE'),"
               "       c.relrowsecurity, row_security_active(c.oid)"
               "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
               " WHERE n.nspname = $1 AND c.relname = $2",
               2, p, judge_relation);
}

static int check_column(struct check *c)
{
    const char *p[] = {c->oid, c->s->column};
    return ask(c, attribute_sql, 2, p, judge_column);
}

/* The id column: configured (it must be unique) or the single-column primary key. */
static int check_id(struct check *c)
{
    const struct pa_surface *s = c->s;
    if (s->id_column) {
        const char *p[] = {c->oid, s->id_column};
        return ask(c, attribute_sql, 2, p, judge_configured_id);
    }
    const char *p[] = {s->schema, s->table};
    return ask(c, primary_key_sql, 2, p, judge_primary_key);
}

/* Column-level SELECT on both columns, and no row-level security that could hide rows. */
static int check_access(struct check *c)
{
    const struct pa_surface *s = c->s;
    PGconn *conn = c->conn;
    if (!c->col_select || !c->id_select)
        return pa_err_set(c->e, PA_FAIL_PERMISSION,
                          "permission denied: role %s lacks SELECT on %s.%s (%s, %s): " PA_GRANT_COLUMNS_FMT, c->role,
                          s->schema, s->table, c->si->id_column, s->column, hint(&c->h, conn, c->si->id_column),
                          hint(&c->h, conn, s->column), "", hint(&c->h, conn, s->schema),
                          hint(&c->h, conn, s->table), hint(&c->h, conn, c->role));
    if (c->rls_active)
        return pa_err_set(c->e, PA_FAIL_RLS,
                          "row-level security is active on %s.%s for role %s: rows could be hidden, so the surface "
                          "cannot be scanned completely; give the role BYPASSRLS (ALTER ROLE %s BYPASSRLS) or scan as a "
                          "role that bypasses the policies",
                          s->schema, s->table, c->role, hint(&c->h, conn, c->role));
    return 0;
}

/* The names as the batch SQL writes them (always quoted, by libpq). */
static int quote_names(struct check *c)
{
    PGconn *conn = c->conn;
    const struct pa_surface *s = c->s;
    char *qs = PQescapeIdentifier(conn, s->schema, strlen(s->schema));
    char *qt = PQescapeIdentifier(conn, s->table, strlen(s->table));
    if (!qs || !qt) {
        PQfreemem(qs);
        PQfreemem(qt);
        pa_db_classify(conn, NULL, c->e);
        return -1;
    }
    c->si->qtable = pa_xasprintf("%s.%s", qs, qt);
    PQfreemem(qs);
    PQfreemem(qt);
    c->si->qcol = PQescapeIdentifier(conn, s->column, strlen(s->column));
    c->si->qid = PQescapeIdentifier(conn, c->si->id_column, strlen(c->si->id_column));
    return 0;
}

int pa_catalog_check(PGconn *conn, const struct pa_surface *s, struct surface_info *si, struct pa_err *e)
{
    struct check c = {.conn = conn, .s = s, .si = si, .e = e};
    snprintf(c.role, sizeof c.role, "?");
    int rc = -1;
    if (check_relation(&c) == 0 && check_column(&c) == 0 && check_id(&c) == 0 && check_access(&c) == 0 &&
        quote_names(&c) == 0)
        rc = 0;
    hints_free(&c.h);
    return rc;
}

int pa_scan_check_surface(PGconn *conn, const struct pa_surface *s, struct pa_scan_surface_check *out,
                          struct pa_err *e)
{
    struct surface_info si = {0};
    memset(out, 0, sizeof *out);
    int rc = pa_catalog_check(conn, s, &si, e);
    if (rc == 0) {
        snprintf(out->id_column, sizeof out->id_column, "%s", si.id_column);
        snprintf(out->id_type, sizeof out->id_type, "%s", si.id_type);
        out->json = si.kind == PA_DOC_JSON;
        out->estimate = si.estimate;
    }
    pa_catalog_info_free(&si);
    return rc;
}

int pa_catalog_append_bounds(PGconn *conn, const struct surface_info *si, struct pa_buf *sql, const char *lo,
                             const char *hi)
{
    const char *bound[2] = {lo, hi};
    bool where = false;
    for (int i = 0; i < 2; i++) {
        if (!bound[i])
            continue;
        char *lit = PQescapeLiteral(conn, bound[i], strlen(bound[i]));
        if (!lit)
            return -1;
        pa_buf_printf(sql, " %s t.%s %s %s::%s", where ? "AND" : "WHERE", si->qid, i == 0 ? ">" : "<=", lit,
                      si->id_type);
        PQfreemem(lit);
        where = true;
    }
    return 0;
}

int pa_catalog_count_after(PGconn *conn, const struct surface_info *si, const char *after, long long *n)
{
    struct pa_err e;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT count(*) FROM %s t", si->qtable);
    int rc = -1;
    if (pa_catalog_append_bounds(conn, si, &sql, after, NULL) == 0) {
        PGresult *res = pa_db_exec(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, &e);
        if (res) {
            *n = atoll(PQgetvalue(res, 0, 0));
            PQclear(res);
            rc = 0;
        }
    }
    pa_buf_free(&sql);
    return rc;
}

static bool integer_id(const char *type)
{
    return strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 || strcmp(type, "smallint") == 0;
}

size_t pa_catalog_int_splits(long long lo, long long hi, size_t n, long long *out)
{
    size_t np = 0;
    __int128 l = lo, h = hi, prev = l - 1;
    for (size_t i = 1; i < n; i++) {
        __int128 p = l + (h - l) * (__int128)i / (__int128)n;
        if (p <= prev || p >= h)
            continue;
        out[np++] = (long long)p;
        prev = p;
    }
    return np;
}

/* Integer ids: evenly between min and max of the ids after `after`. */
static void int_split_points(PGconn *conn, const struct surface_info *si, const char *after, size_t n, char **pts,
                             size_t *np)
{
    struct pa_err e;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT min(t.%s)::text, max(t.%s)::text FROM %s t", si->qid, si->qid, si->qtable);
    if (pa_catalog_append_bounds(conn, si, &sql, after, NULL) != 0) {
        pa_buf_free(&sql);
        return;
    }
    PGresult *res = pa_db_exec(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, &e);
    pa_buf_free(&sql);
    if (!res)
        return;
    if (!PQgetisnull(res, 0, 0)) {
        long long *v = pa_xcalloc(n, sizeof *v);
        size_t k = pa_catalog_int_splits(strtoll(PQgetvalue(res, 0, 0), NULL, 10),
                                         strtoll(PQgetvalue(res, 0, 1), NULL, 10), n, v);
        for (size_t i = 0; i < k; i++)
            pts[(*np)++] = pa_xasprintf("%lld", v[i]);
        free(v);
    }
    PQclear(res);
}

/* Other ids (full scans): evenly spaced bounds of the id column's pg_stats histogram (already in the column's sort
 * order); none when the table was never analyzed. */
static void histogram_split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si, size_t n,
                                   char **pts, size_t *np)
{
    struct pa_err e;
    const char *p[] = {s->schema, s->table, si->id_column};
    PGresult *res = pa_db_exec(conn,
                               "SELECT b FROM (SELECT histogram_bounds::text::text[] AS h FROM pg_catalog.pg_stats"
                               "  WHERE schemaname = $1 AND tablename = $2 AND attname = $3"
                               "  ORDER BY inherited DESC LIMIT 1) s, unnest(s.h) WITH ORDINALITY u(b, o) ORDER BY o",
                               3, p, PGRES_TUPLES_OK, &e);
    if (!res)
        return;
    int nb = PQntuples(res);
    if (nb >= 2) {
        int prev = -1;
        for (size_t i = 1; i < n; i++) {
            int k = (int)((long long)(nb - 1) * (long long)i / (long long)n);
            if (k <= prev || k <= 0 || k >= nb - 1)
                continue;
            pts[(*np)++] = pa_xstrdup(PQgetvalue(res, k, 0));
            prev = k;
        }
    } else {
        pa_info("%s: no statistics on id column %s (run ANALYZE): reading with one reader", s->name,
                si->id_column);
    }
    PQclear(res);
}

void pa_catalog_split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si,
                             const char *after, size_t n, char **pts, size_t *np)
{
    *np = 0;
    if (integer_id(si->id_type))
        int_split_points(conn, si, after, n, pts, np);
    else if (!after) /* incremental scans of non-integer ids read the new rows with one reader */
        histogram_split_points(conn, s, si, n, pts, np);
}
