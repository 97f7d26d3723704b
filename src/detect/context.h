/* context: what the place of a value says about it (issue 13: the holder decides, typed values, a key finding needs
 * data). Three kinds of knowledge, each a short documented vocabulary or a check (docs/detection.md, "Context"):
 *   - what a member name says: about the container it holds (a person, a person's address, a person's name, an
 *     address, an organisation or thing, a device, a map keyed by names), and about its own value (an ambiguous
 *     name, a type, a typed value's label or value, an identifier, a message id, a device id that needs a device, a
 *     person's role, an address part...): pa_det_ctx_key, once per distinct name (memoized with it);
 *   - what a value says: a type naming a person kind or an organisation/thing kind, a FHIR reference's target, a
 *     JSON Schema type name, a typed value's label (through the dictionary);
 *   - whether a value can be data of a category at all: placeholders, plausibility per category, the shapes of a
 *     full name and of a person string ("Name <email> (url)").
 * walk.c keeps the per-container state and decides; this room holds no state.
 * Pure functions of names and bytes: never keeps, copies out or prints a byte of a value.
 */
#ifndef PA_DETECT_CONTEXT_H
#define PA_DETECT_CONTEXT_H

#include "dict.h"

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* A container's context class (walk.c's struct dslot): what the container describes. */
enum {
    CX_NONE,   /* unknown: decided by sibling evidence at its end (a type, a person's name parts, a reference) */
    CX_PERSON, /* a natural person (an author, a customer, a user...): an ambiguous name in it is the person's */
    CX_PADDR,  /* a person's address (billing/shipping details, an address under a person): names in it too */
    CX_PNAME,  /* a person's structured name (FHIR HumanName, {"first", "last"}): its parts are names */
    CX_ADDR,   /* an address whose owner is not known: decided by the owner's evidence */
    CX_THING,  /* an organisation, a product, software or infrastructure, a place: no person's name or address */
    CX_DEVICE, /* a device: device-id keys that need a device (ifa, adid, device_id, push tokens) count */
    CX_MAP,    /* a map keyed by names (dependencies): its member names are data, not field names */
};
/* A location (held by a "location" key) that has a name is a place (a store, a site), not someone's position: the
 * class stays CX_NONE and walk.c's slot flag DS_LOC says where the rule applies. */

/* What a member name says about the container it holds (struct kinfo's hk). */
enum { HK_NONE, HK_PERSON, HK_PADDR, HK_ADDR, HK_NAME, HK_THING, HK_DEVICE, HK_MAP, HK_PASS, HK_LOC, HK_ACTOR };

/* What a member name says about its own value (struct kinfo's flags, beside dict.h's KF_NATIONAL..KF_MSGID). */
enum {
    KF_NAME_WEAK = 1u << 6,   /* name, display_name, display...: a person's name only in a person's context */
    KF_NAME_STRONG = 1u << 7, /* full_name, real_name: a person's name unless in an organisation's or thing's */
    KF_TYPE = 1u << 8,        /* type, object, kind, role, resourceType...: its value is evidence of a kind */
    KF_TX = 1u << 9,          /* system, type, kind, label, name, key, field, use, code, url: a typed value's label */
    KF_TV = 1u << 10,         /* value, val, data, text, value<Type>: a typed value's value */
    KF_DEVWEAK = 1u << 11,    /* ifa, adid, device_id, push tokens: a device id only under a device */
    KF_ROLE = 1u << 12,       /* author, owner, assignee, contributors...: a full name or a person string in it */
    KF_ADDRPART = 1u << 13,   /* line1, street, city, postal_code...: a part of an address */
    KF_PNPART = 1u << 14,     /* given, family, first, last, middle, text: a part of a person's structured name */
    KF_PEVID = 1u << 15,      /* first_name, last_name...: a person-name key; with data it says "a person" */
    KF_USERNAME = 1u << 16,   /* username, user_name: a handle, unless it holds a full name */
    KF_REF = 1u << 17,        /* reference: a FHIR reference ("Patient/123") says what its object points to */
    KF_SCHEMA_REF = 1u << 18, /* $ref: a JSON Schema property definition */
    KF_ATTRS = 1u << 19,      /* attributes: its type describes the record that holds it (Salesforce) */
    KF_EXAMPLES = 1u << 20,   /* examples, example, default, enum, const: documentation in a schema definition */
};

