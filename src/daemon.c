/* daemon: see daemon.h. Signal handlers only set flags; the loop acts on them. The watchdog is pinged only from
 * this loop (and from the scan's progress callbacks on the same thread), so a hung scan stops the pings. */
#include "daemon.h"

#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "findings.h"
#include "guardrail.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "pa_build.h"
#include "scan.h"
#include "util.h"

static volatile sig_atomic_t sig_stop, sig_reload, sig_scan_now, sig_full_now;

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT) {
        if (sig_stop)
            _exit(0); /* a second stop request: leave at once; committed batches are safe */
        sig_stop = 1;
    } else if (sig == SIGHUP) {
        sig_reload = 1;
    } else if (sig == SIGUSR1) {
        sig_scan_now = 1;
    } else if (sig == SIGUSR2) {
        sig_full_now = 1; /* a full scan on demand: every surface read from the start */
    }
}

struct daemon {
    const char *path;
    struct pa_config *cfg;
    struct pa_detector *det;
    struct pa_metrics *m;
    struct pa_http *http;
    atomic_bool ready;
    double wd_period, wd_last;
    size_t surface_no, surfaces_n;
    /* metric families */
    struct pa_metric *findings, *contaminated, *detected, *resolved, *last_new, *duration, *surface_duration,
        *scans, *failures, *in_progress, *start_ts, *success_ts, *full_ts, *interval, *rows, *bytes, *estimated,
        *surface_up, *db_up, *reload_ok, *reload_ts, *build_info, *guardrail_rejects;
    /* guardrail counters: read on a short scanned-database session (none is kept open between scans) */
    size_t gr_n;      /* series currently exported */
    double gr_last;   /* monotonic time of the last read */
    bool gr_warned;   /* the "cannot read" warning was logged (once until it works again) */
};

/* How often the guardrail counters are read between scans (they are also read after each scan). */
#define GUARDRAIL_REFRESH_SECONDS 60.0

static bool is_ready(void *arg)
{
    struct daemon *d = arg;
    return atomic_load(&d->ready);
}

static void watchdog(struct daemon *d)
{
    if (d->wd_period <= 0)
        return;
    double now = pa_now_monotonic();
    if (now - d->wd_last >= d->wd_period / 3) {
        pa_notify_watchdog();
        d->wd_last = now;
    }
}

