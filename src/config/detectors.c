/* config/detectors: detectors.* : categories switched off, extra dictionary keys, ignored keys, allowed paths (their
 * JSONPath syntax here; their surfaces in validate.c) and custom value patterns (each regex compiled once by
 * Hyperscan at load, so a bad one is a config error with its position). Must never print or log.
 */
#include "keys.h"
#include "detect.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYNAME_MAX 256 /* ignore_keys / extra_keys entries */
#define REGEX_MAX 4096

/* A pattern item is parsed into this; the public struct comes first so the table's offsets into it work. */
struct pattern_item {
    struct pa_detect_pattern p;
    const struct pa_cfg_node *name_n;
    const struct pa_cfg_node *regex_n;
};

static int check_extra_category(struct pa_cfg_ctx *c, const struct pa_cfg_node *kn, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    if (kn->kind == N_SCALAR && pa_cfg_is_name(kn->s, kn->len))
        return 0;
    return cfg_fail(c, kn,
                    "%s: category %s must be a name of lower-case letters, digits and _ (starting with a letter, at "
                    "most 63 bytes), such as national_id",
                    disp, pa_cfg_got(kn, false, q, sizeof q));
}

/* detectors.extra_keys: category: [key, ...], stored as (category, key) pairs in the order written. */
int pa_cfg_set_extra_keys(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    (void)k;
    char q[PA_CFG_QUOTE_CAP], idisp[PA_CFG_DISP_MAX];
    struct pa_detect_options *o = &((struct pa_config *)obj)->detect;
    if (n->kind != N_MAP)
        return cfg_fail(c, n, "%s: expected a mapping of category: [key, ...] such as {national_id: [tax_ref]}, got %s",
                        disp, pa_cfg_kind_name(n));
    if (pa_cfg_map_keys(c, n, disp, check_extra_category))
        return -1;
    size_t nc = n->n / 2;
    size_t total = 0;
    for (size_t i = 0; i < nc; i++)
        total += n->kids[2 * i + 1]->kind == N_SEQ ? n->kids[2 * i + 1]->n : 0;
    o->extra_keys = pa_xcalloc(total ? total : 1, sizeof *o->extra_keys);
    for (size_t i = 0; i < nc; i++) {
        const struct pa_cfg_node *kn = n->kids[2 * i], *vn = n->kids[2 * i + 1];
        snprintf(idisp, sizeof idisp, "%s.%s", disp, kn->s);
        if (vn->kind != N_SEQ)
            return cfg_fail(c, vn, "%s: expected a list of key names such as [employee_tax_ref], got %s", idisp,
                            pa_cfg_got(vn, false, q, sizeof q));
        for (size_t j = 0; j < vn->n; j++) {
            char jdisp[PA_CFG_DISP_MAX + 24];
            snprintf(jdisp, sizeof jdisp, "%s[%zu]", idisp, j);
            const struct pa_cfg_node *e = vn->kids[j];
            if (e->kind != N_SCALAR || pa_cfg_is_null(e) || e->len == 0)
                return cfg_fail(c, e, "%s: expected a key name, got %s", jdisp, pa_cfg_kind_name(e));
            if (pa_cfg_check_key_name(c, e, jdisp))
                return -1;
            o->extra_keys[o->n_extra_keys].category = pa_xstrndup(kn->s, kn->len);
            o->extra_keys[o->n_extra_keys].key = pa_xstrndup(e->s, e->len);
            o->n_extra_keys++;
        }
    }
    return 0;
}

int pa_cfg_set_pattern_name(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    struct pattern_item *it = obj;
    if (pa_cfg_need_string(c, k, n, disp, "a pattern name"))
        return -1;
    if (!pa_cfg_is_name(n->s, n->len))
        return cfg_fail(c, n,
                        "%s: expected a name of lower-case letters, digits and _ (starting with a letter, at most 63 "
                        "bytes) such as employee_id, got %s",
                        disp, pa_cfg_got(n, false, q, sizeof q));
    it->name_n = n;
    return pa_cfg_set_string(c, k, n, obj, disp);
}

int pa_cfg_set_pattern_regex(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    struct pattern_item *it = obj;
    it->regex_n = n;
    return pa_cfg_set_string(c, k, n, obj, disp);
}

