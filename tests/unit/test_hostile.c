/* Hostile and odd input (issue 6 §2) below the database: the detector over 10 MB documents, 100 000 keys, nesting far
 * deeper than PostgreSQL allows, 64 KB keys, \u0000, lone and paired surrogates, invalid UTF-8, 1 000-digit numbers;
 * the stored form of over-long JSON paths; a set of broken config files whose every error names file:line:col.
 * No test here measures speed (that is bench/); they check that nothing crashes, hangs or grows without bound and
 * that the findings are the sensible ones. */
#include "config.h"
#include "detect.h"
#include "findings.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifndef PA_SOURCE_ROOT
#define PA_SOURCE_ROOT "."
#endif

static struct pa_detector *det;
static struct pa_detect_ctx *ctx;

struct seen {
    size_t n;
    char paths[16][160];
    char cats[16][24];
    size_t max_path;
};

static void on_finding(void *arg, const struct pa_finding *f)
{
    struct seen *s = arg;
    if (f->path_len > s->max_path)
        s->max_path = f->path_len;
    if (s->n < 16) {
        snprintf(s->paths[s->n], sizeof s->paths[0], "%.*s", (int)(f->path_len < 150 ? f->path_len : 150), f->path);
        snprintf(s->cats[s->n], sizeof s->cats[0], "%s", f->category);
    }
    s->n++;
}

static void setup(void)
{
    char err[256];
    det = pa_detect_new(NULL, err, sizeof err);
    ck_assert_msg(det != NULL, "%s", err);
    ctx = pa_detect_ctx_new(det);
}

static void teardown(void)
{
    pa_detect_ctx_free(ctx);
    pa_detect_free(det);
}

static struct pa_doc_result run(enum pa_doc_kind kind, const char *buf, size_t len, struct seen *s)
{
    struct pa_doc_result r;
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(pa_detect_doc(ctx, "public.t.c", kind, buf, len, on_finding, s, &r), 0);
    ck_assert_uint_eq(r.findings, s->n);
    return r;
}

static void want_one(const struct seen *s, const char *path, const char *cat)
{
    ck_assert_uint_eq(s->n, 1);
    ck_assert_str_eq(s->paths[0], path);
    ck_assert_str_eq(s->cats[0], cat);
}

START_TEST(test_ten_megabytes)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "{\"blob\": \"");
    for (int i = 0; i < 10 * 1024 * 1024 / 64; i++)
        pa_buf_appends(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    pa_buf_appends(&b, "\", \"items\": [");
    for (int i = 0; i < 20000; i++)
        pa_buf_printf(&b, "%s{\"n\": %d, \"s\": \"x%08d\"}", i ? "," : "", i, i);
    pa_buf_appends(&b, "], \"contact\": {\"email\": \"big@example.org\"}}");
    ck_assert_uint_gt(b.len, 10 * 1024 * 1024);
    struct seen s;
    struct pa_doc_result r = run(PA_DOC_JSON, b.data, b.len, &s);
    ck_assert(!r.invalid_json);
    want_one(&s, "$.contact.email", "email");
    /* the same bytes as a text column: one value at $, the email inside it */
    r = run(PA_DOC_TEXT, b.data, b.len, &s);
    ck_assert_uint_ge(s.n, 1);
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_hundred_thousand_keys)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appendc(&b, '{');
    for (int i = 0; i < 100000; i++)
        pa_buf_printf(&b, "\"k%d\": %d, ", i, i);
    pa_buf_appends(&b, "\"email\": \"keys@example.org\"}");
    struct seen s;
    struct pa_doc_result r = run(PA_DOC_JSON, b.data, b.len, &s);
    ck_assert(!r.invalid_json);
    want_one(&s, "$.email", "email");
    pa_buf_free(&b);
}
END_TEST

