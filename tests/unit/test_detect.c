/* Unit tests for detect: key normalization and dictionary, every value detector with positives and tempting
 * negatives, document walking (paths, pending container keys, PII-as-key redaction, lat/lng pairs), options
 * (ignore_keys, disable, extra_keys, allow_paths, patterns, max_findings_per_record), text documents, escapes.
 * No test prints a scanned value; assertions on PII-as-key check that no path or rule contains the planted value. */
#include "detect.h"
#include "jsonwalk.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- fixtures ------------------------------------------------------------------------------------------------ */

static struct pa_detector *g_det;
static struct pa_detect_ctx *g_ctx;

#define MAXF 64

struct fnd {
    char path[256];
    char cat[40];
    char rule[64];
    enum pa_detector_kind det;
};

struct fset {
    struct fnd f[MAXF];
    size_t n;
    struct pa_doc_result res;
    int rc;
};

static void collect(void *arg, const struct pa_finding *f)
{
    struct fset *s = arg;
    ck_assert_uint_eq(strlen(f->path), f->path_len);
    ck_assert_ptr_nonnull(f->category);
    ck_assert_ptr_nonnull(f->rule);
    if (s->n < MAXF) {
        snprintf(s->f[s->n].path, sizeof s->f[s->n].path, "%s", f->path);
        snprintf(s->f[s->n].cat, sizeof s->f[s->n].cat, "%s", f->category);
        snprintf(s->f[s->n].rule, sizeof s->f[s->n].rule, "%s", f->rule);
        s->f[s->n].det = f->detector;
    }
    s->n++;
}

static void run_with(struct pa_detect_ctx *c, const char *surface, enum pa_doc_kind kind, const char *doc, size_t len,
                     struct fset *s)
{
    memset(s, 0, sizeof *s);
    s->rc = pa_detect_doc(c, surface, kind, doc, len, collect, s, &s->res);
    ck_assert_int_eq(s->rc, 0);
    ck_assert_uint_eq(s->res.findings, s->n);
}

static void run_json(const char *doc, struct fset *s)
{
    run_with(g_ctx, "public.t.c", PA_DOC_JSON, doc, strlen(doc), s);
}

static void run_text(const char *doc, struct fset *s)
{
    run_with(g_ctx, "public.t.c", PA_DOC_TEXT, doc, strlen(doc), s);
}

static const struct fnd *find(const struct fset *s, const char *path, const char *cat)
{
    for (size_t i = 0; i < s->n && i < MAXF; i++)
        if (strcmp(s->f[i].path, path) == 0 && strcmp(s->f[i].cat, cat) == 0)
            return &s->f[i];
    return NULL;
}

static bool has_cat(const struct fset *s, const char *cat)
{
    for (size_t i = 0; i < s->n && i < MAXF; i++)
        if (strcmp(s->f[i].cat, cat) == 0)
            return true;
    return false;
}

/* The planted value must appear in no path and no rule. */
static void assert_not_leaked(const struct fset *s, const char *planted)
{
    for (size_t i = 0; i < s->n && i < MAXF; i++) {
        ck_assert_msg(strstr(s->f[i].path, planted) == NULL, "path %zu leaks the planted value", i);
        ck_assert_msg(strstr(s->f[i].rule, planted) == NULL, "rule %zu leaks the planted value", i);
    }
}

#define EXPECT(s, path, cat, kind)                                                                                     \
    do {                                                                                                               \
        const struct fnd *f_ = find((s), (path), (cat));                                                               \
        ck_assert_msg(f_ != NULL, "expected %s at %s", (cat), (path));                                                 \
        ck_assert_int_eq(f_->det, (kind));                                                                             \
    } while (0)

/* Value detection over one string: bitmask of categories (built-ins only). */
struct vres {
    unsigned mask;
    char rules[8][48];
    size_t nrules;
};

static void vcollect(void *arg, int cat, const char *rule)
{
    struct vres *v = arg;
    ck_assert_int_ge(cat, 0);
    if (cat < 32)
        v->mask |= 1u << cat;
    if (v->nrules < 8)
        snprintf(v->rules[v->nrules++], sizeof v->rules[0], "%s", rule);
}

static unsigned vmask_len(const char *s, size_t len)
{
    struct vres v = {0};
    int n = pa_detect_value(g_ctx, s, len, vcollect, &v);
    ck_assert_int_ge(n, 0);
    ck_assert_int_eq(n, __builtin_popcount(v.mask));
    return v.mask;
}

static unsigned vmask(const char *s)
{
    return vmask_len(s, strlen(s));
}

#define BIT(c) (1u << (c))

static void expect_value(const char *s, int cat)
{
    unsigned m = vmask(s);
    ck_assert_msg(m & BIT(cat), "value #%s# should be %s", s, pa_category_name(cat));
}

static void expect_not_value(const char *s, int cat)
{
    unsigned m = vmask(s);
    ck_assert_msg(!(m & BIT(cat)), "value #%s# must not be %s", s, pa_category_name(cat));
}

static void expect_nothing(const char *s)
{
    unsigned m = vmask(s);
    ck_assert_msg(m == 0, "value #%s# must not match anything (mask %x)", s, m);
}

static int keycat(const char *k)
{
    return pa_detect_key_category(g_det, k, strlen(k), NULL);
}

static void expect_key(const char *k, int cat)
{
    ck_assert_msg(keycat(k) == cat, "key %s: expected %s, got %d", k, cat >= 0 ? pa_category_name(cat) : "none",
                  keycat(k));
}

static struct pa_detector *make(const struct pa_detect_options *o)
{
    char err[256] = "";
    struct pa_detector *d = pa_detect_new(o, err, sizeof err);
    ck_assert_msg(d != NULL, "pa_detect_new: %s", err);
    return d;
}

/* ---- names and normalization ----------------------------------------------------------------------------------- */

START_TEST(test_category_names)
{
    static const char *names[] = {"email",          "phone",         "national_id", "person_name", "ip_address",
                                  "street_address", "date_of_birth", "credit_card", "iban",        "geolocation",
                                  "device_id",      "mac_address",   "postal_code"};
    ck_assert_int_eq(PA_ARRAY_LEN(names), PA_CAT_BUILTIN_COUNT);
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++) {
        ck_assert_str_eq(pa_category_name(i), names[i]);
        ck_assert_int_eq(pa_category_from_name(names[i]), i);
        ck_assert_str_eq(pa_detect_category_name(g_det, i), names[i]);
    }
    ck_assert_ptr_null(pa_category_name(-1));
    ck_assert_ptr_null(pa_category_name(PA_CAT_BUILTIN_COUNT));
    ck_assert_int_eq(pa_category_from_name("nope"), -1);
    ck_assert_int_eq(pa_category_from_name(NULL), -1);
    ck_assert_ptr_null(pa_detect_category_name(g_det, PA_CAT_BUILTIN_COUNT));
}
END_TEST

static void norm_is(const char *key, const char *want)
{
    char out[300];
    size_t n = pa_detect_normalize_key(key, strlen(key), out, sizeof out);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_msg(strcmp(out, want) == 0, "normalize(%s) = '%s', want '%s'", key, out, want);
}

START_TEST(test_normalize)
{
    norm_is("emailAddress", "email address");
    norm_is("email-address", "email address");
    norm_is("E_Mail_Address", "e mail address");
    norm_is("EMAIL_ADDRESS", "email address");
    norm_is("IPAddress", "ip address");
    norm_is("clientIP", "client ip");
    norm_is("SSN", "ssn");
    norm_is("addressLine1", "address line 1");
    norm_is("address_line1", "address line 1");
    norm_is("address line 1", "address line 1");
    norm_is("IPv4", "ipv 4");
    norm_is("clientIPs", "client ips");
    norm_is("HTTPServerURL", "http server url");
    norm_is("first.name", "first name");
    norm_is("__x__", "x");
    norm_is("", "");
    norm_is("--__--", "");
    norm_is("v2Api", "v 2 api");
    norm_is("Straße", "straße"); /* UTF-8 bytes are letters: kept, not split */
    /* truncation keeps the output NUL-terminated */
    char small[6];
    size_t n = pa_detect_normalize_key("emailAddress", 12, small, sizeof small);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(small, "email");
    ck_assert_uint_eq(pa_detect_normalize_key("x", 1, small, 0), 0);
    /* a very long key: only its trailing tokens matter */
    char longkey[2000];
    memset(longkey, 'a', sizeof longkey);
    memcpy(longkey + sizeof longkey - 12, "_email_addr", 11);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(keycat(longkey), PA_CAT_EMAIL);
}
END_TEST

/* ---- dictionary ------------------------------------------------------------------------------------------------- */

START_TEST(test_dictionary)
{
    size_t n = 0;
    const struct pa_dict_entry *e = pa_detect_default_dictionary(&n);
    ck_assert_uint_ge(n, 150);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(e[i].words);
        ck_assert_int_ge(e[i].category, 0);
        ck_assert_int_lt(e[i].category, PA_CAT_BUILTIN_COUNT);
        /* a word form: lower-case words and digit runs separated by single '_', as the tokenizer writes them */
        char norm[128];
        pa_detect_normalize_key(e[i].words, strlen(e[i].words), norm, sizeof norm);
        for (char *p = norm; *p; p++)
            *p = *p == ' ' ? '_' : *p;
        ck_assert_msg(strcmp(norm, e[i].words) == 0, "entry %s is not a word form (%s)", e[i].words, norm);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(e[i].words, e[j].words) != 0, "duplicate entry %s", e[i].words);
        /* every entry, written as a key, maps to its category */
        const char *rule = NULL;
        ck_assert_int_eq(pa_detect_key_category(g_det, e[i].words, strlen(e[i].words), &rule), e[i].category);
        ck_assert_ptr_nonnull(rule);
        ck_assert(strncmp(rule, "key:", 4) == 0);
    }
    /* the seed's 13-key blocklist */
    static const struct {
        const char *key;
        int cat;
    } seed[] = {{"email", PA_CAT_EMAIL},
                {"email_address", PA_CAT_EMAIL},
                {"phone", PA_CAT_PHONE},
                {"phone_number", PA_CAT_PHONE},
                {"ssn", PA_CAT_NATIONAL_ID},
                {"social_security_number", PA_CAT_NATIONAL_ID},
                {"first_name", PA_CAT_PERSON_NAME},
                {"last_name", PA_CAT_PERSON_NAME},
                {"full_name", PA_CAT_PERSON_NAME},
                {"ip_address", PA_CAT_IP_ADDRESS},
                {"ip", PA_CAT_IP_ADDRESS},
                {"address", PA_CAT_STREET_ADDRESS},
                {"street_address", PA_CAT_STREET_ADDRESS}};
    for (size_t i = 0; i < PA_ARRAY_LEN(seed); i++)
        expect_key(seed[i].key, seed[i].cat);
    const char *rule = NULL;
    ck_assert_int_eq(pa_detect_key_category(g_det, "emailAddress", 12, &rule), PA_CAT_EMAIL);
    ck_assert_str_eq(rule, "key:email_address");
    ck_assert_int_eq(pa_detect_key_category(g_det, "billing_email", 13, &rule), PA_CAT_EMAIL);
    ck_assert_str_eq(rule, "key:email");
}
END_TEST

