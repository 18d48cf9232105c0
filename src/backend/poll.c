/*
 * The poll backend: portable POSIX, always built (so on Linux the whole fd suite runs against
 * it as well as epoll). The interest set is a dense pollfd array handed to the kernel as is;
 * a table indexed by fd number finds an fd's slot in O(1), and removal moves the last slot
 * into the hole. wait costs O(registered) per call, which is why epoll is the default.
 *
 * Unlike epoll, poll() sees a closed fd: it reports POLLNVAL, passed on as EVL__BE_INVALID.
 */
#include "backend/backend.h"
#include "base/clock.h"

#include "evl/errno.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#define POLL_MIN_CAP 64
#define NO_SLOT      UINT32_MAX

struct poll_state {
    struct evl_loop *loop;
    const struct evl__sys *sys;
    struct pollfd *pfds; /* n used of cap */
    uint64_t *tags;      /* parallel to pfds */
    uint32_t n;
    uint32_t cap;
    uint32_t *slot; /* fd -> index in pfds, or NO_SLOT; slot_cap entries */
    uint32_t slot_cap;
    struct evl__backend_event *out; /* out_cap entries, grown only by wait */
    uint32_t out_cap;
};

static void poll_backend_free(void *state)
{
    struct poll_state *s = state;
    if (!s) {
        return;
    }
    evl__backend_release(s->loop, s->pfds);
    evl__backend_release(s->loop, s->tags);
    evl__backend_release(s->loop, s->slot);
    evl__backend_release(s->loop, s->out);
    evl__backend_release(s->loop, s);
}

static int grow_sets(struct poll_state *s, uint32_t cap)
{
    struct pollfd *pfds = evl__backend_realloc(s->loop, s->pfds, cap * sizeof(*pfds));
    if (!pfds) {
        return EVL_ENOMEM;
    }
    s->pfds = pfds;
    uint64_t *tags = evl__backend_realloc(s->loop, s->tags, cap * sizeof(*tags));
    if (!tags) {
        return EVL_ENOMEM;
    }
    s->tags = tags;
    s->cap = cap;
    return 0;
}

static int grow_slots(struct poll_state *s, uint32_t fd)
{
    uint32_t cap = s->slot_cap ? s->slot_cap : POLL_MIN_CAP;
    while (cap <= fd) {
        cap *= 2;
    }
    uint32_t *slot = evl__backend_realloc(s->loop, s->slot, cap * sizeof(*slot));
    if (!slot) {
        return EVL_ENOMEM;
    }
    for (uint32_t i = s->slot_cap; i < cap; i++) {
        slot[i] = NO_SLOT;
    }
    s->slot = slot;
    s->slot_cap = cap;
    return 0;
}

static int grow_out(struct poll_state *s, uint32_t cap)
{
    struct evl__backend_event *out = evl__backend_realloc(s->loop, s->out, cap * sizeof(*out));
    if (!out) {
        return EVL_ENOMEM;
    }
    s->out = out;
    s->out_cap = cap;
    return 0;
}

static int poll_init(void **state, struct evl_loop *loop)
{
    struct poll_state *s = evl__backend_realloc(loop, NULL, sizeof(*s));
    if (!s) {
        return EVL_ENOMEM;
    }
    *s = (struct poll_state){.loop = loop, .sys = evl__backend_sys(loop)};
    if (grow_sets(s, POLL_MIN_CAP) != 0 || grow_slots(s, 0) != 0 ||
        grow_out(s, POLL_MIN_CAP) != 0) {
        poll_backend_free(s);
        return EVL_ENOMEM;
    }
    *state = s;
    return 0;
}

static short to_poll(uint32_t events)
{
    short e = 0;
    if (events & EVL_READABLE) {
        e |= POLLIN;
    }
    if (events & EVL_WRITABLE) {
        e |= POLLOUT;
    }
    return e;
}

static uint32_t from_poll(short e)
{
    uint32_t events = 0;
    if (e & (POLLIN | POLLPRI)) {
        events |= EVL_READABLE;
    }
    if (e & POLLOUT) {
        events |= EVL_WRITABLE;
    }
    if (e & POLLERR) {
        events |= EVL_ERROR;
    }
    if (e & POLLHUP) {
        events |= EVL_HANGUP;
    }
    if (e & POLLNVAL) {
        events |= EVL_ERROR | EVL__BE_INVALID;
    }
    return events;
}

