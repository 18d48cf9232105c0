/*
 * File-descriptor readiness: the public fd API, the loop's I/O hooks and state (io.h,
 * struct evl_loop's member `io`) and the fast-path switch.
 *
 * Registrations live in a table indexed by fd number (one registration per fd). Each start
 * takes a fresh 32-bit generation, and the backend tag of a registration is
 * (generation << 32 | fd): an event collected for a registration that was stopped meanwhile
 * (even if the same fd was registered again by a callback of the same batch) carries an old
 * generation and is dropped. That is what makes evl_fd_stop synchronous.
 *
 * Fast path: with no registration the loop sleeps on its own wake-up primitive, which is
 * cheaper than any poller. The backend instance is created by the first registration ever
 * and kept until teardown (re-creating an epoll fd for each short-lived registration would
 * cost more than it saves), but loop->io.hooks, the pointer that routes the poll phase to
 * it, is set only while at least one fd is registered.
 */
#include "core/io/io.h"

#include "core/context/context_internal.h"
#include "core/loop_state.h"
#include "core/metrics/metrics_internal.h"
#include "core/overload/overload.h"

#include "backend/backend.h"
#include "evl/io.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>

/* The wake-up fd's tag: generation 0 is never given to a registration. */
#define IO_WAKE_TAG ((uint64_t)UINT32_MAX)
#define IO_MIN_REGS 64

struct io_reg {
    evl_fd_cb cb;
    void *arg;
    struct evl_context_frame *frame; /* captured at start (+1), current around callbacks */
    uint64_t timer_id;               /* pending evl_fd_start_timeout timer, or 0 */
    uint32_t gen;                    /* 0: no registration */
    uint8_t events;                  /* interest: EVL_READABLE | EVL_WRITABLE */
    uint8_t ref;                     /* keeps the loop alive */
};

/* A registration found dead (its fd closed and the number reused) whose owner still has to
 * hear EVL_EBADF from the pending phase. */
struct io_stale {
    evl_fd_cb cb;
    void *arg;
    struct evl_context_frame *frame; /* the registration's (+1) */
    int fd;
};

struct evl__io {
    const struct evl__backend_ops *ops;
    void *be;
    struct io_reg *regs; /* indexed by fd; cap entries */
    uint32_t cap;
    uint32_t count;         /* registrations */
    uint32_t gen;           /* last generation handed out */
    struct io_stale *stale; /* owners to notify; nstale of stale_cap */
    uint32_t nstale;
    uint32_t stale_cap;
    bool embedded; /* a host polls the backend fd: the poll phase always goes through it */
    bool rebuild;  /* a retired registration's file may linger in the kernel's set */
};

static inline uint64_t make_tag(uint32_t gen, int fd)
{
    return ((uint64_t)gen << 32) | (uint32_t)fd;
}

static int io_wait(struct evl_loop *loop, int64_t timeout_ns);
static void io_teardown(struct evl_loop *loop);

static const struct evl__io_hooks io_hooks = {
    .wait = io_wait,
    .teardown = io_teardown,
};

/* ---- backend names -------------------------------------------------------------------------- */

const char *evl_backend_name(enum evl_backend_kind kind)
{
    switch (kind) {
    case EVL_BACKEND_DEFAULT:
        return "default";
    case EVL_BACKEND_EPOLL:
        return "epoll";
    case EVL_BACKEND_POLL:
        return "poll";
    }
    return "unknown";
}

int evl_backend_parse(const char *name, enum evl_backend_kind *out)
{
    if (!out) {
        return EVL_EINVAL;
    }
    enum evl_backend_kind kind;
    if (!name || name[0] == '\0' || strcmp(name, "default") == 0) {
        kind = EVL_BACKEND_DEFAULT;
    } else if (strcmp(name, "epoll") == 0) {
        kind = EVL_BACKEND_EPOLL;
    } else if (strcmp(name, "poll") == 0) {
        kind = EVL_BACKEND_POLL;
    } else {
        return EVL_EINVAL;
    }
    if (!evl__backend_get(kind)) {
        return EVL_ENOSYS;
    }
    *out = kind;
    return 0;
}

