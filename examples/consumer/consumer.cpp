/*
 * A C++ program using evl the way an embedder written in C++ would: the umbrella headers,
 * callbacks with C linkage, a timer, a promise chain and, when the adapter is built, a
 * Duktape heap bound to the loop. Every allocation is tracked and must be returned.
 * Prints "cxx consumer: ok" on success; anything else is a failure.
 */
#include <evl.h>
#ifdef EVL_CXX_DUKTAPE
#include <evl_duktape.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "cxx consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                                 \
        }                                                                                 \
    } while (0)

namespace
{

struct state {
    evl_promise *promise;
    int timer_runs;
    int reaction_value;
};

} // namespace

/* Callbacks passed to a C library get C language linkage, as the standard asks. */
extern "C" {

static void value_dtor(evl_loop *, void *value)
{
    evl_free(value);
}

static void on_fulfilled(evl_loop *, void *value, void *arg, evl_result *)
{
    static_cast<state *>(arg)->reaction_value = *static_cast<int *>(value);
}

static void on_timer(evl_loop *, uint64_t, void *arg)
{
    state *s = static_cast<state *>(arg);
    s->timer_runs++;
    int *value = static_cast<int *>(evl_malloc(sizeof(int)));
    CHECK(value != nullptr);
    *value = 42;
    CHECK(evl_promise_resolve(s->promise, value, value_dtor) == 0);
}

} // extern "C"

static void run_core()
{
    evl_loop_options options;
    evl_loop_options_init(&options);
    CHECK(options.size == sizeof(options));
    evl_loop *loop = nullptr;
    CHECK(evl_loop_new(&loop, &options) == 0);

    state s = {nullptr, 0, 0};
    CHECK(evl_promise_new(loop, &s.promise) == 0);
    CHECK(evl_promise_then(s.promise, on_fulfilled, nullptr, &s, nullptr, nullptr) == 0);
    uint64_t id = 0;
    CHECK(evl_timer_set(loop, on_timer, &s, 1, 0, &id) == 0);
    CHECK(id != 0);
    CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT) == 0);
    CHECK(s.timer_runs == 1);
    /* The reaction ran at the checkpoint after the timer callback. */
    CHECK(s.reaction_value == 42);
    CHECK(evl_promise_state(s.promise) == EVL_PROMISE_FULFILLED);
    evl_promise_release(s.promise);

    evl_error *err = nullptr;
    CHECK(evl_error_new(&err, EVL_ECANCELED, "stopped after %d run", s.timer_runs) == 0);
    CHECK(std::strcmp(evl_error_message(err), "stopped after 1 run") == 0);
    CHECK(evl_error_code(err) == EVL_ECANCELED);
    evl_error_free(err);
    CHECK(evl_loop_free(loop) == 0);
}

#ifdef EVL_CXX_DUKTAPE
static void run_duktape()
{
    evl_loop *loop = nullptr;
    CHECK(evl_loop_new(&loop, nullptr) == 0);
    duk_context *ctx = nullptr;
    CHECK(evl_duk_heap_new(&ctx, nullptr) == 0);
    CHECK(evl_duk_install(ctx, loop, EVL_DUK_NODE_GLOBALS) == 0);
    const char *script = "var out = [];"
                         "setTimeout(function () { out.push('timeout'); }, 2);"
                         "Promise.resolve(1).then(function (v) { out.push('then ' + v); });"
                         "queueMicrotask(function () { out.push('microtask'); });";
    CHECK(duk_peval_string(ctx, script) == 0);
    duk_pop(ctx);
    CHECK(evl_loop_checkpoint(loop) == 0);
    CHECK(evl_loop_run(loop, EVL_RUN_DEFAULT) == 0);
    CHECK(duk_peval_string(ctx, "out.join()") == 0);
    CHECK(std::strcmp(duk_get_string(ctx, -1), "then 1,microtask,timeout") == 0);
    duk_pop(ctx);
    int status = -1;
    CHECK(evl_duk_terminated(ctx, &status) == 0);
    CHECK(evl_duk_uninstall(ctx) == 0);
    evl_duk_heap_free(ctx);
    CHECK(evl_loop_free(loop) == 0);
}
#endif

int main()
{
    evl_alloc_tracking_enable();
    CHECK(std::strcmp(evl_version(), EVL_VERSION_STRING) == 0);
    CHECK(std::strcmp(evl_err_name(EVL_ENOMEM), "EVL_ENOMEM") == 0);
    run_core();
#ifdef EVL_CXX_DUKTAPE
    run_duktape();
#endif
    struct evl_alloc_stats stats;
    evl_alloc_stats(&stats);
    CHECK(stats.live_blocks == 0);
    evl_alloc_tracking_disable();
    std::printf("cxx consumer: ok (evl %s)\n", evl_version());
    return 0;
}
