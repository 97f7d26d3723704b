/* peer_vectors: agreement of our detectors with the published test vectors of two peer PII scanners
 * (microsoft/presidio recognizer tests, ankane/pdscan tests), copied into tests/data/peer-vectors/ (origin and licences: its README.md and ORIGIN.md).
 *
 * usage: peer_vectors <vectors-dir> <report.md>
 *
 * Each JSONL line is parsed with the project's own walker (pa_jw_walk). Entities that map to one of our categories
 * are run through the matching detector (value vectors through pa_detect_value, column names through key detection,
 * documents and files through pa_detect_doc); the rest are counted as not covered. The report is a markdown table
 * per category plus the list of disagreements (public test vectors, not PII). Exits 1 when a category's agreement
 * falls below its floor (floors are set a little under the measured figures: a regression guard), 2 on usage or
 * I/O errors. Never used on real data.
 */
#include "detect.h"
#include "detect/hooks.h"
#include "jsonwalk.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one vector ------------------------------------------------------------------------------------------- */

enum tri { T_NULL, T_FALSE, T_TRUE };

struct vec {
    struct pa_buf entity, text, level, key_path, column, test;
    bool has_entity, has_text, has_params;
    enum tri expect;
    char columns[4][64];
    size_t n_columns;
};

struct parse_state {
    struct vec *v;
    char field[32];
};

static void vec_reset(struct vec *v)
{
    pa_buf_truncate(&v->entity, 0);
    pa_buf_truncate(&v->text, 0);
    pa_buf_truncate(&v->level, 0);
    pa_buf_truncate(&v->key_path, 0);
    pa_buf_truncate(&v->column, 0);
    pa_buf_truncate(&v->test, 0);
    v->has_entity = v->has_text = v->has_params = false;
    v->expect = T_NULL;
    v->n_columns = 0;
}

static int on_field(void *arg, struct pa_jw *w, const struct pa_jw_event *ev)
{
    struct parse_state *ps = arg;
    struct vec *v = ps->v;
    if (ev->kind == PA_JW_KEY && ev->depth == 1) {
        size_t n = ev->len < sizeof ps->field - 1 ? ev->len : sizeof ps->field - 1;
        memcpy(ps->field, ev->str, n);
        ps->field[n] = '\0';
        return 0;
    }
    if (ev->depth == 1 && strcmp(ps->field, "params") == 0 && ev->kind == PA_JW_OBJECT_BEGIN) {
        v->has_params = true;
        return 0;
    }
    if (ev->depth == 2 && ev->kind == PA_JW_STRING && strcmp(ps->field, "columns") == 0 && pa_jw_in_array(w) &&
        v->n_columns < 4) {
        size_t n = ev->len < 63 ? ev->len : 63;
        memcpy(v->columns[v->n_columns], ev->str, n);
        v->columns[v->n_columns][n] = '\0';
        v->n_columns++;
        return 0;
    }
    if (ev->depth != 1)
        return 0;
    struct pa_buf *dst = NULL;
    if (strcmp(ps->field, "entity") == 0) {
        dst = &v->entity;
        v->has_entity = ev->kind == PA_JW_STRING;
    } else if (strcmp(ps->field, "text") == 0) {
        dst = &v->text;
        v->has_text = ev->kind == PA_JW_STRING;
    } else if (strcmp(ps->field, "level") == 0) {
        dst = &v->level;
    } else if (strcmp(ps->field, "key_path") == 0) {
        dst = &v->key_path;
    } else if (strcmp(ps->field, "column") == 0) {
        dst = &v->column;
    } else if (strcmp(ps->field, "test") == 0) {
        dst = &v->test;
    } else if (strcmp(ps->field, "expect_match") == 0) {
        v->expect = ev->kind == PA_JW_TRUE ? T_TRUE : ev->kind == PA_JW_FALSE ? T_FALSE : T_NULL;
    }
    if (dst && ev->kind == PA_JW_STRING)
        pa_buf_append(dst, ev->str, ev->len);
    return 0;
}

/* ---- mapping ----------------------------------------------------------------------------------------------- */

#define ANY (-100) /* "some finding" (pdscan integration vectors with entity null) */

struct map {
    const char *source; /* "presidio" or "pdscan" */
    const char *entity;
    int cat;
    bool value_detector; /* our category has a value detector, so value-level vectors can be compared */
    /* national ids whose bare forms we accept only under a key that names them: value vectors are run as the value
     * of a member with this name, and only the value rules count (pa_detect_value_under_key, not the key finding);
     * the agreement of the value alone is reported beside it */
    const char *key;
};

