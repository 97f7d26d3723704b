/* context: what the place of a value says about it (see context.h; docs/detection.md, "Context", gives every
 * vocabulary below with its reason). The vocabularies are short on purpose: each word is a kind of data a compliance
 * officer would recognise (a person's role, an organisation, a place, a part of an address), never a word one
 * document needed.
 * Pure functions of names and bytes: never keeps, copies out or prints a byte of a value (a value's label is
 * normalized into a stack buffer that is wiped before returning).
 */
#include "context.h"

#include "cclass.h"
#include "internal.h"
#include "validators.h"

#include <string.h>

/* ---- words ------------------------------------------------------------------------------------------------------ */

/* A vocabulary: space-separated words, hashed once (pa_det_ctx_init) so that a lookup is one probe or two. */
struct wset {
    const char *text;
    uint16_t off[256];
    uint8_t len[256];
    uint8_t slot[512]; /* word index + 1, 0: empty */
};

static inline size_t wset_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return (h ^ (h >> 15)) & 511;
}

static void wset_build(struct wset *s)
{
    size_t k = 0;
    for (const char *p = s->text; *p;) {
        size_t l = strcspn(p, " ");
        if (k == 255 || l > 255)
            abort(); /* a vocabulary outgrew its table: a programming error */
        s->off[k] = (uint16_t)(p - s->text);
        s->len[k] = (uint8_t)l;
        size_t i = wset_hash(p, l);
        while (s->slot[i])
            i = (i + 1) & 511;
        s->slot[i] = (uint8_t)(k + 1);
        k++;
        p += l;
        p += *p == ' ';
    }
}

/* w[0..n) is one of the words of s */
static bool in_list(const struct wset *s, const char *w, size_t n)
{
    if (!n || n > 255)
        return false;
    for (size_t i = wset_hash(w, n);; i = (i + 1) & 511) {
        unsigned k = s->slot[i];
        if (!k)
            return false;
        if (s->len[k - 1] == n && memcmp(s->text + s->off[k - 1], w, n) == 0)
            return true;
    }
}

/* Token i of t as a word of list, also with a plural s / es / ies stripped ("users", "addresses", "companies"). */
static bool tok_in(const struct tokens *t, size_t i, const struct wset *list)
{
    const char *w = t->w + t->start[i];
    size_t n = tok_len(t, i);
    if (in_list(list, w, n))
        return true;
    if (n >= 4 && w[n - 1] == 's' && w[n - 2] != 's') {
        if (in_list(list, w, n - 1))
            return true;
        if (n >= 5 && w[n - 2] == 'e' && in_list(list, w, n - 2))
            return true;
        if (n >= 5 && w[n - 3] == 'i' && w[n - 2] == 'e') { /* companies -> company */
            char b[64];
            if (n - 2 < sizeof b) {
                memcpy(b, w, n - 3);
                b[n - 3] = 'y';
                if (in_list(list, b, n - 2))
                    return true;
            }
        }
    }
    return false;
}

static bool tok_is(const struct tokens *t, size_t i, const char *w)
{
    size_t n = tok_len(t, i);
    return strlen(w) == n && memcmp(t->w + t->start[i], w, n) == 0;
}

/* The whole word form is one of list's entries (written with '_' between words) */
static bool words_are(const struct tokens *t, const struct wset *list)
{
    return in_list(list, t->w, t->len);
}

/* Holders of a person: roles a natural person plays in a record (its author, the customer, a user, a recipient, a
 * patient or practitioner...). "owner", "actor" and "target" are not here: they are as often an organisation or an
 * application, so their objects are decided by a type (owner.type = "User"). */
static struct wset person_holders = {
    .text =
        "author committer customer user member contact recipient sender patient practitioner traits assignee requester "
        "submitter reporter maintainer contributor participant individual admin administrator agent employee person "
        "people inviter invitee pusher cardholder subject performer recorder asserter attendee guest buyer payer "
        "beneficiary applicant candidate student reviewer approver signer follower subscriber"};
/* Mail parties, as whole keys only ("from", "reply_to"; never "ship_from") */
static struct wset mail_parties = {.text = "from to cc bcc reply_to"};
/* Qualifiers that make an address a person's (billing_address, shipping_details, home_address) */
static struct wset person_address_words = {
    .text = "billing shipping delivery home mailing residential residence personal"};
/* Holders of an organisation, a product, software or infrastructure, or a place: a name or an address in them is not
 * a person's. Not the generic containers of any entity: "resource" (FHIR Bundle entries), "item" (list responses),
 * "node" (GraphQL edges). */
static struct wset thing_holders = {
    .text = "repository repo project organization organisation org company product package provider module app "
            "application plan team merchant shop store business brand vendor workspace enterprise installation place "
            "facility venue warehouse office premises building geometry feature bank campaign creative publisher site "
            "hospital clinic pharmacy school university library license label tag integration bot service server host "
            "cluster pod container image volume bucket function queue topic table database dashboard panel widget job "
            "workflow pipeline step line_item variant sku price channel group"};
/* Holders of whoever did or owns something: a person or an application or organisation, decided by the object's own
 * type (repository.owner.type = "User"), never by what holds it */
