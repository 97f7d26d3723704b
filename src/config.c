/* config: the YAML file (libyaml event API) turned into one validated struct pa_config, driven by one key table.
 *
 * The table below (PA_CONFIG_KEY_TABLE) is the single source of truth: it yields the public pa_config_keys() array
 * (docs, --check-config, doc tests) and, row for row, how each key is parsed, checked and stored, and its default
 * (written in YAML and parsed by the same code as the user's value).
 *
 * Must never print or log, never touch the database, never read password files, and never put a conninfo (or
 * anything under database/findings that could be one) into an error message.
 */
#include "config.h"
#include "detect.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_CONFIG_BYTES ((size_t)1024 * 1024)
#define MAX_DEPTH 32    /* the deepest legitimate value is 5 levels down; anything deeper is a mistake or an attack */
#define ECHO_MAX 40     /* bytes of a bad value quoted back in an error */
#define IDENT_MAX 63    /* PostgreSQL's NAMEDATALEN - 1: longer names would be silently truncated by the server */
#define KEYNAME_MAX 256 /* ignore_keys / extra_keys entries */
#define REGEX_MAX 4096
#define DISP_MAX 160 /* "detectors.patterns[123].category" and similar */

/* ---------------------------------------------------------------------------------------------------------------
 * A small tree built from libyaml events: scalars keep their position and whether they were plain (for null).
 * Aliases, tags and NUL bytes are refused while building, so nothing below has to think about them.
 */
enum nkind { N_SCALAR, N_SEQ, N_MAP };

struct node {
    enum nkind kind;
    bool plain;       /* plain scalar (not quoted, not a block scalar) */
    size_t line, col; /* 0-based, as libyaml marks them */
    char *s;          /* scalar text, NUL-terminated (and free of NUL bytes) */
    size_t len;
    struct node **kids; /* sequence items; mapping: key, value, key, value, ... */
    size_t n, cap;
};

struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    bool failed;
    struct pa_config *cfg;
    const struct node *allow_paths; /* detectors.allow_paths, checked once the surfaces are known */
    const struct node *findings_pw; /* findings.password_file, checked against findings.conninfo */
    const struct node *jitter_n;    /* scan.jitter, checked against scan.interval */
    const struct node *tls_cert_n, *tls_key_n, *tls_ca_n; /* metrics.tls.*: both or neither, CA needs both */
};

__attribute__((format(printf, 4, 5))) static int fail_at(struct ctx *c, size_t line, size_t col, const char *fmt, ...)
{
    if (!c->failed && c->err && c->errlen) {
        int n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->file, line + 1, col + 1);
        if (n >= 0 && (size_t)n < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    c->failed = true;
    return -1;
}

#define fail(c, nd, ...) fail_at((c), (nd)->line, (nd)->col, __VA_ARGS__)

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    if (n->s) {
        /* scalars include the conninfo */
        explicit_bzero(n->s, n->len);
        free(n->s);
    }
    free(n->kids);
    free(n);
}

static struct node *node_new(enum nkind kind, const yaml_mark_t *m)
{
    struct node *n = pa_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = m->line;
    n->col = m->column;
    return n;
}

static void node_add(struct node *p, struct node *k)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->kids = pa_xrealloc(p->kids, p->cap * sizeof *p->kids);
    }
    p->kids[p->n++] = k;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* YAML core schema null: an empty plain scalar, ~ or null. */
static bool is_null(const struct node *n)
{
    return n->kind == N_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 || strcmp(n->s, "Null") == 0 ||
            strcmp(n->s, "NULL") == 0);
}

static const char *kind_name(const struct node *n)
{
    switch (n->kind) {
    case N_SEQ: return "a list";
    case N_MAP: return "a mapping";
    case N_SCALAR: break;
    }
    return is_null(n) ? "nothing (null)" : "a single value";
}

/* Quote a scalar for an error: at most ECHO_MAX bytes (not cutting a UTF-8 sequence), control bytes escaped. */
static const char *quote(const char *s, size_t len, char *out, size_t cap)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appendc(&b, '"');
    size_t i = 0;
    for (; i < len && i < ECHO_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            pa_buf_printf(&b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            pa_buf_printf(&b, "\\x%02x", ch);
        else
            pa_buf_appendc(&b, (char)ch);
    }
    while (i < len && i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80 && b.len > 1) {
        /* do not end in the middle of a UTF-8 sequence: drop the partial character */
        i--;
        pa_buf_truncate(&b, b.len - 1);
    }
    pa_buf_appendc(&b, '"');
    if (i < len)
        pa_buf_appends(&b, "...");
    snprintf(out, cap, "%s", b.data);
    pa_buf_free(&b);
    return out;
}

/* What the user wrote, for "got ...": the quoted value unless it may be secret. */
static const char *got(const struct node *n, bool secret, char *out, size_t cap)
{
    if (n->kind != N_SCALAR || is_null(n) || secret)
        return kind_name(n);
    return quote(n->s, n->len, out, cap);
}

/* Key names are echoed only when they look like key names: a conninfo pasted as a key stays out of messages. */
static bool keyish(const struct node *n)
{
    if (n->kind != N_SCALAR || n->len == 0 || n->len > ECHO_MAX)
        return false;
    for (size_t i = 0; i < n->len; i++) {
        char ch = n->s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Events -> tree. */

struct yparser {
    yaml_parser_t p;
    const char *buf;
    size_t len;
};

static int yaml_fail(struct ctx *c, struct yparser *y)
{
    const yaml_parser_t *p = &y->p;
    if (p->error == YAML_MEMORY_ERROR)
        return fail_at(c, 0, 0, "out of memory while parsing YAML");
    if (p->error == YAML_READER_ERROR) {
        /* only a byte offset: find its line and column */
        size_t line = 0, col = 0, end = p->problem_offset < y->len ? p->problem_offset : y->len;
        for (size_t i = 0; i < end; i++) {
            if (y->buf[i] == '\n') {
                line++;
                col = 0;
            } else if (((unsigned char)y->buf[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        const char *problem = p->problem ? p->problem : "unreadable";
        return fail_at(c, line, col, "invalid input: %s%s", problem,
                       strstr(problem, "UTF") ? " (the file must be UTF-8 text)" : "");
    }
    const char *hint = "";
    if (p->problem_mark.index < y->len && y->buf[p->problem_mark.index] == '\t')
        hint = " (YAML does not allow tabs for indentation: use spaces)";
    bool same = p->context_mark.line == p->problem_mark.line && p->context_mark.column == p->problem_mark.column;
    if (p->context && !same)
        return fail_at(c, p->problem_mark.line, p->problem_mark.column,
                       "YAML syntax error: %s (%s at line %zu, column %zu)%s", p->problem ? p->problem : "invalid",
                       p->context, p->context_mark.line + 1, p->context_mark.column + 1, hint);
    return fail_at(c, p->problem_mark.line, p->problem_mark.column, "YAML syntax error: %s%s",
                   p->problem ? p->problem : "invalid", hint);
}

static int next_event(struct ctx *c, struct yparser *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->p, ev))
        return yaml_fail(c, y);
    return 0;
}

/* Build the node for ev (consumed) and everything inside it. NULL on error. */
static struct node *build(struct ctx *c, struct yparser *y, yaml_event_t *ev, size_t depth)
{
    struct node *n = NULL;
    const yaml_mark_t *m = &ev->start_mark;
    if (depth > MAX_DEPTH) {
        fail_at(c, m->line, m->column, "nested more than %d levels deep: this configuration never needs that",
                MAX_DEPTH);
        goto out;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        fail_at(c, m->line, m->column,
                "YAML aliases (*name) are not supported: write the value out in full where it is used");
        goto out;
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.tag) {
            fail_at(c, m->line, m->column, "YAML tags (!name) are not supported: remove the tag");
            goto out;
        }
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            fail_at(c, m->line, m->column, "a NUL character (\\0) is not allowed in the configuration");
            goto out;
        }
        n = node_new(N_SCALAR, m);
        n->s = pa_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        goto out;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if (seq ? ev->data.sequence_start.tag != NULL : ev->data.mapping_start.tag != NULL) {
            fail_at(c, m->line, m->column, "YAML tags (!name) are not supported: remove the tag");
            goto out;
        }
        n = node_new(seq ? N_SEQ : N_MAP, m);
        for (;;) {
            yaml_event_t e;
            if (next_event(c, y, &e)) {
                node_free(n);
                n = NULL;
                goto out;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            struct node *k = build(c, y, &e, depth + 1);
            if (!k) {
                node_free(n);
                n = NULL;
                goto out;
            }
            node_add(n, k);
        }
        goto out;
    }
    default:
        fail_at(c, m->line, m->column, "unexpected YAML structure");
        goto out;
    }
out:
    yaml_event_delete(ev);
    return n;
}

/* Parse buf into a tree. *root is NULL for an empty stream. Returns 0 or -1 (error in c). */
static int load_tree(struct ctx *c, const char *buf, size_t len, struct node **root)
{
    struct yparser y = {.buf = buf, .len = len};
    yaml_event_t ev;
    int ret = -1;
    *root = NULL;
    if (!yaml_parser_initialize(&y.p))
        return fail_at(c, 0, 0, "out of memory while parsing YAML");
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
    if (next_event(c, &y, &ev))
        goto out;
    yaml_event_delete(&ev); /* STREAM-START */
    if (next_event(c, &y, &ev))
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        ret = 0;
        goto out;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(c, &y, &ev))
        goto out;
    *root = build(c, &y, &ev, 0);
    if (!*root)
        goto out;
    if (next_event(c, &y, &ev)) /* DOCUMENT-END */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(c, &y, &ev))
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        fail_at(c, ev.start_mark.line, ev.start_mark.column,
                "a second YAML document (---) is not allowed: keep one document per configuration file");
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev);
    ret = 0;