static void register_metrics(struct daemon *d)
{
    static const char *const tc[] = {"table", "column"};
    static const char *const tcc[] = {"table", "column", "category"};
    static const char *const reason[] = {"reason"};
    static const char *const build[] = {"version", "revision"};
    static const double buckets[] = {0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200};
    struct pa_metrics *m = d->m;
#define REG(name, help, type, n, labels) pa_metrics_register(m, name, help, type, n, labels, NULL, 0)
    d->findings = REG("pii_audit_findings", "Open PII findings (not resolved) by surface and category.",
                      PA_METRIC_GAUGE, 3, tcc);
    d->contaminated = REG("pii_audit_contaminated_records", "Distinct records with open PII findings.",
                          PA_METRIC_GAUGE, 2, tc);
    d->detected = REG("pii_audit_findings_detected_total", "Findings newly detected by scans.", PA_METRIC_COUNTER, 3,
                      tcc);
    d->resolved = REG("pii_audit_findings_resolved_total", "Findings resolved by full scans (record changed or deleted).",
                      PA_METRIC_COUNTER, 3, tcc);
    d->last_new = REG("pii_audit_last_scan_new_findings", "New findings in the last completed scan.",
                      PA_METRIC_GAUGE, 0, NULL);
    d->duration = pa_metrics_register(m, "pii_audit_scan_duration_seconds", "Duration of whole scans.",
                                      PA_METRIC_HISTOGRAM, 0, NULL, buckets, PA_ARRAY_LEN(buckets));
    d->surface_duration = REG("pii_audit_surface_scan_duration_seconds", "Duration of the last scan of a surface.",
                              PA_METRIC_GAUGE, 2, tc);
    d->scans = REG("pii_audit_scans_total", "Scans attempted.", PA_METRIC_COUNTER, 0, NULL);
    d->failures = REG("pii_audit_scan_failures_total",
                      "Scan failures by reason (a surface that could not be scanned, or a scan that could not start).",
                      PA_METRIC_COUNTER, 1, reason);
    d->in_progress = REG("pii_audit_scan_in_progress", "1 while a scan is running.", PA_METRIC_GAUGE, 0, NULL);
    d->start_ts = REG("pii_audit_scan_start_timestamp_seconds", "Start of the running or last scan.",
                      PA_METRIC_GAUGE, 0, NULL);
    d->success_ts = REG("pii_audit_last_scan_success_timestamp_seconds",
                        "End of the last scan in which every surface was scanned.", PA_METRIC_GAUGE, 0, NULL);
    d->full_ts = REG("pii_audit_last_full_scan_success_timestamp_seconds",
                     "End of the last complete full scan of a surface.", PA_METRIC_GAUGE, 2, tc);
    d->interval = REG("pii_audit_scan_interval_seconds", "Configured scan.interval.", PA_METRIC_GAUGE, 0, NULL);
    d->rows = REG("pii_audit_rows_scanned_total", "Rows read from a surface.", PA_METRIC_COUNTER, 2, tc);
    d->bytes = REG("pii_audit_bytes_scanned_total", "Bytes of JSON text read from a surface.", PA_METRIC_COUNTER, 2,
                   tc);
    d->estimated = REG("pii_audit_surface_rows_estimated", "Rows of a surface's table estimated by pg_class.reltuples.",
                       PA_METRIC_GAUGE, 2, tc);
    d->surface_up = REG("pii_audit_surface_up", "1 when the last scan of the surface succeeded.", PA_METRIC_GAUGE, 2,
                        tc);
    d->db_up = REG("pii_audit_database_up", "1 when the database answered the last attempt.", PA_METRIC_GAUGE, 0,
                   NULL);
    d->reload_ok = REG("pii_audit_config_last_reload_successful", "1 when the last configuration load succeeded.",
                       PA_METRIC_GAUGE, 0, NULL);
    d->reload_ts = REG("pii_audit_config_last_reload_success_timestamp_seconds",
                       "Time of the last successful configuration load.", PA_METRIC_GAUGE, 0, NULL);
    d->guardrail_rejects = REG("pii_audit_guardrail_rejects_total",
                               "Writes rejected by the write-time guardrail triggers (pii-auditd --print-guardrail-sql), "
                               "by table; read from the scanned database.",
                               PA_METRIC_COUNTER, 1, (const char *const[]){"table"});
    d->build_info = REG("pii_audit_build_info", "Build information; the value is always 1.", PA_METRIC_GAUGE, 2, build);
#undef REG
    const char *bv[] = {PA_VERSION, PA_REVISION};
    pa_metric_set(d->build_info, bv, 1);
    /* every reason exists from the start at 0, so increase() sees a reason's first failure */
    for (int r = PA_FAIL_NONE + 1; r < PA_FAIL_COUNT; r++) {
        const char *lr[] = {pa_fail_reason_name((enum pa_fail_reason)r)};
        pa_metric_add(d->failures, lr, 0);
    }
}

/* Store state is collected first and applied only when the whole read succeeded, so a failed refresh never leaves
 * the findings gauges empty (which would resolve a contamination alert falsely). */
struct state_row {
    char kind[16], *table, *column, *category;
    double value;
};
struct state_rows {
    struct state_row *v;
    size_t n;
};

static void state_cb(void *arg, const char *kind, const char *table, const char *column, const char *category,
                     double value)
{
    struct state_rows *rows = arg;
    rows->v = pa_xrealloc(rows->v, (rows->n + 1) * sizeof *rows->v);
    struct state_row *r = &rows->v[rows->n++];
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    r->table = table && *table ? pa_xstrdup(table) : NULL;
    r->column = column && *column ? pa_xstrdup(column) : NULL;
    r->category = category ? pa_xstrdup(category) : NULL;
    r->value = value;
}

