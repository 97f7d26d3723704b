/* cli: see cli.h. Option parsing and output of the store subcommands; the queries are in triage.c, allowlist.c and
 * htmlreport_db.c. Must never print a conninfo or a password (connection errors come from db.c, which strips
 * them), and escapes everything people typed before a terminal sees it. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "config.h"
#include "db.h"
#include "findings.h"
#include "grants.h"
#include "htmlreport.h"
#include "log.h"
#include "pa_build.h"
#include "report.h"
#include "tabular.h"
#include "triage.h"
#include "util.h"

#define EXIT_NO_MATCH 1 /* nothing matched (cli.h) */
#define DEFAULT_LIMIT 1000

/* The options, each a bit, so that a verb can say which it takes. */
enum opt_bit {
    O_CONFIG = 1u << 0,
    O_CONNINFO = 1u << 1,
    O_LOG_LEVEL = 1u << 2,
    O_SURFACE = 1u << 3,
    O_CATEGORY = 1u << 4,
    O_SINCE = 1u << 5,
    O_STATUS = 1u << 6,
    O_LIMIT = 1u << 7,
    O_OUTPUT = 1u << 8,
    O_REASON = 1u << 9,
    O_BY = 1u << 10,
    O_PATH = 1u << 11,
    O_RESOLVE = 1u << 12,
    O_HTML = 1u << 13,
    O_DATABASE = 1u << 14,
};
#define O_COMMON (O_CONFIG | O_CONNINFO | O_LOG_LEVEL)

static const struct {
    enum opt_bit bit;
    const char *name;
} opt_names[] = {
    {O_CONFIG, "--config"},
    {O_CONNINFO, "--conninfo"},
    {O_LOG_LEVEL, "--log-level"},
    {O_SURFACE, "--surface"},
    {O_CATEGORY, "--category"},
    {O_SINCE, "--since"},
    {O_STATUS, "--status"},
    {O_LIMIT, "--limit"},
    {O_OUTPUT, "--output"},
    {O_REASON, "--reason"},
    {O_BY, "--by"},
    {O_PATH, "--path"},
    {O_RESOLVE, "--resolve"},
    {O_HTML, "--html"},
    {O_DATABASE, "--database"},
};

enum output { OUT_TEXT, OUT_JSON, OUT_CSV };

struct cli;
typedef int (*verb_fn)(struct cli *c);

struct verb {
    const char *sub, *verb; /* verb NULL: the subcommand is the verb (report) */
    unsigned takes;         /* option bits besides O_COMMON */
    int min_ids, max_ids;   /* positional ids; max -1: any number */
    bool writes;            /* needs a read-write session */
    verb_fn run;
    const char *usage;
};

struct cli {
    const struct verb *v;
    const char *config_path;
    bool config_given;
    const char *conninfo;
    int log_level;
    unsigned given;
    char **surfaces, **categories, **databases;
    size_t n_surfaces, n_categories, n_databases;
    double since;
    const char *since_arg;
    unsigned status;
    long long limit;
    enum output output;
    const char *reason, *by, *path, *html;
    bool resolve;
    long long *ids;
    size_t n_ids;
    struct pa_config *cfg;  /* the configuration file, when it could be read */
    struct pa_config store; /* what db.c reads to connect: cfg's, or --conninfo's */
    PGconn *conn;
};

/* ---- pure parsing ---------------------------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS]][Z|(+|-)HH:MM] -> epoch seconds. */
static int parse_time(const char *s, double *out)
{
    size_t n = strlen(s);
    if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return -1;
    struct tm tm = {.tm_year = num(s, 4) - 1900, .tm_mon = num(s + 5, 2) - 1, .tm_mday = num(s + 8, 2)};
    size_t i = 10;
    if (i < n && (s[i] == 'T' || s[i] == ' ')) {
        if (n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' || !digits(s + i + 4, 2))
            return -1;
        tm.tm_hour = num(s + i + 1, 2);
        tm.tm_min = num(s + i + 4, 2);
        i += 6;
        if (i < n && s[i] == ':') {
            if (n < i + 3 || !digits(s + i + 1, 2))
                return -1;
            tm.tm_sec = num(s + i + 1, 2);
            i += 3;
        }
    }
    long offset = 0;
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' || !digits(s + i + 4, 2))
            return -1;
        offset = (num(s + i + 1, 2) * 60L + num(s + i + 4, 2)) * 60L * (s[i] == '-' ? -1 : 1);
        i += 6;
    }
    if (i != n || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    struct tm check = tm;
    time_t t = timegm(&check);
    if (t == (time_t)-1 || check.tm_mday != tm.tm_mday) /* 2026-02-30 */
        return -1;
    *out = (double)t - (double)offset;
    return 0;
}

int pa_cli_parse_since(const char *s, double now, double *since)
{
    double secs;
    if (!s || !*s)
        return -1;
    if (parse_time(s, since) == 0)
        return 0;
    /* a bare number would be seconds: surely not what --since 30 meant */
    if (digits(s, strlen(s)) || pa_parse_duration(s, &secs) != 0)
        return -1;
    *since = now - secs;
    return 0;
}

int pa_cli_parse_status(const char *s, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {{"open", PA_STATUS_OPEN},
                 {"acknowledged", PA_STATUS_ACKNOWLEDGED},
                 {"resolved", PA_STATUS_RESOLVED},
                 {"all", PA_STATUS_ALL}};
    if (!*s)
        return -1;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < PA_ARRAY_LEN(names); i++)
            if (strlen(names[i].name) == len && strncmp(names[i].name, p, len) == 0) {
                *mask |= names[i].bits;
                found = true;
            }
        if (!found)
            return -1;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

int pa_cli_parse_id(const char *s, long long *id)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || !digits(s, n) || s[0] == '0')
        return -1;
    *id = atoll(s);
    return 0;
}

