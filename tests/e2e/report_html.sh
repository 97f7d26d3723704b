#!/usr/bin/env bash
# The compliance report in a real browser (issue 15, Must show 4): a real scan's store (the canary set of
# tests/lib/canaries.sh, with a month of history made by moving first-seen and resolution times back), then
# `report --html` rendered by Debian's chromium, headless. Fails on: any console message (a script error, a CSP
# violation: the page logs nothing of its own), the script not having run (data-script-ok), a chart without points or
# with nothing drawn (data-points, data-nonzero), a blank screenshot, a reference to anything outside the page, or a
# canary value anywhere in the page. PA_UPDATE_SCREENSHOT=1 copies the screenshot to docs/report-screenshot.png.
source "$(dirname "$0")/../lib/itest.sh"
CHROMIUM=${PA_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    not_ok "no $CHROMIUM (Debian's chromium: tests/lib/deps.sh installs it)"
    t_done
fi
t_db
t_init_schema
source "$PA_SOURCE_ROOT/tests/lib/canaries.sh"
canary_load
CONF=$(t_config 'surfaces:
  - {table: hooks, column: payload}
  - {table: notes, column: body}
  - {table: missing_table, column: payload}' "$CANARY_DETECTORS")
t_run --config "$CONF" --scan-once --full
t_rc 3 "the scan finds the canaries (and the missing table fails alone)"
# a month of history: findings first seen over the last four weeks, some resolved since, a few acknowledged
t_psql >/dev/null <<'SQL'
UPDATE pii_audit.findings SET first_seen_at = now() - (id * 26 % 29) * interval '1 day';
UPDATE pii_audit.findings SET resolved_at = first_seen_at + interval '3 days', resolved_reason = 'manual',
       resolved_by = 'dpo', resolved_note = 'record erased on request'
 WHERE id % 4 = 0 AND first_seen_at < now() - interval '4 days';
SQL
t_run --config "$CONF" findings ack $(t_val "SELECT string_agg(id::text, ' ') FROM pii_audit.findings WHERE category = 'credit_card' AND resolved_at IS NULL") \
    --reason "PCI scope, ticket SEC-42" --by "Dana <dpo@example.org>"
t_rc 0 "some findings acknowledged"
t_run --config "$CONF" allow add --surface hooks.payload --path '$.net.client_ip' --category ip_address \
    --reason "load balancer addresses, not people" --by "ops <script>alert(1)</script>"
t_rc 0 "an allowlist entry (its author's name is hostile HTML)"

PAGE=$T_DIR/report.html
t_run --config "$CONF" report --html "$PAGE" --since 30d
t_rc 0 "report --html"
check_clean "the report" "$PAGE"
t_nogrep '(src|href)=|url\(|@import|https?:' "$PAGE" "the page refers to nothing outside itself"
t_eq "$(grep -c '<script' "$PAGE")" "1" "one script element, the page's own"
t_grep 'ops &lt;script&gt;alert\(1\)&lt;/script&gt;' "$PAGE" "the hostile name is shown as text"

browser() { # output-flag... : run headless chromium on the page with a new empty profile; stderr to $T_DIR/chromium.log
    local profile
    profile=$(mktemp -d "$T_DIR/profile.XXXXXX")
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
        --enable-logging=stderr --v=0 --hide-scrollbars --window-size=1280,3300 "$@" "file://$PAGE" \
        2>>"$T_DIR/chromium.log"
}
: >"$T_DIR/chromium.log"
t0=$(date +%s)
browser --dump-dom >"$T_DIR/dom.html"
t_grep 'data-script-ok="1"' "$T_DIR/dom.html" "the page's script ran to its end (data-script-ok)"
for chart in chart-open chart-flow; do
    points=$(grep -oE "id=\"$chart\"[^>]*data-points=\"[0-9]+\"" "$T_DIR/dom.html" | grep -oE '[0-9]+"$' | tr -d '"')
    nonzero=$(grep -oE "id=\"$chart\"[^>]*data-nonzero=\"[0-9]+\"" "$T_DIR/dom.html" | grep -oE '[0-9]+"$' | tr -d '"')
    t_eq "${points:-0}" "31" "$chart: a point for each of the 31 days"
    [ "${nonzero:-0}" -ge 5 ] && ok "$chart: $nonzero days with something drawn" || not_ok "$chart: empty (${nonzero:-0} days)"
done
[ "$(grep -o '<rect class="opened"' "$T_DIR/dom.html" | wc -l)" -ge 5 ] && ok "bars drawn in the rendered DOM" || not_ok "no bars"
browser --screenshot="$T_DIR/report.png" >/dev/null
[ -s "$T_DIR/report.png" ] && ok "a screenshot was taken" || not_ok "no screenshot"
echo "# chromium: two runs in $(($(date +%s) - t0)) s"
if grep -E ':CONSOLE' "$T_DIR/chromium.log" >"$T_DIR/console.txt"; then
    not_ok "the browser console has messages (a script error or a CSP violation): $(head -3 "$T_DIR/console.txt")"
else
    ok "no console message (no script error, no CSP violation)"
fi
t_grep 'INFO:CONSOLE|WARNING|ERROR' "$T_DIR/chromium.log" "chromium's log was captured (the console check could see)"
# not blank: decode the PNG (stdlib only) and look at its colours
python3 - "$T_DIR/report.png" <<'PY' && ok "the screenshot is not blank" || not_ok "the screenshot is blank or unreadable"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, busy, total = set(), 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            total += 1
            busy += px != b"\xf4\xf6\xf9" and px != b"\xff\xff\xff"
print(f"# screenshot {w}x{h}: {len(colours)} colours sampled, {100.0 * busy / total:.1f}% of the samples not background")
assert len(colours) >= 20 and busy / total >= 0.03
PY
if [ -n "${PA_UPDATE_SCREENSHOT:-}" ]; then
    cp "$T_DIR/report.png" "$PA_SOURCE_ROOT/docs/report-screenshot.png" && ok "docs/report-screenshot.png updated"
fi
t_done
