/* grants: see grants.h. The privilege table is data; --print-grants is the only code here that talks to a
 * database (a primary-key lookup and quote_ident, on a scanned-database session). Must never print a conninfo or a
 * password. */
#include "grants.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "guardrail.h"
#include "log.h"
#include "scan.h"

const struct pa_grant pa_grants[] = {
    {{"USAGE"}, "SCHEMA", {"pii_audit"}, PA_GRANT_DAEMON},
    {{"SELECT"}, "", {"pii_audit.schema_version"}, PA_GRANT_DAEMON},
    {{"SELECT", "INSERT", "UPDATE"},
     "",
     {"pii_audit.scan_runs", "pii_audit.scan_run_surfaces", "pii_audit.scan_cursors", "pii_audit.findings"},
     PA_GRANT_DAEMON},
    /* the scanned databases' identities (002_database_identity.sql): a first scan inserts its own or adopts the
     * unclaimed one */
    {{"SELECT", "INSERT", "UPDATE"}, "", {"pii_audit.databases"}, PA_GRANT_DAEMON},
    {{"SELECT"}, "", {"pii_audit.pii_audit_findings"}, PA_GRANT_ROLES_ONLY},
    {{"USAGE"}, "SEQUENCE", {"pii_audit.scan_runs_id_seq", "pii_audit.findings_id_seq"}, PA_GRANT_DAEMON},
    /* scans apply the allowlist; only operators write it */
    {{"SELECT"}, "", {"pii_audit.allowlist"}, PA_GRANT_DAEMON},
    {{"USAGE"}, "SCHEMA", {"pii_audit"}, PA_GRANT_OPERATOR},
    {{"SELECT"},
     "",
     {"pii_audit.schema_version", "pii_audit.scan_runs", "pii_audit.scan_run_surfaces", "pii_audit.scan_cursors",
      "pii_audit.databases"},
     PA_GRANT_OPERATOR},
    {{"SELECT", "INSERT", "DELETE"}, "", {"pii_audit.allowlist"}, PA_GRANT_OPERATOR},
    {{"USAGE"}, "SEQUENCE", {"pii_audit.allowlist_id_seq"}, PA_GRANT_OPERATOR},
    /* acknowledging and resolving by hand touch these columns only: an operator cannot rewrite where a finding is */
    {{"SELECT",
      "UPDATE (acknowledged_at, acknowledged_by, acknowledged_note, resolved_at, resolved_scan_id, resolved_reason, "
      "resolved_by, resolved_note)"},
     "",
     {"pii_audit.findings"},
     PA_GRANT_OPERATOR},
    {{"EXECUTE"}, "FUNCTION", {PA_GUARDRAIL_COUNTS_FUNCTION}, PA_GRANT_IF_INSTALLED},
};
const size_t pa_grants_n = PA_ARRAY_LEN(pa_grants);

static void join(struct pa_buf *out, const char *const *v)
{
    for (size_t i = 0; v[i]; i++)
        pa_buf_printf(out, "%s%s", i ? ", " : "", v[i]);
}

void pa_grant_statement(struct pa_buf *out, const struct pa_grant *g, const char *qrole)
{
    pa_buf_appends(out, "GRANT ");
    join(out, g->privs);
    pa_buf_printf(out, " ON %s%s", g->kind, *g->kind ? " " : "");
    join(out, g->objects);
    pa_buf_printf(out, " TO %s", qrole);
}

/* USAGE on each schema (once) and column-level SELECT on what each surface's scans select: its key (any number of
 * columns), the column, and the system columns its mode reads (ctid, xmin; a role with column grants only cannot
 * select them otherwise). A partitioned table is read through its parent: the parent's grants are all it needs,
 * for partitions created later too. */
static void print_surfaces(FILE *out, const struct pa_config *cfg, PGconn *conn, const char *qrole)
{
    for (size_t i = 0; i < cfg->n_surfaces; i++) {
        const struct pa_surface *s = &cfg->surfaces[i];
        char *cols = pa_scan_grant_columns(conn, s);
        const char *parts[] = {s->schema, s->table, s->column};
        char *q[3] = {NULL};
        for (int k = 0; k < 3; k++)
            q[k] = pa_db_quote_ident(conn, parts[k]);
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(cfg->surfaces[k].schema, s->schema) == 0)
                seen = true;
        if (!seen)
            fprintf(out, PA_GRANT_SCHEMA_USAGE_FMT ";\n", q[0], qrole);
        if (cols)
            fprintf(out, PA_GRANT_COLUMNS_FMT ";\n", cols, "TABLE ", q[0], q[1], qrole);
        else
            fprintf(out,
                    "GRANT SELECT ON TABLE %s.%s TO %s; -- key not known: narrow to (key columns, %s, ctid, xmin) "
                    "if you can\n",
                    q[0], q[1], qrole, q[2]);
        for (int k = 0; k < 3; k++)
            free(q[k]);
        free(cols);
    }
}

