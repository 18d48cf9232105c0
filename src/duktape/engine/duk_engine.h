/*
 * Fast paths into the Duktape engine's internals (duk_engine.c). Each does what a sequence
 * of public API calls would, without the generic lookups; where a function returns 0 the
 * caller must fall back to the public API. Loop thread only. Keys are heap pointers of
 * interned strings (duk_get_heapptr of a pushed string) that the caller keeps reachable.
 */
#ifndef EVL_DUK_ENGINE_H
#define EVL_DUK_ENGINE_H

#include "duktape.h"

/* The adapter's execution-limit check: nonzero interrupts the running script. */
typedef int (*evl__duk_exec_check_cb)(void *udata);

/* Registers the check that evl__duk_exec_timeout_check (which duk_config.h makes the
 * engine call at every interrupt) forwards to; NULL means never interrupt. Thread-safe. */
void evl__duk_engine_set_exec_check(evl__duk_exec_check_cb fn);

/* The udata of ctx's heap if the heap allocates with alloc, else NULL: what
 * duk_get_memory_functions gives, without copying all four fields. */
void *evl__duk_heap_udata_of(duk_context *ctx, duk_alloc_function alloc);

/*
 * Memory-pressure hooks for a heap's allocator (heap.c). heap is the engine's heap of a
 * context (evl__duk_heap_of). Duktape retries a failed allocation after each of up to ten
 * full collections; an allocator that has seen collections stop freeing memory holds them
 * off so the failure reaches the script at once instead of after ten walks of a full heap.
 */
void *evl__duk_heap_of(duk_context *ctx);

/* What the engine is doing while it calls the allocator: bits of the values below. */
#define EVL__DUK_HEAP_COLLECTING 1u /* inside a mark-and-sweep */
#define EVL__DUK_HEAP_CREATING_ERROR                         \
    2u /* building an error to throw: a failure now makes it \
        * throw its fixed DoubleError instead */
unsigned evl__duk_heap_activity(void *heap);

/* hold 1: later mark-and-sweep requests are skipped (each is a no-op) until the matching
 * hold 0. Holds nest. Returns 0 on success, -1 when a collection is running (no hold
 * taken). The hold must be released before the heap is destroyed. */
int evl__duk_heap_gc_hold(void *heap, int hold);

/* Pushes the engine's fixed DoubleError instance (+1): what Duktape throws when making an
 * error fails (out of memory while building it), so the adapter can give it a RangeError's
 * shape once, while there is memory. */
void evl__duk_push_double_error(duk_context *ctx);

/* Makes ctx's thread run the interrupt check before its next bytecode instruction, so that
 * process.exit() unwinds at once instead of at the next periodic interrupt. */
void evl__duk_force_interrupt(duk_context *ctx);

/* How many more nested calls ctx's thread can make before Duktape's call-stack or C
 * recursion limit throws a RangeError (the smaller of the two). */
int evl__duk_call_headroom(duk_context *ctx);

/*
 * Pushes a new extensible plain object (+1) with prototype proto (a heap pointer the caller
 * keeps reachable) and n own properties keys[i] = the value at stack index first + i, all
 * writable, enumerable and configurable, as n duk_put_prop calls on a new object would make
 * them. n must be small (no hash part is built) and the keys distinct. Returns the object's
 * heap pointer. Throws on allocation failure, like any push.
 */
void *evl__duk_push_record(duk_context *ctx, void *proto, void *const *keys, duk_idx_t first,
                           duk_idx_t n);

/* Pushes the own data property key of the object at idx (+1) and returns 1; pushes
 * undefined and returns 0 if there is none (no prototype walk, no getters). */
int evl__duk_get_own(duk_context *ctx, duk_idx_t idx, void *key);

/* Reads the own data property key of the object at idx into *out if it is a number
 * (returns 1); else returns 0. Value stack unchanged. */
int evl__duk_get_own_number(duk_context *ctx, duk_idx_t idx, void *key, double *out);

/* Overwrites the own data property key of the object at idx with v if it holds a number
 * now (returns 1); else returns 0 and changes nothing. Value stack unchanged. */
int evl__duk_set_own_number(duk_context *ctx, duk_idx_t idx, void *key, double v);

/*
 * Dense-array slot access for the registry: arr is an array's heap pointer, i an index below
 * its length in the array part. Put stores the value at idx (reference counts updated as an
 * ordinary put does), clear stores undefined, push_slot pushes the value (+1). Each returns
 * 0 without doing anything when the slot is not in a writable dense array part.
 */
int evl__duk_array_put(duk_context *ctx, void *arr, duk_uarridx_t i, duk_idx_t idx);
int evl__duk_array_clear(duk_context *ctx, void *arr, duk_uarridx_t i);
int evl__duk_array_push_slot(duk_context *ctx, void *arr, duk_uarridx_t i);

/*
 * The structured clone of a flat container, in one step: if the object at idx is a plain
 * object (class Object, no exotic behaviour) whose own enumerable string-keyed properties
 * are all data properties holding values that clone to themselves (undefined, null,
 * booleans, numbers, non-symbol strings) with no array-index key among them, or an array
 * whose elements are all present and such values and which has no other enumerable
 * string-keyed property, pushes the copy (+1: a new object with Object.prototype, or array
 * with Array.prototype, its properties created as CreateDataProperty does, in Object.keys
 * order) and returns 1. Otherwise pushes nothing and returns 0; no script code runs either
 * way (no getters, no proxy traps). Throws on allocation failure, like any push.
 */
int evl__duk_clone_flat(duk_context *ctx, duk_idx_t idx);

/* Pushes "[object Class]" for the value at idx (+1), as Object.prototype.toString would
 * without consulting Symbol.toStringTag: the engine's internal class ("Array" for arrays),
 * which the structured clone's classification needs (the spec looks at internal slots, never
 * at the tag). Runs no script code. */
void evl__duk_push_class_tag(duk_context *ctx, duk_idx_t idx);

/* For an array that keeps its elements in an array part, or a typed array / buffer object,
 * pushes (+1) an array of its own string keys that are not array indices, in Object.keys
 * order (enumerable ones only unless all), and returns 1: util.inspect needs those without
 * enumerating every index. For anything else (sparse arrays, proxies, other objects) pushes
 * nothing and returns 0. Runs no script code; throws on allocation failure. */
int evl__duk_push_extra_keys(duk_context *ctx, duk_idx_t idx, int all);

/* If the value at idx is a Proxy, pushes its target (+1) and returns 1; otherwise pushes
 * nothing and returns 0. Runs no trap: util.inspect shows a proxy as its target, as Node
 * does by default. */
int evl__duk_push_proxy_target(duk_context *ctx, duk_idx_t idx);

#endif