out:
    if (ret) {
        node_free(*root);
        *root = NULL;
    }
    yaml_parser_delete(&y.p);
    return ret;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* The key table. */

/* Surface and pattern items are parsed into these; the public struct comes first so offsets into it work. */
struct surface_item {
    struct pa_surface s;
    const struct node *schema_n;
    bool qualified; /* table was written schema.table */
};

struct pattern_item {
    struct pa_detect_pattern p;
    const struct node *name_n;
    const struct node *regex_n;
};

typedef int (*setter_fn)(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp);
typedef int (*check_fn)(struct ctx *c, const struct node *n, const char *disp);

enum { F_SECRET = 1, F_SIZE_T = 2 };

struct key_impl {
    unsigned flags;
    setter_fn set;   /* NULL: the generic setter of the key's type */
    check_fn check;  /* extra validation of a string (or of each string of a list) */
    size_t off;      /* where the value goes in the object being filled (config, surface or pattern) */
    size_t off2;     /* lists: where the count goes */
    double min, max; /* integers and durations (seconds) */
};

static int set_section(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_surfaces(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_table(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_ident(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_schema(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_patterns(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_pattern_name(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_pattern_regex(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_allow_paths(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_findings_pw(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_jitter(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_listen(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_tls_file(struct ctx *, size_t, const struct node *, void *, const char *);
static int set_users(struct ctx *, size_t, const struct node *, void *, const char *);
static int check_builtin_category(struct ctx *, const struct node *, const char *);
static int check_category_name(struct ctx *, const struct node *, const char *);
static int check_key_name(struct ctx *, const struct node *, const char *);
static int check_allow_path(struct ctx *, const struct node *, const char *);
static int check_regex_len(struct ctx *, const struct node *, const char *);
static int check_listen(struct ctx *, const struct node *, const char *);

#define C(f) offsetof(struct pa_config, f)
#define S(f) offsetof(struct pa_surface, f)
#define P(f) offsetof(struct pa_detect_pattern, f)
#define MIN_S 60.0
#define H_S 3600.0
#define D_S 86400.0

/* X(name, type, default, required, reloadable, doc, flags, setter, check, offset, count offset, min, max)
 * Keys in documentation order; a section's keys follow it. Defaults are YAML, parsed like user values. */
#define PA_CONFIG_KEY_TABLE(X)                                                                                     \
    X("database", PA_KEY_SECTION, NULL, true, true,                                                                \
      "The PostgreSQL database whose JSONB columns are scanned.", 0, set_section, NULL, 0, 0, 0, 0)                \
    X("database.conninfo", PA_KEY_STRING, NULL, true, true,                                                        \
      "libpq connection string or URI. Secret: never logged, never echoed in errors.", F_SECRET, NULL, NULL,      \
      C(db_conninfo), 0, 0, 0)                                                                                     \
    X("database.password_file", PA_KEY_PATH, NULL, false, true,                                                    \
      "File holding the password (read by the daemon at connect time); unset: libpq's pgpass/service files.", 0, \
      NULL, NULL, C(db_password_file), 0, 0, 0)                                                                    \
    X("findings", PA_KEY_SECTION, NULL, false, true,                                                               \
      "Where findings are written; unset: the scanned database (e.g. scan a standby, write to the primary).", 0,  \
      set_section, NULL, 0, 0, 0, 0)                                                                               \
    X("findings.conninfo", PA_KEY_STRING, NULL, false, true,                                                       \
      "libpq connection string or URI of the findings database. Secret like database.conninfo.", F_SECRET, NULL, \
      NULL, C(findings_conninfo), 0, 0, 0)                                                                         \
    X("findings.password_file", PA_KEY_PATH, NULL, false, true,                                                    \
      "Password file for findings.conninfo (only valid together with it).", 0, set_findings_pw, NULL,             \
      C(findings_password_file), 0, 0, 0)                                                                          \
    X("scan", PA_KEY_SECTION, NULL, false, true, "How the scanner reads the surfaces.", 0, set_section, NULL, 0,   \
      0, 0, 0)                                                                                                     \
    X("scan.batch_size", PA_KEY_INT, "5000", false, true,                                                          \
      "Rows fetched per keyset batch (one short transaction each).", 0, NULL, NULL, C(batch_size), 0, 1, 1000000) \
    X("scan.parallelism", PA_KEY_INT, "1", false, true,                                                           \
      "Readers per scan: each surface's id range is split in this many parts, read (of one or more surfaces) at "  \
      "once.",                                                                                                      \
      0, NULL, NULL, C(parallelism), 0, 1, 16)                                                                        \
    X("scan.statement_timeout", PA_KEY_DURATION, "30s", false, true,                                               \
      "statement_timeout for every scanner query: bounds each batch.", 0, NULL, NULL, C(statement_timeout), 0, 1,  \
      H_S)                                                                                                         \
    X("scan.lock_timeout", PA_KEY_DURATION, "5s", false, true,                                                     \
      "lock_timeout for every scanner query: the scanner waits at most this long behind a lock.", 0, NULL, NULL,  \
      C(lock_timeout), 0, 0.1, 10 * MIN_S)                                                                         \
    X("scan.connect_timeout", PA_KEY_DURATION, "10s", false, true,                                                 \
      "libpq connect_timeout (whole seconds, rounded up) for every connection.", 0, NULL, NULL,                    \
      C(connect_timeout), 0, 2, 10 * MIN_S)                                                                        \
    X("scan.max_rows_per_second", PA_KEY_INT, "0", false, true,                                                    \
      "Throttle: rows read per second across all surfaces; 0 = unlimited.", 0, NULL, NULL,                         \
      C(max_rows_per_second), 0, 0, 1000000000)                                                                    \
    X("scan.full_scan_interval", PA_KEY_DURATION, "7d", false, true,                                               \
      "How often every surface is rescanned from the start (between full scans only new rows are read).", 0,      \
      NULL, NULL, C(full_scan_interval), 0, MIN_S, 365 * D_S)                                                      \
    X("scan.max_findings_per_record", PA_KEY_INT, "1000", false, true,                                             \
      "Findings kept per record (row); past it the record is marked truncated. 0 = unlimited.", F_SIZE_T, NULL,    \
      NULL, C(detect.max_findings_per_record), 0, 0, 1000000)                                                      \
    X("scan.interval", PA_KEY_DURATION, "1h", false, true,                                                        \
      "Daemon: time from the end of one scan to the start of the next (plus jitter).", 0, NULL, NULL,              \
      C(interval), 0, MIN_S, 30 * D_S)                                                                             \
    X("scan.jitter", PA_KEY_DURATION, NULL, false, true,                                                           \
      "Daemon: random extra delay (0 .. jitter) added to each interval; unset: 10% of scan.interval; must be less " \
      "than scan.interval.", 0, set_jitter, NULL, C(jitter), 0, 0, 30 * D_S)                                        \
    X("scan.initial_delay", PA_KEY_DURATION, "0s", false, true,                                                    \
      "Daemon: wait this long after start before the first scan; 0s = scan at launch.", 0, NULL, NULL,              \
      C(initial_delay), 0, 0, D_S)                                                                                 \
    X("surfaces", PA_KEY_LIST_OF_MAPS, NULL, true, true,                                                           \
      "The JSON/JSONB (or text) columns to scan: a non-empty list of table/column items.", 0, set_surfaces, NULL,  \
      0, 0, 0, 0)                                                                                                  \
    X("surfaces[].table", PA_KEY_STRING, NULL, true, true,                                                         \
      "Table name, schema.table or table (schema public); SQL identifier rules, see Identifiers.", 0, set_table,   \
      NULL, S(table), 0, 0, 0)                                                                                     \
    X("surfaces[].schema", PA_KEY_STRING, NULL, false, true,                                                       \
      "Schema, as an alternative to a schema-qualified table; default public.", 0, set_schema, NULL, S(schema), 0, \
      0, 0)                                                                                                        \
    X("surfaces[].column", PA_KEY_STRING, NULL, true, true, "The column holding the JSON documents.", 0,          \
      set_ident, NULL, S(column), 0, 0, 0)                                                                         \
    X("surfaces[].id_column", PA_KEY_STRING, NULL, false, true,                                                    \
      "Column identifying a row in findings and ordering batches; unset: the single-column primary key.", 0,      \
      set_ident, NULL, S(id_column), 0, 0, 0)                                                                      \
    X("detectors", PA_KEY_SECTION, NULL, false, true, "Tuning of the built-in detectors and custom patterns.", 0,  \
      set_section, NULL, 0, 0, 0, 0)                                                                               \
    X("detectors.disable", PA_KEY_STRING_LIST, "[]", false, true,                                                  \
      "Built-in categories switched off entirely (key and value detectors).", 0, NULL, check_builtin_category,    \
      C(detect.disable), C(detect.n_disable), 0, 0)                                                                \
    X("detectors.extra_keys", PA_KEY_MAP_OF_LISTS, "{}", false, true,                                              \
      "category: [key, ...] added to the key dictionary; the category may be built-in or new.", 0, NULL, NULL, 0,  \
      0, 0, 0)                                                                                                     \
    X("detectors.ignore_keys", PA_KEY_STRING_LIST, "[]", false, true,                                              \
      "Key names (normalized) never reported, nor anything below them.", 0, NULL, check_key_name,                  \
      C(detect.ignore_keys), C(detect.n_ignore_keys), 0, 0)                                                        \
    X("detectors.allow_paths", PA_KEY_STRING_LIST, "[]", false, true,                                              \
      "\"schema.table.column:$.path\" entries never reported; exact paths as findings show them, [*] = any index.", \
      0, set_allow_paths, check_allow_path, C(detect.allow_paths), C(detect.n_allow_paths), 0, 0)                  \
    X("detectors.patterns", PA_KEY_LIST_OF_MAPS, "[]", false, true,                                                \
      "Custom value patterns (Hyperscan regexes), each reported under its category.", 0, set_patterns, NULL, 0, 0, \
      0, 0)                                                                                                        \
    X("detectors.patterns[].name", PA_KEY_STRING, NULL, true, true,                                                \
      "Rule name reported with findings: [a-z][a-z0-9_]*, unique.", 0, set_pattern_name, NULL, P(name), 0, 0, 0)   \
    X("detectors.patterns[].category", PA_KEY_STRING, NULL, true, true,                                            \
      "Category of what it finds: built-in or new, [a-z][a-z0-9_]*.", 0, NULL, check_category_name, P(category),  \
      0, 0, 0)                                                                                                     \
    X("detectors.patterns[].regex", PA_KEY_STRING, NULL, true, true,                                               \
      "The expression (Hyperscan syntax: no backreferences or lookarounds), checked at load.", 0,                  \
      set_pattern_regex, check_regex_len, P(regex), 0, 0, 0)                                                       \
    X("guardrail", PA_KEY_SECTION, NULL, false, true,                                                              \
      "The write-time guardrail SQL printed by --print-guardrail-sql (the daemon itself does not use it).", 0,     \
      set_section, NULL, 0, 0, 0, 0)                                                                               \
    X("guardrail.nested_keys", PA_KEY_BOOL, "false", false, true,                                                  \
      "Triggers check keys at any depth, not only the document's own keys (slower inserts: docs/performance.md).", \
      0, NULL, NULL, C(guardrail_nested_keys), 0, 0, 0)                                                            \
    X("metrics", PA_KEY_SECTION, NULL, false, false,                                                               \
      "The Prometheus /metrics endpoint (HTTP, optional TLS and basic auth); see Metrics endpoint.", 0,            \
      set_section, NULL, 0, 0, 0, 0)                                                                               \
    X("metrics.listen", PA_KEY_STRING_LIST, "[\"" PA_DEFAULT_METRICS_LISTEN "\"]", false, false,                   \
      "Addresses to listen on (a list or one string): host:port, [ipv6]:port, or :port for all interfaces.", 0,    \
      set_listen, check_listen, C(web.listen), C(web.n_listen), 0, 0)                                              \
    X("metrics.tls", PA_KEY_SECTION, NULL, false, false,                                                           \
      "HTTPS for the endpoint: cert_file and key_file together, optionally client_ca_file.", 0, set_section, NULL, \
      0, 0, 0, 0)                                                                                                  \
    X("metrics.tls.cert_file", PA_KEY_PATH, NULL, false, false,                                                    \
      "PEM server certificate (chain), read at start; with key_file the endpoint speaks only HTTPS.", 0,           \
      set_tls_file, NULL, C(web.tls_cert_file), 0, 0, 0)                                                           \
    X("metrics.tls.key_file", PA_KEY_PATH, NULL, false, false,                                                     \
      "PEM private key of cert_file, read at start (mode 0600, owned by the daemon's user).", 0, set_tls_file,     \
      NULL, C(web.tls_key_file), 0, 0, 0)                                                                          \
    X("metrics.tls.client_ca_file", PA_KEY_PATH, NULL, false, false,                                               \
      "PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS).", 0, set_tls_file,      \
      NULL, C(web.tls_client_ca_file), 0, 0, 0)                                                                    \
    X("metrics.basic_auth_users", PA_KEY_STRING_MAP, "{}", false, false,                                           \
      "user: bcrypt hash ($2a$, $2b$ or $2y$); when set, every path but /healthz needs HTTP basic auth.", F_SECRET, set_users,   \
      NULL, 0, 0, 0, 0)                                                                                            \
    X("metrics.max_connections", PA_KEY_INT, "64", false, false,                                                   \
      "Concurrent connections per listen address; more are refused.", 0, NULL, NULL, C(web.max_connections), 0, 1, \
      10000)                                                                                                       \
    X("metrics.connection_timeout", PA_KEY_DURATION, "10s", false, false,                                          \
      "An idle or slow connection is closed after this long.", 0, NULL, NULL, C(web.connection_timeout), 0, 1,      \
      5 * MIN_S)

#define X_PUB(name, type, dflt, req, rel, doc, ...) {name, type, dflt, req, rel, doc},
#define X_IMPL(name, type, dflt, req, rel, doc, flags, set, check, off, off2, mn, mx)                              \
    {flags, set, check, off, off2, mn, mx},

static const struct pa_config_key keys[] = {PA_CONFIG_KEY_TABLE(X_PUB)};
static const struct key_impl impl[] = {PA_CONFIG_KEY_TABLE(X_IMPL)};
#define NKEYS PA_ARRAY_LEN(keys)
_Static_assert(PA_ARRAY_LEN(keys) == PA_ARRAY_LEN(impl), "one implementation row per key");

const struct pa_config_key *pa_config_keys(size_t *n)
{
    if (n)
        *n = NKEYS;
    return keys;
}

/* "scan.batch_size" -> parent "scan", leaf "batch_size"; "surfaces" -> "", "surfaces". */
static const char *leaf_of(const char *name)
{
    const char *d = strrchr(name, '.');
    return d ? d + 1 : name;
}

static bool parent_is(const char *name, const char *prefix)
{
    const char *d = strrchr(name, '.');
    size_t plen = d ? (size_t)(d - name) : 0;
    return strlen(prefix) == plen && strncmp(name, prefix, plen) == 0;
}

static long find_key(const char *prefix, const char *leaf)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (parent_is(keys[i].name, prefix) && strcmp(leaf_of(keys[i].name), leaf) == 0)
            return (long)i;
    return -1;
}

static size_t levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* A closest name in names[] (NULL-terminated list via callback) within a small edit distance. */
static const char *suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(word, names[i]);
        if (d < bestd) {
            bestd = d;
            best = names[i];
        }
    }
    size_t limit = wl > 9 ? 3 : wl > 4 ? 2 : 1;
    return bestd <= limit ? best : NULL;
}

static int unknown_key(struct ctx *c, const struct node *kn, const char *prefix, const char *dprefix)
{
    char where[DISP_MAX + 8], keyq[ECHO_MAX * 4 + 8];
    if (*dprefix)
        snprintf(where, sizeof where, " in %s", dprefix);
    else
        snprintf(where, sizeof where, " at the top level");
    const char *sib[NKEYS];
    size_t ns = 0;
    for (size_t i = 0; i < NKEYS; i++)
        if (parent_is(keys[i].name, prefix))
            sib[ns++] = leaf_of(keys[i].name);
    struct pa_buf list;
    pa_buf_init(&list);
    for (size_t i = 0; i < ns; i++)
        pa_buf_printf(&list, "%s%s", i ? ", " : "", sib[i]);
    int r;
    if (!keyish(kn)) {
        r = fail(c, kn, "unknown key (not shown)%s: expected one of %s", where, list.data);
        goto out;
    }
    quote(kn->s, kn->len, keyq, sizeof keyq);
    const char *s = suggest(kn->s, sib, ns);
    if (s) {
        r = fail(c, kn, "unknown key %s%s (did you mean \"%s\"?)", keyq, where, s);
        goto out;
    }
    /* the right key at the wrong level */
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(leaf_of(keys[i].name), kn->s) == 0) {
            r = fail(c, kn, "unknown key %s%s (did you mean %s? it belongs under %.*s)", keyq, where, keys[i].name,
                     (int)(leaf_of(keys[i].name) - keys[i].name - 1), keys[i].name);
            goto out;
        }
    }
    r = fail(c, kn, "unknown key %s%s (expected one of %s)", keyq, where, list.data);
out:
    pa_buf_free(&list);
    return r;
}

static setter_fn setter_of(size_t k);

static int apply_default(struct ctx *c, size_t k, void *obj, const char *disp)
{
    struct node *n = NULL;
    struct ctx dc = {.file = "<built-in default>", .err = c->err, .errlen = c->errlen, .cfg = c->cfg};
    if (load_tree(&dc, keys[k].dflt, strlen(keys[k].dflt), &n) || !n) {
        c->failed = true;
        return -1;
    }
    /* a default that does not parse is a bug in the table: test_defaults loads them all */
    int r = setter_of(k)(&dc, k, n, obj, disp);
    if (dc.failed)
        c->failed = true;
    node_free(n);
    return r;
}

/* Parse one mapping (m may be NULL: section absent or null) whose keys are the table's children of prefix. */
static int parse_mapping(struct ctx *c, const struct node *m, const struct node *where, const char *prefix,
                         const char *dprefix, void *obj)
{
    const struct node *keyn[NKEYS], *valn[NKEYS];
    memset(keyn, 0, sizeof keyn);
    memset(valn, 0, sizeof valn);
    char disp[DISP_MAX];
    for (size_t i = 0; m && i + 1 < m->n; i += 2) {
        const struct node *kn = m->kids[i], *vn = m->kids[i + 1];
        if (kn->kind != N_SCALAR || is_null(kn))
            return fail(c, kn, "%s: keys must be plain names, got %s", *dprefix ? dprefix : "top level",
                        kind_name(kn));
        if (strcmp(kn->s, "<<") == 0)
            return fail(c, kn, "YAML merge keys (<<) are not supported: write the keys out in full");
        long k = find_key(prefix, kn->s);
        if (k < 0)
            return unknown_key(c, kn, prefix, dprefix);
        if (keyn[k])
            return fail(c, kn, "duplicate key \"%s\"%s%s (first set at line %zu): keep one", kn->s,
                        *dprefix ? " in " : " at the top level", dprefix, keyn[k]->line + 1);
        keyn[k] = kn;
        valn[k] = vn;
        if (is_null(vn))
            continue; /* as if absent: the default applies */
        snprintf(disp, sizeof disp, "%s%s%s", dprefix, *dprefix ? "." : "", kn->s);
        if (setter_of((size_t)k)(c, (size_t)k, vn, obj, disp))
            return -1;
    }
    for (size_t k = 0; k < NKEYS; k++) {
        if (!parent_is(keys[k].name, prefix) || (valn[k] && !is_null(valn[k])))
            continue;
        const char *leaf = leaf_of(keys[k].name);
        snprintf(disp, sizeof disp, "%s%s%s", dprefix, *dprefix ? "." : "", leaf);
        if (keys[k].required) {
            if (valn[k])
                return fail(c, valn[k], "%s: a value is required here", disp);
            if (*dprefix)
                return fail(c, where, "%s: missing required key \"%s\"", dprefix, leaf);
            return fail(c, where, "missing required top-level key \"%s\"", leaf);
        }
        if (keys[k].type == PA_KEY_SECTION) {
            if (parse_mapping(c, NULL, valn[k] ? valn[k] : where, keys[k].name, disp, obj))
                return -1;
        } else if (keys[k].dflt) {
            if (apply_default(c, k, obj, disp))
                return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Generic setters, one per type. */

static void *field(void *obj, size_t off)
{
    return (char *)obj + off;
}

static int need_string(struct ctx *c, size_t k, const struct node *n, const char *disp, const char *what)
{
    if (n->kind != N_SCALAR || is_null(n))
        return fail(c, n, "%s: expected %s, got %s", disp, what, kind_name(n));
    if (n->len == 0)
        return fail(c, n, "%s: must not be empty", disp);
    if (impl[k].check && impl[k].check(c, n, disp))
        return -1;
    return 0;
}

static int set_string(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    if (need_string(c, k, n, disp, "a string"))
        return -1;
    *(char **)field(obj, impl[k].off) = pa_xstrndup(n->s, n->len);
    return 0;
}

static int set_path(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    if (need_string(c, k, n, disp, "a file path such as /etc/pii-auditd/db-password"))
        return -1;
    *(char **)field(obj, impl[k].off) = pa_xstrndup(n->s, n->len);
    return 0;
}

/* Decimal only: no sign other than '-', no leading zeros (YAML 1.1 reads 010 as octal), no 1e3, no 0x10. */
static bool parse_int(const char *s, long long *v)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    if (!*s || (s[0] == '0' && s[1]))
        return false;
    long long x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > 100000000000000000LL)
            return false;
        x = x * 10 + (*s - '0');
    }
    *v = neg ? -x : x;
    return true;
}

static int set_int(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    long long v = 0;
    if (n->kind != N_SCALAR || !parse_int(n->s, &v) || v < (long long)impl[k].min || v > (long long)impl[k].max)
        return fail(c, n, "%s: expected an integer between %lld and %lld, got %s", disp, (long long)impl[k].min,
                    (long long)impl[k].max, got(n, false, q, sizeof q));
    if (impl[k].flags & F_SIZE_T)
        *(size_t *)field(obj, impl[k].off) = (size_t)v;
    else
        *(long long *)field(obj, impl[k].off) = v;
    return 0;
}

/* pa_format_duration, but 0 reads "0s" (not "0ms") in ranges. */
static void fmt_dur(double v, char *out, size_t cap)
{
    if (v == 0)
        snprintf(out, cap, "0s");
    else
        pa_format_duration(v, out, cap);
}

static int set_duration(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8], lo[32], hi[32];
    double v;
    if (n->kind != N_SCALAR || pa_parse_duration(n->s, &v))
        return fail(c, n, "%s: expected a duration such as 30s, 15m, 1h or 7d (units ms, s, m, h, d, w), got %s",
                    disp, got(n, false, q, sizeof q));
    if (v < impl[k].min || v > impl[k].max) {
        fmt_dur(impl[k].min, lo, sizeof lo);
        fmt_dur(impl[k].max, hi, sizeof hi);
        return fail(c, n, "%s: expected a duration between %s and %s, got %s", disp, lo, hi,
                    got(n, false, q, sizeof q));
    }
    *(double *)field(obj, impl[k].off) = v;
    return 0;
}

static int set_bool(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    if (n->kind == N_SCALAR) {
        for (size_t i = 0; i < PA_ARRAY_LEN(yes); i++) {
            if (ieq(n->s, yes[i]) || ieq(n->s, no[i])) {
                *(bool *)field(obj, impl[k].off) = ieq(n->s, yes[i]);
                return 0;
            }
        }
    }
    return fail(c, n, "%s: expected true or false (or yes/no, on/off), got %s", disp, got(n, false, q, sizeof q));
}

static int set_string_list(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8], idisp[DISP_MAX];
    if (n->kind != N_SEQ)
        return fail(c, n, "%s: expected a list of strings such as [a, b], got %s", disp, got(n, false, q, sizeof q));
    char ***arr = field(obj, impl[k].off);
    size_t *cnt = field(obj, impl[k].off2);
    *arr = pa_xcalloc(n->n, sizeof **arr);
    *cnt = 0;
    for (size_t i = 0; i < n->n; i++) {
        snprintf(idisp, sizeof idisp, "%s[%zu]", disp, i);
        if (need_string(c, k, n->kids[i], idisp, "a string"))
            return -1;
        (*arr)[(*cnt)++] = pa_xstrndup(n->kids[i]->s, n->kids[i]->len);
    }
    return 0;
}

static int set_section(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    if (n->kind != N_MAP)
        return fail(c, n, "%s: expected a mapping (indented key: value lines), got %s", disp, kind_name(n));
    return parse_mapping(c, n, n, keys[k].name, disp, obj);
}

/* Index of the first item (in list order) equal to an earlier one, or -1; *first: that earlier one. */
struct dupent {
    const char *s;
    size_t i;
};

static int dupcmp(const void *a, const void *b)
{
    const struct dupent *x = a, *y = b;
    int r = strcmp(x->s, y->s);
    return r ? r : (x->i > y->i) - (x->i < y->i);
}

static long first_duplicate(const char *const *strs, size_t n, size_t *first)
{
    if (n < 2)
        return -1;
    struct dupent *e = pa_xmalloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (struct dupent){strs[i], i};
    qsort(e, n, sizeof *e, dupcmp);
    long best = -1;
    for (size_t i = 1; i < n; i++) {
        /* in a run of equal strings the first is the original and the second the earliest duplicate */
        if (strcmp(e[i].s, e[i - 1].s) == 0 && (i < 2 || strcmp(e[i - 1].s, e[i - 2].s) != 0) &&
            (best < 0 || e[i].i < (size_t)best)) {
            best = (long)e[i].i;
            *first = e[i - 1].i;
        }
    }
    free(e);
    return best;
}

static bool is_name(const char *s, size_t len)
{
    if (len == 0 || len > IDENT_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int set_extra_keys(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    (void)k;
    char q[ECHO_MAX * 4 + 8], idisp[DISP_MAX];
    struct pa_detect_options *o = &((struct pa_config *)obj)->detect;
    if (n->kind != N_MAP)
        return fail(c, n, "%s: expected a mapping of category: [key, ...] such as {national_id: [tax_ref]}, got %s",
                    disp, kind_name(n));
    size_t nc = n->n / 2, first = 0;
    const char **cats = pa_xmalloc((nc ? nc : 1) * sizeof *cats);
    for (size_t i = 0; i < nc; i++) {
        const struct node *kn = n->kids[2 * i];
        if (kn->kind != N_SCALAR || !is_name(kn->s, kn->len)) {
            free(cats);
            return fail(c, kn,
                        "%s: category %s must be a name of lower-case letters, digits and _ (starting with a letter, "
                        "at most 63 bytes), such as national_id",
                        disp, got(kn, false, q, sizeof q));
        }
        cats[i] = kn->s;
    }
    long d = first_duplicate(cats, nc, &first);
    free(cats);
    if (d >= 0)
        return fail(c, n->kids[2 * (size_t)d], "duplicate key \"%s\" in %s (first set at line %zu): keep one",
                    n->kids[2 * (size_t)d]->s, disp, n->kids[2 * first]->line + 1);
    size_t total = 0;
    for (size_t i = 0; i < nc; i++)
        total += n->kids[2 * i + 1]->kind == N_SEQ ? n->kids[2 * i + 1]->n : 0;
    o->extra_keys = pa_xcalloc(total ? total : 1, sizeof *o->extra_keys);
    for (size_t i = 0; i < nc; i++) {
        const struct node *kn = n->kids[2 * i], *vn = n->kids[2 * i + 1];
        snprintf(idisp, sizeof idisp, "%s.%s", disp, kn->s);
        if (vn->kind != N_SEQ)
            return fail(c, vn, "%s: expected a list of key names such as [employee_tax_ref], got %s", idisp,
                        got(vn, false, q, sizeof q));
        for (size_t j = 0; j < vn->n; j++) {
            char jdisp[DISP_MAX + 24];
            snprintf(jdisp, sizeof jdisp, "%s[%zu]", idisp, j);
            const struct node *e = vn->kids[j];
            if (e->kind != N_SCALAR || is_null(e) || e->len == 0)
                return fail(c, e, "%s: expected a key name, got %s", jdisp, kind_name(e));
            if (check_key_name(c, e, jdisp))
                return -1;
            o->extra_keys[o->n_extra_keys].category = pa_xstrndup(kn->s, kn->len);
            o->extra_keys[o->n_extra_keys].key = pa_xstrndup(e->s, e->len);
            o->n_extra_keys++;
        }
    }
    return 0;
}

static setter_fn setter_of(size_t k)
{
    if (impl[k].set)
        return impl[k].set;
    switch (keys[k].type) {
    case PA_KEY_STRING: return set_string;
    case PA_KEY_INT: return set_int;
    case PA_KEY_DURATION: return set_duration;
    case PA_KEY_BOOL: return set_bool;
    case PA_KEY_PATH: return set_path;
    case PA_KEY_STRING_LIST: return set_string_list;
    case PA_KEY_MAP_OF_LISTS: return set_extra_keys;
    case PA_KEY_STRING_MAP: break; /* always a custom setter */
    case PA_KEY_SECTION: return set_section;
    case PA_KEY_LIST_OF_MAPS: break; /* always a custom setter */
    }
    abort();
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Identifiers: PostgreSQL rules. Unquoted parts fold to lower case; "..." keeps everything, "" is a quote. */

/* Split a dotted name into at most maxparts unquoted names. Returns the count, -1 (*why set) or -2 (too many). */
static int parse_idents(const char *s, size_t len, char **parts, int maxparts, const char **why)
{
    int np = 0;
    size_t i = 0;
    struct pa_buf b;
    pa_buf_init(&b);
    for (;;) {
        pa_buf_truncate(&b, 0);
        pa_buf_reserve(&b, 0);
        if (i < len && s[i] == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    *why = "unterminated quoted identifier: add the closing \"";
                    goto bad;
                }
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        pa_buf_appendc(&b, '"');
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
                    /* legal in PostgreSQL, but it would break log lines and metric labels */
                    *why = "a control character (tab, newline, ...) in a name";
                    goto bad;
                }
                pa_buf_appendc(&b, s[i]);
            }
            if (b.len == 0) {
                *why = "a quoted identifier (\"\") cannot be empty";
                goto bad;
            }
        } else {
            for (; i < len && s[i] != '.'; i++) {
                unsigned char ch = (unsigned char)s[i];
                bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
                bool digit = (ch >= '0' && ch <= '9') || ch == '$';
                if (!alpha && !(digit && b.len > 0)) {
                    *why = digit ? "an unquoted name cannot start with a digit or $: quote it (\"1st\")"
                           : ch == '"'
                               ? "a quote inside a name: quote the whole part and double inner quotes (\"a\"\"b\")"
                               : "unquoted names may only hold letters, digits, _ and $: quote names with spaces or "
                                 "punctuation (\"My Table\")";
                    goto bad;
                }
                pa_buf_appendc(&b, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
            }
            if (b.len == 0) {
                *why = "a name part is empty (check the dots)";
                goto bad;
            }
        }
        if (b.len > IDENT_MAX) {
            *why = "a name is longer than 63 bytes, PostgreSQL's limit";
            goto bad;
        }
        if (np == maxparts) {
            pa_buf_free(&b);
            goto many;
        }
        parts[np++] = pa_xstrndup(b.data, b.len);
        if (i == len)
            break;
        if (s[i] != '.') {
            *why = "after a quoted name expected a dot or the end";
            goto bad;
        }
        i++;
        if (i == len) {
            *why = "a name part is empty (check the dots)";
            goto bad;
        }
    }
    pa_buf_free(&b);
    return np;
bad:
    pa_buf_free(&b);
    for (int j = 0; j < np; j++)
        free(parts[j]);
    return -1;
many:
    for (int j = 0; j < np; j++)
        free(parts[j]);
    return -2;
}

static int set_table(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    struct surface_item *it = obj;
    char q[ECHO_MAX * 4 + 8], *parts[2];
    const char *why = NULL;
    if (need_string(c, k, n, disp, "a table name such as public.events"))
        return -1;
    int np = parse_idents(n->s, n->len, parts, 2, &why);
    if (np == -2)
        return fail(c, n,
                    "%s: invalid table name %s: expected table or schema.table (quote a name that contains a dot: "
                    "'\"my.table\"')",
                    disp, got(n, false, q, sizeof q));
    if (np < 0)
        return fail(c, n, "%s: invalid table name %s: %s", disp, got(n, false, q, sizeof q), why);
    if (np == 2) {
        if (it->schema_n) { /* schema: came first */
            free(parts[0]);
            free(parts[1]);
            return fail(c, n, "%s: the table name is schema-qualified and schema is set too (line %zu): remove "
                        "schema or write the table without its schema", disp, it->schema_n->line + 1);
        }
        it->s.schema = parts[0];
        it->s.table = parts[1];
        it->qualified = true;
    } else {
        it->s.table = parts[0];
    }
    return 0;
}

static int set_ident(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8], *parts[1];
    const char *why = NULL;
    if (need_string(c, k, n, disp, "a name"))
        return -1;
    int np = parse_idents(n->s, n->len, parts, 1, &why);
    if (np == -2)
        return fail(c, n, "%s: invalid name %s: expected one name (quote a name that contains a dot: '\"a.b\"')",
                    disp, got(n, false, q, sizeof q));
    if (np < 0)
        return fail(c, n, "%s: invalid name %s: %s", disp, got(n, false, q, sizeof q), why);
    *(char **)field(obj, impl[k].off) = parts[0];
    return 0;
}

static int set_schema(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    struct surface_item *it = obj;
    if (it->qualified)
        return fail(c, n, "%s: the table name is already schema-qualified: remove schema or write the table "
                    "without its schema", disp);
    it->schema_n = n;
    return set_ident(c, k, n, obj, disp);
}

static void surface_clear(struct pa_surface *s)
{
    free(s->schema);
    free(s->table);
    free(s->column);
    free(s->id_column);
    free(s->name);
}

static int set_surfaces(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    (void)k;
    struct pa_config *cfg = obj;
    char idisp[DISP_MAX], q[ECHO_MAX * 4 + 8];
    if (n->kind != N_SEQ)
        return fail(c, n, "%s: expected a list of surfaces (- table: schema.table, column: name), got %s", disp,
                    kind_name(n));
    if (n->n == 0)
        return fail(c, n, "%s: at least one surface is required (- table: schema.table, column: name)", disp);
    cfg->surfaces = pa_xcalloc(n->n, sizeof *cfg->surfaces);
    for (size_t i = 0; i < n->n; i++) {
        const struct node *item = n->kids[i];
        snprintf(idisp, sizeof idisp, "%s[%zu]", disp, i);
        if (item->kind != N_MAP)
            return fail(c, item, "%s: expected a mapping with table and column, got %s", idisp,
                        got(item, false, q, sizeof q));
        struct surface_item it = {.s = {.line = (int)item->line + 1}};
        int r = parse_mapping(c, item, item, "surfaces[]", idisp, &it);
        if (r) {
            surface_clear(&it.s);
            return -1;
        }
        if (!it.s.schema)
            it.s.schema = pa_xstrdup("public");
        it.s.name = pa_xasprintf("%s.%s.%s", it.s.schema, it.s.table, it.s.column);
        cfg->surfaces[cfg->n_surfaces++] = it.s;
    }
    const char **names = pa_xmalloc(cfg->n_surfaces * sizeof *names);
    for (size_t i = 0; i < cfg->n_surfaces; i++)
        names[i] = cfg->surfaces[i].name;
    size_t first = 0;
    long d = first_duplicate(names, cfg->n_surfaces, &first);
    free(names);
    if (d >= 0)
        return fail(c, n->kids[(size_t)d], "%s[%ld]: duplicate surface %s (already configured as %s[%zu] at line %zu)",
                    disp, d, quote(cfg->surfaces[d].name, strlen(cfg->surfaces[d].name), q, sizeof q), disp, first,
                    n->kids[first]->line + 1);
    return 0;
}

static int set_pattern_name(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    struct pattern_item *it = obj;
    if (need_string(c, k, n, disp, "a pattern name"))
        return -1;
    if (!is_name(n->s, n->len))
        return fail(c, n,
                    "%s: expected a name of lower-case letters, digits and _ (starting with a letter, at most 63 "
                    "bytes) such as employee_id, got %s",
                    disp, got(n, false, q, sizeof q));
    it->name_n = n;
    return set_string(c, k, n, obj, disp);
}

static int set_pattern_regex(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    struct pattern_item *it = obj;
    it->regex_n = n;
    return set_string(c, k, n, obj, disp);
}

static void pattern_clear(struct pa_detect_pattern *p)
{
    free(p->name);
    free(p->category);
    free(p->regex);
}

static int set_patterns(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    (void)k;
    struct pa_detect_options *o = &((struct pa_config *)obj)->detect;
    char idisp[DISP_MAX], q[ECHO_MAX * 4 + 8], msg[512];
    if (n->kind != N_SEQ)
        return fail(c, n, "%s: expected a list of patterns (- {name: ..., category: ..., regex: ...}), got %s", disp,
                    kind_name(n));
    o->patterns = pa_xcalloc(n->n ? n->n : 1, sizeof *o->patterns);
    for (size_t i = 0; i < n->n; i++) {
        const struct node *item = n->kids[i];
        snprintf(idisp, sizeof idisp, "%s[%zu]", disp, i);
        if (item->kind != N_MAP)
            return fail(c, item, "%s: expected a mapping with name, category and regex, got %s", idisp,
                        got(item, false, q, sizeof q));
        struct pattern_item it = {0};
        int r = parse_mapping(c, item, item, "detectors.patterns[]", idisp, &it);
        if (r) {
            pattern_clear(&it.p);
            return -1;
        }
        o->patterns[o->n_patterns++] = it.p;
        msg[0] = '\0';
        if (pa_detect_check_regex(it.p.regex, msg, sizeof msg)) {
            for (char *m = msg; *m; m++) /* keep the error on one line whatever the message holds */
                if ((unsigned char)*m < 0x20)
                    *m = ' ';
            return fail(c, it.regex_n, "%s.regex: pattern \"%s\": %s", idisp, it.p.name,
                        msg[0] ? msg : "the regex does not compile for Hyperscan");
        }
    }
    const char **names = pa_xmalloc((o->n_patterns ? o->n_patterns : 1) * sizeof *names);
    for (size_t i = 0; i < o->n_patterns; i++)
        names[i] = o->patterns[i].name;
    size_t first = 0;
    long d = first_duplicate(names, o->n_patterns, &first);
    free(names);
    if (d >= 0) {
        /* the item's name node: find it again (items are mappings, the name key is there) */
        const struct node *item = n->kids[(size_t)d], *at = item;
        for (size_t j = 0; j + 1 < item->n; j += 2)
            if (strcmp(item->kids[j]->s, "name") == 0)
                at = item->kids[j + 1];
        return fail(c, at, "%s[%ld].name: duplicate pattern name \"%s\" (also %s[%zu] at line %zu): names must be "
                    "unique", disp, d, o->patterns[d].name, disp, first, n->kids[first]->line + 1);
    }
    return 0;
}

static int check_builtin_category(struct ctx *c, const struct node *n, const char *disp)
{
    if (pa_category_from_name(n->s) >= 0)
        return 0;
    char q[ECHO_MAX * 4 + 8];
    const char *names[PA_CAT_BUILTIN_COUNT];
    struct pa_buf list;
    pa_buf_init(&list);
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++) {
        names[i] = pa_category_name(i);
        pa_buf_printf(&list, "%s%s", i ? ", " : "", names[i] ? names[i] : "?");
    }
    const char *s = suggest(n->s, names, PA_CAT_BUILTIN_COUNT);
    char hint[96] = "";
    if (s)
        snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", s);
    int r = fail(c, n, "%s: unknown category %s%s; built-in categories are: %s", disp, got(n, false, q, sizeof q),
                 hint, list.data);
    pa_buf_free(&list);
    return r;
}

static int check_category_name(struct ctx *c, const struct node *n, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    if (is_name(n->s, n->len))
        return 0;
    return fail(c, n,
                "%s: expected a category name of lower-case letters, digits and _ (starting with a letter, at most "
                "63 bytes) such as employee_id, got %s",
                disp, got(n, false, q, sizeof q));
}

static int check_key_name(struct ctx *c, const struct node *n, const char *disp)
{
    if (n->len > KEYNAME_MAX)
        return fail(c, n, "%s: a key name longer than %d bytes never matches: shorten it", disp, KEYNAME_MAX);
    return 0;
}

static int check_regex_len(struct ctx *c, const struct node *n, const char *disp)
{
    if (n->len > REGEX_MAX)
        return fail(c, n, "%s: the regex is longer than %d bytes", disp, REGEX_MAX);
    return 0;
}

/* A JSONPath as the walker renders it: $ then .name (identifier), .<label> (redacted key), ["other name"], [N] or
 * [*]. Returns NULL when valid, else why not. */
static const char *json_path_error(const char *p, size_t len)
{
    if (len == 0 || p[0] != '$')
        return "the JSON path must start with $ (such as $.merchant.contact.email)";
    size_t i = 1;
    while (i < len) {
        if (p[i] == '.') {
            size_t st = ++i;
            if (i < len && p[i] == '<') {
                for (i++; i < len && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_');
                     i++) {
                }
                if (i == st + 1 || i >= len || p[i] != '>')
                    return "a redacted key is written .<category>";
                i++;
                continue;
            }
            for (; i < len; i++) {
                char ch = p[i];
                bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                          (i > st && ch >= '0' && ch <= '9');
                if (!ok)
                    break;
            }
            if (i == st)
                return "after . expected a member name made of letters, digits and _ (write other names as "
                       "[\"my name\"])";
            continue;
        }
        if (p[i] != '[')
            return "unexpected character: write members as .name or [\"other name\"] and array items as [N] or [*]";
        i++;
        if (i < len && p[i] == '*') {
            i++;
        } else if (i < len && p[i] >= '0' && p[i] <= '9') {
            if (p[i] == '0' && i + 1 < len && p[i + 1] != ']')
                return "an array index has no leading zeros";
            while (i < len && p[i] >= '0' && p[i] <= '9')
                i++;
        } else if (i < len && p[i] == '"') {
            size_t st = ++i;
            bool simple = i < len && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_');
            for (; i < len && p[i] != '"'; i++) {
                char ch = p[i];
                if ((unsigned char)ch < 0x20)
                    return "a control character in [\"...\"]: use JSON escapes";
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || (ch >= '0' && ch <= '9')))
                    simple = false;
                if (ch == '\\') {
                    i++;
                    if (i >= len || !strchr("\"\\/bfnrtu", p[i]))
                        return "an invalid escape in [\"...\"]: use JSON escapes";
                    if (p[i] == 'u') {
                        for (int h = 0; h < 4; h++) {
                            i++;
                            if (i >= len || !strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
                                return "\\u needs four hex digits";
                        }
                    }
                }
            }
            if (i >= len)
                return "unterminated [\"...";
            if (simple && i > st)
                return "a member name made of letters, digits and _ is written .name (as findings show it), not "
                       "[\"name\"]";
            i++;
        } else {
            return "after [ expected *, an index or a quoted name";
        }
        if (i >= len || p[i] != ']')
            return "missing ]";
        i++;
    }
    return NULL;
}

static int check_allow_path(struct ctx *c, const struct node *n, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    const char *sep = strstr(n->s, ":$");
    if (!sep || sep == n->s)
        return fail(c, n, "%s: expected \"schema.table.column:$.json.path\" such as "
                    "\"public.orders.payload:$.customer.email\", got %s", disp, got(n, false, q, sizeof q));
    const char *why = json_path_error(sep + 1, n->len - (size_t)(sep + 1 - n->s));
    if (why)
        return fail(c, n, "%s: invalid JSON path in %s: %s", disp, got(n, false, q, sizeof q), why);
    return 0;
}

static int set_allow_paths(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    if (set_string_list(c, k, n, obj, disp))
        return -1;
    c->allow_paths = n->n ? n : NULL;
    return 0;
}

static int set_findings_pw(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    c->findings_pw = n;
    return set_path(c, k, n, obj, disp);
}

static void wipe_free(char *s);

static int set_jitter(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    c->jitter_n = n;
    return set_duration(c, k, n, obj, disp);
}

static int set_tls_file(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    if (impl[k].off == C(web.tls_cert_file))
        c->tls_cert_n = n;
    else if (impl[k].off == C(web.tls_key_file))
        c->tls_key_n = n;
    else
        c->tls_ca_n = n;
    return set_path(c, k, n, obj, disp);
}

#define PORT_RANGE "the port must be a number from 1 to 65535"

const char *pa_config_split_listen(const char *s, size_t len, char *host, size_t hcap, unsigned *port)
{
    const char *ps;
    unsigned char addr[16];
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb)
            return "missing ] after the IPv6 address";
        size_t hl = (size_t)(rb - s - 1);
        if (rb + 1 == s + len || rb[1] != ':')
            return "missing :port after ]";
        if (hl == 0 || hl >= hcap)
            return "invalid IPv6 address in [...]";
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return "invalid IPv6 address in [...]";
        ps = rb + 2;
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':')
                colon = s + i;
        if (!colon)
            return "missing :port (write \"127.0.0.1:10187\", or \":10187\" for all interfaces)";
        size_t hl = (size_t)(colon - s);
        if (memchr(s, ':', hl))
            return "an IPv6 address must be in brackets, such as \"[::1]:10187\"";
        if (hl >= hcap)
            return "the host name is too long";
        memcpy(host, s, hl);
        host[hl] = '\0';
        bool numeric = hl > 0;
        for (size_t i = 0; i < hl; i++) {
            char ch = host[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '.'))
                return "a host is an IPv4 address, [IPv6 address] or a host name (letters, digits, - and .)";
            if (!((ch >= '0' && ch <= '9') || ch == '.'))
                numeric = false;
        }
        if (numeric && inet_pton(AF_INET, host, addr) != 1)
            return "invalid IPv4 address";
        ps = colon + 1;
    }
    size_t pl = len - (size_t)(ps - s);
    unsigned v = 0;
    if (pl == 0 || pl > 5 || (ps[0] == '0' && pl > 1))
        return PORT_RANGE;
    for (size_t i = 0; i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return PORT_RANGE;
        v = v * 10 + (unsigned)(ps[i] - '0');
    }
    if (v > 65535)
        return PORT_RANGE;
    *port = v;
    return NULL;
}

