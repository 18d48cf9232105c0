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

/*
 * Failing fast near the limit. Duktape answers a failed allocation with up to ten full
 * collections, retrying after each; near a cap (or an address-space limit) where everything
 * is live, every allocation the script makes from then on repeats that, and a large heap
 * spins for minutes before an error surfaces. The allocator sees the whole exchange: the
 * failure, the frees the collection makes, then the retry. A retry that still fails after a
 * collection freed less than a WORTH_SHARE-th of the cap (of the live bytes without a cap)
 * holds collections off (evl__duk_heap_gc_hold), and so does the INEFFECTIVE_LIMIT-th
 * successive retry that succeeded after such a meagre collection (a heap thrashing at its
 * limit). While held, an allocation over the limit fails at once and the script gets its
 * RangeError. The hold ends when the script frees a WORTH_SHARE-th of what was live, and at
 * the end of every guarded entry (evl__duk_heap_state_settle): each callback gets a fresh
 * chance.
 *
 * Building the RangeError needs memory too (a failure then makes Duktape throw its fixed
 * DoubleError instead), and so does entering the catch clause that receives it (its scope
 * object). So once an allocation has failed, a capped heap may exceed its cap: by error_room
 * while the engine creates an error, and by half of it for anything else once the error
 * exists, so that a handler can run; both end when the live bytes are back under the cap by
 * error_room, or when the entry ends. An allocation that malloc refuses while the engine
 * creates an error is retried after giving back the reserve, a block kept for that moment
 * (re-taken when the entry ends).
 */
#define WORTH_SHARE       8
#define INEFFECTIVE_LIMIT 3
#define RESERVE_BYTES     ((size_t)2 << 20)

