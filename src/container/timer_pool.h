/*
 * The timer record and its pool: one array of 48-byte records that the timer heap, the timer
 * runs, the id table and the immediate list index by position (32-bit indices, no pointers,
 * so the array may move when it grows). Freed records form a list through `pos`; the most
 * recently freed one is handed out first, still warm in the cache.
 */
#ifndef EVL_CONTAINER_TIMER_POOL_H
#define EVL_CONTAINER_TIMER_POOL_H

#include "base/compiler.h"
#include "evl/alloc.h"
#include "evl/timer.h"

#include <stdint.h>

/* No record (an empty list's head, a run's end, a failed allocation). */
#define EVL__TIMER_NONE UINT32_MAX
/* `pos` of a record whose callback is running: in no container. */
#define EVL__TIMER_RUNNING (UINT32_MAX - 1)

/* `meta`: period ms (bits 0-42) | HTML nesting level (43-55) | flags (56-63). */
#define EVL__TIMER_PERIOD_MASK ((UINT64_C(1) << 43) - 1)
#define EVL__TIMER_NEST_SHIFT  43
#define EVL__TIMER_NEST_MAX    8191u
#define EVL__TIMER_FLAGS_MASK  (UINT64_C(0xFF) << 56)
#define EVL__TIMER_REF         (UINT64_C(1) << 56) /* keeps the loop alive */
#define EVL__TIMER_INTERVAL    (UINT64_C(1) << 57)
#define EVL__TIMER_IMMEDIATE   (UINT64_C(1) << 58)
#define EVL__TIMER_CANCELLED   (UINT64_C(1) << 59) /* cleared, still linked (lazy deletion) */
#define EVL__TIMER_IN_RUN      (UINT64_C(1) << 60) /* linked in a run (timer_runs.h) */
#define EVL__TIMER_AUDIT       (UINT64_C(1) << 61) /* created under the timer audit */

struct evl__timer {
    uint64_t deadline; /* ns on the loop clock */
    uint64_t id;
    evl_timer_cb cb;
    void *arg;
    uint64_t meta;
    uint32_t seq; /* FIFO order among equal deadlines (wrap-around compare) */
    uint32_t pos; /* heap index, next index (run/immediate/free lists), or EVL__TIMER_RUNNING */
};

static inline uint64_t evl__timer_period(uint64_t meta)
{
    return meta & EVL__TIMER_PERIOD_MASK;
}

static inline uint32_t evl__timer_nesting(uint64_t meta)
{
    return (uint32_t)((meta >> EVL__TIMER_NEST_SHIFT) & EVL__TIMER_NEST_MAX);
}

static inline uint64_t evl__timer_meta(uint64_t period, uint32_t nesting, uint64_t flags)
{
    if (nesting > EVL__TIMER_NEST_MAX) {
        nesting = EVL__TIMER_NEST_MAX;
    }
    return (period & EVL__TIMER_PERIOD_MASK) | ((uint64_t)nesting << EVL__TIMER_NEST_SHIFT) | flags;
}

/* The firing order: earlier deadline first, then the earlier sequence number (compared with
 * wrap-around arithmetic: correct while fewer than 2^31 arms separate two pending timers). */
static inline int evl__timer_before(const struct evl__timer *a, const struct evl__timer *b)
{
    if (a->deadline != b->deadline) {
        return a->deadline < b->deadline;
    }
    return (int32_t)(a->seq - b->seq) < 0;
}

struct evl__timer_pool {
    struct evl__timer *recs;
    uint32_t cap;
    uint32_t used;      /* records [0, used) were handed out at least once */
    uint32_t free_head; /* freed records, linked through pos; EVL__TIMER_NONE when empty */
};

void evl__timer_pool_init(struct evl__timer_pool *p);
void evl__timer_pool_deinit(struct evl__timer_pool *p, const struct evl_allocator *a);
/* Moves the records into an array of cap (> p->cap) records. Returns 0 or EVL_ENOMEM (the
 * pool unchanged). */
int evl__timer_pool_grow(struct evl__timer_pool *p, const struct evl_allocator *a, uint32_t cap);

/* A record to fill, or EVL__TIMER_NONE when every record is in use (grow, then retry). */
static inline uint32_t evl__timer_pool_take(struct evl__timer_pool *p)
{
    uint32_t idx = p->free_head;
    if (idx != EVL__TIMER_NONE) {
        p->free_head = p->recs[idx].pos;
        /* The next record handed out is known now: start fetching it, so a burst of sets
         * overlaps each record's cache miss with the previous set's work. */
        if (p->free_head != EVL__TIMER_NONE) {
            EVL__PREFETCH_W(&p->recs[p->free_head]);
        }
        return idx;
    }
    return p->used == p->cap ? EVL__TIMER_NONE : p->used++;
}

static inline void evl__timer_pool_put(struct evl__timer_pool *p, uint32_t idx)
{
    p->recs[idx].cb = NULL;
    p->recs[idx].arg = NULL;
    p->recs[idx].pos = p->free_head;
    p->free_head = idx;
}

/* Records not on the free list (O(free records)). */
uint32_t evl__timer_pool_live(const struct evl__timer_pool *p);

/* The invariant walk: 0 if the pool is consistent, else the number of the first rule broken
 * (see timer_pool.c). */
int evl__timer_pool_check(const struct evl__timer_pool *p);

#endif
