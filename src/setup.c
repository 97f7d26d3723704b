/* setup: see setup.h. Every check here is one the scan itself makes (the surface check is scan.h's, the schema and
 * grant checks findings.h's, the budget db.h's), so the preflight cannot pass where a scan would then fail at its
 * start, nor write its own version of a check. */
#include "setup.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "findings.h"
#include "log.h"
#include "pa_build.h"
#include "report.h"
#include "scan.h"
#include "sql_embed.h"
#include "util.h"

/* A word for a shell command line: as it is when it is plain, else in single quotes. */
static void shell_word(char *out, size_t cap, const char *s)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                *p == '-' || *p == '.' || *p == '/';
    if (plain) {
        snprintf(out, cap, "%s", s);
        return;
    }
    size_t n = 0;
    if (n + 1 < cap)
        out[n++] = '\'';
    for (const char *p = s; *p && n + 5 < cap; p++) {
        if (*p == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *p;
        }
    }
    if (n + 1 < cap)
        out[n++] = '\'';
    out[n] = '\0';
}

/* Who may create the findings schema, and the commands that do it as them: the role of conn may not (SQLSTATE
 * 42501). The database's owner is asked (any role can read pg_database). */
static void explain_owner(PGconn *conn, const char *config_path)
{
    struct pa_err e;
    PGresult *r = pa_db_exec(conn,
                             "SELECT current_user, pg_catalog.current_database(), pg_catalog.pg_get_userbyid(d.datdba)"
                             "  FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()",
                             0, NULL, PGRES_TUPLES_OK, &e);
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        fprintf(stderr, "pii-auditd: the configured role may not create or change the findings schema: run --init-db "
                        "as the database's owner or a superuser (docs/operations.md, step 1)\n");
        return;
    }
    char db[300], owner[300], conf[600];
    shell_word(db, sizeof db, PQgetvalue(r, 0, 1));
    shell_word(owner, sizeof owner, PQgetvalue(r, 0, 2));
    shell_word(conf, sizeof conf, config_path);
    /* the owner as a superuser psql: sudo -u postgres on Debian, else psql -U owner */
    char as[400];
    if (strcmp(PQgetvalue(r, 0, 2), "postgres") == 0)
        snprintf(as, sizeof as, "sudo -u postgres psql -d %s", db);
    else
        snprintf(as, sizeof as, "psql -d %s -U %s", db, owner);
    fprintf(stderr,
            "pii-auditd: role %s may not create or change the findings schema pii_audit in database %s: that takes the "
            "database's owner (role %s) or a superuser. As root, either\n"
            "  pii-auditd --config %s --print-init-sql | %s -v ON_ERROR_STOP=1\n"
            "(the files of the schema not installed yet; each is idempotent), or every file in order:\n"
            "  for f in %s/sql/[0-9][0-9][0-9]_*.sql; do %s -v ON_ERROR_STOP=1 -f \"$f\"; done\n"
            "(add -h HOST -p PORT for a server on another host), or pii-auditd --init-db with a configuration whose "
            "findings conninfo connects as that role. Then, once, the role and its grants: %s -v ON_ERROR_STOP=1 -f "
            "%s/sql/roles.sql (docs/operations.md, \"Install from the Debian package\", steps 1-2)\n",
            PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), conf, as, PA_DATADIR, as, as, PA_DATADIR);
    PQclear(r);
}

/* "1, 2" for the versions that are not missing, into out. */
static void installed_list(const bool *missing, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < pa_sql_files_count && n < cap; i++)
        if (!missing[i])
            n += (size_t)snprintf(out + n, cap - n, "%s%d", n ? ", " : "", pa_sql_files[i].version);
}

