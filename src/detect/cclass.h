/* cclass: the byte classes that detect's rooms share (ASCII only: locale-independent and branch-cheap), as a table
 * built by the compiler, so no room depends on an initialization having run (the validators' unit tests call them
 * directly). Must never include anything but system headers; holds no state.
 */
#ifndef PA_DETECT_CCLASS_H
#define PA_DETECT_CCLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    CC_DIGIT = 1,
    CC_UPPER = 2,
    CC_LOWER = 4,
    CC_HEX = 8,
    CC_EMAIL_LOCAL = 16, /* [A-Za-z0-9._%+'-] */
    CC_DOMAIN = 32,      /* [A-Za-z0-9.-] */
    CC_SPACE = 64,
};

#define PA_CC_IN(c_, lo_, hi_) ((c_) >= (lo_) && (c_) <= (hi_))
#define PA_CC_(c)                                                                                                      \
    ((PA_CC_IN(c, '0', '9') ? CC_DIGIT | CC_HEX | CC_EMAIL_LOCAL | CC_DOMAIN : 0) |                                    \
     (PA_CC_IN(c, 'A', 'Z') ? CC_UPPER | CC_EMAIL_LOCAL | CC_DOMAIN : 0) |                                             \
     (PA_CC_IN(c, 'a', 'z') ? CC_LOWER | CC_EMAIL_LOCAL | CC_DOMAIN : 0) |                                             \
     (PA_CC_IN(c, 'a', 'f') || PA_CC_IN(c, 'A', 'F') ? CC_HEX : 0) |                                                   \
     ((c) == '.' || (c) == '_' || (c) == '%' || (c) == '+' || (c) == '\'' || (c) == '-' ? CC_EMAIL_LOCAL : 0) |        \
     ((c) == '.' || (c) == '-' ? CC_DOMAIN : 0) | ((c) == ' ' || PA_CC_IN(c, '\t', '\r') ? CC_SPACE : 0))
/* Any per-byte expression E(c) as a 256-entry initializer: PA_CC_TABLE(E). */
#define PA_CC_4(E, c) E(c), E((c) + 1), E((c) + 2), E((c) + 3)
#define PA_CC_16(E, c) PA_CC_4(E, c), PA_CC_4(E, (c) + 4), PA_CC_4(E, (c) + 8), PA_CC_4(E, (c) + 12)
#define PA_CC_64(E, c) PA_CC_16(E, c), PA_CC_16(E, (c) + 16), PA_CC_16(E, (c) + 32), PA_CC_16(E, (c) + 48)
#define PA_CC_TABLE(E) PA_CC_64(E, 0), PA_CC_64(E, 64), PA_CC_64(E, 128), PA_CC_64(E, 192)

static const uint8_t cclass[256] = {PA_CC_TABLE(PA_CC_)};

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}
static inline bool is_alpha(unsigned char c)
{
    return cclass[c] & (CC_UPPER | CC_LOWER);
}
static inline bool is_alnum(unsigned char c)
{
    return cclass[c] & (CC_UPPER | CC_LOWER | CC_DIGIT);
}
static inline bool is_hex(unsigned char c)
{
    return cclass[c] & CC_HEX;
}
static inline bool is_space(unsigned char c)
{
    return cclass[c] & CC_SPACE;
}
static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive equality with a lower-case ASCII word. */
static inline bool ci_eq(const unsigned char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != (unsigned char)w[i])
            return false;
    return true;
}

/* the string without the blanks around it */
static inline void trim_space(const unsigned char **s, size_t *n)
{
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
}

#endif
