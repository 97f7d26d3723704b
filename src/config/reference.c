/* config/reference: the key reference of docs/configuration.md (a Markdown table: key, type, default, range, reload,
 * doc line), generated from the key table; test_config fails when the page and this output differ.
 * Must never print or log.
 */
#include "keys.h"
#include "util.h"

#include <stdio.h>

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
    for (size_t k = 0; k < pa_cfg_nkeys; k++) {
        const struct pa_config_key *key = &pa_cfg_keys[k];
        const struct pa_cfg_impl *im = &pa_cfg_impl[k];
        char range[80] = "", lo[32], hi[32];
        if (key->type == PA_KEY_INT) {
            snprintf(range, sizeof range, "%lld .. %lld", (long long)im->min, (long long)im->max);
        } else if (key->type == PA_KEY_DURATION) {
            pa_cfg_fmt_dur(im->min, lo, sizeof lo);
            pa_cfg_fmt_dur(im->max, hi, sizeof hi);
            snprintf(range, sizeof range, "%s .. %s", lo, hi);
        }
        pa_buf_printf(&b, "| `%s` | %s%s | ", key->name, type_name(key->type), im->flags & F_SECRET ? " (secret)" : "");
        if (key->required)
            pa_buf_appends(&b, "**required**");
        else if (key->dflt)
            pa_buf_printf(&b, "`%s`", key->dflt);
        else
            pa_buf_appends(&b, "unset");
        pa_buf_printf(&b, " | %s | %s | %s |\n", range[0] ? range : "", key->reloadable ? "yes" : "restart", key->doc);
    }
    return b.data;
}
