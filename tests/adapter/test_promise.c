/* The JS Promise is the C evl_promise: interop in both directions, thenable adoption through
 * the core's hook, rejection tracking, and no leak in any teardown order. */
#include "duktape/promise.h"
#include "evl_duktape.h"
#include "evl_test.h"

#include <string.h>

struct env {
    struct evl_loop *loop;
    duk_context *ctx;
};

static void env_open(struct env *e)
{
    memset(e, 0, sizeof(*e));
    ASSERT_OK(evl_loop_new(&e->loop, NULL));
    ASSERT_OK(evl_duk_heap_new(&e->ctx, NULL));
    ASSERT_OK(evl_duk_install(e->ctx, e->loop, 0));
}

static void env_close(struct env *e)
{
    if (e->ctx) {
        evl_duk_heap_free(e->ctx);
    }
    if (evl_loop_free(e->loop) != 0) {
        (void)evl_loop_close(e->loop);
        (void)evl_loop_run(e->loop, EVL_RUN_NOWAIT);
        ASSERT_OK(evl_loop_free(e->loop));
    }
}

/* Evaluates src (must not throw); leaves its value on the stack. */
static void eval_ok(duk_context *ctx, const char *src)
{
    if (duk_peval_string(ctx, src) != 0) {
        evl_test_fail(__FILE__, __LINE__, "eval failed: %s", duk_safe_to_string(ctx, -1));
    }
}

/* One NOWAIT turn first: DEFAULT returns at once when nothing ref'd is alive, and the
 * checkpoint that reports a rejection made by the evals above must still run (evljs does the
 * same after the main script). */
static void run(struct env *e)
{
    ASSERT_GE(evl_loop_run(e->loop, EVL_RUN_NOWAIT), 0);
    ASSERT_OK(evl_loop_run(e->loop, EVL_RUN_DEFAULT));
}

/* The string value of a global expression. */
static void expect_js(struct env *e, const char *expr, const char *expected)
{
    eval_ok(e->ctx, expr);
    ASSERT_STR_EQ(duk_safe_to_string(e->ctx, -1), expected);
    duk_pop(e->ctx);
}

TEST(js_promise_is_the_c_promise)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx, "var p = Promise.resolve(42); p");
    struct evl_promise *cp = evl_duk_get_promise(e.ctx, -1);
    ASSERT_NOT_NULL(cp);
    ASSERT_EQ(evl_promise_state(cp), EVL_PROMISE_FULFILLED);
    ASSERT_PTR_EQ(evl_promise_loop(cp), e.loop);
    /* Pushing the C promise back gives the very same JS object. */
    ASSERT_OK(evl_duk_push_promise(e.ctx, cp));
    ASSERT_TRUE(duk_strict_equals(e.ctx, -1, -2));
    /* Its value is the JS value 42. */
    ASSERT_OK(evl_duk_push_value(e.ctx, evl_promise_value(cp)));
    ASSERT_EQ(duk_get_int(e.ctx, -1), 42);
    duk_pop_3(e.ctx);
    eval_ok(e.ctx, "({ then: function () {} })");
    ASSERT_NULL(evl_duk_get_promise(e.ctx, -1));
    duk_pop(e.ctx);
    env_close(&e);
}

TEST(c_promise_settled_from_c_is_awaited_in_js)
{
    struct env e;
    env_open(&e);
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_new(e.loop, &cp));
    ASSERT_OK(evl_duk_push_promise(e.ctx, cp));
    duk_put_global_string(e.ctx, "cp");
    eval_ok(e.ctx, "var obj = { tag: 'x' }; var log = [];"
                   "cp.then(function (v) { log.push(v === obj, v.tag); });"
                   "log.push(cp instanceof Promise, Object.prototype.toString.call(cp)); obj");
    void *value = NULL;
    evl_dtor_cb dtor = NULL;
    ASSERT_OK(evl_duk_value_new(e.ctx, -1, &value, &dtor));
    duk_pop(e.ctx);
    ASSERT_OK(evl_promise_resolve(cp, value, dtor));
    evl_promise_release(cp);
    run(&e);
    expect_js(&e, "log.join()", "true,[object Promise],true,x");
    env_close(&e);
}

