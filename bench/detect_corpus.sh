#!/usr/bin/env bash
# detect_corpus: write bench/out/payloads.jsonl, the in-memory corpus of bench/jsonwalk_bench and
# bench/detect_diff.sh: ROWS (default 20000) payloads of bench/gen.sql as PostgreSQL prints them (jsonb::text), one
# per line, in id order (so 1% carry planted PII, all 20 variants). Starts and stops its own throwaway cluster in
# bench/out/corpus-pg (BENCH_PORT, default 55497: bench/guardrail.sh uses 55498, bench/all.sh 55499); needs
# PostgreSQL 15 (tests/lib/pg.sh).
#
#   bash bench/detect_corpus.sh             # 20,000 rows, 56.5 MB
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rows=${ROWS:-20000}
port=${BENCH_PORT:-55497}
. tests/lib/pg.sh
mkdir -p bench/out
pa_pg_start bench/out/corpus-pg "$port" >/dev/null
trap 'pa_pg_stop bench/out/corpus-pg >/dev/null' EXIT
pa_psql -q -v rows="$rows" -v schema=bench -f bench/gen.sql >/dev/null
pa_psql -At -c "SELECT raw_payload::text FROM bench.attribution_events ORDER BY id" >bench/out/payloads.jsonl
echo "bench/out/payloads.jsonl: $(wc -l <bench/out/payloads.jsonl) documents, $(wc -c <bench/out/payloads.jsonl) bytes"
