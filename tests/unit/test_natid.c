/* Unit tests for national identifiers and device-id formats through the detector (src/detect/values.c and the
 * walker): every rule by its name, written alone in text (the value rows), under the keys that name its identifier
 * (the bare forms, pa_det_scan_natid_value), under generic national_id keys, never under other keys or alone when
 * its shape is bare digits; look-alikes that must stay clean; partly masked values under dictionary keys; the
 * dictionary's national_id entries. Each rule has a test that fails when the rule is removed (docs/detection.md,
 * "National identifiers"). Test data only: public test numbers, no scanned value of a real surface.
 */
#include "detect.h"
#include "detect/hooks.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static struct pa_detector *g_det;
static struct pa_detect_ctx *g_ctx;

static void setup(void)
{
    char err[256];
    g_det = pa_detect_new(NULL, err, sizeof err);
    ck_assert_msg(g_det != NULL, "%s", err);
    g_ctx = pa_detect_ctx_new(g_det);
}

static void teardown(void)
{
    pa_detect_ctx_free(g_ctx);
    pa_detect_free(g_det);
}

/* ---- the rules a value gives, alone or under a key ------------------------------------------------------------ */

struct rules {
    char list[512]; /* ",rule,rule," */
    unsigned cats;
};

static void on_rule(void *arg, int cat, const char *rule)
{
    struct rules *r = arg;
    size_t n = strlen(r->list);
    snprintf(r->list + n, sizeof r->list - n, "%s%s,", n ? "" : ",", rule);
    if (cat >= 0 && cat < 32)
        r->cats |= 1u << cat;
}

/* The rules of value v alone (key NULL) or as the value of a member named key. */
static struct rules rules_of(const char *key, const char *v)
{
    struct rules r;
    memset(&r, 0, sizeof r);
    int rc = key ? pa_detect_value_under_key(g_ctx, key, strlen(key), v, strlen(v), on_rule, &r)
                 : pa_detect_value(g_ctx, v, strlen(v), on_rule, &r);
    ck_assert_int_ge(rc, 0);
    return r;
}

static bool has_rule(const struct rules *r, const char *rule)
{
    char needle[80];
    snprintf(needle, sizeof needle, ",%s,", rule);
    return strstr(r->list, needle) != NULL;
}

#define EXPECT_RULE(key_, v_, rule_)                                                                                   \
    do {                                                                                                               \
        struct rules r_ = rules_of((key_), (v_));                                                                      \
        ck_assert_msg(has_rule(&r_, (rule_)), "%s: #%s# should give %s (got %s)", (key_) ? (key_) : "(alone)", (v_),   \
                      (rule_), r_.list);                                                                               \
    } while (0)

#define EXPECT_NO_RULE(key_, v_, rule_)                                                                                \
    do {                                                                                                               \
        struct rules r_ = rules_of((key_), (v_));                                                                      \
        ck_assert_msg(!has_rule(&r_, (rule_)), "%s: #%s# must not give %s (got %s)", (key_) ? (key_) : "(alone)",      \
                      (v_), (rule_), r_.list);                                                                         \
    } while (0)

#define EXPECT_CLEAN(key_, v_)                                                                                         \
    do {                                                                                                               \
        struct rules r_ = rules_of((key_), (v_));                                                                      \
        ck_assert_msg(r_.cats == 0, "%s: #%s# must give nothing (got %s)", (key_) ? (key_) : "(alone)", (v_),          \
                      r_.list);                                                                                        \
    } while (0)

/* an FCM registration token: instance id, ':', "APA91b" and 134 base64url characters */
static const char *fcm_token(char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "cXmqBtPyRcW:APA91b");
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < 134 && n + 1 < cap; i++)
        buf[n++] = b64[(i * 11 + 5) % 64];
    buf[n] = '\0';
    return buf;
}

