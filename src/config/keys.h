/* config/keys: the private side of the key table (keys.c), shared by the files of src/config/ and by nothing else.
 *
 * A row of the table says, besides the public struct pa_config_key, how the key is parsed (a setter: the generic one
 * of its type or its own), checked (a check of each string), where its value lives (offsets into the object being
 * filled: the config, or one item of a list of mappings), and its range. The walks over the table are:
 *   parse.c   a YAML mapping against the keys of one section or list item: unknown keys, duplicates, defaults;
 *   values.c  a loaded struct: freeing (pa_config_free) and the reload check (pa_config_reload_refused);
 *   reference.c  the Markdown key reference of docs/configuration.md.
 * To add a key: add its row to PA_CONFIG_KEY_TABLE in keys.c (documentation order), its field to struct pa_config;
 * give it a setter here only when its type's generic one is not enough. Freeing and the reload check follow the row.
 * Must never print or log.
 */
#ifndef PA_CONFIG_KEYS_H
#define PA_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "tree.h"

#define PA_CFG_MAX_KEYS 64  /* more than the table holds (checked in keys.c): stack arrays of one slot per key */
#define PA_CFG_IDENT_MAX 63 /* PostgreSQL's NAMEDATALEN - 1: longer names would be silently truncated by the server */

/* One load: where errors go, the config being filled, and nodes noted for the checks across keys (validate.c),
 * which run once everything is parsed since sections may come in any order. */
struct pa_cfg_ctx {
    struct pa_cfg_diag d;
    struct pa_config *cfg;
    const struct pa_cfg_node *allow_paths;             /* detectors.allow_paths, checked once the surfaces are known */
    const struct pa_cfg_node *findings_pw;             /* findings.password_file, checked against findings.conninfo */
    const struct pa_cfg_node *db_cred, *findings_cred; /* *.password_credential: not with password_file */
    const struct pa_cfg_node *jitter_n;                /* scan.jitter, checked against scan.interval */
    const struct pa_cfg_node *tls_cert_n, *tls_key_n, *tls_ca_n; /* metrics.tls.*: both or neither, CA needs both */
};

#define cfg_fail(c, nd, ...) pa_cfg_fail_at(&(c)->d, (nd)->line, (nd)->col, __VA_ARGS__)

/* Parse node n, the value of key k, into obj (the config, or the item of a list of mappings); disp names the key
 * as the user wrote it ("surfaces[2].table"). 0, or -1 with the error in c. */
typedef int (*pa_cfg_setter)(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp);
/* An extra check of one non-empty string (of a string key, or each string of a list). 0 or -1. */
typedef int (*pa_cfg_check)(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp);

