/* config/surfaces: surfaces[] (the columns to scan) and PostgreSQL identifiers. Names follow PostgreSQL's rules:
 * unquoted parts fold to lower case, "..." keeps everything and "" is a quote; at most 63 bytes (the server would cut
 * longer ones); no control characters (legal in PostgreSQL, but they would break log lines and metric labels).
 * Must never print or log, and never build SQL: the names are quoted where SQL is built.
 */
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A surface item is parsed into this; the public struct comes first so the table's offsets into it work. */
struct surface_item {
    struct pa_surface s;
    const struct pa_cfg_node *schema_n;
    bool qualified; /* table was written schema.table */
};

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
        if (b.len > PA_CFG_IDENT_MAX) {
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

/* n as at most maxparts dotted names into parts; messages call it noun and say what more parts mean. Count or -1. */
static int parse_names(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, const char *disp,
                       const char *expect, const char *noun, const char *too_many, char **parts, int maxparts)
{
    char q[PA_CFG_QUOTE_CAP];
    const char *why = NULL;
    if (pa_cfg_need_string(c, k, n, disp, expect))
        return -1;
    int np = parse_idents(n->s, n->len, parts, maxparts, &why);
    if (np == -2)
        return cfg_fail(c, n, "%s: invalid %s %s: %s", disp, noun, pa_cfg_got(n, false, q, sizeof q), too_many);
    if (np < 0)
        return cfg_fail(c, n, "%s: invalid %s %s: %s", disp, noun, pa_cfg_got(n, false, q, sizeof q), why);
    return np;
}

int pa_cfg_set_table(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    struct surface_item *it = obj;
    char *parts[2] = {NULL, NULL};
    int np = parse_names(c, k, n, disp, "a table name such as public.events", "table name",
                         "expected table or schema.table (quote a name that contains a dot: '\"my.table\"')", parts, 2);
    if (np < 0)
        return -1;
    if (np == 2) {
        if (it->schema_n) { /* schema: came first */
            free(parts[0]);
            free(parts[1]);
            return cfg_fail(c, n,
                            "%s: the table name is schema-qualified and schema is set too (line %zu): remove "
                            "schema or write the table without its schema",
                            disp, it->schema_n->line + 1);
        }
        it->s.schema = parts[0];
        it->s.table = parts[1];
        it->qualified = true;
    } else {
        it->s.table = parts[0];
    }
    return 0;
}

int pa_cfg_set_ident(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    char *parts[1] = {NULL}; /* parse_names fills it when it succeeds; gcc -O3 cannot see that */
    if (parse_names(c, k, n, disp, "a name", "name", "expected one name (quote a name that contains a dot: '\"a.b\"')",
                    parts, 1) < 0)
        return -1;
    *(char **)pa_cfg_field(obj, pa_cfg_impl[k].off) = parts[0];
    return 0;
}

int pa_cfg_check_keyless(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    if (n->len != 4 || memcmp(n->s, "ctid", 4) != 0)
        return cfg_fail(c, n, "%s: the only keyless mode is ctid (read the table by row location)", disp);
    return 0;
}

int pa_cfg_set_schema(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    struct surface_item *it = obj;
    if (it->qualified)
        return cfg_fail(c, n,
                        "%s: the table name is already schema-qualified: remove schema or write the table "
                        "without its schema",
                        disp);
    it->schema_n = n;
    return pa_cfg_set_ident(c, k, n, obj, disp);
}

int pa_cfg_set_surfaces(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    struct pa_config *cfg = obj;
    char idisp[PA_CFG_DISP_MAX], q[PA_CFG_QUOTE_CAP];
    if (n->kind != N_SEQ)
        return cfg_fail(c, n, "%s: expected a list of surfaces (- table: schema.table, column: name), got %s", disp,
                        pa_cfg_kind_name(n));
    if (n->n == 0)
        return cfg_fail(c, n, "%s: at least one surface is required (- table: schema.table, column: name)", disp);
    cfg->surfaces = pa_xcalloc(n->n, sizeof *cfg->surfaces);
    for (size_t i = 0; i < n->n; i++) {
        struct surface_item it = {.s = {.line = (int)n->kids[i]->line + 1}};
        if (pa_cfg_parse_item(c, k, n, i, disp, "table and column", idisp, &it))
            return -1;
        if (!it.s.schema)
            it.s.schema = pa_xstrdup("public");
        if (it.s.keyless && (it.s.id_column || it.s.changed_column)) {
            cfg->surfaces[cfg->n_surfaces++] = it.s; /* freed with the config */
            return cfg_fail(c, n->kids[i],
                            "%s: keyless: ctid reads the table by row location, without a key or changes: remove %s",
                            idisp, it.s.id_column ? "id_column" : "changed_column");
        }
        it.s.name = pa_xasprintf("%s.%s.%s", it.s.schema, it.s.table, it.s.column);
        cfg->surfaces[cfg->n_surfaces++] = it.s;
    }
    const char **names = pa_xmalloc(cfg->n_surfaces * sizeof *names);
    for (size_t i = 0; i < cfg->n_surfaces; i++)
        names[i] = cfg->surfaces[i].name;
    size_t first = 0;
    long d = pa_cfg_first_duplicate(names, cfg->n_surfaces, &first);
    free(names);
    if (d >= 0)
        return cfg_fail(c, n->kids[(size_t)d],
                        "%s[%ld]: duplicate surface %s (already configured as %s[%zu] at line %zu)", disp, d,
                        pa_cfg_quote(cfg->surfaces[d].name, strlen(cfg->surfaces[d].name), q, sizeof q), disp, first,
                        n->kids[first]->line + 1);
    return 0;
}
