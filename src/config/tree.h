/* config/tree: YAML text (libyaml's event API) turned into a small tree of scalars, sequences and mappings that keep
 * their line and column, for messages.
 *
 * The structural limits live here: one document, at most PA_CFG_MAX_DEPTH levels, no aliases, tags or NUL bytes, so
 * nothing after the tree has to think about them. Knows no configuration key. Must never print or log; scalars are
 * wiped when freed (one of them is the conninfo).
 */
#ifndef PA_CONFIG_TREE_H
#define PA_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>

/* The deepest legitimate value is 5 levels down; anything deeper is a mistake or an attack. */
#define PA_CFG_MAX_DEPTH 32

enum pa_cfg_nkind { N_SCALAR, N_SEQ, N_MAP };

struct pa_cfg_node {
    enum pa_cfg_nkind kind;
    bool plain;       /* plain scalar (not quoted, not a block scalar) */
    size_t line, col; /* 0-based, as libyaml marks them */
    char *s;          /* scalar text, NUL-terminated (and free of NUL bytes) */
    size_t len;
    struct pa_cfg_node **kids; /* sequence items; mapping: key, value, key, value, ... */
    size_t n, cap;
};

struct pa_cfg_diag;

/* Parse len bytes of buf into a tree. *root is NULL for an empty stream. Returns 0, or -1 with the error in d. */
int pa_cfg_tree_load(struct pa_cfg_diag *d, const char *buf, size_t len, struct pa_cfg_node **root);
void pa_cfg_node_free(struct pa_cfg_node *n);

/* YAML core schema null: an empty plain scalar, ~ or null. */
bool pa_cfg_is_null(const struct pa_cfg_node *n);
/* "a list", "a mapping", "nothing (null)" or "a single value": what was written, without its text. */
const char *pa_cfg_kind_name(const struct pa_cfg_node *n);

#endif
