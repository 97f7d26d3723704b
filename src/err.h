/* err: the one error type of the modules that talk to a database (db, findings, scan, grants, daemon, main): a
 * bounded reason, the SQLSTATE when the server gave one, and a safe message. No libpq here, so pure code may use
 * it too (detect keeps its own err/errlen signature: it never has a reason or a SQLSTATE).
 * A message never holds a scanned value, a conninfo or a password: db builds them from the server's primary
 * message and SQLSTATE only. */
#ifndef PA_ERR_H
#define PA_ERR_H

#include <stdbool.h>
#include <string.h>

/* Bounded failure reasons: these are metric label values and scan_runs.error_class. One list, X(NAME, "label"),
 * makes both the enum (PA_FAIL_NAME) and the labels, so a reason cannot be added without its label. */
/* clang-format off: one row per line, aligned by hand */
#define PA_FAIL_REASONS(X)                                                                                             \
    X(NONE, "none")                                                                                                    \
    X(CONNECT, "connect")                     /* cannot connect / authenticate */                                      \
    X(CONNECTION_LOST, "connection_lost")     /* connection dropped, server restarted or shut down */                  \
    X(TIMEOUT, "timeout")                     /* statement_timeout or client-side wait bound */                        \
    X(LOCK_TIMEOUT, "lock_timeout")           /* lock_timeout: the surface was locked */                               \
    X(PERMISSION, "permission")               /* missing grant */                                                      \
    X(MISSING, "missing")                     /* table or column does not exist */                                     \
    X(UNSUPPORTED_TYPE, "unsupported_type")   /* column type not jsonb/json/text/varchar */                            \
    X(NO_UNIQUE_ID, "no_unique_id")           /* no primary key (and not keyless) / id column not unique */            \
    X(NULL_ID, "null_id")                     /* the id column holds NULLs: those rows cannot be read by key */        \
    X(RLS, "rls")                             /* row-level security would hide rows */                                 \
    X(BUSY, "busy")                           /* another pii-auditd is scanning this surface */                        \
    X(FINDINGS_STORE, "findings_store")       /* findings could not be written */                                      \
    X(SCHEMA, "schema")                       /* findings schema missing or old */                                     \
    X(CANCELLED, "cancelled")                 /* stopped by a signal */                                                \
    X(RECOVERY_CONFLICT, "recovery_conflict") /* a hot standby cancelled the query to replay WAL (40001, 40P01) */     \
    X(QUERY, "query")                         /* any other query error */                                              \
    X(INTERRUPTED, "interrupted")             /* a scan run whose process ended (SIGKILL, crash) before finishing */
/* clang-format on */

#define PA_FAIL_ENUM_(name, label) PA_FAIL_##name,
enum pa_fail_reason { PA_FAIL_REASONS(PA_FAIL_ENUM_) PA_FAIL_COUNT };
#undef PA_FAIL_ENUM_

/* The label value of a reason ("connection_lost"); "query" for a value out of range. */
const char *pa_fail_reason_name(enum pa_fail_reason r);

#define PA_ERR_MSG_MAX 512

struct pa_err {
    enum pa_fail_reason reason;
    char sqlstate[6];         /* "" when the server gave none (a lost connection, a client-side error) */
    char msg[PA_ERR_MSG_MAX]; /* what failed, where, and what to do; "" when nothing failed */
};

/* No error. */
void pa_err_clear(struct pa_err *e);
/* Set reason and message (printf); the SQLSTATE is cleared. Returns -1, so `return pa_err_set(...)` reads well. */
int pa_err_set(struct pa_err *e, enum pa_fail_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "prefix" + the message (cut at PA_ERR_MSG_MAX like every message); reason and SQLSTATE kept. */
void pa_err_prefix(struct pa_err *e, const char *prefix);
/* The message + printf text (cut at PA_ERR_MSG_MAX). */
void pa_err_append(struct pa_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The server answered with this SQLSTATE ("42501": insufficient privilege). */
static inline bool pa_err_sqlstate_is(const struct pa_err *e, const char *state)
{
    return strcmp(e->sqlstate, state) == 0;
}

#endif
