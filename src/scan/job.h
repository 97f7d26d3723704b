/* scan/job: the coordinator's state, shared by its two rooms: scan.c (a surface from its checks to its outcome,
 * committing the readers' batches, the run) and plan.c (what a scan reads of a surface: the mode from the stored
 * cursor, the steps, their ranges and conditions). Private to src/scan/; the scanning thread's only (the readers see
 * a job's `read` member, reader.h).
 */
#ifndef PA_SCAN_JOB_H
#define PA_SCAN_JOB_H

#include <stddef.h>

#include "allowlist.h"
#include "db.h"
#include "scan.h"
#include "scan/catalog.h"
#include "scan/cursor.h"
#include "scan/reader.h"

#pragma GCC visibility push(hidden)

struct scan_state {
    const struct pa_config *cfg;
    const struct pa_scan_opts *opts;
    struct scan_pool *pool; /* NULL when no surface is selected, or once stopped */
    PGconn *scan_conn;      /* surface checks, watermarks, range splits, deleted records; the readers have their own */
    PGconn *store_conn;     /* NULL in dry-run when the store is unreachable */
    unsigned store_gen;     /* counts store sessions: a surface's lock lives on the session it was taken on */
    bool renew_scan_conn;   /* a surface lost its connection: renew scan_conn before the next one */
    long long scan_id;
    struct pa_db_server server; /* the scanned database: identity, role and limits (asked once per scan) */
    int database_id;            /* its id in the findings store (0: none, a dry run of a database not known there) */
    struct pa_allowlist allow;  /* the findings database's allowlist, read when the run starts */
};

/* The surface as the findings store keys it (the scanned database, its table and column). */
static inline struct pa_surface_key key_of(const struct scan_state *st, const struct pa_surface_result *r)
{
    return (struct pa_surface_key){.database_id = st->database_id, .table = r->table, .column = r->surface->column};
}

enum step { STEP_CHANGES, STEP_NEW_RELS, STEP_TAIL, STEP_FULL, STEP_END };

/* One surface of the scan, from its checks to its outcome. Owned by the scanning thread; the readers see `read`
 * only. */
struct surface_job {
    struct read_job read; /* what the readers see; a batch's job leads back here (job_of) */
    struct pa_surface_result *r;
    struct surface_info info;
    double t0;
    struct pa_cursor cursor; /* the stored cursor at the start */
    struct pa_watermark wm;  /* taken at the start, before any batch */
    char wm_text[96];        /* this scan's watermark as stored: xid8 (then " " and changed_column's value) */
    struct pa_rels rels;     /* the relations the rows live in (change detection, keyless surfaces) */
    /* the plan */
    bool changes, full;           /* change detection + tail; a full pass */
    bool full_fresh;              /* the full pass starts now (else it resumes at cursor.full_pos) */
    bool baseline;                /* the full pass's end sets the watermark (there is no valid one) */
    long long pass_scan_id;       /* the scan the full pass began in */
    const char *pass_watermark;   /* its watermark (wm_text, or the stored one) */
    const char *pass_fingerprint; /* what its positions refer to */
    char *pass_end;               /* where the full pass ended (its last key), kept for the baseline */
    /* the step being read */
    enum step step;
    const char *after; /* where the step's keyset starts (NULL: the beginning) */
    enum pa_cursor_move move;
    char *filter;                  /* the step's condition (read.filter) */
    struct pa_order changed_order; /* changed_column, then the key */
    bool started, locked;          /* recorded in scan_run_surfaces; advisory lock held on the store session */
    unsigned store_gen;            /* the store session the lock is held on */
    bool read_failed, store_failed;
    struct id_range *ranges;         /* read.ranges */
    struct range_progress *progress; /* per range: what is committed */
    size_t open;                     /* ranges a reader may still hand batches of (queued or being read) */
    double last_print;
};

static inline struct surface_job *job_of(struct read_job *rj)
{
    return (struct surface_job *)((char *)rj - offsetof(struct surface_job, read));
}

/* ---- scan.c ------------------------------------------------------------------------------------------------- */

/* The surface failed for `reason`; msg NULL: keep the message the result has. */
void pa_job_fail(struct pa_surface_result *r, enum pa_fail_reason reason, const char *msg);
/* A findings-store failure (connection_lost or findings_store, with the grants the role lacks). */
void pa_job_fail_store(PGconn *store, struct pa_surface_result *r, struct pa_err *e);

/* ---- plan.c ------------------------------------------------------------------------------------------------- */

/* "changed:<column>" or "xmin": a watermark of another kind is not used. */
void pa_plan_watermark_kind(const struct pa_surface *s, char *out, size_t cap);
/* The transaction id part of a stored watermark. */
unsigned long long pa_plan_wm_xid(const char *stored);
/* The changed_column part of a stored watermark ("" when none). */
const char *pa_plan_wm_changed(const char *stored);
/* What this scan reads of the surface, from the stored cursor. False with the surface failed. */
bool pa_plan_mode(struct scan_state *st, struct surface_job *job);
/* A full pass from the start, which sets the watermark at its end (nothing else is read). */
void pa_plan_fresh(struct scan_state *st, struct surface_job *job);
/* The relations of the surface, with those that joined since the watermark (their rows may be older than it). */
bool pa_plan_relations(struct scan_state *st, struct surface_job *job);
/* The ranges of the step read last, and their progress, freed. */
void pa_plan_ranges_free(struct surface_job *job);
/* Queue the first step after `from` that has something to read. False when none is left (or one failed). */
bool pa_plan_queue_next(struct scan_state *st, struct surface_job *job, enum step from);

#pragma GCC visibility pop

#endif
