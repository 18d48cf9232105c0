/*
 * The loop's wake-up channel: an eventfd on Linux, a non-blocking self-pipe elsewhere. A
 * producer that finds the loop asleep signals it; the loop drains it after waking. Callers
 * (src/core/submit/wake.c) deduplicate signals so that at most one write happens per sleep.
 */
#ifndef EVL_BACKEND_WAKEUP_H
#define EVL_BACKEND_WAKEUP_H

#include "backend/sys.h"

#include <stdint.h>

struct evl__wakeup {
    int rfd; /* readable when signalled; the fd an I/O backend adds to its poll set */
    int wfd; /* written by producers (== rfd for an eventfd) */
    const struct evl__sys *sys; /* the loop's system calls (sys.h), set by open */
};

/* Opens the channel (close-on-exec, non-blocking) with the system calls of sys (borrowed,
 * kept for the channel's life). Returns 0 or a system code (errno.h): EVL_ESYS(EMFILE) when
 * the process is out of fds, ENFILE, ENOMEM. */
int evl__wakeup_open(struct evl__wakeup *w, const struct evl__sys *sys);

/* Closes both fds; safe on a channel whose open failed (fds set to -1). */
void evl__wakeup_close(struct evl__wakeup *w);

/* Makes rfd readable. Thread-safe (one write syscall). A write that fails with EAGAIN found
 * the channel full (an eventfd counter at its maximum, a full pipe), hence readable already:
 * the signal is not lost, and no retry is needed. */
void evl__wakeup_signal(struct evl__wakeup *w);

/* Consumes every pending signal (reads until EAGAIN). */
void evl__wakeup_drain(struct evl__wakeup *w);

/*
 * Blocks until rfd is readable or timeout_ns passes (< 0: forever, 0: just check).
 * Returns 1 if signalled (not drained), 0 on timeout or EINTR, a system code on failure.
 */
int evl__wakeup_wait(struct evl__wakeup *w, int64_t timeout_ns);

#endif
