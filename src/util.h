/* util: allocation wrappers that abort on out-of-memory, a growable byte buffer, durations and clocks.
 * Pure: no I/O besides the abort message; never sees scanned values except as opaque bytes in a pa_buf. */
#ifndef PA_UTIL_H
#define PA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *pa_xmalloc(size_t n);
void *pa_xcalloc(size_t nmemb, size_t size);
void *pa_xrealloc(void *p, size_t n);
char *pa_xstrdup(const char *s);
char *pa_xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string. */
char *pa_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer. `data` is always NUL-terminated after any append (len excludes the NUL). */
struct pa_buf {
    char *data;
    size_t len;
    size_t cap;
};

void pa_buf_init(struct pa_buf *b);
void pa_buf_reserve(struct pa_buf *b, size_t extra);
void pa_buf_append(struct pa_buf *b, const void *p, size_t n);
void pa_buf_appendc(struct pa_buf *b, char c);
void pa_buf_appends(struct pa_buf *b, const char *s);
void pa_buf_printf(struct pa_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pa_buf_vprintf(struct pa_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void pa_buf_truncate(struct pa_buf *b, size_t len);
/* Zero the used bytes (explicit_bzero) and reset len to 0; keeps the allocation for reuse. */
void pa_buf_wipe(struct pa_buf *b);
/* Wipe and free. */
void pa_buf_free(struct pa_buf *b);

/* Parse a duration: a non-negative integer or decimal followed by ms, s, m, h, d or w ("30s", "1.5h", "7d").
 * A bare number is seconds. Returns 0 and sets *seconds, or -1. */
int pa_parse_duration(const char *s, double *seconds);
/* Format seconds as a short duration ("7d", "30s", "1.5h") into out. */
void pa_format_duration(double seconds, char *out, size_t cap);

double pa_now_monotonic(void); /* seconds */
double pa_now_wall(void);      /* seconds since the epoch */
void pa_sleep(double seconds);

/* JSON string escaping for output we produce (paths, names): appends "..." with escapes (", \\, \n, \r, \t; other
 * control bytes as \u00XX; every other byte as it is). */
void pa_buf_append_json_string(struct pa_buf *b, const char *s, size_t n);
/* The same for a member name in a JSONPath (pa_jw_path): also \b, \f and \u007f, and the output is always valid
 * UTF-8 (paths are logged and stored as text): each byte that does not start a well-formed sequence becomes \ufffd. */
void pa_buf_append_json_name(struct pa_buf *b, const char *s, size_t n);
/* A SQL string literal for SQL we print or generate: '...' with quotes doubled (standard_conforming_strings on, the
 * default since PostgreSQL 9.1; backslashes are plain characters). */
void pa_buf_append_sql_literal(struct pa_buf *b, const char *s);

/* A JSON array of the strings v[0..n), for a query parameter that SQL unpacks with jsonb_array_elements_text():
 * one escaping rule for lists of names of any length, instead of PostgreSQL's array literal syntax. */
void pa_buf_append_json_list(struct pa_buf *b, const char *const *v, size_t n);

/* FNV-1a, 64 bits (Fowler/Noll/Vo), over n bytes, continuing from h: a whole hash starts from one of the bases below.
 * For hash tables and identities we compute, never for anything an attacker chooses to collide with a purpose. */
uint64_t pa_fnv1a64(uint64_t h, const void *p, size_t n);
/* The standard offset basis (detect's per-document dedupe of findings, xor'ed with the category). */
#define PA_FNV1A64_BASIS 0xcbf29ce484222325ULL
/* The "short basis" variant: 1469598103934665603, the standard 14695981039346656037 with its last decimal digit
 * dropped, as findings.c and metrics.c were first written. Its values are STORED: the 16 hex digits that end a cut
 * json_path in pii_audit.findings (pa_findings_store_path), so it never changes (a different value would make every
 * cut path a new finding). metrics.c's series hash uses it too (in memory only). */
#define PA_FNV1A64_BASIS_SHORT 1469598103934665603ULL

/* UTF-8 (RFC 3629, Unicode table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). The sequence at s, of
 * which n >= 1 bytes may be read: its length when well-formed (1 for ASCII), else minus the length of its maximal
 * ill-formed subpart (at least 1), which a decoder replaces by one U+FFFD (the Unicode "best practice"). */
int pa_utf8_step(const unsigned char *s, size_t n);
/* s[0..n) is well-formed UTF-8. */
bool pa_utf8_valid(const char *s, size_t n);

#endif
