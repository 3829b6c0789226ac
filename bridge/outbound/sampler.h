/* outbound/sampler.h - cluster facts for the connectors' gauges, sampled on a thread of its
 * own: the log end offset of every partition of the outbound topics, their partition counts
 * (the rate-limit share across replicas) and their retention.ms (the retention headroom gauge;
 * outbound.retention where the brokers do not say, as the embedded mock cluster does not).
 *
 * Thread: new/set_config/start/stop/free on the supervising thread; the queries from any
 * thread (the connectors' gauge timers on the loops), under the sampler's lock. */
#ifndef WB_OUTBOUND_SAMPLER_H
#define WB_OUTBOUND_SAMPLER_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "config/config.h"
#include "core/err.h"

typedef struct wb_sampler wb_sampler;

/* A sampler of cfg's outbound topics through rk (borrowed, outlives the sampler). Nothing
 * runs until wb_sampler_start. NULL when out of memory. */
wb_sampler *wb_sampler_new(rd_kafka_t *rk, const wb_config *cfg);
/* A new configuration generation: its topics and retention fallback (cfg not kept). */
void wb_sampler_set_config(wb_sampler *s, const wb_config *cfg);
wb_err wb_sampler_start(wb_sampler *s);
/* Stop and join the thread (also done by free). */
void wb_sampler_stop(wb_sampler *s);
void wb_sampler_free(wb_sampler *s);

/* Log end offset of topic/partition, -1 unknown. */
int64_t wb_sampler_high_watermark(wb_sampler *s, const char *topic, int32_t partition);
/* Partitions of topic, 0 unknown. */
int wb_sampler_partitions(wb_sampler *s, const char *topic);
/* retention.ms of topic, or the fallback (a topic kept forever: a very large value). */
int64_t wb_sampler_retention_ms(wb_sampler *s, const char *topic);

#endif
