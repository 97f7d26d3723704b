/* scan/copy_row: one CopyData message of COPY ... TO STDOUT (FORMAT binary) with two text fields (id, document),
 * or three (and the stored size of a document not fetched),
 * parsed in place (internal to src/scan/). Pure and static inline: it runs once per row on the readers' hot path,
 * and the unit tests include it as it is. Never copies a byte of the row. */
#ifndef PA_SCAN_COPY_ROW_H
#define PA_SCAN_COPY_ROW_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t pa_copy_rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

static inline uint16_t pa_copy_rd16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return ntohs(v);
}

/* Parse one CopyData message: optional file header, then a tuple of nf fields (2: id, document; 3: id, document,
 * and the stored size of a document too big to fetch, scan.max_document_bytes) or the trailer.
 * Returns 1 with a row, 0 for the trailer / header only, -1 on malformed data. A NULL field gives a NULL pointer
 * and a length of -1; with nf 2, *size is not touched. */
static inline int pa_copy_parse_fields(const char *buf, int len, int nf_want, const char **id, int *idlen,
                                       const char **doc, int *doclen, const char **size, int *sizelen)
{
    static const char signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
    const char *p = buf, *end = buf + len;
    if (len >= 19 && memcmp(p, signature, 11) == 0) {
        uint32_t ext = pa_copy_rd32(p + 15);
        p += 19;
        if ((size_t)(end - p) < ext)
            return -1;
        p += ext;
    }
    if (end - p == 0)
        return 0;
    if (end - p < 2)
        return -1;
    int16_t nf = (int16_t)pa_copy_rd16(p);
    p += 2;
    if (nf == -1)
        return 0;
    if (nf != nf_want)
        return -1;
    for (int f = 0; f < nf; f++) {
        if (end - p < 4)
            return -1;
        int32_t fl = (int32_t)pa_copy_rd32(p);
        p += 4;
        const char *fp = NULL;
        if (fl >= 0) {
            if (end - p < fl)
                return -1;
            fp = p;
            p += fl;
        }
        if (f == 0) {
            *id = fp;
            *idlen = fl;
        } else if (f == 1) {
            *doc = fp;
            *doclen = fl;
        } else {
            *size = fp;
            *sizelen = fl;
        }
    }
    return 1;
}

/* The two-field row (id, document). */
static inline int pa_copy_parse_row(const char *buf, int len, const char **id, int *idlen, const char **doc,
                                    int *doclen)
{
    return pa_copy_parse_fields(buf, len, 2, id, idlen, doc, doclen, NULL, NULL);
}

#endif
