/* scan: see scan.h. Reads each surface in keyset batches with
 *   COPY (SELECT id::text, col::text FROM t WHERE id > $last ORDER BY id LIMIT n) TO STDOUT (FORMAT binary)
 * so the server streams rows while we detect (its jsonb-to-text work overlaps ours), then commits the batch's
 * findings with the cursor in one transaction. Must never log or store a byte of a scanned value. */
#include "scan.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    struct pa_detect_ctx *dctx;
    PGconn *scan_conn;
    PGconn *store_conn; /* NULL in dry-run when the store is unreachable */
    long long scan_id;
    struct pa_batch batch;
    /* the row being detected, for the finding callback */
    const char *record_id;
    size_t record_id_len;
    struct pa_surface_result *res; /* dry-run counts findings here */
    double surface_t0;             /* start of the current surface, for the progress line */
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

static PGresult *q(PGconn *conn, const char *sql, int n, const char *const *p, struct pa_surface_result *r)
{
    return pa_db_exec(conn, sql, n, p, PGRES_TUPLES_OK, r->error, sizeof r->error, &r->reason);
}

/* Check a surface before reading it; fills si or fails the surface with a reason and a message saying what to do. */
static int check_surface(PGconn *conn, const struct pa_surface *s, struct surface_info *si,
                         struct pa_surface_result *r)
{
    int rc = -1;
    PGresult *res = NULL;
    const char *p[] = {s->schema, s->table};
    char role[128] = "?";

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
        r->reason = PA_FAIL_MISSING;
        snprintf(r->error, sizeof r->error,
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
        r->reason = PA_FAIL_UNSUPPORTED_TYPE;
        snprintf(r->error, sizeof r->error,
                 "%s.%s is not a table, partitioned table or materialized view (relkind '%c')", s->schema, s->table,
                 relkind);
        goto out;
    }
    if (!schema_usage) {
        r->reason = PA_FAIL_PERMISSION;
        snprintf(r->error, sizeof r->error,
                 "permission denied: role %s lacks USAGE on schema %s (GRANT USAGE ON SCHEMA %s TO %s)", role,
                 s->schema, s->schema, role);
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
        r->reason = PA_FAIL_MISSING;
        snprintf(r->error, sizeof r->error, "column %s does not exist in table %s.%s", s->column, s->schema,
                 s->table);
        goto out;
    }
    const char *typ = PQgetvalue(res, 0, 1);
    if (strcmp(typ, "jsonb") == 0 || strcmp(typ, "json") == 0) {
        si->kind = PA_DOC_JSON;
    } else if (strcmp(typ, "text") == 0 || strcmp(typ, "varchar") == 0 || strcmp(typ, "bpchar") == 0) {
        si->kind = PA_DOC_TEXT;
    } else {
        r->reason = PA_FAIL_UNSUPPORTED_TYPE;
        snprintf(r->error, sizeof r->error,
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
            r->reason = PA_FAIL_MISSING;
            snprintf(r->error, sizeof r->error, "id column %s does not exist in table %s.%s", s->id_column,
                     s->schema, s->table);
            goto out;
        }
        if (PQgetvalue(res, 0, 3)[0] != 't') {
            r->reason = PA_FAIL_NO_UNIQUE_ID;
            snprintf(r->error, sizeof r->error,
                     "id column %s of %s.%s is not unique: keyset batches need a column with a unique index "
                     "(CREATE UNIQUE INDEX ... ON %s.%s (%s)) or the primary key",
                     s->id_column, s->schema, s->table, s->schema, s->table, s->id_column);
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
            r->reason = PA_FAIL_NO_UNIQUE_ID;
            snprintf(r->error, sizeof r->error,
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
        r->reason = PA_FAIL_PERMISSION;
        snprintf(r->error, sizeof r->error,
                 "permission denied: role %s lacks SELECT on %s.%s (%s, %s): GRANT SELECT (%s, %s) ON %s.%s TO %s",
                 role, s->schema, s->table, si->id_column, s->column, si->id_column, s->column, s->schema, s->table,
                 role);
        goto out;
    }
    if (rls_active) {
        r->reason = PA_FAIL_RLS;
        snprintf(r->error, sizeof r->error,
                 "row-level security is active on %s.%s for role %s: rows could be hidden, so the surface cannot be "
                 "scanned completely; give the role BYPASSRLS (ALTER ROLE %s BYPASSRLS) or scan as a role that "
                 "bypasses the policies",
                 s->schema, s->table, role, role);
        goto out;
    }

    char *qs = quote_ident(conn, s->schema), *qt = quote_ident(conn, s->table);
    if (!qs || !qt) {
        PQfreemem(qs);
        PQfreemem(qt);
        r->reason = pa_db_classify(conn, NULL, r->error, sizeof r->error);
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

static void on_finding(void *arg, const struct pa_finding *f)
{
    struct scan_state *st = arg;
    if (st->store_conn && !st->opts->dry_run)
        pa_batch_add(&st->batch, st->record_id, st->record_id_len, f->path, f->path_len, f->category,
                     f->detector == PA_DET_KEY ? "key" : "value", f->rule);
    else
        pa_catcounts_add(&st->res->new_by_cat, f->category, 1);
    pa_debug("finding: record %.*s path %s category %s rule %s", (int)st->record_id_len, st->record_id, f->path,
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

/* Read one batch with COPY; detect each row. Returns rows read (>= 0) or -1 with the surface failed. */
static long long read_batch(struct scan_state *st, const struct surface_info *si, const char *after, long long limit,
                            struct pa_buf *last_id)
{
    struct pa_surface_result *r = st->res;
    PGconn *conn = st->scan_conn;
    struct pa_buf sql;
    pa_buf_init(&sql);
    pa_buf_printf(&sql, "COPY (SELECT t.%s::text, t.%s::text FROM %s t", si->qid, si->qcol, si->qtable);
    if (after) {
        char *lit = PQescapeLiteral(conn, after, strlen(after));
        if (!lit) {
            r->reason = PA_FAIL_CONNECTION_LOST;
            snprintf(r->error, sizeof r->error, "cannot quote the cursor: %s", PQerrorMessage(conn));
            pa_buf_free(&sql);
            return -1;
        }
        pa_buf_printf(&sql, " WHERE t.%s > %s::%s", si->qid, lit, si->id_type);
        PQfreemem(lit);
    }
    pa_buf_printf(&sql, " ORDER BY t.%s LIMIT %lld) TO STDOUT (FORMAT binary)", si->qid, limit);

    long long rows = 0;
    bool cancel_sent = false, failed = false;
    double stop_seen = 0;
    double wait_bound = (st->cfg->statement_timeout > 0 ? st->cfg->statement_timeout : 3600) + 30;

    if (!PQsendQuery(conn, sql.data)) {
        r->reason = pa_db_classify(conn, NULL, r->error, sizeof r->error);
        pa_buf_free(&sql);
        return -1;
    }
    pa_buf_free(&sql);
    PGresult *res = NULL;
    /* wait for the COPY OUT to start */
    for (;;) {
        if (!PQisBusy(conn)) {
            res = PQgetResult(conn);
            break;
        }
        int w = pa_db_wait(conn, wait_bound);
        if (w <= 0 || !PQconsumeInput(conn)) {
            pa_db_cancel(conn);
            r->reason = w == 0 ? PA_FAIL_TIMEOUT : PA_FAIL_CONNECTION_LOST;
            snprintf(r->error, sizeof r->error, "no answer from the database within %.0fs", wait_bound);
            failed = true;
            goto drain;
        }
    }
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        r->reason = pa_db_classify(conn, res, r->error, sizeof r->error);
        PQclear(res);
        res = NULL;
        failed = true;
        goto drain;
    }
    PQclear(res);
    res = NULL;

    double last_data = pa_now_monotonic(), last_print = last_data, last_tick = last_data;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            const char *id, *doc;
            int idlen = -1, doclen = -1;
            int pr = parse_copy_row(buf, n, &id, &idlen, &doc, &doclen);
            if (pr == 1 && id && idlen >= 0) {
                rows++;
                st->record_id = id;
                st->record_id_len = (size_t)idlen;
                pa_buf_truncate(last_id, 0);
                pa_buf_append(last_id, id, (size_t)idlen);
                if (doc) {
                    struct pa_doc_result dr;
                    r->bytes += doclen;
                    if (pa_detect_doc(st->dctx, r->surface->name, si->kind, doc, (size_t)doclen, on_finding, st,
                                      &dr) != 0) {
                        r->reason = PA_FAIL_QUERY;
                        snprintf(r->error, sizeof r->error, "internal detector error on record %.*s", idlen, id);
                        failed = true;
                    }
                    if (dr.invalid_json) {
                        r->invalid_documents++;
                        pa_warn("%s: record %.*s holds invalid JSON; scanned as text", r->surface->name, idlen, id);
                    }
                    if (dr.truncated) {
                        r->truncated_records++;
                        pa_warn("%s: record %.*s has more findings than scan.max_findings_per_record; the rest "
                                "are not recorded",
                                r->surface->name, idlen, id);
                    }
                }
            } else if (pr < 0) {
                r->reason = PA_FAIL_QUERY;
                snprintf(r->error, sizeof r->error, "malformed COPY data from the server");
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
            if (last_data - last_tick > 1) {
                last_tick = last_data;
                if (st->opts->on_tick)
                    st->opts->on_tick(st->opts->observer);
            }
            if (st->opts->progress && last_data - last_print > 0.5) {
                last_print = last_data;
                progress_line(r, st->surface_t0, rows, false);
            }
            continue;
        }
        if (n == -1)
            break; /* COPY done */
        if (n == -2) {
            failed = true;
            break;
        }
        /* n == 0: nothing buffered yet */
        if (st->opts->stop && *st->opts->stop && !cancel_sent) {
            if (!stop_seen)
                stop_seen = pa_now_monotonic();
            else if (pa_now_monotonic() - stop_seen > 3) {
                pa_db_cancel(conn); /* the batch is taking too long: give up on it */
                cancel_sent = true;
            }
        }
        int w = pa_db_wait(conn, 0.25);
        if (st->opts->on_tick && pa_now_monotonic() - last_tick > 1) {
            last_tick = pa_now_monotonic();
            st->opts->on_tick(st->opts->observer);
        }
        if (w < 0 || !PQconsumeInput(conn)) {
            failed = true;
            break;
        }
        if (w == 0 && pa_now_monotonic() - last_data > wait_bound) {
            pa_db_cancel(conn);
            r->reason = PA_FAIL_TIMEOUT;
            snprintf(r->error, sizeof r->error, "no data from the database within %.0fs", wait_bound);
            failed = true;
            goto drain;
        }
    }

drain:
    /* collect the final status; after a cancel or error this also drains the connection */
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_COPY_OUT) {
            /* we stopped mid-COPY: the cancel is on its way, discard the remaining rows */
            char *buf;
            int n;
            while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
                explicit_bzero(buf, (size_t)n);
                PQfreemem(buf);
            }
        } else if (s != PGRES_COMMAND_OK && !failed) {
            r->reason = pa_db_classify(conn, res, r->error, sizeof r->error);
            failed = true;
        } else if (s != PGRES_COMMAND_OK && r->reason == PA_FAIL_NONE) {
            r->reason = pa_db_classify(conn, res, r->error, sizeof r->error);
        }
        PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
    if (failed && r->reason == PA_FAIL_NONE)
        r->reason = pa_db_classify(conn, NULL, r->error, sizeof r->error);
    if (cancel_sent && failed) {
        r->reason = PA_FAIL_CANCELLED;
        snprintf(r->error, sizeof r->error, "stopped by a signal during a batch");
    }
    return failed ? -1 : rows;
}

static void throttle(const struct scan_state *st, long long rows_done, double t0)
{
    long long rate = st->cfg->max_rows_per_second;
    if (rate <= 0)
        return;
    double due = (double)rows_done / (double)rate;
    for (;;) {
        double left = due - (pa_now_monotonic() - t0);
        if (left <= 0 || (st->opts->stop && *st->opts->stop))
            return;
        pa_sleep(left > 0.2 ? 0.2 : left);
    }
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
    r->reason = reason;
    if (msg)
        snprintf(r->error, sizeof r->error, "%s", msg);
}

/* A findings-store failure: a lost connection is reported as connection_lost (the server went away, as it would
 * for the scan connection when both are on one server); anything else is findings_store. */
static void fail_store(PGconn *store, struct pa_surface_result *r, const char *msg)
{
    bool lost = !store || PQstatus(store) == CONNECTION_BAD;
    char m[sizeof r->error];
    snprintf(m, sizeof m, "findings store: %s", msg);
    if (!lost)
        pa_findings_explain_denied(store, m, sizeof m);
    fail_surface(r, lost ? PA_FAIL_CONNECTION_LOST : PA_FAIL_FINDINGS_STORE, m);
}

static void scan_surface(struct scan_state *st, struct pa_surface_result *r)
{
    const struct pa_surface *s = r->surface;
    const struct pa_config *cfg = st->cfg;
    struct surface_info si = {0};
    struct pa_cursor cur = {0};
    struct pa_buf last_id, start_id;
    pa_buf_init(&last_id);
    pa_buf_init(&start_id);
    bool locked = false, started = false;
    double t0 = pa_now_monotonic();
    st->surface_t0 = t0;
    char err[512];
    pa_log_set_context(s->name, st->scan_id);

    /* record the surface first, so a surface that fails its checks has its outcome in scan_run_surfaces; the
     * mode is corrected when it finishes */
    if (st->store_conn && !st->opts->dry_run) {
        if (pa_findings_surface_start(st->store_conn, st->scan_id, r->table, s->column,
                                      st->opts->full ? "full" : "incremental", err, sizeof err) != 0) {
            fail_store(st->store_conn, r, err);
            goto out;
        }
        started = true;
        int l = pa_findings_lock_surface(st->store_conn, s->name, err, sizeof err);
        if (l != 1) {
            if (l == 0)
                fail_surface(r, PA_FAIL_BUSY, "another pii-auditd is scanning this surface (advisory lock held)");
            else
                fail_store(st->store_conn, r, err);
            goto out;
        }
        locked = true;
    }
    r->full = st->opts->full || st->opts->dry_run;
    if (check_surface(st->scan_conn, s, &si, r) != 0) {
        r->status = PA_SURFACE_FAILED;
        goto out;
    }
    r->rows_estimated = si.estimate;

    if (st->store_conn && pa_findings_get_cursor(st->store_conn, r->table, s->column, &cur, err, sizeof err) != 0) {
        if (!st->opts->dry_run) {
            fail_store(st->store_conn, r, err);
            goto out;
        }
    }
    if (cur.id_type && strcmp(cur.id_type, si.id_type) != 0) {
        pa_warn("%s: the id column type changed from %s to %s; reading the surface in full", s->name, cur.id_type,
                si.id_type);
        free(cur.last_id);
        cur.last_id = NULL;
        cur.last_full_scan_at = 0;
    }
    /* a dry run records nothing, so it reads everything: its "open" is what it found */
    r->full = st->opts->full || st->opts->dry_run || !cur.last_id || cur.last_full_scan_at <= 0 ||
              pa_now_wall() - cur.last_full_scan_at >= cfg->full_scan_interval;
    bool first_ever = !cur.last_id;
    const char *after = r->full ? NULL : cur.last_id;
    if (after)
        pa_buf_appends(&start_id, after);
    pa_info("%s: %s scan started (id column %s %s, ~%lld rows)", s->name, r->full ? "full" : "incremental",
            si.id_column, si.id_type, si.estimate > 0 ? si.estimate : 0);
    if (st->opts->on_surface_start)
        st->opts->on_surface_start(st->opts->observer, r);

    long long limit = cfg->batch_size;
    if (cfg->max_rows_per_second > 0 && cfg->max_rows_per_second < limit)
        limit = cfg->max_rows_per_second; /* keep each throttled step under a second */
    bool have_pos = after != NULL;
    for (;;) {
        if (st->opts->stop && *st->opts->stop) {
            fail_surface(r, PA_FAIL_CANCELLED, "stopped by a signal at a batch boundary");
            goto out;
        }
        pa_batch_reset(&st->batch);
        struct pa_batch_commit bc = {.scan_id = st->scan_id,
                                     .table = r->table,
                                     .column = s->column,
                                     .id_column = si.id_column,
                                     .id_type = si.id_type};
        long long inv0 = r->invalid_documents, tr0 = r->truncated_records, by0 = r->bytes;
        long long n = read_batch(st, &si, have_pos ? start_id.data : NULL, limit, &last_id);
        pa_detect_ctx_wipe(st->dctx); /* decoded values of this batch */
        if (n < 0) {
            r->status = r->reason == PA_FAIL_CANCELLED ? PA_SURFACE_CANCELLED : PA_SURFACE_FAILED;
            goto out;
        }
        if (n == 0)
            break;
        r->rows += n;
        if (st->store_conn && !st->opts->dry_run) {
            bc.rows = n;
            bc.bytes = r->bytes - by0;
            bc.invalid_documents = r->invalid_documents - inv0;
            bc.truncated_records = r->truncated_records - tr0;
            /* an incremental cursor moves with every batch; a full scan moves it only when there was none */
            bc.cursor = (!r->full || first_ever) ? last_id.data : NULL;
            enum pa_fail_reason why = PA_FAIL_NONE;
            if (pa_findings_commit_batch(st->store_conn, &st->batch, &bc, &r->new_by_cat, err, sizeof err, &why) !=
                0) {
                fail_store(st->store_conn, r, err);
                goto out;
            }
        }
        pa_debug("%s: batch of %lld rows committed, last id %s", s->name, n, last_id.data);
        if (st->opts->on_batch)
            st->opts->on_batch(st->opts->observer, r, n, r->bytes - by0);
        pa_buf_truncate(&start_id, 0);
        pa_buf_append(&start_id, last_id.data, last_id.len);
        have_pos = true;
        if (st->opts->progress)
            progress_line(r, t0, 0, false);
        if (n < limit)
            break;
        throttle(st, r->rows, t0);
    }

    if (st->store_conn && !st->opts->dry_run && r->full) {
        if (pa_findings_complete_full(st->store_conn, st->scan_id, r->table, s->column, si.id_column, si.id_type,
                                      have_pos ? start_id.data : NULL, &r->resolved_by_cat, err, sizeof err) != 0) {
            fail_store(st->store_conn, r, err);
            goto out;
        }
    }
    r->status = PA_SURFACE_OK;
out:
    if (st->opts->progress && r->rows)
        progress_line(r, t0, 0, true);
    r->duration = pa_now_monotonic() - t0;
    if (st->store_conn && PQstatus(st->store_conn) == CONNECTION_OK) {
        if (!st->opts->dry_run)
            pa_findings_open_counts(st->store_conn, r->table, s->column, &r->open_by_cat, err, sizeof err);
        if (started) {
            struct pa_surface_outcome o = {
                .status = r->status == PA_SURFACE_OK ? "ok" : r->status == PA_SURFACE_CANCELLED ? "cancelled" : "failed",
                .mode = r->full ? "full" : "incremental",
                .error_class = r->status == PA_SURFACE_OK ? NULL : pa_fail_reason_name(r->reason),
                .error_message = r->status == PA_SURFACE_OK ? NULL : r->error};
            if (pa_findings_surface_finish(st->store_conn, st->scan_id, r->table, s->column, &o, err, sizeof err))
                pa_warn("%s: could not record the surface outcome: %s", s->name, err);
        }
        if (locked)
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
        pa_error("%s: surface not scanned (%s): %s", s->name, pa_fail_reason_name(r->reason), r->error);
    if (st->opts->on_surface_done)
        st->opts->on_surface_done(st->opts->observer, r);
    pa_log_set_context(NULL, st->scan_id);
    pa_buf_free(&last_id);
    pa_buf_free(&start_id);
    pa_cursor_free(&cur);
    info_free(&si);
}

PGconn *pa_scan_connect_db(const struct pa_config *cfg, char *err, size_t errlen, enum pa_fail_reason *why)
{
    struct pa_db_settings ss = {.statement_timeout = cfg->statement_timeout,
                                .lock_timeout = cfg->lock_timeout,
                                .connect_timeout = cfg->connect_timeout,
                                .read_only = true};
    PGconn *c = pa_db_connect(cfg->db_conninfo, cfg->db_password_file, &ss, err, errlen, why);
    if (c) {
        /* with row_security off, a query that RLS would filter fails instead of silently hiding rows */
        PGresult *r = pa_db_exec(c, "SET row_security = off", 0, NULL, PGRES_COMMAND_OK, err, errlen, why);
        if (!r) {
            PQfinish(c);
            return NULL;
        }
        PQclear(r);
    }
    return c;
}

PGconn *pa_scan_connect_store(const struct pa_config *cfg, bool read_only, char *err, size_t errlen,
                              enum pa_fail_reason *why)
{
    struct pa_db_settings ss = {.statement_timeout = cfg->statement_timeout,
                                .lock_timeout = cfg->lock_timeout,
                                .connect_timeout = cfg->connect_timeout,
                                .read_only = read_only};
    const char *ci = cfg->findings_conninfo ? cfg->findings_conninfo : cfg->db_conninfo;
    const char *pw = cfg->findings_conninfo ? cfg->findings_password_file : cfg->db_password_file;
    return pa_db_connect(ci, pw, &ss, err, errlen, why);
}

int pa_scan_run(const struct pa_config *cfg, const struct pa_detector *det, const struct pa_scan_opts *opts,
                struct pa_scan_result *res)
{
    memset(res, 0, sizeof *res);
    struct scan_state st = {.cfg = cfg, .opts = opts};
    pa_batch_init(&st.batch);
    double t0 = pa_now_monotonic();
    char err[512];
    int rc = -1;
    enum pa_fail_reason why = PA_FAIL_NONE;

    st.store_conn = pa_scan_connect_store(cfg, false, err, sizeof err, &why);
    if (!st.store_conn && !opts->dry_run) {
        res->reason = why;
        snprintf(res->error, sizeof res->error, "cannot connect to the findings database: %s", err);
        goto out;
    }
    if (st.store_conn && pa_findings_check_schema(st.store_conn, err, sizeof err) != 0) {
        if (!opts->dry_run) {
            res->reason = PA_FAIL_SCHEMA;
            snprintf(res->error, sizeof res->error, "%s", err);
            goto out;
        }
        /* a dry run needs no store: read everything */
        PQfinish(st.store_conn);
        st.store_conn = NULL;
    }
    st.scan_conn = pa_scan_connect_db(cfg, err, sizeof err, &why);
    if (!st.scan_conn) {
        res->reason = why;
        snprintf(res->error, sizeof res->error, "cannot connect to the scanned database: %s", err);
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
        st.scan_id = pa_findings_begin_run(st.store_conn, opts->trigger, mode, (int)res->n, err, sizeof err);
        if (st.scan_id < 0) {
            res->reason = PA_FAIL_FINDINGS_STORE;
            snprintf(res->error, sizeof res->error, "cannot record the scan run: %s", err);
            goto out;
        }
        res->scan_id = st.scan_id;
    }
    pa_log_set_context(NULL, st.scan_id);
    pa_info("scan %lld started (%s, %zu surfaces%s)", st.scan_id, opts->trigger, res->n,
            opts->dry_run ? ", dry run" : "");

    st.dctx = pa_detect_ctx_new(det);
    bool use_store = st.store_conn != NULL; /* false only for a dry run without a reachable store */
    for (size_t i = 0; i < res->n; i++) {
        struct pa_surface_result *r = &res->surfaces[i];
        st.res = r;
        if (opts->stop && *opts->stop) {
            fail_surface(r, PA_FAIL_CANCELLED, "stopped by a signal before the surface was read");
            continue;
        }
        /* a surface whose connection broke must not take the next ones down: reconnect once */
        if (!st.scan_conn || PQstatus(st.scan_conn) != CONNECTION_OK) {
            PQfinish(st.scan_conn);
            st.scan_conn = pa_scan_connect_db(cfg, err, sizeof err, &why);
            if (!st.scan_conn) {
                fail_surface(r, why, err);
                continue; /* the next surface tries again */
            }
        }
        if (use_store && (!st.store_conn || PQstatus(st.store_conn) != CONNECTION_OK)) {
            PQfinish(st.store_conn);
            st.store_conn = pa_scan_connect_store(cfg, false, err, sizeof err, &why);
            if (!st.store_conn) {
                fail_surface(r, PA_FAIL_FINDINGS_STORE, err);
                continue;
            }
        }
        scan_surface(&st, r);
    }

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
                first_error = r->error;
                first_reason = r->reason;
            }
        }
    }
    res->duration = pa_now_monotonic() - t0;
    if (!opts->dry_run && (!st.store_conn || PQstatus(st.store_conn) != CONNECTION_OK)) {
        PQfinish(st.store_conn);
        st.store_conn = pa_scan_connect_store(cfg, false, err, sizeof err, &why);
    }
    if (!opts->dry_run && st.store_conn && PQstatus(st.store_conn) == CONNECTION_OK) {
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
        if (pa_findings_finish_run(st.store_conn, st.scan_id, &t, err, sizeof err) != 0)
            pa_warn("could not record the end of scan %lld: %s", st.scan_id, err);
    }
    pa_info("scan %lld finished in %.2fs: %zu surfaces, %d failed, %lld rows, %lld new, %lld resolved, %lld open "
            "findings",
            st.scan_id, res->duration, res->n, res->failed, rows, nf, rf, res->open_total);
    rc = 0;
out:
    pa_log_set_context(NULL, 0);
    if (st.dctx)
        pa_detect_ctx_free(st.dctx);
    pa_batch_free(&st.batch);
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
