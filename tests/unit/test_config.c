/* Unit tests for config: the sample loads, defaults come from the key table, every error class reports the right
 * file:line:col and key, a conninfo never leaks into an error, identifier quoting and folding, and the doc test
 * (every key of the table is in etc/pii-auditd.yaml and docs/configuration.md, whose key table is generated). */
#include "config.h"
#include "detect.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define CANARY "CANARY-9f8e7d6c"
#define DB "database:\n  conninfo: \"host=db user=app password=" CANARY "\"\n" /* lines 1-2 */
#define SURF "surfaces:\n  - {table: t, column: c}\n"                          /* 2 lines */

static char err[1024];

static const char *source_root(void)
{
    const char *r = getenv("PA_SOURCE_ROOT");
    if (r && *r)
        return r;
#ifdef PA_SOURCE_ROOT
    return PA_SOURCE_ROOT;
#else
    return ".";
#endif
}

static char *read_source_file(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", source_root(), rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s (set PA_SOURCE_ROOT)", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static int load(const char *yaml, struct pa_config **c)
{
    err[0] = '\0';
    return pa_config_load_buffer("test.yaml", yaml, strlen(yaml), c, err, sizeof err);
}

static struct pa_config *load_ok(const char *yaml)
{
    struct pa_config *c = NULL;
    int r = load(yaml, &c);
    ck_assert_msg(r == 0, "expected to load, got: %s", err);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* ------------------------------------------------------------------------------------------------------------- */

START_TEST(test_sample_loads)
{
    char *y = read_source_file("etc/pii-auditd.yaml");
    struct pa_config *c = NULL;
    int r = pa_config_load_buffer("etc/pii-auditd.yaml", y, strlen(y), &c, err, sizeof err);
    ck_assert_msg(r == 0, "sample does not load: %s", err);
    ck_assert_uint_eq(c->n_surfaces, 3);
    ck_assert_ptr_nonnull(pa_config_find_surface(c, "public.attribution_events.raw_payload"));
    ck_assert_ptr_nonnull(pa_config_find_surface(c, "public.dead_events.raw_payload"));
    ck_assert_ptr_nonnull(pa_config_find_surface(c, "public.revenue_ledger.metadata"));
    ck_assert_uint_eq(c->detect.n_patterns, 1);
    pa_config_free(c);
    free(y);

    /* and through the file API */
    char path[4096];
    snprintf(path, sizeof path, "%s/etc/pii-auditd.yaml", source_root());
    r = pa_config_load(path, &c, err, sizeof err);
    ck_assert_msg(r == 0, "%s", err);
    ck_assert_str_eq(c->path, path);
    pa_config_free(c);
}
END_TEST

START_TEST(test_defaults)
{
    struct pa_config *c = load_ok("database:\n  conninfo: dbname=x\nsurfaces:\n  - table: t\n    column: c\n");
    ck_assert_str_eq(c->path, "test.yaml");
    ck_assert_str_eq(c->db_conninfo, "dbname=x");
    ck_assert_ptr_null(c->db_password_file);
    ck_assert_ptr_null(c->findings_conninfo);
    ck_assert_ptr_null(c->findings_password_file);
    ck_assert_int_eq(c->batch_size, 5000);
    ck_assert(c->statement_timeout == 30);
    ck_assert(c->lock_timeout == 5);
    ck_assert(c->connect_timeout == 10);
    ck_assert_int_eq(c->max_rows_per_second, 0);
    ck_assert(c->full_scan_interval == 7 * 86400);
    ck_assert_uint_eq(c->detect.max_findings_per_record, 1000);
    ck_assert_uint_eq(c->detect.n_disable, 0);
    ck_assert_uint_eq(c->detect.n_extra_keys, 0);
    ck_assert_uint_eq(c->detect.n_ignore_keys, 0);
    ck_assert_uint_eq(c->detect.n_allow_paths, 0);
    ck_assert_uint_eq(c->detect.n_patterns, 0);
    ck_assert_uint_eq(c->n_surfaces, 1);
    const struct pa_surface *s = &c->surfaces[0];
    ck_assert_str_eq(s->schema, "public");
    ck_assert_str_eq(s->table, "t");
    ck_assert_str_eq(s->column, "c");
    ck_assert_ptr_null(s->id_column);
    ck_assert_ptr_null(s->changed_column);
    ck_assert(s->changed_overlap == 300);
    ck_assert_ptr_null(s->keyless);
    ck_assert_str_eq(s->name, "public.t.c");
    ck_assert_int_eq(s->line, 4);
    pa_config_free(c);

    /* the table's defaults agree with what was applied */
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].name, "scan.batch_size") == 0)
            ck_assert_str_eq(k[i].dflt, "5000");
}
END_TEST

START_TEST(test_full_example)
{
    /* the issue's example, verbatim apart from real values */
    struct pa_config *c = load_ok(
        "database:\n"
        "  conninfo: \"host=/var/run/postgresql dbname=app user=pii_auditd\"\n"
        "  password_file: /etc/pii-auditd/db-password\n"
        "findings:\n"
        "  conninfo: \"host=primary dbname=app\"\n"
        "  password_file: /etc/pii-auditd/findings-password\n"
        "scan:\n"
        "  batch_size: 5000\n"
        "  statement_timeout: 30s\n"
        "  lock_timeout: 5s\n"
        "  connect_timeout: 10s\n"
        "  max_rows_per_second: 0\n"
        "  full_scan_interval: 7d\n"
        "  max_findings_per_record: 1000\n"
        "surfaces:\n"
        "  - table: public.attribution_events\n"
        "    column: raw_payload\n"
        "    id_column: id\n"
        "  - table: public.revenue_ledger\n"
        "    column: metadata\n"
        "detectors:\n"
        "  disable: [postal_code]\n"
        "  extra_keys: {national_id: [employee_tax_ref, staff_tax_id], employee_id: [badge]}\n"
        "  ignore_keys: [support_email]\n"
        "  allow_paths: [\"public.revenue_ledger.metadata:$.merchant.contact.email\", "
        "\"revenue_ledger.metadata:$.items[*].email\"]\n"
        "  patterns:                        # custom value patterns\n"
        "    - {name: employee_id, category: employee_id, regex: \"EMP-[0-9]{6}\"}\n");
    ck_assert_str_eq(c->db_password_file, "/etc/pii-auditd/db-password");
    ck_assert_str_eq(c->findings_conninfo, "host=primary dbname=app");
    ck_assert_str_eq(c->findings_password_file, "/etc/pii-auditd/findings-password");
    ck_assert_uint_eq(c->n_surfaces, 2);
    ck_assert_str_eq(c->surfaces[0].id_column, "id");
    ck_assert_int_eq(c->surfaces[1].line, 19);
    ck_assert_uint_eq(c->detect.n_disable, 1);
    ck_assert_str_eq(c->detect.disable[0], "postal_code");
    ck_assert_uint_eq(c->detect.n_extra_keys, 3);
    ck_assert_str_eq(c->detect.extra_keys[0].category, "national_id");
    ck_assert_str_eq(c->detect.extra_keys[0].key, "employee_tax_ref");
    ck_assert_str_eq(c->detect.extra_keys[1].key, "staff_tax_id");
    ck_assert_str_eq(c->detect.extra_keys[2].category, "employee_id");
    ck_assert_str_eq(c->detect.extra_keys[2].key, "badge");
    ck_assert_str_eq(c->detect.ignore_keys[0], "support_email");
    ck_assert_uint_eq(c->detect.n_allow_paths, 2);
    ck_assert_str_eq(c->detect.allow_paths[0], "public.revenue_ledger.metadata:$.merchant.contact.email");
    /* canonical: table.column means public */
    ck_assert_str_eq(c->detect.allow_paths[1], "public.revenue_ledger.metadata:$.items[*].email");
    ck_assert_uint_eq(c->detect.n_patterns, 1);
    ck_assert_str_eq(c->detect.patterns[0].name, "employee_id");
    ck_assert_str_eq(c->detect.patterns[0].category, "employee_id");
    ck_assert_str_eq(c->detect.patterns[0].regex, "EMP-[0-9]{6}");
    pa_config_free(c);
}
END_TEST

