/*
 * The adapter's one recycling mechanism: a bounded pool of equal-size blocks kept on an
 * intrusive free list. Every object the adapter churns at script speed (Timeout records,
 * Duktape's small heap blocks per size class) is recycled through it, so "how are freed
 * objects reused" has one answer: a block returned to a full pool goes back to the evl
 * allocator, and a pool is drained when its owner goes away. A pooled block holds garbage;
 * the caller initialises it. Loop thread only (one pool belongs to one heap or binding).
 */
#ifndef EVL_DUK_POOL_H
#define EVL_DUK_POOL_H

#include "evl.h"

#include <stdint.h>

struct evl__duk_pool_block {
    struct evl__duk_pool_block *next;
};

struct evl__duk_pool {
    struct evl__duk_pool_block *head;
    uint32_t len; /* blocks on the list */
    uint32_t max; /* blocks kept at most: bounds the memory a burst can pin */
};

static inline void evl__duk_pool_init(struct evl__duk_pool *p, uint32_t max)
{
    p->head = NULL;
    p->len = 0;
    p->max = max;
}

/* A recycled block, or NULL when the pool is empty (the caller allocates one itself). */
static inline void *evl__duk_pool_get(struct evl__duk_pool *p)
{
    struct evl__duk_pool_block *b = p->head;
    if (b) {
        p->head = b->next;
        p->len--;
    }
    return b;
}

/* Keeps block for reuse; returns 0 when the pool is full (the caller frees it). block must
 * be at least sizeof(void *) bytes and of the pool's size. */
static inline int evl__duk_pool_put(struct evl__duk_pool *p, void *block)
{
    if (p->len >= p->max) {
        return 0;
    }
    struct evl__duk_pool_block *b = block;
    b->next = p->head;
    p->head = b;
    p->len++;
    return 1;
}

/* Frees every kept block with free_fn (evl_free for blocks from evl_malloc). */
static inline void evl__duk_pool_drain(struct evl__duk_pool *p, void (*free_fn)(void *))
{
    while (p->head) {
        struct evl__duk_pool_block *b = p->head;
        p->head = b->next;
        free_fn(b);
    }
    p->len = 0;
}

#endif
