/* config/keys: the key table, the one description of every configuration key.
 *
 * PA_CONFIG_KEY_TABLE yields, row for row, the public pa_config_keys() array (docs, --check-config, doc tests) and the
 * private pa_cfg_impl[] (how each key is parsed, checked and stored, and its range); its default is written in YAML
 * and parsed by the same code as the user's value. Loading, freeing, the reload check and the key reference all walk
 * this table, so a new key is one row here (see keys.h). Must never print or log.
 */
#include "keys.h"
#include "detect.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SET(f) pa_cfg_set_##f
#define CHECK(f) pa_cfg_check_##f
#define C(f) offsetof(struct pa_config, f)
#define S(f) offsetof(struct pa_surface, f)
#define P(f) offsetof(struct pa_detect_pattern, f)
#define MIN_S 60.0
#define H_S 3600.0
#define D_S 86400.0

/* X(name, type, default, required, reloadable, doc, flags, setter, check, offset, count offset, min, max)
 * Keys in documentation order; a section's keys follow it. Defaults are YAML, parsed like user values. */
/* clang-format off: one row per line, aligned by hand */
#define PA_CONFIG_KEY_TABLE(X)                                                                                         \
    X("database", PA_KEY_SECTION, NULL, true, true, "The PostgreSQL database whose JSONB columns are scanned.", 0,     \
      SET(section), NULL, 0, 0, 0, 0)                                                                                  \
    X("database.conninfo", PA_KEY_STRING, NULL, true, true,                                                            \
      "libpq connection string or URI. Secret: never logged, never echoed in errors.", F_SECRET, NULL, NULL,           \
      C(db_conninfo), 0, 0, 0)                                                                                         \
    X("database.password_file", PA_KEY_PATH, NULL, false, true,                                                        \
      "File holding the password (read by the daemon at connect time); unset: libpq's pgpass/service files.", 0, NULL, \
      NULL, C(db_password_file), 0, 0, 0)                                                                              \
    X("database.password_credential", PA_KEY_STRING, NULL, false, true,                                                \
      "Name of a systemd credential holding the password ($CREDENTIALS_DIRECTORY/NAME, the unit's LoadCredential=), "  \
      "read at connect time; instead of password_file.",                                                               \
      0, SET(credential), CHECK(credential), C(db_password_credential), 0, 0, 0)                                       \
    X("findings", PA_KEY_SECTION, NULL, false, true,                                                                   \
      "Where findings are written; unset: the scanned database (e.g. scan a standby, write to the primary).", 0,       \
      SET(section), NULL, 0, 0, 0, 0)                                                                                  \
    X("findings.conninfo", PA_KEY_STRING, NULL, false, true,                                                           \
      "libpq connection string or URI of the findings database. Secret like database.conninfo.", F_SECRET, NULL, NULL, \
      C(findings_conninfo), 0, 0, 0)                                                                                   \
    X("findings.password_file", PA_KEY_PATH, NULL, false, true,                                                        \
      "Password file for findings.conninfo (only valid together with it).", 0, SET(findings_pw), NULL,                 \
      C(findings_password_file), 0, 0, 0)                                                                              \
    X("findings.password_credential", PA_KEY_STRING, NULL, false, true,                                                \
      "systemd credential holding the password for findings.conninfo (only valid together with it).", 0,               \
      SET(credential), CHECK(credential), C(findings_password_credential), 0, 0, 0)                                    \
    X("scan", PA_KEY_SECTION, NULL, false, true, "How the scanner reads the surfaces.", 0, SET(section), NULL, 0, 0,   \
      0, 0)                                                                                                            \
    X("scan.batch_size", PA_KEY_INT, "5000", false, true,                                                              \
      "Rows fetched per keyset batch (one short transaction each).", 0, NULL, NULL, C(batch_size), 0, 1, 1000000)      \
    X("scan.parallelism", PA_KEY_INT, "1", false, true,                                                                \
      "Readers per scan: each surface's id range is split in this many parts, read (of one or more surfaces) at "      \
      "once.",                                                                                                         \
      0, NULL, NULL, C(parallelism), 0, 1, 16)                                                                         \
    X("scan.statement_timeout", PA_KEY_DURATION, "30s", false, true,                                                   \
      "statement_timeout for every scanner query: bounds each batch.", 0, NULL, NULL, C(statement_timeout), 0, 1, H_S) \
    X("scan.lock_timeout", PA_KEY_DURATION, "5s", false, true,                                                         \
      "lock_timeout for every scanner query: the scanner waits at most this long behind a lock.", 0, NULL, NULL,       \
      C(lock_timeout), 0, 0.1, 10 * MIN_S)                                                                             \
    X("scan.connect_timeout", PA_KEY_DURATION, "10s", false, true,                                                     \
      "libpq connect_timeout (whole seconds, rounded up) for every connection.", 0, NULL, NULL, C(connect_timeout), 0, \
      2, 10 * MIN_S)                                                                                                   \
    X("scan.max_rows_per_second", PA_KEY_INT, "0", false, true,                                                        \
      "Throttle: rows read per second across all surfaces; 0 = unlimited.", 0, NULL, NULL, C(max_rows_per_second), 0,  \
      0, 1000000000)                                                                                                   \
    X("scan.full_scan_interval", PA_KEY_DURATION, "7d", false, true,                                                   \
      "How often every surface is rescanned from the start (between full scans, the rows changed since the last).", 0, \
      NULL, NULL, C(full_scan_interval), 0, MIN_S, 365 * D_S)                                                          \
    X("scan.max_findings_per_record", PA_KEY_INT, "1000", false, true,                                                 \
      "Findings kept per record (row); past it the record is marked truncated. 0 = unlimited.", F_SIZE_T, NULL, NULL,  \
      C(detect.max_findings_per_record), 0, 0, 1000000)                                                                \
    X("scan.max_document_bytes", PA_KEY_INT, "0", false, true,                                                         \
      "Documents stored in more bytes than this (pg_column_size) are not fetched but counted as oversized; 0 = no "    \
      "bound.",                                                                                                        \
      0, NULL, NULL, C(max_document_bytes), 0, 0, 1073741824)                                                          \
    X("scan.retry_attempts", PA_KEY_INT, "6", false, true,                                                             \
      "Retries of a batch a hot standby cancelled (recovery_conflict), after 1s doubling to 30s; 0 = none.", 0, NULL,  \
      NULL, C(retry_attempts), 0, 0, 100)                                                                              \
    X("scan.interval", PA_KEY_DURATION, "1h", false, true,                                                             \
      "Daemon: time from the end of one scan to the start of the next (plus jitter).", 0, NULL, NULL, C(interval), 0,  \
      MIN_S, 30 * D_S)                                                                                                 \
    X("scan.jitter", PA_KEY_DURATION, NULL, false, true,                                                               \
      "Daemon: random extra delay (0 .. jitter) added to each interval; unset: 10% of scan.interval; must be less "    \
      "than scan.interval.",                                                                                           \
      0, SET(jitter), NULL, C(jitter), 0, 0, 30 * D_S)                                                                 \
    X("scan.initial_delay", PA_KEY_DURATION, "0s", false, true,                                                        \
      "Daemon: wait this long after start before the first scan; 0s = scan at launch.", 0, NULL, NULL,                 \
      C(initial_delay), 0, 0, D_S)                                                                                     \
    X("surfaces", PA_KEY_LIST_OF_MAPS, NULL, true, true,                                                               \
      "The JSON/JSONB (or text) columns to scan: a non-empty list of table/column items.", 0, SET(surfaces), NULL,     \
      C(surfaces), C(n_surfaces), 0, 0)                                                                                \
    X("surfaces[].table", PA_KEY_STRING, NULL, true, true,                                                             \
      "Table name, schema.table or table (schema public); SQL identifier rules, see Identifiers.", 0, SET(table),      \
      NULL, S(table), 0, 0, 0)                                                                                         \
    X("surfaces[].schema", PA_KEY_STRING, NULL, false, true,                                                           \
      "Schema, as an alternative to a schema-qualified table; default public.", 0, SET(schema), NULL, S(schema), 0, 0, \
      0)                                                                                                               \
    X("surfaces[].column", PA_KEY_STRING, NULL, true, true, "The column holding the JSON documents.", 0, SET(ident),   \
      NULL, S(column), 0, 0, 0)                                                                                        \
    X("surfaces[].id_column", PA_KEY_STRING, NULL, false, true,                                                        \
      "Column identifying a row in findings and ordering batches (unique, NOT NULL); unset: the primary key.", 0,      \
      SET(ident), NULL, S(id_column), 0, 0, 0)                                                                         \
    X("surfaces[].changed_column", PA_KEY_STRING, NULL, false, true,                                                   \
      "Indexed timestamp set on every insert and update (updated_at): incremental scans read rows with a value "       \
      "since the last scan instead of using transaction ids; unset: transaction ids (xmin).",                          \
      0, SET(ident), NULL, S(changed_column), 0, 0, 0)                                                                 \
    X("surfaces[].changed_overlap", PA_KEY_DURATION, "5m", false, true,                                                \
      "With changed_column: rows whose value is up to this much older than the last scan's start are read again "      \
      "(transactions longer than this, or clocks behind the database, can be missed).",                                \
      0, NULL, NULL, S(changed_overlap), 0, 0, D_S)                                                                    \
    X("surfaces[].keyless", PA_KEY_STRING, NULL, false, true,                                                          \
      "ctid: a table without a usable key is read whole at every scan by row location; record ids are ctid:(b,o), "    \
      "not stable, and findings are resolved only by these full reads.",                                               \
      0, NULL, CHECK(keyless), S(keyless), 0, 0, 0)                                                                    \
    X("detectors", PA_KEY_SECTION, NULL, false, true, "Tuning of the built-in detectors and custom patterns.", 0,      \
      SET(section), NULL, 0, 0, 0, 0)                                                                                  \
    X("detectors.disable", PA_KEY_STRING_LIST, "[]", false, true,                                                      \
      "Built-in categories switched off entirely (key and value detectors).", 0, NULL, CHECK(builtin_category),        \
      C(detect.disable), C(detect.n_disable), 0, 0)                                                                    \
    X("detectors.extra_keys", PA_KEY_MAP_OF_LISTS, "{}", false, true,                                                  \
      "category: [key, ...] added to the key dictionary; the category may be built-in or new.", 0, SET(extra_keys),    \
      NULL, C(detect.extra_keys), C(detect.n_extra_keys), 0, 0)                                                        \
    X("detectors.ignore_keys", PA_KEY_STRING_LIST, "[]", false, true,                                                  \
      "Key names (normalized) never reported, nor anything below them.", 0, NULL, CHECK(key_name),                     \
      C(detect.ignore_keys), C(detect.n_ignore_keys), 0, 0)                                                            \
    X("detectors.allow_paths", PA_KEY_STRING_LIST, "[]", false, true,                                                  \
      "\"schema.table.column:$.path\" entries never reported; exact paths as findings show them, [*] = any index.", 0, \
      SET(allow_paths), CHECK(allow_path), C(detect.allow_paths), C(detect.n_allow_paths), 0, 0)                       \
    X("detectors.patterns", PA_KEY_LIST_OF_MAPS, "[]", false, true,                                                    \
      "Custom value patterns (Hyperscan regexes), each reported under its category.", 0, SET(patterns), NULL,          \
      C(detect.patterns), C(detect.n_patterns), 0, 0)                                                                  \
    X("detectors.patterns[].name", PA_KEY_STRING, NULL, true, true,                                                    \
      "Rule name reported with findings: [a-z][a-z0-9_]*, unique.", 0, SET(pattern_name), NULL, P(name), 0, 0, 0)      \
    X("detectors.patterns[].category", PA_KEY_STRING, NULL, true, true,                                                \
      "Category of what it finds: built-in or new, [a-z][a-z0-9_]*.", 0, NULL, CHECK(category_name), P(category), 0,   \
      0, 0)                                                                                                            \
    X("detectors.patterns[].regex", PA_KEY_STRING, NULL, true, true,                                                   \
      "The expression (Hyperscan syntax: no backreferences or lookarounds), checked at load.", 0, SET(pattern_regex),  \
      CHECK(regex_len), P(regex), 0, 0, 0)                                                                             \
    X("guardrail", PA_KEY_SECTION, NULL, false, true,                                                                  \
      "The write-time guardrail SQL printed by --print-guardrail-sql (the daemon itself does not use it).", 0,         \
      SET(section), NULL, 0, 0, 0, 0)                                                                                  \
    X("guardrail.nested_keys", PA_KEY_BOOL, "false", false, true,                                                      \
      "Triggers check keys at any depth, not only the document's own keys (slower inserts: docs/performance.md).", 0,  \
      NULL, NULL, C(guardrail_nested_keys), 0, 0, 0)                                                                   \
    X("log", PA_KEY_SECTION, NULL, false, true, "How log lines are written.", 0, SET(section), NULL, 0, 0, 0, 0)       \
    X("log.format", PA_KEY_STRING, "text", false, true,                                                                \
      "text: plain lines on stderr; json: one JSON object per line on stderr, with the journal's field names "         \
      "(journald, when stderr is the journal, always gets its own fields).",                                           \
      0, NULL, CHECK(log_format), C(log_format), 0, 0, 0)                                                              \
    X("metrics", PA_KEY_SECTION, NULL, false, false,                                                                   \
      "The Prometheus /metrics endpoint (HTTP, optional TLS and basic auth); see Metrics endpoint.", 0, SET(section),  \
      NULL, 0, 0, 0, 0)                                                                                                \
    X("metrics.listen", PA_KEY_STRING_LIST, "[\"" PA_DEFAULT_METRICS_LISTEN "\"]", false, false,                       \
      "Addresses to listen on (a list or one string): host:port, [ipv6]:port, or :port for all interfaces.", 0,        \
      SET(listen), CHECK(listen), C(web.listen), C(web.n_listen), 0, 0)                                                \
    X("metrics.tls", PA_KEY_SECTION, NULL, false, false,                                                               \
      "HTTPS for the endpoint: cert_file and key_file together, optionally client_ca_file.", 0, SET(section), NULL, 0, \
      0, 0, 0)                                                                                                         \
    X("metrics.tls.cert_file", PA_KEY_PATH, NULL, false, false,                                                        \
      "PEM server certificate (chain), read at start; with key_file the endpoint speaks only HTTPS.", 0,               \
      SET(tls_file), NULL, C(web.tls_cert_file), 0, 0, 0)                                                              \
    X("metrics.tls.key_file", PA_KEY_PATH, NULL, false, false,                                                         \
      "PEM private key of cert_file, read at start (mode 0600, owned by the daemon's user).", 0, SET(tls_file), NULL,  \
      C(web.tls_key_file), 0, 0, 0)                                                                                    \
    X("metrics.tls.client_ca_file", PA_KEY_PATH, NULL, false, false,                                                   \
      "PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS).", 0, SET(tls_file), NULL,   \
      C(web.tls_client_ca_file), 0, 0, 0)                                                                              \
    X("metrics.basic_auth_users", PA_KEY_STRING_MAP, "{}", false, false,                                               \
      "user: bcrypt hash ($2a$, $2b$ or $2y$); when set, every path but /healthz needs HTTP basic auth.", F_SECRET,    \
      SET(users), NULL, C(web.users), C(web.n_users), 0, 0)                                                            \
    X("metrics.max_connections", PA_KEY_INT, "64", false, false,                                                       \
      "Concurrent connections per listen address; more are refused.", 0, NULL, NULL, C(web.max_connections), 0, 1,     \
      10000)                                                                                                           \
    X("metrics.connection_timeout", PA_KEY_DURATION, "10s", false, false,                                              \
      "An idle or slow connection is closed after this long.", 0, NULL, NULL, C(web.connection_timeout), 0, 1,         \
      5 * MIN_S)
