#!/usr/bin/env bash
# The write-time guardrail (issue 4 §3) against a real PostgreSQL: the shipped sql/guardrail.sql is the CLI output
# for etc/pii-auditd.yaml; the generated SQL applies twice; a PII key is rejected with SQLSTATE 23514 and the
# documented message (never the value; a key that looks like PII is redacted); PII only in a value, NULL and nested
# keys (top-level mode) are accepted; nested mode rejects nested keys and honours ignore_keys below a key; the
# reject counter survives the rollback, also for a role without privileges on it; the SQL matcher agrees with the
# daemon's pa_detect_key_category() on a corpus of key variants; the daemon, as the least-privilege role with the
# grants of --print-grants, exports pii_audit_guardrail_rejects_total{table} with the counters' values; reconfiguring
# drops a surface's trigger; the uninstall script removes everything and the series disappear.
source "$(dirname "$0")/../lib/itest.sh"
KEYS=${PA_GUARDRAIL_KEYS:-${PA_BUILD_ROOT:-$PA_SOURCE_ROOT/build}/tests/guardrail_keys}
t_db
t_load_demo
t_init_schema
t_psql -f "$PA_SOURCE_ROOT/sql/roles.sql" >/dev/null
t_psql -c "CREATE TABLE public.plain_notes (id bigint PRIMARY KEY, body text)" >/dev/null

# --- the shipped file is the generated one ---------------------------------------------------------------------
t_run --config "$PA_SOURCE_ROOT/etc/pii-auditd.yaml" --print-guardrail-sql
t_rc 0 "--print-guardrail-sql for etc/pii-auditd.yaml"
cmp -s "$T_DIR/out" "$PA_SOURCE_ROOT/sql/guardrail.sql" && ok "sql/guardrail.sql is exactly its output" \
    || not_ok "sql/guardrail.sql differs from --print-guardrail-sql (regenerate it)"

PORT=$(pa_free_port)
SURFACES="$T_DEMO_SURFACES
  - table: public.plain_notes
    column: body"
DETECT='detectors:
  ignore_keys: [support_email]'
CONF=$(t_config "$SURFACES" "$DETECT")
t_run --config "$CONF" --print-guardrail-sql
t_rc 0 "--print-guardrail-sql"
cp "$T_DIR/out" "$T_DIR/guardrail.sql"
t_nogrep "host=|dbname=" "$T_DIR/guardrail.sql" "the SQL does not carry the conninfo"

apply() { psql -X -q -v ON_ERROR_STOP=1 -d "$T_DB" -f "$1" >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?; }
apply "$T_DIR/guardrail.sql"
t_rc 0 "the guardrail applies"
t_grep "public.plain_notes.body is text, not json or jsonb: no trigger" "$T_DIR/err" "a text surface is skipped with a warning"
apply "$T_DIR/guardrail.sql"
t_rc 0 "applying it a second time works (idempotent)"
t_eq "$(t_val "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pii_guardrail_%' AND NOT tgisinternal")" "3" "one trigger per json/jsonb surface"
t_eq "$(t_val "SELECT count(*) FROM pii_guardrail.guarded")" "3" "registry holds the three guarded columns"

# --- rejects ---------------------------------------------------------------------------------------------------
# psql with the SQLSTATE in the message; stdout+stderr in $T_DIR/err
sql() { psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$T_DB" "$@" >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?; }
ins() { # table column json
    sql -c "\\set VERBOSITY verbose" -c "INSERT INTO $1 (id, $2$(cols "$1")) VALUES ($(idv "$1"), '$3'$(vals "$1"))"
}
cols() { case $1 in attribution_events) echo ", received_at, source";; dead_events) echo ", error_code";; revenue_ledger) echo ", amount_cents, currency";; esac; }
idv() { case $1 in attribution_events) echo "gen_random_uuid()";; *) echo "(SELECT coalesce(max(id), 0) + 1 FROM $1)";; esac; }
vals() { case $1 in attribution_events) echo ", now(), 'test'";; dead_events) echo ", 'E'";; revenue_ledger) echo ", 100, 'EUR'";; esac; }
counter() { t_val "SELECT rejects FROM pii_guardrail.reject_counts() WHERE table_name = 'public.$1'"; }

ins attribution_events raw_payload '{"campaign": "x", "customerEmail": "jane.roe@example.org"}'
t_rc 1 "a PII key is rejected"
t_grep "ERROR:  23514: PII key detected in public.attribution_events.raw_payload. Ingestion blocked by database policy \(Layer 2 guardrail\). Key found: customerEmail. Reference: pii-auditd docs/detection.md \(write-time guardrail\). Action: Remove PII key from payload before retry." \
    "$T_DIR/err" "SQLSTATE 23514 with the seed's message (table, column, key, action)"
