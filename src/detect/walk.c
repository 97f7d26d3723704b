/* walk: the walker glue. A document is walked by this file's own instance of the walker (jsonwalk_impl.h) whose events
 * go straight to on_event, inlined at each event site where the event's kind is a constant (no call, no event record,
 * no dispatch per JSON token: docs/performance.md, "Detector core"). on_event gives every member name its meaning
 * (guess, memo or dictionary), every value its key finding, and the strings and numbers that can hold PII to values.c.
 * The per-container slot of this walker is struct dslot.
 * Never prints; keeps no byte of a document past pa_detect_ctx_wipe (the memos and guesses hold names and clean
 * values only; detect.c wipes them).
 */
#include "internal.h"
#include "prefilter.h"
#include "values.h"

#include <stdint.h>
#include <string.h>

/* detect's slot in each open container of its walker (see KGUESS_BITS for the guesses). */
struct dslot {
    uint16_t geo;  /* objects: 1 when a latitude member carried data, 2 a longitude one (3: a lat/lng pair) */
    uint16_t base; /* the container's guess base */
    uint32_t next; /* objects: the guess context of the next member name */
};

static inline __attribute__((always_inline)) int on_event(void *arg, struct pa_jw *w, const struct pa_jw_event *ev);
#define JW_DELIVER(cb_, ctx_, w_, ev_) ((void)(cb_), on_event((ctx_), (w_), (ev_)))
#define JW_USER_T struct dslot
#include "jsonwalk_impl.h"

static const struct kinfo kinfo_none = {NULL, -1, 0, false};

static void emit_key_finding(struct pa_detect_ctx *c, int cat, const char *rule)
{
    pa_det_cur_path(c);
    pa_det_emit(c, c->path.data, c->path.len, cat, PA_DET_KEY, rule);
}

static void geo_mark(struct pa_detect_ctx *c, unsigned kflags)
{
    if (!(kflags & (KF_LAT | KF_LNG)))
        return;
    struct dslot *f = jw_user_top(c->w);
    if (f && !jw_top_is_array(c->w))
        f->geo |= (kflags & KF_LAT) ? 1u : 2u;
}

/* A member name not in the memo: tokenize, ignore_keys, the value scan of the name itself, the dictionary, the flags;
 * memoized when the name is not PII itself. What it means goes to c->kmiss (and to its kmemo slot's kinfo). Returns
 * the kmemo slot it was memoized in, KMISS_NONE when it was not (too long, or PII), KMISS_STOP to stop the walk. Out
 * of line: it is the rare path. It takes the name, not the event: the event record's address then never leaves
 * on_event, so the walker's event fields need not be stored. */
#define KMISS_NONE SIZE_MAX
#define KMISS_STOP (SIZE_MAX - 1)

static __attribute__((noinline)) size_t key_miss(struct pa_detect_ctx *c, const char *str, size_t len, size_t ki,
                                                 uint64_t kh)
{
    const struct pa_detector *d = c->d;
    struct kinfo *k = &c->kmiss;
    *k = kinfo_none;
    struct tokens t;
    pa_det_tokenize(str, len, &t);
    if (pa_det_key_ignored(d, &t)) {
        k->ignored = true;
        if (ki != SIZE_MAX) {
            ki = memo_insert(&c->kmemo, ki, kh, str, (uint32_t)len | KMEMO_TAG);
            c->kinfo[ki] = *k;
        }
        return ki;
    }
    /* A key that is itself PII: a value finding, and the path segment becomes <category>. */
    struct vscan v = {.c = c, .s = (const unsigned char *)str, .len = len, .mode = VM_KEY};
    if (len >= c->scan_min && pa_det_scan_string(&v) < 0)
        return KMISS_STOP;
    if (v.stop)
        return KMISS_STOP;
    const struct dent *e = pa_det_key_lookup(d, &t);
    if (e && e->cat >= 0 && !d->cat_disabled[e->cat]) {
        k->cat = e->cat;
        k->rule = e->rule;
    }
    k->flags = pa_det_key_flags(&t);
    if (k->cat == PA_CAT_NATIONAL_ID)
        k->flags |= pa_det_natid_key_flags(e);
    if (ki != SIZE_MAX && !v.redacted && !v.ncat) {
        ki = memo_insert(&c->kmemo, ki, kh, str, (uint32_t)len | KMEMO_TAG);
        c->kinfo[ki] = *k;
        return ki;
    }
    return KMISS_NONE;
}

/* ignore_keys: skip the value of the member named at depth, and everything below it */
static inline void skip_value(struct pa_detect_ctx *c, size_t depth)
{
    c->state = EV_SKIP;
    c->skip_in_container = false;
    c->skip_depth = depth;
}

/* The guess base of the container opening now: below an array, the array's; below a member, the scramble of the
 * member's slot; at top level that of none. */
