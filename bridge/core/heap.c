/* heap.c - binary min-heap on an int64_t key at a fixed offset (see heap.h). */
#include "core/heap.h"

#include <stdlib.h>

static size_t *idx_of(const wb_heap *h, void *e)
{
    return (size_t *)((char *)e + h->idx_off);
}

static void put(wb_heap *h, size_t i, void *e)
{
    h->v[i] = e;
    *idx_of(h, e) = i;
}

static void up(wb_heap *h, size_t i)
{
    void *e = h->v[i];
    int64_t k = wb_heap_key(h, e);
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (wb_heap_key(h, h->v[parent]) <= k) break;
        put(h, i, h->v[parent]);
        i = parent;
    }
    put(h, i, e);
}

static void down(wb_heap *h, size_t i)
{
    void *e = h->v[i];
    int64_t k = wb_heap_key(h, e);
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && wb_heap_key(h, h->v[c + 1]) < wb_heap_key(h, h->v[c])) c++;
        if (wb_heap_key(h, h->v[c]) >= k) break;
        put(h, i, h->v[c]);
        i = c;
    }
    put(h, i, e);
}

void wb_heap_init(wb_heap *h, size_t key_off, size_t idx_off, size_t min_cap)
{
    h->v = NULL;
    h->n = h->cap = 0;
    h->key_off = key_off;
    h->idx_off = idx_off;
    h->min_cap = min_cap ? min_cap : 16;
}

void wb_heap_free(wb_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

wb_err wb_heap_push(wb_heap *h, void *e)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : h->min_cap;
        void **v = realloc(h->v, cap * sizeof(*v));
        if (!v) return WB_ERR_NOMEM;
        h->v = v;
        h->cap = cap;
    }
    put(h, h->n++, e);
    up(h, h->n - 1);
    return WB_OK;
}

void wb_heap_remove(wb_heap *h, void *e)
{
    size_t i = *idx_of(h, e);
    void *last = h->v[--h->n];
    if (last == e) return;
    put(h, i, last);
    /* the moved element may belong above or below its new slot */
    wb_heap_fix(h, last);
}

void wb_heap_fix(wb_heap *h, void *e)
{
    size_t i = *idx_of(h, e);
    if (i > 0 && wb_heap_key(h, h->v[(i - 1) / 2]) > wb_heap_key(h, e))
        up(h, i);
    else
        down(h, i);
}
