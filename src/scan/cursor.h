/* scan/cursor: the committed prefix, the one rule that keeps the stored cursor correct (internal to src/scan/).
 * A surface is read as id ranges (lo, hi] by several readers; a batch of a later range may commit before the ranges
 * before it are done, but the cursor may only move over ids below which EVERY row was read and committed. Pure. */
#ifndef PA_SCAN_CURSOR_H
#define PA_SCAN_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

/* A range of ids: exclusive low, inclusive high; NULL = open on that side. Of row locations (keyless surfaces,
 * change detection): block numbers, inclusive low, exclusive high. Fixed before its first batch is read. */
struct id_range {
    char *lo, *hi;
    char *filter; /* a condition (SQL on row t) of this range's rows only, or NULL */
};

/* How far a range is read and committed (kept by the committing side only). */
struct range_progress {
    char *end;     /* every row of the range <= end was read and committed (NULL: none yet) */
    bool complete; /* every row of the range was read and committed */
};

/* The highest position such that every row of the surface up to it (after start, the cursor the scan began from)
 * was read and committed: the ranges in order, each complete one passed whole, up to the first incomplete one's
 * committed end. NULL when there is none yet. Points into the arguments. */
const char *pa_scan_committed_prefix(const struct id_range *ranges, const struct range_progress *progress, size_t n,
                                     const char *start);

#endif