static uint32_t find(const struct poll_state *s, int fd)
{
    if (fd < 0 || (uint32_t)fd >= s->slot_cap) {
        return NO_SLOT;
    }
    return s->slot[fd];
}

static int poll_add(void *state, int fd, uint32_t events, uint64_t tag)
{
    struct poll_state *s = state;
    if (fd < 0) {
        return EVL_EBADF;
    }
    if (find(s, fd) != NO_SLOT) {
        return EVL_EEXIST;
    }
    if ((uint32_t)fd >= s->slot_cap && grow_slots(s, (uint32_t)fd) != 0) {
        return EVL_ENOMEM;
    }
    if (s->n == s->cap && grow_sets(s, s->cap * 2) != 0) {
        return EVL_ENOMEM;
    }
    s->pfds[s->n] = (struct pollfd){.fd = fd, .events = to_poll(events), .revents = 0};
    s->tags[s->n] = tag;
    s->slot[fd] = s->n;
    s->n++;
    return 0;
}

static int poll_modify(void *state, int fd, uint32_t events, uint64_t tag)
{
    struct poll_state *s = state;
    uint32_t i = find(s, fd);
    if (i == NO_SLOT) {
        return EVL_ENOENT;
    }
    s->pfds[i].events = to_poll(events);
    s->tags[i] = tag;
    return 0;
}

static int poll_remove(void *state, int fd)
{
    struct poll_state *s = state;
    uint32_t i = find(s, fd);
    if (i == NO_SLOT) {
        return EVL_ENOENT;
    }
    uint32_t last = s->n - 1;
    if (i != last) {
        s->pfds[i] = s->pfds[last];
        s->tags[i] = s->tags[last];
        s->slot[s->pfds[i].fd] = i;
    }
    s->slot[fd] = NO_SLOT;
    s->n = last;
    return 0;
}

static int poll_backend_wait(void *state, int64_t timeout_ns,
                             const struct evl__backend_event **events)
{
    struct poll_state *s = state;
    if (s->n > s->out_cap) {
        uint32_t cap = s->out_cap;
        while (cap < s->n) {
            cap *= 2;
        }
        /* On failure the batch is cut at out_cap; the rest stays ready for the next wait. */
        (void)grow_out(s, cap);
    }
    uint64_t start = timeout_ns > 0 ? evl__monotonic_ns() : 0;
    int rc;
    for (;;) {
#if defined(__linux__)
        struct timespec ts;
        const struct timespec *tsp = NULL;
        if (timeout_ns >= 0) {
            ts.tv_sec = (time_t)(timeout_ns / 1000000000);
            ts.tv_nsec = (long)(timeout_ns % 1000000000);
            tsp = &ts;
        }
        rc = s->sys->ppoll(s->pfds, (nfds_t)s->n, tsp, NULL);
#else
        rc = s->sys->poll(s->pfds, (nfds_t)s->n, evl__backend_timeout_ms(timeout_ns));
#endif
        if (rc >= 0) {
            break;
        }
        if (errno != EINTR) {
            return evl_err_from_errno(errno); /* ENOMEM, EINVAL (nfds over RLIMIT_NOFILE) */
        }
        timeout_ns = evl__backend_remaining(timeout_ns, start);
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n && rc > 0 && k < s->out_cap; i++) {
        if (s->pfds[i].revents == 0) {
            continue;
        }
        s->out[k].tag = s->tags[i];
        s->out[k].events = from_poll(s->pfds[i].revents);
        k++;
        rc--;
    }
    *events = s->out;
    return (int)k;
}

const struct evl__backend_ops evl__backend_poll = {
    .name = "poll",
    .kind = EVL_BACKEND_POLL,
    .init = poll_init,
    .free = poll_backend_free,
    .add = poll_add,
    .modify = poll_modify,
    .remove = poll_remove,
    .check = NULL, /* poll cannot tell until the next wait reports POLLNVAL */
    .wait = poll_backend_wait,
    .pollable_fd = NULL, /* a poll set has no fd of its own */
};
