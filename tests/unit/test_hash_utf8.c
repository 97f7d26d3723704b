/* Unit tests for the hash and the UTF-8 validator written once in util (pa_fnv1a64, pa_utf8_step, pa_utf8_valid) and
 * the JSON string writers built on them. The expected values are fixed: they were computed with the copies these
 * replaced (detect.c's dedupe hash, findings.c's cut-path hash, metrics.c's series hash and UTF-8 step, the walker's
 * UTF-8 check and name writer, at 6840fc2), so a change to any output fails here. The short-basis variant is stored in
 * pii_audit.findings.json_path: its values must never change.
 */
#include "findings.h"
#include "util.h"

#include <check.h>
#include <string.h>

#include "testutil.h"

static uint64_t fnv(uint64_t basis, const char *s)
{
    return pa_fnv1a64(basis, s, strlen(s));
}

START_TEST(test_fnv1a64_standard)
{
    /* the published FNV-1a 64 test vectors */
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS, ""), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS, "a"), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS, "foobar"), 0x85944171f73967e8ULL);
    /* detect's per-document dedupe of (path, category): the basis xor'ed with the category's scramble */
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS, "$.email"), 0x44e47b3d5fa652f5ULL);
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS ^ (3ULL * 0x9e3779b97f4a7c15ULL), "$.email"), 0xae880569650fa614ULL);
    /* continuing a hash is hashing the concatenation */
    ck_assert_uint_eq(pa_fnv1a64(fnv(PA_FNV1A64_BASIS, "foo"), "bar", 3), fnv(PA_FNV1A64_BASIS, "foobar"));
}
END_TEST

START_TEST(test_fnv1a64_short_basis)
{
    ck_assert_uint_eq(PA_FNV1A64_BASIS_SHORT, 1469598103934665603ULL);
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS_SHORT, ""), 0x14650fb0739d0383ULL);
    ck_assert_uint_eq(fnv(PA_FNV1A64_BASIS_SHORT, "a"), 0x44bd8ad473cd9906ULL);
    /* metrics.c's series hash: each label value, then 0xFF */
    const char *values[] = {"public", "users", "email"};
    uint64_t h = PA_FNV1A64_BASIS_SHORT;
    for (size_t i = 0; i < 3; i++) {
        h = pa_fnv1a64(h, values[i], strlen(values[i]));
        h = pa_fnv1a64(h, "\xFF", 1);
    }
    ck_assert_uint_eq(h, 0xe073758d2554a203ULL);
    ck_assert_uint_eq(pa_fnv1a64(PA_FNV1A64_BASIS_SHORT, "\xFF", 1), 0x44bd24d473ccebb4ULL);
}
END_TEST

/* The stored form of a path too long for the identity index: the bytes kept, "...#" and the short-basis hash of the
 * whole path, exactly as every scan since the first has stored it. */
START_TEST(test_findings_cut_path)
{
    char path[1600];
    size_t n = (size_t)snprintf(path, sizeof path, "$");
    for (int i = 0; n < 1500; i++)
        n += (size_t)snprintf(path + n, sizeof path - n, ".k%d", i);
    ck_assert_uint_eq(n, 1501);
    struct pa_buf out;
    pa_buf_init(&out);
    pa_findings_store_path(&out, path, n);
    ck_assert_uint_eq(out.len, 1024);
    ck_assert_str_eq(out.data + out.len - 20, "...#173a6dcaaa30d7c6");
    ck_assert_int_eq(memcmp(out.data, path, out.len - 20), 0);
    pa_buf_free(&out);
}
END_TEST

struct step_case {
    const char *bytes;
    size_t n;
    int step;
};

