/*
 * POSIX signals delivered on the loop thread. Several watchers may watch one signal, on one
 * loop or on several loops of the process; each gets every delivery.
 *
 * How: the first watcher of a signal in the process installs a handler (sigaction, with
 * SA_RESTART) that counts the signal for every loop watching it and writes to that loop's
 * wake-up fd; the loop reads the counts and calls its watchers with the number of
 * deliveries since their last callback (the kernel merges a standard signal that arrives
 * while one is pending, so counts are at least 1, not exact). The last watcher's stop puts
 * back the disposition found before the first. This works whatever the signal masks of the
 * process's other threads are; signalfd() would need the signal blocked in every thread,
 * which a library cannot ensure (a thread that left it unblocked would take the default
 * action and, for SIGINT or SIGTERM, end the process).
 *
 * Threads: a watched signal may be handled on any thread whose mask lets it through, as
 * usual; the callback always runs on the loop thread. A thread that blocks the signal just
 * does not take it. fork(): the child inherits the handler and the watchers' loops, which it
 * must not use (as for the whole loop after fork); exec() resets the disposition to the
 * default. Children started with evl_spawn start with every signal unblocked and handled
 * signals at their default.
 *
 * Every function here is loop thread only (EVL_EPERM otherwise).
 */
#ifndef EVL_SIGNAL_H
#define EVL_SIGNAL_H

#include "common.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called on the loop thread with the signal and the deliveries counted since this
 * watcher's last callback (>= 1). The callback may stop any watcher, itself included. */
typedef void (*evl_signal_cb)(struct evl_loop *loop, uint64_t id, int signum, uint32_t count,
                              void *arg);

/*
 * Watches signum (1..64, not SIGKILL or SIGSTOP). *id_out gets the watcher's id (never
 * reused by this loop). A watcher keeps the loop alive until stopped or unref'd. arg is
 * borrowed.
 * Errors: EVL_EINVAL (NULL loop, cb or id_out, bad signum), EVL_EPERM (wrong thread),
 * EVL_ECLOSED, EVL_ELIMIT (more than 64 loops of the process watch signals), EVL_ENOMEM,
 * system errors (eventfd, sigaction).
 */
EVL_API int evl_signal_start(struct evl_loop *loop, int signum, evl_signal_cb cb, void *arg,
                             uint64_t *id_out);

/* Stops a watcher: its callback is not called again, even for a delivery already counted.
 * Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT (unknown or stopped id). */
EVL_API int evl_signal_stop(struct evl_loop *loop, uint64_t id);

/* A watcher that is unref'd does not keep the loop alive (it still delivers while the loop
 * runs). Errors: EVL_EINVAL, EVL_EPERM, EVL_ENOENT. */
EVL_API int evl_signal_ref(struct evl_loop *loop, uint64_t id);
EVL_API int evl_signal_unref(struct evl_loop *loop, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif
