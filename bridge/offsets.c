/* offsets.c - ring buffer of in-flight records per partition.
 *
 * Slot ids are the Kafka offsets themselves: unique and increasing within a partition, so a
 * binary search over the ring finds a record without any side table. */
#include "offsets.h"

#include <stdlib.h>
#include <string.h>

void wb_offsets_init(wb_offsets *w)
{
    memset(w, 0, sizeof(*w));
    w->next_commit = -1;
}

void wb_offsets_free(wb_offsets *w)
{
    free(w->off);
    free(w->done);
    memset(w, 0, sizeof(*w));
    w->next_commit = -1;
}

/* Grow the ring to twice its size, keeping order; the head moves to index 0. */
static int grow(wb_offsets *w)
{
    size_t ncap = w->cap ? w->cap * 2 : 64;
    int64_t *noff = malloc(ncap * sizeof(*noff));
    uint8_t *ndone = malloc(ncap);
    if (!noff || !ndone) {
        free(noff);
        free(ndone);
        return -1;
    }
    for (size_t i = 0; i < w->count; i++) {
        size_t j = (w->head + i) & (w->cap - 1);
        noff[i] = w->off[j];
        ndone[i] = w->done[j];
    }
    free(w->off);
    free(w->done);
    w->off = noff;
    w->done = ndone;
    w->cap = ncap;
    w->head = 0;
    return 0;
}

int64_t wb_offsets_push(wb_offsets *w, int64_t offset)
{
    if (w->count > 0) {
        size_t last = (w->head + w->count - 1) & (w->cap - 1);
        if (offset <= w->off[last]) return -1;
    }
    if (w->count == w->cap && grow(w)) return -2;
    size_t idx = (w->head + w->count) & (w->cap - 1);
    w->off[idx] = offset;
    w->done[idx] = 0;
    w->count++;
    return offset;
}

/* Binary search of offset in the window (offsets increase along the ring). */
static long find(const wb_offsets *w, int64_t offset)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = w->off[(w->head + mid) & (w->cap - 1)];
        if (v == offset) return (long)mid;
        if (v < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int wb_offsets_done(wb_offsets *w, int64_t slot)
{
    long i = find(w, slot);
    if (i < 0) return 0;
    w->done[(w->head + (size_t)i) & (w->cap - 1)] = 1;
    if (i != 0) return 0;
    /* The head became terminal: pop the terminal prefix. */
    while (w->count > 0 && w->done[w->head]) {
        w->next_commit = w->off[w->head] + 1;
        w->head = (w->head + 1) & (w->cap - 1);
        w->count--;
    }
    return 1;
}

int64_t wb_offsets_oldest(const wb_offsets *w)
{
    for (size_t i = 0; i < w->count; i++) {
        size_t j = (w->head + i) & (w->cap - 1);
        if (!w->done[j]) return w->off[j];
    }
    return -1;
}
