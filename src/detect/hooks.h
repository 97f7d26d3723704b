/* hooks: test and bench hooks of detect, kept out of the module interface (detect.h). Nothing in src/ but detect.c
 * and values.c includes it; bench/jsonwalk_bench.c and the unit tests may.
 */
#ifndef PA_DETECT_HOOKS_H
#define PA_DETECT_HOOKS_H

#include "detect.h"

#include <stdbool.h>

/* For bench/jsonwalk_bench only: on = false switches the value detectors off in this context (keys only), so the
 * cost of each stage can be measured. Contexts start with them on; nothing else may call this. */
void pa_detect_ctx_bench_values(struct pa_detect_ctx *c, bool on);

/* For tests (tests/unit/peer_vectors.c, test_natid.c): pa_detect_value on s as the value of a member named `key`:
 * the value rules that key's meaning steers (a national_id key's identifier), not the key finding itself. Returns the
 * number of categories found, or -1 on a Hyperscan error. */
int pa_detect_value_under_key(struct pa_detect_ctx *c, const char *key, size_t klen, const char *s, size_t len,
                              pa_value_cb cb, void *arg);

#endif
