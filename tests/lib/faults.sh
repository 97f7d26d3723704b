#!/usr/bin/env bash
# Helpers for tests/faults/*.sh (source after tests/lib/itest.sh; it sources tests/lib/daemon.sh, whose d_* helpers
# start the daemon, read its metrics and query Prometheus). Each case runs the real daemon against the test
# PostgreSQL with planted PII, injects one fault mid-scan, and then checks:
#   - the findings table: every planted finding exactly once, none resolved, the cursor never ahead of them;
#   - /metrics answered all along (a background sampler scrapes it every 0.3 s);
#   - pii_audit_scan_failures_total{reason} and the alert rule's own expression, evaluated by a real Prometheus
#     that scrapes the daemon every second (the expression is read from alerts/pii-auditd.rules.yml);
#   - the next scan after the fault is cleared succeeds, and how long that took (the recovery time).
# Each case writes its rows of the docs/testing.md table to $PA_FAULTS_REPORT/<test>.tsv (default directory
# $PA_BUILD_ROOT/faults-report) and prints them as FAULT-RESULT lines.

F_RULES=$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml
F_REPORT=${PA_FAULTS_REPORT:-${PA_BUILD_ROOT:-$T_DIR}/faults-report}/$T_NAME.tsv
mkdir -p "$(dirname "$F_REPORT")" && : >"$F_REPORT"
# shellcheck source=tests/lib/daemon.sh
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
# The findings store, when it is not the scanned database (findings_down.sh): psql arguments.
F_STORE_ARGS=()

