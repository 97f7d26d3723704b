#!/usr/bin/env bash
# The Grafana dashboard (etc/grafana/pii-auditd.json) against the real thing.
# (a) jq lint: id null, fixed uid, a `datasource` variable and no ${DS_...} import placeholders, every panel and
#     target on ${datasource}, every target has an expr, unique panel ids, schemaVersion.
# (b) end to end: the daemon scans a table with planted PII, a real Prometheus scrapes it every second and evaluates
#     alerts/pii-auditd.rules.yml; every panel query, with the dashboard variables substituted, goes through
#     Prometheus' /api/v1/query and must parse and return data (the guardrail panel too: the write-time guardrail
#     is installed on the table and rejects writes).
# (c) no dangling names: every pii_audit_* metric referenced by an alert rule (alerts/pii-auditd.rules.yml) or a
#     panel is exported (# TYPE) by the running daemon.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
DASH=${PA_DASHBOARD:-$PA_SOURCE_ROOT/etc/grafana/pii-auditd.json}  # PA_DASHBOARD: check another file
TABLE=public.dash_events

# ---- (a) lint ----------------------------------------------------------------------------------------------------
if jq -e . "$DASH" >/dev/null 2>&1; then ok "dashboard is valid JSON"; else not_ok "dashboard is not valid JSON"; t_done; fi
jl() { jq -r "$1" "$DASH"; }
# every panel, including those nested in collapsed rows; rows themselves carry no queries
PANELS='[.panels[], (.panels[] | .panels[]?)] | map(select(.type != "row"))'
t_eq "$(jl '.id')" "null" "id is null"
t_eq "$(jl '.uid')" "pii-auditd" "uid is fixed"
t_eq "$(jl '.schemaVersion | type')" "number" "schemaVersion present ($(jl '.schemaVersion'))"
t_eq "$(jl '[.templating.list[] | select(.name == "datasource" and .type == "datasource" and .query == "prometheus")] | length')" \
    "1" "datasource variable of type datasource/prometheus"
t_eq "$(jl '[.templating.list[] | select(.name == "instance" and (.query.query // .query) == "label_values(pii_audit_build_info, instance)")] | length')" \
    "1" "instance variable"
t_eq "$(jl '[.templating.list[] | select(.name == "table" and .multi == true and .includeAll == true)] | length')" \
    "1" "table variable is multi + include all"
