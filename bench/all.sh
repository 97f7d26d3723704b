#!/usr/bin/env bash
# Every performance target of issue 5 in one run, as ratios against COPY of the same data (bench/README.md):
#   full      pii-auditd --scan-once --dry-run --full, one reader        vs COPY (SELECT id, raw_payload ...)
#   parallel  the same with scan.parallelism: 2                          vs the same COPY
#   memory    peak RSS of the one-reader scan of the table and of a table of a tenth of its rows
#   incr      incremental scan after 1% new rows                         vs a full scan that records findings
#   rate      scan.max_rows_per_second: 20000, achieved rows/s
#   in-db     the seed's top-level-key SQL (?|) and a jsonpath deep scan (like_regex): time, and recall of each and
#             of pii-auditd against the generator's ground truth (bench.truth), per record
# Starts its own throwaway PostgreSQL 15 cluster in bench/out/pg (BENCH_PORT, default 55499); loads ROWS rows with
# bench/gen.sql unless BENCH_REUSE=1 finds them loaded. COPY and the scans: median of RUNS (3) interleaved rounds,
# after one untimed warm-up COPY. Installs nothing.
#
# Environment: ROWS (default 100000), RUNS (3), PA_BIN (build/pii-auditd), BENCH_PORT (55499), BENCH_REUSE=1,
# BENCH_PGDIR (the cluster's directory, default bench/out/pg).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ROWS=${ROWS:-100000}
RUNS=${RUNS:-3}
PORT=${BENCH_PORT:-55499}
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
out=$here/out
pgdir=${BENCH_PGDIR:-$out/pg}

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[[ $ROWS =~ ^[1-9][0-9]*$ ]] && [ "$ROWS" -ge 1000 ] || die "ROWS must be an integer >= 1000 (got '$ROWS')"
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
command -v psql >/dev/null || die "psql not found: apt-get install postgresql-15"
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
    pa_psql -v rows="$ROWS" -v schema=bench -f "$here/gen.sql" >"$out/gen.log"
    pa_psql -c "VACUUM ANALYZE bench.attribution_events" -c "CHECKPOINT" >/dev/null
fi
tenth=$((ROWS / 10))
if [ "$(sql -c "SELECT count(*) FROM bench.tenth" 2>/dev/null || echo 0)" != "$tenth" ]; then
    sql -c "DROP TABLE IF EXISTS bench.tenth" \
        -c "CREATE TABLE bench.tenth AS SELECT * FROM bench.attribution_events WHERE id <= $tenth" \
        -c "ALTER TABLE bench.tenth ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE bench.tenth" >/dev/null
fi
read -r nrows json_bytes < <(sql -c "SELECT count(*), sum(length(raw_payload::text)) FROM bench.attribution_events")
maxid=$(sql -c "SELECT max(id) FROM bench.attribution_events")

# config NAME TABLE [scan lines...]
config() {
    local name=$1 table=$2
    shift 2
    {
        echo "database:"
        echo "  conninfo: \"host=$pgdir port=$PORT dbname=postgres user=postgres\""
        echo "scan:"
        echo "  batch_size: 5000"
        for l in "$@"; do echo "  $l"; done
        echo "surfaces:"
        echo "  - {table: bench.$table, column: raw_payload}"
    } >"$out/$name.yaml"
}
config p1 attribution_events
config p2 attribution_events "parallelism: 2"
config tenth tenth
# the rate run lasts ROWS / 20000 s on the whole table; on a tenth of it above 200k rows
rate_table=attribution_events
[ "$ROWS" -gt 200000 ] && rate_table=tenth
config rate "$rate_table" "max_rows_per_second: 20000"
"$PA_BIN" --config "$out/p1.yaml" --init-db >"$out/init-db.log" 2>&1 || die "--init-db failed (see $out/init-db.log)"

