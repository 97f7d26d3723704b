#!/usr/bin/env bash
# The Grafana dashboard (etc/grafana/pii-auditd.json) against the real thing.
# (a) jq lint: id null, fixed uid, a `datasource` variable and no ${DS_...} import placeholders, every panel and
#     target on ${datasource}, every target has an expr, unique panel ids, schemaVersion; multi-select job and
#     instance, the table variable drawn from a surface metric, a fleet row; made for an hourly cadence: no
#     $__rate_interval, every per-interval panel has a minimum interval of 1h, every stat/table/bar gauge says 0 (or
#     what no data means) instead of "No data".
# (b) end to end: the daemon scans a table with planted PII, a real Prometheus scrapes it every second and evaluates
#     alerts/pii-auditd.rules.yml; every panel query, with the dashboard variables substituted, goes through
#     Prometheus' /api/v1/query and must parse and return data (the guardrail panel too: the write-time guardrail
#     is installed on the table and rejects writes).
# (c) no dangling names: every pii_audit_* metric referenced by an alert rule (alerts/pii-auditd.rules.yml) or a
#     panel is exported (# TYPE) by the running daemon.
# (d) an hourly cadence: the /metrics page the real daemon served after each of its scans (SIGUSR1, seconds apart,
#     scan.interval 1h) is replayed as scrapes every 60 s with the scans an hour apart (time compressed: the values
#     are the daemon's own, the gaps between scans stretched to 1h and every *_timestamp_seconds value moved with
#     its scan), loaded into a second real Prometheus with `promtool tsdb create-blocks-from openmetrics`; that
#     Prometheus evaluates the alert rules on it. Every panel target is then run as Grafana runs it over the 6 hours
#     (range queries with the panel's step, at least its minimum interval; instant queries at the end with
#     $__range = the 6 hours) and must return data; the first findings of a series, 36 findings planted in one hour,
#     the coverage and the scan duration quantiles show in their bars; the rules' windows hold on hourly data.
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
t_eq "$(jl '[.templating.list[] | select(.name == "job" and .multi == true and .includeAll == true and (.query.query // .query) == "label_values(pii_audit_build_info, job)")] | length')" \
    "1" "job variable: multi-select, from pii_audit_build_info"
t_eq "$(jl '[.templating.list[] | select(.name == "instance" and .multi == true and .includeAll == true and (.query.query // .query) == "label_values(pii_audit_build_info{job=~\"$job\"}, instance)")] | length')" \
    "1" "instance variable: multi-select, by job"
