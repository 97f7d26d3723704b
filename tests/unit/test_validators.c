/* Unit tests for detect's validators (src/detect/validators.c), one test per check, each with real candidates and
 * tempting look-alikes. A validator that checks where a Hyperscan anchor ended is called at every end of its row's
 * real anchor (the expression from src/detect/values.h, compiled here alone), as values.c calls it; the token checks
 * get the token's extent. Each test fails when its validator is broken (always true, always false): see
 * docs/architecture.md. Test data only: no scanned value of a real surface.
 */
#include "detect/natid.h"
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

#define EXPECT_AT(rule_, check_, pos_, neg_)                                                                           \
    expect_at(rule_, check_, pos_, PA_ARRAY_LEN(pos_), neg_, PA_ARRAY_LEN(neg_))

/* ---- checks at an anchor's end ----------------------------------------------------------------------------------- */

START_TEST(test_email)
{
    static const char *const pos[] = {"john.doe@example.com",
                                      "mail me at john.doe@example.com.",
                                      "A.B+tag@sub.example.co.uk",
                                      "o'brien@example.ie",
                                      "x@example.museum",
                                      "user@xn--80ak6aa92e.com",
                                      "a@xn--d1acufc.xn--p1ai",
                                      "mailto:joe@example.org",
                                      "https://example.com/?email=joe@example.com",
                                      "line1\nreach: ops-team@corp.example.net\n"};
    static const char *const neg[] = {"image@2x.png",
                                      "icon@3x.webp",
                                      "bundle@1.2.min.js",
                                      "styles@v2.css",
                                      "data@latest.json",
                                      "http://user:pass@example.org/hi",
                                      "https://test:secret@example.org",
                                      "git@github.com:org/repo.git",
                                      "j***@example.com",
                                      "foo@-bar.com",
                                      "foo..bar@example.com",
                                      "foo@bar..com",
                                      "a@b.cd_",
                                      "x@host.example#frag"};
    EXPECT_AT(R_EMAIL, pa_det_check_email, pos, neg);
}
END_TEST

START_TEST(test_phone_e164)
{
    static const char *const pos[] = {
        "+1 415 555 0132",   "+14155550132",      "+44 20 7123 4567", "+44 (20) 7123 4567", "+1 (415) 555-0132",
        "+55 11 98456 5666", "+33 1 42 68 53 00", "+49.30.1234567",   "+123456789012345",   "tel: +14155550132."};
    static const char *const neg[] = {"+123456",       "+1234567",      "+1234567890123456", "+1234.56",
                                      "+12345678.90",  "+2024-01-15",   "UTC+08:00",         "1+1=2",
                                      "a+14155550132", "+14155550132x", "id=+14155550132"};
    EXPECT_AT(R_PHONE_E164, pa_det_check_phone_e164, pos, neg);
}
END_TEST

START_TEST(test_phone_national)
{
    static const char *const pos[] = {"(415) 555-0132",         "(415)555-0132",   "415-555-0132",   "415.555.0132",
                                      "415 555 0132",           "090-1234-5678",   "020 7123 4567",  "1-800-555-0199",
                                      "call me: 415-555-0132!", "0 532 123 45 67", "01 42 68 53 00", "0216 123 45 67",
                                      "532 123 45 67"};
    static const char *const neg[] = {"15.01.2024",     "192.168.10.20",          "10.0.19041.1",  "1 234 567",
                                      "1234-5678-9012", "ABC-415-555-0132",       "415-555-01325", "12415-555-0132",
                                      "2024-0115-1234", "415 555 0132 4444 2222", "415--555-0132"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_phone_national, pos, neg);
}
END_TEST

START_TEST(test_ssn)
{
    static const char *const pos[] = {"123-45-6789",       "078-05-1123",         "123 45 6789",
                                      "ssn: 123-45-6789.", "abc 078 05 1123 abc", "(665-12-3456)"};
    static const char *const neg[] = {"000-12-3456",   "666-12-3456",   "900-12-3456",  "999-12-3456",
                                      "123-00-4567",   "123-45-0000",   "1123-45-6789", "123-45-67890",
                                      "1-123-45-6789", "123-45-6789-1", "x123-45-6789", "123-45-6789x"};
    EXPECT_AT(R_SSN, pa_det_check_ssn, pos, neg);
}
END_TEST

