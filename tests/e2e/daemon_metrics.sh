#!/usr/bin/env bash
# The daemon's metrics for a real cadence and a fleet (issue 15 item 4), scraped from a real daemon:
#  - before any scan, every configured surface's series exist at 0: findings per built-in and custom category
#    (0 is true: the store has nothing of this database), the counters (rows, bytes, documents invalid, truncated,
#    oversized, findings detected and resolved per category), the per-surface progress gauges; none of the gauges
#    whose 0 would be a claim (surface_up, durations); the by-mode histogram at 0 for full, incremental and mixed;
#  - scans: the histogram by mode (full, then incremental), invalid and truncated documents counted per surface, the
#    last full scan's duration, a surface's start time;
#  - during a long (throttled) scan: pii_audit_surface_scan_in_progress 1 for the surface being read only, its
#    pii_audit_surface_rows_read growing towards pii_audit_surface_rows_estimated, and STATUS= saying
#    "scanning public.events.payload 1/2: 12,000 / ~52,000 rows";
#  - a reload that removes a surface and adds one: the removed surface's series (findings included) are gone, the new
#    one's exist at 0; a restart with that configuration: the removed surface's findings, still open in the store,
#    are not exported; the documented SQL resolves them;
#  - the full scan duration is read back from the store at start;
#  - process_start_time_seconds with /proc mounted as the unit's ProcSubset=pid mounts it (no /proc/stat): a mount
#    namespace of the test's own (root);
#  - promtool check metrics is clean.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
t_db
t_init_schema
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT g, jsonb_build_object('order', g) FROM generate_series(1, 2000) g;
  INSERT INTO events VALUES (2001, '{\"email\": \"metrics.canary@example.com\"}');
  CREATE TABLE notes (id bigint PRIMARY KEY, body text);
  INSERT INTO notes VALUES (1, '{\"broken\": '), (3, 'x'),
    (2, '{\"email\": \"a@example.com\", \"phone\": \"+1 415 555 0100\", \"ip\": \"10.1.2.3\"}');
  CREATE TABLE extra (id bigint PRIMARY KEY, doc jsonb);
  ANALYZE;"
PORT=$D_PORT
SURFACES2='surfaces:
  - {table: events, column: payload}
  - {table: notes, column: body}'
DETECTORS="detectors:
  patterns:
    - {name: emp, category: employee_id, regex: 'EMP-[0-9]{6}'}