/* The shapes that name themselves are found alone, in text, by their rule. */
START_TEST(test_rows_alone)
{
    EXPECT_RULE(NULL, "ITIN 911-70-1234 on file", "us_itin");
    EXPECT_RULE(NULL, "NI number AB 12 34 56 C", "uk_nino");
    EXPECT_RULE(NULL, "AB123456C", "uk_nino");
    EXPECT_RULE(NULL, "NIR 1 84 12 76 451 089 46.", "fr_nir");
    EXPECT_RULE(NULL, "DNI 12345678Z", "es_dni");
    EXPECT_RULE(NULL, "NIE Y8063915-Z", "es_nie");
    EXPECT_RULE(NULL, "CF RSSMRA85T10A562S", "it_codice_fiscale");
    EXPECT_RULE(NULL, "CPF 123.456.789-09", "br_cpf");
    EXPECT_RULE(NULL, "Aadhaar 3123 4567 8909", "in_aadhaar");
    EXPECT_RULE(NULL, "PAN ABCPD1234Z", "in_pan");
    char tok[200];
    struct rules r = rules_of(NULL, fcm_token(tok, sizeof tok));
    ck_assert_msg(has_rule(&r, "fcm_registration_token") && (r.cats & (1u << PA_CAT_DEVICE_ID)), "%s", r.list);
    /* the category of every row is national_id */
    r = rules_of(NULL, "AB123456C");
    ck_assert_uint_eq(r.cats, 1u << PA_CAT_NATIONAL_ID);
}
END_TEST

/* Bare digits are never an identifier alone, nor under a key that names none. */
START_TEST(test_bare_digits_need_a_key)
{
    static const char *const bare[] = {"130692544",   "123456782",    "876543210",       "86095742719",
                                       "12345678909", "312345678909", "184127645108946", "911701234"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bare); i++) {
        EXPECT_CLEAN(NULL, bare[i]);
        EXPECT_CLEAN("order_id", bare[i]);
        EXPECT_CLEAN("sku", bare[i]);
    }
}
END_TEST

/* Under a key that names the identifier: its check on the whole value, any case, separators ignored. */
START_TEST(test_under_its_key)
{
    EXPECT_RULE("sin", "130692544", "ca_sin");
    EXPECT_RULE("social_insurance_number", "130 692 544", "ca_sin");
    EXPECT_RULE("bsn", "123456782", "nl_bsn");
    EXPECT_RULE("burgerservicenummer", "012345672", "nl_bsn");
    EXPECT_RULE("tfn", "876543210", "au_tfn");
    EXPECT_RULE("taxFileNumber", "876 543 210", "au_tfn");
    EXPECT_RULE("steuer_id", "86095742719", "de_steuer_id");
    EXPECT_RULE("steuerId", "86 095 742 719", "de_steuer_id");
    EXPECT_RULE("steueridentifikationsnummer", "65320814478", "de_steuer_id");
    EXPECT_RULE("cpf", "12345678909", "br_cpf");
    EXPECT_RULE("aadhaar", "312345678909", "in_aadhaar");
    EXPECT_RULE("itin", "911701234", "us_itin");
    EXPECT_RULE("nino", "tw987654a", "uk_nino");
    EXPECT_RULE("nif", "55555555k", "es_dni");
    EXPECT_RULE("nif", "Y8063915Z", "es_nie");
    EXPECT_RULE("dni", "1111111-G", "es_dni");
    EXPECT_RULE("nie", "x9613851n", "es_nie");
    EXPECT_RULE("codice_fiscale", "rssmra85t10a562s", "it_codice_fiscale");
    EXPECT_RULE("nir", "184127645108946", "fr_nir");
    EXPECT_RULE("permanent_account_number", "abcpd1234z", "in_pan");
    /* its check decides: a wrong check digit is no value finding (the key finding stays the key's) */
    EXPECT_NO_RULE("sin", "130692545", "ca_sin");
    EXPECT_NO_RULE("bsn", "123456789", "nl_bsn");
    EXPECT_NO_RULE("tfn", "824753557", "au_tfn");
    EXPECT_NO_RULE("cpf", "12345678908", "br_cpf");
    /* a key that names one identifier does not run the others' checks */
    EXPECT_NO_RULE("bsn", "876543210", "au_tfn");
    EXPECT_NO_RULE("tfn", "123456782", "nl_bsn");
    EXPECT_NO_RULE("cpf", "86095742719", "de_steuer_id");
}
END_TEST

