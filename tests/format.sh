#!/usr/bin/env bash
# The C sources are formatted as .clang-format says (clang-format 14, Debian's clang-format): every .c and .h under
# src/, tests/ and bench/. `meson compile -C build format` formats them in place (this script with --fix).
#   bash tests/format.sh            check (exit 1 and the first differences when a file is not formatted)
#   bash tests/format.sh --fix      format in place
set -euo pipefail
cd "${PA_SOURCE_ROOT:-$(dirname "$0")/..}"
files=$(find src tests bench -name '*.[ch]' -not -path '*/out/*' | sort)
if [ "${1:-}" = "--fix" ]; then
    clang-format -i $files
    exit 0
fi
bad=0
for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (bash tests/format.sh --fix, or meson compile -C build format)"
        clang-format "$f" | diff "$f" - | head -10 || true
        bad=$((bad + 1))
    fi
done
echo "format: $(echo "$files" | wc -l) files, $bad not formatted"
[ $bad = 0 ]
