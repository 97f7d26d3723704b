/* dict: the key dictionary (see dict.h): default entries, tokenizer, hash table of joined tokens, lookup, and the
 * public key functions of detect.h (pa_detect_normalize_key, pa_detect_key_category, pa_detect_default_dictionary,
 * pa_detect_dictionary_each, pa_detect_ignored_each).
 * Whole tokens only: "username" never matches "name", "passport" never matches "pass". A lookup probes every
 * trailing run of tokens, right to left, with a rolling hash: O(key length).
 * Sees member names only, never values; never prints.
 */
#include "dict.h"

#include "cclass.h"
#include "internal.h"
#include "memo.h"
#include "validators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default key dictionary, category by category, each entry as underscore-separated tokens: the joined form
 * ("emailaddress") is what keys are compared with, the underscore form names the rule ("key:email_address"). A
 * trailing '!' marks an entry that matches only a whole key (DF_WHOLE: never as trailing tokens, "angle_sin",
 * "camera_pan"). CAT_STOP entries block a shorter trailing match ("wallet_address" is not a street address).
 * Entries are added in this order (pa_detect_dictionary_each and the guardrail SQL keep it). Every entry is documented
 * in docs/detection.md; test_detect.c fails on duplicates. */
static const struct {
    int cat;
    const char *words;
} dict_src[] = {
    {PA_CAT_EMAIL, "email email_address email_addr mail_address"},
    {PA_CAT_PHONE, "phone phone_number phone_no phone_num telephone telephone_number tel tel_no tel_number mobile "
                   "mobile_phone mobile_number mobile_no cellphone cell_number cell_no msisdn fax fax_number "
                   "contact_number landline"},
    {PA_CAT_NATIONAL_ID, "ssn social_security_number social_security social_security_no national_id "
                         "national_id_number national_identity_number national_identification_number "
                         "national_insurance_number nino nin! passport passport_number passport_no "
                         "drivers_license driver_license drivers_license_number driver_license_number "
                         "drivers_licence driver_licence driving_licence driving_license driving_licence_number "
                         "driving_license_number tax_id tax_id_number taxpayer_id tax_identification_number tin "
                         "itin sin! social_insurance_number id_card_number identity_card_number aadhaar "
                         "aadhaar_number cpf curp dni nif nie bsn pesel personnummer "
                         "individual_taxpayer_identification_number ni_number national_insurance_no "
                         "social_insurance_no nir numero_securite_sociale numero_de_securite_sociale steuer_id "
                         "steueridentifikationsnummer codice_fiscale fiscal_code burgerservicenummer sofinummer "
                         "cpf_number aadhar aadhar_number permanent_account_number tfn tax_file_number tax_file_no"},
    {PA_CAT_PERSON_NAME, "first_name last_name full_name given_name family_name surname middle_name maiden_name "
                         "birth_name forename fname lname account_holder_name cardholder_name name_on_card "
                         "customer_name contact_name person_name patient_name employee_name recipient_name "
                         "billing_name shipping_name"},
    {PA_CAT_IP_ADDRESS, "ip ip_address ip_addr ipv4 ipv6 ipv4_address ipv6_address clientip remoteip remote_addr "
                        "remote_address client_address x_forwarded_for forwarded_for"},
    {PA_CAT_STREET_ADDRESS, "address street_address street street_name address_line address_line_1 address_line_2 "
                            "service_address home_address postal_address mailing_address residential_address "
                            "billing_address shipping_address delivery_address"},
    /* "...address" keys that are not postal addresses */
    {CAT_STOP, "web_address wallet_address contract_address token_address bitcoin_address btc_address eth_address "
               "ethereum_address crypto_address deposit_address server_address bind_address listen_address "
               "host_address local_address node_address socket_address network_address broadcast_address "
               "multicast_address gateway_address proxy_address memory_address base_address device_address"},
    {PA_CAT_DATE_OF_BIRTH, "dob date_of_birth birthdate birthday bday"},
    {PA_CAT_CREDIT_CARD, "credit_card credit_card_number credit_card_no debit_card card_number card_no cc_number "
                         "cc_num pan! card_pan primary_account_number cvv cvv_2 cvc cvc_2"},
    {PA_CAT_IBAN, "iban iban_number bban bank_account bank_account_number"},
    /* geolocation (lat/lng pairs are handled separately: rule key:lat_lng_pair) */
    {PA_CAT_GEOLOCATION, "coordinates geolocation geo_coordinates gps_coordinates gps_location geo_point lat_lng "
                         "lat_lon lat_long"},
    {PA_CAT_DEVICE_ID, "device_advertising_id advertising_id idfa idfv gaid aaid adid android_id imei udid"},
    {PA_CAT_MAC_ADDRESS, "mac_address mac_addr hw_addr hardware_address bssid"},
    {PA_CAT_POSTAL_CODE, "zip zip_code postal_code postcode plz"},
};

