/* Unit tests for log: the JSON line (log.format: json) field for field, its escaping (quotes, backslashes, control
 * characters, invalid UTF-8: always one valid JSON object per line), the optional SURFACE and SCAN_ID fields, and
 * pa_log_write in both formats on a real stderr (a temporary file), below and above the threshold. */
#include "log.h"
#include "util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char *json_line(enum pa_log_level level, const char *msg, const char *surface, long long scan_id)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_log_json_line(&b, level, msg, surface, scan_id, 1733600000123456LL, 4242);
    return b.data;
}

START_TEST(test_json_fields)
{
    char *l = json_line(PA_LOG_INFO, "scan 12 started (schedule, 3 surfaces)", "public.events.payload", 12);
    ck_assert_str_eq(l, "{\"__REALTIME_TIMESTAMP\":\"1733600000123456\",\"PRIORITY\":\"6\","
                        "\"SYSLOG_IDENTIFIER\":\"pii-auditd\",\"SYSLOG_PID\":\"4242\","
                        "\"SURFACE\":\"public.events.payload\",\"SCAN_ID\":\"12\","
                        "\"MESSAGE\":\"scan 12 started (schedule, 3 surfaces)\"}\n");
    free(l);
    /* no context: neither SURFACE nor SCAN_ID; priorities are syslog's, as in the journal */
    l = json_line(PA_LOG_ERROR, "x", NULL, 0);
    ck_assert_str_eq(l, "{\"__REALTIME_TIMESTAMP\":\"1733600000123456\",\"PRIORITY\":\"3\","
                        "\"SYSLOG_IDENTIFIER\":\"pii-auditd\",\"SYSLOG_PID\":\"4242\",\"MESSAGE\":\"x\"}\n");
    free(l);
    l = json_line(PA_LOG_WARN, "w", "", 7);
    ck_assert_ptr_nonnull(strstr(l, "\"PRIORITY\":\"4\""));
    ck_assert_ptr_null(strstr(l, "SURFACE"));
    ck_assert_ptr_nonnull(strstr(l, "\"SCAN_ID\":\"7\""));
    free(l);
    l = json_line(PA_LOG_DEBUG, "d", "s.t.c", 0);
    ck_assert_ptr_nonnull(strstr(l, "\"PRIORITY\":\"7\",\"SYSLOG_IDENTIFIER\":\"pii-auditd\",\"SYSLOG_PID\":\"4242\","
                                    "\"SURFACE\":\"s.t.c\",\"MESSAGE\":\"d\"}"));
    ck_assert_ptr_null(strstr(l, "SCAN_ID"));
    free(l);
}
END_TEST

START_TEST(test_json_escaping)
{
    /* a server message and a surface name with every character that needs care: one line, valid JSON */
    char *l = json_line(PA_LOG_WARN, "table \"My Schema\".\"t\\x\" said:\nline two\ttab\rcr \x01\x1f\x7f end",
                        "a\"b\\c\nd.t.c", 1);
    ck_assert_ptr_nonnull(strstr(l, "\"MESSAGE\":\"table \\\"My Schema\\\".\\\"t\\\\x\\\" said:\\nline two\\ttab\\rcr "
                                    "\\u0001\\u001f\\u007f end\""));
    ck_assert_ptr_nonnull(strstr(l, "\"SURFACE\":\"a\\\"b\\\\c\\nd.t.c\""));
    ck_assert_ptr_eq(strchr(l, '\n'), l + strlen(l) - 1); /* the only newline ends the line */
    free(l);
    /* invalid UTF-8 (a lone continuation byte, a truncated sequence, an overlong NUL): each byte that does not start
     * a well-formed sequence is U+FFFD, escaped (pa_buf_append_json_name); valid characters pass as they are */
    l = json_line(PA_LOG_INFO, "caf\xc3\xa9 \x80 \xe2\x82 \xc0\x80 \xf0\x9f\x94\x91", NULL, 0);
    ck_assert_ptr_nonnull(
        strstr(l, "\"MESSAGE\":\"caf\xc3\xa9 \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd \xf0\x9f\x94\x91\"}"));
    ck_assert(pa_utf8_valid(l, strlen(l)));
    free(l);
}
END_TEST

/* pa_log_write on stderr (a temporary file in its place): the format chosen, the threshold honoured */
static char *capture(enum pa_log_format format, enum pa_log_level threshold)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    pa_log_init(threshold);
    pa_log_set_format(format);
    pa_log_set_context("public.events.payload", 99);
    pa_info("read %d rows of %s", 5, "public.events.payload");
    pa_debug("below the threshold");
    pa_log_set_context(NULL, 0);
    pa_warn("quote \" here");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    pa_log_set_format(PA_LOG_FORMAT_TEXT);
    long n = ftell(tmp);
    char *out = calloc(1, (size_t)n + 1);
    rewind(tmp);
    ck_assert_uint_eq(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

START_TEST(test_write_formats)
{
    unsetenv("JOURNAL_STREAM");
    char *out = capture(PA_LOG_FORMAT_JSON, PA_LOG_INFO);
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert(strncmp(out, "{\"__REALTIME_TIMESTAMP\":\"", 25) == 0);
    ck_assert_ptr_nonnull(strstr(out, "\"SURFACE\":\"public.events.payload\",\"SCAN_ID\":\"99\","
                                      "\"MESSAGE\":\"read 5 rows of public.events.payload\"}\n{"));
    ck_assert_ptr_nonnull(strstr(nl + 1, "\"PRIORITY\":\"4\""));
    ck_assert_ptr_nonnull(strstr(nl + 1, "\"MESSAGE\":\"quote \\\" here\"}\n"));
    ck_assert_ptr_null(strstr(out, "below the threshold"));
    ck_assert_ptr_null(strstr(nl + 1, "SCAN_ID")); /* the context was cleared */
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    free(out);

    out = capture(PA_LOG_FORMAT_TEXT, PA_LOG_DEBUG);
    ck_assert_ptr_nonnull(strstr(out, " info: read 5 rows of public.events.payload\n"));
    ck_assert_ptr_nonnull(strstr(out, " debug: below the threshold\n"));
    ck_assert_ptr_nonnull(strstr(out, " warn: quote \" here\n"));
    ck_assert_ptr_null(strchr(out, '{'));
    free(out);
}
END_TEST

START_TEST(test_format_parse)
{
    ck_assert_int_eq(pa_log_format_parse("text"), PA_LOG_FORMAT_TEXT);
    ck_assert_int_eq(pa_log_format_parse("json"), PA_LOG_FORMAT_JSON);
    ck_assert_int_eq(pa_log_format_parse("JSON"), -1);
    ck_assert_int_eq(pa_log_format_parse(""), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_json_fields);
    tcase_add_test(tc, test_json_escaping);
    tcase_add_test(tc, test_write_formats);
    tcase_add_test(tc, test_format_parse);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
