#!/usr/bin/env bash
# Runs the whole test suite on this machine: installs the Debian packages it needs (as root), builds, starts
# throwaway PostgreSQL 15 clusters in .pgtmp/, and runs unit + integration + fault + end-to-end tests twice at the same
# time, once in the normal build and once under AddressSanitizer + UndefinedBehaviorSanitizer (each build on its own
# cluster: the fault tests stop and restart theirs); the Debian package test alongside (build, install, upgrade,
# purge of the .deb on this machine); the valgrind subset (tests/valgrind.sh --ci) once the normal
# suite is done; and, alongside at the lowest CPU priority, each libFuzzer target for PA_FUZZ_SECONDS (default 60)
# under ASan+UBSan, two at a time. Both modes also build the scalar variant (build-scalar: -Dsimd=false, the
# portable forms of the walker and the prefilter) and run its detector and walker unit tests. --quick runs the normal
# build only (and the scalar unit tests). Prints `tests: N passed, N failed, N skipped`; a skipped test fails the run.
#   bash tests/run-all.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

source tests/lib/deps.sh
pa_install_deps
source tests/lib/pg.sh
source tests/lib/wait.sh

LOGS=$ROOT/.pgtmp/logs
CLUSTERS=()
stop_all() { for d in "${CLUSTERS[@]}"; do pa_pg_stop "$d" immediate; done; }
trap stop_all EXIT
# a cluster on the first free port from $2 (another cluster, or one still shutting down, may hold one)
start_cluster() { # dir first-port -> sets CL_PORT
    local dir=$1 port
    pa_pg_stop "$dir" immediate 2>/dev/null || true
    rm -rf "$dir"
    port=$(pa_free_port "$2" $(($2 + 48)))
    pa_pg_start "$dir" $port
    CLUSTERS+=("$dir")
    CL_PORT=$port
}
rm -rf "$LOGS" && mkdir -p "$LOGS"
export PA_REQUIRE_PG=1

# both builds first (compiling uses both cores; the tests below then run on built binaries)
setup() { # builddir [meson setup args...]
    local dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then meson setup "$dir" "$@" >/dev/null; fi
    meson compile -C "$dir" >/dev/null
}
echo "== build (debugoptimized)"
setup build
if [ $QUICK = 0 ]; then
    echo "== build under AddressSanitizer + UndefinedBehaviorSanitizer"
    setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
# The scalar build: only the tests of what -Dsimd=false changes (src/arch.h), so it costs seconds, not a suite.
SCALAR_TESTS=(detect context jsonwalk peer-vectors validators natid prefilter fuzz-replay-detect fuzz-replay-jsonwalk)
echo "== build without SIMD (-Dsimd=false) for its unit tests: ${SCALAR_TESTS[*]}"
if [ ! -f build-scalar/build.ninja ]; then meson setup build-scalar -Dsimd=false >/dev/null; fi
meson compile -C build-scalar tests/test_detect tests/test_context tests/test_jsonwalk tests/peer_vectors \
    tests/test_validators tests/test_natid tests/test_prefilter tests/fuzz_replay_detect tests/fuzz_replay_jsonwalk \
    >/dev/null

