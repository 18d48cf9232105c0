/*
 * Execution limits (exec.c): the per-entry CPU budget and the interrupt that unwinds the JS
 * stack after process.exit() or a limit. Guarded entries into JS bracket the call with
 * evl__duk_exec_enter/leave. Middle floor, below the uncaught-error policy. Loop thread only.
 */
#ifndef EVL_DUK_EXEC_H
#define EVL_DUK_EXEC_H

#include "duktape/binding.h"

/* The message of the wall-time budget's RangeError (limits.c raises it too). */
#define EVL__DUK_RUNTIME_MSG "the run exceeded its wall-time budget (max runtime)"

/* The interrupt check Duktape runs every few hundred thousand instructions. */
int evl__duk_exec_check(void *udata);
/* Installs the error-creation hook that names our limits. May throw (out of memory). */
int evl__duk_exec_install(struct evl_duk *d);
/* Registers the interrupt check for d's heap (when it is one of evl_duk_heap_new). */
void evl__duk_exec_attach(struct evl_duk *d);
void evl__duk_exec_enter(struct evl_duk *d);
void evl__duk_exec_leave(struct evl_duk *d);
/* Nonzero while process.exit() or a limit is unwinding the JS stack. */
int evl__duk_exec_tripped(struct evl_duk *d);

/* The code and message of the execution-timeout RangeError (message NULL: keep Duktape's). */
const char *evl__duk_timeout_code(struct evl_duk *d);
const char *evl__duk_timeout_message(struct evl_duk *d);

#endif
