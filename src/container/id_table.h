/*
 * The id table: timer id -> record index, in two levels. The primary table is direct-mapped:
 * id & mask, with (as the timer policy sizes it) twice as many slots as the pool has records.
 * Ids are issued in sequence, so the timers armed together (and usually fired or cleared
 * together) sit in adjacent slots, 16 to a cache line: a burst of a million sets, fires or
 * clears walks the table sequentially instead of missing the cache once per timer. Two live
 * ids share a slot only when one outlived a table's worth of newer ids; the older then moves
 * to the overflow map (container/hash.h), which stays empty in most programs and is looked at
 * only when it is not. (Putting sequential ids straight into one linear-probing table with a
 * locality-keeping hash clusters badly: adjacent homes merge into long probe chains.)
 *
 * A primary slot holds the record index + 1 (0: empty) and the id is read from the record, so
 * a slot is 4 bytes; the overflow map stores the id itself.
 */
#ifndef EVL_CONTAINER_ID_TABLE_H
#define EVL_CONTAINER_ID_TABLE_H

#include "container/hash.h"
#include "container/timer_pool.h"

struct evl__id_table {
    uint32_t *slots; /* mask + 1 slots, or NULL before the first growth */
    uint32_t mask;
    struct evl__hash ovf; /* id -> record index, for ids whose primary slot was taken */
};

/* An empty table allocating through a (NULL: evl_malloc; borrowed). Allocates nothing. */
void evl__id_table_init(struct evl__id_table *t, const struct evl_allocator *a);
void evl__id_table_deinit(struct evl__id_table *t);
/* Moves every entry into a primary table of size slots (a power of two, larger than now).
 * Returns 0 or EVL_ENOMEM (the table unchanged). */
int evl__id_table_grow(struct evl__id_table *t, const struct evl__timer *recs, uint32_t size);

/* The overflow halves of the operations below (out of line: rare). */
uint32_t evl__id_table_find_ovf(const struct evl__id_table *t, uint64_t id);
uint32_t evl__id_table_take_ovf(struct evl__id_table *t, uint64_t id);
int evl__id_table_put_collided(struct evl__id_table *t, const struct evl__timer *recs,
                               uint32_t idx);

/* The record of id, or EVL__TIMER_NONE. */
static inline uint32_t evl__id_table_find(const struct evl__id_table *t,
                                          const struct evl__timer *recs, uint64_t id)
{
    if (!t->slots) {
        return EVL__TIMER_NONE;
    }
    uint32_t v = t->slots[id & t->mask];
    if (v != 0 && recs[v - 1].id == id) {
        return v - 1;
    }
    return evl__hash_count(&t->ovf) != 0 ? evl__id_table_find_ovf(t, id) : EVL__TIMER_NONE;
}

/* Finds id and forgets it; returns its record or EVL__TIMER_NONE. */
static inline uint32_t evl__id_table_take(struct evl__id_table *t, const struct evl__timer *recs,
                                          uint64_t id)
{
    if (!t->slots) {
        return EVL__TIMER_NONE;
    }
    uint32_t *slot = &t->slots[id & t->mask];
    uint32_t v = *slot;
    if (v != 0 && recs[v - 1].id == id) {
        *slot = 0;
        return v - 1;
    }
    return evl__hash_count(&t->ovf) != 0 ? evl__id_table_take_ovf(t, id) : EVL__TIMER_NONE;
}

/* Forgets record idx, which the table holds. */
static inline void evl__id_table_remove(struct evl__id_table *t, const struct evl__timer *recs,
                                        uint32_t idx)
{
    uint32_t *slot = &t->slots[recs[idx].id & t->mask];
    if (*slot == idx + 1) {
        *slot = 0;
    } else {
        (void)evl__id_table_take_ovf(t, recs[idx].id);
    }
}

/* Records idx under its id (not yet recorded). Fails (EVL_ENOMEM, nothing changed) only when
 * a collision needs a larger overflow map. The table must have slots (grown once). */
static inline int evl__id_table_put(struct evl__id_table *t, const struct evl__timer *recs,
                                    uint32_t idx)
{
    uint32_t *slot = &t->slots[recs[idx].id & t->mask];
    if (*slot != 0) {
        return evl__id_table_put_collided(t, recs, idx);
    }
    *slot = idx + 1;
    return 0;
}

/* Starts fetching the slot of id (which a later find or take will read). */
static inline void evl__id_table_prefetch(const struct evl__id_table *t, uint64_t id)
{
    EVL__PREFETCH_W(&t->slots[id & t->mask]);
}

/* Ids recorded (O(primary size)). */
uint32_t evl__id_table_count(const struct evl__id_table *t);

/* The invariant walk: 0 if the table over recs (nrecs records) is consistent, else the
 * number of the first rule broken (see id_table.c). O(primary size + overflow capacity). */
int evl__id_table_check(const struct evl__id_table *t, const struct evl__timer *recs,
                        uint32_t nrecs);

#endif
