#!/usr/bin/env bash
# Passwords as systemd credentials (database.password_credential, findings.password_credential): the file NAME in
# $CREDENTIALS_DIRECTORY, as the unit's LoadCredential=NAME:... makes it. On a cluster of the test's own that asks
# TCP clients for a password (scram-sha-256): a scan with each password read from its credential succeeds (scanned
# database and findings database, two roles, two credentials); without $CREDENTIALS_DIRECTORY, or with the file
# missing from it, the error names LoadCredential= and what to do; a wrong password is refused by the server; a
# password file and a credential together are a configuration error (file:line:column). No password in any output.
source "$(dirname "$0")/../lib/itest.sh"
D=$T_DIR/cred
mkdir -p "$D"
port=$(pa_free_port $((PA_PGPORT + 45)))
(pa_pg_start "$D" "$port") >/dev/null 2>&1 || { not_ok "cluster start"; t_done; }
stop_own() { pa_pg_stop "$D" immediate; }
trap 'stop_own; t_cleanup' EXIT
# TCP needs a password, but for the superuser this test administers with (the Unix socket stays trusted)
pa__as_pg sh -c "printf '%s\n' 'local all all trust' 'host all postgres 127.0.0.1/32 trust' \
    'host all all 127.0.0.1/32 scram-sha-256' >'$D/data/pg_hba.conf'"
pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$D/data" reload >/dev/null
sleep 0.5
cpsql() { psql -X -q -v ON_ERROR_STOP=1 -h "$D" -p "$port" -U postgres "$@"; }
SCAN_PW=ScanCredS3cret
STORE_PW=StoreCredS3cret
cpsql -d postgres -c "CREATE ROLE pa_cred_scan LOGIN SUPERUSER PASSWORD '$SCAN_PW'" \
    -c "CREATE ROLE pa_cred_store LOGIN SUPERUSER PASSWORD '$STORE_PW'" -c "CREATE DATABASE app" \
    -c "CREATE DATABASE store" >/dev/null
cpsql -d app -c "CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb);
  INSERT INTO hooks VALUES (1, '{\"email\": \"cred.canary@example.org\"}'), (2, '{\"n\": 1}');" >/dev/null
for f in "$PA_SOURCE_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do cpsql -d store -f "$f" >/dev/null; done
psql -X -h 127.0.0.1 -p "$port" -U pa_cred_scan -d app -w -c 'SELECT 1' >/dev/null 2>&1 \
    && not_ok "TCP without a password was let in" || ok "the cluster asks TCP clients for a password (scram-sha-256)"

conf() { # extra database keys, extra findings keys
    cat >"$T_DIR/cred.yaml" <<YAML
database:
  conninfo: "host=127.0.0.1 port=$port dbname=app user=pa_cred_scan"
$1
findings:
  conninfo: "host=127.0.0.1 port=$port dbname=store user=pa_cred_store"
$2
scan:
  batch_size: 10
surfaces:
  - {table: hooks, column: payload}
YAML
    echo "$T_DIR/cred.yaml"
}
CONF=$(conf "  password_credential: db-password" "  password_credential: findings-password")
CREDS=$T_DIR/credentials
mkdir -p "$CREDS" && chmod 700 "$CREDS"

# no $CREDENTIALS_DIRECTORY: run by hand, outside the service
env -u CREDENTIALS_DIRECTORY PGPASSWORD= "$PA_BIN" --config "$CONF" --scan-once >"$T_DIR/out" 2>"$T_DIR/err"
T_RC=$?; t_run_log
t_rc 3 "credential but no \$CREDENTIALS_DIRECTORY"
t_grep 'findings.password_credential is findings-password, but \$CREDENTIALS_DIRECTORY is not set' "$T_DIR/err" \
    "the error names the key, the credential and the missing variable"
t_grep 'LoadCredential=findings-password:pii-auditd.findings-password' "$T_DIR/err" \
    "... and the LoadCredential= line to run it with (systemd-run)"

# the directory without the file: a LoadCredential= whose source was missing (systemd skips it)
CREDENTIALS_DIRECTORY=$CREDS "$PA_BIN" --config "$CONF" --scan-once >"$T_DIR/out" 2>"$T_DIR/err"
T_RC=$?; t_run_log
t_rc 3 "credential missing from \$CREDENTIALS_DIRECTORY"
t_grep 'findings.password_credential findings-password: no such credential in \$CREDENTIALS_DIRECTORY' "$T_DIR/err" \
    "the error says which credential is missing"
t_grep '/etc/credstore/pii-auditd.findings-password' "$T_DIR/err" "... and where the unit loads it from"

# both credentials present: the scan reads each password from its own file
printf '%s\n' "$SCAN_PW" >"$CREDS/db-password"
printf '%s\n' "$STORE_PW" >"$CREDS/findings-password"
chmod 400 "$CREDS"/*
CREDENTIALS_DIRECTORY=$CREDS "$PA_BIN" --config "$CONF" --scan-once >"$T_DIR/out" 2>"$T_DIR/err"
T_RC=$?; t_run_log
t_rc 1 "both passwords from their credentials: the scan ran and found the planted email"
t_eq "$(cpsql -d store -Atc "SELECT count(*) FROM pii_audit.findings WHERE resolved_at IS NULL")" "1" \
    "the finding is in the findings database (written as pa_cred_store)"
t_eq "$(cpsql -d store -Atc "SELECT usename FROM pg_stat_activity WHERE usename LIKE 'pa_cred%'" | wc -l)" "0" \
    "no session left behind"

# a wrong password in the credential: the server refuses it, and the password is not in the message
printf '%s\n' "WrongCredS3cret" >"$CREDS/db2"
chmod 400 "$CREDS/db2"
CONF2=$(conf "  password_credential: db2" "  password_credential: findings-password")
CREDENTIALS_DIRECTORY=$CREDS "$PA_BIN" --config "$CONF2" --scan-once >"$T_DIR/out" 2>"$T_DIR/err"
T_RC=$?; t_run_log
t_rc 3 "a wrong password in the credential"
t_grep 'password authentication failed for user "pa_cred_scan"' "$T_DIR/err" "the server's refusal is reported"

# --init-db and --print-grants take the same credentials
CREDENTIALS_DIRECTORY=$CREDS "$PA_BIN" --config "$CONF" --init-db >"$T_DIR/out" 2>"$T_DIR/err"
T_RC=$?; t_run_log
t_rc 0 "--init-db connects with findings.password_credential"

# a file and a credential for one database: a configuration error with its position
CONF3=$(conf "  password_file: /etc/pii-auditd/db-password
  password_credential: db-password" "")
t_run --config "$CONF3" --check-config
t_rc 2 "password_file and password_credential together"
t_grep 'cred.yaml:4:24: database.password_credential: set together with database.password_file' "$T_DIR/err" \
    "the error names file:line:column and says to keep one"
CONF4=$(conf "" "  password_credential: '../etc/shadow'")
t_run --config "$CONF4" --check-config
t_rc 2 "a credential name with a slash"
t_grep 'findings.password_credential: expected a credential name' "$T_DIR/err" "a credential is a file name"

for pw in "$SCAN_PW" "$STORE_PW" WrongCredS3cret; do
    t_nogrep "$pw" "$T_DIR/all-out" "the password $pw is in no output"
    t_nogrep "$pw" "$T_DIR/all-err" "the password $pw is in no error or log"
done
t_nogrep "cred.canary" "$T_DIR/all-err" "the scanned value is in no log"
t_done
