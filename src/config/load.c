/* config/load: the entry points. pa_config_load reads the file (at most 1 MiB, wiped after use: it holds the
 * conninfo), pa_config_load_buffer runs the rooms in order: tree.c (YAML -> nodes), parse.c over the table (keys.c,
 * the setters of types.c, surfaces.c, detectors.c, web.c), validate.c (checks across keys); on any error the partial
 * config is freed (values.c) and err holds one "file:line:col: message". Also the small queries on a loaded config.
 * Must never print or log, never touch the database and never read a password file.
 */
#include "keys.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONFIG_BYTES ((size_t)1024 * 1024)

int pa_config_load_buffer(const char *name, const char *buf, size_t len, struct pa_config **out, char *err,
                          size_t errlen)
{
    struct pa_cfg_node *root = NULL;
    if (!name)
        name = "<config>";
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (len > MAX_CONFIG_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: the configuration is %zu bytes, more than the limit of 1 MiB (%zu bytes)", name,
                     len, MAX_CONFIG_BYTES);
        return -1;
    }
    struct pa_config *cfg = pa_xcalloc(1, sizeof *cfg);
    cfg->path = pa_xstrdup(name);
    cfg->jitter = -1; /* unset: 10% of scan.interval, decided by the scheduler */
    struct pa_cfg_ctx c = {.d = {.file = name, .err = err, .errlen = errlen}, .cfg = cfg};
    if (pa_cfg_tree_load(&c.d, buf ? buf : "", buf ? len : 0, &root))
        goto out;
    if (!root || pa_cfg_is_null(root)) {
        pa_cfg_fail_at(&c.d, 0, 0,
                       "the configuration is empty: it needs at least database.conninfo and one surface "
                       "(see the sample pii-auditd.yaml)");
        goto out;
    }
    if (root->kind != N_MAP) {
        cfg_fail(&c, root,
                 "the top level must be a mapping of sections (database:, scan:, surfaces:, detectors:), got %s",
                 pa_cfg_kind_name(root));
        goto out;
    }
    if (pa_cfg_parse_mapping(&c, root, root, "", "", cfg))
        goto out;
    pa_cfg_validate(&c);
out:
    pa_cfg_node_free(root);
    if (c.d.failed) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "%s: invalid configuration", name);
        pa_config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int pa_config_load(const char *path, struct pa_config **out, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct pa_buf b;
    pa_buf_init(&b);
    int ret = -1;
    for (;;) {
        pa_buf_reserve(&b, 65536);
        ssize_t r = read(fd, b.data + b.len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.data[b.len] = '\0';
        if (b.len > MAX_CONFIG_BYTES) {
            snprintf(err, errlen, "%s: the configuration is larger than the limit of 1 MiB (%zu bytes)", path,
                     MAX_CONFIG_BYTES);
            goto out;
        }
    }
    ret = pa_config_load_buffer(path, b.data ? b.data : "", b.len, out, err, errlen);
out:
    close(fd);
    pa_buf_free(&b); /* wipes: the file holds the conninfo */
    return ret;
}

double pa_config_jitter(const struct pa_config *c)
{
    return c->jitter >= 0 ? c->jitter : c->interval / 10;
}

const struct pa_surface *pa_config_find_surface(const struct pa_config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n_surfaces; i++)
        if (strcmp(c->surfaces[i].name, name) == 0)
            return &c->surfaces[i];
    for (size_t i = 0; i < c->n_surfaces; i++) {
        const char *n = c->surfaces[i].name;
        if (strncmp(n, "public.", 7) == 0 && strcmp(n + 7, name) == 0)
            return &c->surfaces[i];
    }
    return NULL;
}
