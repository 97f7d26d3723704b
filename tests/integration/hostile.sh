#!/usr/bin/env bash
# Hostile and odd input through the real PostgreSQL (issue 6 §2): huge documents, 100 000 keys, the deepest nesting
# PostgreSQL accepts (jsonb and json), 64 KB keys, \u0000, lone and paired surrogates, invalid UTF-8 (SQL_ASCII
# database), 1 000-digit numbers, duplicate keys, empty documents, JSON null and SQL NULL rows; identifiers that
# need quoting; config values that try SQL injection (a canary table they would drop survives).
# Every case: the scan completes, findings and invalid-document counts are the expected ones, memory stays bounded
# and no planted value appears in stdout, stderr or the findings schema.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema

# Planted values: each must never leave its row.
CANARIES=("hostile.big@example-canary.com" "hostile.keys@example-canary.com" "hostile.deep@example-canary.com"
  "hostile.json.deep@example-canary.com" "hostile.longkey@example-canary.com" "hostile.nul@example-canary.com"
  "hostile.sur@example-canary.com" "hostile.num@example-canary.com" "hostile.dup1@example-canary.com"
  "hostile.dup2@example-canary.com" "hostile.utf8@example-canary.com" "hostile.ident@example-canary.com"
  "219-09-9999")
check_clean() { # label file...
    local label=$1; shift
    local hit=0
    for c in "${CANARIES[@]}"; do
        if grep -qaF -- "$c" "$@" 2>/dev/null; then
            not_ok "$label: a planted value leaked into $(grep -laF -- "$c" "$@" | xargs -n1 basename | tr '\n' ' ')"
            hit=1
        fi
    done
    [ $hit = 0 ] && ok "$label: no planted value in $(for f in "$@"; do basename "$f"; done | tr '\n' ' ')"
}
dump_store() { # the whole findings schema as text
    t_val "SELECT f::text FROM pii_audit.findings f UNION ALL SELECT r::text FROM pii_audit.scan_runs r
           UNION ALL SELECT s::text FROM pii_audit.scan_run_surfaces s UNION ALL SELECT c::text FROM pii_audit.scan_cursors c"
}

# The deepest nesting PostgreSQL accepts for a cast to TYPE (binary search; the limit is max_stack_depth's).
max_depth() { # type
    local lo=100 hi=200000 mid
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if t_val "SELECT (repeat('{\"a\":', $mid) || '1' || repeat('}', $mid))::$1 IS NOT NULL" >/dev/null 2>&1; then
            lo=$mid
        else
            hi=$mid
        fi
    done
    echo $lo
}
DEPTH_JSONB=$(max_depth jsonb)
DEPTH_JSON=$(max_depth json)
ok "deepest nesting PostgreSQL accepts: jsonb $DEPTH_JSONB, json $DEPTH_JSON"
# one level less, so the innermost object can hold the email
DJB=$((DEPTH_JSONB - 1)) DJ=$((DEPTH_JSON - 1))

# A 64 KB key that does not compress (a btree index would refuse a path this long if it were stored whole).
t_psql <<SQL
CREATE TABLE hj (id int PRIMARY KEY, doc jsonb);
-- 1: 10 MB document (a 10 MB string and 20 000 small objects) with one email
INSERT INTO hj SELECT 1, jsonb_build_object('blob', repeat('a', 10 * 1024 * 1024),
  'items', (SELECT jsonb_agg(jsonb_build_object('n', g, 's', md5(g::text))) FROM generate_series(1, 20000) g),
  'contact', jsonb_build_object('email', 'hostile.big@example-canary.com'));
-- 2: 100 000 keys in one object, one of them an email key
INSERT INTO hj SELECT 2, (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 100000) g)
  || '{"email": "hostile.keys@example-canary.com"}';
-- 3: the deepest nesting jsonb accepts, an email at the bottom
INSERT INTO hj SELECT 3, (repeat('{"a":', $DJB) || '{"email": "hostile.deep@example-canary.com"}' || repeat('}', $DJB))::jsonb;
-- 4: a 64 KB key holding an email
INSERT INTO hj SELECT 4, jsonb_build_object((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 2048) g),
  jsonb_build_object('email', 'hostile.longkey@example-canary.com'));
