/* Unit tests for metrics: the exact 0.0.4 text for every family type, escaping, number formatting (also under a
 * locale with a decimal comma), clear/get, counter monotonicity, many series, concurrent updates while rendering,
 * the process_* block, registration misuse (aborts; fork mode only) and, when promtool is installed, a lint-clean
 * exposition. */
#include "metrics.h"
#include "metrics_internal.h"
#include "util.h"

#include <check.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char *render(struct pa_metrics *m)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render_families(m, &b);
    return b.data;
}

static char *fmt(double v)
{
    static char out[64];
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_format_value(&b, v);
    snprintf(out, sizeof out, "%s", b.data);
    pa_buf_free(&b);
    return out;
}

static char *esc(const char *v)
{
    static char out[256];
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_escape_label(&b, v);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    pa_buf_free(&b);
    return out;
}

/* ---- exact text ------------------------------------------------------------------------------------------- */

START_TEST(test_gauge_no_labels)
{
    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *g = pa_metrics_register(m, "pa_test_up", "Whether the last scan worked.", PA_METRIC_GAUGE, 0,
                                              NULL, NULL, 0);
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_up Whether the last scan worked.\n"
                        "# TYPE pa_test_up gauge\n"
                        "pa_test_up 0\n");
    free(s);
    pa_metric_set(g, NULL, 3.5);
    pa_metric_add(g, NULL, -1);
    s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_up Whether the last scan worked.\n"
                        "# TYPE pa_test_up gauge\n"
                        "pa_test_up 2.5\n");
    free(s);
    ck_assert(pa_metric_get(g, NULL) == 2.5);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_counter_labels_sorted)
{
    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"surface", "category"};
    struct pa_metric *c = pa_metrics_register(m, "pa_test_findings_total", "Findings reported.", PA_METRIC_COUNTER, 2,
                                              labels, NULL, 0);
    struct pa_metric *scans = pa_metrics_register(m, "pa_test_scans_total", "Scans run.", PA_METRIC_COUNTER, 0, NULL,
                                                  NULL, 0);
    char *s = render(m);
    /* labelled and empty: HELP and TYPE only; unlabelled: 0 from registration on */
    ck_assert_str_eq(s, "# HELP pa_test_findings_total Findings reported.\n"
                        "# TYPE pa_test_findings_total counter\n"
                        "# HELP pa_test_scans_total Scans run.\n"
                        "# TYPE pa_test_scans_total counter\n"
                        "pa_test_scans_total 0\n");
    free(s);
    pa_metric_add(c, (const char *[]){"public.users.data", "email"}, 2);
    pa_metric_add(c, (const char *[]){"public.orders.meta", "phone"}, 1);
    pa_metric_add(c, (const char *[]){"public.orders.meta", "email"}, 1.5);
    pa_metric_add(c, (const char *[]){"public.users.data", "email"}, 1);
    pa_metric_add(scans, NULL, 1);
    s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_findings_total Findings reported.\n"
                        "# TYPE pa_test_findings_total counter\n"
                        "pa_test_findings_total{surface=\"public.orders.meta\",category=\"email\"} 1.5\n"
                        "pa_test_findings_total{surface=\"public.orders.meta\",category=\"phone\"} 1\n"
                        "pa_test_findings_total{surface=\"public.users.data\",category=\"email\"} 3\n"
                        "# HELP pa_test_scans_total Scans run.\n"
                        "# TYPE pa_test_scans_total counter\n"
                        "pa_test_scans_total 1\n");
    free(s);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_histogram)
{
    struct pa_metrics *m = pa_metrics_new();
    const double bounds[] = {0.1, 1, 10};
    const char *labels[] = {"surface"};
    struct pa_metric *h = pa_metrics_register(m, "pa_test_batch_seconds", "Batch duration.", PA_METRIC_HISTOGRAM, 0,
                                              NULL, bounds, 3);
    struct pa_metric *hl = pa_metrics_register(m, "pa_test_doc_bytes", "Document size.", PA_METRIC_HISTOGRAM, 1, labels,
                                               (const double[]){1024, 1048576}, 2);
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_batch_seconds Batch duration.\n"
                        "# TYPE pa_test_batch_seconds histogram\n"
                        "pa_test_batch_seconds_bucket{le=\"0.1\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"1\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"10\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"+Inf\"} 0\n"
                        "pa_test_batch_seconds_sum 0\n"
                        "pa_test_batch_seconds_count 0\n"
                        "# HELP pa_test_doc_bytes Document size.\n"
                        "# TYPE pa_test_doc_bytes histogram\n");
    free(s);
    pa_metric_observe(h, NULL, 0.0625);
    pa_metric_observe(h, NULL, 0.1); /* le is inclusive */
    pa_metric_observe(h, NULL, 4);
    pa_metric_observe(h, NULL, 100);
    pa_metric_observe(hl, (const char *[]){"b"}, 2048);
    pa_metric_observe(hl, (const char *[]){"a"}, 1024);
    pa_metric_observe(hl, (const char *[]){"a"}, 1e9);
    s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_batch_seconds Batch duration.\n"
                        "# TYPE pa_test_batch_seconds histogram\n"
                        "pa_test_batch_seconds_bucket{le=\"0.1\"} 2\n"
                        "pa_test_batch_seconds_bucket{le=\"1\"} 2\n"
                        "pa_test_batch_seconds_bucket{le=\"10\"} 3\n"
                        "pa_test_batch_seconds_bucket{le=\"+Inf\"} 4\n"
                        "pa_test_batch_seconds_sum 104.1625\n"
                        "pa_test_batch_seconds_count 4\n"
                        "# HELP pa_test_doc_bytes Document size.\n"
                        "# TYPE pa_test_doc_bytes histogram\n"
                        "pa_test_doc_bytes_bucket{surface=\"a\",le=\"1024\"} 1\n"
                        "pa_test_doc_bytes_bucket{surface=\"a\",le=\"1048576\"} 1\n"
                        "pa_test_doc_bytes_bucket{surface=\"a\",le=\"+Inf\"} 2\n"
                        "pa_test_doc_bytes_sum{surface=\"a\"} 1000001024\n"
                        "pa_test_doc_bytes_count{surface=\"a\"} 2\n"
                        "pa_test_doc_bytes_bucket{surface=\"b\",le=\"1024\"} 0\n"
                        "pa_test_doc_bytes_bucket{surface=\"b\",le=\"1048576\"} 1\n"
                        "pa_test_doc_bytes_bucket{surface=\"b\",le=\"+Inf\"} 1\n"
                        "pa_test_doc_bytes_sum{surface=\"b\"} 2048\n"
                        "pa_test_doc_bytes_count{surface=\"b\"} 1\n");
    free(s);
    /* NaN counts (in +Inf only) and poisons the sum, as in client_golang */
    pa_metric_observe(hl, (const char *[]){"b"}, NAN);
    s = render(m);
    ck_assert_ptr_nonnull(strstr(s, "pa_test_doc_bytes_bucket{surface=\"b\",le=\"1048576\"} 1\n"
                                    "pa_test_doc_bytes_bucket{surface=\"b\",le=\"+Inf\"} 2\n"
                                    "pa_test_doc_bytes_sum{surface=\"b\"} NaN\n"));
    free(s);
    ck_assert(isnan(pa_metric_get(h, NULL))); /* get is for gauges and counters */
    pa_metric_clear(h);
    pa_metric_clear(hl);
    s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_batch_seconds Batch duration.\n"
                        "# TYPE pa_test_batch_seconds histogram\n"
                        "pa_test_batch_seconds_bucket{le=\"0.1\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"1\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"10\"} 0\n"
                        "pa_test_batch_seconds_bucket{le=\"+Inf\"} 0\n"
                        "pa_test_batch_seconds_sum 0\n"
                        "pa_test_batch_seconds_count 0\n"
                        "# HELP pa_test_doc_bytes Document size.\n"
                        "# TYPE pa_test_doc_bytes histogram\n");
    free(s);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_no_buckets)
{
    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *h = pa_metrics_register(m, "pa_test_lag_seconds", "Lag.", PA_METRIC_HISTOGRAM, 0, NULL, NULL, 0);
    pa_metric_observe(h, NULL, -0.5);
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_lag_seconds Lag.\n"
                        "# TYPE pa_test_lag_seconds histogram\n"
                        "pa_test_lag_seconds_bucket{le=\"+Inf\"} 1\n"
                        "pa_test_lag_seconds_sum -0.5\n"
                        "pa_test_lag_seconds_count 1\n");
    free(s);
    pa_metrics_free(m);
}
END_TEST

