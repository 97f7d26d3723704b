/* prefilter: can a string match a built-in value pattern? (see prefilter.h). The forms here and the scalar reference
 * at the end must give the same answer for every string (tests/unit/test_prefilter.c). They read the string's bytes
 * and nothing else: no state, no copy, no output.
 */
#include "prefilter.h"

#include "cclass.h"

/* The prefilter's byte classes as lanes of a word (the count form adds them up): digit, upper, ':', '.', '-', '+',
 * ' ', '@' in bytes 0..7. */
#define PA_PLANE_(c)                                                                                                   \
    (PA_CC_IN(c, '0', '9')   ? 1ULL                                                                                    \
     : PA_CC_IN(c, 'A', 'Z') ? 1ULL << 8                                                                               \
     : (c) == ':'            ? 1ULL << 16                                                                              \
     : (c) == '.'            ? 1ULL << 24                                                                              \
     : (c) == '-'            ? 1ULL << 32                                                                              \
     : (c) == '+'            ? 1ULL << 40                                                                              \
     : (c) == ' '            ? 1ULL << 48                                                                              \
     : (c) == '@'            ? 1ULL << 56                                                                              \
                             : 0)
static const uint64_t plane[256] = {PA_CC_TABLE(PA_PLANE_)};

void pa_det_prefilter_init(void)
{
#ifdef PA_HAVE_POPCNT_DISPATCH
    __builtin_cpu_init();
    pa_det_have_popcnt = __builtin_cpu_supports("popcnt");
#endif
}

/* The rules: the bytes the patterns need are counted, then each pattern's necessary condition is checked:
 *   email '@' | E.164 '+' and 8 digits | national phone, SSN, ITIN, card, NIR, CPF, Aadhaar: 9 digits |
 *   IPv4: 4 digits and 3 dots | IPv6: 2 colons and a digit | MAC: 5 colons or 5 dashes, or 2 dots with "hhhh."
 *   (Cisco) | IBAN, codice fiscale, FCM token: "AA00" | UK NINO: "AA000000" or "AA 9" | PAN: "AAAAA0000" |
 *   DNI, NIE: a digit, letter or '-' and seven digits, then a letter ("99999999A", "X9999999-A").
 * Most values (words, prose, short codes, amounts, dates, versions) never reach Hyperscan. With custom patterns
 * only the length check applies (their shape is unknown). */
struct pstat {
    size_t digits, colon, dot, dash, plus, upper, space;
};

/* pa_det_pf_digit_run13 over a digit mask: 13 set bits in a row. */
static inline bool run13_mask(uint64_t m)
{
    m &= m >> 1;                /* bit i: digits at i..i+1 */
    m &= m >> 2;                /* i..i+3 */
    m &= m >> 4;                /* i..i+7 */
    return (m & (m >> 5)) != 0; /* i..i+12 */
}

#ifdef PA_HAVE_SSE2
/* Byte classes of 16 bytes as a 16-bit mask (bit i: byte i). In range: lo <= byte < lo + n, as unsigned bytes. */
static inline unsigned sse_range(__m128i v, char lo, char n)
{
    __m128i t = _mm_sub_epi8(v, _mm_set1_epi8(lo));
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8((char)(n - 1))), t));
}

static inline unsigned sse_eq(__m128i v, char ch)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(ch)));
}

static inline unsigned sse_digit(__m128i v)
{
    return sse_range(v, '0', 10);
}

/* 0-9 a-f A-F */
static inline unsigned sse_hex(__m128i v, unsigned digits)
{
    return digits | sse_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 6);
}

/* A 64-bit window of class bits over a string read in 16-byte chunks, newest bytes in the high bits: slide in the top
 * r (1..16) bits of the chunk's 16 (the chunk that ends the string overlaps the one before: only its top r are new). */
static inline uint64_t win_slide(uint64_t win, unsigned b, size_t r)
{
    return (win >> r) | (((uint64_t)b >> (16 - r)) << (64 - r));
}
#endif

/* A run of 13 digits (the shortest card number) without separators, byte by byte. */
bool pa_det_pf_digit_run13_ref(const unsigned char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = is_digit(s[i]) ? run + 1 : 0;
        if (run == 13)
            return true;
    }
    return false;
}