int pa_setup_init_db(const struct pa_config *cfg, const char *config_path)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(cfg, PA_DB_STORE, &e);
    if (!conn) {
        fprintf(stderr, "pii-auditd: cannot connect to the findings database: %s\n", e.msg);
        return PA_EXIT_FAILED;
    }
    int rc = PA_EXIT_FAILED;
    bool missing[pa_sql_files_count + 1];
    int top = pa_findings_missing_files(conn, missing, &e);
    if (top < 0)
        goto failed;
    if (pa_findings_schema_too_new(top, &e) != 0) {
        fprintf(stderr, "pii-auditd: %s\n", e.msg);
        goto out;
    }
    bool any = false;
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        any = any || missing[i];
    if (any && pa_findings_init_db(conn, missing, &e) != 0)
        goto failed;
    char list[256];
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        if (missing[i])
            printf("applied %s\n", pa_sql_files[i].name);
    memset(missing, 0, sizeof missing);
    installed_list(missing, list, sizeof list);
    printf("the findings schema pii_audit is up to date (versions %s)%s\n", list, any ? "" : ": nothing to apply");
    rc = PA_EXIT_CLEAN;
    goto out;
failed:
    fprintf(stderr, "pii-auditd: %s\n", e.msg);
    if (pa_err_sqlstate_is(&e, "42501") && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE)
        explain_owner(conn, config_path);
out:
    PQfinish(conn);
    return rc;
}

int pa_setup_print_init_sql(FILE *out, const struct pa_config *cfg, const char *config_path, bool all)
{
    bool missing[pa_sql_files_count + 1];
    for (unsigned i = 0; i < pa_sql_files_count; i++)
        missing[i] = true;
    char where[200] = "";
    if (!all) {
        struct pa_err e;
        PGconn *conn = pa_db_open(cfg, PA_DB_STORE_READ_ONLY, &e);
        int top = conn ? pa_findings_missing_files(conn, missing, &e) : -1;
        if (top > 0 && pa_findings_schema_too_new(top, &e) != 0) {
            fprintf(stderr, "pii-auditd: %s\n", e.msg);
            PQfinish(conn);
            return PA_EXIT_FAILED;
        }
        if (top < 0) {
            /* the role may not exist yet (a first install): every file, which is safe to apply again */
            fprintf(stderr,
                    "pii-auditd: cannot ask the findings database which schema versions it has (%s): printing "
                    "every file (each is idempotent)\n",
                    e.msg);
            for (unsigned i = 0; i < pa_sql_files_count; i++)
                missing[i] = true;
        } else {
            snprintf(where, sizeof where, " in database %s", PQdb(conn));
        }
        PQfinish(conn);
    }
    fprintf(out, "-- pii-auditd %s: the findings schema pii_audit, %s%s, from %s\n", PA_VERSION,
            all ? "every file (--all)" : "the files not installed", where, config_path);
    fprintf(out, "-- Apply as the owner of the database or a superuser: ... | sudo -u postgres psql -d DB "
                 "-v ON_ERROR_STOP=1\n");
    bool any = false;
    for (unsigned i = 0; i < pa_sql_files_count; i++) {
        if (!missing[i])
            continue;
        any = true;
        fprintf(out, "\n-- %s/sql/%s\n", PA_DATADIR, pa_sql_files[i].name);
        fwrite(pa_sql_files[i].text, 1, pa_sql_files[i].len, out);
    }
    if (!any)
        fprintf(out, "-- the findings schema is up to date: nothing to apply\n");
    return fflush(out) == 0 && !ferror(out) ? PA_EXIT_CLEAN : PA_EXIT_FAILED;
}

/* ---- the preflight -------------------------------------------------------------------------------------------- */

enum verdict { OK, FAIL, SKIP };

struct preflight {
    FILE *out;
    int checks, failed;
};

__attribute__((format(printf, 3, 4))) static void say(struct preflight *p, enum verdict v, const char *fmt, ...)
{
    static const char *const mark[] = {"ok  ", "FAIL", "skip"};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(p->out, "%s %s\n", mark[v], msg);
    if (v != SKIP)
        p->checks++;
    if (v == FAIL)
        p->failed++;
}

static void check_surfaces(struct preflight *p, const struct pa_config *cfg, PGconn *conn)
{
    for (size_t i = 0; i < cfg->n_surfaces; i++) {
        const struct pa_surface *s = &cfg->surfaces[i];
        if (!conn) {
            say(p, SKIP, "surface %s: not checked (no connection to the scanned database)", s->name);
            continue;
        }
        struct pa_scan_surface_check c;
        struct pa_err e;
        if (pa_scan_check_surface(conn, s, &c, &e) == 0)
            say(p, OK,
                "surface %s: table %s.%s (~%lld rows), column %s (%s), id column %s (%s), SELECT on (%s), no "
                "row-level security",
                s->name, s->schema, s->table, c.estimate > 0 ? c.estimate : 0, s->column, c.json ? "json" : "text",
                c.id_column, c.id_type, c.columns);
        else
            say(p, FAIL, "surface %s [%s]: %s", s->name, pa_fail_reason_name(e.reason), e.msg);
    }
}

