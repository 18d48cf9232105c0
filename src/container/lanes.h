/*
 * Submit lanes: the storage of one producer-to-loop queue. A lane holds 16-byte slots in
 * header-less 4 KiB chunks of exactly EVL__LANE_SLOTS slots; the chunks of a lane are found
 * through a ring of pointers (the directory), so a queued slot costs 16 bytes plus 8 bytes per
 * chunk. One producer at a time appends (the policy in src/core/submit decides who: a lock or
 * an owner thread) and publishes `tail` with a release store; one consumer (the loop) reads
 * `tail` (acquire), the directory and the slots without any lock.
 *
 * This file knows nothing of tasks, wake-ups or admission: it stores slots. A few words of the
 * producers' and the consumer's lines are the policy's (marked below); they sit here only so
 * that a push touches one producer line and a take one consumer line.
 */
#ifndef EVL_CONTAINER_LANES_H
#define EVL_CONTAINER_LANES_H

#include "evl/alloc.h"
#include "evl/task.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define EVL__LANE_SHIFT 8
#define EVL__LANE_SLOTS (1u << EVL__LANE_SHIFT)
#define EVL__LANE_MASK  (EVL__LANE_SLOTS - 1)

/* Producer and consumer fields sit 128 bytes apart: cores prefetch lines in aligned pairs (a
 * read of one steals its neighbour). */
#ifndef EVL__PAIR
#define EVL__PAIR 128
#endif

/* A slot: a callback and its argument. */
struct evl__lane_slot {
    evl_task_cb fn;
    void *arg;
};

union evl__lane_chunk {
    union evl__lane_chunk *next; /* while on a free list */
    struct evl__lane_slot slots[EVL__LANE_SLOTS];
};

/* Chunk k of a lane is c[k & mask] while live. A producer replaces a full directory by one
 * twice as large; the old one hangs off `retired` until the lane is torn down (the consumer
 * may still be reading it; together the retired ones are smaller than the live one, so no
 * reclamation protocol is needed). */
struct evl__lane_dir {
    uint32_t mask;
    struct evl__lane_dir *retired;
    union evl__lane_chunk *c[];
};

/* Padding is deliberate: see EVL__PAIR. */
struct evl__lane { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    /* Producer side, written by the one producer allowed at the time. The first four words
     * are the policy's (producer exclusion and admission; src/core/submit). */
    alignas(EVL__PAIR) _Atomic int lock;
    _Atomic int closed;
    _Atomic int busy;
    _Atomic(uintptr_t) owner;
    uint32_t ptail;                /* slots written (the producer's copy of tail) */
    uint32_t nk;                   /* chunks ever installed (chunk numbers 0 .. nk-1) */
    union evl__lane_chunk *pchunk; /* chunk being filled */
    union evl__lane_chunk *free;   /* a chunk set aside for the next install */
    uint32_t lim;                  /* policy's: the fast path may write slots ptail .. lim-1 */
    uint32_t credit;               /* policy's: slots charged to a bound and not yet written */
    /* Published by the producer (release stores), read by the consumer. On their own line, so
     * the consumer's reads never take the producer's line. */
    alignas(EVL__PAIR) _Atomic uint32_t tail; /* slots published */
    _Atomic(struct evl__lane_dir *) dir;
    /* Consumer side (the consumer only; others may read hk and head). */
    alignas(EVL__PAIR) _Atomic uint32_t head; /* slots consumed (relaxed: a plain store) */
    uint32_t seen;                            /* tail as last read (evl__lanes_tail) */
    _Atomic uint32_t hk;                      /* chunk number of cur: live chunks hk .. nk-1 */
    _Atomic uint32_t sleep_tail;              /* policy's: tail when the loop last slept */
    union evl__lane_chunk *cur;               /* chunk holding slot head - 1 (NULL before) */
};

/* A FIFO of spare chunks (the consumer hands finished chunks back through one). */
struct evl__lane_pool {
    union evl__lane_chunk *head;
    union evl__lane_chunk *tail;
};

/* Allocation: through a (NULL: evl_malloc and evl_free). */
void *evl__lanes_alloc(const struct evl_allocator *a, size_t n);
void evl__lanes_free(const struct evl_allocator *a, void *p);

/* An empty lane (no chunk, no directory). */
void evl__lanes_init(struct evl__lane *l);
/* Frees every chunk and directory of the lane and leaves it empty (no producer or consumer
 * may be active). */
void evl__lanes_deinit(struct evl__lane *l, const struct evl_allocator *a);

/* Nonzero if the directory has no room for one more live chunk (producer side). */
static inline int evl__lanes_dir_full(const struct evl__lane *l, const struct evl__lane_dir *d)
{
    return !d || l->nk - atomic_load_explicit(&l->hk, memory_order_acquire) > d->mask;
}

/* evl__lanes_push's answer when it needs a chunk (l->free) or a larger directory first. */
#define EVL__LANES_NEED_GROW 1

/*
 * Appends n (1 or 2) slots and publishes them (the producer allowed at the time). Returns 0,
 * or EVL__LANES_NEED_GROW with nothing published when slot ptail (or ptail + 1) starts a new
 * chunk and no spare chunk or directory room is at hand: the caller provides them
 * (evl__lanes_set_free, evl__lanes_install_dir) and tries again.
 */
