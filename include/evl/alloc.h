/*
 * The replaceable allocator. Every byte libevl and the Duktape adapter allocate goes through
 * these functions, so an embedder can plug in its own allocator and tests can count live
 * blocks and make the Nth allocation fail.
 */
#ifndef EVL_ALLOC_H
#define EVL_ALLOC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An allocator: three functions and an opaque user pointer. malloc_fn and realloc_fn return
 * NULL on failure; free_fn accepts NULL. realloc_fn(ud, NULL, n) must behave as malloc_fn.
 * Blocks must be aligned for any object type (max_align_t).
 */
struct evl_allocator {
    void *(*malloc_fn)(void *ud, size_t size);
    void *(*realloc_fn)(void *ud, void *ptr, size_t size);
    void (*free_fn)(void *ud, void *ptr);
    void *ud;
};

/*
 * Replaces the process-wide allocator (NULL restores the C library's). The allocator is
 * copied. Call it before creating any loop: blocks allocated by the previous allocator are
 * still freed by the allocator in force when they are released, so switching while blocks
 * are live is refused with EVL_EBUSY when tracking is on. Not thread-safe: call at start-up.
 * Returns 0 or EVL_EBUSY.
 */
EVL_API int evl_set_allocator(const struct evl_allocator *allocator);

/* Copies the allocator in force into *out (nothing for NULL). Thread-safe. */
EVL_API void evl_get_allocator(struct evl_allocator *out);

/* Allocation through the allocator in force. Thread-safe if the allocator is. evl_calloc
 * checks n * size for overflow; evl_free(NULL) is a no-op. Returned blocks are +1 (the
 * caller frees them with evl_free). */
EVL_API void *evl_malloc(size_t size);
EVL_API void *evl_calloc(size_t n, size_t size);
EVL_API void *evl_realloc(void *ptr, size_t size);
EVL_API void evl_free(void *ptr);

/* Counters kept by the tracking allocator. */
struct evl_alloc_stats {
    uint64_t live_blocks;   /* blocks allocated and not yet freed */
    uint64_t live_bytes;    /* bytes in those blocks */
    uint64_t peak_bytes;    /* highest live_bytes seen */
    uint64_t total_allocs;  /* successful malloc/realloc(NULL) calls */
    uint64_t failed_allocs; /* allocations refused (injected or real) */
};

/*
 * Tracking mode (for tests and leak hunting): wraps the allocator in force so that every
 * block is counted, and allocations can be made to fail on purpose. Enable and disable at
 * start-up only (not thread-safe); the counters themselves are updated atomically, so
 * allocation from any thread is safe while tracking.
 */
EVL_API void evl_alloc_tracking_enable(void);
EVL_API void evl_alloc_tracking_disable(void);
EVL_API int evl_alloc_tracking_enabled(void);

/* A snapshot of the tracking counters (all zero when tracking is off; nothing for NULL).
 * Thread-safe. */
EVL_API void evl_alloc_stats(struct evl_alloc_stats *out);

/*
 * Failure injection, tracking mode only: the nth allocation from now (1 = the next one)
 * returns NULL; with every_after nonzero, all later ones fail too. n = 0 disarms.
 * Thread-safe.
 */
EVL_API void evl_alloc_fail_at(uint64_t n, int every_after);

/*
 * A byte cap, tracking mode only: any allocation that would take live_bytes above
 * max_bytes fails. 0 removes the cap. Thread-safe.
 */
EVL_API void evl_alloc_set_limit(uint64_t max_bytes);

#ifdef __cplusplus
}
#endif

#endif