if grep -q '\${DS_' "$DASH"; then not_ok "no \${DS_ import placeholders"; else ok "no \${DS_ import placeholders"; fi
t_eq "$(jl '.__inputs // .__requires // empty | length')" "" "no __inputs/__requires import sections"
t_eq "$(jl "$PANELS | map(select(.datasource != {\"type\": \"prometheus\", \"uid\": \"\${datasource}\"})) | map(.title) | join(\", \")")" \
    "" "every panel's datasource is {type: prometheus, uid: \${datasource}}"
t_eq "$(jl "$PANELS | map(.targets[]? | select(has(\"datasource\") and .datasource != {\"type\": \"prometheus\", \"uid\": \"\${datasource}\"})) | length")" \
    "0" "every target's datasource (when set) is \${datasource}"
t_eq "$(jl '[.templating.list[] | select(has("datasource")) | select(.datasource.uid != "${datasource}")] | length')" \
    "0" "query variables use \${datasource}"
t_eq "$(jl "$PANELS | map(select((.targets // []) | length == 0)) | map(.title) | join(\", \")")" "" "every panel has targets"
t_eq "$(jl "$PANELS | map(.targets[] | select((.expr // \"\") | test(\"\\\\S\") | not)) | length")" "0" "every target has an expr"
t_eq "$(jl '[.panels[], (.panels[] | .panels[]?)] | map(.id) | (length == (unique | length)) and all(type == "number")')" \
    "true" "panel ids are unique numbers"

# ---- (b) end to end ----------------------------------------------------------------------------------------------
t_db
t_init_schema
t_psql -c "CREATE TABLE dash_events (id bigint PRIMARY KEY, payload jsonb NOT NULL);
  INSERT INTO dash_events SELECT g, jsonb_build_object('order', g) FROM generate_series(1, 200) g;
  INSERT INTO dash_events VALUES (201, '{\"email\": \"someone@example.com\"}'),
                                 (202, '{\"contact\": {\"email\": \"other.person@example.com\"}}');
  ANALYZE dash_events;"
PORT=$D_PORT
CONF=$(T_SCAN_EXTRA="  interval: 1h
  initial_delay: 0s" t_config 'surfaces:
  - {table: dash_events, column: payload}' "metrics:
  listen: [\"127.0.0.1:$PORT\"]")

# the write-time guardrail on the surface, and a first rejected write
"$PA_BIN" --config "$CONF" --print-guardrail-sql >"$T_DIR/guardrail.sql" \
    && t_psql -f "$T_DIR/guardrail.sql" >/dev/null 2>&1 && ok "guardrail installed" || not_ok "guardrail install"
reject() { # a write the guardrail must reject
    local out; out=$(psql -X -q -d "$T_DB" -c "INSERT INTO dash_events VALUES ($1, '{\"phone_number\": \"x\"}')" 2>&1)
    [[ $out == *"PII key detected"* ]]
}
reject 900 && ok "the guardrail rejects a PII key" || not_ok "the guardrail did not reject"

# SIGUSR1 and wait until that scan has finished (scans_total went up, nothing in progress)
# (generous bounds: under load a scan takes seconds; a scan already running is let finish first, so the count
# compared is the one before this scan)
scan_now() {
    wait_for 60 d_idle
    d_scan_now 60
}
# Prometheus' range for increase()/rate() over what it scraped here (panels: $__rate_interval): 1m, stretched with
# the time scale (tests/lib/wait.sh), since under valgrind the scans that move the counters take that much longer
RANGE=$(pa_scaled 1)m

d_start "$CONF" && ok "daemon serves /healthz" || not_ok "daemon did not start"
wait_for 20 d_metric_is '^pii_audit_last_scan_success_timestamp_seconds [1-9]' \
    && ok "first scan at launch succeeded" || not_ok "first scan did not succeed"

# Prometheus scraping every second and evaluating the alert rules (ALERTS for the alerts panel)
d_prom_start "$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml"
wait_for 30 d_prom_has "pii_audit_findings{table=\"$TABLE\",column=\"payload\",category=\"email\"} > 0" \
    && ok "Prometheus has the findings of $TABLE" || not_ok "findings never reached Prometheus"

# Give every panel something to show:
# - a scan failure (reason missing): the table is renamed away for one scan
t_psql -c "ALTER TABLE dash_events RENAME TO dash_events_away"
scan_now && ok "scan with the table missing finished" || not_ok "scan with the table missing did not finish"
t_psql -c "ALTER TABLE dash_events_away RENAME TO dash_events"
d_metric_is '^pii_audit_scan_failures_total\{reason="[a-z_]+"\} [1-9]' \
    && ok "a scan failure is counted" || not_ok "no scan failure counted"
# - a resolved finding and a new one: delete one planted record, plant another, force a full scan (no cursor)
t_psql -c "DELETE FROM dash_events WHERE id = 202;
  INSERT INTO dash_events VALUES (203, '{\"note\": \"mail third.person@example.com\"}'); -- a value: passes the guardrail
  DELETE FROM pii_audit.scan_cursors;"
scan_now && ok "full scan finished" || not_ok "full scan did not finish"
d_metric_is '^pii_audit_findings_resolved_total\{table="public.dash_events",column="payload",category="email"\} [1-9]' \
    && ok "a finding was resolved" || not_ok "no finding resolved"
# - more guardrail rejects, read by the daemon after the next scan (increase() > 0 for the guardrail panel)
reject 901 && reject 902 || not_ok "later guardrail rejects"
# - a few more scans for rate() over the histogram, then let Prometheus scrape them
scan_now; scan_now
wait_for 15 d_prom_has "increase(pii_audit_guardrail_rejects_total{table=\"public.dash_events\"}[$RANGE]) > 0" \
    && ok "Prometheus sees guardrail rejects increase" || not_ok "guardrail rejects never increased in Prometheus"
wait_for 15 d_prom_has "increase(pii_audit_findings_resolved_total[$RANGE])" \
    && ok "Prometheus has two samples of the resolved counter" || not_ok "resolved counter never reached Prometheus"
sleep 2
wait_for 30 d_prom_has 'ALERTS{alertname="PIIAuditContaminationDetected", alertstate="pending"}' \
    && ok "PIIAuditContaminationDetected is pending in Prometheus" || not_ok "no pending PIIAuditContaminationDetected"

# Every panel target through Prometheus' query API, with the dashboard's variables substituted
INSTANCE=127.0.0.1:$PORT
n=0
while IFS=$'\t' read -r title expr; do
    n=$((n + 1))
    q=$expr
    q=${q//'${instance}'/$INSTANCE}; q=${q//'$instance'/$INSTANCE}
    q=${q//'${table}'/$TABLE};       q=${q//'$table'/$TABLE}
    q=${q//'$__rate_interval'/$RANGE};   q=${q//'$__interval'/15s};  q=${q//'$__range'/5m}
    if [[ $q == *'$'* ]]; then not_ok "[$title] unsubstituted variable in: $q"; continue; fi
    d_prom_q "$q" >"$T_DIR/q.json"
    status=$(jq -r '.status // "none"' "$T_DIR/q.json" 2>/dev/null)
    count=$(jq -r '.data.result | length' "$T_DIR/q.json" 2>/dev/null)
    if [ "$status" != "success" ]; then
        not_ok "[$title] query fails: $q: $(jq -r '.error // empty' "$T_DIR/q.json" 2>/dev/null)"
    elif [ "${count:-0}" -gt 0 ]; then
        ok "[$title] returns data ($count series): $q"
    else
        not_ok "[$title] returns no data: $q"
    fi
done < <(jq -r '[.panels[], (.panels[] | .panels[]?)] | map(select(.type != "row")) | .[] | .title as $t
                | .targets[] | [$t, (.expr | gsub("\\s+"; " "))] | @tsv' "$DASH")
[ "$n" -ge 20 ] && ok "$n panel queries checked" || not_ok "only $n panel queries found"

# (c) every metric an alert rule or a panel uses is exported by this daemon (histograms by their family name)
curl -sf "http://127.0.0.1:$PORT/metrics" >"$T_DIR/metrics.txt"
used=$( { grep -v '^ *#' "$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml"; jq -r '.. | .expr? // empty' "$DASH"; } \
    | grep -oE '\b(pii_audit|process)_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | LC_ALL=C sort -u)
n=0
for m in $used; do
    n=$((n + 1))
    grep -q "^# TYPE $m " "$T_DIR/metrics.txt" || not_ok "metric $m is used by an alert or a panel but not exported"
done
[ "$n" -ge 10 ] && ok "all $n metrics used by the alert rules and the dashboard are exported" \
    || not_ok "only $n metric names found in the rules and the dashboard"

# the variables' own queries
t_eq "$(d_prom_q 'group by (instance) (pii_audit_build_info)' | jq -r '.data.result[].metric.instance')" "$INSTANCE" \
    "\$instance query finds $INSTANCE"
t_eq "$(d_prom_q "group by (table) (pii_audit_findings{instance=~\"$INSTANCE\"})" | jq -r '.data.result[].metric.table')" \
    "$TABLE" "\$table query finds $TABLE"
t_nogrep "someone@example.com|other.person|third.person" "$T_DIR/daemon.err" "planted values never logged"
t_done
