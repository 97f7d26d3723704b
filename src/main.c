/* main: parses the command line, wires config -> detect -> scan -> report, and maps outcomes to exit codes.
 * All logic lives in the modules; nothing here may print a conninfo, a password or a scanned value. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "detect.h"
#include "findings.h"
#include "grants.h"
#include "guardrail.h"
#include "log.h"
#include "pa_build.h"
#include "report.h"
#include "scan.h"
#include "setup.h"
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
            "       pii-auditd [--config FILE] --check-config [--connect] | --init-db | --print-init-sql [--all]\n"
            "                  | --print-grants | --print-guardrail-sql\n"
            "       pii-auditd [--config FILE] [--log-level LEVEL]          (run as a daemon)\n"
            "       pii-auditd [--config FILE] findings list|show|ack|resolve ...   (pii-auditd findings --help)\n"
            "       pii-auditd [--config FILE] allow add|list|remove ...            (pii-auditd allow --help)\n"
            "       pii-auditd [--config FILE] report --html FILE [--since 30d] [--surface S]...\n"
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
            "      --connect          with --check-config: also connect as the configured role and check every\n"
            "                         surface, the findings schema and its grants, and the connection budget\n"
            "      --init-db          create or upgrade the findings schema (pii_audit) in the findings database\n"
            "                         (as the database's owner or a superuser)\n"
            "      --print-init-sql   print the SQL of the schema files the findings database lacks (--all: every\n"
            "                         file), to pipe into psql as the database's owner\n"
            "      --print-grants     print the GRANT statements the configured surfaces need\n"
            "      --print-guardrail-sql\n"
            "                         print the write-time guardrail (triggers rejecting PII keys on the configured\n"
            "                         surfaces, from the daemon's key dictionary); apply it with psql\n"
            "      --allow-root       let a scan or the daemon run as root (refused by default)\n"
            "  -h, --help             this help\n"
            "  -V, --version          version\n"
            "\n"
            "Exit status: 0 scan complete, no open findings; 1 scan complete, open findings exist;\n"
            "             2 usage or configuration error; 3 a surface (or the database) could not be scanned.\n"
            "             (findings, allow, report: 0 done, 1 nothing matched, 2 usage, 3 the database)\n");
}

/* The command line, parsed. */
struct options {
    const char *config_path;
    bool config_given, scan_once, full, dry_run, json, check, initdb, grants, guardrail, allow_root;
    bool connect, init_sql, all; /* --check-config --connect; --print-init-sql [--all] */
    int log_level;               /* -1: the mode's default */
    char **only;                 /* --surface, canonical schema.table.column once checked */
    size_t n_only;
    char **sub; /* a store subcommand (cli.h) and its arguments: findings ..., allow ..., report ... */
    int n_sub;
};

