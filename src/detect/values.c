/* values: the value detectors (see values.h): the table's rows, the match checks that find a candidate's extent from
 * Hyperscan's anchor and call its validator, the scan of one string (bare SSN, prefilter, memo of clean values,
 * Hyperscan), and the compile of the Hyperscan database with the users' patterns.
 * One Hyperscan database holds every pattern (built-in anchors and the user's patterns) and is scanned once per
 * string. The built-in patterns are cheap anchors ("+digit", "@x.tld", ":hex:", fixed-width shapes); the validators
 * find the candidate's extent from the anchor and check it (boundaries, octet ranges, Luhn, mod-97...), so no pattern
 * needs HS_FLAG_SOM_LEFTMOST (start-of-match tracking slows the whole database down).
 * Never prints; what a scan reports is a rule and a category, never the bytes it matched.
 */
#include "values.h"

#include "hooks.h"
#include "prefilter.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- the checks of the table's rows: the candidate a Hyperscan match ends, then its validator ------------------ */

/* A candidate that ends where its anchor does: the validator alone. */
#define PA_AT_ANCHOR_(check_, validator_)                                                                              \
    static bool check_(struct vscan *v, size_t to)                                                                     \
    {                                                                                                                  \
        return validator_(v->s, v->len, to);                                                                           \
    }
PA_AT_ANCHOR_(m_phone_e164, pa_det_check_phone_e164)
PA_AT_ANCHOR_(m_phone_national, pa_det_check_phone_national)
PA_AT_ANCHOR_(m_ssn, pa_det_check_ssn)
PA_AT_ANCHOR_(m_iban, pa_det_check_iban)
PA_AT_ANCHOR_(m_mac, pa_det_check_mac)
PA_AT_ANCHOR_(m_it_cf, pa_det_check_it_cf)
#undef PA_AT_ANCHOR_
/* An identifier without a strong check, not in a machine-made reference's value (KF_CODE: a random 9- or 10-character
 * code is a DNI once in about 23 / 8-digit shapes, a PAN in a few thousand) */
#define PA_NOT_IN_CODE_(check_, validator_)                                                                            \
    static bool check_(struct vscan *v, size_t to)                                                                     \
    {                                                                                                                  \
        return !(v->kflags & KF_CODE) && validator_(v->s, v->len, to);                                                 \
    }
PA_NOT_IN_CODE_(m_uk_nino, pa_det_check_uk_nino)
PA_NOT_IN_CODE_(m_es_dni, pa_det_check_es_dni)
PA_NOT_IN_CODE_(m_es_nie, pa_det_check_es_nie)
PA_NOT_IN_CODE_(m_in_pan, pa_det_check_in_pan)
#undef PA_NOT_IN_CODE_

/* An e-mail address, except under a message-identifier key (Message-ID, In-Reply-To, References, Content-ID: the
 * same shape, no mailbox). */
static bool m_email(struct vscan *v, size_t to)
{
    return !(v->kflags & KF_MSGID) && pa_det_check_email(v->s, v->len, to);
}

/* A digit run that is the value of a URL query parameter named like an identifier or a campaign code
 * (?product_id=..., &utm_content=...): an id, whatever its checksum. a: where the run starts. */
static bool query_id(const unsigned char *s, size_t a)
{
    if (a < 3 || s[a - 1] != '=')
        return false;
    size_t e = a - 1, b = e;
    while (b > 0 && (is_alnum(s[b - 1]) || s[b - 1] == '_' || s[b - 1] == '-') && e - b < 64)
        b--;
    if (b == 0 || (s[b - 1] != '?' && s[b - 1] != '&' && s[b - 1] != ';'))
        return false;
    if (e - b >= 4 && lower(s[b]) == 'u' && lower(s[b + 1]) == 't' && lower(s[b + 2]) == 'm' && s[b + 3] == '_')
        return true;
    return e - b >= 2 && lower(s[e - 2]) == 'i' && lower(s[e - 1]) == 'd';
}

