/*
 * Wrapped work: how a scheduler whose queue holds only (function, argument) pairs (the
 * submit queue, the checkpoint rings, the timer records) carries a captured context. The
 * pair becomes (a function of this file, wrapper) only when a frame was captured, so the
 * queues, their layouts and their hot paths stay as they are for work without context.
 */
#include "core/context/context_internal.h"

#include "evl/errno.h"
#include "evl/timer.h"

struct evl__context_work {
    union {
        evl_task_cb task;
        evl_timer_cb timer;
    } fn;
    evl_task_cb discard;
    void *arg;
    struct evl_context_frame *frame; /* +1 */
};

static struct evl__context_work *wrap(struct evl_loop *loop, void *arg,
                                      struct evl_context_frame *frame)
{
    struct evl__context_work *w = evl__loop_malloc(loop, sizeof(*w));
    if (w == NULL) {
        evl_context_release(loop, frame);
        return NULL;
    }
    w->discard = NULL;
    w->arg = arg;
    w->frame = frame;
    return w;
}

struct evl__context_work *evl__context_wrap(struct evl_loop *loop, evl_task_cb fn,
                                            evl_task_cb discard, void *arg,
                                            struct evl_context_frame *frame)
{
    struct evl__context_work *w = wrap(loop, arg, frame);
    if (w != NULL) {
        w->fn.task = fn;
        w->discard = discard;
    }
    return w;
}

struct evl__context_work *evl__context_wrap_timer(struct evl_loop *loop, evl_timer_cb cb, void *arg,
                                                  struct evl_context_frame *frame)
{
    struct evl__context_work *w = wrap(loop, arg, frame);
    if (w != NULL) {
        w->fn.timer = cb;
    }
    return w;
}

void evl__context_unwrap(struct evl_loop *loop, struct evl__context_work *w)
{
    if (w != NULL) {
        evl_context_release(loop, w->frame);
        evl__loop_free(loop, w);
    }
}

void evl__context_task_run(struct evl_loop *loop, void *arg)
{
    struct evl__context_work *w = arg;
    struct evl_context_scope sc;
    evl_context_enter(loop, w->frame, &sc);
    w->fn.task(loop, w->arg);
    evl_context_leave(loop, &sc);
    evl__context_unwrap(loop, w);
}

void evl__context_task_discard(struct evl_loop *loop, void *arg)
{
    struct evl__context_work *w = arg;
    if (w->discard != NULL) {
        struct evl_context_scope sc;
        evl_context_enter(loop, w->frame, &sc);
        w->discard(loop, w->arg);
        evl_context_leave(loop, &sc);
    }
    evl__context_unwrap(loop, w);
}

void evl__context_timer_run(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct evl__context_work *w = arg;
    struct evl_context_scope sc;
    evl_context_enter(loop, w->frame, &sc);
    w->fn.timer(loop, id, w->arg);
    evl_context_leave(loop, &sc);
    /* A timeout or an immediate left the id table before it ran; an interval leaves it when
     * cleared, and a clear while its callback runs leaves the wrapper to this point. */
    if (evl_timer_has_ref(loop, id) == EVL_ENOENT) {
        evl__context_unwrap(loop, w);
    }
}

void evl__context_timer_drop(struct evl_loop *loop, void *arg)
{
    evl__context_unwrap(loop, arg);
}