START_TEST(test_iban)
{
    static const char *const pos[] = {"DE89370400440532013000",
                                      "DE89 3704 0044 0532 0130 00",
                                      "GB29NWBK60161331926819",
                                      "GB29 NWBK 6016 1331 9268 19",
                                      "FR1420041010050500013M02606",
                                      "NL91ABNA0417164300",
                                      "NO9386011117947",
                                      "MT84MALT011000012345MTLCAST001S",
                                      "AL47-2121-1009-0000-0002-3569-8741",
                                      "iban: CH9300762011623852957."};
    static const char *const neg[] = {"DE89370400440532013001",     "DE89 3704 0044 0532 0130 0",
                                      "DE8937040044053201300",      "DE893704004405320130001",
                                      "XX89370400440532013000",     "AM47212110090000000235698740",
                                      "xDE89370400440532013000",    "DE89370400440532013000x",
                                      "GB29 NWBK 6016 1331 9268 1", "DE89 3704-0044 0532 0130 00"};
    EXPECT_AT(R_IBAN, pa_det_check_iban, pos, neg);
}
END_TEST

START_TEST(test_mac)
{
    static const char *const pos[] = {"00:1A:2B:3C:4D:5E",      "a1:b2:c3:d4:e5:f6", "AA-BB-CC-DD-EE-FF",
                                      "aa-bb-cc-dd-ee-fe",      "0012.3456.789a",    "aabb.ccdd.eeff",
                                      "MAC: 01:23:45:67:89:AB,"};
    static const char *const neg[] = {"00:00:00:00:00:00",  "ff:ff:ff:ff:ff:ff",    "FF-FF-FF-FF-FF-FF",
                                      "0000.0000.0000",     "00:11:22:33:44:55:66", "x00:11:22:33:44:55",
                                      "00:11:22:33:44:55x", "1a:2b:3c:4d:5e:6f:7a"};
    EXPECT_AT(R_MAC, pa_det_check_mac, pos, neg);
}
END_TEST

/* national identifiers written in their own shapes (the value rows; docs/detection.md, "National identifiers") */

START_TEST(test_us_itin)
{
    static const char *const pos[] = {"911-70-1234",   "900 50 1234", "itin: 999-99-9999.",
                                      "(912-88-0001)", "943-90-0000", "911-65-1234"};
    static const char *const neg[] = {"911-89-1234",  "911-93-1234",   "911-49-1234",   "911-66-1234",  "x911-70-1234",
                                      "911-70-1234x", "1-911-70-1234", "911-70-1234-5", "9911-70-1234", "911-70-12345"};
    EXPECT_AT(R_SSN, pa_det_check_us_itin, pos, neg); /* a rider on the SSN's anchor */
}
END_TEST

START_TEST(test_uk_nino)
{
    static const char *const pos[] = {"AB123456C", "ni: CE000001D.", "(JG103759A)", "YZ614868B"};
    static const char *const neg[] = {"AB123456E",  "DA123456A",  "FA123456A",  "QA123456A",     "UA123456A",
                                      "VA123456A",  "AO123456A",  "AD123456A",  "BG123456A",     "GB123456A",
                                      "KN123456A",  "NK123456A",  "NT123456A",  "TN123456A",     "ZZ123456A",
                                      "xAB123456C", "AB123456Cx", "AB123456CD", "SKU-AB123456C", "AB123456C.png"};
    EXPECT_AT(R_UK_NINO, pa_det_check_uk_nino, pos, neg);
    /* written with spaces: a rider on the national phone's anchor, which ends after the digits */
    static const char *const spos[] = {"AB 12 34 56 C", "ni: YZ 61 48 68 B.", "(CE 00 00 01 D)"};
    static const char *const sneg[] = {"AB 12 34 56 E",  "QQ 12 34 56 C",  "AB 12 34 56",
                                       "AB 12 34 56 CD", "1AB 12 34 56 C", "AB 12 34 56 C1",
                                       "AB 12 34 567 C", "AB 12 3 456 C",  "A 12 34 56 C"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_uk_nino_spaced, spos, sneg);
}
END_TEST

