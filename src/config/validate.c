/* config/validate: the checks across keys, run once the whole file is parsed (sections may come in any order):
 * findings.password_file (and password_credential) needs findings.conninfo, a password comes from a file or a
 * credential (not both), scan.jitter stays below scan.interval, the metrics.tls files come
 * together, and every detectors.allow_paths entry names a configured surface (then written in canonical form,
 * schema.table.column, as detect compares it). The setters here parse as their type does and note where the key was
 * written, for these messages. Must never print or log, nor quote a conninfo.
 */
#include "keys.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pa_cfg_set_allow_paths(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    if (pa_cfg_set_string_list(c, k, n, obj, disp))
        return -1;
    c->allow_paths = n->n ? n : NULL;
    return 0;
}

int pa_cfg_set_findings_pw(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    c->findings_pw = n;
    return pa_cfg_set_path(c, k, n, obj, disp);
}

int pa_cfg_set_jitter(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    c->jitter_n = n;
    return pa_cfg_set_duration(c, k, n, obj, disp);
}

int pa_cfg_set_tls_file(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    if (pa_cfg_impl[k].off == offsetof(struct pa_config, web.tls_cert_file))
        c->tls_cert_n = n;
    else if (pa_cfg_impl[k].off == offsetof(struct pa_config, web.tls_key_file))
        c->tls_key_n = n;
    else
        c->tls_ca_n = n;
    return pa_cfg_set_path(c, k, n, obj, disp);
}

int pa_cfg_set_credential(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    if (pa_cfg_impl[k].off == offsetof(struct pa_config, db_password_credential))
        c->db_cred = n;
    else
        c->findings_cred = n;
    return pa_cfg_set_string(c, k, n, obj, disp);
}

/* A credential name is a file name in $CREDENTIALS_DIRECTORY, as the unit's LoadCredential=NAME:... gives it: no
 * slash (it must not lead out of that directory), not "." or "..", and the characters systemd's own examples use. */
