/* Execution limits: the per-callback CPU budget and the heap cap. */
#include "duk_env.h"

#include <time.h>

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

TEST(runaway_callback_is_interrupted_and_reported) /* labels: real-time */
{
    struct duk_env e;
    env_open(&e, 0, 0);
    ASSERT_OK(evl_duk_set_exec_limit(e.ctx, 50));
    env_eval(&e, "var log = [];"
                 "process.on('exit', function (c) { log.push('exit' + c); });"
                 "setTimeout(function () {"
                 "  try { while (true) {} } catch (err) { log.push('swallowed'); }"
                 "}, 1);"
                 "setTimeout(function () { log.push('later'); }, 30);");
    uint64_t t0 = mono_ms();
    ASSERT_EQ(evl_loop_run(e.loop, EVL_RUN_DEFAULT), 0);
    uint64_t took = mono_ms() - t0;
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "exit1");
    /* 50 ms budget plus a generous margin for a loaded machine. */
    ASSERT_ULT(took, 5000);
    env_close(&e);
}

TEST(exec_limit_reaches_uncaught_exception_listener) /* labels: real-time */
{
    struct duk_env e;
    env_open(&e, 0, 0);
    ASSERT_OK(evl_duk_set_exec_limit(e.ctx, 20));
    env_eval(&e, "var log = [];"
                 "process.on('uncaughtException', function (err) {"
                 "  log.push(err.name + ':' + err.message); });"
                 "setTimeout(function () { for (;;) {} }, 1);"
                 "setTimeout(function () { log.push('later'); }, 5);");
    ASSERT_EQ(evl_loop_run(e.loop, EVL_RUN_DEFAULT), 0);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "RangeError:execution timeout,later");
    env_close(&e);
}

TEST(exec_limit_argument_checks)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_set_exec_limit(e.ctx, 0));
    ASSERT_ERR(EVL_ERANGE, evl_duk_set_exec_limit(e.ctx, UINT64_MAX));
    /* Far enough that now + limit in ns would wrap: refused, not an instant timeout. */
    ASSERT_ERR(EVL_ERANGE, evl_duk_set_exec_limit(e.ctx, UINT64_MAX / 1000000u));
    ASSERT_ERR(EVL_ERANGE, evl_duk_set_exec_limit(e.ctx, EVL_TIMER_DELAY_MAX + 1));
    ASSERT_OK(evl_duk_set_exec_limit(e.ctx, EVL_TIMER_DELAY_MAX));
    ASSERT_ERR(EVL_ENOENT, evl_duk_set_exec_limit(NULL, 10));
    env_close(&e);
}

TEST(heap_cap_gives_range_error_in_callback_and_heap_survives)
{
    struct duk_env e;
    env_open(&e, 1, 4u << 20);
    env_eval(&e, "var log = [];"
                 "process.on('uncaughtException', function (err) {"
                 "  big = null; log.push(err.name); });"
                 "var big = [];"
                 "setTimeout(function () { for (;;) { big.push('x' + big.length); } }, 1);"
                 "setTimeout(function () { log.push('later'); }, 5);");
    env_run_fake(&e);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "RangeError,later");
    ASSERT_STR_EQ(env_str(&e, "[1, 2, 3].join('-')"), "1-2-3");
    env_close(&e);
}
