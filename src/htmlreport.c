/* htmlreport: see htmlreport.h. The page, from data already gathered: pure (no libpq, no I/O). Every string that
 * reaches the page goes through pa_html_escape; numbers are printed in the C locale. Must never load anything from
 * outside the page. */
#include "htmlreport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pa_build.h"

const struct pa_tab_col pa_hr_by_surface_cols[5] = {
    {"surface", "Surface", PA_TAB_STRING},
    {"category", "Category", PA_TAB_STRING},
    {"open", "Open", PA_TAB_NUMBER},
    {"acknowledged", "Acknowledged", PA_TAB_NUMBER},
    {"oldest", "Oldest first seen", PA_TAB_STRING},
};
const struct pa_tab_col pa_hr_by_category_cols[2] = {
    {"category", "Category", PA_TAB_STRING},
    {"open", "Open", PA_TAB_NUMBER},
};
const struct pa_tab_col pa_hr_top_paths_cols[5] = {
    {"surface", "Surface", PA_TAB_STRING},   {"json_path", "JSON path", PA_TAB_STRING},
    {"category", "Category", PA_TAB_STRING}, {"findings", "Open findings", PA_TAB_NUMBER},
    {"records", "Records", PA_TAB_NUMBER},
};
const struct pa_tab_col pa_hr_coverage_cols[9] = {
    {"surface", "Surface", PA_TAB_STRING},
    {"configured", "Configured", PA_TAB_STRING},
    {"status", "Last scan status", PA_TAB_STRING},
    {"last_scan", "Last scan", PA_TAB_STRING},
    {"mode", "Mode", PA_TAB_STRING},
    {"rows", "Rows read", PA_TAB_NUMBER},
    {"last_full_scan", "Last full scan", PA_TAB_STRING},
    {"error", "Error", PA_TAB_STRING},
    {"open", "Open findings", PA_TAB_NUMBER},
};

void pa_html_escape(struct pa_buf *out, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int step = pa_utf8_step((const unsigned char *)s + i, n - i);
        if (step < 0) {
            pa_buf_appends(out, "\xef\xbf\xbd");
            i += (size_t)-step;
            continue;
        }
        switch (c) {
        case '&': pa_buf_appends(out, "&amp;"); break;
        case '<': pa_buf_appends(out, "&lt;"); break;
        case '>': pa_buf_appends(out, "&gt;"); break;
        case '"': pa_buf_appends(out, "&quot;"); break;
        case '\'': pa_buf_appends(out, "&#39;"); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                pa_buf_appends(out, "\xef\xbf\xbd");
            else
                pa_buf_append(out, s + i, (size_t)step);
        }
        i += (size_t)step;
    }
}

static void esc(struct pa_buf *out, const char *s)
{
    pa_html_escape(out, s ? s : "");
}

/* The smallest 1, 2 or 5 times a power of ten at or above v (an axis' top). */
static long long nice_max(long long v)
{
    if (v <= 1)
        return 1;
    long long p = 1;
    while (p * 10 <= v)
        p *= 10;
    for (long long m = 1;; m = m == 1 ? 2 : m == 2 ? 5 : 10)
        if (m * p >= v)
            return m * p;
}

#define SVG_W 920.0
#define SVG_H 200.0
#define PAD_L 52.0
#define PAD_R 12.0
#define PAD_T 12.0
#define PAD_B 26.0

/* Axes, horizontal grid lines at 0, top/2 and top, and the dates of the first, middle and last day. */
static void svg_frame(struct pa_buf *o, const struct pa_hr_day *days, size_t n, long long top)
{
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B;
    for (int k = 0; k <= 2; k++) {
        double y = PAD_T + ph - ph * k / 2.0;
        pa_buf_printf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", PAD_L, y, PAD_L + pw,
                      y);
        if (k == 0 || top % 2 == 0 || k == 2)
            pa_buf_printf(o, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%lld</text>", PAD_L - 6,
                          y + 4, top * k / 2);
    }
    size_t marks[3] = {0, n / 2, n - 1};
    const char *anchor[3] = {"start", "middle", "end"};
    for (int k = 0; k < 3 && n; k++) {
        if (k == 1 && (n < 3 || marks[1] == 0))
            continue;
        double x = PAD_L + pw * ((double)marks[k] + 0.5) / (double)n;
        if (k == 0)
            x = PAD_L;
        if (k == 2)
            x = PAD_L + pw;
        pa_buf_printf(o, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, SVG_H - 8, anchor[k]);
        esc(o, days[marks[k]].date);
        pa_buf_appends(o, "</text>");
    }
}