enum evl_backend_kind evl_loop_backend(const struct evl_loop *loop)
{
    if (!loop) {
        return EVL_BACKEND_DEFAULT;
    }
    const struct evl__backend_ops *ops = evl__backend_get(loop->backend);
    return ops ? ops->kind : loop->backend;
}

/* ---- creation and teardown ------------------------------------------------------------------ */

static void io_destroy(struct evl_loop *loop)
{
    struct evl__io *io = loop->io.impl;
    if (!io) {
        return;
    }
    if (io->be) {
        io->ops->free(io->be);
    }
    /* Registrations dropped without callbacks still release their captured contexts. */
    for (uint32_t i = 0; i < io->cap; i++) {
        if (io->regs[i].gen != 0) {
            evl_context_release(loop, io->regs[i].frame);
        }
    }
    for (uint32_t i = 0; i < io->nstale; i++) {
        evl_context_release(loop, io->stale[i].frame);
    }
    evl__loop_free(loop, io->regs);
    evl__loop_free(loop, io->stale);
    evl__loop_free(loop, io);
    loop->io.impl = NULL;
    loop->io.hooks = NULL;
    loop->io.refs = 0;
}

/* Teardown: registrations are dropped without callbacks, like timers (their fds stay the
 * caller's to close). */
static void io_teardown(struct evl_loop *loop)
{
    io_destroy(loop);
}

static void io_teardown_hook(struct evl_loop *loop, void *arg)
{
    (void)arg;
    io_destroy(loop);
}

static int io_create(struct evl_loop *loop, struct evl__io **out)
{
    const struct evl__backend_ops *ops = evl__backend_get(loop->backend);
    if (!ops) {
        return EVL_ENOSYS;
    }
    struct evl__io *io = evl__loop_malloc(loop, sizeof(*io));
    if (!io) {
        return EVL_ENOMEM;
    }
    memset(io, 0, sizeof(*io));
    io->ops = ops;
    int rc = ops->init(&io->be, loop);
    if (rc != 0) {
        goto fail_free_io;
    }
    /* The wake-up fd is in the set for the backend's whole life; the loop's own fast-path
     * wait on the same fd, when no registration exists, does not disturb it. */
    rc = ops->add(io->be, evl__wakeup_fd(loop), EVL_READABLE, IO_WAKE_TAG);
    if (rc != 0) {
        goto fail_free_backend;
    }
    rc = evl__loop_at_teardown(loop, io_teardown_hook, NULL);
    if (rc != 0) {
        goto fail_free_backend;
    }
    loop->io.impl = io;
    *out = io;
    return 0;

fail_free_backend:
    ops->free(io->be);
fail_free_io:
    evl__loop_free(loop, io);
    return rc;
}

int evl__io_embed(struct evl_loop *loop)
{
    struct evl__io *io = loop->io.impl;
    if (!io) {
        int rc = io_create(loop, &io);
        if (rc != 0) {
            return rc;
        }
    }
    if (!io->ops->pollable_fd) {
        return EVL_ENOSYS;
    }
    /* The backend fd reports the wake-up fd and the registered fds, but only a wait on the
     * backend drains them: from now on the poll phase always waits there. */
    io->embedded = true;
    loop->io.hooks = &io_hooks;
    return io->ops->pollable_fd(io->be);
}

static int grow_regs(struct evl_loop *loop, struct evl__io *io, int fd)
{
    uint32_t cap = io->cap ? io->cap : IO_MIN_REGS;
    while (cap <= (uint32_t)fd) {
        cap *= 2;
    }
    struct io_reg *regs = evl__loop_realloc(loop, io->regs, cap * sizeof(*regs));
    if (!regs) {
        return EVL_ENOMEM;
    }
    memset(regs + io->cap, 0, (cap - io->cap) * sizeof(*regs));
    io->regs = regs;
    io->cap = cap;
    return 0;
}

/* ---- registrations -------------------------------------------------------------------------- */

