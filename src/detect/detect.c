/* detect: PII detection over JSON documents and strings (see detect.h and docs/detection.md). This room holds the
 * module's frame: categories, compiling a detector from its options (pa_detect_new: the dictionary in dict.c, the value
 * detectors in values.c), the per-thread context, pa_detect_doc, and reporting a finding (allow_paths, dedupe on
 * (path, category), max_findings_per_record). docs/architecture.md has the map of the other rooms.
 *
 * This module must never print or log anything, and must never let a byte of a scanned value reach a finding: paths
 * come from the walker (PII-looking keys redacted as <category>), rules and categories are static or configured.
 */
#include "detect.h"

#include "cclass.h"
#include "context.h"
#include "hooks.h"
#include "internal.h"
#include "prefilter.h"
#include "values.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    pa_det_dict_init();
    pa_det_ctx_init();
    pa_det_prefilter_init();
}

void pa_det_init(void)
{
    pthread_once(&init_once, init);
}

/* ---- categories ------------------------------------------------------------------------------------------------ */

/* by enum pa_category */
static const char *const builtin_cat_names[] = {
    "email",       "phone", "national_id", "person_name", "ip_address",  "street_address", "date_of_birth",
    "credit_card", "iban",  "geolocation", "device_id",   "mac_address", "postal_code",
};
_Static_assert(PA_ARRAY_LEN(builtin_cat_names) == PA_CAT_BUILTIN_COUNT, "a name for every built-in category");

const char *pa_category_name(int category)
{
    if (category < 0 || category >= PA_CAT_BUILTIN_COUNT)
        return NULL;
    return builtin_cat_names[category];
}

const char *pa_evidence_name(enum pa_evidence e)
{
    static const char *const names[] = {"key", "value", "key+value", "context"};
    return (unsigned)e < PA_ARRAY_LEN(names) ? names[e] : NULL;
}

int pa_category_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++)
        if (strcmp(builtin_cat_names[i], name) == 0)
            return i;
    return -1;
}

int pa_det_cat_intern(struct pa_detector *d, const char *name)
{
    for (size_t i = 0; i < d->n_cats; i++)
        if (strcmp(d->cat_names[i], name) == 0)
            return (int)i;
    d->cat_names = pa_xrealloc(d->cat_names, (d->n_cats + 1) * sizeof *d->cat_names);
    d->cat_owned = pa_xrealloc(d->cat_owned, (d->n_cats + 1) * sizeof *d->cat_owned);
    d->cat_disabled = pa_xrealloc(d->cat_disabled, (d->n_cats + 1) * sizeof *d->cat_disabled);
    d->cat_names[d->n_cats] = pa_xstrdup(name);
    d->cat_owned[d->n_cats] = true;
    d->cat_disabled[d->n_cats] = false;
    return (int)d->n_cats++;
}

/* The built-in categories, then every custom one that extra_keys or patterns name (ids in that order), then the
 * disabled ones marked. -1 and a message naming the option when one is incomplete or unknown. */
static int categories(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen)
{
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++) {
        pa_det_cat_intern(d, builtin_cat_names[i]);
        free(d->cat_names[i]);
        d->cat_names[i] = (char *)builtin_cat_names[i];
        d->cat_owned[i] = false;
    }
    for (size_t i = 0; i < opt->n_extra_keys; i++) {
        if (!opt->extra_keys[i].category || !opt->extra_keys[i].key) {
            snprintf(err, errlen, "detectors.extra_keys[%zu]: category and key are required", i);
            return -1;
        }
        pa_det_cat_intern(d, opt->extra_keys[i].category);
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        const struct pa_detect_pattern *p = &opt->patterns[i];
        if (!p->name || !p->category || !p->regex) {
            snprintf(err, errlen, "detectors.patterns[%zu]: name, category and regex are required", i);
            return -1;
        }
        pa_det_cat_intern(d, p->category);
    }
    for (size_t i = 0; i < opt->n_disable; i++) {
        int c = -1;
        for (size_t k = 0; k < d->n_cats; k++)
            if (strcmp(d->cat_names[k], opt->disable[i]) == 0)
                c = (int)k;
        if (c < 0) {
            snprintf(err, errlen,
                     "detectors.disable: unknown category \"%s\" (built-in: email, phone, national_id, "
                     "person_name, ip_address, street_address, date_of_birth, credit_card, iban, geolocation, "
                     "device_id, mac_address, postal_code)",
                     opt->disable[i]);
            return -1;
        }
        d->cat_disabled[c] = true;
    }
    return 0;
}

