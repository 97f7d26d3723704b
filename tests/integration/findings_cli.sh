#!/usr/bin/env bash
# The findings CLI against a real store: findings list (filters, text/JSON/CSV, truncation), show, ack and resolve
# (their effect on status, on --scan-once and on the next scans), the allowlist (add, what an entry covers, --resolve,
# the scans skipping it: the SQL matcher and the scanner's agree, list, remove), report --html, least privilege
# (the operators' role may triage and keep the allowlist, reads no scanned table; the scanner may not write the
# allowlist), and the exit codes 0/1/2/3. The canary test (canary.sh) runs the same paths for leaks.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
source "$PA_SOURCE_ROOT/tests/lib/canaries.sh"
canary_load
t_psql -f "$PA_SOURCE_ROOT/sql/roles.sql" >/dev/null
OP=pa_fcli_operator
t_psql -c "DROP ROLE IF EXISTS $OP" -c "CREATE ROLE $OP LOGIN IN ROLE pii_auditd_operator" >/dev/null
CONF=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}' "$CANARY_DETECTORS")
AS_OP="host=$PA_PGHOST port=$PA_PGPORT dbname=$T_DB user=$OP"
AS_SCANNER="host=$PA_PGHOST port=$PA_PGPORT dbname=$T_DB user=pii_auditd"
open_count() { t_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL ${1:-}"; }

t_run --config "$CONF" findings list
t_rc 1 "an empty store: nothing matches"
t_grep "no findings match" "$T_DIR/out" "and it says so"
t_run --config "$CONF" --scan-once --full
t_rc 1 "the scan finds the canaries"
total=$(open_count)
[ "$total" -ge 20 ] && ok "$total open findings" || not_ok "only $total open findings"

# --- list: the three outputs agree with the store ---
t_run --config "$CONF" findings list --limit 0
t_rc 0 "findings list"
t_eq "$(grep -cE '^[0-9]+ +open ' "$T_DIR/out")" "$total" "the text table has one line per open finding"
t_grep "^ID +STATUS +SURFACE +RECORD +PATH +CATEGORY +FIRST SEEN +LAST SEEN$" "$T_DIR/out" "the text table's header"
t_run --config "$CONF" findings list --output json --limit 0
t_eq "$(jq -r '[.schema_version, .count, .truncated, (.findings | length)] | join(",")' "$T_DIR/out")" \
    "1,$total,false,$total" "JSON: schema 1, every open finding, not truncated"
t_eq "$(jq -r '.findings[0] | keys_unsorted | join(",")' "$T_DIR/out")" \
    "id,status,surface,table,column,record_id,json_path,category,detector,rule,first_seen_at,last_seen_at,first_scan_id,last_scan_id,acknowledged_at,acknowledged_by,acknowledged_note,resolved_at,resolved_scan_id,resolved_reason,resolved_by,resolved_note,database,evidence" \
    "JSON: the documented fields, in order"
t_eq "$(jq -r '[.findings[].evidence] | map(select(. == "key" or . == "value" or . == "key+value" or . == "context"))
    | length' "$T_DIR/out")" "$total" "JSON: every finding has its evidence (key, value, key+value or context)"
t_eq "$(jq -r '[.findings[].database] | unique | join(",")' "$T_DIR/out")" "$T_DB" "JSON: the scanned database's name"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE evidence IS NULL")" "0" "the store has every evidence"
t_eq "$(jq -r '[.findings[].id | type] | unique | join(",")' "$T_DIR/out")" "number" "JSON: ids are numbers"
t_run --config "$CONF" findings list --output csv --limit 0
python3 - "$T_DIR/out" "$total" <<'PY' && ok "CSV: RFC 4180 with a header, CRLF, one row per finding" || not_ok "CSV"
import csv, sys
data = open(sys.argv[1], newline="").read()
assert data.endswith("\r\n") and "\n" not in data.replace("\r\n", ""), "CRLF line ends"
rows = list(csv.reader(data.splitlines()))
assert rows[0][:3] == ["id", "status", "surface"], rows[0]
assert len(rows) - 1 == int(sys.argv[2]), len(rows)
assert all(len(r) == len(rows[0]) for r in rows)
PY

# --- filters ---
t_run --config "$CONF" findings list --surface hooks.payload --output json --limit 0
t_eq "$(jq -r '.count' "$T_DIR/out")" "$(open_count "AND table_name = 'public.hooks'")" "--surface table.column means public"
t_eq "$(jq -r '.filters.surfaces[0]' "$T_DIR/out")" "public.hooks.payload" "the filter is shown canonical"
t_run --config "$CONF" findings list --database "$T_DB" --output json --limit 0
t_eq "$(jq -r '[.count, .filters.databases[0]] | join(",")' "$T_DIR/out")" "$total,$T_DB" "--database: this one's"
t_run --config "$CONF" findings list --database no_such_db --limit 0
t_rc 1 "--database of another database: nothing matches"
t_run --config "$CONF" findings list --category email --category phone --output json --limit 0
t_eq "$(jq -r '.count' "$T_DIR/out")" "$(open_count "AND category IN ('email', 'phone')")" "--category, repeated"
t_run --config "$CONF" findings list --since 1h --output json --limit 0
t_eq "$(jq -r '.count' "$T_DIR/out")" "$total" "--since 1h: everything was first seen now"
t_run --config "$CONF" findings list --since 2099-01-01
t_rc 1 "--since a future date: nothing matches"
t_psql -c "UPDATE pii_audit.findings SET first_seen_at = now() - interval '10 days' WHERE category = 'email'" >/dev/null
t_run --config "$CONF" findings list --since 2d --output json --limit 0
t_eq "$(jq -r '.count' "$T_DIR/out")" "$(open_count "AND category <> 'email'")" "--since 2d leaves out what is older"
t_run --config "$CONF" findings list --limit 3 --output json
t_eq "$(jq -r '[.count, .truncated] | join(",")' "$T_DIR/out")" "3,true" "--limit 3: three, and it says more match"
t_run --config "$CONF" findings list --limit 3
t_grep "^3 findings shown; more match" "$T_DIR/out" "the text table says more match"

# --- show ---
id=$(t_val "SELECT id FROM pii_audit.findings WHERE json_path = '\$.customer.ssn'")
t_run --config "$CONF" findings show "$id"
t_rc 0 "findings show"
t_grep "^finding $id: open$" "$T_DIR/out" "show: id and status"
t_grep "json path +\\\$\\.customer\\.ssn" "$T_DIR/out" "show: the path"
t_run --config "$CONF" findings show "$id" --output json
t_eq "$(jq -r '.finding | [.id, .category, .status] | join(",")' "$T_DIR/out")" "$id,national_id,open" "show: JSON"
t_run --config "$CONF" findings show 999999
t_rc 1 "show of an id that does not exist"

# --- ack: still open, out of the default view, kept by an incremental scan ---
ids=$(t_val "SELECT string_agg(id::text, ' ' ORDER BY id) FROM pii_audit.findings WHERE category = 'credit_card'")
# shellcheck disable=SC2086
t_run --config "$CONF" findings ack --conninfo "$AS_OP" $ids 999999 --reason "SEC-1: card data, owner payments"
t_rc 1 "ack with an id that does not exist: the others are acknowledged, exit 1"
t_grep "finding 999999: no such finding" "$T_DIR/err" "the missing id is named"
ME=${SUDO_USER:-$(id -un)}
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE category = 'credit_card' AND acknowledged_by = '$ME'
               AND acknowledged_note = 'SEC-1: card data, owner payments' AND resolved_at IS NULL")" \
    "$(echo $ids | wc -w)" "acknowledged as the OS user (by default), with the reason, still open"
# --by names someone else
t_run --config "$CONF" findings ack "${ids%% *}" --reason "re-triaged" --by "Dana Scully"
t_rc 0 "ack again, --by"
t_eq "$(t_val "SELECT acknowledged_by FROM pii_audit.findings WHERE id = ${ids%% *}")" "Dana Scully" "--by is recorded"
t_run --config "$CONF" findings list --output json --limit 0
t_eq "$(jq -r '[.findings[] | select(.category == "credit_card")] | length' "$T_DIR/out")" "0" \
    "acknowledged findings leave the default (open) view"
t_run --config "$CONF" findings list --status acknowledged --output json --limit 0
t_eq "$(jq -r '[.findings[].status] | unique | join(",")' "$T_DIR/out")" "acknowledged" "--status acknowledged"
t_run --config "$CONF" --scan-once --output json
t_rc 1 "an acknowledged finding is still open for --scan-once"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.pii_audit_findings WHERE id IN (${ids// /,})")" "$(echo $ids | wc -w)" \
    "and in pii_audit_findings"

# --- resolve by hand: kept by incremental scans, opened again (cleared) by a full scan that still sees it ---
t_run --config "$CONF" findings resolve --conninfo "$AS_OP" "$id" --reason "record purged by hand"
t_rc 0 "resolve"
t_eq "$(t_val "SELECT resolved_reason || ',' || resolved_by || ',' || resolved_note FROM pii_audit.findings WHERE id = $id")" \
    "manual,$ME,record purged by hand" "resolved_reason manual, who and why"
t_run --config "$CONF" findings resolve "$id" --reason "again"
t_rc 1 "resolving a resolved finding: nothing to do, exit 1"
t_run --config "$CONF" findings ack "$id" --reason "x"
t_rc 1 "acknowledging a resolved finding: exit 1"
t_run --config "$CONF" --scan-once
t_eq "$(t_val "SELECT resolved_reason FROM pii_audit.findings WHERE id = $id")" "manual" "an incremental scan leaves it resolved"
t_run --config "$CONF" findings resolve "${ids%% *}" --reason "card rotated"
t_run --config "$CONF" --scan-once --full
t_eq "$(t_val "SELECT coalesce(resolved_reason, 'open') || ',' || coalesce(resolved_by, '-') FROM pii_audit.findings WHERE id = $id")" \
    "open,-" "a full scan that still sees it opens it again and clears the resolution"
t_eq "$(t_val "SELECT coalesce(acknowledged_by, 'none') FROM pii_audit.findings WHERE id = ${ids%% *}")" "none" \
    "a finding that came back is news: its acknowledgement is cleared"
t_eq "$(t_val "SELECT count(*) FROM pii_audit.findings WHERE category = 'credit_card' AND acknowledged_at IS NOT NULL")" \
    "$(($(echo $ids | wc -w) - 1))" "the acknowledgements of findings that stayed open are kept"

# --- the allowlist ---
t_run --config "$CONF" allow add --conninfo "$AS_SCANNER" --surface hooks.payload --path '$.net.client_ip' --reason "x"
t_rc 3 "the scanner's role cannot write the allowlist"
t_grep "permission denied for table allowlist.*pii_auditd_operator" "$T_DIR/err" "the error names the operators' role"
t_run --config "$CONF" allow add --surface nope.payload --path '$.a' --reason "x"
t_rc 2 "allow add on a surface that is not configured"
t_run --config "$CONF" allow add --surface hooks.payload --path 'net.ip' --reason "x"
t_rc 2 "allow add with a path that is not one"
t_grep "must start with" "$T_DIR/err" "the path error says what is wrong"
t_run --config "$CONF" allow add --surface hooks.payload --path '$.a' --category emails --reason "x"
t_rc 2 "allow add with a category pii-auditd does not report"
before=$(open_count "AND table_name = 'public.hooks'")
covers_ip=$(t_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL AND json_path = '\$.net.client_ip'")
t_run --config "$CONF" allow add --conninfo "$AS_OP" --surface hooks.payload --path '$.net.client_ip' \
    --category ip_address --reason "load balancer addresses, not people"
t_rc 0 "allow add as an operator"
t_grep "^added allowlist entry [0-9]+: public.hooks.payload \\\$.net.client_ip, category ip_address" "$T_DIR/out" "it says what it added"
t_grep "^$covers_ip open finding matches it" "$T_DIR/out" "and how many open findings it covers"
# an entry with [*]: the SQL matcher (what allow add counts) and the scanner's (what a full scan skips) agree
t_psql -c "UPDATE hooks SET payload = payload || '{\"items2\": [{\"email\": \"a1@example.org\"}, {\"email\": \"a2@example.org\"}, {\"x\": {\"email\": \"a3@example.org\"}}]}' WHERE id = 3" >/dev/null
t_run --config "$CONF" --scan-once --full
t_eq "$(open_count "AND json_path = '\$.net.client_ip'")" "0" "the next full scan no longer reports the allowed path"
t_eq "$(open_count "AND json_path = '\$.net.v6'")" "1" "nor anything else at other paths (the IPv6 stays)"
before=$(open_count "AND table_name = 'public.hooks'")
t_run --config "$CONF" allow add --conninfo "$AS_OP" --surface public.hooks.payload --path '$.items2[*].email' --reason "fixtures"
covers=$(sed -nE 's/^([0-9]+) open findings? match.*/\1/p' "$T_DIR/out")
t_eq "$covers" "2" "the [*] entry covers the two items' emails (not the nested one)"
t_run --config "$CONF" --scan-once --full --output json
after=$(open_count "AND table_name = 'public.hooks'")
t_eq "$((before - after))" "$covers" "a full scan stops reporting exactly what the entry covers"
t_eq "$(open_count "AND json_path = '\$.items2[2].x.email'")" "1" "the nested email is still reported"
t_run --config "$CONF" allow list --output json
t_rc 0 "allow list"
t_eq "$(jq -r '[.count, (.allowlist[0] | keys_unsorted | join(","))] | join(";")' "$T_DIR/out")" \
    "2;id,surface,table,column,json_path,category,created_at,created_by,reason,covers_open" "allow list: JSON fields"
t_run --config "$CONF" allow list --output csv
t_eq "$(head -1 "$T_DIR/out" | tr -d '\r')" "id,surface,table,column,json_path,category,created_at,created_by,reason,covers_open" "allow list: CSV header"
t_run --config "$CONF" allow list
t_grep "load balancer addresses, not people" "$T_DIR/out" "allow list: text, with the reason"
# --resolve, also on an entry that exists: idempotent add
t_psql -c "DELETE FROM pii_audit.scan_cursors" >/dev/null
t_run --config "$CONF" allow add --surface hooks.payload --path '$.geo' --reason "store locations"
geo_id=$(sed -nE 's/^added allowlist entry ([0-9]+).*/\1/p' "$T_DIR/out")
t_run --config "$CONF" allow add --surface hooks.payload --path '$.geo' --reason "store locations" --resolve
t_rc 0 "allow add of an existing entry with --resolve"
t_grep "^already there: allowlist entry $geo_id" "$T_DIR/out" "the existing entry is named"
t_grep "^resolved 1 open finding it covers" "$T_DIR/out" "and its open finding resolved"
t_eq "$(t_val "SELECT resolved_reason || ',' || resolved_note FROM pii_audit.findings WHERE json_path = '\$.geo'")" \
    "allowlist,allowlist entry $geo_id: store locations" "resolved_reason allowlist, naming the entry"
t_run --config "$CONF" allow remove --conninfo "$AS_OP" "$geo_id"
t_rc 0 "allow remove"
t_run --config "$CONF" allow remove "$geo_id"
t_rc 1 "removing it again: no such entry, exit 1"
t_run --config "$CONF" --scan-once --full
t_eq "$(open_count "AND json_path = '\$.geo'")" "1" "once removed, a full scan reports the path again"

# --- report ---
t_run --config "$CONF" report --html "$T_DIR/report.html" --since 30d
t_rc 0 "report --html"
t_grep "data-points=\"31\"" "$T_DIR/report.html" "the trend covers the 31 days since"
t_grep "load balancer addresses, not people" "$T_DIR/report.html" "the allowlist is in the report"
t_run --config "$CONF" report --html "$T_DIR/report2.html" --surface notes.body
t_nogrep "public\.hooks\.payload" "$T_DIR/report2.html" "--surface keeps the report to that surface"

# --- least privilege: the operators' role reads no scanned table ---
t_eq "$(t_val "SELECT has_table_privilege('$OP', 'public.hooks', 'SELECT') OR has_table_privilege('$OP', 'public.notes', 'SELECT')
               OR has_column_privilege('$OP', 'pii_audit.findings', 'json_path', 'UPDATE')")" "f" \
    "the operators' role cannot read a scanned table nor rewrite where a finding is"
t_run --config /nonexistent.yaml findings list --conninfo "$AS_OP"
t_rc 2 "a --config that cannot be read is an error, with --conninfo too"
T_RC=0; "$PA_BIN" findings list --conninfo "$AS_OP" --output json >"$T_DIR/out" 2>"$T_DIR/err" || T_RC=$?
t_run_log
t_rc 0 "with --conninfo, an operator without the configuration can list"

# --- usage and database errors ---
for args in "findings list --since yesterday" "findings list --output xml" "findings list --status opened" \
    "findings ack 1" "findings ack --reason x" "findings ack 0 --reason x" "findings show 1 2" "findings lst" \
    "findings list --reason x" "allow add --surface hooks.payload --reason x" "report" "allow remove" \
    "findings ack 1 --reason ' '"; do
    # shellcheck disable=SC2086
    eval "t_run --config \"\$CONF\" $args"
    t_rc 2 "usage error: $args"
done
t_run --config "$CONF" --output json findings list
t_rc 2 "--output before the subcommand is a usage error"
t_grep "its options .* follow it" "$T_DIR/err" "which says where the options go"
t_run --config "$CONF" --conninfo "host=$PA_PGHOST port=1 dbname=$T_DB" findings list
t_rc 2 "--conninfo before the subcommand is not an option of the scan"
t_run --config "$CONF" findings list --conninfo "host=$PA_PGHOST port=1 dbname=$T_DB"
t_rc 3 "an unreachable findings database: exit 3"
t_db "${T_DB}_empty"
t_run findings list --conninfo "host=$PA_PGHOST port=$PA_PGPORT dbname=${T_DB}_empty user=postgres"
t_rc 3 "no findings schema: exit 3"
t_grep "004_findings_workflow.sql" "$T_DIR/err" "naming the files to apply"
psql -X -q -d postgres -c "DROP DATABASE ${T_DB}_empty" >/dev/null
t_psql -c "DROP OWNED BY $OP" -c "DROP ROLE $OP" >/dev/null
t_done