/* metrics.listen: only the syntax and the numbers are checked here; names are resolved and sockets bound when the
 * endpoint starts (http.c reports those errors with the address). Port 0 (an ephemeral port) is for tests only. */
static const char *listen_error(const char *s, size_t len)
{
    char host[256];
    unsigned port;
    const char *why = pa_config_split_listen(s, len, host, sizeof host, &port);
    return why ? why : port == 0 ? PORT_RANGE : NULL;
}

static int check_listen(struct ctx *c, const struct node *n, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    const char *why = listen_error(n->s, n->len);
    if (why)
        return fail(c, n, "%s: expected host:port, [ipv6]:port or :port such as \"127.0.0.1:10187\", got %s: %s", disp,
                    got(n, false, q, sizeof q), why);
    return 0;
}

static int set_listen(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    char q[ECHO_MAX * 4 + 8];
    struct pa_web_config *w = &((struct pa_config *)obj)->web;
    if (n->kind == N_SCALAR) { /* one address may be written without the list */
        if (need_string(c, k, n, disp, "an address such as \"127.0.0.1:10187\""))
            return -1;
        w->listen = pa_xcalloc(1, sizeof *w->listen);
        w->listen[0] = pa_xstrndup(n->s, n->len);
        w->n_listen = 1;
        return 0;
    }
    if (n->kind != N_SEQ)
        return fail(c, n, "%s: expected an address or a list of addresses such as [\"127.0.0.1:10187\"], got %s", disp,
                    kind_name(n));
    if (n->n == 0)
        return fail(c, n, "%s: expected at least one address (remove the key for the default \"%s\")", disp,
                    PA_DEFAULT_METRICS_LISTEN);
    if (set_string_list(c, k, n, obj, disp))
        return -1;
    size_t first = 0;
    long d = first_duplicate((const char *const *)w->listen, w->n_listen, &first);
    if (d >= 0)
        return fail(c, n->kids[(size_t)d], "%s[%ld]: duplicate address %s (also %s[%zu]): keep one", disp, d,
                    quote(w->listen[d], strlen(w->listen[d]), q, sizeof q), disp, first);
    return 0;
}

