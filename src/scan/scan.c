/* scan: see scan.h. The coordinator, on the scanning thread: it checks each surface (catalog.c), plans what this
 * scan reads of it (the steps below), splits each step into ranges, queues them for the readers (reader.c), and
 * commits every batch they hand back: findings, resolutions, counters and the cursor in one transaction on the
 * findings store. This is the code that keeps "nothing lost, nothing duplicated, nothing called clean that was not
 * read": a cursor only moves over the committed prefix of a step (pa_scan_committed_prefix), the watermark only
 * when every step of an incremental scan was read and committed, a surface is reported ok only when every step
 * was, and a full pass resolves findings only at its end. It never sees a row: readers hand over findings (paths,
 * categories, rules, record ids) and counts.
 *
 * The steps of a surface's scan (docs/architecture.md, "Change detection"):
 *   changes   the rows changed since the watermark with a key up to the tail (last_id): by transaction id, one
 *             pass over the table by row location (or by changed_column, in its index's order); their findings
 *             not seen again are resolved (gone)
 *   new rels  relations (partitions, children) that joined the surface since the watermark, read whole
 *   tail      rows past last_id, in key order (inserts of ascending keys: the bulk of a busy table's changes)
 *   -> the watermark moves to this scan's; findings of records that no longer exist are resolved (deleted)
 *   full      every row, from the pass's position: a failed pass resumes at the next scan; at its end, findings
 *             not seen since the pass began are resolved (full_scan) */
#include "scan.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "scan/job.h"
#include "util.h"

const char *pa_scan_surface_status_name(enum pa_surface_status s)
{
    return s == PA_SURFACE_OK ? "ok" : s == PA_SURFACE_CANCELLED ? "cancelled" : "failed";
}

const char *pa_scan_run_status_name(const struct pa_scan_result *r)
{
    if (r->err.msg[0])
        return "failed";
    if (r->cancelled)
        return "cancelled";
    if (r->failed == 0)
        return "ok";
    return (size_t)r->failed == r->n ? "failed" : "partial";
}

const char *pa_scan_mode_name(bool full)
{
    return full ? "full" : "incremental";
}

#define UNREAD_LABEL(name, label) [PA_UNREAD_##name] = label,
static const char *const unread_names[PA_UNREAD_COUNT] = {PA_UNREAD_REASONS(UNREAD_LABEL)};
#undef UNREAD_LABEL

const char *pa_scan_unread_reason_name(enum pa_unread_reason r)
{
    return (unsigned)r < PA_UNREAD_COUNT ? unread_names[r] : "failed";
}

const char *pa_scan_committed_prefix(const struct id_range *ranges, const struct range_progress *progress, size_t n,
                                     const char *start)
{
    const char *cur = start;
    for (size_t k = 0; k < n; k++) {
        if (progress[k].complete) {
            cur = ranges[k].hi ? ranges[k].hi : progress[k].end ? progress[k].end : cur;
            continue;
        }
        if (progress[k].end)
            cur = progress[k].end;
        break;
    }
    return cur;
}

static const char *job_prefix(const struct surface_job *job)
{
    return pa_scan_committed_prefix(job->ranges, job->progress, job->read.n, job->after);
}

/* rows_pending: rows of the batch in flight, not yet added to r->rows */
static void progress_line(const struct pa_surface_result *r, double t0, long long rows_pending, bool final)
{
    long long done = r->rows + rows_pending;
    double el = pa_now_monotonic() - t0;
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32] = "?";
    if (r->rows_estimated > done && rate > 0)
        snprintf(eta, sizeof eta, "%.0fs", (double)(r->rows_estimated - done) / rate);
    else if (r->rows_estimated > 0)
        snprintf(eta, sizeof eta, "0s");
    fprintf(stderr, "\r\033[K%s.%s: %lld / ~%lld rows, %.0f rows/s, ETA %s%s", r->table, r->surface->column, done,
            r->rows_estimated > 0 ? r->rows_estimated : 0, rate, eta, final ? "\n" : "");
}

static bool want_surface(const struct pa_scan_opts *o, const struct pa_surface *s)
{
    if (!o->n_only)
        return true;
    for (size_t i = 0; i < o->n_only; i++)
        if (strcmp(o->only[i], s->name) == 0)
            return true;
    return false;
}

void pa_job_fail(struct pa_surface_result *r, enum pa_fail_reason reason, const char *msg)
{
    r->status = reason == PA_FAIL_CANCELLED ? PA_SURFACE_CANCELLED : PA_SURFACE_FAILED;
    r->err.reason = reason;
    if (msg)
        snprintf(r->err.msg, sizeof r->err.msg, "%s", msg);
}

/* A findings-store failure: a lost connection is reported as connection_lost (the server went away, as it would
 * for the scan connection when both are on one server), and so is a failure the store call classified as such (a
 * server shutting down answers 57P01 before libpq marks the connection bad: why); anything else is findings_store,
 * with the grants the role lacks when it was a permission error. */
static void fail_store_why(PGconn *store, struct pa_surface_result *r, struct pa_err *e, enum pa_fail_reason why)
{
    bool lost = !store || PQstatus(store) == CONNECTION_BAD || why == PA_FAIL_CONNECTION_LOST;
    pa_err_prefix(e, "findings store: ");
    if (!lost)
        pa_findings_explain_denied(store, e);
    pa_job_fail(r, lost ? PA_FAIL_CONNECTION_LOST : PA_FAIL_FINDINGS_STORE, e->msg);
}

void pa_job_fail_store(PGconn *store, struct pa_surface_result *r, struct pa_err *e)
{
    fail_store_why(store, r, e, PA_FAIL_NONE);
}

