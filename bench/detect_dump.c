/* detect_dump: print every finding the detectors produce over a corpus, one line per finding, so two builds of
 * src/detect.c + src/jsonwalk.c can be compared byte for byte (bench/detect_diff.sh does that against a base
 * revision). Uses only the public API of detect.h, so the same file compiles against older revisions.
 *
 *   detect_dump FILE...    FILE: one document per line (*.jsonl, bench/out/payloads.jsonl, tests/data lines,
 *                          peer vectors), or a whole file as one document (any other name: fuzz corpus files)
 *
 * Every document is run through four detectors (defaults; every option incl. custom patterns, which switches the
 * prefilter off; a disabled-categories one; max 2 findings) as PA_DOC_JSON and PA_DOC_TEXT, plus through
 * pa_detect_value and pa_detect_key_category, and again for deterministic mutations of it (truncations, byte
 * flips, the document's strings inside small JSON wrappers) so the validators and the walker's error paths are
 * exercised too. Output lines: doc#variant detector kind | path | category | key/value | rule [| evidence, with
 * --evidence: key, value, key+value or context], and one result line per document (findings, invalid_json,
 * truncated). --mutations=N sets the mutations per document (default 6). Test data only: this program prints what it
 * finds.
 */
#include "detect.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DET 4

static struct pa_detector *det[N_DET];
static struct pa_detect_ctx *ctx[N_DET];
static FILE *out;
static const char *tag_doc;
static int tag_det;
static const char *tag_kind;

static int show_evidence; /* --evidence: each finding's evidence as a last column (detect.h since issue 13) */

static void on_finding(void *arg, const struct pa_finding *f)
{
    (void)arg;
    fprintf(out, "%s d%d %s | %.*s | %s | %s | %s", tag_doc, tag_det, tag_kind, (int)f->path_len, f->path, f->category,
            f->detector == PA_DET_KEY ? "key" : "value", f->rule);
#ifdef PA_DETECT_HAS_EVIDENCE
    if (show_evidence)
        fprintf(out, " | %s", pa_evidence_name(f->evidence));
#endif
    fputc('\n', out);
}

static void on_value(void *arg, int cat, const char *rule)
{
    fprintf(out, "%s d%d value | %s | %s\n", tag_doc, (int)(intptr_t)arg,
            pa_detect_category_name(det[(intptr_t)arg], cat), rule);
}

static void init(void)
{
    char err[256];
    static char *ignore[] = {"secret", "audit_log", "x-request-id"};
    static char *allow[] = {"f.u.z:$.email", "f.u.z:$.list[*]", "f.u.z:$.<email>", "f.u.z:$.data[*].user_data.em[*]"};
    static char *disable[] = {"postal_code"};
    static struct pa_detect_extra_key extra[] = {
        {"employee_id", "staff_no"}, {"email", "handle"}, {"person_name", "vendor"}};
    static struct pa_detect_pattern pats[] = {{"emp", "employee_id", "EMP-[0-9]{4}"},
                                              {"tkt", "ticket", "(?i)tkt[0-9]+"}};
    static struct pa_detect_options o1 = {.disable = disable,
                                          .n_disable = 1,
                                          .extra_keys = extra,
                                          .n_extra_keys = 3,
                                          .ignore_keys = ignore,
                                          .n_ignore_keys = 3,
                                          .allow_paths = allow,
                                          .n_allow_paths = 4,
                                          .patterns = pats,
                                          .n_patterns = 2};
    static char *disable2[] = {"email", "phone", "ip_address", "credit_card"};
    static struct pa_detect_options o2 = {.disable = disable2, .n_disable = 4};
    static struct pa_detect_options o3 = {.max_findings_per_record = 2};
    const struct pa_detect_options *opts[N_DET] = {NULL, &o1, &o2, &o3};
    for (int i = 0; i < N_DET; i++) {
        det[i] = pa_detect_new(opts[i], err, sizeof err);
        if (!det[i]) {
            fprintf(stderr, "detect_dump: %s\n", err);
            exit(2);
        }
        ctx[i] = pa_detect_ctx_new(det[i]);
    }
}

static void run_doc(const char *doc, const char *buf, size_t len)
{
    tag_doc = doc;
    for (int i = 0; i < N_DET; i++) {
        tag_det = i;
        for (int k = 0; k < 2; k++) {
            tag_kind = k ? "text" : "json";
            struct pa_doc_result r;
            int rc = pa_detect_doc(ctx[i], "f.u.z", k ? PA_DOC_TEXT : PA_DOC_JSON, buf, len, on_finding, NULL, &r);
            fprintf(out, "%s d%d %s = rc %d findings %zu invalid %d truncated %d\n", doc, i, tag_kind, rc, r.findings,
                    r.invalid_json, r.truncated);
        }
    }
}