START_TEST(test_values)
{
    struct pa_config *c = load_ok(DB "scan:\n  batch_size: \"250\"\n  statement_timeout: 1.5m\n  lock_timeout: 100ms\n"
                                     "  connect_timeout: 2\n  max_rows_per_second: 1000000000\n"
                                     "  full_scan_interval: 1m\n  max_findings_per_record: 0\n"
                                     "findings:\n" /* null section: all defaults */
                                     "detectors:\n" SURF);
    ck_assert_int_eq(c->batch_size, 250);
    ck_assert(c->statement_timeout == 90);
    ck_assert(c->lock_timeout > 0.0999 && c->lock_timeout < 0.1001);
    ck_assert(c->connect_timeout == 2);
    ck_assert_int_eq(c->max_rows_per_second, 1000000000);
    ck_assert(c->full_scan_interval == 60);
    ck_assert_uint_eq(c->detect.max_findings_per_record, 0);
    ck_assert_ptr_null(c->findings_conninfo);
    pa_config_free(c);

    /* null values mean "not set": defaults apply */
    c = load_ok(DB "scan:\n  batch_size:\n  lock_timeout: ~\n  connect_timeout: null\n" SURF);
    ck_assert_int_eq(c->batch_size, 5000);
    ck_assert(c->lock_timeout == 5);
    pa_config_free(c);

    /* block-style lists, comments, document markers */
    c = load_ok("---\n" DB "surfaces:\n- table: t\n  column: c\n"
                "detectors:\n  disable:\n    - email\n    - phone\n...\n");
    ck_assert_uint_eq(c->detect.n_disable, 2);
    ck_assert_str_eq(c->detect.disable[1], "phone");
    pa_config_free(c);
}
END_TEST

#define HASH1 "$2b$10$jznfU/g9kO/YDJGb1u5ppOfM2foeM2oqvowfrYI4WsXFYD.5hPHZC"
#define HASH2 "$2y$04$abcdefghijklmnopqrstuu5CmRbJQzu3EfGKz4cSTXqtAJY2hOp7a"

START_TEST(test_daemon_and_metrics)
{
    /* defaults */
    struct pa_config *c = load_ok(DB SURF);
    ck_assert(c->interval == 3600);
    ck_assert(c->jitter == -1); /* unset: 10% of scan.interval */
    ck_assert(c->initial_delay == 0);
    ck_assert_uint_eq(c->web.n_listen, 1);
    ck_assert_str_eq(c->web.listen[0], PA_DEFAULT_METRICS_LISTEN);
    ck_assert_str_eq(c->web.listen[0], "127.0.0.1:10187");
    ck_assert_ptr_null(c->web.tls_cert_file);
    ck_assert_ptr_null(c->web.tls_key_file);
    ck_assert_ptr_null(c->web.tls_client_ca_file);
    ck_assert_uint_eq(c->web.n_users, 0);
    ck_assert_int_eq(c->web.max_connections, 64);
    ck_assert(c->web.connection_timeout == 10);
    ck_assert(pa_config_jitter(c) == 360); /* unset: 10% of scan.interval */
    pa_config_free(c);

    /* everything set; one address may be a plain string */
    c = load_ok(DB SURF "scan: {interval: 15m, jitter: 0s, initial_delay: 1d}\n"
                        "metrics:\n"
                        "  listen: \":10187\"\n"
                        "  tls:\n"
                        "    cert_file: /etc/pii-auditd/tls/server.crt\n"
                        "    key_file: /etc/pii-auditd/tls/server.key\n"
                        "    client_ca_file: /etc/pii-auditd/tls/ca.crt\n"
                        "  basic_auth_users:\n"
                        "    prometheus: \"" HASH1 "\"\n"
                        "    \"grafana agent\": '" HASH2 "'\n"
                        "  max_connections: 10000\n"
                        "  connection_timeout: 5m\n");
    ck_assert(c->interval == 900);
    ck_assert(c->jitter == 0);
    ck_assert(c->initial_delay == 86400);
    ck_assert_uint_eq(c->web.n_listen, 1);
    ck_assert_str_eq(c->web.listen[0], ":10187");
    ck_assert_str_eq(c->web.tls_cert_file, "/etc/pii-auditd/tls/server.crt");
    ck_assert_str_eq(c->web.tls_key_file, "/etc/pii-auditd/tls/server.key");
    ck_assert_str_eq(c->web.tls_client_ca_file, "/etc/pii-auditd/tls/ca.crt");
    ck_assert_uint_eq(c->web.n_users, 2);
    ck_assert_str_eq(c->web.users[0].name, "prometheus");
    ck_assert_str_eq(c->web.users[0].hash, HASH1);
    ck_assert_str_eq(c->web.users[1].name, "grafana agent");
    ck_assert_str_eq(c->web.users[1].hash, HASH2);
    ck_assert_int_eq(c->web.max_connections, 10000);
    ck_assert(c->web.connection_timeout == 300);
    ck_assert(pa_config_jitter(c) == 0);
    pa_config_free(c);

    /* address forms; jitter just below the interval; a null metrics section is all defaults */
    c = load_ok(DB SURF "scan: {interval: 1m, jitter: 59s}\n"
                        "metrics:\n  listen:\n    - 127.0.0.1:10187\n    - \"[::1]:10187\"\n    - \"[::]:1\"\n"
                        "    - localhost:65535\n    - 0.0.0.0:80\n    - \":443\"\n    - db-1.example.com:10187\n");
    ck_assert(c->jitter == 59);
    ck_assert_uint_eq(c->web.n_listen, 7);
    ck_assert_str_eq(c->web.listen[1], "[::1]:10187");
    ck_assert_str_eq(c->web.listen[6], "db-1.example.com:10187");
    pa_config_free(c);
    c = load_ok(DB SURF "metrics:\n  tls:\n  basic_auth_users: {}\n");
    ck_assert_uint_eq(c->web.n_listen, 1);
    ck_assert_ptr_null(c->web.tls_cert_file);
    ck_assert_uint_eq(c->web.n_users, 0);
    pa_config_free(c);

    /* metrics.* need a restart, the schedule is reloadable */
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(k[i].name, "metrics", 7) == 0) {
            ck_assert_msg(!k[i].reloadable, "%s must need a restart", k[i].name);
            seen++;
        }
        if (strcmp(k[i].name, "scan.interval") == 0 || strcmp(k[i].name, "scan.jitter") == 0 ||
            strcmp(k[i].name, "scan.initial_delay") == 0) {
            ck_assert_msg(k[i].reloadable, "%s must be reloadable", k[i].name);
            seen++;
        }
        if (strcmp(k[i].name, "metrics.listen") == 0)
            ck_assert_str_eq(k[i].dflt, "[\"" PA_DEFAULT_METRICS_LISTEN "\"]");
        if (strcmp(k[i].name, "metrics.basic_auth_users") == 0)
            ck_assert_int_eq(k[i].type, PA_KEY_STRING_MAP);
    }
    ck_assert_int_eq(seen, 9 + 3);
}
END_TEST

START_TEST(test_identifiers)
{
    struct pa_config *c = load_ok(DB "surfaces:\n"
                                     "  - table: '\"My Schema\".\"Weird.Table\"'\n"
                                     "    column: '\"Raw \"\"JSON\"\"\"'\n"
                                     "    id_column: Event_ID\n"
                                     "  - table: Public.Events\n"
                                     "    column: PayLoad\n"
                                     "  - schema: '\"S p\"'\n"
                                     "    table: '\"T\"'\n"
                                     "    column: c$1\n"
                                     "  - table: tëst\n"
                                     "    column: _x\n");
    const struct pa_surface *s = &c->surfaces[0];
    ck_assert_str_eq(s->schema, "My Schema");
    ck_assert_str_eq(s->table, "Weird.Table");
    ck_assert_str_eq(s->column, "Raw \"JSON\"");
    ck_assert_str_eq(s->id_column, "event_id");
    ck_assert_str_eq(s->name, "My Schema.Weird.Table.Raw \"JSON\"");
    s = &c->surfaces[1];
    ck_assert_str_eq(s->schema, "public");
    ck_assert_str_eq(s->table, "events");
    ck_assert_str_eq(s->column, "payload");
    ck_assert_str_eq(s->name, "public.events.payload");
    s = &c->surfaces[2];
    ck_assert_str_eq(s->schema, "S p");
    ck_assert_str_eq(s->table, "T");
    ck_assert_str_eq(s->column, "c$1");
    s = &c->surfaces[3];
    ck_assert_str_eq(s->table, "tëst"); /* PostgreSQL folds ASCII only in UTF-8 */

    ck_assert_ptr_eq(pa_config_find_surface(c, "public.events.payload"), &c->surfaces[1]);
    ck_assert_ptr_eq(pa_config_find_surface(c, "events.payload"), &c->surfaces[1]);
    ck_assert_ptr_eq(pa_config_find_surface(c, "My Schema.Weird.Table.Raw \"JSON\""), &c->surfaces[0]);
    ck_assert_ptr_null(pa_config_find_surface(c, "public.Events.payload")); /* names are the folded ones */
    ck_assert_ptr_null(pa_config_find_surface(c, "other.events.payload"));
    ck_assert_ptr_null(pa_config_find_surface(c, "payload"));
    ck_assert_ptr_null(pa_config_find_surface(c, NULL));
    pa_config_free(c);

    /* 63 bytes is PostgreSQL's limit */
    char y[512];
    snprintf(y, sizeof y, DB "surfaces:\n  - {table: %s, column: c}\n",
             "a23456789012345678901234567890123456789012345678901234567890123");
    c = load_ok(y);
    ck_assert_uint_eq(strlen(c->surfaces[0].table), 63);
    pa_config_free(c);
}
END_TEST

