/*
 * Duktape heaps that allocate through the evl allocator, with an optional byte cap so a
 * runaway script fails with a RangeError instead of exhausting the process.
 */
#include "evl_duktape.h"

#include <string.h>

/* Per-heap allocation state: Duktape hands this back to every allocation function. */
struct heap_state {
    uint64_t max_bytes;
    uint64_t live_bytes;
};

/* Blocks carry their size so the cap can be enforced on realloc and free. */
struct duk_block {
    _Alignas(max_align_t) size_t size;
};

static void *duk_alloc_cb(void *udata, duk_size_t size)
{
    struct heap_state *hs = udata;
    if (hs->max_bytes && hs->live_bytes + size > hs->max_bytes) {
        return NULL;
    }
    struct duk_block *b = evl_malloc(sizeof(*b) + size);
    if (!b) {
        return NULL;
    }
    b->size = size;
    hs->live_bytes += size;
    return b + 1;
}

static void duk_free_cb(void *udata, void *ptr)
{
    struct heap_state *hs = udata;
    if (!ptr) {
        return;
    }
    struct duk_block *b = (struct duk_block *)ptr - 1;
    hs->live_bytes -= b->size;
    evl_free(b);
}

static void *duk_realloc_cb(void *udata, void *ptr, duk_size_t size)
{
    struct heap_state *hs = udata;
    if (!ptr) {
        return duk_alloc_cb(udata, size);
    }
    struct duk_block *old = (struct duk_block *)ptr - 1;
    size_t old_size = old->size;
    if (hs->max_bytes && size > old_size && hs->live_bytes + (size - old_size) > hs->max_bytes) {
        return NULL;
    }
    struct duk_block *b = evl_realloc(old, sizeof(*b) + size);
    if (!b) {
        return NULL;
    }
    b->size = size;
    hs->live_bytes = hs->live_bytes - old_size + size;
    return b + 1;
}

void evl_duk_heap_options_init(struct evl_duk_heap_options *options)
{
    memset(options, 0, sizeof(*options));
    options->size = sizeof(*options);
}

int evl_duk_heap_new(duk_context **out, const struct evl_duk_heap_options *options)
{
    if (!out || (options && options->size != sizeof(*options))) {
        return EVL_EINVAL;
    }
    struct heap_state *hs = evl_calloc(1, sizeof(*hs));
    if (!hs) {
        return EVL_ENOMEM;
    }
    hs->max_bytes = options ? options->max_heap_bytes : 0;
    duk_context *ctx = duk_create_heap(duk_alloc_cb, duk_realloc_cb, duk_free_cb, hs, NULL);
    if (!ctx) {
        evl_free(hs);
        return EVL_ENOMEM;
    }
    *out = ctx;
    return 0;
}

void evl_duk_heap_free(duk_context *ctx)
{
    if (!ctx) {
        return;
    }
    duk_memory_functions funcs;
    duk_get_memory_functions(ctx, &funcs);
    duk_destroy_heap(ctx);
    evl_free(funcs.udata);
}

/*
 * Called by Duktape's interrupt counter (DUK_USE_EXEC_TIMEOUT_CHECK, enabled in our
 * generated duk_config.h). The execution-limit machinery of the adapter decides; until a
 * heap has a limit it never interrupts.
 */
int evl__duk_exec_timeout_check(void *udata)
{
    (void)udata;
    return 0;
}
