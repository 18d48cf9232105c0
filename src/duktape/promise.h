/* The JS Promise built on the C evl_promise (promise.c over js/promise.js). Middle floor. */
#ifndef EVL_DUK_PROMISE_H
#define EVL_DUK_PROMISE_H

#include "duktape/registry.h"

/* Defines Promise and AggregateError and hooks the loop's thenable and rejection tracking
 * (one heap's Promise per loop: EVL_EBUSY otherwise). */
int evl__duk_promise_install(struct evl_duk *d);

/* Releases promise.c's state (every C promise held by a JS wrapper, the loop hooks). Called
 * by binding_free before the binding goes away, with d->ctx NULL when the heap is being
 * destroyed. */
void evl__duk_promise_release(struct evl_duk *d);

/* Number of JS values promise.c holds for the C core (tests: zero after a drained run). */
size_t evl__duk_promise_live_values(duk_context *ctx);

#endif
