#!/usr/bin/env bash
# Canaries through the daemon's channels: /metrics, /healthz, /ready and the daemon's log at debug level across a
# scan at launch, a SIGUSR1 scan without cursors (full), a SIGUSR1 incremental scan that re-reads changed rows
# (change detection's pass by row location), a SIGUSR2 full scan, a reload refused for a bad file (YAML error) and one refused for a bad value;
# then the process's whole memory (/proc/PID/mem, every readable mapping) after a scan: no canary survives the
# scan (the row buffers are wiped, and every freed block is wiped). Last, core files: the process is not dumpable,
# so a SIGABRT with an unlimited core limit leaves no core (a control process in the same place does dump).
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/canaries.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
t_db
t_init_schema
canary_load
PORT=$D_PORT
CONF=$(T_SCAN_EXTRA="  interval: 1h
  initial_delay: 0s" t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS
metrics:
  listen: [\"127.0.0.1:$PORT\"]")
cp "$CONF" "$T_DIR/daemon.yaml"
CONF=$T_DIR/daemon.yaml
# AddressSanitizer builds have their own allocator (no wipefree.c): have it fill freed blocks with zeros
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_free_fill_size=2147483647:free_fill_byte=0"

"$PA_BIN" --config "$CONF" --log-level debug >"$T_DIR/daemon.out" 2>"$T_DIR/daemon.err" &
DPID=$!
D_PIDS+=($DPID)
scans_done() { d_metrics | awk '$1 == "pii_audit_scans_total" {n = $2} $1 == "pii_audit_scan_in_progress" {p = $2}
                              END {print (p == 0 ? n : -1)}'; }
scans_are() { [ "$(scans_done 2>/dev/null)" = "$1" ]; }
scans_are_or_dead() { d_dead || scans_are "$1"; }
wait_scans() { wait_for 120 scans_are_or_dead "$1" && ! d_died; } # n: until n scans are done and none runs

wait_scans 1 && ok "the scan at launch finished" || not_ok "the scan at launch did not finish"
d_metrics >"$T_DIR/metrics-1.txt"
t_grep '^pii_audit_findings\{.*category="email"' "$T_DIR/metrics-1.txt" "findings are in the metrics"

memcheck() { # label: the whole memory of the daemon holds no canary
    if python3 "$PA_SOURCE_ROOT/tests/lib/memgrep.py" "$DPID" "${CANARIES[@]}" >"$T_DIR/mem-$1.txt" 2>&1; then
        ok "$1: no canary anywhere in the daemon's memory ($(tail -1 "$T_DIR/mem-$1.txt" | cut -d' ' -f2) bytes searched)"
    else
        not_ok "$1: canaries in the daemon's memory: $(grep -c '^hit' "$T_DIR/mem-$1.txt") hits"
        grep '^hit' "$T_DIR/mem-$1.txt" | head -10
    fi
}
memcheck "after the scan at launch"

# a scan on SIGUSR1 that reads every row again (without cursors an incremental scan reads all)
t_psql -c "DELETE FROM pii_audit.scan_cursors" >/dev/null
kill -USR1 $DPID
wait_scans 2 && ok "SIGUSR1 scan finished" || not_ok "SIGUSR1 scan did not finish"
[ "$(t_val "SELECT rows_scanned FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" -ge 8 ] &&
    ok "the SIGUSR1 scan read every row" || not_ok "the SIGUSR1 scan did not read every row"
memcheck "after a full scan on SIGUSR1"

# change detection: rows changed (their canaries kept) are read again by the pass over the table by row location
t_psql -c "UPDATE hooks SET payload = payload || '{\"seen\": 2}' WHERE id IN (1, 2, 3)" >/dev/null
kill -USR1 $DPID
wait_scans 3 && ok "incremental SIGUSR1 scan finished" || not_ok "incremental SIGUSR1 scan did not finish"
t_eq "$(t_val "SELECT s.mode || ' ' || s.rows_reread FROM pii_audit.scan_run_surfaces s
               WHERE s.table_name = 'public.hooks' ORDER BY s.scan_id DESC LIMIT 1")" "incremental 3" \
    "the incremental scan read the 3 changed rows again"
memcheck "after an incremental scan that re-read changed rows"
kill -USR2 $DPID
wait_scans 4 && ok "SIGUSR2 full scan finished" || not_ok "SIGUSR2 scan did not finish"
t_eq "$(t_val "SELECT mode FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "full" "SIGUSR2 ran a full scan"
memcheck "after a full scan on SIGUSR2"

# reload errors: a YAML syntax error, then a bad value; the old configuration keeps running
cp "$CONF" "$T_DIR/good.yaml"
printf 'surfaces: [\n  - {table: hooks\n' >"$CONF"
kill -HUP $DPID
sleep 1
printf 'database:\n  conninfo: "host=%s port=%s dbname=%s password=ReloadS3cret"\nscan:\n  batch_size: -5\nsurfaces:\n  - {table: hooks, column: payload}\n' \
    "$PA_PGHOST" "$PA_PGPORT" "$T_DB" >"$CONF"
kill -HUP $DPID
sleep 1
t_grep "reload refused" "$T_DIR/daemon.err" "the bad reloads are refused"
t_eq "$(d_metrics | awk '$1 == "pii_audit_config_last_reload_successful" {print $2}')" "0" "reload failure is in the metrics"
t_nogrep "ReloadS3cret" "$T_DIR/daemon.err" "the password in a refused config is not logged"
cp "$T_DIR/good.yaml" "$CONF"
kill -HUP $DPID
sleep 1
kill -USR1 $DPID
wait_scans 5 && ok "scan after a good reload" || not_ok "no scan after the good reload"

for path in metrics healthz ready; do curl -s "http://127.0.0.1:$PORT/$path" >"$T_DIR/http-$path.txt"; done
d_metrics >"$T_DIR/metrics-2.txt"
check_clean "daemon channels" "$T_DIR/metrics-1.txt" "$T_DIR/metrics-2.txt" "$T_DIR"/http-*.txt "$T_DIR/daemon.out" \
    "$T_DIR/daemon.err"
t_grep "finding: record" "$T_DIR/daemon.err" "debug logging really was on"
memcheck "after reloads and a third scan"
kill -TERM $DPID
wait $DPID
t_eq "$?" "0" "the daemon stops cleanly on SIGTERM"

# core files: not dumpable -> no core even with an unlimited core limit; a control process in the same directory
# and limits dumps one (so the machine does write cores, and the test means something)
# (the binary itself, not through pa-bin.sh: under valgrind the core would be valgrind's own vgcore)
mkdir -p "$T_DIR/cores"
root_flag=(); [ "$(id -u)" = 0 ] && root_flag=(--allow-root)
python3 - "$T_DIR/cores" "$PORT" "$PA_REAL_BIN" "${root_flag[@]}" --config "$CONF" --log-level debug \
    >"$T_DIR/core.txt" 2>&1 <<'PY'
import os, resource, signal, subprocess, sys, time, urllib.request
where, port, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
def limits():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
def run(argv, ready):
    p = subprocess.Popen(argv, cwd=where, preexec_fn=limits, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        if ready():
            break
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGABRT)
    _, st = os.waitpid(p.pid, 0)
    return os.WCOREDUMP(st), sorted(os.listdir(where))
def up():
    try:
        return b"pii_audit_scans_total 1" in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read()
    except Exception:
        return False
dumped, files = run(["sleep", "30"], lambda: True)
print(f"control: core dumped={dumped} files={files}")
for f in files:
    os.unlink(os.path.join(where, f))
dumped, files = run(cmd, up)
print(f"pii-auditd: core dumped={dumped} files={files}")
PY
cat "$T_DIR/core.txt"
t_grep "^control: core dumped=True" "$T_DIR/core.txt" "control: this machine writes core files (core_pattern $(cat /proc/sys/kernel/core_pattern))"
t_grep "^pii-auditd: core dumped=False files=\[\]" "$T_DIR/core.txt" "pii-auditd after a scan + SIGABRT with RLIMIT_CORE=unlimited: no core"
t_done