/* Regression (fuzzer): rendering nothing into an empty buffer left data allocated but not NUL-terminated. Under
 * valgrind (CK_FORK=no) the old code fails here with an uninitialised read. */
START_TEST(test_render_empty)
{
    struct pa_metrics *m = pa_metrics_new();
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render_families(m, &b);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_str_eq(b.data, "");
    pa_buf_free(&b);
    pa_metrics_free(m);
}
END_TEST

/* ---- escaping and UTF-8 ----------------------------------------------------------------------------------- */

START_TEST(test_escaping)
{
    ck_assert_str_eq(esc(""), "");
    ck_assert_str_eq(esc("plain"), "plain");
    ck_assert_str_eq(esc("a\\b"), "a\\\\b");
    ck_assert_str_eq(esc("say \"hi\""), "say \\\"hi\\\"");
    ck_assert_str_eq(esc("two\nlines\n"), "two\\nlines\\n");
    ck_assert_str_eq(esc("\\n"), "\\\\n"); /* a literal backslash-n stays distinguishable from a newline */
    ck_assert_str_eq(esc("tab\there\r{}=,"), "tab\there\r{}=,");
    ck_assert_str_eq(esc("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");

    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"reason"};
    struct pa_metric *g = pa_metrics_register(m, "pa_test_errors", "Errors by \"reason\": a\\b\nsecond line.",
                                              PA_METRIC_GAUGE, 1, labels, NULL, 0);
    pa_metric_set(g, (const char *[]){"quote\" back\\ nl\n"}, 1);
    char *s = render(m);
    /* HELP escapes backslash and newline only; label values also the double quote */
    ck_assert_str_eq(s, "# HELP pa_test_errors Errors by \"reason\": a\\\\b\\nsecond line.\n"
                        "# TYPE pa_test_errors gauge\n"
                        "pa_test_errors{reason=\"quote\\\" back\\\\ nl\\n\"} 1\n");
    free(s);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    /* one U+FFFD per maximal ill-formed subpart */
    ck_assert_str_eq(esc("a\xFF"
                         "b"),
                     "a\xEF\xBF\xBD"
                     "b");
    ck_assert_str_eq(esc("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                 /* overlong: C0 never valid */
    ck_assert_str_eq(esc("\xE2\x82"), "\xEF\xBF\xBD");                             /* truncated at the end */
    ck_assert_str_eq(esc("\xE2\x82x"), "\xEF\xBF\xBDx");                           /* truncated before ASCII */
    ck_assert_str_eq(esc("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    ck_assert_str_eq(esc("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
    ck_assert_str_eq(esc("\x80\""), "\xEF\xBF\xBD\\\"");
    ck_assert_str_eq(esc("\xF0\x9F\x98"), "\xEF\xBF\xBD");

    /* two spellings that render the same are one series: never a duplicate series in the output */
    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"surface", "category"};
    struct pa_metric *c = pa_metrics_register(m, "pa_test_bad_total", "Bad bytes.", PA_METRIC_COUNTER, 2, labels, NULL,
                                              0);
    pa_metric_add(c, (const char *[]){"t\xFF", "x"}, 1);
    pa_metric_add(c, (const char *[]){"t\xFE", "x"}, 1);
    pa_metric_add(c, (const char *[]){"t\xEF\xBF\xBD", "x"}, 1);
    ck_assert(pa_metric_get(c, (const char *[]){"t\x80", "x"}) == 3);
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_bad_total Bad bytes.\n"
                        "# TYPE pa_test_bad_total counter\n"
                        "pa_test_bad_total{surface=\"t\xEF\xBF\xBD\",category=\"x\"} 3\n");
    free(s);
    pa_metrics_free(m);
}
END_TEST

/* ---- numbers ---------------------------------------------------------------------------------------------- */

START_TEST(test_numbers)
{
    ck_assert_str_eq(fmt(0), "0");
    ck_assert_str_eq(fmt(-0.0), "0"); /* as client_golang: -0 == 0 */
    ck_assert_str_eq(fmt(1), "1");
    ck_assert_str_eq(fmt(-1), "-1");
    ck_assert_str_eq(fmt(1234567), "1234567");
    ck_assert_str_eq(fmt(1e15), "1000000000000000");
    ck_assert_str_eq(fmt(9007199254740992.0), "9007199254740992"); /* 2^53 */
    ck_assert_str_eq(fmt(-9007199254740992.0), "-9007199254740992");
    ck_assert_str_eq(fmt(9007199254740994.0), "9007199254740994"); /* past 2^53: shortest %g */
    ck_assert_str_eq(fmt(1e20), "1e+20");
    ck_assert_str_eq(fmt(DBL_MAX), "1.7976931348623157e+308");
    ck_assert_str_eq(fmt(0.1), "0.1");
    ck_assert_str_eq(fmt(0.25), "0.25");
    ck_assert_str_eq(fmt(-2.5), "-2.5");
    ck_assert_str_eq(fmt(0.1 + 0.2), "0.30000000000000004");
    ck_assert_str_eq(fmt(1.0 / 3), "0.3333333333333333");
    ck_assert_str_eq(fmt(123456.789), "123456.789");
    ck_assert_str_eq(fmt(1000000000000000.5), "1000000000000000.5");
    ck_assert_str_eq(fmt(1e-5), "1e-05");
    ck_assert_str_eq(fmt(0.0001), "0.0001");
    ck_assert_str_eq(fmt(1e-300), "1e-300");
    ck_assert_str_eq(fmt(5e-324), "5e-324"); /* smallest subnormal */
    ck_assert_str_eq(fmt(DBL_MIN), "2.2250738585072014e-308");
    ck_assert_str_eq(fmt(DBL_MIN / 4), "5.562684646268003e-309");
    ck_assert_str_eq(fmt(-DBL_TRUE_MIN * 3), "-1.5e-323");
    ck_assert_str_eq(fmt(NAN), "NaN");
    ck_assert_str_eq(fmt(-NAN), "NaN");
    ck_assert_str_eq(fmt(INFINITY), "+Inf");
    ck_assert_str_eq(fmt(-INFINITY), "-Inf");

    /* every finite value round-trips */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        pa_test_rng(&x);
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        char *s = fmt(v);
        ck_assert_msg(strtod(s, NULL) == v, "%s does not round-trip", s);
        ck_assert_ptr_null(strchr(s, ','));
        /* and is the shortest %g that does (integers up to 2^53 are printed whole instead) */
        if (!(v == trunc(v) && fabs(v) <= 9007199254740992.0)) {
            char shortest[40];
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(shortest, sizeof shortest, "%.*g", prec, v);
                if (strtod(shortest, NULL) == v)
                    break;
            }
            ck_assert_str_eq(s, shortest);
        }
    }
}
END_TEST

