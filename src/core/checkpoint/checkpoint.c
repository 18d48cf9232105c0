/*
 * The nextTick and microtask queues and the checkpoint that drains them (checkpoint.h).
 * Both queues are rings (base/ring.h), so a microtask costs a store and an index bump.
 */
#include "core/checkpoint/checkpoint.h"
#include "core/loop_state.h"

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
    if (evl__loop_admission_closed(loop)) {
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
    return evl__ring_push(loop, &loop->cp.micro, fn, arg);
}

int evl_next_tick(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    return evl__ring_push(loop, &loop->cp.ticks, fn, arg);
}

/* Runs one entry of a ring; returns 0 when the ring is empty. rec: metrics record. */
static inline int ring_run_one(struct evl_loop *loop, struct evl__ring *r, unsigned kind, int rec)
{
    if (!evl__ring_nonempty(r)) {
        return 0;
    }
    /* Copy out before calling: the callback may push and grow the ring. */
    struct evl__task t = evl__ring_shift(r);
    if (rec) {
        evl__loop_call_kind(loop, kind, t.fn, t.arg);
    } else {
        evl__loop_call(loop, t.fn, t.arg);
    }
    return 1;
}

/* Runs nextTick callbacks, then microtasks, until both are empty; returns 1 when *ran
 * reached budget first. */
static EVL__ALWAYS_INLINE int drain(struct evl_loop *loop, uint64_t budget, uint64_t *ran, int rec)
{
    while (evl__checkpoint_pending(&loop->cp)) {
        while (ring_run_one(loop, &loop->cp.ticks, EVL_METRICS_NEXTTICK, rec)) {
            if (++*ran >= budget) {
                return 1;
            }
        }
        while (ring_run_one(loop, &loop->cp.micro, EVL_METRICS_MICROTASK, rec)) {
            if (++*ran >= budget) {
                return 1;
            }
        }
    }
    return 0;
}

static void run_hooks(struct evl_loop *loop)
{
    for (uint32_t i = 0; i < loop->cp.nhooks; i++) {
        struct evl__hook h = loop->cp.hooks[i];
        if (h.cb) {
            evl__loop_enter_callback(loop);
            h.cb(loop, h.ud);
            evl__loop_leave_callback(loop);
        }
    }
    if (loop->cp.user_hook.cb) {
        struct evl__hook h = loop->cp.user_hook;
        evl__loop_enter_callback(loop);
        h.cb(loop, h.ud);
        evl__loop_leave_callback(loop);
    }
}

void evl__loop_checkpoint(struct evl_loop *loop)
{
    if (loop->cp.running) {
        return; /* the outer checkpoint drains whatever this one would */
    }
    loop->cp.running = 1;
    uint64_t budget = evl__loop_max_micro(loop);
    uint64_t ran = 0;
    /* Metrics are read once per checkpoint, and each drain is compiled for one answer, so
     * a microtask costs no test of the switch. */
    const int rec = evl__loop_metrics_recording(loop);
    for (;;) {
        if (rec ? drain(loop, budget, &ran, 1) : drain(loop, budget, &ran, 0)) {
            goto capped;
        }
        if (loop->cp.nhooks == 0 && !loop->cp.user_hook.cb) {
            break;
        }
        run_hooks(loop);
        if (!evl__checkpoint_pending(&loop->cp)) {
            break;
        }
    }
    loop->cp.running = 0;
    return;
capped:
    /* A runaway chain: yield to the loop instead of hanging; the rest runs at the next
     * checkpoint (the loop does not block while these queues are non-empty). */
    /* The details at debug level: the warning below is the rate-limited one. */
    evl_log(loop, EVL_LOG_DEBUG, "loop",
            "checkpoint cap of %u callbacks reached; %u nextTick and %u microtasks deferred",
            (unsigned)evl__loop_max_micro(loop), (unsigned)evl__ring_count(&loop->cp.ticks),
            (unsigned)evl__ring_count(&loop->cp.micro));
    loop->cp.running = 0;
    /* Counted, and the limit hook told (an embedder may end a runaway script here). */
    (void)evl__loop_limit_hit(loop, EVL__LIMIT_MICROTASKS);
}

int evl__loop_add_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    if (!loop || !cb) {
        return EVL_EINVAL;
    }
    if (loop->cp.nhooks >= EVL__MAX_CHECKPOINT_HOOKS) {
        return EVL_ELIMIT;
    }
    loop->cp.hooks[loop->cp.nhooks].cb = cb;
    loop->cp.hooks[loop->cp.nhooks].ud = ud;
    loop->cp.nhooks++;
    return 0;
}

void evl__loop_remove_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    for (uint32_t i = 0; i < loop->cp.nhooks; i++) {
        if (loop->cp.hooks[i].cb == cb && loop->cp.hooks[i].ud == ud) {
            memmove(&loop->cp.hooks[i], &loop->cp.hooks[i + 1],
                    (loop->cp.nhooks - i - 1) * sizeof(loop->cp.hooks[0]));
            loop->cp.nhooks--;
            return;
        }
    }
}

void evl_loop_set_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud)
{
    if (!loop) {
        return;
    }
    loop->cp.user_hook.cb = cb;
    loop->cp.user_hook.ud = ud;
}

void evl__checkpoint_drop(struct evl_loop *loop, int discard)
{
    struct evl__ring *r = &loop->cp.micro;
    evl__ring_clear(&loop->cp.ticks);
    while (discard && evl__ring_nonempty(r)) {
        struct evl__task t = evl__ring_shift(r);
        if (loop->cp.discard) {
            loop->cp.discard(loop, t.fn, t.arg);
        }
    }
    evl__ring_clear(r);
}

void evl__checkpoint_deinit(struct evl_loop *loop)
{
    evl__ring_free(loop, &loop->cp.ticks);
    evl__ring_free(loop, &loop->cp.micro);
}