const char *pa_cli_reason_error(const char *s)
{
    size_t n = strlen(s);
    bool blank = true;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            blank = false;
    if (blank)
        return "it is empty: say why, for whoever reads the finding next";
    if (n > 2000)
        return "it is longer than 2000 bytes";
    if (!pa_utf8_valid(s, n))
        return "it is not valid UTF-8";
    return NULL;
}

bool pa_cli_category_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* ---- output helpers -------------------------------------------------------------------------------------------- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pii-auditd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return PA_EXIT_USAGE;
}

/* s escaped for a terminal (tabular.h), as a NUL-terminated string in b. */
static const char *esc(struct pa_buf *b, const char *s)
{
    pa_buf_truncate(b, 0);
    pa_tab_text_cell(b, s ? s : "-");
    return b->data ? b->data : ""; /* an empty buffer has no data */
}

static int flush_out(struct pa_buf *b)
{
    fwrite(b->data, 1, b->len, stdout);
    pa_buf_free(b);
    return fflush(stdout) == 0 ? 0 : -1;
}

/* A listing printed: the table freed, the output written; exit 0 with rows, EXIT_NO_MATCH without. */
static int table_done(struct pa_buf *b, struct pa_tab *t)
{
    size_t rows = t->nrows;
    pa_tab_free(t);
    if (flush_out(b) != 0)
        return PA_EXIT_FAILED;
    return rows ? PA_EXIT_CLEAN : EXIT_NO_MATCH;
}

/* The JSON document's head: schema and version. */
static void json_head(struct pa_buf *b)
{
    pa_buf_printf(b, "{\"schema_version\":%d,\"pii_auditd_version\":", PA_CLI_JSON_SCHEMA);
    pa_buf_append_json_name(b, PA_VERSION, strlen(PA_VERSION));
}

/* A database failure: the message, and what to do about a missing privilege. Returns 3. */
static int db_fail(const struct cli *c, const char *what, struct pa_err *e)
{
    if (pa_err_sqlstate_is(e, "42501"))
        pa_err_append(e,
                      "; %s needs the role %s (sql/roles.sql) for this: GRANT %s TO <your role>, then connect "
                      "as that role (--conninfo \"dbname=... user=<your role>\")",
                      c->v->verb ? c->v->verb : c->v->sub, PA_OPERATOR_ROLE, PA_OPERATOR_ROLE);
    fprintf(stderr, "pii-auditd: %s: %s\n", what, e->msg);
    return PA_EXIT_FAILED;
}

/* Who did it: --by, or the person behind sudo, or the OS user. */
static const char *who(const struct cli *c, char *buf, size_t cap)
{
    if (c->by)
        return c->by;
    const char *sudo = getenv("SUDO_USER");
    if (sudo && *sudo && pa_utf8_valid(sudo, strlen(sudo)))
        return sudo;
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name)
        snprintf(buf, cap, "%s", pw->pw_name);
    else
        snprintf(buf, cap, "uid %u", (unsigned)geteuid());
    return buf;
}

/* ---- findings list | show | ack | resolve ---------------------------------------------------------------------- */

static void json_list(struct pa_buf *b, char *const *v, size_t n)
{
    pa_buf_append_json_list(b, (const char *const *)v, n);
}