/* A queued range dropped (pa_pool_drop, under the pool's lock): the surface was not read in full. */
static void range_dropped(void *arg, struct read_job *rj)
{
    (void)arg;
    struct surface_job *job = job_of(rj);
    job->open--;
    if (!job->read_failed) {
        pa_job_fail(job->r, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
        job->read_failed = true;
    }
}

static void job_abort(struct scan_state *st, struct surface_job *job)
{
    pa_pool_drop(st->pool, &job->read, range_dropped, NULL);
}

/* The store session the surface's lock was taken on was replaced (it broke while another surface began): its lock
 * and its work on the store are gone. */
#define STORE_SESSION_LOST "the connection was lost during the scan (and the surface's lock with it)"
static bool store_session_lost(const struct scan_state *st, const struct surface_job *job)
{
    return job->store_gen != st->store_gen || !st->store_conn;
}

/* Record the surface in the run and take its lock (not in a dry run). False with the surface failed. */
static bool record_and_lock(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    struct pa_err e;
    /* record the surface first, so a surface that fails its checks has its outcome in scan_run_surfaces; the
     * mode is corrected when it finishes */
    struct pa_surface_key k = key_of(st, r);
    if (pa_findings_surface_start(st->store_conn, st->scan_id, &k, pa_scan_mode_name(st->opts->full), &e) != 0) {
        pa_job_fail_store(st->store_conn, r, &e);
        return false;
    }
    job->started = true;
    int l = pa_findings_lock_surface(st->store_conn, &k, &e);
    if (l != 1) {
        if (l == 0)
            pa_job_fail(r, PA_FAIL_BUSY, "another pii-auditd is scanning this surface (advisory lock held)");
        else
            pa_job_fail_store(st->store_conn, r, &e);
        return false;
    }
    job->locked = true;
    return true;
}

/* Record the surface, take its lock, check it, take its watermark, read its cursor and queue its first step.
 * Returns false when it ended before any read (a check or the store failed, or nothing to read): end_surface() is
 * due at once. */
static bool begin_surface(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    job->read.surface = s->name;
    job->read.info = &job->info;
    job->read.store = st->store_conn && !st->opts->dry_run;
    job->read.scan_id = st->scan_id;
    job->read.allow = pa_allowlist_for(&st->allow, r->table, s->column, &job->read.n_allow);
    job->t0 = job->last_print = pa_now_monotonic();
    job->store_gen = st->store_gen;

    if (st->store_conn && !st->opts->dry_run && !record_and_lock(st, job))
        return false;
    r->full = st->opts->full || st->opts->dry_run;
    int checked = pa_catalog_check(st->scan_conn, s, &job->info, &r->err);
    r->rows_estimated = job->info.estimate;
    if (checked != 0) {
        r->status = PA_SURFACE_FAILED;
        return false;
    }
    /* the watermark first: every row version older than it is visible to every batch that follows */
    if (pa_catalog_watermark(st->scan_conn, &job->info, &job->wm, &r->err) != 0) {
        r->status = PA_SURFACE_FAILED;
        return false;
    }
    snprintf(job->wm_text, sizeof job->wm_text, "%llu%s%s", job->wm.xid, job->wm.changed[0] ? " " : "",
             job->wm.changed);
    if (job->info.key == KEY_CTID && !pa_plan_relations(st, job))
        return false;
    if (!pa_plan_mode(st, job))
        return false;
    if (job->info.key != KEY_CTID && job->changes) {
        if (!pa_plan_relations(st, job))
            return false;
        for (size_t i = 0; i < job->rels.n; i++)
            if (job->rels.v[i].is_new && !job->rels.v[i].constraint) {
                /* an inheritance child (not a partition) joined: nothing prunes a scan to it, so the surface is
                 * read in full */
                pa_warn("%s: table %s joined the surface by inheritance since its last scan; reading the surface "
                        "in full",
                        s->name, job->rels.v[i].oid);
                pa_plan_fresh(st, job);
                break;
            }
    }
    if (s->changed_column) {
        /* changed_column, then the key: the order of its index, ties broken by the key */
        struct pa_order *o = &job->changed_order, *k = &job->info.key_order;
        o->n = k->n + 1;
        o->exprs = pa_xcalloc(o->n, sizeof *o->exprs);
        o->types = pa_xcalloc(o->n, sizeof *o->types);
        o->exprs[0] = pa_xasprintf("t.%s", job->info.qchanged);
        o->types[0] = pa_xstrdup(job->info.changed_type);
        for (size_t i = 0; i < k->n; i++) {
            o->exprs[i + 1] = pa_xstrdup(k->exprs[i]);
            o->types[i + 1] = pa_xstrdup(k->types[i]);
        }
    }
    const char *how = job->info.key == KEY_CTID ? "keyless, by row location"
                      : job->full_fresh         ? "full"
                      : job->full               ? "changes, tail, then the full scan resumed"
                                                : "changes and tail";
    pa_info("%s: %s scan started (%s; key %s %s, ~%lld rows, watermark %llu)", s->name, pa_scan_mode_name(r->full), how,
            job->info.id_column, job->info.id_type, job->info.estimate > 0 ? job->info.estimate : 0, job->wm.xid);
    if (st->opts->on_surface_start)
        st->opts->on_surface_start(st->opts->observer, r);
    return pa_plan_queue_next(st, job, STEP_CHANGES);
}

/* Commit a read batch: findings, resolutions, counters and the cursor (moved to the step's committed prefix) in one
 * transaction; in a dry run only counted. */
static void commit_batch(struct scan_state *st, struct surface_job *job, struct batch_result *b)
{
    struct pa_surface_result *r = job->r;
    bool reread = job->step == STEP_CHANGES || job->step == STEP_NEW_RELS;
    if (!job->read.store) {
        for (size_t i = 0; i < b->found.n; i++)
            pa_catcounts_add(&r->new_by_cat, b->found.v[i].name, b->found.v[i].n);
        return;
    }
    struct pa_batch_commit bc = {.scan_id = st->scan_id,
                                 .key = key_of(st, r),
                                 .id_column = job->info.id_column,
                                 .id_type = job->info.id_type,
                                 .move = job->move,
                                 .cursor = job->move != PA_MOVE_NONE ? job_prefix(job) : NULL,
                                 .watermark = job->move == PA_MOVE_TAIL ? job->wm_text : job->pass_watermark,
                                 .full_scan_id = job->pass_scan_id,
                                 .fingerprint = job->pass_fingerprint,
                                 .rows = b->rows,
                                 .bytes = b->bytes,
                                 .invalid_documents = b->invalid_documents,
                                 .truncated_records = b->truncated_records,
                                 .reread = reread ? b->rows : 0,
                                 .oversized = b->oversized};
    for (int i = 0; i < PA_FAIL_COUNT; i++)
        bc.retries += b->retries[i];
    struct pa_err e;
    int rc = -1;
    bool lost = store_session_lost(st, job);
    if (lost)
        pa_err_set(&e, PA_FAIL_NONE, STORE_SESSION_LOST);
    else
        rc = pa_findings_commit_batch(st->store_conn, &b->batch, &bc, &r->new_by_cat, &r->resolved_by_cat, &e);
    if (rc != 0) {
        fail_store_why(lost ? NULL : st->store_conn, r, &e, lost ? PA_FAIL_NONE : e.reason);
        job->store_failed = job->read_failed = true;
        job_abort(st, job);
    }
}

/* What a batch brought besides rows and bytes: the surface's oversized documents and retries, reported to the
 * observer as they come (a failed batch's retries count too). */
static void take_counts(struct scan_state *st, struct pa_surface_result *r, const struct batch_result *b)
{
    struct pa_scan_counts d = {.oversized = b->failed ? 0 : b->oversized};
    bool any = d.oversized > 0;
    for (int i = 0; i < PA_FAIL_COUNT; i++) {
        d.retries[i] = b->retries[i];
        r->retries[i] += b->retries[i];
        any = any || b->retries[i] > 0;
    }
    r->oversized_documents += d.oversized;
    if (any && st->opts->on_counts)
        st->opts->on_counts(st->opts->observer, r, &d);
}

/* A batch handed off by a reader: committed (or counted, in a dry run), or the surface's failure. */
static void take_batch(struct scan_state *st, struct batch_result *b)
{
    struct surface_job *job = job_of(b->job);
    struct pa_surface_result *r = job->r;
    double now = pa_now_monotonic();
    take_counts(st, r, b);
    if (b->failed && b->err.reason == PA_FAIL_CONNECT)
        pa_db_explain_refusal(st->cfg, &st->server, &b->err); /* a reader's connection refused for a limit */
    if (b->failed) {
        /* the first real failure names the surface's; a cancel only when nothing else went wrong */
        if (!job->read_failed || (r->err.reason == PA_FAIL_CANCELLED && b->err.reason != PA_FAIL_CANCELLED)) {
            if (!job->store_failed)
                pa_job_fail(r, b->err.reason, b->err.msg);
            job->read_failed = true;
        }
        job_abort(st, job);
    } else if (!job->store_failed) {
        struct range_progress *pg = &job->progress[b->range];
        if (b->end.len) {
            free(pg->end);
            pg->end = pa_xstrdup(b->end.data);
        }
        pg->complete = b->range_done;
        r->rows += b->rows;
        if (job->step == STEP_CHANGES || job->step == STEP_NEW_RELS)
            r->rows_reread += b->rows;
        r->bytes += b->bytes;
        r->invalid_documents += b->invalid_documents;
        r->truncated_records += b->truncated_records;
        commit_batch(st, job, b);
        if (!job->store_failed) {
            pa_debug("%s: batch of %lld rows committed (range %zu)", r->surface->name, b->rows, b->range);
            if (st->opts->on_batch)
                st->opts->on_batch(st->opts->observer, r, b->rows, b->bytes);
            if (st->opts->progress && (now - job->last_print > 0.5 || job->read.n == 1)) {
                job->last_print = now;
                progress_line(r, job->t0, 0, false);
            }
        }
    }
    if (b->failed || b->range_done)
        job->open--; /* the reader is done with this range */
}

/* Record a surface's outcome in scan_run_surfaces. */
static void record_outcome(const struct scan_state *st, PGconn *store, const struct pa_surface_result *r)
{
    struct pa_surface_key k = key_of(st, r);
    bool ok = r->status == PA_SURFACE_OK;
    struct pa_surface_outcome o = {.status = pa_scan_surface_status_name(r->status),
                                   .mode = pa_scan_mode_name(r->full),
                                   .error_class = ok ? NULL : pa_fail_reason_name(r->err.reason),
                                   .error_message = ok ? NULL : r->err.msg};
    for (int i = 0; i < PA_FAIL_COUNT; i++)
        o.retries += r->retries[i];
    struct pa_err e;
    if (pa_findings_surface_finish(store, st->scan_id, &k, &o, &e))
        pa_warn("%s: could not record the surface outcome: %s", r->surface->name, e.msg);
}

/* The store session the surface's lock is on, for a write at the end of a step; false with the surface failed. */
static bool store_for_step(struct scan_state *st, struct surface_job *job)
{
    if (!store_session_lost(st, job))
        return true;
    struct pa_err e;
    pa_err_set(&e, PA_FAIL_NONE, STORE_SESSION_LOST);
    fail_store_why(NULL, job->r, &e, PA_FAIL_CONNECTION_LOST);
    return false;
}

/* A statement on the scanning connection that a hot standby cancelled to replay WAL (recovery_conflict), as the
 * readers' batches are: wait (1 s doubling to 30 s; a stop request ends the wait) and say whether to run it again,
 * at most scan.retry_attempts times in a row. Each retry is logged (what: what is run again) and counted in the
 * surface's result and by the observer. */
static bool retry_on_scan_conn(struct scan_state *st, struct pa_surface_result *r, const struct pa_err *e, int *attempt,
                               const char *what)
{
    bool stopping = st->opts->stop && *st->opts->stop;
    if (e->reason != PA_FAIL_RECOVERY_CONFLICT || *attempt >= st->cfg->retry_attempts || stopping)
        return false;
    double wait = pa_retry_wait(*attempt);
    pa_warn("%s: %s; retry %d of %lld in %.0fs: %s", r->surface->name, e->msg, *attempt + 1, st->cfg->retry_attempts,
            wait, what);
    for (double until = pa_now_monotonic() + wait; pa_now_monotonic() < until;) {
        if (st->opts->stop && *st->opts->stop)
            return false;
        if (st->opts->on_tick)
            st->opts->on_tick(st->opts->observer);
        pa_sleep(0.1);
    }
    (*attempt)++;
    r->retries[PA_FAIL_RECOVERY_CONFLICT]++;
    struct pa_scan_counts d = {0};
    d.retries[PA_FAIL_RECOVERY_CONFLICT] = 1;
    if (st->opts->on_counts)
        st->opts->on_counts(st->opts->observer, r, &d);
    return true;
}

/* Findings of records that no longer exist: resolved (deleted). Every open finding's record is looked up by key in
 * pages of DELETED_PAGE record ids (one round trip to each database per page), so the cost follows the open
 * findings, not the table. */
#define DELETED_PAGE 1000
static bool resolve_deleted(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    struct pa_surface_key k = key_of(st, r);
    struct pa_buf ids;
    pa_buf_init(&ids);
    char *after = NULL;
    struct pa_err e;
    bool ok = true;
    for (;;) {
        int n;
        char *last = NULL;
        if (pa_findings_open_records(st->store_conn, &k, after, DELETED_PAGE, &ids, &n, &last, &e) != 0) {
            pa_job_fail_store(st->store_conn, r, &e);
            ok = false;
            break;
        }
        free(after);
        after = last;
        if (n == 0)
            break;
        PGresult *miss;
        int attempt = 0;
        while (!(miss = pa_catalog_missing_records(st->scan_conn, &job->info, ids.data, &e)) &&
               retry_on_scan_conn(st, r, &e, &attempt, "the lookup of deleted records again"))
            ;
        if (!miss) {
            if (e.sqlstate[0] == '2' && e.sqlstate[1] == '2') {
                /* a record id of another key (the key changed, its full scan is under way): that scan resolves
                 * them */
                pa_warn("%s: open findings with record ids of another key; the deleted records are found by the "
                        "next complete full scan",
                        r->surface->name);
                break;
            }
            pa_job_fail(r, e.reason, e.msg);
            ok = false;
            break;
        }
        if (PQntuples(miss) > 0) {
            struct pa_buf gone;
            pa_buf_init(&gone);
            pa_buf_appendc(&gone, '{');
            for (int i = 0; i < PQntuples(miss); i++) {
                const char *id = PQgetvalue(miss, i, 0);
                pa_buf_appends(&gone, i ? ",\"" : "\"");
                for (const char *c = id; *c; c++) {
                    if (*c == '"' || *c == '\\')
                        pa_buf_appendc(&gone, '\\');
                    pa_buf_appendc(&gone, *c);
                }
                pa_buf_appendc(&gone, '"');
            }
            pa_buf_appendc(&gone, '}');
            int rc = pa_findings_resolve_deleted(st->store_conn, st->scan_id, &k, gone.data, &r->resolved_by_cat, &e);
            pa_buf_free(&gone);
            if (rc != 0) {
                PQclear(miss);
                pa_job_fail_store(st->store_conn, r, &e);
                ok = false;
                break;
            }
        }
        PQclear(miss);
    }
    free(after);
    pa_buf_free(&ids);
    return ok;
}

/* A step read and committed whole: what its end brings. False with the surface failed. */
static bool finish_step(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    struct pa_err e;
    bool blocks = job->read.how == READ_BLOCKS;
    if (blocks) {
        /* block numbers meant the same rows from the step's start to its end only if no relation got a new file
         * (VACUUM FULL, CLUSTER, a rewrite) meanwhile: otherwise rows may have moved to blocks already read */
        int same = pa_catalog_rels_unchanged(st->scan_conn, &job->rels, &r->err);
        if (same <= 0) {
            if (same == 0)
                pa_job_fail(r, PA_FAIL_QUERY,
                            "the table was rewritten during the scan (VACUUM FULL, CLUSTER or a table rewrite): rows "
                            "may have moved; the next scan reads them again");
            else
                r->status = PA_SURFACE_FAILED;
            return false;
        }
    }
    bool store = st->store_conn && !st->opts->dry_run;
    if (job->step == STEP_FULL) {
        free(job->pass_end);
        job->pass_end = job_prefix(job) ? pa_xstrdup(job_prefix(job)) : NULL;
    }
    if (!store)
        return true;
    if (job->step == STEP_TAIL) {
        if (!store_for_step(st, job))
            return false;
        char kind[96];
        pa_plan_watermark_kind(s, kind, sizeof kind);
        char wx[32];
        snprintf(wx, sizeof wx, "%llu", job->wm.xid);
        struct pa_watermark_rec w = {.watermark = wx,
                                     .changed_watermark = s->changed_column ? job->wm.changed : NULL,
                                     .kind = kind,
                                     .relation_oid = atoll(job->info.oid)};
        struct pa_surface_key k = key_of(st, r);
        if (pa_findings_set_watermark(st->store_conn, st->scan_id, &k, job->info.id_column, job->info.id_type, &w,
                                      &e) != 0) {
            pa_job_fail_store(st->store_conn, r, &e);
            return false;
        }
        return resolve_deleted(st, job);
    }
    if (job->step == STEP_FULL) {
        if (!store_for_step(st, job))
            return false;
        char kind[96], wx[32];
        pa_plan_watermark_kind(s, kind, sizeof kind);
        const char *pw = job->pass_watermark ? job->pass_watermark : job->wm_text;
        snprintf(wx, sizeof wx, "%llu", pa_plan_wm_xid(pw));
        /* a pass begun before changed_column was set has no time to start from: no baseline then */
        bool baseline = job->baseline && (!s->changed_column || *pa_plan_wm_changed(pw));
        struct pa_watermark_rec w = {.watermark = wx,
                                     .changed_watermark = s->changed_column ? pa_plan_wm_changed(pw) : NULL,
                                     .kind = kind,
                                     .relation_oid = atoll(job->info.oid),
                                     .last_id = job->pass_end};
        struct pa_surface_key k = key_of(st, r);
        if (pa_findings_complete_full(st->store_conn, st->scan_id, job->pass_scan_id, &k, job->info.id_column,
                                      job->info.id_type, baseline ? &w : NULL, &r->resolved_by_cat, &r->full_duration,
                                      &e) != 0) {
            pa_job_fail_store(st->store_conn, r, &e);
            return false;
        }
    }
    return true;
}

/* The surface's state in the store after its scan: open findings, and oversized rows not read since its last
 * complete full pass. */
static void surface_state(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    struct pa_surface_key k = key_of(st, r);
    struct pa_err e;
    struct pa_cursor c;
    pa_findings_open_counts(st->store_conn, &k, &r->open_by_cat, &e);
    r->unread[PA_UNREAD_OVERSIZED] = -1;
    if (pa_findings_get_cursor(st->store_conn, &k, &c, &e) == 0) {
        r->unread[PA_UNREAD_OVERSIZED] = c.oversized_rows;
        pa_cursor_free(&c);
    }
}

/* The rows a failed scan of a surface did not get to, counted on the scanning connection when it still works (an
 * index-only count, bounded by statement_timeout): those after the position the step it failed in committed (the
 * position it started from when it committed nothing): the full pass's, or the tail's; a tail that failed before a
 * pass that was to resume: the pass's rest from its stored position. -1 when that cannot be known: change
 * detection's steps (the changed rows left are not counted), a keyless surface (no key to count by). */
static long long rows_not_reached(struct scan_state *st, struct surface_job *job)
{
    enum pa_fail_reason why = job->r->err.reason;
    /* not while stopping (the unit's stop timeout), nor where the count would wait as the batch did: on a server
     * that went away or got slow, or behind the same lock (a reader refused a connection is fine: this session is
     * up) */
    if (!job->ranges || !st->scan_conn || PQstatus(st->scan_conn) != CONNECTION_OK ||
        (st->opts->stop && *st->opts->stop) || why == PA_FAIL_CONNECTION_LOST || why == PA_FAIL_TIMEOUT ||
        why == PA_FAIL_LOCK_TIMEOUT || why == PA_FAIL_CANCELLED)
        return -1;
    const char *from;
    if (job->step == STEP_FULL)
        from = job_prefix(job);
    else if (job->step == STEP_TAIL)
        from = job->full ? job->cursor.full_pos : job_prefix(job);
    else
        return -1;
    long long n = -1;
    if (pa_catalog_count_after(st->scan_conn, &job->info, from, &n) != 0)
        return -1;
    return n;
}

/* Rows known not to have been read by this failed scan (PA_UNREAD_FAILED): a surface refused before any read (a
 * check: null_id, no key...) is its estimate (-1 when not known); a keyless pass cut short: its estimate less the
 * rows it read; else what rows_not_reached counts. */
static long long unread_failed(struct scan_state *st, struct surface_job *job, bool was_read)
{
    const struct pa_surface_result *r = job->r;
    if (!was_read)
        return r->rows_estimated > 0 ? r->rows_estimated : -1;
    if (job->info.key == KEY_CTID)
        return r->rows_estimated > r->rows ? r->rows_estimated - r->rows : -1;
    return rows_not_reached(st, job);
}

/* The surface's outcome: the recorded outcome, the lock released, the log line. */
static void end_surface(struct scan_state *st, struct surface_job *job, bool was_read)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    struct pa_surface_key k = key_of(st, r);
    bool same_store = !store_session_lost(st, job);
    if (was_read && !job->read_failed && job->step == STEP_END && r->status != PA_SURFACE_FAILED) {
        r->status = PA_SURFACE_OK;
    } else if (r->status == PA_SURFACE_OK) {
        pa_job_fail(r, r->err.reason != PA_FAIL_NONE ? r->err.reason : PA_FAIL_QUERY, NULL);
    }
    if (st->opts->progress && r->rows)
        progress_line(r, job->t0, 0, true);
    r->duration = pa_now_monotonic() - job->t0;
    /* coverage: a dry run read everything it could, and its oversized rows are all there are */
    r->unread[PA_UNREAD_OVERSIZED] = st->opts->dry_run ? r->oversized_documents : -1;
    /* rows known not to be read: none when ok; else what this scan did not get to (-1: not known) */
    r->unread[PA_UNREAD_FAILED] = r->status == PA_SURFACE_OK ? 0 : unread_failed(st, job, was_read);
    if (st->store_conn && PQstatus(st->store_conn) == CONNECTION_OK) {
        if (!st->opts->dry_run)
            surface_state(st, job);
        if (job->started)
            record_outcome(st, st->store_conn, r);
        if (job->locked && same_store)
            pa_findings_unlock_surface(st->store_conn, &k);
    }
    if (st->opts->dry_run) {
        /* nothing is stored: what this scan found is what is open */
        for (size_t i = 0; i < r->new_by_cat.n; i++)
            pa_catcounts_add(&r->open_by_cat, r->new_by_cat.v[i].name, r->new_by_cat.v[i].n);
    }
    if (r->status == PA_SURFACE_OK)
        pa_info("%s: %s scan done: %lld rows (%lld read again as changed), %lld bytes in %.2fs; %lld new, %lld "
                "resolved, %lld open findings",
                s->name, pa_scan_mode_name(r->full), r->rows, r->rows_reread, r->bytes, r->duration,
                pa_catcounts_total(&r->new_by_cat), pa_catcounts_total(&r->resolved_by_cat),
                pa_catcounts_total(&r->open_by_cat));
    else
        pa_error("%s: surface not scanned (%s): %s", s->name, pa_fail_reason_name(r->err.reason), r->err.msg);
    if (st->opts->on_surface_done)
        st->opts->on_surface_done(st->opts->observer, r);
    /* a surface whose connection broke must not take the next ones down: the scanning connection is renewed
     * before the next surface (the readers renew theirs after a failed range). Not after a refused connection
     * (reason connect): this session is up, and giving it back under a connection limit would hand its slot to a
     * reader and fail every surface after it. */
    if (r->err.reason == PA_FAIL_CONNECTION_LOST)
        st->renew_scan_conn = true;
}

