/* Unit tests for guardrail: the shipped sql/guardrail.sql is exactly --print-guardrail-sql for etc/pii-auditd.yaml
 * (Layer 2 may not drift from the daemon's dictionary), and the generated SQL follows the configuration. The SQL's
 * behaviour is tested against PostgreSQL by tests/integration/guardrail.sh. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect.h"
#include "guardrail.h"

#include "testutil.h"

static const char *source_root(void)
{
    const char *r = getenv("PA_SOURCE_ROOT");
    return r && *r ? r : ".";
}

static char *read_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", source_root(), rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s (set PA_SOURCE_ROOT)", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *generate(const char *yaml)
{
    struct pa_config *cfg = NULL;
    char err[1024];
    int rc = pa_config_load_buffer("test.yaml", yaml, strlen(yaml), &cfg, err, sizeof err);
    ck_assert_msg(rc == 0, "config: %s", err);
    struct pa_detector *d = pa_detect_new(&cfg->detect, err, sizeof err);
    ck_assert_msg(d != NULL, "detector: %s", err);
    char *sql = pa_guardrail_sql(cfg, d, err, sizeof err);
    ck_assert_msg(sql != NULL, "guardrail: %s", err);
    pa_detect_free(d);
    pa_config_free(cfg);
    return sql;
}

START_TEST(test_shipped_sql_is_generated)
{
    char *yaml = read_file("etc/pii-auditd.yaml");
    char *want = generate(yaml);
    char *have = read_file("sql/guardrail.sql");
    if (strcmp(want, have) != 0) {
        size_t i = 0;
        while (want[i] && want[i] == have[i])
            i++;
        size_t line = 1;
        for (size_t k = 0; k < i; k++)
            line += want[k] == '\n';
        ck_abort_msg("sql/guardrail.sql differs from --print-guardrail-sql for etc/pii-auditd.yaml (first at line "
                     "%zu); regenerate it: build/pii-auditd --config etc/pii-auditd.yaml --print-guardrail-sql > "
                     "sql/guardrail.sql",
                     line);
    }
    free(yaml);
    free(want);
    free(have);
}
END_TEST

#define BASE                                                                                                           \
    "database:\n  conninfo: \"dbname=x\"\nsurfaces:\n  - table: public.events\n    column: payload\n"                  \
    "  - table: other.t\n    column: doc\n"

START_TEST(test_follows_config)
{
    char *sql = generate(BASE);
    ck_assert_ptr_nonnull(strstr(sql, "SELECT pii_guardrail.install('public', 'events', 'payload', false);\n"));
    ck_assert_ptr_nonnull(strstr(sql, "SELECT pii_guardrail.install('other', 't', 'doc', false);\n"));
    ck_assert_ptr_nonnull(strstr(sql, "NOT IN (('public', 'events', 'payload'), ('other', 't', 'doc'))"));
    ck_assert_ptr_nonnull(strstr(sql, "\"email_address\": \"email\""));
    ck_assert_ptr_nonnull(strstr(sql, "\"emailaddress\": \"email\"")); /* its alias: the words run together */
    ck_assert_ptr_nonnull(strstr(sql, "\"wallet_address\": \"-\""));   /* stop entry */
    ck_assert_ptr_null(strstr(sql, "\"walletaddress\""));              /* stop entries have no alias */
    ck_assert_ptr_nonnull(strstr(sql, "\"pan\": \"=credit_card\""));   /* whole key only */
    ck_assert_ptr_nonnull(strstr(sql, "RETURN false;"));               /* no ignore_keys */
    ck_assert_ptr_null(strstr(sql, "@"                                 /* every placeholder filled */
                                   "DICT@"));
    free(sql);

    sql = generate(BASE "guardrail:\n  nested_keys: true\ndetectors:\n  disable: [postal_code]\n"
                        "  extra_keys:\n    loyalty: [loyaltyCardNo]\n  ignore_keys: [support_email]\n"
                        "  patterns:\n    - name: emp\n      category: employee_id\n      regex: \"EMP-[0-9]{6}\"\n");
    ck_assert_ptr_nonnull(strstr(sql, "SELECT pii_guardrail.install('public', 'events', 'payload', true);\n"));
    ck_assert_ptr_nonnull(strstr(sql, "\"zip_code\": \"-\""));              /* disabled category */
    ck_assert_ptr_nonnull(strstr(sql, "\"loyalty_card_no\": \"loyalty\"")); /* extra key, custom category */
    ck_assert_ptr_nonnull(strstr(sql, "\"loyaltycardno\": \"loyalty\""));   /* and its alias */
    ck_assert_ptr_nonnull(strstr(sql, "= ANY (ARRAY['supportemail'])"));    /* ignore_keys, normalized */
    ck_assert_ptr_nonnull(strstr(sql, "['employee_id', 'EMP-[0-9]{6}']"));  /* custom pattern redacts keys */
    ck_assert_ptr_null(strstr(sql, "|edocpiz|"));                           /* not in the prefilter */
    ck_assert_ptr_nonnull(strstr(sql, "|liame|"));                          /* reversed entries */
    free(sql);
}
END_TEST

/* The prefilter's two edges: nothing can match (every category disabled), everything can (an entry of digits
 * only, which the prefilter sees without its trailing digits). */
START_TEST(test_prefilter_edges)
{
    char *sql = generate(BASE "detectors:\n  disable: [email, phone, national_id, person_name, ip_address, "
                              "street_address, date_of_birth, credit_card, iban, geolocation, device_id, mac_address, "
                              "postal_code]\n");
    ck_assert_ptr_nonnull(strstr(sql, "~ '(?n)^[crs]?[0-9]*(?:se|s)?(?:(?!))';\n"));
    ck_assert_ptr_nonnull(strstr(sql, " 0 of them matching keys;"));
    free(sql);
    sql = generate(BASE "detectors:\n  extra_keys: {badge: [\"007\"]}\n");
    ck_assert_ptr_nonnull(strstr(sql, "~ '(?n)^[crs]?[0-9]*(?:se|s)?(?:|)';\n"));
    ck_assert_ptr_nonnull(strstr(sql, "\"007\": \"badge\""));
    free(sql);
}
END_TEST

START_TEST(test_pattern_with_quote_tag)
{
    const char *yaml = BASE "detectors:\n  patterns:\n    - name: bad\n      category: x\n"
                            "      regex: \"a[$]pii_guardrail[$]\"\n";
    struct pa_config *cfg = NULL;
    char err[1024];
    ck_assert_int_eq(pa_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err), 0);
    /* The regex does not literally contain the tag: generation works. */
    struct pa_detector *d = pa_detect_new(&cfg->detect, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    char *sql = pa_guardrail_sql(cfg, d, err, sizeof err);
    ck_assert_ptr_nonnull(sql);
    free(sql);
    free(cfg->detect.patterns[0].regex);
    cfg->detect.patterns[0].regex = strdup("a$pii_guardrail$");
    ck_assert_ptr_null(pa_guardrail_sql(cfg, d, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "detectors.patterns \"bad\""));
    pa_detect_free(d);
    pa_config_free(cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guardrail");
    TCase *tc = tcase_create("sql");
    tcase_add_test(tc, test_shipped_sql_is_generated);
    tcase_add_test(tc, test_follows_config);
    tcase_add_test(tc, test_prefilter_edges);
    tcase_add_test(tc, test_pattern_with_quote_tag);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
