/* Unit tests for detect's validators (src/detect/validators.c), one test per check, each with real candidates and
 * tempting look-alikes. A validator that checks where a Hyperscan anchor ended is called at every end of its row's
 * real anchor (the expression from src/detect/values.h, compiled here alone), as values.c calls it; the token checks
 * get the token's extent. Each test fails when its validator is broken (always true, always false): see
 * docs/architecture.md. Test data only: no scanned value of a real surface.
 */
#include "detect/validators.h"
#include "detect/values.h"

#include <check.h>
#include <hs/hs.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* ---- the anchors ------------------------------------------------------------------------------------------------- */

#define PA_EXPR_OF_(name_, rule_, cat_, check_, expr_) [R_##name_] = expr_,
static const char *const anchor_expr[R_BUILTIN_COUNT] = {PA_VALUE_DETECTORS(PA_EXPR_OF_)};

typedef bool (*at_fn)(const unsigned char *s, size_t len, size_t to);

struct anchor_run {
    at_fn check;
    const unsigned char *s;
    size_t len;
    size_t anchors;
    bool found;
};

static int on_anchor(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *arg)
{
    (void)id;
    (void)from;
    (void)flags;
    struct anchor_run *r = arg;
    r->anchors++;
    if (r->check(r->s, r->len, (size_t)to))
        r->found = true;
    return 0;
}

/* check at every end of rule's anchor in s: true when one of them is a real candidate. */
static bool at_anchors(int rule, at_fn check, const char *s)
{
    static hs_database_t *db[R_BUILTIN_COUNT];
    static hs_scratch_t *scratch;
    hs_compile_error_t *cerr = NULL;
    if (!db[rule]) {
        ck_assert_int_eq(hs_compile(anchor_expr[rule], 0, HS_MODE_BLOCK, NULL, &db[rule], &cerr), HS_SUCCESS);
        ck_assert_int_eq(hs_alloc_scratch(db[rule], &scratch), HS_SUCCESS);
    }
    struct anchor_run r = {check, (const unsigned char *)s, strlen(s), 0, false};
    ck_assert_int_eq(hs_scan(db[rule], s, (unsigned)r.len, 0, scratch, on_anchor, &r), HS_SUCCESS);
    return r.found;
}

/* every pos is a candidate, every neg is not (the negatives are chosen to have an anchor, so the validator decides) */
static void expect_at(int rule, at_fn check, const char *const *pos, size_t npos, const char *const *neg, size_t nneg)
{
    for (size_t i = 0; i < npos; i++)
        ck_assert_msg(at_anchors(rule, check, pos[i]), "%s: #%s# should pass", anchor_expr[rule], pos[i]);
    for (size_t i = 0; i < nneg; i++)
        ck_assert_msg(!at_anchors(rule, check, neg[i]), "%s: #%s# must not pass", anchor_expr[rule], neg[i]);
}

#define EXPECT_AT(rule_, check_, pos_, neg_)                                                                       \
    expect_at(rule_, check_, pos_, PA_ARRAY_LEN(pos_), neg_, PA_ARRAY_LEN(neg_))

/* ---- checks at an anchor's end ----------------------------------------------------------------------------------- */

START_TEST(test_email)
{
    static const char *const pos[] = {"john.doe@example.com", "mail me at john.doe@example.com.",
                                      "A.B+tag@sub.example.co.uk", "o'brien@example.ie", "x@example.museum",
                                      "user@xn--80ak6aa92e.com", "a@xn--d1acufc.xn--p1ai", "mailto:joe@example.org",
                                      "https://example.com/?email=joe@example.com",
                                      "line1\nreach: ops-team@corp.example.net\n"};
    static const char *const neg[] = {"image@2x.png", "icon@3x.webp", "bundle@1.2.min.js", "styles@v2.css",
                                      "data@latest.json", "http://user:pass@example.org/hi",
                                      "https://test:secret@example.org", "git@github.com:org/repo.git",
                                      "j***@example.com", "foo@-bar.com", "foo..bar@example.com", "foo@bar..com",
                                      "a@b.cd_", "x@host.example#frag"};
    EXPECT_AT(R_EMAIL, pa_det_check_email, pos, neg);
}
END_TEST

