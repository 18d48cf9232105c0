/*
 * The id -> record hash (see hash.h for the layout and the rules).
 */
#include "container/hash.h"

#include "evl/errno.h"

#include <string.h>

#define MIN_CAP UINT32_C(16)
#define MAX_CAP (UINT32_C(1) << 31)

static void *hash_malloc(const struct evl_allocator *a, size_t n)
{
    return a ? a->malloc_fn(a->ud, n) : evl_malloc(n);
}

static void hash_free(const struct evl_allocator *a, void *p)
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

static inline uint32_t home_of(const struct evl__hash *h, uint64_t key)
{
    return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> h->shift);
}

/* The slot holding key (nonzero), or UINT32_MAX. */
static inline uint32_t slot_of(const struct evl__hash *h, uint64_t key)
{
    if (h->used == 0) {
        return UINT32_MAX;
    }
    for (uint32_t i = home_of(h, key);; i = (i + 1) & h->mask) {
        uint64_t k = h->slots[i].key;
        if (k == key) {
            return i;
        }
        if (k == 0) {
            return UINT32_MAX;
        }
    }
}

/* Stores a key known to be absent into a table with room. */
static void place(struct evl__hash *h, uint64_t key, void *val)
{
    uint32_t i = home_of(h, key);
    while (h->slots[i].key != 0) {
        i = (i + 1) & h->mask;
    }
    h->slots[i].key = key;
    h->slots[i].val = val;
    h->used++;
}

void evl__hash_init(struct evl__hash *h, const struct evl_allocator *alloc)
{
    memset(h, 0, sizeof(*h));
    h->alloc = alloc;
}

void evl__hash_deinit(struct evl__hash *h)
{
    hash_free(h->alloc, h->slots);
    evl__hash_init(h, h->alloc);
}

int evl__hash_reserve(struct evl__hash *h, uint32_t more)
{
    uint32_t cap = h->slots ? h->mask + 1 : 0;
    uint64_t need = ((uint64_t)h->used + more) * 2;
    if (need <= cap) {
        return 0;
    }
    uint32_t ncap = cap ? cap : MIN_CAP;
    while (need > ncap) {
        if (ncap >= MAX_CAP) {
            return EVL_ENOMEM;
        }
        ncap *= 2;
    }
    struct evl__hash_entry *ns = hash_malloc(h->alloc, (size_t)ncap * sizeof(*ns));
    if (!ns) {
        return EVL_ENOMEM;
    }
    memset(ns, 0, (size_t)ncap * sizeof(*ns));
    struct evl__hash_entry *old = h->slots;
    uint32_t log2 = 0;
    while ((UINT32_C(1) << log2) < ncap) {
        log2++;
    }
    h->slots = ns;
    h->mask = ncap - 1;
    h->shift = 64 - log2;
    h->used = 0;
    for (uint32_t i = 0; i < cap; i++) {
        if (old[i].key != 0) {
            place(h, old[i].key, old[i].val);
        }
    }
    hash_free(h->alloc, old);
    return 0;
}

int evl__hash_put(struct evl__hash *h, uint64_t key, void *val)
{
    if (key == 0) {
        h->has_zero = 1;
        h->zero_val = val;
        return 0;
    }
    uint32_t i = slot_of(h, key);
    if (i != UINT32_MAX) {
        h->slots[i].val = val;
        return 0;
    }
    int rc = evl__hash_reserve(h, 1);
    if (rc != 0) {
        return rc;
    }
    place(h, key, val);
    return 0;
}

int evl__hash_get(const struct evl__hash *h, uint64_t key, void **val)
{
    void *v = NULL;
    int found;
    if (key == 0) {
        found = (int)h->has_zero;
        v = h->zero_val;
    } else {
        uint32_t i = slot_of(h, key);
        found = i != UINT32_MAX;
        if (found) {
            v = h->slots[i].val;
        }
    }
    if (found && val) {
        *val = v;
    }
    return found;
}

/* Empties slot i. Backward-shift deletion: each following entry of the cluster whose home is
 * not in (i, j] moves into the hole, so every entry stays reachable from its home. */
static void delete_at(struct evl__hash *h, uint32_t i)
{
    uint32_t mask = h->mask;
    for (uint32_t j = (i + 1) & mask; h->slots[j].key != 0; j = (j + 1) & mask) {
        uint32_t home = home_of(h, h->slots[j].key);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->slots[i] = h->slots[j];
            i = j;
        }
    }
    h->slots[i].key = 0;
    h->slots[i].val = NULL;
    h->used--;
}

int evl__hash_remove(struct evl__hash *h, uint64_t key, void **val)
{
    void *v;
    if (key == 0) {
        if (!h->has_zero) {
            return 0;
        }
        v = h->zero_val;
        h->has_zero = 0;
        h->zero_val = NULL;
    } else {
        uint32_t i = slot_of(h, key);
        if (i == UINT32_MAX) {
            return 0;
        }
        v = h->slots[i].val;
        delete_at(h, i);
    }
    if (val) {
        *val = v;
    }
    return 1;
}

int evl__hash_next(const struct evl__hash *h, uint32_t *cursor, uint64_t *key, void **val)
{
    /* Cursor 0 stands for key 0, cursor i + 1 for slot i. */
    uint32_t c = *cursor;
    if (c == 0) {
        *cursor = c = 1;
        if (h->has_zero) {
            *key = 0;
            *val = h->zero_val;
            return 1;
        }
    }
    uint32_t cap = h->slots ? h->mask + 1 : 0;
    for (uint32_t i = c - 1; i < cap; i++) {
        if (h->slots[i].key != 0) {
            *key = h->slots[i].key;
            *val = h->slots[i].val;
            *cursor = i + 2;
            return 1;
        }
    }
    *cursor = cap + 1;
    return 0;
}

/*
 * The rules, numbered as evl__hash_check reports them:
 *   1. without slots: mask, used are 0;
 *   2. with slots: the capacity is a power of two >= MIN_CAP and shift matches it;
 *   3. the load is at most 1/2 (used * 2 <= capacity);
 *   4. used counts the occupied slots;
 *   5. every entry is reachable from its home: no empty slot between them;
 *   6. no key is stored twice (the first match on the probe path is the entry itself);
 *   7. has_zero is 0 or 1, and zero_val is NULL without key 0.
 */
int evl__hash_check(const struct evl__hash *h)
{
    if (h->has_zero > 1 || (!h->has_zero && h->zero_val != NULL)) {
        return 7;
    }
    if (!h->slots) {
        return h->mask == 0 && h->used == 0 ? 0 : 1;
    }
    uint32_t cap = h->mask + 1;
    if (cap < MIN_CAP || (cap & h->mask) != 0 || cap > MAX_CAP) {
        return 2;
    }
    uint32_t log2 = 0;
    while ((UINT32_C(1) << log2) < cap) {
        log2++;
    }
    if (h->shift != 64 - log2) {
        return 2;
    }
    if ((uint64_t)h->used * 2 > cap) {
        return 3;
    }
    uint32_t occupied = 0;
    for (uint32_t i = 0; i < cap; i++) {
        uint64_t key = h->slots[i].key;
        if (key == 0) {
            continue;
        }
        occupied++;
        for (uint32_t j = home_of(h, key); j != i; j = (j + 1) & h->mask) {
            if (h->slots[j].key == 0) {
                return 5;
            }
            if (h->slots[j].key == key) {
                return 6;
            }
        }
    }
    return occupied == h->used ? 0 : 4;
}