void pa_htmlreport_trend_svg(struct pa_buf *o, const struct pa_hr_day *days, size_t n)
{
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B;
    long long max_open = 0, max_flow = 0;
    size_t nz_open = 0, nz_flow = 0;
    for (size_t i = 0; i < n; i++) {
        if (days[i].open > max_open)
            max_open = days[i].open;
        if (days[i].opened > max_flow)
            max_flow = days[i].opened;
        if (days[i].resolved > max_flow)
            max_flow = days[i].resolved;
        nz_open += days[i].open > 0;
        nz_flow += days[i].opened > 0 || days[i].resolved > 0;
    }
    /* open at each day's end: a line over an area */
    long long top = nice_max(max_open);
    pa_buf_printf(o,
                  "<svg class=\"chart\" id=\"chart-open\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" data-points=\"%zu\" "
                  "data-nonzero=\"%zu\"><title>Open findings at the end of each day</title>",
                  SVG_W, SVG_H, n, nz_open);
    svg_frame(o, days, n, top);
    struct pa_buf pts;
    pa_buf_init(&pts);
    for (size_t i = 0; i < n; i++) {
        double x = PAD_L + pw * ((double)i + 0.5) / (double)n;
        double y = PAD_T + ph - ph * (double)days[i].open / (double)top;
        pa_buf_printf(&pts, "%s%.1f,%.1f", i ? " " : "", x, y);
    }
    if (n) {
        double x0 = PAD_L + pw * 0.5 / (double)n, x1 = PAD_L + pw * ((double)n - 0.5) / (double)n;
        pa_buf_printf(o, "<polygon class=\"area\" points=\"%.1f,%.1f %s %.1f,%.1f\"/>", x0, PAD_T + ph, pts.data, x1,
                      PAD_T + ph);
        pa_buf_printf(o, "<polyline class=\"line\" points=\"%s\"/>", pts.data);
    }
    for (size_t i = 0; i < n && n <= 120; i++) {
        double x = PAD_L + pw * ((double)i + 0.5) / (double)n;
        double y = PAD_T + ph - ph * (double)days[i].open / (double)top;
        pa_buf_printf(o, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"><title>", x, y);
        esc(o, days[i].date);
        pa_buf_printf(o, ": %lld open</title></circle>", days[i].open);
    }
    pa_buf_free(&pts);
    pa_buf_appends(o, "</svg>\n");

    /* opened and resolved per day: two bars a day */
    pa_buf_appends(o, "<p class=\"meta legend\">Findings opened and resolved per day:<span class=\"opened\" "
                      "style=\"background:#d9822b\"></span>opened<span style=\"background:#2e8b57\"></span>"
                      "resolved</p>\n");
    top = nice_max(max_flow);
    pa_buf_printf(o,
                  "<svg class=\"chart\" id=\"chart-flow\" role=\"img\" viewBox=\"0 0 %.0f %.0f\" data-points=\"%zu\" "
                  "data-nonzero=\"%zu\"><title>Findings opened and resolved per day</title>",
                  SVG_W, SVG_H, n, nz_flow);
    svg_frame(o, days, n, top);
    double slot = n ? pw / (double)n : pw;
    for (size_t i = 0; i < n; i++) {
        const long long v[2] = {days[i].opened, days[i].resolved};
        const char *cls[2] = {"opened", "resolved"};
        for (int k = 0; k < 2; k++) {
            if (!v[k])
                continue;
            double h = ph * (double)v[k] / (double)top;
            double x = PAD_L + slot * (double)i + slot * (k ? 0.5 : 0.1);
            pa_buf_printf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>", cls[k],
                          x, PAD_T + ph - h, slot * 0.4, h);
            esc(o, days[i].date);
            pa_buf_printf(o, ": %lld %s</title></rect>", v[k], cls[k]);
        }
    }
    pa_buf_appends(o, "</svg>\n");
}

/* A time column: kept on one line. */
static bool time_col(const char *name)
{
    size_t n = strlen(name);
    return (n > 3 && strcmp(name + n - 3, "_at") == 0) || strcmp(name, "last_scan") == 0 ||
           strcmp(name, "last_full_scan") == 0 || strcmp(name, "oldest") == 0;
}

/* A table of t's columns named in cols (all when NULL; then headers, when given, name them), numeric columns
 * right-aligned; sortable by a click. */
