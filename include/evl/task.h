/*
 * Work items: thread-safe submission, and the nextTick and microtask queues that are drained
 * at the checkpoint after every callback (nextTick first, then microtasks, repeating until
 * both are empty).
 */
#ifndef EVL_TASK_H
#define EVL_TASK_H

#include "common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A unit of work run on the loop thread. */
typedef void (*evl_task_cb)(struct evl_loop *loop, void *arg);

/*
 * Queues fn(loop, arg) to run on the loop thread, FIFO per producer. Thread-safe. From the
 * loop thread it skips the lock and the wake-up. From other threads it is accepted until
 * evl_loop_shutdown or evl_loop_close is called (a submit that starts after that call gets
 * EVL_ECLOSED); the loop thread's own submissions are accepted while a shutdown drains
 * (work queued by work runs). Every submit that returned 0 runs exactly once, or has its
 * discard callback run (evl_loop_close, an expired shutdown deadline). A refused submit
 * never calls fn and the argument stays the caller's.
 * With a queue bound (options.max_queued_tasks/bytes) or a rate (options.submit_rate), a
 * submit from another thread is refused with EVL_EAGAIN when the queue is full or the
 * bucket empty (see evl_loop_submit_wait, evl_loop_submit_retry_ns).
 * Errors: EVL_EINVAL (NULL loop or fn), EVL_ECLOSED, EVL_EAGAIN, EVL_ENOMEM.
 */
EVL_API int evl_loop_submit(struct evl_loop *loop, evl_task_cb fn, void *arg);

/* As evl_loop_submit, with discard(loop, arg) called instead of fn if the task is dropped by
 * evl_loop_close or an expired shutdown deadline. discard may be NULL. Thread-safe. */
EVL_API int evl_loop_submit_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                               void *arg);

/*
 * As evl_loop_submit_ex, but when the queue bound (options.max_queued_tasks/bytes) is
 * reached, waits up to timeout_ns (CLOCK_MONOTONIC, whatever the loop's clock;
 * UINT64_MAX: no limit; 0: do not wait) for the loop to free space. Waiting producers are
 * served in arrival order (the first in line is admitted before the next may try), woken
 * when the loop has run tasks, and with EVL_ECLOSED when shutdown or close begins.
 * From the loop thread, or on a loop without a bound, it never waits. A rate refusal
 * (EVL_EAGAIN) is returned at once: evl_loop_submit_retry_ns says how long to back off.
 * Thread-safe. Errors: EVL_EINVAL, EVL_ETIMEDOUT (still full at the timeout; nothing
 * queued), EVL_EAGAIN (rate limit, or timeout_ns 0 and full), EVL_ECLOSED, EVL_ENOMEM.
 */
EVL_API int evl_loop_submit_wait(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                                 void *arg, uint64_t timeout_ns);

/* Options of evl_loop_submit_opts; evl_submit_options_init fills in the defaults. */
struct evl_submit_options {
    size_t size;         /* sizeof(struct evl_submit_options) */
    evl_task_cb discard; /* as evl_loop_submit_ex (NULL: none) */
    uint64_t timeout_ns; /* as evl_loop_submit_wait (0: never wait) */
    /* The correlation id (16 bytes, include/evl/context.h) current while fn runs, and so
     * carried on to the timers, promise reactions and other work fn schedules, their log
     * records and errors. NULL: on the loop thread the current context (as every submit
     * from the loop thread); from another thread none. Copied. */
    const unsigned char *correlation_id;
};

/* Defaults: no discard, no wait, no correlation id. NULL is ignored. */
EVL_API void evl_submit_options_init(struct evl_submit_options *opts);

/*
 * evl_loop_submit with options (NULL: as evl_loop_submit); the one way to attach a
 * correlation id to work submitted from another thread, where no context of the loop is
 * current. Thread-safe. Errors: as evl_loop_submit_wait, plus EVL_EINVAL (bad opts->size)
 * and EVL_ENOMEM (the id's frame).
 */
EVL_API int evl_loop_submit_opts(struct evl_loop *loop, evl_task_cb fn, void *arg,
                                 const struct evl_submit_options *opts);

/*
 * Queues a microtask (promise-job queue, HTML/ECMAScript). Loop thread only; other threads
 * use evl_loop_submit. Errors: EVL_EINVAL, EVL_EPERM (wrong thread), EVL_ECLOSED,
 * EVL_ENOMEM.
 */
EVL_API int evl_queue_microtask(struct evl_loop *loop, evl_task_cb fn, void *arg);

/* Queues fn on the nextTick queue, drained before microtasks at every checkpoint (Node).
 * Loop thread only. Errors as evl_queue_microtask. */
EVL_API int evl_next_tick(struct evl_loop *loop, evl_task_cb fn, void *arg);

/*
 * As evl_queue_microtask and evl_next_tick, with discard(loop, arg) called instead of fn if
 * the loop drops the job without running it (evl_loop_close, evl_loop_free of a loop that
 * still holds it, an expired shutdown deadline): every job queued with 0 returned then has
 * exactly one of fn and discard called, so an argument the job owns is never lost. discard
 * runs on the loop thread while the loop terminates and can queue nothing; NULL: as the
 * calls without _ex. Costs one more queue entry per job, no allocation (with a correlation
 * context current, the context wrapper carries discard). Loop thread only.
 * Errors: as evl_queue_microtask; nothing is queued and neither callback runs.
 */
EVL_API int evl_queue_microtask_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                                   void *arg);
EVL_API int evl_next_tick_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg);

/*
 * Runs a checkpoint now: drains the nextTick and microtask queues and runs the end-of-
 * checkpoint hooks. The loop does this after each of its own callbacks; an embedder calls it
 * after entering script code from outside a loop callback (a host's main script, an
 * event listener run between evl_loop_run calls). Inside a checkpoint it returns at once:
 * the outer checkpoint drains what this one would. Loop thread only.
 * Errors: EVL_EINVAL, EVL_EPERM (wrong thread).
 */
EVL_API int evl_loop_checkpoint(struct evl_loop *loop);

#ifdef __cplusplus
}
#endif

#endif
