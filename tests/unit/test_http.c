/* Unit tests for http: real HTTP over loopback sockets (no client library): routes, methods, bodies, headers too
 * large, readiness, basic auth (and its cache), start-up errors naming the address, several listeners, connection
 * floods, and no leaked descriptors. TLS is driven by tests/integration/http_endpoint.sh with curl and openssl. */
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <check.h>
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "testutil.h"

static atomic_bool is_ready;

static bool ready_fn(void *arg)
{
    (void)arg;
    return atomic_load(&is_ready);
}

static int connect_to(int family, int port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int r;
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        a.sin6_addr = in6addr_loopback;
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    ck_assert_msg(r == 0, "connect to port %d: %s", port, strerror(errno));
    return fd;
}

/* Send a raw request, read the whole answer (the request asks to close). Returns the status (0: none) and the
 * response in *resp (caller frees). */
static int raw(int family, int port, const char *req, size_t reqlen, char **resp)
{
    int fd = connect_to(family, port);
    size_t off = 0;
    while (off < reqlen) {
        ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early (too large): read what it said */
        off += (size_t)w;
    }
    struct pa_buf b;
    pa_buf_init(&b);
    char chunk[4096];
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        pa_buf_append(&b, chunk, (size_t)r);
    }
    close(fd);
    pa_buf_appends(&b, "");
    int status = 0;
    sscanf(b.data, "HTTP/1.%*d %d", &status);
    if (resp)
        *resp = b.data;
    else
        free(b.data);
    return status;
}

static int req(int port, const char *method, const char *path, const char *extra, char **resp)
{
    char *r = pa_xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n", method, path,
                           extra ? extra : "");
    int s = raw(AF_INET, port, r, strlen(r), resp);
    free(r);
    return s;
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

/* A header's value in a response (case-insensitive name), or NULL. Returns a static copy. */
static const char *header(const char *resp, const char *name)
{
    static char v[512];
    size_t nl = strlen(name);
    const char *end = strstr(resp, "\r\n\r\n");
    for (const char *p = strstr(resp, "\r\n"); p && (!end || p < end); p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *s = p + 3 + nl;
            while (*s == ' ')
                s++;
            size_t l = strcspn(s, "\r");
            snprintf(v, sizeof v, "%.*s", (int)l, s);
            return v;
        }
    }
    return NULL;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* The server closes finished connections on its own thread, a little after the client saw the response: wait
 * until the count stops changing (up to 2 s) so a comparison measures leaks, not that race. */
static int settled_fds(void)
{
    int last = count_fds();
    for (int i = 0; i < 100; i++) {
        usleep(20000);
        int now = count_fds();
        if (now == last && i >= 4)
            return now;
        last = now;
    }
    return last;
}

static struct pa_metrics *test_registry(void)
{
    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *c = pa_metrics_register(m, "pa_test_scans_total", "Scans.", PA_METRIC_COUNTER, 0, NULL, NULL, 0);
    pa_metric_add(c, NULL, 3);
    const char *ln[] = {"surface"};
    struct pa_metric *g = pa_metrics_register(m, "pa_test_open_findings", "Open findings.", PA_METRIC_GAUGE, 1, ln,
                                              NULL, 0);
    const char *lv[] = {"public.t.c"};
    pa_metric_set(g, lv, 7);
    return m;
}

static char *listen_any[] = {"127.0.0.1:0"};

static struct pa_web_config web_default(void)
{
    struct pa_web_config w = {.listen = listen_any, .n_listen = 1, .max_connections = 64, .connection_timeout = 10};
    return w;
}

static char errbuf[512];

static struct pa_http *start(const struct pa_web_config *w, struct pa_metrics *m)
{
    errbuf[0] = '\0';
    struct pa_http *h = pa_http_start(w, m, ready_fn, NULL, errbuf, sizeof errbuf);
    ck_assert_msg(h != NULL, "pa_http_start: %s", errbuf);
    ck_assert_int_gt(pa_http_port(h, 0), 0);
    return h;
}

/* ------------------------------------------------------------------------------------------------------------- */

