/* natid: the checks of the national identifiers (natid.h lists them; each is the issuing authority's published
 * structure and check-digit rule, cited there and in docs/detection.md, and tested in tests/unit/test_natid.c and
 * test_validators.c): the _ok functions on the canonical form, the whole-value check for typed values and keys that
 * name the identifier, and the value rows at the end of their Hyperscan anchor. Pure functions of the bytes, like
 * validators.c: a candidate is copied to the stack at most, and wiped.
 */
#include "natid.h"
#include "validators.h" /* pa_det_luhn_ok */

#include "cclass.h"
#include "util.h"

#include <string.h>

/* ---- US SSN ------------------------------------------------------------------------------------------------- */

static bool check_ssn_digits(const unsigned char *a, const unsigned char *g, const unsigned char *sr)
{
    int area = (a[0] - '0') * 100 + (a[1] - '0') * 10 + (a[2] - '0');
    if (area == 0 || area == 666 || area >= 900)
        return false;
    if (g[0] == '0' && g[1] == '0')
        return false;
    if (sr[0] == '0' && sr[1] == '0' && sr[2] == '0' && sr[3] == '0')
        return false;
    return true;
}

/* [st, to) stands alone: not glued to a letter, digit or '_', and not one group of a longer sequence of digit groups
 * (a '-', '.' or `sep` followed by a digit on either side: "1-123-45-6789", "123-45-6789-1"). */
static bool seq_alone(const unsigned char *s, size_t len, size_t st, size_t to, unsigned char sep)
{
    if (st > 0) {
        unsigned char c = s[st - 1];
        if (is_alnum(c) || c == '_')
            return false;
        if ((c == '-' || c == '.' || c == sep) && st >= 2 && is_digit(s[st - 2]))
            return false;
    }
    if (to < len) {
        unsigned char c = s[to];
        if (is_alnum(c) || c == '_')
            return false;
        if ((c == '-' || c == '.' || c == sep) && to + 1 < len && is_digit(s[to + 1]))
            return false;
    }
    return true;
}

bool pa_det_check_ssn(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - 11;
    if (!seq_alone(s, len, st, to, s[st + 3]))
        return false;
    return check_ssn_digits(s + st, s + st + 4, s + st + 7);
}

/* A value that is exactly nine digits (SSN without separators), only offered under a national_id key. */
bool pa_det_check_ssn_bare(const unsigned char *s, size_t len)
{
    trim_space(&s, &len);
    if (len != 9)
        return false;
    for (size_t i = 0; i < 9; i++)
        if (!is_digit(s[i]))
            return false;
    return check_ssn_digits(s, s + 3, s + 5);
}

/* ---- national identifiers --------------------------------------------------------------------------------------
 * Each check is the issuing authority's published structure and check-digit rule (cited at each function in
 * natid.h and in docs/detection.md). The _ok functions take the canonical form (upper-case letters and digits,
 * no separator) and check every byte's class themselves. */

static inline bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool all_digits(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(d[i]))
            return false;
    return true;
}

/* The number of the n ASCII digits d (n <= 18) */
static uint64_t digits_value(const unsigned char *d, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(d[i] - '0');
    return v;
}

static bool in_set(unsigned char c, const char *set)
{
    return c && strchr(set, c) != NULL;
}

bool pa_det_us_itin_ok(const unsigned char *d)
{
    if (!all_digits(d, 9) || d[0] != '9')
        return false;
    int g = (d[3] - '0') * 10 + (d[4] - '0');
    return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

bool pa_det_uk_nino_ok(const unsigned char *c)
{
    if (!is_upper(c[0]) || !is_upper(c[1]) || !all_digits(c + 2, 6) || c[8] < 'A' || c[8] > 'D')
        return false;
    if (in_set(c[0], "DFIQUV") || in_set(c[1], "DFIOQUV"))
        return false;
    static const char unallocated[][3] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    for (size_t i = 0; i < PA_ARRAY_LEN(unallocated); i++)
        if (c[0] == unallocated[i][0] && c[1] == unallocated[i][1])
            return false;
    return true;
}

bool pa_det_ca_sin_ok(const unsigned char *d)
{
    return all_digits(d, 9) && d[0] != '0' && d[0] != '8' && pa_det_luhn_ok(d, 9);
}

bool pa_det_fr_nir_ok(const unsigned char *c)
{
    if (!in_set(c[0], "123478") || !all_digits(c + 1, 4) || !all_digits(c + 7, 8))
        return false;
    int month = (c[3] - '0') * 10 + (c[4] - '0');
    if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50))
        return false;
    unsigned char num[13];
    memcpy(num, c, 13);
    if (c[5] == '2' && (c[6] == 'A' || c[6] == 'B')) { /* Corsica: 2A counts as 19, 2B as 18 */
        num[5] = '1';
        num[6] = c[6] == 'A' ? '9' : '8';
    } else if (!is_digit(c[5]) || !is_digit(c[6]) || (c[5] == '0' && c[6] == '0')) {
        return false;
    }
    uint64_t n = digits_value(num, 13);
    explicit_bzero(num, sizeof num);
    return digits_value(c + 13, 2) == 97 - n % 97;
}

