/*
 * Wake-up channel. On Linux one eventfd serves as both ends (one fd per loop, one 8-byte
 * write per signal); elsewhere a pipe whose both ends are non-blocking, so a full pipe
 * never blocks a producer (a full pipe is already readable, which is all we need).
 */
#include "backend/wakeup.h"

#include "evl/errno.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/eventfd.h>
#define EVL__HAVE_EVENTFD 1
#endif

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return -1;
    }
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
        return -1;
    }
    return 0;
}

int evl__wakeup_open(struct evl__wakeup *w, const struct evl__sys *sys)
{
    w->rfd = -1;
    w->wfd = -1;
    w->sys = sys;
#ifdef EVL__HAVE_EVENTFD
    int fd = sys->eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0) {
        w->rfd = fd;
        w->wfd = fd;
        return 0;
    }
    /* Only a kernel without eventfd (or without its flags) falls back to the pipe; out of
     * fds or memory, a pipe would fail the same way, and the first reason is the one to
     * report. */
    if (errno != ENOSYS && errno != EINVAL) {
        return evl_err_from_errno(errno);
    }
#endif
    int p[2];
    if (sys->pipe(p) != 0) {
        return evl_err_from_errno(errno);
    }
    if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
        int rc = evl_err_from_errno(errno);
        close(p[0]);
        close(p[1]);
        return rc;
    }
    w->rfd = p[0];
    w->wfd = p[1];
    return 0;
}

void evl__wakeup_close(struct evl__wakeup *w)
{
    if (w->wfd >= 0 && w->wfd != w->rfd) {
        close(w->wfd);
    }
    if (w->rfd >= 0) {
        close(w->rfd);
    }
    w->rfd = -1;
    w->wfd = -1;
}

void evl__wakeup_signal(struct evl__wakeup *w)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        /* An eventfd needs exactly 8 bytes; a pipe takes any of them. EAGAIN means the
         * channel is already full, hence already readable: nothing is lost. */
        n = w->sys->write(w->wfd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

void evl__wakeup_drain(struct evl__wakeup *w)
{
    uint64_t buf[8];
    for (;;) {
        ssize_t n = w->sys->read(w->rfd, buf, w->rfd == w->wfd ? sizeof(buf[0]) : sizeof(buf));
        if (n > 0 && w->rfd != w->wfd && (size_t)n == sizeof(buf)) {
            continue; /* a pipe may hold more */
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        break;
    }
}

int evl__wakeup_wait(struct evl__wakeup *w, int64_t timeout_ns)
{
    struct pollfd pfd = {.fd = w->rfd, .events = POLLIN, .revents = 0};
    int rc;
#if defined(__linux__)
    struct timespec ts;
    const struct timespec *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    rc = w->sys->ppoll(&pfd, 1, tsp, NULL);
#else
    int ms = -1;
    if (timeout_ns >= 0) {
        /* Round up so a timer is never woken for early. */
        int64_t m = (timeout_ns + 999999) / 1000000;
        ms = m > 0x7fffffff ? 0x7fffffff : (int)m;
    }
    rc = w->sys->poll(&pfd, 1, ms);
#endif
    if (rc < 0) {
        return errno == EINTR ? 0 : evl_err_from_errno(errno);
    }
    return rc > 0 ? 1 : 0;
}
