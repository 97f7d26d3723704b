/* scan: see scan.h. Reads each surface in keyset batches with
 *   COPY (SELECT id::text, col::text FROM t WHERE id > $pos AND id <= $end ORDER BY id) TO STDOUT (FORMAT binary)
 * on pipelined reader threads (see "readers" below), so the server streams rows while we detect (its jsonb-to-text
 * work overlaps ours), then commits each batch's findings with the cursor in one transaction on the scanning
 * thread. Must never log or store a byte of a scanned value. */
#include "scan.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "util.h"

struct surface_info {
    char *qtable;   /* quoted "schema"."table" */
    char *qcol;     /* quoted column */
    char *qid;      /* quoted id column */
    char *id_column;
    char *id_type;  /* format_type() of the id column */
    enum pa_doc_kind kind;
    long long estimate;
};

struct scan_state {
    const struct pa_config *cfg;
    const struct pa_scan_opts *opts;
    const struct pa_detector *det;
    PGconn *scan_conn;  /* surface checks and range splits; the readers have their own connections */
    PGconn *store_conn; /* NULL in dry-run when the store is unreachable */
    unsigned store_gen; /* counts store sessions: a surface's lock lives on the session it was taken on */
    long long limit;    /* rows per batch: scan.batch_size, or less to keep a throttled step under a second */
    size_t readers;     /* scan.parallelism: reader threads, and id ranges per surface */
    bool renew_scan_conn; /* a surface lost its connection: renew scan_conn before the next one */
    long long scan_id;
};

static void info_free(struct surface_info *si)
{
    free(si->qtable);
    PQfreemem(si->qcol);
    PQfreemem(si->qid);
    free(si->id_column);
    free(si->id_type);
    memset(si, 0, sizeof *si);
}

static char *quote_ident(PGconn *conn, const char *s)
{
    return PQescapeIdentifier(conn, s, strlen(s));
}

/* A name as it must be written in the SQL that an error message suggests (quoted only when PostgreSQL needs it:
 * "Weird Table", "user", x"; DROP ...), so a hint copied into psql does what it says. Error paths only. */
static const char *hint_ident(PGconn *conn, const char *name, char *buf, size_t cap)
{
    const char *p[] = {name};
    PGresult *res = PQexecParams(conn, "SELECT pg_catalog.quote_ident($1)", 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(buf, cap, "%s", PQgetvalue(res, 0, 0));
    else
        snprintf(buf, cap, "\"%s\"", name); /* never unquoted: a name that needed quotes must not read as SQL */
    PQclear(res);
    return buf;
}

static PGresult *q(PGconn *conn, const char *sql, int n, const char *const *p, struct pa_surface_result *r)
{
    return pa_db_exec(conn, sql, n, p, PGRES_TUPLES_OK, &r->err);
}

/* Check a surface before reading it; fills si or fails the surface with a reason and a message saying what to do. */
static int check_surface(PGconn *conn, const struct pa_surface *s, struct surface_info *si,
                         struct pa_surface_result *r)
{
    int rc = -1;
    PGresult *res = NULL;
    const char *p[] = {s->schema, s->table};
    char role[128] = "?";
    char h1[160], h2[160], h3[160], h4[160], h5[160]; /* quoted names for the SQL in hints (63 bytes, quotes doubled) */

    if (!(res = q(conn, "SELECT current_user", 0, NULL, r)))
        goto out;
    snprintf(role, sizeof role, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);

    res = q(conn,
            "SELECT c.oid, c.relkind, c.reltuples::bigint, has_schema_privilege(n.oid, 'USAGE'),"
            "       c.relrowsecurity, row_security_active(c.oid)"
            "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relname = $2",
            2, p, r);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        pa_err_set(&r->err, PA_FAIL_MISSING,
                   "table %s.%s does not exist (check surfaces[].table in the configuration, and the database)",
                 s->schema, s->table);
        goto out;
    }
    char oid[16];
    snprintf(oid, sizeof oid, "%s", PQgetvalue(res, 0, 0));
    char relkind = PQgetvalue(res, 0, 1)[0];
    si->estimate = atoll(PQgetvalue(res, 0, 2));
    bool schema_usage = PQgetvalue(res, 0, 3)[0] == 't';
    bool rls_active = PQgetvalue(res, 0, 5)[0] == 't';
    PQclear(res);
    res = NULL;
    if (relkind != 'r' && relkind != 'p' && relkind != 'm') {
        pa_err_set(&r->err, PA_FAIL_UNSUPPORTED_TYPE,
                   "%s.%s is not a table, partitioned table or materialized view (relkind '%c')", s->schema, s->table,
                 relkind);
        goto out;
    }
    if (!schema_usage) {
        pa_err_set(&r->err, PA_FAIL_PERMISSION,
                   "permission denied: role %s lacks USAGE on schema %s (GRANT USAGE ON SCHEMA %s TO %s)", role,
                 s->schema, hint_ident(conn, s->schema, h1, sizeof h1), hint_ident(conn, role, h2, sizeof h2));
        goto out;
    }

    /* the scanned column and its (base) type */
    const char *pc[] = {oid, s->column};
    res = q(conn,
            "SELECT a.attnum, bt.typname, has_column_privilege(a.attrelid, a.attnum, 'SELECT'),"
            "       format_type(a.atttypid, a.atttypmod)"
            "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
            "  JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
            " WHERE a.attrelid = $1::oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
            2, pc, r);
    if (!res)
        goto out;
    if (PQntuples(res) != 1) {
        pa_err_set(&r->err, PA_FAIL_MISSING,
                   "column %s does not exist in table %s.%s", s->column, s->schema,
                 s->table);
        goto out;
    }
    const char *typ = PQgetvalue(res, 0, 1);
    if (strcmp(typ, "jsonb") == 0 || strcmp(typ, "json") == 0) {
        si->kind = PA_DOC_JSON;
    } else if (strcmp(typ, "text") == 0 || strcmp(typ, "varchar") == 0 || strcmp(typ, "bpchar") == 0) {
        si->kind = PA_DOC_TEXT;
    } else {
        pa_err_set(&r->err, PA_FAIL_UNSUPPORTED_TYPE,
                   "column %s of %s.%s has type %s; pii-auditd scans jsonb, json, text and varchar columns", s->column,
                 s->schema, s->table, PQgetvalue(res, 0, 3));
        goto out;
    }
    bool col_select = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    res = NULL;

    /* the id column: configured (must be unique) or the single-column primary key */
    if (s->id_column) {
        const char *pi[] = {oid, s->id_column};
        res = q(conn,
                "SELECT a.attnum, format_type(a.atttypid, a.atttypmod),"
                "       has_column_privilege(a.attrelid, a.attnum, 'SELECT'),"
                "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique"
                "               AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL"
                "               AND i.indexprs IS NULL AND i.indisvalid)"
                "  FROM pg_catalog.pg_attribute a"
                " WHERE a.attrelid = $1::oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                2, pi, r);
        if (!res)
            goto out;
        if (PQntuples(res) != 1) {
            pa_err_set(&r->err, PA_FAIL_MISSING,
                       "id column %s does not exist in table %s.%s", s->id_column,
                     s->schema, s->table);
            goto out;
        }
        if (PQgetvalue(res, 0, 3)[0] != 't') {
            pa_err_set(&r->err, PA_FAIL_NO_UNIQUE_ID,
                       "id column %s of %s.%s is not unique: keyset batches need a column with a unique index "
                     "(CREATE UNIQUE INDEX ... ON %s.%s (%s)) or the primary key",
                     s->id_column, s->schema, s->table, hint_ident(conn, s->schema, h1, sizeof h1),
                     hint_ident(conn, s->table, h2, sizeof h2), hint_ident(conn, s->id_column, h3, sizeof h3));
            goto out;
        }
        si->id_column = pa_xstrdup(s->id_column);
    } else {
        res = q(conn,
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
                "       has_column_privilege(a.attrelid, a.attnum, 'SELECT'), i.indnkeyatts"
                "  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a"
                "    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = $1::oid AND i.indisprimary",
                1, pc, r);
        if (!res)
            goto out;
        if (PQntuples(res) != 1 || atoi(PQgetvalue(res, 0, 3)) != 1) {
            pa_err_set(&r->err, PA_FAIL_NO_UNIQUE_ID,
                       PQntuples(res) ? "%s.%s has a multi-column primary key: set surfaces[].id_column to a column "
                                      "with a unique index"
                                    : "%s.%s has no primary key: set surfaces[].id_column to a column with a unique "
                                      "index",
                     s->schema, s->table);
            goto out;
        }
        si->id_column = pa_xstrdup(PQgetvalue(res, 0, 0));
    }
    si->id_type = pa_xstrdup(PQgetvalue(res, 0, 1));
    bool id_select = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    res = NULL;

    if (!col_select || !id_select) {
        pa_err_set(&r->err, PA_FAIL_PERMISSION,
                   "permission denied: role %s lacks SELECT on %s.%s (%s, %s): GRANT SELECT (%s, %s) ON %s.%s TO %s",
                 role, s->schema, s->table, si->id_column, s->column, hint_ident(conn, si->id_column, h1, sizeof h1),
                 hint_ident(conn, s->column, h2, sizeof h2), hint_ident(conn, s->schema, h3, sizeof h3),
                 hint_ident(conn, s->table, h4, sizeof h4), hint_ident(conn, role, h5, sizeof h5));
        goto out;
    }
    if (rls_active) {
        pa_err_set(&r->err, PA_FAIL_RLS,
                   "row-level security is active on %s.%s for role %s: rows could be hidden, so the surface cannot be "
                 "scanned completely; give the role BYPASSRLS (ALTER ROLE %s BYPASSRLS) or scan as a role that "
                 "bypasses the policies",
                 s->schema, s->table, role, hint_ident(conn, role, h1, sizeof h1));
        goto out;
    }

    char *qs = quote_ident(conn, s->schema), *qt = quote_ident(conn, s->table);
    if (!qs || !qt) {
        PQfreemem(qs);
        PQfreemem(qt);
        pa_db_classify(conn, NULL, &r->err);
        goto out;
    }
    si->qtable = pa_xasprintf("%s.%s", qs, qt);
    PQfreemem(qs);
    PQfreemem(qt);
    si->qcol = quote_ident(conn, s->column);
    si->qid = quote_ident(conn, si->id_column);
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* --- COPY binary row parsing --- */

static const char copy_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};

static uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static uint16_t rd16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return ntohs(v);
}

