#!/usr/bin/env bash
# Two faults of a busy database, each injected mid-scan by another session taking ACCESS EXCLUSIVE on the surface
# being read:
#  1. statement timeout (scan.statement_timeout 1s < scan.lock_timeout): the waiting batch is cancelled by the
#     server, the surface fails with reason timeout;
#  2. lock (scan.lock_timeout 500ms): the surface fails with reason lock_timeout after at most ~lock_timeout, the
#     other surface is still scanned, and over three scan cycles with the lock held the daemon never holds more
#     than its two connections (counted in pg_stat_activity all along) and none between scans.
# Both: counted, PIIAuditScanFailed{reason} and PIIAuditSurfaceUnreadable would fire, nothing lost or duplicated,
# cursor not ahead of the findings, and the first scan after the lock is released succeeds.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
f_prom_start
t_db
t_init_schema
f_plant events 1 15000
f_plant other 1 1000
SURFACES='surfaces:
  - {table: events, column: payload}
  - {table: other, column: payload}'
CONF=$(T_STMT_TIMEOUT=1s f_config "$SURFACES" "  lock_timeout: 5m")
f_start "$CONF"

# Another session holds ACCESS EXCLUSIVE on events until unlock (pg_terminate_backend of the holder).
lock_events() {
    PGAPPNAME=pa_locker psql -X -q -d "$T_DB" -c "BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
        SELECT pg_sleep(600); COMMIT;" >/dev/null 2>&1 &
    LOCKER=$!
    D_PIDS+=("$LOCKER")
    wait_for 10 sh -c "[ \"\$(psql -X -A -t -d $T_DB -c \"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = 'pa_locker' AND l.granted AND l.mode = 'AccessExclusiveLock'\")\" = 1 ]"
}
unlock_events() {
    t_val "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pa_locker'" >/dev/null
    wait "$LOCKER" 2>/dev/null
}
surface_dur() { d_metric_val "pii_audit_surface_scan_duration_seconds{table=\"public.events\",column=\"payload\"}"; }

# ---- 1. statement timeout on one batch ----
kill -USR1 "$DPID"
f_wait_findings events 20 || not_ok "timeout: the scan did not get going"
run=$(f_last_run)
f_sampler_start
F_BEFORE=$(f_findings events)
lock_events && ok "timeout: events locked mid-scan" || not_ok "timeout: could not lock events"
wait_for 15 d_idle && ok "timeout: the scan ended" || not_ok "timeout: the scan did not end"
t_eq "$(f_surface_status "$run" events)" "failed timeout" "timeout: events failed with reason timeout"
t_eq "$(f_surface_status "$run" other)" "ok -" "timeout: the other surface was scanned"
t_eq "$(f_run_status "$run")" "partial" "timeout: the run is partial"
t_eq "$(f_failures timeout)" "1" "timeout: pii_audit_scan_failures_total{reason=\"timeout\"} 1"
F_ALERTS=
f_alert_fires PIIAuditScanFailed reason=timeout "timeout"
f_alert_fires PIIAuditSurfaceUnreadable table=public.events "timeout"
f_check_cursor events "timeout"
t0=$(f_now)
unlock_events
d_scan_now && f_wait_recovered "$t0" 30 && ok "timeout: the next scan succeeds (${F_RECOVERY}s)" \
    || not_ok "timeout: the next scan did not succeed"
f_sampler_stop "timeout"
f_check_findings events 15000 "timeout"
f_check_findings other 1000 "timeout"
f_result "Statement timeout on one batch" \
    "another session takes ACCESS EXCLUSIVE on the surface mid-scan; statement_timeout 1s < lock_timeout" \
    "$F_BEFORE of 300" "300 exactly once" "timeout" "$F_ALERTS" "$F_RECOVERY s (next scan, SIGUSR1)"

