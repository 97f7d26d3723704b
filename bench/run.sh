#!/usr/bin/env bash
# pii-auditd throughput benchmark against the floor: reading the same rows with COPY.
# Starts a throwaway PostgreSQL 15 cluster in bench/out/pg (port 55499), loads ROWS rows with bench/gen.sql,
# VACUUM ANALYZE, then measures in the same run, median of 3 each (interleaved, after one untimed warm-up COPY):
#   COPY        psql: COPY (SELECT id, raw_payload FROM bench.attribution_events) TO STDOUT  > /dev/null
#   pii-auditd  --config bench/out/bench.yaml --scan-once --dry-run --full --output json  > /dev/null
# each under /usr/bin/time (wall seconds, peak RSS of the client process). Installs nothing; see bench/README.md.
#
# Environment: ROWS (default 100000), PA_BIN (default build/pii-auditd, relative to the repository root),
#              BENCH_REUSE=1 keeps already loaded data when it has ROWS rows (skips gen.sql and VACUUM).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ROWS=${ROWS:-100000}
PORT=55499
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
out=$here/out
pgdir=$out/pg
cfg=$out/bench.yaml
runs=3

die() { echo "bench: $*" >&2; exit 1; }

[[ $ROWS =~ ^[1-9][0-9]*$ ]] || die "ROWS must be a positive integer (got '$ROWS')"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
command -v psql >/dev/null || die "psql not found: apt-get install postgresql-15"
# shellcheck source=tests/lib/pg.sh
source "$root/tests/lib/pg.sh"
[ -x "$PA_PG_BIN/initdb" ] || die "$PA_PG_BIN/initdb not found: apt-get install postgresql-15"
[ -x "$PA_BIN" ] || die "pii-auditd binary not found at $PA_BIN (build it: meson setup build && ninja -C build; or set PA_BIN)"

mkdir -p "$out"
# A cluster left running by an interrupted run would make the start fail.
pa_pg_stop "$pgdir" immediate
pa_pg_start "$pgdir" "$PORT"
trap 'pa_pg_stop "$pgdir"' EXIT

loaded=0
if [ "${BENCH_REUSE:-0}" = 1 ]; then
    loaded=$(pa_psql -At -c "SELECT count(*) FROM bench.attribution_events" 2>/dev/null || echo 0)
fi
if [ "$loaded" = "$ROWS" ]; then
    echo "bench: reusing $ROWS loaded rows"
else
    echo "bench: loading $ROWS rows (bench/gen.sql)"
    t0=$(date +%s.%N)
    pa_psql -v rows="$ROWS" -v schema=bench -f "$here/gen.sql" >"$out/gen.log"
    t1=$(date +%s.%N)
    pa_psql -c "VACUUM ANALYZE bench.attribution_events" -c "CHECKPOINT"
    t2=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "bench: loaded in %.1f s, VACUUM ANALYZE %.1f s\n", b - a, c - b }'
fi

read -r nrows json_bytes < <(pa_psql -At -F ' ' -c \
    "SELECT count(*), sum(length(raw_payload::text)) FROM bench.attribution_events")
planted=$(pa_psql -At -c "SELECT count(*) FROM bench.truth")

cat >"$cfg" <<YAML
database:
  conninfo: "host=$pgdir port=$PORT dbname=postgres user=postgres"
scan:
  batch_size: 5000
surfaces:
  - table: bench.attribution_events
    column: raw_payload
YAML

# The findings schema, in case the scanner wants it even for a dry run (harmless otherwise).
if ! "$PA_BIN" --config "$cfg" --init-db >"$out/init-db.log" 2>&1; then
    echo "bench: warning: --init-db failed (see $out/init-db.log); measuring anyway" >&2
fi

# timed LABEL CMD...: run under /usr/bin/time, append "seconds rss_kb" to $out/LABEL.times.
# pii-auditd exits 1 when findings exist (expected here); anything else is a failure.
timed() {
    local label=$1 rc=0
    shift
    /usr/bin/time -o "$out/time.tmp" -f '%e %M' "$@" >/dev/null 2>"$out/$label.stderr" || rc=$?
    if [ "$rc" -gt 1 ] || { [ "$label" = copy ] && [ "$rc" -ne 0 ]; }; then
        echo "bench: $label failed with exit code $rc:" >&2
        tail -n 20 "$out/$label.stderr" >&2
        exit 1
    fi
    # GNU time writes "Command exited with non-zero status N" first when rc != 0: keep the last line.
    tail -n 1 "$out/time.tmp" >>"$out/$label.times"
}

copy_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$PORT" -U postgres -d postgres
          -c "COPY (SELECT id, raw_payload FROM bench.attribution_events) TO STDOUT")
pa_cmd=("$PA_BIN" --config "$cfg" --scan-once --dry-run --full --output json)
[ "$(id -u)" = 0 ] && pa_cmd+=(--allow-root) # scans refuse root without it

rm -f "$out/copy.times" "$out/pii-auditd.times"
echo "bench: warm-up COPY"
"${copy_cmd[@]}" >/dev/null
for i in $(seq 1 $runs); do
    echo "bench: run $i/$runs"
    timed copy "${copy_cmd[@]}"
    timed pii-auditd "${pa_cmd[@]}"
done

# median of column 1 (seconds) and of column 2 (peak RSS KB) over the runs
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
copy_s=$(cut -d' ' -f1 "$out/copy.times" | median)
copy_rss=$(cut -d' ' -f2 "$out/copy.times" | median)
pa_s=$(cut -d' ' -f1 "$out/pii-auditd.times" | median)
pa_rss=$(cut -d' ' -f2 "$out/pii-auditd.times" | median)

{
    echo
    echo "pii-auditd benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  $(psql --version | head -n 1)"
    echo "surface bench.attribution_events.raw_payload: $nrows rows, planted findings in truth: $planted"
    echo "samples (seconds peak_rss_kb):  COPY: $(tr '\n' ';' <"$out/copy.times")  pii-auditd: $(tr '\n' ';' <"$out/pii-auditd.times")"
    awk -v rows="$nrows" -v bytes="$json_bytes" -v cs="$copy_s" -v cr="$copy_rss" -v ps="$pa_s" -v pr="$pa_rss" 'BEGIN {
        mb = bytes / 1e6
        printf "%-12s %10s %10s %9s %11s %9s %12s\n", "reader", "rows", "JSON MB", "seconds", "rows/s", "MB/s", "peak RSS MB"
        printf "%-12s %10d %10.1f %9.2f %11.0f %9.1f %12.1f\n", "COPY (psql)", rows, mb, cs, rows / cs, mb / cs, cr / 1024
        printf "%-12s %10d %10.1f %9.2f %11.0f %9.1f %12.1f\n", "pii-auditd", rows, mb, ps, rows / ps, mb / ps, pr / 1024
        printf "ratio pii-auditd / COPY (wall time): %.2fx\n", ps / cs
    }'
    echo "(median of $runs; peak RSS is the client process: psql for COPY, pii-auditd for the scan)"
} | tee "$out/results.txt"
