/* Unit tests for jsonwalk: event sequences and depths, paths during every kind of event, string decoding, strict
 * validation (and error messages that carry no input byte), size and depth limits, per-container slots, walker
 * reuse. Most checks compare a compact trace of the walk: "<kind><depth><path>[=<bytes>]" per event, where kind is
 * OB OE AB AE K S N T F Z (null) and bytes outside printable ASCII are written as \xNN. */
#include "jsonwalk.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *const kind_name[] = {"OB", "OE", "AB", "AE", "K", "S", "N", "T", "F", "Z"};

static void append_bytes(struct pa_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            pa_buf_appendc(b, (char)c);
        else
            pa_buf_printf(b, "\\x%02x", c);
    }
}

struct trace {
    struct pa_buf b;
    int n;
    int stop_after; /* 0: never stop */
    bool redact;    /* redact members named "email" as <email> */
    bool extras;    /* also record pa_jw_current_key ("k:") and pa_jw_in_array ("a") */
};

static int trace_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct trace *t = ctx;
    /* every container must open with a zero slot, whatever earlier events and documents stored */
    if (ev->kind == PA_JW_OBJECT_BEGIN || ev->kind == PA_JW_ARRAY_BEGIN) {
        ck_assert_ptr_nonnull(pa_jw_user(w, 0));
        ck_assert_uint_eq(*pa_jw_user(w, 0), 0);
    }
    if (pa_jw_user(w, 0))
        *pa_jw_user(w, 0) = 0xdeadbeef;
    if (t->redact && ev->kind == PA_JW_KEY && ev->len == 5 && memcmp(ev->str, "email", 5) == 0)
        pa_jw_redact_key(w, "email");
    if (t->b.len)
        pa_buf_appendc(&t->b, ' ');
    pa_buf_printf(&t->b, "%s%zu", kind_name[ev->kind], ev->depth);
    pa_jw_path(w, &t->b);
    if (ev->kind == PA_JW_KEY || ev->kind == PA_JW_STRING || ev->kind == PA_JW_NUMBER) {
        pa_buf_appendc(&t->b, '=');
        append_bytes(&t->b, ev->str, ev->len);
    }
    if (t->extras) {
        size_t klen;
        const char *k = pa_jw_current_key(w, &klen);
        pa_buf_appends(&t->b, "{k:");
        if (k)
            append_bytes(&t->b, k, klen);
        else
            pa_buf_appendc(&t->b, '-');
        pa_buf_appends(&t->b, pa_jw_in_array(w) ? ",a}" : "}");
    }
    t->n++;
    return t->stop_after && t->n >= t->stop_after;
}

/* Walk json with a trace; returns the walk's result and leaves the trace in t (caller frees t->b). */
static int walk_trace_w(struct pa_jw *w, const char *json, size_t len, struct trace *t)
{
    pa_buf_init(&t->b);
    pa_buf_appends(&t->b, "");
    t->n = 0;
    return pa_jw_walk(w, json, len, trace_cb, t);
}

static void expect_trace_opts(const char *json, const char *want, bool redact, bool extras)
{
    struct pa_jw *w = pa_jw_new();
    struct trace t = {.redact = redact, .extras = extras};
    int rc = walk_trace_w(w, json, strlen(json), &t);
    ck_assert_msg(rc == 0, "walk of %s failed: %s", json, pa_jw_error(w, NULL));
    ck_assert_str_eq(t.b.data, want);
    pa_buf_free(&t.b);
    pa_jw_free(w);
}

static void expect_trace(const char *json, const char *want)
{
    expect_trace_opts(json, want, false, false);
}

static int capture_string_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct pa_buf *out = ctx;
    if (ev->kind == PA_JW_STRING)
        pa_buf_append(out, ev->str, ev->len);
    return 0;
}

static void expect_decoded(const char *json, const char *want, size_t want_len)
{
    struct pa_jw *w = pa_jw_new();
    struct pa_buf out;
    pa_buf_init(&out);
    pa_buf_appends(&out, "");
    int rc = pa_jw_walk(w, json, strlen(json), capture_string_cb, &out);
    ck_assert_msg(rc == 0, "walk of %s failed: %s", json, pa_jw_error(w, NULL));
    ck_assert_msg(out.len == want_len && memcmp(out.data, want, want_len) == 0, "decoding %s: got %zu bytes", json,
                  out.len);
    pa_buf_free(&out);
    pa_jw_free(w);
}

static int null_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    return 0;
}

/* ---- event sequences and paths ---- */

START_TEST(test_nested_events)
{
    expect_trace("{\"a\":{\"b\":[1,\"x\",true,false,null,{}]},\"c\":[]}",
                 "OB0$ K1$.a=a OB1$.a K2$.a.b=b AB2$.a.b N3$.a.b[0]=1 S3$.a.b[1]=x T3$.a.b[2] F3$.a.b[3] Z3$.a.b[4] "
                 "OB3$.a.b[5] OE3$.a.b[5] AE2$.a.b OE1$.a K1$.c=c AB1$.c AE1$.c OE0$");
    expect_trace("[[1,[2]],[[]],{}]", "AB0$ AB1$[0] N2$[0][0]=1 AB2$[0][1] N3$[0][1][0]=2 AE2$[0][1] AE1$[0] "
                                      "AB1$[1] AB2$[1][0] AE2$[1][0] AE1$[1] OB1$[2] OE1$[2] AE0$");
    expect_trace("{}", "OB0$ OE0$");
    expect_trace("[]", "AB0$ AE0$");
    expect_trace("[[[]]]", "AB0$ AB1$[0] AB2$[0][0] AE2$[0][0] AE1$[0] AE0$");
    expect_trace("{\"a\":{\"b\":{}}}", "OB0$ K1$.a=a OB1$.a K2$.a.b=b OB2$.a.b OE2$.a.b OE1$.a OE0$");
    /* duplicate keys: both delivered, in order */
    expect_trace("{\"a\":1,\"a\":2}", "OB0$ K1$.a=a N1$.a=1 K1$.a=a N1$.a=2 OE0$");
    expect_trace("[true,false,null]", "AB0$ T1$[0] F1$[1] Z1$[2] AE0$");
}
END_TEST

/* The header's worked example, with the member name and in_array state of every event. */
START_TEST(test_semantics_per_event)
{
    expect_trace_opts("{\"a\":[1]}", "OB0${k:-} K1$.a=a{k:a} AB1$.a{k:a,a} N2$.a[0]=1{k:-,a} AE1$.a{k:a,a} OE0${k:-}",
                      false, true);
    expect_trace_opts("[{\"b\":{\"c\":\"v\"}},2]",
                      "AB0${k:-,a} OB1$[0]{k:-} K2$[0].b=b{k:b} OB2$[0].b{k:b} K3$[0].b.c=c{k:c} S3$[0].b.c=v{k:c} "
                      "OE2$[0].b{k:b} OE1$[0]{k:-} N1$[1]=2{k:-,a} AE0${k:-,a}",
                      false, true);
}
END_TEST

struct path_at {
    enum pa_jw_kind kind;
    int nth; /* 0-based occurrence of that kind */
    int seen;
    struct pa_buf path;
};

static int path_at_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct path_at *p = ctx;
    if (ev->kind == p->kind && p->seen++ == p->nth)
        pa_jw_path(w, &p->path);
    return 0;
}

static void expect_path_at(const char *json, enum pa_jw_kind kind, int nth, const char *want)
{
    struct pa_jw *w = pa_jw_new();
    struct path_at p = {.kind = kind, .nth = nth};
    pa_buf_init(&p.path);
    pa_buf_appends(&p.path, "");
    ck_assert_int_eq(pa_jw_walk(w, json, strlen(json), path_at_cb, &p), 0);
    ck_assert_str_eq(p.path.data, want);
    pa_buf_free(&p.path);
    pa_jw_free(w);
}

