#!/usr/bin/env bash
# The shipped unit: `systemd-analyze verify` prints nothing (against an install tree made with meson install), and
# `systemd-analyze security --offline=true` scores it 2.0 or lower.
set -uo pipefail
ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${PA_BUILD_ROOT:-$ROOT/build}
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT
source "$ROOT/tests/lib/tap.sh"

DESTDIR=$DEST meson install -C "$BUILD" --no-rebuild --quiet >/dev/null 2>&1 || DESTDIR=$DEST meson install -C "$BUILD" --no-rebuild >/dev/null
unit=$(find "$DEST" -name pii-auditd.service | head -1)
[ -n "$unit" ] && ok "meson install puts the unit in ${unit#"$DEST"}" || not_ok "unit not installed"
bin=$(find "$DEST" -path '*sbin/pii-auditd' | head -1)
[ -n "$bin" ] && ok "binary installed in ${bin#"$DEST"}" || not_ok "binary not installed"
[ -n "$(find "$DEST" -path '*/pii-auditd/pii-auditd.yaml')" ] && ok "sample config installed" || not_ok "sample config not installed"
[ -n "$(find "$DEST" -path '*/pii-auditd/sql/001_findings_schema.sql')" ] && ok "sql installed" || not_ok "sql not installed"

# verify resolves ExecStart= in the tree given by --root; the man page is looked up there too (MANPATH)
# a minimal root: the host's system units (sysinit.target, ...), kill, and our binary where the unit expects it
mkdir -p "$DEST/usr/sbin" "$DEST/usr/bin" "$DEST/usr/lib/systemd/system"
[ -x "$DEST/usr/sbin/pii-auditd" ] || cp "$bin" "$DEST/usr/sbin/pii-auditd"
cp -a /usr/lib/systemd/system/. "$DEST/usr/lib/systemd/system/"
cp "$unit" "$DEST/usr/lib/systemd/system/pii-auditd.service"
cp /bin/kill "$DEST/usr/bin/kill"
ln -s usr/bin "$DEST/bin" 2>/dev/null || true
ln -s usr/lib "$DEST/lib" 2>/dev/null || true
unit=$DEST/usr/lib/systemd/system/pii-auditd.service
out=$(MANPATH=$DEST/usr/share/man:$DEST/usr/local/share/man systemd-analyze verify --root="$DEST" "$unit" 2>&1)
if [ -z "$out" ]; then ok "systemd-analyze verify prints nothing"; else not_ok "systemd-analyze verify: $out"; fi

score=$(systemd-analyze security --offline=true "$ROOT/systemd/pii-auditd.service" 2>/dev/null | sed -n 's/.*Overall exposure level for pii-auditd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}"; then ok "security exposure $score <= 2.0"; else not_ok "security exposure '$score' > 2.0"; fi
grep -q '^Type=notify' "$ROOT/systemd/pii-auditd.service" && ok "Type=notify" || not_ok "Type=notify"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$ROOT/systemd/pii-auditd.service" && ok "ExecReload sends HUP" || not_ok "ExecReload"
grep -q '^LimitCORE=0' "$ROOT/systemd/pii-auditd.service" && ok "LimitCORE=0" || not_ok "LimitCORE=0"
t_done
