/* walk: the walker glue and the context engine. A document is walked by this file's own instance of the walker
 * (jsonwalk_impl.h) whose events go straight to on_event, inlined at each event site where the event's kind is a
 * constant (no call, no event record, no dispatch per JSON token: docs/performance.md, "Detector core"). on_event gives
 * every member name its meaning (guess, memo or dictionary), every value its key finding, and the strings that can
 * hold PII to values.c.
 *
 * The context engine (docs/detection.md, "Context") decides what the place of a value says, in the same single pass:
 * every container gets a context class when it opens (from its holder's memoized meaning and its parent's class:
 * struct dslot); what must wait for a later sibling (a type after a name, a typed value's label after its value, a
 * container's data after its key) is kept per object in a small stack (struct cobj, only for the objects that need
 * it) and decided when the object ends; findings whose owner object is still undecided wait in a buffer (struct
 * bfind) until it ends. The common path (a memoized name that means nothing, a short clean value) takes none of it:
 * a value goes to the context path only when its name's kinfo says so (kinfo.slow) or an open container watches its
 * leaves (c->leafwatch).
 * Never prints; keeps no byte of a document past pa_detect_ctx_wipe (the memos and guesses hold names and clean
 * values only; a typed value's bytes live in its object's cobj until the object ends, then they are wiped).
 */
#include "context.h"
#include "internal.h"
#include "prefilter.h"
#include "values.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* detect's slot in each open container of its walker (see KGUESS_BITS for the guesses). */
struct dslot {
    uint16_t base; /* the container's guess base */
    uint16_t next; /* objects: the guess context of the next member name */
    uint8_t geo;   /* objects: GEO_* (a latitude/longitude pair) */
    uint8_t cls;   /* the context class (context.h: CX_*) */
    uint8_t fl;    /* DS_* */
    uint8_t fl2;   /* objects: DS2_* (a typed value's labels and value) */
};

enum { GEO_LAT = 1, GEO_LNG = 2, GEO_NZ = 4, GEO_BAD = 8 }; /* a coordinate with data; one not 0; one out of range */
enum {
    DS_COBJ = 1,      /* the container has a struct cobj (the top of c->cobj when it is the innermost) */
    DS_WATCH = 2,     /* counted in c->leafwatch: its scalar leaves take the context path */
    DS_ROLES = 4,     /* an array held by a person's role (contributors): its strings may be person strings */
    DS_TXBOX = 8,     /* held by a typed value's label key (type: {coding, text}, type: ["string", "null"]) */
    DS_ADDRPART = 16, /* held by an address part (line: [...]): its elements are address parts */
    DS_OWNS = 32,     /* decides findings waiting in c->bf */
    DS_LOC = 64,      /* held by a location key: a name in it makes it a place */
    DS_IDARR = 128,   /* an array held by an identifier key (content_ids): its elements are identifiers */
};
enum {
    DS2_HASX = 1,  /* a label waits in c->xref[depth].p[0] (set_label when a value comes) */
    DS2_HASX2 = 2, /* ... and a second one in p[1] */
    DS2_HASV = 4,  /* a typed value waits in c->xref[depth].vp (labels are classified at once) */
};
/* objects (DS_ROLES is for arrays): held by "attributes", whose type is its parent record's */
#define DS_ATTRS DS_ROLES
enum {
    CO_PEND = 1,       /* a key finding on this container, decided at its end */
    CO_DATA = 2,       /* ... a leaf below carried data */
    CO_ADDRDATA = 4,   /* ... an address part below carried data */
    CO_SCHEMA = 8,     /* a JSON Schema property definition (type: "string", $ref) */
    CO_X = 16,         /* typed value: its label was seen */
    CO_V = 32,         /* typed value: its value was seen (bytes in v) */
    CO_NEEDDATA = 128, /* the key finding still waits for a data leaf */
    CO_NAMED = 256     /* a location with a name: a place */
};
/* When a finding is reported: now; unless its owner object is a thing; only if its owner object is a person */
enum { M_NOW, M_SOFT, M_NAME };

static inline __attribute__((always_inline)) int on_event(void *arg, struct pa_jw *w, const struct pa_jw_event *ev);
#define JW_DELIVER(cb_, ctx_, w_, ev_) ((void)(cb_), on_event((ctx_), (w_), (ev_)))
#define JW_USER_T struct dslot
#include "jsonwalk_impl.h"

static const struct kinfo kinfo_none = {NULL, NULL, -1, 0, HK_NONE, false, false, false};

/* Flags that send a member's values to the context path */
#define KF_SLOW                                                                                                        \
    (KF_LAT | KF_LNG | KF_NAME_WEAK | KF_NAME_STRONG | KF_TYPE | KF_TX | KF_TV | KF_DEVWEAK | KF_ROLE | KF_PNPART |    \
     KF_PEVID | KF_USERNAME | KF_REF | KF_SCHEMA_REF | KF_EXAMPLES)

/* A member name not in the memo: tokenize, ignore_keys, the value scan of the name itself, the dictionary, the flags
 * and the context (context.c); memoized when the name is not PII itself. What it means goes to c->kmiss (and to its
 * kmemo slot's kinfo). Returns the kmemo slot it was memoized in, KMISS_NONE when it was not (too long, or PII),
 * KMISS_STOP to stop the walk. Out of line: it is the rare path. It takes the name, not the event: the event record's
 * address then never leaves on_event, so the walker's event fields need not be stored. */
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
    if (k->cat == PA_CAT_CREDIT_CARD)
        k->flags &= ~(unsigned)KF_ID; /* card_id names a card object; card_number is the number */
    struct kctx x;
    pa_det_ctx_key(&t, e ? e->cat : -1, &x);
    k->flags |= x.flags;
    if (len == 4 && memcmp(str, "$ref", 4) == 0)
        k->flags |= KF_SCHEMA_REF;
    if ((k->flags & KF_DEVWEAK) && d->cat_disabled[PA_CAT_DEVICE_ID])
        k->flags &= ~(unsigned)KF_DEVWEAK;
    k->hk = (uint8_t)x.hk;
    k->nrule = x.nrule;
    k->slow = k->cat >= 0 || (k->flags & KF_SLOW);
    k->cslow = k->slow || (k->flags & (KF_ID | KF_ATTRS | KF_ADDRPART));
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

