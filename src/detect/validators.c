/* validators: the checks behind the value detectors, one function per check (validators.h lists them, each has its
 * own test in tests/unit/test_validators.c). Each gets the string and where Hyperscan's anchor ended (or the
 * candidate's extent) and decides whether a real candidate is there: boundaries, shapes, octet ranges, Luhn, mod-97.
 * They never copy more than a bounded candidate to the stack, and wipe it; they never print or keep anything.
 */
#include "validators.h"

#include "cclass.h"
#include "util.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const fake_tlds[] = {
    /* file extensions that look like TLDs (image@2x.png, bundle@1.2.min.js); .zip and .mov are real gTLDs but far
     * more often file names */
    "png",   "jpg", "jpeg", "gif",  "svg",   "webp", "ico",  "bmp",  "tif",  "tiff", "avif", "heic",
    "js",    "mjs", "cjs",  "ts",   "tsx",   "jsx",  "css",  "scss", "sass", "less", "json", "map",
    "xml",   "yml", "yaml", "toml", "txt",   "html", "htm",  "php",  "asp",  "aspx", "jsp",  "java",
    "swift", "cpp", "hpp",  "dll",  "dylib", "exe",  "csv",  "tsv",  "pdf",  "docx", "xlsx", "pptx",
    "tgz",   "rar", "tar",  "gz",   "wav",   "ogg",  "webm", "mov",  "avi",  "mkv",  "flac", "woff",
    "ttf",   "otf", "eot",  "cfg",  "conf",  "bak",  "tmp",  "zip",  "lock", "log",  "ini",
};

static bool is_fake_tld(const unsigned char *s, size_t n)
{
    char buf[8];
    if (n >= sizeof buf)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)lower(s[i]);
    buf[n] = '\0';
    for (size_t i = 0; i < PA_ARRAY_LEN(fake_tlds); i++)
        if (strcmp(buf, fake_tlds[i]) == 0)
            return true;
    return false;
}

/* The '@' in a URL's authority ("https://user:pass@host") is not an email address. */
static bool in_url_authority(const unsigned char *s, size_t local_start)
{
    size_t limit = local_start > 2048 ? local_start - 2048 : 0;
    for (size_t q = local_start; q > limit; q--) {
        unsigned char c = s[q - 1];
        if (c == '/')
            return q >= 3 && s[q - 2] == '/' && s[q - 3] == ':';
        if (c == '?' || c == '#' || c == '&' || c == '=' || is_space(c) || c == '"' || c == '\'' || c == '<' ||
            c == '>' || c == '(' || c == ')' || c == ',' || c == ';')
            return false;
    }
    return false;
}

