/*
 * The timer heap (see timer_heap.h).
 */
#include "container/timer_heap.h"

#include "container/mem.h"
#include "evl/errno.h"

#include <string.h>

#define D EVL__TIMER_HEAP_D

void evl__timer_heap_init(struct evl__timer_heap *h)
{
    memset(h, 0, sizeof(*h));
}

/* The allocation (the array starts `shift` slots into it), or NULL. */
static struct evl__timer_heap_slot *heap_block(const struct evl__timer_heap *h)
{
    return h->slots ? h->slots - h->shift : NULL;
}

void evl__timer_heap_deinit(struct evl__timer_heap *h, const struct evl_allocator *a)
{
    evl__mem_free(a, heap_block(h));
    evl__timer_heap_init(h);
}

/* Points the array into mem, a (re)allocation with EVL__TIMER_HEAP_PAD spare slots, so that
 * slot 1 (the root's first child, and so the start of every sibling group) begins a cache
 * line. A reallocation keeps the slots at the old offset: they move if the offset changed. */
static void heap_place(struct evl__timer_heap *h, struct evl__timer_heap_slot *mem)
{
    uint32_t misalign = (uint32_t)((uintptr_t)(mem + 1) % EVL__CACHELINE);
    uint32_t shift = (uint32_t)((EVL__CACHELINE - misalign) % EVL__CACHELINE / sizeof(*mem));
    if (shift != h->shift) { /* len is 0 on the first allocation */
        memmove(mem + shift, mem + h->shift, (size_t)h->len * sizeof(*mem));
    }
    h->slots = mem + shift;
    h->shift = shift;
}

int evl__timer_heap_grow(struct evl__timer_heap *h, const struct evl_allocator *a, uint32_t cap)
{
    if (cap <= h->cap) {
        return 0;
    }
    struct evl__timer_heap_slot *mem =
        evl__mem_realloc(a, heap_block(h), ((size_t)cap + EVL__TIMER_HEAP_PAD) * sizeof(*mem));
    if (!mem) {
        return EVL_ENOMEM;
    }
    heap_place(h, mem);
    h->cap = cap;
    return 0;
}

void evl__timer_heap_sift_up(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t i,
                             struct evl__timer_heap_slot e)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / D;
        struct evl__timer_heap_slot p = h->slots[parent];
        if (!evl__timer_heap_slot_before(recs, e, p)) {
            break;
        }
        h->slots[i] = p;
        recs[p.idx].pos = i;
        i = parent;
    }
    h->slots[i] = e;
    recs[e.idx].pos = i;
}

/* The earliest of the sibling slots [c, end). */
static inline uint32_t min_child(const struct evl__timer_heap *h, const struct evl__timer *recs,
                                 uint32_t c, uint32_t end)
{
    uint32_t best = c;
    for (uint32_t k = c + 1; k < end; k++) {
        if (evl__timer_heap_slot_before(recs, h->slots[k], h->slots[best])) {
            best = k;
        }
    }
    return best;
}

/* Fills the hole at i with e, a slot that belongs low in the heap (the last one): the hole
 * first moves down along the earliest children to a leaf, then e moves up from there
 * (Floyd's variant), which spares comparing e at every level on the way down.
 *
 * Before comparing the children of i, it starts fetching their own sibling groups: eight
 * adjacent lines, one per child, so whichever child wins, the next level's line is already
 * on its way instead of a cache miss waiting for this level's comparisons. The lines past
 * the heap's end are fetched too (harmless: a prefetch never faults, and the addresses are
 * integers, not pointers past the array). Written in place: a compiler may drop the same
 * loop from a small inline helper as dead code. */
void evl__timer_heap_sift_down(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t i,
                               struct evl__timer_heap_slot e)
{
    uint32_t n = h->len;
    while ((uint64_t)i * D + 1 < n) {
        uint32_t c = i * D + 1;
        if ((uint64_t)c * D + 1 < n) {
            uintptr_t below = (uintptr_t)&h->slots[c * D + 1];
            for (uint32_t k = 0; k < D; k++) {
                EVL__PREFETCH_R((const void *)(below + (uintptr_t)EVL__CACHELINE * k));
            }
        }
        uint32_t best = min_child(h, recs, c, n - c > D ? c + D : n);
        h->slots[i] = h->slots[best];
        recs[h->slots[i].idx].pos = i;
        i = best;
    }
    evl__timer_heap_sift_up(h, recs, i, e);
}

void evl__timer_heap_push(struct evl__timer_heap *h, struct evl__timer *recs, uint32_t idx,
                          uint64_t now)
{
    if (h->len == 0) {
        h->key_base = now;
    }
    struct evl__timer_heap_slot e = {evl__timer_heap_key(h, recs[idx].deadline), idx};
    evl__timer_heap_sift_up(h, recs, h->len++, e);
}

void evl__timer_heap_rebase(struct evl__timer_heap *h, const struct evl__timer *recs, uint64_t now)
{
    h->key_base = now;
    for (uint32_t i = 0; i < h->len; i++) {
        h->slots[i].key = evl__timer_heap_key(h, recs[h->slots[i].idx].deadline);
    }
}

/*
 * The rules, numbered as evl__timer_heap_check reports them:
 *   1. len <= cap; slots is NULL only with cap 0; slot 1 starts a cache line;
 *   2. every slot names a record below nrecs whose pos is that slot;
 *   3. every key is the key of its record's deadline under the current base;
 *   4. no slot sorts before its parent.
 */
int evl__timer_heap_check(const struct evl__timer_heap *h, const struct evl__timer *recs,
                          uint32_t nrecs)
{
    if (h->len > h->cap || (!h->slots && h->cap != 0)) {
        return 1;
    }
    if (h->slots && (uintptr_t)(h->slots + 1) % EVL__CACHELINE != 0) {
        return 1;
    }
    for (uint32_t i = 0; i < h->len; i++) {
        struct evl__timer_heap_slot s = h->slots[i];
        if (s.idx >= nrecs || recs[s.idx].pos != i) {
            return 2;
        }
        if (s.key != evl__timer_heap_key(h, recs[s.idx].deadline)) {
            return 3;
        }
        if (i > 0 && evl__timer_heap_slot_before(recs, s, h->slots[(i - 1) / D])) {
            return 4;
        }
    }
    return 0;
}