-- 5: a paired surrogate (an emoji) in a key and a value
INSERT INTO hj VALUES (5, '{"\ud83d\ude00": "\ud83d\ude00", "e\ud83d\ude00": {"email": "hostile.sur@example-canary.com"}}');
-- 6: a 1 000-digit number, and a 1 000-digit number with fraction and exponent
INSERT INTO hj SELECT 6, ('{"n": ' || repeat('9', 1000) || ', "f": 1.' || repeat('7', 1000) || 'e-5, "email": "hostile.num@example-canary.com"}')::jsonb;
-- 7, 8: empty documents; 9: JSON null; 10: SQL NULL; 11: a top-level string that is PII; 12: a number
INSERT INTO hj VALUES (7, '{}'), (8, '[]'), (9, 'null'), (10, NULL), (11, '"219-09-9999"'), (12, '0');

CREATE TABLE hjs (id int PRIMARY KEY, doc json);
-- 1: the deepest nesting json accepts
INSERT INTO hjs SELECT 1, (repeat('{"a":', $DJ) || '{"email": "hostile.json.deep@example-canary.com"}' || repeat('}', $DJ))::json;
-- 2: \u0000 in a key and in a value (json keeps the escape; jsonb would refuse it)
INSERT INTO hjs VALUES (2, '{"a\u0000b": "x\u0000y", "email": "hostile.nul@example-canary.com", "\u0000": {"phone": "+1 646 555 0187"}}');
-- 3: lone surrogates (json accepts them as text)
INSERT INTO hjs VALUES (3, '{"\ud800": "\udc00", "x": "\ud800\ud800", "email": "hostile.sur@example-canary.com"}');
-- 4: duplicate keys: one finding per path and category
INSERT INTO hjs VALUES (4, '{"email": "hostile.dup1@example-canary.com", "email": "hostile.dup2@example-canary.com", "email": 1}');
-- 5: empty object, 6: JSON null, 7: SQL NULL, 8: whitespace around a document
INSERT INTO hjs VALUES (5, '{}'), (6, 'null'), (7, NULL), (8, E' \n\t{"email": "hostile.big@example-canary.com"} \n');
SQL
t_eq "$(t_val "SELECT pg_column_size(doc) > 0 AND octet_length(doc::text) > 10 * 1024 * 1024 FROM hj WHERE id = 1")" t \
    "row 1 is a document of more than 10 MB"

CONF=$(T_BATCH=3 t_config 'surfaces:
  - {table: hj, column: doc}
  - {table: hjs, column: doc}')
command -v /usr/bin/time >/dev/null || { not_ok "/usr/bin/time is missing (Debian package time)"; t_done; }
scan() { # args...: run a scan under /usr/bin/time; max RSS (KB) in $T_DIR/rss
    /usr/bin/time -f '%M' -o "$T_DIR/rss" timeout 300 "$PA_BIN" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
    T_RC=$?
    cat "$T_DIR/out" >>"$T_DIR/all-out"
    cat "$T_DIR/err" >>"$T_DIR/all-err"
}
scan --config "$CONF" --scan-once --full --output json --log-level debug
t_rc 1 "hostile JSON: the scan completes with findings"
surf() { jq -r --arg s "$1" ".surfaces[] | select(.surface == \$s) | $2" "$T_DIR/out"; }
t_eq "$(surf public.hj.doc .status)/$(surf public.hj.doc .rows)/$(surf public.hj.doc .invalid_documents)" "ok/12/0" \
    "jsonb: every row read, none invalid"
t_eq "$(surf public.hjs.doc .status)/$(surf public.hjs.doc .rows)/$(surf public.hjs.doc .invalid_documents)" "ok/8/0" \
    "json: every row read, none invalid (\\u0000 and lone surrogates are valid JSON text)"
rss=$(tail -1 "$T_DIR/rss")
# 3 rows of up to 10 MB per batch, copied once by libpq and once by COPY's buffer: well under 256 MB
if [ "${rss:-0}" -gt 0 ] && [ "$rss" -lt $((256 * 1024)) ]; then ok "memory bounded: max RSS ${rss} KB < 256 MB"
else not_ok "memory bounded: max RSS ${rss:-?} KB"; fi

# the expected findings, per record
found() { # table record
    t_val "SELECT string_agg(category || ' ' || CASE WHEN length(json_path) > 80 THEN 'len' || length(json_path)
             ELSE json_path END, '; ' ORDER BY json_path, category)
             FROM pii_audit.findings WHERE table_name = 'public.$1' AND record_id = '$2'"
}
t_eq "$(found hj 1)" 'email $.contact.email' "10 MB document: the email found"
t_eq "$(found hj 2)" 'email $.email' "100 000 keys: the email found"
# paths longer than 1024 bytes are stored cut, with a hash of the whole path (PA_FINDINGS_PATH_MAX)
long_path() { # table record: "<length> <ok if it is the cut form of $.a.a...email>"
    t_val "SELECT length(json_path) || ' ' || (json_path ~ '^[$](\.a)+\.?\.\.\.#[0-9a-f]{16}$')::text
             FROM pii_audit.findings WHERE table_name = 'public.$1' AND record_id = '$2'"
}
t_eq "$(long_path hj 3)" "1024 true" "deepest jsonb: the email found, its path stored cut to 1024 bytes with a hash"
t_eq "$(long_path hjs 1)" "1024 true" "deepest json: the email found, its path stored cut to 1024 bytes with a hash"
t_eq "$(t_val "SELECT count(*) || ' ' || min(category) FROM pii_audit.findings WHERE table_name = 'public.hj' AND record_id = '4'")" \
    "1 email" "64 KB key: the email below it found (the batch was stored: the path is cut)"
