/* The adapter's heap: Duktape allocates through evl and everything is freed. */
#include "evl_duktape.h"
#include "evl_test.h"

TEST(heap_allocates_through_evl)
{
    duk_context *ctx = NULL;
    uint64_t before = evl_test_live_blocks();
    ASSERT_OK(evl_duk_heap_new(&ctx, NULL));
    ASSERT_UGE(evl_test_live_blocks(), before + 10);
    ASSERT_EQ(duk_peval_string(ctx, "[1,2,3].map(function (x) { return x * 2; }).join()"), 0);
    ASSERT_STR_EQ(duk_get_string(ctx, -1), "2,4,6");
    duk_pop(ctx);
    evl_duk_heap_free(ctx);
    ASSERT_UEQ(evl_test_live_blocks(), before);
}

TEST(heap_cap_fails_allocation_cleanly)
{
    struct evl_duk_heap_options opt;
    evl_duk_heap_options_init(&opt);
    opt.max_heap_bytes = 2u << 20;
    duk_context *ctx = NULL;
    ASSERT_OK(evl_duk_heap_new(&ctx, &opt));
    ASSERT_NE(duk_peval_string(ctx, "var a = []; for (;;) { a.push('x' + a.length); }"), 0);
    duk_pop(ctx);
    ASSERT_EQ(duk_peval_string(ctx, "1 + 1"), 0);
    ASSERT_EQ(duk_get_int(ctx, -1), 2);
    duk_pop(ctx);
    evl_duk_heap_free(ctx);
}

static duk_ret_t js_free_own_heap(duk_context *ctx)
{
    duk_push_int(ctx, evl_duk_heap_free(ctx));
    return 1;
}

/* Regression: freeing the heap from one of its own JS callbacks destroyed the running heap. */
TEST(heap_free_from_inside_a_callback_is_refused)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_duk_heap_new(&ctx, NULL));
    ASSERT_OK(evl_duk_install(ctx, loop, 0));
    duk_push_c_function(ctx, js_free_own_heap, 0);
    duk_put_global_string(ctx, "freeMe");
    ASSERT_EQ(duk_peval_string(ctx, "var rc; setTimeout(function () { rc = freeMe(); }, 0);"), 0);
    duk_pop(ctx);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(duk_peval_string(ctx, "rc"), 0);
    ASSERT_EQ(duk_get_int(ctx, -1), EVL_ERECURSE);
    duk_pop(ctx);
    ASSERT_OK(evl_duk_heap_free(ctx));
    ASSERT_ERR(EVL_EINVAL, evl_duk_heap_free(NULL));
    ASSERT_OK(evl_loop_free(loop));
}
