/* scan/catalog: see catalog.h. Every question is a catalog query, a statistics read, a key lookup or an index-only
 * min/max on the scanning thread's connection; nothing here reads a document, so nothing here can see a value. */
#include "scan/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "grants.h"
#include "log.h"
#include "scan.h"

/* The primary key of schema.table, written once for the surface check and --print-grants: one row per key column
 * in key order (name, type, SELECT privilege on it, whether it is NOT NULL). */
static const char primary_key_sql[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
    "       has_column_privilege(a.attrelid, a.attnum, 'SELECT'), a.attnotnull"
    "  FROM pg_catalog.pg_index i"
    "  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)"
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
    " WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary AND k.ord <= i.indnkeyatts"
    " ORDER BY k.ord";

/* A named column of a relation (by oid), for the scanned column, a configured id column and changed_column: its
 * number, base type name, SELECT privilege, formatted type, whether a unique index of its own covers it, whether it
 * is NOT NULL, and whether an index starts with it. */
static const char attribute_sql[] =
    "SELECT a.attnum, bt.typname, has_column_privilege(a.attrelid, a.attnum, 'SELECT'),"
    "       format_type(a.atttypid, a.atttypmod),"
    "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique"
    "               AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL"
    "               AND i.indexprs IS NULL AND i.indisvalid),"
    "       a.attnotnull,"
    "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indkey[0] = a.attnum)"
    "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
    "  JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
    " WHERE a.attrelid = $1::oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

void pa_order_free(struct pa_order *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->exprs[i]);
        free(o->types[i]);
    }
    free(o->exprs);
    free(o->types);
    memset(o, 0, sizeof *o);
}

void pa_catalog_info_free(struct surface_info *si)
{
    free(si->qtable);
    free(si->qcol);
    for (size_t i = 0; si->key_names && i < si->key_order.n; i++)
        free(si->key_names[i]);
    free(si->key_names);
    pa_order_free(&si->key_order);
    free(si->rec_expr);
    free(si->id_column);
    free(si->id_type);
    free(si->qchanged);
    free(si->changed_type);
    memset(si, 0, sizeof *si);
}

/* Names as a hint's SQL writes them (pa_db_quote_ident), kept until the check ends. */
struct hints {
    char *v[24];
    size_t n;
};

static const char *hint(struct hints *h, PGconn *conn, const char *name)
{
    if (h->n == PA_ARRAY_LEN(h->v))
        return "?"; /* not reached: no message names more than a few */
    return h->v[h->n++] = pa_db_quote_ident(conn, name);
}

static void hints_free(struct hints *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    h->n = 0;
}

/* A column the check found: name, type, privilege. */
struct col {
    char *name, *type;
    bool select, notnull;
};

#define MAX_KEYS 32 /* PostgreSQL's INDEX_MAX_KEYS */

/* What the checks learn on the way, besides surface_info. */
struct check {
    PGconn *conn;
    const struct pa_surface *s;
    struct surface_info *si;
    struct pa_err *e;
    bool for_grants; /* --print-grants: learn the shape only, judge nothing about privileges or data */
    struct hints h;
    char role[128];
    char oid[16];
    char relkind;
    bool col_select, changed_select, changed_indexed;
    bool ctid_select, xmin_select;
    bool rls_active;
    bool id_nullable; /* a configured id column without NOT NULL: its NULLs are looked for */
    struct col keys[MAX_KEYS];
    size_t nkeys;
};

static void check_free(struct check *c)
{
    for (size_t i = 0; i < c->nkeys; i++) {
        free(c->keys[i].name);
        free(c->keys[i].type);
    }
    hints_free(&c->h);
}

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
    snprintf(c->si->oid, sizeof c->si->oid, "%s", c->oid);
    char relkind = c->relkind = PQgetvalue(res, 0, 1)[0];
    c->si->estimate = atoll(PQgetvalue(res, 0, 2));
    bool schema_usage = PQgetvalue(res, 0, 3)[0] == 't';
    c->rls_active = PQgetvalue(res, 0, 5)[0] == 't';
    c->si->has_children = PQgetvalue(res, 0, 6)[0] == 't';
    c->ctid_select = PQgetvalue(res, 0, 7)[0] == 't';
    c->xmin_select = PQgetvalue(res, 0, 8)[0] == 't';
    if (relkind != 'r' && relkind != 'p' && relkind != 'm')
        return pa_err_set(c->e, PA_FAIL_UNSUPPORTED_TYPE,
                          "%s.%s is not a table, partitioned table or materialized view (relkind '%c')", s->schema,
                          s->table, relkind);
    if (!schema_usage && !c->for_grants)
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

