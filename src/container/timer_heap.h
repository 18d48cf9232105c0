/*
 * The timer heap: an 8-ary min-heap of 8-byte slots {key, record index} ordered by the
 * records' (deadline, seq). The key is the deadline coarsened to a 32-bit count of 1.024 us
 * units past key_base, so a sift compares slots in the heap array alone and reads two records
 * only when their keys are equal. Each record's `pos` holds its slot index, so a record is
 * removed without a search.
 *
 * The array is placed so that every group of eight siblings fills exactly one 64-byte cache
 * line: a sift touches one line per level, over fewer levels than a 4-ary heap.
 * EVL__TIMER_HEAP_PAD spare slots in the allocation let the array start at that offset.
 */
#ifndef EVL_CONTAINER_TIMER_HEAP_H
#define EVL_CONTAINER_TIMER_HEAP_H

#include "container/timer_pool.h"

#define EVL__TIMER_HEAP_D   8
#define EVL__TIMER_HEAP_PAD (EVL__TIMER_HEAP_D - 1)

/* Keys count 1.024 us units past key_base: 32 bits span 73 minutes. A later deadline
 * saturates (still correct: equal keys fall back to the records); the owner moves the base
 * forward (evl__timer_heap_rebase) once its clock is EVL__TIMER_HEAP_REBASE past it, so keys
 * keep their resolution. */
#define EVL__TIMER_HEAP_KEY_SHIFT 10
#define EVL__TIMER_HEAP_REBASE    (UINT64_C(1) << (EVL__TIMER_HEAP_KEY_SHIFT + 31))

struct evl__timer_heap_slot {
    uint32_t key;
    uint32_t idx;
};

struct evl__timer_heap {
    struct evl__timer_heap_slot *slots; /* cap slots; slots - shift is the allocation */
    uint32_t shift;
    uint32_t len;
    uint32_t cap;
    uint64_t key_base; /* clock ns that key 0 stands for */
};

void evl__timer_heap_init(struct evl__timer_heap *h);
void evl__timer_heap_deinit(struct evl__timer_heap *h, const struct evl_allocator *a);
/* Room for cap (> h->cap) slots. Returns 0 or EVL_ENOMEM (the heap unchanged). */
int evl__timer_heap_grow(struct evl__timer_heap *h, const struct evl_allocator *a, uint32_t cap);

/* The deadline's key: monotonic in the deadline (0 below the base, saturating above the
 * span), so a smaller key always means an earlier deadline. */
static inline uint32_t evl__timer_heap_key(const struct evl__timer_heap *h, uint64_t deadline)
{
    if (deadline <= h->key_base) {
        return 0;
    }
    uint64_t k = (deadline - h->key_base) >> EVL__TIMER_HEAP_KEY_SHIFT;
    return k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
}

static inline int evl__timer_heap_slot_before(const struct evl__timer *recs,
                                              struct evl__timer_heap_slot a,
                                              struct evl__timer_heap_slot b)
{
    if (a.key != b.key) {
        return a.key < b.key;
    }
    return evl__timer_before(&recs[a.idx], &recs[b.idx]);
}

/* The record at the top, or EVL__TIMER_NONE when empty. */
static inline uint32_t evl__timer_heap_top(const struct evl__timer_heap *h)
{
    return h->len != 0 ? h->slots[0].idx : EVL__TIMER_NONE;
}

/* Inserts record idx (deadline and seq set; the heap has room: len < cap). An empty heap
 * takes now as its key base, so keys start with full resolution. */
void evl__timer_heap_push(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t idx,
                          uint64_t now);

void evl__timer_heap_sift_up(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t i,
                             struct evl__timer_heap_slot e);
void evl__timer_heap_sift_down(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t i,
                               struct evl__timer_heap_slot e);

/* Removes the slot at pos (a record's pos). Inline: most removals are of a leaf (seven slots
 * in eight are leaves) that the last slot simply replaces, which needs neither sift. */
static inline void evl__timer_heap_remove(struct evl__timer_heap *h, struct evl__timer *recs,
                                          uint32_t pos)
{
    uint32_t last = --h->len;
    if (pos != last) {
        struct evl__timer_heap_slot e = h->slots[last];
        if (pos > 0 &&
            evl__timer_heap_slot_before(recs, e, h->slots[(pos - 1) / EVL__TIMER_HEAP_D])) {
            evl__timer_heap_sift_up(h, recs, pos, e);
        } else if ((uint64_t)pos * EVL__TIMER_HEAP_D + 1 < last) {
            evl__timer_heap_sift_down(h, recs, pos, e);
        } else {
            h->slots[pos] = e;
            recs[e.idx].pos = pos;
        }
    }
}

/* Moves the key base to now and recomputes every key (O(n), once per EVL__TIMER_HEAP_REBASE
 * of clock time): the new keys are the same monotonic function of the deadlines, so the heap
 * order holds without any sift. */
void evl__timer_heap_rebase(struct evl__timer_heap *h, const struct evl__timer *recs, uint64_t now);

/* The invariant walk: 0 if the heap over recs (nrecs records) is consistent, else the number
 * of the first rule broken (see timer_heap.c). O(len). */
int evl__timer_heap_check(const struct evl__timer_heap *h, const struct evl__timer *recs,
                          uint32_t nrecs);

#endif
