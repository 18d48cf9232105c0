/*
 * evl-duktape: installs libevl into a Duktape heap (Promise, timers, queueMicrotask,
 * process, console). See docs/duktape.md.
 */
#ifndef EVL_DUKTAPE_H
#define EVL_DUKTAPE_H

#include "evl.h"
#include "duktape.h"

/* The adapter needs a Duktape configured for it (docs/duktape.md): the duktape.h installed with
 * evl in <prefix>/include/evl/duktape, never a system one, which is configured differently. */
#if !defined(DUK_USE_INTERRUPT_COUNTER) || !defined(DUK_USE_EXEC_TIMEOUT_CHECK)
#error "this duktape.h is not configured for evl: put <prefix>/include/evl/duktape first"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Options for evl_duk_heap_new. */
struct evl_duk_heap_options {
    size_t size;             /* sizeof(struct evl_duk_heap_options) */
    uint64_t max_heap_bytes; /* 0: no cap; otherwise allocations beyond it fail (RangeError) */
};

/* Fills *options with defaults. Thread-safe. */
EVL_API void evl_duk_heap_options_init(struct evl_duk_heap_options *options);

/*
 * Creates a Duktape heap whose every allocation goes through the evl allocator (+1: destroy
 * with evl_duk_heap_free). options may be NULL. Thread-safe (the heap is then used from
 * one thread). Errors: EVL_EINVAL, EVL_ENOMEM, EVL_ERANGE (max_heap_bytes is below what an
 * empty heap needs, about 100 KB).
 */
EVL_API int evl_duk_heap_new(duk_context **out, const struct evl_duk_heap_options *options);

/* Destroys a heap made by evl_duk_heap_new (uninstalling the binding first if there is one).
 * nextTick/queueMicrotask jobs the script queued and the loop has not run are freed here if
 * the loop has terminated (evl_loop_close it first, as evljs does), else by the loop when it
 * runs them; a loop freed without either keeps them (32 bytes each).
 * The heap's thread only. Errors: EVL_EINVAL (NULL), EVL_ERECURSE (from inside a JS callback
 * of this heap: nothing is freed). */
EVL_API int evl_duk_heap_free(duk_context *ctx);

/* Flags for evl_duk_install. */
#define EVL_DUK_NO_CONSOLE   0x1u /* keep the heap's own console (do not define one) */
#define EVL_DUK_NODE_GLOBALS 0x2u /* delete globals Node lacks: Duktape, CBOR, print, alert */
/* Define the web platform APIs (EventTarget, AbortController, DOMException, structuredClone,
 * atob/btoa, crypto, TextEncoder/TextDecoder, performance User Timing, Blob, MessageChannel:
 * docs/js-runtime.md). Globals the host defined before the call are kept. */
#define EVL_DUK_WEB 0x4u

/*
 * Binds the heap ctx to loop and defines the globals: setTimeout, setInterval, setImmediate,
 * their clear functions, queueMicrotask, process, console, performance, Promise. One heap
 * binds to one loop, and the binding lasts until evl_duk_uninstall or heap destruction
 * (either releases everything). ctx and loop are borrowed; the loop must outlive the
 * binding. Value stack: unchanged. Loop thread only: the heap is used only on the loop's
 * thread; other threads post work with evl_loop_submit to a task that then touches the heap.
 * Errors: EVL_EINVAL (NULL), EVL_EEXIST (ctx already bound), EVL_ENOMEM.
 */
EVL_API int evl_duk_install(duk_context *ctx, struct evl_loop *loop, unsigned flags);

/*
 * Releases the binding: cancels its pending timers and immediates, drops every value held
 * in the registry. Queued nextTick/microtask jobs become no-ops. The globals stay defined
 * but their natives then fail. Value stack: unchanged. Loop thread only.
 * Errors: EVL_EINVAL, EVL_ENOENT (not installed), EVL_ERECURSE (from inside a JS callback).
 */
EVL_API int evl_duk_uninstall(duk_context *ctx);

/*
 * Per-callback execution budget in milliseconds (0: none). Each entry from the loop into JS
 * (a timer, an immediate, a job, a listener, the main script) that runs longer is
 * interrupted with a RangeError "execution timeout" that no JS catch can stop; it is then
 * reported as an uncaught exception. Needs a heap from evl_duk_heap_new. Value stack:
 * unchanged. Loop thread only. Errors: EVL_ENOENT (not installed), EVL_ENOSYS (foreign
 * heap), EVL_ERANGE (above EVL_TIMER_DELAY_MAX).
 */
EVL_API int evl_duk_set_exec_limit(duk_context *ctx, uint64_t ms);

