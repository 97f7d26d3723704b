/* jsonwalk_impl: the walker's internals and its state machine as an always-inline template, private to src/.
 *
 * jsonwalk.c instantiates it as pa_jw_walk (events go to a callback through a pointer). src/detect/walk.c instantiates
 * it a second time with its event handler called directly (it defines JW_DELIVER(cb, ctx, w, ev) and its slot type
 * JW_USER_T before including this header): the handler is then inlined at each event site, where the event's kind is
 * a constant, so the per-event call, the event record and the dispatch on its kind disappear. Both instances are the
 * same code: the unit tests and fuzzers of pa_jw_walk cover the walker of both (bench/detect_diff.sh compares the
 * detectors' results).
 *
 * Same rules as jsonwalk.c: no recursion, no allocation per token, no input byte outside the walker's buffers.
 */
#ifndef PA_JSONWALK_IMPL_H
#define PA_JSONWALK_IMPL_H

#include "arch.h"
#include "jsonwalk.h"

#include <stdlib.h>
#include <string.h>

#ifndef JW_DELIVER
#define JW_DELIVER(cb_, ctx_, w_, ev_) (cb_)((ctx_), (w_), (ev_))
#endif
/* The type of the consumer's per-container slot in this instance: uint64_t for pa_jw_walk (pa_jw_user); detect's
 * walk.c defines its own struct. At most 8 bytes, aligned to at most 8: every instance shares one frame layout. */
#ifndef JW_USER_T
#define JW_USER_T uint64_t
#endif

/* A byte buffer that only grows. Unlike pa_buf it wipes the old block when it moves, because it holds decoded
 * personal data and realloc would leave a copy behind in freed memory. */
struct dbuf {
    char *data;
    size_t len;
    size_t cap;
};

struct frame {
    /* The consumer's slot: room for the JW_USER_T of whichever instance walks (zeroed when the container opens).
     * Declared as pa_jw_walk's uint64_t (pa_jw_user); another instance reads and writes it only as its own type
     * (jw_user_top, jw_user_parent, JW_USER_CLEAR), never as this member, so no two types meet on these bytes. The
     * frame's layout, and jsonwalk.c's functions that read frames (paths, redaction), are the same for all instances.
     * First member: a frame's address is its slot's. */
    uint64_t user;
    const char *key;   /* objects: current member name in the input, or NULL when it was decoded to arena+koff */
    size_t koff;       /* arena length when this container opened; its decoded member name starts here */
    size_t n;          /* arrays: index of the current element; objects: length of the current member name */
    const char *label; /* objects: redaction label of the current member (pa_jw_redact_key), or NULL */
    bool is_array;
};

struct pa_jw {
    struct frame *frames;
    size_t depth;      /* open containers */
    struct frame *top; /* during a walk: the innermost open container (frames + depth - 1), or NULL */
    size_t frames_cap;
    size_t max_depth;
    struct dbuf arena;   /* decoded member names of the open objects, innermost last */
    struct dbuf scratch; /* the current decoded string value */
    /* The current event opens or closes a container: that container is frames[depth - 1], and paths and member
     * names describe it as a value of its parent. */
    bool ev_container;
    const char *err;
    size_t err_off;
};

_Static_assert(sizeof(JW_USER_T) <= sizeof(uint64_t) && _Alignof(JW_USER_T) <= _Alignof(uint64_t),
               "JW_USER_T must fit the walker's 8-byte slot");

/* Zero a frame's slot when it opens, as the instance's type: pa_jw_walk's as the frame's member (the compiler then
 * knows the store is not the walker's depth, which a plain uint64_t store could be), others through their type. */
#define JW_USER_CLEAR(f_)                                                                                              \
    _Generic((JW_USER_T){0}, uint64_t                                                                                  \
             : (void)((f_)->user = 0), default                                                                         \
             : (void)(*(JW_USER_T *)(void *)(f_) = (JW_USER_T){0}))

#define PA_JW_DEFAULT_MAX_DEPTH 1000000

/* Typed access to the per-container slots for an instance's deliver hook, which knows where it is: no call, no depth
 * check. The innermost open container's slot, or NULL when none is open (the frame's address: its first member). */
