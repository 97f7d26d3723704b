#!/usr/bin/env bash
# pii-auditd itself killed with SIGKILL in the middle of an incremental scan, then started again (as systemd's
# Restart= would). Prometheus sees the target down (the PIIAuditDown expression returns it); the restarted daemon
# serves the restored gauges at once, marks the killed run interrupted and counts it (reason interrupted), resumes from the committed cursor (it does
# not re-read what was committed) and stores every planted finding exactly once.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
f_prom_start
t_db
t_init_schema
f_plant events 1 1000
CONF=$(f_config 'surfaces:
  - {table: events, column: payload}')
f_start "$CONF"
d_scan_now && ok "first full scan done" || not_ok "first full scan did not finish"
f_check_findings events 1000 "before"

f_plant events 1001 16000
kill -USR1 "$DPID"
f_wait_findings events 60 || not_ok "the incremental scan did not get going"
run=$(f_last_run)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
F_BEFORE=$(f_findings events)
cursor=$(f_store_val "SELECT last_id FROM pii_audit.scan_cursors")
ok "killed with SIGKILL mid-scan ($F_BEFORE findings, cursor $cursor)"
f_check_cursor events "killed"
t_eq "$(f_run_status "$run")" "running" "the killed run is still 'running' until the next start"
F_ALERTS=
f_alert_fires PIIAuditDown instance="127.0.0.1:$D_PORT" "killed"

# restart, scanning at launch
sed 's/initial_delay: 1h/initial_delay: 0s/' "$CONF" >"$T_DIR/restart.yaml"
t0=$(f_now)
d_start "$T_DIR/restart.yaml" && ok "restarted daemon serves /healthz" || not_ok "restart failed"
d_metrics >"$T_DIR/metrics-restart.txt"
t_grep '^pii_audit_findings\{table="public.events",column="payload",category="email"\} [1-9]' \
    "$T_DIR/metrics-restart.txt" "findings gauge restored from the store at once"
f_sampler_start
f_wait_recovered "$t0" 60 && ok "the scan at restart succeeded (${F_RECOVERY}s after the restart)" \
    || not_ok "no successful scan after the restart"
f_sampler_stop "restart"
t_eq "$(f_run_status "$run")" "interrupted" "the killed run is marked interrupted"
t_eq "$(f_surface_status "$run" events)" "interrupted interrupted" "its surface is marked interrupted"
t_grep "scan run $run was interrupted" "$T_DIR/daemon.err" "the restarted daemon logs the interrupted run"
t_eq "$(f_failures interrupted)" "1" "the restarted daemon counts it: pii_audit_scan_failures_total{reason=\"interrupted\"} 1"
f_alert_fires PIIAuditScanFailed reason=interrupted "restart"
resumed=$(f_store_val "SELECT rows_scanned || ' ' || mode FROM pii_audit.scan_runs WHERE id > $run ORDER BY id LIMIT 1")
t_eq "$resumed" "$((16000 - cursor)) incremental" "resumed from the committed cursor $cursor (read only the rest)"
f_check_findings events 16000 "after"
f_check_cursor events "after"
f_result "pii-auditd killed with SIGKILL mid-scan, restarted" \
    "kill -KILL during an incremental scan; daemon started again (initial_delay 0s)" "$F_BEFORE of 320" \
    "320 exactly once; resumed at cursor $cursor" "target down; then interrupted (run marked, counted at restart)" \
    "$F_ALERTS" "$F_RECOVERY s (restart → scan at launch)"
t_done