START_TEST(test_key_variants)
{
    /* spellings */
    static const char *emails[] = {"email",         "Email",          "EMAIL",         "emailAddress",
                                   "email-address", "E_Mail_Address", "EMAIL_ADDRESS", "e-mail",
                                   "billing_email", "customerEmail",  "emails",        "user.email",
                                   "contact email", "email_addr",     "mail_address",  "EmailAddresses"};
    for (size_t i = 0; i < PA_ARRAY_LEN(emails); i++)
        expect_key(emails[i], PA_CAT_EMAIL);
    expect_key("phoneNumber", PA_CAT_PHONE);
    expect_key("PHONE_NO", PA_CAT_PHONE);
    expect_key("mobile-number", PA_CAT_PHONE);
    expect_key("cellPhone", PA_CAT_PHONE);
    expect_key("tel", PA_CAT_PHONE);
    expect_key("homeTel", PA_CAT_PHONE);
    expect_key("fax", PA_CAT_PHONE);
    expect_key("msisdn", PA_CAT_PHONE);
    expect_key("phone2", PA_CAT_PHONE);
    expect_key("phones", PA_CAT_PHONE);
    expect_key("customer_ssn", PA_CAT_NATIONAL_ID);
    expect_key("SocialSecurityNumber", PA_CAT_NATIONAL_ID);
    expect_key("passportNumber", PA_CAT_NATIONAL_ID);
    expect_key("drivers_license", PA_CAT_NATIONAL_ID);
    expect_key("driverLicenseNumber", PA_CAT_NATIONAL_ID);
    expect_key("taxId", PA_CAT_NATIONAL_ID);
    expect_key("TIN", PA_CAT_NATIONAL_ID);
    expect_key("nino", PA_CAT_NATIONAL_ID);
    expect_key("sin", PA_CAT_NATIONAL_ID);
    expect_key("firstName", PA_CAT_PERSON_NAME);
    expect_key("customer_first_name", PA_CAT_PERSON_NAME);
    expect_key("LAST_NAME", PA_CAT_PERSON_NAME);
    expect_key("surname", PA_CAT_PERSON_NAME);
    expect_key("cardholderName", PA_CAT_PERSON_NAME);
    expect_key("account_holder_name", PA_CAT_PERSON_NAME);
    expect_key("lname", PA_CAT_PERSON_NAME);
    expect_key("IPAddress", PA_CAT_IP_ADDRESS);
    expect_key("clientIP", PA_CAT_IP_ADDRESS);
    expect_key("client_ip", PA_CAT_IP_ADDRESS);
    expect_key("remoteAddr", PA_CAT_IP_ADDRESS);
    expect_key("X-Forwarded-For", PA_CAT_IP_ADDRESS);
    expect_key("ipv6", PA_CAT_IP_ADDRESS);
    expect_key("IPv4", PA_CAT_IP_ADDRESS);
    expect_key("last_login_ip", PA_CAT_IP_ADDRESS);
    expect_key("clientIPs", PA_CAT_IP_ADDRESS);
    expect_key("shipping_address", PA_CAT_STREET_ADDRESS);
    expect_key("addressLine1", PA_CAT_STREET_ADDRESS);
    expect_key("address_line1", PA_CAT_STREET_ADDRESS);
    expect_key("address_line_2", PA_CAT_STREET_ADDRESS);
    expect_key("address2", PA_CAT_STREET_ADDRESS);
    expect_key("serviceAddress", PA_CAT_STREET_ADDRESS);
    expect_key("street", PA_CAT_STREET_ADDRESS);
    expect_key("addresses", PA_CAT_STREET_ADDRESS);
    expect_key("dob", PA_CAT_DATE_OF_BIRTH);
    expect_key("DateOfBirth", PA_CAT_DATE_OF_BIRTH);
    expect_key("birth_date", PA_CAT_DATE_OF_BIRTH);
    expect_key("birthday", PA_CAT_DATE_OF_BIRTH);
    expect_key("creditCardNumber", PA_CAT_CREDIT_CARD);
    expect_key("card_number", PA_CAT_CREDIT_CARD);
    expect_key("ccNumber", PA_CAT_CREDIT_CARD);
    expect_key("pan", PA_CAT_CREDIT_CARD);
    expect_key("IBAN", PA_CAT_IBAN);
    expect_key("bankAccountNumber", PA_CAT_IBAN);
    expect_key("payout_iban", PA_CAT_IBAN);
    expect_key("coordinates", PA_CAT_GEOLOCATION);
    expect_key("geo_location", PA_CAT_GEOLOCATION);
    expect_key("idfa", PA_CAT_DEVICE_ID);
    expect_key("advertisingId", PA_CAT_DEVICE_ID);
    expect_key("gaid", PA_CAT_DEVICE_ID);
    expect_key("macAddress", PA_CAT_MAC_ADDRESS);
    expect_key("mac_address", PA_CAT_MAC_ADDRESS);
    expect_key("zip", PA_CAT_POSTAL_CODE);
    expect_key("zipCode", PA_CAT_POSTAL_CODE);
    expect_key("postal_code", PA_CAT_POSTAL_CODE);
    expect_key("billing_postcode", PA_CAT_POSTAL_CODE);
    /* an entry of several words also matches them run together as one word (its alias) */
    static const struct {
        const char *key;
        int cat;
    } alias[] = {{"firstname", PA_CAT_PERSON_NAME},
                 {"FIRSTNAME", PA_CAT_PERSON_NAME},
                 {"customer_firstname", PA_CAT_PERSON_NAME},
                 {"Lastname", PA_CAT_PERSON_NAME},
                 {"emailaddress", PA_CAT_EMAIL},
                 {"phonenumber", PA_CAT_PHONE},
                 {"zipcode", PA_CAT_POSTAL_CODE},
                 {"postalcode", PA_CAT_POSTAL_CODE},
                 {"ipaddress", PA_CAT_IP_ADDRESS},
                 {"dateofbirth", PA_CAT_DATE_OF_BIRTH},
                 {"birthdate", PA_CAT_DATE_OF_BIRTH},
                 {"BirthDate", PA_CAT_DATE_OF_BIRTH},
                 {"cellphone", PA_CAT_PHONE},
                 {"geolocation", PA_CAT_GEOLOCATION},
                 {"postcode", PA_CAT_POSTAL_CODE},
                 {"addressline1", PA_CAT_STREET_ADDRESS},
                 {"card_holder_name", PA_CAT_PERSON_NAME},
                 {"cardholdername", PA_CAT_PERSON_NAME},
                 {"e-mail", PA_CAT_EMAIL},
                 {"E_MAIL", PA_CAT_EMAIL}};
    for (size_t i = 0; i < PA_ARRAY_LEN(alias); i++)
        expect_key(alias[i].key, alias[i].cat);
    const char *rule = NULL;
    ck_assert_int_eq(pa_detect_key_category(g_det, "firstname", 9, &rule), PA_CAT_PERSON_NAME);
    ck_assert_str_eq(rule, "key:first_name"); /* an alias reports its entry's rule */
    /* the longest trailing match wins */
    expect_key("billing_email_address", PA_CAT_EMAIL);
    expect_key("device_mac_address", PA_CAT_MAC_ADDRESS);
    expect_key("user_ip_address", PA_CAT_IP_ADDRESS);
}
END_TEST

START_TEST(test_key_negatives)
{
    /* whole tokens only, never substrings */
    static const char *none[] = {"email_verified", "emailVerified", "username", "user_name", "timezone", "gzip_size",
                                 "compass", "passport_expiry", "password", "pass", "name", "first", "addressId",
                                 "shipping_address_id", "ip_country", "zip_file", "skip", "tooltip", "hotel",
                                 "phone_verified", "phoneCountryCode", "email_count", "is_mobile_app", "angle_sin",
                                 "camera_pan", "wallet_address", "serverAddress", "bind_address", "web_address",
                                 "display_name", "company", "id", "", "___", "mail", "cell", "mac", "lat", "lng",
                                 "location", "latitude", "shipment", "notes", "version", "status", "gps",
                                 /* word for word: separate words never make a one-word entry, a word split
                                  * inside never matches */
                                 "ad_id", "adId", "AdID", "ad-id", "ad_ids", "campaign_ad_id", "ema_il", "fir_stname",
                                 "zip_co_de", "I_BAN", "pass_port", "ss_n", "e_mail_verified"};
    for (size_t i = 0; i < PA_ARRAY_LEN(none); i++)
        expect_key(none[i], -1);
}
END_TEST

/* ---- value detectors --------------------------------------------------------------------------------------------- */

START_TEST(test_value_email)
{
    static const char *pos[] = {"john.doe@example.com",
                                "mail me at john.doe@example.com.",
                                "A.B+tag@sub.example.co.uk",
                                "o'brien@example.ie",
                                "x@example.museum",
                                "user@xn--80ak6aa92e.com",
                                "a@xn--d1acufc.xn--p1ai",
                                "mailto:joe@example.org",
                                "<joe@example.org>",
                                "https://example.com/?email=joe@example.com",
                                "first@example.org, second@example.org",
                                "line1\nreach: ops-team@corp.example.net\n",
                                "placid:joe@example.com"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_EMAIL);
    static const char *neg[] = {
        "image@2x.png", "icon@3x.webp", "logo@2x.jpg", "bundle@1.2.min.js", "styles@v2.css", "data@latest.json",
        "pkg@1.2.3", "@types/node", "user@localhost", "a@b.c", "http://user:pass@example.org/hi",
        "https://test:secret@example.org", "git@github.com:org/repo.git", "j***@example.com", "j***@exa***",
        "not an email", "foo@bar", "@example.com", "foo@.com", "foo@-bar.com", "foo..bar@example.com", "foo@bar..com",
        "foo@123.456", "this is not an email: hello-world here",
        /* content-ID and message-ID URIs name a MIME part or a message */
        "cid:part1.06090408.01060107@example.com", "<img src=\"cid:logo.F00D@mail.example.com\">",
        "CID:abc@example.org", "mid:960830.1639@XIson.com"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_EMAIL);
}
END_TEST

START_TEST(test_value_phone)
{
    static const char *pos[] = {
        "+1 415 555 0132",   "+14155550132",           "+44 20 7123 4567", "+44 (20) 7123 4567", "+1 (415) 555-0132",
        "+55 11 98456 5666", "+33 1 42 68 53 00",      "+49.30.1234567",   "(415) 555-0132",     "(415)555-0132",
        "415-555-0132",      "415.555.0132",           "415 555 0132",     "090-1234-5678",      "020 7123 4567",
        "1-800-555-0199",    "call me: 415-555-0132!", "0 532 123 45 67",  "01 42 68 53 00",     "0216 123 45 67",
        "532 123 45 67",     "+123456789012345"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_PHONE);
    static const char *neg[] = {"5555555555",
                                "4155550132",
                                "+123456",
                                "+1234567",
                                "+1234567890123456",
                                "2024-01-15",
                                "2024-01-15 10:30:00",
                                "15.01.2024",
                                "10:30:45",
                                "192.168.10.20",
                                "1.2.3.4",
                                "10.0.19041.1",
                                "1.2.3",
                                "1234.56",
                                "+1234.56",
                                "+12345678.90",
                                "1,234,567.89",
                                "1 234 567",
                                "UTC+08:00",
                                "+05:30",
                                "1+1=2",
                                "1234-5678-9012",
                                "ABC-415-555-0132",
                                "SKU-415-555-0132",
                                "415-555-01325",
                                "12415-555-0132",
                                "ISBN 978-3-16-148410-0",
                                "2024-0115-1234",
                                "+2024-01-15",
                                "123-45-6789",
                                "4111 1111 1111 1111",
                                "415 555 0132 4444 2222"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_PHONE);
}
END_TEST

