/*
 * Duktape heaps that allocate through the evl allocator, with an optional byte cap so a
 * runaway script fails with a RangeError instead of exhausting the process.
 */
#include "duktape/duk_private.h"

#include <pthread.h>
#include <string.h>

/*
 * Per-heap allocation state: Duktape hands this back to every allocation function and to the
 * execution-timeout check. Heaps made here are linked in a process-wide list so the check can
 * tell our state apart from an embedder's own heap_udata (which it must never dereference).
 */
struct evl_duk_heap_state {
    uint64_t max_bytes;
    uint64_t live_bytes;
    struct evl_duk *duk; /* the binding, set by evl_duk_install */
    struct evl_duk_heap_state *next;
};

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evl_duk_heap_state *heaps;

static void heaps_add(struct evl_duk_heap_state *hs)
{
    pthread_mutex_lock(&heaps_lock);
    hs->next = heaps;
    heaps = hs;
    pthread_mutex_unlock(&heaps_lock);
}

static void heaps_remove(struct evl_duk_heap_state *hs)
{
    pthread_mutex_lock(&heaps_lock);
    for (struct evl_duk_heap_state **p = &heaps; *p; p = &(*p)->next) {
        if (*p == hs) {
            *p = hs->next;
            break;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
}

struct evl_duk *evl__duk_heap_state_binding(void *udata)
{
    struct evl_duk *d = NULL;
    if (!udata) {
        return NULL;
    }
    pthread_mutex_lock(&heaps_lock);
    for (struct evl_duk_heap_state *p = heaps; p; p = p->next) {
        if (p == udata) {
            d = p->duk;
            break;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
    return d;
}

void evl__duk_heap_state_bind(struct evl_duk_heap_state *hs, struct evl_duk *d)
{
    pthread_mutex_lock(&heaps_lock);
    hs->duk = d;
    pthread_mutex_unlock(&heaps_lock);
}

/* Blocks carry their size so the cap can be enforced on realloc and free. */
struct duk_block {
    _Alignas(max_align_t) size_t size;
};

static void *duk_alloc_cb(void *udata, duk_size_t size)
{
    struct evl_duk_heap_state *hs = udata;
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
    struct evl_duk_heap_state *hs = udata;
    if (!ptr) {
        return;
    }
    struct duk_block *b = (struct duk_block *)ptr - 1;
    hs->live_bytes -= b->size;
    evl_free(b);
}

static void *duk_realloc_cb(void *udata, void *ptr, duk_size_t size)
{
    struct evl_duk_heap_state *hs = udata;
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
    struct evl_duk_heap_state *hs = evl_calloc(1, sizeof(*hs));
    if (!hs) {
        return EVL_ENOMEM;
    }
    hs->max_bytes = options ? options->max_heap_bytes : 0;
    duk_context *ctx = duk_create_heap(duk_alloc_cb, duk_realloc_cb, duk_free_cb, hs, NULL);
    if (!ctx) {
        evl_free(hs);
        return EVL_ENOMEM;
    }
    heaps_add(hs);
    *out = ctx;
    return 0;
}

struct evl_duk_heap_state *evl__duk_heap_state(duk_context *ctx)
{
    duk_memory_functions funcs;
    duk_get_memory_functions(ctx, &funcs);
    if (funcs.alloc_func != duk_alloc_cb) {
        return NULL;
    }
    return funcs.udata;
}

void evl_duk_heap_free(duk_context *ctx)
{
    if (!ctx) {
        return;
    }
    /* Uninstall first so the binding's C side is freed while the heap is fully alive. */
    (void)evl_duk_uninstall(ctx);
    duk_memory_functions funcs;
    duk_get_memory_functions(ctx, &funcs);
    duk_destroy_heap(ctx);
    if (funcs.alloc_func == duk_alloc_cb) {
        heaps_remove(funcs.udata);
        evl_free(funcs.udata);
    }
}
