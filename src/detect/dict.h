/* dict: the key dictionary. Its default entries, the tokenizer that normalizes a member name ("billingEmail" ->
 * billing email), the hash table of word forms and the lookup of a name's longest trailing token run (with the
 * digit and plural fallbacks), ignore_keys, and what a name says about its value (version, lat/lng flags).
 * guardrail.c writes the same dictionary and a PL/pgSQL port of the lookup into SQL: change them together.
 * Sees member names only, never values; never prints.
 */
#ifndef PA_DETECT_DICT_H
#define PA_DETECT_DICT_H

#include "detect.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define CAT_STOP (-2)  /* a stop entry: a longer key that blocks a shorter trailing match, and no category */
enum { DF_WHOLE = 1 }; /* an entry that matches only a whole key ("pan", never "camera_pan") */

/* What a member name says about its value (pa_det_key_flags; KF_NATIONAL and the identifier, KF_NATID_*, are set by
 * its user for a national_id key: pa_det_natid_key_flags). KF_NATIONAL, KF_VERSION, KF_ID, KF_MSGID and KF_CODE
 * steer the value detectors (KF_STEER: part of a clean value's memo entry, kf_steer_tag); the identifier a key names
 * steers only pa_det_scan_natid, which runs before the memo; context.h has the flags of the context engine (bits 6 to
 * 20). */
enum {
    KF_NATIONAL = 1,
    KF_VERSION = 2,
    KF_LAT = 4,
    KF_LNG = 8,
    KF_ID = 16,    /* an identifier (id, *_id, *Ids, uuid): a digit run in it is not a card number */
    KF_MSGID = 32, /* a message identifier (message_id, In-Reply-To, References, Content-ID): not an e-mail address */
    /* a machine-made reference (confirmation_number, booking_ref, tracking_code, voucher_no): the identifiers
     * without a strong check (DNI/NIE's one letter in 23, NINO's none, PAN's none) are not read into it; bit 21,
     * above the context engine's flags (context.h) */
    KF_CODE = 1u << 21,
};
/* The identifier a national_id key names (enum pa_natid, validators.h), in these bits of the flags: the key's
 * (struct kinfo, struct vscan) and its dictionary entry's (struct dent: the same bits; DF_* are below them) */
#define KF_NATID_SHIFT 24
#define KF_NATID_MASK (0x1fu << KF_NATID_SHIFT)
#define KF_STEER (KF_NATIONAL | KF_VERSION | KF_ID | KF_MSGID | KF_CODE)
/* The steering flags of kf in 7 bits (KF_CODE, bit 21, folded to bit 6), for a memo tag beside a length */
static inline unsigned kf_steer_tag(unsigned kf)
{
    return (kf & KF_STEER & 0x3fu) | (kf & KF_CODE ? 0x40u : 0);
}

#define KEY_WINDOW 256        /* a longer key is normalized from its last 256 bytes: only trailing tokens can match */
#define MAX_TOKENS KEY_WINDOW /* a token is at least one byte: never reached */

/* A key as lower-case tokens: its word form, the tokens separated by '_' ("billing_email"; a token never holds a
 * '_', which is a separator byte in keys). Entries are compared with whole trailing runs of it, so a match is always
 * word for word: "ad_id" is the words ad + id, never the entry "adid". */
struct tokens {
    char w[2 * KEY_WINDOW + 1]; /* the word form */
    size_t len;
    uint16_t start[MAX_TOKENS + 1]; /* start[i]: offset of token i in w; start[n] = len + 1 (token i ends at
                                       start[i + 1] - 1) */
    size_t n;
};

/* Token i of t: its offset and length */
static inline size_t tok_len(const struct tokens *t, size_t i)
{
    return (size_t)(t->start[i + 1] - 1 - t->start[i]);
}

struct dent {
    const char *words; /* word form ("email_address") */
    size_t len;
    uint64_t h;
    int cat;           /* category id, or CAT_STOP */
    unsigned flags;    /* DF_*, and for a national_id entry the identifier it names (KF_NATID_MASK) */
    const char *rule;  /* "key:..." */
    const char *trule; /* "typed:...": the rule of a typed value whose label names this entry */
};

/* Open addressing over word forms; hash = sum c[i] * B^(n-1-i), so a suffix's hash is extended to the left in O(1) per
 * byte. */
struct dtab {
    struct dent *e;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t mask;
    size_t maxlen;
};

/* A detector's dictionary: defaults and extra_keys (keys), ignore_keys (ignore), the strings it owns */
struct pa_det_dict {
    struct dtab keys;
    struct dtab ignore;
    struct dtab lastw; /* the last letter word of every entry with a category: a typed value's label that ends with
                          none of them names no category (context.c skips the lookup) */
    char **owned;      /* word forms and rule names of extra_keys, joined forms of ignore_keys */
    size_t n_owned;
};

struct pa_detector;

/* Once per process (pa_det_init): the default entries' word forms, their run-together aliases and rule names. */
void pa_det_dict_init(void);
/* Split a key into lower-case tokens (see docs/detection.md, "Normalization"). */
void pa_det_tokenize(const char *key, size_t len, struct tokens *t);
/* d->dict from the defaults and opt's extra_keys and ignore_keys (categories interned already); -1 and a message
 * naming the option on a key without letters or digits. */
int pa_det_dict_build(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen);
void pa_det_dict_free(struct pa_det_dict *dict);
/* The entry a key's tokens match: the longest trailing run, then without trailing digit tokens, then the last token's
 * plural stripped; NULL when none. t->start is restored before it returns. */
const struct dent *pa_det_key_lookup(const struct pa_detector *d, struct tokens *t);
/* w[0..n) is the last letter word of an entry with a category (also with a plural s or es stripped) */
bool pa_det_dict_last_word(const struct pa_detector *d, const char *w, size_t n);
/* KF_VERSION, KF_LAT, KF_LNG, KF_ID, KF_MSGID of a key */
unsigned pa_det_key_flags(const struct tokens *t);
/* The flags a national_id entry gives its key's value: KF_NATIONAL and the identifier it names */
static inline unsigned pa_det_natid_key_flags(const struct dent *e)
{
    return KF_NATIONAL | (e->flags & KF_NATID_MASK);
}
/* The key is in ignore_keys */
bool pa_det_key_ignored(const struct pa_detector *d, const struct tokens *t);

#pragma GCC visibility pop

#endif
