#!/usr/bin/env bash
# The daemon's backends killed with pg_terminate_backend in the middle of a scan: first the scanning connection
# (running its COPY), then the findings-store connection. The surface fails with connection_lost (counted,
# PIIAuditScanFailed and PIIAuditSurfaceUnreadable would fire), the run is recorded failed, nothing committed is
# lost, the cursor is not ahead of the findings, and the next scan finishes the work exactly once.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
f_prom_start
t_db
t_init_schema
f_plant events 1 15000
CONF=$(f_config 'surfaces:
  - {table: events, column: payload}')
f_start "$CONF"

# which: "scan" (the backend running the COPY) or "store" (the other pii-auditd backend)
kill_backend() { # which rows min-findings
    local which=$1 rows=$2 min=$3 lost0 run cond
    lost0=$(f_failures connection_lost)
    F_ALERTS=
    kill -USR1 "$DPID"
    f_wait_findings events "$min" || not_ok "$which: the scan did not get going"
    run=$(f_last_run)
    f_sampler_start
    # the scan side reads on two pipelined connections (both may be in a COPY); the store connection is the one
    # holding the surface's advisory lock
    if [ "$which" = scan ]; then cond="query LIKE 'COPY%'"
    else cond="pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"; fi
    F_BEFORE=$(f_findings events)
    local killed
    killed=$(t_val "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE application_name = 'pii-auditd' AND backend_type = 'client backend' AND $cond")
    if [ "$which" = scan ]; then
        [ "${killed:-0}" -ge 1 ] && ok "$which: the COPY backends terminated ($killed)" || not_ok "$which: no backend terminated"
    else
        t_eq "$killed" "1" "$which: the store backend terminated"
    fi
    wait_for 15 d_idle && ok "$which: the scan ended" || not_ok "$which: the scan did not end"
    t_eq "$(f_failures connection_lost)" "$((lost0 + 1))" "$which: failure counted with reason connection_lost"
    f_alert_fires PIIAuditScanFailed reason=connection_lost "$which"
    f_alert_fires PIIAuditSurfaceUnreadable table=public.events "$which"
    t_eq "$(f_run_status "$run")" "failed" "$which: the run is recorded failed"
    t_eq "$(f_surface_status "$run" events)" "failed connection_lost" "$which: the surface outcome is recorded"
    f_check_cursor events "$which"
    local t0; t0=$(f_now)
    d_scan_now && f_wait_recovered "$t0" 30 && ok "$which: the next scan succeeds (${F_RECOVERY}s)" \
        || not_ok "$which: the next scan did not succeed"
    f_sampler_stop "$which"
    f_check_findings events "$rows" "$which"
    f_check_cursor events "$which, after"
    t_eq "$(f_store_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'")" "0" \
        "$which: no connection left between scans"
}

kill_backend scan 15000 20
f_result "The daemon's scanning backend terminated mid-scan" \
    "pg_terminate_backend() on the backend running the COPY" "$F_BEFORE of 300" "300 exactly once" \
    "connection_lost" "$F_ALERTS" "$F_RECOVERY s (next scan, SIGUSR1)"
f_plant events 15001 30000
kill_backend store 30000 310
f_result "The daemon's findings-store backend terminated mid-scan" \
    "pg_terminate_backend() on the daemon's other backend" "$F_BEFORE of 600" "600 exactly once" \
    "connection_lost" "$F_ALERTS" "$F_RECOVERY s (next scan, SIGUSR1)"
t_done
