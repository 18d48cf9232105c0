/*
 * What the backends share: the table that picks one by kind, allocation through the loop's
 * allocator, the loop's system calls, and the clock their EINTR retries use.
 */
#include "backend/backend.h"

#include "alloc/alloc.h"
#include "base/clock.h"

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

const struct evl__sys *evl__backend_sys(struct evl_loop *loop)
{
    return loop ? evl__loop_sys(loop) : &evl__sys_default;
}

int64_t evl__backend_remaining(int64_t timeout_ns, uint64_t start_ns)
{
    if (timeout_ns <= 0) {
        return timeout_ns;
    }
    uint64_t spent = evl__monotonic_ns() - start_ns;
    return spent >= (uint64_t)timeout_ns ? 0 : timeout_ns - (int64_t)spent;
}
