/* db: every libpq connection pii-auditd makes (the three recipes below), bounded waits, and the classification of
 * failures into struct pa_err. Never logs, prints or returns a conninfo or a password: connection errors are
 * rebuilt from libpq's message, which names host/port/user but never the password; a conninfo that does not parse
 * is reported without its text. */
#ifndef PA_DB_H
#define PA_DB_H

#include <stdbool.h>
#include <stddef.h>

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
 * data). SQLSTATE 40001 or 40P01 on a server in recovery is recovery_conflict (a hot standby cancelled the query
 * to replay WAL: worth a retry), also when it ended the session. */
enum pa_fail_reason pa_db_classify(PGconn *conn, const PGresult *res, struct pa_err *e);

/* The server of conn is a hot standby (in recovery). Read from the in_hot_standby parameter the server reports at
 * the start of every session and again when it changes (PostgreSQL 14 and later: no query); asked with
 * pg_is_in_recovery() only from an older server, and only on an idle connection (false otherwise). */
bool pa_db_in_recovery(PGconn *conn);

/* What the scanned server says about itself, asked once per scan on the scanning connection: the database identity
 * (the cluster's system identifier and the database name: a standby has its primary's), the role and the
 * connection limits that apply to it. */
struct pa_db_server {
    char system_identifier[24]; /* pg_control_system().system_identifier, decimal */
    char database[128];         /* current_database() */
    char role[128];             /* current_user */
    int role_limit;             /* pg_roles.rolconnlimit: -1 = none */
    int database_limit;         /* pg_database.datconnlimit: -1 = none */
    bool in_recovery;           /* pg_is_in_recovery() */
};
/* Ask the server of a scanned-database connection. 0, or -1 with e set. */
int pa_db_describe(PGconn *conn, struct pa_db_server *s, struct pa_err *e);
/* "7716603906132214346/app": the identity as one string, for messages and the log. */
void pa_db_identity_str(const struct pa_db_server *s, char *out, size_t cap);

/* The connection budget of a configuration: the most sessions pii-auditd holds at once, counted from what the code
 * opens. A scan (the daemon's, or --scan-once) holds, for its whole duration:
 *   scan.parallelism readers x 2 sessions on the scanned database (each reader pipelines a batch on one while it
 *   reads the other, src/scan/reader.c), + 1 on the scanned database (the coordinator's surface checks and range
 *   splits), + 1 on the findings database (the coordinator's commits).
 * The daemon's other sessions (the findings gauges after a scan, the guardrail counters between scans, the
 * database identity at start) are opened one at a time when no scan runs, so they never add to the peak. */
struct pa_db_budget {
    int scanned;   /* sessions on the scanned database's server: 2 x parallelism + 1 */
    int store;     /* sessions on the findings database's server: 1 */
    bool together; /* findings.conninfo is unset: one server, one role, scanned + store sessions at once */
};
void pa_db_budget(const struct pa_config *cfg, struct pa_db_budget *b);
/* The budget as a role's CONNECTION LIMIT must allow it: scanned + store (both count when they share a role and a
 * server, which is the case without findings.conninfo and the safe assumption with it). */
int pa_db_budget_total(const struct pa_db_budget *b);

/* e is a connection refused for a connection limit (SQLSTATE 53300: the role's CONNECTION LIMIT, the database's, or
 * the server's max_connections; recognized by the SQLSTATE, or by the server's English message at connect time,
 * where libpq gives no SQLSTATE): append the limits known from s (NULL: not known) and this configuration's budget
 * with the statement that fixes it, and set the SQLSTATE to 53300. Returns whether it was such a refusal. */
bool pa_db_explain_refusal(const struct pa_config *cfg, const struct pa_db_server *s, struct pa_err *e);

/* The role a conninfo connects as: its user (nothing else of it is ever shown), or "pii_auditd" when it names none
 * (libpq then takes the OS user or PGUSER). */
void pa_db_conninfo_user(const char *conninfo, char *out, size_t cap);

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
