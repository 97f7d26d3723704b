/* metrics: see metrics.h. A registry of families, each holding its series in a small open-addressing hash (O(1)
 * find-or-create on the update path) and in a list kept sorted by label values (so a scrape is a plain walk and
 * the output diffs stably). Label blocks are escaped once, when a series is created, so a scrape mostly copies.
 * Registration errors are programming errors and abort with a message; updates never fail.
 * Must never see a scanned value (label values are names), never block a scan for long, never do I/O under the lock
 * (the /proc reads for process_* happen after it is released). */
#include "metrics.h"
#include "metrics_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: every integer up to here is exact in a double */

struct series {
    uint64_t hash;
    char **values; /* n_labels sanitized label values; one allocation with the strings */
    char *inner;   /* `a="x",b="y"` escaped, no braces; "" without labels */
    double value;  /* gauge, counter */
    double sum;    /* histogram */
    uint64_t count;
    uint64_t *buckets; /* histogram: non-cumulative count per finite bound */
};

struct pa_metric {
    struct pa_metrics *reg;
    char *name;
    char *help; /* escaped */
    enum pa_metric_type type;
    size_t n_labels;
    char **label_names;
    double *bounds;
    char **le; /* formatted bounds */
    size_t n_bounds;

    struct series **slots; /* hash table, power-of-two size, linear probing */
    size_t n_slots;
    struct series **sorted; /* the same series sorted by label values */
    size_t n_series, cap_series;
};

struct pa_metrics {
    pthread_mutex_t mu;
    struct pa_metric **fams;
    size_t n_fams, cap_fams;
};

/* ---- locale ----------------------------------------------------------------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    /* glibc hands back its static C locale object here: nothing to free. */
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0) {
        fprintf(stderr, "pii-auditd: metrics: cannot create the C locale\n");
        abort();
    }
}

static locale_t get_c_locale(void)
{
    pthread_once(&c_locale_once, c_locale_init);
    return c_locale;
}

/* ---- aborts on programming errors ------------------------------------------------------------------------- */

__attribute__((noreturn, format(printf, 2, 3))) static void misuse(const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "pii-auditd: metrics: \"%s\": %s (programming error; fix the caller)\n", name ? name : "(null)",
            msg);
    abort();
}

/* ---- UTF-8 ------------------------------------------------------------------------------------------------ */

/* Length of the well-formed sequence at s (Unicode table 3-7), or minus the length of its maximal ill-formed
 * subpart, which is replaced by one U+FFFD (the Unicode "best practice" the WHATWG decoder follows too). */
static int utf8_step(const unsigned char *s)
{
    return pa_utf8_step(s, strnlen((const char *)s, 4)); /* s ends at its NUL, which ends any sequence */
}

static bool utf8_valid(const char *s)
{
    return pa_utf8_valid(s, strlen(s));
}

/* Append s with ill-formed sequences replaced; escape backslash, newline and (when quote) the double quote. */
static void append_escaped(struct pa_buf *out, const char *s, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;
    while (*p) {
        const char *rep = NULL;
        int n = 1;
        if (*p == '\\')
            rep = "\\\\";
        else if (*p == '\n')
            rep = "\\n";
        else if (*p == '"' && quote)
            rep = "\\\"";
        else if (*p >= 0x80 && (n = utf8_step(p)) < 0) {
            rep = "\xEF\xBF\xBD";
            n = -n;
        }
        if (rep) {
            pa_buf_append(out, run, (size_t)(p - run));
            pa_buf_appends(out, rep);
            p += n;
            run = p;
        } else {
            p += n;
        }
    }
    pa_buf_append(out, run, (size_t)(p - run));
}

static void append_sanitized(struct pa_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = utf8_step(p);
        if (n > 0) {
            pa_buf_append(out, p, (size_t)n);
            p += n;
        } else {
            pa_buf_appends(out, "\xEF\xBF\xBD");
            p += -n;
        }
    }
}

void pa_metrics_escape_label(struct pa_buf *out, const char *v)
{
    append_escaped(out, v, true);
}

/* ---- numbers ---------------------------------------------------------------------------------------------- */

