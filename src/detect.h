/* detect: PII detection over JSON documents and strings — by key (a normalized-token dictionary) and by value
 * (one Hyperscan pass per string for all patterns, then validators: Luhn, mod-97, octet ranges, SSN rules...).
 *
 * A finding is (JSON path, category, detector key|value, rule). Never a value, never a snippet: nothing this
 * module returns or stores contains a byte of a scanned value, and JSON keys that themselves look like PII are
 * written as <category> in paths.
 * Must never include libpq, libmicrohttpd or libsystemd headers, and never print or log anything.
 */
#ifndef PA_DETECT_H
#define PA_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Built-in categories. Custom categories (from extra_keys / patterns) get ids >= PA_CAT_BUILTIN_COUNT. */
enum pa_category {
    PA_CAT_EMAIL,
    PA_CAT_PHONE,
    PA_CAT_NATIONAL_ID,
    PA_CAT_PERSON_NAME,
    PA_CAT_IP_ADDRESS,
    PA_CAT_STREET_ADDRESS,
    PA_CAT_DATE_OF_BIRTH,
    PA_CAT_CREDIT_CARD,
    PA_CAT_IBAN,
    PA_CAT_GEOLOCATION,
    PA_CAT_DEVICE_ID,
    PA_CAT_MAC_ADDRESS,
    PA_CAT_POSTAL_CODE,
    PA_CAT_BUILTIN_COUNT
};

/* "email", "phone", ... for built-ins; NULL when out of range. */
const char *pa_category_name(int category);
/* Built-in category by name, or -1. */
int pa_category_from_name(const char *name);

enum pa_detector_kind { PA_DET_KEY, PA_DET_VALUE };

struct pa_detect_pattern {
    char *name;     /* rule name, e.g. "employee_id" */
    char *category; /* category name (built-in or custom) */
    char *regex;    /* Hyperscan/PCRE-compatible expression */
};

struct pa_detect_extra_key {
    char *category; /* built-in or custom category name */
    char *key;      /* a key name; normalized like keys in documents */
};

/* Options, as validated by config. All arrays are owned by the caller and must outlive the detector. */
struct pa_detect_options {
    char **disable; /* category names switched off */
    size_t n_disable;
    struct pa_detect_extra_key *extra_keys;
    size_t n_extra_keys;
    char **ignore_keys; /* normalized key names never reported (nor anything under them) */
    size_t n_ignore_keys;
    char **allow_paths; /* "schema.table.column:$.json.path"; "[*]" matches any array index */
    size_t n_allow_paths;
    struct pa_detect_pattern *patterns;
    size_t n_patterns;
    size_t max_findings_per_record; /* 0 = unlimited; past it the document result says truncated */
};

struct pa_detector;   /* compiled, immutable, shareable between threads */
struct pa_detect_ctx; /* per-thread scratch: Hyperscan scratch, walker, buffers */

/* Compile. Returns NULL and writes a message to err (naming the pattern, never input data) on failure. */
struct pa_detector *pa_detect_new(const struct pa_detect_options *opt, char *err, size_t errlen);
void pa_detect_free(struct pa_detector *d);

/* Check that one regex compiles for Hyperscan; 0 or -1 with a message (for config validation). */
int pa_detect_check_regex(const char *regex, char *err, size_t errlen);

struct pa_detect_ctx *pa_detect_ctx_new(const struct pa_detector *d);
void pa_detect_ctx_free(struct pa_detect_ctx *c);
/* An allow entry applied by a context on top of the detector's allow_paths, to the surface it reads now: the
 * allowlist kept in the findings database (pii-auditd allow add), which each scan loads anew, so it cannot be
 * compiled into the detector. Matched like allow_paths ("[*]" = any array index), and only in this category when
 * one is given. */
struct pa_detect_allow {
    const char *path;     /* "$.items[*].email" */
    const char *category; /* NULL: every category */
};
/* From now on, findings of the context's documents that an entry of v[0..n) matches are not reported (n 0: none),
 * until set again. The context keeps the pointer: v must outlive its use. */
void pa_detect_ctx_set_allow(struct pa_detect_ctx *c, const struct pa_detect_allow *v, size_t n);

/* Zero every buffer of the context that held bytes of past documents (the walker's decoded strings and names, paths)
 * and forget its memos of member names and clean string values: the scanner calls it before each batch and when a
 * surface ends, so scanned bytes live no longer than their batch. Results never depend on it. */
void pa_detect_ctx_wipe(struct pa_detect_ctx *c);

/* What a finding rests on (docs/detection.md, "Evidence and confidence"):
 *   PA_EV_KEY        the member's name (a dictionary key), with a value that carries data of that kind;
 *   PA_EV_VALUE      the value alone (a validated pattern: an e-mail address, a Luhn-valid card number...);
 *   PA_EV_KEY_VALUE  both: the key names the category and the value itself is of that kind (a valid IP address under
 *                    an "ip" key, a full name under an author key);
 *   PA_EV_CONTEXT    the place: the holder or a sibling (a "name" in a person's object, a typed value's label). */
