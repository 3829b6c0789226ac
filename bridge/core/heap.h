/* heap.h - the one binary min-heap: intrusive, keyed by an int64_t inside each element.
 *
 * The elements are the caller's structs; the heap stores pointers to them and finds their
 * key and their slot index at fixed offsets (offsetof), so a struct keeps its own field names
 * (a timer's due_ms, a job's due_ms) and removal from the middle is O(log n) with no search.
 * Used by the event loop's timers (core/loop.c) and the scheduler's retry timers
 * (outbound/scheduler.c).
 *
 * Ownership: the heap owns only its pointer array (wb_heap_free); elements are never freed
 * by it. Thread: none of its own; the owner's thread (not thread-safe). */
#ifndef WB_HEAP_H
#define WB_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct wb_heap {
    void **v;
    size_t n, cap;
    size_t key_off; /* offset of the int64_t key in an element */
    size_t idx_off; /* offset of the size_t slot index in an element */
    size_t min_cap; /* first allocation */
} wb_heap;

/* An empty heap of elements with their key and index at those offsets (offsetof). The
 * array is allocated on the first push, min_cap slots, doubling after. */
void wb_heap_init(wb_heap *h, size_t key_off, size_t idx_off, size_t min_cap);
/* Free the array (not the elements); the heap is empty and reusable after. */
void wb_heap_free(wb_heap *h);
/* Add e (its key already set). WB_ERR_NOMEM leaves the heap as it was. */
wb_err wb_heap_push(wb_heap *h, void *e);
/* Remove e, which must be in h. */
void wb_heap_remove(wb_heap *h, void *e);
/* e's key was changed in place (e in h): restore the order. */
void wb_heap_fix(wb_heap *h, void *e);

/* The element with the smallest key, or NULL when empty. */
static inline void *wb_heap_top(const wb_heap *h)
{
    return h->n ? h->v[0] : NULL;
}

/* The key of e. */
static inline int64_t wb_heap_key(const wb_heap *h, const void *e)
{
    return *(const int64_t *)((const char *)e + h->key_off);
}

#endif