static void table(struct pa_buf *o, const struct pa_tab *t, const char *const *cols, const char *const *headers,
                  size_t ncols, const char *empty)
{
    if (!t->nrows) {
        pa_buf_appends(o, "<p class=\"empty\">");
        esc(o, empty);
        pa_buf_appends(o, "</p>\n");
        return;
    }
    size_t idx[32], k = 0;
    for (size_t c = 0; c < t->ncols && k < 32; c++) {
        bool want = !cols;
        for (size_t j = 0; cols && j < ncols; j++)
            want = want || strcmp(cols[j], t->cols[c].name) == 0;
        if (want)
            idx[k++] = c;
    }
    pa_buf_appends(o, "<table class=\"sortable\"><thead><tr>");
    for (size_t j = 0; j < k; j++) {
        const struct pa_tab_col *col = &t->cols[idx[j]];
        pa_buf_printf(o, "<th%s title=\"sort\">", col->kind == PA_TAB_NUMBER ? " class=\"num\"" : "");
        esc(o, headers ? headers[j] : col->header ? col->header : col->name);
        pa_buf_appends(o, "</th>");
    }
    pa_buf_appends(o, "</tr></thead><tbody>\n");
    for (size_t r = 0; r < t->nrows; r++) {
        pa_buf_appends(o, "<tr>");
        for (size_t j = 0; j < k; j++) {
            const char *v = t->cells[r * t->ncols + idx[j]];
            const char *name = t->cols[idx[j]].name;
            const char *open = "<td>", *close = "</td>";
            if (t->cols[idx[j]].kind == PA_TAB_NUMBER) {
                open = "<td class=\"num\">";
            } else if (strcmp(name, "status") == 0 && v) {
                bool good = strcmp(v, "ok") == 0, none = strcmp(v, "never scanned") == 0 || strcmp(v, "running") == 0;
                open = good   ? "<td><span class=\"badge ok\">"
                       : none ? "<td><span class=\"badge none\">"
                              : "<td><span class=\"badge bad\">";
                close = "</span></td>";
            } else if (time_col(name)) {
                open = "<td class=\"t\">";
            } else if (strcmp(name, "json_path") == 0 || strcmp(name, "record_id") == 0) {
                open = "<td><code>";
                close = "</code></td>";
            }
            pa_buf_appends(o, open);
            esc(o, v ? v : "\xe2\x80\x94");
            pa_buf_appends(o, close);
        }
        pa_buf_appends(o, "</tr>\n");
    }
    pa_buf_appends(o, "</tbody></table>\n");
}

/* Horizontal bars: label, count, a bar of count / max. */
static void bars(struct pa_buf *o, const char *const *labels, const long long *v, size_t n, const char *empty)
{
    long long max = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    if (!max) {
        pa_buf_appends(o, "<p class=\"empty\">");
        esc(o, empty);
        pa_buf_appends(o, "</p>\n");
        return;
    }
    pa_buf_appends(o, "<table class=\"bars\">");
    for (size_t i = 0; i < n; i++) {
        pa_buf_appends(o, "<tr><th>");
        esc(o, labels[i]);
        pa_buf_printf(o,
                      "</th><td class=\"num\">%lld</td><td class=\"bar\"><span style=\"width:%.1f%%\"></span></td>"
                      "</tr>",
                      v[i], 100.0 * (double)v[i] / (double)max);
    }
    pa_buf_appends(o, "</table>\n");
}

