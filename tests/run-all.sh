#!/usr/bin/env bash
# Runs the whole test suite on this machine: installs the Debian packages it needs (as root), builds, starts a
# throwaway PostgreSQL 15 cluster in .pgtmp/, runs unit + integration + end-to-end tests, then the same suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer (skip that pass with --quick), and stops the cluster.
# The valgrind pass (tests/valgrind.sh --ci: unit tests + a representative subset) runs last, also skipped by --quick.
#   bash tests/run-all.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

source tests/lib/deps.sh
pa_install_deps
source tests/lib/pg.sh

PGDIR=$ROOT/.pgtmp/test
trap 'pa_pg_stop "$PGDIR" immediate' EXIT
pa_pg_stop "$PGDIR" immediate 2>/dev/null || true
rm -rf "$PGDIR"
# the first free port from 55432, or from PA_TEST_PGPORT (another cluster, or one still shutting down, may hold one)
port=${PA_TEST_PGPORT:-55432}
limit=$((port + 48))
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && [ $port -lt $limit ]; do port=$((port + 1)); done
pa_pg_start "$PGDIR" $port
export PA_REQUIRE_PG=1

passed=0 failed=0 skipped=0
run_suite() { # builddir [meson setup args...]
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then meson setup "$dir" "$@" >/dev/null; fi
    meson compile -C "$dir" >/dev/null
    local rc=0
    meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
    count_log "$dir/meson-logs/testlog.json"
    return $rc
}
count_log() { # meson testlog json: add its results to passed/failed/skipped
    local counts
    counts=$(python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
    read -r p f s <<<"$counts"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

status=0
echo "== build and test (debugoptimized)"
run_suite build || status=1
if [ $QUICK = 0 ]; then
    echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug || status=1
    unset ASAN_OPTIONS UBSAN_OPTIONS
    echo "== valgrind memcheck: unit tests + a representative subset (tests/valgrind.sh --ci)"
    # valgrind.sh fails on a failed test (counted below) or on a valgrind error in a passing test (counted here)
    bash tests/valgrind.sh --ci || { status=1; failed=$((failed + 1)); echo "tests/valgrind.sh --ci failed" >&2; }
    # meson names a wrapped run's log <logbase>-valgrind.json
    for l in valgrind-unit-valgrind valgrind-int; do
        if [ -f "build/meson-logs/$l.json" ]; then
            count_log "build/meson-logs/$l.json"
        else
            failed=$((failed + 1)); status=1; echo "no meson log $l.json from tests/valgrind.sh" >&2
        fi
    done
fi
if [ "$skipped" -gt 0 ]; then
    echo "$skipped test(s) were skipped: a skipped test is a failure here" >&2
    status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
