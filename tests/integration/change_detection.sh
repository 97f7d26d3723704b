#!/usr/bin/env bash
# Change detection (issue 14): after UPDATEs that add and remove PII, a DELETE, inserts under uuid and random text
# keys, a late commit (a transaction holding a low id open while later ids commit), and with changed_column, the
# incremental scan's open findings are exactly a full scan's (the oracle: a full scan right after finds nothing new
# and resolves nothing, and the open set is the same), every time. Also: a watermark that cannot be used reads the
# surface in full; VACUUM FULL (which keeps xmin) costs no re-read and hides nothing; a full scan stopped midway
# resumes at the next scan while the incremental work goes on, and its end resolves what no scan saw since it began;
# the xmin arithmetic holds across the 32-bit xid wraparound (a cluster set just before it). No value in any output
# or log line.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
# 20000 rows; every 100th an email (200 findings)
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT g, CASE WHEN g % 100 = 0
      THEN jsonb_build_object('order', g, 'contact', jsonb_build_object('email', 'user' || g || '@example.com'))
      ELSE jsonb_build_object('order', g, 'sku', 'SKU-' || g) END FROM generate_series(1, 20000) g;
  CREATE TABLE ev_uuid (id uuid PRIMARY KEY, doc jsonb);
  INSERT INTO ev_uuid SELECT md5('u' || g)::uuid, jsonb_build_object('n', g) FROM generate_series(1, 2000) g;
  CREATE TABLE ev_text (code text PRIMARY KEY, doc jsonb);
  INSERT INTO ev_text SELECT md5('t' || g), jsonb_build_object('n', g) FROM generate_series(1, 2000) g;"
# t_config writes $T_DIR/pa.yaml: each configuration gets its own copy
keep() { cp "$1" "$T_DIR/$2.yaml" && echo "$T_DIR/$2.yaml"; }
CONF=$(keep "$(T_BATCH=500 t_config 'surfaces:
  - {table: events, column: payload}
  - {table: ev_uuid, column: doc}
  - {table: ev_text, column: doc}')" main)
open_set() { t_val "SELECT md5(string_agg(f, ',' ORDER BY f)) FROM (SELECT table_name || '|' || record_id || '|' || json_path
                    || '|' || category AS f FROM pii_audit.findings WHERE resolved_at IS NULL) o"; }
field() { jq -r "[.surfaces[] | select(.table == \"public.$1\") | .$2] | .[0]" "$T_DIR/out"; }
# the oracle: what the incremental scan left open is what a full scan finds, no more, no less
oracle() { # label
    local before
    before=$(open_set)
    t_run --config "$CONF" --scan-once --full --output json
    t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring)' "$T_DIR/out")" "0 0" \
        "$1: a full scan right after finds nothing new and resolves nothing"
    t_eq "$(open_set)" "$before" "$1: the open findings are the full scan's"
}

t_run --config "$CONF" --scan-once --output json
t_rc 1 "first scan: findings"
t_eq "$(field events mode) $(field events rows) $(jq -r '.totals.open_findings' "$T_DIR/out")" "full 20000 200" "the first scan is full"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events mode) $(jq -r '.totals.rows' "$T_DIR/out")" "incremental 0" "nothing changed: an incremental scan reads nothing"

# UPDATEs that add PII (1000 old rows get a phone number) and remove it (200 emails), a DELETE of 1000 rows
t_psql -c "UPDATE events SET payload = payload || '{\"tel\": \"+1 415 555 0132\"}' WHERE id % 20 = 7;
           UPDATE events SET payload = payload #- '{contact,email}' WHERE id % 100 = 0 AND id <= 20000;
           DELETE FROM events WHERE id % 20 = 13;"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events mode) $(field events rows) $(field events rows_reread)" "incremental 1200 1200" \
    "the incremental scan reads exactly the 1200 updated rows"
t_eq "$(t_val "SELECT count(*) FILTER (WHERE resolved_reason = 'gone') || ' ' || count(*) FILTER (WHERE resolved_at IS NULL AND category = 'phone')
               FROM pii_audit.findings WHERE table_name = 'public.events'")" "200 1000" \
    "the 200 removed emails are resolved (gone), the 1000 phone numbers found"
oracle "updates and deletes"

t_psql -c "UPDATE events SET payload = jsonb_build_object('email', 'back' || id || '@example.com') WHERE id IN (100, 200);
           DELETE FROM events WHERE id IN (300, 7);"
