/* main: parses the command line, wires config -> detect -> scan -> report, and maps outcomes to exit codes.
 * All logic lives in the modules; nothing here may print a conninfo, a password or a scanned value. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "detect.h"
#include "findings.h"
#include "guardrail.h"
#include "log.h"
#include "pa_build.h"
#include "report.h"
#include "scan.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (stop_requested)
        _exit(PA_EXIT_FAILED); /* a second signal: leave at once; committed batches are safe */
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: pii-auditd [--config FILE] --scan-once [--full] [--surface TABLE.COLUMN]... [--dry-run]\n"
            "                  [--output text|json] [--log-level error|warn|info|debug]\n"
            "       pii-auditd [--config FILE] --check-config | --init-db | --print-grants | --print-guardrail-sql\n"
            "       pii-auditd [--config FILE] [--log-level LEVEL]          (run as a daemon)\n"
            "       pii-auditd --help | --version\n"
            "       (scans and the daemon refuse to run as root unless --allow-root is given)\n"
            "\n"
            "Finds personal data in PostgreSQL JSON columns and records where it is, never what it is.\n"
            "Without --scan-once it runs as a daemon: a scan every scan.interval, Prometheus metrics on\n"
            "metrics.listen, SIGUSR1 scans now, SIGHUP reloads, SIGTERM stops at a batch boundary.\n"
            "\n"
            "  -c, --config FILE      configuration file (default " PA_DEFAULT_CONFIG_PATH ")\n"
            "      --scan-once        scan the configured surfaces once and exit\n"
            "      --full             re-read every row and resolve findings that are gone (default: incremental,\n"
            "                         full when scan.full_scan_interval has passed)\n"
            "      --surface T.C      only this surface (schema.table.column, or table.column for public);\n"
            "                         repeatable\n"
            "      --dry-run          write nothing to the findings tables\n"
            "      --output FORMAT    summary on stdout as text (default) or json\n"
            "      --log-level LEVEL  error, warn, info or debug (default: warn with --scan-once, info for the\n"
            "                         daemon); no level ever prints a scanned value\n"
            "      --check-config     validate the configuration (regexes included) without touching the database\n"
            "      --init-db          create or upgrade the findings schema (pii_audit) in the findings database\n"
            "      --print-grants     print the GRANT statements the configured surfaces need\n"
            "      --print-guardrail-sql\n"
            "                         print the write-time guardrail (triggers rejecting PII keys on the configured\n"
            "                         surfaces, from the daemon's key dictionary); apply it with psql\n"
            "      --allow-root       let a scan or the daemon run as root (refused by default)\n"
            "  -h, --help             this help\n"
            "  -V, --version          version\n"
            "\n"
            "Exit status: 0 scan complete, no open findings; 1 scan complete, open findings exist;\n"
            "             2 usage or configuration error; 3 a surface (or the database) could not be scanned.\n");
}

static const char *role_of(const char *conninfo)
{
    static char role[128];
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr);
    snprintf(role, sizeof role, "pii_auditd");
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (strcmp(p->keyword, "user") == 0 && p->val && *p->val)
            snprintf(role, sizeof role, "%s", p->val);
    PQconninfoFree(o);
    return role;
}

/* An identifier as PostgreSQL's quote_ident() writes it (quoted only when needed); without a connection, always
 * quoted, which is always correct. */
static char *quote_ident(PGconn *conn, const char *name)
{
    if (conn) {
        const char *p[] = {name};
        PGresult *r = PQexecParams(conn, "SELECT quote_ident($1)", 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            char *q = pa_xstrdup(PQgetvalue(r, 0, 0));
            PQclear(r);
            return q;
        }
        PQclear(r);
    }
    struct pa_buf t;
    pa_buf_init(&t);
    pa_buf_appendc(&t, '"');
    for (const char *c = name; *c; c++) {
        if (*c == '"')
            pa_buf_appendc(&t, '"');
        pa_buf_appendc(&t, *c);
    }
    pa_buf_appendc(&t, '"');
    return t.data;
}