/* ------------------------------------------------------------------------------------------------------------- */
/* Every error class: position, key, message; and the canary never appears. */

struct bad {
    const char *yaml;
    int line, col;
    const char *want1, *want2;
};

static const struct bad bad_cases[] = {
    /* YAML itself */
    {DB "scan: [a, b\n" SURF, 4, 9, "YAML syntax error: did not find expected ',' or ']'", "line 3, column 7"},
    {DB "scan:\n\tbatch_size: 5\n" SURF, 4, 1, "YAML syntax error", "tabs"},
    {DB "scan: &s {batch_size: 5}\n" SURF "detectors: *s\n", 6, 12, "YAML aliases (*name) are not supported", NULL},
    {DB "scan:\n  <<: {batch_size: 5}\n" SURF, 4, 3, "YAML merge keys (<<) are not supported", NULL},
    {DB "scan: {batch_size: !!int 5}\n" SURF, 3, 20, "YAML tags", NULL},
    {"- a\n- b\n", 1, 1, "the top level must be a mapping", "got a list"},
    {"hello\n", 1, 1, "the top level must be a mapping", "got a single value"},
    {"", 1, 1, "the configuration is empty", NULL},
    {"# only a comment\n\n", 1, 1, "the configuration is empty", NULL},
    {"---\n", 1, 1, "the configuration is empty", NULL},
    {DB SURF "---\nscan: {}\n", 5, 1, "a second YAML document", NULL},
    {DB "scan: {batch_size: \"5\\0\"}\n" SURF, 3, 20, "NUL character", NULL},
    {DB "scan: {batch_size: 5}\n" SURF "# caf\xc3\n", 6, 7, "invalid input", "UTF-8"},
    {DB "? [a]\n: b\n" SURF, 3, 3, "keys must be plain names", "got a list"},
    {DB "x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n" SURF, 3, 36,
     "nested more than 32 levels", NULL},
    /* keys */
    {DB "scan:\n  batch_sise: 5\n" SURF, 4, 3, "unknown key \"batch_sise\" in scan (did you mean \"batch_size\"?)",
     NULL},
    {DB SURF "frobnicate: 1\n", 5, 1, "unknown key \"frobnicate\" at the top level",
     "expected one of database, findings, scan, surfaces, detectors"},
    {DB "batch_size: 5\n" SURF, 3, 1, "unknown key \"batch_size\" at the top level", "did you mean scan.batch_size?"},
    {DB "scan:\n  batch_size: 5\n  batch_size: 6\n" SURF, 5, 3, "duplicate key \"batch_size\" in scan",
     "first set at line 4"},
    {DB SURF "database:\n  conninfo: x\n", 5, 1, "duplicate key \"database\" at the top level", "line 1"},
    {DB "scan: [1]\n" SURF, 3, 7, "scan: expected a mapping", "got a list"},
    /* integers */
    {DB "scan: {batch_size: lots}\n" SURF, 3, 20, "scan.batch_size: expected an integer between 1 and 1000000",
     "got \"lots\""},
    {DB "scan: {batch_size: 0}\n" SURF, 3, 20, "scan.batch_size: expected an integer between 1 and 1000000",
     "got \"0\""},
    {DB "scan: {batch_size: 1000001}\n" SURF, 3, 20, "scan.batch_size: expected an integer", "got \"1000001\""},
    {DB "scan: {batch_size: 0x10}\n" SURF, 3, 20, "scan.batch_size: expected an integer", "got \"0x10\""},
    {DB "scan: {batch_size: 010}\n" SURF, 3, 20, "scan.batch_size: expected an integer", "got \"010\""},
    {DB "scan: {batch_size: 99999999999999999999999}\n" SURF, 3, 20, "scan.batch_size: expected an integer", NULL},
    {DB "scan: {batch_size: [1]}\n" SURF, 3, 20, "scan.batch_size: expected an integer", "got a list"},
    {DB "scan: {max_rows_per_second: -1}\n" SURF, 3, 29,
     "scan.max_rows_per_second: expected an integer between 0 "
     "and 1000000000",
     "got \"-1\""},
    {DB "scan:\n  max_findings_per_record: 2000000\n" SURF, 4, 28,
     "scan.max_findings_per_record: expected an "
     "integer between 0 and 1000000",
     NULL},
    /* durations */
    {DB "scan: {statement_timeout: soon}\n" SURF, 3, 27,
     "scan.statement_timeout: expected a duration such as 30s, 15m, 1h or 7d", "got \"soon\""},
    {DB "scan: {statement_timeout: 2h}\n" SURF, 3, 27, "scan.statement_timeout: expected a duration between 1s and 1h",
     "got \"2h\""},
    {DB "scan: {lock_timeout: 50ms}\n" SURF, 3, 22, "scan.lock_timeout: expected a duration between 100ms and 10m",
     NULL},
    {DB "scan: {connect_timeout: 1s}\n" SURF, 3, 25, "scan.connect_timeout: expected a duration between 2s and 10m",
     NULL},
    {DB "scan: {full_scan_interval: 30s}\n" SURF, 3, 28,
     "scan.full_scan_interval: expected a duration between 1m "
     "and 365d",
     NULL},
    {DB "scan: {full_scan_interval: \"5 s\"}\n" SURF, 3, 28, "scan.full_scan_interval: expected a duration such as",
     NULL},
    {DB "scan: {lock_timeout: {a: 1}}\n" SURF, 3, 22, "scan.lock_timeout: expected a duration", "got a mapping"},
    /* the daemon's schedule */
    {DB "scan: {interval: 30s}\n" SURF, 3, 18, "scan.interval: expected a duration between 1m and 30d", NULL},
    {DB "scan: {interval: 31d}\n" SURF, 3, 18, "scan.interval: expected a duration between 1m and 30d", NULL},
    {DB "scan: {initial_delay: 2d}\n" SURF, 3, 23, "scan.initial_delay: expected a duration between 0s and 1d", NULL},
    {DB "scan: {initial_delay: -1s}\n" SURF, 3, 23, "scan.initial_delay: expected a duration such as", NULL},
    {DB "scan: {jitter: 10m, interval: 10m}\n" SURF, 3, 16,
     "scan.jitter: expected a duration less than "
     "scan.interval (10m), got 10m",
     "leave it unset for 10% of scan.interval"},
    {DB "scan: {jitter: 2h}\n" SURF, 3, 16, "scan.jitter: expected a duration less than scan.interval (1h)", NULL},
    {DB "scan: {jitter: soon}\n" SURF, 3, 16, "scan.jitter: expected a duration such as", NULL},
    /* metrics */
    {DB SURF "metrics: {listen: \"127.0.0.1\"}\n", 5, 19,
     "metrics.listen: expected host:port, [ipv6]:port or :port "
     "such as \"127.0.0.1:10187\", got \"127.0.0.1\"",
     "missing :port"},
    {DB SURF "metrics: {listen: \"::1:10187\"}\n", 5, 19, "metrics.listen: expected host:port",
     "an IPv6 address must be in brackets, such as \"[::1]:10187\""},
    {DB SURF "metrics: {listen: \"[::1:10187\"}\n", 5, 19, "metrics.listen: expected host:port", "missing ]"},
    {DB SURF "metrics: {listen: \"[::1]10187\"}\n", 5, 19, "metrics.listen: expected host:port",
     "missing :port after ]"},
    {DB SURF "metrics: {listen: \"[fe80::zz]:1\"}\n", 5, 19, "metrics.listen: expected host:port",
     "invalid IPv6 address"},
    {DB SURF "metrics: {listen: \"1.2.3.256:10187\"}\n", 5, 19, "metrics.listen: expected host:port",
     "invalid IPv4 address"},
    {DB SURF "metrics: {listen: \":0\"}\n", 5, 19, "metrics.listen: expected host:port", "from 1 to 65535"},
    {DB SURF "metrics: {listen: \":65536\"}\n", 5, 19, "metrics.listen: expected host:port", "from 1 to 65535"},
    {DB SURF "metrics: {listen: \"h:80x\"}\n", 5, 19, "metrics.listen: expected host:port", "from 1 to 65535"},
    {DB SURF "metrics: {listen: \"my_host:80\"}\n", 5, 19, "metrics.listen: expected host:port", "a host name"},
    {DB SURF "metrics: {listen: \"\"}\n", 5, 19, "metrics.listen: must not be empty", NULL},
    {DB SURF "metrics: {listen: []}\n", 5, 19, "metrics.listen: expected at least one address",
     "the default \"127.0.0.1:10187\""},
    {DB SURF "metrics: {listen: {a: 1}}\n", 5, 19, "metrics.listen: expected an address or a list", "got a mapping"},
    {DB SURF "metrics: {listen: [\":1\", x]}\n", 5, 26, "metrics.listen[1]: expected host:port", "got \"x\""},
    {DB SURF "metrics: {listen: [\":1\", \":2\", \":1\"]}\n", 5, 32, "metrics.listen[2]: duplicate address \":1\"",
     "also metrics.listen[0]"},
    {DB SURF "metrics: {listn: \":1\"}\n", 5, 11, "unknown key \"listn\" in metrics (did you mean \"listen\"?)", NULL},
    {DB SURF "metrics: {max_connections: 0}\n", 5, 28,
     "metrics.max_connections: expected an integer between 1 and "
     "10000",
     NULL},
    {DB SURF "metrics: {max_connections: 10001}\n", 5, 28, "metrics.max_connections: expected an integer", NULL},
    {DB SURF "metrics: {connection_timeout: 500ms}\n", 5, 31,
     "metrics.connection_timeout: expected a duration "
     "between 1s and 5m",
     NULL},
    {DB SURF "metrics: {connection_timeout: 6m}\n", 5, 31, "metrics.connection_timeout: expected a duration", NULL},
    {DB SURF "metrics:\n  tls: {cert_file: /c.pem}\n", 6, 20,
     "metrics.tls.cert_file: set without "
     "metrics.tls.key_file: set both (HTTPS) or neither (plain HTTP)",
     NULL},
    {DB SURF "metrics:\n  tls: {key_file: /k.pem}\n", 6, 19, "metrics.tls.key_file: set without metrics.tls.cert_file",
     NULL},
    {DB SURF "metrics:\n  tls: {client_ca_file: /ca.pem}\n", 6, 25,
     "metrics.tls.client_ca_file: client certificates "
     "need HTTPS",
     NULL},
    {DB SURF "metrics:\n  tls: {cert_file: [a]}\n", 6, 20, "metrics.tls.cert_file: expected a file path", NULL},
    {DB SURF "metrics:\n  tls: /c.pem\n", 6, 8, "metrics.tls: expected a mapping", NULL},
    {DB SURF "metrics:\n  basic_auth_users:\n    prometheus: " CANARY "\n", 7, 17,
     "metrics.basic_auth_users.prometheus: expected a bcrypt hash (60 characters starting with $2a$, $2b$ or $2y$",
     "got something else (not shown)"},
    {DB SURF "metrics:\n  basic_auth_users:\n    p: \"$2b$10$" CANARY "\"\n", 7, 8,
     "metrics.basic_auth_users.p: expected a bcrypt hash", "htpasswd -nbBC 10"},
    {DB SURF "metrics:\n  basic_auth_users:\n    p: \"$2x$10$jznfU/g9kO/YDJGb1u5ppOfM2foeM2oqvowfrYI4WsXFYD.5hPHZC\"\n",
     7, 8, "metrics.basic_auth_users.p: expected a bcrypt hash", NULL},
    {DB SURF "metrics:\n  basic_auth_users:\n    p: \"$2b$10$jznfU/g9kO/YDJGb1u5ppOfM2foeM2oqvowfrYI4WsXFYD.5hPH!C\"\n",
     7, 8, "metrics.basic_auth_users.p: expected a bcrypt hash", NULL},
    {DB SURF "metrics:\n  basic_auth_users:\n    p: [a]\n", 7, 8, "metrics.basic_auth_users.p: expected a bcrypt hash",
     "got a list"},
    {DB SURF "metrics:\n  basic_auth_users:\n    \"a:b\": x\n", 7, 5,
     "metrics.basic_auth_users: user name \"a:b\" "
     "must be 1 to 64 characters without a colon",
     NULL},
    {DB SURF "metrics:\n  basic_auth_users: [a]\n", 6, 21,
     "metrics.basic_auth_users: expected a mapping of user: "
     "bcrypt hash",
     "got a list"},
    {DB SURF "metrics:\n  basic_auth_users: {a: x, a: y}\n", 6, 28, "duplicate key \"a\" in metrics.basic_auth_users",
     NULL},
    /* database / findings */
    {SURF, 1, 1, "missing required top-level key \"database\"", NULL},
    {"database: {}\n" SURF, 1, 11, "database: missing required key \"conninfo\"", NULL},
    {"database:\n  conninfo:\n" SURF, 2, 12, "database.conninfo: a value is required here", NULL},
    {"database:\n" SURF, 1, 10, "database: a value is required here", NULL},
    {"database:\n  conninfo: \"\"\n" SURF, 2, 13, "database.conninfo: must not be empty", NULL},
    {"database:\n  conninfo: [\"password=" CANARY "\"]\n" SURF, 2, 13, "database.conninfo: expected a string",
     "got a list"},
    {"database:\n  conninfo: {password: " CANARY "}\n" SURF, 2, 13, "database.conninfo: expected a string",
     "got a mapping"},
    {"database: \"host=x password=" CANARY "\"\n" SURF, 1, 11, "database: expected a mapping", "got a single value"},
    {"database:\n  conninfo: \"host=x password=" CANARY "\\q\"\n" SURF, 2, 45, "YAML syntax error", NULL},
    {"database:\n  conninfo: \"host=x password=" CANARY "\n" SURF, 5, 1, "YAML syntax error", NULL},
    {"database:\n  conninfo: host=x\n  \"password=" CANARY "\": 1\n" SURF, 3, 3, "unknown key (not shown) in database",
     "expected one of conninfo, password_file"},
    {"database:\n  conninfo: host=x\n  conninf: password=" CANARY "\n" SURF, 3, 3,
     "unknown key \"conninf\" in "
     "database (did you mean \"conninfo\"?)",
     NULL},
    {DB "  conninfo: \"password=" CANARY "\"\n" SURF, 3, 3, "duplicate key \"conninfo\" in database", NULL},
    {DB "findings: {conninfo: [password=" CANARY "]}\n" SURF, 3, 22, "findings.conninfo: expected a string", NULL},
    {DB "findings: {password_file: /x}\n" SURF, 3, 27, "findings.password_file: set without findings.conninfo", NULL},
    {"database:\n  conninfo: x\n  password_file: \"\"\n" SURF, 3, 18, "database.password_file: must not be empty",
     NULL},
    {"database:\n  conninfo: x\n  password_file: [a]\n" SURF, 3, 18, "database.password_file: expected a file path",
     NULL},
    /* surfaces */
    {DB, 1, 1, "missing required top-level key \"surfaces\"", NULL},
    {DB "surfaces: []\n", 3, 11, "surfaces: at least one surface is required", NULL},
    {DB "surfaces: {table: t}\n", 3, 11, "surfaces: expected a list of surfaces", "got a mapping"},
    {DB "surfaces:\n  - public.t.c\n", 4, 5, "surfaces[0]: expected a mapping with table and column",
     "got \"public.t.c\""},
    {DB "surfaces:\n  - table: t\n", 4, 5, "surfaces[0]: missing required key \"column\"", NULL},
    {DB "surfaces:\n  - {table: t, column: c}\n  - column: c\n", 5, 5, "surfaces[1]: missing required key \"table\"",
     NULL},
    {DB "surfaces:\n  - {table: t, colum: c}\n", 4, 16,
     "unknown key \"colum\" in surfaces[0] (did you mean "
     "\"column\"?)",
     NULL},
    {DB "surfaces:\n  - {table: t, column: c}\n  - {table: public.T, column: C}\n", 5, 5,
     "surfaces[1]: duplicate surface \"public.t.c\"", "surfaces[0] at line 4"},
    {DB "surfaces:\n  - {table: x, column: c}\n  - {schema: public, table: t, column: c}\n  - {table: t, column: c}\n",
     6, 5, "surfaces[2]: duplicate surface \"public.t.c\"", "surfaces[1] at line 5"},
    {DB "surfaces:\n  - {table: '\"My Schema.t', column: c}\n", 4, 13, "surfaces[0].table: invalid table name",
     "unterminated quoted identifier"},
    {DB "surfaces:\n  - {table: '\"\"', column: c}\n", 4, 13, "surfaces[0].table: invalid table name",
     "cannot be empty"},
    {DB "surfaces:\n  - {table: db.s.t, column: c}\n", 4, 13, "surfaces[0].table: invalid table name \"db.s.t\"",
     "expected table or schema.table"},
    {DB "surfaces:\n  - {table: t, column: a.b}\n", 4, 24, "surfaces[0].column: invalid name \"a.b\"",
     "expected one name"},
    {DB "surfaces:\n  - {table: 1abc, column: c}\n", 4, 13, "surfaces[0].table: invalid table name", "digit"},
    {DB "surfaces:\n  - {table: t, column: c, id_column: my id}\n", 4, 38, "surfaces[0].id_column: invalid name",
     "quote names with spaces"},
    {DB "surfaces:\n  - {table: a..b, column: c}\n", 4, 13, "surfaces[0].table", "name part is empty"},
    {DB "surfaces:\n  - {table: t, column: c, keyless: rowid}\n", 4, 36,
     "surfaces[0].keyless: the only keyless mode "
     "is ctid",
     NULL},
    {DB "surfaces:\n  - {table: t, column: c, keyless: ctid, id_column: i}\n", 4, 5,
     "surfaces[0]: keyless: ctid "
     "reads the table by row location",
     "remove id_column"},
    {DB "surfaces:\n  - {table: t, column: c, keyless: ctid, changed_column: u}\n", 4, 5,
     "surfaces[0]: keyless: "
     "ctid",
     "remove changed_column"},
    {DB "surfaces:\n  - {table: t, column: c, changed_overlap: 2d}\n", 4, 44, "surfaces[0].changed_overlap", NULL},
    {DB "surfaces:\n  - {table: s., column: c}\n", 4, 13, "surfaces[0].table", "name part is empty"},
    {DB "surfaces:\n  - {table: '\"a\"b', column: c}\n", 4, 13, "surfaces[0].table", "after a quoted name"},
    {DB "surfaces:\n  - {table: t, column: a234567890123456789012345678901234567890123456789012345678901234}\n", 4, 24,
     "surfaces[0].column", "longer than 63 bytes"},
    {DB "surfaces:\n  - {table: a.t, schema: b, column: c}\n", 4, 26,
     "surfaces[0].schema: the table name is already "
     "schema-qualified",
     NULL},
    {DB "surfaces:\n  - {schema: b, table: a.t, column: c}\n", 4, 24,
     "surfaces[0].table: the table name is "
     "schema-qualified and schema is set too",
     NULL},
    /* fuzz regression: a newline inside a quoted identifier used to reach an error line verbatim */
    {DB "surfaces:\n  - {table: \"\\\"a\\nb\\\"\", column: c}\n", 4, 13, "surfaces[0].table: invalid table name",
     "control character"},
    {DB "surfaces:\n  - {table: '\"A b\"', column: c}\ndetectors: {allow_paths: [\"x.y:$\"]}\n", 5, 27,
     "detectors.allow_paths[0]: surface \"x.y\" is not configured", "(configured: \"public.A b.c\")"},
    /* detectors */
    {DB SURF "detectors: {disable: [emial]}\n", 5, 23,
     "detectors.disable[0]: unknown category \"emial\" (did you "
     "mean \"email\"?)",
     "built-in categories are: email, phone"},
    {DB SURF "detectors: {disable: email}\n", 5, 22, "detectors.disable: expected a list of strings", "got \"email\""},
    {DB SURF "detectors:\n  disable:\n    - email\n    - {a: 1}\n", 8, 7, "detectors.disable[1]: expected a string",
     "got a mapping"},
    {DB SURF "detectors: {extra_keys: {National-ID: [x]}}\n", 5, 26, "detectors.extra_keys: category \"National-ID\"",
     "lower-case letters"},
    {DB SURF "detectors: {extra_keys: {national_id: tax_ref}}\n", 5, 39,
     "detectors.extra_keys.national_id: "
     "expected a list of key names",
     "got \"tax_ref\""},
    {DB SURF "detectors:\n  extra_keys:\n    a: [x]\n    b: [y]\n    a: [z]\n", 9, 5,
     "duplicate key \"a\" in "
     "detectors.extra_keys",
     "first set at line 7"},
    {DB SURF "detectors: {extra_keys: [national_id]}\n", 5, 25, "detectors.extra_keys: expected a mapping", NULL},
    {DB SURF "detectors: {extra_keys: {national_id: [\"\"]}}\n", 5, 40,
     "detectors.extra_keys.national_id[0]: "
     "expected a key name",
     NULL},
    {DB SURF "detectors: {ignore_keys: [a, \"\"]}\n", 5, 30, "detectors.ignore_keys[1]: must not be empty", NULL},
    {DB SURF "detectors: {allow_paths: [\"public.t.c:merchant.email\"]}\n", 5, 27,
     "detectors.allow_paths[0]: "
     "expected \"schema.table.column:$.json.path\"",
     NULL},
    {DB SURF "detectors: {allow_paths: [\"public.t.c:$.a..b\"]}\n", 5, 27,
     "detectors.allow_paths[0]: invalid JSON "
     "path",
     "member name"},
    {DB SURF "detectors: {allow_paths: [\"public.t.c:$[\\\"merchant\\\"]\"]}\n", 5, 27, "detectors.allow_paths[0]",
     "is written .name"},
    {DB SURF "detectors: {allow_paths: [\"public.t.c:$.a[01]\"]}\n", 5, 27, "detectors.allow_paths[0]",
     "leading zeros"},
    {DB SURF "detectors: {allow_paths: [\"public.x.c:$.merchant.email\"]}\n", 5, 27,
     "detectors.allow_paths[0]: "
     "surface \"public.x.c\" is not configured",
     "(configured: \"public.t.c\")"},
    {DB SURF "detectors:\n  patterns:\n    - {name: a, category: b}\n", 7, 7,
     "detectors.patterns[0]: missing "
     "required key \"regex\"",
     NULL},
    {DB SURF "detectors:\n  patterns:\n    - {name: Employee-ID, category: b, regex: x}\n", 7, 14,
     "detectors.patterns[0].name: expected a name of lower-case letters", NULL},
    {DB SURF "detectors:\n  patterns:\n    - {name: a, category: B C, regex: x}\n", 7, 27,
     "detectors.patterns[0].category: expected a category name", NULL},
    {DB SURF "detectors:\n  patterns:\n    - {name: a, category: b, regex: x}\n    - {name: a, category: c, regex: "
             "y}\n",
     8, 14, "detectors.patterns[1].name: duplicate pattern name \"a\"", "detectors.patterns[0] at line 7"},
    {DB SURF "detectors:\n  patterns:\n    - a\n", 7, 7, "detectors.patterns[0]: expected a mapping", NULL},
    {DB SURF "detectors:\n  patterns:\n    - {name: a, category: b, regexp: x}\n", 7, 30,
     "unknown key \"regexp\" in "
     "detectors.patterns[0] (did you mean \"regex\"?)",
     NULL},
    {DB SURF "detectors:\n  patterns: {name: a}\n", 6, 13, "detectors.patterns: expected a list of patterns", NULL},
};

