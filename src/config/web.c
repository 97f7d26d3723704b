/* config/web: metrics.* , the HTTP endpoint's settings (struct pa_web_config): listen addresses (the one parser of
 * their syntax, shared with http.c), and the basic-auth users with their bcrypt hashes. TLS file paths are plain
 * paths (validate.c checks they come together). A hash, or a password pasted by mistake, is never quoted back.
 * Must never print or log, resolve a name or bind a socket (http.c does, when the endpoint starts).
 */
#include "keys.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORT_RANGE "the port must be a number from 1 to 65535"

const char *pa_config_split_listen(const char *s, size_t len, char *host, size_t hcap, unsigned *port)
{
    const char *ps;
    unsigned char addr[16];
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb)
            return "missing ] after the IPv6 address";
        size_t hl = (size_t)(rb - s - 1);
        if (rb + 1 == s + len || rb[1] != ':')
            return "missing :port after ]";
        if (hl == 0 || hl >= hcap)
            return "invalid IPv6 address in [...]";
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (inet_pton(AF_INET6, host, addr) != 1)
            return "invalid IPv6 address in [...]";
        ps = rb + 2;
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':')
                colon = s + i;
        if (!colon)
            return "missing :port (write \"127.0.0.1:10187\", or \":10187\" for all interfaces)";
        size_t hl = (size_t)(colon - s);
        if (memchr(s, ':', hl))
            return "an IPv6 address must be in brackets, such as \"[::1]:10187\"";
        if (hl >= hcap)
            return "the host name is too long";
        memcpy(host, s, hl);
        host[hl] = '\0';
        bool numeric = hl > 0;
        for (size_t i = 0; i < hl; i++) {
            char ch = host[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '.'))
                return "a host is an IPv4 address, [IPv6 address] or a host name (letters, digits, - and .)";
            if (!((ch >= '0' && ch <= '9') || ch == '.'))
                numeric = false;
        }
        if (numeric && inet_pton(AF_INET, host, addr) != 1)
            return "invalid IPv4 address";
        ps = colon + 1;
    }
    size_t pl = len - (size_t)(ps - s);
    unsigned v = 0;
    if (pl == 0 || pl > 5 || (ps[0] == '0' && pl > 1))
        return PORT_RANGE;
    for (size_t i = 0; i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return PORT_RANGE;
        v = v * 10 + (unsigned)(ps[i] - '0');
    }
    if (v > 65535)
        return PORT_RANGE;
    *port = v;
    return NULL;
}

/* metrics.listen: only the syntax and the numbers are checked here; names are resolved and sockets bound when the
 * endpoint starts (http.c reports those errors with the address). Port 0 (an ephemeral port) is for tests only. */
static const char *listen_error(const char *s, size_t len)
{
    char host[256];
    unsigned port;
    const char *why = pa_config_split_listen(s, len, host, sizeof host, &port);
    return why ? why : port == 0 ? PORT_RANGE : NULL;
}

int pa_cfg_check_listen(struct pa_cfg_ctx *c, const struct pa_cfg_node *n, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    const char *why = listen_error(n->s, n->len);
    if (why)
        return cfg_fail(c, n, "%s: expected host:port, [ipv6]:port or :port such as \"127.0.0.1:10187\", got %s: %s",
                        disp, pa_cfg_got(n, false, q, sizeof q), why);
    return 0;
}