static void job_free(struct surface_job *job)
{
    pa_plan_ranges_free(job);
    pa_cursor_free(&job->cursor);
    pa_catalog_info_free(&job->info);
    pa_catalog_rels_free(&job->rels);
    pa_order_free(&job->changed_order);
    free(job->pass_end);
}

/* Renew the scanning and store connections before a surface when they broke. Returns false with the surface
 * failed when one cannot be had. */
static bool surface_conns(struct scan_state *st, struct pa_surface_result *r, bool use_store)
{
    struct pa_err e;
    /* the readers have their own connections, so a server restart they saw leaves this idle one looking fine:
     * renew it after a lost connection too */
    if (!st->scan_conn || st->renew_scan_conn || PQstatus(st->scan_conn) != CONNECTION_OK) {
        PQfinish(st->scan_conn);
        st->scan_conn = pa_db_open(st->cfg, PA_DB_SCANNED, &e);
        if (!st->scan_conn) {
            pa_job_fail(r, e.reason, e.msg);
            return false; /* the next surface tries again */
        }
        st->renew_scan_conn = false;
    }
    if (use_store && (!st->store_conn || PQstatus(st->store_conn) != CONNECTION_OK)) {
        PQfinish(st->store_conn);
        st->store_gen++; /* locks and commits of surfaces begun on the old session are void */
        st->store_conn = pa_db_open(st->cfg, PA_DB_STORE, &e);
        if (!st->store_conn) {
            pa_job_fail(r, PA_FAIL_FINDINGS_STORE, e.msg);
            return false;
        }
    }
    return true;
}

