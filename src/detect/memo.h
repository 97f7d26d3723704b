/* memo: the hashing of detect's tables (a slot scramble, a word-wise key hash and compare) and the bounded memo of
 * byte strings built on them. The detectors keep two memos per context: member names and their meaning (walk.c),
 * string values that Hyperscan found nothing in (values.c). Static inline: these run on on_event's path for every
 * member name. Never prints; holds only what its user inserts and wipes it whenever it is cleared or freed.
 */
#ifndef PA_DETECT_MEMO_H
#define PA_DETECT_MEMO_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A memo of byte strings, per context: open addressing over 64-bit hashes (0 = empty slot), the bytes kept in an
 * arena for the equality check, so a hash collision can never change a result. When it is full it is cleared, so
 * its memory is bounded whatever the input. It holds only strings that were not found to be PII (member names, and
 * values that went through Hyperscan without a single finding); the arena is wiped when cleared or freed. */
struct memo_slot {
    uint64_t h;
    uint32_t off;    /* in the arena */
    uint32_t lentag; /* length | tag << 16 (the tag is part of the identity: value scans with different key flags) */
};

struct memo {
    struct memo_slot *slot;
    size_t mask, n, max_n;
    char *arena;
    size_t alen, acap;
};

/* A 64-bit hash scrambled into a slot of a table of mask + 1 entries (a power of two): the dictionary's and the
 * per-document dedupe's tables. */
static inline size_t hash_slot(uint64_t h, size_t mask)
{
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return (size_t)h & mask;
}

/* Raw key hash for the key cache: 8 bytes at a time (keys are short), the tail read as one overlapping word so no
 * byte-wise copy stalls the load. The length is mixed in; equality is still checked with memcmp. Out of line: only
 * names that were not guessed need it, and inlined it would take registers from on_event's common path. */
static __attribute__((noinline, unused)) uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0x100000001b3ULL);
    uint64_t w;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, s + i, 8);
            h = (h ^ w) * 0xff51afd7ed558ccdULL;
            h ^= h >> 32;
        }
        memcpy(&w, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = ((uint64_t)a << 32) | b;
    } else if (n > 0) {
        w = ((uint64_t)(unsigned char)s[0] << 16) | ((uint64_t)(unsigned char)s[n / 2] << 8) | (unsigned char)s[n - 1];
    } else {
        w = 0;
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

/* The hash of a memo entry (bytes and length | tag): never 0, which marks an empty slot. */
static inline uint64_t memo_hash(const char *s, size_t n, uint32_t lentag)
{
    uint64_t h = key_hash(s, n) ^ lentag;
    return h ? h : 1;
}

static inline bool key_eq(const char *a, const char *b, size_t n)
{
    /* two overlapping words (or half-words) and no call for the common lengths: keys are mostly 2..24 bytes */
    if (n >= 8) {
        if (n > 24)
            return memcmp(a, b, n) == 0;
        uint64_t x0, y0, x1, y1, x2 = 0, y2 = 0;
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, a + n - 8, 8);
        memcpy(&y1, b + n - 8, 8);
        if (n > 16) {
            memcpy(&x2, a + 8, 8);
            memcpy(&y2, b + 8, 8);
        }
        return ((x0 ^ y0) | (x1 ^ y1) | (x2 ^ y2)) == 0;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static inline void memo_init(struct memo *m, size_t slots, size_t arena)
{
    m->slot = pa_xcalloc(slots, sizeof *m->slot);
    m->mask = slots - 1;
    m->n = 0;
    m->max_n = slots / 2;
    m->arena = pa_xmalloc(arena);
    m->alen = 0;
    m->acap = arena;
}

static inline void memo_clear(struct memo *m)
{
    memset(m->slot, 0, (m->mask + 1) * sizeof *m->slot);
    explicit_bzero(m->arena, m->alen);
    m->n = 0;
    m->alen = 0;
}

static inline void memo_free(struct memo *m)
{
    if (!m->slot)
        return;
    memo_clear(m);
    free(m->slot);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

/* The slot holding (h, s, lentag) — *found = true — or the empty slot where it would go. */
static inline size_t memo_find(const struct memo *m, uint64_t h, const char *s, uint32_t lentag, bool *found)
{
    size_t i = (size_t)h & m->mask;
    for (;; i = (i + 1) & m->mask) {
        const struct memo_slot *e = &m->slot[i];
        if (!e->h)
            break;
        if (e->h == h && e->lentag == lentag && key_eq(m->arena + e->off, s, lentag & 0xffff)) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return i;
}

/* Insert at i (from memo_find, nothing inserted since); returns the slot used (another one if the memo was full). */
static inline size_t memo_insert(struct memo *m, size_t i, uint64_t h, const char *s, uint32_t lentag)
{
    size_t n = lentag & 0xffff;
    if (m->n + 1 > m->max_n || m->acap - m->alen < n) {
        memo_clear(m);
        i = (size_t)h & m->mask;
    }
    memcpy(m->arena + m->alen, s, n);
    m->slot[i] = (struct memo_slot){h, (uint32_t)m->alen, lentag};
    m->alen += n;
    m->n++;
    return i;
}

#endif
