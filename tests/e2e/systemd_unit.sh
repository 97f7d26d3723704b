#!/usr/bin/env bash
# The shipped unit and the install layout, against an install tree made with meson install (DESTDIR):
# - the unit comes from the template systemd/pii-auditd.service.in with the build's sbindir/sysconfdir (no hard-coded
#   path), `systemd-analyze verify` prints nothing, `systemd-analyze security --offline=true` scores it 2.0 or lower;
# - the IP allow/deny pair (deny any, allow localhost), the credential, the sysusers and tmpfiles entries;
# - meson install never clobbers an edited configuration: a second install keeps its bytes, owner and mode and puts
#   the new sample next to it as pii-auditd.yaml.dist; the docs the sample points at are installed.
set -uo pipefail
ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${PA_BUILD_ROOT:-$ROOT/build}
DEST=$(mktemp -d)
trap 'rm -rf "$DEST"' EXIT
source "$ROOT/tests/lib/tap.sh"

minstall() { DESTDIR=$DEST meson install -C "$BUILD" --no-rebuild --quiet >"$DEST.log" 2>&1 || { cat "$DEST.log"; return 1; }; }
minstall && ok "meson install into DESTDIR" || not_ok "meson install failed"
rm -f "$DEST.log"
prefix=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
sbindir=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "sbindir") | .value')
sysconfdir=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "sysconfdir") | .value')
case $sbindir in /*) ;; *) sbindir=$prefix/$sbindir ;; esac
case $sysconfdir in /*) ;; *) sysconfdir=$prefix/$sysconfdir ;; esac
CONF=$DEST$sysconfdir/pii-auditd/pii-auditd.yaml

unit=$(find "$DEST" -name pii-auditd.service | head -1)
[ -n "$unit" ] && ok "meson install puts the unit in ${unit#"$DEST"}" || not_ok "unit not installed"
bin=$DEST$sbindir/pii-auditd
[ -x "$bin" ] && ok "binary installed in $sbindir" || not_ok "binary not installed in $sbindir"
[ -f "$CONF" ] && ok "sample config installed as ${CONF#"$DEST"}" || not_ok "sample config not installed"
[ -n "$(find "$DEST" -path '*/pii-auditd/sql/001_findings_schema.sql')" ] && ok "sql installed" || not_ok "sql not installed"
sysusers=$(find "$DEST" -path '*/sysusers.d/pii-auditd.conf' | head -1)
tmpfiles=$(find "$DEST" -path '*/tmpfiles.d/pii-auditd.conf' | head -1)
grep -qE '^u pii-auditd ' "$sysusers" 2>/dev/null && ok "sysusers.d entry for the pii-auditd user" || not_ok "no sysusers.d entry"
grep -qxE "d $sysconfdir/pii-auditd 0750 root pii-auditd -" "$tmpfiles" 2>/dev/null \
    && ok "tmpfiles.d: $sysconfdir/pii-auditd root:pii-auditd 0750" || not_ok "tmpfiles.d entry: $(cat "$tmpfiles" 2>&1)"
# the sample points at the documentation by its installed path: it must be there
ref=$(grep -oE '/usr/share/doc/pii-auditd/[a-z._-]+' "$ROOT/etc/pii-auditd.yaml" | head -1)
[ -n "$ref" ] && [ -f "$DEST$prefix/share/doc/pii-auditd/$(basename "$ref")" ] \
    && ok "the sample's reference $ref is installed" || not_ok "the sample's reference '$ref' is not installed"
for f in runbooks.md metrics.md operations.md; do
    [ -f "$DEST$prefix/share/doc/pii-auditd/$f" ] || not_ok "docs/$f not installed in share/doc/pii-auditd"
done
for f in alerts/pii-auditd.rules.yml grafana/pii-auditd.json; do
    [ -f "$DEST$prefix/share/pii-auditd/$f" ] || not_ok "$f not installed in share/pii-auditd"
done
[ -f "$DEST$prefix/share/man/man8/pii-auditd.8" ] && ok "man page, docs, alerts and dashboard installed" || not_ok "man page"

# paths come from meson, not from the template
if grep -nE '(/usr)?/s?bin/pii-auditd|/etc/pii-auditd' "$ROOT/systemd/pii-auditd.service.in" | grep -v '^[0-9]*:#'; then
    not_ok "the unit template hard-codes a path (above)"
else
    ok "the unit template hard-codes no binary or configuration path"
fi
t_eq "$(grep -E '^Exec(Start|StartPre)=' "$unit" | awk '{print $1}' | sort -u | tr '\n' ' ')" \
    "ExecStart=$sbindir/pii-auditd ExecStartPre=$sbindir/pii-auditd " "ExecStart/ExecStartPre run $sbindir/pii-auditd"
grep -q -- "--config $sysconfdir/pii-auditd/pii-auditd.yaml" "$unit" && ok "the unit reads $sysconfdir/pii-auditd/pii-auditd.yaml" \
    || not_ok "the unit's --config path"