static void format_value(char out[40], double v)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == trunc(v) && fabs(v) <= MAX_SAFE_INT) {
        /* %lld is not affected by LC_NUMERIC (no grouping without the ' flag); -0 prints as 0 like client_golang */
        snprintf(out, 40, "%lld", (long long)v);
    } else {
        locale_t old = uselocale(get_c_locale());
        /* Shortest digits that round-trip. DBL_DIG is 15: a normal value whose shortest form has <= 15 digits
         * comes out of %.15g exactly so (%g drops trailing zeros), which saves trying 1..14. Subnormals carry
         * fewer digits (5e-324), so they start from 1. */
        for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
            snprintf(out, 40, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
        uselocale(old);
    }
}

void pa_metrics_format_value(struct pa_buf *out, double v)
{
    char tmp[40];
    format_value(tmp, v);
    pa_buf_appends(out, tmp);
}

/* ---- names ------------------------------------------------------------------------------------------------ */

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                  (p != s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *const process_names[] = {
    "process_cpu_seconds_total",  "process_max_fds",
    "process_open_fds",           "process_resident_memory_bytes",
    "process_start_time_seconds", "process_virtual_memory_bytes",
};

static const char *const hist_suffixes[] = {"_bucket", "_sum", "_count"};

/* Does `name` appear among the sample names family f writes (name, or name_bucket/_sum/_count)? */
static bool family_writes(const struct pa_metric *f, const char *name)
{
    if (strcmp(f->name, name) == 0)
        return true;
    if (f->type != PA_METRIC_HISTOGRAM)
        return false;
    size_t n = strlen(f->name);
    if (strncmp(f->name, name, n) != 0)
        return false;
    for (size_t i = 0; i < PA_ARRAY_LEN(hist_suffixes); i++)
        if (strcmp(name + n, hist_suffixes[i]) == 0)
            return true;
    return false;
}

/* ---- series ----------------------------------------------------------------------------------------------- */

static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = PA_FNV1A64_BASIS_SHORT;
    for (size_t i = 0; i < n; i++) {
        h = pa_fnv1a64(h, values[i], strlen(values[i]));
        h = pa_fnv1a64(h, "\xFF", 1); /* 0xFF never occurs in UTF-8: separates values */
    }
    return h;
}

