/*
 * The binding lookup, the clock and the native-function definer: the adapter's bottom
 * floor (binding.h).
 */
#include "duktape/binding.h"

#include "duktape/heap.h"

#include <time.h>

#define STASH_BINDING DUK_HIDDEN_SYMBOL("evl_duk")

struct evl_duk *evl__duk_get(duk_context *ctx)
{
    struct evl_duk_heap_state *hs = evl__duk_heap_state(ctx);
    if (hs) {
        return evl__duk_heap_state_duk(hs);
    }
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, STASH_BINDING);
    struct evl_duk *d = duk_get_pointer(ctx, -1);
    duk_pop_2(ctx);
    return d;
}

void evl__duk_binding_record(duk_context *ctx, struct evl_duk *d)
{
    struct evl_duk_heap_state *hs = evl__duk_heap_state(ctx);
    if (hs) {
        evl__duk_heap_state_bind(hs, d);
    }
    duk_push_heap_stash(ctx);
    if (d) {
        duk_push_pointer(ctx, d);
        duk_put_prop_literal(ctx, -2, STASH_BINDING);
    } else {
        duk_del_prop_literal(ctx, -1, STASH_BINDING);
    }
    duk_pop(ctx);
}

uint64_t evl__duk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void evl__duk_put_native(duk_context *ctx, const char *name, duk_c_function fn, duk_idx_t nargs)
{
    duk_push_c_function(ctx, fn, nargs);
    duk_put_prop_string(ctx, -2, name);
}
