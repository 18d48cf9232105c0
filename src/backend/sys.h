/*
 * The system calls the loop's kernel-facing code makes (the wake-up channel, the I/O
 * backends, the signal module's event fd), as one table of function pointers per loop.
 *
 * Why a table: fault-injection tests (tests/unit/test_faults.c) give one loop a table whose
 * entries fail on demand (eventfd out of fds, epoll_ctl refusing an fd, epoll_wait failing,
 * a wake-up write answering EAGAIN) without touching the process or any other loop. The
 * library keeps no mutable global for it: evl__sys_default is const, a loop points at it
 * unless it was created through the test-only evl__loop_new_sys, and the pointer never
 * changes afterwards. The default entries are the libc functions themselves, so a call
 * through the table costs one indirect call where the direct one was a PLT jump.
 *
 * Every entry has the libc signature and the libc contract (returns -1 and sets errno).
 */
#ifndef EVL_BACKEND_SYS_H
#define EVL_BACKEND_SYS_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#if defined(__linux__)
#include <sys/epoll.h>
#endif

struct evl_loop;
struct evl_loop_options;

struct evl__sys {
#if defined(__linux__)
    int (*eventfd)(unsigned int initval, int flags);
    int (*epoll_create1)(int flags);
    int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
    int (*epoll_wait)(int epfd, struct epoll_event *evs, int max, int timeout_ms);
    int (*ppoll)(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask);
#endif
    int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
    int (*pipe)(int fds[2]);
    ssize_t (*read)(int fd, void *buf, size_t n);
    ssize_t (*write)(int fd, const void *buf, size_t n);
};

/* The real system calls. */
extern const struct evl__sys evl__sys_default;

/* The table of loop (src/loop/loop.c); evl__sys_default for a NULL loop (the backend tests
 * run backends without one). */
const struct evl__sys *evl__loop_sys(const struct evl_loop *loop);

/*
 * Test-only: evl_loop_new with the system calls of sys (borrowed: it must outlive the loop;
 * NULL: the real ones). The loop makes every wake-up, backend and signal-fd call through it
 * for its whole life. Same contract and errors as evl_loop_new.
 */
int evl__loop_new_sys(struct evl_loop **out, const struct evl_loop_options *options,
                      const struct evl__sys *sys);

#endif
