/* wipefree: every block this process frees is zeroed first (explicit_bzero over malloc_usable_size), so no freed
 * heap memory can hold a scanned value. Our own buffers are wiped where they are released; this covers the copies
 * we cannot reach: libpq's connection input buffer (raw COPY rows; freed by PQfinish, or left behind when it grows),
 * OpenSSL's record buffers on a TLS connection, Hyperscan's scratch.
 * It interposes free() and realloc() for the whole process (the executable's definitions win over libc's for
 * every shared library) and forwards to glibc's __libc_free/__libc_malloc. Linked into the pii-auditd binary only,
 * and not in sanitizer builds (AddressSanitizer brings its own allocator). Never allocates, never logs. */
#include <malloc.h>
#include <stddef.h>
#include <string.h>

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);

void free(void *p)
{
    if (p)
        explicit_bzero(p, malloc_usable_size(p));
    __libc_free(p);
}

/* realloc moves a block by hand, so the old copy is wiped by free() above; shrinking wipes the cut-off tail. */
void *realloc(void *p, size_t n)
{
    if (!p)
        return __libc_malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    if (n <= old) {
        explicit_bzero((char *)p + n, old - n);
        return p;
    }
    void *q = __libc_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old);
    free(p);
    return q;
}
