/* config/values: what the key table knows about a loaded value, used twice: to free it (pa_config_free) and to compare
 * it (pa_config_reload_refused). Both walk the table, so a new key is freed and reload-checked by its row alone: a
 * string or path is one owned string, a list of strings an array of them, a map (extra_keys, basic_auth_users) an
 * array of pairs of strings, a list of mappings an array of items whose keys are walked in turn; integers, durations
 * and booleans own nothing. The only owned strings no key sets are named in pa_cfg_scopes (keys.c).
 * Secret values (F_SECRET) are zeroed before they are freed. Must never print or log a value.
 */
#include "keys.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The maps' items are two owned strings (static-asserted in keys.c). */
#define PAIR_SIZE (2 * sizeof(char *))

static char **pair_str(void *items, size_t i, int which)
{
    return (char **)((char *)items + i * PAIR_SIZE + (size_t)which * sizeof(char *));
}

static void free_string(char *s, bool secret)
{
    if (!s)
        return;
    if (secret)
        explicit_bzero(s, strlen(s));
    free(s);
}

static void free_value(size_t k, void *obj)
{
    const struct pa_cfg_impl *im = &pa_cfg_impl[k];
    bool secret = im->flags & F_SECRET;
    void *p = pa_cfg_field(obj, im->off);
    size_t n = im->off2 ? *(size_t *)pa_cfg_field(obj, im->off2) : 0;
    switch (pa_cfg_keys[k].type) {
    case PA_KEY_STRING:
    case PA_KEY_PATH: free_string(*(char **)p, secret); return;
    case PA_KEY_STRING_LIST:
        for (size_t i = 0; i < n; i++)
            free_string((*(char ***)p)[i], secret);
        break;
    case PA_KEY_MAP_OF_LISTS:
    case PA_KEY_STRING_MAP:
        for (size_t i = 0; i < n; i++) {
            free_string(*pair_str(*(void **)p, i, 0), secret);
            free_string(*pair_str(*(void **)p, i, 1), secret);
        }
        break;
    case PA_KEY_LIST_OF_MAPS: {
        const struct pa_cfg_scope *items = pa_cfg_items_of(k);
        for (size_t i = 0; i < n; i++)
            pa_cfg_free_object(items, *(char **)p + i * items->size);
        break;
    }
    case PA_KEY_INT:
    case PA_KEY_DURATION:
    case PA_KEY_BOOL:
    case PA_KEY_SECTION: return;
    }
    free(*(void **)p); /* the array of a list or a map */
}

void pa_cfg_free_object(const struct pa_cfg_scope *scope, void *obj)
{
    for (size_t k = 0; k < pa_cfg_nkeys; k++)
        if (pa_cfg_in_scope(pa_cfg_keys[k].name, scope))
            free_value(k, obj);
    if (scope->owned != SIZE_MAX)
        free(*(char **)pa_cfg_field(obj, scope->owned));
}

void pa_config_free(struct pa_config *c)
{
    if (!c)
        return;
    pa_cfg_free_object(&pa_cfg_scopes[0], c);
    free(c);
}

static bool string_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool object_eq(const struct pa_cfg_scope *scope, const void *a, const void *b);

/* Key k holds the same value in objects a and b (in order: lists and maps compare item by item). */
static bool value_eq(size_t k, const void *a, const void *b)
{
    const struct pa_cfg_impl *im = &pa_cfg_impl[k];
    const void *pa = (const char *)a + im->off, *pb = (const char *)b + im->off;
    size_t n = im->off2 ? *(const size_t *)((const char *)a + im->off2) : 0;
    if (im->off2 && n != *(const size_t *)((const char *)b + im->off2))
        return false;
    switch (pa_cfg_keys[k].type) {
    case PA_KEY_STRING:
    case PA_KEY_PATH: return string_eq(*(char *const *)pa, *(char *const *)pb);
    case PA_KEY_INT:
        if (im->flags & F_SIZE_T)
            return *(const size_t *)pa == *(const size_t *)pb;
        return *(const long long *)pa == *(const long long *)pb;
    case PA_KEY_DURATION: return *(const double *)pa == *(const double *)pb;
    case PA_KEY_BOOL: return *(const bool *)pa == *(const bool *)pb;
    case PA_KEY_SECTION: return true; /* its keys are compared one by one */
    case PA_KEY_STRING_LIST:
        for (size_t i = 0; i < n; i++)
            if (!string_eq((*(char **const *)pa)[i], (*(char **const *)pb)[i]))
                return false;
        return true;
    case PA_KEY_MAP_OF_LISTS:
    case PA_KEY_STRING_MAP:
        for (size_t i = 0; i < 2 * n; i++)
            if (!string_eq(*pair_str(*(void *const *)pa, i / 2, (int)(i % 2)),
                           *pair_str(*(void *const *)pb, i / 2, (int)(i % 2))))
                return false;
        return true;
    case PA_KEY_LIST_OF_MAPS: {
        const struct pa_cfg_scope *items = pa_cfg_items_of(k);
        for (size_t i = 0; i < n; i++)
            if (!object_eq(items, *(char *const *)pa + i * items->size, *(char *const *)pb + i * items->size))
                return false;
        return true;
    }
    }
    return false;
}

static bool object_eq(const struct pa_cfg_scope *scope, const void *a, const void *b)
{
    for (size_t k = 0; k < pa_cfg_nkeys; k++)
        if (pa_cfg_in_scope(pa_cfg_keys[k].name, scope) && !value_eq(k, a, b))
            return false;
    return true;
}

/* Keys of list items are compared as part of their list (a unit test checks they share its reloadable flag). */
const char *pa_config_reload_refused(const struct pa_config *running, const struct pa_config *loaded)
{
    for (size_t k = 0; k < pa_cfg_nkeys; k++)
        if (!pa_cfg_keys[k].reloadable && pa_cfg_in_scope(pa_cfg_keys[k].name, &pa_cfg_scopes[0]) &&
            !value_eq(k, running, loaded))
            return pa_cfg_keys[k].name;
    return NULL;
}
