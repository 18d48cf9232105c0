/* Timers, immediates, nextTick and queueMicrotask driven from JS on a fake clock. */
#include "duk_env.h"

TEST(phases_and_timer_order_through_js)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "setTimeout(function () { log.push('t10'); }, 10);"
                 "setTimeout(function () { log.push('t5a'); }, 5);"
                 "setTimeout(function () { log.push('t5b'); }, 5);"
                 "setImmediate(function () { log.push('imm'); });"
                 "queueMicrotask(function () { log.push('micro'); });"
                 "process.nextTick(function () { log.push('tick'); });"
                 "log.push('sync');");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "sync,tick,micro,imm,t5a,t5b,t10");
    env_close(&e);
}

TEST(immediate_from_timer_runs_before_new_zero_timer)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "setTimeout(function () {"
                 "  setTimeout(function () { log.push('timeout'); }, 0);"
                 "  setImmediate(function () { log.push('immediate'); });"
                 "  process.nextTick(function () { log.push('tick'); });"
                 "}, 2);");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "tick,immediate,timeout");
    env_close(&e);
}

TEST(interval_clears_itself_and_args_are_forwarded)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var n = 0, seen = [], self;"
                 "var h = setInterval(function (a, b) {"
                 "  seen.push(a + b); self = (this === h); if (++n === 3) clearInterval(h);"
                 "}, 5, 'x', undefined);");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "n + ':' + seen.join() + ':' + self"), "3:xundefined,xundefined,"
                                                                     "xundefined:true");
    env_close(&e);
}

TEST(clear_accepts_objects_numbers_and_any_kind)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "var a = setTimeout(function () { log.push('a'); }, 5);"
                 "var b = setTimeout(function () { log.push('b'); }, 5);"
                 "var c = setInterval(function () { log.push('c'); }, 5);"
                 "var d = setImmediate(function () { log.push('d'); });"
                 "var keep = setTimeout(function () { log.push('keep'); }, 6);"
                 "clearTimeout(+a); clearInterval(b); clearTimeout(c); clearTimeout(d);"
                 "clearTimeout(123456); clearTimeout(null); clearTimeout({}); clearTimeout(a);"
                 "var ids = [+a, +b, +c, +keep];");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "keep");
    /* Timeouts and intervals share one id space: all distinct. Immediates have no numeric
     * conversion (as in Node). */
    ASSERT_STR_EQ(env_str(&e, "ids.filter(function (v, i) { return ids.indexOf(v) === i; })"
                              ".length + ':' + isNaN(+d)"),
                  "4:true");
    env_close(&e);
}

TEST(timeout_object_methods)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e,
             "var t = setTimeout(function () { fired++; }, 50), fired = 0;"
             "var r = [typeof t[Symbol.toPrimitive](), t.hasRef(), t.unref() === t,"
             "         t.hasRef(), t.ref().hasRef(), Object.prototype.toString.call(t)];"
             "var u = setTimeout(function () { fired += 10; }, 50); u.unref();"
             "var im = setImmediate(function () {}); r.push(im.hasRef(), im.unref().hasRef());");
    ASSERT_STR_EQ(env_str(&e, "r.join()"),
                  "number,true,true,false,true,[object Object],true,false");
    env_run_fake(&e);
    /* The unref'd timer does not keep the loop alive, but fires when the loop is still
     * running for t (same deadline). */
    ASSERT_STR_EQ(env_str(&e, "fired"), "11");
    env_close(&e);
}

TEST(unrefd_timer_alone_does_not_keep_loop_alive)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var fired = false; setTimeout(function () { fired = true; }, 10).unref();");
    ASSERT_EQ(evl_loop_run(e.loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(env_str(&e, "fired"), "false");
    env_close(&e);
}

TEST(refresh_restarts_and_rearms_fired_timer)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "var t = setTimeout(function () { log.push('t'); }, 10);"
                 "setTimeout(function () { t.refresh(); log.push('r'); }, 6);");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "r,t");
    env_eval(&e, "t.refresh(); var c = setTimeout(function () { log.push('c'); }, 1);"
                 " c.close(); c.refresh();");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "r,t,t");
    env_close(&e);
}