/* A member name's context: its holder kind, its flags, and the rule of an ambiguous-name or name-part key. */
struct kctx {
    unsigned hk;
    unsigned flags;
    const char *nrule; /* "key:name", "key:given"... for KF_NAME_* and KF_PNPART keys */
};

/* Once per process (pa_det_init): the vocabularies' hash tables. */
void pa_det_ctx_init(void);

/* What tokens t of a member name say (the dictionary's category is known: cat, -1 when none). */
void pa_det_ctx_key(const struct tokens *t, int cat, struct kctx *out);

/* A type's value: +1 a person kind (user, customer, patient, end-user, AppUser...), -1 an organisation, a thing or a
 * place (organization, bot, app, service, location...), 0 neither. */
int pa_det_ctx_kind_of(const unsigned char *s, size_t n);
/* A FHIR reference's target ("Practitioner/123"): +1 a person resource, -1 another resource, 0 unknown (urn:uuid). */
int pa_det_ctx_ref_kind(const unsigned char *s, size_t n);
/* A JSON Schema or provider-schema type name (string, integer, object, array, list, map, ...). */
bool pa_det_ctx_schema_type(const unsigned char *s, size_t n);

/* A typed value's label (what X in {X: ..., value: V} names): the category and rule ("typed:ssn"), or -1; *kf gets
 * KF_LAT, KF_LNG, KF_MSGID when the label says so. URL and URN labels count by their last segment
 * (".../us-ssn"), HL7 v2-0203 identifier codes by a small table (SS, DL, PPN, TAX, NI). */
int pa_det_ctx_typed_label(const struct pa_detector *d, const unsigned char *s, size_t n, const char **rule,
                           unsigned *kf);

/* A placeholder rather than data, beyond pa_det_string_carries_data's words: "string", "tbd", a value without a
 * letter or a digit ("...", "*.*.*.*"), "<email>"-style tags, "<field>Value" (hostIPValue), the member's own name
 * (key: the raw member name, NULL for none). */
bool pa_det_ctx_placeholder(const unsigned char *s, size_t n, const char *key, size_t klen);
/* Can this string (or JSON number, when number) be data of category cat at all? One check per category: an e-mail
 * has an '@', a phone at least 7 digits, an IP address validates, a street address has words, a person's name has
 * letters and no organisation word... Categories without a check (custom ones) are plausible. */
bool pa_det_ctx_plausible(int cat, const unsigned char *s, size_t n, bool number);
/* The whole value has the shape of a person's full name: 2..5 words, at least two capitalized, letters only (with
 * . - ' inside), at most 64 bytes ("Isaac Z. Schlueter", "Mary-Jane O'Neil", "Ludwig van Beethoven"). */
bool pa_det_ctx_full_name(const unsigned char *s, size_t n);
/* A person string: a name followed by an e-mail in angle brackets and/or a URL in parentheses ("Name <email>
 * (url)", the npm person format; "Name <email>" of mail headers). */
bool pa_det_ctx_person_string(const unsigned char *s, size_t n);
/* A handle rather than a name: one word of lower-case letters, digits and . _ - ("isaacs", "fakeuser"): a name field
 * holding it holds a user name (out of scope), not a person's name. */
bool pa_det_ctx_handle(const unsigned char *s, size_t n);
/* A reference display naming a person by an honorific ("Dr. Jane Doe", "Mrs. Marine542 Upton904"). */
bool pa_det_ctx_honorific_name(const unsigned char *s, size_t n);

#pragma GCC visibility pop

#endif