/* 200 000 levels: 30 times what PostgreSQL accepts; the walker keeps its stack on the heap. */
START_TEST(test_deep_nesting)
{
    const int depth = 200000;
    struct pa_buf b;
    pa_buf_init(&b);
    for (int i = 0; i < depth; i++)
        pa_buf_appends(&b, i & 1 ? "[" : "{\"a\":");
    pa_buf_appends(&b, "{\"email\": \"deep@example.org\"}");
    for (int i = depth - 1; i >= 0; i--)
        pa_buf_appendc(&b, i & 1 ? ']' : '}');
    struct seen s;
    struct pa_doc_result r = run(PA_DOC_JSON, b.data, b.len, &s);
    ck_assert(!r.invalid_json);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.cats[0], "email");
    ck_assert_uint_gt(s.max_path, (size_t)depth); /* the whole path was rendered */
    /* cut off in the middle: invalid, still no crash and nothing found in the truncated text */
    r = run(PA_DOC_JSON, b.data, b.len / 2, &s);
    ck_assert(r.invalid_json);
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_long_key)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "{\"");
    for (int i = 0; i < 65536; i++)
        pa_buf_appendc(&b, (char)('a' + i % 26));
    pa_buf_appends(&b, "\": {\"email\": \"long@example.org\"}, \"");
    for (int i = 0; i < 65536 / 4; i++)
        pa_buf_appends(&b, "mail"); /* 64 KB of a key made of a PII word, to the normalizer */
    pa_buf_appends(&b, "\": 1}");
    struct seen s;
    struct pa_doc_result r = run(PA_DOC_JSON, b.data, b.len, &s);
    ck_assert(!r.invalid_json);
    ck_assert_uint_ge(s.n, 1);
    ck_assert_str_eq(s.cats[0], "email");
    ck_assert_uint_gt(s.max_path, 65536);
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_escapes_surrogates_numbers)
{
    struct seen s;
    static const char nul[] = "{\"a\\u0000b\": \"x\\u0000y\", \"\\u0000\": {\"email\": \"nul@example.org\"}}";
    struct pa_doc_result r = run(PA_DOC_JSON, nul, sizeof nul - 1, &s);
    ck_assert(!r.invalid_json);
    want_one(&s, "$[\"\\u0000\"].email", "email");

    static const char pair[] = "{\"\\ud83d\\ude00\": {\"email\": \"x@example.org\"}}";
    r = run(PA_DOC_JSON, pair, sizeof pair - 1, &s);
    want_one(&s, "$[\"\xf0\x9f\x98\x80\"].email", "email");

    /* lone surrogates: high without low, low alone, two highs, high at the end of the string */
    static const char lone[] = "{\"\\ud800\": \"\\udc00\", \"x\": \"\\ud800\\ud800\", \"y\": \"\\ud800\", "
                               "\"\\udfff\": {\"email\": \"x@example.org\"}}";
    r = run(PA_DOC_JSON, lone, sizeof lone - 1, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.cats[0], "email");
    ck_assert_msg(strncmp(s.paths[0], "$[\"", 3) == 0, "path %s", s.paths[0]);

    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "{\"n\": ");
    for (int i = 0; i < 1000; i++)
        pa_buf_appendc(&b, (char)('1' + i % 9));
    pa_buf_appends(&b, ", \"f\": -1.");
    for (int i = 0; i < 1000; i++)
        pa_buf_appendc(&b, '7');
    pa_buf_appends(&b, "e-999, \"email\": \"num@example.org\"}");
    r = run(PA_DOC_JSON, b.data, b.len, &s);
    ck_assert(!r.invalid_json);
    want_one(&s, "$.email", "email");
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_invalid_utf8_and_empty)
{
    struct seen s;
    /* raw invalid UTF-8 (a SQL_ASCII database can hold it) in keys, values and a text column */
    static const char bad[] = "{\"\xff\xfe\": \"\xc3\x28\", \"e\xed\xa0\x80\": {\"email\": \"x@example.org\"}}";
    run(PA_DOC_JSON, bad, sizeof bad - 1, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.cats[0], "email");
    static const char text[] = "\xff\xfe call +1 646 555 0187 \xc0\xaf or mail ann.lee@example.com \xf5";
    run(PA_DOC_TEXT, text, sizeof text - 1, &s);
    ck_assert_uint_eq(s.n, 2);
    static const char *const empties[] = {"", "{}", "[]", "null", " ", "\"\"", "0"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        run(PA_DOC_JSON, empties[i], strlen(empties[i]), &s);
        ck_assert_uint_eq(s.n, 0);
        run(PA_DOC_TEXT, empties[i], strlen(empties[i]), &s);
        ck_assert_uint_eq(s.n, 0);
    }
    /* duplicate keys: one finding per (path, category) */
    static const char dup[] = "{\"email\": \"a@example.org\", \"email\": \"b@example.org\", \"email\": 1}";
    run(PA_DOC_JSON, dup, sizeof dup - 1, &s);
    want_one(&s, "$.email", "email");
}
END_TEST

/* Regression (tests/integration/hostile.sh): a finding below a 64 KB key failed every batch holding it with
 * "index row requires 65584 bytes" from the findings_identity btree, so the surface could never be scanned. */
START_TEST(test_store_path_capped)
{
    struct pa_buf out, p, other, again;
    pa_buf_init(&out);
    pa_buf_init(&p);
    pa_buf_init(&other);
    pa_buf_init(&again);
    pa_findings_store_path(&out, "$.a.email", 9);
    ck_assert_str_eq(out.data, "$.a.email");
    pa_buf_appends(&p, "$[\"");
    while (p.len < 5000)
        pa_buf_appends(&p, "\xc3\xa9"); /* é: a 2-byte sequence the cut must not split */
    pa_buf_appends(&p, "\"].email");
    pa_findings_store_path(&out, p.data, p.len);
    ck_assert_uint_le(out.len, PA_FINDINGS_PATH_MAX);
    ck_assert_uint_ge(out.len, PA_FINDINGS_PATH_MAX - 1);
    ck_assert_int_eq(memcmp(out.data, p.data, out.len - 20), 0);
    ck_assert_msg(strncmp(out.data + out.len - 20, "...#", 4) == 0, "%s", out.data + out.len - 20);
    ck_assert_uint_eq(strlen(out.data), out.len);
    /* valid UTF-8 before the marker: every continuation byte follows its lead */
    size_t cut = out.len - 20;
    ck_assert((unsigned char)out.data[cut - 1] == 0xa9 || (unsigned char)out.data[cut - 1] < 0x80);
    /* stable, and distinct for paths that differ only past the cut */
    pa_findings_store_path(&again, p.data, p.len);
    ck_assert_str_eq(again.data, out.data);
    pa_buf_append(&other, p.data, p.len);
    other.data[other.len - 2] = 'X';
    pa_findings_store_path(&again, other.data, other.len);
    ck_assert_str_ne(again.data, out.data);
    /* exactly at the limit: kept whole */
    pa_buf_truncate(&p, PA_FINDINGS_PATH_MAX);
    pa_findings_store_path(&out, p.data, p.len);
    ck_assert_uint_eq(out.len, PA_FINDINGS_PATH_MAX);
    ck_assert_int_eq(memcmp(out.data, p.data, p.len), 0);
    pa_buf_free(&out);
    pa_buf_free(&p);
    pa_buf_free(&other);
    pa_buf_free(&again);
}
END_TEST

