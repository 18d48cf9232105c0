/* The public calls a host runs whole programs with (the ones cli/run.c is made of):
 * evl_duk_install_require, evl_duk_run_main/_run_eval, evl_duk_emit, evl_duk_exit_code and
 * evl_duk_exit. */
#include "duk_env.h"

TEST(program_calls_need_a_binding_and_require)
{
    duk_context *bare = duk_create_heap_default();
    ASSERT_TRUE(bare != NULL);
    ASSERT_EQ(evl_duk_install_require(bare), EVL_ENOENT);
    ASSERT_EQ(evl_duk_run_eval(bare, "1", "[eval]"), EVL_ENOENT);
    duk_push_int(bare, 1);
    ASSERT_EQ(evl_duk_emit(bare, "beforeExit", 1), EVL_ENOENT);
    ASSERT_EQ(duk_get_top(bare), 0); /* the arguments were popped */
    ASSERT_EQ(evl_duk_exit_code(bare), EVL_ENOENT);
    ASSERT_EQ(evl_duk_exit(bare, NULL), EVL_ENOENT);
    duk_destroy_heap(bare);

    struct duk_env e;
    env_open(&e, 1, 0);
    /* require() is opt-in: without it there is no main-module runner. */
    ASSERT_EQ(evl_duk_run_main(e.ctx, "/nonexistent.js"), EVL_EINVAL);
    ASSERT_EQ(evl_duk_run_eval(e.ctx, "1", "[eval]"), EVL_EINVAL);
    ASSERT_EQ(evl_duk_run_main(e.ctx, NULL), EVL_EINVAL);
    ASSERT_OK(evl_duk_install_require(e.ctx));
    ASSERT_EQ(evl_duk_run_eval(e.ctx, NULL, "[eval]"), EVL_EINVAL);
    ASSERT_EQ(duk_get_top(e.ctx), 0);
    env_close(&e);
}

TEST(run_eval_is_a_guarded_global_program)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_install_require(e.ctx));
    ASSERT_OK(evl_duk_run_eval(e.ctx, "var ran = typeof require + ':' + (1 + 1);", "[eval]"));
    ASSERT_TRUE(strcmp(env_str(&e, "ran"), "function:2") == 0);
    /* A throw takes the uncaught-error policy (here Node's: the run ends with status 1). */
    ASSERT_EQ(evl_duk_run_eval(e.ctx, "throw new Error('x')", "[eval]"), EVL_EEXCEPTION);
    int status = -1;
    ASSERT_EQ(evl_duk_terminated(e.ctx, &status), 1);
    ASSERT_EQ(status, 1);
    ASSERT_EQ(evl_duk_run_eval(e.ctx, "ran = 'again'", "[eval]"), EVL_ECLOSED);
    ASSERT_EQ(duk_get_top(e.ctx), 0);
    env_close(&e);
}

TEST(emit_counts_listeners_and_reports_a_throw)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    ASSERT_OK(evl_duk_set_error_policy(e.ctx, EVL_DUK_POLICY_REPORT, NULL, NULL));
    env_eval(&e, "var got = [];"
                 "process.on('beforeExit', function (c) { got.push('a' + c); });"
                 "process.on('beforeExit', function (c) { got.push('b' + c); });"
                 "process.exitCode = 3;");
    ASSERT_EQ(evl_duk_exit_code(e.ctx), 3);
    duk_push_int(e.ctx, evl_duk_exit_code(e.ctx));
    ASSERT_EQ(evl_duk_emit(e.ctx, "beforeExit", 1), 2);
    ASSERT_TRUE(strcmp(env_str(&e, "got.join()"), "a3,b3") == 0);
    ASSERT_EQ(evl_duk_emit(e.ctx, "nobodyListens", 0), 0);
    env_eval(&e, "process.on('boom', function () { throw new Error('listener'); });");
    ASSERT_EQ(evl_duk_emit(e.ctx, "boom", 0), EVL_EEXCEPTION);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 0); /* the report policy keeps running */
    ASSERT_EQ(duk_get_top(e.ctx), 0);
    env_close(&e);
}

TEST(exit_runs_exit_listeners_once_and_terminates)
{
    struct duk_env e;
    env_open(&e, 1, 0);
    env_eval(&e, "var exits = 0; process.on('exit', function (c) {"
                 "  exits++; process.exitCode = c + 4; });"
                 "process.exitCode = 1;");
    int status = -1;
    ASSERT_OK(evl_duk_exit(e.ctx, &status));
    ASSERT_EQ(status, 5);
    ASSERT_EQ(evl_duk_terminated(e.ctx, NULL), 1);
    ASSERT_TRUE(strcmp(env_str(&e, "String(exits) + process._exiting"), "1true") == 0);
    /* Already over: nothing runs again, the status stays. */
    ASSERT_OK(evl_duk_exit(e.ctx, &status));
    ASSERT_EQ(status, 5);
    ASSERT_TRUE(strcmp(env_str(&e, "String(exits)"), "1") == 0);
    env_close(&e);
}

/* The main script queues jobs and ends the run (process.exit or an uncaught throw) before the
 * checkpoint that would run them. Each job's record (32 bytes) used to be orphaned and then
 * dropped by the loop without being freed. The harness fails the case on any live block. */
static void queue_jobs_then_end(struct duk_env *e, const char *end)
{
    char code[512];
    snprintf(code, sizeof(code),
             "var ran = 0; function f() { ran++; }"
             "process.nextTick(f); process.nextTick(f, 1, 2); queueMicrotask(f);"
             "Promise.resolve().then(f); %s",
             end);
    (void)evl_duk_run_eval(e->ctx, code, "[eval]"); /* the run ended: its status says how */
    ASSERT_EQ(evl_duk_terminated(e->ctx, NULL), 1);
}

TEST(jobs_queued_when_the_run_ends_are_freed_loop_first)
{
    const char *ends[] = {"process.exit(3);", "throw new Error('boom');"};
    for (int i = 0; i < 2; i++) {
        struct duk_env e;
        env_open(&e, 1, 0);
        ASSERT_OK(evl_duk_install_require(e.ctx));
        queue_jobs_then_end(&e, ends[i]);
        /* evljs's order: the loop ends (dropping the jobs), then the heap, then the loop. */
        ASSERT_OK(evl_loop_close(e.loop));
        (void)evl_loop_run(e.loop, EVL_RUN_NOWAIT); /* EVL_ECLOSED if close finished it */
        ASSERT_EQ(evl_loop_state(e.loop), EVL_LOOP_TERMINATED);
        ASSERT_STR_EQ(env_str(&e, "String(ran)"), "0");
        env_close(&e);
    }
}
