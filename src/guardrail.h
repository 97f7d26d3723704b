/* guardrail: the write-time guardrail (Layer 2) as SQL — BEFORE INSERT OR UPDATE triggers on the configured
 * json/jsonb surfaces that reject a row whose document has a key of the PII key dictionary (SQLSTATE 23514), and a
 * per-table reject counter (a sequence: it survives the rollback of the rejected statement).
 *
 * The SQL is generated from the SAME compiled detector the daemon scans with (default dictionary + extra_keys,
 * disable, ignore_keys), so Layer 2 and Layer 3 cannot drift apart; sql/guardrail.sql is this output for
 * etc/pii-auditd.yaml and a test fails when they differ.
 * Pure: configuration and dictionary in, SQL text out. Never touches the database, never sees a scanned value.
 */
#ifndef PA_GUARDRAIL_H
#define PA_GUARDRAIL_H

#include "config.h"
#include "detect.h"

/* The schema the SQL installs into, and the function the daemon reads the counters with. */
#define PA_GUARDRAIL_SCHEMA "pii_guardrail"
#define PA_GUARDRAIL_COUNTS_FUNCTION "pii_guardrail.reject_counts()"

/* The install script (idempotent, one transaction) for cfg's surfaces with d's dictionary; cfg->guardrail_nested_keys
 * selects keys at any depth instead of the document's own keys. Returns NULL and writes a message to err when a
 * configured pattern cannot be embedded. Caller frees. */
char *pa_guardrail_sql(const struct pa_config *cfg, const struct pa_detector *d, char *err, size_t errlen);

#endif
