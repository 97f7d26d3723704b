/* fuzz_metrics: libFuzzer target for metrics. The input is split on NUL bytes: the first 8 bytes are a sample value
 * (a double, bit for bit), then pieces 0..2 are the label values of a three-label gauge (piece 0 also labels a
 * histogram) and piece 3 is appended to a HELP text. The families are rendered and parsed back by the small, strict
 * 0.0.4 parser below (written from the format description, not from metrics.c), and every field is compared with
 * what was put in: label values and HELP after U+FFFD replacement by an independent reference (built by encoding
 * every code point), the value bit-compatibly (-0 reads back as 0), histogram buckets cumulative and consistent
 * with the value, the whole output valid UTF-8 and one series per distinct sanitized label set.
 * It must never print input bytes: a violation is reported by abort() and the crash file.
 * Run by tests/fuzz/run.sh (and, 60 s, by run-all.sh); its corpus is replayed by meson test fuzz-replay-*. By hand:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_metrics.c \
 *     src/metrics.c src/util.c -lpthread -lm -o /tmp/fuzz_metrics
 *   mkdir -p /tmp/corpus_metrics && /tmp/fuzz_metrics -max_total_time=60 -max_len=512 /tmp/corpus_metrics \
 *     tests/fuzz/corpus/metrics
 */
#include "metrics.h"
#include "util.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            abort();                                                                                                   \
    } while (0)

/* ---- reference UTF-8: which byte strings are prefixes of an encoded scalar value --------------------------- */

static uint8_t prefix1[256 / 8];
static uint8_t prefix2[65536 / 8];
static uint8_t *prefix3; /* 2^24 bits */
static uint8_t *prefix4; /* 2^21 code points' 4-byte forms, indexed by the low 24 bits under a valid 3-prefix */

static void setbit(uint8_t *map, uint32_t i)
{
    map[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool getbit(const uint8_t *map, uint32_t i)
{
    return map[i >> 3] >> (i & 7) & 1;
}

static int encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static int seq_len[256]; /* encoded length by lead byte, 0 when no scalar value starts with it */

static void build_reference(void)
{
    prefix3 = calloc(1u << 21, 1);
    prefix4 = calloc(1u << 21, 1);
    CHECK(prefix3 && prefix4);
    for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) { /* NUL cannot occur in a C string label */
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        uint8_t b[4] = {0};
        int n = encode(cp, b);
        seq_len[b[0]] = n;
        setbit(prefix1, b[0]);
        if (n >= 2)
            setbit(prefix2, (uint32_t)b[0] << 8 | b[1]);
        if (n >= 3)
            setbit(prefix3, (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2]);
        if (n == 4) /* 4-byte forms all start with F0..F4: 3 bits of lead + 3 x 6 bits */
            setbit(prefix4, (uint32_t)(b[0] & 7) << 18 | (uint32_t)(b[1] & 0x3F) << 12 | (uint32_t)(b[2] & 0x3F) << 6 |
                                (b[3] & 0x3F));
    }
}

static bool is_prefix(const uint8_t *s, size_t k)
{
    switch (k) {
    case 1: return getbit(prefix1, s[0]);
    case 2: return getbit(prefix2, (uint32_t)s[0] << 8 | s[1]);
    case 3: return getbit(prefix3, (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2]);
    case 4:
        return is_prefix(s, 3) && (s[3] & 0xC0) == 0x80 && s[0] >= 0xF0 &&
               getbit(prefix4, (uint32_t)(s[0] & 7) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                                   (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F));
    }
    return false;
}

/* Longest valid prefix kept if it is a whole sequence; otherwise that maximal subpart (or one byte) is one U+FFFD. */
static void ref_sanitize(struct pa_buf *out, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = 0;
        while (k < 4 && i + k < n && is_prefix(s + i, k + 1))
            k++;
        if (k && (int)k == seq_len[s[i]]) {
            pa_buf_append(out, s + i, k);
        } else {
            pa_buf_appends(out, "\xEF\xBF\xBD");
            if (!k)
                k = 1;
        }
        i += k;
    }
    pa_buf_append(out, "", 0);
}

static bool ref_valid(const uint8_t *s, size_t n)
{
    struct pa_buf b;
    pa_buf_init(&b);
    ref_sanitize(&b, s, n);
    bool ok = b.len == n && memcmp(b.data, s, n) == 0;
    pa_buf_free(&b);
    return ok;
}

/* ---- a strict 0.0.4 parser -------------------------------------------------------------------------------- */

#define MAX_SAMPLES 32
#define MAX_LABELS 4

struct sample {
    char name[64];
    size_t n_labels;
    char label[MAX_LABELS][16];
    struct pa_buf value_of[MAX_LABELS];
    double v;
};

struct parsed {
    struct sample s[MAX_SAMPLES];
    size_t n;
    struct pa_buf help[4];
    char help_name[4][64];
    size_t n_help;
    size_t n_type;
};

