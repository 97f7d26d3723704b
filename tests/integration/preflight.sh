#!/usr/bin/env bash
# --check-config --connect, the online preflight, as a least-privilege role of the test's own against the test
# cluster: one line per check, exit 0 when all pass; a missing table, a missing column, a missing grant, row-level
# security, no unique id, an old or a newer findings schema, a findings grant revoked, a CONNECTION LIMIT below the
# budget, the guardrail without EXECUTE and an unreachable database each give a FAIL line with the fix, and exit 2.
# Each failing surface is also what a scan reports for it (the same check). No scanned value in any output.
source "$(dirname "$0")/../lib/itest.sh"
ROLE=pa_preflight_role
# the schema versions the tree ships (sql/NNN_*.sql), as "1, 2" and "1,2"
VERSIONS=$(for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do b=$(basename "$f"); echo $((10#${b%%_*})); done | paste -sd,)
VERSIONS_SP=${VERSIONS//,/, }
t_db
t_init_schema
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" 2>/dev/null
# the shipped roles.sql for this role: the findings grants, CONNECTION LIMIT 40
sed "s/pii_auditd/$ROLE/g" "$PA_SOURCE_ROOT/sql/roles.sql" | t_psql >/dev/null
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, doc jsonb, other jsonb);
  INSERT INTO events VALUES (1, '{\"email\": \"preflight.canary@example.org\"}', '{}');
  CREATE TABLE secret (id bigint PRIMARY KEY, doc jsonb);
  CREATE TABLE guarded (id bigint PRIMARY KEY, doc jsonb);
  ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
  CREATE POLICY own ON guarded USING (false);
  CREATE TABLE keyless (n bigint, doc jsonb);
  GRANT SELECT (id, doc, ctid, xmin) ON events TO $ROLE;
  GRANT SELECT (id, doc, ctid, xmin) ON guarded TO $ROLE;
  GRANT SELECT (n, doc, ctid, xmin) ON keyless TO $ROLE;
  ANALYZE events;"
conf() { # surfaces block [extra yaml] -> config path
    T_USER=$ROLE t_config "$1" "${2:-}" >/dev/null
    cp "$T_DIR/pa.yaml" "$T_DIR/pf$((++NCONF)).yaml"
    echo "$T_DIR/pf$NCONF.yaml"
}
NCONF=0
GOOD=$(conf 'surfaces:
  - {table: events, column: doc}')

# ---- all good ----------------------------------------------------------------------------------------------------
t_run --config "$GOOD" --check-config --connect
t_rc 0 "all good: exit 0"
t_grep "^ok   scanned database: $T_DB as role $ROLE \(system identifier [0-9]+\)$" "$T_DIR/out" "the scanned database and the role"
t_grep "^ok   surface public.events.doc: table public.events \(~1 rows\), column doc \(json\), id column id \(bigint\), SELECT on \(id, doc, ctid, xmin\), no row-level security$" \
    "$T_DIR/out" "the surface: table, column, id, grants (what a scan selects), RLS"
t_grep "^ok   findings schema: versions $VERSIONS_SP installed$" "$T_DIR/out" "the findings schema version"
t_grep "^ok   findings grants: every privilege the daemon needs on pii_audit$" "$T_DIR/out" "the findings grants"
t_grep "^ok   connection budget \(scanned and findings database\): a scan holds up to 4 sessions; role $ROLE CONNECTION LIMIT 40" \
    "$T_DIR/out" "the connection budget against the role's limit"
t_grep "^ok   guardrail counters: the write-time guardrail is not installed" "$T_DIR/out" "the guardrail counters"
t_grep "^preflight: all [0-9]+ checks passed$" "$T_DIR/out" "the summary"
t_eq "$(grep -cvE '^(ok  |FAIL|skip|preflight:) ' "$T_DIR/out")" "0" "every line is one check (ok, FAIL or skip) or the summary"
t_run --config "$GOOD" --connect
t_rc 2 "--connect without --check-config is a usage error"

# ---- the surfaces: missing table, missing column, missing grant, RLS, no unique id -------------------------------
BAD=$(conf 'surfaces:
  - {table: events, column: doc}
  - {table: nope, column: doc}
  - {table: events, column: nocol}
  - {table: events, column: other}
  - {table: secret, column: doc}
  - {table: guarded, column: doc}
  - {table: keyless, column: doc}')
t_run --config "$BAD" --check-config --connect
t_rc 2 "failing surfaces: exit 2"
t_grep "^ok   surface public.events.doc:" "$T_DIR/out" "the good surface still passes"
t_grep "^FAIL surface public.nope.doc \[missing\]: table public.nope does not exist" "$T_DIR/out" "missing table"
t_grep "^FAIL surface public.events.nocol \[missing\]: column nocol does not exist in table public.events" "$T_DIR/out" "missing column"
t_grep "^FAIL surface public.events.other \[permission\]: permission denied: role $ROLE lacks SELECT on public.events \(id, other, ctid, xmin\): GRANT SELECT \(id, other, ctid, xmin\) ON public.events TO $ROLE" \
    "$T_DIR/out" "missing column grant, with the GRANT"
t_grep "^FAIL surface public.secret.doc \[permission\]: .*GRANT SELECT \(id, doc, ctid, xmin\) ON public.secret TO $ROLE" "$T_DIR/out" \
    "no grant on the table at all, with the GRANT"
t_grep "^FAIL surface public.guarded.doc \[rls\]: row-level security is active on public.guarded for role $ROLE: .*ALTER ROLE $ROLE BYPASSRLS" \
    "$T_DIR/out" "row-level security, with the fix"
t_grep "^FAIL surface public.keyless.doc \[no_unique_id\]: public.keyless has no primary key: set surfaces\[\].id_column" \
    "$T_DIR/out" "no unique id, with the fix"
t_grep "^preflight: 6 of [0-9]+ checks failed$" "$T_DIR/out" "the summary counts the six failures"
# the scan reports the same reasons for the same surfaces (one check, not two)
t_run --config "$BAD" --scan-once --output json
t_eq "$(jq -r '[.surfaces[] | .error.reason // "ok"] | join(",")' "$T_DIR/out")" \
    "ok,missing,missing,permission,permission,rls,no_unique_id" "a scan fails the same surfaces for the same reasons"

# ---- the findings schema and its grants ----------------------------------------------------------------------------
t_psql -c "DELETE FROM pii_audit.schema_version WHERE version = 2"
t_run --config "$GOOD" --check-config --connect
t_rc 2 "schema one version behind: exit 2"
t_grep "^FAIL findings schema: the findings schema is out of date: apply .*/sql/002_database_identity.sql with psql" \
    "$T_DIR/out" "an old schema: the missing file is named"
t_psql -c "INSERT INTO pii_audit.schema_version (version, file) VALUES (2, '002_database_identity.sql'), (99, 'future')"
t_run --config "$GOOD" --check-config --connect
t_rc 2 "a newer schema: exit 2"
t_grep "^FAIL findings schema: the findings schema is version 99, newer than this pii-auditd understands" "$T_DIR/out" "a newer schema"
t_psql -c "DELETE FROM pii_audit.schema_version WHERE version = 99; REVOKE INSERT ON pii_audit.findings FROM $ROLE"
t_run --config "$GOOD" --check-config --connect
t_rc 2 "a findings grant revoked: exit 2"
t_grep "^FAIL findings grants: the role lacks GRANT INSERT ON pii_audit.findings TO $ROLE" "$T_DIR/out" "the missing findings grant, as a GRANT"
t_psql -c "GRANT INSERT ON pii_audit.findings TO $ROLE"

# ---- the connection budget ------------------------------------------------------------------------------------------
t_psql -c "ALTER ROLE $ROLE CONNECTION LIMIT 3"
t_run --config "$GOOD" --check-config --connect
t_rc 2 "CONNECTION LIMIT 3 for a budget of 4: exit 2"
t_grep "^FAIL connection budget \(scanned and findings database\): a scan holds up to 4 sessions \(scan.parallelism 1: 2 per reader \+ 2\), but role $ROLE has CONNECTION LIMIT 3: .*ALTER ROLE $ROLE CONNECTION LIMIT 4" \
    "$T_DIR/out" "the limit, the budget and the ALTER ROLE"
PAR=$(T_SCAN_EXTRA="  parallelism: 4" conf 'surfaces:
  - {table: events, column: doc}')
t_psql -c "ALTER ROLE $ROLE CONNECTION LIMIT 9"
t_run --config "$PAR" --check-config --connect
t_grep "^FAIL connection budget .*: a scan holds up to 10 sessions \(scan.parallelism 4: 2 per reader \+ 2\), but role $ROLE has CONNECTION LIMIT 9" \
    "$T_DIR/out" "scan.parallelism 4 needs 10"
t_psql -c "ALTER ROLE $ROLE CONNECTION LIMIT 40"

# ---- the guardrail's counters ---------------------------------------------------------------------------------------
"$PA_BIN" --config "$GOOD" --print-guardrail-sql | t_psql >/dev/null 2>&1
t_run --config "$GOOD" --check-config --connect
t_rc 2 "guardrail installed, no EXECUTE for this role: exit 2"
t_grep "^FAIL guardrail counters: the role lacks EXECUTE on pii_guardrail.reject_counts\(\): GRANT EXECUTE ON FUNCTION pii_guardrail.reject_counts\(\) TO $ROLE" \
    "$T_DIR/out" "the missing EXECUTE, as a GRANT"
t_psql -c "GRANT EXECUTE ON FUNCTION pii_guardrail.reject_counts() TO $ROLE"
t_run --config "$GOOD" --check-config --connect
t_rc 0 "with EXECUTE: all good again"
t_grep "^ok   guardrail counters: EXECUTE on pii_guardrail.reject_counts\(\)$" "$T_DIR/out" "the guardrail check passes"

# ---- an unreachable database ----------------------------------------------------------------------------------------
sed "s/port=$PA_PGPORT/port=1/" "$GOOD" >"$T_DIR/down.yaml"
t_run --config "$T_DIR/down.yaml" --check-config --connect
t_rc 2 "no database: exit 2"
t_grep "^FAIL scanned database: cannot connect: " "$T_DIR/out" "the scanned database's connection fails"
t_grep "^skip surface public.events.doc: not checked \(no connection to the scanned database\)$" "$T_DIR/out" "the surface is skipped, not passed"
t_grep "^FAIL findings database: cannot connect: " "$T_DIR/out" "the findings database's connection fails"

t_nogrep "preflight.canary" "$T_DIR/all-out" "no scanned value in any output"
t_nogrep "preflight.canary" "$T_DIR/all-err" "no scanned value in any error"
t_psql -c "DROP SCHEMA pii_guardrail CASCADE" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $T_DB WITH (FORCE)" -c "DROP ROLE IF EXISTS $ROLE" 2>/dev/null
t_done
