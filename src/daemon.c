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

/* The configured surfaces as metric labels (table "schema.table", column) and the categories findings can have (the
 * built-ins not disabled, and the custom ones of extra_keys and patterns), rebuilt at start and on reload. */
struct surfaces_now {
    char **keys; /* "schema.table" US column, sorted: the configured surfaces, for pa_metric_retain */
    size_t n;
    const char **categories;
    size_t n_categories;
};

/* A surface during a scan: its place in the scan's order, and what of its counts was exported already. */
struct scan_progress {
    size_t ord;
    long long invalid, truncated;
};

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
    struct pa_metric *findings, *contaminated, *detected, *resolved, *last_new, *duration, *surface_duration, *scans,
        *failures, *in_progress, *start_ts, *success_ts, *full_ts, *interval, *rows, *bytes, *estimated, *surface_up,
        *db_up, *reload_ok, *reload_ts, *build_info, *guardrail_rejects, *retries, *oversized, *unread, *db_info;
    /* issue 15: the scan duration by mode, invalid and truncated documents, per-surface progress and stuck inputs */
    struct pa_metric *duration_mode, *invalid, *truncated, *rows_read, *full_duration, *surface_in_progress,
        *surface_start_ts;
    struct surfaces_now now;        /* the configured surfaces and categories, for the series at zero and the removal */
    struct scan_progress *progress; /* per configured surface during a scan (cfg->surfaces order) */
    double status_last;             /* monotonic time of the last progress STATUS= */
    bool want_durations; /* the full scan durations are to be read from the store (at start, after a reload) */
    /* the scanned database: its identity (from the last scan, or asked at start) and its id in the findings store;
     * the store's gauges are read for this database only */
    struct pa_db_server server;
    int database_id;
    /* guardrail counters: read on a short scanned-database session (none is kept open between scans) */
    size_t gr_n;    /* series currently exported */
    double gr_last; /* monotonic time of the last read */
    bool gr_warned; /* the "cannot read" warning was logged (once until it works again) */
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
    static const char *const tcr[] = {"table", "column", "reason"};
    static const char *const dbinfo[] = {"database", "system_identifier"};
    static const char *const build[] = {"version", "revision"};
    static const double buckets[] = {0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200};
    /* up to a day: a full scan of a large table takes hours, an incremental one a second */
    static const double mode_buckets[] = {0.1, 0.5, 1,    5,    10,   30,    60,    120,
                                          300, 600, 1800, 3600, 7200, 14400, 28800, 86400};
    struct pa_metrics *m = d->m;