static bool name_char(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
}

static const char *parse_name(const char *p, char *out, size_t cap, bool colon)
{
    size_t n = 0;
    if (!name_char(*p, true, colon))
        return NULL;
    while (name_char(*p, n == 0, colon)) {
        if (n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return p;
}

/* Value text: NaN, +Inf, -Inf, or a decimal float (optional sign, digits, fraction, exponent); nothing else. */
static bool parse_value(const char *p, const char *end, double *v)
{
    size_t n = (size_t)(end - p);
    if (n == 3 && memcmp(p, "NaN", 3) == 0) {
        *v = NAN;
        return true;
    }
    if (n == 4 && (memcmp(p, "+Inf", 4) == 0 || memcmp(p, "-Inf", 4) == 0)) {
        *v = p[0] == '+' ? INFINITY : -INFINITY;
        return true;
    }
    const char *q = p;
    if (q < end && *q == '-')
        q++;
    const char *digits = q;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    if (q == digits)
        return false;
    if (q < end && *q == '.') {
        q++;
        const char *frac = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == frac)
            return false;
    }
    if (q < end && *q == 'e') {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        const char *exp = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == exp)
            return false;
    }
    if (q != end)
        return false;
    char tmp[64];
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *e;
    *v = strtod(tmp, &e); /* the fuzzer runs in the C locale */
    return *e == '\0';
}

/* Unescape until the closing quote (label value) or the end of line (HELP). Returns the position after it. */
static const char *unescape(const char *p, const char *end, struct pa_buf *out, bool quoted)
{
    pa_buf_append(out, "", 0);
    while (p < end) {
        char c = *p;
        if (quoted && c == '"')
            return p + 1;
        if (c == '\\') {
            if (p + 1 >= end)
                return NULL;
            char e = p[1];
            if (e == '\\')
                pa_buf_appendc(out, '\\');
            else if (e == 'n')
                pa_buf_appendc(out, '\n');
            else if (e == '"' && quoted)
                pa_buf_appendc(out, '"');
            else
                return NULL; /* our writer never emits any other escape */
            p += 2;
            continue;
        }
        if (quoted && c == '\n')
            return NULL;
        pa_buf_appendc(out, c);
        p++;
    }
    return quoted ? NULL : p;
}

static bool parse_line(struct parsed *ps, const char *p, const char *end)
{
    char name[64];
    if (end - p >= 7 && memcmp(p, "# HELP ", 7) == 0) {
        if (ps->n_help >= 4 || !(p = parse_name(p + 7, name, sizeof name, true)) || *p != ' ')
            return false;
        memcpy(ps->help_name[ps->n_help], name, sizeof name);
        return unescape(p + 1, end, &ps->help[ps->n_help++], false) == end;
    }
    if (end - p >= 7 && memcmp(p, "# TYPE ", 7) == 0) {
        if (!(p = parse_name(p + 7, name, sizeof name, true)) || *p != ' ')
            return false;
        p++;
        size_t n = (size_t)(end - p);
        bool ok = (n == 5 && memcmp(p, "gauge", 5) == 0) || (n == 7 && memcmp(p, "counter", 7) == 0) ||
                  (n == 9 && memcmp(p, "histogram", 9) == 0);
        /* TYPE follows the HELP of the same family */
        ok = ok && ps->n_help && strcmp(ps->help_name[ps->n_help - 1], name) == 0;
        ps->n_type++;
        return ok;
    }
    if (*p == '#' || ps->n >= MAX_SAMPLES)
        return false;
    struct sample *s = &ps->s[ps->n++];
    if (!(p = parse_name(p, s->name, sizeof s->name, true)))
        return false;
    if (*p == '{') {
        p++;
        for (;;) {
            if (s->n_labels >= MAX_LABELS)
                return false;
            size_t i = s->n_labels++;
            if (!(p = parse_name(p, s->label[i], sizeof s->label[i], false)) || *p != '=' || p[1] != '"')
                return false;
            if (!(p = unescape(p + 2, end, &s->value_of[i], true)))
                return false;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p != '}')
                return false;
            p++;
            break;
        }
    }
    if (*p != ' ')
        return false;
    return parse_value(p + 1, end, &s->v);
}

static bool parse(struct parsed *ps, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    if (len == 0 || end[-1] != '\n')
        return false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!parse_line(ps, p, nl))
            return false;
        p = nl + 1;
    }
    return true;
}

static void parsed_free(struct parsed *ps)
{
    for (size_t i = 0; i < MAX_SAMPLES; i++)
        for (size_t j = 0; j < MAX_LABELS; j++)
            pa_buf_free(&ps->s[i].value_of[j]);
    for (size_t i = 0; i < 4; i++)
        pa_buf_free(&ps->help[i]);
}

static bool same_value(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b;
}

