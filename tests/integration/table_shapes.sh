#!/usr/bin/env bash
# Table shapes (issue 14): never "ok" with rows unread.
#   - an id_column holding NULLs (10% of 50,000 rows) is refused (null_id) with the fix named, and unread.failed says
#     how many rows that leaves; once fixed, every row is read;
#   - a table partitioned by date, primary key (id, created_at), is one surface on its parent: every row read by
#     key through the parent, findings attributed to the parent, a partition created between scans and one attached
#     already filled (rows older than the watermark) are both read; --print-grants' grants on the parent are all a
#     role needs, for partitions created later too;
#   - a composite primary key: record ids {a,b}; changes and deletes resolved by key;
#   - a table without a key is refused naming keyless: ctid; with it, every scan reads it whole by row location,
#     record ids ctid:(b,o), and its findings are resolved by those full reads.
# Each time, a full scan right after finds nothing the incremental scans missed. No value in any output or log.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
keep() { cp "$1" "$T_DIR/$2.yaml" && echo "$T_DIR/$2.yaml"; }
field() { jq -r "[.surfaces[] | select(.table == \"public.$1\") | .$2] | .[0]" "$T_DIR/out"; }
oracle() { # config label
    t_run --config "$1" --scan-once --full --output json
    t_eq "$(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring)' "$T_DIR/out")" "0 0" \
        "$2: a full scan right after finds nothing new and resolves nothing"
}

# ---- an id column holding NULLs ----
t_psql -c "CREATE TABLE hooks (code text UNIQUE, payload jsonb);
  INSERT INTO hooks SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE 'h' || g END,
      jsonb_build_object('n', g, 'email', CASE WHEN g % 1000 = 0 THEN 'hook' || g || '@example.org' END)
    FROM generate_series(1, 50000) g;
  ANALYZE hooks;"
