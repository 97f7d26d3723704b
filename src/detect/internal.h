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
    const char *rule;  /* when cat >= 0 */
    const char *nrule; /* the rule of an ambiguous-name or name-part key (context.h), or NULL */
    int cat;           /* dictionary category, or -1 (also for an ignored name) */
    unsigned flags;    /* KF_* (dict.h, context.h) */
    uint8_t hk;        /* what it says about the container it holds (context.h: HK_*) */
    bool slow;         /* its values take walk.c's context path (a category, or a context flag) */
    bool cslow;        /* ... and the containers it holds (also an identifier's array, attributes) */
    bool ignored;
};

enum { EV_SKIP = 1 }; /* pa_detect_ctx.state */

/* Per-object state of the context engine (walk.c), only for the containers that need it (a key finding decided at
 * the container's end, sibling evidence, a typed value): a stack parallel to the walker's frames, bounded by the
 * document's depth. V holds a typed value's bytes until its object ends: wiped when popped. */
#define COBJ_VMAX 128
struct cobj {
    size_t depth; /* the walker frame (0 = top level) this belongs to */
    unsigned fl;  /* CO_* (walk.c) */
    int pcat;     /* a key finding on this container: its category, rule, evidence and mode */
    const char *prule;
    uint8_t pev, pmode;
    int8_t tkind, ekind; /* evidence: a type naming a person (+1) or a thing (-1); name parts or a reference */
    int xcat;            /* typed value: what its label names, or -1 */
    const char *xrule;
    unsigned xkf;
    unsigned vcats; /* categories the value detectors found in V */
    uint8_t vlen, vnlen;
    bool vnum;
    char vname[32]; /* V's member name (a word of the KF_TV vocabulary) */
    unsigned char v[COBJ_VMAX];
};

/* Labels of a typed value ({"name": X, "value": V}) seen before the value, per depth (walk.c): up to two, as pointers
 * into the document being walked (valid until it ends; never copied). */
#define XREF_DEPTH 256
struct xref {
    const char *p[2];
    uint32_t n[2];
    /* ... and the value seen before a label names anything: its bytes and name in the document, what the value
     * detectors found in it */
    const char *vp, *vk;
    uint32_t vn, vkn;
    unsigned vcats;
    bool vnum;
};

/* A finding waiting for its owner object's end (walk.c): its path is in pa_detect_ctx.bf_arena. */
struct bfind {
    size_t owner; /* depth of the object whose evidence decides it */
    uint32_t off, len;
    int cat;
    const char *rule;
    uint8_t ev, mode;
    bool from_x; /* an ambiguous name that was also the object's typed-value label */
};

struct pa_detect_ctx {
    const struct pa_detector *d;
    hs_scratch_t *scratch;
    struct pa_jw *w;

    struct pa_buf path;  /* the current event's rendered path */
    struct pa_buf path2; /* a second path (a typed value's, a buffered finding's) */

    /* the context engine's per-document state (walk.c) */
    struct cobj *cobj;
    size_t ncobj, cobj_cap;
    struct bfind *bf;
    size_t nbf, bf_cap;
    struct pa_buf bf_arena;
    size_t leafwatch;  /* open containers that want their scalar leaves seen (pending key findings, role arrays...) */
    size_t needdata;   /* ... of which key findings still waiting for a data leaf */
    size_t txboxes;    /* ... of which typed-value label containers */
    struct xref *xref; /* per depth: typed-value labels waiting for a value (pointers into the document) */
    size_t xref_cap;
    const char *doc, *doc_end; /* the document being walked */
    int hold_cat;              /* a value scan under a key of this category: its hits confirm the key finding */
    bool hold_seen;

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
    uint8_t state;          /* EV_SKIP: on_event's rare path */
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
                 const char *rule, enum pa_evidence ev);
/* Walk one JSON document through on_event (walk.c): 0, 1 when on_event stopped it (c->halt), -1 on invalid JSON. */
int pa_det_walk(struct pa_detect_ctx *c, const char *buf, size_t len);
/* After a document (walk.c): the context engine's stacks emptied, the typed values they held wiped. */
void pa_det_ctx_doc_end(struct pa_detect_ctx *c);

/* The current event's path in c->path, rendered on each call: only findings need it (a few per document), so no
 * per-event invalidation is kept. */
static inline void pa_det_cur_path(struct pa_detect_ctx *c)
{
    pa_buf_truncate(&c->path, 0);
    pa_jw_path(c->w, &c->path);
}

#pragma GCC visibility pop

#endif