# ---- 2. lock: lock_timeout 500ms, several scan cycles while it is held ----
# a slower scan (2500 rows/s, ~6 s for the 15000 new rows) so the lock surely lands in the middle of it
# (f_config rewrites $CONF, the daemon's config file, in place)
F_RATE=2500 f_config "$SURFACES" "  lock_timeout: 500ms" >/dev/null
reloads=$(grep -c "configuration reloaded" "$T_DIR/daemon.err")
kill -HUP "$DPID"
wait_for 10 sh -c "[ \$(grep -c 'configuration reloaded' $T_DIR/daemon.err) -gt $reloads ]" \
    && ok "lock: config reloaded (lock_timeout 500ms)" || not_ok "lock: reload not applied"
f_plant events 15001 30000
# pii-auditd's connections, sampled every 0.1 s until the end
(while :; do
    psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'" 2>/dev/null
    sleep 0.1
done) >"$T_DIR/conns" &
CONNS=$!
D_PIDS+=("$CONNS")
kill -USR1 "$DPID"
f_wait_findings events 310 || not_ok "lock: the scan did not get going"
run=$(f_last_run)
f_sampler_start
F_BEFORE=$(f_findings events)
lock_events && ok "lock: events locked mid-scan" || not_ok "lock: could not lock events"
wait_for 15 d_idle && ok "lock: the scan ended" || not_ok "lock: the scan did not end"
t_eq "$(f_surface_status "$run" events)" "failed lock_timeout" "lock: events failed with reason lock_timeout"
t_eq "$(f_surface_status "$run" other)" "ok -" "lock: the other surface was scanned"
f_check_cursor events "lock"
idle_conns=""
for cycle in 2 3; do
    d_scan_now || not_ok "lock: cycle $cycle did not finish"
    d=$(surface_dur)
    awk -v d="$d" -v s="$PA_TIME_SCALE" 'BEGIN { exit !(d < 2.0 * s) }' && ok "lock: cycle $cycle: events gave up after ${d}s (lock_timeout 0.5s)" \
        || not_ok "lock: cycle $cycle: events waited ${d}s"
    sleep 0.3
    idle_conns="$idle_conns $(t_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'")"
done
t_eq "$idle_conns" " 0 0" "lock: no pii-auditd connection left open between cycles"
t_eq "$(f_failures lock_timeout)" "3" "lock: pii_audit_scan_failures_total{reason=\"lock_timeout\"} 3 (3 cycles)"
t_eq "$(f_store_val "SELECT string_agg(status || ' ' || coalesce(error_class, '-'), ',' ORDER BY scan_id)
    FROM pii_audit.scan_run_surfaces WHERE scan_id >= $run AND table_name = 'public.other'")" "ok -,ok -,ok -" \
    "lock: the other surface scanned in every cycle"
F_ALERTS=
f_alert_fires PIIAuditScanFailed reason=lock_timeout "lock"
f_alert_fires PIIAuditSurfaceUnreadable table=public.events "lock"
t0=$(f_now)
unlock_events
d_scan_now && f_wait_recovered "$t0" 30 && ok "lock: the next scan succeeds (${F_RECOVERY}s)" \
    || not_ok "lock: the next scan did not succeed"
f_sampler_stop "lock"
kill "$CONNS"; wait "$CONNS" 2>/dev/null
maxc=$(sort -n "$T_DIR/conns" | tail -1)
# bound: one store connection, one check connection and two pipelined scan connections (scan.parallelism 1)
[ "${maxc:-9}" -le 4 ] && ok "lock: at most $maxc pii-auditd connections at any time ($(wc -l <"$T_DIR/conns") samples)" \
    || not_ok "lock: $maxc pii-auditd connections at once"
f_check_findings events 30000 "lock"
f_check_findings other 1000 "lock"
f_result "Lock held on a surface (ACCESS EXCLUSIVE) across 3 scan cycles" \
    "another session: LOCK TABLE ... IN ACCESS EXCLUSIVE MODE mid-scan, held; lock_timeout 500ms" \
    "$F_BEFORE of 600" "600 exactly once; other surface scanned every cycle; ≤ $maxc connections" "lock_timeout" \
    "$F_ALERTS" "$F_RECOVERY s (next scan, SIGUSR1)"
t_done