START_TEST(test_fr_nir)
{
    static const char *const pos[] = {"1 84 12 76 451 089 46", "2 84 12 2A 451 089 80", "NIR: 2 84 05 99 123 456 06.",
                                      "1 70 01 99 999 999 45"};
    static const char *const neg[] = {"1 84 12 76 451 089 47",  "2 84 12 2B 451 089 80",   "5 84 12 76 451 089 46",
                                      "1 84 13 76 451 089 46",  "1 84 12 00 451 089 46",   "x1 84 12 76 451 089 46",
                                      "1 84 12 76 451 089 46x", "9 1 84 12 76 451 089 46", "1 84 12 76 451 089 46 12"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_fr_nir, pos, neg); /* a rider */
}
END_TEST

START_TEST(test_es_dni)
{
    static const char *const pos[] = {"12345678Z", "12345678-Z", "DNI 00000023T.", "55555555K", "01111111G"};
    static const char *const neg[] = {"12345678A",  "00000000T",  "123456789Z",  "112345678Z",
                                      "12345678Zx", "x12345678Z", "1-12345678Z", "12345678-A"};
    EXPECT_AT(R_ES_DNI, pa_det_check_es_dni, pos, neg);
}
END_TEST

START_TEST(test_es_nie)
{
    static const char *const pos[] = {"X9613851N", "Y8063915-Z", "Z8078221M", "X-9613851-N", "NIE: Z-8078221M"};
    static const char *const neg[] = {"Y8063915Q",  "X9613851Q",  "Z8078221A",  "aX9613851N",
                                      "X9613851Nx", "X96138510N", "X-9613851-Q"};
    EXPECT_AT(R_ES_NIE, pa_det_check_es_nie, pos, neg);
}
END_TEST

START_TEST(test_it_cf)
{
    static const char *const pos[] = {"RSSMRA85T10A562S", "RSSMRA85T10A56NH", "RSSMRA85T50A562W",
                                      "CF: AAAAAA00B11C333Y"};
    static const char *const neg[] = {"RSSMRA85T10A562T",  "RSSMRA85T35A562G",  "RSSMRA85T10A56NS", "xRSSMRA85T10A562S",
                                      "RSSMRA85T10A562Sx", "RSSMRA85T10A562S1", "AAAAAA00B11C333N"};
    EXPECT_AT(R_IT_CF, pa_det_check_it_cf, pos, neg);
}
END_TEST

START_TEST(test_br_cpf)
{
    static const char *const pos[] = {"123.456.789-09", "111.444.777-35", "CPF: 529.982.247-25."};
    static const char *const neg[] = {"123.456.789-08",  "123.456.789-19",  "111.111.111-11",
                                      "000.000.000-00",  "1123.456.789-09", "123.456.789-091",
                                      "x123.456.789-09", "123.456.789-09x", "123.456.789-09.5"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_br_cpf, pos, neg); /* a rider */
}
END_TEST

START_TEST(test_in_aadhaar)
{
    static const char *const pos[] = {"3123 4567 8909", "3998-7654-3211", "Aadhaar 2345 6789 0124.", "9876-5432-1096"};
    static const char *const neg[] = {
        "3123 4567 8908",    "2345 6789 0125",  "3123 4567 8909 1234", "1 3123 4567 8909",
        "x3123-4567-8909",   "3123-4567-8909x", "23123 4567 8909",     "74249bfb-3633-0626-5299-ac4ec44d3cb6",
        "ref-3123-4567-8909"};
    EXPECT_AT(R_PHONE_NATIONAL, pa_det_check_in_aadhaar, pos, neg); /* a rider */
}
END_TEST

