/* cli: the subcommands that work on the findings store instead of scanning (docs/cli.md):
 *   pii-auditd [--config FILE] findings list|show|ack|resolve ...
 *   pii-auditd [--config FILE] allow add|list|remove ...
 *   pii-auditd [--config FILE] report --html FILE ...
 * It parses their options, connects to the findings database (findings.conninfo, or --conninfo to connect as
 * oneself), and writes text, JSON, CSV or HTML. Exit status: 0 done, 1 nothing matched (no finding passed the
 * filters, an id that does not exist or is resolved already), 2 usage or configuration error, 3 the database
 * (unreachable, schema missing or old, a privilege missing).
 *
 * None of them reads a scanned table, so they run as root too. Never prints a scanned value (the store has none), a
 * conninfo or a password; what people typed (reasons, names) is escaped wherever it is shown. */
#ifndef PA_CLI_H
#define PA_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* The JSON documents of findings list/show and allow list (docs/cli.md): fields are only ever added. */
#define PA_CLI_JSON_SCHEMA 1

/* word names a subcommand ("findings", "allow", "report"). */
bool pa_cli_is_subcommand(const char *word);

/* Run the subcommand argv[0] with its arguments argv[1..argc). config_path is the main command line's --config
 * (config_given: it was given there, so a file that cannot be read is an error even with --conninfo); log_level
 * its --log-level (-1: warn). Returns the exit status. */
int pa_cli_run(int argc, char **argv, const char *config_path, bool config_given, int log_level);

/* --- pure parts, for the unit tests --- */

/* --since: a duration back from now ("7d", "12h") or a date or time in UTC unless it has an offset ("2026-12-01",
 * "2026-12-01T08:30:00Z", "2026-12-01 08:30+02:00"). 0 and *since (epoch seconds), or -1. */
int pa_cli_parse_since(const char *s, double now, double *since);
/* --status: comma-separated open, acknowledged, resolved or all, OR-ed into *mask (PA_STATUS_* of triage.h). 0 or
 * -1. */
int pa_cli_parse_status(const char *s, unsigned *mask);
/* A finding or allowlist entry id: a positive decimal integer. 0 or -1. */
int pa_cli_parse_id(const char *s, long long *id);
/* A --reason: not empty or blank, valid UTF-8, at most 2000 bytes. NULL when fine, else why not. */
const char *pa_cli_reason_error(const char *s);
/* A category name as the configuration allows one: [a-z][a-z0-9_]*, at most 63 bytes. */
bool pa_cli_category_ok(const char *s);

#endif
