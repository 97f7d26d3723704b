/* dict: the key dictionary (see dict.h): default entries, tokenizer, hash table of word forms, lookup, and the
 * public key functions of detect.h (pa_detect_normalize_key, pa_detect_key_category, pa_detect_default_dictionary,
 * pa_detect_dictionary_each, pa_detect_ignored_each).
 * Whole words only: an entry matches a key's trailing tokens word for word ("username" never matches "name",
 * "passport" never matches "pass", "ad_id" never matches "adid"); an entry of several words also matches them run
 * together as one word ("firstname"). A lookup probes every trailing run of tokens, right to left, with a rolling
 * hash: O(key length).
 * Sees member names only, never values; never prints.
 */
#include "dict.h"

#include "cclass.h"
#include "internal.h"
#include "memo.h"
#include "natid.h"
#include "validators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default key dictionary, category by category, each entry as underscore-separated words: its word form (the
 * words as the tokenizer splits them: "ipv4" is ipv_4) is what keys are compared with, word for word; the written form
 * names the rule ("key:email_address"). An entry of several words also matches them run together as one word (its
 * alias: "emailaddress", "firstname"; digits stay their own words, "addressline_1"), with the same rule. A trailing
 * '!' marks an entry that matches only a whole key (DF_WHOLE: never as trailing tokens, "angle_sin", "camera_pan").
 * CAT_STOP entries block a shorter trailing match ("wallet_address" is not a street address); they have no alias.
 * Entries are added in this order, then the aliases (pa_detect_dictionary_each and the guardrail SQL keep it). Every
 * entry is documented in docs/detection.md; test_detect.c fails on duplicates. */
