/* The engine fast paths (src/duktape/engine): each must match what the public API gives. */
#include "duk_env.h"
#include "duktape/engine/duk_engine.h"

/* Pushes the interned string s and returns its heap pointer (kept on the stack). */
static void *push_key(duk_context *ctx, const char *s)
{
    duk_push_string(ctx, s);
    return duk_get_heapptr(ctx, -1);
}

TEST(engine_record_matches_public_puts)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    duk_context *ctx = e.ctx;
    env_eval(&e, "function Proto() {} var made;");
    void *keys[3] = {push_key(ctx, "a"), push_key(ctx, "b"), push_key(ctx, "c")};
    duk_idx_t vals = duk_get_top(ctx);
    duk_push_int(ctx, 1);
    duk_push_string(ctx, "two");
    duk_push_object(ctx);
    duk_get_global_string(ctx, "Proto");
    duk_get_prop_string(ctx, -1, "prototype");
    void *proto = duk_get_heapptr(ctx, -1);
    void *obj = evl__duk_push_record(ctx, proto, keys, vals, 3);
    ASSERT_TRUE(obj == duk_get_heapptr(ctx, -1));
    duk_put_global_string(ctx, "made");
    duk_set_top(ctx, 0);
    duk_gc(ctx, 0);

    /* Values, prototype, attributes and key order as three ordinary puts would give. */
    ASSERT_STR_EQ(env_str(&e, "made instanceof Proto"), "true");
    ASSERT_STR_EQ(env_str(&e, "JSON.stringify(made)"), "{\"a\":1,\"b\":\"two\",\"c\":{}}");
    ASSERT_STR_EQ(
        env_str(&e, "JSON.stringify(Object.getOwnPropertyDescriptor(made, 'b'))"),
        "{\"value\":\"two\",\"writable\":true,\"enumerable\":true,\"configurable\":true}");
    /* The table was sized exactly: adding, deleting and redefining must still work. */
    env_eval(&e, "for (var i = 0; i < 40; i++) made['k' + i] = i; delete made.a; made.b = 3;");
    ASSERT_STR_EQ(env_str(&e, "Object.keys(made).length + ':' + made.b + ':' + made.k39"),
                  "42:3:39");
    env_close(&e);
}

TEST(engine_own_number_reads_and_writes_only_plain_numbers)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    duk_context *ctx = e.ctx;
    env_eval(&e, "var o = {n: 5, s: 'x'}; Object.defineProperty(o, 'g', {get: function () {"
                 "return 1; }}); var p = Object.create(o); var big = {};"
                 "for (var i = 0; i < 50; i++) big['k' + i] = i;");
    void *n = push_key(ctx, "n");
    void *s = push_key(ctx, "s");
    void *g = push_key(ctx, "g");
    void *k42 = push_key(ctx, "k42");
    duk_get_global_string(ctx, "o");
    double v = 0;
    ASSERT_TRUE(evl__duk_get_own_number(ctx, -1, n, &v));
    ASSERT_TRUE(v == 5);
    ASSERT_TRUE(evl__duk_set_own_number(ctx, -1, n, -7));
    ASSERT_FALSE(evl__duk_get_own_number(ctx, -1, s, &v)); /* a string */
    ASSERT_FALSE(evl__duk_set_own_number(ctx, -1, s, 1));
    ASSERT_FALSE(evl__duk_get_own_number(ctx, -1, g, &v)); /* an accessor */
    ASSERT_TRUE(evl__duk_get_own(ctx, -1, s));
    ASSERT_STR_EQ(duk_get_string(ctx, -1), "x");
    duk_pop_2(ctx);
    /* Inherited properties are not own; objects with a hash part take the engine's lookup. */
    duk_get_global_string(ctx, "p");
    ASSERT_FALSE(evl__duk_get_own_number(ctx, -1, n, &v));
    ASSERT_FALSE(evl__duk_get_own(ctx, -1, n));
    ASSERT_TRUE(duk_is_undefined(ctx, -1));
    duk_pop_2(ctx);
    duk_get_global_string(ctx, "big");
    ASSERT_TRUE(evl__duk_get_own_number(ctx, -1, k42, &v));
    ASSERT_TRUE(v == 42);
    duk_pop(ctx);
    duk_push_int(ctx, 3); /* not an object */
    ASSERT_FALSE(evl__duk_get_own_number(ctx, -1, n, &v));
    duk_set_top(ctx, 0);
    ASSERT_STR_EQ(env_str(&e, "o.n + ':' + o.s"), "-7:x");
    env_close(&e);
}

TEST(engine_array_slots_refuse_what_they_cannot_write)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    duk_context *ctx = e.ctx;
    env_eval(&e, "var arr = [1, 2, 3]; var frozen = Object.freeze([1, 2]);"
                 "var sparse = []; sparse[100000] = 1;");
    duk_get_global_string(ctx, "arr");
    void *arr = duk_get_heapptr(ctx, -1);
    duk_push_string(ctx, "v");
    ASSERT_TRUE(evl__duk_array_put(ctx, arr, 1, -1));
    ASSERT_FALSE(evl__duk_array_put(ctx, arr, 3, -1)); /* at length: an append */
    ASSERT_TRUE(evl__duk_array_clear(ctx, arr, 0));
    ASSERT_TRUE(evl__duk_array_push_slot(ctx, arr, 1));
    ASSERT_STR_EQ(duk_get_string(ctx, -1), "v");
    ASSERT_FALSE(evl__duk_array_push_slot(ctx, arr, 7));
    duk_set_top(ctx, 0);
    ASSERT_STR_EQ(env_str(&e, "JSON.stringify(arr)"), "[null,\"v\",3]");
    ASSERT_STR_EQ(env_str(&e, "String(arr[0])"), "undefined");

    duk_get_global_string(ctx, "frozen");
    duk_push_int(ctx, 9);
    ASSERT_FALSE(evl__duk_array_put(ctx, duk_get_heapptr(ctx, -2), 0, -1));
    duk_set_top(ctx, 0);
    duk_get_global_string(ctx, "sparse");
    duk_push_int(ctx, 9);
    ASSERT_FALSE(evl__duk_array_put(ctx, duk_get_heapptr(ctx, -2), 5, -1));
    duk_set_top(ctx, 0);
    ASSERT_STR_EQ(env_str(&e, "frozen[0] + ':' + sparse[5]"), "1:undefined");
    env_close(&e);
}

TEST(engine_heap_recycles_small_blocks_and_frees_them_at_destroy)
{
    /* Churn through every size class, then destroy: the harness's live-block check at the
     * end of the test proves the spare lists are emptied. */
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e,
             "var keep = []; for (var i = 0; i < 20000; i++) {"
             "  var o = {}; for (var j = 0; j < i % 24; j++) o['p' + j] = j;"
             "  if (i % 7 === 0) keep.push(o); else o = null; }"
             "var s = 0; for (var k = 0; k < keep.length; k++) s += Object.keys(keep[k]).length;");
    ASSERT_STR_EQ(env_str(&e, "String(keep.length) + ':' + s"), "2858:32851");
    env_close(&e);
}
