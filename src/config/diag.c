/* config/diag: the wording of configuration errors and what of the user's text they may echo. See diag.h. Must never
 * print or log, and never quote a value a caller marks secret.
 */
#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pa_cfg_fail_at(struct pa_cfg_diag *d, size_t line, size_t col, const char *fmt, ...)
{
    if (!d->failed && d->err && d->errlen) {
        int n = snprintf(d->err, d->errlen, "%s:%zu:%zu: ", d->file, line + 1, col + 1);
        if (n >= 0 && (size_t)n < d->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    d->failed = true;
    return -1;
}

/* Quote a scalar for an error: at most PA_CFG_ECHO_MAX bytes (not cutting a UTF-8 sequence), control bytes escaped. */
const char *pa_cfg_quote(const char *s, size_t len, char *out, size_t cap)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appendc(&b, '"');
    size_t i = 0;
    for (; i < len && i < PA_CFG_ECHO_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            pa_buf_printf(&b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            pa_buf_printf(&b, "\\x%02x", ch);
        else
            pa_buf_appendc(&b, (char)ch);
    }
    while (i < len && i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80 && b.len > 1) {
        /* do not end in the middle of a UTF-8 sequence: drop the partial character */
        i--;
        pa_buf_truncate(&b, b.len - 1);
    }
    pa_buf_appendc(&b, '"');
    if (i < len)
        pa_buf_appends(&b, "...");
    snprintf(out, cap, "%s", b.data);
    pa_buf_free(&b);
    return out;
}

/* What the user wrote, for "got ...": the quoted value unless it may be secret. */
const char *pa_cfg_got(const struct pa_cfg_node *n, bool secret, char *out, size_t cap)
{
    if (n->kind != N_SCALAR || pa_cfg_is_null(n) || secret)
        return pa_cfg_kind_name(n);
    return pa_cfg_quote(n->s, n->len, out, cap);
}

/* Key names are echoed only when they look like key names: a conninfo pasted as a key stays out of messages. */
bool pa_cfg_keyish(const struct pa_cfg_node *n)
{
    if (n->kind != N_SCALAR || n->len == 0 || n->len > PA_CFG_ECHO_MAX)
        return false;
    for (size_t i = 0; i < n->len; i++) {
        char ch = n->s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static size_t levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* A closest name in names[] (NULL-terminated list via callback) within a small edit distance. */
const char *pa_cfg_suggest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(word, names[i]);
        if (d < bestd) {
            bestd = d;
            best = names[i];
        }
    }
    size_t limit = wl > 9 ? 3 : wl > 4 ? 2 : 1;
    return bestd <= limit ? best : NULL;
}

/* pa_format_duration, but 0 reads "0s" (not "0ms") in ranges. */
void pa_cfg_fmt_dur(double v, char *out, size_t cap)
{
    if (v == 0)
        snprintf(out, cap, "0s");
    else
        pa_format_duration(v, out, cap);
}
