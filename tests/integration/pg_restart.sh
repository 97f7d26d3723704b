#!/usr/bin/env bash
# Nothing lost, nothing duplicated: the PostgreSQL server is killed (immediate shutdown) in the middle of a full
# scan and again in the middle of an incremental scan; after a restart the next scans finish the work and every
# expected finding is present exactly once. The interrupted run is recorded as such.
source "$(dirname "$0")/../lib/itest.sh"
[ -n "${PA_PGDIR:-}" ] || { echo "PA_PGDIR not set" >&2; exit 1; }
t_db
t_init_schema
# 60k rows; every 100th row carries an email and a phone number in a nested value -> 2 findings per such row
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT g, CASE WHEN g % 100 = 0
      THEN jsonb_build_object('order', g, 'contact', jsonb_build_object('email', 'user' || g || '@example.com',
                              'note', 'call +1 415 555 ' || lpad((g % 10000)::text, 4, '0')))
      ELSE jsonb_build_object('order', g, 'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || g, 'qty', 1)))
    END FROM generate_series(1, 60000) g;"
CONF=$(T_BATCH=500 T_SCAN_EXTRA="  max_rows_per_second: 6000" t_config 'surfaces:
  - table: events
    column: payload')

has_findings() { [ "$(t_val "SELECT count(*) FROM pii_audit.findings" 2>/dev/null || echo 0)" -ge "$1" ]; }
kill_mid_scan() { # expected-min-findings-before-kill
    t_run_bg --config "$CONF" --scan-once --output json
    wait_for 20 has_findings "$1"
    pa_pg_stop "$PA_PGDIR" immediate
    t_run_wait
    pa_pg_restart "$PA_PGDIR"
    wait_for 10 pg_isready -q
}

kill_mid_scan 200
t_rc 3 "scan whose server died exits 3"
t_grep '"reason":"connection_lost"' "$T_DIR/out" "failure reason is connection_lost"
before=$(t_val "SELECT count(*) FROM pii_audit.findings")
[ "$before" -gt 0 ] && [ "$before" -lt 1200 ] && ok "some findings were committed before the kill ($before)" || not_ok "findings before kill: $before"

t_run --config "$CONF" --scan-once --output json
t_rc 1 "scan after the restart completes"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings")" "1200" "every finding present"
t_eq "$(t_val "SELECT count(*) FROM (SELECT DISTINCT record_id, json_path, category FROM pii_audit.findings) d")" "1200" "no duplicates"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NOT NULL")" "0" "nothing wrongly resolved"
t_eq "$(t_val "SELECT status FROM pii_audit.scan_runs ORDER BY id LIMIT 1")" "interrupted" "the killed run is recorded as interrupted"
t_eq "$(t_val "SELECT last_id FROM pii_audit.scan_cursors")" "60000" "cursor at the last row"

# incremental: 30k more rows, kill in the middle, restart, finish
t_psql -c "INSERT INTO events SELECT g, CASE WHEN g % 100 = 0
      THEN jsonb_build_object('contact', jsonb_build_object('email', 'user' || g || '@example.com'))
      ELSE jsonb_build_object('order', g) END FROM generate_series(60001, 90000) g;"
kill_mid_scan 1250
t_rc 3 "incremental scan whose server died exits 3"
mid=$(t_val "SELECT count(*) FROM pii_audit.findings")
cursor=$(t_val "SELECT last_id FROM pii_audit.scan_cursors")
committed_max=$(t_val "SELECT coalesce(max(record_id::bigint), 0) FROM pii_audit.findings")
[ "$cursor" -ge $((committed_max - 100)) ] && ok "cursor ($cursor) covers the committed findings (max record $committed_max)" || not_ok "cursor $cursor behind committed $committed_max"
t_run --config "$CONF" --scan-once --output json
t_rc 1 "incremental scan after the restart completes"
t_eq "$(jq -r '.surfaces[0].mode' "$T_DIR/out")" "incremental" "it resumed incrementally"
[ "$(jq -r '.totals.rows' "$T_DIR/out")" -lt 30000 ] && ok "it resumed from the cursor, not from the start" || not_ok "resume re-read $(jq -r '.totals.rows' "$T_DIR/out") rows"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings")" "1500" "every finding present after the second crash ($mid before)"
t_eq "$(t_val "SELECT count(*) FROM (SELECT DISTINCT record_id, json_path, category FROM pii_audit.findings) d")" "1500" "no duplicates"
t_done