static void add_key(struct check *c, const char *name, const char *type, const char *select, const char *notnull)
{
    struct col *k = &c->keys[c->nkeys++];
    k->name = pa_xstrdup(name);
    k->type = pa_xstrdup(type);
    k->select = select[0] == 't';
    k->notnull = notnull[0] == 't';
}

/* A configured id column: it must exist and have a unique index of its own; without NOT NULL its NULLs are looked
 * for once the names are known (check_null_ids). */
static int judge_configured_id(struct check *c, const PGresult *res)
{
    const struct pa_surface *s = c->s;
    if (PQntuples(res) != 1)
        return pa_err_set(c->e, PA_FAIL_MISSING, "id column %s does not exist in table %s.%s", s->id_column, s->schema,
                          s->table);
    if (PQgetvalue(res, 0, 4)[0] != 't') {
        if (c->relkind == 'p')
            return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID,
                              "id column %s of the partitioned table %s.%s is not unique on its own (a partitioned "
                              "table's unique keys include the partition key): remove surfaces[].id_column to read "
                              "it by its primary key, whatever its columns",
                              s->id_column, s->schema, s->table);
        return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID,
                          "id column %s of %s.%s is not unique: keyset batches need a column with a unique index "
                          "(CREATE UNIQUE INDEX ... ON %s.%s (%s)), or remove surfaces[].id_column to use the primary "
                          "key",
                          s->id_column, s->schema, s->table, hint(&c->h, c->conn, s->schema),
                          hint(&c->h, c->conn, s->table), hint(&c->h, c->conn, s->id_column));
    }
    add_key(c, s->id_column, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 5));
    c->id_nullable = !c->keys[0].notnull;
    return 0;
}

/* No id column configured: the primary key, one column or several. */
static int judge_primary_key(struct check *c, const PGresult *res)
{
    if (PQntuples(res) == 0)
        return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID,
                          "%s.%s has no primary key: set surfaces[].id_column to a NOT NULL column with a unique "
                          "index, or surfaces[].keyless: ctid to read the whole table at every scan by row location",
                          c->s->schema, c->s->table);
    if (PQntuples(res) > MAX_KEYS)
        return pa_err_set(c->e, PA_FAIL_NO_UNIQUE_ID, "%s.%s: a primary key of more than %d columns", c->s->schema,
                          c->s->table, MAX_KEYS);
    for (int i = 0; i < PQntuples(res); i++)
        add_key(c, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    return 0;
}

/* changed_column: a timestamp (or date), readable; an index is advised, not required. */
static int judge_changed(struct check *c, const PGresult *res)
{
    const struct pa_surface *s = c->s;
    if (PQntuples(res) != 1)
        return pa_err_set(c->e, PA_FAIL_MISSING, "changed_column %s does not exist in table %s.%s", s->changed_column,
                          s->schema, s->table);
    const char *typ = PQgetvalue(res, 0, 1);
    if (strcmp(typ, "timestamptz") != 0 && strcmp(typ, "timestamp") != 0 && strcmp(typ, "date") != 0)
        return pa_err_set(c->e, PA_FAIL_UNSUPPORTED_TYPE,
                          "changed_column %s of %s.%s has type %s; it must be a timestamptz, timestamp or date",
                          s->changed_column, s->schema, s->table, PQgetvalue(res, 0, 3));
    c->si->changed_type = pa_xstrdup(strcmp(typ, "timestamptz") == 0 ? "timestamp with time zone"
                                     : strcmp(typ, "timestamp") == 0 ? "timestamp without time zone"
                                                                     : "date");
    c->changed_select = PQgetvalue(res, 0, 2)[0] == 't';
    c->changed_indexed = PQgetvalue(res, 0, 6)[0] == 't';
    return 0;
}

static int check_relation(struct check *c)
{
    const char *p[] = {c->s->schema, c->s->table};
    if (ask(c, "SELECT current_user", 0, NULL, judge_role) != 0)
        return -1;
    return ask(c,
               "SELECT c.oid, c.relkind, c.reltuples::bigint, has_schema_privilege(n.oid, 'USAGE'),"
               "       c.relrowsecurity, row_security_active(c.oid),"
               "       c.relkind = 'p' OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent = c.oid),"
               "       has_column_privilege(c.oid, 'ctid', 'SELECT'), has_column_privilege(c.oid, 'xmin', 'SELECT')"
               "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
               " WHERE n.nspname = $1 AND c.relname = $2",
               2, p, judge_relation);
}