static void card(struct pa_buf *o, const char *label, long long v, const char *note, bool alarm)
{
    pa_buf_printf(o, "<div class=\"card%s\"><div class=\"v\">%lld</div><div class=\"l\">", alarm ? " alarm" : "", v);
    esc(o, label);
    pa_buf_appends(o, "</div>");
    if (note) {
        pa_buf_appends(o, "<div class=\"n\">");
        esc(o, note);
        pa_buf_appends(o, "</div>");
    }
    pa_buf_appends(o, "</div>\n");
}

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d2733;"
    "background:#f4f6f9;margin:0;padding:24px 32px}"
    "header h1{font-size:24px;margin:0 0 4px}.meta{color:#5b6775;margin:0}"
    ".note{background:#e8f0fb;border-left:4px solid #2f6fbf;padding:8px 12px;margin:12px 0 0}"
    "section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:16px 20px;margin:16px 0}"
    "h2{font-size:17px;margin:0 0 10px}.two{display:grid;grid-template-columns:1fr 1fr;gap:16px;background:none;"
    "border:0;padding:0}.two>div{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:16px 20px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;background:none;border:0;padding:0}"
    ".card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px;min-width:150px;flex:1}"
    ".card .v{font-size:28px;font-weight:600}.card .l{color:#5b6775}.card .n{color:#5b6775;font-size:12px}"
    ".card.alarm .v{color:#b3261e}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #edf0f3;"
    "vertical-align:top}td.t{white-space:nowrap}thead th{background:#f0f3f6;cursor:pointer;white-space:nowrap}td.num,th.num{text-align:right}"
    "code{font:12px/1.4 ui-monospace,'DejaVu Sans Mono',monospace;word-break:break-all}"
    ".bars th{font-weight:normal;width:30%}.bars td.bar{width:60%}.bars span{display:block;height:12px;"
    "background:#2f6fbf;border-radius:2px}"
    ".badge{padding:1px 8px;border-radius:10px;font-size:12px}.badge.ok{background:#dcf1e2;color:#1e6b34}"
    ".badge.bad{background:#fbe0de;color:#a1261e}.badge.none{background:#eceff2;color:#4b5663}"
    ".chart{width:100%;height:auto;display:block;margin:4px 0 12px}.grid{stroke:#e3e8ee}"
    ".axis{font-size:11px;fill:#5b6775}.line{fill:none;stroke:#b3261e;stroke-width:2}"
    ".area{fill:#b3261e;fill-opacity:.08}.dot{fill:#b3261e}.opened{fill:#d9822b}.resolved{fill:#2e8b57}"
    ".legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}"
    ".empty{color:#5b6775;font-style:italic}footer{color:#5b6775;font-size:12px;margin-top:16px}"
    "@media print{body{background:#fff}section,.card{break-inside:avoid}}";

/* Sorts a table by the clicked column; then marks the page as scripted (the browser test checks the mark). */
static const char script[] =
    "(function(){'use strict';"
    "document.querySelectorAll('table.sortable').forEach(function(table){"
    "var heads=table.tHead.rows[0].cells;"
    "Array.prototype.forEach.call(heads,function(th,i){th.addEventListener('click',function(){"
    "var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows),asc=th.dataset.dir!=='asc';"
    "th.dataset.dir=asc?'asc':'desc';var num=th.classList.contains('num');"
    "rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;"
    "var r=num?(parseFloat(x)||0)-(parseFloat(y)||0):x.localeCompare(y);return asc?r:-r;});"
    "rows.forEach(function(r){body.appendChild(r);});});});});"
    "document.documentElement.setAttribute('data-script-ok','1');})();";