/* The identifier each national_id entry names (enum pa_natid, validators.h): the value under such a key is checked
 * as that identifier (values.c, pa_det_scan_natid_value; rules named by country). Entries not listed are generic
 * (PA_NATID_ANY: national_id, tax_id, tin, social_security_number...: every identifier's check may fire); passports
 * and driving licences have no universal format (PA_NATID_OTHER: the key alone). Every word here is an entry above
 * (pa_det_dict_init aborts otherwise). */
static const struct {
    enum pa_natid kind;
    const char *words;
} natid_src[] = {
    {PA_NATID_US_SSN, "ssn"},
    {PA_NATID_US_ITIN, "itin individual_taxpayer_identification_number"},
    {PA_NATID_UK_NINO, "national_insurance_number nino nin ni_number national_insurance_no"},
    {PA_NATID_CA_SIN, "sin social_insurance_number social_insurance_no"},
    {PA_NATID_FR_NIR, "nir numero_securite_sociale numero_de_securite_sociale"},
    {PA_NATID_DE_STEUER_ID, "steuer_id steueridentifikationsnummer"},
    {PA_NATID_ES_DNI, "dni"},
    {PA_NATID_ES_NIE, "nie"},
    {PA_NATID_ES_NIF, "nif"},
    {PA_NATID_IT_CF, "codice_fiscale fiscal_code"},
    {PA_NATID_NL_BSN, "bsn burgerservicenummer sofinummer"},
    {PA_NATID_BR_CPF, "cpf cpf_number"},
    {PA_NATID_IN_AADHAAR, "aadhaar aadhaar_number aadhar aadhar_number"},
    {PA_NATID_IN_PAN, "permanent_account_number"},
    {PA_NATID_AU_TFN, "tfn tax_file_number tax_file_no"},
    {PA_NATID_OTHER, "passport passport_number passport_no drivers_license driver_license drivers_license_number "
                     "driver_license_number drivers_licence driver_licence driving_licence driving_license "
                     "driving_licence_number driving_license_number curp pesel personnummer"},
};

#define DICT_MAX 256 /* entries (222 today); dict_init aborts past it */
#define DICT_WORD_MAX 48

static struct dict_word {
    char joined[DICT_WORD_MAX];
    char rule[DICT_WORD_MAX + 8];
    int cat;
    unsigned flags;
} dict_words[DICT_MAX];
static size_t n_dict_words;
static struct pa_dict_entry dict_public[DICT_MAX]; /* the entries with a category */
static size_t n_dict_public;

/* Is the word w (wl bytes) one of the space-separated words of list? */
static bool word_in(const char *list, const char *w, size_t wl)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " ");
        if (n == wl && memcmp(p, w, wl) == 0)
            return true;
        p += n;
        p += *p == ' ';
    }
    return false;
}

/* The identifier a national_id entry names (natid_src), PA_NATID_ANY when it is not listed. */
static enum pa_natid natid_of(const char *w, size_t wl)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(natid_src); i++)
        if (word_in(natid_src[i].words, w, wl))
            return natid_src[i].kind;
    return PA_NATID_ANY;
}

