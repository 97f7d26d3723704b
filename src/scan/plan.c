/* scan/plan: what a scan reads of a surface (job.h). From the stored cursor and this scan's watermark, the mode
 * (changes + tail, a full pass from the start, or a pass resumed where it stopped); then, one step at a time
 * (scan.c's header lists them), the step's condition (the change filter by transaction id or changed_column, the
 * relations that joined, the key bounds) and its ranges for the readers, by key or by block. It reads the catalog
 * and the stored cursor and queues work; it never commits anything: scan.c does.
 */
#include "scan/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* "changed:<column>" or "xmin": a watermark of another kind is not used. */
void pa_plan_watermark_kind(const struct pa_surface *s, char *out, size_t cap)
{
    if (s->changed_column)
        snprintf(out, cap, "changed:%s", s->changed_column);
    else
        snprintf(out, cap, "xmin");
}

/* A stored watermark (xid8 as text, optionally followed by a space and changed_column's value) usable against this
 * scan's: not newer than it, and less than 2^31 transactions older (rows carry 32-bit xids; an older watermark could
 * no longer tell new rows from old ones, so the surface is read in full). */
static bool window_ok(const char *stored, const struct pa_watermark *now)
{
    if (!stored || !*stored)
        return false;
    char *end;
    unsigned long long w = strtoull(stored, &end, 10);
    return end != stored && w <= now->next && now->next - w < (1ULL << 31);
}

unsigned long long pa_plan_wm_xid(const char *stored)
{
    return strtoull(stored, NULL, 10);
}

/* The changed_column part of a stored watermark ("" when none). */
const char *pa_plan_wm_changed(const char *stored)
{
    const char *sp = stored ? strchr(stored, ' ') : NULL;
    return sp ? sp + 1 : "";
}

/* What this scan reads of the surface, from the stored cursor. False with the surface failed. */
bool pa_plan_mode(struct scan_state *st, struct surface_job *job)
{
    struct pa_surface_result *r = job->r;
    const struct pa_surface *s = r->surface;
    const struct surface_info *si = &job->info;
    struct pa_cursor *cur = &job->cursor;
    struct pa_err e;
    struct pa_surface_key k = key_of(st, r);
    if (st->store_conn && st->database_id && pa_findings_get_cursor(st->store_conn, &k, cur, &e) != 0) {
        if (!st->opts->dry_run) {
            pa_job_fail_store(st->store_conn, r, &e);
            return false;
        }
    }
    bool keyless = si->key == KEY_CTID;
    bool same_key = cur->id_type && strcmp(cur->id_type, si->id_type) == 0 && cur->id_column &&
                    strcmp(cur->id_column, si->id_column) == 0;
    if (cur->id_type && !same_key)
        pa_warn("%s: the key changed from %s (%s) to %s (%s); reading the surface in full", s->name,
                cur->id_column ? cur->id_column : "?", cur->id_type, si->id_column, si->id_type);
    /* a full pass resumes on the same key and table (a keyless one: on the same files, or block numbers would
     * name other rows) */
    job->pass_fingerprint = keyless ? job->rels.fingerprint : si->oid;
    bool pass = same_key && cur->full_scan_id > 0 && cur->full_fingerprint &&
                strcmp(cur->full_fingerprint, job->pass_fingerprint) == 0;
    char kind[96];
    pa_plan_watermark_kind(s, kind, sizeof kind);
    bool baseline_ok = !keyless && same_key && window_ok(cur->watermark, &job->wm) && cur->watermark_kind &&
                       strcmp(cur->watermark_kind, kind) == 0 && cur->relation_oid == atoll(si->oid) &&
                       (!cur->tail_watermark || window_ok(cur->tail_watermark, &job->wm)) &&
                       (!s->changed_column || (cur->changed_watermark && *cur->changed_watermark));
    if (cur->watermark && !keyless && same_key && !baseline_ok)
        pa_warn("%s: the last scan's watermark cannot be used (%s); reading the surface in full", s->name,
                cur->relation_oid != atoll(si->oid)                              ? "the table was created anew"
                : !cur->watermark_kind || strcmp(cur->watermark_kind, kind) != 0 ? "changed_column changed"
                                                                                 : "too many transactions since");
    bool due = cur->last_full_scan_at <= 0 || pa_now_wall() - cur->last_full_scan_at >= st->cfg->full_scan_interval;
    /* a dry run records nothing, so it reads everything: its "open" is what it found */
    bool fresh = st->opts->full || st->opts->dry_run || (!pass && (keyless || !baseline_ok || due));
    job->full = fresh || pass || keyless;
    job->full_fresh = fresh;
    job->changes = !keyless && !fresh && baseline_ok;
    job->baseline = !keyless && (fresh || !baseline_ok);
    job->pass_scan_id = fresh ? st->scan_id : cur->full_scan_id;
    job->pass_watermark = fresh ? job->wm_text : cur->full_watermark;
    if (!fresh && pass)
        pa_info("%s: resuming the full scan begun in scan %lld at %s", s->name, cur->full_scan_id,
                cur->full_pos ? cur->full_pos : "the start");
    if (fresh && cur->full_scan_id > 0 && st->store_conn && !st->opts->dry_run &&
        pa_findings_drop_full(st->store_conn, &k, &e) != 0) {
        pa_job_fail_store(st->store_conn, r, &e);
        return false;
    }
    r->full = job->full;
    return true;
}

