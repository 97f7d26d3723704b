#!/usr/bin/env bash
# Under systemd ($JOURNAL_STREAM names our stderr) pii-auditd logs to journald with real priorities and structured
# fields (SURFACE=, SCAN_ID=), and nothing on stderr; at debug level still no scanned value. Without a running
# journald, a stand-in socket at /run/systemd/journal/socket receives the native-protocol datagrams (needs root).
source "$(dirname "$0")/../lib/itest.sh"
SOCK=/run/systemd/journal/socket
[ "$(id -u)" = 0 ] || { echo "not ok - needs root to bind $SOCK"; T_FAILS=1; t_done; }
# one stand-in at a time on this machine (two checkouts testing at once would share the fixed socket path)
mkdir -p /run/lock && exec 9>/run/lock/pii-auditd-journald-test.lock && flock -w 300 9
if [ -S "$SOCK" ]; then
    echo "not ok - a real journald is running here: this test needs its socket free (run it in CI or a container)"
    T_FAILS=1; t_done
fi
t_db
t_init_schema
t_psql -c "CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb);
           INSERT INTO hooks VALUES (1, '{\"contact\": {\"email\": \"journal.canary@example.org\"}}'), (2, '{\"n\": 1}');"
CONF=$(t_config 'surfaces:
  - {table: hooks, column: payload}')
python3 "$PA_SOURCE_ROOT/tests/e2e/journal_listen.py" "$SOCK" "$T_DIR/journal.txt" &
LPID=$!
trap 'kill $LPID 2>/dev/null; rm -f $SOCK; rmdir /run/systemd/journal /run/systemd 2>/dev/null; t_cleanup' EXIT
wait_for 5 test -S "$SOCK"

: >"$T_DIR/stderr.txt"
JOURNAL_STREAM="$(stat -c %d:%i "$T_DIR/stderr.txt")" "$PA_BIN" --config "$CONF" --scan-once --log-level debug \
    >"$T_DIR/out" 2>>"$T_DIR/stderr.txt"
T_RC=$?
sleep 0.3
t_rc 1 "scan under a journal stream"
[ ! -s "$T_DIR/stderr.txt" ] && ok "nothing written to stderr: logs went to the journal" || not_ok "stderr has $(wc -l <"$T_DIR/stderr.txt") lines"
t_grep "^SYSLOG_IDENTIFIER=pii-auditd" "$T_DIR/journal.txt" "entries carry SYSLOG_IDENTIFIER"
t_grep "^PRIORITY=6" "$T_DIR/journal.txt" "info entries have priority 6"
t_grep "^PRIORITY=7" "$T_DIR/journal.txt" "debug entries have priority 7"
t_grep "^SURFACE=public.hooks.payload" "$T_DIR/journal.txt" "SURFACE= field on surface messages"
t_grep "^SCAN_ID=[1-9][0-9]*" "$T_DIR/journal.txt" "SCAN_ID= field"
t_grep "finding: record 1 path \\\$.contact.email category email" "$T_DIR/journal.txt" "a finding is logged by location"
t_nogrep "journal.canary" "$T_DIR/journal.txt" "the scanned value is not in any journal field"
t_nogrep "journal.canary" "$T_DIR/out" "nor on stdout"
# an error goes out with priority 3
printf 'database:\n  conninfo: "host=%s port=%s dbname=%s"\nsurfaces:\n  - {table: missing, column: c}\n' "$PA_PGHOST" "$PA_PGPORT" "$T_DB" >"$T_DIR/bad.yaml"
JOURNAL_STREAM="$(stat -c %d:%i "$T_DIR/stderr.txt")" "$PA_BIN" --config "$T_DIR/bad.yaml" --scan-once >/dev/null 2>>"$T_DIR/stderr.txt"
sleep 0.3
t_grep "^PRIORITY=3" "$T_DIR/journal.txt" "errors have priority 3"
t_done
