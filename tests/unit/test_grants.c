/* Unit tests for grants: the privilege table is what sql/roles.sql grants, statement for statement and in order
 * (to the scanner and to the operators' group role), so --print-grants, the permission hints and roles.sql cannot
 * drift apart; and the surface statements' words. */
#include "grants.h"

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    struct pa_buf b;
    pa_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pa_buf_append(&b, chunk, n);
    fclose(f);
    return b.data;
}

/* The GRANT statements of a SQL file (comments skipped, white space folded), each ending before its ';'. */
static size_t grants_of(const char *sql, char out[][256], size_t cap)
{
    size_t n = 0;
    for (const char *p = sql; *p;) {
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
            continue;
        }
        if (strncmp(p, "GRANT ", 6) != 0) {
            p++;
            continue;
        }
        ck_assert_uint_lt(n, cap);
        size_t k = 0;
        bool space = false;
        for (; *p && *p != ';'; p++) {
            if (isspace((unsigned char)*p)) {
                space = true;
                continue;
            }
            if (space && k)
                out[n][k++] = ' ';
            space = false;
            out[n][k++] = *p;
            ck_assert_uint_lt(k, 250);
        }
        out[n++][k] = '\0';
    }
    return n;
}

START_TEST(test_roles_sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sql/roles.sql", PA_SOURCE_ROOT);
    char *sql = read_file(path);
    char got[32][256];
    size_t n = grants_of(sql, got, 32);
    free(sql);
    ck_assert_uint_eq(n, pa_grants_n);
    struct pa_buf b;
    pa_buf_init(&b);
    for (size_t i = 0; i < pa_grants_n; i++) {
        pa_buf_truncate(&b, 0);
        pa_grant_statement(&b, &pa_grants[i], pa_grants[i].need == PA_GRANT_OPERATOR ? PA_OPERATOR_ROLE : "pii_auditd");
        ck_assert_str_eq(got[i], b.data);
    }
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_table)
{
    /* the findings schema first (its USAGE is the hint's first question), every object schema-qualified */
    ck_assert_str_eq(pa_grants[0].kind, "SCHEMA");
    ck_assert_str_eq(pa_grants[0].objects[0], "pii_audit");
    size_t daemon = 0;
    for (size_t i = 0; i < pa_grants_n; i++) {
        const struct pa_grant *g = &pa_grants[i];
        ck_assert_ptr_nonnull(g->privs[0]);
        ck_assert_ptr_nonnull(g->objects[0]);
        for (size_t o = 0; g->objects[o]; o++)
            ck_assert(strcmp(g->kind, "SCHEMA") == 0 || strchr(g->objects[o], '.') != NULL);
        if (g->need == PA_GRANT_DAEMON)
            for (size_t o = 0; g->objects[o]; o++)
                for (size_t k = 0; g->privs[k]; k++)
                    daemon++;
    }
    /* what the daemon needs on the findings schema, one privilege on one object at a time */
    ck_assert_uint_eq(
        daemon, 20); /* 16, + SELECT, INSERT, UPDATE on pii_audit.databases (002), + SELECT on the allowlist (004) */
    /* the scanner reads the allowlist and never writes it: a scanner's credentials cannot hide findings */
    bool reads_allowlist = false;
    for (size_t i = 0; i < pa_grants_n; i++) {
        const struct pa_grant *g = &pa_grants[i];
        for (size_t o = 0; g->objects[o]; o++) {
            if (strcmp(g->objects[o], "pii_audit.allowlist") != 0 || g->need == PA_GRANT_OPERATOR)
                continue;
            ck_assert_str_eq(g->privs[0], "SELECT");
            ck_assert_ptr_null(g->privs[1]);
            reads_allowlist = g->need == PA_GRANT_DAEMON;
        }
    }
    ck_assert(reads_allowlist);
    struct pa_buf b;
    pa_buf_init(&b);
    pa_grant_statement(&b, &pa_grants[2], "\"Role X\"");
    ck_assert_str_eq(b.data, "GRANT SELECT, INSERT, UPDATE ON pii_audit.scan_runs, pii_audit.scan_run_surfaces, "
                             "pii_audit.scan_cursors, pii_audit.findings TO \"Role X\"");
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_surface_statements)
{
    char s[256];
    snprintf(s, sizeof s, PA_GRANT_CONNECT_FMT, "appdb", "pii_auditd");
    ck_assert_str_eq(s, "GRANT CONNECT ON DATABASE appdb TO pii_auditd");
    snprintf(s, sizeof s, PA_GRANT_SCHEMA_USAGE_FMT, "app", "pii_auditd");
    ck_assert_str_eq(s, "GRANT USAGE ON SCHEMA app TO pii_auditd");
    snprintf(s, sizeof s, PA_GRANT_COLUMNS_FMT, "id, payload, ctid, xmin", "TABLE ", "app", "hooks", "pii_auditd");
    ck_assert_str_eq(s, "GRANT SELECT (id, payload, ctid, xmin) ON TABLE app.hooks TO pii_auditd");
    snprintf(s, sizeof s, PA_GRANT_COLUMNS_FMT, "id, payload", "", "app", "hooks", "pii_auditd");
    ck_assert_str_eq(s, "GRANT SELECT (id, payload) ON app.hooks TO pii_auditd");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("grants");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_roles_sql);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_surface_statements);
    suite_add_tcase(s, tc);
    return pa_test_run(s);
}
