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
};

/* Connect with conninfo (key=value or URI) and an optional password file (first line). */
static PGconn *connect_db(const char *conninfo, const char *password_file, const struct settings *s, struct pa_err *e)
{
    if (check_conninfo(conninfo, e) != 0)
        return NULL;
    char *password = NULL;
    if (password_file && !(password = read_password_file(password_file, e)))
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

    char sql[512];
    snprintf(sql, sizeof sql,
             "SET statement_timeout = %lld; SET lock_timeout = %lld; SET idle_in_transaction_session_timeout = %lld;"
             " SET default_transaction_read_only = %s; SET client_min_messages = warning;"
             " SET DateStyle = ISO; SET extra_float_digits = 3",
             (long long)(s->statement_timeout * 1000), (long long)(s->lock_timeout * 1000),
             (long long)((s->statement_timeout > 0 ? s->statement_timeout : 60) * 2000),
             s->read_only ? "on" : "off");
    PGresult *r = pa_db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, e);
    if (!r) {
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    return conn;
}

PGconn *pa_db_open(const struct pa_config *cfg, enum pa_db_role role, struct pa_err *e)
{
    struct settings ss = {.statement_timeout = cfg->statement_timeout,
                          .lock_timeout = cfg->lock_timeout,
                          .connect_timeout = cfg->connect_timeout,
                          .read_only = role != PA_DB_STORE};
    bool store = role != PA_DB_SCANNED;
    const char *ci = store && cfg->findings_conninfo ? cfg->findings_conninfo : cfg->db_conninfo;
    const char *pw = store && cfg->findings_conninfo ? cfg->findings_password_file : cfg->db_password_file;
    PGconn *c = connect_db(ci, pw, &ss, e);
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

    if (PQstatus(conn) == CONNECTION_BAD || !state) {
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