bool pa_det_de_steuer_id_ok(const unsigned char *d)
{
    if (!all_digits(d, 11) || d[0] == '0')
        return false;
    int count[10] = {0}, repeated = 0;
    for (size_t i = 0; i < 10; i++)
        count[d[i] - '0']++;
    for (size_t k = 0; k < 10; k++) {
        if (count[k] > 3)
            return false;
        repeated += count[k] > 1;
    }
    if (repeated != 1)
        return false;
    for (size_t i = 0; i + 2 < 10; i++)
        if (d[i] == d[i + 1] && d[i + 1] == d[i + 2])
            return false;
    int product = 10; /* ISO/IEC 7064 MOD 11,10 */
    for (size_t i = 0; i < 10; i++) {
        int sum = (d[i] - '0' + product) % 10;
        product = (sum ? sum : 10) * 2 % 11;
    }
    int check = 11 - product;
    return d[10] - '0' == (check == 10 ? 0 : check);
}

static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

bool pa_det_es_dni_ok(const unsigned char *c)
{
    if (!all_digits(c, 8))
        return false;
    uint64_t n = digits_value(c, 8);
    return n && c[8] == dni_letters[n % 23];
}

bool pa_det_es_nie_ok(const unsigned char *c)
{
    if (!in_set(c[0], "XYZ") || !all_digits(c + 1, 7))
        return false;
    uint64_t n = (uint64_t)(c[0] - 'X') * 10000000 + digits_value(c + 1, 7);
    return c[8] == dni_letters[n % 23];
}

/* A digit of a codice fiscale, or the letter omocodia puts in its place (L=0 ... V=9): its value, or -1. */
static int cf_digit(unsigned char ch)
{
    static const char omo[] = "LMNPQRSTUV";
    if (is_digit(ch))
        return ch - '0';
    const char *p = ch ? memchr(omo, ch, 10) : NULL;
    return p ? (int)(p - omo) : -1;
}

bool pa_det_it_cf_ok(const unsigned char *c)
{
    for (size_t i = 0; i < 16; i++) {
        bool digit_place = (i >= 6 && i <= 7) || (i >= 9 && i <= 10) || (i >= 12 && i <= 14);
        if (digit_place ? cf_digit(c[i]) < 0 : !is_upper(c[i]))
            return false;
    }
    if (!in_set(c[8], "ABCDEHLMPRST"))
        return false;
    int day = cf_digit(c[9]) * 10 + cf_digit(c[10]); /* women: day + 40 */
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71)))
        return false;
    /* check letter: characters at odd places (1st, 3rd...) by this table (digit k as the k-th letter), at even
     * places by their value (digits 0-9, letters 0-25); the sum mod 26 */
    static const uint8_t odd[26] = {1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
                                    20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};
    unsigned sum = 0;
    for (size_t i = 0; i < 15; i++) {
        unsigned v = is_digit(c[i]) ? (unsigned)(c[i] - '0') : (unsigned)(c[i] - 'A');
        sum += (i & 1) ? v : odd[v];
    }
    return c[15] == 'A' + sum % 26;
}

bool pa_det_nl_bsn_ok(const unsigned char *d)
{
    if (!all_digits(d, 9))
        return false;
    int sum = -(d[8] - '0');
    for (size_t i = 0; i < 8; i++)
        sum += (int)(9 - i) * (d[i] - '0');
    return digits_value(d, 9) != 0 && sum % 11 == 0;
}

