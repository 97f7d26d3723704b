/* findings: see findings.h. Every write that moves a cursor commits together with the findings it covers. */
#include "findings.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pa_build.h"
#include "sql_embed.h"

/* advisory lock class ids: "pii-auditd run" and "pii-auditd surface" */
#define LOCK_RUN_CLASS 0x70615231
#define LOCK_SURFACE_CLASS 0x70615332

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

static int installed_version(PGconn *conn, char *err, size_t errlen, enum pa_fail_reason *why)
{
    PGresult *r = pa_db_exec(conn, "SELECT to_regclass('pii_audit.schema_version') IS NOT NULL", 0, NULL,
                             PGRES_TUPLES_OK, err, errlen, why);
    if (!r)
        return -1;
    bool exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists)
        return 0;
    r = pa_db_exec(conn, "SELECT coalesce(max(version), 0) FROM pii_audit.schema_version", 0, NULL, PGRES_TUPLES_OK,
                   err, errlen, why);
    if (!r)
        return -1;
    int v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* why: the failure's reason as pa_db_exec classified it (PA_FAIL_PERMISSION is SQLSTATE 42501). */
static void explain_denied(PGconn *conn, enum pa_fail_reason why, char *err, size_t errlen)
{
    if (why != PA_FAIL_PERMISSION || PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
        return;
    /* The server names the object, not the privilege: ask which of the grants --print-grants prints for the
     * findings schema this role lacks, and name them as statements to run. */
    PGresult *r = PQexec(conn,
                         "SELECT string_agg(format('GRANT %s ON %s%s TO %s', p.priv, p.kind, p.obj,"
                         "                         quote_ident(current_user)), '; ' ORDER BY p.ord)"
                         "  FROM (VALUES (1, 'USAGE', 'SCHEMA ', 'pii_audit'),"
                         "    (2, 'SELECT', '', 'pii_audit.schema_version'),"
                         "    (3, 'SELECT', '', 'pii_audit.scan_runs'), (4, 'INSERT', '', 'pii_audit.scan_runs'),"
                         "    (5, 'UPDATE', '', 'pii_audit.scan_runs'), (6, 'SELECT', '', 'pii_audit.scan_run_surfaces'),"
                         "    (7, 'INSERT', '', 'pii_audit.scan_run_surfaces'),"
                         "    (8, 'UPDATE', '', 'pii_audit.scan_run_surfaces'), (9, 'SELECT', '', 'pii_audit.scan_cursors'),"
                         "    (10, 'INSERT', '', 'pii_audit.scan_cursors'), (11, 'UPDATE', '', 'pii_audit.scan_cursors'),"
                         "    (12, 'SELECT', '', 'pii_audit.findings'), (13, 'INSERT', '', 'pii_audit.findings'),"
                         "    (14, 'UPDATE', '', 'pii_audit.findings'),"
                         "    (15, 'USAGE', 'SEQUENCE ', 'pii_audit.scan_runs_id_seq'),"
                         "    (16, 'USAGE', 'SEQUENCE ', 'pii_audit.findings_id_seq')) p(ord, priv, kind, obj)"
                         /* without USAGE on the schema its objects cannot even be looked up */
                         " WHERE CASE WHEN NOT has_schema_privilege('pii_audit', 'USAGE') THEN p.ord = 1"
                         "   ELSE NOT CASE p.kind WHEN 'SCHEMA ' THEN true"
                         "   WHEN 'SEQUENCE ' THEN has_sequence_privilege(p.obj, p.priv)"
                         "   ELSE has_table_privilege(p.obj, p.priv) END END");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, "; the role lacks: %s (see pii-auditd --print-grants)", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
}

void pa_findings_explain_denied(PGconn *conn, char *err, size_t errlen)
{
    /* for callers that kept only pa_db_exec's message, which always ends with the SQLSTATE */
    explain_denied(conn, strstr(err, "(SQLSTATE 42501)") ? PA_FAIL_PERMISSION : PA_FAIL_NONE, err, errlen);
}

int pa_findings_check_schema(PGconn *conn, char *err, size_t errlen)
{
    enum pa_fail_reason why = PA_FAIL_NONE;
    int v = installed_version(conn, err, errlen, &why);
    if (v < 0) {
        explain_denied(conn, why, err, errlen);
        return -1;
    }
    if (v == PA_SCHEMA_VERSION)
        return 0;
    if (v > PA_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the findings schema is version %d, newer than this pii-auditd understands (%d): upgrade pii-auditd",
                 v, PA_SCHEMA_VERSION);
        return -1;
    }
    char files[512] = "";
    size_t off = 0;
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        if (pa_sql_files[i].version > v)
            off += (size_t)snprintf(files + off, off < sizeof files ? sizeof files - off : 0, "%s%s/sql/%s",
                                    off ? ", then " : "", PA_DATADIR, pa_sql_files[i].name);
    snprintf(err, errlen,
             v == 0 ? "the findings schema pii_audit is not installed in the findings database: apply %s with psql "
                      "(psql -v ON_ERROR_STOP=1 -f FILE), or run pii-auditd --init-db"
                    : "the findings schema is out of date: apply %s with psql (psql -v ON_ERROR_STOP=1 -f FILE), or "
                      "run pii-auditd --init-db",
             files);
    return -1;
}

