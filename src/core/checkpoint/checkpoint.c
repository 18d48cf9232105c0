/*
 * The nextTick and microtask queues and the checkpoint that drains them (checkpoint.h).
 * Both queues are rings (base/ring.h), so a microtask costs a store and an index bump.
 */
#include "core/checkpoint/checkpoint.h"
#include "core/context/context_internal.h"
#include "core/loop_state.h"

#include <stdint.h>
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

/* Queues on ring r wrapped with the current context (a context is current). Out of line:
 * the common queueing never comes here. */
__attribute__((noinline)) static int queue_wrapped(struct evl_loop *loop, struct evl__ring *r,
                                                   evl_task_cb fn, void *arg)
{
    int rc = evl__context_wrap_micro(loop, &fn, &arg);
    if (rc != 0) {
        return rc;
    }
    rc = evl__ring_push(loop, r, fn, arg);
    if (rc != 0 && fn == evl__context_task_run) {
        evl__context_unwrap(loop, arg);
    }
    return rc;
}

int evl_queue_microtask(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    if (__builtin_expect(evl__loop_context_active(loop), 0)) {
        return queue_wrapped(loop, &loop->cp.micro, fn, arg);
    }
    return evl__ring_push(loop, &loop->cp.micro, fn, arg);
}

int evl_next_tick(struct evl_loop *loop, evl_task_cb fn, void *arg)
{
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    if (__builtin_expect(evl__loop_context_active(loop), 0)) {
        return queue_wrapped(loop, &loop->cp.ticks, fn, arg);
    }
    return evl__ring_push(loop, &loop->cp.ticks, fn, arg);
}

/* The marks run as the job: each takes the job's own entry, right behind it, off its ring
 * and calls it, so the common path of the checkpoint has no test for marks, and the job is
 * counted once (metrics, the checkpoint cap). */
void evl__checkpoint_tick_mark(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl__task t = evl__ring_shift(&loop->cp.ticks);
    loop->cp.marked_ticks--;
    t.fn(loop, t.arg);
}

void evl__checkpoint_micro_mark(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl__task t = evl__ring_shift(&loop->cp.micro);
    loop->cp.marked_micro--;
    t.fn(loop, t.arg);
}

/* Queues (fn, arg) on the nextTick (tick) or microtask queue with its discard callback: a
 * mark entry carrying discard, then the job, both or neither. With a context frame current
 * the context wrapper carries discard instead. */
static int queue_ex(struct evl_loop *loop, int tick, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    if (discard == NULL) {
        return tick ? evl_next_tick(loop, fn, arg) : evl_queue_microtask(loop, fn, arg);
    }
    int rc = queue_check(loop, fn);
    if (rc != 0) {
        return rc;
    }
    struct evl__ring *r = tick ? &loop->cp.ticks : &loop->cp.micro;
    struct evl_context_frame *f = NULL;
    if (evl__loop_context_active(loop)) {
        rc = evl__context_capture_slow(loop, &f);
        if (rc != 0) {
            return rc;
        }
    }
    if (f != NULL) {
        struct evl__context_work *w = evl__context_wrap(loop, fn, discard, arg, f);
        if (w == NULL) {
            return EVL_ENOMEM;
        }
        rc = evl__ring_push(loop, r, evl__context_task_run, w);
        if (rc != 0) {
            evl__context_unwrap(loop, w);
        }
        return rc;
    }
    while (r->mask + 1 - evl__ring_count(r) < 2 || r->buf == NULL) {
        rc = evl__ring_grow(loop, r);
        if (rc != 0) {
            return rc;
        }
    }
    evl_task_cb mark = tick ? evl__checkpoint_tick_mark : evl__checkpoint_micro_mark;
    (void)evl__ring_push(loop, r, mark, (void *)(uintptr_t)discard);
    (void)evl__ring_push(loop, r, fn, arg);
    if (tick) {
        loop->cp.marked_ticks++;
    } else {
        loop->cp.marked_micro++;
    }
    return 0;
}

int evl_queue_microtask_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    return queue_ex(loop, 0, fn, discard, arg);
}

int evl_next_tick_ex(struct evl_loop *loop, evl_task_cb fn, evl_task_cb discard, void *arg)
{
    return queue_ex(loop, 1, fn, discard, arg);
}

/* Runs one entry of a ring; returns 0 when the ring is empty. The switch is read per entry
 * (a test of memory, as cheap as one of a register): a microtask may make a context current
 * for those after it, which must then run in theirs or the empty one. */
static inline int ring_run_one(struct evl_loop *loop, struct evl__ring *r, unsigned kind)
{
    if (!evl__ring_nonempty(r)) {
        return 0;
    }
    /* Copy out before calling: the callback may push and grow the ring. */
    struct evl__task t = evl__ring_shift(r);
    if (__builtin_expect(evl__loop_obs_slow(loop), 0)) {
        evl__loop_call_kind(loop, kind, t.fn, t.arg);
    } else {
        evl__loop_call(loop, t.fn, t.arg);
    }
    return 1;
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
    for (;;) {
        while (evl__checkpoint_pending(&loop->cp)) {
            while (ring_run_one(loop, &loop->cp.ticks, EVL_METRICS_NEXTTICK)) {
                if (++ran >= budget) {
                    goto capped;
                }
            }
            while (ring_run_one(loop, &loop->cp.micro, EVL_METRICS_MICROTASK)) {
                if (++ran >= budget) {
                    goto capped;
                }
            }
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
            (unsigned)evl__loop_max_micro(loop), (unsigned)evl__checkpoint_tick_count(&loop->cp),
            (unsigned)evl__checkpoint_micro_count(&loop->cp));
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

/* Drops a ring's entries without running them. A job with its own discard callback (a mark,
 * or a context wrapper that carries one) has it called; wrappers are freed; the other
 * entries go to owner_discard when it is given. A discard callback may queue nothing (the
 * admission is closed) but runs as a callback of the loop. */
static void drop_ring(struct evl_loop *loop, struct evl__ring *r, uint32_t *marks,
                      void (*owner_discard)(struct evl_loop *, evl_task_cb, void *))
{
    while (evl__ring_nonempty(r)) {
        struct evl__task t = evl__ring_shift(r);
        if (t.fn == evl__checkpoint_tick_mark || t.fn == evl__checkpoint_micro_mark) {
            evl_task_cb discard = (evl_task_cb)(uintptr_t)t.arg;
            t = evl__ring_shift(r);
            --*marks;
            evl__loop_call(loop, discard, t.arg);
        } else if (t.fn == evl__context_task_run) {
            evl__loop_call(loop, evl__context_task_discard, t.arg);
        } else if (owner_discard) {
            owner_discard(loop, t.fn, t.arg);
        }
    }
    evl__ring_clear(r);
}

void evl__checkpoint_drop(struct evl_loop *loop, int discard)
{
    drop_ring(loop, &loop->cp.ticks, &loop->cp.marked_ticks, NULL);
    drop_ring(loop, &loop->cp.micro, &loop->cp.marked_micro, discard ? loop->cp.discard : NULL);
}

void evl__checkpoint_deinit(struct evl_loop *loop)
{
    evl__ring_free(loop, &loop->cp.ticks);
    evl__ring_free(loop, &loop->cp.micro);
}