/* on_event's rare path (c->state != 0): the value of an ignored key and everything below it (true: the event is
 * skipped). */
static inline __attribute__((always_inline)) bool on_state(struct pa_detect_ctx *c, const struct pa_jw_event *ev)
{
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

/* A member name: its meaning to c->kcur. The guess first (the slot of the name seen last in this context, if these
 * are its bytes), then the memo, then key_miss. Returns 1 to stop the walk. */
static inline __attribute__((always_inline)) int on_key(struct pa_detect_ctx *c, struct pa_jw *w,
                                                        const struct pa_jw_event *ev)
{
    struct dslot *obj = jw_user_top(w);
    uint32_t gctx = obj->next;
    size_t ki = c->kguess[gctx]; /* kmemo slot for this name */
    const struct memo_slot *gs = &c->kmemo.slot[ki];
    if (__builtin_expect(
            (size_t)gs->lentag != ev->len + KMEMO_TAG || !key_eq(c->kmemo.arena + gs->off, ev->str, ev->len), 0)) {
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
            obj->next = (uint16_t)(obj->base ^ KG_PREV_NONE);
            c->kg_child = 0;
            if (c->kmiss.ignored)
                skip_value(c, ev->depth);
            return 0;
        }
        c->kguess[gctx] = (uint16_t)ki;
    }
    obj->next = (uint16_t)(obj->base ^ (uint32_t)ki);
    c->kg_child = (uint32_t)ki + 1;
    c->kcur = &c->kinfo[ki]; /* an ignored name's cat is -1 and flags 0 */
    if (c->kcur->ignored)
        skip_value(c, ev->depth);
    return 0;
}

/* ---- the context engine: classes, per-object state, waiting findings ------------------------------------------- */

/* What an unclassified container inherits from its parent: the parts of a thing, of an address or of a device are
 * theirs; below a person, only a pass-through holder (profile, details) continues the person (a person's orders are
 * not persons). */
static inline uint8_t cls_inherit(uint8_t pc)
{
    return pc == CX_THING || pc == CX_PADDR || pc == CX_ADDR || pc == CX_DEVICE ? pc : CX_NONE;
}

static inline uint8_t cls_of_holder(unsigned hk, uint8_t pc)
{
    switch (hk) {
    case HK_PERSON: return CX_PERSON;
    case HK_THING: return CX_THING;
    case HK_DEVICE: return CX_DEVICE;
    case HK_MAP: return CX_MAP;
    case HK_PADDR: /* billing and shipping details are a person's, also in an order */ return CX_PADDR;
    case HK_ADDR: return pc == CX_PERSON || pc == CX_PADDR ? CX_PADDR : pc == CX_THING ? CX_THING : CX_ADDR;
    case HK_NAME: return pc == CX_THING ? CX_THING : CX_PNAME;
    case HK_PASS: return pc == CX_PERSON ? CX_PERSON : cls_inherit(pc);
    case HK_LOC: return pc == CX_THING ? CX_THING : CX_NONE;
    case HK_ACTOR: /* an owner or an actor of anything: a person or not, by its own type */ return CX_NONE;
    default: return cls_inherit(pc);
    }
}

/* The cobj of the open container at depth i, or NULL */
static struct cobj *cobj_find(struct pa_detect_ctx *c, struct pa_jw *w, size_t i)
{
    if (!(jw_user_at(w, i)->fl & DS_COBJ))
        return NULL;
    for (size_t k = c->ncobj; k-- > 0;)
        if (c->cobj[k].depth == i)
            return &c->cobj[k];
    return NULL;
}

/* The cobj of the open container at depth i, made when it has none (no deeper container may have one: the stack is
 * ordered by depth; callers are at the innermost container or just below a container that opened now). */
static struct cobj *cobj_get(struct pa_detect_ctx *c, struct pa_jw *w, size_t i)
{
    struct cobj *o = cobj_find(c, w, i);
    if (o)
        return o;
    if (c->ncobj && c->cobj[c->ncobj - 1].depth > i)
        return NULL;
    if (c->ncobj == c->cobj_cap) {
        size_t cap = c->cobj_cap ? c->cobj_cap * 2 : 16;
        struct cobj *n = pa_xcalloc(cap, sizeof *n);
        if (c->cobj) {
            memcpy(n, c->cobj, c->ncobj * sizeof *n);
            explicit_bzero(c->cobj, c->cobj_cap * sizeof *c->cobj); /* typed values' bytes */
            free(c->cobj);
        }
        c->cobj = n;
        c->cobj_cap = cap;
    }
    o = &c->cobj[c->ncobj++];
    o->depth = i;
    o->fl = 0;
    o->pcat = o->xcat = -1;
    o->tkind = o->ekind = 0;
    o->vcats = 0;
    o->vlen = o->vnlen = 0;
    jw_user_at(w, i)->fl |= DS_COBJ;
    return o;
}

static void cobj_pop(struct pa_detect_ctx *c)
{
    struct cobj *o = &c->cobj[--c->ncobj];
    if (o->vlen)
        explicit_bzero(o->v, o->vlen);
    o->vlen = 0;
}

/* What the container at depth i turned out to be: a person, a thing, or neither (CX_NONE), by its own evidence
 * first (a type, then name parts or a reference), else by its holder. */
static uint8_t cls_final(const struct dslot *s, const struct cobj *o)
{
    int k = o ? (o->tkind ? o->tkind : o->ekind) : 0;
    if (k > 0)
        return CX_PERSON;
    if (k < 0 || (o && (o->fl & CO_NAMED) && (s->fl & DS_LOC)))
        return CX_THING;
    return s->cls == CX_PERSON || s->cls == CX_THING ? s->cls : CX_NONE;
}

