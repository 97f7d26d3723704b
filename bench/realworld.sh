#!/usr/bin/env bash
# realworld: scans hand-judged real-world sets (tests/data/realworld/<set>/: docs.jsonl + truth.jsonl) with default
# detectors and scores the findings (tests/data/realworld/score.py): per-category table, per-source table, headline
# kind-precision / personal precision / structured recall, optional floors (exit 1 when one is not met).
# Never prints a scanned value: the scorer's stdout has paths, categories, rules and counts; values of unjudged
# findings go only to the --unjudged-out file, for the judge.
#
#   bash bench/realworld.sh [options] [SETDIR...]      default SETDIR: tests/data/realworld/dev
#     --build DIR               binary DIR/pii-auditd (default: $PA_BIN, else build/pii-auditd)
#     --out DIR                 findings CSVs, scan summaries, score JSON (default bench/out/realworld)
#     --keep                    leave the cluster's data directory in OUT/pg (it is stopped either way)
#     --no-score                load, scan and export only (bench/lookalikes.sh: a set with no truth rows)
#     --min-kind-precision X --min-precision X --min-recall X --min-cat-precision X --cat-min-findings N
#     --cat-precision kind|personal --max-unjudged N --json FILE --unjudged-out FILE --unjudged-list N --no-sources
#                               passed to score.py (see its --help)
#   e.g. bash bench/realworld.sh --min-kind-precision 0.97 --min-recall 0.95 --min-cat-precision 0.90 \
#            tests/data/realworld/dev tests/data/realworld/extra
#
# Each set is loaded into its own database of one throwaway PostgreSQL 15 cluster (tests/lib/pg.sh; as root the
# server runs as the postgres user) as public.events(id bigint primary key, source text, doc jsonb), id = line + 1,
# then `pii-auditd --init-db` and `--scan-once --full --output json` with a minimal configuration (default
# detectors); the open findings are exported as OUT/<set>.findings.csv (record_id, json_path, category, rule,
# detector). Needs postgresql-15, psql and python3. Exit: score.py's (0, or 1 when a floor is not met); 2 on a
# failed load or scan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=bench/out/realworld
keep=0
score=1
score_args=()
sets=()
while [ $# -gt 0 ]; do
    case $1 in
        --build) PA_BIN=$2/pii-auditd; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --no-score) score=0; shift ;;
        --min-kind-precision|--min-precision|--min-recall|--min-cat-precision|--cat-min-findings|--cat-precision|\
        --max-unjudged|--json|--unjudged-out|--unjudged-list)
            score_args+=("$1" "$2"); shift 2 ;;
        --no-sources) score_args+=("$1"); shift ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "realworld.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) sets+=("$1"); shift ;;
    esac