static int check_column(struct check *c)
{
    const char *p[] = {c->oid, c->s->column};
    return ask(c, attribute_sql, 2, p, judge_column);
}

/* The key: none (keyless: ctid), a configured id column (it must be unique), or the primary key. */
static int check_key(struct check *c)
{
    const struct pa_surface *s = c->s;
    if (s->keyless)
        return 0;
    if (s->id_column) {
        const char *p[] = {c->oid, s->id_column};
        return ask(c, attribute_sql, 2, p, judge_configured_id);
    }
    const char *p[] = {s->schema, s->table};
    return ask(c, primary_key_sql, 2, p, judge_primary_key);
}

static int check_changed(struct check *c)
{
    if (!c->s->changed_column)
        return 0;
    const char *p[] = {c->oid, c->s->changed_column};
    if (ask(c, attribute_sql, 2, p, judge_changed) != 0)
        return -1;
    if (!c->changed_indexed && !c->for_grants)
        pa_warn("%s: no index starts with changed_column %s: every incremental scan reads the whole table to find "
                "the changed rows",
                c->s->name, c->s->changed_column);
    return 0;
}

/* The system columns a surface's scans select: ctid to read by row location (keyless surfaces, change detection's
 * pass over the table), xmin to find changed rows. (Partitions that join later are read through the parent by key,
 * with their partition constraint: nothing more.) */
static bool needs_ctid(const struct check *c)
{
    return c->s->keyless || !c->s->changed_column;
}

static bool needs_xmin(const struct check *c)
{
    return !c->s->keyless && !c->s->changed_column;
}

/* The columns a surface's scans select, each through name(): the key, the scanned column, changed_column, ctid,
 * xmin, joined with ", ". */
static char *column_list(const struct check *c, char *(*name)(const struct check *c, const char *n))
{
    struct pa_buf b;
    pa_buf_init(&b);
    const char *v[MAX_KEYS + 4];
    size_t n = 0;
    for (size_t i = 0; i < c->nkeys; i++)
        v[n++] = c->keys[i].name;
    v[n++] = c->s->column;
    if (c->s->changed_column)
        v[n++] = c->s->changed_column;
    if (needs_ctid(c))
        v[n++] = "ctid";
    if (needs_xmin(c))
        v[n++] = "xmin";
    for (size_t i = 0; i < n; i++) {
        char *q = name(c, v[i]);
        pa_buf_printf(&b, "%s%s", i ? ", " : "", q);
        free(q);
    }
    pa_buf_appends(&b, "");
    return b.data;
}

static char *plain_name(const struct check *c, const char *n)
{
    (void)c;
    return pa_xstrdup(n);
}

static char *quoted_name(const struct check *c, const char *n)
{
    return pa_db_quote_ident(c->conn, n);
}

/* Column-level SELECT on every column a scan selects, and no row-level security that could hide rows. */
static int check_access(struct check *c)
{
    const struct pa_surface *s = c->s;
    PGconn *conn = c->conn;
    bool all = c->col_select && (!s->changed_column || c->changed_select) && (!needs_ctid(c) || c->ctid_select) &&
               (!needs_xmin(c) || c->xmin_select);
    for (size_t i = 0; i < c->nkeys; i++)
        all = all && c->keys[i].select;
    if (!all) {
        char *plain = column_list(c, plain_name), *quoted = column_list(c, quoted_name);
        pa_err_set(c->e, PA_FAIL_PERMISSION,
                   "permission denied: role %s lacks SELECT on %s.%s (%s): " PA_GRANT_COLUMNS_FMT, c->role, s->schema,
                   s->table, plain, quoted, "", hint(&c->h, conn, s->schema), hint(&c->h, conn, s->table),
                   hint(&c->h, conn, c->role));
        free(plain);
        free(quoted);
        return -1;
    }
    if (c->rls_active)
        return pa_err_set(
            c->e, PA_FAIL_RLS,
            "row-level security is active on %s.%s for role %s: rows could be hidden, so the surface "
            "cannot be scanned completely; give the role BYPASSRLS (ALTER ROLE %s BYPASSRLS) or scan as a "
            "role that bypasses the policies",
            s->schema, s->table, c->role, hint(&c->h, conn, c->role));
    return 0;
}

