#!/usr/bin/env bash
# The demo data end to end: --init-db, --scan-once finds exactly the planted findings of tests/data/demo-expected.tsv
# (independent ground truth: no misses, no false positives), text and JSON summaries, the seed-compatible view,
# scan records; a second scan adds nothing.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_load_demo
CONF=$(t_config "$T_DEMO_SURFACES")
t_run --config "$CONF" --init-db
t_rc 0 "--init-db"

t_run --config "$CONF" --scan-once
t_rc 1 "scan finds the planted PII (exit 1)"
t_grep "public.attribution_events.raw_payload" "$T_DIR/out" "text summary names each surface"
t_grep "RESULT: open findings exist" "$T_DIR/out" "text summary gives the result"

t_psql -A -t -F $'\t' -c "SELECT table_name, record_id, json_path, category FROM pii_audit.findings
                           WHERE resolved_at IS NULL ORDER BY 1, 2, 3, 4" | LC_ALL=C sort >"$T_DIR/got.tsv"
grep -v '^#' "$PA_SOURCE_ROOT/tests/data/demo-expected.tsv" | sed '/^$/d' | LC_ALL=C sort >"$T_DIR/want.tsv"
if diff -u "$T_DIR/want.tsv" "$T_DIR/got.tsv" >"$T_DIR/diff.txt"; then
    ok "findings equal the ground truth ($(wc -l <"$T_DIR/want.tsv") findings)"
else
    not_ok "findings differ from the ground truth (- missed, + false positive):"
    grep '^[-+][^-+]' "$T_DIR/diff.txt" | head -60
fi

t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "second (full) scan"
jq -e '.schema_version == 1 and .status == "ok" and .exit_code == 1 and (.surfaces | length) == 3' "$T_DIR/out" >/dev/null \
    && ok "JSON summary has the documented shape" || not_ok "JSON summary shape"
t_eq "$(jq -r '.totals.new_findings' "$T_DIR/out")" "0" "a re-scan adds no new findings"
t_eq "$(jq -r '.totals.open_findings' "$T_DIR/out")" "$(wc -l <"$T_DIR/want.tsv" | tr -d ' ')" "open findings = ground truth"
t_eq "$(t_val 'SELECT count(*) FROM pii_audit.findings')" "$(wc -l <"$T_DIR/want.tsv" | tr -d ' ')" "no duplicate rows"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE last_scan_id = 2 AND first_scan_id = 1")" "$(wc -l <"$T_DIR/want.tsv" | tr -d ' ')" "re-scan updated last_scan_id, kept first_scan_id"
t_eq "$(t_val "SELECT string_agg(status, ',' ORDER BY id) FROM pii_audit.scan_runs")" "ok,ok" "scan runs recorded ok"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.scan_run_surfaces WHERE status = 'ok'")" "6" "surface outcomes recorded"
t_eq "$(t_val "SELECT rows_scanned FROM pii_audit.scan_runs WHERE id = 1")" "$(t_val 'SELECT (SELECT count(*) FROM attribution_events) + (SELECT count(*) FROM dead_events) + (SELECT count(*) FROM revenue_ledger)')" "every row counted"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.pii_audit_findings WHERE sample_snippet IS NULL")" "$(wc -l <"$T_DIR/want.tsv" | tr -d ' ')" "seed view: every finding, no snippet"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.scan_cursors WHERE last_full_scan_at IS NOT NULL")" "3" "cursors record the full scans"
t_done
