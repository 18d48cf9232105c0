/*
 * Internals shared by the adapter's files. One struct evl_duk per Duktape heap binds it to
 * one loop; everything here is loop thread only.
 *
 * Ownership split (who implements what):
 *   registry.c   the stash registry: JS values held by integer handle (identity preserved)
 *   install.c    evl_duk_install/uninstall, struct evl_duk lifetime, guarded calls and the
 *                uncaught-exception / fatal-exit path
 *   timers.c     setTimeout & co, setImmediate, queueMicrotask, process.nextTick
 *   process.c    process object and its EventEmitter subset
 *   console.c    console
 *   exec.c       execution limits (evl__duk_exec_check)
 *   promise.c    the JS Promise built on the C evl_promise (plus AggregateError)
 *   error.c      JS errors from evl codes, in Node's shape (code, errno, syscall)
 *   web.c        the web platform APIs (EVL_DUK_WEB): preludes in js/web/ and their natives
 */
#ifndef EVL_DUK_INTERNAL_H
#define EVL_DUK_INTERNAL_H

#include "evl_duktape.h"

/* Per-heap state; stored in the heap stash under a hidden key, found by evl__duk_get. */
struct evl_duk;

/* The binding of ctx, or NULL if evl_duk_install was not called on it. */
struct evl_duk *evl__duk_get(duk_context *ctx);
duk_context *evl__duk_ctx(struct evl_duk *d);
struct evl_loop *evl__duk_loop(struct evl_duk *d);

/*
 * Registry: keeps the value at idx alive and returns a nonzero handle for it (0 on
 * allocation failure). Value stack: unchanged. evl__duk_push_ref pushes the value (+1 on the
 * value stack); evl__duk_unref releases the handle (unknown handles are ignored).
 */
uint32_t evl__duk_ref(duk_context *ctx, duk_idx_t idx);
void evl__duk_push_ref(duk_context *ctx, uint32_t ref);
void evl__duk_unref(duk_context *ctx, uint32_t ref);

/*
 * Calls a function under duk_pcall: value stack [... fn this arg1..argN] -> [... result].
 * If the call throws, the error goes through the uncaught-exception policy
 * (evl__duk_uncaught) and undefined is left as the result. Returns 0, or EVL_EEXCEPTION when
 * the call threw, or EVL_ECLOSED when the run is terminated (the function is then not called,
 * or was unwound by process.exit()/the execution limit). Use it for every entry into JS from
 * a loop callback: it also arms the per-callback execution limit.
 */
int evl__duk_call_method_guarded(struct evl_duk *d, duk_idx_t nargs);

/*
 * Node's uncaught-exception policy for the error at idx (value stack unchanged): emit
 * 'uncaughtExceptionMonitor', then 'uncaughtException' listeners if any, else run 'exit'
 * listeners (once per process), print "Uncaught <name>: <message>" with the stack to stderr
 * and end the run with process.exitCode, 1 by default (no later callback runs). A monitor or
 * handler that throws ends the run with status 7; its error is never handed back to them.
 */
void evl__duk_uncaught(struct evl_duk *d, duk_idx_t idx);

/* As evl__duk_uncaught with the origin argument passed to the listeners: "uncaughtException"
 * or "unhandledRejection" (the latter for promise.c's fatal unhandled-rejection path). */
void evl__duk_uncaught_origin(struct evl_duk *d, duk_idx_t idx, const char *origin);

/*
 * Emits a process event: value stack [... arg1..argN] -> [...]. Returns the number of
 * listeners called. Exceptions in listeners take the uncaught path.
 */
int evl__duk_emit(struct evl_duk *d, const char *event, duk_idx_t nargs);

/* Marks the run as finished with the given exit status (process.exit, fatal errors);
 * after this no JS callback runs. */
void evl__duk_terminate(struct evl_duk *d, int status);
int evl__duk_terminated(struct evl_duk *d);

/*
 * Gives the error object at idx Node's shape for code (value stack unchanged): for a system
 * code (errno.h) errno = -errno, code = the errno name ('ECONNREFUSED') and, if syscall is not
 * NULL or "", syscall; for an evl code, code = its EVL_E* name.
 */
void evl__duk_error_shape(duk_context *ctx, duk_idx_t idx, int code, const char *syscall);

/* Pushes a new error for code (+1): RangeError for EVL_ENOMEM, TypeError for EVL_ETYPE, else
 * Error; message msg, or the code's message when msg is NULL; shaped as above. */
void evl__duk_push_error_code(duk_context *ctx, int code, const char *syscall, const char *msg);

/* Copies code's message into buf (size bytes, NUL-terminated, cut to fit) without the
 * " (NAME)" that evl_strerror appends to a system message, as Node writes it after the name
 * ("ENOENT: no such file or directory, open 'x'"). Returns the full length. */
size_t evl__duk_sys_message(int code, char *buf, size_t size);

/* Installers called by evl_duk_install, one per file. Each returns 0 or an EVL_E* code. */
int evl__duk_timers_install(struct evl_duk *d);
int evl__duk_process_install(struct evl_duk *d);
int evl__duk_console_install(struct evl_duk *d);
int evl__duk_promise_install(struct evl_duk *d);

/* Releases promise.c's state (every C promise held by a JS wrapper, the loop hooks). Called
 * by binding_free before the binding goes away, with evl__duk_ctx(d) NULL when the heap is
 * being destroyed. */
void evl__duk_promise_release(struct evl_duk *d);

/* Number of JS values promise.c holds for the C core (tests: zero after a drained run). */
size_t evl__duk_promise_live_values(duk_context *ctx);

#endif