static inline uint32_t kg_container(const struct pa_detect_ctx *c, struct pa_jw *w, size_t depth)
{
    if (depth && jw_parent_is_array(w))
        return jw_user_parent(w)->base;
    uint32_t holder = depth ? c->kg_child : 0;
    return (holder * 0x9e3779b1u) >> (32 - KGUESS_BITS);
}

/* on_event's rare paths, one test for the two (c->state != 0). EV_SKIP: the value of an ignored key and everything
 * below it (true: the event is skipped). EV_PEND: the event after a matched key's container opened: its first child
 * (the key finding), or its end (empty: no finding). */
static inline __attribute__((always_inline)) bool on_state(struct pa_detect_ctx *c, const struct pa_jw_event *ev)
{
    if (c->state == EV_SKIP) {
        if (!c->skip_in_container) {
            if (ev->kind == PA_JW_OBJECT_BEGIN || ev->kind == PA_JW_ARRAY_BEGIN)
                c->skip_in_container = true;
            else
                c->state = 0;
        } else if ((ev->kind == PA_JW_OBJECT_END || ev->kind == PA_JW_ARRAY_END) && ev->depth == c->skip_depth) {
            c->state = 0;
        }
        return true;
    }
    c->state = 0;
    if (ev->kind != PA_JW_OBJECT_END && ev->kind != PA_JW_ARRAY_END)
        pa_det_emit(c, c->pend_path.data, c->pend_path.len, c->pend_cat, PA_DET_KEY, c->pend_rule);
    return false;
}

/* A member name: its meaning to c->kcur. The guess first (the slot of the name seen last in this context, if these
 * are its bytes), then the memo, then key_miss. Returns 1 to stop the walk. */
static inline __attribute__((always_inline)) int on_key(struct pa_detect_ctx *c, struct pa_jw *w,
                                                        const struct pa_jw_event *ev)
{
    struct dslot *obj = jw_user_top(w);
    uint32_t gctx = obj->next;
    size_t ki = c->kguess[gctx]; /* kmemo slot for this name */
    const struct memo_slot *gs = &c->kmemo.slot[ki];
    if (__builtin_expect((size_t)gs->lentag != ev->len + KMEMO_TAG ||
                             !key_eq(c->kmemo.arena + gs->off, ev->str, ev->len), 0)) {
        ki = SIZE_MAX; /* not memoized when too long */
        uint64_t kh = 0;
        bool found = false;
        if (ev->len <= KMEMO_KEYMAX) {
            uint32_t lentag = (uint32_t)ev->len | KMEMO_TAG;
            kh = memo_hash(ev->str, ev->len, lentag);
            ki = memo_find(&c->kmemo, kh, ev->str, lentag, &found);
        }
        if (!found) {
            c->kcur = &kinfo_none;
            ki = key_miss(c, ev->str, ev->len, ki, kh);
            if (ki == KMISS_STOP)
                return 1;
        }
        if (ki == KMISS_NONE) { /* not memoized: no guess, and no holder for the names below it */
            c->kcur = &c->kmiss;
            obj->next = obj->base ^ KG_PREV_NONE;
            c->kg_child = 0;
            if (c->kmiss.ignored)
                skip_value(c, ev->depth);
            return 0;
        }
        c->kguess[gctx] = (uint16_t)ki;
    }
    obj->next = obj->base ^ (uint32_t)ki;
    c->kg_child = (uint32_t)ki + 1;
    c->kcur = &c->kinfo[ki]; /* an ignored name's cat is -1 and flags 0 */
    if (c->kcur->ignored)
        skip_value(c, ev->depth);
    return 0;
}

/* A string value: the key finding of its member (when it carries data), lat/lng, then the value detectors: the
 * prefilter here, where most values end (short ones without a call; 8..24 bytes equal to the value the prefilter
 * rejected last in this context without it). Returns 1 to stop the walk. */
static inline __attribute__((always_inline)) int on_string(struct pa_detect_ctx *c, struct pa_jw *w,
                                                           const struct pa_jw_event *ev, const struct kinfo *kcur)
{
    const unsigned char *s = (const unsigned char *)ev->str;
    int kc = kcur->cat;
    unsigned kf = kcur->flags;
    bool data = (kc >= 0 || (kf & (KF_LAT | KF_LNG))) && pa_det_string_carries_data(s, ev->len);
    if (kc >= 0 && data)
        emit_key_finding(c, kc, kcur->rule);
    if (data)
        geo_mark(c, kf);
    if (ev->len < c->scan_min && !(kf & c->scan_kf)) /* pa_det_scan_string would find nothing */
        return 0;
    if (!c->short_pf || (kf & c->scan_kf)) {
        struct vscan v = {.c = c, .s = s, .len = ev->len, .kflags = kf, .mode = VM_VALUE};
        return pa_det_scan_string(&v) < 0;
    }
    size_t n = ev->len;
    struct dslot *top = jw_user_top(w);
    if (n >= 8 && n <= 24 && top) {
        uint64_t x0, x1, x2 = 0;
        memcpy(&x0, s, 8);
        memcpy(&x1, s + n - 8, 8);
        if (n > 16)
            memcpy(&x2, s + 8, 8);
        struct vguess *g = &c->vguess[top->next & (VGUESS_N - 1)];
        if (g->len == n && g->w0 == x0 && g->w1 == x1 && g->w2 == x2)
            return 0; /* rejected last time here */
        if (!pa_det_prefilter(s, n)) {
            *g = (struct vguess){x0, x1, x2, n};
            return 0;
        }
    } else if (!pa_det_prefilter(s, n)) {
        return 0;
    }
    struct vscan v = {.c = c, .s = s, .len = n, .kflags = kf, .mode = VM_VALUE};
    return pa_det_scan_string_passed(&v) < 0;
}