#define REG(name, help, type, n, labels) pa_metrics_register(m, name, help, type, n, labels, NULL, 0)
    d->findings = REG("pii_audit_findings", "Open PII findings (not resolved) by surface and category.",
                      PA_METRIC_GAUGE, 3, tcc);
    d->contaminated = REG("pii_audit_contaminated_records", "Distinct records with open PII findings.", PA_METRIC_GAUGE,
                          2, tc);
    d->detected = REG("pii_audit_findings_detected_total", "Findings newly detected by scans.", PA_METRIC_COUNTER, 3,
                      tcc);
    d->resolved = REG("pii_audit_findings_resolved_total",
                      "Findings resolved by full scans (record changed or deleted).", PA_METRIC_COUNTER, 3, tcc);
    d->last_new = REG("pii_audit_last_scan_new_findings", "New findings in the last completed scan.", PA_METRIC_GAUGE,
                      0, NULL);
    d->duration = pa_metrics_register(m, "pii_audit_scan_duration_seconds", "Duration of whole scans.",
                                      PA_METRIC_HISTOGRAM, 0, NULL, buckets, PA_ARRAY_LEN(buckets));
    d->surface_duration = REG("pii_audit_surface_scan_duration_seconds", "Duration of the last scan of a surface.",
                              PA_METRIC_GAUGE, 2, tc);
    d->scans = REG("pii_audit_scans_total", "Scans attempted.", PA_METRIC_COUNTER, 0, NULL);
    d->failures = REG("pii_audit_scan_failures_total",
                      "Scan failures by reason (a surface that could not be scanned, or a scan that could not start).",
                      PA_METRIC_COUNTER, 1, reason);
    d->in_progress = REG("pii_audit_scan_in_progress", "1 while a scan is running.", PA_METRIC_GAUGE, 0, NULL);
    d->start_ts = REG("pii_audit_scan_start_timestamp_seconds", "Start of the running or last scan.", PA_METRIC_GAUGE,
                      0, NULL);
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
    d->db_up = REG("pii_audit_database_up", "1 when the database answered the last attempt.", PA_METRIC_GAUGE, 0, NULL);
    d->reload_ok = REG("pii_audit_config_last_reload_successful", "1 when the last configuration load succeeded.",
                       PA_METRIC_GAUGE, 0, NULL);
    d->reload_ts = REG("pii_audit_config_last_reload_success_timestamp_seconds",
                       "Time of the last successful configuration load.", PA_METRIC_GAUGE, 0, NULL);
    d->guardrail_rejects = REG(
        "pii_audit_guardrail_rejects_total",
        "Writes rejected by the write-time guardrail triggers (pii-auditd --print-guardrail-sql), "
        "by table; read from the scanned database.",
        PA_METRIC_COUNTER, 1, (const char *const[]){"table"});
    d->retries = REG(
        "pii_audit_scan_retries_total",
        "Batches read again after a failure worth a retry, by its reason (recovery_conflict: a hot standby "
        "cancelled the query).",
        PA_METRIC_COUNTER, 3, tcr);
    d->oversized = REG("pii_audit_documents_oversized_total",
                       "Rows whose document was not fetched: stored in more than scan.max_document_bytes.",
                       PA_METRIC_COUNTER, 2, tc);
    d->unread = REG("pii_audit_surface_rows_unread",
                    "Rows of a surface known not to have been read, by reason (oversized: since its last complete full "
                    "scan; failed: after the position its last, failed scan reached; NaN: not known).",
                    PA_METRIC_GAUGE, 3, tcr);
    d->db_info = REG("pii_audit_database_info",
                     "The scanned database (name, cluster system identifier): the value is always 1.", PA_METRIC_GAUGE,
                     2, dbinfo);
    d->duration_mode = pa_metrics_register(m, "pii_audit_scan_duration_by_mode_seconds",
                                           "Duration of whole scans by mode (full, incremental, or mixed: some "
                                           "surfaces of each).",
                                           PA_METRIC_HISTOGRAM, 1, (const char *const[]){"mode"}, mode_buckets,
                                           PA_ARRAY_LEN(mode_buckets));
    d->invalid = REG("pii_audit_documents_invalid_total",
                     "Documents read that are not valid JSON (scanned as text all the same).", PA_METRIC_COUNTER, 2,
                     tc);
    d->truncated = REG("pii_audit_documents_truncated_total",
                       "Documents with more findings than scan.max_findings_per_record (the rest not recorded).",
                       PA_METRIC_COUNTER, 2, tc);
    d->rows_read = REG("pii_audit_surface_rows_read",
                       "Rows of a surface read by its running scan, or by its last one (progress: compare with "
                       "pii_audit_surface_rows_estimated).",
                       PA_METRIC_GAUGE, 2, tc);
    d->full_duration = REG("pii_audit_surface_full_scan_duration_seconds",
                           "Duration of the last complete full scan of a surface (read back from the findings store "
                           "at start).",
                           PA_METRIC_GAUGE, 2, tc);
    d->surface_in_progress = REG("pii_audit_surface_scan_in_progress", "1 while a surface is being read.",
                                 PA_METRIC_GAUGE, 2, tc);
    d->surface_start_ts = REG("pii_audit_surface_scan_start_timestamp_seconds",
                              "Start of the running or last scan of a surface.", PA_METRIC_GAUGE, 2, tc);
    d->build_info = REG("pii_audit_build_info", "Build information; the value is always 1.", PA_METRIC_GAUGE, 2, build);
