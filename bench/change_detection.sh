#!/usr/bin/env bash
# The cost of change detection (issue 14): an incremental scan after 1% of the rows were changed, as a ratio to a
# full scan of the same table in the same run. Target: <= 5%.
#
#   ROWS=1000000 RUNS=3 bash bench/change_detection.sh
#
# Starts its own throwaway PostgreSQL 15 cluster in bench/out/pg-changes (BENCH_PORT, default 55498) and loads ROWS
# rows with bench/gen.sql (the same data as bench/all.sh: ~2.8 KB webhook payloads, 1% with PII) unless BENCH_REUSE=1
# finds them loaded. Then RUNS rounds of
#   full   pii-auditd --scan-once --full (recording findings: the incremental scan is compared with a real one)
#   touch  UPDATE of 1% of the rows, spread over the whole table (id % 100 = round: 10,000 of 1M), each row's
#          document changed (a key added), committed; then the table is left as the application would leave it
#   incr   pii-auditd --scan-once: it must read exactly those rows (rows_reread) and nothing else
#   pass   the pass over the table alone, as SQL: count(*) of the rows whose xmin is in the scan's window, one
#          statement without parallel workers (what change detection reads of every row; no document is touched)
#   new    1% new rows appended (ids past the last; issue 5's incremental case), an incremental scan, which must
#          read exactly them (by the tail, none read again); then they are deleted again
# each timed with /usr/bin/time (wall seconds). Prints the samples, the median ratio incr / full and its spread
# (min and max over the rounds), and writes them to bench/out/change_detection.txt. Installs nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
PORT=${BENCH_PORT:-55498}
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
out=$here/out
pgdir=${BENCH_PGDIR:-$out/pg-changes}

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[[ $ROWS =~ ^[1-9][0-9]*$ ]] && [ "$ROWS" -ge 10000 ] || die "ROWS must be an integer >= 10000 (got '$ROWS')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] && [ "$RUNS" -le 99 ] || die "RUNS must be an integer from 1 to 99 (got '$RUNS')"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
command -v jq >/dev/null || die "jq not found: apt-get install jq"
# shellcheck source=tests/lib/pg.sh
source "$root/tests/lib/pg.sh"
[ -x "$PA_PG_BIN/initdb" ] || die "$PA_PG_BIN/initdb not found: apt-get install postgresql-15"
[ -x "$PA_BIN" ] || die "pii-auditd binary not found at $PA_BIN (meson setup build && ninja -C build; or set PA_BIN)"

mkdir -p "$out"
pa_pg_stop "$pgdir" immediate
pa_pg_start "$pgdir" "$PORT"
trap 'pa_pg_stop "$pgdir"' EXIT
sql() { pa_psql -At -F ' ' "$@"; }

load_start=$(uptime)
loaded=0
if [ "${BENCH_REUSE:-0}" = 1 ]; then
    loaded=$(sql -c "SELECT count(*) FROM bench.attribution_events" 2>/dev/null || echo 0)
fi
if [ "$loaded" != "$ROWS" ]; then
    say "loading $ROWS rows (bench/gen.sql)"
    pa_psql -v rows="$ROWS" -v schema=bench -f "$here/gen.sql" >"$out/gen-changes.log"
    pa_psql -c "VACUUM ANALYZE bench.attribution_events" -c "CHECKPOINT" >/dev/null