/* ... 16 bytes at a time with SSE2 */
bool pa_det_pf_digit_run13(const unsigned char *s, size_t len)
{
#ifdef PA_HAVE_SSE2
    if (len >= 16) {
        /* digit masks of 16-byte chunks slid into a 64-byte window (newest bytes in the high bits): a run of 13
         * ending in the newest chunk lies inside the window */
        uint64_t win = 0;
        size_t off = 0;
        for (; off + 16 <= len; off += 16) {
            win = win_slide(win, sse_digit(_mm_loadu_si128((const __m128i *)(const void *)(s + off))), 16);
            if (run13_mask(win))
                return true;
        }
        if (off < len) /* the last len - off bytes: the top lanes of the chunk that ends the string */
            return run13_mask(
                win_slide(win, sse_digit(_mm_loadu_si128((const __m128i *)(const void *)(s + len - 16))), len - off));
        return false;
    }
#endif
    return pa_det_pf_digit_run13_ref(s, len);
}

/* The anchors of pa_det_pf_anchor as bits (i: an anchor starts at byte i), from the class masks of up to 64 bytes
 * (a window, or a whole string of 8..64 bytes). A shift brings in zeros, so an anchor whose bytes would pass bit 63
 * is never seen: NINO_PAN, AA_0 and D7U are counted wherever they start; CISCO and AA00 only where `starts` says
 * (both need a byte after them in the string: see pa_det_pf_anchor_ref). */
static inline bool anchor_bits(uint64_t hex, uint64_t dot, uint64_t up, uint64_t dig, uint64_t sp, uint64_t dash,
                               unsigned which, uint64_t starts)
{
    uint64_t a = (which & PA_PF_CISCO) ? hex & (hex >> 1) & (hex >> 2) & (hex >> 3) & (dot >> 4) : 0;
    uint64_t b = (which & PA_PF_AA00) ? up & (up >> 1) & (dig >> 2) & (dig >> 3) : 0;
    uint64_t c = (which & PA_PF_AA_0) ? up & (up >> 1) & (sp >> 2) & (dig >> 3) : 0;
    uint64_t d4 = dig & (dig >> 1) & (dig >> 2) & (dig >> 3); /* digits at i..i+3 */
    if (which & PA_PF_NINO_PAN) {
        uint64_t up2 = up & (up >> 1);
        c |= (up2 & (d4 >> 2) & (dig >> 6) & (dig >> 7)) | (up2 & (up2 >> 2) & (up >> 4) & (d4 >> 5));
    }
    uint64_t d = 0;
    if (which & PA_PF_D7U) { /* at i: a digit, letter or '-'; digits at i+1..i+7; then [-]A */
        uint64_t d7 = d4 & (d4 >> 3);
        d = (dig | up | dash) & (d7 >> 1) & ((up >> 8) | ((dash >> 8) & (up >> 9)));
    }
    return ((a | b) & starts) != 0 || (c | d) != 0;
}

#ifdef PA_HAVE_SSE2
/* pa_det_pf_anchor for len >= 16 (long URLs and user agents with two dots take this often): the class masks
 * of 16-byte chunks slid into 64-bit windows, newest bytes in the high bits, as in pa_det_pf_digit_run13. An anchor of
 * L <= 10 bytes lies whole in the window that takes in its last byte (at bits 0..63), so every one is seen; CISCO and
 * AA00 are counted when they start at bit 0..59 (a byte of the string follows them). */
static bool has_anchor_sse(const unsigned char *s, size_t len, unsigned which)
{
    const uint64_t starts = (1ULL << 60) - 1;
    uint64_t wh = 0, wdot = 0, wu = 0, wd = 0, wsp = 0, wdash = 0;
    for (size_t off = 0; off < len; off += 16) {
        size_t r = 16; /* new bytes in this step */
        const unsigned char *p = s + off;
        if (off + 16 > len) {
            r = len - off;
            p = s + len - 16; /* the chunk that ends the string: its top r lanes are new */
        }
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned bd = sse_digit(v);
        wd = win_slide(wd, bd, r);
        wh = win_slide(wh, sse_hex(v, bd), r);
        wu = win_slide(wu, sse_range(v, 'A', 26), r);
        wdot = win_slide(wdot, sse_eq(v, '.'), r);
        if (which & (PA_PF_AA_0 | PA_PF_D7U)) { /* (AA0000 needs no more classes) */
            wsp = win_slide(wsp, sse_eq(v, ' '), r);
            wdash = win_slide(wdash, sse_eq(v, '-'), r);
        }
        if (anchor_bits(wh, wdot, wu, wd, wsp, wdash, which, starts))
            return true;
    }
    return false;
}
#endif

