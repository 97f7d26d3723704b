#!/usr/bin/env bash
# Least privilege: the pii_auditd role from sql/roles.sql with exactly the statements `--print-grants` prints (and
# nothing from PUBLIC: CONNECT/TEMP on the database revoked, surfaces in their own schemas) scans fully; then each
# printed grant is removed alone (and each privilege of the multi-privilege lines) and the scan fails with a clear
# error naming what is missing -- a per-surface grant fails that surface alone. Also: a scan as root is refused
# without --allow-root.
source "$(dirname "$0")/../lib/itest.sh"
t_db
t_init_schema
ROLE=pii_auditd

# --- root refusal (the tests run the binary through tests/lib/pa-bin.sh, which adds --allow-root as root) ---
CONF_ROOT=$(t_config 'surfaces:
  - {table: app.hooks, column: payload}')
if [ "$(id -u)" = 0 ]; then
    "$PA_REAL_BIN" --config "$CONF_ROOT" --scan-once >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?
    t_rc 2 "root without --allow-root: a scan is refused"
    t_grep "refusing to run as root.*--allow-root" "$T_DIR/err" "the refusal says why and names --allow-root"
    "$PA_REAL_BIN" --config "$CONF_ROOT" >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?
    t_rc 2 "root without --allow-root: the daemon is refused"
    for mode in --check-config --print-grants --version --help; do
        "$PA_REAL_BIN" --config "$CONF_ROOT" $mode >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?
        t_rc 0 "root may run $mode (reads no scanned data)"
    done
else
    # not root here: run the same binary as root is impossible; check the flag is accepted at least
    "$PA_REAL_BIN" --config "$CONF_ROOT" --check-config --allow-root >"$T_DIR/out" 2>"$T_DIR/err"; T_RC=$?
    t_rc 0 "--allow-root is accepted"
fi

# --- the data: two surfaces in two schemas, so a per-surface grant can fail one surface alone ---
t_psql <<'SQL' >/dev/null
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA app;
CREATE SCHEMA crm;
CREATE TABLE app.hooks (id bigint PRIMARY KEY, payload jsonb, secret_col text);
INSERT INTO app.hooks VALUES (1, '{"customer": {"email": "lp.one@example.org"}}', 'x'), (2, '{"n": 1}', 'y');
CREATE TABLE crm.notes (note_id uuid PRIMARY KEY, body text);
INSERT INTO crm.notes VALUES ('00000000-0000-0000-0000-000000000001', 'call 646 555 0188 or lp.two@example.org');
SQL
t_psql -f "$PA_SOURCE_ROOT/sql/roles.sql" >/dev/null
# start from nothing: roles.sql grants on pii_audit.*; the test applies only what --print-grants prints
t_psql <<SQL >/dev/null
REVOKE ALL ON ALL TABLES IN SCHEMA pii_audit FROM $ROLE;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pii_audit FROM $ROLE;
REVOKE ALL ON SCHEMA pii_audit FROM $ROLE;
SQL
t_eq "$(t_val "SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = '$ROLE'")" \
    "f" "the role from roles.sql has no superuser, BYPASSRLS, CREATEROLE or CREATEDB"

CONF=$(T_USER=$ROLE t_config 'surfaces:
  - {table: app.hooks, column: payload}
  - {table: crm.notes, column: body}')
# --print-grants connects as the role to look up primary keys: it needs CONNECT, which PUBLIC has by default; then
# the database is hardened (PUBLIC loses CONNECT and TEMP) and the role gets only what was printed
t_run --config "$CONF" --print-grants
t_rc 0 "--print-grants"
t_nogrep "warn" "$T_DIR/err" "--print-grants could look up the primary keys"
t_psql -c "REVOKE CONNECT, TEMPORARY ON DATABASE pa_least_privilege FROM PUBLIC" >/dev/null
grep -E '^(GRANT|REVOKE)' "$T_DIR/out" >"$T_DIR/grants.sql"
cp "$T_DIR/out" "$T_DIR/print-grants.txt"
t_grep '^GRANT CONNECT ON DATABASE pa_least_privilege TO pii_auditd;' "$T_DIR/grants.sql" "CONNECT on the database is printed"
# the key, the column, and the system columns change detection reads (a role with column grants only cannot select
# ctid or xmin otherwise)
t_grep '^GRANT SELECT \(id, payload, ctid, xmin\) ON TABLE app.hooks TO pii_auditd;' "$T_DIR/grants.sql" "column-level SELECT (id, payload, ctid, xmin)"
t_grep '^GRANT SELECT \(note_id, body, ctid, xmin\) ON TABLE crm.notes TO pii_auditd;' "$T_DIR/grants.sql" "column-level SELECT on the uuid-keyed table"
t_nogrep 'secret_col' "$T_DIR/grants.sql" "no grant on a column that is not scanned"

# before any grant: refused at connect, with the reason and no secret
t_run --config "$CONF" --scan-once --output json
t_rc 3 "no grants at all: the scan cannot start"
t_eq "$(jq -r '.error.reason' "$T_DIR/out")" "connect" "reason connect"
t_grep "CONNECT privilege" "$T_DIR/err" "the error names the CONNECT privilege"

t_psql -f "$T_DIR/grants.sql" >/dev/null
t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "exactly the printed grants: the full scan completes with findings"
t_eq "$(jq -r '[.surfaces[].status] | join(",")' "$T_DIR/out")" "ok,ok" "both surfaces ok"
t_eq "$(t_val "SELECT count(DISTINCT table_name) FROM pii_audit.findings WHERE resolved_at IS NULL")" "2" \
    "findings of both surfaces are in the store"
t_eq "$(t_val "SELECT status FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1")" "ok" "the run is recorded ok"

# what the role holds is exactly what was printed: nothing from roles.sql survived, nothing else was given
t_eq "$(t_val "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = '$ROLE' AND table_schema NOT IN ('pii_audit')")" \
    "0" "no table-level grant on the scanned tables (column-level only)"

# one grant removed at a time. Multi-privilege lines are also split into single privileges on single objects.
expand() { # a GRANT line -> the single grants it is made of, one per line
    python3 - "$1" <<'PY'
import re, sys
line = sys.argv[1].split(";")[0].strip()
m = re.match(r"GRANT (.+?) ON (SCHEMA|TABLE|DATABASE|SEQUENCE|) ?(.+) TO (\S+)$", line)
privs, kind, objs, role = m.group(1), m.group(2), m.group(3), m.group(4)
if "(" in privs:  # a column-level grant is one grant
    print(line + ";")
    sys.exit()
for p in [p.strip() for p in privs.split(",")]:
    for o in [o.strip() for o in objs.split(",")]:
        print(f"GRANT {p} ON {kind + ' ' if kind else ''}{o} TO {role};")
PY
}
: >"$T_DIR/singles.sql"
while IFS= read -r line; do
    expand "$line" >>"$T_DIR/singles.sql"
    echo >>"$T_DIR/singles.sql"
done <"$T_DIR/grants.sql"
n_single=$(grep -c '^GRANT' "$T_DIR/singles.sql")
[ "$n_single" -ge 20 ] && ok "$n_single single grants to remove one by one" || not_ok "only $n_single single grants"

t_psql -c "REVOKE ALL ON ALL TABLES IN SCHEMA pii_audit FROM $ROLE" >/dev/null
# apply the singles instead of the printed lines (same privileges): each can be revoked alone
t_psql -f "$T_DIR/singles.sql" >/dev/null
while IFS= read -r g; do
    [ -n "$g" ] || continue
    revoke=$(echo "$g" | sed -E 's/^GRANT /REVOKE /; s/ TO ([^ ;]+);$/ FROM \1;/')
    t_psql -c "$revoke" >/dev/null
    # a fresh store, so the scan reads (and would write) every row and records its database for the first time
    # (INSERT on pii_audit.databases); for UPDATE on pii_audit.databases, the store as an upgrade to schema version 2
    # leaves it, with the identity of the rows recorded before it unclaimed: the first scan adopts it
    t_psql -c "TRUNCATE pii_audit.findings, pii_audit.scan_cursors, pii_audit.scan_run_surfaces, pii_audit.scan_runs,
                 pii_audit.databases" >/dev/null
    case $g in *"UPDATE ON pii_audit.databases "*)
        t_psql -c "INSERT INTO pii_audit.databases (system_identifier, database_name) VALUES (NULL, NULL)" >/dev/null ;;
    esac
    t_run --config "$CONF" --scan-once --full --output json
    short=${g#GRANT }
    short=${short% TO *}
    if [ "$T_RC" = 1 ] || [ "$T_RC" = 0 ]; then
        not_ok "without $short the scan still succeeds: --print-grants prints more than needed"
    else
        t_rc 3 "without $short: the scan fails"
        case $g in
        *"SELECT (id, payload, ctid, xmin)"*)
            t_eq "$(jq -r '[.surfaces[] | .status + ":" + (.error.reason // "-")] | join(",")' "$T_DIR/out")" \
                "failed:permission,ok:-" "without $short: only app.hooks fails, reason permission"
            t_grep "lacks SELECT on app.hooks \(id, payload, ctid, xmin\): GRANT SELECT \(id, payload, ctid, xmin\) ON app.hooks TO pii_auditd" \
                "$T_DIR/err" "without $short: the error names the grant" ;;
        *"SELECT (note_id, body, ctid, xmin)"*)
            t_eq "$(jq -r '[.surfaces[] | .status + ":" + (.error.reason // "-")] | join(",")' "$T_DIR/out")" \
                "ok:-,failed:permission" "without $short: only crm.notes fails, reason permission"
            t_grep "GRANT SELECT \(note_id, body, ctid, xmin\) ON crm.notes TO pii_auditd" "$T_DIR/err" \
                "without $short: the error names the grant" ;;
        *"USAGE ON SCHEMA app "*)
            t_eq "$(jq -r '[.surfaces[] | .status + ":" + (.error.reason // "-")] | join(",")' "$T_DIR/out")" \
                "failed:permission,ok:-" "without $short: only app.hooks fails"
            t_grep "GRANT USAGE ON SCHEMA app TO pii_auditd" "$T_DIR/err" "without $short: the error names the grant" ;;
        *"USAGE ON SCHEMA crm "*)
            t_eq "$(jq -r '[.surfaces[] | .status + ":" + (.error.reason // "-")] | join(",")' "$T_DIR/out")" \
                "ok:-,failed:permission" "without $short: only crm.notes fails"
            t_grep "GRANT USAGE ON SCHEMA crm TO pii_auditd" "$T_DIR/err" "without $short: the error names the grant" ;;
        *"CONNECT ON DATABASE"*)
            t_eq "$(jq -r '.error.reason' "$T_DIR/out")" "connect" "without $short: reason connect"
            t_grep "CONNECT privilege" "$T_DIR/err" "without $short: the error names the privilege" ;;
        *)
            # findings-store grants: SQLSTATE 42501 with the object, and the statement to run
            priv=$(echo "$short" | sed -E 's/^([A-Z]+) ON .*/\1/')
            obj=$(echo "$short" | sed -E 's/.* ON (SCHEMA |TABLE |SEQUENCE )?//')
            obj_name=${obj#pii_audit.}
            t_grep "permission denied for (table|schema|sequence) $obj_name" "$T_DIR/err" \
                "without $short: the error names the object $obj_name"
            t_grep "GRANT $priv ON" "$T_DIR/err" "without $short: the error names the privilege to grant ($priv)" ;;
        esac
    fi
    t_psql -c "$g" >/dev/null
done <"$T_DIR/singles.sql"

# and with everything back, the scan is whole again
t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "all grants back: the scan completes"
t_done