START_TEST(test_phone_e164)
{
    static const char *const pos[] = {"+1 415 555 0132", "+14155550132", "+44 20 7123 4567", "+44 (20) 7123 4567",
                                      "+1 (415) 555-0132", "+55 11 98456 5666", "+33 1 42 68 53 00",
                                      "+49.30.1234567", "+123456789012345", "tel: +14155550132."};
    static const char *const neg[] = {"+123456", "+1234567", "+1234567890123456", "+1234.56", "+12345678.90",
                                      "+2024-01-15", "UTC+08:00", "1+1=2", "a+14155550132", "+14155550132x",
                                      "id=+14155550132"};
    EXPECT_AT(R_PHONE_E164, pa_det_check_phone_e164, pos, neg);
}
END_TEST

START_TEST(test_phone_national)
{
    static const char *const pos[] = {"(415) 555-0132", "(415)555-0132", "415-555-0132", "415.555.0132",
                                      "415 555 0132", "090-1234-5678", "020 7123 4567", "1-800-555-0199",
                                      "call me: 415-555-0132!", "0 532 123 45 67", "01 42 68 53 00",
                                      "0216 123 45 67", "532 123 45 67"};
    static const char *const neg[] = {"15.01.2024", "192.168.10.20", "10.0.19041.1", "1 234 567", "1234-5678-9012",
                                      "ABC-415-555-0132", "415-555-01325", "12415-555-0132", "2024-0115-1234",
                                      "415 555 0132 4444 2222", "415--555-0132"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_phone_national, pos, neg);
}
END_TEST

START_TEST(test_ssn)
{
    static const char *const pos[] = {"123-45-6789", "078-05-1123", "123 45 6789", "ssn: 123-45-6789.",
                                      "abc 078 05 1123 abc", "(665-12-3456)"};
    static const char *const neg[] = {"000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567",
                                      "123-45-0000", "1123-45-6789", "123-45-67890", "1-123-45-6789",
                                      "123-45-6789-1", "x123-45-6789", "123-45-6789x"};
    EXPECT_AT(R_SSN, pa_det_check_ssn, pos, neg);
}
END_TEST

START_TEST(test_iban)
{
    static const char *const pos[] = {"DE89370400440532013000", "DE89 3704 0044 0532 0130 00",
                                      "GB29NWBK60161331926819", "GB29 NWBK 6016 1331 9268 19",
                                      "FR1420041010050500013M02606", "NL91ABNA0417164300", "NO9386011117947",
                                      "MT84MALT011000012345MTLCAST001S", "AL47-2121-1009-0000-0002-3569-8741",
                                      "iban: CH9300762011623852957."};
    static const char *const neg[] = {"DE89370400440532013001", "DE89 3704 0044 0532 0130 0",
                                      "DE8937040044053201300", "DE893704004405320130001", "XX89370400440532013000",
                                      "AM47212110090000000235698740", "xDE89370400440532013000",
                                      "DE89370400440532013000x", "GB29 NWBK 6016 1331 9268 1",
                                      "DE89 3704-0044 0532 0130 00"};
    EXPECT_AT(R_IBAN, pa_det_check_iban, pos, neg);
}
END_TEST

START_TEST(test_mac)
{
    static const char *const pos[] = {"00:1A:2B:3C:4D:5E", "a1:b2:c3:d4:e5:f6", "AA-BB-CC-DD-EE-FF",
                                      "aa-bb-cc-dd-ee-fe", "0012.3456.789a", "aabb.ccdd.eeff",
                                      "MAC: 01:23:45:67:89:AB,"};
    static const char *const neg[] = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF", "0000.0000.0000",
                                      "00:11:22:33:44:55:66", "x00:11:22:33:44:55", "00:11:22:33:44:55x",
                                      "1a:2b:3c:4d:5e:6f:7a"};
    EXPECT_AT(R_MAC, pa_det_check_mac, pos, neg);
}
END_TEST

/* ---- whole values and digit strings ------------------------------------------------------------------------------ */

static bool ssn_bare(const char *s)
{
    return pa_det_check_ssn_bare((const unsigned char *)s, strlen(s));
}

START_TEST(test_ssn_bare)
{
    static const char *const pos[] = {"123456789", "078051123", " 123456789 ", "\t665123456\n"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(ssn_bare(pos[i]), "#%s# should be a bare SSN", pos[i]);
    static const char *const neg[] = {"000123456", "666123456", "900123456", "123004567", "123450000", "12345678",
                                      "1234567890", "123-45-6789", "12345678x", "1 23456789", ""};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!ssn_bare(neg[i]), "#%s# must not be a bare SSN", neg[i]);
}
END_TEST

static bool issuer(const char *digits)
{
    return pa_det_card_issuer_ok((const unsigned char *)digits, strlen(digits));
}

