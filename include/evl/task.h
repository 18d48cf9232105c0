/*
 * Work items: thread-safe submission, and the nextTick and microtask queues that are drained
 * at the checkpoint after every callback (nextTick first, then microtasks, repeating until
 * both are empty).
 */
#ifndef EVL_TASK_H
#define EVL_TASK_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A unit of work run on the loop thread. */
typedef void (*evl_task_cb)(struct evl_loop *loop, void *arg);

/*
 * Queues fn(loop, arg) to run on the loop thread, FIFO per producer. Thread-safe. From the
 * loop thread it skips the lock and the wake-up. Accepted while the loop is awake, running,
 * sleeping or terminating; every submit that returned 0 runs exactly once (or, after
 * evl_loop_close, has its discard callback run). A refused submit never calls fn and the
 * argument stays the caller's.
 * Errors: EVL_EINVAL (NULL loop or fn), EVL_ECLOSED, EVL_ENOMEM.
 */
EVL_API int evl_loop_submit(struct evl_loop *loop, evl_task_cb fn, void *arg);

/* As evl_loop_submit, with discard(loop, arg) called instead of fn if the task is dropped by
 * evl_loop_close. discard may be NULL. Thread-safe. */
EVL_API int evl_loop_submit_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard,
                               void *arg);

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
