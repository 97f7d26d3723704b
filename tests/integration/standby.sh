#!/usr/bin/env bash
# A hot standby (issue 14 §3): a real primary and a streaming standby made with pg_basebackup, in this test's own
# clusters. The standby runs with max_standby_streaming_delay = 0 and without hot_standby_feedback, so every ACCESS
# EXCLUSIVE lock the primary takes on the scanned table cancels the standby's queries on it at once ("canceling
# statement due to conflict with recovery", SQLSTATE 40001). Shown here:
#   - scanning the standby without findings.conninfo fails at start, naming findings.conninfo (not at the first
#     write with "cannot execute UPDATE in a read-only transaction");
#   - with scan.retry_attempts 0 a conflict fails the surface with its own reason, recovery_conflict;
#   - the daemon scanning the standby (findings on the primary) while the primary locks the table in a loop: the
#     full scan completes, every row read once, the same findings as a scan of the primary, the retries counted
#     under recovery_conflict (pii_audit_scan_retries_total, scan_run_surfaces.retries, the log) and nothing failed;
#   - a full scan of the standby killed part way (SIGKILL) resumes at the next scan where it stopped: only the rows
#     after its position are read, and the pass's end (resolution, watermark, duration over both runs) is recorded;
#     then change detection on the standby: a row changed and one deleted on the primary are read and resolved;
#   - the findings are the primary's database's (same system identifier and name): one identity in the store;
#   - no planted value in any output.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"

PRIM=$T_DIR/primary
STBY=$T_DIR/standby
PPORT=$(pa_free_port $((D_PROM_PORT + 1)))
SPORT=$(pa_free_port $((PPORT + 1)))
stop_clusters() {
    touch "$T_DIR/stop-locks"
    pa_pg_stop "$STBY" immediate
    pa_pg_stop "$PRIM" immediate
}
trap 'stop_clusters; d_cleanup' EXIT

(pa_pg_start "$PRIM" "$PPORT") || { not_ok "could not start the primary"; t_done; }
p_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PRIM" -p "$PPORT" -U postgres -d app "$@"; }
s_val() { psql -X -q -A -t -h "$STBY" -p "$SPORT" -U postgres -d app -c "$1"; }
psql -X -q -h "$PRIM" -p "$PPORT" -U postgres -d postgres -c "CREATE DATABASE app" >/dev/null
# 20,000 rows of ~8 KB (a scan that lasts long enough to be hit), an email in every 100th; one canary
p_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT g, jsonb_build_object('n', g,
      'contact', CASE WHEN g % 100 = 0 THEN 'user' || g || '@example.com' END,
      'pad', (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 250) x))
    FROM generate_series(1, 20000) g;
  UPDATE events SET payload = payload || '{\"note\": \"write to standby.canary@example-canary.com\"}' WHERE id = 777;
  ANALYZE events;" >/dev/null
for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do p_psql -f "$f" >/dev/null; done

# the standby: a base backup streaming from the primary, queries cancelled at once on conflict
mkdir -p "$STBY"
[ "$(id -u)" = 0 ] && chown postgres: "$STBY"
t0=$SECONDS
pa__as_pg "$PA_PG_BIN/pg_basebackup" -h "$PRIM" -p "$PPORT" -U postgres -D "$STBY/data" -R -X stream -c fast \
    >"$T_DIR/basebackup.log" 2>&1 || { not_ok "pg_basebackup failed: $(tail -3 "$T_DIR/basebackup.log")"; t_done; }
cat >>"$STBY/data/postgresql.conf" <<CONF
port = $SPORT
unix_socket_directories = '$STBY'
hot_standby = on
hot_standby_feedback = off
max_standby_streaming_delay = 0
CONF
(pa_pg_start "$STBY" "$SPORT") || { not_ok "could not start the standby"; t_done; }
t_eq "$(s_val 'SELECT pg_is_in_recovery()')" "t" "a streaming standby made with pg_basebackup (in $((SECONDS - t0)) s)"
t_eq "$(s_val "SELECT system_identifier = (SELECT system_identifier FROM pg_control_system()) FROM pg_control_system()")" \
    "t" "it has the primary's system identifier"