START_TEST(test_bad)
{
    const struct bad *b = &bad_cases[_i];
    struct pa_config *c = (struct pa_config *)1;
    int r = load(b->yaml, &c);
    ck_assert_msg(r == -1, "case %d loaded but should fail", _i);
    ck_assert_ptr_null(c);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "test.yaml:%d:%d: ", b->line, b->col);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "case %d: want position %s got: %s", _i, prefix, err);
    ck_assert_msg(strstr(err, b->want1) != NULL, "case %d: want \"%s\" in: %s", _i, b->want1, err);
    ck_assert_msg(!b->want2 || strstr(err, b->want2) != NULL, "case %d: want \"%s\" in: %s", _i, b->want2, err);
    ck_assert_msg(strstr(err, CANARY) == NULL && strstr(err, "password=") == NULL, "case %d leaks: %s", _i, err);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: multi-line error: %s", _i, err);
    ck_assert_msg(strlen(err) < sizeof err - 1, "case %d: error truncated: %s", _i, err);
}
END_TEST

START_TEST(test_bad_regex)
{
    /* Hyperscan rejects backreferences. Only meaningful once detect.c has the real check: skipped with a stub. */
    char msg[256] = "";
    if (pa_detect_check_regex("(a)\\1", msg, sizeof msg) != -1) {
        fprintf(stderr, "test_bad_regex: pa_detect_check_regex accepts a backreference (stub?): skipped\n");
        return;
    }
    struct pa_config *c = NULL;
    int r = load(DB SURF "detectors:\n  patterns:\n    - name: emp\n      category: employee_id\n"
                         "      regex: '(a)\\1'\n",
                 &c);
    ck_assert_int_eq(r, -1);
    char want[512];
    snprintf(want, sizeof want, "test.yaml:9:14: detectors.patterns[0].regex: pattern \"emp\": %s", msg);
    ck_assert_str_eq(err, want);
    ck_assert_ptr_null(strstr(err, CANARY));
}
END_TEST