/* The findings gauges are rebuilt with pa_metric_replace: a scrape sees the old set or the new one, never an empty
 * family in between. */
static void apply_state(struct daemon *d, const struct state_rows *rows)
{
    const char **fl = pa_xcalloc(rows->n * 3 + 1, sizeof *fl), **cl = pa_xcalloc(rows->n * 2 + 1, sizeof *cl);
    double *fv = pa_xcalloc(rows->n + 1, sizeof *fv), *cv = pa_xcalloc(rows->n + 1, sizeof *cv);
    size_t nf = 0, nc = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const struct state_row *r = &rows->v[i];
        if (strcmp(r->kind, "open") == 0 && r->table && r->column && r->category) {
            fl[nf * 3] = r->table, fl[nf * 3 + 1] = r->column, fl[nf * 3 + 2] = r->category;
            fv[nf++] = r->value;
        } else if (strcmp(r->kind, "records") == 0 && r->table && r->column) {
            cl[nc * 2] = r->table, cl[nc * 2 + 1] = r->column;
            cv[nc++] = r->value;
        } else if (strcmp(r->kind, "full_scan") == 0 && r->table && r->column) {
            const char *l[] = {r->table, r->column};
            pa_metric_set(d->full_ts, l, r->value);
        } else if (strcmp(r->kind, "last_new") == 0) {
            pa_metric_set(d->last_new, NULL, r->value);
        }
    }
    pa_metric_replace(d->findings, nf, fl, fv);
    pa_metric_replace(d->contaminated, nc, cl, cv);
    free(fl);
    free(cl);
    free(fv);
    free(cv);
}

static void state_rows_free(struct state_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->v[i].table);
        free(rows->v[i].column);
        free(rows->v[i].category);
    }
    free(rows->v);
}

/* Refresh the store-derived gauges. check_schema: the schema version is not known to be current (a scan that
 * started has just checked it on the same store). Returns 0 when the database answered. */
static int refresh_from_store(struct daemon *d, bool set_success, bool check_schema)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(d->cfg, PA_DB_STORE_READ_ONLY, &e);
    if (!conn) {
        pa_warn("findings database unreachable: %s", e.msg);
        return -1;
    }
    int rc = -1;
    if (check_schema && pa_findings_check_schema(conn, &e) != 0) {
        pa_error("%s", e.msg);
        goto out;
    }
    double last_success = 0;
    struct state_rows rows = {0};
    if (pa_findings_load_state(conn, state_cb, &rows, &last_success, &e) != 0) {
        pa_warn("cannot read the findings state (the gauges keep their last values): %s", e.msg);
        state_rows_free(&rows);
        goto out;
    }
    apply_state(d, &rows);
    state_rows_free(&rows);
    if (set_success && last_success > 0)
        pa_metric_set(d->success_ts, NULL, last_success);
    rc = 0;
out:
    PQfinish(conn);
    return rc;
}

static void obs_surface_start(void *arg, const struct pa_surface_result *r)
{
    struct daemon *d = arg;
    d->surface_no++;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_set(d->estimated, l, r->rows_estimated > 0 ? (double)r->rows_estimated : 0);
    pa_notify_status("scanning %s %zu/%zu", r->surface->name, d->surface_no, d->surfaces_n);
    watchdog(d);
}

static void obs_batch(void *arg, const struct pa_surface_result *r, long long rows, long long bytes)
{
    struct daemon *d = arg;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_add(d->rows, l, (double)rows);
    pa_metric_add(d->bytes, l, (double)bytes);
    watchdog(d);
}