/* Parse argv into o. Returns -1 to go on, or the exit status (--help, --version, a usage error). */
static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_SCAN_ONCE = 256,
        OPT_FULL,
        OPT_SURFACE,
        OPT_DRY_RUN,
        OPT_OUTPUT,
        OPT_LOG_LEVEL,
        OPT_CHECK,
        OPT_INIT,
        OPT_GRANTS,
        OPT_GUARDRAIL,
        OPT_ALLOW_ROOT,
        OPT_CONNECT,
        OPT_INIT_SQL,
        OPT_ALL
    };
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"scan-once", no_argument, NULL, OPT_SCAN_ONCE},
                                             {"full", no_argument, NULL, OPT_FULL},
                                             {"surface", required_argument, NULL, OPT_SURFACE},
                                             {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                                             {"output", required_argument, NULL, OPT_OUTPUT},
                                             {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
                                             {"check-config", no_argument, NULL, OPT_CHECK},
                                             {"init-db", no_argument, NULL, OPT_INIT},
                                             {"print-grants", no_argument, NULL, OPT_GRANTS},
                                             {"help", no_argument, NULL, 'h'},
                                             {"print-guardrail-sql", no_argument, NULL, OPT_GUARDRAIL},
                                             {"version", no_argument, NULL, 'V'},
                                             {"allow-root", no_argument, NULL, OPT_ALLOW_ROOT},
                                             {"connect", no_argument, NULL, OPT_CONNECT},
                                             {"print-init-sql", no_argument, NULL, OPT_INIT_SQL},
                                             {"all", no_argument, NULL, OPT_ALL},
                                             {NULL, 0, NULL, 0}};
    int c;
    /* "+": stop at the first word that is not an option, a subcommand whose own options follow it */
    while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            o->config_given = true;
            break;
        case OPT_SCAN_ONCE: o->scan_once = true; break;
        case OPT_FULL: o->full = true; break;
        case OPT_SURFACE:
            o->only = pa_xrealloc(o->only, (o->n_only + 1) * sizeof *o->only);
            o->only[o->n_only++] = optarg;
            break;
        case OPT_DRY_RUN: o->dry_run = true; break;
        case OPT_OUTPUT:
            if (strcmp(optarg, "json") == 0)
                o->json = true;
            else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "pii-auditd: --output must be text or json, not \"%s\"\n", optarg);
                return PA_EXIT_USAGE;
            }
            break;
        case OPT_LOG_LEVEL:
            if ((o->log_level = pa_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "pii-auditd: --log-level must be error, warn, info or debug, not \"%s\"\n", optarg);
                return PA_EXIT_USAGE;
            }
            break;
        case OPT_CHECK: o->check = true; break;
        case OPT_INIT: o->initdb = true; break;
        case OPT_GRANTS: o->grants = true; break;
        case OPT_GUARDRAIL: o->guardrail = true; break;
        case OPT_ALLOW_ROOT: o->allow_root = true; break;
        case OPT_CONNECT: o->connect = true; break;
        case OPT_INIT_SQL: o->init_sql = true; break;
        case OPT_ALL: o->all = true; break;
        case 'h': usage(stdout); return PA_EXIT_CLEAN;
        case 'V': printf("pii-auditd %s (revision %s)\n", PA_VERSION, PA_REVISION); return PA_EXIT_CLEAN;
        default: usage(stderr); return PA_EXIT_USAGE;
        }
    }
    if (optind < argc && pa_cli_is_subcommand(argv[optind])) {
        o->sub = argv + optind;
        o->n_sub = argc - optind;
    } else if (optind < argc) {
        fprintf(stderr, "pii-auditd: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return PA_EXIT_USAGE;
    }
    return -1;
}

/* The combinations the modes allow. -1 to go on, or PA_EXIT_USAGE. */
static int check_options(const struct options *o)
{
    if (o->sub && (o->scan_once || o->check || o->initdb || o->init_sql || o->grants || o->guardrail || o->full ||
                   o->dry_run || o->n_only || o->json || o->connect || o->all)) {
        fprintf(stderr,
                "pii-auditd: %s is a command of its own: it goes with --config and --log-level only, and its "
                "options (--surface, --output...) follow it (pii-auditd %s --help)\n",
                o->sub[0], o->sub[0]);
        return PA_EXIT_USAGE;
    }
    if (o->sub)
        return -1; /* the store subcommands read no scanned data: root may run them */
    if ((int)o->scan_once + (int)o->check + (int)o->initdb + (int)o->grants + (int)o->guardrail + (int)o->init_sql >
        1) {
        fprintf(stderr, "pii-auditd: --scan-once, --check-config, --init-db, --print-init-sql, --print-grants and "
                        "--print-guardrail-sql are exclusive\n");
        return PA_EXIT_USAGE;
    }
    if ((o->connect && !o->check) || (o->all && !o->init_sql)) {
        fprintf(stderr, "pii-auditd: --connect goes with --check-config, --all with --print-init-sql\n");
        return PA_EXIT_USAGE;
    }
    if ((o->full || o->dry_run || o->n_only || o->json) && !o->scan_once) {
        fprintf(stderr, "pii-auditd: --full, --surface, --dry-run and --output go with --scan-once\n");
        return PA_EXIT_USAGE;
    }
    /* scans and the daemon read personal data: never with root's powers unless asked; the print-only and schema
     * modes (--check-config, --print-grants, --print-guardrail-sql, --init-db) read no scanned data and stay usable
     * by an admin */
    if (geteuid() == 0 && !o->allow_root && !o->check && !o->initdb && !o->grants && !o->guardrail && !o->init_sql) {
        fprintf(stderr, "pii-auditd: refusing to run as root: a scan reads personal data and must run as an "
                        "unprivileged user (the systemd unit uses User=pii-auditd); pass --allow-root to override\n");
        return PA_EXIT_USAGE;
    }
    return -1;
}