/* The token of digit groups (single ' ' or '-' between digits) around the match; one check per token. Not under an
 * identifier key (product_id, orderIds: a digit run there is an id even when it passes Luhn), in a gid:// URI or as
 * an identifier's URL query parameter. */
static bool m_card(struct vscan *v, size_t to)
{
    const unsigned char *s = v->s;
    size_t len = v->len;
    if (to <= v->cc_next || (v->kflags & KF_ID) || (len > 6 && memcmp(s, "gid://", 6) == 0))
        return false;
    size_t a = to - 1, b = to;
    while (a > 0 && (is_digit(s[a - 1]) || ((s[a - 1] == ' ' || s[a - 1] == '-') && a >= 2 && is_digit(s[a - 2]))))
        a--;
    while (b < len && (is_digit(s[b]) || ((s[b] == ' ' || s[b] == '-') && b + 1 < len && is_digit(s[b + 1]))))
        b++;
    v->cc_next = b;
    return !query_id(s, a) && pa_det_check_card_sequence(s, len, a, b);
}

static bool ipv4_byte(unsigned char c)
{
    return is_digit(c) || c == '.';
}

static bool ipv6_byte(unsigned char c)
{
    return is_hex(c) || c == ':' || c == '.';
}

/* [*a, *b): the run of bytes that `in` accepts around the match's end */
static inline void token_around(const struct vscan *v, size_t to, bool (*in)(unsigned char), size_t *a, size_t *b)
{
    *a = *b = to;
    while (*a > 0 && in(v->s[*a - 1]))
        (*a)--;
    while (*b < v->len && in(v->s[*b]))
        (*b)++;
}

/* The [0-9.] token around the match (never under a version key); one check per token. */
static bool m_ipv4(struct vscan *v, size_t to)
{
    size_t a, b;
    if (to <= v->ip4_next || (v->kflags & KF_VERSION))
        return false;
    token_around(v, to, ipv4_byte, &a, &b);
    v->ip4_next = b;
    return pa_det_check_ipv4_token(v->s, v->len, a, b);
}

/* The [0-9A-Fa-f:.] token around the match; one check per token. */
static bool m_ipv6(struct vscan *v, size_t to)
{
    size_t a, b;
    if (to <= v->ip6_next)
        return false;
    token_around(v, to, ipv6_byte, &a, &b);
    v->ip6_next = b;
    return pa_det_check_ipv6_token(v->s, v->len, a, b);
}

/* ---- the table ------------------------------------------------------------------------------------------------ */

/* Riders: rows without an expression whose shapes end where a host row's anchor ends, checked at each of the host's
 * matches whatever the host's own check says. Hyperscan's cost per scan grows with some expressions more than the
 * work they do (a 4-4-4 digit expression beside the SSN's made every scan of the bench corpus 35% dearer:
 * docs/perf-detect.md), and the host's anchor already stops at these shapes. */
static const struct rider {
    int host, rule;
    bool (*check)(const unsigned char *s, size_t len, size_t to);
} riders[] = {
    {R_SSN, R_US_ITIN, pa_det_check_us_itin},
    {R_PHONE_NATIONAL, R_BR_CPF, pa_det_check_br_cpf},
    {R_PHONE_NATIONAL, R_IN_AADHAAR, pa_det_check_in_aadhaar},
    {R_PHONE_NATIONAL, R_FR_NIR, pa_det_check_fr_nir},
    {R_PHONE_NATIONAL, R_UK_NINO, pa_det_check_uk_nino_spaced},
};
static const bool has_riders[P_BUILTIN_COUNT] = {[R_SSN] = true, [R_PHONE_NATIONAL] = true};

static const struct value_detector {
    const char *rule;
    int cat;
    bool (*check)(struct vscan *v, size_t to); /* a Hyperscan match of the row's expression, ending at `to`, is real */
    const char *expr;
} value_detectors[R_BUILTIN_COUNT] = {
#define PA_VALUE_ROW_(name_, rule_, cat_, check_, expr_) [R_##name_] = {rule_, cat_, check_, expr_},
    PA_VALUE_DETECTORS(PA_VALUE_ROW_)
#undef PA_VALUE_ROW_
};

