/* Unit tests for detect's value prefilter (src/detect/prefilter.c): every form (the count form, the mask form, the
 * inline short form, the dispatching pa_det_prefilter, the 13-digit run and the Cisco/IBAN anchors with SSE2) must
 * give the answer of the scalar reference (byte loops only), on random strings of 0..200 bytes over byte classes
 * that steer each rule, and on the patterns' anchors planted at every offset of noise of every length 0..200. Each
 * string is an exact-size heap copy, so under ASan a read past its end is an error. In the scalar build
 * (-Dsimd=false) the same test holds the portable forms. Test data only.
 */
#include "detect/prefilter.h"
#include "util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAXLEN 200

struct tally {
    size_t strings, compares, failures;
    char first[160]; /* the first failure: which form, length, and the string in hex (test data) */
};

static struct tally T;

static void note_failure(const char *form, const unsigned char *s, size_t len, bool got, bool want)
{
    if (T.failures++)
        return;
    int n = snprintf(T.first, sizeof T.first, "%s len %zu: %d, reference %d: ", form, len, got, want);
    for (size_t i = 0; i < len && n + 3 < (int)sizeof T.first; i++)
        n += snprintf(T.first + n, sizeof T.first - (size_t)n, "%02x", s[i]);
}

static void same(const char *form, const unsigned char *s, size_t len, bool got, bool want)
{
    T.compares++;
    if (got != want)
        note_failure(form, s, len, got, want);
}

/* every form against the reference, on an exact-size copy */
static void check_string(const unsigned char *src, size_t len)
{
    unsigned char *s = malloc(len ? len : 1);
    memcpy(s, src, len);
    T.strings++;
    bool ref = pa_det_pf_reference(s, len);
    same("count form", s, len, pa_det_pf_counts(s, len), ref);
    if (len >= 1)
        same("pa_det_prefilter", s, len, pa_det_prefilter(s, len), ref);
#ifdef PA_HAVE_POPCNT_DISPATCH
    if (pa_det_have_popcnt && len >= 8 && len <= 64)
        same("mask form", s, len, pa_det_pf_masks(s, len), ref);
#endif
#ifdef PA_HAVE_LE_WORDS
    if (len >= 1 && len <= 7 && pa_det_pf_short_clean(s, len)) /* one-sided: clean means the reference rejects */
        same("short form", s, len, false, ref);
#endif
    same("13-digit run", s, len, pa_det_pf_digit_run13(s, len), pa_det_pf_digit_run13_ref(s, len));
    /* each anchor alone, the pairs the prefilter asks for together, all of them (each is computed alone and or-ed) */
    static const unsigned whiches[] = {PA_PF_CISCO,
                                       PA_PF_AA00,
                                       PA_PF_NINO_PAN,
                                       PA_PF_AA_0,
                                       PA_PF_D7U,
                                       PA_PF_CISCO | PA_PF_AA00,
                                       PA_PF_NINO_PAN | PA_PF_D7U,
                                       PA_PF_ALL};
    for (size_t k = 0; k < PA_ARRAY_LEN(whiches); k++) {
        char name[32];
        snprintf(name, sizeof name, "anchors 0x%02x", whiches[k]);
        same(name, s, len, pa_det_pf_anchor(s, len, whiches[k]), pa_det_pf_anchor_ref(s, len, whiches[k]));
    }
    free(s);
}

/* Byte classes that steer the rules: every byte, digits, hex, dates, upper + digits (IBAN), separators, prose, card
 * groups, IPv6/MAC, Cisco groups, national ids (NINO "AA 99", DNI/NIE "9999999-A"). */
static const char *const alphabets[] = {
    NULL, /* every byte value */
    "0123456789",
    "0123456789abcdefABCDEF",
    "0123456789-:T.Z+ ",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "abcdefghijklmnopqrstuvwxyz0123456789@:.-+ ",
    "@:.-+ 0123456789",
    "abcdefghij klmnopqrstuvwxyz ABCDEFG",
    "0123456789 -",
    "0123456789abcdefABCDEF:.",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ",
    "0123456789abcdef.",
    "0123456789.",
    "0123456789ABXZ- ",
    "0000000000000000000000000001AZ- ",
};
#define N_ALPHA PA_ARRAY_LEN(alphabets)

static unsigned char pick(uint64_t *rng, size_t alpha)
{
    uint64_t r = pa_test_rng(rng);
    if (!alphabets[alpha])
        return (unsigned char)(r >> 24);
    return (unsigned char)alphabets[alpha][(r >> 24) % strlen(alphabets[alpha])];
}

START_TEST(test_random_strings)
{
    memset(&T, 0, sizeof T);
    uint64_t rng = 0x2545f4914f6cdd1dULL;
    unsigned char buf[MAXLEN];
    for (size_t len = 0; len <= MAXLEN; len++)
        for (size_t a = 0; a < N_ALPHA; a++)
            for (int k = 0; k < 16; k++) {
                for (size_t i = 0; i < len; i++)
                    buf[i] = pick(&rng, a);
                check_string(buf, len);
            }
    ck_assert_msg(T.failures == 0, "%zu of %zu compares differ; first: %s", T.failures, T.compares, T.first);
    fprintf(stderr, "prefilter: %zu random strings, %zu compares, no difference\n", T.strings, T.compares);
}
END_TEST

