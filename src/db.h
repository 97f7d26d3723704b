/* db: libpq connections (conninfo + password_file, session settings), bounded waits, error classification.
 * Never logs, prints or returns a conninfo or a password: connection errors are rebuilt from libpq's message,
 * which names host/port/user but never the password; a conninfo that does not parse is reported without its
 * text. */
#ifndef PA_DB_H
#define PA_DB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

/* Bounded failure reasons: these are metric label values and scan_runs.error_class. */
enum pa_fail_reason {
    PA_FAIL_NONE = 0,
    PA_FAIL_CONNECT,          /* cannot connect / authenticate */
    PA_FAIL_CONNECTION_LOST,  /* connection dropped, server restarted or shut down */
    PA_FAIL_TIMEOUT,          /* statement_timeout or client-side wait bound */
    PA_FAIL_LOCK_TIMEOUT,     /* lock_timeout: the surface was locked */
    PA_FAIL_PERMISSION,       /* missing grant */
    PA_FAIL_MISSING,          /* table or column does not exist */
    PA_FAIL_UNSUPPORTED_TYPE, /* column type not jsonb/json/text/varchar */
    PA_FAIL_NO_UNIQUE_ID,     /* no single-column primary key / id column not unique */
    PA_FAIL_RLS,              /* row-level security would hide rows */
    PA_FAIL_BUSY,             /* another pii-auditd is scanning this surface */
    PA_FAIL_FINDINGS_STORE,   /* findings could not be written */
    PA_FAIL_SCHEMA,           /* findings schema missing or old */
    PA_FAIL_CANCELLED,        /* stopped by a signal */
    PA_FAIL_QUERY,            /* any other query error */
    PA_FAIL_INTERRUPTED,      /* a scan run whose process ended (SIGKILL, crash) before finishing it */
    PA_FAIL_COUNT
};

const char *pa_fail_reason_name(enum pa_fail_reason r);

struct pa_db_settings {
    double statement_timeout; /* seconds; 0 = server default */
    double lock_timeout;      /* seconds; 0 = server default */
    double connect_timeout;   /* seconds */
    bool read_only;           /* default_transaction_read_only = on */
};

/* Connect with conninfo (key=value or URI) and an optional password file (first line). application_name is
 * pii-auditd. Returns NULL and a safe message in err on failure (*reason set). */
PGconn *pa_db_connect(const char *conninfo, const char *password_file, const struct pa_db_settings *s,
                      char *err, size_t errlen, enum pa_fail_reason *reason);

/* Validate that a conninfo parses, without echoing it. 0 or -1 with a safe message. */
int pa_db_check_conninfo(const char *conninfo, char *err, size_t errlen);

/* "host=... port=... dbname=... user=..." description of a conninfo for logs: never the password. */
void pa_db_describe(const char *conninfo, char *out, size_t cap);

/* Classify a failed result (or the connection state when res is NULL) into a reason, and write a safe message:
 * the primary message and SQLSTATE only (never DETAIL/CONTEXT, which can quote row data). */
enum pa_fail_reason pa_db_classify(PGconn *conn, const PGresult *res, char *err, size_t errlen);

/* Wait until the connection's socket is readable, up to timeout seconds (one poll, resumed after a signal). Returns
 * 1 readable, 0 timeout, -1 error. Callers that must react to a stop request pass short timeouts and loop. */
int pa_db_wait(PGconn *conn, double timeout);

/* Send a cancel request for the running query (bounded, safe from the main loop). */
void pa_db_cancel(PGconn *conn);

/* Run a command and return its result; on failure returns NULL with err/reason filled (result cleared). */
PGresult *pa_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                     char *err, size_t errlen, enum pa_fail_reason *reason);
/* pa_db_exec that also hands back the SQLSTATE of a failure in sqlstate ("" when there is none, e.g. a lost
 * connection), for a caller to whom one error is an answer (42883: the function is not there). */
PGresult *pa_db_exec_state(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                           char *err, size_t errlen, enum pa_fail_reason *reason, char sqlstate[6]);

#endif
