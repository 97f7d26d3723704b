#!/usr/bin/env bash
# The demo: on a fresh Debian 12 machine, installs what is needed (as root), builds pii-auditd, starts a
# throwaway PostgreSQL 15 cluster in .pgtmp/demo, loads realistic webhook data with planted PII, applies the
# findings schema and the least-privilege role, runs one scan as that role and shows the summary and the findings.
# The cluster is stopped at the end (kept with --keep).
#   bash tests/demo.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1

source tests/lib/deps.sh
pa_install_deps
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
source tests/lib/pg.sh

DIR=$ROOT/.pgtmp/demo
pa_pg_stop "$DIR" immediate 2>/dev/null || true
rm -rf "$DIR"
pa_pg_start "$DIR" 55431
[ $KEEP = 1 ] || trap 'pa_pg_stop "$DIR"' EXIT

echo "== loading sample data (attribution_events, dead_events, revenue_ledger) into database 'app'"
pa_psql -d postgres -c "CREATE DATABASE app"
pa_psql -d app -f tests/data/demo-data.sql >/dev/null
pa_psql -d app -At -c "SELECT 'attribution_events: ' || count(*) FROM attribution_events
                       UNION ALL SELECT 'dead_events: ' || count(*) FROM dead_events
                       UNION ALL SELECT 'revenue_ledger: ' || count(*) FROM revenue_ledger"

echo "== applying sql/NNN_*.sql (the findings schema) and sql/roles.sql"
for f in sql/[0-9][0-9][0-9]_*.sql; do pa_psql -d app -f "$f"; done
pa_psql -d app -f sql/roles.sql

cat >"$DIR/pii-auditd.yaml" <<YAML
database:
  conninfo: "host=$DIR port=55431 dbname=app user=pii_auditd"
scan:
  batch_size: 500
surfaces:
  - table: public.attribution_events
    column: raw_payload
  - table: public.dead_events
    column: raw_payload
  - table: public.revenue_ledger
    column: metadata
YAML

echo "== granting what the configured surfaces need (pii-auditd --print-grants | psql)"
build/pii-auditd --config "$DIR/pii-auditd.yaml" --print-grants | tee "$DIR/grants.sql"
pa_psql -d app -f "$DIR/grants.sql"

echo
echo "== pii-auditd --scan-once (as role pii_auditd)"
rc=0
# a scan refuses to run as root; the demo runs as root (it installs packages), so it says so explicitly
allow_root=(); [ "$(id -u)" = 0 ] && allow_root=(--allow-root)
build/pii-auditd --config "$DIR/pii-auditd.yaml" --scan-once "${allow_root[@]}" || rc=$?
echo "(exit status $rc: 0 clean, 1 open findings, 2 config error, 3 a surface failed)"

echo
echo "== SELECT ... FROM pii_audit.findings (locations and categories only: no values are ever stored)"
pa_psql -d app -P pager=off -c "SELECT table_name, record_id, json_path, category, detector, rule
                                  FROM pii_audit.findings WHERE resolved_at IS NULL
                                 ORDER BY table_name, category, record_id, json_path"
pa_psql -d app -P pager=off -c "SELECT category, count(*) AS open_findings, count(DISTINCT record_id) AS records
                                  FROM pii_audit.findings WHERE resolved_at IS NULL GROUP BY category ORDER BY 2 DESC"
if [ $KEEP = 1 ]; then
    echo "cluster kept running: psql -h $DIR -p 55431 -U postgres app   (stop: bash -c 'source tests/lib/pg.sh; pa_pg_stop $DIR')"
fi
[ "$rc" -le 1 ] || exit "$rc"
