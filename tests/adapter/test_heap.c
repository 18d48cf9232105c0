/* The adapter's heap: Duktape allocates through evl and everything is freed. */
#include "evl_duktape.h"
#include "evl_test.h"

#include "duktape/engine/duk_engine.h"

#include <time.h>

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

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Regression: at the cap, Duktape ran up to ten full collections for every failed
 * allocation, so a script that kept allocating near its limit spun (64 s for a 10M-link chain
 * under a 2 GB cap). Once collections stop freeing memory the allocator holds them off: each
 * later failure costs next to nothing, and every one is a RangeError, never a DoubleError.
 */
TEST(heap_cap_exhaustion_fails_fast)
{
    struct evl_duk_heap_options opt;
    evl_duk_heap_options_init(&opt);
    opt.max_heap_bytes = 16u << 20;
    duk_context *ctx = NULL;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_duk_heap_new(&ctx, &opt));
    ASSERT_OK(evl_duk_install(ctx, loop, 0)); /* out of memory is a RangeError */
    /* Made while there is room: each call allocates until it fails. */
    ASSERT_EQ(duk_peval_string(ctx, "var head = null, n = 0; (function () {"
                                    "  try { for (;;) { head = { next: head }; n++; } }"
                                    "  catch (e) { return e instanceof RangeError; } })"),
              0);
    duk_put_global_string(ctx, "grow");
    double t0 = cpu_seconds();
    duk_get_global_string(ctx, "grow");
    ASSERT_EQ(duk_pcall(ctx, 0), 0);
    ASSERT_TRUE(duk_get_boolean(ctx, -1)); /* caught its RangeError */
    duk_pop(ctx);
    double t1 = cpu_seconds();
    for (int i = 0; i < 300; i++) {
        duk_get_global_string(ctx, "grow");
        if (duk_pcall(ctx, 0) == 0) {
            ASSERT_TRUE(duk_get_boolean(ctx, -1));
        } else {
            /* No room left to enter the catch clause: the RangeError leaves the function. */
            ASSERT_EQ(duk_get_error_code(ctx, -1), DUK_ERR_RANGE_ERROR);
        }
        duk_pop(ctx);
    }
    double t2 = cpu_seconds();
    duk_get_global_string(ctx, "n");
    ASSERT_GT(duk_get_int(ctx, -1), 100000);
    duk_pop(ctx);
    /* Filling 16 MB is one pass; 300 failures used to be ten full collections each. */
    ASSERT_TRUE(t2 - t1 < t1 - t0);
    /* Freeing the chain (from C: compiling a script needs memory) lets collections and
     * allocations work again. */
    duk_push_null(ctx);
    duk_put_global_string(ctx, "head");
    ASSERT_EQ(duk_peval_string(ctx, "var a = []; for (var i = 0; i < 1e4; i++)"
                                    "a.push({ i: i }); a.length"),
              0);
    ASSERT_EQ(duk_get_int(ctx, -1), 10000);
    duk_pop(ctx);
    ASSERT_OK(evl_duk_heap_free(ctx));
    ASSERT_OK(evl_loop_free(loop));
}

/* Regression: a cap below what Duktape needs for its built-ins aborted the process inside
 * duk_create_heap. It is refused; any cap above it gives a heap that fails cleanly. */
TEST(heap_cap_too_small_is_refused)
{
    static const uint64_t caps[] = {1,          1024,       64u << 10,  128u << 10, 192u << 10,
                                    256u << 10, 320u << 10, 512u << 10, 1u << 20};
    int refused = 0;
    uint64_t before = evl_test_live_blocks();
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        struct evl_duk_heap_options opt;
        evl_duk_heap_options_init(&opt);
        opt.max_heap_bytes = caps[i];
        duk_context *ctx = NULL;
        int rc = evl_duk_heap_new(&ctx, &opt);
        if (rc == EVL_ERANGE) {
            ASSERT_NULL(ctx);
            refused++;
            continue;
        }
        ASSERT_OK(rc);
        struct evl_loop *loop = NULL;
        ASSERT_OK(evl_loop_new(&loop, NULL));
        rc = evl_duk_install(ctx, loop, 0);
        ASSERT_TRUE(rc == 0 || rc == EVL_ENOMEM);
        ASSERT_NE(duk_peval_string(ctx, "var a = []; for (;;) a.push({});"), 0);
        duk_pop(ctx);
        ASSERT_OK(evl_duk_heap_free(ctx));
        ASSERT_OK(evl_loop_free(loop));
    }
    ASSERT_GE(refused, 3); /* 1 B, 1 KB and 64 KB at least */
    ASSERT_UEQ(evl_test_live_blocks(), before);
}

static duk_ret_t throw_double_error(duk_context *ctx)
{
    evl__duk_push_double_error(ctx);
    return duk_throw(ctx);
}

/*
 * Regression: when there is no memory left even to build the error, Duktape throws its one
 * fixed DoubleError instance, and scripts and reports saw "DoubleError: error in error
 * handling" for what is an out-of-memory condition. The adapter gives that instance a
 * RangeError's shape; thrown (as the engine throws it), a script sees a RangeError.
 */
TEST(heap_double_error_is_an_out_of_memory_range_error)
{
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_duk_heap_new(&ctx, NULL));
    ASSERT_OK(evl_duk_install(ctx, loop, 0));
    duk_push_c_function(ctx, throw_double_error, 0);
    duk_put_global_string(ctx, "throwDoubleError");
    ASSERT_EQ(duk_peval_string(ctx, "var e; try { throwDoubleError(); } catch (err) { e = err; }"
                                    "[e instanceof RangeError, e.name, e.message, String(e)]"
                                    ".join('|')"),
              0);
    ASSERT_STR_EQ(duk_get_string(ctx, -1), "true|RangeError|JavaScript heap out of memory|"
                                           "RangeError: JavaScript heap out of memory");
    duk_pop(ctx);
    duk_push_c_function(ctx, throw_double_error, 0);
    ASSERT_NE(duk_pcall(ctx, 0), 0);
    ASSERT_EQ(duk_get_error_code(ctx, -1), DUK_ERR_RANGE_ERROR);
    duk_pop(ctx);
    ASSERT_OK(evl_duk_heap_free(ctx));
    ASSERT_OK(evl_loop_free(loop));
}