bool pa_det_check_email(const unsigned char *s, size_t len, size_t to)
{
    size_t at = to;
    while (at > 0 && s[at - 1] != '@')
        at--;
    if (at == 0)
        return false;
    at--;
    /* local part */
    size_t ls = at;
    while (ls > 0 && (cclass[s[ls - 1]] & CC_EMAIL_LOCAL) && at - ls <= 64)
        ls--;
    if (at - ls > 64)
        return false;
    while (ls < at && s[ls] == '.') /* sentence punctuation before the address */
        ls++;
    if (ls == at || s[at - 1] == '.')
        return false;
    if (ls > 0 && (s[ls - 1] == '*' || s[ls - 1] == '#')) /* masked: j***@example.com */
        return false;
    if (ls >= 4 && s[ls - 1] == ':' && (ci_eq(s + ls - 4, 3, "cid") || ci_eq(s + ls - 4, 3, "mid")) &&
        (ls == 4 || !is_alnum(s[ls - 5])))
        return false; /* a content-ID or message-ID URI (cid:part1.X@host): a MIME part's id, no mailbox */
    for (size_t i = ls; i + 1 < at; i++)
        if (s[i] == '.' && s[i + 1] == '.')
            return false;
    if (in_url_authority(s, ls))
        return false;
    /* domain */
    size_t ds = at + 1, de = ds;
    while (de < len && (cclass[s[de]] & CC_DOMAIN) && de - ds <= 253)
        de++;
    if (de - ds > 253)
        return false;
    while (de > ds && s[de - 1] == '.')
        de--;
    if (de < len && (s[de] == '*' || s[de] == '#' || s[de] == '_'))
        return false;
    if (de + 1 < len && s[de] == ':' && (is_alnum(s[de + 1]) || s[de + 1] == '/' || s[de + 1] == '~'))
        return false; /* scp-style remote: git@github.com:org/repo.git */
    size_t labels = 0, lstart = ds;
    for (size_t i = ds; i <= de; i++) {
        if (i < de && s[i] != '.')
            continue;
        size_t ll = i - lstart;
        if (ll == 0 || ll > 63 || s[lstart] == '-' || s[i - 1] == '-')
            return false;
        if (labels == 0 && ll >= 2 && lower(s[i - 1]) == 'x') { /* retina asset names: icon@2x.png, a@3x.webp */
            bool digits = true;
            for (size_t k = lstart; k + 1 < i; k++)
                digits = digits && is_digit(s[k]);
            if (digits)
                return false;
        }
        labels++;
        if (i < de)
            lstart = i + 1;
    }
    if (labels < 2)
        return false;
    const unsigned char *tld = s + lstart;
    size_t tl = de - lstart;
    if (tl >= 5 && lower(tld[0]) == 'x' && lower(tld[1]) == 'n' && tld[2] == '-' && tld[3] == '-')
        return true; /* punycode TLD */
    if (tl < 2 || tl > 63)
        return false;
    for (size_t i = 0; i < tl; i++)
        if (!is_alpha(tld[i]))
            return false;
    return !is_fake_tld(tld, tl);
}

/* E.164: '+', 8-15 digits, separators space . - and one pair of parentheses. */
bool pa_det_check_phone_e164(const unsigned char *s, size_t len, size_t to)
{
    size_t p = to - 2; /* the '+' */
    if (p > 0) {
        unsigned char c = s[p - 1];
        if (is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '_' || c == '.' || c == '-')
            return false;
    }
    size_t i = p + 1, digits = 0, end = 0, dots = 0, others = 0, dots_at_end = 0, others_at_end = 0;
    size_t groups = 0, glen[4] = {0};
    int run = 0;
    bool open = false, used = false, in_group = false;
    while (i < len) {
        unsigned char c = s[i];
        if (is_digit(c)) {
            if (!in_group) {
                if (groups < 4)
                    glen[groups] = 0;
                groups++;
                in_group = true;
            }
            if (groups <= 4)
                glen[groups - 1]++;
            digits++;
            i++;
            end = i;
            run = 0;
            dots_at_end = dots;
            others_at_end = others;
            if (digits > 15)
                return false;
            continue;
        }
        in_group = false;
        if ((c == ' ' || c == '-' || c == '.') && run < 2) {
            if (c == '.')
                dots++;
            else
                others++;
            run++;
            i++;
            continue;
        }
        if (c == '(' && !used && run < 2) {
            open = used = true;
            others++;
            run++;
            i++;
            continue;
        }
        if (c == ')' && open && run == 0) {
            open = false;
            others++;
            run++;
            i++;
            continue;
        }
        break;
    }
    if (digits < 8 || digits > 15)
        return false;
    if (end < len && (is_alnum(s[end]) || s[end] == '_'))
        return false;
    if (dots_at_end == 1 && others_at_end == 0) /* +12345678.90: a signed decimal */
        return false;
    if (groups == 3 && glen[0] == 4 && glen[1] == 2 && glen[2] == 2) /* +2024-01-15 */
        return false;
    return true;
}

static inline bool is_phone_sep(unsigned char c)
{
    return c == '-' || c == '.' || c == ' ';
}

