/*
 * The id -> record hash: 64-bit keys mapped to pointer-sized values. Every map of the project
 * that looks a record up by a number or a pointer uses it (the timer id table's overflow, the
 * adapter's timers, the promise pointer maps), so one implementation carries the probing rules
 * and the invariant walk.
 *
 * Open addressing with linear probing over 16-byte entries {key, value}: a lookup reads
 * adjacent entries, four to a cache line. The home slot is the top bits of key times 2^64/phi
 * (Fibonacci hashing), which spreads both sequential ids and aligned pointers over the table.
 * Deletion shifts the following entries back instead of leaving tombstones, so probe chains
 * stay as short as the load allows and a table never needs a rehash to clean up. The load
 * stays at most 1/2 (a lookup of an absent key ends within a few entries).
 *
 * Key 0 marks an empty slot; the map still holds key 0 (in a field of its own), so any 64-bit
 * key is valid. Values are opaque: NULL and small integers (record indices) are fine.
 *
 * Not thread-safe: one owner at a time. Nothing allocates until the first insertion.
 */
#ifndef EVL_CONTAINER_HASH_H
#define EVL_CONTAINER_HASH_H

#include "evl/alloc.h"

#include <stdint.h>

struct evl__hash_entry {
    uint64_t key; /* 0: empty slot */
    void *val;
};

struct evl__hash {
    struct evl__hash_entry *slots; /* mask + 1 entries, or NULL before the first insertion */
    uint32_t mask;                 /* capacity - 1 (a power of two), or 0 without slots */
    uint32_t shift;                /* 64 - log2(capacity): the hash keeps the product's top bits */
    uint32_t used;                 /* slots holding a key (key 0 not counted) */
    uint32_t has_zero;             /* 1 if key 0 is present (its value in zero_val) */
    void *zero_val;
    const struct evl_allocator *alloc; /* NULL: the process-wide allocator (evl_malloc) */
};

/* An empty map that allocates through alloc (NULL: evl_malloc/evl_free; otherwise borrowed,
 * it must outlive the map). Allocates nothing. */
void evl__hash_init(struct evl__hash *h, const struct evl_allocator *alloc);
/* Releases the table (not the values) and leaves an empty map, still usable. */
void evl__hash_deinit(struct evl__hash *h);

/* Number of keys present. */
static inline uint32_t evl__hash_count(const struct evl__hash *h)
{
    return h->used + h->has_zero;
}

/* Makes room for `more` insertions of new keys, so that they cannot fail. Returns 0 or
 * EVL_ENOMEM (the map unchanged). */
int evl__hash_reserve(struct evl__hash *h, uint32_t more);

/* Maps key to val, replacing the value of a key already present. Returns 0, or EVL_ENOMEM when
 * a new key needs a larger table (the map unchanged; never after evl__hash_reserve made room). */
int evl__hash_put(struct evl__hash *h, uint64_t key, void *val);

/* 1 if key is present (its value in *val when val is not NULL), else 0. */
int evl__hash_get(const struct evl__hash *h, uint64_t key, void **val);

/* Removes key: 1 if it was present (its value in *val when val is not NULL), else 0. Never
 * allocates and never fails. */
int evl__hash_remove(struct evl__hash *h, uint64_t key, void **val);

/* Iteration: start with *cursor = 0; each call stores the next entry and returns 1, or returns
 * 0 at the end. The order is unspecified; the map must not change during an iteration. */
int evl__hash_next(const struct evl__hash *h, uint32_t *cursor, uint64_t *key, void **val);

/* The invariant walk: 0 if the map is consistent, else the number of the first rule broken
 * (see hash.c). O(capacity x probe length): for tests and debug builds. */
int evl__hash_check(const struct evl__hash *h);

#endif
