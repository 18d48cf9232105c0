/* The id table (src/container/id_table.c), white-box over a record array of its own. */
#include "evl_test.h"

#include "container/id_table.h"

#define NRECS 256
static struct evl__timer recs[NRECS];

static void table_new(struct evl__id_table *t, uint32_t size)
{
    evl__id_table_init(t, NULL);
    ASSERT_UEQ(evl__id_table_find(t, recs, 1), EVL__TIMER_NONE); /* no slots yet */
    ASSERT_OK(evl__id_table_grow(t, recs, size));
    ASSERT_EQ(evl__id_table_check(t, recs, NRECS), 0);
}

static void put(struct evl__id_table *t, uint32_t idx, uint64_t id)
{
    recs[idx].id = id;
    ASSERT_OK(evl__id_table_put(t, recs, idx));
    ASSERT_EQ(evl__id_table_check(t, recs, NRECS), 0);
}

TEST(id_table_find_take_remove)
{
    struct evl__id_table t;
    table_new(&t, 16);
    put(&t, 3, 100);
    put(&t, 4, 101);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 100), 3);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 101), 4);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 102), EVL__TIMER_NONE);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 100 + 16), EVL__TIMER_NONE); /* same slot */
    ASSERT_UEQ(evl__id_table_take(&t, recs, 100), 3);
    ASSERT_UEQ(evl__id_table_take(&t, recs, 100), EVL__TIMER_NONE);
    evl__id_table_remove(&t, recs, 4);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 101), EVL__TIMER_NONE);
    ASSERT_UEQ(evl__id_table_count(&t), 0);
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    evl__id_table_deinit(&t);
}

/* An id whose slot is taken by a newer one moves to the overflow map and stays findable. */
TEST(id_table_collisions_go_to_the_overflow_map)
{
    struct evl__id_table t;
    table_new(&t, 16);
    put(&t, 0, 5);
    put(&t, 1, 5 + 16);
    put(&t, 2, 5 + 32);
    ASSERT_UEQ(evl__hash_count(&t.ovf), 2);
    ASSERT_UEQ(t.slots[5], 2 + 1); /* the newest holds the slot */
    for (uint32_t i = 0; i < 3; i++) {
        ASSERT_UEQ(evl__id_table_find(&t, recs, 5 + 16 * i), i);
    }
    ASSERT_UEQ(evl__id_table_count(&t), 3);
    /* Taking and removing work from either level. */
    ASSERT_UEQ(evl__id_table_take(&t, recs, 5), 0);
    evl__id_table_remove(&t, recs, 2);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 5 + 16), 1);
    ASSERT_UEQ(evl__id_table_count(&t), 1);
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    evl__id_table_deinit(&t);
}

TEST(id_table_growth_keeps_every_id)
{
    struct evl__id_table t;
    table_new(&t, 16);
    for (uint32_t i = 0; i < 40; i++) {
        put(&t, i, 1 + (uint64_t)i * 7);
    }
    ASSERT_GT(evl__hash_count(&t.ovf), 0);
    ASSERT_OK(evl__id_table_grow(&t, recs, 64));
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    ASSERT_OK(evl__id_table_grow(&t, recs, 512));
    ASSERT_UEQ(evl__hash_count(&t.ovf), 0); /* 512 slots: every id has its own */
    for (uint32_t i = 0; i < 40; i++) {
        ASSERT_UEQ(evl__id_table_find(&t, recs, 1 + (uint64_t)i * 7), i);
    }
    ASSERT_UEQ(evl__id_table_count(&t), 40);
    evl__id_table_deinit(&t);
}

TEST(id_table_failures_change_nothing)
{
    struct evl__id_table t;
    table_new(&t, 16);
    put(&t, 0, 9);
    recs[1].id = 9 + 16;
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl__id_table_put(&t, recs, 1)); /* the overflow map cannot grow */
    ASSERT_ERR(EVL_ENOMEM, evl__id_table_grow(&t, recs, 32));
    evl_alloc_fail_at(0, 0);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 9), 0);
    ASSERT_UEQ(evl__id_table_find(&t, recs, 9 + 16), EVL__TIMER_NONE);
    ASSERT_UEQ(t.mask, 15);
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    evl__id_table_deinit(&t);
}

TEST(id_table_check_rejects_corruption)
{
    struct evl__id_table t;
    table_new(&t, 16);
    put(&t, 0, 2);
    put(&t, 1, 2 + 16);
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    /* 2: a record in a slot its id does not map to. */
    t.slots[3] = t.slots[2];
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 2);
    t.slots[3] = 0;
    /* 2: a record index past the records. */
    ASSERT_EQ(evl__id_table_check(&t, recs, 1), 2);
    /* 3: an overflow entry whose record holds another id. */
    recs[0].id = 3 + 16 * 5;
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 3);
    recs[0].id = 2;
    /* 1: a size that is not a power of two. */
    t.mask = 14;
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 1);
    t.mask = 15;
    ASSERT_EQ(evl__id_table_check(&t, recs, NRECS), 0);
    evl__id_table_deinit(&t);
}
