/*
 * The binding of one Duktape heap to one loop (struct evl_duk) and the services of the
 * adapter's bottom floor that every feature uses:
 *   - evl__duk_get: the ONE lookup from duk_context * to the binding. Natives and public
 *     functions call it once, at the boundary; everything below takes struct evl_duk *.
 *   - evl__duk_now_ns: the adapter's monotonic clock.
 *   - evl__duk_put_native: the native-function definer.
 * The struct is the composition of the features' state, grouped by the file that owns each
 * group; a feature's .c touches its own group and reaches the others through their headers.
 * Loop thread only, like everything in the adapter.
 */
#ifndef EVL_DUK_BINDING_H
#define EVL_DUK_BINDING_H

#include "container/hash.h"
#include "duktape/pool.h"
#include "evl_duktape.h"

struct evl_duk_task;
struct evl_duk_heap_state;
struct evl_duk_sigwatch;
struct evl_duk_settle_token;
struct evl_duk_promises;

/* Fields are grouped by size where that keeps their topics together: no padding holes. */
struct evl_duk {
    duk_context *ctx;
    struct evl_loop *loop;

    /* Registry (registry.c): handles are indexes into a stash array; freed handles are
     * reused. */
    void *registry; /* heap pointer of the stash array (kept reachable by the stash) */
    uint32_t *free_refs;
    uint8_t *live; /* bit per handle: held now (catches double release) */
    unsigned flags;
    uint32_t next_ref;
    uint32_t nfree, cap_free;
    uint32_t cap_live;
    uint32_t live_refs;
    uint32_t internals_ref; /* the object returned by the JS bootstrap (bootstrap.c) */

    /* Timers (timers.c): the loop id -> record map; records recycled through a pool; the
     * prototypes and interned hidden keys of Timeout/Immediate objects (kept reachable by
     * the stash). */
    struct evl__hash timers;
    struct evl__duk_pool timer_pool;
    void *timeout_proto, *immediate_proto;
    void *key_cb, *key_id, *key_delay, *key_args;
    void *firing; /* the Timeout/Immediate whose callback runs now (its _destroyed is false) */
    /* nextTick and queueMicrotask jobs not run yet (orphaned on uninstall); their records
     * are recycled through a pool. */
    struct evl_duk_task *tasks;
    struct evl__duk_pool task_pool;
    /* Cancels the timers when the run terminates: registered by timers.c, so that the
     * uncaught-error policy below it does not depend on it. */
    void (*cancel_timers)(struct evl_duk *d);

    /* Promises (promise.c). */
    struct evl_duk_promises *promises;

    /* Execution state (exec.c, uncaught.c). */
    int depth;     /* nesting of guarded entries into JS */
    int unwinding; /* process.exit() or a timeout is unwinding the JS stack */
    int timed_out; /* the current entry exceeded the CPU budget */
    int terminated;
    int exit_status;
    int exiting; /* 'exit' listeners are running or have run */
    /* process.exit() too close to the call-stack limit for its listeners: the stack unwinds
     * first and the outermost entry runs finish_exit (process.c) once it is back in C. */
    int exit_deferred;
    void (*finish_exit)(struct evl_duk *d);
    /* What an uncaught error with no listener does (evl_duk_set_error_policy). */
    enum evl_duk_error_policy policy;
    uint64_t exec_limit_ns;
    uint64_t deadline_ns;
    struct evl_duk_heap_state *hs; /* NULL for heaps not made by evl_duk_heap_new */
    uint64_t time_origin_ns;
    evl_duk_report_cb report;
    void *report_ud;

    /* Signal watchers of process.on('SIG...') (signals.c). */
    struct evl_duk_sigwatch *sigwatches;

    /* Promises settled from C (settle.c): their reactions' tokens, cut loose at release. */
    struct evl_duk_settle_token *settle_tokens;

    /* Sandbox limits (limits.c). */
    uint64_t run_deadline_ns; /* monotonic end of the run's wall-time budget; 0: none */
    uint64_t runtime_timer;   /* the loop timer that ends the run at that deadline */
    uint32_t max_timers;      /* live JS timers and immediates; 0: none */
    int runtime_exceeded;     /* the wall-time budget ran out (sticky: the run ends) */
    int runtime_tripped;      /* ... and the current entry is being interrupted for it */
    int owns_limit_hook;      /* the loop's limit hook is ours (max microtasks) */
};

/*
 * The binding of ctx, or NULL if evl_duk_install was not called on it. For a heap made by
 * evl_duk_heap_new this reads the heap's udata (no property lookup); for an embedder's own
 * heap it reads the heap stash. Call it once per entry from JS or from the public API and
 * pass the struct on.
 */
struct evl_duk *evl__duk_get(duk_context *ctx);

/* Records d in the heap stash (and the heap state) so evl__duk_get finds it; NULL forgets
 * it. May throw (out of memory) when recording. Value stack unchanged. */
void evl__duk_binding_record(duk_context *ctx, struct evl_duk *d);

/* The adapter's monotonic clock in nanoseconds (CLOCK_MONOTONIC). Thread-safe. */
uint64_t evl__duk_now_ns(void);

/* Defines name = a native function taking nargs arguments (DUK_VARARGS: any) on the object
 * on top of the value stack. May throw (out of memory). Value stack unchanged. */
void evl__duk_put_native(duk_context *ctx, const char *name, duk_c_function fn, duk_idx_t nargs);

#endif