t_grep "DETAIL:  Category email, key depth 1. The value is not shown." "$T_DIR/err" "detail names the category"
t_nogrep "jane.roe|example.org" "$T_DIR/err" "the value is never in the error"
t_eq "$(counter attribution_events)" "1" "the reject counter counts it"

ins attribution_events raw_payload '{"jane.roe@example.org email": true}'
t_rc 1 "a PII key that itself looks like an email address is rejected"
t_grep "Key found: <email>\." "$T_DIR/err" "and shown redacted as <email>"
t_nogrep "jane|roe@" "$T_DIR/err" "the PII-looking key is not echoed"
ins dead_events raw_payload '{"+1 415 555 0100 phone": 1}'
t_grep "Key found: <phone>\." "$T_DIR/err" "a phone-number key is shown as <phone>"

ins attribution_events raw_payload '{"notes": "call jane.roe@example.org or +1 415 555 0100"}'
t_rc 0 "PII only in a value is accepted (documented limit: the daemon finds it)"
ins attribution_events raw_payload '{"customer": {"email": "jane.roe@example.org"}}'
t_rc 0 "a nested PII key is accepted by default (guardrail.nested_keys: false)"
ins attribution_events raw_payload '{"support_email": "help@example.com", "ip_addresses": []}'
t_rc 1 "ip_addresses (plural, name variant) is rejected"
t_grep "Key found: ip_addresses" "$T_DIR/err" "the variant is named"
ins attribution_events raw_payload '{"support_email": "help@example.com", "walletAddress": "0xabc"}'
t_rc 0 "ignore_keys and stop entries (walletAddress) are accepted as by the daemon"
sql -c "INSERT INTO revenue_ledger (id, amount_cents, currency, metadata) VALUES (900001, 1, 'EUR', NULL)"
t_rc 0 "NULL metadata is accepted"
ins revenue_ledger metadata '["email", "phone"]'
t_rc 0 "a JSON array of strings is accepted (no keys)"
ins revenue_ledger metadata '{"billing_address": "x"}'
t_rc 1 "revenue_ledger.metadata is guarded too"
t_eq "$(counter revenue_ledger)" "1" "per-table counter"

# UPDATE: setting a PII key is rejected; updating another column of a row is not checked
sql -c "UPDATE revenue_ledger SET metadata = '{\"phone\": \"x\"}' WHERE id = 900001"
t_rc 1 "an UPDATE that writes a PII key is rejected"
sql -c "UPDATE revenue_ledger SET amount_cents = 2 WHERE id = 900001"
t_rc 0 "an UPDATE of another column passes"

# the counter survives the rollback of the rejected transaction
before=$(counter dead_events)
psql -X -q -d "$T_DB" >"$T_DIR/out" 2>"$T_DIR/err" <<'SQL'
BEGIN;
INSERT INTO dead_events (id, raw_payload) VALUES (800001, '{"ok": 1}');
SAVEPOINT s;
INSERT INTO dead_events (id, raw_payload) VALUES (800002, '{"ssn": "x"}');
ROLLBACK TO s;
INSERT INTO dead_events (id, raw_payload) VALUES (800003, '{"dob": "x"}');
ROLLBACK;
SQL
t_eq "$(grep -c 'ERROR:  PII key detected' "$T_DIR/err")" "2" "two rejects inside one transaction"
t_eq "$(t_val "SELECT count(*) FROM dead_events WHERE id >= 800001")" "0" "the transaction rolled back"
t_eq "$(counter dead_events)" "$((before + 2))" "both rejects counted although the transaction rolled back"

# a writer without any privilege on the guardrail objects
t_psql -c "DO \$\$ BEGIN CREATE ROLE app_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$" \
    -c "GRANT INSERT, SELECT ON attribution_events TO app_writer" >/dev/null