static struct wset actor_holders = {.text = "owner actor target initiator principal creator"};
/* Maps keyed by names (package manifests): their member names are package names, not field names */
static struct wset map_holders = {.text = "dependencies resolutions overrides"};
/* Parts of a thing that say nothing of their own: a compound key is decided by the word before
 * (billing_details -> billing, device_info -> device, user_profile -> user) */
static struct wset neutral_words = {
    .text = "details detail info information data profile record entry object attributes"};
/* Holders whose container continues its parent person (a person's profile or attributes) */
static struct wset pass_words = {
    .text = "profile details detail info information data attributes identity personal bio"};
/* Roles a natural person plays, for a string value: a full name or a person string under them is that person's name
 * (author: "Isaac Z. Schlueter", shop_owner: "Steve Jobs", maintainers: ["Name <email>"]) */
static struct wset role_words = {
    .text =
        "author owner assignee maintainer contributor creator customer requester submitter reporter reviewer approver "
        "sender recipient inviter invitee manager organizer attendee patient practitioner physician doctor nurse "
        "employee member contact user committer signer witness guardian beneficiary cardholder"};
/* The parts of an address that make it one (a country, state or region alone does not: out of scope) */
static struct wset address_parts = {
    .text = "line street address city town locality postcode zip postal house building apartment suite"};
/* The parts of a person's structured name (FHIR HumanName, {"first", "last"}) */
static struct wset name_parts = {.text = "given family first last middle text full given_names family_names"};

/* The short vocabularies used below */
static struct wset w_device = {.text = "device"};
static struct wset w_location = {.text = "location"};
static struct wset name_qualifiers = {.text = "legal birth full preferred maiden display human"};
static struct wset w_display = {.text = "display"};
static struct wset full_name_keys = {.text = "full_name fullname"};
static struct wset type_keys = {.text = "type kind role object resource_type record_type entity_type object_type"};
static struct wset label_keys = {
    .text = "system type kind label name key field use code url attribute property field_name key_name"};
static struct wset value_keys = {.text = "value val data text"};
static struct wset device_keys = {
    .text = "ifa adid device_id deviceid push_token device_token registration_token fcm_token apns_token"};
static struct wset token_qualifiers = {.text = "push device fcm apns"};
static struct wset w_ifa = {.text = "ifa"};
static struct wset w_adid = {.text = "adid"};
static struct wset code_qualifiers = {.text = "postal zip post"};
static struct wset w_reference = {.text = "reference"};
static struct wset w_attributes = {.text = "attributes"};
static struct wset example_keys = {.text = "examples example default enum const"};
static struct wset person_kind_words = {.text = "end_user related_person"};
static struct wset schema_types = {
    .text = "string number integer boolean object array null list map set bool any dynamic"};
static struct wset particles = {.text = "van von de der den da del di du la le y bin ibn al el dos das ten ter"};

static unsigned hk_of_token(const struct tokens *t, size_t i)
{
    if (tok_in(t, i, &person_holders))
        return HK_PERSON;
    if (tok_in(t, i, &person_address_words))
        return HK_PADDR;
    if (tok_is(t, i, "address") || tok_is(t, i, "addresses") || tok_is(t, i, "addr"))
        return HK_ADDR;
    if (tok_is(t, i, "name") || tok_is(t, i, "names"))
        return HK_NAME;
    if (tok_in(t, i, &thing_holders))
        return HK_THING;
    if (tok_in(t, i, &w_device))
        return HK_DEVICE;
    if (tok_in(t, i, &map_holders))
        return HK_MAP;
    if (tok_in(t, i, &pass_words))
        return HK_PASS;
    if (tok_in(t, i, &w_location))
        return HK_LOC;
    if (tok_in(t, i, &actor_holders))
        return HK_ACTOR;
    return HK_NONE;
}

/* The holder kind of a member name: its last word, or the word before a neutral last word; an address or a name
 * qualified by a person's or a thing's word is theirs (billing_address, company_address). */
static unsigned holder_kind(const struct tokens *t)
{
    size_t n = t->n;
    while (n > 0 && is_digit((unsigned char)t->w[t->start[n - 1]])) /* address2, line_1 */
        n--;
    if (!n)
        return HK_NONE;
    if (words_are(t, &mail_parties))
        return HK_PERSON;
    unsigned last = hk_of_token(t, n - 1);
    unsigned prev = n >= 2 ? hk_of_token(t, n - 2) : HK_NONE;
    if (prev == HK_ACTOR && (last == HK_THING || last == HK_NONE))
        return HK_ACTOR; /* target_resources, owner_details: whatever their type says (target_user: a user) */
    if (n >= 2 && tok_in(t, n - 1, &neutral_words) && prev != HK_NONE && prev != HK_PASS && prev != HK_NAME)
        return prev == HK_ADDR ? HK_ADDR : prev;
    if (last == HK_ADDR) {
        if (prev == HK_PERSON || prev == HK_PADDR)
            return HK_PADDR;
        if (prev == HK_THING)
            return HK_THING;
        return HK_ADDR;
    }
    if (last == HK_NAME) { /* name: {...}, legal_name: {...}; device_name, file_name: {...} are not a person's */
        if (n == 1 || prev == HK_PERSON || tok_in(t, n - 2, &name_qualifiers))
            return HK_NAME;
        return prev == HK_THING || prev == HK_DEVICE ? HK_THING : HK_NONE;
    }
    return last;
}