int pa_findings_init_db(PGconn *conn, char *err, size_t errlen)
{
    int v = installed_version(conn, err, errlen, NULL);
    if (v < 0)
        return -1;
    for (unsigned i = 0; i < pa_sql_files_count; i++) {
        if (pa_sql_files[i].version <= v)
            continue;
        PGresult *r = PQexec(conn, pa_sql_files[i].text);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char why[512];
            pa_db_classify(conn, r, why, sizeof why);
            PQclear(r);
            PQclear(PQexec(conn, "ROLLBACK"));
            snprintf(err, errlen, "applying %s failed: %s", pa_sql_files[i].name, why);
            return -1;
        }
        PQclear(r);
        pa_info("applied %s", pa_sql_files[i].name);
    }
    return 0;
}

long long pa_findings_begin_run(PGconn *conn, const char *trigger, const char *mode, int surfaces_total,
                                int *interrupted, char *err, size_t errlen)
{
    *interrupted = 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    /* A run left 'running' whose owner no longer holds its advisory lock was interrupted (crash, SIGKILL, lost
     * connection). Mark it so, with its unfinished surfaces. */
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_RUN_CLASS);
    const char *p1[] = {cls, host, pid};
    enum pa_fail_reason why = PA_FAIL_NONE;
    PGresult *r = pa_db_exec(conn,
                             "WITH dead AS ("
                             "  SELECT id FROM pii_audit.scan_runs WHERE status = 'running'"
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
                             3, p1, PGRES_TUPLES_OK, err, errlen, &why);
    if (!r) {
        explain_denied(conn, why, err, errlen);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        pa_warn("scan run %s was interrupted (its process ended without finishing it)", PQgetvalue(r, i, 0));
        if (PQgetvalue(r, i, 1)[0] == 't')
            (*interrupted)++;
        const char *p2[] = {cls, PQgetvalue(r, i, 0)};
        PQclear(pa_db_exec(conn, "SELECT pg_advisory_unlock($1::int, ($2::bigint % 2147483647)::int)", 2, p2, PGRES_TUPLES_OK, err,
                           errlen, NULL));
    }
    PQclear(r);

    char total[16];
    snprintf(total, sizeof total, "%d", surfaces_total);
    const char *p[] = {trigger, mode, host, pid, PA_VERSION, total};
    r = pa_db_exec(conn,
                   "INSERT INTO pii_audit.scan_runs (trigger, mode, hostname, pid, version, surfaces_total)"
                   " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                   6, p, PGRES_TUPLES_OK, err, errlen, &why);
    if (!r) {
        explain_denied(conn, why, err, errlen);
        return -1;
    }
    long long id = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *p3[] = {cls, NULL};
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    p3[1] = ids;
    r = pa_db_exec(conn, "SELECT pg_advisory_lock($1::int, ($2::bigint % 2147483647)::int)", 2, p3, PGRES_TUPLES_OK, err, errlen,
                   NULL);
    if (!r)
        return -1;
    PQclear(r);
    return id;
}