START_TEST(test_paths_per_event_kind)
{
    const char *doc = "{\"a\":{\"b\":[10,{\"c\":[]}]}}";
    expect_path_at(doc, PA_JW_OBJECT_BEGIN, 0, "$");
    expect_path_at(doc, PA_JW_OBJECT_BEGIN, 1, "$.a");
    expect_path_at(doc, PA_JW_OBJECT_BEGIN, 2, "$.a.b[1]");
    expect_path_at(doc, PA_JW_KEY, 0, "$.a");
    expect_path_at(doc, PA_JW_KEY, 1, "$.a.b");
    expect_path_at(doc, PA_JW_KEY, 2, "$.a.b[1].c");
    expect_path_at(doc, PA_JW_ARRAY_BEGIN, 0, "$.a.b");
    expect_path_at(doc, PA_JW_ARRAY_BEGIN, 1, "$.a.b[1].c");
    expect_path_at(doc, PA_JW_NUMBER, 0, "$.a.b[0]");
    expect_path_at(doc, PA_JW_ARRAY_END, 0, "$.a.b[1].c");
    expect_path_at(doc, PA_JW_ARRAY_END, 1, "$.a.b");
    expect_path_at(doc, PA_JW_OBJECT_END, 0, "$.a.b[1]");
    expect_path_at(doc, PA_JW_OBJECT_END, 1, "$.a");
    expect_path_at(doc, PA_JW_OBJECT_END, 2, "$");
}
END_TEST

START_TEST(test_path_names)
{
    expect_trace("{\"first name\":1}", "OB0$ K1$[\"first name\"]=first name N1$[\"first name\"]=1 OE0$");
    expect_trace("{\"a.b\":1}", "OB0$ K1$[\"a.b\"]=a.b N1$[\"a.b\"]=1 OE0$");
    expect_path_at("{\"quote\\\"d\":1}", PA_JW_NUMBER, 0, "$[\"quote\\\"d\"]");
    expect_path_at("{\"back\\\\slash\":1}", PA_JW_NUMBER, 0, "$[\"back\\\\slash\"]");
    expect_path_at("{\"\":1}", PA_JW_NUMBER, 0, "$[\"\"]");
    expect_path_at("{\"_x9\":1}", PA_JW_NUMBER, 0, "$._x9");
    expect_path_at("{\"A_b_Z\":1}", PA_JW_NUMBER, 0, "$.A_b_Z");
    expect_path_at("{\"_\":1}", PA_JW_NUMBER, 0, "$._");
    expect_path_at("{\"1a\":1}", PA_JW_NUMBER, 0, "$[\"1a\"]");
    expect_path_at("{\"a-b\":1}", PA_JW_NUMBER, 0, "$[\"a-b\"]");
    expect_path_at("{\"a/b\":1}", PA_JW_NUMBER, 0, "$[\"a/b\"]");
    expect_path_at("{\"$\":1}", PA_JW_NUMBER, 0, "$[\"$\"]");
    expect_path_at("{\"a\\nb\\t\\r\\b\\f\":1}", PA_JW_NUMBER, 0, "$[\"a\\nb\\t\\r\\b\\f\"]");
    expect_path_at("{\"a\\u0000b\\u0001\\u001f\\u007f\":1}", PA_JW_NUMBER, 0, "$[\"a\\u0000b\\u0001\\u001f\\u007f\"]");
    /* escapes in a name are decoded first: "a\u0062" is the identifier ab */
    expect_path_at("{\"a\\u0062\":1}", PA_JW_NUMBER, 0, "$.ab");
    /* non-ASCII UTF-8 is written as is; invalid UTF-8 becomes \ufffd so the path stays valid UTF-8 */
    expect_path_at("{\"\xc3\xbc\":1}", PA_JW_NUMBER, 0, "$[\"\xc3\xbc\"]");
    expect_path_at("{\"\\u00fc\":1}", PA_JW_NUMBER, 0, "$[\"\xc3\xbc\"]");
    expect_path_at("{\"\xf0\x9f\x98\x80\":1}", PA_JW_NUMBER, 0, "$[\"\xf0\x9f\x98\x80\"]");
    expect_path_at("{\"a\xff\":1}", PA_JW_NUMBER, 0, "$[\"a\\ufffd\"]");
    expect_path_at("{\"\xc3\":1}", PA_JW_NUMBER, 0, "$[\"\\ufffd\"]");
    expect_path_at("{\"\xc0\xaf\":1}", PA_JW_NUMBER, 0, "$[\"\\ufffd\\ufffd\"]");            /* overlong '/' */
    expect_path_at("{\"\xed\xa0\x80\":1}", PA_JW_NUMBER, 0, "$[\"\\ufffd\\ufffd\\ufffd\"]"); /* raw surrogate */
    expect_path_at("{\"\xf4\x90\x80\x80\":1}", PA_JW_NUMBER, 0, "$[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]");
    /* mixed: escaped names at several levels, arrays between */
    expect_path_at("{\"k\\\"1\":[{\"k\\n2\":[0,1]}]}", PA_JW_NUMBER, 1, "$[\"k\\\"1\"][0][\"k\\n2\"][1]");
    expect_path_at("[0,1,2,3,4,5,6,7,8,9,10,11]", PA_JW_NUMBER, 11, "$[11]");
}
END_TEST

/* pa_jw_path_member writes a member's segment exactly as pa_jw_path does (detect renders a typed value's path as its
 * object's path plus the value's member, after the member's event) */
struct member_cmp {
    size_t n;
};

static int member_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct member_cmp *m = ctx;
    if (ev->kind != PA_JW_KEY)
        return 0;
    struct pa_buf want, got;
    pa_buf_init(&want);
    pa_buf_init(&got);
    pa_jw_path(w, &want);
    size_t len;
    const char *name = pa_jw_current_key(w, &len);
    pa_buf_appendc(&got, '$');
    pa_jw_path_member(&got, name, len);
    ck_assert_uint_eq(got.len, want.len);
    ck_assert(memcmp(got.data, want.data, got.len) == 0);
    pa_buf_free(&want);
    pa_buf_free(&got);
    m->n++;
    return 0;
}

START_TEST(test_path_member)
{
    static const char *const docs[] = {
        "{\"value\":1}",    "{\"valueString\":1}", "{\"first name\":1}",   "{\"\":1}",
        "{\"_x9\":1}",      "{\"1a\":1}",          "{\"quote\\\"d\":1}",   "{\"a\\u0062\":1}",
        "{\"\xc3\xbc\":1}", "{\"a\xff\":1}",       "{\"a\\nb\\u0000\":1}",
    };
    struct pa_jw *w = pa_jw_new();
    for (size_t i = 0; i < PA_ARRAY_LEN(docs); i++) {
        struct member_cmp m = {0};
        ck_assert_int_eq(pa_jw_walk(w, docs[i], strlen(docs[i]), member_cb, &m), 0);
        ck_assert_uint_eq(m.n, 1);
    }
    pa_jw_free(w);
}
END_TEST

START_TEST(test_top_level_scalars)
{
    expect_trace_opts("\"x\"", "S0$=x{k:-}", false, true);
    expect_trace_opts("42", "N0$=42{k:-}", false, true);
    expect_trace_opts("null", "Z0${k:-}", false, true);
    expect_trace("true", "T0$");
    expect_trace("false", "F0$");
    expect_trace("-1.5e3", "N0$=-1.5e3");
    expect_trace("\"\"", "S0$=");
    expect_trace(" \"a\\u0000\" ", "S0$=a\\x00");
}
END_TEST

START_TEST(test_whitespace)
{
    expect_trace(" \t\n\r[ \t\n\r1 \t\n\r, \t\n\r{ \r\n\"a\" \t: \n null \r} \n] \t\n\r",
                 "AB0$ N1$[0]=1 OB1$[1] K2$[1].a=a Z2$[1].a OE1$[1] AE0$");
    expect_trace("\n\n1\n\n", "N0$=1");
    expect_trace("{ }", "OB0$ OE0$");
    expect_trace("[\n]", "AB0$ AE0$");
    /* only the four RFC 8259 whitespace bytes count */
    struct pa_jw *w = pa_jw_new();
    const char *bad[] = {"\v1", "\f1", "1\v", "[1\f]", "\xc2\xa0\x31", "1\xc2\xa0", "\x00 1"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++) {
        size_t len = i == PA_ARRAY_LEN(bad) - 1 ? 3 : strlen(bad[i]);
        ck_assert_int_eq(pa_jw_walk(w, bad[i], len, null_cb, NULL), -1);
    }
    pa_jw_free(w);
}
END_TEST

struct offsets {
    size_t off[32];
    int n;
};

static int offsets_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct offsets *o = ctx;
    o->off[o->n++] = ev->offset;
    return 0;
}

START_TEST(test_offsets)
{
    const char *doc = "  {\"a\" : [1, \"x\", -2.5e1, true]}";
    /* OB at 2, KEY at 3, '[' at 9, 1 at 10, "x" at 13, -2.5e1 at 18, true at 26, ']' at 30, '}' at 31 */
    struct pa_jw *w = pa_jw_new();
    struct offsets o = {0};
    ck_assert_int_eq(pa_jw_walk(w, doc, strlen(doc), offsets_cb, &o), 0);
    size_t want[] = {2, 3, 9, 10, 13, 18, 26, 30, 31};
    ck_assert_int_eq(o.n, (int)PA_ARRAY_LEN(want));
    for (size_t i = 0; i < PA_ARRAY_LEN(want); i++)
        ck_assert_uint_eq(o.off[i], want[i]);
    pa_jw_free(w);
}
END_TEST