static const struct map maps[] = {
    {"presidio", "EMAIL_ADDRESS", PA_CAT_EMAIL, true, NULL},
    {"presidio", "PHONE_NUMBER", PA_CAT_PHONE, true, NULL},
    {"presidio", "TR_PHONE_NUMBER", PA_CAT_PHONE, true, NULL},
    {"presidio", "PH_MOBILE_NUMBER", PA_CAT_PHONE, true, NULL},
    {"presidio", "US_SSN", PA_CAT_NATIONAL_ID, true, NULL},
    {"presidio", "US_ITIN", PA_CAT_NATIONAL_ID, true, "itin"},
    {"presidio", "UK_NINO", PA_CAT_NATIONAL_ID, true, "nino"},
    {"presidio", "CA_SIN", PA_CAT_NATIONAL_ID, true, "sin"},
    {"presidio", "DE_TAX_ID", PA_CAT_NATIONAL_ID, true, "steuer_id"},
    {"presidio", "ES_NIF", PA_CAT_NATIONAL_ID, true, "nif"},
    {"presidio", "ES_NIE", PA_CAT_NATIONAL_ID, true, "nie"},
    {"presidio", "IT_FISCAL_CODE", PA_CAT_NATIONAL_ID, true, "codice_fiscale"},
    {"presidio", "IN_AADHAAR", PA_CAT_NATIONAL_ID, true, "aadhaar"},
    {"presidio", "IN_PAN", PA_CAT_NATIONAL_ID, true, "permanent_account_number"},
    {"presidio", "AU_TFN", PA_CAT_NATIONAL_ID, true, "tfn"},
    {"presidio", "CREDIT_CARD", PA_CAT_CREDIT_CARD, true, NULL},
    {"presidio", "IBAN_CODE", PA_CAT_IBAN, true, NULL},
    {"presidio", "IP_ADDRESS", PA_CAT_IP_ADDRESS, true, NULL},
    {"presidio", "MAC_ADDRESS", PA_CAT_MAC_ADDRESS, true, NULL},
    {"pdscan", "email", PA_CAT_EMAIL, true, NULL},
    {"pdscan", "phone", PA_CAT_PHONE, true, NULL},
    {"pdscan", "ssn", PA_CAT_NATIONAL_ID, true, NULL},
    {"pdscan", "credit_card", PA_CAT_CREDIT_CARD, true, NULL},
    {"pdscan", "ip", PA_CAT_IP_ADDRESS, true, NULL},
    {"pdscan", "mac", PA_CAT_MAC_ADDRESS, true, NULL},
    {"pdscan", "postal_code", PA_CAT_POSTAL_CODE, false, NULL},
    {"pdscan", "date_of_birth", PA_CAT_DATE_OF_BIRTH, false, NULL},
    {"pdscan", "surname", PA_CAT_PERSON_NAME, false, NULL},
    {"pdscan", "street", PA_CAT_STREET_ADDRESS, false, NULL},
    {"pdscan", "location", PA_CAT_GEOLOCATION, false, NULL},
};

/* Agreement floors per category, in percent: the measured figures (docs/detection.md, "Peer vectors") rounded
 * down, so that any vector flipping the wrong way in a category fails the test, while the documented deliberate
 * differences do not. Raise a floor when a change improves agreement. */
static const struct {
    int cat;
    double floor;
} floors[] = {
    {PA_CAT_EMAIL, 100.0},       {PA_CAT_PHONE, 64.0},        {PA_CAT_NATIONAL_ID, 85.0},
    {PA_CAT_CREDIT_CARD, 91.0},  {PA_CAT_IBAN, 100.0},        {PA_CAT_IP_ADDRESS, 95.0},
    {PA_CAT_MAC_ADDRESS, 95.0},  {PA_CAT_POSTAL_CODE, 100.0}, {PA_CAT_DATE_OF_BIRTH, 100.0},
    {PA_CAT_PERSON_NAME, 100.0}, {PA_CAT_GEOLOCATION, 100.0}, {ANY, 93.0},
};

/* ---- evaluation -------------------------------------------------------------------------------------------- */

struct found {
    bool cat[64];
    bool any;
};