TEST(callback_type_errors_match_node)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "function err(f) { try { f(); } catch (e) {"
                 " return e.name + '|' + e.code + '|' + e.message; } return 'none'; }");
    ASSERT_STR_EQ(env_str(&e, "err(function () { setTimeout('x'); })"),
                  "TypeError|ERR_INVALID_ARG_TYPE|The \"callback\" argument must be of type "
                  "function. Received type string ('x')");
    ASSERT_STR_EQ(env_str(&e, "err(function () { queueMicrotask(1); })"),
                  "TypeError|ERR_INVALID_ARG_TYPE|The \"callback\" argument must be of type "
                  "function. Received type number (1)");
    ASSERT_STR_EQ(env_str(&e, "err(function () { setImmediate(); })"),
                  "TypeError|ERR_INVALID_ARG_TYPE|The \"callback\" argument must be of type "
                  "function. Received undefined");
    ASSERT_STR_EQ(env_str(&e, "err(function () { process.nextTick({}); })"),
                  "TypeError|ERR_INVALID_ARG_TYPE|The \"callback\" argument must be of type "
                  "function. Received an instance of Object");
    env_close(&e);
}

TEST(delay_coercion_like_node)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    /* NaN, negative, missing and > 2^31-1 all mean 1 ms: they fire in scheduling order. */
    env_eval(&e, "var log = [];"
                 "setTimeout(function () { log.push('two'); }, 2);"
                 "setTimeout(function () { log.push('nan'); }, NaN);"
                 "setTimeout(function () { log.push('neg'); }, -5);"
                 "setTimeout(function () { log.push('none'); });"
                 "setTimeout(function () { log.push('huge'); }, 4294967296);"
                 "setTimeout(function () { log.push('str'); }, '1');");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "nan,neg,none,huge,str,two");
    env_close(&e);
}

TEST(nexttick_before_promise_jobs_and_args)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var log = [];"
                 "queueMicrotask(function () { log.push('m1');"
                 "  process.nextTick(function () { log.push('t-from-m'); }); });"
                 "queueMicrotask(function () { log.push('m2'); });"
                 "process.nextTick(function (a, b) { log.push('t1' + a + b); }, 'A', 'B');");
    env_run_fake(&e);
    ASSERT_STR_EQ(env_str(&e, "log.join()"), "t1AB,m1,m2,t-from-m");
    env_close(&e);
}

/* Jobs still queued when the heap goes first (an embedder that frees the heap, then closes
 * and frees the loop without running it) are freed by the loop's discard: nothing leaks
 * (the harness counts blocks) and no JavaScript runs. */
TEST(jobs_queued_when_the_heap_goes_first_are_freed)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "for (var i = 0; i < 100; i++) {"
                 "  queueMicrotask(function () { throw new Error('ran'); });"
                 "  process.nextTick(function (a) { throw new Error('ran ' + a); }, i);"
                 "}");
    ASSERT_OK(evl_duk_heap_free(e.ctx));
    ASSERT_OK(evl_loop_close(e.loop));
    ASSERT_OK(evl_loop_free(e.loop));
}

/* The loop closed first while the heap lives: the jobs are released through the binding
 * (their registry entries too), and the heap is freed afterwards. */
TEST(jobs_queued_when_the_loop_closes_first_are_released)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var big = []; for (var i = 0; i < 100; i++) {"
                 "  queueMicrotask(function () { throw new Error('ran'); });"
                 "  process.nextTick(function (a) { throw new Error('ran ' + a); }, big);"
                 "}");
    ASSERT_OK(evl_loop_close(e.loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_run(e.loop, EVL_RUN_NOWAIT));
    ASSERT_EQ(evl_loop_state(e.loop), EVL_LOOP_TERMINATED);
    ASSERT_STR_EQ(env_str(&e, "typeof big"), "object");
    ASSERT_OK(evl_duk_heap_free(e.ctx));
    ASSERT_OK(evl_loop_free(e.loop));
}