/* Every word of natid_src is a national_id entry of dict_src: a misspelt one would silently be generic. */
static void natid_src_check(void)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(natid_src); i++)
        for (const char *p = natid_src[i].words; *p;) {
            size_t n = strcspn(p, " ");
            bool found = false;
            for (size_t k = 0; k < n_dict_words && !found; k++)
                found = dict_words[k].cat == PA_CAT_NATIONAL_ID && strlen(dict_words[k].rule) == n + 4 &&
                        memcmp(dict_words[k].rule + 4, p, n) == 0;
            if (!found)
                abort(); /* a programming error: the table above names a word that is not an entry */
            p += n;
            p += *p == ' ';
        }
}

void pa_det_dict_init(void)
{
    for (size_t r = 0; r < PA_ARRAY_LEN(dict_src); r++) {
        for (const char *w = dict_src[r].words; *w;) {
            size_t n = strcspn(w, " ");
            bool whole = w[n - 1] == '!';
            size_t wl = whole ? n - 1 : n;
            if (n_dict_words == DICT_MAX)
                abort(); /* the table above outgrew DICT_MAX: a programming error */
            struct dict_word *e = &dict_words[n_dict_words++];
            size_t k = 0;
            for (size_t i = 0; i < wl && k + 1 < DICT_WORD_MAX; i++)
                if (w[i] != '_')
                    e->joined[k++] = w[i];
            e->joined[k] = '\0';
            snprintf(e->rule, sizeof e->rule, "key:%.*s", (int)wl, w);
            e->cat = dict_src[r].cat;
            e->flags = whole ? DF_WHOLE : 0;
            if (e->cat == PA_CAT_NATIONAL_ID)
                e->flags |= (unsigned)natid_of(w, wl) << KF_NATID_SHIFT;
            if (e->cat >= 0)
                dict_public[n_dict_public++] = (struct pa_dict_entry){e->joined, e->cat};
            w += n;
            w += *w == ' ';
        }
    }
    natid_src_check();
}

const struct pa_dict_entry *pa_detect_default_dictionary(size_t *n)
{
    pa_det_init();
    if (n)
        *n = n_dict_public;
    return dict_public;
}

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
void pa_det_tokenize(const char *key, size_t len, struct tokens *t)
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
    if (!cap)
        return 0;
    struct tokens t;
    pa_det_tokenize(key, len, &t);
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

#define HASH_B 0x100000001b3ULL

static uint64_t suffix_hash(const char *s, size_t n)
{
    uint64_t h = 0, pw = 1;
    for (size_t i = n; i-- > 0;) {
        h += (uint64_t)(unsigned char)s[i] * pw;
        pw *= HASH_B;
    }
    return h;
}

