/* The allocator seam and the error table. */
#include "evl_test.h"

TEST(alloc_counts_live_blocks)
{
    uint64_t before = evl_test_live_blocks();
    void *a = evl_malloc(10);
    void *b = evl_calloc(4, 8);
    ASSERT_NOT_NULL(a);
    ASSERT_NOT_NULL(b);
    ASSERT_UEQ(evl_test_live_blocks(), before + 2);
    a = evl_realloc(a, 1000);
    ASSERT_NOT_NULL(a);
    ASSERT_UEQ(evl_test_live_blocks(), before + 2);
    evl_free(a);
    evl_free(b);
    evl_free(NULL);
    ASSERT_UEQ(evl_test_live_blocks(), before);
}

TEST(alloc_fail_nth)
{
    evl_alloc_fail_at(3, 0);
    void *a = evl_malloc(8);
    void *b = evl_malloc(8);
    void *c = evl_malloc(8);
    void *d = evl_malloc(8);
    ASSERT_NOT_NULL(a);
    ASSERT_NOT_NULL(b);
    ASSERT_NULL(c);
    ASSERT_NOT_NULL(d);
    evl_free(a);
    evl_free(b);
    evl_free(d);
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    ASSERT_UEQ(st.failed_allocs, 1);
}

TEST(alloc_fail_sticky_and_limit)
{
    evl_alloc_fail_at(1, 1);
    ASSERT_NULL(evl_malloc(1));
    ASSERT_NULL(evl_malloc(1));
    evl_alloc_fail_at(0, 0);
    evl_alloc_set_limit(100);
    void *a = evl_malloc(60);
    ASSERT_NOT_NULL(a);
    ASSERT_NULL(evl_malloc(60));
    evl_alloc_set_limit(0);
    evl_free(a);
}

TEST(calloc_overflow_is_refused)
{
    ASSERT_NULL(evl_calloc(SIZE_MAX / 2, 4));
}

TEST(strerror_table)
{
    ASSERT_STR_EQ(evl_err_name(EVL_EINVAL), "EVL_EINVAL");
    ASSERT_STR_EQ(evl_strerror(EVL_ENOMEM), "out of memory");
    ASSERT_STR_EQ(evl_err_name(0), "EVL_OK");
    ASSERT_STR_EQ(evl_err_name(-9999), "EVL_UNKNOWN");
    ASSERT_STR_EQ(evl_strerror(12345), "unknown error");
#define CHECK_ONE(name, value, msg) ASSERT_STR_EQ(evl_strerror(value), msg);
    EVL_ERRNO_MAP(CHECK_ONE)
#undef CHECK_ONE
}

TEST(null_arguments_are_refused_not_dereferenced)
{
    evl_get_allocator(NULL);
    evl_alloc_stats(NULL);
    ASSERT_EQ(evl_loop_state(NULL), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(evl_loop_now_ns(NULL), 0);
}
