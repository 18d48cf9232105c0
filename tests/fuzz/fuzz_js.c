/*
 * Fuzzes the evljs runtime with arbitrary bytes as a main module: the input is written to a
 * file and run exactly as `evljs --max-heap=16 --timeout-ms=200 file.js` runs it (the
 * cli/run.c sequence: heap with a cap, the adapter with Node globals and the web APIs,
 * Node's error policy, require(), the main module as one guarded entry, the loop run until
 * no ref'd work is left with 'beforeExit', then 'exit'). A wall-time budget ends scripts
 * that keep the loop busy forever (intervals, self-rescheduling timers). Invariants: no
 * crash (ASan, UBSan), no hang beyond the budgets (libFuzzer's -timeout), and every block
 * the run allocated through the evl allocator freed once the heap and loop are gone.
 *
 * The script runs in the fuzzer's own process, so the few process calls that reach outside
 * the run are disarmed before it starts: process.kill (it could signal any process of the
 * user), process.abort (a deliberate abort() is not a bug) and process.umask. Everything
 * else is the runtime as shipped. Console output goes to /dev/null.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evl_duktape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HEAP_BYTES   ((uint64_t)16 << 20)
#define FUZZ_EXEC_MS      200
#define FUZZ_RUNTIME_MS   1000
#define FUZZ_MAX_TIMERS   1000
#define FUZZ_MAX_JOBS     100000
#define FUZZ_SOURCE_LIMIT (64 * 1024)

static const char disarm[] =
    "(function () {\n"
    "  function refuse(name) {\n"
    "    return function () { throw new Error('process.' + name + ' is disabled in fuzz_js'); };\n"
    "  }\n"
    "  ['kill', 'abort', 'umask'].forEach(function (name) {\n"
    "    Object.defineProperty(process, name, { value: refuse(name), writable: false,\n"
    "                                           configurable: false });\n"
    "  });\n"
    "})();\n";

static char script_path[256];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_js: %s\n", what);
    abort();
}

static char script_dir[64];

static void remove_script(void)
{
    (void)unlink(script_path);
    (void)rmdir(script_dir);
}

static void setup_once(void)
{
    if (script_path[0] != '\0') {
        return;
    }
    snprintf(script_dir, sizeof(script_dir), "/tmp/evl_fuzz_js.XXXXXX");
    if (!mkdtemp(script_dir)) {
        fail("mkdtemp");
    }
    snprintf(script_path, sizeof(script_path), "%s/main.js", script_dir);
    atexit(remove_script);
    /* Scripts print; nobody reads it. stderr stays for the sanitizers and this harness. */
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0) {
        fail("cannot send stdout to /dev/null");
    }
    close(null_fd);
    evl_alloc_tracking_enable();
}

static void write_script(const uint8_t *data, size_t size)
{
    int fd = open(script_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fail("cannot write the script");
    }
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0) {
            fail("cannot write the script");
        }
        data += n;
        size -= (size_t)n;
    }
    close(fd);
}

static int limits(duk_context *ctx)
{
    return evl_duk_set_exec_limit(ctx, FUZZ_EXEC_MS) != 0 ||
           evl_duk_set_max_runtime(ctx, FUZZ_RUNTIME_MS) != 0 ||
           evl_duk_set_max_timers(ctx, FUZZ_MAX_TIMERS) != 0 ||
           evl_duk_set_max_microtasks(ctx, FUZZ_MAX_JOBS) != 0;
}

/* cli/run.c's loop with 'beforeExit': runs until no ref'd work is left after the event. */
struct run {
    duk_context *ctx;
    int more;
};

static int terminated(duk_context *ctx)
{
    return evl_duk_terminated(ctx, NULL) == 1;
}

static void before_exit_check(struct evl_loop *loop, void *arg)
{
    struct run *r = arg;
    r->more = evl_loop_alive(loop);
}

static void before_exit_task(struct evl_loop *loop, void *arg)
{
    struct run *r = arg;
    duk_push_int(r->ctx, evl_duk_exit_code(r->ctx));
    int rc = evl_duk_emit(r->ctx, "beforeExit", 1);
    if (rc == EVL_EEXCEPTION && !terminated(r->ctx)) {
        r->more = 1;
        return;
    }
    if (!terminated(r->ctx) && evl_loop_submit(loop, before_exit_check, r) != 0) {
        r->more = 0;
    }
}

static void run_loop(struct evl_loop *loop, duk_context *ctx)
{
    struct run r = {ctx, 0};
    while (!terminated(ctx)) {
        if (evl_loop_run(loop, EVL_RUN_DEFAULT) < 0 || terminated(ctx)) {
            break;
        }
        r.more = 0;
        if (evl_loop_submit(loop, before_exit_task, &r) != 0) {
            break;
        }
        if (evl_loop_run(loop, EVL_RUN_DEFAULT) < 0 || terminated(ctx) || !r.more) {
            break;
        }
    }
}

static void run_script(void)
{
    struct evl_loop *loop = NULL;
    if (evl_loop_new(&loop, NULL) != 0) {
        fail("evl_loop_new");
    }
    struct evl_duk_heap_options ho;
    evl_duk_heap_options_init(&ho);
    ho.max_heap_bytes = FUZZ_HEAP_BYTES;
    duk_context *ctx = NULL;
    if (evl_duk_heap_new(&ctx, &ho) != 0 ||
        evl_duk_install(ctx, loop, EVL_DUK_NODE_GLOBALS | EVL_DUK_WEB) != 0 ||
        evl_duk_set_error_policy(ctx, EVL_DUK_POLICY_NODE, NULL, NULL) != 0 ||
        evl_duk_install_require(ctx) != 0) {
        fail("runtime set-up");
    }
    static char argv0[] = "evljs";
    char *argv[] = {argv0, script_path};
    if (evl_duk_set_argv(ctx, 2, argv) != 0 || limits(ctx)) {
        fail("runtime options");
    }
    if (duk_peval_string(ctx, disarm) != 0) {
        fail("disarming process calls");
    }
    duk_pop(ctx);
    int rc = evl_duk_run_main(ctx, script_path);
    if (rc != 0 && rc != EVL_EEXCEPTION && rc != EVL_ECLOSED) {
        fail("evl_duk_run_main");
    }
    run_loop(loop, ctx);
    int status = 0;
    (void)evl_duk_exit(ctx, &status);
    if (evl_duk_heap_free(ctx) != 0) {
        fail("evl_duk_heap_free");
    }
    if (evl_loop_free(loop) != 0) {
        /* As cli/run.c: work the script left behind (a pool job) is cancelled first. */
        if (evl_loop_close(loop) != 0) {
            fail("evl_loop_close");
        }
        (void)evl_loop_run(loop, EVL_RUN_NOWAIT);
        if (evl_loop_free(loop) != 0) {
            fail("evl_loop_free after close");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size > FUZZ_SOURCE_LIMIT) {
        return 0;
    }
    write_script(data, size);
    struct evl_alloc_stats before, after;
    evl_alloc_stats(&before);
    run_script();
    evl_alloc_stats(&after);
    if (after.live_blocks != before.live_blocks) {
        fprintf(stderr, "fuzz_js: %lld blocks (%lld bytes) leaked by this input\n",
                (long long)(after.live_blocks - before.live_blocks),
                (long long)(after.live_bytes - before.live_bytes));
        abort();
    }
    return 0;
}