static int cmp_values(char *const *a, const char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

static struct series *series_new(struct pa_metric *f, const char *const *values, uint64_t h)
{
    struct series *s = pa_xcalloc(1, sizeof *s);
    s->hash = h;
    size_t bytes = f->n_labels * sizeof(char *);
    for (size_t i = 0; i < f->n_labels; i++)
        bytes += strlen(values[i]) + 1;
    s->values = pa_xmalloc(bytes);
    char *p = (char *)(s->values + f->n_labels);
    struct pa_buf inner;
    pa_buf_init(&inner);
    pa_buf_appends(&inner, "");
    for (size_t i = 0; i < f->n_labels; i++) {
        size_t len = strlen(values[i]);
        memcpy(p, values[i], len + 1);
        s->values[i] = p;
        p += len + 1;
        if (i)
            pa_buf_appendc(&inner, ',');
        pa_buf_printf(&inner, "%s=\"", f->label_names[i]);
        append_escaped(&inner, values[i], true);
        pa_buf_appendc(&inner, '"');
    }
    s->inner = inner.data;
    if (f->type == PA_METRIC_HISTOGRAM)
        s->buckets = pa_xcalloc(f->n_bounds + 1, sizeof *s->buckets);
    return s;
}

static void series_free(struct series *s)
{
    if (!s)
        return;
    free(s->values);
    free(s->inner);
    free(s->buckets);
    free(s);
}

static void table_insert(struct series **slots, size_t n_slots, struct series *s)
{
    size_t i = (size_t)s->hash & (n_slots - 1);
    while (slots[i])
        i = (i + 1) & (n_slots - 1);
    slots[i] = s;
}

/* Find-or-create; the caller holds the lock and passes sanitized values. */
static struct series *series_get(struct pa_metric *f, const char *const *values, uint64_t h, bool create)
{
    size_t i = (size_t)h & (f->n_slots - 1);
    for (struct series *s; (s = f->slots[i]) != NULL; i = (i + 1) & (f->n_slots - 1))
        if (s->hash == h && cmp_values(s->values, values, f->n_labels) == 0)
            return s;
    if (!create)
        return NULL;

    if ((f->n_series + 1) * 2 > f->n_slots) {
        size_t n = f->n_slots * 2;
        struct series **slots = pa_xcalloc(n, sizeof *slots);
        for (size_t k = 0; k < f->n_series; k++)
            table_insert(slots, n, f->sorted[k]);
        free(f->slots);
        f->slots = slots;
        f->n_slots = n;
    }
    struct series *s = series_new(f, values, h);
    table_insert(f->slots, f->n_slots, s);

    if (f->n_series == f->cap_series) {
        f->cap_series = f->cap_series ? f->cap_series * 2 : 8;
        f->sorted = pa_xrealloc(f->sorted, f->cap_series * sizeof *f->sorted);
    }
    size_t lo = 0, hi = f->n_series;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_values(f->sorted[mid]->values, values, f->n_labels) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(f->sorted + lo + 1, f->sorted + lo, (f->n_series - lo) * sizeof *f->sorted);
    f->sorted[lo] = s;
    f->n_series++;
    return s;
}

static void series_reset(struct pa_metric *f, struct series *s)
{
    s->value = 0;
    s->sum = 0;
    s->count = 0;
    if (s->buckets)
        memset(s->buckets, 0, (f->n_bounds + 1) * sizeof *s->buckets);
}

/* Label values as the series key: checked, and with ill-formed UTF-8 replaced so that two spellings of the same
 * rendered label set are one series (otherwise the output would carry duplicate series). Allocates only when a
 * value is ill-formed. */
struct key {
    const char *const *values;
    char **owned;
    uint64_t hash;
};

static void key_make(struct key *k, const struct pa_metric *f, const char *const *values)
{
    k->owned = NULL;
    if (f->n_labels == 0) {
        k->values = NULL;
        k->hash = hash_values(NULL, 0);
        return;
    }
    if (!values)
        misuse(f->name, "label values are NULL but the family has %zu label(s)", f->n_labels);
    bool ok = true;
    for (size_t i = 0; i < f->n_labels; i++) {
        if (!values[i])
            misuse(f->name, "label value %zu (%s) is NULL", i, f->label_names[i]);
        if (ok && !utf8_valid(values[i]))
            ok = false;
    }
    k->values = values;
    if (!ok) {
        k->owned = pa_xcalloc(f->n_labels, sizeof *k->owned);
        for (size_t i = 0; i < f->n_labels; i++) {
            struct pa_buf b;
            pa_buf_init(&b);
            pa_buf_appends(&b, "");
            append_sanitized(&b, values[i]);
            k->owned[i] = b.data;
        }
        k->values = (const char *const *)k->owned;
    }
    k->hash = hash_values(k->values, f->n_labels);
}

static void key_free(struct key *k, const struct pa_metric *f)
{
    if (!k->owned)
        return;
    for (size_t i = 0; i < f->n_labels; i++)
        free(k->owned[i]);
    free(k->owned);
}

/* ---- registry --------------------------------------------------------------------------------------------- */

struct pa_metrics *pa_metrics_new(void)
{
    struct pa_metrics *m = pa_xcalloc(1, sizeof *m);
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        fprintf(stderr, "pii-auditd: metrics: pthread_mutex_init failed\n");
        abort();
    }
    get_c_locale();
    return m;
}

static void family_free(struct pa_metric *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        series_free(f->sorted[i]);
    free(f->sorted);
    free(f->slots);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->label_names[i]);
    free(f->label_names);
    for (size_t i = 0; i < f->n_bounds; i++)
        free(f->le[i]);
    free(f->le);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