/* A row's index is its Hyperscan id: the rows with an expression come first. */
#define PA_VALUE_ORDER_(name_, rule_, cat_, check_, expr_)                                                             \
    _Static_assert(((int)R_##name_ < (int)P_BUILTIN_COUNT) == (sizeof(expr_) > 1),                                     \
                   "values.h: the value detectors with a Hyperscan expression come first");
PA_VALUE_DETECTORS(PA_VALUE_ORDER_)
#undef PA_VALUE_ORDER_

/* ---- scanning ----------------------------------------------------------------------------------------------- */

int pa_det_hit(struct vscan *v, int r)
{
    struct pa_detect_ctx *c = v->c;
    const struct pa_detector *d = c->d;
    if (c->rule_gen[r] == c->scan_gen)
        return 0;
    c->rule_gen[r] = c->scan_gen;
    int cat = d->rule_cat[r];
    if (c->cat_gen[cat] != c->scan_gen) {
        c->cat_gen[cat] = c->scan_gen;
        v->ncat++;
    }
    switch (v->mode) {
    case VM_PUBLIC: v->ucb(v->uarg, cat, d->rule_names[r]); break;
    case VM_KEY:
        if (!v->redacted) {
            pa_jw_redact_key(c->w, d->cat_names[cat]);
            v->redacted = true;
        }
        /* fall through */
    case VM_VALUE:
        if (v->mode == VM_VALUE && cat == c->hold_cat) { /* the key says so too: walk.c's finding is "key+value" */
            c->hold_seen = true;
            break;
        }
        pa_det_cur_path(c);
        if (pa_det_emit(c, c->path.data, c->path.len, cat, PA_DET_VALUE, d->rule_names[r], PA_EV_VALUE))
            v->stop = true;
        break;
    case VM_FIXED:
        if (pa_det_emit(c, v->fixed_path, strlen(v->fixed_path), cat, PA_DET_VALUE, d->rule_names[r], PA_EV_VALUE))
            v->stop = true;
        break;
    }
    return v->stop;
}

/* The identifiers a national_id key can name, each with its rule (the bare SSN comes first:
 * pa_det_scan_natid_value). */
static const struct {
    enum pa_natid kind;
    int rule;
} natid_rules[] = {
    {PA_NATID_US_ITIN, R_US_ITIN},
    {PA_NATID_UK_NINO, R_UK_NINO},
    {PA_NATID_CA_SIN, R_CA_SIN},
    {PA_NATID_FR_NIR, R_FR_NIR},
    {PA_NATID_DE_STEUER_ID, R_DE_STEUER_ID},
    {PA_NATID_ES_DNI, R_ES_DNI},
    {PA_NATID_ES_NIE, R_ES_NIE},
    {PA_NATID_IT_CF, R_IT_CF},
    {PA_NATID_NL_BSN, R_NL_BSN},
    {PA_NATID_BR_CPF, R_BR_CPF},
    {PA_NATID_IN_AADHAAR, R_IN_AADHAAR},
    {PA_NATID_IN_PAN, R_IN_PAN},
    {PA_NATID_AU_TFN, R_AU_TFN},
};

/* Is identifier `kind` one that a key naming `named` asks for? */
static inline bool natid_asked(enum pa_natid named, enum pa_natid kind)
{
    if (named == PA_NATID_ANY)
        return true;
    if (named == PA_NATID_ES_NIF)
        return kind == PA_NATID_ES_DNI || kind == PA_NATID_ES_NIE;
    return named == kind;
}

__attribute__((noinline)) int pa_det_scan_natid_value(struct vscan *v)
{
    enum pa_natid named = (enum pa_natid)((v->kflags & KF_NATID_MASK) >> KF_NATID_SHIFT);
    /* the bare SSN as ever under the SSN's, generic and documents' keys; a key that names another identifier has
     * that identifier's check instead */
    bool ssn = named == PA_NATID_ANY || named == PA_NATID_OTHER || named == PA_NATID_US_SSN;
    if (ssn && pa_det_check_ssn_bare(v->s, v->len) && pa_det_hit(v, R_SSN_BARE))
        return 1;
    if (named == PA_NATID_OTHER || named == PA_NATID_US_SSN)
        return 0;
    unsigned char c[PA_NATID_CANON_MAX];
    size_t n = pa_det_natid_canon(v->s, v->len, c);
    int stop = 0;
    for (size_t i = 0; n && i < PA_ARRAY_LEN(natid_rules) && !stop; i++)
        if (natid_asked(named, natid_rules[i].kind) && pa_det_natid_canon_ok(natid_rules[i].kind, c, n))
            stop = pa_det_hit(v, natid_rules[i].rule);
    explicit_bzero(c, sizeof c);
    return stop;
}

static inline bool rule_done(const struct vscan *v, int r)
{
    return v->c->rule_gen[r] == v->c->scan_gen;
}

/* The riders of host row `id` at a match of its anchor ending at `to`. Non-zero to stop the scan. */
static __attribute__((noinline)) int ride(struct vscan *v, unsigned id, size_t to)
{
    const struct pa_detector *d = v->c->d;
    for (size_t i = 0; i < PA_ARRAY_LEN(riders); i++) {
        const struct rider *rd = &riders[i];
        if (rd->host != (int)id || rule_done(v, rd->rule) || d->cat_disabled[d->rule_cat[rd->rule]] ||
            !rd->check(v->s, v->len, to))
            continue;
        if (pa_det_hit(v, rd->rule))
            return 1;
    }
    return 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct vscan *v = ctx;
    int r = id < P_BUILTIN_COUNT ? (int)id : (int)(R_BUILTIN_COUNT + (id - P_BUILTIN_COUNT));
    if (id < P_BUILTIN_COUNT && has_riders[id]) {
        if (ride(v, id, (size_t)to))
            return 1;
        if (v->c->d->cat_disabled[value_detectors[id].cat]) /* compiled for its riders only */
            return 0;
    }
    if (rule_done(v, r) || (id < P_BUILTIN_COUNT && !value_detectors[id].check(v, (size_t)to)))
        return 0;
    return pa_det_hit(v, r);
}

/* FCM registration tokens (rule fcm_registration_token): every "APA91b" of a string long enough to hold one, found
 * by its '9' (memchr; digits are rarer than letters in the long strings that get here, and memmem's set-up costs
 * more than the search). */
#define FCM_MIN_LEN 106 /* "APA91b" and 100 characters */
static __attribute__((noinline)) int scan_fcm(struct vscan *v)
{
    const unsigned char *s = v->s, *p = s + 3, *last = s + v->len - 2; /* '9' at p: "APA" before, "1b" after */
    for (; p < last && (p = memchr(p, '9', (size_t)(last - p))) != NULL; p++)
        if (p[-3] == 'A' && p[-2] == 'P' && p[-1] == 'A' && p[1] == '1' && p[2] == 'b' &&
            pa_det_check_fcm_token(s, v->len, (size_t)(p + 3 - s)))
            return pa_det_hit(v, R_FCM);
    return 0;
}

/* Can a string match at all? (the prefilter only when there is no custom pattern: their shape is unknown) */
static bool worth_scanning(const struct pa_detector *d, const unsigned char *s, size_t len)
{
    if (!d->db || len < d->min_width)
        return false;
    return !d->precheck || pa_det_prefilter(s, len);
}

/* The rest of a string's scan: national ids under a national_id key, the prefilter (unless the caller has applied
 * it), the memo of clean values, FCM tokens, Hyperscan. */
static inline __attribute__((always_inline)) int scan_body(struct vscan *v, bool prefilter)
{
    struct pa_detect_ctx *c = v->c;
    const struct pa_detector *d = c->d;
    pa_det_scan_begin(c);
    if (pa_det_scan_natid(v))
        return 0;
    if (prefilter && !worth_scanning(d, v->s, v->len))
        return 0;
    /* The same string under the same steering key flags gives the same matches: one Hyperscan found nothing in is
     * not scanned again (user agents, URLs, header values repeat from document to document). */
    size_t mi = SIZE_MAX;
    uint64_t mh = 0;
    uint32_t lentag = 0;
    if (v->len <= VMEMO_VALMAX && !v->ncat) {
        bool found;
        lentag = (uint32_t)v->len | (uint32_t)kf_steer_tag(v->kflags) << 16; /* len <= 256 */
        mh = memo_hash((const char *)v->s, v->len, lentag);
        mi = memo_find(&c->vmemo, mh, (const char *)v->s, lentag, &found);
        if (found)
            return 0;
    }
    if (v->len >= FCM_MIN_LEN && !d->cat_disabled[PA_CAT_DEVICE_ID] && scan_fcm(v))
        return 0;
    hs_error_t e = hs_scan(d->db, (const char *)v->s, (unsigned)(v->len > UINT32_MAX ? UINT32_MAX : v->len), 0,
                           c->scratch, on_match, v);
    if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED) {
        c->error = true;
        c->halt = true;
        return -1;
    }
    if (mi != SIZE_MAX && !v->ncat)
        memo_insert(&c->vmemo, mi, mh, (const char *)v->s, lentag);
    return 0;
}