START_TEST(test_secrets_never_shown)
{
    /* a conninfo holding a password loads (it is only ever handed to libpq) */
    struct pa_config *c = load_ok(DB "findings:\n  conninfo: \"password=" CANARY "2\"\n" SURF);
    pa_config_free(c);

    /* an error in any key after the conninfo, at any length of conninfo, never quotes it */
    char y[4096];
    for (int len = 1; len < 120; len += 7) {
        char conn[200];
        snprintf(conn, sizeof conn, "password=%.*s", len, CANARY CANARY CANARY CANARY CANARY CANARY CANARY CANARY);
        snprintf(y, sizeof y, "database:\n  conninfo: %s\n  conninfo: %s\n" SURF, conn, conn);
        c = NULL;
        ck_assert_int_eq(load(y, &c), -1);
        ck_assert_ptr_null(strstr(err, "CANARY"));
        snprintf(y, sizeof y, "database:\n  conninfo: '%s\n" SURF, conn);
        ck_assert_int_eq(load(y, &c), -1);
        ck_assert_ptr_null(strstr(err, "CANARY"));
        snprintf(y, sizeof y, "database:\n  conninfo:\n    %s: 1\n" SURF, conn);
        ck_assert_int_eq(load(y, &c), -1);
        ck_assert_ptr_null(strstr(err, "CANARY"));
        snprintf(y, sizeof y, "database:\n  %s\n" SURF, conn);
        ck_assert_int_eq(load(y, &c), -1);
        ck_assert_ptr_null(strstr(err, "CANARY"));
    }
}
END_TEST

