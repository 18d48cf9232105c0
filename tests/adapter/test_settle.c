/* Promises settled from C on any thread (evl_duk_push_new_promise): the JS value is made on
 * the loop thread, errors become rejections, and a heap that goes first loses nothing. */
#include "duk_env.h"

#include <pthread.h>

static duk_ret_t js_make(duk_context *ctx)
{
    struct evl_duk_resolver *r = NULL;
    if (evl_duk_push_new_promise(ctx, &r) != 0) {
        return DUK_RET_ERROR;
    }
    /* Keep the handle where the test finds it. */
    duk_push_global_stash(ctx);
    duk_push_pointer(ctx, r);
    duk_put_prop_string(ctx, -2, "resolver");
    duk_pop(ctx);
    return 1;
}

static struct evl_duk_resolver *last_resolver(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_string(ctx, -1, "resolver");
    struct evl_duk_resolver *r = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    return r;
}

static int push_number(duk_context *ctx, void *value)
{
    duk_push_number(ctx, (double)*(int *)value);
    return 0;
}

static int push_fails(duk_context *ctx, void *value)
{
    (void)ctx;
    (void)value;
    return EVL_ERANGE;
}

static int dtor_calls;

static void free_int(struct evl_loop *loop, void *value)
{
    (void)loop;
    dtor_calls++;
    evl_free(value);
}

static int *new_int(int v)
{
    int *p = evl_malloc(sizeof(*p));
    ASSERT_NOT_NULL(p);
    *p = v;
    return p;
}

static void open_with_make(struct duk_env *e)
{
    env_open(e, 0, 0);
    duk_push_c_function(e->ctx, js_make, 0);
    duk_put_global_string(e->ctx, "make");
    dtor_calls = 0;
}

struct settle_job {
    struct evl_duk_resolver *r;
    int *value;
};

static void *resolve_on_thread(void *arg)
{
    struct settle_job *j = arg;
    ASSERT_OK(evl_duk_resolver_resolve(j->r, push_number, j->value, free_int));
    ASSERT_ERR(EVL_EALREADY, evl_duk_resolver_reject(j->r, NULL, NULL, NULL));
    evl_duk_resolver_release(j->r);
    return NULL;
}

TEST(resolved_from_another_thread_with_a_js_number)
{
    struct duk_env e;
    open_with_make(&e);
    env_eval(&e, "var got; make().then(function (v) { got = typeof v + ':' + v; });");
    struct settle_job j = {last_resolver(e.ctx), new_int(42)};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, resolve_on_thread, &j), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(env_str(&e, "got"), "number:42");
    env_close(&e);
    ASSERT_EQ(dtor_calls, 1);
}

TEST(rejected_with_an_evl_error_through_the_standard_mapping)
{
    struct duk_env e;
    open_with_make(&e);
    env_eval(&e, "var got, stack; make().catch(function (e) { got = (e instanceof Error) + ':' + "
                 "e.code + ':' + e.message; stack = String(e.stack); });");
    struct evl_duk_resolver *r = last_resolver(e.ctx);
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_ETIMEDOUT, "took too long"));
    ASSERT_OK(evl_duk_resolver_reject(r, NULL, err, evl_error_dtor));
    evl_duk_resolver_release(r);
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(env_str(&e, "got"), "true:EVL_ETIMEDOUT:took too long");
    /* An error made in C names no C source file (no build-tree path in a script's stack). */
    ASSERT_STR_EQ(env_str(&e, "/\\.c:[0-9]/.test(stack)"), "false");
    ASSERT_STR_EQ(env_str(&e, "stack.indexOf('took too long') >= 0"), "true");
    env_close(&e);
}

TEST(a_failing_push_rejects_the_promise)
{
    struct duk_env e;
    open_with_make(&e);
    env_eval(&e, "var got; make().then(null, function (e) { got = String(e.message); });");
    struct evl_duk_resolver *r = last_resolver(e.ctx);
    ASSERT_OK(evl_duk_resolver_resolve(r, push_fails, new_int(1), free_int));
    evl_duk_resolver_release(r);
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    ASSERT_TRUE(strstr(env_str(&e, "got"), "push callback failed") != NULL);
    env_close(&e);
    ASSERT_EQ(dtor_calls, 1);
}

TEST(settled_after_the_heap_is_gone_only_destroys_the_value)
{
    struct duk_env e;
    open_with_make(&e);
    env_eval(&e, "make().then(function () { throw new Error('never'); });");
    struct evl_duk_resolver *r = last_resolver(e.ctx);
    evl_duk_heap_free(e.ctx);
    ASSERT_OK(evl_duk_resolver_resolve(r, push_number, new_int(7), free_int));
    evl_duk_resolver_release(r);
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(e.loop));
    ASSERT_EQ(dtor_calls, 1);
}

TEST(loop_of_a_heap_and_argument_checks)
{
    struct duk_env e;
    open_with_make(&e);
    ASSERT_PTR_EQ(evl_duk_loop(e.ctx), e.loop);
    ASSERT_NULL(evl_duk_loop(NULL));
    struct evl_duk_resolver *r = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_duk_push_new_promise(e.ctx, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_duk_resolver_resolve(NULL, NULL, NULL, NULL));
    evl_duk_resolver_release(NULL);
    duk_context *bare = duk_create_heap_default();
    ASSERT_ERR(EVL_ENOENT, evl_duk_push_new_promise(bare, &r));
    ASSERT_NULL(evl_duk_loop(bare));
    duk_destroy_heap(bare);
    env_close(&e);
}