__attribute__((noinline)) int pa_det_scan_string(struct vscan *v)
{
    return scan_body(v, true);
}

__attribute__((noinline)) int pa_det_scan_string_passed(struct vscan *v)
{
    return scan_body(v, false);
}

int pa_det_scan_text(struct pa_detect_ctx *c, const char *buf, size_t len)
{
    struct vscan v = {.c = c, .s = (const unsigned char *)buf, .len = len, .mode = VM_FIXED, .fixed_path = "$"};
    return len >= c->scan_min ? pa_det_scan_string(&v) : 0;
}

int pa_detect_value(struct pa_detect_ctx *c, const char *s, size_t len, pa_value_cb cb, void *arg)
{
    struct vscan v = {.c = c, .s = (const unsigned char *)s, .len = len, .mode = VM_PUBLIC, .ucb = cb, .uarg = arg};
    if (len >= c->scan_min && pa_det_scan_string(&v) < 0)
        return -1;
    return v.ncat;
}

int pa_detect_value_under_key(struct pa_detect_ctx *c, const char *key, size_t klen, const char *s, size_t len,
                              pa_value_cb cb, void *arg)
{
    /* what the walker's key_miss gives the value of a member with this name (the ignore list aside) */
    struct tokens t;
    pa_det_tokenize(key, klen, &t);
    unsigned kf = pa_det_key_flags(&t);
    const struct dent *e = pa_det_key_lookup(c->d, &t);
    if (e && e->cat == PA_CAT_NATIONAL_ID && !c->d->cat_disabled[e->cat])
        kf |= pa_det_natid_key_flags(e);
    struct vscan v = {
        .c = c, .s = (const unsigned char *)s, .len = len, .kflags = kf, .mode = VM_PUBLIC, .ucb = cb, .uarg = arg};
    if ((len >= c->scan_min || (kf & c->scan_kf)) && pa_det_scan_string(&v) < 0)
        return -1;
    return v.ncat;
}

