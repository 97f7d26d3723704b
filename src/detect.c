/* detect: PII detection over JSON documents and strings (see detect.h and docs/detection.md).
 *
 * Keys: a key is split into lower-case tokens; the dictionary (an open-addressing hash of joined tokens, built once
 * per detector) is probed with every trailing run of tokens, right to left, with a rolling hash, so a lookup is
 * O(key length). Whole tokens only: "username" never matches "name", "passport" never matches "pass".
 * Values: one Hyperscan database holds every pattern (built-in anchors and the user's patterns) and is scanned once
 * per string. The built-in patterns are cheap anchors ("+digit", "@x.tld", ":hex:", fixed-width shapes); the C
 * validators find the candidate's extent from the anchor and check it (boundaries, octet ranges, Luhn, mod-97...),
 * so no pattern needs HS_FLAG_SOM_LEFTMOST (start-of-match tracking slows the whole database down).
 *
 * This module must never print or log anything, and must never let a byte of a scanned value reach a finding: paths
 * come from the walker (PII-looking keys redacted as <category>), rules and categories are static or configured.
 */
#include "detect.h"

#include "jsonwalk.h"

/* detect's slot in each open container of its walker (see KGUESS_BITS for the guesses). */
struct dslot {
    uint16_t geo;  /* objects: 1 when a latitude member carried data, 2 a longitude one (3: a lat/lng pair) */
    uint16_t base; /* the container's guess base */
    uint32_t next; /* objects: the guess context of the next member name */
};

/* Documents are walked by a copy of the walker (jsonwalk_impl.h) that calls on_event directly: it is inlined at each
 * event site, where the event's kind is a constant. */
static inline __attribute__((always_inline)) int on_event(void *arg, struct pa_jw *w, const struct pa_jw_event *ev);
#define JW_DELIVER(cb_, ctx_, w_, ev_) ((void)(cb_), on_event((ctx_), (w_), (ev_)))
#define JW_USER_T struct dslot
#include "jsonwalk_impl.h"

#include "arch.h"

#include <arpa/inet.h>
#include <hs/hs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* Character classes (ASCII only: locale-independent and branch-cheap)                                          */

enum {
    CC_DIGIT = 1,
    CC_UPPER = 2,
    CC_LOWER = 4,
    CC_HEX = 8,
    CC_EMAIL_LOCAL = 16,  /* [A-Za-z0-9._%+'-] */
    CC_DOMAIN = 32,       /* [A-Za-z0-9.-] */
    CC_SPACE = 64,
};

static uint8_t cclass[256];
/* The prefilter's byte classes as lanes of a word (worth_scanning adds them up): digit, upper, ':', '.', '-', '+',
 * ' ', '@' in bytes 0..7. */
static uint64_t plane[256];
static pthread_once_t cclass_once = PTHREAD_ONCE_INIT;

static bool have_popcnt __attribute__((unused)); /* read only where the mask prefilter is built */

