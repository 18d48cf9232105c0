/*
 * Execution limits. Duktape calls evl__duk_exec_timeout_check every few hundred thousand
 * bytecode instructions (DUK_USE_EXEC_TIMEOUT_CHECK in our generated duk_config.h), which
 * forwards to evl__duk_exec_check, registered by evl_duk_heap_new. Returning
 * nonzero throws a RangeError "execution timeout" that no JS catch can swallow: Duktape keeps
 * re-throwing until control is back in C, and we keep saying "timeout" until the outermost
 * guarded entry returns. The same mechanism unwinds the stack after process.exit().
 */
#include "duktape/exec.h"

#include "duktape/engine/duk_engine.h"
#include "duktape/heap.h"

#include <string.h>

int evl__duk_exec_check(void *udata)
{
    struct evl_duk *d = evl__duk_heap_state_binding(udata);
    if (!d) {
        return 0;
    }
    if (d->unwinding || d->timed_out) {
        return 1;
    }
    if (d->depth > 0 && (d->deadline_ns || d->run_deadline_ns)) {
        uint64_t now = evl__duk_now_ns();
        if (d->run_deadline_ns && now >= d->run_deadline_ns) {
            /* The run's budget, not the callback's: trips once; the guarded entry then ends
             * the run (the listeners and 'exit' handlers it runs are not cut short again). */
            d->run_deadline_ns = 0;
            d->runtime_exceeded = 1;
            d->runtime_tripped = 1;
            d->timed_out = 1;
            return 1;
        }
        if (d->deadline_ns && now >= d->deadline_ns) {
            d->timed_out = 1;
            return 1;
        }
    }
    return 0;
}

void evl__duk_exec_attach(struct evl_duk *d)
{
    if (d->hs) {
        evl__duk_engine_set_exec_check(evl__duk_exec_check);
    }
}

void evl__duk_exec_enter(struct evl_duk *d)
{
    if (d->depth++ == 0 && d->exec_limit_ns) {
        d->deadline_ns = evl__duk_now_ns() + d->exec_limit_ns;
    }
}

void evl__duk_exec_leave(struct evl_duk *d)
{
    if (--d->depth == 0) {
        evl__duk_heap_state_settle(d->hs);
        d->deadline_ns = 0;
        d->timed_out = 0;
        d->unwinding = 0;
        d->runtime_tripped = 0;
        if (d->exit_deferred && d->finish_exit) {
            d->exit_deferred = 0;
            d->finish_exit(d); /* the stack is unwound: process.exit()'s listeners now */
        }
    }
}

int evl__duk_exec_tripped(struct evl_duk *d)
{
    return d->unwinding || d->timed_out;
}

const char *evl__duk_timeout_code(struct evl_duk *d)
{
    return d->runtime_tripped ? "ERR_EVL_LIMIT_RUNTIME" : "ERR_EVL_LIMIT_CPU";
}

const char *evl__duk_timeout_message(struct evl_duk *d)
{
    return d->runtime_tripped ? EVL__DUK_RUNTIME_MSG : NULL;
}

int evl_duk_set_exec_limit(duk_context *ctx, uint64_t ms)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (!d->hs) {
        return EVL_ENOSYS;
    }
    if (ms > EVL_TIMER_DELAY_MAX) {
        return EVL_ERANGE; /* the deadline (now + ms in ns) must not wrap around */
    }
    d->exec_limit_ns = ms * 1000000u;
    return 0;
}

/*
 * Duktape reports a failed allocation as a plain Error "alloc failed". Node users expect an
 * out-of-memory condition to be a RangeError, so the error-creation hook turns it into one in
 * place: only a prototype switch and a write of a pre-interned string, so it works even when
 * the heap cap leaves no room for new objects.
 */
static duk_ret_t err_create_hook(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    struct evl_duk *d = evl__duk_get(ctx);
    if (d && evl__duk_exec_tripped(d) && !d->unwinding && duk_is_error(ctx, 0) &&
        duk_get_prop_string(ctx, 0, "message") && duk_is_string(ctx, -1) &&
        strcmp(duk_get_string(ctx, -1), "execution timeout") == 0) {
        /* A limit of ours: say which, with a code the script (or its log) can match. */
        const char *msg = evl__duk_timeout_message(d);
        if (msg) {
            duk_push_string(ctx, msg);
            duk_put_prop_string(ctx, 0, "message");
        }
        duk_push_string(ctx, evl__duk_timeout_code(d));
        duk_put_prop_string(ctx, 0, "code");
        duk_set_top(ctx, 1);
        return 1;
    }
    duk_set_top(ctx, 1);
    if (duk_is_error(ctx, 0) && duk_get_prop_string(ctx, 0, "message") && duk_is_string(ctx, -1) &&
        strcmp(duk_get_string(ctx, -1), "alloc failed") == 0) {
        duk_get_global_string(ctx, "RangeError");
        if (duk_get_prop_string(ctx, -1, "prototype")) {
            duk_set_prototype(ctx, 0);
            duk_get_prop_string(ctx, -1, "oomMessage");
            duk_put_prop_string(ctx, 0, "message");
        }
    }
    duk_set_top(ctx, 1);
    return 1;
}

int evl__duk_exec_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_get_global_string(ctx, "Duktape");
    if (duk_is_object(ctx, -1) && !duk_has_prop_string(ctx, -1, "errCreate")) {
        duk_push_c_function(ctx, err_create_hook, 1);
        duk_put_prop_string(ctx, -2, "errCreate");
    }
    duk_pop(ctx);
    /* The replacement message is interned now, while there is memory for it. */
    duk_get_global_string(ctx, "RangeError");
    duk_push_string(ctx, "JavaScript heap out of memory");
    duk_put_prop_string(ctx, -2, "oomMessage");
    /* When even the error cannot be made (no memory left to build it), Duktape throws its one
     * fixed DoubleError instance. That is an out-of-memory condition too: it becomes a
     * RangeError with the same message, so scripts and reports never see "DoubleError".
     * The instance is frozen; the forced definitions below are made once, here. */
    evl__duk_push_double_error(ctx);
    duk_get_prop_string(ctx, -2, "prototype");
    duk_set_prototype(ctx, -2);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, "RangeError");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_push_string(ctx, "message");
    duk_get_prop_string(ctx, -3, "oomMessage");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_pop_2(ctx);
    return 0;
}