/* Ambiguous names: a person's name only where the context says a person (name, display_name, display); a full name
 * unless the context says an organisation or a thing (full_name, real_name); a name after a person's role is that
 * person's (author_name, user_display_name, submitter_name); user_name and username are handles. */
static void name_flags(const struct tokens *t, int cat, struct kctx *out)
{
    size_t n = t->n;
    if (!n || !tok_is(t, n - 1, "name")) {
        if (n == 1 && (tok_is(t, 0, "display") || tok_is(t, 0, "displayname"))) {
            out->flags |= KF_NAME_WEAK;
            out->nrule = tok_is(t, 0, "display") ? "key:display" : "key:display_name";
        } else if (n == 1 && (tok_is(t, 0, "fullname") || tok_is(t, 0, "realname"))) {
            out->flags |= KF_NAME_STRONG;
            out->nrule = "key:full_name";
        } else if (n >= 1 && tok_is(t, n - 1, "username")) {
            out->flags |= KF_USERNAME;
            out->nrule = "key:username";
        }
        return;
    }
    if (n >= 2 && tok_is(t, n - 2, "user") && !(n >= 3 && tok_in(t, n - 3, &w_display))) {
        out->flags |= KF_USERNAME; /* user_name, actor_user_name: a handle (or a full name, by its shape) */
        out->nrule = "key:user_name";
        return;
    }
    for (size_t i = 0; i + 1 < n; i++)
        if (tok_in(t, i, &person_holders) || tok_in(t, i, &role_words)) {
            out->flags |= KF_NAME_STRONG; /* author_name, user_display_name, submitter_name */
            out->nrule = n >= 2 && tok_is(t, n - 2, "display") ? "key:display_name" : "key:name";
            return;
        }
    if (cat >= 0)
        return; /* a dictionary entry decides (first_name, customer_name, full_name: see below) */
    if (n == 1) {
        out->flags |= KF_NAME_WEAK;
        out->nrule = "key:name";
    } else if (n == 2 && (tok_is(t, 0, "display") || tok_is(t, 0, "preferred") || tok_is(t, 0, "legal") ||
                          tok_is(t, 0, "common"))) {
        out->flags |= KF_NAME_WEAK;
        out->nrule = tok_is(t, 0, "display")     ? "key:display_name"
                     : tok_is(t, 0, "preferred") ? "key:preferred_name"
                     : tok_is(t, 0, "legal")     ? "key:legal_name"
                                                 : "key:common_name";
    } else if (n == 2 && (tok_is(t, 0, "full") || tok_is(t, 0, "real"))) {
        out->flags |= KF_NAME_STRONG;
        out->nrule = tok_is(t, 0, "full") ? "key:full_name" : "key:real_name";
    }
}

void pa_det_ctx_key(const struct tokens *t, int cat, struct kctx *out)
{
    *out = (struct kctx){HK_NONE, 0, NULL};
    size_t n = t->n;
    if (!n)
        return;
    out->hk = holder_kind(t);
    name_flags(t, cat, out);
    if (cat == PA_CAT_PERSON_NAME && words_are(t, &full_name_keys)) {
        out->flags |= KF_NAME_STRONG; /* the dictionary's full_name: not of a repository or a provider */
        out->nrule = NULL;
    } else if (cat == PA_CAT_PERSON_NAME) {
        out->flags |= KF_PEVID;
    }
    if (words_are(t, &type_keys))
        out->flags |= KF_TYPE;
    if (words_are(t, &label_keys))
        out->flags |= KF_TX;
    if (words_are(t, &value_keys) || (n == 2 && tok_is(t, 0, "value")))
        out->flags |= KF_TV;
    if (words_are(t, &device_keys) || (n >= 2 && tok_is(t, n - 2, "device") && tok_is(t, n - 1, "id")) ||
        (n >= 2 && tok_in(t, n - 2, &token_qualifiers) && tok_is(t, n - 1, "token"))) {
        out->flags |= KF_DEVWEAK;
        out->nrule = words_are(t, &w_ifa)        ? "key:ifa"
                     : words_are(t, &w_adid)     ? "key:adid"
                     : tok_is(t, n - 1, "token") ? "key:push_token"
                                                 : "key:device_id";
    }
    if (words_are(t, &mail_parties) || tok_in(t, n - 1, &role_words))
        out->flags |= KF_ROLE;
    size_t m = n;
    while (m > 0 && is_digit((unsigned char)t->w[t->start[m - 1]]))
        m--;
    if (m && (tok_in(t, m - 1, &address_parts) ||
              (m >= 2 && tok_in(t, m - 2, &code_qualifiers) && tok_is(t, m - 1, "code"))))
        out->flags |= KF_ADDRPART;
    if (words_are(t, &name_parts)) {
        out->flags |= KF_PNPART;
        out->nrule = tok_is(t, 0, "given")    ? "key:given"
                     : tok_is(t, 0, "family") ? "key:family"
                     : tok_is(t, 0, "first")  ? "key:first"
                     : tok_is(t, 0, "last")   ? "key:last"
                     : tok_is(t, 0, "middle") ? "key:middle"
                     : tok_is(t, 0, "text")   ? "key:text"
                                              : "key:name";
    }
    if (words_are(t, &w_reference))
        out->flags |= KF_REF;
    if (words_are(t, &w_attributes))
        out->flags |= KF_ATTRS;
    if (words_are(t, &example_keys))
        out->flags |= KF_EXAMPLES;
}