static inline JW_USER_T *jw_user_top(struct pa_jw *w)
{
    return (JW_USER_T *)(void *)w->top;
}

/* The container around the innermost open one (only when there is one: at a *_BEGIN event of depth > 0): its slot,
 * and whether it is an array. */
static inline JW_USER_T *jw_user_parent(struct pa_jw *w)
{
    return (JW_USER_T *)(void *)(w->top - 1);
}

static inline bool jw_parent_is_array(const struct pa_jw *w)
{
    return w->top[-1].is_array;
}

/* The innermost open container (there must be one) is an array. */
static inline bool jw_top_is_array(const struct pa_jw *w)
{
    return w->top->is_array;
}

/* The open container at depth i (0: the top-level one; i < w->depth): its slot, and whether it is an array. For a
 * deliver hook that looks up the chain of containers (detect's context engine: rare paths only). */
static inline JW_USER_T *jw_user_at(struct pa_jw *w, size_t i)
{
    return (JW_USER_T *)(void *)&w->frames[i];
}

static inline bool jw_is_array_at(const struct pa_jw *w, size_t i)
{
    return w->frames[i].is_array;
}

static void dbuf_grow(struct dbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
    char *p = pa_xmalloc(cap);
    if (b->data) {
        memcpy(p, b->data, b->len);
        explicit_bzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
}

static inline void dbuf_reserve(struct dbuf *b, size_t extra)
{
    if (b->cap - b->len < extra)
        dbuf_grow(b, b->len + extra);
}

/* Only static strings reach here: the message is logged, so it must not depend on input bytes. */
static int set_error(struct pa_jw *w, const char *msg, size_t off)
{
    w->err = msg;
    w->err_off = off;
    return -1;
}

/* set_error for decode_string, which returns a position (NULL on error). */
static const char *string_error(struct pa_jw *w, const char *msg, size_t off)
{
    set_error(w, msg, off);
    return NULL;
}

static __attribute__((noinline)) const char *skip_ws_loop(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static inline const char *skip_ws(const char *p, const char *end)
{
    /* Most gaps are empty or one space (PostgreSQL prints jsonb as {"a": 1, "b": 2}): decide those on one or two
     * bytes; longer gaps (pretty-printed json) take the loop. */
    if (__builtin_expect(p < end && (unsigned char)*p > ' ', 1))
        return p;
    if (__builtin_expect(end - p >= 2 && *p == ' ' && (unsigned char)p[1] > ' ', 1))
        return p + 1;
    return skip_ws_loop(p, end);
}

/* p[0] == a && p[1] == b, as one 16-bit compare where the byte order allows it (p + 2 <= end). */
static inline bool two_bytes(const char *p, char a, char b)
{
#ifdef PA_HAVE_LE_WORDS
    uint16_t v;
    memcpy(&v, p, 2);
    return v == (uint16_t)((unsigned char)a | (unsigned char)b << 8);
#else
    return p[0] == a && p[1] == b;
#endif
}

#ifdef PA_HAVE_SSE2
/* Bit i set when p[i] ends a plain run ('"', '\\' or a control character); 16 bytes from p must be readable. */
static inline unsigned special16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* min(v, 0x1f) == v  <=>  v <= 0x1f as unsigned bytes */
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* The first byte at or after p that ends a plain run inside a string ('"', '\\' or a control character), or
 * end. This is where most of the bytes of a typical document are spent, hence 16 bytes per step. */
static inline const char *scan_plain(const char *p, const char *end)
{
#ifdef PA_HAVE_SSE2
    while (end - p >= 16) {
        unsigned bits = special16(p);
        if (bits)
            return p + (unsigned)__builtin_ctz(bits);
        p += 16;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20)
            break;
        p++;
    }
    return p;
}

#ifdef PA_HAVE_SSE2
/* scan_plain for the rest of a string longer than 16 bytes, out of line: inlined, its loop would keep the three
 * constants of special16 in registers and make the first 16 bytes (all that most strings need) copy them. */
static __attribute__((noinline)) const char *scan_plain_rest(const char *p, const char *end)
{
    return scan_plain(p, end);
}
#endif

static inline int hexval(unsigned char c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    c |= 0x20;
    if ((unsigned)(c - 'a') < 6u)
        return c - 'a' + 10;
    return -1;
}

/* The 4 hex digits at p as a code unit, or -1 (also when fewer than 4 bytes remain). */
static inline long hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    int a = hexval((unsigned char)p[0]), b = hexval((unsigned char)p[1]);
    int c = hexval((unsigned char)p[2]), d = hexval((unsigned char)p[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return (long)((a << 12) | (b << 8) | (c << 4) | d);
}

static inline size_t utf8_put(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A decoded string (decode_string's result). Its own type, so that only it lives in memory: the walker's position
 * and the string of the fast path stay in registers (their addresses never escape to an out-of-line call). */
struct jw_span {
    const char *s;
    size_t len;
};

/* The slow part of parse_string: the string at quote has an escape, a control character or no end, and p is
 * at the first of those. Kept out of line so that the common case stays small enough to inline. Returns the
 * position just past the closing quote (the decoded bytes are appended to dst, *out says where), or NULL. */
static __attribute__((noinline)) const char *decode_string(struct pa_jw *w, const char *buf, const char *quote,
                                                           const char *p, const char *end, struct dbuf *dst,
                                                           struct jw_span *out)
{
    const char *run = quote + 1;
    size_t base = dst->len;
    for (;;) {
        if (p == end)
            return string_error(w, "unterminated string", (size_t)(quote - buf));
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c < 0x20)
            return string_error(w, "control character in string (must be escaped)", (size_t)(p - buf));
        /* a backslash: flush the plain run before it (plus room for the longest decoded escape, 4 bytes) */
        size_t n = (size_t)(p - run);
        dbuf_reserve(dst, n + 4);
        memcpy(dst->data + dst->len, run, n);
        dst->len += n;
        if (end - p < 2)
            return string_error(w, "unterminated string", (size_t)(quote - buf));
        char *o = dst->data + dst->len;
        switch (p[1]) {
        case '"': *o = '"'; break;
        case '\\': *o = '\\'; break;
        case '/': *o = '/'; break;
        case 'b': *o = '\b'; break;
        case 'f': *o = '\f'; break;
        case 'n': *o = '\n'; break;
        case 'r': *o = '\r'; break;
        case 't': *o = '\t'; break;
        case 'u': {
            long cp = hex4(p + 2, end);
            if (cp < 0)
                return string_error(w, "invalid \\u escape in string", (size_t)(p - buf));
            p += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo = (end - p >= 2 && p[0] == '\\' && p[1] == 'u') ? hex4(p + 2, end) : -1;
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                } else {
                    /* PostgreSQL json (not jsonb) keeps such text; reporting beats rejecting the document */
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            dst->len += utf8_put(o, (unsigned long)cp);
            run = p;
            p = scan_plain(p, end);
            continue;
        }
        default: return string_error(w, "invalid escape in string", (size_t)(p - buf));
        }
        dst->len++;
        p += 2;
        run = p;
        p = scan_plain(p, end);
    }
    size_t n = (size_t)(p - run);
    dbuf_reserve(dst, n);
    memcpy(dst->data + dst->len, run, n);
    dst->len += n;
    out->s = dst->data + base;
    out->len = dst->len - base;
    return p + 1;
}

/* Parse the string whose opening quote is at quote. Returns the position just past the closing quote, or NULL on
 * error. *decoded is false when it had no escapes (*out points into the input: zero copy), true when it was
 * decoded into dst at dst->data + base (dst->len is set to base first: 0 for string values, the object's koff
 * for member names; *out points there). Decoded output is never longer than the escaped input, but it is reserved
 * per piece because the string's length is not known until its end. end16 is the walk's fast-path bound
 * (jw_walk): run < end16 when the 16 bytes from run on are inside the input. */
static inline __attribute__((always_inline)) const char *parse_string(struct pa_jw *w, const char *buf,
                                                                      const char *quote, const char *end,
                                                                      const char *end16, struct dbuf *dst, size_t base,
                                                                      const char **out, size_t *outlen, bool *decoded)
{
    const char *run = quote + 1;
    const char *p;
#ifdef PA_HAVE_SSE2
    /* Most strings end within the first 16 bytes: then the bit found is inside the input (no end check). */
    if (__builtin_expect(run < end16, 1)) {
        unsigned bits = special16(run);
        if (__builtin_expect(bits != 0, 1)) {
            p = run + (unsigned)__builtin_ctz(bits);
            if (__builtin_expect(*p == '"', 1)) {
                *out = run;
                *outlen = (size_t)(p - run);
                *decoded = false;
                return p + 1;
            }
            goto slow;
        }
        p = scan_plain_rest(run + 16, end);
    } else {
        p = scan_plain(run, end);
    }
#else
    p = scan_plain(run, end);
#endif
    if (__builtin_expect(p < end && *p == '"', 1)) {
        *out = run;
        *outlen = (size_t)(p - run);
        *decoded = false;
        return p + 1;
    }
#ifdef PA_HAVE_SSE2
slow:;
#endif
    struct jw_span sp = {NULL, 0};
    dst->len = base;
    p = decode_string(w, buf, quote, p, end, dst, &sp);
    *out = sp.s;
    *outlen = sp.len;
    *decoded = true;
    return p;
}

static inline bool jw_is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* The end of the run of ASCII digits at p (p itself when there is none). */
static inline const char *skip_digits(const char *p, const char *end)
{
#ifdef PA_HAVE_LE_WORDS
    /* 8 bytes at a time: t = byte ^ '0' is a digit's value (0..9) exactly when its high nibble is 0 and t + 6 does
     * not carry into it. A byte that fails may carry into the next one, but only bytes after the first failing
     * one are disturbed, and the lowest flagged byte is the answer. */
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t t = x ^ 0x3030303030303030u;
        uint64_t nd = (t | (t + 0x0606060606060606u)) & 0xf0f0f0f0f0f0f0f0u;
        if (nd)
            return p + ((unsigned)__builtin_ctzll(nd) >> 3);
        p += 8;
    }
#endif
    while (p < end && jw_is_digit(*p))
        p++;
    return p;
}

/* Validate the number starting at p; returns its end, or NULL (error set). */
static const char *parse_number(struct pa_jw *w, const char *buf, const char *p, const char *end)
{
    const char *start = p;
    if (*p == '-')
        p++;
    if (p == end || !jw_is_digit(*p))
        goto bad;
    if (*p == '0') {
        p++;
        if (p < end && jw_is_digit(*p)) {
            set_error(w, "invalid number (leading zero)", (size_t)(start - buf));
            return NULL;
        }
    } else {
        p = skip_digits(p + 1, end);
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !jw_is_digit(*p))
            goto bad;
        p = skip_digits(p + 1, end);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !jw_is_digit(*p))
            goto bad;
        p = skip_digits(p + 1, end);
    }
    return p;
bad:
    set_error(w, "invalid number", (size_t)(start - buf));
    return NULL;
}