int pa_cfg_set_patterns(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    struct pa_detect_options *o = &((struct pa_config *)obj)->detect;
    char idisp[PA_CFG_DISP_MAX], msg[512];
    if (n->kind != N_SEQ)
        return cfg_fail(c, n, "%s: expected a list of patterns (- {name: ..., category: ..., regex: ...}), got %s",
                        disp, pa_cfg_kind_name(n));
    o->patterns = pa_xcalloc(n->n ? n->n : 1, sizeof *o->patterns);
    for (size_t i = 0; i < n->n; i++) {
        struct pattern_item it = {0};
        if (pa_cfg_parse_item(c, k, n, i, disp, "name, category and regex", idisp, &it))
            return -1;
        o->patterns[o->n_patterns++] = it.p;
        msg[0] = '\0';
        if (pa_detect_check_regex(it.p.regex, msg, sizeof msg)) {
            for (char *m = msg; *m; m++) /* keep the error on one line whatever the message holds */
                if ((unsigned char)*m < 0x20)
                    *m = ' ';
            return cfg_fail(c, it.regex_n, "%s.regex: pattern \"%s\": %s", idisp, it.p.name,
                            msg[0] ? msg : "the regex does not compile for Hyperscan");
        }
    }
    const char **names = pa_xmalloc((o->n_patterns ? o->n_patterns : 1) * sizeof *names);
    for (size_t i = 0; i < o->n_patterns; i++)
        names[i] = o->patterns[i].name;
    size_t first = 0;
    long d = pa_cfg_first_duplicate(names, o->n_patterns, &first);
    free(names);
    if (d >= 0) {
        /* the item's name node: find it again (items are mappings, the name key is there) */
        const struct pa_cfg_node *item = n->kids[(size_t)d], *at = item;
        for (size_t j = 0; j + 1 < item->n; j += 2)
            if (strcmp(item->kids[j]->s, "name") == 0)
                at = item->kids[j + 1];
        return cfg_fail(c, at,
                        "%s[%ld].name: duplicate pattern name \"%s\" (also %s[%zu] at line %zu): names must be "
                        "unique",
                        disp, d, o->patterns[d].name, disp, first, n->kids[first]->line + 1);
    }
    return 0;
}

int pa_cfg_check_builtin_category(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    if (pa_category_from_name(n->s) >= 0)
        return 0;
    char q[PA_CFG_QUOTE_CAP];
    const char *names[PA_CAT_BUILTIN_COUNT];
    struct pa_buf list;
    pa_buf_init(&list);
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++) {
        names[i] = pa_category_name(i);
        pa_buf_printf(&list, "%s%s", i ? ", " : "", names[i] ? names[i] : "?");
    }
    const char *s = pa_cfg_suggest(n->s, names, PA_CAT_BUILTIN_COUNT);
    char hint[96] = "";
    if (s)
        snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", s);
    int r = cfg_fail(c, n, "%s: unknown category %s%s; built-in categories are: %s", disp,
                     pa_cfg_got(n, false, q, sizeof q), hint, list.data);
    pa_buf_free(&list);
    return r;
}

int pa_cfg_check_category_name(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    if (pa_cfg_is_name(n->s, n->len))
        return 0;
    return cfg_fail(c, n,
                    "%s: expected a category name of lower-case letters, digits and _ (starting with a letter, at most "
                    "63 bytes) such as employee_id, got %s",
                    disp, pa_cfg_got(n, false, q, sizeof q));
}

int pa_cfg_check_key_name(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    if (n->len > KEYNAME_MAX)
        return cfg_fail(c, n, "%s: a key name longer than %d bytes never matches: shorten it", disp, KEYNAME_MAX);
    return 0;
}

int pa_cfg_check_regex_len(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    if (n->len > REGEX_MAX)
        return cfg_fail(c, n, "%s: the regex is longer than %d bytes", disp, REGEX_MAX);
    return 0;
}

/* A JSONPath as the walker renders it: $ then .name (identifier), .<label> (redacted key), ["other name"], [N] or
 * [*]. Returns NULL when valid, else why not. Also pii-auditd allow add's check (config.h). */
const char *pa_config_json_path_error(const char *p, size_t len)
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

int pa_cfg_check_allow_path(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    const char *sep = strstr(n->s, ":$");
    if (!sep || sep == n->s)
        return cfg_fail(c, n,
                        "%s: expected \"schema.table.column:$.json.path\" such as "
                        "\"public.orders.payload:$.customer.email\", got %s",
                        disp, pa_cfg_got(n, false, q, sizeof q));
    const char *why = pa_config_json_path_error(sep + 1, n->len - (size_t)(sep + 1 - n->s));
    if (why)
        return cfg_fail(c, n, "%s: invalid JSON path in %s: %s", disp, pa_cfg_got(n, false, q, sizeof q), why);
    return 0;
}
