/* metrics.h - Prometheus metrics: counters, gauges and histograms, text exposition.
 *
 * Metrics are registered once (at start-up or when a connector/partition first appears)
 * and the returned handle is updated on the hot path with lock-free atomics: no lookup, no
 * allocation per event. A metric family is (name, help, type); each handle is one labelled
 * series inside it. labels is the inside of the braces, already escaped, e.g.
 * "connector=\"acme\",outcome=\"delivered\"" (or "" for none). Registering the same family
 * and labels twice returns the same handle. Label sets must stay bounded: never a key or id.
 *
 * Ownership: handles live until wb_metrics_reset() (tests) or process exit.
 * Thread: every function is safe from any thread. */
#ifndef WB_METRICS_H
#define WB_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"

typedef struct wb_counter wb_counter;
typedef struct wb_gauge wb_gauge;
typedef struct wb_histogram wb_histogram;

wb_counter *wb_metrics_counter(const char *name, const char *help, const char *labels);
wb_gauge *wb_metrics_gauge(const char *name, const char *help, const char *labels);
/* buckets: upper bounds in seconds, ascending; NULL = default latency buckets
 * (.001 .0025 .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10). */
wb_histogram *wb_metrics_histogram(const char *name, const char *help, const char *labels,
                                   const double *buckets, size_t nbuckets);

void wb_counter_add(wb_counter *c, uint64_t n);
static inline void wb_counter_inc(wb_counter *c)
{
    wb_counter_add(c, 1);
}
void wb_gauge_set(wb_gauge *g, double v);
void wb_gauge_add(wb_gauge *g, double delta);
void wb_histogram_observe(wb_histogram *h, double seconds);

/* Read back (tests, /readyz logic). */
uint64_t wb_counter_value(const wb_counter *c);
double wb_gauge_value(const wb_gauge *g);

/* Append the whole registry in the Prometheus text format 0.0.4 to out. */
int wb_metrics_render(wb_buf *out);

/* Append value to out with the label-value escapes (\\ \" \n), for building the labels
 * argument from user-supplied text such as a connector name. Added by the ops branch. */
wb_err wb_metrics_escape_label(wb_buf *out, const char *value);

/* Forget every metric (tests only; no handle may be used afterwards). */
void wb_metrics_reset(void);

#endif
