/*
 * The I/O subsystem's state and the loop's view of it (io.c owns both): the poll phase runs
 * on the fd backend while at least one fd is registered (or a host embeds the backend fd).
 * io.c fills struct evl__io_state, struct evl_loop's member `io`; the loop asks it only
 * through the static inline queries below, so the seam costs nothing per iteration.
 */
#ifndef EVL_CORE_IO_IO_H
#define EVL_CORE_IO_IO_H

#include <stddef.h>
#include <stdint.h>

struct evl_loop;
struct evl__io; /* io.c's backend instance and registration table */

struct evl__io_hooks {
    /* Polls the fds AND the wake-up fd (evl__wakeup_fd) for up to timeout_ns (< 0: forever,
     * 0: do not block), dispatches fd callbacks (each followed by evl__loop_checkpoint).
     * Should call evl__loop_after_sleep(loop) right after the blocking syscall returns,
     * before dispatching; when the wake-up fd is readable it calls
     * evl__loop_wakeup_drain(loop). Returns the number of fd callbacks it ran (>= 0; the
     * loop's adaptive spin learns from it), or < 0 (EVL_E*) on error. */
    int (*wait)(struct evl_loop *loop, int64_t timeout_ns);
    /* Releases the backend's state (loop thread, during teardown, after teardown hooks). */
    void (*teardown)(struct evl_loop *loop);
};

/* The I/O state: struct evl_loop's member `io`. Written by io.c only. */
struct evl__io_state {
    /* Set while the poll phase runs on the backend (a registration exists, or embedded). */
    const struct evl__io_hooks *hooks;
    struct evl__io *impl; /* created by the first registration, kept until teardown */
    /* Ref'd registrations, which keep the loop alive (a plain field: the run loop asks every
     * iteration). */
    uint32_t refs;
    /* Monotonic ns at which a wait began its first fd callback, stamped only while 0: the
     * adaptive spin clears it to ask (evl__io_stamp_next) and reads it after the wait. */
    uint64_t ready_ns;
};

/* Nonzero while the poll phase must wait on the backend instead of the wake-up fd. */
static inline int evl__io_active(const struct evl__io_state *io)
{
    return io->hooks != NULL;
}

/* Nonzero while ref'd registrations keep the loop alive. */
static inline int evl__io_alive(const struct evl__io_state *io)
{
    return io->refs > 0;
}

/* Waits on the backend (evl__io_active only): see evl__io_hooks.wait. */
static inline int evl__io_wait(struct evl_loop *loop, const struct evl__io_state *io,
                               int64_t timeout_ns)
{
    return io->hooks->wait(loop, timeout_ns);
}

/* Asks the next wait to stamp when its first fd callback begins. */
static inline void evl__io_stamp_next(struct evl__io_state *io)
{
    io->ready_ns = 0;
}

/* When the first fd callback of the wait asked for began (0: none ran since the request). */
static inline uint64_t evl__io_ready_ns(const struct evl__io_state *io)
{
    return io->ready_ns;
}

/* Loop teardown, after the teardown hooks: releases the backend's state and routes the poll
 * phase back to the wake-up fd. */
static inline void evl__io_finalize(struct evl_loop *loop, struct evl__io_state *io)
{
    if (io->hooks) {
        if (io->hooks->teardown) {
            io->hooks->teardown(loop);
        }
        io->hooks = NULL;
    }
}

/* Creates the backend if needed and keeps the poll phase on it for good (a host polls its
 * fd); returns that fd, or EVL_ENOSYS when the backend has none. */
int evl__io_embed(struct evl_loop *loop);

/* fd registrations (the metrics' fds queue). Loop thread. */
uint32_t evl__io_count(const struct evl_loop *loop);

#endif
