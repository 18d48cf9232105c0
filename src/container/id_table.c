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

int evl__id_table_put_collided(struct evl__id_table *t, const struct evl__timer *recs, uint32_t idx)
{
    if (evl__hash_reserve(&t->ovf, 1) != 0) {
        return EVL_ENOMEM;
    }
    /* The older id that holds the slot moves to the overflow map (now with room). */
    uint32_t *slot = &t->slots[recs[idx].id & t->mask];
    int rc = evl__hash_put(&t->ovf, recs[*slot - 1].id, idx_val(*slot - 1));
    EVL__ASSERT(rc == 0);
    (void)rc;
    *slot = idx + 1;
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
    /* An overflow entry that finds its new primary slot taken stays in the overflow map, so
     * the new map needs room for at most as many entries as the old one holds: reserved before
     * anything changes, which makes every placement below infallible and lets a failure leave
     * the table as it was. */
    struct evl__hash ovf;
    evl__hash_init(&ovf, a);
    if (evl__hash_reserve(&ovf, evl__hash_count(&t->ovf)) != 0) {
        return EVL_ENOMEM;
    }
    uint32_t *slots = evl__mem_realloc(a, t->slots, (size_t)size * sizeof(*slots));
    if (!slots) {
        evl__hash_deinit(&ovf);
        return EVL_ENOMEM;
    }
    /* Grown in place: an id in old slot i maps to a new slot congruent to i modulo the old
     * size, which only slot i's entry can claim. So the old slots keep their entries or hand
     * them to a zeroed new slot without any collision, and neither the old half is cleared
     * again nor a second table held during the move. Written with locals: a store into the
     * table may alias t->mask, which the compiler would otherwise reload for every entry. */
    memset(slots + old_size, 0, (size_t)(size - old_size) * sizeof(*slots));
    uint32_t mask = size - 1;
    for (uint32_t i = 0; i < old_size; i++) {
        uint32_t v = slots[i];
        if (v != 0) {
            uint32_t j = (uint32_t)recs[v - 1].id & mask;
            if (j != i) {
                slots[j] = v;
                slots[i] = 0;
            }
        }
    }
    struct evl__hash old_ovf = t->ovf;
    t->slots = slots;
    t->mask = mask;
    t->ovf = ovf;
    uint32_t cur = 0;
    uint64_t id;
    void *v;
    while (evl__hash_next(&old_ovf, &cur, &id, &v)) {
        uint32_t *slot = &slots[id & mask];
        if (*slot == 0) {
            *slot = val_idx(v) + 1;
        } else {
            int rc = evl__hash_put(&t->ovf, id, v);
            EVL__ASSERT(rc == 0);
            (void)rc;
        }
    }
    evl__hash_deinit(&old_ovf);
    EVL__CHECK_WALK(mask, evl__id_table_check(t, recs, UINT32_MAX));
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