/* ---- strings ---- */

START_TEST(test_escapes)
{
    expect_decoded("\"\\n\\t\\\"\\\\\\/\\b\\f\\r\"", "\n\t\"\\/\b\f\r", 8);
    expect_decoded("\"a\\nb\"", "a\nb", 3);
    expect_decoded("\"\\u0041\\u00e9\\u20ac\"", "A\xc3\xa9\xe2\x82\xac", 6);
    expect_decoded("\"\\u00E9\\u20AC\"", "\xc3\xa9\xe2\x82\xac", 5);
    expect_decoded("\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"", "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 11);
    /* \u0000 is a real 0 byte: lengths are explicit */
    expect_decoded("\"a\\u0000b\"", "a\0b", 3);
    expect_decoded("\"\\u0000\"", "\0", 1);
    /* surrogate pairs join into one 4-byte character */
    expect_decoded("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
    expect_decoded("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4);
    expect_decoded("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 4);
    expect_decoded("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4);
    expect_decoded("\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y", 6);
    /* lone surrogates become U+FFFD, and whatever follows is decoded normally */
    expect_decoded("\"\\ud83d\"", "\xef\xbf\xbd", 3);
    expect_decoded("\"\\ud83dx\"", "\xef\xbf\xbdx", 4);
    expect_decoded("\"\\ude00\"", "\xef\xbf\xbd", 3);
    expect_decoded("\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd", 6);
    expect_decoded("\"\\ud83d\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80", 7);
    expect_decoded("\"\\ud83d\\u0041\"",
                   "\xef\xbf\xbd"
                   "A",
                   4);
    expect_decoded("\"\\ud83d\\n\"", "\xef\xbf\xbd\n", 4);
    expect_decoded("\"\\ud83d\\\\u0041\"", "\xef\xbf\xbd\\u0041", 9);
    /* a long plain run, an escape, a long plain run: both runs must survive the scratch buffer growing */
    char doc[1200], want[1200];
    size_t n = 0, m = 0;
    doc[n++] = '"';
    for (int i = 0; i < 500; i++)
        doc[n++] = want[m++] = (char)('a' + i % 26);
    doc[n++] = '\\';
    doc[n++] = 't';
    want[m++] = '\t';
    for (int i = 0; i < 500; i++)
        doc[n++] = want[m++] = (char)('A' + i % 26);
    doc[n++] = '"';
    doc[n] = '\0';
    expect_decoded(doc, want, m);
}
END_TEST

struct ptr_check {
    const char *lo, *hi;
    int inside, outside;
};

static int ptr_check_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct ptr_check *c = ctx;
    if (ev->kind == PA_JW_STRING || ev->kind == PA_JW_KEY) {
        if (ev->str >= c->lo && ev->str < c->hi)
            c->inside++;
        else
            c->outside++;
    }
    return 0;
}

START_TEST(test_zero_copy)
{
    struct pa_jw *w = pa_jw_new();
    const char *plain = "{\"key\":\"plain value\"}";
    struct ptr_check c = {plain, plain + strlen(plain), 0, 0};
    ck_assert_int_eq(pa_jw_walk(w, plain, strlen(plain), ptr_check_cb, &c), 0);
    ck_assert_int_eq(c.inside, 2);
    ck_assert_int_eq(c.outside, 0);
    const char *esc = "{\"k\\u0065y\":\"esc\\naped\"}";
    struct ptr_check d = {esc, esc + strlen(esc), 0, 0};
    ck_assert_int_eq(pa_jw_walk(w, esc, strlen(esc), ptr_check_cb, &d), 0);
    ck_assert_int_eq(d.inside, 0);
    ck_assert_int_eq(d.outside, 2);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_invalid_utf8_passes_through)
{
    expect_decoded("\"\xff\xfe\xc3\"", "\xff\xfe\xc3", 3);
    expect_decoded("\"a\xed\xa0\x80z\"", "a\xed\xa0\x80z", 5);
    expect_decoded("\"\xc0\xaf\\n\x80\"", "\xc0\xaf\n\x80", 4);
    expect_decoded("\"\x7f\"", "\x7f", 1); /* DEL is not a control character for RFC 8259 */
}
END_TEST

START_TEST(test_escaped_keys)
{
    expect_trace_opts("{\"a\\u0062\":{\"c\\td\":1}}",
                      "OB0${k:-} K1$.ab=ab{k:ab} OB1$.ab{k:ab} "
                      "K2$.ab[\"c\\td\"]=c\\x09d{k:c\\x09d} "
                      "N2$.ab[\"c\\td\"]=1{k:c\\x09d} OE1$.ab{k:ab} OE0${k:-}",
                      false, true);
    /* a decoded name of an outer object must survive the inner object's names (stack-shaped arena) */
    expect_trace("{\"\\u0041\":{\"\\u0042\":1,\"\\u0043\":[{\"\\u0044\":2}]},\"\\u0045\":3}",
                 "OB0$ K1$.A=A OB1$.A K2$.A.B=B N2$.A.B=1 K2$.A.C=C AB2$.A.C OB3$.A.C[0] K4$.A.C[0].D=D "
                 "N4$.A.C[0].D=2 OE3$.A.C[0] AE2$.A.C OE1$.A K1$.E=E N1$.E=3 OE0$");
}
END_TEST

/* ---- numbers ---- */

START_TEST(test_numbers)
{
    expect_trace("[0,-0,0.0,1e5,1E+5,1e-5,-1.25e-10,123456789012345678901234567890,0e0,-0.5E-0]",
                 "AB0$ N1$[0]=0 N1$[1]=-0 N1$[2]=0.0 N1$[3]=1e5 N1$[4]=1E+5 N1$[5]=1e-5 N1$[6]=-1.25e-10 "
                 "N1$[7]=123456789012345678901234567890 N1$[8]=0e0 N1$[9]=-0.5E-0 AE0$");
    expect_trace("{\"n\":1}", "OB0$ K1$.n=n N1$.n=1 OE0$");
}
END_TEST

struct num_check {
    const char *want;
    size_t want_len;
    int seen;
};

static int num_check_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct num_check *c = ctx;
    if (ev->kind == PA_JW_NUMBER) {
        ck_assert_uint_eq(ev->len, c->want_len);
        ck_assert(memcmp(ev->str, c->want, ev->len) == 0);
        c->seen++;
    }
    return 0;
}

START_TEST(test_long_numbers)
{
    struct pa_jw *w = pa_jw_new();
    struct pa_buf num, doc;
    pa_buf_init(&num);
    pa_buf_init(&doc);
    pa_buf_appendc(&num, '1');
    for (int i = 0; i < 999; i++)
        pa_buf_appendc(&num, (char)('0' + i % 10));
    pa_buf_printf(&doc, "[%s]", num.data);
    struct num_check c = {num.data, num.len, 0};
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, num_check_cb, &c), 0);
    ck_assert_int_eq(c.seen, 1);

    pa_buf_truncate(&num, 0);
    pa_buf_appends(&num, "-0.");
    for (int i = 0; i < 1000; i++)
        pa_buf_appendc(&num, (char)('0' + (i * 7) % 10));
    pa_buf_appends(&num, "e-");
    for (int i = 0; i < 1000; i++)
        pa_buf_appendc(&num, '9');
    c = (struct num_check){num.data, num.len, 0};
    ck_assert_int_eq(pa_jw_walk(w, num.data, num.len, num_check_cb, &c), 0);
    ck_assert_int_eq(c.seen, 1);
    pa_buf_free(&num);
    pa_buf_free(&doc);
    pa_jw_free(w);
}
END_TEST

/* ---- fast paths (jsonb's separators, a string's first 16 bytes, 8-digit runs) against the general paths ---- */

/* Walk a private heap copy of exactly len bytes (sanitizers see any read past the end) with a trace. */
static int walk_trace_exact(struct pa_jw *w, const char *json, size_t len, struct trace *t)
{
    char *in = pa_xmalloc(len ? len : 1);
    memcpy(in, json, len);
    int rc = walk_trace_w(w, in, len, t);
    free(in);
    return rc;
}