#undef REG
    const char *bv[] = {PA_VERSION, PA_REVISION};
    pa_metric_set(d->build_info, bv, 1);
    /* every reason exists from the start at 0, so increase() sees a reason's first failure */
    for (int r = PA_FAIL_NONE + 1; r < PA_FAIL_COUNT; r++) {
        const char *lr[] = {pa_fail_reason_name((enum pa_fail_reason)r)};
        pa_metric_add(d->failures, lr, 0);
    }
    for (int mode = 0; mode < 3; mode++) {
        const char *lm[] = {mode == 0 ? "full" : mode == 1 ? "incremental" : "mixed"};
        pa_metric_touch(d->duration_mode, lm);
    }
}

/* ---- the configured surfaces and categories ------------------------------------------------------------------ */

#define KEY_SEP '\x1f' /* between table and column in a surface key: never in a name (control characters are refused) */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *surface_key(const char *table, const char *column)
{
    return pa_xasprintf("%s%c%s", table, KEY_SEP, column);
}

static void surfaces_now_free(struct surfaces_now *sn)
{
    for (size_t i = 0; i < sn->n; i++)
        free(sn->keys[i]);
    free(sn->keys);
    free(sn->categories);
    memset(sn, 0, sizeof *sn);
}

static bool has_category(const struct surfaces_now *sn, const char *c)
{
    for (size_t i = 0; i < sn->n_categories; i++)
        if (strcmp(sn->categories[i], c) == 0)
            return true;
    return false;
}

static void add_category(struct surfaces_now *sn, const char *c)
{
    if (has_category(sn, c))
        return;
    sn->categories = pa_xrealloc(sn->categories, (sn->n_categories + 1) * sizeof *sn->categories);
    sn->categories[sn->n_categories++] = c; /* the config's or the detector's string: lives as long as cfg */
}

/* The surfaces and categories of cfg (the strings of categories point into cfg, which outlives sn). */
static void surfaces_now_build(struct surfaces_now *sn, const struct pa_config *cfg)
{
    surfaces_now_free(sn);
    sn->keys = pa_xcalloc(cfg->n_surfaces + 1, sizeof *sn->keys);
    for (size_t i = 0; i < cfg->n_surfaces; i++) {
        char *t = pa_xasprintf("%s.%s", cfg->surfaces[i].schema, cfg->surfaces[i].table);
        sn->keys[sn->n++] = surface_key(t, cfg->surfaces[i].column);
        free(t);
    }
    qsort(sn->keys, sn->n, sizeof *sn->keys, cmp_str);
    const struct pa_detect_options *o = &cfg->detect;
    for (int c = 0; c < PA_CAT_BUILTIN_COUNT; c++) {
        const char *name = pa_category_name(c);
        bool off = false;
        for (size_t k = 0; k < o->n_disable && !off; k++)
            off = strcmp(o->disable[k], name) == 0;
        if (!off)
            add_category(sn, name);
    }
    for (size_t k = 0; k < o->n_extra_keys; k++)
        add_category(sn, o->extra_keys[k].category);
    for (size_t k = 0; k < o->n_patterns; k++)
        add_category(sn, o->patterns[k].category);
}

static bool is_configured(const struct surfaces_now *sn, const char *table, const char *column)
{
    char *k = surface_key(table, column);
    bool found = bsearch(&k, sn->keys, sn->n, sizeof *sn->keys, cmp_str) != NULL;
    free(k);
    return found;
}

/* pa_metric_retain's predicate for the families labelled (table, column, ...). */
static bool keep_configured(void *arg, const char *const *labels)
{
    return is_configured(arg, labels[0], labels[1]);
}

