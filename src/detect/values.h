/* values: the value detectors. ONE table (PA_VALUE_DETECTORS below) names every built-in detector; values.c compiles
 * them with the users' patterns into one Hyperscan database, scans a string once for all of them and sends each match
 * to its row's check (the candidate's extent, then validators.c). A scan reports rules through pa_det_hit: to a
 * caller's callback (pa_detect_value) or as findings at the current path (documents).
 * Never prints; never lets a byte of the scanned string into a finding (paths come from the walker, PII-looking keys
 * redacted); the memo of clean values is wiped with the context.
 */
#ifndef PA_DETECT_VALUES_H
#define PA_DETECT_VALUES_H

#include "cclass.h"
#include "internal.h"
#include "natid.h"
#include "validators.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#pragma GCC visibility push(hidden)

/* The value detectors, one row each: NAME (its rule id is R_NAME), rule name, category, the check of a Hyperscan
 * match (a function in values.c), and the Hyperscan expression: a cheap anchor whose end the check starts from ("" for
 * a detector without one, applied by values.c itself). A row's index is its rule id and, when it has an expression,
 * its Hyperscan id, so the rows with an expression come first (values.c checks it at compile time). Adding a value
 * detector: a row here, its check in values.c, its validator (validators.c) with a unit test, docs/detection.md. */
/* clang-format off: one row per line, aligned by hand */
#define PA_VALUE_DETECTORS(X)                                                                                          \
    /* the '@' and the first two letters of the domain's second label */                                               \
    X(EMAIL, "email", PA_CAT_EMAIL, m_email, "[A-Za-z0-9._%+'\\-]@[A-Za-z0-9\\-]+\\.[A-Za-z]{2}")                      \
    X(PHONE_E164, "phone_e164", PA_CAT_PHONE, m_phone_e164, "\\+[1-9]")                                                \
    X(PHONE_NATIONAL, "phone_national", PA_CAT_PHONE, m_phone_national, "\\d(?:[\\-. ]|\\) ?)\\d{1,4}[\\-. ]\\d{2,4}") \
    X(SSN, "ssn", PA_CAT_NATIONAL_ID, m_ssn, "\\d{3}-\\d{2}-\\d{4}|\\d{3} \\d{2} \\d{4}")                              \
    X(CC, "credit_card_luhn", PA_CAT_CREDIT_CARD, m_card, "\\d(?:[ \\-]?\\d){12,18}")                                  \
    X(IBAN, "iban_mod97", PA_CAT_IBAN, m_iban, "[A-Z]{2}\\d{2}[ \\-]?[A-Z0-9]{4}")                                     \
    X(IPV4, "ipv4", PA_CAT_IP_ADDRESS, m_ipv4, "\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")                            \
    X(IPV6, "ipv6", PA_CAT_IP_ADDRESS, m_ipv6, ":[0-9A-Fa-f]{0,4}:")                                                   \
    X(MAC, "mac_address", PA_CAT_MAC_ADDRESS, m_mac,                                                                   \
      "[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}"                                      \
      "|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}")                                                             \
    /* national identifiers written in a shape of their own (docs/detection.md, "National identifiers"), behind     \
     * anchors that cost Hyperscan little (docs/perf-detect.md); the checks verify the rest of the shape */  \
    X(UK_NINO, "uk_nino", PA_CAT_NATIONAL_ID, m_uk_nino, "[A-Z]{2}\\d{6}[A-D]")                                        \
    X(ES_DNI, "es_dni", PA_CAT_NATIONAL_ID, m_es_dni, "\\d{8}-?[A-Z]")                                                 \
    X(ES_NIE, "es_nie", PA_CAT_NATIONAL_ID, m_es_nie, "\\d{7}-?[A-Z]")                                                 \
    X(IT_CF, "it_codice_fiscale", PA_CAT_NATIONAL_ID, m_it_cf, "[A-Z]{6}\\d{2}[A-Z][0-9A-Z]{2}[A-Z][0-9A-Z]{3}[A-Z]")  \
    X(IN_PAN, "in_pan", PA_CAT_NATIONAL_ID, m_in_pan, "[A-Z]{5}\\d{4}[A-Z]")                                           \
    /* rows without an expression. Riders: shapes that end where another row's anchor ends, checked at each of its \
     * matches (values.c, riders[]: ITIN on the SSN's, CPF, Aadhaar, NIR and the spaced NINO on the national        \
     * phone's): an expression of their own would slow every scan down. */   \
    X(US_ITIN, "us_itin", PA_CAT_NATIONAL_ID, NULL, "")                                                                \
    X(FR_NIR, "fr_nir", PA_CAT_NATIONAL_ID, NULL, "")                                                                  \
    X(BR_CPF, "br_cpf", PA_CAT_NATIONAL_ID, NULL, "")                                                                  \
    X(IN_AADHAAR, "in_aadhaar", PA_CAT_NATIONAL_ID, NULL, "")                                                          \
    /* an FCM registration token (or a legacy GCM registration id): the format names itself; values.c looks for    \
     * "APA91b" in the strings that reach Hyperscan (a literal in the database costs every scan) */   \
    X(FCM, "fcm_registration_token", PA_CAT_DEVICE_ID, NULL, "")                                                       \
    X(SSN_BARE, "ssn_bare_under_id_key", PA_CAT_NATIONAL_ID, NULL, "")                                                 \
    X(CA_SIN, "ca_sin", PA_CAT_NATIONAL_ID, NULL, "")                                                                  \
    X(DE_STEUER_ID, "de_steuer_id", PA_CAT_NATIONAL_ID, NULL, "")                                                      \
    X(NL_BSN, "nl_bsn", PA_CAT_NATIONAL_ID, NULL, "")                                                                  \
    X(AU_TFN, "au_tfn", PA_CAT_NATIONAL_ID, NULL, "")