/* ---- values --------------------------------------------------------------------------------------------------- */

/* A short value as a key's tokens (apostrophes dropped: "Driver's License" -> drivers license). False when it is
 * too long to be a label. */
static bool value_tokens(const unsigned char *s, size_t n, struct tokens *t)
{
    char b[KEY_WINDOW];
    if (n >= sizeof b)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\'' && !(s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 && s[i + 2] == 0x99 && (i += 2)))
            b[k++] = (char)s[i];
    pa_det_tokenize(b, k, t);
    explicit_bzero(b, k);
    return true;
}

/* Wipe what value_tokens wrote (the word form holds the value's bytes) */
static void wipe_tokens(struct tokens *t)
{
    explicit_bzero(t->w, t->len + 1);
}

/* Kinds of natural persons, as a type's value names them (user, end-user, AppUser, RelatedPerson...) */
static struct wset person_kinds = {
    .text =
        "user person people customer contact lead admin administrator agent enduser patient practitioner relatedperson "
        "member employee individual student guest visitor subscriber applicant candidate"};
/* ... and of what is not one: organisations, software, places, devices */
static struct wset thing_kinds = {
    .text = "organization organisation org company business corporation team group bot app application service system "
            "integration repository location place facility site store shop merchant vendor brand product device robot "
            "machine workload serviceaccount account property"};
/* words that make a kind a machine's even after a person's word (bot_user, service_account_user) */
static struct wset machine_words = {.text = "bot service system robot integration api machine workload"};

/* The last word of a short value, lower-cased into b (cap bytes): "AppUser" -> "user", "end-user" -> "user",
 * "ORGANIZATION" -> "organization", "Broker__c" -> "broker". Returns its length, 0 when there is none. */
static size_t last_word(const unsigned char *s, size_t n, char *b, size_t cap)
{
    if (n > 3 && s[n - 3] == '_' && s[n - 2] == '_' && strchr("cCrRsS", s[n - 1]))
        n -= 3; /* Salesforce's suffix, as in keys */
    while (n && !is_alpha(s[n - 1]))
        n--;
    size_t e = n;
    while (n && s[n - 1] >= 'a' && s[n - 1] <= 'z')
        n--;
    if (n && s[n - 1] >= 'A' && s[n - 1] <= 'Z') { /* "User" of AppUser, or an all-caps word */
        n--;
        if (e - n == 1 || (n && s[n - 1] >= 'A' && s[n - 1] <= 'Z' && e - n > 1 && s[n + 1] >= 'A'))
            while (n && s[n - 1] >= 'A' && s[n - 1] <= 'Z')
                n--;
    }
    if (e == n || e - n >= cap)
        return 0;
    for (size_t i = n; i < e; i++)
        b[i - n] = (char)lower(s[i]);
    return e - n;
}

/* w[0..n) as a word of list, also with a plural s stripped */
static bool word_in(const struct wset *list, const char *w, size_t n)
{
    return in_list(list, w, n) || (n >= 4 && w[n - 1] == 's' && in_list(list, w, n - 1));
}

int pa_det_ctx_kind_of(const unsigned char *s, size_t n)
{
    char b[24];
    size_t l;
    if (n > 48 || !(l = last_word(s, n, b, sizeof b)))
        return 0;
    int kind = word_in(&person_kinds, b, l) ? 1 : word_in(&thing_kinds, b, l) ? -1 : 0;
    explicit_bzero(b, l);
    if (kind <= 0)
        return kind;
    /* a person's kind: unless a word of it is a machine's (bot_user, ServiceAccountUser) */
    struct tokens t;
    if (!value_tokens(s, n, &t))
        return 0;
    for (size_t i = 0; kind > 0 && i < t.n; i++)
        if (tok_in(&t, i, &machine_words))
            kind = -1;
    if (words_are(&t, &person_kind_words))
        kind = 1;
    wipe_tokens(&t);
    return kind;
}

int pa_det_ctx_ref_kind(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && is_alpha(s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != '/')
        return 0; /* urn:uuid:..., #contained: no type */
    static const char *const persons[] = {"Patient", "Practitioner", "RelatedPerson", "Person"};
    for (size_t k = 0; k < PA_ARRAY_LEN(persons); k++)
        if (strlen(persons[k]) == i && memcmp(persons[k], s, i) == 0)
            return 1;
    return -1;
}

bool pa_det_ctx_schema_type(const unsigned char *s, size_t n)
{
    return n <= 8 && in_list(&schema_types, (const char *)s, n);
}

