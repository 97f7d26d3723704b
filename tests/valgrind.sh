#!/usr/bin/env bash
# The test suite under valgrind memcheck: the unit tests (Check, CK_FORK=no) run under valgrind, and the
# integration / end-to-end / fault tests run every pii-auditd invocation under valgrind (tests/lib/pa-bin.sh puts
# $PA_BIN_PREFIX in front of the binary; exec keeps the PID, so signals still reach the daemon). Each process writes
# its own log; the script fails unless every log ends with "ERROR SUMMARY: 0 errors" (leaks of kind definite and
# indirect count as errors) and every test passes.
#   bash tests/valgrind.sh            unit tests + every integration, e2e and fault test (long: see docs/testing.md)
#   bash tests/valgrind.sh --ci       unit tests + a representative subset (what tests/run-all.sh runs)
#   bash tests/valgrind.sh TEST...    unit tests + the named meson tests
# meson's logs: build/meson-logs/valgrind-unit.json and valgrind-int.json; valgrind's: build/valgrind-logs/.
# Uses the normal build in build/ (valgrind brings its own allocator; no sanitizers). Uses the test cluster of
# tests/run-all.sh when PA_PGHOST is set, else starts its own in .pgtmp/valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${PA_VALGRIND_BUILD:-$ROOT/build}
# The CI subset: scan_basic: the scan path (COPY, detect, upsert, cursors, resolution); pg_tls: OpenSSL
# connections and the connect error path; canary_daemon: the daemon (HTTP thread, signals, reloads refused and
# applied, repeated scans). The full run adds the rest (docs/testing.md has the measured times).
CI_TESTS="scan_basic pg_tls canary_daemon"

tests=()
case "${1:-}" in
--ci) read -ra tests <<<"$CI_TESTS" ;;
"") ;;
*) tests=("$@") ;;
esac

source tests/lib/deps.sh
pa_install_deps
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
meson compile -C "$BUILD" >/dev/null

if [ -z "${PA_PGHOST:-}" ]; then
    source tests/lib/pg.sh
    PGDIR=$ROOT/.pgtmp/valgrind
    trap 'pa_pg_stop "$PGDIR" immediate' EXIT
    pa_pg_stop "$PGDIR" immediate 2>/dev/null || true
    rm -rf "$PGDIR"
    source tests/lib/wait.sh
    port=$(pa_free_port "${PA_TEST_PGPORT:-55532}" $((${PA_TEST_PGPORT:-55532} + 48)))
    pa_pg_start "$PGDIR" "$port"
fi
export PA_REQUIRE_PG=1

LOGS=$BUILD/valgrind-logs
rm -rf "$LOGS" "$BUILD"/meson-logs/valgrind-*
mkdir -p "$LOGS"
# No suppressions are needed today: no third-party library reports an error or a definite/indirect leak. If one
# must be added, put it in tests/valgrind.supp with a comment saying which library and why it is not ours.
SUPP=()
[ -f tests/valgrind.supp ] && SUPP=(--suppressions="$ROOT/tests/valgrind.supp")
# --free-fill=00: valgrind's allocator replaces the binary's wiping free() (src/wipefree.c); this keeps freed blocks
# zeroed as in production, so canary_daemon.sh's memory search holds under valgrind too
VG="valgrind --tool=memcheck --free-fill=00 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 ${SUPP[*]} --log-file=$LOGS/vg.%p.log"

status=0
t0=$(date +%s)
echo "== unit tests under valgrind"
CK_FORK=no meson test -C "$BUILD" --suite unit --num-processes 2 --timeout-multiplier 10 --print-errorlogs \
    --logbase valgrind-unit --wrapper "$VG" || status=1
t1=$(date +%s)
echo "== integration, e2e and fault tests with pii-auditd under valgrind ${tests[*]:-(all)}"
# everything runs ~20-50x slower under valgrind: meson's timeouts are stretched, and so is every deadline and window
# the tests wait against (PA_TIME_SCALE, tests/lib/wait.sh: waits only last longer, no check is dropped)
export PA_BIN_PREFIX="$VG"
export PA_TIME_SCALE=${PA_VALGRIND_TIME_SCALE:-10}  # (not inherited: run-all.sh has its own, 1)
if [ ${#tests[@]} -gt 0 ]; then
    meson test -C "$BUILD" --num-processes 1 --timeout-multiplier 10 --print-errorlogs --logbase valgrind-int \
        "${tests[@]}" || status=1
else
    meson test -C "$BUILD" --suite integration --suite e2e --suite faults --num-processes 1 --timeout-multiplier 10 \
        --print-errorlogs --logbase valgrind-int || status=1
fi
t2=$(date +%s)

n=$(find "$LOGS" -name 'vg.*.log' | wc -l)
bad=$(grep -L "ERROR SUMMARY: 0 errors" "$LOGS"/vg.*.log || true)
# a process killed by a test (SIGKILL) or exec'ing another program leaves a log without a summary
incomplete=0 errors=0
for f in $bad; do
    if grep -q "ERROR SUMMARY:" "$f"; then
        errors=$((errors + 1))
        echo "--- $f" >&2
        sed -n '1,80p' "$f" >&2
    else
        incomplete=$((incomplete + 1))
    fi
done
leaks=$(grep -hE "(definitely|indirectly) lost: [1-9]" "$LOGS"/vg.*.log | wc -l || true)
echo "valgrind: $n processes checked, $errors with errors, $leaks definite/indirect leak lines," \
     "$incomplete without a summary (killed); unit $((t1 - t0)) s, integration/e2e/faults $((t2 - t1)) s"
# the leak summary over every process (a process that freed everything prints no per-kind lines: it counts 0)
awk '/(definitely|indirectly|possibly) lost:|still reachable:/ {
        kind = ($2 == "still") ? "still reachable" : $2 " lost"
        b = $(NF - 4); gsub(",", "", b); k = $(NF - 1); gsub(",", "", k)
        bytes[kind] += b; blocks[kind] += k
    }
    END {
        printf "valgrind leaks:"
        split("definitely lost,indirectly lost,possibly lost,still reachable", kinds, ",")
        for (i = 1; i <= 4; i++) printf "%s %s %d bytes in %d blocks", (i > 1 ? "," : ""), kinds[i], bytes[kinds[i]], blocks[kinds[i]]
        printf "\n"
    }' "$LOGS"/vg.*.log
[ "$errors" = 0 ] && [ "$leaks" = 0 ] || status=1
exit $status
