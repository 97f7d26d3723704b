/* scan/reader: the scan's reader threads (see reader.h for the hand-off). Each reads id ranges of any surface in
 * pipelined keyset batches of
 *   COPY (SELECT id::text, col::text FROM t WHERE id > $lo AND id <= $hi ORDER BY id) TO STDOUT (FORMAT binary)
 * on its own two connections, so the server streams rows while we detect (its jsonb-to-text work overlaps ours);
 * "id" is the key's position (a row comparison for a composite key), and a step may add a condition (change
 * detection's). Ranges of row locations (keyless surfaces, the pass over changed rows) are read in batches of
 *   COPY (SELECT id::text, col::text FROM t WHERE ctid >= '(lo,0)' AND ctid < '(hi,0)' AND ...) TO STDOUT
 * whose block count adapts to the rows each returns.
 * This is the code tuned for speed: the per-row path is pa_copy_parse_row (inline), pa_detect_doc and on_finding,
 * and nothing else. Must never log or keep a byte of a scanned value: every row buffer is wiped before libpq gets
 * it back, and the stack a range used is scrubbed after it. */
#include "scan/reader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "scan/copy_row.h"

/* A reader thread: it takes id ranges from the pool's queue, of any surface, and reads each on its two
 * connections (kept from range to range, renewed after a failure). */
struct reader {
    struct scan_pool *pool;
    pthread_t thread;
    PGconn *conn[2];
    struct pa_detect_ctx *dctx;
    struct batch_result slot[2];
    int fill;                   /* index of the slot being filled */
    struct batch_result *ready; /* handed to the coordinator; NULL once it is done with it (under pool->mu) */
    bool idle;                  /* under pool->mu: waiting for a range */
    struct read_job *job;       /* the range being read: job->ranges[idx] */
    size_t idx;
    struct batch_result *cur; /* the slot being filled, for on_finding */
    const char *record_id;    /* the row being detected */
    size_t record_id_len;
    long pause_ns; /* read_batch's pause once the socket is drained (COALESCE_*) */
};

/* A range waiting for a reader. */
struct work {
    struct read_job *job;
    size_t idx;
};

/* The scan's readers and their queue of ranges. Surfaces are read in parallel when readers are free: the
 * coordinator starts a surface when a reader is idle and no range waits, so at most scan.parallelism backends
 * produce rows at any time, whatever the number of surfaces. */
struct scan_pool {
    struct pool_params p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct reader *readers;
    size_t n;    /* readers started */
    size_t turn; /* the reader pa_pool_next looks at first */
    struct work *queue;
    size_t qhead, qlen, qcap;
    bool shutdown;   /* under mu: no more ranges will come */
    double next_due; /* under mu: scan.max_rows_per_second, when the next batch may be requested */
};

/* A batch to read: (lo, hi] with hi NULL = open (then ORDER BY id LIMIT limit). */
struct batch_req {
    char *lo, *hi;
    bool last; /* the range's last batch (when hi is open: if it returns fewer than limit rows) */
};

static void req_free(struct batch_req *q)
{
    free(q->lo);
    free(q->hi);
    memset(q, 0, sizeof *q);
}

static void on_finding(void *arg, const struct pa_finding *f)
{
    struct reader *rd = arg;
    if (rd->job->store)
        pa_batch_add(&rd->cur->batch, rd->record_id, rd->record_id_len, f->path, f->path_len, f->category,
                     f->detector == PA_DET_KEY ? "key" : "value", f->rule, pa_evidence_name(f->evidence));
    else
        pa_catcounts_add(&rd->cur->found, f->category, 1);
    pa_debug("finding: record %.*s path %s category %s rule %s", (int)rd->record_id_len, rd->record_id, f->path,
             f->category, f->rule);
}

static void result_fail(struct batch_result *b, enum pa_fail_reason reason, const char *msg)
{
    b->failed = true;
    pa_err_set(&b->err, reason, "%s", msg);
}

static bool job_stopping(struct reader *rd)
{
    struct scan_pool *pool = rd->pool;
    if (pool->p.stop && *pool->p.stop)
        return true;
    pthread_mutex_lock(&pool->mu);
    bool a = rd->job->abort;
    pthread_mutex_unlock(&pool->mu);
    return a;
}

/* The job's and the range's own conditions. */
static void append_filters(const struct read_job *job, const struct id_range *rg, struct pa_where *w)
{
    if (job->filter) {
        pa_where_and(w);
        pa_buf_printf(w->sql, "(%s)", job->filter);
    }
    if (rg->filter) {
        pa_where_and(w);
        pa_buf_printf(w->sql, "(%s)", rg->filter);
    }
}

/* Fix the next batch of the range after position lo: its end is the limit-th id after lo (an index-only walk
 * over ids, no document is read), or the range's end when fewer rows are left. */
