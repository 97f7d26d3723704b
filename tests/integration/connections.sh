#!/usr/bin/env bash
# The connection budget (issue 14 §5): a role made by the shipped sql/roles.sql (its CONNECTION LIMIT) scans 20
# surfaces with scan.parallelism 4; --print-grants prints the budget and the ALTER ROLE that fits it; a limit below
# the budget is warned about at start and a refused connection names the limit and the budget.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
ROLE=pa_connections
# the shipped roles.sql, for a role of this test's own (roles are cluster-wide: the suite's pii_auditd is left alone)
t_psql -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
sed "s/pii_auditd/$ROLE/g" "$PA_SOURCE_ROOT/sql/roles.sql" >"$T_DIR/roles.sql"
t_psql -f "$T_DIR/roles.sql" >/dev/null
t_eq "$(t_val "SELECT rolconnlimit FROM pg_roles WHERE rolname = '$ROLE'")" "40" \
    "roles.sql: CONNECTION LIMIT 40 (one daemon at scan.parallelism 16 holds 34)"

# 20 surfaces of 2,000 rows, an email in every 500th row
surfaces="surfaces:"
sql=""
for i in $(seq 1 20); do
    sql+="CREATE TABLE t$i (id bigint PRIMARY KEY, doc jsonb);
      INSERT INTO t$i SELECT g, jsonb_build_object('n', g, 'mail', CASE WHEN g % 500 = 0 THEN 'u' || g || '@example.com' END)
        FROM generate_series(1, 2000) g;"
    surfaces+="
  - {table: t$i, column: doc}"
done
t_psql -c "$sql" >/dev/null
CONF=$(T_USER=$ROLE T_SCAN_EXTRA="  parallelism: 4" t_config "$surfaces")

t_run --config "$CONF" --print-grants
t_rc 0 "--print-grants"
t_grep "^-- Connection budget: a scan holds at most 10 sessions at once as this role: 9 on the scanned database \(scan.parallelism 4 x 2 for the readers \+ 1 for the surface checks\) \+ 1 on the findings database" \
    "$T_DIR/out" "the budget: 2 x 4 + 1 + 1 = 10, each part named"
t_grep "^-- ALTER ROLE $ROLE CONNECTION LIMIT 10;$" "$T_DIR/out" "the ALTER ROLE that fits it, as a comment"
t_grep "^-- \(role $ROLE has CONNECTION LIMIT 40 now\)$" "$T_DIR/out" "the role's limit now"
t_psql -f "$T_DIR/out" >/dev/null

t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "parallelism 4 as the role of roles.sql: the scan completes"
t_eq "$(jq -r '[.surfaces[] | select(.status == "ok")] | length' "$T_DIR/out")" "20" "all 20 surfaces ok"
t_eq "$(jq -r '.totals.rows' "$T_DIR/out")" "40000" "every row read"
t_nogrep "CONNECTION LIMIT|too many connections" "$T_DIR/err" "no limit hit, no warning"

# a limit below the budget: a warning at start, and the refused connections name the limit and the budget
# 9: one session short. The scan's own two sessions come first, so a reader is refused: the scan starts, warns,
# and the surfaces that reader takes fail with the limit and the budget named (and are recorded as such)
t_psql -c "ALTER ROLE $ROLE CONNECTION LIMIT 9" >/dev/null
t_run --config "$CONF" --scan-once --full --output json
t_rc 3 "CONNECTION LIMIT 9 with a budget of 10: surfaces fail"
t_eq "$(jq -r '.error' "$T_DIR/out")" "null" "the scan itself started (its own sessions first)"
t_grep "role $ROLE has CONNECTION LIMIT 9, below the 10 sessions this configuration opens at once" "$T_DIR/err" \
    "warned at start: the limit is below the budget"
t_eq "$(jq -r '[.surfaces[] | select(.status == "failed") | .error.reason] | unique | join(",")' "$T_DIR/out")" \
    "connect" "failed surfaces: reason connect"
t_grep "too many connections for role \"?$ROLE\"?; role $ROLE has CONNECTION LIMIT 9; this configuration needs up to 10 sessions \(scan.parallelism 4: 2 per reader \+ 2\): ALTER ROLE $ROLE CONNECTION LIMIT 10" \
    "$T_DIR/err" "a refused reader's surface names the server's refusal, the role's limit, the budget and the fix"
t_eq "$(t_val "SELECT count(*) > 0 FROM pii_audit.scan_run_surfaces WHERE error_class = 'connect'
               AND error_message LIKE '%CONNECTION LIMIT 9%'")" "t" "recorded in scan_run_surfaces"
# coverage: a failed surface's rows after what it committed are known unread (at least the refused reader's range,
# a quarter of the table; at most all of it); an ok surface's none
t_eq "$(jq -r '[.surfaces[] | select(.status == "failed") | .unread.failed >= 500 and .unread.failed <= 2000] | unique | join(",")' "$T_DIR/out")" \
    "true" "failed surfaces: unread.failed between the refused range (500) and the table (2000)"
t_eq "$(jq -r '[.surfaces[] | select(.status == "ok") | .unread.failed == 0] | all' "$T_DIR/out")" "true" \
    "ok surfaces (if any: the refused reader fails every range it takes): unread.failed 0"
t_psql -c "ALTER ROLE $ROLE CONNECTION LIMIT 10" >/dev/null
t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "CONNECTION LIMIT 10, exactly the budget: the scan completes"
t_eq "$(jq -r '[.surfaces[] | select(.status == "ok")] | length' "$T_DIR/out")" "20" "all 20 surfaces ok at the budget"
t_done