static void cclass_init(void)
{
#ifdef PA_HAVE_POPCNT_DISPATCH
    __builtin_cpu_init();
    have_popcnt = __builtin_cpu_supports("popcnt");
#endif
    for (int c = 0; c < 256; c++) {
        uint8_t f = 0;
        if (c >= '0' && c <= '9')
            f |= CC_DIGIT | CC_HEX | CC_EMAIL_LOCAL | CC_DOMAIN;
        if (c >= 'A' && c <= 'Z')
            f |= CC_UPPER | CC_EMAIL_LOCAL | CC_DOMAIN;
        if (c >= 'a' && c <= 'z')
            f |= CC_LOWER | CC_EMAIL_LOCAL | CC_DOMAIN;
        if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            f |= CC_HEX;
        if (c == '.' || c == '_' || c == '%' || c == '+' || c == '\'' || c == '-')
            f |= CC_EMAIL_LOCAL;
        if (c == '.' || c == '-')
            f |= CC_DOMAIN;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            f |= CC_SPACE;
        cclass[c] = f;
        uint64_t l = 0;
        if (c >= '0' && c <= '9')
            l = 1;
        else if (c >= 'A' && c <= 'Z')
            l = 1ULL << 8;
        else if (c == ':')
            l = 1ULL << 16;
        else if (c == '.')
            l = 1ULL << 24;
        else if (c == '-')
            l = 1ULL << 32;
        else if (c == '+')
            l = 1ULL << 40;
        else if (c == ' ')
            l = 1ULL << 48;
        else if (c == '@')
            l = 1ULL << 56;
        plane[c] = l;
    }
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static inline bool is_alpha(unsigned char c)
{
    return cclass[c] & (CC_UPPER | CC_LOWER);
}
static inline bool is_alnum(unsigned char c)
{
    return cclass[c] & (CC_UPPER | CC_LOWER | CC_DIGIT);
}
static inline bool is_hex(unsigned char c)
{
    return cclass[c] & CC_HEX;
}
static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive equality with a lower-case ASCII word. */
static bool ci_eq(const unsigned char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (wl != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != (unsigned char)w[i])
            return false;
    return true;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Categories                                                                                                   */

static const char *const builtin_cat_names[PA_CAT_BUILTIN_COUNT] = {
    [PA_CAT_EMAIL] = "email",
    [PA_CAT_PHONE] = "phone",
    [PA_CAT_NATIONAL_ID] = "national_id",
    [PA_CAT_PERSON_NAME] = "person_name",
    [PA_CAT_IP_ADDRESS] = "ip_address",
    [PA_CAT_STREET_ADDRESS] = "street_address",
    [PA_CAT_DATE_OF_BIRTH] = "date_of_birth",
    [PA_CAT_CREDIT_CARD] = "credit_card",
    [PA_CAT_IBAN] = "iban",
    [PA_CAT_GEOLOCATION] = "geolocation",
    [PA_CAT_DEVICE_ID] = "device_id",
    [PA_CAT_MAC_ADDRESS] = "mac_address",
    [PA_CAT_POSTAL_CODE] = "postal_code",
};

const char *pa_category_name(int category)
{
    if (category < 0 || category >= PA_CAT_BUILTIN_COUNT)
        return NULL;
    return builtin_cat_names[category];
}

int pa_category_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++)
        if (strcmp(builtin_cat_names[i], name) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The default key dictionary. Entries are written as underscore-separated tokens; the joined form ("emailaddress")
 * is what keys are compared with, the underscore form names the rule ("key:email_address").
 * DF_WHOLE: only when it is the whole key (never as trailing tokens: "angle_sin", "camera_pan").
 * CAT_STOP: a longer entry that blocks a shorter trailing match ("wallet_address" is not a street address).
 * Every entry is documented in docs/detection.md; test_detect.c fails on duplicates. */

#define CAT_STOP (-2)
enum { DF_WHOLE = 1 };

struct dict_src {
    const char *words;
    int cat;
    unsigned flags;
};

static const struct dict_src dict_src[] = {
    /* email */
    {"email", PA_CAT_EMAIL, 0},
    {"email_address", PA_CAT_EMAIL, 0},
    {"email_addr", PA_CAT_EMAIL, 0},
    {"mail_address", PA_CAT_EMAIL, 0},
    /* phone */
    {"phone", PA_CAT_PHONE, 0},
    {"phone_number", PA_CAT_PHONE, 0},
    {"phone_no", PA_CAT_PHONE, 0},
    {"phone_num", PA_CAT_PHONE, 0},
    {"telephone", PA_CAT_PHONE, 0},
    {"telephone_number", PA_CAT_PHONE, 0},
    {"tel", PA_CAT_PHONE, 0},
    {"tel_no", PA_CAT_PHONE, 0},
    {"tel_number", PA_CAT_PHONE, 0},
    {"mobile", PA_CAT_PHONE, 0},
    {"mobile_phone", PA_CAT_PHONE, 0},
    {"mobile_number", PA_CAT_PHONE, 0},
    {"mobile_no", PA_CAT_PHONE, 0},
    {"cellphone", PA_CAT_PHONE, 0},
    {"cell_number", PA_CAT_PHONE, 0},
    {"cell_no", PA_CAT_PHONE, 0},
    {"msisdn", PA_CAT_PHONE, 0},
    {"fax", PA_CAT_PHONE, 0},
    {"fax_number", PA_CAT_PHONE, 0},
    {"contact_number", PA_CAT_PHONE, 0},
    {"landline", PA_CAT_PHONE, 0},
    /* national_id */
    {"ssn", PA_CAT_NATIONAL_ID, 0},
    {"social_security_number", PA_CAT_NATIONAL_ID, 0},
    {"social_security", PA_CAT_NATIONAL_ID, 0},
    {"social_security_no", PA_CAT_NATIONAL_ID, 0},
    {"national_id", PA_CAT_NATIONAL_ID, 0},
    {"national_id_number", PA_CAT_NATIONAL_ID, 0},
    {"national_identity_number", PA_CAT_NATIONAL_ID, 0},
    {"national_identification_number", PA_CAT_NATIONAL_ID, 0},
    {"national_insurance_number", PA_CAT_NATIONAL_ID, 0},
    {"nino", PA_CAT_NATIONAL_ID, 0},
    {"nin", PA_CAT_NATIONAL_ID, DF_WHOLE},
    {"passport", PA_CAT_NATIONAL_ID, 0},
    {"passport_number", PA_CAT_NATIONAL_ID, 0},
    {"passport_no", PA_CAT_NATIONAL_ID, 0},
    {"drivers_license", PA_CAT_NATIONAL_ID, 0},
    {"driver_license", PA_CAT_NATIONAL_ID, 0},
    {"drivers_license_number", PA_CAT_NATIONAL_ID, 0},
    {"driver_license_number", PA_CAT_NATIONAL_ID, 0},
    {"drivers_licence", PA_CAT_NATIONAL_ID, 0},
    {"driver_licence", PA_CAT_NATIONAL_ID, 0},
    {"driving_licence", PA_CAT_NATIONAL_ID, 0},
    {"driving_license", PA_CAT_NATIONAL_ID, 0},
    {"driving_licence_number", PA_CAT_NATIONAL_ID, 0},
    {"driving_license_number", PA_CAT_NATIONAL_ID, 0},
    {"tax_id", PA_CAT_NATIONAL_ID, 0},
    {"tax_id_number", PA_CAT_NATIONAL_ID, 0},
    {"taxpayer_id", PA_CAT_NATIONAL_ID, 0},
    {"tax_identification_number", PA_CAT_NATIONAL_ID, 0},
    {"tin", PA_CAT_NATIONAL_ID, 0},
    {"itin", PA_CAT_NATIONAL_ID, 0},
    {"sin", PA_CAT_NATIONAL_ID, DF_WHOLE},
    {"social_insurance_number", PA_CAT_NATIONAL_ID, 0},
    {"id_card_number", PA_CAT_NATIONAL_ID, 0},
    {"identity_card_number", PA_CAT_NATIONAL_ID, 0},
    {"aadhaar", PA_CAT_NATIONAL_ID, 0},
    {"aadhaar_number", PA_CAT_NATIONAL_ID, 0},
    {"cpf", PA_CAT_NATIONAL_ID, 0},
    {"curp", PA_CAT_NATIONAL_ID, 0},
    {"dni", PA_CAT_NATIONAL_ID, 0},
    {"nif", PA_CAT_NATIONAL_ID, 0},
    {"nie", PA_CAT_NATIONAL_ID, 0},
    {"bsn", PA_CAT_NATIONAL_ID, 0},
    {"pesel", PA_CAT_NATIONAL_ID, 0},
    {"personnummer", PA_CAT_NATIONAL_ID, 0},
    /* person_name */
    {"first_name", PA_CAT_PERSON_NAME, 0},
    {"last_name", PA_CAT_PERSON_NAME, 0},
    {"full_name", PA_CAT_PERSON_NAME, 0},
    {"given_name", PA_CAT_PERSON_NAME, 0},
    {"family_name", PA_CAT_PERSON_NAME, 0},
    {"surname", PA_CAT_PERSON_NAME, 0},
    {"middle_name", PA_CAT_PERSON_NAME, 0},
    {"maiden_name", PA_CAT_PERSON_NAME, 0},
    {"birth_name", PA_CAT_PERSON_NAME, 0},
    {"forename", PA_CAT_PERSON_NAME, 0},
    {"fname", PA_CAT_PERSON_NAME, 0},
    {"lname", PA_CAT_PERSON_NAME, 0},
    {"account_holder_name", PA_CAT_PERSON_NAME, 0},
    {"cardholder_name", PA_CAT_PERSON_NAME, 0},
    {"name_on_card", PA_CAT_PERSON_NAME, 0},
    {"customer_name", PA_CAT_PERSON_NAME, 0},
    {"contact_name", PA_CAT_PERSON_NAME, 0},
    {"person_name", PA_CAT_PERSON_NAME, 0},
    {"patient_name", PA_CAT_PERSON_NAME, 0},
    {"employee_name", PA_CAT_PERSON_NAME, 0},
    {"recipient_name", PA_CAT_PERSON_NAME, 0},
    {"billing_name", PA_CAT_PERSON_NAME, 0},
    {"shipping_name", PA_CAT_PERSON_NAME, 0},
    /* ip_address */
    {"ip", PA_CAT_IP_ADDRESS, 0},
    {"ip_address", PA_CAT_IP_ADDRESS, 0},
    {"ip_addr", PA_CAT_IP_ADDRESS, 0},
    {"ipv4", PA_CAT_IP_ADDRESS, 0},
    {"ipv6", PA_CAT_IP_ADDRESS, 0},
    {"ipv4_address", PA_CAT_IP_ADDRESS, 0},
    {"ipv6_address", PA_CAT_IP_ADDRESS, 0},
    {"clientip", PA_CAT_IP_ADDRESS, 0},
    {"remoteip", PA_CAT_IP_ADDRESS, 0},
    {"remote_addr", PA_CAT_IP_ADDRESS, 0},
    {"remote_address", PA_CAT_IP_ADDRESS, 0},
    {"client_address", PA_CAT_IP_ADDRESS, 0},
    {"x_forwarded_for", PA_CAT_IP_ADDRESS, 0},
    {"forwarded_for", PA_CAT_IP_ADDRESS, 0},
    /* street_address */
    {"address", PA_CAT_STREET_ADDRESS, 0},
    {"street_address", PA_CAT_STREET_ADDRESS, 0},
    {"street", PA_CAT_STREET_ADDRESS, 0},
    {"street_name", PA_CAT_STREET_ADDRESS, 0},
    {"address_line", PA_CAT_STREET_ADDRESS, 0},
    {"address_line_1", PA_CAT_STREET_ADDRESS, 0},
    {"address_line_2", PA_CAT_STREET_ADDRESS, 0},
    {"service_address", PA_CAT_STREET_ADDRESS, 0},
    {"home_address", PA_CAT_STREET_ADDRESS, 0},
    {"postal_address", PA_CAT_STREET_ADDRESS, 0},
    {"mailing_address", PA_CAT_STREET_ADDRESS, 0},
    {"residential_address", PA_CAT_STREET_ADDRESS, 0},
    {"billing_address", PA_CAT_STREET_ADDRESS, 0},
    {"shipping_address", PA_CAT_STREET_ADDRESS, 0},
    {"delivery_address", PA_CAT_STREET_ADDRESS, 0},
    /* "...address" keys that are not postal addresses */
    {"web_address", CAT_STOP, 0},
    {"wallet_address", CAT_STOP, 0},
    {"contract_address", CAT_STOP, 0},
    {"token_address", CAT_STOP, 0},
    {"bitcoin_address", CAT_STOP, 0},
    {"btc_address", CAT_STOP, 0},
    {"eth_address", CAT_STOP, 0},
    {"ethereum_address", CAT_STOP, 0},
    {"crypto_address", CAT_STOP, 0},
    {"deposit_address", CAT_STOP, 0},
    {"server_address", CAT_STOP, 0},
    {"bind_address", CAT_STOP, 0},
    {"listen_address", CAT_STOP, 0},
    {"host_address", CAT_STOP, 0},
    {"local_address", CAT_STOP, 0},
    {"node_address", CAT_STOP, 0},
    {"socket_address", CAT_STOP, 0},
    {"network_address", CAT_STOP, 0},
    {"broadcast_address", CAT_STOP, 0},
    {"multicast_address", CAT_STOP, 0},
    {"gateway_address", CAT_STOP, 0},
    {"proxy_address", CAT_STOP, 0},
    {"memory_address", CAT_STOP, 0},
    {"base_address", CAT_STOP, 0},
    {"device_address", CAT_STOP, 0},
    /* date_of_birth */
    {"dob", PA_CAT_DATE_OF_BIRTH, 0},
    {"date_of_birth", PA_CAT_DATE_OF_BIRTH, 0},
    {"birthdate", PA_CAT_DATE_OF_BIRTH, 0},
    {"birthday", PA_CAT_DATE_OF_BIRTH, 0},
    {"bday", PA_CAT_DATE_OF_BIRTH, 0},
    /* credit_card */
    {"credit_card", PA_CAT_CREDIT_CARD, 0},
    {"credit_card_number", PA_CAT_CREDIT_CARD, 0},
    {"credit_card_no", PA_CAT_CREDIT_CARD, 0},
    {"debit_card", PA_CAT_CREDIT_CARD, 0},
    {"card_number", PA_CAT_CREDIT_CARD, 0},
    {"card_no", PA_CAT_CREDIT_CARD, 0},
    {"cc_number", PA_CAT_CREDIT_CARD, 0},
    {"cc_num", PA_CAT_CREDIT_CARD, 0},
    {"pan", PA_CAT_CREDIT_CARD, DF_WHOLE},
    {"card_pan", PA_CAT_CREDIT_CARD, 0},
    {"primary_account_number", PA_CAT_CREDIT_CARD, 0},
    {"cvv", PA_CAT_CREDIT_CARD, 0},
    {"cvv_2", PA_CAT_CREDIT_CARD, 0},
    {"cvc", PA_CAT_CREDIT_CARD, 0},
    {"cvc_2", PA_CAT_CREDIT_CARD, 0},
    /* iban */
    {"iban", PA_CAT_IBAN, 0},
    {"iban_number", PA_CAT_IBAN, 0},
    {"bban", PA_CAT_IBAN, 0},
    {"bank_account", PA_CAT_IBAN, 0},
    {"bank_account_number", PA_CAT_IBAN, 0},
    /* geolocation (lat/lng pairs are handled separately: rule key:lat_lng_pair) */
    {"coordinates", PA_CAT_GEOLOCATION, 0},
    {"geolocation", PA_CAT_GEOLOCATION, 0},
    {"geo_coordinates", PA_CAT_GEOLOCATION, 0},
    {"gps_coordinates", PA_CAT_GEOLOCATION, 0},
    {"gps_location", PA_CAT_GEOLOCATION, 0},
    {"geo_point", PA_CAT_GEOLOCATION, 0},
    {"lat_lng", PA_CAT_GEOLOCATION, 0},
    {"lat_lon", PA_CAT_GEOLOCATION, 0},
    {"lat_long", PA_CAT_GEOLOCATION, 0},
    /* device_id */
    {"device_advertising_id", PA_CAT_DEVICE_ID, 0},
    {"advertising_id", PA_CAT_DEVICE_ID, 0},
    {"idfa", PA_CAT_DEVICE_ID, 0},
    {"idfv", PA_CAT_DEVICE_ID, 0},
    {"gaid", PA_CAT_DEVICE_ID, 0},
    {"aaid", PA_CAT_DEVICE_ID, 0},
    {"adid", PA_CAT_DEVICE_ID, 0},
    {"android_id", PA_CAT_DEVICE_ID, 0},
    {"imei", PA_CAT_DEVICE_ID, 0},
    {"udid", PA_CAT_DEVICE_ID, 0},
    /* mac_address */
    {"mac_address", PA_CAT_MAC_ADDRESS, 0},
    {"mac_addr", PA_CAT_MAC_ADDRESS, 0},
    {"hw_addr", PA_CAT_MAC_ADDRESS, 0},
    {"hardware_address", PA_CAT_MAC_ADDRESS, 0},
    {"bssid", PA_CAT_MAC_ADDRESS, 0},
    /* postal_code */
    {"zip", PA_CAT_POSTAL_CODE, 0},
    {"zip_code", PA_CAT_POSTAL_CODE, 0},
    {"postal_code", PA_CAT_POSTAL_CODE, 0},
    {"postcode", PA_CAT_POSTAL_CODE, 0},
    {"plz", PA_CAT_POSTAL_CODE, 0},
};

#define N_DICT_SRC PA_ARRAY_LEN(dict_src)
#define DICT_WORD_MAX 48

static char dict_joined[N_DICT_SRC][DICT_WORD_MAX];
static char dict_rule[N_DICT_SRC][DICT_WORD_MAX + 8];
static struct pa_dict_entry dict_public[N_DICT_SRC];
static size_t n_dict_public;
static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static void dict_init(void)
{
    for (size_t i = 0; i < N_DICT_SRC; i++) {
        const char *w = dict_src[i].words;
        size_t k = 0;
        for (const char *p = w; *p && k + 1 < DICT_WORD_MAX; p++)
            if (*p != '_')
                dict_joined[i][k++] = *p;
        dict_joined[i][k] = '\0';
        snprintf(dict_rule[i], sizeof dict_rule[i], "key:%s", w);
        if (dict_src[i].cat >= 0) {
            dict_public[n_dict_public].joined = dict_joined[i];
            dict_public[n_dict_public].category = dict_src[i].cat;
            n_dict_public++;
        }
    }
}

static void iban_init(void);
static pthread_once_t iban_once = PTHREAD_ONCE_INIT;

static void module_init(void)
{
    pthread_once(&cclass_once, cclass_init);
    pthread_once(&dict_once, dict_init);
    pthread_once(&iban_once, iban_init);
}

const struct pa_dict_entry *pa_detect_default_dictionary(size_t *n)
{
    module_init();
    if (n)
        *n = n_dict_public;
    return dict_public;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Key normalization                                                                                            */

#define KEY_WINDOW 256 /* a longer key is normalized from its last 256 bytes: only trailing tokens can match */
#define MAX_TOKENS KEY_WINDOW /* a token is at least one byte: never reached */

struct tokens {
    char joined[KEY_WINDOW + 1]; /* tokens concatenated, lower case */
    size_t len;
    uint16_t start[MAX_TOKENS + 1]; /* start[i]: offset of token i in joined; start[n] = len */
    size_t n;
};

enum { K_SEP, K_UPPER, K_LOWER, K_DIGIT };

static inline int kclass(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return K_UPPER;
    if ((c >= 'a' && c <= 'z') || c >= 0x80) /* UTF-8 bytes are letters without case */
        return K_LOWER;
    if (c >= '0' && c <= '9')
        return K_DIGIT;
    return K_SEP;
}

/* Split on non-alphanumerics, lower->Upper ("emailAddress"), acronym->Word ("IPAddress" = IP Address), and
 * letter<->digit ("addressLine1" = address line 1). An acronym followed by one lower-case letter and then a
 * non-letter stays whole ("IPs", "IPv4"), so plurals and "v4" suffixes of acronyms do not split. */
static void tokenize(const char *key, size_t len, struct tokens *t)
{
    if (len > KEY_WINDOW) {
        key += len - KEY_WINDOW;
        len = KEY_WINDOW;
    }
    const unsigned char *k = (const unsigned char *)key;
    t->len = 0;
    t->n = 0;
    int prev = K_SEP;
    for (size_t i = 0; i < len; i++) {
        int c = kclass(k[i]);
        if (c == K_SEP) {
            prev = K_SEP;
            continue;
        }
        bool split = false;
        if (prev == K_SEP)
            split = true;
        else if (prev == K_LOWER && c == K_UPPER)
            split = true;
        else if ((prev == K_DIGIT) != (c == K_DIGIT))
            split = true;
        else if (prev == K_UPPER && c == K_UPPER && i + 1 < len && kclass(k[i + 1]) == K_LOWER) {
            /* "IPAddress": split before 'A' unless the lower-case run is a single letter ("IPs", "IPv4") */
            bool single = !(i + 2 < len && kclass(k[i + 2]) == K_LOWER);
            split = !single;
        }
        if (split) {
            if (t->n == MAX_TOKENS)
                break;
            t->start[t->n++] = (uint16_t)t->len;
        }
        t->joined[t->len++] = (char)lower(k[i]);
        prev = c;
    }
    t->joined[t->len] = '\0';
    t->start[t->n] = (uint16_t)t->len;
}

size_t pa_detect_normalize_key(const char *key, size_t len, char *out, size_t cap)
{
    module_init();
    if (!cap)
        return 0;
    struct tokens t;
    tokenize(key, len, &t);
    size_t o = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (i && o + 1 < cap)
            out[o++] = ' ';
        for (size_t j = t.start[i]; j < t.start[i + 1] && o + 1 < cap; j++)
            out[o++] = t.joined[j];
    }
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Dictionary hash table: open addressing over joined strings; hash = sum c[i] * B^(n-1-i), so a suffix's hash is
 * extended to the left in O(1) per byte.                                                                       */

#define HASH_B 0x100000001b3ULL

struct dent {
    const char *joined;
    size_t len;
    uint64_t h;
    int cat;          /* category id, or CAT_STOP */
    unsigned flags;   /* DF_* */
    const char *rule; /* "key:..." */
};

struct dtab {
    struct dent *e;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t mask;
    size_t maxlen;
};

static uint64_t suffix_hash(const char *s, size_t n)
{
    uint64_t h = 0, pw = 1;
    for (size_t i = n; i-- > 0;) {
        h += (uint64_t)(unsigned char)s[i] * pw;
        pw *= HASH_B;
    }
    return h;
}

static inline size_t slot_of(uint64_t h, size_t mask)
{
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

static const struct dent *dtab_find(const struct dtab *t, uint64_t h, const char *s, size_t n)
{
    if (!t->slots)
        return NULL;
    for (size_t i = slot_of(h, t->mask);; i = (i + 1) & t->mask) {
        uint32_t v = t->slots[i];
        if (!v)
            return NULL;
        const struct dent *e = &t->e[v - 1];
        if (e->h == h && e->len == n && memcmp(e->joined, s, n) == 0)
            return e;
    }
}

/* Insert or replace (a later entry for the same joined key wins: extra_keys override the defaults). */
static void dtab_put(struct dtab *t, const char *joined, size_t len, int cat, unsigned flags, const char *rule)
{
    uint64_t h = suffix_hash(joined, len);
    if (t->slots) {
        for (size_t i = slot_of(h, t->mask);; i = (i + 1) & t->mask) {
            uint32_t v = t->slots[i];
            if (!v)
                break;
            struct dent *e = &t->e[v - 1];
            if (e->h == h && e->len == len && memcmp(e->joined, joined, len) == 0) {
                e->cat = cat;
                e->flags = flags;
                e->rule = rule;
                return;
            }
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->e = pa_xrealloc(t->e, t->cap * sizeof *t->e);
    }
    t->e[t->n++] = (struct dent){joined, len, h, cat, flags, rule};
    if (len > t->maxlen)
        t->maxlen = len;
    if (!t->slots || t->n * 2 > t->mask + 1) {
        size_t size = t->slots ? (t->mask + 1) * 2 : 256;
        while (t->n * 2 > size)
            size *= 2;
        free(t->slots);
        t->slots = pa_xcalloc(size, sizeof *t->slots);
        t->mask = size - 1;
        for (size_t k = 0; k < t->n; k++) {
            size_t i = slot_of(t->e[k].h, t->mask);
            while (t->slots[i])
                i = (i + 1) & t->mask;
            t->slots[i] = (uint32_t)(k + 1);
        }
    } else {
        size_t i = slot_of(h, t->mask);
        while (t->slots[i])
            i = (i + 1) & t->mask;
        t->slots[i] = (uint32_t)t->n;
    }
}

static void dtab_free(struct dtab *t)
{
    free(t->e);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* Longest trailing token run of joined[0..len) (token starts in start[0..n)) that is in the table. */
static const struct dent *dtab_suffix(const struct dtab *t, const char *joined, size_t len, const uint16_t *start,
                                      size_t n)
{
    const struct dent *best = NULL;
    uint64_t h = 0, pw = 1;
    size_t pos = len;
    for (size_t k = n; k-- > 0;) {
        size_t ts = start[k];
        if (len - ts > t->maxlen)
            break;
        for (; pos > ts; pos--) {
            h += (uint64_t)(unsigned char)joined[pos - 1] * pw;
            pw *= HASH_B;
        }
        const struct dent *e = dtab_find(t, h, joined + ts, len - ts);
        if (e && (!(e->flags & DF_WHOLE) || k == 0))
            best = e;
    }
    return best;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Value patterns                                                                                               */

enum {
    P_EMAIL,
    P_PHONE_E164,
    P_PHONE_NAT,
    P_SSN,
    P_CC,
    P_IBAN,
    P_IPV4,
    P_IPV6,
    P_MAC,
    P_BUILTIN_COUNT
};

static const struct {
    const char *expr;
    int cat;
} builtin_patterns[P_BUILTIN_COUNT] = {
    /* anchored on the '@' and the first two letters of the domain's second label */
    [P_EMAIL] = {"[A-Za-z0-9._%+'\\-]@[A-Za-z0-9\\-]+\\.[A-Za-z]{2}", PA_CAT_EMAIL},
    [P_PHONE_E164] = {"\\+[1-9]", PA_CAT_PHONE},
    [P_PHONE_NAT] = {"\\d(?:[\\-. ]|\\) ?)\\d{1,4}[\\-. ]\\d{2,4}", PA_CAT_PHONE},
    [P_SSN] = {"\\d{3}-\\d{2}-\\d{4}|\\d{3} \\d{2} \\d{4}", PA_CAT_NATIONAL_ID},
    [P_CC] = {"\\d(?:[ \\-]?\\d){12,18}", PA_CAT_CREDIT_CARD},
    [P_IBAN] = {"[A-Z]{2}\\d{2}[ \\-]?[A-Z0-9]{4}", PA_CAT_IBAN},
    [P_IPV4] = {"\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}", PA_CAT_IP_ADDRESS},
    [P_IPV6] = {":[0-9A-Fa-f]{0,4}:", PA_CAT_IP_ADDRESS},
    [P_MAC] = {"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}"
               "|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}",
               PA_CAT_MAC_ADDRESS},
};

/* Built-in rules (value detectors). Custom patterns get rule ids R_BUILTIN_COUNT + i. */
enum {
    R_EMAIL,
    R_PHONE_E164,
    R_PHONE_NATIONAL,
    R_SSN,
    R_SSN_BARE,
    R_CC,
    R_IBAN,
    R_IPV4,
    R_IPV6,
    R_MAC,
    R_BUILTIN_COUNT
};

static const char *const builtin_rule_names[R_BUILTIN_COUNT] = {
    [R_EMAIL] = "email",
    [R_PHONE_E164] = "phone_e164",
    [R_PHONE_NATIONAL] = "phone_national",
    [R_SSN] = "ssn",
    [R_SSN_BARE] = "ssn_bare_under_id_key",
    [R_CC] = "credit_card_luhn",
    [R_IBAN] = "iban_mod97",
    [R_IPV4] = "ipv4",
    [R_IPV6] = "ipv6",
    [R_MAC] = "mac_address",
};

static const int builtin_rule_cat[R_BUILTIN_COUNT] = {
    [R_EMAIL] = PA_CAT_EMAIL,         [R_PHONE_E164] = PA_CAT_PHONE,     [R_PHONE_NATIONAL] = PA_CAT_PHONE,
    [R_SSN] = PA_CAT_NATIONAL_ID,     [R_SSN_BARE] = PA_CAT_NATIONAL_ID, [R_CC] = PA_CAT_CREDIT_CARD,
    [R_IBAN] = PA_CAT_IBAN,           [R_IPV4] = PA_CAT_IP_ADDRESS,      [R_IPV6] = PA_CAT_IP_ADDRESS,
    [R_MAC] = PA_CAT_MAC_ADDRESS,
};

/* ------------------------------------------------------------------------------------------------------------ */
/* Detector                                                                                                     */

struct allow_path {
    char *surface;
    char *path;
};

struct pa_detector {
    hs_database_t *db; /* NULL when no pattern is enabled */
    size_t min_width;  /* shortest possible match of any pattern */
    bool precheck;     /* no custom pattern: a string without a trigger byte cannot match */

    char **cat_names; /* [n_cats]: built-in names (static) then custom (owned) */
    bool *cat_owned;
    bool *cat_disabled;
    size_t n_cats;

    const char **rule_names; /* [n_rules] */
    int *rule_cat;
    size_t n_rules;

    struct dtab dict;
    struct dtab ignore;
    char **owned_strings; /* joined keys and rule names of extra_keys / ignore_keys */
    size_t n_owned;

    struct allow_path *allow;
    size_t n_allow;

    size_t max_findings;
};

static int cat_intern(struct pa_detector *d, const char *name)
{
    for (size_t i = 0; i < d->n_cats; i++)
        if (strcmp(d->cat_names[i], name) == 0)
            return (int)i;
    d->cat_names = pa_xrealloc(d->cat_names, (d->n_cats + 1) * sizeof *d->cat_names);
    d->cat_owned = pa_xrealloc(d->cat_owned, (d->n_cats + 1) * sizeof *d->cat_owned);
    d->cat_disabled = pa_xrealloc(d->cat_disabled, (d->n_cats + 1) * sizeof *d->cat_disabled);
    d->cat_names[d->n_cats] = pa_xstrdup(name);
    d->cat_owned[d->n_cats] = true;
    d->cat_disabled[d->n_cats] = false;
    return (int)d->n_cats++;
}

static char *own(struct pa_detector *d, char *s)
{
    d->owned_strings = pa_xrealloc(d->owned_strings, (d->n_owned + 1) * sizeof *d->owned_strings);
    d->owned_strings[d->n_owned++] = s;
    return s;
}

const char *pa_detect_category_name(const struct pa_detector *d, int category_id)
{
    if (!d || category_id < 0 || (size_t)category_id >= d->n_cats)
        return NULL;
    return d->cat_names[category_id];
}

void pa_detect_free(struct pa_detector *d)
{
    if (!d)
        return;
    if (d->db)
        hs_free_database(d->db);
    for (size_t i = 0; i < d->n_cats; i++)
        if (d->cat_owned[i])
            free(d->cat_names[i]);
    free(d->cat_names);
    free(d->cat_owned);
    free(d->cat_disabled);
    free(d->rule_names);
    free(d->rule_cat);
    dtab_free(&d->dict);
    dtab_free(&d->ignore);
    for (size_t i = 0; i < d->n_owned; i++)
        free(d->owned_strings[i]);
    free(d->owned_strings);
    for (size_t i = 0; i < d->n_allow; i++) {
        free(d->allow[i].surface);
        free(d->allow[i].path);
    }
    free(d->allow);
    free(d);
}

int pa_detect_check_regex(const char *regex, char *err, size_t errlen)
{
    hs_database_t *db = NULL;
    hs_compile_error_t *cerr = NULL;
    if (!regex || !*regex) {
        snprintf(err, errlen, "empty regular expression");
        return -1;
    }
    if (hs_compile(regex, HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
        snprintf(err, errlen, "regular expression rejected by hyperscan: %s",
                 cerr && cerr->message ? cerr->message : "unknown error");
        hs_free_compile_error(cerr);
        return -1;
    }
    hs_free_database(db);
    return 0;
}

/* Normalize a configured key into an owned joined string ("Email-Address" -> "emailaddress") and its rule
 * ("key:email_address"). */
static char *joined_of(const char *key, char **rule_out)
{
    struct tokens t;
    tokenize(key, strlen(key), &t);
    char *j = pa_xstrndup(t.joined, t.len);
    if (rule_out) {
        struct pa_buf b;
        pa_buf_init(&b);
        pa_buf_appends(&b, "key:");
        for (size_t i = 0; i < t.n; i++) {
            if (i)
                pa_buf_appendc(&b, '_');
            pa_buf_append(&b, t.joined + t.start[i], t.start[i + 1] - t.start[i]);
        }
        *rule_out = b.data;
    }
    return j;
}

struct pa_detector *pa_detect_new(const struct pa_detect_options *opt, char *err, size_t errlen)
{
    module_init();
    static const struct pa_detect_options no_options;
    if (!opt)
        opt = &no_options;
    struct pa_detector *d = pa_xcalloc(1, sizeof *d);
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    hs_compile_error_t *cerr = NULL;

    for (int i = 0; i < PA_CAT_BUILTIN_COUNT; i++) {
        cat_intern(d, builtin_cat_names[i]);
        free(d->cat_names[i]);
        d->cat_names[i] = (char *)builtin_cat_names[i];
        d->cat_owned[i] = false;
    }
    /* Custom categories: every name used by extra_keys or patterns. */
    for (size_t i = 0; i < opt->n_extra_keys; i++) {
        if (!opt->extra_keys[i].category || !opt->extra_keys[i].key) {
            snprintf(err, errlen, "detectors.extra_keys[%zu]: category and key are required", i);
            goto fail;
        }
        cat_intern(d, opt->extra_keys[i].category);
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        const struct pa_detect_pattern *p = &opt->patterns[i];
        if (!p->name || !p->category || !p->regex) {
            snprintf(err, errlen, "detectors.patterns[%zu]: name, category and regex are required", i);
            goto fail;
        }
        cat_intern(d, p->category);
    }
    for (size_t i = 0; i < opt->n_disable; i++) {
        int c = -1;
        for (size_t k = 0; k < d->n_cats; k++)
            if (strcmp(d->cat_names[k], opt->disable[i]) == 0)
                c = (int)k;
        if (c < 0) {
            snprintf(err, errlen, "detectors.disable: unknown category \"%s\" (built-in: email, phone, national_id, "
                     "person_name, ip_address, street_address, date_of_birth, credit_card, iban, geolocation, "
                     "device_id, mac_address, postal_code)", opt->disable[i]);
            goto fail;
        }
        d->cat_disabled[c] = true;
    }

    /* Rules. */
    d->n_rules = R_BUILTIN_COUNT + opt->n_patterns;
    d->rule_names = pa_xcalloc(d->n_rules, sizeof *d->rule_names);
    d->rule_cat = pa_xcalloc(d->n_rules, sizeof *d->rule_cat);
    for (size_t i = 0; i < R_BUILTIN_COUNT; i++) {
        d->rule_names[i] = builtin_rule_names[i];
        d->rule_cat[i] = builtin_rule_cat[i];
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        d->rule_names[R_BUILTIN_COUNT + i] = opt->patterns[i].name;
        d->rule_cat[R_BUILTIN_COUNT + i] = cat_intern(d, opt->patterns[i].category);
    }

    /* Dictionary: defaults, then extra_keys (which override a default entry for the same key). */
    for (size_t i = 0; i < N_DICT_SRC; i++)
        dtab_put(&d->dict, dict_joined[i], strlen(dict_joined[i]), dict_src[i].cat, dict_src[i].flags, dict_rule[i]);
    for (size_t i = 0; i < opt->n_extra_keys; i++) {
        char *rule = NULL;
        char *j = own(d, joined_of(opt->extra_keys[i].key, &rule));
        own(d, rule);
        if (!*j) {
            snprintf(err, errlen, "detectors.extra_keys: key \"%s\" has no letters or digits", opt->extra_keys[i].key);
            goto fail;
        }
        dtab_put(&d->dict, j, strlen(j), cat_intern(d, opt->extra_keys[i].category), 0, rule);
    }
    for (size_t i = 0; i < opt->n_ignore_keys; i++) {
        char *j = own(d, joined_of(opt->ignore_keys[i], NULL));
        if (*j)
            dtab_put(&d->ignore, j, strlen(j), 0, 0, NULL);
    }

    /* allow_paths: "schema.table.column:$.path" */
    if (opt->n_allow_paths)
        d->allow = pa_xcalloc(opt->n_allow_paths, sizeof *d->allow);
    for (size_t i = 0; i < opt->n_allow_paths; i++) {
        const char *s = opt->allow_paths[i];
        const char *sep = s ? strstr(s, ":$") : NULL;
        if (!sep || sep == s) {
            snprintf(err, errlen, "detectors.allow_paths[%zu]: expected \"schema.table.column:$.json.path\"", i);
            goto fail;
        }
        d->allow[d->n_allow].surface = pa_xstrndup(s, (size_t)(sep - s));
        d->allow[d->n_allow].path = pa_xstrdup(sep + 1);
        d->n_allow++;
    }
    d->max_findings = opt->max_findings_per_record;

    /* One Hyperscan database for every enabled pattern. */
    size_t np = P_BUILTIN_COUNT + opt->n_patterns, k = 0;
    exprs = pa_xcalloc(np, sizeof *exprs);
    flags = pa_xcalloc(np, sizeof *flags);
    ids = pa_xcalloc(np, sizeof *ids);
    for (unsigned i = 0; i < P_BUILTIN_COUNT; i++) {
        if (d->cat_disabled[builtin_patterns[i].cat])
            continue;
        exprs[k] = builtin_patterns[i].expr;
        flags[k] = 0;
        ids[k] = i;
        k++;
    }
    for (size_t i = 0; i < opt->n_patterns; i++) {
        if (d->cat_disabled[d->rule_cat[R_BUILTIN_COUNT + i]])
            continue;
        exprs[k] = opt->patterns[i].regex;
        flags[k] = HS_FLAG_SINGLEMATCH;
        ids[k] = (unsigned)(P_BUILTIN_COUNT + i);
        k++;
    }
    int bad = -1; /* the expression that failed, when known */
    d->precheck = true;
    d->min_width = (size_t)-1;
    for (size_t i = 0; i < k; i++) {
        hs_expr_info_t *info = NULL;
        if (hs_expression_info(exprs[i], flags[i], &info, &cerr) != HS_SUCCESS) {
            bad = (int)i;
            goto compile_error;
        }
        if (info->min_width < d->min_width)
            d->min_width = info->min_width;
        free(info);
        if (ids[i] >= P_BUILTIN_COUNT)
            d->precheck = false;
    }
    if (k && hs_compile_multi(exprs, flags, ids, (unsigned)k, HS_MODE_BLOCK, NULL, &d->db, &cerr) != HS_SUCCESS)
        goto compile_error;
    if (!k)
        d->min_width = (size_t)-1;
    free(exprs);
    free(flags);
    free(ids);
    return d;

compile_error: {
    int idx = bad >= 0 ? bad : cerr ? cerr->expression : -1;
    const char *msg = cerr && cerr->message ? cerr->message : "unknown error";
    if (idx >= 0 && (size_t)idx < k && ids[idx] >= P_BUILTIN_COUNT)
        snprintf(err, errlen, "detectors.patterns \"%s\": regular expression rejected by hyperscan: %s",
                 opt->patterns[ids[idx] - P_BUILTIN_COUNT].name, msg);
    else
        snprintf(err, errlen, "compiling the detector patterns failed: %s", msg);
    hs_free_compile_error(cerr);
}
fail:
    free(exprs);
    free(flags);
    free(ids);
    pa_detect_free(d);
    return NULL;
}

/* Key lookup with the fallbacks: exact tokens, then without trailing digit tokens ("phone2", "address_3"), then the
 * last token's plural stripped ("emails", "addresses"). A stop entry ends the search. */
enum { KF_NATIONAL = 1, KF_VERSION = 2, KF_LAT = 4, KF_LNG = 8 };

static const struct dent *key_lookup(const struct pa_detector *d, struct tokens *t)
{
    if (!t->n)
        return NULL;
    const struct dent *e = dtab_suffix(&d->dict, t->joined, t->len, t->start, t->n);
    if (e)
        return e;
    size_t n = t->n;
    while (n > 0 && is_digit((unsigned char)t->joined[t->start[n - 1]]))
        n--;
    if (n && n < t->n) {
        e = dtab_suffix(&d->dict, t->joined, t->start[n], t->start, n);
        if (e)
            return e;
    }
    if (!n)
        return NULL;
    size_t end = t->start[n], last = end - t->start[n - 1];
    if (last >= 3 && t->joined[end - 1] == 's' && t->joined[end - 2] != 's') {
        uint16_t save = t->start[n];
        t->start[n] = (uint16_t)(end - 1);
        e = dtab_suffix(&d->dict, t->joined, end - 1, t->start, n);
        if (!e && last >= 4 && t->joined[end - 2] == 'e') {
            t->start[n] = (uint16_t)(end - 2);
            e = dtab_suffix(&d->dict, t->joined, end - 2, t->start, n);
        }
        t->start[n] = save;
    }
    return e;
}

static bool token_is(const struct tokens *t, size_t i, const char *w)
{
    size_t n = (size_t)(t->start[i + 1] - t->start[i]);
    return strlen(w) == n && memcmp(t->joined + t->start[i], w, n) == 0;
}

/* Flags of a key for the value detectors and the lat/lng pairing. */
static unsigned key_flags(const struct tokens *t)
{
    unsigned f = 0;
    for (size_t i = 0; i < t->n; i++)
        if (token_is(t, i, "version") || token_is(t, i, "ver") || token_is(t, i, "build") ||
            token_is(t, i, "release") || token_is(t, i, "sdk"))
            f |= KF_VERSION;
    if (t->n) {
        size_t l = t->n - 1;
        if (token_is(t, l, "lat") || token_is(t, l, "latitude"))
            f |= KF_LAT;
        else if (token_is(t, l, "lng") || token_is(t, l, "lon") || token_is(t, l, "long") ||
                 token_is(t, l, "longitude"))
            f |= KF_LNG;
    }
    return f;
}

static bool key_ignored(const struct pa_detector *d, const struct tokens *t)
{
    if (!d->ignore.n || !t->len)
        return false;
    return dtab_find(&d->ignore, suffix_hash(t->joined, t->len), t->joined, t->len) != NULL;
}

int pa_detect_key_category(const struct pa_detector *d, const char *key, size_t len, const char **rule)
{
    module_init();
    struct tokens t;
    tokenize(key, len, &t);
    if (rule)
        *rule = NULL;
    if (key_ignored(d, &t))
        return -1;
    const struct dent *e = key_lookup(d, &t);
    if (!e || e->cat < 0 || d->cat_disabled[e->cat])
        return -1;
    if (rule)
        *rule = e->rule;
    return e->cat;
}

void pa_detect_dictionary_each(const struct pa_detector *d, pa_dict_cb cb, void *arg)
{
    for (size_t i = 0; i < d->dict.n; i++) {
        const struct dent *e = &d->dict.e[i];
        int cat = e->cat < 0 || d->cat_disabled[e->cat] ? -1 : e->cat;
        cb(arg, e->joined, cat, (e->flags & DF_WHOLE) != 0);
    }
}

void pa_detect_ignored_each(const struct pa_detector *d, void (*cb)(void *arg, const char *joined), void *arg)
{
    for (size_t i = 0; i < d->ignore.n; i++)
        cb(arg, d->ignore.e[i].joined);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Validators. Each gets the string and the end offset Hyperscan reported and decides whether a real candidate    */
/* is there. They never copy more than a bounded candidate to the stack, and wipe it.                           */

static const char *const fake_tlds[] = {
    /* file extensions that look like TLDs (image@2x.png, bundle@1.2.min.js); .zip and .mov are real gTLDs but far
     * more often file names */
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic", "js", "mjs", "cjs",
    "ts", "tsx", "jsx", "css", "scss", "sass", "less", "json", "map", "xml", "yml", "yaml", "toml", "txt", "html",
    "htm", "php", "asp", "aspx", "jsp", "java", "swift", "cpp", "hpp", "dll", "dylib", "exe", "csv", "tsv", "pdf",
    "docx", "xlsx", "pptx", "tgz", "rar", "tar", "gz", "wav", "ogg", "webm", "mov", "avi", "mkv", "flac", "woff",
    "ttf", "otf", "eot", "cfg", "conf", "bak", "tmp", "zip", "lock", "log", "ini",
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
        if (c == '?' || c == '#' || c == '&' || c == '=' || (cclass[c] & CC_SPACE) || c == '"' || c == '\'' ||
            c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';')
            return false;
    }
    return false;
}

static bool check_email(const unsigned char *s, size_t len, size_t to)
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
static bool check_phone_e164(const unsigned char *s, size_t len, size_t to)
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
static bool check_phone_national(const unsigned char *s, size_t len, size_t to)
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

static bool check_ssn(const unsigned char *s, size_t len, size_t to)
{
    size_t st = to - 11;
    unsigned char sep = s[st + 3];
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
    return check_ssn_digits(s + st, s + st + 4, s + st + 7);
}

/* A value that is exactly nine digits (SSN without separators), only offered under a national_id key. */
static bool check_ssn_bare(const unsigned char *s, size_t len)
{
    while (len && (cclass[s[len - 1]] & CC_SPACE))
        len--;
    while (len && (cclass[*s] & CC_SPACE)) {
        s++;
        len--;
    }
    if (len != 9)
        return false;
    for (size_t i = 0; i < 9; i++)
        if (!is_digit(s[i]))
            return false;
    return check_ssn_digits(s, s + 3, s + 5);
}

/* Issuer prefix + length, then Luhn. d: the digits (ASCII), n: count. */
static bool card_issuer_ok(const unsigned char *d, size_t n)
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
    if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || p4 == 6761 ||
        p4 == 6762 || p4 == 6763) /* Maestro (16-19 only: shorter Maestro numbers collide with plain ids) */
        return n >= 16 && n <= 19;
    if (p4 == 5019) /* Dankort */
        return n == 16;
    return false;
}

static bool luhn_ok(const unsigned char *d, size_t n)
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
    bool ok = card_issuer_ok(dig, n) && luhn_ok(dig, n);
    explicit_bzero(dig, sizeof dig);
    return ok;
}

/* A maximal sequence of digit groups (single ' ' or '-' between groups) in [a, b): try every group start, growing
 * over groups joined by the same separator, and check every group end that gives 13-19 digits. */
static bool check_card_sequence(const unsigned char *s, size_t len, size_t a, size_t b)
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
static uint8_t iban_len_tab[26][26];

static void iban_init(void)
{
    static const struct {
        char cc[3];
        uint8_t len;
    } t[] = {
        {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22}, {"BH", 22},
        {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
        {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27},
        {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
        {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
        {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
        {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24},
        {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
        {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23},
        {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(t); i++)
        iban_len_tab[t[i].cc[0] - 'A'][t[i].cc[1] - 'A'] = t[i].len;
}

static inline bool is_upper_or_digit(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || is_digit(c);
}

static bool check_iban(const unsigned char *s, size_t len, size_t to)
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

/* IPv4 token [0-9.]+ around the match: exactly four octets 0-255 without leading zeros, not part of a longer
 * dotted number, not glued to letters, '/' (Chrome/120.0.0.0) or 'v' (v1.2.3.4). */
static bool check_ipv4_token(const unsigned char *s, size_t len, size_t a, size_t b)
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
    if (version_word_before(s, a))
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
static bool check_ipv6_token(const unsigned char *s, size_t len, size_t a, size_t b)
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

static bool check_mac(const unsigned char *s, size_t len, size_t to)
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

/* ------------------------------------------------------------------------------------------------------------ */
/* Per-thread context                                                                                           */

struct seen_slot {
    uint64_t h;
    uint32_t gen;
    uint32_t off, len;
    int cat;
};

/* A memo of byte strings, per context: open addressing over 64-bit hashes (0 = empty slot), the bytes kept in an
 * arena for the equality check, so a hash collision can never change a result. When it is full it is cleared, so
 * its memory is bounded whatever the input. It holds only strings that were not found to be PII (member names, and
 * values that went through Hyperscan without a single finding); the arena is wiped when cleared or freed. */
struct memo_slot {
    uint64_t h;
    uint32_t off;    /* in the arena */
    uint32_t lentag; /* length | tag << 16 (the tag is part of the identity: value scans with different key flags) */
};

struct memo {
    struct memo_slot *slot;
    size_t mask, n, max_n;
    char *arena;
    size_t alen, acap;
};

#define KMEMO_SLOTS 2048 /* member names: up to 1024 distinct names, 64 bytes each at most */
#define KMEMO_KEYMAX 64
#define KMEMO_TAG (1u << 16) /* every name's lentag has it: an empty slot (lentag 0) never equals a name, not even "" */

/* Member-name guesses. Webhook payloads repeat object shapes, so the name that follows a given member name in an
 * object held by a given member (or that opens such an object) is nearly always the one that did last time:
 * kguess[ctx] is the kmemo slot of the name last seen in context ctx, and a name equal to the guessed slot's bytes
 * reuses its kinfo without hashing or probing (94% of the names of the corpus; 79% when the context is the previous
 * name alone, which confuses the names after "name" or "id" in different objects). A guess is only ever a slot
 * index: it is checked against the slot's length and bytes (a cleared or reused slot simply fails or holds its own
 * kinfo), so a wrong, stale or colliding guess costs a lookup, never a result.
 * A container's base is a 13-bit scramble of its holder (the member whose value it is, or the holder of the array it
 * is in: kmemo slot + 1, 0 for none); the context of a name is base ^ the previous name's slot in the same object,
 * base ^ KG_PREV_FIRST for the first, base ^ KG_PREV_NONE after a name that is not memoized. Both live in the
 * walker's per-container slot (struct dslot: base, and next, the context of the object's next name). */
#define KGUESS_BITS 13
#define KGUESS_N (1u << KGUESS_BITS)
#define KG_PREV_FIRST ((uint32_t)KMEMO_SLOTS)
#define KG_PREV_NONE ((uint32_t)KMEMO_SLOTS + 1)
/* Value guesses: the string value of 8..24 bytes that the prefilter rejected last in a guess context (the member's
 * name, or the array's: see KGUESS_BITS), kept as its first 8 bytes, its last 8, bytes 8..15 when it is longer than
 * 16 (0 otherwise) and its length (which together are the whole string). The prefilter's answer depends on the bytes alone, so a value equal to the guess is
 * rejected again without it; a wrong guess costs the compare. Enum-like values repeat per member ("usd",
 * "application/json", "ingest-high"). Holds value bytes: wiped with the memos. */
#define VGUESS_N 1024
struct vguess {
    uint64_t w0, w1, w2;
    uint64_t len; /* 0: empty */
};
#define VMEMO_SLOTS 4096 /* string values: up to 2048 distinct values, 256 bytes each at most, 256 KB in all */
#define VMEMO_VALMAX 256
#define VMEMO_ARENA (256 * 1024)

/* What a member name means: cached per context (names repeat from document to document). */
struct kinfo {
    const char *rule; /* when cat >= 0 */
    int cat;          /* dictionary category, or -1 (also for an ignored name) */
    unsigned flags;   /* KF_* */
    bool ignored;
};

static const struct kinfo kinfo_none = {NULL, -1, 0, false};

static void memo_init(struct memo *m, size_t slots, size_t arena)
{
    m->slot = pa_xcalloc(slots, sizeof *m->slot);
    m->mask = slots - 1;
    m->n = 0;
    m->max_n = slots / 2;
    m->arena = pa_xmalloc(arena);
    m->alen = 0;
    m->acap = arena;
}

static void memo_clear(struct memo *m)
{
    memset(m->slot, 0, (m->mask + 1) * sizeof *m->slot);
    explicit_bzero(m->arena, m->alen);
    m->n = 0;
    m->alen = 0;
}

static void memo_free(struct memo *m)
{
    if (!m->slot)
        return;
    memo_clear(m);
    free(m->slot);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static inline bool key_eq(const char *a, const char *b, size_t n);

/* The slot holding (h, s, lentag) — *found = true — or the empty slot where it would go. */
static inline size_t memo_find(const struct memo *m, uint64_t h, const char *s, uint32_t lentag, bool *found)
{
    size_t i = (size_t)h & m->mask;
    for (;; i = (i + 1) & m->mask) {
        const struct memo_slot *e = &m->slot[i];
        if (!e->h)
            break;
        if (e->h == h && e->lentag == lentag && key_eq(m->arena + e->off, s, lentag & 0xffff)) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return i;
}

/* Insert at i (from memo_find, nothing inserted since); returns the slot used (another one if the memo was full). */
static size_t memo_insert(struct memo *m, size_t i, uint64_t h, const char *s, uint32_t lentag)
{
    size_t n = lentag & 0xffff;
    if (m->n + 1 > m->max_n || m->acap - m->alen < n) {
        memo_clear(m);
        i = (size_t)h & m->mask;
    }
    memcpy(m->arena + m->alen, s, n);
    m->slot[i] = (struct memo_slot){h, (uint32_t)m->alen, lentag};
    m->alen += n;
    m->n++;
    return i;
}

enum { EV_SKIP = 1, EV_PEND = 2 }; /* pa_detect_ctx.state */

struct pa_detect_ctx {
    const struct pa_detector *d;
    hs_scratch_t *scratch;
    struct pa_jw *w;

    struct pa_buf path;      /* the current event's rendered path */
    struct pa_buf pend_path; /* a container value whose key matched, waiting for its first child */
    int pend_cat;
    const char *pend_rule;

    /* per-document dedupe of (path, category): open addressing, cleared by bumping gen */
    struct seen_slot *seen;
    size_t seen_mask, seen_count;
    uint32_t seen_gen;
    struct pa_buf seen_arena;

    /* per-string dedupe of rules / categories, cleared by bumping scan_gen */
    uint32_t *rule_gen, *cat_gen;
    uint32_t scan_gen;

    /* Keys repeat from document to document: what a key means (dictionary category, flags, ignored) is cached per
     * context, keyed by its raw bytes. Only keys that are not PII themselves are cached. */
    struct memo kmemo;
    struct kinfo *kinfo; /* [KMEMO_SLOTS], by kmemo slot */
    uint16_t *kguess;    /* [KGUESS_N]: the kmemo slot guessed per context (see KGUESS_BITS) */
    uint32_t kg_child;   /* the holder of a container opening now: the last name's kmemo slot + 1, or 0 */
    /* String values that Hyperscan found nothing in (with the key flags that steer the validators): user agents,
     * URLs, header values and enum-like values repeat across documents. */
    struct memo vmemo;
    struct vguess *vguess; /* [VGUESS_N] */

    size_t *allow_idx; /* allow_paths entries for the current surface */
    size_t n_allow_idx;

    /* document state */
    pa_finding_cb cb;
    void *cb_arg;
    struct pa_doc_result *res;
    bool stop;  /* max findings reached */
    bool error; /* Hyperscan failed */
    bool halt;  /* stop || error: on_event stops the walk */
    const struct kinfo *kcur; /* what the name of the member whose value comes next means; kinfo_none elsewhere */
    struct kinfo kmiss;       /* ... when that name is not memoized */
    uint8_t state;       /* EV_SKIP or EV_PEND (never both): on_event's rare paths, one test for the two */
    bool skip_in_container; /* ignore_keys: skipping a member's value (EV_SKIP) */
    size_t skip_depth;
    bool no_values;      /* pa_detect_ctx_bench_values(c, false) */
    size_t scan_min;     /* scan_string is called for strings of at least this length (the detector's shortest match;
                            SIZE_MAX when the value detectors are off) ... */
    unsigned scan_kf;    /* ... or when the key flags have one of these (KF_NATIONAL: a bare SSN may be shorter) */
    bool short_pf;       /* the value detectors are on and the prefilter applies (no custom pattern): short_clean */
};

static void scan_limits(struct pa_detect_ctx *c)
{
    c->scan_min = c->no_values || !c->d->db ? SIZE_MAX : c->d->min_width;
    c->scan_kf = c->no_values ? 0 : KF_NATIONAL;
    c->short_pf = !c->no_values && c->d->db && c->d->precheck;
}

struct pa_detect_ctx *pa_detect_ctx_new(const struct pa_detector *d)
{
    struct pa_detect_ctx *c = pa_xcalloc(1, sizeof *c);
    c->d = d;
    if (d->db && hs_alloc_scratch(d->db, &c->scratch) != HS_SUCCESS) {
        free(c);
        return NULL;
    }
    c->w = pa_jw_new();
    pa_buf_init(&c->path);
    pa_buf_init(&c->pend_path);
    pa_buf_init(&c->seen_arena);
    c->seen_mask = 63;
    c->seen = pa_xcalloc(c->seen_mask + 1, sizeof *c->seen);
    c->seen_gen = 0;
    c->rule_gen = pa_xcalloc(d->n_rules, sizeof *c->rule_gen);
    c->cat_gen = pa_xcalloc(d->n_cats, sizeof *c->cat_gen);
    c->allow_idx = pa_xcalloc(d->n_allow ? d->n_allow : 1, sizeof *c->allow_idx);
    memo_init(&c->kmemo, KMEMO_SLOTS, KMEMO_SLOTS / 2 * KMEMO_KEYMAX);
    c->kinfo = pa_xcalloc(KMEMO_SLOTS, sizeof *c->kinfo);
    c->kguess = pa_xcalloc(KGUESS_N, sizeof *c->kguess);
    memo_init(&c->vmemo, VMEMO_SLOTS, VMEMO_ARENA);
    c->vguess = pa_xcalloc(VGUESS_N, sizeof *c->vguess);
    c->kcur = &kinfo_none;
    scan_limits(c);
    return c;
}

void pa_detect_ctx_wipe(struct pa_detect_ctx *c)
{
    pa_jw_wipe(c->w);
    pa_buf_wipe(&c->path);
    pa_buf_wipe(&c->pend_path);
    pa_buf_wipe(&c->seen_arena);
    memo_clear(&c->kmemo);
    memo_clear(&c->vmemo);
    explicit_bzero(c->vguess, VGUESS_N * sizeof *c->vguess);
}

void pa_detect_ctx_bench_values(struct pa_detect_ctx *c, bool on)
{
    c->no_values = !on;
    scan_limits(c);
    memo_clear(&c->kmemo); /* names memoized without their value scan must be looked at again */
    memo_clear(&c->vmemo);
}

void pa_detect_ctx_free(struct pa_detect_ctx *c)
{
    if (!c)
        return;
    /* pa_jw_free, pa_buf_free and memo_free each wipe what they free (decoded strings, names, paths, memoized
     * names and values) */
    if (c->scratch)
        hs_free_scratch(c->scratch);
    pa_jw_free(c->w);
    pa_buf_free(&c->path);
    pa_buf_free(&c->pend_path);
    pa_buf_free(&c->seen_arena);
    free(c->seen);
    free(c->rule_gen);
    free(c->cat_gen);
    free(c->allow_idx);
    memo_free(&c->kmemo);
    free(c->kinfo);
    free(c->kguess);
    memo_free(&c->vmemo);
    explicit_bzero(c->vguess, VGUESS_N * sizeof *c->vguess);
    free(c->vguess);
    free(c);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Emitting findings: allow_paths, dedupe on (path, category), max_findings_per_record                          */

static bool allow_match(const char *pat, const char *path, size_t plen)
{
    size_t j = 0;
    for (size_t i = 0; pat[i];) {
        if (pat[i] == '[' && pat[i + 1] == '*' && pat[i + 2] == ']') {
            if (j >= plen || path[j] != '[')
                return false;
            size_t k = ++j;
            while (j < plen && is_digit((unsigned char)path[j]))
                j++;
            if (j == k || j >= plen || path[j] != ']')
                return false;
            j++;
            i += 3;
            continue;
        }
        if (j >= plen || path[j] != pat[i])
            return false;
        i++;
        j++;
    }
    return j == plen;
}

static uint64_t bytes_hash(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void seen_grow(struct pa_detect_ctx *c)
{
    size_t size = (c->seen_mask + 1) * 2;
    struct seen_slot *old = c->seen;
    size_t old_size = c->seen_mask + 1;
    c->seen = pa_xcalloc(size, sizeof *c->seen);
    c->seen_mask = size - 1;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].gen != c->seen_gen)
            continue;
        size_t k = slot_of(old[i].h, c->seen_mask);
        while (c->seen[k].gen == c->seen_gen)
            k = (k + 1) & c->seen_mask;
        c->seen[k] = old[i];
    }
    free(old);
}

/* Returns true when the walk must stop (max findings reached). */
static bool emit(struct pa_detect_ctx *c, const char *path, size_t plen, int cat, enum pa_detector_kind det,
                 const char *rule)
{
    const struct pa_detector *d = c->d;
    if (c->stop)
        return true;
    if (d->cat_disabled[cat])
        return false;
    for (size_t i = 0; i < c->n_allow_idx; i++)
        if (allow_match(d->allow[c->allow_idx[i]].path, path, plen))
            return false;
    uint64_t h = bytes_hash(path, plen, (uint64_t)cat * 0x9e3779b97f4a7c15ULL);
    size_t k = slot_of(h, c->seen_mask);
    for (; c->seen[k].gen == c->seen_gen; k = (k + 1) & c->seen_mask) {
        const struct seen_slot *e = &c->seen[k];
        if (e->h == h && e->cat == cat && e->len == plen && memcmp(c->seen_arena.data + e->off, path, plen) == 0)
            return false;
    }
    if (d->max_findings && c->res->findings >= d->max_findings) {
        c->res->truncated = true;
        c->stop = true;
        c->halt = true;
        return true;
    }
    c->seen[k] = (struct seen_slot){h, c->seen_gen, (uint32_t)c->seen_arena.len, (uint32_t)plen, cat};
    pa_buf_append(&c->seen_arena, path, plen);
    if (++c->seen_count * 2 > c->seen_mask + 1)
        seen_grow(c);
    struct pa_finding f = {
        .path = path,
        .path_len = plen,
        .category = d->cat_names[cat],
        .category_id = cat,
        .detector = det,
        .rule = rule,
    };
    c->res->findings++;
    c->cb(c->cb_arg, &f);
    return false;
}

/* Raw key hash for the key cache: 8 bytes at a time (keys are short), the tail read as one overlapping word so no
 * byte-wise copy stalls the load. The length is mixed in; equality is still checked with memcmp. */
static uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL);
    uint64_t w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdULL;
            h ^= h >> 32;
        }
        memcpy(&w, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = ((uint64_t)a << 32) | b;
    } else if (n > 0) {
        w = ((uint64_t)(unsigned char)s[0] << 16) | ((uint64_t)(unsigned char)s[n / 2] << 8) |
            (unsigned char)s[n - 1];
    } else {
        w = 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

/* The hash of a memo entry (bytes and length | tag): never 0, which marks an empty slot. */
static inline uint64_t memo_hash(const char *s, size_t n, uint32_t lentag)
{
    uint64_t h = key_hash(s, n) ^ lentag;
    return h ? h : 1;
}

static inline bool key_eq(const char *a, const char *b, size_t n)
{
    /* two overlapping words (or half-words) and no call for the common lengths: keys are mostly 2..24 bytes */
    if (n >= 8) {
        if (n > 24)
            return memcmp(a, b, n) == 0;
        uint64_t x0, y0, x1, y1, x2 = 0, y2 = 0;
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, a + n - 8, 8);
        memcpy(&y1, b + n - 8, 8);
        if (n > 16) {
            memcpy(&x2, a + 8, 8);
            memcpy(&y2, b + 8, 8);
        }
        return ((x0 ^ y0) | (x1 ^ y1) | (x2 ^ y2)) == 0;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The current event's path in c->path, rendered on each call: only findings need it (a few per document), so no
 * per-event invalidation is kept. */
static void cur_path(struct pa_detect_ctx *c)
{
    pa_buf_truncate(&c->path, 0);
    pa_jw_path(c->w, &c->path);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Value scanning                                                                                               */

enum vmode { VM_PUBLIC, VM_VALUE, VM_KEY, VM_FIXED };

struct vscan {
    struct pa_detect_ctx *c;
    const unsigned char *s;
    size_t len;
    unsigned kflags;
    enum vmode mode;
    const char *fixed_path; /* VM_FIXED */
    pa_value_cb ucb;        /* VM_PUBLIC */
    void *uarg;
    bool redacted; /* VM_KEY: the key has been redacted */
    size_t ip4_next, ip6_next, cc_next;
    int ncat;
    bool stop;
};

/* A validated hit of rule r. Returns non-zero to stop the scan. */
static int hit(struct vscan *v, int r)
{
    struct pa_detect_ctx *c = v->c;
    const struct pa_detector *d = c->d;
    if (c->rule_gen[r] == c->scan_gen)
        return 0;
    c->rule_gen[r] = c->scan_gen;
    int cat = d->rule_cat[r];
    if (c->cat_gen[cat] != c->scan_gen) {
        c->cat_gen[cat] = c->scan_gen;
        v->ncat++;
    }
    switch (v->mode) {
    case VM_PUBLIC:
        v->ucb(v->uarg, cat, d->rule_names[r]);
        break;
    case VM_KEY:
        if (!v->redacted) {
            pa_jw_redact_key(c->w, d->cat_names[cat]);
            v->redacted = true;
        }
        /* fall through */
    case VM_VALUE:
        cur_path(c);
        if (emit(c, c->path.data, c->path.len, cat, PA_DET_VALUE, d->rule_names[r]))
            v->stop = true;
        break;
    case VM_FIXED:
        if (emit(c, v->fixed_path, strlen(v->fixed_path), cat, PA_DET_VALUE, d->rule_names[r]))
            v->stop = true;
        break;
    }
    return v->stop;
}

static inline bool rule_done(const struct vscan *v, int r)
{
    return v->c->rule_gen[r] == v->c->scan_gen;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to_, unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    struct vscan *v = ctx;
    const unsigned char *s = v->s;
    size_t len = v->len, to = (size_t)to_;
    switch (id) {
    case P_EMAIL:
        if (!rule_done(v, R_EMAIL) && check_email(s, len, to))
            return hit(v, R_EMAIL);
        return 0;
    case P_PHONE_E164:
        if (!rule_done(v, R_PHONE_E164) && check_phone_e164(s, len, to))
            return hit(v, R_PHONE_E164);
        return 0;
    case P_PHONE_NAT:
        if (!rule_done(v, R_PHONE_NATIONAL) && check_phone_national(s, len, to))
            return hit(v, R_PHONE_NATIONAL);
        return 0;
    case P_SSN:
        if (!rule_done(v, R_SSN) && check_ssn(s, len, to))
            return hit(v, R_SSN);
        return 0;
    case P_CC: {
        if (rule_done(v, R_CC) || to <= v->cc_next)
            return 0;
        size_t a = to - 1, b = to;
        while (a > 0 && (is_digit(s[a - 1]) || ((s[a - 1] == ' ' || s[a - 1] == '-') && a >= 2 && is_digit(s[a - 2]))))
            a--;
        while (b < len && (is_digit(s[b]) || ((s[b] == ' ' || s[b] == '-') && b + 1 < len && is_digit(s[b + 1]))))
            b++;
        v->cc_next = b;
        if (check_card_sequence(s, len, a, b))
            return hit(v, R_CC);
        return 0;
    }
    case P_IBAN:
        if (!rule_done(v, R_IBAN) && check_iban(s, len, to))
            return hit(v, R_IBAN);
        return 0;
    case P_IPV4: {
        if (rule_done(v, R_IPV4) || to <= v->ip4_next || (v->kflags & KF_VERSION))
            return 0;
        size_t a = to, b = to;
        while (a > 0 && (is_digit(s[a - 1]) || s[a - 1] == '.'))
            a--;
        while (b < len && (is_digit(s[b]) || s[b] == '.'))
            b++;
        v->ip4_next = b;
        if (check_ipv4_token(s, len, a, b))
            return hit(v, R_IPV4);
        return 0;
    }
    case P_IPV6: {
        if (rule_done(v, R_IPV6) || to <= v->ip6_next)
            return 0;
        size_t a = to, b = to;
        while (a > 0 && (is_hex(s[a - 1]) || s[a - 1] == ':' || s[a - 1] == '.'))
            a--;
        while (b < len && (is_hex(s[b]) || s[b] == ':' || s[b] == '.'))
            b++;
        v->ip6_next = b;
        if (check_ipv6_token(s, len, a, b))
            return hit(v, R_IPV6);
        return 0;
    }
    case P_MAC:
        if (!rule_done(v, R_MAC) && check_mac(s, len, to))
            return hit(v, R_MAC);
        return 0;
    default: {
        int r = (int)(R_BUILTIN_COUNT + (id - P_BUILTIN_COUNT));
        if (!rule_done(v, r))
            return hit(v, r);
        return 0;
    }
    }
}

/* Can this string match a built-in pattern? One pass (16 bytes at a time with SSE2) counts the bytes the patterns
 * need, then each pattern's necessary condition is checked:
 *   email '@' | E.164 '+' and 8 digits | national phone, SSN, card: 9 digits | IPv4: 4 digits and 3 dots |
 *   IPv6: 2 colons and a digit | MAC: 5 colons or 5 dashes, or 2 dots with "hhhh." (Cisco) | IBAN: "AA00".
 * Most values (words, prose, short codes, amounts, dates, versions) never reach Hyperscan. With custom patterns
 * only the length check applies (their shape is unknown). */
struct pstat {
    size_t digits, colon, dot, dash, plus, upper, space;
};

/* has_digit_run13 over a digit mask: 13 set bits in a row. */
static inline bool run13_mask(uint64_t m)
{
    m &= m >> 1; /* bit i: digits at i..i+1 */
    m &= m >> 2; /* i..i+3 */
    m &= m >> 4; /* i..i+7 */
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

/* Is there a run of 13 digits (the shortest card number) without separators? */
static bool has_digit_run13(const unsigned char *s, size_t len)
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
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = is_digit(s[i]) ? run + 1 : 0;
        if (run == 13)
            return true;
    }
    return false;
}

#ifdef PA_HAVE_SSE2
/* The anchors of has_cisco_or_iban_anchor as bits (i: an anchor starts at byte i of the window), from the class
 * masks of a 64-byte window. */
static inline uint64_t anchor_bits(uint64_t hex, uint64_t dot, uint64_t up, uint64_t dig, bool cisco, bool iban)
{
    uint64_t a = cisco ? hex & (hex >> 1) & (hex >> 2) & (hex >> 3) & (dot >> 4) : 0;
    uint64_t b = iban ? up & (up >> 1) & (dig >> 2) & (dig >> 3) : 0;
    return a | b;
}

/* has_cisco_or_iban_anchor for len >= 16 (long URLs and user agents with two dots take this often): the class masks
 * of 16-byte chunks slid into 64-bit windows, newest bytes in the high bits, as in has_digit_run13. An anchor is
 * counted when it starts at bit 0..59 (its 5 bytes are in the window, so in the string); every start i with
 * i + 4 < len is at such a bit in some window. */
static bool has_anchor_sse(const unsigned char *s, size_t len, bool cisco, bool iban)
{
    const uint64_t starts = (1ULL << 60) - 1;
    uint64_t wh = 0, wdot = 0, wu = 0, wd = 0;
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
        if (anchor_bits(wh, wdot, wu, wd, cisco, iban) & starts)
            return true;
    }
    return false;
}
#endif

static bool has_cisco_or_iban_anchor(const unsigned char *s, size_t len, bool cisco, bool iban)
{
#ifdef PA_HAVE_SSE2
    if (len >= 16)
        return has_anchor_sse(s, len, cisco, iban);
#endif
    for (size_t i = 0; i + 4 < len; i++) {
        if (cisco && s[i + 4] == '.' && is_hex(s[i]) && is_hex(s[i + 1]) && is_hex(s[i + 2]) && is_hex(s[i + 3]))
            return true;
        if (iban && is_digit(s[i + 2]) && is_digit(s[i + 3]) && (cclass[s[i]] & CC_UPPER) &&
            (cclass[s[i + 1]] & CC_UPPER))
            return true;
    }
    if (iban && len == 4)
        return is_digit(s[2]) && is_digit(s[3]) && (cclass[s[0]] & CC_UPPER) && (cclass[s[1]] & CC_UPPER);
    return false;
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
    uint64_t digit, upper, hex, dot, dash;
};

/* has_cisco_or_iban_anchor over masks (len >= 5: anchors start at 0..len-5, as there). */
static inline bool anchor_mask(const struct pmask *m, size_t len, bool cisco, bool iban)
{
    uint64_t start = (1ULL << (len - 4)) - 1;
    uint64_t a = cisco ? m->hex & (m->hex >> 1) & (m->hex >> 2) & (m->hex >> 3) & (m->dot >> 4) : 0;
    uint64_t b = iban ? m->upper & (m->upper >> 1) & (m->digit >> 2) & (m->digit >> 3) : 0;
    return ((a | b) & start) != 0;
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

/* The prefilter's decision on a string's byte counts (and its masks when m is not NULL: then the run and anchor
 * checks are a few shifts instead of loops; both forms give the same answer). */
static inline __attribute__((always_inline)) bool pdecide(const struct pstat *st, const unsigned char *s, size_t len,
                                                          const struct pmask *m)
{
    if (st->digits >= 9 || (st->plus && st->digits >= 8)) {
        /* Without + - . : or space only two patterns can match: a card number (13 digits in a row here) and an
         * IBAN ("AA00..."): digests, signatures and ids full of digits end here. */
        if (!st->plus && !st->dash && !st->dot && !st->colon && !st->space)
            return (m ? run13_mask(m->digit) : has_digit_run13(s, len)) ||
                   (st->upper >= 2 && len >= 15 && (m ? anchor_mask(m, len, false, true) : has_cisco_or_iban_anchor(s, len, false, true)));
        if (st->colon && (st->dash || st->dot) && ts_or_uuid(s, len, m))
            return false;
        if (len == 36 && st->dash == 4 && ts_or_uuid(s, len, m))
            return false;
        return true;
    }
    if ((st->digits >= 4 && st->dot >= 3) || (st->colon >= 2 && st->digits) || st->colon >= 5 || st->dash >= 5)
        return !(st->colon && ts_or_uuid(s, len, m));
    bool cisco = st->dot >= 2 && len >= 14, iban = st->upper >= 2 && st->digits >= 2 && len >= 15;
    return (cisco || iban) && (m ? anchor_mask(m, len, cisco, iban) : has_cisco_or_iban_anchor(s, len, cisco, iban));
}

static __attribute__((noinline)) bool worth_scanning_counts(const unsigned char *s, size_t len)
{
    struct pstat st = {0};
    size_t i = 0;
#ifdef PA_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128(), c0 = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9),
                  cA = _mm_set1_epi8('A'), c25 = _mm_set1_epi8(25), at = _mm_set1_epi8('@'),
                  colon = _mm_set1_epi8(':'), minus = _mm_set1_epi8('-'), period = _mm_set1_epi8('.'),
                  plus = _mm_set1_epi8('+'), space = _mm_set1_epi8(' ');
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
    return pdecide(&st, s, len, NULL);
}

#ifdef PA_HAVE_LE_WORDS
#define PA_HAVE_SHORT_PF 1
/* 0x80 in each byte of x that equals ch, exactly (no false positives: the add cannot carry between bytes). */
static inline uint64_t bytes_eq(uint64_t x, unsigned char ch)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
    uint64_t t = x ^ (0x0101010101010101ULL * ch);
    return ~(((t & lo7) + lo7) | t | lo7);
}

/* Strings of 1..7 bytes, decided without a call: every pattern that the prefilter lets through at that length needs
 * an '@', a ':', a '.' or a '-' (pdecide: '@'; 4 digits and 3 dots; 2 colons and a digit; 5 colons or dashes; its
 * 9-digit, 14- and 15-byte rules need more bytes), so a string with none of them cannot match. True = skip it; the
 * others go through worth_scanning_counts as before. The bytes are read as one word (two overlapping 4-byte loads,
 * or the 1..3 bytes one by one), the lanes past len zero, which equals none of those bytes. */
static inline bool short_clean(const unsigned char *s, size_t len)
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
    return !(bytes_eq(x, '@') | bytes_eq(x, ':') | bytes_eq(x, '.') | bytes_eq(x, '-'));
}
#endif

#ifdef PA_HAVE_POPCNT_DISPATCH
#define PA_HAVE_PMASK 1
/* 8 to 64 bytes: the classes of every byte as positional masks (bit i = byte i), from 16-byte loads inside the
 * string (the last one overlaps the one before and ORs the same bits again; a string of at most 16 bytes is read as
 * two 8-byte words), all nine classes in one pass (most strings need them all: a first pass over digits and @ : . -
 * decided under a tenth of them), then the counts are popcounts. Needs the popcnt instruction (chosen at run time:
 * the project builds for baseline x86-64). */
static __attribute__((target("popcnt"))) bool worth_scanning_masks(const unsigned char *s, size_t len)
{
    uint64_t dig, up, hex, dot, dash, at, colon, plus, space;
    /* every class of the 16 bytes of v at once, their bits placed at byte offset sh of the string; op_ is = for the
     * first chunk, |= for the others */
#define PM_CHUNK(v_, sh_, op_)                                                                                       \
    do {                                                                                                             \
        __m128i v1_ = (v_);                                                                                          \
        unsigned d_ = sse_digit(v1_);                                                                                \
        dig op_(uint64_t)d_ << (sh_);                                                                                \
        up op_(uint64_t)sse_range(v1_, 'A', 26) << (sh_);                                                            \
        hex op_(uint64_t)sse_hex(v1_, d_) << (sh_);                                                                  \
        dot op_(uint64_t)sse_eq(v1_, '.') << (sh_);                                                                  \
        dash op_(uint64_t)sse_eq(v1_, '-') << (sh_);                                                                 \
        at op_(uint64_t)sse_eq(v1_, '@') << (sh_);                                                                   \
        colon op_(uint64_t)sse_eq(v1_, ':') << (sh_);                                                                \
        plus op_(uint64_t)sse_eq(v1_, '+') << (sh_);                                                                 \
        space op_(uint64_t)sse_eq(v1_, ' ') << (sh_);                                                                \
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
    struct pmask m = {.digit = dig, .upper = up, .hex = hex, .dot = dot, .dash = dash};
    struct pstat st = {
        .digits = (size_t)__builtin_popcountll(dig),
        .colon = (size_t)__builtin_popcountll(colon),
        .dot = (size_t)__builtin_popcountll(dot),
        .dash = (size_t)__builtin_popcountll(dash),
        .plus = (size_t)__builtin_popcountll(plus),
        .upper = (size_t)__builtin_popcountll(up),
        .space = (size_t)__builtin_popcountll(space),
    };
    return pdecide(&st, s, len, &m);
}
#endif

static bool worth_scanning(const struct pa_detector *d, const unsigned char *s, size_t len)
{
    if (!d->db || len < d->min_width)
        return false;
    if (!d->precheck)
        return true;
#ifdef PA_HAVE_SHORT_PF
    if (len < 8 && short_clean(s, len))
        return false;
#endif
#ifdef PA_HAVE_PMASK
    if (len >= 8 && len <= 64 && have_popcnt)
        return worth_scanning_masks(s, len);
#endif
    return worth_scanning_counts(s, len);
}

/* worth_scanning where the caller knows that the value detectors are on, there is no custom pattern and len >= the
 * shortest match (on_event, when c->short_pf): short strings decided inline, the others by one call. */
static inline __attribute__((always_inline)) bool prefilter_pass(const unsigned char *s, size_t len)
{
#ifdef PA_HAVE_SHORT_PF
    if (len < 8)
        return !short_clean(s, len) && worth_scanning_counts(s, len);
#endif
#ifdef PA_HAVE_PMASK
    if (len >= 8 && len <= 64 && have_popcnt)
        return worth_scanning_masks(s, len);
#endif
    return worth_scanning_counts(s, len);
}

/* The rest of a string's scan: the bare SSN under an ID key, the prefilter (unless the caller has applied it), the
 * memo of clean values, Hyperscan. */
static inline __attribute__((always_inline)) int scan_body(struct vscan *v, bool prefilter)
{
    struct pa_detect_ctx *c = v->c;
    const struct pa_detector *d = c->d;
    if (++c->scan_gen == 0) {
        memset(c->rule_gen, 0, d->n_rules * sizeof *c->rule_gen);
        memset(c->cat_gen, 0, d->n_cats * sizeof *c->cat_gen);
        c->scan_gen = 1;
    }
    if ((v->kflags & KF_NATIONAL) && !d->cat_disabled[PA_CAT_NATIONAL_ID] && check_ssn_bare(v->s, v->len))
        if (hit(v, R_SSN_BARE))
            return 0;
    if (prefilter && !worth_scanning(d, v->s, v->len))
        return 0;
    /* The same string under the same steering key flags gives the same matches: one Hyperscan found nothing in is
     * not scanned again (user agents, URLs, header values repeat from document to document). */
    size_t mi = SIZE_MAX;
    uint64_t mh = 0;
    uint32_t lentag = 0;
    if (v->len <= VMEMO_VALMAX && !v->ncat) {
        bool found;
        lentag = (uint32_t)v->len | (uint32_t)(v->kflags & (KF_NATIONAL | KF_VERSION)) << 16;
        mh = memo_hash((const char *)v->s, v->len, lentag);
        mi = memo_find(&c->vmemo, mh, (const char *)v->s, lentag, &found);
        if (found)
            return 0;
    }
    hs_error_t e = hs_scan(d->db, (const char *)v->s, (unsigned)(v->len > UINT32_MAX ? UINT32_MAX : v->len), 0,
                           c->scratch, on_match, v);
    if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED) {
        c->error = true;
        c->halt = true;
        return -1;
    }
    if (mi != SIZE_MAX && !v->ncat)
        memo_insert(&c->vmemo, mi, mh, (const char *)v->s, lentag);
    return 0;
}

/* Out of line: on_event's common paths (a memoized name, a short clean value) then need few saved registers. */
static __attribute__((noinline)) int scan_string(struct vscan *v)
{
    return scan_body(v, true);
}

/* scan_string for a string that prefilter_pass let through (no KF_NATIONAL: on_event checks) */
static __attribute__((noinline)) int scan_string_passed(struct vscan *v)
{
    return scan_body(v, false);
}

int pa_detect_value(struct pa_detect_ctx *c, const char *s, size_t len, pa_value_cb cb, void *arg)
{
    struct vscan v = {.c = c, .s = (const unsigned char *)s, .len = len, .mode = VM_PUBLIC, .ucb = cb, .uarg = arg};
    if (len >= c->scan_min && scan_string(&v) < 0)
        return -1;
    return v.ncat;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Documents                                                                                                    */

/* Already protected: a hex digest (32/40/64/128 hex, optionally "sha256:"-prefixed), a Fernet token, a bcrypt or
 * argon2 hash, or a masked value (a run of '*', '#' or '•', or a word made only of X/x, 3 or more). */
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
    size_t run = 0;
    for (size_t k = 0; k < n; k++) {
        bool m = s[k] == '*' || s[k] == '#';
        if (!m && k + 2 < n && s[k] == 0xE2 &&
            ((s[k + 1] == 0x80 && s[k + 2] == 0xA2) || (s[k + 1] == 0x97 && s[k + 2] == 0x8F))) {
            m = true; /* U+2022 bullet, U+25CF black circle */
            k += 2;
        }
        run = m ? run + 1 : 0;
        if (run >= 2)
            return true;
    }
    for (size_t k = 0; k < n;) {
        if (!is_alpha(s[k])) {
            k++;
            continue;
        }
        size_t w = k;
        bool allx = true;
        while (k < n && is_alpha(s[k])) {
            allx = allx && lower(s[k]) == 'x';
            k++;
        }
        if (allx && k - w >= 3)
            return true;
    }
    return false;
}

/* Does a string value under a dictionary key carry data? Not empty or blank, not a placeholder, not protected. */
static bool string_carries_data(const unsigned char *s, size_t n)
{
    while (n && (cclass[s[n - 1]] & CC_SPACE))
        n--;
    while (n && (cclass[*s] & CC_SPACE)) {
        s++;
        n--;
    }
    if (!n)
        return false;
    static const char *const placeholders[] = {"null", "none", "nil", "n/a", "na", "unknown", "undefined", "-", "--",
                                               "redacted", "[redacted]", "<redacted>", "removed", "masked", "hidden",
                                               "filtered", "[filtered]", "anonymized", "anonymised", "deleted"};
    if (n <= 12)
        for (size_t i = 0; i < PA_ARRAY_LEN(placeholders); i++)
            if (ci_eq(s, n, placeholders[i]))
                return false;
    return !is_protected(s, n);
}

static void emit_key_finding(struct pa_detect_ctx *c, int cat, const char *rule)
{
    cur_path(c);
    emit(c, c->path.data, c->path.len, cat, PA_DET_KEY, rule);
}

static void geo_mark(struct pa_detect_ctx *c, unsigned kflags)
{
    if (!(kflags & (KF_LAT | KF_LNG)))
        return;
    struct dslot *f = jw_user_top(c->w);
    if (f && !jw_top_is_array(c->w))
        f->geo |= (kflags & KF_LAT) ? 1u : 2u;
}

/* A member name not in the memo: tokenize, ignore_keys, the value scan of the name itself, the dictionary, the flags;
 * memoized when the name is not PII itself. What it means goes to c->kmiss (and to its kmemo slot's kinfo). Returns
 * the kmemo slot it was memoized in, KMISS_NONE when it was not (too long, or PII), KMISS_STOP to stop the walk. Out of line: it is the rare path. It takes the name, not the event:
 * the event record's address then never leaves on_event, so the walker's event fields need not be stored. */
#define KMISS_NONE SIZE_MAX
#define KMISS_STOP (SIZE_MAX - 1)

static __attribute__((noinline)) size_t key_miss(struct pa_detect_ctx *c, const char *str, size_t len, size_t ki,
                                                 uint64_t kh)
{
    const struct pa_detector *d = c->d;
    struct kinfo *k = &c->kmiss;
    *k = kinfo_none;
    struct tokens t;
    tokenize(str, len, &t);
    if (key_ignored(d, &t)) {
        k->ignored = true;
        if (ki != SIZE_MAX) {
            ki = memo_insert(&c->kmemo, ki, kh, str, (uint32_t)len | KMEMO_TAG);
            c->kinfo[ki] = *k;
        }
        return ki;
    }
    /* A key that is itself PII: a value finding, and the path segment becomes <category>. */
    struct vscan v = {.c = c, .s = (const unsigned char *)str, .len = len, .mode = VM_KEY};
    if (len >= c->scan_min && scan_string(&v) < 0)
        return KMISS_STOP;
    if (v.stop)
        return KMISS_STOP;
    const struct dent *e = key_lookup(d, &t);
    if (e && e->cat >= 0 && !d->cat_disabled[e->cat]) {
        k->cat = e->cat;
        k->rule = e->rule;
    }
    k->flags = key_flags(&t);
    if (k->cat == PA_CAT_NATIONAL_ID)
        k->flags |= KF_NATIONAL;
    if (ki != SIZE_MAX && !v.redacted && !v.ncat) {
        ki = memo_insert(&c->kmemo, ki, kh, str, (uint32_t)len | KMEMO_TAG);
        c->kinfo[ki] = *k;
        return ki;
    }
    return KMISS_NONE;
}

/* ignore_keys: skip the value of the member named at depth, and everything below it */
static inline void skip_value(struct pa_detect_ctx *c, size_t depth)
{
    c->state = EV_SKIP;
    c->skip_in_container = false;
    c->skip_depth = depth;
}

/* The guess base of the container opening now: below an array, the array's; below a member, the scramble of the
 * member's slot; at top level that of none. */
static inline uint32_t kg_container(const struct pa_detect_ctx *c, struct pa_jw *w, size_t depth)
{
    if (depth && jw_parent_is_array(w))
        return jw_user_parent(w)->base;
    uint32_t holder = depth ? c->kg_child : 0;
    return (holder * 0x9e3779b1u) >> (32 - KGUESS_BITS);
}

static inline __attribute__((always_inline)) int on_event(void *arg, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct pa_detect_ctx *c = arg;
    const struct pa_detector *d = c->d;

    if (__builtin_expect(c->state != 0, 0)) {
        if (c->state == EV_SKIP) { /* the value of an ignored key, and everything below it */
            if (!c->skip_in_container) {
                if (ev->kind == PA_JW_OBJECT_BEGIN || ev->kind == PA_JW_ARRAY_BEGIN)
                    c->skip_in_container = true;
                else
                    c->state = 0;
            } else if ((ev->kind == PA_JW_OBJECT_END || ev->kind == PA_JW_ARRAY_END) && ev->depth == c->skip_depth) {
                c->state = 0;
            }
            return 0;
        }
        /* EV_PEND: the event after a matched key's container opened: its first child, or its end (empty: no
         * finding). */
        c->state = 0;
        if (ev->kind != PA_JW_OBJECT_END && ev->kind != PA_JW_ARRAY_END)
            emit(c, c->pend_path.data, c->pend_path.len, c->pend_cat, PA_DET_KEY, c->pend_rule);
    }

    /* what the member name before this value means (kinfo_none when this is not a member's value) */
    const struct kinfo *kcur = c->kcur;
    if (ev->kind != PA_JW_KEY)
        c->kcur = &kinfo_none;

    switch (ev->kind) {
    case PA_JW_KEY: {
        /* the guess first: the slot of the name seen last in this context, if these are its bytes */
        struct dslot *obj = jw_user_top(w);
        uint32_t gctx = obj->next;
        size_t ki = c->kguess[gctx]; /* kmemo slot for this name */
        const struct memo_slot *gs = &c->kmemo.slot[ki];
        if (__builtin_expect((size_t)gs->lentag != ev->len + KMEMO_TAG ||
                                 !key_eq(c->kmemo.arena + gs->off, ev->str, ev->len), 0)) {
            ki = SIZE_MAX; /* not memoized when too long */
            uint64_t kh = 0;
            bool found = false;
            if (ev->len <= KMEMO_KEYMAX) {
                uint32_t lentag = (uint32_t)ev->len | KMEMO_TAG;
                kh = memo_hash(ev->str, ev->len, lentag);
                ki = memo_find(&c->kmemo, kh, ev->str, lentag, &found);
            }
            if (!found) {
                c->kcur = &kinfo_none;
                ki = key_miss(c, ev->str, ev->len, ki, kh);
                if (ki == KMISS_STOP)
                    return 1;
            }
            if (ki == KMISS_NONE) { /* not memoized: no guess, and no holder for the names below it */
                c->kcur = &c->kmiss;
                obj->next = obj->base ^ KG_PREV_NONE;
                c->kg_child = 0;
                if (c->kmiss.ignored)
                    skip_value(c, ev->depth);
                break;
            }
            c->kguess[gctx] = (uint16_t)ki;
        }
        obj->next = obj->base ^ (uint32_t)ki;
        c->kg_child = (uint32_t)ki + 1;
        c->kcur = &c->kinfo[ki]; /* an ignored name's cat is -1 and flags 0 */
        if (c->kcur->ignored)
            skip_value(c, ev->depth);
        break;
    }
    case PA_JW_STRING: {
        const unsigned char *s = (const unsigned char *)ev->str;
        int kc = kcur->cat;
        unsigned kf = kcur->flags;
        bool data = (kc >= 0 || (kf & (KF_LAT | KF_LNG))) && string_carries_data(s, ev->len);
        if (kc >= 0 && data)
            emit_key_finding(c, kc, kcur->rule);
        if (data)
            geo_mark(c, kf);
        if (ev->len >= c->scan_min || (kf & c->scan_kf)) { /* else scan_string would find nothing */
            if (c->short_pf && !(kf & c->scan_kf)) {
                /* the prefilter here: most values end at it (short ones without a call) */
                size_t n = ev->len;
                struct dslot *top = jw_user_top(w);
                if (n >= 8 && n <= 24 && top) {
                    uint64_t x0, x1, x2 = 0;
                    memcpy(&x0, s, 8);
                    memcpy(&x1, s + n - 8, 8);
                    if (n > 16)
                        memcpy(&x2, s + 8, 8);
                    struct vguess *g = &c->vguess[top->next & (VGUESS_N - 1)];
                    if (g->len == n && g->w0 == x0 && g->w1 == x1 && g->w2 == x2)
                        break; /* rejected last time here */
                    if (!prefilter_pass(s, n)) {
                        *g = (struct vguess){x0, x1, x2, n};
                        break;
                    }
                } else if (!prefilter_pass(s, n)) {
                    break;
                }
                struct vscan v = {.c = c, .s = s, .len = n, .kflags = kf, .mode = VM_VALUE};
                if (scan_string_passed(&v) < 0)
                    return 1;
            } else {
                struct vscan v = {.c = c, .s = s, .len = ev->len, .kflags = kf, .mode = VM_VALUE};
                if (scan_string(&v) < 0)
                    return 1;
            }
        }
        break;
    }
    case PA_JW_NUMBER: {
        unsigned kf = kcur->flags;
        if (kcur->cat >= 0)
            emit_key_finding(c, kcur->cat, kcur->rule);
        geo_mark(c, kf);
        /* A JSON number can be a card number (digits only) or, under an ID key, a bare SSN. */
        const unsigned char *s = (const unsigned char *)ev->str;
        size_t n = ev->len;
        bool digits = n >= 9 && n <= 19 && !c->no_values;
        for (size_t i = 0; i < n && digits; i++)
            digits = is_digit(s[i]);
        if (digits) {
            struct vscan v = {.c = c, .s = s, .len = n, .kflags = kf, .mode = VM_VALUE};
            if (++c->scan_gen == 0) {
                memset(c->rule_gen, 0, d->n_rules * sizeof *c->rule_gen);
                memset(c->cat_gen, 0, d->n_cats * sizeof *c->cat_gen);
                c->scan_gen = 1;
            }
            if ((kf & KF_NATIONAL) && !d->cat_disabled[PA_CAT_NATIONAL_ID] && check_ssn_bare(s, n))
                hit(&v, R_SSN_BARE);
            /* check_card_sequence(s, n, 0, n) for one group of 13..19 digits, without its copy: the issuer, Luhn */
            if (n >= 13 && !d->cat_disabled[PA_CAT_CREDIT_CARD] && card_issuer_ok(s, n) && luhn_ok(s, n))
                hit(&v, R_CC);
        }
        break;
    }
    case PA_JW_OBJECT_BEGIN:
    case PA_JW_ARRAY_BEGIN: {
        uint32_t base = kg_container(c, w, ev->depth);
        *jw_user_top(w) = (struct dslot){.geo = 0, .base = (uint16_t)base, .next = base ^ KG_PREV_FIRST};
        if (kcur->cat >= 0) {
            pa_buf_truncate(&c->pend_path, 0);
            pa_jw_path(w, &c->pend_path);
            c->state = EV_PEND;
            c->pend_cat = kcur->cat;
            c->pend_rule = kcur->rule;
        }
        break;
    }
    case PA_JW_OBJECT_END: {
        if (jw_user_top(w)->geo == 3 && !d->cat_disabled[PA_CAT_GEOLOCATION]) {
            cur_path(c);
            emit(c, c->path.data, c->path.len, PA_CAT_GEOLOCATION, PA_DET_KEY, "key:lat_lng_pair");
        }
        break;
    }
    case PA_JW_ARRAY_END:
    case PA_JW_TRUE:
    case PA_JW_FALSE:
    case PA_JW_NULL:
        break;
    }
    return c->halt;
}

static int scan_as_text(struct pa_detect_ctx *c, const char *buf, size_t len)
{
    struct vscan v = {.c = c, .s = (const unsigned char *)buf, .len = len, .mode = VM_FIXED, .fixed_path = "$"};
    return len >= c->scan_min ? scan_string(&v) : 0;
}

int pa_detect_doc(struct pa_detect_ctx *c, const char *surface, enum pa_doc_kind kind, const char *buf, size_t len,
                  pa_finding_cb cb, void *arg, struct pa_doc_result *res)
{
    const struct pa_detector *d = c->d;
    struct pa_doc_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    c->res = res;
    c->cb = cb;
    c->cb_arg = arg;
    c->stop = false;
    c->error = false;
    c->halt = false;
    c->state = 0;
    c->kcur = &kinfo_none;
    if (++c->seen_gen == 0) {
        memset(c->seen, 0, (c->seen_mask + 1) * sizeof *c->seen);
        c->seen_gen = 1;
    }
    c->seen_count = 0;
    pa_buf_truncate(&c->seen_arena, 0);
    c->n_allow_idx = 0;
    for (size_t i = 0; i < d->n_allow; i++)
        if (surface && strcmp(d->allow[i].surface, surface) == 0)
            c->allow_idx[c->n_allow_idx++] = i;

    bool walk = true;
    if (kind == PA_DOC_TEXT) {
        size_t i = 0;
        while (i < len && (cclass[(unsigned char)buf[i]] & CC_SPACE))
            i++;
        walk = i < len && (buf[i] == '{' || buf[i] == '[');
    }
    int rc = 0;
    if (walk) {
        int wr = jw_walk(c->w, buf, len, NULL, c);
        if (c->error) {
            rc = -1;
            goto out;
        }
        if (wr < 0) {
            res->invalid_json = true;
            c->state = 0;
            if (!c->stop && scan_as_text(c, buf, len) < 0)
                rc = -1;
        }
    } else if (scan_as_text(c, buf, len) < 0) {
        rc = -1;
    }
out:
    /* the path buffers held member names of this document */
    pa_buf_wipe(&c->path);
    pa_buf_wipe(&c->pend_path);
    pa_buf_wipe(&c->seen_arena);
    c->cb = NULL;
    c->res = NULL;
    return rc;
}