static int plan_batch(struct reader *rd, int c, const char *lo, struct batch_req *q, struct batch_result *b)
{
    const struct read_job *job = rd->job;
    const struct surface_info *si = job->info;
    const struct id_range *rg = &job->ranges[rd->idx];
    PGconn *conn = rd->conn[c];
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_appends(&sql, "SELECT ");
    pa_order_pos_expr(job->order, &sql);
    pa_buf_printf(&sql, " FROM %s t", si->qtable);
    struct pa_where w = {.sql = &sql};
    append_filters(job, rg, &w);
    int rc = -1;
    if (pa_catalog_append_bounds(conn, job->order, &w, lo, rg->hi) != 0) {
        pa_db_classify(conn, NULL, &b->err);
        b->failed = true;
        goto out;
    }
    pa_buf_appends(&sql, " ORDER BY ");
    pa_order_by(job->order, &sql);
    pa_buf_printf(&sql, " OFFSET %lld LIMIT 1", rd->pool->p.limit - 1);
    PGresult *res = pa_db_exec(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, &b->err);
    if (!res) {
        b->failed = true;
        goto out;
    }
    req_free(q);
    q->lo = lo ? pa_xstrdup(lo) : NULL;
    if (PQntuples(res) == 1) {
        q->hi = pa_xstrdup(PQgetvalue(res, 0, 0));
    } else {
        q->hi = rg->hi ? pa_xstrdup(rg->hi) : NULL;
        q->last = true;
    }
    PQclear(res);
    rc = 0;
out:
    pa_buf_free(&sql);
    return rc;
}

static int send_batch(struct reader *rd, int c, const struct batch_req *q, struct batch_result *b)
{
    const struct read_job *job = rd->job;
    const struct surface_info *si = job->info;
    PGconn *conn = rd->conn[c];
    struct pa_buf sql;
    pa_buf_init(&sql);
    /* the document is only referenced in the target list: a row the conditions drop is never detoasted */
    long long max = rd->pool->p.cfg->max_document_bytes;
    if (max > 0)
        /* pg_column_size is the stored size (after TOAST compression), read without detoasting the value */
        pa_buf_printf(&sql,
                      "COPY (SELECT %s, CASE WHEN pg_catalog.pg_column_size(t.%s) > %lld THEN NULL"
                      " ELSE t.%s::text END, CASE WHEN pg_catalog.pg_column_size(t.%s) > %lld"
                      " THEN pg_catalog.pg_column_size(t.%s)::text END FROM %s t",
                      si->rec_expr, si->qcol, max, si->qcol, si->qcol, max, si->qcol, si->qtable);
    else
        pa_buf_printf(&sql, "COPY (SELECT %s, t.%s::text FROM %s t", si->rec_expr, si->qcol, si->qtable);
    struct pa_where w = {.sql = &sql};
    append_filters(job, &job->ranges[rd->idx], &w);
    int rc = -1;
    if (job->how == READ_BLOCKS) {
        pa_catalog_append_blocks(&w, q->lo, q->hi);
    } else {
        if (pa_catalog_append_bounds(conn, job->order, &w, q->lo, q->hi) != 0) {
            pa_db_classify(conn, NULL, &b->err);
            b->failed = true;
            goto out;
        }
        pa_buf_appends(&sql, " ORDER BY ");
        pa_order_by(job->order, &sql);
        if (!q->hi && job->pos_is_rec)
            pa_buf_printf(&sql, " LIMIT %lld", rd->pool->p.limit);
    }
    pa_buf_appends(&sql, ") TO STDOUT (FORMAT binary)");
    if (!PQsendQuery(conn, sql.data)) {
        pa_db_classify(conn, NULL, &b->err);
        b->failed = true;
        goto out;
    }
    rc = 0;
out:
    pa_buf_free(&sql);
    return rc;
}

/* The rest of a COPY in progress on conn, discarded: each row is wiped, never looked at. */
static void discard_copy_rows(PGconn *conn)
{
    char *buf;
    int n;
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        explicit_bzero(buf, (size_t)n);
        PQfreemem(buf);
    }
}

/* Give up on a query sent on conn: cancel it and drain what is left. */
static void discard_query(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return;
    pa_db_cancel(conn);
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COPY_OUT)
            discard_copy_rows(conn);
        PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
}

/* Reading while the server streams. A reader is faster than the backend that prints its rows, so waiting for the
 * socket to become readable would wake it for every send of the backend (8 KB): ~350,000 wake-ups per 2.8 GB, a
 * fifth of the client's CPU in a VM, and a wake-up for the backend to deliver each time. Instead, once the socket
 * is drained, the reader sleeps a short while and then reads what has come meanwhile without a poll; only when that
 * brings nothing does it poll. The pause adapts so that about COALESCE_TARGET bytes arrive per pause: well under a
 * Unix socket's default send buffer (208 KB), so the backend is not stalled on a full socket while we sleep. */
#define COALESCE_MIN_NS 20000L
#define COALESCE_MAX_NS 1000000L
#define COALESCE_TARGET (64 * 1024)