static int check_loop(const struct evl_loop *loop)
{
    if (!loop) {
        return EVL_EINVAL;
    }
    if (!evl__loop_on_thread(loop)) {
        return EVL_EPERM;
    }
    return 0;
}

/* The registration for fd, or NULL. */
static struct io_reg *find_reg(const struct evl_loop *loop, int fd)
{
    const struct evl__io *io = loop->io.impl;
    if (!io || fd < 0 || (uint32_t)fd >= io->cap || io->regs[fd].gen == 0) {
        return NULL;
    }
    return &io->regs[fd];
}

/* Ends a registration: after this no event for it is delivered (generation 0). */
static void reg_stop(struct evl_loop *loop, struct evl__io *io, int fd)
{
    struct io_reg *reg = &io->regs[fd];
    if (reg->timer_id) {
        (void)evl_timer_clear(loop, reg->timer_id);
    }
    if (io->ops->remove(io->be, fd) == EVL_EBADF) {
        evl_log(loop, EVL_LOG_DEBUG, "io",
                "fd %d was closed before its registration was stopped (%s dropped it)", fd,
                io->ops->name);
    }
    if (reg->ref) {
        loop->io.refs--;
    }
    /* A callback running for this registration holds its own reference (call_fd_cb). */
    evl_context_release(loop, reg->frame);
    memset(reg, 0, sizeof(*reg));
    io->count--;
    if (io->count == 0 && !io->embedded) {
        loop->io.hooks = NULL;
        evl_log(loop, EVL_LOG_DEBUG, "io",
                "poll phase switched to the fast-path sleep: last fd registration removed "
                "(fd %d)",
                fd);
    }
}

static void timeout_fired(struct evl_loop *loop, uint64_t id, void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct io_reg *reg = find_reg(loop, fd);
    if (!reg || reg->timer_id != id) {
        return; /* stopped, or a newer registration of the same fd */
    }
    evl_fd_cb cb = reg->cb;
    void *cb_arg = reg->arg;
    struct evl_context_frame *frame = evl_context_retain(reg->frame);
    reg->timer_id = 0; /* fired: nothing to clear */
    reg_stop(loop, loop->io.impl, fd);
    /* The timer phase counts the depth and runs the checkpoint around this callback. */
    struct evl__context_bracket cx;
    evl__context_bracket_enter(loop, frame, &cx);
    cb(loop, fd, EVL_ETIMEDOUT, 0, cb_arg);
    evl__context_bracket_leave(loop, &cx);
    evl_context_release(loop, frame);
}

/* Moves every registration (and the wake-up fd) to a new backend instance, leaving behind
 * entries the old one holds for files closed under live registrations. On failure the old
 * instance stays, which is only slower. */
static EVL__NOINLINE void io_rebuild(struct evl_loop *loop, struct evl__io *io)
{
    io->rebuild = false;
    void *be = NULL;
    int rc = io->ops->init(&be, loop);
    if (rc == 0) {
        rc = io->ops->add(be, evl__wakeup_fd(loop), EVL_READABLE, IO_WAKE_TAG);
    }
    for (uint32_t fd = 0; rc == 0 && fd < io->cap; fd++) {
        const struct io_reg *reg = &io->regs[fd];
        if (reg->gen != 0) {
            rc = io->ops->add(be, (int)fd, reg->events, make_tag(reg->gen, (int)fd));
            if (rc == EVL_EBADF) {
                rc = 0; /* closed under its registration: the old set had dropped it too */
            }
        }
    }
    if (rc != 0) {
        if (be) {
            io->ops->free(be);
        }
        evl_log(loop, EVL_LOG_WARN, "io", "could not rebuild the %s set: %s", io->ops->name,
                evl_strerror(rc));
        return;
    }
    io->ops->free(io->be);
    io->be = be;
}

/* Pending phase: tells the owners of registrations retired by retire_stale(), after moving
 * to a fresh set if asked (here no wait's batch is being walked, so the old instance and
 * its event array can go). */
