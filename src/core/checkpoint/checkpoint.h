/*
 * The checkpoint (checkpoint.c): the nextTick and microtask queues, the end-of-checkpoint
 * hooks, and the drain that runs after every callback. Loop thread only.
 *
 * Checkpoint (Node >= 11 and HTML order): drain nextTick fully, then microtasks fully
 * (microtasks queued by microtasks run in the same pass), repeat until both are empty, then
 * run the end-of-checkpoint hooks; if a hook queued more work, drain again.
 */
#ifndef EVL_CORE_CHECKPOINT_CHECKPOINT_H
#define EVL_CORE_CHECKPOINT_CHECKPOINT_H

#include "base/ring.h"
#include "evl/loop.h"

#include <stdint.h>

struct evl_loop;

#define EVL__MAX_CHECKPOINT_HOOKS 8

struct evl__hook {
    evl_checkpoint_cb cb;
    void *ud;
};

/* The checkpoint's state: struct evl_loop's member `cp`. */
struct evl__checkpoint {
    struct evl__ring ticks; /* nextTick */
    struct evl__ring micro; /* microtasks */
    uint32_t nhooks;
    int running;                /* 1 inside evl__loop_checkpoint (nested calls return) */
    struct evl__hook user_hook; /* evl_loop_set_checkpoint_hook */
    struct evl__hook hooks[EVL__MAX_CHECKPOINT_HOOKS];
    /* Called by close for every microtask it drops, so the owner of the task's argument can
     * release it (promise jobs hold references). NULL: dropped silently. */
    void (*discard)(struct evl_loop *loop, evl_task_cb fn, void *arg);
    /* Jobs queued with a discard callback (evl_queue_microtask_ex, evl_next_tick_ex) take two
     * ring entries: (mark, discard) then (fn, arg), the mark being evl__checkpoint_tick_mark
     * or evl__checkpoint_micro_mark. The marks are counted so the queue depths stay counts
     * of jobs. */
    uint32_t marked_ticks;
    uint32_t marked_micro;
};

/* The first entry of a job with a discard callback: run, it runs the job behind it. */
void evl__checkpoint_tick_mark(struct evl_loop *loop, void *arg);
void evl__checkpoint_micro_mark(struct evl_loop *loop, void *arg);

/* Nonzero while a checkpoint is draining (a callback it runs is "inside the checkpoint"). */
static inline int evl__checkpoint_running(const struct evl__checkpoint *cp)
{
    return cp->running;
}

/* Sets the function close hands every dropped microtask to (NULL: none). */
static inline void evl__checkpoint_set_discard(struct evl__checkpoint *cp,
                                               void (*fn)(struct evl_loop *loop, evl_task_cb fn,
                                                          void *arg))
{
    cp->discard = fn;
}

/* Nonzero while nextTick callbacks or microtasks are queued. */
static inline int evl__checkpoint_pending(const struct evl__checkpoint *cp)
{
    return cp->ticks.head != cp->ticks.tail || cp->micro.head != cp->micro.tail;
}

/* Queued microtasks and nextTick callbacks (metrics' queue depths). */
static inline uint32_t evl__checkpoint_micro_count(const struct evl__checkpoint *cp)
{
    return evl__ring_count(&cp->micro) - cp->marked_micro;
}
static inline uint32_t evl__checkpoint_tick_count(const struct evl__checkpoint *cp)
{
    return evl__ring_count(&cp->ticks) - cp->marked_ticks;
}

/* Nonzero if a checkpoint now would do anything (queued work or hooks to run): the test
 * that keeps the checkpoint after a callback inline and free when there is nothing to do. */
static inline int evl__checkpoint_due(const struct evl__checkpoint *cp)
{
    return evl__checkpoint_pending(cp) || cp->nhooks != 0 || cp->user_hook.cb != NULL;
}

/* Queues a microtask without the argument, thread and admission checks of
 * evl_queue_microtask (the caller made them): the whole cost of a promise job. Returns 0 or
 * EVL_ENOMEM. */
static inline int evl__checkpoint_queue(struct evl_loop *loop, struct evl__checkpoint *cp,
                                        evl_task_cb fn, void *arg)
{
    return evl__ring_push(loop, &cp->micro, fn, arg);
}

/* Runs a checkpoint: nextTick queue, then microtasks, repeated until both are empty, then
 * the checkpoint hooks. Nested calls return at once. Call after each callback. */
void evl__loop_checkpoint(struct evl_loop *loop);

/* Internal end-of-checkpoint hooks, run (in registration order, then the public hook) after
 * both queues are empty; if a hook queues more work the checkpoint drains it and runs the
 * hooks again. Returns 0, EVL_EINVAL or EVL_ELIMIT. */
int evl__loop_add_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud);
void evl__loop_remove_checkpoint_hook(struct evl_loop *loop, evl_checkpoint_cb cb, void *ud);

/* Teardown: drops every queued nextTick callback and microtask. A job queued with its own
 * discard callback always has it called; every other microtask is handed to the discard
 * function (evl__checkpoint_set_discard) so its owner can release what it holds, when discard
 * is nonzero; otherwise dropped silently (admission is closed by then). */
void evl__checkpoint_drop(struct evl_loop *loop, int discard);

/* Releases the queues' storage (evl_loop_free). */
void evl__checkpoint_deinit(struct evl_loop *loop);

#endif
