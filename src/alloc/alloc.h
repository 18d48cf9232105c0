/*
 * The allocation seam. Every block libevl allocates goes through the process-wide allocator
 * (evl_malloc ..., alloc.c: tracking and failure injection for tests) or a loop's own
 * options.allocator; struct evl__alloc is that choice, kept by each loop.
 */
#ifndef EVL_ALLOC_ALLOC_H
#define EVL_ALLOC_ALLOC_H

#include "evl/alloc.h"

#include <stddef.h>

struct evl_loop;

/* A loop's allocator: its options.allocator, or (custom == 0) the process-wide one, looked
 * up at every call so that evl_set_allocator and tracking apply to running loops too. */
struct evl__alloc {
    struct evl_allocator fns;
    int custom;
};

/* Takes options.allocator (NULL: the process-wide allocator). */
static inline void evl__alloc_init(struct evl__alloc *a, const struct evl_allocator *custom)
{
    if (custom) {
        a->fns = *custom;
        a->custom = 1;
    } else {
        a->custom = 0;
    }
}

static inline void *evl__alloc_malloc(const struct evl__alloc *a, size_t n)
{
    return a->custom ? a->fns.malloc_fn(a->fns.ud, n) : evl_malloc(n);
}

static inline void *evl__alloc_realloc(const struct evl__alloc *a, void *p, size_t n)
{
    return a->custom ? a->fns.realloc_fn(a->fns.ud, p, n) : evl_realloc(p, n);
}

/* NULL is ignored. */
static inline void evl__alloc_free(const struct evl__alloc *a, void *p)
{
    if (!p) {
        return;
    }
    if (a->custom) {
        a->fns.free_fn(a->fns.ud, p);
    } else {
        evl_free(p);
    }
}

/* The same through a loop (its struct evl__alloc), for code that holds only the loop
 * pointer: the backends and the ring (src/loop/loop.c binds them to the loop's member). */
void *evl__loop_malloc(const struct evl_loop *loop, size_t n);
void *evl__loop_realloc(const struct evl_loop *loop, void *p, size_t n);
void evl__loop_free(const struct evl_loop *loop, void *p);

#endif
