/*
 * Node's process lifecycle as seen from C: guarded entries into JS (the callback boundary of
 * every feature), the uncaught-exception policy, and the process events that policy and the
 * end of a run emit ('uncaughtExceptionMonitor', 'uncaughtException', 'exit', and
 * 'beforeExit' for hosts). It sits next to process.c, which builds the process object these
 * events are emitted on.
 */
#include "duktape/process.h"

#include "duktape/exec.h"

#include <stdio.h>
#include <string.h>

/* Sets process._exiting = true. Value stack unchanged. */
void evl__duk_mark_exiting(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    d->exiting = 1;
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    if (duk_is_object(ctx, -1)) {
        duk_push_true(ctx);
        duk_put_prop_string(ctx, -2, "_exiting");
    }
    duk_pop_2(ctx);
}

/* Pushes what Node's 'exit' listeners receive: process.exitCode as set (256, '7'...; the
 * status keeps only its low 8 bits), as an int32 when the run ends by itself (as_number),
 * or 0 when it is unset. exitCode is the non-configurable accessor of js/process.js holding
 * only validated values, so reading and converting it runs no script code. */
void evl__duk_push_exit_listener_code(struct evl_duk *d, int as_number)
{
    duk_context *ctx = d->ctx;
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_string(ctx, -1, "exitCode");
    } else {
        duk_push_undefined(ctx);
    }
    if (!duk_get_boolean_default(ctx, -1, 0) && !duk_is_number(ctx, -1) &&
        !duk_is_string(ctx, -1)) {
        duk_pop(ctx);
        duk_push_int(ctx, 0);
    } else if (as_number) {
        duk_push_int(ctx, duk_to_int32(ctx, -1)); /* Node converts it to an int32 */
        duk_remove(ctx, -2);
    }
    if (duk_is_number(ctx, -1) && duk_get_number(ctx, -1) == 0) {
        duk_pop(ctx);
        duk_push_int(ctx, 0); /* -0 and '0' become 0, as `exitCode || 0` gives */
    }
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
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
    evl__duk_push_ref(d, d->internals_ref);
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
    if (d->cancel_timers) {
        d->cancel_timers(d);
    }
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
    d->exit_deferred = 0;
    d->unwinding = 0;
    d->timed_out = 0;
    d->exit_status = 0;
    duk_context *c = d->ctx;
    evl__duk_push_ref(d, d->internals_ref);
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

/* ---- emission and exit ----------------------------------------------------------------------- */

/* Emits event with the nargs values on top as one guarded entry: [... args] -> [...].
 * Returns the number of listeners called, EVL_EEXCEPTION or EVL_ECLOSED. */
static int emit_guarded(struct evl_duk *d, const char *event, duk_idx_t nargs)
{
    duk_context *ctx = d->ctx;
    duk_idx_t base = duk_get_top(ctx) - nargs;
    if (!evl__duk_push_internal(d, "emit")) {
        duk_pop_n(ctx, nargs);
        return 0;
    }
    duk_insert(ctx, base);
    duk_push_undefined(ctx);
    duk_insert(ctx, base + 1);
    duk_push_string(ctx, event);
    duk_insert(ctx, base + 2);
    int rc = evl__duk_call_method_guarded(d, nargs + 1);
    if (rc == 0) {
        rc = duk_get_int(ctx, -1);
    }
    duk_pop(ctx);
    return rc;
}

int evl__duk_emit(struct evl_duk *d, const char *event, duk_idx_t nargs)
{
    int rc = emit_guarded(d, event, nargs);
    return rc > 0 ? rc : 0;
}

int evl__duk_listener_count(struct evl_duk *d, const char *event)
{
    duk_context *ctx = d->ctx;
    if (!evl__duk_push_internal(d, "listenerCount")) {
        return 0;
    }
    duk_push_string(ctx, event);
    int count = 0;
    if (duk_pcall(ctx, 1) == DUK_EXEC_SUCCESS) {
        count = duk_get_int(ctx, -1);
    }
    duk_pop(ctx);
    return count;
}

int evl__duk_exit_code(struct evl_duk *d)
{
    return evl__duk_exit_code_or(d, 0);
}

int evl__duk_exit_code_or(struct evl_duk *d, int unset)
{
    duk_context *ctx = d->ctx;
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(ctx, -1, "process");
    int code = unset;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_string(ctx, -1, "exitCode");
        if (duk_is_number(ctx, -1) || duk_is_string(ctx, -1)) {
            code = (int)(duk_to_int32(ctx, -1) & 0xff);
        }
        duk_pop(ctx);
    }
    duk_pop_2(ctx);
    return code;
}

void evl__duk_exit(struct evl_duk *d)
{
    if (d->terminated) {
        return;
    }
    /* As in Node, 'exit' is emitted at the end of every run, even after a process.exit()
     * whose listeners threw; process.exitCode is left as the script set it (undefined
     * means 0). A listener that throws takes the uncaught path, which skips the remaining
     * listeners and keeps process.exitCode. */
    evl__duk_mark_exiting(d);
    evl__duk_push_exit_listener_code(d, 1);
    evl__duk_emit(d, "exit", 1);
    evl__duk_terminate(d, evl__duk_exit_code(d));
}

void evl__duk_exit_with(struct evl_duk *d, int status)
{
    if (d->terminated) {
        return;
    }
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(d->ctx, -1, "process");
    if (duk_is_object(d->ctx, -1)) {
        duk_push_int(d->ctx, status);
        duk_put_prop_string(d->ctx, -2, "exitCode");
    }
    duk_pop_2(d->ctx);
    evl__duk_exit(d);
}

int evl_duk_emit(duk_context *ctx, const char *event, duk_idx_t nargs)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        if (ctx) {
            duk_pop_n(ctx, nargs);
        }
        return EVL_ENOENT;
    }
    return emit_guarded(d, event, nargs);
}

int evl_duk_exit_code(duk_context *ctx)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    return d ? evl__duk_exit_code(d) : EVL_ENOENT;
}

int evl_duk_exit(duk_context *ctx, int *status)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (!d) {
        return EVL_ENOENT;
    }
    if (d->depth > 0) {
        return EVL_ERECURSE;
    }
    evl__duk_exit(d);
    if (status) {
        *status = d->exit_status;
    }
    return 0;
}
