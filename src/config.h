/* config: the YAML configuration (libyaml) parsed into one validated struct, driven by one table of keys.
 *
 * Every key is described once in the table (pa_config_keys): name, type, default, whether a reload (SIGHUP) can
 * change it, and its doc line. The same table drives parsing, defaults, --check-config, freeing, the reload check,
 * and the tests that fail when a key is missing from etc/pii-auditd.yaml or docs/configuration.md. The code lives in
 * src/config/ (map in docs/architecture.md); this header is its whole public interface.
 * Errors are "file:line:column: message" naming the key, what is expected and how to fix it. A conninfo or a
 * password never appears in an error. Must not touch the database.
 */
#ifndef PA_CONFIG_H
#define PA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect.h"

#define PA_DEFAULT_CONFIG_PATH "/etc/pii-auditd/pii-auditd.yaml"

enum pa_key_type {
    PA_KEY_STRING,
    PA_KEY_INT,
    PA_KEY_DURATION,
    PA_KEY_BOOL,
    PA_KEY_PATH,
    PA_KEY_STRING_LIST,
    PA_KEY_MAP_OF_LISTS, /* detectors.extra_keys */
    PA_KEY_SECTION,      /* a mapping holding other keys */
    PA_KEY_LIST_OF_MAPS, /* surfaces, detectors.patterns */
    PA_KEY_STRING_MAP,   /* metrics.basic_auth_users: name -> string */
};

struct pa_config_key {
    const char *name; /* dotted: "scan.batch_size"; list items: "surfaces[].table" */
    enum pa_key_type type;
    const char *dflt; /* default as written in YAML, NULL when required or none */
    bool required;
    bool reloadable; /* SIGHUP applies it; false: needs a restart */
    const char *doc; /* one line */
};

/* The key table (all keys, in documentation order). */
const struct pa_config_key *pa_config_keys(size_t *n);

struct pa_surface {
    char *schema; /* "public" when the config gave an unqualified name */
    char *table;
    char *column;
    char *id_column;        /* NULL: the table's primary key (one or more columns) */
    char *changed_column;   /* NULL: change detection by transaction id (xmin) */
    double changed_overlap; /* seconds re-read before the last scan's start, with changed_column */
    char *keyless;          /* "ctid": read by row location, every scan in full; NULL: by key */
    char *name;             /* "schema.table.column" as used in findings, metrics and --surface */
    int line;               /* where it was configured, for messages */
};

#define PA_DEFAULT_METRICS_LISTEN "127.0.0.1:10187"

struct pa_web_user {
    char *name;
    char *hash; /* bcrypt ("$2a$", "$2b$", "$2y$"); never logged */
};

/* metrics.* : the HTTP endpoint */
struct pa_web_config {
    char **listen; /* metrics.listen: "host:port", "[v6]:port" or ":port"; default PA_DEFAULT_METRICS_LISTEN */
    size_t n_listen;
    char *tls_cert_file;       /* metrics.tls.cert_file (with key_file: HTTPS) */
    char *tls_key_file;        /* metrics.tls.key_file */
    char *tls_client_ca_file;  /* metrics.tls.client_ca_file: require and verify client certificates */
    struct pa_web_user *users; /* metrics.basic_auth_users: name -> bcrypt hash; none = no auth */
    size_t n_users;
    long long max_connections; /* metrics.max_connections */
    double connection_timeout; /* metrics.connection_timeout, seconds */
};

struct pa_config {
    char *path;

    char *db_conninfo;            /* database.conninfo (secret: never print) */
    char *db_password_file;       /* database.password_file or NULL */
    char *findings_conninfo;      /* findings.conninfo or NULL (= database.conninfo) */
    char *findings_password_file; /* findings.password_file or NULL (= database.password_file if same db) */
    char *db_password_credential; /* database.password_credential: a file name in $CREDENTIALS_DIRECTORY, or NULL */
    char *findings_password_credential; /* findings.password_credential, or NULL */

    long long batch_size;          /* scan.batch_size */
    long long parallelism;         /* scan.parallelism: readers per scan, 1 .. 16 */
    double statement_timeout;      /* scan.statement_timeout, seconds */
    double lock_timeout;           /* scan.lock_timeout, seconds */
    double connect_timeout;        /* scan.connect_timeout, seconds */
    long long max_rows_per_second; /* scan.max_rows_per_second, 0 = unlimited */
    double full_scan_interval;     /* scan.full_scan_interval, seconds */
    long long max_document_bytes;  /* scan.max_document_bytes: larger stored documents are not fetched; 0 = no bound */
    long long retry_attempts;      /* scan.retry_attempts: retries of a batch after a recovery conflict */
    double interval;               /* scan.interval (daemon), seconds */
    double jitter;                 /* scan.jitter, seconds; negative = default 10% of interval */
    double initial_delay;          /* scan.initial_delay, seconds */

    struct pa_web_config web; /* metrics.* */

    struct pa_surface *surfaces;
    size_t n_surfaces;

    struct pa_detect_options detect; /* detectors.*, owned by this struct */

    bool guardrail_nested_keys; /* guardrail.nested_keys: the generated triggers check keys at any depth */

    char *log_format; /* log.format: "text" or "json" (one JSON object per line on stderr) */
};

/* Load and validate. On error returns -1 and writes "file:line:col: message" to err. */
int pa_config_load(const char *path, struct pa_config **out, char *err, size_t errlen);
/* Same from a memory buffer; name is used in messages (tests, fuzzing). */
int pa_config_load_buffer(const char *name, const char *buf, size_t len, struct pa_config **out, char *err,
                          size_t errlen);
void pa_config_free(struct pa_config *c);

/* The surface named "schema.table.column" (or "table.column" meaning public), or NULL. */
const struct pa_surface *pa_config_find_surface(const struct pa_config *c, const char *name);

/* The JSON path syntax of detectors.allow_paths (as findings show paths, [*] for any index; pii-auditd allow add
 * takes the same): NULL when s[0..len) is one, else why not. */
const char *pa_config_json_path_error(const char *s, size_t len);

/* The bound of the random delay added to each scan.interval: scan.jitter, or 10% of scan.interval when unset. */
double pa_config_jitter(const struct pa_config *c);

/* Split a metrics.listen address, "host:port", "[ipv6]:port" or ":port" (len bytes of s; the one parser of that
 * syntax, for the config and the HTTP endpoint): host receives the host without brackets ("" = all interfaces),
 * *port the port, 0 included (tests bind ephemeral ports; the config refuses 0). Returns NULL, or why s is not an
 * address. */
const char *pa_config_split_listen(const char *s, size_t len, char *host, size_t hcap, unsigned *port);

/* The key reference as a Markdown table generated from the key table (name, type, default, range, reload, doc);
 * docs/configuration.md embeds it and a unit test checks they are identical. Caller frees. */
char *pa_config_doc_table(void);

/* The reload check: the first key the table marks reloadable = false (it needs a restart) whose value differs between
 * the running configuration and one just loaded, or NULL when a reload may apply everything. Lists and maps compare
 * item by item, in order. The daemon keeps its running HTTP endpoint (struct pa_web_config) on reload; every key
 * marked so lives there (test_config checks it). */
const char *pa_config_reload_refused(const struct pa_config *running, const struct pa_config *loaded);

#endif
