/* The task ring (src/base/ring.h, storage in src/alloc/ring.c): FIFO order across growth and
 * wrap-around, its invariant check, and growth failure. */
#include "evl_test.h"

#include "base/ring.h"

static void noop(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

TEST(ring_starts_unallocated_and_valid)
{
    struct evl__ring r = {0};
    ASSERT_EQ(evl__ring_check(&r), 0);
    ASSERT_UEQ(evl__ring_count(&r), 0);
    ASSERT_FALSE(evl__ring_nonempty(&r));
}

TEST(ring_keeps_fifo_order_across_growth_and_wrap)
{
    struct evl_loop *loop = new_loop();
    struct evl__ring r = {0};
    uintptr_t next_in = 0;
    uintptr_t next_out = 0;
    /* Interleave pushes and shifts so head and tail wrap the buffer while it grows. */
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 7; i++) {
            ASSERT_OK(evl__ring_push(loop, &r, noop, (void *)next_in++));
        }
        for (int i = 0; i < 5; i++) {
            struct evl__task t = evl__ring_shift(&r);
            ASSERT_PTR_EQ((void *)(uintptr_t)t.fn, (void *)(uintptr_t)noop);
            ASSERT_UEQ((uintptr_t)t.arg, next_out++);
        }
        ASSERT_EQ(evl__ring_check(&r), 0);
    }
    ASSERT_UEQ(evl__ring_count(&r), next_in - next_out);
    ASSERT_UGE(r.mask + 1u, evl__ring_count(&r));
    while (evl__ring_nonempty(&r)) {
        ASSERT_UEQ((uintptr_t)evl__ring_shift(&r).arg, next_out++);
    }
    ASSERT_UEQ(next_out, next_in);
    evl__ring_free(loop, &r);
    ASSERT_NULL(r.buf);
    ASSERT_EQ(evl__ring_check(&r), 0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(ring_clear_forgets_queued_tasks)
{
    struct evl_loop *loop = new_loop();
    struct evl__ring r = {0};
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(evl__ring_push(loop, &r, noop, NULL));
    }
    evl__ring_clear(&r);
    ASSERT_FALSE(evl__ring_nonempty(&r));
    ASSERT_EQ(evl__ring_check(&r), 0);
    evl__ring_free(loop, &r);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(ring_check_reports_broken_invariants)
{
    struct evl__task slots[4];
    struct evl__ring r = {slots, 3, 0, 0};
    ASSERT_EQ(evl__ring_check(&r), 0);
    r.tail = 5; /* more tasks than slots */
    ASSERT_NE(evl__ring_check(&r), 0);
    r.tail = 0;
    r.mask = 2; /* capacity 3: not a power of two */
    ASSERT_NE(evl__ring_check(&r), 0);
    struct evl__ring empty = {NULL, 0, 0, 1}; /* unallocated yet holding a task */
    ASSERT_NE(evl__ring_check(&empty), 0);
}

TEST(ring_growth_failure_leaves_the_ring_unchanged)
{
    struct evl_loop *loop = new_loop();
    struct evl__ring r = {0};
    ASSERT_OK(evl__ring_push(loop, &r, noop, (void *)1));
    uint32_t cap = r.mask + 1;
    for (uint32_t i = 1; i < cap; i++) {
        ASSERT_OK(evl__ring_push(loop, &r, noop, (void *)(uintptr_t)(i + 1)));
    }
    evl_alloc_fail_at(1, 0);
    ASSERT_ERR(EVL_ENOMEM, evl__ring_push(loop, &r, noop, NULL));
    ASSERT_UEQ(evl__ring_count(&r), cap);
    ASSERT_UEQ(r.mask + 1, cap);
    ASSERT_EQ(evl__ring_check(&r), 0);
    ASSERT_UEQ((uintptr_t)evl__ring_shift(&r).arg, 1);
    evl__ring_free(loop, &r);
    ASSERT_OK(evl_loop_free(loop));
}