START_TEST(test_routes)
{
    struct pa_metrics *m = test_registry();
    struct pa_web_config w = web_default();
    struct pa_http *h = start(&w, m);
    int port = pa_http_port(h, 0);
    ck_assert_int_eq(pa_http_port(h, 1), -1);
    char *r;

    ck_assert_int_eq(req(port, "GET", "/metrics", NULL, &r), 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    /* every answer, /metrics included, carries the same protective headers */
    ck_assert_str_eq(header(r, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(header(r, "Cache-Control"), "no-store");
    ck_assert_ptr_nonnull(strstr(body_of(r), "# TYPE pa_test_scans_total counter\npa_test_scans_total 3\n"));
    ck_assert_ptr_nonnull(strstr(body_of(r), "pa_test_open_findings{surface=\"public.t.c\"} 7\n"));
    free(r);
    /* a query string is ignored; HEAD has the headers and no body */
    ck_assert_int_eq(req(port, "GET", "/metrics?name[]=x&debug=1", NULL, NULL), 200);
    ck_assert_int_eq(req(port, "HEAD", "/metrics", NULL, &r), 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    ck_assert_str_eq(body_of(r), "");
    free(r);

    ck_assert_int_eq(req(port, "GET", "/healthz", NULL, &r), 200);
    ck_assert_str_eq(body_of(r), "ok\n");
    ck_assert_str_eq(header(r, "X-Content-Type-Options"), "nosniff");
    ck_assert_str_eq(header(r, "Cache-Control"), "no-store");
    free(r);
    atomic_store(&is_ready, false);
    ck_assert_int_eq(req(port, "GET", "/ready", NULL, &r), 503);
    ck_assert_str_eq(body_of(r), "not ready\n");
    free(r);
    atomic_store(&is_ready, true);
    ck_assert_int_eq(req(port, "GET", "/ready", NULL, &r), 200);
    ck_assert_str_eq(body_of(r), "ready\n");
    free(r);
    ck_assert_int_eq(req(port, "GET", "/", NULL, &r), 200);
    ck_assert_str_eq(header(r, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(body_of(r), "<a href=\"/metrics\">"));
    ck_assert_ptr_nonnull(strstr(body_of(r), "<a href=\"/healthz\">"));
    ck_assert_ptr_nonnull(strstr(body_of(r), "<a href=\"/ready\">"));
    free(r);

    /* exact paths only: nothing else exists, nothing is read from disk */
    static const char *const missing[] = {"/metrics/",
                                          "/metric",
                                          "/METRICS",
                                          "//metrics",
                                          "/../etc/passwd",
                                          "/%2e%2e/%2e%2e/etc/passwd",
                                          "/metrics%00",
                                          "/%6detrics",
                                          "/index.html",
                                          "/healthz/x",
                                          "*"};
    for (size_t i = 0; i < PA_ARRAY_LEN(missing); i++) {
        int s = req(port, "GET", missing[i], NULL, &r);
        ck_assert_msg(s == 404 || s == 400, "%s: %d", missing[i], s);
        ck_assert_ptr_null(strstr(r, "root:"));
        free(r);
    }

    /* other methods on known paths: 405 with Allow; unknown paths stay 404 */
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"};
    for (size_t i = 0; i < PA_ARRAY_LEN(methods); i++) {
        ck_assert_int_eq(req(port, methods[i], "/metrics", NULL, &r), 405);
        ck_assert_str_eq(header(r, "Allow"), "GET, HEAD");
        free(r);
    }
    ck_assert_int_eq(req(port, "POST", "/healthz", "Content-Length: 0\r\n", NULL), 405);
    ck_assert_int_eq(req(port, "POST", "/nothing", NULL, NULL), 404);

    /* bodies are refused */
    const char *post = "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";
    ck_assert_int_eq(raw(AF_INET, port, post, strlen(post), NULL), 405);
    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";
    ck_assert_int_eq(raw(AF_INET, port, get, strlen(get), NULL), 413);
    const char *chunked = "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n0\r\n\r\n";
    ck_assert_int_eq(raw(AF_INET, port, chunked, strlen(chunked), NULL), 413);
    /* HTTP/1.0 without Host works */
    const char *old = "GET /healthz HTTP/1.0\r\n\r\n";
    ck_assert_int_eq(raw(AF_INET, port, old, strlen(old), NULL), 200);
    /* garbage gets an error, not a crash */
    const char *junk = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
    int s = raw(AF_INET, port, junk, strlen(junk), NULL);
    ck_assert_msg(s == 0 || s == 400, "junk: %d", s);
    ck_assert_int_eq(req(port, "GET", "/healthz", NULL, NULL), 200);

    pa_http_stop(h);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_limits)
{
    struct pa_metrics *m = test_registry();
    struct pa_web_config w = web_default();
    w.max_connections = 32;
    w.connection_timeout = 2;
    struct pa_http *h = start(&w, m);
    int port = pa_http_port(h, 0);
    char *r;

    /* a 64 KB header: an error status or a closed connection, and the server stays up */
    size_t big = 64 * 1024;
    char *hv = pa_xmalloc(big + 1);
    memset(hv, 'a', big);
    hv[big] = '\0';
    char *extra = pa_xasprintf("X-Big: %s\r\n", hv);
    int s = req(port, "GET", "/metrics", extra, &r);
    ck_assert_msg(s == 0 || s == 413 || s == 431 || s == 400, "64 KB header: %d", s);
    ck_assert_ptr_null(strstr(r, "pa_test_scans_total"));
    free(r);
    free(extra);
    /* a long URL too */
    char *url = pa_xasprintf("/metrics?%s", hv);
    s = req(port, "GET", url, NULL, NULL);
    ck_assert_msg(s == 0 || s == 413 || s == 414 || s == 431 || s == 400, "64 KB URL: %d", s);
    free(url);
    free(hv);
    ck_assert_int_eq(req(port, "GET", "/metrics", NULL, NULL), 200);

    /* a flood of 200 idle connections: past the limits they are refused; once gone, /metrics answers */
    int fds[200];
    for (int i = 0; i < 200; i++)
        fds[i] = connect_to(AF_INET, port);
    for (int i = 0; i < 200; i++)
        close(fds[i]);
    usleep(200 * 1000);
    ck_assert_int_eq(req(port, "GET", "/metrics", NULL, NULL), 200);

    /* a slow client that never finishes its request is dropped after connection_timeout */
    int fd = connect_to(AF_INET, port);
    ck_assert_int_eq(send(fd, "GET /metr", 9, MSG_NOSIGNAL), 9);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    double t0 = pa_now_monotonic();
    ck_assert_int_eq(poll(&p, 1, 8000), 1);
    char c;
    ck_assert_int_le(recv(fd, &c, 1, 0), 0);
    double took = pa_now_monotonic() - t0;
    ck_assert_msg(took >= 1 && took < 7, "slow client dropped after %.1fs", took);
    close(fd);

    pa_http_stop(h);
    pa_metrics_free(m);
}
END_TEST

static char *bcrypt_hash(const char *pw, unsigned long cost)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    ck_assert_ptr_nonnull(crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof salt));
    struct crypt_data *cd = calloc(1, sizeof *cd);
    char *h = strdup(crypt_r(pw, salt, cd));
    free(cd);
    ck_assert_uint_eq(strlen(h), 60);
    return h;
}

static int get_auth(int port, const char *path, const char *userpass)
{
    char extra[512] = "";
    if (userpass) {
        /* base64 by hand: the test must not trust the decoder under test */
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *s = (const unsigned char *)userpass;
        size_t n = strlen(userpass), o = 0;
        char b[400];
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
            b[o++] = t[v >> 18 & 63];
            b[o++] = t[v >> 12 & 63];
            b[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
            b[o++] = i + 2 < n ? t[v & 63] : '=';
        }
        b[o] = '\0';
        snprintf(extra, sizeof extra, "Authorization: Basic %s\r\n", b);
    }
    return req(port, "GET", path, extra, NULL);
}

START_TEST(test_basic_auth)
{
    struct pa_metrics *m = test_registry();
    struct pa_web_config w = web_default();
    char *h1 = bcrypt_hash("s3cret", 4), *h2 = bcrypt_hash("pa:ss word", 4);
    struct pa_web_user users[] = {{"prometheus", h1}, {"other user", h2}};
    w.users = users;
    w.n_users = 2;
    struct pa_http *h = start(&w, m);
    int port = pa_http_port(h, 0);
    char *r;

    ck_assert_int_eq(req(port, "GET", "/metrics", NULL, &r), 401);
    ck_assert_str_eq(header(r, "WWW-Authenticate"), "Basic realm=\"pii-auditd\"");
    ck_assert_ptr_null(strstr(r, "pa_test"));
    free(r);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:s3cret"), 200);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:s3cre"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:s3cret "), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "Prometheus:s3cret"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "nobody:s3cret"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", ":"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "other user:s3cret"), 401);
    /* a password may hold colons and spaces: only the first colon separates */
    ck_assert_int_eq(get_auth(port, "/metrics", "other user:pa:ss word"), 200);
    /* cached now: the same answer again, a different password is still checked */
    ck_assert_int_eq(get_auth(port, "/metrics", "other user:pa:ss word"), 200);
    ck_assert_int_eq(get_auth(port, "/metrics", "other user:pa:ss wor"), 401);
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:pa:ss word"), 401);
    /* every path but /healthz */
    ck_assert_int_eq(req(port, "GET", "/", NULL, NULL), 401);
    ck_assert_int_eq(req(port, "GET", "/ready", NULL, NULL), 401);
    ck_assert_int_eq(req(port, "GET", "/nothing", NULL, NULL), 401);
    ck_assert_int_eq(req(port, "POST", "/metrics", NULL, NULL), 401);
    ck_assert_int_eq(req(port, "GET", "/healthz", NULL, NULL), 200);
    atomic_store(&is_ready, true);
    ck_assert_int_eq(get_auth(port, "/ready", "prometheus:s3cret"), 200);
    /* malformed headers */
    static const char *const bad[] = {"Authorization: Basic\r\n", "Authorization: Basic !!!!\r\n",
                                      "Authorization: Bearer cHJvbWV0aGV1czpzM2NyZXQ=\r\n",
                                      "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=x\r\n",
                                      "Authorization: Basic cHJvbWV0aGV1cwBzM2NyZXQ=\r\n"};
    for (size_t i = 0; i < PA_ARRAY_LEN(bad); i++)
        ck_assert_int_eq(req(port, "GET", "/metrics", bad[i], NULL), 401);
    ck_assert_int_eq(req(port, "GET", "/metrics", "authorization: basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n", NULL), 200);
    /* a 1 KB+ credential is refused, not overflowed */
    char longpw[3000];
    memset(longpw, 'A', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    char *hdr = pa_xasprintf("Authorization: Basic %s\r\n", longpw);
    ck_assert_int_eq(req(port, "GET", "/metrics", hdr, NULL), 401);
    free(hdr);
    pa_http_stop(h);
    free(h1);
    free(h2);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_auth_cache)
{
    /* cost 10 (~70 ms): without the cache 20 scrapes cost 20 checks */
    struct pa_metrics *m = test_registry();
    struct pa_web_config w = web_default();
    char *h1 = bcrypt_hash("s3cret", 10);
    struct pa_web_user users[] = {{"prometheus", h1}};
    w.users = users;
    w.n_users = 1;
    struct pa_http *h = start(&w, m);
    int port = pa_http_port(h, 0);
    /* counted, not timed: the machine's load must not decide this test */
    ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:s3cret"), 200);
    ck_assert_uint_eq(pa_http_bcrypt_checks(h), 1);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:s3cret"), 200);
    ck_assert_uint_eq(pa_http_bcrypt_checks(h), 1); /* 20 scrapes answered from the cache */
    /* failures are never cached, and an unknown user costs a bcrypt too (no timing oracle for user names) */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(get_auth(port, "/metrics", "prometheus:wrong"), 401);
    ck_assert_uint_eq(pa_http_bcrypt_checks(h), 4);
    ck_assert_int_eq(get_auth(port, "/metrics", "nobody:s3cret"), 401);
    ck_assert_uint_eq(pa_http_bcrypt_checks(h), 5);
    pa_http_stop(h);
    free(h1);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_listeners)
{
    struct pa_metrics *m = test_registry();
    int fds0 = count_fds();
    /* IPv4, IPv6 loopback (when the host has it), and all interfaces dual-stack */
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    bool v6 = probe >= 0;
    if (probe >= 0) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6};
        a.sin6_addr = in6addr_loopback;
        v6 = bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
        close(probe);
    }
    char *addrs[] = {"127.0.0.1:0", ":0", "[::1]:0"};
    struct pa_web_config w = web_default();
    w.listen = addrs;
    w.n_listen = v6 ? 3 : 2;
    struct pa_http *h = start(&w, m);
    int p0 = pa_http_port(h, 0), p1 = pa_http_port(h, 1);
    ck_assert_int_ne(p0, p1);
    ck_assert_int_eq(req(p0, "GET", "/healthz", NULL, NULL), 200);
    ck_assert_int_eq(req(p1, "GET", "/healthz", NULL, NULL), 200); /* IPv4 to the dual-stack socket */
    if (v6) {
        const char *q = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        ck_assert_int_eq(raw(AF_INET6, p1, q, strlen(q), NULL), 200);
        ck_assert_int_eq(raw(AF_INET6, pa_http_port(h, 2), q, strlen(q), NULL), 200);
    } else {
        fprintf(stderr, "test_listeners: no IPv6 loopback here: IPv6 checks skipped\n");
    }

    /* the same port again: the error names the address and the reason; nothing is left open */
    char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%d", p0);
    char *again[] = {"127.0.0.1:0", a};
    struct pa_web_config w2 = web_default();
    w2.listen = again;
    w2.n_listen = 2;
    int fds1 = settled_fds();
    ck_assert_ptr_null(pa_http_start(&w2, m, ready_fn, NULL, errbuf, sizeof errbuf));
    char want[128];
    snprintf(want, sizeof want, "metrics.listen 127.0.0.1:%d: Address already in use", p0);
    ck_assert_str_eq(errbuf, want);
    ck_assert_int_eq(settled_fds(), fds1);
    pa_http_stop(h);
    ck_assert_int_eq(settled_fds(), fds0);

    char *unresolvable[] = {"no-such-host.invalid:10187"};
    w2.listen = unresolvable;
    w2.n_listen = 1;
    ck_assert_ptr_null(pa_http_start(&w2, m, ready_fn, NULL, errbuf, sizeof errbuf));
    ck_assert_msg(
        strncmp(errbuf, "metrics.listen no-such-host.invalid:10187: cannot resolve no-such-host.invalid: ", 80) == 0,
        "%s", errbuf);
    char *foreign[] = {"192.0.2.1:10187"}; /* TEST-NET-1: not ours */
    w2.listen = foreign;
    ck_assert_ptr_null(pa_http_start(&w2, m, ready_fn, NULL, errbuf, sizeof errbuf));
    ck_assert_str_eq(errbuf, "metrics.listen 192.0.2.1:10187: Cannot assign requested address");
    w2.n_listen = 0;
    ck_assert_ptr_null(pa_http_start(&w2, m, ready_fn, NULL, errbuf, sizeof errbuf));
    ck_assert_str_eq(errbuf, "metrics.listen: no address to listen on");
    ck_assert_int_eq(settled_fds(), fds0);
    pa_http_stop(NULL);
    pa_metrics_free(m);
}
END_TEST

