/* arch: the CPU and byte-order features that the walker (jsonwalk_impl.h) and the detectors (src/detect/) may use,
 * decided once. Code tests these macros, never __SSE2__, __BYTE_ORDER__ or __x86_64__ itself, so one switch,
 * -DPA_NO_SIMD (meson -Dsimd=false), compiles every portable branch: the scalar build, whose unit tests run in
 * tests/run-all.sh, proves that both forms of each shortcut give the same answers.
 *
 *   PA_HAVE_SSE2             SSE2 intrinsics (<emmintrin.h> is included): 16-byte class masks in the walker's string
 *                            scan and in the value prefilter.
 *   PA_HAVE_POPCNT_DISPATCH  a function may be built with __attribute__((target("popcnt"))) and chosen at run time
 *                            with __builtin_cpu_supports (x86-64, GCC or clang; the build targets baseline x86-64).
 *                            Only with PA_HAVE_SSE2 (its one user, the mask prefilter, needs both).
 *   PA_HAVE_LE_WORDS         memory may be read as little-endian words (first byte in the low bits): the SWAR forms
 *                            (8 digits at a time, two-byte compares, the short-string prefilter).
 * PA_NO_SIMD leaves all three undefined. Kept in src/ (not src/detect/) because the walker uses it too and must not
 * depend on the detectors. Must never include anything but system headers.
 */
#ifndef PA_ARCH_H
#define PA_ARCH_H

#if !defined(PA_NO_SIMD) && defined(__SSE2__)
#define PA_HAVE_SSE2 1
#include <emmintrin.h>
#endif

#if defined(PA_HAVE_SSE2) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PA_HAVE_POPCNT_DISPATCH 1
#endif

#if !defined(PA_NO_SIMD) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PA_HAVE_LE_WORDS 1
#endif

#endif
