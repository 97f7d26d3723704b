/* prefilter: can a string match a built-in value pattern at all? Most values (words, prose, short codes, amounts,
 * dates, versions) cannot, and are rejected here without Hyperscan. Three forms give the same answer as the scalar
 * reference (pa_det_pf_reference; tests/unit/test_prefilter.c holds every form against it):
 *   the short form   1..7 bytes as one word, inline at the event site (PA_HAVE_LE_WORDS);
 *   the mask form    8..64 bytes as positional class masks (SSE2 + popcnt chosen at run time: PA_HAVE_POPCNT_DISPATCH);
 *   the count form   any length: byte counts (SSE2 for 16-byte chunks, a SWAR table for the rest).
 * Only for detectors without custom patterns (their shape is unknown: values.c checks). Pure functions of the bytes;
 * must never keep, copy or print them.
 */
#ifndef PA_DETECT_PREFILTER_H
#define PA_DETECT_PREFILTER_H

#include "arch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#pragma GCC visibility push(hidden)

/* Once per process, before the first call (pa_det_init): the run-time CPU check of the mask form. */
void pa_det_prefilter_init(void);

/* The count form (out of line: on_event's common paths then need few saved registers). */
bool pa_det_pf_counts(const unsigned char *s, size_t len);

/* The scalar reference: byte loops only, no SIMD, no word tricks (the specification the other forms are held to). */
bool pa_det_pf_reference(const unsigned char *s, size_t len);

/* The anchors pa_det_pf_anchor looks for, as bits of its `which` */
enum {
    PA_PF_CISCO = 1,    /* "hhhh.", a Cisco MAC group, starting at byte 0..len-5 */
    PA_PF_AA00 = 2,     /* two upper-case letters then two digits, starting at 0..len-5: an IBAN, a codice fiscale,
                         * an FCM token's "APA91b" */
    PA_PF_NINO_PAN = 4, /* two upper-case letters then six digits (a UK NINO), or five and four (an Indian PAN) */
    PA_PF_AA_0 = 8,     /* "AA 9": a UK NINO written with spaces */
    PA_PF_D7U = 16,     /* a digit, upper-case letter or '-', seven digits, then an upper-case letter, with or
                         * without a '-' before it: a DNI (its first digit, 7 more, the letter), a NIE */
    PA_PF_ALL = 31,
};

/* The pieces of the decision in their dispatching forms (SSE2 from 16 bytes on), for the unit test: a run of 13
 * digits; one of the anchors in `which`. */
bool pa_det_pf_digit_run13(const unsigned char *s, size_t len);
bool pa_det_pf_anchor(const unsigned char *s, size_t len, unsigned which);
/* ... and their scalar forms */
bool pa_det_pf_digit_run13_ref(const unsigned char *s, size_t len);
bool pa_det_pf_anchor_ref(const unsigned char *s, size_t len, unsigned which);

#ifdef PA_HAVE_POPCNT_DISPATCH
/* The mask form, 8..64 bytes, only when pa_det_have_popcnt. */
extern bool pa_det_have_popcnt;
bool pa_det_pf_masks(const unsigned char *s, size_t len);
#endif

#pragma GCC visibility pop

#ifdef PA_HAVE_LE_WORDS
/* 0x80 in each byte of x that equals ch, exactly (no false positives: the add cannot carry between bytes). */
static inline uint64_t pa_det_bytes_eq(uint64_t x, unsigned char ch)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
    uint64_t t = x ^ (0x0101010101010101ULL * ch);
    return ~(((t & lo7) + lo7) | t | lo7);
}

/* The short form: strings of 1..7 bytes, decided without a call: every pattern that the prefilter lets through at
 * that length needs an '@', a ':', a '.' or a '-' (pdecide: '@'; 4 digits and 3 dots; 2 colons and a digit; 5 colons
 * or dashes; its 9-digit, 14- and 15-byte rules need more bytes), so a string with none of them cannot match. True =
 * skip it; the others go through the count form. The bytes are read as one word (two overlapping 4-byte loads, or
 * the 1..3 bytes one by one), the lanes past len zero, which equals none of those bytes. */
static inline bool pa_det_pf_short_clean(const unsigned char *s, size_t len)
{
    uint64_t x;
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        x = (uint64_t)lo | (uint64_t)hi << ((len - 4) * 8);
    } else {
        x = (uint64_t)s[0] | (uint64_t)s[len >> 1] << ((len >> 1) * 8) | (uint64_t)s[len - 1] << ((len - 1) * 8);
    }
    return !(pa_det_bytes_eq(x, '@') | pa_det_bytes_eq(x, ':') | pa_det_bytes_eq(x, '.') | pa_det_bytes_eq(x, '-'));
}
#endif

/* The prefilter (len >= 1): false when no built-in pattern can match s. Inline so that on_event decides the short
 * strings without a call. */
static inline __attribute__((always_inline)) bool pa_det_prefilter(const unsigned char *s, size_t len)
{
#ifdef PA_HAVE_LE_WORDS
    if (len < 8)
        return !pa_det_pf_short_clean(s, len) && pa_det_pf_counts(s, len);
#endif
#ifdef PA_HAVE_POPCNT_DISPATCH
    if (len >= 8 && len <= 64 && pa_det_have_popcnt)
        return pa_det_pf_masks(s, len);
#endif
    return pa_det_pf_counts(s, len);
}

#endif