/* A locale whose decimal separator is a comma: an installed one, else one compiled with localedef into a temporary
 * LOCPATH (Debian images ship no locales but keep the sources), else NULL. */
static const char *comma_locale(char *tmpdir, size_t cap)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR"};
    for (size_t i = 0; i < PA_ARRAY_LEN(names); i++)
        if (setlocale(LC_NUMERIC, names[i]))
            return names[i];
    tmpdir[0] = '\0';
    if (access("/usr/share/i18n/locales/de_DE", R_OK) != 0)
        return NULL;
    snprintf(tmpdir, cap, "/tmp/pa_test_locale.XXXXXX");
    if (!mkdtemp(tmpdir))
        return NULL;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", tmpdir);
    if (system(cmd) == -1)
        return NULL;
    setenv("LOCPATH", tmpdir, 1);
    return setlocale(LC_NUMERIC, "de_DE.UTF-8") ? "de_DE.UTF-8 (localedef)" : NULL;
}

START_TEST(test_c_locale_numbers)
{
    char tmpdir[128];
    const char *name = comma_locale(tmpdir, sizeof tmpdir);
    if (!name) {
        fprintf(stderr, "test_metrics: no locale with a decimal comma; checking under C.UTF-8 only\n");
        ck_assert_ptr_nonnull(setlocale(LC_NUMERIC, "C.UTF-8"));
    } else {
        char probe[16];
        snprintf(probe, sizeof probe, "%.1f", 0.5);
        ck_assert_str_eq(probe, "0,5"); /* the locale really bites printf */
        fprintf(stderr, "test_metrics: LC_NUMERIC=%s\n", name);
    }
    ck_assert_str_eq(fmt(0.5), "0.5");
    ck_assert_str_eq(fmt(-1234.25), "-1234.25");
    ck_assert_str_eq(fmt(1e-7), "1e-07");
    ck_assert_str_eq(fmt(1234567), "1234567");

    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *h = pa_metrics_register(m, "pa_test_locale_seconds", "Locale.", PA_METRIC_HISTOGRAM, 0, NULL,
                                              (const double[]){0.005, 2.5}, 2);
    pa_metric_observe(h, NULL, 0.75);
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_locale_seconds Locale.\n"
                        "# TYPE pa_test_locale_seconds histogram\n"
                        "pa_test_locale_seconds_bucket{le=\"0.005\"} 0\n"
                        "pa_test_locale_seconds_bucket{le=\"2.5\"} 1\n"
                        "pa_test_locale_seconds_bucket{le=\"+Inf\"} 1\n"
                        "pa_test_locale_seconds_sum 0.75\n"
                        "pa_test_locale_seconds_count 1\n");
    free(s);
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render_process(&b);
    ck_assert_ptr_null(strstr(b.data, ","));
    pa_buf_free(&b);
    pa_metrics_free(m);

    setlocale(LC_NUMERIC, "C");
    if (tmpdir[0]) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
        unsetenv("LOCPATH");
    }
}
END_TEST

/* ---- values ----------------------------------------------------------------------------------------------- */

