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

/* Fields are grouped by size where that keeps their topics together: no padding holes. */
struct evl_duk {
    duk_context *ctx;
    struct evl_loop *loop;

    /* Registry: handles are indexes into a stash array; freed handles are reused. */
    void *registry; /* heap pointer of the stash array (kept reachable by the stash) */
    void *timeout_proto, *immediate_proto;
    uint32_t *free_refs;
    uint8_t *live; /* bit per handle: held now (catches double release) */
    unsigned flags;
    uint32_t next_ref;
    uint32_t nfree, cap_free;
    uint32_t cap_live;
    uint32_t live_refs;
    uint32_t internals_ref; /* the object returned by the JS bootstrap */

    /* Timers: open-addressing map from loop id to record; spare records for reuse; the
     * interned hidden keys of Timeout/Immediate objects (kept reachable by the stash). */
    uint32_t timer_nspare;
    uint32_t timers_cap, timers_len, timers_used;
    struct evl_duk_timer **timers;
    struct evl_duk_timer *timer_spare;
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

/* registry.c */
int evl__duk_registry_install(struct evl_duk *d);
void evl__duk_registry_drop(struct evl_duk *d);    /* forget the stash array (heap alive) */
void evl__duk_registry_release(struct evl_duk *d); /* free C memory */

/* Pushes internals[name] (+1) and returns 1 if it is a function; else pushes nothing, 0. */
int evl__duk_push_internal(struct evl_duk *d, const char *name);

/* exec.c */
int evl__duk_exec_check(void *udata);
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

/* limits.c */
/* Throws a RangeError with .code (does not return). */
void evl__duk_throw_limit(duk_context *ctx, const char *code, const char *msg);
/* The code and message of the execution-timeout RangeError (message NULL: keep Duktape's). */
const char *evl__duk_timeout_code(struct evl_duk *d);
const char *evl__duk_timeout_message(struct evl_duk *d);
void evl__duk_limits_release(struct evl_duk *d);

/* timers.c */
void evl__duk_timers_release(struct evl_duk *d);
duk_ret_t evl__duk_next_tick_native(duk_context *ctx);

/* process.c */
int evl__duk_listener_count(struct evl_duk *d, const char *event);
/* Runs 'exit' listeners once (process._exiting = true first), then terminates with
 * process.exitCode. Value stack unchanged. */
void evl__duk_exit(struct evl_duk *d);
/* As evl__duk_exit after process.exitCode = status (a limit that ends the run). */
void evl__duk_exit_with(struct evl_duk *d, int status);
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

/* signals.c: adds the signal natives to the natives object on top of the stack; stops the
 * binding's watchers; whether the watcher with this id is still one of them. */
void evl__duk_signal_natives(duk_context *ctx);
void evl__duk_signals_release(struct evl_duk *d);
int evl__duk_sigwatch_live(struct evl_duk *d, uint64_t id);

/* settle.c: detaches the pending C settlements from a binding that is going away. */
void evl__duk_settle_release(struct evl_duk *d);

/* web.c: the web platform APIs (EVL_DUK_WEB). */
int evl__duk_web_install(struct evl_duk *d);

/* module.c: require() (installed by the evljs runtime, not by evl_duk_install). */
int evl__duk_module_install(struct evl_duk *d);
/* Reads a whole file into *out (+1, evl_free, NUL-terminated). Returns 0, EVL_ENOMEM or a
 * system code (errno.h), naming the failed call ("open", "read") in *syscall. */
int evl__duk_read_file(const char *path, char **out, size_t *len_out, const char **syscall);

#endif