/* HL7 v2 table 0203 identifier type codes that name a national identifier */
static const struct {
    const char *code;
    const char *rule;
} hl7_codes[] = {
    {"SS", "typed:hl7_ss"},   /* Social Security number */
    {"DL", "typed:hl7_dl"},   /* Driver's license number */
    {"PPN", "typed:hl7_ppn"}, /* Passport number */
    {"TAX", "typed:hl7_tax"}, /* Tax ID number */
    {"NI", "typed:hl7_ni"},   /* National unique individual identifier */
};

/* Last words of a label that mean something without a dictionary entry: typed_words below, latitude and longitude,
 * message identifiers */
static struct wset label_words = {.text = "sms pager cell lat latitude lng lon long longitude id messageid references "
                                          "cid contentid to"};

/* Labels a typed value uses that are not member names of the dictionary (a telecom system "sms") */
static const struct {
    const char *word;
    int cat;
    const char *rule;
} typed_words[] = {
    {"sms", PA_CAT_PHONE, "typed:sms"},
    {"pager", PA_CAT_PHONE, "typed:pager"},
    {"cell", PA_CAT_PHONE, "typed:cell"},
};

int pa_det_ctx_typed_label(const struct pa_detector *d, const unsigned char *s, size_t n, const char **rule,
                           unsigned *kf)
{
    *rule = NULL;
    *kf = 0;
    while (n && (s[n - 1] == '/' || s[n - 1] == ' '))
        n--;
    /* a URL or URN: its last segment (http://hl7.org/fhir/sid/us-ssn, .../patient-mothersMaidenName) */
    size_t a = 0;
    bool uri = false;
    for (size_t i = 0; i + 2 < n && !uri; i++)
        uri = s[i] == ':' && ((s[i + 1] == '/' && s[i + 2] == '/') ||
                              (i == 3 && lower(s[0]) == 'u' && lower(s[1]) == 'r' && lower(s[2]) == 'n'));
    if (uri)
        for (size_t i = 0; i < n; i++)
            if (s[i] == '/' || s[i] == ':' || s[i] == '#')
                a = i + 1;
    s += a;
    n -= a;
    if (!n || n > 64)
        return -1;
    /* HL7 v2-0203 codes: upper case, exactly */
    for (size_t i = 0; i < PA_ARRAY_LEN(hl7_codes); i++)
        if (strlen(hl7_codes[i].code) == n && memcmp(hl7_codes[i].code, s, n) == 0) {
            *rule = hl7_codes[i].rule;
            return d->cat_disabled[PA_CAT_NATIONAL_ID] ? -1 : PA_CAT_NATIONAL_ID;
        }
    if (n == 5 && s[0] == 'N' && s[1] == 'N' && is_alpha(s[2]) && is_alpha(s[3]) && is_alpha(s[4])) {
        *rule = "typed:hl7_nn"; /* NNxxx: national person identifier of country xxx */
        return d->cat_disabled[PA_CAT_NATIONAL_ID] ? -1 : PA_CAT_NATIONAL_ID;
    }
    struct tokens t;
    if (!value_tokens(s, n, &t) || !t.n)
        return -1;
    /* a label names something only when its last word ends an entry, or is a word with a meaning of its own */
    size_t l = t.n;
    while (l && is_digit((unsigned char)t.w[t.start[l - 1]]))
        l--;
    const char *lw = l ? t.w + t.start[l - 1] : NULL;
    size_t ln = l ? tok_len(&t, l - 1) : 0;
    if (!l || (!pa_det_dict_last_word(d, lw, ln) && !in_list(&label_words, lw, ln))) {
        wipe_tokens(&t);
        return -1;
    }
    int cat = -1;
    if (t.n <= 6) {
        for (size_t i = 0; i < PA_ARRAY_LEN(typed_words); i++)
            if (t.len == strlen(typed_words[i].word) && memcmp(t.w, typed_words[i].word, t.len) == 0 &&
                !d->cat_disabled[typed_words[i].cat]) {
                *rule = typed_words[i].rule;
                cat = typed_words[i].cat;
            }
        if (cat < 0) {
            const struct dent *e = pa_det_key_lookup(d, &t);
            if (e && e->cat >= 0 && !d->cat_disabled[e->cat]) {
                cat = e->cat;
                *rule = e->trule;
            }
        }
        *kf = pa_det_key_flags(&t) & (KF_LAT | KF_LNG | KF_MSGID);
    }
    wipe_tokens(&t);
    return cat;
}

/* ---- organisations, handles ----------------------------------------------------------------------------------- */

/* Words that make a name an organisation's: legal forms and collective nouns ("GitHub Inc.", "Sample Business GmbH",
 * "Amazon Web Services", "The Angular Authors") */
static struct wset org_words = {
    .text =
        "inc ltd llc llp gmbh ag sa bv nv plc corp corporation co company companies foundation team authors "
        "contributors maintainers project group labs software systems technologies services service solutions limited "
        "holdings association institute university college bank business"};