static bool digits_at(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* The anchors of `which`, byte by byte. CISCO and AA00 start at 0..len-5: every pattern that needs them has a byte
 * after them (an IBAN's or a NINO's; "APA91b"'s 'b'); and a string of exactly 4 bytes may be AA00 (the rule's oldest
 * form, kept: no decision depends on it). */
bool pa_det_pf_anchor_ref(const unsigned char *s, size_t len, unsigned which)
{
    for (size_t i = 0; i < len; i++) {
        bool up2 = i + 3 < len && (cclass[s[i]] & CC_UPPER) && (cclass[s[i + 1]] & CC_UPPER);
        if ((which & PA_PF_CISCO) && i + 4 < len && s[i + 4] == '.' && is_hex(s[i]) && is_hex(s[i + 1]) &&
            is_hex(s[i + 2]) && is_hex(s[i + 3]))
            return true;
        if ((which & PA_PF_AA00) && up2 && i + 4 < len && is_digit(s[i + 2]) && is_digit(s[i + 3]))
            return true;
        if ((which & PA_PF_AA_0) && up2 && s[i + 2] == ' ' && is_digit(s[i + 3]))
            return true;
        if ((which & PA_PF_NINO_PAN) && up2 && i + 7 < len && digits_at(s + i + 2, 6))
            return true;
        if ((which & PA_PF_NINO_PAN) && up2 && i + 8 < len && (cclass[s[i + 2]] & CC_UPPER) &&
            (cclass[s[i + 3]] & CC_UPPER) && (cclass[s[i + 4]] & CC_UPPER) && digits_at(s + i + 5, 4))
            return true;
        if ((which & PA_PF_D7U) && i + 8 < len && (is_digit(s[i]) || (cclass[s[i]] & CC_UPPER) || s[i] == '-') &&
            digits_at(s + i + 1, 7) &&
            ((cclass[s[i + 8]] & CC_UPPER) || (s[i + 8] == '-' && i + 9 < len && (cclass[s[i + 9]] & CC_UPPER))))
            return true;
    }
    if ((which & PA_PF_AA00) && len == 4)
        return is_digit(s[2]) && is_digit(s[3]) && (cclass[s[0]] & CC_UPPER) && (cclass[s[1]] & CC_UPPER);
    return false;
}

bool pa_det_pf_anchor(const unsigned char *s, size_t len, unsigned which)
{
#ifdef PA_HAVE_SSE2
    if (len >= 16)
        return has_anchor_sse(s, len, which);
#endif
    return pa_det_pf_anchor_ref(s, len, which);
}

/* A whole value that is an ISO-8601 date/time ("2024-01-15", "2024-01-15T10:30:00.123+02:00") or a UUID cannot
 * hold PII; skipping them spares Hyperscan the most common digit-rich strings in JSON. */
static bool is_timestamp_or_uuid(const unsigned char *s, size_t len)
{
    if (len == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-') {
        for (size_t i = 0; i < 36; i++)
            if (i != 8 && i != 13 && i != 18 && i != 23 && !is_hex(s[i]))
                return false;
        return true;
    }
    if (len < 10 || len > 40 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) ||
        s[4] != '-' || !is_digit(s[5]) || !is_digit(s[6]) || s[7] != '-' || !is_digit(s[8]) || !is_digit(s[9]))
        return false;
    size_t i = 10;
    if (i == len)
        return true;
    if (s[i] != 'T' && s[i] != ' ')
        return false;
    i++;
    /* hh:mm[:ss[.frac]] */
    for (int part = 0; part < 3; part++) {
        if (i + 2 > len || !is_digit(s[i]) || !is_digit(s[i + 1]))
            return false;
        i += 2;
        if (part < 2 && i < len && s[i] == ':') {
            i++;
            continue;
        }
        break;
    }
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        i++;
        size_t f = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == f)
            return false;
    }
    if (i == len)
        return true;
    if (s[i] == 'Z' || s[i] == 'z')
        return i + 1 == len;
    if (s[i] != '+' && s[i] != '-')
        return false;
    i++;
    if (i + 2 > len || !is_digit(s[i]) || !is_digit(s[i + 1]))
        return false;
    i += 2;
    if (i < len && s[i] == ':')
        i++;
    if (i == len)
        return true;
    return i + 2 == len && is_digit(s[i]) && is_digit(s[i + 1]);
}

