#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined) and runs each for <seconds> from a
# copy of its seed corpus (the repository's corpus is never written). Fails when any target finds a crash, a leak,
# a timeout or an out-of-memory; prints execs/s and coverage (cov:/ft: from libFuzzer's last line) per target.
#   bash tests/fuzz/run.sh <seconds> [target...]      targets: jsonwalk detect config metrics (default: all)
# Environment: PA_FUZZ_JOBS (targets run at once, default 2), PA_FUZZ_TIMEOUT (seconds per input, default 10), PA_FUZZ_OUT (build/work dir, default build-fuzz/),
# PA_FUZZ_KEEP_CORPUS=1 keeps the grown corpora in $PA_FUZZ_OUT/run-*/corpus-<target>.
# A crash input is kept as $PA_FUZZ_OUT/run-*/<target>/crash-* (never printed: it may hold PII-shaped bytes);
# add it to tests/fuzz/corpus/<target>/regress-<what>.<ext> with the fix, and the replay tests run it from then on.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

usage() { echo "usage: $0 <seconds> [jsonwalk|detect|config|metrics ...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
SECS=$1; shift
[[ $SECS =~ ^[0-9]+$ ]] && [ "$SECS" -gt 0 ] || usage
ALL=(jsonwalk detect config metrics)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
JOBS=${PA_FUZZ_JOBS:-2}
OUT=${PA_FUZZ_OUT:-$ROOT/build-fuzz}
CC=${PA_FUZZ_CC:-clang}

command -v "$CC" >/dev/null || { echo "FAIL: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# Sources and flags per target (the same files the unit tests link; detect/jsonwalk stay pure).
declare -A SRCS LIBS MAXLEN
SRCS[jsonwalk]="src/util.c src/jsonwalk.c"
LIBS[jsonwalk]="-lm"
MAXLEN[jsonwalk]=8192
SRCS[detect]="src/util.c src/jsonwalk.c src/detect/*.c" # unquoted where used: the glob expands there
LIBS[detect]="$(pkg-config --cflags --libs libhs) -lm"
MAXLEN[detect]=4096
SRCS[config]="src/util.c src/jsonwalk.c src/detect/*.c $(echo src/config/*.c)"
LIBS[config]="$(pkg-config --cflags --libs yaml-0.1 libhs) -lm"
MAXLEN[config]=4096
SRCS[metrics]="src/util.c src/metrics.c"
LIBS[metrics]="-lpthread -lm"
MAXLEN[metrics]=512

for t in "${TARGETS[@]}"; do
    [ -n "${SRCS[$t]:-}" ] || { echo "unknown target: $t" >&2; usage; }
done

mkdir -p "$OUT"
RUN=$(mktemp -d "$OUT/run-XXXXXX")
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -I."
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS tests/fuzz/fuzz_$t.c ${SRCS[$t]} ${LIBS[$t]} -o "$OUT/fuzz_$t" 2>"$RUN/build-$t.log"; then
        echo "FAIL: building fuzz_$t:" >&2; cat "$RUN/build-$t.log" >&2; exit 1
    fi
done

# One target: fuzz from a copy of the seed corpus; -timeout is per input, -rss_limit_mb bounds memory.
run_one() {
    local t=$1 dir=$RUN/$t
    mkdir -p "$dir" "$RUN/corpus-$t"
    cp tests/fuzz/corpus/"$t"/* "$RUN/corpus-$t"/
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout="${PA_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len="${MAXLEN[$t]}" \
        -print_final_stats=1 -artifact_prefix="$dir/" "$RUN/corpus-$t" >"$dir/log" 2>&1)
    echo $? >"$dir/rc"
}

# At most JOBS targets at a time.
for t in "${TARGETS[@]}"; do
    run_one "$t" &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
done
wait

status=0
printf '%-9s %8s %12s %10s %8s %8s %s\n' target seconds execs execs/s cov ft result
for t in "${TARGETS[@]}"; do
    dir=$RUN/$t
    rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$dir/log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    artifacts=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' \
        -o -maxdepth 1 -name 'oom-*' | wc -l)
    result=ok
    if [ "$rc" != 0 ] || [ "$artifacts" -gt 0 ]; then
        result="FAIL (exit $rc, $artifacts artifact(s) in $dir)"
        status=1
    fi
    printf '%-9s %8s %12s %10s %8s %8s %s\n' "$t" "$SECS" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$result"
    if [ "$result" != ok ]; then
        # libFuzzer's report without the input bytes it may echo ("Base64:", hex dumps of short inputs)
        grep -vE '^(Base64:|0x[0-9a-f]+,|MS: .*|[[:print:]]*\\x)' "$dir/log" | grep -E 'ERROR|SUMMARY|#[0-9]+ +in |Test unit written' \
            | head -40 | sed 's/^/  | /' >&2
    fi
done
if [ -z "${PA_FUZZ_KEEP_CORPUS:-}" ] && [ $status = 0 ]; then rm -rf "$RUN"; fi
exit $status