/* --surface names checked against the configuration and made canonical (schema.table.column). */
static bool resolve_surfaces(const struct pa_config *cfg, struct options *o)
{
    for (size_t i = 0; i < o->n_only; i++) {
        const struct pa_surface *s = pa_config_find_surface(cfg, o->only[i]);
        if (!s) {
            fprintf(stderr, "pii-auditd: --surface %s is not a configured surface (configured:", o->only[i]);
            for (size_t k = 0; k < cfg->n_surfaces; k++)
                fprintf(stderr, " %s", cfg->surfaces[k].name);
            fprintf(stderr, ")\n");
            return false;
        }
        o->only[i] = s->name;
    }
    return true;
}

static int scan_once(const struct pa_config *cfg, const struct pa_detector *det, const struct options *o)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct pa_scan_opts opts = {.full = o->full,
                                .dry_run = o->dry_run,
                                .trigger = "cli",
                                .only = o->only,
                                .n_only = o->n_only,
                                .progress = isatty(STDERR_FILENO) && !o->json,
                                .stop = &stop_requested};
    struct pa_scan_result res;
    pa_scan_run(cfg, det, &opts, &res);
    if (res.err.msg[0])
        pa_error("%s", res.err.msg);
    if (o->json)
        pa_report_json(stdout, &res, o->dry_run);
    else
        pa_report_text(stdout, &res, o->dry_run);
    int rc = pa_report_exit_code(&res);
    pa_scan_result_free(&res);
    return rc;
}

static int print_guardrail(const struct pa_config *cfg, const struct pa_detector *det, const char *config_path)
{
    char err[1024];
    char *sql = pa_guardrail_sql(cfg, det, err, sizeof err);
    if (!sql) {
        fprintf(stderr, "pii-auditd: %s: %s\n", config_path, err);
        return PA_EXIT_USAGE;
    }
    fputs(sql, stdout);
    free(sql);
    return fflush(stdout) == 0 ? PA_EXIT_CLEAN : PA_EXIT_FAILED;
}

int main(int argc, char **argv)
{
    /* values we read must never end up in a core file */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    struct options o = {.config_path = PA_DEFAULT_CONFIG_PATH, .log_level = -1};
    int rc = parse_options(argc, argv, &o);
    if (rc < 0)
        rc = check_options(&o);
    if (rc < 0 && o.sub)
        rc = pa_cli_run(o.n_sub, o.sub, o.config_path, o.config_given, o.log_level);
    if (rc >= 0) {
        free(o.only);
        return rc;
    }
    bool run_daemon = !o.scan_once && !o.check && !o.initdb && !o.grants && !o.guardrail && !o.init_sql;
    /* a service logs its scans by default; the one-shot modes only what goes wrong */
    pa_log_init(o.log_level >= 0 ? (enum pa_log_level)o.log_level : run_daemon ? PA_LOG_INFO : PA_LOG_WARN);

    struct pa_config *cfg = NULL;
    char err[1024];
    if (pa_config_load(o.config_path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "pii-auditd: %s\n", err);
        free(o.only);
        return PA_EXIT_USAGE;
    }
    pa_log_set_format((enum pa_log_format)pa_log_format_parse(cfg->log_format)); /* checked by the config */
    rc = PA_EXIT_USAGE;
    struct pa_detector *det = pa_detect_new(&cfg->detect, err, sizeof err);
    if (!det) {
        fprintf(stderr, "pii-auditd: %s: detectors: %s\n", o.config_path, err);
        goto out;
    }
    if (!resolve_surfaces(cfg, &o))
        goto out;

    if (o.check && o.connect) {
        rc = pa_setup_preflight(stdout, cfg, o.config_path);
    } else if (o.check) {
        printf("%s: configuration OK (%zu surface%s)\n", o.config_path, cfg->n_surfaces,
               cfg->n_surfaces == 1 ? "" : "s");
        rc = PA_EXIT_CLEAN;
    } else if (o.initdb) {
        rc = pa_setup_init_db(cfg, o.config_path);
    } else if (o.init_sql) {
        rc = pa_setup_print_init_sql(stdout, cfg, o.config_path, o.all);
    } else if (o.grants) {
        rc = pa_grants_print(stdout, cfg);
    } else if (o.guardrail) {
        rc = print_guardrail(cfg, det, o.config_path);
    } else if (o.scan_once) {
        rc = scan_once(cfg, det, &o);
    } else {
        rc = pa_daemon_run(o.config_path, cfg, det);
        cfg = NULL; /* owned and freed by the daemon */
        det = NULL;
    }
out:
    if (det)
        pa_detect_free(det);
    pa_config_free(cfg);
    free(o.only);
    return rc;
}