static const struct dent *dtab_find(const struct dtab *t, uint64_t h, const char *s, size_t n)
{
    if (!t->slots)
        return NULL;
    for (size_t i = hash_slot(h, t->mask);; i = (i + 1) & t->mask) {
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
        for (size_t i = hash_slot(h, t->mask);; i = (i + 1) & t->mask) {
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
            size_t i = hash_slot(t->e[k].h, t->mask);
            while (t->slots[i])
                i = (i + 1) & t->mask;
            t->slots[i] = (uint32_t)(k + 1);
        }
    } else {
        size_t i = hash_slot(h, t->mask);
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


/* Normalize a configured key into an owned joined string ("Email-Address" -> "emailaddress") and its rule
 * ("key:email_address"). */
static char *own(struct pa_det_dict *dict, char *s)
{
    dict->owned = pa_xrealloc(dict->owned, (dict->n_owned + 1) * sizeof *dict->owned);
    dict->owned[dict->n_owned++] = s;
    return s;
}

static char *joined_of(const char *key, char **rule_out)
{
    struct tokens t;
    pa_det_tokenize(key, strlen(key), &t);
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


/* Defaults, then extra_keys (which override a default entry for the same key), then ignore_keys. */
int pa_det_dict_build(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen)
{
    struct pa_det_dict *dict = &d->dict;
    for (size_t i = 0; i < n_dict_words; i++) {
        const struct dict_word *e = &dict_words[i];
        dtab_put(&dict->keys, e->joined, strlen(e->joined), e->cat, e->flags, e->rule);
    }
    for (size_t i = 0; i < opt->n_extra_keys; i++) {
        char *rule = NULL;
        char *j = own(dict, joined_of(opt->extra_keys[i].key, &rule));
        own(dict, rule);
        if (!*j) {
            snprintf(err, errlen, "detectors.extra_keys: key \"%s\" has no letters or digits", opt->extra_keys[i].key);
            return -1;
        }
        dtab_put(&dict->keys, j, strlen(j), pa_det_cat_intern(d, opt->extra_keys[i].category), 0, rule);
    }
    for (size_t i = 0; i < opt->n_ignore_keys; i++) {
        char *j = own(dict, joined_of(opt->ignore_keys[i], NULL));
        if (*j)
            dtab_put(&dict->ignore, j, strlen(j), 0, 0, NULL);
    }
    return 0;
}

void pa_det_dict_free(struct pa_det_dict *dict)
{
    dtab_free(&dict->keys);
    dtab_free(&dict->ignore);
    for (size_t i = 0; i < dict->n_owned; i++)
        free(dict->owned[i]);
    free(dict->owned);
}

/* Key lookup with the fallbacks: exact tokens, then without trailing digit tokens ("phone2", "address_3"), then the
 * last token's plural stripped ("emails", "addresses"). A stop entry ends the search. */
const struct dent *pa_det_key_lookup(const struct pa_detector *d, struct tokens *t)
{
    if (!t->n)
        return NULL;
    const struct dent *e = dtab_suffix(&d->dict.keys, t->joined, t->len, t->start, t->n);
    if (e)
        return e;
    size_t n = t->n;
    while (n > 0 && is_digit((unsigned char)t->joined[t->start[n - 1]]))
        n--;
    if (n && n < t->n) {
        e = dtab_suffix(&d->dict.keys, t->joined, t->start[n], t->start, n);
        if (e)
            return e;
    }
    if (!n)
        return NULL;
    size_t end = t->start[n], last = end - t->start[n - 1];
    if (last >= 3 && t->joined[end - 1] == 's' && t->joined[end - 2] != 's') {
        uint16_t save = t->start[n];
        t->start[n] = (uint16_t)(end - 1);
        e = dtab_suffix(&d->dict.keys, t->joined, end - 1, t->start, n);
        if (!e && last >= 4 && t->joined[end - 2] == 'e') {
            t->start[n] = (uint16_t)(end - 2);
            e = dtab_suffix(&d->dict.keys, t->joined, end - 2, t->start, n);
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
unsigned pa_det_key_flags(const struct tokens *t)
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

bool pa_det_key_ignored(const struct pa_detector *d, const struct tokens *t)
{
    if (!d->dict.ignore.n || !t->len)
        return false;
    return dtab_find(&d->dict.ignore, suffix_hash(t->joined, t->len), t->joined, t->len) != NULL;
}

int pa_detect_key_category(const struct pa_detector *d, const char *key, size_t len, const char **rule)
{
    struct tokens t;
    pa_det_tokenize(key, len, &t);
    if (rule)
        *rule = NULL;
    if (pa_det_key_ignored(d, &t))
        return -1;
    const struct dent *e = pa_det_key_lookup(d, &t);
    if (!e || e->cat < 0 || d->cat_disabled[e->cat])
        return -1;
    if (rule)
        *rule = e->rule;
    return e->cat;
}

void pa_detect_dictionary_each(const struct pa_detector *d, pa_dict_cb cb, void *arg)
{
    for (size_t i = 0; i < d->dict.keys.n; i++) {
        const struct dent *e = &d->dict.keys.e[i];
        int cat = e->cat < 0 || d->cat_disabled[e->cat] ? -1 : e->cat;
        cb(arg, e->joined, cat, (e->flags & DF_WHOLE) != 0);
    }
}

void pa_detect_ignored_each(const struct pa_detector *d, void (*cb)(void *arg, const char *joined), void *arg)
{
    for (size_t i = 0; i < d->dict.ignore.n; i++)
        cb(arg, d->dict.ignore.e[i].joined);
}