static long coalesce_adapt(long ns, size_t got)
{
    if (got > COALESCE_TARGET * 3 / 2)
        ns /= 2;
    else if (got < COALESCE_TARGET / 2)
        ns *= 2;
    return ns < COALESCE_MIN_NS ? COALESCE_MIN_NS : ns > COALESCE_MAX_NS ? COALESCE_MAX_NS : ns;
}

/* Wait for the COPY OUT sent on conn to start. 0, or -1 with b's error set (the caller drains). */
static int copy_started(PGconn *conn, double wait_bound, struct batch_result *b)
{
    PGresult *res = NULL;
    for (;;) {
        if (!PQisBusy(conn)) {
            res = PQgetResult(conn);
            break;
        }
        int w = pa_db_wait(conn, wait_bound);
        if (w <= 0 || !PQconsumeInput(conn)) {
            if (w == 0) {
                pa_db_cancel(conn);
                pa_err_set(&b->err, PA_FAIL_TIMEOUT, "no answer from the database within %.0fs", wait_bound);
            } else {
                pa_db_classify(conn, NULL, &b->err);
                b->err.reason = PA_FAIL_CONNECTION_LOST; /* the message says what libpq saw */
            }
            return -1;
        }
    }
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        pa_db_classify(conn, res, &b->err);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

/* One row (a CopyData message of n bytes in buf): detected into b, then wiped and given back to libpq. The only
 * code that runs per row; inlined into read_rows. Returns 0, or -1 with b's error set. */
static inline __attribute__((always_inline)) int take_row(struct reader *rd, struct batch_result *b, char *buf, int n,
                                                          struct pa_buf *last_id, long long *rows)
{
    const struct read_job *job = rd->job;
    int rc = 0;
    const char *id, *doc, *size = NULL;
    int idlen = -1, doclen = -1, sizelen = -1;
    int pr = rd->pool->p.cfg->max_document_bytes > 0
                 ? pa_copy_parse_fields(buf, n, 3, &id, &idlen, &doc, &doclen, &size, &sizelen)
                 : pa_copy_parse_row(buf, n, &id, &idlen, &doc, &doclen);
    if (pr == 1 && id && idlen >= 0) {
        (*rows)++;
        rd->record_id = id;
        rd->record_id_len = (size_t)idlen;
        pa_buf_truncate(last_id, 0);
        pa_buf_append(last_id, id, (size_t)idlen);
        /* an oversized record is not among those seen: its findings are not resolved by a read that did not look
         * at its document (a NULL document is seen: it holds nothing) */
        if (!size && job->collect_ids && job->store)
            pa_batch_add_seen(&b->batch, id, (size_t)idlen);
        if (size) {
            /* not fetched: its id and stored size only (never silently: counted, logged, exported) */
            b->oversized++;
            pa_warn("%s: record %.*s: the document is stored in %.*s bytes, more than scan.max_document_bytes "
                    "(%lld): not read, counted as oversized",
                    job->surface, idlen, id, sizelen, size, rd->pool->p.cfg->max_document_bytes);
        } else if (doc) {
            struct pa_doc_result dr;
            b->bytes += doclen;
            if (pa_detect_doc(rd->dctx, job->surface, job->info->kind, doc, (size_t)doclen, on_finding, rd, &dr) != 0) {
                pa_err_set(&b->err, PA_FAIL_QUERY, "internal detector error on record %.*s", idlen, id);
                rc = -1;
            }
            if (dr.invalid_json) {
                b->invalid_documents++;
                pa_warn("%s: record %.*s holds invalid JSON; scanned as text", job->surface, idlen, id);
            }
            if (dr.truncated) {
                b->truncated_records++;
                pa_warn("%s: record %.*s has more findings than scan.max_findings_per_record; the rest "
                        "are not recorded",
                        job->surface, idlen, id);
            }
        }
    } else if (pr < 0) {
        pa_err_set(&b->err, PA_FAIL_QUERY, "malformed COPY data from the server");
        rc = -1;
    }
    /* the row buffer held a scanned value: wipe it before libpq's allocator gets it back */
    explicit_bzero(buf, (size_t)n);
    PQfreemem(buf);
    return rc;
}

/* The rows of a started COPY on rd->conn[c], until it ends. Returns 0 at its end; -1 on a failure (b's error set,
 * or left for the drain to classify); *cancel_sent when a stop request made us cancel a batch that took too long. */
static int read_rows(struct reader *rd, int c, struct batch_result *b, struct pa_buf *last_id, double wait_bound,
                     long long *rows, bool *cancel_sent)
{
    PGconn *conn = rd->conn[c];
    double stop_seen = 0;
    double last_data = pa_now_monotonic();
    int dry_reads = 0;      /* reads since the last row that brought no complete row */
    size_t since_pause = 0; /* bytes of rows since the last pause */
    bool paused = false;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            dry_reads = 0;
            since_pause += (size_t)n;
            if (take_row(rd, b, buf, n, last_id, rows) != 0) {
                pa_db_cancel(conn);
                return -1;
            }
            last_data = pa_now_monotonic();
            continue;
        }
        if (n == -1)
            return 0; /* COPY done */
        if (n == -2)
            return -1;
        /* n == 0: nothing buffered yet */
        if (!*cancel_sent && job_stopping(rd)) {
            if (!stop_seen)
                stop_seen = pa_now_monotonic();
            else if (pa_now_monotonic() - stop_seen > 3) {
                pa_db_cancel(conn); /* the batch is taking too long: give up on it */
                *cancel_sent = true;
            }
        }
        /* n == 0 after a row: read on at once (libpq reads at most its buffer, ~16 KB, at a time); once that
         * brings no row the socket is drained: pause, then read; if that brings no row either, poll */
        int w = 1;
        if (dry_reads == 1) {
            if (paused)
                rd->pause_ns = coalesce_adapt(rd->pause_ns, since_pause);
            struct timespec ts = {0, rd->pause_ns};
            nanosleep(&ts, NULL);
            paused = true;
            since_pause = 0;
        } else if (dry_reads > 1) {
            w = pa_db_wait(conn, 0.25);
            paused = false; /* the server was slower than the pause: that cycle says nothing */
        }
        dry_reads++;
        if (w < 0 || !PQconsumeInput(conn))
            return -1;
        if (w == 0 && pa_now_monotonic() - last_data > wait_bound) {
            pa_db_cancel(conn);
            pa_err_set(&b->err, PA_FAIL_TIMEOUT, "no data from the database within %.0fs", wait_bound);
            return -1;
        }
    }
}