/* The strings of a document, for the wrapped variants: every "..." run (raw, escapes kept). */
static void run_wrapped(const char *doc, const char *buf, size_t len, struct pa_buf *tmp)
{
    static const char *const keys[] = {"note", "phone", "ssn", "ip", "user-agent", "emailAddress", "lat", "v"};
    char name[96];
    size_t n = 0;
    for (size_t i = 0; i < len && n < 400; i++) {
        if (buf[i] != '"')
            continue;
        size_t j = i + 1;
        while (j < len && buf[j] != '"')
            j += buf[j] == '\\' ? 2 : 1;
        if (j >= len)
            break;
        const char *s = buf + i + 1;
        size_t sl = j - i - 1;
        /* as a value under a key, as a key, and alone */
        pa_buf_truncate(tmp, 0);
        pa_buf_printf(tmp, "{\"%s\": \"%.*s\", \"%.*s\": [1, \"%.*s\"]}", keys[n % PA_ARRAY_LEN(keys)], (int)sl, s,
                      (int)sl, s, (int)sl, s);
        snprintf(name, sizeof name, "%s#w%zu", doc, n);
        run_doc(name, tmp->data, tmp->len);
        tag_doc = name;
        for (int d = 0; d < 2; d++) {
            if (pa_detect_value(ctx[d], s, sl, on_value, (void *)(intptr_t)d) < 0)
                fprintf(out, "%s value error\n", name);
            const char *rule = NULL;
            int cat = pa_detect_key_category(det[d], s, sl, &rule);
            fprintf(out, "%s d%d keycat %d %s\n", name, d, cat, rule ? rule : "-");
        }
        n++;
        i = j;
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void run_all(const char *name, const char *buf, size_t len, int mutations)
{
    run_doc(name, buf, len);
    if (!mutations)
        return;
    struct pa_buf tmp, m;
    pa_buf_init(&tmp);
    pa_buf_init(&m);
    char vname[96];
    run_wrapped(name, buf, len, &tmp);
    for (int k = 0; k < mutations && len; k++) {
        pa_buf_truncate(&m, 0);
        pa_buf_append(&m, buf, len);
        size_t cut = (size_t)(next() % len);
        switch (k % 3) {
        case 0: /* truncated */ m.len = cut; break;
        case 1: /* one byte flipped to a structural or interesting byte */
            m.data[cut] = "\"\\{}[]:,0@.-+ \x01\xc3"[next() % 17];
            break;
        case 2: /* a byte range deleted */
            memmove(m.data + cut, m.data + cut + (len - cut) / 2, len - cut - (len - cut) / 2);
            m.len -= (len - cut) / 2;
            break;
        }
        snprintf(vname, sizeof vname, "%s#m%d", name, k);
        run_doc(vname, m.data, m.len);
    }
    pa_buf_free(&tmp);
    pa_buf_free(&m);
}

int main(int argc, char **argv)
{
    out = stdout;
    init();
    int mutations = 6;
    struct pa_buf line;
    pa_buf_init(&line);
    char name[96];
    for (int a = 1; a < argc; a++) {
        if (strncmp(argv[a], "--mutations=", 12) == 0) {
            mutations = atoi(argv[a] + 12);
            continue;
        }
        if (strcmp(argv[a], "--evidence") == 0) {
            show_evidence = 1;
            continue;
        }
        FILE *f = fopen(argv[a], "rb");
        if (!f) {
            perror(argv[a]);
            return 2;
        }
        const char *dot = strrchr(argv[a], '.');
        bool lines = dot && (strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".sql") == 0 || strcmp(dot, ".tsv") == 0);
        const char *base = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
        pa_buf_truncate(&line, 0);
        size_t ln = 0;
        int c;
        for (;;) {
            c = fgetc(f);
            if (c != EOF && !(lines && c == '\n')) {
                pa_buf_appendc(&line, (char)c);
                continue;
            }
            if (line.len || c != EOF) {
                snprintf(name, sizeof name, "%s:%zu", base, ++ln);
                run_all(name, line.data ? line.data : "", line.len, mutations);
            }
            pa_buf_truncate(&line, 0);
            if (c == EOF)
                break;
        }
        fclose(f);
    }
    pa_buf_free(&line);
    for (int i = 0; i < N_DET; i++) {
        pa_detect_ctx_free(ctx[i]);
        pa_detect_free(det[i]);
    }
    return 0;
}
