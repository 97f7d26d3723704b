#!/usr/bin/env bash
# /metrics latency under a steady scrape load, while a throttled scan runs and while the daemon is idle.
# Same throwaway PostgreSQL 15 cluster as bench/run.sh (bench/out/pg, port 55499, tests/lib/pg.sh); loads ROWS rows
# with bench/gen.sql unless BENCH_REUSE=1 finds them already loaded. Then starts pii-auditd as a daemon
# (scan.initial_delay 1h, so nothing runs until asked; scan.max_rows_per_second MAX_RPS so a scan lasts long
# enough) and drives GET /metrics with wrk at ~RATE requests/s (2 connections, 1 thread, a Lua delay() per
# request; wrk has no fixed-rate option) for DURATION seconds with --latency:
#   1. idle: no scan has started yet
#   2. scan: after SIGUSR1, once pii_audit_scan_in_progress is 1; it must still be 1 when wrk ends
# Prints a table (achieved requests/s, p50/p90/p99/max latency, errors, rows read per second by the scan during
# the load) and writes it to bench/out/metrics_load.txt; wrk's own output is kept in bench/out/wrk-*.txt.
# Stops the daemon (SIGTERM) and the cluster on exit. Installs nothing; see bench/README.md.
#
# Environment: ROWS (default 100000), PA_BIN (default build/pii-auditd), BENCH_REUSE=1, METRICS_PORT (default the
#              first free port from 10187), MAX_RPS (default 4000 rows/s: 25 s for 100k rows), RATE (default 200
#              requests/s, split over the 2 connections), DURATION (default 15 s).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ROWS=${ROWS:-100000}
PORT=55499
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
MAX_RPS=${MAX_RPS:-4000}
RATE=${RATE:-200}
DURATION=${DURATION:-15}
CONNS=2
out=$here/out
pgdir=$out/pg
cfg=$out/metrics_load.yaml
daemon_pid=

die() { echo "metrics_load: $*" >&2; exit 1; }
log() { echo "metrics_load: $*" >&2; }

