/* outbound/retry.c - the retry schedule with jitter (see retry.h). */
#include "outbound/retry.h"

#include <openssl/rand.h>

#include "core/util.h"

int64_t wb_retry_backoff_ms(const wb_connector *cc, int attempts)
{
    if (cc->nretry == 0) return 1000;
    size_t i = attempts > 0 ? (size_t)(attempts - 1) : 0;
    if (i >= cc->nretry) i = cc->nretry - 1;
    int64_t base = cc->retry_schedule_ms[i];
    if (base <= 0) return 0;
    return wb_retry_jitter_ms(base, base / 5);
}

int64_t wb_retry_jitter_ms(int64_t center, int64_t span)
{
    if (span <= 0) return center;
    uint64_t rnd = 0;
    if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
        rnd = (uint64_t)wb_now_us() * 0x9e3779b97f4a7c15ULL; /* no entropy: still per process */
    return center - span + (int64_t)(rnd % (uint64_t)(2 * span + 1));
}
