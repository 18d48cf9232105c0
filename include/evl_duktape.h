/*
 * evl-duktape: installs libevl into a Duktape heap (Promise, timers, queueMicrotask,
 * process, console). See docs/duktape.md.
 */
#ifndef EVL_DUKTAPE_H
#define EVL_DUKTAPE_H

#include "evl.h"
#include "duktape.h"

/* Options for evl_duk_heap_new. */
struct evl_duk_heap_options {
    size_t size;             /* sizeof(struct evl_duk_heap_options) */
    uint64_t max_heap_bytes; /* 0: no cap; otherwise allocations beyond it fail (RangeError) */
};

/* Fills *options with defaults. Thread-safe. */
void evl_duk_heap_options_init(struct evl_duk_heap_options *options);

/*
 * Creates a Duktape heap whose every allocation goes through the evl allocator (+1: destroy
 * with evl_duk_heap_free). options may be NULL. Thread-safe (the heap is then used from
 * one thread). Errors: EVL_EINVAL, EVL_ENOMEM.
 */
int evl_duk_heap_new(duk_context **out, const struct evl_duk_heap_options *options);

/* Destroys a heap made by evl_duk_heap_new. The heap's thread only. */
void evl_duk_heap_free(duk_context *ctx);

#endif