static void obs_surface_done(void *arg, const struct pa_surface_result *r)
{
    struct daemon *d = arg;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_set(d->surface_up, l, r->status == PA_SURFACE_OK ? 1 : 0);
    pa_metric_set(d->surface_duration, l, r->duration);
    for (size_t i = 0; i < r->new_by_cat.n; i++) {
        const char *lc[] = {r->table, r->surface->column, r->new_by_cat.v[i].name};
        pa_metric_add(d->detected, lc, (double)r->new_by_cat.v[i].n);
    }
    for (size_t i = 0; i < r->resolved_by_cat.n; i++) {
        const char *lc[] = {r->table, r->surface->column, r->resolved_by_cat.v[i].name};
        pa_metric_add(d->resolved, lc, (double)r->resolved_by_cat.v[i].n);
    }
    if (r->status != PA_SURFACE_OK) {
        const char *lr[] = {pa_fail_reason_name(r->err.reason)};
        pa_metric_add(d->failures, lr, 1);
    }
    watchdog(d);
}

static void obs_tick(void *arg)
{
    watchdog(arg);
}

static void gr_warn(struct daemon *d, const char *why)
{
    if (!d->gr_warned)
        pa_warn("cannot read the guardrail counters (the series keep their last values): %s", why);
    d->gr_warned = true;
}

/* Read the guardrail's reject counters from the scanned database (pii_guardrail.reject_counts(), one cheap
 * catalog-sized query) into pii_audit_guardrail_rejects_total{table}. The guardrail not installed (no such schema
 * or function): no series, no error. A failure keeps the last values and is logged once, with the value-free
 * message of pa_db_exec (never the server's DETAIL). */
static void read_guardrail(struct daemon *d, PGconn *conn)
{
    struct pa_err e;
    PGresult *r = pa_db_exec(conn, "SELECT table_name, rejects FROM " PA_GUARDRAIL_COUNTS_FUNCTION " ORDER BY 1", 0,
                             NULL, PGRES_TUPLES_OK, &e);
    if (!r && (pa_err_sqlstate_is(&e, "42883") || pa_err_sqlstate_is(&e, "3F000"))) {
        if (d->gr_n)
            pa_info("the write-time guardrail is no longer installed: its reject counters are no longer exported");
        pa_metric_replace(d->guardrail_rejects, 0, NULL, NULL);
        d->gr_n = 0;
        d->gr_warned = false;
        return;
    }
    if (!r) {
        gr_warn(d, e.reason == PA_FAIL_PERMISSION ? "permission denied for " PA_GUARDRAIL_COUNTS_FUNCTION
                                                    " (grant it: pii-auditd --print-grants | psql)"
                                                  : e.msg);
        return;
    }
    /* The counters are mirrored as read: guarded tables that changed come and go with the family, and a counter
     * that went down (the guardrail removed and installed again) reads as a counter reset to Prometheus. */
    size_t n = (size_t)PQntuples(r);
    const char **tables = pa_xcalloc(n + 1, sizeof *tables);
    double *values = pa_xcalloc(n + 1, sizeof *values);
    for (size_t i = 0; i < n; i++) {
        tables[i] = PQgetvalue(r, (int)i, 0);
        values[i] = strtod(PQgetvalue(r, (int)i, 1), NULL);
    }
    pa_metric_replace(d->guardrail_rejects, n, tables, values);
    d->gr_n = n;
    free(tables);
    free(values);
    PQclear(r);
    d->gr_warned = false;
}

/* Connect, read, disconnect: a daemon between scans holds no connection (DBAs count them; the fault tests do). */
static void refresh_guardrail(struct daemon *d)
{
    d->gr_last = pa_now_monotonic();
    struct pa_err e;
    PGconn *conn = pa_db_open(d->cfg, PA_DB_SCANNED, &e);
    if (!conn) {
        pa_debug("guardrail counters not read: %s", e.msg);
        return;
    }
    read_guardrail(d, conn);
    PQfinish(conn);
}