/* National formats with separators. The Hyperscan anchor fires at the end of "digit sep group sep 2-4 digits"; the
 * validator takes the whole run of [0-9 .()-] that ends there and checks its shape:
 *   3 groups  2-4 / 3-4 / 4 digits: (415) 555-0132, 415.555.0132, 090-1234-5678, 020 7123 4567
 *             (4/4/4 only with a trunk 0: 1234-5678-9012 is an account number);
 *   1/3/3/4 with a leading country code 1: 1-800-555-0199;
 *   3/3/2/2: 532 123 45 67;
 *   a trunk-prefixed (leading 0) number of 4-5 groups and 10-11 digits: 0 532 123 45 67, 01 42 68 53 00.
 * Groups have at most 4 digits (bare digit runs are never phones), a run glued to other digits or letters is
 * rejected, and four dot-separated groups of at most 3 digits are an IPv4 address, not a phone. */
bool pa_det_check_phone_national(const unsigned char *s, size_t len, size_t to)
{
    if (to < len) {
        unsigned char c = s[to];
        if (is_alnum(c) || c == '_')
            return false;
        if ((is_phone_sep(c) || c == '/' || c == ')') && to + 1 < len && is_digit(s[to + 1]))
            return false;
    }
    size_t a = to;
    while (a > 0 && (is_digit(s[a - 1]) || is_phone_sep(s[a - 1]) || s[a - 1] == '(' || s[a - 1] == ')')) {
        a--;
        if (to - a > 40)
            return false;
    }
    size_t a0 = a;
    bool spaced = false;
    while (a < to && !is_digit(s[a]) && s[a] != '(')
        spaced |= s[a++] == ' ';
    if (a0 > 0 && !spaced) { /* glued to the word before it: ABC-415-555-0132, +1 ... (E.164 handles those) */
        unsigned char c = s[a0 - 1];
        if (is_alnum(c) || c == '_' || c == '+' || c == '/' || c == '=')
            return false;
    }
    int g[6];
    size_t k = 0, digits = 0;
    int paren_group = -1;
    bool in_paren = false, only_dots = true;
    unsigned char first = 0;
    for (size_t i = a; i < to;) {
        unsigned char c = s[i];
        if (is_digit(c)) {
            size_t st = i;
            while (i < to && is_digit(s[i]))
                i++;
            if (i - st > 4 || k == PA_ARRAY_LEN(g))
                return false;
            if (!first)
                first = s[st];
            g[k++] = (int)(i - st);
            digits += i - st;
            continue;
        }
        if (c == '(') {
            if (paren_group >= 0 || i + 1 >= to || !is_digit(s[i + 1]))
                return false;
            in_paren = true;
            paren_group = (int)k;
            only_dots = false;
        } else if (c == ')') {
            if (!in_paren || paren_group != (int)k - 1 || !is_digit(s[i - 1]))
                return false;
            in_paren = false;
        } else { /* - . space: never two in a row */
            if (i > a && is_phone_sep(s[i - 1]))
                return false;
            if (c != '.')
                only_dots = false;
        }
        i++;
    }
    if (in_paren || k < 3)
        return false;
    if (paren_group > 0 && !(paren_group == 1 && g[0] == 1))
        return false; /* (xxx) is the first group, or follows a lone trunk/country digit: 0 (917) 123 4567 */
    bool ok = false;
    if (k == 3)
        ok = g[0] >= 2 && g[1] >= 3 && g[2] == 4 && !(g[0] == 4 && g[1] == 4 && first != '0');
    else if (k == 4 && g[0] == 1 && g[1] == 3 && g[2] == 3 && g[3] == 4)
        ok = first == '1' || first == '0';
    else if (k == 4 && g[0] == 3 && g[1] == 3 && g[2] == 2 && g[3] == 2)
        ok = true;
    if (!ok && first == '0' && (k == 4 || k == 5) && digits >= 10 && digits <= 11 && g[k - 1] >= 2)
        ok = true;
    if (ok && k == 4 && only_dots && g[0] <= 3 && g[1] <= 3 && g[2] <= 3 && g[3] <= 3)
        ok = false; /* 192.168.10.20 */
    return ok;
}

