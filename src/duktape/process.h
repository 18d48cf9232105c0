/*
 * The process object (process.c) and Node's process lifecycle (uncaught.c): guarded entries
 * into JS, the uncaught-exception policy and the events it and the end of a run emit.
 * Middle floor: every feature that calls into JS from a loop callback comes through here.
 * Loop thread only.
 */
#ifndef EVL_DUK_PROCESS_H
#define EVL_DUK_PROCESS_H

#include "duktape/registry.h"

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
int evl__duk_listener_count(struct evl_duk *d, const char *event);

/* Marks the run as finished with the given exit status (process.exit, fatal errors): the
 * timers are cancelled (d->cancel_timers) and the loop is asked to stop; after this no JS
 * callback runs. */
void evl__duk_terminate(struct evl_duk *d, int status);
int evl__duk_terminated(struct evl_duk *d);

/* Sets process._exiting = true. Value stack unchanged. */
void evl__duk_mark_exiting(struct evl_duk *d);
/* Pushes the value 'exit' listeners receive (process.exitCode as set, or 0; as_number:
 * converted to an int32, as at the natural end of a run). */
void evl__duk_push_exit_listener_code(struct evl_duk *d, int as_number);
/* Runs 'exit' listeners once (process._exiting = true first), then terminates with
 * process.exitCode. Value stack unchanged. */
void evl__duk_exit(struct evl_duk *d);
/* As evl__duk_exit after process.exitCode = status (a limit that ends the run). */
void evl__duk_exit_with(struct evl_duk *d, int status);
/* Reads process.exitCode as an integer (0 when unset or not a number). */
int evl__duk_exit_code(struct evl_duk *d);
/* As evl__duk_exit_code with the value to use when process.exitCode is unset. */
int evl__duk_exit_code_or(struct evl_duk *d, int unset);

/* process.c: the process object (after the natives of signals and timers are in place),
 * performance.now/timeOrigin; the stdout flush before C writes to stderr. */
int evl__duk_process_install(struct evl_duk *d);
int evl__duk_perf_install(struct evl_duk *d);
void evl__duk_flush_stdout(void);

#endif
