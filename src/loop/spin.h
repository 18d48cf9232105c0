/*
 * The adaptive spin (spin.c): before the poll phase sleeps, it may look for work for a few
 * microseconds, since a sleep costs the producer that wakes the loop a system call and the
 * loop a scheduler wake-up. The poll phase calls evl__spin_begin before its wait and
 * evl__spin_end after it, or evl__spin_batch when it has nothing to wait on; the state is
 * struct evl_loop's member `spin`. Loop thread only.
 */
#ifndef EVL_LOOP_SPIN_H
#define EVL_LOOP_SPIN_H

#include "core/loop_state.h"

#include <stdatomic.h>
#include <stdint.h>

/* One idle episode of the poll phase, from evl__spin_begin to evl__spin_end. */
struct evl__spin_episode {
    uint64_t idle_start; /* monotonic ns the loop went idle; 0: nothing to learn */
    int io_learns;       /* the episode teaches the I/O spin */
};

/* A new loop's spin state: no history, so an idle loop never spins. */
void evl__spin_init(struct evl__spin *s);

/* The out-of-line halves of the calls below. */
int evl__spin_idle(struct evl_loop *loop, int64_t *timeout_ns, int drain,
                   struct evl__spin_episode *ep);
void evl__spin_learn_episode(struct evl_loop *loop, const struct evl__spin_episode *ep, int slept,
                             int called);
void evl__spin_batch_wait(struct evl_loop *loop);

/*
 * Before the poll phase waits up to *timeout_ns (< 0: until woken; 0: just looks). When the
 * history says work comes back soon, spins first: on submitted work it sets *timeout_ns to
 * 0; when its poll of the fds ran callbacks it returns 1 and the poll phase is over (a
 * registration gets at most one callback per iteration). drain: a terminating loop, which
 * spins for tasks only. Returns 0 otherwise. The cheap tests are inline: a poll that does
 * not block costs nothing here.
 */
static inline int evl__spin_begin(struct evl_loop *loop, int64_t *timeout_ns, int drain,
                                  struct evl__spin_episode *ep)
{
    ep->idle_start = 0;
    if (*timeout_ns == 0 || loop->spin_ns == EVL_SPIN_OFF) {
        return 0;
    }
    return evl__spin_idle(loop, timeout_ns, drain, ep);
}

/* After the wait: learns the episode's gap. slept: the loop announced a sleep and waited;
 * called: the fd callbacks the wait ran. */
static inline void evl__spin_end(struct evl_loop *loop, const struct evl__spin_episode *ep,
                                 int slept, int called)
{
    if (ep->idle_start) {
        evl__spin_learn_episode(loop, ep, slept, called);
    }
}

/* Instead of a wait, when the poll phase has nothing to wait on and no fds: tasks that
 * arrived while the last ones ran may come from a streaming producer, whose tasks are
 * better taken as a batch than one by one; waits briefly for the batch to grow. */
static inline void evl__spin_batch(struct evl_loop *loop)
{
    if (loop->spin_ns != EVL_SPIN_OFF &&
        atomic_load_explicit(&loop->q.used, memory_order_relaxed) != 0) {
        evl__spin_batch_wait(loop);
    }
}

#endif
