#!/usr/bin/env bash
# Install what the project needs from Debian's packages (idempotent; skips apt when everything is present).
PA_DEPS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev check libhyperscan-dev libmicrohttpd-dev libsystemd-dev libyaml-dev
libpq-dev postgresql-15 postgresql-client-15 prometheus jq curl wrk time python3 systemd libgnutls28-dev
libcrypt-dev openssl procps python3-yaml valgrind git debhelper dpkg-dev fakeroot lintian chromium clang-format"

pa_install_deps() {
    local missing=()
    for p in $PA_DEPS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
        return 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