/* Parse one CopyData message: optional file header, then a tuple of 2 fields or the trailer.
 * Returns 1 with a row, 0 for the trailer / header only, -1 on malformed data. A NULL doc gives doc = NULL. */
static int parse_copy_row(const char *buf, int len, const char **id, int *idlen, const char **doc, int *doclen)
{
    const char *p = buf, *end = buf + len;
    if (len >= 19 && memcmp(p, copy_signature, 11) == 0) {
        uint32_t ext = rd32(p + 15);
        p += 19;
        if ((size_t)(end - p) < ext)
            return -1;
        p += ext;
    }
    if (end - p == 0)
        return 0;
    if (end - p < 2)
        return -1;
    int16_t nf = (int16_t)rd16(p);
    p += 2;
    if (nf == -1)
        return 0;
    if (nf != 2)
        return -1;
    for (int f = 0; f < 2; f++) {
        if (end - p < 4)
            return -1;
        int32_t fl = (int32_t)rd32(p);
        p += 4;
        const char *fp = NULL;
        if (fl >= 0) {
            if (end - p < fl)
                return -1;
            fp = p;
            p += fl;
        }
        if (f == 0) {
            *id = fp;
            *idlen = fl;
        } else {
            *doc = fp;
            *doclen = fl;
        }
    }
    return 1;
}

/* --- readers ---
 *
 * A surface is read by scan.parallelism readers (threads), each over its own id range (lo, hi] (NULL = open) and
 * on its own two connections. A reader pipelines its keyset batches: batch N+1's bounds are fixed by a cheap
 * index-only boundary query (the limit-th id after batch N's end) and its COPY is sent on the other connection
 * before batch N is read, so the server starts on N+1 while we detect N and no round trip separates batches.
 * Each finished batch goes to the coordinator (the scanning thread) through a one-place hand-off; the coordinator
 * commits findings + cursor on the store connection while the reader goes on. So per reader at most two batches
 * are in our memory (one being read, one being committed) and one more is requested (its rows wait in the
 * server's socket buffer). Readers never touch the store, the observer or the surface result. */

struct id_range {
    char *lo, *hi;  /* exclusive low, inclusive high; NULL = open on that side */
    char *end;      /* committed position: every row of the range <= end was read and committed */
    bool complete;  /* every row of the range was read and committed */
};

struct surface_job;

struct batch_result {
    struct surface_job *job;   /* the surface and range this batch was read from */
    size_t range;
    struct pa_batch batch;     /* findings to store */
    struct pa_catcounts found; /* findings by category (dry run) */
    long long rows, bytes, invalid_documents, truncated_records;
    struct pa_buf end;         /* every row of the range <= end was read (empty: no position yet) */
    bool range_done;
    bool failed;
    struct pa_err err;
};

struct scan_pool;

/* A reader thread of the scan's pool: it takes id ranges from the pool's queue, of any surface, and reads each on
 * its two connections (kept from range to range, renewed after a failure). */
