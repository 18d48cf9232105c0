/*
 * The stash registry: JS values kept alive by integer handle. Values live in an array in
 * the heap stash, so they stay JS values (identity, prototype, undefined vs null) and the
 * garbage collector sees them; C code holds only the handle. Freed handles are reused so
 * the array stays dense.
 */
#include "duktape/duk_private.h"

#define STASH_REGISTRY DUK_HIDDEN_SYMBOL("evl_registry")

int evl__duk_registry_install(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_heap_stash(ctx);
    duk_push_array(ctx);
    duk_put_prop_string(ctx, -2, STASH_REGISTRY);
    duk_pop(ctx);
    d->next_ref = 1;
    return 0;
}

void evl__duk_registry_drop(struct evl_duk *d)
{
    duk_context *ctx = d->ctx;
    duk_push_heap_stash(ctx);
    duk_del_prop_string(ctx, -1, STASH_REGISTRY);
    duk_pop(ctx);
}

void evl__duk_registry_release(struct evl_duk *d)
{
    evl_free(d->free_refs);
    d->free_refs = NULL;
    d->nfree = d->cap_free = 0;
    d->live_refs = 0;
}

uint32_t evl__duk_ref(duk_context *ctx, duk_idx_t idx)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d) {
        return 0;
    }
    uint32_t ref;
    if (d->nfree > 0) {
        ref = d->free_refs[--d->nfree];
    } else {
        if (d->next_ref == UINT32_MAX) {
            return 0;
        }
        ref = d->next_ref++;
    }
    idx = duk_normalize_index(ctx, idx);
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, STASH_REGISTRY);
    duk_dup(ctx, idx);
    duk_put_prop_index(ctx, -2, ref);
    duk_pop_2(ctx);
    d->live_refs++;
    return ref;
}

void evl__duk_push_ref(duk_context *ctx, uint32_t ref)
{
    duk_push_heap_stash(ctx);
    if (!duk_get_prop_string(ctx, -1, STASH_REGISTRY) || ref == 0) {
        duk_pop_2(ctx);
        duk_push_undefined(ctx);
        return;
    }
    duk_get_prop_index(ctx, -1, ref);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

void evl__duk_unref(duk_context *ctx, uint32_t ref)
{
    struct evl_duk *d = evl__duk_get(ctx);
    if (!d || ref == 0 || ref >= d->next_ref) {
        return;
    }
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, STASH_REGISTRY);
    if (!duk_has_prop_index(ctx, -1, ref)) {
        duk_pop_2(ctx);
        return;
    }
    /* Duktape keeps a deleted element as an unused slot of the array part, so the array
     * stays dense and a second unref of the same handle is detected by has_prop above. */
    duk_del_prop_index(ctx, -1, ref);
    duk_pop_2(ctx);
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
    evl__duk_push_ref(ctx, d->internals_ref);
    duk_get_prop_string(ctx, -1, name);
    duk_remove(ctx, -2);
    if (!duk_is_function(ctx, -1)) {
        duk_pop(ctx);
        return 0;
    }
    return 1;
}
