/*
 * Sandbox limits of a heap (evl_duk_set_max_runtime, evl_duk_set_max_timers,
 * evl_duk_set_max_microtasks) and the errors they raise: a RangeError whose `code` names the
 * limit (ERR_EVL_LIMIT_RUNTIME, ERR_EVL_LIMIT_TIMERS, ERR_EVL_LIMIT_IMMEDIATES,
 * ERR_EVL_LIMIT_MICROTASKS, ERR_EVL_LIMIT_CPU for the per-callback budget). A limit that a
 * call can report (too many timers) is thrown by that call; one that no call owns (the run's
 * wall time, a runaway microtask chain) is delivered as an uncaught exception and then ends
 * the run with status 1 even if a listener handled it: the limit is the embedder's, not the
 * script's, to lift.
 */
#include "duktape/limits.h"

#include "duktape/exec.h"
#include "duktape/process.h"

#include <string.h>

struct limit_error {
    const char *code;
    const char *msg;
};

static duk_ret_t push_limit_error_unsafe(duk_context *ctx, void *udata)
{
    const struct limit_error *e = udata;
    /* _raw: no C file and line in the error's stack. */
    duk_push_error_object_raw(ctx, DUK_ERR_RANGE_ERROR, NULL, 0, "%s", e->msg);
    duk_push_string(ctx, e->code);
    duk_put_prop_string(ctx, -2, "code");
    return 1;
}

/* Pushes the RangeError (+1); under memory pressure whatever error making it raised. */
static void push_limit_error(duk_context *ctx, const char *code, const char *msg)
{
    struct limit_error e = {code, msg};
    (void)duk_safe_call(ctx, push_limit_error_unsafe, &e, 0, 1);
}

void evl__duk_throw_limit(duk_context *ctx, const char *code, const char *msg)
{
    push_limit_error(ctx, code, msg);
    (void)duk_throw(ctx);
}

/* A limit no call owns: uncaught exception, then the end of the run (status 1). */
static void fatal_limit(struct evl_duk *d, const char *code, const char *msg)
{
    if (d->terminated || !d->ctx) {
        return;
    }
    duk_context *ctx = d->ctx;
    push_limit_error(ctx, code, msg);
    evl__duk_uncaught(d, -1);
    duk_pop(ctx);
    if (!d->terminated) {
        evl__duk_exit_with(d, 1);
    }
}

static void runtime_expired(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    struct evl_duk *d = arg;
    d->runtime_timer = 0;
    if (d->runtime_exceeded) {
        return; /* a running callback was interrupted for it already */
    }
    d->run_deadline_ns = 0;
    d->runtime_exceeded = 1;
    fatal_limit(d, "ERR_EVL_LIMIT_RUNTIME", EVL__DUK_RUNTIME_MSG);
}

static void limit_hook(struct evl_loop *loop, enum evl_limit_kind kind, void *ud)
{
    (void)loop;
    struct evl_duk *d = ud;
    if (kind == EVL_LIMIT_MICROTASKS) {
        fatal_limit(d, "ERR_EVL_LIMIT_MICROTASKS",
                    "a checkpoint ran more microtasks than its cap (a runaway promise chain)");
    }
}

int evl_duk_set_max_runtime(duk_context *ctx, uint64_t ms)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (ms > EVL_TIMER_DELAY_MAX) {
        return EVL_ERANGE;
    }
    if (d->runtime_timer) {
        (void)evl_timer_clear(d->loop, d->runtime_timer);
        d->runtime_timer = 0;
    }
    d->run_deadline_ns = 0;
    if (ms == 0) {
        return 0;
    }
    uint64_t id;
    int rc = evl_timer_set(d->loop, runtime_expired, d, ms, 0, &id);
    if (rc != 0) {
        return rc;
    }
    (void)evl_timer_unref(d->loop, id); /* the budget never keeps a finished run alive */
    d->runtime_timer = id;
    d->run_deadline_ns = evl__duk_now_ns() + ms * UINT64_C(1000000);
    return 0;
}

int evl_duk_set_max_timers(duk_context *ctx, uint32_t n)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    d->max_timers = n;
    return 0;
}

int evl_duk_set_max_microtasks(duk_context *ctx, uint32_t n)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    int rc = evl_loop_set_checkpoint_cap(d->loop, n);
    if (rc != 0) {
        return rc;
    }
    evl_loop_set_limit_hook(d->loop, n ? limit_hook : NULL, n ? d : NULL);
    d->owns_limit_hook = n != 0;
    return 0;
}

void evl__duk_limits_release(struct evl_duk *d)
{
    if (d->runtime_timer) {
        (void)evl_timer_clear(d->loop, d->runtime_timer);
        d->runtime_timer = 0;
    }
    if (d->owns_limit_hook) {
        evl_loop_set_limit_hook(d->loop, NULL, NULL);
        d->owns_limit_hook = 0;
    }
}
