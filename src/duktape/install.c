/*
 * The top floor of the adapter: evl_duk_install/uninstall and the lifetime of the binding.
 * It only decides the order in which the features install and release; each feature's
 * service lives in its own file (binding.h lists the floors).
 *
 * The binding lives in C memory (struct evl_duk) and is recorded in the heap (binding.c). A
 * stash object with a finalizer frees the binding if the embedder destroys the heap without
 * calling evl_duk_uninstall, so heap destruction alone never leaks.
 */
#include "duktape/binding.h"

#include "duktape/bootstrap.h"
#include "duktape/console.h"
#include "duktape/exec.h"
#include "duktape/heap.h"
#include "duktape/limits.h"
#include "duktape/perf_hooks.h"
#include "duktape/process.h"
#include "duktape/promise.h"
#include "duktape/registry.h"
#include "duktape/settle.h"
#include "duktape/signals.h"
#include "duktape/timers.h"
#include "duktape/web.h"

#define STASH_SENTRY DUK_HIDDEN_SYMBOL("evl_duk_sentry")
#define SENTRY_PTR   DUK_HIDDEN_SYMBOL("d")

/* Releases the C side of a binding, features first (they hold registry handles), then the
 * registry. The JS side (stash entries) is released by the caller when the heap is still
 * alive, or by the heap itself when it is being destroyed. */
static void binding_free(struct evl_duk *d)
{
    evl__duk_settle_release(d);
    evl__duk_signals_release(d);
    evl__duk_limits_release(d);
    evl__duk_promise_release(d);
    evl__duk_timers_release(d);
    evl__duk_registry_release(d);
    if (d->hs) {
        evl__duk_heap_state_bind(d->hs, NULL);
    }
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
        /* Finalizers that still run must not find the binding. */
        evl__duk_binding_record(ctx, NULL);
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
    duk_pop(ctx);
    evl__duk_binding_record(ctx, NULL);
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

/* Runs the installers, in dependency order, inside a safe call: any of them may throw (out
 * of memory). Natives are added before the bootstraps that use them: signals and timers
 * before process (process.js builds process.on('SIG...') and process.nextTick on them). */
static duk_ret_t install_all(duk_context *ctx, void *udata)
{
    struct evl_duk *d = udata;
    evl__duk_binding_record(ctx, d);
    int rc = evl__duk_registry_install(d);
    if (rc == 0) {
        rc = install_sentry(d);
    }
    if (rc == 0) {
        rc = evl__duk_exec_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_internals_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_signals_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_timers_install(d);
    }
    if (rc == 0) {
        rc = evl__duk_process_install(d);
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
    if (rc == 0) {
        rc = evl__duk_perf_hooks_install(d); /* after web: it extends the final performance */
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
    d->hs = evl__duk_heap_state(ctx);
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