/* Collect the COPY's final status; after a cancel or error this also drains the connection. */
static bool copy_finish(PGconn *conn, struct batch_result *b, bool failed, bool cancel_sent)
{
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_COPY_OUT) {
            discard_copy_rows(conn); /* we stopped mid-COPY: the cancel is on its way */
        } else if (s != PGRES_COMMAND_OK && !failed) {
            pa_db_classify(conn, res, &b->err);
            failed = true;
        } else if (s != PGRES_COMMAND_OK && b->err.reason == PA_FAIL_NONE) {
            pa_db_classify(conn, res, &b->err);
        }
        PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
    if (failed && b->err.reason == PA_FAIL_NONE)
        pa_db_classify(conn, NULL, &b->err);
    if (cancel_sent && failed)
        pa_err_set(&b->err, PA_FAIL_CANCELLED, "stopped by a signal during a batch");
    return failed;
}

/* Read one batch sent on rd->conn[c]; detect each row into b. Returns rows read (>= 0) or -1 with b failed. The
 * last id read goes to last_id. */
static long long read_batch(struct reader *rd, int c, struct batch_result *b, struct pa_buf *last_id)
{
    const struct pa_config *cfg = rd->pool->p.cfg;
    PGconn *conn = rd->conn[c];
    long long rows = 0;
    bool cancel_sent = false;
    double wait_bound = (cfg->statement_timeout > 0 ? cfg->statement_timeout : 3600) + 30;
    bool failed = copy_started(conn, wait_bound, b) != 0 ||
                  read_rows(rd, c, b, last_id, wait_bound, &rows, &cancel_sent) != 0;
    b->failed = copy_finish(conn, b, failed, cancel_sent);
    return b->failed ? -1 : rows;
}

/* scan.max_rows_per_second over all readers of the scan: a batch may be requested once the rows requested before it
 * are due (rows: a keyset batch's limit; for a batch of blocks, the rows the one before returned). A reader that
 * was idle does not earn credit for a burst. */
static void throttle(struct reader *rd, long long rows)
{
    struct scan_pool *pool = rd->pool;
    long long rate = pool->p.cfg->max_rows_per_second;
    if (rate <= 0)
        return;
    pthread_mutex_lock(&pool->mu);
    double now = pa_now_monotonic();
    double due = pool->next_due > now ? pool->next_due : now;
    pool->next_due = due + (double)rows / (double)rate;
    pthread_mutex_unlock(&pool->mu);
    for (;;) {
        double left = due - pa_now_monotonic();
        if (left <= 0 || job_stopping(rd))
            return;
        pa_sleep(left > 0.2 ? 0.2 : left);
    }
}

/* A slot emptied for a batch read from its start: what a failed attempt put in it is dropped (its retries stay). */
static void slot_clear(struct reader *rd, struct batch_result *b)
{
    pa_batch_reset(&b->batch);
    pa_detect_ctx_wipe(rd->dctx); /* the memos hold bytes of the last batch's rows */
    pa_catcounts_free(&b->found);
    pa_buf_truncate(&b->end, 0);
    b->job = rd->job;
    b->range = rd->idx;
    b->rows = b->bytes = b->invalid_documents = b->truncated_records = b->oversized = 0;
    b->range_done = b->failed = false;
    pa_err_clear(&b->err);
    rd->cur = b;
}

