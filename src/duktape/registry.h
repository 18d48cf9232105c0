/*
 * The adapter's one value registry (registry.c): JS values held from C by integer handle.
 * Every C structure that keeps a JS value alive (a timer's Timeout object, a signal
 * watcher's function, a promise settlement value, the bootstrap's internals object) holds a
 * handle here. Bottom floor. Loop thread only.
 */
#ifndef EVL_DUK_REGISTRY_H
#define EVL_DUK_REGISTRY_H

#include "duktape/binding.h"

int evl__duk_registry_install(struct evl_duk *d);
void evl__duk_registry_drop(struct evl_duk *d);    /* forget the stash array (heap alive) */
void evl__duk_registry_release(struct evl_duk *d); /* free C memory */

/*
 * Keeps the value at idx alive and returns a nonzero handle for it (0 on allocation
 * failure). Value stack: unchanged. evl__duk_push_ref pushes the value (+1 on the value
 * stack; undefined for an unknown handle); evl__duk_unref releases the handle (unknown or
 * released handles are ignored).
 */
uint32_t evl__duk_ref(struct evl_duk *d, duk_idx_t idx);
void evl__duk_push_ref(struct evl_duk *d, uint32_t ref);
void evl__duk_unref(struct evl_duk *d, uint32_t ref);

/* Pushes internals[name] (+1) and returns 1 if it is a function; else pushes nothing, 0. */
int evl__duk_push_internal(struct evl_duk *d, const char *name);

#endif