/* Positional class masks of a string of at most 64 bytes (bit i = byte i), for the mask form of the prefilter. */
struct pmask {
    uint64_t digit, upper, hex, dot, dash, space;
};

/* pa_det_pf_anchor over masks (len >= 8; CISCO and AA00 start at 0..len-5, as there; past len every mask is 0). */
static inline bool anchor_mask(const struct pmask *m, size_t len, unsigned which)
{
    return anchor_bits(m->hex, m->dot, m->upper, m->digit, m->space, m->dash, which, (1ULL << (len - 4)) - 1);
}

/* is_timestamp_or_uuid, the UUID shape decided on the masks. */
static inline bool ts_or_uuid(const unsigned char *s, size_t len, const struct pmask *m)
{
    if (m && len == 36) {
        const uint64_t dashes = (1ULL << 8) | (1ULL << 13) | (1ULL << 18) | (1ULL << 23), all = (1ULL << 36) - 1;
        if ((m->dash & dashes) == dashes && ((m->hex | dashes) & all) == all)
            return true;
    }
    return is_timestamp_or_uuid(s, len);
}

/* pa_det_pf_anchor in the form at hand (see pdecide) */
static inline __attribute__((always_inline)) bool anchor(const unsigned char *s, size_t len, const struct pmask *m,
                                                         bool ref, unsigned which)
{
    if (m)
        return anchor_mask(m, len, which);
    return ref ? pa_det_pf_anchor_ref(s, len, which) : pa_det_pf_anchor(s, len, which);
}

/* The anchors a string's counts allow (each pattern's letters, digits and length; see the rules above) */
static inline unsigned anchors_possible(const struct pstat *st, size_t len)
{
    unsigned w = 0;
    if (st->dot >= 2 && len >= 14)
        w |= PA_PF_CISCO;
    if (st->upper >= 2 && st->digits >= 2 && len >= 15)
        w |= PA_PF_AA00;
    if (len >= 9 && ((st->upper >= 3 && st->digits >= 6) || (st->upper >= 6 && st->digits >= 4)))
        w |= PA_PF_NINO_PAN;
    if (st->upper >= 3 && st->digits >= 6 && st->space >= 4 && len >= 13)
        w |= PA_PF_AA_0;
    if (len >= 9 && st->digits >= 7 && st->upper >= 1 && (st->digits >= 8 || st->upper >= 2))
        w |= PA_PF_D7U; /* a DNI: 8 digits and a letter; a NIE: 7 digits and 2 letters */
    return w;
}

/* The prefilter's decision on a string's byte counts: the rules above. With its masks (m not NULL) the run and
 * anchor checks are a few shifts; without, loops (16 bytes at a time with SSE2, or byte by byte: ref, the scalar
 * reference). Every form gives the same answer. */