[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer (got '$ROWS')"
[[ $MAX_RPS =~ ^[1-9][0-9]*$ ]] || die "MAX_RPS must be a positive integer (got '$MAX_RPS')"
[[ $RATE =~ ^[1-9][0-9]*$ ]] || die "RATE must be a positive integer (got '$RATE')"
[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive integer (got '$DURATION')"
command -v psql >/dev/null || die "psql not found: apt-get install postgresql-15"
command -v wrk >/dev/null || die "wrk not found: apt-get install wrk"
command -v curl >/dev/null || die "curl not found: apt-get install curl"
# shellcheck source=tests/lib/pg.sh
source "$root/tests/lib/pg.sh"
[ -x "$PA_PG_BIN/initdb" ] || die "$PA_PG_BIN/initdb not found: apt-get install postgresql-15"
[ -x "$PA_BIN" ] || die "pii-auditd binary not found at $PA_BIN (build it: meson setup build && ninja -C build; or set PA_BIN)"

# shellcheck source=tests/lib/wait.sh
source "$root/tests/lib/wait.sh"
if [ -z "${METRICS_PORT:-}" ]; then
    METRICS_PORT=$(pa_free_port 10187 10287 2>/dev/null) || die "no free port in 10187..10287 (set METRICS_PORT)"
fi
url=http://127.0.0.1:$METRICS_PORT/metrics

cleanup() {
    if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    pa_pg_stop "$pgdir"
}

mkdir -p "$out"
# A cluster left running by an interrupted run would make the start fail.
pa_pg_stop "$pgdir" immediate
pa_pg_start "$pgdir" "$PORT"
trap cleanup EXIT

loaded=0
if [ "${BENCH_REUSE:-0}" = 1 ]; then
    loaded=$(pa_psql -At -c "SELECT count(*) FROM bench.attribution_events" 2>/dev/null || echo 0)
fi
if [ "$loaded" = "$ROWS" ]; then
    log "reusing $ROWS loaded rows"
else
    log "loading $ROWS rows (bench/gen.sql)"
    pa_psql -v rows="$ROWS" -v schema=bench -f "$here/gen.sql" >"$out/gen.log"
    pa_psql -c "VACUUM ANALYZE bench.attribution_events" -c "CHECKPOINT"
fi
nrows=$(pa_psql -At -c "SELECT count(*) FROM bench.attribution_events")

cat >"$cfg" <<YAML
database:
  conninfo: "host=$pgdir port=$PORT dbname=postgres user=postgres"
scan:
  batch_size: 5000
  max_rows_per_second: $MAX_RPS
  interval: 1h
  initial_delay: 1h
metrics:
  listen: ["127.0.0.1:$METRICS_PORT"]
surfaces:
  - table: bench.attribution_events
    column: raw_payload
YAML
"$PA_BIN" --config "$cfg" --check-config >"$out/metrics_load-check.log" 2>&1 ||
    { cat "$out/metrics_load-check.log" >&2; die "--check-config failed"; }
# The daemon records findings (no --dry-run in daemon mode): it needs the findings schema.
"$PA_BIN" --config "$cfg" --init-db >"$out/init-db.log" 2>&1 ||
    { cat "$out/init-db.log" >&2; die "--init-db failed"; }

# wrk paces each connection with delay() (ms before each request): CONNS connections at RATE/CONNS each.
# done() prints exact figures (latency in microseconds) on one line for the table.
delay_ms=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN { printf "%.3f", 1000 * c / r }')
lua=$out/metrics_load.lua
cat >"$lua" <<LUA
function delay()
    return $delay_ms
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKSTATS requests=%d duration_us=%d p50=%d p90=%d p99=%d max=%d mean=%.1f " ..
                           "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean,
        e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

metric() {   # metric NAME: value of an unlabelled or single-series metric, empty if absent
    # awk reads to the end: exiting early would make curl fail writing (exit 23) and pipefail stop the script
    curl -fsS --max-time 5 "$url" | awk -v n="$1" '!found && ($1 == n || index($1, n "{") == 1) { v = $2; found = 1 }
                                                   END { if (found) print v }'
}

log "starting the daemon (metrics on 127.0.0.1:$METRICS_PORT, max_rows_per_second $MAX_RPS)"
allow_root=(); [ "$(id -u)" = 0 ] && allow_root=(--allow-root) # the daemon refuses root without it
"$PA_BIN" --config "$cfg" --log-level info "${allow_root[@]}" >"$out/metrics_load-daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
    curl -fsS --max-time 1 -o /dev/null "$url" 2>/dev/null && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$out/metrics_load-daemon.log" >&2; die "the daemon exited"; }
    sleep 0.1
done
curl -fsS --max-time 1 -o /dev/null "$url" || die "no answer on $url"
metrics_bytes=$(curl -fsS "$url" | wc -c)

results=()
last_in_progress=
# run_load LABEL: wrk for DURATION s; appends a table row to results, sets last_in_progress
run_load() {
    local label=$1 wout=$out/wrk-$1.txt rows0 rows1 t0 t1 in_prog
    rows0=$(metric pii_audit_rows_scanned_total); rows0=${rows0:-0}
    t0=$(date +%s.%N)
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$lua" "$url" >"$wout" 2>&1 ||
        { cat "$wout" >&2; die "wrk failed"; }
    t1=$(date +%s.%N)
    rows1=$(metric pii_audit_rows_scanned_total); rows1=${rows1:-0}
    in_prog=$(metric pii_audit_scan_in_progress)
    local rps stats
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$wout")
    stats=$(grep '^WRKSTATS' "$wout") || die "no WRKSTATS line in $wout"
    grep -E '^ +(Non-2xx|Socket errors)' "$wout" >&2 || true
    results+=("$(awk -v label="$label" -v rps="$rps" -v s="$stats" -v r0="$rows0" -v r1="$rows1" \
                     -v t0="$t0" -v t1="$t1" -v ip="$in_prog" 'BEGIN {
        n = split(s, kv, " ")
        for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
        err = v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"]
        printf "%-6s %9d %9.1f %9.3f %9.3f %9.3f %9.3f %7d %12.0f %12s\n", label, v["requests"], rps,
               v["p50"] / 1000, v["p90"] / 1000, v["p99"] / 1000, v["max"] / 1000, err,
               (r1 - r0) / (t1 - t0), ip }')")
    last_in_progress=$in_prog
}

log "load 1/2: idle daemon, ${DURATION}s at ~$RATE req/s"
[ "$(metric pii_audit_scan_in_progress)" = 0 ] || die "a scan is already running before SIGUSR1"
run_load idle

log "load 2/2: SIGUSR1, then ${DURATION}s at ~$RATE req/s during the scan"
kill -USR1 "$daemon_pid"
started=0
for _ in $(seq 1 100); do
    if [ "$(metric pii_audit_scan_in_progress)" = 1 ]; then started=1; break; fi
    sleep 0.1
done
[ "$started" = 1 ] || die "pii_audit_scan_in_progress did not become 1 within 10 s of SIGUSR1"
log "pii_audit_scan_in_progress 1"
run_load scan
still=$last_in_progress
[ "$still" = 1 ] || log "WARNING: the scan was no longer in progress when wrk ended (pii_audit_scan_in_progress $still)"
[ "$still" = 1 ] && log "pii_audit_scan_in_progress still 1 at the end of the load"

log "stopping the daemon (SIGTERM)"
kill -TERM "$daemon_pid"
t0=$(date +%s.%N)
rc=0
wait "$daemon_pid" || rc=$?
t1=$(date +%s.%N)
daemon_pid=
stop_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

{
    echo
    echo "pii-auditd /metrics under load  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"
    echo "surface bench.attribution_events.raw_payload: $nrows rows; scan.max_rows_per_second $MAX_RPS, batch_size 5000"
    echo "wrk -t1 -c$CONNS -d${DURATION}s --latency, Lua delay() ${delay_ms} ms per request (target ~$RATE req/s)," \
         "GET $url ($metrics_bytes bytes)"
    printf "%-6s %9s %9s %9s %9s %9s %9s %7s %12s %12s\n" "load" "requests" "req/s" "p50 ms" "p90 ms" "p99 ms" \
        "max ms" "errors" "scan rows/s" "in_progress"
    printf '%s\n' "${results[@]}"
    echo "(scan rows/s: pii_audit_rows_scanned_total delta over the wrk run; in_progress: pii_audit_scan_in_progress" \
         "right after wrk ended)"
    echo "daemon stopped by SIGTERM in $stop_s s, exit code $rc"
} | tee "$out/metrics_load.txt"
[ "$still" = 1 ] || exit 1
