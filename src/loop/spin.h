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

/* The bounds the inline first look shares with spin.c. */
#define EVL__SPIN_LONG_NS       80000u /* a long or unknown gap */
#define EVL__IO_SPIN_EST_MAX_NS 40000u /* spin for fds only while their gap averages <= this */

/* One idle episode of the poll phase, from evl__spin_begin to evl__spin_end. */
struct evl__spin_episode {
    uint64_t idle_start; /* monotonic ns the loop went idle; 0: nothing to learn */
    int io_learns;       /* the episode teaches the I/O spin */
};

/* A new loop's spin state: no history, so an idle loop never spins. */
void evl__spin_init(struct evl__spin *s);

/* The out-of-line halves of the calls below. looked: the fds were polled once already (the
 * inline first look) and had nothing. */
int evl__spin_idle(struct evl_loop *loop, int64_t *timeout_ns, int drain, int looked,
                   struct evl__spin_episode *ep);
void evl__spin_learn_episode(struct evl_loop *loop, const struct evl__spin_episode *ep, int slept,
                             int called);
void evl__spin_batch_wait(struct evl_loop *loop);

/* Nonzero if this idle episode polls the fds before sleeping (spin_ns is not EVL_SPIN_OFF):
 * fds are registered, and a fixed spin, or recent fd gaps were short and no back-off runs. */
static inline int evl__spin_io_due(const struct evl_loop *loop)
{
    return evl__io_active(&loop->io) &&
           (loop->spin_ns != 0 ||
            (loop->spin.io_est <= EVL__IO_SPIN_EST_MAX_NS && loop->spin.io_skip == 0));
}

/* Keeps a running average of gaps, over about the last four idle episodes. */
static inline void evl__spin_learn(uint32_t *est, uint64_t gap)
{
    uint32_t g = gap > EVL__SPIN_LONG_NS ? EVL__SPIN_LONG_NS : (uint32_t)gap;
    uint32_t e = *est;
    if (g == e) {
        return; /* settled (a loop that always finds its work at once) */
    }
    *est = g > e ? e + (g - e) / 4 : e - (e - g) / 4;
}

/*
 * Before the poll phase waits up to *timeout_ns (< 0: until woken; 0: just looks). When the
 * history says work comes back soon, spins first: on submitted work it sets *timeout_ns to
 * 0; when its poll of the fds ran callbacks it returns 1 and the poll phase is over (a
 * registration gets at most one callback per iteration). drain: a terminating loop, which
 * spins for tasks only. Returns 0 otherwise.
 *
 * The first look at the fds is inline and reads no clock: the caller found no task and no
 * stop request just before (that is why it may block), and a loop whose peer answers within
 * the iteration finds its fds ready here, which teaches a zero gap. Only a miss starts the
 * timed spin (spin.c), from the clock read after it.
 */
static inline int evl__spin_begin(struct evl_loop *loop, int64_t *timeout_ns, int drain,
                                  struct evl__spin_episode *ep)
{
    ep->idle_start = 0;
    if (*timeout_ns == 0 || loop->spin_ns == EVL_SPIN_OFF) {
        return 0;
    }
    int looked = 0;
    if (!drain && evl__spin_io_due(loop)) {
        int n = evl__io_wait(loop, &loop->io, 0);
        if (n > 0) {
            struct evl__spin *s = &loop->spin;
            s->io_spins++;
            s->io_spin_hits++;
            s->io_backoff = 0;
            if (loop->spin_ns == 0) {
                evl__spin_learn(&s->io_est, 0);
                evl__spin_learn(&s->spin_est, EVL__SPIN_LONG_NS);
            }
            return 1;
        }
        looked = n == 0; /* an error: the full path and the wait after it report it */
    }
    return evl__spin_idle(loop, timeout_ns, drain, looked, ep);
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
    if (loop->spin_ns != EVL_SPIN_OFF && evl__submitq_lanes_used(&loop->q) != 0) {
        evl__spin_batch_wait(loop);
    }
}

#endif