/* Declarations of setters and checks, the types above. */
#define PA_CFG_SETTER(name)                                                                                            \
    int name(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
#define PA_CFG_CHECK(name) int name(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)

enum { F_SECRET = 1, F_SIZE_T = 2 };

struct pa_cfg_impl {
    unsigned flags;     /* F_SECRET: "(secret)" in the docs, zeroed when freed; F_SIZE_T: an integer in a size_t */
    pa_cfg_setter set;  /* NULL: the generic setter of the key's type */
    pa_cfg_check check; /* extra validation of a string (or of each string of a list) */
    size_t off;         /* where the value goes in the object being filled (config, surface or pattern) */
    size_t off2;        /* lists and maps: where the count goes */
    double min, max;    /* integers and durations (seconds) */
};

/* The objects the table fills: the config (list ""), and one item per entry of each list of mappings, with the
 * one string it owns that no key sets (SIZE_MAX: none). Freeing walks these too. */
struct pa_cfg_scope {
    const char *list; /* "" for the config, else the list key: "surfaces" */
    size_t size;      /* bytes of one item */
    size_t owned;     /* offset of an owned string that no key sets: the config's path, a surface's name */
};

extern const struct pa_config_key pa_cfg_keys[];
extern const struct pa_cfg_impl pa_cfg_impl[];
extern const size_t pa_cfg_nkeys;
extern const struct pa_cfg_scope pa_cfg_scopes[];
extern const size_t pa_cfg_nscopes;

/* "scan.batch_size" -> "batch_size". */
const char *pa_cfg_leaf_of(const char *name);
/* The key's parent is prefix: "scan.batch_size" in "scan", "surfaces" in "". */
bool pa_cfg_parent_is(const char *name, const char *prefix);
/* The key named leaf directly under prefix, or -1. */
long pa_cfg_find_key(const char *prefix, const char *leaf);
/* Key name is stored in an object of scope s: "surfaces[].table" in "surfaces", "scan.interval" in "". */
bool pa_cfg_in_scope(const char *name, const struct pa_cfg_scope *s);
/* The scope of the items of list key k (a PA_KEY_LIST_OF_MAPS). */
const struct pa_cfg_scope *pa_cfg_items_of(size_t k);
/* The setter of key k: its own or its type's. */
pa_cfg_setter pa_cfg_setter_of(size_t k);

static inline void *pa_cfg_field(void *obj, size_t off)
{
    return (char *)obj + off;
}

/* parse.c: parse mapping m (NULL: absent or null) whose keys are the table's children of prefix into obj: unknown
 * keys named with a suggestion, duplicates, required keys, defaults (written in YAML, parsed like the user's). */
int pa_cfg_parse_mapping(struct pa_cfg_ctx *c, const struct pa_cfg_node *m, const struct pa_cfg_node *where,
                         const char *prefix, const char *dprefix, void *obj);
/* Item i of list n, the value of list key k, parsed into item (an object of k's scope, prepared by the caller); what
 * lists its keys for the message ("table and column"); idisp (PA_CFG_DISP_MAX bytes) receives "surfaces[i]".
 * 0, or -1 with what the item got freed. */
int pa_cfg_parse_item(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, size_t i, const char *disp,
                      const char *what, char *idisp, void *item);

/* types.c: the generic setter of each type, and checks shared by several keys. */
PA_CFG_SETTER(pa_cfg_set_string);
PA_CFG_SETTER(pa_cfg_set_path);
PA_CFG_SETTER(pa_cfg_set_int);
PA_CFG_SETTER(pa_cfg_set_duration);
PA_CFG_SETTER(pa_cfg_set_bool);
PA_CFG_SETTER(pa_cfg_set_string_list);
PA_CFG_SETTER(pa_cfg_set_section);
/* n is a non-empty string (what: "a string", "a file path such as ...") passing key k's check. 0 or -1. */
int pa_cfg_need_string(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, const char *disp, const char *what);
/* The keys of mapping n (a map-valued key) each pass check, and none repeats. 0 or -1. */
int pa_cfg_map_keys(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp, pa_cfg_check check);
/* [a-z][a-z0-9_]*, at most 63 bytes: pattern and category names. */
bool pa_cfg_is_name(const char *s, size_t len);
/* Index of the first string (in list order) equal to an earlier one, or -1; *first: that earlier one. */
long pa_cfg_first_duplicate(const char *const *strs, size_t n, size_t *first);
struct pa_cfg_dupent {
    const char *s;
    size_t i;
};
int pa_cfg_dupcmp(const void *a, const void *b); /* by s, then i: qsort order of pa_cfg_dupent */

/* surfaces.c: surfaces[] and PostgreSQL identifiers. */
PA_CFG_SETTER(pa_cfg_set_surfaces);
PA_CFG_SETTER(pa_cfg_set_table);
PA_CFG_SETTER(pa_cfg_set_schema);
PA_CFG_SETTER(pa_cfg_set_ident);
PA_CFG_CHECK(pa_cfg_check_keyless);

/* detectors.c: detectors.* */
PA_CFG_SETTER(pa_cfg_set_extra_keys);
PA_CFG_SETTER(pa_cfg_set_patterns);
PA_CFG_SETTER(pa_cfg_set_pattern_name);
PA_CFG_SETTER(pa_cfg_set_pattern_regex);
PA_CFG_CHECK(pa_cfg_check_builtin_category);
PA_CFG_CHECK(pa_cfg_check_category_name);
PA_CFG_CHECK(pa_cfg_check_key_name);
PA_CFG_CHECK(pa_cfg_check_regex_len);
PA_CFG_CHECK(pa_cfg_check_allow_path);

/* web.c: metrics.* (struct pa_web_config) */
PA_CFG_SETTER(pa_cfg_set_listen);
PA_CFG_CHECK(pa_cfg_check_listen);
PA_CFG_SETTER(pa_cfg_set_users);

/* validate.c: the checks across keys, and the setters that note where those keys were written. */
PA_CFG_SETTER(pa_cfg_set_allow_paths);
PA_CFG_SETTER(pa_cfg_set_findings_pw);
PA_CFG_SETTER(pa_cfg_set_jitter);
PA_CFG_SETTER(pa_cfg_set_tls_file);
PA_CFG_SETTER(pa_cfg_set_credential);
PA_CFG_CHECK(pa_cfg_check_credential);
PA_CFG_CHECK(pa_cfg_check_log_format);
int pa_cfg_validate(struct pa_cfg_ctx *c);

/* values.c: free what a key's value owns in obj (and items' owned strings), walking the table; obj stays. */
void pa_cfg_free_object(const struct pa_cfg_scope *scope, void *obj);

#endif