# A value from the findings store.
f_store_val() {
    if [ ${#F_STORE_ARGS[@]} -gt 0 ]; then
        psql -X -q -A -t -v ON_ERROR_STOP=1 "${F_STORE_ARGS[@]}" -c "$1"
    else
        t_val "$1"
    fi
}

# f_plant TABLE FROM TO: rows FROM..TO; every 100th row carries an email (by key) and a phone number (in a value),
# two findings per such row, nested one level down; the others are PII-free.
f_plant() {
    t_psql -c "CREATE TABLE IF NOT EXISTS $1 (id bigint PRIMARY KEY, payload jsonb NOT NULL);
      INSERT INTO $1 SELECT g, CASE WHEN g % 100 = 0
          THEN jsonb_build_object('order', g, 'contact', jsonb_build_object('email', 'user' || g || '@example.com',
                                  'note', 'call +1 415 555 ' || lpad((g % 10000)::text, 4, '0')))
          ELSE jsonb_build_object('order', g, 'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || g)))
        END FROM generate_series($2, $3) g;
      ANALYZE $1;" >/dev/null
}

f_findings() { f_store_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.$1'"; }

# f_check_findings TABLE ROWS LABEL: every planted finding exactly once, nothing else, nothing resolved.
f_check_findings() {
    local t=$1 rows=$2 label=$3 want=$(($2 / 100 * 2))
    local got
    got=$(f_store_val "SELECT count(*) || ' ' || count(DISTINCT (record_id, json_path, category)) || ' '
        || count(DISTINCT record_id) || ' ' || count(*) FILTER (WHERE resolved_at IS NOT NULL) || ' '
        || count(*) FILTER (WHERE record_id::bigint % 100 <> 0 OR record_id::bigint > $rows)
        FROM pii_audit.findings WHERE table_name = 'public.$t'")
    t_eq "$got" "$want $want $((rows / 100)) 0 0" \
        "$label: $t has every planted finding exactly once ($want), none resolved, none spurious"
}

# f_check_cursor TABLE LABEL: the cursor is never ahead of stored findings: every planted finding at or below the
# cursor is in the store.
f_check_cursor() {
    local c
    c=$(f_store_val "SELECT last_id FROM pii_audit.scan_cursors WHERE table_name = 'public.$1'")
    if [ -z "$c" ]; then
        ok "$2: no cursor for $1 yet (nothing acknowledged)"
        return
    fi
    local stored
    stored=$(f_store_val "SELECT count(*) FROM pii_audit.findings WHERE table_name = 'public.$1'
        AND record_id::bigint <= $c")
    t_eq "$stored" "$((c / 100 * 2))" "$2: cursor of $1 ($c) not ahead of the stored findings"
}

# Latest scan run / surface outcome in the store.
f_run_status() { f_store_val "SELECT status FROM pii_audit.scan_runs WHERE id = $1"; }
f_surface_status() { # scan_id table
    f_store_val "SELECT status || ' ' || coalesce(error_class, '-') FROM pii_audit.scan_run_surfaces
        WHERE scan_id = $1 AND table_name = 'public.$2'"
}
f_last_run() { f_store_val "SELECT coalesce(max(id), 0) FROM pii_audit.scan_runs"; }

# ---- daemon ----------------------------------------------------------------------------------------------------
# f_config SURFACES [SCAN_EXTRA] [EXTRA]: a daemon config (scan only on SIGUSR1 or on its own retry backoff).
f_config() {
    T_SCAN_EXTRA="  interval: 1m
  jitter: 0s
  initial_delay: 1h
  max_rows_per_second: ${F_RATE:-2500}
${2:-}" T_BATCH=${F_BATCH:-500} t_config "$1" "metrics:
  listen: [\"127.0.0.1:$D_PORT\"]
${3:-}"
}

f_failures() { d_metric_val "pii_audit_scan_failures_total{reason=\"$1\"}"; }
f_failures_above() { [ "$(f_failures "$1")" -gt "$2" ] 2>/dev/null; } # reason count
f_success_ts() { d_metric_val pii_audit_last_scan_success_timestamp_seconds; }

# Wait until the daemon has stored at least N findings of TABLE (the fault goes in mid-scan).
f_has_findings() { [ "$(f_findings "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
f_wait_findings() { wait_for 30 f_has_findings "$1" "$2"; }

# f_wait_recovered T0 [SECONDS]: wait for a successful scan that ended after T0 (epoch seconds, fractional); the
# recovery time (its end - T0, seconds) goes to F_RECOVERY.
f_recovered() { f_success_ts | awk -v t0="$1" '{ exit !($1 > t0) }'; }
f_wait_recovered() {
    F_RECOVERY=
    wait_for "${2:-60}" f_recovered "$1" || return 1
    F_RECOVERY=$(f_success_ts | awk -v t0="$1" '{ printf "%.1f", $1 - t0 }')
}
f_now() { date +%s.%N; }

# /metrics is scraped every 0.3 s in the background from f_sampler_start to f_sampler_stop.
f_sampler_start() {
    : >"$T_DIR/sampler"
    (while :; do
        if curl -sf -m "$(pa_scaled 2)" -o /dev/null "$D_URL/metrics"; then echo ok; else echo fail; fi
        sleep 0.3
    done) >>"$T_DIR/sampler" 2>/dev/null &
    F_SAMPLER=$!
    D_PIDS+=("$F_SAMPLER")
}
f_sampler_stop() { # label
    kill "$F_SAMPLER" 2>/dev/null
    wait "$F_SAMPLER" 2>/dev/null
    local okn failn
    okn=$(grep -c '^ok' "$T_DIR/sampler")
    failn=$(grep -c '^fail' "$T_DIR/sampler")
    if [ "$failn" -eq 0 ] && [ "$okn" -ge 3 ]; then
        ok "$1: /metrics answered all $okn scrapes during the fault"
    else
        not_ok "$1: /metrics failed $failn of $((okn + failn)) scrapes during the fault"
    fi
}

# ---- Prometheus and the alert rules ------------------------------------------------------------------------------
f_prom_start() { d_prom_start "$F_RULES"; }
# The daemon has been scraped (so a failure counter's step from 0 is visible to increase()).
f_prom_ready() { wait_for 30 d_prom_has 'pii_audit_scan_failures_total{reason="connect"}'; }
# Start the daemon on CONFIG and check that it serves /healthz and that Prometheus (f_prom_start) scrapes it.
f_start() { # config
    d_start "$1" && ok "daemon serves /healthz" || not_ok "daemon did not start"
    f_prom_ready && ok "Prometheus scrapes the daemon" || not_ok "Prometheus never scraped the daemon"
}
f_expr_has() { # expr label value: the expression returns a series with that label
    d_prom_q "$1" | jq -e --arg k "$2" --arg v "$3" '[.data.result[] | select(.metric[$k] == $v)] | length > 0' \
        >/dev/null 2>&1
}
f_alert_expr() { # alert name -> its expr, from the rules file
    python3 - "$F_RULES" "$1" <<'PY'
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if r.get("alert") == sys.argv[2]:
            print(r["expr"])
PY
}
# f_alert_fires ALERT LABEL=VALUE LABEL_TEXT: Prometheus evaluates the rule's expression over what it scraped; it
# must return a series with that label (within 15 s, scrape + evaluation). The `for:` duration is not waited for.
f_alert_fires() {
    local alert=$1 key=${2%%=*} val=${2#*=} expr
    expr=$(f_alert_expr "$alert")
    [ -n "$expr" ] || { not_ok "$3: alert $alert not in the rules file"; return 1; }
    if wait_for 15 f_expr_has "$expr" "$key" "$val"; then
        ok "$3: $alert would fire ($key=$val)"
        F_ALERTS="${F_ALERTS:+$F_ALERTS, }$alert{$key=$val}"
    else
        not_ok "$3: $alert does not fire for $key=$val"
        return 1
    fi
}

# f_result FAULT HOW BEFORE AFTER REASON ALERT RECOVERY: one row of the docs/testing.md table.
f_result() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$F_REPORT"
    printf 'FAULT-RESULT | %s | %s | %s | %s | %s | %s | %s |\n' "$@"
}
