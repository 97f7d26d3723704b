/* Unit tests for util: durations and the byte buffer. */
#include "util.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(test_durations)
{
    double s;
    ck_assert_int_eq(pa_parse_duration("30s", &s), 0);
    ck_assert(s == 30);
    ck_assert_int_eq(pa_parse_duration("15m", &s), 0);
    ck_assert(s == 900);
    ck_assert_int_eq(pa_parse_duration("1h", &s), 0);
    ck_assert(s == 3600);
    ck_assert_int_eq(pa_parse_duration("7d", &s), 0);
    ck_assert(s == 604800);
    ck_assert_int_eq(pa_parse_duration("250ms", &s), 0);
    ck_assert(s == 0.25);
    ck_assert_int_eq(pa_parse_duration("1.5h", &s), 0);
    ck_assert(s == 5400);
    ck_assert_int_eq(pa_parse_duration("10", &s), 0);
    ck_assert(s == 10);
    ck_assert_int_eq(pa_parse_duration("", &s), -1);
    ck_assert_int_eq(pa_parse_duration("-5s", &s), -1);
    ck_assert_int_eq(pa_parse_duration("5 s", &s), -1);
    ck_assert_int_eq(pa_parse_duration("5x", &s), -1);
    ck_assert_int_eq(pa_parse_duration("0x10", &s), -1);
    ck_assert_int_eq(pa_parse_duration("1e3", &s), -1);
    ck_assert_int_eq(pa_parse_duration("nan", &s), -1);
    char out[32];
    pa_format_duration(604800, out, sizeof out);
    ck_assert_str_eq(out, "1w");
    pa_format_duration(30, out, sizeof out);
    ck_assert_str_eq(out, "30s");
    pa_format_duration(5400, out, sizeof out);
    ck_assert_str_eq(out, "1.5h");
}
END_TEST

START_TEST(test_buf)
{
    struct pa_buf b;
    pa_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        pa_buf_appends(&b, "ab");
    ck_assert_uint_eq(b.len, 2000);
    ck_assert_uint_eq(strlen(b.data), 2000);
    pa_buf_truncate(&b, 3);
    ck_assert_str_eq(b.data, "aba");
    pa_buf_printf(&b, "%d-%s", 42, "x");
    ck_assert_str_eq(b.data, "aba42-x");
    char *keep = b.data;
    size_t cap = b.cap;
    pa_buf_wipe(&b);
    ck_assert_uint_eq(b.len, 0);
    /* wiped bytes are zero, allocation kept for reuse */
    ck_assert_ptr_eq(b.data, keep);
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(keep[i], 0);
    ck_assert_uint_eq(b.cap, cap);
    pa_buf_append_json_string(&b, "a\"b\\\n\x01", 6);
    ck_assert_str_eq(b.data, "\"a\\\"b\\\\\\n\\u0001\"");
    pa_buf_truncate(&b, 0);
    pa_buf_append_sql_literal(&b, "o'hara\\x");
    ck_assert_str_eq(b.data, "'o''hara\\x'");
    pa_buf_truncate(&b, 0);
    pa_buf_append_sql_literal(&b, "");
    ck_assert_str_eq(b.data, "''");
    pa_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_buf);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