START_TEST(test_tls_files)
{
    struct pa_metrics *m = test_registry();
    int fds0 = count_fds();
    struct pa_web_config w = web_default();
    w.tls_cert_file = "/nonexistent/server.crt";
    w.tls_key_file = "/nonexistent/server.key";
    ck_assert_ptr_null(pa_http_start(&w, m, ready_fn, NULL, errbuf, sizeof errbuf));
    ck_assert_str_eq(errbuf, "metrics.tls.cert_file /nonexistent/server.crt: cannot read: No such file or directory");

    char path[] = "/tmp/test_http_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "hello\n", 6), 6);
    close(fd);
    w.tls_cert_file = path;
    ck_assert_ptr_null(pa_http_start(&w, m, ready_fn, NULL, errbuf, sizeof errbuf));
    char want[256];
    snprintf(want, sizeof want, "metrics.tls.cert_file %s: not a PEM file (no -----BEGIN line)", path);
    ck_assert_str_eq(errbuf, want);

    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 59), 59);
    close(fd);
    w.tls_key_file = path;
    ck_assert_ptr_null(pa_http_start(&w, m, ready_fn, NULL, errbuf, sizeof errbuf));
    snprintf(want, sizeof want, "metrics.tls.cert_file %s / key_file %s: ", path, path);
    ck_assert_msg(strncmp(errbuf, want, strlen(want)) == 0, "%s", errbuf);
    ck_assert_ptr_null(strstr(errbuf, "AAAA"));
    unlink(path);
    ck_assert_int_eq(count_fds(), fds0);
    pa_metrics_free(m);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_routes);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_basic_auth);
    tcase_add_test(tc, test_auth_cache);
    tcase_add_test(tc, test_listeners);
    tcase_add_test(tc, test_tls_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return pa_test_run(http_suite());
}
