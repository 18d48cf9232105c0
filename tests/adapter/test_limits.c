/* Sandbox limits of a heap: evl_duk_set_max_timers, _max_runtime, _max_microtasks, and the
 * codes of the RangeErrors they raise. */
#include "duk_env.h"

TEST(max_timers_throws_a_coded_range_error)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_ERR(EVL_ENOENT, evl_duk_set_max_timers(NULL, 1));
    ASSERT_OK(evl_duk_set_max_timers(e.ctx, 2));
    env_eval(&e, "var codes = [];"
                 "function f() {}"
                 "var a = setTimeout(f, 5); var b = setInterval(f, 5);"
                 "try { setTimeout(f, 5); } catch (x) { codes.push(x.name + ':' + x.code); }"
                 "try { setImmediate(f); } catch (x) { codes.push(x.name + ':' + x.code); }"
                 "clearTimeout(a);"
                 "var c = setTimeout(f, 5);" /* a place freed by the clear */
                 "clearInterval(b); clearTimeout(c);");
    ASSERT_STR_EQ(env_str(&e, "codes.join()"),
                  "RangeError:ERR_EVL_LIMIT_TIMERS,RangeError:ERR_EVL_LIMIT_IMMEDIATES");
    env_run_fake(&e);
    env_close(&e);
}

TEST(loop_timer_limit_gives_the_same_code)
{
    struct duk_env e;
    memset(&e, 0, sizeof(e));
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_timers = 1;
    o.log_level = EVL_LOG_OFF;
    ASSERT_OK(evl_loop_new(&e.loop, &o));
    ASSERT_OK(evl_duk_heap_new(&e.ctx, NULL));
    ASSERT_OK(evl_duk_install(e.ctx, e.loop, 0));
    env_eval(&e, "var code; setTimeout(function () {}, 1);"
                 "try { setTimeout(function () {}, 1); } catch (x) { code = x.code; }");
    ASSERT_STR_EQ(env_str(&e, "code"), "ERR_EVL_LIMIT_TIMERS");
    ASSERT_OK(evl_loop_run(e.loop, EVL_RUN_DEFAULT));
    env_close(&e);
}

TEST(max_runtime_ends_an_idle_run_with_status_1)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_ERR(EVL_ERANGE, evl_duk_set_max_runtime(e.ctx, UINT64_MAX));
    ASSERT_OK(evl_duk_set_max_runtime(e.ctx, 100));
    env_eval(&e, "var log = [];"
                 "process.on('exit', function (c) { log.push('exit' + c); });"
                 "setInterval(function () { log.push('tick'); }, 40);");
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "tick,tick,exit1");
    env_close(&e);
}

TEST(max_runtime_that_is_not_reached_changes_nothing)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_set_max_runtime(e.ctx, 1000));
    env_eval(&e, "var done = 0; setTimeout(function () { done = 1; }, 10);");
    env_run_fake(&e); /* the budget's timer is unref'd: the run ends after the timeout */
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    ASSERT_STR_EQ(env_str(&e, "done"), "1");
    ASSERT_OK(evl_duk_set_max_runtime(e.ctx, 0));
    env_close(&e);
}

TEST(max_microtasks_ends_a_runaway_thenable)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_set_max_microtasks(e.ctx, 10000));
    env_eval(&e, "var seen = [];"
                 "process.on('uncaughtException', function (x) { seen.push(x.code); });"
                 "var t = { then: function (r) { r(t); } };"
                 "Promise.resolve(t);");
    ASSERT_OK(evl_loop_checkpoint(e.loop));
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1); /* handled or not, the cap ends the run */
    ASSERT_STR_EQ(env_str(&e, "seen.join()"), "ERR_EVL_LIMIT_MICROTASKS");
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(e.loop, &st));
    ASSERT_UGE(st.checkpoint_caps, 1);
    /* The runaway chain is still queued: the embedder closes the loop (as evljs does). */
    evl_duk_heap_free(e.ctx);
    ASSERT_OK(evl_loop_close(e.loop));
    ASSERT_OK(evl_loop_free(e.loop));
}
