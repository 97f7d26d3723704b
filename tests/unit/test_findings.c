/* Unit tests for findings' pure parts: the batch's array literals (pa_batch_add), the stored form of long paths
 * (pa_findings_store_path) and the per-category counters. No database. */
#include "findings.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(test_batch_arrays)
{
    struct pa_batch b;
    pa_batch_init(&b);
    ck_assert_uint_eq(b.n, 0);
    pa_batch_add(&b, "17", 2, "$.a.email", 9, "email", "key", "key:email", "key");
    pa_batch_add(&b, "id\"with,quote\\", 14, "$[\"x,y\"]", 8, "phone", "value", "phone", "value");
    ck_assert_uint_eq(b.n, 2);
    /* PostgreSQL array literals without the braces: every element quoted, " and \ escaped */
    ck_assert_str_eq(b.record_ids.data, "\"17\",\"id\\\"with,quote\\\\\"");
    ck_assert_str_eq(b.paths.data, "\"$.a.email\",\"$[\\\"x,y\\\"]\"");
    ck_assert_str_eq(b.categories.data, "\"email\",\"phone\"");
    ck_assert_str_eq(b.detectors.data, "\"key\",\"value\"");
    ck_assert_str_eq(b.rules.data, "\"key:email\",\"phone\"");
    ck_assert_str_eq(b.evidence.data, "\"key\",\"value\"");
    /* only the given lengths are taken */
    pa_batch_reset(&b);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_uint_eq(b.paths.len, 0);
    pa_batch_add(&b, "123456", 3, "$.abcdef", 4, "email", "key", "r", "context");
    ck_assert_str_eq(b.record_ids.data, "\"123\"");
    ck_assert_str_eq(b.paths.data, "\"$.ab\"");
    ck_assert_str_eq(b.evidence.data, "\"context\"");
    pa_batch_free(&b);
}
END_TEST

/* The stored path of a long one: its first bytes, "...#" and FNV-1a 64 of the whole path. The hash is stored in
 * pii_audit.findings.json_path, so it must never change: this value pins it. */
START_TEST(test_store_path_cut)
{
    struct pa_buf p, out;
    pa_buf_init(&p);
    pa_buf_init(&out);
    pa_buf_appends(&p, "$.");
    for (int i = 0; i < 1100; i++)
        pa_buf_appendc(&p, 'k');
    pa_findings_store_path(&out, p.data, p.len);
    ck_assert_uint_eq(out.len, PA_FINDINGS_PATH_MAX);
    ck_assert_int_eq(memcmp(out.data, p.data, PA_FINDINGS_PATH_MAX - 20), 0);
    ck_assert_str_eq(out.data + PA_FINDINGS_PATH_MAX - 20, "...#6c12cd2646731ded");

    /* pa_batch_add stores the same form, escaped, without a copy of the path */
    struct pa_batch b;
    pa_batch_init(&b);
    pa_batch_add(&b, "1", 1, p.data, p.len, "email", "key", "r", "context");
    ck_assert_uint_eq(b.paths.len, PA_FINDINGS_PATH_MAX + 2);
    ck_assert_int_eq(memcmp(b.paths.data + 1, out.data, out.len), 0);
    pa_batch_free(&b);

    /* a cut never splits a UTF-8 sequence: 3-byte characters from offset 3 put a continuation byte at the cut
     * (1004), which moves back to the lead byte at 1002 */
    pa_buf_truncate(&p, 2);
    pa_buf_appendc(&p, 'a');
    while (p.len < 2000)
        pa_buf_appends(&p, "\xe2\x82\xac"); /* € */
    pa_findings_store_path(&out, p.data, p.len);
    ck_assert_uint_eq(out.len - 20, PA_FINDINGS_PATH_MAX - 22);
    ck_assert_int_eq(memcmp(out.data + out.len - 20, "...#", 4), 0);

    /* one byte over the limit is cut; at the limit it is kept whole */
    pa_buf_truncate(&p, 0);
    while (p.len < PA_FINDINGS_PATH_MAX + 1)
        pa_buf_appendc(&p, 'x');
    pa_findings_store_path(&out, p.data, p.len);
    ck_assert_uint_eq(out.len, PA_FINDINGS_PATH_MAX);
    pa_findings_store_path(&out, p.data, PA_FINDINGS_PATH_MAX);
    ck_assert_uint_eq(out.len, PA_FINDINGS_PATH_MAX);
    ck_assert_int_eq(memcmp(out.data, p.data, PA_FINDINGS_PATH_MAX), 0);
    pa_buf_free(&p);
    pa_buf_free(&out);
}
END_TEST

START_TEST(test_catcounts)
{
    struct pa_catcounts c = {0};
    ck_assert_int_eq(pa_catcounts_total(&c), 0);
    pa_catcounts_add(&c, "phone", 2);
    pa_catcounts_add(&c, "email", 1);
    pa_catcounts_add(&c, "phone", 3);
    pa_catcounts_add(&c, "credit_card", 4);
    /* sorted by name, so every report lists categories in one order */
    ck_assert_uint_eq(c.n, 3);
    ck_assert_str_eq(c.v[0].name, "credit_card");
    ck_assert_str_eq(c.v[1].name, "email");
    ck_assert_str_eq(c.v[2].name, "phone");
    ck_assert_int_eq(c.v[2].n, 5);
    ck_assert_int_eq(pa_catcounts_total(&c), 10);
    pa_catcounts_free(&c);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_ptr_null(c.v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("findings");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_batch_arrays);
    tcase_add_test(tc, test_store_path_cut);
    tcase_add_test(tc, test_catcounts);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
