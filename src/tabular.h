/* tabular: the output formats of the findings CLI (pii-auditd findings list/show, allow list) for rows of named
 * fields: an aligned text table for people, a JSON array of objects for programs, and CSV (RFC 4180, header, CRLF)
 * for spreadsheets. Pure: no libpq, no I/O; it writes into a pa_buf.
 *
 * Every cell is text that people typed or that names things in their database (table names, paths, reasons): the
 * text table escapes control bytes and invalid UTF-8 (a cell cannot move the cursor or recolour a terminal), JSON is
 * always valid UTF-8, and a CSV cell that a spreadsheet would run as a formula is written with a leading '. It never
 * sees a scanned value: the store has none. */
#ifndef PA_TABULAR_H
#define PA_TABULAR_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum pa_tab_kind {
    PA_TAB_STRING, /* a JSON string */
    PA_TAB_NUMBER, /* a JSON number (ids, counts); a cell that is not one is written as a string */
};

struct pa_tab_col {
    const char *name;   /* the JSON member and the CSV header: stable, documented in docs/cli.md */
    const char *header; /* the text table's header, or NULL when the text table leaves the field out */
    enum pa_tab_kind kind;
};

/* Rows of cells; a NULL cell is a missing value (JSON null, an empty CSV field, "-" in the text table). */
struct pa_tab {
    const struct pa_tab_col *cols;
    size_t ncols;
    char **cells; /* nrows * ncols, owned */
    size_t nrows, cap;
};

void pa_tab_init(struct pa_tab *t, const struct pa_tab_col *cols, size_t ncols);
/* Append a row: ncols cells, each copied (NULL stays NULL). */
void pa_tab_add_row(struct pa_tab *t, const char *const *cells);
void pa_tab_free(struct pa_tab *t);

/* The aligned text table: the columns with a header, separated by two spaces, the last one not padded; nothing
 * when there is no row. */
void pa_tab_text(struct pa_buf *out, const struct pa_tab *t);
/* Header line, then one line per row, each ending in CRLF. */
void pa_tab_csv(struct pa_buf *out, const struct pa_tab *t);
/* [{"name": value, ...}, ...] */
void pa_tab_json(struct pa_buf *out, const struct pa_tab *t);
/* Row i as one JSON object. */
void pa_tab_json_row(struct pa_buf *out, const struct pa_tab *t, size_t i);

/* One cell as the text table writes it: control bytes, DEL and bytes of invalid UTF-8 as \xNN, a backslash as
 * \\ (so an escape cannot be forged); returns its width in code points. */
size_t pa_tab_text_cell(struct pa_buf *out, const char *s);
/* One CSV field: quoted when it holds a comma, a quote, CR or LF (quotes doubled); a leading =, +, -, @, tab or CR
 * (a formula to a spreadsheet) gets a ' before it unless the field is a plain number. */
void pa_tab_csv_field(struct pa_buf *out, const char *s);

#endif