/* jsonb's layout ({"a": 1, "b": [2]}) takes the fast paths; the same document with a space around every
 * structural character takes the general ones. Both must give the same events, decoded strings and paths, for
 * tokens of every length around the 16-byte bound, escapes and digit runs at every position, and any distance from
 * the end of an unpadded buffer. */
static void spaced(const char *compact, struct pa_buf *out)
{
    bool in_str = false;
    pa_buf_truncate(out, 0);
    for (const char *c = compact; *c; c++) {
        if (in_str) {
            pa_buf_appendc(out, *c);
            if (*c == '\\' && c[1])
                pa_buf_appendc(out, *++c);
            else if (*c == '"')
                in_str = false;
        } else if (*c == '"') {
            pa_buf_appendc(out, *c);
            in_str = true;
        } else if (strchr("{}[]:,", *c)) {
            pa_buf_appendc(out, ' ');
            pa_buf_appendc(out, *c);
            pa_buf_appends(out, "\t");
        } else if (*c != ' ') {
            pa_buf_appendc(out, *c);
        }
    }
}

static void expect_same_as_spaced(struct pa_jw *w, const char *compact)
{
    struct pa_buf sp;
    pa_buf_init(&sp);
    spaced(compact, &sp);
    struct trace a = {.extras = true}, b = {.extras = true};
    int ra = walk_trace_exact(w, compact, strlen(compact), &a);
    int rb = walk_trace_exact(w, sp.data, sp.len, &b);
    ck_assert_msg(ra == 0 && rb == 0, "walk of %s: %d / %d (%s)", compact, ra, rb, pa_jw_error(w, NULL));
    ck_assert_str_eq(a.b.data, b.b.data);
    pa_buf_free(&a.b);
    pa_buf_free(&b.b);
    pa_buf_free(&sp);
}

START_TEST(test_fast_paths_match_general)
{
    struct pa_jw *w = pa_jw_new();
    struct pa_buf doc, str;
    pa_buf_init(&doc);
    pa_buf_init(&str);
    static const char *const tails[] = {"", "}", "]}", "\"}", "1}"};
    for (size_t kl = 0; kl <= 36; kl++) {
        for (size_t vl = 0; vl <= 36; vl++) {
            /* a string value of vl bytes, plain, with an escape at position vl % 7, or a backslash run */
            for (int form = 0; form < 4; form++) {
                pa_buf_truncate(&str, 0);
                for (size_t i = 0; i < vl; i++)
                    pa_buf_appendc(&str, (char)('a' + i % 26));
                if (form == 1 && vl >= 2)
                    memcpy(str.data + vl % (vl - 1), "\\n", 2);
                if (form == 2 && vl >= 6)
                    memcpy(str.data + vl % (vl - 5), "\\u00e9", 6);
                if (form == 3 && vl >= 4)
                    memcpy(str.data + vl % (vl - 3), "\\\\\\\"", 4);
                pa_buf_truncate(&doc, 0);
                pa_buf_appends(&doc, "{\"");
                for (size_t i = 0; i < kl; i++)
                    pa_buf_appendc(&doc, (char)('k' + i % 10));
                pa_buf_printf(&doc, "\": \"%s\", \"n\": ", str.data);
                for (size_t i = 0; i < vl % 21 + 1; i++) /* 1..21 digits */
                    pa_buf_appendc(&doc, (char)('1' + i % 9));
                if (vl % 3 == 1)
                    pa_buf_appends(&doc, ".25e-7");
                pa_buf_printf(&doc, ", \"o\": {\"x\": [true, false, null, -0, \"%s\"], \"e\": {}, \"a\": []}}",
                              str.data);
                expect_same_as_spaced(w, doc.data);
                /* and cut short: both fail, with the same message (offsets differ with the spacing) */
                for (size_t t = 0; t < PA_ARRAY_LEN(tails); t++) {
                    size_t cut = doc.len - 1 - (kl + vl + t) % (doc.len - 1);
                    struct trace a = {0};
                    ck_assert_int_eq(walk_trace_exact(w, doc.data, cut, &a), -1);
                    pa_buf_free(&a.b);
                }
            }
        }
    }
    pa_buf_free(&doc);
    pa_buf_free(&str);
    pa_jw_free(w);
}
END_TEST

/* Errors where the fast paths end: the message and offset must be the general path's, whatever the distance from
 * the end of the (unpadded) buffer. Each case is also walked after 1..40 spaces, which shift every token against
 * the 16-byte bound. */
START_TEST(test_fast_path_errors)
{
    static const struct {
        const char *json;
        size_t off;
        const char *msg;
    } cases[] = {
        {"{\"a\": ", 6, "unexpected end of input (expected a value)"},
        {"{\"a\": \t", 7, "unexpected end of input (expected a value)"},
        {"{\"a\":  }", 7, "expected a value"},
        {"{\"a\": , \"b\": 1}", 6, "expected a value"},
        {"{\"a\": 1, ", 9, "unexpected end of input (expected a member name)"},
        {"{\"a\": 1, }", 9, "trailing comma in object"},
        {"{\"a\": 1, 2}", 9, "expected a member name (a string)"},
        {"{\"a\": \"x\", \"b\"", 14, "unexpected end of input (expected ':')"},
        {"{\"a\": \"x\", \"b\": ", 16, "unexpected end of input (expected a value)"},
        {"{\"", 1, "unterminated string"},
        {"{\"a", 1, "unterminated string"},
        {"{\"a\": \"", 6, "unterminated string"},
        {"{\"a\": \"0123456789abcdef", 6, "unterminated string"},
        {"{\"a\": \"0123456789abcdef\\", 6, "unterminated string"},
        {"{\"a\": \"0123456789abcde\x01\"}", 22, "control character in string (must be escaped)"},
        {"[12345678901234567890", 21, "unexpected end of input (unclosed array or object)"},
        {"[123456789012345678.", 1, "invalid number"},
        {"[1234567890123456789e", 1, "invalid number"},
        {"[12345678x]", 9, "expected ',' or ']' after an array element"},
        {"[0123456789]", 1, "invalid number (leading zero)"},
        {"{\"a\": 1,", 8, "unexpected end of input (expected a member name)"},
        {"{\"a\":", 5, "unexpected end of input (expected a value)"},
        {"{\"a\": \"x\" ,", 11, "unexpected end of input (expected a member name)"},
        {"{\"a\": {\"", 7, "unterminated string"},
        {"{\"a\": [\"", 7, "unterminated string"},
        {"{\"a\": \"\\u00e9\\ud800", 6, "unterminated string"},
        {"{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}' after an object member"},
        {"{\"a\": \"x\", \"b\" 1}", 15, "expected ':' after a member name"},
        {"{\"a\": \"x\",  \"b\": 1, }", 20, "trailing comma in object"},
        {"{\"a\":\t\"x\"}x", 10, "unexpected data after the top-level value"},
        {"[\"0123456789abcdef0123\" , ]", 26, "trailing comma in array"},
    };
    struct pa_jw *w = pa_jw_new();
    struct pa_buf doc;
    pa_buf_init(&doc);
    for (size_t i = 0; i < PA_ARRAY_LEN(cases); i++) {
        for (size_t pad = 0; pad <= 40; pad++) {
            pa_buf_truncate(&doc, 0);
            for (size_t k = 0; k < pad; k++)
                pa_buf_appendc(&doc, ' ');
            pa_buf_appends(&doc, cases[i].json);
            struct trace t = {0};
            ck_assert_int_eq(walk_trace_exact(w, doc.data, doc.len, &t), -1);
            pa_buf_free(&t.b);
            size_t off;
            const char *msg = pa_jw_error(w, &off);
            ck_assert_msg(strcmp(msg, cases[i].msg) == 0 && off == cases[i].off + pad, "case %zu pad %zu: %s at %zu", i,
                          pad, msg, off);
        }
    }
    pa_buf_free(&doc);
    pa_jw_free(w);
}
END_TEST

/* Digit runs of every length up to 24 followed by every byte: the number's extent and the verdict must be the
 * byte loop's. */
