/* jsonwalk_bench: throughput of the detector core (walker + key dictionary + value detectors) over in-memory
 * payloads, per stage, on one core. Not a test: the figures depend on the machine (docs/performance.md, "Detector
 * core", has the commands and the measured figures; the repeatable figure is instructions per byte under callgrind).
 *
 *   jsonwalk_bench [--corpus FILE] [--passes N] [--docs N] [--stage walk|keys|full|all]
 *
 * --corpus: one JSON document per line; default bench/out/payloads.jsonl (bench/detect_corpus.sh writes it from
 *   bench/gen.sql: 20,000 webhook payloads, ~2.8 KB each, 1% with planted PII). Without it a built-in corpus of
 *   synthetic payment webhooks is used (less varied: the figures are then only indicative).
 * Stages: walk = pa_jw_walk with a no-op callback; keys = pa_detect_doc with the value detectors off (walker, key
 *   tokenizing, dictionary, paths of key findings); full = pa_detect_doc with every default detector.
 * Each stage walks the whole corpus --passes times (default 5) and prints the best and the median pass in GB/s
 * (10^9 bytes of JSON text per second). Under callgrind use --passes 1 and --toggle-collect (see docs).
 */
#include "detect.h"
#include "detect/hooks.h"
#include "jsonwalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct corpus {
    struct pa_buf data; /* documents back to back */
    size_t *off;        /* [n + 1] */
    size_t n, cap;
};

static void corpus_add(struct corpus *c, const char *s, size_t len)
{
    if (c->n + 2 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->off = pa_xrealloc(c->off, c->cap * sizeof *c->off);
    }
    if (!c->n)
        c->off[0] = 0;
    pa_buf_append(&c->data, s, len);
    c->off[++c->n] = c->data.len;
}

static int corpus_load(struct corpus *c, const char *path, size_t max_docs)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (c->n < max_docs && (n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n)
            corpus_add(c, line, (size_t)n);
    }
    free(line);
    fclose(f);
    return 0;
}

/* Fallback: payment webhooks shaped like the Stripe rows of gen.sql, varied per document (ids, amounts, item
 * counts, 1 in 100 with an e-mail address and a phone number). */
static void corpus_synthetic(struct corpus *c, size_t n)
{
    struct pa_buf d;
    pa_buf_init(&d);
    for (size_t i = 0; i < n; i++) {
        pa_buf_truncate(&d, 0);
        pa_buf_printf(
            &d,
            "{\"_envelope\": {\"source\": \"stripe\", \"headers\": {\"user-agent\": \"Stripe/1.0 "
            "(+https://stripe.com/docs/webhooks)\", \"x-request-id\": \"%08zx-8a8e-4f3e-9a41-0c3a2f1b9d77\", "
            "\"content-type\": \"application/json\"}, \"delivery\": {\"queue\": \"ingest-high\", \"attempt\": "
            "%zu}, \"received_at\": \"2024-03-01T00:%02zu:00Z\"}, \"id\": \"evt_3NqQ2aLkdIwHu7ix%zu\", "
            "\"type\": \"charge.succeeded\", \"created\": %zu, \"livemode\": false, \"data\": {\"object\": "
            "{\"id\": \"ch_3%zuXk\", \"amount\": %zu, \"currency\": \"usd\", \"description\": \"Order #%zu\", "
            "\"metadata\": {\"order_id\": \"%zu\", \"utm_source\": \"google\", \"utm_campaign\": "
            "\"spring_sale_2024\", \"shop\": \"northpeak-outfitters.myshopify.com\"}, %s\"items\": [",
            i, 1 + i % 3, i % 60, i, 1709251200 + i * 3, i, 500 + i * 7919 % 150000, 1000 + i, 1000 + i,
            i % 100 == 42 ? "\"receipt_email\": \"jane.doe@example.com\", \"phone\": \"+1 415 555 0100\", "
                          : "\"receipt_email\": null, ");
        for (size_t k = 0; k <= i % 5; k++)
            pa_buf_printf(&d,
                          "%s{\"sku\": \"SKU-%06zu\", \"qty\": %zu, \"price\": \"%zu.99\", \"taxable\": true, "
                          "\"tags\": [\"red\", \"xl\", \"sale\"], \"title\": \"Trail Runner 3 \\\"Blue\\\"\", "
                          "\"shipping\": {\"carrier\": \"UPS\", \"tracking\": \"1Z999AA10123456784\", "
                          "\"eta\": \"2024-03-0%zuT12:00:00Z\"}}",
                          k ? ", " : "", (i * 7 + k) % 1000000, 1 + k, 10 + k * 7, 1 + k);
        pa_buf_appends(&d, "]}}, \"user_agent\": \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                           "(KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36\"}");
        corpus_add(c, d.data, d.len);
    }
    pa_buf_free(&d);
}

static int noop_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    (void)ctx;
    (void)w;
    (void)ev;
    return 0;
}

