/* Unit tests for scan's pure parts: COPY binary row parsing (scan/copy_row.h), the committed prefix that bounds
 * the cursor (scan/cursor.h), the integer range split, the xmin window and the key order's SQL (scan/catalog.h) and
 * the status and mode names. No database (the SQL is run against PostgreSQL by tests/integration/change_detection.sh,
 * across the 32-bit wrap too). */
#include "scan.h"
#include "scan/catalog.h"
#include "scan/copy_row.h"
#include "scan/cursor.h"

#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void be16(struct pa_buf *b, int v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    pa_buf_append(b, x, 2);
}

static void be32(struct pa_buf *b, long v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    pa_buf_append(b, x, 4);
}

static void header(struct pa_buf *b, const char *ext, int extlen)
{
    pa_buf_append(b, "PGCOPY\n\377\r\n\0", 11);
    be32(b, 0);
    be32(b, extlen);
    pa_buf_append(b, ext, (size_t)extlen);
}

/* A tuple of two fields; a NULL field is written with length -1. */
static void tuple(struct pa_buf *b, const char *id, const char *doc)
{
    be16(b, 2);
    const char *f[2] = {id, doc};
    for (int i = 0; i < 2; i++) {
        be32(b, f[i] ? (long)strlen(f[i]) : -1);
        if (f[i])
            pa_buf_appends(b, f[i]);
    }
}

static int parse(const struct pa_buf *b, const char **id, int *idlen, const char **doc, int *doclen)
{
    *id = *doc = NULL;
    *idlen = *doclen = -7;
    return pa_copy_parse_row(b->data, (int)b->len, id, idlen, doc, doclen);
}

START_TEST(test_copy_rows)
{
    struct pa_buf b;
    pa_buf_init(&b);
    const char *id, *doc;
    int idlen, doclen;

    /* the first message carries the file header (with a header extension) before the first tuple */
    header(&b, "xyz", 3);
    tuple(&b, "42", "{\"email\": \"a@b.c\"}");
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), 1);
    ck_assert_int_eq(idlen, 2);
    ck_assert_int_eq(memcmp(id, "42", 2), 0);
    ck_assert_int_eq(doclen, 18);
    ck_assert_int_eq(memcmp(doc, "{\"email\": \"a@b.c\"}", 18), 0);
    ck_assert_ptr_eq(id, b.data + 19 + 3 + 2 + 4); /* in place: no copy */

    /* a tuple alone; a NULL document; an empty one */
    pa_buf_truncate(&b, 0);
    tuple(&b, "7", NULL);
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), 1);
    ck_assert_int_eq(idlen, 1);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(doclen, -1);
    pa_buf_truncate(&b, 0);
    tuple(&b, "8", "");
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), 1);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(doclen, 0);

    /* the trailer, a header alone, an empty message: no row */
    pa_buf_truncate(&b, 0);
    be16(&b, -1);
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), 0);
    pa_buf_truncate(&b, 0);
    header(&b, "", 0);
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), 0);
    ck_assert_int_eq(pa_copy_parse_row("", 0, &id, &idlen, &doc, &doclen), 0);
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_copy_malformed)
{
    struct pa_buf b, t;
    pa_buf_init(&b);
    pa_buf_init(&t);
    const char *id, *doc;
    int idlen, doclen;
    /* every strict prefix of a tuple is malformed (never read past the message) */
    tuple(&t, "123", "{\"a\": 1}");
    for (size_t n = 1; n < t.len; n++) {
        pa_buf_truncate(&b, 0);
        pa_buf_append(&b, t.data, n);
        ck_assert_msg(parse(&b, &id, &idlen, &doc, &doclen) == -1, "prefix of %zu bytes", n);
    }
    /* a field count other than 2 */
    pa_buf_truncate(&b, 0);
    be16(&b, 3);
    be32(&b, 1);
    pa_buf_appends(&b, "1");
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), -1);
    /* a header extension longer than the message */
    pa_buf_truncate(&b, 0);
    header(&b, "", 0);
    b.data[18] = 100;
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), -1);
    /* a field length larger than what is left */
    pa_buf_truncate(&b, 0);
    be16(&b, 2);
    be32(&b, 0x7fffffff);
    pa_buf_appends(&b, "xx");
    ck_assert_int_eq(parse(&b, &id, &idlen, &doc, &doclen), -1);
    pa_buf_free(&b);
    pa_buf_free(&t);
}
END_TEST

