#!/usr/bin/env bash
# The findings schema's first install and re-runs, on fresh databases of the test cluster:
#  - --init-db twice as a superuser: the second applies nothing and changes nothing;
#  - every sql/NNN_*.sql file twice by hand with psql (the whole set, then the whole set again: 001 after 002 too),
#    with findings in the store: nothing changes (the schema as pg_dump prints it, every table's and index's
#    relfilenode: no rewrite, no index rebuilt, the schema_version rows, the rows of every table);
#  - --print-init-sql (the files not installed, or every file with --all) piped into psql does the same as the files;
#  - --init-db as an unprivileged role: exit 3 and a message naming the database's owner and the commands that work
#    (also when the schema exists and only a newer file is missing: ALTER TABLE needs the tables' owner).
source "$(dirname "$0")/../lib/itest.sh"
ROLE=pa_initdb_user
# the schema versions the tree ships (sql/NNN_*.sql), as "1, 2" and "1,2"
VERSIONS=$(for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do b=$(basename "$f"); echo $((10#${b%%_*})); done | paste -sd,)
VERSIONS_SP=${VERSIONS//,/, }
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" 2>/dev/null
psql -X -q -d postgres -c "CREATE ROLE $ROLE LOGIN"

# the state of the findings schema that a re-run must not change
snapshot() { # database -> file
    local db=$1 out=$2
    {
        # (pg_dump 15.14 and later write a random \restrict key: not the schema)
        pg_dump --schema-only -n pii_audit -d "$db" | grep -vE '^\\(un)?restrict '
        T_PSQL_DB=$db t_val "SELECT c.relname, c.relkind, c.relfilenode FROM pg_class c
                              JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pii_audit' ORDER BY 1"
        T_PSQL_DB=$db t_val "SELECT version, file FROM pii_audit.schema_version ORDER BY 1"
        for t in findings scan_runs scan_run_surfaces scan_cursors databases; do
            T_PSQL_DB=$db t_val "SELECT md5(string_agg(x::text, ',' ORDER BY x::text)) FROM pii_audit.$t x"
        done
    } >"$out"
}
apply_files() { # database
    local f
    for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
        T_PSQL_DB=$1 t_psql -f "$f" >"$T_DIR/psql.out" 2>&1 || { cat "$T_DIR/psql.out"; return 1; }
    done
}
plant() { # database: a table with PII, scanned, so that the store holds findings, a cursor and runs
    T_PSQL_DB=$1 t_psql -c "CREATE TABLE IF NOT EXISTS ev (id bigint PRIMARY KEY, doc jsonb);
        INSERT INTO ev VALUES (1, '{\"email\": \"a@example.com\"}'), (2, '{\"n\": 1}') ON CONFLICT DO NOTHING"
    T_CONF_DB=$1 t_config 'surfaces:
  - {table: ev, column: doc}' >/dev/null
    t_run --config "$T_DIR/pa.yaml" --scan-once
    t_rc 1 "a scan of $1 fills the store"
}

# ---- --init-db twice as a superuser ----------------------------------------------------------------------------
t_db "${T_DB}_a"
CONF_A=$(T_CONF_DB=${T_DB}_a t_config 'surfaces:
  - {table: ev, column: doc}')
cp "$CONF_A" "$T_DIR/a.yaml"; CONF_A=$T_DIR/a.yaml
t_run --config "$CONF_A" --init-db
t_rc 0 "--init-db on a fresh database"
t_grep "^applied 001_findings_schema.sql$" "$T_DIR/out" "it says which files it applied"
t_grep "^the findings schema pii_audit is up to date \(versions $VERSIONS_SP\)$" "$T_DIR/out" "... and that the schema is up to date"
plant "${T_DB}_a"
snapshot "${T_DB}_a" "$T_DIR/a1"
t_run --config "$CONF_A" --init-db
t_rc 0 "--init-db again"
t_grep "nothing to apply" "$T_DIR/out" "the second --init-db applies nothing"
t_nogrep "^applied" "$T_DIR/out" "... not one file"
snapshot "${T_DB}_a" "$T_DIR/a2"
cmp -s "$T_DIR/a1" "$T_DIR/a2" && ok "the second --init-db changed nothing" || { not_ok "the second --init-db changed:"; diff "$T_DIR/a1" "$T_DIR/a2" | head -20; }

# ---- every file twice by hand ------------------------------------------------------------------------------------
t_db "${T_DB}_b"
apply_files "${T_DB}_b" && ok "every sql/NNN_*.sql file applied with psql" || not_ok "applying the files failed"
plant "${T_DB}_b"
snapshot "${T_DB}_b" "$T_DIR/b1"
apply_files "${T_DB}_b" && ok "every file applied again (001 after 002 included), with findings in the store" \
    || not_ok "applying the files again failed"
snapshot "${T_DB}_b" "$T_DIR/b2"
cmp -s "$T_DIR/b1" "$T_DIR/b2" && ok "the second pass changed nothing (schema, relfilenodes, versions, rows)" \
    || { not_ok "the second pass changed:"; diff "$T_DIR/b1" "$T_DIR/b2" | head -20; }
for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do # each file alone, a third time
    T_PSQL_DB=${T_DB}_b t_psql -f "$f" >/dev/null 2>&1 || not_ok "$(basename "$f") a third time"
done
snapshot "${T_DB}_b" "$T_DIR/b3"
cmp -s "$T_DIR/b1" "$T_DIR/b3" && ok "each file alone once more: nothing changed" || not_ok "a third pass changed something"
t_eq "$(T_PSQL_DB=${T_DB}_b t_val "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL")" "1" \
    "the finding recorded before the re-runs is still there, open"

# ---- --print-init-sql ----------------------------------------------------------------------------------------------
t_db "${T_DB}_c"
CONF_C=$(T_CONF_DB=${T_DB}_c t_config 'surfaces:
  - {table: ev, column: doc}')
cp "$CONF_C" "$T_DIR/c.yaml"; CONF_C=$T_DIR/c.yaml
t_run --config "$CONF_C" --print-init-sql
t_rc 0 "--print-init-sql"
t_grep "^-- .*/sql/001_findings_schema.sql$" "$T_DIR/out" "it prints 001"
t_grep "^-- .*/sql/002_database_identity.sql$" "$T_DIR/out" "... and 002"
T_PSQL_DB=${T_DB}_c t_psql -f "$T_DIR/out" >/dev/null 2>&1 && ok "its SQL applied with psql" || not_ok "its SQL failed in psql"
t_run --config "$CONF_C" --print-init-sql
t_grep "nothing to apply" "$T_DIR/out" "then it has nothing to print"
t_nogrep "CREATE" "$T_DIR/out" "... no statement"
t_run --config "$CONF_C" --print-init-sql --all
t_rc 0 "--print-init-sql --all"
T_PSQL_DB=${T_DB}_c t_psql -f "$T_DIR/out" >/dev/null 2>&1 && ok "--all applied again: idempotent" || not_ok "--all failed in psql"
plant "${T_DB}_c"
snapshot "${T_DB}_c" "$T_DIR/c1"
# the schema as the files make it, and as --print-init-sql makes it: the same
pg_dump --schema-only -n pii_audit -d "${T_DB}_b" | grep -vE '^(--|\\(un)?restrict )' >"$T_DIR/dump-b"
pg_dump --schema-only -n pii_audit -d "${T_DB}_c" | grep -vE '^(--|\\(un)?restrict )' >"$T_DIR/dump-c"
cmp -s "$T_DIR/dump-b" "$T_DIR/dump-c" && ok "--print-init-sql makes the same schema as the files" \
    || not_ok "--print-init-sql's schema differs from the files'"
t_run --config "$CONF_C" --print-init-sql --all --init-db
t_rc 2 "--print-init-sql with --init-db: a usage error"
t_run --config "$CONF_C" --all
t_rc 2 "--all without --print-init-sql: a usage error"

# ---- --init-db as an unprivileged role -----------------------------------------------------------------------------
t_db "${T_DB}_d"
CONF_D=$(T_CONF_DB=${T_DB}_d T_USER=$ROLE t_config 'surfaces:
  - {table: ev, column: doc}')
cp "$CONF_D" "$T_DIR/d.yaml"; CONF_D=$T_DIR/d.yaml
t_run --config "$CONF_D" --init-db
t_rc 3 "--init-db as a role that may not create a schema"
t_grep "permission denied for database ${T_DB}_d \(SQLSTATE 42501\)" "$T_DIR/err" "the server's refusal is shown"
t_grep "role $ROLE may not create or change the findings schema pii_audit in database ${T_DB}_d: that takes the database's owner \(role postgres\) or a superuser" \
    "$T_DIR/err" "it names the database's owner"
t_grep "pii-auditd --config $CONF_D --print-init-sql \| sudo -u postgres psql -d ${T_DB}_d -v ON_ERROR_STOP=1" "$T_DIR/err" \
    "... the --print-init-sql pipe to run as root"
t_grep "sql/\[0-9\]\[0-9\]\[0-9\]_\*.sql; do sudo -u postgres psql -d ${T_DB}_d -v ON_ERROR_STOP=1 -f" "$T_DIR/err" \
    "... the psql -f loop over the files"
t_grep "sql/roles.sql" "$T_DIR/err" "... and roles.sql after"
t_eq "$(T_PSQL_DB=${T_DB}_d t_val "SELECT count(*) FROM pg_namespace WHERE nspname = 'pii_audit'")" "0" "nothing was created"
# as root would: --print-init-sql (the role sees no schema: every file) into psql as the owner
t_run --config "$CONF_D" --print-init-sql
t_rc 0 "--print-init-sql as that role"
t_grep "^-- .*/sql/001_findings_schema.sql$" "$T_DIR/out" "it prints every file (no schema yet)"
T_PSQL_DB=${T_DB}_d t_psql -f "$T_DIR/out" >/dev/null 2>&1 && ok "... which psql applies as the owner" || not_ok "psql failed"
# before the role exists (a first install): it cannot ask, says so, and prints every file all the same
CONF_E=$(T_CONF_DB=${T_DB}_d T_USER=pa_initdb_no_such_role t_config 'surfaces:
  - {table: ev, column: doc}')
t_run --config "$CONF_E" --print-init-sql
t_rc 0 "--print-init-sql when the role cannot connect"
t_grep "cannot ask the findings database which schema versions it has .*: printing every file \(each is idempotent\)" \
    "$T_DIR/err" "it says it prints every file, and why"
t_grep "^-- .*/sql/002_database_identity.sql$" "$T_DIR/out" "... and does"
# a schema one file behind (an upgrade): the role may not ALTER the owner's tables either
T_PSQL_DB=${T_DB}_d t_psql -c "DELETE FROM pii_audit.schema_version WHERE version = 2;
  GRANT USAGE ON SCHEMA pii_audit TO $ROLE; GRANT SELECT ON pii_audit.schema_version TO $ROLE"
t_run --config "$CONF_D" --init-db
t_rc 3 "--init-db of an upgrade as that role"
t_grep "applying 002_database_identity.sql failed: .*\(SQLSTATE 42501\)" "$T_DIR/err" "the file and the refusal are named"
t_grep "may not create or change the findings schema" "$T_DIR/err" "... with who may and how"
t_run --config "$CONF_D" --print-init-sql
t_nogrep "001_findings_schema" "$T_DIR/out" "--print-init-sql prints only the missing file"
t_grep "002_database_identity.sql" "$T_DIR/out" "... 002"
T_PSQL_DB=${T_DB}_d t_psql -f "$T_DIR/out" >/dev/null 2>&1 && ok "applied as the owner" || not_ok "002 failed"
t_eq "$(T_PSQL_DB=${T_DB}_d t_val "SELECT string_agg(version::text, ',' ORDER BY version) FROM pii_audit.schema_version")" \
    "$VERSIONS" "every version recorded, once each"

for db in a b c d; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${T_DB}_$db WITH (FORCE)"; done
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE"
t_done