/* pii-auditd's own objects, from the table. A grant on an object that may not be installed (the guardrail's
 * counters) is made by a DO block when the object exists; applying the guardrail later grants it to a role named
 * pii_auditd itself. */
static void print_own(FILE *out, const char *role, const char *qrole)
{
    struct pa_buf b, lit;
    pa_buf_init(&b);
    pa_buf_init(&lit);
    for (size_t i = 0; i < pa_grants_n; i++) {
        const struct pa_grant *g = &pa_grants[i];
        pa_buf_truncate(&b, 0);
        pa_buf_truncate(&lit, 0);
        if (g->need == PA_GRANT_DAEMON) {
            pa_grant_statement(&b, g, qrole);
            fprintf(out, "%s;\n", b.data);
        } else if (g->need == PA_GRANT_IF_INSTALLED) {
            pa_buf_appends(&lit, "DO $pa$ BEGIN IF pg_catalog.to_regprocedure(");
            pa_buf_append_sql_literal(&lit, g->objects[0]);
            pa_buf_appends(&lit, ") IS NOT NULL THEN EXECUTE ");
            pa_grant_statement(&b, g, "");
            pa_buf_append_sql_literal(&lit, b.data);
            pa_buf_appends(&lit, " || pg_catalog.quote_ident(");
            pa_buf_append_sql_literal(&lit, role);
            pa_buf_appends(&lit, "); END IF; END $pa$;");
            fprintf(out, "%s\n", lit.data);
        }
    }
    pa_buf_free(&b);
    pa_buf_free(&lit);
}

/* The connection budget (db.h: what a scan holds at once) as comments, with the CONNECTION LIMIT that fits it: a
 * comment, so that piping this output into psql never changes a limit a DBA chose for several daemons. With a
 * connection, the role's current limit too. */
static void print_budget(FILE *out, const struct pa_config *cfg, PGconn *conn, const char *qrole)
{
    struct pa_db_budget b;
    pa_db_budget(cfg, &b);
    int total = pa_db_budget_total(&b);
    fprintf(out,
            "-- Connection budget: a scan holds at most %d sessions at once as this role: %d on the scanned database "
            "(scan.parallelism %lld x 2 for the readers + 1 for the surface checks) + %d on the findings database%s.\n",
            total, b.scanned, cfg->parallelism, b.store,
            b.together ? "" : " (findings.conninfo: on another server or role, each counts against its own limit)");
    fprintf(out,
            "-- Every pii-auditd connecting as %s counts against its CONNECTION LIMIT (sql/roles.sql sets 40, enough "
            "for one daemon at scan.parallelism 16); for this configuration alone, or add up a fleet's budgets:\n",
            qrole);
    fprintf(out, "-- ALTER ROLE %s CONNECTION LIMIT %d;\n", qrole, total);
    struct pa_db_server s;
    struct pa_err e;
    if (conn && pa_db_describe(conn, &s, &e) == 0 && s.role_limit >= 0)
        fprintf(out, "-- (role %s has CONNECTION LIMIT %d now%s)\n", qrole, s.role_limit,
                s.role_limit < total ? ": below this budget, readers will be refused" : "");
}

int pa_grants_print(FILE *out, const struct pa_config *cfg)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(cfg, PA_DB_SCANNED, &e);
    if (!conn)
        pa_warn("cannot connect to look up primary keys (%s); surfaces without id_column get a table-level grant",
                e.msg);
    char role[128];
    pa_db_conninfo_user(cfg->db_conninfo, role, sizeof role);
    char *qrole = pa_db_quote_ident(conn, role);
    fprintf(out, "-- GRANTs for pii-auditd (role %s), generated from %s\n", role, cfg->path ? cfg->path : "config");
    fprintf(out, "-- Apply as the owner of the tables (or a superuser), after the findings schema (sql/NNN_*.sql) and "
                 "sql/roles.sql.\n");
    /* CONNECT is PUBLIC's by default, but hardened databases revoke it */
    PGresult *dbr = conn ? PQexec(conn, "SELECT pg_catalog.quote_ident(pg_catalog.current_database())") : NULL;
    if (PQresultStatus(dbr) == PGRES_TUPLES_OK && PQntuples(dbr) == 1)
        fprintf(out, PA_GRANT_CONNECT_FMT ";\n", PQgetvalue(dbr, 0, 0), qrole);
    else
        fprintf(out, "-- not connected: also " PA_GRANT_CONNECT_FMT ";\n", "<the scanned database>", qrole);
    PQclear(dbr);
    print_surfaces(out, cfg, conn, qrole);
    print_own(out, role, qrole);
    print_budget(out, cfg, conn, qrole);
    free(qrole);
    if (conn)
        PQfinish(conn);
    return 0;
}
