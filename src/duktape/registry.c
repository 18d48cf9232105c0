/*
 * The stash registry: JS values kept alive by integer handle. Values live in an array in
 * the heap stash, so they stay JS values (identity, prototype, undefined vs null) and the
 * garbage collector sees them; C code holds only the handle. Freed handles are reused so
 * the array stays dense.
 */
#include "duktape/registry.h"

#include "duktape/engine/duk_engine.h"

#include <string.h>

#define STASH_REGISTRY DUK_HIDDEN_SYMBOL("evl_registry")

int evl__duk_registry_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_heap_stash(ctx);
    duk_push_array(ctx);
    /* The stash keeps the array reachable, so its heap pointer stays valid until
     * evl__duk_registry_drop: pushing it is much cheaper than a stash lookup. */
    d->registry = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, -2, STASH_REGISTRY);
    duk_pop(ctx);
    d->next_ref = 1;
    return 0;
}

void evl__duk_registry_drop(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_heap_stash(ctx);
    duk_del_prop_literal(ctx, -1, STASH_REGISTRY);
    duk_pop(ctx);
    d->registry = NULL;
}

void evl__duk_registry_release(struct evl_duk *d)
{
    evl_free(d->free_refs);
    d->free_refs = NULL;
    evl_free(d->live);
    d->live = NULL;
    d->cap_live = 0;
    d->nfree = d->cap_free = 0;
    d->live_refs = 0;
}

uint32_t evl__duk_ref(struct evl_duk *d, duk_idx_t idx)
{
    duk_context *ctx = d->ctx;
    uint32_t ref;
    if (d->nfree > 0) {
        ref = d->free_refs[--d->nfree];
    } else {
        if (d->next_ref == UINT32_MAX) {
            return 0;
        }
        if (d->next_ref / 8 >= d->cap_live) {
            uint32_t cap = d->cap_live ? d->cap_live * 2 : 64;
            uint8_t *n = evl_realloc(d->live, cap);
            if (!n) {
                return 0;
            }
            memset(n + d->cap_live, 0, cap - d->cap_live);
            d->live = n;
            d->cap_live = cap;
        }
        ref = d->next_ref++;
    }
    d->live[ref / 8] |= (uint8_t)(1u << (ref % 8));
    /* A reused handle is a slot inside the array: written in place. A new one appends. */
    if (!evl__duk_array_put(ctx, d->registry, ref, idx)) {
        idx = duk_normalize_index(ctx, idx);
        duk_push_heapptr(ctx, d->registry);
        duk_dup(ctx, idx);
        duk_put_prop_index(ctx, -2, ref);
        duk_pop(ctx);
    }
    d->live_refs++;
    return ref;
}

void evl__duk_push_ref(struct evl_duk *d, uint32_t ref)
{
    duk_context *ctx = d->ctx;
    if (!d->registry || ref == 0) {
        duk_push_undefined(ctx);
        return;
    }
    if (evl__duk_array_push_slot(ctx, d->registry, ref)) {
        return;
    }
    duk_push_heapptr(ctx, d->registry);
    duk_get_prop_index(ctx, -1, ref);
    duk_swap_top(ctx, -2);
    duk_pop(ctx);
}

void evl__duk_unref(struct evl_duk *d, uint32_t ref)
{
    duk_context *ctx = d->ctx;
    if (!d->registry || ref == 0 || ref >= d->next_ref) {
        return;
    }
    if (!(d->live[ref / 8] & (1u << (ref % 8)))) {
        return; /* already released */
    }
    d->live[ref / 8] &= (uint8_t) ~(1u << (ref % 8));
    /* Overwriting with undefined (not deleting) keeps the array part dense and fast. */
    if (!evl__duk_array_clear(ctx, d->registry, ref)) {
        duk_push_heapptr(ctx, d->registry);
        duk_push_undefined(ctx);
        duk_put_prop_index(ctx, -2, ref);
        duk_pop(ctx);
    }
    if (d->nfree == d->cap_free) {
        uint32_t cap = d->cap_free ? d->cap_free * 2 : 64;
        uint32_t *n = evl_realloc(d->free_refs, cap * sizeof(*n));
        if (!n) {
            /* The handle is simply never reused. */
            d->live_refs--;
            return;
        }
        d->free_refs = n;
        d->cap_free = cap;
    }
    d->free_refs[d->nfree++] = ref;
    d->live_refs--;
}

int evl__duk_push_internal(struct evl_duk *d, const char *name)
{
    duk_context *ctx = d->ctx;
    if (!d->internals_ref) {
        return 0;
    }
    evl__duk_push_ref(d, d->internals_ref);
    duk_get_prop_string(ctx, -1, name);
    duk_remove(ctx, -2);
    if (!duk_is_function(ctx, -1)) {
        duk_pop(ctx);
        return 0;
    }
    return 1;
}

uint32_t evl_duk_ref(duk_context *ctx, duk_idx_t idx)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    return d ? evl__duk_ref(d, idx) : 0;
}

void evl_duk_push_ref(duk_context *ctx, uint32_t ref)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        duk_push_undefined(ctx);
        return;
    }
    evl__duk_push_ref(d, ref);
}

void evl_duk_unref(duk_context *ctx, uint32_t ref)
{
    struct evl_duk *d = ctx ? evl__duk_get(ctx) : NULL;
    if (d) {
        evl__duk_unref(d, ref);
    }
}
