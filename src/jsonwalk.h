/* jsonwalk: a streaming, non-recursive JSON walker that reports keys and scalar values with their JSONPath.
 *
 * - No DOM and no recursion: nesting lives in an explicit frame stack, so input depth cannot exhaust the C stack.
 * - No allocation per token: the walker owns a few buffers (frame stack, key arena, string scratch) that grow to
 *   the largest document seen and are reused; memory is bounded by the document's depth and key lengths.
 * - Strings are decoded (all escapes, \u0000 included; surrogate pairs joined; a lone surrogate becomes U+FFFD).
 *   A string without escapes is passed as a pointer into the input (zero copy).
 * - Must never include libpq, libmicrohttpd or libsystemd headers, and never print anything: the bytes it sees
 *   are scanned values.
 */
#ifndef PA_JSONWALK_H
#define PA_JSONWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum pa_jw_kind {
    PA_JW_OBJECT_BEGIN,
    PA_JW_OBJECT_END,
    PA_JW_ARRAY_BEGIN,
    PA_JW_ARRAY_END,
    PA_JW_KEY,    /* an object member's name; the member's value follows as the next value event */
    PA_JW_STRING, /* a string value (decoded) */
    PA_JW_NUMBER, /* a number value: str/len is the literal as written */
    PA_JW_TRUE,
    PA_JW_FALSE,
    PA_JW_NULL,
};

struct pa_jw_event {
    enum pa_jw_kind kind;
    const char *str; /* KEY, STRING: decoded bytes; NUMBER: literal. Valid only during the callback.
                        TRUE/FALSE/NULL: the literal; *_BEGIN and *_END: NULL, len 0. Not NUL-terminated. */
    size_t len;
    size_t depth;  /* number of open containers around this event's value (top-level value: 0).
                      For OBJECT_BEGIN/ARRAY_BEGIN/..._END the depth of the container itself. */
    size_t offset; /* byte offset of the token in the input */
};

struct pa_jw;

/* Event semantics, exactly (tests/unit/test_jsonwalk.c checks each of these):
 * - During *_BEGIN and *_END the container is open: it is the innermost container for pa_jw_user(w, 0) (zeroed
 *   at BEGIN, still holding what the consumer stored at END) and for pa_jw_in_array (true during ARRAY_BEGIN and
 *   ARRAY_END). ev.depth is the number of containers around it (a top-level container: 0).
 * - pa_jw_path, pa_jw_current_key and pa_jw_redact_key are about the event's value: for *_BEGIN and *_END that is the
 *   container as a value of its parent; for KEY the member's value (so ev.depth of a KEY is the object's + 1).
 *   {"a":[1]}: OBJECT_BEGIN 0 $ | KEY "a" 1 $.a | ARRAY_BEGIN 1 $.a | NUMBER 2 $.a[0] | ARRAY_END 1 $.a |
 *   OBJECT_END 0 $ (kind, depth, path; pa_jw_current_key is "a" from KEY through ARRAY_END).
 * - Outside the callback (once pa_jw_walk has returned) no container is open: path "$", no slots, no key.
 * - The walker is not re-entrant: a callback must not call pa_jw_walk on the walker that called it. */

/* Return 0 to go on, non-zero to stop the walk (pa_jw_walk then returns 1). */
typedef int (*pa_jw_cb)(void *ctx, struct pa_jw *w, const struct pa_jw_event *ev);

struct pa_jw *pa_jw_new(void);
/* Wipes (explicit_bzero) and frees all buffers. */
void pa_jw_free(struct pa_jw *w);
/* Zero the walker's buffers (decoded strings and member names of past documents); keeps the allocations. */
void pa_jw_wipe(struct pa_jw *w);
/* Cap on nesting depth (default 1,000,000; PostgreSQL's own parser stops far earlier). Exceeding it is an error. */
void pa_jw_set_max_depth(struct pa_jw *w, size_t max_depth);

/* Walk one complete JSON text (RFC 8259; leading/trailing whitespace allowed; one top-level value).
 * Returns 0 when the whole input was valid and walked, 1 when the callback stopped it, -1 on invalid JSON.
 * Events are delivered in document order up to the point of an error. */
int pa_jw_walk(struct pa_jw *w, const char *buf, size_t len, pa_jw_cb cb, void *ctx);

/* After -1: a static description of what was wrong ("unterminated string", "nesting too deep", ...) and the byte
 * offset (offset may be NULL). Never contains input bytes. When the last walk did not fail: "no error", 0. */
const char *pa_jw_error(const struct pa_jw *w, size_t *offset);

/* Append the JSONPath of the current event's value to out: "$", "$.a.b[2]", "$[\"first name\"]".
 * During KEY: the path of that key's value. During *_BEGIN and *_END: the container's path.
 * Member names that are identifiers ([A-Za-z_][A-Za-z0-9_]*) use dot notation; others use ["..."] with JSON
 * escapes. A member marked with pa_jw_redact_key() is written as <label> instead of its name.
 * The path is always valid UTF-8 (it is logged and stored): invalid bytes in a member name are written as \ufffd. */
void pa_jw_path(const struct pa_jw *w, struct pa_buf *out);

/* Append the path segment of a member named name[0..n) to out, as pa_jw_path writes member segments: ".name" for an
 * identifier, ["..."] with JSON escapes (invalid UTF-8 as \ufffd) otherwise. For a path made of a container's path
 * (pa_jw_path during its *_END) and one of its members, when the member's own event is past. */
void pa_jw_path_member(struct pa_buf *out, const char *name, size_t n);

/* During a KEY event: render this member's name as "<label>" in every path below it (label is a static string,
 * e.g. "email"), so a key that itself is PII never appears in a path. Also works during the member's value event
 * (it marks the member pa_jw_current_key names); a no-op where that is NULL. Holds until the object's next key. */
void pa_jw_redact_key(struct pa_jw *w, const char *label);

/* A per-container slot for the consumer of pa_jw_walk (detect's own instance of the walker keeps a struct of its
 * own in the same place: JW_USER_T in jsonwalk_impl.h). levels_up = 0 is the
 * innermost open container at the time of the call, 1 its parent, ... Returns NULL when there is no such
 * container. Slots start at 0 when a container opens. */
uint64_t *pa_jw_user(struct pa_jw *w, size_t levels_up);

/* The innermost open container: true if it is an array (false: object, or no container). */
bool pa_jw_in_array(const struct pa_jw *w);

/* During a KEY event or a value inside an object: the raw decoded name of the current member (not redacted).
 * NULL at top level or inside an array. For the detectors only; never to be logged. */
const char *pa_jw_current_key(const struct pa_jw *w, size_t *len);

#endif
