#!/usr/bin/env bash
# Canaries: unique PII values planted in every category (in values, in keys, in invalid JSON, in text columns),
# scanned at every log level with text and JSON output, in normal and dry-run mode, with logs on stderr (as text and
# as JSON lines, log.format: json) and in the journal (a stand-in socket), through change detection (rows changed and
# read again, findings resolved gone and deleted) and the table shapes of issue 14 (a partitioned parent by its
# composite key, a keyless table by row location, a changed_column surface), on the error paths (statement timeout,
# missing surface, a connection killed mid-scan, invalid JSON), and through every findings CLI path (findings
# list/show/ack/resolve, allow add/list/remove, report --html). Not one canary may appear in stdout, stderr, the
# journal, the findings, scan_runs, scan_run_surfaces, scan_cursors or databases tables, or the PostgreSQL server
# log (every statement of the scans logged).
# The daemon's channels (/metrics, reload errors, process memory, core files): tests/integration/canary_daemon.sh.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
source "$PA_SOURCE_ROOT/tests/lib/canaries.sh"
canary_load
CONF=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS")
cp "$CONF" "$T_DIR/conf1.yaml"; CONF=$T_DIR/conf1.yaml # t_config always writes pa.yaml
# the table shapes of issue 14, holding the same canaries (copied from hooks, so no statement below names one)
t_psql >/dev/null <<'SQL'
CREATE TABLE parted (id bigint, day date, payload jsonb, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
CREATE TABLE parted_2024 PARTITION OF parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO parted SELECT id, '2024-03-01', payload FROM hooks;
CREATE TABLE loose (payload jsonb);
INSERT INTO loose SELECT payload FROM hooks;
CREATE TABLE stamped (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now(), payload jsonb);
INSERT INTO stamped (id, payload) SELECT id, payload FROM hooks;
SQL
CONF4=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: parted, column: payload}
  - {table: loose, column: payload, keyless: ctid}
  - {table: stamped, column: payload, changed_column: updated_at}' "$CANARY_DETECTORS")
cp "$CONF4" "$T_DIR/conf4.yaml"; CONF4=$T_DIR/conf4.yaml
# from here on the server logs every statement of this database with its parameters (loading is done)
t_psql -c "ALTER DATABASE $T_DB SET log_statement = 'all'" -c "ALTER DATABASE $T_DB SET log_min_error_statement = 'info'"
SERVER_LOG=$PA_PGDIR/server.log
log_from=$(stat -c %s "$SERVER_LOG" 2>/dev/null || echo 0)

for level in error warn info debug; do
    for out in text json; do
        t_run --config "$CONF" --scan-once --full --log-level $level --output $out
        t_rc 1 "scan at $level, $out output, finds PII"
        check_clean "scan at $level ($out)" "$T_DIR/out" "$T_DIR/err"
    done
done

for mode in "--output text" "--output json" "--dry-run --output text" "--dry-run --output json" "--full --output json"; do
    # shellcheck disable=SC2086
    t_run --config "$CONF" --scan-once --log-level debug $mode
    t_rc 1 "scan ($mode) finds PII"
    check_clean "scan $mode" "$T_DIR/out" "$T_DIR/err"