/* ---- the target ------------------------------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    build_reference();
    setlocale(LC_ALL, "C");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    double v;
    memcpy(&v, data, sizeof v);
    data += 8;
    size -= 8;

    /* pieces: raw (NUL-terminated copies) and the reference's sanitized form */
    char *raw[4];
    struct pa_buf want[4];
    for (int i = 0; i < 4; i++) {
        const uint8_t *nul = memchr(data, 0, size);
        size_t n = nul ? (size_t)(nul - data) : size;
        raw[i] = pa_xstrndup((const char *)data, n);
        pa_buf_init(&want[i]);
        ref_sanitize(&want[i], data, n);
        data += nul ? n + 1 : n;
        size -= nul ? n + 1 : n;
    }

    struct pa_metrics *m = pa_metrics_new();
    const char *labels[] = {"a", "b", "c"};
    char *help = pa_xasprintf("h%s", raw[3]);
    struct pa_metric *g = pa_metrics_register(m, "fz_gauge", help, PA_METRIC_GAUGE, 3, labels, NULL, 0);
    static const double bounds[] = {-1, 0, 0.5, 1000};
    struct pa_metric *h = pa_metrics_register(m, "fz_hist", "H.", PA_METRIC_HISTOGRAM, 1, labels, bounds, 4);
    struct pa_metric *c = pa_metrics_register(m, "fz_total", "C.", PA_METRIC_COUNTER, 0, NULL, NULL, 0);

    pa_metric_set(g, (const char *const *)raw, v);
    /* the sanitized spelling addresses the same series */
    const char *sane[] = {want[0].data, want[1].data, want[2].data};
    pa_metric_add(g, sane, 0);
    CHECK(same_value(pa_metric_get(g, (const char *const *)raw), v + 0));
    pa_metric_observe(h, (const char *const *)raw, v);
    pa_metric_add(c, NULL, fabs(v));

    struct pa_buf out;
    pa_buf_init(&out);
    pa_metrics_render_families(m, &out);
    CHECK(ref_valid((const uint8_t *)out.data, out.len));
    CHECK(strlen(out.data) == out.len);

    struct parsed *ps = calloc(1, sizeof *ps);
    CHECK(ps);
    CHECK(parse(ps, out.data, out.len));
    CHECK(ps->n_help == 3 && ps->n_type == 3);
    CHECK(strcmp(ps->help_name[0], "fz_gauge") == 0);
    CHECK(ps->help[0].len == want[3].len + 1 && ps->help[0].data[0] == 'h' &&
          memcmp(ps->help[0].data + 1, want[3].data, want[3].len) == 0);

    /* 1 gauge + 5 buckets + sum + count + 1 counter */
    CHECK(ps->n == 9);
    const struct sample *s = &ps->s[0];
    CHECK(strcmp(s->name, "fz_gauge") == 0 && s->n_labels == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(strcmp(s->label[i], labels[i]) == 0);
        CHECK(s->value_of[i].len == want[i].len && memcmp(s->value_of[i].data, want[i].data, want[i].len) == 0);
    }
    CHECK(same_value(s->v, v));

    static const char *const le[] = {"-1", "0", "0.5", "1000", "+Inf"};
    double prev = 0;
    for (int i = 0; i < 5; i++) {
        s = &ps->s[1 + i];
        CHECK(strcmp(s->name, "fz_hist_bucket") == 0 && s->n_labels == 2);
        CHECK(strcmp(s->label[0], "a") == 0 && s->value_of[0].len == want[0].len &&
              memcmp(s->value_of[0].data, want[0].data, want[0].len) == 0);
        CHECK(strcmp(s->label[1], "le") == 0 && strcmp(s->value_of[1].data, le[i]) == 0);
        double expect = i == 4 ? 1 : (v <= bounds[i] ? 1 : 0);
        CHECK(s->v == expect && s->v >= prev);
        prev = s->v;
    }
    CHECK(strcmp(ps->s[6].name, "fz_hist_sum") == 0 && same_value(ps->s[6].v, v + 0));
    CHECK(strcmp(ps->s[7].name, "fz_hist_count") == 0 && ps->s[7].v == 1);
    CHECK(strcmp(ps->s[8].name, "fz_total") == 0 && ps->s[8].n_labels == 0);
    CHECK(same_value(ps->s[8].v, isnan(v) ? 0 : fabs(v)));

    /* the exposed escaper agrees with the label text in the exposition */
    struct pa_buf e;
    pa_buf_init(&e);
    pa_buf_appends(&e, "fz_gauge{a=\"");
    pa_metrics_escape_label(&e, raw[0]);
    pa_buf_appends(&e, "\",b=\"");
    CHECK(strstr(out.data, e.data) != NULL);
    pa_buf_free(&e);

    parsed_free(ps);
    free(ps);
    pa_buf_free(&out);
    pa_metrics_free(m);
    free(help);
    for (int i = 0; i < 4; i++) {
        free(raw[i]);
        pa_buf_free(&want[i]);
    }
    return 0;
}