static inline int evl__lanes_push(struct evl__lane *l, const struct evl__lane_slot *t, int n)
{
    uint32_t pos = l->ptail;
    uint32_t idx = pos & EVL__LANE_MASK;
    union evl__lane_chunk *c = l->pchunk;
    if (idx == 0 || idx + (uint32_t)n > EVL__LANE_SLOTS) {
        /* Slot pos (idx == 0) or pos + 1 starts chunk nk. */
        struct evl__lane_dir *d = atomic_load_explicit(&l->dir, memory_order_relaxed);
        if (!l->free || evl__lanes_dir_full(l, d)) {
            return EVL__LANES_NEED_GROW;
        }
        union evl__lane_chunk *fresh = l->free;
        l->free = NULL;
        d->c[l->nk & d->mask] = fresh;
        l->nk++;
        l->pchunk = fresh;
        if (idx == 0) {
            c = fresh;
        } else {
            c->slots[idx] = t[0];
            fresh->slots[0] = t[1];
            l->ptail = pos + 2;
            atomic_store_explicit(&l->tail, pos + 2, memory_order_release);
            return 0;
        }
    }
    c->slots[idx] = t[0];
    if (n == 2) {
        c->slots[idx + 1] = t[1];
    }
    l->ptail = pos + (uint32_t)n;
    atomic_store_explicit(&l->tail, pos + (uint32_t)n, memory_order_release);
    return 0;
}

/* The one-slot push when the current chunk has room (idx = ptail & mask is not 0), with fn and
 * arg stored straight from registers: a 16-byte copy through the stack cannot be
 * store-forwarded and makes the producer wait for its slot and tail lines. */
static inline void evl__lanes_push_here(struct evl__lane *l, uint32_t pos, evl_task_cb fn,
                                        void *arg)
{
    struct evl__lane_slot *slot = &l->pchunk->slots[pos & EVL__LANE_MASK];
    slot->fn = fn;
    slot->arg = arg;
    l->ptail = pos + 1;
    atomic_store_explicit(&l->tail, pos + 1, memory_order_release);
}

/* Sets a chunk aside for the lane's next install; returns c back if one is already set aside
 * (the caller keeps it). */
union evl__lane_chunk *evl__lanes_set_free(struct evl__lane *l, union evl__lane_chunk *c);
/* A directory with room for cap chunk pointers (cap a power of two), or NULL. */
struct evl__lane_dir *evl__lanes_dir_new(const struct evl_allocator *a, uint32_t cap);
/* Capacity the next directory needs (twice the current one, 4 at first). */
uint32_t evl__lanes_dir_next_cap(const struct evl__lane *l);
/* Installs nd if the current directory is still full and smaller (copying the live entries
 * and retiring the old one); returns nd back if it was not needed (the caller frees it). */
struct evl__lane_dir *evl__lanes_install_dir(struct evl__lane *l, struct evl__lane_dir *nd);

/* The lane's published tail, as the consumer last read it. Every read of `tail` after the
 * producer wrote it moves its cache line (a stall for both sides), so it is read again only
 * when what was seen is used up. */
static inline uint32_t evl__lanes_tail(struct evl__lane *l)
{
    if (l->seen == atomic_load_explicit(&l->head, memory_order_relaxed)) {
        l->seen = atomic_load_explicit(&l->tail, memory_order_acquire);
    }
    return l->seen;
}

/* Nonzero if the lane holds published slots the consumer has not taken (a hint). */
static inline int evl__lanes_nonempty(struct evl__lane *l)
{
    return evl__lanes_tail(l) != atomic_load_explicit(&l->head, memory_order_relaxed);
}

/* Slots consumed (the consumer's count; others read a snapshot). */
static inline uint32_t evl__lanes_head(const struct evl__lane *l)
{
    return atomic_load_explicit(&l->head, memory_order_relaxed);
}

/* Slots published and not taken; refreshes the consumer's view of tail (a hint). */
static inline uint32_t evl__lanes_backlog(struct evl__lane *l)
{
    l->seen = atomic_load_explicit(&l->tail, memory_order_acquire);
    return l->seen - atomic_load_explicit(&l->head, memory_order_relaxed);
}

/* Steps the consumer to the next chunk, handing the finished one to spare (out of line: once
 * per EVL__LANE_SLOTS slots). */
void evl__lanes_advance(struct evl__lane *l, struct evl__lane_pool *spare);

/* Takes the published slot at head (the caller knows tail is past it). */
static inline struct evl__lane_slot evl__lanes_take(struct evl__lane *l,
                                                    struct evl__lane_pool *spare)
{
    uint32_t head = atomic_load_explicit(&l->head, memory_order_relaxed);
    uint32_t idx = head & EVL__LANE_MASK;
    if (idx == 0) {
        evl__lanes_advance(l, spare);
    }
    atomic_store_explicit(&l->head, head + 1, memory_order_relaxed);
    return l->cur->slots[idx];
}

/* Pool FIFO: put c at the tail; take the head (NULL if empty); move all of b behind a. */
void evl__lanes_pool_put(struct evl__lane_pool *p, union evl__lane_chunk *c);
union evl__lane_chunk *evl__lanes_pool_take(struct evl__lane_pool *p);
void evl__lanes_pool_splice(struct evl__lane_pool *a, struct evl__lane_pool *b);
void evl__lanes_pool_free(struct evl__lane_pool *p, const struct evl_allocator *a);

/*
 * The invariant walk (no producer or consumer active): head <= seen <= tail == ptail; the
 * live chunks hk .. nk-1 fit the directory, are non-NULL and distinct, cover every written
 * slot; cur and pchunk are the chunks they must be; retired directories shrink. Returns 0
 * when valid, else a positive number naming the first broken rule.
 */
int evl__lanes_check(const struct evl__lane *l);

#endif