static void value_cb(void *arg, int cat, const char *rule)
{
    (void)rule;
    struct found *f = arg;
    f->any = true;
    if (cat >= 0 && cat < 64)
        f->cat[cat] = true;
}

static void doc_cb(void *arg, const struct pa_finding *fi)
{
    struct found *f = arg;
    f->any = true;
    if (fi->category_id >= 0 && fi->category_id < 64)
        f->cat[fi->category_id] = true;
}

/* {"a":{"b":<value>}} from "a.b"; "x+y" as the last part is a pair of members with numeric values. */
static void build_doc(struct pa_buf *b, const char *key_path, const struct vec *v)
{
    pa_buf_truncate(b, 0);
    size_t opened = 0;
    const char *p = key_path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        pa_buf_appendc(b, '{');
        opened++;
        if (!dot) {
            const char *plus = memchr(p, '+', n);
            if (plus) {
                pa_buf_append_json_string(b, p, (size_t)(plus - p));
                pa_buf_appends(b, ":1.5,");
                pa_buf_append_json_string(b, plus + 1, n - (size_t)(plus - p) - 1);
                pa_buf_appends(b, ":2.5");
            } else {
                pa_buf_append_json_string(b, p, n);
                pa_buf_appendc(b, ':');
                if (v->has_text)
                    pa_buf_append_json_string(b, v->text.data, v->text.len);
                else
                    pa_buf_appends(b, "null");
            }
            break;
        }
        pa_buf_append_json_string(b, p, n);
        pa_buf_appendc(b, ':');
        p = dot + 1;
    }
    while (opened--)
        pa_buf_appendc(b, '}');
}

struct row {
    int cat;
    const char *source;
    char entity[64];
    size_t n, agree;
    size_t agree_alone; /* entities with a key: the value alone (pa_detect_value) agrees */
    const char *key;
};

struct disagreement {
    int cat;
    const char *source;
    char entity[64];
    char level[16];
    bool expected, got;
    char text[160];
};

struct run {
    struct pa_detector *d;
    struct pa_detect_ctx *c;
    struct row rows[64];
    size_t n_rows;
    struct disagreement *dis;
    size_t n_dis, cap_dis;
    size_t skipped_entity, skipped_level, skipped_params, skipped_validator, total;
    char skipped_names[4096];
    char keyonly_names[512];
    struct pa_buf doc;
};

static struct row *row_for(struct run *r, int cat, const char *source, const char *entity)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].cat == cat && r->rows[i].source == source && strcmp(r->rows[i].entity, entity) == 0)
            return &r->rows[i];
    if (r->n_rows == PA_ARRAY_LEN(r->rows))
        abort();
    struct row *w = &r->rows[r->n_rows++];
    memset(w, 0, sizeof *w);
    w->cat = cat;
    w->source = source;
    snprintf(w->entity, sizeof w->entity, "%s", entity);
    return w;
}

/* Append "source:entity" to a comma-separated list, once. */
static void note_skipped(char *list, size_t cap, const char *source, const char *entity)
{
    char item[96];
    snprintf(item, sizeof item, "%s:%s", source, entity);
    const char *p = list;
    size_t il = strlen(item);
    while ((p = strstr(p, item)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[il] == ',' || p[il] == '\0'))
            return;
        p += il;
    }
    size_t used = strlen(list);
    snprintf(list + used, cap - used, "%s%s", used ? ", " : "", item);
}

