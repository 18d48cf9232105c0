/*
 * The adaptive spin (spin.c): before the poll phase sleeps, it may look for work for a few
 * microseconds, since a sleep costs the producer that wakes the loop a system call and the
 * loop a scheduler wake-up. The poll phase calls evl__spin_begin before its wait and
 * evl__spin_end after it; the state is struct evl_loop's member `spin`. Loop thread only.
 */
#ifndef EVL_LOOP_SPIN_H
#define EVL_LOOP_SPIN_H

#include "core/loop_state.h"

#include <stdint.h>

/* One idle episode of the poll phase, from evl__spin_begin to evl__spin_end. */
struct evl__spin_episode {
    uint64_t idle_start; /* monotonic ns the loop went idle; 0: nothing to learn */
    int io_learns;       /* the episode teaches the I/O spin */
};

/* A new loop's spin state: no history, so an idle loop never spins. */
void evl__spin_init(struct evl__spin *s);

/*
 * Before the poll phase waits up to *timeout_ns (< 0: until woken). With a timeout, spins
 * when the history says work comes back soon: on submitted work it sets *timeout_ns to 0;
 * when its poll of the fds ran callbacks it returns 1 and the poll phase is over (a
 * registration gets at most one callback per iteration). With *timeout_ns == 0 and no fds,
 * if a producer is streaming, waits for its batch to build up. drain: a terminating loop,
 * which spins for tasks only. Returns 0 otherwise.
 */
int evl__spin_begin(struct evl_loop *loop, int64_t *timeout_ns, int drain,
                    struct evl__spin_episode *ep);

/* After the wait: learns the episode's gap. slept: the loop announced a sleep and waited;
 * called: the fd callbacks the wait ran. */
void evl__spin_end(struct evl_loop *loop, const struct evl__spin_episode *ep, int slept,
                   int called);

#endif
