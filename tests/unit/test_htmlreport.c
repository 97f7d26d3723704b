/* Unit tests for htmlreport's render: escaping of every user-controlled string (table names, paths, reasons, error
 * messages, people's names), a page that loads nothing from outside, and the trend charts' point counts. */
#include "htmlreport.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

START_TEST(test_escape)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_html_escape(&b, "<a href=\"x\">'&'</a>\x01\x7f\xff\t\n\xc3\xa9");
    ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\t\n\xc3\xa9");
    pa_buf_free(&b);
}
END_TEST

static const char *const hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";

START_TEST(test_page)
{
    struct pa_hr_data d;
    memset(&d, 0, sizeof d);
    strcpy(d.generated_at, "2026-12-07T10:00:00Z");
    strcpy(d.since, "2026-11-07T10:00:00Z");
    d.database = "app\"><script>x()</script>";
    d.filter = hostile;
    d.open = 3;
    d.acknowledged = 1;
    d.age[0] = 3;
    struct pa_hr_day days[3] = {{"2026-12-05", 0, 0, 0}, {"2026-12-06", 2, 0, 2}, {"2026-12-07", 2, 1, 3}};
    d.days = days;
    d.n_days = 3;
    pa_tab_init(&d.by_surface, pa_hr_by_surface_cols, 5);
    pa_tab_init(&d.by_category, pa_hr_by_category_cols, 2);
    pa_tab_init(&d.top_paths, pa_hr_top_paths_cols, 5);
    pa_tab_init(&d.coverage, pa_hr_coverage_cols, 9);
    pa_tab_init(&d.allowlist, pa_hr_by_category_cols, 2);
    pa_tab_init(&d.acknowledged_list, pa_hr_by_category_cols, 2);
    const char *s1[] = {hostile, "email", "3", "1", "2026-12-06T00:00:00Z"};
    pa_tab_add_row(&d.by_surface, s1);
    const char *c1[] = {"email", "3"};
    pa_tab_add_row(&d.by_category, c1);
    const char *p1[] = {"public.t.c", "$[\"</code><script>y()</script>\"]", "email", "3", "2"};
    pa_tab_add_row(&d.top_paths, p1);
    const char *v1[] = {"public.t.c", "yes", "failed", "2026-12-07T09:00:00Z",
                        "full",       "10",  NULL,     "permission: denied for table \"<b>x</b>\"",
                        "3"};
    pa_tab_add_row(&d.coverage, v1);
    struct pa_buf b;
    pa_buf_init(&b);
    pa_htmlreport_render(&b, &d);
    const char *h = b.data;
    /* one script element, ours; nothing the data held became markup */
    ck_assert_uint_eq(count(h, "<script"), 1);
    ck_assert_uint_eq(count(h, "<img"), 0);
    ck_assert_uint_eq(count(h, "<b>"), 0);
    ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"));
    ck_assert_ptr_nonnull(strstr(h, "app&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(h, "&lt;/code&gt;&lt;script&gt;y()&lt;/script&gt;"));
    /* nothing from outside the page */
    ck_assert_ptr_nonnull(strstr(h, "Content-Security-Policy\" content=\"default-src 'none'"));
    ck_assert_uint_eq(count(h, "http://") + count(h, "https://") + count(h, "url(") + count(h, "<link") +
                          count(h, "@import") + count(h, " src=\""),
                      0);
    /* the charts say how many days and how many of them had anything */
    ck_assert_ptr_nonnull(strstr(h, "id=\"chart-open\" role=\"img\" viewBox=\"0 0 920 200\" data-points=\"3\" "
                                    "data-nonzero=\"2\""));
    ck_assert_ptr_nonnull(strstr(h, "id=\"chart-flow\" role=\"img\" viewBox=\"0 0 920 200\" data-points=\"3\" "
                                    "data-nonzero=\"2\""));
    ck_assert_uint_eq(count(h, "<rect class=\"opened\""), 2);
    ck_assert_uint_eq(count(h, "<rect class=\"resolved\""), 1);
    ck_assert_ptr_nonnull(strstr(h, "class=\"badge bad\">failed<"));
    ck_assert_ptr_nonnull(strstr(h, "data-script-ok"));
    pa_buf_free(&b);
    d.days = NULL;
    d.database = d.filter = NULL;
    pa_hr_data_free(&d);
}
END_TEST

START_TEST(test_empty_trend)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_htmlreport_trend_svg(&b, NULL, 0);
    ck_assert_uint_eq(count(b.data, "data-points=\"0\" data-nonzero=\"0\""), 2);
    pa_buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("htmlreport");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_escape);
    tcase_add_test(tc, test_page);
    tcase_add_test(tc, test_empty_trend);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