t_run --config "$CONF" --scan-once --output json
t_eq "$(t_val "SELECT string_agg(record_id || ':' || category || ':' || resolved_reason, ',' ORDER BY record_id::bigint, category)
               FROM pii_audit.findings WHERE resolved_scan_id = (SELECT max(id) FROM pii_audit.scan_runs)")" \
    "7:phone:deleted" "a deleted record's finding is resolved as deleted"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE record_id IN ('100', '200') AND resolved_at IS NULL")" "2" \
    "a record that gets PII back is open again"
oracle "PII back, deletes"

# inserts under random keys: uuid and md5 text keys sort anywhere, most of them below the tail
t_psql -c "INSERT INTO ev_uuid SELECT md5('new' || g)::uuid, jsonb_build_object('email', 'uuid' || g || '@example.org') FROM generate_series(1, 100) g;
           INSERT INTO ev_text SELECT md5('newt' || g), jsonb_build_object('email', 'text' || g || '@example.org') FROM generate_series(1, 100) g;"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field ev_uuid rows) $(field ev_text rows) $(jq -r '.totals.new_findings' "$T_DIR/out")" "100 100 200" \
    "the 100 uuid-keyed and 100 text-keyed rows are read, wherever their keys sort"
oracle "random keys"

# a late commit: id 30001 held open while 30002..30010 commit and are scanned; then it commits
coproc LATE { PGAPPNAME=pa_late psql -X -q -v ON_ERROR_STOP=1 -d "$T_DB" >/dev/null 2>&1; }
echo "BEGIN; INSERT INTO events VALUES (30001, '{\"contact\": {\"email\": \"late.commit@example.com\"}}');" >&"${LATE[1]}"
held() { [ "$(t_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pa_late' AND state = 'idle in transaction'")" = 1 ]; }
wait_for 10 held || not_ok "the late transaction did not start"
t_psql -c "INSERT INTO events SELECT g, jsonb_build_object('email', 'early' || g || '@example.com') FROM generate_series(30002, 30010) g"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events rows) $(t_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" "9 30010" \
    "the scan reads the 9 committed rows; the tail passes the open id"
echo "COMMIT;" >&"${LATE[1]}"
late_fd=${LATE[1]}
exec {late_fd}>&-
wait "$LATE_PID" 2>/dev/null
t_run --config "$CONF" --scan-once --output json
# the open transaction held the last watermark back (it is the oldest one that was running): the rows committed
# after it began are read again too, until a scan starts with no older transaction open
t_eq "$(field events rows) $(t_val "SELECT count(*) FROM pii_audit.findings WHERE record_id = '30001' AND resolved_at IS NULL")" "10 1" \
    "after its commit the next scan reads the late row (below the tail) and finds its email (and the 9 after it again)"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events rows)" "0" "then nothing is read again"
oracle "late commit"

# VACUUM FULL rewrites the table but keeps every row's xmin: no re-read, nothing hidden
t_psql -c "VACUUM FULL events"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events rows)" "0" "after VACUUM FULL an incremental scan reads nothing again"
t_psql -c "UPDATE events SET payload = '{\"email\": \"after.vacuum@example.com\"}' WHERE id = 5"
t_run --config "$CONF" --scan-once --output json
t_eq "$(field events rows) $(jq -r '.totals.new_findings' "$T_DIR/out")" "1 1" "a change after it is read"

# a watermark that cannot be used (here: newer than the database's transactions) reads the surface in full
t_psql -c "UPDATE pii_audit.scan_cursors SET watermark = '999999999999' WHERE table_name = 'public.ev_uuid'"
t_run --config "$CONF" --scan-once --output json --log-level warn
t_eq "$(field ev_uuid mode) $(field ev_uuid rows)" "full 2100" "an unusable watermark: the surface is read in full"
t_grep "public.ev_uuid.doc: the last scan's watermark cannot be used" "$T_DIR/err" "and the log says why"
oracle "after a full re-read"

# changed_column: rows found by updated_at (with its index), not by transaction id
t_psql -c "CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now(), doc jsonb);
           CREATE INDEX ON orders (updated_at);
           INSERT INTO orders (id, doc) SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 3000) g;
           UPDATE orders SET updated_at = now() - interval '1 day';"
