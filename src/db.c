/* db: see db.h. The one place that makes libpq connections; it must never let a conninfo or a password reach a
 * message. */
#include "db.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

static int check_conninfo(const char *conninfo, struct pa_err *e)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        /* libpq's parse message quotes the offending part of the string, which may be the password */
        PQfreemem(perr);
        return pa_err_set(e, PA_FAIL_CONNECT,
                          "the connection string is not a valid libpq conninfo or URI (its text is not shown "
                          "because it may hold a password)");
    }
    PQconninfoFree(opts);
    return 0;
}

/* Reads the first line of a password file. The caller wipes and frees it. */
static char *read_password_file(const char *path, struct pa_err *e)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        pa_err_set(e, PA_FAIL_CONNECT, "cannot read password file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[1024];
    char *pw = NULL;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        pw = pa_xstrdup(line);
    } else {
        pa_err_set(e, PA_FAIL_CONNECT, "password file %s is empty", path);
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
    return pw;
}

static void strip_newlines(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Server notices (e.g. "terminating connection due to administrator command") go through the log module, not raw
 * to stderr; only the severity, the primary message and the SQLSTATE: DETAIL and CONTEXT may quote data. */
static void notice_receiver(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    char m[512];
    snprintf(m, sizeof m, "%s", msg ? msg : "(no message)");
    strip_newlines(m);
    if (sev && strcmp(sev, "WARNING") == 0)
        pa_warn("database warning: %s (SQLSTATE %s)", m, state ? state : "?????");
    else
        pa_debug("database %s: %s (SQLSTATE %s)", sev ? sev : "notice", m, state ? state : "?????");
}

struct settings {
    double statement_timeout; /* seconds; 0 = server default */
    double lock_timeout;      /* seconds; 0 = server default */
    double connect_timeout;   /* seconds */
    bool read_only;           /* default_transaction_read_only = on */
    bool check_writable;      /* the findings store on the scanned database: refuse a read-only one */
};

static int check_writable_scanned(PGconn *conn, struct pa_err *e);

/* Where a recipe's password comes from: a file (password_file), or a systemd credential (password_credential: the
 * file NAME in $CREDENTIALS_DIRECTORY, which the unit's LoadCredential=NAME:... fills), or neither (libpq's own
 * ways); key names the configuration key, for messages. */
struct password_source {
    const char *file, *credential, *key;
};

/* Reads the password of src (NULL when it names none, or on error with e set: *failed). The caller wipes and frees
 * it. */
static char *read_password(const struct password_source *src, bool *failed, struct pa_err *e)
{
    *failed = false;
    if (src->file) {
        char *pw = read_password_file(src->file, e);
        *failed = !pw;
        return pw;
    }
    if (!src->credential)
        return NULL;
    *failed = true;
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir) {
        pa_err_set(e, PA_FAIL_CONNECT,
                   "%s is %s, but $CREDENTIALS_DIRECTORY is not set: systemd sets it for a service whose unit has "
                   "LoadCredential=%s:... (pii-auditd.service has one); outside the service run pii-auditd with the "
                   "same credential: systemd-run --pipe --wait -p User=pii-auditd -p LoadCredential=%s:pii-auditd.%s "
                   "pii-auditd ... (docs/operations.md, Passwords)",
                   src->key, src->credential, src->credential, src->credential, src->credential);
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, src->credential);
    FILE *f = fopen(path, "re");
    if (!f) {
        pa_err_set(e, PA_FAIL_CONNECT,
                   "%s %s: no such credential in $CREDENTIALS_DIRECTORY (%s: %s): give the unit "
                   "LoadCredential=%s:<file> (pii-auditd.service loads /etc/credstore/pii-auditd.%s, and systemd "
                   "skips it silently when that file is missing)",
                   src->key, src->credential, path, strerror(errno), src->credential, src->credential);
        return NULL;
    }
    fclose(f);
    char *pw = read_password_file(path, e);
    *failed = !pw;
    return pw;
}