/*
 * Sandbox limits of an installed heap (docs/overload.md). Value stack: unchanged. Loop thread
 * only. Each limit hit is a RangeError whose `code` names it:
 *   evl_duk_set_max_runtime: wall-time budget of the whole run in ms (0: none), counted from
 *     this call. When it passes, a running callback is interrupted (no JS catch can stop it)
 *     and the run ends with an uncaught ERR_EVL_LIMIT_RUNTIME and status 1, even if an
 *     'uncaughtException' listener handles it. The budget never keeps the loop alive.
 *     Errors: EVL_ENOENT (not installed), EVL_ERANGE, EVL_ENOMEM.
 *   evl_duk_set_max_timers: live timeouts, intervals and immediates of this heap (0: none);
 *     past it setTimeout/setInterval throw ERR_EVL_LIMIT_TIMERS, setImmediate
 *     ERR_EVL_LIMIT_IMMEDIATES (the loop's own options.max_timers/max_immediates give the
 *     same errors). Errors: EVL_ENOENT.
 *   evl_duk_set_max_microtasks: the loop's checkpoint cap (options
 *     .max_microtasks_per_checkpoint; 0: back to the default) made fatal: a checkpoint that
 *     reaches it (a promise chain that never ends, a thenable that re-resolves itself) ends
 *     the run with an uncaught ERR_EVL_LIMIT_MICROTASKS and status 1. Takes the loop's limit
 *     hook (evl_loop_set_limit_hook) while set. Errors: EVL_ENOENT, EVL_EPERM.
 * The per-callback budget (evl_duk_set_exec_limit) raises ERR_EVL_LIMIT_CPU.
 */
EVL_API int evl_duk_set_max_runtime(duk_context *ctx, uint64_t ms);
EVL_API int evl_duk_set_max_timers(duk_context *ctx, uint32_t n);
EVL_API int evl_duk_set_max_microtasks(duk_context *ctx, uint32_t n);

/*
 * What happens to an uncaught exception or an unhandled rejection that no JS listener
 * ('uncaughtException', 'unhandledRejection') takes, and to an error thrown by such a listener:
 *   EVL_DUK_POLICY_REPORT  (the default of evl_duk_install) it is reported and the heap keeps
 *                          running: report(ctx, origin, text, ud) gets the text Node would
 *                          print ("Uncaught Error: ..." with the stack) and origin
 *                          ("uncaughtException" or "unhandledRejection"); with report NULL
 *                          the text goes to stderr.
 *   EVL_DUK_POLICY_NODE    as Node (the evljs command line): the text goes to stderr, 'exit'
 *                          listeners run and the run terminates with status 1 (7 when a
 *                          listener threw) — see evl_duk_terminated.
 * process.exit() terminates under both. Rejections of promises that never reached JS
 * (created and rejected only in C) are not JS's business under either: they go to the loop's
 * log at warn level. Value stack: unchanged. Loop thread only.
 * Errors: EVL_ENOENT (not installed), EVL_EINVAL (unknown policy).
 */
enum evl_duk_error_policy { EVL_DUK_POLICY_REPORT = 0, EVL_DUK_POLICY_NODE = 1 };
typedef void (*evl_duk_report_cb)(duk_context *ctx, const char *origin, const char *text, void *ud);
EVL_API int evl_duk_set_error_policy(duk_context *ctx, enum evl_duk_error_policy policy,
                                     evl_duk_report_cb report, void *ud);

/*
 * 1 once the run is over (process.exit(), or under EVL_DUK_POLICY_NODE an uncaught error with
 * no listener), with the exit status in *status (may be NULL); 0 while running. Once
 * terminated no JS callback runs, JS calls into the runtime's natives throw, the binding's
 * timers are cancelled and the loop has been asked to stop, until evl_duk_reset.
 * Loop thread only. Errors: EVL_ENOENT.
 */
EVL_API int evl_duk_terminated(duk_context *ctx, int *status);

/*
 * Makes a terminated heap usable again (the exit status is cleared; globals, listeners and
 * promises stay as they were; the cancelled timers stay cancelled). Value stack: unchanged.
 * Loop thread only, outside JS callbacks. Errors: EVL_ENOENT, EVL_ERECURSE.
 */
EVL_API int evl_duk_reset(duk_context *ctx);

/*
 * Sets process.argv to a copy of argv[0..argc-1] (the strings are copied). Value stack:
 * unchanged. Loop thread only. Errors: EVL_ENOENT, EVL_EINVAL, EVL_ENOMEM.
 */
EVL_API int evl_duk_set_argv(duk_context *ctx, int argc, char *const *argv);