START_TEST(test_card_issuer)
{
    /* prefix and length only (the Luhn digit does not matter here) */
    static const char *const pos[] = {"4111111111111", "4111111111111111", "4111111111111111111", "5500000000000000",
                                      "2221000000000000", "2720990000000000", "340000000000000", "370000000000000",
                                      "6011000000000000", "6440000000000000000", "6500000000000000", "3528000000000000",
                                      "3589000000000000000", "30000000000000", "36000000000000", "3800000000000000000",
                                      "6200000000000000", "5018000000000000", "6759000000000000000",
                                      "5019000000000000"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(issuer(pos[i]), "%s should be a card issuer and length", pos[i]);
    static const char *const neg[] = {"41111111111111", "41111111111111111", "550000000000000", "5600000000000000",
                                      "2220000000000000", "2721000000000000", "34000000000000", "3400000000000000",
                                      "6011000000000", "3527000000000000", "3590000000000000", "3060000000000000",
                                      "5018000000000", "5019000000000000000", "1234567890123456", "9999999999999999",
                                      "0242424242424242"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!issuer(neg[i]), "%s must not be a card issuer and length", neg[i]);
}
END_TEST

static bool luhn(const char *digits)
{
    return pa_det_luhn_ok((const unsigned char *)digits, strlen(digits));
}

START_TEST(test_luhn)
{
    static const char *const pos[] = {"4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
                                      "4222222222222", "79927398713", "0", "18", "0000000000000000"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(luhn(pos[i]), "%s should pass Luhn", pos[i]);
    static const char *const neg[] = {"4111111111111112", "5555555555554445", "378282246310006", "79927398710",
                                      "79927398711", "1", "19", "4111111111111121"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!luhn(neg[i]), "%s must not pass Luhn", neg[i]);
}
END_TEST

/* the digit-group token that starts at the first digit (digits with single ' ' or '-' between them), as values.c
 * cuts it around a match */
static bool card_sequence(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), a = strcspn(s, "0123456789"), b = a;
    while (b < len && ((u[b] >= '0' && u[b] <= '9') ||
                       ((u[b] == ' ' || u[b] == '-') && b + 1 < len && u[b + 1] >= '0' && u[b + 1] <= '9')))
        b++;
    return pa_det_check_card_sequence(u, len, a, b);
}

START_TEST(test_card_sequence)
{
    static const char *const pos[] = {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
                                      "3782 822463 10005", "card: 4012888888881881, exp", "1234 4111111111111111",
                                      "4012888888881881 4012-8888-8888-1881", "(6011111111111117)"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(card_sequence(pos[i]), "#%s# should hold a card number", pos[i]);
    static const char *const neg[] = {"4111111111111112", "4012-8888-8888-1882", "41111111111111111111",
                                      "x4111111111111111", "4111111111111111x", "4111111111111111.00",
                                      "0.4111111111111111", "4111 1111-1111 1111", "411111111111",
                                      "4111111111111111111111", "_4111111111111111"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!card_sequence(neg[i]), "#%s# must not hold a card number", neg[i]);
}
END_TEST

/* the maximal run of `chars` around the first byte of `first`, as values.c cuts a token around a match */
static bool token_check(bool (*check)(const unsigned char *, size_t, size_t, size_t), const char *s,
                        const char *first, const char *chars)
{
    size_t len = strlen(s), at = strcspn(s, first);
    ck_assert_uint_lt(at, len);
    size_t a = at, b = at;
    while (a > 0 && strchr(chars, s[a - 1]))
        a--;
    while (b < len && strchr(chars, s[b]))
        b++;
    return check((const unsigned char *)s, len, a, b);
}

START_TEST(test_ipv4_token)
{
    static const char *const pos[] = {"192.168.0.1", "my ip: 10.0.0.1", "(192.168.1.1)", "IP: 192.168.1.1.",
                                      "192.168.1.1,", "192.168.1.0/24", "10.0.0.1:8080", "255.255.255.255",
                                      "0.0.0.0", "192.168.2.1@eth0"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(token_check(pa_det_check_ipv4_token, pos[i], "0123456789", "0123456789."),
                      "#%s# should be an IPv4 address", pos[i]);
    static const char *const neg[] = {"1.2.3", "10.0.19041.1", "1.2.3.4.5", "256.1.1.1", "192.168.1.256",
                                      "192.168.01.1", "v1.2.3.4", "version 1.2.3.4", "build 10.0.0.1",
                                      "Chrome/120.0.0.0", "text192.168.1.1", "192.168.1.1text", ".1.2.3.4",
                                      "1..2.3.4"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!token_check(pa_det_check_ipv4_token, neg[i], "0123456789", "0123456789."),
                      "#%s# must not be an IPv4 address", neg[i]);
}
END_TEST

START_TEST(test_ipv6_token)
{
    static const char *const hexc = "0123456789abcdefABCDEF:.";
    static const char *const pos[] = {"2001:db8::1", "fe80::1", "fe80::1%eth0", "::1", "::ffff:10.0.0.1",
                                      "[2001:db8::1]:8080", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                                      "2001:db8::/32", "Server at 2400:c401::5054:ff:fe1b:b031.",
                                      "64:ff9b::192.0.2.1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(token_check(pa_det_check_ipv6_token, pos[i], ":", hexc), "#%s# should be an IPv6 address",
                      pos[i]);
    static const char *const neg[] = {"::", "dead::beef", "a::b", "12:30:45", "2001::db8::1", "12345:db8::1",
                                      "fe80::1text", "1:2", "gggg:1234::1", "x2001:db8::1", "2001:db8::1_"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!token_check(pa_det_check_ipv6_token, neg[i], ":", hexc), "#%s# must not be an IPv6 address",
                      neg[i]);
}
END_TEST

static bool carries(const char *s)
{
    return pa_det_string_carries_data((const unsigned char *)s, strlen(s));
}

START_TEST(test_string_carries_data)
{
    static const char *const pos[] = {"Jane", "jane@example.com", "+1 415 555 0132", "12 Main St", "x", "N/A 12",
                                      "abc123", "deadbeef", "d41d8cd98f00b204e9800998ecf8427", "$2b",
                                      "Maxwell", "sha256:zz"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(carries(pos[i]), "#%s# should carry data", pos[i]);
    static const char *const neg[] = {"", "   ", "\t\n", "null", "NONE", "n/a", "N/A", "-", "--", "unknown",
                                      "[REDACTED]", "<redacted>", "masked", "anonymised", "deleted",
                                      "d41d8cd98f00b204e9800998ecf8427e",
                                      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                      "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=65536",
                                      "j***@example.com", "****1234", "#### ####", "XXX-XX-1234", "xxxx",
                                      "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 4242"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!carries(neg[i]), "#%s# must not carry data", neg[i]);
}
END_TEST

/* Partly masked values: protected only when at least half of the identifying characters (letters and digits; an
 * email's local part) are masked. The boundary: as many masked as readable is protected, one more readable is data. */
START_TEST(test_partly_masked)
{
    static const char *const protected_[] = {
        "***-**-1234",         "XXXX-XXXX-XXXX-1234", "4111 **** **** 1111", "4111-****-****-1111",
        "j***@exa***",         "j***@gmail.com",      "jo**@example.com",    "xxx-xxx-0132",
        "+1 *** ***-0132",     "***345",                "XXX XX 123",          "\xe2\x97\x8f\xe2\x97\x8f" "12",
        "6D92078A-XXXX-XXXX-XXXX-XXXXXXXXXXXX"};
    for (size_t i = 0; i < PA_ARRAY_LEN(protected_); i++)
        ck_assert_msg(!carries(protected_[i]), "#%s# is mostly masked: no data", protected_[i]);
    static const char *const data[] = {
        "+1 415 ***-0132",  "4111 **** ***1 1111", "411111******1111",  "john.smith***@example.com",
        "joh**@example.com", "***3456",            "6D92078A-****-4D2C-9D2E-7D3F1A2B3C4D",
        "Jane D***",        "a*b",                 "*1234",             "XX 12 34",
        "\xc3\xa9\xc3\xa9\xc3\xa9 **"};
    for (size_t i = 0; i < PA_ARRAY_LEN(data); i++)
        ck_assert_msg(carries(data[i]), "#%s# is mostly readable: data", data[i]);
}
END_TEST

static Suite *validators_suite(void)
{
    Suite *s = suite_create("validators");
    TCase *tc = tcase_create("at_anchor");
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_phone_e164);
    tcase_add_test(tc, test_phone_national);
    tcase_add_test(tc, test_ssn);
    tcase_add_test(tc, test_iban);
    tcase_add_test(tc, test_mac);
    suite_add_tcase(s, tc);
    tc = tcase_create("values_and_tokens");
    tcase_add_test(tc, test_ssn_bare);
    tcase_add_test(tc, test_card_issuer);
    tcase_add_test(tc, test_luhn);
    tcase_add_test(tc, test_card_sequence);
    tcase_add_test(tc, test_ipv4_token);
    tcase_add_test(tc, test_ipv6_token);
    tcase_add_test(tc, test_string_carries_data);
    tcase_add_test(tc, test_partly_masked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(validators_suite());
}
