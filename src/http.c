/* http: the /metrics endpoint on libmicrohttpd. One MHD daemon (its own polling thread, epoll where available) per
 * listen address; we bind the socket ourselves so a start-up failure names the address and errno exactly. Fixed
 * routes only (exact match; nothing is ever read from disk), bounded request size, connection limits and timeouts,
 * optional TLS with optional client-certificate verification, optional HTTP basic auth against bcrypt hashes with a
 * short cache of successful checks.
 *
 * Must never run a query or a scan (a scrape renders the registry's last state), never log a user name, a password,
 * a hash or key material, and never block a scrape on the scan thread beyond the registry's short lock.
 */
#include "http.h"
#include "http_internal.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMORY_LIMIT ((size_t)32 * 1024) /* per connection: request line + headers; more gets an error */
#define PER_IP_LIMIT 16
#define BACKLOG 128
#define PEM_MAX ((size_t)1024 * 1024)
#define AUTH_MAX 1024 /* bytes of a decoded "user:password" we look at */
#define CACHE_SLOTS 32
#define CACHE_TTL 60.0 /* seconds a successful bcrypt check is remembered */

static const char CONTENT_TYPE_METRICS[] = "text/plain; version=0.0.4; charset=utf-8";
static const char REALM[] = "Basic realm=\"pii-auditd\"";

static const char PAGE_INDEX[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pii-auditd</title></head>\n<body>\n"
    "<h1>pii-auditd</h1>\n<ul>\n<li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a> (liveness)</li>\n<li><a href=\"/ready\">/ready</a> (readiness)</li>\n"
    "</ul>\n</body></html>\n";

struct listener {
    struct MHD_Daemon *d;
    int port;
};

struct cache_slot {
    unsigned char digest[32]; /* SHA-256(key || user || NUL || password) */
    double expires;           /* monotonic; 0 = empty */
};

struct pa_http {
    struct listener *l;
    size_t n;
    struct pa_metrics *m;
    pa_http_ready_fn ready;
    void *arg;
    bool tls;
    bool client_ca;
    struct pa_web_user *users; /* copies: the config may be replaced by a reload while we run */
    size_t n_users;
    pthread_mutex_t lock; /* the cache: one MHD thread per listener */
    unsigned char cache_key[32];
    struct cache_slot cache[CACHE_SLOTS];
    unsigned long bcrypt_checks; /* __atomic: bcrypt computations done (the cache's effect, for tests) */
};

/* ------------------------------------------------------------------------------------------------------------- */
/* Responses. */

/* Every answer goes out here, with the same headers. mode: MHD_RESPMEM_PERSISTENT for static text,
 * MHD_RESPMEM_MUST_FREE for a malloc'd body that MHD frees once sent (freed here when no response can be made). */
static enum MHD_Result reply_body(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
                                  size_t len, enum MHD_ResponseMemoryMode mode, const char *hname, const char *hvalue)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, const char *body,
                             const char *hname, const char *hvalue)
{
    return reply_body(conn, status, type, (char *)(uintptr_t)body, strlen(body), MHD_RESPMEM_PERSISTENT, hname, hvalue);
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *body)
{
    return reply(conn, status, "text/plain; charset=utf-8", body, NULL, NULL);
}