struct evl_duk_heap_state {
    struct evl_duk_heap_head head; /* first: heap.h reads the binding through it */
    uint64_t max_bytes;
    uint64_t live_bytes;
    struct evl_duk_heap_state *next;
    void *engine;          /* the engine's heap; NULL while duk_create_heap runs */
    void *reserve;         /* evl block given back when memory runs out while making an error */
    uint64_t fail_live;    /* live bytes when the last allocation failed */
    uint64_t held_live;    /* live bytes when collections were held off */
    uint64_t error_room;   /* how far over the cap making an error may go */
    int creating;          /* duk_create_heap is running: the cap is checked after it */
    unsigned fail_pending; /* the last allocation failed: this one is the retry */
    unsigned ineffective;  /* successive meagre collections before a successful retry */
    unsigned held;         /* this state holds the engine's collections off */
    unsigned exhausted;    /* an allocation failed: an error may be made over the cap */
    unsigned grace;        /* that error was made: its handler may run over the cap */
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

static void hold_collections(struct evl_duk_heap_state *hs)
{
    if (!hs->held && hs->engine && evl__duk_heap_gc_hold(hs->engine, 1) == 0) {
        hs->held = 1;
        hs->held_live = hs->live_bytes;
    }
}

static void release_collections(struct evl_duk_heap_state *hs)
{
    if (hs->held && evl__duk_heap_gc_hold(hs->engine, 0) == 0) {
        hs->held = 0;
    }
    hs->ineffective = 0;
}

/* A collection is worth repeating if it freed this much. */
static uint64_t worth(const struct evl_duk_heap_state *hs, uint64_t live)
{
    return (hs->max_bytes ? hs->max_bytes : live) / WORTH_SHARE;
}

/*
 * Called before an allocation that grows the heap: whether it is Duktape's retry after a
 * collection (*retry) and whether that collection freed enough to be worth another one
 * (the return value). Allocations the collector itself makes (compaction) are no retries.
 */
static int observe(struct evl_duk_heap_state *hs, unsigned activity, int *retry)
{
    *retry = hs->fail_pending && !(activity & EVL__DUK_HEAP_COLLECTING);
    if (!*retry) {
        return 1;
    }
    hs->fail_pending = 0;
    return hs->fail_live > hs->live_bytes &&
           hs->fail_live - hs->live_bytes >= worth(hs, hs->fail_live);
}

/* The allocation (growing the heap by grow bytes) fits under the cap. */
static int fits(const struct evl_duk_heap_state *hs, unsigned activity, uint64_t grow)
{
    if (!hs->max_bytes || hs->creating) {
        return 1;
    }
    uint64_t limit = hs->max_bytes;
    if (activity & EVL__DUK_HEAP_CREATING_ERROR) {
        limit += hs->exhausted ? hs->error_room : 0;
    } else if (hs->grace) {
        limit += hs->error_room / 2;
    }
    return hs->live_bytes + grow <= limit;
}

static void *failed(struct evl_duk_heap_state *hs, unsigned activity, int retry, int effective)
{
    if (!(activity & EVL__DUK_HEAP_COLLECTING)) {
        if (retry && !effective) {
            hold_collections(hs);
        }
        hs->fail_pending = 1;
        hs->fail_live = hs->live_bytes;
        hs->exhausted = 1;
    }
    return NULL;
}

static void succeeded(struct evl_duk_heap_state *hs, unsigned activity, int retry, int effective)
{
    if ((activity & EVL__DUK_HEAP_CREATING_ERROR) && hs->exhausted) {
        hs->grace = 1;
    }
    if (!retry) {
        return;
    }
    if (effective) {
        hs->ineffective = 0;
    } else if (++hs->ineffective >= INEFFECTIVE_LIMIT) {
        hold_collections(hs);
    }
}

/* Out of memory while the engine makes an error: gives the reserve back to malloc. */
static int spend_reserve(struct evl_duk_heap_state *hs, unsigned activity)
{
    if (!(activity & EVL__DUK_HEAP_CREATING_ERROR) || !hs->reserve) {
        return 0;
    }
    evl_free(hs->reserve);
    hs->reserve = NULL;
    return 1;
}

static unsigned activity_of(const struct evl_duk_heap_state *hs)
{
    return hs->engine ? evl__duk_heap_activity(hs->engine) : 0u;
}

static void *duk_alloc_cb(void *udata, duk_size_t size)
{
    struct evl_duk_heap_state *hs = udata;
    unsigned activity = activity_of(hs);
    int retry;
    int effective = observe(hs, activity, &retry);
    if (!fits(hs, activity, size)) {
        return failed(hs, activity, retry, effective);
    }
    struct duk_block *b;
    size_t c = size_class(size);
    b = c < CLASS_COUNT ? evl__duk_pool_get(&hs->spare[c]) : NULL;
    if (!b) {
        b = evl_malloc(sizeof(*b) + capacity(size));
        if (!b && spend_reserve(hs, activity)) {
            b = evl_malloc(sizeof(*b) + capacity(size));
        }
        if (!b) {
            return failed(hs, activity, retry, effective);
        }
    }
    succeeded(hs, activity, retry, effective);
    b->size = size;
    hs->live_bytes += size;
    return b + 1;
}

/* The script freed a good part of what was live when collections were held off: they may
 * be worth running again. */
static void after_free(struct evl_duk_heap_state *hs)
{
    if (hs->exhausted && hs->live_bytes + hs->error_room <= hs->max_bytes) {
        hs->exhausted = 0;
        hs->grace = 0;
    }
    if (hs->held && hs->live_bytes + worth(hs, hs->held_live) <= hs->held_live) {
        release_collections(hs);
    }
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
    if (!(c < CLASS_COUNT && evl__duk_pool_put(&hs->spare[c], b))) {
        evl_free(b);
    }
    after_free(hs);
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
    if (size == 0) {
        /* Duktape takes NULL from a resize to zero as "freed" (C's realloc contract): a
         * failed shrink returning NULL here would leak the block. */
        duk_free_cb(udata, ptr);
        return NULL;
    }
    struct duk_block *old = (struct duk_block *)ptr - 1;
    size_t old_size = old->size;
    unsigned activity = activity_of(hs);
    int retry = 0;
    int effective = size > old_size ? observe(hs, activity, &retry) : 1;
    if (size > old_size && !fits(hs, activity, size - old_size)) {
        return failed(hs, activity, retry, effective);
    }
    size_t c = size_class(size);
    if (c < CLASS_COUNT && c == size_class(old_size)) {
        /* The block already has its class's full size. */
        succeeded(hs, activity, retry, effective);
        old->size = size;
        hs->live_bytes = hs->live_bytes - old_size + size;
        return ptr;
    }
    struct duk_block *b = evl_realloc(old, sizeof(*b) + capacity(size));
    if (!b && spend_reserve(hs, activity)) {
        b = evl_realloc(old, sizeof(*b) + capacity(size));
    }
    if (!b && size <= old_size) {
        /* A shrink the allocator refused keeps the block it has: the payload fits. */
        old->size = size;
        hs->live_bytes = hs->live_bytes - old_size + size;
        after_free(hs);
        return ptr;
    }
    if (!b) {
        return failed(hs, activity, retry, effective);
    }
    succeeded(hs, activity, retry, effective);
    b->size = size;
    hs->live_bytes = hs->live_bytes - old_size + size;
    if (size < old_size) {
        after_free(hs);
    }
    return b + 1;
}

uint64_t evl__duk_heap_room(duk_context *ctx)
{
    const struct evl_duk_heap_state *hs = evl__duk_heap_state(ctx);
    if (!hs || !hs->max_bytes) {
        return UINT64_MAX;
    }
    return hs->live_bytes < hs->max_bytes ? hs->max_bytes - hs->live_bytes : 0;
}

void evl__duk_heap_state_settle(struct evl_duk_heap_state *hs)
{
    if (!hs) {
        return;
    }
    release_collections(hs);
    hs->exhausted = 0;
    hs->grace = 0;
    if (!hs->reserve) {
        hs->reserve = evl_malloc(RESERVE_BYTES); /* none if there is no room: retried later */
    }
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
    hs->error_room = hs->max_bytes / 16;
    hs->error_room = hs->error_room < (64u << 10)  ? (64u << 10)
                     : hs->error_room > (1u << 20) ? (1u << 20)
                                                   : hs->error_room;
    for (size_t c = 0; c < CLASS_COUNT; c++) {
        evl__duk_pool_init(&hs->spare[c], CLASS_DEPTH);
    }
    /* Duktape treats a failure while it builds its built-ins as fatal (abort), so the cap is
     * applied once the heap exists: a cap smaller than an empty heap is refused. */
    hs->creating = 1;
    duk_context *ctx = duk_create_heap(duk_alloc_cb, duk_realloc_cb, duk_free_cb, hs, NULL);
    hs->creating = 0;
    if (!ctx) {
        free_spares(hs);
        evl_free(hs);
        return EVL_ENOMEM;
    }
    if (hs->max_bytes && hs->live_bytes > hs->max_bytes) {
        duk_destroy_heap(ctx);
        free_spares(hs);
        evl_free(hs);
        return EVL_ERANGE;
    }
    hs->engine = evl__duk_heap_of(ctx);
    hs->reserve = evl_malloc(RESERVE_BYTES); /* none if there is no room: taken later */
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
    struct evl_duk_heap_state *hs = funcs.alloc_func == duk_alloc_cb ? funcs.udata : NULL;
    if (hs) {
        /* The engine runs its finalizers and final collections during destruction. */
        release_collections(hs);
    }
    duk_destroy_heap(ctx);
    if (hs) {
        heaps_remove(hs);
        free_spares(hs);
        evl_free(hs->reserve);
        evl_free(hs);
    }
    return 0;
}
