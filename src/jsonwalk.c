/* jsonwalk: a streaming, non-recursive RFC 8259 walker (see jsonwalk.h for the contract).
 *
 * It must never recurse (input depth would become C stack depth), never allocate per token (it runs on every
 * scanned document), and never put an input byte into an error message or anywhere outside the walker's own
 * buffers: everything it reads is personal data.
 *
 * Shape: one function, pa_jw_walk, is a goto state machine over four states (value, member name, after a value,
 * done); it lives in jsonwalk_impl.h as an always-inline template that src/detect/walk.c instantiates a second time.
 * Nesting lives in w->frames. Member names needed later for paths are kept by pointer when they had no escapes (the
 * input outlives the walk) and decoded into a stack-shaped arena otherwise; the arena is cut back when a container
 * closes, so its size is bounded by the current document's depth and key lengths.
 */
#include "jsonwalk_impl.h"

#include <stdlib.h>
#include <string.h>

static void dbuf_free(struct dbuf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

struct pa_jw *pa_jw_new(void)
{
    struct pa_jw *w = pa_xcalloc(1, sizeof *w);
    w->max_depth = PA_JW_DEFAULT_MAX_DEPTH;
    w->frames_cap = 32;
    w->frames = pa_xmalloc(w->frames_cap * sizeof *w->frames);
    return w;
}

void pa_jw_free(struct pa_jw *w)
{
    if (!w)
        return;
    explicit_bzero(w->frames, w->frames_cap * sizeof *w->frames);
    free(w->frames);
    dbuf_free(&w->arena);
    dbuf_free(&w->scratch);
    explicit_bzero(w, sizeof *w);
    free(w);
}

void pa_jw_wipe(struct pa_jw *w)
{
    if (w->arena.data)
        explicit_bzero(w->arena.data, w->arena.cap);
    if (w->scratch.data)
        explicit_bzero(w->scratch.data, w->scratch.cap);
    explicit_bzero(w->frames, w->frames_cap * sizeof *w->frames);
    w->arena.len = w->scratch.len = 0;
    w->depth = 0;
}

void pa_jw_set_max_depth(struct pa_jw *w, size_t max_depth)
{
    w->max_depth = max_depth;
}

const char *pa_jw_error(const struct pa_jw *w, size_t *offset)
{
    if (offset)
        *offset = w->err ? w->err_off : 0;
    return w->err ? w->err : "no error";
}

int pa_jw_walk(struct pa_jw *w, const char *buf, size_t len, pa_jw_cb cb, void *ctx)
{
    return jw_walk(w, buf, len, cb, ctx);
}

/* The frame whose current member the event's value is, or NULL at top level. */
static const struct frame *member_frame(const struct pa_jw *w)
{
    size_t n = w->depth;
    if (w->ev_container && n)
        n--;
    return n ? &w->frames[n - 1] : NULL;
}

static bool is_identifier(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alpha = (unsigned)((c | 0x20) - 'a') < 26u || c == '_';
        if (!alpha && (i == 0 || !jw_is_digit((char)c)))
            return false;
    }
    return true;
}

void pa_jw_path(const struct pa_jw *w, struct pa_buf *out)
{
    size_t n = w->depth;
    if (w->ev_container && n)
        n--;
    pa_buf_appendc(out, '$');
    for (size_t i = 0; i < n; i++) {
        const struct frame *f = &w->frames[i];
        if (f->is_array) {
            char num[24];
            size_t k = sizeof num;
            num[--k] = ']';
            size_t v = f->n;
            do {
                num[--k] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            num[--k] = '[';
            pa_buf_append(out, num + k, sizeof num - k);
        } else if (f->label) {
            pa_buf_append(out, ".<", 2);
            pa_buf_appends(out, f->label);
            pa_buf_appendc(out, '>');
        } else {
            pa_jw_path_member(out, f->key ? f->key : w->arena.data + f->koff, f->n);
        }
    }
}

void pa_jw_path_member(struct pa_buf *out, const char *name, size_t n)
{
    if (is_identifier(name, n)) {
        pa_buf_appendc(out, '.');
        pa_buf_append(out, name, n);
    } else {
        pa_buf_appendc(out, '[');
        /* paths are logged and stored as text: invalid UTF-8 in a name (strings may carry it, see jsonwalk.h) is
         * written as \ufffd */
        pa_buf_append_json_name(out, name, n);
        pa_buf_appendc(out, ']');
    }
}

void pa_jw_redact_key(struct pa_jw *w, const char *label)
{
    const struct frame *f = member_frame(w);
    if (f && !f->is_array)
        w->frames[f - w->frames].label = label;
}

uint64_t *pa_jw_user(struct pa_jw *w, size_t levels_up)
{
    if (levels_up >= w->depth)
        return NULL;
    return &w->frames[w->depth - 1 - levels_up].user;
}

bool pa_jw_in_array(const struct pa_jw *w)
{
    return w->depth && w->frames[w->depth - 1].is_array;
}

const char *pa_jw_current_key(const struct pa_jw *w, size_t *len)
{
    const struct frame *f = member_frame(w);
    if (!f || f->is_array) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = f->n;
    return f->key ? f->key : w->arena.data + f->koff;
}
