#!/usr/bin/env bash
# Per-insert overhead of the write-time guardrail (issue 4 §3): pgbench inserts the same clean webhook payload into
# three identical tables — no trigger, the guardrail in top-level mode, the guardrail in nested mode — and reports
# the mean latency per insert and the difference to no trigger. A clean payload is the case that matters: rejected
# rows are rare and cost one more sequence step.
# Starts a throwaway PostgreSQL 15 cluster in bench/out/pg-guardrail (port 55498, fsync off) and stops it on exit.
# Environment: PA_BIN (default build/pii-auditd), SECONDS_PER_RUN (default 10), CLIENTS (default 1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PA_BIN=${PA_BIN:-build/pii-auditd}
case $PA_BIN in /*) ;; *) PA_BIN=$root/$PA_BIN ;; esac
T=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-1}
PORT=55498
out=$here/out
pgdir=$out/pg-guardrail
command -v pgbench >/dev/null || PATH=$PATH:/usr/lib/postgresql/15/bin
command -v pgbench >/dev/null || { echo "bench: pgbench not found (postgresql-15)" >&2; exit 1; }
# shellcheck source=tests/lib/pg.sh
source "$root/tests/lib/pg.sh"
mkdir -p "$out"
pa_pg_start "$pgdir" "$PORT" >/dev/null
trap 'pa_pg_stop "$pgdir" >/dev/null 2>&1 || true' EXIT
export PGHOST=$pgdir PGPORT=$PORT PGUSER=postgres
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS gbench" -c "CREATE DATABASE gbench"
psql -X -q -v ON_ERROR_STOP=1 -d gbench <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.t_none   (id bigserial PRIMARY KEY, payload jsonb NOT NULL);
CREATE TABLE bench.t_top    (id bigserial PRIMARY KEY, payload jsonb NOT NULL);
CREATE TABLE bench.t_nested (id bigserial PRIMARY KEY, payload jsonb NOT NULL);
SQL
cat >"$out/guardrail-bench.yaml" <<YAML
database:
  conninfo: "host=$pgdir port=$PORT dbname=gbench user=postgres"
surfaces:
  - table: bench.t_top
    column: payload
YAML
"$PA_BIN" --config "$out/guardrail-bench.yaml" --print-guardrail-sql >"$out/guardrail-bench.sql"
psql -X -q -v ON_ERROR_STOP=1 -d gbench -f "$out/guardrail-bench.sql"
# the nested-mode trigger on the third table, with the installer the generated SQL defines
psql -X -q -v ON_ERROR_STOP=1 -d gbench -c "SELECT pii_guardrail.install('bench', 't_nested', 'payload', true)" >/dev/null

# Payloads: "small" = a typical webhook (22 keys at the top, 3 nested objects, 46 keys in all, ~1 KB);
# "large" = 200 top-level keys plus 20 nested objects of 10 keys (~12 KB).
small='{"event_id": "evt_9f8e7d", "event_type": "purchase", "occurred_at": "2025-11-16T12:00:00Z", "source": "shopify",
 "campaign_id": "cmp_123", "utm_source": "newsletter", "utm_medium": "email_campaign_x", "utm_campaign": "black_friday",
 "order_id": "ord_55501", "currency": "EUR", "amount_cents": 12999, "tax_cents": 2470, "items_count": 3,
 "channel": "web", "device_type": "desktop", "browser": "firefox", "locale": "de-DE", "country_code": "DE",
 "region": "BY", "is_test": false, "schema_version": 4,
 "attribution": {"model": "last_touch", "touchpoints": 3, "first_seen": "2025-11-10", "window_days": 30},
 "items": [{"sku": "SKU-1", "qty": 1, "price_cents": 4999}, {"sku": "SKU-2", "qty": 2, "price_cents": 4000}],
 "meta": {"ingest_host": "ingest-3", "retries": 0, "pipeline": {"stage": "normalize", "version": "1.4.2"}}}'
large=$(python3 - <<'PY'
import json
d = {f"field_{i:03d}": f"value {i}" for i in range(200)}
for j in range(20):
    d[f"group_{j:02d}"] = {f"attr_{k}": k for k in range(10)}
print(json.dumps(d))
PY
)
printf '%s' "$small" | tr -d '\n' >"$out/payload-small.json"
printf '%s' "$large" >"$out/payload-large.json"

run() { # table payload-file
    local p; p=$(sed "s/'/''/g" "$2")
    printf "INSERT INTO bench.%s (payload) VALUES ('%s');\n" "$1" "$p" >"$out/pgbench-$1.sql"
    psql -X -q -d gbench -c "TRUNCATE bench.$1" >/dev/null
    pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$T" -f "$out/pgbench-$1.sql" gbench 2>/dev/null \
        | awk '/latency average/ {print $4}'
}
{
    printf "pgbench -n -M prepared -c %s -j %s -T %s, one INSERT per transaction (PostgreSQL %s, %s)\n" \
        "$CLIENTS" "$CLIENTS" "$T" "$(psql -X -A -t -d gbench -c 'SHOW server_version')" "$(nproc) CPUs"
    printf "%-8s %-16s %14s %14s\n" payload mode "latency (ms)" "overhead (ms)"
    for size in small large; do
        base=""
        for mode in none top nested; do
            lat=$(run "t_$mode" "$out/payload-$size.json")
            [ -z "$base" ] && base=$lat
            printf "%-8s %-16s %14s %14s\n" "$size" "$mode" "$lat" "$(awk -v a="$lat" -v b="$base" 'BEGIN {printf "%.3f", a - b}')"
        done
    done
} | tee "$out/guardrail-results.txt"
# sanity: the triggers were there and did work
msg=$(psql -X -q -d gbench -c "INSERT INTO bench.t_nested (payload) VALUES ('{\"a\": {\"email\": 1}}')" 2>&1 || true)
[[ $msg == *"PII key detected"* ]] || { echo "bench: the nested guardrail did not reject (wrong setup)" >&2; exit 1; }