/* Issuer prefix + length, then Luhn. d: the digits (ASCII), n: count. */
bool pa_det_card_issuer_ok(const unsigned char *d, size_t n)
{
    int p1 = d[0] - '0', p2 = p1 * 10 + (d[1] - '0'), p3 = p2 * 10 + (d[2] - '0'), p4 = p3 * 10 + (d[3] - '0');
    if (p1 == 4) /* Visa */
        return n == 13 || n == 16 || n == 19;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) /* Mastercard */
        return n == 16;
    if (p2 == 34 || p2 == 37) /* Amex */
        return n == 15;
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) /* Discover */
        return n >= 16 && n <= 19;
    if (p4 >= 3528 && p4 <= 3589) /* JCB */
        return n >= 16 && n <= 19;
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) /* Diners */
        return n >= 14 && n <= 19;
    if (p2 == 62) /* UnionPay */
        return n >= 16 && n <= 19;
    if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || p4 == 6761 || p4 == 6762 ||
        p4 == 6763) /* Maestro (16-19 only: shorter Maestro numbers collide with plain ids) */
        return n >= 16 && n <= 19;
    if (p4 == 5019) /* Dankort */
        return n == 16;
    return false;
}

bool pa_det_luhn_ok(const unsigned char *d, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)(d[n - 1 - i] - '0');
        if (i & 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

static bool card_ok(const unsigned char *s, size_t a, size_t b)
{
    unsigned char dig[20];
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        if (is_digit(s[i])) {
            if (n == 19)
                return false;
            dig[n++] = s[i];
        }
    if (n < 13)
        return false;
    bool ok = pa_det_card_issuer_ok(dig, n) && pa_det_luhn_ok(dig, n);
    explicit_bzero(dig, sizeof dig);
    return ok;
}

/* A maximal sequence of digit groups (single ' ' or '-' between groups) in [a, b): try every group start, growing
 * over groups joined by the same separator, and check every group end that gives 13-19 digits. */
bool pa_det_check_card_sequence(const unsigned char *s, size_t len, size_t a, size_t b)
{
    bool left_ok = true, right_ok = true;
    if (a > 0) {
        unsigned char c = s[a - 1];
        if (is_alnum(c) || c == '_' || ((c == '.' || c == ',') && a >= 2 && is_digit(s[a - 2])))
            left_ok = false;
    }
    if (b < len) {
        unsigned char c = s[b];
        if (is_alnum(c) || c == '_' || ((c == '.' || c == ',') && b + 1 < len && is_digit(s[b + 1])))
            right_ok = false;
    }
    for (size_t g = a; g < b;) {
        if (g > a || left_ok) {
            size_t digits = 0, p = g;
            unsigned char sep = 0;
            while (p < b) {
                size_t q = p;
                while (q < b && is_digit(s[q]))
                    q++;
                digits += q - p;
                if (digits > 19)
                    break;
                if (digits >= 13 && (q < b || right_ok) && card_ok(s, g, q))
                    return true;
                if (q >= b)
                    break;
                if (sep && s[q] != sep)
                    break;
                sep = s[q];
                p = q + 1;
            }
        }
        while (g < b && is_digit(s[g]))
            g++;
        g++;
    }
    return false;
}

/* IBAN lengths by country (SWIFT IBAN registry). 0: not an IBAN country. */
#define IBAN(a_, b_, len_) [(a_) - 'A'][(b_) - 'A'] = (len_)
static const uint8_t iban_len_tab[26][26] = {
    IBAN('A', 'D', 24), IBAN('A', 'E', 23), IBAN('A', 'L', 28), IBAN('A', 'T', 20), IBAN('A', 'Z', 28),
    IBAN('B', 'A', 20), IBAN('B', 'E', 16), IBAN('B', 'G', 22), IBAN('B', 'H', 22), IBAN('B', 'I', 27),
    IBAN('B', 'R', 29), IBAN('B', 'Y', 28), IBAN('C', 'H', 21), IBAN('C', 'R', 22), IBAN('C', 'Y', 28),
    IBAN('C', 'Z', 24), IBAN('D', 'E', 22), IBAN('D', 'J', 27), IBAN('D', 'K', 18), IBAN('D', 'O', 28),
    IBAN('E', 'E', 20), IBAN('E', 'G', 29), IBAN('E', 'S', 24), IBAN('F', 'I', 18), IBAN('F', 'K', 18),
    IBAN('F', 'O', 18), IBAN('F', 'R', 27), IBAN('G', 'B', 22), IBAN('G', 'E', 22), IBAN('G', 'I', 23),
    IBAN('G', 'L', 18), IBAN('G', 'R', 27), IBAN('G', 'T', 28), IBAN('H', 'R', 21), IBAN('H', 'U', 28),
    IBAN('I', 'E', 22), IBAN('I', 'L', 23), IBAN('I', 'Q', 23), IBAN('I', 'S', 26), IBAN('I', 'T', 27),
    IBAN('J', 'O', 30), IBAN('K', 'W', 30), IBAN('K', 'Z', 20), IBAN('L', 'B', 28), IBAN('L', 'C', 32),
    IBAN('L', 'I', 21), IBAN('L', 'T', 20), IBAN('L', 'U', 20), IBAN('L', 'V', 21), IBAN('L', 'Y', 25),
    IBAN('M', 'C', 27), IBAN('M', 'D', 24), IBAN('M', 'E', 22), IBAN('M', 'K', 19), IBAN('M', 'N', 20),
    IBAN('M', 'R', 27), IBAN('M', 'T', 31), IBAN('M', 'U', 30), IBAN('N', 'I', 28), IBAN('N', 'L', 18),
    IBAN('N', 'O', 15), IBAN('O', 'M', 23), IBAN('P', 'K', 24), IBAN('P', 'L', 28), IBAN('P', 'S', 29),
    IBAN('P', 'T', 25), IBAN('Q', 'A', 29), IBAN('R', 'O', 24), IBAN('R', 'S', 22), IBAN('R', 'U', 33),
    IBAN('S', 'A', 24), IBAN('S', 'C', 31), IBAN('S', 'D', 18), IBAN('S', 'E', 24), IBAN('S', 'I', 19),
    IBAN('S', 'K', 24), IBAN('S', 'M', 27), IBAN('S', 'O', 23), IBAN('S', 'T', 25), IBAN('S', 'V', 28),
    IBAN('T', 'L', 23), IBAN('T', 'N', 24), IBAN('T', 'R', 26), IBAN('U', 'A', 29), IBAN('V', 'A', 22),
    IBAN('V', 'G', 24), IBAN('X', 'K', 20), IBAN('Y', 'E', 30),
};
#undef IBAN

static inline bool is_upper_or_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || is_digit(c);
}