/* clang-format on */

#define X_PUB(name, type, dflt, req, rel, doc, ...) {name, type, dflt, req, rel, doc},
#define X_IMPL(name, type, dflt, req, rel, doc, flags, set, check, off, off2, mn, mx)                                  \
    {flags, set, check, off, off2, mn, mx},

const struct pa_config_key pa_cfg_keys[] = {PA_CONFIG_KEY_TABLE(X_PUB)};
const struct pa_cfg_impl pa_cfg_impl[] = {PA_CONFIG_KEY_TABLE(X_IMPL)};
const size_t pa_cfg_nkeys = PA_ARRAY_LEN(pa_cfg_keys);
_Static_assert(PA_ARRAY_LEN(pa_cfg_keys) == PA_ARRAY_LEN(pa_cfg_impl), "one implementation row per key");
_Static_assert(PA_ARRAY_LEN(pa_cfg_keys) <= PA_CFG_MAX_KEYS, "raise PA_CFG_MAX_KEYS");

/* The maps (detectors.extra_keys, metrics.basic_auth_users) are arrays of two owned strings: values.c frees and
 * compares their items as such. */
#define PAIR_OF_STRINGS(T, a, b)                                                                                       \
    (_Generic(((T *)0)->a, char * : 1, default : 0) && _Generic(((T *)0)->b, char * : 1, default : 0) &&               \
     offsetof(T, a) == 0 && offsetof(T, b) == sizeof(char *) && sizeof(T) == 2 * sizeof(char *))