/* A full pass from the start, which sets the watermark at its end (nothing else is read). */
void pa_plan_fresh(struct scan_state *st, struct surface_job *job)
{
    job->changes = false;
    job->full = job->full_fresh = job->baseline = true;
    job->pass_scan_id = st->scan_id;
    job->pass_watermark = job->wm_text;
    job->r->full = true;
}

/* The relations of the surface, with those that joined since the watermark (their rows may be older than it). */
bool pa_plan_relations(struct scan_state *st, struct surface_job *job)
{
    char *attached = NULL;
    if (job->changes)
        attached = pa_catalog_xid_window("i.xmin", pa_plan_wm_xid(job->cursor.watermark));
    int rc = pa_catalog_relations(st->scan_conn, &job->info, attached, &job->rels, &job->r->err);
    free(attached);
    if (rc != 0) {
        job->r->status = PA_SURFACE_FAILED;
        return false;
    }
    return true;
}

/* Ranges [lo, hi) of blocks for n readers. */
static void block_ranges(struct surface_job *job, long long lo, long long hi, size_t n)
{
    if (hi < lo)
        hi = lo;
    if ((long long)n > hi - lo)
        n = hi - lo > 1 ? (size_t)(hi - lo) : 1;
    job->ranges = pa_xcalloc(n, sizeof *job->ranges);
    job->progress = pa_xcalloc(n, sizeof *job->progress);
    for (size_t k = 0; k < n; k++) {
        job->ranges[k].lo = pa_xasprintf("%lld", lo + (hi - lo) * (long long)k / (long long)n);
        job->ranges[k].hi = pa_xasprintf("%lld", lo + (hi - lo) * (long long)(k + 1) / (long long)n);
    }
    job->read.n = n;
}

/* Keyset ranges after job->after: one per reader where split points can be had, else one. */
static void key_ranges(struct scan_state *st, struct surface_job *job, bool split)
{
    const struct pa_surface *s = job->r->surface;
    size_t want = split && st->cfg->parallelism > 1 ? (size_t)st->cfg->parallelism : 1;
    char **pts = pa_xcalloc(want, sizeof *pts);
    size_t np = 0;
    if (want > 1)
        pa_catalog_split_points(st->scan_conn, s, &job->info, job->after, want, pts, &np);
    size_t n = np + 1;
    job->ranges = pa_xcalloc(n, sizeof *job->ranges);
    job->progress = pa_xcalloc(n, sizeof *job->progress);
    for (size_t k = 0; k < n; k++) {
        job->ranges[k].lo = k == 0 ? (job->after ? pa_xstrdup(job->after) : NULL) : pa_xstrdup(pts[k - 1]);
        job->ranges[k].hi = k < np ? pa_xstrdup(pts[k]) : NULL;
    }
    for (size_t k = 0; k < np; k++)
        free(pts[k]);
    free(pts);
    job->read.n = n;
}