/* Connect with conninfo (key=value or URI) and an optional password (the first line of its file). */
static PGconn *connect_db(const char *conninfo, const struct password_source *pw, const struct settings *s,
                          struct pa_err *e)
{
    if (check_conninfo(conninfo, e) != 0)
        return NULL;
    bool failed;
    char *password = read_password(pw, &failed, e);
    if (failed)
        return NULL;

    char ctimeout[32];
    snprintf(ctimeout, sizeof ctimeout, "%d", s->connect_timeout > 0 ? (int)(s->connect_timeout + 0.999) : 10);
    const char *keys[8], *vals[8];
    int n = 0;
    keys[n] = "dbname", vals[n++] = conninfo;
    keys[n] = "application_name", vals[n++] = "pii-auditd";
    keys[n] = "connect_timeout", vals[n++] = ctimeout;
    /* keepalives bound how long a dead peer can hold a wait on a silent network */
    keys[n] = "keepalives_idle", vals[n++] = "30";
    if (password)
        keys[n] = "password", vals[n++] = password;
    keys[n] = NULL, vals[n] = NULL;

    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        pa_err_set(e, PA_FAIL_CONNECT, "%s", PQerrorMessage(conn));
        strip_newlines(e->msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, notice_receiver, NULL);
    /* before our SET: the parameter still says what the server's settings made it */
    if (s->check_writable && check_writable_scanned(conn, e) != 0) {
        PQfinish(conn);
        return NULL;
    }

    char sql[512];
    snprintf(sql, sizeof sql,
             "SET statement_timeout = %lld; SET lock_timeout = %lld; SET idle_in_transaction_session_timeout = %lld;"
             " SET default_transaction_read_only = %s; SET client_min_messages = warning;"
             " SET DateStyle = ISO; SET extra_float_digits = 3",
             (long long)(s->statement_timeout * 1000), (long long)(s->lock_timeout * 1000),
             (long long)((s->statement_timeout > 0 ? s->statement_timeout : 60) * 2000), s->read_only ? "on" : "off");
    PGresult *r = pa_db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, e);
    if (!r) {
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    return conn;
}

/* Findings written to the scanned database itself (no findings.conninfo) need it writable. A hot standby cannot
 * take a write at all; a database whose role or database settings make it read-only (default_transaction_read_only
 * on, as the server reported it when the session began, before our own SET) was made so by its DBA, and pii-auditd
 * does not override that to write. Either way the scan would fail at its first write with "cannot execute UPDATE in
 * a read-only transaction": say the fix instead. */
static int check_writable_scanned(PGconn *conn, struct pa_err *e)
{
    const char *ro = PQparameterStatus(conn, "default_transaction_read_only");
    if (pa_db_in_recovery(conn))
        return pa_err_set(
            e, PA_FAIL_FINDINGS_STORE,
            "the scanned database is a hot standby (in recovery), so findings cannot be written to it: set "
            "findings.conninfo to the primary (or another writable database) and install the findings "
            "schema there (docs/operations.md, \"Scanning a standby\")");
    if (ro && strcmp(ro, "on") == 0)
        return pa_err_set(e, PA_FAIL_FINDINGS_STORE,
                          "the scanned database is read-only (default_transaction_read_only is on for this role or "
                          "database), so findings are not written to it: set findings.conninfo to the primary (or "
                          "another writable database) and install the findings schema there (docs/operations.md, "
                          "\"Scanning a standby\")");
    return 0;
}

PGconn *pa_db_open(const struct pa_config *cfg, enum pa_db_role role, struct pa_err *e)
{
    struct settings ss = {.statement_timeout = cfg->statement_timeout,
                          .lock_timeout = cfg->lock_timeout,
                          .connect_timeout = cfg->connect_timeout,
                          .read_only = role != PA_DB_STORE,
                          .check_writable = role == PA_DB_STORE && !cfg->findings_conninfo};
    bool findings = role != PA_DB_SCANNED && cfg->findings_conninfo;
    const char *ci = findings ? cfg->findings_conninfo : cfg->db_conninfo;
    struct password_source pw = {.file = findings ? cfg->findings_password_file : cfg->db_password_file,
                                 .credential = findings ? cfg->findings_password_credential
                                                        : cfg->db_password_credential,
                                 .key = findings ? "findings.password_credential" : "database.password_credential"};
    PGconn *c = connect_db(ci, &pw, &ss, e);
    if (c && role == PA_DB_SCANNED) {
        /* with row_security off, a query that RLS would filter fails instead of silently hiding rows */
        PGresult *r = pa_db_exec(c, "SET row_security = off", 0, NULL, PGRES_COMMAND_OK, e);
        if (!r) {
            PQfinish(c);
            return NULL;
        }
        PQclear(r);
    }
    return c;
}