SCANNED="host=$STBY port=$SPORT dbname=app user=postgres"
STORE="host=$PRIM port=$PPORT dbname=app user=postgres"
conf() { # name [findings conninfo] [extra scan keys]
    local findings=""
    [ -z "${2:-}" ] || findings="findings: {conninfo: \"$2\"}"
    cat >"$T_DIR/$1.yaml" <<YAML
database:
  conninfo: "$SCANNED"
$findings
scan:
  batch_size: 500
  parallelism: 2
  statement_timeout: 30s
  interval: 1h
  initial_delay: 0s
${3:-}
metrics:
  listen: "127.0.0.1:$D_PORT"
surfaces:
  - {table: events, column: payload}
YAML
    echo "$T_DIR/$1.yaml"
}

# --- 1. the standby without findings.conninfo: refused at start, with the fix ---
t_run --config "$(conf alone)" --scan-once --output json
t_rc 3 "a standby without findings.conninfo: the scan cannot start"
t_eq "$(jq -r '.error.reason' "$T_DIR/out")" "findings_store" "reason findings_store"
t_grep "hot standby .* set findings.conninfo to the primary" "$T_DIR/err" "the error names the fix (findings.conninfo)"
t_nogrep "read-only transaction" "$T_DIR/err" "not the bare read-only error of the first write"

# the primary's ACCESS EXCLUSIVE locks on the scanned table, every 0.3 s, until told to stop
lock_loop() {
    rm -f "$T_DIR/stop-locks"
    (
        n=0
        while [ ! -e "$T_DIR/stop-locks" ] && [ $n -lt 400 ]; do
            p_psql -c "BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE; COMMIT;" >/dev/null 2>&1
            n=$((n + 1))
            sleep 0.3
        done
    ) &
    LOCK_PID=$!
}
stop_lock_loop() { touch "$T_DIR/stop-locks"; wait "$LOCK_PID" 2>/dev/null; }

# --- 2. no retries: a conflict fails the surface with its own reason ---
lock_loop
t_run --config "$(conf noretry "$STORE" "  retry_attempts: 0")" --scan-once --full --output json
stop_lock_loop
t_rc 3 "scan.retry_attempts 0 under conflicts: the surface fails"
t_eq "$(jq -r '.surfaces[0].error.reason' "$T_DIR/out")" "recovery_conflict" "its reason is recovery_conflict, not query"
t_grep "conflict with recovery \(SQLSTATE 40001\)" "$T_DIR/err" "the server's message and SQLSTATE are logged"
t_eq "$(p_psql -A -t -c "SELECT error_class FROM pii_audit.scan_run_surfaces ORDER BY scan_id DESC LIMIT 1")" \
    "recovery_conflict" "scan_run_surfaces.error_class recovery_conflict"

# the reference: what the primary holds (a dry run reads everything and writes nothing)
cat >"$T_DIR/ref.yaml" <<YAML
database:
  conninfo: "$STORE"
surfaces:
  - {table: events, column: payload}
YAML
t_run --config "$T_DIR/ref.yaml" --scan-once --dry-run --output json
ref=$(jq -c '.surfaces[0] | {rows, open}' "$T_DIR/out")
t_eq "$(jq -r '.surfaces[0].rows' "$T_DIR/out")" "20000" "reference: the primary has 20000 rows"

# --- 3. the daemon on the standby while the primary keeps locking: the full scan completes, with retries ---
p_psql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs" >/dev/null
retries_logged() { [ "$(grep -c 'retry [0-9]* of 6' "$T_DIR/daemon.err" 2>/dev/null)" -ge "$1" ]; }
lock_loop
t0=$SECONDS
d_start "$(conf daemon "$STORE")" || { not_ok "the daemon did not start"; t_done; }
scanned_once() { [ "$(d_scans)" -ge 1 ] && d_idle; }
hit_or_done() { retries_logged 2 || scanned_once; }
wait_for 60 hit_or_done || true # enough conflicts seen: let the scan finish undisturbed
stop_lock_loop
wait_for 120 scanned_once || not_ok "the daemon's first scan did not finish"
t_eq "$(d_metric_val 'pii_audit_surface_up{table="public.events",column="payload"}')" "1" \
    "the full scan of the standby completed (surface up) in $((SECONDS - t0)) s"
