/* internal: what detect's rooms share (src/detect/, see docs/architecture.md for the map): the compiled detector, the
 * per-thread context and the few functions one room calls in another. Not part of the module interface (detect.h);
 * never included outside src/detect/ except by hooks.h's users (the bench and tests). Never includes libpq,
 * libmicrohttpd or libsystemd.
 */
#ifndef PA_DETECT_INTERNAL_H
#define PA_DETECT_INTERNAL_H

#include "detect.h"
#include "dict.h"
#include "jsonwalk.h"
#include "memo.h"

#include <hs/hs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* ---- the compiled detector (immutable once built, shared between threads) ------------------------------------- */

struct allow_path {
    char *surface;
    char *path;
};

struct pa_detector {
    hs_database_t *db; /* NULL when no pattern is enabled */
    size_t min_width;  /* shortest possible match of any pattern */
    bool precheck;     /* no custom pattern: a string without a trigger byte cannot match */

    char **cat_names; /* [n_cats]: built-in names (static) then custom (owned) */
    bool *cat_owned;
    bool *cat_disabled;
    size_t n_cats;

    const char **rule_names; /* [n_rules]: the value detectors' rows, then the custom patterns */
    int *rule_cat;
    size_t n_rules;

    struct pa_det_dict dict;

    struct allow_path *allow;
    size_t n_allow;

    size_t max_findings;
};

/* ---- the per-thread context ------------------------------------------------------------------------------- */

struct seen_slot {
    uint64_t h;
    uint32_t gen;
    uint32_t off, len;
    int cat;
};

#define KMEMO_SLOTS 2048 /* member names: up to 1024 distinct names, 64 bytes each at most */
#define KMEMO_KEYMAX 64
#define KMEMO_TAG (1u << 16) /* every name's lentag has it: an empty slot (lentag 0) never equals a name, not even "" */

/* Member-name guesses. Webhook payloads repeat object shapes, so the name that follows a given member name in an
 * object held by a given member (or that opens such an object) is nearly always the one that did last time:
 * kguess[ctx] is the kmemo slot of the name last seen in context ctx, and a name equal to the guessed slot's bytes
 * reuses its kinfo without hashing or probing (94% of the names of the corpus; 79% when the context is the previous
 * name alone, which confuses the names after "name" or "id" in different objects). A guess is only ever a slot
 * index: it is checked against the slot's length and bytes (a cleared or reused slot simply fails or holds its own
 * kinfo), so a wrong, stale or colliding guess costs a lookup, never a result.
 * A container's base is a 13-bit scramble of its holder (the member whose value it is, or the holder of the array it
 * is in: kmemo slot + 1, 0 for none); the context of a name is base ^ the previous name's slot in the same object,
 * base ^ KG_PREV_FIRST for the first, base ^ KG_PREV_NONE after a name that is not memoized. Both live in the
 * walker's per-container slot (struct dslot: base, and next, the context of the object's next name). */
#define KGUESS_BITS 13
#define KGUESS_N (1u << KGUESS_BITS)
#define KG_PREV_FIRST ((uint32_t)KMEMO_SLOTS)
#define KG_PREV_NONE ((uint32_t)KMEMO_SLOTS + 1)
/* Value guesses: the string value of 8..24 bytes that the prefilter rejected last in a guess context (the member's
 * name, or the array's: see KGUESS_BITS), kept as its first 8 bytes, its last 8, bytes 8..15 when it is longer than
 * 16 (0 otherwise) and its length (which together are the whole string). The prefilter's answer depends on the bytes
 * alone, so a value equal to the guess is rejected again without it; a wrong guess costs the compare. Enum-like values
 * repeat per member ("usd", "application/json", "ingest-high"). Holds value bytes: wiped with the memos. */
#define VGUESS_N 1024
struct vguess {
    uint64_t w0, w1, w2;
    uint64_t len; /* 0: empty */
};
#define VMEMO_SLOTS 4096 /* string values: up to 2048 distinct values, 256 bytes each at most, 256 KB in all */
#define VMEMO_VALMAX 256
#define VMEMO_ARENA (256 * 1024)

/* What a member name means: cached per context (names repeat from document to document). */
struct kinfo {
    const char *rule; /* when cat >= 0 */
    int cat;          /* dictionary category, or -1 (also for an ignored name) */
    unsigned flags;   /* KF_* */
    bool ignored;
};

