#!/usr/bin/env bash
# The findings table cannot be written in the middle of a scan:
#  1. unwritable: INSERT and UPDATE on pii_audit.findings revoked from the daemon's role (a least-privilege role);
#  2. full disk: pii_audit.findings and its indexes live in a tablespace on a small tmpfs, which is filled up.
#     (Mounting a tmpfs needs CAP_SYS_ADMIN: where the sandbox forbids it, this case says so and case 1 stands in.)
# Each: a clear error naming the findings store, reason findings_store counted, PIIAuditScanFailed would fire, the
# cursor never ahead of the stored findings, and the next scan after the fault is cleared stores everything once.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/faults.sh"
ROLE=pa_faults_writer
TS=pa_faults_small
MNT=$T_DIR/smalldisk
cleanup_disk() {
    kill "$DPID" 2>/dev/null
    if mountpoint -q "$MNT"; then
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$T_DB\" WITH (FORCE)" -c "DROP TABLESPACE IF EXISTS $TS" \
            >/dev/null 2>&1
        umount "$MNT"
    fi
}
trap 'cleanup_disk; d_cleanup' EXIT
f_prom_start
t_db
psql -X -q -d postgres -c "DROP TABLESPACE IF EXISTS $TS" >/dev/null 2>&1
t_init_schema
f_plant events 1 15000
t_psql -c "DROP ROLE IF EXISTS $ROLE; CREATE ROLE $ROLE LOGIN;
  GRANT USAGE ON SCHEMA pii_audit TO $ROLE;
  GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pii_audit TO $ROLE;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA pii_audit TO $ROLE;
  GRANT SELECT ON events TO $ROLE;" >/dev/null 2>&1 ||
    t_psql -c "GRANT USAGE ON SCHEMA pii_audit TO $ROLE;
  GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA pii_audit TO $ROLE;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA pii_audit TO $ROLE; GRANT SELECT ON events TO $ROLE;" >/dev/null
CONF=$(T_USER=$ROLE f_config 'surfaces:
  - {table: events, column: payload}')
f_start "$CONF"

# fault_case NAME ROWS MIN INJECT CLEAR MESSAGE-REGEX
fault_case() {
    local name=$1 rows=$2 min=$3 inject=$4 clear=$5 msg=$6 run store0
    store0=$(f_failures findings_store)
    kill -USR1 "$DPID"
    f_wait_findings events "$min" || not_ok "$name: the scan did not get going"
    run=$(f_last_run)
    f_sampler_start
    F_BEFORE=$(f_findings events)
    $inject
    wait_for 20 d_idle && ok "$name: the scan ended" || not_ok "$name: the scan did not end"
    t_eq "$(f_surface_status "$run" events)" "failed findings_store" "$name: the surface failed with findings_store"
    local m
    m=$(f_store_val "SELECT error_message FROM pii_audit.scan_run_surfaces WHERE scan_id = $run")
    echo "$m" | grep -qE "$msg" && ok "$name: clear error: $m" || not_ok "$name: error message: $m"
    t_eq "$(f_run_status "$run")" "failed" "$name: the run is recorded failed"
    t_eq "$(f_failures findings_store)" "$((store0 + 1))" "$name: pii_audit_scan_failures_total{reason=\"findings_store\"} counted"
    F_ALERTS=
    f_alert_fires PIIAuditScanFailed reason=findings_store "$name"
    f_check_cursor events "$name"
    local t0; t0=$(f_now)
    $clear
    d_scan_now && f_wait_recovered "$t0" 30 && ok "$name: the next scan succeeds (${F_RECOVERY}s)" \
        || not_ok "$name: the next scan did not succeed"
    f_sampler_stop "$name"
    f_check_findings events "$rows" "$name"
    f_check_cursor events "$name, after"
}

# ---- 1. INSERT/UPDATE revoked ----
revoke() { t_psql -c "REVOKE INSERT, UPDATE ON pii_audit.findings FROM $ROLE"; }
regrant() { t_psql -c "GRANT INSERT, UPDATE ON pii_audit.findings TO $ROLE"; }
fault_case revoke 15000 20 revoke regrant "findings store: permission denied for table findings"
f_result "Findings table unwritable" "REVOKE INSERT, UPDATE ON pii_audit.findings from the daemon's role mid-scan" \
    "$F_BEFORE of 300" "300 exactly once" "findings_store" "$F_ALERTS" "$F_RECOVERY s (next scan after GRANT, SIGUSR1)"

# ---- 2. full disk under the findings table ----
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m,mode=0755 tmpfs "$MNT" 2>"$T_DIR/mount.err"; then
    ok "full disk: not run, this sandbox cannot mount a tmpfs ($(head -1 "$T_DIR/mount.err")); the REVOKE case stands in"
    f_result "Findings database disk full" "not run: mount -t tmpfs refused here" "-" "-" "-" "-" "-"
    t_done
fi
mkdir "$MNT/ts" && chown postgres: "$MNT/ts"
t_psql -c "CREATE TABLESPACE $TS LOCATION '$MNT/ts'" >/dev/null
t_psql -c "ALTER TABLE pii_audit.findings SET TABLESPACE $TS" >/dev/null
for i in $(t_val "SELECT indexname FROM pg_indexes WHERE schemaname = 'pii_audit' AND tablename = 'findings'"); do
    t_psql -c "ALTER INDEX pii_audit.$i SET TABLESPACE $TS" >/dev/null
done
n_idx=$(t_val "SELECT count(*) FROM pg_indexes WHERE schemaname = 'pii_audit' AND tablename = 'findings'")
t_eq "$(t_val "SELECT count(*) FROM pg_class WHERE reltablespace = (SELECT oid FROM pg_tablespace WHERE spcname = '$TS')")" \
    "$((n_idx + 3))" "findings table, its $n_idx indexes and its TOAST table + index on the small disk"
f_plant events 15001 30000
fill() { dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null; sync; }
unfill() { rm -f "$MNT/filler"; }
fill_mid() { fill; ok "full disk: $(df --output=avail -k "$MNT" | tail -1 | tr -d ' ') KiB left on the findings tablespace"; }
fault_case "full disk" 30000 310 fill_mid unfill "findings store: could not extend file .*No space left on device"
f_result "Findings database disk full" "findings table + indexes in a tablespace on a 4 MB tmpfs, filled with dd mid-scan" \
    "$F_BEFORE of 600" "600 exactly once" "findings_store" "$F_ALERTS" "$F_RECOVERY s (next scan after rm, SIGUSR1)"
t_done