START_TEST(test_utf8_step)
{
    static const struct step_case cases[] = {
        {"A", 1, 1},
        {"\x7f", 1, 1},
        {"\xc2\x80", 2, 2},         /* U+0080 */
        {"\xdf\xbf", 2, 2},         /* U+07FF */
        {"\xe0\xa0\x80", 3, 3},     /* U+0800 */
        {"\xed\x9f\xbf", 3, 3},     /* U+D7FF */
        {"\xee\x80\x80", 3, 3},     /* U+E000 */
        {"\xef\xbf\xbf", 3, 3},     /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
        {"\x80", 1, -1},            /* a continuation byte alone */
        {"\xbf\x80", 2, -1},
        {"\xc0\x80", 2, -1},         /* overlong NUL */
        {"\xc1\xbf", 2, -1},         /* overlong */
        {"\xf5\x80\x80\x80", 4, -1}, /* beyond U+10FFFF */
        {"\xff", 1, -1},
        {"\xc2", 1, -1},         /* cut short */
        {"\xc2\x41", 2, -1},     /* no continuation */
        {"\xe0\x80\x80", 3, -1}, /* overlong: E0 wants A0..BF */
        {"\xe0\x9f\xbf", 3, -1},
        {"\xed\xa0\x80", 3, -1}, /* a surrogate */
        {"\xe1\x80", 2, -2},     /* maximal ill-formed subpart: two bytes */
        {"\xe1\x80\x41", 3, -2},
        {"\xf0\x80\x80\x80", 4, -1}, /* overlong: F0 wants 90..BF */
        {"\xf4\x90\x80\x80", 4, -1}, /* beyond U+10FFFF: F4 wants 80..8F */
        {"\xf1\x80\x80", 3, -3},
        {"\xf1\x80\x80\x41", 4, -3},
        {"\xf1\x80\x80\x80", 3, -3}, /* n bounds the read: the fourth byte is not there */
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(cases); i++)
        ck_assert_msg(pa_utf8_step((const unsigned char *)cases[i].bytes, cases[i].n) == cases[i].step,
                      "case %zu: %d, want %d", i, pa_utf8_step((const unsigned char *)cases[i].bytes, cases[i].n),
                      cases[i].step);
}
END_TEST

START_TEST(test_utf8_valid)
{
    ck_assert(pa_utf8_valid("", 0));
    ck_assert(pa_utf8_valid("plain ascii", 11));
    ck_assert(pa_utf8_valid("Stra\xc3\x9f"
                            "e \xe2\x82\xac \xf0\x9f\x98\x80",
                            16));
    ck_assert(pa_utf8_valid("a\0b", 3)); /* NUL is a character here */
    ck_assert(!pa_utf8_valid("Stra\xc3", 5));
    ck_assert(!pa_utf8_valid("\xed\xa0\x80", 3));
    ck_assert(!pa_utf8_valid("ok\xff", 3));
    ck_assert(!pa_utf8_valid("\xe2\x82\xac", 2)); /* the length counts, not a NUL */
}
END_TEST

static struct pa_buf json_out;

static const char *json(void (*writer)(struct pa_buf *, const char *, size_t), const char *s, size_t n)
{
    pa_buf_truncate(&json_out, 0);
    writer(&json_out, s, n);
    return json_out.data;
}

START_TEST(test_json_writers)
{
    static const char in[] = "q\"b\\n\nr\rt\tb\bf\f\x01\x7f \xc3\xa9\xe2\x82\xac\xff\xed\xa0\x80\xc3";
    size_t n = sizeof in - 1;
    /* the general writer: short escapes for " \ \n \r \t, \u00XX for other control bytes, every other byte as is */
    ck_assert_str_eq(json(pa_buf_append_json_string, in, n),
                     "\"q\\\"b\\\\n\\nr\\rt\\tb\\u0008f\\u000c\\u0001\x7f \xc3\xa9\xe2\x82\xac\xff\xed\xa0\x80\xc3\"");
    /* the path's member names (the walker's form since 6840fc2): \b \f \u007f too, and \ufffd for every byte that does
     * not start a well-formed sequence */
    ck_assert_str_eq(json(pa_buf_append_json_name, in, n),
                     "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\\u0001\\u007f \xc3\xa9\xe2\x82\xac\\ufffd\\ufffd\\ufffd\\ufffd"
                     "\\ufffd\"");
    ck_assert_str_eq(json(pa_buf_append_json_name, "", 0), "\"\"");
    ck_assert_str_eq(json(pa_buf_append_json_name, "a\0b", 3), "\"a\\u0000b\"");
    pa_buf_free(&json_out);
}
END_TEST

static Suite *hash_utf8_suite(void)
{
    Suite *s = suite_create("hash_utf8");
    TCase *tc = tcase_create("fnv1a64");
    tcase_add_test(tc, test_fnv1a64_standard);
    tcase_add_test(tc, test_fnv1a64_short_basis);
    tcase_add_test(tc, test_findings_cut_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("utf8");
    tcase_add_test(tc, test_utf8_step);
    tcase_add_test(tc, test_utf8_valid);
    tcase_add_test(tc, test_json_writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(hash_utf8_suite());
}