/* The next empty slot (waits until the coordinator is done with it). */
static struct batch_result *take_slot(struct reader *rd)
{
    struct batch_result *b = &rd->slot[rd->fill];
    pthread_mutex_lock(&rd->pool->mu);
    while (rd->ready == b)
        pthread_cond_wait(&rd->pool->cv, &rd->pool->mu);
    pthread_mutex_unlock(&rd->pool->mu);
    slot_clear(rd, b);
    memset(b->retries, 0, sizeof b->retries);
    return b;
}

/* Hand a filled slot to the coordinator; waits while the previous one is still being committed. */
static void hand_off(struct reader *rd, struct batch_result *b)
{
    pthread_mutex_lock(&rd->pool->mu);
    while (rd->ready)
        pthread_cond_wait(&rd->pool->cv, &rd->pool->mu);
    rd->ready = b;
    rd->fill ^= 1;
    pthread_cond_broadcast(&rd->pool->cv);
    pthread_mutex_unlock(&rd->pool->mu);
}

/* The reader's two scan connections, made or renewed. 0, or -1 with e set. */
static int connect_conns(struct reader *rd, struct pa_err *e)
{
    for (int i = 0; i < 2; i++) {
        if (rd->conn[i] && PQstatus(rd->conn[i]) == CONNECTION_OK)
            continue;
        if (rd->conn[i])
            PQfinish(rd->conn[i]);
        if (!(rd->conn[i] = pa_db_open(rd->pool->p.cfg, PA_DB_SCANNED, e)))
            return -1;
    }
    return 0;
}

static void close_conns(struct reader *rd)
{
    for (int i = 0; i < 2; i++) {
        if (rd->conn[i])
            PQfinish(rd->conn[i]);
        rd->conn[i] = NULL;
    }
}

/* A failed batch worth another attempt: a hot standby cancelled it to replay WAL. Waits before the attempt (1 s,
 * doubling, at most 30 s; a stop request ends the wait) and logs it (from: where the attempt starts, for the log).
 * False: give up (no attempt left, not a retryable failure, or stopping). */
static bool retry_wanted(struct reader *rd, struct batch_result *b, int attempt, const char *from)
{
    long long max = rd->pool->p.cfg->retry_attempts;
    if (b->err.reason != PA_FAIL_RECOVERY_CONFLICT || attempt >= max || job_stopping(rd))
        return false;
    double wait = pa_retry_wait(attempt);
    pa_warn("%s: %s; retry %d of %lld in %.0fs, from %s", rd->job->surface, b->err.msg, attempt + 1, max, wait, from);
    for (double until = pa_now_monotonic() + wait; pa_now_monotonic() < until;) {
        if (job_stopping(rd))
            return false;
        pa_sleep(0.1);
    }
    return true;
}

/* A range's last batch handed over (a stop if nothing failed it), on fresh sessions for the next range */
static void range_done(struct reader *rd, struct batch_result *b)
{
    if (!b)
        return;
    if (!b->failed)
        result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
    hand_off(rd, b);
    close_conns(rd); /* whatever state they were left in, the next range starts on fresh sessions */
}

/* The start of a range's attempt (and of its retries): connected, not stopping, and whether to request ahead;
 * -1 with b failed when it cannot go on. */
static int begin_attempt(struct reader *rd, struct batch_result *b, bool *prefetch)
{
    struct pa_err e;
    if (connect_conns(rd, &e) != 0) {
        result_fail(b, e.reason, e.msg);
        return -1;
    }
    /* Throttled reads gain nothing from requesting ahead: they wait for the schedule anyway. Nor do a hot
     * standby's: there the next batch's plan query (on one connection) can queue for its lock behind WAL replay's
     * ACCESS EXCLUSIVE lock, which waits for the COPY on the other connection, whose backend cannot take the
     * cancel while it is blocked writing rows this reader is not reading, since it waits for the plan: a wait
     * across two sessions that nothing breaks but lock_timeout. One query at a time is read to its end, so replay
     * gets its lock at once (a conflict cancels the query: recovery_conflict, retried). */
    *prefetch = rd->pool->p.cfg->max_rows_per_second <= 0 && !pa_db_in_recovery(rd->conn[0]);
    if (job_stopping(rd)) {
        result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
        return -1;
    }
    return 0;
}

/* Read the range rd->job->ranges[rd->idx] in pipelined batches. Its last batch handed off is either range_done or
 * failed (a cancel is a failure). A batch a standby cancelled is read again from the reader's position (the end of
 * the last batch handed off: every row before it is with the coordinator already), on fresh connections where the
 * old ones broke. */
