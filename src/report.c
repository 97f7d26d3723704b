/* report: see report.h. The JSON schema is a public interface: add fields, never rename or remove. */
#include "report.h"

#include <string.h>

#include "pa_build.h"
#include "util.h"

int pa_report_exit_code(const struct pa_scan_result *r)
{
    if (r->failed > 0 || r->err.msg[0])
        return PA_EXIT_FAILED;
    return r->open_total > 0 ? PA_EXIT_FINDINGS : PA_EXIT_CLEAN;
}

static void human_bytes(long long b, char *out, size_t cap)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void text_counts(FILE *out, const char *label, const struct pa_catcounts *c)
{
    if (!c->n)
        return;
    fprintf(out, "    %-9s", label);
    for (size_t i = 0; i < c->n; i++)
        fprintf(out, "%s%s %lld", i ? ", " : " ", c->v[i].name, c->v[i].n);
    fputc('\n', out);
}

void pa_report_text(FILE *out, const struct pa_scan_result *r, bool dry_run)
{
    if (r->err.msg[0]) {
        fprintf(out, "scan could not start: %s\n", r->err.msg);
        return;
    }
    if (dry_run)
        fprintf(out, "pii-auditd dry run (nothing written): %zu surface%s in %.2fs\n", r->n, r->n == 1 ? "" : "s",
                r->duration);
    else
        fprintf(out, "pii-auditd scan %lld: %zu surface%s in %.2fs, status %s\n", r->scan_id, r->n,
                r->n == 1 ? "" : "s", r->duration, pa_scan_run_status_name(r));
    for (size_t i = 0; i < r->n; i++) {
        const struct pa_surface_result *s = &r->surfaces[i];
        fprintf(out, "\n  %s\n", s->surface->name);
        if (s->status != PA_SURFACE_OK) {
            fprintf(out, "    %s (%s): %s\n", s->status == PA_SURFACE_CANCELLED ? "CANCELLED" : "FAILED",
                    pa_fail_reason_name(s->err.reason), s->err.msg);
            if (!s->rows)
                continue;
        }
        char b[32];
        human_bytes(s->bytes, b, sizeof b);
        double rate = s->duration > 0 ? (double)s->rows / s->duration : 0;
        fprintf(out, "    %s scan: %lld rows, %s in %.2fs (%.0f rows/s)\n", pa_scan_mode_name(s->full), s->rows, b,
                s->duration, rate);
        if (s->rows_reread)
            fprintf(out, "    of them changed since the last scan and read again: %lld\n", s->rows_reread);
        fprintf(out, "    findings: %lld new, %lld open, %lld resolved\n", pa_catcounts_total(&s->new_by_cat),
                pa_catcounts_total(&s->open_by_cat), pa_catcounts_total(&s->resolved_by_cat));
        text_counts(out, "new:", &s->new_by_cat);
        text_counts(out, "open:", &s->open_by_cat);
        text_counts(out, "resolved:", &s->resolved_by_cat);
        if (s->invalid_documents)
            fprintf(out, "    invalid JSON documents (scanned as text): %lld\n", s->invalid_documents);
        if (s->truncated_records)
            fprintf(out, "    records with more findings than scan.max_findings_per_record: %lld\n",
                    s->truncated_records);
        if (s->oversized_documents)
            fprintf(out, "    NOT READ: %lld document%s stored in more than scan.max_document_bytes (oversized)\n",
                    s->oversized_documents, s->oversized_documents == 1 ? "" : "s");
        for (int k = 0; k < PA_FAIL_COUNT; k++)
            if (s->retries[k])
                fprintf(out, "    batches read again after %s: %lld\n", pa_fail_reason_name((enum pa_fail_reason)k),
                        s->retries[k]);
    }
    int code = pa_report_exit_code(r);
    long long oversized = 0;
    for (size_t i = 0; i < r->n; i++)
        oversized += r->surfaces[i].oversized_documents;
    /* oversized rows were left unread by the configuration's choice: the exit status stays, the words do not say
     * "clean" */
    fprintf(out, "\n%s",
            code == PA_EXIT_FAILED     ? "RESULT: at least one surface could not be scanned (exit 3)"
            : code == PA_EXIT_FINDINGS ? "RESULT: open findings exist (exit 1)"
            : oversized                ? "RESULT: no open findings in what was read (exit 0)"
                                       : "RESULT: clean, no open findings (exit 0)");
    if (oversized)
        fprintf(out, "; %lld oversized document%s not read (scan.max_document_bytes)", oversized,
                oversized == 1 ? " was" : "s were");
    fputc('\n', out);
}

static void json_str(struct pa_buf *b, const char *s)
{
    if (!s) {
        pa_buf_appends(b, "null");
        return;
    }
    pa_buf_append_json_string(b, s, strlen(s));
}

static void json_counts(struct pa_buf *b, const struct pa_catcounts *c)
{
    pa_buf_appendc(b, '{');
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            pa_buf_appendc(b, ',');
        json_str(b, c->v[i].name);
        pa_buf_printf(b, ":%lld", c->v[i].n);
    }
    pa_buf_appendc(b, '}');
}

/* "error": {"reason": ..., "message": ...} when failed, else null */
static void json_error(struct pa_buf *b, bool failed, const struct pa_err *e)
{
    pa_buf_appends(b, ",\"error\":");
    if (!failed) {
        pa_buf_appends(b, "null");
        return;
    }
    pa_buf_appends(b, "{\"reason\":");
    json_str(b, pa_fail_reason_name(e->reason));
    pa_buf_appends(b, ",\"message\":");
    json_str(b, e->msg);
    pa_buf_appendc(b, '}');
}