/* The guardrail's counters (read by the daemon when the guardrail is installed). */
static void check_guardrail(struct preflight *p, PGconn *conn)
{
    struct pa_err e;
    PGresult *r = pa_db_exec(conn,
                             "SELECT f IS NOT NULL, CASE WHEN f IS NOT NULL THEN has_function_privilege(f, 'EXECUTE')"
                             " END FROM (SELECT pg_catalog.to_regprocedure('pii_guardrail.reject_counts()') f) x",
                             0, NULL, PGRES_TUPLES_OK, &e);
    if (!r)
        say(p, FAIL, "guardrail counters: cannot check: %s", e.msg);
    else if (PQgetvalue(r, 0, 0)[0] != 't')
        say(p, OK,
            "guardrail counters: the write-time guardrail is not installed (no pii_audit_guardrail_rejects_total)");
    else if (PQgetvalue(r, 0, 1)[0] == 't')
        say(p, OK, "guardrail counters: EXECUTE on pii_guardrail.reject_counts()");
    else
        say(p, FAIL,
            "guardrail counters: the role lacks EXECUTE on pii_guardrail.reject_counts(): GRANT EXECUTE ON "
            "FUNCTION pii_guardrail.reject_counts() TO %s (pii-auditd --print-grants prints it)",
            PQuser(conn));
    PQclear(r);
}

/* max_connections less the slots kept for superusers, or -1 when it cannot be read. */
static int server_slots(PGconn *conn)
{
    struct pa_err e;
    PGresult *r = pa_db_exec(conn,
                             "SELECT current_setting('max_connections')::int"
                             " - current_setting('superuser_reserved_connections')::int",
                             0, NULL, PGRES_TUPLES_OK, &e);
    int n = r ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

/* The connection budget (db.h) against the role's and the database's CONNECTION LIMIT and the server's slots. */
static void check_budget(struct preflight *p, const struct pa_config *cfg, const struct pa_db_server *s, int slots,
                         const char *what, int need)
{
    char rl[32] = "", dl[32] = "", sl[64] = "";
    if (s->role_limit >= 0)
        snprintf(rl, sizeof rl, " %d", s->role_limit);
    if (s->database_limit >= 0)
        snprintf(dl, sizeof dl, " %d", s->database_limit);
    if (slots >= 0)
        snprintf(sl, sizeof sl, ", server: %d connections for roles other than superusers", slots);
    if (s->role_limit >= 0 && s->role_limit < need)
        say(p, FAIL,
            "connection budget (%s): a scan holds up to %d sessions (scan.parallelism %lld: 2 per reader + 2), "
            "but role %s has CONNECTION LIMIT %d: readers would be refused; ALTER ROLE %s CONNECTION LIMIT %d "
            "(more when several pii-auditd share the role), or lower scan.parallelism",
            what, need, cfg->parallelism, s->role, s->role_limit, s->role, need);
    else if (s->database_limit >= 0 && s->database_limit < need)
        say(p, FAIL,
            "connection budget (%s): a scan holds up to %d sessions, but database %s has CONNECTION LIMIT %d: "
            "ALTER DATABASE %s CONNECTION LIMIT %d, or lower scan.parallelism",
            what, need, s->database, s->database_limit, s->database, need);
    else if (slots >= 0 && slots < need)
        say(p, FAIL,
            "connection budget (%s): a scan holds up to %d sessions, but the server allows %d: raise "
            "max_connections, or lower scan.parallelism",
            what, need, slots);
    else
        say(p, OK, "connection budget (%s): a scan holds up to %d sessions; role %s%s%s, database %s%s%s%s", what, need,
            s->role, s->role_limit < 0 ? " has no CONNECTION LIMIT" : " CONNECTION LIMIT", rl, s->database,
            s->database_limit < 0 ? " has no CONNECTION LIMIT" : " CONNECTION LIMIT", dl, sl);
}

/* The findings database: reachable and writable as the configured role, the schema's versions, its grants. */
static PGconn *check_store(struct preflight *p, const struct pa_config *cfg)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(cfg, PA_DB_STORE, &e);
    if (!conn) {
        pa_db_explain_refusal(cfg, NULL, &e);
        say(p, FAIL, "findings database: cannot connect: %s", e.msg);
        say(p, SKIP, "findings schema and grants: not checked (no connection)");
        return NULL;
    }
    if (cfg->findings_conninfo)
        say(p, OK, "findings database: connected to %s as role %s (findings.conninfo)", PQdb(conn), PQuser(conn));
    else
        say(p, OK, "findings database: the scanned database (no findings.conninfo), writable");
    bool missing[pa_sql_files_count + 1];
    int top = pa_findings_missing_files(conn, missing, &e);
    if (top < 0 || pa_findings_schema_error(top, missing, &e) != 0) {
        if (top < 0)
            pa_findings_explain_denied(conn, &e);
        say(p, FAIL, "findings schema: %s", e.msg);
        if (top <= 0) {
            say(p, SKIP, "findings grants: not checked (no findings schema)");
            return conn;
        }
    } else {
        char list[256];
        installed_list(missing, list, sizeof list);
        say(p, OK, "findings schema: versions %s installed", list);
    }
    struct pa_buf lacks;
    pa_buf_init(&lacks);
    if (pa_findings_missing_grants(conn, &lacks, &e) != 0)
        say(p, FAIL, "findings grants: cannot check: %s", e.msg);
    else if (lacks.len)
        say(p, FAIL, "findings grants: the role lacks %s (pii-auditd --print-grants | psql as the schema's owner)",
            lacks.data);
    else
        say(p, OK, "findings grants: every privilege the daemon needs on pii_audit");
    pa_buf_free(&lacks);
    return conn;
}