/* A finding waits for the end of the object at depth owner. When too many wait, it is reported now (fail open). */
static void bf_push(struct pa_detect_ctx *c, struct pa_jw *w, size_t owner, const char *path, size_t plen, int cat,
                    const char *rule, uint8_t ev, uint8_t mode, bool from_x)
{
    if (c->nbf >= 4096) {
        if (mode != M_NAME)
            pa_det_emit(c, path, plen, cat, PA_DET_KEY, rule, (enum pa_evidence)ev);
        return;
    }
    if (c->nbf == c->bf_cap) {
        c->bf_cap = c->bf_cap ? c->bf_cap * 2 : 32;
        c->bf = pa_xrealloc(c->bf, c->bf_cap * sizeof *c->bf);
    }
    c->bf[c->nbf++] = (struct bfind){owner, (uint32_t)c->bf_arena.len, (uint32_t)plen, cat, rule, ev, mode, from_x};
    pa_buf_append(&c->bf_arena, path, plen);
    pa_buf_appendc(&c->bf_arena, '\0'); /* a finding's path is NUL-terminated */
    jw_user_at(w, owner)->fl |= DS_OWNS;
}

/* A key finding at path, held by the object at depth o: reported now (M_NOW), or when o ends (M_NAME: only if o is a
 * person), or, M_SOFT, decided by the nearest object above that says what it is: dropped in a thing, reported in a
 * person's object or a device, waiting for an object of unknown kind (addresses and maps are looked through). */
static void route(struct pa_detect_ctx *c, struct pa_jw *w, size_t o, const char *path, size_t plen, int cat,
                  const char *rule, uint8_t ev, uint8_t mode, bool from_x)
{
    if (mode == M_NAME) {
        bf_push(c, w, o, path, plen, cat, rule, ev, mode, from_x);
        return;
    }
    for (size_t i = o + 1; mode == M_SOFT && i-- > 0;) {
        if (jw_is_array_at(w, i))
            continue;
        uint8_t cls = jw_user_at(w, i)->cls;
        if (cls == CX_THING)
            return;
        if (cls == CX_ADDR || cls == CX_MAP)
            continue;
        if (cls == CX_NONE) {
            bf_push(c, w, i, path, plen, cat, rule, ev, mode, from_x);
            return;
        }
        break;
    }
    pa_det_emit(c, path, plen, cat, PA_DET_KEY, rule, (enum pa_evidence)ev);
}

/* The findings waiting for the object at depth d, which ends now as fin (CX_PERSON, CX_THING or CX_NONE): reported
 * or dropped by their mode, in order; the others stay. */
static void bf_resolve(struct pa_detect_ctx *c, size_t d, uint8_t fin, bool typed)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nbf; i++) {
        const struct bfind *b = &c->bf[i];
        if (b->owner != d) {
            c->bf[k++] = *b;
            continue;
        }
        bool keep = b->mode == M_NAME ? fin == CX_PERSON && !(b->from_x && typed) : fin != CX_THING;
        if (keep && !c->stop)
            pa_det_emit(c, c->bf_arena.data + b->off, b->len, b->cat, PA_DET_KEY, b->rule, (enum pa_evidence)b->ev);
    }
    c->nbf = k;
    if (!k)
        pa_buf_truncate(&c->bf_arena, 0);
}

void pa_det_ctx_doc_end(struct pa_detect_ctx *c)
{
    while (c->ncobj)
        cobj_pop(c);
    c->nbf = 0;
    c->leafwatch = c->needdata = c->txboxes = 0;
    c->hold_cat = -1;
}

/* What a member of an object of class ocls means for its value, with its context: the category (-1: none), the
 * rule, the evidence and when it is decided. */
struct eff {
    int cat;
    const char *rule;
    uint8_t ev, mode;
};

static struct eff effective(const struct kinfo *k, uint8_t ocls)
{
    struct eff e = {k->cat, k->rule, PA_EV_KEY, M_NOW};
    unsigned f = k->flags;
    if (ocls == CX_MAP) /* a package name in dependencies is not a field */
        return (struct eff){-1, NULL, 0, 0};
    if (f & KF_DEVWEAK) {
        if (e.cat < 0 && ocls == CX_DEVICE)
            e = (struct eff){PA_CAT_DEVICE_ID, k->nrule, PA_EV_CONTEXT, M_NOW};
        return e;
    }
    if ((f & KF_PNPART) && ocls == CX_PNAME)
        return (struct eff){PA_CAT_PERSON_NAME, k->nrule, PA_EV_CONTEXT, M_NOW};
    if (f & KF_NAME_WEAK) {
        e = (struct eff){PA_CAT_PERSON_NAME, k->nrule, PA_EV_CONTEXT, M_NAME};
        if (ocls == CX_PADDR || ocls == CX_PNAME)
            e.mode = M_NOW;
        else if (ocls != CX_PERSON && ocls != CX_NONE && ocls != CX_ADDR)
            e.cat = -1; /* a thing's, a device's (an owner or an actor is decided by its type: HK_ACTOR) */
        return e;
    }
    if (f & KF_NAME_STRONG) {
        e = (struct eff){PA_CAT_PERSON_NAME, k->rule ? k->rule : k->nrule, PA_EV_KEY, M_SOFT};
        if (ocls == CX_THING)
            e.cat = -1;
        else if (ocls == CX_PERSON || ocls == CX_PADDR || ocls == CX_PNAME)
            e.mode = M_NOW;
        return e;
    }
    if (e.cat == PA_CAT_STREET_ADDRESS || e.cat == PA_CAT_POSTAL_CODE || e.cat == PA_CAT_GEOLOCATION) {
        if (ocls == CX_THING)
            e.cat = -1;
        else if (ocls == CX_NONE || ocls == CX_ADDR)
            e.mode = M_SOFT;
    }
    return e;
}

