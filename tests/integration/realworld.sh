#!/usr/bin/env bash
# Detection on real documents, held as floors by every build (issue 13): bench/realworld.sh scans the judged
# real-world sets (tests/data/realworld/: dev always; extra too when its documents file was rebuilt, see its
# README) with default detectors and scores them (kind-precision >= 0.97, structured recall >= 0.95, no category of
# 20 findings or more below 0.90, no unjudged finding); bench/lookalikes.sh scans 20,000 generated PII-free ad-tech
# and e-commerce events plus the sets' PII-free documents (at most 1 flagged record in 10,000). Both start their own
# throwaway cluster; outputs (counts, rules, paths: never a value) go to this test's temporary directory.
source "$(dirname "$0")/../lib/tap.sh"
cd "$PA_SOURCE_ROOT"
T_DIR=$(mktemp -d /tmp/pa-realworld.XXXXXX)
trap 'rm -rf "$T_DIR"' EXIT
sets=(tests/data/realworld/dev)
[ -f tests/data/realworld/extra/docs.jsonl ] && sets+=(tests/data/realworld/extra)

rc=0
PA_BIN=$PA_BIN bash bench/realworld.sh --out "$T_DIR/rw" --json "$T_DIR/score.json" --min-kind-precision 0.97 \
    --min-recall 0.95 --min-cat-precision 0.90 --cat-min-findings 20 --max-unjudged 0 "${sets[@]}" \
    >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
grep -E "^headline" "$T_DIR/out"
t_eq "$rc" 0 "real-world sets (${sets[*]}): floors met"
t_eq "$(grep -c "floors met" "$T_DIR/out")" 1 "the scorer says so"

rc=0
PA_BIN=$PA_BIN bash bench/lookalikes.sh --out "$T_DIR/la" --max-per-10k 1 >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
grep -E "^flagged records per 10,000" "$T_DIR/out"
t_eq "$rc" 0 "look-alikes: at most 1 flagged record in 10,000"
t_done