static const char *prefix(struct id_range *r, struct range_progress *p, size_t n, const char *start)
{
    return pa_scan_committed_prefix(r, p, n, start);
}

START_TEST(test_committed_prefix)
{
    /* one open range (one reader): the cursor follows its committed end */
    struct id_range one[1] = {{NULL, NULL, NULL}};
    struct range_progress p1[1] = {{NULL, false}};
    ck_assert_ptr_null(prefix(one, p1, 1, NULL));
    ck_assert_str_eq(prefix(one, p1, 1, "100"), "100"); /* nothing committed yet: where it started */
    p1[0].end = "150";
    ck_assert_str_eq(prefix(one, p1, 1, "100"), "150");
    p1[0].complete = true;
    ck_assert_str_eq(prefix(one, p1, 1, "100"), "150");

    /* three ranges (100, 200], (200, 300], (300, open) */
    struct id_range r[3] = {{"100", "200", NULL}, {"200", "300", NULL}, {"300", NULL, NULL}};
    struct range_progress p[3] = {{NULL, false}, {NULL, false}, {NULL, false}};
    ck_assert_str_eq(prefix(r, p, 3, "100"), "100");
    /* a later range ahead of the first: its findings commit, the cursor waits */
    p[1].end = "250";
    p[2].end = "400";
    ck_assert_str_eq(prefix(r, p, 3, "100"), "100");
    p[0].end = "150";
    ck_assert_str_eq(prefix(r, p, 3, "100"), "150");
    /* the first complete: the cursor passes its high bound, up to the second's committed end */
    p[0].complete = true;
    p[0].end = "200";
    ck_assert_str_eq(prefix(r, p, 3, "100"), "250");
    p[1].complete = true;
    p[1].end = "300";
    ck_assert_str_eq(prefix(r, p, 3, "100"), "400");
    /* the last range is open: complete means up to its last row */
    p[2].complete = true;
    p[2].end = "420";
    ck_assert_str_eq(prefix(r, p, 3, "100"), "420");
    /* an open last range complete without a row: the cursor stays at the bound before it */
    p[2].end = NULL;
    ck_assert_str_eq(prefix(r, p, 3, "100"), "300");
    /* a complete range that read nothing (a gap in the ids) is passed by its high bound */
    struct range_progress q[3] = {{NULL, true}, {NULL, false}, {NULL, false}};
    ck_assert_str_eq(prefix(r, q, 3, NULL), "200");
}
END_TEST

START_TEST(test_int_splits)
{
    long long v[8];
    ck_assert_uint_eq(pa_catalog_int_splits(1, 100, 1, v), 0);
    ck_assert_uint_eq(pa_catalog_int_splits(1, 100, 4, v), 3);
    ck_assert_int_eq(v[0], 25);
    ck_assert_int_eq(v[1], 50);
    ck_assert_int_eq(v[2], 75);
    /* fewer ids than readers: strictly increasing points, none at the maximum */
    ck_assert_uint_eq(pa_catalog_int_splits(5, 6, 4, v), 1);
    ck_assert_int_eq(v[0], 5);
    ck_assert_uint_eq(pa_catalog_int_splits(7, 7, 4, v), 0);
    /* the whole bigint range does not overflow */
    ck_assert_uint_eq(pa_catalog_int_splits(LLONG_MIN, LLONG_MAX, 2, v), 1);
    ck_assert_int_eq(v[0], -1);
    ck_assert_uint_eq(pa_catalog_int_splits(LLONG_MIN, LLONG_MAX, 8, v), 7);
    for (int i = 1; i < 7; i++)
        ck_assert(v[i] > v[i - 1]);
}
END_TEST