/* What each rule looks for, and what turns it off: a card's 13-digit run, an IBAN start, Cisco groups, '@', a UUID,
 * ISO timestamps (with and without time), IPv4, IPv6/MAC colons and dashes, E.164, SSN shapes, times; and the
 * shortest strings each rule lets through (five dashes or colons, two colons and a digit, '+' and eight digits). */
static const char *const anchors[] = {
    "4111111111111",
    "DE89",
    "GB29NWBK60161331926819",
    "ab12.",
    "0012.3456.789a",
    "@",
    "550e8400-e29b-41d4-a716-446655440000",
    "2024-01-15T10:30:00Z",
    "2024-01-15",
    "2024-01-15 10:30:00.123+02:00",
    "1.2.3.4",
    ":ab:",
    "a:b:c:d:e:f",
    "1-2-3-4-5-6",
    "+14155550132",
    "123-45-6789",
    "12:30:45",
    "415 555 0132",
    "-----",
    ":::::",
    "::1",
    "+12345678",
    /* national ids and their anchors: NINO and PAN (NINO_PAN), codice fiscale, FCM (AA00), spaced NINO (AA 9),
     * DNI/NIE (D7U) */
    "AB123456C",
    "AB123456",
    "ABCDE1234",
    "AB 12 34 56 C",
    "AB 1",
    "ABCPD1234Z",
    "RSSMRA85T10A562S",
    "xyz:APA91bAbc",
    "12345678Z",
    "12345678-Z",
    "X1234567L",
    "X-1234567-L",
    "00000000A",
    "-0000000-A",
};

START_TEST(test_planted_anchors)
{
    memset(&T, 0, sizeof T);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    unsigned char buf[MAXLEN];
    for (size_t k = 0; k < PA_ARRAY_LEN(anchors); k++) {
        size_t alen = strlen(anchors[k]);
        for (size_t len = alen; len <= MAXLEN; len++)
            for (size_t off = 0; off + alen <= len; off++) {
                size_t a = (len + off + k) % N_ALPHA; /* the noise around it: every class in turn */
                for (size_t i = 0; i < len; i++)
                    buf[i] = pick(&rng, a);
                memcpy(buf + off, anchors[k], alen);
                check_string(buf, len);
                if (off + alen < len) { /* and cut just after it */
                    check_string(buf, off + alen);
                }
            }
    }
    ck_assert_msg(T.failures == 0, "%zu of %zu compares differ; first: %s", T.failures, T.compares, T.first);
    fprintf(stderr, "prefilter: %zu strings with planted anchors, %zu compares, no difference\n", T.strings,
            T.compares);
}
END_TEST

/* The reference itself, on strings whose answer is known (so a wrong reference cannot make every form agree). */
START_TEST(test_reference)
{
    static const char *const pass[] = {"a@b",
                                       "4111111111111",
                                       "x 1.2.3.4 y",
                                       "fe80::1",
                                       "aa:bb:cc:dd:ee:ff",
                                       "+14155550132",
                                       "123-45-6789",
                                       "0012.3456.789a x",
                                       "id DE89370400440532013000",
                                       "415 555 0132",
                                       "AB123456C",
                                       "AB 12 34 56 C",
                                       "ABCPD1234Z",
                                       "12345678Z",
                                       "12345678-Z",
                                       "X1234567L",
                                       "Y-1234567-L",
                                       "RSSMRA85T10A562S",
                                       "1 84 12 76 451 089 46",
                                       "123.456.789-09",
                                       "2345 6789 0123"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pass); i++)
        ck_assert_msg(pa_det_pf_reference((const unsigned char *)pass[i], strlen(pass[i])), "%s should pass", pass[i]);
    static const char *const reject[] = {"",
                                         "hello world",
                                         "1.2.3",
                                         "2024-01-15T10:30:00Z",
                                         "550e8400-e29b-41d4-a716-446655440000",
                                         "12:30",
                                         "Order #12345",
                                         "deadbeefcafebabe0123456789abcdef",
                                         "123456789012",
                                         "ORD-000123",
                                         "AB12",
                                         "AB123456",
                                         "ab123456c",
                                         "SKU AB12-44",
                                         "Order A1234567",
                                         "46ZQ75FMX",
                                         "SKU AB123-4",
                                         "6MTX99859",
                                         "e6685844F x",
                                         "cus_5Rz9575588VVx4",
                                         "1234567Z",
                                         "x1234567Z",
                                         "ABCD1234E",
                                         "1234567 Z",
                                         "1234567z",
                                         "AB 12 34 C"};
    for (size_t i = 0; i < PA_ARRAY_LEN(reject); i++)
        ck_assert_msg(!pa_det_pf_reference((const unsigned char *)reject[i], strlen(reject[i])), "%s should not pass",
                      reject[i]);
}
END_TEST

static Suite *prefilter_suite(void)
{
    Suite *s = suite_create("prefilter");
    TCase *tc = tcase_create("forms");
    tcase_set_timeout(tc, 120); /* ~1 s; a hang guard under ASan on a loaded machine */
    tcase_add_test(tc, test_reference);
    tcase_add_test(tc, test_random_strings);
    tcase_add_test(tc, test_planted_anchors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    pa_det_prefilter_init();
    return pa_test_run(prefilter_suite());
}
