/* Node's error policy: uncaught exceptions, listeners, process.exit, exit status. */
#include "duk_env.h"

TEST(uncaught_in_timer_ends_run_with_status_1_and_runs_exit_listeners)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "process.on('exit', function (c) { log.push('exit' + c + process.exitCode); });"
                 "setTimeout(function () { throw new TypeError('boom'); }, 1);"
                 "setTimeout(function () { log.push('later'); }, 5);"
                 "setImmediate(function () { log.push('imm'); });");
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "imm,exit11");
    env_close(&e);
}

TEST(uncaught_exception_listener_keeps_running)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "process.on('uncaughtExceptionMonitor', function (err, origin) {"
                 "  log.push('mon:' + err.message + ':' + origin); });"
                 "process.on('uncaughtException', function (err, origin) {"
                 "  log.push('ue:' + err.message + ':' + origin); });"
                 "setTimeout(function () { throw new Error('a'); }, 1);"
                 "process.nextTick(function () { throw new Error('b'); });"
                 "queueMicrotask(function () { throw 'c'; });"
                 "setTimeout(function () { log.push('later'); }, 5);");
    env_run_fake(&e);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0);
    ASSERT_STR_EQ(env_str(&e, "log.join()"),
                  "mon:b:uncaughtException,ue:b:uncaughtException,mon:undefined:uncaughtException,"
                  "ue:undefined:uncaughtException,mon:a:uncaughtException,ue:a:uncaughtException,"
                  "later");
    env_close(&e);
}

TEST(throwing_uncaught_handler_is_fatal_with_status_7)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "process.on('uncaughtException', function () { throw new Error('again'); });"
                 "setTimeout(function () { throw new Error('boom'); }, 1);"
                 "setTimeout(function () { log.push('later'); }, 5);");
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 7);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "");
    env_close(&e);
}

TEST(process_exit_is_immediate_and_uncatchable)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "process.on('exit', function (c) { log.push('exit' + c); });"
                 "setTimeout(function () {"
                 "  try { process.exit(4); } catch (err) { log.push('caught'); }"
                 "  log.push('after');"
                 "}, 1);"
                 "setTimeout(function () { log.push('later'); }, 5);");
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 4);
    /* The catch block is interrupted before its first instruction; 'after' and 'later'
     * never run. */
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "exit4");
    /* The heap is still usable for the embedder. */
    ASSERT_STR_EQ(env_str(&e, "1 + 1"), "2");
    env_close(&e);
}

TEST(exit_listener_can_change_exit_code_and_exit_again)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "process.on('exit', function (c) { process.exitCode = c + 1; });"
                 "setTimeout(function () { process.exit(2); }, 1);");
    env_run_fake(&e);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 3);
    env_close(&e);

    env_open(&e, 1, 0);
    env_eval(&e, "process.on('exit', function () { process.exit(9); });"
                 "setImmediate(function () { process.exit(); });");
    env_run_fake(&e);
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 9);
    env_close(&e);
}

TEST(process_emitter_subset)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "function a(x) { log.push('a' + x); } function b(x) { log.push('b' + x); }"
                 "process.on('custom', a); process.once('custom', b);"
                 "var r1 = process.emit('custom', 1); process.emit('custom', 2);"
                 "process.off('custom', a); var r2 = process.emit('custom', 3);"
                 "process.addListener('x', a); process.removeListener('x', a);"
                 "log.push(r1, r2, process.listenerCount('custom'), process.listenerCount('x'));"
                 "var te; try { process.on('y', 5); } catch (err) { te = err.code; }");
    ASSERT_STR_EQ(env_str(&e, "log.join() + '|' + te"), "a1,b1,a2,true,false,0,0|"
                                                        "ERR_INVALID_ARG_TYPE");
    env_close(&e);
}
