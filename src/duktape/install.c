/*
 * evl_duk_install/uninstall, the per-heap binding, guarded calls into JS and Node's
 * uncaught-exception policy.
 *
 * The binding lives in C memory (struct evl_duk) and is found through a pointer kept in the
 * heap stash. A stash object with a finalizer frees the binding if the embedder destroys the
 * heap without calling evl_duk_uninstall, so heap destruction alone never leaks.
 */
#include "duktape/duk_private.h"

#include <stdio.h>
#include <string.h>

#define STASH_BINDING DUK_HIDDEN_SYMBOL("evl_duk")
#define STASH_SENTRY  DUK_HIDDEN_SYMBOL("evl_duk_sentry")
#define SENTRY_PTR    DUK_HIDDEN_SYMBOL("d")

/*
 * A one-entry cache in front of the stash lookup: every native call needs the binding, and
 * a heap is only ever used from one thread. The cache is keyed by the context (a Duktape
 * thread) and cleared whenever a binding goes away.
 */
static _Thread_local duk_context *cached_ctx;
static _Thread_local struct evl_duk *cached_binding;

struct evl_duk *evl__duk_get(duk_context *ctx)
{
    if (ctx == cached_ctx && ctx) {
        return cached_binding;
    }
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, STASH_BINDING);
    struct evl_duk *d = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    if (d) {
        cached_ctx = ctx;
        cached_binding = d;
    }
    return d;
}

duk_context *evl__duk_ctx(struct evl_duk *d)
{
    return d->ctx;
}

struct evl_loop *evl__duk_loop(struct evl_duk *d)
{
    return d->loop;
}

/* Releases the C side of a binding. The JS side (stash entries) is released by the caller
 * when the heap is still alive, or by the heap itself when it is being destroyed. */
static void binding_free(struct evl_duk *d)
{
    evl__duk_settle_release(d);
    evl__duk_signals_release(d);
    evl__duk_limits_release(d);
    evl__duk_promise_release(d);
    if (cached_binding == d) {
        cached_ctx = NULL;
        cached_binding = NULL;
    }
    evl__duk_timers_release(d);
    evl__duk_registry_release(d);
    evl__duk_exec_detach(d);
    evl_free(d);
}

/* Finalizer of the stash sentry: runs when the heap is destroyed without uninstall. */
static duk_ret_t sentry_finalizer(duk_context *ctx)
{
    duk_get_prop_literal(ctx, 0, SENTRY_PTR);
    struct evl_duk *d = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (d) {
        duk_push_pointer(ctx, NULL);
        duk_put_prop_literal(ctx, 0, SENTRY_PTR);
        d->ctx = NULL;
        binding_free(d);
    }
    return 0;
}

static int install_sentry(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_heap_stash(ctx);
    duk_push_object(ctx);
    duk_push_pointer(ctx, d);
    duk_put_prop_literal(ctx, -2, SENTRY_PTR);
    duk_push_c_function(ctx, sentry_finalizer, 1);
    duk_set_finalizer(ctx, -2);
    duk_put_prop_literal(ctx, -2, STASH_SENTRY);
    duk_push_pointer(ctx, d);
    duk_put_prop_literal(ctx, -2, STASH_BINDING);
    duk_pop(ctx);
    return 0;
}

/* Removes the stash entries so the heap forgets the binding. Value stack unchanged. */
static void stash_forget(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    if (duk_get_prop_literal(ctx, -1, STASH_SENTRY)) {
        duk_push_pointer(ctx, NULL);
        duk_put_prop_literal(ctx, -2, SENTRY_PTR);
    }
    duk_pop(ctx);
    duk_del_prop_literal(ctx, -1, STASH_SENTRY);
    duk_del_prop_literal(ctx, -1, STASH_BINDING);
    duk_pop(ctx);
}

/* Globals that Node does not have and that would confuse scripts probing the environment. */
static void remove_non_node_globals(duk_context *ctx)
{
    static const char *const names[] = {"Duktape", "CBOR", "print", "alert"};
    duk_push_global_object(ctx);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        duk_del_prop_string(ctx, -1, names[i]);
    }
    duk_pop(ctx);
}

/* Runs the installers inside a safe call: any of them may throw (out of memory). */
static duk_ret_t install_all(duk_context *ctx, void *udata)
{
    struct evl_duk *d = udata;
    int rc = evl__duk_registry_install(d);
    if (rc == 0) {
        rc = install_sentry(d);
    }
    if (rc == 0) {
        rc = evl__duk_exec_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_process_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_timers_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_console_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_perf_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_promise_install(d);
    }
    if (rc == 0 && (d->flags & EVL_DUK_WEB)) {
        rc = evl__duk_web_install(d);
    }
    if (rc == 0 && (d->flags & EVL_DUK_NODE_GLOBALS)) {
        remove_non_node_globals(ctx);
    }
    duk_push_int(ctx, rc);
    return 1;
}