/* A number value: the key finding of its member, lat/lng, and a number of 9..19 digits can be a card number or,
 * under a national_id key, a national identifier (the bare SSN and the identifier the key names). */
static inline __attribute__((always_inline)) void on_number(struct pa_detect_ctx *c, const struct pa_jw_event *ev,
                                                            const struct kinfo *kcur)
{
    unsigned kf = kcur->flags;
    if (kcur->cat >= 0)
        emit_key_finding(c, kcur->cat, kcur->rule);
    geo_mark(c, kf);
    const unsigned char *s = (const unsigned char *)ev->str;
    size_t n = ev->len;
    bool digits = n >= 9 && n <= 19 && !c->no_values;
    for (size_t i = 0; i < n && digits; i++)
        digits = is_digit(s[i]);
    if (!digits)
        return;
    struct vscan v = {.c = c, .s = s, .len = n, .kflags = kf, .mode = VM_VALUE};
    pa_det_scan_begin(c);
    pa_det_scan_natid(&v);
    /* pa_det_check_card_sequence(s, n, 0, n) for one group of 13..19 digits, without its copy: the issuer, Luhn */
    if (n >= 13 && !c->d->cat_disabled[PA_CAT_CREDIT_CARD] && pa_det_card_issuer_ok(s, n) && pa_det_luhn_ok(s, n))
        pa_det_hit(&v, R_CC);
}

/* A container opens: its guess base, and a pending key finding when its member's name matched (reported at its
 * first child: an empty container is no finding). */
static inline __attribute__((always_inline)) void on_begin(struct pa_detect_ctx *c, struct pa_jw *w,
                                                           const struct pa_jw_event *ev, const struct kinfo *kcur)
{
    uint32_t base = kg_container(c, w, ev->depth);
    *jw_user_top(w) = (struct dslot){.geo = 0, .base = (uint16_t)base, .next = base ^ KG_PREV_FIRST};
    if (kcur->cat >= 0) {
        pa_buf_truncate(&c->pend_path, 0);
        pa_jw_path(w, &c->pend_path);
        c->state = EV_PEND;
        c->pend_cat = kcur->cat;
        c->pend_rule = kcur->rule;
    }
}

/* Every event of the walk. Returns non-zero to stop it. */
static inline __attribute__((always_inline)) int on_event(void *arg, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct pa_detect_ctx *c = arg;
    if (__builtin_expect(c->state != 0, 0) && on_state(c, ev))
        return 0;
    /* what the member name before this value means (kinfo_none when this is not a member's value) */
    const struct kinfo *kcur = c->kcur;
    if (ev->kind != PA_JW_KEY)
        c->kcur = &kinfo_none;
    switch (ev->kind) {
    case PA_JW_KEY:
        if (on_key(c, w, ev))
            return 1;
        break;
    case PA_JW_STRING:
        if (on_string(c, w, ev, kcur))
            return 1;
        break;
    case PA_JW_NUMBER:
        on_number(c, ev, kcur);
        break;
    case PA_JW_OBJECT_BEGIN:
    case PA_JW_ARRAY_BEGIN:
        on_begin(c, w, ev, kcur);
        break;
    case PA_JW_OBJECT_END:
        if (jw_user_top(w)->geo == 3 && !c->d->cat_disabled[PA_CAT_GEOLOCATION]) {
            pa_det_cur_path(c);
            pa_det_emit(c, c->path.data, c->path.len, PA_CAT_GEOLOCATION, PA_DET_KEY, "key:lat_lng_pair");
        }
        break;
    case PA_JW_ARRAY_END:
    case PA_JW_TRUE:
    case PA_JW_FALSE:
    case PA_JW_NULL:
        break;
    }
    return c->halt;
}

int pa_det_walk(struct pa_detect_ctx *c, const char *buf, size_t len)
{
    c->state = 0;
    c->kcur = &kinfo_none;
    return jw_walk(c->w, buf, len, NULL, c);
}
