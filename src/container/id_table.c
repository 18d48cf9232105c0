/*
 * The id table (see id_table.h).
 */
#include "container/id_table.h"

#include "container/mem.h"
#include "evl/errno.h"

#include <string.h>

static inline void *idx_val(uint32_t idx)
{
    return (void *)(uintptr_t)idx;
}

static inline uint32_t val_idx(void *v)
{
    return (uint32_t)(uintptr_t)v;
}

void evl__id_table_init(struct evl__id_table *t, const struct evl_allocator *a)
{
    t->slots = NULL;
    t->mask = 0;
    evl__hash_init(&t->ovf, a);
}

void evl__id_table_deinit(struct evl__id_table *t)
{
    const struct evl_allocator *a = t->ovf.alloc;
    evl__mem_free(a, t->slots);
    evl__hash_deinit(&t->ovf);
    evl__id_table_init(t, a);
}

uint32_t evl__id_table_find_ovf(const struct evl__id_table *t, uint64_t id)
{
    void *v;
    return evl__hash_get(&t->ovf, id, &v) ? val_idx(v) : EVL__TIMER_NONE;
}

uint32_t evl__id_table_take_ovf(struct evl__id_table *t, uint64_t id)
{
    void *v;
    return evl__hash_remove(&t->ovf, id, &v) ? val_idx(v) : EVL__TIMER_NONE;
}

/* Moves the record in *slot to the overflow map, which has room. */
static void displace(struct evl__id_table *t, const struct evl__timer *recs, const uint32_t *slot)
{
    int rc = evl__hash_put(&t->ovf, recs[*slot - 1].id, idx_val(*slot - 1));
    EVL__ASSERT(rc == 0);
    (void)rc;
}

/* Places record idx in the primary table, moving the older id that holds its slot to the
 * overflow map, which has room. Inline: growth places every entry. */
static inline void place(struct evl__id_table *t, const struct evl__timer *recs, uint32_t idx)
{
    uint32_t *slot = &t->slots[recs[idx].id & t->mask];
    if (*slot != 0) {
        displace(t, recs, slot);
    }
    *slot = idx + 1;
}

int evl__id_table_put_collided(struct evl__id_table *t, const struct evl__timer *recs, uint32_t idx)
{
    if (evl__hash_reserve(&t->ovf, 1) != 0) {
        return EVL_ENOMEM;
    }
    place(t, recs, idx);
    EVL__CHECK_WALK(t->mask, evl__id_table_check(t, recs, UINT32_MAX));
    return 0;
}

int evl__id_table_grow(struct evl__id_table *t, const struct evl__timer *recs, uint32_t size)
{
    uint32_t old_size = t->slots ? t->mask + 1 : 0;
    if (size <= old_size) {
        return 0;
    }
    const struct evl_allocator *a = t->ovf.alloc;
    uint32_t *slots = evl__mem_alloc(a, (size_t)size * sizeof(*slots));
    if (!slots) {
        return EVL_ENOMEM;
    }
    memset(slots, 0, (size_t)size * sizeof(*slots));
    /* Ids that share a slot of the new table shared one of the old (a = b mod 2S implies
     * a = b mod S), so the entries the new table cannot hold are at most as many as the
     * overflow map holds now: room for that many makes every placement below infallible. */
    struct evl__hash ovf;
    evl__hash_init(&ovf, a);
    if (evl__hash_reserve(&ovf, evl__hash_count(&t->ovf)) != 0) {
        evl__mem_free(a, slots);
        return EVL_ENOMEM;
    }
    uint32_t *old_slots = t->slots;
    struct evl__hash old_ovf = t->ovf;
    t->slots = slots;
    t->mask = size - 1;
    t->ovf = ovf;
    /* Placement written out with locals: a store into the table may alias t->mask, which the
     * compiler would otherwise reload for every entry. */
    uint32_t mask = size - 1;
    for (uint32_t i = 0; i < old_size; i++) {
        uint32_t v = old_slots[i];
        if (v != 0) {
            uint32_t *slot = &slots[recs[v - 1].id & mask];
            if (*slot != 0) {
                displace(t, recs, slot);
            }
            *slot = v;
        }
    }
    uint32_t cur = 0;
    uint64_t id;
    void *v;
    while (evl__hash_next(&old_ovf, &cur, &id, &v)) {
        place(t, recs, val_idx(v));
    }
    evl__mem_free(a, old_slots);
    evl__hash_deinit(&old_ovf);
    return 0;
}

uint32_t evl__id_table_count(const struct evl__id_table *t)
{
    uint32_t n = evl__hash_count(&t->ovf);
    for (uint32_t i = 0; t->slots && i <= t->mask; i++) {
        n += t->slots[i] != 0;
    }
    return n;
}

/*
 * The rules, numbered as evl__id_table_check reports them:
 *   1. the primary size is a power of two (or there are no slots and mask is 0);
 *   2. a primary slot names a record below nrecs whose id maps to that slot;
 *   3. the overflow map is consistent (evl__hash_check) and each of its entries names a record
 *      below nrecs holding that id, which its primary slot does not also hold;
 *   4. no more ids are recorded than there are records (when nrecs is known, not UINT32_MAX).
 */
int evl__id_table_check(const struct evl__id_table *t, const struct evl__timer *recs,
                        uint32_t nrecs)
{
    if (!t->slots) {
        return t->mask == 0 && evl__hash_count(&t->ovf) == 0 ? 0 : 1;
    }
    if (((t->mask + 1) & t->mask) != 0) {
        return 1;
    }
    uint32_t named = 0;
    for (uint32_t i = 0; i <= t->mask; i++) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            continue;
        }
        if (v - 1 >= nrecs || (recs[v - 1].id & t->mask) != i) {
            return 2;
        }
        named++;
    }
    if (evl__hash_check(&t->ovf) != 0) {
        return 3;
    }
    uint32_t cur = 0;
    uint64_t id;
    void *v;
    while (evl__hash_next(&t->ovf, &cur, &id, &v)) {
        uint32_t idx = val_idx(v);
        if (idx >= nrecs || recs[idx].id != id || t->slots[id & t->mask] == idx + 1) {
            return 3;
        }
        named++;
    }
    if (nrecs != UINT32_MAX && named > nrecs) {
        return 4;
    }
    return 0;
}