START_TEST(test_in_pan)
{
    static const char *const pos[] = {"ABCPD1234Z", "My PAN number is ABBPM4567S with text"};
    /* in any value only an individual's PAN (holder type P): a company's (C), trust's (T)... is no personal data;
     * pa_det_natid_canon_ok takes them under a key that names the PAN */
    static const char *const neg[] = {"xABCPD1234Z", "ABCPD1234Zx", "1ABCPD1234Z", "ABCPD1234Z9", "_ABCPD1234Z",
                                      "ABCXD1234Z",  "ABCND1234Z",  "AAASA1111R",  "AAACT0000A",  "AAACC1234F"};
    EXPECT_AT(R_IN_PAN, pa_det_check_in_pan, pos, neg);
}
END_TEST

/* an FCM registration token: instance id, ':', "APA91b" and `tail` base64url characters */
static const char *fcm(char *buf, size_t cap, const char *before, const char *id, size_t tail, const char *after)
{
    size_t n = (size_t)snprintf(buf, cap, "%s%s%sAPA91b", before, id, *id ? ":" : "");
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < tail && n + 1 < cap; i++)
        buf[n++] = b64[(i * 7 + 3) % 64];
    snprintf(buf + n, cap - n, "%s", after);
    return buf;
}

/* values.c looks for every "APA91b" in a string and checks the token around it */
static bool fcm_in(const char *s)
{
    size_t len = strlen(s);
    for (const char *p = s; (p = strstr(p, "APA91b")) != NULL;) {
        p += 6;
        if (pa_det_check_fcm_token((const unsigned char *)s, len, (size_t)(p - s)))
            return true;
    }
    return false;
}

START_TEST(test_fcm_token)
{
    char b[8][700];
    const char *const pos[] = {fcm(b[0], 700, "", "cXmqBtPyRcW", 134, ""),
                               fcm(b[1], 700, "token: ", "fMIvQE1gS3Ou8sHk_Tz-9a", 140, "."),
                               fcm(b[2], 700, "", "", 140, ""), fcm(b[3], 700, "\"", "", 100, "\"")};
    const char *const neg[] = {fcm(b[4], 700, "", "cXmqBtPyRcW", 99, ""), fcm(b[5], 700, "", "short", 134, ""),
                               fcm(b[6], 700, "x", "", 140, ""), fcm(b[7], 700, "", "cXmqBtPyRcW", 600, "")};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(fcm_in(pos[i]), "#%s# should hold an FCM token", pos[i]);
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!fcm_in(neg[i]), "#%s# must not hold an FCM token", neg[i]);
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
    static const char *const neg[] = {"000123456",  "666123456",   "900123456", "123004567",  "123450000", "12345678",
                                      "1234567890", "123-45-6789", "12345678x", "1 23456789", ""};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!ssn_bare(neg[i]), "#%s# must not be a bare SSN", neg[i]);
}
END_TEST

static bool natid(enum pa_natid kind, const char *s)
{
    return pa_det_check_natid_value(kind, (const unsigned char *)s, strlen(s));
}

struct natid_case {
    enum pa_natid kind;
    const char *value;
};

/* Whole values under a key that names the identifier (or typed as it): the canonical form (blanks, one separator
 * between letters or digits, case) and each identifier's check, the bare-digit ones included. */
