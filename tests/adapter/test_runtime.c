/* The evljs command line (cli/run.c, evljs_main): exit statuses, beforeExit/exit, usage errors.
 * Output goes to the test's stdout; the statuses and the leak check are what is asserted. */
#include "duk_env.h"
#include "run.h"

/* argv strings are not modified; the cast only satisfies main()'s signature. */
#define S(x) ((char *)(uintptr_t)(x))

static int run_e(const char *code)
{
    char *argv[] = {S("evljs"), S("-e"), S(code), NULL};
    return evljs_main(3, argv);
}

TEST(exit_status_defaults_to_zero_and_follows_exit_code)
{
    ASSERT_EQ(run_e("setTimeout(function () {}, 1)"), 0);
    ASSERT_EQ(run_e("process.exitCode = 3"), 3);
    ASSERT_EQ(run_e("setTimeout(function () { process.exit(5); }, 1);"
                    "setTimeout(function () { process.exitCode = 9; }, 50)"),
              5);
    ASSERT_EQ(run_e("process.on('exit', function (c) { if (c === 0) process.exitCode = 6; })"), 6);
}

TEST(uncaught_error_and_syntax_error_exit_with_1)
{
    ASSERT_EQ(run_e("setImmediate(function () { null.x; })"), 1);
    ASSERT_EQ(run_e("var = ;"), 1);
    ASSERT_EQ(run_e("throw 42"), 1);
}

TEST(before_exit_may_schedule_more_work)
{
    /* Node: each timer scheduled from 'beforeExit' leads to another 'beforeExit'; a job
     * alone runs but does not (4 in all); then 'exit'. */
    ASSERT_EQ(run_e("var n = 0, done = false; process.on('beforeExit', function () {"
                    "  if (n++ < 3) { setTimeout(function () {}, 1); }"
                    "  else if (n === 4) { queueMicrotask(function () { done = true; }); }"
                    "});"
                    "process.on('exit', function () {"
                    "  process.exitCode = n === 4 && done ? 0 : 1; });"),
              0);
}

TEST(usage_errors_exit_with_2)
{
    char *a1[] = {S("evljs"), NULL};
    ASSERT_EQ(evljs_main(1, a1), 2);
    char *a2[] = {S("evljs"), S("--no-such-option"), S("x.js"), NULL};
    ASSERT_EQ(evljs_main(3, a2), 2);
    char *a3[] = {S("evljs"), S("-e"), NULL};
    ASSERT_EQ(evljs_main(2, a3), 2);
    char *a4[] = {S("evljs"), S("--timeout-ms=abc"), S("x.js"), NULL};
    ASSERT_EQ(evljs_main(3, a4), 2);
    char *a5[] = {S("evljs"), S("--help"), NULL};
    ASSERT_EQ(evljs_main(2, a5), 0);
}

TEST(timeout_option_interrupts_infinite_loop) /* labels: real-time */
{
    char *argv[] = {S("evljs"), S("--timeout-ms=100"), S("-e"), S("while (true) {}"), NULL};
    ASSERT_EQ(evljs_main(4, argv), 1);
}

TEST(max_heap_option_turns_exhaustion_into_range_error)
{
    char *argv[] = {
        S("evljs"), S("--max-heap=2"), S("-e"),
        S("var a = []; try { for (;;) { a.push('x' + a.length); } }"
          " catch (e) { a = null; process.exitCode = e instanceof RangeError ? 4 : 5; }"),
        NULL};
    ASSERT_EQ(evljs_main(4, argv), 4);
}

TEST(missing_script_is_an_uncaught_error)
{
    char *argv[] = {S("evljs"), S("/nonexistent/evl/script.js"), NULL};
    ASSERT_EQ(evljs_main(2, argv), 1);
}
