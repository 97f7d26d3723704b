/* Unit tests for cli's pure parts: --since (durations, dates, times with offsets, and what they refuse), --status,
 * ids, --reason and category names. */
#include "cli.h"

#include <check.h>
#include <stdlib.h>

#include "triage.h"

#include "testutil.h"

START_TEST(test_since)
{
    double t, now = 1800000000.0; /* 2027-01-15T08:00:00Z */
    ck_assert_int_eq(pa_cli_parse_since("7d", now, &t), 0);
    ck_assert(t == now - 7 * 86400);
    ck_assert_int_eq(pa_cli_parse_since("12h", now, &t), 0);
    ck_assert(t == now - 12 * 3600);
    ck_assert_int_eq(pa_cli_parse_since("1.5w", now, &t), 0);
    ck_assert(t == now - 1.5 * 7 * 86400);
    ck_assert_int_eq(pa_cli_parse_since("2026-12-01", now, &t), 0);
    ck_assert(t == 1796083200.0);
    ck_assert_int_eq(pa_cli_parse_since("2026-12-01T08:30:15Z", now, &t), 0);
    ck_assert(t == 1796083200.0 + 8 * 3600 + 30 * 60 + 15);
    ck_assert_int_eq(pa_cli_parse_since("2026-12-01 08:30", now, &t), 0);
    ck_assert(t == 1796083200.0 + 8 * 3600 + 30 * 60);
    ck_assert_int_eq(pa_cli_parse_since("2026-12-01T08:30+02:00", now, &t), 0);
    ck_assert(t == 1796083200.0 + 6 * 3600 + 30 * 60);
    ck_assert_int_eq(pa_cli_parse_since("2026-12-01T08:30:00-01:30", now, &t), 0);
    ck_assert(t == 1796083200.0 + 10 * 3600);
    ck_assert_int_eq(pa_cli_parse_since("2024-02-29", now, &t), 0); /* a leap day */
    const char *bad[] = {"",
                         "30",
                         "7 d",
                         "-7d",
                         "d",
                         "2026-13-01",
                         "2026-02-30",
                         "2025-02-29",
                         "2026-12-1",
                         "2026-12-01T8:30",
                         "2026-12-01T08:30:00+0200",
                         "2026-12-01T24:00",
                         "2026-12-01Zx",
                         "yesterday",
                         "2026-12-01T08:30:00.5Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(pa_cli_parse_since(bad[i], now, &t) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_status)
{
    unsigned m = 0;
    ck_assert_int_eq(pa_cli_parse_status("open", &m), 0);
    ck_assert_uint_eq(m, PA_STATUS_OPEN);
    ck_assert_int_eq(pa_cli_parse_status("acknowledged,resolved", &m), 0);
    ck_assert_uint_eq(m, PA_STATUS_ALL); /* OR-ed: --status is repeatable */
    m = 0;
    ck_assert_int_eq(pa_cli_parse_status("all", &m), 0);
    ck_assert_uint_eq(m, PA_STATUS_ALL);
    const char *bad[] = {"", "opened", "open,", ",open", "open,,resolved", "OPEN", "ack"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(pa_cli_parse_status(bad[i], &m) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_ids_reasons_categories)
{
    long long id;
    ck_assert_int_eq(pa_cli_parse_id("42", &id), 0);
    ck_assert_int_eq(id, 42);
    ck_assert_int_eq(pa_cli_parse_id("999999999999999999", &id), 0);
    const char *bad[] = {"", "0", "-1", "012", "1e3", "12a", " 1", "9999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(pa_cli_parse_id(bad[i], &id) == -1, "accepted %s", bad[i]);
    ck_assert_ptr_null(pa_cli_reason_error("ticket SEC-12, owner: payments"));
    ck_assert_ptr_nonnull(pa_cli_reason_error(""));
    ck_assert_ptr_nonnull(pa_cli_reason_error(" \t\n"));
    ck_assert_ptr_nonnull(pa_cli_reason_error("bad \xff byte"));
    char *longr = malloc(2002);
    for (int i = 0; i < 2001; i++)
        longr[i] = 'x';
    longr[2001] = '\0';
    ck_assert_ptr_nonnull(pa_cli_reason_error(longr));
    longr[2000] = '\0';
    ck_assert_ptr_null(pa_cli_reason_error(longr));
    free(longr);
    ck_assert(pa_cli_category_ok("email"));
    ck_assert(pa_cli_category_ok("employee_id2"));
    ck_assert(!pa_cli_category_ok("Email"));
    ck_assert(!pa_cli_category_ok("2fa"));
    ck_assert(!pa_cli_category_ok("e-mail"));
    ck_assert(!pa_cli_category_ok(""));
    ck_assert(pa_cli_is_subcommand("findings") && pa_cli_is_subcommand("allow") && pa_cli_is_subcommand("report"));
    ck_assert(!pa_cli_is_subcommand("list") && !pa_cli_is_subcommand("--scan-once"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_since);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_ids_reasons_categories);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
