/* db: every libpq connection pii-auditd makes (the three recipes below), bounded waits, and the classification of
 * failures into struct pa_err. Never logs, prints or returns a conninfo or a password: connection errors are
 * rebuilt from libpq's message, which names host/port/user but never the password; a conninfo that does not parse
 * is reported without its text. */
#ifndef PA_DB_H
#define PA_DB_H

#include <libpq-fe.h>

#include "err.h"

struct pa_config;

/* The connection recipes. Each sets application_name, connect_timeout, keepalives, statement_timeout,
 * lock_timeout and idle_in_transaction_session_timeout from the configuration. */
enum pa_db_role {
    PA_DB_SCANNED,         /* database.conninfo: read-only, and row_security off (RLS can never silently hide
                            * rows: a filtered query fails instead) */
    PA_DB_STORE,           /* the findings store: findings.conninfo, or database.conninfo when it is not set */
    PA_DB_STORE_READ_ONLY, /* the findings store, read-only (the daemon's gauges) */
};

/* Open a connection by its recipe. Returns NULL with e set on failure (reason connect, or what the session
 * settings failed with). */
PGconn *pa_db_open(const struct pa_config *cfg, enum pa_db_role role, struct pa_err *e);

/* Classify a failed result (or the connection state when res is NULL) into e: the reason (returned too), the
 * SQLSTATE, and a safe message: the primary message and SQLSTATE only (never DETAIL/CONTEXT, which can quote row
 * data). */
enum pa_fail_reason pa_db_classify(PGconn *conn, const PGresult *res, struct pa_err *e);

/* Wait until the connection's socket is readable, up to timeout seconds (one poll, resumed after a signal). Returns
 * 1 readable, 0 timeout, -1 error. Callers that must react to a stop request pass short timeouts and loop. */
int pa_db_wait(PGconn *conn, double timeout);

/* Send a cancel request for the running query (bounded, safe from the main loop). */
void pa_db_cancel(PGconn *conn);

/* Run a command and return its result when its status is want; otherwise NULL with e filled (the result cleared).
 * On success e->reason is PA_FAIL_NONE and e->sqlstate "" (the message is left as it was). */
PGresult *pa_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, ExecStatusType want,
                     struct pa_err *e);

/* A name as PostgreSQL's quote_ident() writes it (quoted only when needed: "Weird Table", "user"), for SQL that a
 * message or --print-grants shows to a person, so that what they copy into psql does what it says. Asks the server
 * when conn is given; without a connection (or when that fails) always quoted, which is always correct. The caller
 * frees. */
char *pa_db_quote_ident(PGconn *conn, const char *name);

#endif
