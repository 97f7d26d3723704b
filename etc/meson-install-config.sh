#!/bin/sh
# `meson install` step for the configuration (meson.add_install_script): installs the sample as pii-auditd.yaml only
# when there is none, else next to it as pii-auditd.yaml.dist. It never overwrites an existing configuration (it
# holds the conninfo, maybe more) and never changes its owner or mode.
# On a real install as root (no DESTDIR) it also creates the system user and the configuration directory, as the
# Debian package's postinst does: systemd-sysusers and systemd-tmpfiles on the entries meson installed, then a new
# configuration gets root:pii-auditd 0640. Under DESTDIR (packaging) it only places the file, mode 0644: the package
# sets owner and mode at install time.
#   meson-install-config.sh SAMPLE CONFDIR SYSUSERS_CONF TMPFILES_CONF
set -eu
sample=$1 confdir=$2 sysusers=$3 tmpfiles=$4
dest=${DESTDIR:-}$confdir
mkdir -p "$dest"
real=0
if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" = 0 ]; then real=1; fi

if [ -e "$dest/pii-auditd.yaml" ] || [ -L "$dest/pii-auditd.yaml" ]; then
    install -m 0644 "$sample" "$dest/pii-auditd.yaml.dist"
    echo "Kept $dest/pii-auditd.yaml as it is; the new sample is $dest/pii-auditd.yaml.dist"
    new=0
else
    # 0640 from the first byte on a real install, so the file is never world-readable once it holds a conninfo
    if [ $real = 1 ]; then mode=0640; else mode=0644; fi
    install -m $mode "$sample" "$dest/pii-auditd.yaml"
    echo "Installed the sample configuration as $dest/pii-auditd.yaml"
    new=1
fi

if [ $real = 1 ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then systemd-sysusers "$sysusers"; fi
    if command -v systemd-tmpfiles >/dev/null 2>&1; then systemd-tmpfiles --create "$tmpfiles" || true; fi
    if [ $new = 1 ] && getent group pii-auditd >/dev/null 2>&1; then
        chgrp pii-auditd "$dest/pii-auditd.yaml"
    fi
fi
