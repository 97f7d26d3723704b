#!/usr/bin/env bash
# The canary set shared by tests/integration/canary*.sh: unique PII values planted in every category (in values,
# in keys, in invalid JSON, in text columns). canary_load creates tables hooks (jsonb) and notes (text) in $T_DB.
CANARIES=(
  "canary.zq7x@example-canary.com"    # email
  "canary.key@example-canary.com"     # email used as a JSON key
  "646 555 0187"                      # phone
  "219-09-9999"                       # SSN
  "5105105105105100"                  # card (Mastercard test PAN)
  "5105 1051 0510 5100"
  "GB82WEST12345698765432"            # IBAN
  "203.0.113.77"                      # IPv4
  "2001:db8::8a2e:370:7334"           # IPv6
  "3c:22:fb:9a:01:7e"                 # MAC
  "Zebulon"                           # first name
  "Quixotewright"                     # last name
  "742 Evergreen Terrace"             # street address
  "1971-04-13"                        # date of birth
  "90210-4477"                        # postal code
  "CANARY-IDFA-6D92"                  # device id
  "48.85837"                          # latitude
  "EMP-918273"                        # custom pattern
  "123-45-6789"                       # SSN in a text column
)
canary_load() {
    t_psql <<'SQL'
CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb);
INSERT INTO hooks VALUES
 (1, '{"customer": {"email": "canary.zq7x@example-canary.com", "phone": "+1 646 555 0187",
       "first_name": "Zebulon", "lastName": "Quixotewright", "ssn": "219-09-9999", "dob": "1971-04-13",
       "address": {"street": "742 Evergreen Terrace", "zip": "90210-4477"}}}'),
 (2, '{"payment": {"card_number": "5105105105105100", "note": "card 5105 1051 0510 5100, iban GB82WEST12345698765432"}}'),
 (3, '{"net": {"client_ip": "203.0.113.77", "v6": "2001:db8::8a2e:370:7334", "hw": "3c:22:fb:9a:01:7e"},
       "device": {"idfa": "CANARY-IDFA-6D92"}, "geo": {"lat": 48.85837, "lng": 2.29448}}'),
 (4, '{"recipients": {"canary.key@example-canary.com": {"status": "sent"}}, "ref": "EMP-918273"}'),
 (5, '{"items": [{"sku": "A-1"}, {"contact": ["canary.zq7x@example-canary.com"]}]}');
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
INSERT INTO notes VALUES (1, '{"broken": "canary.zq7x@example-canary.com", '), (2, 'ssn 123-45-6789 on file'),
  (3, '{"x": "\u0063anary.zq7x@example-canary.com"}');
SQL
}
CANARY_DETECTORS='detectors:
  patterns:
    - {name: employee_id, category: employee_id, regex: "EMP-[0-9]{6}"}'

check_clean() { # label file...
    local label=$1; shift
    local hit=0
    for c in "${CANARIES[@]}"; do
        if grep -qF -- "$c" "$@" 2>/dev/null; then
            not_ok "$label: canary '$c' leaked into $(grep -lF -- "$c" "$@" | xargs -n1 basename | tr '\n' ' ')"
            hit=1
        fi
    done
    [ $hit = 0 ] && ok "$label: no canary in $(for f in "$@"; do basename "$f"; done | tr '\n' ' ')"
}
