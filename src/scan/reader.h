/* scan/reader: the hand-off between the scan's coordinator (scan/scan.c, the committing side) and its readers
 * (scan/reader.c, the side tuned for speed), internal to src/scan/.
 *
 * The coordinator queues a surface's id ranges (a read_job); scan.parallelism reader threads take them in order,
 * read each range in pipelined keyset batches on their own two connections, detect every row, and hand each
 * finished batch back (a batch_result). The coordinator commits it and gives the slot back. That is the whole
 * contract: readers never touch the findings store, the cursor, the observer or the surface result; the
 * coordinator never reads rows. Per reader at most two batches are in memory (one being read, one being
 * committed).
 * A batch a hot standby cancelled (recovery_conflict) is not handed over: its reader waits (1 s doubling to 30 s),
 * reconnects if it must, and reads it again from its position, up to scan.retry_attempts times in a row; the retries
 * ride on the next batch handed over (or on the failure that ends the range). */
#ifndef PA_SCAN_READER_H
#define PA_SCAN_READER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "detect.h"
#include "err.h"
#include "findings.h"
#include "scan/catalog.h"
#include "scan/cursor.h"
#include "util.h"

/* How a job's ranges are read. */
enum read_how {
    READ_KEYSET, /* ranges of positions in `order`: pipelined keyset batches */
    READ_BLOCKS, /* ranges of block numbers: one TID range per batch, its size adapted to the rows it returns */
};

/* What the readers may see of a surface's step. Set by the coordinator before its ranges are queued and not
 * changed (except `abort`) until its last batch was taken back. */
struct read_job {
    const char *surface;             /* schema.table.column, for messages and the log context */
    const struct surface_info *info; /* the quoted names, record id, key and document kind */
    bool store;                      /* findings are recorded (pa_batch); in a dry run only counted */
    long long scan_id;               /* for the log context */
    enum read_how how;
    const struct pa_order *order; /* READ_KEYSET: the order of the batches (the key; changed_column then key) */
    bool pos_is_rec;              /* READ_KEYSET: a row's position is its record id, so an open-ended last batch
                                      * reads at most a batch and the range goes on after its last row; otherwise
                                      * the last batch reads every row left */
    const char *filter;           /* a condition (SQL on row t) every row read must pass, or NULL */
    bool collect_ids;             /* each batch lists the record ids it read (their findings not seen again are
                                      * resolved with the batch) */
    long long chunk_blocks;       /* READ_BLOCKS: blocks of a range's first batch */
    const struct id_range *ranges;
    size_t n;
    const struct pa_detect_allow *allow; /* the findings database's allowlist entries of the surface */
    size_t n_allow;
    bool abort; /* under the pool's lock: give up at the next batch boundary */
};

/* A batch read from one range of a job, handed to the coordinator. */
struct batch_result {
    struct read_job *job;
    size_t range;              /* index in job->ranges */
    struct pa_batch batch;     /* findings to store */
    struct pa_catcounts found; /* findings by category (dry run) */
    long long rows, bytes, invalid_documents, truncated_records;
    long long oversized;              /* rows whose document was not fetched (scan.max_document_bytes); not in rows */
    long long retries[PA_FAIL_COUNT]; /* by reason: retries that came before this batch (recovery_conflict) */
    struct pa_buf end; /* every row of the range <= end (in blocks: < end) was read (empty: no position) */
    bool range_done;   /* the range's last batch: every row of it was read */
    bool failed;       /* a failed batch is its range's last (a cancel is a failure) */
    struct pa_err err;
};

struct pool_params {
    const struct pa_config *cfg;
    const struct pa_detector *det;
    volatile sig_atomic_t *stop; /* a signal's stop request: stop at the next batch boundary */
    long long limit;             /* rows per batch */
    size_t readers;              /* threads to start */
};

struct scan_pool;

/* Start the readers; they connect at once, before the first range comes. pa_pool_size() says how many started. */
struct scan_pool *pa_pool_start(const struct pool_params *p);
size_t pa_pool_size(const struct scan_pool *pool);
/* No more ranges: join the readers, close their connections and free the pool. */
void pa_pool_stop(struct scan_pool *pool);

/* Queue every range of job (job->n of them) for the readers. */
void pa_pool_queue(struct scan_pool *pool, struct read_job *job);

/* Called, under the pool's lock, for each queued range that pa_pool_drop() takes off the queue. */
typedef void (*pa_pool_dropped_fn)(void *arg, struct read_job *job);
/* Take job's queued ranges off the queue and set its abort flag (its readers give up at the next batch boundary);
 * with job NULL (a stop), every queued range. */
void pa_pool_drop(struct scan_pool *pool, struct read_job *job, pa_pool_dropped_fn dropped, void *arg);

/* The next finished batch (readers taken in turn), or NULL. When there is none, waits up to 250 ms for one unless
 * a new surface could start now (start_wanted and a reader idle with nothing queued) or nothing is in progress
 * (busy false). *can_start: a reader is idle and no range waits. */
struct batch_result *pa_pool_next(struct scan_pool *pool, bool start_wanted, bool busy, bool *can_start);
/* The coordinator is done with b: its reader may fill the slot again. */
void pa_pool_release(struct scan_pool *pool, struct batch_result *b);

/* The wait before retry number attempt + 1 of a read a hot standby cancelled: 1 s, doubling, at most 30 s (the
 * readers' batches and the coordinator's own queries alike). */
static inline double pa_retry_wait(int attempt)
{
    return attempt < 5 ? (double)(1 << attempt) : 30;
}

#endif
