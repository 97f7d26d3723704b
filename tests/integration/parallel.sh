#!/usr/bin/env bash
# scan.parallelism: N readers over id ranges find exactly what one reader finds (bigint, uuid and text ids), with
# no duplicate; a run killed (SIGKILL) in the middle of a parallel full scan and of a parallel incremental scan
# leaves a cursor that never runs ahead of committed findings, and the next run resumes exactly right (the full
# scan too, at its pass's committed position); a parallel
# scan stopped with SIGTERM is recorded cancelled and resumed. The oracle at the end: a one-reader full scan finds
# nothing new and resolves nothing.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
# ids 3, 6, ... 90000 (gaps); every 100th row carries an email and a phone number -> 2 findings each (600)
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO events SELECT 3 * g, CASE WHEN g % 100 = 0
      THEN jsonb_build_object('order', g, 'contact', jsonb_build_object('email', 'user' || g || '@example.com',
                              'note', 'call +1 415 555 ' || lpad((g % 10000)::text, 4, '0')))
      ELSE jsonb_build_object('order', g, 'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || g)))
    END FROM generate_series(1, 30000) g;
  CREATE TABLE ev_uuid (id uuid PRIMARY KEY, doc jsonb);
  INSERT INTO ev_uuid SELECT md5('u' || g)::uuid, jsonb_build_object('n', g, 'email',
      CASE WHEN g % 50 = 0 THEN 'x' || g || '@example.org' END) FROM generate_series(1, 3000) g;
  CREATE TABLE ev_text (code text PRIMARY KEY, doc jsonb);
  INSERT INTO ev_text SELECT 'K-' || g || CASE WHEN g % 3 = 0 THEN 'a' WHEN g % 3 = 1 THEN 'B' ELSE ' z' END,
      jsonb_build_object('ip_address', CASE WHEN g % 50 = 0 THEN '10.0.' || (g % 200) || '.1' END)
    FROM generate_series(1, 3000) g;
  ANALYZE events, ev_uuid, ev_text;"
SURF='surfaces:
  - {table: events, column: payload}
  - {table: ev_uuid, column: doc}
  - {table: ev_text, column: doc}'
conf() { T_BATCH=${2:-200} T_SCAN_EXTRA="  parallelism: $1${3:+
  max_rows_per_second: $3}" t_config "$SURF"; }
findings() { t_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL"; }
distinct() { t_val "SELECT count(*) FROM (SELECT DISTINCT table_name, column_name, record_id, json_path, category FROM pii_audit.findings) d"; }
reset_store() { t_psql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs"; }
opens() { jq -r '[.surfaces[] | .surface + ":" + (.rows|tostring) + ":" + ((.open | to_entries | map(.key + "=" + (.value|tostring)) | join(",")))] | join(" ")' "$T_DIR/out"; }

t_run --config "$(conf 4)" --check-config
t_rc 0 "parallelism 4 is a valid setting"
t_run --config "$(conf 0)" --check-config
t_rc 2 "parallelism 0 is refused"
t_grep "scan.parallelism: expected an integer between 1 and 16" "$T_DIR/err" "the message names the key and the range"

# reference: one reader
t_run --config "$(conf 1)" --scan-once --full --output json
t_rc 1 "one reader: findings"
ref=$(opens)
t_eq "$ref" "public.events.payload:30000:email=300,phone=300 public.ev_uuid.doc:3000:email=60 public.ev_text.doc:3000:ip_address=60" "one reader reads every row once"
t_psql -c "CREATE TABLE ref AS SELECT table_name, column_name, record_id, json_path, category FROM pii_audit.findings"
reset_store

t_run --config "$(conf 4 7)" --scan-once --full --output json --log-level debug
t_rc 1 "four readers: findings"
t_eq "$(opens)" "$ref" "four readers (batch 7) read every row once and find the same counts"
t_eq "$(grep -c '4 readers over 4 id ranges' "$T_DIR/err")" "3" "bigint (min/max), uuid and text (pg_stats histogram) surfaces were split in 4"
t_eq "$(t_val "SELECT count(*) FROM (SELECT table_name, column_name, record_id, json_path, category FROM pii_audit.findings EXCEPT SELECT * FROM ref) d") $(t_val "SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT table_name, column_name, record_id, json_path, category FROM pii_audit.findings) d")" "0 0" "the same findings as one reader"
t_eq "$(distinct)" "$(findings)" "no duplicates"
t_eq "$(t_val "SELECT string_agg(last_id, ',' ORDER BY table_name) FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" "90000" "first scan: the cursor ends at the last id"
t_run --config "$(conf 3)" --scan-once --dry-run --output json
t_eq "$(opens)" "$ref" "a parallel dry run counts the same"
reset_store

# a cursor never runs ahead of what is committed: every reference finding at or below it is present
cursor_ok() { # message
    local c missing
    c=$(t_val "SELECT coalesce(last_id, '0') FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")
    missing=$(t_val "SELECT count(*) FROM ref r WHERE r.table_name = 'public.events' AND r.record_id::bigint <= ${c:-0}
                      AND NOT EXISTS (SELECT 1 FROM pii_audit.findings f WHERE f.table_name = r.table_name
                        AND f.record_id = r.record_id AND f.json_path = r.json_path AND f.category = r.category)")
    t_eq "$missing" "0" "$1 (cursor ${c:-none})"
}
has_findings() { [ "$(t_val "SELECT count(*) FROM pii_audit.findings" 2>/dev/null || echo 0)" -ge "$1" ]; }
kill_mid_scan() { # signal min-findings config
    t_run_bg --config "$3" --scan-once --surface public.events.payload --output json
    wait_for 15 has_findings "$2"
    kill "-$1" "$T_BG_PID"
    t_run_wait
}

# killed in the middle of the first (full) parallel scan
kill_mid_scan KILL 100 "$(conf 3 500 6000)"
t_eq "$T_RC" "137" "first full parallel scan killed"
mid=$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.events'")
[ "$mid" -gt 0 ] && [ "$mid" -lt 600 ] && ok "part of the findings committed before the kill ($mid)" || not_ok "findings before kill: $mid"
cursor_ok "after the kill, the cursor covers only committed findings"
# the killed full scan resumes where its committed prefix ended (issue 14), not from the start
fpos=$(t_val "SELECT coalesce(full_pos, '0') FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")
t_run --config "$(conf 3)" --scan-once --surface public.events.payload --output json
t_rc 1 "the next parallel scan completes"
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring)' "$T_DIR/out")" "full $(t_val "SELECT count(*) FROM events WHERE id > $fpos")" \
    "it is full (no full scan finished yet) and resumes at the killed pass's position ($fpos)"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.events'") $(distinct)" "600 600" "every finding once"
t_eq "$(t_val "SELECT status FROM pii_audit.scan_runs ORDER BY id LIMIT 1")" "interrupted" "the killed run is recorded as interrupted"
t_eq "$(t_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" "90000" "cursor at the last id"

# killed in the middle of a parallel incremental scan over 30000 new rows (600 more findings)
t_psql -c "INSERT INTO events SELECT 3 * g, CASE WHEN g % 100 = 0
      THEN jsonb_build_object('contact', jsonb_build_object('email', 'user' || g || '@example.com', 'tel', '+1 415 555 0' || (g % 1000)))
      ELSE jsonb_build_object('order', g) END FROM generate_series(30001, 60000) g;"
t_psql -c "DROP TABLE ref" -c "CREATE TABLE ref (table_name text, column_name text, record_id text, json_path text, category text)"
# the reference for the new rows: a one-reader dry run cannot list them, so take them from a separate store run
t_run --config "$(conf 1)" --scan-once --surface public.events.payload --output json
t_eq "$(jq -r '.surfaces[0].mode + " " + (.surfaces[0].rows|tostring) + " " + (.totals.new_findings|tostring)' "$T_DIR/out")" "incremental 30000 600" "reference: one reader reads the 30000 new rows, 600 new findings"
t_psql -c "INSERT INTO ref SELECT table_name, column_name, record_id, json_path, category FROM pii_audit.findings WHERE table_name = 'public.events'"
# roll the store back to before that reference run
t_psql -c "DELETE FROM pii_audit.findings WHERE record_id::bigint > 90000 AND table_name = 'public.events';
           UPDATE pii_audit.scan_cursors SET last_id = '90000' WHERE table_name = 'public.events'"
kill_mid_scan KILL 700 "$(conf 3 500 6000)"
t_eq "$T_RC" "137" "parallel incremental scan killed"
mid=$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.events'")
[ "$mid" -gt 600 ] && [ "$mid" -lt 1200 ] && ok "part of the new findings committed before the kill ($mid)" || not_ok "findings before kill: $mid"
cursor_ok "after the kill, the incremental cursor covers only committed findings"
before=$(t_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")
t_run --config "$(conf 3)" --scan-once --surface public.events.payload --output json
t_rc 1 "the next parallel incremental scan completes"
t_eq "$(jq -r '.surfaces[0].mode' "$T_DIR/out")" "incremental" "it resumed incrementally"
t_eq "$(jq -r '.surfaces[0].rows' "$T_DIR/out")" "$(t_val "SELECT count(*) FROM events WHERE id > $before")" "it read exactly the rows past the cursor ($before)"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.events'") $(distinct)" "1200 1200" "every finding once"
t_eq "$(t_val "SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT table_name, column_name, record_id, json_path, category FROM pii_audit.findings) d")" "0" "every reference finding present"
t_eq "$(t_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" "180000" "cursor at the last id"

# SIGTERM: stops at a batch boundary, cancelled, the next run finishes the work
t_psql -c "INSERT INTO events SELECT 3 * g, CASE WHEN g % 100 = 0 THEN jsonb_build_object('email', 'late' || g || '@example.com')
           ELSE jsonb_build_object('order', g) END FROM generate_series(60001, 80000) g;"
kill_mid_scan TERM 1260 "$(conf 2 500 4000)"
t_rc 3 "a stopped parallel scan exits 3"
t_grep '"reason":"cancelled"' "$T_DIR/out" "recorded as cancelled"
cursor_ok "after SIGTERM, the cursor covers only committed findings"
t_run --config "$(conf 2)" --scan-once --surface public.events.payload --output json
t_rc 1 "the next scan completes"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.events'")" "1400" "every finding once after the stop (200 more)"

# the oracle: one reader, full: nothing new, nothing resolved
t_run --config "$(conf 1)" --scan-once --full --surface public.events.payload --output json
t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" "0 0 1400" "a one-reader full scan finds nothing the parallel scans missed"
t_eq "$(distinct)" "$(t_val "SELECT count(*) FROM pii_audit.findings")" "no duplicates at the end"
t_grep "finding: record" "$T_DIR/all-err" "debug lines were written by the readers"
t_nogrep "example\.(com|org)|415 555|10\.0\." "$T_DIR/all-err" "no value in any log line, even at debug"
# surfaces in parallel on one pool of readers: with parallelism 2 a surface that cannot be split (text ids, no
# statistics) leaves the second reader free, and the next surface is read beside it; the readers keep their
# connections from surface to surface (server-side session count, pg_stat_database.sessions)
t_psql -c "CREATE TABLE big_text (code text PRIMARY KEY, doc jsonb) WITH (autovacuum_enabled = false);
  INSERT INTO big_text SELECT 'B' || lpad(g::text, 6, '0'), jsonb_build_object('n', g, 'email',
      CASE WHEN g % 100 = 0 THEN 'big' || g || '@example.net' END) FROM generate_series(1, 20000) g;
  CREATE TABLE small_text (code text PRIMARY KEY, doc jsonb) WITH (autovacuum_enabled = false);
  INSERT INTO small_text SELECT 'S' || g, jsonb_build_object('email', 'small' || g || '@example.net')
    FROM generate_series(1, 20) g;"
SURF2='surfaces:
  - {table: big_text, column: doc}
  - {table: small_text, column: doc}
  - {table: ev_uuid, column: doc}
  - {table: ev_text, column: doc}'
conf2() { T_BATCH=200 T_SCAN_EXTRA="  parallelism: $1" t_config "$SURF2"; }
sessions() { t_val "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"; }
# sessions the last pii-auditd run opened: wait until its backends are gone (each query here is a session too)
scan_sessions() { # sessions-before
    local q=1
    while [ "$(t_val "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pii-auditd'")" != 0 ]; do
        q=$((q + 1))
        sleep 0.1
    done
    echo $(($(sessions) - $1 - q - 1))
}
s0=$(sessions)
t_run --config "$(conf2 1)" --scan-once --full --output json --log-level info
t_rc 1 "one reader over four surfaces: findings"
t_eq "$(scan_sessions "$s0")" "4" "one reader: 4 sessions for 4 surfaces (its 2, the checks', the store's)"
ref2=$(opens)
order1=$(grep -oE '(big_text|small_text)\.doc: full scan done' "$T_DIR/err" | tr '\n' ' ')
t_eq "$order1" "big_text.doc: full scan done small_text.doc: full scan done " "one reader reads the surfaces in order"
t_psql -c "DELETE FROM pii_audit.findings WHERE table_name IN ('public.big_text', 'public.small_text', 'public.ev_uuid', 'public.ev_text')"
s0=$(sessions)
t_run --config "$(conf2 2)" --scan-once --full --output json --log-level info
t_rc 1 "two readers over four surfaces: findings"
t_eq "$(scan_sessions "$s0")" "6" "two readers: 6 sessions for 4 surfaces of up to 2 ranges each (connections reused)"
t_eq "$(opens)" "$ref2" "two readers over four surfaces find what one reader finds"
t_eq "$(distinct)" "$(t_val "SELECT count(*) FROM pii_audit.findings")" "no duplicates"
order2=$(grep -oE '(big_text|small_text)\.doc: full scan done' "$T_DIR/err" | tr '\n' ' ')
t_eq "$order2" "small_text.doc: full scan done big_text.doc: full scan done " "the small surface was read beside the big one"
t_grep "public.big_text.doc: no statistics on id column code" "$T_DIR/err" "the big surface could not be split"
t_done