static void evaluate(struct run *r, const char *source, struct vec *v)
{
    r->total++;
    const char *entity = v->has_entity ? v->entity.data : NULL;
    const char *level = v->level.data ? v->level.data : "";
    const struct map *m = NULL;
    if (strcmp(level, "validator") == 0) { /* a checksum helper's return value: we expose no such function */
        r->skipped_validator++;
        return;
    }
    if (entity) {
        for (size_t i = 0; i < PA_ARRAY_LEN(maps); i++)
            if (strcmp(maps[i].source, source) == 0 && strcmp(maps[i].entity, entity) == 0)
                m = &maps[i];
        if (!m) {
            r->skipped_entity++;
            note_skipped(r->skipped_names, sizeof r->skipped_names, source, entity);
            return;
        }
    }
    if (v->has_params) { /* pdscan --min-count: a reporting threshold we do not have */
        r->skipped_params++;
        return;
    }
    if (v->expect == T_NULL) {
        r->skipped_level++;
        return;
    }
    int cat = m ? m->cat : ANY;
    bool is_value_level = strcmp(level, "recognizer") == 0 || strcmp(level, "value") == 0;
    if (is_value_level && m && !m->value_detector) {
        r->skipped_level++;
        note_skipped(r->keyonly_names, sizeof r->keyonly_names, source, entity);
        return;
    }

    struct found f;
    memset(&f, 0, sizeof f);
    struct pa_doc_result res;
    bool alone_got = false;
    if (is_value_level && m && m->key) {
        if (pa_detect_value_under_key(r->c, m->key, strlen(m->key), v->text.data ? v->text.data : "", v->text.len,
                                      value_cb, &f) < 0)
            abort();
        struct found fa;
        memset(&fa, 0, sizeof fa);
        if (pa_detect_value(r->c, v->text.data ? v->text.data : "", v->text.len, value_cb, &fa) < 0)
            abort();
        alone_got = fa.cat[cat];
    } else if (is_value_level) {
        if (pa_detect_value(r->c, v->text.data ? v->text.data : "", v->text.len, value_cb, &f) < 0)
            abort();
    } else if (strcmp(level, "column_name") == 0) {
        int k = pa_detect_key_category(r->d, v->text.data ? v->text.data : "", v->text.len, NULL);
        if (k >= 0) {
            f.any = true;
            f.cat[k] = true;
        }
    } else if (strcmp(level, "column_names") == 0) {
        pa_buf_truncate(&r->doc, 0);
        pa_buf_appendc(&r->doc, '{');
        for (size_t i = 0; i < v->n_columns; i++) {
            if (i)
                pa_buf_appendc(&r->doc, ',');
            pa_buf_append_json_string(&r->doc, v->columns[i], strlen(v->columns[i]));
            pa_buf_appends(&r->doc, ":1.5");
        }
        pa_buf_appendc(&r->doc, '}');
        pa_detect_doc(r->c, "peer.vectors.doc", PA_DOC_JSON, r->doc.data, r->doc.len, doc_cb, &f, &res);
    } else if (strcmp(level, "db_column") == 0) {
        /* pdscan matches column names without values and values without names: the column's name goes through key
         * detection, its value (when not NULL) through the value detectors; a "latitude+longitude" pair of columns
         * through the lat/lng pairing */
        const char *col = v->column.data ? v->column.data : "";
        const char *dot = strrchr(col, '.');
        const char *name = dot ? dot + 1 : col;
        if (strchr(name, '+')) {
            build_doc(&r->doc, name, v);
            pa_detect_doc(r->c, "peer.vectors.doc", PA_DOC_JSON, r->doc.data, r->doc.len, doc_cb, &f, &res);
        } else {
            int k = pa_detect_key_category(r->d, name, strlen(name), NULL);
            if (k >= 0) {
                f.any = true;
                f.cat[k] = true;
            }
            if (v->has_text && pa_detect_value(r->c, v->text.data, v->text.len, value_cb, &f) < 0)
                abort();
        }
    } else if (strcmp(level, "document_key") == 0) {
        build_doc(&r->doc, v->key_path.data ? v->key_path.data : "", v);
        pa_detect_doc(r->c, "peer.vectors.doc", PA_DOC_JSON, r->doc.data, r->doc.len, doc_cb, &f, &res);
    } else if (strcmp(level, "file") == 0) {
        pa_detect_doc(r->c, "peer.vectors.file", PA_DOC_TEXT, v->text.data ? v->text.data : "", v->text.len, doc_cb, &f,
                      &res);
    } else {
        r->skipped_level++;
        return;
    }
    bool got = cat == ANY ? f.any : f.cat[cat];
    bool expected = v->expect == T_TRUE;
    char label[64];
    if (m && m->key && is_value_level)
        snprintf(label, sizeof label, "%s (under `%s`)", entity, m->key);
    else
        snprintf(label, sizeof label, "%s", entity ? entity : "(any rule)");
    struct row *row = row_for(r, cat, source, label);
    row->n++;
    row->key = m && is_value_level ? m->key : NULL;
    row->agree_alone += alone_got == expected;
    if (got == expected) {
        row->agree++;
        return;
    }
    if (r->n_dis == r->cap_dis) {
        r->cap_dis = r->cap_dis ? r->cap_dis * 2 : 64;
        r->dis = pa_xrealloc(r->dis, r->cap_dis * sizeof *r->dis);
    }
    struct disagreement *di = &r->dis[r->n_dis++];
    di->cat = cat;
    di->source = source;
    snprintf(di->entity, sizeof di->entity, "%s", label);
    snprintf(di->level, sizeof di->level, "%s", level);
    di->expected = expected;
    di->got = got;
    /* the input as a markdown code span: escape newlines, keep it short */
    size_t o = 0;
    const char *t = v->has_text ? v->text.data : (v->key_path.len ? v->key_path.data : v->column.data);
    if (!t)
        t = "(null)";
    for (size_t i = 0; t[i] && o + 3 < sizeof di->text; i++) {
        char ch = t[i];
        if (ch == '\n') {
            di->text[o++] = '\\';
            di->text[o++] = 'n';
        } else if (ch == '`' || ch == '|') {
            di->text[o++] = '\'';
        } else {
            di->text[o++] = ch;
        }
    }
    di->text[o] = '\0';
}

