/*
 * File-descriptor readiness. A registration watches one fd for readability and/or
 * writability and calls back on the loop thread while the fd is ready (level-triggered),
 * at most once per loop iteration with all ready flags merged. One registration per fd;
 * the fd is named by its number in every call. The backend (epoll, poll) is chosen at loop
 * creation with evl_loop_options.backend; docs/platforms.md compares them.
 *
 * Every function here is loop thread only (EVL_EPERM from another thread): other threads
 * use evl_loop_submit to run the call on the loop. The loop never closes an fd: the
 * caller owns it and should stop the registration before closing it.
 */
#ifndef EVL_IO_H
#define EVL_IO_H

#include "common.h"
#include "loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Event flags: interest (READABLE, WRITABLE) and what the callback receives (all four). */
enum evl_fd_event {
    EVL_READABLE = 1, /* data to read, or end of file */
    EVL_WRITABLE = 2, /* room to write */
    EVL_ERROR = 4,    /* error condition (a pending socket error, a pipe without reader) */
    EVL_HANGUP = 8    /* the peer hung up; reads drain what is left then see end of file */
};

/*
 * Called on the loop thread. status is 0 with events = the ready flags; EVL_ETIMEDOUT
 * (events 0) when a registration made with evl_fd_start_timeout saw no readiness in time;
 * EVL_EBADF (events EVL_ERROR) when the backend found the fd closed. In the last two cases
 * the registration is already stopped when the callback runs. The callback may stop,
 * modify or close any fd, and start new registrations.
 */
typedef void (*evl_fd_cb)(struct evl_loop *loop, int fd, int status, unsigned events, void *arg);

/*
 * Watches fd for events (EVL_READABLE and/or EVL_WRITABLE; error and hang-up are always
 * reported). The registration keeps the loop alive until stopped or unref'd. arg is
 * borrowed. Loop thread only.
 * Errors: EVL_EINVAL (NULL loop or cb, events 0 or unknown bits), EVL_EBADF (fd not open),
 * EVL_EEXIST (fd already registered; under epoll a registration whose fd was closed and
 * the number reused is retired instead, its callback getting EVL_EBADF), EVL_EPERM (not the
 * loop thread), EVL_ECLOSED (loop terminating or terminated), EVL_ENOSYS (backend not built
 * here), EVL_ELIMIT (a kernel or internal limit, e.g. epoll's max_user_watches, or the loop's
 * options.max_fds registrations), EVL_ENOMEM, or a system code (errno.h) with the kernel's
 * reason: EVL_ESYS(EPERM) for an fd kind the backend cannot watch (a regular file or
 * directory under epoll), EVL_ESYS(EMFILE) when the first registration cannot create the
 * backend (epoll_create1) for want of fds.
 */
EVL_API int evl_fd_start(struct evl_loop *loop, int fd, unsigned events, evl_fd_cb cb, void *arg);

/*
 * As evl_fd_start, and if no callback with readiness has run within timeout_ms (measured
 * on the loop's clock, like a timer), the registration is stopped and the callback gets
 * EVL_ETIMEDOUT. The first readiness callback cancels the timeout. Timers run before the
 * poll phase, so a deadline that passed wins over readiness seen in the same iteration, and
 * timeout_ms 0 expires at the next timer phase without polling. Loop thread only.
 * Errors as evl_fd_start, plus EVL_ERANGE (timeout_ms > EVL_TIMER_DELAY_MAX).
 */
EVL_API int evl_fd_start_timeout(struct evl_loop *loop, int fd, unsigned events,
                                 uint64_t timeout_ms, evl_fd_cb cb, void *arg);

/*
 * Replaces the interest of a registration (a pending timeout is kept). Loop thread only.
 * Errors: EVL_EINVAL (events), EVL_ENOENT (fd not registered), EVL_EBADF (the fd was
 * closed before the registration was stopped; the registration is left as it was),
 * EVL_EPERM, or a system code with the kernel's reason.
 */
EVL_API int evl_fd_modify(struct evl_loop *loop, int fd, unsigned events);

/*
 * Stops a registration. Synchronous: once it returns, no callback for this registration
 * runs, not even for readiness already collected in the current batch. Safe from inside any
 * callback, its own included, and on an fd already closed. Loop thread only.
 * Errors: EVL_EINVAL (NULL loop), EVL_ENOENT (not registered, or already stopped by the
 * loop after EVL_ETIMEDOUT/EVL_EBADF), EVL_EPERM.
 */
EVL_API int evl_fd_stop(struct evl_loop *loop, int fd);

/* Whether a registration keeps the loop alive (default: it does). Loop thread only.
 * Errors: EVL_EINVAL, EVL_ENOENT, EVL_EPERM. */
EVL_API int evl_fd_ref(struct evl_loop *loop, int fd);
EVL_API int evl_fd_unref(struct evl_loop *loop, int fd);

/* 1 if fd is registered, 0 if not. Loop thread only. Errors: EVL_EINVAL, EVL_EPERM. */
EVL_API int evl_fd_active(const struct evl_loop *loop, int fd);

/* The backend a loop uses (DEFAULT resolved to the platform's choice). Thread-safe. */
EVL_API enum evl_backend_kind evl_loop_backend(const struct evl_loop *loop);

/* "epoll", "poll", "default", or "unknown". Static string. Thread-safe. */
EVL_API const char *evl_backend_name(enum evl_backend_kind kind);

/*
 * Parses a backend name ("default", "epoll", "poll"; NULL or "" mean default) into *out.
 * This is the helper behind the EVL_BACKEND environment override that tests and evljs
 * apply: `evl_backend_parse(getenv("EVL_BACKEND"), &options.backend)`. The library itself
 * never reads the environment. Thread-safe.
 * Errors: EVL_EINVAL (NULL out or unknown name; *out is left unchanged), EVL_ENOSYS (a
 * known backend that is not built on this platform).
 */
EVL_API int evl_backend_parse(const char *name, enum evl_backend_kind *out);

#ifdef __cplusplus
}
#endif

#endif
