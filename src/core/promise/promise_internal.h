/*
 * The promise module's inline paths over struct evl_loop's layout: queueing a promise job and
 * finding the loop's promise state, on the hot path of every link. A floor above promise.h
 * (it includes loop_state.h); the promise files and pool/ include it.
 */
#ifndef EVL_CORE_PROMISE_PROMISE_INTERNAL_H
#define EVL_CORE_PROMISE_PROMISE_INTERNAL_H

#include "core/loop_state.h"
#include "core/promise/promise.h"

/* evl_queue_microtask without the argument and thread checks (callers are on the loop). */
static inline int evl__queue_job(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    if (evl__loop_admission_closed(loop)) {
        return EVL_ECLOSED;
    }
    return evl__checkpoint_queue(loop, &loop->cp, fn, arg);
}

/* The state of loop, created on first use (NULL on allocation failure). */
static inline struct evl__pstate *evl__pstate_get(struct evl_loop *loop)
{
    struct evl__pstate *ps = loop->promise_state;
    return ps ? ps : evl__pstate_create(loop);
}

/* The checks of a public entry point that takes a loop: the loop's state in *ps_out, or
 * EVL_EINVAL, EVL_EPERM (another thread), EVL_ECLOSED, EVL_ENOMEM. */
static inline int evl__pstate_check(struct evl_loop *loop, struct evl__pstate **ps_out)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    struct evl__pstate *ps = evl__pstate_get(loop);
    if (!ps) {
        return evl__loop_admission_closed(loop) ? EVL_ECLOSED : EVL_ENOMEM;
    }
    *ps_out = ps;
    return 0;
}

#endif