static char *quote(PGconn *conn, const char *name)
{
    char *q = PQescapeIdentifier(conn, name, strlen(name));
    if (!q)
        return NULL;
    char *r = pa_xstrdup(q);
    PQfreemem(q);
    return r;
}

/* The names as the batch SQL writes them (always quoted, by libpq), the key's order and record id. */
static int quote_names(struct check *c)
{
    PGconn *conn = c->conn;
    const struct pa_surface *s = c->s;
    struct surface_info *si = c->si;
    char *qs = quote(conn, s->schema), *qt = quote(conn, s->table);
    si->qcol = quote(conn, s->column);
    if (s->changed_column)
        si->qchanged = quote(conn, s->changed_column);
    bool ok = qs && qt && si->qcol && (!s->changed_column || si->qchanged);
    if (ok)
        si->qtable = pa_xasprintf("%s.%s", qs, qt);
    free(qs);
    free(qt);
    struct pa_order *o = &si->key_order;
    o->exprs = pa_xcalloc(c->nkeys ? c->nkeys : 1, sizeof *o->exprs);
    o->types = pa_xcalloc(c->nkeys ? c->nkeys : 1, sizeof *o->types);
    si->key_names = pa_xcalloc(c->nkeys ? c->nkeys : 1, sizeof *si->key_names);
    struct pa_buf idc, idt;
    pa_buf_init(&idc);
    pa_buf_init(&idt);
    for (size_t i = 0; ok && i < c->nkeys; i++) {
        char *q = quote(conn, c->keys[i].name);
        if (!q) {
            ok = false;
            break;
        }
        o->exprs[i] = pa_xasprintf("t.%s", q);
        o->types[i] = pa_xstrdup(c->keys[i].type);
        si->key_names[i] = pa_xstrdup(c->keys[i].name);
        o->n++;
        pa_buf_printf(&idc, "%s%s", i ? ", " : "", c->nkeys == 1 ? c->keys[i].name : q);
        pa_buf_printf(&idt, "%s%s", i ? ", " : "", c->keys[i].type);
        free(q);
    }
    if (!ok) {
        pa_buf_free(&idc);
        pa_buf_free(&idt);
        pa_db_classify(conn, NULL, c->e);
        return -1;
    }
    if (c->s->keyless) {
        si->key = KEY_CTID;
        si->rec_expr = pa_xstrdup("'ctid:' || t.ctid::text");
        si->id_column = pa_xstrdup("ctid");
        si->id_type = pa_xstrdup("tid");
        pa_buf_free(&idc);
        pa_buf_free(&idt);
    } else {
        si->key = c->nkeys == 1 ? KEY_SINGLE : KEY_COMPOSITE;
        struct pa_buf rec;
        pa_buf_init(&rec);
        pa_order_pos_expr(o, &rec);
        si->rec_expr = rec.data;
        si->id_column = idc.data;
        si->id_type = idt.data;
    }
    return 0;
}

/* A configured id column without NOT NULL: a row whose id is NULL is never in a keyset range, so the surface is
 * refused while such rows exist (checked at every scan: a NULL committed before the scan starts is seen). */
static int check_null_ids(struct check *c)
{
    if (!c->id_nullable)
        return 0;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT EXISTS (SELECT 1 FROM %s t WHERE %s IS NULL)", c->si->qtable,
                  c->si->key_order.exprs[0]);
    PGresult *r = pa_db_exec(c->conn, sql.data, 0, NULL, PGRES_TUPLES_OK, c->e);
    pa_buf_free(&sql);
    if (!r)
        return -1;
    bool nulls = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!nulls)
        return 0;
    const struct pa_surface *s = c->s;
    return pa_err_set(c->e, PA_FAIL_NULL_ID,
                      "id column %s of %s.%s holds NULLs: those rows cannot be read by key, so the surface is not "
                      "scanned; give them ids and ALTER TABLE %s.%s ALTER COLUMN %s SET NOT NULL, or choose another "
                      "id_column",
                      s->id_column, s->schema, s->table, hint(&c->h, c->conn, s->schema),
                      hint(&c->h, c->conn, s->table), hint(&c->h, c->conn, s->id_column));
}

