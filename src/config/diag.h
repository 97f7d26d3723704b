/* config/diag: how a configuration error is worded, and which of the user's bytes it may echo.
 *
 * An error is one line, "file:line:column: key: what is wrong and how to fix it"; the first error of a load wins.
 * A quoted value is cut at PA_CFG_ECHO_MAX bytes (never inside a UTF-8 sequence) with control bytes escaped; a value
 * that may be secret, and a key name that does not look like one (a conninfo pasted as a key), are never echoed.
 * Must never print or log.
 */
#ifndef PA_CONFIG_DIAG_H
#define PA_CONFIG_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "tree.h"

#define PA_CFG_ECHO_MAX 40                         /* bytes of a bad value quoted back in an error */
#define PA_CFG_QUOTE_CAP (PA_CFG_ECHO_MAX * 4 + 8) /* room for pa_cfg_quote()'s output */
#define PA_CFG_DISP_MAX 160                        /* "detectors.patterns[123].category" and similar */

/* Where errors go: err receives the first one; failed stays set after it. */
struct pa_cfg_diag {
    const char *file;
    char *err;
    size_t errlen;
    bool failed;
};

/* Write "file:line:col: message" (0-based line and col, printed 1-based) unless an error is already there. -1. */
__attribute__((format(printf, 4, 5))) int pa_cfg_fail_at(struct pa_cfg_diag *d, size_t line, size_t col,
                                                         const char *fmt, ...);

/* s quoted for an error into out: at most PA_CFG_ECHO_MAX bytes then "...", control bytes and quotes escaped. */
const char *pa_cfg_quote(const char *s, size_t len, char *out, size_t cap);
/* What the user wrote, for "got ...": the quoted value unless it may be secret or is not a single value. */
const char *pa_cfg_got(const struct pa_cfg_node *n, bool secret, char *out, size_t cap);
/* A key name is echoed only when it looks like one (letters, digits, _ - .; at most PA_CFG_ECHO_MAX bytes). */
bool pa_cfg_keyish(const struct pa_cfg_node *n);
/* The closest of names[0..n) to word within a small edit distance (ASCII case ignored), for "did you mean", or NULL. */
const char *pa_cfg_suggest(const char *word, const char *const *names, size_t n);
/* A duration for a range in a message: pa_format_duration, but 0 reads "0s" (not "0ms"). */
void pa_cfg_fmt_dur(double v, char *out, size_t cap);

#endif