/* The leaf at the current event carried data: the open containers waiting for a data leaf (their key findings) take
 * it. A direct element of a waiting array must be plausible for its category ("ips": ["ipsValue"] is no data); an
 * address needs a part of an address (a country alone is none). */
static void mark_leaf(struct pa_detect_ctx *c, struct pa_jw *w, const unsigned char *s, size_t n, bool number,
                      bool addrpart)
{
    size_t top = w->depth - 1;
    bool in_array = jw_top_is_array(w);
    if (in_array && (jw_user_top(w)->fl & DS_ADDRPART))
        addrpart = true;
    for (size_t k = c->ncobj; k-- > 0;) {
        struct cobj *o = &c->cobj[k];
        if (!(o->fl & CO_NEEDDATA))
            continue;
        bool direct = o->depth == top && in_array;
        if (direct && !pa_det_ctx_plausible(o->pcat, s, n, number))
            continue;
        if (o->pcat == PA_CAT_GEOLOCATION && !pa_det_ctx_plausible(PA_CAT_GEOLOCATION, s, n, number))
            continue; /* a geolocation is coordinates: a city or a country alone is out of scope */
        o->fl |= CO_DATA;
        if (addrpart || (direct && !number))
            o->fl |= CO_ADDRDATA;
        if (o->pcat != PA_CAT_STREET_ADDRESS || (o->fl & CO_ADDRDATA)) {
            o->fl &= ~(unsigned)CO_NEEDDATA;
            c->needdata--;
        }
    }
}

/* A latitude or longitude with data: the object's pair bits (GEO_NZ when not 0, GEO_BAD when out of range). */
static void geo_mark(struct pa_detect_ctx *c, struct pa_jw *w, struct dslot *obj, unsigned kflags,
                     const unsigned char *s, size_t n)
{
    (void)c;
    (void)w;
    char b[40];
    if (n >= sizeof b)
        return;
    memcpy(b, s, n);
    b[n] = '\0';
    char *end;
    double x = strtod(b, &end);
    explicit_bzero(b, sizeof b);
    if (end == b)
        return; /* not a number: no coordinate */
    obj->geo |= (kflags & KF_LAT) ? GEO_LAT : GEO_LNG;
    if (x != 0)
        obj->geo |= GEO_NZ;
    if (x > ((kflags & KF_LAT) ? 90 : 180) || x < ((kflags & KF_LAT) ? -90 : -180))
        obj->geo |= GEO_BAD;
}

/* The categories the last scan found (after pa_det_scan_begin, whether or not a scan ran) */
static unsigned scan_cats(const struct pa_detect_ctx *c)
{
    unsigned m = 0;
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++)
        if (c->cat_gen[i] == c->scan_gen)
            m |= 1u << i;
    return m;
}

/* The value detectors over a leaf of the context path (a string, or a number of 9..19 digits under a national-id key),
 * with the key's category held: its hits confirm the key finding instead of being findings of their own. */
static int scan_leaf(struct pa_detect_ctx *c, const unsigned char *s, size_t n, bool number, unsigned kf, int hold)
{
    pa_det_scan_begin(c);
    c->hold_cat = hold;
    c->hold_seen = false;
    int rc = 0;
    struct vscan v = {.c = c, .s = s, .len = n, .kflags = kf, .mode = VM_VALUE};
    if (number) {
        if (n >= 9 && n <= 19 && !c->no_values) {
            bool digits = true;
            for (size_t i = 0; i < n && digits; i++)
                digits = is_digit(s[i]);
            if (digits) {
                pa_det_scan_natid(&v);
                /* a card number stored as a number needs a card key (or a typed label: typed_end) */
                if (hold == PA_CAT_CREDIT_CARD && n >= 13 && pa_det_card_issuer_ok(s, n) && pa_det_luhn_ok(s, n))
                    pa_det_hit(&v, R_CC);
            }
        }
    } else if (n >= c->scan_min || (kf & c->scan_kf)) {
        rc = pa_det_scan_string(&v) < 0 ? -1 : 0;
    }
    c->hold_cat = -1;
    return rc;
}

/* A typed value's label (X of {X: ..., value: V}) on the object at depth i: its classification to the object's cobj
 * (the first label that names something wins). */
static void set_label(struct pa_detect_ctx *c, struct pa_jw *w, size_t i, const unsigned char *s, size_t n)
{
    const char *rule;
    unsigned xkf;
    int xc = pa_det_ctx_typed_label(c->d, s, n, &rule, &xkf);
    if (xc < 0 && !xkf)
        return;
    struct cobj *ob = cobj_get(c, w, i);
    if (ob && !(ob->fl & CO_X)) {
        ob->fl |= CO_X;
        ob->xcat = xc;
        ob->xrule = rule;
        ob->xkf = xkf;
    }
}

/* A typed value's value into its object's cobj (its bytes copied: they are needed when the object ends) */
static void set_value(struct pa_detect_ctx *c, struct pa_jw *w, size_t i, const char *v, size_t n, bool num,
                      const char *name, size_t nlen, unsigned cats)
{
    struct cobj *ob = cobj_get(c, w, i);
    if (!ob || (ob->fl & CO_V) || n > COBJ_VMAX || nlen >= sizeof ob->vname)
        return;
    ob->fl |= CO_V;
    memcpy(ob->vname, name, nlen);
    ob->vnlen = (uint8_t)nlen;
    memcpy(ob->v, v, n);
    ob->vlen = (uint8_t)n;
    ob->vnum = num;
    ob->vcats = cats;
}

static bool in_doc(const struct pa_detect_ctx *c, const char *p, size_t n)
{
    return p >= c->doc && p + n <= c->doc_end;
}