void pa_plan_ranges_free(struct surface_job *job)
{
    for (size_t k = 0; k < job->read.n; k++) {
        free(job->ranges[k].lo);
        free(job->ranges[k].hi);
        free(job->ranges[k].filter);
        free(job->progress[k].end);
    }
    free(job->ranges);
    free(job->progress);
    job->ranges = NULL;
    job->progress = NULL;
    job->read.ranges = NULL;
    job->read.n = 0;
    free(job->filter);
    job->filter = NULL;
    job->read.filter = NULL;
}

/* Blocks per batch of row locations: a batch's worth of rows (scan.batch_size) at the table's density; when only
 * changed rows are wanted, eight times as many (most rows are dropped by the condition). */
static long long chunk_blocks(const struct scan_state *st, const struct surface_job *job, bool changes)
{
    double rpb = job->rels.rows_per_block > 0 ? job->rels.rows_per_block : 50;
    double b = (double)st->cfg->batch_size / rpb * (changes ? 8 : 1);
    return b < 1 ? 1 : b > 16384 ? 16384 : (long long)b;
}

/* "key <= last_id" in SQL (the rows past it are the tail's), appended to sql; -1 when it cannot be quoted. */
static int key_upto(struct scan_state *st, struct surface_job *job, struct pa_buf *sql, const char *pos)
{
    return pa_order_cmp(st->scan_conn, &job->info.key_order, sql, "<=", pos);
}

/* The changes step's condition: rows changed since the watermark with a key up to the tail. Keys up to
 * watermark_last_id were read by scans before the watermark; keys between it and last_id by scans since
 * tail_watermark (an interrupted tail), so those are re-read only when they changed after it. */
static int changes_filter(struct scan_state *st, struct surface_job *job, struct pa_buf *f)
{
    const struct pa_cursor *cur = &job->cursor;
    const struct pa_surface *s = job->r->surface;
    const struct surface_info *si = &job->info;
    if (key_upto(st, job, f, cur->last_id) != 0)
        return -1;
    if (s->changed_column) {
        /* changed_watermark is the older of the two (tail_watermark came later): a re-read, never a miss */
        char *lit = PQescapeLiteral(st->scan_conn, cur->changed_watermark, strlen(cur->changed_watermark));
        if (!lit)
            return -1;
        pa_buf_printf(f, " AND t.%s >= (%s::%s - interval '%.3f seconds')", si->qchanged, lit, si->changed_type,
                      s->changed_overlap);
        PQfreemem(lit);
        return 0;
    }
    char *w = pa_catalog_xid_window("t.xmin", pa_plan_wm_xid(cur->watermark));
    if (!cur->tail_watermark) {
        pa_buf_printf(f, " AND %s", w);
    } else {
        char *wa = pa_catalog_xid_window("t.xmin", pa_plan_wm_xid(cur->tail_watermark));
        if (cur->watermark_last_id) {
            pa_buf_appends(f, " AND ((");
            if (key_upto(st, job, f, cur->watermark_last_id) != 0) {
                free(w);
                free(wa);
                return -1;
            }
            pa_buf_printf(f, " AND %s) OR (NOT ", w);
            if (key_upto(st, job, f, cur->watermark_last_id) != 0) {
                free(w);
                free(wa);
                return -1;
            }
            pa_buf_printf(f, " AND %s))", wa);
        } else {
            pa_buf_printf(f, " AND %s", wa);
        }
        free(wa);
    }
    free(w);
    return 0;
}

/* Partitions that joined since the watermark are read whole by their own step: not here (their partition
 * constraints are on key columns, which the role may select). */
static void not_new_rels(const struct surface_job *job, struct pa_buf *f)
{
    for (size_t i = 0; i < job->rels.n; i++)
        if (job->rels.v[i].is_new && job->rels.v[i].constraint)
            pa_buf_printf(f, " AND NOT (%s)", job->rels.v[i].constraint);
}

static bool any_new_rel(const struct surface_job *job)
{
    for (size_t i = 0; i < job->rels.n; i++)
        if (job->rels.v[i].is_new)
            return true;
    return false;
}

/* Set up step `step` of the surface: its job for the readers and its ranges. False when the step has nothing to
 * read (skip it); -1 in *failed when it could not be set up (the surface failed). */