/* One scan (full: every surface read from the start, SIGUSR2). Returns true when the database could be reached. */
static bool run_scan(struct daemon *d, const char *trigger, bool full)
{
    struct pa_scan_opts opts = {.trigger = trigger,
                                .full = full,
                                .stop = &sig_stop,
                                .observer = d,
                                .on_surface_start = obs_surface_start,
                                .on_batch = obs_batch,
                                .on_surface_done = obs_surface_done,
                                .on_tick = obs_tick};
    d->surface_no = 0;
    d->surfaces_n = d->cfg->n_surfaces;
    /* in_progress goes up before scans_total and down only after every metric of this scan is final, so a scrape
     * that sees scans_total moved and in_progress 0 sees the whole scan */
    pa_metric_set(d->in_progress, NULL, 1);
    pa_metric_add(d->scans, NULL, 1);
    pa_metric_set(d->start_ts, NULL, pa_now_wall());
    pa_notify_status("scanning (%s%s)", trigger, full ? ", full" : "");
    struct pa_scan_result res;
    pa_scan_run(d->cfg, d->det, &opts, &res);
    if (res.interrupted_runs > 0) {
        /* a killed or crashed pii-auditd cannot count its own failure: the run that finds it dead does */
        const char *lr[] = {pa_fail_reason_name(PA_FAIL_INTERRUPTED)};
        pa_metric_add(d->failures, lr, res.interrupted_runs);
    }
    bool reached = true;
    if (res.err.msg[0]) {
        pa_error("scan could not start: %s", res.err.msg);
        const char *lr[] = {pa_fail_reason_name(res.err.reason)};
        pa_metric_add(d->failures, lr, 1);
        reached = res.err.reason != PA_FAIL_CONNECT && res.err.reason != PA_FAIL_CONNECTION_LOST;
    } else {
        pa_metric_observe(d->duration, NULL, res.duration);
        if (res.failed == 0)
            pa_metric_set(d->success_ts, NULL, pa_now_wall());
    }
    bool db_up = reached;
    /* pii_audit_last_scan_new_findings comes from the store with the other gauges (the last ok or partial run) */
    if (reached && refresh_from_store(d, false, res.err.msg[0] != '\0') != 0)
        reached = false;
    atomic_store(&d->ready, reached);
    /* after the readiness update: a scrape that sees the database up again finds /ready agreeing */
    pa_metric_set(d->db_up, NULL, db_up ? 1 : 0);
    if (reached) /* after the readiness update: /ready must not wait for this */
        refresh_guardrail(d);
    pa_metric_set(d->in_progress, NULL, 0);
    pa_scan_result_free(&res);
    return reached;
}

static double jitter_of(const struct pa_config *c)
{
    return pa_config_jitter(c) * ((double)random() / (double)RAND_MAX);
}

static void reload(struct daemon *d, double *next, double last_end)
{
    pa_notify_reloading();
    pa_info("reloading the configuration from %s", d->path);
    char err[1024];
    struct pa_config *nc = NULL;
    struct pa_detector *nd = NULL;
    if (pa_config_load(d->path, &nc, err, sizeof err) != 0 || !(nd = pa_detect_new(&nc->detect, err, sizeof err))) {
        pa_error("reload refused, the running configuration stays: %s", err);
        pa_metric_set(d->reload_ok, NULL, 0);
        pa_config_free(nc);
        pa_notify_ready();
        return;
    }
    /* keys marked "restart" in the key table (all metrics.*): the running endpoint keeps its settings */
    const char *key = pa_config_reload_refused(d->cfg, nc);
    if (key)
        pa_warn("%s changed: the HTTP endpoint keeps its old settings until pii-auditd is restarted", key);
    double old_interval = d->cfg->interval;
    pa_detect_free(d->det);
    /* the HTTP thread only reads the registry, never the config: swapping here is safe */
    struct pa_web_config keep = d->cfg->web;
    d->cfg->web = nc->web; /* the running endpoint was built from the old web config: keep the old one alive */
    nc->web = keep;
    pa_config_free(d->cfg);
    d->cfg = nc;
    d->det = nd;
    pa_metric_set(d->reload_ok, NULL, 1);
    pa_metric_set(d->reload_ts, NULL, pa_now_wall());
    pa_metric_set(d->interval, NULL, nc->interval);
    if (nc->interval != old_interval)
        *next = last_end + nc->interval + jitter_of(nc);
    pa_info("configuration reloaded: %zu surfaces", nc->n_surfaces);
    pa_notify_ready();
}