/* Start surface r (job) when a reader is free: 1 when it is being read, 0 when it ended at once. */
static int start_surface(struct scan_state *st, struct surface_job *job, struct pa_surface_result *r, bool use_store)
{
    pa_log_set_context(r->surface->name, st->scan_id);
    if (st->opts->stop && *st->opts->stop) {
        pa_job_fail(r, PA_FAIL_CANCELLED, "stopped by a signal before the surface was read");
        return 0;
    }
    job->r = r;
    job->t0 = pa_now_monotonic();
    if (!surface_conns(st, r, use_store)) {
        end_surface(st, job, false); /* its outcome counted and logged like any failed surface's */
        job->r = NULL;
        return 0;
    }
    if (begin_surface(st, job))
        return 1;
    end_surface(st, job, false);
    job->r = NULL;
    return 0;
}

/* Scan the surfaces: the scanning thread starts a surface whenever a reader is idle and no range waits, and
 * commits the batches the readers hand off, of whichever surface. With scan.parallelism 1 the surfaces are read
 * one after the other on one reader; with N, up to N ranges of one or more surfaces at a time. */
static void scan_surfaces(struct scan_state *st, struct pa_scan_result *res)
{
    const struct pa_scan_opts *opts = st->opts;
    bool use_store = st->store_conn != NULL; /* false only for a dry run without a reachable store */
    if (pa_pool_size(st->pool) == 0) {
        for (size_t i = 0; i < res->n; i++)
            pa_job_fail(&res->surfaces[i], PA_FAIL_QUERY, "cannot start a reader thread");
        return;
    }
    struct surface_job *jobs = pa_xcalloc(res->n ? res->n : 1, sizeof *jobs);
    size_t next = 0, active = 0;
    double last_tick = pa_now_monotonic();
    for (;;) {
        bool can_start;
        struct batch_result *b = pa_pool_next(st->pool, next<res->n, active> 0 || next < res->n, &can_start);
        double now = pa_now_monotonic();
        if (now - last_tick > 1) {
            last_tick = now;
            if (opts->on_tick)
                opts->on_tick(opts->observer);
        }
        if (b) {
            pa_log_set_context(b->job->surface, st->scan_id);
            take_batch(st, b);
            pa_pool_release(st->pool, b);
        }
        if (opts->stop && *opts->stop)
            pa_pool_drop(st->pool, NULL, range_dropped, NULL);
        bool stepped = false; /* a surface queued its next step: can_start (asked before) no longer holds */
        for (size_t i = 0; i < next; i++) {
            struct surface_job *job = &jobs[i];
            if (job->r && job->ranges && job->open == 0) {
                pa_log_set_context(job->read.surface, st->scan_id);
                /* a step read whole: its end, then the next step, or the surface's end */
                if (!job->read_failed && finish_step(st, job) && pa_plan_queue_next(st, job, job->step + 1)) {
                    stepped = true;
                    continue;
                }
                end_surface(st, job, true);
                job->r = NULL; /* ended */
                active--;
            }
        }
        if (next < res->n && can_start && !stepped) {
            active += (size_t)start_surface(st, &jobs[next], &res->surfaces[next], use_store);
            next++;
        }
        pa_log_set_context(NULL, st->scan_id);
        if (next >= res->n && active == 0)
            break;
    }
    pa_pool_stop(st->pool); /* no reader touches a job any more */
    st->pool = NULL;
    for (size_t i = 0; i < res->n; i++)
        job_free(&jobs[i]);
    free(jobs);
}