/* The modular-crypt bcrypt format: $2b$NN$ + 53 characters of bcrypt's base64 (22 salt + 31 hash). */
static bool is_bcrypt(const char *s, size_t len)
{
    if (len != 60 || s[0] != '$' || s[1] != '2' || !(s[2] == 'a' || s[2] == 'b' || s[2] == 'y') || s[3] != '$' ||
        s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '/'))
            return false;
    }
    return true;
}

static void users_clear(struct pa_web_config *w)
{
    for (size_t i = 0; i < w->n_users; i++) {
        free(w->users[i].name);
        wipe_free(w->users[i].hash);
    }
    free(w->users);
    w->users = NULL;
    w->n_users = 0;
}

#define USER_MAX 64

/* metrics.basic_auth_users: a mapping of user name -> bcrypt hash. A hash (or a password pasted by mistake) is
 * never quoted back. */
static int set_users(struct ctx *c, size_t k, const struct node *n, void *obj, const char *disp)
{
    (void)k;
    char q[ECHO_MAX * 4 + 8], udisp[DISP_MAX + 80];
    struct pa_web_config *w = &((struct pa_config *)obj)->web;
    if (n->kind != N_MAP)
        return fail(c, n, "%s: expected a mapping of user: bcrypt hash such as {prometheus: \"$2b$10$...\"}, got %s",
                    disp, kind_name(n));
    size_t nu = n->n / 2, first = 0;
    const char **names = pa_xmalloc((nu ? nu : 1) * sizeof *names);
    for (size_t i = 0; i < nu; i++) {
        const struct node *kn = n->kids[2 * i];
        bool ok = kn->kind == N_SCALAR && !is_null(kn) && kn->len > 0 && kn->len <= USER_MAX;
        for (size_t j = 0; ok && j < kn->len; j++)
            if ((unsigned char)kn->s[j] < 0x20 || kn->s[j] == 0x7f || kn->s[j] == ':')
                ok = false;
        if (!ok) {
            free(names);
            return fail(c, kn, "%s: user name %s must be 1 to %d characters without a colon or control characters "
                        "(HTTP basic auth splits user:password at the first colon)", disp,
                        got(kn, false, q, sizeof q), USER_MAX);
        }
        names[i] = kn->s;
    }
    long d = first_duplicate(names, nu, &first);
    free(names);
    if (d >= 0)
        return fail(c, n->kids[2 * (size_t)d], "duplicate key \"%s\" in %s (first set at line %zu): keep one",
                    n->kids[2 * (size_t)d]->s, disp, n->kids[2 * first]->line + 1);
    w->users = pa_xcalloc(nu ? nu : 1, sizeof *w->users);
    for (size_t i = 0; i < nu; i++) {
        const struct node *kn = n->kids[2 * i], *vn = n->kids[2 * i + 1];
        snprintf(udisp, sizeof udisp, "%s.%s", disp, kn->s);
        if (vn->kind != N_SCALAR || is_null(vn) || !is_bcrypt(vn->s, vn->len))
            return fail(c, vn, "%s: expected a bcrypt hash (60 characters starting with $2a$, $2b$ or $2y$; make one "
                        "with: htpasswd -nbBC 10 \"\" 'password' | tr -d ':\\n'), got %s", udisp,
                        vn->kind == N_SCALAR && !is_null(vn) ? "something else (not shown)" : kind_name(vn));
        w->users[w->n_users].name = pa_xstrndup(kn->s, kn->len);
        w->users[w->n_users].hash = pa_xstrndup(vn->s, vn->len);
        w->n_users++;
    }
    return 0;
}

