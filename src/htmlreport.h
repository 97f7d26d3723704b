/* htmlreport: `pii-auditd report --html FILE`, one self-contained HTML page for a compliance officer: what is open
 * (by surface, category and age), the trend over time (charts drawn here as inline SVG), the top paths, coverage
 * (per surface: last scan, last full scan, status, rows, failures), the allowlist and the acknowledged findings.
 *
 * Self-contained: no external resource of any kind (a Content-Security-Policy of default-src 'none' says so to the
 * browser too); one small inline script sorts tables and marks the page data-script-ok="1" once it ran (the
 * headless-browser test reads that). Never a value: the store has none, and every string (table names, paths,
 * reasons, error messages: all user-controlled) is HTML-escaped. The render (htmlreport.c) is pure; the queries are
 * in htmlreport_db.c. */
#ifndef PA_HTMLREPORT_H
#define PA_HTMLREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "err.h"
#include "tabular.h"
#include "util.h"

struct pa_config;

struct pa_htmlreport_opts {
    double since;                /* the trend's window starts here (epoch seconds) */
    const char *const *surfaces; /* "schema.table.column": only these; none: every surface */
    size_t n_surfaces;
    const struct pa_config *cfg; /* the configured surfaces for coverage; NULL when no configuration was read */
};

/* One day of the trend. */
struct pa_hr_day {
    char date[11];                    /* YYYY-MM-DD (UTC) */
    long long opened, resolved, open; /* first seen that day, resolved that day, open at its end */
};

#define PA_HR_AGE_BUCKETS 5 /* < 1 day, 1-7 days, 7-30 days, 30-90 days, > 90 days */

/* Everything the page shows, gathered by pa_htmlreport_gather or made by hand (tests). */
struct pa_hr_data {
    char generated_at[32]; /* 2026-12-07T16:47:57Z */
    char since[32];        /* the window's start, the same form */
    const char *database;  /* the findings database's name */
    const char *filter;    /* "every surface" or the surfaces, as text */
    long long open, acknowledged, records, surfaces_affected, opened_window, resolved_window;
    long long age[PA_HR_AGE_BUCKETS];
    struct pa_hr_day *days;
    size_t n_days;
    struct pa_tab by_surface;  /* surface, category, open, acknowledged, oldest */
    struct pa_tab by_category; /* category, open */
    struct pa_tab top_paths;   /* surface, json_path, category, findings, records */
    struct pa_tab coverage;    /* surface, configured, status, last_scan, mode, rows, last_full_scan, error, open */
    struct pa_tab allowlist;   /* as allow list */
    struct pa_tab acknowledged_list; /* as findings list */
    bool acknowledged_more;          /* more acknowledged findings than listed */
};

/* The columns of the sections' tables (the names are those of pa_hr_data's comments). */
extern const struct pa_tab_col pa_hr_by_surface_cols[5], pa_hr_by_category_cols[2], pa_hr_top_paths_cols[5],
    pa_hr_coverage_cols[9];

/* Query the store into d (its tables initialised here). 0, or -1 with e set. pa_hr_data_free in both cases. */
int pa_htmlreport_gather(PGconn *conn, const struct pa_htmlreport_opts *o, struct pa_hr_data *d, struct pa_err *e);
void pa_hr_data_free(struct pa_hr_data *d);
/* The page. Pure. */
void pa_htmlreport_render(struct pa_buf *out, const struct pa_hr_data *d);
/* gather + render + write to out. 0, or -1 with e set (nothing written). */
int pa_htmlreport_write(PGconn *conn, const struct pa_htmlreport_opts *o, FILE *out, struct pa_err *e);

/* s as HTML text or attribute value: & < > " ' as character references; control characters (but tab and newline)
 * and invalid UTF-8 as U+FFFD. */
void pa_html_escape(struct pa_buf *out, const char *s);
/* The trend charts' SVG: opened and resolved per day (bars), open at each day's end (a line). data-points holds the
 * number of days, data-nonzero the days with any count: the browser test fails on an empty chart. */
void pa_htmlreport_trend_svg(struct pa_buf *out, const struct pa_hr_day *days, size_t n);

#endif