before=$(counter attribution_events)
psql -X -q -v ON_ERROR_STOP=1 -U app_writer -d "$T_DB" -c "INSERT INTO attribution_events (id, received_at, source, raw_payload) VALUES (gen_random_uuid(), now(), 'w', '{\"first_name\": \"x\"}')" >"$T_DIR/out" 2>"$T_DIR/err"
t_grep "Key found: first_name" "$T_DIR/err" "an application role gets the guardrail error"
t_eq "$(counter attribution_events)" "$((before + 1))" "and its reject is counted (SECURITY DEFINER counter)"
psql -X -q -v ON_ERROR_STOP=1 -U app_writer -d "$T_DB" -c "INSERT INTO attribution_events (id, received_at, source, raw_payload) VALUES (gen_random_uuid(), now(), 'w', '{\"utm_source\": \"x\"}')" >"$T_DIR/out" 2>"$T_DIR/err"
t_eq "$?" "0" "an application role writes clean rows"
psql -X -q -U app_writer -d "$T_DB" -c "SELECT nextval('pii_guardrail.rejects_public_attribution_events_712fa730')" >"$T_DIR/out" 2>"$T_DIR/err"
t_grep "permission denied" "$T_DIR/err" "writers cannot advance the counters directly"

# --- the SQL matcher agrees with the daemon's ----------------------------------------------------------------
"$KEYS" "$CONF" corpus >"$T_DIR/corpus.txt"
"$KEYS" "$CONF" classify <"$T_DIR/corpus.txt" | LC_ALL=C sort -u >"$T_DIR/c.tsv"
t_psql -c "CREATE TEMP TABLE k (key text)" -c "\\copy k FROM '$T_DIR/corpus.txt'" \
    -c "\\copy (SELECT DISTINCT key, coalesce(pii_guardrail.key_category(key), '') FROM k) TO '$T_DIR/sql.raw'" \
    -c "\\copy (SELECT DISTINCT key FROM k WHERE pii_guardrail.keys_candidate(key)) TO '$T_DIR/candidates.raw'" >/dev/null
LC_ALL=C sort -u "$T_DIR/sql.raw" >"$T_DIR/sql.tsv"
if diff "$T_DIR/c.tsv" "$T_DIR/sql.tsv" >"$T_DIR/agree.diff"; then
    ok "SQL and C classify all $(wc -l <"$T_DIR/c.tsv") corpus keys alike ($(grep -c $'\t.' "$T_DIR/c.tsv") PII keys)"
else
    not_ok "SQL and C disagree (< daemon, > guardrail):"; head -30 "$T_DIR/agree.diff"
fi
# the cheap first test may say yes too often, never too rarely
LC_ALL=C sort -u "$T_DIR/candidates.raw" >"$T_DIR/candidates.txt"
grep $'\t.' "$T_DIR/c.tsv" | cut -f1 | LC_ALL=C sort -u >"$T_DIR/c-pii.txt"
missed=$(LC_ALL=C comm -23 "$T_DIR/c-pii.txt" "$T_DIR/candidates.txt" | head -20)
t_eq "$missed" "" "the prefilter passes every key the daemon classifies ($(wc -l <"$T_DIR/candidates.txt") of $(wc -l <"$T_DIR/c.tsv") keys pass)"

