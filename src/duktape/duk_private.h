/*
 * Private to the runtime half of the adapter (install, registry, timers, process, console,
 * exec, module, runtime): the layout of struct evl_duk and helpers between those files.
 * promise.c needs only internal.h. Loop thread only, like everything in the adapter.
 */
#ifndef EVL_DUK_PRIVATE_H
#define EVL_DUK_PRIVATE_H

#include "duktape/engine/duk_engine.h"
#include "duktape/internal.h"

struct evl_duk_task;
struct evl_duk_timer;
struct evl_duk_heap_state;

struct evl_duk {
    duk_context *ctx;
    struct evl_loop *loop;
    unsigned flags;

    /* Registry: handles are indexes into a stash array; freed handles are reused. */
    void *registry; /* heap pointer of the stash array (kept reachable by the stash) */
    void *timeout_proto, *immediate_proto;
    uint32_t next_ref;
    uint32_t *free_refs;
    uint32_t nfree, cap_free;
    uint8_t *live; /* bit per handle: held now (catches double release) */
    uint32_t cap_live;
    uint32_t live_refs;
    uint32_t internals_ref; /* the object returned by the JS bootstrap */

    /* Timers: open-addressing map from loop id to record; spare records for reuse; the
     * interned hidden keys of Timeout/Immediate objects (kept reachable by the stash). */
    struct evl_duk_timer **timers;
    uint32_t timers_cap, timers_len, timers_used;
    struct evl_duk_timer *timer_spare;
    uint32_t timer_nspare;
    void *key_cb, *key_id, *key_delay, *key_args;
    void *firing; /* the Timeout/Immediate whose callback runs now (its _destroyed is false) */
    /* nextTick and queueMicrotask jobs not run yet (orphaned on uninstall). */
    struct evl_duk_task *tasks;

    /* Execution state. */
    int depth;     /* nesting of guarded entries into JS */
    int unwinding; /* process.exit() or a timeout is unwinding the JS stack */
    int timed_out; /* the current entry exceeded the CPU budget */
    int terminated;
    int exit_status;
    int exiting;          /* 'exit' listeners are running or have run */
    int before_exit_more; /* evljs: 'beforeExit' listeners left ref'd work behind */
    uint64_t exec_limit_ns;
    uint64_t deadline_ns;
    struct evl_duk_heap_state *hs; /* NULL for heaps not made by evl_duk_heap_new */

    uint64_t time_origin_ns;
};

/* registry.c */
int evl__duk_registry_install(struct evl_duk *d);
void evl__duk_registry_drop(struct evl_duk *d);    /* forget the stash array (heap alive) */
void evl__duk_registry_release(struct evl_duk *d); /* free C memory */

/* Pushes internals[name] (+1) and returns 1 if it is a function; else pushes nothing, 0. */
int evl__duk_push_internal(struct evl_duk *d, const char *name);

/* exec.c */
int evl__duk_exec_install(struct evl_duk *d);
void evl__duk_exec_attach(struct evl_duk *d);
void evl__duk_exec_detach(struct evl_duk *d);
void evl__duk_exec_enter(struct evl_duk *d);
void evl__duk_exec_leave(struct evl_duk *d);
int evl__duk_exec_tripped(struct evl_duk *d);
uint64_t evl__duk_now_ns(void);
/* Returns the heap state if ctx was made by evl_duk_heap_new (heap.c). */
struct evl_duk_heap_state *evl__duk_heap_state(duk_context *ctx);
void evl__duk_heap_state_bind(struct evl_duk_heap_state *hs, struct evl_duk *d);
struct evl_duk *evl__duk_heap_state_binding(void *udata);

/* timers.c */
void evl__duk_timers_release(struct evl_duk *d);
duk_ret_t evl__duk_next_tick_native(duk_context *ctx);

/* process.c */
int evl__duk_listener_count(struct evl_duk *d, const char *event);
/* Runs 'exit' listeners once (process._exiting = true first), then terminates with
 * process.exitCode. Value stack unchanged. */
void evl__duk_exit(struct evl_duk *d);
/* Reads process.exitCode as an integer (0 when unset or not a number). */
int evl__duk_exit_code(struct evl_duk *d);
/* As evl__duk_exit_code with the value to use when process.exitCode is unset. */
int evl__duk_exit_code_or(struct evl_duk *d, int unset);
/* Pushes the bootstrap function that build-time bytecode describes (+1; the bytecode is
 * borrowed for the call only: loading copies it into the heap). Throws on bad bytecode. */
void evl__duk_push_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len);
/* Loads a bootstrap function from its build-time bytecode (src/duktape/gen/js_bytecode.c: the
 * function a js/NAME.js script evaluates to) and calls it with the nargs values on top:
 * [... args] -> [...]. The bytecode is borrowed and must outlive the call. Throws on error. */
void evl__duk_run_bootstrap(duk_context *ctx, const unsigned char *bytecode, size_t len,
                            duk_idx_t nargs);
/* Pushes internals.native, the object of natives handed to the bootstraps (+1). */
void evl__duk_push_natives(struct evl_duk *d);
void evl__duk_flush_stdout(void);
int evl__duk_perf_install(struct evl_duk *d);

/* module.c: require() (installed by the evljs runtime, not by evl_duk_install). */
int evl__duk_module_install(struct evl_duk *d);
/* Reads a whole file into *out (+1, evl_free, NUL-terminated). Returns 0 or -errno. */
int evl__duk_read_file(const char *path, char **out, size_t *len_out);

#endif