/* The role's and the database's CONNECTION LIMIT against this configuration's budget: below it, readers will be
 * refused mid-scan; say so before. */
static void limits_check(const struct scan_state *st)
{
    struct pa_db_budget b;
    pa_db_budget(st->cfg, &b);
    int need = b.together ? pa_db_budget_total(&b) : b.scanned;
    const struct pa_db_server *s = &st->server;
    if (s->role_limit >= 0 && s->role_limit < need)
        pa_warn("role %s has CONNECTION LIMIT %d, below the %d sessions this configuration opens at once "
                "(scan.parallelism %lld): readers will be refused; ALTER ROLE %s CONNECTION LIMIT %d "
                "(pii-auditd --print-grants prints the budget)",
                s->role, s->role_limit, need, st->cfg->parallelism, s->role, need);
    if (s->database_limit >= 0 && s->database_limit < need)
        pa_warn("database %s has CONNECTION LIMIT %d, below the %d sessions this configuration opens at once "
                "(scan.parallelism %lld): readers will be refused",
                s->database, s->database_limit, need, st->cfg->parallelism);
}

/* The findings store and the scanned database for a run: their connections, the scanned database's identity and
 * its id in the store. 0, or -1 with res->err set (the scan cannot start). */
static int run_connect(struct scan_state *st, struct pa_scan_result *res)
{
    const struct pa_config *cfg = st->cfg;
    struct pa_err e;
    st->store_conn = pa_db_open(cfg, PA_DB_STORE, &e);
    if (!st->store_conn && !st->opts->dry_run) {
        pa_db_explain_refusal(cfg, NULL, &e);
        return pa_err_set(&res->err, e.reason, "cannot connect to the findings database: %s", e.msg);
    }
    if (st->store_conn && pa_findings_check_schema(st->store_conn, &e) != 0) {
        if (!st->opts->dry_run)
            return pa_err_set(&res->err, PA_FAIL_SCHEMA, "%s", e.msg);
        /* a dry run needs no store: read everything */
        PQfinish(st->store_conn);
        st->store_conn = NULL;
    }
    /* the allowlist applies to dry runs too when the store is there: they show what a scan would record */
    if (st->store_conn && pa_allowlist_load(st->store_conn, &st->allow, &e) != 0) {
        pa_findings_explain_denied(st->store_conn, &e);
        return pa_err_set(&res->err, e.reason, "cannot read the allowlist (pii_audit.allowlist): %s", e.msg);
    }
    st->scan_conn = pa_db_open(cfg, PA_DB_SCANNED, &e);
    if (!st->scan_conn) {
        pa_db_explain_refusal(cfg, NULL, &e);
        return pa_err_set(&res->err, e.reason, "cannot connect to the scanned database: %s", e.msg);
    }
    if (pa_db_describe(st->scan_conn, &st->server, &e) != 0)
        return pa_err_set(&res->err, e.reason, "cannot read the scanned database's identity: %s", e.msg);
    res->server = st->server;
    char ident[160];
    pa_db_identity_str(&st->server, ident, sizeof ident);
    limits_check(st);
    if (!st->store_conn)
        return 0;
    /* findings, cursors, runs and locks are this database's: a dry run only looks it up (it writes nothing) */
    bool adopted = false;
    if (pa_findings_database(st->store_conn, &st->server, !st->opts->dry_run, &st->database_id, &adopted, &e) != 0)
        return pa_err_set(&res->err, PA_FAIL_FINDINGS_STORE, "cannot record the scanned database %s: %s", ident, e.msg);
    if (adopted)
        pa_warn("the findings, cursors and scan runs recorded before findings schema version 2 are now database %s's "
                "(the first database scanned after the upgrade adopts them: docs/operations.md, \"Upgrade\")",
                ident);
    res->database_id = st->database_id;
    pa_debug("scanned database %s is database %d in the findings store", ident, st->database_id);
    return 0;
}