START_TEST(test_digit_runs)
{
    struct pa_jw *w = pa_jw_new();
    char doc[32];
    for (size_t n = 1; n <= 24; n++) {
        for (int c = 0; c < 256; c++) {
            doc[0] = '[';
            for (size_t i = 0; i < n; i++)
                doc[1 + i] = (char)('1' + (i * 7) % 9);
            doc[1 + n] = (char)c;
            doc[2 + n] = ']';
            struct trace t = {0};
            int rc = walk_trace_exact(w, doc, n + 3, &t);
            size_t off;
            const char *msg = pa_jw_error(w, &off);
            if (c >= '0' && c <= '9') {
                ck_assert_int_eq(rc, 0); /* one number of n + 1 digits */
                ck_assert_uint_eq(strlen(t.b.data), strlen("AB0$ N1$[0]=") + n + 1 + strlen(" AE0$"));
            } else if (c == ']' || c == ',' || c == '.' || c == 'e' || c == 'E') {
                ck_assert_int_eq(rc, -1); /* "[1]]", "[1,]", "[1.]", "[1e]" */
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                ck_assert_int_eq(rc, 0);
            } else {
                ck_assert_int_eq(rc, -1);
                ck_assert_str_eq(msg, "expected ',' or ']' after an array element");
                ck_assert_uint_eq(off, n + 1);
            }
            pa_buf_free(&t.b);
            /* the same number at the very end of the buffer (top level) */
            rc = walk_trace_exact(w, doc + 1, n, &t);
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(t.b.len, strlen("N0$=") + n);
            pa_buf_free(&t.b);
        }
    }
    pa_jw_free(w);
}
END_TEST

/* ---- invalid input ---- */

struct bad_case {
    const char *json;
    size_t len; /* 0: strlen */
    long off;   /* expected error offset, -1: not checked */
};

static const struct bad_case bad_cases[] = {
    {"", 0, 0},
    {"   ", 0, 3},
    {"\n\t\r ", 0, 4},
    {"{", 0, 1},
    {"[", 0, 1},
    {"[\n", 0, 2},
    {"{\"SECRET\":", 0, 10},
    {"[\"SECRET\"", 0, 9},
    {"[1,]", 0, 3},
    {"[\"SECRET\",]", 0, 10},
    {"{\"SECRET\":1,}", 0, 12},
    {"{\"SECRET\"}", 0, 9},
    {"{\"SECRET\" 1}", 0, 10},
    {"{SECRET:1}", 0, 1},
    {"{'SECRET':1}", 0, 1},
    {"[1 2]", 0, 3},
    {"[1,,2]", 0, 3},
    {"[,1]", 0, 1},
    {"{,}", 0, 1},
    {"{\"a\":}", 0, 5},
    {"{\"a\":1 \"b\":2}", 0, 7},
    {"{\"a\":1}}", 0, 7},
    {"[1]]", 0, 3},
    {"[}", 0, 1},
    {"{]", 0, 1},
    {"[\"a\"\"b\"]", 0, 4},
    {"01", 0, 0},
    {"[-01]", 0, 1},
    {"[00]", 0, 1},
    {"-", 0, 0},
    {"[-]", 0, 1},
    {"1.", 0, 0},
    {"[1.]", 0, 1},
    {".5", 0, 0},
    {"[-.5]", 0, 1},
    {"1e", 0, 0},
    {"1e+", 0, 0},
    {"[2.5E-]", 0, 1},
    {"1.e5", 0, 0},
    {"+1", 0, 0},
    {"0x10", 0, 1},
    {"1e5.3", 0, 3},
    {"NaN", 0, 0},
    {"Infinity", 0, 0},
    {"-Infinity", 0, 0},
    {"tru", 0, 0},
    {"nul", 0, 0},
    {"True", 0, 0},
    {"falsey", 0, 5},
    {"nulll", 0, 4},
    {"[truex]", 0, 5},
    {"\"SECRET", 0, 0},
    {"[\"SECRET\\\"]", 0, 1},
    {"\"SECRET\\", 0, 0},
    {"\"a\x01SECRET\"", 0, 2},
    {"\"SECRET\tb\"", 0, 7},
    {"\"SECRET\nb\"", 0, 7},
    {"{\"SEC\x1fRET\":1}", 0, 5},
    {"\"\\xSECRET\"", 0, 1},
    {"\"\\USECRET\"", 0, 1},
    {"\"\\'\"", 0, 1},
    {"\"\\u12\"", 0, 1},
    {"\"\\u12G4SECRET\"", 0, 1},
    {"\"\\u", 0, 1},
    {"\"\\ud83d\\u", 0, 7},
    {"\"SECRET\\ud83d\\uZZZZ\"", 0, 13},
    {"[1]x", 0, 3},
    {"{} {}", 0, 3},
    {"1 2", 0, 2},
    {"\"SECRET\" \"x\"", 0, 9},
    {"\xef\xbb\xbf{}", 0, 0}, /* a byte order mark is not JSON whitespace (PostgreSQL rejects it too) */
    {"\x00", 1, 0},
    {"[1]\x00", 4, 3},
    {"{\"SECRET\":1,\"b\":[1,2,{\"c\":[}]}", 0, 27},
    {"{\"a\" : 1 , }", 0, 11},
    {"[\"SECRET\" : 1]", 0, 10},
    {"{\"a\",1}", 0, 4},
    {"{1:2}", 0, 1},
    {"{null:2}", 0, 1},
    {"]", 0, 0},
    {"}", 0, 0},
    {":", 0, 0},
    {",", 0, 0},
};

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

START_TEST(test_invalid_inputs)
{
    struct pa_jw *w = pa_jw_new();
    ck_assert_uint_ge(PA_ARRAY_LEN(bad_cases), 25);
    for (size_t i = 0; i < PA_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->json);
        /* a private copy, so the message cannot point into it unnoticed and sanitizers see exact bounds */
        char *in = pa_xmalloc(len ? len : 1);
        memcpy(in, c->json, len);
        int rc = pa_jw_walk(w, in, len, null_cb, NULL);
        ck_assert_msg(rc == -1, "case %zu accepted", i);
        size_t off = 12345;
        const char *msg = pa_jw_error(w, &off);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(!(msg >= in && msg < in + len), "case %zu: message points into input", i);
        ck_assert_msg(printable_ascii(msg) && strlen(msg) > 5, "case %zu: odd message", i);
        ck_assert_msg(strstr(msg, "SECRET") == NULL, "case %zu: message contains input", i);
        ck_assert_msg(off <= len, "case %zu: offset %zu beyond input", i, off);
        if (c->off >= 0)
            ck_assert_msg(off == (size_t)c->off, "case %zu (%s): offset %zu, want %ld", i, msg, off, c->off);
        /* the same document with other private bytes gives the same message: it cannot depend on them */
        char *secret = memmem(in, len, "SECRET", 6);
        if (secret) {
            memcpy(secret, "qz_9&Y", 6);
            ck_assert_int_eq(pa_jw_walk(w, in, len, null_cb, NULL), -1);
            size_t off2;
            ck_assert_ptr_eq(pa_jw_error(w, &off2), msg);
            ck_assert_uint_eq(off2, off);
        }
        free(in);
    }
    pa_jw_free(w);
}
END_TEST

