/* grants: what the pii_auditd role needs, written once. The privilege table of the objects pii-auditd ships (the
 * findings schema pii_audit, the guardrail's counters), in sql/roles.sql's order (a unit test holds roles.sql to
 * it), and the statements a scanned surface needs. Used by --print-grants (pa_grants_print), by the findings
 * store's permission hint (findings.c) and by the surface checks' hints (scan/catalog.c).
 * Never prints a conninfo or a password: the role name is the conninfo's user and nothing else of it. */
#ifndef PA_GRANTS_H
#define PA_GRANTS_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

struct pa_config;

enum pa_grant_need {
    PA_GRANT_DAEMON,       /* the daemon needs it: printed by --print-grants, named by the permission hint */
    PA_GRANT_IF_INSTALLED, /* needed once the guardrail is installed: granted only when its function exists */
    PA_GRANT_ROLES_ONLY,   /* granted by sql/roles.sql for people who read findings as this role (the seed's view);
                            * the daemon does not need it, so --print-grants leaves it out */
    PA_GRANT_OPERATOR,     /* granted by sql/roles.sql to PA_OPERATOR_ROLE, the group role of the people who triage
                            * (pii-auditd findings ack/resolve, allow add/remove, report); never to the scanner, so
                            * a scanner's credentials cannot allowlist what it would find */
};

/* The group role sql/roles.sql creates for people who triage findings (NOLOGIN: granted to their own roles). */
#define PA_OPERATOR_ROLE "pii_auditd_operator"

/* One GRANT statement: every privilege on every object. */
struct pa_grant {
    const char *privs[4];   /* NULL-terminated; "UPDATE (a, b)" for column privileges */
    const char *kind;       /* "SCHEMA", "SEQUENCE", "FUNCTION", or "" for tables and views */
    const char *objects[6]; /* NULL-terminated, schema-qualified */
    enum pa_grant_need need;
};

extern const struct pa_grant pa_grants[];
extern const size_t pa_grants_n;

/* "GRANT p1, p2 ON KIND o1, o2 TO qrole" (no semicolon) appended to out. */
void pa_grant_statement(struct pa_buf *out, const struct pa_grant *g, const char *qrole);

/* What a scanned surface needs, as printf formats: the same words in --print-grants and in the scan's hints.
 * Arguments: database, role; schema, role; the column list (pa_scan_grant_columns), "TABLE " or "", schema, table,
 * role. */
#define PA_GRANT_CONNECT_FMT "GRANT CONNECT ON DATABASE %s TO %s"
#define PA_GRANT_SCHEMA_USAGE_FMT "GRANT USAGE ON SCHEMA %s TO %s"
#define PA_GRANT_COLUMNS_FMT "GRANT SELECT (%s) ON %s%s.%s TO %s"

/* --print-grants: the GRANTs for the configured surfaces (column-level SELECT; the primary key is looked up on a
 * scanned-database connection when one can be made) and for pii-auditd's own objects. Returns 0. */
int pa_grants_print(FILE *out, const struct pa_config *cfg);

#endif