_Static_assert(PAIR_OF_STRINGS(struct pa_detect_extra_key, category, key), "detectors.extra_keys: two strings");
_Static_assert(PAIR_OF_STRINGS(struct pa_web_user, name, hash), "metrics.basic_auth_users: two strings");

const struct pa_cfg_scope pa_cfg_scopes[] = {
    {"", sizeof(struct pa_config), C(path)},          /* path: the file it was loaded from */
    {"surfaces", sizeof(struct pa_surface), S(name)}, /* name: "schema.table.column", made from the item's keys */
    {"detectors.patterns", sizeof(struct pa_detect_pattern), SIZE_MAX},
};
const size_t pa_cfg_nscopes = PA_ARRAY_LEN(pa_cfg_scopes);

const struct pa_config_key *pa_config_keys(size_t *n)
{
    if (n)
        *n = pa_cfg_nkeys;
    return pa_cfg_keys;
}

/* "scan.batch_size" -> parent "scan", leaf "batch_size"; "surfaces" -> "", "surfaces". */
const char *pa_cfg_leaf_of(const char *name)
{
    const char *d = strrchr(name, '.');
    return d ? d + 1 : name;
}

bool pa_cfg_parent_is(const char *name, const char *prefix)
{
    const char *d = strrchr(name, '.');
    size_t plen = d ? (size_t)(d - name) : 0;
    return strlen(prefix) == plen && strncmp(name, prefix, plen) == 0;
}

