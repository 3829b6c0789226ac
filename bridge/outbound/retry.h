/* outbound/retry.h - when a failed delivery is tried again.
 *
 * The connector's retry schedule (delays before attempt 2, 3, ...; the last one repeats for
 * on_exhausted: block) with +-20% jitter. The jitter comes from OpenSSL's RNG, never from a
 * process-local PRNG: replicas that failed together (a partner outage) must not retry in
 * lockstep, and an unseeded random() gives every process the same sequence.
 *
 * Thread: pure but for the RNG (thread-safe); any thread. */
#ifndef WB_OUTBOUND_RETRY_H
#define WB_OUTBOUND_RETRY_H

#include <stdint.h>
#include "config/config.h"

/* Delay in ms before the next attempt after `attempts` failed ones (>= 1). */
int64_t wb_retry_backoff_ms(const wb_connector *cc, int attempts);

/* center +- span ms, uniformly (span <= 0: center). The one jitter of the outbound side:
 * delivery retries and dead-letter write retries. */
int64_t wb_retry_jitter_ms(int64_t center, int64_t span);

#endif