int pa_cfg_check_credential(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    bool ok = n->len <= 255 && strcmp(n->s, ".") != 0 && strcmp(n->s, "..") != 0;
    for (size_t i = 0; ok && i < n->len; i++) {
        char ch = n->s[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
             ch == '-' || ch == '.' || ch == '@' || ch == ':';
    }
    if (ok)
        return 0;
    return cfg_fail(c, n,
                    "%s: expected a credential name such as db-password (the NAME of the unit's "
                    "LoadCredential=NAME:..., a file name: letters, digits, _ - . @ :), got %s",
                    disp, pa_cfg_got(n, false, q, sizeof q));
}

int pa_cfg_check_log_format(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    if (strcmp(n->s, "text") == 0 || strcmp(n->s, "json") == 0)
        return 0;
    return cfg_fail(c, n, "%s: expected text or json, got %s", disp, pa_cfg_got(n, false, q, sizeof q));
}

static const struct pa_surface *bsearch_surface(const struct pa_config *cfg, const struct pa_cfg_dupent *ix,
                                                const char *name)
{
    size_t lo = 0, hi = cfg->n_surfaces;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(ix[mid].s, name);
        if (r == 0)
            return &cfg->surfaces[ix[mid].i];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* pa_config_find_surface over a sorted index of the names: exact, then "table.column" as public. */
static const struct pa_surface *lookup_surface(const struct pa_config *cfg, const struct pa_cfg_dupent *ix,
                                               const char *name)
{
    const struct pa_surface *s = bsearch_surface(cfg, ix, name);
    if (!s) {
        char *pub = pa_xasprintf("public.%s", name);
        s = bsearch_surface(cfg, ix, pub);
        free(pub);
    }
    return s;
}

/* Every detectors.allow_paths entry names a configured surface; each is rewritten in canonical form. */
static int check_allow_paths(struct pa_cfg_ctx *c)
{
    struct pa_config *cfg = c->cfg;
    char q[PA_CFG_QUOTE_CAP];
    /* a sorted index keeps thousands of allow_paths x surfaces cheap */
    struct pa_cfg_dupent *ix = pa_xmalloc((cfg->n_surfaces ? cfg->n_surfaces : 1) * sizeof *ix);
    for (size_t i = 0; i < cfg->n_surfaces; i++)
        ix[i] = (struct pa_cfg_dupent){cfg->surfaces[i].name, i};
    qsort(ix, cfg->n_surfaces, sizeof *ix, pa_cfg_dupcmp);
    int ret = 0;
    for (size_t i = 0; i < cfg->detect.n_allow_paths; i++) {
        char *ap = cfg->detect.allow_paths[i];
        char *sep = strstr(ap, ":$");
        char *surf = pa_xstrndup(ap, (size_t)(sep - ap));
        const struct pa_surface *s = lookup_surface(cfg, ix, surf);
        if (!s) {
            struct pa_buf list;
            pa_buf_init(&list);
            for (size_t j = 0; j < cfg->n_surfaces && j < 5; j++)
                pa_buf_printf(&list, "%s%s", j ? ", " : "",
                              pa_cfg_quote(cfg->surfaces[j].name, strlen(cfg->surfaces[j].name), q, sizeof q));
            if (cfg->n_surfaces > 5)
                pa_buf_appends(&list, ", ...");
            int r = cfg_fail(c, c->allow_paths->kids[i],
                             "detectors.allow_paths[%zu]: surface %s is not configured in surfaces (configured: %s)", i,
                             pa_cfg_quote(surf, strlen(surf), q, sizeof q), list.data);
            pa_buf_free(&list);
            free(surf);
            ret = r;
            break;
        }
        /* canonical form: "table.column" becomes "public.table.column", as detect compares it */
        char *canon = pa_xasprintf("%s%s", s->name, sep);
        free(ap);
        cfg->detect.allow_paths[i] = canon;
        free(surf);
    }
    free(ix);
    return ret;
}

/* Checks across sections, once everything is parsed (sections may come in any order). */
int pa_cfg_validate(struct pa_cfg_ctx *c)
{
    struct pa_config *cfg = c->cfg;
    if (cfg->findings_password_file && !cfg->findings_conninfo)
        return cfg_fail(c, c->findings_pw,
                        "findings.password_file: set without findings.conninfo, so it would be ignored: findings go "
                        "to database.conninfo (its password is database.password_file); remove it or set "
                        "findings.conninfo");
    if (cfg->findings_password_credential && !cfg->findings_conninfo)
        return cfg_fail(c, c->findings_cred,
                        "findings.password_credential: set without findings.conninfo, so it would be ignored: findings "
                        "go to database.conninfo (its password is database.password_credential); remove it or set "
                        "findings.conninfo");
    if (cfg->db_password_credential && cfg->db_password_file)
        return cfg_fail(c, c->db_cred,
                        "database.password_credential: set together with database.password_file: the password comes "
                        "from one of them, keep one");
    if (cfg->findings_password_credential && cfg->findings_password_file)
        return cfg_fail(c, c->findings_cred,
                        "findings.password_credential: set together with findings.password_file: the password comes "
                        "from one of them, keep one");
    if (c->jitter_n && cfg->jitter >= cfg->interval) {
        char j[32], iv[32];
        pa_format_duration(cfg->jitter, j, sizeof j);
        pa_format_duration(cfg->interval, iv, sizeof iv);
        return cfg_fail(c, c->jitter_n,
                        "scan.jitter: expected a duration less than scan.interval (%s), got %s: lower it or leave it "
                        "unset for 10%% of scan.interval",
                        iv, j);
    }
    if (c->tls_cert_n && !c->tls_key_n)
        return cfg_fail(c, c->tls_cert_n,
                        "metrics.tls.cert_file: set without metrics.tls.key_file: set both (HTTPS) or neither (plain "
                        "HTTP)");
    if (c->tls_key_n && !c->tls_cert_n)
        return cfg_fail(c, c->tls_key_n,
                        "metrics.tls.key_file: set without metrics.tls.cert_file: set both (HTTPS) or neither (plain "
                        "HTTP)");
    if (c->tls_ca_n && !c->tls_cert_n)
        return cfg_fail(c, c->tls_ca_n,
                        "metrics.tls.client_ca_file: client certificates need HTTPS: set "
                        "metrics.tls.cert_file and metrics.tls.key_file too");
    return c->allow_paths ? check_allow_paths(c) : 0;
}