CONF_C=$(keep "$(T_BATCH=500 t_config 'surfaces:
  - {table: orders, column: doc, changed_column: updated_at, changed_overlap: 1s}')" changed)
t_run --config "$CONF_C" --scan-once --output json
t_eq "$(field orders mode) $(field orders rows)" "full 3000" "changed_column: the first scan is full"
t_psql -c "UPDATE orders SET doc = '{\"email\": \"changed.col@example.com\"}', updated_at = now() WHERE id IN (10, 2000);
           INSERT INTO orders (id, doc) VALUES (3001, '{\"email\": \"new.order@example.com\"}');"
t_run --config "$CONF_C" --scan-once --output json
t_eq "$(field orders mode) $(field orders rows) $(field orders rows_reread) $(jq -r '.totals.new_findings' "$T_DIR/out")" \
    "incremental 3 2 3" "changed_column: the 2 rows with a newer updated_at and the new one are read"
t_run --config "$CONF_C" --scan-once --full --output json
t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring)' "$T_DIR/out")" "0 0" \
    "changed_column: a full scan finds nothing more"
t_psql -c "UPDATE orders SET doc = '{}', updated_at = now() WHERE id = 10"
t_run --config "$CONF_C" --scan-once --output json
t_eq "$(t_val "SELECT resolved_reason FROM pii_audit.findings WHERE table_name = 'public.orders' AND record_id = '10'")" "gone" \
    "changed_column: a changed row's finding that is gone is resolved"
# a changed row seen by xmin only (updated_at not set) is the documented limit of changed_column: no re-read
t_psql -c "UPDATE orders SET doc = '{\"email\": \"silent@example.com\"}' WHERE id = 20"
t_run --config "$CONF_C" --scan-once --output json
t_eq "$(jq -r '.totals.new_findings' "$T_DIR/out") $(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.orders' AND record_id = '20'")" \
    "0 0" "changed_column: a write that does not set it is not seen (docs/configuration.md)"
t_run --config "$CONF_C" --scan-once --full --output json
t_eq "$(jq -r '.totals.new_findings' "$T_DIR/out")" "1" "changed_column: the next full scan finds it"

# a full scan stopped midway resumes at the next scan; the incremental work goes on meanwhile; its end resolves
# what no scan saw since it began (a finding the configuration no longer reports, past where it stopped)
t_psql -c "UPDATE events SET payload = payload || '{\"support_email\": \"help@example.com\"}' WHERE id IN (1, 19990)"
t_run --config "$CONF" --scan-once --surface events.payload --output json
CONF_SLOW=$(keep "$(T_BATCH=200 T_SCAN_EXTRA="  max_rows_per_second: 2000" t_config 'surfaces:
  - {table: events, column: payload}')" slow)
pass_pos() { t_val "SELECT coalesce(full_pos, '0') FROM pii_audit.scan_cursors WHERE table_name = 'public.events'"; }
past() { [ "$(pass_pos)" -ge "$1" ]; }
t_run_bg --config "$CONF_SLOW" --scan-once --full --output json
wait_for 30 past 4000 || not_ok "the full scan did not get going"
kill -TERM "$T_BG_PID"
t_run_wait
t_rc 3 "a full scan stopped by SIGTERM exits 3"
stop=$(pass_pos)
pass=$(t_val "SELECT full_scan_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")
[ "$stop" -gt 0 ] && [ "$stop" -lt 19000 ] && ok "the pass stopped at $stop (scan $pass)" || not_ok "pass position $stop"
t_psql -c "UPDATE events SET payload = '{\"email\": \"during.pass@example.com\"}' WHERE id = 2;
           DELETE FROM events WHERE id = 19987;"
CONF_IGN=$(cp "$CONF" "$T_DIR/ign.yaml"; printf 'detectors:\n  ignore_keys: [support_email]\n' >>"$T_DIR/ign.yaml"; echo "$T_DIR/ign.yaml")
t_run --config "$CONF_IGN" --scan-once --surface events.payload --output json --log-level info
t_rc 1 "the next scan completes"
rest=$(t_val "SELECT count(*) FROM events WHERE id > $stop")
t_eq "$(field events mode) $(field events rows) $(field events rows_reread)" "full $((rest + 1)) 1" \
    "it reads the changed row, then resumes the pass where it stopped ($rest rows left)"
t_grep "resuming the full scan begun in scan $pass at $stop" "$T_DIR/err" "the log says it resumes"
t_eq "$(t_val "SELECT string_agg(record_id || ':' || json_path || ':' || coalesce(resolved_reason, 'open'), ',' ORDER BY record_id::bigint)
               FROM pii_audit.findings WHERE record_id IN ('1', '2', '19987', '19990') AND table_name = 'public.events'")" \
    "1:\$.support_email:open,2:\$.email:open,19987:\$.tel:deleted,19990:\$.support_email:full_scan" \
    "before the stop the pass saw record 1 (kept); the change and the delete were resolved meanwhile; past it, the end resolves what it no longer reports"
t_eq "$(t_val "SELECT coalesce(full_scan_id::text, 'none') || ' ' || (last_full_scan_id > $pass) FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" \
    "none true" "the pass is complete and recorded"

# across the 32-bit xid wraparound: a cluster of its own whose counter is set 400 transactions before it (VACUUM
# FREEZE, then pg_resetwal -x; the commit log segment of the new counter created empty, as pg_resetwal's manual says)
WRAP=$T_DIR/wrap
WPORT=$(pa_free_port $((PA_PGPORT + 200)) $((PA_PGPORT + 400)))
trap 'pa_pg_stop "$WRAP" immediate; t_cleanup' EXIT
wpsql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$WRAP" -p "$WPORT" -U postgres "$@"; }
if (pa_pg_start "$WRAP" "$WPORT" >/dev/null) && wpsql -d template1 -c "ALTER DATABASE template0 ALLOW_CONNECTIONS true" &&
    "$PA_PG_BIN/vacuumdb" -q -h "$WRAP" -p "$WPORT" -U postgres --all --freeze && pa_pg_stop "$WRAP" &&
    pa__as_pg "$PA_PG_BIN/pg_resetwal" -e 2 -x 4294966900 -D "$WRAP/data" >/dev/null &&
    pa__as_pg dd if=/dev/zero of="$WRAP/data/pg_xact/0FFF" bs=8192 count=32 status=none &&
    (pa_pg_start "$WRAP" "$WPORT" >/dev/null); then
    wpsql -d postgres -c "CREATE DATABASE w" >/dev/null
    for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do wpsql -d w -f "$f" >/dev/null; done
    wpsql -d w -c "CREATE TABLE ev (id bigint PRIMARY KEY, doc jsonb);
                   INSERT INTO ev SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 1000) g" >/dev/null
    cat >"$T_DIR/wrap.yaml" <<YAML