static void notify_stale(struct evl_loop *loop, void *arg)
{
    (void)arg;
    struct evl__io *io = loop->io.impl;
    if (io && io->rebuild) {
        io_rebuild(loop, io);
    }
    /* Index loop: a callback may retire more (appending, maybe moving the array). */
    for (uint32_t i = 0; io && i < io->nstale; i++) {
        struct io_stale note = io->stale[i];
        io->stale[i].frame = NULL; /* this note's reference is released below */
        struct evl__context_bracket cx;
        evl__loop_enter_callback(loop);
        evl__context_bracket_enter(loop, note.frame, &cx);
        note.cb(loop, note.fd, EVL_EBADF, EVL_ERROR, note.arg);
        evl__context_bracket_leave(loop, &cx);
        evl__loop_leave_callback(loop);
        evl_context_release(loop, note.frame);
        evl__loop_checkpoint(loop);
        io = loop->io.impl;
    }
    if (io) {
        io->nstale = 0;
    }
}

/*
 * fd is registered already. Returns EVL_EEXIST if that registration is alive; if the backend
 * can tell that the registered file was closed and the number reused (epoll), retires the
 * dead registration, queues EVL_EBADF for its owner (pending phase) and returns 0.
 */
static int retire_stale(struct evl_loop *loop, struct evl__io *io, int fd)
{
    struct io_reg *reg = &io->regs[fd];
    if (!io->ops->check || io->ops->check(io->be, fd, reg->events, make_tag(reg->gen, fd)) == 0) {
        return EVL_EEXIST;
    }
    if (io->nstale == io->stale_cap) {
        uint32_t cap = io->stale_cap ? io->stale_cap * 2 : 4;
        struct io_stale *st = evl__loop_realloc(loop, io->stale, cap * sizeof(*st));
        if (!st) {
            return EVL_ENOMEM;
        }
        io->stale = st;
        io->stale_cap = cap;
    }
    if (io->nstale == 0) {
        int rc = evl__loop_defer_pending(loop, notify_stale, NULL);
        if (rc != 0) {
            return rc;
        }
    }
    io->stale[io->nstale].cb = reg->cb;
    io->stale[io->nstale].arg = reg->arg;
    io->stale[io->nstale].frame = evl_context_retain(reg->frame);
    io->stale[io->nstale].fd = fd;
    io->nstale++;
    evl_log(loop, EVL_LOG_WARN, "io",
            "fd %d was closed without evl_fd_stop and its number reused; the old registration "
            "is stopped and gets EVL_EBADF",
            fd);
    reg_stop(loop, io, fd);
    /* epoll keeps the old file in its set while a dup of it is open elsewhere, under a
     * number that now names another file, so no remove can reach it: its readiness would
     * wake every wait for nothing. notify_stale moves to a fresh set first. */
    io->rebuild = !io->embedded;
    return 0;
}