struct reader {
    struct scan_pool *pool;
    pthread_t thread;
    PGconn *conn[2];
    struct pa_detect_ctx *dctx;
    struct batch_result slot[2];
    int fill;                   /* index of the slot being filled */
    struct batch_result *ready; /* handed to the coordinator; NULL once it is done with it (under pool->mu) */
    bool idle;                  /* under pool->mu: waiting for a range */
    struct surface_job *job;    /* the range being read: job->ranges[idx] */
    size_t idx;
    struct batch_result *cur;   /* the slot being filled, for on_finding */
    const char *record_id;      /* the row being detected */
    size_t record_id_len;
    long pause_ns;              /* read_batch's pause once the socket is drained (COALESCE_*) */
};

/* One surface of the scan, from its checks to its outcome. Owned by the coordinator (the scanning thread) except
 * `abort`, and the ranges' bounds, which readers only read. */
struct surface_job {
    struct scan_pool *pool;
    const struct scan_state *st;
    struct pa_surface_result *r;
    struct surface_info info;
    const char *surface;        /* schema.table.column, for messages */
    bool store;                 /* findings are recorded (not a dry run) */
    double t0;
    bool abort;                 /* under pool->mu: give up at the next batch boundary */
    struct pa_cursor cursor;    /* the stored cursor at the start */
    const char *after;          /* where this scan starts (NULL: the beginning) */
    bool move_cursor;           /* every committed batch moves the cursor (incremental and first scans) */
    bool started, locked;       /* recorded in scan_run_surfaces; advisory lock held on the store session */
    unsigned store_gen;         /* the store session the lock is held on */
    bool read_failed, store_failed;
    struct id_range *ranges;
    size_t n;                   /* ranges */
    size_t open;                /* ranges a reader may still hand batches of (queued or being read) */
    double last_print;
};

/* A range waiting for a reader. */
struct work {
    struct surface_job *job;
    size_t idx;
};

/* The scan's readers (scan.parallelism of them) and their queue of ranges. Surfaces are read in parallel when
 * readers are free: a surface is started when a reader is idle and no range waits, so at most scan.parallelism
 * backends produce rows at any time, whatever the number of surfaces. */
struct scan_pool {
    const struct scan_state *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct reader *readers;
    size_t n;        /* readers started */
    struct work *queue;
    size_t qhead, qlen, qcap;
    bool shutdown;   /* under mu: no more ranges will come */
    bool stopped;    /* the readers are joined and freed */
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
                     f->detector == PA_DET_KEY ? "key" : "value", f->rule);
    else
        pa_catcounts_add(&rd->cur->found, f->category, 1);
    pa_debug("finding: record %.*s path %s category %s rule %s", (int)rd->record_id_len, rd->record_id, f->path,
             f->category, f->rule);
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
    fprintf(stderr, "\r\033[K%s.%s: %lld / ~%lld rows, %.0f rows/s, ETA %s%s", r->table, r->surface->column,
            done, r->rows_estimated > 0 ? r->rows_estimated : 0, rate, eta, final ? "\n" : "");
}

static void result_fail(struct batch_result *b, enum pa_fail_reason reason, const char *msg)
{
    b->failed = true;
    pa_err_set(&b->err, reason, "%s", msg);
}

static bool job_stopping(struct surface_job *job)
{
    const struct pa_scan_opts *o = job->st->opts;
    if (o->stop && *o->stop)
        return true;
    pthread_mutex_lock(&job->pool->mu);
    bool a = job->abort;
    pthread_mutex_unlock(&job->pool->mu);
    return a;
}

/* " WHERE id > lo AND id <= hi" (either part optional) into sql; -1 when a literal cannot be quoted. */
static int append_bounds(PGconn *conn, const struct surface_info *si, struct pa_buf *sql, const char *lo,
                         const char *hi)
{
    const char *bound[2] = {lo, hi};
    bool where = false;
    for (int i = 0; i < 2; i++) {
        if (!bound[i])
            continue;
        char *lit = PQescapeLiteral(conn, bound[i], strlen(bound[i]));
        if (!lit)
            return -1;
        pa_buf_printf(sql, " %s t.%s %s %s::%s", where ? "AND" : "WHERE", si->qid, i == 0 ? ">" : "<=", lit,
                      si->id_type);
        PQfreemem(lit);
        where = true;
    }
    return 0;
}

/* Fix the next batch of the range after position lo: its end is the limit-th id after lo (an index-only walk
 * over ids, no document is read), or the range's end when fewer rows are left. */
static int plan_batch(struct reader *rd, int c, const char *lo, struct batch_req *q, struct batch_result *b)
{
    struct surface_job *job = rd->job;
    const struct surface_info *si = &job->info;
    const struct id_range *rg = &job->ranges[rd->idx];
    PGconn *conn = rd->conn[c];
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "SELECT t.%s::text FROM %s t", si->qid, si->qtable);
    int rc = -1;
    if (append_bounds(conn, si, &sql, lo, rg->hi) != 0) {
        pa_db_classify(conn, NULL, &b->err);
        b->failed = true;
        goto out;
    }
    pa_buf_printf(&sql, " ORDER BY t.%s OFFSET %lld LIMIT 1", si->qid, job->st->limit - 1);
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
    const struct surface_info *si = &rd->job->info;
    PGconn *conn = rd->conn[c];
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "COPY (SELECT t.%s::text, t.%s::text FROM %s t", si->qid, si->qcol, si->qtable);
    int rc = -1;
    if (append_bounds(conn, si, &sql, q->lo, q->hi) != 0) {
        pa_db_classify(conn, NULL, &b->err);
        b->failed = true;
        goto out;
    }
    pa_buf_printf(&sql, " ORDER BY t.%s", si->qid);
    if (!q->hi)
        pa_buf_printf(&sql, " LIMIT %lld", rd->job->st->limit);
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
/* Read one batch sent on rd->conn[c]; detect each row into b. Returns rows read (>= 0) or -1 with b failed. The
 * last id read goes to last_id. */
