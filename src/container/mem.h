/*
 * How the containers allocate: through a borrowed allocator (a loop's options.allocator), or
 * the process-wide one (evl_malloc) when it is NULL, so leak counting and failure injection
 * see every block.
 */
#ifndef EVL_CONTAINER_MEM_H
#define EVL_CONTAINER_MEM_H

#include "evl/alloc.h"

#include <stddef.h>

static inline void *evl__mem_alloc(const struct evl_allocator *a, size_t n)
{
    return a ? a->malloc_fn(a->ud, n) : evl_malloc(n);
}

static inline void *evl__mem_realloc(const struct evl_allocator *a, void *p, size_t n)
{
    return a ? a->realloc_fn(a->ud, p, n) : evl_realloc(p, n);
}

static inline void evl__mem_free(const struct evl_allocator *a, void *p)
{
    if (!p) {
        return;
    }
    if (a) {
        a->free_fn(a->ud, p);
    } else {
        evl_free(p);
    }
}

#endif
