#!/usr/bin/env bash
# The check helpers every shell test prints with (TAP-like lines "ok - ..." / "not ok - ..." and a last summary
# line "<test>: N passed, N failed"; t_done exits 1 when a check failed). tests/lib/itest.sh sources this; tests
# that need no database (http_endpoint.sh, e2e/alert_rules.sh, e2e/systemd_unit.sh) source it alone.
# A test can redefine t_fail_context to print what helps after a failed check (default: the stdout and stderr of
# the last t_run, when the test has a $T_DIR).

T_NAME=${T_NAME:-$(basename "$0" .sh)}
T_FAILS=0
T_CHECKS=0

t_fail_context() {
    [ -n "${T_DIR:-}" ] || return 0
    echo "  --- stdout:"; sed 's/^/  | /' "$T_DIR/out" 2>/dev/null | head -40
    echo "  --- stderr:"; sed 's/^/  | /' "$T_DIR/err" 2>/dev/null | head -40
}

ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }
not_ok() {
    T_CHECKS=$((T_CHECKS + 1)); T_FAILS=$((T_FAILS + 1)); echo "not ok - $*"
    t_fail_context
}
t_eq() { # actual expected message
    if [ "$1" == "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', want '$2')"; fi
}
t_ne() { # actual unwanted message
    if [ "$1" != "$2" ]; then ok "$3"; else not_ok "$3 (got '$1')"; fi
}
t_rc() { t_eq "$T_RC" "$1" "$2 (exit code)"; }
t_grep() { # pattern file message
    if grep -qE -- "$1" "$2"; then ok "$3"; else not_ok "$3 (no /$1/ in $(basename "$2"))"; fi
}
t_nogrep() {
    if grep -qE -- "$1" "$2"; then not_ok "$3 (found /$1/ in $(basename "$2"))"; else ok "$3"; fi
}

t_done() {
    echo "$T_NAME: $((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
    [ "$T_FAILS" -eq 0 ] || { [ -n "${T_DIR:-}" ] && echo "(artifacts kept in $T_DIR)"; exit 1; }
    exit 0
}
