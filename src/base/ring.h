/*
 * A growable ring of tasks (power-of-two capacity) for the loop-thread-only queues: nextTick,
 * microtasks, pending and close callbacks. It grows by doubling and never shrinks; its
 * storage comes from the loop's allocator (src/alloc/ring.c).
 */
#ifndef EVL_BASE_RING_H
#define EVL_BASE_RING_H

#include "evl/task.h"

#include <stdint.h>

struct evl_loop;

/* A task slot: 16 bytes. A submitted task with a discard callback takes two slots (see the
 * submit queue). */
struct evl__task {
    evl_task_cb fn;
    void *arg;
};

struct evl__ring {
    struct evl__task *buf;
    uint32_t mask; /* capacity - 1, or 0 with buf == NULL */
    uint32_t head;
    uint32_t tail;
};

static inline uint32_t evl__ring_count(const struct evl__ring *r)
{
    return r->tail - r->head;
}

/* The ring's invariants; returns 0 when they hold. An unallocated ring has mask 0 and
 * nothing queued; an allocated one a power-of-two capacity holding at most that many
 * tasks. */
static inline int evl__ring_check(const struct evl__ring *r)
{
    if (!r->buf) {
        return r->mask != 0 || r->head != r->tail;
    }
    uint32_t cap = r->mask + 1;
    if (cap == 0 || (cap & r->mask) != 0) {
        return 1;
    }
    return r->tail - r->head > cap;
}

static inline int evl__ring_nonempty(const struct evl__ring *r)
{
    return r->head != r->tail;
}

/* Grows a full (or unallocated) ring; the cold half of evl__ring_push. Returns 0 or
 * EVL_ENOMEM. */
int evl__ring_grow(struct evl_loop *loop, struct evl__ring *r);

/* Grows the ring, then appends (the cold path of evl__ring_push). Returns 0 or EVL_ENOMEM. */
int evl__ring_push_grow(struct evl_loop *loop, struct evl__ring *r, evl_task_cb fn, void *arg);

/* Appends a task. Inline because it is the whole cost of a microtask: the hot path is a
 * fullness test, two stores and an index bump. Growth is a tail call, so the hot path
 * saves no registers. */
static inline int evl__ring_push(struct evl_loop *loop, struct evl__ring *r, evl_task_cb fn,
                                 void *arg)
{
    uint32_t tail = r->tail;
    /* An unallocated ring (buf == NULL, mask 0) takes the growth path too. */
    if (__builtin_expect(tail - r->head == r->mask + 1 || !r->buf, 0)) {
        return evl__ring_push_grow(loop, r, fn, arg);
    }
    struct evl__task *slot = &r->buf[tail & r->mask];
    slot->fn = fn;
    slot->arg = arg;
    r->tail = tail + 1;
    return 0;
}

/* Takes the oldest task; the ring must be non-empty. */
static inline struct evl__task evl__ring_shift(struct evl__ring *r)
{
    struct evl__task t = r->buf[r->head & r->mask];
    r->head++;
    return t;
}

/* Forgets every queued task. */
static inline void evl__ring_clear(struct evl__ring *r)
{
    r->head = r->tail;
}

/* Releases the storage; the ring is empty and unallocated afterwards. */
void evl__ring_free(struct evl_loop *loop, struct evl__ring *r);

#endif