static void read_range(struct reader *rd)
{
    struct scan_pool *pool = rd->pool;
    const struct id_range *rg = &rd->job->ranges[rd->idx];
    struct batch_req cur = {0}, next = {0};
    struct pa_buf last_id, pos;
    pa_buf_init(&last_id);
    pa_buf_init(&pos);
    bool have_pos = rg->lo != NULL; /* pos: the reader's position; none = the start of the surface */
    if (have_pos)
        pa_buf_appends(&pos, rg->lo);
    bool prefetch = false;
    int c = 0, attempt = 0;
    struct batch_result *b = take_slot(rd);

    pa_detect_ctx_set_allow(rd->dctx, rd->job->allow, rd->job->n_allow);
again:
    if (begin_attempt(rd, b, &prefetch) != 0)
        goto out;
    throttle(rd, pool->p.limit);
    if (plan_batch(rd, c, have_pos ? pos.data : NULL, &cur, b) != 0 || send_batch(rd, c, &cur, b) != 0)
        goto failed;
    for (;;) {
        bool have_next = false;
        if (prefetch && !cur.last && !job_stopping(rd)) {
            /* batch N+1 starts on the server before we read batch N */
            if (plan_batch(rd, c ^ 1, cur.hi, &next, b) != 0 || send_batch(rd, c ^ 1, &next, b) != 0) {
                discard_query(rd->conn[c]);
                goto failed;
            }
            have_next = true;
        }
        pa_buf_truncate(&last_id, 0);
        long long n = read_batch(rd, c, b, &last_id);
        if (n < 0) {
            if (have_next)
                discard_query(rd->conn[c ^ 1]);
            goto failed;
        }
        b->rows = n - b->oversized;
        /* a bounded batch read everything up to its end; an open one up to its last row (or, when positions are
         * not record ids, every row left) */
        const char *end = cur.hi ? cur.hi : last_id.len && rd->job->pos_is_rec ? last_id.data : cur.lo;
        if (end) {
            pa_buf_appends(&b->end, end);
            pa_buf_truncate(&pos, 0);
            pa_buf_appends(&pos, end);
            have_pos = true;
        }
        b->range_done = cur.last && (cur.hi || n < pool->p.limit || !rd->job->pos_is_rec);
        bool done = b->range_done;
        attempt = 0;
        hand_off(rd, b);
        if (done) {
            b = NULL;
            break;
        }
        b = take_slot(rd);
        if (!have_next) {
            if (job_stopping(rd)) {
                result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
                goto out;
            }
            throttle(rd, pool->p.limit);
            if (plan_batch(rd, c ^ 1, have_pos ? pos.data : NULL, &next, b) != 0 ||
                send_batch(rd, c ^ 1, &next, b) != 0)
                goto failed;
        }
        req_free(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
        c ^= 1;
    }
    goto out;
failed:
    /* b holds the failure; its connections were drained (a query of the other one cancelled) */
    {
        char *from = have_pos ? pa_xasprintf("after %s", pos.data) : pa_xstrdup("the start of the range");
        bool retry = retry_wanted(rd, b, attempt, from);
        free(from);
        if (retry) {
            b->retries[b->err.reason]++;
            attempt++;
            slot_clear(rd, b);
            req_free(&cur);
            req_free(&next);
            c = 0;
            goto again;
        }
    }
    if (b->err.reason == PA_FAIL_RECOVERY_CONFLICT && job_stopping(rd))
        result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal while waiting to retry a batch");
out:
    range_done(rd, b);
    req_free(&cur);
    req_free(&next);
    pa_buf_free(&last_id);
    pa_buf_free(&pos);
}

/* Blocks per batch of row locations: start from the job's guess, then aim at a batch's worth of rows (scan.
 * batch_size) per statement: halve after a batch that returned more than twice that, or that took more than a
 * quarter of scan.statement_timeout (a slow disk: the statements stay well inside it); double (up to 16384 blocks,
 * 128 MB of table) after one that returned less than a quarter. */
#define BLOCKS_MAX 16384

static long long adapt_blocks(long long blocks, long long rows, long long limit, double secs, double timeout)
{
    if ((rows > 2 * limit || (timeout > 0 && secs > timeout / 4)) && blocks > 1)
        return blocks / 2;
    if (rows < limit / 4 && blocks < BLOCKS_MAX && (timeout <= 0 || secs < timeout / 8))
        return blocks * 2 > BLOCKS_MAX ? BLOCKS_MAX : blocks * 2;
    return blocks;
}

/* A batch of blocks [lo, hi): its bounds as text, and whether it ends the range. */
struct block_req {
    long long lo, hi;
    bool last;
    char lo_s[24], hi_s[24];
};

static void plan_blocks(struct block_req *q, long long pos, long long blocks, long long hi)
{
    q->lo = pos;
    q->hi = hi - pos > blocks ? pos + blocks : hi;
    q->last = q->hi >= hi;
    snprintf(q->lo_s, sizeof q->lo_s, "%lld", q->lo);
    snprintf(q->hi_s, sizeof q->hi_s, "%lld", q->hi);
}

static int send_blocks(struct reader *rd, int c, const struct block_req *q, struct batch_result *b)
{
    struct batch_req r = {.lo = (char *)q->lo_s, .hi = (char *)q->hi_s};
    return send_batch(rd, c, &r, b);
}

/* Read the range of row locations rd->job->ranges[rd->idx], [lo, hi) in block numbers, one statement per batch,
 * pipelined like keyset batches: batch N+1 is sent on the other connection before batch N is read, so the server
 * scans the next blocks while we detect (and, in a pass that returns few rows, while it scans these). Batch N+1's
 * size follows the rows of the last batch read. Its last batch handed off is either range_done or failed. A batch a
 * standby cancelled is read again from the reader's position (the first block after the last batch handed off), as
 * read_range does. */
static void read_blocks(struct reader *rd)
{
    struct scan_pool *pool = rd->pool;
    const struct id_range *rg = &rd->job->ranges[rd->idx];
    long long hi = atoll(rg->hi);
    long long pos = atoll(rg->lo); /* every block before it is with the coordinator already */
    long long blocks = rd->job->chunk_blocks > 0 ? rd->job->chunk_blocks : 8;
    bool prefetch = false;
    struct block_req cur, next;
    struct pa_buf last_id;
    pa_buf_init(&last_id);
    int c = 0, attempt = 0;
    struct batch_result *b = take_slot(rd);
    double timeout = pool->p.cfg->statement_timeout;

    pa_detect_ctx_set_allow(rd->dctx, rd->job->allow, rd->job->n_allow);
again:
    if (begin_attempt(rd, b, &prefetch) != 0)
        goto out;
    plan_blocks(&cur, pos, blocks, hi);
    double sent = pa_now_monotonic();
    if (send_blocks(rd, c, &cur, b) != 0)
        goto failed;
    for (;;) {
        double next_sent = 0;
        bool have_next = false;
        if (prefetch && !cur.last && !job_stopping(rd)) {
            plan_blocks(&next, cur.hi, blocks, hi);
            next_sent = pa_now_monotonic();
            if (send_blocks(rd, c ^ 1, &next, b) != 0) {
                discard_query(rd->conn[c]);
                goto failed;
            }
            have_next = true;
        }
        pa_buf_truncate(&last_id, 0);
        long long n = read_batch(rd, c, b, &last_id);
        double took = pa_now_monotonic() - sent; /* from its sending: the server's time for it, at most */
        if (n < 0) {
            if (have_next)
                discard_query(rd->conn[c ^ 1]);
            goto failed;
        }
        b->rows = n - b->oversized;
        pa_buf_appends(&b->end, cur.hi_s);
        pos = cur.hi;
        b->range_done = cur.last;
        attempt = 0;
        hand_off(rd, b);
        if (cur.last) {
            b = NULL;
            break;
        }
        blocks = adapt_blocks(blocks, n, pool->p.limit, took, timeout);
        b = take_slot(rd);
        if (!have_next) {
            if (job_stopping(rd)) {
                result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
                goto out;
            }
            throttle(rd, n);
            plan_blocks(&next, cur.hi, blocks, hi);
            next_sent = pa_now_monotonic();
            if (send_blocks(rd, c ^ 1, &next, b) != 0)
                goto failed;
        }
        cur = next;
        sent = next_sent;
        c ^= 1;
    }
    goto out;
failed:
    /* b holds the failure; its connections were drained (a query of the other one cancelled) */
    {
        char from[48];
        snprintf(from, sizeof from, "block %lld", pos);
        if (retry_wanted(rd, b, attempt, from)) {
            b->retries[b->err.reason]++;
            attempt++;
            slot_clear(rd, b);
            c = 0;
            goto again;
        }
    }
    if (b->err.reason == PA_FAIL_RECOVERY_CONFLICT && job_stopping(rd))
        result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal while waiting to retry a batch");
out:
    range_done(rd, b);
    pa_buf_free(&last_id);
}

/* Zero the stack below the caller's frame. Detection (ours, libc's string functions, Hyperscan) leaves copies of
 * scanned bytes in the stack slots it used, and a finished thread's stack outlives it in glibc's stack cache: a
 * reader scrubs what its calls used after every range. 256 KB is far more than a range's calls go deep. */
static void __attribute__((noinline)) scrub_stack(void)
{
    unsigned char area[256 * 1024];
    explicit_bzero(area, sizeof area);
    __asm__ volatile("" : : "r"(area) : "memory");
}

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    struct scan_pool *pool = rd->pool;
    /* connect before the first range comes; a failure here is only reported if the range's own attempt fails */
    if (!(pool->p.stop && *pool->p.stop)) {
        struct pa_err e;
        connect_conns(rd, &e);
    }
    for (;;) {
        pthread_mutex_lock(&pool->mu);
        rd->idle = true;
        pthread_cond_broadcast(&pool->cv); /* the coordinator may start the next surface */
        while (!pool->qlen && !pool->shutdown)
            pthread_cond_wait(&pool->cv, &pool->mu);
        if (!pool->qlen) {
            pthread_mutex_unlock(&pool->mu);
            break;
        }
        struct work w = pool->queue[pool->qhead];
        pool->qhead = (pool->qhead + 1) % pool->qcap;
        pool->qlen--;
        rd->idle = false;
        rd->job = w.job;
        rd->idx = w.idx;
        pthread_mutex_unlock(&pool->mu);
        long long scan_id = w.job->scan_id;
        pa_log_set_context(w.job->surface, scan_id);
        if (w.job->how == READ_BLOCKS) /* the job may be gone once its last batch is handed off */
            read_blocks(rd);
        else
            read_range(rd);
        scrub_stack();
        pa_log_set_context(NULL, scan_id);
    }
    close_conns(rd);
    return NULL;
}

