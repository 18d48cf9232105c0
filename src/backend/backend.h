/*
 * The I/O backend contract. A backend is one file (epoll.c, poll.c, later kqueue.c ...) that
 * fills one ops table; src/core/io.c is its only caller and keeps everything that is not
 * "ask the kernel which fds are ready": the registration table, generations, callbacks,
 * timeouts and the fast-path switch. docs/platforms.md describes the backends and the rules
 * a new one must follow.
 *
 * Rules every backend keeps:
 *   - Level-triggered: an fd that stays ready is reported by every wait.
 *   - One entry per fd: add of an fd already added is a caller bug (io.c never does it).
 *   - wait() reports each added fd at most once per call, with all its ready flags merged,
 *     and never allocates in steady state: the event array it returns is reused and stays
 *     valid (unchanged) until the next wait(), whatever add/modify/remove do meanwhile.
 *   - wait() retries EINTR itself with the remaining time, so a signal never ends a wait
 *     early with no events; any other failure is a system code (errno.h) carrying errno.
 *   - An fd that is no longer open is reported with EVL__BE_INVALID when the kernel says so
 *     (poll's POLLNVAL); epoll cannot see it (the kernel drops closed fds silently).
 *   - Only the loop thread calls a backend: no locking.
 */
#ifndef EVL_BACKEND_BACKEND_H
#define EVL_BACKEND_BACKEND_H

#include "backend/sys.h"
#include "evl/io.h"
#include "evl/loop.h"

#include <stdint.h>

/* Event bits: the public EVL_READABLE/WRITABLE/ERROR/HANGUP plus one internal bit. */
#define EVL__BE_INVALID 0x100u /* the fd is not open (POLLNVAL) */

/* One ready fd: the caller's tag given to add/modify, and the flags seen. */
struct evl__backend_event {
    uint64_t tag;
    uint32_t events;
};

struct evl__backend_ops {
    const char *name;
    enum evl_backend_kind kind;
    /* Creates a backend instance in *state. Memory comes from loop's allocator (the
     * process-wide one when loop is NULL, which is how the backend tests use it), system
     * calls from loop's table (evl__backend_sys).
     * Returns 0, EVL_ENOMEM or a system code (EVL_ESYS(EMFILE) ...). */
    int (*init)(void **state, struct evl_loop *loop);
    /* Releases everything init and later calls acquired. */
    void (*free)(void *state);
    /* Starts watching fd for events (EVL_READABLE and/or EVL_WRITABLE); error and hang-up
     * are always reported. tag comes back in every event for this fd.
     * Returns 0, EVL_EBADF (not an open fd, when the backend can tell; io.c checks with
     * fcntl(F_GETFD) first), EVL_EEXIST, EVL_ENOMEM, EVL_ELIMIT (a kernel limit on watches)
     * or a system code with the kernel's reason (EVL_ESYS(EPERM): an fd kind the backend
     * cannot watch, such as a regular file under epoll). */
    int (*add)(void *state, int fd, uint32_t events, uint64_t tag);
    /* Changes the interest and the tag of an added fd. Errors as add, EVL_ENOENT if the
     * kernel no longer knows the fd (closed behind our back under epoll). */
    int (*modify)(void *state, int fd, uint32_t events, uint64_t tag);
    /* Stops watching fd. Never fails from the caller's point of view: an fd that was
     * closed before removal is forgotten all the same. Returns 0, or EVL_EBADF when the fd
     * had been closed already (for diagnostics only). */
    int (*remove)(void *state, int fd);
    /* Optional (NULL if the backend cannot tell): whether fd, as added with events and tag,
     * still refers to the file that was added. Returns 0 if it does, EVL_EBADF if that file
     * was closed behind the backend's back (fd may now name another file). */
    int (*check)(void *state, int fd, uint32_t events, uint64_t tag);
    /* Waits up to timeout_ns (< 0: forever, 0: just look) for a watched fd to be ready.
     * Returns the number of events stored at *events (0 on timeout), or a system code. */
    int (*wait)(void *state, int64_t timeout_ns, const struct evl__backend_event **events);
    /* Optional (NULL if the backend has none): one fd that polls readable whenever wait()
     * would report an event, for hosts that embed the loop in their own poll. */
    int (*pollable_fd)(void *state);
};

/* The ops for a backend kind, or NULL if it is not built on this platform. DEFAULT picks
 * the platform's best (epoll on Linux, poll elsewhere). */
const struct evl__backend_ops *evl__backend_get(enum evl_backend_kind kind);

#if defined(__linux__)
extern const struct evl__backend_ops evl__backend_epoll;
#endif
extern const struct evl__backend_ops evl__backend_poll;

/* Allocation for backends: through the loop's allocator, or the process-wide one. */
void *evl__backend_realloc(struct evl_loop *loop, void *p, size_t n);
void evl__backend_release(struct evl_loop *loop, void *p);

/* The system calls a backend instance makes (sys.h): loop's table, the real calls for a NULL
 * loop. Read once by init and kept in the instance. */
const struct evl__sys *evl__backend_sys(struct evl_loop *loop);

/* Converts a timeout in ns (< 0: forever) to poll()'s milliseconds, rounding up so a timer
 * is never woken for early. Inline with the two common cases first: every poll of a busy loop
 * passes 0 or -1, and the division is for real sleeps only. */
static inline int evl__backend_timeout_ms(int64_t timeout_ns)
{
    if (timeout_ns <= 0) {
        return timeout_ns < 0 ? -1 : 0;
    }
    int64_t ms = timeout_ns / 1000000 + (timeout_ns % 1000000 != 0);
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* The part of timeout_ns left since start_ns, both on evl__monotonic_ns (base/clock.h: a
 * backend waits in real time whatever the loop's clock), for retrying EINTR; < 0 stays < 0. */
int64_t evl__backend_remaining(int64_t timeout_ns, uint64_t start_ns);

#endif