START_TEST(test_echo_truncated)
{
    struct pa_config *c = NULL;
    ck_assert_int_eq(load(DB "scan: {batch_size: "
                             "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffff}\n" SURF,
                          &c),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "got \"aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd\"..."));
    ck_assert_ptr_null(strstr(err, "eeee"));
    /* control characters are escaped, a multi-byte character is not cut */
    ck_assert_int_eq(load(DB "scan: {batch_size: \"a\\tb\"}\n" SURF, &c), -1);
    ck_assert_ptr_nonnull(strstr(err, "got \"a\\x09b\""));
    ck_assert_int_eq(load(DB "scan: {batch_size: aaaaaaaaaabbbbbbbbbbccccccccccddddddddd\xc3\xa9xx}\n" SURF, &c), -1);
    ck_assert_ptr_nonnull(strstr(err, "got \"aaaaaaaaaabbbbbbbbbbccccccccccddddddddd\"..."));
}
END_TEST

START_TEST(test_files_and_limits)
{
    struct pa_config *c = (struct pa_config *)1;
    ck_assert_int_eq(pa_config_load("/nonexistent/pii-auditd.yaml", &c, err, sizeof err), -1);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(err, "cannot read /nonexistent/pii-auditd.yaml: No such file or directory");
    ck_assert_int_eq(pa_config_load("/", &c, err, sizeof err), -1);
    ck_assert_str_eq(err, "cannot read /: Is a directory");

    /* 1 MiB is fine, one byte more is not */
    size_t lim = 1024 * 1024;
    char *big = malloc(lim + 2);
    const char *cfg = DB SURF;
    memset(big, '#', lim + 1);
    memcpy(big, cfg, strlen(cfg));
    big[lim - 1] = '\n';
    big[lim] = '#';
    big[lim + 1] = '\0';
    ck_assert_int_eq(pa_config_load_buffer("big.yaml", big, lim, &c, err, sizeof err), 0);
    pa_config_free(c);
    ck_assert_int_eq(pa_config_load_buffer("big.yaml", big, lim + 1, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "big.yaml: the configuration is 1048577 bytes, more than the limit of 1 MiB"));

    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, big, lim), (ssize_t)lim);
    ck_assert_int_eq(pa_config_load(path, &c, err, sizeof err), 0);
    pa_config_free(c);
    ck_assert_int_eq(write(fd, "#", 1), 1);
    close(fd);
    ck_assert_int_eq(pa_config_load(path, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "larger than the limit of 1 MiB"));
    unlink(path);
    free(big);

    /* errors name the file given */
    ck_assert_int_eq(pa_config_load_buffer("/etc/x.yaml", "a: [", 4, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/etc/x.yaml:"));
    /* a tiny error buffer is still NUL-terminated */
    char small[8];
    ck_assert_int_eq(pa_config_load_buffer("x.yaml", "a: [", 4, &c, small, sizeof small), -1);
    ck_assert_uint_eq(strlen(small), 7);
    ck_assert_int_eq(pa_config_load_buffer("x.yaml", "a: [", 4, &c, NULL, 0), -1);
    /* NULL buffer of length 0 is an empty file */
    ck_assert_int_eq(pa_config_load_buffer("x.yaml", NULL, 0, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
}
END_TEST

/* ------------------------------------------------------------------------------------------------------------- */
/* The key table and the doc test. */

START_TEST(test_key_table)
{
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    ck_assert_uint_ge(n, 28);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(k[i].doc && *k[i].doc && !strchr(k[i].doc, '|') && !strchr(k[i].doc, '\n'), "%s: doc", k[i].name);
        ck_assert_msg(!(k[i].required && k[i].dflt), "%s: required with a default", k[i].name);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(k[i].name, k[j].name) != 0, "%s twice", k[i].name);
        /* the parent of every key is a section or a list of mappings listed before it */
        const char *dot = strrchr(k[i].name, '.');
        if (!dot)
            continue;
        size_t plen = (size_t)(dot - k[i].name);
        bool found = false;
        for (size_t j = 0; j < i; j++) {
            size_t l = strlen(k[j].name);
            if (k[j].type == PA_KEY_SECTION && l == plen && strncmp(k[j].name, k[i].name, l) == 0)
                found = true;
            if (k[j].type == PA_KEY_LIST_OF_MAPS && l + 2 == plen && strncmp(k[j].name, k[i].name, l) == 0 &&
                strncmp(k[i].name + l, "[]", 2) == 0)
                found = true;
        }
        ck_assert_msg(found, "%s: no parent before it", k[i].name);
    }
    ck_assert_ptr_eq(pa_config_keys(NULL), k);
}
END_TEST

/* "scan.batch_size" -> "scan:" then "batch_size:" later in the sample, commented out or not. */
static bool yaml_mentions(const char *text, const char *name)
{
    const char *pos = text;
    char seg[128];
    while (*name) {
        size_t l = strcspn(name, ".");
        snprintf(seg, sizeof seg, "%.*s", (int)l, name);
        char *br = strstr(seg, "[]");
        if (br)
            *br = '\0';
        strcat(seg, ":");
        const char *p = pos;
        for (;;) {
            p = strstr(p, seg);
            if (!p)
                return false;
            char before = p == text ? '\n' : p[-1];
            if (strchr("\n #-{,", before))
                break;
            p++;
        }
        pos = p + strlen(seg);
        name += l;
        if (*name == '.')
            name++;
    }
    return true;
}

START_TEST(test_docs_mention_every_key)
{
    char *sample = read_source_file("etc/pii-auditd.yaml");
    char *doc = read_source_file("docs/configuration.md");
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (!yaml_mentions(sample, k[i].name)) {
            fprintf(stderr, "etc/pii-auditd.yaml does not mention %s\n", k[i].name);
            missing++;
        }
        char q[160];
        snprintf(q, sizeof q, "`%s`", k[i].name);
        if (!strstr(doc, q)) {
            fprintf(stderr, "docs/configuration.md does not mention %s\n", q);
            missing++;
        }
    }
    ck_assert_int_eq(missing, 0);

    /* the key reference in the docs is exactly the generated one */
    char *table = pa_config_doc_table();
    const char *b = strstr(doc, "<!-- BEGIN GENERATED KEY TABLE -->\n");
    const char *e = strstr(doc, "<!-- END GENERATED KEY TABLE -->");
    ck_assert_msg(b && e && e > b, "docs/configuration.md lacks the generated key table markers");
    b += strlen("<!-- BEGIN GENERATED KEY TABLE -->\n");
    bool same = (size_t)(e - b) == strlen(table) && strncmp(b, table, strlen(table)) == 0;
    if (!same)
        fprintf(stderr, "docs/configuration.md: the key table differs from the code; expected:\n%s", table);
    free(table);
    ck_assert_msg(same, "regenerate the key table in docs/configuration.md");
    free(sample);
    free(doc);
}
END_TEST