START_TEST(test_clear_get)
{
    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"category"};
    struct pa_metric *g = pa_metrics_register(m, "pa_test_open_findings", "Open findings.", PA_METRIC_GAUGE, 1, labels,
                                              NULL, 0);
    struct pa_metric *u = pa_metrics_register(m, "pa_test_last_scan_timestamp_seconds", "Last scan.", PA_METRIC_GAUGE,
                                              0, NULL, NULL, 0);
    ck_assert(isnan(pa_metric_get(g, (const char *[]){"email"})));
    ck_assert(pa_metric_get(u, NULL) == 0);
    pa_metric_set(g, (const char *[]){"email"}, 7);
    pa_metric_set(g, (const char *[]){"phone"}, 2);
    pa_metric_add(g, (const char *[]){"phone"}, -3);
    pa_metric_set(u, NULL, 1700000000.5);
    ck_assert(pa_metric_get(g, (const char *[]){"email"}) == 7);
    ck_assert(pa_metric_get(g, (const char *[]){"phone"}) == -1);
    ck_assert(isnan(pa_metric_get(g, (const char *[]){"iban"})));
    pa_metric_clear(g);
    pa_metric_clear(u);
    ck_assert(isnan(pa_metric_get(g, (const char *[]){"email"})));
    ck_assert(pa_metric_get(u, NULL) == 0); /* unlabelled families keep their one series, at zero */
    char *s = render(m);
    ck_assert_str_eq(s, "# HELP pa_test_open_findings Open findings.\n"
                        "# TYPE pa_test_open_findings gauge\n"
                        "# HELP pa_test_last_scan_timestamp_seconds Last scan.\n"
                        "# TYPE pa_test_last_scan_timestamp_seconds gauge\n"
                        "pa_test_last_scan_timestamp_seconds 0\n");
    free(s);
    /* usable after clear */
    pa_metric_set(g, (const char *[]){"iban"}, NAN);
    pa_metric_set(g, (const char *[]){"email"}, -INFINITY);
    s = render(m);
    ck_assert_ptr_nonnull(strstr(s, "pa_test_open_findings{category=\"email\"} -Inf\n"
                                    "pa_test_open_findings{category=\"iban\"} NaN\n"));
    free(s);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_counter_never_decreases)
{
    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *c = pa_metrics_register(m, "pa_test_rows_total", "Rows.", PA_METRIC_COUNTER, 0, NULL, NULL, 0);
    pa_metric_add(c, NULL, 5);
    pa_metric_add(c, NULL, -2);
    pa_metric_add(c, NULL, -INFINITY);
    pa_metric_add(c, NULL, NAN);
    pa_metric_add(c, NULL, -0.0);
    pa_metric_add(c, NULL, 0.5);
    ck_assert(pa_metric_get(c, NULL) == 5.5);
    const char *labels[] = {"surface"};
    struct pa_metric *cl = pa_metrics_register(m, "pa_test_docs_total", "Docs.", PA_METRIC_COUNTER, 1, labels, NULL, 0);
    pa_metric_add(cl, (const char *[]){"t"}, -1); /* ignored: does not even create the series */
    ck_assert(isnan(pa_metric_get(cl, (const char *[]){"t"})));
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_many_series)
{
    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"surface", "category"};
    struct pa_metric *c = pa_metrics_register(m, "pa_test_many_total", "Many.", PA_METRIC_COUNTER, 2, labels, NULL, 0);
    /* insert 1000 series in a scrambled order, each with value i + 1 */
    for (unsigned k = 0; k < 1000; k++) {
        unsigned i = (k * 7919u) % 1000u;
        char sfc[32], cat[32];
        snprintf(sfc, sizeof sfc, "s%03u", i / 10);
        snprintf(cat, sizeof cat, "c%u", i % 10);
        pa_metric_add(c, (const char *[]){sfc, cat}, i + 1);
    }
    for (unsigned i = 0; i < 1000; i++) {
        char sfc[32], cat[32];
        snprintf(sfc, sizeof sfc, "s%03u", i / 10);
        snprintf(cat, sizeof cat, "c%u", i % 10);
        pa_metric_add(c, (const char *[]){sfc, cat}, 1);
        ck_assert(pa_metric_get(c, (const char *[]){sfc, cat}) == i + 2);
    }
    char *s = render(m);
    /* sorted by label values: exactly the order of i */
    const char *p = strchr(strchr(s, '\n') + 1, '\n') + 1;
    for (unsigned i = 0; i < 1000; i++) {
        char want[128];
        int n = snprintf(want, sizeof want, "pa_test_many_total{surface=\"s%03u\",category=\"c%u\"} %u\n", i / 10,
                         i % 10, i + 2);
        ck_assert_msg(strncmp(p, want, (size_t)n) == 0, "line %u: %.60s", i, p);
        p += n;
    }
    ck_assert_str_eq(p, "");
    free(s);
    pa_metric_clear(c);
    pa_metric_add(c, (const char *[]){"x", "y"}, 1);
    ck_assert(pa_metric_get(c, (const char *[]){"x", "y"}) == 1);
    ck_assert(isnan(pa_metric_get(c, (const char *[]){"s000", "c0"})));
    pa_metrics_free(m);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------------------------------------ */

#define N_WRITERS 4
#define N_ITER 20000
#define N_SURFACES 50

struct conc {
    struct pa_metric *c, *g, *h;
    struct pa_metrics *m;
    volatile int done;
    int renders;
};

static void *writer(void *arg)
{
    struct conc *cc = arg;
    for (int i = 0; i < N_ITER; i++) {
        char sfc[32];
        snprintf(sfc, sizeof sfc, "public.t%02d.doc", i % N_SURFACES);
        const char *v[] = {sfc};
        pa_metric_add(cc->c, v, 1);
        pa_metric_add(cc->g, v, 2);
        pa_metric_observe(cc->h, v, (double)(i % 4));
    }
    return NULL;
}

static void *renderer(void *arg)
{
    struct conc *cc = arg;
    struct pa_buf b;
    pa_buf_init(&b);
    while (!__atomic_load_n(&cc->done, __ATOMIC_ACQUIRE)) {
        pa_buf_truncate(&b, 0);
        pa_metrics_render(cc->m, &b);
        __atomic_add_fetch(&cc->renders, 1, __ATOMIC_RELEASE);
    }
    pa_buf_free(&b);
    return NULL;
}