t_eq "$(t_val "SELECT length(json_path) FROM pii_audit.findings WHERE table_name = 'public.hj' AND record_id = '4'")" \
    1024 "64 KB key: the stored path is 1024 bytes"
t_eq "$(found hj 5)" 'email $["e😀"].email' "paired surrogates decoded in the path"
t_eq "$(found hj 6)" 'email $.email' "1 000-digit numbers: no false finding, the email found"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.hj' AND record_id IN ('7','8','9','10','12')")" \
    0 "empty documents, JSON null, SQL NULL, a number: no findings"
t_eq "$(found hj 11)" 'national_id $' "a top-level string is one value at \$"
t_eq "$(found hjs 2)" 'email $.email; phone $["\u0000"].phone' "\\u0000: keys with NUL written escaped in the path"
t_eq "$(found hjs 3)" 'email $.email' "lone surrogates: the email found"
t_eq "$(found hjs 4)" 'email $.email' "duplicate keys: one finding per path and category"
t_eq "$(found hjs 8)" 'email $.email' "whitespace around a document"
t_nogrep 'AddressSanitizer|runtime error' "$T_DIR/err" "no sanitizer report"
dump_store >"$T_DIR/store"
check_clean "hostile JSON" "$T_DIR/out" "$T_DIR/err" "$T_DIR/store"

# ---- invalid UTF-8 in text (and jsonb) surfaces: only a SQL_ASCII database can hold it ----
ADB=${T_DB}_ascii
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $ADB WITH (FORCE)" >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE $ADB ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
T_PSQL_DB=$ADB t_init_schema
T_PSQL_DB=$ADB t_psql <<'SQL'
CREATE TABLE notes (id int PRIMARY KEY, body text, doc jsonb);
INSERT INTO notes VALUES
 (1, E'\xff\xfe ssn 219-09-9999 \xc0\xaf', E'{"\xff\xfe": {"email": "hostile.utf8@example-canary.com"}}'),
 (2, E'mail hostile.utf8@example-canary.com \xed\xa0\x80 end \xf5', E'{"k": "\xc3\x28", "n": 1}'),
 (3, E'{"broken": "\xff', NULL), (4, '', '{}'), (5, NULL, 'null');
