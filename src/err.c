/* err: see err.h. Formatting only: no I/O, no allocation. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

#define LABEL(name, label) [PA_FAIL_##name] = label,
static const char *const reason_names[PA_FAIL_COUNT] = {PA_FAIL_REASONS(LABEL)};
#undef LABEL

const char *pa_fail_reason_name(enum pa_fail_reason r)
{
    return (unsigned)r < PA_FAIL_COUNT ? reason_names[r] : "query";
}

void pa_err_clear(struct pa_err *e)
{
    e->reason = PA_FAIL_NONE;
    e->sqlstate[0] = '\0';
    e->msg[0] = '\0';
}

int pa_err_set(struct pa_err *e, enum pa_fail_reason reason, const char *fmt, ...)
{
    e->reason = reason;
    e->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void pa_err_prefix(struct pa_err *e, const char *prefix)
{
    char m[sizeof e->msg];
    snprintf(m, sizeof m, "%s", e->msg);
    snprintf(e->msg, sizeof e->msg, "%s%s", prefix, m);
}

void pa_err_append(struct pa_err *e, const char *fmt, ...)
{
    size_t n = strnlen(e->msg, sizeof e->msg);
    if (n + 1 >= sizeof e->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
    va_end(ap);
}