/* clang-format on */

#define PA_VALUE_ID_(name_, rule_, cat_, check_, expr_) R_##name_,
#define PA_VALUE_HAS_EXPR_(name_, rule_, cat_, check_, expr_) +(sizeof(expr_) > 1)
/* Rule ids: the rows, then custom pattern i is R_BUILTIN_COUNT + i (its Hyperscan id: P_BUILTIN_COUNT + i). */
enum { PA_VALUE_DETECTORS(PA_VALUE_ID_) R_BUILTIN_COUNT };
enum { P_BUILTIN_COUNT = 0 PA_VALUE_DETECTORS(PA_VALUE_HAS_EXPR_) }; /* rows with a Hyperscan expression */

/* Where a scan's hits go */
enum vmode {
    VM_PUBLIC, /* to ucb (pa_detect_value) */
    VM_VALUE,  /* findings at the current event's path (a string or number value) */
    VM_KEY,    /* the same for a member name, which is redacted as <category> first */
    VM_FIXED,  /* findings at fixed_path (a text document) */
};

/* One string's scan */
struct vscan {
    struct pa_detect_ctx *c;
    const unsigned char *s;
    size_t len;
    unsigned kflags; /* the member name's KF_* (steer the validators) */
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
int pa_det_hit(struct vscan *v, int r);
/* The whole value under a national_id key (v->kflags: KF_NATIONAL and the identifier the key names, KF_NATID_*): nine
 * digits with the SSN rules (ssn_bare_under_id_key) under the SSN's keys, generic keys (national_id, tax_id...) and
 * keys of documents without a format (passport, driver's licence), as before the other identifiers came; then the
 * identifier's check on the value's canonical form (pa_det_natid_canon: separators and case do not matter), every
 * identifier's under a generic key. Non-zero to stop the scan. */
int pa_det_scan_natid_value(struct vscan *v);
/* The scan of a string of at least c->scan_min bytes (or under a KF_NATIONAL key): national ids under such a key,
 * the prefilter, the memo of clean values, Hyperscan. 0, or -1 on a Hyperscan error (c->error, c->halt set). Out of
 * line: on_event's common paths (a memoized name, a short clean value) then need few saved registers. */
int pa_det_scan_string(struct vscan *v);
/* pa_det_scan_string for a string that pa_det_prefilter let through (no KF_NATIONAL key: on_event checks) */
int pa_det_scan_string_passed(struct vscan *v);
/* A document that is not JSON (or not valid JSON) scanned as one string at path "$" */
int pa_det_scan_text(struct pa_detect_ctx *c, const char *buf, size_t len);
/* The rules (the rows, then opt's patterns) and the Hyperscan database of every enabled expression; -1 and a message
 * naming the pattern when Hyperscan rejects one. */
int pa_det_values_build(struct pa_detector *d, const struct pa_detect_options *opt, char *err, size_t errlen);

#pragma GCC visibility pop

/* A new string's scan: the per-string dedupe of rules and categories starts over. */
static inline void pa_det_scan_begin(struct pa_detect_ctx *c)
{
    if (++c->scan_gen == 0) {
        memset(c->rule_gen, 0, c->d->n_rules * sizeof *c->rule_gen);
        memset(c->cat_gen, 0, c->d->n_cats * sizeof *c->cat_gen);
        c->scan_gen = 1;
    }
}

/* The value under a national_id key is a national identifier: its hits (pa_det_scan_natid_value). Returns non-zero
 * to stop the scan. Inline: only values under such keys (and digit-only numbers) pay for the call. */
static inline int pa_det_scan_natid(struct vscan *v)
{
    if ((v->kflags & KF_NATIONAL) && !v->c->d->cat_disabled[PA_CAT_NATIONAL_ID])
        return pa_det_scan_natid_value(v);
    return 0;
}

#endif
