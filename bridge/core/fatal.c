/* fatal.c - the process-wide fatal flag (see fatal.h). */
#include "core/fatal.h"

#include <stdatomic.h>
#include <stdio.h>

#include "core/log.h"
#include "core/metrics.h"

static atomic_int raised;
static atomic_int claimed; /* the first raiser writes the reason, then sets raised */
static char first_reason[512];

void wb_fatal_raise(const char *who, const char *reason)
{
    wb_counter_inc(wb_metrics_counter("webhook_bridge_fatal_errors_total",
                                      "Fatal client errors (the process drains and exits non-zero)",
                                      ""));
    WB_ERROR("fatal: %s: %s; draining and exiting", who, reason);
    if (atomic_exchange(&claimed, 1)) return;
    snprintf(first_reason, sizeof(first_reason), "%s: %s", who, reason);
    atomic_store(&raised, 1);
}

int wb_fatal_raised(void)
{
    return atomic_load(&raised);
}

const char *wb_fatal_reason(void)
{
    return atomic_load(&raised) ? first_reason : "";
}

void wb_fatal_reset(void)
{
    atomic_store(&raised, 0);
    atomic_store(&claimed, 0);
    first_reason[0] = 0;
}