count_log() { # meson testlog json -> "passed failed skipped"
    python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
}
passed=0 failed=0 skipped=0
add_counts() { # "p f s"
    local p f s
    read -r p f s <<<"$1"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
# One build's suite against its own cluster, in the background; its output goes to $LOGS/<name>.log.
run_suite() { # name builddir pgdir port [env...]
    local name=$1 dir=$2 pgdir=$3 port=$4; shift 4
    (
        export PA_PGHOST=$pgdir PA_PGPORT=$port PA_PGDIR=$pgdir "$@"
        rc=0
        meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 --no-suite package || rc=$?
        count_log "$dir/meson-logs/testlog.json" >"$LOGS/$name.counts"
        exit $rc
    ) >"$LOGS/$name.log" 2>&1 &
}

status=0
echo "== test without SIMD (build-scalar)"
meson test -C build-scalar --no-rebuild --print-errorlogs --num-processes 2 "${SCALAR_TESTS[@]}" \
    >"$LOGS/scalar.log" 2>&1 || status=1
cat "$LOGS/scalar.log"
add_counts "$(count_log build-scalar/meson-logs/testlog.json 2>/dev/null || echo "0 1 0")"
# The Debian package (suite `package`, tests/e2e/debian_package.sh) once, from the normal build's tree, alongside
# the suites: it builds the .deb in a temporary copy, installs, upgrades and purges it on this machine with its own
# PostgreSQL cluster (about 20 s, mostly dpkg, lintian and one small compile)
(
    rc=0
    meson test -C build --no-rebuild --print-errorlogs --suite package --logbase testlog-package || rc=$?
    count_log build/meson-logs/testlog-package.json >"$LOGS/package.counts"
    exit $rc
) >"$LOGS/package.log" 2>&1 &
pid_p=$!
if [ $QUICK = 0 ]; then
    # fuzzing runs alongside the suites at the lowest CPU priority: the tests mostly wait on PostgreSQL and on their
    # daemons, and the fuzzers take the idle CPU (each target still runs its full time; execs/s are lower; the
    # per-input hang limit is 30 s instead of 10 since a starved input may wait for the CPU)
    (PA_FUZZ_JOBS=2 PA_FUZZ_TIMEOUT=30 nice -n 19 bash tests/fuzz/run.sh "${PA_FUZZ_SECONDS:-60}") >"$LOGS/fuzz.log" 2>&1 &
    pid_f=$!
fi
start_cluster "$ROOT/.pgtmp/test" "${PA_TEST_PGPORT:-55432}"
port_a=$CL_PORT
run_suite normal build "$ROOT/.pgtmp/test" "$port_a"
pid_a=$!
if [ $QUICK = 0 ]; then
    start_cluster "$ROOT/.pgtmp/test-asan" $((port_a + 10))
    run_suite asan build-asan "$ROOT/.pgtmp/test-asan" "$CL_PORT" \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    pid_b=$!
fi
echo "== test (debugoptimized)"
wait $pid_a || status=1
cat "$LOGS/normal.log"
add_counts "$(cat "$LOGS/normal.counts" 2>/dev/null || echo "0 1 0")"
echo "== test the Debian package (ran alongside)"
wait $pid_p || status=1
cat "$LOGS/package.log"
add_counts "$(cat "$LOGS/package.counts" 2>/dev/null || echo "0 1 0")"
if [ $QUICK = 0 ]; then
    # the valgrind subset starts on the normal build's cluster as soon as that suite is done (the sanitizer suite
    # usually still runs); valgrind.sh fails on a failed test or on a valgrind error in a passing test
    (PA_PGHOST=$ROOT/.pgtmp/test PA_PGPORT=$port_a PA_PGDIR=$ROOT/.pgtmp/test bash tests/valgrind.sh --ci) \
        >"$LOGS/valgrind.log" 2>&1 &
    pid_v=$!

    echo "== test under AddressSanitizer + UndefinedBehaviorSanitizer"
    wait $pid_b || status=1
    cat "$LOGS/asan.log"
    add_counts "$(cat "$LOGS/asan.counts" 2>/dev/null || echo "0 1 0")"

    echo "== valgrind memcheck: unit tests + a representative subset (tests/valgrind.sh --ci)"
    vrc=0
    wait $pid_v || vrc=$?
    cat "$LOGS/valgrind.log"
    if [ $vrc != 0 ]; then status=1; failed=$((failed + 1)); echo "tests/valgrind.sh --ci failed" >&2; fi
    # meson names a wrapped run's log <logbase>-valgrind.json
    for l in valgrind-unit-valgrind valgrind-int; do
        if [ -f "build/meson-logs/$l.json" ]; then
            add_counts "$(count_log "build/meson-logs/$l.json")"
        else
            failed=$((failed + 1)); status=1; echo "no meson log $l.json from tests/valgrind.sh" >&2
        fi
    done

    echo "== fuzz each libFuzzer target for ${PA_FUZZ_SECONDS:-60}s under AddressSanitizer + UBSan (ran alongside)"
    frc=0
    wait $pid_f || frc=$?
    cat "$LOGS/fuzz.log"
    if [ $frc = 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); status=1
    fi
fi
if [ "$skipped" -gt 0 ]; then
    echo "$skipped test(s) were skipped: a skipped test is a failure here" >&2
    status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