/* Every broken config in tests/data/broken-configs/ is refused with one line "<file>:<line>:<col>: ..." where the
 * file's first line says "# expect LINE:COL <words the message must contain>". */
START_TEST(test_broken_configs)
{
    const char *dir = PA_SOURCE_ROOT "/tests/data/broken-configs";
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    ck_assert_msg(n > 2, "no broken configs in %s", dir);
    int checked = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (name[0] == '.' || !strstr(name, ".yaml")) {
            free(names[i]);
            continue;
        }
        char path[1024], first[512] = "", want[1100], err[1024] = "";
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s", path);
        ck_assert_msg(fgets(first, sizeof first, f) != NULL, "%s: empty", name);
        fclose(f);
        int line = 0, col = 0, used = 0;
        ck_assert_msg(sscanf(first, "# expect %d:%d %n", &line, &col, &used) == 2, "%s: no '# expect L:C' line", name);
        char *words = first + used;
        words[strcspn(words, "\n")] = '\0';
        struct pa_config *c = NULL;
        int r = pa_config_load(path, &c, err, sizeof err);
        ck_assert_msg(r != 0 && c == NULL, "%s: loaded", name);
        snprintf(want, sizeof want, "%s:%d:%d: ", path, line, col);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: error \"%s\" does not start \"%s\"", name, err, want);
        ck_assert_msg(strchr(err, '\n') == NULL, "%s: multi-line error", name);
        ck_assert_msg(!*words || strstr(err, words), "%s: error \"%s\" lacks \"%s\"", name, err, words);
        checked++;
        free(names[i]);
    }
    free(names);
    ck_assert_int_ge(checked, 10);
}
END_TEST

/* Generated broken configs: a 1 MB number, 100 000 nested flow sequences, binary garbage. */
START_TEST(test_generated_configs)
{
    struct pa_buf b;
    pa_buf_init(&b);
    char err[1024];
    struct pa_config *c = NULL;

    pa_buf_appends(&b, "database:\n  conninfo: x\nsurfaces:\n  - {table: t, column: c}\nscan: {batch_size: ");
    for (int i = 0; i < 1000 * 1000; i++) /* just under the 1 MiB file limit */
        pa_buf_appendc(&b, '9');
    pa_buf_appends(&b, "}\n");
    ck_assert_int_ne(pa_config_load_buffer("big.yaml", b.data, b.len, &c, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "big.yaml:5:20: ", 15) == 0, "%.200s", err);
    ck_assert(strlen(err) < sizeof err - 1 || strchr(err, '\n') == NULL);

    pa_buf_truncate(&b, 0);
    pa_buf_appends(&b, "database:\n  conninfo: x\nsurfaces: ");
    for (int i = 0; i < 100000; i++)
        pa_buf_appendc(&b, '[');
    ck_assert_int_ne(pa_config_load_buffer("deep.yaml", b.data, b.len, &c, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "deep.yaml:3:", 12) == 0, "%.200s", err);

    pa_buf_truncate(&b, 0);
    unsigned x = 12345;
    for (int i = 0; i < 65536; i++) {
        x = x * 1103515245u + 12345u;
        pa_buf_appendc(&b, (char)(x >> 16));
    }
    ck_assert_int_ne(pa_config_load_buffer("bin.yaml", b.data, b.len, &c, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "bin.yaml:", 9) == 0 && strchr(err, '\n') == NULL, "%.200s", err);
    pa_buf_free(&b);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240); /* generous: the ASan build under a loaded machine; no speed is asserted */
    tcase_add_test(tc, test_ten_megabytes);
    tcase_add_test(tc, test_hundred_thousand_keys);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_long_key);
    tcase_add_test(tc, test_escapes_surrogates_numbers);
    tcase_add_test(tc, test_invalid_utf8_and_empty);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_test(tc, test_store_path_capped);
    suite_add_tcase(s, tc);
    tc = tcase_create("config");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_broken_configs);
    tcase_add_test(tc, test_generated_configs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(hostile_suite());
}
