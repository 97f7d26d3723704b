#!/usr/bin/env bash
# PostgreSQL stopped in the middle of a daemon scan, once with a fast shutdown (backends terminated) and once with
# an immediate one (crash, recovery at restart), then started again. The daemon keeps serving /metrics, counts the
# failure (connection_lost, then connect while it retries with backoff), PIIAuditScanFailed would fire, and its own
# retry after the restart finishes the work: every planted finding exactly once, the cut run marked interrupted.
# (tests/integration/pg_restart.sh covers the same for --scan-once.)
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
[ -n "${PA_PGDIR:-}" ] || { echo "PA_PGDIR not set" >&2; exit 1; }
f_prom_start
t_db
t_init_schema
f_plant events 1 15000
CONF=$(f_config 'surfaces:
  - {table: events, column: payload}')
f_start "$CONF"

pg_down() { # mode rows-after min-findings-before-the-cut
    local mode=$1 rows=$2 min=$3
    local run scans0 lost0 conn0
    lost0=$(f_failures connection_lost)
    conn0=$(f_failures connect)
    kill -USR1 "$DPID"
    f_wait_findings events "$min" || not_ok "$mode: the scan did not get going"
    run=$(f_last_run)
    f_sampler_start
    F_BEFORE=$(f_findings events)
    scans0=$(d_scans)
    pa_pg_stop "$PA_PGDIR" "$mode"
    local down_at; down_at=$(date +%s)
    wait_for 10 f_failures_above connection_lost "$lost0" \
        && ok "$mode: the cut scan is counted as connection_lost" || not_ok "$mode: no connection_lost counted"
    f_alert_fires PIIAuditScanFailed reason=connection_lost "$mode"
    wait_for 10 d_metric_is '^pii_audit_database_up 0' && ok "$mode: database_up 0 while it is down" \
        || not_ok "$mode: database_up not 0"
    sleep 2 # down for a while: the daemon retries with backoff
    local tries=$(( $(d_scans) - scans0 ))
    local t0; t0=$(f_now)
    pa_pg_restart "$PA_PGDIR"
    local up_for=$(( $(date +%s) - down_at ))
    f_wait_recovered "$t0" 90 && ok "$mode: the daemon's own retry succeeded ${F_RECOVERY}s after the restart" \
        || not_ok "$mode: no successful scan after the restart"
    f_sampler_stop "$mode"
    [ "$(f_failures connect)" -gt "$conn0" ] && ok "$mode: retries while down counted as connect" \
        || not_ok "$mode: no connect failure counted while down"
    [ "$tries" -ge 2 ] && [ "$tries" -le 5 ] && ok "$mode: $tries retries with backoff while down for ${up_for}s" \
        || not_ok "$mode: $tries retries while down for ${up_for}s (want 2..5: backoff 1, 2, 4 s)"
    t_eq "$(f_run_status "$run")" "interrupted" "$mode: the cut run is marked interrupted"
    t_eq "$(f_surface_status "$run" events)" "interrupted interrupted" "$mode: its surface is marked interrupted"
    f_check_findings events "$rows" "$mode"
    f_check_cursor events "$mode"
    t_eq "$(f_store_val "SELECT status FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "ok" \
        "$mode: the last run is ok"
    d_metric_is '^pii_audit_database_up 1' && ok "$mode: database_up 1 again" || not_ok "$mode: database_up not back"
    t_eq "$(f_failures interrupted)" "0" "$mode: a run of this process cut by the outage is not counted again as interrupted"
    F_REC=$F_RECOVERY
}

pg_down fast 15000 20
f_result "PostgreSQL fast shutdown mid-scan, restarted after ~3 s" "pg_ctl stop -m fast during a daemon full scan" \
    "$F_BEFORE of 300" "300 exactly once" "connection_lost, then connect while down" \
    "$F_ALERTS" "$F_REC s (daemon's own backoff retry)"

# the second cut hits an incremental scan of 15000 new rows
f_plant events 15001 30000
F_ALERTS=
pg_down immediate 30000 310
f_result "PostgreSQL immediate shutdown (crash) mid-scan, restarted after ~3 s" \
    "pg_ctl stop -m immediate during a daemon incremental scan" "$F_BEFORE of 600" "600 exactly once" \
    "connection_lost, then connect while down" "$F_ALERTS" "$F_REC s (daemon's own backoff retry)"
t_nogrep "user[0-9]+@example|415 555" "$T_DIR/daemon.err" "no planted value in the daemon's log"
t_done