/* A generic national_id key: every identifier's check may fire. */
START_TEST(test_under_generic_key)
{
    EXPECT_RULE("national_id", "123456782", "nl_bsn");
    EXPECT_RULE("tax_id", "86095742719", "de_steuer_id");
    EXPECT_RULE("taxId", "876543210", "au_tfn");
    EXPECT_RULE("tin", "12345678909", "br_cpf");
    EXPECT_RULE("national_identification_number", "rssmra85t10a562s", "it_codice_fiscale");
    EXPECT_RULE("social_security_number", "130692544", "ca_sin");
}
END_TEST

/* ssn_bare_under_id_key (a public rule name): nine digits with the SSN rules under the SSN's keys, generic keys and
 * the keys of documents without a format of their own (passports, licences), first, as before; a key that names
 * another identifier checks that one instead (an invalid TFN is no SSN because it passes the SSN's rules). */
/* The identifiers without a strong check are not read into a machine-made reference's value (confirmation numbers,
 * booking and order references, tracking and voucher codes: random codes of the same length), nor is a company's PAN
 * into any value; under a key that names the identifier, or in a free text, they are. */
START_TEST(test_codes)
{
    EXPECT_RULE(NULL, "46687946Q", "es_dni");
    EXPECT_RULE("note", "46687946Q", "es_dni");
    static const char *const codes[] = {"confirmation_number", "confirmationNumber", "booking_ref",    "order_code",
                                        "tracking_number",     "voucherCode",        "record_locator", "pnr",
                                        "reservation_no",      "ticket_id"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        EXPECT_CLEAN(codes[i], "46687946Q");             /* a DNI's shape and letter */
        EXPECT_CLEAN(codes[i], "Y8063915-Z");            /* a NIE's */
        EXPECT_CLEAN(codes[i], "ABCPD1234Z");            /* a PAN's */
        EXPECT_CLEAN(codes[i], "AB123456C");             /* a NINO's */
        EXPECT_RULE(codes[i], "911-70-1234", "us_itin"); /* the strong shapes stay */
    }
    /* not a reference: a person's document and number */
    EXPECT_RULE("document_number", "46687946Q", "es_dni");
    EXPECT_RULE("number", "46687946Q", "es_dni");
    EXPECT_RULE("dni", "46687946Q", "es_dni");
    /* a company's PAN: only under a key that names the PAN */
    EXPECT_CLEAN(NULL, "AAACT0000A");
    EXPECT_CLEAN("description", "issued to AAACC1234F");
    EXPECT_RULE("permanent_account_number", "AAACC1234F", "in_pan");
}
END_TEST

START_TEST(test_ssn_bare_kept)
{
    struct rules r = rules_of("ssn", "123456789");
    ck_assert_str_eq(r.list, ",ssn_bare_under_id_key,");
    r = rules_of("customer_ssn", "078051123");
    ck_assert_str_eq(r.list, ",ssn_bare_under_id_key,");
    r = rules_of("passport", "123456782");
    ck_assert_str_eq(r.list, ",ssn_bare_under_id_key,");
    r = rules_of("national_id", "123456782"); /* an SSN's shape, and a valid SIN, BSN and TFN: each may fire */
    ck_assert_str_eq(r.list, ",ssn_bare_under_id_key,ca_sin,nl_bsn,au_tfn,");
    r = rules_of("bsn", "123456782");
    ck_assert_str_eq(r.list, ",nl_bsn,");
    EXPECT_CLEAN("tfn", "824753557");
    EXPECT_CLEAN("sin", "130692545");
    EXPECT_CLEAN("ssn", "900123456");
    EXPECT_CLEAN("drivers_license", "D1234567");
}
END_TEST