static const struct {
    int cat;
    const char *words;
} dict_src[] = {
    {PA_CAT_EMAIL, "email e_mail email_address email_addr mail_address"},
    {PA_CAT_PHONE, "phone phone_number phone_no phone_num telephone telephone_number tel tel_no tel_number mobile "
                   "mobile_phone mobile_number mobile_no cell_phone cell_number cell_no msisdn fax fax_number "
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
                         "birth_name forename fname lname account_holder_name cardholder_name card_holder_name "
                         "name_on_card "
                         "customer_name contact_name person_name patient_name employee_name recipient_name "
                         "billing_name shipping_name"},
    {PA_CAT_IP_ADDRESS, "ip ip_address ip_addr ipv4 ipv6 ipv4_address ipv6_address client_ip remote_ip remote_addr "
                        "remote_address client_address x_forwarded_for forwarded_for"},
    {PA_CAT_STREET_ADDRESS, "address street_address street street_name address_line address_line_1 address_line_2 "
                            "service_address home_address postal_address mailing_address residential_address "
                            "billing_address shipping_address delivery_address"},
    /* "...address" keys that are not postal addresses */
    {CAT_STOP, "web_address wallet_address contract_address token_address bitcoin_address btc_address eth_address "
               "ethereum_address crypto_address deposit_address server_address bind_address listen_address "
               "host_address local_address node_address socket_address network_address broadcast_address "
               "multicast_address gateway_address proxy_address memory_address base_address device_address"},
    {PA_CAT_DATE_OF_BIRTH, "dob date_of_birth birth_date birth_day bday"},
    {PA_CAT_CREDIT_CARD, "credit_card credit_card_number credit_card_no debit_card card_number card_no cc_number "
                         "cc_num pan! card_pan primary_account_number cvv cvv_2 cvc cvc_2"},
    {PA_CAT_IBAN, "iban iban_number bban bank_account bank_account_number"},
    /* geolocation (lat/lng pairs are handled separately: rule key:lat_lng_pair) */
    {PA_CAT_GEOLOCATION, "coordinates geo_location geo_coordinates gps_coordinates gps_location geo_point lat_lng "
                         "lat_lon lat_long"},
    /* ifa, adid, device_id and push tokens are device ids only under a device (context.c: KF_DEVWEAK) */
    {PA_CAT_DEVICE_ID, "device_advertising_id advertising_id idfa idfv gaid aaid android_id imei udid"},
    {PA_CAT_MAC_ADDRESS, "mac_address mac_addr hw_addr hardware_address bssid"},
    {PA_CAT_POSTAL_CODE, "zip zip_code postal_code post_code plz"},
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

#define DICT_MAX 512 /* entries and aliases (about 360 today); dict_init aborts past it */
#define DICT_WORD_MAX 48

static struct dict_word {
    char words[DICT_WORD_MAX]; /* word form: "email_address", "ipv_4", "addressline_1" (an alias) */
    char rule[DICT_WORD_MAX + 8];
    char trule[DICT_WORD_MAX + 8];
    int cat;
    unsigned flags;
} dict_words[DICT_MAX];
static size_t n_dict_words;
static struct pa_dict_entry dict_public[DICT_MAX]; /* the entries with a category, then their aliases */
static size_t n_dict_public;

static bool dict_has(const char *words)
{
    for (size_t i = 0; i < n_dict_words; i++)
        if (strcmp(dict_words[i].words, words) == 0)
            return true;
    return false;
}

static struct dict_word *dict_add(const char *words, const char *rule, int cat, unsigned flags)
{
    if (n_dict_words == DICT_MAX || strlen(words) >= DICT_WORD_MAX)
        abort(); /* the table outgrew DICT_MAX or an entry DICT_WORD_MAX: a programming error */
    struct dict_word *e = &dict_words[n_dict_words++];
    snprintf(e->words, sizeof e->words, "%s", words);
    snprintf(e->rule, sizeof e->rule, "%s", rule);
    snprintf(e->trule, sizeof e->trule, "typed:%s", rule + 4);
    e->cat = cat;
    e->flags = flags;
    if (cat >= 0)
        dict_public[n_dict_public++] = (struct pa_dict_entry){e->words, cat};
    return e;
}

/* The alias of a word form: its adjacent letter words run together ("first_name" -> "firstname", "address_line_1" ->
 * "addressline_1"). Returns false when it has none (a single word, or words between digits only). */
static bool alias_of(const char *words, char *out, size_t cap)
{
    size_t o = 0;
    bool merged = false;
    for (size_t i = 0; words[i] && o + 1 < cap; i++) {
        if (words[i] == '_' && i > 0 && !is_digit((unsigned char)words[i - 1]) && words[i + 1] &&
            !is_digit((unsigned char)words[i + 1])) {
            merged = true;
            continue;
        }
        out[o++] = words[i];
    }
    out[o] = '\0';
    return merged;
}

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
    size_t first = n_dict_words;
    for (size_t r = 0; r < PA_ARRAY_LEN(dict_src); r++) {
        for (const char *w = dict_src[r].words; *w;) {
            size_t n = strcspn(w, " ");
            bool whole = w[n - 1] == '!';
            size_t wl = whole ? n - 1 : n;
            struct tokens t;
            pa_det_tokenize(w, wl, &t);
            char rule[DICT_WORD_MAX + 8];
            snprintf(rule, sizeof rule, "key:%.*s", (int)wl, w);
            unsigned fl = whole ? DF_WHOLE : 0;
            if (dict_src[r].cat == PA_CAT_NATIONAL_ID)
                fl |= (unsigned)natid_of(w, wl) << KF_NATID_SHIFT;
            dict_add(t.w, rule, dict_src[r].cat, fl);
            w += n;
            w += *w == ' ';
        }
    }
    for (size_t i = first, n = n_dict_words; i < n; i++) {
        char alias[DICT_WORD_MAX];
        if (dict_words[i].cat != CAT_STOP && alias_of(dict_words[i].words, alias, sizeof alias) && !dict_has(alias))
            dict_add(alias, dict_words[i].rule, dict_words[i].cat, dict_words[i].flags);
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
    /* Salesforce's custom field, relationship and compound-field suffixes are not words: Preferred_Name__c,
     * Location__Latitude__s */
    if (len > 3 && key[len - 3] == '_' && key[len - 2] == '_' && strchr("cCrRsS", key[len - 1]))
        len -= 3;
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
            if (t->n)
                t->w[t->len++] = '_';
            t->start[t->n++] = (uint16_t)t->len;
        }
        t->w[t->len++] = (char)lower(k[i]);
        prev = c;
    }
    t->w[t->len] = '\0';
    t->start[t->n] = (uint16_t)(t->len + 1);
}