static void list_filters_json(struct pa_buf *b, const struct cli *c)
{
    static const char *const names[] = {"open", "acknowledged", "resolved"};
    pa_buf_appends(b, ",\"filters\":{\"surfaces\":");
    json_list(b, c->surfaces, c->n_surfaces);
    pa_buf_appends(b, ",\"databases\":");
    json_list(b, c->databases, c->n_databases);
    pa_buf_appends(b, ",\"categories\":");
    json_list(b, c->categories, c->n_categories);
    pa_buf_appends(b, ",\"since\":");
    if (c->since > 0) {
        char t[32];
        time_t s = (time_t)c->since;
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(t, sizeof t, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
        pa_buf_appends(b, t);
    } else {
        pa_buf_appends(b, "null");
    }
    pa_buf_appends(b, ",\"status\":[");
    for (int i = 0, k = 0; i < 3; i++)
        if ((c->status >> i) & 1)
            pa_buf_printf(b, "%s\"%s\"", k++ ? "," : "", names[i]);
    pa_buf_printf(b, "],\"limit\":%lld}", c->limit);
}

static int findings_list(struct cli *c)
{
    struct pa_triage_filter f = {.surfaces = (const char *const *)c->surfaces,
                                 .n_surfaces = c->n_surfaces,
                                 .databases = (const char *const *)c->databases,
                                 .n_databases = c->n_databases,
                                 .categories = (const char *const *)c->categories,
                                 .n_categories = c->n_categories,
                                 .since = c->since,
                                 .status = c->status ? c->status : PA_STATUS_OPEN,
                                 .limit = c->limit};
    c->status = f.status;
    struct pa_err e;
    PGresult *r = pa_triage_list(c->conn, &f, &e);
    if (!r)
        return db_fail(c, "cannot list findings", &e);
    size_t n = (size_t)PQntuples(r);
    bool more = c->limit > 0 && n > (size_t)c->limit;
    struct pa_tab t;
    pa_tab_init(&t, pa_triage_cols, pa_triage_ncols);
    pa_triage_rows(&t, r, more ? (size_t)c->limit : 0);
    PQclear(r);
    struct pa_buf b;
    pa_buf_init(&b);
    if (c->output == OUT_JSON) {
        json_head(&b);
        list_filters_json(&b, c);
        pa_buf_printf(&b, ",\"count\":%zu,\"truncated\":%s,\"findings\":", t.nrows, more ? "true" : "false");
        pa_tab_json(&b, &t);
        pa_buf_appends(&b, "}\n");
    } else if (c->output == OUT_CSV) {
        pa_tab_csv(&b, &t);
    } else if (t.nrows) {
        pa_tab_text(&b, &t);
        pa_buf_printf(&b, "%zu finding%s", t.nrows, t.nrows == 1 ? "" : "s");
        if (more)
            pa_buf_printf(&b, " shown; more match: raise --limit (now %lld) or narrow the filters", c->limit);
        pa_buf_appendc(&b, '\n');
    } else {
        pa_buf_appends(&b, "no findings match\n");
    }
    return table_done(&b, &t);
}

/* One "  label  value" line of findings show, the value escaped. */
static void show_line(struct pa_buf *b, struct pa_buf *tmp, const char *label, const char *value)
{
    pa_buf_printf(b, "  %-13s %s\n", label, esc(tmp, value));
}

static void show_text(struct pa_buf *b, const struct pa_tab *t)
{
    struct pa_buf tmp, v;
    pa_buf_init(&tmp);
    pa_buf_init(&v);
    const char *const *f = (const char *const *)t->cells;
    enum {
        ID,
        STATUS,
        SURFACE,
        TABLE,
        COLUMN,
        RECORD,
        PATH,
        CATEGORY,
        DETECTOR,
        RULE,
        FIRST,
        LAST,
        FIRST_SCAN,
        LAST_SCAN,
        ACK_AT,
        ACK_BY,
        ACK_NOTE,
        RES_AT,
        RES_SCAN,
        RES_REASON,
        RES_BY,
        RES_NOTE,
        DATABASE,
        EVIDENCE
    };
    pa_buf_printf(b, "finding %s: %s\n", f[ID], f[STATUS]);
    show_line(b, &tmp, "surface", f[SURFACE]);
    if (f[DATABASE])
        show_line(b, &tmp, "database", f[DATABASE]);
    show_line(b, &tmp, "record id", f[RECORD]);
    show_line(b, &tmp, "json path", f[PATH]);
    show_line(b, &tmp, "category", f[CATEGORY]);
    pa_buf_printf(b, "  %-13s %s (rule %s)\n", "detector", f[DETECTOR], esc(&tmp, f[RULE]));
    show_line(b, &tmp, "evidence", f[EVIDENCE] ? f[EVIDENCE] : "(recorded before schema version 5)");
    pa_buf_printf(b, "  %-13s %s (scan %s)\n", "first seen", f[FIRST], f[FIRST_SCAN]);
    pa_buf_printf(b, "  %-13s %s (scan %s)\n", "last seen", f[LAST], f[LAST_SCAN]);
    if (f[ACK_AT]) {
        pa_buf_printf(b, "  %-13s %s by %s: ", "acknowledged", f[ACK_AT], esc(&tmp, f[ACK_BY]));
        pa_buf_printf(b, "%s\n", esc(&tmp, f[ACK_NOTE]));
    } else {
        pa_buf_printf(b, "  %-13s no\n", "acknowledged");
    }
    if (f[RES_AT]) {
        pa_buf_truncate(&v, 0);
        pa_buf_printf(&v, "%s (%s", f[RES_AT], f[RES_REASON]);
        if (f[RES_SCAN])
            pa_buf_printf(&v, ", scan %s", f[RES_SCAN]);
        pa_buf_appendc(&v, ')');
        pa_buf_printf(b, "  %-13s %s", "resolved", v.data);
        if (f[RES_BY])
            pa_buf_printf(b, " by %s", esc(&tmp, f[RES_BY]));
        if (f[RES_NOTE])
            pa_buf_printf(b, ": %s", esc(&tmp, f[RES_NOTE]));
        pa_buf_appendc(b, '\n');
    } else {
        pa_buf_printf(b, "  %-13s no\n", "resolved");
    }
    pa_buf_free(&tmp);
    pa_buf_free(&v);
}

static int findings_show(struct cli *c)
{
    struct pa_err e;
    PGresult *r = pa_triage_show(c->conn, c->ids[0], &e);
    if (!r)
        return db_fail(c, "cannot read the finding", &e);
    struct pa_tab t;
    pa_tab_init(&t, pa_triage_cols, pa_triage_ncols);
    pa_triage_rows(&t, r, 0);
    PQclear(r);
    if (!t.nrows) {
        pa_tab_free(&t);
        fprintf(stderr, "pii-auditd: finding %lld: no such finding\n", c->ids[0]);
        return EXIT_NO_MATCH;
    }
    struct pa_buf b;
    pa_buf_init(&b);
    if (c->output == OUT_JSON) {
        json_head(&b);
        pa_buf_appends(&b, ",\"finding\":");
        pa_tab_json_row(&b, &t, 0);
        pa_buf_appends(&b, "}\n");
    } else if (c->output == OUT_CSV) {
        pa_tab_csv(&b, &t);
    } else {
        show_text(&b, &t);
    }
    pa_tab_free(&t);
    return flush_out(&b) == 0 ? PA_EXIT_CLEAN : PA_EXIT_FAILED;
}

/* ack and resolve: each id's outcome; exit 1 when any id was not changed. */
static int report_outcomes(struct cli *c, PGresult *r, const char *done, const char *by)
{
    size_t n_done = 0, n = (size_t)PQntuples(r);
    struct pa_buf ids, tmp;
    pa_buf_init(&ids);
    pa_buf_init(&tmp);
    for (size_t i = 0; i < n; i++) {
        const char *id = PQgetvalue(r, (int)i, 0), *out = PQgetvalue(r, (int)i, 1);
        if (strcmp(out, "done") == 0) {
            pa_buf_printf(&ids, "%s%s", n_done++ ? ", " : "", id);
        } else if (strcmp(out, "missing") == 0) {
            fprintf(stderr, "pii-auditd: finding %s: no such finding\n", id);
        } else {
            fprintf(stderr, "pii-auditd: finding %s: resolved already, nothing to %s (see findings show %s)\n", id,
                    c->v->verb, id);
        }
    }
    if (n_done) {
        printf("%s %zu finding%s (%s) as %s: ", done, n_done, n_done == 1 ? "" : "s", ids.data, esc(&tmp, by));
        printf("%s\n", esc(&tmp, c->reason));
    }
    pa_buf_free(&ids);
    pa_buf_free(&tmp);
    if (fflush(stdout) != 0)
        return PA_EXIT_FAILED;
    return n_done == n ? PA_EXIT_CLEAN : EXIT_NO_MATCH;
}

typedef PGresult *triage_fn(PGconn *conn, const long long *ids, size_t n, const char *by, const char *note,
                            struct pa_err *e);

/* ack and resolve: the change in one statement, then each id's outcome */
static int triage(struct cli *c, triage_fn *fn, const char *action, const char *done)
{
    char buf[256];
    const char *by = who(c, buf, sizeof buf);
    struct pa_err e;
    PGresult *r = fn(c->conn, c->ids, c->n_ids, by, c->reason, &e);
    if (!r)
        return db_fail(c, action, &e);
    int rc = report_outcomes(c, r, done, by);
    PQclear(r);
    return rc;
}

static int findings_ack(struct cli *c)
{
    return triage(c, pa_triage_ack, "cannot acknowledge", "acknowledged");
}

static int findings_resolve(struct cli *c)
{
    return triage(c, pa_triage_resolve, "cannot resolve", "resolved");
}

/* ---- allow add | list | remove --------------------------------------------------------------------------------- */

static const struct pa_tab_col allow_cols[] = {
    {"id", "ID", PA_TAB_NUMBER},
    {"surface", "SURFACE", PA_TAB_STRING},
    {"table", NULL, PA_TAB_STRING},
    {"column", NULL, PA_TAB_STRING},
    {"json_path", "PATH", PA_TAB_STRING},
    {"category", "CATEGORY", PA_TAB_STRING},
    {"created_at", "ADDED", PA_TAB_STRING},
    {"created_by", "BY", PA_TAB_STRING},
    {"reason", "REASON", PA_TAB_STRING},
    {"covers_open", "COVERS", PA_TAB_NUMBER},
};

/* The surface of allow add as (table, column): the configured surface, or without a configuration the text split
 * at its last dot. */
static int allow_surface(const struct cli *c, char **table, char **column)
{
    const char *s = c->surfaces[0];
    if (c->cfg) {
        const struct pa_surface *sf = pa_config_find_surface(c->cfg, s);
        if (!sf) {
            fprintf(stderr, "pii-auditd: --surface %s is not a configured surface (configured:", s);
            for (size_t k = 0; k < c->cfg->n_surfaces; k++)
                fprintf(stderr, " %s", c->cfg->surfaces[k].name);
            fprintf(stderr, ")\n");
            return -1;
        }
        *table = pa_xasprintf("%s.%s", sf->schema, sf->table);
        *column = pa_xstrdup(sf->column);
        return 0;
    }
    const char *dot = strrchr(s, '.');
    if (!dot || dot == s || !dot[1] || !strchr(s, '.') || strchr(s, '.') == dot) {
        fail("--surface %s: expected schema.table.column", s);
        return -1;
    }
    *table = pa_xstrndup(s, (size_t)(dot - s));
    *column = pa_xstrdup(dot + 1);
    return 0;
}

/* A category allow add may name: a built-in one, or one the configuration's patterns or extra keys report. */
static bool known_category(const struct cli *c, const char *cat)
{
    if (pa_category_from_name(cat) >= 0 || !c->cfg)
        return true; /* without a configuration, the name's syntax (checked when parsed) is all we know */
    for (size_t i = 0; i < c->cfg->detect.n_patterns; i++)
        if (strcmp(c->cfg->detect.patterns[i].category, cat) == 0)
            return true;
    for (size_t i = 0; i < c->cfg->detect.n_extra_keys; i++)
        if (strcmp(c->cfg->detect.extra_keys[i].category, cat) == 0)
            return true;
    return false;
}

static int allow_add(struct cli *c)
{
    const char *cat = c->n_categories ? c->categories[0] : NULL;
    if (cat && !known_category(c, cat))
        return fail("--category %s: not a category pii-auditd reports (built-in: email, phone, national_id, "
                    "person_name, ip_address, street_address, date_of_birth, credit_card, iban, geolocation, "
                    "device_id, mac_address, postal_code; or one of detectors.patterns / extra_keys)",
                    cat);
    char *table = NULL, *column = NULL;
    if (allow_surface(c, &table, &column) != 0)
        return PA_EXIT_USAGE;
    char buf[256];
    const char *by = who(c, buf, sizeof buf);
    struct pa_err e;
    long long id = 0, count = 0;
    bool existed = false;
    int rc = PA_EXIT_CLEAN;
    if (pa_allowlist_add(c->conn, table, column, c->path, cat, by, c->reason, &id, &existed, &e) != 0) {
        rc = db_fail(c, "cannot add to the allowlist", &e);
        goto out;
    }
    struct pa_buf tmp;
    pa_buf_init(&tmp);
    printf("%s allowlist entry %lld: ", existed ? "already there:" : "added", id);
    printf("%s.", esc(&tmp, table));
    printf("%s ", esc(&tmp, column));
    printf("%s, %s%s\n", esc(&tmp, c->path), cat ? "category " : "every category", cat ? cat : "");
    pa_buf_free(&tmp);
    if (pa_allowlist_cover(c->conn, id, c->resolve, by, &count, &e) != 0) {
        rc = db_fail(c, "cannot look up the findings the entry covers", &e);
        goto out;
    }
    if (c->resolve)
        printf("resolved %lld open finding%s it covers (reason allowlist)\n", count, count == 1 ? "" : "s");
    else if (count)
        printf("%lld open finding%s it: %s open until a full scan of the surface or until you resolve %s "
               "(the same command with --resolve)\n",
               count, count == 1 ? " matches" : "s match", count == 1 ? "it stays" : "they stay",
               count == 1 ? "it" : "them");
    printf("scans from now on do not report what it matches\n");
out:
    free(table);
    free(column);
    if (fflush(stdout) != 0 && rc == PA_EXIT_CLEAN)
        rc = PA_EXIT_FAILED;
    return rc;
}

static int allow_list(struct cli *c)
{
    struct pa_err e;
    PGresult *r = pa_allowlist_query(c->conn, (const char *const *)c->surfaces, c->n_surfaces, &e);
    if (!r)
        return db_fail(c, "cannot read the allowlist", &e);
    struct pa_tab t;
    pa_tab_init(&t, allow_cols, PA_ARRAY_LEN(allow_cols));
    pa_triage_rows(&t, r, 0);
    PQclear(r);
    struct pa_buf b;
    pa_buf_init(&b);
    if (c->output == OUT_JSON) {
        json_head(&b);
        pa_buf_printf(&b, ",\"count\":%zu,\"allowlist\":", t.nrows);
        pa_tab_json(&b, &t);
        pa_buf_appends(&b, "}\n");
    } else if (c->output == OUT_CSV) {
        pa_tab_csv(&b, &t);
    } else if (t.nrows) {
        pa_tab_text(&b, &t);
        pa_buf_printf(&b, "%zu entr%s (COVERS: open findings the entry matches)\n", t.nrows,
                      t.nrows == 1 ? "y" : "ies");
    } else {
        pa_buf_appends(&b, "the allowlist is empty\n");
    }
    return table_done(&b, &t);
}

static int allow_remove(struct cli *c)
{
    size_t removed = 0;
    for (size_t i = 0; i < c->n_ids; i++) {
        struct pa_err e;
        bool found;
        if (pa_allowlist_remove(c->conn, c->ids[i], &found, &e) != 0)
            return db_fail(c, "cannot remove from the allowlist", &e);
        if (found) {
            printf("removed allowlist entry %lld: scans report what it matched again (open findings are found by "
                   "the next full scan)\n",
                   c->ids[i]);
            removed++;
        } else {
            fprintf(stderr, "pii-auditd: allowlist entry %lld: no such entry\n", c->ids[i]);
        }
    }
    if (fflush(stdout) != 0)
        return PA_EXIT_FAILED;
    return removed == c->n_ids ? PA_EXIT_CLEAN : EXIT_NO_MATCH;
}

/* ---- report --html ----------------------------------------------------------------------------------------------- */

static int report_html(struct cli *c)
{
    struct pa_htmlreport_opts o = {
        .since = c->since, .surfaces = (const char *const *)c->surfaces, .n_surfaces = c->n_surfaces, .cfg = c->cfg};
    if (strcmp(c->html, "-") == 0) {
        struct pa_err e;
        if (pa_htmlreport_write(c->conn, &o, stdout, &e) != 0)
            return db_fail(c, "cannot build the report", &e);
        return fflush(stdout) == 0 ? PA_EXIT_CLEAN : PA_EXIT_FAILED;
    }
    /* written next to the target and renamed over it: a reader never sees half a page */
    char *tmp = pa_xasprintf("%s.tmp.%d", c->html, (int)getpid());
    int rc = PA_EXIT_CLEAN;
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "pii-auditd: --html %s: %s\n", c->html, strerror(errno));
        rc = PA_EXIT_USAGE;
        goto out;
    }
    struct pa_err e;
    int wrc = pa_htmlreport_write(c->conn, &o, out, &e);
    int cerr = fclose(out) != 0 ? errno : 0;
    if (wrc != 0)
        rc = db_fail(c, "cannot build the report", &e);
    else if (cerr || rename(tmp, c->html) != 0) {
        fprintf(stderr, "pii-auditd: --html %s: %s\n", c->html, strerror(cerr ? cerr : errno));
        rc = PA_EXIT_USAGE;
    }
    if (rc != PA_EXIT_CLEAN)
        unlink(tmp);
    else
        fprintf(stderr, "pii-auditd: report written to %s\n", c->html);