/*
 * Holding JS values from C: evl_duk_ref keeps the value at idx alive in the binding's
 * registry and returns a nonzero handle (0 on failure: not installed or out of memory);
 * nothing is copied, so identity, prototype and undefined-vs-null survive. Value stack:
 * unchanged. evl_duk_push_ref pushes the value (+1 on the value stack; undefined for an
 * unknown handle). evl_duk_unref releases the handle (unknown or released handles are
 * ignored). Loop thread only.
 */
EVL_API uint32_t evl_duk_ref(duk_context *ctx, duk_idx_t idx);
EVL_API void evl_duk_push_ref(duk_context *ctx, uint32_t ref);
EVL_API void evl_duk_unref(duk_context *ctx, uint32_t ref);

/*
 * Calls into JS from a loop callback with Node's error policy: value stack
 * [... fn this arg1..argN] -> [... result]. An exception goes to 'uncaughtException'
 * listeners or ends the run (see evl_duk_terminated), and undefined is left as the result.
 * Applies the execution limit. Returns 0, EVL_EEXCEPTION (the call threw), EVL_ECLOSED (the
 * run is over: fn was not called) or EVL_ENOENT (not installed: fn was not called).
 * Loop thread only.
 */
EVL_API int evl_duk_call_method(duk_context *ctx, duk_idx_t nargs);

/* ---- Running a program as Node does (what the evljs command line, cli/, is made of) ----
 * A host that runs a whole program rather than embedding scripts calls, in order:
 * evl_duk_install_require, evl_duk_run_main (or evl_duk_run_eval), then runs the loop and
 * emits 'beforeExit' each time it runs dry (evl_duk_emit), and ends with evl_duk_exit.
 * cli/run.c is the reference sequence.
 */

/*
 * Installs require() and the CommonJS module loader (files are read relative to the
 * requiring module; node:-prefixed core modules). Opt-in: evl_duk_install does not call it,
 * so an embedded heap reads no files unless the host asks. Value stack: unchanged. Loop
 * thread only. Errors: EVL_ENOENT (not installed), EVL_ENOMEM.
 */
EVL_API int evl_duk_install_require(duk_context *ctx);

/*
 * Runs the file at path as the CommonJS main module (require.main), or code as a global
 * program named name ("[eval]", "[stdin]"), as one guarded entry into JS: the execution
 * limit applies and an exception (a missing file, a syntax error) takes the uncaught-error
 * policy. path, code and name are borrowed for the call. Value stack: unchanged. Loop thread
 * only. Returns 0, EVL_EEXCEPTION (the program threw: the policy has handled it),
 * EVL_ECLOSED (the run is over). Errors: EVL_EINVAL (NULL, or require() not installed),
 * EVL_ENOENT (not installed).
 */
EVL_API int evl_duk_run_main(duk_context *ctx, const char *path);
EVL_API int evl_duk_run_eval(duk_context *ctx, const char *code, const char *name);

/*
 * Emits a process event with the nargs values on top of the value stack as its arguments:
 * [... arg1..argN] -> [...]. Listeners run as one guarded entry (an exception takes the
 * uncaught-error policy and skips the remaining listeners). Loop thread only. Returns the
 * number of listeners called, EVL_EEXCEPTION (a listener threw) or EVL_ECLOSED (the run is
 * over: none was called). Errors: EVL_ENOENT (not installed: the arguments are popped).
 */
EVL_API int evl_duk_emit(duk_context *ctx, const char *event, duk_idx_t nargs);

/* process.exitCode as an exit status (0..255; 0 when unset or not a number), or EVL_ENOENT.
 * Loop thread only. */
EVL_API int evl_duk_exit_code(duk_context *ctx);

/*
 * Node's normal end of a process: runs the 'exit' listeners once (process._exiting is true
 * first; a listener that throws takes the uncaught-error policy) and terminates the run
 * with process.exitCode (see evl_duk_terminated). Does nothing on a run that is already
 * over. *status (may be NULL) gets the run's exit status. Loop thread only, outside JS
 * callbacks. Errors: EVL_ENOENT, EVL_ERECURSE.
 */
EVL_API int evl_duk_exit(duk_context *ctx, int *status);

/* ---- Promise interop (src/duktape/promise.c) ----------------------------------------------
 * The JS Promise of an installed heap is the C evl_promise: a JS Promise object is a wrapper
 * owning one reference to its struct evl_promise, and reactions added from JS or from C run
 * on the same microtask queue. Settlement values seen by JS are JS values made by
 * evl_duk_value_new (NULL is undefined); an evl_error reason (e.g. from the worker pool)
 * reaches JS as an Error (TypeError for EVL_ETYPE, AggregateError for EVL_EAGGREGATE, else
 * Error with `code` set to the EVL_E* name); other C values reach JS as Duktape pointers.
 * The heap must be destroyed (or uninstalled) before its loop is freed.
 */