TEST(c_rejection_with_evl_error_reaches_js_as_error)
{
    struct env e;
    env_open(&e);
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new(&err, EVL_ECANCELED, "work %d canceled", 7));
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_rejected(e.loop, err, evl_error_dtor, &cp));
    ASSERT_OK(evl_duk_push_promise(e.ctx, cp));
    evl_promise_release(cp);
    duk_put_global_string(e.ctx, "cp");
    eval_ok(e.ctx, "var out; cp.catch(function (e) {"
                   "  out = [e instanceof Error, e.message, e.code].join('|'); })");
    duk_pop(e.ctx);
    run(&e);
    expect_js(&e, "out", "true|work 7 canceled|EVL_ECANCELED");
    env_close(&e);
}

struct seen {
    duk_context *ctx;
    int calls;
    char text[64];
};

static void c_reaction(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    struct seen *s = arg;
    s->calls++;
    ASSERT_OK(evl_duk_push_value(s->ctx, value));
    strncpy(s->text, duk_safe_to_string(s->ctx, -1), sizeof(s->text) - 1);
    duk_pop(s->ctx);
}

TEST(js_promise_observed_from_c)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx, "var resolveLater; new Promise(function (r) { resolveLater = r; })");
    struct evl_promise *cp = evl_duk_get_promise(e.ctx, -1);
    ASSERT_NOT_NULL(cp);
    ASSERT_EQ(evl_promise_state(cp), EVL_PROMISE_PENDING);
    struct seen s = {e.ctx, 0, {0}};
    ASSERT_OK(evl_promise_then(cp, c_reaction, NULL, &s, NULL, NULL));
    duk_pop(e.ctx);
    eval_ok(e.ctx, "setTimeout(function () { resolveLater('from js'); }, 1)");
    duk_pop(e.ctx);
    run(&e);
    ASSERT_EQ(s.calls, 1);
    ASSERT_STR_EQ(s.text, "from js");
    env_close(&e);
}

TEST(c_promise_adopts_js_thenable_through_the_hook)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx, "var getterCalls = 0; var t = {};"
                   "Object.defineProperty(t, 'then', { get: function () { getterCalls++;"
                   "  return function (res) { res('adopted'); }; } }); t");
    void *value = NULL;
    evl_dtor_cb dtor = NULL;
    ASSERT_OK(evl_duk_value_new(e.ctx, -1, &value, &dtor));
    duk_pop(e.ctx);
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_new(e.loop, &cp));
    ASSERT_OK(evl_promise_resolve(cp, value, dtor));
    /* Get(x, "then") ran synchronously, once; then itself runs in a job. */
    expect_js(&e, "getterCalls", "1");
    ASSERT_EQ(evl_promise_state(cp), EVL_PROMISE_PENDING);
    run(&e);
    ASSERT_EQ(evl_promise_state(cp), EVL_PROMISE_FULFILLED);
    ASSERT_OK(evl_duk_push_value(e.ctx, evl_promise_value(cp)));
    ASSERT_STR_EQ(duk_get_string(e.ctx, -1), "adopted");
    duk_pop(e.ctx);
    expect_js(&e, "getterCalls", "1");
    evl_promise_release(cp);
    env_close(&e);
}

TEST(js_promise_adopts_c_promise)
{
    struct env e;
    env_open(&e);
    struct evl_promise *cp = NULL;
    ASSERT_OK(evl_promise_new(e.loop, &cp));
    ASSERT_OK(evl_duk_push_promise(e.ctx, cp));
    duk_put_global_string(e.ctx, "cp");
    eval_ok(
        e.ctx,
        "var out = [];"
        "Promise.resolve(cp).then(function (v) { out.push('same ' + (Promise.resolve(cp) === cp)); "
        "});"
        "new Promise(function (r) { r(cp); }).then(function (v) { out.push('adopted ' + v); })");
    duk_pop(e.ctx);
    eval_ok(e.ctx, "'c value'");
    void *value = NULL;
    evl_dtor_cb dtor = NULL;
    ASSERT_OK(evl_duk_value_new(e.ctx, -1, &value, &dtor));
    duk_pop(e.ctx);
    ASSERT_OK(evl_promise_resolve(cp, value, dtor));
    evl_promise_release(cp);
    run(&e);
    expect_js(&e, "out.join()", "same true,adopted c value");
    env_close(&e);
}

