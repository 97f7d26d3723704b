/* setup: the first-run commands, which prepare and check what scans need and never read a scanned row:
 *   --init-db                  apply the findings schema's files not installed yet; when the role may not (SQLSTATE
 *                              42501), say who must and how;
 *   --print-init-sql [--all]   the same SQL on stdout, to pipe into psql as the database owner;
 *   --check-config --connect   the preflight: connect as the configured role(s) and make every check a scan would
 *                              make at its start (each surface, the findings schema and its grants, the connection
 *                              budget), one line per check with the fix for each failure.
 * Never prints a conninfo, a password or a scanned value (the surface checks read the catalog only). */
#ifndef PA_SETUP_H
#define PA_SETUP_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* --init-db. Returns the exit status: 0 done (or nothing to do), 3 failed (the connection, a file, a privilege). */
int pa_setup_init_db(const struct pa_config *cfg, const char *config_path);

/* --print-init-sql: the files the findings database lacks (asked as the configured role; when it cannot be asked,
 * every file, which is safe since each is idempotent), or every file with all. Returns the exit status (0, or 3 when
 * stdout could not be written). */
int pa_setup_print_init_sql(FILE *out, const struct pa_config *cfg, const char *config_path, bool all);

/* --check-config --connect. One line per check on out ("ok   ..." or "FAIL ...: what is wrong; the fix"), then a
 * summary. Returns 0 when every check passed, 2 otherwise. */
int pa_setup_preflight(FILE *out, const struct pa_config *cfg, const char *config_path);

#endif
