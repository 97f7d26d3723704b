/* fuzz_jsonwalk: libFuzzer target for jsonwalk. It walks each input with a consumer that uses every accessor
 * (paths, slots, member names, redaction) and checks the walker's invariants; for valid input it re-serializes the
 * events as JSON and requires the walk of that to deliver the same events (decoding and validation agree).
 * It must never print input bytes: a finding is reported by abort() and the crash file.
 *
 * Run by tests/fuzz/run.sh (and, 60 s, by run-all.sh); its corpus is replayed by meson test fuzz-replay-*. By hand:
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -Isrc src/util.c src/jsonwalk.c tests/fuzz/fuzz_jsonwalk.c -lm -o /tmp/fuzz_jsonwalk
 *   mkdir -p /tmp/jw-corpus && /tmp/fuzz_jsonwalk -max_total_time=60 /tmp/jw-corpus tests/fuzz/corpus/jsonwalk
 */
#include "jsonwalk.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            abort();                                                                                                   \
    } while (0)

/* Paths cost O(depth) each; rendering one per event on a 4,000-deep input would only measure that. */
#define PATH_EVERY_EVENT_BELOW 64

struct fz {
    const char *in;
    size_t in_len;
    /* our own view of the nesting, to check the walker's: 'a' array, 'o' object */
    char *kinds;
    uint64_t *stamps;
    size_t depth;
    size_t cap;
    uint64_t events;
    uint64_t hash;
    struct pa_buf path;
    struct pa_buf json; /* re-serialization of the events */
    bool need_comma;
    bool after_key;
};

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    *h = pa_fnv1a64(*h, p, n);
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return false;
        }
        if (n - i < need || s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k < need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += need;
    }
    return true;
}

/* Raw bytes >= 0x80 stay raw: the walker passes invalid UTF-8 through, so it must read it back the same. */
static void put_string(struct pa_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    pa_buf_appendc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            pa_buf_appendc(b, '\\');
            pa_buf_appendc(b, (char)c);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pa_buf_append(b, e, 6);
        } else {
            pa_buf_appendc(b, (char)c);
        }
    }
    pa_buf_appendc(b, '"');
}

static void serialize(struct fz *z, const struct pa_jw_event *ev)
{
    struct pa_buf *b = &z->json;
    bool closing = ev->kind == PA_JW_OBJECT_END || ev->kind == PA_JW_ARRAY_END;
    if (z->need_comma && !closing && !z->after_key)
        pa_buf_appendc(b, ',');
    z->after_key = false;
    switch (ev->kind) {
    case PA_JW_OBJECT_BEGIN:
        pa_buf_appendc(b, '{');
        z->need_comma = false;
        return;
    case PA_JW_ARRAY_BEGIN:
        pa_buf_appendc(b, '[');
        z->need_comma = false;
        return;
    case PA_JW_OBJECT_END: pa_buf_appendc(b, '}'); break;
    case PA_JW_ARRAY_END: pa_buf_appendc(b, ']'); break;
    case PA_JW_KEY:
        put_string(b, ev->str, ev->len);
        pa_buf_appendc(b, ':');
        z->after_key = true;
        return;
    case PA_JW_STRING: put_string(b, ev->str, ev->len); break;
    case PA_JW_NUMBER:
    case PA_JW_TRUE:
    case PA_JW_FALSE:
    case PA_JW_NULL: pa_buf_append(b, ev->str, ev->len); break;
    }
    z->need_comma = true;
}

static void push(struct fz *z, char kind, uint64_t stamp)
{
    if (z->depth == z->cap) {
        z->cap = z->cap ? z->cap * 2 : 64;
        z->kinds = pa_xrealloc(z->kinds, z->cap);
        z->stamps = pa_xrealloc(z->stamps, z->cap * sizeof *z->stamps);
    }
    z->kinds[z->depth] = kind;
    z->stamps[z->depth++] = stamp;
}

