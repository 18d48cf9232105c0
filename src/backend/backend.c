/*
 * What the backends share: the table that picks one by kind, allocation through the loop's
 * allocator, and the clock their EINTR retries use.
 */
#include "backend/backend.h"

#include "core/loop_internal.h"

#include <time.h>

const struct evl__backend_ops *evl__backend_get(enum evl_backend_kind kind)
{
#if defined(__linux__)
    if (kind == EVL_BACKEND_DEFAULT || kind == EVL_BACKEND_EPOLL) {
        return &evl__backend_epoll;
    }
#else
    if (kind == EVL_BACKEND_DEFAULT) {
        return &evl__backend_poll;
    }
#endif
    return kind == EVL_BACKEND_POLL ? &evl__backend_poll : NULL;
}

void *evl__backend_realloc(struct evl_loop *loop, void *p, size_t n)
{
    return loop ? evl__loop_realloc(loop, p, n) : evl_realloc(p, n);
}

void evl__backend_release(struct evl_loop *loop, void *p)
{
    if (loop) {
        evl__loop_free(loop, p);
    } else {
        evl_free(p);
    }
}

uint64_t evl__backend_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

int64_t evl__backend_remaining(int64_t timeout_ns, uint64_t start_ns)
{
    if (timeout_ns <= 0) {
        return timeout_ns;
    }
    uint64_t spent = evl__backend_now_ns() - start_ns;
    return spent >= (uint64_t)timeout_ns ? 0 : timeout_ns - (int64_t)spent;
}