bool pa_det_check_iban(const unsigned char *s, size_t len, size_t to)
{
    size_t st = (s[to - 5] == ' ' || s[to - 5] == '-') ? to - 9 : to - 8;
    if (st > 0 && (is_alnum(s[st - 1]) || s[st - 1] == '_'))
        return false;
    size_t L = iban_len_tab[s[st] - 'A'][s[st + 1] - 'A'];
    if (!L)
        return false;
    unsigned char buf[34];
    size_t n = 0, i = st;
    unsigned char sep = 0;
    while (n < L && i < len) {
        unsigned char c = s[i];
        if (is_upper_or_digit(c)) {
            buf[n++] = c;
            i++;
            continue;
        }
        if ((c == ' ' || c == '-') && n && n % 4 == 0 && (!sep || sep == c) && i + 1 < len &&
            is_upper_or_digit(s[i + 1])) {
            sep = c;
            i++;
            continue;
        }
        break;
    }
    bool ok = false;
    if (n == L && !(i < len && (is_alnum(s[i]) || s[i] == '_'))) {
        unsigned rem = 0;
        for (size_t k = 0; k < L; k++) {
            unsigned char c = buf[(k + 4) % L];
            if (is_digit(c))
                rem = (rem * 10 + (unsigned)(c - '0')) % 97;
            else
                rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
        }
        ok = rem == 1;
    }
    explicit_bzero(buf, sizeof buf);
    return ok;
}

/* "version 1.2.3.4", "build 10.0.0.1", "v 1.2.3.4": the word just before a dotted number says what it is. */
static bool version_word_before(const unsigned char *s, size_t a)
{
    size_t e = a;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == ':' || s[e - 1] == '=') && a - e < 3)
        e--;
    size_t b = e;
    while (b > 0 && is_alpha(s[b - 1]) && e - b < 8)
        b--;
    if (b == e || (b > 0 && is_alpha(s[b - 1])))
        return false;
    static const char *const words[] = {"version", "ver", "v", "build", "release", "sdk", "firmware", "fw"};
    for (size_t i = 0; i < PA_ARRAY_LEN(words); i++)
        if (ci_eq(s + b, e - b, words[i]))
            return true;
    return false;
}