void pa_metrics_free(struct pa_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_fams; i++)
        family_free(m->fams[i]);
    free(m->fams);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static void check_registration(struct pa_metrics *m, const char *name, const char *help, enum pa_metric_type type,
                               size_t n_labels, const char *const *label_names, const double *buckets, size_t n_buckets)
{
    if (!valid_name(name, true))
        misuse(name, "metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    if (!help || !*help)
        misuse(name, "every family needs a HELP text");
    if (type != PA_METRIC_GAUGE && type != PA_METRIC_COUNTER && type != PA_METRIC_HISTOGRAM)
        misuse(name, "unknown metric type %d", (int)type);
    if (type == PA_METRIC_COUNTER && !ends_with(name, "_total"))
        misuse(name, "counter names must end in _total");
    /* what promtool check metrics flags as misuse: keep the output lint-clean */
    if (type != PA_METRIC_COUNTER && ends_with(name, "_total"))
        misuse(name, "only counters may end in _total");
    if (type != PA_METRIC_HISTOGRAM)
        for (size_t i = 0; i < PA_ARRAY_LEN(hist_suffixes); i++)
            if (ends_with(name, hist_suffixes[i]))
                misuse(name, "only histograms may write samples ending in %s", hist_suffixes[i]);
    if (n_labels && !label_names)
        misuse(name, "%zu label(s) but no label names", n_labels);
    for (size_t i = 0; i < n_labels; i++) {
        const char *l = label_names[i];
        if (!valid_name(l, false))
            misuse(name, "label name \"%s\" must match [a-zA-Z_][a-zA-Z0-9_]*", l ? l : "(null)");
        if (strncmp(l, "__", 2) == 0)
            misuse(name, "label name \"%s\": names starting with __ are reserved", l);
        if (type == PA_METRIC_HISTOGRAM && strcmp(l, "le") == 0)
            misuse(name, "a histogram cannot have a label named le");
        for (size_t j = 0; j < i; j++)
            if (strcmp(l, label_names[j]) == 0)
                misuse(name, "label name \"%s\" appears twice", l);
    }
    if (type != PA_METRIC_HISTOGRAM && n_buckets)
        misuse(name, "buckets given for a family that is not a histogram");
    if (n_buckets && !buckets)
        misuse(name, "%zu bucket(s) but no bounds", n_buckets);
    for (size_t i = 0; i < n_buckets; i++) {
        if (!isfinite(buckets[i]))
            misuse(name, "bucket bound %zu is not finite (+Inf is implicit)", i);
        if (i && !(buckets[i] > buckets[i - 1]))
            misuse(name, "bucket bounds must be strictly increasing (bound %zu)", i);
    }

    /* every sample name the new family writes must be unused, and vice versa */
    struct pa_metric probe = {.name = (char *)name, .type = type};
    char tmp[512];
    for (size_t i = 0; i < m->n_fams; i++) {
        const struct pa_metric *f = m->fams[i];
        bool clash = family_writes(f, name) || family_writes(&probe, f->name);
        for (size_t k = 0; !clash && f->type == PA_METRIC_HISTOGRAM && k < PA_ARRAY_LEN(hist_suffixes); k++) {
            snprintf(tmp, sizeof tmp, "%s%s", f->name, hist_suffixes[k]);
            clash = family_writes(&probe, tmp);
        }
        if (clash)
            misuse(name, "clashes with the family \"%s\" registered before (duplicate name)", f->name);
    }
    for (size_t i = 0; i < PA_ARRAY_LEN(process_names); i++)
        if (family_writes(&probe, process_names[i]))
            misuse(name, "clashes with the built-in %s", process_names[i]);
}

struct pa_metric *pa_metrics_register(struct pa_metrics *m, const char *name, const char *help,
                                      enum pa_metric_type type, size_t n_labels, const char *const *label_names,
                                      const double *buckets, size_t n_buckets)
{
    struct pa_metric *f = pa_xcalloc(1, sizeof *f);
    f->reg = m;
    f->type = type;
    f->n_labels = n_labels;
    f->n_slots = 8;
    f->slots = pa_xcalloc(f->n_slots, sizeof *f->slots);

    pthread_mutex_lock(&m->mu);
    check_registration(m, name, help, type, n_labels, label_names, buckets, n_buckets);
    f->name = pa_xstrdup(name);
    struct pa_buf h;
    pa_buf_init(&h);
    pa_buf_appends(&h, "");
    append_escaped(&h, help, false);
    f->help = h.data;
    f->label_names = pa_xcalloc(n_labels, sizeof *f->label_names);
    for (size_t i = 0; i < n_labels; i++)
        f->label_names[i] = pa_xstrdup(label_names[i]);
    f->n_bounds = n_buckets;
    f->bounds = pa_xcalloc(n_buckets, sizeof *f->bounds);
    f->le = pa_xcalloc(n_buckets, sizeof *f->le);
    for (size_t i = 0; i < n_buckets; i++) {
        char tmp[40];
        f->bounds[i] = buckets[i];
        format_value(tmp, buckets[i]);
        f->le[i] = pa_xstrdup(tmp);
    }
    /* a family without labels has exactly one series, present (at zero) from registration on, so that e.g.
     * pii_audit_scans_total 0 is scraped before the first scan and rate() sees the first increment */
    if (n_labels == 0)
        series_get(f, NULL, hash_values(NULL, 0), true);

    if (m->n_fams == m->cap_fams) {
        m->cap_fams = m->cap_fams ? m->cap_fams * 2 : 16;
        m->fams = pa_xrealloc(m->fams, m->cap_fams * sizeof *m->fams);
    }
    m->fams[m->n_fams++] = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

/* ---- updates ---------------------------------------------------------------------------------------------- */

void pa_metric_set(struct pa_metric *f, const char *const *label_values, double v)
{
    if (f->type != PA_METRIC_GAUGE)
        misuse(f->name, "pa_metric_set is for gauges only (counters are only added to)");
    struct key k;
    key_make(&k, f, label_values);
    pthread_mutex_lock(&f->reg->mu);
    series_get(f, k.values, k.hash, true)->value = v;
    pthread_mutex_unlock(&f->reg->mu);
    key_free(&k, f);
}

void pa_metric_add(struct pa_metric *f, const char *const *label_values, double delta)
{
    if (f->type == PA_METRIC_HISTOGRAM)
        misuse(f->name, "pa_metric_add on a histogram (use pa_metric_observe)");
    if (f->type == PA_METRIC_COUNTER && !(delta >= 0))
        return; /* counters never go down (and NaN would poison them for good) */
    struct key k;
    key_make(&k, f, label_values);
    pthread_mutex_lock(&f->reg->mu);
    series_get(f, k.values, k.hash, true)->value += delta;
    pthread_mutex_unlock(&f->reg->mu);
    key_free(&k, f);
}

void pa_metric_observe(struct pa_metric *f, const char *const *label_values, double v)
{
    if (f->type != PA_METRIC_HISTOGRAM)
        misuse(f->name, "pa_metric_observe is for histograms only");
    /* first bound >= v (le is inclusive); NaN lands in +Inf only, as in client_golang */
    size_t lo = 0, hi = f->n_bounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->bounds[mid] < v || isnan(v))
            lo = mid + 1;
        else
            hi = mid;
    }
    struct key k;
    key_make(&k, f, label_values);
    pthread_mutex_lock(&f->reg->mu);
    struct series *s = series_get(f, k.values, k.hash, true);
    s->buckets[lo]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&f->reg->mu);
    key_free(&k, f);
}