static __attribute__((noinline)) void grow_frames(struct pa_jw *w)
{
    size_t cap = w->frames_cap * 2;
    w->frames = pa_xrealloc(w->frames, cap * sizeof *w->frames);
    w->frames_cap = cap;
}

/* Open a container: it becomes w->top. */
static inline void push(struct pa_jw *w, bool is_array)
{
    if (__builtin_expect(w->depth == w->frames_cap, 0))
        grow_frames(w);
    struct frame *f = &w->frames[w->depth++];
    JW_USER_CLEAR(f);
    f->key = NULL;
    f->koff = w->arena.len;
    f->n = 0;
    f->label = NULL;
    f->is_array = is_array;
    w->top = f;
}

/* Deliver one event; a non-zero return from the callback stops the walk with 1. */
#define EMIT(kind_, str_, len_, depth_, off_, container_)                                                              \
    do {                                                                                                               \
        ev.kind = (kind_);                                                                                             \
        ev.str = (str_);                                                                                               \
        ev.len = (len_);                                                                                               \
        ev.depth = (depth_);                                                                                           \
        ev.offset = (off_);                                                                                            \
        w->ev_container = (container_);                                                                                \
        if (JW_DELIVER(cb, ctx, w, &ev)) {                                                                             \
            rc = 1;                                                                                                    \
            goto out;                                                                                                  \
        }                                                                                                              \
    } while (0)