static inline __attribute__((always_inline)) bool pdecide(const struct pstat *st, const unsigned char *s, size_t len,
                                                          const struct pmask *m, bool ref)
{
    if (st->digits >= 9 || (st->plus && st->digits >= 8)) {
        /* Without + - . : or space only a card number (13 digits in a row here) and the letter-anchored patterns
         * can match (an IBAN's or a NINO's "AA00...", a DNI's "9999999A"): digests, signatures and ids full of
         * digits end here. */
        if (!st->plus && !st->dash && !st->dot && !st->colon && !st->space) {
            unsigned w = anchors_possible(st, len);
            return (m     ? run13_mask(m->digit)
                    : ref ? pa_det_pf_digit_run13_ref(s, len)
                          : pa_det_pf_digit_run13(s, len)) ||
                   (w && anchor(s, len, m, ref, w));
        }
        if (st->colon && (st->dash || st->dot) && ts_or_uuid(s, len, m))
            return false;
        if (len == 36 && st->dash == 4 && ts_or_uuid(s, len, m))
            return false;
        return true;
    }
    if ((st->digits >= 4 && st->dot >= 3) || (st->colon >= 2 && st->digits) || st->colon >= 5 || st->dash >= 5)
        return !(st->colon && ts_or_uuid(s, len, m));
    unsigned w = anchors_possible(st, len);
    return w && anchor(s, len, m, ref, w);
}

__attribute__((noinline)) bool pa_det_pf_counts(const unsigned char *s, size_t len)
{
    struct pstat st = {0};
    size_t i = 0;
#ifdef PA_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128(), c0 = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), cA = _mm_set1_epi8('A'),
                  c25 = _mm_set1_epi8(25), at = _mm_set1_epi8('@'), colon = _mm_set1_epi8(':'),
                  minus = _mm_set1_epi8('-'), period = _mm_set1_epi8('.'), plus = _mm_set1_epi8('+'),
                  space = _mm_set1_epi8(' ');
    while (i + 16 <= len) {
        /* byte counters (each compare gives -1 per hit) flushed before they can wrap */
        __m128i nd = zero, nc = zero, np = zero, nm = zero, nplus = zero, nu = zero, ns = zero;
        size_t end = i + 16 * 255;
        for (; i + 16 <= len && i < end; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, at)))
                return true;
            __m128i t = _mm_sub_epi8(v, c0);
            nd = _mm_sub_epi8(nd, _mm_cmpeq_epi8(_mm_min_epu8(t, nine), t));
            __m128i u = _mm_sub_epi8(v, cA);
            nu = _mm_sub_epi8(nu, _mm_cmpeq_epi8(_mm_min_epu8(u, c25), u));
            nc = _mm_sub_epi8(nc, _mm_cmpeq_epi8(v, colon));
            np = _mm_sub_epi8(np, _mm_cmpeq_epi8(v, period));
            nm = _mm_sub_epi8(nm, _mm_cmpeq_epi8(v, minus));
            nplus = _mm_sub_epi8(nplus, _mm_cmpeq_epi8(v, plus));
            ns = _mm_sub_epi8(ns, _mm_cmpeq_epi8(v, space));
        }
#define PA_HSUM(x) ((size_t)_mm_cvtsi128_si32(x) + (size_t)_mm_extract_epi16(x, 4))
        st.digits += PA_HSUM(_mm_sad_epu8(nd, zero));
        st.upper += PA_HSUM(_mm_sad_epu8(nu, zero));
        st.colon += PA_HSUM(_mm_sad_epu8(nc, zero));
        st.dot += PA_HSUM(_mm_sad_epu8(np, zero));
        st.dash += PA_HSUM(_mm_sad_epu8(nm, zero));
        st.plus += PA_HSUM(_mm_sad_epu8(nplus, zero));
        st.space += PA_HSUM(_mm_sad_epu8(ns, zero));
#undef PA_HSUM
    }
#endif
    /* The tail (and short strings; everything without SSE2): one table load and one add per byte, the counts kept
     * in the byte lanes of one word, flushed every 255 bytes so that no lane carries into the next. */
    while (i < len) {
        size_t stop = len - i > 255 ? i + 255 : len;
        uint64_t acc = 0;
        for (; i < stop; i++)
            acc += plane[s[i]];
        if (acc >> 56)
            return true; /* '@' */
        st.digits += acc & 0xff;
        st.upper += (acc >> 8) & 0xff;
        st.colon += (acc >> 16) & 0xff;
        st.dot += (acc >> 24) & 0xff;
        st.dash += (acc >> 32) & 0xff;
        st.plus += (acc >> 40) & 0xff;
        st.space += (acc >> 48) & 0xff;
    }
    return pdecide(&st, s, len, NULL, false);
}

#ifdef PA_HAVE_POPCNT_DISPATCH
bool pa_det_have_popcnt;