/* The caller holds the lock. */
static void clear_locked(struct pa_metric *f)
{
    if (f->n_labels == 0) {
        series_reset(f, f->sorted[0]); /* the single series stays, at zero */
    } else {
        for (size_t i = 0; i < f->n_series; i++)
            series_free(f->sorted[i]);
        f->n_series = 0;
        memset(f->slots, 0, f->n_slots * sizeof *f->slots);
    }
}

void pa_metric_clear(struct pa_metric *f)
{
    pthread_mutex_lock(&f->reg->mu);
    clear_locked(f);
    pthread_mutex_unlock(&f->reg->mu);
}

void pa_metric_replace(struct pa_metric *f, size_t n, const char *const *label_values, const double *values)
{
    if (f->type == PA_METRIC_HISTOGRAM)
        misuse(f->name, "pa_metric_replace is for gauges and counters only");
    /* keys are checked (and may allocate) before the lock is taken: the lock covers only the swap */
    struct key *keys = pa_xcalloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++)
        key_make(&keys[i], f, f->n_labels ? label_values + i * f->n_labels : NULL);
    pthread_mutex_lock(&f->reg->mu);
    clear_locked(f);
    for (size_t i = 0; i < n; i++)
        series_get(f, keys[i].values, keys[i].hash, true)->value = values[i];
    pthread_mutex_unlock(&f->reg->mu);
    for (size_t i = 0; i < n; i++)
        key_free(&keys[i], f);
    free(keys);
}

void pa_metric_touch(struct pa_metric *f, const char *const *label_values)
{
    struct key k;
    key_make(&k, f, label_values);
    pthread_mutex_lock(&f->reg->mu);
    series_get(f, k.values, k.hash, true); /* a new series starts at zero, a histogram's with every bucket empty */
    pthread_mutex_unlock(&f->reg->mu);
    key_free(&k, f);
}

