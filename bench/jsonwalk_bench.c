/* jsonwalk_bench: walker throughput on a ~3 KB webhook-like document (no detectors), to watch the 1 GB/s budget
 * for walker + detectors on one core. Not a test and not wired into meson: numbers depend on the machine.
 *
 * Build and run (from the repository root):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc src/util.c src/jsonwalk.c bench/jsonwalk_bench.c -lm \
 *     -o /tmp/jsonwalk_bench
 *   /tmp/jsonwalk_bench [iterations]
 */
#include "jsonwalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shaped like a payment/CRM webhook: nested objects, arrays of objects, mostly short strings, some escapes,
 * numbers, booleans. Repeated items bring it to ~3 KB. */
static const char head[] =
    "{\"id\":\"evt_1NqQ2aLkdIwHu7ix\",\"object\":\"event\",\"api_version\":\"2023-08-16\",\"created\":1695819600,"
    "\"livemode\":false,\"pending_webhooks\":1,\"type\":\"customer.updated\",\"request\":{\"id\":\"req_abc123\","
    "\"idempotency_key\":\"5c1d6a2e-8a8e-4f3e-9a41-0c3a2f1b9d77\"},\"data\":{\"object\":{\"id\":\"cus_OdKr\","
    "\"email\":\"jane.doe@example.com\",\"name\":\"Jane D\\u00f6e\",\"phone\":\"+1 555 0100\","
    "\"description\":\"VIP customer \\\"gold\\\" tier\\nsince 2019\",\"balance\":-1250,\"currency\":\"usd\","
    "\"delinquent\":false,\"address\":{\"line1\":\"1 Main Street\",\"line2\":null,\"city\":\"Springfield\","
    "\"state\":\"IL\",\"postal_code\":\"62701\",\"country\":\"US\"},\"metadata\":{\"crm_id\":\"A-99812\","
    "\"segment\":\"enterprise\",\"first name\":\"Jane\"},\"tax_ids\":[],\"items\":[";
static const char item[] =
    "{\"sku\":\"SKU-000123\",\"qty\":2,\"unit_amount\":1999,\"discounted\":true,\"tags\":[\"red\",\"xl\",\"sale\"],"
    "\"shipping\":{\"carrier\":\"UPS\",\"tracking\":\"1Z999AA10123456784\",\"eta\":\"2023-10-01T12:00:00Z\"}}";
static const char tail[] = "]},\"previous_attributes\":{\"email\":\"old@example.com\"}}}";

struct sink {
    size_t events;
    size_t bytes;
    unsigned acc;
};

/* About what a consumer does per event before detection: look at the kind and the first byte. */
static int cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    (void)w;
    struct sink *s = ctx;
    s->events++;
    s->bytes += ev->len;
    if (ev->len)
        s->acc += (unsigned char)ev->str[0];
    return 0;
}

static int noop_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    (void)ctx;
    (void)w;
    (void)ev;
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    struct pa_buf doc;
    pa_buf_init(&doc);
    pa_buf_append(&doc, head, sizeof head - 1);
    for (int i = 0; doc.len < 2900; i++) {
        if (i)
            pa_buf_appendc(&doc, ',');
        pa_buf_append(&doc, item, sizeof item - 1);
    }
    pa_buf_append(&doc, tail, sizeof tail - 1);

    struct pa_jw *w = pa_jw_new();
    struct sink s = {0};
    if (pa_jw_walk(w, doc.data, doc.len, cb, &s) != 0) {
        fprintf(stderr, "benchmark document is invalid: %s\n", pa_jw_error(w, NULL));
        return 1;
    }
    size_t per_doc = s.events;
    for (long i = 0; i < iters / 20; i++) /* warm caches and buffers */
        pa_jw_walk(w, doc.data, doc.len, cb, &s);
    int rc = 0;
    double t0 = pa_now_monotonic();
    for (long i = 0; i < iters; i++)
        rc |= pa_jw_walk(w, doc.data, doc.len, cb, &s);
    double dt = pa_now_monotonic() - t0;
    double mb = (double)doc.len * (double)iters / 1e6;
    printf("document %zu bytes, %zu events, %ld walks\n", doc.len, per_doc, iters);
    printf("counting callback: %.3f s, %.0f MB/s, %.2f M docs/s, %.1f ns/event (%u)\n", dt, mb / dt,
           (double)iters / dt / 1e6, dt * 1e9 / ((double)per_doc * (double)iters), s.acc & 1);
    /* the walker alone: the callback only returns */
    t0 = pa_now_monotonic();
    for (long i = 0; i < iters; i++)
        rc |= pa_jw_walk(w, doc.data, doc.len, noop_cb, NULL);
    dt = pa_now_monotonic() - t0;
    printf("no-op callback:    %.3f s, %.0f MB/s, %.2f M docs/s, %.1f ns/event\n", dt, mb / dt,
           (double)iters / dt / 1e6, dt * 1e9 / ((double)per_doc * (double)iters));
    pa_jw_free(w);
    pa_buf_free(&doc);
    return rc;
}
