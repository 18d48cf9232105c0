/*
 * The allocator seam. The default forwards to the C library; tracking mode prefixes every
 * block with a small header holding its size so live bytes can be counted and realloc can
 * adjust them. This is the only file allowed to call malloc, realloc and free.
 */
#include "evl/alloc.h"
#include "evl/errno.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *ud, size_t size)
{
    (void)ud;
    return malloc(size ? size : 1);
}

static void *libc_realloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    return realloc(ptr, size ? size : 1);
}

static void libc_free(void *ud, void *ptr)
{
    (void)ud;
    free(ptr);
}

static const struct evl_allocator libc_allocator = {libc_malloc, libc_realloc, libc_free, NULL};

/* The allocator in force, and (in tracking mode) the one tracking wraps. */
static struct evl_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};
static struct evl_allocator inner = {libc_malloc, libc_realloc, libc_free, NULL};
static int tracking;

static _Atomic uint64_t live_blocks;
static _Atomic uint64_t live_bytes;
static _Atomic uint64_t peak_bytes;
static _Atomic uint64_t total_allocs;
static _Atomic uint64_t failed_allocs;
static _Atomic uint64_t fail_countdown; /* 0: disarmed */
static _Atomic int fail_sticky;
static _Atomic int fail_tripped;
static _Atomic uint64_t byte_limit;

/* The header keeps the user block aligned for any type. */
struct block_header {
    alignas(max_align_t) size_t size;
};
#define HDR sizeof(struct block_header)

/* Decides whether this allocation is one the test asked to fail. */
static int inject_failure(size_t grow)
{
    if (atomic_load_explicit(&fail_tripped, memory_order_relaxed) &&
        atomic_load_explicit(&fail_sticky, memory_order_relaxed)) {
        return 1;
    }
    uint64_t n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1)) {
            if (n == 1) {
                atomic_store(&fail_tripped, 1);
                return 1;
            }
            break;
        }
    }
    uint64_t limit = atomic_load_explicit(&byte_limit, memory_order_relaxed);
    return limit && atomic_load_explicit(&live_bytes, memory_order_relaxed) + grow > limit;
}

static void account(int64_t dblocks, int64_t dbytes)
{
    atomic_fetch_add_explicit(&live_blocks, (uint64_t)dblocks, memory_order_relaxed);
    uint64_t now = atomic_fetch_add_explicit(&live_bytes, (uint64_t)dbytes, memory_order_relaxed) +
                   (uint64_t)dbytes;
    uint64_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {
    }
}

static void *tracking_realloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    struct block_header *old = ptr ? (struct block_header *)((char *)ptr - HDR) : NULL;
    size_t old_size = old ? old->size : 0;
    if (size > SIZE_MAX - HDR) {
        atomic_fetch_add(&failed_allocs, 1);
        return NULL;
    }
    if (inject_failure(size > old_size ? size - old_size : 0)) {
        atomic_fetch_add(&failed_allocs, 1);
        return NULL;
    }
    struct block_header *h = inner.realloc_fn(inner.ud, old, size + HDR);
    if (!h) {
        atomic_fetch_add(&failed_allocs, 1);
        return NULL;
    }
    h->size = size;
    account(old ? 0 : 1, (int64_t)size - (int64_t)old_size);
    if (!old) {
        atomic_fetch_add_explicit(&total_allocs, 1, memory_order_relaxed);
    }
    return (char *)h + HDR;
}

static void *tracking_malloc(void *ud, size_t size)
{
    return tracking_realloc(ud, NULL, size);
}

static void tracking_free(void *ud, void *ptr)
{
    (void)ud;
    if (!ptr) {
        return;
    }
    struct block_header *h = (struct block_header *)((char *)ptr - HDR);
    account(-1, -(int64_t)h->size);
    inner.free_fn(inner.ud, h);
}

int evl_set_allocator(const struct evl_allocator *allocator)
{
    const struct evl_allocator *a = allocator ? allocator : &libc_allocator;
    if (tracking) {
        if (atomic_load(&live_blocks) != 0) {
            return EVL_EBUSY;
        }
        inner = *a;
        return 0;
    }
    current = *a;
    return 0;
}

void evl_get_allocator(struct evl_allocator *out)
{
    if (out) {
        *out = current;
    }
}

void *evl_malloc(size_t size)
{
    return current.malloc_fn(current.ud, size);
}

void *evl_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = current.malloc_fn(current.ud, n * size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *evl_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(current.ud, ptr, size);
}

void evl_free(void *ptr)
{
    if (ptr) {
        current.free_fn(current.ud, ptr);
    }
}

void evl_alloc_tracking_enable(void)
{
    if (tracking) {
        return;
    }
    inner = current;
    current = (struct evl_allocator){tracking_malloc, tracking_realloc, tracking_free, NULL};
    tracking = 1;
}

void evl_alloc_tracking_disable(void)
{
    if (!tracking) {
        return;
    }
    current = inner;
    tracking = 0;
}

int evl_alloc_tracking_enabled(void)
{
    return tracking;
}

void evl_alloc_stats(struct evl_alloc_stats *out)
{
    if (!out) {
        return;
    }
    out->live_blocks = atomic_load(&live_blocks);
    out->live_bytes = atomic_load(&live_bytes);
    out->peak_bytes = atomic_load(&peak_bytes);
    out->total_allocs = atomic_load(&total_allocs);
    out->failed_allocs = atomic_load(&failed_allocs);
}

void evl_alloc_fail_at(uint64_t n, int every_after)
{
    atomic_store(&fail_tripped, 0);
    atomic_store(&fail_sticky, every_after != 0);
    atomic_store(&fail_countdown, n);
}

void evl_alloc_set_limit(uint64_t max_bytes)
{
    atomic_store(&byte_limit, max_bytes);
}