done
# the oversized path (scan.max_document_bytes): those documents are never fetched, and their warnings carry the
# record id and the stored size only
CONF_O=$(T_SCAN_EXTRA="  max_document_bytes: 150" t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS")
cp "$CONF_O" "$T_DIR/conf-oversized.yaml"; CONF_O=$T_DIR/conf-oversized.yaml
t_run --config "$CONF_O" --scan-once --full --log-level debug --output json
t_rc 1 "scan with a 150-byte document bound: findings in the small documents"
[ "$(jq -r '.totals.oversized_documents' "$T_DIR/out")" -ge 2 ] && ok "documents were left unread as oversized" \
    || not_ok "no oversized document: $(jq -c '.totals' "$T_DIR/out")"
check_clean "oversized path" "$T_DIR/out" "$T_DIR/err"
# JSON log lines (log.format: json): the same scans at debug level, every stderr line one JSON object with the
# journal's fields, no canary in any of them (the error paths below run with JSON logs too)
CONF_J=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS
log:
  format: json")
cp "$CONF_J" "$T_DIR/conf-json.yaml"; CONF_J=$T_DIR/conf-json.yaml
: >"$T_DIR/json-err"
for mode in "--full --output text" "--output json" "--dry-run --output json"; do
    # shellcheck disable=SC2086
    t_run --config "$CONF_J" --scan-once --log-level debug $mode
    t_rc 1 "scan ($mode) with JSON log lines finds PII"
    check_clean "JSON log lines ($mode)" "$T_DIR/out" "$T_DIR/err"
    cat "$T_DIR/err" >>"$T_DIR/json-err"
done
n_json=$(wc -l <"$T_DIR/json-err")
[ "$n_json" -ge 10 ] && ok "JSON log: $n_json lines at debug level" || not_ok "JSON log: only $n_json lines"
t_eq "$(jq -c 'select((.MESSAGE | type) == "string" and (.PRIORITY | test("^[3-7]$"))
               and .SYSLOG_IDENTIFIER == "pii-auditd" and (.__REALTIME_TIMESTAMP | test("^[0-9]{16}$")))' \
        "$T_DIR/json-err" 2>&1 | wc -l)" "$n_json" "JSON log: every line is one object with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and a timestamp"
t_grep '"PRIORITY":"7","SYSLOG_IDENTIFIER":"pii-auditd","SYSLOG_PID":"[0-9]+","SURFACE":"public.hooks.payload","SCAN_ID":"[0-9]+","MESSAGE":"finding: record' \
    "$T_DIR/json-err" "JSON log: findings logged by location at debug, with SURFACE and SCAN_ID"
t_grep "finding: record" "$T_DIR/all-err" "debug logging really was on (findings are logged by location)"

# change detection and the new shapes, at debug level: a first scan of every surface, then rows changed (canaries
# moved between rows, not written by a statement: the test's own statements are not logged) read again
t_run --config "$CONF4" --scan-once --log-level debug --output json
t_rc 1 "the new table shapes: findings"
t_eq "$(jq -r '[.surfaces[].status] | join(",")' "$T_DIR/out")" "ok,ok,ok,ok" "partitioned, keyless and changed_column surfaces scanned"
check_clean "first scan of the new shapes" "$T_DIR/out" "$T_DIR/err"
t_psql -c "SET log_statement = 'none'" \
    -c "UPDATE hooks SET payload = payload || (SELECT payload FROM hooks WHERE id = 1) WHERE id = 2" \
    -c "UPDATE hooks SET payload = '{\"n\": 1}' WHERE id = 3" -c "DELETE FROM hooks WHERE id = 5" \
    -c "UPDATE parted SET payload = (SELECT payload FROM hooks WHERE id = 4) WHERE id = 1" -c "DELETE FROM parted WHERE id = 4" \
    -c "UPDATE stamped SET payload = (SELECT payload FROM hooks WHERE id = 2), updated_at = now() WHERE id = 1" \
    -c "UPDATE loose SET payload = payload || '{\"n\": 2}' WHERE payload ? 'net'" >/dev/null
for level in info debug; do
    t_run --config "$CONF4" --scan-once --log-level $level --output json
    check_clean "change detection at $level" "$T_DIR/out" "$T_DIR/err"
done
t_eq "$(t_val "SELECT string_agg(DISTINCT resolved_reason, ',' ORDER BY resolved_reason) FROM pii_audit.findings")" \
    "deleted,full_scan,gone" "findings were resolved gone, deleted and by a full read"
t_eq "$(t_val "SELECT count(DISTINCT table_name) FROM pii_audit.scan_run_surfaces WHERE rows_reread > 0")" "3" \
    "changed rows were read again (hooks, parted, stamped)"
for tbl in findings scan_runs scan_run_surfaces scan_cursors; do
    t_psql -c "COPY pii_audit.$tbl TO STDOUT" >"$T_DIR/shapes-$tbl.txt"
done
check_clean "findings store after change detection (watermarks, positions, ctid: and composite record ids)" \
    "$T_DIR"/shapes-*.txt