/* "shopify-1.2.3.4", "agent-10.0.0.1": a dotted number glued to a name by '-' is that name's version (hostnames
 * that carry an address write its octets with dashes: ip-10-0-0-1). */
static bool after_product_name(const unsigned char *s, size_t a)
{
    return a >= 2 && s[a - 1] == '-' && is_alpha(s[a - 2]);
}

/* IPv4 token [0-9.]+ around the match: exactly four octets 0-255 without leading zeros, not part of a longer
 * dotted number, not glued to letters, '/' (Chrome/120.0.0.0) or 'v' (v1.2.3.4), not a name's version
 * (after_product_name). */
bool pa_det_check_ipv4_token(const unsigned char *s, size_t len, size_t a, size_t b)
{
    if (s[a] == '.')
        return false;
    while (b > a && s[b - 1] == '.')
        b--;
    if (a > 0) {
        unsigned char c = s[a - 1];
        if (is_alnum(c) || c == '/' || c == '_' || c == '\\')
            return false;
    }
    if (b < len && (is_alnum(s[b]) || s[b] == '_'))
        return false;
    if (version_word_before(s, a) || after_product_name(s, a))
        return false;
    int parts = 0;
    size_t i = a;
    while (i < b) {
        size_t j = i;
        unsigned v = 0;
        while (j < b && is_digit(s[j])) {
            v = v * 10 + (unsigned)(s[j] - '0');
            j++;
            if (j - i > 3)
                return false;
        }
        if (j == i || v > 255 || (s[i] == '0' && j - i > 1))
            return false;
        parts++;
        if (j < b) {
            if (s[j] != '.')
                return false;
            j++;
            if (j == b)
                return false;
        }
        i = j;
    }
    return parts == 4;
}

/* IPv6 token [0-9A-Fa-f:.]+ around the match, validated with inet_pton; "::" alone is not an address. */
bool pa_det_check_ipv6_token(const unsigned char *s, size_t len, size_t a, size_t b)
{
    while (b > a && s[b - 1] == '.')
        b--;
    size_t n = b - a;
    if (n < 3 || n > 45)
        return false;
    if (a > 0 && (is_alnum(s[a - 1]) || s[a - 1] == '_' || s[a - 1] == ':'))
        return false;
    size_t e = b;
    if (e < len && s[e] == '%') { /* zone id: fe80::1%eth0 */
        e++;
        while (e < len && (is_alnum(s[e]) || s[e] == '_' || s[e] == '-' || s[e] == '.'))
            e++;
    }
    if (e < len && (is_alnum(s[e]) || s[e] == '_'))
        return false;
    bool digit = false;
    for (size_t i = a; i < b && !digit; i++)
        digit = is_digit(s[i]);
    if (!digit) /* "a::b", "dead::beef": code and prose, not addresses */
        return false;
    char buf[48];
    memcpy(buf, s + a, n);
    buf[n] = '\0';
    unsigned char addr[16];
    bool ok = n > 2 && inet_pton(AF_INET6, buf, addr) == 1;
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(addr, sizeof addr);
    return ok;
}

bool pa_det_check_mac(const unsigned char *s, size_t len, size_t to)
{
    size_t st;
    unsigned char sep;
    if (to >= 17 && (s[to - 3] == ':' || s[to - 3] == '-')) {
        st = to - 17;
        sep = s[to - 3];
    } else {
        st = to - 14;
        sep = '.';
    }
    if (st > 0) {
        unsigned char c = s[st - 1];
        if (is_alnum(c) || c == '_' || c == sep)
            return false;
    }
    if (to < len) {
        unsigned char c = s[to];
        if (is_alnum(c) || c == '_')
            return false;
        if (c == sep && to + 1 < len && is_hex(s[to + 1]))
            return false;
    }
    bool zero = true, ff = true;
    for (size_t i = st; i < to; i++) {
        if (!is_hex(s[i]))
            continue;
        if (s[i] != '0')
            zero = false;
        if (lower(s[i]) != 'f')
            ff = false;
    }
    return !zero && !ff;
}