enum pa_fail_reason pa_db_classify(PGconn *conn, const PGresult *res, struct pa_err *e)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    enum pa_fail_reason r = PA_FAIL_QUERY;

    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) && pa_db_in_recovery(conn)) {
        /* before the lost-connection test: a conflict may also end the session ("terminating connection due to
         * conflict with recovery"), and it is worth the same retry on a new one */
        r = PA_FAIL_RECOVERY_CONFLICT;
    } else if (PQstatus(conn) == CONNECTION_BAD || !state) {
        r = PA_FAIL_CONNECTION_LOST;
    } else if (strcmp(state, "57014") == 0) {
        r = PA_FAIL_TIMEOUT; /* statement timeout; a cancel we sent ourselves is re-labelled by the caller */
    } else if (strcmp(state, "55P03") == 0) {
        r = PA_FAIL_LOCK_TIMEOUT;
    } else if (strcmp(state, "42501") == 0) {
        r = PA_FAIL_PERMISSION;
    } else if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 || strcmp(state, "3F000") == 0) {
        r = PA_FAIL_MISSING;
    } else if (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0) {
        r = PA_FAIL_CONNECTION_LOST;
    }
    if (primary) {
        pa_err_set(e, r, "%s (SQLSTATE %s)", primary, state ? state : "?????");
    } else {
        const char *m = PQerrorMessage(conn);
        pa_err_set(e, r, "%s", m && *m ? m : "connection lost");
    }
    if (state)
        snprintf(e->sqlstate, sizeof e->sqlstate, "%.5s", state);
    strip_newlines(e->msg);
    return r;
}

bool pa_db_in_recovery(PGconn *conn)
{
    const char *v = PQparameterStatus(conn, "in_hot_standby");
    if (v)
        return strcmp(v, "on") == 0;
    /* a server older than 14 does not report it: ask, when the connection can take a query now */
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE || PQisBusy(conn))
        return false;
    PGresult *r = PQexec(conn, "SELECT pg_catalog.pg_is_in_recovery()");
    bool in = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return in;
}

int pa_db_describe(PGconn *conn, struct pa_db_server *s, struct pa_err *e)
{
    memset(s, 0, sizeof *s);
    /* pg_control_system() is executable by any role (PostgreSQL 15) */
    PGresult *r = pa_db_exec(
        conn,
        "SELECT c.system_identifier::text, pg_catalog.current_database(), current_user,"
        " coalesce((SELECT rolconnlimit FROM pg_catalog.pg_roles WHERE rolname = current_user), -1),"
        " coalesce((SELECT datconnlimit FROM pg_catalog.pg_database"
        "   WHERE datname = pg_catalog.current_database()), -1),"
        " pg_catalog.pg_is_in_recovery()"
        " FROM pg_catalog.pg_control_system() c",
        0, NULL, PGRES_TUPLES_OK, e);
    if (!r)
        return -1;
    snprintf(s->system_identifier, sizeof s->system_identifier, "%s", PQgetvalue(r, 0, 0));
    snprintf(s->database, sizeof s->database, "%s", PQgetvalue(r, 0, 1));
    snprintf(s->role, sizeof s->role, "%s", PQgetvalue(r, 0, 2));
    s->role_limit = atoi(PQgetvalue(r, 0, 3));
    s->database_limit = atoi(PQgetvalue(r, 0, 4));
    s->in_recovery = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
    PQclear(r);
    return 0;
}

void pa_db_identity_str(const struct pa_db_server *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", s->system_identifier, s->database);
}