TEST(values_are_released_once_settled_chains_are_collected)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx,
            "(function () {"
            "  var p = Promise.resolve({ big: new Array(100).join('x') });"
            "  for (var i = 0; i < 1000; i++) { p = p.then(function (v) { return v; }); }"
            "  Promise.all([p, Promise.reject(new Error('r')).catch(function (e) { return e; })]);"
            "  new Promise(function (res, rej) { rej(1); }).then(null, function () {});"
            "})()");
    duk_pop(e.ctx);
    run(&e);
    duk_gc(e.ctx, 0);
    duk_gc(e.ctx, 0);
    ASSERT_UEQ(evl__duk_promise_live_values(e.ctx), 0);
    env_close(&e);
}

TEST(unhandled_rejection_without_listener_is_fatal)
{
    struct env e;
    env_open(&e);
    ASSERT_OK(evl_duk_set_error_policy(e.ctx, EVL_DUK_POLICY_NODE, NULL, NULL));
    eval_ok(e.ctx, "Promise.reject(new Error('nobody listens'))");
    duk_pop(e.ctx);
    run(&e);
    int status = 0;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    env_close(&e);
}

TEST(unhandled_rejection_listener_and_handled_later)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx, "var log = []; var p = Promise.reject('late');"
                   "process.on('unhandledRejection', function (r, q) { log.push('u:' + r + ':' + "
                   "(q === p)); });"
                   "process.on('rejectionHandled', function (q) { log.push('h:' + (q === p)); });"
                   "setTimeout(function () { p.catch(function () { log.push('caught'); }); }, 1)");
    duk_pop(e.ctx);
    run(&e);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    expect_js(&e, "log.join()", "u:late:true,caught,h:true");
    env_close(&e);
}

TEST(uninstall_with_pending_promises_leaks_nothing)
{
    struct env e;
    env_open(&e);
    eval_ok(e.ctx, "var keep = new Promise(function () {});"
                   "keep.then(function () {}); var d = keep.then(function () {});"
                   "var r; var q = new Promise(function (res) { r = res; });"
                   "Promise.resolve({ then: function (res) { globalThis.saved = res; } });"
                   "Promise.all([keep, q]); q");
    struct evl_promise *cp = evl_duk_get_promise(e.ctx, -1);
    ASSERT_NOT_NULL(cp);
    duk_pop(e.ctx);
    run(&e);
    ASSERT_OK(evl_duk_uninstall(e.ctx));
    /* Wrappers outliving the binding are inert. */
    ASSERT_NE(duk_peval_string(e.ctx, "keep.then(function () {})"), 0);
    duk_pop(e.ctx);
    ASSERT_EQ(duk_peval_string(e.ctx, "r(1); saved(2); 'ok'"), 0);
    duk_pop(e.ctx);
    env_close(&e);
}

TEST(heap_destroyed_without_uninstall_leaks_nothing)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    /* A heap with Duktape's own allocator: only libevl's and the adapter's blocks are tracked. */
    duk_context *ctx = duk_create_heap_default();
    ASSERT_NOT_NULL(ctx);
    ASSERT_OK(evl_duk_install(ctx, loop, 0));
    eval_ok(ctx, "var keep = new Promise(function () {}); keep.then(function () {});"
                 "Promise.resolve({ then: function (res) { globalThis.saved = res; } });"
                 "var done = Promise.resolve(1).then(function (v) { return { v: v }; })");
    duk_pop(ctx);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    /* Destroy the Duktape heap directly: the adapter's sentry finalizer tears down. */
    duk_destroy_heap(ctx);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(second_heap_on_the_same_loop_is_refused)
{
    struct env e;
    env_open(&e);
    duk_context *other = NULL;
    ASSERT_OK(evl_duk_heap_new(&other, NULL));
    ASSERT_ERR(EVL_EBUSY, evl_duk_install(other, e.loop, 0));
    expect_js(&e, "typeof Promise", "function");
    evl_duk_heap_free(other);
    env_close(&e);
}