t_eq "$(jl '[.templating.list[] | select(.name == "table" and .multi == true and .includeAll == true and ((.query.query // .query) | test("^label_values\\(pii_audit_surface_")))] | length')" \
    "1" "table variable: multi + include all, drawn from a surface metric (every scanned surface, not only those with findings)"
t_eq "$(jl '[.panels[] | select(.type == "row" and .title == "Fleet")] | length')" "1" "a Fleet row"
t_eq "$(jl '[.panels[] | select(.type == "table") | select([.targets[].expr] | all(test("by \\(job, instance")))] | length > 0')" \
    "true" "a fleet table: one row per job and instance"
t_eq "$(jl "$PANELS | map(select(any(.targets[]; .expr | test(\"__rate_interval\")))) | map(.title) | join(\", \")")" "" \
    "no \$__rate_interval (empty at an hourly cadence)"
t_eq "$(jq -r "$PANELS"' | map(select(any(.targets[]; .expr | contains("[$__interval]")) and (.interval // "") != "1h")) | map(.title) | join(", ")' "$DASH")" "" \
    "every panel with per-interval windows has a minimum interval of 1h"
t_eq "$(jl "$PANELS | map(select((.type == \"stat\" or .type == \"table\" or .type == \"bargauge\") and (.fieldConfig.defaults.noValue // \"\") == \"\")) | map(.title) | join(\", \")")" "" \
    "every stat, table and bar gauge says what no data means (noValue)"
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
  initial_delay: 1h" t_config 'surfaces:
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

# the /metrics page after each scan, with the time it was read, for the hourly replay (d)
NSNAP=0
snap() { d_metrics >"$T_DIR/snap.$NSNAP" && date +%s.%N >"$T_DIR/snap.$NSNAP.t"; NSNAP=$((NSNAP + 1)); }

d_start "$CONF" && ok "daemon serves /healthz" || not_ok "daemon did not start"
snap # idle, before any scan
scan_now && wait_for 20 d_metric_is '^pii_audit_last_scan_success_timestamp_seconds [1-9]' \
    && ok "first scan succeeded" || not_ok "first scan did not succeed"
snap

# Prometheus scraping every second and evaluating the alert rules (ALERTS for the alerts panel)
d_prom_start "$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml"
wait_for 30 d_prom_has "pii_audit_findings{table=\"$TABLE\",column=\"payload\",category=\"email\"} > 0" \
    && ok "Prometheus has the findings of $TABLE" || not_ok "findings never reached Prometheus"

# Give every panel something to show:
# - 36 findings planted at once (values: they pass the guardrail), found by the next (incremental) scan
t_psql -c "INSERT INTO dash_events SELECT g, jsonb_build_object('note', 'write to person' || g || '@example.com')
  FROM generate_series(300, 335) g;"
scan_now && ok "scan after 36 findings were planted" || not_ok "scan after planting did not finish"
snap
# - a scan failure (reason missing): the table is renamed away for one scan
t_psql -c "ALTER TABLE dash_events RENAME TO dash_events_away"
scan_now && ok "scan with the table missing finished" || not_ok "scan with the table missing did not finish"
snap
t_psql -c "ALTER TABLE dash_events_away RENAME TO dash_events"
d_metric_is '^pii_audit_scan_failures_total\{reason="[a-z_]+"\} [1-9]' \
    && ok "a scan failure is counted" || not_ok "no scan failure counted"
# - a resolved finding and a new one: delete one planted record, plant another, force a full scan (no cursor)
t_psql -c "DELETE FROM dash_events WHERE id = 202;
  INSERT INTO dash_events VALUES (203, '{\"note\": \"mail third.person@example.com\"}'); -- a value: passes the guardrail
  DELETE FROM pii_audit.scan_cursors;"
scan_now && ok "full scan finished" || not_ok "full scan did not finish"
snap
d_metric_is '^pii_audit_findings_resolved_total\{table="public.dash_events",column="payload",category="email"\} [1-9]' \
    && ok "a finding was resolved" || not_ok "no finding resolved"
# - more guardrail rejects, read by the daemon after the next scan (increase() > 0 for the guardrail panel)
reject 901 && reject 902 || not_ok "later guardrail rejects"
# - a few more scans for rate() over the histogram, then let Prometheus scrape them
scan_now; snap; scan_now; snap
wait_for 15 d_prom_has "increase(pii_audit_guardrail_rejects_total{table=\"public.dash_events\"}[$RANGE]) > 0" \
    && ok "Prometheus sees guardrail rejects increase" || not_ok "guardrail rejects never increased in Prometheus"
wait_for 15 d_prom_has "increase(pii_audit_findings_resolved_total[$RANGE])" \
    && ok "Prometheus has two samples of the resolved counter" || not_ok "resolved counter never reached Prometheus"
sleep 2
wait_for 30 d_prom_has 'ALERTS{alertname="PIIAuditContaminationDetected", alertstate="pending"}' \
    && ok "PIIAuditContaminationDetected is pending in Prometheus" || not_ok "no pending PIIAuditContaminationDetected"

# Every panel target through Prometheus' query API, with the dashboard's variables substituted as Grafana would for a
# 5-minute dashboard range: $__interval is the panel's minimum interval when it has one (1h), else 15s
INSTANCE=127.0.0.1:$PORT
subst() { # expr interval range -> the query, variables substituted
    local q=$1
    q=${q//'${job}'/pii-auditd};     q=${q//'$job'/pii-auditd}
    q=${q//'${instance}'/$INSTANCE}; q=${q//'$instance'/$INSTANCE}
    q=${q//'${table}'/$TABLE};       q=${q//'$table'/$TABLE}
    q=${q//'$__rate_interval'/$RANGE}; q=${q//'$__interval'/$2}; q=${q//'$__range'/$3}
    printf '%s' "$q"
}
# title, panel's minimum interval ("-": none; a tab-separated field must not be empty for `read`), instant?, expr
targets() {
    jq -r '[.panels[], (.panels[] | .panels[]?)] | map(select(.type != "row")) | .[] | .title as $t
           | (.interval // "-") as $i | .targets[] | [$t, $i, (if .instant then "instant" else "range" end),
             (.expr | gsub("\\s+"; " "))] | @tsv' "$DASH"
}
n=0
while IFS=$'\t' read -r title interval kind expr; do
    n=$((n + 1))
    [ "$interval" = - ] && interval=15s
    q=$(subst "$expr" "$interval" 5m)
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
done < <(targets)
[ "$n" -ge 30 ] && ok "$n panel queries checked" || not_ok "only $n panel queries found"

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
t_eq "$(d_prom_q 'group by (job) (pii_audit_build_info)' | jq -r '.data.result[].metric.job')" "pii-auditd" \
    "\$job query finds pii-auditd"
t_eq "$(d_prom_q 'group by (instance) (pii_audit_build_info{job=~"pii-auditd"})' | jq -r '.data.result[].metric.instance')" "$INSTANCE" \
    "\$instance query finds $INSTANCE"
t_eq "$(d_prom_q "group by (table) (pii_audit_surface_up{job=~\"pii-auditd\", instance=~\"$INSTANCE\"})" | jq -r '.data.result[].metric.table')" \
    "$TABLE" "\$table query finds $TABLE"
t_nogrep "someone@example.com|other.person|third.person|@example.com" "$T_DIR/daemon.err" "planted values never logged"

# ---- (d) an hourly cadence -----------------------------------------------------------------------------------------
# The snapshots: 0 idle, 1 first scan (2 findings: their counter series are born), 2 after 36 planted findings,
# 3 the table missing (failure), 4 the full scan that resolves, 5 and 6 quiet scans (guardrail rejects read).
t_eq "$NSNAP" "7" "7 snapshots of /metrics (idle + 6 scans)"
HOUR_END=$(date +%s)
python3 - "$T_DIR" "$NSNAP" "$HOUR_END" "$INSTANCE" >"$T_DIR/hourly.om" 2>"$T_DIR/hourly.err" <<'EOF'
# Replays the daemon's /metrics pages as hourly scans: snapshot k >= 1 (after scan k) is taken to have started at
# sim[k] = END - (6 - k) h - 10 min; real times map piecewise onto simulated ones (the gap between scans stretched to
# an hour, everything within a scan 1:1), also for the values that are times (*_timestamp_seconds,
# process_start_time_seconds). A scrape every 60 s sees the last page served before it; `up` is 1 at each.
import json, re, sys
tdir, n, end, instance = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
snaps, real_capture = [], []
for k in range(n):
    series = {}
    for line in open("%s/snap.%d" % (tdir, k)):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
        if not m:
            sys.exit("unparsable line in snapshot %d: %r" % (k, line))
        series[(m.group(1), m.group(2) or "")] = m.group(3)
    snaps.append(series)
    real_capture.append(float(open("%s/snap.%d.t" % (tdir, k)).read()))
start_real = [None] + [float(snaps[k][("pii_audit_scan_start_timestamp_seconds", "")]) for k in range(1, n)]
sim = [None] + [end - (n - 1 - k) * 3600 - 600 for k in range(1, n)]
def to_sim(t):
    j = 1
    for k in range(1, n):
        if start_real[k] <= t:
            j = k
    return sim[j] + (t - start_real[j])
is_time = lambda name: name.endswith("_timestamp_seconds") or name == "process_start_time_seconds"
placed = [to_sim(t) for t in real_capture]  # when each page is first seen
grid = sorted(set([placed[0] + 60 * i for i in range(int((end - placed[0]) // 60) + 1)] + placed))
grid = [t for t in grid if t <= end]
target = 'job="pii-auditd",instance="%s"' % instance
fams = {}
for t in grid:
    k = max(i for i in range(n) if placed[i] <= t)
    for (name, labels), v in snaps[k].items():
        if is_time(name) and float(v) > 0:
            v = "%.3f" % to_sim(float(v))
        lab = "{%s%s}" % (target, ("," + labels[1:-1]) if labels else "")
        fams.setdefault(name, {}).setdefault(lab, []).append((t, v))
    fams.setdefault("up", {}).setdefault("{%s}" % target, []).append((t, "1"))
for name in sorted(fams):
    print("# TYPE %s unknown" % name)
    for lab, samples in sorted(fams[name].items()):
        for t, v in samples:
            print("%s%s %s %.3f" % (name, lab, v, t))
print("# EOF")
json.dump({"sim": sim[1:], "start": placed[0], "end": end}, open("%s/hourly.json" % tdir, "w"))
EOF
[ -s "$T_DIR/hourly.om" ] && ok "hourly replay: $(grep -vc '^#' "$T_DIR/hourly.om") samples" \
    || { not_ok "hourly replay failed: $(cat "$T_DIR/hourly.err")"; t_done; }
H_START=$(jq -r '.start | floor' "$T_DIR/hourly.json")
SPAN=$((HOUR_END - H_START))
simt() { jq -r ".sim[$1] | floor" "$T_DIR/hourly.json"; } # start of scan k+1 (0-based)
promtool tsdb create-blocks-from openmetrics "$T_DIR/hourly.om" "$T_DIR/prom-hourly/data" >"$T_DIR/hourly-blocks.log" 2>&1 \
    && ok "promtool tsdb create-blocks-from openmetrics" || { not_ok "backfill: $(tail -3 "$T_DIR/hourly-blocks.log")"; t_done; }
H_PORT=$(pa_free_port $((D_PROM_PORT + 1)))
printf 'global: {evaluation_interval: 1s}\nrule_files: ["%s"]\n' "$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml" \
    >"$T_DIR/prom-hourly/prometheus.yml"
prometheus --config.file="$T_DIR/prom-hourly/prometheus.yml" --storage.tsdb.path="$T_DIR/prom-hourly/data" \
    --web.listen-address="127.0.0.1:$H_PORT" >"$T_DIR/prom-hourly/log" 2>&1 &
D_PIDS+=($!)
hq() { curl -s -G "http://127.0.0.1:$H_PORT/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"}; }
hq_range() { # query step
    curl -s -G "http://127.0.0.1:$H_PORT/api/v1/query_range" --data-urlencode "query=$1" \
        --data-urlencode "start=$H_START" --data-urlencode "end=$HOUR_END" --data-urlencode "step=$2"
}
h_has() { hq "$1" | jq -e '.status == "success" and (.data.result | length > 0)' >/dev/null 2>&1; }
wait_for 30 h_has 'pii_audit_build_info' && ok "the second Prometheus serves the 6 hours" \
    || { not_ok "the backfilled Prometheus never answered: $(tail -3 "$T_DIR/prom-hourly/log")"; t_done; }

wait_for 20 h_has 'ALERTS{alertname="PIIAuditContaminationDetected", job="pii-auditd"}' \
    && ok "hourly: PIIAuditContaminationDetected evaluated on the replay (the alerts panel), with its job label" \
    || not_ok "hourly: no PIIAuditContaminationDetected on the replay"

# every target as Grafana runs it over the whole span: range targets with the panel's step (its minimum interval,
# else 60 s: the replay's scrape interval), instant targets at the end with $__range = the span
n=0
while IFS=$'\t' read -r title interval kind expr; do
    n=$((n + 1))
    step=$interval; [ "$step" = - ] && step=60s
    q=$(subst "$expr" "$step" "${SPAN}s")
    if [ "$kind" = instant ]; then hq "$q" >"$T_DIR/hq.json"; else hq_range "$q" "$step" >"$T_DIR/hq.json"; fi
    status=$(jq -r '.status // "none"' "$T_DIR/hq.json" 2>/dev/null)
    points=$(jq -r '[.data.result[] | (.values // [.value]) | .[] | select(.[1] != "NaN")] | length' "$T_DIR/hq.json" 2>/dev/null)
    if [ "$status" != "success" ]; then
        not_ok "hourly [$title] query fails: $q: $(jq -r '.error // empty' "$T_DIR/hq.json" 2>/dev/null)"
    elif [ "${points:-0}" -gt 0 ]; then
        ok "hourly [$title] shows data ($points points, step $step)"
    else
        not_ok "hourly [$title] shows no data over 6h: $q"
    fi
done < <(targets)

# what the bars show: the expression of a panel's target, by title and refId, over the span with a 1h step
panel_expr() { jq -r --arg t "$1" --arg r "$2" '[.panels[], (.panels[] | .panels[]?)] | map(select(.title == $t)) | .[0]
                                              | .targets[] | select(.refId == $r) | .expr' "$DASH"; }
bar_max_near() { # title refId sim-time: the largest value of a bar ending within 1h after that time
    hq_range "$(subst "$(panel_expr "$1" "$2")" 1h "${SPAN}s")" 1h |
        jq -r --argjson t "$3" '[.data.result[].values[] | select(.[0] > $t and .[0] <= $t + 3600) | .[1] | tonumber] | max // 0'
}
s1=$(simt 0) s2=$(simt 1) s3=$(simt 2)
v=$(bar_max_near "New vs resolved findings" A "$s1")
awk "BEGIN{exit !($v >= 2)}" && ok "hourly: the first scan's findings show in its bar ($v; their counter series were born there)" \
    || not_ok "hourly: the first scan's findings are not in its bar ($v)"
v=$(bar_max_near "New vs resolved findings" A "$s2")
awk "BEGIN{exit !($v >= 36)}" && ok "hourly: the 36 planted findings show in the next hour's bar ($v)" \
    || not_ok "hourly: the 36 planted findings are not in their bar ($v)"
v=$(bar_max_near "Rows scanned" A "$s1")
awk "BEGIN{exit !($v >= 200)}" && ok "hourly: the first scan's rows show in its bar ($v)" || not_ok "hourly: rows of the first scan ($v)"
v=$(hq "$(subst "$(panel_expr "Coverage: rows scanned vs estimated rows" C)" 1h "${SPAN}s")" | jq -r '[.data.result[].value[1] | tonumber] | max // 0')
awk "BEGIN{exit !($v > 0)}" && ok "hourly: coverage of $TABLE over 6h is $v" || not_ok "hourly: coverage is $v"
v=$(hq_range "$(subst "$(panel_expr "Scan duration p50 / p95 / mean" B)" 1h "${SPAN}s")" 1h | jq -r '[.data.result[].values[] | select(.[1] != "NaN")] | length')
[ "${v:-0}" -ge 4 ] && ok "hourly: scan duration p95 has a point for $v of the hours" || not_ok "hourly: p95 has $v points"

# the rules' windows on hourly data (the real rule expressions, at chosen times)
rule_expr() { python3 -c 'import sys, yaml; print([r["expr"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if r.get("alert") == sys.argv[2]][0])' \
    "$PA_SOURCE_ROOT/alerts/pii-auditd.rules.yml" "$1"; }
t_eq "$(hq "$(rule_expr PIIAuditScanFailed)" $((s3 + 1800)) | jq -r '[.data.result[].metric.reason] | join(",")')" "missing" \
    "hourly: PIIAuditScanFailed holds the missing-table failure 30 min after it"
t_eq "$(hq "$(rule_expr PIIAuditScanFailed)" $((s3 + 5400)) | jq -r '.data.result | length')" "0" \
    "hourly: ... and lets it go 90 min after (its 1h window)"
t_eq "$(hq "$(rule_expr PIIAuditScanOverdue)" "$HOUR_END" | jq -r '.data.result | length')" "0" \
    "hourly: PIIAuditScanOverdue quiet (last full scan 10 min ago, threshold 2 x 1h)"
t_eq "$(hq "$(rule_expr PIIAuditScanOverdue)" $((s3 + 1800)) | jq -r '.data.result | length')" "0" \
    "hourly: PIIAuditScanOverdue quiet 1h30m after the last success (one partial scan in between)"
t_done