out:
    free(tmp);
    return rc;
}

/* ---- the verbs, parsing and running -------------------------------------------------------------------------- */

static const struct verb verbs[] = {
    {"findings", "list", O_SURFACE | O_DATABASE | O_CATEGORY | O_SINCE | O_STATUS | O_LIMIT | O_OUTPUT, 0, 0, false,
     findings_list,
     "findings list [--surface S]... [--database NAME]... [--category C]... [--since 7d|DATE] "
     "[--status open|acknowledged|resolved|all]... [--limit N] [--output text|json|csv]"},
    {"findings", "show", O_OUTPUT, 1, 1, false, findings_show, "findings show ID [--output text|json|csv]"},
    {"findings", "ack", O_REASON | O_BY, 1, -1, true, findings_ack, "findings ack ID... --reason TEXT [--by NAME]"},
    {"findings", "resolve", O_REASON | O_BY, 1, -1, true, findings_resolve,
     "findings resolve ID... --reason TEXT [--by NAME]"},
    {"allow", "add", O_SURFACE | O_PATH | O_CATEGORY | O_REASON | O_BY | O_RESOLVE, 0, 0, true, allow_add,
     "allow add --surface SCHEMA.TABLE.COLUMN --path '$.json.path' [--category C] --reason TEXT [--by NAME] "
     "[--resolve]"},
    {"allow", "list", O_SURFACE | O_OUTPUT, 0, 0, false, allow_list,
     "allow list [--surface S]... [--output text|json|csv]"},
    {"allow", "remove", 0, 1, -1, true, allow_remove, "allow remove ID..."},
    {"report", NULL, O_HTML | O_SINCE | O_SURFACE, 0, 0, false, report_html,
     "report --html FILE [--since 30d|DATE] [--surface S]..."},
};