/* Close the innermost container (its closing event has been delivered). */
#define POP()                                                                                                          \
    do {                                                                                                               \
        w->arena.len = w->top->koff;                                                                                   \
        w->top = --w->depth ? w->top - 1 : NULL;                                                                       \
    } while (0)

#define FAIL(msg_, at_)                                                                                                \
    do {                                                                                                               \
        set_error(w, (msg_), (size_t)((at_)-buf));                                                                     \
        goto out;                                                                                                      \
    } while (0)

/* A container opens at p (its bracket): it becomes the innermost one, then its opening event. */
#define OPEN(kind_, is_array_)                                                                                         \
    do {                                                                                                               \
        if (w->depth >= w->max_depth)                                                                                  \
            FAIL("nesting too deep", p);                                                                               \
        push(w, (is_array_));                                                                                          \
        EMIT((kind_), NULL, 0, w->depth - 1, (size_t)(p - buf), true);                                                 \
    } while (0)

/* The innermost container closes at p: its closing event, then on after the bracket. */
#define CLOSE(kind_)                                                                                                   \
    do {                                                                                                               \
        EMIT((kind_), NULL, 0, w->depth - 1, (size_t)(p - buf), true);                                                 \
        POP();                                                                                                         \
        p++;                                                                                                           \
        goto after_value;                                                                                              \
    } while (0)

