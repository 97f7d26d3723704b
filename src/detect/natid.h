/* natid: the checks of the national identifiers (docs/detection.md, "National identifiers"), in natid.c; values.c
 * calls the value rows from its table, the context engine the whole-value check. s/len is the whole string, `to` where
 * Hyperscan's anchor ended. Pure functions of the bytes: they never keep, print or return a byte of s.
 */
#ifndef PA_DETECT_NATID_H
#define PA_DETECT_NATID_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* US SSN ddd-dd-dddd or ddd dd dddd ending at `to`: area not 000/666/9xx, group not 00, serial not 0000, alone. */
bool pa_det_check_ssn(const unsigned char *s, size_t len, size_t to);
/* The whole value is nine digits (blanks around allowed) passing the SSN number rules: offered under an ID key only. */
bool pa_det_check_ssn_bare(const unsigned char *s, size_t len);

/* ---- national identifiers (docs/detection.md, "National identifiers") ---------------------------------------- */

/* Which identifier a national_id key (or a typed value's type) names. PA_NATID_ANY: a generic key (national_id,
 * tax_id, tin...), where every check may fire; PA_NATID_OTHER: an identifier without a universal format (passport,
 * driver's licence, CURP...), found by context only. Five bits (dict.h: KF_NATID_*). */
enum pa_natid {
    PA_NATID_ANY,
    PA_NATID_OTHER,
    PA_NATID_US_SSN,
    PA_NATID_US_ITIN,
    PA_NATID_UK_NINO,
    PA_NATID_CA_SIN,
    PA_NATID_FR_NIR,
    PA_NATID_DE_STEUER_ID,
    PA_NATID_ES_DNI,
    PA_NATID_ES_NIE,
    PA_NATID_ES_NIF, /* Spain's tax number of a person: a DNI or a NIE */
    PA_NATID_IT_CF,
    PA_NATID_NL_BSN,
    PA_NATID_BR_CPF,
    PA_NATID_IN_AADHAAR,
    PA_NATID_IN_PAN,
    PA_NATID_AU_TFN,
    PA_NATID_COUNT
};

/* The checks of one identifier on its canonical form: upper-case letters and digits only, of the length given. */
/* US ITIN (IRS): 9 digits, the first 9, digits 4-5 in 50-65, 70-88, 90-92 or 94-99. */
bool pa_det_us_itin_ok(const unsigned char *d);
/* UK NINO (HMRC NIM39110): AA999999A, first letter not D F I Q U V, second not D F I O Q U V, not the prefixes BG GB
 * KN NK NT TN ZZ, suffix A-D. */
bool pa_det_uk_nino_ok(const unsigned char *c);
/* Canada SIN (ESDC): 9 digits, first digit 1-7 or 9, Luhn. */
bool pa_det_ca_sin_ok(const unsigned char *d);
/* France NIR (INSEE): 15 characters, sex 1 2 3 4 7 8, month 01-12 20-42 50-99, department 01-99, 2A or 2B, key =
 * 97 - (first 13 as a number, 2A read 19 and 2B 18) mod 97. */
bool pa_det_fr_nir_ok(const unsigned char *c);
/* Germany Steuer-ID (BZSt, § 139b AO): 11 digits, first not 0; in the first ten one digit twice or three times (not
 * three in a row), the others at most once; ISO 7064 MOD 11,10 check digit. */
bool pa_det_de_steuer_id_ok(const unsigned char *d);
/* Spain DNI: 8 digits and the letter TRWAGMYFPDXBNJZSQVHLCKE[number mod 23]. */
bool pa_det_es_dni_ok(const unsigned char *c);
/* Spain NIE: X Y or Z (read 0 1 2), 7 digits, the DNI letter of that 8-digit number. */
bool pa_det_es_nie_ok(const unsigned char *c);
/* Italy codice fiscale (DM 23/12/1976): 16 characters, 6 letters, year, month letter ABCDEHLMPRST, day 1-31 or 41-71,
 * a letter and 3 digits for the place, a check letter; digits may be replaced by LMNPQRSTUV (omocodia). */