size_t pa_detect_normalize_key(const char *key, size_t len, char *out, size_t cap)
{
    if (!cap)
        return 0;
    struct tokens t;
    pa_det_tokenize(key, len, &t);
    size_t o = 0;
    for (size_t j = 0; j < t.len && o + 1 < cap; j++)
        out[o++] = t.w[j] == '_' ? ' ' : t.w[j];
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
        if (e->h == h && e->len == n && memcmp(e->words, s, n) == 0)
            return e;
    }
}

/* Insert or replace (a later entry for the same word form wins: extra_keys override the defaults). */
static void dtab_put(struct dtab *t, const char *words, size_t len, int cat, unsigned flags, const char *rule,
                     const char *trule)
{
    uint64_t h = suffix_hash(words, len);
    if (t->slots) {
        for (size_t i = hash_slot(h, t->mask);; i = (i + 1) & t->mask) {
            uint32_t v = t->slots[i];
            if (!v)
                break;
            struct dent *e = &t->e[v - 1];
            if (e->h == h && e->len == len && memcmp(e->words, words, len) == 0) {
                e->cat = cat;
                e->flags = flags;
                e->rule = rule;
                e->trule = trule;
                return;
            }
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->e = pa_xrealloc(t->e, t->cap * sizeof *t->e);
    }
    t->e[t->n++] = (struct dent){words, len, h, cat, flags, rule, trule};
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

/* Longest trailing token run of w[0..len) (token starts in start[0..n), each run ending at len) that is in the table.
 * The runs start at token starts, so an entry matches whole words only. */
static const struct dent *dtab_suffix(const struct dtab *t, const char *w, size_t len, const uint16_t *start, size_t n)
{
    const struct dent *best = NULL;
    uint64_t h = 0, pw = 1;
    size_t pos = len;
    for (size_t k = n; k-- > 0;) {
        size_t ts = start[k];
        if (len - ts > t->maxlen)
            break;
        for (; pos > ts; pos--) {
            h += (uint64_t)(unsigned char)w[pos - 1] * pw;
            pw *= HASH_B;
        }
        const struct dent *e = dtab_find(t, h, w + ts, len - ts);
        if (e && (!(e->flags & DF_WHOLE) || k == 0))
            best = e;
    }
    return best;
}

/* Strings a detector's dictionary owns (extra_keys, ignore_keys). */
static char *own(struct pa_det_dict *dict, char *s)
{
    dict->owned = pa_xrealloc(dict->owned, (dict->n_owned + 1) * sizeof *dict->owned);
    dict->owned[dict->n_owned++] = s;
    return s;
}

/* The joined form of a key's tokens, without separators ("Email-Address" -> "emailaddress"): ignore_keys compare
 * whole keys this way. out holds at least KEY_WINDOW + 1 bytes. */
static size_t joined_of(const struct tokens *t, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < t->len; i++)
        if (t->w[i] != '_')
            out[o++] = t->w[i];
    out[o] = '\0';
    return o;
}

/* An extra key: its word form and its alias (the words run together), both with the rule "key:" + the word form. */
static int put_extra_key(struct pa_detector *d, const struct pa_detect_extra_key *x, char *err, size_t errlen)
{
    struct pa_det_dict *dict = &d->dict;
    struct tokens t;
    pa_det_tokenize(x->key, strlen(x->key), &t);
    if (!t.len) {
        snprintf(err, errlen, "detectors.extra_keys: key \"%s\" has no letters or digits", x->key);
        return -1;
    }
    char *words = own(dict, pa_xstrndup(t.w, t.len));
    char *rule = own(dict, pa_xasprintf("key:%s", words));
    char *trule = own(dict, pa_xasprintf("typed:%s", words));
    int cat = pa_det_cat_intern(d, x->category);
    dtab_put(&dict->keys, words, t.len, cat, 0, rule, trule);
    char alias[2 * KEY_WINDOW + 1];
    if (alias_of(words, alias, sizeof alias)) {
        char *a = own(dict, pa_xstrdup(alias));
        dtab_put(&dict->keys, a, strlen(a), cat, 0, rule, trule);
    }
    return 0;
}

/* Defaults, then extra_keys (which override a default entry for the same key), then ignore_keys. */
int pa_det_dict_build(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen)
{
    struct pa_det_dict *dict = &d->dict;
    for (size_t i = 0; i < n_dict_words; i++) {
        const struct dict_word *e = &dict_words[i];
        dtab_put(&dict->keys, e->words, strlen(e->words), e->cat, e->flags, e->rule, e->trule);
    }
    for (size_t i = 0; i < opt->n_extra_keys; i++)
        if (put_extra_key(d, &opt->extra_keys[i], err, errlen) < 0)
            return -1;
    for (size_t i = 0; i < dict->keys.n; i++) {
        const struct dent *e = &dict->keys.e[i];
        size_t end = e->len;
        while (end && (is_digit((unsigned char)e->words[end - 1]) || e->words[end - 1] == '_'))
            end--;
        size_t b = end;
        while (b && e->words[b - 1] != '_')
            b--;
        if (e->cat >= 0 && end > b)
            dtab_put(&dict->lastw, e->words + b, end - b, 0, 0, NULL, NULL);
    }
    for (size_t i = 0; i < opt->n_ignore_keys; i++) {
        struct tokens t;
        char j[KEY_WINDOW + 1];
        pa_det_tokenize(opt->ignore_keys[i], strlen(opt->ignore_keys[i]), &t);
        size_t n = joined_of(&t, j);
        if (n)
            dtab_put(&dict->ignore, own(dict, pa_xstrndup(j, n)), n, 0, 0, NULL, NULL);
    }
    return 0;
}

void pa_det_dict_free(struct pa_det_dict *dict)
{
    dtab_free(&dict->keys);
    dtab_free(&dict->ignore);
    dtab_free(&dict->lastw);
    for (size_t i = 0; i < dict->n_owned; i++)
        free(dict->owned[i]);
    free(dict->owned);
}

/* Key lookup with the fallbacks: exact words, then without trailing digit tokens ("phone2", "address_3"), then the
 * last token's plural stripped ("emails", "addresses"). A stop entry ends the search. */
const struct dent *pa_det_key_lookup(const struct pa_detector *d, struct tokens *t)
{
    if (!t->n)
        return NULL;
    const struct dent *e = dtab_suffix(&d->dict.keys, t->w, t->len, t->start, t->n);
    if (e)
        return e;
    size_t n = t->n;
    while (n > 0 && is_digit((unsigned char)t->w[t->start[n - 1]]))
        n--;
    if (n && n < t->n) {
        e = dtab_suffix(&d->dict.keys, t->w, t->start[n] - 1u, t->start, n);
        if (e)
            return e;
    }
    if (!n)
        return NULL;
    size_t end = t->start[n] - 1u, last = tok_len(t, n - 1);
    if (last >= 3 && t->w[end - 1] == 's' && t->w[end - 2] != 's') {
        e = dtab_suffix(&d->dict.keys, t->w, end - 1, t->start, n);
        if (!e && last >= 4 && t->w[end - 2] == 'e')
            e = dtab_suffix(&d->dict.keys, t->w, end - 2, t->start, n);
    }
    return e;
}

static bool token_is(const struct tokens *t, size_t i, const char *w)
{
    size_t n = tok_len(t, i);
    return strlen(w) == n && memcmp(t->w + t->start[i], w, n) == 0;
}

/* The last tokens of t are the words of w ("message_id") */
static bool ends_with_words(const struct tokens *t, const char *w)
{
    size_t n = strlen(w);
    if (t->len < n || memcmp(t->w + t->len - n, w, n) != 0)
        return false;
    return t->len == n || t->w[t->len - n - 1] == '_';
}

/* Flags of a key for the value detectors and the lat/lng pairing. */
unsigned pa_det_key_flags(const struct tokens *t)
{
    unsigned f = 0;
    if (t->n) {
        size_t l = t->n - 1;
        /* software named with its version ("app": "Acme 1.2.3.4", "browser": "Chrome 120.0.0.0") */
        static const char *const sw[] = {"app",      "application", "library", "browser",   "os",
                                         "platform", "software",    "product", "framework", "runtime",
                                         "engine",   "plugin",      "package", "generator", "tool"};
        for (size_t i = 0; i < PA_ARRAY_LEN(sw); i++)
            if (token_is(t, l, sw[i]))
                f |= KF_VERSION;
        /* identifiers, and product codes (barcodes, UPC/EAN/GTIN, ISBN, SKU) that are as long as card numbers */
        static const char *const ids[] = {"id",          "ids",     "uid",      "uuid", "guid", "identifier",
                                          "identifiers", "barcode", "barcodes", "upc",  "ean",  "gtin",
                                          "isbn",        "sku",     "asin",     "mpn"};
        for (size_t i = 0; i < PA_ARRAY_LEN(ids); i++)
            if (token_is(t, l, ids[i]))
                f |= KF_ID;
        /* machine-made references: a reference word before a code noun, or a locator */
        static const char *const refs[] = {"confirmation", "booking",   "order",    "tracking", "invoice",
                                           "ticket",       "voucher",   "coupon",   "promo",    "serial",
                                           "reservation",  "receipt",   "shipment", "parcel",   "transaction",
                                           "txn",          "payment",   "refund",   "batch",    "lot",
                                           "case",         "reference", "ref",      "pnr",      "gift"};
        static const char *const nouns[] = {"number", "no", "num", "nr", "code", "ref", "reference", "id", "key"};
        bool noun = token_is(t, l, "locator") || token_is(t, l, "pnr") || token_is(t, l, "confirmation");
        for (size_t i = 0; i < PA_ARRAY_LEN(nouns) && !noun && l > 0; i++)
            if (token_is(t, l, nouns[i]))
                for (size_t j = 0; j < PA_ARRAY_LEN(refs) && !noun; j++)
                    noun = token_is(t, l - 1, refs[j]);
        if (noun)
            f |= KF_CODE;
        static const char *const msgid[] = {"message_id", "msg_id",     "messageid", "in_reply_to",
                                            "references", "content_id", "contentid", "cid"};
        for (size_t i = 0; i < PA_ARRAY_LEN(msgid); i++)
            if (ends_with_words(t, msgid[i]))
                f |= KF_MSGID;
    }
    for (size_t i = 0; i < t->n; i++)
        if (token_is(t, i, "version") || token_is(t, i, "ver") || token_is(t, i, "build") ||
            token_is(t, i, "release") || token_is(t, i, "sdk") || token_is(t, i, "firmware") || token_is(t, i, "fw"))
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

bool pa_det_dict_last_word(const struct pa_detector *d, const char *w, size_t n)
{
    const struct dtab *t = &d->dict.lastw;
    if (dtab_find(t, suffix_hash(w, n), w, n))
        return true;
    if (n >= 4 && w[n - 1] == 's' && dtab_find(t, suffix_hash(w, n - 1), w, n - 1))
        return true;
    return n >= 5 && w[n - 2] == 'e' && w[n - 1] == 's' && dtab_find(t, suffix_hash(w, n - 2), w, n - 2);
}

bool pa_det_key_ignored(const struct pa_detector *d, const struct tokens *t)
{
    if (!d->dict.ignore.n || !t->len)
        return false;
    char j[KEY_WINDOW + 1];
    size_t n = joined_of(t, j);
    return dtab_find(&d->dict.ignore, suffix_hash(j, n), j, n) != NULL;
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
        cb(arg, e->words, cat, (e->flags & DF_WHOLE) != 0);
    }
}

void pa_detect_ignored_each(const struct pa_detector *d, void (*cb)(void *arg, const char *joined), void *arg)
{
    for (size_t i = 0; i < d->dict.ignore.n; i++)
        cb(arg, d->dict.ignore.e[i].words);
}