static void reader_free(struct reader *rd)
{
    pa_detect_ctx_free(rd->dctx);
    for (int i = 0; i < 2; i++) {
        pa_batch_free(&rd->slot[i].batch);
        pa_catcounts_free(&rd->slot[i].found);
        pa_buf_free(&rd->slot[i].end);
    }
}

struct scan_pool *pa_pool_start(const struct pool_params *p)
{
    struct scan_pool *pool = pa_xcalloc(1, sizeof *pool);
    size_t want = p->readers;
    pool->p = *p;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->readers = pa_xcalloc(want, sizeof *pool->readers);
    for (size_t k = 0; k < want; k++) {
        struct reader *rd = &pool->readers[k];
        rd->pool = pool;
        rd->pause_ns = 250000;
        rd->dctx = pa_detect_ctx_new(p->det);
        for (int i = 0; i < 2; i++) {
            pa_batch_init(&rd->slot[i].batch);
            pa_buf_init(&rd->slot[i].end);
        }
        if (pthread_create(&rd->thread, NULL, reader_main, rd) != 0) {
            pa_warn("cannot start reader thread %zu of %zu", k + 1, want);
            reader_free(rd);
            break;
        }
        pool->n++;
    }
    return pool;
}

size_t pa_pool_size(const struct scan_pool *pool)
{
    return pool->n;
}