bool pa_det_it_cf_ok(const unsigned char *c);
/* Netherlands BSN: 9 digits, not all 0, 11-proof (9..2 times the first eight minus the last is 0 mod 11). */
bool pa_det_nl_bsn_ok(const unsigned char *d);
/* Brazil CPF (Receita Federal): 11 digits, not all the same, two mod-11 check digits. */
bool pa_det_br_cpf_ok(const unsigned char *d);
/* India Aadhaar (UIDAI): 12 digits, the first 2-9, Verhoeff check digit. */
bool pa_det_in_aadhaar_ok(const unsigned char *d);
/* India PAN (Income Tax Department): AAAAA9999A, the fourth letter a holder type (P C H F A T B L J G). */
bool pa_det_in_pan_ok(const unsigned char *c);
/* Australia TFN (ATO): 9 digits (weights 1 4 3 7 5 8 6 9 10) or 8 (10 7 8 4 6 3 5 1), weighted sum 0 mod 11. */
bool pa_det_au_tfn_ok(const unsigned char *d, size_t n);

/* The canonical form of a whole value: blanks around it dropped, one separator (space - . /) between two letters or
 * digits dropped, letters upper-cased, into out[PA_NATID_CANON_MAX]; its length, or 0 when the value holds anything
 * else or is longer. */
#define PA_NATID_CANON_MAX 20
size_t pa_det_natid_canon(const unsigned char *s, size_t n, unsigned char *out);
/* A canonical form (pa_det_natid_canon) is an identifier of `kind` (not PA_NATID_ANY/OTHER/US_SSN: values.c runs the
 * legacy bare-SSN rule itself). 8-digit DNI/BSN lacking their leading zero are accepted. */
bool pa_det_natid_canon_ok(enum pa_natid kind, const unsigned char *c, size_t n);
/* A whole value is an identifier of `kind` (PA_NATID_ANY: of any kind; PA_NATID_OTHER: never): for typed values
 * ({"type": "SSN", "value": V}) and values under a key that names the identifier. */
bool pa_det_check_natid_value(enum pa_natid kind, const unsigned char *s, size_t n);

/* The value rows, at the end `to` of their Hyperscan anchor (the riders: of their host's anchor, values.c); each
 * candidate alone (not glued to letters or digits, nor joined to them by - _ . / \\, not one group of a longer
 * sequence), upper-case, in one of its written forms; each checks its whole shape. */
/* US ITIN 9dd-dd-dddd or 9dd dd dddd (on the SSN's anchor) */
bool pa_det_check_us_itin(const unsigned char *s, size_t len, size_t to);
/* UK NINO AA999999A */
bool pa_det_check_uk_nino(const unsigned char *s, size_t len, size_t to);
/* UK NINO AA 99 99 99 A, `to` after its last pair of digits (on the national phone's anchor) */
bool pa_det_check_uk_nino_spaced(const unsigned char *s, size_t len, size_t to);
/* France NIR written 1 84 12 76 451 089 46 (on the national phone's anchor) */
bool pa_det_check_fr_nir(const unsigned char *s, size_t len, size_t to);
/* Spain DNI 12345678Z or 12345678-Z */
bool pa_det_check_es_dni(const unsigned char *s, size_t len, size_t to);
/* Spain NIE X1234567L, with a '-' after the first letter and/or before the last */
bool pa_det_check_es_nie(const unsigned char *s, size_t len, size_t to);
/* Italy codice fiscale (the year's two digits not replaced: the prefilter's anchor needs them) */
bool pa_det_check_it_cf(const unsigned char *s, size_t len, size_t to);
/* Brazil CPF 123.456.789-09 (on the national phone's anchor) */
bool pa_det_check_br_cpf(const unsigned char *s, size_t len, size_t to);
/* India Aadhaar 2345 6789 0123 or 2345-6789-0123 (on the national phone's anchor) */
bool pa_det_check_in_aadhaar(const unsigned char *s, size_t len, size_t to);
/* India PAN ABCPD1234Z */
bool pa_det_check_in_pan(const unsigned char *s, size_t len, size_t to);

#pragma GCC visibility pop

#endif
