/*
 * The nextTick and microtask queues and the checkpoint that drains them. Both queues are
 * loop-thread-only rings of 16-byte slots that grow by doubling and never shrink, so a
 * microtask costs a store and an index bump.
 *
 * Checkpoint (Node >= 11 and HTML order): drain nextTick fully, then microtasks fully
 * (microtasks queued by microtasks run in the same pass), repeat until both are empty, then
 * run the end-of-checkpoint hooks; if a hook queued more work, drain again.
 */
#include "core/loop_internal.h"

#include <string.h>

int evl_loop_checkpoint(struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    evl__loop_checkpoint(loop);
    return 0;
}

static int queue_check(struct evl_loop *loop, evl_task_cb fn)
{
    if (!loop || !fn) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    if (loop->admission_closed) {
        return EVL_ECLOSED;
    }
    return 0;
}

int evl_queue_microtask(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    return evl__ring_push(loop, &loop->micro, fn, arg);
}

int evl_next_tick(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    return evl__ring_push(loop, &loop->ticks, fn, arg);
}

/* Runs one entry of a ring; returns 0 when the ring is empty. */
static inline int ring_run_one(struct evl_loop *loop, struct evl__ring *r)
{
    if (r->head == r->tail) {
        return 0;
    }
    /* Copy out before calling: the callback may push and grow the ring. */
    struct evl__task t = r->buf[r->head & r->mask];
    r->head++;
    evl__loop_call(loop, t.fn, t.arg);
    return 1;
}

static void run_hooks(struct evl_loop *loop)
{
    for (uint32_t i = 0; i < loop->nhooks; i++) {
        struct evl__hook h = loop->hooks[i];
        if (h.cb) {
            loop->cb_depth++;
            h.cb(loop, h.ud);
            loop->cb_depth--;
        }
    }
    if (loop->user_hook.cb) {
        struct evl__hook h = loop->user_hook;
        loop->cb_depth++;
        h.cb(loop, h.ud);
        loop->cb_depth--;
    }
}

void evl__loop_checkpoint(struct evl_loop *loop)
{
    if (loop->in_checkpoint) {
        return; /* the outer checkpoint drains whatever this one would */
    }
    loop->in_checkpoint = 1;
    uint64_t budget = loop->max_micro;
    uint64_t ran = 0;
    for (;;) {
        while (loop->ticks.head != loop->ticks.tail || loop->micro.head != loop->micro.tail) {
            while (ring_run_one(loop, &loop->ticks)) {
                if (++ran >= budget) {
                    goto capped;
                }
            }
            while (ring_run_one(loop, &loop->micro)) {
                if (++ran >= budget) {
                    goto capped;
                }
            }
        }
        if (loop->nhooks == 0 && !loop->user_hook.cb) {
            break;
        }
        run_hooks(loop);
        if (!evl__loop_micro_pending(loop)) {
            break;
        }
    }
    loop->in_checkpoint = 0;
    return;
capped:
    /* A runaway chain: yield to the loop instead of hanging; the rest runs at the next
     * checkpoint (the loop does not block while these queues are non-empty). */
    /* The details at debug level: the warning below is the rate-limited one. */
    evl_log(loop, EVL_LOG_DEBUG, "loop",
            "checkpoint cap of %u callbacks reached; %u nextTick and %u microtasks deferred",
            (unsigned)loop->max_micro, (unsigned)evl__ring_count(&loop->ticks),
            (unsigned)evl__ring_count(&loop->micro));
    loop->in_checkpoint = 0;
    /* Counted, and the limit hook told (an embedder may end a runaway script here). */
    (void)evl__loop_limit_hit(loop, EVL__LIMIT_MICROTASKS);
}

int evl__loop_add_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    if (!loop || !cb) {
        return EVL_EINVAL;
    }
    if (loop->nhooks >= EVL__MAX_CHECKPOINT_HOOKS) {
        return EVL_ELIMIT;
    }
    loop->hooks[loop->nhooks].cb = cb;
    loop->hooks[loop->nhooks].ud = ud;
    loop->nhooks++;
    return 0;
}

void evl__loop_remove_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    for (uint32_t i = 0; i < loop->nhooks; i++) {
        if (loop->hooks[i].cb == cb && loop->hooks[i].ud == ud) {
            memmove(&loop->hooks[i], &loop->hooks[i + 1],
                    (loop->nhooks - i - 1) * sizeof(loop->hooks[0]));
            loop->nhooks--;
            return;
        }
    }
}

void evl_loop_set_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    if (!loop) {
        return;
    }
    loop->user_hook.cb = cb;
    loop->user_hook.ud = ud;
}
