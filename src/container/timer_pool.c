/*
 * The timer record pool (see timer_pool.h).
 */
#include "container/timer_pool.h"

#include "container/mem.h"
#include "evl/errno.h"

void evl__timer_pool_init(struct evl__timer_pool *p)
{
    p->recs = NULL;
    p->cap = 0;
    p->used = 0;
    p->free_head = EVL__TIMER_NONE;
}

void evl__timer_pool_deinit(struct evl__timer_pool *p, const struct evl_allocator *a)
{
    evl__mem_free(a, p->recs);
    evl__timer_pool_init(p);
}

int evl__timer_pool_grow(struct evl__timer_pool *p, const struct evl_allocator *a, uint32_t cap)
{
    if (cap <= p->cap) {
        return 0;
    }
    struct evl__timer *recs = evl__mem_realloc(a, p->recs, (size_t)cap * sizeof(*recs));
    if (!recs) {
        return EVL_ENOMEM;
    }
    p->recs = recs;
    p->cap = cap; /* records from `used` on were never handed out: no list to build */
    EVL__CHECK_WALK(p->used, evl__timer_pool_check(p));
    return 0;
}

uint32_t evl__timer_pool_live(const struct evl__timer_pool *p)
{
    uint32_t n = p->used;
    for (uint32_t i = p->free_head; i != EVL__TIMER_NONE && n > 0; i = p->recs[i].pos) {
        n--;
    }
    return n;
}

/*
 * The rules, numbered as evl__timer_pool_check reports them:
 *   1. used <= cap, and recs is NULL only with cap 0;
 *   2. the free list holds indices below `used`, ends, and is not longer than `used`
 *      (no cycle);
 *   3. a free record holds no callback or argument.
 */
int evl__timer_pool_check(const struct evl__timer_pool *p)
{
    if (p->used > p->cap || (!p->recs && p->cap != 0)) {
        return 1;
    }
    uint32_t n = 0;
    for (uint32_t i = p->free_head; i != EVL__TIMER_NONE; i = p->recs[i].pos) {
        if (i >= p->used || ++n > p->used) {
            return 2;
        }
        if (p->recs[i].cb != NULL || p->recs[i].arg != NULL) {
            return 3;
        }
    }
    return 0;
}
