/* Unit tests for the error type (err.h) and db's parts that need no server: reason names, messages cut at the
 * bound, the SQLSTATE, quoting without a connection. */
#include "db.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_reason_names)
{
    /* metric label values and scan_runs.error_class: bounded, distinct, lower-case words */
    for (int i = 0; i < PA_FAIL_COUNT; i++) {
        const char *n = pa_fail_reason_name((enum pa_fail_reason)i);
        ck_assert_ptr_nonnull(n);
        ck_assert_uint_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz_"), strlen(n));
        for (int k = 0; k < i; k++)
            ck_assert_str_ne(n, pa_fail_reason_name((enum pa_fail_reason)k));
    }
    ck_assert_str_eq(pa_fail_reason_name(PA_FAIL_NONE), "none");
    ck_assert_str_eq(pa_fail_reason_name(PA_FAIL_CONNECTION_LOST), "connection_lost");
    ck_assert_str_eq(pa_fail_reason_name(PA_FAIL_INTERRUPTED), "interrupted");
    ck_assert_str_eq(pa_fail_reason_name(PA_FAIL_COUNT), "query");
    ck_assert_str_eq(pa_fail_reason_name((enum pa_fail_reason)-1), "query");
}
END_TEST

START_TEST(test_err)
{
    struct pa_err e;
    pa_err_clear(&e);
    ck_assert_int_eq(e.reason, PA_FAIL_NONE);
    ck_assert_str_eq(e.msg, "");
    ck_assert(pa_err_sqlstate_is(&e, ""));
    memcpy(e.sqlstate, "42501", 6);
    ck_assert(pa_err_sqlstate_is(&e, "42501"));
    ck_assert_int_eq(pa_err_set(&e, PA_FAIL_BUSY, "surface %s busy", "a.b.c"), -1);
    ck_assert_int_eq(e.reason, PA_FAIL_BUSY);
    ck_assert_str_eq(e.msg, "surface a.b.c busy");
    ck_assert(pa_err_sqlstate_is(&e, "")); /* a new error has no SQLSTATE of the old one */
    memcpy(e.sqlstate, "42501", 6);
    pa_err_prefix(&e, "findings store: ");
    pa_err_append(&e, "; the role lacks: %s", "GRANT x");
    ck_assert_str_eq(e.msg, "findings store: surface a.b.c busy; the role lacks: GRANT x");
    ck_assert(pa_err_sqlstate_is(&e, "42501"));
    ck_assert_int_eq(e.reason, PA_FAIL_BUSY);

    /* every message is cut at the bound, also when a prefix or a suffix would pass it */
    char big[2 * PA_ERR_MSG_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pa_err_set(&e, PA_FAIL_QUERY, "%s", big);
    ck_assert_uint_eq(strlen(e.msg), PA_ERR_MSG_MAX - 1);
    pa_err_append(&e, "more");
    ck_assert_uint_eq(strlen(e.msg), PA_ERR_MSG_MAX - 1);
    pa_err_prefix(&e, "p: ");
    ck_assert_uint_eq(strlen(e.msg), PA_ERR_MSG_MAX - 1);
    ck_assert_int_eq(strncmp(e.msg, "p: xxx", 6), 0);
}
END_TEST

START_TEST(test_quote_ident_offline)
{
    /* without a connection: always quoted, quotes doubled (never reads as SQL) */
    char *q = pa_db_quote_ident(NULL, "users");
    ck_assert_str_eq(q, "\"users\"");
    free(q);
    q = pa_db_quote_ident(NULL, "x\"; DROP TABLE t; --");
    ck_assert_str_eq(q, "\"x\"\"; DROP TABLE t; --\"");
    free(q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reason_names);
    tcase_add_test(tc, test_err);
    tcase_add_test(tc, test_quote_ident_offline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
