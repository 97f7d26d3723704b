#!/usr/bin/env bash
# detect_diff: the detectors of the working tree must find exactly what those of a base revision find.
#
#   bash bench/detect_diff.sh [BASE_REV]        (default: the merge base with main)
#
# Builds bench/detect_dump.c twice with cc -O2: against src/{util,jsonwalk,detect}.c of BASE_REV and of the working
# tree, runs both over the corpus and compares their output byte for byte (every finding: document, detector
# options, doc kind, path, category, key/value, rule; every document result; pa_detect_value and
# pa_detect_key_category answers). Corpus:
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
build() { # SRCDIR OUT
    cc -std=c11 -D_GNU_SOURCE -O2 -march=x86-64 -I"$1" "$1/util.c" "$1/jsonwalk.c" "$1/detect.c" \
        bench/detect_dump.c $(pkg-config --cflags --libs libhs) -lm -o "$2"
}
build "$tmp/base/src" "$tmp/dump_base"
build src "$tmp/dump_new"
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
