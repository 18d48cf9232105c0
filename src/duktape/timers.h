/*
 * setTimeout & co, setImmediate, queueMicrotask, process.nextTick (timers.c). Middle floor.
 * Loop thread only.
 */
#ifndef EVL_DUK_TIMERS_H
#define EVL_DUK_TIMERS_H

#include "duktape/binding.h"

/* Defines the globals and adds native.nextTick (process.js builds process.nextTick on it):
 * runs before the process bootstrap. Registers the cancel of every timer as d->cancel_timers. */
int evl__duk_timers_install(struct evl_duk *d);
/* Cancels every pending timer and orphans queued jobs (they free themselves). */
void evl__duk_timers_release(struct evl_duk *d);

#endif