int evl_duk_install(duk_context *ctx, struct evl_loop *loop, unsigned flags)
{
    if (!ctx || !loop) {
        return EVL_EINVAL;
    }
    if (evl__duk_get(ctx)) {
        return EVL_EEXIST;
    }
    struct evl_duk *d = evl_calloc(1, sizeof(*d));
    if (!d) {
        return EVL_ENOMEM;
    }
    d->ctx = ctx;
    d->loop = loop;
    d->flags = flags;
    d->exit_status = 0;
    evl__duk_exec_attach(d);
    int rc = EVL_ENOMEM;
    if (duk_safe_call(ctx, install_all, d, 0, 1) == DUK_EXEC_SUCCESS) {
        rc = duk_get_int(ctx, -1);
    }
    duk_pop(ctx);
    if (rc != 0) {
        /* Leave nothing half-done: forget the stash entries, then free the C side. */
        stash_forget(ctx);
        binding_free(d);
        return rc;
    }
    return 0;
}

int evl_duk_uninstall(duk_context *ctx)
{
    if (!ctx) {
        return EVL_EINVAL;
    }
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        return EVL_ENOENT;
    }
    if (d->depth > 0) {
        return EVL_ERECURSE;
    }
    stash_forget(ctx);
    evl__duk_registry_drop(d);
    binding_free(d);
    return 0;
}

int evl_duk_terminated(duk_context *ctx, int *status)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (status) {
        *status = d->exit_status;
    }
    return d->terminated;
}

/* ---- guarded calls ------------------------------------------------------------------- */

int evl__duk_call_method_guarded(struct evl_duk *d, duk_idx_t nargs)
{
    duk_context *ctx = d->ctx;
    if (d->terminated) {
        duk_pop_n(ctx, nargs + 2);
        duk_push_undefined(ctx);
        return EVL_ECLOSED;
    }
    evl__duk_exec_enter(d);
    int rc = duk_pcall_method(ctx, nargs);
    evl__duk_exec_leave(d);
    if (rc == DUK_EXEC_SUCCESS) {
        return 0;
    }
    if (d->depth > 0 && evl__duk_exec_tripped(d)) {
        /* A timeout or process.exit() is unwinding: keep unwinding to the outermost entry. */
        (void)duk_throw(ctx);
    }
    if (d->terminated) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
        return EVL_ECLOSED;
    }
    evl__duk_uncaught(d, -1);
    duk_pop(ctx);
    duk_push_undefined(ctx);
    if (d->runtime_exceeded && d->depth == 0 && !d->terminated) {
        evl__duk_exit_with(d, 1); /* the wall-time budget ends the run, handled or not */
    }
    return EVL_EEXCEPTION;
}

int evl_duk_call_method(duk_context *ctx, duk_idx_t nargs)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        duk_pop_n(ctx, nargs + 2);
        duk_push_undefined(ctx);
        return EVL_ENOENT;
    }
    return evl__duk_call_method_guarded(d, nargs);
}

/* ---- uncaught exceptions ------------------------------------------------------------- */

/* Writes the fatal report for the error at idx to stderr, or under the report policy hands
 * it to the embedder's callback. Value stack unchanged. */
static void print_fatal(struct evl_duk *d, duk_idx_t idx, const char *origin)
{
    duk_context *ctx = d->ctx;
    idx = duk_normalize_index(ctx, idx);
    const char *text = NULL;
    if (evl__duk_push_internal(d, "fatalMessage")) {
        duk_dup(ctx, idx);
        if (duk_pcall(ctx, 1) == DUK_EXEC_SUCCESS && duk_is_string(ctx, -1)) {
            text = duk_get_string(ctx, -1);
        }
    } else {
        duk_push_undefined(ctx);
    }
    if (!text) {
        duk_push_sprintf(ctx, "Uncaught %s\n", duk_safe_to_string(ctx, idx));
        duk_replace(ctx, -2);
        text = duk_get_string(ctx, -1);
    }
    if (d->policy == EVL_DUK_POLICY_REPORT && d->report) {
        d->report(ctx, origin, text, d->report_ud);
    } else {
        evl__duk_flush_stdout();
        fputs(text, stderr);
        fflush(stderr);
    }
    duk_pop(ctx);
}

/*
 * Emits event(err, origin) for the uncaught-exception policy itself. Unlike evl__duk_emit, a
 * listener that throws does not re-enter the policy: a throwing 'uncaughtExceptionMonitor'
 * would otherwise be handed its own error again, recursing until the C stack overflows.
 * Node treats such a throw as a failure of the fatal-exception handler: it reports the new
 * error and exits with status 7, without 'exit' listeners. Returns 0 when the listeners
 * returned, -1 when the run has ended (terminated here or by process.exit in a listener).
 * Value stack unchanged.
 */