void pa_htmlreport_render(struct pa_buf *o, const struct pa_hr_data *d)
{
    pa_buf_appends(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
                      "<meta name=\"generator\" content=\"pii-auditd ");
    esc(o, PA_VERSION);
    pa_buf_appends(o, "\"><title>pii-auditd report: ");
    esc(o, d->database);
    pa_buf_appends(o, "</title><style>");
    pa_buf_appends(o, style);
    pa_buf_appends(o, "</style></head>\n<body>\n<header><h1>Personal data found in ");
    esc(o, d->database);
    pa_buf_appends(o, "</h1><p class=\"meta\">Generated ");
    esc(o, d->generated_at);
    pa_buf_appends(o, " by pii-auditd ");
    esc(o, PA_VERSION);
    pa_buf_appends(o, " &middot; trend since ");
    esc(o, d->since);
    pa_buf_appends(o, " &middot; ");
    esc(o, d->filter);
    pa_buf_appends(o, "</p><p class=\"note\">Where personal data was found &mdash; table, column, record id, JSON path "
                      "and category &mdash; never the data itself: pii-auditd does not store it. Acknowledged findings "
                      "are still open: someone owns them.</p></header>\n");

    long long failed = 0;
    for (size_t r = 0; r < d->coverage.nrows; r++) {
        const char *st = d->coverage.cells[r * d->coverage.ncols + 2];
        failed += st && (strcmp(st, "failed") == 0 || strcmp(st, "interrupted") == 0 || strcmp(st, "cancelled") == 0);
    }
    char note[96];
    pa_buf_appends(o, "<section class=\"cards\">\n");
    snprintf(note, sizeof note, "%lld acknowledged", d->acknowledged);
    card(o, "open findings", d->open, note, d->open > 0);
    card(o, "records affected", d->records, NULL, false);
    card(o, "surfaces with findings", d->surfaces_affected, NULL, false);
    snprintf(note, sizeof note, "since %.10s", d->since);
    card(o, "opened", d->opened_window, note, false);
    card(o, "resolved", d->resolved_window, note, false);
    card(o, "surfaces failing", failed, "at their last scan", failed > 0);
    pa_buf_appends(o, "</section>\n");

    pa_buf_appends(o, "<section><h2>Trend</h2><p class=\"meta\">Open findings at the end of each day (UTC)</p>");
    pa_htmlreport_trend_svg(o, d->days, d->n_days);
    pa_buf_appends(o, "</section>\n");

    pa_buf_appends(o, "<section class=\"two\"><div><h2>Open findings by category</h2>");
    const char **labels = pa_xcalloc(d->by_category.nrows + 1, sizeof *labels);
    long long *vals = pa_xcalloc(d->by_category.nrows + 1, sizeof *vals);
    for (size_t r = 0; r < d->by_category.nrows; r++) {
        labels[r] = d->by_category.cells[r * 2];
        vals[r] = atoll(d->by_category.cells[r * 2 + 1] ? d->by_category.cells[r * 2 + 1] : "0");
    }
    bars(o, labels, vals, d->by_category.nrows, "No open findings.");
    free(labels);
    free(vals);
    static const char *const ages[PA_HR_AGE_BUCKETS] = {"less than a day", "1 to 7 days", "7 to 30 days",
                                                        "30 to 90 days", "more than 90 days"};
    pa_buf_appends(o, "</div><div><h2>Open findings by age</h2>");
    bars(o, ages, d->age, PA_HR_AGE_BUCKETS, "No open findings.");
    pa_buf_appends(o, "<p class=\"meta\">Age: since the finding was first seen.</p></div></section>\n");

    pa_buf_appends(o, "<section><h2>Open findings by surface and category</h2>");
    table(o, &d->by_surface, NULL, NULL, 0, "No open findings.");
    pa_buf_appends(o, "</section>\n<section><h2>Top paths</h2><p class=\"meta\">The JSON paths with the most open "
                      "findings (a key that looks like personal data is shown as &lt;category&gt;).</p>");
    table(o, &d->top_paths, NULL, NULL, 0, "No open findings.");
    pa_buf_appends(o, "</section>\n<section><h2>Coverage</h2><p class=\"meta\">Each surface's last scan and last full "
                      "scan. A surface that failed was not read: it is never reported clean.</p>");
    table(o, &d->coverage, NULL, NULL, 0, "No surface configured or scanned yet.");
    pa_buf_appends(o, "</section>\n<section><h2>Allowlist</h2><p class=\"meta\">Paths scans do not report, with who "
                      "allowed them and why (pii-auditd allow add).</p>");
    static const char *const allow_cols[] = {"id",         "surface",    "json_path", "category",
                                             "created_at", "created_by", "reason",    "covers_open"};
    static const char *const allow_heads[] = {"ID",    "Surface", "JSON path", "Category",
                                              "Added", "By",      "Reason",    "Covers (open)"};
    table(o, &d->allowlist, allow_cols, allow_heads, PA_ARRAY_LEN(allow_cols), "The allowlist is empty.");
    pa_buf_appends(o, "</section>\n<section><h2>Acknowledged findings</h2><p class=\"meta\">Open findings someone "
                      "owns (pii-auditd findings ack)");
    if (d->acknowledged_more)
        pa_buf_printf(o, "; the %zu most recent", d->acknowledged_list.nrows);
    pa_buf_appends(o, ".</p>");
    static const char *const ack_cols[] = {"id",       "surface",         "record_id",       "json_path",
                                           "category", "acknowledged_at", "acknowledged_by", "acknowledged_note"};
    static const char *const ack_heads[] = {"ID",       "Surface",      "Record", "JSON path",
                                            "Category", "Acknowledged", "By",     "Why"};
    table(o, &d->acknowledged_list, ack_cols, ack_heads, PA_ARRAY_LEN(ack_cols), "No acknowledged findings.");
    pa_buf_appends(o, "</section>\n<footer>pii-auditd ");
    esc(o, PA_VERSION);
    pa_buf_appends(o, " &middot; generated ");
    esc(o, d->generated_at);
    pa_buf_appends(o, " &middot; a self-contained page: it loads nothing from anywhere.</footer>\n<script>");
    pa_buf_appends(o, script);
    pa_buf_appends(o, "</script>\n</body></html>\n");
}
