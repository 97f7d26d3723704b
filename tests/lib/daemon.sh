#!/usr/bin/env bash
# The running daemon and the real Prometheus that scrapes it, for the tests that start pii-auditd as a daemon
# (source after tests/lib/itest.sh). Sourcing it picks two free ports: D_PORT for the daemon's /metrics and
# D_PROM_PORT for Prometheus; every process started here (and any the test adds to D_PIDS) is killed at exit.
#   d_start CONFIG [LOG_LEVEL]   start the daemon (stdout/stderr appended to $T_DIR/daemon.out/.err), DPID = its
#                                PID; fails unless it serves /healthz within 10 s (scaled, tests/lib/wait.sh)
#   d_wait_up [SECONDS]          wait for /healthz only (for a daemon the test started itself, DPID set), default
#                                10 s (scaled); fails at once, with the end of daemon.err, if the daemon exits
#   d_dead                       the daemon DPID names is no longer running
#   d_metrics                    the /metrics page
#   d_metric_is REGEX            a line of the page matches (the page is fetched whole first: `curl | grep -q`
#                                under pipefail fails when grep exits before curl's last write)
#   d_metric_val NAME            the value of the series named exactly NAME (labels included), empty if absent
#   d_scans / d_idle / d_scan_now [SECONDS]   scans_total; no scan in progress; SIGUSR1 and wait until that scan
#                                has finished (default 30 s, scaled; fails at once if the daemon exits)
#   d_prom_start [RULES_FILE]    a real Prometheus scraping the daemon every second (evaluating RULES_FILE)
#   d_prom_q EXPR / d_prom_has EXPR   Prometheus' /api/v1/query; the query succeeds and returns a series

D_PORT=$(pa_free_port)
D_PROM_PORT=$(pa_free_port $((D_PORT + 1)))
D_URL=http://127.0.0.1:$D_PORT
D_PIDS=()

d_cleanup() {
    local p
    for p in "${D_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    t_cleanup
}
trap d_cleanup EXIT

# The daemon DPID names has exited (waits below stop at once then, instead of waiting out their bound).
d_dead() { [ -n "${DPID:-}" ] && ! kill -0 "$DPID" 2>/dev/null; }
d_died() {
    d_dead || return 1
    echo "the daemon (pid $DPID) has exited; the end of its stderr:" >&2
    tail -n 5 "$T_DIR/daemon.err" >&2 2>/dev/null
    return 0
}
d_up_or_dead() { d_dead || curl -sf -o /dev/null "$D_URL/healthz"; }
d_wait_up() { wait_for "${1:-10}" d_up_or_dead && ! d_died; } # [seconds]
d_start() { # config [log level]
    "$PA_BIN" --config "$1" --log-level "${2:-info}" >>"$T_DIR/daemon.out" 2>>"$T_DIR/daemon.err" &
    DPID=$!
    D_PIDS+=("$DPID")
    d_wait_up
}

d_metrics() { curl -sf -m 5 "$D_URL/metrics"; }
d_metric_is() { local m; m=$(d_metrics) && grep -qE -- "$1" <<<"$m"; }
d_metric_val() { d_metrics | awk -v m="$1" '$1 == m {print $2}'; }
d_scans() { d_metric_val pii_audit_scans_total; }
d_idle() { d_metric_is '^pii_audit_scan_in_progress 0'; }
d_scan_done() { [ "$(d_scans)" -gt "$1" ] && d_idle; }
d_scan_done_or_dead() { d_dead || d_scan_done "$1"; }
d_scan_now() { # [seconds]
    local before
    before=$(d_scans)
    kill -USR1 "$DPID"
    wait_for "${1:-30}" d_scan_done_or_dead "$before" && ! d_died
}

d_prom_start() { # [rules file]
    mkdir -p "$T_DIR/prom"
    {
        echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
        [ -z "${1:-}" ] || echo "rule_files: [\"$1\"]"
        echo "scrape_configs:"
        echo "  - job_name: pii-auditd"
        echo "    static_configs: [{targets: [\"127.0.0.1:$D_PORT\"]}]"
    } >"$T_DIR/prom/prometheus.yml"
    prometheus --config.file="$T_DIR/prom/prometheus.yml" --storage.tsdb.path="$T_DIR/prom/data" \
        --web.listen-address="127.0.0.1:$D_PROM_PORT" >"$T_DIR/prom/log" 2>&1 &
    D_PIDS+=($!)
}
d_prom_q() { curl -s -G "http://127.0.0.1:$D_PROM_PORT/api/v1/query" --data-urlencode "query=$1"; }
d_prom_has() { d_prom_q "$1" | jq -e '.status == "success" and (.data.result | length > 0)' >/dev/null 2>&1; }
