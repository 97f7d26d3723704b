/* testutil: helpers the unit tests share, instead of each carrying its own copy: a deterministic pseudo-random
 * generator (xorshift64: the same sequence on every machine, so a failing case can be replayed) and, for Check
 * suites (included after <check.h>), running one suite as a test program's exit status.
 * Test code only; never linked into the daemon.
 */
#ifndef PA_TESTUTIL_H
#define PA_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>

/* xorshift64 (Marsaglia 2003, shifts 13/7/17): *state must start non-zero; returns the next value. */
static inline uint64_t pa_test_rng(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

#ifdef CHECK_H
/* Run one suite (CK_NORMAL output; CK_FORK=no works for gdb and valgrind): EXIT_SUCCESS when every test passed. */
static inline int pa_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif

#endif
