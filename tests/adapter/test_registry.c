/* The stash registry and the binding's lifetime. */
#include "duk_env.h"
#include "duktape/registry.h"

TEST(registry_preserves_identity_undefined_and_null)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    duk_context *ctx = e.ctx;
    struct evl_duk *d = evl__duk_get(ctx);
    env_eval(&e, "function P() {} var obj = new P(); obj.tag = 7;");
    duk_get_global_string(ctx, "obj");
    uint32_t r_obj = evl__duk_ref(d, -1);
    duk_push_undefined(ctx);
    uint32_t r_undef = evl__duk_ref(d, -1);
    duk_push_null(ctx);
    uint32_t r_null = evl__duk_ref(d, -1);
    duk_pop_3(ctx);
    ASSERT_EQ(duk_get_top(ctx), 0);
    ASSERT_TRUE(r_obj && r_undef && r_null);
    ASSERT_TRUE(r_obj != r_undef && r_undef != r_null);

    duk_gc(ctx, 0);
    evl__duk_push_ref(d, r_obj);
    duk_get_global_string(ctx, "obj");
    ASSERT_TRUE(duk_strict_equals(ctx, -1, -2));
    duk_pop_2(ctx);
    evl__duk_push_ref(d, r_undef);
    ASSERT_TRUE(duk_is_undefined(ctx, -1));
    evl__duk_push_ref(d, r_null);
    ASSERT_TRUE(duk_is_null(ctx, -1));
    duk_pop_2(ctx);

    /* Released handles are reused; releasing twice or an unknown handle is harmless. */
    evl__duk_unref(d, r_undef);
    evl__duk_unref(d, r_undef);
    evl__duk_unref(d, 99999);
    duk_push_int(ctx, 5);
    uint32_t again = evl__duk_ref(d, -1);
    duk_pop(ctx);
    ASSERT_EQ(again, r_undef);
    duk_push_int(ctx, 6);
    uint32_t fresh = evl__duk_ref(d, -1);
    duk_pop(ctx);
    ASSERT_TRUE(fresh != again);
    evl__duk_push_ref(d, again);
    ASSERT_EQ(duk_get_int(ctx, -1), 5);
    duk_pop(ctx);
    ASSERT_EQ(duk_get_top(ctx), 0);
    env_close(&e);
}

TEST(registry_keeps_values_alive_across_gc)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    duk_context *ctx = e.ctx;
    struct evl_duk *d = evl__duk_get(ctx);
    uint32_t refs[200];
    for (int i = 0; i < 200; i++) {
        duk_push_object(ctx);
        duk_push_int(ctx, i);
        duk_put_prop_string(ctx, -2, "i");
        refs[i] = evl__duk_ref(d, -1);
        duk_pop(ctx);
    }
    duk_gc(ctx, 0);
    duk_gc(ctx, 0);
    for (int i = 0; i < 200; i++) {
        evl__duk_push_ref(d, refs[i]);
        duk_get_prop_string(ctx, -1, "i");
        ASSERT_EQ(duk_get_int(ctx, -1), i);
        duk_pop_2(ctx);
        if (i % 2 == 0) {
            evl__duk_unref(d, refs[i]);
        }
    }
    env_close(&e);
}

TEST(install_refuses_second_binding)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    struct evl_loop *other = NULL;
    ASSERT_OK(evl_loop_new(&other, NULL));
    ASSERT_ERR(EVL_EEXIST, evl_duk_install(e.ctx, other, 0));
    ASSERT_ERR(EVL_EEXIST, evl_duk_install(e.ctx, e.loop, 0));
    ASSERT_ERR(EVL_EINVAL, evl_duk_install(NULL, e.loop, 0));
    /* After uninstall the heap can be bound again (to another loop). */
    ASSERT_OK(evl_duk_uninstall(e.ctx));
    ASSERT_ERR(EVL_ENOENT, evl_duk_uninstall(e.ctx));
    ASSERT_OK(evl_duk_install(e.ctx, other, 0));
    ASSERT_STR_EQ(env_str(&e, "typeof setTimeout + typeof process.nextTick"), "functionfunction");
    evl_duk_heap_free(e.ctx);
    ASSERT_OK(evl_loop_free(other));
    ASSERT_OK(evl_loop_free(e.loop));
}

TEST(uninstall_releases_pending_work_without_leaks)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "for (var i = 0; i < 50; i++) { setTimeout(function () {}, 1000 + i, {i: i});"
                 " setInterval(function () {}, 10); setImmediate(function () {});"
                 " process.nextTick(function () {}, i); queueMicrotask(function () {}); }");
    ASSERT_TRUE(evl_loop_alive(e.loop));
    ASSERT_OK(evl_duk_uninstall(e.ctx));
    /* Orphaned jobs run as no-ops and free themselves; no timer is left. */
    ASSERT_EQ(evl_loop_run(e.loop, EVL_RUN_NOWAIT), 0);
    ASSERT_FALSE(evl_loop_alive(e.loop));
    evl_duk_heap_free(e.ctx);
    ASSERT_OK(evl_loop_free(e.loop));
}

TEST(heap_destruction_alone_releases_the_binding)
{
    /* A heap the embedder made itself and destroys without uninstalling: the stash sentry's
     * finalizer frees the binding and cancels its timers. The leak check proves it. */
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    duk_context *ctx = duk_create_heap_default();
    ASSERT_NOT_NULL(ctx);
    ASSERT_OK(evl_duk_install(ctx, loop, 0));
    ASSERT_ERR(EVL_ENOSYS, evl_duk_set_exec_limit(ctx, 10));
    ASSERT_EQ(duk_peval_string(ctx, "setTimeout(function () {}, 5000); setInterval(function () "
                                    "{}, 5); process.nextTick(function () {});"),
              0);
    duk_pop(ctx);
    ASSERT_TRUE(evl_loop_alive(loop));
    duk_destroy_heap(ctx);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(allocator_back_to_zero_after_heavy_use)
{
    uint64_t before = evl_test_live_blocks();
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var n = 0; function step() { if (++n < 2000) { setImmediate(step); } }"
                 " step(); for (var i = 0; i < 500; i++) { clearTimeout(setTimeout(step, 5)); }");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "n"), "2000");
    env_close(&e);
    ASSERT_UEQ(evl_test_live_blocks(), before);
}