static int fd_start(struct evl_loop *loop, int fd, unsigned events, int with_timeout,
                    uint64_t timeout_ms, evl_fd_cb cb, void *arg)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (!cb || events == 0 || (events & ~(unsigned)(EVL_READABLE | EVL_WRITABLE)) != 0) {
        return EVL_EINVAL;
    }
    if (atomic_load_explicit(&loop->state, memory_order_relaxed) >= EVL_LOOP_TERMINATING ||
        evl__loop_tearing_down(loop) || evl__loop_admission_closed(loop)) {
        return EVL_ECLOSED;
    }
    if (with_timeout && timeout_ms > EVL_TIMER_DELAY_MAX) {
        return EVL_ERANGE;
    }
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        return EVL_EBADF;
    }
    struct evl__io *io = loop->io.impl;
    if (find_reg(loop, fd)) {
        rc = retire_stale(loop, io, fd);
        if (rc != 0) {
            return rc;
        }
    }
    uint32_t lim = evl__budget_limit(&loop->budgets, EVL__LIMIT_FDS);
    if (lim && io && io->count >= lim) {
        return evl__loop_limit_hit(loop, EVL__LIMIT_FDS);
    }
    if (!io) {
        rc = io_create(loop, &io);
        if (rc != 0) {
            return rc;
        }
    }
    if ((uint32_t)fd >= io->cap) {
        rc = grow_regs(loop, io, fd);
        if (rc != 0) {
            return rc;
        }
    }
    uint32_t gen = io->gen + 1;
    if (gen == 0) {
        gen = 1; /* 0 means "no registration" */
    }
    struct evl_context_frame *frame = NULL;
    rc = evl__context_capture_hot(loop, &frame);
    if (rc != 0) {
        return rc;
    }
    rc = io->ops->add(io->be, fd, events, make_tag(gen, fd));
    if (rc != 0) {
        evl_context_release(loop, frame);
        return rc;
    }
    uint64_t timer_id = 0;
    if (with_timeout) {
        rc = evl_timer_set(loop, timeout_fired, (void *)(intptr_t)fd, timeout_ms, 0, &timer_id);
        if (rc != 0) {
            (void)io->ops->remove(io->be, fd);
            evl_context_release(loop, frame);
            return rc;
        }
    }
    io->gen = gen;
    struct io_reg *reg = &io->regs[fd];
    reg->cb = cb;
    reg->arg = arg;
    reg->frame = frame;
    reg->timer_id = timer_id;
    reg->gen = gen;
    reg->events = (uint8_t)events;
    reg->ref = 1;
    loop->io.refs++;
    io->count++;
    if (io->count == 1) {
        loop->io.hooks = &io_hooks;
        evl_log(loop, EVL_LOG_DEBUG, "io",
                "poll phase switched to %s: first fd registration added (fd %d)", io->ops->name,
                fd);
    }
    return 0;
}

int evl_fd_start(struct evl_loop *loop, int fd, unsigned events, evl_fd_cb cb, void *arg)
{
    return fd_start(loop, fd, events, 0, 0, cb, arg);
}

int evl_fd_start_timeout(struct evl_loop *loop, int fd, unsigned events, uint64_t timeout_ms,
                         evl_fd_cb cb, void *arg)
{
    return fd_start(loop, fd, events, 1, timeout_ms, cb, arg);
}

int evl_fd_modify(struct evl_loop *loop, int fd, unsigned events)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (events == 0 || (events & ~(unsigned)(EVL_READABLE | EVL_WRITABLE)) != 0) {
        return EVL_EINVAL;
    }
    struct io_reg *reg = find_reg(loop, fd);
    if (!reg) {
        return EVL_ENOENT;
    }
    struct evl__io *io = loop->io.impl;
    rc = io->ops->modify(io->be, fd, events, make_tag(reg->gen, fd));
    if (rc == EVL_ENOENT) {
        rc = EVL_EBADF; /* the kernel forgot the fd: it was closed */
    }
    if (rc != 0) {
        return rc;
    }
    reg->events = (uint8_t)events;
    return 0;
}

int evl_fd_stop(struct evl_loop *loop, int fd)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    if (!find_reg(loop, fd)) {
        return EVL_ENOENT;
    }
    reg_stop(loop, loop->io.impl, fd);
    return 0;
}

static int set_ref(struct evl_loop *loop, int fd, int on)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    struct io_reg *reg = find_reg(loop, fd);
    if (!reg) {
        return EVL_ENOENT;
    }
    if (reg->ref == on) {
        return 0;
    }
    reg->ref = (uint8_t)on;
    if (on) {
        loop->io.refs++;
    } else {
        loop->io.refs--;
    }
    /* The timeout belongs to the registration: it keeps the loop alive only if that does. */
    if (reg->timer_id) {
        (void)(on ? evl_timer_ref(loop, reg->timer_id) : evl_timer_unref(loop, reg->timer_id));
    }
    return 0;
}

int evl_fd_ref(struct evl_loop *loop, int fd)
{
    return set_ref(loop, fd, 1);
}

int evl_fd_unref(struct evl_loop *loop, int fd)
{
    return set_ref(loop, fd, 0);
}