bool pa_det_br_cpf_ok(const unsigned char *d)
{
    if (!all_digits(d, 11))
        return false;
    bool same = true;
    for (size_t i = 1; i < 11; i++)
        same = same && d[i] == d[0];
    if (same)
        return false;
    for (size_t k = 9; k <= 10; k++) { /* check digit k from the k digits before it, weights k+1 .. 2 */
        unsigned sum = 0;
        for (size_t i = 0; i < k; i++)
            sum += (unsigned)(k + 1 - i) * (unsigned)(d[i] - '0');
        if ((unsigned)(d[k] - '0') != sum * 10 % 11 % 10)
            return false;
    }
    return true;
}

/* Verhoeff's dihedral group D5: multiplication and position permutation */
static const uint8_t verhoeff_d[10][10] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
                                           {2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
                                           {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
                                           {6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
                                           {8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
static const uint8_t verhoeff_p[8][10] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
                                          {5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
                                          {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
                                          {2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};

bool pa_det_in_aadhaar_ok(const unsigned char *d)
{
    if (!all_digits(d, 12) || d[0] < '2')
        return false;
    unsigned c = 0;
    for (size_t i = 0; i < 12; i++)
        c = verhoeff_d[c][verhoeff_p[i % 8][d[11 - i] - '0']];
    return c == 0;
}

bool pa_det_in_pan_ok(const unsigned char *c)
{
    for (size_t i = 0; i < 5; i++)
        if (!is_upper(c[i]))
            return false;
    return in_set(c[3], "PCHFATBLJG") && all_digits(c + 5, 4) && is_upper(c[9]);
}

bool pa_det_au_tfn_ok(const unsigned char *d, size_t n)
{
    static const uint8_t w9[9] = {1, 4, 3, 7, 5, 8, 6, 9, 10}, w8[8] = {10, 7, 8, 4, 6, 3, 5, 1};
    if ((n != 8 && n != 9) || !all_digits(d, n) || digits_value(d, n) == 0)
        return false;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (unsigned)(n == 9 ? w9[i] : w8[i]) * (unsigned)(d[i] - '0');
    return sum % 11 == 0;
}

size_t pa_det_natid_canon(const unsigned char *s, size_t n, unsigned char *out)
{
    trim_space(&s, &n);
    if (!n || n > 2 * PA_NATID_CANON_MAX)
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (is_alnum(c)) {
            if (k == PA_NATID_CANON_MAX)
                return 0;
            out[k++] = (cclass[c] & CC_LOWER) ? (unsigned char)(c - 32) : c;
        } else if (!((c == ' ' || c == '-' || c == '.' || c == '/') && i > 0 && i + 1 < n && is_alnum(s[i - 1]) &&
                     is_alnum(s[i + 1]))) {
            return 0;
        }
    }
    return k;
}

bool pa_det_natid_canon_ok(enum pa_natid kind, const unsigned char *c, size_t n)
{
    unsigned char pad[9];
    bool ok = false;
    switch (kind) {
    case PA_NATID_US_SSN: return n == 9 && all_digits(c, 9) && check_ssn_digits(c, c + 3, c + 5);
    case PA_NATID_US_ITIN: return n == 9 && pa_det_us_itin_ok(c);
    case PA_NATID_UK_NINO: return n == 9 && pa_det_uk_nino_ok(c);
    case PA_NATID_CA_SIN: return n == 9 && pa_det_ca_sin_ok(c);
    case PA_NATID_FR_NIR: return n == 15 && pa_det_fr_nir_ok(c);
    case PA_NATID_DE_STEUER_ID: return n == 11 && pa_det_de_steuer_id_ok(c);
    case PA_NATID_ES_DNI:
    case PA_NATID_NL_BSN:
        if (n == 8) { /* written without its leading zero */
            pad[0] = '0';
            memcpy(pad + 1, c, 8);
            ok = kind == PA_NATID_ES_DNI ? pa_det_es_dni_ok(pad) : pa_det_nl_bsn_ok(pad);
            explicit_bzero(pad, sizeof pad);
            return ok;
        }
        return n == 9 && (kind == PA_NATID_ES_DNI ? pa_det_es_dni_ok(c) : pa_det_nl_bsn_ok(c));
    case PA_NATID_ES_NIE: return n == 9 && pa_det_es_nie_ok(c);
    case PA_NATID_ES_NIF:
        return pa_det_natid_canon_ok(PA_NATID_ES_DNI, c, n) || pa_det_natid_canon_ok(PA_NATID_ES_NIE, c, n);
    case PA_NATID_IT_CF: return n == 16 && pa_det_it_cf_ok(c);
    case PA_NATID_BR_CPF: return n == 11 && pa_det_br_cpf_ok(c);
    case PA_NATID_IN_AADHAAR: return n == 12 && pa_det_in_aadhaar_ok(c);
    case PA_NATID_IN_PAN: return n == 10 && pa_det_in_pan_ok(c);
    case PA_NATID_AU_TFN: return pa_det_au_tfn_ok(c, n);
    case PA_NATID_ANY:
    case PA_NATID_OTHER:
    case PA_NATID_COUNT: break;
    }
    return false;
}

bool pa_det_check_natid_value(enum pa_natid kind, const unsigned char *s, size_t n)
{
    unsigned char c[PA_NATID_CANON_MAX];
    size_t k = pa_det_natid_canon(s, n, c);
    bool ok = false;
    if (k && kind == PA_NATID_ANY) {
        for (int i = PA_NATID_US_SSN; i < PA_NATID_COUNT && !ok; i++)
            ok = pa_det_natid_canon_ok((enum pa_natid)i, c, k);
    } else if (k) {
        ok = pa_det_natid_canon_ok(kind, c, k);
    }
    explicit_bzero(c, sizeof c);
    return ok;
}

static inline bool is_joiner(unsigned char c)
{
    return c == '-' || c == '_' || c == '.' || c == '/' || c == '\\';
}

/* [st, to) is a code on its own: not glued to a letter, digit or '_', nor joined to one by - _ . / \\ (a segment
 * of a longer code, file name or path: SKU-12345678Z, AB123456C.png, /orders/ABCPD1234Z). */
static bool alone(const unsigned char *s, size_t len, size_t st, size_t to)
{
    if (st > 0) {
        unsigned char c = s[st - 1];
        if (is_alnum(c) || c == '_' || (is_joiner(c) && st >= 2 && is_alnum(s[st - 2])))
            return false;
    }
    if (to < len) {
        unsigned char c = s[to];
        if (is_alnum(c) || c == '_' || (is_joiner(c) && to + 1 < len && is_alnum(s[to + 1])))
            return false;
    }
    return true;
}

/* ok() of the bytes of s at the n (at most PA_NATID_CANON_MAX) offsets at[]: a candidate checked without its
 * separators; the copy is wiped after */
static bool gathered_ok(const unsigned char *s, const uint8_t *at, size_t n, bool (*ok)(const unsigned char *))
{
    unsigned char c[PA_NATID_CANON_MAX];
    for (size_t i = 0; i < n; i++)
        c[i] = s[at[i]];
    bool r = ok(c);
    explicit_bzero(c, sizeof c);
    return r;
}

/* A sequence of digit groups alone (seq_alone) and not joined by - _ . / \\ to a letter or digit either (a part of
 * a longer token: the 4-digit groups of a UUID, 74249bfb-3633-0626-5299-ac4ec44d3cb6) */
static bool group_alone(const unsigned char *s, size_t len, size_t st, size_t to, unsigned char sep)
{
    return seq_alone(s, len, st, to, sep) && alone(s, len, st, to);
}

/* The riders (values.c): the shape is checked here, the host's anchor only says where it may end. */

bool pa_det_check_us_itin(const unsigned char *s, size_t len, size_t to)
{
    static const uint8_t at[9] = {0, 1, 2, 4, 5, 7, 8, 9, 10};
    if (to < 11)
        return false;
    size_t st = to - 11; /* 9dd-dd-dddd, 9dd dd dddd */
    unsigned char sep = s[st + 3];
    if ((sep != '-' && sep != ' ') || s[st + 6] != sep || !group_alone(s, len, st, to, sep))
        return false;
    return gathered_ok(s + st, at, 9, pa_det_us_itin_ok);
}

bool pa_det_check_uk_nino(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - 9; /* AA999999A */
    return alone(s, len, st, to) && pa_det_uk_nino_ok(s + st);
}

bool pa_det_check_uk_nino_spaced(const unsigned char *s, size_t len, size_t to)
{
    static const uint8_t at[9] = {0, 1, 3, 4, 6, 7, 9, 10, 12};
    /* AA 99 99 99 A: the anchor ends after the last pair of digits */
    if (to < 11 || to + 2 > len || s[to] != ' ')
        return false;
    size_t st = to - 11, end = to + 2;
    if (s[st + 2] != ' ' || s[st + 5] != ' ' || s[st + 8] != ' ' || !alone(s, len, st, end))
        return false;
    return gathered_ok(s + st, at, 9, pa_det_uk_nino_ok);
}

bool pa_det_check_fr_nir(const unsigned char *s, size_t len, size_t to)
{
    static const uint8_t at[15] = {0, 2, 3, 5, 6, 8, 9, 11, 12, 13, 15, 16, 17, 19, 20};
    static const uint8_t spaces[6] = {1, 4, 7, 10, 14, 18};
    if (to < 21)
        return false;
    size_t st = to - 21; /* 1 84 12 76 451 089 46 */
    for (size_t i = 0; i < PA_ARRAY_LEN(spaces); i++)
        if (s[st + spaces[i]] != ' ')
            return false;
    if (!group_alone(s, len, st, to, ' '))
        return false;
    return gathered_ok(s + st, at, 15, pa_det_fr_nir_ok);
}

bool pa_det_check_es_dni(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - (s[to - 2] == '-' ? 10 : 9);
    if (!alone(s, len, st, to))
        return false;
    unsigned char c[9];
    memcpy(c, s + st, 8);
    c[8] = s[to - 1];
    bool ok = pa_det_es_dni_ok(c);
    explicit_bzero(c, sizeof c);
    return ok;
}

bool pa_det_check_es_nie(const unsigned char *s, size_t len, size_t to)
{
    /* from the right: the letter, an optional '-', 7 digits, an optional '-', X Y or Z */
    size_t p = to - 1;
    if (s[p - 1] == '-')
        p--;
    if (p < 8)
        return false;
    size_t d = p - 7, st = d - 1;
    if (s[st] == '-') {
        if (st == 0)
            return false;
        st--;
    }
    if (!alone(s, len, st, to))
        return false;
    unsigned char c[9];
    c[0] = s[st];
    memcpy(c + 1, s + d, 7);
    c[8] = s[to - 1];
    bool ok = pa_det_es_nie_ok(c);
    explicit_bzero(c, sizeof c);
    return ok;
}

bool pa_det_check_it_cf(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - 16;
    return alone(s, len, st, to) && pa_det_it_cf_ok(s + st);
}

bool pa_det_check_br_cpf(const unsigned char *s, size_t len, size_t to)
{
    static const uint8_t at[11] = {0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13};
    if (to < 14)
        return false;
    size_t st = to - 14; /* 123.456.789-09 */
    if (s[st + 3] != '.' || s[st + 7] != '.' || s[st + 11] != '-' || !group_alone(s, len, st, to, '.'))
        return false;
    return gathered_ok(s + st, at, 11, pa_det_br_cpf_ok);
}

bool pa_det_check_in_aadhaar(const unsigned char *s, size_t len, size_t to)
{
    static const uint8_t at[12] = {0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13};
    if (to < 14)
        return false;
    size_t st = to - 14; /* 2345 6789 0123, 2345-6789-0123 */
    unsigned char sep = s[st + 4];
    if ((sep != ' ' && sep != '-') || s[st + 9] != sep || !group_alone(s, len, st, to, sep))
        return false;
    return gathered_ok(s + st, at, 12, pa_det_in_aadhaar_ok);
}

bool pa_det_check_in_pan(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - 10;
    /* in any value, only an individual's (holder type P): a company's, firm's or trust's PAN is no personal data,
     * and ten holder types would make one random 10-character code in about 3,000 a PAN (under a key that names
     * the PAN, pa_det_natid_canon_ok takes every type) */
    return s[st + 3] == 'P' && alone(s, len, st, to) && pa_det_in_pan_ok(s + st);
}