/* A word of s[0..n) is an organisation word (case-insensitive, a trailing dot dropped) */
static bool has_org_word(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        while (i < n && !is_alpha(s[i]))
            i++;
        size_t j = i;
        while (j < n && is_alpha(s[j]))
            j++;
        char w[16];
        if (j > i && j - i < sizeof w) {
            for (size_t k = i; k < j; k++)
                w[k - i] = (char)lower(s[k]);
            bool org = in_list(&org_words, w, j - i);
            explicit_bzero(w, sizeof w);
            if (org)
                return true;
        }
        i = j;
    }
    return false;
}

/* A handle rather than a name: one word of lower-case letters, digits and . _ - ("isaacs", "othiym23", "fakeuser") */
bool pa_det_ctx_handle(const unsigned char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit(s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* ---- data or not ------------------------------------------------------------------------------------------------ */

/* The value's letters and digits, lower-cased, equal those of the whole key or of its last word ("IP" under sourceIp,
 * "phone_number" under phone_number): the member's own name written as its value. No tokenizing: the key's last word
 * starts at a lower->upper change or after a separator. */
static bool same_as_key(const unsigned char *s, size_t n, const unsigned char *k, size_t kl)
{
    /* compare from the ends, skipping separators */
    size_t i = n, j = kl;
    for (;;) {
        while (i && !is_alnum(s[i - 1]) && s[i - 1] < 0x80)
            i--;
        while (j && !is_alnum(k[j - 1]) && k[j - 1] < 0x80)
            j--;
        if (!i)
            break;
        if (!j || lower(s[i - 1]) != lower(k[j - 1]))
            return false;
        i--;
        j--;
    }
    /* the value is used up: the key must be too, or be at a word boundary */
    if (!j || !is_alnum(k[j - 1]))
        return true;
    return j < kl && k[j - 1] >= 'a' && k[j - 1] <= 'z' && k[j] >= 'A' && k[j] <= 'Z';
}

bool pa_det_ctx_placeholder(const unsigned char *s, size_t n, const char *key, size_t klen)
{
    trim_space(&s, &n);
    if (!n)
        return true;
    bool alnum = false;
    for (size_t i = 0; i < n && !alnum; i++)
        alnum = is_alnum(s[i]) || s[i] >= 0x80;
    if (!alnum)
        return true; /* "...", "*.*.*.*", "..., ..." */
    static const char *const words[] = {"string", "tbd",   "todo", "placeholder", "sample",    "xxx",
                                        "xx",     "x",     "?",    "not set",     "not_set",   "notset",
                                        "empty",  "blank", "nan",  "0",           "none given"};
    if (n <= 12)
        for (size_t i = 0; i < PA_ARRAY_LEN(words); i++)
            if (ci_eq(s, n, words[i]))
                return true;
    /* "<email>", "<phone_number>", "{{ email }}": a tag naming the field */
    if (n >= 3 &&
        ((s[0] == '<' && s[n - 1] == '>') || (s[0] == '{' && s[n - 1] == '}') || (s[0] == '[' && s[n - 1] == ']'))) {
        bool word = true;
        for (size_t i = 1; i + 1 < n && word; i++)
            word = is_alpha(s[i]) || s[i] == '_' || s[i] == '-' || s[i] == ' ' || s[i] == '{' || s[i] == '}';
        if (word)
            return true;
    }
    /* "hostIPValue", "ipsValue": a field's name with "Value" (round-trip test data) */
    if (n > 5 && memcmp(s + n - 5, "Value", 5) == 0 && s[0] >= 'a' && s[0] <= 'z') {
        bool ident = true;
        for (size_t i = 0; i < n - 5 && ident; i++)
            ident = is_alnum(s[i]);
        if (ident)
            return true;
    }
    /* the member's own name, or its last word ("email": "email", "sourceIp": "IP", "message": "message") */
    if (key && klen && n <= 64 && n <= klen && same_as_key(s, n, (const unsigned char *)key, klen))
        return true;
    return false;
}

/* Bytes a person's name never holds: @ / \ < > { } [ ] = | _ # : (a URL has ':' and '/') */
#define PA_CC_NAME_(c)                                                                                                 \
    ((c) == '@' || (c) == '/' || (c) == '\\' || (c) == '<' || (c) == '>' || (c) == '{' || (c) == '}' || (c) == '[' ||  \
     (c) == ']' || (c) == '=' || (c) == '|' || (c) == '_' || (c) == '#' || (c) == ':')
static const uint8_t not_in_name[256] = {PA_CC_TABLE(PA_CC_NAME_)};

/* The digits and the letters (any non-ASCII byte counted as a letter) of s, in one pass */
static void count_classes(const unsigned char *s, size_t n, size_t *digits, size_t *alpha)
{
    size_t d = 0, a = 0;
    for (size_t i = 0; i < n; i++) {
        d += is_digit(s[i]);
        a += is_alpha(s[i]) || s[i] >= 0x80;
    }
    *digits = d;
    *alpha = a;
}

static bool has_byte(const unsigned char *s, size_t n, unsigned char c)
{
    return memchr(s, c, n) != NULL;
}

static bool has_url(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return true;
    return false;
}

/* A valid IPv4 or IPv6 address token somewhere in s (the value detectors' validators), not the unspecified one */
static bool has_ip(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && (is_hex(s[j]) || s[j] == '.' || s[j] == ':'))
            j++;
        if (j > i) {
            size_t dots = 0, colons = 0;
            for (size_t k = i; k < j; k++) {
                dots += s[k] == '.';
                colons += s[k] == ':';
            }
            if (dots == 3 && !colons && pa_det_check_ipv4_token(s, n, i, j)) {
                bool zero = true;
                for (size_t k = i; k < j && zero; k++)
                    zero = s[k] == '0' || s[k] == '.';
                if (!zero)
                    return true;
            }
            if (colons >= 2 && pa_det_check_ipv6_token(s, n, i, j))
                return true;
            i = j;
        } else {
            i++;
        }
    }
    return false;
}

