/* Unit tests for report: the --scan-once summary as text and as JSON (a public, documented schema: docs/cli.md)
 * and the exit status, on hand-made scan results. No database. */
#include "report.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_build.h"

#include "testutil.h"

static struct pa_surface s1 = {.schema = "public", .table = "t", .column = "c", .name = "public.t.c"};
static struct pa_surface s2 = {.schema = "app", .table = "u", .column = "d", .name = "app.u.d"};

/* Two surfaces: one read in full with findings, one failed on a grant. */
static void two_surfaces(struct pa_scan_result *r, struct pa_surface_result *sr)
{
    memset(r, 0, sizeof *r);
    memset(sr, 0, 2 * sizeof *sr);
    sr[0] = (struct pa_surface_result){.surface = &s1,
                                       .table = "public.t",
                                       .status = PA_SURFACE_OK,
                                       .full = true,
                                       .rows = 10,
                                       .bytes = 1234,
                                       .rows_estimated = 12,
                                       .duration = 2.0,
                                       .invalid_documents = 1};
    pa_catcounts_add(&sr[0].new_by_cat, "email", 2);
    pa_catcounts_add(&sr[0].open_by_cat, "phone", 1);
    pa_catcounts_add(&sr[0].open_by_cat, "email", 3);
    sr[1] = (struct pa_surface_result){
        .surface = &s2, .table = "app.u", .status = PA_SURFACE_FAILED, .rows_estimated = -1};
    pa_err_set(&sr[1].err, PA_FAIL_PERMISSION, "permission denied: role x lacks USAGE on schema app");
    *r = (struct pa_scan_result){.scan_id = 7, .surfaces = sr, .n = 2, .duration = 3.5, .failed = 1, .open_total = 4};
}

static void free_surfaces(struct pa_surface_result *sr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pa_catcounts_free(&sr[i].new_by_cat);
        pa_catcounts_free(&sr[i].open_by_cat);
        pa_catcounts_free(&sr[i].resolved_by_cat);
    }
}

typedef void (*report_fn)(FILE *out, const struct pa_scan_result *r, bool dry_run);

static char *render(report_fn fn, const struct pa_scan_result *r, bool dry_run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    fn(f, r, dry_run);
    fclose(f);
    return buf;
}

START_TEST(test_json)
{
    struct pa_scan_result r;
    struct pa_surface_result sr[2];
    two_surfaces(&r, sr);
    /* a standby's scan with oversized documents and retried batches */
    r.server = (struct pa_db_server){
        .system_identifier = "7716603906132214346", .database = "app", .in_recovery = true};
    sr[0].oversized_documents = 3;
    sr[0].retries[PA_FAIL_RECOVERY_CONFLICT] = 2;
    sr[0].unread[PA_UNREAD_OVERSIZED] = 5;
    sr[1].unread[PA_UNREAD_OVERSIZED] = sr[1].unread[PA_UNREAD_FAILED] = -1;
    char *out = render(pa_report_json, &r, false);
    ck_assert_str_eq(
        out,
        "{\"schema_version\":1,\"pii_auditd_version\":\"" PA_VERSION "\",\"scan_id\":7,\"dry_run\":false,"
        "\"status\":\"partial\",\"exit_code\":3,\"duration_seconds\":3.500,\"error\":null,"
        "\"database\":{\"name\":\"app\",\"system_identifier\":\"7716603906132214346\",\"in_recovery\":true},"
        "\"totals\":{\"surfaces\":2,\"failed\":1,\"rows\":10,\"bytes\":1234,\"new_findings\":2,"
        "\"resolved_findings\":0,\"open_findings\":4,\"oversized_documents\":3,\"retries\":2},\"surfaces\":["
        "{\"surface\":\"public.t.c\",\"table\":\"public.t\",\"column\":\"c\",\"status\":\"ok\",\"mode\":\"full\","
        "\"error\":null,\"rows\":10,\"bytes\":1234,\"rows_estimated\":12,\"duration_seconds\":2.000,"
        "\"rows_per_second\":5.0,\"invalid_documents\":1,\"truncated_records\":0,\"rows_reread\":0,"
        "\"new\":{\"email\":2},\"open\":{\"email\":3,\"phone\":1},\"resolved\":{},\"oversized_documents\":3,"
        "\"retries\":{\"recovery_conflict\":2},\"unread\":{\"oversized\":5,\"failed\":0}},"
        "{\"surface\":\"app.u.d\",\"table\":\"app.u\",\"column\":\"d\",\"status\":\"failed\",\"mode\":\"incremental\","
        "\"error\":{\"reason\":\"permission\",\"message\":\"permission denied: role x lacks USAGE on schema app\"},"
        "\"rows\":0,\"bytes\":0,\"rows_estimated\":0,\"duration_seconds\":0.000,\"rows_per_second\":0.0,"
        "\"invalid_documents\":0,\"truncated_records\":0,\"rows_reread\":0,\"new\":{},\"open\":{},\"resolved\":{},"
        "\"oversized_documents\":0,\"retries\":{},\"unread\":{\"oversized\":null,\"failed\":null}}]}\n");
    free(out);

    /* a scan that could not start; a dry run has no scan id */
    struct pa_scan_result e = {0};
    pa_err_set(&e.err, PA_FAIL_CONNECT, "cannot connect to the findings database: \"quoted\"");
    out = render(pa_report_json, &e, true);
    ck_assert_str_eq(out, "{\"schema_version\":1,\"pii_auditd_version\":\"" PA_VERSION "\",\"scan_id\":null,"
                          "\"dry_run\":true,\"status\":\"failed\",\"exit_code\":3,\"duration_seconds\":0.000,"
                          "\"error\":{\"reason\":\"connect\",\"message\":\"cannot connect to the findings database: "
                          "\\\"quoted\\\"\"},\"database\":null,\"totals\":{\"surfaces\":0,\"failed\":0,\"rows\":0,"
                          "\"bytes\":0,\"new_findings\":0,\"resolved_findings\":0,\"open_findings\":0,"
                          "\"oversized_documents\":0,\"retries\":0},\"surfaces\":[]}\n");
    free(out);
    free_surfaces(sr, 2);
}
END_TEST

