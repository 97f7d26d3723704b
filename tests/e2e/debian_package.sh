#!/usr/bin/env bash
# The Debian package, end to end, on this machine (as root: CI runs on Debian 12 as root, maybe without systemd as
# PID 1, and the maintainer scripts must cope):
#  1. dpkg-buildpackage -b -us -uc in a temporary copy of the tree (DEB_BUILD_OPTIONS=nocheck: the suites run the
#     tests), lintian with no error;
#  2. install: the user, /etc/pii-auditd root:pii-auditd 0750, the conffile root:pii-auditd 0640, the files, the
#     unit not enabled, `systemd-analyze verify` of the installed unit prints nothing;
#  3. the first run of docs/operations.md ("Install from the Debian package") on a fresh PostgreSQL cluster: the
#     schema printed by --print-init-sql --all (as root) into psql as the superuser, the role from
#     /usr/share/pii-auditd/sql, peer authentication through the documented pg_ident map, the config edited,
#     --check-config, --init-db as the pii-auditd user refused with who may and how, --print-grants run as that user
#     piped to psql, the preflight (--check-config --connect) as that user, a first scan as that user;
#  4. upgrade to a rebuilt package (a new changelog entry, a changed sample): the edited conffile is kept with its
#     owner and mode, the new sample lands next to it as .dpkg-dist; an unedited conffile is replaced and still
#     gets root:pii-auditd 0640;
#  5. purge: the configuration, its directory and every file are gone (the system user stays, as usual in Debian:
#     debian/README.source).
# The machine is left as it was found: the package is purged and a user this test created is removed, even on failure.
set -uo pipefail
ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/tests/lib/tap.sh"
source "$ROOT/tests/lib/wait.sh"
source "$ROOT/tests/lib/pg.sh"
T_NAME=debian_package

if [ "$(id -u)" != 0 ]; then
    echo "# skip: installs a package: run as root (CI does)"
    exit 77
fi
for tool in dpkg-buildpackage dh lintian fakeroot; do
    command -v $tool >/dev/null || { echo "not ok - $tool missing (tests/lib/deps.sh installs it)"; exit 1; }
done
if dpkg-query -W -f='${Status}' pii-auditd 2>/dev/null | grep -q 'installed'; then
    echo "not ok - a pii-auditd package is already installed on this machine: not touching it"
    exit 1
fi

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pa-debian_package.XXXXXX")
chmod 755 "$T_DIR"
USER_EXISTED=0
getent passwd pii-auditd >/dev/null && USER_EXISTED=1
CONF=/etc/pii-auditd/pii-auditd.yaml
PGD=$T_DIR/pg
cleanup() {
    pa_pg_stop "$PGD" immediate 2>/dev/null
    if dpkg-query -W -f='${Status}' pii-auditd 2>/dev/null | grep -qv 'not-installed'; then
        dpkg --purge pii-auditd >/dev/null 2>&1 || echo "# cleanup: dpkg --purge pii-auditd failed" >&2
    fi
    if [ $USER_EXISTED = 0 ] && getent passwd pii-auditd >/dev/null; then userdel pii-auditd 2>/dev/null; fi
    if [ $USER_EXISTED = 0 ] && getent group pii-auditd >/dev/null; then groupdel pii-auditd 2>/dev/null; fi
    if [ "$T_FAILS" -eq 0 ] && [ -z "${PA_KEEP:-}" ]; then rm -rf "$T_DIR"; fi
}
trap cleanup EXIT
secs() { echo $((SECONDS - $1)); }
owner_mode() { stat -c '%U:%G %a' "$1" 2>/dev/null; }

# ---- 1. build and lint ---------------------------------------------------------------------------------------------
# the tracked and new (not ignored) files of the checkout: what a clean clone with the work in progress would have
SRC=$T_DIR/src/pii-auditd
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$SRC"
else # an exported tree: everything but build output
    tar -C "$ROOT" --exclude='./build*' --exclude=./.pgtmp --exclude='./obj-*' --exclude=./bench/out -cf - . | tar -xf - -C "$SRC"
