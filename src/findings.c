/* findings: see findings.h. Every write that moves a cursor commits together with the findings it covers. */
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

/* The parameters of one statement, in order: param() adds one and returns its number ($n). */
struct params {
    const char *v[24];
    int n;
};

static int param(struct params *p, const char *v)
{
    p->v[p->n] = v;
    return ++p->n;
}

/* The surface a row of findings or scan_cursors belongs to, matched in ONE place for every query written since
 * issue 14 ("<alias>table_name = $i AND <alias>column_name = $j", with its parameters), so that a surface's
 * identity can grow (its database) here alone. */
static void surface_match(struct pa_buf *sql, const char *alias, struct params *p, const char *table,
                          const char *column)
{
    int t = param(p, table), c = param(p, column);
    pa_buf_printf(sql, "%stable_name = $%d AND %scolumn_name = $%d", alias, t, alias, c);
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

/* The versions applied (schema_version rows), as a bit set over 1..63; *max receives the highest. A database
 * without the schema has none. Versions are a set, not a high-water mark: the files come from branches merged in
 * any order, and each is applied when its own row is missing. 0, or -1 with e set. */
static int installed_versions(PGconn *conn, unsigned long long *set, int *max, struct pa_err *e)
{
    *set = 0;
    *max = 0;
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
    for (int i = 0; i < PQntuples(r); i++) {
        int v = atoi(PQgetvalue(r, i, 0));
        if (v > *max)
            *max = v;
        if (v > 0 && v < 64)
            *set |= 1ULL << v;
    }
    PQclear(r);
    return 0;
}

static bool version_applied(unsigned long long set, int v)
{
    return v > 0 && v < 64 && (set >> v) & 1;
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

void pa_findings_explain_denied(PGconn *conn, struct pa_err *e)
{
    if (!pa_err_sqlstate_is(e, "42501") || PQstatus(conn) != CONNECTION_OK ||
        PQtransactionStatus(conn) != PQTRANS_IDLE)
        return;
    /* The server names the object, not the privilege: ask which of the grants --print-grants prints for the
     * findings schema this role lacks, and name them as statements to run. */
    struct pa_buf sql;
    pa_buf_init(&sql);
    denied_query(&sql);
    PGresult *r = PQexec(conn, sql.data);
    pa_buf_free(&sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        pa_err_append(e, "; the role lacks: %s (see pii-auditd --print-grants)", PQgetvalue(r, 0, 0));
    PQclear(r);
}

int pa_findings_check_schema(PGconn *conn, struct pa_err *e)
{
    unsigned long long set;
    int max;
    if (installed_versions(conn, &set, &max, e) != 0) {
        pa_findings_explain_denied(conn, e);
        return -1;
    }
    if (max > PA_SCHEMA_VERSION) {
        return pa_err_set(
            e, PA_FAIL_SCHEMA,
            "the findings schema is version %d, newer than this pii-auditd understands (%d): upgrade pii-auditd", max,
            PA_SCHEMA_VERSION);
    }
    char files[512] = "";
    size_t off = 0;
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        if (!version_applied(set, pa_sql_files[i].version))
            off += (size_t)snprintf(files + off, off < sizeof files ? sizeof files - off : 0, "%s%s/sql/%s",
                                    off ? ", then " : "", PA_DATADIR, pa_sql_files[i].name);
    if (!files[0])
        return 0;
    return pa_err_set(e, PA_FAIL_SCHEMA,
             max == 0 ? "the findings schema pii_audit is not installed in the findings database: apply %s with psql "
                        "(psql -v ON_ERROR_STOP=1 -f FILE), or run pii-auditd --init-db"
                      : "the findings schema is out of date: apply %s with psql (psql -v ON_ERROR_STOP=1 -f FILE), or "
                        "run pii-auditd --init-db",
             files);
}

int pa_findings_init_db(PGconn *conn, struct pa_err *e)
{
    unsigned long long set;
    int max;
    if (installed_versions(conn, &set, &max, e) != 0)
        return -1;
    for (unsigned i = 0; i < pa_sql_files_count; i++) {
        if (version_applied(set, pa_sql_files[i].version))
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
static int mark_interrupted(PGconn *conn, const char *host, const char *pid, int *interrupted, struct pa_err *e)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_RUN_CLASS);
    const char *p[] = {cls, host, pid};
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
                             3, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    note_interrupted(conn, r, interrupted);
    PQclear(r);
    return 0;
}

long long pa_findings_begin_run(PGconn *conn, const char *trigger, const char *mode, int surfaces_total,
                                int *interrupted, struct pa_err *e)
{
    *interrupted = 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char pid[16], total[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(total, sizeof total, "%d", surfaces_total);
    if (mark_interrupted(conn, host, pid, interrupted, e) != 0) {
        pa_findings_explain_denied(conn, e);
        return -1;
    }
    const char *p[] = {trigger, mode, host, pid, PA_VERSION, total};
    PGresult *r = pa_db_exec(conn,
                             "INSERT INTO pii_audit.scan_runs (trigger, mode, hostname, pid, version, surfaces_total)"
                             " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                             6, p, PGRES_TUPLES_OK, e);
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
    char id[32], failed[16], rows[32], bytes[32], nf[32], rf[32], inv[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    snprintf(failed, sizeof failed, "%d", t->surfaces_failed);
    snprintf(rows, sizeof rows, "%lld", t->rows);
    snprintf(bytes, sizeof bytes, "%lld", t->bytes);
    snprintf(nf, sizeof nf, "%lld", t->new_findings);
    snprintf(rf, sizeof rf, "%lld", t->resolved_findings);
    snprintf(inv, sizeof inv, "%lld", t->invalid_documents);
    const char *p[] = {id, t->status, t->mode, failed, rows, bytes, nf, rf, inv, t->error_class, t->error_message};
    if (exec_cmd(conn,
                 "UPDATE pii_audit.scan_runs SET status = $2, mode = $3, finished_at = now(),"
                 " surfaces_failed = $4, rows_scanned = $5, bytes_scanned = $6, new_findings = $7,"
                 " resolved_findings = $8, invalid_documents = $9, error_class = $10, error_message = $11"
                 " WHERE id = $1",
                 11, p, e) != 0)
        return -1;
    struct pa_err ignored;
    run_lock(conn, "pg_advisory_unlock", id, &ignored);
    return 0;
}

void pa_cursor_free(struct pa_cursor *c)
{
    char **v[] = {&c->last_id,  &c->id_column,         &c->id_type,        &c->watermark,
                  &c->changed_watermark, &c->watermark_last_id, &c->tail_watermark, &c->watermark_kind,
                  &c->full_pos, &c->full_watermark,    &c->full_fingerprint};
    for (size_t i = 0; i < PA_ARRAY_LEN(v); i++) {
        free(*v[i]);
        *v[i] = NULL;
    }
}

static char *opt_value(const PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? NULL : pa_xstrdup(PQgetvalue(r, 0, col));
}

int pa_findings_get_cursor(PGconn *conn, const char *table, const char *column, struct pa_cursor *c,
                           struct pa_err *e)
{
    memset(c, 0, sizeof *c);
    struct params p = {0};
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_appends(&sql, "SELECT last_id, id_column, id_type, extract(epoch FROM last_full_scan_at), watermark,"
                         " changed_watermark, watermark_last_id, tail_watermark, watermark_kind, relation_oid,"
                         " full_pos, full_watermark, full_fingerprint, full_scan_id"
                         " FROM pii_audit.scan_cursors WHERE ");
    surface_match(&sql, "", &p, table, column);
    PGresult *r = pa_db_exec(conn, sql.data, p.n, p.v, PGRES_TUPLES_OK, e);
    pa_buf_free(&sql);
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
    }
    PQclear(r);
    return 0;
}

static int surface_lock(PGconn *conn, const char *surface, const char *fn, struct pa_err *e)
{
    char cls[16];
    snprintf(cls, sizeof cls, "%d", LOCK_SURFACE_CLASS);
    const char *p[] = {cls, surface};
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s($1::int, hashtext($2))", fn);
    PGresult *r = pa_db_exec(conn, sql, 2, p, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return got;
}

int pa_findings_lock_surface(PGconn *conn, const char *surface, struct pa_err *e)
{
    return surface_lock(conn, surface, "pg_try_advisory_lock", e);
}

void pa_findings_unlock_surface(PGconn *conn, const char *surface)
{
    struct pa_err ignored;
    if (PQstatus(conn) == CONNECTION_OK)
        surface_lock(conn, surface, "pg_advisory_unlock", &ignored);
}

int pa_findings_surface_start(PGconn *conn, long long scan_id, const char *table, const char *column,
                              const char *mode, struct pa_err *e)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", scan_id);
    const char *p[] = {id, table, column, mode};
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
    pa_buf_init(&b->seen);
}

void pa_batch_reset(struct pa_batch *b)
{
    pa_buf_truncate(&b->record_ids, 0);
    pa_buf_truncate(&b->paths, 0);
    pa_buf_truncate(&b->categories, 0);
    pa_buf_truncate(&b->detectors, 0);
    pa_buf_truncate(&b->rules, 0);
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
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
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
static int upsert_findings(PGconn *conn, const struct pa_batch *b, const struct pa_batch_commit *bc,
                           const char *scan, struct pa_catcounts *new_by_cat, long long *batch_new, struct pa_err *e)
{
    if (!b->n)
        return 0;
    const struct pa_buf *bufs[5] = {&b->record_ids, &b->paths, &b->categories, &b->detectors, &b->rules};
    char *arrays[5];
    for (int i = 0; i < 5; i++)
        arrays[i] = pa_xasprintf("{%s}", bufs[i]->len ? bufs[i]->data : "");
    const char *p[] = {arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], bc->table, bc->column, scan};
    /* DISTINCT ON guards the upsert against a (record, path, category) twice in one statement, which
     * PostgreSQL refuses; xmax = 0 tells a fresh insert from an update. */
    int rc = category_counts(
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
        "        rule = EXCLUDED.rule, resolved_at = NULL, resolved_scan_id = NULL, resolved_reason = NULL"
        "  RETURNING category, (xmax = 0) AS inserted)"
        " SELECT category, count(*) FILTER (WHERE inserted) FROM up GROUP BY category",
        8, p, new_by_cat, batch_new, e);
    for (int i = 0; i < 5; i++)
        free(arrays[i]);
    return rc;
}

/* What a batch or a full scan's end adds to the surface's counters in its run (scan_run_surfaces). */
struct surface_counts {
    long long rows, bytes, new_findings, invalid_documents, truncated_records, resolved_findings, reread;
};

static int add_surface_counts(PGconn *conn, const char *scan, const char *table, const char *column,
                              const struct surface_counts *n, struct pa_err *e)
{
    const long long v[] = {n->rows, n->bytes, n->new_findings, n->invalid_documents, n->truncated_records,
                           n->resolved_findings, n->reread};
    char s[7][32];
    for (int i = 0; i < 7; i++)
        snprintf(s[i], sizeof s[i], "%lld", v[i]);
    const char *p[] = {scan, table, column, s[0], s[1], s[2], s[3], s[4], s[5], s[6]};
    return exec_cmd(conn,
                    "UPDATE pii_audit.scan_run_surfaces SET rows_scanned = rows_scanned + $4,"
                    " bytes_scanned = bytes_scanned + $5, new_findings = new_findings + $6,"
                    " invalid_documents = invalid_documents + $7, truncated_records = truncated_records + $8,"
                    " resolved_findings = resolved_findings + $9, rows_reread = rows_reread + $10"
                    " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                    10, p, e);
}

/* The surface's cursor row, created when it has none (the one place that names the cursor's conflict target), so
 * that every write after it is an UPDATE matched by surface_match. */
static int cursor_row(PGconn *conn, const char *table, const char *column, const char *id_column,
                      const char *id_type, struct pa_err *e)
{
    const char *p[] = {table, column, id_column, id_type};
    return exec_cmd(conn,
                    "INSERT INTO pii_audit.scan_cursors (table_name, column_name, id_column, id_type)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (table_name, column_name) DO NOTHING",
                    4, p, e);
}

/* UPDATE pii_audit.scan_cursors SET <set> WHERE <the surface>, set's own parameters first in p. */
static int cursor_update(PGconn *conn, struct pa_buf *set, struct params *p, const char *table, const char *column,
                         struct pa_err *e)
{
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "UPDATE pii_audit.scan_cursors SET %s, updated_at = now() WHERE ", set->data);
    surface_match(&sql, "", p, table, column);
    int rc = exec_cmd(conn, sql.data, p->n, p->v, e);
    pa_buf_free(&sql);
    return rc;
}

/* The cursor moved with a batch, in the batch's transaction: the tail (last_id) or the full pass's position. */
static int move_cursor(PGconn *conn, const struct pa_batch_commit *bc, const char *scan, struct pa_err *e)
{
    if (bc->move == PA_MOVE_NONE || (bc->move == PA_MOVE_TAIL && !bc->cursor))
        return 0;
    if (cursor_row(conn, bc->table, bc->column, bc->id_column, bc->id_type, e) != 0)
        return -1;
    struct params p = {0};
    struct pa_buf set;
    pa_buf_init(&set);
    char pass[32];
    int ic = param(&p, bc->id_column), it = param(&p, bc->id_type), sc = param(&p, scan);
    pa_buf_printf(&set, "id_column = $%d, id_type = $%d, last_scan_id = $%d", ic, it, sc);
    if (bc->move == PA_MOVE_TAIL) {
        /* rows past watermark_last_id are read from here on by a scan that began at this watermark: the next scan
         * re-reads those of them that changed since (tail_watermark), not since the older watermark */
        int c = param(&p, bc->cursor), w = param(&p, bc->watermark);
        pa_buf_printf(&set, ", last_id = $%d, tail_watermark = coalesce(tail_watermark, $%d)", c, w);
    } else {
        snprintf(pass, sizeof pass, "%lld", bc->full_scan_id);
        int c = param(&p, bc->cursor), ps = param(&p, pass), w = param(&p, bc->watermark),
            f = param(&p, bc->fingerprint);
        pa_buf_printf(&set,
                      ", full_pos = $%d, full_scan_id = $%d, full_watermark = $%d, full_fingerprint = $%d,"
                      " full_started_at = CASE WHEN full_scan_id IS DISTINCT FROM $%d::bigint THEN now()"
                      " ELSE full_started_at END",
                      c, ps, w, f, ps);
    }
    int rc = cursor_update(conn, &set, &p, bc->table, bc->column, e);
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
    struct params p = {0};
    struct pa_buf sql;
    pa_buf_init(&sql);
    int sc = param(&p, scan), ids = param(&p, arrays[0]), r = param(&p, arrays[1]), pa = param(&p, arrays[2]),
        ca = param(&p, arrays[3]);
    pa_buf_printf(&sql,
                  "WITH res AS (UPDATE pii_audit.findings f SET resolved_at = now(), resolved_scan_id = $%d,"
                  "   resolved_reason = 'gone'"
                  "  WHERE f.resolved_at IS NULL AND f.record_id = ANY($%d::text[])"
                  "    AND NOT EXISTS (SELECT 1 FROM unnest($%d::text[], $%d::text[], $%d::text[]) i(r, p, c)"
                  "                     WHERE i.r = f.record_id AND i.p = f.json_path AND i.c = f.category)"
                  "    AND ",
                  sc, ids, r, pa, ca);
    surface_match(&sql, "f.", &p, bc->table, bc->column);
    pa_buf_appends(&sql, " RETURNING category) SELECT category, count(*) FROM res GROUP BY category");
    int rc = category_counts(conn, sql.data, p.n, p.v, resolved_by_cat, total, e);
    pa_buf_free(&sql);
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
                               .reread = bc->reread};
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0)
        return -1;
    int rc = upsert_findings(conn, b, bc, scan, new_by_cat, &n.new_findings, e);
    if (rc == 0)
        rc = resolve_gone(conn, b, bc, scan, resolved_by_cat, &n.resolved_findings, e);
    if (rc == 0)
        rc = move_cursor(conn, bc, scan, e);
    if (rc == 0)
        rc = add_surface_counts(conn, scan, bc->table, bc->column, &n, e);
    rc = tx_end(conn, rc, e);
    if (rc != 0 && e->reason != PA_FAIL_CONNECTION_LOST)
        e->reason = PA_FAIL_FINDINGS_STORE;
    return rc;
}

/* The watermark fields of a set (a completed scan's): watermark, its kind and table, the keys it covers up to. */
static void watermark_set(struct pa_buf *set, struct params *p, const struct pa_watermark_rec *w, const char *oid)
{
    int wm = param(p, w->watermark), cw = param(p, w->changed_watermark), k = param(p, w->kind),
        o = param(p, oid);
    pa_buf_printf(set,
                  ", watermark = $%d, changed_watermark = $%d, watermark_kind = $%d, relation_oid = $%d,"
                  " tail_watermark = NULL",
                  wm, cw, k, o);
}

int pa_findings_set_watermark(PGconn *conn, long long scan_id, const char *table, const char *column,
                              const char *id_column, const char *id_type, const struct pa_watermark_rec *w,
                              struct pa_err *e)
{
    char scan[32], oid[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    snprintf(oid, sizeof oid, "%lld", w->relation_oid);
    if (cursor_row(conn, table, column, id_column, id_type, e) != 0)
        return -1;
    struct params p = {0};
    struct pa_buf set;
    pa_buf_init(&set);
    int ic = param(&p, id_column), it = param(&p, id_type), sc = param(&p, scan);
    /* the keys covered: the tail as it is now, after this scan read past it */
    pa_buf_printf(&set, "id_column = $%d, id_type = $%d, last_scan_id = $%d, watermark_last_id = last_id", ic, it,
                  sc);
    watermark_set(&set, &p, w, oid);
    int rc = cursor_update(conn, &set, &p, table, column, e);
    pa_buf_free(&set);
    return rc;
}

int pa_findings_complete_full(PGconn *conn, long long scan_id, long long pass_scan_id, const char *table,
                              const char *column, const char *id_column, const char *id_type,
                              const struct pa_watermark_rec *w, struct pa_catcounts *resolved_by_cat,
                              struct pa_err *e)
{
    char scan[32], pass[32], oid[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    snprintf(pass, sizeof pass, "%lld", pass_scan_id > 0 ? pass_scan_id : scan_id);
    struct surface_counts n = {0};
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0)
        return -1;
    /* open findings of the surface that no scan saw since the pass began: every record was read since, so these
     * were gone from their record, or their record was */
    struct params p = {0};
    struct pa_buf sql;
    pa_buf_init(&sql);
    int sc = param(&p, scan), ps = param(&p, pass);
    pa_buf_printf(&sql,
                  "WITH res AS (UPDATE pii_audit.findings SET resolved_at = now(), resolved_scan_id = $%d,"
                  "   resolved_reason = 'full_scan'"
                  "  WHERE resolved_at IS NULL AND last_scan_id < $%d AND ",
                  sc, ps);
    surface_match(&sql, "", &p, table, column);
    pa_buf_appends(&sql, " RETURNING category) SELECT category, count(*) FROM res GROUP BY category");
    int rc = category_counts(conn, sql.data, p.n, p.v, resolved_by_cat, &n.resolved_findings, e);
    pa_buf_free(&sql);
    if (rc == 0)
        rc = cursor_row(conn, table, column, id_column, id_type, e);
    if (rc == 0) {
        struct params q = {0};
        struct pa_buf set;
        pa_buf_init(&set);
        int ic = param(&q, id_column), it = param(&q, id_type), s2 = param(&q, scan);
        pa_buf_printf(&set,
                      "id_column = $%d, id_type = $%d, last_scan_id = $%d, last_full_scan_id = $%d,"
                      " last_full_scan_at = now(), full_pos = NULL, full_scan_id = NULL, full_watermark = NULL,"
                      " full_fingerprint = NULL, full_started_at = NULL",
                      ic, it, s2, s2);
        if (w) {
            snprintf(oid, sizeof oid, "%lld", w->relation_oid);
            int l = param(&q, w->last_id);
            pa_buf_printf(&set, ", last_id = $%d, watermark_last_id = $%d", l, l);
            watermark_set(&set, &q, w, oid);
        }
        rc = cursor_update(conn, &set, &q, table, column, e);
        pa_buf_free(&set);
    }
    if (rc == 0)
        rc = add_surface_counts(conn, scan, table, column, &n, e);
    return tx_end(conn, rc, e);
}

int pa_findings_drop_full(PGconn *conn, const char *table, const char *column, struct pa_err *e)
{
    struct params p = {0};
    struct pa_buf set;
    pa_buf_init(&set);
    pa_buf_appends(&set, "full_pos = NULL, full_scan_id = NULL, full_watermark = NULL, full_fingerprint = NULL,"
                         " full_started_at = NULL");
    int rc = cursor_update(conn, &set, &p, table, column, e);
    pa_buf_free(&set);
    return rc;
}

int pa_findings_open_records(PGconn *conn, const char *table, const char *column, const char *after, int limit,
                             struct pa_buf *ids, int *n, char **last, struct pa_err *e)
{
    *n = 0;
    *last = NULL;
    pa_buf_truncate(ids, 0);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    struct params p = {0};
    struct pa_buf sql;
    pa_buf_init(&sql);
    int a = param(&p, after ? after : ""), l = param(&p, lim);
    /* the findings_identity index walks the surface's records in order; ctid: ids name row locations, which only
     * a keyless surface's full reads can judge */
    pa_buf_printf(&sql,
                  "SELECT DISTINCT record_id FROM pii_audit.findings WHERE resolved_at IS NULL AND record_id > $%d"
                  "   AND record_id NOT LIKE 'ctid:%%' AND ",
                  a);
    surface_match(&sql, "", &p, table, column);
    pa_buf_printf(&sql, " ORDER BY record_id LIMIT $%d::int", l);
    PGresult *r = pa_db_exec(conn, sql.data, p.n, p.v, PGRES_TUPLES_OK, e);
    pa_buf_free(&sql);
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

int pa_findings_resolve_deleted(PGconn *conn, long long scan_id, const char *table, const char *column,
                                const char *ids, struct pa_catcounts *resolved_by_cat, struct pa_err *e)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    struct surface_counts n = {0};
    struct params p = {0};
    struct pa_buf sql;
    pa_buf_init(&sql);
    int sc = param(&p, scan), i = param(&p, ids);
    pa_buf_printf(&sql,
                  "WITH res AS (UPDATE pii_audit.findings SET resolved_at = now(), resolved_scan_id = $%d,"
                  "   resolved_reason = 'deleted'"
                  "  WHERE resolved_at IS NULL AND record_id = ANY($%d::text[]) AND ",
                  sc, i);
    surface_match(&sql, "", &p, table, column);
    pa_buf_appends(&sql, " RETURNING category) SELECT category, count(*) FROM res GROUP BY category");
    if (exec_cmd(conn, "BEGIN READ WRITE", 0, NULL, e) != 0) {
        pa_buf_free(&sql);
        return -1;
    }
    int rc = category_counts(conn, sql.data, p.n, p.v, resolved_by_cat, &n.resolved_findings, e);
    pa_buf_free(&sql);
    if (rc == 0)
        rc = add_surface_counts(conn, scan, table, column, &n, e);
    return tx_end(conn, rc, e);
}

int pa_findings_surface_finish(PGconn *conn, long long scan_id, const char *table, const char *column,
                               const struct pa_surface_outcome *o, struct pa_err *e)
{
    char scan[32];
    snprintf(scan, sizeof scan, "%lld", scan_id);
    const char *p[] = {scan, table, column, o->status, o->error_class, o->error_message, o->mode};
    return exec_cmd(conn,
                    "UPDATE pii_audit.scan_run_surfaces SET status = $4, finished_at = now(),"
                    " error_class = $5, error_message = $6, mode = $7"
                    " WHERE scan_id = $1 AND table_name = $2 AND column_name = $3",
                    7, p, e);
}

int pa_findings_open_counts(PGconn *conn, const char *table, const char *column, struct pa_catcounts *out,
                            struct pa_err *e)
{
    const char *p[] = {table, column};
    return category_counts(conn,
                           "SELECT category, count(*) FROM pii_audit.findings"
                           " WHERE table_name = $1 AND column_name = $2 AND resolved_at IS NULL"
                           " GROUP BY category ORDER BY category",
                           2, p, out, NULL, e);
}

int pa_findings_load_state(PGconn *conn, pa_findings_state_cb cb, void *arg, double *last_success,
                           struct pa_err *e)
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
                             0, NULL, PGRES_TUPLES_OK, e);
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