START_TEST(test_value_ssn)
{
    static const char *pos[] = {"123-45-6789",       "078-05-1123",         "123 45 6789",
                                "ssn: 123-45-6789.", "abc 078 05 1123 abc", "(665-12-3456)"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_NATIONAL_ID);
    static const char *neg[] = {"000-12-3456",  "666-12-3456",  "900-12-3456",   "999-12-3456",   "123-00-4567",
                                "123-45-0000",  "123456789",    "078051121",     "123-45 6789",   "123 45-6789",
                                "1123-45-6789", "123-45-67890", "1-123-45-6789", "123-45-6789-1", "x123-45-6789",
                                "123-45-6789x", "2024-01-15",   "555-555-5555"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_NATIONAL_ID);
}
END_TEST

START_TEST(test_value_credit_card)
{
    static const char *pos[] = {"4111111111111111",
                                "4111 1111 1111 1111",
                                "4111-1111-1111-1111",
                                "5555555555554444",
                                "2223000048400011",
                                "378282246310005",
                                "3782 822463 10005",
                                "6011111111111117",
                                "6011000400000000",
                                "3530111333300000",
                                "30569309025904",
                                "36227206271667",
                                "6200000000000005",
                                "4222222222222",
                                "6759649826438453",
                                "card: 4012888888881881, exp 12/29",
                                "4012888888881881 4012-8888-8888-1881",
                                "1234 4111111111111111"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_CREDIT_CARD);
    static const char *neg[] = {"4111111111111112",     "4012-8888-8888-1882",   "0242424242424242",
                                "1700000000000",        "1700000000000000",      "55555555-5555-5555-5555-555555555555",
                                "41111111111111111111", "x4111111111111111",     "4111111111111111x",
                                "4111111111111111.00",  "0.4111111111111111",    "4111 1111-1111 1111",
                                "411111111111",         "122000000000003",       "9999999999999995",
                                "1Z999AA10123456784",   "4111111111111111111111"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_CREDIT_CARD);
}
END_TEST

START_TEST(test_value_iban)
{
    static const char *pos[] = {"DE89370400440532013000",
                                "DE89 3704 0044 0532 0130 00",
                                "GB29NWBK60161331926819",
                                "GB29 NWBK 6016 1331 9268 19",
                                "FR1420041010050500013M02606",
                                "NL91ABNA0417164300",
                                "NO9386011117947",
                                "MT84MALT011000012345MTLCAST001S",
                                "AL47-2121-1009-0000-0002-3569-8741",
                                "iban: CH9300762011623852957.",
                                "VG96 VPVG 0000 0123 4567 8901 X in a sentence"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_IBAN);
    static const char *neg[] = {"DE89370400440532013001",
                                "DE89 3704 0044 0532 0130 0",
                                "DE8937040044053201300",
                                "DE893704004405320130001",
                                "de89370400440532013000",
                                "XX89370400440532013000",
                                "AM47212110090000000235698740",
                                "xDE89370400440532013000",
                                "DE89370400440532013000x",
                                "DE89/3704/0044/0532/0130/00",
                                "GB29 NWBK 6016 1331 9268 1",
                                "AB12 3456",
                                "ISO1 2345"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_IBAN);
}
END_TEST