/* The labels of every configured surface, in configuration order. */
static void surface_labels(const struct pa_surface *s, char *table, size_t cap, const char **l)
{
    snprintf(table, cap, "%s.%s", s->schema, s->table);
    l[0] = table;
    l[1] = s->column;
}

/* After start and every reload: the series of surfaces no longer configured go (their findings are not exported:
 * PIIAuditContaminationDetected would fire for ever for a surface nobody scans), and every configured surface's
 * counters exist at 0 (per category for the findings counters), so that increase() sees their first change; the
 * per-surface gauges whose 0 is true before a scan (in progress, rows read) too. Gauges whose 0 would be a claim
 * (surface_up, the durations, the estimate) stay absent until a scan or the store sets them. */
static void seed_series(struct daemon *d)
{
    struct pa_metric *per_surface[] = {d->findings,
                                       d->contaminated,
                                       d->detected,
                                       d->resolved,
                                       d->surface_duration,
                                       d->full_ts,
                                       d->rows,
                                       d->bytes,
                                       d->estimated,
                                       d->surface_up,
                                       d->retries,
                                       d->oversized,
                                       d->unread,
                                       d->invalid,
                                       d->truncated,
                                       d->rows_read,
                                       d->full_duration,
                                       d->surface_in_progress,
                                       d->surface_start_ts};
    for (size_t i = 0; i < PA_ARRAY_LEN(per_surface); i++)
        pa_metric_retain(per_surface[i], keep_configured, &d->now);
    /* the counters, and the two gauges whose 0 is true before a scan */
    struct pa_metric *at_zero[] = {d->rows,      d->bytes,     d->oversized,          d->invalid,
                                   d->truncated, d->rows_read, d->surface_in_progress};
    for (size_t i = 0; i < d->cfg->n_surfaces; i++) {
        char table[300];
        const char *l[3];
        surface_labels(&d->cfg->surfaces[i], table, sizeof table, l);
        for (size_t k = 0; k < PA_ARRAY_LEN(at_zero); k++)
            pa_metric_touch(at_zero[k], l);
        l[2] = pa_fail_reason_name(PA_FAIL_RECOVERY_CONFLICT);
        pa_metric_touch(d->retries, l);
        for (size_t c = 0; c < d->now.n_categories; c++) {
            l[2] = d->now.categories[c];
            pa_metric_touch(d->detected, l);
            pa_metric_touch(d->resolved, l);
        }
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
    /* a 0 for every configured surface (and category) first, then the store's rows: in pa_metric_replace a later row
     * with the same labels wins, so the store's value replaces the 0 where it has one */
    size_t ns = d->cfg->n_surfaces, nsc = ns * d->now.n_categories;
    const char **fl = pa_xcalloc((rows->n + nsc) * 3 + 1, sizeof *fl);
    const char **cl = pa_xcalloc((rows->n + ns) * 2 + 1, sizeof *cl);
    double *fv = pa_xcalloc(rows->n + nsc + 1, sizeof *fv), *cv = pa_xcalloc(rows->n + ns + 1, sizeof *cv);
    char(*tables)[300] = pa_xcalloc(ns + 1, sizeof *tables);
    size_t nf = 0, nc = 0;
    for (size_t i = 0; i < ns; i++) {
        const char *l[2];
        surface_labels(&d->cfg->surfaces[i], tables[i], sizeof tables[i], l);
        cl[nc * 2] = l[0], cl[nc * 2 + 1] = l[1], cv[nc++] = 0;
        for (size_t c = 0; c < d->now.n_categories; c++)
            fl[nf * 3] = l[0], fl[nf * 3 + 1] = l[1], fl[nf * 3 + 2] = d->now.categories[c], fv[nf++] = 0;
    }
    for (size_t i = 0; i < rows->n; i++) {
        const struct state_row *r = &rows->v[i];
        /* a surface removed from the configuration: its findings are not exported (resolve them: metrics.md) */
        if (r->table && r->column && !is_configured(&d->now, r->table, r->column))
            continue;
        if (strcmp(r->kind, "full_duration") == 0 && r->table && r->column) {
            const char *l[] = {r->table, r->column};
            pa_metric_set(d->full_duration, l, r->value);
        } else if (strcmp(r->kind, "open") == 0 && r->table && r->column && r->category) {
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
        } else if (strcmp(r->kind, "oversized") == 0 && r->table && r->column) {
            const char *l[] = {r->table, r->column, pa_scan_unread_reason_name(PA_UNREAD_OVERSIZED)};
            pa_metric_set(d->unread, l, r->value);
        }
    }
    pa_metric_replace(d->findings, nf, fl, fv);
    pa_metric_replace(d->contaminated, nc, cl, cv);
    free(tables);
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

/* The scanned database's identity, pii_audit_database_info: one series, replaced when the identity changes (a
 * reload pointed database.conninfo elsewhere). */
static void set_server(struct daemon *d, const struct pa_db_server *s)
{
    if (!s->database[0])
        return;
    if (strcmp(s->database, d->server.database) != 0 || strcmp(s->system_identifier, d->server.system_identifier))
        d->database_id = 0; /* another database: its id in the store is looked up anew */
    d->server = *s;
    const char *l[] = {s->database, s->system_identifier};
    double one = 1;
    pa_metric_replace(d->db_info, 1, l, &one);
}

/* Ask the scanned database who it is (at start: before the first scan, the store's gauges must be this database's).
 * A short session, closed at once. */
static void describe_scanned(struct daemon *d)
{
    struct pa_err e;
    PGconn *conn = pa_db_open(d->cfg, PA_DB_SCANNED, &e);
    if (!conn) {
        pa_debug("scanned database not described: %s", e.msg);
        return;
    }
    struct pa_db_server s;
    if (pa_db_describe(conn, &s, &e) == 0)
        set_server(d, &s);
    else
        pa_warn("cannot read the scanned database's identity: %s", e.msg);
    PQfinish(conn);
}

/* This database's id in the store, for its gauges: known from a scan, else looked up (never created: the store
 * session is read-only), else the store's only database (the scanned one unreachable at start). 0: not known. */
static int store_database_id(struct daemon *d, PGconn *conn, struct pa_err *e)
{
    bool known = d->server.database[0], adopted;
    int id = 0;
    if (known ? pa_findings_database(conn, &d->server, false, &id, &adopted, e)
              : pa_findings_only_database(conn, &id, e))
        return -1;
    if (known)
        d->database_id = id; /* the only one is a guess for now, not kept */
    return id;
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
    int id = d->database_id;
    if (id == 0 && (id = store_database_id(d, conn, &e)) < 0) {
        pa_warn("cannot read the findings state (the gauges keep their last values): %s", e.msg);
        goto out;
    }
    if (id == 0) {
        /* the scanned database is known and the store has nothing of it (never scanned into it): no findings, so
         * its surfaces' gauges are 0; not known (a fleet's store while the scanned database is away): the gauges
         * keep what they have, since nothing known is not the same as no findings */
        if (d->server.database[0]) {
            struct state_rows none = {0};
            apply_state(d, &none);
        }
        rc = 0;
        goto out;
    }
    double last_success = 0;
    struct state_rows rows = {0};
    if (pa_findings_load_state(conn, id, state_cb, &rows, &last_success, &e) != 0 ||
        (d->want_durations && pa_findings_load_full_durations(conn, id, state_cb, &rows, &e) != 0)) {
        pa_warn("cannot read the findings state (the gauges keep their last values): %s", e.msg);
        state_rows_free(&rows);
        goto out;
    }
    d->want_durations = false;
    apply_state(d, &rows);
    state_rows_free(&rows);
    if (set_success && last_success > 0)
        pa_metric_set(d->success_ts, NULL, last_success);
    rc = 0;
out:
    PQfinish(conn);
    return rc;
}

/* A surface's progress record (r->surface points into the running configuration's surfaces). */
static struct scan_progress *progress_of(struct daemon *d, const struct pa_surface_result *r)
{
    return &d->progress[r->surface - d->cfg->surfaces];
}

/* "1234567" -> "1,234,567": STATUS= is read by people (systemctl status). */
static void thousands(long long v, char *out, size_t cap)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%lld", v < 0 ? 0 : v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* STATUS=scanning public.events.payload 2/5: 120,000 / ~1,000,000 rows (at most once a second while reading). */
static void progress_status(struct daemon *d, const struct pa_surface_result *r, bool now)
{
    double t = pa_now_monotonic();
    if (!now && t - d->status_last < 1)
        return;
    d->status_last = t;
    char done[32], est[32];
    thousands(r->rows, done, sizeof done);
    thousands(r->rows_estimated, est, sizeof est);
    pa_notify_status("scanning %s %zu/%zu: %s / ~%s rows", r->surface->name, progress_of(d, r)->ord, d->surfaces_n,
                     done, est);
}

/* The invalid and truncated documents of r not exported yet (r counts this scan's committed batches). */
static void export_doc_counts(struct daemon *d, const struct pa_surface_result *r)
{
    struct scan_progress *p = progress_of(d, r);
    const char *l[] = {r->table, r->surface->column};
    pa_metric_add(d->invalid, l, (double)(r->invalid_documents - p->invalid));
    pa_metric_add(d->truncated, l, (double)(r->truncated_records - p->truncated));
    p->invalid = r->invalid_documents;
    p->truncated = r->truncated_records;
}

static void obs_surface_start(void *arg, const struct pa_surface_result *r)
{
    struct daemon *d = arg;
    d->surface_no++;
    progress_of(d, r)->ord = d->surface_no;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_set(d->estimated, l, r->rows_estimated > 0 ? (double)r->rows_estimated : 0);
    pa_metric_set(d->rows_read, l, 0);
    pa_metric_set(d->surface_start_ts, l, pa_now_wall());
    pa_metric_set(d->surface_in_progress, l, 1); /* last: a scrape seeing 1 sees its start too */
    progress_status(d, r, true);
    watchdog(d);
}

static void obs_batch(void *arg, const struct pa_surface_result *r, long long rows, long long bytes)
{
    struct daemon *d = arg;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_add(d->rows, l, (double)rows);
    pa_metric_add(d->bytes, l, (double)bytes);
    pa_metric_add(d->rows_read, l, (double)rows);
    export_doc_counts(d, r);
    progress_status(d, r, false);
    watchdog(d);
}

static void obs_surface_done(void *arg, const struct pa_surface_result *r)
{
    struct daemon *d = arg;
    const char *l[] = {r->table, r->surface->column};
    pa_metric_set(d->surface_up, l, r->status == PA_SURFACE_OK ? 1 : 0);
    pa_metric_set(d->surface_duration, l, r->duration);
    /* the stuck-scan threshold's base: a complete full scan's own duration (partial or failed ones say nothing); a
     * pass that resumed took the time of all its runs (full_duration), not of this one only */
    if (r->status == PA_SURFACE_OK && r->full)
        pa_metric_set(d->full_duration, l, r->full_duration > 0 ? r->full_duration : r->duration);
    export_doc_counts(d, r);
    pa_metric_set(d->surface_in_progress, l, 0);
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
    /* coverage; a surface that failed its checks was never read: its oversized count stays as it was */
    for (int u = 0; u < PA_UNREAD_COUNT; u++) {
        if (u == PA_UNREAD_OVERSIZED && r->unread[u] < 0)
            continue;
        const char *lu[] = {r->table, r->surface->column, pa_scan_unread_reason_name((enum pa_unread_reason)u)};
        pa_metric_set(d->unread, lu, r->unread[u] >= 0 ? (double)r->unread[u] : NAN);
    }
    watchdog(d);
}

static void obs_counts(void *arg, const struct pa_surface_result *r, const struct pa_scan_counts *delta)
{
    struct daemon *d = arg;
    const char *l[] = {r->table, r->surface->column};
    if (delta->oversized > 0)
        pa_metric_add(d->oversized, l, (double)delta->oversized);
    for (int i = 0; i < PA_FAIL_COUNT; i++) {
        if (delta->retries[i] <= 0)
            continue;
        const char *lr[] = {r->table, r->surface->column, pa_fail_reason_name((enum pa_fail_reason)i)};
        pa_metric_add(d->retries, lr, (double)delta->retries[i]);
    }
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

/* The mode of a whole scan, as scan_runs.mode writes it: full, incremental, or mixed (surfaces of both). */
static const char *scan_mode(const struct pa_scan_result *res)
{
    bool any_full = false, any_incr = false;
    for (size_t i = 0; i < res->n; i++) {
        any_full = any_full || res->surfaces[i].full;
        any_incr = any_incr || !res->surfaces[i].full;
    }
    return any_full && any_incr ? "mixed" : pa_scan_mode_name(any_full);
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
                                .on_counts = obs_counts,
                                .on_tick = obs_tick};
    d->surface_no = 0;
    d->surfaces_n = d->cfg->n_surfaces;
    free(d->progress);
    d->progress = pa_xcalloc(d->cfg->n_surfaces + 1, sizeof *d->progress);
    /* in_progress goes up before scans_total and down only after every metric of this scan is final, so a scrape
     * that sees scans_total moved and in_progress 0 sees the whole scan */
    pa_metric_set(d->in_progress, NULL, 1);
    pa_metric_add(d->scans, NULL, 1);
    pa_metric_set(d->start_ts, NULL, pa_now_wall());
    pa_notify_status("scanning (%s%s)", trigger, full ? ", full" : "");
    struct pa_scan_result res;
    pa_scan_run(d->cfg, d->det, &opts, &res);
    set_server(d, &res.server);
    if (res.database_id > 0)
        d->database_id = res.database_id;
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
        const char *lm[] = {scan_mode(&res)};
        pa_metric_observe(d->duration_mode, lm, res.duration);
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
    for (size_t i = 0; i < d->cfg->n_surfaces; i++) { /* a surface the scan never reached was never set to 1 */
        char table[300];
        const char *l[2];
        surface_labels(&d->cfg->surfaces[i], table, sizeof table, l);
        pa_metric_set(d->surface_in_progress, l, 0);
    }
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
    pa_log_set_format((enum pa_log_format)pa_log_format_parse(nc->log_format));
    /* the surfaces' series follow the new configuration: removed ones go, new ones exist at 0, and the gauges of the
     * store (findings of the surfaces now configured, their full scan durations) are read again */
    surfaces_now_build(&d->now, d->cfg);
    seed_series(d);
    d->want_durations = true;
    pa_metric_set(d->reload_ok, NULL, 1);
    pa_metric_set(d->reload_ts, NULL, pa_now_wall());
    pa_metric_set(d->interval, NULL, nc->interval);
    if (nc->interval != old_interval)
        *next = last_end + nc->interval + jitter_of(nc);
    pa_info("configuration reloaded: %zu surfaces", nc->n_surfaces);
    pa_notify_ready();
    /* after READY=1: systemctl reload does not wait for the database */
    refresh_from_store(d, false, false);
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
    surfaces_now_build(&d.now, cfg);
    seed_series(&d);
    d.want_durations = true;

    d.wd_period = pa_notify_watchdog_period();
    /* gauges from the store before the first scan, so a restart does not reset them: this database's */
    describe_scanned(&d);
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
    surfaces_now_free(&d.now);
    free(d.progress);
    pa_detect_free(d.det);
    pa_config_free(d.cfg);
    return rc;
}
