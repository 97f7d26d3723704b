#!/usr/bin/env bash
# The command line as a user meets it: help/version, --check-config (exit 0/2, file:line:col), usage errors,
# --init-db, the schema version check, --print-grants applied as the least-privilege role, and secrets that never
# appear in any output.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_psql -c "CREATE TABLE events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
           INSERT INTO events SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 50) g;
           INSERT INTO events VALUES (51, '{\"customer\": {\"email\": \"someone@example.net\"}}');"
CONF=$(t_config 'surfaces:
  - table: events
    column: payload')

t_run --help
t_rc 0 "--help"
t_grep "--scan-once" "$T_DIR/out" "--help lists --scan-once"
t_grep "Exit status" "$T_DIR/out" "--help documents exit codes"
t_run --version
t_rc 0 "--version"
t_grep "^pii-auditd [0-9]+\.[0-9]+\.[0-9]+" "$T_DIR/out" "--version prints the version"
t_run --bogus
t_rc 2 "unknown option"
t_run --config "$CONF" --scan-once --output xml
t_rc 2 "bad --output"
t_run --config "$CONF" --full
t_rc 2 "--full without --scan-once"
t_run --config "$CONF" --scan-once --surface public.nope.payload
t_rc 2 "unknown --surface"
t_grep "not a configured surface" "$T_DIR/err" "--surface error names the problem"
t_run --config "$T_DIR/does-not-exist.yaml" --check-config
t_rc 2 "missing config file"
t_grep "does-not-exist.yaml" "$T_DIR/err" "missing file is named"

t_run --config "$CONF" --check-config
t_rc 0 "--check-config on a good file"
printf 'database:\n  conninfo: "dbname=x"\nscan:\n  batch_size: lots\nsurfaces:\n  - {table: t, column: c}\n' >"$T_DIR/bad.yaml"
t_run --config "$T_DIR/bad.yaml" --check-config
t_rc 2 "--check-config on a bad file"
t_grep "bad.yaml:4:15: .*scan.batch_size" "$T_DIR/err" "error names file:line:column and the key"
printf 'database:\n  conninfo: "dbname=x password=CanaryPw0rd!"\nscan:\n  batch_sise: 10\nsurfaces:\n  - {table: t, column: c}\n' >"$T_DIR/bad2.yaml"
t_run --config "$T_DIR/bad2.yaml" --check-config
t_rc 2 "unknown key"
t_grep "batch_size" "$T_DIR/err" "unknown key suggests the right one"
t_nogrep "CanaryPw0rd" "$T_DIR/err" "conninfo password not echoed by config errors"
printf 'database:\n  conninfo: "dbname=x"\nsurfaces:\n  - {table: t, column: c}\ndetectors:\n  patterns:\n    - {name: bad, category: x, regex: "(a)\\\\1"}\n' >"$T_DIR/bad3.yaml"
t_run --config "$T_DIR/bad3.yaml" --check-config
t_rc 2 "bad regex rejected by --check-config"
t_grep "bad3.yaml:7:" "$T_DIR/err" "regex error has a position"

# --check-config must not touch the database: point it at a port nobody listens on
printf 'database:\n  conninfo: "host=127.0.0.1 port=1 dbname=x connect_timeout=1"\nsurfaces:\n  - {table: t, column: c}\n' >"$T_DIR/nodb.yaml"
t_run --config "$T_DIR/nodb.yaml" --check-config
t_rc 0 "--check-config works without a database"

# schema missing: exact file named, exit 3
t_run --config "$CONF" --scan-once
t_rc 3 "scan without the findings schema"
t_grep "001_findings_schema.sql" "$T_DIR/err" "missing schema: the file to apply is named"
t_grep "init-db" "$T_DIR/err" "missing schema: --init-db suggested"
t_run --config "$CONF" --init-db
t_rc 0 "--init-db"
t_run --config "$CONF" --init-db
t_rc 0 "--init-db is idempotent"
versions=$(cd "$PA_SOURCE_ROOT/sql" && ls [0-9][0-9][0-9]_*.sql | sed -E 's/^0*([0-9]+)_.*/\1/' | paste -sd,)
t_eq "$(t_val "SELECT string_agg(version::text, ',' ORDER BY version) FROM pii_audit.schema_version")" "$versions" \
    "every schema version installed ($versions)"
top=$(t_val 'SELECT max(version) FROM pii_audit.schema_version')
t_psql -c "UPDATE pii_audit.schema_version SET version = 99 WHERE version = $top"
t_run --config "$CONF" --scan-once
t_rc 3 "a newer schema is refused"
t_grep "newer than this pii-auditd" "$T_DIR/err" "newer schema message"
t_psql -c "UPDATE pii_audit.schema_version SET version = $top WHERE version = 99"
# a store without 002 (as before the upgrade): the missing file is named, and --init-db applies just that
t_psql -c "DELETE FROM pii_audit.schema_version WHERE version = 2"
t_run --config "$CONF" --scan-once
t_rc 3 "a store missing 002 is refused"
t_grep "out of date: apply .*002_database_identity.sql" "$T_DIR/err" "the missing migration is named"
t_nogrep "001_findings_schema" "$T_DIR/err" "the installed one is not"
t_run --config "$CONF" --init-db
t_rc 0 "--init-db applies 002 again (it is idempotent)"
t_eq "$(t_val "SELECT string_agg(version::text, ',' ORDER BY version) FROM pii_audit.schema_version")" "$versions" \
    "every version recorded once"
# a store without 003 (schema files come from branches merged in any order): that one is named and applied
t_psql -c "DELETE FROM pii_audit.schema_version WHERE version = 3"
t_run --config "$CONF" --scan-once
t_rc 3 "a store missing 003 is refused"
t_grep "out of date: apply .*003_change_detection.sql" "$T_DIR/err" "the missing file is named"
t_nogrep "00[124]_[a-z_]*.sql" "$T_DIR/err" "the applied ones are not"
t_run --config "$CONF" --init-db
t_rc 0 "--init-db upgrades (003 applied again over its own columns: idempotent)"
t_eq "$(t_val "SELECT string_agg(version::text, ',' ORDER BY version) FROM pii_audit.schema_version")" "$versions" \
    "every version recorded once, again"

# least privilege: roles.sql + exactly --print-grants, then scan as that role
t_psql -c "DROP OWNED BY pii_auditd" 2>/dev/null || true
t_psql -f "$PA_SOURCE_ROOT/sql/roles.sql" >/dev/null
CONF_R=$(T_USER=pii_auditd t_config 'surfaces:
  - table: events
    column: payload')
t_run --config "$CONF_R" --print-grants
t_rc 0 "--print-grants"
t_grep 'GRANT SELECT \(id, payload, ctid, xmin\) ON TABLE public.events TO pii_auditd' "$T_DIR/out" "column-level grant printed"
cp "$T_DIR/out" "$T_DIR/grants.sql"
T_USER=pii_auditd t_run --config "$CONF_R" --scan-once
t_rc 3 "as pii_auditd before the grants: the surface fails"
t_grep "GRANT" "$T_DIR/err" "the missing grant is named"
t_psql -f "$T_DIR/grants.sql" >/dev/null
t_run --config "$CONF_R" --scan-once --output json
t_rc 1 "as pii_auditd with exactly the printed grants: scan completes, findings exist"
t_eq "$(jq -r '.totals.open_findings' "$T_DIR/out")" "1" "one open finding"

# a progress line on stderr when it is a terminal (script(1) gives the scan a pty), none otherwise
script -qec "$PA_BIN --config $CONF_R --scan-once --full 2>&1 >/dev/null" /dev/null >"$T_DIR/tty.txt" 2>&1
t_grep "public.events.payload: [0-9]+ / ~[0-9]+ rows, [0-9]+ rows/s, ETA" "$T_DIR/tty.txt" "progress line on a terminal"
t_run --config "$CONF_R" --scan-once --full
t_nogrep "rows/s, ETA" "$T_DIR/err" "no progress line when stderr is not a terminal"

# a password never appears, even when the connection fails
printf 'database:\n  conninfo: "host=127.0.0.1 port=1 dbname=x user=u password=CanaryPw0rd! connect_timeout=2"\nsurfaces:\n  - {table: t, column: c}\n' >"$T_DIR/pw.yaml"
t_run --config "$T_DIR/pw.yaml" --scan-once --log-level debug
t_rc 3 "unreachable database: exit 3"
t_nogrep "CanaryPw0rd" "$T_DIR/out" "password not on stdout"
t_nogrep "CanaryPw0rd" "$T_DIR/err" "password not on stderr"
printf 'database:\n  conninfo: "host=127.0.0.1 port=1 password=CanaryPw0rd! bogus_option=1"\nsurfaces:\n  - {table: t, column: c}\n' >"$T_DIR/pw2.yaml"
t_run --config "$T_DIR/pw2.yaml" --scan-once --log-level debug
t_rc 3 "invalid conninfo: exit 3"
t_nogrep "CanaryPw0rd" "$T_DIR/err" "password not echoed for an invalid conninfo"
echo "CanaryPw0rdFile" >"$T_DIR/pwfile"
printf 'database:\n  conninfo: "host=%s port=%s dbname=%s user=pa_nopw"\n  password_file: %s\nsurfaces:\n  - {table: events, column: payload}\n' "$PA_PGHOST" "$PA_PGPORT" "$T_DB" "$T_DIR/pwfile" >"$T_DIR/pw3.yaml"
t_run --config "$T_DIR/pw3.yaml" --scan-once --log-level debug
t_nogrep "CanaryPw0rdFile" "$T_DIR/err" "password file content never printed"
t_nogrep "CanaryPw0rdFile" "$T_DIR/out" "password file content never printed (stdout)"
t_done