bool pa_cli_is_subcommand(const char *word)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(verbs); i++)
        if (strcmp(verbs[i].sub, word) == 0)
            return true;
    return false;
}

static void usage(FILE *out, const char *sub)
{
    fprintf(out, "Usage:\n");
    for (size_t i = 0; i < PA_ARRAY_LEN(verbs); i++)
        if (!sub || strcmp(verbs[i].sub, sub) == 0)
            fprintf(out, "  pii-auditd [--config FILE] %s\n", verbs[i].usage);
    fprintf(out, "Every one also takes --config FILE, --conninfo CONNINFO (connect to the findings database as\n"
                 "yourself; no password in it: use ~/.pgpass or peer) and --log-level LEVEL.\n"
                 "Exit status: 0 done; 1 nothing matched; 2 usage or configuration; 3 the findings database.\n"
                 "See docs/cli.md or man pii-auditd.\n");
}

static const char *opt_name(unsigned bit)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(opt_names); i++)
        if (opt_names[i].bit == bit)
            return opt_names[i].name;
    return "?";
}

static char **push(char **v, size_t *n, const char *s)
{
    v = pa_xrealloc(v, (*n + 1) * sizeof *v);
    v[(*n)++] = pa_xstrdup(s);
    return v;
}

/* One option into c. -1 to go on, or an exit status. */
static int take_option(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case 'c':
        c->config_path = arg;
        c->config_given = true;
        return -1;
    case O_CONNINFO: c->conninfo = arg; return -1;
    case O_LOG_LEVEL:
        if ((c->log_level = pa_log_level_parse(arg)) < 0)
            return fail("--log-level must be error, warn, info or debug, not \"%s\"", arg);
        return -1;
    case O_SURFACE: c->surfaces = push(c->surfaces, &c->n_surfaces, arg); return -1;
    case O_DATABASE: c->databases = push(c->databases, &c->n_databases, arg); return -1;
    case O_CATEGORY:
        if (!pa_cli_category_ok(arg))
            return fail("--category %s: a category is named [a-z][a-z0-9_]* (email, phone, ...)", arg);
        c->categories = push(c->categories, &c->n_categories, arg);
        return -1;
    case O_SINCE:
        c->since_arg = arg;
        if (pa_cli_parse_since(arg, pa_now_wall(), &c->since) != 0)
            return fail("--since must be a duration back from now (7d, 12h, 2w) or a date or time (2026-12-01, "
                        "2026-12-01T08:00:00Z; UTC unless an offset is given), not \"%s\"",
                        arg);
        return -1;
    case O_STATUS:
        if (pa_cli_parse_status(arg, &c->status) != 0)
            return fail("--status must be open, acknowledged, resolved or all (or several, comma-separated), "
                        "not \"%s\"",
                        arg);
        return -1;
    case O_LIMIT: {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (errno || *end || end == arg || v < 0)
            return fail("--limit must be a number of findings (0: no limit), not \"%s\"", arg);
        c->limit = v;
        return -1;
    }
    case O_OUTPUT:
        if (strcmp(arg, "text") == 0)
            c->output = OUT_TEXT;
        else if (strcmp(arg, "json") == 0)
            c->output = OUT_JSON;
        else if (strcmp(arg, "csv") == 0)
            c->output = OUT_CSV;
        else
            return fail("--output must be text, json or csv, not \"%s\"", arg);
        return -1;
    case O_REASON: {
        const char *why = pa_cli_reason_error(arg);
        if (why)
            return fail("--reason: %s", why);
        c->reason = arg;
        return -1;
    }
    case O_BY:
        if (!*arg || strlen(arg) > 200 || !pa_utf8_valid(arg, strlen(arg)))
            return fail("--by must name someone (valid UTF-8, at most 200 bytes)");
        c->by = arg;
        return -1;
    case O_PATH: {
        const char *why = pa_config_json_path_error(arg, strlen(arg));
        if (why)
            return fail("--path %s: %s (paths are written as findings show them; [*] matches any array index)", arg,
                        why);
        c->path = arg;
        return -1;
    }
    case O_RESOLVE: c->resolve = true; return -1;
    case O_HTML:
        if (!*arg)
            return fail("--html needs a file name (or - for standard output)");
        c->html = arg;
        return -1;
    default: return PA_EXIT_USAGE;
    }
}