/* A masked value: at least half of its identifying characters are masked (docs/detection.md, "What a key finding
 * needs"). Identifying characters are the letters and digits (a UTF-8 character counts once), only those before the
 * '@' when there is one (the domain names a provider, not a person). Masked characters are those of a run of two or
 * more '*', '#', U+2022 bullets or U+25CF circles (a lone '*' is punctuation), and the letters of a word made only of
 * X/x, three or more (shorter ones too when the value has such a mask: XXX-XX-1234). So ***-**-1234 (5 masked,
 * 4 readable), 4111 **** **** 1111 (8 and 8), j***@example.com (3 and 1) are masked; +1 415 ***-0132 (3 and 8) or
 * an advertising id with 4 of its 32 digits starred are still data. */
static bool mostly_masked(const unsigned char *s, size_t n)
{
    const unsigned char *at = memchr(s, '@', n);
    if (at && at > s)
        n = (size_t)(at - s);
    size_t masked = 0, readable = 0, run = 0, xletters = 0;
    for (size_t k = 0; k < n;) {
        unsigned char c = s[k];
        size_t w = 1;
        bool m = c == '*' || c == '#';
        if (!m && c == 0xE2 && k + 2 < n &&
            ((s[k + 1] == 0x80 && s[k + 2] == 0xA2) || (s[k + 1] == 0x97 && s[k + 2] == 0x8F))) {
            m = true; /* U+2022 bullet, U+25CF black circle */
            w = 3;
        }
        if (m) {
            run++;
            k += w;
            continue;
        }
        if (run >= 2)
            masked += run;
        run = 0;
        if (is_alpha(c)) {
            size_t st = k;
            bool allx = true;
            while (k < n && is_alpha(s[k])) {
                allx = allx && lower(s[k]) == 'x';
                k++;
            }
            if (allx && k - st >= 3)
                masked += k - st;
            else if (allx)
                xletters += k - st; /* "XX" is a mask next to another one (XXX-XX-1234), else letters */
            else
                readable += k - st;
            continue;
        }
        if (is_digit(c) || c >= 0xC0) /* a digit, or the first byte of a UTF-8 character */
            readable++;
        k++;
    }
    if (run >= 2)
        masked += run;
    if (!masked)
        return false;
    masked += xletters;
    return masked >= readable;
}

/* Already protected: a hex digest (32/40/64/128 hex, optionally "sha256:"-prefixed), a Fernet token, a bcrypt or
 * argon2 hash, or a mostly masked value. */
static bool is_protected(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 12 && is_alnum(s[i]))
        i++;
    size_t hs = (i < n && s[i] == ':' && i >= 2) ? i + 1 : 0;
    size_t hl = n - hs;
    if (hl == 32 || hl == 40 || hl == 64 || hl == 128) {
        bool hex = true;
        for (size_t k = hs; k < n && hex; k++)
            hex = is_hex(s[k]);
        if (hex)
            return true;
    }
    if (n >= 60 && memcmp(s, "gAAAAA", 6) == 0) {
        bool b64 = true;
        for (size_t k = 0; k < n && b64; k++)
            b64 = is_alnum(s[k]) || s[k] == '-' || s[k] == '_' || s[k] == '=';
        if (b64)
            return true;
    }
    if (n >= 7 && s[0] == '$' && ((s[1] == '2' && s[3] == '$') || memcmp(s, "$argon2", 7) == 0))
        return true;
    return mostly_masked(s, n);
}