void pa_db_budget(const struct pa_config *cfg, struct pa_db_budget *b)
{
    long long readers = cfg->parallelism > 1 ? cfg->parallelism : 1;
    b->scanned = (int)(2 * readers + 1);
    b->store = 1;
    b->together = cfg->findings_conninfo == NULL;
}

int pa_db_budget_total(const struct pa_db_budget *b)
{
    return b->scanned + b->store;
}

void pa_db_conninfo_user(const char *conninfo, char *out, size_t cap)
{
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr);
    snprintf(out, cap, "pii_auditd");
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (strcmp(p->keyword, "user") == 0 && p->val && *p->val)
            snprintf(out, cap, "%s", p->val);
    PQconninfoFree(o);
}

bool pa_db_explain_refusal(const struct pa_config *cfg, const struct pa_db_server *s, struct pa_err *e)
{
    /* at connect time libpq keeps the server's error in the message only: its SQLSTATE is not available, so the
     * message is matched (the server's lc_messages decides its language: a non-English one is not recognized, and
     * the message then goes out as the server wrote it) */
    if (!pa_err_sqlstate_is(e, "53300") && !strstr(e->msg, "too many connections for role") &&
        !strstr(e->msg, "too many connections for database") && !strstr(e->msg, "too many clients already"))
        return false;
    struct pa_db_budget b;
    pa_db_budget(cfg, &b);
    int need = pa_db_budget_total(&b);
    char role[128];
    if (s && s->role[0])
        snprintf(role, sizeof role, "%s", s->role);
    else
        pa_db_conninfo_user(cfg->db_conninfo, role, sizeof role);
    /* the fix first: the server's message before it can be long, and every message is cut at PA_ERR_MSG_MAX */
    if (s && s->role_limit >= 0)
        pa_err_append(e, "; role %s has CONNECTION LIMIT %d", role, s->role_limit);
    if (s && s->database_limit >= 0)
        pa_err_append(e, "; database %s has CONNECTION LIMIT %d", s->database, s->database_limit);
    pa_err_append(e,
                  "; this configuration needs up to %d sessions (scan.parallelism %lld: 2 per reader + 2): ALTER ROLE "
                  "%s CONNECTION LIMIT %d (more when several pii-auditd share the role), or lower scan.parallelism",
                  need, cfg->parallelism, role, need);
    snprintf(e->sqlstate, sizeof e->sqlstate, "53300");
    return true;
}

int pa_db_wait(PGconn *conn, double timeout)
{
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    if (pfd.fd < 0)
        return -1;
    double deadline = pa_now_monotonic() + timeout;
    for (;;) {
        double left = deadline - pa_now_monotonic();
        if (left <= 0)
            return 0;
        int rc = poll(&pfd, 1, left < INT_MAX / 1000.0 ? (int)(left * 1000) + 1 : INT_MAX);
        if (rc >= 0)
            return rc > 0 ? 1 : 0;
        if (errno != EINTR)
            return -1;
        /* a signal: wait out the rest (the callers' own slices let them react to it) */
    }
}

void pa_db_cancel(PGconn *conn)
{
    PGcancel *c = PQgetCancel(conn);
    if (!c)
        return;
    char buf[256];
    if (!PQcancel(c, buf, sizeof buf))
        pa_debug("cancel request failed: %s", buf);
    PQfreeCancel(c);
}

PGresult *pa_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                     struct pa_err *e)
{
    PGresult *r = nparams ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(conn, sql);
    if (r && PQresultStatus(r) == want) {
        e->reason = PA_FAIL_NONE;
        e->sqlstate[0] = '\0';
        return r;
    }
    pa_db_classify(conn, r, e);
    PQclear(r);
    return NULL;
}

char *pa_db_quote_ident(PGconn *conn, const char *name)
{
    if (conn) {
        const char *p[] = {name};
        PGresult *r = PQexecParams(conn, "SELECT pg_catalog.quote_ident($1)", 1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            char *q = pa_xstrdup(PQgetvalue(r, 0, 0));
            PQclear(r);
            return q;
        }
        PQclear(r);
    }
    /* never unquoted: a name that needed quotes must not read as SQL */
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
