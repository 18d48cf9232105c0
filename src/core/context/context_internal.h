/*
 * The context module's inline paths for the loop's schedulers (submit, timers, the
 * checkpoint queues, fds, promise reactions, pool jobs): capture when work is queued, the
 * wrappers that make the captured context current around the work's callback, and their
 * release when the work is dropped. Every one starts with the test of loop->obs that keeps
 * a loop without contexts at one load and one predictable branch, allocating nothing.
 */
#ifndef EVL_CORE_CONTEXT_CONTEXT_INTERNAL_H
#define EVL_CORE_CONTEXT_CONTEXT_INTERNAL_H

#include "core/context/context.h"
#include "core/loop_state.h"

/* The slow half of evl__context_capture_hot (context.c). */
int evl__context_capture_slow(struct evl_loop *loop, struct evl_context_frame **out);

/*
 * Capture for a scheduler on the loop thread: *out is the current context (+1) or NULL when
 * none is current (the common case: nothing allocated). Returns 0 or EVL_ENOMEM.
 */
static inline int evl__context_capture_hot(struct evl_loop *loop, struct evl_context_frame **out)
{
    *out = NULL;
    if (__builtin_expect(!evl__loop_context_active(loop), 1)) {
        return 0;
    }
    return evl__context_capture_slow(loop, out);
}

/* evl_loop_run returns: an id a scope-less callback set is undone now rather than at the
 * next read, so nothing made between runs (an error) sees it. */
void evl__context_run_end_slow(struct evl_loop *loop);
static inline void evl__context_run_end(struct evl_loop *loop)
{
    if (__builtin_expect(evl__loop_context_active(loop), 0)) {
        evl__context_run_end_slow(loop);
    }
}

/*
 * A frame for work given an explicit correlation id (evl_loop_submit_opts): on the loop
 * thread the current context with the id replaced, on another thread a frame holding only
 * the id. Any thread. Returns 0 or EVL_ENOMEM.
 */
int evl__context_capture_with_id(struct evl_loop *loop, const unsigned char id[16],
                                 struct evl_context_frame **out);

/* Around a callback whose work carries frame (may be NULL: then nothing happens). A frame is
 * retained for the callback's duration: the callback may drop the work that owns it (an fd
 * stopped from its own callback). */
struct evl__context_bracket {
    struct evl_context_frame *frame;
    struct evl_context_scope scope;
};

static inline void evl__context_bracket_enter(struct evl_loop *loop, struct evl_context_frame *f,
                                              struct evl__context_bracket *b)
{
    b->frame = f;
    if (__builtin_expect(f != NULL, 0)) {
        evl_context_retain(f);
        evl_context_enter(loop, f, &b->scope);
    }
}

static inline void evl__context_bracket_leave(struct evl_loop *loop, struct evl__context_bracket *b)
{
    if (__builtin_expect(b->frame != NULL, 0)) {
        evl_context_leave(loop, &b->scope);
        evl_context_release(loop, b->frame);
    }
}

/* ---- wrapped work (propagate.c) ---------------------------------------------------------
 * Work queued with a frame travels as a wrapper: the queue holds (evl__context_task_run,
 * wrapper) or, for timers, (evl__context_timer_run, wrapper); the wrapper holds the work's
 * own callback, argument and frame. */
struct evl__context_work;

/* Wraps fn/discard/arg with frame (ownership of the frame moves to the wrapper). Returns the
 * wrapper, or NULL (no memory; the frame is released). */
struct evl__context_work *evl__context_wrap(struct evl_loop *loop, evl_task_cb fn,
                                            evl_task_cb discard, void *arg,
                                            struct evl_context_frame *frame);
struct evl__context_work *evl__context_wrap_timer(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                                  struct evl_context_frame *frame);
/* Frees a wrapper whose work never ran nor was discarded (a refused submit, a failed set):
 * the frame is released, no callback is called. */
void evl__context_unwrap(struct evl_loop *loop, struct evl__context_work *w);

/* The task and microtask callback of wrapped work: enters the frame, runs the work, leaves,
 * frees the wrapper. */
void evl__context_task_run(struct evl_loop *loop, void *arg);
/* The discard callback of a wrapped task: the work's discard (if any) inside the frame, then
 * the wrapper is freed. */
void evl__context_task_discard(struct evl_loop *loop, void *arg);
/* The timer callback of a wrapped timer or immediate: enters the frame around the work;
 * frees the wrapper after the last run (a timeout, an immediate, an interval cleared by its
 * own callback). */
void evl__context_timer_run(struct evl_loop *loop, uint64_t id, void *arg);
/* A wrapped timer cleared or torn down without running again: frees the wrapper. */
void evl__context_timer_drop(struct evl_loop *loop, void *arg);

/* Wraps a loop-thread microtask or nextTick (evl_queue_microtask, evl_next_tick) when a
 * context is current: *fn and *arg are replaced. Returns 0 or EVL_ENOMEM. */
static inline int evl__context_wrap_micro(struct evl_loop *loop, evl_task_cb *fn, void **arg)
{
    if (__builtin_expect(!evl__loop_context_active(loop), 1)) {
        return 0;
    }
    struct evl_context_frame *f = NULL;
    int rc = evl__context_capture_slow(loop, &f);
    if (rc != 0 || f == NULL) {
        return rc;
    }
    struct evl__context_work *w = evl__context_wrap(loop, *fn, NULL, *arg, f);
    if (w == NULL) {
        return EVL_ENOMEM;
    }
    *fn = evl__context_task_run;
    *arg = w;
    return 0;
}

#endif