/*
 * Pushes the JS Promise for p (+1 on the value stack; p is borrowed, the JS object takes its
 * own reference). While that object lives, pushing p again pushes the same object.
 * Loop thread only. Errors: EVL_EINVAL (NULL, or p of another loop), EVL_ENOENT (not
 * installed), EVL_ENOMEM (nothing pushed).
 */
EVL_API int evl_duk_push_promise(duk_context *ctx, struct evl_promise *p);

/* The C promise behind the JS Promise at idx (borrowed: retain it to keep it), or NULL if
 * the value is not one of this heap's promises. Value stack unchanged. Loop thread only. */
EVL_API struct evl_promise *evl_duk_get_promise(duk_context *ctx, duk_idx_t idx);

/*
 * Makes a C settlement value from the JS value at idx (value stack unchanged): *value and
 * *dtor are then handed to a settle function (evl_promise_resolve, evl_result_resolve, ...),
 * which takes ownership; if the settle call fails, call dtor(loop, value) yourself. undefined
 * gives NULL. Loop thread only. Errors: EVL_EINVAL, EVL_ENOENT, EVL_ENOMEM.
 */
EVL_API int evl_duk_value_new(duk_context *ctx, duk_idx_t idx, void **value, evl_dtor_cb *dtor);

/* Pushes the JS value of a settlement value (+1): see the section comment for the mapping.
 * Loop thread only. Errors: EVL_EINVAL, EVL_ENOENT (nothing pushed). */
EVL_API int evl_duk_push_value(duk_context *ctx, void *value);

/* The loop ctx is bound to (borrowed), or NULL if ctx is not installed. Loop thread only. */
EVL_API struct evl_loop *evl_duk_loop(duk_context *ctx);

/* ---- Promises settled from C, from any thread ----------------------------------------------
 * A native function returns a Promise and settles it later from C, on any thread:
 *
 *     static int push_count(duk_context *ctx, void *value)
 *     {
 *         duk_push_uint(ctx, (duk_uint_t)(uintptr_t)value);
 *         return 0;
 *     }
 *     static void *count_thread(void *arg)             // any thread
 *     {
 *         struct evl_duk_resolver *r = arg;
 *         uintptr_t n = count_something();
 *         evl_duk_resolver_resolve(r, push_count, (void *)n, NULL);
 *         evl_duk_resolver_release(r);
 *         return NULL;
 *     }
 *     static duk_ret_t js_count(duk_context *ctx)     // countSomething() -> Promise<number>
 *     {
 *         struct evl_duk_resolver *r = NULL;
 *         if (evl_duk_push_new_promise(ctx, &r) != 0)
 *             return DUK_RET_ERROR;
 *         pthread_t t;
 *         pthread_create(&t, NULL, count_thread, r);  // (error handling elided)
 *         pthread_detach(t);
 *         return 1;                                    // the Promise
 *     }
 */
struct evl_duk_resolver;

/* Pushes the JS value made from a C settlement value (+1) on the loop thread. Returns 0, or
 * a negative code with nothing pushed (the promise is then rejected with an Error). It may
 * throw: the promise is rejected with what it threw. */
typedef int (*evl_duk_push_cb)(duk_context *ctx, void *value);

/*
 * Pushes a new pending Promise (+1 on the value stack) and returns in *out the handle (+1,
 * released with evl_duk_resolver_release from any thread) that settles it. Loop thread only.
 * Errors: EVL_EINVAL, EVL_ENOENT (not installed), EVL_ENOMEM (nothing pushed).
 */
EVL_API int evl_duk_push_new_promise(duk_context *ctx, struct evl_duk_resolver **out);

/*
 * Settle from any thread, once: on the loop thread push(ctx, value) makes the JS value
 * (push NULL: the standard mapping of the section above: NULL is undefined, an evl_error an
 * Error), then dtor(loop, value) runs (dtor may be NULL). If the heap was uninstalled or
 * destroyed meanwhile, or the loop closes first, only dtor runs. Returns 0 (the
 * value belongs to evl now), EVL_EALREADY (already settled), or EVL_ECLOSED / EVL_ENOMEM
 * (refused: the value stays the caller's, the handle is still unused). Thread-safe.
 */
EVL_API int evl_duk_resolver_resolve(struct evl_duk_resolver *r, evl_duk_push_cb push, void *value,
                                     evl_dtor_cb dtor);
EVL_API int evl_duk_resolver_reject(struct evl_duk_resolver *r, evl_duk_push_cb push, void *value,
                                    evl_dtor_cb dtor);

/* Drops the handle (thread-safe). A promise whose handle is released unsettled stays
 * pending, like a JS promise whose resolving functions were dropped. */
EVL_API void evl_duk_resolver_release(struct evl_duk_resolver *r);

#ifdef __cplusplus
}
#endif

#endif
