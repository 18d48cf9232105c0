/*
 * The real system calls behind struct evl__sys (sys.h).
 */
#include "backend/sys.h"

#include <unistd.h>

#if defined(__linux__)
#include <sys/eventfd.h>
#endif

const struct evl__sys evl__sys_default = {
#if defined(__linux__)
    .eventfd = eventfd,
    .epoll_create1 = epoll_create1,
    .epoll_ctl = epoll_ctl,
    .epoll_wait = epoll_wait,
    .ppoll = ppoll,
#endif
    .poll = poll,
    .pipe = pipe,
    .read = read,
    .write = write,
};