retries=$(d_metric_val 'pii_audit_scan_retries_total{table="public.events",column="payload",reason="recovery_conflict"}')
[ "${retries:-0}" -ge 1 ] && ok "pii_audit_scan_retries_total{reason=\"recovery_conflict\"} = $retries" \
    || not_ok "no retry counted (got '${retries:-}')"
t_eq "$(d_metric_val 'pii_audit_scan_failures_total{reason="recovery_conflict"}')" "0" "no failure counted"
t_eq "$(p_psql -A -t -c "SELECT status || ' ' || (retries > 0) || ' ' || rows_scanned FROM pii_audit.scan_run_surfaces")" \
    "ok true 20000" "scan_run_surfaces: ok, retries recorded, every row read once"
t_eq "$(p_psql -A -t -c "SELECT retries > 0 FROM pii_audit.scan_runs")" "t" "scan_runs.retries"
t_grep "canceling statement due to conflict with recovery \(SQLSTATE 40001\); retry 1 of 6 in 1s, from" \
    "$T_DIR/daemon.err" "each retry is logged with the server's message and where it restarts"
t_eq "$(p_psql -A -t -c "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL")" \
    "$(jq -r '.open | add' <<<"$ref")" "the same findings as the primary holds"
t_eq "$(p_psql -A -t -c "SELECT count(*) FROM (SELECT record_id, json_path, category FROM pii_audit.findings
        GROUP BY 1, 2, 3 HAVING count(*) > 1) d")" "0" "no duplicate"
t_eq "$(p_psql -A -t -c "SELECT count(*) || ' ' || bool_and(database_name = 'app') || ' ' ||
        bool_and(system_identifier = (SELECT system_identifier FROM pg_control_system())) FROM pii_audit.databases")" \
    "1 true true" "one database in the store: the primary's own identity"
t_eq "$(d_metrics | grep -c '^pii_audit_database_info{database="app",system_identifier="[0-9]*"} 1$')" "1" \
    "pii_audit_database_info names the database"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null

# --- 4. a full scan of the standby killed part way resumes where it stopped, not from the start ---
# One reader (its committed rows are then exactly the pass's position) and a throttle, so that the pass lasts ~10 s;
# the daemon is SIGKILLed once 2,000 rows are committed, then started again: its first (scheduled, incremental) scan
# resumes the pass at its stored position and reads only the rows after it; the pass's end resolves and records it.
p_psql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs" >/dev/null
sed 's/parallelism: 2/parallelism: 1/' "$(conf resume "$STORE" "  max_rows_per_second: 2000")" >"$T_DIR/resume1.yaml"
store_val() { p_psql -A -t -c "$1"; }
committed() { [ "$(store_val "SELECT coalesce(sum(rows_scanned), 0) FROM pii_audit.scan_run_surfaces")" -ge 2000 ]; }
d_start "$T_DIR/resume1.yaml" || { not_ok "the daemon did not start"; t_done; }
wait_for 60 committed || not_ok "the daemon's full scan committed nothing"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
run1=$(store_val "SELECT max(id) FROM pii_audit.scan_runs")
rows1=$(store_val "SELECT rows_scanned FROM pii_audit.scan_run_surfaces WHERE scan_id = $run1")
pos=$(store_val "SELECT full_pos FROM pii_audit.scan_cursors")
t_eq "$(store_val "SELECT (full_scan_id = $run1) || ' ' || (last_full_scan_at IS NULL) || ' ' || (full_pos::bigint > 0)
        FROM pii_audit.scan_cursors")" "true true true" \
    "killed after $rows1 rows: a full pass in progress, begun in scan $run1, at id $pos, not complete"
