/*
 * Submit lanes: chunk directory, chunk pools and the invariant walk (see lanes.h).
 */
#include "container/lanes.h"

#include <string.h>

void *evl__lanes_alloc(const struct evl_allocator *a, size_t n)
{
    return a ? a->malloc_fn(a->ud, n) : evl_malloc(n);
}

void evl__lanes_free(const struct evl_allocator *a, void *p)
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

void evl__lanes_init(struct evl__lane *l)
{
    atomic_init(&l->lock, 0);
    atomic_init(&l->closed, 0);
    atomic_init(&l->busy, 0);
    atomic_init(&l->owner, 0);
    l->ptail = 0;
    l->nk = 0;
    l->pchunk = NULL;
    l->free = NULL;
    l->lim = 0;
    l->credit = 0;
    atomic_init(&l->tail, 0);
    atomic_init(&l->dir, NULL);
    atomic_init(&l->head, 0);
    l->seen = 0;
    atomic_init(&l->hk, 0);
    atomic_init(&l->sleep_tail, 0);
    l->cur = NULL;
}

static void free_chunks(const struct evl_allocator *a, union evl__lane_chunk *c)
{
    while (c) {
        union evl__lane_chunk *next = c->next;
        evl__lanes_free(a, c);
        c = next;
    }
}

void evl__lanes_deinit(struct evl__lane *l, const struct evl_allocator *a)
{
    struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    /* Live chunks are hk .. nk-1 (the consumer's current one included). */
    for (uint32_t k = atomic_load_explicit(&l->hk, memory_order_relaxed); k != l->nk; k++) {
        evl__lanes_free(a, d->c[k & d->mask]);
    }
    free_chunks(a, l->free);
    while (d) {
        struct evl__lane_dir *next = d->retired;
        evl__lanes_free(a, d);
        d = next;
    }
    int closed = atomic_load_explicit(&l->closed, memory_order_relaxed);
    evl__lanes_init(l);
    atomic_store_explicit(&l->closed, closed, memory_order_relaxed); /* admission is policy */
}

union evl__lane_chunk *evl__lanes_set_free(struct evl__lane *l, union evl__lane_chunk *c)
{
    if (l->free) {
        return c;
    }
    c->next = NULL;
    l->free = c;
    return NULL;
}

uint32_t evl__lanes_dir_next_cap(const struct evl__lane *l)
{
    const struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    return d ? (d->mask + 1) * 2 : 4;
}

struct evl__lane_dir *evl__lanes_dir_new(const struct evl_allocator *a, uint32_t cap)
{
    if (cap > (1u << 24)) {
        return NULL;
    }
    struct evl__lane_dir *nd =
        evl__lanes_alloc(a, sizeof(*nd) + (size_t)cap * sizeof(union evl__lane_chunk *));
    if (nd) {
        nd->mask = cap - 1;
        nd->retired = NULL;
    }
    return nd;
}

struct evl__lane_dir *evl__lanes_install_dir(struct evl__lane *l, struct evl__lane_dir *nd)
{
    struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
    if (!evl__lanes_dir_full(l, d) || (d && nd->mask <= d->mask)) {
        return nd; /* another producer of this lane grew it first */
    }
    /* The consumer may still be reading the old directory: it is retired, not freed. */
    for (uint32_t k = atomic_load_explicit(&l->hk, memory_order_acquire); k != l->nk; k++) {
        nd->c[k & nd->mask] = d->c[k & d->mask];
    }
    nd->retired = d;
    atomic_store_explicit(&l->dir, nd, memory_order_release);
    return NULL;
}

void evl__lanes_advance(struct evl__lane *l, struct evl__lane_pool *spare)
{
    union evl__lane_chunk *done = l->cur;
    uint32_t k = atomic_load_explicit(&l->hk, memory_order_relaxed) + (done ? 1 : 0);
    /* The directory's publication (release) happens before the slot's (tail), which the
     * consumer read with acquire: the entry for chunk k is in it. */
    const struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_acquire);
    l->cur = d->c[k & d->mask];
    if (done) {
        /* Chunk k-1 is no longer read: the producer may reuse its directory entry. */
        atomic_store_explicit(&l->hk, k, memory_order_release);
        evl__lanes_pool_put(spare, done);
    }
}

void evl__lanes_pool_put(struct evl__lane_pool *p, union evl__lane_chunk *c)
{
    c->next = NULL;
    if (p->tail) {
        p->tail->next = c;
    } else {
        p->head = c;
    }
    p->tail = c;
}

union evl__lane_chunk *evl__lanes_pool_take(struct evl__lane_pool *p)
{
    union evl__lane_chunk *c = p->head;
    if (c) {
        p->head = c->next;
        if (!p->head) {
            p->tail = NULL;
        }
    }
    return c;
}

void evl__lanes_pool_splice(struct evl__lane_pool *a, struct evl__lane_pool *b)
{
    if (!b->head) {
        return;
    }
    if (a->tail) {
        a->tail->next = b->head;
    } else {
        a->head = b->head;
    }
    a->tail = b->tail;
    b->head = NULL;
    b->tail = NULL;
}

void evl__lanes_pool_free(struct evl__lane_pool *p, const struct evl_allocator *a)
{
    free_chunks(a, p->head);
    p->head = NULL;
    p->tail = NULL;
}

/* Nonzero if slot s lies in chunk k. */
static int same_chunk(uint32_t s, uint32_t k)
{
    return ((s >> EVL__LANE_SHIFT) ^ k) & (UINT32_MAX >> EVL__LANE_SHIFT) ? 0 : 1;
}

int evl__lanes_check(const struct evl__lane *l)
{
    uint32_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&l->tail, memory_order_acquire);
    uint32_t hk = atomic_load_explicit(&l->hk, memory_order_acquire);
    const struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_acquire);
    if (tail != l->ptail) {
        return 1; /* everything written is published */
    }
    if (l->seen - head > tail - head) {
        return 2; /* head <= seen <= tail */
    }
    if ((l->nk != hk && !d) || (d && l->nk - hk > d->mask + 1) ||
        (uint64_t)(tail - head) > (uint64_t)(l->nk - hk) * EVL__LANE_SLOTS) {
        return 3; /* the live chunks hk .. nk-1 fit the directory and hold what is queued */
    }
    /* Chunk nk-1 holds the last slot written (slot numbers wrap: compare chunk numbers
     * modulo what a 32-bit slot number holds). */
    if (l->nk == 0 ? l->ptail != 0 : !same_chunk(l->ptail - 1, l->nk - 1)) {
        return 4;
    }
    for (uint32_t k = hk; k != l->nk; k++) {
        const union evl__lane_chunk *c = d->c[k & d->mask];
        if (!c || c == l->free) {
            return 5;
        }
        for (uint32_t j = hk; j != k; j++) {
            if (d->c[j & d->mask] == c) {
                return 5; /* distinct */
            }
        }
    }
    if (l->nk != hk ? l->pchunk != d->c[(l->nk - 1) & d->mask] : l->pchunk != NULL) {
        return 6; /* the producer fills the newest chunk (none before the first) */
    }
    if (l->cur == NULL
            ? ((head & EVL__LANE_MASK) != 0 || !same_chunk(head, hk))
            : (!same_chunk(head - 1, hk) || hk == l->nk || l->cur != d->c[hk & d->mask])) {
        return 7; /* cur holds slot head - 1 and is chunk hk (none before the first take) */
    }
    for (const struct evl__lane_dir *r = d; r && r->retired; r = r->retired) {
        if (r->retired->mask >= r->mask) {
            return 8; /* retired directories shrink */
        }
    }
    return 0;
}