/* A MAC address somewhere in s: the value detector's shapes (hh:hh:hh:hh:hh:hh, hh-..., hhhh.hhhh.hhhh), then its
 * validator (alone, not all 0 or all f) */
static bool mac_shape(const unsigned char *s, size_t a, size_t to)
{
    if (to - a == 17) {
        unsigned char sep = s[a + 2];
        if (sep != ':' && sep != '-')
            return false;
        for (size_t i = 0; i < 17; i++)
            if (i % 3 == 2 ? s[a + i] != sep : !is_hex(s[a + i]))
                return false;
        return true;
    }
    for (size_t i = 0; i < 14; i++)
        if (i % 5 == 4 ? s[a + i] != '.' : !is_hex(s[a + i]))
            return false;
    return true;
}

static bool has_mac(const unsigned char *s, size_t n)
{
    for (size_t to = 14; to <= n; to++)
        if ((mac_shape(s, to - 14, to) || (to >= 17 && mac_shape(s, to - 17, to))) && pa_det_check_mac(s, n, to))
            return true;
    return false;
}

bool pa_det_ctx_plausible(int cat, const unsigned char *s, size_t n, bool number)
{
    trim_space(&s, &n);
    size_t digits, alpha;
    count_classes(s, n, &digits, &alpha);
    switch (cat) {
    case PA_CAT_EMAIL: {
        const unsigned char *at = memchr(s, '@', n);
        return !number && at && at > s && at + 1 < s + n;
    }
    case PA_CAT_PHONE: return digits >= 7 && digits <= 20 && (number || alpha <= 6) && !has_byte(s, n, '@');
    case PA_CAT_NATIONAL_ID: /* the generic check; walk.c tries the country checks first */
        if (number)
            return digits >= 5 && digits <= 20;
        if (n < 5 || n > 24 || digits < 2)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!is_alnum(s[i]) && s[i] != '-' && s[i] != ' ' && s[i] != '.' && s[i] != '/')
                return false;
        return true;
    case PA_CAT_PERSON_NAME:
        if (number || !alpha || n > 128)
            return false;
        for (size_t i = 0; i < n; i++)
            if (not_in_name[s[i]])
                return false;
        return !has_org_word(s, n);
    case PA_CAT_STREET_ADDRESS:
        if (number || !alpha || has_byte(s, n, '@') || has_url(s, n))
            return false;
        return has_byte(s, n, ' ') || has_byte(s, n, ',') || has_byte(s, n, '\n');
    case PA_CAT_IP_ADDRESS: return !number && has_ip(s, n);
    case PA_CAT_MAC_ADDRESS: return !number && has_mac(s, n);
    case PA_CAT_POSTAL_CODE:
        if (number)
            return digits >= 3 && digits <= 10 && n == digits;
        if (n < 3 || n > 10 || !digits)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!is_alnum(s[i]) && s[i] != ' ' && s[i] != '-')
                return false;
        return true;
    case PA_CAT_DATE_OF_BIRTH: return digits > 0 && n <= 40 && (!number || (digits >= 4 && digits <= 8));
    case PA_CAT_CREDIT_CARD: return digits >= 3;
    case PA_CAT_IBAN: return !number && n >= 8 && digits >= 4;
    case PA_CAT_GEOLOCATION: { /* coordinates: numbers, signs, separators, degrees and hemispheres; not "0,0" */
        size_t nz = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = s[i];
            if (!(is_digit(c) || strchr(".,;:+- NSEWnsew\"'", c) || c == 0xc2 || c == 0xb0) || !c)
                return false; /* a city, a country, a flag ("NEGATIVE") */
            nz += c >= '1' && c <= '9';
        }
        return nz > 0;
    }
    case PA_CAT_DEVICE_ID: {
        if (n < 8 || n > 200)
            return false;
        size_t nz = 0;
        for (size_t i = 0; i < n; i++) {
            if (!is_alnum(s[i]) && !strchr("-:_.=+/*", s[i]))
                return false; /* '*': partly masked (mostly masked is protected: not data, never asked here) */
            nz += is_alnum(s[i]) && s[i] != '0';
        }
        return nz > 0; /* the zeroed IDFA/GAID of "limit ad tracking" */
    }
    default: return true;
    }
}

/* ---- shapes ----------------------------------------------------------------------------------------------------- */