START_TEST(test_value_ip)
{
    static const char *pos[] = {"192.168.0.1",
                                "my ip: 10.0.0.1",
                                "(192.168.1.1)",
                                "IP: 192.168.1.1.",
                                "192.168.1.1,",
                                "192.168.1.0/24",
                                "10.0.0.1:8080",
                                "255.255.255.255",
                                "Client 10.0.0.1",
                                "from 10.0.0.1",
                                "Host 10.0.0.1",
                                "connected to 10.0.0.1",
                                "0.0.0.0",
                                "ip-10-0-0-1 10.0.0.1",
                                "Broadcast 255.255.255.255",
                                "192.168.2.1@eth0",
                                "2001:db8::1",
                                "fe80::1",
                                "fe80::1%eth0",
                                "::1",
                                "::ffff:10.0.0.1",
                                "[2001:db8::1]:8080",
                                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                                "2001:db8::/32",
                                "Server IP: 2400:c401::5054:ff:fe1b:b031.",
                                "64:ff9b::192.0.2.1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_IP_ADDRESS);
    static const char *neg[] = {
        "1.2.3", "10.0.19041.1", "1.2.3.4.5", "192.168.1.1.1", "256.1.1.1", "192.168.1.256", "300.168.1.1",
        "192.168.01.1", "v1.2.3.4", "version 1.2.3.4", "build 10.0.0.1", "Chrome/120.0.0.0", "text192.168.1.1",
        "IP192.168.1.1text", ".1.2.3.4", "::", "Use local ipv6 ::", "std::vector", "MyClass::toString", "a::b",
        "12:30:45", "Time 12:34:56", "Ratio 1:2:3:4", "Port 80:443", ":::", "2001::db8::1", "gggg:hhhh::1234",
        "12345:db8::1", "fe80::1text", "text2001:db8::1", "aa:bb:cc:dd:ee:ff", "2024-01-15T10:30:00Z", "192.168.0",
        /* a name's version glued to it */
        "shopify-1.2.3.4", "agent-10.0.0.1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_IP_ADDRESS);
}
END_TEST

START_TEST(test_value_mac)
{
    static const char *pos[] = {"00:1A:2B:3C:4D:5E",       "a1:b2:c3:d4:e5:f6",
                                "AA-BB-CC-DD-EE-FF",       "aa-bb-cc-dd-ee-fe",
                                "0012.3456.789a",          "aabb.ccdd.eeff",
                                "MAC: 01:23:45:67:89:AB,", "MACs: 00:11:22:33:44:55 and AA-BB-CC-DD-EE-FF"};
    for (size_t i = 0; i < PA_ARRAY_LEN(pos); i++)
        expect_value(pos[i], PA_CAT_MAC_ADDRESS);
    static const char *neg[] = {"00:00:00:00:00:00",  "ff:ff:ff:ff:ff:ff",  "FF-FF-FF-FF-FF-FF", "0000.0000.0000",
                                "10:2F:33-AC-29-C3",  "00:1A:2B:3C:4D",     "ZZ:ZZ:ZZ:ZZ:ZZ:ZZ", "00:11:22:33:44:55:66",
                                "x00:11:22:33:44:55", "00:11:22:33:44:55x", "12:30:45",          "1.2.3.4"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_not_value(neg[i], PA_CAT_MAC_ADDRESS);
}
END_TEST

/* Values that look numeric or structured but are not PII: no detector may fire. */
START_TEST(test_value_precision)
{
    static const char *neg[] = {
        "",
        "a",
        "active",
        "EUR",
        "Hello, world.",
        "Blue cotton t-shirt size M",
        "Order #123456789",
        "order 123456789012",
        "ORD-2024-000123",
        "INV-12345-6789",
        "PO 2024 000 123",
        "1700000000000",
        "1700000000",
        "1700000000000000",
        "550e8400-e29b-41d4-a716-446655440000",
        "12345678-1234-1234-1234-123456789012",
        "1Z999AA10123456784",
        "9400111899223033005282",
        "1234.56",
        "1,234.56",
        "$1,234,567.89",
        "-42.5",
        "1e10",
        "1.2.3",
        "10.0.19041.1",
        "v2.14.0-rc.1",
        "1.0.0-beta+exp.sha.5114f85",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        "Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
        "Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1.2 Mobile/15E148 Safari/604.1",
        "Dalvik/2.1.0 (Linux; U; Android 11; Pixel 5 Build/RQ3A.210805.001.A1)",
        "2024-01-15",
        "2024-01-15T10:30:00Z",
        "2024-01-15T10:30:00.123456+02:00",
        "2024-01-15 10:30:00",
        "15/01/2024",
        "10:30",
        "23:59:59.999",
        "P1Y2M10DT2H30M",
        "deadbeefcafebabe0123456789abcdef0123",
        "5f2b8c1e9a3d4f6b7c8d9e0f",
        "d41d8cd98f00b204e9800998ecf8427e",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "SGVsbG8gV29ybGQhIDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA=",
        "gAAAAABlZ1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-1234567890abcdefghijklmnop==",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "#ff00aa",
        "rgb(255, 0, 170)",
        "width: 100px; height: 50px",
        "SELECT * FROM t WHERE id = 42",
        "https://example.com/path/to/page?id=12345&ref=abc",
        "file:///path/to/file",
        "C:\\Users\\me\\file.txt",
        "std::vector<int>",
        "foo::bar::baz",
        "a: 1, b: 2, c: 3",
        "x=1; y=2; z=3",
        "3.14159265358979",
        "+1",
        "+42",
        "100%",
        "1/2/3/4/5/6",
        "NaN",
        "null",
        "true",
        "[1, 2, 3, 4, 5]",
        "{\"a\": 1}",
        "build 1.2.3.4",
        "tracking: 1Z 999 AA1 01 2345 6784"};
    for (size_t i = 0; i < PA_ARRAY_LEN(neg); i++)
        expect_nothing(neg[i]);
}
END_TEST

START_TEST(test_value_rules_and_multi)
{
    struct vres v = {0};
    const char *s = "mail a@example.com or call +1 415 555 0132 from 10.0.0.1, card 4111 1111 1111 1111";
    int n = pa_detect_value(g_ctx, s, strlen(s), vcollect, &v);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(v.mask, BIT(PA_CAT_EMAIL) | BIT(PA_CAT_PHONE) | BIT(PA_CAT_IP_ADDRESS) | BIT(PA_CAT_CREDIT_CARD));
    bool email = false, e164 = false, v4 = false, luhn = false;
    for (size_t i = 0; i < v.nrules; i++) {
        email |= strcmp(v.rules[i], "email") == 0;
        e164 |= strcmp(v.rules[i], "phone_e164") == 0;
        v4 |= strcmp(v.rules[i], "ipv4") == 0;
        luhn |= strcmp(v.rules[i], "credit_card_luhn") == 0;
    }
    ck_assert(email && e164 && v4 && luhn);
    /* many matches of one rule: reported once */
    memset(&v, 0, sizeof v);
    s = "a@example.com b@example.com c@example.com d@example.com";
    ck_assert_int_eq(pa_detect_value(g_ctx, s, strlen(s), vcollect, &v), 1);
    ck_assert_uint_eq(v.nrules, 1);
    /* embedded NUL bytes do not end the value */
    static const char nul[] = "x\0y\0a@example.com";
    ck_assert_uint_eq(vmask_len(nul, sizeof nul - 1), BIT(PA_CAT_EMAIL));
    /* a long value: the match at the end is still found */
    size_t big = 1 << 20;
    char *b = malloc(big + 32);
    memset(b, 'x', big);
    memcpy(b + big, " a@example.com", 14);
    ck_assert_uint_eq(vmask_len(b, big + 14), BIT(PA_CAT_EMAIL));
    /* a long digit run is no card, and does not take quadratic time */
    memset(b, '4', big);
    ck_assert_uint_eq(vmask_len(b, big), 0);
    for (size_t i = 0; i < big; i++)
        b[i] = (i % 2) ? ' ' : '4';
    ck_assert_uint_eq(vmask_len(b, big) & BIT(PA_CAT_CREDIT_CARD), 0);
    free(b);
}
END_TEST

/* ---- documents --------------------------------------------------------------------------------------------------- */

START_TEST(test_doc_keys)
{
    struct fset s;
    run_json("{\"email\":\"ann@example.com\",\"first_name\":\"Ann\",\"zip\":94105,\"note\":\"hello\"}", &s);
    ck_assert_uint_eq(s.n, 3);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$.first_name", "person_name", PA_DET_KEY);
    EXPECT(&s, "$.zip", "postal_code", PA_DET_KEY);
    ck_assert_str_eq(find(&s, "$.email", "email")->rule, "key:email");
    /* nested, inside arrays, variants */
    run_json("{\"customer\":{\"billingAddress\":{\"street\":\"1 Main St\",\"postalCode\":\"94105\"},"
             "\"contacts\":[{\"phoneNumber\":\"+1 415 555 0132\"},{\"PHONE_NUMBER\":\"415 555 0199 ext 2\"}]}}",
             &s);
    EXPECT(&s, "$.customer.billingAddress", "street_address", PA_DET_KEY);
    EXPECT(&s, "$.customer.billingAddress.street", "street_address", PA_DET_KEY);
    EXPECT(&s, "$.customer.billingAddress.postalCode", "postal_code", PA_DET_KEY);
    EXPECT(&s, "$.customer.contacts[0].phoneNumber", "phone", PA_DET_KEY);
    EXPECT(&s, "$.customer.contacts[1].PHONE_NUMBER", "phone", PA_DET_KEY);
    ck_assert_uint_eq(s.n, 5);
    /* non-identifier keys are bracketed */
    run_json("{\"e-mail\":\"x@example.com\",\"first name\":\"Ann\"}", &s);
    EXPECT(&s, "$[\"e-mail\"]", "email", PA_DET_KEY);
    EXPECT(&s, "$[\"first name\"]", "person_name", PA_DET_KEY);
    /* top-level value: nothing to key on */
    run_json("\"hello\"", &s);
    ck_assert_uint_eq(s.n, 0);
    run_json("42", &s);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_doc_key_values_without_data)
{
    struct fset s;
    run_json("{\"email\":null,\"phone\":\"\",\"ssn\":false,\"dob\":true,\"address\":{},\"ip\":[],"
             "\"first_name\":\"   \","
             "\"last_name\":\"N/A\",\"zip\":\"null\",\"iban\":\"[REDACTED]\"}",
             &s);
    ck_assert_uint_eq(s.n, 0);
    /* already protected values */
    run_json("{\"email\":\"d41d8cd98f00b204e9800998ecf8427e\","
             "\"email_sha1\":\"x\",\"phone\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\","
             "\"ssn\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
             "\"full_name\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
             "\"address\":\"gAAAAABlZ1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-1234567890ab==\","
             "\"email_address\":\"j***@exa***\",\"national_id\":\"***-**-1234\","
             "\"card_number\":\"XXXX-XXXX-XXXX-1234\",\"cc_number\":\"4111 **** **** 1111\","
             "\"mobile\":\"xxx-xxx-0132\",\"passport\":\"$2b$12$abcdefghijklmnopqrstuuJ1234567890abcdefghijklmnopqr\"}",
             &s);
    ck_assert_msg(s.n == 0, "protected values reported: %zu (first at %s)", s.n, s.n ? s.f[0].path : "");
    /* but a real value next to them is */
    run_json("{\"email\":\"d41d8cd98f00b204e9800998ecf8427@example.com\"}", &s); /* 31 hex: not a digest length */
    ck_assert_uint_eq(s.n, 1);
    run_json("{\"phone\":4155550132}", &s); /* a number is data when it can be of the kind */
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(test_doc_container_keys)
{
    struct fset s;
    run_json("{\"emails\":[\"a@example.com\"],\"address\":{\"line1\":\"1 Main St\"},\"phones\":[],\"ip\":{}}", &s);
    EXPECT(&s, "$.emails", "email", PA_DET_KEY);
    EXPECT(&s, "$.emails[0]", "email", PA_DET_VALUE);
    EXPECT(&s, "$.address", "street_address", PA_DET_KEY);
    ck_assert_ptr_null(find(&s, "$.phones", "phone"));
    ck_assert_ptr_null(find(&s, "$.ip", "ip_address"));
    ck_assert_uint_eq(s.n, 3);
    /* a container's key finding is decided when it ends: after the findings below it */
    ck_assert_str_eq(s.f[0].path, "$.emails[0]");
    ck_assert_str_eq(s.f[1].path, "$.emails");
    /* containers whose leaves carry no data are no findings, however deep */
    run_json("{\"addresses\":[[]],\"email\":[{\"x\":{}}],\"coordinates\":[1.5,2.5],\"phones\":[[null, \"\"]]}", &s);
    EXPECT(&s, "$.coordinates", "geolocation", PA_DET_KEY);
    ck_assert_uint_eq(s.n, 1);
    /* deep structure below a matched key */
    run_json("{\"a\":{\"b\":[{\"c\":{\"home_address\":{\"d\":[[{\"street\":\"1 Main St\"}]]}}}]}}", &s);
    EXPECT(&s, "$.a.b[0].c.home_address", "street_address", PA_DET_KEY);
    EXPECT(&s, "$.a.b[0].c.home_address.d[0][0].street", "street_address", PA_DET_KEY);
    ck_assert_uint_eq(s.n, 2);
}
END_TEST

START_TEST(test_doc_values)
{
    struct fset s;
    run_json("{\"note\":\"write to a@example.com\",\"items\":[{\"memo\":\"call +1 415 555 0132\"},"
             "[\"10.0.0.1\",\"x\",\"DE89 3704 0044 0532 0130 00\"]],\"n\":\"4111111111111111\",\"t\":1700000000000,"
             "\"m\":\"00:1A:2B:3C:4D:5E\",\"ssn_like\":\"123-45-6789\"}",
             &s);
    EXPECT(&s, "$.note", "email", PA_DET_VALUE);
    ck_assert_str_eq(find(&s, "$.note", "email")->rule, "email");
    EXPECT(&s, "$.items[0].memo", "phone", PA_DET_VALUE);
    EXPECT(&s, "$.items[1][0]", "ip_address", PA_DET_VALUE);
    EXPECT(&s, "$.items[1][2]", "iban", PA_DET_VALUE);
    EXPECT(&s, "$.n", "credit_card", PA_DET_VALUE);
    EXPECT(&s, "$.m", "mac_address", PA_DET_VALUE);
    EXPECT(&s, "$.ssn_like", "national_id", PA_DET_VALUE);
    ck_assert_uint_eq(s.n, 7);
    /* a key finding and a value finding of the same category at one path: one finding, the key's */
    run_json("{\"email\":\"a@example.com\"}", &s);
    ck_assert_uint_eq(s.n, 1);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    /* a value of another kind under a key is that kind only (a phone number is no e-mail address) */
    run_json("{\"email\":\"+1 415 555 0132\"}", &s);
    ck_assert_uint_eq(s.n, 1);
    EXPECT(&s, "$.email", "phone", PA_DET_VALUE);
    /* different categories at one path: both */
    run_json("{\"contact\":\"a@example.com, +1 415 555 0132\",\"email\":\"a@example.com; +1 415 555 0132\"}", &s);
    ck_assert_uint_eq(s.n, 4);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$.email", "phone", PA_DET_VALUE);
    /* bare 9 digits: only meaningful under an ID key (where the key finding already covers it) */
    run_json("{\"order_id\":\"123456789\",\"ssn\":\"123456789\",\"national_id\":123456789,\"n\":\"078051121\"}", &s);
    ck_assert_uint_eq(s.n, 2);
    EXPECT(&s, "$.ssn", "national_id", PA_DET_KEY);
    EXPECT(&s, "$.national_id", "national_id", PA_DET_KEY);
    /* IPv4 under a version key is a version */
    run_json("{\"app_version\":\"1.2.3.4\",\"buildNumber\":\"10.0.0.1\",\"sdkVer\":\"4.3.2.1\",\"ip\":\"1.2.3.4\","
             "\"note\":\"from 1.2.3.4\"}",
             &s);
    ck_assert_uint_eq(s.n, 2);
    EXPECT(&s, "$.ip", "ip_address", PA_DET_KEY);
    EXPECT(&s, "$.note", "ip_address", PA_DET_VALUE);
}
END_TEST

START_TEST(test_doc_pii_keys)
{
    struct fset s;
    const char *doc = "{\"by_email\":{\"john.doe@example.com\":{\"visits\":3},\"x@example.org\":1},"
                      "\"+1 415 555 0132\":true,\"10.1.2.3\":\"seen\",\"a\\u0040b.example.com\":null}";
    run_json(doc, &s);
    EXPECT(&s, "$.by_email.<email>", "email", PA_DET_VALUE);
    EXPECT(&s, "$.<phone>", "phone", PA_DET_VALUE);
    EXPECT(&s, "$.<ip_address>", "ip_address", PA_DET_VALUE);
    EXPECT(&s, "$.<email>", "email", PA_DET_VALUE);
    EXPECT(&s, "$.by_email", "email", PA_DET_KEY); /* "by_email" ends in the token "email" */
    ck_assert_uint_eq(s.n, 5);
    assert_not_leaked(&s, "john");
    assert_not_leaked(&s, "example");
    assert_not_leaked(&s, "415");
    assert_not_leaked(&s, "10.1.2.3");
    assert_not_leaked(&s, "@");
    /* below a PII key, paths keep the redaction; a value finding there is at the redacted path */
    run_json("{\"j.doe@example.com\":{\"note\":\"call 415-555-0132\",\"tags\":[\"k@example.net\"]}}", &s);
    EXPECT(&s, "$.<email>", "email", PA_DET_VALUE);
    EXPECT(&s, "$.<email>.note", "phone", PA_DET_VALUE);
    EXPECT(&s, "$.<email>.tags[0]", "email", PA_DET_VALUE);
    assert_not_leaked(&s, "doe");
    /* the same PII key in the next document is redacted again (keys that are PII are never cached) */
    run_json("{\"j.doe@example.com\":1}", &s);
    EXPECT(&s, "$.<email>", "email", PA_DET_VALUE);
    assert_not_leaked(&s, "doe");
    /* a key that is a dictionary key and whose value is PII */
    run_json("{\"contacts\":{\"ann@example.com\":{\"phone\":\"415 555 0132\"}}}", &s);
    EXPECT(&s, "$.contacts.<email>.phone", "phone", PA_DET_KEY);
    assert_not_leaked(&s, "ann");
}
END_TEST

START_TEST(test_doc_geolocation)
{
    struct fset s;
    run_json("{\"pos\":{\"lat\":37.77,\"lng\":-122.41},\"visits\":[{\"latitude\":\"1.5\",\"longitude\":\"2.5\"}],"
             "\"only\":{\"lat\":1},\"empty\":{\"lat\":null,\"lng\":null},\"pair\":{\"lat\":1,\"lon\":2,\"lat2\":3},"
             "\"long_pair\":{\"Lat\":1,\"LONG\":2}}",
             &s);
    EXPECT(&s, "$.pos", "geolocation", PA_DET_KEY);
    ck_assert_str_eq(find(&s, "$.pos", "geolocation")->rule, "key:lat_lng_pair");
    EXPECT(&s, "$.visits[0]", "geolocation", PA_DET_KEY);
    EXPECT(&s, "$.pair", "geolocation", PA_DET_KEY);
    EXPECT(&s, "$.long_pair", "geolocation", PA_DET_KEY);
    ck_assert_ptr_null(find(&s, "$.only", "geolocation"));
    ck_assert_ptr_null(find(&s, "$.empty", "geolocation"));
    ck_assert_uint_eq(s.n, 4);
    /* top-level object; and a coordinates key plus a pair below it: one finding per path */
    run_json("{\"lat\":1,\"lng\":2}", &s);
    EXPECT(&s, "$", "geolocation", PA_DET_KEY);
    run_json("{\"coordinates\":{\"lat\":1,\"lng\":2}}", &s);
    ck_assert_uint_eq(s.n, 1);
    EXPECT(&s, "$.coordinates", "geolocation", PA_DET_KEY);
    ck_assert_str_eq(s.f[0].rule, "key:coordinates");
}
END_TEST

START_TEST(test_doc_escapes)
{
    struct fset s;
    /* PII hidden behind escapes is found after decoding */
    run_json(
        "{\"n\":\"a\\u0040b.example.com\",\"m\":\"\\u0031\\u0032\\u0033-45-6789\","
        "\"\\u0065mail\":\"x\\u0040example.org\",\"u\":\"\\ud83d\\ude00 x@example.org\",\"lone\":\"\\ud800 y@example.org\","
        "\"k\":\"line\\nz@example.org\"}",
        &s);
    EXPECT(&s, "$.n", "email", PA_DET_VALUE);
    EXPECT(&s, "$.m", "national_id", PA_DET_VALUE);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$.u", "email", PA_DET_VALUE);
    EXPECT(&s, "$.lone", "email", PA_DET_VALUE);
    EXPECT(&s, "$.k", "email", PA_DET_VALUE);
    ck_assert_uint_eq(s.n, 6);
}
END_TEST

START_TEST(test_doc_dedupe)
{
    struct fset s;
    run_json("{\"t\":\"a@example.com b@example.com 10.0.0.1 10.0.0.2 c@example.com\",\"arr\":[\"a@example.com\","
             "\"a@example.com\"]}",
             &s);
    ck_assert_uint_eq(s.n, 4);
    EXPECT(&s, "$.t", "email", PA_DET_VALUE);
    EXPECT(&s, "$.t", "ip_address", PA_DET_VALUE);
    EXPECT(&s, "$.arr[0]", "email", PA_DET_VALUE);
    EXPECT(&s, "$.arr[1]", "email", PA_DET_VALUE);
    /* duplicate member names in one object (valid JSON): one finding per (path, category) */
    run_json("{\"email\":\"x@example.com\",\"email\":\"y@example.com\",\"email\":\"a@example.com\"}", &s);
    ck_assert_uint_eq(s.n, 1);
    /* dedupe is per document */
    run_json("{\"email\":\"x@example.com\"}", &s);
    ck_assert_uint_eq(s.n, 1);
    run_json("{\"email\":\"x@example.com\"}", &s);
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(test_doc_many_findings)
{
    /* 5000 distinct paths: the per-document set grows; a second run reuses it */
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "{\"list\":[");
    for (int i = 0; i < 5000; i++)
        pa_buf_printf(&b, "%s{\"email\":\"u%d@example.com\"}", i ? "," : "", i);
    pa_buf_appends(&b, "]}");
    for (int rep = 0; rep < 2; rep++) {
        struct fset s;
        memset(&s, 0, sizeof s);
        ck_assert_int_eq(pa_detect_doc(g_ctx, "a.b.c", PA_DOC_JSON, b.data, b.len, collect, &s, &s.res), 0);
        ck_assert_uint_eq(s.res.findings, 5000);
        ck_assert(!s.res.truncated);
    }
    pa_buf_free(&b);
}
END_TEST

START_TEST(test_doc_deep)
{
    /* nesting far deeper than any C stack would allow for a recursive scanner */
    size_t depth = 100000;
    struct pa_buf b;
    pa_buf_init(&b);
    for (size_t i = 0; i < depth; i++)
        pa_buf_appendc(&b, '[');
    pa_buf_appends(&b, "\"a@example.com\"");
    for (size_t i = 0; i < depth; i++)
        pa_buf_appendc(&b, ']');
    struct fset s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(pa_detect_doc(g_ctx, "a.b.c", PA_DOC_JSON, b.data, b.len, collect, &s, &s.res), 0);
    ck_assert_uint_eq(s.res.findings, 1);
    ck_assert(!s.res.invalid_json);
    pa_buf_free(&b);
}
END_TEST

/* The per-context memos (member names, clean string values) must never change a result: every document gives the
 * same findings in a long-lived context (memos warm, cleared when full) as in a fresh one; a value memoized as clean
 * under one key's flags is still found under another key; a PII name is never memoized as clean. */
static void fset_eq(const struct fset *a, const struct fset *b, size_t i)
{
    ck_assert_msg(a->n == b->n, "doc %zu: %zu findings warm, %zu fresh", i, a->n, b->n);
    for (size_t k = 0; k < a->n && k < MAXF; k++) {
        ck_assert_str_eq(a->f[k].path, b->f[k].path);
        ck_assert_str_eq(a->f[k].cat, b->f[k].cat);
        ck_assert_str_eq(a->f[k].rule, b->f[k].rule);
        ck_assert_int_eq(a->f[k].det, b->f[k].det);
    }
}

START_TEST(test_doc_memo_never_changes_results)
{
    char err[256];
    struct pa_detector *d = pa_detect_new(NULL, err, sizeof err);
    ck_assert_ptr_nonnull(d);
    struct pa_detect_ctx *warm = pa_detect_ctx_new(d);
    static const char *const keys[] = {"note", "version", "ssn", "ip", "r9@example.org", "build", "national_id"};
    static const char *const vals[] = {"host 10.20.30.40 up",
                                       "536-22-1234",
                                       "536221234",
                                       "jane@example.com",
                                       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.6099.130",
                                       "call (415) 555-0132 now",
                                       "4111 1111 1111 1111",
                                       "r9@example.org"};
    struct fset *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char doc[512];
    for (size_t i = 0; i < 6000; i++) {
        /* distinct names and values fill both memos several times over; the fixed ones repeat under every key */
        snprintf(doc, sizeof doc, "{\"k%zu\": \"id:%08zu:%zx tail\", \"%s\": \"%s\", \"%s\": {\"%s\": \"%s\"}}", i, i,
                 i * 7919, keys[i % 7], vals[i % 8], keys[(i / 7) % 7], keys[(i / 3) % 7], vals[(i / 5) % 8]);
        run_with(warm, "public.t.c", PA_DOC_JSON, doc, strlen(doc), a);
        struct pa_detect_ctx *fresh = pa_detect_ctx_new(d);
        run_with(fresh, "public.t.c", PA_DOC_JSON, doc, strlen(doc), b);
        pa_detect_ctx_free(fresh);
        fset_eq(a, b, i);
    }
    /* the same dotted quad: clean under a version key, an address under another key, in either order */
    run_with(warm, "public.t.c", PA_DOC_JSON, "{\"version\": \"host 10.20.30.40 up\"}", 34, a);
    ck_assert(!has_cat(a, "ip_address"));
    run_with(warm, "public.t.c", PA_DOC_JSON, "{\"note\": \"host 10.20.30.40 up\"}", 31, a);
    EXPECT(a, "$.note", "ip_address", PA_DET_VALUE);
    run_with(warm, "public.t.c", PA_DOC_JSON, "{\"version\": \"host 10.20.30.40 up\"}", 34, a);
    ck_assert(!has_cat(a, "ip_address"));
    /* a PII member name stays redacted however often it is seen */
    for (int k = 0; k < 3; k++) {
        run_with(warm, "public.t.c", PA_DOC_JSON, "{\"m\": {\"r9@example.org\": 1}}", 28, a);
        EXPECT(a, "$.m.<email>", "email", PA_DET_VALUE);
    }
    free(a);
    free(b);
    pa_detect_ctx_free(warm);
    pa_detect_free(d);
}
END_TEST

/* Member-name guesses (a name equal to the one seen last in the same place reuses what it means without a lookup)
 * must never change a result: documents of repeating shapes whose names change by one byte (first, middle, last),
 * by one byte of length (added, dropped), names of 0..70 bytes (around the memo's 64-byte limit and the word
 * compares' 4/8/16/24), dictionary names and near misses, PII names (never memoized), ignored names, the same names
 * under other parents and in arrays, a document with more distinct names than the memo holds (cleared mid-walk) and
 * wipes between documents: a long-lived context must give what a fresh one gives, document by document. The values
 * repeat per member too, which the value guesses rely on. */
static void t_name(struct pa_buf *b, const char *base, uint64_t r)
{
    size_t n = strlen(base);
    char tmp[96];
    memcpy(tmp, base, n);
    switch (r % 8) { /* mostly as it is; else one byte changed, added or dropped */
    case 0:
        if (n)
            tmp[0] ^= 1;
        break;
    case 1:
        if (n)
            tmp[n / 2] = tmp[n / 2] == 'q' ? 'r' : 'q';
        break;
    case 2:
        if (n)
            tmp[n - 1] = tmp[n - 1] == 'z' ? 'y' : 'z';
        break;
    case 3: tmp[n++] = 's'; break;
    case 4:
        if (n)
            n--;
        break;
    default: break;
    }
    pa_buf_appendc(b, '"');
    pa_buf_append(b, tmp, n);
    pa_buf_appendc(b, '"');
}

START_TEST(test_doc_name_guesses)
{
    char *ignore[] = {"audit_trail"};
    struct pa_detect_options o = {.ignore_keys = ignore, .n_ignore_keys = 1};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *warm = pa_detect_ctx_new(d);
    static const char *const names[] = {
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "abcdefg",
        "abcdefgh",
        "abcdefghi",
        "abcdefghijklmno",
        "abcdefghijklmnop",
        "abcdefghijklmnopq",
        "abcdefghijklmnopqrstuvwx",
        "abcdefghijklmnopqrstuvwxy",
        "a123456789b123456789c123456789d123456789e123456789f123456789g12",        /* 63 */
        "a123456789b123456789c123456789d123456789e123456789f123456789g123",       /* 64 */
        "a123456789b123456789c123456789d123456789e123456789f123456789g1234",      /* 65 */
        "a123456789b123456789c123456789d123456789e123456789f123456789g123456789", /* 70 */
        "email",
        "emails",
        "emall",
        "email_address",
        "phone",
        "ssn",
        "national_id",
        "lat",
        "lng",
        "latitude",
        "version",
        "audit_trail",
        "audit_trails",
        "r9@example.org",
        "10.20.30.40",
        "id",
        "name",
        "price",
        "title",
        "items"};
    /* values of 8..16 bytes too (remembered per member when the prefilter rejects them): equal first and last 8
     * bytes at two lengths, one byte away from PII */
    static const char *const vals[] = {"\"x\"",
                                       "\"jane@example.com\"",
                                       "\"536-22-1234\"",
                                       "\"536221234\"",
                                       "12.5",
                                       "\"host 10.20.30.40 up\"",
                                       "null",
                                       "\"\"",
                                       "4111111111111111",
                                       "-33.86",
                                       "\"aaaaaaaa\"",
                                       "\"aaaaaaaaa\"",
                                       "\"ann@ex.co\"",
                                       "\"ann-ex.co\"",
                                       "\"10.20.30.40\"",
                                       "\"10.20.30,40\"",
                                       "\"536-22-123\""};
    const size_t nn = PA_ARRAY_LEN(names), nv = PA_ARRAY_LEN(vals);
    /* a few fixed shapes (name index lists), repeated with mutations */
    size_t shapes[6][8];
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    for (size_t k = 0; k < 6; k++)
        for (size_t j = 0; j < 8; j++)
            shapes[k][j] = pa_test_rng(&rng) % nn;
    struct fset *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    struct pa_buf doc;
    pa_buf_init(&doc);
    for (size_t i = 0; i < 4000; i++) {
        pa_buf_truncate(&doc, 0);
        const size_t *sh = shapes[pa_test_rng(&rng) % 6];
        pa_buf_appendc(&doc, '{');
        for (size_t j = 0; j < 8; j++) {
            uint64_t r = pa_test_rng(&rng);
            if (j)
                pa_buf_appends(&doc, ", ");
            t_name(&doc, names[sh[j]], r % 5 ? 7 : r >> 8); /* 4 in 5 exactly the shape's name */
            pa_buf_appends(&doc, ": ");
            switch ((r >> 20) % 4) {
            case 0: /* an object of the next shape's names, or an array of two of them */
            case 1: {
                bool arr = (r >> 22) & 1;
                const size_t *sub = shapes[(r >> 24) % 6];
                if (arr)
                    pa_buf_appendc(&doc, '[');
                for (size_t e = 0; e < (arr ? 2u : 1u); e++) {
                    pa_buf_appends(&doc, e ? ", {" : "{");
                    for (size_t m = 0; m < 4; m++) {
                        uint64_t q = pa_test_rng(&rng);
                        if (m)
                            pa_buf_appends(&doc, ", ");
                        t_name(&doc, names[sub[m]], q % 4 ? 7 : q >> 8);
                        pa_buf_appends(&doc, ": ");
                        pa_buf_appends(&doc, vals[(q >> 16) % nv]);
                    }
                    pa_buf_appendc(&doc, '}');
                }
                if (arr)
                    pa_buf_appendc(&doc, ']');
                break;
            }
            default: pa_buf_appends(&doc, vals[(r >> 24) % nv]); break;
            }
        }
        pa_buf_appendc(&doc, '}');
        run_with(warm, "public.t.c", PA_DOC_JSON, doc.data, doc.len, a);
        ck_assert_msg(!a->res.invalid_json, "doc %zu is not JSON", i);
        struct pa_detect_ctx *fresh = pa_detect_ctx_new(d);
        run_with(fresh, "public.t.c", PA_DOC_JSON, doc.data, doc.len, b);
        pa_detect_ctx_free(fresh);
        fset_eq(a, b, i);
        if (i % 997 == 996)
            pa_detect_ctx_wipe(warm);
    }
    /* more distinct names in one document than the name memo holds: it is cleared while guesses point into it */
    for (int rep = 0; rep < 3; rep++) {
        pa_buf_truncate(&doc, 0);
        pa_buf_appendc(&doc, '[');
        for (size_t i = 0; i < 2500; i++)
            pa_buf_printf(&doc, "%s{\"k%zu\": 1, \"email\": \"x\", \"ssn\": {\"n%zu\": \"536-22-1234\"}}",
                          i ? ", " : "", (i * 7 + (size_t)rep) % 1500, i % 3);
        pa_buf_appendc(&doc, ']');
        run_with(warm, "public.t.c", PA_DOC_JSON, doc.data, doc.len, a);
        struct pa_detect_ctx *fresh = pa_detect_ctx_new(d);
        run_with(fresh, "public.t.c", PA_DOC_JSON, doc.data, doc.len, b);
        pa_detect_ctx_free(fresh);
        fset_eq(a, b, 10000 + (size_t)rep);
    }
    /* a name of 65,536 + 5 bytes where one of 5 bytes is guessed (its length must not alias the guess's) */
    for (int rep = 0; rep < 3; rep++) {
        pa_buf_truncate(&doc, 0);
        pa_buf_appends(&doc, "{\"x\": 1, \"");
        if (rep == 1)
            for (size_t i = 0; i < 65536; i++)
                pa_buf_appendc(&doc, 'a');
        pa_buf_appends(&doc, "email\": \"y@localhost\"}"); /* an address only by its key */
        run_with(warm, "public.t.c", PA_DOC_JSON, doc.data, doc.len, a);
        ck_assert_uint_eq(a->n, rep == 1 ? 0u : 1u);
    }
    pa_buf_free(&doc);
    free(a);
    free(b);
    pa_detect_ctx_free(warm);
    pa_detect_free(d);
}
END_TEST

/* Value guesses (a value of 8..24 bytes equal to the one the prefilter rejected last under the same member is not
 * looked at again) must compare every byte and the length: each pair is a clean value and a PII value with the same
 * first 8 bytes, the same last 8, the same first and last 8, or one byte more or less, one after the other under one member, as a member's
 * value and as array elements, in a long-lived context against a fresh one. */
START_TEST(test_doc_value_guesses)
{
    static const char *const pairs[][2] = {
        {"10.20.30,40", "10.20.30.40"},                             /* first 8 bytes equal */
        {"1,20.30.40", "1.20.30.40"},                               /* last 8 bytes equal */
        {"ann@ex.co", "ann-ex.co"},                                 /* PII first, then clean */
        {"10.20.30-4", "10.20.30.4"},                               /* 10 bytes */
        {"192.168.1,100", "192.168.1.100"},                         /* 13 bytes */
        {"10.20.30.40,50,60", "10.20.30.40.50.60"},                 /* 17 bytes */
        {"abcdefg 10.20,30.4 zzzzz", "abcdefg 10.20.30.4 zzzzz"},   /* 24 bytes: only bytes 8..15 differ */
        {"abcdefg 10.20,30.4 zzzzzz", "abcdefg 10.20.30.4 zzzzzz"}, /* 25 bytes: not guessed */
        {"4111 1111 1111 111", "4111 1111 1111 1111"},              /* one byte more */
        {"x 10.20,30.40 y", "x 10.20.30.40 y"},                     /* a middle byte */
        {"ab:cd:ef:01:23:4", "ab:cd:ef:01:23:45"},
        {"536-22-123", "536-22-1234"},
    };
    struct pa_detect_ctx *warm = pa_detect_ctx_new(g_det);
    struct fset *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char doc[256];
    size_t k = 0;
    for (int rep = 0; rep < 3; rep++)
        for (size_t p = 0; p < PA_ARRAY_LEN(pairs); p++)
            for (int order = 0; order < 2; order++)
                for (int form = 0; form < 3; form++, k++) {
                    const char *x = pairs[p][order], *y = pairs[p][!order];
                    if (form == 0)
                        snprintf(doc, sizeof doc, "{\"k\": \"%s\"}", rep == 1 ? y : x);
                    else if (form == 1)
                        snprintf(doc, sizeof doc, "{\"k\": \"%s\", \"l\": [\"%s\", \"%s\"]}", x, x, y);
                    else
                        snprintf(doc, sizeof doc, "{\"m\": {\"k\": \"%s\"}, \"n\": {\"k\": \"%s\"}}", x, y);
                    run_with(warm, "public.t.c", PA_DOC_JSON, doc, strlen(doc), a);
                    struct pa_detect_ctx *fresh = pa_detect_ctx_new(g_det);
                    run_with(fresh, "public.t.c", PA_DOC_JSON, doc, strlen(doc), b);
                    pa_detect_ctx_free(fresh);
                    fset_eq(a, b, k);
                }
    free(a);
    free(b);
    pa_detect_ctx_free(warm);
}
END_TEST

/* The value prefilter (and its short-string and long-string forms) may only skip strings that hold nothing: a
 * detector with a custom pattern that never matches has no prefilter (every string goes to Hyperscan), so both must
 * report the same (category, rule) pairs for every string: random short strings over the bytes the prefilter looks
 * at, and long strings with a value planted at every offset in noise. */
static void vlist(struct pa_detect_ctx *c, const char *s, size_t len, struct vres *v)
{
    memset(v, 0, sizeof *v);
    ck_assert_int_ge(pa_detect_value(c, s, len, vcollect, v), 0);
}

static void vsame(struct pa_detect_ctx *pf, struct pa_detect_ctx *all, const char *s, size_t len, size_t i)
{
    struct vres x, y;
    vlist(pf, s, len, &x);
    vlist(all, s, len, &y);
    ck_assert_msg(x.mask == y.mask && x.nrules == y.nrules,
                  "string %zu (%zu bytes): mask %x with the prefilter, %x "
                  "without",
                  i, len, x.mask, y.mask);
    for (size_t k = 0; k < x.nrules; k++)
        ck_assert_str_eq(x.rules[k], y.rules[k]);
}

START_TEST(test_value_prefilter_exact)
{
    struct pa_detect_pattern never[] = {{"never", "never_cat", "zq\\x01never\\x02qz"}};
    struct pa_detect_options o = {.patterns = never, .n_patterns = 1};
    struct pa_detector *dall = make(&o);
    struct pa_detect_ctx *all = pa_detect_ctx_new(dall);
    struct pa_detect_ctx *pf = pa_detect_ctx_new(g_det);
    uint64_t rng = 0x2545f4914f6cdd1dULL;
    char s[256];
    /* short strings: every byte class of the prefilter's short form and a few more */
    static const char alpha[] = "0123456789.:-@+ aAfFxZ/";
    for (size_t i = 0; i < 300000; i++) {
        uint64_t r = pa_test_rng(&rng);
        size_t len = 1 + r % 9;
        for (size_t k = 0; k < len; k++)
            s[k] = alpha[pa_test_rng(&rng) % (sizeof alpha - 1)];
        vsame(pf, all, s, len, i);
    }
    /* long strings: noise with dots, digits, upper and hex letters, and a planted value at every offset */
    static const char *const planted[] = {"DE89370400440532013000", "GB82 WEST 1234 5698 7654 32",
                                          "0123.4567.89ab",         "00:1A:2b:3C:4d:5E",
                                          "192.168.10.20",          "fe80::1ff:fe23:4567:890a",
                                          "4111 1111 1111 1111",    "+14155550132",
                                          "ann@example.com",        "536-22-1234"};
    static const char noise[] = "abcdefXYZ.0123-_/ ";
    for (size_t p = 0; p < PA_ARRAY_LEN(planted); p++) {
        size_t pl = strlen(planted[p]);
        for (size_t len = 16; len <= 200; len += 1 + len / 16) {
            for (size_t at = 0; at + pl <= len; at++) {
                for (size_t k = 0; k < len; k++)
                    s[k] = noise[pa_test_rng(&rng) % (sizeof noise - 1)];
                memcpy(s + at, planted[p], pl);
                vsame(pf, all, s, len, p * 100000 + len * 256 + at);
                s[at + pl - 1] = '.'; /* the anchor, but cut short */
                vsame(pf, all, s, len, p * 100000 + len * 256 + at);
            }
        }
    }
    pa_detect_ctx_free(pf);
    pa_detect_ctx_free(all);
    pa_detect_free(dall);
}
END_TEST

START_TEST(test_doc_text)
{
    struct fset s;
    run_text("Contact: ann@example.com, +44 20 7123 4567", &s);
    ck_assert_uint_eq(s.n, 2);
    EXPECT(&s, "$", "email", PA_DET_VALUE);
    EXPECT(&s, "$", "phone", PA_DET_VALUE);
    ck_assert(!s.res.invalid_json);
    /* JSON-looking text that parses is walked */
    run_text("  \n {\"email\":\"ann@example.com\",\"n\":[\"10.0.0.1\"]}", &s);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$.n[0]", "ip_address", PA_DET_VALUE);
    ck_assert(!s.res.invalid_json);
    /* JSON-looking text that does not parse: invalid_json, scanned whole at $, findings before the error kept */
    run_text("{\"email\":\"x@example.net\", oops 10.0.0.1 ann@example.com", &s);
    ck_assert(s.res.invalid_json);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$", "email", PA_DET_VALUE);
    EXPECT(&s, "$", "ip_address", PA_DET_VALUE);
    run_text("[1] see 123-45-6789", &s);
    ck_assert(s.res.invalid_json);
    EXPECT(&s, "$", "national_id", PA_DET_VALUE);
    /* text that does not start like JSON is not invalid JSON */
    run_text("\"quoted\" a@example.com", &s);
    ck_assert(!s.res.invalid_json);
    EXPECT(&s, "$", "email", PA_DET_VALUE);
    run_text("", &s);
    ck_assert_uint_eq(s.n, 0);
    ck_assert(!s.res.invalid_json);
    run_text("   ", &s);
    ck_assert_uint_eq(s.n, 0);
    /* text findings also dedupe per category */
    run_text("a@example.com b@example.com", &s);
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(test_doc_invalid_json)
{
    struct fset s;
    run_json("{\"email\": \"a@example.com\", \"bad\": ", &s);
    ck_assert(s.res.invalid_json);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$", "email", PA_DET_VALUE);
    /* PII cannot hide behind a syntax error */
    run_json("{oops: 'ann@example.com', ip: 10.0.0.1}", &s);
    ck_assert(s.res.invalid_json);
    EXPECT(&s, "$", "email", PA_DET_VALUE);
    EXPECT(&s, "$", "ip_address", PA_DET_VALUE);
    run_json("", &s);
    ck_assert(s.res.invalid_json);
    ck_assert_uint_eq(s.n, 0);
    /* an unterminated container with a pending key: no key finding for it, no crash */
    run_json("{\"emails\":[", &s);
    ck_assert(s.res.invalid_json);
    ck_assert_uint_eq(s.n, 0);
    /* binary garbage */
    static const char bin[] = "\x00\xff\xfe{\x01[\x80\"\x00";
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(pa_detect_doc(g_ctx, "a.b.c", PA_DOC_JSON, bin, sizeof bin - 1, collect, &s, &s.res), 0);
    ck_assert(s.res.invalid_json);
    ck_assert_int_eq(pa_detect_doc(g_ctx, "a.b.c", PA_DOC_TEXT, bin, sizeof bin - 1, collect, &s, NULL), 0);
}
END_TEST

/* ---- options ----------------------------------------------------------------------------------------------------- */

START_TEST(test_opt_ignore_keys)
{
    char *ignore[] = {"internal_email", "Audit-Log", "lat"};
    struct pa_detect_options o = {.ignore_keys = ignore, .n_ignore_keys = 3};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"internalEmail\":\"ann@example.com\",\"audit_log\":{\"email\":\"x@example.com\","
                      "\"ip\":\"10.0.0.1\",\"list\":[{\"phone\":\"415 555 0132\"}]},\"AUDIT-LOG\":[\"a@example.com\"],"
                      "\"lat\":1,\"lng\":2,\"email\":\"y@example.com\",\"internal_email_2\":\"b@example.com\"}";
    for (int rep = 0; rep < 2; rep++) { /* the second run goes through the key cache */
        run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
        ck_assert_uint_eq(s.n, 2);
        EXPECT(&s, "$.email", "email", PA_DET_KEY);
        EXPECT(&s, "$.internal_email_2", "email", PA_DET_KEY); /* a different key: not ignored */
    }
    ck_assert_int_eq(pa_detect_key_category(d, "internal_email", 14, NULL), -1);
    ck_assert_int_eq(pa_detect_key_category(d, "email", 5, NULL), PA_CAT_EMAIL);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
}
END_TEST

START_TEST(test_opt_disable)
{
    char *disable[] = {"email", "ip_address", "geolocation"};
    struct pa_detect_options o = {.disable = disable, .n_disable = 3};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"email\":\"ann@example.com\",\"n\":\"b@example.com 10.0.0.1 2001:db8::1\","
                      "\"ip_address\":\"10.1.2.3\","
                      "\"ann@example.com\":1,\"p\":{\"lat\":1,\"lng\":2},\"phone\":\"0044 20 7123 4567\"}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 1);
    EXPECT(&s, "$.phone", "phone", PA_DET_KEY);
    ck_assert(!has_cat(&s, "email") && !has_cat(&s, "ip_address") && !has_cat(&s, "geolocation"));
    /* a disabled longer entry does not fall back to a shorter one ("ip_address" is not a street address) */
    ck_assert_int_eq(pa_detect_key_category(d, "ip_address", 10, NULL), -1);
    ck_assert_int_eq(pa_detect_key_category(d, "email", 5, NULL), -1);
    struct vres v = {0};
    ck_assert_int_eq(pa_detect_value(c, "a@example.com", 13, vcollect, &v), 0);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
    /* everything disabled: no database at all, still works */
    char *all[PA_CAT_BUILTIN_COUNT];
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++)
        all[i] = (char *)pa_category_name(i);
    struct pa_detect_options o2 = {.disable = all, .n_disable = PA_CAT_BUILTIN_COUNT};
    d = make(&o2);
    c = pa_detect_ctx_new(d);
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 0);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
    /* unknown category */
    char *bad[] = {"emails"};
    struct pa_detect_options o3 = {.disable = bad, .n_disable = 1};
    char err[256];
    ck_assert_ptr_null(pa_detect_new(&o3, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "emails"));
}
END_TEST

START_TEST(test_opt_extra_keys)
{
    struct pa_detect_extra_key extra[] = {{"employee_id", "staffNumber"},
                                          {"employee_id", "emp-no"},
                                          {"email", "handle"},
                                          {"person_name", "displayName"},
                                          {"phone", "email"}}; /* overrides a default entry */
    struct pa_detect_options o = {.extra_keys = extra, .n_extra_keys = 5};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    const char *rule = NULL;
    int emp = pa_detect_key_category(d, "staff_number", 12, &rule);
    ck_assert_int_ge(emp, PA_CAT_BUILTIN_COUNT);
    ck_assert_str_eq(pa_detect_category_name(d, emp), "employee_id");
    ck_assert_str_eq(rule, "key:staff_number");
    ck_assert_int_eq(pa_detect_key_category(d, "EMP_NO", 6, NULL), emp);
    ck_assert_int_eq(pa_detect_key_category(d, "user_handle", 11, NULL), PA_CAT_EMAIL);
    ck_assert_int_eq(pa_detect_key_category(d, "displayName", 11, NULL), PA_CAT_PERSON_NAME);
    ck_assert_int_eq(pa_detect_key_category(d, "email", 5, NULL), PA_CAT_PHONE);
    struct fset s;
    const char *doc = "{\"staff_number\":\"E123\",\"handle\":\"ann@example.com\",\"x\":{\"empNo\":7}}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 3);
    EXPECT(&s, "$.staff_number", "employee_id", PA_DET_KEY);
    EXPECT(&s, "$.handle", "email", PA_DET_KEY);
    EXPECT(&s, "$.x.empNo", "employee_id", PA_DET_KEY);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
    /* the default detector is unchanged */
    ck_assert_int_eq(keycat("staff_number"), -1);
}
END_TEST

START_TEST(test_opt_allow_paths)
{
    char *allow[] = {"public.users.profile:$.support_email", "public.users.profile:$.contacts[*].phone",
                     "public.users.profile:$.notes[*]", "other.t.c:$.email", "public.users.profile:$.<email>"};
    struct pa_detect_options o = {.allow_paths = allow, .n_allow_paths = 5};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"support_email\":\"help@example.com\",\"contacts\":[{\"phone\":\"415 555 0101\"},"
                      "{\"phone\":\"415 555 0102\",\"email\":\"x@example.com\"}],\"notes\":[\"a@example.com\","
                      "[\"b@example.com\"]],\"email\":\"y@example.com\","
                      "\"ann@example.com\":1,\"deep\":{\"support_email\":\"c@example.com\"}}";
    run_with(c, "public.users.profile", PA_DOC_JSON, doc, strlen(doc), &s);
    EXPECT(&s, "$.contacts[1].email", "email", PA_DET_KEY);
    EXPECT(&s, "$.notes[1][0]", "email", PA_DET_VALUE); /* [*] matches one index, not a subtree */
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
    EXPECT(&s, "$.deep.support_email", "email", PA_DET_KEY);
    ck_assert_uint_eq(s.n, 4);
    assert_not_leaked(&s, "ann");
    /* other surfaces are not affected */
    run_with(c, "public.users.other", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 9);
    run_with(c, "other.t.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 8);
    ck_assert_ptr_null(find(&s, "$.email", "email"));
    pa_detect_ctx_free(c);
    pa_detect_free(d);
    char *bad[] = {"public.users.profile.$.x"};
    struct pa_detect_options o2 = {.allow_paths = bad, .n_allow_paths = 1};
    char err[256];
    ck_assert_ptr_null(pa_detect_new(&o2, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "allow_paths"));
}
END_TEST

/* The scan's allowlist (pa_detect_ctx_set_allow): matched like allow_paths, optionally in one category, for the
 * context's documents only until set again; findings it drops do not count towards max_findings_per_record. */
START_TEST(test_ctx_allow)
{
    struct pa_detect_options o = {.max_findings_per_record = 3};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"contacts\":[{\"email\":\"a@example.com\"},{\"email\":\"b@example.com\"}],"
                      "\"note\":\"call 646 555 0187 or c@example.com\",\"ip\":\"203.0.113.7\"}";
    run_with(c, "public.t.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 3); /* 5 findings, cut at 3 */
    struct pa_detect_allow allow[] = {{"$.contacts[*].email", NULL}, {"$.note", "email"}};
    pa_detect_ctx_set_allow(c, allow, 2);
    run_with(c, "public.t.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 2);
    EXPECT(&s, "$.note", "phone", PA_DET_VALUE); /* the entry names email: the phone at the same path stays */
    EXPECT(&s, "$.ip", "ip_address", PA_DET_KEY);
    ck_assert_ptr_null(find(&s, "$.note", "email"));
    pa_detect_ctx_set_allow(c, NULL, 0);
    run_with(c, "public.t.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 3);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
}
END_TEST

START_TEST(test_opt_patterns)
{
    struct pa_detect_pattern pats[] = {{"employee_id", "employee_id", "EMP-\\d{6}"},
                                       {"internal_ticket", "ticket", "(?i)tkt[0-9]{4}"},
                                       {"vip_email", "email", "vip-[a-z]+@corp\\.example"}};
    struct pa_detect_options o = {.patterns = pats, .n_patterns = 3};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"a\":\"by EMP-123456 today\",\"b\":\"TKT1234\",\"c\":\"EMP-12345\",\"EMP-654321\":{\"x\":1},"
                      "\"d\":\"vip-ann@corp.example\"}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    EXPECT(&s, "$.a", "employee_id", PA_DET_VALUE);
    ck_assert_str_eq(find(&s, "$.a", "employee_id")->rule, "employee_id");
    EXPECT(&s, "$.b", "ticket", PA_DET_VALUE);
    ck_assert_str_eq(find(&s, "$.b", "ticket")->rule, "internal_ticket");
    ck_assert_ptr_null(find(&s, "$.c", "employee_id"));
    EXPECT(&s, "$.<employee_id>", "employee_id", PA_DET_VALUE);
    assert_not_leaked(&s, "654321");
    /* a custom pattern in a built-in category: one finding for the category at that path */
    const struct fnd *f = find(&s, "$.d", "email");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(s.n, 4);
    /* pa_detect_value reports (category, rule) pairs: the built-in and the custom rule, one category */
    struct vres v = {0};
    const char *val = "vip-bob@corp.example";
    ck_assert_int_eq(pa_detect_value(c, val, strlen(val), vcollect, &v), 1);
    ck_assert_uint_eq(v.nrules, 2);
    ck_assert(strcmp(v.rules[0], "vip_email") == 0 || strcmp(v.rules[1], "vip_email") == 0);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
    /* a broken pattern: named in the error, detector not built */
    struct pa_detect_pattern badp[] = {{"broken_one", "x", "([a-z"}};
    struct pa_detect_options o2 = {.patterns = badp, .n_patterns = 1};
    char err[256];
    ck_assert_ptr_null(pa_detect_new(&o2, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "broken_one"));
    ck_assert_ptr_nonnull(strstr(err, "hyperscan"));
}
END_TEST

START_TEST(test_check_regex)
{
    char err[256];
    ck_assert_int_eq(pa_detect_check_regex("EMP-\\d{6}", err, sizeof err), 0);
    ck_assert_int_eq(pa_detect_check_regex("(?i)abc|def", err, sizeof err), 0);
    ck_assert_int_eq(pa_detect_check_regex("([a-z", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "hyperscan"));
    ck_assert_int_eq(pa_detect_check_regex("a*", err, sizeof err), -1);      /* matches the empty string */
    ck_assert_int_eq(pa_detect_check_regex("(?<=a)b", err, sizeof err), -1); /* lookbehind: unsupported */
    ck_assert_int_eq(pa_detect_check_regex("(a)\\1", err, sizeof err), -1);  /* backreference: unsupported */
    ck_assert_int_eq(pa_detect_check_regex("", err, sizeof err), -1);
}
END_TEST

START_TEST(test_opt_max_findings)
{
    struct pa_detect_options o = {.max_findings_per_record = 2};
    struct pa_detector *d = make(&o);
    struct pa_detect_ctx *c = pa_detect_ctx_new(d);
    struct fset s;
    const char *doc = "{\"email\":\"x@example.com\",\"phone\":\"415 555 0132\",\"ssn\":\"Z1234567\","
                      "\"n\":\"a@example.com\"}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert(s.res.truncated);
    /* exactly the limit: not truncated (duplicates do not count) */
    doc = "{\"email\":\"a@example.com\",\"phone\":\"415 555 0132\"}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert(!s.res.truncated);
    /* text documents too; and PII keys past the limit are still not leaked (redaction happens first) */
    run_with(c, "a.b.c", PA_DOC_TEXT, "a@example.com 10.0.0.1 +1 415 555 0132", 38, &s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert(s.res.truncated);
    doc = "{\"email\":\"x@example.com\",\"phone\":\"415 555 0132\",\"ann@example.com\":1}";
    run_with(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), &s);
    ck_assert(s.res.truncated);
    assert_not_leaked(&s, "ann");
    /* the next document starts from zero */
    run_with(c, "a.b.c", PA_DOC_JSON, "{\"email\":\"x@y.io\"}", 18, &s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert(!s.res.truncated);
    pa_detect_ctx_free(c);
    pa_detect_free(d);
}
END_TEST

/* ---- shared detector, several threads ---------------------------------------------------------------------------- */

struct thr {
    const struct pa_detector *d;
    size_t findings;
};

static void count_cb(void *arg, const struct pa_finding *f)
{
    (void)f;
    (*(size_t *)arg)++;
}

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    struct pa_detect_ctx *c = pa_detect_ctx_new(t->d);
    const char *doc =
        "{\"email\":\"a@example.com\",\"n\":\"10.0.0.1\",\"x\":{\"b@example.org\":[\"+1 415 555 0132\"]}}";
    for (int i = 0; i < 2000; i++) {
        struct pa_doc_result r;
        pa_detect_doc(c, "a.b.c", PA_DOC_JSON, doc, strlen(doc), count_cb, &t->findings, &r);
    }
    pa_detect_ctx_free(c);
    return NULL;
}

START_TEST(test_threads)
{
    struct thr t[4];
    pthread_t id[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){g_det, 0};
        ck_assert_int_eq(pthread_create(&id[i], NULL, thread_main, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(id[i], NULL);
        ck_assert_uint_eq(t[i].findings, 2000 * 4);
    }
}
END_TEST

/* ---- regressions found by fuzzing -------------------------------------------------------------------------------- */

START_TEST(test_fuzz_regressions)
{
    /* inputs that once misbehaved: kept here so they never do again (see tests/fuzz/fuzz_detect.c) */
    static const char *const inputs[] = {
        "+",
        "@",
        ":",
        "::",
        "@.",
        "a@",
        "@a.bc",
        "+1",
        "(",
        ")",
        "(1",
        "1)",
        "1-",
        "-1",
        ".",
        "..",
        "1.",
        ".1",
        "00:00:00:00:00:0",
        "A",
        "AB12",
        "AB12 ",
        "AB12 3",
        "DE89 3704 0044 0532 0130 0",
        "1 2 3 4 5 6 7 8 9 0 1 2 3",
        "((((((((((((((((((((((((((((((((1",
        "1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",
        "::::::::::::::::::::::::::::::::::::::::::::::::::::::::::1",
        "0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0",
        "a@b.cc@d.ee@f.gg",
        "@@@@@@@@@@@@@@@@@@@@@x.com",
        ".@x.com",
        "x.@y.com",
        "{\"\":9}",
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(inputs); i++) {
        struct fset s;
        vmask(inputs[i]);
        run_json(inputs[i], &s);
        run_text(inputs[i], &s);
    }
    /* fuzz crash-7349f6ec: the key cache slot of a key seen before kept a stale entry, so the empty key "" later
     * hit it and was reported with the earlier key's category and no rule */
    struct fset s;
    run_json("{\"email\":\"x@example.com\",\"a@example.com\":1}", &s);
    ck_assert_uint_eq(s.n, 2);
    for (int rep = 0; rep < 3; rep++) {
        run_json("{\"\":9,\"\":\"a\",\"\":{\"\":[1]}}", &s);
        ck_assert_uint_eq(s.n, 0);
    }
    run_json("{\"email\":\"x@example.com\",\"\":9}", &s);
    ck_assert_uint_eq(s.n, 1);
    EXPECT(&s, "$.email", "email", PA_DET_KEY);
}
END_TEST

static Suite *detect_suite(void)
{
    Suite *s = suite_create("detect");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, test_category_names);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_dictionary);
    tcase_add_test(tc, test_key_variants);
    tcase_add_test(tc, test_key_negatives);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    /* a hang guard, not a speed target: the 1 MiB values of test_value_rules_and_multi take ~1.2 s of CPU under
     * ASan and 3.4-5.3 s of wall time on a loaded 2-core machine, past Check's 4 s default; a quadratic pass over
     * them would still take hours */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_value_email);
    tcase_add_test(tc, test_value_phone);
    tcase_add_test(tc, test_value_ssn);
    tcase_add_test(tc, test_value_credit_card);
    tcase_add_test(tc, test_value_iban);
    tcase_add_test(tc, test_value_ip);
    tcase_add_test(tc, test_value_mac);
    tcase_add_test(tc, test_value_precision);
    tcase_add_test(tc, test_value_rules_and_multi);
    tcase_add_test(tc, test_value_prefilter_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("documents");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_doc_keys);
    tcase_add_test(tc, test_doc_key_values_without_data);
    tcase_add_test(tc, test_doc_container_keys);
    tcase_add_test(tc, test_doc_values);
    tcase_add_test(tc, test_doc_pii_keys);
    tcase_add_test(tc, test_doc_geolocation);
    tcase_add_test(tc, test_doc_escapes);
    tcase_add_test(tc, test_doc_dedupe);
    tcase_add_test(tc, test_doc_many_findings);
    tcase_add_test(tc, test_doc_deep);
    tcase_add_test(tc, test_doc_text);
    tcase_add_test(tc, test_doc_memo_never_changes_results);
    tcase_add_test(tc, test_doc_name_guesses);
    tcase_add_test(tc, test_doc_value_guesses);
    tcase_add_test(tc, test_doc_invalid_json);
    tcase_add_test(tc, test_fuzz_regressions);
    suite_add_tcase(s, tc);
    tc = tcase_create("options");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_opt_ignore_keys);
    tcase_add_test(tc, test_opt_disable);
    tcase_add_test(tc, test_opt_extra_keys);
    tcase_add_test(tc, test_opt_allow_paths);
    tcase_add_test(tc, test_ctx_allow);
    tcase_add_test(tc, test_opt_patterns);
    tcase_add_test(tc, test_check_regex);
    tcase_add_test(tc, test_opt_max_findings);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char err[256];
    g_det = pa_detect_new(NULL, err, sizeof err);
    if (!g_det) {
        fprintf(stderr, "pa_detect_new: %s\n", err);
        return EXIT_FAILURE;
    }
    g_ctx = pa_detect_ctx_new(g_det);
    int rc = pa_test_run(detect_suite());
    pa_detect_ctx_free(g_ctx);
    pa_detect_free(g_det);
    return rc;
}