/* The window of xmin values a change pass reads: ages modulo 2^32 against the watermark's 32-bit value. */
START_TEST(test_xid_window)
{
    char *w = pa_catalog_xid_window("t.xmin", 12884901499ULL); /* epoch 2, xid 4294966907 */
    ck_assert_str_eq(w, "((age(t.xmin)::bigint + 4294967296) % 4294967296 BETWEEN 1 AND "
                        "(age('4294966907'::xid)::bigint + 4294967296) % 4294967296)");
    free(w);
    /* a watermark whose low half would be a special xid: never handed out, its successor is the first normal one */
    w = pa_catalog_xid_window("i.xmin", 4294967296ULL * 3 + 1);
    ck_assert_ptr_nonnull(strstr(w, "age('3'::xid)"));
    ck_assert_ptr_nonnull(strstr(w, "age(i.xmin)"));
    free(w);
}
END_TEST

/* A key's positions: one column's text, or the text array of several, compared as a row. */
START_TEST(test_order_sql)
{
    char *e1[] = {"t.\"id\""}, *t1[] = {"bigint"};
    struct pa_order one = {1, e1, t1};
    char *e2[] = {"t.\"id\"", "t.\"created_at\""}, *t2[] = {"bigint", "date"};
    struct pa_order two = {2, e2, t2};
    struct pa_buf b;
    pa_buf_init(&b);
    pa_order_pos_expr(&one, &b);
    ck_assert_str_eq(b.data, "t.\"id\"::text");
    pa_buf_truncate(&b, 0);
    pa_order_pos_expr(&two, &b);
    ck_assert_str_eq(b.data, "ARRAY[t.\"id\"::text, t.\"created_at\"::text]::text");
    pa_buf_truncate(&b, 0);
    pa_order_by(&two, &b);
    ck_assert_str_eq(b.data, "t.\"id\", t.\"created_at\"");
    pa_buf_truncate(&b, 0);
    struct pa_where w = {.sql = &b};
    pa_catalog_append_blocks(&w, "16", "32");
    ck_assert_str_eq(b.data, " WHERE t.ctid >= '(16,0)'::tid AND t.ctid < '(32,0)'::tid");
    pa_catalog_append_blocks(&w, "0", "8");
    ck_assert_ptr_nonnull(strstr(b.data, "::tid AND t.ctid >= '(0,0)'"));
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(pa_scan_surface_status_name(PA_SURFACE_OK), "ok");
    ck_assert_str_eq(pa_scan_surface_status_name(PA_SURFACE_FAILED), "failed");
    ck_assert_str_eq(pa_scan_surface_status_name(PA_SURFACE_CANCELLED), "cancelled");
    ck_assert_str_eq(pa_scan_mode_name(true), "full");
    ck_assert_str_eq(pa_scan_mode_name(false), "incremental");
    struct pa_scan_result r = {.n = 3};
    ck_assert_str_eq(pa_scan_run_status_name(&r), "ok");
    r.failed = 1;
    ck_assert_str_eq(pa_scan_run_status_name(&r), "partial");
    r.failed = 3;
    ck_assert_str_eq(pa_scan_run_status_name(&r), "failed");
    r.failed = 1;
    r.cancelled = true;
    ck_assert_str_eq(pa_scan_run_status_name(&r), "cancelled");
    pa_err_set(&r.err, PA_FAIL_CONNECT, "cannot connect");
    ck_assert_str_eq(pa_scan_run_status_name(&r), "failed");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_copy_rows);
    tcase_add_test(tc, test_copy_malformed);
    tcase_add_test(tc, test_committed_prefix);
    tcase_add_test(tc, test_int_splits);
    tcase_add_test(tc, test_xid_window);
    tcase_add_test(tc, test_order_sql);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