void pa_metric_retain(struct pa_metric *f, bool (*keep)(void *arg, const char *const *label_values), void *arg)
{
    if (f->n_labels == 0)
        return; /* the one series of a family without labels always stays */
    pthread_mutex_lock(&f->reg->mu);
    size_t kept = 0;
    for (size_t i = 0; i < f->n_series; i++) {
        struct series *s = f->sorted[i];
        if (keep(arg, (const char *const *)s->values))
            f->sorted[kept++] = s; /* the order stays sorted */
        else
            series_free(s);
    }
    if (kept != f->n_series) {
        f->n_series = kept;
        memset(f->slots, 0, f->n_slots * sizeof *f->slots);
        for (size_t i = 0; i < kept; i++)
            table_insert(f->slots, f->n_slots, f->sorted[i]);
    }
    pthread_mutex_unlock(&f->reg->mu);
}

double pa_metric_get(struct pa_metric *f, const char *const *label_values)
{
    if (f->type == PA_METRIC_HISTOGRAM)
        return NAN;
    struct key k;
    key_make(&k, f, label_values);
    pthread_mutex_lock(&f->reg->mu);
    struct series *s = series_get(f, k.values, k.hash, false);
    double v = s ? s->value : NAN;
    pthread_mutex_unlock(&f->reg->mu);
    key_free(&k, f);
    return v;
}

/* ---- rendering -------------------------------------------------------------------------------------------- */

static const char *type_name(enum pa_metric_type t)
{
    return t == PA_METRIC_COUNTER ? "counter" : t == PA_METRIC_HISTOGRAM ? "histogram" : "gauge";
}

static void header(struct pa_buf *out, const char *name, const char *help, const char *type)
{
    pa_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_str(struct pa_buf *out, const char *name, const char *suffix, const char *inner, const char *le,
                       const char *num)
{
    pa_buf_appends(out, name);
    pa_buf_appends(out, suffix);
    if (*inner || le) {
        pa_buf_appendc(out, '{');
        pa_buf_appends(out, inner);
        if (le)
            pa_buf_printf(out, "%sle=\"%s\"", *inner ? "," : "", le);
        pa_buf_appendc(out, '}');
    }
    pa_buf_appendc(out, ' ');
    pa_buf_appends(out, num);
    pa_buf_appendc(out, '\n');
}

static void sample(struct pa_buf *out, const char *name, const char *suffix, const char *inner, const char *le,
                   double v)
{
    char num[40];
    format_value(num, v);
    sample_str(out, name, suffix, inner, le, num);
}

/* Counts are printed as exact integers (the same text format_value gives up to 2^53, and no rounding past it). */
static void sample_u64(struct pa_buf *out, const char *name, const char *suffix, const char *inner, const char *le,
                       uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    sample_str(out, name, suffix, inner, le, num);
}

void pa_metrics_render_families(struct pa_metrics *m, struct pa_buf *out)
{
    pa_buf_append(out, "", 0); /* data is never NULL (and NUL-terminated) even when nothing is registered */
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n_fams; i++) {
        const struct pa_metric *f = m->fams[i];
        header(out, f->name, f->help, type_name(f->type));
        for (size_t j = 0; j < f->n_series; j++) {
            const struct series *s = f->sorted[j];
            if (f->type != PA_METRIC_HISTOGRAM) {
                sample(out, f->name, "", s->inner, NULL, s->value);
                continue;
            }
            uint64_t cum = 0;
            for (size_t b = 0; b < f->n_bounds; b++) {
                cum += s->buckets[b];
                sample_u64(out, f->name, "_bucket", s->inner, f->le[b], cum);
            }
            sample_u64(out, f->name, "_bucket", s->inner, "+Inf", s->count);
            sample(out, f->name, "_sum", s->inner, NULL, s->sum);
            sample_u64(out, f->name, "_count", s->inner, NULL, s->count);
        }
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- process metrics -------------------------------------------------------------------------------------- */

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* The boot time process_start_time_seconds is counted from: the wall clock minus the time since boot
 * (CLOCK_REALTIME - CLOCK_BOOTTIME, which the kernel keeps in the same offset /proc/stat's btime is made of). Read
 * from the clocks, not from /proc/stat: under the unit's ProcSubset=pid only /proc/<pid> is visible, and the
 * series would vanish (and with it the "never succeeded" branch of PIIAuditScanOverdue). */
static double boot_time_from_clocks(void)
{
    struct timespec rt, bt;
    if (clock_gettime(CLOCK_REALTIME, &rt) != 0 || clock_gettime(CLOCK_BOOTTIME, &bt) != 0)
        return NAN;
    return ((double)rt.tv_sec - (double)bt.tv_sec) + ((double)rt.tv_nsec - (double)bt.tv_nsec) / 1e9;
}

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static double (*boot_time_fn)(void) = boot_time_from_clocks;
static double start_time_cached; /* 0: not computed yet */

void pa_metrics_set_boot_time_source(double (*fn)(void))
{
    pthread_mutex_lock(&start_mu);
    boot_time_fn = fn ? fn : boot_time_from_clocks;
    start_time_cached = 0;
    pthread_mutex_unlock(&start_mu);
}

int pa_metrics_parse_proc_stat(const char *buf, long ticks, long page, struct pa_proc_stat *ps)
{
    memset(ps, 0, sizeof *ps);
    if (ticks <= 0 || page <= 0)
        return -1;
    /* comm may hold spaces and parentheses: the fields start after the last ')' */
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    unsigned long long field[64];
    int n = 0;
    /* field 3 (state) is a letter: skip it, then numbers from field 4 on */
    while (*p == ' ')
        p++;
    if (*p)
        p++;
    while (n < 64) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno)
            break;
        field[n++] = (unsigned long long)v;
        p = end;
    }
    /* field k (1-based in proc(5)) is field[k - 4] */
    if (n < 24 - 4 + 1)
        return -1;
    ps->cpu_seconds = (double)(field[14 - 4] + field[15 - 4]) / (double)ticks;
    ps->start_since_boot = (double)field[22 - 4] / (double)ticks;
    ps->vsize = (double)field[23 - 4];
    ps->rss_bytes = (double)field[24 - 4] * (double)page;
    return 0;
}

/* The process start time in epoch seconds, rounded to the clock tick, worked out once and kept: the start is one
 * instant, so a scrape never sees it move with the nanoseconds between two clock reads (or a later clock step). */
static double start_time(const struct pa_proc_stat *ps, long ticks)
{
    pthread_mutex_lock(&start_mu);
    if (start_time_cached == 0) {
        double boot = boot_time_fn();
        if (isfinite(boot) && boot > 0)
            start_time_cached = round((boot + ps->start_since_boot) * (double)ticks) / (double)ticks;
    }
    double v = start_time_cached;
    pthread_mutex_unlock(&start_mu);
    return v;
}

struct proc_stat {
    bool ok;
    struct pa_proc_stat v;
    double start_time; /* 0: not known */
};

static void read_proc_stat(struct proc_stat *ps)
{
    char buf[2048];
    memset(ps, 0, sizeof *ps);
    long ticks = sysconf(_SC_CLK_TCK);
    if (read_file("/proc/self/stat", buf, sizeof buf) <= 0 ||
        pa_metrics_parse_proc_stat(buf, ticks, sysconf(_SC_PAGESIZE), &ps->v) != 0)
        return;
    ps->ok = true;
    ps->start_time = start_time(&ps->v, ticks);
}

static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n; /* includes the descriptor of the directory being read, as client_golang does */
}