static int cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct fz *z = ctx;
    z->events++;
    uint64_t kind = (uint64_t)ev->kind;
    hash_bytes(&z->hash, &kind, sizeof kind);
    hash_bytes(&z->hash, &ev->depth, sizeof ev->depth);
    hash_bytes(&z->hash, &ev->len, sizeof ev->len);
    if (ev->len)
        hash_bytes(&z->hash, ev->str, ev->len); /* also makes ASan check every byte we were given */
    CHECK(ev->len <= z->in_len);

    switch (ev->kind) {
    case PA_JW_OBJECT_BEGIN:
    case PA_JW_ARRAY_BEGIN: {
        CHECK(ev->depth == z->depth);
        uint64_t *u = pa_jw_user(w, 0);
        CHECK(u && *u == 0);
        if (z->depth)
            CHECK(pa_jw_user(w, 1) && *pa_jw_user(w, 1) == z->stamps[z->depth - 1]);
        *u = z->events * 0x9e3779b97f4a7c15ull | 1;
        push(z, ev->kind == PA_JW_ARRAY_BEGIN ? 'a' : 'o', *u);
        CHECK(pa_jw_in_array(w) == (ev->kind == PA_JW_ARRAY_BEGIN));
        break;
    }
    case PA_JW_OBJECT_END:
    case PA_JW_ARRAY_END:
        CHECK(z->depth > 0 && ev->depth == z->depth - 1);
        CHECK(z->kinds[z->depth - 1] == (ev->kind == PA_JW_ARRAY_END ? 'a' : 'o'));
        CHECK(pa_jw_user(w, 0) && *pa_jw_user(w, 0) == z->stamps[z->depth - 1]);
        CHECK(pa_jw_user(w, z->depth) == NULL);
        CHECK(pa_jw_in_array(w) == (ev->kind == PA_JW_ARRAY_END));
        z->depth--;
        break;
    case PA_JW_KEY: {
        CHECK(z->depth > 0 && z->kinds[z->depth - 1] == 'o' && ev->depth == z->depth);
        size_t klen;
        const char *k = pa_jw_current_key(w, &klen);
        CHECK(k && klen == ev->len && memcmp(k, ev->str, klen) == 0);
        if (ev->len & 1)
            pa_jw_redact_key(w, "pii");
        break;
    }
    default:
        CHECK(ev->depth == z->depth);
        CHECK(pa_jw_in_array(w) == (z->depth && z->kinds[z->depth - 1] == 'a'));
        CHECK((pa_jw_user(w, 0) != NULL) == (z->depth > 0));
        break;
    }
    /* how many containers enclose the event's value (for BEGIN/END: the container as a value of its parent) */
    size_t member_depth = (ev->kind == PA_JW_OBJECT_BEGIN || ev->kind == PA_JW_ARRAY_BEGIN) ? z->depth - 1 : z->depth;
    bool in_object = member_depth && z->kinds[member_depth - 1] == 'o';
    CHECK((pa_jw_current_key(w, NULL) != NULL) == in_object);

    if (ev->depth < PATH_EVERY_EVENT_BELOW || (z->events & 255) == 0) {
        pa_buf_truncate(&z->path, 0);
        pa_jw_path(w, &z->path);
        CHECK(z->path.len >= 1 && z->path.data[0] == '$');
        CHECK(z->path.data[z->path.len] == '\0' && strlen(z->path.data) == z->path.len);
        CHECK(valid_utf8((const unsigned char *)z->path.data, z->path.len));
        CHECK((z->path.len == 1) == (member_depth == 0));
    }
    serialize(z, ev);
    return 0;
}

static void reset(struct fz *z, const char *in, size_t len)
{
    z->in = in;
    z->in_len = len;
    z->depth = 0;
    z->events = 0;
    z->hash = PA_FNV1A64_BASIS;
    pa_buf_truncate(&z->json, 0);
    z->need_comma = false;
    z->after_key = false;
}

static void check_error(struct pa_jw *w, const char *in, size_t len)
{
    size_t off;
    const char *msg = pa_jw_error(w, &off);
    CHECK(msg && off <= len);
    CHECK(!(msg >= in && msg < in + len));
    for (const char *p = msg; *p; p++)
        CHECK(*p >= 0x20 && *p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one walker for the whole run, like a scan thread: state leaking between documents shows up here */
    static struct pa_jw *w;
    static struct fz z;
    if (!w) {
        w = pa_jw_new();
        pa_buf_init(&z.path);
        pa_buf_init(&z.json);
        pa_buf_appends(&z.json, "");
    }
    const char *in = (const char *)data;

    reset(&z, in, size);
    int rc = pa_jw_walk(w, in, size, cb, &z);
    CHECK(rc == 0 || rc == -1);
    if (rc == -1) {
        check_error(w, in, size);
    } else {
        CHECK(z.depth == 0 && z.events > 0);
    }
    CHECK(pa_jw_user(w, 0) == NULL && pa_jw_current_key(w, NULL) == NULL && !pa_jw_in_array(w));

    /* the same input again gives the same events and result */
    uint64_t hash = z.hash, events = z.events;
    reset(&z, in, size);
    CHECK(pa_jw_walk(w, in, size, cb, &z) == rc);
    CHECK(z.hash == hash && z.events == events);

    if (rc == 0) {
        /* what we understood, written back as JSON, must be read back as the same events */
        char *again = pa_xmalloc(z.json.len + 1);
        size_t again_len = z.json.len;
        memcpy(again, z.json.data, again_len);
        reset(&z, again, again_len);
        CHECK(pa_jw_walk(w, again, again_len, cb, &z) == 0);
        CHECK(z.hash == hash && z.events == events);
        free(again);
    }
    return 0;
}