static enum MHD_Result reply_metrics(struct pa_http *h, struct MHD_Connection *conn)
{
    struct pa_buf b;
    pa_buf_init(&b);
    pa_metrics_render(h->m, &b); /* b.data is never NULL after a render */
    return reply_body(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, b.data, b.len, MHD_RESPMEM_MUST_FREE, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Client certificates. */

static bool client_cert_ok(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned int n = 0, status = 0;
    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 || !gnutls_certificate_get_peers(s, &n) || n == 0)
        return false;
    if (gnutls_certificate_verify_peers2(s, &status) < 0)
        return false;
    return status == 0;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Basic auth. */

static bool ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 (padding optional) into out (cap bytes, NUL-terminated). Returns the length or -1. */
static long b64decode(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64val((unsigned char)*s);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    for (; *s == '='; s++) {
    }
    if (*s)
        return -1;
    out[o] = '\0';
    return (long)o;
}

static void cache_digest(const struct pa_http *h, const char *user, const char *pw, size_t pwlen, unsigned char out[32])
{
    size_t ul = strlen(user), len = sizeof h->cache_key + ul + 1 + pwlen;
    unsigned char *buf = pa_xmalloc(len);
    memcpy(buf, h->cache_key, sizeof h->cache_key);
    memcpy(buf + sizeof h->cache_key, user, ul + 1);
    memcpy(buf + sizeof h->cache_key + ul + 1, pw, pwlen);
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, out) < 0)
        memset(out, 0, 32); /* never matches a stored digest of a real check (those are random-keyed) */
    explicit_bzero(buf, len);
    free(buf);
}

static bool cache_hit(struct pa_http *h, const unsigned char d[32])
{
    double now = pa_now_monotonic();
    bool hit = false;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (h->cache[i].expires > now && ct_equal(h->cache[i].digest, d, 32))
            hit = true;
    pthread_mutex_unlock(&h->lock);
    return hit;
}

static void cache_put(struct pa_http *h, const unsigned char d[32])
{
    double now = pa_now_monotonic();
    pthread_mutex_lock(&h->lock);
    size_t victim = 0;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (h->cache[i].expires < h->cache[victim].expires)
            victim = i;
    }
    memcpy(h->cache[victim].digest, d, 32);
    h->cache[victim].expires = now + CACHE_TTL;
    pthread_mutex_unlock(&h->lock);
}

/* bcrypt of pw with the salt and cost of hash, compared in constant time (and counted). */
static bool bcrypt_ok(struct pa_http *h, const char *pw, const char *hash)
{
    __atomic_fetch_add(&h->bcrypt_checks, 1, __ATOMIC_RELAXED);
    struct crypt_data *cd = pa_xcalloc(1, sizeof *cd);
    const char *r = crypt_r(pw, hash, cd);
    bool ok = r && r[0] != '*' && strlen(r) == strlen(hash) && ct_equal(r, hash, strlen(hash));
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

/* A fixed well-formed hash to spend the same time on when the user does not exist (no user enumeration by timing).
 */
static const char DUMMY_HASH[] = "$2b$10$abcdefghijklmnopqrstuu5CmRbJQzu3EfGKz4cSTXqtAJY2hOp7a";

static bool auth_ok(struct pa_http *h, struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!v || strncasecmp(v, "Basic ", 6) != 0)
        return false;
    v += 6;
    while (*v == ' ')
        v++;
    char dec[AUTH_MAX + 1];
    long n = b64decode(v, dec, sizeof dec);
    bool ok = false;
    if (n < 0)
        goto out;
    char *colon = memchr(dec, ':', (size_t)n);
    if (!colon || memchr(dec, '\0', (size_t)n)) /* a NUL would make crypt see another password */
        goto out;
    *colon = '\0';
    const char *user = dec, *pw = colon + 1;
    size_t pwlen = (size_t)(dec + n - pw);
    const struct pa_web_user *u = NULL;
    for (size_t i = 0; i < h->n_users; i++)
        if (strcmp(h->users[i].name, user) == 0)
            u = &h->users[i];
    if (!u) {
        bcrypt_ok(h, pw, DUMMY_HASH);
        goto out;
    }
    unsigned char d[32];
    cache_digest(h, u->name, pw, pwlen, d);
    if (cache_hit(h, d)) {
        ok = true;
    } else if (bcrypt_ok(h, pw, u->hash)) {
        cache_put(h, d);
        ok = true;
    }
    explicit_bzero(d, sizeof d);
out:
    explicit_bzero(dec, sizeof dec);
    return ok;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Routing. */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    struct pa_http *h = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    /* every answer is decided on the first call, before any body is read: MHD then discards the body and closes */
    if (h->client_ca && !client_cert_ok(conn))
        return reply_text(conn, MHD_HTTP_FORBIDDEN, "a client certificate signed by the configured CA is required\n");
    bool healthz = strcmp(url, "/healthz") == 0;
    if (h->n_users && !healthz && !auth_ok(h, conn))
        return reply(conn, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8", "unauthorized\n",
                     MHD_HTTP_HEADER_WWW_AUTHENTICATE, REALM);
    enum { R_NONE, R_INDEX, R_METRICS, R_HEALTHZ, R_READY } route = R_NONE;
    if (strcmp(url, "/") == 0)
        route = R_INDEX;
    else if (strcmp(url, "/metrics") == 0)
        route = R_METRICS;
    else if (healthz)
        route = R_HEALTHZ;
    else if (strcmp(url, "/ready") == 0)
        route = R_READY;
    if (route == R_NONE)
        return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "method not allowed\n",
                     MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if ((cl && strcmp(cl, "0") != 0) ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted\n");
    switch (route) {
    case R_INDEX: return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", PAGE_INDEX, NULL, NULL);
    case R_METRICS: return reply_metrics(h, conn);
    case R_HEALTHZ: return reply_text(conn, MHD_HTTP_OK, "ok\n");
    case R_READY:
        if (h->ready && h->ready(h->arg))
            return reply_text(conn, MHD_HTTP_OK, "ready\n");
        return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    case R_NONE: break;
    }
    return MHD_NO;
}

/* Paths are compared as sent: no percent-decoding, so "/metrics%00" or "/%6detrics" is simply another (missing)
 * path rather than an alias of a route. Query strings, which we ignore, are left as they are too. */
static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* MHD's own messages (bad requests, TLS handshake failures): debug level, they are the client's business. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (PA_LOG_DEBUG > pa_log_threshold)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == '\r'))
        msg[--l] = '\0';
    pa_log_write(PA_LOG_DEBUG, "http: %s", msg);
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Start-up: addresses, sockets, TLS material. */