int pa_findings_finish_run(PGconn *conn, long long scan_id, const struct pa_run_totals *t, char *err, size_t errlen)
{
    char id[32], failed[16], rows[32], bytes[32], nf[32], rf[32], inv[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    snprintf(failed, sizeof failed, "%d", t->surfaces_failed);
    snprintf(rows, sizeof rows, "%lld", t->rows);
    snprintf(bytes, sizeof bytes, "%lld", t->bytes);
    snprintf(nf, sizeof nf, "%lld", t->new_findings);
    snprintf(rf, sizeof rf, "%lld", t->resolved_findings);
    snprintf(inv, sizeof inv, "%lld", t->invalid_documents);
    const char *p[] = {id, t->status, t->mode, failed, rows, bytes, nf, rf, inv, t->error_class, t->error_message};
    PGresult *r = pa_db_exec(conn,
                             "UPDATE pii_audit.scan_runs SET status = $2, mode = $3, finished_at = now(),"
                             " surfaces_failed = $4, rows_scanned = $5, bytes_scanned = $6, new_findings = $7,"
                             " resolved_findings = $8, invalid_documents = $9, error_class = $10, error_message = $11"
                             " WHERE id = $1",
                             11, p, PGRES_COMMAND_OK, err, errlen, NULL);
    if (!r)
        return -1;
    PQclear(r);
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_RUN_CLASS);
    const char *p2[] = {cls, id};
    PQclear(pa_db_exec(conn, "SELECT pg_advisory_unlock($1::int, ($2::bigint % 2147483647)::int)", 2, p2, PGRES_TUPLES_OK, err,
                       errlen, NULL));
    return 0;
}

void pa_cursor_free(struct pa_cursor *c)
{
    free(c->last_id);
    free(c->id_type);
    c->last_id = c->id_type = NULL;
}

int pa_findings_get_cursor(PGconn *conn, const char *table, const char *column, struct pa_cursor *c, char *err,
                           size_t errlen)
{
    memset(c, 0, sizeof *c);
    const char *p[] = {table, column};
    PGresult *r = pa_db_exec(conn,
                             "SELECT last_id, id_type, extract(epoch FROM last_full_scan_at)"
                             " FROM pii_audit.scan_cursors WHERE table_name = $1 AND column_name = $2",
                             2, p, PGRES_TUPLES_OK, err, errlen, NULL);
    if (!r)
        return -1;
    if (PQntuples(r) == 1) {
        if (!PQgetisnull(r, 0, 0))
            c->last_id = pa_xstrdup(PQgetvalue(r, 0, 0));
        c->id_type = pa_xstrdup(PQgetvalue(r, 0, 1));
        if (!PQgetisnull(r, 0, 2))
            c->last_full_scan_at = atof(PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return 0;
}

static int surface_lock(PGconn *conn, const char *surface, const char *fn, char *err, size_t errlen)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_SURFACE_CLASS);
    const char *p[] = {cls, surface};
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s($1::int, hashtext($2))", fn);
    PGresult *r = pa_db_exec(conn, sql, 2, p, PGRES_TUPLES_OK, err, errlen, NULL);
    if (!r)
        return -1;
    int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return got;
}

int pa_findings_lock_surface(PGconn *conn, const char *surface, char *err, size_t errlen)
{
    return surface_lock(conn, surface, "pg_try_advisory_lock", err, errlen);
}

void pa_findings_unlock_surface(PGconn *conn, const char *surface)
{
    char err[256];
    if (PQstatus(conn) == CONNECTION_OK)
        surface_lock(conn, surface, "pg_advisory_unlock", err, sizeof err);
}