database:
  conninfo: "host=$WRAP port=$WPORT dbname=w user=postgres"
surfaces:
  - {table: ev, column: doc}
YAML
    t_run --config "$T_DIR/wrap.yaml" --scan-once --output json
    t_eq "$(field ev mode) $(field ev rows)" "full 1000" "near the wrap: the first scan is full"
    before=$(wpsql -d w -c "SELECT pg_current_xact_id()::text::bigint % 4294967296")
    wpsql -d w -c "UPDATE ev SET doc = '{\"email\": \"before.wrap@example.com\"}' WHERE id = 1" >/dev/null
    for _ in $(seq 1 450); do echo "SELECT pg_current_xact_id();"; done | wpsql -d w >/dev/null
    after=$(wpsql -d w -c "SELECT pg_current_xact_id()::text::bigint % 4294967296")
    [ "$before" -gt 4294966000 ] && [ "$after" -lt 1000 ] && ok "the xid counter wrapped ($before -> $after)" ||
        not_ok "the xid counter did not wrap ($before -> $after)"
    wpsql -d w -c "UPDATE ev SET doc = '{\"email\": \"after.wrap@example.com\"}' WHERE id = 2" >/dev/null
    t_run --config "$T_DIR/wrap.yaml" --scan-once --output json
    t_eq "$(field ev mode) $(field ev rows_reread) $(jq -r '.totals.new_findings' "$T_DIR/out")" "incremental 2 2" \
        "across the wrap: the row changed before it (xmin near 2^32) and the one after it (a small xmin), nothing else"
    wpsql -d w -c "UPDATE ev SET doc = '{\"email\": \"next.scan@example.com\"}' WHERE id = 3" >/dev/null
    t_run --config "$T_DIR/wrap.yaml" --scan-once --output json
    t_eq "$(field ev rows_reread) $(jq -r '.totals.new_findings' "$T_DIR/out")" "1 1" "with the watermark past the wrap: only the next change"
    t_run --config "$T_DIR/wrap.yaml" --scan-once --full --output json
    t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring)' "$T_DIR/out")" "0 0" \
        "across the wrap: a full scan finds nothing more"
    pa_pg_stop "$WRAP" immediate
else
    not_ok "could not set up a cluster near the xid wrap"
fi

t_nogrep "example\.(com|org)|415 555" "$T_DIR/all-out" "no value in any output"
t_nogrep "example\.(com|org)|415 555" "$T_DIR/all-err" "no value in any log line"
t_done