metrics:
  listen: [\"127.0.0.1:$PORT\"]"
mkconf() { # name surfaces [scan extra]   (T_BATCH: scan.batch_size)
    T_SCAN_EXTRA="  interval: 1h
  initial_delay: 1h
  max_findings_per_record: 2
${3:-}" t_config "$2" "$DETECTORS" >/dev/null
    cp "$T_DIR/pa.yaml" "$T_DIR/$1.yaml"
    echo "$T_DIR/$1.yaml"
}
CONF=$(mkconf two "$SURFACES2")
m() { d_metrics >"$T_DIR/m.txt"; } # the page, for several greps of one scrape
has() { grep -qE -- "$1" "$T_DIR/m.txt"; }
ev='table="public.events",column="payload"'
no='table="public.notes",column="body"'
ex='table="public.extra",column="doc"'

python3 "$PA_SOURCE_ROOT/tests/e2e/notify_listen.py" "$T_DIR/notify.sock" "$T_DIR/notify.log" &
D_PIDS+=($!)
wait_for 5 test -S "$T_DIR/notify.sock"
start_daemon() { # config
    NOTIFY_SOCKET=$T_DIR/notify.sock "$PA_BIN" --config "$1" --log-level info >>"$T_DIR/daemon.out" 2>>"$T_DIR/daemon.err" &
    DPID=$!
    D_PIDS+=($DPID)
    d_wait_up
}

# ---- before any scan ------------------------------------------------------------------------------------------------
start_daemon "$CONF" && ok "daemon up (first scan an hour away)" || not_ok "daemon did not start"
m
t_eq "$(grep -c "^pii_audit_findings{$ev,category=\"[a-z_]*\"} 0$" "$T_DIR/m.txt")" "14" \
    "findings at 0 for every category of events (13 built-in + the custom employee_id)"
t_eq "$(grep -c "^pii_audit_findings{$no," "$T_DIR/m.txt")" "14" "... and of notes"
has "^pii_audit_contaminated_records\{$ev\} 0$" && ok "contaminated records at 0" || not_ok "contaminated records"
for c in rows_scanned bytes_scanned documents_invalid documents_truncated documents_oversized; do
    has "^pii_audit_${c}_total\{$no\} 0$" && ok "pii_audit_${c}_total at 0 before any scan" || not_ok "no pii_audit_${c}_total at 0"
done
has "^pii_audit_findings_detected_total\{$ev,category=\"employee_id\"\} 0$" && has "^pii_audit_findings_resolved_total\{$no,category=\"phone\"\} 0$" \
    && ok "findings detected and resolved counters at 0 per category" || not_ok "findings counters at 0"
has "^pii_audit_scan_retries_total\{$ev,reason=\"recovery_conflict\"\} 0$" && ok "retries at 0" || not_ok "retries at 0"
has "^pii_audit_surface_scan_in_progress\{$ev\} 0$" && has "^pii_audit_surface_rows_read\{$ev\} 0$" \
    && ok "per-surface progress gauges at 0" || not_ok "per-surface progress gauges"
for c in surface_up surface_scan_duration_seconds surface_full_scan_duration_seconds surface_scan_start_timestamp_seconds; do
    has "^pii_audit_$c\{" && not_ok "pii_audit_$c has a series before any scan (a 0 there would be a claim)" \
        || ok "no pii_audit_$c series before any scan"
done
for mode in full incremental mixed; do
    has "^pii_audit_scan_duration_by_mode_seconds_count\{mode=\"$mode\"\} 0$" || not_ok "by-mode histogram: no $mode at 0"
done
ok "the by-mode histogram has full, incremental and mixed at 0"
has "^process_start_time_seconds [0-9]" && ok "process_start_time_seconds" || not_ok "no process_start_time_seconds"

# ---- scans -----------------------------------------------------------------------------------------------------------
d_scan_now 60 && ok "first scan (full)" || not_ok "first scan"
m
has "^pii_audit_scan_duration_by_mode_seconds_count\{mode=\"full\"\} 1$" && has "^pii_audit_scan_duration_seconds_count 1$" \
    && ok "by mode: one full scan (and the old histogram counts it too)" || not_ok "by-mode histogram after a full scan"
has "^pii_audit_documents_invalid_total\{$no\} 1$" && ok "one invalid document in notes" || not_ok "invalid documents: $(grep documents_invalid "$T_DIR/m.txt")"
has "^pii_audit_documents_truncated_total\{$no\} 1$" && ok "one truncated record in notes (3 findings, max 2)" \
    || not_ok "truncated: $(grep documents_truncated "$T_DIR/m.txt")"
has "^pii_audit_documents_invalid_total\{$ev\} 0$" && ok "none in events" || not_ok "invalid in events"
has "^pii_audit_surface_rows_read\{$ev\} 2001$" && ok "rows read by the last scan of events: 2001" || not_ok "rows_read: $(grep surface_rows_read "$T_DIR/m.txt")"
has "^pii_audit_surface_full_scan_duration_seconds\{$ev\} [0-9.e-]+$" && ok "the full scan's duration is set" || not_ok "no full scan duration"
has "^pii_audit_surface_scan_start_timestamp_seconds\{$ev\} 1[0-9]{9}" && ok "the surface's start time is set" || not_ok "no surface start time"
has "^pii_audit_findings\{$ev,category=\"email\"\} 1$" && has "^pii_audit_findings\{$ev,category=\"phone\"\} 0$" \
    && ok "findings: 1 email, the other categories still 0" || not_ok "findings after the scan"
d_scan_now 60 && m
has "^pii_audit_scan_duration_by_mode_seconds_count\{mode=\"incremental\"\} 1$" && ok "by mode: then one incremental scan" \
    || not_ok "by-mode histogram after an incremental scan"

# ---- a long scan: progress ------------------------------------------------------------------------------------------
t_psql -c "INSERT INTO events SELECT g, jsonb_build_object('order', g) FROM generate_series(3000, 52999) g; ANALYZE events"
LONG=$(T_BATCH=500 mkconf long "$SURFACES2" "  max_rows_per_second: 5000")
cp "$LONG" "$CONF"
reloads=$(grep -c "configuration reloaded" "$T_DIR/daemon.err")
kill -HUP "$DPID"
wait_for 10 eval '[ "$(grep -c "configuration reloaded" "$T_DIR/daemon.err")" -gt "$reloads" ]' || not_ok "reload"
kill -USR1 "$DPID"
wait_for 10 d_metric_is "^pii_audit_surface_rows_read\{$ev\} [1-9]" && ok "the long scan is reading events" || not_ok "no progress"
sleep 1.5
m
has "^pii_audit_surface_scan_in_progress\{$ev\} 1$" && ok "events: scan in progress 1" || not_ok "events in progress"
has "^pii_audit_surface_scan_in_progress\{$no\} 0$" && ok "notes: 0 while events is read (one reader)" || not_ok "notes in progress"
r1=$(awk -v k="pii_audit_surface_rows_read{$ev}" '$1 == k {print $2}' "$T_DIR/m.txt")
est=$(awk -v k="pii_audit_surface_rows_estimated{$ev}" '$1 == k {print $2}' "$T_DIR/m.txt")
sleep 1.5
r2=$(d_metric_val "pii_audit_surface_rows_read{$ev}")
[ "${r2:-0}" -gt "${r1:-0}" ] && [ "${r2:-0}" -lt "${est:-0}" ] && ok "rows read grow during the scan ($r1, then $r2 of ~$est)" \
    || not_ok "rows read: $r1 then $r2 of ~$est"
start_ts=$(d_metric_val "pii_audit_surface_scan_start_timestamp_seconds{$ev}")
awk "BEGIN{exit !($start_ts > $(date +%s) - 30)}" && ok "the surface's start time is this scan's" || not_ok "surface start $start_ts"
wait_for 60 d_idle && ok "the long scan finished" || not_ok "the long scan did not finish"
t_grep "^STATUS=scanning public.events.payload 1/2: [1-9][0-9]{0,2}(,[0-9]{3})+ / ~5[0-9],[0-9]{3} rows$" "$T_DIR/notify.log" \
    "STATUS= gives the rows read of the estimate, with thousands separators"
m
has "^pii_audit_surface_scan_in_progress\{$ev\} 0$" && ok "events: in progress 0 after the scan" || not_ok "events still in progress"
has "^pii_audit_surface_rows_read\{$ev\} 50000$" && ok "rows read by that scan: the 50,000 new rows" || not_ok "rows_read after: $(d_metric_val "pii_audit_surface_rows_read{$ev}")"

# ---- a reload removes notes and adds extra ----------------------------------------------------------------------------
NEW=$(mkconf new 'surfaces:
  - {table: events, column: payload}
  - {table: extra, column: doc}')
cp "$NEW" "$CONF"
reloads=$(grep -c "configuration reloaded" "$T_DIR/daemon.err")
kill -HUP "$DPID"
wait_for 10 eval '[ "$(grep -c "configuration reloaded" "$T_DIR/daemon.err")" -gt "$reloads" ]' || not_ok "reload 2"
wait_for 10 d_metric_is "^pii_audit_findings\{$ex,category=\"email\"\} 0" && ok "the added surface's findings at 0 after the reload" \
    || not_ok "no findings series for the added surface"
m
t_eq "$(grep -c "$no" "$T_DIR/m.txt")" "0" "no series of the removed surface is left (findings, counters, gauges)"
has "^pii_audit_rows_scanned_total\{$ex\} 0$" && ok "the added surface's counters at 0" || not_ok "added surface counters"
has "^pii_audit_rows_scanned_total\{$ev\} 52001$" && ok "the kept surface's counters keep their values" || not_ok "events counter"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.notes' AND resolved_at IS NULL")" "2" \
    "the removed surface's findings (2: the record was truncated) stay open in the store (no scan reads it any more)"
kill -TERM "$DPID"; wait "$DPID"

# ---- a restart with that configuration: the removed surface's findings are not exported -------------------------------
start_daemon "$CONF" && m
t_eq "$(grep -c "$no" "$T_DIR/m.txt")" "0" "at start, the removed surface's open findings are not exported"
has "^pii_audit_findings\{$ev,category=\"email\"\} 1$" && ok "the configured surface's findings are (from the store)" || not_ok "events findings at start"
has "^pii_audit_surface_full_scan_duration_seconds\{$ev\} [0-9.e-]+$" && ok "the last full scan's duration, read back from the store" \
    || not_ok "no full scan duration at start"
kill -TERM "$DPID"; wait "$DPID"
# the documented resolution (docs/metrics.md): the findings of a surface removed on purpose
t_psql -c "UPDATE pii_audit.findings SET resolved_at = now()
            WHERE resolved_at IS NULL AND table_name = 'public.notes' AND column_name = 'body'
              AND database_id = (SELECT id FROM pii_audit.databases WHERE database_name = current_database()
                                   AND system_identifier = (SELECT system_identifier FROM pg_control_system()))"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.notes' AND resolved_at IS NULL")" "0" \
    "docs/metrics.md's SQL resolves them"

# ---- ProcSubset=pid: /proc without /proc/stat ---------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
    unshare -m --propagation private sh -c 'mount -t proc -o subset=pid proc /proc && test ! -e /proc/stat && exec "$0" "$@"' \
        "$PA_BIN" --config "$CONF" --log-level info >>"$T_DIR/daemon.out" 2>>"$T_DIR/daemon.err" &
    DPID=$!
    D_PIDS+=($DPID)
    before=$(date +%s)
    if d_wait_up; then
        m
        v=$(awk '$1 == "process_start_time_seconds" {print $2}' "$T_DIR/m.txt")
        awk "BEGIN{exit !(\"$v\" != \"\" && $v >= $before - 5 && $v <= $(date +%s) + 1)}" \
            && ok "under a subset=pid procfs (no /proc/stat) process_start_time_seconds is there: $v (started ~$before)" \
            || not_ok "process_start_time_seconds under subset=pid: '$v' (started ~$before)"
        has "^process_cpu_seconds_total " && ok "... and the other process metrics" || not_ok "process metrics under subset=pid"
    else
        not_ok "the daemon did not start under a subset=pid procfs"
    fi
    kill -TERM "$DPID"; wait "$DPID"
else
    not_ok "ProcSubset=pid not emulated: needs root and unshare (CI has both)"
fi

promtool check metrics <"$T_DIR/m.txt" >"$T_DIR/promtool.txt" 2>&1 && [ ! -s "$T_DIR/promtool.txt" ] \
    && ok "promtool check metrics is clean" || { not_ok "promtool check metrics"; cat "$T_DIR/promtool.txt"; }
t_nogrep "metrics.canary|@example.com" "$T_DIR/daemon.err" "no scanned value in the log"
t_nogrep "metrics.canary|@example.com" "$T_DIR/m.txt" "no scanned value in /metrics"
t_done