void pa_pool_stop(struct scan_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->shutdown = true;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (size_t k = 0; k < pool->n; k++) {
        struct reader *rd = &pool->readers[k];
        pthread_join(rd->thread, NULL);
        reader_free(rd);
    }
    free(pool->readers);
    free(pool->queue);
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

/* Queue one range; under pool->mu. */
static void enqueue(struct scan_pool *pool, struct read_job *job, size_t idx)
{
    if (pool->qlen == pool->qcap) {
        size_t cap = pool->qcap ? pool->qcap * 2 : 16;
        struct work *q = pa_xcalloc(cap, sizeof *q);
        for (size_t i = 0; i < pool->qlen; i++)
            q[i] = pool->queue[(pool->qhead + i) % pool->qcap];
        free(pool->queue);
        pool->queue = q;
        pool->qcap = cap;
        pool->qhead = 0;
    }
    pool->queue[(pool->qhead + pool->qlen) % pool->qcap] = (struct work){job, idx};
    pool->qlen++;
}

void pa_pool_queue(struct scan_pool *pool, struct read_job *job)
{
    pthread_mutex_lock(&pool->mu);
    for (size_t k = 0; k < job->n; k++)
        enqueue(pool, job, k);
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}

void pa_pool_drop(struct scan_pool *pool, struct read_job *job, pa_pool_dropped_fn dropped, void *arg)
{
    pthread_mutex_lock(&pool->mu);
    if (job)
        job->abort = true;
    size_t kept = 0;
    for (size_t i = 0; i < pool->qlen; i++) {
        struct work w = pool->queue[(pool->qhead + i) % pool->qcap];
        if (job && w.job != job) {
            pool->queue[(pool->qhead + kept++) % pool->qcap] = w;
            continue;
        }
        dropped(arg, w.job);
    }
    pool->qlen = kept;
    pthread_mutex_unlock(&pool->mu);
}

struct batch_result *pa_pool_next(struct scan_pool *pool, bool start_wanted, bool busy, bool *can_start)
{
    struct reader *got = NULL;
    *can_start = false;
    pthread_mutex_lock(&pool->mu);
    for (size_t k = 0; k < pool->n && !got; k++) {
        struct reader *rd = &pool->readers[(pool->turn + k) % pool->n];
        if (rd->ready)
            got = rd;
    }
    for (size_t k = 0; k < pool->n && !pool->qlen; k++)
        if (pool->readers[k].idle)
            *can_start = true;
    if (!got && !(*can_start && start_wanted) && busy) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pool->cv, &pool->mu, &ts);
    }
    pthread_mutex_unlock(&pool->mu);
    if (!got)
        return NULL;
    pool->turn = (size_t)(got - pool->readers) + 1;
    return got->ready;
}

void pa_pool_release(struct scan_pool *pool, struct batch_result *b)
{
    pthread_mutex_lock(&pool->mu);
    for (size_t k = 0; k < pool->n; k++)
        if (pool->readers[k].ready == b)
            pool->readers[k].ready = NULL;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
}
