#!/usr/bin/env bash
# Helpers for the integration and end-to-end tests. Each test gets its own database in the throwaway cluster
# that tests/run-all.sh started (PA_PGHOST/PA_PGPORT), and its own temp dir.
set -uo pipefail

PA_SOURCE_ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PA_BIN=${PA_BIN:-$PA_SOURCE_ROOT/build/pii-auditd}
# the tests run the binary through tests/lib/pa-bin.sh: --allow-root as root, an optional tool prefix (valgrind)
export PA_REAL_BIN=${PA_REAL_BIN:-$PA_BIN}
if [ "$(id -u)" = 0 ] || [ -n "${PA_BIN_PREFIX:-}" ]; then PA_BIN=$PA_SOURCE_ROOT/tests/lib/pa-bin.sh; fi
# shellcheck source=tests/lib/pg.sh
source "$PA_SOURCE_ROOT/tests/lib/pg.sh"

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_CHECKS=0

if [ -z "${PA_PGHOST:-}" ]; then
    if [ -n "${PA_REQUIRE_PG:-}" ]; then
        echo "FAIL: PA_PGHOST is not set but PA_REQUIRE_PG is: the test cluster is missing" >&2
        exit 1
    fi
    echo "SKIP: no test PostgreSQL (run tests/run-all.sh)" >&2
    exit 77
fi
export PGHOST=$PA_PGHOST PGPORT=$PA_PGPORT PGUSER=postgres PGOPTIONS="-c client_min_messages=warning"

T_DB=pa_${T_NAME}
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pa-${T_NAME}.XXXXXX")
chmod 755 "$T_DIR"
trap 't_cleanup' EXIT

t_cleanup() {
    if [ "$T_FAILS" -eq 0 ] && [ -z "${PA_KEEP:-}" ]; then rm -rf "$T_DIR"; fi
}

# A fresh database for this test.
t_db() {
    local db=${1:-$T_DB}
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
    psql -X -q -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
}

t_psql() { psql -X -q -v ON_ERROR_STOP=1 -d "${T_PSQL_DB:-$T_DB}" "$@"; }
# One value from a query.
t_val() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "${T_PSQL_DB:-$T_DB}" -c "$1"; }

t_load_demo() { t_psql -f "$PA_SOURCE_ROOT/tests/data/demo-data.sql" >/dev/null; }
t_init_schema() { t_psql -f "$PA_SOURCE_ROOT/sql/001_findings_schema.sql" >/dev/null; }

# Write a config with the given surfaces block (YAML text) to $T_DIR/pa.yaml; extra YAML may follow.
t_config() {
    local surfaces=$1 extra=${2:-}
    cat >"$T_DIR/pa.yaml" <<YAML
database:
  conninfo: "host=$PA_PGHOST port=$PA_PGPORT dbname=${T_CONF_DB:-$T_DB} user=${T_USER:-postgres}"
scan:
  batch_size: ${T_BATCH:-100}
  statement_timeout: ${T_STMT_TIMEOUT:-30s}
${T_SCAN_EXTRA:-}
$surfaces
$extra
YAML
    echo "$T_DIR/pa.yaml"
}

T_DEMO_SURFACES='surfaces:
  - table: public.attribution_events
    column: raw_payload
  - table: public.dead_events
    column: raw_payload
  - table: public.revenue_ledger
    column: metadata'

# Run the binary; stdout to $T_DIR/out, stderr to $T_DIR/err, exit code in $T_RC.
t_run() {
    "$PA_BIN" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
    T_RC=$?
    cat "$T_DIR/out" >>"$T_DIR/all-out"
    cat "$T_DIR/err" >>"$T_DIR/all-err"
    return 0
}

ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }
not_ok() {
    T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1)); echo "not ok - $*"
    echo "  --- stdout:"; sed 's/^/  | /' "$T_DIR/out" 2>/dev/null | head -40
    echo "  --- stderr:"; sed 's/^/  | /' "$T_DIR/err" 2>/dev/null | head -40
}
t_eq() { # actual expected message
    if [ "$1" == "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', want '$2')"; fi
}
t_rc() { t_eq "$T_RC" "$1" "$2 (exit code)"; }
t_grep() { # pattern file message
    if grep -qE -- "$1" "$2"; then ok "$3"; else not_ok "$3 (no /$1/ in $(basename "$2"))"; fi
}
t_nogrep() {
    if grep -qE -- "$1" "$2"; then not_ok "$3 (found /$1/ in $(basename "$2"))"; else ok "$3"; fi
}

t_done() {
    echo "$T_NAME: $((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
    [ "$T_FAILS" -eq 0 ] || { echo "(artifacts kept in $T_DIR)"; exit 1; }
    exit 0
}