static bool setup_step(struct scan_state *st, struct surface_job *job, enum step step, bool *failed)
{
    const struct surface_info *si = &job->info;
    const struct pa_cursor *cur = &job->cursor;
    size_t readers = pa_pool_size(st->pool);
    struct read_job *rj = &job->read;
    rj->how = READ_KEYSET;
    rj->order = &si->key_order;
    rj->pos_is_rec = true;
    rj->collect_ids = false;
    job->after = NULL;
    job->move = PA_MOVE_NONE;
    struct pa_buf f;
    pa_buf_init(&f);
    switch (step) {
    case STEP_CHANGES:
        if (!job->changes || !cur->last_id)
            goto skip; /* no tail yet: every row is past it */
        if (changes_filter(st, job, &f) != 0)
            goto fail;
        not_new_rels(job, &f);
        rj->collect_ids = true;
        if (job->r->surface->changed_column) {
            rj->order = &job->changed_order;
            rj->pos_is_rec = false;
            job->ranges = pa_xcalloc(1, sizeof *job->ranges);
            job->progress = pa_xcalloc(1, sizeof *job->progress);
            rj->n = 1;
        } else {
            rj->how = READ_BLOCKS;
            rj->chunk_blocks = chunk_blocks(st, job, true);
            block_ranges(job, 0, job->rels.max_blocks, readers);
        }
        break;
    case STEP_NEW_RELS: {
        if (!job->changes || !cur->last_id || !any_new_rel(job))
            goto skip;
        if (key_upto(st, job, &f, cur->last_id) != 0)
            goto fail;
        size_t n = 0;
        for (size_t i = 0; i < job->rels.n; i++)
            n += job->rels.v[i].is_new;
        job->ranges = pa_xcalloc(n, sizeof *job->ranges);
        job->progress = pa_xcalloc(n, sizeof *job->progress);
        for (size_t i = 0, k = 0; i < job->rels.n; i++) {
            const struct pa_rel *x = &job->rels.v[i];
            if (!x->is_new)
                continue;
            pa_info("%s: partition %s joined the surface since its last scan: reading it whole", job->r->surface->name,
                    x->oid);
            /* in key order through the parent: the partition constraint prunes the scan to that partition, whose
             * part of the key's index serves the batches */
            job->ranges[k++].filter = pa_xstrdup(x->constraint);
        }
        rj->n = n;
        rj->collect_ids = true;
        break;
    }
    case STEP_TAIL:
        if (!job->changes)
            goto skip;
        job->after = cur->last_id;
        job->move = PA_MOVE_TAIL;
        key_ranges(st, job, true);
        break;
    case STEP_FULL:
        if (!job->full)
            goto skip;
        job->after = job->full_fresh ? NULL : cur->full_pos;
        job->move = PA_MOVE_FULL;
        if (si->key == KEY_CTID) {
            rj->how = READ_BLOCKS;
            rj->chunk_blocks = chunk_blocks(st, job, false);
            block_ranges(job, job->after ? atoll(job->after) : 0, job->rels.max_blocks, readers);
        } else {
            key_ranges(st, job, true);
        }
        break;
    default: goto skip;
    }
    job->filter = f.len ? pa_xstrdup(f.data + (strncmp(f.data, " AND ", 5) == 0 ? 5 : 0)) : NULL;
    pa_buf_free(&f);
    rj->filter = job->filter;
    rj->ranges = job->ranges;
    job->step = step;
    if (rj->n > 1 && step != STEP_NEW_RELS)
        pa_info("%s: %zu readers over %zu %s ranges", job->r->surface->name, readers < rj->n ? readers : rj->n, rj->n,
                rj->how == READ_BLOCKS ? "block" : "id");
    return true;
skip:
    pa_buf_free(&f);
    return false;
fail:
    pa_buf_free(&f);
    pa_db_classify(st->scan_conn, NULL, &job->r->err);
    job->r->status = PA_SURFACE_FAILED;
    *failed = true;
    return false;
}

/* Queue the first step after `from` that has something to read. False when none is left (or one failed). */
bool pa_plan_queue_next(struct scan_state *st, struct surface_job *job, enum step from)
{
    pa_plan_ranges_free(job);
    for (enum step s = from; s < STEP_END; s++) {
        bool failed = false;
        if (setup_step(st, job, s, &failed)) {
            job->open = job->read.n;
            pa_pool_queue(st->pool, &job->read);
            return true;
        }
        if (failed)
            return false;
    }
    job->step = STEP_END;
    return false;
}
