#!/usr/bin/env bash
# The shipped Prometheus alerting rules: `promtool check rules` is clean, `promtool test rules` passes, every alert
# has the routing labels and annotations the runbooks rely on, every runbook_url anchor is a heading in
# docs/runbooks.md, every pii_audit_* metric the rules use is documented in docs/metrics.md, no rule aggregates
# `by (...)` (target labels such as env must reach the alerts), and the rule tests expect env on every alert.
# Needs promtool (Debian package `prometheus`) and python3 with PyYAML (`python3-yaml`); no database.
set -uo pipefail
ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
RULES=$ROOT/alerts/pii-auditd.rules.yml
TESTS=$ROOT/alerts/tests/pii-auditd.rules.test.yml
RUNBOOKS=$ROOT/docs/runbooks.md
METRICS=$ROOT/docs/metrics.md
source "$ROOT/tests/lib/tap.sh"

PROMTOOL=${PROMTOOL:-$(command -v promtool)}
if [ -z "$PROMTOOL" ]; then
    echo "# skip: promtool not found (apt-get install prometheus)"
    exit 77
fi
if ! python3 -c 'import yaml' 2>/dev/null; then
    echo "# skip: python3 with PyYAML not found (apt-get install python3-yaml)"
    exit 77
fi

# promtool check rules: exit 0 and no lint findings (duplicates are reported with exit 0 and "FAILED").
out=$("$PROMTOOL" check rules "$RULES" 2>&1)
rc=$?
if [ "$rc" = 0 ] && ! grep -q 'FAILED' <<<"$out" && grep -q 'SUCCESS' <<<"$out"; then
    ok "promtool check rules: $(grep -o 'SUCCESS.*' <<<"$out" | head -1)"
else
    not_ok "promtool check rules (exit $rc): $out"
fi

out=$("$PROMTOOL" test rules "$TESTS" 2>&1)
rc=$?
if [ "$rc" = 0 ] && grep -q 'SUCCESS' <<<"$out"; then
    ok "promtool test rules"
else
    not_ok "promtool test rules (exit $rc):"
    sed 's/^/#   /' <<<"$out"
fi

# Structure, labels, annotations, anchors, metric names. Prints ok/not ok lines itself.
while IFS= read -r line; do
    case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "$line" ;;
    esac