/* The verb and its options. -1 to go on, or an exit status. */
static int parse(struct cli *c, int argc, char **argv)
{
    const char *sub = argv[0];
    const char *verb = argc > 1 ? argv[1] : NULL;
    bool help = verb && (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0);
    for (size_t i = 0; i < PA_ARRAY_LEN(verbs) && !help; i++)
        if (strcmp(verbs[i].sub, sub) == 0 && (!verbs[i].verb || (verb && strcmp(verbs[i].verb, verb) == 0)))
            c->v = &verbs[i];
    if (help) {
        usage(stdout, sub);
        return PA_EXIT_CLEAN;
    }
    if (!c->v) {
        fprintf(stderr, "pii-auditd: %s %s: ", sub, verb ? verb : "");
        fprintf(stderr, verb ? "unknown command\n" : "what should it do?\n");
        usage(stderr, sub);
        return PA_EXIT_USAGE;
    }
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"conninfo", required_argument, NULL, O_CONNINFO},
                                             {"log-level", required_argument, NULL, O_LOG_LEVEL},
                                             {"surface", required_argument, NULL, O_SURFACE},
                                             {"category", required_argument, NULL, O_CATEGORY},
                                             {"since", required_argument, NULL, O_SINCE},
                                             {"status", required_argument, NULL, O_STATUS},
                                             {"limit", required_argument, NULL, O_LIMIT},
                                             {"output", required_argument, NULL, O_OUTPUT},
                                             {"reason", required_argument, NULL, O_REASON},
                                             {"by", required_argument, NULL, O_BY},
                                             {"path", required_argument, NULL, O_PATH},
                                             {"resolve", no_argument, NULL, O_RESOLVE},
                                             {"html", required_argument, NULL, O_HTML},
                                             {"database", required_argument, NULL, O_DATABASE},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    /* getopt sees the verb as its program name: the options follow it */
    int shift = c->v->verb ? 1 : 0;
    int sargc = argc - shift;
    char **sargv = argv + shift;
    optind = 0; /* glibc: start afresh after main's getopt */
    opterr = 0;
    for (;;) {
        int opt = getopt_long(sargc, sargv, "+c:h", longopts, NULL);
        if (opt == -1 && optind >= sargc)
            break;
        if (opt == -1) { /* a positional argument between options */
            long long id;
            if (pa_cli_parse_id(sargv[optind], &id) != 0 || c->v->max_ids == 0)
                return fail("%s: unexpected argument \"%s\"%s", c->v->usage, sargv[optind],
                            c->v->max_ids ? " (ids are positive numbers)" : "");
            c->ids = pa_xrealloc(c->ids, (c->n_ids + 1) * sizeof *c->ids);
            c->ids[c->n_ids++] = id;
            optind++;
            continue;
        }
        if (opt == 'h') {
            usage(stdout, sub);
            return PA_EXIT_CLEAN;
        }
        if (opt == '?' || opt == ':') {
            fail("%s: unknown option or missing argument: %s", c->v->verb ? c->v->verb : sub, sargv[optind - 1]);
            usage(stderr, sub);
            return PA_EXIT_USAGE;
        }
        unsigned bit = opt == 'c' ? O_CONFIG : (unsigned)opt;
        if (!(bit & (c->v->takes | O_COMMON)))
            return fail("%s is not an option of %s %s (usage: pii-auditd %s)", opt_name(bit), sub,
                        c->v->verb ? c->v->verb : "", c->v->usage);
        if ((bit & (O_OUTPUT | O_REASON | O_BY | O_PATH | O_HTML | O_SINCE | O_LIMIT)) && (c->given & bit))
            return fail("%s is given twice", opt_name(bit));
        c->given |= bit;
        int rc = take_option(c, opt, optarg);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

/* What the verb needs, checked before anything connects. -1 to go on, or 2. */
static int check(struct cli *c)
{
    const struct verb *v = c->v;
    const char *name = v->verb ? v->verb : v->sub;
    if ((int)c->n_ids < v->min_ids)
        return fail("%s needs %s finding or entry id (usage: pii-auditd %s)", name,
                    v->max_ids == 1 ? "a" : "at least one", v->usage);
    if (v->max_ids >= 0 && (int)c->n_ids > v->max_ids)
        return fail("%s takes one id (usage: pii-auditd %s)", name, v->usage);
    if ((v->takes & O_REASON) && !c->reason)
        return fail("%s needs --reason TEXT: who reads the finding next should know why", name);
    if (v->run == allow_add) {
        if (c->n_surfaces != 1 || !c->path)
            return fail("allow add needs one --surface and a --path (usage: pii-auditd %s)", v->usage);
        if (c->n_categories > 1)
            return fail("allow add takes at most one --category (none: every category)");
    }
    if (v->run == report_html && !c->html)
        return fail("report needs --html FILE (usage: pii-auditd %s)", v->usage);
    if (!(c->given & O_LIMIT))
        c->limit = DEFAULT_LIMIT;
    if (v->run == report_html && !(c->given & O_SINCE))
        c->since = pa_now_wall() - 30 * 86400.0;
    return -1;
}

/* The configuration (when it can be read), the surfaces made canonical, and what to connect with. -1 to go on, or
 * 2. */
static int configure(struct cli *c)
{
    char err[1024];
    if (pa_config_load(c->config_path, &c->cfg, err, sizeof err) != 0) {
        c->cfg = NULL;
        /* with --conninfo the configuration is optional unless it was named: an operator may not read it */
        if (!c->conninfo || c->config_given)
            return fail("%s", err);
        pa_debug("configuration not used: %s", err);
    }
    if (c->cfg)
        c->store = *c->cfg; /* a shallow copy: db.c reads the conninfo, password file and timeouts */
    if (c->conninfo) {
        c->store.db_conninfo = (char *)c->conninfo;
        c->store.db_password_file = NULL;
        c->store.findings_conninfo = NULL;
        c->store.findings_password_file = NULL;
    }
    /* the store names surfaces schema.table.column: "table.column" means public, as everywhere */
    for (size_t i = 0; i < c->n_surfaces && c->v->run != allow_add; i++) {
        const struct pa_surface *s = c->cfg ? pa_config_find_surface(c->cfg, c->surfaces[i]) : NULL;
        const char *dot = strchr(c->surfaces[i], '.');
        char *canon = s                              ? pa_xstrdup(s->name)
                      : dot && !strchr(dot + 1, '.') ? pa_xasprintf("public.%s", c->surfaces[i])
                                                     : pa_xstrdup(c->surfaces[i]);
        free(c->surfaces[i]);
        c->surfaces[i] = canon;
    }
    return -1;
}

/* Connect and check the schema. -1 to go on, or 3. */
static int connect_store(struct cli *c)
{
    struct pa_err e;
    c->conn = pa_db_open(&c->store, c->v->writes ? PA_DB_STORE : PA_DB_STORE_READ_ONLY, &e);
    if (!c->conn) {
        fprintf(stderr, "pii-auditd: cannot connect to the findings database: %s\n", e.msg);
        return PA_EXIT_FAILED;
    }
    if (pa_findings_check_schema(c->conn, &e) != 0) {
        fprintf(stderr, "pii-auditd: %s\n", e.msg);
        return PA_EXIT_FAILED;
    }
    return -1;
}

int pa_cli_run(int argc, char **argv, const char *config_path, bool config_given, int log_level)
{
    struct cli c = {.config_path = config_path, .config_given = config_given, .log_level = log_level};
    int rc = parse(&c, argc, argv);
    if (rc < 0)
        rc = check(&c);
    if (rc < 0) {
        pa_log_init(c.log_level >= 0 ? (enum pa_log_level)c.log_level : PA_LOG_WARN);
        rc = configure(&c);
    }
    if (rc < 0)
        rc = connect_store(&c);
    if (rc < 0)
        rc = c.v->run(&c);
    if (c.conn)
        PQfinish(c.conn);
    pa_config_free(c.cfg);
    for (size_t i = 0; i < c.n_surfaces; i++)
        free(c.surfaces[i]);
    for (size_t i = 0; i < c.n_categories; i++)
        free(c.categories[i]);
    for (size_t i = 0; i < c.n_databases; i++)
        free(c.databases[i]);
    free(c.surfaces);
    free(c.categories);
    free(c.databases);
    free(c.ids);
    return rc;
}