[ "$rows1" -lt 20000 ] && ok "the daemon was killed part way ($rows1 of 20000 rows committed)" \
    || not_ok "the pass had finished before the kill ($rows1 rows)"
after=$(s_val "SELECT count(*) FROM events WHERE id > $pos")
t_eq "$rows1" "$pos" "one reader: the rows committed are the pass's position (ids 1..$pos)"
d_start "$(conf resume2 "$STORE")" || { not_ok "the daemon did not start again"; t_done; }
wait_for 120 scanned_once || not_ok "the restarted daemon's first scan did not finish"
run2=$(store_val "SELECT max(id) FROM pii_audit.scan_runs")
t_grep "resuming the full scan begun in scan $run1 at $pos" "$T_DIR/daemon.err" \
    "the next scan resumes the pass where it stopped (logged)"
t_eq "$(store_val "SELECT status FROM pii_audit.scan_runs WHERE id = $run1")" "interrupted" \
    "the killed run is marked interrupted"
t_eq "$(store_val "SELECT status || ' ' || mode || ' ' || rows_scanned || ' ' || rows_reread
        FROM pii_audit.scan_run_surfaces WHERE scan_id = $run2")" "ok full $after 0" \
    "the resumed scan read only the $after rows after the position, none twice, and completed the pass"
t_eq "$((rows1 + after))" "20000" "the two runs read every row once between them"
t_eq "$(store_val "SELECT (full_scan_id IS NULL) || ' ' || (last_full_scan_id = $run2) || ' ' || (watermark IS NOT NULL)
        || ' ' || last_id FROM pii_audit.scan_cursors")" "true true true 20000" \
    "the pass ended in the resumed scan: recorded, a watermark, the tail at the last id"
t_eq "$(store_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL") $(store_val "SELECT count(*)
        FROM pii_audit.findings WHERE resolved_at IS NOT NULL")" "$(jq -r '.open | add' <<<"$ref") 0" \
    "the same findings as the primary holds, found across the two runs, none resolved"
t_eq "$(store_val "SELECT last_full_scan_seconds > (SELECT extract(epoch FROM finished_at - started_at)
        FROM pii_audit.scan_run_surfaces WHERE scan_id = $run2) FROM pii_audit.scan_cursors")" "t" \
    "the pass's duration counts both runs' time on the surface"
# change detection on the standby: an UPDATE adding an email and a DELETE of a row with one, on the primary, replayed
# on the standby, are read by the next (incremental) scan: the changed row read again, its finding new, the deleted
# row's finding resolved
p_psql -c "UPDATE events SET payload = payload || '{\"contact\": \"changed.on.primary@example.com\"}' WHERE id = 5;
  DELETE FROM events WHERE id = 300" >/dev/null
replayed() { [ "$(s_val "SELECT count(*) FROM events WHERE id = 300")" = 0 ]; }
wait_for 30 replayed || not_ok "the standby did not replay the primary's changes"
d_scan_now 60 || not_ok "the signalled scan did not end"
run3=$(store_val "SELECT max(id) FROM pii_audit.scan_runs")
t_eq "$(store_val "SELECT status || ' ' || mode || ' ' || rows_scanned || ' ' || rows_reread || ' ' || new_findings
        || ' ' || resolved_findings FROM pii_audit.scan_run_surfaces WHERE scan_id = $run3")" "ok incremental 1 1 1 1" \
    "an incremental scan of the standby reads the row changed on the primary (1 new) and resolves the deleted one's"
t_eq "$(store_val "SELECT resolved_reason FROM pii_audit.findings WHERE record_id = '300'")" "deleted" \
    "reason deleted"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null

# no value in any output: the conflicts' messages carry the primary message and SQLSTATE only
for out in "$T_DIR/all-out" "$T_DIR/all-err" "$T_DIR/daemon.err" "$T_DIR/daemon.out"; do
    if grep -qF "standby.canary@example-canary.com" "$out" 2>/dev/null; then not_ok "a planted value in $(basename "$out")"; fi
done
ok "no planted value in any output"
t_done