/* A ',' at p in a container that closes with close_: on to what follows it (a trailing comma is an error). */
#define COMMA(close_, trailing_)                                                                                       \
    do {                                                                                                               \
        p = skip_ws(p + 1, end);                                                                                       \
        if (p < end && *p == (close_))                                                                                 \
            FAIL((trailing_), p);                                                                                      \
    } while (0)

/* The literal text_ (true, false, null) at p: its event, then on after it. */
#define LITERAL(kind_, text_)                                                                                          \
    do {                                                                                                               \
        if (end - p < (ptrdiff_t)sizeof text_ - 1 || memcmp(p, text_, sizeof text_ - 1) != 0)                          \
            FAIL("invalid literal", p);                                                                                \
        EMIT((kind_), p, sizeof text_ - 1, w->depth, (size_t)(p - buf), false);                                        \
        p += sizeof text_ - 1;                                                                                         \
        goto after_value;                                                                                              \
    } while (0)

/* The walk (see pa_jw_walk in jsonwalk.h for the contract); JW_DELIVER delivers each event.
 * PostgreSQL prints jsonb as {"a": 1, "b": [2]}: that layout takes fast paths ('{"', '": ', '", "', a string's
 * first 16 bytes, 8 digits at a time) while 16 bytes remain (end16). Each is a shortcut for an input that the
 * general path accepts with the same events; every error, and every other layout, goes through the general path
 * (tests/unit/test_jsonwalk.c, tcase fast_paths, holds the two against each other). */
static inline __attribute__((always_inline)) int jw_walk(struct pa_jw *w, const char *buf, size_t len, pa_jw_cb cb,
                                                         void *ctx)
{
    int rc = -1;
    struct pa_jw_event ev;
    struct frame *f;
    const char *s;
    size_t slen;

    w->depth = 0;
    w->top = NULL;
    w->arena.len = 0;
    w->scratch.len = 0;
    w->ev_container = false;
    w->err = NULL;
    w->err_off = 0;
    if (len == 0) {
        set_error(w, "empty input", 0);
        goto out;
    }
    const char *p = buf;
    const char *const end = buf + len;
    /* p < end16 <=> at least 16 bytes from p on (end - p >= 16): the bound of every fast path (a string's first
     * 16 bytes, jsonb's separators), one compare; the last 15 bytes of a document take the general paths */
    const char *const end16 = len >= 16 ? end - 15 : buf;
    p = skip_ws(p, end);
    if (p == end)
        FAIL("empty input (only whitespace)", p);

value:
    if (p == end)
        FAIL("unexpected end of input (expected a value)", p);
value_nz:
    /* p < end. Whitespace reaches here only from the ": " fast path below; every other way in has skipped it.
     * Strings first: they are the most frequent value, and one compare is cheaper than the switch's dispatch. */
    if (*p == '"')
        goto string_value;
    switch (*p) {
    case ' ':
    case '\t':
    case '\n':
    case '\r': p = skip_ws_loop(p, end); goto value;
    case '{':
        OPEN(PA_JW_OBJECT_BEGIN, false);
        if (__builtin_expect(p < end16 && p[1] == '"', 1)) {
            p++; /* jsonb's {"name": ... */
            goto member_q;
        }
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}')
            CLOSE(PA_JW_OBJECT_END);
        goto member;
    case '[':
        OPEN(PA_JW_ARRAY_BEGIN, true);
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']')
            CLOSE(PA_JW_ARRAY_END);
        goto value;
    case '"':
    string_value : {
        const char *at = p;
        bool decoded;
        p = parse_string(w, buf, at, end, end16, &w->scratch, 0, &s, &slen, &decoded);
        if (!p)
            goto out;
        EMIT(PA_JW_STRING, s, slen, w->depth, (size_t)(at - buf), false);
        goto after_value;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        const char *q = parse_number(w, buf, p, end);
        if (!q)
            goto out;
        EMIT(PA_JW_NUMBER, p, (size_t)(q - p), w->depth, (size_t)(p - buf), false);
        p = q;
        goto after_value;
    }
    case 't': LITERAL(PA_JW_TRUE, "true");
    case 'f': LITERAL(PA_JW_FALSE, "false");
    case 'n': LITERAL(PA_JW_NULL, "null");
    default: FAIL("expected a value", p);
    }