void pa_metrics_render_process(struct pa_buf *out)
{
    struct proc_stat ps;
    read_proc_stat(&ps);
    long fds = count_open_fds();
    struct rlimit rl;
    bool has_rl = getrlimit(RLIMIT_NOFILE, &rl) == 0;

    pa_buf_append(out, "", 0);
    /* names sorted, HELP texts as client_golang's process collector writes them */
    if (ps.ok) {
        header(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
        sample(out, "process_cpu_seconds_total", "", "", NULL, ps.v.cpu_seconds);
    }
    if (has_rl) {
        header(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge");
        sample(out, "process_max_fds", "", "", NULL, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
    }
    if (fds >= 0) {
        header(out, "process_open_fds", "Number of open file descriptors.", "gauge");
        sample(out, "process_open_fds", "", "", NULL, (double)fds);
    }
    if (ps.ok) {
        header(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
        sample(out, "process_resident_memory_bytes", "", "", NULL, ps.v.rss_bytes);
    }
    if (ps.start_time > 0) {
        header(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
        sample(out, "process_start_time_seconds", "", "", NULL, ps.start_time);
    }
    if (ps.ok) {
        header(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
        sample(out, "process_virtual_memory_bytes", "", "", NULL, ps.v.vsize);
    }
}

void pa_metrics_render(struct pa_metrics *m, struct pa_buf *out)
{
    pa_metrics_render_families(m, out);
    pa_metrics_render_process(out); /* /proc reads outside the registry lock */
}