/* ---- the detector ---------------------------------------------------------------------------------------------- */

/* allow_paths: "schema.table.column:$.path" */
static int allow_paths(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen)
{
    if (opt->n_allow_paths)
        d->allow = pa_xcalloc(opt->n_allow_paths, sizeof *d->allow);
    for (size_t i = 0; i < opt->n_allow_paths; i++) {
        const char *s = opt->allow_paths[i];
        const char *sep = s ? strstr(s, ":$") : NULL;
        if (!sep || sep == s) {
            snprintf(err, errlen, "detectors.allow_paths[%zu]: expected \"schema.table.column:$.json.path\"", i);
            return -1;
        }
        d->allow[d->n_allow].surface = pa_xstrndup(s, (size_t)(sep - s));
        d->allow[d->n_allow].path = pa_xstrdup(sep + 1);
        d->n_allow++;
    }
    return 0;
}

struct pa_detector *pa_detect_new(const struct pa_detect_options *opt, char *err, size_t errlen)
{
    pa_det_init();
    static const struct pa_detect_options no_options;
    if (!opt)
        opt = &no_options;
    struct pa_detector *d = pa_xcalloc(1, sizeof *d);
    /* in this order: a configuration with several mistakes reports the same one as ever */
    if (categories(d, opt, err, errlen) < 0 || pa_det_dict_build(d, opt, err, errlen) < 0 ||
        allow_paths(d, opt, err, errlen) < 0 || pa_det_values_build(d, opt, err, errlen) < 0) {
        pa_detect_free(d);
        return NULL;
    }
    d->max_findings = opt->max_findings_per_record;
    return d;
}

const char *pa_detect_category_name(const struct pa_detector *d, int category_id)
{
    if (!d || category_id < 0 || (size_t)category_id >= d->n_cats)
        return NULL;
    return d->cat_names[category_id];
}

void pa_detect_free(struct pa_detector *d)
{
    if (!d)
        return;
    if (d->db)
        hs_free_database(d->db);
    for (size_t i = 0; i < d->n_cats; i++)
        if (d->cat_owned[i])
            free(d->cat_names[i]);
    free(d->cat_names);
    free(d->cat_owned);
    free(d->cat_disabled);
    free(d->rule_names);
    free(d->rule_cat);
    pa_det_dict_free(&d->dict);
    for (size_t i = 0; i < d->n_allow; i++) {
        free(d->allow[i].surface);
        free(d->allow[i].path);
    }
    free(d->allow);
    free(d);
}

/* ---- the per-thread context ----------------------------------------------------------------------------------- */

static void scan_limits(struct pa_detect_ctx *c)
{
    c->scan_min = c->no_values || !c->d->db ? SIZE_MAX : c->d->min_width;
    c->scan_kf = c->no_values ? 0 : KF_NATIONAL;
    c->short_pf = !c->no_values && c->d->db && c->d->precheck;
}

struct pa_detect_ctx *pa_detect_ctx_new(const struct pa_detector *d)
{
    struct pa_detect_ctx *c = pa_xcalloc(1, sizeof *c);
    c->d = d;
    if (d->db && hs_alloc_scratch(d->db, &c->scratch) != HS_SUCCESS) {
        free(c);
        return NULL;
    }
    c->w = pa_jw_new();
    pa_buf_init(&c->path);
    pa_buf_init(&c->path2);
    pa_buf_init(&c->bf_arena);
    c->hold_cat = -1;
    pa_buf_init(&c->seen_arena);
    c->seen_mask = 63;
    c->seen = pa_xcalloc(c->seen_mask + 1, sizeof *c->seen);
    c->seen_gen = 0;
    c->rule_gen = pa_xcalloc(d->n_rules, sizeof *c->rule_gen);
    c->cat_gen = pa_xcalloc(d->n_cats, sizeof *c->cat_gen);
    c->allow_idx = pa_xcalloc(d->n_allow ? d->n_allow : 1, sizeof *c->allow_idx);
    memo_init(&c->kmemo, KMEMO_SLOTS, KMEMO_SLOTS / 2 * KMEMO_KEYMAX);
    c->kinfo = pa_xcalloc(KMEMO_SLOTS, sizeof *c->kinfo);
    c->kguess = pa_xcalloc(KGUESS_N, sizeof *c->kguess);
    memo_init(&c->vmemo, VMEMO_SLOTS, VMEMO_ARENA);
    c->vguess = pa_xcalloc(VGUESS_N, sizeof *c->vguess);
    scan_limits(c);
    return c;
}

