#!/usr/bin/env bash
# Keyset batches compare ids in their own type (bigint, uuid, text with collation, varchar) and every row is read
# exactly once across batch boundaries; json, text and varchar columns are scanned; invalid JSON in a text column
# is counted and still scanned as text; identifiers that need quoting work.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
t_psql <<'SQL'
CREATE TABLE ev_uuid (id uuid PRIMARY KEY, doc jsonb);
INSERT INTO ev_uuid SELECT md5('u' || g)::uuid, jsonb_build_object('n', g, 'email', CASE WHEN g % 50 = 0 THEN 'x' || g || '@example.org' END)
  FROM generate_series(1, 1000) g;
CREATE TABLE ev_text (code text PRIMARY KEY, doc json);
INSERT INTO ev_text SELECT 'K-' || g || CASE WHEN g % 3 = 0 THEN 'a' WHEN g % 3 = 1 THEN 'B' ELSE ' z' END,
  json_build_object('n', g, 'ip_address', CASE WHEN g % 50 = 0 THEN '10.0.' || (g % 200) || '.1' END)
  FROM generate_series(1, 1000) g;
CREATE TABLE notes (id varchar(20) PRIMARY KEY, body text, memo varchar(200));
INSERT INTO notes VALUES ('a', 'Please call (415) 555-0132 tomorrow', NULL),
  ('b', '{"card": "4111 1111 1111 1111"', 'ok'),
  ('c', '{"ssn": "123-45-6789"}', '[1,2'),
  ('d', 'nothing to see', 'mail me: ann.lee@example.com');
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Weird.Table ""q""" ("Row Id" bigint PRIMARY KEY, "Payload Col" jsonb);
INSERT INTO "Odd Schema"."Weird.Table ""q""" VALUES (1, '{"first name": "Ann"}'), (2, '{"firstName": "Bob"}');
SQL
CONF=$(T_BATCH=7 t_config 'surfaces:
  - {table: ev_uuid, column: doc}
  - {table: ev_text, column: doc}
  - {table: notes, column: body}
  - {table: notes, column: memo}
  - {table: "\"Odd Schema\".\"Weird.Table \"\"q\"\"\"", column: "\"Payload Col\""}')
t_run --config "$CONF" --check-config
t_rc 0 "config with quoted identifiers"
t_run --config "$CONF" --scan-once --output json
t_rc 1 "scan completes with findings"
rows() { jq -r --arg s "$1" '.surfaces[] | select(.surface == $s) | (.rows|tostring) + " " + ((.open | to_entries | map(.key + "=" + (.value|tostring)) | join(",")))' "$T_DIR/out"; }
t_eq "$(rows public.ev_uuid.doc)" "1000 email=20" "uuid ids: every row once, 20 emails"
t_eq "$(rows public.ev_text.doc)" "1000 ip_address=20" "text ids (collation order): every row once, 20 IPs"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.notes' AND column_name = 'body'")" "4" "text column: phone, card (at \$.card before the syntax error, and again at \$ from the text fallback), ssn"
t_eq "$(jq -r '.surfaces[] | select(.surface == "public.notes.body") | .invalid_documents' "$T_DIR/out")" "1" "invalid JSON counted"
t_eq "$(jq -r '.surfaces[] | select(.surface == "public.notes.memo") | .invalid_documents' "$T_DIR/out")" "1" "invalid JSON counted in varchar"
t_eq "$(t_val "SELECT json_path || ' ' || category FROM pii_audit.findings WHERE table_name = 'public.notes' AND record_id = 'a'")" '$ phone' "plain text is one value at \$"
t_eq "$(t_val "SELECT string_agg(record_id || ' ' || json_path, ';' ORDER BY record_id) FROM pii_audit.findings WHERE column_name = 'Payload Col'")" '1 $["first name"];2 $.firstName' "quoted identifiers scanned, non-identifier key quoted in the path"
t_eq "$(t_val "SELECT table_name FROM pii_audit.findings WHERE column_name = 'Payload Col' LIMIT 1")" 'Odd Schema.Weird.Table "q"' "table name stored raw"
# incremental over text ids: insert rows that sort after the cursor
t_psql -c "INSERT INTO ev_text VALUES ('zz-new', '{\"email\": \"late@example.org\"}')"
t_run --config "$CONF" --scan-once --surface public.ev_text.doc --output json
t_eq "$(rows public.ev_text.doc)" "1 email=1,ip_address=20" "incremental text-id scan reads the one new row"
t_done