START_TEST(test_error_messages)
{
    struct pa_jw *w = pa_jw_new();
    size_t off;
    ck_assert_str_eq(pa_jw_error(w, &off), "no error");
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(pa_jw_walk(w, "[1,]", 4, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, &off), "trailing comma in array");
    ck_assert_uint_eq(off, 3);
    ck_assert_int_eq(pa_jw_walk(w, "\"abc", 4, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "unterminated string");
    ck_assert_int_eq(pa_jw_walk(w, "[01]", 4, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "invalid number (leading zero)");
    ck_assert_int_eq(pa_jw_walk(w, "{\"a\":1}x", 8, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, &off), "unexpected data after the top-level value");
    ck_assert_uint_eq(off, 7);
    ck_assert_int_eq(pa_jw_walk(w, "", 0, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "empty input");
    ck_assert_int_eq(pa_jw_walk(w, NULL, 0, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "empty input");
    /* a good walk clears the previous error */
    ck_assert_int_eq(pa_jw_walk(w, "1", 1, null_cb, NULL), 0);
    ck_assert_str_eq(pa_jw_error(w, &off), "no error");
    pa_jw_free(w);
}
END_TEST

START_TEST(test_events_until_error)
{
    struct pa_jw *w = pa_jw_new();
    struct trace t = {0};
    const char *doc = "[1,{\"a\":x}]";
    ck_assert_int_eq(walk_trace_w(w, doc, strlen(doc), &t), -1);
    ck_assert_str_eq(t.b.data, "AB0$ N1$[0]=1 OB1$[1] K2$[1].a=a");
    pa_buf_free(&t.b);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_max_depth)
{
    struct pa_jw *w = pa_jw_new();
    pa_jw_set_max_depth(w, 3);
    ck_assert_int_eq(pa_jw_walk(w, "[[[1]]]", 7, null_cb, NULL), 0);
    ck_assert_int_eq(pa_jw_walk(w, "[{\"a\":[1]}]", 11, null_cb, NULL), 0);
    ck_assert_int_eq(pa_jw_walk(w, "[[[[1]]]]", 9, null_cb, NULL), -1);
    size_t off;
    ck_assert_str_eq(pa_jw_error(w, &off), "nesting too deep");
    ck_assert_uint_eq(off, 3);
    ck_assert_int_eq(pa_jw_walk(w, "[{\"a\":{}}]", 10, null_cb, NULL), 0);
    ck_assert_int_eq(pa_jw_walk(w, "[{\"a\":{\"b\":[]}}]", 16, null_cb, NULL), -1);
    ck_assert_uint_eq((pa_jw_error(w, &off), off), 11);
    ck_assert_int_eq(pa_jw_walk(w, "5", 1, null_cb, NULL), 0);
    pa_jw_set_max_depth(w, 0);
    ck_assert_int_eq(pa_jw_walk(w, "[]", 2, null_cb, NULL), -1);
    ck_assert_int_eq(pa_jw_walk(w, "\"only scalars\"", 14, null_cb, NULL), 0);
    pa_jw_free(w);
}
END_TEST

/* ---- size and depth ---- */

struct counts {
    size_t events[PA_JW_NULL + 1];
    size_t total;
    size_t max_depth;
    size_t bytes; /* sum of str lengths */
    size_t path_at_depth;
    struct pa_buf path;
};

static int count_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct counts *c = ctx;
    c->events[ev->kind]++;
    c->total++;
    c->bytes += ev->len;
    if (ev->depth > c->max_depth)
        c->max_depth = ev->depth;
    /* render one deep path: rendering is O(depth), so only where asked */
    if (c->path_at_depth && ev->depth == c->path_at_depth && c->path.len == 0)
        pa_jw_path(w, &c->path);
    return 0;
}

START_TEST(test_deep_arrays)
{
    const size_t n = 100000;
    char *doc = pa_xmalloc(2 * n);
    memset(doc, '[', n);
    memset(doc + n, ']', n);
    struct pa_jw *w = pa_jw_new();
    struct counts c = {.path_at_depth = n - 1};
    pa_buf_init(&c.path);
    ck_assert_int_eq(pa_jw_walk(w, doc, 2 * n, count_cb, &c), 0);
    ck_assert_uint_eq(c.total, 2 * n);
    ck_assert_uint_eq(c.events[PA_JW_ARRAY_BEGIN], n);
    ck_assert_uint_eq(c.events[PA_JW_ARRAY_END], n);
    ck_assert_uint_eq(c.max_depth, n - 1);
    /* the innermost array's path: "$" and n - 1 times "[0]" */
    ck_assert_uint_eq(c.path.len, 1 + 3 * (n - 1));
    ck_assert_int_eq(memcmp(c.path.data + c.path.len - 6, "[0][0]", 6), 0);
    /* unclosed: a clean error, no crash */
    ck_assert_int_eq(pa_jw_walk(w, doc, n, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "unexpected end of input (expected a value)");
    ck_assert_int_eq(pa_jw_walk(w, doc, n + n / 2, null_cb, NULL), -1);
    ck_assert_str_eq(pa_jw_error(w, NULL), "unexpected end of input (unclosed array or object)");
    pa_buf_free(&c.path);
    pa_jw_free(w);
    free(doc);
}
END_TEST

START_TEST(test_deep_objects)
{
    const size_t n = 100000;
    struct pa_buf doc;
    pa_buf_init(&doc);
    for (size_t i = 0; i < n; i++)
        pa_buf_append(&doc, "{\"a\":", 5);
    pa_buf_append(&doc, "\"deep\"", 6);
    for (size_t i = 0; i < n; i++)
        pa_buf_appendc(&doc, '}');
    struct pa_jw *w = pa_jw_new();
    struct counts c = {.path_at_depth = n};
    pa_buf_init(&c.path);
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, count_cb, &c), 0);
    ck_assert_uint_eq(c.events[PA_JW_OBJECT_BEGIN], n);
    ck_assert_uint_eq(c.events[PA_JW_OBJECT_END], n);
    ck_assert_uint_eq(c.events[PA_JW_KEY], n);
    ck_assert_uint_eq(c.events[PA_JW_STRING], 1);
    ck_assert_uint_eq(c.total, 3 * n + 1);
    ck_assert_uint_eq(c.max_depth, n);
    /* first event at depth n is the innermost KEY: "$" and n times ".a" */
    ck_assert_uint_eq(c.path.len, 1 + 2 * n);
    pa_buf_free(&c.path);

    /* the same with escaped names, which live in the walker's arena instead of the input */
    pa_buf_truncate(&doc, 0);
    for (size_t i = 0; i < n; i++)
        pa_buf_append(&doc, "[{\"\\u0061\":", 11);
    pa_buf_appends(&doc, "1");
    for (size_t i = 0; i < n; i++)
        pa_buf_append(&doc, "}]", 2);
    struct counts d = {.path_at_depth = 2 * n};
    pa_buf_init(&d.path);
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, count_cb, &d), 0);
    ck_assert_uint_eq(d.total, 5 * n + 1);
    ck_assert_uint_eq(d.max_depth, 2 * n);
    ck_assert_uint_eq(d.path.len, 1 + 5 * n); /* "[0].a" per level */
    pa_buf_free(&d.path);
    pa_buf_free(&doc);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_default_depth_limit)
{
    /* the default cap is 1,000,000 containers: exactly that many walks, one more is an error */
    const size_t n = 1000000;
    char *doc = pa_xmalloc(2 * n + 2);
    memset(doc, '[', n + 1);
    memset(doc + n + 1, ']', n + 1);
    struct pa_jw *w = pa_jw_new();
    ck_assert_int_eq(pa_jw_walk(w, doc + 1, 2 * n, null_cb, NULL), 0);
    ck_assert_int_eq(pa_jw_walk(w, doc, 2 * n + 2, null_cb, NULL), -1);
    size_t off;
    ck_assert_str_eq(pa_jw_error(w, &off), "nesting too deep");
    ck_assert_uint_eq(off, n);
    pa_jw_free(w);
    free(doc);
}
END_TEST

START_TEST(test_ten_megabytes)
{
    static const char rec[] = "{\"id\":123,\"name\":\"Jane Doe\",\"email\":\"jane@example.com\",\"tags\":[\"a\",\"b\"],"
                              "\"addr\":{\"street\":\"1 Main St\",\"zip\":\"12345\"},\"ok\":true,\"none\":null,"
                              "\"note\":\"line\\nbreak \\u00e9 \\ud83d\\ude00\"}";
    /* per record: OB OE, 8 + 2 keys, 3 top strings + 2 tag strings + 2 addr strings, 1 number, AB AE, OB OE, T, Z */
    const size_t per_rec = 2 + 10 + 7 + 1 + 2 + 2 + 1 + 1;
    struct pa_buf doc;
    pa_buf_init(&doc);
    pa_buf_appendc(&doc, '[');
    size_t recs = 0;
    while (doc.len < 10 * 1024 * 1024) {
        if (recs++)
            pa_buf_appendc(&doc, ',');
        pa_buf_append(&doc, rec, sizeof rec - 1);
    }
    pa_buf_appendc(&doc, ']');
    struct pa_jw *w = pa_jw_new();
    struct counts c = {0};
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, count_cb, &c), 0);
    ck_assert_uint_eq(c.total, 2 + recs * per_rec);
    ck_assert_uint_eq(c.events[PA_JW_KEY], 10 * recs);
    ck_assert_uint_eq(c.max_depth, 3);
    pa_buf_free(&doc);

    /* one 10 MB string without escapes (zero copy) and one with an escape every 64 bytes */
    const size_t big = 10 * 1024 * 1024;
    char *s = pa_xmalloc(big + 2);
    s[0] = '"';
    memset(s + 1, 'x', big);
    s[big + 1] = '"';
    struct ptr_check pc = {s, s + big + 2, 0, 0};
    ck_assert_int_eq(pa_jw_walk(w, s, big + 2, ptr_check_cb, &pc), 0);
    ck_assert_int_eq(pc.inside, 1);
    struct counts d = {0};
    ck_assert_int_eq(pa_jw_walk(w, s, big + 2, count_cb, &d), 0);
    ck_assert_uint_eq(d.bytes, big);
    for (size_t i = 1; i + 1 < big; i += 64) {
        s[i] = '\\';
        s[i + 1] = 'n';
    }
    struct pa_buf out;
    pa_buf_init(&out);
    ck_assert_int_eq(pa_jw_walk(w, s, big + 2, capture_string_cb, &out), 0);
    ck_assert_uint_eq(out.len, big - big / 64);
    ck_assert(out.data[0] == '\n' && out.data[1] == 'x' && out.data[63] == '\n');
    pa_buf_free(&out);
    free(s);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_64k_keys)
{
    const size_t n = 65536;
    struct pa_buf doc, want;
    pa_buf_init(&doc);
    pa_buf_init(&want);
    /* {"kkk...":{"<escaped 64K>":1}} */
    pa_buf_appends(&doc, "{\"");
    pa_buf_appends(&want, "$.");
    for (size_t i = 0; i < n; i++) {
        pa_buf_appendc(&doc, 'k');
        pa_buf_appendc(&want, 'k');
    }
    pa_buf_appends(&doc, "\":{\"");
    pa_buf_appends(&want, "[\"");
    for (size_t i = 0; i < n; i++) {
        if (i % 100 == 0) {
            pa_buf_appends(&doc, "\\\"");
            pa_buf_appends(&want, "\\\"");
        } else {
            pa_buf_appendc(&doc, 'q');
            pa_buf_appendc(&want, 'q');
        }
    }
    pa_buf_appends(&doc, "\":1}}");
    pa_buf_appends(&want, "\"]");
    struct pa_jw *w = pa_jw_new();
    struct path_at p = {.kind = PA_JW_NUMBER, .nth = 0};
    pa_buf_init(&p.path);
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, path_at_cb, &p), 0);
    ck_assert_uint_eq(p.path.len, want.len);
    ck_assert_str_eq(p.path.data, want.data);
    struct counts c = {0};
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, count_cb, &c), 0);
    ck_assert_uint_eq(c.bytes, 2 * n + 1);
    pa_buf_free(&p.path);
    pa_buf_free(&doc);
    pa_buf_free(&want);
    pa_jw_free(w);
}
END_TEST