static bool is_upper_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || c >= 0xc0; /* a UTF-8 lead byte: a letter whose case we do not tell */
}

static bool is_letter(unsigned char c)
{
    return is_alpha(c) || c >= 0x80;
}

/* The words of s[0..n) (single spaces between them) as a name's: capitalized words (digits allowed when digits_ok:
 * generated names such as "Marine542"), particles, initials ("Z."). Returns the number of capitalized words, 0 when a
 * word is not a name's or one is an organisation's. */
static size_t name_words(const unsigned char *s, size_t n, bool digits_ok, size_t *nwords)
{
    if (has_org_word(s, n))
        return 0;
    size_t caps = 0;
    *nwords = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j == i)
            return 0; /* two spaces, or a leading or trailing one */
        (*nwords)++;
        if (in_list(&particles, (const char *)s + i, j - i)) {
            i = j + 1;
            continue;
        }
        if (!is_upper_start(s[i]))
            return 0;
        for (size_t k = i + 1; k < j; k++) {
            unsigned char c = s[k];
            bool punct = c == '.' || c == '-' || c == '\'';
            if (!(is_letter(c) || punct || (digits_ok && is_digit(c))))
                return 0;
            if (punct && (s[k - 1] == '.' || s[k - 1] == '-' || s[k - 1] == '\''))
                return 0;
            if (c == '.' && k + 1 != j)
                return 0; /* a dot ends an initial or an abbreviation */
        }
        caps++;
        if (j == n)
            break;
        i = j + 1;
    }
    return caps;
}

bool pa_det_ctx_full_name(const unsigned char *s, size_t n)
{
    trim_space(&s, &n);
    if (n < 3 || n > 64)
        return false;
    size_t words, caps = name_words(s, n, false, &words);
    return caps >= 2 && words <= 5;
}

bool pa_det_ctx_person_string(const unsigned char *s, size_t n)
{
    trim_space(&s, &n);
    if (n > 512)
        return false;
    size_t e = 0;
    while (e < n && s[e] != '<' && s[e] != '(')
        e++;
    if (e == n)
        return false;
    size_t ne = e;
    while (ne > 0 && s[ne - 1] == ' ')
        ne--;
    if (ne == 0 || ne == e || ne > 64 || memchr(s, '@', ne))
        return false; /* "Name <...>": a name, then a space */
    size_t words, caps = name_words(s, ne, false, &words);
    if (caps < 2 || words > 5)
        return false; /* a full name ("IndigoUnited <...>" is a company's) */
    /* then "<...@...>" and/or "(...)" */
    const unsigned char *p = s + e, *end = s + n;
    bool mail = false, url = false;
    while (p < end) {
        if (*p == '<') {
            const unsigned char *q = memchr(p, '>', (size_t)(end - p));
            if (!q || !memchr(p, '@', (size_t)(q - p)))
                return false;
            mail = true;
            p = q + 1;
        } else if (*p == '(') {
            const unsigned char *q = memchr(p, ')', (size_t)(end - p));
            if (!q)
                return false;
            url = true;
            p = q + 1;
        } else if (*p == ' ') {
            p++;
        } else {
            return false;
        }
    }
    return mail || url;
}

bool pa_det_ctx_honorific_name(const unsigned char *s, size_t n)
{
    if (n < 4 || n > 96 || (s[0] != 'D' && s[0] != 'M' && s[0] != 'P'))
        return false;
    static const struct {
        const char *w;
        size_t n;
    } hon[] = {{"Dr. ", 4}, {"Dr ", 3}, {"Mr. ", 4},  {"Mr ", 3},    {"Mrs. ", 5}, {"Mrs ", 4},
               {"Ms. ", 4}, {"Ms ", 3}, {"Miss ", 5}, {"Prof. ", 6}, {"Mx. ", 4}};
    for (size_t i = 0; i < PA_ARRAY_LEN(hon); i++) {
        if (n > hon[i].n && memcmp(s, hon[i].w, hon[i].n) == 0) {
            size_t words, caps = name_words(s + hon[i].n, n - hon[i].n, true, &words);
            return caps >= 1 && words <= 5;
        }
    }
    return false;
}

/* Once per process (pa_det_init): every vocabulary's hash table. */
void pa_det_ctx_init(void)
{
    static struct wset *const all[] = {
        &person_holders,
        &actor_holders,
        &label_words,
        &mail_parties,
        &person_address_words,
        &thing_holders,
        &map_holders,
        &neutral_words,
        &pass_words,
        &role_words,
        &address_parts,
        &name_parts,
        &person_kinds,
        &thing_kinds,
        &machine_words,
        &org_words,
        &w_device,
        &w_location,
        &name_qualifiers,
        &w_display,
        &full_name_keys,
        &type_keys,
        &label_keys,
        &value_keys,
        &device_keys,
        &token_qualifiers,
        &w_ifa,
        &w_adid,
        &code_qualifiers,
        &w_reference,
        &w_attributes,
        &example_keys,
        &person_kind_words,
        &schema_types,
        &particles,
    };
    for (size_t i = 0; i < PA_ARRAY_LEN(all); i++)
        wset_build(all[i]);
}
