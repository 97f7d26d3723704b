#!/usr/bin/env bash
# Each broken surface fails alone with its clear reason (missing table/column, wrong type, no unique id, NULL ids,
# no grant, row-level security) while the good surfaces are still scanned and recorded; exit status 3. A composite
# primary key is read (issue 14), not refused.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
t_psql <<'SQL'
CREATE TABLE good (id bigint PRIMARY KEY, doc jsonb);
INSERT INTO good VALUES (1, '{"email": "a.person@example.org"}'), (2, '{"x": 1}');
CREATE TABLE wrongtype (id bigint PRIMARY KEY, doc integer);
CREATE TABLE nopk (id bigint, doc jsonb);
CREATE TABLE composite (a int, b int, doc jsonb, PRIMARY KEY (a, b));
CREATE TABLE notunique (id bigint PRIMARY KEY, other bigint, doc jsonb);
CREATE TABLE nullid (code text UNIQUE, doc jsonb);
INSERT INTO nullid VALUES ('a', '{"email": "with.id@example.org"}'), (NULL, '{"email": "no.id@example.org"}');
CREATE TABLE secret (id bigint PRIMARY KEY, doc jsonb);
CREATE TABLE rls (id bigint PRIMARY KEY, doc jsonb);
INSERT INTO rls VALUES (1, '{"phone": "+1 415 555 0132"}'), (2, '{"email": "hidden.row@example.org"}');
ALTER TABLE rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON rls FOR SELECT USING (id = 1);
DROP ROLE IF EXISTS pa_limited;
CREATE ROLE pa_limited LOGIN;
GRANT USAGE ON SCHEMA pii_audit TO pa_limited;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pii_audit TO pa_limited;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pii_audit TO pa_limited;
GRANT SELECT ON good, wrongtype, nopk, composite, notunique, nullid, rls TO pa_limited;
SQL
CONF=$(T_USER=pa_limited t_config 'surfaces:
  - {table: good, column: doc}
  - {table: missing_table, column: doc}
  - {table: good, column: missing_column}
  - {table: wrongtype, column: doc}
  - {table: nopk, column: doc}
  - {table: composite, column: doc}
  - {table: notunique, column: doc, id_column: other}
  - {table: nullid, column: doc, id_column: code}
  - {table: secret, column: doc}
  - {table: rls, column: doc}')

t_run --config "$CONF" --scan-once --output json
t_rc 3 "a broken surface makes the scan exit 3"
jq -e . "$T_DIR/out" >/dev/null && ok "JSON output parses" || not_ok "JSON output parses"
reason() { jq -r --arg s "$1" '.surfaces[] | select(.surface == $s) | (.status + " " + (.error.reason // "-"))' "$T_DIR/out"; }
msg() { jq -r --arg s "$1" '.surfaces[] | select(.surface == $s) | .error.message // ""' "$T_DIR/out"; }
t_eq "$(reason public.good.doc)" "ok -" "the good surface is scanned"
t_eq "$(reason public.missing_table.doc)" "failed missing" "missing table"
t_eq "$(reason public.good.missing_column)" "failed missing" "missing column"
t_eq "$(reason public.wrongtype.doc)" "failed unsupported_type" "integer column refused"
t_eq "$(reason public.nopk.doc)" "failed no_unique_id" "table without primary key"
t_eq "$(reason public.composite.doc)" "ok -" "a composite primary key is read"
t_eq "$(reason public.notunique.doc)" "failed no_unique_id" "non-unique id_column"
t_eq "$(reason public.nullid.doc)" "failed null_id" "an id column holding NULLs: refused, never ok with rows unread"
t_eq "$(reason public.secret.doc)" "failed permission" "no SELECT grant"
t_eq "$(reason public.rls.doc)" "failed rls" "row-level security refuses the surface"
echo "$(msg public.missing_table.doc)" | grep -q "public.missing_table does not exist" && ok "missing table message" || not_ok "missing table message: $(msg public.missing_table.doc)"
echo "$(msg public.wrongtype.doc)" | grep -q "type integer" && ok "type message names the type" || not_ok "type message"
echo "$(msg public.nopk.doc)" | grep -q "id_column" && ok "no-pk message says how to fix" || not_ok "no-pk message"
echo "$(msg public.nopk.doc)" | grep -q "keyless: ctid" && ok "no-pk message names the keyless mode" || not_ok "no-pk message: $(msg public.nopk.doc)"
echo "$(msg public.nullid.doc)" | grep -q "ALTER TABLE public.nullid ALTER COLUMN code SET NOT NULL" && ok "NULL id message names the fix" || not_ok "NULL id message: $(msg public.nullid.doc)"
echo "$(msg public.secret.doc)" | grep -q "GRANT SELECT (id, doc, ctid, xmin) ON public.secret TO pa_limited" && ok "grant message names the grant (key, column, ctid and xmin)" || not_ok "grant message: $(msg public.secret.doc)"
echo "$(msg public.rls.doc)" | grep -q "row-level security" && ok "rls message" || not_ok "rls message"
t_grep "surface not scanned \(permission\)" "$T_DIR/err" "a log line per failed surface"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.good'")" "1" "good surface findings recorded"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.rls'")" "0" "RLS surface never reported"
t_eq "$(t_val "SELECT status || ' ' || surfaces_failed FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "partial 8" "scan run is partial with 8 failed surfaces"
t_eq "$(t_val "SELECT string_agg(error_class, ',' ORDER BY error_class) FROM pii_audit.scan_run_surfaces WHERE table_name = 'public.nullid'")" "null_id" "the NULL id reason is recorded"
t_eq "$(t_val "SELECT error_class FROM pii_audit.scan_run_surfaces WHERE table_name = 'public.rls'")" "rls" "surface outcome recorded with its reason"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.scan_cursors WHERE table_name = 'public.rls'")" "0" "no cursor for a surface that was never read"

# a surface locked by another session: the scan waits at most lock_timeout, fails that surface alone
# The lock is held for LOCK_S seconds, through both scans below; "did not wait for the lock holder" means the first
# scan ended in less than half of that. Both scale with PA_TIME_SCALE (slower pii-auditd under valgrind).
LOCK_S=$(pa_scaled 20)
t_psql -c "CREATE TABLE locked (id bigint PRIMARY KEY, doc jsonb); INSERT INTO locked VALUES (1, '{}');"
PGAPPNAME=pa_locker psql -X -q -d "$T_DB" -c "BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($LOCK_S); COMMIT;" >/dev/null 2>&1 &
locker=$!
locked() { [ "$(t_val "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE a.application_name = 'pa_locker' AND l.granted AND l.mode = 'AccessExclusiveLock'")" = 1 ]; }
wait_for 10 locked || not_ok "the locker did not get its lock"
CONF2=$(T_SCAN_EXTRA="  lock_timeout: 500ms" t_config 'surfaces:
  - {table: locked, column: doc}
  - {table: good, column: doc}')
start=$(date +%s)
t_run --config "$CONF2" --scan-once --output json
t_rc 3 "locked surface: exit 3"
t_eq "$(reason public.locked.doc)" "failed lock_timeout" "locked table fails with lock_timeout"
t_eq "$(reason public.good.doc)" "ok -" "the other surface is still scanned"
[ $(( $(date +%s) - start )) -lt $((LOCK_S / 2)) ] && ok "the scan did not wait for the lock holder" || not_ok "scan waited $(( $(date +%s) - start ))s"
t_eq "$(t_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'")" "0" "no connection left behind"

# a statement timeout: the lock waits longer than lock_timeout allows, so statement_timeout (1s) fires first
CONF3=$(T_STMT_TIMEOUT=1s T_SCAN_EXTRA="  lock_timeout: 5m" t_config 'surfaces:
  - {table: locked, column: doc}
  - {table: good, column: doc}')
t_run --config "$CONF3" --scan-once --output json
t_rc 3 "statement timeout: exit 3"
t_eq "$(reason public.locked.doc)" "failed timeout" "a batch over statement_timeout fails the surface with reason timeout"
msg public.locked.doc | grep -q "statement timeout" && ok "timeout message says so" || not_ok "timeout message: $(msg public.locked.doc)"
t_eq "$(reason public.good.doc)" "ok -" "the other surface is still scanned"
t_eq "$(t_val "SELECT error_class FROM pii_audit.scan_run_surfaces WHERE table_name = 'public.locked' ORDER BY scan_id DESC LIMIT 1")" "timeout" "timeout recorded in scan_run_surfaces"
t_val "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pa_locker'" >/dev/null
kill $locker 2>/dev/null; wait $locker 2>/dev/null
t_done
