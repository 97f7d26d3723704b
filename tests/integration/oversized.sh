#!/usr/bin/env bash
# Big rows and coverage (issue 14 §4, §5): scan.max_document_bytes keeps documents stored above it from being fetched
# at all, and counts them as oversized, never silently: a warning per record (its id and stored size), the JSON and
# text summaries (never "clean"), scan_run_surfaces / scan_runs, the cursor's count since the last full scan, the
# counter pii_audit_documents_oversized_total and the coverage gauge pii_audit_surface_rows_unread{reason}. The
# oversized documents hold a planted value: it is in no output, and only a scan without the bound finds it.
source "$(dirname "$0")/../lib/itest.sh"
source "$PA_SOURCE_ROOT/tests/lib/daemon.sh"
t_db
t_init_schema
CANARY=big.canary@example-canary.com
# 200 small rows (emails at 50 and 150) and three documents of ~2 MB of hex (stored nearly as large: pglz finds
# little to compress), each with the canary in it
big() { # id
    echo "INSERT INTO docs SELECT $1, jsonb_build_object('note', 'mail $CANARY',
            'pad', (SELECT string_agg(md5(x::text || '$1'), '') FROM generate_series(1, 65536) x));"
}
t_psql -c "CREATE TABLE docs (id bigint PRIMARY KEY, payload jsonb);
  INSERT INTO docs SELECT g, CASE WHEN g IN (50, 150) THEN jsonb_build_object('contact', 'small' || g || '@example.com')
                                  ELSE jsonb_build_object('n', g) END FROM generate_series(1, 200) g;
  $(big 1001) $(big 1002) $(big 1003)" >/dev/null
stored=$(t_val "SELECT min(pg_column_size(payload)) FROM docs WHERE id > 1000")
[ "$stored" -gt 1000000 ] && ok "the big documents are stored in more than 1 MB ($stored bytes)" \
    || not_ok "the big documents are stored in $stored bytes only"

CONF=$(T_SCAN_EXTRA="  max_document_bytes: 1000000
  interval: 1h
  initial_delay: 0s" t_config 'surfaces:
  - {table: docs, column: payload}' "metrics:
  listen: \"127.0.0.1:$D_PORT\"")
surface() { jq -r ".surfaces[0] | $1" "$T_DIR/out"; }
store() { t_val "$1"; }

t_run --config "$CONF" --scan-once --full --output json
t_rc 1 "a full scan with the bound: the small rows' findings"
t_eq "$(surface '"\(.rows) \(.oversized_documents) \(.unread.oversized) \(.open.email)"')" "200 3 3 2" \
    "200 rows read, 3 oversized (not in rows), 3 known unread, the small rows' 2 findings"
[ "$(surface .bytes)" -lt 100000 ] && ok "the big documents were not fetched ($(surface .bytes) bytes read)" \
    || not_ok "$(surface .bytes) bytes read: the big documents were fetched"
t_eq "$(jq -r '.totals.oversized_documents' "$T_DIR/out")" "3" "the totals count them"
t_eq "$(grep -cE "docs.payload: record 100[123]: the document is stored in [0-9]+ bytes, more than scan.max_document_bytes \(1000000\): not read, counted as oversized" "$T_DIR/err")" \
    "3" "a warning per oversized record, with its id and stored size"
t_eq "$(store "SELECT oversized_documents FROM pii_audit.scan_run_surfaces ORDER BY scan_id DESC LIMIT 1") $(store "SELECT oversized_documents FROM pii_audit.scan_runs ORDER BY id DESC LIMIT 1") $(store "SELECT oversized_rows FROM pii_audit.scan_cursors")" \
    "3 3 3" "recorded: scan_run_surfaces, scan_runs, the cursor's count since the full scan"

# the text summary never says clean with documents unread
t_psql -c "UPDATE docs SET payload = '{\"n\": 0}' WHERE id IN (50, 150)" >/dev/null
t_run --config "$CONF" --scan-once --full
t_rc 0 "no findings in what was read: exit 0 (the bound was the configuration's choice)"
t_grep "NOT READ: 3 documents stored in more than scan.max_document_bytes \(oversized\)" "$T_DIR/out" \
    "the text summary says what was not read"
t_grep "^RESULT: no open findings in what was read \(exit 0\); 3 oversized documents were not read" "$T_DIR/out" \
    "the result line says so"
t_nogrep "clean" "$T_DIR/out" "never 'clean'"

# incremental scans add to the count; a full scan counts again
t_psql -c "$(big 1004)" >/dev/null
t_run --config "$CONF" --scan-once --output json
t_eq "$(surface '"\(.mode) \(.rows) \(.oversized_documents) \(.unread.oversized)"')" "incremental 0 1 4" \
    "an incremental scan meets the new big row: 4 known unread"
t_run --config "$CONF" --scan-once --full --output json
t_eq "$(surface '"\(.oversized_documents) \(.unread.oversized)"')" "4 4" "a full scan counts them again: 4, not 8"
t_psql -c "UPDATE docs SET payload = '{\"n\": 1001}' WHERE id = 1001" >/dev/null
t_run --config "$CONF" --scan-once --full --output json
t_eq "$(surface '"\(.oversized_documents) \(.unread.oversized)"')" "3 3" "one shrunk: 3"

# without the bound the big documents are read: they did hold personal data
sed '/max_document_bytes/d' "$CONF" >"$T_DIR/unbounded.yaml"
t_run --config "$T_DIR/unbounded.yaml" --scan-once --full --dry-run --output json
t_eq "$(surface '"\(.oversized_documents) \(.open.email)"')" "0 3" "without the bound: read, 3 emails found in them"

# the daemon: the gauge from the store at its first (incremental) scan, the counter as big rows come
d_start "$CONF" || { not_ok "the daemon did not start"; t_done; }
scanned() { [ "$(d_scans)" -ge 1 ] && d_idle; }
wait_for 30 scanned || not_ok "the daemon's first scan did not end"
L='table="public.docs",column="payload"'
t_eq "$(d_metric_val "pii_audit_surface_rows_unread{$L,reason=\"oversized\"}") $(d_metric_val "pii_audit_surface_rows_unread{$L,reason=\"failed\"}")" \
    "3 0" "pii_audit_surface_rows_unread: 3 oversized (from the store), 0 failed"
t_eq "$(d_metric_val "pii_audit_documents_oversized_total{$L}")" "0" "the counter exists at 0 (nothing new met)"
t_psql -c "$(big 1005)" >/dev/null
d_scan_now || not_ok "the signalled scan did not end"
t_eq "$(d_metric_val "pii_audit_documents_oversized_total{$L}") $(d_metric_val "pii_audit_surface_rows_unread{$L,reason=\"oversized\"}")" \
    "1 4" "a new big row: counted (1) and known unread (4)"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null

for f in "$T_DIR/all-out" "$T_DIR/all-err" "$T_DIR/daemon.out" "$T_DIR/daemon.err"; do
    if grep -qF "$CANARY" "$f" 2>/dev/null; then not_ok "the planted value is in $(basename "$f")"; fi
done
ok "the planted value is in no output"
t_done
