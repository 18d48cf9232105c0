/*
 * The epoll backend (Linux default). The kernel keeps the interest set, so add/modify/remove
 * are one epoll_ctl each and wait costs O(ready), not O(registered). The tag rides in
 * epoll_event.data.u64.
 *
 * The catch (docs/platforms.md): epoll watches open file descriptions, not fd numbers. A
 * closed fd disappears from the set silently (no event), unless a dup of it is still open,
 * in which case it keeps reporting under the old number. Callers detect what they can:
 * epoll_ctl on a closed fd fails with EBADF/ENOENT, which modify and remove report.
 */
#if defined(__linux__)

#include "backend/backend.h"
#include "base/clock.h"

#include "evl/errno.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

/* The most events one wait collects; the rest stay ready for the next wait (level-triggered,
 * and the kernel rotates its ready list, so no fd starves). */
#define EPOLL_MAX_BATCH 1024
#define EPOLL_MIN_BATCH 64

/* Kept out of the wait's fast path (Linux builds with GCC or Clang). */
#define EPOLL_RARE __attribute__((noinline, cold))

struct epoll_state {
    struct evl_loop *loop;
    const struct evl__sys *sys;
    int epfd;
    uint32_t count; /* fds added */
    uint32_t cap;   /* capacity of evs and out */
    struct epoll_event *evs;
    struct evl__backend_event *out;
};

static int epoll_grow(struct epoll_state *s, uint32_t cap)
{
    struct epoll_event *evs = evl__backend_realloc(s->loop, s->evs, cap * sizeof(*evs));
    if (!evs) {
        return EVL_ENOMEM;
    }
    s->evs = evs;
    struct evl__backend_event *out = evl__backend_realloc(s->loop, s->out, cap * sizeof(*out));
    if (!out) {
        return EVL_ENOMEM;
    }
    s->out = out;
    s->cap = cap;
    return 0;
}

static void epoll_backend_free(void *state)
{
    struct epoll_state *s = state;
    if (!s) {
        return;
    }
    if (s->epfd >= 0) {
        close(s->epfd);
    }
    evl__backend_release(s->loop, s->evs);
    evl__backend_release(s->loop, s->out);
    evl__backend_release(s->loop, s);
}

static int epoll_init(void **state, struct evl_loop *loop)
{
    struct epoll_state *s = evl__backend_realloc(loop, NULL, sizeof(*s));
    if (!s) {
        return EVL_ENOMEM;
    }
    s->loop = loop;
    s->sys = evl__backend_sys(loop);
    s->count = 0;
    s->cap = 0;
    s->evs = NULL;
    s->out = NULL;
    s->epfd = s->sys->epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int rc = evl_err_from_errno(errno); /* EMFILE, ENFILE, ENOMEM */
        epoll_backend_free(s);
        return rc;
    }
    int rc = epoll_grow(s, EPOLL_MIN_BATCH);
    if (rc != 0) {
        epoll_backend_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static uint32_t to_epoll(uint32_t events)
{
    uint32_t e = 0;
    if (events & EVL_READABLE) {
        e |= EPOLLIN;
    }
    if (events & EVL_WRITABLE) {
        e |= EPOLLOUT;
    }
    return e;
}

/* The evl flags are the epoll bits shifted: IN|PRI -> READABLE, OUT -> WRITABLE, ERR -> ERROR,
 * HUP|RDHUP -> HANGUP, without a branch per flag (this runs for every ready fd). */
_Static_assert(EPOLLIN == 0x1 && EPOLLPRI == 0x2 && EPOLLOUT == 0x4 && EPOLLERR == 0x8 &&
                   EPOLLHUP == 0x10 && EPOLLRDHUP == 0x2000,
               "epoll bits moved");
_Static_assert(EVL_READABLE == 1 && EVL_WRITABLE == 2 && EVL_ERROR == 4 && EVL_HANGUP == 8,
               "evl event bits moved");
static inline uint32_t from_epoll(uint32_t e)
{
    return (e & EPOLLIN) | ((e >> 1) & 0xfu) | ((e >> 10) & EVL_HANGUP);
}

/* epoll_ctl's errno as an evl code. The ones io.c acts on keep their evl codes (EVL_EBADF,
 * EVL_ENOENT, EVL_EEXIST); the rest keep the kernel's reason as a system code, e.g. EPERM for
 * a regular file or directory, which epoll cannot watch. */
static int ctl_error(int err)
{
    switch (err) {
    case EBADF:
        return EVL_EBADF;
    case ENOENT:
        return EVL_ENOENT;
    case EEXIST:
        return EVL_EEXIST;
    case ENOMEM:
        return EVL_ENOMEM;
    case ENOSPC:
        return EVL_ELIMIT; /* /proc/sys/fs/epoll/max_user_watches */
    default:
        return evl_err_from_errno(err);
    }
}

static int epoll_add(void *state, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_state *s = state;
    struct epoll_event ev = {.events = to_epoll(events), .data = {.u64 = tag}};
    if (s->sys->epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return ctl_error(errno);
    }
    s->count++;
    return 0;
}

static int epoll_modify(void *state, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_state *s = state;
    struct epoll_event ev = {.events = to_epoll(events), .data = {.u64 = tag}};
    if (s->sys->epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) {
        return ctl_error(errno);
    }
    return 0;
}

static int epoll_remove(void *state, int fd)
{
    struct epoll_state *s = state;
    /* A non-NULL event keeps kernels before 2.6.9 happy; it is ignored. */
    struct epoll_event ev = {.events = 0, .data = {.u64 = 0}};
    s->count--;
    if (s->sys->epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &ev) != 0) {
        /* EBADF: closed already (the kernel dropped it). ENOENT: closed and the number
         * reused by another file. Either way nothing is left to remove. */
        return EVL_EBADF;
    }
    return 0;
}

