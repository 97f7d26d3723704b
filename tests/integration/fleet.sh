#!/usr/bin/env bash
# Many databases, one findings store (issue 14 §4): two databases with the same table public.events (and the same
# record ids) write to one findings database. Each one's findings, cursors and runs stay its own through full and
# incremental scans; a --full of one never resolves the other's; their scans do not lock each other out; the
# daemon's gauges are its own database's. And the upgrade: a store written before schema version 2 (rows without a
# database) is adopted by the first database scanned after the upgrade.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"

STORE_DB=$T_DB
A=${T_DB}_a
B=${T_DB}_b
t_db "$STORE_DB"
t_db "$A"
t_db "$B"
in_db() { T_PSQL_DB=$1 t_psql -c "$2" >/dev/null; }
# the same table in both; an email in A at ids 10 and 20, in B at ids 10 and 500
for db in "$A" "$B"; do
    in_db "$db" "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
      INSERT INTO events SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 1000) g;"
done
in_db "$A" "UPDATE events SET payload = '{\"contact\": \"a.ten@example.com\"}' WHERE id IN (10, 20)"
in_db "$B" "UPDATE events SET payload = '{\"contact\": \"b.ten@example.com\"}' WHERE id IN (10, 500)"

conf() { # scanned-db [extra scan keys]
    cat >"$T_DIR/$1.yaml" <<YAML
database:
  conninfo: "host=$PA_PGHOST port=$PA_PGPORT dbname=$1 user=postgres"
findings:
  conninfo: "host=$PA_PGHOST port=$PA_PGPORT dbname=$STORE_DB user=postgres"
scan:
  batch_size: 100
  interval: 1h
  initial_delay: 1h
${2:-}
metrics:
  listen: "127.0.0.1:$D_PORT"
surfaces:
  - {table: events, column: payload}
YAML
    echo "$T_DIR/$1.yaml"
}
CA=$(conf "$A")
CB=$(conf "$B")
scan() { # config args... -> "mode rows new resolved status"
    t_run --config "$@" --scan-once --output json
    jq -r '.surfaces[0] | "\(.mode) \(.rows) \(.new | add // 0) \(.resolved | add // 0) \(.status)"' "$T_DIR/out"
}
open_of() { # database -> the open findings' record ids of that database, sorted
    t_val "SELECT coalesce(string_agg(f.record_id, ',' ORDER BY f.record_id::int), '') FROM pii_audit.findings f
           JOIN pii_audit.databases d ON d.id = f.database_id WHERE d.database_name = '$1' AND f.resolved_at IS NULL"
}
cursor_of() { t_val "SELECT c.last_id FROM pii_audit.scan_cursors c JOIN pii_audit.databases d ON d.id = c.database_id
                     WHERE d.database_name = '$1'"; }

# --- the store as a pii-auditd before schema version 2 left it: A was scanned (cursor at 1000, a finding of 10) ---
T_PSQL_DB=$STORE_DB t_psql -f "$PA_SOURCE_ROOT/sql/001_findings_schema.sql" >/dev/null
in_db "$STORE_DB" "INSERT INTO pii_audit.scan_runs (id, trigger, mode, status, finished_at) VALUES (1, 'cli', 'full', 'ok', now());
  SELECT setval('pii_audit.scan_runs_id_seq', 1);
  INSERT INTO pii_audit.scan_cursors (table_name, column_name, id_column, id_type, last_id, last_scan_id,
      last_full_scan_id, last_full_scan_at) VALUES ('public.events', 'payload', 'id', 'bigint', '1000', 1, 1, now());
  INSERT INTO pii_audit.findings (table_name, column_name, record_id, json_path, category, detector, rule,
      first_scan_id, last_scan_id) VALUES ('public.events', 'payload', '10', '\$.contact', 'email', 'value', 'email', 1, 1);"
t_run --config "$CA" --scan-once
t_rc 3 "schema version 1 only: refused"
t_grep "out of date: apply .*002_database_identity.sql" "$T_DIR/err" "the missing migration is named"
T_PSQL_DB=$STORE_DB t_psql -f "$PA_SOURCE_ROOT/sql/002_database_identity.sql" >/dev/null
# the migrations after 002 (independent of it), as an upgrade applies them
for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
    case $(basename "$f") in 001_* | 002_*) ;; *) T_PSQL_DB=$STORE_DB t_psql -f "$f" >/dev/null ;; esac
done
t_eq "$(t_val "SELECT count(*) FILTER (WHERE system_identifier IS NULL) || ' ' || count(*) FROM pii_audit.databases")" \
    "1 1" "the upgrade marks the rows of before it with one unclaimed identity"

