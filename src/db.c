/* db: see db.h. The one place that talks to libpq about connections; it must never let a conninfo or a
 * password reach a message. */
#include "db.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *const reason_names[PA_FAIL_COUNT] = {
    [PA_FAIL_NONE] = "none",
    [PA_FAIL_CONNECT] = "connect",
    [PA_FAIL_CONNECTION_LOST] = "connection_lost",
    [PA_FAIL_TIMEOUT] = "timeout",
    [PA_FAIL_LOCK_TIMEOUT] = "lock_timeout",
    [PA_FAIL_PERMISSION] = "permission",
    [PA_FAIL_MISSING] = "missing",
    [PA_FAIL_UNSUPPORTED_TYPE] = "unsupported_type",
    [PA_FAIL_NO_UNIQUE_ID] = "no_unique_id",
    [PA_FAIL_RLS] = "rls",
    [PA_FAIL_BUSY] = "busy",
    [PA_FAIL_FINDINGS_STORE] = "findings_store",
    [PA_FAIL_SCHEMA] = "schema",
    [PA_FAIL_CANCELLED] = "cancelled",
    [PA_FAIL_QUERY] = "query",
    [PA_FAIL_INTERRUPTED] = "interrupted",
};

const char *pa_fail_reason_name(enum pa_fail_reason r)
{
    return (unsigned)r < PA_FAIL_COUNT ? reason_names[r] : "query";
}

int pa_db_check_conninfo(const char *conninfo, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        /* libpq's parse message quotes the offending part of the string, which may be the password */
        PQfreemem(perr);
        snprintf(err, errlen, "the connection string is not a valid libpq conninfo or URI (its text is not shown "
                              "because it may hold a password)");
        return -1;
    }
    PQconninfoFree(opts);
    return 0;
}

void pa_db_describe(const char *conninfo, char *out, size_t cap)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr);
    if (!opts) {
        snprintf(out, cap, "(invalid conninfo)");
        return;
    }
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0 && !host)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    snprintf(out, cap, "host=%s port=%s dbname=%s user=%s", host ? host : "(default)", port ? port : "(default)",
             db ? db : "(default)", user ? user : "(default)");
    PQconninfoFree(opts);
}

/* Reads the first line of a password file. The caller wipes and frees it. */
static char *read_password_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "cannot read password file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[1024];
    char *pw = NULL;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        pw = pa_xstrdup(line);
    } else {
        snprintf(err, errlen, "password file %s is empty", path);
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

PGconn *pa_db_connect(const char *conninfo, const char *password_file, const struct pa_db_settings *s, char *err,
                      size_t errlen, enum pa_fail_reason *reason)
{
    *reason = PA_FAIL_CONNECT;
    if (pa_db_check_conninfo(conninfo, err, errlen) != 0)
        return NULL;
    char *password = NULL;
    if (password_file && !(password = read_password_file(password_file, err, errlen)))
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
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        strip_newlines(err);
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
    PGresult *r = pa_db_exec(conn, sql, 0, NULL, PGRES_COMMAND_OK, err, errlen, reason);
    if (!r) {
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    *reason = PA_FAIL_NONE;
    return conn;
}

enum pa_fail_reason pa_db_classify(PGconn *conn, const PGresult *res, char *err, size_t errlen)
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
        snprintf(err, errlen, "%s (SQLSTATE %s)", primary, state ? state : "?????");
    } else {
        const char *m = PQerrorMessage(conn);
        snprintf(err, errlen, "%s", m && *m ? m : "connection lost");
    }
    strip_newlines(err);
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

PGresult *pa_db_exec_state(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                           char *err, size_t errlen, enum pa_fail_reason *reason, char sqlstate[6])
{
    PGresult *r = nparams ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(conn, sql);
    if (sqlstate)
        sqlstate[0] = '\0';
    if (r && PQresultStatus(r) == want) {
        if (reason)
            *reason = PA_FAIL_NONE;
        return r;
    }
    enum pa_fail_reason rr = pa_db_classify(conn, r, err, errlen);
    if (reason)
        *reason = rr;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate && state)
        snprintf(sqlstate, 6, "%.5s", state);
    PQclear(r);
    return NULL;
}

PGresult *pa_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                     char *err, size_t errlen, enum pa_fail_reason *reason)
{
    return pa_db_exec_state(conn, sql, nparams, params, want, err, errlen, reason, NULL);
}