int pa_setup_preflight(FILE *out, const struct pa_config *cfg, const char *config_path)
{
    struct preflight p = {.out = out};
    say(&p, OK, "configuration %s: %zu surface%s", config_path, cfg->n_surfaces, cfg->n_surfaces == 1 ? "" : "s");

    struct pa_err e;
    struct pa_db_server s = {0};
    PGconn *scanned = pa_db_open(cfg, PA_DB_SCANNED, &e);
    if (!scanned) {
        pa_db_explain_refusal(cfg, NULL, &e);
        say(&p, FAIL, "scanned database: cannot connect: %s", e.msg);
    } else if (pa_db_describe(scanned, &s, &e) != 0) {
        say(&p, FAIL, "scanned database: cannot read its identity: %s", e.msg);
    } else {
        say(&p, OK, "scanned database: %s as role %s (system identifier %s%s)", s.database, s.role, s.system_identifier,
            s.in_recovery ? ", a hot standby" : "");
    }
    check_surfaces(&p, cfg, scanned);

    PGconn *store = check_store(&p, cfg);

    struct pa_db_budget b;
    pa_db_budget(cfg, &b);
    if (scanned && s.database[0]) {
        check_budget(&p, cfg, &s, server_slots(scanned),
                     b.together ? "scanned and findings database" : "scanned database",
                     b.together ? pa_db_budget_total(&b) : b.scanned);
        check_guardrail(&p, scanned);
    } else {
        say(&p, SKIP, "connection budget and guardrail counters: not checked (no connection to the scanned database)");
    }
    struct pa_db_server fs;
    if (store && !b.together && pa_db_describe(store, &fs, &e) == 0)
        check_budget(&p, cfg, &fs, server_slots(store), "findings database", b.store);

    if (scanned)
        PQfinish(scanned);
    if (store)
        PQfinish(store);
    if (p.failed)
        fprintf(out, "preflight: %d of %d checks failed\n", p.failed, p.checks);
    else
        fprintf(out, "preflight: all %d checks passed\n", p.checks);
    return p.failed ? PA_EXIT_USAGE : PA_EXIT_CLEAN;
}