CONF_N=$(keep "$(T_BATCH=1000 t_config 'surfaces:
  - {table: hooks, column: payload, id_column: code}')" nullid)
t_run --config "$CONF_N" --scan-once --output json
t_rc 3 "NULL ids: the surface is not scanned"
t_eq "$(field hooks status) $(field hooks error.reason) $(field hooks rows)" "failed null_id 0" "refused with reason null_id, no row read"
t_eq "$(field hooks unread.failed)" "50000" "unread.failed: the whole table is known to be unread"
t_grep "ALTER TABLE public.hooks ALTER COLUMN code SET NOT NULL" "$T_DIR/out" "the message names the fix"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.scan_cursors WHERE table_name = 'public.hooks'")" "0" "nothing recorded as read"
t_psql -c "UPDATE hooks SET code = 'n' || (payload->>'n') WHERE code IS NULL"
t_run --config "$CONF_N" --scan-once --output json
t_eq "$(field hooks status) $(field hooks rows) $(jq -r '.totals.open_findings' "$T_DIR/out")" "ok 50000 50" \
    "no NULL left (the column still nullable): all 50,000 rows read, every finding"
t_psql -c "ALTER TABLE hooks ALTER COLUMN code SET NOT NULL"
t_run --config "$CONF_N" --scan-once --output json
t_eq "$(field hooks status)" "ok" "NOT NULL: scanned"

# ---- a table partitioned by date, one surface on its parent ----
t_psql <<'SQL'
CREATE TABLE events (id bigint NOT NULL, created_at date NOT NULL, payload jsonb NOT NULL,
                     PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
CREATE TABLE events_2024_05 PARTITION OF events FOR VALUES FROM ('2024-05-01') TO ('2024-06-01');
CREATE TABLE events_2024_06 PARTITION OF events FOR VALUES FROM ('2024-06-01') TO ('2024-07-01');
INSERT INTO events SELECT g, '2024-05-01'::date + (g % 61), jsonb_build_object('n', g, 'email',
    CASE WHEN g % 100 = 0 THEN 'part' || g || '@example.com' END) FROM generate_series(1, 10000) g;
-- filled now, attached later: its rows are older than the watermark of the scans before the attach
CREATE TABLE events_2024_08 (LIKE events INCLUDING ALL);
INSERT INTO events_2024_08 SELECT g, '2024-08-15', jsonb_build_object('email', 'august' || g || '@example.com')
    FROM generate_series(5001, 5010) g;
SQL
CONF_P=$(keep "$(T_BATCH=500 t_config 'surfaces:
  - {table: events, column: payload}')" part)
t_run --config "$CONF_P" --scan-once --output json --log-level info
t_rc 1 "partitioned parent: findings"
t_eq "$(field events status) $(field events mode) $(field events rows) $(jq -r '.totals.open_findings' "$T_DIR/out")" \
    "ok full 10000 100" "the parent is read whole by its composite key"
t_eq "$(t_val "SELECT DISTINCT table_name FROM pii_audit.findings WHERE record_id LIKE '{%'")" "public.events" \
    "findings are attributed to the parent"
t_eq "$(t_val "SELECT record_id FROM pii_audit.findings WHERE table_name = 'public.events' ORDER BY id LIMIT 1")" \
    "{100,$(t_val "SELECT created_at FROM events WHERE id = 100")}" "a record id is the text array of the key"
t_eq "$(t_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.events'")" \
    "{10000,$(t_val "SELECT created_at FROM events WHERE id = 10000")}" "the cursor keeps the composite position"
# a partition created between scans, rows inserted into it
t_psql -c "CREATE TABLE events_2024_07 PARTITION OF events FOR VALUES FROM ('2024-07-01') TO ('2024-08-01');
           INSERT INTO events SELECT g, '2024-07-04', jsonb_build_object('email', 'july' || g || '@example.com')
             FROM generate_series(10001, 10020) g;
           UPDATE events SET payload = '{\"phone\": \"+1 415 555 0132\"}' WHERE id = 7;"
t_run --config "$CONF_P" --scan-once --output json
t_eq "$(field events mode) $(field events rows) $(jq -r '.totals.new_findings' "$T_DIR/out")" "incremental 21 21" \
    "a new partition's rows and a change in an old one are read, with no configuration change"
oracle "$CONF_P" "new partition"
# a table filled before the last scan, attached as a partition now: read whole, though its rows' xmin is old
t_psql -c "ALTER TABLE events ATTACH PARTITION events_2024_08 FOR VALUES FROM ('2024-08-01') TO ('2024-09-01')"
t_run --config "$CONF_P" --scan-once --output json --log-level info
t_eq "$(field events rows) $(jq -r '.totals.new_findings' "$T_DIR/out")" "10 10" \
    "a partition attached already filled is read whole (its keys sort below the tail)"
t_grep "joined the surface since its last scan: reading it whole" "$T_DIR/err" "the log says why"
oracle "$CONF_P" "attached partition"
t_psql -c "DELETE FROM events WHERE id = 500; DELETE FROM events WHERE id = 5005"
t_run --config "$CONF_P" --scan-once --output json
t_eq "$(t_val "SELECT string_agg(record_id || ':' || resolved_reason, ',' ORDER BY record_id) FROM pii_audit.findings
               WHERE table_name = 'public.events' AND resolved_reason = 'deleted'")" "{500,2024-05-13}:deleted,{5005,2024-08-15}:deleted" \
    "deleted records are found by their composite key, in any partition"
oracle "$CONF_P" "deletes"
# the grants --print-grants prints for the parent are all a role needs, for partitions created later too
t_psql -c "DROP ROLE IF EXISTS pa_part; CREATE ROLE pa_part LOGIN;
           GRANT USAGE ON SCHEMA pii_audit TO pa_part;
           GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pii_audit TO pa_part;
           GRANT USAGE ON ALL SEQUENCES IN SCHEMA pii_audit TO pa_part;" >/dev/null
CONF_R=$(keep "$(T_USER=pa_part T_BATCH=500 t_config 'surfaces:
  - {table: events, column: payload}')" part_role)
t_run --config "$CONF_R" --print-grants
t_grep '^GRANT SELECT \(id, created_at, payload, ctid, xmin\) ON TABLE public.events TO pa_part;' "$T_DIR/out" \
    "--print-grants: column-level SELECT on the parent (the whole key, the column, ctid, xmin)"
grep -E '^GRANT (SELECT|USAGE ON SCHEMA public)' "$T_DIR/out" | t_psql >/dev/null
t_psql -c "CREATE TABLE events_2024_09 PARTITION OF events FOR VALUES FROM ('2024-09-01') TO ('2024-10-01');
           INSERT INTO events VALUES (20001, '2024-09-02', '{\"email\": \"september@example.com\"}')"
t_run --config "$CONF_R" --scan-once --output json
t_eq "$(field events status) $(field events rows) $(jq -r '.totals.new_findings' "$T_DIR/out")" "ok 1 1" \
    "as that role: a partition created after the grants is read through the parent"
t_run --config "$CONF_R" --scan-once --full --output json
t_eq "$(field events status) $(field events rows)" "ok $(t_val "SELECT count(*) FROM events")" "as that role: a full scan reads every partition"

# ---- a composite primary key ----
t_psql -c "CREATE TABLE notes (account int, note text, body text, PRIMARY KEY (account, note));
  INSERT INTO notes SELECT g % 50, 'n-' || g, CASE WHEN g % 40 = 0 THEN 'mail ' || g || '@example.net' ELSE 'fine' END
    FROM generate_series(1, 4000) g;"
CONF_K=$(keep "$(T_BATCH=300 T_SCAN_EXTRA="  parallelism: 3" t_config 'surfaces:
  - {table: notes, column: body}')" composite)
t_run --config "$CONF_K" --scan-once --output json
t_eq "$(field notes status) $(field notes rows) $(jq -r '.totals.open_findings' "$T_DIR/out")" "ok 4000 100" \
    "composite key: every row read (one reader per composite surface)"
t_psql -c "UPDATE notes SET body = 'clean' WHERE note = 'n-40'; DELETE FROM notes WHERE note = 'n-80';
           INSERT INTO notes VALUES (0, 'a-first', 'write to first@example.net');"
t_run --config "$CONF_K" --scan-once --output json
t_eq "$(field notes mode) $(field notes rows) $(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring)' "$T_DIR/out")" \
    "incremental 2 1 2" "composite key: the update and the insert below the tail are read; the update and the delete resolved"
t_eq "$(t_val "SELECT string_agg(record_id || ':' || resolved_reason, ',' ORDER BY record_id) FROM pii_audit.findings
               WHERE table_name = 'public.notes' AND resolved_at IS NOT NULL")" '{30,n-80}:deleted,{40,n-40}:gone' \
    "composite key: resolved by key"
oracle "$CONF_K" "composite key"

# ---- a table without a key ----
t_psql -c "CREATE TABLE raw_imports (body jsonb);
  INSERT INTO raw_imports SELECT jsonb_build_object('n', g, 'email', CASE WHEN g % 100 = 0 THEN 'raw' || g || '@example.org' END)
    FROM generate_series(1, 3000) g;"
CONF_L0=$(keep "$(t_config 'surfaces:
  - {table: raw_imports, column: body}')" nokey)
t_run --config "$CONF_L0" --scan-once --output json
t_eq "$(field raw_imports status) $(field raw_imports error.reason)" "failed no_unique_id" "no key: refused"
t_grep "keyless: ctid" "$T_DIR/out" "the message names keyless: ctid"
CONF_L=$(keep "$(T_BATCH=200 T_SCAN_EXTRA="  parallelism: 2" t_config 'surfaces:
  - {table: raw_imports, column: body, keyless: ctid}')" keyless)
t_run --config "$CONF_L" --scan-once --output json --log-level info
t_eq "$(field raw_imports status) $(field raw_imports mode) $(field raw_imports rows) $(jq -r '.totals.open_findings' "$T_DIR/out")" \
    "ok full 3000 30" "keyless: read whole by row location"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.raw_imports' AND record_id ~ '^ctid:\\(\\d+,\\d+\\)$'")" "30" \
    "keyless: record ids are ctid:(block,offset)"
t_grep "readers over 2 block ranges" "$T_DIR/err" "keyless: two readers over block ranges"
t_psql -c "UPDATE raw_imports SET body = '{\"n\": 100}' WHERE body->>'n' = '100';
           INSERT INTO raw_imports VALUES ('{\"email\": \"late.raw@example.org\"}');"
t_run --config "$CONF_L" --scan-once --output json
t_eq "$(field raw_imports mode) $(field raw_imports rows) $(jq -r '(.totals.new_findings|tostring) + " " + (.totals.resolved_findings|tostring) + " " + (.totals.open_findings|tostring)' "$T_DIR/out")" \
    "full 3001 1 1 30" "keyless: every scan is full; the changed row's finding is resolved by it, the new row's found"
t_eq "$(t_val "SELECT resolved_reason FROM pii_audit.findings WHERE table_name = 'public.raw_imports' AND resolved_at IS NOT NULL")" "full_scan" \
    "keyless: resolved only by full reads"
t_run --config "$CONF_L" --print-grants
t_grep 'GRANT SELECT \(body, ctid\) ON TABLE public.raw_imports' "$T_DIR/out" "keyless: --print-grants names the column and ctid"

t_nogrep "example\.(com|org|net)|415 555" "$T_DIR/all-out" "no value in any output"
t_nogrep "example\.(com|org|net)|415 555" "$T_DIR/all-err" "no value in any log line"
t_done