struct many_keys {
    size_t keys;
    bool ok;
    struct pa_buf last_path;
};

static int many_keys_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct many_keys *m = ctx;
    if (ev->kind == PA_JW_KEY) {
        size_t klen;
        const char *k = pa_jw_current_key(w, &klen);
        if (!k || klen != ev->len || memcmp(k, ev->str, klen) != 0)
            m->ok = false;
        m->keys++;
    } else if (ev->kind == PA_JW_NUMBER) {
        pa_buf_truncate(&m->last_path, 0);
        pa_jw_path(w, &m->last_path);
    }
    return 0;
}

START_TEST(test_100k_keys)
{
    struct pa_buf doc;
    pa_buf_init(&doc);
    pa_buf_appendc(&doc, '{');
    for (int i = 0; i < 100000; i++)
        pa_buf_printf(&doc, "%s\"k%d\":%d", i ? "," : "", i, i);
    pa_buf_appendc(&doc, '}');
    struct pa_jw *w = pa_jw_new();
    struct many_keys m = {0, true, {0}};
    pa_buf_init(&m.last_path);
    pa_buf_appends(&m.last_path, "");
    ck_assert_int_eq(pa_jw_walk(w, doc.data, doc.len, many_keys_cb, &m), 0);
    ck_assert_uint_eq(m.keys, 100000);
    ck_assert(m.ok);
    ck_assert_str_eq(m.last_path.data, "$.k99999");
    pa_buf_free(&m.last_path);
    pa_buf_free(&doc);
    pa_jw_free(w);
}
END_TEST

/* ---- consumer state: redaction, slots, stop ---- */

START_TEST(test_redaction)
{
    expect_trace_opts("{\"email\":{\"verified\":true},\"x\":1}",
                      "OB0$ K1$.<email>=email OB1$.<email> K2$.<email>.verified=verified T2$.<email>.verified "
                      "OE1$.<email> K1$.x=x N1$.x=1 OE0$",
                      true, false);
    expect_trace_opts("{\"email\":[\"a\",{\"email\":\"b\"}]}",
                      "OB0$ K1$.<email>=email AB1$.<email> S2$.<email>[0]=a OB2$.<email>[1] "
                      "K3$.<email>[1].<email>=email S3$.<email>[1].<email>=b OE2$.<email>[1] AE1$.<email> OE0$",
                      true, false);
    /* the label belongs to one member: a sibling with the same parent is not redacted */
    expect_trace_opts("[{\"email\":1,\"other\":2},{\"other\":3}]",
                      "AB0$ OB1$[0] K2$[0].<email>=email N2$[0].<email>=1 K2$[0].other=other N2$[0].other=2 "
                      "OE1$[0] OB1$[1] K2$[1].other=other N2$[1].other=3 OE1$[1] AE0$",
                      true, false);
}
END_TEST

static int redact_late_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct pa_buf *b = ctx;
    /* redact while the value is delivered (a string) or while the container opens, not at KEY */
    if (ev->kind == PA_JW_STRING || ev->kind == PA_JW_ARRAY_BEGIN)
        pa_jw_redact_key(w, "pii");
    if (ev->kind == PA_JW_NUMBER || ev->kind == PA_JW_ARRAY_END || ev->kind == PA_JW_STRING) {
        pa_jw_path(w, b);
        pa_buf_appendc(b, ' ');
    }
    return 0;
}

START_TEST(test_redaction_during_value)
{
    struct pa_jw *w = pa_jw_new();
    struct pa_buf b;
    pa_buf_init(&b);
    pa_buf_appends(&b, "");
    const char *doc = "{\"s\":\"v\",\"arr\":[1],\"n\":2}";
    ck_assert_int_eq(pa_jw_walk(w, doc, strlen(doc), redact_late_cb, &b), 0);
    ck_assert_str_eq(b.data, "$.<pii> $.<pii>[0] $.<pii> $.n ");
    /* at top level and directly in an array there is no member: a no-op, not a crash */
    pa_buf_truncate(&b, 0);
    ck_assert_int_eq(pa_jw_walk(w, "[\"x\",[3]]", 9, redact_late_cb, &b), 0);
    ck_assert_str_eq(b.data, "$[0] $[1][0] $[1] $ ");
    pa_buf_free(&b);
    pa_jw_free(w);
}
END_TEST

struct slot_script {
    int step;
};

static int slot_cb(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct slot_script *s = ctx;
    uint64_t *u0 = pa_jw_user(w, 0), *u1 = pa_jw_user(w, 1);
    /* {"a":{"x":1,"y":[true]},"b":{},"c":[{}]} */
    switch (s->step++) {
    case 0: /* OB root */
        ck_assert_int_eq(ev->kind, PA_JW_OBJECT_BEGIN);
        ck_assert_uint_eq(*u0, 0);
        ck_assert_ptr_null(u1);
        *u0 = 100;
        break;
    case 1: /* K a */ ck_assert_uint_eq(*u0, 100); break;
    case 2: /* OB a */
        ck_assert_uint_eq(*u0, 0);
        ck_assert_uint_eq(*u1, 100);
        *u0 = 1;
        break;
    case 3: /* K x */
    case 4: /* N 1 */
    case 5: /* K y */ ck_assert_uint_eq(*u0, 1); break;
    case 6: /* AB y */
        ck_assert_int_eq(ev->kind, PA_JW_ARRAY_BEGIN);
        ck_assert_uint_eq(*u0, 0);
        ck_assert_uint_eq(*u1, 1);
        ck_assert_uint_eq(*pa_jw_user(w, 2), 100);
        ck_assert_ptr_null(pa_jw_user(w, 3));
        ck_assert_ptr_null(pa_jw_user(w, SIZE_MAX));
        *u0 = 7;
        break;
    case 7: /* T */
    case 8: /* AE y: still the array's slot */ ck_assert_uint_eq(*u0, 7); break;
    case 9: /* OE a */
        ck_assert_int_eq(ev->kind, PA_JW_OBJECT_END);
        ck_assert_uint_eq(*u0, 1);
        ck_assert_uint_eq(*u1, 100);
        break;
    case 10: /* K b */ ck_assert_uint_eq(*u0, 100); break;
    case 11: /* OB b: the sibling's slot (1) must not leak in */
        ck_assert_uint_eq(*u0, 0);
        *u0 = 5;
        break;
    case 12: /* OE b */ ck_assert_uint_eq(*u0, 5); break;
    case 13: /* K c */ ck_assert_uint_eq(*u0, 100); break;
    case 14: /* AB c */ ck_assert_uint_eq(*u0, 0); break;
    case 15: /* OB c[0]: same depth as a's array held 7 */
        ck_assert_uint_eq(*u0, 0);
        *u0 = 9;
        break;
    case 16: /* OE c[0] */ ck_assert_uint_eq(*u0, 9); break;
    case 17: /* AE c */ ck_assert_uint_eq(*u0, 0); break;
    case 18: /* OE root */
        ck_assert_uint_eq(*u0, 100);
        ck_assert_ptr_null(u1);
        break;
    default: ck_abort_msg("unexpected event");
    }
    return 0;
}