/* GRANTs for the configured surfaces (column-level SELECT) and the findings schema. */
static int print_grants(const struct pa_config *cfg)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(cfg, PA_DB_SCANNED, &e);
    if (!conn)
        pa_warn("cannot connect to look up primary keys (%s); surfaces without id_column get a table-level grant",
                e.msg);
    const char *role = role_of(cfg->db_conninfo);
    char *qrole = quote_ident(conn, role);
    printf("-- GRANTs for pii-auditd (role %s), generated from %s\n", role, cfg->path ? cfg->path : "config");
    printf("-- Apply as the owner of the tables (or a superuser), after sql/001_findings_schema.sql and "
           "sql/roles.sql.\n");
    /* CONNECT is PUBLIC's by default, but hardened databases revoke it */
    PGresult *dbr = conn ? PQexec(conn, "SELECT quote_ident(current_database())") : NULL;
    if (PQresultStatus(dbr) == PGRES_TUPLES_OK && PQntuples(dbr) == 1)
        printf("GRANT CONNECT ON DATABASE %s TO %s;\n", PQgetvalue(dbr, 0, 0), qrole);
    else
        printf("-- not connected: also GRANT CONNECT ON DATABASE <the scanned database> TO %s;\n", qrole);
    PQclear(dbr);
    for (size_t i = 0; i < cfg->n_surfaces; i++) {
        const struct pa_surface *s = &cfg->surfaces[i];
        char *id = s->id_column ? pa_xstrdup(s->id_column) : NULL;
        if (!id && conn) {
            const char *p[] = {s->schema, s->table};
            PGresult *r = PQexecParams(conn,
                                       "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                                       "i.indrelid AND a.attnum = i.indkey[0] JOIN pg_class c ON c.oid = i.indrelid "
                                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
                                       "c.relname = $2 AND i.indisprimary AND i.indnkeyatts = 1",
                                       2, NULL, p, NULL, NULL, 0);
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                id = pa_xstrdup(PQgetvalue(r, 0, 0));
            PQclear(r);
        }
        const char *parts[] = {s->schema, s->table, s->column, id};
        char *q[4] = {NULL};
        for (int k = 0; k < 4; k++)
            if (parts[k])
                q[k] = quote_ident(conn, parts[k]);
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(cfg->surfaces[k].schema, s->schema) == 0)
                seen = true;
        if (!seen)
            printf("GRANT USAGE ON SCHEMA %s TO %s;\n", q[0], qrole);
        if (id)
            printf("GRANT SELECT (%s, %s) ON TABLE %s.%s TO %s;\n", q[3], q[2], q[0], q[1], qrole);
        else
            printf("GRANT SELECT ON TABLE %s.%s TO %s; -- primary key not known: narrow to (id, %s) if you can\n",
                   q[0], q[1], qrole, s->column);
        for (int k = 0; k < 4; k++)
            free(q[k]);
        free(id);
    }
    printf("GRANT USAGE ON SCHEMA pii_audit TO %s;\n", qrole);
    printf("GRANT SELECT ON pii_audit.schema_version TO %s;\n", qrole);
    printf("GRANT SELECT, INSERT, UPDATE ON pii_audit.scan_runs, pii_audit.scan_run_surfaces, pii_audit.scan_cursors,"
           " pii_audit.findings TO %s;\n",
           qrole);
    printf("GRANT USAGE ON SEQUENCE pii_audit.scan_runs_id_seq, pii_audit.findings_id_seq TO %s;\n", qrole);
    /* The guardrail's reject counters (pii_audit_guardrail_rejects_total), when it is installed in this database;
     * applying the guardrail later grants it to a role named pii_auditd itself. */
    struct pa_buf lit;
    pa_buf_init(&lit);
    pa_buf_append_sql_literal(&lit, role);
    printf("DO $pa$ BEGIN IF pg_catalog.to_regprocedure('pii_guardrail.reject_counts()') IS NOT NULL THEN EXECUTE "
           "'GRANT EXECUTE ON FUNCTION pii_guardrail.reject_counts() TO ' || pg_catalog.quote_ident(%s); END IF; "
           "END $pa$;\n",
           lit.data);
    pa_buf_free(&lit);
    free(qrole);
    if (conn)
        PQfinish(conn);
    return 0;
}