int pa_catalog_check(PGconn *conn, const struct pa_surface *s, struct surface_info *si, struct pa_err *e)
{
    struct check c = {.conn = conn, .s = s, .si = si, .e = e};
    snprintf(c.role, sizeof c.role, "?");
    int rc = -1;
    if (check_relation(&c) == 0 && check_column(&c) == 0 && check_key(&c) == 0 && check_changed(&c) == 0 &&
        check_access(&c) == 0 && quote_names(&c) == 0 && check_null_ids(&c) == 0)
        rc = 0;
    check_free(&c);
    return rc;
}

int pa_scan_check_surface(PGconn *conn, const struct pa_surface *s, struct pa_scan_surface_check *out, struct pa_err *e)
{
    struct surface_info si = {0};
    memset(out, 0, sizeof *out);
    int rc = pa_catalog_check(conn, s, &si, e);
    if (rc == 0) {
        snprintf(out->id_column, sizeof out->id_column, "%s", si.id_column);
        snprintf(out->id_type, sizeof out->id_type, "%s", si.id_type);
        char *cols = pa_scan_grant_columns(conn, s);
        snprintf(out->columns, sizeof out->columns, "%s", cols ? cols : "?");
        free(cols);
        out->json = si.kind == PA_DOC_JSON;
        out->estimate = si.estimate;
    }
    pa_catalog_info_free(&si);
    return rc;
}

char *pa_scan_grant_columns(PGconn *conn, const struct pa_surface *s)
{
    struct surface_info si = {0};
    struct pa_err e;
    struct check c = {.conn = conn, .s = s, .si = &si, .e = &e, .for_grants = true};
    char *cols = NULL;
    if (!conn) {
        /* the shape from the configuration alone: a keyed surface's key is known only when configured */
        if (s->keyless || s->id_column) {
            if (s->id_column)
                add_key(&c, s->id_column, "", "t", "t");
            cols = column_list(&c, quoted_name);
        }
    } else if (check_relation(&c) == 0 && check_key(&c) == 0) {
        cols = column_list(&c, quoted_name);
    }
    check_free(&c);
    pa_catalog_info_free(&si);
    return cols;
}

void pa_where_and(struct pa_where *w)
{
    pa_buf_appends(w->sql, w->any ? " AND " : " WHERE ");
    w->any = true;
}

void pa_order_pos_expr(const struct pa_order *o, struct pa_buf *sql)
{
    if (o->n == 1) {
        pa_buf_printf(sql, "%s::text", o->exprs[0]);
        return;
    }
    pa_buf_appends(sql, "ARRAY[");
    for (size_t i = 0; i < o->n; i++)
        pa_buf_printf(sql, "%s%s::text", i ? ", " : "", o->exprs[i]);
    pa_buf_appends(sql, "]::text");
}

void pa_order_by(const struct pa_order *o, struct pa_buf *sql)
{
    for (size_t i = 0; i < o->n; i++)
        pa_buf_printf(sql, "%s%s", i ? ", " : "", o->exprs[i]);
}

int pa_order_cmp(PGconn *conn, const struct pa_order *o, struct pa_buf *sql, const char *op, const char *pos)
{
    char *lit = PQescapeLiteral(conn, pos, strlen(pos));
    if (!lit)
        return -1;
    if (o->n == 1) {
        pa_buf_printf(sql, "%s %s %s::%s", o->exprs[0], op, lit, o->types[0]);
    } else {
        /* a row comparison: the index on the key serves it (a Merge Append of index scans on a partitioned
         * table) */
        pa_buf_appendc(sql, '(');
        pa_order_by(o, sql);
        pa_buf_printf(sql, ") %s (", op);
        for (size_t i = 0; i < o->n; i++)
            pa_buf_printf(sql, "%s(%s::text[])[%zu]::%s", i ? ", " : "", lit, i + 1, o->types[i]);
        pa_buf_appendc(sql, ')');
    }
    PQfreemem(lit);
    return 0;
}

int pa_catalog_append_bounds(PGconn *conn, const struct pa_order *o, struct pa_where *w, const char *lo, const char *hi)
{
    if (lo) {
        pa_where_and(w);
        if (pa_order_cmp(conn, o, w->sql, ">", lo) != 0)
            return -1;
    }
    if (hi) {
        pa_where_and(w);
        if (pa_order_cmp(conn, o, w->sql, "<=", hi) != 0)
            return -1;
    }
    return 0;
}