member:
    /* p is at the expected opening quote of a member name (whitespace skipped) */
    if (p == end)
        FAIL("unexpected end of input (expected a member name)", p);
    if (*p != '"')
        FAIL("expected a member name (a string)", p);
member_q:
    /* p < end and *p == '"' */
    {
        const char *at = p;
        f = w->top;
        /* a decoded name goes to the arena at f->koff (parse_string sets arena.len there); a name in the input
         * leaves the arena as it is: at most the previous decoded name of each open object stays there */
        bool decoded;
        p = parse_string(w, buf, at, end, end16, &w->arena, f->koff, &s, &slen, &decoded);
        if (!p)
            goto out;
        f->key = decoded ? NULL : s;
        f->n = slen;
        f->label = NULL;
        EMIT(PA_JW_KEY, s, slen, w->depth, (size_t)(at - buf), false);
    }
    if (__builtin_expect(p < end16 && two_bytes(p, ':', ' '), 1)) {
        p += 2; /* jsonb's ": "; more whitespace after it is skipped at value_nz */
        goto value_nz;
    }
    p = skip_ws(p, end);
    if (p == end)
        FAIL("unexpected end of input (expected ':')", p);
    if (*p != ':')
        FAIL("expected ':' after a member name", p);
    p = skip_ws(p + 1, end);
    goto value;

after_value:
    f = w->top;
    /* jsonb's ", " before the next member name, decided before the general checks (all of which it passes) */
    if (__builtin_expect(p < end16 && f && !f->is_array && two_bytes(p, ',', ' ') && p[2] == '"', 1)) {
        p += 2;
        goto member_q;
    }
    p = skip_ws(p, end);
    if (!f) {
        if (p != end)
            FAIL("unexpected data after the top-level value", p);
        rc = 0;
        goto out;
    }
    if (p == end)
        FAIL("unexpected end of input (unclosed array or object)", p);
    if (f->is_array) {
        if (*p == ',') {
            f->n++;
            COMMA(']', "trailing comma in array");
            goto value;
        }
        if (*p == ']')
            CLOSE(PA_JW_ARRAY_END);
        FAIL("expected ',' or ']' after an array element", p);
    }
    if (*p == ',') {
        if (__builtin_expect(p < end16 && two_bytes(p + 1, ' ', '"'), 1)) {
            p += 2; /* jsonb's ", " before the next member name */
            goto member_q;
        }
        COMMA('}', "trailing comma in object");
        goto member;
    }
    if (*p == '}')
        CLOSE(PA_JW_OBJECT_END);
    FAIL("expected ',' or '}' after an object member", p);

out:
    /* No container is open between walks: the accessors then answer "top level", whatever happened. */
    w->depth = 0;
    w->top = NULL;
    w->ev_container = false;
    return rc;
}

#undef EMIT
#undef POP
#undef FAIL
#undef OPEN
#undef COMMA
#undef CLOSE
#undef LITERAL

#endif