fi
t0=$SECONDS
if (cd "$SRC" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc) >"$T_DIR/build1.log" 2>&1; then
    ok "dpkg-buildpackage -b -us -uc ($(secs $t0) s)"
else
    not_ok "dpkg-buildpackage failed:"; tail -30 "$T_DIR/build1.log" | sed 's/^/#   /'; t_done
fi
meson_version=$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$ROOT/meson.build" | head -1)
deb_version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
t_eq "$deb_version" "$meson_version" "debian/changelog's version is meson's project version"
DEB1=$(ls "$T_DIR"/src/pii-auditd_*_amd64.deb)
mkdir -p "$T_DIR/v1" && mv "$T_DIR"/src/*.deb "$T_DIR"/src/*.changes "$T_DIR"/src/*.buildinfo "$T_DIR/v1/" && DEB1=$T_DIR/v1/$(basename "$DEB1")

t0=$SECONDS
lintian --fail-on error --pedantic -I "$T_DIR"/v1/*.changes >"$T_DIR/lintian.log" 2>&1
rc=$?
grep -v '^running with root privileges' "$T_DIR/lintian.log" | sed 's/^/# lintian: /'
if [ $rc = 0 ] && ! grep -q '^E:' "$T_DIR/lintian.log"; then ok "lintian: no error ($(secs $t0) s)"; else not_ok "lintian (exit $rc)"; fi
t_eq "$(grep -cE '^[WE]:' "$T_DIR/lintian.log")" "0" "lintian: no warning either (overrides carry their reason)"

# ---- 2. install ---------------------------------------------------------------------------------------------------
if dpkg -i "$DEB1" >"$T_DIR/install1.log" 2>&1; then ok "dpkg -i $(basename "$DEB1")"; else
    not_ok "dpkg -i failed:"; sed 's/^/#   /' "$T_DIR/install1.log"; t_done; fi
t_eq "$(getent passwd pii-auditd | cut -d: -f6,7)" "/nonexistent:/usr/sbin/nologin" "system user pii-auditd (no home, no shell)"
t_eq "$(owner_mode /etc/pii-auditd)" "root:pii-auditd 750" "/etc/pii-auditd is root:pii-auditd 0750"
t_eq "$(owner_mode $CONF)" "root:pii-auditd 640" "$CONF is root:pii-auditd 0640"
t_eq "$(cat /var/lib/dpkg/info/pii-auditd.conffiles)" "$CONF" "$CONF is the one conffile"
for f in /usr/sbin/pii-auditd /lib/systemd/system/pii-auditd.service /lib/systemd/system/pii-auditd@.service \
    /usr/lib/sysusers.d/pii-auditd.conf \
    /usr/lib/tmpfiles.d/pii-auditd.conf /usr/share/pii-auditd/sql/001_findings_schema.sql \
    /usr/share/pii-auditd/sql/002_database_identity.sql \
    /usr/share/pii-auditd/sql/003_change_detection.sql \
    /usr/share/pii-auditd/sql/004_findings_workflow.sql \
    /usr/share/pii-auditd/sql/roles.sql /usr/share/pii-auditd/alerts/pii-auditd.rules.yml \
    /usr/share/pii-auditd/grafana/pii-auditd.json /usr/share/man/man8/pii-auditd.8.gz \
    /usr/share/doc/pii-auditd/configuration.md /usr/share/doc/pii-auditd/operations.md \
    /usr/share/doc/pii-auditd/runbooks.md /usr/share/doc/pii-auditd/metrics.md /usr/share/doc/pii-auditd/copyright; do
    [ -e "$f" ] || not_ok "$f not installed"
done
ok "binary, unit, sysusers/tmpfiles entries, SQL, alerts, dashboard, man page, docs and runbooks are installed"
ref=$(grep -oE '/usr/share/doc/pii-auditd/[a-z._-]+' $CONF | head -1)
[ -f "$ref" ] && ok "the conffile's pointer $ref exists" || not_ok "the conffile points at '$ref', which is missing"
t_eq "$(/usr/sbin/pii-auditd --version | head -1 | awk '{print $2}')" "$meson_version" "the installed binary runs (--version)"
[ -e /etc/systemd/system/multi-user.target.wants/pii-auditd.service ] && not_ok "the unit was enabled on install" \
    || ok "the unit is not enabled on a fresh install (the operator enables it once configured)"
out=$(systemd-analyze verify /lib/systemd/system/pii-auditd.service 2>&1)
[ -z "$out" ] && ok "systemd-analyze verify of the installed unit prints nothing" || not_ok "systemd-analyze verify: $out"
score=$(systemd-analyze security --offline=true /lib/systemd/system/pii-auditd.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for pii-auditd.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}"; then ok "installed unit: security exposure $score"; else
    not_ok "installed unit: security exposure '$score' > 2.0"; fi

# ---- 3. the first run, as docs/operations.md says ----------------------------------------------------------------
t0=$SECONDS
port=$(pa_free_port)
pa_pg_start "$PGD" "$port" >/dev/null 2>&1 && ok "a fresh PostgreSQL 15 cluster" || { not_ok "cluster did not start"; t_done; }
# peer authentication for the OS user pii-auditd as the role pii_auditd: the documented pg_ident map, its pg_hba line
# first (the throwaway cluster trusts every other local connection, as initdb --auth=trust made it)
echo "pii-auditd      pii-auditd      pii_auditd" >>"$PGD/data/pg_ident.conf"
sed -i '1i local   app   pii_auditd   peer map=pii-auditd' "$PGD/data/pg_hba.conf"   # as docs/operations.md says
pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$PGD/data" reload >/dev/null
sleep 0.5
pa_psql -d postgres -c "CREATE DATABASE app" >/dev/null
pa_psql -d app -c "CREATE TABLE webhook_events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO webhook_events SELECT g, jsonb_build_object('order', g) FROM generate_series(1, 50) g;
  INSERT INTO webhook_events VALUES (51, '{\"customer\": {\"email\": \"deb.canary@example.com\"}}');" >/dev/null
# step 1 as root, before the configuration is edited: --all needs no connection
/usr/sbin/pii-auditd --print-init-sql --all >"$T_DIR/init.sql" 2>"$T_DIR/init.err" \
    && pa_psql -d app -f "$T_DIR/init.sql" >/dev/null \
    && (for f in /usr/share/pii-auditd/sql/[0-9][0-9][0-9]_*.sql; do pa_psql -d app -f "$f" >/dev/null || exit 1; done) \
    && pa_psql -d app -f /usr/share/pii-auditd/sql/roles.sql >/dev/null \
    && ok "findings schema (--print-init-sql --all, then the files again: idempotent) and role from /usr/share/pii-auditd/sql (as the superuser)" \
    || { not_ok "schema or roles.sql failed"; sed 's/^/#   /' "$T_DIR/init.err"; }
# the configuration: edited in place, so it stays root:pii-auditd 0640
python3 - "$CONF" "host=$PGD port=$port dbname=app user=pii_auditd" <<'EOF'
import re, sys
p, conninfo = sys.argv[1:3]
s = open(p).read()
s = re.sub(r'(?m)^  conninfo: ".*"$', '  conninfo: "%s"' % conninfo, s, count=1)
s = re.sub(r"(?ms)^surfaces:\n.*?(?=^\S)", "surfaces:\n  - table: public.webhook_events\n    column: payload\n\n", s, count=1)
open(p, "w").write(s + "# edited by the operator\n")
EOF
grep -q "host=$PGD" $CONF && ok "configuration edited (conninfo, surfaces)" || not_ok "configuration edit"
as_pa() { runuser -u pii-auditd -- "$@"; }
as_pa /usr/sbin/pii-auditd --check-config >"$T_DIR/check.out" 2>&1 && ok "pii-auditd --check-config as the pii-auditd user" \
    || { not_ok "--check-config:"; sed 's/^/#   /' "$T_DIR/check.out"; }
# root is not mapped: peer authentication (not trust) is what lets the service user in
psql -X -h "$PGD" -p "$port" -U pii_auditd -d app -c 'SELECT 1' >/dev/null 2>&1 \
    && not_ok "root could connect as pii_auditd: the peer map is not in force" || ok "root cannot connect as pii_auditd (peer)"
as_pa psql -X -h "$PGD" -p "$port" -U pii_auditd -d app -Atc 'SELECT current_user' >"$T_DIR/peer.out" 2>&1
t_eq "$(cat "$T_DIR/peer.out")" "pii_auditd" "the OS user pii-auditd connects as the role pii_auditd (pg_ident map)"
# --init-db as the service user: the role may not create or alter the schema; it says who may, and how
as_pa /usr/sbin/pii-auditd --init-db >"$T_DIR/initdb.out" 2>&1
rc=$?
if [ $rc = 0 ]; then ok "--init-db as pii-auditd: nothing to apply (the schema is there)"; else
    grep -q 'may not create or change the findings schema' "$T_DIR/initdb.out" && [ $rc = 3 ] \
        && ok "--init-db as pii-auditd: exit 3, naming who may and how" || { not_ok "--init-db as pii-auditd (exit $rc):"; sed 's/^/#   /' "$T_DIR/initdb.out"; }
fi
as_pa /usr/sbin/pii-auditd --check-config --connect >"$T_DIR/preflight0.out" 2>&1
t_eq "$?" "2" "the preflight before the grants: exit 2"
grep -q '^FAIL surface public.webhook_events.payload \[permission\]: .*GRANT SELECT (id, payload, ctid, xmin)' "$T_DIR/preflight0.out" \
    && ok "the preflight names the missing grant" || { not_ok "the preflight before the grants:"; sed 's/^/#   /' "$T_DIR/preflight0.out"; }
as_pa /usr/sbin/pii-auditd --print-grants >"$T_DIR/grants.sql" 2>"$T_DIR/grants.err"
t_grep '^GRANT SELECT \(id, payload, ctid, xmin\) ON TABLE public.webhook_events TO pii_auditd;' "$T_DIR/grants.sql" \
    "--print-grants (as pii-auditd) found the primary key: column-level grant"
pa_psql -d app -f "$T_DIR/grants.sql" >/dev/null && ok "grants applied" || not_ok "grants failed"
as_pa /usr/sbin/pii-auditd --check-config --connect >"$T_DIR/preflight.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^preflight: all [0-9]* checks passed' "$T_DIR/preflight.out" \
    && ok "the preflight as pii-auditd: every check passes (exit 0)" || { not_ok "the preflight (exit $rc):"; sed 's/^/#   /' "$T_DIR/preflight.out"; }
as_pa /usr/sbin/pii-auditd --scan-once >"$T_DIR/scan.out" 2>&1
rc=$?
t_eq "$rc" "1" "first scan as the pii-auditd user: exit 1, findings ($(secs $t0) s for the first run)"
t_eq "$(pa_psql -d app -Atc "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.webhook_events' AND resolved_at IS NULL")" \
    "1" "the finding is in pii_audit.findings"
grep -q 'deb.canary' "$T_DIR/scan.out" && not_ok "the scanned value reached the output" || ok "no scanned value in the output"
pa_pg_stop "$PGD"

# ---- 4. upgrade ---------------------------------------------------------------------------------------------------
chmod 0640 $CONF
sum=$(sha256sum <$CONF)
# a rebuilt package: a new changelog entry (as dch would write it) and a changed sample configuration
(cd "$SRC" && {
    printf 'pii-auditd (%s+ci1) bookworm; urgency=medium\n\n  * Rebuilt for the upgrade test.\n\n -- %s  %s\n\n' \
        "$deb_version" "$(dpkg-parsechangelog -S Maintainer)" "$(date -R)"
    cat debian/changelog
} >debian/changelog.new && mv debian/changelog.new debian/changelog)
echo "# (sample changed in the rebuilt package)" >>"$SRC/etc/pii-auditd.yaml"
t0=$SECONDS
# -nc: the same build tree, so only the packaging steps run again (with the new version and sample)
if (cd "$SRC" && rm -rf debian/tmp && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc -nc) >"$T_DIR/build2.log" 2>&1; then
    ok "rebuilt as $deb_version+ci1 ($(secs $t0) s)"
else
    not_ok "rebuild failed:"; tail -30 "$T_DIR/build2.log" | sed 's/^/#   /'; t_done
fi
DEB2=$(ls "$T_DIR"/src/pii-auditd_*+ci1_amd64.deb)
dpkg-deb --fsys-tarfile "$DEB2" | tar -xOf - ./etc/pii-auditd/pii-auditd.yaml | grep -q 'sample changed' \
    && ok "the rebuilt package's conffile differs" || not_ok "the rebuilt package carries the old sample"
# non-interactive, keeping the admin's version, as unattended upgrades do
if dpkg -i --force-confold "$DEB2" >"$T_DIR/install2.log" 2>&1; then ok "upgrade: dpkg -i --force-confold"; else
    not_ok "upgrade failed:"; sed 's/^/#   /' "$T_DIR/install2.log"; fi
t_eq "$(dpkg-query -W -f='${Version}' pii-auditd)" "$deb_version+ci1" "the new version is installed"
t_eq "$(sha256sum <$CONF)" "$sum" "the edited conffile is kept byte for byte"
t_eq "$(owner_mode $CONF)" "root:pii-auditd 640" "its owner and mode are kept"
t_eq "$(owner_mode /etc/pii-auditd)" "root:pii-auditd 750" "the directory's owner and mode are kept"
grep -q 'sample changed' $CONF.dpkg-dist 2>/dev/null && ok "the new sample is next to it as $CONF.dpkg-dist" \
    || not_ok "no $CONF.dpkg-dist"

# ---- 5. purge -----------------------------------------------------------------------------------------------------
purge_checks() { # what
    dpkg --purge pii-auditd >"$T_DIR/purge.log" 2>&1 && ok "$1: dpkg --purge" || { not_ok "$1: purge failed"; sed 's/^/#   /' "$T_DIR/purge.log"; }
    dpkg-query -W -f='${Status}' pii-auditd 2>/dev/null | grep -q installed && not_ok "$1: the package is still known to dpkg" \
        || ok "$1: dpkg no longer knows the package"
    [ -e /etc/pii-auditd ] && not_ok "$1: /etc/pii-auditd is left: $(ls -la /etc/pii-auditd)" \
        || ok "$1: /etc/pii-auditd is gone (conffile, .dpkg-dist and directory)"
    local left=()
    for f in /usr/sbin/pii-auditd /lib/systemd/system/pii-auditd.service /lib/systemd/system/pii-auditd@.service \
    /usr/lib/sysusers.d/pii-auditd.conf \
        /usr/lib/tmpfiles.d/pii-auditd.conf /usr/share/pii-auditd /usr/share/doc/pii-auditd \
        /usr/share/man/man8/pii-auditd.8.gz /var/lib/dpkg/info/pii-auditd.list; do
        [ -e "$f" ] && left+=("$f")
    done
    t_eq "${left[*]}" "" "$1: no file of the package is left"
}
purge_checks "after the upgrade"
getent passwd pii-auditd >/dev/null && ok "the system user is kept on purge (Debian practice; debian/README.source)" \
    || not_ok "the system user was removed on purge"

# an unedited conffile: the upgrade replaces it, and it still ends root:pii-auditd 0640
dpkg -i "$DEB1" >"$T_DIR/install3.log" 2>&1 && dpkg -i "$DEB2" >>"$T_DIR/install3.log" 2>&1 \
    && ok "install $deb_version then upgrade, conffile untouched" || { not_ok "install/upgrade:"; sed 's/^/#   /' "$T_DIR/install3.log"; }
grep -q 'sample changed' $CONF && ok "the unedited conffile is replaced by the new sample" || not_ok "the unedited conffile was not replaced"
t_eq "$(owner_mode $CONF)" "root:pii-auditd 640" "the replaced conffile is root:pii-auditd 0640"
purge_checks "second purge"
t_done