/* 8 to 64 bytes: the classes of every byte as positional masks (bit i = byte i), from 16-byte loads inside the
 * string (the last one overlaps the one before and ORs the same bits again; a string of at most 16 bytes is read as
 * two 8-byte words), all nine classes in one pass (most strings need them all: a first pass over digits and @ : . -
 * decided under a tenth of them), then the counts are popcounts. Needs the popcnt instruction (chosen at run time:
 * the project builds for baseline x86-64). */
__attribute__((noinline, target("popcnt"))) bool pa_det_pf_masks(const unsigned char *s, size_t len)
{
    uint64_t dig, up, hex, dot, dash, at, colon, plus, space;
    /* every class of the 16 bytes of v at once, their bits placed at byte offset sh of the string; op_ is = for the
     * first chunk, |= for the others */
#define PM_CHUNK(v_, sh_, op_)                                                                                         \
    do {                                                                                                               \
        __m128i v1_ = (v_);                                                                                            \
        unsigned d_ = sse_digit(v1_);                                                                                  \
        dig op_(uint64_t) d_ << (sh_);                                                                                 \
        up op_(uint64_t) sse_range(v1_, 'A', 26) << (sh_);                                                             \
        hex op_(uint64_t) sse_hex(v1_, d_) << (sh_);                                                                   \
        dot op_(uint64_t) sse_eq(v1_, '.') << (sh_);                                                                   \
        dash op_(uint64_t) sse_eq(v1_, '-') << (sh_);                                                                  \
        at op_(uint64_t) sse_eq(v1_, '@') << (sh_);                                                                    \
        colon op_(uint64_t) sse_eq(v1_, ':') << (sh_);                                                                 \
        plus op_(uint64_t) sse_eq(v1_, '+') << (sh_);                                                                  \
        space op_(uint64_t) sse_eq(v1_, ' ') << (sh_);                                                                 \
    } while (0)
    if (len <= 16) {
        /* bytes 0..7, then bytes 8..len-1 (the word that ends the string, shifted down past the overlap): lane i is
         * byte i, the lanes past len zero (in no class) */
        uint64_t lo, hi = 0;
        memcpy(&lo, s, 8);
        if (len > 8) {
            memcpy(&hi, s + len - 8, 8);
            hi >>= (16 - len) * 8;
        }
        __m128i v = _mm_set_epi64x((long long)hi, (long long)lo);
        PM_CHUNK(v, 0, =);
    } else {
        PM_CHUNK(_mm_loadu_si128((const __m128i *)(const void *)s), 0, =);
        size_t off = 16;
        for (; off + 16 <= len; off += 16)
            PM_CHUNK(_mm_loadu_si128((const __m128i *)(const void *)(s + off)), off, |=);
        if (off < len) /* the chunk that ends the string: it ORs the bits of the overlap again */
            PM_CHUNK(_mm_loadu_si128((const __m128i *)(const void *)(s + len - 16)), len - 16, |=);
    }
#undef PM_CHUNK
    if (at)
        return true;
    struct pmask m = {.digit = dig, .upper = up, .hex = hex, .dot = dot, .dash = dash, .space = space};
    struct pstat st = {
        .digits = (size_t)__builtin_popcountll(dig),
        .colon = (size_t)__builtin_popcountll(colon),
        .dot = (size_t)__builtin_popcountll(dot),
        .dash = (size_t)__builtin_popcountll(dash),
        .plus = (size_t)__builtin_popcountll(plus),
        .upper = (size_t)__builtin_popcountll(up),
        .space = (size_t)__builtin_popcountll(space),
    };
    return pdecide(&st, s, len, &m, false);
}
#endif

/* The scalar reference: every byte counted one by one, the decision with the byte-loop forms. */
bool pa_det_pf_reference(const unsigned char *s, size_t len)
{
    struct pstat st = {0};
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '@')
            return true;
        st.digits += c >= '0' && c <= '9';
        st.upper += c >= 'A' && c <= 'Z';
        st.colon += c == ':';
        st.dot += c == '.';
        st.dash += c == '-';
        st.plus += c == '+';
        st.space += c == ' ';
    }
    return pdecide(&st, s, len, NULL, true);
}
