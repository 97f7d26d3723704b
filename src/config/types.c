/* config/types: the generic setter of each key type (string, path, integer, duration, boolean, list of strings,
 * section), and the checks several keys share (names, duplicates, the keys of a map). The table (keys.c) picks a
 * setter by type unless a row names its own. Must never print or log.
 */
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int pa_cfg_need_string(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, const char *disp, const char *what)
{
    if (n->kind != N_SCALAR || pa_cfg_is_null(n))
        return cfg_fail(c, n, "%s: expected %s, got %s", disp, what, pa_cfg_kind_name(n));
    if (n->len == 0)
        return cfg_fail(c, n, "%s: must not be empty", disp);
    if (pa_cfg_impl[k].check && pa_cfg_impl[k].check(c, n, disp))
        return -1;
    return 0;
}

static int store_string(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp,
                        const char *what)
{
    if (pa_cfg_need_string(c, k, n, disp, what))
        return -1;
    *(char **)pa_cfg_field(obj, pa_cfg_impl[k].off) = pa_xstrndup(n->s, n->len);
    return 0;
}

int pa_cfg_set_string(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    return store_string(c, k, n, obj, disp, "a string");
}

int pa_cfg_set_path(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    return store_string(c, k, n, obj, disp, "a file path such as /etc/pii-auditd/db-password");
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

int pa_cfg_set_int(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    const struct pa_cfg_impl *im = &pa_cfg_impl[k];
    char q[PA_CFG_QUOTE_CAP];
    long long v = 0;
    if (n->kind != N_SCALAR || !parse_int(n->s, &v) || v < (long long)im->min || v > (long long)im->max)
        return cfg_fail(c, n, "%s: expected an integer between %lld and %lld, got %s", disp, (long long)im->min,
                        (long long)im->max, pa_cfg_got(n, false, q, sizeof q));
    if (im->flags & F_SIZE_T)
        *(size_t *)pa_cfg_field(obj, im->off) = (size_t)v;
    else
        *(long long *)pa_cfg_field(obj, im->off) = v;
    return 0;
}

int pa_cfg_set_duration(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    const struct pa_cfg_impl *im = &pa_cfg_impl[k];
    char q[PA_CFG_QUOTE_CAP], lo[32], hi[32];
    double v;
    if (n->kind != N_SCALAR || pa_parse_duration(n->s, &v))
        return cfg_fail(c, n, "%s: expected a duration such as 30s, 15m, 1h or 7d (units ms, s, m, h, d, w), got %s",
                        disp, pa_cfg_got(n, false, q, sizeof q));
    if (v < im->min || v > im->max) {
        pa_cfg_fmt_dur(im->min, lo, sizeof lo);
        pa_cfg_fmt_dur(im->max, hi, sizeof hi);
        return cfg_fail(c, n, "%s: expected a duration between %s and %s, got %s", disp, lo, hi,
                        pa_cfg_got(n, false, q, sizeof q));
    }
    *(double *)pa_cfg_field(obj, im->off) = v;
    return 0;
}

int pa_cfg_set_bool(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    if (n->kind == N_SCALAR) {
        for (size_t i = 0; i < PA_ARRAY_LEN(yes); i++) {
            if (ieq(n->s, yes[i]) || ieq(n->s, no[i])) {
                *(bool *)pa_cfg_field(obj, pa_cfg_impl[k].off) = ieq(n->s, yes[i]);
                return 0;
            }
        }
    }
    return cfg_fail(c, n, "%s: expected true or false (or yes/no, on/off), got %s", disp,
                    pa_cfg_got(n, false, q, sizeof q));
}

int pa_cfg_set_string_list(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP], idisp[PA_CFG_DISP_MAX];
    if (n->kind != N_SEQ)
        return cfg_fail(c, n, "%s: expected a list of strings such as [a, b], got %s", disp,
                        pa_cfg_got(n, false, q, sizeof q));
    char ***arr = pa_cfg_field(obj, pa_cfg_impl[k].off);
    size_t *cnt = pa_cfg_field(obj, pa_cfg_impl[k].off2);
    *arr = pa_xcalloc(n->n, sizeof **arr);
    *cnt = 0;
    for (size_t i = 0; i < n->n; i++) {
        snprintf(idisp, sizeof idisp, "%s[%zu]", disp, i);
        if (pa_cfg_need_string(c, k, n->kids[i], idisp, "a string"))
            return -1;
        (*arr)[(*cnt)++] = pa_xstrndup(n->kids[i]->s, n->kids[i]->len);
    }
    return 0;
}

int pa_cfg_set_section(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    if (n->kind != N_MAP)
        return cfg_fail(c, n, "%s: expected a mapping (indented key: value lines), got %s", disp, pa_cfg_kind_name(n));
    return pa_cfg_parse_mapping(c, n, n, pa_cfg_keys[k].name, disp, obj);
}

int pa_cfg_dupcmp(const void *a, const void *b)
{
    const struct pa_cfg_dupent *x = a, *y = b;
    int r = strcmp(x->s, y->s);
    return r ? r : (x->i > y->i) - (x->i < y->i);
}

/* Sorting keeps thousands of surfaces or allow_paths cheap. */
long pa_cfg_first_duplicate(const char *const *strs, size_t n, size_t *first)
{
    if (n < 2)
        return -1;
    struct pa_cfg_dupent *e = pa_xmalloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (struct pa_cfg_dupent){strs[i], i};
    qsort(e, n, sizeof *e, pa_cfg_dupcmp);
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

bool pa_cfg_is_name(const char *s, size_t len)
{
    if (len == 0 || len > PA_CFG_IDENT_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int pa_cfg_map_keys(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp, pa_cfg_check check)
{
    size_t nk = n->n / 2, first = 0;
    const char **names = pa_xmalloc((nk ? nk : 1) * sizeof *names);
    for (size_t i = 0; i < nk; i++) {
        if (check(c, n->kids[2 * i], disp)) {
            free(names);
            return -1;
        }
        names[i] = n->kids[2 * i]->s;
    }
    long d = pa_cfg_first_duplicate(names, nk, &first);
    free(names);
    if (d >= 0)
        return cfg_fail(c, n->kids[2 * (size_t)d], "duplicate key \"%s\" in %s (first set at line %zu): keep one",
                        n->kids[2 * (size_t)d]->s, disp, n->kids[2 * first]->line + 1);
    return 0;
}