enum pa_evidence { PA_EV_KEY, PA_EV_VALUE, PA_EV_KEY_VALUE, PA_EV_CONTEXT };
#define PA_DETECT_HAS_EVIDENCE 1 /* for tools built against several revisions (bench/detect_dump.c) */
/* "key", "value", "key+value", "context"; NULL when out of range. */
const char *pa_evidence_name(enum pa_evidence e);

struct pa_finding {
    const char *path; /* JSONPath, NUL-terminated; PII-looking keys redacted as <category> */
    size_t path_len;
    const char *category; /* category name */
    int category_id;
    enum pa_detector_kind detector;
    const char *rule; /* e.g. "key:email_address", "email", "credit_card_luhn", custom pattern name */
    enum pa_evidence evidence;
};

/* Called once per distinct (path, category) in a document. The pointers are valid only during the call. */
typedef void (*pa_finding_cb)(void *arg, const struct pa_finding *f);

enum pa_doc_kind {
    PA_DOC_JSON, /* json / jsonb column: a JSON text */
    PA_DOC_TEXT, /* text / varchar column: walked as JSON when it looks like an object or array and parses;
                    otherwise (or when invalid) scanned as one string value at path "$" */
};

struct pa_doc_result {
    size_t findings;   /* number of callbacks made */
    bool invalid_json; /* the document (or a text column that looked like JSON) did not parse */
    bool truncated;    /* max_findings_per_record reached: more findings existed */
};

/* Detect PII in one document. surface is "schema.table.column" (for allow_paths). Returns 0, or -1 on an internal
 * error (Hyperscan failure). Invalid JSON is not an error: it is reported in res and the document is still
 * scanned as text so PII cannot hide behind a syntax error. */
int pa_detect_doc(struct pa_detect_ctx *c, const char *surface, enum pa_doc_kind kind, const char *buf, size_t len,
                  pa_finding_cb cb, void *arg, struct pa_doc_result *res);

/* --- building blocks, exposed for tests, the guardrail SQL generator and docs --- */

/* Normalize a key into lower-case tokens joined by single spaces: "emailAddress", "email-address",
 * "E_Mail_Address" -> "email address" / "e mail address". Returns the length written (out is NUL-terminated,
 * truncated to cap-1). */
size_t pa_detect_normalize_key(const char *key, size_t len, char *out, size_t cap);

/* Category of a key by the dictionary (whole normalized key, or its trailing tokens), honouring disable /
 * extra_keys / ignore_keys. Returns the category id or -1. If rule is non-NULL it receives the dictionary
 * entry's rule name ("key:email_address"). */
int pa_detect_key_category(const struct pa_detector *d, const char *key, size_t len, const char **rule);

/* Value detectors over one string. Calls cb(arg, category_id, rule) once per (category, rule) that matched
 * (validated). Returns the number of distinct categories matched, or -1 on an internal error. */
typedef void (*pa_value_cb)(void *arg, int category_id, const char *rule);
int pa_detect_value(struct pa_detect_ctx *c, const char *s, size_t len, pa_value_cb cb, void *arg);

/* Category name of any id (built-in or custom) known to this detector. */
const char *pa_detect_category_name(const struct pa_detector *d, int category_id);

/* The default key dictionary: entries as word forms (tokens separated by '_': "email_address"; an alias of words run
 * together, "emailaddress", is an entry of its own) with their category, for the guardrail SQL generator and docs. */
struct pa_dict_entry {
    const char *words; /* word form, e.g. "email_address" */
    int category;
};
const struct pa_dict_entry *pa_detect_default_dictionary(size_t *n);

/* The effective key dictionary of a compiled detector (defaults and their aliases, then extra_keys overriding them), in
 * a fixed order, for the guardrail SQL generator: cb once per entry with its word form ("email_address": a key matches
 * it when its trailing tokens are these words), its category id, or -1 for a stop entry ("wallet_address": a longer
 * key that blocks a shorter trailing match) and for a disabled category (a match on it ends the lookup without a
 * finding, as in pa_detect_key_category), and whole_only for entries that match only a whole key ("pan", never
 * "camera_pan"). */
typedef void (*pa_dict_cb)(void *arg, const char *words, int category, bool whole_only);
void pa_detect_dictionary_each(const struct pa_detector *d, pa_dict_cb cb, void *arg);
/* The ignore_keys of a compiled detector, normalized and joined without separators ("supportemail": compared with a
 * whole key's tokens run together), in configuration order. */
void pa_detect_ignored_each(const struct pa_detector *d, void (*cb)(void *arg, const char *joined), void *arg);

#endif
