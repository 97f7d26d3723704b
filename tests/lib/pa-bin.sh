#!/bin/sh
# What the tests run as PA_BIN (tests/lib/itest.sh puts it there): the real binary ($PA_REAL_BIN), with --allow-root
# when we are root (CI runs as root; scans and the daemon refuse root without it), and under $PA_BIN_PREFIX when set
# (tests/valgrind.sh sets a valgrind command line). exec keeps the PID, so tests that signal the daemon still reach it.
if [ "$(id -u)" = 0 ]; then
    # shellcheck disable=SC2086
    exec ${PA_BIN_PREFIX:-} "$PA_REAL_BIN" --allow-root "$@"
fi
# shellcheck disable=SC2086
exec ${PA_BIN_PREFIX:-} "$PA_REAL_BIN" "$@"