int pa_daemon_run(const char *config_path, struct pa_config *cfg, struct pa_detector *det)
{
    struct daemon d = {.path = config_path, .cfg = cfg, .det = det};
    atomic_init(&d.ready, false);
    int rc = 1;
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    d.m = pa_metrics_new();
    register_metrics(&d);
    pa_metric_set(d.interval, NULL, cfg->interval);
    pa_metric_set(d.reload_ok, NULL, 1);
    pa_metric_set(d.reload_ts, NULL, pa_now_wall());
    pa_metric_set(d.db_up, NULL, 0);

    d.wd_period = pa_notify_watchdog_period();
    /* gauges from the store before the first scan, so a restart does not reset them */
    bool db = refresh_from_store(&d, true, true) == 0;
    pa_metric_set(d.db_up, NULL, db ? 1 : 0);
    if (db)
        refresh_guardrail(&d);
    atomic_store(&d.ready, db);
    /* serve only once the restored state is in the registry: the first scrape after a restart is already right */
    char err[512];
    d.http = pa_http_start(&cfg->web, d.m, is_ready, &d, err, sizeof err);
    if (!d.http) {
        pa_error("cannot start the metrics endpoint: %s", err);
        goto out;
    }
    /* http.c logs each listening address with its bound port */

    pa_notify_ready();
    pa_info("pii-auditd %s started: %zu surfaces, scan every %.0fs", PA_VERSION, cfg->n_surfaces, cfg->interval);

    double now = pa_now_monotonic();
    double next = now + d.cfg->initial_delay, last_end = now;
    double backoff = 0;
    if (!db)
        pa_notify_status("waiting for database");
    else
        pa_notify_status("idle, first scan in %.0fs", d.cfg->initial_delay);

    while (!sig_stop) {
        watchdog(&d);
        if (sig_reload) {
            sig_reload = 0;
            reload(&d, &next, last_end);
        }
        now = pa_now_monotonic();
        const char *trigger = NULL;
        bool full = false;
        if (sig_full_now) {
            /* a full scan also serves a pending SIGUSR1: it reads more than an incremental one would */
            sig_full_now = sig_scan_now = 0;
            trigger = "signal";
            full = true;
        } else if (sig_scan_now) {
            sig_scan_now = 0;
            trigger = "signal";
        } else if (now >= next) {
            trigger = "schedule";
        }
        if (trigger) {
            bool reached = run_scan(&d, trigger, full);
            last_end = pa_now_monotonic();
            if (sig_stop)
                break;
            if (reached) {
                backoff = 0;
                next = last_end + d.cfg->interval + jitter_of(d.cfg);
                pa_notify_status("idle, next scan in %.0fs", next - last_end);
            } else {
                /* capped exponential backoff while the database is away, never later than the schedule */
                backoff = backoff ? fmin(backoff * 2, 60) : 1;
                next = last_end + fmin(backoff, d.cfg->interval);
                pa_notify_status("waiting for database (retry in %.0fs)", next - last_end);
            }
        }
        if (!trigger && pa_now_monotonic() - d.gr_last >= GUARDRAIL_REFRESH_SECONDS)
            refresh_guardrail(&d);
        pa_sleep(0.2);
    }
    pa_notify_stopping();
    pa_notify_status("stopping");
    pa_info("stopping");
    rc = 0;
out:
    if (d.http)
        pa_http_stop(d.http);
    pa_metrics_free(d.m);
    pa_detect_free(d.det);
    pa_config_free(d.cfg);
    return rc;
}