enum { EV_SKIP = 1, EV_PEND = 2 }; /* pa_detect_ctx.state */

struct pa_detect_ctx {
    const struct pa_detector *d;
    hs_scratch_t *scratch;
    struct pa_jw *w;

    struct pa_buf path;      /* the current event's rendered path */
    struct pa_buf pend_path; /* a container value whose key matched, waiting for its first child */
    int pend_cat;
    const char *pend_rule;

    /* per-document dedupe of (path, category): open addressing, cleared by bumping gen */
    struct seen_slot *seen;
    size_t seen_mask, seen_count;
    uint32_t seen_gen;
    struct pa_buf seen_arena;

    /* per-string dedupe of rules / categories, cleared by bumping scan_gen */
    uint32_t *rule_gen, *cat_gen;
    uint32_t scan_gen;

    /* Keys repeat from document to document: what a key means (dictionary category, flags, ignored) is cached per
     * context, keyed by its raw bytes. Only keys that are not PII themselves are cached. */
    struct memo kmemo;
    struct kinfo *kinfo; /* [KMEMO_SLOTS], by kmemo slot */
    uint16_t *kguess;    /* [KGUESS_N]: the kmemo slot guessed per context (see KGUESS_BITS) */
    uint32_t kg_child;   /* the holder of a container opening now: the last name's kmemo slot + 1, or 0 */
    /* String values that Hyperscan found nothing in (with the key flags that steer the validators): user agents,
     * URLs, header values and enum-like values repeat across documents. */
    struct memo vmemo;
    struct vguess *vguess; /* [VGUESS_N] */

    size_t *allow_idx; /* allow_paths entries for the current surface */
    size_t n_allow_idx;
    const struct pa_detect_allow *allow_db; /* pa_detect_ctx_set_allow: the scan's own entries for the surface */
    size_t n_allow_db;

    /* document state */
    pa_finding_cb cb;
    void *cb_arg;
    struct pa_doc_result *res;
    bool stop;  /* max findings reached */
    bool error; /* Hyperscan failed */
    bool halt;  /* stop || error: on_event stops the walk */
    /* what the name of the member whose value comes next means; walk.c's kinfo_none elsewhere */
    const struct kinfo *kcur;
    struct kinfo kmiss;     /* ... when that name is not memoized */
    uint8_t state;          /* EV_SKIP or EV_PEND (never both): on_event's rare paths, one test for the two */
    bool skip_in_container; /* ignore_keys: skipping a member's value (EV_SKIP) */
    size_t skip_depth;
    bool no_values; /* pa_detect_ctx_bench_values(c, false) (hooks.h) */
    /* pa_det_scan_string is called for strings of at least scan_min bytes (the detector's shortest match; SIZE_MAX when
     * the value detectors are off) or when the key flags have one of scan_kf (KF_NATIONAL: a bare SSN may be
     * shorter) */
    size_t scan_min;
    unsigned scan_kf;
    bool short_pf; /* the value detectors are on and the prefilter applies (no custom pattern): on_event runs it */
};

/* ---- across rooms ------------------------------------------------------------------------------------------ */

/* Once per process, before any detector is built (pthread_once inside): dictionary tables, CPU features. */
void pa_det_init(void);
/* The id of a category name, added as a custom category when new (detect.c). */
int pa_det_cat_intern(struct pa_detector *d, const char *name);
/* Report a finding (detect.c): allow_paths, dedupe on (path, category), max_findings_per_record. Returns true when the
 * walk must stop (max findings reached). */
bool pa_det_emit(struct pa_detect_ctx *c, const char *path, size_t plen, int cat, enum pa_detector_kind det,
                 const char *rule);
/* Walk one JSON document through on_event (walk.c): 0, 1 when on_event stopped it (c->halt), -1 on invalid JSON. */
int pa_det_walk(struct pa_detect_ctx *c, const char *buf, size_t len);

/* The current event's path in c->path, rendered on each call: only findings need it (a few per document), so no
 * per-event invalidation is kept. */
static inline void pa_det_cur_path(struct pa_detect_ctx *c)
{
    pa_buf_truncate(&c->path, 0);
    pa_jw_path(c->w, &c->path);
}

#pragma GCC visibility pop

#endif