START_TEST(test_concurrent)
{
    struct conc cc = {0};
    cc.m = pa_metrics_new();
    const char *labels[] = {"surface"};
    cc.c = pa_metrics_register(cc.m, "pa_test_c_total", "C.", PA_METRIC_COUNTER, 1, labels, NULL, 0);
    cc.g = pa_metrics_register(cc.m, "pa_test_g", "G.", PA_METRIC_GAUGE, 1, labels, NULL, 0);
    cc.h = pa_metrics_register(cc.m, "pa_test_h", "H.", PA_METRIC_HISTOGRAM, 1, labels, (const double[]){1, 2}, 2);
    pthread_t w[N_WRITERS], r;
    ck_assert_int_eq(pthread_create(&r, NULL, renderer, &cc), 0);
    for (int i = 0; i < N_WRITERS; i++)
        ck_assert_int_eq(pthread_create(&w[i], NULL, writer, &cc), 0);
    for (int i = 0; i < N_WRITERS; i++)
        pthread_join(w[i], NULL);
    while (__atomic_load_n(&cc.renders, __ATOMIC_ACQUIRE) == 0) /* a scheduler may not have run it yet (valgrind) */
        sched_yield();
    __atomic_store_n(&cc.done, 1, __ATOMIC_RELEASE);
    pthread_join(r, NULL);
    ck_assert_int_gt(cc.renders, 0);

    const double per = (double)N_WRITERS * N_ITER / N_SURFACES;
    for (int i = 0; i < N_SURFACES; i++) {
        char sfc[32];
        snprintf(sfc, sizeof sfc, "public.t%02d.doc", i);
        const char *v[] = {sfc};
        ck_assert(pa_metric_get(cc.c, v) == per);
        ck_assert(pa_metric_get(cc.g, v) == 2 * per);
    }
    char *s = render(cc.m);
    /* N_ITER % 4 == 0 and N_SURFACES % 4 == 2: check the total over the histogram by its count lines */
    unsigned long long total = 0;
    for (const char *p = s; (p = strstr(p, "pa_test_h_count{")) != NULL; p++)
        total += strtoull(strchr(p, '}') + 2, NULL, 10);
    ck_assert_uint_eq(total, (unsigned long long)N_WRITERS * N_ITER);
    char want[128];
    snprintf(want, sizeof want, "pa_test_h_count{surface=\"public.t00.doc\"} %.0f\n", per);
    ck_assert_ptr_nonnull(strstr(s, want));
    free(s);
    pa_metrics_free(cc.m);
}
END_TEST

/* pa_metric_replace swaps a family's whole series set under one lock: a scrape during a rebuild never sees the
 * family empty (which would resolve an alert on it falsely) nor half-built. */
struct repl {
    struct pa_metric *g, *c;
    struct pa_metrics *m;
    volatile int done;
    int renders, bad;
};

static void *repl_renderer(void *arg)
{
    struct repl *rp = arg;
    struct pa_buf b;
    pa_buf_init(&b);
    while (!__atomic_load_n(&rp->done, __ATOMIC_ACQUIRE)) {
        pa_buf_truncate(&b, 0);
        pa_metrics_render_families(rp->m, &b);
        int g = 0, c = 0;
        for (const char *p = b.data; (p = strstr(p, "\npa_test_open{")) != NULL; p++)
            g++;
        for (const char *p = b.data; (p = strstr(p, "\npa_test_rejects_total{")) != NULL; p++)
            c++;
        if (g != 3 || c != 2)
            rp->bad++;
        __atomic_add_fetch(&rp->renders, 1, __ATOMIC_RELEASE);
    }
    pa_buf_free(&b);
    return NULL;
}