/* Does a string value under a dictionary key carry data? Not empty or blank, not a placeholder, not protected. */
bool pa_det_string_carries_data(const unsigned char *s, size_t n)
{
    trim_space(&s, &n);
    if (!n)
        return false;
    static const char *const placeholders[] = {"null",       "none",       "nil",        "n/a",        "na",
                                               "unknown",    "undefined",  "-",          "--",         "redacted",
                                               "[redacted]", "<redacted>", "removed",    "masked",     "hidden",
                                               "filtered",   "[filtered]", "anonymized", "anonymised", "deleted"};
    if (n <= 12)
        for (size_t i = 0; i < PA_ARRAY_LEN(placeholders); i++)
            if (ci_eq(s, n, placeholders[i]))
                return false;
    return !is_protected(s, n);
}

/* ---- device identifiers ------------------------------------------------------------------------------------ */

static inline bool is_b64url(unsigned char c)
{
    return is_alnum(c) || c == '-' || c == '_';
}

/* An FCM registration token whose "APA91b" ends at `to`: the instance id (8..64 base64url characters) and ':' before
 * it, or nothing (a legacy GCM registration id), then 100..512 base64url characters; its extent in [*st, *end). */
static bool fcm_extent(const unsigned char *s, size_t len, size_t to, size_t *st, size_t *end)
{
    size_t a = to - 6;
    if (a > 0 && s[a - 1] == ':') {
        size_t k = a - 1;
        while (k > 0 && is_b64url(s[k - 1]) && a - 1 - k <= 64)
            k--;
        size_t idlen = a - 1 - k;
        if (idlen < 8 || idlen > 64 || (k > 0 && (is_b64url(s[k - 1]) || s[k - 1] == ':')))
            return false;
        a = k;
    } else if (a > 0 && is_b64url(s[a - 1])) {
        return false;
    }
    size_t b = to;
    while (b < len && is_b64url(s[b]) && b - to <= 512)
        b++;
    if (b - to < 100 || b - to > 512 || (b < len && (s[b] == ':' || s[b] == '=')))
        return false;
    *st = a;
    *end = b;
    return true;
}

bool pa_det_check_fcm_token(const unsigned char *s, size_t len, size_t to)
{
    size_t st, end;
    return fcm_extent(s, len, to, &st, &end);
}

/* 8-4-4-4-12 hex digits, not all zero */
static bool uuid_nonzero(const unsigned char *s, size_t n)
{
    if (n != 36)
        return false;
    bool nonzero = false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_hex(s[i])) {
            return false;
        } else {
            nonzero = nonzero || s[i] != '0';
        }
    }
    return nonzero;
}

/* 64..200 hex digits (an even number), not all zero; or the same as <xxxxxxxx xxxxxxxx ...> (NSData's description,
 * groups of 8 with single spaces) */
static bool apns_token(const unsigned char *s, size_t n)
{
    bool grouped = n >= 2 && s[0] == '<' && s[n - 1] == '>';
    size_t a = grouped ? 1 : 0, b = grouped ? n - 1 : n, hex = 0;
    bool nonzero = false;
    for (size_t i = a; i < b; i++) {
        if (grouped && s[i] == ' ' && (i - a + 1) % 9 == 0 && i + 1 < b)
            continue;
        if (!is_hex(s[i]) || (grouped && (i - a + 1) % 9 == 0))
            return false;
        hex++;
        nonzero = nonzero || s[i] != '0';
    }
    return nonzero && hex >= 64 && hex <= 200 && hex % 2 == 0;
}

static bool fcm_value(const unsigned char *s, size_t n)
{
    const unsigned char *p = n >= 6 ? memmem(s, n, "APA91b", 6) : NULL;
    size_t st, end;
    return p && fcm_extent(s, n, (size_t)(p - s) + 6, &st, &end) && st == 0 && end == n;
}

bool pa_det_check_device_id(const unsigned char *s, size_t n, enum pa_devid kind)
{
    trim_space(&s, &n);
    switch (kind) {
    case PA_DEVID_IDFA:
    case PA_DEVID_IDFV:
    case PA_DEVID_GAID: return uuid_nonzero(s, n);
    case PA_DEVID_APNS: return apns_token(s, n);
    case PA_DEVID_FCM: return fcm_value(s, n);
    case PA_DEVID_ANY: return uuid_nonzero(s, n) || apns_token(s, n) || fcm_value(s, n);
    case PA_DEVID_COUNT: break;
    }
    return false;
}