/* The selected surfaces, in configuration order. */
static void select_surfaces(const struct pa_config *cfg, const struct pa_scan_opts *opts, struct pa_scan_result *res)
{
    for (size_t i = 0; i < cfg->n_surfaces; i++)
        if (want_surface(opts, &cfg->surfaces[i]))
            res->n++;
    res->surfaces = pa_xcalloc(res->n ? res->n : 1, sizeof *res->surfaces);
    for (size_t i = 0, k = 0; i < cfg->n_surfaces; i++) {
        if (!want_surface(opts, &cfg->surfaces[i]))
            continue;
        res->surfaces[k].surface = &cfg->surfaces[i];
        res->surfaces[k].table = pa_xasprintf("%s.%s", cfg->surfaces[i].schema, cfg->surfaces[i].table);
        for (int u = 0; u < PA_UNREAD_COUNT; u++)
            res->surfaces[k].unread[u] = -1; /* not known until the surface ends */
        k++;
    }
}

/* The run's totals over its surfaces. */
static void run_totals(struct pa_scan_result *res, struct pa_run_totals *t)
{
    bool any_full = false, any_incr = false;
    const struct pa_surface_result *first = NULL;
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < res->n; i++) {
        struct pa_surface_result *r = &res->surfaces[i];
        t->rows += r->rows;
        t->bytes += r->bytes;
        t->new_findings += pa_catcounts_total(&r->new_by_cat);
        t->resolved_findings += pa_catcounts_total(&r->resolved_by_cat);
        t->invalid_documents += r->invalid_documents;
        t->oversized_documents += r->oversized_documents;
        for (int k = 0; k < PA_FAIL_COUNT; k++)
            t->retries += r->retries[k];
        res->open_total += pa_catcounts_total(&r->open_by_cat);
        if (r->full)
            any_full = true;
        else
            any_incr = true;
        if (r->status != PA_SURFACE_OK) {
            res->failed++;
            if (r->status == PA_SURFACE_CANCELLED)
                res->cancelled = true;
            if (!first)
                first = r;
        }
    }
    t->status = pa_scan_run_status_name(res);
    t->mode = any_full && any_incr ? "mixed" : pa_scan_mode_name(any_full);
    t->surfaces_failed = res->failed;
    t->error_class = first ? pa_fail_reason_name(first->err.reason) : NULL;
    t->error_message = first ? first->err.msg : NULL;
}