static struct xref *xref_at(struct pa_detect_ctx *c, size_t top)
{
    if (top >= XREF_DEPTH)
        return NULL;
    if (top >= c->xref_cap) {
        size_t cap = c->xref_cap ? c->xref_cap * 2 : 16;
        while (cap <= top)
            cap *= 2;
        c->xref = pa_xrealloc(c->xref, cap * sizeof *c->xref);
        c->xref_cap = cap;
    }
    return &c->xref[top];
}

/* The object at depth top has both a label and a value: the labels waiting are classified, and when one names
 * something the value waiting is copied to the cobj (typed_end decides at the object's end). */
static void typed_ready(struct pa_detect_ctx *c, struct pa_jw *w, struct dslot *ts, size_t top)
{
    struct xref *x = &c->xref[top];
    for (unsigned slot = 0; slot < 2; slot++)
        if (ts->fl2 & (slot ? DS2_HASX2 : DS2_HASX))
            set_label(c, w, top, (const unsigned char *)x->p[slot], x->n[slot]);
    ts->fl2 &= (uint8_t) ~(DS2_HASX | DS2_HASX2);
    struct cobj *ob = (ts->fl & DS_COBJ) ? cobj_find(c, w, top) : NULL;
    if ((ts->fl2 & DS2_HASV) && ob && (ob->fl & CO_X)) {
        set_value(c, w, top, x->vp, x->vn, x->vnum, x->vk, x->vkn, x->vcats);
        ts->fl2 &= (uint8_t)~DS2_HASV;
    }
}

/* A typed value's label: kept as a reference into the document until the object has a value too (labels are
 * classified only in objects that do); decoded labels, deep objects and third labels are classified at once. */
static void label_seen(struct pa_detect_ctx *c, struct pa_jw *w, struct dslot *ts, size_t top, const unsigned char *s,
                       size_t n)
{
    struct xref *x = xref_at(c, top);
    if (!x || !in_doc(c, (const char *)s, n) || (ts->fl2 & DS2_HASX2)) {
        set_label(c, w, top, s, n);
    } else {
        unsigned slot = (ts->fl2 & DS2_HASX) ? 1 : 0;
        x->p[slot] = (const char *)s;
        x->n[slot] = (uint32_t)n;
        ts->fl2 |= slot ? DS2_HASX2 : DS2_HASX;
    }
    struct cobj *ob = (ts->fl & DS_COBJ) ? cobj_find(c, w, top) : NULL;
    if ((ts->fl2 & DS2_HASV) || (ob && (ob->fl & CO_V)))
        typed_ready(c, w, ts, top);
}

/* A typed value's value: kept as a reference into the document (or copied, when it was decoded) until a label of its
 * object names something. */
static void value_seen(struct pa_detect_ctx *c, struct pa_jw *w, struct dslot *ts, size_t top, const unsigned char *s,
                       size_t n, bool num, const char *key, size_t klen, unsigned cats)
{
    if (ts->fl2 & DS2_HASV)
        return; /* the first value only */
    struct cobj *ob = (ts->fl & DS_COBJ) ? cobj_find(c, w, top) : NULL;
    if (ob && (ob->fl & CO_V))
        return;
    struct xref *x = xref_at(c, top);
    if (ob && (ob->fl & CO_X)) {
        set_value(c, w, top, (const char *)s, n, num, key, klen, cats);
        return;
    }
    if (!x || !in_doc(c, (const char *)s, n) || !in_doc(c, key, klen)) {
        set_value(c, w, top, (const char *)s, n, num, key, klen, cats);
    } else {
        x->vp = (const char *)s;
        x->vk = key;
        x->vn = (uint32_t)n;
        x->vkn = (uint32_t)klen;
        x->vcats = cats;
        x->vnum = num;
        ts->fl2 |= DS2_HASV;
    }
    if (ts->fl2 & (DS2_HASX | DS2_HASX2))
        typed_ready(c, w, ts, top);
}

/* A leaf on the context path: the value, where it is, and whether it carries data (decided on first need: the
 * costly checks run only when their answer can matter). */
struct leaf {
    const unsigned char *s;
    size_t n;
    bool number, member;
    const struct kinfo *k;
    unsigned kf; /* the member's flags, with what its object adds (KF_MSGID after a message-id label, KF_ID in an
                    identifier's array) */
    size_t top;  /* the innermost container's depth */
    struct dslot *ts;
    const char *key; /* the member's name (members only) */
    size_t klen;
    int data; /* -1: not decided yet */
};

static bool leaf_data(struct leaf *l)
{
    if (l->data < 0)
        l->data = l->number
                      ? !(l->n == 1 && l->s[0] == '0' && l->k->cat == PA_CAT_GEOLOCATION)
                      : pa_det_string_carries_data(l->s, l->n) && !pa_det_ctx_placeholder(l->s, l->n, l->key, l->klen);
    return l->data;
}

/* What a member's string says about its object: a type (person, thing, schema), a $ref, a FHIR reference, a
 * location's name, a person's name part or e-mail address or an honorific name, a typed value's label; and a full
 * name or person string under a person's role or a user name. plausible: the value is data of the member's
 * category (e_cat); cats: what the value detectors found in it. */