long pa_cfg_find_key(const char *prefix, const char *leaf)
{
    for (size_t i = 0; i < pa_cfg_nkeys; i++)
        if (pa_cfg_parent_is(pa_cfg_keys[i].name, prefix) && strcmp(pa_cfg_leaf_of(pa_cfg_keys[i].name), leaf) == 0)
            return (long)i;
    return -1;
}

bool pa_cfg_in_scope(const char *name, const struct pa_cfg_scope *s)
{
    size_t l = strlen(s->list);
    if (l == 0)
        return strstr(name, "[]") == NULL;
    return strncmp(name, s->list, l) == 0 && strncmp(name + l, "[].", 3) == 0;
}

const struct pa_cfg_scope *pa_cfg_items_of(size_t k)
{
    for (size_t i = 0; i < pa_cfg_nscopes; i++)
        if (strcmp(pa_cfg_scopes[i].list, pa_cfg_keys[k].name) == 0)
            return &pa_cfg_scopes[i];
    abort(); /* a list of mappings without a row in pa_cfg_scopes: every pa_config_free reaches this */
}

pa_cfg_setter pa_cfg_setter_of(size_t k)
{
    if (pa_cfg_impl[k].set)
        return pa_cfg_impl[k].set;
    switch (pa_cfg_keys[k].type) {
    case PA_KEY_STRING: return pa_cfg_set_string;
    case PA_KEY_INT: return pa_cfg_set_int;
    case PA_KEY_DURATION: return pa_cfg_set_duration;
    case PA_KEY_BOOL: return pa_cfg_set_bool;
    case PA_KEY_PATH: return pa_cfg_set_path;
    case PA_KEY_STRING_LIST: return pa_cfg_set_string_list;
    case PA_KEY_SECTION: return pa_cfg_set_section;
    case PA_KEY_MAP_OF_LISTS: break; /* always a custom setter */
    case PA_KEY_STRING_MAP: break;   /* always a custom setter */
    case PA_KEY_LIST_OF_MAPS: break; /* always a custom setter */
    }
    abort();
}