/* ---- compiling ---------------------------------------------------------------------------------------------- */

int pa_detect_check_regex(const char *regex, char *err, size_t errlen)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    if (!regex || !*regex) {
        snprintf(err, errlen, "empty regular expression");
        return -1;
    }
    if (hs_compile(regex, HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
        snprintf(err, errlen, "regular expression rejected by hyperscan: %s",
                 cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        return -1;
    }
    hs_free_database(db);
    return 0;
}

/* The rules: the rows, then the custom patterns (their categories interned already). */
static void rules_build(struct pa_detector *d, const struct pa_detect_options *opt)
{
    d->n_rules = R_BUILTIN_COUNT + opt->n_patterns;
    d->rule_names = pa_xcalloc(d->n_rules, sizeof *d->rule_names);
    d->rule_cat = pa_xcalloc(d->n_rules, sizeof *d->rule_cat);
    for (size_t i = 0; i < R_BUILTIN_COUNT; i++) {
        d->rule_names[i] = value_detectors[i].rule;
        d->rule_cat[i] = value_detectors[i].cat;
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        d->rule_names[R_BUILTIN_COUNT + i] = opt->patterns[i].name;
        d->rule_cat[R_BUILTIN_COUNT + i] = pa_det_cat_intern(d, opt->patterns[i].category);
    }
}

/* The expressions of the enabled rules, with their Hyperscan flags and ids (arrays of P_BUILTIN_COUNT + n_patterns).
 * Returns how many. */
static size_t exprs_enabled(const struct pa_detector *d, const struct pa_detect_options *opt, const char **exprs,
                            unsigned *flags, unsigned *ids)
{
    size_t k = 0;
    for (unsigned i = 0; i < P_BUILTIN_COUNT; i++) {
        bool wanted = !d->cat_disabled[value_detectors[i].cat];
        for (size_t r = 0; r < PA_ARRAY_LEN(riders) && !wanted; r++)
            wanted = riders[r].host == (int)i && !d->cat_disabled[value_detectors[riders[r].rule].cat];
        if (!wanted)
            continue;
        exprs[k] = value_detectors[i].expr;
        flags[k] = 0;
        ids[k] = i;
        k++;
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        if (d->cat_disabled[d->rule_cat[R_BUILTIN_COUNT + i]])
            continue;
        exprs[k] = opt->patterns[i].regex;
        flags[k] = HS_FLAG_SINGLEMATCH;
        ids[k] = (unsigned)(P_BUILTIN_COUNT + i);
        k++;
    }
    return k;
}

int pa_det_values_build(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen)
{
    rules_build(d, opt);
    /* One Hyperscan database for every enabled pattern. */
    size_t np = P_BUILTIN_COUNT + opt->n_patterns;
    const char **exprs = pa_xcalloc(np, sizeof *exprs);
    unsigned *flags = pa_xcalloc(np, sizeof *flags), *ids = pa_xcalloc(np, sizeof *ids);
    hs_compile_error_t *cerr = NULL;
    int rc = 0;
    size_t k = exprs_enabled(d, opt, exprs, flags, ids);
    int bad = -1; /* the expression that failed, when known */
    d->precheck = true;
    d->min_width = (size_t)-1;
    for (size_t i = 0; i < k; i++) {
        hs_expr_info_t *info = NULL;
        if (hs_expression_info(exprs[i], flags[i], &info, &cerr) != HS_SUCCESS) {
            bad = (int)i;
            goto compile_error;
        }
        if (info->min_width < d->min_width)
            d->min_width = info->min_width;
        free(info);
        if (ids[i] >= P_BUILTIN_COUNT)
            d->precheck = false;
    }
    if (k && hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &d->db, &cerr) != HS_SUCCESS)
        goto compile_error;
    if (!k)
        d->min_width = (size_t)-1;
    goto out;

compile_error : {
    int idx = bad >= 0 ? bad : cerr ? cerr->expression : -1;
    const char *msg = cerr && cerr->message ? cerr->message : "unknown error";
    if (idx >= 0 && (size_t)idx < k && ids[idx] >= P_BUILTIN_COUNT)
        snprintf(err, errlen, "detectors.patterns \"%s\": regular expression rejected by hyperscan: %s",
                 opt->patterns[ids[idx] - P_BUILTIN_COUNT].name, msg);
    else
        snprintf(err, errlen, "compiling the detector patterns failed: %s", msg);
    hs_free_compile_error(cerr);
    rc = -1;
}
out:
    free(exprs);
    free(flags);
    free(ids);
    return rc;
}