/* ------------------------------------------------------------------------------------------------------------- */
/* Inputs found by fuzzing (tests/fuzz/fuzz_config.c) and other edge cases: must not crash or leak. */

START_TEST(test_edge_inputs)
{
    static const char *const inputs[] = {
        "{",
        "[",
        "a: b: c",
        "? ",
        ":",
        "- - - -",
        "&a [*a]",
        "!foo {}",
        "%YAML 1.1\n---\na: 1",
        "\xef\xbb\xbf" DB SURF, /* a BOM is fine */
        DB "surfaces:\n  - {table: '\"', column: c}\n",
        DB "surfaces:\n  - {table: '\"\"\"', column: c}\n",
        DB "surfaces:\n  - {table: ., column: c}\n",
        DB "surfaces:\n  - {table: '\"a\".', column: c}\n",
        DB SURF "detectors: {allow_paths: [\":$\"]}\n",
        DB SURF "detectors: {allow_paths: [\"t.c:$[\\\"\\\\u12\\\"]\"]}\n",
        DB SURF "detectors: {allow_paths: [\"t.c:$.<\"]}\n",
        DB SURF "detectors: {allow_paths: [\"t.c:$[\"]}\n",
        DB SURF "detectors: {extra_keys: {? [a] : [b]}}\n",
        DB SURF "detectors: {extra_keys: {a: [[b]]}}\n",
        DB "scan: {batch_size: -}\n" SURF,
        DB "scan: {batch_size: '-'}\n" SURF,
        DB "scan: {statement_timeout: .}\n" SURF,
        DB "scan: {statement_timeout: nan}\n" SURF,
        DB "scan: {statement_timeout: 1e400}\n" SURF,
        DB "scan: {statement_timeout: 99999999999999999999999999999999999999h}\n" SURF,
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct pa_config *c = NULL;
        int r = load(inputs[i], &c);
        ck_assert_msg(r == 0 || (c == NULL && strncmp(err, "test.yaml:", 10) == 0), "input %zu: %s", i, err);
        pa_config_free(c);
    }
    /* the valid ones among them */
    struct pa_config *c = load_ok(DB SURF "detectors: {allow_paths: [\"t.c:$[\\\"a b\\\"][*].<email>[0]\"]}\n");
    ck_assert_str_eq(c->detect.allow_paths[0], "public.t.c:$[\"a b\"][*].<email>[0]");
    pa_config_free(c);
    c = load_ok("\xef\xbb\xbf" DB SURF);
    pa_config_free(c);
}
END_TEST

/* ------------------------------------------------------------------------------------------------------------- */
/* The table walks over a loaded config: the reload check and freeing. */

/* Every key of the table set (lists with one item more than needed); @name@ is the value of the key in
 * reload_cases. @surfaces@ and @detectors.patterns@ add an item in the changed config. */
static const char reload_yaml[] = "database:\n"
                                  "  conninfo: @database.conninfo@\n"
                                  "  password_file: @database.password_file@\n"
                                  "findings:\n"
                                  "  conninfo: @findings.conninfo@\n"
                                  "  password_file: @findings.password_file@\n"
                                  "log:\n"
                                  "  format: @log.format@\n"
                                  "scan:\n"
                                  "  batch_size: @scan.batch_size@\n"
                                  "  parallelism: @scan.parallelism@\n"
                                  "  statement_timeout: @scan.statement_timeout@\n"
                                  "  lock_timeout: @scan.lock_timeout@\n"
                                  "  connect_timeout: @scan.connect_timeout@\n"
                                  "  max_rows_per_second: @scan.max_rows_per_second@\n"
                                  "  full_scan_interval: @scan.full_scan_interval@\n"
                                  "  max_findings_per_record: @scan.max_findings_per_record@\n"
                                  "  max_document_bytes: @scan.max_document_bytes@\n"
                                  "  retry_attempts: @scan.retry_attempts@\n"
                                  "  interval: @scan.interval@\n"
                                  "  jitter: @scan.jitter@\n"
                                  "  initial_delay: @scan.initial_delay@\n"
                                  "surfaces:\n"
                                  "  - table: @surfaces[].table@\n"
                                  "    schema: @surfaces[].schema@\n"
                                  "    column: @surfaces[].column@\n"
                                  "    id_column: @surfaces[].id_column@\n"
                                  "    changed_column: @surfaces[].changed_column@\n"
                                  "    changed_overlap: @surfaces[].changed_overlap@\n"
                                  "  - {table: fixed, column: doc, keyless: @surfaces[].keyless@}\n"
                                  "@surfaces@"
                                  "detectors:\n"
                                  "  disable: @detectors.disable@\n"
                                  "  extra_keys: @detectors.extra_keys@\n"
                                  "  ignore_keys: @detectors.ignore_keys@\n"
                                  "  allow_paths: @detectors.allow_paths@\n"
                                  "  patterns:\n"
                                  "    - name: @detectors.patterns[].name@\n"
                                  "      category: @detectors.patterns[].category@\n"
                                  "      regex: @detectors.patterns[].regex@\n"
                                  "@detectors.patterns@"
                                  "guardrail:\n"
                                  "  nested_keys: @guardrail.nested_keys@\n"
                                  "metrics:\n"
                                  "  listen: @metrics.listen@\n"
                                  "  tls:\n"
                                  "    cert_file: @metrics.tls.cert_file@\n"
                                  "    key_file: @metrics.tls.key_file@\n"
                                  "    client_ca_file: @metrics.tls.client_ca_file@\n"
                                  "  basic_auth_users: @metrics.basic_auth_users@\n"
                                  "  max_connections: @metrics.max_connections@\n"
                                  "  connection_timeout: @metrics.connection_timeout@\n";

/* One change per case; the first case of a key gives its value in every other config. */
static const struct {
    const char *key, *value, *changed;
} reload_cases[] = {
    {"database.conninfo", "\"dbname=a\"", "\"dbname=b\""},
    {"database.password_file", "/etc/a.pw", "/etc/b.pw"},
    {"findings.conninfo", "\"dbname=f\"", "\"dbname=g\""},
    {"findings.password_file", "/etc/f.pw", "/etc/g.pw"},
    /* a password comes from a file or a credential, not both: these two cases use reload_yaml with the credentials
     * in place of the password files (cred_template) */
    {"database.password_credential", "db-a", "db-b"},
    {"findings.password_credential", "f-a", "f-b"},
    {"scan.batch_size", "10", "11"},
    {"scan.parallelism", "2", "3"},
    {"scan.statement_timeout", "1m", "2m"},
    {"scan.lock_timeout", "1s", "2s"},
    {"scan.connect_timeout", "3s", "4s"},
    {"scan.max_rows_per_second", "100", "101"},
    {"scan.full_scan_interval", "1d", "2d"},
    {"scan.max_findings_per_record", "5", "6"},
    {"scan.max_document_bytes", "1000000", "2000000"},
    {"scan.retry_attempts", "3", "4"},
    {"scan.interval", "2h", "3h"},
    {"scan.jitter", "1m", "2m"},
    {"scan.initial_delay", "5s", "6s"},
    {"surfaces[].table", "t", "u"},
    {"surfaces[].schema", "s", "r"},
    {"surfaces[].column", "c", "d"},
    {"surfaces[].id_column", "i", "j"},
    {"surfaces[].changed_column", "updated_at", "modified_at"},
    {"surfaces[].changed_overlap", "5m", "10m"},
    {"surfaces[].keyless", "ctid", "~"},
    {"surfaces", "", "  - {table: third, column: doc}\n"},
    {"detectors.disable", "[phone]", "[iban]"},
    {"detectors.extra_keys", "{national_id: [tax_ref]}", "{national_id: [tax_no]}"},
    {"detectors.extra_keys", "{national_id: [tax_ref]}", "{staff_id: [tax_ref]}"},
    {"detectors.ignore_keys", "[a]", "[b]"},
    {"detectors.allow_paths", "[\"fixed.doc:$.a\"]", "[\"fixed.doc:$.b\"]"},
    {"detectors.patterns[].name", "emp", "emq"},
    {"detectors.patterns[].category", "employee_id", "staff_id"},
    {"detectors.patterns[].regex", "'EMP-[0-9]+'", "'EMQ-[0-9]+'"},
    {"detectors.patterns", "", "    - {name: other, category: x, regex: 'x+'}\n"},
    {"guardrail.nested_keys", "false", "true"},
    {"log.format", "text", "json"},
    {"metrics.listen", "\"127.0.0.1:10187\"", "[\"127.0.0.1:10187\", \":10188\"]"},
    {"metrics.listen", "\"127.0.0.1:10187\"", "\"127.0.0.1:10188\""},
    {"metrics.tls.cert_file", "/etc/c.crt", "/etc/d.crt"},
    {"metrics.tls.key_file", "/etc/c.key", "/etc/d.key"},
    {"metrics.tls.client_ca_file", "/etc/ca.crt", "/etc/cb.crt"},
    {"metrics.basic_auth_users", "{prometheus: \"" HASH1 "\"}", "{prometheus: \"" HASH2 "\"}"},
    {"metrics.basic_auth_users", "{prometheus: \"" HASH1 "\"}", "{grafana: \"" HASH1 "\"}"},
    {"metrics.basic_auth_users", "{prometheus: \"" HASH1 "\"}", "{prometheus: \"" HASH1 "\", b: \"" HASH2 "\"}"},
    {"metrics.max_connections", "64", "65"},
    {"metrics.connection_timeout", "10s", "11s"},
};
#define N_RELOAD_CASES (sizeof reload_cases / sizeof reload_cases[0])

