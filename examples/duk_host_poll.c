/*
 * Embedding evl and Duktape in an application that already has its own poll() loop (a GUI
 * toolkit, a game loop, another event library). The host keeps its loop; evl contributes one
 * fd and a timeout:
 *
 *     fds = { evl_loop_backend_fd(loop), the host's own fds... }
 *     poll(fds, evl_loop_next_timeout_ms(loop))   -- arms evl's wake-ups, never spins
 *     evl_loop_run(loop, EVL_RUN_NOWAIT)           -- runs whatever is due
 *
 * The host's own event source here is a timerfd ticking every 40 ms ("frames"); each frame
 * calls the script's onFrame(n). The script uses timers, promises and a native that a worker
 * thread settles (work finished on another thread wakes the host's poll through evl's fd).
 * The host stops after the script calls done().
 *
 * Build: part of the examples (cmake --build build --target example_duk_host_poll).
 */
#define _GNU_SOURCE /* usleep, timerfd */
#include "evl_duktape.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int finished;

static duk_ret_t js_print(duk_context *ctx)
{
    printf("%s\n", duk_safe_to_string(ctx, 0));
    fflush(stdout);
    return 0;
}

static duk_ret_t js_done(duk_context *ctx)
{
    (void)ctx;
    finished = 1;
    return 0;
}

/* slowSquare(n) -> Promise<number>, computed on a thread of its own. */
struct square_job {
    struct evl_duk_resolver *r;
    int n;
};

static int push_int(duk_context *ctx, void *value)
{
    duk_push_int(ctx, (duk_int_t)(intptr_t)value);
    return 0;
}

static void *square_thread(void *arg)
{
    struct square_job *job = arg;
    usleep(30000); /* blocking work the loop thread must not do */
    intptr_t sq = (intptr_t)job->n * job->n;
    evl_duk_resolver_resolve(job->r, push_int, (void *)sq, NULL);
    evl_duk_resolver_release(job->r);
    evl_free(job);
    return NULL;
}

static duk_ret_t js_slow_square(duk_context *ctx)
{
    struct square_job *job = evl_calloc(1, sizeof(*job));
    if (!job) {
        return DUK_RET_RANGE_ERROR;
    }
    job->n = duk_to_int(ctx, 0);
    if (evl_duk_push_new_promise(ctx, &job->r) != 0) {
        evl_free(job);
        return DUK_RET_ERROR;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, square_thread, job) != 0) {
        /* Settle it here so the script is not left waiting. */
        evl_duk_resolver_reject(job->r, NULL, NULL, NULL);
        evl_duk_resolver_release(job->r);
        evl_free(job);
        return 1;
    }
    pthread_detach(t);
    return 1;
}

static const char script[] =
    "var log = [];\n"
    "var square;\n"
    "function onFrame(n) {\n"
    "  log.push('frame ' + n);\n"
    "  if (n === 1) {\n"
    "    setTimeout(function () { log.push('timer 10 ms after frame 1'); }, 10);\n"
    "    square = slowSquare(12);\n"
    "  }\n"
    "  if (n === 4) {\n"
    "    /* However slow the thread was, the answer is printed last. */\n"
    "    square.then(function (v) {\n"
    "      log.forEach(function (line) { print(line); });\n"
    "      print('slowSquare(12) = ' + v);\n"
    "      done();\n"
    "    });\n"
    "  }\n"
    "}\n";

int main(void)
{
    int status = 1;
    struct evl_loop *loop = NULL;
    duk_context *ctx = NULL;
    int tfd = -1;
    if (evl_loop_new(&loop, NULL) != 0) {
        return 1;
    }
    if (evl_duk_heap_new(&ctx, NULL) != 0 || evl_duk_install(ctx, loop, 0) != 0) {
        goto out;
    }
    duk_push_c_function(ctx, js_print, 1);
    duk_put_global_string(ctx, "print");
    duk_push_c_function(ctx, js_done, 0);
    duk_put_global_string(ctx, "done");
    duk_push_c_function(ctx, js_slow_square, 1);
    duk_put_global_string(ctx, "slowSquare");
    if (duk_peval_string(ctx, script) != 0) {
        fprintf(stderr, "script: %s\n", duk_safe_to_string(ctx, -1));
        goto out;
    }
    duk_pop(ctx);

    int evl_fd = evl_loop_backend_fd(loop);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec frames = {{0, 40000000}, {0, 40000000}};
    if (evl_fd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &frames, NULL) != 0) {
        goto out;
    }
    int frame = 0;
    while (!finished) {
        struct pollfd fds[2] = {{evl_fd, POLLIN, 0}, {tfd, POLLIN, 0}};
        if (poll(fds, 2, evl_loop_next_timeout_ms(loop)) < 0) {
            goto out;
        }
        if (fds[1].revents & POLLIN) {
            uint64_t ticks;
            if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
                /* A host event calls into JS with Node's error policy. */
                duk_get_global_string(ctx, "onFrame");
                duk_push_undefined(ctx);
                duk_push_int(ctx, ++frame);
                (void)evl_duk_call_method(ctx, 1);
                duk_pop(ctx);
            }
        }
        if (evl_loop_run(loop, EVL_RUN_NOWAIT) < 0) {
            goto out;
        }
    }
    status = 0;
out:
    if (tfd >= 0) {
        close(tfd);
    }
    if (ctx) {
        evl_duk_heap_free(ctx);
    }
    (void)evl_loop_free(loop);
    return status;
}