fi
read -r nrows table_mb < <(sql -c "SELECT count(*), round(pg_total_relation_size('bench.attribution_events') / 1e6)
                                     FROM bench.attribution_events")
conf=$out/changes.yaml
cat >"$conf" <<YAML
database:
  conninfo: "host=$pgdir port=$PORT dbname=postgres user=postgres"
scan:
  batch_size: 5000
surfaces:
  - {table: bench.attribution_events, column: raw_payload}
YAML
ROOTFLAG=()
[ "$(id -u)" = 0 ] && ROOTFLAG=(--allow-root) # scans refuse root without it
"$PA_BIN" --config "$conf" --init-db >"$out/changes-init-db.log" 2>&1 || die "--init-db failed (see $out/changes-init-db.log)"
sql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs" >/dev/null

# timed LABEL CMD...: wall seconds appended to $out/changes-LABEL.times; pii-auditd exits 1 on findings
timed() {
    local label=$1 rc=0
    shift
    /usr/bin/time -o "$out/time.tmp" -f '%e' "$@" >"$out/changes-$label.stdout" 2>"$out/changes-$label.stderr" || rc=$?
    if [ "$rc" -gt 1 ]; then
        tail -n 20 "$out/changes-$label.stderr" >&2
        die "$label failed with exit code $rc"
    fi
    tail -n 1 "$out/time.tmp" >>"$out/changes-$label.times"
}
scan() { local l=$1; shift; timed "$l" "$PA_BIN" --config "$conf" --scan-once --output json "${ROOTFLAG[@]}" "$@"; }

rm -f "$out"/changes-*.times "$out"/changes-*.samples
say "first scan (untimed: it creates the cursor and the findings)"
"$PA_BIN" --config "$conf" --scan-once --output json "${ROOTFLAG[@]}" >/dev/null 2>&1 || [ $? -eq 1 ] || die "first scan failed"
touched=$((nrows / 100))
for i in $(seq 1 "$RUNS"); do
    say "round $i/$RUNS: full scan, UPDATE of $touched spread rows, incremental scan, the pass alone"
    scan full --full
    sql -c "UPDATE bench.attribution_events SET raw_payload = raw_payload || jsonb_build_object('touched', $i)
            WHERE id % 100 = $i" >/dev/null
    changed=$(sql -c "SELECT count(*) FROM bench.attribution_events WHERE id % 100 = $i")
    wm=$(sql -c "SELECT watermark FROM pii_audit.scan_cursors")
    scan incr
    got=$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.surfaces[0].rows_reread|tostring)' "$out/changes-incr.stdout")
    [ "$got" = "incremental $changed $changed" ] || die "the incremental scan did not read exactly the $changed changed rows: $got"
    # the pass alone: the rows in the incremental scan's window, by the same predicate, no document read
    # (the same predicate as pa_catalog_xid_window, one statement, as the scan's pass would be with one chunk)
    timed pass psql -X -q -At -v ON_ERROR_STOP=1 -h "$pgdir" -p "$PORT" -U postgres -d postgres \
        -c "SET max_parallel_workers_per_gather = 0" -c "SELECT count(*) FROM bench.attribution_events t
        WHERE (age(t.xmin)::bigint + 4294967296) % 4294967296
              BETWEEN 1 AND (age('$((wm % 4294967296))'::xid)::bigint + 4294967296) % 4294967296"
    f=$(tail -n 1 "$out/changes-full.times") n=$(tail -n 1 "$out/changes-incr.times")
    awk -v f="$f" -v n="$n" 'BEGIN { printf "%.4f\n", n / f }' >>"$out/changes-ratio.samples"
    maxid=$(sql -c "SELECT max(id) FROM bench.attribution_events")
    sql -c "INSERT INTO bench.attribution_events SELECT id + $maxid, raw_payload FROM bench.attribution_events
            WHERE id <= $touched" >/dev/null
    scan new
    got=$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.surfaces[0].rows_reread|tostring)' "$out/changes-new.stdout")
    [ "$got" = "incremental $touched 0" ] || die "the incremental scan did not read exactly the $touched new rows: $got"
    sql -c "DELETE FROM bench.attribution_events WHERE id > $maxid" >/dev/null
    awk -v f="$f" -v n="$(tail -n 1 "$out/changes-new.times")" 'BEGIN { printf "%.4f\n", n / f }' >>"$out/changes-new-ratio.samples"
done
load_end=$(uptime)

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
{
    echo
    echo "pii-auditd bench/change_detection.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  $(psql --version | head -n 1)"
    echo "load at start: $load_start"
    echo "load at end:   $load_end"
    echo "bench.attribution_events: $nrows rows, $table_mb MB (table, TOAST and index); $touched rows changed per round"
    for l in full incr pass new; do echo "samples $l (s): $(tr '\n' ' ' <"$out/changes-$l.times")"; done
    echo "samples incr/full: $(tr '\n' ' ' <"$out/changes-ratio.samples")"
    echo "samples new/full: $(tr '\n' ' ' <"$out/changes-new-ratio.samples")"
    awk -v f="$(median <"$out/changes-full.times")" -v n="$(median <"$out/changes-incr.times")" \
        -v p="$(median <"$out/changes-pass.times")" -v r="$(median <"$out/changes-ratio.samples")" \
        -v lo="$(sort -g "$out/changes-ratio.samples" | head -n 1)" -v hi="$(sort -g "$out/changes-ratio.samples" | tail -n 1)" \
        -v nw="$(median <"$out/changes-new.times")" -v nr="$(median <"$out/changes-new-ratio.samples")" \
        -v nlo="$(sort -g "$out/changes-new-ratio.samples" | head -n 1)" -v nhi="$(sort -g "$out/changes-new-ratio.samples" | tail -n 1)" 'BEGIN {
        printf "%-52s %9.2fs\n", "full scan (recording findings), median", f
        printf "%-52s %9.2fs\n", "incremental scan after 1% changed, median", n
        printf "%-52s %9.2fs\n", "the pass over the table alone (SQL), median", p
        printf "%-52s %8.1f%%  (spread %.1f%% .. %.1f%%; target <= 5%%)\n", "incremental / full", 100 * r, 100 * lo, 100 * hi
        printf "%-52s %9.2fs\n", "incremental scan after 1% new rows, median", nw
        printf "%-52s %8.1f%%  (spread %.1f%% .. %.1f%%)\n", "that / full", 100 * nr, 100 * nlo, 100 * nhi
    }'
} | tee -a "$out/change_detection.txt"