/* reload_yaml with the password files replaced by credentials (password_file and password_credential of one
 * section are exclusive), for the cases of the credential keys. */
static const char *cred_template(void)
{
    static char t[sizeof reload_yaml + 256];
    if (!t[0]) {
        static const char *const from[] = {"password_file: @database.password_file@",
                                           "password_file: @findings.password_file@"};
        static const char *const to[] = {"password_credential: @database.password_credential@",
                                         "password_credential: @findings.password_credential@"};
        snprintf(t, sizeof t, "%s", reload_yaml);
        for (int i = 0; i < 2; i++) {
            char *at = strstr(t, from[i]);
            ck_assert_ptr_nonnull(at);
            char rest[sizeof t];
            snprintf(rest, sizeof rest, "%s", at + strlen(from[i]));
            snprintf(at, sizeof t - (size_t)(at - t), "%s%s", to[i], rest);
        }
    }
    return t;
}

/* The template of case i (N_RELOAD_CASES: the plain one). noinline: its range check, inlined, makes GCC 12 see
 * a path where the caller's own reload_cases[i] is out of bounds (-Warray-bounds) */
__attribute__((noinline)) static const char *template_for(size_t i)
{
    return i < N_RELOAD_CASES && strstr(reload_cases[i].key, "password_credential") ? cred_template() : reload_yaml;
}

/* A template with every key at its value, but case `changed` at `with` (changed = N_RELOAD_CASES: none). */
static char *reload_config_from(const char *tmpl, size_t changed, const char *with)
{
    size_t cap = strlen(tmpl) + 4096, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    for (const char *p = tmpl; *p;) {
        if (*p != '@') {
            out[len++] = *p++;
            continue;
        }
        const char *end = strchr(p + 1, '@');
        ck_assert_ptr_nonnull(end);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        const char *v = NULL;
        for (size_t i = 0; i < N_RELOAD_CASES && !v; i++)
            if (strcmp(reload_cases[i].key, name) == 0)
                v = reload_cases[i].value;
        ck_assert_msg(v != NULL, "no case for %s", name);
        if (changed < N_RELOAD_CASES && strcmp(reload_cases[changed].key, name) == 0)
            v = with;
        ck_assert_uint_lt(len + strlen(v), cap);
        memcpy(out + len, v, strlen(v));
        len += strlen(v);
        p = end + 1;
    }
    out[len] = '\0';
    return out;
}

static char *reload_config(size_t changed, const char *with)
{
    return reload_config_from(template_for(changed), changed, with);
}

static const struct pa_config_key *key_named(const char *name)
{
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(k[i].name, name) == 0)
            return &k[i];
    ck_abort_msg("no key %s", name);
    return NULL;
}

/* A change of a key marked restart is refused naming the key (a list item's key: its list); any other is accepted. */
START_TEST(test_reload_check)
{
    size_t i = (size_t)_i;
    const char *key = reload_cases[i].key;
    char list[128];
    snprintf(list, sizeof list, "%.*s", (int)strcspn(key, "["), key);
    const struct pa_config_key *k = key_named(list);
    const char *want = k->reloadable ? NULL : k->name;

    char *a = reload_config_from(template_for(i), N_RELOAD_CASES, NULL), *b = reload_config(i, reload_cases[i].changed);
    struct pa_config *ca = load_ok(a), *cb = load_ok(b), *ca2 = load_ok(a);
    ck_assert_ptr_null(pa_config_reload_refused(ca, ca2));
    const char *got = pa_config_reload_refused(ca, cb);
    ck_assert_msg(got == want || (got && want && strcmp(got, want) == 0), "%s changed to %s: refused %s, expected %s",
                  key, reload_cases[i].changed, got ? got : "nothing", want ? want : "nothing");
    got = pa_config_reload_refused(cb, ca);
    ck_assert_msg(got == want || (got && want && strcmp(got, want) == 0), "%s changed back: refused %s", key,
                  got ? got : "nothing");
    pa_config_free(ca);
    pa_config_free(cb);
    pa_config_free(ca2);
    free(a);
    free(b);
}
END_TEST

/* The cases above cover every key of the table; the keys a reload refuses are the daemon's HTTP endpoint settings
 * (metrics.*: the daemon keeps its running struct pa_web_config, nothing else), and a list item's keys reload like
 * their list (the check compares items as part of the list). */
START_TEST(test_reload_table)
{
    size_t n;
    const struct pa_config_key *k = pa_config_keys(&n);
    for (size_t i = 0; i < n; i++) {
        bool covered = false;
        for (size_t j = 0; j < N_RELOAD_CASES; j++)
            covered |= strcmp(reload_cases[j].key, k[i].name) == 0;
        ck_assert_msg(covered || k[i].type == PA_KEY_SECTION, "%s: add a case to reload_cases", k[i].name);
        if (!k[i].reloadable)
            ck_assert_msg(strncmp(k[i].name, "metrics.", 8) == 0 || strcmp(k[i].name, "metrics") == 0,
                          "%s needs a restart, but the daemon's reload keeps only metrics.*", k[i].name);
        const char *br = strstr(k[i].name, "[]");
        if (br) {
            char list[128];
            snprintf(list, sizeof list, "%.*s", (int)(br - k[i].name), k[i].name);
            ck_assert_msg(key_named(list)->reloadable == k[i].reloadable, "%s: reloads unlike %s", k[i].name, list);
        }
    }
    /* the sample's restart keys, as the docs list them */
    ck_assert(!key_named("metrics.listen")->reloadable);
    ck_assert(!key_named("metrics.basic_auth_users")->reloadable);
    ck_assert(key_named("database.conninfo")->reloadable);
    ck_assert(key_named("surfaces")->reloadable);
}
END_TEST

/* Freeing walks the table: a config with every key set, and one that fails at each key after the ones before it
 * were set (partly filled lists and items), leave nothing behind (the ASan build's leak check; CK_FORK=no too). */
START_TEST(test_free_every_key)
{
    char *y = reload_config(N_RELOAD_CASES, NULL);
    struct pa_config *c = load_ok(y);
    ck_assert_uint_eq(c->n_surfaces, 2);
    ck_assert_uint_eq(c->detect.n_patterns, 1);
    ck_assert_uint_eq(c->web.n_users, 1);
    ck_assert_ptr_nonnull(c->web.tls_client_ca_file);
    pa_config_free(c);
    free(y);
    for (size_t i = 0; i < N_RELOAD_CASES; i++) {
        y = reload_config(i, reload_cases[i].changed);
        c = load_ok(y);
        pa_config_free(c);
        free(y);
        /* a value of the wrong shape at this key: the load stops there */
        const char *key = reload_cases[i].key;
        bool item = strcmp(key, "surfaces") == 0 || strcmp(key, "detectors.patterns") == 0;
        y = reload_config(i, item ? "  - [[1]]\n" : "[[1]]");
        c = NULL;
        ck_assert_msg(load(y, &c) == -1, "%s: [[1]] accepted", key);
        ck_assert_ptr_null(c);
        free(y);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sample_loads);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full_example);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_identifiers);
    tcase_add_test(tc, test_daemon_and_metrics);
    tcase_add_test(tc, test_edge_inputs);
    tcase_add_test(tc, test_files_and_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_bad_regex);
    tcase_add_test(tc, test_secrets_never_shown);
    tcase_add_test(tc, test_echo_truncated);
    suite_add_tcase(s, tc);

    tc = tcase_create("table walks");
    tcase_add_loop_test(tc, test_reload_check, 0, (int)N_RELOAD_CASES);
    tcase_add_test(tc, test_reload_table);
    tcase_add_test(tc, test_free_every_key);
    suite_add_tcase(s, tc);

    tc = tcase_create("docs");
    tcase_add_test(tc, test_key_table);
    tcase_add_test(tc, test_docs_mention_every_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(config_suite());
}
