/*
 * The I/O seam (io.c): the poll phase runs on the fd backend once the first fd is registered.
 * io.c fills struct evl_loop's io_hooks and io on that first registration; the loop then
 * calls io_hooks->wait in the poll phase instead of its own wait on the wake-up fd.
 */
#ifndef EVL_CORE_IO_IO_H
#define EVL_CORE_IO_IO_H

#include <stdint.h>

struct evl_loop;

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

/* Creates the backend if needed and keeps the poll phase on it for good (a host polls its
 * fd); returns that fd, or EVL_ENOSYS when the backend has none. */
int evl__io_embed(struct evl_loop *loop);

/* fd registrations (the metrics' fds queue). Loop thread. */
uint32_t evl__io_count(const struct evl_loop *loop);

#endif
