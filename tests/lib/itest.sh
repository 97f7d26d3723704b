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
# shellcheck source=tests/lib/tap.sh
source "$PA_SOURCE_ROOT/tests/lib/tap.sh"
# shellcheck source=tests/lib/wait.sh
source "$PA_SOURCE_ROOT/tests/lib/wait.sh"

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
# every sql/NNN_*.sql in order, as psql would apply them by hand (--init-db applies the same embedded files)
t_init_schema() {
    local f
    for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do t_psql -f "$f" >/dev/null || return 1; done
}

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

# Run the binary; stdout to $T_DIR/out, stderr to $T_DIR/err, exit code in $T_RC. Everything it printed is also
# appended to $T_DIR/all-out and all-err, for checks over every run of a test (no value in any log line, ...).
t_run() {
    "$PA_BIN" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
    T_RC=$?
    t_run_log
}
t_run_log() {
    cat "$T_DIR/out" >>"$T_DIR/all-out"
    cat "$T_DIR/err" >>"$T_DIR/all-err"
    return 0
}
# The same in the background (a test that signals or kills the run meanwhile): T_BG_PID is its PID; t_run_wait
# waits for it, sets $T_RC and appends its output to all-out/all-err like t_run.
t_run_bg() {
    "$PA_BIN" "$@" >"$T_DIR/out" 2>"$T_DIR/err" &
    T_BG_PID=$!
}
t_run_wait() {
    wait "$T_BG_PID"
    T_RC=$?
    t_run_log
}