void pa_detect_ctx_wipe(struct pa_detect_ctx *c)
{
    pa_jw_wipe(c->w);
    pa_buf_wipe(&c->path);
    pa_buf_wipe(&c->path2);
    pa_buf_wipe(&c->bf_arena);
    pa_buf_wipe(&c->seen_arena);
    if (c->cobj)
        explicit_bzero(c->cobj, c->cobj_cap * sizeof *c->cobj);
    memo_clear(&c->kmemo);
    memo_clear(&c->vmemo);
    explicit_bzero(c->vguess, VGUESS_N * sizeof *c->vguess);
}

void pa_detect_ctx_set_allow(struct pa_detect_ctx *c, const struct pa_detect_allow *v, size_t n)
{
    c->allow_db = n ? v : NULL;
    c->n_allow_db = n;
}

void pa_detect_ctx_bench_values(struct pa_detect_ctx *c, bool on)
{
    c->no_values = !on;
    scan_limits(c);
    memo_clear(&c->kmemo); /* names memoized without their value scan must be looked at again */
    memo_clear(&c->vmemo);
}

void pa_detect_ctx_free(struct pa_detect_ctx *c)
{
    if (!c)
        return;
    /* pa_jw_free, pa_buf_free and memo_free each wipe what they free (decoded strings, names, paths, memoized
     * names and values) */
    if (c->scratch)
        hs_free_scratch(c->scratch);
    pa_jw_free(c->w);
    pa_buf_free(&c->path);
    pa_buf_free(&c->path2);
    pa_buf_free(&c->bf_arena);
    if (c->cobj)
        explicit_bzero(c->cobj, c->cobj_cap * sizeof *c->cobj);
    free(c->cobj);
    free(c->bf);
    free(c->xref);
    pa_buf_free(&c->seen_arena);
    free(c->seen);
    free(c->rule_gen);
    free(c->cat_gen);
    free(c->allow_idx);
    memo_free(&c->kmemo);
    free(c->kinfo);
    free(c->kguess);
    memo_free(&c->vmemo);
    explicit_bzero(c->vguess, VGUESS_N * sizeof *c->vguess);
    free(c->vguess);
    free(c);
}

/* ---- reporting a finding: allow_paths, dedupe on (path, category), max_findings_per_record ------------------- */

static bool allow_match(const char *pat, const char *path, size_t plen)
{
    size_t j = 0;
    for (size_t i = 0; pat[i];) {
        if (pat[i] == '[' && pat[i + 1] == '*' && pat[i + 2] == ']') {
            if (j >= plen || path[j] != '[')
                return false;
            size_t k = ++j;
            while (j < plen && is_digit((unsigned char)path[j]))
                j++;
            if (j == k || j >= plen || path[j] != ']')
                return false;
            j++;
            i += 3;
            continue;
        }
        if (j >= plen || path[j] != pat[i])
            return false;
        i++;
        j++;
    }
    return j == plen;
}

static void seen_grow(struct pa_detect_ctx *c)
{
    size_t size = (c->seen_mask + 1) * 2;
    struct seen_slot *old = c->seen;
    size_t old_size = c->seen_mask + 1;
    c->seen = pa_xcalloc(size, sizeof *c->seen);
    c->seen_mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].gen != c->seen_gen)
            continue;
        size_t k = hash_slot(old[i].h, c->seen_mask);
        while (c->seen[k].gen == c->seen_gen)
            k = (k + 1) & c->seen_mask;
        c->seen[k] = old[i];
    }
    free(old);
}