static const struct pa_surface *bsearch_surface(const struct pa_config *cfg, const struct dupent *ix,
                                                const char *name)
{
    size_t lo = 0, hi = cfg->n_surfaces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(ix[mid].s, name);
        if (r == 0)
            return &cfg->surfaces[ix[mid].i];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* pa_config_find_surface over a sorted index of the names: exact, then "table.column" as public. */
static const struct pa_surface *lookup_surface(const struct pa_config *cfg, const struct dupent *ix,
                                               const char *name)
{
    const struct pa_surface *s = bsearch_surface(cfg, ix, name);
    if (!s) {
        char *pub = pa_xasprintf("public.%s", name);
        s = bsearch_surface(cfg, ix, pub);
        free(pub);
    }
    return s;
}

/* Checks across sections, once everything is parsed (sections may come in any order). */
static int check_config(struct ctx *c)
{
    struct pa_config *cfg = c->cfg;
    char q[ECHO_MAX * 4 + 8];
    if (cfg->findings_password_file && !cfg->findings_conninfo)
        return fail(c, c->findings_pw,
                    "findings.password_file: set without findings.conninfo, so it would be ignored: findings go "
                    "to database.conninfo (its password is database.password_file); remove it or set "
                    "findings.conninfo");
    if (c->jitter_n && cfg->jitter >= cfg->interval) {
        char j[32], iv[32];
        pa_format_duration(cfg->jitter, j, sizeof j);
        pa_format_duration(cfg->interval, iv, sizeof iv);
        return fail(c, c->jitter_n, "scan.jitter: expected a duration less than scan.interval (%s), got %s: lower it "
                    "or leave it unset for 10%% of scan.interval", iv, j);
    }
    if (c->tls_cert_n && !c->tls_key_n)
        return fail(c, c->tls_cert_n, "metrics.tls.cert_file: set without metrics.tls.key_file: set both (HTTPS) or "
                    "neither (plain HTTP)");
    if (c->tls_key_n && !c->tls_cert_n)
        return fail(c, c->tls_key_n, "metrics.tls.key_file: set without metrics.tls.cert_file: set both (HTTPS) or "
                    "neither (plain HTTP)");
    if (c->tls_ca_n && !c->tls_cert_n)
        return fail(c, c->tls_ca_n, "metrics.tls.client_ca_file: client certificates need HTTPS: set "
                    "metrics.tls.cert_file and metrics.tls.key_file too");
    if (!c->allow_paths)
        return 0;
    /* a sorted index keeps thousands of allow_paths x surfaces cheap */
    struct dupent *ix = pa_xmalloc((cfg->n_surfaces ? cfg->n_surfaces : 1) * sizeof *ix);
    for (size_t i = 0; i < cfg->n_surfaces; i++)
        ix[i] = (struct dupent){cfg->surfaces[i].name, i};
    qsort(ix, cfg->n_surfaces, sizeof *ix, dupcmp);
    int ret = 0;
    for (size_t i = 0; i < cfg->detect.n_allow_paths; i++) {
        char *ap = cfg->detect.allow_paths[i];
        char *sep = strstr(ap, ":$");
        char *surf = pa_xstrndup(ap, (size_t)(sep - ap));
        const struct pa_surface *s = lookup_surface(cfg, ix, surf);
        if (!s) {
            struct pa_buf list;
            pa_buf_init(&list);
            for (size_t j = 0; j < cfg->n_surfaces && j < 5; j++)
                pa_buf_printf(&list, "%s%s", j ? ", " : "",
                              quote(cfg->surfaces[j].name, strlen(cfg->surfaces[j].name), q, sizeof q));
            if (cfg->n_surfaces > 5)
                pa_buf_appends(&list, ", ...");
            int r = fail(c, c->allow_paths->kids[i],
                         "detectors.allow_paths[%zu]: surface %s is not configured in surfaces (configured: %s)", i,
                         quote(surf, strlen(surf), q, sizeof q), list.data);
            pa_buf_free(&list);
            free(surf);
            ret = r;
            break;
        }
        /* canonical form: "table.column" becomes "public.table.column", as detect compares it */
        char *canon = pa_xasprintf("%s%s", s->name, sep);
        free(ap);
        cfg->detect.allow_paths[i] = canon;
        free(surf);
    }
    free(ix);
    return ret;
}

/* ------------------------------------------------------------------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void pa_config_free(struct pa_config *c)
{
    if (!c)
        return;
    free(c->path);
    wipe_free(c->db_conninfo);
    free(c->db_password_file);
    wipe_free(c->findings_conninfo);
    free(c->findings_password_file);
    for (size_t i = 0; i < c->n_surfaces; i++)
        surface_clear(&c->surfaces[i]);
    free(c->surfaces);
    struct pa_detect_options *o = &c->detect;
    for (size_t i = 0; i < o->n_disable; i++)
        free(o->disable[i]);
    free(o->disable);
    for (size_t i = 0; i < o->n_extra_keys; i++) {
        free(o->extra_keys[i].category);
        free(o->extra_keys[i].key);
    }
    free(o->extra_keys);
    for (size_t i = 0; i < o->n_ignore_keys; i++)
        free(o->ignore_keys[i]);
    free(o->ignore_keys);
    for (size_t i = 0; i < o->n_allow_paths; i++)
        free(o->allow_paths[i]);
    free(o->allow_paths);
    for (size_t i = 0; i < o->n_patterns; i++)
        pattern_clear(&o->patterns[i]);
    free(o->patterns);
    struct pa_web_config *w = &c->web;
    for (size_t i = 0; i < w->n_listen; i++)
        free(w->listen[i]);
    free(w->listen);
    free(w->tls_cert_file);
    free(w->tls_key_file);
    free(w->tls_client_ca_file);
    users_clear(w);
    free(c);
}

int pa_config_load_buffer(const char *name, const char *buf, size_t len, struct pa_config **out, char *err,
                          size_t errlen)
{
    struct node *root = NULL;
    if (!name)
        name = "<config>";
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (len > MAX_CONFIG_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: the configuration is %zu bytes, more than the limit of 1 MiB (%zu bytes)",
                     name, len, MAX_CONFIG_BYTES);
        return -1;
    }
    struct pa_config *cfg = pa_xcalloc(1, sizeof *cfg);
    cfg->path = pa_xstrdup(name);
    cfg->jitter = -1; /* unset: 10% of scan.interval, decided by the scheduler */
    struct ctx c = {.file = name, .err = err, .errlen = errlen, .cfg = cfg};
    if (load_tree(&c, buf ? buf : "", buf ? len : 0, &root))
        goto out;
    if (!root || is_null(root)) {
        fail_at(&c, 0, 0, "the configuration is empty: it needs at least database.conninfo and one surface (see "
                "the sample pii-auditd.yaml)");
        goto out;
    }
    if (root->kind != N_MAP) {
        fail(&c, root, "the top level must be a mapping of sections (database:, scan:, surfaces:, detectors:), got %s",
             kind_name(root));
        goto out;
    }
    if (parse_mapping(&c, root, root, "", "", cfg))
        goto out;
    check_config(&c);
out:
    node_free(root);
    if (c.failed) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "%s: invalid configuration", name);
        pa_config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int pa_config_load(const char *path, struct pa_config **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct pa_buf b;
    pa_buf_init(&b);
    int ret = -1;
    for (;;) {
        pa_buf_reserve(&b, 65536);
        ssize_t r = read(fd, b.data + b.len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.data[b.len] = '\0';
        if (b.len > MAX_CONFIG_BYTES) {
            snprintf(err, errlen, "%s: the configuration is larger than the limit of 1 MiB (%zu bytes)", path,
                     MAX_CONFIG_BYTES);
            goto out;
        }
    }
    ret = pa_config_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
out:
    close(fd);
    pa_buf_free(&b); /* wipes: the file holds the conninfo */
    return ret;
}

double pa_config_jitter(const struct pa_config *c)
{
    return c->jitter >= 0 ? c->jitter : c->interval / 10;
}

const struct pa_surface *pa_config_find_surface(const struct pa_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n_surfaces; i++)
        if (strcmp(c->surfaces[i].name, name) == 0)
            return &c->surfaces[i];
    for (size_t i = 0; i < c->n_surfaces; i++) {
        const char *n = c->surfaces[i].name;
        if (strncmp(n, "public.", 7) == 0 && strcmp(n + 7, name) == 0)
            return &c->surfaces[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Documentation and --check-config output, from the same table. */

static const char *type_name(enum pa_key_type t)
{
    switch (t) {
    case PA_KEY_STRING: return "string";
    case PA_KEY_INT: return "integer";
    case PA_KEY_DURATION: return "duration";
    case PA_KEY_BOOL: return "boolean";
    case PA_KEY_PATH: return "path";
    case PA_KEY_STRING_LIST: return "list of strings";
    case PA_KEY_MAP_OF_LISTS: return "map of lists";
    case PA_KEY_STRING_MAP: return "map of strings";
    case PA_KEY_SECTION: return "section";
    case PA_KEY_LIST_OF_MAPS: return "list of mappings";
    }
    return "?";
}

char *pa_config_doc_table(void)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "| Key | Type | Default | Range | Reload | Description |\n");
    pa_buf_appends(&b, "|-----|------|---------|-------|--------|-------------|\n");
    for (size_t k = 0; k < NKEYS; k++) {
        char range[80] = "", lo[32], hi[32];
        if (keys[k].type == PA_KEY_INT) {
            snprintf(range, sizeof range, "%lld .. %lld", (long long)impl[k].min, (long long)impl[k].max);
        } else if (keys[k].type == PA_KEY_DURATION) {
            fmt_dur(impl[k].min, lo, sizeof lo);
            fmt_dur(impl[k].max, hi, sizeof hi);
            snprintf(range, sizeof range, "%s .. %s", lo, hi);
        }
        pa_buf_printf(&b, "| `%s` | %s%s | ", keys[k].name, type_name(keys[k].type),
                      impl[k].flags & F_SECRET ? " (secret)" : "");
        if (keys[k].required)
            pa_buf_appends(&b, "**required**");
        else if (keys[k].dflt)
            pa_buf_printf(&b, "`%s`", keys[k].dflt);
        else
            pa_buf_appends(&b, "unset");
        pa_buf_printf(&b, " | %s | %s | %s |\n", range[0] ? range : "", keys[k].reloadable ? "yes" : "restart",
                      keys[k].doc);
    }
    return b.data;
}
