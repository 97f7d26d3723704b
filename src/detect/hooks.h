/* hooks: test and bench hooks of detect, kept out of the module interface (detect.h). Nothing in src/ but detect.c
 * includes it; bench/jsonwalk_bench.c and the unit tests may.
 */
#ifndef PA_DETECT_HOOKS_H
#define PA_DETECT_HOOKS_H

#include "detect.h"

#include <stdbool.h>

/* For bench/jsonwalk_bench only: on = false switches the value detectors off in this context (keys only), so the
 * cost of each stage can be measured. Contexts start with them on; nothing else may call this. */
void pa_detect_ctx_bench_values(struct pa_detect_ctx *c, bool on);

#endif