/* epoll keys its entries by (fd number, open file): re-asserting the same interest fails
 * with ENOENT when the number now names another file, EBADF when it names nothing. */
static int epoll_check(void *state, int fd, uint32_t events, uint64_t tag)
{
    int rc = epoll_modify(state, fd, events, tag);
    return rc == EVL_ENOENT || rc == EVL_EBADF ? EVL_EBADF : 0;
}

/* Room for every registered fd up to the batch cap; a failed grow keeps the old room. */
static EPOLL_RARE void epoll_make_room(struct epoll_state *s)
{
    uint32_t want = s->count < EPOLL_MAX_BATCH ? s->count : EPOLL_MAX_BATCH;
    uint32_t cap = s->cap;
    while (cap < want) {
        cap *= 2;
    }
    (void)epoll_grow(s, cap > EPOLL_MAX_BATCH ? EPOLL_MAX_BATCH : cap);
}

/* A wait that a signal interrupted: again, with what is left of timeout_ns since start_ns. */
static EPOLL_RARE int epoll_wait_again(struct epoll_state *s, int64_t timeout_ns, uint64_t start_ns)
{
    for (;;) {
        if (errno != EINTR) {
            return evl_err_from_errno(errno);
        }
        timeout_ns = evl__backend_remaining(timeout_ns, start_ns);
        int n =
            s->sys->epoll_wait(s->epfd, s->evs, (int)s->cap, evl__backend_timeout_ms(timeout_ns));
        if (n >= 0) {
            return n;
        }
    }
}

/* The rare cases (growing the batch, EINTR) are out of line: a busy loop calls this once per
 * iteration, mostly with timeout 0 and one ready fd. */
static int epoll_backend_wait(void *state, int64_t timeout_ns,
                              const struct evl__backend_event **events)
{
    struct epoll_state *s = state;
    if (s->count > s->cap && s->cap < EPOLL_MAX_BATCH) {
        epoll_make_room(s);
    }
    uint64_t start = timeout_ns > 0 ? evl__monotonic_ns() : 0;
    int n = s->sys->epoll_wait(s->epfd, s->evs, (int)s->cap, evl__backend_timeout_ms(timeout_ns));
    if (n < 0) {
        n = epoll_wait_again(s, timeout_ns, start);
        if (n < 0) {
            return n;
        }
    }
    for (int i = 0; i < n; i++) {
        s->out[i].tag = s->evs[i].data.u64;
        s->out[i].events = from_epoll(s->evs[i].events);
    }
    *events = s->out;
    return n;
}

static int epoll_pollable_fd(void *state)
{
    const struct epoll_state *s = state;
    return s->epfd;
}

const struct evl__backend_ops evl__backend_epoll = {
    .name = "epoll",
    .kind = EVL_BACKEND_EPOLL,
    .init = epoll_init,
    .free = epoll_backend_free,
    .add = epoll_add,
    .modify = epoll_modify,
    .remove = epoll_remove,
    .check = epoll_check,
    .wait = epoll_backend_wait,
    .pollable_fd = epoll_pollable_fd,
};

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int evl__epoll_not_built;
#endif