bool pa_det_emit(struct pa_detect_ctx *c, const char *path, size_t plen, int cat, enum pa_detector_kind det,
                 const char *rule, enum pa_evidence ev)
{
    const struct pa_detector *d = c->d;
    if (c->stop)
        return true;
    if (d->cat_disabled[cat])
        return false;
    for (size_t i = 0; i < c->n_allow_idx; i++)
        if (allow_match(d->allow[c->allow_idx[i]].path, path, plen))
            return false;
    for (size_t i = 0; i < c->n_allow_db; i++)
        if ((!c->allow_db[i].category || strcmp(c->allow_db[i].category, d->cat_names[cat]) == 0) &&
            allow_match(c->allow_db[i].path, path, plen))
            return false;
    uint64_t h = pa_fnv1a64(PA_FNV1A64_BASIS ^ ((uint64_t)cat * 0x9e3779b97f4a7c15ULL), path, plen);
    size_t k = hash_slot(h, c->seen_mask);
    for (; c->seen[k].gen == c->seen_gen; k = (k + 1) & c->seen_mask) {
        const struct seen_slot *e = &c->seen[k];
        if (e->h == h && e->cat == cat && e->len == plen && memcmp(c->seen_arena.data + e->off, path, plen) == 0)
            return false;
    }
    if (d->max_findings && c->res->findings >= d->max_findings) {
        c->res->truncated = true;
        c->stop = true;
        c->halt = true;
        return true;
    }
    c->seen[k] = (struct seen_slot){h, c->seen_gen, (uint32_t)c->seen_arena.len, (uint32_t)plen, cat};
    pa_buf_append(&c->seen_arena, path, plen);
    if (++c->seen_count * 2 > c->seen_mask + 1)
        seen_grow(c);
    struct pa_finding f = {
        .path = path,
        .path_len = plen,
        .category = d->cat_names[cat],
        .category_id = cat,
        .detector = det,
        .rule = rule,
        .evidence = ev,
    };
    c->res->findings++;
    c->cb(c->cb_arg, &f);
    return false;
}

/* ---- documents ------------------------------------------------------------------------------------------------ */

int pa_detect_doc(struct pa_detect_ctx *c, const char *surface, enum pa_doc_kind kind, const char *buf, size_t len,
                  pa_finding_cb cb, void *arg, struct pa_doc_result *res)
{
    const struct pa_detector *d = c->d;
    struct pa_doc_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    c->res = res;
    c->cb = cb;
    c->cb_arg = arg;
    c->stop = false;
    c->error = false;
    c->halt = false;
    if (++c->seen_gen == 0) {
        memset(c->seen, 0, (c->seen_mask + 1) * sizeof *c->seen);
        c->seen_gen = 1;
    }
    c->seen_count = 0;
    pa_buf_truncate(&c->seen_arena, 0);
    c->n_allow_idx = 0;
    for (size_t i = 0; i < d->n_allow; i++)
        if (surface && strcmp(d->allow[i].surface, surface) == 0)
            c->allow_idx[c->n_allow_idx++] = i;

    bool walk = true;
    if (kind == PA_DOC_TEXT) {
        size_t i = 0;
        while (i < len && is_space((unsigned char)buf[i]))
            i++;
        walk = i < len && (buf[i] == '{' || buf[i] == '[');
    }
    int rc = 0;
    if (walk) {
        int wr = pa_det_walk(c, buf, len);
        if (c->error) {
            rc = -1;
            goto out;
        }
        if (wr < 0) {
            res->invalid_json = true;
            if (!c->stop && pa_det_scan_text(c, buf, len) < 0)
                rc = -1;
        }
    } else if (pa_det_scan_text(c, buf, len) < 0) {
        rc = -1;
    }
out:
    /* the path buffers held member names of this document; the context engine's stacks its typed values */
    pa_buf_wipe(&c->path);
    pa_buf_wipe(&c->path2);
    pa_buf_wipe(&c->bf_arena);
    pa_det_ctx_doc_end(c);
    pa_buf_wipe(&c->seen_arena);
    c->cb = NULL;
    c->res = NULL;
    return rc;
}