/* One surface's object in "surfaces". */
static void json_surface(struct pa_buf *b, const struct pa_surface_result *s)
{
    pa_buf_appends(b, "{\"surface\":");
    json_str(b, s->surface->name);
    pa_buf_appends(b, ",\"table\":");
    json_str(b, s->table);
    pa_buf_appends(b, ",\"column\":");
    json_str(b, s->surface->column);
    pa_buf_appends(b, ",\"status\":");
    json_str(b, pa_scan_surface_status_name(s->status));
    pa_buf_appends(b, ",\"mode\":");
    json_str(b, pa_scan_mode_name(s->full));
    json_error(b, s->status != PA_SURFACE_OK, &s->err);
    pa_buf_printf(b,
                  ",\"rows\":%lld,\"bytes\":%lld,\"rows_estimated\":%lld,\"duration_seconds\":%.3f,"
                  "\"rows_per_second\":%.1f,\"invalid_documents\":%lld,\"truncated_records\":%lld,"
                  "\"rows_reread\":%lld,\"new\":",
                  s->rows, s->bytes, s->rows_estimated > 0 ? s->rows_estimated : 0, s->duration,
                  s->duration > 0 ? (double)s->rows / s->duration : 0.0, s->invalid_documents, s->truncated_records,
                  s->rows_reread);
    json_counts(b, &s->new_by_cat);
    pa_buf_appends(b, ",\"open\":");
    json_counts(b, &s->open_by_cat);
    pa_buf_appends(b, ",\"resolved\":");
    json_counts(b, &s->resolved_by_cat);
    pa_buf_printf(b, ",\"oversized_documents\":%lld,\"retries\":{", s->oversized_documents);
    for (int k = 0, n = 0; k < PA_FAIL_COUNT; k++) {
        if (!s->retries[k])
            continue;
        if (n++)
            pa_buf_appendc(b, ',');
        json_str(b, pa_fail_reason_name((enum pa_fail_reason)k));
        pa_buf_printf(b, ":%lld", s->retries[k]);
    }
    pa_buf_appends(b, "},\"unread\":{");
    for (int u = 0; u < PA_UNREAD_COUNT; u++) {
        if (u)
            pa_buf_appendc(b, ',');
        json_str(b, pa_scan_unread_reason_name((enum pa_unread_reason)u));
        if (s->unread[u] >= 0)
            pa_buf_printf(b, ":%lld", s->unread[u]);
        else
            pa_buf_appends(b, ":null");
    }
    pa_buf_appends(b, "}}");
}

void pa_report_json(FILE *out, const struct pa_scan_result *r, bool dry_run)
{
    struct pa_buf b;
    pa_buf_init(&b);
    long long rows = 0, bytes = 0, nf = 0, rf = 0, ovs = 0, rtr = 0;
    for (size_t i = 0; i < r->n; i++) {
        ovs += r->surfaces[i].oversized_documents;
        for (int k = 0; k < PA_FAIL_COUNT; k++)
            rtr += r->surfaces[i].retries[k];
        rows += r->surfaces[i].rows;
        bytes += r->surfaces[i].bytes;
        nf += pa_catcounts_total(&r->surfaces[i].new_by_cat);
        rf += pa_catcounts_total(&r->surfaces[i].resolved_by_cat);
    }
    pa_buf_printf(&b, "{\"schema_version\":%d,\"pii_auditd_version\":", PA_REPORT_JSON_SCHEMA);
    json_str(&b, PA_VERSION);
    if (r->scan_id)
        pa_buf_printf(&b, ",\"scan_id\":%lld", r->scan_id);
    else
        pa_buf_appends(&b, ",\"scan_id\":null");
    pa_buf_printf(&b, ",\"dry_run\":%s,\"status\":", dry_run ? "true" : "false");
    json_str(&b, pa_scan_run_status_name(r));
    pa_buf_printf(&b, ",\"exit_code\":%d,\"duration_seconds\":%.3f", pa_report_exit_code(r), r->duration);
    json_error(&b, r->err.msg[0] != '\0', &r->err);
    pa_buf_appends(&b, ",\"database\":");
    if (r->server.database[0]) {
        pa_buf_appends(&b, "{\"name\":");
        json_str(&b, r->server.database);
        pa_buf_appends(&b, ",\"system_identifier\":");
        json_str(&b, r->server.system_identifier);
        pa_buf_printf(&b, ",\"in_recovery\":%s}", r->server.in_recovery ? "true" : "false");
    } else {
        pa_buf_appends(&b, "null");
    }
    pa_buf_printf(&b,
                  ",\"totals\":{\"surfaces\":%zu,\"failed\":%d,\"rows\":%lld,\"bytes\":%lld,\"new_findings\":%lld,"
                  "\"resolved_findings\":%lld,\"open_findings\":%lld,\"oversized_documents\":%lld,\"retries\":%lld},"
                  "\"surfaces\":[",
                  r->n, r->failed, rows, bytes, nf, rf, r->open_total, ovs, rtr);
    for (size_t i = 0; i < r->n; i++) {
        if (i)
            pa_buf_appendc(&b, ',');
        json_surface(&b, &r->surfaces[i]);
    }
    pa_buf_appends(&b, "]}\n");
    fwrite(b.data, 1, b.len, out);
    pa_buf_free(&b);
}
