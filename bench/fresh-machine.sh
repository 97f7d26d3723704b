#!/usr/bin/env bash
# Every figure of docs/performance.md on a fresh Debian 12 machine, in one command: installs the packages (as
# root), builds a release binary and the detector-core benchmark in build-bench/, then runs
#   1. bench/all.sh (COPY vs one and two readers, memory, incremental, throttle, in-database scans, recall) at ROWS,
#   2. the detector core: bench/detect_corpus.sh + build-bench/bench/jsonwalk_bench --passes 5.
# The machine's description and both reports go to bench/out/fresh-machine.txt.
#
# Usage: bash bench/fresh-machine.sh [ROWS]     (default 1000000; the load takes ~3.5-5 min per million rows)
# Environment: BENCH_PORT (bench/all.sh's cluster port), BENCH_REUSE=1 (keep loaded rows), RUNS (rounds, 3).
# Run it on an otherwise idle machine: every figure is wall time (see docs/performance.md for the noise).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
rows=${1:-1000000}
cd "$root"
# shellcheck source=tests/lib/deps.sh
source tests/lib/deps.sh
pa_install_deps

[ -d build-bench ] || meson setup build-bench -Dbuildtype=release >/dev/null
ninja -C build-bench >/dev/null

mkdir -p bench/out
report=bench/out/fresh-machine.txt
{
    echo "# bench/fresh-machine.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC'), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs"
    echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}'); kernel $(uname -r)"
    echo "postgresql: $(/usr/lib/postgresql/15/bin/postgres --version)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$report"

PA_BIN=build-bench/pii-auditd ROWS=$rows bash bench/all.sh 2>&1 | tee -a "$report"

bash bench/detect_corpus.sh >/dev/null
{
    echo "## detector core (build-bench/bench/jsonwalk_bench --passes 5), load $(cut -d' ' -f1-3 /proc/loadavg)"
    build-bench/bench/jsonwalk_bench --passes 5
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee -a "$report"
echo "report: $report" >&2