int pa_findings_surface_start(PGconn *conn, long long scan_id, const char *table, const char *column,
                              const char *mode, char *err, size_t errlen)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    const char *p[] = {id, table, column, mode};
    PGresult *r = pa_db_exec(conn,
                             "INSERT INTO pii_audit.scan_run_surfaces (scan_id, table_name, column_name, mode)"
                             " VALUES ($1, $2, $3, $4)",
                             4, p, PGRES_COMMAND_OK, err, errlen, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

void pa_batch_init(struct pa_batch *b)
{
    memset(b, 0, sizeof *b);
    pa_buf_init(&b->record_ids);
    pa_buf_init(&b->paths);
    pa_buf_init(&b->categories);
    pa_buf_init(&b->detectors);
    pa_buf_init(&b->rules);
}

void pa_batch_reset(struct pa_batch *b)
{
    pa_buf_truncate(&b->record_ids, 0);
    pa_buf_truncate(&b->paths, 0);
    pa_buf_truncate(&b->categories, 0);
    pa_buf_truncate(&b->detectors, 0);
    pa_buf_truncate(&b->rules, 0);
    b->n = 0;
}

void pa_batch_free(struct pa_batch *b)
{
    pa_buf_free(&b->record_ids);
    pa_buf_free(&b->paths);
    pa_buf_free(&b->categories);
    pa_buf_free(&b->detectors);
    pa_buf_free(&b->rules);
    b->n = 0;
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
    size_t cut = PA_FINDINGS_PATH_MAX - 20; /* room for "...#" and 16 hex digits */
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
                  const char *category, const char *detector, const char *rule)
{
    char tail[24];
    size_t keep = store_path_cut(path, path_len, tail);
    array_elem(&b->record_ids, record_id, id_len);
    array_elem2(&b->paths, path, keep, tail); /* no copy of the path, also when it is cut */
    array_elem(&b->categories, category, strlen(category));
    array_elem(&b->detectors, detector, strlen(detector));
    array_elem(&b->rules, rule, strlen(rule));
    b->n++;
}

static char *braced(const struct pa_buf *a)
{
    return pa_xasprintf("{%s}", a->len ? a->data : "");
}

static int exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen, enum pa_fail_reason *reason)
{
    PGresult *r = pa_db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, err, errlen, reason);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int pa_findings_commit_batch(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc,
                             struct pa_catcounts *new_by_cat, char *err, size_t errlen, enum pa_fail_reason *reason)
{
    int rc = -1;
    char *arrays[5] = {NULL};
    char scan[32], rows[32], bytes[32], inv[32], trunc[32];
    snprintf(scan, sizeof scan, "%lld", bc->scan_id);
    snprintf(rows, sizeof rows, "%lld", bc->rows);
    snprintf(bytes, sizeof bytes, "%lld", bc->bytes);
    snprintf(inv, sizeof inv, "%lld", bc->invalid_documents);
    snprintf(trunc, sizeof trunc, "%lld", bc->truncated_records);
    long long batch_new = 0;

    if (exec_ok(conn, "BEGIN READ WRITE", err, errlen, reason) != 0)
        return -1;