[ "$(t_val "SELECT count(*) FROM pii_audit.findings")" -ge 20 ] && ok "findings recorded" || not_ok "findings recorded: $(t_val "SELECT count(*) FROM pii_audit.findings")"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.hooks' AND json_path = '\$.recipients.<email>'")" "1" "a PII key is redacted as <email> in the path"
for tbl in findings scan_runs scan_run_surfaces scan_cursors databases; do
    t_psql -c "COPY pii_audit.$tbl TO STDOUT" >"$T_DIR/table-$tbl.txt"
done
t_psql -c "COPY (SELECT * FROM pii_audit.pii_audit_findings) TO STDOUT" >"$T_DIR/table-view.txt"
check_clean "findings store" "$T_DIR"/table-*.txt

# every findings CLI path on this store, at debug level (issue 15, Must show 5): list and show in the three outputs,
# ack, resolve, allow add (with --resolve), list and remove, report --html; no canary in any output, log or file
for out in text json csv; do
    t_run --config "$CONF" findings list --status all --limit 0 --output $out --log-level debug
    t_rc 0 "findings list ($out)"
    check_clean "findings list ($out)" "$T_DIR/out" "$T_DIR/err"
    t_run --config "$CONF" findings show "$(t_val "SELECT min(id) FROM pii_audit.findings")" --output $out --log-level debug
    t_rc 0 "findings show ($out)"
    check_clean "findings show ($out)" "$T_DIR/out" "$T_DIR/err"
done
ids=$(t_val "SELECT string_agg(id::text, ' ') FROM pii_audit.findings WHERE category IN ('email', 'phone') AND resolved_at IS NULL")
# shellcheck disable=SC2086
t_run --config "$CONF" findings ack $ids --reason "canary triage" --log-level debug
t_rc 0 "findings ack"
t_run --config "$CONF" findings resolve "$(t_val "SELECT min(id) FROM pii_audit.findings WHERE category = 'iban'")" \
    --reason "canary resolve" --log-level debug
t_rc 0 "findings resolve"
t_run --config "$CONF" allow add --surface hooks.payload --path '$.items[*].contact[*]' --reason "canary allow" --resolve \
    --log-level debug
t_rc 0 "allow add --resolve"
for out in text json csv; do
    t_run --config "$CONF" allow list --output $out --log-level debug
    t_rc 0 "allow list ($out)"
done
t_run --config "$CONF" report --html "$T_DIR/report.html" --log-level debug
t_rc 0 "report --html"
t_run --config "$CONF" --scan-once --full --log-level debug
t_rc 1 "a scan with the allowlist"
t_run --config "$CONF" allow remove "$(t_val "SELECT max(id) FROM pii_audit.allowlist")" --log-level debug
t_rc 0 "allow remove"
check_clean "every findings CLI path" "$T_DIR/all-out" "$T_DIR/all-err" "$T_DIR/report.html"
t_psql -c "COPY pii_audit.allowlist TO STDOUT" >"$T_DIR/table-allowlist.txt"
t_psql -c "COPY pii_audit.findings TO STDOUT" >"$T_DIR/table-findings.txt"
check_clean "findings store after the CLI" "$T_DIR/table-allowlist.txt" "$T_DIR/table-findings.txt"

# error paths at debug level: a real statement timeout (the table stays locked until the scan is over, however slow
# its start, e.g. under valgrind; the lock wait would be allowed) and a surface that does not exist
psql -X -q -d "$T_DB" -c "BEGIN; LOCK TABLE hooks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300); COMMIT;" >/dev/null 2>&1 &
locker=$!
sleep 0.5
CONF2=$(T_STMT_TIMEOUT=1s T_SCAN_EXTRA="  lock_timeout: 5m" t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}
  - {table: nope, column: body}' 'log:
  format: json')
cp "$CONF2" "$T_DIR/conf2.yaml"; CONF2=$T_DIR/conf2.yaml
t_run --config "$CONF2" --scan-once --full --log-level debug --output json
t_rc 3 "error-path scan exits 3"
t_eq "$(jq -r '.surfaces[0].error.reason' "$T_DIR/out")" "timeout" "the error path really was a statement timeout"
t_eq "$(jq -r 'select(.PRIORITY == "3") | .MESSAGE' "$T_DIR/err" | grep -c 'surface not scanned')" "2" \
    "the error path's failures are JSON log lines at priority 3 (timeout, missing)"
