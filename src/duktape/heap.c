/*
 * Duktape heaps that allocate through the evl allocator, with an optional byte cap so a
 * runaway script fails with a RangeError instead of exhausting the process.
 */
#include "duktape/heap.h"

#include "duktape/engine/duk_engine.h"

#include "duktape/pool.h"

#include <pthread.h>
#include <string.h>

/*
 * Per-heap allocation state: Duktape hands this back to every allocation function and to the
 * execution-timeout check. Heaps made here are linked in a process-wide list so the check can
 * tell our state apart from an embedder's own heap_udata (which it must never dereference).
 */
/*
 * Small blocks are recycled per heap: a script that churns objects (a Timeout per
 * setTimeout, a promise per then) frees and allocates the same few sizes over and over, and
 * a pool (pool.h) per 16-byte size class serves them in a few instructions instead of a trip
 * through the evl allocator and malloc. Such blocks are allocated at their class's full size
 * so any block in a class fits any request of that class. The pools are bounded and are
 * drained when the heap is destroyed; pooled blocks do not count against the byte cap.
 */
#define CLASS_GRAIN ((size_t)16)
#define CLASS_COUNT ((size_t)16) /* payloads up to 256 bytes */
#define CLASS_DEPTH 64           /* blocks kept per class */

struct evl_duk_heap_state {
    struct evl_duk_heap_head head; /* first: heap.h reads the binding through it */
    uint64_t max_bytes;
    uint64_t live_bytes;
    struct evl_duk_heap_state *next;
    struct evl__duk_pool spare[CLASS_COUNT];
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
            d = p->head.duk;
            break;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
    return d;
}

void evl__duk_heap_state_bind(struct evl_duk_heap_state *hs, struct evl_duk *d)
{
    pthread_mutex_lock(&heaps_lock);
    hs->head.duk = d;
    pthread_mutex_unlock(&heaps_lock);
}

/* Blocks carry their size so the cap can be enforced on realloc and free. */
struct duk_block {
    _Alignas(max_align_t) size_t size;
};

/* The size class of a payload size (sizes 1..256), or CLASS_COUNT when it is not small. */
static inline size_t size_class(size_t size)
{
    return size && size <= CLASS_GRAIN * CLASS_COUNT ? (size - 1) / CLASS_GRAIN : CLASS_COUNT;
}

/* The payload capacity to allocate for size: small sizes get their class's full size. */
static inline size_t capacity(size_t size)
{
    size_t c = size_class(size);
    return c < CLASS_COUNT ? (c + 1) * CLASS_GRAIN : size;
}

static void *duk_alloc_cb(void *udata, duk_size_t size)
{
    struct evl_duk_heap_state *hs = udata;
    if (hs->max_bytes && hs->live_bytes + size > hs->max_bytes) {
        return NULL;
    }
    struct duk_block *b;
    size_t c = size_class(size);
    b = c < CLASS_COUNT ? evl__duk_pool_get(&hs->spare[c]) : NULL;
    if (!b) {
        b = evl_malloc(sizeof(*b) + capacity(size));
        if (!b) {
            return NULL;
        }
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
    size_t c = size_class(b->size);
    if (c < CLASS_COUNT && evl__duk_pool_put(&hs->spare[c], b)) {
        return;
    }
    evl_free(b);
}

static void free_spares(struct evl_duk_heap_state *hs)
{
    for (size_t c = 0; c < CLASS_COUNT; c++) {
        evl__duk_pool_drain(&hs->spare[c], evl_free);
    }
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
    size_t c = size_class(size);
    if (c < CLASS_COUNT && c == size_class(old_size)) {
        /* The block already has its class's full size. */
        old->size = size;
        hs->live_bytes = hs->live_bytes - old_size + size;
        return ptr;
    }
    struct duk_block *b = evl_realloc(old, sizeof(*b) + capacity(size));
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
    for (size_t c = 0; c < CLASS_COUNT; c++) {
        evl__duk_pool_init(&hs->spare[c], CLASS_DEPTH);
    }
    duk_context *ctx = duk_create_heap(duk_alloc_cb, duk_realloc_cb, duk_free_cb, hs, NULL);
    if (!ctx) {
        free_spares(hs);
        evl_free(hs);
        return EVL_ENOMEM;
    }
    heaps_add(hs);
    *out = ctx;
    return 0;
}

struct evl_duk_heap_state *evl__duk_heap_state(duk_context *ctx)
{
    return evl__duk_heap_udata_of(ctx, duk_alloc_cb);
}

int evl_duk_heap_free(duk_context *ctx)
{
    if (!ctx) {
        return EVL_EINVAL;
    }
    /* Uninstall first so the binding's C side is freed while the heap is fully alive; from
     * inside a JS callback the heap is still running code, and destroying it would pull the
     * stack out from under that code. */
    if (evl_duk_uninstall(ctx) == EVL_ERECURSE) {
        return EVL_ERECURSE;
    }
    duk_memory_functions funcs;
    duk_get_memory_functions(ctx, &funcs);
    duk_destroy_heap(ctx);
    if (funcs.alloc_func == duk_alloc_cb) {
        heaps_remove(funcs.udata);
        free_spares(funcs.udata);
        evl_free(funcs.udata);
    }
    return 0;
}
