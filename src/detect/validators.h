/* validators: one function per check behind the value detectors (values.c calls them from its table; each has its own
 * unit test in tests/unit/test_validators.c). s/len is the whole string; `to` is where Hyperscan's anchor ended,
 * [a, b) a candidate token around it. Pure functions of the bytes: they never keep, print or return a byte of s.
 */
#ifndef PA_DETECT_VALIDATORS_H
#define PA_DETECT_VALIDATORS_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* The address around the '@' before `to`: local part, domain labels, a real TLD (not a file extension), not masked,
 * not a URL's user:pass@host, not an scp remote (git@host:repo). */
bool pa_det_check_email(const unsigned char *s, size_t len, size_t to);
/* E.164 from the '+' at to - 2: 8..15 digits, separators space . - and one pair of parentheses; not a signed decimal,
 * not a date. */
bool pa_det_check_phone_e164(const unsigned char *s, size_t len, size_t to);
/* A national number with separators ending at `to` (3 groups 2-4/3-4/4, 1/3/3/4, 3/3/2/2, trunk-prefixed 4-5 groups),
 * not glued to other digits or letters, not an IPv4 address. */
bool pa_det_check_phone_national(const unsigned char *s, size_t len, size_t to);
/* Issuer prefix and length (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Dankort) of the n
 * ASCII digits d (n >= 4). */
bool pa_det_card_issuer_ok(const unsigned char *d, size_t n);
/* The Luhn checksum of the n ASCII digits d. */
bool pa_det_luhn_ok(const unsigned char *d, size_t n);
/* A card number (13..19 digits, issuer and Luhn) among the digit groups of [a, b) (single ' ' or '-' between groups),
 * alone in s. */
bool pa_det_check_card_sequence(const unsigned char *s, size_t len, size_t a, size_t b);
/* An IBAN whose country code and check digits end 8 (or 9, with a separator) bytes before `to`: the country's length,
 * groups of 4, mod-97 == 1. */
bool pa_det_check_iban(const unsigned char *s, size_t len, size_t to);
/* The [0-9.] token [a, b) is four octets 0-255 without leading zeros, alone, not a version ("version 1.2.3.4"). */
bool pa_det_check_ipv4_token(const unsigned char *s, size_t len, size_t a, size_t b);
/* The [0-9A-Fa-f:.] token [a, b) is an IPv6 address (inet_pton; a zone id may follow) with at least one digit. */
bool pa_det_check_ipv6_token(const unsigned char *s, size_t len, size_t a, size_t b);
/* A MAC address ending at `to`: hh:hh:hh:hh:hh:hh, hh-...-hh or hhhh.hhhh.hhhh, alone, not all 0 or all f. */
bool pa_det_check_mac(const unsigned char *s, size_t len, size_t to);
/* A value under a dictionary key carries data: not blank, not a placeholder ("n/a", "redacted"...), not already
 * protected (a hex digest, a Fernet token, a bcrypt/argon2 hash, a value with at least half of its identifying
 * characters masked). */
bool pa_det_string_carries_data(const unsigned char *s, size_t n);

/* ---- device identifiers (docs/detection.md, "Device identifiers") ------------------------------------------- */

enum pa_devid {
    PA_DEVID_ANY,  /* any of the formats below */
    PA_DEVID_IDFA, /* Apple advertising id: a UUID, not all zero (the zeroed IDFA means "limit ad tracking") */
    PA_DEVID_IDFV, /* Apple vendor id: a UUID, not all zero */
    PA_DEVID_GAID, /* Google advertising id: a UUID, not all zero (opted out) */
    PA_DEVID_APNS, /* APNs device token: 64..200 hex digits (even), optionally <grouped by 8> */
    PA_DEVID_FCM,  /* FCM registration token: instance-id:APA91b..., or a legacy GCM id APA91b... */
    PA_DEVID_COUNT
};
/* A whole value (blanks around it dropped) is a device identifier of `kind`. Device ids have no checksum: only under
 * device context (a device-id key, a device holder) is a UUID or a hex token one; the context engine decides. */
bool pa_det_check_device_id(const unsigned char *s, size_t n, enum pa_devid kind);
/* An FCM registration token (or legacy GCM id) whose "APA91b" ends at `to`: self-identifying, a value row (values.c
 * looks for "APA91b" itself). */
bool pa_det_check_fcm_token(const unsigned char *s, size_t len, size_t to);

#pragma GCC visibility pop

#endif
