/* http: the /metrics endpoint (libmicrohttpd, internal polling thread with epoll): GET /metrics, /healthz, /ready,
 * / (a small HTML page); other paths 404, other methods 405; connection limit, per-connection timeout, bounded
 * request size; optional TLS (with optional client certificate verification) and HTTP basic auth checked against
 * bcrypt hashes (like Prometheus' exporter-toolkit web config). A request never runs a query or a scan: it renders
 * the registry's last state. Never logs credentials. */
#ifndef PA_HTTP_H
#define PA_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "metrics.h"

struct pa_http;

/* Returns true when the daemon is ready (config loaded and database reachable): /ready answers 200, else 503.
 * Called from the HTTP thread: must be cheap and thread-safe (read an atomic). */
typedef bool (*pa_http_ready_fn)(void *arg);

/* Start listening on every address of web->listen ("127.0.0.1:10187", "[::1]:10187", ":10187" = all IPv4+IPv6).
 * Returns NULL with a message naming the address and the reason (e.g. "address already in use") on failure. */
struct pa_http *pa_http_start(const struct pa_web_config *web, struct pa_metrics *m, pa_http_ready_fn ready, void *arg,
                              char *err, size_t errlen);
void pa_http_stop(struct pa_http *h);

/* The port listener i (in web->listen order) is bound to, or -1. Port 0 in an address (accepted here, though the
 * config requires 1..65535) binds an ephemeral port: tests read it back with this. */
int pa_http_port(const struct pa_http *h, size_t i);

#endif
