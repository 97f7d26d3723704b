/* fuzz_detect: libFuzzer target for detect. Every input goes through pa_detect_doc as a JSON document and as a text
 * document (with the default detector and with one using every option), through pa_detect_value, and through key
 * normalization and lookup. The consumer checks the finding invariants: a NUL-terminated path starting with "$",
 * a known category whose name matches its id, a rule, a known evidence ("value" exactly for value findings), no
 * (path, category) reported twice in a document, the max_findings_per_record limit, and the result counters.
 * It must never print input bytes: a violation is reported by abort() and the crash file.
 * Run by tests/fuzz/run.sh (and, 60 s, by run-all.sh); its corpus is replayed by meson test fuzz-replay-*. By hand:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_detect.c \
 *     src/detect/[a-z]*.c src/jsonwalk.c src/util.c $(pkg-config --cflags --libs libhs) -lm -o /tmp/fuzz_detect
 *   mkdir -p /tmp/corpus_detect && /tmp/fuzz_detect -max_total_time=60 -max_len=4096 /tmp/corpus_detect \
 *     tests/fuzz/corpus/detect
 */
#include "detect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FINDINGS 3

static struct pa_detector *det_default, *det_opts;
static struct pa_detect_ctx *ctx_default, *ctx_opts;

struct check {
    const struct pa_detector *d;
    size_t calls;
    size_t max;
    uint64_t seen[256];
    size_t n_seen;
};

static uint64_t hash(const char *s, size_t n, int cat)
{
    return pa_fnv1a64(PA_FNV1A64_BASIS_SHORT ^ (uint64_t)cat, s, n);
}

static void on_finding(void *arg, const struct pa_finding *f)
{
    struct check *c = arg;
    c->calls++;
    if (!f->path || f->path_len == 0 || strlen(f->path) != f->path_len || f->path[0] != '$')
        abort();
    if (!f->rule || !f->rule[0] || !f->category)
        abort();
    const char *name = pa_detect_category_name(c->d, f->category_id);
    if (!name || strcmp(name, f->category) != 0)
        abort();
    if (f->detector != PA_DET_KEY && f->detector != PA_DET_VALUE)
        abort();
    /* evidence: a known one, "value" exactly for the value detectors' findings */
    if (!pa_evidence_name(f->evidence) || ((f->evidence == PA_EV_VALUE) != (f->detector == PA_DET_VALUE)))
        abort();
    if (c->max && c->calls > c->max)
        abort();
    uint64_t h = hash(f->path, f->path_len, f->category_id);
    for (size_t i = 0; i < c->n_seen; i++)
        if (c->seen[i] == h)
            abort(); /* (path, category) reported twice (or a 64-bit hash collision) */
    if (c->n_seen < sizeof c->seen / sizeof c->seen[0])
        c->seen[c->n_seen++] = h;
}

static void on_value(void *arg, int cat, const char *rule)
{
    const struct pa_detector *d = arg;
    if (!pa_detect_category_name(d, cat) || !rule || !rule[0])
        abort();
}

static void init(void)
{
    char err[256];
    det_default = pa_detect_new(NULL, err, sizeof err);
    static char *ignore[] = {"secret", "audit_log"};
    static char *allow[] = {"f.u.z:$.email", "f.u.z:$.list[*]", "f.u.z:$.<email>"};
    static char *disable[] = {"postal_code"};
    static struct pa_detect_extra_key extra[] = {{"employee_id", "staff_no"}, {"email", "handle"}};
    static struct pa_detect_pattern pats[] = {{"emp", "employee_id", "EMP-[0-9]{4}"},
                                              {"tkt", "ticket", "(?i)tkt[0-9]+"}};
    static struct pa_detect_options o = {.disable = disable,
                                         .n_disable = 1,
                                         .extra_keys = extra,
                                         .n_extra_keys = 2,
                                         .ignore_keys = ignore,
                                         .n_ignore_keys = 2,
                                         .allow_paths = allow,
                                         .n_allow_paths = 3,
                                         .patterns = pats,
                                         .n_patterns = 2,
                                         .max_findings_per_record = MAX_FINDINGS};
    det_opts = pa_detect_new(&o, err, sizeof err);
    if (!det_default || !det_opts)
        abort();
    ctx_default = pa_detect_ctx_new(det_default);
    ctx_opts = pa_detect_ctx_new(det_opts);
    if (!ctx_default || !ctx_opts)
        abort();
}

static void run(struct pa_detect_ctx *ctx, const struct pa_detector *d, enum pa_doc_kind kind, const char *buf,
                size_t len, size_t max)
{
    struct check c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.max = max;
    struct pa_doc_result r;
    if (pa_detect_doc(ctx, "f.u.z", kind, buf, len, on_finding, &c, &r) != 0)
        abort();
    if (r.findings != c.calls)
        abort();
    if (r.truncated && (!max || c.calls != max))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!det_default)
        init();
    const char *buf = (const char *)data;
    run(ctx_default, det_default, PA_DOC_JSON, buf, size, 0);
    run(ctx_default, det_default, PA_DOC_TEXT, buf, size, 0);
    run(ctx_opts, det_opts, PA_DOC_JSON, buf, size, MAX_FINDINGS);
    run(ctx_opts, det_opts, PA_DOC_TEXT, buf, size, MAX_FINDINGS);
    if (pa_detect_value(ctx_default, buf, size, on_value, det_default) < 0)
        abort();
    if (pa_detect_value(ctx_opts, buf, size, on_value, det_opts) < 0)
        abort();
    char norm[300];
    size_t n = pa_detect_normalize_key(buf, size, norm, sizeof norm);
    if (n >= sizeof norm || strlen(norm) != n)
        abort();
    const char *rule = NULL;
    int cat = pa_detect_key_category(det_opts, buf, size, &rule);
    if (cat >= 0 && (!rule || !pa_detect_category_name(det_opts, cat)))
        abort();
    return 0;
}
