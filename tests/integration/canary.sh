#!/usr/bin/env bash
# Canaries: unique PII values planted in every category (in values, in keys, in invalid JSON, in text columns),
# scanned at the most verbose log level with text and JSON output, in normal and dry-run mode. Not one canary may
# appear in stdout, stderr, the findings, scan_runs, scan_run_surfaces or scan_cursors tables.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
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
CONF=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' 'detectors:
  patterns:
    - {name: employee_id, category: employee_id, regex: "EMP-[0-9]{6}"}')

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

for mode in "--output text" "--output json" "--dry-run --output text" "--dry-run --output json" "--full --output json"; do
    # shellcheck disable=SC2086
    t_run --config "$CONF" --scan-once --log-level debug $mode
    t_rc 1 "scan ($mode) finds PII"
    check_clean "scan $mode" "$T_DIR/out" "$T_DIR/err"
done
t_grep "finding: record" "$T_DIR/all-err" "debug logging really was on (findings are logged by location)"
[ "$(t_val "SELECT count(*) FROM pii_audit.findings")" -ge 20 ] && ok "findings recorded" || not_ok "findings recorded: $(t_val "SELECT count(*) FROM pii_audit.findings")"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE json_path = '\$.recipients.<email>'")" "1" "a PII key is redacted as <email> in the path"
for tbl in findings scan_runs scan_run_surfaces scan_cursors; do
    t_psql -c "COPY pii_audit.$tbl TO STDOUT" >"$T_DIR/table-$tbl.txt"
done
t_psql -c "COPY (SELECT * FROM pii_audit.pii_audit_findings) TO STDOUT" >"$T_DIR/table-view.txt"
check_clean "findings store" "$T_DIR"/table-*.txt

# error paths at debug level: a real statement timeout (the table is locked longer than statement_timeout; the
# lock wait would be allowed) and a surface that does not exist
psql -X -q -d "$T_DB" -c "BEGIN; LOCK TABLE hooks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;" >/dev/null 2>&1 &
locker=$!
sleep 0.5
CONF2=$(T_STMT_TIMEOUT=1s T_SCAN_EXTRA="  lock_timeout: 5m" t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}
  - {table: nope, column: body}')
t_run --config "$CONF2" --scan-once --full --log-level debug --output json
t_rc 3 "error-path scan exits 3"
t_eq "$(jq -r '.surfaces[0].error.reason' "$T_DIR/out")" "timeout" "the error path really was a statement timeout"
check_clean "timeout error path" "$T_DIR/out" "$T_DIR/err"
kill $locker 2>/dev/null; wait $locker 2>/dev/null
check_clean "all runs together" "$T_DIR/all-out" "$T_DIR/all-err"
t_done