done < <(python3 - "$RULES" "$TESTS" "$RUNBOOKS" "$METRICS" <<'EOF' 2>&1 || echo "not ok - rule checker crashed"
import re, sys, yaml

rules_path, tests_path, runbooks_path, metrics_path = sys.argv[1:5]
PREFIX = "https://github.com/pii-auditd/pii-auditd/blob/main/docs/runbooks.md#"
EXPECTED = ["PIIAuditContaminationDetected", "PIIAuditMassContamination", "PIIAuditGuardrailHighRejectRate",
            "PIIAuditScanFailed", "PIIAuditScanOverdue", "PIIAuditDown", "PIIAuditSurfaceUnreadable",
            "PIIAuditSurfaceNotCovered", "PIIAuditConfigReloadFailed"]
SEVERITIES = {"critical", "warning", "info"}
PRIORITIES = {"critical", "high", "medium", "low"}

def say(good, msg):
    print(("ok - " if good else "not ok - ") + msg)

def github_anchors(text):
    """Anchors GitHub generates for the headings of a Markdown file (fenced code is not a heading)."""
    anchors, seen, fence = set(), {}, None
    for line in text.splitlines():
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif m.group(1)[0] == fence:
                fence = None
            continue
        if fence is not None:
            continue
        m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        a = m.group(1).strip().lower()
        a = re.sub(r"[^\w\- ]", "", a)     # punctuation dropped; letters, digits, _, - and spaces kept
        a = a.replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        anchors.add(a if n == 0 else "%s-%d" % (a, n))
    return anchors

with open(rules_path) as f:
    doc = yaml.safe_load(f)
groups = doc.get("groups") or []
say(len(groups) == 1 and groups[0].get("name") == "pii-auditd",
    "one rule group named pii-auditd (found %s)" % [g.get("name") for g in groups])
alerts = [r for g in groups for r in g.get("rules", []) if "alert" in r]
names = [r["alert"] for r in alerts]
say(sorted(names) == sorted(EXPECTED), "the alerts are exactly %s (found %s)" % (", ".join(EXPECTED), names))
say(len(set(names)) == len(names), "each alert is defined once")

with open(runbooks_path) as f:
    anchors = github_anchors(f.read())
with open(metrics_path) as f:
    metrics_doc = f.read()

for r in alerts:
    name = r["alert"]
    labels = r.get("labels") or {}
    ann = r.get("annotations") or {}
    say(re.fullmatch(r"PIIAudit(?:[A-Z][a-z0-9]*)+", name) is not None, "%s: CamelCase with the PIIAudit prefix" % name)
    say(labels.get("severity") in SEVERITIES, "%s: severity %r in %s" % (name, labels.get("severity"), sorted(SEVERITIES)))
    say(labels.get("priority") in PRIORITIES, "%s: priority %r in %s" % (name, labels.get("priority"), sorted(PRIORITIES)))
    s = ann.get("summary") or ""
    say(s.endswith(".") and "{{" not in s, "%s: summary is static and ends with a period" % name)
    d = ann.get("description") or ""
    say("{{" in d and "$" in d, "%s: description is templated" % name)
    url = ann.get("runbook_url") or ""
    anchor = url[len(PREFIX):] if url.startswith(PREFIX) else None
    say(anchor is not None, "%s: runbook_url points into docs/runbooks.md (%s)" % (name, url))
    say(anchor is not None and anchor in anchors, "%s: runbook anchor #%s is a heading in docs/runbooks.md" % (name, anchor))
    say(anchor == name.lower(), "%s: runbook anchor is the alert name" % name)

# Target labels (env, cluster, ...) must reach every alert: no aggregation names the labels it keeps (`by (...)`,
# which drops every label not listed); they name what they drop (`without (...)`). The rule tests check the result.
for r in alerts:
    expr = re.sub(r"#.*", "", str(r.get("expr", "")))
    say(re.search(r"\bby\s*\(", expr) is None,
        "%s: no aggregation by (...) that would drop target labels" % r["alert"])

# Metric names used by the rules (expressions, labels, annotations) must be documented.
used = set()
for r in alerts:
    text = " ".join([str(r.get("expr", ""))] + [str(v) for v in (r.get("labels") or {}).values()]
                    + [str(v) for v in (r.get("annotations") or {}).values()])
    for m in re.findall(r"pii_audit_[a-z_]+", text):
        used.add(re.sub(r"_(bucket|sum|count)$", "", m))
for m in sorted(used):
    documented = re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(m), metrics_doc) is not None
    say(documented, "metric %s is documented in docs/metrics.md" % m)

# Every alert has a firing case and a quiet case in the rule tests.
with open(tests_path) as f:
    tdoc = yaml.safe_load(f)
fires, quiet = set(), set()
for t in tdoc.get("tests") or []:
    for a in t.get("alert_rule_test") or []:
        (fires if a.get("exp_alerts") else quiet).add(a.get("alertname"))
# ... and the tests show it: every alert expected to fire with an instance also carries the env target label
for t in tdoc.get("tests") or []:
    for a in t.get("alert_rule_test") or []:
        for e in a.get("exp_alerts") or []:
            l = e.get("exp_labels") or {}
            if "instance" in l and "env" not in l:
                say(False, "%s at %s (%s): an expected alert without the env target label" % (a.get("alertname"), a.get("eval_time"), t.get("name")))
for name in names:
    say(name in fires, "%s: a test case where it fires" % name)
    say(name in quiet, "%s: a test case where it stays quiet" % name)
EOF
)

t_done
