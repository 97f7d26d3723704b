/* util: see util.h. Aborts on out-of-memory: a daemon that cannot allocate a few bytes cannot make progress,
 * and a clean abort (systemd restarts us) beats limping on with half-written state. */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "pii-auditd: out of memory allocating %zu bytes\n", n);
    if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
        /* nothing more we can do */
    }
    abort();
}

void *pa_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *pa_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *pa_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *pa_xstrdup(const char *s)
{
    return pa_xstrndup(s, strlen(s));
}

char *pa_xstrndup(const char *s, size_t n)
{
    char *p = pa_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pa_xasprintf(const char *fmt, ...)
{
    struct pa_buf b;
    pa_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    pa_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return b.data; /* never NULL: pa_buf_vprintf reserves the NUL even for "" */
}

void pa_buf_init(struct pa_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void pa_buf_reserve(struct pa_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < (SIZE_MAX / 2) ? cap * 2 : need;
    b->data = pa_xrealloc(b->data, cap);
    b->cap = cap;
}

void pa_buf_append(struct pa_buf *b, const void *p, size_t n)
{
    pa_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pa_buf_appendc(struct pa_buf *b, char c)
{
    pa_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void pa_buf_appends(struct pa_buf *b, const char *s)
{
    pa_buf_append(b, s, strlen(s));
}

void pa_buf_vprintf(struct pa_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        abort();
    pa_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void pa_buf_printf(struct pa_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pa_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void pa_buf_truncate(struct pa_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

void pa_buf_wipe(struct pa_buf *b)
{
    if (b->data && b->len)
        explicit_bzero(b->data, b->len);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void pa_buf_free(struct pa_buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    free(b->data);
    pa_buf_init(b);
}

int pa_parse_duration(const char *s, double *seconds)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0 || s[0] == '+' || s[0] == '-' || s[0] == ' ')
        return -1;
    /* strtod accepts hex and exponents; durations are plain decimals */
    for (const char *p = s; p < end; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -1;
    double mult;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mult = 1;
    else if (strcmp(end, "ms") == 0)
        mult = 0.001;
    else if (strcmp(end, "m") == 0)
        mult = 60;
    else if (strcmp(end, "h") == 0)
        mult = 3600;
    else if (strcmp(end, "d") == 0)
        mult = 86400;
    else if (strcmp(end, "w") == 0)
        mult = 7 * 86400;
    else
        return -1;
    *seconds = v * mult;
    return 0;
}

void pa_format_duration(double seconds, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
    for (size_t i = 0; i < PA_ARRAY_LEN(units); i++) {
        double q = seconds / units[i].mult;
        if (q >= 1 && fabs(q * 10 - round(q * 10)) < 1e-9) {
            snprintf(out, cap, "%g%s", q, units[i].unit);
            return;
        }
    }
    snprintf(out, cap, "%gms", seconds * 1000);
}

double pa_now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double pa_now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pa_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        /* a signal may want the loop to react: callers pass short sleeps and re-check their flags */
        break;
    }
}

/* The JSON string writer of both forms (name: pa_buf_append_json_name's). */
static void append_json(struct pa_buf *b, const char *s, size_t n, bool name)
{
    static const char hex[] = "0123456789abcdef";
    pa_buf_appendc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL; /* a two-byte escape */
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = name ? "\\b" : NULL; break;
        case '\f': esc = name ? "\\f" : NULL; break;
        default: break;
        }
        int k = 1;
        if (esc) {
            pa_buf_append(b, esc, 2);
        } else if (c < 0x20 || (name && c == 0x7f)) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pa_buf_append(b, e, 6);
        } else if (name && c >= 0x80 && (k = pa_utf8_step((const unsigned char *)s + i, n - i)) < 0) {
            pa_buf_append(b, "\\ufffd", 6);
            k = 1; /* one replacement per byte */
        } else {
            pa_buf_append(b, s + i, (size_t)k);
        }
        i += (size_t)k;
    }
    pa_buf_appendc(b, '"');
}

void pa_buf_append_json_string(struct pa_buf *b, const char *s, size_t n)
{
    append_json(b, s, n, false);
}

void pa_buf_append_json_name(struct pa_buf *b, const char *s, size_t n)
{
    append_json(b, s, n, true);
}

void pa_buf_append_sql_literal(struct pa_buf *b, const char *s)
{
    pa_buf_appendc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            pa_buf_appendc(b, '\'');
        pa_buf_appendc(b, *s);
    }
    pa_buf_appendc(b, '\'');
}

void pa_buf_append_json_list(struct pa_buf *b, const char *const *v, size_t n)
{
    pa_buf_appendc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            pa_buf_appendc(b, ',');
        pa_buf_append_json_string(b, v[i], strlen(v[i]));
    }
    pa_buf_appendc(b, ']');
}

uint64_t pa_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL; /* the 64-bit FNV prime, 1099511628211 */
    return h;
}

int pa_utf8_step(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4) /* a continuation byte, an overlong lead (C0, C1), or beyond U+10FFFF */
        return -1;
    int need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    /* the second byte's range: E0 no overlongs, ED no surrogates, F0 no overlongs, F4 nothing above U+10FFFF */
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (int i = 1; i < need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

bool pa_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        int k = pa_utf8_step(p + i, n - i);
        if (k < 0)
            return false;
        i += (size_t)k;
    }
    return true;
}
