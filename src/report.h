/* report: the --scan-once summary on stdout, as text for people or JSON (a documented, stable schema, see
 * docs/cli.md) for CI gates, and the exit status. Holds no values: counts, names, categories and reasons only. */
#ifndef PA_REPORT_H
#define PA_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "scan.h"

#define PA_EXIT_CLEAN 0    /* scan complete, no open findings */
#define PA_EXIT_FINDINGS 1 /* scan complete, open findings exist */
#define PA_EXIT_USAGE 2    /* usage or configuration error */
#define PA_EXIT_FAILED 3   /* at least one surface could not be scanned (the others were) */

#define PA_REPORT_JSON_SCHEMA 1

int pa_report_exit_code(const struct pa_scan_result *r);
void pa_report_text(FILE *out, const struct pa_scan_result *r, bool dry_run);
void pa_report_json(FILE *out, const struct pa_scan_result *r, bool dry_run);

#endif