static int read_file(const char *path, struct pa_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pa_buf_append(out, chunk, n);
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

static int run_file(struct run *r, const char *dir, const char *name, const char *source)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct pa_buf data;
    pa_buf_init(&data);
    if (read_file(path, &data) < 0) {
        fprintf(stderr, "peer_vectors: cannot read %s\n", path);
        pa_buf_free(&data);
        return -1;
    }
    struct pa_jw *w = pa_jw_new();
    struct vec v;
    memset(&v, 0, sizeof v);
    pa_buf_init(&v.entity);
    pa_buf_init(&v.text);
    pa_buf_init(&v.level);
    pa_buf_init(&v.key_path);
    pa_buf_init(&v.column);
    pa_buf_init(&v.test);
    int rc = 0;
    size_t lineno = 0;
    for (char *p = data.data; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (n) {
            vec_reset(&v);
            /* make every field a valid (possibly empty) C string */
            pa_buf_append(&v.entity, "", 0);
            pa_buf_append(&v.text, "", 0);
            pa_buf_append(&v.level, "", 0);
            pa_buf_append(&v.key_path, "", 0);
            pa_buf_append(&v.column, "", 0);
            pa_buf_append(&v.test, "", 0);
            struct parse_state ps = {.v = &v};
            if (pa_jw_walk(w, p, n, on_field, &ps) != 0) {
                size_t off;
                const char *e = pa_jw_error(w, &off);
                fprintf(stderr, "peer_vectors: %s:%zu: invalid JSON at byte %zu: %s\n", path, lineno, off, e);
                rc = -1;
                break;
            }
            evaluate(r, source, &v);
        }
        p = nl ? nl + 1 : NULL;
    }
    pa_buf_free(&v.entity);
    pa_buf_free(&v.text);
    pa_buf_free(&v.level);
    pa_buf_free(&v.key_path);
    pa_buf_free(&v.column);
    pa_buf_free(&v.test);
    pa_jw_free(w);
    pa_buf_free(&data);
    return rc;
}

