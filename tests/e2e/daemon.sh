#!/usr/bin/env bash
# The daemon as an operator runs it: started against the test PostgreSQL with a NOTIFY_SOCKET, scraped by a real
# Prometheus; planted PII + SIGUSR1 (incremental) -> Prometheus' API shows pii_audit_findings > 0 for the right surface and
# category; promtool check metrics is clean and every documented metric has HELP and TYPE; /healthz, /ready, 404,
# 405; SIGUSR2 (a full scan); SIGHUP with a good and a bad config; SIGTERM during a long scan (exit 0 within 10 s, scan recorded
# cancelled, nothing lost); database down at start and coming back; sd_notify messages in order.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
t_db
t_init_schema
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT g, jsonb_build_object('order', g, 'items', jsonb_build_array(jsonb_build_object('sku', 'S' || g)))
  FROM generate_series(1, 2000) g;"
PORT=$D_PORT
CONF=$(T_SCAN_EXTRA="  interval: 1h
  initial_delay: 0s" t_config 'surfaces:
  - {table: events, column: payload}' "metrics:
  listen: [\"127.0.0.1:$PORT\"]")

python3 "$PA_SOURCE_ROOT/tests/e2e/notify_listen.py" "$T_DIR/notify.sock" "$T_DIR/notify.log" &
D_PIDS+=($!)
wait_for 5 test -S "$T_DIR/notify.sock"

start_daemon() { # config
    # WATCHDOG_USEC/WATCHDOG_PID as systemd sets them for WatchdogSec=2s (the PID is the exec'd process's own)
    NOTIFY_SOCKET=$T_DIR/notify.sock WATCHDOG_USEC=2000000 bash -c 'export WATCHDOG_PID=$$; exec "$0" "$@"' \
        "$PA_BIN" --config "$1" --log-level info >>"$T_DIR/daemon.out" 2>>"$T_DIR/daemon.err" &
    DPID=$!
    D_PIDS+=($DPID)
    d_wait_up 5
}

start_daemon "$CONF" && ok "daemon serves /healthz" || not_ok "daemon did not start"
wait_for 15 d_metric_is '^pii_audit_last_scan_success_timestamp_seconds [1-9]' \
    && ok "first scan at launch succeeded" || not_ok "first scan did not succeed"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" "200" "/ready is 200 with the database up"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" "404" "unknown path 404"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")" "405" "POST 405"
curl -s -D "$T_DIR/headers" -o "$T_DIR/metrics.txt" "http://127.0.0.1:$PORT/metrics"
t_grep "Content-Type: text/plain; version=0.0.4; charset=utf-8" "$T_DIR/headers" "metrics content type"
promtool check metrics <"$T_DIR/metrics.txt" >"$T_DIR/promtool.txt" 2>&1 && [ ! -s "$T_DIR/promtool.txt" ] \
    && ok "promtool check metrics is clean" || { not_ok "promtool check metrics"; cat "$T_DIR/promtool.txt"; }
for m in pii_audit_findings pii_audit_contaminated_records pii_audit_findings_detected_total \
         pii_audit_findings_resolved_total pii_audit_last_scan_new_findings pii_audit_scan_duration_seconds \
         pii_audit_surface_scan_duration_seconds pii_audit_scans_total pii_audit_scan_failures_total \
         pii_audit_scan_in_progress pii_audit_scan_start_timestamp_seconds pii_audit_last_scan_success_timestamp_seconds \
         pii_audit_last_full_scan_success_timestamp_seconds pii_audit_scan_interval_seconds pii_audit_rows_scanned_total \
         pii_audit_bytes_scanned_total pii_audit_surface_rows_estimated pii_audit_surface_up pii_audit_database_up \
         pii_audit_config_last_reload_successful pii_audit_config_last_reload_success_timestamp_seconds \
         pii_audit_build_info process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
         process_max_fds process_start_time_seconds; do
    if grep -q "^# HELP $m " "$T_DIR/metrics.txt" && grep -q "^# TYPE $m " "$T_DIR/metrics.txt"; then :; else
        not_ok "metric $m has HELP and TYPE"; fi
done
ok "every documented metric has HELP and TYPE"
t_grep '^pii_audit_rows_scanned_total\{table="public.events",column="payload"\} 2000' "$T_DIR/metrics.txt" "rows scanned counted"

# a real Prometheus scrapes it
d_prom_start
wait_for 30 d_prom_has 'up{job="pii-auditd"} == 1' \
    && ok "Prometheus scrapes the daemon" || not_ok "Prometheus never scraped the daemon"

# plant PII, SIGUSR1 -> the findings appear in Prometheus
t_psql -c "INSERT INTO events VALUES (2001, '{\"customer\": {\"email\": \"planted.e2e@example.com\"}}')"
kill -USR1 "$DPID"
wait_for 30 d_prom_has 'pii_audit_findings{table="public.events",column="payload",category="email"} > 0' \
    && ok "Prometheus API: pii_audit_findings > 0 for public.events.payload / email" || not_ok "findings never reached Prometheus"
d_prom_q 'pii_audit_findings > 0' >"$T_DIR/prom-findings.json"
t_eq "$(jq -r '.data.result | length' "$T_DIR/prom-findings.json")" "1" "exactly one findings series above 0"
t_eq "$(d_prom_q 'pii_audit_findings == 0' | jq -r '.data.result | length')" "12" \
    "the other built-in categories of the surface are there at 0 (tests/e2e/daemon_metrics.sh)"
t_eq "$(t_val "SELECT trigger FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "signal" "SIGUSR1 scan recorded with trigger signal"
t_nogrep "planted.e2e" "$T_DIR/daemon.err" "planted value never logged"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics2.txt"
t_nogrep "planted.e2e" "$T_DIR/metrics2.txt" "planted value never in /metrics"
t_eq "$(t_val "SELECT mode || ' ' || rows_scanned FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "incremental 1" \
    "the SIGUSR1 scan is incremental: it read the one new row"

# SIGUSR2: a full scan now, every row read again
last=$(t_val "SELECT max(id) FROM pii_audit.scan_runs")
kill -USR2 "$DPID"
full_done() { [ "$(t_val "SELECT count(*) FROM pii_audit.scan_runs WHERE id > $last AND status = 'ok'")" = 1 ]; }
wait_for 30 full_done && ok "SIGUSR2 ran a scan" || not_ok "no scan after SIGUSR2"
t_eq "$(t_val "SELECT trigger || ' ' || mode || ' ' || rows_scanned FROM pii_audit.scan_runs WHERE id > $last")" \
    "signal full 2001" "the SIGUSR2 scan is full (trigger signal): it read every row"

# reload: a good config (interval change) and a bad one
sed "s/interval: 1h/interval: 2h/" "$CONF" >"$T_DIR/pa2.yaml" && cp "$T_DIR/pa2.yaml" "$CONF"
kill -HUP "$DPID"
wait_for 10 d_metric_is '^pii_audit_scan_interval_seconds 7200' \
    && ok "good reload applied (interval 7200)" || not_ok "good reload not applied"
cp "$CONF" "$T_DIR/good.yaml"
echo "scan: {batch_size: lots}" >>"$CONF"
kill -HUP "$DPID"
wait_for 10 d_metric_is '^pii_audit_config_last_reload_successful 0' \
    && ok "bad reload refused (last_reload_successful 0)" || not_ok "bad reload not reported"
t_grep "reload refused" "$T_DIR/daemon.err" "bad reload logged"
kill -0 "$DPID" 2>/dev/null && ok "daemon still running on the old config" || not_ok "daemon died on a bad reload"
cp "$T_DIR/good.yaml" "$CONF"

# SIGTERM during a long scan: a bigger table, throttled
t_psql -c "INSERT INTO events SELECT g, jsonb_build_object('order', g) FROM generate_series(3000, 60000) g;"
sed -i "s/^  batch_size: .*/  batch_size: 500\n  max_rows_per_second: 5000/" "$CONF"
reloads=$(grep -c "configuration reloaded" "$T_DIR/daemon.err")
kill -HUP "$DPID"
reloaded() { [ "$(grep -c "configuration reloaded" "$T_DIR/daemon.err")" -gt "$reloads" ]; }
wait_for 5 reloaded || not_ok "the throttled config was not reloaded"
kill -USR1 "$DPID"
wait_for 10 d_metric_is '^pii_audit_scan_in_progress 1' \
    && ok "long scan running" || not_ok "long scan did not start"
sleep 1
start=$(date +%s%N)
kill -TERM "$DPID"
wait "$DPID"; drc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
t_eq "$drc" "0" "SIGTERM: exit 0"
[ "$elapsed_ms" -lt "$(pa_scaled 10000)" ] && ok "SIGTERM: stopped in ${elapsed_ms} ms" || not_ok "SIGTERM took ${elapsed_ms} ms"
t_eq "$(t_val "SELECT status FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "cancelled" "the scan is recorded cancelled"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE record_id = '2001'")" "1" "the committed finding is kept"
sleep 0.3
# notify order: READY before anything else, RELOADING then READY, STOPPING at the end
msgs=$(cut -c1-40 "$T_DIR/notify.log" | grep -oE "^(READY=1|RELOADING=1|STOPPING=1)" | tr '\n' ' ')
t_eq "$msgs" "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " "sd_notify order"
t_grep "^STATUS=scanning public.events.payload 1/1" "$T_DIR/notify.log" "STATUS names the surface being scanned"
t_grep "MONOTONIC_USEC=[0-9]+" "$T_DIR/notify.log" "RELOADING carries MONOTONIC_USEC"
wd=$(grep -c "^WATCHDOG=1" "$T_DIR/notify.log")
[ "$wd" -ge 5 ] && ok "WATCHDOG=1 pings from the loop ($wd)" || not_ok "WATCHDOG=1 pings: $wd"

# after a restart the gauges come from the store before any new scan (first scan an hour away)
sed -i "s/^  batch_size: .*/  batch_size: 500/; /max_rows_per_second/d" "$CONF"
sed "s/initial_delay: 0s/initial_delay: 1h/" "$CONF" >"$T_DIR/later.yaml"
start_daemon "$T_DIR/later.yaml"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics-restart.txt"
t_grep '^pii_audit_findings\{table="public.events",column="payload",category="email"\} 1' "$T_DIR/metrics-restart.txt" "restart: findings gauge restored from the store before any scan"
t_grep '^pii_audit_contaminated_records\{table="public.events",column="payload"\} 1' "$T_DIR/metrics-restart.txt" "restart: contaminated records restored"
t_grep '^pii_audit_scans_total 0' "$T_DIR/metrics-restart.txt" "restart: no scan ran"
kill -TERM "$DPID"; wait "$DPID"

# database down at start and coming back: the server is really stopped, then started again
: >"$T_DIR/notify.log"
pa_pg_stop "$PA_PGDIR" fast
start_daemon "$CONF" && ok "daemon starts with the database down" || not_ok "daemon did not start without a database"
sleep "$(pa_scaled 2)"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics3.txt"
t_grep '^pii_audit_database_up 0' "$T_DIR/metrics3.txt" "database_up 0"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" "503" "/ready is 503 without the database"
t_grep 'pii_audit_scan_failures_total\{reason="connect"\} [1-9]' "$T_DIR/metrics3.txt" "failed attempts counted with reason connect"
t_grep "waiting for database" "$T_DIR/notify.log" "STATUS says waiting for database"
pa_pg_restart "$PA_PGDIR"
wait_for 40 d_metric_is '^pii_audit_database_up 1' \
    && ok "database back: database_up 1 (capped backoff retried)" || not_ok "database_up never came back"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" "200" "/ready 200 again"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics4.txt"
t_grep '^pii_audit_findings\{table="public.events",column="payload",category="email"\} 1' "$T_DIR/metrics4.txt" "findings gauge correct after the restart"
kill -TERM "$DPID"; wait "$DPID"
t_done
