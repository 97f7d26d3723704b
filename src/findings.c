/* findings: see findings.h. Every write that moves a cursor commits together with the findings it covers; every
 * statement on a surface matches it by database, table and column ($1, $2, $3: SURFACE_IS and key_params). */
#include "findings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grants.h"
#include "log.h"
#include "pa_build.h"
#include "sql_embed.h"

/* advisory lock class ids: "pii-auditd run" and "pii-auditd surface" */
#define LOCK_RUN_CLASS 0x70615231
#define LOCK_SURFACE_CLASS 0x70615332

/* A surface in a statement: its database, table and column as $1, $2, $3 (key_params fills them). */
#define SURFACE_IS "database_id = $1::int AND table_name = $2 AND column_name = $3"

/* The parameters $1..$3 of a surface, and room for the statement's own after them: set directly (p[3]...) or added
 * in order by param(), which returns each one's number ($n) for SQL written as it goes. */
struct key_params {
    char db[16];
    const char *p[24];
    int n;
};

static const char *const *key_params(struct key_params *kp, const struct pa_surface_key *k)
{
    snprintf(kp->db, sizeof kp->db, "%d", k->database_id);
    kp->p[0] = kp->db;
    kp->p[1] = k->table;
    kp->p[2] = k->column;
    kp->n = 3;
    return kp->p;
}

static int param(struct key_params *kp, const char *v)
{
    kp->p[kp->n] = v;
    return ++kp->n;
}

/* A command that returns no rows, its result cleared. 0, or -1 with e set. */
static int exec_cmd(PGconn *conn, const char *sql, int n, const char *const *p, struct pa_err *e)
{
    PGresult *r = pa_db_exec(conn, sql, n, p, PGRES_COMMAND_OK, e);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

void pa_catcounts_add(struct pa_catcounts *c, const char *name, long long n)
{
    /* kept sorted by name, so every report lists categories in the same order */
    size_t i = 0;
    for (; i < c->n; i++) {
        int cmp = strcmp(c->v[i].name, name);
        if (cmp == 0) {
            c->v[i].n += n;
            return;
        }
        if (cmp > 0)
            break;
    }
    c->v = pa_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof *c->v);
    c->v[i].name = pa_xstrdup(name);
    c->v[i].n = n;
    c->n++;
}

long long pa_catcounts_total(const struct pa_catcounts *c)
{
    long long t = 0;
    for (size_t i = 0; i < c->n; i++)
        t += c->v[i].n;
    return t;
}

void pa_catcounts_free(struct pa_catcounts *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].name);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