# --- A first: it adopts them (its cursor and its finding of record 10). The cursor of before schema version 3 has
# no change-detection watermark, so this first scan is a full one: record 10's finding is the adopted one (not new,
# not resolved), 20's is new; the next scan is incremental from the adopted cursor and the new watermark ---
t_eq "$(scan "$CA")" "full 1000 1 0 ok" "A after the upgrade: a full scan (no watermark yet), 10 known, 20 new"
t_grep "recorded before findings schema version 2 are now database [0-9]+/$A's" "$T_DIR/err" "the adoption is logged"
t_eq "$(t_val "SELECT database_name || ' ' || (claimed_at IS NOT NULL) FROM pii_audit.databases")" "$A true" \
    "A claimed the unclaimed identity"
t_eq "$(t_val "SELECT count(*) || ' ' || min(last_id) FROM pii_audit.scan_cursors")" "1 1000" \
    "A continued the adopted cursor (no second one)"
t_eq "$(t_val "SELECT first_scan_id FROM pii_audit.findings WHERE record_id = '10'")" "1" \
    "record 10's finding is the one recorded before the upgrade"
t_eq "$(scan "$CA")" "incremental 0 0 0 ok" "then A's scans are incremental from that cursor"
t_eq "$(open_of "$A")" "10,20" "the finding of before the upgrade is A's, and the one its full scan found"
# --- B: a new identity, its own first (full) scan; same table, same record id 10 ---
t_eq "$(scan "$CB")" "full 1000 2 0 ok" "B: a full first scan of its own, 2 new findings"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.databases")" "2" "two databases in the store"
t_eq "$(open_of "$B")" "10,500" "B's findings are B's (record 10 too)"
t_eq "$(open_of "$A")" "10,20" "A's are untouched"
t_eq "$(cursor_of "$A") $(cursor_of "$B")" "1000 1000" "a cursor each"

# --- full scans: B's findings are not resolved by A's full scan ---
t_eq "$(scan "$CA" --full)" "full 1000 0 0 ok" "A --full: nothing new, nothing resolved (10 and 20 known)"
t_eq "$(open_of "$A") / $(open_of "$B")" "10,20 / 10,500" "A's full scan resolved none of B's"
# --- incremental: a new row in each, each read by its own scan ---
in_db "$A" "INSERT INTO events VALUES (1001, '{\"contact\": \"a.new@example.com\"}')"
in_db "$B" "INSERT INTO events VALUES (1001, '{\"n\": 1001}'), (1002, '{\"contact\": \"b.new@example.com\"}')"
t_eq "$(scan "$CA")" "incremental 1 1 0 ok" "A incremental: its 1 new row"
t_eq "$(scan "$CB")" "incremental 2 1 0 ok" "B incremental: its 2 new rows (A's cursor did not move B's)"
t_eq "$(cursor_of "$A") $(cursor_of "$B")" "1001 1002" "each cursor at its own database's last id"
# --- deletions: A's --full resolves A's deleted record only ---
in_db "$A" "DELETE FROM events WHERE id = 20"
t_eq "$(scan "$CA" --full)" "full 1000 0 1 ok" "A --full after a delete: 1 resolved"
t_eq "$(open_of "$A") / $(open_of "$B")" "10,1001 / 10,500,1002" "only A's deleted record was resolved"
t_eq "$(scan "$CB" --full)" "full 1002 0 0 ok" "B --full: nothing of B resolved"
t_eq "$(t_val "SELECT string_agg(d.database_name || ':' || r.n, ' ' ORDER BY d.database_name) FROM (SELECT database_id,
        count(*) n FROM pii_audit.scan_runs GROUP BY 1) r JOIN pii_audit.databases d ON d.id = r.database_id")" \
    "$A:6 $B:3" "each run recorded with its database (A's of before the upgrade included)"

# --- concurrent scans of the two databases: the surface locks are per database (neither is busy) ---
t_run_bg --config "$(conf "$A" "  max_rows_per_second: 400")" --scan-once --full --output json
sleep 0.5
t_eq "$(scan "$CB" --full | awk '{print $5}')" "ok" "B scans while A's full scan holds A's lock: not busy"
cp "$T_DIR/out" "$T_DIR/b.json"
t_run_wait
t_eq "$(jq -r '.surfaces[0].status' "$T_DIR/out")" "ok" "A's concurrent scan completed too"
t_nogrep "busy" "$T_DIR/b.json" "no busy surface"

# --- the daemon's gauges are its own database's (read back from the store at start, before any scan) ---
d_start "$CB" || { not_ok "daemon for B did not start"; t_done; }
t_eq "$(d_metric_val 'pii_audit_findings{table="public.events",column="payload",category="email"}')" "3" \
    "B's daemon: B's 3 open findings, not A's + B's"
t_eq "$(d_metrics | grep -c "^pii_audit_database_info{database=\"$B\",system_identifier=\"[0-9]*\"} 1$")" "1" \
    "pii_audit_database_info names B"
t_ne "$(d_metric_val 'pii_audit_last_scan_success_timestamp_seconds')" "0" "B's last successful run read back"
t_done