check_clean "timeout error path" "$T_DIR/out" "$T_DIR/err"
kill $locker 2>/dev/null; wait $locker 2>/dev/null
# the locker's backend outlives its psql: end it, or the next scan waits for its lock
t_val "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$T_DB'
         AND query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()" >/dev/null

# a surface that fails mid-scan: one row per batch, throttled, and its scan connection killed after the first
# batches (findings of the committed batches stay, the rest is connection_lost)
CONF3=$(T_BATCH=1 T_SCAN_EXTRA="  max_rows_per_second: 2" t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS")
"$PA_BIN" --config "$CONF3" --scan-once --full --log-level debug --output json >"$T_DIR/out" 2>"$T_DIR/err" &
scanner=$!
for _ in $(seq 1 1200); do # until two batches of hooks are committed (a slow start under valgrind too)
    [ "$(t_val "SELECT coalesce(max(rows_scanned), 0) FROM pii_audit.scan_run_surfaces
                 WHERE status = 'running' AND table_name = 'public.hooks'")" -ge 2 ] && break
    sleep 0.1
done
t_val "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$T_DB'
         AND application_name = 'pii-auditd'" >"$T_DIR/killed"
wait $scanner
T_RC=$?
cat "$T_DIR/out" >>"$T_DIR/all-out"; cat "$T_DIR/err" >>"$T_DIR/all-err"
t_rc 3 "a scan whose connection is killed mid-surface exits 3"
t_eq "$(jq -r '.surfaces[0].error.reason' "$T_DIR/out")" "connection_lost" "the mid-scan failure is connection_lost"
[ "$(jq -r '.surfaces[0].rows' "$T_DIR/out")" -ge 1 ] && ok "it failed after reading rows" || not_ok "it failed before reading rows"
check_clean "mid-scan failure" "$T_DIR/out" "$T_DIR/err"

# the journal: the same scan at debug level with logs to a stand-in journald socket (needs root and a free socket)
SOCK=/run/systemd/journal/socket
# the stand-in socket's path is fixed: take the lock tests/e2e/journald.sh takes, so two checkouts or the normal and
# the sanitizer suites (run at once by tests/run-all.sh) never bind it at the same time or see each other's socket
if [ "$(id -u)" = 0 ]; then
    mkdir -p /run/lock && exec 8>/run/lock/pii-auditd-journald-test.lock && flock -w 300 8
fi
if [ "$(id -u)" = 0 ] && [ ! -S "$SOCK" ]; then
    python3 "$PA_SOURCE_ROOT/tests/e2e/journal_listen.py" "$SOCK" "$T_DIR/journal.txt" &
    lpid=$!
    wait_for 5 test -S "$SOCK"
    : >"$T_DIR/jstderr"
    for c in "$CONF" "$CONF2"; do
        JOURNAL_STREAM="$(stat -c %d:%i "$T_DIR/jstderr")" "$PA_BIN" --config "$c" --scan-once --full             --log-level debug >/dev/null 2>>"$T_DIR/jstderr"
    done
    sleep 0.3
    kill $lpid; wait $lpid 2>/dev/null
    rm -f "$SOCK"; rmdir /run/systemd/journal /run/systemd 2>/dev/null
    exec 8>&-
    t_grep "^PRIORITY=7" "$T_DIR/journal.txt" "debug entries reached the journal"
    t_grep "^PRIORITY=3" "$T_DIR/journal.txt" "error entries reached the journal"
    check_clean "journal" "$T_DIR/journal.txt" "$T_DIR/jstderr"
else
    not_ok "journal channel not checked: needs root and no running journald (the CI has both)"
fi

# the server log of the test cluster: every statement the scans sent, their parameters and errors
if [ -f "$SERVER_LOG" ]; then
    tail -c +$((log_from + 1)) "$SERVER_LOG" >"$T_DIR/server-log.txt"
    t_grep "application_name|COPY \\(SELECT|statement: " "$T_DIR/server-log.txt" "the server logged the scans' statements"
    check_clean "PostgreSQL server log" "$T_DIR/server-log.txt"
else
    not_ok "no server log at $SERVER_LOG"
fi
t_psql -c "ALTER DATABASE $T_DB RESET log_statement" -c "ALTER DATABASE $T_DB RESET log_min_error_statement"
check_clean "all runs together" "$T_DIR/all-out" "$T_DIR/all-err"
t_done