    if (b->n) {
        arrays[0] = braced(&b->record_ids);
        arrays[1] = braced(&b->paths);
        arrays[2] = braced(&b->categories);
        arrays[3] = braced(&b->detectors);
        arrays[4] = braced(&b->rules);
        const char *p[] = {arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], bc->table, bc->column, scan};
        /* DISTINCT ON guards the upsert against a (record, path, category) twice in one statement, which
         * PostgreSQL refuses; xmax = 0 tells a fresh insert from an update. */
        PGresult *r = pa_db_exec(
            conn,
            "WITH input AS ("
            "  SELECT DISTINCT ON (record_id, json_path, category) *"
            "    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
            "      AS t(record_id, json_path, category, detector, rule)),"
            " up AS ("
            "  INSERT INTO pii_audit.findings AS f (table_name, column_name, record_id, json_path, category, detector,"
            "                                       rule, first_scan_id, last_scan_id)"
            "  SELECT $6, $7, record_id, json_path, category, detector, rule, $8, $8 FROM input"
            "  ON CONFLICT ON CONSTRAINT findings_identity DO UPDATE"
            "    SET last_seen_at = now(), last_scan_id = EXCLUDED.last_scan_id, detector = EXCLUDED.detector,"
            "        rule = EXCLUDED.rule, resolved_at = NULL, resolved_scan_id = NULL"
            "  RETURNING category, (xmax = 0) AS inserted)"
            " SELECT category, count(*) FILTER (WHERE inserted) FROM up GROUP BY category",
            8, p, PGRES_TUPLES_OK, err, errlen, reason);
        if (!r)
            goto out;
        for (int i = 0; i < PQntuples(r); i++) {
            long long n = atoll(PQgetvalue(r, i, 1));
            if (n && new_by_cat)
                pa_catcounts_add(new_by_cat, PQgetvalue(r, i, 0), n);
            batch_new += n;
        }
        PQclear(r);
    }

    if (bc->cursor) {
        const char *p[] = {bc->table, bc->column, bc->id_column, bc->id_type, bc->cursor, scan};
        PGresult *r = pa_db_exec(conn,
                                 "INSERT INTO pii_audit.scan_cursors AS c (table_name, column_name, id_column, id_type,"
                                 "   last_id, last_scan_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now())"
                                 " ON CONFLICT (table_name, column_name) DO UPDATE SET id_column = EXCLUDED.id_column,"
                                 "   id_type = EXCLUDED.id_type, last_id = EXCLUDED.last_id,"
                                 "   last_scan_id = EXCLUDED.last_scan_id, updated_at = now()",
                                 6, p, PGRES_COMMAND_OK, err, errlen, reason);
        if (!r)
            goto out;
        PQclear(r);
    }

    {
        char nf[32];
        snprintf(nf, sizeof nf, "%lld", batch_new);
        const char *p[] = {scan, bc->table, bc->column, rows, bytes, nf, inv, trunc};
        PGresult *r = pa_db_exec(conn,
                                 "UPDATE pii_audit.scan_run_surfaces SET rows_scanned = rows_scanned + $4,"
                                 " bytes_scanned = bytes_scanned + $5, new_findings = new_findings + $6,"
                                 " invalid_documents = invalid_documents + $7, truncated_records = truncated_records + $8"
                                 " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                                 8, p, PGRES_COMMAND_OK, err, errlen, reason);
        if (!r)
            goto out;
        PQclear(r);
    }

    if (exec_ok(conn, "COMMIT", err, errlen, reason) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    for (int i = 0; i < 5; i++)
        free(arrays[i]);
    if (rc != 0 && reason && *reason != PA_FAIL_CONNECTION_LOST)
        *reason = PA_FAIL_FINDINGS_STORE;
    return rc;
}

int pa_findings_complete_full(PGconn *conn, long long scan_id, const char *table, const char *column,
                              const char *id_column, const char *id_type, const char *cursor,
                              struct pa_catcounts *resolved_by_cat, char *err, size_t errlen)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    int rc = -1;
    if (exec_ok(conn, "BEGIN READ WRITE", err, errlen, NULL) != 0)
        return -1;
    const char *p[] = {table, column, scan};
    PGresult *r = pa_db_exec(conn,
                             "WITH res AS (UPDATE pii_audit.findings SET resolved_at = now(), resolved_scan_id = $3"
                             "  WHERE table_name = $1 AND column_name = $2 AND resolved_at IS NULL"
                             "    AND last_scan_id < $3 RETURNING category)"
                             " SELECT category, count(*) FROM res GROUP BY category",
                             3, p, PGRES_TUPLES_OK, err, errlen, NULL);
    if (!r)
        goto out;
    long long resolved = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        long long n = atoll(PQgetvalue(r, i, 1));
        pa_catcounts_add(resolved_by_cat, PQgetvalue(r, i, 0), n);
        resolved += n;
    }
    PQclear(r);
    const char *p2[] = {table, column, id_column, id_type, cursor, scan};
    r = pa_db_exec(conn,
                   "INSERT INTO pii_audit.scan_cursors AS c (table_name, column_name, id_column, id_type, last_id,"
                   "   last_scan_id, last_full_scan_id, last_full_scan_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $6, now())"
                   " ON CONFLICT (table_name, column_name) DO UPDATE SET id_column = EXCLUDED.id_column,"
                   "   id_type = EXCLUDED.id_type, last_id = coalesce(EXCLUDED.last_id, c.last_id),"
                   "   last_scan_id = EXCLUDED.last_scan_id, last_full_scan_id = EXCLUDED.last_full_scan_id,"
                   "   last_full_scan_at = now(), updated_at = now()",
                   6, p2, PGRES_COMMAND_OK, err, errlen, NULL);
    if (!r)
        goto out;
    PQclear(r);
    char rs[32];
    snprintf(rs, sizeof rs, "%lld", resolved);
    const char *p3[] = {scan, table, column, rs};
    r = pa_db_exec(conn,
                   "UPDATE pii_audit.scan_run_surfaces SET resolved_findings = resolved_findings + $4"
                   " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                   4, p3, PGRES_COMMAND_OK, err, errlen, NULL);
    if (!r)
        goto out;
    PQclear(r);
    if (exec_ok(conn, "COMMIT", err, errlen, NULL) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0 && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    return rc;
}

int pa_findings_surface_finish(PGconn *conn, long long scan_id, const char *table, const char *column,
                               const struct pa_surface_outcome *o, char *err, size_t errlen)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    const char *p[] = {scan, table, column, o->status, o->error_class, o->error_message, o->mode};
    PGresult *r = pa_db_exec(conn,
                             "UPDATE pii_audit.scan_run_surfaces SET status = $4, finished_at = now(),"
                             " error_class = $5, error_message = $6, mode = $7"
                             " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                             7, p, PGRES_COMMAND_OK, err, errlen, NULL);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int pa_findings_open_counts(PGconn *conn, const char *table, const char *column, struct pa_catcounts *out,
                            char *err, size_t errlen)
{
    const char *p[] = {table, column};
    PGresult *r = pa_db_exec(conn,
                             "SELECT category, count(*) FROM pii_audit.findings"
                             " WHERE table_name = $1 AND column_name = $2 AND resolved_at IS NULL"
                             " GROUP BY category ORDER BY category",
                             2, p, PGRES_TUPLES_OK, err, errlen, NULL);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        pa_catcounts_add(out, PQgetvalue(r, i, 0), atoll(PQgetvalue(r, i, 1)));
    PQclear(r);
    return 0;
}

int pa_findings_load_state(PGconn *conn, pa_findings_state_cb cb, void *arg, double *last_success, char *err,
                           size_t errlen)
{
    PGresult *r = pa_db_exec(conn,
                             "SELECT 'open', table_name, column_name, category, count(*)::float8"
                             "  FROM pii_audit.findings WHERE resolved_at IS NULL GROUP BY 2, 3, 4"
                             " UNION ALL SELECT 'records', table_name, column_name, NULL, count(DISTINCT record_id)"
                             "  FROM pii_audit.findings WHERE resolved_at IS NULL GROUP BY 2, 3"
                             " UNION ALL SELECT 'full_scan', table_name, column_name, NULL,"
                             "  extract(epoch FROM last_full_scan_at)::float8"
                             "  FROM pii_audit.scan_cursors WHERE last_full_scan_at IS NOT NULL"
                             " UNION ALL (SELECT 'last_new', NULL, NULL, NULL, new_findings::float8"
                             "  FROM pii_audit.scan_runs WHERE status IN ('ok', 'partial') ORDER BY id DESC LIMIT 1)"
                             /* one round trip: the last success rides along as a row of its own */
                             " UNION ALL SELECT 'last_success', NULL, NULL, NULL,"
                             "  coalesce(extract(epoch FROM max(finished_at)), 0)::float8"
                             "  FROM pii_audit.scan_runs WHERE status = 'ok'",
                             0, NULL, PGRES_TUPLES_OK, err, errlen, NULL);
    if (!r)
        return -1;
    *last_success = 0;
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
