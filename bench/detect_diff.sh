#!/usr/bin/env bash
# detect_diff: the detectors of the working tree must find exactly what those of a base revision find.
#
#   bash bench/detect_diff.sh [BASE_REV]        (default: the merge base with main)
#
# Builds bench/detect_dump.c twice with cc -O2: against src/util.c, src/jsonwalk.c and the detector (src/detect.c in
# the flat layout of 6840fc2 and before, src/detect/*.c since) of BASE_REV and of the working tree, runs both over the
# corpus and compares their output byte for byte (every finding: document, detector options, doc kind, path,
# category, key/value, rule; every document result; pa_detect_value and pa_detect_key_category answers).
# DETECT_DIFF_CFLAGS adds flags to the working tree's build only: DETECT_DIFF_CFLAGS=-DPA_NO_SIMD compares the
# scalar forms (src/arch.h) against the base's SIMD build. Corpus:
#   bench/out/payloads.jsonl   gen.sql payloads, one per line, if present (bench/detect_corpus.sh writes it);
#                              all of them plain, the first 300 also mutated and with their strings re-wrapped
#   tests/data/*.sql *.tsv, tests/data/peer-vectors/*.jsonl, tests/fuzz/corpus/{detect,jsonwalk}/*   mutated
# Exit 0 when identical, 1 with the first differing lines otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
base=${1:-$(git merge-base HEAD main)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/base"
git archive "$base" src | tar -x -C "$tmp/base" # all of src/: the files it includes change (jsonwalk_impl.h)
build() { # SRCDIR OUT [CFLAGS...]: the flat layout (src/detect.c, up to 6840fc2) or the rooms (src/detect/*.c)
    local src=$1 out=$2 det
    shift 2
    if [ -d "$src/detect" ]; then det=("$src"/detect/*.c); else det=("$src/detect.c"); fi
    cc -std=c11 -D_GNU_SOURCE -O2 -march=x86-64 "$@" -I"$src" "$src/util.c" "$src/jsonwalk.c" "${det[@]}" \
        bench/detect_dump.c $(pkg-config --cflags --libs libhs) -lm -o "$out"
}
build "$tmp/base/src" "$tmp/dump_base"
build src "$tmp/dump_new" ${DETECT_DIFF_CFLAGS:-}
corpus_plain=() corpus_mut=()
if [ -f bench/out/payloads.jsonl ]; then
    corpus_plain+=(bench/out/payloads.jsonl)
    head -n 300 bench/out/payloads.jsonl >"$tmp/payloads_head.jsonl"
    corpus_mut+=("$tmp/payloads_head.jsonl")
else
    echo "detect_diff: bench/out/payloads.jsonl missing (bash bench/detect_corpus.sh makes it); smaller corpus" >&2
fi
corpus_mut+=(tests/data/*.sql tests/data/*.tsv tests/fuzz/corpus/detect/* tests/fuzz/corpus/jsonwalk/*)
for f in "$root"/tests/data/peer-vectors/*.jsonl; do [ -f "$f" ] && corpus_mut+=("$f"); done
# both dumps at once; each must succeed (a crash would leave a short output that could still compare equal)
pids=()
for v in base new; do
    {
        if [ ${#corpus_plain[@]} -gt 0 ]; then "$tmp/dump_$v" --mutations=0 "${corpus_plain[@]}" || exit; fi
        "$tmp/dump_$v" --mutations=6 "${corpus_mut[@]}"
    } >"$tmp/$v.out" &
    pids+=($!)
done
for i in 0 1; do
    wait "${pids[$i]}" || { echo "detect_diff: the $([ $i = 0 ] && echo base || echo new) dump failed" >&2; exit 1; }
done
lines=$(wc -l <"$tmp/base.out")
findings=$(grep -c ' | ' "$tmp/base.out" || true)
if cmp -s "$tmp/base.out" "$tmp/new.out"; then
    echo "detect_diff: identical to $base: $lines lines, $findings findings/answers"
    exit 0
fi
echo "detect_diff: DIFFERENT from $base ($lines lines base, $(wc -l <"$tmp/new.out") new):"
diff "$tmp/base.out" "$tmp/new.out" | head -40
exit 1