static void member_says(struct pa_detect_ctx *c, struct pa_jw *w, struct leaf *l, struct cobj *o, int e_cat,
                        bool plausible, unsigned cats)
{
    const unsigned char *s = l->s;
    size_t n = l->n, top = l->top;
    unsigned kf = l->kf;
    if (kf & KF_TYPE) {
        int kind = pa_det_ctx_kind_of(s, n);
        if (kind || pa_det_ctx_schema_type(s, n)) {
            struct cobj *ob = cobj_get(c, w, top);
            if (ob && kind && !ob->tkind)
                ob->tkind = (int8_t)kind;
            if (ob && !kind)
                ob->fl |= CO_SCHEMA;
        }
        /* the type in a record's attributes is the record's (Salesforce: attributes.type = "Contact") */
        struct cobj *rec = kind && (l->ts->fl & DS_ATTRS) && top ? cobj_find(c, w, top - 1) : NULL;
        if (rec && !rec->tkind)
            rec->tkind = (int8_t)kind;
    }
    if ((kf & KF_SCHEMA_REF) && o)
        o->fl |= CO_SCHEMA;
    if (kf & KF_REF) {
        int kind = pa_det_ctx_ref_kind(s, n);
        struct cobj *ob = kind ? cobj_get(c, w, top) : NULL;
        if (ob && !ob->ekind)
            ob->ekind = (int8_t)kind;
    }
    if ((kf & KF_NAME_WEAK) && (l->ts->fl & DS_LOC) && leaf_data(l)) {
        struct cobj *ob = cobj_get(c, w, top);
        if (ob)
            ob->fl |= CO_NAMED;
    }
    /* a person's name part or e-mail address with data, or an honorific name: a person's object */
    if (((kf & KF_PEVID) && plausible) || (e_cat == PA_CAT_EMAIL && plausible) ||
        ((kf & (KF_NAME_WEAK | KF_NAME_STRONG)) && pa_det_ctx_honorific_name(s, n) && leaf_data(l))) {
        struct cobj *ob = cobj_get(c, w, top);
        if (ob && !ob->ekind)
            ob->ekind = 1;
    }
    if (kf & KF_TX)
        label_seen(c, w, l->ts, top, s, n);
    /* person strings and full names under a person's role or a user name */
    if (((kf & KF_ROLE) && (pa_det_ctx_person_string(s, n) || pa_det_ctx_full_name(s, n))) ||
        ((kf & KF_USERNAME) && pa_det_ctx_full_name(s, n))) {
        if (!(cats & (1u << PA_CAT_PERSON_NAME)) && l->ts->cls != CX_MAP) {
            pa_det_cur_path(c);
            pa_det_emit(c, c->path.data, c->path.len, PA_CAT_PERSON_NAME, PA_DET_KEY,
                        (kf & KF_USERNAME) ? l->k->nrule : "person_string", PA_EV_KEY_VALUE);
        }
    }
}

/* A string inside a typed value's label container (type: {coding: [{code: "SS"}], text: "..."}, type: ["string",
 * "null"]): a label (or a schema type) for the object that holds the container. */
static void label_in_box(struct pa_detect_ctx *c, struct pa_jw *w, const unsigned char *s, size_t n)
{
    for (size_t i = w->depth; i-- > 1;) {
        if (!(jw_user_at(w, i)->fl & DS_TXBOX))
            continue;
        struct cobj *ob = jw_is_array_at(w, i - 1) ? NULL : cobj_find(c, w, i - 1);
        if (ob && pa_det_ctx_schema_type(s, n))
            ob->fl |= CO_SCHEMA;
        if (ob && !(ob->fl & CO_X))
            set_label(c, w, i - 1, s, n);
        return;
    }
}

/* A string or number leaf on the context path: the key finding of its member with its context, the value detectors,
 * what it says to its object (member_says), typed values, person strings in a role's array, label containers, the
 * data marks of waiting containers, lat/lng. Returns 1 to stop the walk. */
static __attribute__((noinline)) int on_leaf_ctx(struct pa_detect_ctx *c, struct pa_jw *w, const struct pa_jw_event *ev,
                                                 const struct kinfo *k, bool number)
{
    struct leaf l = {.s = (const unsigned char *)ev->str,
                     .n = ev->len,
                     .number = number,
                     .k = k,
                     .kf = k->flags,
                     .top = w->depth ? w->depth - 1 : 0,
                     .ts = w->depth ? jw_user_top(w) : NULL,
                     .data = -1};
    l.member = w->depth && !jw_top_is_array(w);
    struct cobj *o = l.member && (l.ts->fl & DS_COBJ) ? cobj_find(c, w, l.top) : NULL;
    if ((l.kf & KF_EXAMPLES) && o && (o->fl & CO_SCHEMA))
        return 0; /* an example in a JSON Schema property definition: documentation, no record */
    if (l.member)
        l.key = pa_jw_current_key(w, &l.klen);
    /* a typed value: its object's labels first (a "Message-ID" label steers the scan of this value) */
    if (l.member && (l.kf & KF_TV) && (l.ts->fl2 & (DS2_HASX | DS2_HASX2))) {
        typed_ready(c, w, l.ts, l.top);
        o = cobj_find(c, w, l.top);
    }
    if (o && (o->fl & CO_X) && (o->xkf & KF_MSGID) && (l.kf & KF_TV))
        l.kf |= KF_MSGID;
    if (!l.member && w->depth && (l.ts->fl & DS_IDARR))
        l.kf |= KF_ID; /* an identifier's array holds identifiers */

    struct eff e = l.member ? effective(k, l.ts->cls) : (struct eff){-1, NULL, 0, 0};
    bool plausible = e.cat >= 0 && pa_det_ctx_plausible(e.cat, l.s, l.n, number) &&
                     !((l.kf & KF_NAME_WEAK) && pa_det_ctx_handle(l.s, l.n)) && leaf_data(&l);
    /* the value detectors' hits of the key's own category fold into the key's finding: reported with it (evidence
     * "key+value") when the value can be of that kind, not at all when it is the key's placeholder ("ip": "0.0.0.0") */
    if (scan_leaf(c, l.s, l.n, number, l.kf, e.cat) < 0 || c->halt)
        return 1;
    bool want_cats = plausible || (l.kf & (KF_TV | KF_ROLE | KF_USERNAME)) || (l.ts && (l.ts->fl & DS_ROLES));
    unsigned cats = want_cats ? scan_cats(c) : 0;
    if (plausible) {
        pa_det_cur_path(c);
        uint8_t evi = c->hold_seen && e.ev == PA_EV_KEY ? PA_EV_KEY_VALUE : e.ev;
        route(c, w, l.top, c->path.data, c->path.len, e.cat, e.rule, evi, e.mode, (l.kf & KF_TX) != 0);
    }
    if (l.member && !number && l.n)
        member_says(c, w, &l, o, e.cat, plausible, cats);
    if (l.member && (l.kf & KF_TV) && l.n)
        value_seen(c, w, l.ts, l.top, l.s, l.n, number, l.key, l.klen, cats);
    if (!l.member && w->depth && !number && (l.ts->fl & DS_ROLES) && pa_det_ctx_person_string(l.s, l.n) &&
        !(cats & (1u << PA_CAT_PERSON_NAME))) {
        pa_det_cur_path(c);
        pa_det_emit(c, c->path.data, c->path.len, PA_CAT_PERSON_NAME, PA_DET_KEY, "person_string", PA_EV_KEY_VALUE);
    }
    if (c->txboxes && !number && l.n && w->depth)
        label_in_box(c, w, l.s, l.n);
    if (c->needdata && !c->halt && leaf_data(&l))
        mark_leaf(c, w, l.s, l.n, number, (l.kf & KF_ADDRPART) != 0);
    if (l.member && (l.kf & (KF_LAT | KF_LNG)) && leaf_data(&l))
        geo_mark(c, w, l.ts, l.kf, l.s, l.n);
    return c->halt;
}