int evl_fd_active(const struct evl_loop *loop, int fd)
{
    int rc = check_loop(loop);
    if (rc != 0) {
        return rc;
    }
    return find_reg(loop, fd) != NULL;
}

/* ---- the poll phase ------------------------------------------------------------------------- */

/* Runs a callback the way the loop runs every callback: counted depth, then a checkpoint
 * (the inline test skips the call when nothing is queued and no hook listens). */
static inline void call_fd_cb(struct evl_loop *loop, evl_fd_cb cb, int fd, int status,
                              unsigned events, void *arg, struct evl_context_frame *frame)
{
    uint64_t mt = evl__loop_cb_enter(loop, EVL_METRICS_IO);
    struct evl__context_bracket cx;
    evl__context_bracket_enter(loop, frame, &cx);
    cb(loop, fd, status, events, arg);
    evl__context_bracket_leave(loop, &cx);
    evl__loop_cb_leave(loop, EVL_METRICS_IO, mt);
    evl__loop_after_callback(loop);
}

static int io_wait(struct evl_loop *loop, int64_t timeout_ns)
{
    struct evl__io *io = loop->io.impl;
    const struct evl__backend_event *evs = NULL;
    int n = io->ops->wait(io->be, timeout_ns, &evs);
    evl__loop_after_sleep(loop);
    evl__obs_wait_returned(loop); /* idle ends here, before the fd callbacks below */
    if (n < 0) {
        return n;
    }
    int called = 0;
    /* The batch budget matters only between callbacks: a batch of one (the common case of a
     * busy loop) never starts it. */
    struct evl__budget budget = {0};
    if (n > 1) {
        evl__budget_begin(loop, &budget, evl__budget_max_io(&loop->budgets),
                          evl__budget_max_io_ns(&loop->budgets), evl__budget_precise(loop));
    }
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].tag;
        if (tag == IO_WAKE_TAG) {
            evl__loop_wakeup_drain(loop);
            continue;
        }
        int fd = (int)(uint32_t)tag;
        uint32_t gen = (uint32_t)(tag >> 32);
        /* Re-read every time: callbacks may have grown the table or ended registrations. */
        if ((uint32_t)fd >= io->cap || io->regs[fd].gen != gen) {
            continue; /* stopped (or stopped and started again) since the batch was taken */
        }
        if (called == 0 && loop->io.ready_ns == 0) {
            loop->io.ready_ns = evl__monotonic_ns(); /* asked for: the adaptive spin's fd gap */
        }
        struct io_reg *reg = &io->regs[fd];
        evl_fd_cb cb = reg->cb;
        void *arg = reg->arg;
        uint32_t got = evs[i].events;
        if (got & EVL__BE_INVALID) {
            /* The fd was closed under a live registration (poll's POLLNVAL). It cannot
             * become ready again, and leaving it in the set would report it forever: stop
             * it, then tell its owner. */
            struct evl_context_frame *frame = evl_context_retain(reg->frame);
            reg_stop(loop, io, fd);
            call_fd_cb(loop, cb, fd, EVL_EBADF, EVL_ERROR, arg, frame);
            evl_context_release(loop, frame);
            called++;
        } else {
            unsigned flags = got & (reg->events | EVL_ERROR | EVL_HANGUP);
            if (flags == 0) {
                continue;
            }
            if (reg->timer_id) {
                (void)evl_timer_clear(loop, reg->timer_id);
                reg->timer_id = 0;
            }
            call_fd_cb(loop, cb, fd, 0, flags, arg, reg->frame);
            called++;
        }
        /* The rest stays ready (level-triggered) and is seen by the next wait; the batch
         * budget lets due timers run in between (epoll rotates its ready list, so the same
         * fds do not always come first). */
        if (i + 1 < n && (evl__loop_interrupted(loop) || evl__budget_spent(loop, &budget, 1))) {
            break;
        }
    }
    return called;
}

uint32_t evl__io_count(const struct evl_loop *loop)
{
    const struct evl__io *io = loop->io.impl;
    return io ? io->count : 0;
}