static int bind_addr(const struct sockaddr *sa, socklen_t len, bool dual, int *err)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? &zero : &one, sizeof one);
    if (bind(fd, sa, len) < 0 || listen(fd, BACKLOG) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

/* Bind and listen on one metrics.listen address. Returns the fd, or -1 with a message. */
static int open_listener(const char *addr, bool *v6, int *port, char *err, size_t errlen)
{
    char host[256];
    unsigned p;
    int e = 0, fd = -1;
    if (pa_config_split_listen(addr, strlen(addr), host, sizeof host, &p)) {
        snprintf(err, errlen, "metrics.listen %s: expected host:port, [ipv6]:port or :port", addr);
        return -1;
    }
    if (!host[0]) {
        /* all interfaces: one IPv6 socket that also accepts IPv4, or plain IPv4 where IPv6 is disabled */
        struct sockaddr_in6 s6 = {
            .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT, .sin6_port = htons((uint16_t)p)};
        fd = bind_addr((struct sockaddr *)&s6, sizeof s6, true, &e);
        *v6 = true;
        if (fd < 0 && (e == EAFNOSUPPORT || e == EADDRNOTAVAIL)) {
            struct sockaddr_in s4 = {
                .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = htons((uint16_t)p)};
            fd = bind_addr((struct sockaddr *)&s4, sizeof s4, false, &e);
            *v6 = false;
        }
    } else {
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                        *res = NULL;
        char ps[8];
        snprintf(ps, sizeof ps, "%u", p);
        int g = getaddrinfo(host, ps, &hints, &res);
        if (g) {
            snprintf(err, errlen, "metrics.listen %s: cannot resolve %s: %s", addr, host, gai_strerror(g));
            return -1;
        }
        fd = bind_addr(res->ai_addr, res->ai_addrlen, false, &e);
        *v6 = res->ai_family == AF_INET6;
        freeaddrinfo(res);
    }
    if (fd < 0) {
        snprintf(err, errlen, "metrics.listen %s: %s", addr, strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *port = (int)p;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Read a whole PEM file into a NUL-terminated buffer. */
static int read_pem(const char *key, const char *path, struct pa_buf *b, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: cannot read: %s", key, path, strerror(errno));
        return -1;
    }
    int ret = -1;
    for (;;) {
        pa_buf_reserve(b, 65536);
        ssize_t r = read(fd, b->data + b->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s %s: cannot read: %s", key, path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        b->len += (size_t)r;
        b->data[b->len] = '\0';
        if (b->len > PEM_MAX) {
            snprintf(err, errlen, "%s %s: larger than 1 MiB: not a PEM file", key, path);
            goto out;
        }
    }
    if (!b->data || !strstr(b->data, "-----BEGIN ")) {
        snprintf(err, errlen, "%s %s: not a PEM file (no -----BEGIN line)", key, path);
        goto out;
    }
    ret = 0;
out:
    close(fd);
    return ret;
}

/* Let GnuTLS judge the material first, so a bad file is reported by name with GnuTLS' reason. */
static int check_tls(const struct pa_web_config *w, struct pa_buf *cert, struct pa_buf *key, struct pa_buf *ca,
                     char *err, size_t errlen)
{
    gnutls_certificate_credentials_t cr;
    if (gnutls_certificate_allocate_credentials(&cr) < 0) {
        snprintf(err, errlen, "metrics.tls: cannot initialize GnuTLS");
        return -1;
    }
    int ret = -1;
    gnutls_datum_t c = {(unsigned char *)cert->data, (unsigned)cert->len};
    gnutls_datum_t k = {(unsigned char *)key->data, (unsigned)key->len};
    int r = gnutls_certificate_set_x509_key_mem2(cr, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (r < 0) {
        snprintf(err, errlen, "metrics.tls.cert_file %s / key_file %s: %s", w->tls_cert_file, w->tls_key_file,
                 gnutls_strerror(r));
        goto out;
    }
    if (ca->data) {
        gnutls_datum_t a = {(unsigned char *)ca->data, (unsigned)ca->len};
        r = gnutls_certificate_set_x509_trust_mem(cr, &a, GNUTLS_X509_FMT_PEM);
        if (r <= 0) {
            snprintf(err, errlen, "metrics.tls.client_ca_file %s: %s", w->tls_client_ca_file,
                     r < 0 ? gnutls_strerror(r) : "no certificate found");
            goto out;
        }
    }
    ret = 0;
out:
    gnutls_certificate_free_credentials(cr);
    return ret;
}

struct pa_http *pa_http_start(const struct pa_web_config *web, struct pa_metrics *m, pa_http_ready_fn ready, void *arg,
                              char *err, size_t errlen)
{
    struct pa_buf cert, key, ca;
    pa_buf_init(&cert);
    pa_buf_init(&key);
    pa_buf_init(&ca);
    struct pa_http *h = pa_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->m = m;
    h->ready = ready;
    h->arg = arg;
    bool failed = true;
    if (err && errlen)
        err[0] = '\0';
    if (!web->n_listen) {
        snprintf(err, errlen, "metrics.listen: no address to listen on");
        goto out;
    }
    if (!web->tls_cert_file != !web->tls_key_file || (web->tls_client_ca_file && !web->tls_cert_file)) {
        /* the config refuses this; a caller building its own struct gets the same answer, never silent plain HTTP */
        snprintf(err, errlen, "metrics.tls: cert_file and key_file go together, and client_ca_file needs both");
        goto out;
    }
    if (web->tls_cert_file) {
        if (read_pem("metrics.tls.cert_file", web->tls_cert_file, &cert, err, errlen) ||
            read_pem("metrics.tls.key_file", web->tls_key_file, &key, err, errlen) ||
            (web->tls_client_ca_file &&
             read_pem("metrics.tls.client_ca_file", web->tls_client_ca_file, &ca, err, errlen)) ||
            check_tls(web, &cert, &key, &ca, err, errlen))
            goto out;
        h->tls = true;
        h->client_ca = web->tls_client_ca_file != NULL;
    }
    if (web->n_users) {
        h->users = pa_xcalloc(web->n_users, sizeof *h->users);
        for (size_t i = 0; i < web->n_users; i++) {
            h->users[i].name = pa_xstrdup(web->users[i].name);
            h->users[i].hash = pa_xstrdup(web->users[i].hash);
        }
        h->n_users = web->n_users;
        if (gnutls_rnd(GNUTLS_RND_KEY, h->cache_key, sizeof h->cache_key) < 0) {
            snprintf(err, errlen, "metrics.basic_auth_users: no random bytes for the credential cache");
            goto out;
        }
    }
    unsigned long long maxc = web->max_connections > 0 ? (unsigned long long)web->max_connections : 64;
    unsigned timeout = web->connection_timeout >= 1 ? (unsigned)(web->connection_timeout + 0.999) : 10;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL) |
                     (h->tls ? MHD_USE_TLS : 0);
    h->l = pa_xcalloc(web->n_listen, sizeof *h->l);
    for (size_t i = 0; i < web->n_listen; i++) {
        bool v6 = false;
        int port = 0;
        int fd = open_listener(web->listen[i], &v6, &port, err, errlen);
        if (fd < 0)
            goto out;
        struct MHD_OptionItem o[16];
        size_t n = 0;
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)maxc, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                         (intptr_t)(maxc < PER_IP_LIMIT ? maxc : PER_IP_LIMIT), NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)timeout, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)MEMORY_LIMIT, NULL};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)no_unescape, NULL};
        if (h->tls) {
            o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert.data};
            o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key.data};
            if (h->client_ca)
                o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, ca.data};
        }
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
        h->l[i].d = MHD_start_daemon(flags | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, handle, h, MHD_OPTION_ARRAY, o,
                                     MHD_OPTION_END);
        if (!h->l[i].d) {
            int e = errno;
            close(fd);
            snprintf(err, errlen, "metrics.listen %s: the HTTP server did not start%s%s", web->listen[i], e ? ": " : "",
                     e ? strerror(e) : "");
            goto out;
        }
        h->l[i].port = port;
        h->n = i + 1;
        pa_info("metrics endpoint listening on %s (port %d%s%s%s)", web->listen[i], port, h->tls ? ", HTTPS" : "",
                h->client_ca ? ", client certificates required" : "", h->n_users ? ", basic auth" : "");
    }
    failed = false;
out:
    /* GnuTLS keeps its own parsed copy: our key bytes go now */
    pa_buf_free(&key);
    pa_buf_free(&cert);
    pa_buf_free(&ca);
    if (failed) {
        pa_http_stop(h);
        return NULL;
    }
    return h;
}

unsigned long pa_http_bcrypt_checks(const struct pa_http *h)
{
    return __atomic_load_n(&h->bcrypt_checks, __ATOMIC_RELAXED);
}

int pa_http_port(const struct pa_http *h, size_t i)
{
    return h && i < h->n ? h->l[i].port : -1;
}

void pa_http_stop(struct pa_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        MHD_stop_daemon(h->l[i].d); /* also closes the listening socket */
    free(h->l);
    for (size_t i = 0; i < h->n_users; i++) {
        free(h->users[i].name);
        explicit_bzero(h->users[i].hash, strlen(h->users[i].hash));
        free(h->users[i].hash);
    }
    free(h->users);
    explicit_bzero(h->cache, sizeof h->cache);
    explicit_bzero(h->cache_key, sizeof h->cache_key);
    pthread_mutex_destroy(&h->lock);
    free(h);
}
