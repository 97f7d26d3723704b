/* tabular: see tabular.h. Pure formatting; must never print, log or reach a database. */
#include "tabular.h"

#include <stdlib.h>
#include <string.h>

void pa_tab_init(struct pa_tab *t, const struct pa_tab_col *cols, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols;
}

void pa_tab_add_row(struct pa_tab *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = pa_xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = cells[c] ? pa_xstrdup(cells[c]) : NULL;
    t->nrows++;
}

void pa_tab_free(struct pa_tab *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static const char *cell(const struct pa_tab *t, size_t row, size_t col)
{
    return t->cells[row * t->ncols + col];
}

size_t pa_tab_text_cell(struct pa_buf *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t width = 0, n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int step = pa_utf8_step((const unsigned char *)s + i, n - i);
        if (c == '\\') {
            pa_buf_appends(out, "\\\\");
            width += 2;
            i++;
        } else if (step < 0 || c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            pa_buf_append(out, e, 4);
            width += 4;
            i++;
        } else {
            pa_buf_append(out, s + i, (size_t)step);
            width++;
            i += (size_t)step;
        }
    }
    return width;
}

void pa_tab_text(struct pa_buf *out, const struct pa_tab *t)
{
    if (!t->nrows)
        return;
    size_t *w = pa_xcalloc(t->ncols, sizeof *w);
    struct pa_buf tmp;
    pa_buf_init(&tmp);
    for (size_t c = 0; c < t->ncols; c++) {
        if (!t->cols[c].header)
            continue;
        w[c] = strlen(t->cols[c].header);
        for (size_t r = 0; r < t->nrows; r++) {
            pa_buf_truncate(&tmp, 0);
            size_t cw = cell(t, r, c) ? pa_tab_text_cell(&tmp, cell(t, r, c)) : 1;
            if (cw > w[c])
                w[c] = cw;
        }
    }
    size_t last = 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (t->cols[c].header)
            last = c;
    for (size_t r = 0; r <= t->nrows; r++) { /* row 0: the header */
        bool first = true;
        for (size_t c = 0; c < t->ncols; c++) {
            if (!t->cols[c].header)
                continue;
            if (!first)
                pa_buf_appends(out, "  ");
            first = false;
            const char *v = r == 0 ? t->cols[c].header : cell(t, r - 1, c);
            size_t cw;
            if (r == 0 || !v) {
                pa_buf_appends(out, v ? v : "-");
                cw = v ? strlen(v) : 1;
            } else {
                cw = pa_tab_text_cell(out, v);
            }
            if (c != last)
                for (; cw < w[c]; cw++)
                    pa_buf_appendc(out, ' ');
        }
        pa_buf_appendc(out, '\n');
    }
    pa_buf_free(&tmp);
    free(w);
}

/* A plain decimal number, as a spreadsheet reads one: -?digits(.digits)? */
static bool plain_number(const char *s)
{
    const char *p = s + (*s == '-');
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

void pa_tab_csv_field(struct pa_buf *out, const char *s)
{
    bool formula = s[0] && strchr("=+-@\t\r", s[0]) && !plain_number(s);
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        pa_buf_appendc(out, '"');
    if (formula)
        pa_buf_appendc(out, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            pa_buf_appendc(out, '"');
        pa_buf_appendc(out, *p);
    }
    if (quote)
        pa_buf_appendc(out, '"');
}

void pa_tab_csv(struct pa_buf *out, const struct pa_tab *t)
{
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            pa_buf_appendc(out, ',');
        pa_tab_csv_field(out, t->cols[c].name);
    }
    pa_buf_appends(out, "\r\n");
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                pa_buf_appendc(out, ',');
            if (cell(t, r, c))
                pa_tab_csv_field(out, cell(t, r, c));
        }
        pa_buf_appends(out, "\r\n");
    }
}

/* A JSON number as PostgreSQL prints integers and numerics: -?digits(.digits)?, no leading zeros but "0". */
static bool json_number(const char *s)
{
    const char *p = s + (*s == '-');
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return false;
    return plain_number(s);
}

void pa_tab_json_row(struct pa_buf *out, const struct pa_tab *t, size_t i)
{
    pa_buf_appendc(out, '{');
    for (size_t c = 0; c < t->ncols; c++) {
        const char *v = cell(t, i, c);
        if (c)
            pa_buf_appendc(out, ',');
        pa_buf_append_json_name(out, t->cols[c].name, strlen(t->cols[c].name));
        pa_buf_appendc(out, ':');
        if (!v)
            pa_buf_appends(out, "null");
        else if (t->cols[c].kind == PA_TAB_NUMBER && json_number(v))
            pa_buf_appends(out, v);
        else
            pa_buf_append_json_name(out, v, strlen(v));
    }
    pa_buf_appendc(out, '}');
}

void pa_tab_json(struct pa_buf *out, const struct pa_tab *t)
{
    pa_buf_appendc(out, '[');
    for (size_t r = 0; r < t->nrows; r++) {
        if (r)
            pa_buf_appendc(out, ',');
        pa_tab_json_row(out, t, r);
    }
    pa_buf_appendc(out, ']');
}