# busy jiffies of the whole machine (user nice system irq softirq steal; not idle, iowait)
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
hz=$(getconf CLK_TCK)
# timed LABEL CMD...: wall seconds, peak RSS (KB) and the machine's busy core-seconds over the run (every process:
# the server's backends too) appended to $out/LABEL.times; pii-auditd exits 1 on findings
timed() {
    local label=$1 rc=0 b0 b1
    shift
    b0=$(cpu_busy)
    /usr/bin/time -o "$out/time.tmp" -f '%e %M' "$@" >"$out/$label.stdout" 2>"$out/$label.stderr" || rc=$?
    b1=$(cpu_busy)
    if [ "$rc" -gt 1 ] || { [[ $label == copy* || $label == sql* ]] && [ "$rc" -ne 0 ]; }; then
        tail -n 20 "$out/$label.stderr" >&2
        die "$label failed with exit code $rc"
    fi
    echo "$(tail -n 1 "$out/time.tmp") $(awk -v d=$((b1 - b0)) -v hz="$hz" 'BEGIN { printf "%.1f", d / hz }')" >>"$out/$label.times"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
med() { cut -d' ' -f"${2:-1}" "$out/$1.times" | median; }
psql_c=(psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$PORT" -U postgres -d postgres)
copy_cmd=("${psql_c[@]}" -c "COPY (SELECT id, raw_payload FROM bench.attribution_events) TO STDOUT")
# The floor of parallelism 2: two COPYs of the two halves of the id range (split as the scan splits integer ids), at
# the same time, with no detection at all. What it leaves of the machine is all two readers can use.
minid=$(sql -c "SELECT min(id) FROM bench.attribution_events")
midid=$((minid + (maxid - minid + 1) / 2))
printf -v psql_q '%q ' "${psql_c[@]}"
copy2_cmd=(bash -c "$psql_q -c 'COPY (SELECT id, raw_payload FROM bench.attribution_events WHERE id < $midid) TO STDOUT' >/dev/null & p=\$!
    $psql_q -c 'COPY (SELECT id, raw_payload FROM bench.attribution_events WHERE id >= $midid) TO STDOUT' >/dev/null || exit 1
    wait \$p")
ROOTFLAG=()
[ "$(id -u)" = 0 ] && ROOTFLAG=(--allow-root) # scans refuse root without it
scan() { local c=$1; shift; timed "$c${LABEL_SUFFIX:-}" "$PA_BIN" --config "$out/$c.yaml" --scan-once --output json "${ROOTFLAG[@]}" "$@"; }

rm -f "$out"/*.times
say "warm-up COPY"
"${copy_cmd[@]}" >/dev/null
for i in $(seq 1 "$RUNS"); do
    say "round $i/$RUNS: COPY, one reader, two readers, two half COPYs at once, a tenth"
    timed copy "${copy_cmd[@]}"
    scan p1 --dry-run --full
    scan p2 --dry-run --full
    timed copy2 "${copy2_cmd[@]}"
    scan tenth --dry-run --full
done

say "full scan recording findings, then incremental after 1% new rows"
sql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs" >/dev/null
LABEL_SUFFIX=-store scan p1 --full
mv "$out/p1-store.times" "$out/store.times"; mv "$out/p1-store.stdout" "$out/store.stdout"
new=$((ROWS / 100))
sql -c "INSERT INTO bench.attribution_events SELECT id + $maxid, raw_payload FROM bench.attribution_events WHERE id <= $new" \
    -c "VACUUM ANALYZE bench.attribution_events" >/dev/null
for i in $(seq 1 "$RUNS"); do
    sql -c "UPDATE pii_audit.scan_cursors SET last_id = '$maxid'" >/dev/null
    LABEL_SUFFIX=-incr scan p1
    [ "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring)' "$out/p1-incr.stdout")" = "incremental $new" ] ||
        die "the incremental run did not read exactly the $new new rows: $(cat "$out/p1-incr.stdout")"
done
sql -c "DELETE FROM bench.attribution_events WHERE id > $maxid" -c "DELETE FROM pii_audit.findings WHERE record_id::bigint > $maxid" \
    -c "VACUUM ANALYZE bench.attribution_events" >/dev/null

say "max_rows_per_second: 20000 on bench.$rate_table"
scan rate --dry-run --full
read -r rate_rows rate_secs < <(jq -r '.surfaces[0] | "\(.rows) \(.duration_seconds)"' "$out/rate.stdout")

say "in-database alternatives"
keys="'email','email_address','phone','phone_number','ssn','social_security_number','first_name','last_name','full_name','ip_address','ip','address','street_address'"
# keys of the seed's blocklist at any depth, and value patterns: email, US SSN, 13-19 digit card, IPv4, phone
jp='lax $.** ? (@.type() == "object").keyvalue() ? (@.key like_regex "^(email|email_address|phone|phone_number|ssn|social_security_number|first_name|last_name|full_name|ip_address|ip|address|street_address)$" flag "i")'
jv='lax $.** ? (@.type() == "string" && (@ like_regex "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}" || @ like_regex "^[0-9]{3}-[0-9]{2}-[0-9]{4}$" || @ like_regex "^[0-9][0-9 -]{11,21}[0-9]$" || @ like_regex "^([0-9]{1,3}\\.){3}[0-9]{1,3}$" || @ like_regex "^\\+?[0-9][0-9 ().-]{8,18}[0-9]$"))'
sql -c "DROP TABLE IF EXISTS bench.found_seed, bench.found_jsonpath" >/dev/null
timed sql_seed "${psql_c[@]}" -c "CREATE TABLE bench.found_seed AS SELECT id FROM bench.attribution_events WHERE raw_payload ?| array[$keys]"
timed sql_jsonpath "${psql_c[@]}" -c "CREATE TABLE bench.found_jsonpath AS SELECT id FROM bench.attribution_events
    WHERE jsonb_path_exists(raw_payload, '$jp') OR jsonb_path_exists(raw_payload, '$jv')"
recall() { # table-of-ids -> "found true_rows recall% false_rows missed_by_pii_auditd"
    sql -c "WITH t AS (SELECT DISTINCT id FROM bench.truth), f AS (SELECT DISTINCT id FROM $1),
                 p AS (SELECT DISTINCT record_id::bigint AS id FROM pii_audit.findings WHERE resolved_at IS NULL)
            SELECT (SELECT count(*) FROM f), (SELECT count(*) FROM f JOIN t USING (id)),
                   round(100.0 * (SELECT count(*) FROM f JOIN t USING (id)) / (SELECT count(*) FROM t), 1),
                   (SELECT count(*) FROM f WHERE id NOT IN (SELECT id FROM t)),
                   (SELECT count(*) FROM f JOIN t USING (id) WHERE id NOT IN (SELECT id FROM p))"
}
sql -c "CREATE OR REPLACE VIEW bench.found_pa AS SELECT DISTINCT record_id::bigint AS id FROM pii_audit.findings WHERE resolved_at IS NULL" >/dev/null
read -r pa_f pa_t pa_r pa_fp _ < <(recall bench.found_pa)
read -r seed_f seed_t seed_r seed_fp seed_miss < <(recall bench.found_seed)
read -r jp_f jp_t jp_r jp_fp jp_miss < <(recall bench.found_jsonpath)
read -r truth_rows truth_findings < <(sql -c "SELECT count(DISTINCT id), count(*) FROM bench.truth")
read -r f_tp f_miss f_fp < <(sql -c "WITH f AS (SELECT record_id::bigint AS id, json_path, category FROM pii_audit.findings
      WHERE resolved_at IS NULL) SELECT count(*) FILTER (WHERE t.id IS NOT NULL AND f.id IS NOT NULL),
      count(*) FILTER (WHERE f.id IS NULL), count(*) FILTER (WHERE t.id IS NULL)
      FROM bench.truth t FULL JOIN f USING (id, json_path, category)")
load_end=$(uptime)

{
    echo
    echo "pii-auditd bench/all.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) cores  $(psql --version | head -n 1)"
    echo "load at start: $load_start"
    echo "load at end:   $load_end"
    echo "bench.attribution_events: $nrows rows, $(awk -v b="$json_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of JSON text; truth: $truth_rows rows, $truth_findings findings"
    for l in copy p1 p2 copy2 tenth store p1-incr; do echo "samples $l (s KB core-s): $(tr '\n' ';' <"$out/$l.times")"; done
    cs=$(med copy)
    awk -v cs="$cs" -v p1="$(med p1)" -v p2="$(med p2)" -v c2="$(med copy2)" -v r1="$(med p1 2)" -v rt="$(med tenth 2)" -v st="$(med store)" \
        -v ccpu="$(med copy 3)" -v p1cpu="$(med p1 3)" -v p2cpu="$(med p2 3)" -v c2cpu="$(med copy2 3)" -v ncpu="$(nproc)" \
        -v inc="$(med p1-incr)" -v rr="$rate_rows" -v rs="$rate_secs" -v rows="$nrows" -v tenth="$tenth" 'BEGIN {
        printf "%-44s %10s %9s %s\n", "measure", "value", "ratio", "target"
        printf "%-44s %9.2fs %9s\n", "COPY (psql), median", cs, ""
        printf "%-44s %9.2fs %8.2fx %s\n", "one reader, dry-run full scan", p1, p1 / cs, "<= 1.10x COPY"
        printf "%-44s %9.2fs %8.2fx %s\n", "parallelism 2, dry-run full scan", p2, p2 / cs, "<= 0.65x COPY"
        printf "%-44s %9.2fs %8.2fx %s\n", "two half COPYs at once (floor of the above)", c2, c2 / cs, "(no detection)"
        printf "%-44s %4.1f %4.1f %4.1f %4.1f of %d cores x wall\n", "machine busy core-s: COPY p1 p2 2xCOPY", ccpu, p1cpu, p2cpu, c2cpu, ncpu
        printf "%-44s %8.1fMB %9s %s\n", "peak RSS, " rows " rows", r1 / 1024, "", "<= 64 MB"
        printf "%-44s %8.1fMB %+7.1f%% %s\n", "peak RSS, " tenth " rows", rt / 1024, 100 * (r1 - rt) / rt, "within 10%"
        printf "%-44s %9.2fs %9s\n", "full scan recording findings (once)", st, ""
        printf "%-44s %9.2fs %7.1f%% %s\n", "incremental after 1% new rows", inc, 100 * inc / st, "<= 3% of full"
        printf "%-44s %8.0f/s %+7.1f%% %s\n", "max_rows_per_second 20000: " rr " rows in " rs "s", rr / rs, 100 * (rr / rs - 20000) / 20000, "within 10%"
    }'
    printf "%-28s %9s %8s %12s %8s %11s %s\n" "reader" "seconds" "rows" "true rows" "recall" "false rows" "true rows pii-auditd missed"
    printf "%-28s %9s %8s %12s %7s%% %11s %s\n" "pii-auditd (full, store)" "$(med store)" "$pa_f" "$pa_t" "$pa_r" "$pa_fp" "-"
    printf "%-28s %9s %8s %12s %7s%% %11s %s\n" "seed SQL (?| top-level keys)" "$(med sql_seed)" "$seed_f" "$seed_t" "$seed_r" "$seed_fp" "$seed_miss"
    printf "%-28s %9s %8s %12s %7s%% %11s %s\n" "jsonpath deep scan" "$(med sql_jsonpath)" "$jp_f" "$jp_t" "$jp_r" "$jp_fp" "$jp_miss"
    echo "pii-auditd per finding (id, path, category) vs truth: $f_tp found, $f_miss missed, $f_fp not in truth"
    echo "(medians of $RUNS; the store, rate and in-database runs once; ratios are wall time)"
} | tee "$out/all.txt"