START_TEST(test_replace)
{
    struct repl rp = {0};
    rp.m = pa_metrics_new();
    const char *tc[] = {"table", "category"};
    const char *t[] = {"table"};
    rp.g = pa_metrics_register(rp.m, "pa_test_open", "Open.", PA_METRIC_GAUGE, 2, tc, NULL, 0);
    rp.c = pa_metrics_register(rp.m, "pa_test_rejects_total", "Rejects.", PA_METRIC_COUNTER, 1, t, NULL, 0);
    struct pa_metric *u = pa_metrics_register(rp.m, "pa_test_last", "Last.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);

    /* exact result: the old series go, the new ones are set; a later duplicate row wins */
    pa_metric_set(rp.g, (const char *[]){"old", "email"}, 9);
    const char *rows[] = {"a", "email", "a", "phone", "b", "iban", "a", "email"};
    pa_metric_replace(rp.g, 4, rows, (const double[]){1, 2, 3, 4});
    ck_assert(isnan(pa_metric_get(rp.g, (const char *[]){"old", "email"})));
    ck_assert(pa_metric_get(rp.g, (const char *[]){"a", "email"}) == 4);
    ck_assert(pa_metric_get(rp.g, (const char *[]){"a", "phone"}) == 2);
    ck_assert(pa_metric_get(rp.g, (const char *[]){"b", "iban"}) == 3);
    /* counters mirrored from elsewhere: taken as given, also lower (a reset at the source) */
    pa_metric_replace(rp.c, 2, (const char *[]){"t1", "t2"}, (const double[]){5, 7});
    pa_metric_replace(rp.c, 2, (const char *[]){"t1", "t2"}, (const double[]){6, 1});
    ck_assert(pa_metric_get(rp.c, (const char *[]){"t1"}) == 6);
    ck_assert(pa_metric_get(rp.c, (const char *[]){"t2"}) == 1);
    /* without labels: the one series; zero rows = cleared (at zero) */
    pa_metric_replace(u, 1, NULL, (const double[]){42});
    ck_assert(pa_metric_get(u, NULL) == 42);
    pa_metric_replace(u, 0, NULL, NULL);
    ck_assert(pa_metric_get(u, NULL) == 0);
    pa_metric_replace(rp.c, 0, NULL, NULL);
    ck_assert(isnan(pa_metric_get(rp.c, (const char *[]){"t1"})));
    /* invalid UTF-8 is sanitized as by pa_metric_set: one series per rendered label set */
    pa_metric_replace(rp.c, 2, (const char *[]){"x\xff", "x\xfe"}, (const double[]){1, 2});
    ck_assert(pa_metric_get(rp.c, (const char *[]){"x\xef\xbf\xbd"}) == 2);
    char *s = render(rp.m);
    ck_assert_str_eq(s, "# HELP pa_test_open Open.\n"
                        "# TYPE pa_test_open gauge\n"
                        "pa_test_open{table=\"a\",category=\"email\"} 4\n"
                        "pa_test_open{table=\"a\",category=\"phone\"} 2\n"
                        "pa_test_open{table=\"b\",category=\"iban\"} 3\n"
                        "# HELP pa_test_rejects_total Rejects.\n"
                        "# TYPE pa_test_rejects_total counter\n"
                        "pa_test_rejects_total{table=\"x\xef\xbf\xbd\"} 2\n"
                        "# HELP pa_test_last Last.\n"
                        "# TYPE pa_test_last gauge\n"
                        "pa_test_last 0\n");
    free(s);

    /* concurrent scrapes always see the full sets */
    pa_metric_replace(rp.c, 2, (const char *[]){"t1", "t2"}, (const double[]){0, 0});
    pthread_t r;
    ck_assert_int_eq(pthread_create(&r, NULL, repl_renderer, &rp), 0);
    /* at least 20000 rebuilds, and on until the renderer has run a few times (valgrind runs one thread at a time,
     * so the renderer may not get a turn within the 20000) */
    for (int i = 0; i < 20000 || __atomic_load_n(&rp.renders, __ATOMIC_ACQUIRE) < 5; i++) {
        char cat[16];
        snprintf(cat, sizeof cat, "c%d", i % 7);
        const char *gr[] = {"a", "email", "a", cat, "b", "iban"};
        if (i % 7 == 0)
            gr[3] = "phone";
        pa_metric_replace(rp.g, 3, gr, (const double[]){i, i, i});
        pa_metric_replace(rp.c, 2, (const char *[]){"t1", i % 2 ? "t2" : "t3"}, (const double[]){i, i});
    }
    __atomic_store_n(&rp.done, 1, __ATOMIC_RELEASE);
    pthread_join(r, NULL);
    ck_assert_int_gt(rp.renders, 0);
    ck_assert_int_eq(rp.bad, 0);
    pa_metrics_free(rp.m);
}
END_TEST

/* ---- process metrics -------------------------------------------------------------------------------------- */

static double value_of(const char *text, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(text, key);
    ck_assert_msg(p != NULL, "%s missing", name);
    return strtod(p + strlen(key), NULL);
}

START_TEST(test_process_metrics)
{
    struct pa_metrics *m = pa_metrics_new();
    pa_metrics_register(m, "pa_test_x", "X.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render(m, &b);
    ck_assert(strncmp(b.data, "# HELP pa_test_x X.\n# TYPE pa_test_x gauge\npa_test_x 0\n# HELP process_", 63) == 0);
    static const char *const want[][3] = {
        {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter"},
        {"process_max_fds", "Maximum number of open file descriptors.", "gauge"},
        {"process_open_fds", "Number of open file descriptors.", "gauge"},
        {"process_resident_memory_bytes", "Resident memory size in bytes.", "gauge"},
        {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge"},
        {"process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(want); i++) {
        char block[256];
        snprintf(block, sizeof block, "# HELP %s %s\n# TYPE %s %s\n%s ", want[i][0], want[i][1], want[i][0], want[i][2],
                 want[i][0]);
        ck_assert_msg(strstr(b.data, block) != NULL, "no %s block", want[i][0]);
    }
    double cpu = value_of(b.data, "process_cpu_seconds_total");
    double maxfds = value_of(b.data, "process_max_fds");
    double fds = value_of(b.data, "process_open_fds");
    double rss = value_of(b.data, "process_resident_memory_bytes");
    double start = value_of(b.data, "process_start_time_seconds");
    double vsz = value_of(b.data, "process_virtual_memory_bytes");
    ck_assert(cpu >= 0 && cpu < 86400);
    ck_assert(fds >= 3 && fds <= maxfds);
    ck_assert(rss > 1024 * 1024 && rss < 64.0 * 1024 * 1024 * 1024);
    ck_assert(vsz >= rss);
    double now = (double)time(NULL);
    ck_assert_msg(start <= now + 2 && start > now - 3600, "start %f now %f", start, now);
    pa_buf_free(&b);
    pa_metrics_free(m);
}
END_TEST

/* /proc/self/stat of a process whose comm holds spaces and parentheses, with starttime 123456 ticks after boot */
static const char proc_stat_text[] =
    "4242 (pii) (au ditd)) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 3 0 123456 104857600 2560 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

START_TEST(test_proc_stat_parse)
{
    struct pa_proc_stat ps;
    ck_assert_int_eq(pa_metrics_parse_proc_stat(proc_stat_text, 100, 4096, &ps), 0);
    ck_assert(ps.cpu_seconds == 3.25);         /* (250 + 75) / 100 */
    ck_assert(ps.start_since_boot == 1234.56); /* 123456 / 100 */
    ck_assert(ps.vsize == 104857600.0);
    ck_assert(ps.rss_bytes == 2560.0 * 4096);
    ck_assert_int_eq(pa_metrics_parse_proc_stat("4242 (x) S 1 2 3\n", 100, 4096, &ps), -1); /* too few fields */
    ck_assert_int_eq(pa_metrics_parse_proc_stat("no parenthesis at all", 100, 4096, &ps), -1);
    ck_assert_int_eq(pa_metrics_parse_proc_stat(proc_stat_text, 0, 4096, &ps), -1);
}
END_TEST

static int boot_calls;
static double fixed_boot(void)
{
    boot_calls++;
    return 1700000000.004; /* ms noise: the start is rounded to the clock tick */
}
static double no_boot(void)
{
    return NAN;
}

/* process_start_time_seconds = boot time (from the clocks, not /proc/stat: ProcSubset=pid hides it) + starttime,
 * with the boot time source injected; worked out once and kept */
START_TEST(test_process_start_time_injected)
{
    struct pa_metrics *m = pa_metrics_new();
    long ticks = sysconf(_SC_CLK_TCK);
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "re");
    ck_assert(f != NULL);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    struct pa_proc_stat ps;
    ck_assert_int_eq(pa_metrics_parse_proc_stat(buf, ticks, sysconf(_SC_PAGESIZE), &ps), 0);
    double want = round((1700000000.004 + ps.start_since_boot) * (double)ticks) / (double)ticks;

    boot_calls = 0;
    pa_metrics_set_boot_time_source(fixed_boot);
    for (int i = 0; i < 3; i++) {
        struct pa_buf b;
        pa_buf_init(&b);
        pa_metrics_render(m, &b);
        ck_assert_msg(value_of(b.data, "process_start_time_seconds") == want, "start %f want %f",
                      value_of(b.data, "process_start_time_seconds"), want);
        pa_buf_free(&b);
    }
    ck_assert_int_eq(boot_calls, 1); /* kept once known */

    /* no boot time: the series is left out, HELP and TYPE included (a missing series, never a wrong 0) */
    pa_metrics_set_boot_time_source(no_boot);
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render(m, &b);
    ck_assert(strstr(b.data, "process_start_time_seconds") == NULL);
    ck_assert(strstr(b.data, "process_cpu_seconds_total") != NULL);
    pa_buf_free(&b);

    /* the real clocks agree with btime of /proc/stat (when this test can read it) to within a tick or two */
    pa_metrics_set_boot_time_source(NULL);
    pa_buf_init(&b);
    pa_metrics_render(m, &b);
    double start = value_of(b.data, "process_start_time_seconds");
    pa_buf_free(&b);
    f = fopen("/proc/stat", "re");
    if (f) {
        char line[256];
        double btime = 0;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "btime ", 6) == 0)
                btime = strtod(line + 6, NULL);
        fclose(f);
        /* btime is whole seconds (truncated): the clocks' boot time lies within [btime, btime + 1) */
        double lo = btime + ps.start_since_boot - 0.02, hi = btime + 1 + ps.start_since_boot + 0.02;
        ck_assert_msg(start >= lo && start <= hi, "start %f, btime-based [%f, %f]", start, lo, hi);
    }
    pa_metrics_free(m);
}
END_TEST

static bool keep_not_b(void *arg, const char *const *v)
{
    (void)arg;
    return strcmp(v[0], "public.b") != 0;
}

/* pa_metric_touch makes a series at zero (histograms with empty buckets) without changing an existing one;
 * pa_metric_retain drops series by their labels and keeps the rest sorted and findable */
START_TEST(test_touch_retain)
{
    struct pa_metrics *m = pa_metrics_new();
    const char *tc[] = {"table", "column"};
    struct pa_metric *c = pa_metrics_register(m, "pa_t_total", "T.", PA_METRIC_COUNTER, 2, tc, NULL, 0);
    const char *ml[] = {"mode"};
    static const double bk[] = {1, 10};
    struct pa_metric *h = pa_metrics_register(m, "pa_h_seconds", "H.", PA_METRIC_HISTOGRAM, 1, ml, bk, 2);
    const char *a[] = {"public.a", "x"}, *b[] = {"public.b", "x"}, *cc[] = {"public.c", "x"};
    pa_metric_add(c, b, 5);
    pa_metric_touch(c, a);
    pa_metric_touch(c, b); /* existing: kept at 5 */
    pa_metric_touch(c, cc);
    const char *full[] = {"full"};
    pa_metric_touch(h, full);
    char *out = render(m);
    ck_assert_str_eq(out, "# HELP pa_t_total T.\n# TYPE pa_t_total counter\n"
                          "pa_t_total{table=\"public.a\",column=\"x\"} 0\n"
                          "pa_t_total{table=\"public.b\",column=\"x\"} 5\n"
                          "pa_t_total{table=\"public.c\",column=\"x\"} 0\n"
                          "# HELP pa_h_seconds H.\n# TYPE pa_h_seconds histogram\n"
                          "pa_h_seconds_bucket{mode=\"full\",le=\"1\"} 0\n"
                          "pa_h_seconds_bucket{mode=\"full\",le=\"10\"} 0\n"
                          "pa_h_seconds_bucket{mode=\"full\",le=\"+Inf\"} 0\n"
                          "pa_h_seconds_sum{mode=\"full\"} 0\npa_h_seconds_count{mode=\"full\"} 0\n");
    free(out);
    pa_metric_retain(c, keep_not_b, NULL);
    ck_assert(isnan(pa_metric_get(c, b)));
    ck_assert(pa_metric_get(c, a) == 0 && pa_metric_get(c, cc) == 0);
    pa_metric_add(c, cc, 2);
    pa_metric_add(c, b, 1); /* created again, in its sorted place */
    out = render(m);
    ck_assert(strstr(out, "pa_t_total{table=\"public.a\",column=\"x\"} 0\n"
                          "pa_t_total{table=\"public.b\",column=\"x\"} 1\n"
                          "pa_t_total{table=\"public.c\",column=\"x\"} 2\n") != NULL);
    free(out);
    pa_metrics_free(m);
}
END_TEST

/* ---- promtool --------------------------------------------------------------------------------------------- */

static const char *find_promtool(void)
{
    static const char *const paths[] = {"/usr/bin/promtool", "/usr/local/bin/promtool"};
    for (size_t i = 0; i < PA_ARRAY_LEN(paths); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

START_TEST(test_promtool)
{
    const char *promtool = find_promtool();
    if (!promtool) {
        fprintf(stderr, "test_metrics: promtool not installed (Debian package prometheus): promtool check skipped\n");
        return;
    }
    struct pa_metrics *m = pa_metrics_new();
    const char *l2[] = {"surface", "category"};
    const char *l1[] = {"reason"};
    struct pa_metric *c = pa_metrics_register(m, "pii_audit_findings_total", "Findings reported.", PA_METRIC_COUNTER, 2,
                                              l2, NULL, 0);
    struct pa_metric *scans = pa_metrics_register(m, "pii_audit_scans_total", "Scans run.", PA_METRIC_COUNTER, 0, NULL,
                                                  NULL, 0);
    struct pa_metric *g = pa_metrics_register(m, "pii_audit_open_findings", "Open findings \"now\"\\\nper surface.",
                                              PA_METRIC_GAUGE, 2, l2, NULL, 0);
    pa_metrics_register(m, "pii_audit_empty_errors", "Never set.", PA_METRIC_GAUGE, 1, l1, NULL, 0);
    struct pa_metric *ts = pa_metrics_register(m, "pii_audit_last_scan_timestamp_seconds", "Last scan end.",
                                               PA_METRIC_GAUGE, 0, NULL, NULL, 0);
    struct pa_metric *h = pa_metrics_register(m, "pii_audit_batch_duration_seconds", "Batch duration.",
                                              PA_METRIC_HISTOGRAM, 1, l1, (const double[]){0.005, 0.1, 1, 10}, 4);
    struct pa_metric *h0 = pa_metrics_register(m, "pii_audit_document_size_bytes", "Document size.",
                                               PA_METRIC_HISTOGRAM, 0, NULL, (const double[]){1024, 65536}, 2);
    pa_metric_add(c, (const char *[]){"public.users.\"data\"", "email"}, 3);
    pa_metric_add(c, (const char *[]){"a\\b\nc", "phone\xFF"}, 1);
    pa_metric_add(scans, NULL, 1);
    pa_metric_set(g, (const char *[]){"public.users.data", "email"}, 2);
    pa_metric_set(g, (const char *[]){"public.orders.meta", "iban"}, NAN);
    pa_metric_set(g, (const char *[]){"x", "y"}, -INFINITY);
    pa_metric_set(g, (const char *[]){"x", "z"}, 1e-300);
    pa_metric_set(ts, NULL, 1700000000.25);
    pa_metric_observe(h, (const char *[]){"ok"}, 0.02);
    pa_metric_observe(h, (const char *[]){"ok"}, 3);
    pa_metric_observe(h0, NULL, 100000);

    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render(m, &b);
    char path[] = "/tmp/pa_test_metrics.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s check metrics < %s 2>&1", promtool, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(path);
    ck_assert_msg(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == 0,
                  "promtool check metrics: status %d, output:\n%s\ninput:\n%s", status, out, b.data);
    pa_buf_free(&b);
    pa_metrics_free(m);
}
END_TEST

/* ---- misuse aborts (fork mode only) ----------------------------------------------------------------------- */

static struct pa_metrics *misuse_reg(void)
{
    struct pa_metrics *m = pa_metrics_new();
    pa_metrics_register(m, "pa_test_h", "H.", PA_METRIC_HISTOGRAM, 0, NULL, (const double[]){1}, 1);
    pa_metrics_register(m, "pa_test_g", "G.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
    return m;
}

START_TEST(die_counter_without_total)
{
    pa_metrics_register(misuse_reg(), "pa_test_events", "E.", PA_METRIC_COUNTER, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_gauge_with_total)
{
    pa_metrics_register(misuse_reg(), "pa_test_events_total", "E.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_gauge_with_count)
{
    pa_metrics_register(misuse_reg(), "pa_test_findings_count", "E.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_set_counter)
{
    struct pa_metric *c = pa_metrics_register(misuse_reg(), "pa_test_events_total", "E.", PA_METRIC_COUNTER, 0, NULL,
                                              NULL, 0);
    pa_metric_set(c, NULL, 1);
}
END_TEST

START_TEST(die_observe_gauge)
{
    struct pa_metric *g = pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
    pa_metric_observe(g, NULL, 1);
}
END_TEST

START_TEST(die_le_label)
{
    const char *l[] = {"le"};
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_HISTOGRAM, 1, l, NULL, 0);
}
END_TEST

START_TEST(die_duplicate)
{
    pa_metrics_register(misuse_reg(), "pa_test_g", "Again.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_histogram_clash)
{
    /* pa_test_h writes pa_test_h_sum */
    pa_metrics_register(misuse_reg(), "pa_test_h_sum", "Clash.", PA_METRIC_HISTOGRAM, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_process_clash)
{
    pa_metrics_register(misuse_reg(), "process_open_fds", "Mine.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_bad_name)
{
    pa_metrics_register(misuse_reg(), "pa-test", "E.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_digit_name)
{
    pa_metrics_register(misuse_reg(), "9lives", "E.", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_bad_label)
{
    const char *l[] = {"a:b"};
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_GAUGE, 1, l, NULL, 0);
}
END_TEST

START_TEST(die_reserved_label)
{
    const char *l[] = {"__name__"};
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_GAUGE, 1, l, NULL, 0);
}
END_TEST

START_TEST(die_duplicate_label)
{
    const char *l[] = {"a", "a"};
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_GAUGE, 2, l, NULL, 0);
}
END_TEST

START_TEST(die_buckets_not_increasing)
{
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_HISTOGRAM, 0, NULL, (const double[]){1, 1}, 2);
}
END_TEST

START_TEST(die_bucket_inf)
{
    pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_HISTOGRAM, 0, NULL, (const double[]){1, INFINITY},
                        2);
}
END_TEST

START_TEST(die_empty_help)
{
    pa_metrics_register(misuse_reg(), "pa_test_x", "", PA_METRIC_GAUGE, 0, NULL, NULL, 0);
}
END_TEST

START_TEST(die_null_label_value)
{
    const char *l[] = {"a"};
    struct pa_metric *g = pa_metrics_register(misuse_reg(), "pa_test_x", "E.", PA_METRIC_GAUGE, 1, l, NULL, 0);
    pa_metric_set(g, NULL, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gauge_no_labels);
    tcase_add_test(tc, test_counter_labels_sorted);
    tcase_add_test(tc, test_histogram);
    tcase_add_test(tc, test_histogram_no_buckets);
    tcase_add_test(tc, test_render_empty);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_c_locale_numbers);
    tcase_add_test(tc, test_clear_get);
    tcase_add_test(tc, test_counter_never_decreases);
    tcase_add_test(tc, test_many_series);
    tcase_add_test(tc, test_concurrent);
    tcase_add_test(tc, test_replace);
    tcase_add_test(tc, test_process_metrics);
    tcase_add_test(tc, test_proc_stat_parse);
    tcase_add_test(tc, test_process_start_time_injected);
    tcase_add_test(tc, test_touch_retain);
    tcase_add_test(tc, test_promtool);
    suite_add_tcase(s, tc);

    /* misuse aborts the process: only testable when Check forks (CK_FORK=no is for gdb and valgrind) */
    const char *fork_env = getenv("CK_FORK");
    if (fork_env && strcmp(fork_env, "no") == 0) {
        fprintf(stderr, "test_metrics: CK_FORK=no: misuse (abort) tests skipped\n");
    } else {
        TCase *td = tcase_create("misuse");
        tcase_add_test_raise_signal(td, die_counter_without_total, SIGABRT);
        tcase_add_test_raise_signal(td, die_gauge_with_total, SIGABRT);
        tcase_add_test_raise_signal(td, die_gauge_with_count, SIGABRT);
        tcase_add_test_raise_signal(td, die_set_counter, SIGABRT);
        tcase_add_test_raise_signal(td, die_observe_gauge, SIGABRT);
        tcase_add_test_raise_signal(td, die_le_label, SIGABRT);
        tcase_add_test_raise_signal(td, die_duplicate, SIGABRT);
        tcase_add_test_raise_signal(td, die_histogram_clash, SIGABRT);
        tcase_add_test_raise_signal(td, die_process_clash, SIGABRT);
        tcase_add_test_raise_signal(td, die_bad_name, SIGABRT);
        tcase_add_test_raise_signal(td, die_digit_name, SIGABRT);
        tcase_add_test_raise_signal(td, die_bad_label, SIGABRT);
        tcase_add_test_raise_signal(td, die_reserved_label, SIGABRT);
        tcase_add_test_raise_signal(td, die_duplicate_label, SIGABRT);
        tcase_add_test_raise_signal(td, die_buckets_not_increasing, SIGABRT);
        tcase_add_test_raise_signal(td, die_bucket_inf, SIGABRT);
        tcase_add_test_raise_signal(td, die_empty_help, SIGABRT);
        tcase_add_test_raise_signal(td, die_null_label_value, SIGABRT);
        suite_add_tcase(s, td);
    }

    return pa_test_run(s);
}
