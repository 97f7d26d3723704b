#!/usr/bin/env bash
# The findings database unavailable while the scanned one is up: findings.conninfo points at a second throwaway
# cluster, which is stopped in the middle of a scan and started again a few seconds later. No batch is
# acknowledged while its findings cannot be stored (the cursor lives with the findings and never gets ahead of them,
# rows_scanned does not move while the store is down), the failure is counted and would alert, and the daemon's own
# retry finishes the work exactly once after the store is back.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
f_prom_start
t_db
f_plant events 1 15000

# the findings store: its own cluster on the first free port after the test cluster's
SDIR=$T_DIR/store
SPORT=$(pa_free_port $((PA_PGPORT + 1)))
(pa_pg_start "$SDIR" "$SPORT") || { not_ok "could not start the findings cluster"; t_done; }
stop_store() { pa_pg_stop "$SDIR" immediate; }
trap 'stop_store; d_cleanup' EXIT
F_STORE_ARGS=(-h "$SDIR" -p "$SPORT" -U postgres -d pa_store)
psql -X -q -h "$SDIR" -p "$SPORT" -U postgres -d postgres -c "CREATE DATABASE pa_store" >/dev/null
for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
    psql -X -q -v ON_ERROR_STOP=1 "${F_STORE_ARGS[@]}" -f "$f" >/dev/null
done
CONF=$(f_config 'surfaces:
  - {table: events, column: payload}' "" "findings:
  conninfo: \"host=$SDIR port=$SPORT dbname=pa_store user=postgres\"")
f_start "$CONF"
t_eq "$(t_val "SELECT to_regclass('pii_audit.findings') IS NULL")" "t" "no findings schema in the scanned database"

rows_scanned() { d_metric_val 'pii_audit_rows_scanned_total{table="public.events",column="payload"}'; }
kill -USR1 "$DPID"
f_wait_findings events 20 || not_ok "the scan did not get going"
run=$(f_last_run)
f_sampler_start
F_BEFORE=$(f_findings events)
pa_pg_stop "$SDIR" fast
down_at=$(date +%s)
wait_for 10 d_metric_is '^pii_audit_scan_failures_total\{reason="connection_lost"\} 1' \
    && ok "the lost store is counted (reason connection_lost)" || not_ok "no connection_lost counted"
t_grep "surface not scanned \(connection_lost\): findings store:" "$T_DIR/daemon.err" "the log says the findings store was lost"
F_ALERTS=
f_alert_fires PIIAuditScanFailed reason=connection_lost "store down"
wait_for 10 d_metric_is '^pii_audit_database_up 0' && ok "database_up 0 while the store is down" \
    || not_ok "database_up not 0"
rs1=$(rows_scanned)
sleep "$(pa_scaled 2)"
t_eq "$(rows_scanned)" "$rs1" "no batch acknowledged while the store is down (rows_scanned stays at $rs1)"
wait_for 10 d_metric_is '^pii_audit_scan_failures_total\{reason="connect"\} [1-9]' \
    && ok "retries while the store is down counted as connect" || not_ok "no connect failure counted"
t_eq "$(t_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'")" "0" \
    "no connection to the scanned database piles up while the store is down"
t0=$(f_now)
(pa_pg_restart "$SDIR")
up_for=$(( $(date +%s) - down_at ))
f_wait_recovered "$t0" 60 && ok "the daemon's retry succeeded ${F_RECOVERY}s after the store came back" \
    || not_ok "no successful scan after the store came back"
f_sampler_stop "store down"
t_eq "$(f_run_status "$run")" "interrupted" "the cut run is marked interrupted"
f_check_findings events 15000 "store down"
f_check_cursor events "store down"
f_result "Findings database down (separate findings.conninfo), scanned database up, ${up_for} s" \
    "pg_ctl stop -m fast of the findings cluster during a full scan" "$F_BEFORE of 300" "300 exactly once" \
    "connection_lost, then connect while down" "$F_ALERTS" "$F_RECOVERY s (daemon's own backoff retry)"
t_done