done
[ ${#sets[@]} -gt 0 ] || sets=(tests/data/realworld/dev)
PA_BIN=${PA_BIN:-$root/build/pii-auditd}
if [ ! -x "$PA_BIN" ]; then
    echo "realworld.sh: no binary at $PA_BIN: build it (meson setup build && meson compile -C build), or give" \
        "--build DIR or PA_BIN" >&2
    exit 2
fi
PA_BIN=$(cd "$(dirname "$PA_BIN")" && pwd)/$(basename "$PA_BIN")
for s in "${sets[@]}"; do
    for f in docs.jsonl $([ $score = 1 ] && echo truth.jsonl); do
        [ -f "$s/$f" ] || { echo "realworld.sh: $s/$f is missing (a set is a folder with docs.jsonl and truth.jsonl; see its README.md)" >&2; exit 2; }
    done
done
command -v psql >/dev/null || { echo "realworld.sh: psql is missing (apt-get install postgresql-15)" >&2; exit 2; }

source tests/lib/pg.sh
source tests/lib/wait.sh
# as root the scan needs --allow-root: run the binary through the tests' wrapper, which adds it
export PA_REAL_BIN=$PA_BIN
run_pa() { "$root/tests/lib/pa-bin.sh" "$@"; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
pgdir=$out/pg
pa_pg_stop "$pgdir" immediate 2>/dev/null || true
rm -rf "$pgdir"
port=$(pa_free_port "${BENCH_PORT:-55470}" $((${BENCH_PORT:-55470} + 40)))
cleanup() {
    pa_pg_stop "$pgdir" >/dev/null 2>&1 || true
    [ $keep = 1 ] || rm -rf "$pgdir"
}
trap cleanup EXIT
pa_pg_start "$pgdir" "$port" >/dev/null
export PGOPTIONS="-c client_min_messages=warning"

pairs=()
names=()
i=0
for s in "${sets[@]}"; do
    i=$((i + 1))
    name=$(basename "$(cd "$s" && pwd)")
    db=rw_${i}
    pa_psql -d postgres -c "CREATE DATABASE $db" >/dev/null
    t0=$(date +%s.%N)
    # each line is one JSON text: CSV mode with quote and delimiter bytes that JSON never holds raw reads it verbatim;
    # the bigserial numbers the lines in file order (id = 0-based line + 1)
    pa_psql -d "$db" >/dev/null <<SQL
CREATE TABLE staging (n bigserial, line text NOT NULL);
\\copy staging (line) FROM '$(cd "$s" && pwd)/docs.jsonl' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')
CREATE TABLE public.events (id bigint PRIMARY KEY, source text, doc jsonb NOT NULL);
INSERT INTO public.events SELECT n, line::jsonb ->> 'source', line::jsonb -> 'doc' FROM staging ORDER BY n;
DROP TABLE staging;
VACUUM ANALYZE public.events;
SQL
    ndocs=$(pa_psql -d "$db" -At -c "SELECT count(*) FROM public.events")
    if [ "$ndocs" != "$(grep -c . "$s/docs.jsonl")" ]; then
        echo "realworld.sh: $s: loaded $ndocs documents, docs.jsonl has $(grep -c . "$s/docs.jsonl") lines" >&2
        exit 2
    fi
    conf=$out/$name.yaml
    cat >"$conf" <<YAML
# written by bench/realworld.sh: default detectors, one surface
database:
  conninfo: "host=$PA_PGHOST port=$PA_PGPORT dbname=$db user=postgres"
scan:
  batch_size: 500
surfaces:
  - table: public.events
    column: doc
YAML
    run_pa --config "$conf" --init-db >"$out/$name.init.log" 2>&1 ||
        { echo "realworld.sh: --init-db failed:" >&2; cat "$out/$name.init.log" >&2; exit 2; }
    rc=0
    run_pa --config "$conf" --scan-once --full --output json >"$out/$name.scan.json" 2>"$out/$name.scan.err" || rc=$?
    if [ $rc -gt 1 ]; then
        echo "realworld.sh: $name: scan failed (exit $rc); see $out/$name.scan.err" >&2
        exit 2
    fi
    cols="record_id, json_path, category, rule, detector"
    # later schema versions may add an evidence column: export it too when present (the scorer ignores it)
    if [ "$(pa_psql -d "$db" -At -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pii_audit'
            AND table_name = 'findings' AND column_name = 'evidence'")" = 1 ]; then cols="$cols, evidence"; fi
    pa_psql -d "$db" -c "\\copy (SELECT $cols FROM pii_audit.findings WHERE resolved_at IS NULL
        ORDER BY record_id::bigint, json_path, category) TO '$out/$name.findings.csv' WITH (FORMAT csv, HEADER)"
    t1=$(date +%s.%N)
    python3 - "$out/$name.scan.json" "$name" "$ndocs" "$t0" "$t1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = j['totals']
print(f"{sys.argv[2]}: {sys.argv[3]} documents loaded and scanned in {float(sys.argv[5]) - float(sys.argv[4]):.1f} s "
      f"(scan {j['duration_seconds']:.2f} s, {t['bytes']} bytes), status {j['status']}, "
      f"{t['open_findings']} open findings")
PY
    pairs+=("$(cd "$s" && pwd)/truth.jsonl" "$out/$name.findings.csv")
    names+=(--name "$name")
done
echo "binary: $PA_BIN ($("$PA_BIN" --version 2>/dev/null | head -1))"
[ $score = 1 ] || exit 0
echo
rc=0
python3 tests/data/realworld/score.py "${names[@]}" "${score_args[@]}" "${pairs[@]}" || rc=$?
exit $rc