# verify resolves ExecStart= in the tree given by --root; the man page is looked up there too (MANPATH)
# a minimal root: the host's system units (sysinit.target, ...), kill, and our binary where the unit expects it
mkdir -p "$DEST/usr/bin" "$DEST/usr/lib/systemd/system"
cp -a /usr/lib/systemd/system/. "$DEST/usr/lib/systemd/system/"
cp /bin/kill "$DEST/usr/bin/kill"
[ -e "$DEST/bin" ] || ln -s usr/bin "$DEST/bin"
out=$(MANPATH=$DEST$prefix/share/man systemd-analyze verify --root="$DEST" "$unit" 2>&1)
if [ -z "$out" ]; then ok "systemd-analyze verify of the installed unit prints nothing"; else not_ok "systemd-analyze verify: $out"; fi

score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for pii-auditd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}"; then ok "security exposure $score <= 2.0"; else not_ok "security exposure '$score' > 2.0"; fi
grep -q '^Type=notify' "$unit" && ok "Type=notify" || not_ok "Type=notify"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$unit" && ok "ExecReload sends HUP" || not_ok "ExecReload"
grep -q '^LimitCORE=0' "$unit" && ok "LimitCORE=0" || not_ok "LimitCORE=0"
# an allow list means nothing without the deny: both, deny first
t_eq "$(grep -E '^IPAddress(Allow|Deny)=' "$unit" | tr '\n' ' ')" "IPAddressDeny=any IPAddressAllow=localhost " \
    "IPAddressDeny=any with IPAddressAllow=localhost"
grep -q '^LoadCredential=db-password:pii-auditd.db-password$' "$unit" \
    && ok "LoadCredential=db-password from the credential store (skipped when absent)" || not_ok "LoadCredential"
grep -q '^LoadCredential=findings-password:pii-auditd.findings-password$' "$unit" \
    && ok "LoadCredential=findings-password (findings.password_credential) from the credential store" \
    || not_ok "LoadCredential=findings-password"
grep -q '^ProtectHome=yes' "$unit" && ok "ProtectHome=yes" || not_ok "ProtectHome"

# the template for a fleet, pii-auditd@.service: made from the same template, so the same hardening; an instance
# reads its own configuration and credential (docs/operations.md, "Many databases")
tmpl=$(find "$DEST" -name 'pii-auditd@.service' -not -path "$DEST/usr/lib/systemd/system/*" | head -1)
[ -n "$tmpl" ] && ok "meson install puts the template in ${tmpl#"$DEST"}" || not_ok "pii-auditd@.service not installed"
t_eq "$(grep -E '^Exec(Start|StartPre)=' "$tmpl" | sed 's/ --check-config//' | sort -u | tr '\n' ' ')" \
    "ExecStart=$sbindir/pii-auditd --config $sysconfdir/pii-auditd/%i.yaml ExecStartPre=$sbindir/pii-auditd --config $sysconfdir/pii-auditd/%i.yaml " \
    "an instance NAME reads $sysconfdir/pii-auditd/NAME.yaml"
grep -q '^LoadCredential=db-password:pii-auditd-%i.db-password$' "$tmpl" \
    && ok "an instance's password credential is its own (pii-auditd-NAME.db-password)" || not_ok "the template's LoadCredential"
grep -q '^LoadCredential=findings-password:pii-auditd-%i.findings-password$' "$tmpl" \
    && ok "an instance's findings credential is its own (pii-auditd-NAME.findings-password)" \
    || not_ok "the template's LoadCredential=findings-password"
t_eq "$(diff <(sed -n '/^\[Service\]/,$p' "$unit" | grep -vE '^(Exec|LoadCredential=|#)') \
             <(sed -n '/^\[Service\]/,$p' "$tmpl" | grep -vE '^(Exec|LoadCredential=|#)') && echo same)" "same" \
    "the template's [Service] and [Install] sections are the unit's (hardening included), but for the config and credential"
inst=$(dirname "$tmpl")/pii-auditd@app.service
ln -s pii-auditd@.service "$inst"
out=$(MANPATH=$DEST$prefix/share/man systemd-analyze verify --root="$DEST" "$inst" 2>&1)
if [ -z "$out" ]; then ok "systemd-analyze verify of an instance (pii-auditd@app) prints nothing"; else not_ok "verify pii-auditd@app: $out"; fi
score=$(systemd-analyze security --offline=true "$inst" 2>/dev/null | sed -n 's/.*Overall exposure level for pii-auditd@app.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}"; then ok "instance security exposure $score <= 2.0"; else not_ok "instance security exposure '$score' > 2.0"; fi
rm -f "$inst"

# meson install never clobbers an edited configuration
chmod 0640 "$CONF"
echo "# edited by the operator" >>"$CONF"
sum=$(sha256sum <"$CONF")
minstall && ok "second meson install" || not_ok "second meson install failed"
t_eq "$(sha256sum <"$CONF")" "$sum" "the edited configuration is kept byte for byte"
t_eq "$(stat -c %a "$CONF")" "640" "its mode is kept"
cmp -s "$ROOT/etc/pii-auditd.yaml" "$CONF.dist" && ok "the new sample is installed next to it as pii-auditd.yaml.dist" \
    || not_ok "no pii-auditd.yaml.dist"
t_done
