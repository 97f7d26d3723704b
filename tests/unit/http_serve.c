/* http_serve: a test helper for tests/integration/http_endpoint.sh. Loads a configuration file with pa_config_load,
 * starts pa_http_start on its metrics.* settings with a registry holding a few metrics, prints "port N" per listener
 * and runs until SIGTERM/SIGINT. SIGUSR1 toggles readiness (starts not ready). PA_HTTP_LISTEN (comma-separated)
 * replaces metrics.listen, so a test can ask for port 0 (an ephemeral port, which the config file refuses).
 *
 *   http_serve CONFIG            serve; exit 0 on SIGTERM, 1 with the error on stderr when the start fails
 *   http_serve --bcrypt PW COST  print a bcrypt hash of PW (tests need no htpasswd)
 */
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <crypt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_bool ready;

static bool ready_fn(void *arg)
{
    (void)arg;
    return atomic_load(&ready);
}

static int bcrypt_main(const char *pw, const char *cost)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    if (!crypt_gensalt_rn("$2b$", strtoul(cost, NULL, 10), NULL, 0, salt, sizeof salt))
        return 1;
    const char *h = crypt_r(pw, salt, &cd);
    if (!h || h[0] == '*')
        return 1;
    printf("%s\n", h);
    return 0;
}

static void override_listen(struct pa_web_config *w, const char *list)
{
    for (size_t i = 0; i < w->n_listen; i++)
        free(w->listen[i]);
    free(w->listen);
    w->listen = NULL;
    w->n_listen = 0;
    char *copy = pa_xstrdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        w->listen = pa_xrealloc(w->listen, (w->n_listen + 1) * sizeof *w->listen);
        w->listen[w->n_listen++] = pa_xstrdup(t);
    }
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--bcrypt") == 0)
        return bcrypt_main(argv[2], argv[3]);
    if (argc != 2) {
        fprintf(stderr, "usage: http_serve CONFIG | http_serve --bcrypt PASSWORD COST\n");
        return 2;
    }
    pa_log_init(getenv("PA_DEBUG") ? PA_LOG_DEBUG : PA_LOG_INFO);
    /* signals go to sigwait below, not to MHD's threads (they inherit this mask) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    char err[1024];
    struct pa_config *cfg = NULL;
    if (pa_config_load(argv[1], &cfg, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const char *ov = getenv("PA_HTTP_LISTEN");
    if (ov && *ov)
        override_listen(&cfg->web, ov);

    struct pa_metrics *m = pa_metrics_new();
    struct pa_metric *scans = pa_metrics_register(m, "pii_auditd_scans_total", "Scans finished.", PA_METRIC_COUNTER, 0,
                                                  NULL, NULL, 0);
    pa_metric_add(scans, NULL, 2);
    const char *ln[] = {"surface", "category"};
    struct pa_metric *open_f = pa_metrics_register(m, "pii_auditd_open_findings", "Open findings.", PA_METRIC_GAUGE, 2,
                                                   ln, NULL, 0);
    const char *lv1[] = {"public.t.c", "email"}, *lv2[] = {"public.\"q\"\\t.c\nx", "phone"};
    pa_metric_set(open_f, lv1, 12);
    pa_metric_set(open_f, lv2, 1);
    const double buckets[] = {0.1, 1, 10};
    struct pa_metric *dur = pa_metrics_register(m, "pii_auditd_batch_duration_seconds", "Batch duration.",
                                                PA_METRIC_HISTOGRAM, 0, NULL, buckets, 3);
    pa_metric_observe(dur, NULL, 0.05);
    pa_metric_observe(dur, NULL, 3);

    struct pa_http *h = pa_http_start(&cfg->web, m, ready_fn, NULL, err, sizeof err);
    if (!h) {
        fprintf(stderr, "%s\n", err);
        pa_metrics_free(m);
        pa_config_free(cfg);
        return 1;
    }
    for (size_t i = 0; pa_http_port(h, i) >= 0; i++)
        printf("port %d\n", pa_http_port(h, i));
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig))
            continue;
        if (sig == SIGUSR1) {
            atomic_store(&ready, !atomic_load(&ready));
            continue;
        }
        break;
    }
    pa_http_stop(h);
    pa_metrics_free(m);
    pa_config_free(cfg);
    return 0;
}