static int emit_on_error_path(struct evl_duk *d, const char *event, duk_idx_t err,
                              const char *origin)
{
    duk_context *ctx = d->ctx;
    if (!evl__duk_push_internal(d, "emit")) {
        return 0;
    }
    duk_push_undefined(ctx);
    duk_push_string(ctx, event);
    duk_dup(ctx, err);
    duk_push_string(ctx, origin);
    evl__duk_exec_enter(d);
    int rc = duk_pcall_method(ctx, 3);
    int tripped = rc != DUK_EXEC_SUCCESS && evl__duk_exec_tripped(d);
    evl__duk_exec_leave(d);
    if (rc != DUK_EXEC_SUCCESS && tripped && d->depth > 0) {
        /* process.exit() or the execution limit is unwinding to the outermost entry. */
        (void)duk_throw(ctx);
    }
    if (rc != DUK_EXEC_SUCCESS && !d->terminated) {
        print_fatal(d, -1, origin);
        if (d->policy == EVL_DUK_POLICY_NODE) {
            evl__duk_terminate(d, 7);
        }
    }
    duk_pop(ctx);
    return d->terminated ? -1 : 0;
}

/* Emits 'exit' for a fatal error. Like Node, a throw from these listeners is ignored: the
 * process is ending with the original error anyway. Value stack unchanged. */
static void emit_exit_for_fatal(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    d->exiting = 1;
    evl__duk_push_ref(ctx, d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    if (duk_is_object(ctx, -1)) {
        duk_push_int(ctx, 1);
        duk_put_prop_string(ctx, -2, "exitCode");
        duk_push_true(ctx);
        duk_put_prop_string(ctx, -2, "_exiting");
    }
    duk_pop_2(ctx);
    if (!evl__duk_push_internal(d, "emit")) {
        return;
    }
    duk_push_undefined(ctx);
    duk_push_string(ctx, "exit");
    duk_push_int(ctx, 1);
    evl__duk_exec_enter(d);
    int rc = duk_pcall_method(ctx, 2);
    int tripped = rc != DUK_EXEC_SUCCESS && evl__duk_exec_tripped(d);
    evl__duk_exec_leave(d);
    if (tripped && d->depth > 0) {
        (void)duk_throw(ctx);
    }
    duk_pop(ctx);
}

void evl__duk_uncaught_origin(struct evl_duk *d, duk_idx_t idx, const char *origin)
{
    duk_context *ctx = d->ctx;
    if (d->terminated) {
        return;
    }
    idx = duk_normalize_index(ctx, idx);
    /* Node's process._fatalException: the monitor, then the handlers; an error thrown by
     * 'exit' listeners takes this same path (the remaining listeners are skipped). */
    if (emit_on_error_path(d, "uncaughtExceptionMonitor", idx, origin) != 0) {
        return;
    }
    if (evl__duk_listener_count(d, "uncaughtException") > 0) {
        (void)emit_on_error_path(d, "uncaughtException", idx, origin);
        return;
    }
    if (d->policy == EVL_DUK_POLICY_REPORT) {
        /* The embedder's heap keeps running: no 'exit', no termination. */
        print_fatal(d, idx, origin);
        return;
    }
    /* Fatal: 'exit' listeners run first (once per process), then the report; the status is
     * process.exitCode as the listeners left it, 1 when unset. */
    if (!d->exiting) {
        emit_exit_for_fatal(d);
        if (d->terminated) {
            return;
        }
    }
    print_fatal(d, idx, origin);
    evl__duk_terminate(d, evl__duk_exit_code_or(d, 1));
}

void evl__duk_uncaught(struct evl_duk *d, duk_idx_t idx)
{
    evl__duk_uncaught_origin(d, idx, "uncaughtException");
}

void evl__duk_terminate(struct evl_duk *d, int status)
{
    if (d->terminated) {
        return;
    }
    d->terminated = 1;
    d->exit_status = status;
    if (d->depth > 0) {
        d->unwinding = 1;
    }
    evl__duk_timers_release(d);
    (void)evl_loop_stop(d->loop);
}

int evl__duk_terminated(struct evl_duk *d)
{
    return d->terminated;
}

int evl_duk_set_error_policy(duk_context *ctx, enum evl_duk_error_policy policy,
                             evl_duk_report_cb report, void *ud)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (policy != EVL_DUK_POLICY_REPORT && policy != EVL_DUK_POLICY_NODE) {
        return EVL_EINVAL;
    }
    d->policy = policy;
    d->report = report;
    d->report_ud = ud;
    return 0;
}

int evl_duk_reset(duk_context *ctx)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (d->depth > 0) {
        return EVL_ERECURSE;
    }
    /* The timers went with the termination; everything else (globals, listeners, pending
     * promises) is as the run left it. */
    d->terminated = 0;
    d->exiting = 0;
    d->unwinding = 0;
    d->timed_out = 0;
    d->exit_status = 0;
    duk_context *c = d->ctx;
    evl__duk_push_ref(c, d->internals_ref);
    duk_get_prop_string(c, -1, "process");
    if (duk_is_object(c, -1)) {
        duk_push_false(c);
        duk_put_prop_string(c, -2, "_exiting");
        duk_push_undefined(c);
        duk_put_prop_string(c, -2, "exitCode");
    }
    duk_pop_2(c);
    return 0;
}