START_TEST(test_natid_values)
{
    static const struct natid_case pos[] = {
        {PA_NATID_US_SSN, "123-45-6789"},
        {PA_NATID_US_SSN, " 078051123 "},
        {PA_NATID_US_ITIN, "911701234"},
        {PA_NATID_US_ITIN, "911 70 1234"},
        {PA_NATID_UK_NINO, "tw987654a"},
        {PA_NATID_UK_NINO, "hh 01 02 03 d"},
        {PA_NATID_UK_NINO, "AB-12-34-56-C"},
        {PA_NATID_CA_SIN, "130692544"},
        {PA_NATID_CA_SIN, "130 692 544"},
        {PA_NATID_CA_SIN, "347-677-452"},
        {PA_NATID_CA_SIN, "948584792"},
        {PA_NATID_FR_NIR, "184127645108946"},
        {PA_NATID_FR_NIR, "2 84 12 2a 451 089 80"},
        {PA_NATID_DE_STEUER_ID, "86095742719"},
        {PA_NATID_DE_STEUER_ID, "65320814478"},
        {PA_NATID_DE_STEUER_ID, "11234567890"},
        {PA_NATID_DE_STEUER_ID, "86 095 742 719"},
        {PA_NATID_ES_DNI, "12345678z"},
        {PA_NATID_ES_DNI, "1111111-G"},
        {PA_NATID_ES_DNI, "12.345.678-Z"},
        {PA_NATID_ES_NIE, "x9613851n"},
        {PA_NATID_ES_NIF, "55555555K"},
        {PA_NATID_ES_NIF, "Y8063915Z"},
        {PA_NATID_IT_CF, "rssmra85t10a562s"},
        {PA_NATID_IT_CF, "RSSMRA85T10A56NH"},
        {PA_NATID_NL_BSN, "123456782"},
        {PA_NATID_NL_BSN, "12345672"},
        {PA_NATID_NL_BSN, "1234.56.782"},
        {PA_NATID_BR_CPF, "12345678909"},
        {PA_NATID_BR_CPF, "529.982.247-25"},
        {PA_NATID_IN_AADHAAR, "312345678909"},
        {PA_NATID_IN_AADHAAR, "3998 7654 3211"},
        {PA_NATID_IN_PAN, "abcpd1234z"},
        {PA_NATID_AU_TFN, "876543210"},
        {PA_NATID_AU_TFN, "876 543 210"},
        {PA_NATID_AU_TFN, "37118629"},
        {PA_NATID_ANY, "123456782"},
        {PA_NATID_ANY, "RSSMRA85T10A562S"},
        {PA_NATID_ANY, "86095742719"},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(natid(pos[i].kind, pos[i].value), "#%s# should be an id of kind %d", pos[i].value, pos[i].kind);
    static const struct natid_case neg[] = {
        {PA_NATID_US_SSN, "900-12-3456"},
        {PA_NATID_US_ITIN, "911891234"},
        {PA_NATID_US_ITIN, "123456789"},
        {PA_NATID_UK_NINO, "qq123456c"},
        {PA_NATID_UK_NINO, "AB123456"},
        {PA_NATID_CA_SIN, "130692545"},
        {PA_NATID_CA_SIN, "046454286"},
        {PA_NATID_CA_SIN, "812345678"},
        {PA_NATID_CA_SIN, "1306925440"},
        {PA_NATID_CA_SIN, "130  692 544"},
        {PA_NATID_FR_NIR, "184127645108947"},
        {PA_NATID_FR_NIR, "1841276451089"},
        {PA_NATID_DE_STEUER_ID, "12345678903"},
        {PA_NATID_DE_STEUER_ID, "47061245304"},
        {PA_NATID_DE_STEUER_ID, "11134567891"},
        {PA_NATID_DE_STEUER_ID, "86095742718"},
        {PA_NATID_DE_STEUER_ID, "06095742719"},
        {PA_NATID_DE_STEUER_ID, "11112345678"},
        {PA_NATID_ES_DNI, "12345678A"},
        {PA_NATID_ES_DNI, "X9613851N"},
        {PA_NATID_ES_NIE, "W8063915Q"},
        {PA_NATID_ES_NIF, "12345678A"},
        {PA_NATID_IT_CF, "RSSMRA85T10A562T"},
        {PA_NATID_NL_BSN, "123456789"},
        {PA_NATID_NL_BSN, "000000000"},
        {PA_NATID_BR_CPF, "11111111111"},
        {PA_NATID_BR_CPF, "12345678908"},
        {PA_NATID_IN_AADHAAR, "123456789012"},
        {PA_NATID_IN_AADHAAR, "312345678908"},
        {PA_NATID_IN_PAN, "ABCXD1234Z"},
        {PA_NATID_AU_TFN, "824753557"},
        {PA_NATID_AU_TFN, "000000000"},
        {PA_NATID_OTHER, "123456782"},
        {PA_NATID_ANY, "12345"},
        {PA_NATID_ANY, "not an id"},
        {PA_NATID_ANY, "-123456782"},
        {PA_NATID_ANY, "1234567890123456789012345"},
        {PA_NATID_ANY, ""},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!natid(neg[i].kind, neg[i].value), "#%s# must not be an id of kind %d", neg[i].value,
                      neg[i].kind);
}
END_TEST

static bool devid(enum pa_devid kind, const char *s)
{
    return pa_det_check_device_id((const unsigned char *)s, strlen(s), kind);
}

START_TEST(test_device_id)
{
    char tok[2][300];
    static const char hex64[] = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad";
    fcm(tok[0], 300, "", "cXmqBtPyRcW", 134, "");
    fcm(tok[1], 300, "", "cXmqBtPyRcW", 60, "");
    ck_assert(devid(PA_DEVID_IDFA, "6D92078A-8246-4BA4-AE5B-76104861E7DC"));
    ck_assert(devid(PA_DEVID_IDFV, " 6d92078a-8246-4ba4-ae5b-76104861e7dc "));
    ck_assert(devid(PA_DEVID_GAID, "38400000-8cf0-11bd-b23e-10b96e40000d"));
    ck_assert(devid(PA_DEVID_APNS, hex64));
    ck_assert(devid(PA_DEVID_APNS, "<740f4707 bebcf74f 9b7c25d4 8e335894 5f6aa01d a5ddb387 462c7eaf 61bb78ad>"));
    ck_assert(devid(PA_DEVID_FCM, tok[0]));
    ck_assert(devid(PA_DEVID_ANY, tok[0]));
    ck_assert(devid(PA_DEVID_ANY, hex64));
    ck_assert(devid(PA_DEVID_ANY, "38400000-8cf0-11bd-b23e-10b96e40000d"));
    /* the zeroed IDFA/GAID is "limit ad tracking": no data */
    ck_assert(!devid(PA_DEVID_IDFA, "00000000-0000-0000-0000-000000000000"));
    ck_assert(!devid(PA_DEVID_GAID, "00000000-0000-0000-0000-000000000000"));
    ck_assert(!devid(PA_DEVID_ANY, "00000000-0000-0000-0000-000000000000"));
    ck_assert(!devid(PA_DEVID_IDFA, "6D92078A-8246-4BA4-AE5B-76104861E7D"));
    ck_assert(!devid(PA_DEVID_IDFA, "6D92078A-8246-4BA4-AE5B-76104861E7DG"));
    ck_assert(!devid(PA_DEVID_IDFA, "6D92078A82464BA4AE5B76104861E7DC"));
    ck_assert(!devid(PA_DEVID_APNS, "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78a"));
    ck_assert(!devid(PA_DEVID_APNS, "0000000000000000000000000000000000000000000000000000000000000000"));
    ck_assert(!devid(PA_DEVID_APNS, "<740f4707 bebcf74f 9b7c25d4 8e335894 5f6aa01d a5ddb387 462c7eaf 61bb78a>"));
    ck_assert(!devid(PA_DEVID_APNS, "<740f4707  ebcf74f 9b7c25d4 8e335894 5f6aa01d a5ddb387 462c7eaf 61bb78ad>"));
    ck_assert(!devid(PA_DEVID_FCM, tok[1]));
    ck_assert(!devid(PA_DEVID_FCM, hex64));
    ck_assert(!devid(PA_DEVID_GAID, tok[0]));
    ck_assert(!devid(PA_DEVID_ANY, "not a device id"));
    ck_assert(!devid(PA_DEVID_ANY, ""));
}
END_TEST

static bool issuer(const char *digits)
{
    return pa_det_card_issuer_ok((const unsigned char *)digits, strlen(digits));
}

START_TEST(test_card_issuer)
{
    /* prefix and length only (the Luhn digit does not matter here) */
    static const char *const pos[] = {
        "4111111111111",       "4111111111111111", "4111111111111111111", "5500000000000000",    "2221000000000000",
        "2720990000000000",    "340000000000000",  "370000000000000",     "6011000000000000",    "6440000000000000000",
        "6500000000000000",    "3528000000000000", "3589000000000000000", "30000000000000",      "36000000000000",
        "3800000000000000000", "6200000000000000", "5018000000000000",    "6759000000000000000", "5019000000000000"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(issuer(pos[i]), "%s should be a card issuer and length", pos[i]);
    static const char *const neg[] = {"41111111111111",   "41111111111111111",   "550000000000000",  "5600000000000000",
                                      "2220000000000000", "2721000000000000",    "34000000000000",   "3400000000000000",
                                      "6011000000000",    "3527000000000000",    "3590000000000000", "3060000000000000",
                                      "5018000000000",    "5019000000000000000", "1234567890123456", "9999999999999999",
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
    static const char *const pos[] = {"4111111111111111",
                                      "5555555555554444",
                                      "378282246310005",
                                      "6011111111111117",
                                      "4222222222222",
                                      "79927398713",
                                      "0",
                                      "18",
                                      "0000000000000000"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(luhn(pos[i]), "%s should pass Luhn", pos[i]);
    static const char *const neg[] = {
        "4111111111111112", "5555555555554445", "378282246310006", "79927398710", "79927398711", "1", "19",
        "4111111111111121"};
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
    static const char *const pos[] = {"4111111111111111",
                                      "4111 1111 1111 1111",
                                      "4111-1111-1111-1111",
                                      "3782 822463 10005",
                                      "card: 4012888888881881, exp",
                                      "1234 4111111111111111",
                                      "4012888888881881 4012-8888-8888-1881",
                                      "(6011111111111117)"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(card_sequence(pos[i]), "#%s# should hold a card number", pos[i]);
    static const char *const neg[] = {"4111111111111112",       "4012-8888-8888-1882", "41111111111111111111",
                                      "x4111111111111111",      "4111111111111111x",   "4111111111111111.00",
                                      "0.4111111111111111",     "4111 1111-1111 1111", "411111111111",
                                      "4111111111111111111111", "_4111111111111111"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!card_sequence(neg[i]), "#%s# must not hold a card number", neg[i]);
}
END_TEST

/* the maximal run of `chars` around the first byte of `first`, as values.c cuts a token around a match */
static bool token_check(bool (*check)(const unsigned char *, size_t, size_t, size_t), const char *s, const char *first,
                        const char *chars)
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
    static const char *const pos[] = {"192.168.0.1",  "my ip: 10.0.0.1", "(192.168.1.1)", "IP: 192.168.1.1.",
                                      "192.168.1.1,", "192.168.1.0/24",  "10.0.0.1:8080", "255.255.255.255",
                                      "0.0.0.0",      "192.168.2.1@eth0"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(token_check(pa_det_check_ipv4_token, pos[i], "0123456789", "0123456789."),
                      "#%s# should be an IPv4 address", pos[i]);
    static const char *const neg[] = {"1.2.3",          "10.0.19041.1",     "1.2.3.4.5",       "256.1.1.1",
                                      "192.168.1.256",  "192.168.01.1",     "v1.2.3.4",        "version 1.2.3.4",
                                      "build 10.0.0.1", "Chrome/120.0.0.0", "text192.168.1.1", "192.168.1.1text",
                                      ".1.2.3.4",       "1..2.3.4"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!token_check(pa_det_check_ipv4_token, neg[i], "0123456789", "0123456789."),
                      "#%s# must not be an IPv4 address", neg[i]);
}
END_TEST

START_TEST(test_ipv6_token)
{
    static const char *const hexc = "0123456789abcdefABCDEF:.";
    static const char *const pos[] = {"2001:db8::1",
                                      "fe80::1",
                                      "fe80::1%eth0",
                                      "::1",
                                      "::ffff:10.0.0.1",
                                      "[2001:db8::1]:8080",
                                      "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                                      "2001:db8::/32",
                                      "Server at 2400:c401::5054:ff:fe1b:b031.",
                                      "64:ff9b::192.0.2.1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(token_check(pa_det_check_ipv6_token, pos[i], ":", hexc), "#%s# should be an IPv6 address",
                      pos[i]);
    static const char *const neg[] = {"::",           "dead::beef",   "a::b",        "12:30:45",
                                      "2001::db8::1", "12345:db8::1", "fe80::1text", "1:2",
                                      "gggg:1234::1", "x2001:db8::1", "2001:db8::1_"};
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
    static const char *const pos[] = {"Jane",
                                      "jane@example.com",
                                      "+1 415 555 0132",
                                      "12 Main St",
                                      "x",
                                      "N/A 12",
                                      "abc123",
                                      "deadbeef",
                                      "d41d8cd98f00b204e9800998ecf8427",
                                      "$2b",
                                      "Maxwell",
                                      "sha256:zz"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        ck_assert_msg(carries(pos[i]), "#%s# should carry data", pos[i]);
    static const char *const neg[] = {"",
                                      "   ",
                                      "\t\n",
                                      "null",
                                      "NONE",
                                      "n/a",
                                      "N/A",
                                      "-",
                                      "--",
                                      "unknown",
                                      "[REDACTED]",
                                      "<redacted>",
                                      "masked",
                                      "anonymised",
                                      "deleted",
                                      "d41d8cd98f00b204e9800998ecf8427e",
                                      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                      "$2b$12$abcdefghijklmnopqrstuv",
                                      "$argon2id$v=19$m=65536",
                                      "j***@example.com",
                                      "****1234",
                                      "#### ####",
                                      "XXX-XX-1234",
                                      "xxxx",
                                      "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 4242"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        ck_assert_msg(!carries(neg[i]), "#%s# must not carry data", neg[i]);
}
END_TEST

/* Partly masked values: protected only when at least half of the identifying characters (letters and digits; an
 * email's local part) are masked. The boundary: as many masked as readable is protected, one more readable is data. */
START_TEST(test_partly_masked)
{
    static const char *const protected_[] = {"***-**-1234",
                                             "XXXX-XXXX-XXXX-1234",
                                             "4111 **** **** 1111",
                                             "4111-****-****-1111",
                                             "j***@exa***",
                                             "j***@gmail.com",
                                             "jo**@example.com",
                                             "xxx-xxx-0132",
                                             "+1 *** ***-0132",
                                             "***345",
                                             "XXX XX 123",
                                             "\xe2\x97\x8f\xe2\x97\x8f"
                                             "12",
                                             "6D92078A-XXXX-XXXX-XXXX-XXXXXXXXXXXX"};
    for (size_t i = 0; i < PA_ARRAY_LEN(protected_); i++)
        ck_assert_msg(!carries(protected_[i]), "#%s# is mostly masked: no data", protected_[i]);
    static const char *const data[] = {"+1 415 ***-0132",
                                       "4111 **** ***1 1111",
                                       "411111******1111",
                                       "john.smith***@example.com",
                                       "joh**@example.com",
                                       "***3456",
                                       "6D92078A-****-4D2C-9D2E-7D3F1A2B3C4D",
                                       "Jane D***",
                                       "a*b",
                                       "*1234",
                                       "XX 12 34",
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
    tcase_add_test(tc, test_us_itin);
    tcase_add_test(tc, test_uk_nino);
    tcase_add_test(tc, test_fr_nir);
    tcase_add_test(tc, test_es_dni);
    tcase_add_test(tc, test_es_nie);
    tcase_add_test(tc, test_it_cf);
    tcase_add_test(tc, test_br_cpf);
    tcase_add_test(tc, test_in_aadhaar);
    tcase_add_test(tc, test_in_pan);
    tcase_add_test(tc, test_fcm_token);
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
    tcase_add_test(tc, test_natid_values);
    tcase_add_test(tc, test_device_id);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(validators_suite());
}