START_TEST(test_user_slots)
{
    struct pa_jw *w = pa_jw_new();
    const char *doc = "{\"a\":{\"x\":1,\"y\":[true]},\"b\":{},\"c\":[{}]}";
    struct slot_script s = {0};
    ck_assert_int_eq(pa_jw_walk(w, doc, strlen(doc), slot_cb, &s), 0);
    ck_assert_int_eq(s.step, 19);
    /* outside a walk there is no container */
    ck_assert_ptr_null(pa_jw_user(w, 0));
    ck_assert(!pa_jw_in_array(w));
    ck_assert_ptr_null(pa_jw_current_key(w, NULL));
    struct pa_buf b;
    pa_buf_init(&b);
    pa_jw_path(w, &b);
    ck_assert_str_eq(b.data, "$");
    pa_buf_free(&b);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_scalar_has_no_slot)
{
    struct pa_jw *w = pa_jw_new();
    struct trace t = {.extras = true};
    ck_assert_int_eq(walk_trace_w(w, "7", 1, &t), 0); /* trace_cb touches pa_jw_user only when non-NULL */
    ck_assert_str_eq(t.b.data, "N0$=7{k:-}");
    pa_buf_free(&t.b);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_callback_stop)
{
    struct pa_jw *w = pa_jw_new();
    const char *doc = "{\"a\":[1,2,3],\"b\":\"x\"}";
    for (int stop = 1; stop <= 10; stop++) {
        struct trace t = {.stop_after = stop};
        ck_assert_int_eq(walk_trace_w(w, doc, strlen(doc), &t), 1);
        ck_assert_int_eq(t.n, stop);
        pa_buf_free(&t.b);
        ck_assert_ptr_null(pa_jw_user(w, 0));
    }
    /* stopping early wins over an error later in the input */
    struct trace t = {.stop_after = 2};
    ck_assert_int_eq(walk_trace_w(w, "[1,2,", 5, &t), 1);
    pa_buf_free(&t.b);
    /* stopping deep inside leaves nothing behind for the next document */
    char deep[2001];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    t = (struct trace){.stop_after = 700};
    ck_assert_int_eq(walk_trace_w(w, deep, 2000, &t), 1);
    pa_buf_free(&t.b);
    expect_trace("[1]", "AB0$ N1$[0]=1 AE0$");
    t = (struct trace){0};
    ck_assert_int_eq(walk_trace_w(w, "{\"z\":[1]}", 9, &t), 0);
    ck_assert_str_eq(t.b.data, "OB0$ K1$.z=z AB1$.z N2$.z[0]=1 AE1$.z OE0$");
    pa_buf_free(&t.b);
    pa_jw_free(w);
}
END_TEST

START_TEST(test_reuse)
{
    static const char *const docs[] = {
        "{\"a\":{\"b\":[1,\"x\",true,false,null,{}]},\"c\":[]}",
        "[[[[[[[[[[\"deep\"]]]]]]]]]]",
        "{\"email\":{\"\\u0076erified\":true},\"n\\u0061me\":\"J\\u00f6rg\"}",
        "{\"k\\\"1\":[{\"k\\n2\":[0,1]}]}",
        "[1,{\"a\":x}]",                                  /* invalid after a few events */
        "{\"\\u0041\\u0042\":{\"\\u0043\":{\"\\u0044\":", /* invalid: truncated with decoded names open */
        "\"top\"",
        "{\"email\":1,\"other\":{\"email\":[\"\\ud83d\"]}}",
        "[{\"a\":1},{\"b\":2},{\"c\":{\"d\":[{}]}}]",
        "{\"x\":\"\\ud83d\\ude00\",\"y\":[\"\\u0000\"]}",
        "",
        "{\"a\":1,}",
    };
    const size_t nd = PA_ARRAY_LEN(docs);
    char *want[PA_ARRAY_LEN(docs)];
    int want_rc[PA_ARRAY_LEN(docs)];
    for (size_t i = 0; i < nd; i++) {
        struct pa_jw *fresh = pa_jw_new();
        struct trace t = {.redact = true, .extras = true};
        want_rc[i] = walk_trace_w(fresh, docs[i], strlen(docs[i]), &t);
        want[i] = pa_xstrdup(t.b.data);
        pa_buf_free(&t.b);
        pa_jw_free(fresh);
    }
    ck_assert_int_eq(want_rc[0], 0);
    ck_assert_int_eq(want_rc[4], -1);
    ck_assert_int_eq(want_rc[5], -1);
    struct pa_jw *w = pa_jw_new();
    uint64_t rng = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        size_t i = pa_test_rng(&rng) % nd;
        struct trace t = {.redact = true, .extras = true};
        int rc = walk_trace_w(w, docs[i], strlen(docs[i]), &t);
        ck_assert_int_eq(rc, want_rc[i]);
        ck_assert_str_eq(t.b.data, want[i]);
        pa_buf_free(&t.b);
    }
    for (size_t i = 0; i < nd; i++)
        free(want[i]);
    pa_jw_free(w);
}
END_TEST

/* Boundaries that could break the SIMD string scan and the escape decoder: every string length around the 16-byte
 * steps, ending exactly at the end of input, with an escape as the last thing before the quote, and cut short. */
START_TEST(test_regressions)
{
    struct pa_jw *w = pa_jw_new();
    /* strings ending exactly at 16-byte boundaries of the SIMD scan, and escapes straddling them */
    for (size_t n = 0; n < 40; n++) {
        char doc[64];
        doc[0] = '"';
        memset(doc + 1, 'a', n);
        doc[n + 1] = '"';
        ck_assert_int_eq(pa_jw_walk(w, doc, n + 2, null_cb, NULL), 0);
        ck_assert_int_eq(pa_jw_walk(w, doc, n + 1, null_cb, NULL), -1); /* unterminated */
        if (n >= 2) {
            doc[n - 1] = '\\';
            doc[n] = 'n';
            ck_assert_int_eq(pa_jw_walk(w, doc, n + 2, null_cb, NULL), 0);
            ck_assert_int_eq(pa_jw_walk(w, doc, n + 1, null_cb, NULL), -1);
            ck_assert_int_eq(pa_jw_walk(w, doc, n, null_cb, NULL), -1); /* ends in a backslash */
        }
    }
    pa_jw_free(w);
}
END_TEST

static Suite *jsonwalk_suite(void)
{
    Suite *s = suite_create("jsonwalk");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, test_nested_events);
    tcase_add_test(tc, test_semantics_per_event);
    tcase_add_test(tc, test_paths_per_event_kind);
    tcase_add_test(tc, test_path_names);
    tcase_add_test(tc, test_path_member);
    tcase_add_test(tc, test_top_level_scalars);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_offsets);
    suite_add_tcase(s, tc);

    tc = tcase_create("strings");
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_zero_copy);
    tcase_add_test(tc, test_invalid_utf8_passes_through);
    tcase_add_test(tc, test_escaped_keys);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_long_numbers);
    suite_add_tcase(s, tc);

    tc = tcase_create("fast_paths");
    tcase_set_timeout(tc, 300); /* thousands of documents; also run under valgrind */
    tcase_add_test(tc, test_fast_paths_match_general);
    tcase_add_test(tc, test_fast_path_errors);
    tcase_add_test(tc, test_digit_runs);
    suite_add_tcase(s, tc);

    tc = tcase_create("invalid");
    tcase_add_test(tc, test_invalid_inputs);
    tcase_add_test(tc, test_error_messages);
    tcase_add_test(tc, test_events_until_error);
    tcase_add_test(tc, test_max_depth);
    tcase_add_test(tc, test_regressions);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    /* generous: these walk tens of megabytes and must also pass under valgrind */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_deep_arrays);
    tcase_add_test(tc, test_deep_objects);
    tcase_add_test(tc, test_default_depth_limit);
    tcase_add_test(tc, test_ten_megabytes);
    tcase_add_test(tc, test_64k_keys);
    tcase_add_test(tc, test_100k_keys);
    suite_add_tcase(s, tc);

    tc = tcase_create("consumer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_redaction);
    tcase_add_test(tc, test_redaction_during_value);
    tcase_add_test(tc, test_user_slots);
    tcase_add_test(tc, test_scalar_has_no_slot);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_reuse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(jsonwalk_suite());
}