/* A container opens on the context path: a key finding decided at its end (when its name has a category in this
 * context and the container can hold that kind: an IP address, a postal code, an IBAN, a MAC or a device id is never
 * an object), the watches of role arrays, typed-value label containers and address-part arrays. */
static __attribute__((noinline)) void on_begin_ctx(struct pa_detect_ctx *c, struct pa_jw *w,
                                                   const struct pa_jw_event *ev, const struct kinfo *k)
{
    size_t d = ev->depth;
    if (!d || jw_parent_is_array(w))
        return;
    struct dslot *s = jw_user_top(w);
    bool array = jw_top_is_array(w);
    unsigned kf = k->flags;
    if (kf & KF_EXAMPLES) { /* examples of a JSON Schema property definition: documentation, skipped whole */
        struct cobj *p = cobj_find(c, w, d - 1);
        if (p && (p->fl & CO_SCHEMA)) {
            c->state = EV_SKIP;
            c->skip_in_container = true;
            c->skip_depth = d;
            return;
        }
    }
    if (kf & KF_TX) { /* the parent's cobj first: the stack is ordered by depth */
        if (cobj_get(c, w, d - 1)) {
            s->fl |= DS_TXBOX | DS_WATCH;
            c->leafwatch++;
            c->txboxes++;
        }
    }
    if ((kf & KF_ATTRS) && !array && cobj_get(c, w, d - 1))
        s->fl |= DS_ATTRS; /* its type will say what the parent record is */
    if (array && (kf & KF_ID) && !(s->fl & DS_WATCH)) {
        s->fl |= DS_IDARR | DS_WATCH;
        c->leafwatch++;
    }
    struct eff e = effective(k, jw_user_parent(w)->cls);
    bool scalar_only = e.cat == PA_CAT_IP_ADDRESS || e.cat == PA_CAT_POSTAL_CODE || e.cat == PA_CAT_IBAN ||
                       e.cat == PA_CAT_MAC_ADDRESS || e.cat == PA_CAT_DEVICE_ID;
    bool name = kf & (KF_NAME_WEAK | KF_NAME_STRONG); /* a name's container is a structured name: its parts report */
    if (e.cat >= 0 && !(scalar_only && !array) && !name) {
        struct cobj *o = cobj_get(c, w, d);
        if (o) {
            o->fl |= CO_PEND | CO_NEEDDATA;
            c->needdata++;
            o->pcat = e.cat;
            o->prule = e.rule;
            o->pev = e.ev;
            o->pmode = e.mode;
            if (!(s->fl & DS_WATCH)) {
                s->fl |= DS_WATCH;
                c->leafwatch++;
            }
        }
    }
    if (array && (kf & KF_ROLE) && !(s->fl & DS_WATCH)) {
        s->fl |= DS_ROLES | DS_WATCH;
        c->leafwatch++;
    } else if (array && (kf & KF_ROLE)) {
        s->fl |= DS_ROLES;
    }
    if (array && (kf & KF_ADDRPART))
        s->fl |= DS_ADDRPART;
}

/* A typed value's object ends: {label: X, value: V} with V of X's kind is a finding at V's path (evidence: context);
 * a latitude or longitude label marks the pair bits of the object that holds this one's array (FHIR's geolocation
 * extension). */
static void typed_end(struct pa_detect_ctx *c, struct pa_jw *w, struct cobj *o, size_t d)
{
    if ((o->fl & (CO_X | CO_V)) != (CO_X | CO_V))
        return;
    if (o->xkf & (KF_LAT | KF_LNG)) {
        if (o->vnum && o->vlen == 1 && o->v[0] == '0')
            return;
        if (d >= 2 && jw_is_array_at(w, d - 1) && !jw_is_array_at(w, d - 2))
            geo_mark(c, w, jw_user_at(w, d - 2), o->xkf, o->v, o->vlen);
        return;
    }
    int cat = o->xcat;
    if (cat < 0 || (o->vcats & ~(1u << cat)))
        return; /* no category, or V is of another kind (reported as that) */
    if (!o->vnum &&
        (!pa_det_string_carries_data(o->v, o->vlen) || pa_det_ctx_placeholder(o->v, o->vlen, o->vname, o->vnlen)))
        return; /* no data */
    const char *rule = o->xrule;
    bool ok = pa_det_ctx_plausible(cat, o->v, o->vlen, o->vnum);
    if (cat == PA_CAT_NATIONAL_ID && !o->vnum && pa_det_check_ssn_bare(o->v, o->vlen)) {
        ok = true; /* the US bare check first (the generic check takes the rest) */
        rule = "ssn_bare_under_id_key";
    }
    if (cat == PA_CAT_CREDIT_CARD)
        ok = o->vlen >= 13 && pa_det_card_issuer_ok(o->v, o->vlen) && pa_det_luhn_ok(o->v, o->vlen);
    if (!ok)
        return;
    pa_det_cur_path(c);
    pa_jw_path_member(&c->path, o->vname, o->vnlen);
    pa_det_emit(c, c->path.data, c->path.len, cat, PA_DET_KEY, rule, PA_EV_CONTEXT);
}

