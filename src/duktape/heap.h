/*
 * Heaps made by evl_duk_heap_new (heap.c): their allocation state is the Duktape heap's
 * udata, which also records the binding installed on the heap. Bottom floor of the adapter.
 */
#ifndef EVL_DUK_HEAP_H
#define EVL_DUK_HEAP_H

#include "evl_duktape.h"

struct evl_duk;
struct evl_duk_heap_state;

/* The heap state if ctx's heap was made by evl_duk_heap_new, else NULL. Cheap: no lookup. */
struct evl_duk_heap_state *evl__duk_heap_state(duk_context *ctx);

/* The part of a heap state other files read: the binding installed on the heap (set by
 * evl__duk_heap_state_bind). It is the state's first member, so the binding lookup reads it
 * without a call. */
struct evl_duk_heap_head {
    struct evl_duk *duk;
};

/* The binding recorded in hs (NULL if none). Loop thread only. */
static inline struct evl_duk *evl__duk_heap_state_duk(const struct evl_duk_heap_state *hs)
{
    return ((const struct evl_duk_heap_head *)(const void *)hs)->duk;
}

/* A guarded entry into JS ended: collections that the allocator held off because they had
 * stopped freeing memory (heap.c, "Failing fast near the limit") may run again, and the
 * reserve kept for building an out-of-memory error is taken back if it was spent. NULL: no-op.
 * Loop thread only. */
void evl__duk_heap_state_settle(struct evl_duk_heap_state *hs);

/* The bytes ctx's heap may still allocate under its cap: UINT64_MAX if it has no cap or was
 * not made by evl_duk_heap_new. Loop thread only. */
uint64_t evl__duk_heap_room(duk_context *ctx);

/* Records d (NULL: none) as hs's binding. */
void evl__duk_heap_state_bind(struct evl_duk_heap_state *hs, struct evl_duk *d);

/* The binding of the heap whose udata this is, if udata is a heap state of ours (the
 * execution check gets the udata of any heap, an embedder's too). Thread-safe. */
struct evl_duk *evl__duk_heap_state_binding(void *udata);

#endif