static const char *cat_label(int cat)
{
    return cat == ANY ? "(any finding)" : pa_category_name(cat);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: peer_vectors <vectors-dir> <report.md>\n");
        return 2;
    }
    char err[256];
    struct run r;
    memset(&r, 0, sizeof r);
    pa_buf_init(&r.doc);
    r.d = pa_detect_new(NULL, err, sizeof err);
    if (!r.d) {
        fprintf(stderr, "peer_vectors: %s\n", err);
        return 2;
    }
    r.c = pa_detect_ctx_new(r.d);
    int rc = 2;
    FILE *out = NULL;
    if (run_file(&r, argv[1], "presidio_vectors.jsonl", "presidio") < 0 ||
        run_file(&r, argv[1], "pdscan_vectors.jsonl", "pdscan") < 0)
        goto out;
    out = fopen(argv[2], "w");
    if (!out) {
        fprintf(stderr, "peer_vectors: cannot write %s\n", argv[2]);
        goto out;
    }
    /* categories in a stable order: built-ins, then "any" */
    int order[PA_CAT_BUILTIN_COUNT + 1];
    size_t n_order = 0;
    for (int k = 0; k < PA_CAT_BUILTIN_COUNT; k++)
        order[n_order++] = k;
    order[n_order++] = ANY;

    fprintf(out, "# Peer vector agreement\n\n");
    fprintf(out, "| category | source: entity | vectors | agree | disagree | agreement | floor |\n");
    fprintf(out, "|---|---|---:|---:|---:|---:|---:|\n");
    int failed = 0;
    size_t compared = 0, agreed = 0;
    for (size_t oi = 0; oi < n_order; oi++) {
        int cat = order[oi];
        size_t n = 0, a = 0;
        for (size_t i = 0; i < r.n_rows; i++)
            if (r.rows[i].cat == cat) {
                n += r.rows[i].n;
                a += r.rows[i].agree;
            }
        if (!n)
            continue;
        double floor_pct = 0;
        for (size_t i = 0; i < PA_ARRAY_LEN(floors); i++)
            if (floors[i].cat == cat)
                floor_pct = floors[i].floor;
        double pct = 100.0 * (double)a / (double)n;
        bool below = pct + 1e-9 < floor_pct;
        failed |= below;
        compared += n;
        agreed += a;
        fprintf(out, "| **%s** | all | %zu | %zu | %zu | **%.1f%%** | %.0f%%%s |\n", cat_label(cat), n, a, n - a, pct,
                floor_pct, below ? " FAILED" : "");
        for (size_t i = 0; i < r.n_rows; i++)
            if (r.rows[i].cat == cat)
                fprintf(out, "| | %s: %s | %zu | %zu | %zu | %.1f%% | |\n", r.rows[i].source, r.rows[i].entity,
                        r.rows[i].n, r.rows[i].agree, r.rows[i].n - r.rows[i].agree,
                        100.0 * (double)r.rows[i].agree / (double)r.rows[i].n);
        if (below)
            fprintf(stderr, "peer_vectors: %s agreement %.1f%% is below the floor %.0f%%\n", cat_label(cat), pct,
                    floor_pct);
    }
    fprintf(out,
            "\n%zu vectors read; %zu compared, %zu agree (%.1f%%). Not compared: %zu vectors of entities we "
            "do not cover, %zu validator-only vectors (Presidio validate_result), %zu with pdscan-only parameters "
            "(min_count), %zu value vectors of categories we detect by key only.\n\n",
            r.total, compared, agreed, compared ? 100.0 * (double)agreed / (double)compared : 0.0, r.skipped_entity,
            r.skipped_validator, r.skipped_params, r.skipped_level);
    fprintf(out, "National ids whose bare forms need their key, as the value alone (no key: only the shapes of "
                 "their own, e.g. `AB 12 34 56 C`, are found):\n\n| source: entity | vectors | agree alone | "
                 "agreement alone |\n|---|---:|---:|---:|\n");
    for (size_t i = 0; i < r.n_rows; i++)
        if (r.rows[i].key)
            fprintf(out, "| %s: %s | %zu | %zu | %.1f%% |\n", r.rows[i].source, r.rows[i].entity, r.rows[i].n,
                    r.rows[i].agree_alone, 100.0 * (double)r.rows[i].agree_alone / (double)r.rows[i].n);
    fprintf(out, "\n");
    fprintf(out, "Not covered (no detector for these entities): %s.\n\n", r.skipped_names);
    fprintf(out, "Value vectors not compared (we detect these categories by key only): %s.\n\n", r.keyonly_names);
    fprintf(out, "## Disagreements\n\n| category | source: entity | level | expected | ours | input |\n"
                 "|---|---|---|---|---|---|\n");
    for (size_t oi = 0; oi < n_order; oi++)
        for (size_t i = 0; i < r.n_dis; i++) {
            const struct disagreement *di = &r.dis[i];
            if (di->cat != order[oi])
                continue;
            fprintf(out, "| %s | %s: %s | %s | %s | %s | `%s` |\n", cat_label(di->cat), di->source, di->entity,
                    di->level, di->expected ? "match" : "no match", di->got ? "match" : "no match", di->text);
        }
    if (fclose(out) != 0) {
        out = NULL;
        fprintf(stderr, "peer_vectors: cannot write %s\n", argv[2]);
        goto out;
    }
    out = NULL;
    rc = failed ? 1 : 0;
    if (!failed)
        printf("peer_vectors: %zu compared, %zu agree; report written to %s\n", compared, agreed, argv[2]);
out:
    if (out)
        fclose(out);
    free(r.dis);
    pa_buf_free(&r.doc);
    pa_detect_ctx_free(r.c);
    pa_detect_free(r.d);
    return rc;
}