static long long read_batch(struct reader *rd, int c, struct batch_result *b, struct pa_buf *last_id)
{
    struct surface_job *job = rd->job;
    const struct scan_state *st = job->st;
    const struct surface_info *si = &job->info;
    PGconn *conn = rd->conn[c];
    long long rows = 0;
    bool cancel_sent = false, failed = false;
    double stop_seen = 0;
    double wait_bound = (st->cfg->statement_timeout > 0 ? st->cfg->statement_timeout : 3600) + 30;

    PGresult *res = NULL;
    /* wait for the COPY OUT to start */
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
            failed = true;
            goto drain;
        }
    }
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        pa_db_classify(conn, res, &b->err);
        PQclear(res);
        res = NULL;
        failed = true;
        goto drain;
    }
    PQclear(res);
    res = NULL;

    double last_data = pa_now_monotonic();
    int dry_reads = 0;       /* reads since the last row that brought no complete row */
    size_t since_pause = 0;  /* bytes of rows since the last pause */
    bool paused = false;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            dry_reads = 0;
            since_pause += (size_t)n;
            const char *id, *doc;
            int idlen = -1, doclen = -1;
            int pr = parse_copy_row(buf, n, &id, &idlen, &doc, &doclen);
            if (pr == 1 && id && idlen >= 0) {
                rows++;
                rd->record_id = id;
                rd->record_id_len = (size_t)idlen;
                pa_buf_truncate(last_id, 0);
                pa_buf_append(last_id, id, (size_t)idlen);
                if (doc) {
                    struct pa_doc_result dr;
                    b->bytes += doclen;
                    if (pa_detect_doc(rd->dctx, job->surface, si->kind, doc, (size_t)doclen, on_finding, rd, &dr) !=
                        0) {
                        pa_err_set(&b->err, PA_FAIL_QUERY, "internal detector error on record %.*s", idlen, id);
                        failed = true;
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
                failed = true;
            }
            /* the row buffer held a scanned value: wipe it before libpq's allocator gets it back */
            explicit_bzero(buf, (size_t)n);
            PQfreemem(buf);
            if (failed) {
                pa_db_cancel(conn);
                goto drain;
            }
            last_data = pa_now_monotonic();
            continue;
        }
        if (n == -1)
            break; /* COPY done */
        if (n == -2) {
            failed = true;
            break;
        }
        /* n == 0: nothing buffered yet */
        if (!cancel_sent && job_stopping(job)) {
            if (!stop_seen)
                stop_seen = pa_now_monotonic();
            else if (pa_now_monotonic() - stop_seen > 3) {
                pa_db_cancel(conn); /* the batch is taking too long: give up on it */
                cancel_sent = true;
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
        if (w < 0 || !PQconsumeInput(conn)) {
            failed = true;
            break;
        }
        if (w == 0 && pa_now_monotonic() - last_data > wait_bound) {
            pa_db_cancel(conn);
            pa_err_set(&b->err, PA_FAIL_TIMEOUT, "no data from the database within %.0fs", wait_bound);
            failed = true;
            goto drain;
        }
    }

drain:
    /* collect the final status; after a cancel or error this also drains the connection */
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
    b->failed = failed;
    return failed ? -1 : rows;
}

/* scan.max_rows_per_second over all readers of the scan: a batch may be requested once the rows requested before it
 * are due. A reader that was idle does not earn credit for a burst. */
static void throttle(struct reader *rd)
{
    struct surface_job *job = rd->job;
    struct scan_pool *pool = rd->pool;
    long long rate = job->st->cfg->max_rows_per_second;
    if (rate <= 0)
        return;
    pthread_mutex_lock(&pool->mu);
    double now = pa_now_monotonic();
    double due = pool->next_due > now ? pool->next_due : now;
    pool->next_due = due + (double)job->st->limit / (double)rate;
    pthread_mutex_unlock(&pool->mu);
    for (;;) {
        double left = due - pa_now_monotonic();
        if (left <= 0 || job_stopping(job))
            return;
        pa_sleep(left > 0.2 ? 0.2 : left);
    }
}

/* The next empty slot (waits until the coordinator is done with it). */
static struct batch_result *take_slot(struct reader *rd)
{
    struct batch_result *b = &rd->slot[rd->fill];
    pthread_mutex_lock(&rd->pool->mu);
    while (rd->ready == b)
        pthread_cond_wait(&rd->pool->cv, &rd->pool->mu);
    pthread_mutex_unlock(&rd->pool->mu);
    pa_batch_reset(&b->batch);
    pa_detect_ctx_wipe(rd->dctx); /* the memos hold bytes of the last batch's rows */
    pa_catcounts_free(&b->found);
    pa_buf_truncate(&b->end, 0);
    b->job = rd->job;
    b->range = rd->idx;
    b->rows = b->bytes = b->invalid_documents = b->truncated_records = 0;
    b->range_done = b->failed = false;
    pa_err_clear(&b->err);
    rd->cur = b;
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
        if (!(rd->conn[i] = pa_db_open(rd->pool->st->cfg, PA_DB_SCANNED, e)))
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

/* Read the range rd->job->ranges[rd->idx] in pipelined batches. Its last batch handed off is either range_done or
 * failed (a cancel is a failure). */
static void read_range(struct reader *rd)
{
    struct surface_job *job = rd->job;
    const struct pa_config *cfg = job->st->cfg;
    const struct id_range *rg = &job->ranges[rd->idx];
    struct batch_req cur = {0}, next = {0};
    struct pa_buf last_id;
    pa_buf_init(&last_id);
    /* throttled reads gain nothing from requesting ahead: they wait for the schedule anyway */
    bool prefetch = cfg->max_rows_per_second <= 0;
    int c = 0;
    struct batch_result *b = take_slot(rd);
    struct pa_err e;

    if (connect_conns(rd, &e) != 0) {
        result_fail(b, e.reason, e.msg);
        goto out;
    }
    if (job_stopping(job)) {
        result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
        goto out;
    }
    throttle(rd);
    if (plan_batch(rd, c, rg->lo, &cur, b) != 0 || send_batch(rd, c, &cur, b) != 0)
        goto out;
    for (;;) {
        bool have_next = false;
        if (prefetch && !cur.last && !job_stopping(job)) {
            /* batch N+1 starts on the server before we read batch N */
            if (plan_batch(rd, c ^ 1, cur.hi, &next, b) != 0 || send_batch(rd, c ^ 1, &next, b) != 0) {
                discard_query(rd->conn[c]);
                goto out;
            }
            have_next = true;
        }
        pa_buf_truncate(&last_id, 0);
        long long n = read_batch(rd, c, b, &last_id);
        if (n < 0) {
            if (have_next)
                discard_query(rd->conn[c ^ 1]);
            goto out;
        }
        b->rows = n;
        /* a bounded batch read everything up to its end; an open one up to its last row */
        const char *end = cur.hi ? cur.hi : last_id.len ? last_id.data : cur.lo;
        if (end)
            pa_buf_appends(&b->end, end);
        b->range_done = cur.last && (cur.hi || n < job->st->limit);
        bool done = b->range_done;
        hand_off(rd, b);
        if (done) {
            b = NULL;
            break;
        }
        b = take_slot(rd);
        if (!have_next) {
            if (job_stopping(job)) {
                result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
                goto out;
            }
            throttle(rd);
            /* end still points into cur or last_id: neither changes before this batch is planned */
            if (plan_batch(rd, c ^ 1, end, &next, b) != 0 || send_batch(rd, c ^ 1, &next, b) != 0)
                goto out;
        }
        req_free(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
        c ^= 1;
    }
out:
    if (b) {
        if (!b->failed)
            result_fail(b, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
        hand_off(rd, b);
        close_conns(rd); /* whatever state they were left in, the next range starts on fresh sessions */
    }
    req_free(&cur);
    req_free(&next);
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
    if (!(pool->st->opts->stop && *pool->st->opts->stop)) {
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
        long long scan_id = w.job->st->scan_id;
        pa_log_set_context(w.job->surface, scan_id);
        read_range(rd); /* the job may be gone once its last batch is handed off */
        scrub_stack();
        pa_log_set_context(NULL, scan_id);
    }
    close_conns(rd);
    return NULL;
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

static void fail_surface(struct pa_surface_result *r, enum pa_fail_reason reason, const char *msg)
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
    fail_surface(r, lost ? PA_FAIL_CONNECTION_LOST : PA_FAIL_FINDINGS_STORE, e->msg);
}

static void fail_store(PGconn *store, struct pa_surface_result *r, struct pa_err *e)
{
    fail_store_why(store, r, e, PA_FAIL_NONE);
}

static bool integer_id(const char *type)
{
    return strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 || strcmp(type, "smallint") == 0;
}

/* Split points for n readers, strictly increasing in the id's order, into pts (at most n - 1; *np set).
 * Integer ids: evenly between min and max of the ids after `after`. Other ids (full scans): evenly spaced bounds
 * of the id column's pg_stats histogram (already in the column's sort order); none when the table was never
 * analyzed. Any failure here only means fewer readers. */
static void split_points(PGconn *conn, const struct pa_surface *s, const struct surface_info *si, const char *after,
                         size_t n, char **pts, size_t *np)
{
    *np = 0;
    struct pa_err e;
    if (integer_id(si->id_type)) {
        struct pa_buf sql;
        pa_buf_init(&sql);
        pa_buf_printf(&sql, "SELECT min(t.%s)::text, max(t.%s)::text FROM %s t", si->qid, si->qid, si->qtable);
        if (append_bounds(conn, si, &sql, after, NULL) != 0) {
            pa_buf_free(&sql);
            return;
        }
        PGresult *res = pa_db_exec(conn, sql.data, 0, NULL, PGRES_TUPLES_OK, &e);
        pa_buf_free(&sql);
        if (!res)
            return;
        if (!PQgetisnull(res, 0, 0)) {
            __int128 lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10), hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
            __int128 prev = lo - 1;
            for (size_t i = 1; i < n; i++) {
                __int128 p = lo + (hi - lo) * (__int128)i / (__int128)n;
                if (p <= prev || p >= hi)
                    continue;
                pts[(*np)++] = pa_xasprintf("%lld", (long long)p);
                prev = p;
            }
        }
        PQclear(res);
        return;
    }
    if (after)
        return; /* incremental scans of non-integer ids read the new rows with one reader */
    const char *p[] = {s->schema, s->table, si->id_column};
    PGresult *res = pa_db_exec(conn,
                               "SELECT b FROM (SELECT histogram_bounds::text::text[] AS h FROM pg_catalog.pg_stats"
                               "  WHERE schemaname = $1 AND tablename = $2 AND attname = $3"
                               "  ORDER BY inherited DESC LIMIT 1) s, unnest(s.h) WITH ORDINALITY u(b, o) ORDER BY o",
                               3, p, PGRES_TUPLES_OK, &e);
    if (!res)
        return;
    int nb = PQntuples(res);
    if (nb >= 2) {
        int prev = -1;
        for (size_t i = 1; i < n; i++) {
            int k = (int)((long long)(nb - 1) * (long long)i / (long long)n);
            if (k <= prev || k <= 0 || k >= nb - 1)
                continue;
            pts[(*np)++] = pa_xstrdup(PQgetvalue(res, k, 0));
            prev = k;
        }
    } else {
        pa_info("%s: no statistics on id column %s (run ANALYZE): reading with one reader", s->name,
                si->id_column);
    }
    PQclear(res);
}

/* The committed prefix: the highest position such that every row of the surface up to it (after the starting
 * cursor) was read and committed. NULL when there is none yet. */
static const char *prefix_cursor(const struct surface_job *job, const char *start)
{
    const char *cur = start;
    for (size_t k = 0; k < job->n; k++) {
        const struct id_range *rg = &job->ranges[k];
        if (rg->complete) {
            cur = rg->hi ? rg->hi : rg->end ? rg->end : cur;
            continue;
        }
        if (rg->end)
            cur = rg->end;
        break;
    }
    return cur;
}

/* Queue a range for the readers; under pool->mu. */
static void pool_enqueue(struct scan_pool *pool, struct surface_job *job, size_t idx)
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

/* Take the queued ranges of job (of every job when NULL) off the queue; under pool->mu. A job that loses a range
 * it had not failed for is cancelled: it was not read in full. */
static void pool_drop(struct scan_pool *pool, struct surface_job *job)
{
    size_t kept = 0;
    for (size_t i = 0; i < pool->qlen; i++) {
        struct work w = pool->queue[(pool->qhead + i) % pool->qcap];
        if (job && w.job != job) {
            pool->queue[(pool->qhead + kept++) % pool->qcap] = w;
            continue;
        }
        w.job->open--;
        if (!w.job->read_failed) {
            fail_surface(w.job->r, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
            w.job->read_failed = true;
        }
    }
    pool->qlen = kept;
}

static void job_abort(struct scan_pool *pool, struct surface_job *job)
{
    pthread_mutex_lock(&pool->mu);
    job->abort = true;
    pool_drop(pool, job);
    pthread_mutex_unlock(&pool->mu);
}

/* The store session the surface's lock was taken on was replaced (it broke while another surface began): its lock
 * and its work on the store are gone. */
#define STORE_SESSION_LOST "the connection was lost during the scan (and the surface's lock with it)"
static bool store_session_lost(const struct scan_state *st, const struct surface_job *job)
{
    return job->store_gen != st->store_gen || !st->store_conn;
}

/* Record the surface, take its lock, check it, read its cursor and queue its id ranges. Returns false when it
 * ended before any read (a check or the store failed): end_surface() is due at once. */
static bool begin_surface(struct scan_state *st, struct scan_pool *pool, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    const struct pa_config *cfg = st->cfg;
    struct pa_err e;
    job->pool = pool;
    job->st = st;
    job->surface = s->name;
    job->store = st->store_conn && !st->opts->dry_run;
    job->t0 = job->last_print = pa_now_monotonic();
    job->store_gen = st->store_gen;

    /* record the surface first, so a surface that fails its checks has its outcome in scan_run_surfaces; the
     * mode is corrected when it finishes */
    if (st->store_conn && !st->opts->dry_run) {
        if (pa_findings_surface_start(st->store_conn, st->scan_id, r->table, s->column,
                                      st->opts->full ? "full" : "incremental", &e) != 0) {
            fail_store(st->store_conn, r, &e);
            return false;
        }
        job->started = true;
        int l = pa_findings_lock_surface(st->store_conn, s->name, &e);
        if (l != 1) {
            if (l == 0)
                fail_surface(r, PA_FAIL_BUSY, "another pii-auditd is scanning this surface (advisory lock held)");
            else
                fail_store(st->store_conn, r, &e);
            return false;
        }
        job->locked = true;
    }
    r->full = st->opts->full || st->opts->dry_run;
    if (check_surface(st->scan_conn, s, &job->info, r) != 0) {
        r->status = PA_SURFACE_FAILED;
        return false;
    }
    r->rows_estimated = job->info.estimate;

    struct pa_cursor *cur = &job->cursor;
    if (st->store_conn && pa_findings_get_cursor(st->store_conn, r->table, s->column, cur, &e) != 0) {
        if (!st->opts->dry_run) {
            fail_store(st->store_conn, r, &e);
            return false;
        }
    }
    if (cur->id_type && strcmp(cur->id_type, job->info.id_type) != 0) {
        pa_warn("%s: the id column type changed from %s to %s; reading the surface in full", s->name, cur->id_type,
                job->info.id_type);
        free(cur->last_id);
        cur->last_id = NULL;
        cur->last_full_scan_at = 0;
    }
    /* a dry run records nothing, so it reads everything: its "open" is what it found */
    r->full = st->opts->full || st->opts->dry_run || !cur->last_id || cur->last_full_scan_at <= 0 ||
              pa_now_wall() - cur->last_full_scan_at >= cfg->full_scan_interval;
    job->after = r->full ? NULL : cur->last_id;
    /* an incremental cursor moves with every batch; a full scan moves it only when there was none */
    job->move_cursor = !r->full || !cur->last_id;
    pa_info("%s: %s scan started (id column %s %s, ~%lld rows)", s->name, r->full ? "full" : "incremental",
            job->info.id_column, job->info.id_type, job->info.estimate > 0 ? job->info.estimate : 0);
    if (st->opts->on_surface_start)
        st->opts->on_surface_start(st->opts->observer, r);

    size_t want = st->readers;
    char **pts = pa_xcalloc(want, sizeof *pts);
    size_t np = 0;
    if (want > 1)
        split_points(st->scan_conn, s, &job->info, job->after, want, pts, &np);
    job->n = np + 1;
    job->ranges = pa_xcalloc(job->n, sizeof *job->ranges);
    for (size_t k = 0; k < job->n; k++) {
        job->ranges[k].lo = k == 0 ? (job->after ? pa_xstrdup(job->after) : NULL) : pa_xstrdup(pts[k - 1]);
        job->ranges[k].hi = k < np ? pa_xstrdup(pts[k]) : NULL;
    }
    for (size_t k = 0; k < np; k++)
        free(pts[k]);
    free(pts);
    if (job->n > 1)
        pa_info("%s: %zu readers over %zu id ranges", s->name, pool->n < job->n ? pool->n : job->n, job->n);
    pthread_mutex_lock(&pool->mu);
    for (size_t k = 0; k < job->n; k++)
        pool_enqueue(pool, job, k);
    job->open = job->n;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return true;
}

/* A batch handed off by a reader: its findings and the cursor committed in one transaction (or counted, in a dry
 * run). The cursor only moves over the committed prefix of the surface's ranges. */
static void take_batch(struct scan_state *st, struct scan_pool *pool, struct batch_result *b)
{
    struct surface_job *job = b->job;
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    double now = pa_now_monotonic();
    if (b->failed) {
        /* the first real failure names the surface's; a cancel only when nothing else went wrong */
        if (!job->read_failed || (r->err.reason == PA_FAIL_CANCELLED && b->err.reason != PA_FAIL_CANCELLED)) {
            if (!job->store_failed)
                fail_surface(r, b->err.reason, b->err.msg);
            job->read_failed = true;
        }
        job_abort(pool, job);
    } else if (!job->store_failed) {
        struct id_range *rg = &job->ranges[b->range];
        if (b->end.len) {
            free(rg->end);
            rg->end = pa_xstrdup(b->end.data);
        }
        rg->complete = b->range_done;
        r->rows += b->rows;
        r->bytes += b->bytes;
        r->invalid_documents += b->invalid_documents;
        r->truncated_records += b->truncated_records;
        if (job->store) {
            struct pa_batch_commit bc = {.scan_id = st->scan_id,
                                         .table = r->table,
                                         .column = s->column,
                                         .id_column = job->info.id_column,
                                         .id_type = job->info.id_type,
                                         .rows = b->rows,
                                         .bytes = b->bytes,
                                         .invalid_documents = b->invalid_documents,
                                         .truncated_records = b->truncated_records};
            bc.cursor = job->move_cursor ? prefix_cursor(job, job->after) : NULL;
            struct pa_err e;
            int rc = -1;
            bool lost = store_session_lost(st, job);
            if (lost)
                pa_err_set(&e, PA_FAIL_NONE, STORE_SESSION_LOST);
            else
                rc = pa_findings_commit_batch(st->store_conn, &b->batch, &bc, &r->new_by_cat, &e);
            if (rc != 0) {
                fail_store_why(lost ? NULL : st->store_conn, r, &e, lost ? PA_FAIL_NONE : e.reason);
                job->store_failed = job->read_failed = true;
                job_abort(pool, job);
            }
        } else {
            for (size_t i = 0; i < b->found.n; i++)
                pa_catcounts_add(&r->new_by_cat, b->found.v[i].name, b->found.v[i].n);
        }
        if (!job->store_failed) {
            pa_debug("%s: batch of %lld rows committed (range %zu)", s->name, b->rows, b->range);
            if (st->opts->on_batch)
                st->opts->on_batch(st->opts->observer, r, b->rows, b->bytes);
            if (st->opts->progress && (now - job->last_print > 0.5 || job->n == 1)) {
                job->last_print = now;
                progress_line(r, job->t0, 0, false);
            }
        }
    }
    if (b->failed || b->range_done)
        job->open--; /* the reader is done with this range */
}

/* The surface's outcome: the full scan's resolutions, the recorded outcome, the lock released, the log line. */
static void end_surface(struct scan_state *st, struct surface_job *job, bool was_read)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    struct pa_err e;
    bool same_store = !store_session_lost(st, job);
    if (was_read && !job->read_failed) {
        const char *final = prefix_cursor(job, job->after); /* points into the job's ranges */
        if (st->store_conn && !st->opts->dry_run && r->full) {
            if (!same_store) {
                pa_err_set(&e, PA_FAIL_NONE, STORE_SESSION_LOST);
                fail_store_why(NULL, r, &e, PA_FAIL_CONNECTION_LOST);
                goto out;
            }
            if (pa_findings_complete_full(st->store_conn, st->scan_id, r->table, s->column, job->info.id_column,
                                          job->info.id_type, final, &r->resolved_by_cat, &e) != 0) {
                fail_store(st->store_conn, r, &e);
                goto out;
            }
        }
        r->status = PA_SURFACE_OK;
    } else if (was_read && r->status == PA_SURFACE_OK) {
        fail_surface(r, r->err.reason != PA_FAIL_NONE ? r->err.reason : PA_FAIL_QUERY, NULL);
    }
out:
    if (st->opts->progress && r->rows)
        progress_line(r, job->t0, 0, true);
    r->duration = pa_now_monotonic() - job->t0;
    if (st->store_conn && PQstatus(st->store_conn) == CONNECTION_OK) {
        if (!st->opts->dry_run)
            pa_findings_open_counts(st->store_conn, r->table, s->column, &r->open_by_cat, &e);
        if (job->started) {
            struct pa_surface_outcome o = {
                .status = r->status == PA_SURFACE_OK ? "ok" : r->status == PA_SURFACE_CANCELLED ? "cancelled" : "failed",
                .mode = r->full ? "full" : "incremental",
                .error_class = r->status == PA_SURFACE_OK ? NULL : pa_fail_reason_name(r->err.reason),
                .error_message = r->status == PA_SURFACE_OK ? NULL : r->err.msg};
            if (pa_findings_surface_finish(st->store_conn, st->scan_id, r->table, s->column, &o, &e))
                pa_warn("%s: could not record the surface outcome: %s", s->name, e.msg);
        }
        if (job->locked && same_store)
            pa_findings_unlock_surface(st->store_conn, s->name);
    }
    if (st->opts->dry_run) {
        /* nothing is stored: what this scan found is what is open */
        for (size_t i = 0; i < r->new_by_cat.n; i++)
            pa_catcounts_add(&r->open_by_cat, r->new_by_cat.v[i].name, r->new_by_cat.v[i].n);
    }
    if (r->status == PA_SURFACE_OK)
        pa_info("%s: %s scan done: %lld rows, %lld bytes in %.2fs; %lld new, %lld resolved, %lld open findings",
                s->name, r->full ? "full" : "incremental", r->rows, r->bytes, r->duration,
                pa_catcounts_total(&r->new_by_cat), pa_catcounts_total(&r->resolved_by_cat),
                pa_catcounts_total(&r->open_by_cat));
    else
        pa_error("%s: surface not scanned (%s): %s", s->name, pa_fail_reason_name(r->err.reason), r->err.msg);
    if (st->opts->on_surface_done)
        st->opts->on_surface_done(st->opts->observer, r);
    /* a surface whose connection broke must not take the next ones down: the scanning connection is renewed
     * before the next surface (the readers renew theirs after a failed range) */
    if (r->err.reason == PA_FAIL_CONNECTION_LOST || r->err.reason == PA_FAIL_CONNECT)
        st->renew_scan_conn = true;
}

static void job_free(struct surface_job *job)
{
    for (size_t k = 0; k < job->n; k++) {
        free(job->ranges[k].lo);
        free(job->ranges[k].hi);
        free(job->ranges[k].end);
    }
    free(job->ranges);
    pa_cursor_free(&job->cursor);
    info_free(&job->info);
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

/* Start the scan's readers (st->readers of them); returns how many started. */
static size_t pool_start(struct scan_pool *pool, const struct scan_state *st)
{
    size_t want = st->readers;
    pool->st = st;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->readers = pa_xcalloc(want, sizeof *pool->readers);
    for (size_t k = 0; k < want; k++) {
        struct reader *rd = &pool->readers[k];
        rd->pool = pool;
        rd->pause_ns = 250000;
        rd->dctx = pa_detect_ctx_new(st->det);
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
    return pool->n;
}

static void pool_stop(struct scan_pool *pool)
{
    if (pool->stopped)
        return;
    pool->stopped = true;
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
            fail_surface(r, e.reason, e.msg);
            return false; /* the next surface tries again */
        }
        st->renew_scan_conn = false;
    }
    if (use_store && (!st->store_conn || PQstatus(st->store_conn) != CONNECTION_OK)) {
        PQfinish(st->store_conn);
        st->store_gen++; /* locks and commits of surfaces begun on the old session are void */
        st->store_conn = pa_db_open(st->cfg, PA_DB_STORE, &e);
        if (!st->store_conn) {
            fail_surface(r, PA_FAIL_FINDINGS_STORE, e.msg);
            return false;
        }
    }
    return true;
}

/* Scan the surfaces: the scanning thread starts a surface whenever a reader is idle and no range waits, and
 * commits the batches the readers hand off, of whichever surface. With scan.parallelism 1 the surfaces are read
 * one after the other on one reader; with N, up to N ranges of one or more surfaces at a time. */
static void scan_surfaces(struct scan_state *st, struct scan_pool *pool, struct pa_scan_result *res)
{
    const struct pa_scan_opts *opts = st->opts;
    bool use_store = st->store_conn != NULL; /* false only for a dry run without a reachable store */
    if (pool->n == 0) {
        for (size_t i = 0; i < res->n; i++)
            fail_surface(&res->surfaces[i], PA_FAIL_QUERY, "cannot start a reader thread");
        return;
    }
    struct surface_job *jobs = pa_xcalloc(res->n ? res->n : 1, sizeof *jobs);
    size_t next = 0, active = 0, turn = 0;
    double last_tick = pa_now_monotonic();
    for (;;) {
        struct reader *got = NULL;
        bool can_start = false;
        pthread_mutex_lock(&pool->mu);
        for (size_t k = 0; k < pool->n && !got; k++) {
            struct reader *rd = &pool->readers[(turn + k) % pool->n];
            if (rd->ready)
                got = rd;
        }
        for (size_t k = 0; k < pool->n && !pool->qlen; k++)
            if (pool->readers[k].idle)
                can_start = true;
        if (!got && !(can_start && next < res->n) && (active > 0 || next < res->n)) {
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
        double now = pa_now_monotonic();
        if (now - last_tick > 1) {
            last_tick = now;
            if (opts->on_tick)
                opts->on_tick(opts->observer);
        }
        if (got) {
            turn = (size_t)(got - pool->readers) + 1;
            pa_log_set_context(got->ready->job->surface, st->scan_id);
            take_batch(st, pool, got->ready);
            pthread_mutex_lock(&pool->mu);
            got->ready = NULL;
            pthread_cond_broadcast(&pool->cv);
            pthread_mutex_unlock(&pool->mu);
        }
        if (opts->stop && *opts->stop) {
            pthread_mutex_lock(&pool->mu);
            pool_drop(pool, NULL);
            pthread_mutex_unlock(&pool->mu);
        }
        for (size_t i = 0; i < next; i++) {
            struct surface_job *job = &jobs[i];
            if (job->r && job->ranges && job->open == 0) {
                pa_log_set_context(job->surface, st->scan_id);
                end_surface(st, job, true);
                job->r = NULL; /* ended */
                active--;
            }
        }
        if (next < res->n && can_start) {
            struct pa_surface_result *r = &res->surfaces[next];
            struct surface_job *job = &jobs[next++];
            pa_log_set_context(r->surface->name, st->scan_id);
            if (opts->stop && *opts->stop) {
                fail_surface(r, PA_FAIL_CANCELLED, "stopped by a signal before the surface was read");
            } else if (surface_conns(st, r, use_store)) {
                job->r = r;
                if (begin_surface(st, pool, job)) {
                    active++;
                } else {
                    end_surface(st, job, false);
                    job->r = NULL;
                }
            }
        }
        pa_log_set_context(NULL, st->scan_id);
        if (next >= res->n && active == 0)
            break;
    }
    pool_stop(pool); /* no reader touches a job any more */
    for (size_t i = 0; i < res->n; i++)
        job_free(&jobs[i]);
    free(jobs);
}

int pa_scan_run(const struct pa_config *cfg, const struct pa_detector *det, const struct pa_scan_opts *opts,
                struct pa_scan_result *res)
{
    memset(res, 0, sizeof *res);
    struct scan_state st = {.cfg = cfg, .opts = opts, .det = det};
    st.limit = cfg->max_rows_per_second > 0 && cfg->max_rows_per_second < cfg->batch_size ? cfg->max_rows_per_second
                                                                                           : cfg->batch_size;
    st.readers = cfg->parallelism > 1 ? (size_t)cfg->parallelism : 1;
    double t0 = pa_now_monotonic();
    struct pa_err e;
    int rc = -1;
    /* the readers start first: their connections are made while this thread makes its own and checks the first
     * surface (a backend's start is most of a small incremental scan) */
    struct scan_pool pool = {0};
    bool pooled = false;
    for (size_t i = 0; i < cfg->n_surfaces && !pooled; i++)
        pooled = want_surface(opts, &cfg->surfaces[i]);
    if (pooled)
        pool_start(&pool, &st);

    st.store_conn = pa_db_open(cfg, PA_DB_STORE, &e);
    if (!st.store_conn && !opts->dry_run) {
        pa_err_set(&res->err, e.reason, "cannot connect to the findings database: %s", e.msg);
        goto out;
    }
    if (st.store_conn && pa_findings_check_schema(st.store_conn, &e) != 0) {
        if (!opts->dry_run) {
            pa_err_set(&res->err, PA_FAIL_SCHEMA, "%s", e.msg);
            goto out;
        }
        /* a dry run needs no store: read everything */
        PQfinish(st.store_conn);
        st.store_conn = NULL;
    }
    st.scan_conn = pa_db_open(cfg, PA_DB_SCANNED, &e);
    if (!st.scan_conn) {
        pa_err_set(&res->err, e.reason, "cannot connect to the scanned database: %s", e.msg);
        goto out;
    }

    for (size_t i = 0; i < cfg->n_surfaces; i++)
        if (want_surface(opts, &cfg->surfaces[i]))
            res->n++;
    res->surfaces = pa_xcalloc(res->n ? res->n : 1, sizeof *res->surfaces);
    for (size_t i = 0, k = 0; i < cfg->n_surfaces; i++) {
        if (!want_surface(opts, &cfg->surfaces[i]))
            continue;
        res->surfaces[k].surface = &cfg->surfaces[i];
        res->surfaces[k].table = pa_xasprintf("%s.%s", cfg->surfaces[i].schema, cfg->surfaces[i].table);
        k++;
    }

    if (!opts->dry_run) {
        const char *mode = opts->full ? "full" : "incremental";
        st.scan_id = pa_findings_begin_run(st.store_conn, opts->trigger, mode, (int)res->n,
                                           &res->interrupted_runs, &e);
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
        scan_surfaces(&st, &pool, res);

    long long rows = 0, bytes = 0, nf = 0, rf = 0, inv = 0;
    bool any_full = false, any_incr = false;
    enum pa_fail_reason first_reason = PA_FAIL_NONE;
    const char *first_error = NULL;
    for (size_t i = 0; i < res->n; i++) {
        struct pa_surface_result *r = &res->surfaces[i];
        rows += r->rows;
        bytes += r->bytes;
        nf += pa_catcounts_total(&r->new_by_cat);
        rf += pa_catcounts_total(&r->resolved_by_cat);
        inv += r->invalid_documents;
        res->open_total += pa_catcounts_total(&r->open_by_cat);
        if (r->full)
            any_full = true;
        else
            any_incr = true;
        if (r->status != PA_SURFACE_OK) {
            res->failed++;
            if (r->status == PA_SURFACE_CANCELLED)
                res->cancelled = true;
            if (!first_error) {
                first_error = r->err.msg;
                first_reason = r->err.reason;
            }
        }
    }
    res->duration = pa_now_monotonic() - t0;
    if (!opts->dry_run && (!st.store_conn || PQstatus(st.store_conn) != CONNECTION_OK)) {
        PQfinish(st.store_conn);
        st.store_conn = pa_db_open(cfg, PA_DB_STORE, &e);
    }
    if (!opts->dry_run && st.store_conn && PQstatus(st.store_conn) == CONNECTION_OK) {
        /* a surface that lost the store connection could not record its outcome and would stay 'running' in a
         * finished run: record every failed surface's outcome again now (an idempotent UPDATE) */
        for (size_t i = 0; i < res->n; i++) {
            const struct pa_surface_result *r = &res->surfaces[i];
            if (r->status == PA_SURFACE_OK)
                continue;
            struct pa_surface_outcome o = {.status = r->status == PA_SURFACE_CANCELLED ? "cancelled" : "failed",
                                           .mode = r->full ? "full" : "incremental",
                                           .error_class = pa_fail_reason_name(r->err.reason),
                                           .error_message = r->err.msg};
            if (pa_findings_surface_finish(st.store_conn, st.scan_id, r->table, r->surface->column, &o, &e))
                pa_warn("%s: could not record the surface outcome: %s", r->surface->name, e.msg);
        }
        struct pa_run_totals t = {
            .status = res->cancelled ? "cancelled" : res->failed == 0 ? "ok" : (size_t)res->failed == res->n ? "failed" : "partial",
            .mode = any_full && any_incr ? "mixed" : any_full ? "full" : "incremental",
            .surfaces_failed = res->failed,
            .rows = rows,
            .bytes = bytes,
            .new_findings = nf,
            .resolved_findings = rf,
            .invalid_documents = inv,
            .error_class = first_error ? pa_fail_reason_name(first_reason) : NULL,
            .error_message = first_error};
        if (pa_findings_finish_run(st.store_conn, st.scan_id, &t, &e) != 0)
            pa_warn("could not record the end of scan %lld: %s", st.scan_id, e.msg);
    }
    pa_info("scan %lld finished in %.2fs: %zu surfaces, %d failed, %lld rows, %lld new, %lld resolved, %lld open "
            "findings",
            st.scan_id, res->duration, res->n, res->failed, rows, nf, rf, res->open_total);
    rc = 0;
out:
    if (pooled)
        pool_stop(&pool);
    pa_log_set_context(NULL, 0);
    if (st.scan_conn)
        PQfinish(st.scan_conn);
    if (st.store_conn)
        PQfinish(st.store_conn);
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