static void count_finding(void *arg, const struct pa_finding *f)
{
    (void)f;
    ++*(size_t *)arg;
}

enum stage { ST_WALK, ST_KEYS, ST_FULL };
static const char *const stage_names[] = {"walk", "keys", "full"};

/* One pass over the corpus; returns seconds, adds findings to *findings. */
static double pass(enum stage st, const struct corpus *c, struct pa_jw *w, struct pa_detect_ctx *ctx, size_t *findings,
                   int *rc)
{
    double t0 = pa_now_monotonic();
    for (size_t i = 0; i < c->n; i++) {
        const char *doc = c->data.data + c->off[i];
        size_t len = c->off[i + 1] - c->off[i];
        if (st == ST_WALK)
            *rc |= pa_jw_walk(w, doc, len, noop_cb, NULL);
        else
            *rc |= pa_detect_doc(ctx, "bench.attribution_events.raw_payload", PA_DOC_JSON, doc, len, count_finding,
                                 findings, NULL);
    }
    return pa_now_monotonic() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int passes = 5;
    size_t max_docs = (size_t)-1;
    int stage_sel = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc)
            passes = atoi(argv[++i]);
        else if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
            max_docs = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--stage") == 0 && i + 1 < argc) {
            i++;
            stage_sel = -1;
            for (int k = 0; k < 3; k++)
                if (strcmp(argv[i], stage_names[k]) == 0)
                    stage_sel = k;
            if (stage_sel < 0 && strcmp(argv[i], "all") != 0) {
                fprintf(stderr, "unknown stage %s\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: jsonwalk_bench [--corpus FILE] [--passes N] [--docs N] "
                            "[--stage walk|keys|full|all]\n");
            return 2;
        }
    }
    if (passes < 1)
        passes = 1;
    struct corpus c = {0};
    pa_buf_init(&c.data);
    const char *src = path ? path : "bench/out/payloads.jsonl";
    if (corpus_load(&c, src, max_docs) < 0 || !c.n) {
        if (path) {
            perror(path);
            return 2;
        }
        corpus_synthetic(&c, max_docs < 20000 ? max_docs : 20000);
        src = "built-in synthetic webhooks (indicative only: run bench/detect_corpus.sh for the gen.sql corpus)";
    }
    printf("corpus: %s: %zu documents, %.1f MB, %.0f bytes/document\n", src, c.n, (double)c.data.len / 1e6,
           (double)c.data.len / (double)c.n);

    char err[256];
    struct pa_detector *d = pa_detect_new(NULL, err, sizeof err);
    if (!d) {
        fprintf(stderr, "detector: %s\n", err);
        return 1;
    }
    struct pa_detect_ctx *ctx = pa_detect_ctx_new(d);
    struct pa_jw *w = pa_jw_new();
    int rc = 0;
    for (int st = 0; st < 3; st++) {
        if (stage_sel >= 0 && st != stage_sel)
            continue;
        pa_detect_ctx_bench_values(ctx, st == ST_FULL);
        size_t findings = 0;
        if (passes > 1) /* warm-up: caches, buffers, the key cache */
            pass((enum stage)st, &c, w, ctx, &findings, &rc);
        double *t = pa_xcalloc((size_t)passes, sizeof *t);
        findings = 0;
        for (int p = 0; p < passes; p++) {
            t[p] = pass((enum stage)st, &c, w, ctx, &findings, &rc);
            if (getenv("BENCH_DEBUG"))
                fprintf(stderr, "after pass %d: %zu findings\n", p, findings);
        }
        qsort(t, (size_t)passes, sizeof *t, cmp_double);
        double gb = (double)c.data.len / 1e9;
        printf("%-4s  best %.3f GB/s  median %.3f GB/s  (%.1f ns/doc, %d passes, %zu findings/pass)\n", stage_names[st],
               gb / t[0], gb / t[passes / 2], t[passes / 2] * 1e9 / (double)c.n, passes, findings / (size_t)passes);
        free(t);
    }
    pa_jw_free(w);
    pa_detect_ctx_free(ctx);
    pa_detect_free(d);
    pa_buf_free(&c.data);
    free(c.off);
    return rc;
}
