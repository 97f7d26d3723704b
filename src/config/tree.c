/* config/tree: YAML text (libyaml's event API) turned into a tree of nodes with their line and column; the
 * structural limits (one document, depth, no aliases, tags or NUL bytes). See tree.h. Must never print or log.
 */
#include "tree.h"
#include "diag.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void pa_cfg_node_free(struct pa_cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        pa_cfg_node_free(n->kids[i]);
    if (n->s) {
        /* scalars include the conninfo */
        explicit_bzero(n->s, n->len);
        free(n->s);
    }
    free(n->kids);
    free(n);
}

static struct pa_cfg_node *node_new(enum pa_cfg_nkind kind, const yaml_mark_t *m)
{
    struct pa_cfg_node *n = pa_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = m->line;
    n->col = m->column;
    return n;
}

static void node_add(struct pa_cfg_node *p, struct pa_cfg_node *k)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->kids = pa_xrealloc(p->kids, p->cap * sizeof *p->kids);
    }
    p->kids[p->n++] = k;
}

/* YAML core schema null: an empty plain scalar, ~ or null. */
bool pa_cfg_is_null(const struct pa_cfg_node *n)
{
    return n->kind == N_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 || strcmp(n->s, "Null") == 0 ||
            strcmp(n->s, "NULL") == 0);
}

const char *pa_cfg_kind_name(const struct pa_cfg_node *n)
{
    switch (n->kind) {
    case N_SEQ: return "a list";
    case N_MAP: return "a mapping";
    case N_SCALAR: break;
    }
    return pa_cfg_is_null(n) ? "nothing (null)" : "a single value";
}

struct yparser {
    yaml_parser_t p;
    const char *buf;
    size_t len;
};

static int yaml_fail(struct pa_cfg_diag *d, struct yparser *y)
{
    const yaml_parser_t *p = &y->p;
    if (p->error == YAML_MEMORY_ERROR)
        return pa_cfg_fail_at(d, 0, 0, "out of memory while parsing YAML");
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
        return pa_cfg_fail_at(d, line, col, "invalid input: %s%s", problem,
                              strstr(problem, "UTF") ? " (the file must be UTF-8 text)" : "");
    }
    const char *hint = "";
    if (p->problem_mark.index < y->len && y->buf[p->problem_mark.index] == '\t')
        hint = " (YAML does not allow tabs for indentation: use spaces)";
    bool same = p->context_mark.line == p->problem_mark.line && p->context_mark.column == p->problem_mark.column;
    if (p->context && !same)
        return pa_cfg_fail_at(d, p->problem_mark.line, p->problem_mark.column,
                              "YAML syntax error: %s (%s at line %zu, column %zu)%s",
                              p->problem ? p->problem : "invalid", p->context, p->context_mark.line + 1,
                              p->context_mark.column + 1, hint);
    return pa_cfg_fail_at(d, p->problem_mark.line, p->problem_mark.column, "YAML syntax error: %s%s",
                          p->problem ? p->problem : "invalid", hint);
}

static int next_event(struct pa_cfg_diag *d, struct yparser *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->p, ev))
        return yaml_fail(d, y);
    return 0;
}

/* Build the node for ev (consumed) and everything inside it. NULL on error. */
static struct pa_cfg_node *build(struct pa_cfg_diag *d, struct yparser *y, yaml_event_t *ev, size_t depth)
{
    struct pa_cfg_node *n = NULL;
    const yaml_mark_t *m = &ev->start_mark;
    if (depth > PA_CFG_MAX_DEPTH) {
        pa_cfg_fail_at(d, m->line, m->column, "nested more than %d levels deep: this configuration never needs that",
                       PA_CFG_MAX_DEPTH);
        goto out;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        pa_cfg_fail_at(d, m->line, m->column,
                       "YAML aliases (*name) are not supported: write the value out in full where it is used");
        goto out;
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.tag) {
            pa_cfg_fail_at(d, m->line, m->column, "YAML tags (!name) are not supported: remove the tag");
            goto out;
        }
        if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            pa_cfg_fail_at(d, m->line, m->column, "a NUL character (\\0) is not allowed in the configuration");
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
            pa_cfg_fail_at(d, m->line, m->column, "YAML tags (!name) are not supported: remove the tag");
            goto out;
        }
        n = node_new(seq ? N_SEQ : N_MAP, m);
        for (;;) {
            yaml_event_t e;
            if (next_event(d, y, &e)) {
                pa_cfg_node_free(n);
                n = NULL;
                goto out;
            }
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            struct pa_cfg_node *k = build(d, y, &e, depth + 1);
            if (!k) {
                pa_cfg_node_free(n);
                n = NULL;
                goto out;
            }
            node_add(n, k);
        }
        goto out;
    }
    default: pa_cfg_fail_at(d, m->line, m->column, "unexpected YAML structure"); goto out;
    }
out:
    yaml_event_delete(ev);
    return n;
}

/* Parse buf into a tree. *root is NULL for an empty stream. Returns 0 or -1 (error in d). */
int pa_cfg_tree_load(struct pa_cfg_diag *d, const char *buf, size_t len, struct pa_cfg_node **root)
{
    struct yparser y = {.buf = buf, .len = len};
    yaml_event_t ev;
    int ret = -1;
    *root = NULL;
    if (!yaml_parser_initialize(&y.p))
        return pa_cfg_fail_at(d, 0, 0, "out of memory while parsing YAML");
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
    if (next_event(d, &y, &ev))
        goto out;
    yaml_event_delete(&ev); /* STREAM-START */
    if (next_event(d, &y, &ev))
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        ret = 0;
        goto out;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if (next_event(d, &y, &ev))
        goto out;
    *root = build(d, &y, &ev, 0);
    if (!*root)
        goto out;
    if (next_event(d, &y, &ev)) /* DOCUMENT-END */
        goto out;
    yaml_event_delete(&ev);
    if (next_event(d, &y, &ev))
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        pa_cfg_fail_at(d, ev.start_mark.line, ev.start_mark.column,
                       "a second YAML document (---) is not allowed: keep one document per configuration file");
        yaml_event_delete(&ev);
        goto out;
    }
    yaml_event_delete(&ev);
    ret = 0;
out:
    if (ret) {
        pa_cfg_node_free(*root);
        *root = NULL;
    }
    yaml_parser_delete(&y.p);
    return ret;
}