/* The run's end in the store: every failed surface's outcome again, then the run's totals. */
static void record_run(struct scan_state *st, const struct pa_scan_result *res, const struct pa_run_totals *t)
{
    struct pa_err e;
    if (!st->store_conn || PQstatus(st->store_conn) != CONNECTION_OK) {
        PQfinish(st->store_conn);
        st->store_conn = pa_db_open(st->cfg, PA_DB_STORE, &e);
    }
    if (!st->store_conn || PQstatus(st->store_conn) != CONNECTION_OK)
        return;
    /* a surface that lost the store connection could not record its outcome and would stay 'running' in a
     * finished run: record every failed surface's outcome again now (an idempotent UPDATE) */
    for (size_t i = 0; i < res->n; i++)
        if (res->surfaces[i].status != PA_SURFACE_OK)
            record_outcome(st, st->store_conn, &res->surfaces[i]);
    if (pa_findings_finish_run(st->store_conn, st->scan_id, t, &e) != 0)
        pa_warn("could not record the end of scan %lld: %s", st->scan_id, e.msg);
}

int pa_scan_run(const struct pa_config *cfg, const struct pa_detector *det, const struct pa_scan_opts *opts,
                struct pa_scan_result *res)
{
    memset(res, 0, sizeof *res);
    struct scan_state st = {.cfg = cfg, .opts = opts};
    double t0 = pa_now_monotonic();
    int rc = -1;
    /* This thread's own two sessions first, then the readers: they connect while this thread records the run and
     * checks the first surface (a backend's start is most of a small incremental scan). In that order a role's
     * CONNECTION LIMIT below the budget refuses readers (surfaces fail with the limit named, and are recorded),
     * never the scan's own sessions. */
    if (run_connect(&st, res) != 0)
        goto out;
    bool pooled = false;
    for (size_t i = 0; i < cfg->n_surfaces && !pooled; i++)
        pooled = want_surface(opts, &cfg->surfaces[i]);
    if (pooled) {
        struct pool_params pp = {
            .cfg = cfg, .det = det, .stop = opts->stop, .readers = cfg->parallelism > 1 ? (size_t)cfg->parallelism : 1};
        /* rows per batch: scan.batch_size, or less to keep a throttled step under a second */
        pp.limit = cfg->max_rows_per_second > 0 && cfg->max_rows_per_second < cfg->batch_size ? cfg->max_rows_per_second
                                                                                              : cfg->batch_size;
        st.pool = pa_pool_start(&pp);
    }
    select_surfaces(cfg, opts, res);
    if (!opts->dry_run) {
        struct pa_err e;
        st.scan_id = pa_findings_begin_run(st.store_conn, st.database_id, opts->trigger, pa_scan_mode_name(opts->full),
                                           (int)res->n, &res->interrupted_runs, &e);
        if (st.scan_id < 0) {
            pa_err_set(&res->err, PA_FAIL_FINDINGS_STORE, "cannot record the scan run: %s", e.msg);
            goto out;
        }
        res->scan_id = st.scan_id;
    }
    pa_log_set_context(NULL, st.scan_id);
    pa_info("scan %lld started (%s, %zu surfaces%s)", st.scan_id, opts->trigger, res->n,
            opts->dry_run ? ", dry run" : "");

    if (res->n)
        scan_surfaces(&st, res);

    struct pa_run_totals t;
    run_totals(res, &t);
    res->duration = pa_now_monotonic() - t0;
    if (!opts->dry_run)
        record_run(&st, res, &t);
    pa_info("scan %lld finished in %.2fs: %zu surfaces, %d failed, %lld rows, %lld new, %lld resolved, %lld open "
            "findings",
            st.scan_id, res->duration, res->n, res->failed, t.rows, t.new_findings, t.resolved_findings,
            res->open_total);
    rc = 0;
out:
    if (st.pool)
        pa_pool_stop(st.pool);
    pa_log_set_context(NULL, 0);
    if (st.scan_conn)
        PQfinish(st.scan_conn);
    if (st.store_conn)
        PQfinish(st.store_conn);
    pa_allowlist_free(&st.allow);
    return rc;
}

void pa_scan_result_free(struct pa_scan_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->surfaces[i].table);
        pa_catcounts_free(&r->surfaces[i].new_by_cat);
        pa_catcounts_free(&r->surfaces[i].resolved_by_cat);
        pa_catcounts_free(&r->surfaces[i].open_by_cat);
    }
    free(r->surfaces);
    memset(r, 0, sizeof *r);
}
