/* http_internal: what the tests may ask the HTTP endpoint beyond its interface (http.h). Not for the daemon. */
#ifndef PA_HTTP_INTERNAL_H
#define PA_HTTP_INTERNAL_H

#include "http.h"

/* How many bcrypt computations basic auth has done (unknown users included): what the cache saves. */
unsigned long pa_http_bcrypt_checks(const struct pa_http *h);

#endif
