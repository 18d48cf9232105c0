/*
 * The ring's storage (src/base/ring.h), from the loop's allocator.
 */
#include "alloc/alloc.h"
#include "base/compiler.h"
#include "base/ring.h"
#include "evl/errno.h"

#include <string.h>

int evl__ring_grow(struct evl_loop *loop, struct evl__ring *r)
{
    EVL__ASSERT(evl__ring_check(r) == 0);
    uint32_t count = r->tail - r->head;
    uint32_t cap = r->buf ? (r->mask + 1) * 2 : 64;
    if (cap == 0) {
        return EVL_ENOMEM;
    }
    struct evl__task *nb = evl__loop_malloc(loop, (size_t)cap * sizeof(*nb));
    if (!nb) {
        return EVL_ENOMEM;
    }
    /* Unwrap the old contents to the front of the new buffer (an unallocated ring has none). */
    if (r->buf) {
        for (uint32_t i = 0; i < count; i++) {
            nb[i] = r->buf[(r->head + i) & r->mask];
        }
    }
    evl__loop_free(loop, r->buf);
    r->buf = nb;
    r->mask = cap - 1;
    r->head = 0;
    r->tail = count;
    EVL__ASSERT(evl__ring_check(r) == 0);
    return 0;
}

int evl__ring_push_grow(struct evl_loop *loop, struct evl__ring *r, evl_task_cb fn, void *arg)
{
    int rc = evl__ring_grow(loop, r);
    if (rc != 0) {
        return rc;
    }
    struct evl__task *slot = &r->buf[r->tail & r->mask];
    slot->fn = fn;
    slot->arg = arg;
    r->tail++;
    return 0;
}

void evl__ring_free(struct evl_loop *loop, struct evl__ring *r)
{
    EVL__ASSERT(evl__ring_check(r) == 0);
    evl__loop_free(loop, r->buf);
    memset(r, 0, sizeof(*r));
}
