/* The timer record pool (src/container/timer_pool.c), white-box. */
#include "evl_test.h"

#include "container/timer_pool.h"

static void noop(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

TEST(timer_pool_hands_out_fresh_then_most_recently_freed)
{
    struct evl__timer_pool p;
    evl__timer_pool_init(&p);
    ASSERT_UEQ(evl__timer_pool_take(&p), EVL__TIMER_NONE); /* empty: grow first */
    ASSERT_OK(evl__timer_pool_grow(&p, NULL, 4));
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t idx = evl__timer_pool_take(&p);
        ASSERT_UEQ(idx, i);
        p.recs[idx].cb = noop;
    }
    ASSERT_UEQ(evl__timer_pool_take(&p), EVL__TIMER_NONE);
    evl__timer_pool_put(&p, 1);
    evl__timer_pool_put(&p, 3);
    ASSERT_NULL(p.recs[3].cb); /* a free record holds nothing */
    ASSERT_EQ(evl__timer_pool_check(&p), 0);
    ASSERT_UEQ(evl__timer_pool_live(&p), 2);
    ASSERT_UEQ(evl__timer_pool_take(&p), 3);
    ASSERT_UEQ(evl__timer_pool_take(&p), 1);
    ASSERT_UEQ(evl__timer_pool_take(&p), EVL__TIMER_NONE);
    /* Growth keeps the records where their indices say. */
    p.recs[2].id = 77;
    ASSERT_OK(evl__timer_pool_grow(&p, NULL, 8));
    ASSERT_UEQ(p.recs[2].id, 77);
    ASSERT_UEQ(evl__timer_pool_take(&p), 4);
    ASSERT_EQ(evl__timer_pool_check(&p), 0);
    evl__timer_pool_deinit(&p, NULL);
}

TEST(timer_pool_failed_growth_changes_nothing)
{
    struct evl__timer_pool p;
    evl__timer_pool_init(&p);
    ASSERT_OK(evl__timer_pool_grow(&p, NULL, 4));
    struct evl__timer *recs = p.recs;
    evl_alloc_fail_at(1, 1);
    ASSERT_ERR(EVL_ENOMEM, evl__timer_pool_grow(&p, NULL, 8));
    evl_alloc_fail_at(0, 0);
    ASSERT_PTR_EQ(p.recs, recs);
    ASSERT_UEQ(p.cap, 4);
    evl__timer_pool_deinit(&p, NULL);
}

TEST(timer_meta_packs_period_nesting_and_flags)
{
    uint64_t m = evl__timer_meta(EVL__TIMER_PERIOD_MASK, 9000, EVL__TIMER_REF | EVL__TIMER_IN_RUN);
    ASSERT_UEQ(evl__timer_period(m), EVL__TIMER_PERIOD_MASK);
    ASSERT_UEQ(evl__timer_nesting(m), EVL__TIMER_NEST_MAX); /* saturates */
    ASSERT_UEQ(m & EVL__TIMER_FLAGS_MASK, EVL__TIMER_REF | EVL__TIMER_IN_RUN);
    struct evl__timer a = {0}, b = {0};
    a.deadline = b.deadline = 5;
    a.seq = UINT32_MAX;
    b.seq = 1; /* issued after a, across the wrap */
    ASSERT_TRUE(evl__timer_before(&a, &b));
    ASSERT_FALSE(evl__timer_before(&b, &a));
}

TEST(timer_pool_check_rejects_corruption)
{
    struct evl__timer_pool p;
    evl__timer_pool_init(&p);
    ASSERT_OK(evl__timer_pool_grow(&p, NULL, 4));
    for (uint32_t i = 0; i < 3; i++) {
        (void)evl__timer_pool_take(&p);
    }
    evl__timer_pool_put(&p, 0);
    evl__timer_pool_put(&p, 2);
    ASSERT_EQ(evl__timer_pool_check(&p), 0);
    p.recs[0].pos = 2; /* 2 -> 0 -> 2: a cycle */
    ASSERT_EQ(evl__timer_pool_check(&p), 2);
    p.recs[0].pos = EVL__TIMER_NONE;
    p.recs[0].cb = noop;
    ASSERT_EQ(evl__timer_pool_check(&p), 3);
    p.recs[0].cb = NULL;
    p.used = 5;
    ASSERT_EQ(evl__timer_pool_check(&p), 1);
    p.used = 3;
    ASSERT_EQ(evl__timer_pool_check(&p), 0);
    evl__timer_pool_deinit(&p, NULL);
}