int pa_catalog_count_after(PGconn *conn, const struct surface_info *si, const char *after, long long *n)
{
    if (si->key == KEY_CTID)
        return -1; /* no key to count after */
    struct pa_err e;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT count(*) FROM %s t", si->qtable);
    struct pa_where w = {.sql = &sql};
    int rc = -1;
    if (pa_catalog_append_bounds(conn, &si->key_order, &w, after, NULL) == 0) {
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

void pa_catalog_append_blocks(struct pa_where *w, const char *lo, const char *hi)
{
    /* a TID Range Scan (PostgreSQL 14+) on the table, and on each partition through a partitioned parent */
    pa_where_and(w);
    pa_buf_printf(w->sql, "t.ctid >= '(%lld,0)'::tid AND t.ctid < '(%lld,0)'::tid", atoll(lo), atoll(hi));
}

int pa_catalog_watermark(PGconn *conn, const struct surface_info *si, struct pa_watermark *w, struct pa_err *e)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text%s%s%s FROM pg_current_snapshot() s",
             si->changed_type ? ", now()::" : "", si->changed_type ? si->changed_type : "",
             si->changed_type ? "::text" : "");
    PGresult *r = pa_db_exec(conn, sql, 0, NULL, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    w->xid = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    w->next = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(w->changed, sizeof w->changed, "%s", si->changed_type ? PQgetvalue(r, 0, 2) : "");
    PQclear(r);
    return 0;
}

char *pa_catalog_xid_window(const char *expr, unsigned long long from)
{
    /* age(x) = ref - x as an int4 (INT_MAX for a special xid); + 2^32 mod 2^32: the distance back from ref, 0 ..
     * 2^32 - 1. A row in [from, ref) is 1 .. (ref - from) back. */
    unsigned long long w = from % 4294967296ULL;
    if (w < 3)
        w = 3; /* xid8s whose low half is special are never handed out; the next normal xid is their successor */
    return pa_xasprintf("((age(%s)::bigint + 4294967296) %% 4294967296 BETWEEN 1 AND "
                        "(age('%llu'::xid)::bigint + 4294967296) %% 4294967296)",
                        expr, w);
}

void pa_catalog_rels_free(struct pa_rels *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].constraint);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int pa_catalog_relations(PGconn *conn, const struct surface_info *si, const char *attached, struct pa_rels *out,
                         struct pa_err *e)
{
    memset(out, 0, sizeof *out);
    /* the tree of pg_inherits links under the surface's table (partitions at every level, inheritance children);
     * a link's xmin says when the relation joined */
    char *sql = pa_xasprintf(
        "WITH RECURSIVE tree(oid, new) AS ("
        "  SELECT $1::oid, false"
        "  UNION ALL SELECT i.inhrelid, tree.new OR %s"
        "    FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.oid)"
        " SELECT c.oid::text, coalesce(pg_relation_filenode(c.oid), 0)::text,"
        "        pg_relation_size(c.oid) / current_setting('block_size')::bigint, bool_or(tree.new),"
        "        CASE WHEN c.relispartition THEN pg_get_partition_constraintdef(c.oid) END,"
        "        greatest(c.reltuples, 0)::float8, c.relpages"
        "   FROM tree JOIN pg_catalog.pg_class c ON c.oid = tree.oid"
        "  WHERE c.relkind IN ('r', 'm') GROUP BY c.oid ORDER BY c.oid",
        attached ? attached : "false");
    const char *p[] = {si->oid};
    PGresult *r = pa_db_exec(conn, sql, 1, p, PGRES_TUPLES_OK, e);
    free(sql);
    if (!r)
        return -1;
    int n = PQntuples(r);
    out->v = pa_xcalloc(n ? (size_t)n : 1, sizeof *out->v);
    double tuples = 0, pages = 0;
    struct pa_buf fp;
    pa_buf_init(&fp);
    for (int i = 0; i < n; i++) {
        struct pa_rel *x = &out->v[out->n++];
        snprintf(x->oid, sizeof x->oid, "%s", PQgetvalue(r, i, 0));
        snprintf(x->filenode, sizeof x->filenode, "%s", PQgetvalue(r, i, 1));
        x->blocks = atoll(PQgetvalue(r, i, 2));
        x->is_new = PQgetvalue(r, i, 3)[0] == 't';
        if (!PQgetisnull(r, i, 4))
            x->constraint = pa_xstrdup(PQgetvalue(r, i, 4));
        if (!x->is_new && x->blocks > out->max_blocks)
            out->max_blocks = x->blocks;
        if (atof(PQgetvalue(r, i, 6)) > 0) {
            tuples += atof(PQgetvalue(r, i, 5));
            pages += atof(PQgetvalue(r, i, 6));
        }
        pa_buf_printf(&fp, "%s:%s,", x->oid, x->filenode);
    }
    PQclear(r);
    out->rows_per_block = pages > 0 ? tuples / pages : 0;
    /* the fingerprint, by the server's md5 (no hash of our own to maintain) */
    pa_buf_appends(&fp, "");
    const char *fpp[] = {fp.data};
    r = pa_db_exec(conn, "SELECT md5($1)", 1, fpp, PGRES_TUPLES_OK, e);
    pa_buf_free(&fp);
    if (!r) {
        pa_catalog_rels_free(out);
        return -1;
    }
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int pa_catalog_rels_unchanged(PGconn *conn, const struct pa_rels *r, struct pa_err *e)
{
    struct pa_buf oids, files;
    pa_buf_init(&oids);
    pa_buf_init(&files);
    for (size_t i = 0; i < r->n; i++) {
        pa_buf_printf(&oids, "%s%s", i ? "," : "{", r->v[i].oid);
        pa_buf_printf(&files, "%s%s", i ? "," : "{", r->v[i].filenode);
    }
    pa_buf_appends(&oids, r->n ? "}" : "{}");
    pa_buf_appends(&files, r->n ? "}" : "{}");
    const char *p[] = {oids.data, files.data};
    /* a relation dropped or detached since left the surface with its rows: only a new file of one still there
     * moves rows to other block numbers */
    PGresult *res = pa_db_exec(conn,
                               "SELECT count(*) FROM unnest($1::oid[], $2::oid[]) x(oid, file)"
                               " WHERE pg_relation_filenode(x.oid) IS DISTINCT FROM x.file"
                               "   AND pg_relation_filenode(x.oid) IS NOT NULL",
                               2, p, PGRES_TUPLES_OK, e);
    pa_buf_free(&oids);
    pa_buf_free(&files);
    if (!res)
        return -1;
    int same = atoll(PQgetvalue(res, 0, 0)) == 0;
    PQclear(res);
    return same;
}

PGresult *pa_catalog_missing_records(PGconn *conn, const struct surface_info *si, const char *ids, struct pa_err *e)
{
    /* each id in the key's own type, so the key's index finds it (on a partitioned table: one partition) */
    const struct pa_order *o = &si->key_order;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT x FROM unnest($1::text[]) x WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE ", si->qtable);
    for (size_t i = 0; i < o->n; i++) {
        if (o->n == 1)
            pa_buf_printf(&sql, "%s = x::%s", o->exprs[i], o->types[i]);
        else
            pa_buf_printf(&sql, "%s%s = (x::text[])[%zu]::%s", i ? " AND " : "", o->exprs[i], i + 1, o->types[i]);
    }
    pa_buf_appendc(&sql, ')');
    const char *p[] = {ids};
    PGresult *r = pa_db_exec(conn, sql.data, 1, p, PGRES_TUPLES_OK, e);
    pa_buf_free(&sql);
    return r;
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
    const struct pa_order *o = &si->key_order;
    pa_buf_printf(&sql, "SELECT min(%s)::text, max(%s)::text FROM %s t", o->exprs[0], o->exprs[0], si->qtable);
    struct pa_where w = {.sql = &sql};
    if (pa_catalog_append_bounds(conn, o, &w, after, NULL) != 0) {
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
    const char *p[] = {s->schema, s->table, si->key_names[0]};
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
        pa_info("%s: no statistics on id column %s (run ANALYZE): reading with one reader", s->name, si->key_names[0]);
    }
    PQclear(res);
}

void pa_catalog_split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si, const char *after,
                             size_t n, char **pts, size_t *np)
{
    *np = 0;
    if (si->key != KEY_SINGLE)
        return; /* a composite key is read by one reader (its surfaces still run beside others) */
    if (integer_id(si->key_order.types[0]))
        int_split_points(conn, si, after, n, pts, np);
    else if (!after) /* incremental scans of non-integer ids read the new rows with one reader */
        histogram_split_points(conn, s, si, n, pts, np);
}
