#!/usr/bin/env bash
# Incremental scans read the rows inserted or changed since the last scan (change detection, issue 14) and resolve
# the findings of a record read again without them (gone) or deleted (deleted); a full scan (--full, or when
# full_scan_interval has passed) re-reads everything and resolves what no scan saw since it began (full_scan: here a
# finding the configuration no longer reports); re-scans never duplicate; --dry-run writes nothing.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
t_psql -c "CREATE TABLE ledger (id bigint PRIMARY KEY, metadata jsonb);
  INSERT INTO ledger SELECT g, jsonb_build_object('amount', g * 100, 'currency', 'EUR') FROM generate_series(1, 1000) g;
  UPDATE ledger SET metadata = '{\"billing_email\": \"pay.me@example.com\"}' WHERE id IN (10, 20);
  UPDATE ledger SET metadata = NULL WHERE id = 30;
  UPDATE ledger SET metadata = 'null' WHERE id = 31;"
CONF=$(t_config 'surfaces:
  - table: ledger
    column: metadata')

t_run --config "$CONF" --scan-once --dry-run --output json
t_rc 1 "dry run finds the two records"
t_eq "$(jq -r '.scan_id' "$T_DIR/out")" "null" "dry run has no scan id"
t_eq "$(t_val 'SELECT count(*) FROM pii_audit.findings') $(t_val 'SELECT count(*) FROM pii_audit.scan_runs') $(t_val 'SELECT count(*) FROM pii_audit.scan_cursors')" "0 0 0" "dry run wrote nothing"

t_run --config "$CONF" --scan-once --output json
t_rc 1 "first scan: findings"
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.totals.new_findings|tostring)' "$T_DIR/out")" "full 1000 2" "first scan is full, 2 new findings"
t_run --config "$CONF" --scan-once --output json
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.totals.new_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "incremental 0 0 2" "second scan is incremental, reads nothing new"
t_rc 1 "open findings keep exit 1"

t_psql -c "INSERT INTO ledger VALUES (1001, '{\"customer\": {\"phone_number\": \"+44 20 7123 4567\"}}'), (1002, '{\"ok\": true}');
           UPDATE ledger SET metadata = '{\"amount\": 1}' WHERE id = 10;
           DELETE FROM ledger WHERE id = 20;"
t_run --config "$CONF" --scan-once --output json
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.surfaces[0].rows_reread|tostring) + " " + (.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "incremental 3 1 1 2 1" "incremental scan reads the 2 new rows and the updated one, resolves the changed and the deleted record"
t_eq "$(t_val "SELECT string_agg(record_id || ':' || resolved_reason, ',' ORDER BY record_id) FROM pii_audit.findings WHERE resolved_at IS NOT NULL")" "10:gone,20:deleted" "resolved records and why"

t_run --config "$CONF" --scan-once --full --output json
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "full 1001 0 1" "a full scan finds nothing the incremental one missed"

# a finding the configuration no longer reports: its record did not change, so only a full scan resolves it
t_psql -c "INSERT INTO ledger VALUES (1003, '{\"support_email\": \"help@example.com\"}')"
t_run --config "$CONF" --scan-once --output json
t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "1 2" "the new record's finding"
CONF_IGN=$(cp "$CONF" "$T_DIR/ign.yaml"; printf 'detectors:\n  ignore_keys: [support_email]\n' >>"$T_DIR/ign.yaml"; echo "$T_DIR/ign.yaml")
t_run --config "$CONF_IGN" --scan-once --output json
t_eq "$(jq -r '(.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "0 2" "an incremental scan does not re-read the unchanged record"
t_run --config "$CONF_IGN" --scan-once --full --output json
t_eq "$(jq -r '(.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "1 1" "the full scan resolves it"
t_eq "$(t_val "SELECT resolved_reason FROM pii_audit.findings WHERE record_id = '1003'")" "full_scan" "reason full_scan"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.pii_audit_findings")" "1" "seed view shows open findings only"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.pii_audit_findings WHERE sample_snippet IS NOT NULL")" "0" "seed view never has a snippet"

# a record that gets PII back is re-opened, not duplicated
t_psql -c "UPDATE ledger SET metadata = '{\"billing_email\": \"pay.me@example.com\"}' WHERE id = 10"
t_run --config "$CONF" --scan-once --full --output json
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE record_id = '10'")" "1" "re-found finding re-uses its row"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE record_id = '10' AND resolved_at IS NULL")" "1" "and is open again"

# full_scan_interval (default 7d): once it has passed, the next scan is full
t_run --config "$CONF" --scan-once --output json
t_eq "$(jq -r '.surfaces[0].mode' "$T_DIR/out")" "incremental" "within full_scan_interval the scan is incremental"
t_psql -c "UPDATE pii_audit.scan_cursors SET last_full_scan_at = now() - interval '7 days 1 minute'"
t_run --config "$CONF" --scan-once --output json
t_eq "$(jq -r '.surfaces[0].mode' "$T_DIR/out")" "full" "full_scan_interval elapsed: the scan is full"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.scan_runs WHERE status <> 'ok'")" "0" "all scan runs ok"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings") $(t_val "SELECT count(*) FROM (SELECT DISTINCT table_name, column_name, record_id, json_path, category FROM pii_audit.findings) d")" "4 4" "no duplicate findings after 11 scans (records 10, 20, 1001, 1003)"
t_done