SQL
ACONF=$(T_CONF_DB=$ADB t_config 'surfaces:
  - {table: notes, column: body}
  - {table: notes, column: doc}')
scan --config "$ACONF" --scan-once --full --output json
t_rc 1 "invalid UTF-8: the scan completes with findings"
t_eq "$(surf public.notes.body .status)/$(surf public.notes.body .rows)/$(surf public.notes.body .invalid_documents)" \
    "ok/5/1" "text with invalid UTF-8: every row read, the broken JSON counted invalid"
t_eq "$(surf public.notes.doc .status)/$(surf public.notes.doc .rows)" "ok/5" "jsonb with invalid UTF-8: every row read"
t_eq "$(T_PSQL_DB=$ADB t_val "SELECT string_agg(column_name || ' ' || record_id || ' ' || category, '; '
        ORDER BY column_name, record_id, category) FROM pii_audit.findings")" \
    "body 1 national_id; body 2 email; doc 1 email" "invalid UTF-8: the PII around it found"
t_eq "$(T_PSQL_DB=$ADB t_val "SELECT json_path FROM pii_audit.findings WHERE column_name = 'doc'")" \
    '$["\ufffd\ufffd"].email' "invalid UTF-8 in a key: the path names U+FFFD (escaped), never the raw bytes"
t_nogrep 'AddressSanitizer|runtime error' "$T_DIR/err" "no sanitizer report"
T_PSQL_DB=$ADB dump_store >"$T_DIR/store-ascii"
check_clean "invalid UTF-8" "$T_DIR/out" "$T_DIR/err" "$T_DIR/store-ascii"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $ADB WITH (FORCE)" >/dev/null

# ---- identifiers that need quoting, and names shaped like SQL injection ----
t_psql <<'SQL'
CREATE TABLE canary (id int PRIMARY KEY);
INSERT INTO canary VALUES (42);
CREATE SCHEMA "Weird Schema";
CREATE TABLE "Weird Schema"."Weird Table" ("Row ID" int PRIMARY KEY, "Pay Load" jsonb);
CREATE TABLE "q""uote" ("i""d" int PRIMARY KEY, "c""ol" jsonb);
CREATE TABLE "dot.ted" (id int PRIMARY KEY, "a.b" json);
CREATE TABLE "Tâble_ü" ("idé" int PRIMARY KEY, "dоc" jsonb);
CREATE TABLE "1leading" (id int PRIMARY KEY, "2col" text);
CREATE TABLE "MixedCase" ("MixedId" int PRIMARY KEY, "MixedCol" jsonb);
CREATE TABLE "x""; DROP TABLE canary; --" ("id"") ; DROP TABLE canary; --" int PRIMARY KEY,
  "doc"" FROM canary; DROP TABLE canary; --" jsonb);
INSERT INTO "Weird Schema"."Weird Table" VALUES (1, '{"email": "hostile.ident@example-canary.com"}');
INSERT INTO "q""uote" VALUES (1, '{"email": "hostile.ident@example-canary.com"}');
INSERT INTO "dot.ted" VALUES (1, '{"email": "hostile.ident@example-canary.com"}');
INSERT INTO "Tâble_ü" VALUES (1, '{"email": "hostile.ident@example-canary.com"}');
INSERT INTO "1leading" VALUES (1, 'mail hostile.ident@example-canary.com');
INSERT INTO "MixedCase" VALUES (1, '{"email": "hostile.ident@example-canary.com"}');
INSERT INTO "x""; DROP TABLE canary; --" VALUES (1, '{"email": "hostile.ident@example-canary.com"}'),
  (2, '{"n": 1}');
SQL
ICONF=$(t_config "surfaces:
  - {table: '\"Weird Schema\".\"Weird Table\"', column: '\"Pay Load\"'}
  - {table: '\"q\"\"uote\"', column: '\"c\"\"ol\"', id_column: '\"i\"\"d\"'}
  - {table: '\"dot.ted\"', column: '\"a.b\"'}
  - {table: '\"Tâble_ü\"', column: '\"dоc\"', id_column: '\"idé\"'}
  - {table: '\"1leading\"', column: '\"2col\"'}
  - {table: '\"MixedCase\"', column: '\"MixedCol\"', id_column: '\"MixedId\"'}
  - {table: '\"x\"\"; DROP TABLE canary; --\"', column: '\"doc\"\" FROM canary; DROP TABLE canary; --\"',
     id_column: '\"id\"\") ; DROP TABLE canary; --\"'}
  - {schema: '\"public\"\"; DROP TABLE canary; --\"', table: canary, column: id}")
t_run --config "$ICONF" --check-config
t_rc 0 "quoted identifiers and injection-shaped quoted names are valid config"
scan --config "$ICONF" --scan-once --full --output json
t_rc 3 "identifiers: scanned, the one missing schema fails its surface"
t_eq "$(jq -r '[.surfaces[] | select(.status == "ok") | .surface + "=" + (.rows|tostring) + "/" + ((.open.email // 0)|tostring)] | join(" ")' "$T_DIR/out")" \
    'Weird Schema.Weird Table.Pay Load=1/1 public.q"uote.c"ol=1/1 public.dot.ted.a.b=1/1 public.Tâble_ü.dоc=1/1 public.1leading.2col=1/1 public.MixedCase.MixedCol=1/1 public.x"; DROP TABLE canary; --.doc" FROM canary; DROP TABLE canary; --=2/1' \
    "every quoted surface scanned, every row read, the email found"
t_eq "$(jq -r '.surfaces[] | select(.status != "ok") | .error.reason' "$T_DIR/out")" "missing" \
    "a schema name holding SQL is a missing schema, not SQL"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.x\"; DROP TABLE canary; --'
               AND column_name = 'doc\" FROM canary; DROP TABLE canary; --' AND record_id = '1'")" 1 \
    "injection-shaped names stored raw in the findings"
t_eq "$(t_val "SELECT count(*) FROM canary WHERE id = 42")" 1 "the canary table survived the scan"
# --print-grants quotes every name too: applying its output runs only GRANTs
t_psql -c "CREATE ROLE pa_hostile_role" >/dev/null 2>&1 || true
sed 's/user=postgres/user=pa_hostile_role/' "$ICONF" >"$T_DIR/grants.yaml"
t_run --config "$T_DIR/grants.yaml" --print-grants
t_rc 0 "--print-grants with injection-shaped names"
if psql -X -q -v ON_ERROR_STOP=1 -d "$T_DB" -f "$T_DIR/out" >"$T_DIR/grants.log" 2>&1 ||
   grep -q 'schema "public"; DROP TABLE canary; --" does not exist' "$T_DIR/grants.log"; then
    ok "--print-grants output applied (only the missing schema refused)"
else
    not_ok "--print-grants output applied: $(head -3 "$T_DIR/grants.log")"
fi
t_eq "$(t_val "SELECT has_column_privilege('pa_hostile_role', 'public.\"x\"\"; DROP TABLE canary; --\"',
               'doc\" FROM canary; DROP TABLE canary; --', 'SELECT')")" t "the grant reached the injection-shaped column"
t_eq "$(t_val "SELECT count(*) FROM canary WHERE id = 42")" 1 "the canary table survived --print-grants"
t_psql -c "DROP OWNED BY pa_hostile_role; DROP ROLE pa_hostile_role" >/dev/null 2>&1 || true
# the GRANT an error message suggests quotes what needs quoting: copied into psql it grants exactly that
t_psql >/dev/null <<'SQL'
DROP ROLE IF EXISTS pa_hint_role;
CREATE ROLE pa_hint_role LOGIN;
GRANT USAGE ON SCHEMA pii_audit TO pa_hint_role;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pii_audit TO pa_hint_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pii_audit TO pa_hint_role;
GRANT USAGE ON SCHEMA "Weird Schema" TO pa_hint_role;
SQL
HCONF=$(T_USER=pa_hint_role t_config "surfaces:
  - {table: '\"Weird Schema\".\"Weird Table\"', column: '\"Pay Load\"'}
  - {table: '\"x\"\"; DROP TABLE canary; --\"', column: '\"doc\"\" FROM canary; DROP TABLE canary; --\"',
     id_column: '\"id\"\") ; DROP TABLE canary; --\"'}")
scan --config "$HCONF" --scan-once --full --output json
t_rc 3 "a role without SELECT: both surfaces fail"
jq -r '.surfaces[].error.message | sub("^.*: GRANT"; "GRANT") + ";"' "$T_DIR/out" >"$T_DIR/hints.sql"
t_eq "$(head -1 "$T_DIR/hints.sql")" 'GRANT SELECT ("Row ID", "Pay Load", ctid, xmin) ON "Weird Schema"."Weird Table" TO pa_hint_role;' \
    "the hint quotes names that need it"
t_psql -f "$T_DIR/hints.sql" >"$T_DIR/hints.log" 2>&1 && ok "the hinted GRANTs run as they are" ||
    not_ok "the hinted GRANTs: $(head -3 "$T_DIR/hints.log")"
scan --config "$HCONF" --scan-once --full --output json
t_rc 1 "after applying the hints the role scans both surfaces"
t_eq "$(t_val "SELECT count(*) FROM canary WHERE id = 42")" 1 "the canary table survived the hinted GRANTs"
t_psql -c "DROP OWNED BY pa_hint_role; DROP ROLE pa_hint_role" >/dev/null 2>&1 || true
dump_store >"$T_DIR/store"
check_clean "identifiers" "$T_DIR/out" "$T_DIR/err" "$T_DIR/store"

t_done