# --- nested mode -------------------------------------------------------------------------------------------------
CONF_N=$(t_config "$SURFACES" "$DETECT
guardrail:
  nested_keys: true")
t_run --config "$CONF_N" --print-guardrail-sql
cp "$T_DIR/out" "$T_DIR/guardrail-nested.sql"
apply "$T_DIR/guardrail-nested.sql"
t_rc 0 "nested mode applies over top-level mode"
ins attribution_events raw_payload '{"customer": {"contact": {"Phone-Number": "x"}}}'
t_rc 1 "nested mode rejects a key at depth 3"
t_grep "Key found: Phone-Number\." "$T_DIR/err" "nested key named"
t_grep "key depth 3" "$T_DIR/err" "its depth given"
ins attribution_events raw_payload '[{"items": [{"sku": 1}, {"ip": "x"}]}]'
t_rc 1 "nested mode looks inside arrays"
ins attribution_events raw_payload '{"support_email": {"email": "help@example.com"}, "a": [1, {"b": null}]}'
t_rc 0 "nested mode does not look below an ignored key (as the daemon)"
ins attribution_events raw_payload '{"notes": {"text": "jane.roe@example.org"}}'
t_rc 0 "nested mode still accepts PII in values"
apply "$T_DIR/guardrail.sql"
ins attribution_events raw_payload '{"customer": {"email": "x"}}'
t_rc 0 "re-applying top-level mode accepts nested keys again"

# --- the daemon exports the counters ---------------------------------------------------------------------------
psql -X -q -d "$T_DB" -v ON_ERROR_STOP=1 -c "ALTER ROLE pii_auditd PASSWORD NULL" >/dev/null
T_USER=pii_auditd
CONF_D=$(T_USER=pii_auditd T_SCAN_EXTRA="  interval: 1h" t_config "$SURFACES" "$DETECT
metrics:
  listen: [\"127.0.0.1:$PORT\"]")
t_run --config "$CONF_D" --print-grants
t_grep "GRANT EXECUTE ON FUNCTION pii_guardrail.reject_counts\(\)" "$T_DIR/out" "--print-grants grants the counters"
t_psql -f "$T_DIR/out" >/dev/null 2>&1 && ok "the grants apply" || not_ok "the grants apply"
"$PA_BIN" --config "$CONF_D" --log-level info >"$T_DIR/daemon.out" 2>"$T_DIR/daemon.err" &
DPID=$!
trap 'kill $DPID 2>/dev/null; wait 2>/dev/null; t_cleanup' EXIT
scrape() { curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics.txt"; }
series() { grep -E "^pii_audit_guardrail_rejects_total\{table=\"$1\"\} " "$T_DIR/metrics.txt" | awk '{print $2}'; }
first_scan_done() {
    scrape && grep -q '^pii_audit_scans_total 1' "$T_DIR/metrics.txt" && grep -q '^pii_audit_scan_in_progress 0' "$T_DIR/metrics.txt"
}
wait_for 20 first_scan_done
t_eq "$(series public.attribution_events)" "$(counter attribution_events)" "daemon exports the attribution_events rejects"
t_eq "$(series public.revenue_ledger)" "$(counter revenue_ledger)" "daemon exports the revenue_ledger rejects"
t_eq "$(series public.dead_events)" "$(counter dead_events)" "daemon exports the dead_events rejects"
t_grep '^# TYPE pii_audit_guardrail_rejects_total counter' "$T_DIR/metrics.txt" "it is a counter"
promtool check metrics <"$T_DIR/metrics.txt" >"$T_DIR/promtool.txt" 2>&1 && ! [ -s "$T_DIR/promtool.txt" ] \
    && ok "promtool check metrics is clean" || not_ok "promtool check metrics: $(cat "$T_DIR/promtool.txt")"
t_nogrep "cannot read the guardrail counters" "$T_DIR/daemon.err" "no warning with the grants"
ins attribution_events raw_payload '{"passport_number": "x"}'
want=$(counter attribution_events)
kill -USR1 $DPID
exported() { scrape && [ "$(series "$1")" = "$2" ]; } # table value ("" = no series)
wait_for 20 exported public.attribution_events "$want"
t_eq "$(series public.attribution_events)" "$want" "a new reject shows after the next scan"

# reconfigure without dead_events: its trigger goes, the series follows
CONF_2=$(t_config 'surfaces:
  - table: public.attribution_events
    column: raw_payload
  - table: public.revenue_ledger
    column: metadata')
t_run --config "$CONF_2" --print-guardrail-sql
cp "$T_DIR/out" "$T_DIR/guardrail-2.sql"
apply "$T_DIR/guardrail-2.sql"
t_rc 0 "a configuration with one surface less applies"
t_eq "$(t_val "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'dead_events'::regclass AND tgname LIKE 'pii_guardrail_%'")" "0" "the dropped surface lost its trigger"
ins dead_events raw_payload '{"email": "x"}'
t_rc 0 "and accepts PII keys again"
kill -USR1 $DPID
wait_for 20 exported public.dead_events ""
t_eq "$(series public.dead_events)" "" "the dropped table's series is gone"
t_eq "$(series public.attribution_events)" "$want" "the others stay"

# uninstall
apply "$PA_SOURCE_ROOT/sql/guardrail_uninstall.sql"
t_rc 0 "the uninstall script applies"
t_eq "$(t_val "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pii_guardrail_%'")" "0" "no trigger left"
t_eq "$(t_val "SELECT count(*) FROM pg_namespace WHERE nspname = 'pii_guardrail'")" "0" "no schema left"
ins attribution_events raw_payload '{"email": "x"}'
t_rc 0 "PII keys are accepted after the uninstall"
apply "$PA_SOURCE_ROOT/sql/guardrail_uninstall.sql"
t_rc 0 "uninstalling twice works"
kill -USR1 $DPID
no_series() { scrape && ! grep -q '^pii_audit_guardrail_rejects_total{' "$T_DIR/metrics.txt"; }
wait_for 20 no_series
t_nogrep '^pii_audit_guardrail_rejects_total\{' "$T_DIR/metrics.txt" "no series once the guardrail is gone"
t_nogrep "cannot read the guardrail counters|ERROR|error" "$T_DIR/daemon.err" "and no error logged for it"
apply "$T_DIR/guardrail.sql"
t_rc 0 "the guardrail can be installed again after the uninstall"
kill $DPID; wait $DPID 2>/dev/null
t_done