START_TEST(test_text)
{
    struct pa_scan_result r;
    struct pa_surface_result sr[2];
    two_surfaces(&r, sr);
    char *out = render(pa_report_text, &r, false);
    ck_assert_str_eq(out, "pii-auditd scan 7: 2 surfaces in 3.50s, status partial\n"
                          "\n  public.t.c\n"
                          "    full scan: 10 rows, 1.2 kB in 2.00s (5 rows/s)\n"
                          "    findings: 2 new, 4 open, 0 resolved\n"
                          "    new:      email 2\n"
                          "    open:     email 3, phone 1\n"
                          "    invalid JSON documents (scanned as text): 1\n"
                          "\n  app.u.d\n"
                          "    FAILED (permission): permission denied: role x lacks USAGE on schema app\n"
                          "\nRESULT: at least one surface could not be scanned (exit 3)\n");
    free(out);

    /* one surface, cancelled after some rows: its counts are still shown; a dry run says so */
    r.n = 1;
    r.failed = 1;
    r.cancelled = true;
    sr[0].status = PA_SURFACE_CANCELLED;
    pa_err_set(&sr[0].err, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
    sr[0].truncated_records = 2;
    sr[0].bytes = 999;
    out = render(pa_report_text, &r, true);
    ck_assert_str_eq(out, "pii-auditd dry run (nothing written): 1 surface in 3.50s\n"
                          "\n  public.t.c\n"
                          "    CANCELLED (cancelled): stopped by a signal at a batch boundary\n"
                          "    full scan: 10 rows, 999 B in 2.00s (5 rows/s)\n"
                          "    findings: 2 new, 4 open, 0 resolved\n"
                          "    new:      email 2\n"
                          "    open:     email 3, phone 1\n"
                          "    invalid JSON documents (scanned as text): 1\n"
                          "    records with more findings than scan.max_findings_per_record: 2\n"
                          "\nRESULT: at least one surface could not be scanned (exit 3)\n");
    free(out);

    struct pa_scan_result e = {0};
    pa_err_set(&e.err, PA_FAIL_SCHEMA, "the findings schema pii_audit is not installed");
    out = render(pa_report_text, &e, false);
    ck_assert_str_eq(out, "scan could not start: the findings schema pii_audit is not installed\n");
    free(out);
    free_surfaces(sr, 2);
}
END_TEST

START_TEST(test_exit_codes)
{
    struct pa_scan_result r;
    struct pa_surface_result sr[2];
    two_surfaces(&r, sr);
    ck_assert_int_eq(pa_report_exit_code(&r), PA_EXIT_FAILED);
    r.n = 1;
    r.failed = 0;
    ck_assert_int_eq(pa_report_exit_code(&r), PA_EXIT_FINDINGS);
    char *out = render(pa_report_text, &r, false);
    ck_assert_ptr_nonnull(strstr(out, "\nRESULT: open findings exist (exit 1)\n"));
    free(out);
    r.open_total = 0;
    ck_assert_int_eq(pa_report_exit_code(&r), PA_EXIT_CLEAN);
    out = render(pa_report_text, &r, false);
    ck_assert_ptr_nonnull(strstr(out, "\nRESULT: clean, no open findings (exit 0)\n"));
    free(out);
    /* documents left unread by scan.max_document_bytes: the exit status stays 0, but the words never say clean */
    sr[0].oversized_documents = 2;
    sr[0].retries[PA_FAIL_RECOVERY_CONFLICT] = 4;
    ck_assert_int_eq(pa_report_exit_code(&r), PA_EXIT_CLEAN);
    out = render(pa_report_text, &r, false);
    ck_assert_ptr_nonnull(strstr(out, "    NOT READ: 2 documents stored in more than scan.max_document_bytes "
                                      "(oversized)\n    batches read again after recovery_conflict: 4\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nRESULT: no open findings in what was read (exit 0); 2 oversized documents "
                                      "were not read (scan.max_document_bytes)\n"));
    ck_assert_ptr_null(strstr(out, "clean"));
    free(out);
    pa_err_set(&r.err, PA_FAIL_CONNECT, "x");
    ck_assert_int_eq(pa_report_exit_code(&r), PA_EXIT_FAILED);
    ck_assert_int_eq(PA_EXIT_USAGE, 2);
    free_surfaces(sr, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_text);
    tcase_add_test(tc, test_exit_codes);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