int pa_findings_missing_files(PGconn *conn, bool *missing, struct pa_err *e)
{
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        missing[i] = true;
    PGresult *r = pa_db_exec(conn, "SELECT to_regclass('pii_audit.schema_version') IS NOT NULL", 0, NULL,
                             PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    bool exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists)
        return 0;
    r = pa_db_exec(conn, "SELECT version FROM pii_audit.schema_version", 0, NULL, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    int top = 0;
    for (int k = 0; k < PQntuples(r); k++) {
        int v = atoi(PQgetvalue(r, k, 0));
        top = v > top ? v : top;
        for (unsigned i = 0; i < pa_sql_files_count; i++)
            if (pa_sql_files[i].version == v)
                missing[i] = false;
    }
    PQclear(r);
    return top;
}

/* The findings-schema privileges of the grants table one by one (object-major, numbered), and which of them the
 * role lacks: without USAGE on the schema its objects cannot even be looked up, so then that alone. */
static void denied_query(struct pa_buf *sql)
{
    pa_buf_appends(sql, "SELECT string_agg(format('GRANT %s ON %s%s TO %s', p.priv, p.kind, p.obj,"
                        " quote_ident(current_user)), '; ' ORDER BY p.ord) FROM (VALUES ");
    int ord = 0;
    for (size_t i = 0; i < pa_grants_n; i++) {
        const struct pa_grant *g = &pa_grants[i];
        if (g->need != PA_GRANT_DAEMON)
            continue;
        for (size_t o = 0; g->objects[o]; o++)
            for (size_t k = 0; g->privs[k]; k++, ord++)
                pa_buf_printf(sql, "%s(%d, '%s', '%s%s', '%s')", ord ? ", " : "", ord + 1, g->privs[k], g->kind,
                              *g->kind ? " " : "", g->objects[o]);
    }
    pa_buf_appends(sql, ") p(ord, priv, kind, obj)"
                        " WHERE CASE WHEN NOT has_schema_privilege('pii_audit', 'USAGE') THEN p.kind = 'SCHEMA '"
                        "   ELSE NOT CASE p.kind WHEN 'SCHEMA ' THEN true"
                        "   WHEN 'SEQUENCE ' THEN has_sequence_privilege(p.obj, p.priv)"
                        "   ELSE has_table_privilege(p.obj, p.priv) END END");
}

int pa_findings_missing_grants(PGconn *conn, struct pa_buf *out, struct pa_err *e)
{
    struct pa_buf sql;
    pa_buf_init(&sql);
    denied_query(&sql);
    PGresult *r = pa_db_exec(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, e);
    pa_buf_free(&sql);
    if (!r)
        return -1;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        pa_buf_appends(out, PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

void pa_findings_explain_denied(PGconn *conn, struct pa_err *e)
{
    if (!pa_err_sqlstate_is(e, "42501") || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
        return;
    /* The server names the object, not the privilege: ask which of the grants --print-grants prints for the
     * findings schema this role lacks, and name them as statements to run. */
    struct pa_err ignored;
    struct pa_buf lacks;
    pa_buf_init(&lacks);
    if (pa_findings_missing_grants(conn, &lacks, &ignored) == 0 && lacks.len)
        pa_err_append(e, "; the role lacks: %s (see pii-auditd --print-grants)", lacks.data);
    pa_buf_free(&lacks);
}

int pa_findings_schema_too_new(int top, struct pa_err *e)
{
    if (top <= PA_SCHEMA_VERSION)
        return 0;
    return pa_err_set(e, PA_FAIL_SCHEMA,
                      "the findings schema is version %d, newer than this pii-auditd understands (%d): upgrade "
                      "pii-auditd",
                      top, PA_SCHEMA_VERSION);
}

int pa_findings_check_schema(PGconn *conn, struct pa_err *e)
{
    bool missing[pa_sql_files_count + 1];
    int v = pa_findings_missing_files(conn, missing, e);
    if (v < 0) {
        pa_findings_explain_denied(conn, e);
        return -1;
    }
    return pa_findings_schema_error(v, missing, e);
}

int pa_findings_schema_error(int v, const bool *missing, struct pa_err *e)
{
    if (pa_findings_schema_too_new(v, e) != 0)
        return -1;
    char files[512] = "";
    size_t off = 0;
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        if (missing[i])
            off += (size_t)snprintf(files + off, off < sizeof files ? sizeof files - off : 0, "%s%s/sql/%s",
                                    off ? ", then " : "", PA_DATADIR, pa_sql_files[i].name);
    if (!off)
        return 0;
    return pa_err_set(
        e, PA_FAIL_SCHEMA,
        v == 0 ? "the findings schema pii_audit is not installed in the findings database: apply %s with psql "
                 "(psql -v ON_ERROR_STOP=1 -f FILE), or run pii-auditd --init-db"
               : "the findings schema is out of date: apply %s with psql (psql -v ON_ERROR_STOP=1 -f FILE) as "
                 "the owner of the schema pii_audit, or run pii-auditd --init-db as that role",
        files);
}

int pa_findings_init_db(PGconn *conn, const bool *missing, struct pa_err *e)
{
    for (unsigned i = 0; i < pa_sql_files_count; i++) {
        if (!missing[i])
            continue;
        PGresult *r = PQexec(conn, pa_sql_files[i].text);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            pa_db_classify(conn, r, e);
            PQclear(r);
            PQclear(PQexec(conn, "ROLLBACK"));
            char prefix[128];
            snprintf(prefix, sizeof prefix, "applying %s failed: ", pa_sql_files[i].name);
            pa_err_prefix(e, prefix);
            return -1;
        }
        PQclear(r);
        pa_info("applied %s", pa_sql_files[i].name);
    }
    return 0;
}

int pa_findings_only_database(PGconn *conn, int *id, struct pa_err *e)
{
    *id = 0;
    PGresult *r = pa_db_exec(conn, "SELECT min(id), count(*) FROM pii_audit.databases", 0, NULL, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    if (atoll(PQgetvalue(r, 0, 1)) == 1)
        *id = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

int pa_findings_database(PGconn *conn, const struct pa_db_server *s, bool claim, int *id, bool *adopted,
                         struct pa_err *e)
{
    *id = 0;
    *adopted = false;
    const char *p[] = {s->system_identifier, s->database};
    static const char known_sql[] = "SELECT id FROM pii_audit.databases WHERE system_identifier = $1::bigint"
                                    " AND database_name = $2";
    PGresult *r = pa_db_exec(conn, known_sql, 2, p, PGRES_TUPLES_OK, e);
    if (!r)
        goto denied;
    if (PQntuples(r) == 1 || !claim) {
        *id = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
        PQclear(r);
        return 0;
    }
    PQclear(r);
    /* A first scan of this database: the rows recorded before schema version 2 (one unclaimed identity) are its,
     * when nobody took them yet. Two databases asking at once: the row lock makes one wait, and the other's
     * identity no longer matches "unclaimed" when it goes on, so it inserts its own. */
    r = pa_db_exec(conn,
                   "UPDATE pii_audit.databases SET system_identifier = $1::bigint, database_name = $2,"
                   "   claimed_at = now()"
                   " WHERE id = (SELECT min(id) FROM pii_audit.databases WHERE system_identifier IS NULL)"
                   "   AND system_identifier IS NULL"
                   "   AND NOT EXISTS (SELECT 1 FROM pii_audit.databases"
                   "     WHERE system_identifier = $1::bigint AND database_name = $2)"
                   " RETURNING id",
                   2, p, PGRES_TUPLES_OK, e);
    if (!r)
        goto denied;
    if (PQntuples(r) == 1) {
        *id = atoi(PQgetvalue(r, 0, 0));
        *adopted = true;
        PQclear(r);
        return 0;
    }
    PQclear(r);
    r = pa_db_exec(conn,
                   "WITH ins AS (INSERT INTO pii_audit.databases (system_identifier, database_name)"
                   "   VALUES ($1::bigint, $2) ON CONFLICT ON CONSTRAINT databases_identity DO NOTHING RETURNING id)"
                   " SELECT id FROM ins UNION ALL SELECT id FROM pii_audit.databases"
                   "   WHERE system_identifier = $1::bigint AND database_name = $2",
                   2, p, PGRES_TUPLES_OK, e);
    if (!r)
        goto denied;
    if (PQntuples(r) >= 1)
        *id = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (*id == 0) {
        /* another scan inserted it after this statement's snapshot: a new statement sees it */
        if (!(r = pa_db_exec(conn, known_sql, 2, p, PGRES_TUPLES_OK, e)))
            goto denied;
        *id = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
        PQclear(r);
    }
    if (*id > 0)
        return 0;
    return pa_err_set(e, PA_FAIL_FINDINGS_STORE, "cannot record the scanned database %s/%s in pii_audit.databases",
                      s->system_identifier, s->database);
denied:
    pa_findings_explain_denied(conn, e);
    return -1;
}

/* The advisory lock that says a run's process is alive (fn: pg_advisory_lock or pg_advisory_unlock). */
static int run_lock(PGconn *conn, const char *fn, const char *run_id, struct pa_err *e)
{
    char cls[16], sql[128];
    snprintf(cls, sizeof cls, "%d", LOCK_RUN_CLASS);
    snprintf(sql, sizeof sql, "SELECT %s($1::int, ($2::bigint %% 2147483647)::int)", fn);
    const char *p[] = {cls, run_id};
    PGresult *r = pa_db_exec(conn, sql, 2, p, PGRES_TUPLES_OK, e);
    int rc = r ? 0 : -1;
    PQclear(r);
    return rc;
}

/* The runs found dead (id, of another process): logged, counted, and their lock (just taken to test it) let go. */
static void note_interrupted(PGconn *conn, const PGresult *dead, int *interrupted)
{
    for (int i = 0; i < PQntuples(dead); i++) {
        pa_warn("scan run %s was interrupted (its process ended without finishing it)", PQgetvalue(dead, i, 0));
        if (PQgetvalue(dead, i, 1)[0] == 't')
            (*interrupted)++;
        struct pa_err ignored;
        run_lock(conn, "pg_advisory_unlock", PQgetvalue(dead, i, 0), &ignored);
    }
}

/* A run left 'running' whose owner no longer holds its advisory lock was interrupted (crash, SIGKILL, lost
 * connection): mark it so, with its unfinished surfaces; count those of other processes into *interrupted. */
static int mark_interrupted(PGconn *conn, const char *db, const char *host, const char *pid, int *interrupted,
                            struct pa_err *e)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_RUN_CLASS);
    const char *p[] = {cls, host, pid, db};
    /* only this database's runs: another database's daemon counts its own (pii_audit_scan_failures_total) */
    PGresult *r = pa_db_exec(
        conn,
        "WITH dead AS ("
        "  SELECT id FROM pii_audit.scan_runs WHERE status = 'running' AND database_id = $4::int"
        "   AND pg_try_advisory_lock($1::int, (id % 2147483647)::int)),"
        " s AS (UPDATE pii_audit.scan_run_surfaces SET status = 'interrupted', finished_at = now(),"
        "   error_class = 'interrupted', error_message = 'the scanning process ended before the "
        "surface was finished'"
        "   WHERE status = 'running' AND scan_id IN (SELECT id FROM dead))"
        " UPDATE pii_audit.scan_runs SET status = 'interrupted', finished_at = now(),"
        "   error_class = 'interrupted', error_message = 'the scanning process ended before the "
        "scan was finished'"
        " WHERE id IN (SELECT id FROM dead)"
        " RETURNING id, (hostname IS DISTINCT FROM $2 OR pid IS DISTINCT FROM $3::int)",
        4, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    note_interrupted(conn, r, interrupted);
    PQclear(r);
    return 0;
}

long long pa_findings_begin_run(PGconn *conn, int database_id, const char *trigger, const char *mode,
                                int surfaces_total, int *interrupted, struct pa_err *e)
{
    *interrupted = 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char pid[16], total[16], db[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(total, sizeof total, "%d", surfaces_total);
    snprintf(db, sizeof db, "%d", database_id);
    if (mark_interrupted(conn, db, host, pid, interrupted, e) != 0) {
        pa_findings_explain_denied(conn, e);
        return -1;
    }
    const char *p[] = {trigger, mode, host, pid, PA_VERSION, total, db};
    PGresult *r = pa_db_exec(conn,
                             "INSERT INTO pii_audit.scan_runs (trigger, mode, hostname, pid, version, surfaces_total,"
                             " database_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                             7, p, PGRES_TUPLES_OK, e);
    if (!r) {
        pa_findings_explain_denied(conn, e);
        return -1;
    }
    long long id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    return run_lock(conn, "pg_advisory_lock", ids, e) == 0 ? id : -1;
}

int pa_findings_finish_run(PGconn *conn, long long scan_id, const struct pa_run_totals *t, struct pa_err *e)
{
    char id[32], failed[16], rows[32], bytes[32], nf[32], rf[32], inv[32], ovs[32], rtr[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    snprintf(ovs, sizeof ovs, "%lld", t->oversized_documents);
    snprintf(rtr, sizeof rtr, "%lld", t->retries);
    snprintf(failed, sizeof failed, "%d", t->surfaces_failed);
    snprintf(rows, sizeof rows, "%lld", t->rows);
    snprintf(bytes, sizeof bytes, "%lld", t->bytes);
    snprintf(nf, sizeof nf, "%lld", t->new_findings);
    snprintf(rf, sizeof rf, "%lld", t->resolved_findings);
    snprintf(inv, sizeof inv, "%lld", t->invalid_documents);
    const char *p[] = {id, t->status, t->mode,        failed,           rows, bytes, nf,
                       rf, inv,       t->error_class, t->error_message, ovs,  rtr};
    if (exec_cmd(conn,
                 "UPDATE pii_audit.scan_runs SET status = $2, mode = $3, finished_at = now(),"
                 " surfaces_failed = $4, rows_scanned = $5, bytes_scanned = $6, new_findings = $7,"
                 " resolved_findings = $8, invalid_documents = $9, error_class = $10, error_message = $11,"
                 " oversized_documents = $12, retries = $13"
                 " WHERE id = $1",
                 13, p, e) != 0)
        return -1;
    struct pa_err ignored;
    run_lock(conn, "pg_advisory_unlock", id, &ignored);
    return 0;
}

void pa_cursor_free(struct pa_cursor *c)
{
    char **v[] = {&c->last_id,           &c->id_column,         &c->id_type,         &c->watermark,
                  &c->changed_watermark, &c->watermark_last_id, &c->tail_watermark,  &c->watermark_kind,
                  &c->full_pos,          &c->full_watermark,    &c->full_fingerprint};
    for (size_t i = 0; i < PA_ARRAY_LEN(v); i++) {
        free(*v[i]);
        *v[i] = NULL;
    }
}

static char *opt_value(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? NULL : pa_xstrdup(PQgetvalue(r, 0, col));
}

int pa_findings_get_cursor(PGconn *conn, const struct pa_surface_key *k, struct pa_cursor *c, struct pa_err *e)
{
    memset(c, 0, sizeof *c);
    struct key_params kp;
    PGresult *r = pa_db_exec(conn,
                             "SELECT last_id, id_column, id_type, extract(epoch FROM last_full_scan_at), watermark,"
                             " changed_watermark, watermark_last_id, tail_watermark, watermark_kind, relation_oid,"
                             " full_pos, full_watermark, full_fingerprint, full_scan_id, oversized_rows"
                             " FROM pii_audit.scan_cursors WHERE " SURFACE_IS,
                             3, key_params(&kp, k), PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        c->last_id = opt_value(r, 0);
        c->id_column = opt_value(r, 1);
        c->id_type = opt_value(r, 2);
        if (!PQgetisnull(r, 0, 3))
            c->last_full_scan_at = atof(PQgetvalue(r, 0, 3));
        c->watermark = opt_value(r, 4);
        c->changed_watermark = opt_value(r, 5);
        c->watermark_last_id = opt_value(r, 6);
        c->tail_watermark = opt_value(r, 7);
        c->watermark_kind = opt_value(r, 8);
        c->relation_oid = atoll(PQgetvalue(r, 0, 9));
        c->full_pos = opt_value(r, 10);
        c->full_watermark = opt_value(r, 11);
        c->full_fingerprint = opt_value(r, 12);
        c->full_scan_id = atoll(PQgetvalue(r, 0, 13));
        c->oversized_rows = atoll(PQgetvalue(r, 0, 14));
    }
    PQclear(r);
    return 0;
}

/* The surface's lock: class LOCK_SURFACE_CLASS, and a hash of the database's id in the store and the surface, so
 * two databases' surfaces of the same name are two locks (a hash collision only makes one wait for a scan: busy). */
static int surface_lock(PGconn *conn, const struct pa_surface_key *k, const char *fn, struct pa_err *e)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_SURFACE_CLASS);
    struct key_params kp;
    key_params(&kp, k);
    kp.p[3] = cls;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s($4::int, hashtext($1 || ':' || $2 || '.' || $3))", fn);
    PGresult *r = pa_db_exec(conn, sql, 4, kp.p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return got;
}

int pa_findings_lock_surface(PGconn *conn, const struct pa_surface_key *k, struct pa_err *e)
{
    return surface_lock(conn, k, "pg_try_advisory_lock", e);
}

void pa_findings_unlock_surface(PGconn *conn, const struct pa_surface_key *k)
{
    struct pa_err ignored;
    if (PQstatus(conn) == CONNECTION_OK)
        surface_lock(conn, k, "pg_advisory_unlock", &ignored);
}

int pa_findings_surface_start(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *mode,
                              struct pa_err *e)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    /* scan_run_surfaces is keyed by its run, which has the database */
    const char *p[] = {id, k->table, k->column, mode};
    return exec_cmd(conn,
                    "INSERT INTO pii_audit.scan_run_surfaces (scan_id, table_name, column_name, mode)"
                    " VALUES ($1, $2, $3, $4)",
                    4, p, e);
}

void pa_batch_init(struct pa_batch *b)
{
    memset(b, 0, sizeof *b);
    pa_buf_init(&b->record_ids);
    pa_buf_init(&b->paths);
    pa_buf_init(&b->categories);
    pa_buf_init(&b->detectors);
    pa_buf_init(&b->rules);
    pa_buf_init(&b->evidence);
    pa_buf_init(&b->seen);
}

void pa_batch_reset(struct pa_batch *b)
{
    pa_buf_truncate(&b->record_ids, 0);
    pa_buf_truncate(&b->paths, 0);
    pa_buf_truncate(&b->categories, 0);
    pa_buf_truncate(&b->detectors, 0);
    pa_buf_truncate(&b->rules, 0);
    pa_buf_truncate(&b->evidence, 0);
    pa_buf_truncate(&b->seen, 0);
    b->n = b->n_seen = 0;
}

void pa_batch_free(struct pa_batch *b)
{
    pa_buf_free(&b->record_ids);
    pa_buf_free(&b->paths);
    pa_buf_free(&b->categories);
    pa_buf_free(&b->detectors);
    pa_buf_free(&b->rules);
    pa_buf_free(&b->evidence);
    pa_buf_free(&b->seen);
    b->n = b->n_seen = 0;
}

static void array_escaped(struct pa_buf *a, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            pa_buf_appendc(a, '\\');
        pa_buf_appendc(a, s[i]);
    }
}

/* Append one element to a PostgreSQL array literal under construction (without the braces): s[0..n) then tail (a
 * NUL-terminated suffix, "" for none). */
static void array_elem2(struct pa_buf *a, const char *s, size_t n, const char *tail)
{
    if (a->len)
        pa_buf_appendc(a, ',');
    pa_buf_appendc(a, '"');
    array_escaped(a, s, n);
    array_escaped(a, tail, strlen(tail));
    pa_buf_appendc(a, '"');
}

static void array_elem(struct pa_buf *a, const char *s, size_t n)
{
    array_elem2(a, s, n, "");
}

/* The stored form of a path (see pa_findings_store_path) as the bytes of path to keep and a suffix written to tail
 * ("" when the path is kept whole). Returns how many bytes of path to keep. */
static size_t store_path_cut(const char *path, size_t len, char tail[24])
{
    tail[0] = '\0';
    if (len <= PA_FINDINGS_PATH_MAX)
        return len;
    uint64_t h = pa_fnv1a64(PA_FNV1A64_BASIS_SHORT, path, len); /* stored: the short-basis variant, never changed */
    size_t cut = PA_FINDINGS_PATH_MAX - 20;                     /* room for "...#" and 16 hex digits */
    while (cut > 0 && ((unsigned char)path[cut] & 0xC0) == 0x80)
        cut--; /* never split a UTF-8 sequence */
    snprintf(tail, 24, "...#%016llx", (unsigned long long)h);
    return cut;
}

void pa_findings_store_path(struct pa_buf *out, const char *path, size_t len)
{
    char tail[24];
    size_t keep = store_path_cut(path, len, tail);
    pa_buf_truncate(out, 0);
    pa_buf_append(out, path, keep);
    pa_buf_appends(out, tail);
}

void pa_batch_add(struct pa_batch *b, const char *record_id, size_t id_len, const char *path, size_t path_len,
                  const char *category, const char *detector, const char *rule, const char *evidence)
{
    char tail[24];
    size_t keep = store_path_cut(path, path_len, tail);
    array_elem(&b->record_ids, record_id, id_len);
    array_elem2(&b->paths, path, keep, tail); /* no copy of the path, also when it is cut */
    array_elem(&b->categories, category, strlen(category));
    array_elem(&b->detectors, detector, strlen(detector));
    array_elem(&b->rules, rule, strlen(rule));
    array_elem(&b->evidence, evidence, strlen(evidence));
    b->n++;
}

void pa_batch_add_seen(struct pa_batch *b, const char *record_id, size_t id_len)
{
    array_elem(&b->seen, record_id, id_len);
    b->n_seen++;
}

/* End a transaction begun with BEGIN: COMMIT when rc is 0; otherwise (or when the COMMIT fails) ROLLBACK, when the
 * session can still take it. Returns 0 when committed. */
static int tx_end(PGconn *conn, int rc, struct pa_err *e)
{
    if (rc == 0)
        rc = exec_cmd(conn, "COMMIT", 0, NULL, e);
    if (rc != 0 && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    return rc;
}

/* A query whose rows are (category, count): the counts added to c (counts of 0 skipped), their sum to *total when
 * given. 0, or -1 with e set. */
static int category_counts(PGconn *conn, const char *sql, int n, const char *const *p, struct pa_catcounts *c,
                           long long *total, struct pa_err *e)
{
    PGresult *r = pa_db_exec(conn, sql, n, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        long long v = atoll(PQgetvalue(r, i, 1));
        if (v && c)
            pa_catcounts_add(c, PQgetvalue(r, i, 0), v);
        if (total)
            *total += v;
    }
    PQclear(r);
    return 0;
}

/* The batch's findings upserted on their identity; the new ones counted by category. */
static int upsert_findings(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc, const char *scan,
                           struct pa_catcounts *new_by_cat, long long *batch_new, struct pa_err *e)
{
    if (!b->n)
        return 0;
    const struct pa_buf *bufs[6] = {&b->record_ids, &b->paths, &b->categories, &b->detectors, &b->rules, &b->evidence};
    char *arrays[6];
    for (int i = 0; i < 6; i++)
        arrays[i] = pa_xasprintf("{%s}", bufs[i]->len ? bufs[i]->data : "");
    struct key_params kp;
    const char *const *p = key_params(&kp, &bc->key);
    for (int i = 0; i < 5; i++)
        kp.p[3 + i] = arrays[i];
    kp.p[8] = scan;
    kp.p[9] = arrays[5];
    /* DISTINCT ON guards the upsert against a (record, path, category) twice in one statement, which
     * PostgreSQL refuses; xmax = 0 tells a fresh insert from an update. */
    int rc = category_counts(
        conn,
        "WITH input AS ("
        "  SELECT DISTINCT ON (record_id, json_path, category) *"
        "    FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $10::text[])"
        "      AS t(record_id, json_path, category, detector, rule, evidence)),"
        " up AS ("
        "  INSERT INTO pii_audit.findings AS f (database_id, table_name, column_name, record_id, json_path, category,"
        "                                       detector, rule, evidence, first_scan_id, last_scan_id)"
        "  SELECT $1::int, $2, $3, record_id, json_path, category, detector, rule, evidence, $9, $9 FROM input"
        "  ON CONFLICT ON CONSTRAINT findings_identity DO UPDATE"
        "    SET last_seen_at = now(), last_scan_id = EXCLUDED.last_scan_id, detector = EXCLUDED.detector,"
        "        rule = EXCLUDED.rule, evidence = EXCLUDED.evidence, resolved_at = NULL, resolved_scan_id = NULL,"
        /* seen again: a resolution no longer holds, and a finding that came back is news (ack cleared) */
        "        resolved_reason = NULL, resolved_by = NULL, resolved_note = NULL,"
        "        acknowledged_at = CASE WHEN f.resolved_at IS NULL THEN f.acknowledged_at END,"
        "        acknowledged_by = CASE WHEN f.resolved_at IS NULL THEN f.acknowledged_by END,"
        "        acknowledged_note = CASE WHEN f.resolved_at IS NULL THEN f.acknowledged_note END"
        "  RETURNING category, (xmax = 0) AS inserted)"
        " SELECT category, count(*) FILTER (WHERE inserted) FROM up GROUP BY category",
        10, p, new_by_cat, batch_new, e);
    for (int i = 0; i < 6; i++)
        free(arrays[i]);
    return rc;
}

/* What a batch or a full scan's end adds to the surface's counters in its run (scan_run_surfaces). */
struct surface_counts {
    long long rows, bytes, new_findings, invalid_documents, truncated_records, resolved_findings, oversized, retries,
        reread;
};

static int add_surface_counts(PGconn *conn, const char *scan, const struct pa_surface_key *k,
                              const struct surface_counts *n, struct pa_err *e)
{
    const long long v[] = {
        n->rows,      n->bytes,   n->new_findings, n->invalid_documents, n->truncated_records, n->resolved_findings,
        n->oversized, n->retries, n->reread};
    char s[9][32];
    struct key_params kp;
    key_params(&kp, k);
    kp.p[0] = scan; /* scan_run_surfaces is keyed by its run, which has the database */
    for (int i = 0; i < 9; i++) {
        snprintf(s[i], sizeof s[i], "%lld", v[i]);
        param(&kp, s[i]);
    }
    return exec_cmd(conn,
                    "UPDATE pii_audit.scan_run_surfaces SET rows_scanned = rows_scanned + $4,"
                    " bytes_scanned = bytes_scanned + $5, new_findings = new_findings + $6,"
                    " invalid_documents = invalid_documents + $7, truncated_records = truncated_records + $8,"
                    " resolved_findings = resolved_findings + $9, oversized_documents = oversized_documents + $10,"
                    " retries = retries + $11, rows_reread = rows_reread + $12, last_progress_at = now()"
                    " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                    kp.n, kp.p, e);
}

/* The surface's cursor row, created when it has none (the one place that names the cursor's conflict target), so
 * that every write after it is an UPDATE matched by SURFACE_IS. */
static int cursor_row(PGconn *conn, const struct pa_surface_key *k, const char *id_column, const char *id_type,
                      struct pa_err *e)
{
    struct key_params kp;
    key_params(&kp, k);
    param(&kp, id_column);
    param(&kp, id_type);
    return exec_cmd(conn,
                    "INSERT INTO pii_audit.scan_cursors (database_id, table_name, column_name, id_column, id_type)"
                    " VALUES ($1::int, $2, $3, $4, $5)"
                    " ON CONFLICT (database_id, table_name, column_name) DO NOTHING",
                    kp.n, kp.p, e);
}

/* UPDATE pii_audit.scan_cursors SET <set> WHERE <the surface>: kp holds the surface ($1..$3, key_params) and then
 * set's own parameters. With full_seconds, the row's last_full_scan_seconds after the update is written there. */
static int cursor_update(PGconn *conn, const struct pa_buf *set, const struct key_params *kp, double *full_seconds,
                         struct pa_err *e)
{
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "UPDATE pii_audit.scan_cursors SET %s, updated_at = now() WHERE " SURFACE_IS "%s", set->data,
                  full_seconds ? " RETURNING last_full_scan_seconds" : "");
    int rc = 0;
    PGresult *r = pa_db_exec(conn, sql.data, kp->n, kp->p, full_seconds ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, e);
    if (!r)
        rc = -1;
    else if (full_seconds && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *full_seconds = atof(PQgetvalue(r, 0, 0));
    PQclear(r);
    pa_buf_free(&sql);
    return rc;
}

/* The cursor moved with a batch, in the batch's transaction: the tail (last_id) or the full pass's position; and
 * the oversized rows the batch met. */
static int move_cursor(PGconn *conn, const struct pa_batch_commit *bc, const char *scan, struct pa_err *e)
{
    bool moves = bc->move == PA_MOVE_FULL || (bc->move == PA_MOVE_TAIL && bc->cursor);
    if (!moves && bc->oversized == 0)
        return 0;
    if (cursor_row(conn, &bc->key, bc->id_column, bc->id_type, e) != 0)
        return -1;
    struct key_params kp;
    key_params(&kp, &bc->key);
    struct pa_buf set;
    pa_buf_init(&set);
    char pass[32], ovs[32];
    snprintf(ovs, sizeof ovs, "%lld", bc->oversized);
    snprintf(pass, sizeof pass, "%lld", bc->full_scan_id);
    int ov = param(&kp, ovs);
    if (bc->move == PA_MOVE_FULL) {
        /* the pass's own count, over all its runs (oversized_rows once it completes); a new pass starts from 0 */
        int ps = param(&kp, pass);
        pa_buf_printf(&set,
                      "full_oversized_rows = CASE WHEN full_scan_id IS DISTINCT FROM $%d::bigint THEN 0"
                      " ELSE full_oversized_rows END + $%d::bigint",
                      ps, ov);
    } else {
        /* rows not read since the last complete pass, and since the pass in progress (if any) began */
        pa_buf_printf(&set,
                      "oversized_rows = oversized_rows + $%d::bigint, full_oversized_rows = CASE WHEN full_scan_id"
                      " IS NULL THEN 0 ELSE full_oversized_rows + $%d::bigint END",
                      ov, ov);
    }
    if (moves) {
        int ic = param(&kp, bc->id_column), it = param(&kp, bc->id_type), sc = param(&kp, scan);
        pa_buf_printf(&set, ", id_column = $%d, id_type = $%d, last_scan_id = $%d", ic, it, sc);
    }
    if (bc->move == PA_MOVE_TAIL && bc->cursor) {
        /* rows past watermark_last_id are read from here on by a scan that began at this watermark: the next scan
         * re-reads those of them that changed since (tail_watermark), not since the older watermark */
        int c = param(&kp, bc->cursor), w = param(&kp, bc->watermark);
        pa_buf_printf(&set, ", last_id = $%d, tail_watermark = coalesce(tail_watermark, $%d)", c, w);
    } else if (bc->move == PA_MOVE_FULL) {
        int c = param(&kp, bc->cursor), ps = param(&kp, pass), w = param(&kp, bc->watermark),
            f = param(&kp, bc->fingerprint);
        pa_buf_printf(&set,
                      ", full_pos = $%d, full_scan_id = $%d, full_watermark = $%d, full_fingerprint = $%d,"
                      " full_started_at = CASE WHEN full_scan_id IS DISTINCT FROM $%d::bigint THEN now()"
                      " ELSE full_started_at END",
                      c, ps, w, f, ps);
    }
    int rc = cursor_update(conn, &set, &kp, NULL, e);
    pa_buf_free(&set);
    return rc;
}

/* The open findings of the records a batch read (b->seen) that the batch did not find again: resolved, reason
 * gone, in the batch's transaction. */
static int resolve_gone(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc, const char *scan,
                        struct pa_catcounts *resolved_by_cat, long long *total, struct pa_err *e)
{
    if (!b->n_seen)
        return 0;
    const struct pa_buf *bufs[4] = {&b->seen, &b->record_ids, &b->paths, &b->categories};
    char *arrays[4];
    for (int i = 0; i < 4; i++)
        arrays[i] = pa_xasprintf("{%s}", bufs[i]->len ? bufs[i]->data : "");
    struct key_params kp;
    key_params(&kp, &bc->key);
    param(&kp, scan);
    for (int i = 0; i < 4; i++)
        param(&kp, arrays[i]);
    int rc = category_counts(conn,
                             "WITH res AS (UPDATE pii_audit.findings f SET resolved_at = now(), resolved_scan_id = $4,"
                             "   resolved_reason = 'gone'"
                             "  WHERE " SURFACE_IS " AND f.resolved_at IS NULL AND f.record_id = ANY($5::text[])"
                             "    AND NOT EXISTS (SELECT 1 FROM unnest($6::text[], $7::text[], $8::text[]) i(r, p, c)"
                             "                     WHERE i.r = f.record_id AND i.p = f.json_path AND i.c = f.category)"
                             "  RETURNING category)"
                             " SELECT category, count(*) FROM res GROUP BY category",
                             kp.n, kp.p, resolved_by_cat, total, e);
    for (int i = 0; i < 4; i++)
        free(arrays[i]);
    return rc;
}

int pa_findings_commit_batch(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc,
                             struct pa_catcounts *new_by_cat, struct pa_catcounts *resolved_by_cat, struct pa_err *e)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", bc->scan_id);
    struct surface_counts n = {.rows = bc->rows,
                               .bytes = bc->bytes,
                               .invalid_documents = bc->invalid_documents,
                               .truncated_records = bc->truncated_records,
                               .oversized = bc->oversized,
                               .retries = bc->retries,
                               .reread = bc->reread};
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0)
        return -1;
    int rc = upsert_findings(conn, b, bc, scan, new_by_cat, &n.new_findings, e);
    if (rc == 0)
        rc = resolve_gone(conn, b, bc, scan, resolved_by_cat, &n.resolved_findings, e);
    if (rc == 0)
        rc = move_cursor(conn, bc, scan, e);
    if (rc == 0)
        rc = add_surface_counts(conn, scan, &bc->key, &n, e);
    rc = tx_end(conn, rc, e);
    if (rc != 0 && e->reason != PA_FAIL_CONNECTION_LOST)
        e->reason = PA_FAIL_FINDINGS_STORE;
    return rc;
}

/* The watermark fields of a set (a completed scan's): watermark, its kind and table, the keys it covers up to. */
static void watermark_set(struct pa_buf *set, struct key_params *kp, const struct pa_watermark_rec *w, const char *oid)
{
    int wm = param(kp, w->watermark), cw = param(kp, w->changed_watermark), k = param(kp, w->kind), o = param(kp, oid);
    pa_buf_printf(set,
                  ", watermark = $%d, changed_watermark = $%d, watermark_kind = $%d, relation_oid = $%d,"
                  " tail_watermark = NULL",
                  wm, cw, k, o);
}

int pa_findings_set_watermark(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *id_column,
                              const char *id_type, const struct pa_watermark_rec *w, struct pa_err *e)
{
    char scan[32], oid[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    snprintf(oid, sizeof oid, "%lld", w->relation_oid);
    if (cursor_row(conn, k, id_column, id_type, e) != 0)
        return -1;
    struct key_params kp;
    key_params(&kp, k);
    struct pa_buf set;
    pa_buf_init(&set);
    int ic = param(&kp, id_column), it = param(&kp, id_type), sc = param(&kp, scan);
    /* the keys covered: the tail as it is now, after this scan read past it */
    pa_buf_printf(&set, "id_column = $%d, id_type = $%d, last_scan_id = $%d, watermark_last_id = last_id", ic, it, sc);
    watermark_set(&set, &kp, w, oid);
    int rc = cursor_update(conn, &set, &kp, NULL, e);
    pa_buf_free(&set);
    return rc;
}

int pa_findings_complete_full(PGconn *conn, long long scan_id, long long pass_scan_id, const struct pa_surface_key *k,
                              const char *id_column, const char *id_type, const struct pa_watermark_rec *w,
                              struct pa_catcounts *resolved_by_cat, double *seconds, struct pa_err *e)
{
    char scan[32], pass[32], oid[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    snprintf(pass, sizeof pass, "%lld", pass_scan_id > 0 ? pass_scan_id : scan_id);
    *seconds = 0;
    struct surface_counts n = {0};
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0)
        return -1;
    /* open findings of the surface (of this database only) that no scan saw since the pass began: every record was
     * read since, so these were gone from their record, or their record was */
    struct key_params kp;
    key_params(&kp, k);
    param(&kp, scan);
    param(&kp, pass);
    int rc = category_counts(conn,
                             "WITH res AS (UPDATE pii_audit.findings SET resolved_at = now(), resolved_scan_id = $4,"
                             "   resolved_reason = 'full_scan'"
                             "  WHERE " SURFACE_IS " AND resolved_at IS NULL AND last_scan_id < $5"
                             "  RETURNING category)"
                             " SELECT category, count(*) FROM res GROUP BY category",
                             kp.n, kp.p, resolved_by_cat, &n.resolved_findings, e);
    if (rc == 0)
        rc = cursor_row(conn, k, id_column, id_type, e);
    if (rc == 0) {
        struct key_params q;
        key_params(&q, k);
        struct pa_buf set;
        pa_buf_init(&set);
        int ic = param(&q, id_column), it = param(&q, id_type), s2 = param(&q, scan), ps = param(&q, pass);
        /* the pass's duration: what the surface's rows in the runs since it began took (this run's until now; an
         * interrupted one's until its last batch); a pass that resumed spent its time in several runs, not in the
         * hours between them */
        pa_buf_printf(&set,
                      "id_column = $%d, id_type = $%d, last_scan_id = $%d, last_full_scan_id = $%d,"
                      " last_full_scan_at = now(), oversized_rows = full_oversized_rows, full_oversized_rows = 0,"
                      " last_full_scan_seconds = (SELECT coalesce(sum(extract(epoch FROM"
                      "   CASE WHEN s.scan_id = $%d::bigint THEN clock_timestamp()"
                      "     WHEN s.status = 'interrupted' THEN coalesce(s.last_progress_at, s.started_at)"
                      "     ELSE coalesce(s.finished_at, s.last_progress_at, s.started_at) END - s.started_at)), 0)"
                      "   ::float8"
                      "   FROM pii_audit.scan_run_surfaces s JOIN pii_audit.scan_runs r ON r.id = s.scan_id"
                      "   WHERE r.database_id = $1::int AND s.table_name = $2 AND s.column_name = $3"
                      "     AND s.scan_id BETWEEN $%d::bigint AND $%d::bigint),"
                      " full_pos = NULL, full_scan_id = NULL, full_watermark = NULL, full_fingerprint = NULL,"
                      " full_started_at = NULL",
                      ic, it, s2, s2, s2, ps, s2);
        if (w) {
            snprintf(oid, sizeof oid, "%lld", w->relation_oid);
            int l = param(&q, w->last_id);
            pa_buf_printf(&set, ", last_id = $%d, watermark_last_id = $%d", l, l);
            watermark_set(&set, &q, w, oid);
        }
        rc = cursor_update(conn, &set, &q, seconds, e);
        pa_buf_free(&set);
    }
    if (rc == 0)
        rc = add_surface_counts(conn, scan, k, &n, e);
    return tx_end(conn, rc, e);
}

int pa_findings_drop_full(PGconn *conn, const struct pa_surface_key *k, struct pa_err *e)
{
    struct key_params kp;
    key_params(&kp, k);
    struct pa_buf set;
    pa_buf_init(&set);
    pa_buf_appends(&set, "full_pos = NULL, full_scan_id = NULL, full_watermark = NULL, full_fingerprint = NULL,"
                         " full_started_at = NULL, full_oversized_rows = 0");
    int rc = cursor_update(conn, &set, &kp, NULL, e);
    pa_buf_free(&set);
    return rc;
}

int pa_findings_open_records(PGconn *conn, const struct pa_surface_key *k, const char *after, int limit,
                             struct pa_buf *ids, int *n, char **last, struct pa_err *e)
{
    *n = 0;
    *last = NULL;
    pa_buf_truncate(ids, 0);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    struct key_params kp;
    key_params(&kp, k);
    param(&kp, after ? after : "");
    param(&kp, lim);
    /* the findings_identity index walks the surface's records in order; ctid: ids name row locations, which only
     * a keyless surface's full reads can judge */
    PGresult *r = pa_db_exec(conn,
                             "SELECT DISTINCT record_id FROM pii_audit.findings WHERE " SURFACE_IS
                             "   AND resolved_at IS NULL AND record_id > $4 AND record_id NOT LIKE 'ctid:%'"
                             " ORDER BY record_id LIMIT $5::int",
                             kp.n, kp.p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    *n = PQntuples(r);
    for (int i = 0; i < *n; i++) {
        const char *id = PQgetvalue(r, i, 0);
        array_elem(ids, id, strlen(id));
    }
    if (*n)
        *last = pa_xstrdup(PQgetvalue(r, *n - 1, 0));
    PQclear(r);
    char *lit = pa_xasprintf("{%s}", ids->len ? ids->data : "");
    pa_buf_truncate(ids, 0);
    pa_buf_appends(ids, lit);
    free(lit);
    return 0;
}

int pa_findings_resolve_deleted(PGconn *conn, long long scan_id, const struct pa_surface_key *k, const char *ids,
                                struct pa_catcounts *resolved_by_cat, struct pa_err *e)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    struct surface_counts n = {0};
    struct key_params kp;
    key_params(&kp, k);
    param(&kp, scan);
    param(&kp, ids);
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0)
        return -1;
    int rc = category_counts(conn,
                             "WITH res AS (UPDATE pii_audit.findings SET resolved_at = now(), resolved_scan_id = $4,"
                             "   resolved_reason = 'deleted'"
                             "  WHERE " SURFACE_IS " AND resolved_at IS NULL AND record_id = ANY($5::text[])"
                             "  RETURNING category)"
                             " SELECT category, count(*) FROM res GROUP BY category",
                             kp.n, kp.p, resolved_by_cat, &n.resolved_findings, e);
    if (rc == 0)
        rc = add_surface_counts(conn, scan, k, &n, e);
    return tx_end(conn, rc, e);
}

int pa_findings_surface_finish(PGconn *conn, long long scan_id, const struct pa_surface_key *k,
                               const struct pa_surface_outcome *o, struct pa_err *e)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    char retries[32];
    snprintf(retries, sizeof retries, "%lld", o->retries);
    const char *p[] = {scan, k->table, k->column, o->status, o->error_class, o->error_message, o->mode, retries};
    /* the retries as a whole: a failed batch's never reached a batch commit */
    return exec_cmd(conn,
                    "UPDATE pii_audit.scan_run_surfaces SET status = $4, finished_at = now(),"
                    " error_class = $5, error_message = $6, mode = $7, retries = $8"
                    " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                    8, p, e);
}

int pa_findings_open_counts(PGconn *conn, const struct pa_surface_key *k, struct pa_catcounts *out, struct pa_err *e)
{
    struct key_params kp;
    return category_counts(conn,
                           "SELECT category, count(*) FROM pii_audit.findings"
                           " WHERE " SURFACE_IS " AND resolved_at IS NULL"
                           " GROUP BY category ORDER BY category",
                           3, key_params(&kp, k), out, NULL, e);
}

int pa_findings_load_state(PGconn *conn, int database_id, pa_findings_state_cb cb, void *arg, double *last_success,
                           struct pa_err *e)
{
    *last_success = 0;
    if (database_id <= 0)
        return 0; /* a database never scanned into this store: nothing recorded yet */
    char db[16];
    snprintf(db, sizeof db, "%d", database_id);
    const char *p[] = {db};
    PGresult *r = pa_db_exec(
        conn,
        "SELECT 'open', table_name, column_name, category, count(*)::float8"
        "  FROM pii_audit.findings WHERE resolved_at IS NULL AND database_id = $1::int"
        "  GROUP BY 2, 3, 4"
        " UNION ALL SELECT 'records', table_name, column_name, NULL, count(DISTINCT record_id)"
        "  FROM pii_audit.findings WHERE resolved_at IS NULL AND database_id = $1::int"
        "  GROUP BY 2, 3"
        " UNION ALL SELECT 'full_scan', table_name, column_name, NULL,"
        "  extract(epoch FROM last_full_scan_at)::float8"
        "  FROM pii_audit.scan_cursors WHERE last_full_scan_at IS NOT NULL AND database_id = $1::int"
        " UNION ALL SELECT 'oversized', table_name, column_name, NULL, oversized_rows::float8"
        "  FROM pii_audit.scan_cursors WHERE database_id = $1::int"
        " UNION ALL (SELECT 'last_new', NULL, NULL, NULL, new_findings::float8"
        "  FROM pii_audit.scan_runs WHERE status IN ('ok', 'partial') AND database_id = $1::int"
        "  ORDER BY id DESC LIMIT 1)"
        /* one round trip: the last success rides along as a row of its own */
        " UNION ALL SELECT 'last_success', NULL, NULL, NULL,"
        "  coalesce(extract(epoch FROM max(finished_at)), 0)::float8"
        "  FROM pii_audit.scan_runs WHERE status = 'ok' AND database_id = $1::int",
        1, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        double v = atof(PQgetvalue(r, i, 4));
        if (strcmp(PQgetvalue(r, i, 0), "last_success") == 0)
            *last_success = v;
        else
            cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
               PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3), v);
    }
    PQclear(r);
    return 0;
}

int pa_findings_load_full_durations(PGconn *conn, int database_id, pa_findings_state_cb cb, void *arg, struct pa_err *e)
{
    if (database_id <= 0)
        return 0;
    char db[16];
    snprintf(db, sizeof db, "%d", database_id);
    const char *p[] = {db};
    /* the pass's duration as its end recorded it (the runs it spanned, summed: a pass resumes after a failure);
     * before that was recorded, the surface's row in the run of its last complete full scan: from its start
     * (recorded before its checks) to its outcome */
    PGresult *r = pa_db_exec(conn,
                             "SELECT c.table_name, c.column_name,"
                             "  coalesce(c.last_full_scan_seconds, extract(epoch FROM s.finished_at - s.started_at))"
                             "::float8"
                             "  FROM pii_audit.scan_cursors c LEFT JOIN pii_audit.scan_run_surfaces s"
                             "    ON s.scan_id = c.last_full_scan_id AND s.table_name = c.table_name"
                             "   AND s.column_name = c.column_name AND s.status = 'ok' AND s.finished_at IS NOT NULL"
                             " WHERE c.database_id = $1::int AND c.last_full_scan_id IS NOT NULL"
                             "   AND (c.last_full_scan_seconds IS NOT NULL OR s.scan_id IS NOT NULL)",
                             1, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        cb(arg, "full_duration", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), NULL, atof(PQgetvalue(r, i, 2)));
    PQclear(r);
    return 0;
}