static int init_db(const struct pa_config *cfg)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(cfg, PA_DB_STORE, &e);
    if (!conn) {
        fprintf(stderr, "pii-auditd: cannot connect to the findings database: %s\n", e.msg);
        return PA_EXIT_FAILED;
    }
    int rc = pa_findings_init_db(conn, &e);
    PQfinish(conn);
    if (rc != 0) {
        fprintf(stderr, "pii-auditd: %s\n", e.msg);
        return PA_EXIT_FAILED;
    }
    printf("findings schema pii_audit is at version %d\n", PA_SCHEMA_VERSION);
    return PA_EXIT_CLEAN;
}

int main(int argc, char **argv)
{
    enum { OPT_SCAN_ONCE = 256, OPT_FULL, OPT_SURFACE, OPT_DRY_RUN, OPT_OUTPUT, OPT_LOG_LEVEL, OPT_CHECK, OPT_INIT,
           OPT_GRANTS, OPT_GUARDRAIL, OPT_ALLOW_ROOT };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},     {"scan-once", no_argument, NULL, OPT_SCAN_ONCE},
        {"full", no_argument, NULL, OPT_FULL},        {"surface", required_argument, NULL, OPT_SURFACE},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},  {"output", required_argument, NULL, OPT_OUTPUT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"check-config", no_argument, NULL, OPT_CHECK}, {"init-db", no_argument, NULL, OPT_INIT},
        {"print-grants", no_argument, NULL, OPT_GRANTS}, {"help", no_argument, NULL, 'h'},
        {"print-guardrail-sql", no_argument, NULL, OPT_GUARDRAIL},
        {"version", no_argument, NULL, 'V'},          {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
        {NULL, 0, NULL, 0}};

    /* values we read must never end up in a core file */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    const char *config_path = PA_DEFAULT_CONFIG_PATH;
    bool scan_once = false, full = false, dry_run = false, json = false, check = false, initdb = false,
         grants = false, guardrail = false, allow_root = false;
    int log_level = -1;
    char **only = NULL;
    size_t n_only = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case OPT_SCAN_ONCE: scan_once = true; break;
        case OPT_FULL: full = true; break;
        case OPT_SURFACE:
            only = pa_xrealloc(only, (n_only + 1) * sizeof *only);
            only[n_only++] = optarg;
            break;
        case OPT_DRY_RUN: dry_run = true; break;
        case OPT_OUTPUT:
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "pii-auditd: --output must be text or json, not \"%s\"\n", optarg);
                return PA_EXIT_USAGE;
            }
            break;
        case OPT_LOG_LEVEL:
            if ((log_level = pa_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "pii-auditd: --log-level must be error, warn, info or debug, not \"%s\"\n", optarg);
                return PA_EXIT_USAGE;
            }
            break;
        case OPT_CHECK: check = true; break;
        case OPT_INIT: initdb = true; break;
        case OPT_GRANTS: grants = true; break;
        case OPT_GUARDRAIL: guardrail = true; break;
        case OPT_ALLOW_ROOT: allow_root = true; break;
        case 'h': usage(stdout); return PA_EXIT_CLEAN;
        case 'V': printf("pii-auditd %s (revision %s)\n", PA_VERSION, PA_REVISION); return PA_EXIT_CLEAN;
        default: usage(stderr); return PA_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pii-auditd: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return PA_EXIT_USAGE;
    }
    if ((int)scan_once + (int)check + (int)initdb + (int)grants + (int)guardrail > 1) {
        fprintf(stderr, "pii-auditd: --scan-once, --check-config, --init-db, --print-grants and --print-guardrail-sql "
                        "are exclusive\n");
        return PA_EXIT_USAGE;
    }
    if ((full || dry_run || n_only || json) && !scan_once) {
        fprintf(stderr, "pii-auditd: --full, --surface, --dry-run and --output go with --scan-once\n");
        return PA_EXIT_USAGE;
    }
    /* scans and the daemon read personal data: never with root's powers unless asked; the print-only and schema
     * modes (--check-config, --print-grants, --print-guardrail-sql, --init-db) read no scanned data and stay usable by an admin */
    if (geteuid() == 0 && !allow_root && !check && !initdb && !grants && !guardrail) {
        fprintf(stderr, "pii-auditd: refusing to run as root: a scan reads personal data and must run as an "
                        "unprivileged user (the systemd unit uses User=pii-auditd); pass --allow-root to override\n");
        return PA_EXIT_USAGE;
    }
    bool run_daemon = !scan_once && !check && !initdb && !grants && !guardrail;
    /* a service logs its scans by default; the one-shot modes only what goes wrong */
    pa_log_init(log_level >= 0 ? (enum pa_log_level)log_level : run_daemon ? PA_LOG_INFO : PA_LOG_WARN);

    struct pa_config *cfg = NULL;
    char err[1024];
    if (pa_config_load(config_path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "pii-auditd: %s\n", err);
        return PA_EXIT_USAGE;
    }
    int rc = PA_EXIT_USAGE;
    struct pa_detector *det = pa_detect_new(&cfg->detect, err, sizeof err);
    if (!det) {
        fprintf(stderr, "pii-auditd: %s: detectors: %s\n", config_path, err);
        goto out;
    }
    for (size_t i = 0; i < n_only; i++) {
        const struct pa_surface *s = pa_config_find_surface(cfg, only[i]);
        if (!s) {
            fprintf(stderr, "pii-auditd: --surface %s is not a configured surface (configured:", only[i]);
            for (size_t k = 0; k < cfg->n_surfaces; k++)
                fprintf(stderr, " %s", cfg->surfaces[k].name);
            fprintf(stderr, ")\n");
            goto out;
        }
        only[i] = s->name; /* canonical schema.table.column */
    }

    if (check) {
        printf("%s: configuration OK (%zu surface%s)\n", config_path, cfg->n_surfaces, cfg->n_surfaces == 1 ? "" : "s");
        rc = PA_EXIT_CLEAN;
    } else if (initdb) {
        rc = init_db(cfg);
    } else if (grants) {
        rc = print_grants(cfg);
    } else if (guardrail) {
        char *sql = pa_guardrail_sql(cfg, det, err, sizeof err);
        if (!sql) {
            fprintf(stderr, "pii-auditd: %s: %s\n", config_path, err);
            goto out;
        }
        fputs(sql, stdout);
        free(sql);
        rc = fflush(stdout) == 0 ? PA_EXIT_CLEAN : PA_EXIT_FAILED;
    } else if (scan_once) {
        struct sigaction sa = {.sa_handler = on_stop_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        struct pa_scan_opts opts = {.full = full,
                                    .dry_run = dry_run,
                                    .trigger = "cli",
                                    .only = only,
                                    .n_only = n_only,
                                    .progress = isatty(STDERR_FILENO) && !json,
                                    .stop = &stop_requested};
        struct pa_scan_result res;
        pa_scan_run(cfg, det, &opts, &res);
        if (res.err.msg[0])
            pa_error("%s", res.err.msg);
        if (json)
            pa_report_json(stdout, &res, dry_run);
        else
            pa_report_text(stdout, &res, dry_run);
        rc = pa_report_exit_code(&res);
        pa_scan_result_free(&res);
    } else {
        rc = pa_daemon_run(config_path, cfg, det);
        cfg = NULL; /* owned and freed by the daemon */
        det = NULL;
    }
out:
    if (det)
        pa_detect_free(det);
    pa_config_free(cfg);
    free(only);
    return rc;
}