/* Look-alikes: codes, SKUs, file names, versions, ids of the right length that fail the checks. */
START_TEST(test_lookalikes)
{
    static const char *const clean[] = {"SKU-12345678Z",
                                        "order/12345678Z",
                                        "AB123456C.png",
                                        "v1.2-AB123456C",
                                        "ABCPD1234Z-XL",
                                        "/orders/ABCPD1234Z",
                                        "AB123456E",
                                        "ZZ123456A",
                                        "12345678A",
                                        "X9613851Q",
                                        "RSSMRA85T10A562T",
                                        "123.456.789-08",
                                        "3123 4567 8908",
                                        "1 84 12 76 451 089 47",
                                        "911-89-1234",
                                        "ab123456c",
                                        "HX-1234-BLK-M",
                                        "2024-01-15T10:30:00Z",
                                        "Chrome/120.0.6099.109",
                                        "EAN 4006381333931",
                                        "TRACK 1Z999AA10123456784",
                                        "ref 00123456789012345678"};
    for (size_t i = 0; i < PA_ARRAY_LEN(clean); i++) {
        struct rules r = rules_of(NULL, clean[i]);
        ck_assert_msg(!(r.cats & (1u << PA_CAT_NATIONAL_ID)), "#%s# must not be a national id (got %s)", clean[i],
                      r.list);
    }
}
END_TEST

/* ---- documents -------------------------------------------------------------------------------------------------- */

#define MAXF 32

struct fset {
    char path[MAXF][128];
    char cat[MAXF][32];
    char rule[MAXF][64];
    size_t n;
};

static void collect(void *arg, const struct pa_finding *f)
{
    struct fset *s = arg;
    if (s->n < MAXF) {
        snprintf(s->path[s->n], sizeof s->path[0], "%s", f->path);
        snprintf(s->cat[s->n], sizeof s->cat[0], "%s", f->category);
        snprintf(s->rule[s->n], sizeof s->rule[0], "%s", f->rule);
    }
    s->n++;
}

static void run_json(const char *doc, struct fset *s)
{
    struct pa_doc_result res;
    memset(s, 0, sizeof *s);
    ck_assert_int_eq(pa_detect_doc(g_ctx, "public.t.c", PA_DOC_JSON, doc, strlen(doc), collect, s, &res), 0);
}

static const char *rule_at(const struct fset *s, const char *path, const char *cat)
{
    for (size_t i = 0; i < s->n && i < MAXF; i++)
        if (strcmp(s->path[i], path) == 0 && strcmp(s->cat[i], cat) == 0)
            return s->rule[i];
    return NULL;
}

START_TEST(test_documents)
{
    struct fset s;
    char doc[512], tok[200];
    snprintf(doc, sizeof doc,
             "{\"bsn\":123456782,\"customer\":{\"sin\":\"130 692 544\"},\"note\":\"NIR 1 84 12 76 451 089 46\","
             "\"sku\":\"AB123456E\",\"ref\":\"123456782\",\"push\":\"%s\"}",
             fcm_token(tok, sizeof tok));
    run_json(doc, &s);
    ck_assert_str_eq(rule_at(&s, "$.bsn", "national_id"), "key:bsn");
    ck_assert_str_eq(rule_at(&s, "$.customer.sin", "national_id"), "key:sin");
    ck_assert_str_eq(rule_at(&s, "$.note", "national_id"), "fr_nir");
    ck_assert_str_eq(rule_at(&s, "$.push", "device_id"), "fcm_registration_token");
    ck_assert_uint_eq(s.n, 4);
    /* the value rules of the identifiers with their own shapes, under keys that say nothing */
    run_json("{\"a\":\"DNI 12345678Z\",\"b\":[\"RSSMRA85T10A562S\",\"CPF 123.456.789-09\"],"
             "\"c\":{\"d\":\"ABCPD1234Z\"}}",
             &s);
    ck_assert_str_eq(rule_at(&s, "$.a", "national_id"), "es_dni");
    ck_assert_str_eq(rule_at(&s, "$.b[0]", "national_id"), "it_codice_fiscale");
    ck_assert_str_eq(rule_at(&s, "$.b[1]", "national_id"), "br_cpf");
    ck_assert_str_eq(rule_at(&s, "$.c.d", "national_id"), "in_pan");
    ck_assert_uint_eq(s.n, 4);
}
END_TEST