int pa_cfg_set_listen(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    struct pa_web_config *w = &((struct pa_config *)obj)->web;
    if (n->kind == N_SCALAR) { /* one address may be written without the list */
        if (pa_cfg_need_string(c, k, n, disp, "an address such as \"127.0.0.1:10187\""))
            return -1;
        w->listen = pa_xcalloc(1, sizeof *w->listen);
        w->listen[0] = pa_xstrndup(n->s, n->len);
        w->n_listen = 1;
        return 0;
    }
    if (n->kind != N_SEQ)
        return cfg_fail(c, n, "%s: expected an address or a list of addresses such as [\"127.0.0.1:10187\"], got %s",
                        disp, pa_cfg_kind_name(n));
    if (n->n == 0)
        return cfg_fail(c, n, "%s: expected at least one address (remove the key for the default \"%s\")", disp,
                        PA_DEFAULT_METRICS_LISTEN);
    if (pa_cfg_set_string_list(c, k, n, obj, disp))
        return -1;
    size_t first = 0;
    long d = pa_cfg_first_duplicate((const char *const *)w->listen, w->n_listen, &first);
    if (d >= 0)
        return cfg_fail(c, n->kids[(size_t)d], "%s[%ld]: duplicate address %s (also %s[%zu]): keep one", disp, d,
                        pa_cfg_quote(w->listen[d], strlen(w->listen[d]), q, sizeof q), disp, first);
    return 0;
}

/* The modular-crypt bcrypt format: $2b$NN$ + 53 characters of bcrypt's base64 (22 salt + 31 hash). */
static bool is_bcrypt(const char *s, size_t len)
{
    if (len != 60 || s[0] != '$' || s[1] != '2' || !(s[2] == 'a' || s[2] == 'b' || s[2] == 'y') || s[3] != '$' ||
        s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' || s[6] != '$')
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '/'))
            return false;
    }
    return true;
}

#define USER_MAX 64

/* metrics.basic_auth_users: a mapping of user name -> bcrypt hash. A hash (or a password pasted by mistake) is
 * never quoted back. */
static int check_user_name(struct pa_cfg_ctx *c, const struct pa_cfg_node *kn, const char *disp)
{
    char q[PA_CFG_QUOTE_CAP];
    bool ok = kn->kind == N_SCALAR && !pa_cfg_is_null(kn) && kn->len > 0 && kn->len <= USER_MAX;
    for (size_t j = 0; ok && j < kn->len; j++)
        if ((unsigned char)kn->s[j] < 0x20 || kn->s[j] == 0x7f || kn->s[j] == ':')
            ok = false;
    if (ok)
        return 0;
    return cfg_fail(c, kn,
                    "%s: user name %s must be 1 to %d characters without a colon or control characters (HTTP basic "
                    "auth splits user:password at the first colon)",
                    disp, pa_cfg_got(kn, false, q, sizeof q), USER_MAX);
}

int pa_cfg_set_users(struct pa_cfg_ctx *c, size_t k, const struct pa_cfg_node *n, void *obj, const char *disp)
{
    (void)k;
    char udisp[PA_CFG_DISP_MAX + 80];
    struct pa_web_config *w = &((struct pa_config *)obj)->web;
    if (n->kind != N_MAP)
        return cfg_fail(c, n,
                        "%s: expected a mapping of user: bcrypt hash such as {prometheus: \"$2b$10$...\"}, got %s",
                        disp, pa_cfg_kind_name(n));
    if (pa_cfg_map_keys(c, n, disp, check_user_name))
        return -1;
    size_t nu = n->n / 2;
    w->users = pa_xcalloc(nu ? nu : 1, sizeof *w->users);
    for (size_t i = 0; i < nu; i++) {
        const struct pa_cfg_node *kn = n->kids[2 * i], *vn = n->kids[2 * i + 1];
        snprintf(udisp, sizeof udisp, "%s.%s", disp, kn->s);
        if (vn->kind != N_SCALAR || pa_cfg_is_null(vn) || !is_bcrypt(vn->s, vn->len))
            return cfg_fail(c, vn,
                            "%s: expected a bcrypt hash (60 characters starting with $2a$, $2b$ or $2y$; make one "
                            "with: htpasswd -nbBC 10 \"\" 'password' | tr -d ':\\n'), got %s",
                            udisp,
                            vn->kind == N_SCALAR && !pa_cfg_is_null(vn) ? "something else (not shown)"
                                                                        : pa_cfg_kind_name(vn));
        w->users[w->n_users].name = pa_xstrndup(kn->s, kn->len);
        w->users[w->n_users].hash = pa_xstrndup(vn->s, vn->len);
        w->n_users++;
    }
    return 0;
}
