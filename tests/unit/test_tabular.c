/* Unit tests for tabular: the findings CLI's text table (alignment by code points, escaping of what could steer a
 * terminal), CSV (RFC 4180 quoting, the spreadsheet-formula guard) and JSON (types, nulls, always valid UTF-8). */
#include "tabular.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const struct pa_tab_col cols[] = {
    {"id", "ID", PA_TAB_NUMBER},
    {"surface", "SURFACE", PA_TAB_STRING},
    {"note", NULL, PA_TAB_STRING}, /* not in the text table */
    {"path", "PATH", PA_TAB_STRING},
};

static char *render(void (*fn)(struct pa_buf *, const struct pa_tab *), const struct pa_tab *t)
{
    struct pa_buf b;
    pa_buf_init(&b);
    fn(&b, t);
    pa_buf_appendc(&b, '\0'); /* data is always set, also for an empty output */
    return b.data;
}

START_TEST(test_text_alignment)
{
    struct pa_tab t;
    pa_tab_init(&t, cols, 4);
    const char *r1[] = {"7", "public.hooks.payload", "x", "$.customer.email"};
    const char *r2[] = {"12", "app.\xc3\xa9v\xc3\xa9nements.doc", NULL, NULL};
    pa_tab_add_row(&t, r1);
    pa_tab_add_row(&t, r2);
    char *s = render(pa_tab_text, &t);
    ck_assert_str_eq(s, "ID  SURFACE               PATH\n"
                        "7   public.hooks.payload  $.customer.email\n"
                        "12  app.\xc3\xa9v\xc3\xa9nements.doc    -\n");
    free(s);
    pa_tab_free(&t);
    /* no rows: nothing at all (the caller says "no findings match") */
    pa_tab_init(&t, cols, 4);
    s = render(pa_tab_text, &t);
    ck_assert_str_eq(s, "");
    free(s);
    pa_tab_free(&t);
}
END_TEST

START_TEST(test_text_escapes)
{
    struct pa_buf b;
    pa_buf_init(&b);
    /* an ANSI escape, a newline, DEL, a lone continuation byte, a backslash: each visible, none acting */
    size_t w = pa_tab_text_cell(&b, "a\x1b[31mb\nc\x7f\x80\\d");
    ck_assert_str_eq(b.data, "a\\x1b[31mb\\x0ac\\x7f\\x80\\\\d");
    ck_assert_uint_eq(w, strlen(b.data));
    pa_buf_truncate(&b, 0);
    ck_assert_uint_eq(pa_tab_text_cell(&b, "\xe2\x82\xac"
                                           "1"),
                      2); /* a 3-byte sequence is one column */
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_csv)
{
    struct pa_tab t;
    pa_tab_init(&t, cols, 4);
    const char *r1[] = {"7", "public.t.c", "said \"ok\", then\r\nleft", "$.a"};
    const char *r2[] = {"-8", "=HYPERLINK(\"x\")", NULL, "+1-2"};
    const char *r3[] = {"9", "@SUM(A1)", "-1.5", "\tx"};
    pa_tab_add_row(&t, r1);
    pa_tab_add_row(&t, r2);
    pa_tab_add_row(&t, r3);
    char *s = render(pa_tab_csv, &t);
    ck_assert_str_eq(s, "id,surface,note,path\r\n"
                        "7,public.t.c,\"said \"\"ok\"\", then\r\nleft\",$.a\r\n"
                        "-8,\"'=HYPERLINK(\"\"x\"\")\",,\"'+1-2\"\r\n"
                        "9,\"'@SUM(A1)\",-1.5,\"'\tx\"\r\n");
    free(s);
    pa_tab_free(&t);
}
END_TEST

START_TEST(test_json)
{
    struct pa_tab t;
    pa_tab_init(&t, cols, 4);
    const char *r1[] = {"7", "public.t.c", NULL, "$[\"a\\\"b\"]"};
    const char *r2[] = {"007", "x\ny\x01\xff", "</script>", "$.b"}; /* not a JSON number: written as a string */
    pa_tab_add_row(&t, r1);
    pa_tab_add_row(&t, r2);
    char *s = render(pa_tab_json, &t);
    ck_assert_str_eq(s,
                     "[{\"id\":7,\"surface\":\"public.t.c\",\"note\":null,\"path\":\"$[\\\"a\\\\\\\"b\\\"]\"},"
                     "{\"id\":\"007\",\"surface\":\"x\\ny\\u0001\\ufffd\",\"note\":\"</script>\",\"path\":\"$.b\"}]");
    free(s);
    pa_tab_free(&t);
    pa_tab_init(&t, cols, 4);
    s = render(pa_tab_json, &t);
    ck_assert_str_eq(s, "[]");
    free(s);
    pa_tab_free(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tabular");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_text_alignment);
    tcase_add_test(tc, test_text_escapes);
    tcase_add_test(tc, test_csv);
    tcase_add_test(tc, test_json);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