/* Partly masked values under dictionary keys: most of it readable is data, mostly masked is protected. */
START_TEST(test_partly_masked_keys)
{
    struct fset s;
    run_json("{\"phone\":\"+1 415 ***-0132\",\"idfa\":\"6D92078A-****-4D2C-9D2E-7D3F1A2B3C4D\","
             "\"email\":\"john.smith***@example.com\"}",
             &s);
    ck_assert_ptr_nonnull(rule_at(&s, "$.phone", "phone"));
    ck_assert_ptr_nonnull(rule_at(&s, "$.idfa", "device_id"));
    ck_assert_ptr_nonnull(rule_at(&s, "$.email", "email"));
    ck_assert_uint_eq(s.n, 3);
    run_json("{\"ssn\":\"***-**-1234\",\"card_number\":\"XXXX-XXXX-XXXX-1234\",\"cc_number\":\"4111 **** **** 1111\","
             "\"email\":\"j***@example.com\",\"mobile\":\"+1 *** ***-0132\"}",
             &s);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* The dictionary's national_id entries for the identifiers (each with its identifier: the tests above) */
START_TEST(test_dictionary)
{
    static const char *const keys[] = {"steuerId",
                                       "steuer_id",
                                       "Steueridentifikationsnummer",
                                       "codiceFiscale",
                                       "fiscal_code",
                                       "burgerservicenummer",
                                       "sofinummer",
                                       "cpfNumber",
                                       "aadhar",
                                       "aadharNumber",
                                       "permanent_account_number",
                                       "tfn",
                                       "taxFileNumber",
                                       "tax_file_no",
                                       "nir",
                                       "numero_securite_sociale",
                                       "ni_number",
                                       "national_insurance_no",
                                       "social_insurance_no",
                                       "individual_taxpayer_identification_number",
                                       "customer_tfn"};
    for (size_t i = 0; i < PA_ARRAY_LEN(keys); i++)
        ck_assert_msg(pa_detect_key_category(g_det, keys[i], strlen(keys[i]), NULL) == PA_CAT_NATIONAL_ID,
                      "%s should be a national_id key", keys[i]);
}
END_TEST

/* With national_id disabled nothing of it is found, by key or by value. */
START_TEST(test_disabled)
{
    char nat[] = "national_id";
    char *dis[] = {nat};
    struct pa_detect_options opt = {.disable = dis, .n_disable = 1};
    char err[256];
    struct pa_detector *d = pa_detect_new(&opt, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct rules r;
    memset(&r, 0, sizeof r);
    ck_assert_int_ge(pa_detect_value_under_key(c, "bsn", 3, "123456782", 9, on_rule, &r), 0);
    ck_assert_int_ge(pa_detect_value(c, "AB123456C", 9, on_rule, &r), 0);
    ck_assert_uint_eq(r.cats, 0);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
}
END_TEST

static Suite *natid_suite(void)
{
    Suite *s = suite_create("natid");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rows_alone);
    tcase_add_test(tc, test_bare_digits_need_a_key);
    tcase_add_test(tc, test_under_its_key);
    tcase_add_test(tc, test_under_generic_key);
    tcase_add_test(tc, test_ssn_bare_kept);
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_lookalikes);
    tcase_add_test(tc, test_documents);
    tcase_add_test(tc, test_partly_masked_keys);
    tcase_add_test(tc, test_dictionary);
    tcase_add_test(tc, test_disabled);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(natid_suite());
}
