/* offsets.h - per-partition window of in-flight records and its contiguous terminal prefix.
 *
 * Records enter in offset order (wb_offsets_push) and become terminal in any order
 * (wb_offsets_done). The committable position is offset+1 of the longest prefix of terminal
 * records; gaps in Kafka offsets (compaction, control records) need no special care because
 * the window holds the records themselves, not an offset range.
 *
 * Ownership: the window stores offsets and flags only; it never touches the caller's records.
 * Thread: owned by the outbound loop thread; no locking. */
#ifndef WB_OFFSETS_H
#define WB_OFFSETS_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct wb_offsets {
    int64_t *off;        /* ring of offsets, in arrival order */
    uint8_t *done;       /* ring of terminal flags */
    size_t cap;          /* ring capacity (power of two) */
    size_t head;         /* index of the oldest record */
    size_t count;        /* records in the window */
    int64_t next_commit; /* offset+1 of the terminal prefix; -1 = nothing yet */
} wb_offsets;

void wb_offsets_init(wb_offsets *w);
void wb_offsets_free(wb_offsets *w);

/* Append a record at offset (must be greater than every offset pushed before). Returns
 * offset, -1 when out of order (already tracked), -2 when out of memory. */
int64_t wb_offsets_push(wb_offsets *w, int64_t offset);

/* Mark the record at offset terminal (O(log n)). Returns 1 when the committable position
 * advanced (read it in w->next_commit), 0 otherwise (also for an unknown offset). */
int wb_offsets_done(wb_offsets *w, int64_t offset);

/* Records still in the window (terminal records behind a non-terminal one included). */
static inline size_t wb_offsets_in_flight(const wb_offsets *w)
{
    return w->count;
}

/* Offset of the oldest record not yet terminal, or -1 when none. */
int64_t wb_offsets_oldest(const wb_offsets *w);

#endif
