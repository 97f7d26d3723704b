#!/usr/bin/env bash
# Peak memory (RSS) of a scan as a function of the largest row and of scan.parallelism, with and without
# scan.max_document_bytes (docs/performance.md, "Big rows"). Not a timing benchmark: peak RSS depends on what the
# process holds, not on how busy the machine is, so it can run on a shared machine.
#
# Starts a throwaway PostgreSQL 15 cluster in bench/out/bigrows-pg (a free port from 55600), and for each size S in
# SIZES_MB (default "1 4 18") loads a table of 2,000 small rows (~60 bytes) and 10 documents of S MB each (random hex
# in a JSON string: TOAST compression finds little in it, so the stored size is about S MB too; the 10 are spread
# over the id range, so both readers of scan.parallelism 2 meet some). Then, per size, under /usr/bin/time -f %M:
#   pii-auditd --scan-once --dry-run --full   with scan.parallelism 1 and 2 (batch_size 100, the default bound off)
#   and with scan.max_document_bytes: 1000000 (parallelism 2): the big documents are not fetched.
# Prints a table (MB = 10^6 bytes; RSS in MB) and writes it to bench/out/bigrows.txt.
# Environment: SIZES_MB, PA_BIN (default build/pii-auditd).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
SIZES_MB=${SIZES_MB:-1 4 18}
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
out=$here/out
pgdir=$out/bigrows-pg
die() { echo "bigrows: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
[ -x "$PA_BIN" ] || die "no pii-auditd binary at $PA_BIN"
source "$root/tests/lib/pg.sh"
source "$root/tests/lib/wait.sh"
mkdir -p "$out"
pa_pg_stop "$pgdir" immediate
pa_pg_start "$pgdir" "$(pa_free_port 55600 55700)"
trap 'pa_pg_stop "$pgdir"' EXIT
pa_psql -d postgres -c "DROP DATABASE IF EXISTS bigrows" -c "CREATE DATABASE bigrows" >/dev/null 2>&1
allow=()
[ "$(id -u)" = 0 ] && allow=(--allow-root)

conf() { # parallelism [max_document_bytes]
    cat <<YAML
database:
  conninfo: "host=$PA_PGHOST port=$PA_PGPORT dbname=bigrows user=postgres"
scan:
  batch_size: 100
  parallelism: $1
  statement_timeout: 5m
  max_document_bytes: ${2:-0}
surfaces:
  - {table: docs, column: payload}
YAML
}
rss_mb() { # config file -> peak RSS in MB
    /usr/bin/time -f %M -o "$out/bigrows.time" "$PA_BIN" "${allow[@]}" --config "$1" --scan-once --dry-run --full \
        --output json >"$out/bigrows.json" 2>"$out/bigrows.stderr" || [ $? = 1 ]
    awk '{printf "%.0f", $1 * 1024 / 1e6}' "$out/bigrows.time"
}

{
    printf '| largest row | stored (pg_column_size) | parallelism 1 | parallelism 2 | parallelism 2, max_document_bytes 1 MB |\n'
    printf '|---|---|---|---|---|\n'
    for s in $SIZES_MB; do
        n=$((s * 1000000 / 32)) # md5 hex: 32 bytes each
        PGOPTIONS="-c client_min_messages=warning" pa_psql -d bigrows -c "DROP TABLE IF EXISTS docs; CREATE TABLE docs (id bigint PRIMARY KEY, payload jsonb);
          INSERT INTO docs SELECT g, jsonb_build_object('n', g, 'note', 'order ' || g) FROM generate_series(1, 2000) g;
          INSERT INTO docs SELECT 200 * k, jsonb_build_object('blob', (SELECT string_agg(md5(x::text || k::text), '')
                                                                      FROM generate_series(1, $n) x))
            FROM generate_series(1, 10) k ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload;" \
          -c "VACUUM ANALYZE docs" >/dev/null
        stored=$(pa_psql -d bigrows -A -t -c "SELECT round(max(pg_column_size(payload)) / 1e6, 1) FROM docs")
        conf 1 >"$out/bigrows-1.yaml"
        conf 2 >"$out/bigrows-2.yaml"
        conf 2 1000000 >"$out/bigrows-2b.yaml"
        r1=$(rss_mb "$out/bigrows-1.yaml")
        r2=$(rss_mb "$out/bigrows-2.yaml")
        r2b=$(rss_mb "$out/bigrows-2b.yaml")
        over=$(jq -r '.totals.oversized_documents' "$out/bigrows.json")
        printf '| %s MB | %s MB | %s MB | %s MB | %s MB (%s oversized, not fetched) |\n' "$s" "$stored" "$r1" "$r2" "$r2b" "$over"
    done
} | tee "$out/bigrows.txt"