/* A container ends on the context path: its typed value, its own key finding, its lat/lng pair, the findings waiting
 * for it, its watch and its cobj. */
static __attribute__((noinline)) void on_end_ctx(struct pa_detect_ctx *c, struct pa_jw *w, const struct pa_jw_event *ev,
                                                 bool object)
{
    size_t d = ev->depth;
    struct dslot *s = jw_user_top(w);
    struct cobj *o = cobj_find(c, w, d);
    uint8_t fin = cls_final(s, o);
    bool typed = o && (o->fl & (CO_X | CO_V)) == (CO_X | CO_V);
    if (o && object)
        typed_end(c, w, o, d);
    if (o && (o->fl & CO_PEND) && d > 0) {
        bool ok = (o->fl & CO_DATA) && !(o->fl & CO_SCHEMA);
        if (o->pcat == PA_CAT_STREET_ADDRESS)
            ok = ok && (o->fl & CO_ADDRDATA);
        if (ok) {
            pa_det_cur_path(c);
            route(c, w, d - 1, c->path.data, c->path.len, o->pcat, o->prule, o->pev, o->pmode, false);
        }
    }
    bool geo_key = o && (o->fl & CO_PEND) && o->pcat == PA_CAT_GEOLOCATION; /* its key's finding is the pair's */
    if (object && (s->geo & (GEO_LAT | GEO_LNG)) == (GEO_LAT | GEO_LNG) && (s->geo & GEO_NZ) && !(s->geo & GEO_BAD) &&
        fin != CX_THING && !geo_key && !c->d->cat_disabled[PA_CAT_GEOLOCATION]) {
        pa_det_cur_path(c);
        if (fin == CX_NONE && d > 0) /* an object that says nothing: its owners decide (a named place's location) */
            route(c, w, d - 1, c->path.data, c->path.len, PA_CAT_GEOLOCATION, "key:lat_lng_pair", PA_EV_KEY, M_SOFT,
                  false);
        else
            pa_det_emit(c, c->path.data, c->path.len, PA_CAT_GEOLOCATION, PA_DET_KEY, "key:lat_lng_pair", PA_EV_KEY);
    }
    if (s->fl & DS_OWNS)
        bf_resolve(c, d, fin, typed);
    if (s->fl & DS_WATCH)
        c->leafwatch--;
    if (s->fl & DS_TXBOX)
        c->txboxes--;
    if (o && (o->fl & CO_NEEDDATA))
        c->needdata--;
    if (o)
        cobj_pop(c);
}

/* ---- events ---------------------------------------------------------------------------------------------------- */

/* A string value: the context path when its name or a watching container asks for it; else the value detectors: the
 * prefilter here, where most values end (short ones without a call; 8..24 bytes equal to the value the prefilter
 * rejected last in this context without it). Returns 1 to stop the walk. */
static inline __attribute__((always_inline)) int on_string(struct pa_detect_ctx *c, struct pa_jw *w,
                                                           const struct pa_jw_event *ev, const struct kinfo *kcur)
{
    if (__builtin_expect(kcur->slow || c->leafwatch, 0))
        return on_leaf_ctx(c, w, ev, kcur, false);
    const unsigned char *s = (const unsigned char *)ev->str;
    unsigned kf = kcur->flags;
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

/* A container opens: its guess base and its context class; the context path when its name asks for it. */
static inline __attribute__((always_inline)) void on_begin(struct pa_detect_ctx *c, struct pa_jw *w,
                                                           const struct pa_jw_event *ev, const struct kinfo *kcur)
{
    uint32_t base = kg_container(c, w, ev->depth);
    uint8_t cls = CX_NONE, fl = kcur->hk == HK_LOC ? DS_LOC : 0;
    if (ev->depth) {
        const struct dslot *p = jw_user_parent(w);
        bool in_array = jw_parent_is_array(w);
        cls = in_array ? p->cls : cls_of_holder(kcur->hk, p->cls);
        if (in_array)
            fl = p->fl & DS_LOC; /* the elements of a locations array are locations */
    }
    *jw_user_top(w) = (struct dslot){
        .base = (uint16_t)base, .next = (uint16_t)(base ^ KG_PREV_FIRST), .cls = cls, .fl = fl};
    if (__builtin_expect(kcur->cslow, 0))
        on_begin_ctx(c, w, ev, kcur);
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
        /* a number holds PII only as a key's value (a card number needs a card key): the context path decides */
        if (__builtin_expect(kcur->slow || c->leafwatch, 0) && on_leaf_ctx(c, w, ev, kcur, true))
            return 1;
        break;
    case PA_JW_OBJECT_BEGIN:
    case PA_JW_ARRAY_BEGIN: on_begin(c, w, ev, kcur); break;
    case PA_JW_OBJECT_END:
    case PA_JW_ARRAY_END: {
        const struct dslot *s = jw_user_top(w);
        if (__builtin_expect(s->fl || s->geo, 0))
            on_end_ctx(c, w, ev, ev->kind == PA_JW_OBJECT_END);
        break;
    }
    case PA_JW_TRUE:
    case PA_JW_FALSE:
    case PA_JW_NULL: break;
    }
    return c->halt;
}

int pa_det_walk(struct pa_detect_ctx *c, const char *buf, size_t len)
{
    c->doc = buf;
    c->doc_end = buf + len;
    c->state = 0;
    c->kcur = &kinfo_none;
    c->ncobj = 0;
    c->nbf = 0;
    c->leafwatch = c->needdata = c->txboxes = 0;
    pa_buf_truncate(&c->bf_arena, 0);
    return jw_walk(c->w, buf, len, NULL, c);
}
