/* Unit tests for the error type (err.h) and db's parts that need no server: reason names, messages cut at the
 * bound, the SQLSTATE, quoting without a connection. */
#include "db.h"

#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

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
    ck_assert_str_eq(pa_fail_reason_name((enum pa_fail_reason) - 1), "query");
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

START_TEST(test_budget)
{
    /* what a scan holds at once: 2 per reader + the coordinator's scanned session + its findings session */
    struct pa_config cfg = {.parallelism = 1, .db_conninfo = "host=x dbname=app user=scanner"};
    struct pa_db_budget b;
    pa_db_budget(&cfg, &b);
    ck_assert_int_eq(b.scanned, 3);
    ck_assert_int_eq(b.store, 1);
    ck_assert(b.together);
    ck_assert_int_eq(pa_db_budget_total(&b), 4);
    cfg.parallelism = 4;
    pa_db_budget(&cfg, &b);
    ck_assert_int_eq(pa_db_budget_total(&b), 10);
    cfg.parallelism = 16; /* the documented maximum: sql/roles.sql's CONNECTION LIMIT 40 must cover it */
    cfg.findings_conninfo = "host=y dbname=findings";
    pa_db_budget(&cfg, &b);
    ck_assert_int_eq(b.scanned, 33);
    ck_assert(!b.together);
    ck_assert_int_eq(pa_db_budget_total(&b), 34);
    ck_assert_int_le(pa_db_budget_total(&b), 40);
}
END_TEST

START_TEST(test_explain_refusal)
{
    struct pa_config cfg = {.parallelism = 4, .db_conninfo = "host=x dbname=app user=scanner password=s3cret"};
    struct pa_err e;
    /* another connection failure is left as it is */
    pa_err_set(&e, PA_FAIL_CONNECT, "connection to server failed: FATAL:  password authentication failed");
    ck_assert(!pa_db_explain_refusal(&cfg, NULL, &e));
    ck_assert_str_eq(e.sqlstate, "");
    /* at connect time: recognized by the server's message; the role is the conninfo's user, nothing else of it */
    pa_err_set(&e, PA_FAIL_CONNECT, "connection to server failed: FATAL:  too many connections for role \"scanner\"");
    ck_assert(pa_db_explain_refusal(&cfg, NULL, &e));
    ck_assert_str_eq(e.sqlstate, "53300");
    ck_assert_ptr_nonnull(strstr(e.msg,
                                 "; this configuration needs up to 10 sessions (scan.parallelism 4: 2 per reader "
                                 "+ 2): ALTER ROLE scanner CONNECTION LIMIT 10"));
    ck_assert_ptr_null(strstr(e.msg, "s3cret"));
    /* with the server described: its limits named */
    struct pa_db_server s = {.role = "scanner", .database = "app", .role_limit = 8, .database_limit = -1};
    pa_err_set(&e, PA_FAIL_CONNECT, "FATAL:  too many connections for role \"scanner\"");
    ck_assert(pa_db_explain_refusal(&cfg, &s, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "; role scanner has CONNECTION LIMIT 8; this configuration needs up to 10"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reason_names);
    tcase_add_test(tc, test_err);
    tcase_add_test(tc, test_quote_ident_offline);
    tcase_add_test(tc, test_budget);
    tcase_add_test(tc, test_explain_refusal);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
