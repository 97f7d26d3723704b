/* config/parse: one YAML mapping read against the key table: the keys of one section (or of one item of a list of
 * mappings) are looked up, unknown ones named with a suggestion, duplicates refused, required ones demanded, and the
 * defaults of absent ones applied (parsed from their YAML text by the same setter as a user's value).
 * Must never print or log, and never echo a key name that does not look like one.
 */
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int unknown_key(struct pa_cfg_ctx *c, const struct pa_cfg_node *kn, const char *prefix, const char *dprefix)
{
    char where[PA_CFG_DISP_MAX + 8], keyq[PA_CFG_QUOTE_CAP];
    if (*dprefix)
        snprintf(where, sizeof where, " in %s", dprefix);
    else
        snprintf(where, sizeof where, " at the top level");
    const char *sib[PA_CFG_MAX_KEYS];
    size_t ns = 0;
    for (size_t i = 0; i < pa_cfg_nkeys; i++)
        if (pa_cfg_parent_is(pa_cfg_keys[i].name, prefix))
            sib[ns++] = pa_cfg_leaf_of(pa_cfg_keys[i].name);
    struct pa_buf list;
    pa_buf_init(&list);
    for (size_t i = 0; i < ns; i++)
        pa_buf_printf(&list, "%s%s", i ? ", " : "", sib[i]);
    int r;
    if (!pa_cfg_keyish(kn)) {
        r = cfg_fail(c, kn, "unknown key (not shown)%s: expected one of %s", where, list.data);
        goto out;
    }
    pa_cfg_quote(kn->s, kn->len, keyq, sizeof keyq);
    const char *s = pa_cfg_suggest(kn->s, sib, ns);
    if (s) {
        r = cfg_fail(c, kn, "unknown key %s%s (did you mean \"%s\"?)", keyq, where, s);
        goto out;
    }
    /* the right key at the wrong level */
    for (size_t i = 0; i < pa_cfg_nkeys; i++) {
        const char *name = pa_cfg_keys[i].name, *leaf = pa_cfg_leaf_of(name);
        if (strcmp(leaf, kn->s) == 0) {
            r = cfg_fail(c, kn, "unknown key %s%s (did you mean %s? it belongs under %.*s)", keyq, where, name,
                         (int)(leaf - name - 1), name);
            goto out;
        }
    }
    r = cfg_fail(c, kn, "unknown key %s%s (expected one of %s)", keyq, where, list.data);
out:
    pa_buf_free(&list);
    return r;
}

static int apply_default(struct pa_cfg_ctx *c, size_t k, void *obj, const char *disp)
{
    struct pa_cfg_node *n = NULL;
    struct pa_cfg_ctx dc = {.d = {.file = "<built-in default>", .err = c->d.err, .errlen = c->d.errlen}, .cfg = c->cfg};
    const char *dflt = pa_cfg_keys[k].dflt;
    if (pa_cfg_tree_load(&dc.d, dflt, strlen(dflt), &n) || !n) {
        c->d.failed = true;
        return -1;
    }
    /* a default that does not parse is a bug in the table: test_defaults loads them all */
    int r = pa_cfg_setter_of(k)(&dc, k, n, obj, disp);
    if (dc.d.failed)
        c->d.failed = true;
    pa_cfg_node_free(n);
    return r;
}

/* Parse one mapping (m may be NULL: section absent or null) whose keys are the table's children of prefix. */
int pa_cfg_parse_mapping(struct pa_cfg_ctx *c, const struct pa_cfg_node *m, const struct pa_cfg_node *where,
                         const char *prefix, const char *dprefix, void *obj)
{
    const struct pa_cfg_node *keyn[PA_CFG_MAX_KEYS], *valn[PA_CFG_MAX_KEYS];
    memset(keyn, 0, sizeof keyn);
    memset(valn, 0, sizeof valn);
    char disp[PA_CFG_DISP_MAX];
    for (size_t i = 0; m && i + 1 < m->n; i += 2) {
        const struct pa_cfg_node *kn = m->kids[i], *vn = m->kids[i + 1];
        if (kn->kind != N_SCALAR || pa_cfg_is_null(kn))
            return cfg_fail(c, kn, "%s: keys must be plain names, got %s", *dprefix ? dprefix : "top level",
                            pa_cfg_kind_name(kn));
        if (strcmp(kn->s, "<<") == 0)
            return cfg_fail(c, kn, "YAML merge keys (<<) are not supported: write the keys out in full");
        long k = pa_cfg_find_key(prefix, kn->s);
        if (k < 0)
            return unknown_key(c, kn, prefix, dprefix);
        if (keyn[k])
            return cfg_fail(c, kn, "duplicate key \"%s\"%s%s (first set at line %zu): keep one", kn->s,
                            *dprefix ? " in " : " at the top level", dprefix, keyn[k]->line + 1);
        keyn[k] = kn;
        valn[k] = vn;
        if (pa_cfg_is_null(vn))
            continue; /* as if absent: the default applies */
        snprintf(disp, sizeof disp, "%s%s%s", dprefix, *dprefix ? "." : "", kn->s);
        if (pa_cfg_setter_of((size_t)k)(c, (size_t)k, vn, obj, disp))
            return -1;
    }
    for (size_t k = 0; k < pa_cfg_nkeys; k++) {
        const struct pa_config_key *key = &pa_cfg_keys[k];
        if (!pa_cfg_parent_is(key->name, prefix) || (valn[k] && !pa_cfg_is_null(valn[k])))
            continue;
        const char *leaf = pa_cfg_leaf_of(key->name);
        snprintf(disp, sizeof disp, "%s%s%s", dprefix, *dprefix ? "." : "", leaf);
        if (key->required) {
            if (valn[k])
                return cfg_fail(c, valn[k], "%s: a value is required here", disp);
            if (*dprefix)
                return cfg_fail(c, where, "%s: missing required key \"%s\"", dprefix, leaf);
            return cfg_fail(c, where, "missing required top-level key \"%s\"", leaf);
        }
        if (key->type == PA_KEY_SECTION) {
            if (pa_cfg_parse_mapping(c, NULL, valn[k] ? valn[k] : where, key->name, disp, obj))
                return -1;
        } else if (key->dflt) {
            if (apply_default(c, k, obj, disp))
                return -1;
        }
    }
    return 0;
}

int pa_cfg_parse_item(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, size_t i, const char *disp,
                      const char *what, char *idisp, void *item)
{
    char q[PA_CFG_QUOTE_CAP], prefix[PA_CFG_DISP_MAX];
    const struct pa_cfg_node *node = n->kids[i];
    snprintf(idisp, PA_CFG_DISP_MAX, "%s[%zu]", disp, i);
    if (node->kind != N_MAP)
        return cfg_fail(c, node, "%s: expected a mapping with %s, got %s", idisp, what,
                        pa_cfg_got(node, false, q, sizeof q));
    snprintf(prefix, sizeof prefix, "%s[]", pa_cfg_keys[k].name);
    if (pa_cfg_parse_mapping(c, node, node, prefix, idisp, item)) {
        pa_cfg_free_object(pa_cfg_items_of(k), item);
        return -1;
    }
    return 0;
}
