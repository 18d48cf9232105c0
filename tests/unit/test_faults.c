/*
 * Fault injection at the backend seam (src/backend/sys.h): each loop here is created with
 * evl__loop_new_sys and a table of system calls that fail on demand, so the failures are
 * exact and touch nothing outside the loop. What every case proves: the call that met the
 * fault returns the error with the kernel's errno kept (EVL_ESYS(e), or the evl code io.c
 * documents for it), its callback never runs, nothing is half-registered, no block (the
 * tracking allocator) and no fd (/proc/self/fd) is leaked, and every accepted task is
 * accounted for. The EINTR storm uses real signals instead.
 *
 * The fault switches are this file's globals: each case runs in its own process.
 */
#include "test_fd_common.h"

#include "backend/sys.h"
#include "core/loop_state.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

/* ---- the faulty system calls ------------------------------------------------------------ */

struct faults {
    int eventfd_errno;      /* eventfd fails with it */
    int pipe_errno;         /* pipe fails with it */
    int epoll_create_errno; /* epoll_create1 fails with it */
    int ctl_errno;          /* epoll_ctl of op ctl_op fails with it ... */
    int ctl_op;             /* ... EPOLL_CTL_ADD/MOD/DEL */
    int ctl_spare_fd;       /* ... except for this fd (-1: none) */
    _Atomic int wait_fails; /* the next n epoll_wait/ppoll/poll calls fail ... */
    int wait_errno;         /* ... with this errno */
    _Atomic int saturate;   /* wake-up writes find the channel full (real EAGAIN) */
    _Atomic int wake_fd;    /* the wake-up write end, for saturate */
    int wake_is_pipe;       /* ... a pipe (else an eventfd) */
    _Atomic long eagain;    /* wake-up writes that got EAGAIN */
    _Atomic long writes;    /* wake-up writes */
    _Atomic long eintr;     /* waits that returned EINTR (real signals) */
    _Atomic long waits;     /* waits made */
};
static struct faults F = {.ctl_spare_fd = -1, .wake_fd = -1};

static int fail_with(int e)
{
    errno = e;
    return -1;
}

static int wait_fault(void)
{
    int n = atomic_load(&F.wait_fails);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&F.wait_fails, &n, n - 1)) {
            return 1;
        }
    }
    return 0;
}

static void count_wait(int rc)
{
    atomic_fetch_add(&F.waits, 1);
    if (rc < 0 && errno == EINTR) {
        atomic_fetch_add(&F.eintr, 1);
    }
}

static int f_eventfd(unsigned int v, int flags)
{
    return F.eventfd_errno ? fail_with(F.eventfd_errno) : eventfd(v, flags);
}

static int f_pipe(int p[2])
{
    return F.pipe_errno ? fail_with(F.pipe_errno) : pipe(p);
}

static int f_epoll_create1(int flags)
{
    return F.epoll_create_errno ? fail_with(F.epoll_create_errno) : epoll_create1(flags);
}

static int f_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    if (F.ctl_errno && op == F.ctl_op && fd != F.ctl_spare_fd) {
        return fail_with(F.ctl_errno);
    }
    return epoll_ctl(epfd, op, fd, ev);
}

static int f_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
    if (wait_fault()) {
        return fail_with(F.wait_errno);
    }
    int rc = epoll_wait(epfd, evs, max, timeout_ms);
    count_wait(rc);
    return rc;
}

static int f_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
    if (wait_fault()) {
        return fail_with(F.wait_errno);
    }
    int rc = ppoll(fds, n, ts, mask);
    count_wait(rc);
    return rc;
}

static int f_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    if (wait_fault()) {
        return fail_with(F.wait_errno);
    }
    int rc = poll(fds, n, timeout_ms);
    count_wait(rc);
    return rc;
}

/* Fills the channel first (an eventfd counter at its maximum, a pipe's buffer), so that the
 * write itself gets the kernel's own EAGAIN, with the channel readable as it must be. */
static void fill_channel(int fd)
{
    if (!F.wake_is_pipe) {
        /* The counter is 0 (then it is at its maximum after this) or at its maximum
         * already (then this write gets EAGAIN). */
        uint64_t big = UINT64_MAX - 1;
        ssize_t rc = write(fd, &big, sizeof(big));
        (void)rc;
        return;
    }
    static const char block[4096];
    while (write(fd, block, sizeof(block)) > 0) { /* a pipe: fill it */
    }
    while (write(fd, block, 1) > 0) {
    }
}

static ssize_t f_write(int fd, const void *buf, size_t n)
{
    if (fd == atomic_load(&F.wake_fd)) {
        atomic_fetch_add(&F.writes, 1);
        if (atomic_load(&F.saturate)) {
            fill_channel(fd);
        }
    }
    ssize_t rc = write(fd, buf, n);
    if (rc < 0 && errno == EAGAIN && fd == atomic_load(&F.wake_fd)) {
        atomic_fetch_add(&F.eagain, 1);
    }
    return rc;
}

static ssize_t f_read(int fd, void *buf, size_t n)
{
    return read(fd, buf, n);
}

static const struct evl__sys faulty = {
    .eventfd = f_eventfd,
    .epoll_create1 = f_epoll_create1,
    .epoll_ctl = f_epoll_ctl,
    .epoll_wait = f_epoll_wait,
    .ppoll = f_ppoll,
    .poll = f_poll,
    .pipe = f_pipe,
    .read = f_read,
    .write = f_write,
};

/* ---- helpers ---------------------------------------------------------------------------- */

/* Open fds of the process. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ASSERT_NOT_NULL(d);
    int n = 0;
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

/* Error-level records the loop logged (poll_error). */
static _Atomic int errors_logged;
static void log_cb(void *ud, int level, const char *component, const char *msg)
{
    (void)ud;
    (void)component;
    (void)msg;
    if (level >= EVL_LOG_ERROR) {
        atomic_fetch_add(&errors_logged, 1);
    }
}

static struct evl_loop *new_loop(enum evl_backend_kind backend)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.backend = backend;
    o.log = log_cb;
    o.log_level = EVL_LOG_ERROR;
    /* No spin: its non-blocking polls would take injected wait failures meant for the
     * blocking wait, and would make the count of sleeps depend on timing. */
    o.spin_ns = EVL_SPIN_OFF;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl__loop_new_sys(&loop, &o, &faulty));
    return loop;
}

static void free_loop(struct evl_loop *loop)
{
    ASSERT_OK(evl_loop_free(loop));
}

struct fd_seen {
    int calls;
    int status;
    unsigned events;
};

static void fd_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    struct fd_seen *s = arg;
    s->calls++;
    s->status = status;
    s->events = events;
}

static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    atomic_fetch_add((_Atomic long *)arg, 1);
}

static void count_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    atomic_fetch_add((_Atomic long *)arg + 1, 1); /* counters[1]: discarded */
}

static void count_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    ++*(int *)arg;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- creation failures ------------------------------------------------------------------- */

TEST(fault_loop_new_eventfd_fails)
{
    int fds = open_fds();
    uint64_t blocks = evl_test_live_blocks();
    F.eventfd_errno = EMFILE;
    struct evl_loop *loop = (struct evl_loop *)&F; /* must be reset to NULL */
    ASSERT_ERR(EVL_ESYS(EMFILE), evl__loop_new_sys(&loop, NULL, &faulty));
    ASSERT_NULL(loop);
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(open_fds(), fds);
    /* ENFILE and ENOMEM keep their errno too (no fall-back to a pipe: it would fail alike). */
    F.eventfd_errno = ENFILE;
    ASSERT_ERR(EVL_ESYS(ENFILE), evl__loop_new_sys(&loop, NULL, &faulty));
    F.eventfd_errno = ENOMEM;
    ASSERT_ERR(EVL_ESYS(ENOMEM), evl__loop_new_sys(&loop, NULL, &faulty));
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(open_fds(), fds);
}

/* A kernel without eventfd: the self-pipe takes over; when the pipe fails too, its errno is
 * the one reported. */
TEST(fault_loop_new_pipe_fallback_fails)
{
    int fds = open_fds();
    uint64_t blocks = evl_test_live_blocks();
    F.eventfd_errno = ENOSYS;
    F.pipe_errno = EMFILE;
    struct evl_loop *loop = NULL;
    ASSERT_ERR(EVL_ESYS(EMFILE), evl__loop_new_sys(&loop, NULL, &faulty));
    ASSERT_NULL(loop);
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(open_fds(), fds);
    /* With the pipe working, the loop runs on it: a task from another thread wakes it. */
    F.pipe_errno = 0;
    loop = new_loop(EVL_BACKEND_DEFAULT);
    ASSERT_EQ(open_fds(), fds + 2);
    ASSERT_TRUE(loop->wakeup.rfd != loop->wakeup.wfd);
    ASSERT_OK(evl_loop_ref(loop));
    _Atomic long ran[2] = {0, 0};
    ASSERT_OK(evl_loop_submit(loop, count_task, ran));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(ran[0], 1);
    ASSERT_OK(evl_loop_unref(loop));
    free_loop(loop);
    ASSERT_EQ(open_fds(), fds);
}

/* epoll_create1 runs at the first fd registration: that call (and evl_loop_backend_fd) fails
 * with its errno; nothing is left behind and a later registration works. */
TEST(fault_epoll_create_fails)
{
    struct evl_loop *loop = new_loop(EVL_BACKEND_EPOLL);
    int p[2];
    test_pipe(p);
    int fds = open_fds();
    uint64_t blocks = evl_test_live_blocks();
    F.epoll_create_errno = EMFILE;
    struct fd_seen s = {0};
    test_write1(p[1]);
    ASSERT_ERR(EVL_ESYS(EMFILE), evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    ASSERT_ERR(EVL_ESYS(EMFILE), evl_fd_start_timeout(loop, p[0], EVL_READABLE, 5, fd_cb, &s));
    ASSERT_ERR(EVL_ESYS(EMFILE), evl_loop_backend_fd(loop));
    F.epoll_create_errno = ENOMEM;
    ASSERT_ERR(EVL_ESYS(ENOMEM), evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(open_fds(), fds);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0); /* nothing keeps it alive */
    ASSERT_EQ(s.calls, 0);
    F.epoll_create_errno = 0;
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_UEQ(s.events, EVL_READABLE);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    free_loop(loop);
    close(p[0]);
    close(p[1]);
}

/* The signal module's event fd (an eventfd, else a pipe) cannot be created: evl_signal_start
 * fails with the errno, no handler is installed and nothing is left. */
static void signal_cb(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)signum;
    (void)count;
    *(int *)arg += 1;
    ASSERT_OK(evl_signal_stop(loop, id));
}

TEST(fault_signal_event_fd_fails)
{
    struct evl_loop *loop = new_loop(EVL_BACKEND_DEFAULT);
    int fds = open_fds();
    uint64_t blocks = evl_test_live_blocks();
    struct sigaction before, after;
    ASSERT_EQ(sigaction(SIGUSR1, NULL, &before), 0);
    F.eventfd_errno = EMFILE;
    F.pipe_errno = EMFILE;
    int calls = 0;
    uint64_t id = 0;
    ASSERT_ERR(EVL_ESYS(EMFILE), evl_signal_start(loop, SIGUSR1, signal_cb, &calls, &id));
    ASSERT_UEQ(id, 0);
    ASSERT_EQ(sigaction(SIGUSR1, NULL, &after), 0);
    ASSERT_PTR_EQ((void *)(uintptr_t)after.sa_handler, (void *)(uintptr_t)before.sa_handler);
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(open_fds(), fds);
    /* The event fd works, but the backend cannot be created (first fd registration). */
    F.eventfd_errno = 0;
    F.pipe_errno = 0;
    F.epoll_create_errno = ENFILE;
    int rc = evl_signal_start(loop, SIGUSR1, signal_cb, &calls, &id);
    if (evl_loop_backend(loop) == EVL_BACKEND_EPOLL) {
        ASSERT_ERR(EVL_ESYS(ENFILE), rc);
        ASSERT_UEQ(evl_test_live_blocks(), blocks);
        ASSERT_EQ(open_fds(), fds);
        ASSERT_EQ(sigaction(SIGUSR1, NULL, &after), 0);
        ASSERT_PTR_EQ((void *)(uintptr_t)after.sa_handler, (void *)(uintptr_t)before.sa_handler);
        F.epoll_create_errno = 0;
        ASSERT_OK(evl_signal_start(loop, SIGUSR1, signal_cb, &calls, &id));
    } else {
        ASSERT_OK(rc);
    }
    ASSERT_EQ(raise(SIGUSR1), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(calls, 1);
    free_loop(loop);
    ASSERT_EQ(open_fds(), fds - 1); /* the wake-up fd, open when fds was counted, is gone */
}

/* ---- epoll_ctl errors ------------------------------------------------------------------- */

/* epoll_ctl(ADD) refuses the fd: the start fails with the documented code, the callback
 * never runs, the fd is not registered (a retry is not EVL_EEXIST), no timeout timer is
 * left, and the loop is not kept alive. */
TEST(fault_epoll_ctl_add_fails)
{
    static const struct {
        int err;
        int code;
    } cases[] = {
        {EPERM, EVL_ESYS(EPERM)}, {ENOSPC, EVL_ELIMIT},       {ENOMEM, EVL_ENOMEM},
        {EBADF, EVL_EBADF},       {EINVAL, EVL_ESYS(EINVAL)},
    };
    struct evl_loop *loop = new_loop(EVL_BACKEND_EPOLL);
    int p[2];
    test_pipe(p);
    test_write1(p[1]);
    struct fd_seen s = {0};
    uint64_t blocks = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        F.ctl_op = EPOLL_CTL_ADD;
        F.ctl_errno = cases[i].err;
        /* The first pass meets the fault while creating the backend (the wake-up fd is
         * added first): the backend goes again, with its epoll fd. */
        int fds = open_fds();
        ASSERT_ERR(cases[i].code, evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
        ASSERT_ERR(cases[i].code, evl_fd_start_timeout(loop, p[0], EVL_READABLE, 1, fd_cb, &s));
        ASSERT_EQ(open_fds(), fds);
        ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
        ASSERT_FALSE(evl_loop_alive(loop));
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
        if (i == 0) {
            /* From here on the backend exists (the wake-up fd spared): only p[0] fails. */
            F.ctl_errno = 0;
            ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
            ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
            ASSERT_EQ(s.calls, 1);
            ASSERT_OK(evl_fd_stop(loop, p[0]));
            s.calls = 0;
            blocks = evl_test_live_blocks();
        } else {
            ASSERT_UEQ(evl_test_live_blocks(), blocks);
        }
        ASSERT_EQ(s.calls, 0);
    }
    F.ctl_errno = 0;
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_UEQ(s.events, EVL_READABLE);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    free_loop(loop);
    close(p[0]);
    close(p[1]);
}

/* epoll_ctl(MOD) fails: evl_fd_modify reports it and the registration keeps its old
 * interest; epoll_ctl(DEL) fails: evl_fd_stop still ends the registration (the loop is no
 * longer kept alive, no callback follows). */
TEST(fault_epoll_ctl_modify_and_remove_fail)
{
    struct evl_loop *loop = new_loop(EVL_BACKEND_EPOLL);
    int p[2];
    test_pipe(p);
    struct fd_seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    F.ctl_op = EPOLL_CTL_MOD;
    F.ctl_errno = ENOMEM;
    ASSERT_ERR(EVL_ENOMEM, evl_fd_modify(loop, p[0], EVL_READABLE | EVL_WRITABLE));
    F.ctl_errno = EPERM;
    ASSERT_ERR(EVL_ESYS(EPERM), evl_fd_modify(loop, p[0], EVL_WRITABLE));
    F.ctl_errno = 0;
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(s.calls, 0); /* still READABLE only: an empty pipe */
    test_write1(p[1]);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_UEQ(s.events, EVL_READABLE);
    F.ctl_op = EPOLL_CTL_DEL;
    F.ctl_errno = ENOMEM;
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    ASSERT_EQ(s.calls, 1);
    F.ctl_errno = 0;
    free_loop(loop);
    close(p[0]);
    close(p[1]);
}

/* ---- EINTR storm ------------------------------------------------------------------------- */

/* A thread signals the loop thread every 100 us for about a second while the loop sleeps on
 * timers and on a pipe that another thread writes now and then; tasks arrive from a third
 * thread. Every timer fires no earlier than its deadline and at most STORM_LATE_MS after it
 * (ten times that under valgrind), every fd write is seen, every task runs, and no call
 * fails. */
#define STORM_TIMERS  20
#define STORM_LATE_MS 100

struct storm {
    struct evl_loop *loop;
    pthread_t loop_thread;
    _Atomic int stop;
    _Atomic long signals;
    int p[2];
    int with_fd;
    _Atomic int writes;
    int reads;
    _Atomic long tasks[2];
    uint64_t start_ns;
    int fired;
    int64_t worst_late_ns;
    int64_t early_ns; /* the earliest a timer fired before its deadline (0: never) */
};

static void on_storm_signal(int sig)
{
    (void)sig;
}

static void *storm_signaller(void *arg)
{
    struct storm *st = arg;
    /* An absolute 100 us schedule with no timer slack: as close to 10,000 signals a second
     * as the machine's scheduler allows. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!atomic_load(&st->stop)) {
        pthread_kill(st->loop_thread, SIGUSR2);
        atomic_fetch_add(&st->signals, 1);
        next.tv_nsec += 100000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
    }
    return NULL;
}

static void *storm_writer(void *arg)
{
    struct storm *st = arg;
    for (int i = 0; i < 20 && !atomic_load(&st->stop); i++) {
        sleep_us(40000);
        char c = 'x';
        ASSERT_EQ(write(st->p[1], &c, 1), 1);
        atomic_fetch_add(&st->writes, 1);
        ASSERT_OK(evl_loop_submit(st->loop, count_task, (void *)(uintptr_t)st->tasks));
    }
    return NULL;
}

static void storm_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct storm *st = arg;
    st->fired++;
    uint64_t due = st->start_ns + (uint64_t)st->fired * 50 * 1000000u;
    int64_t late = (int64_t)(evl_loop_now_ns(loop) - due);
    if (late < 0 && late < st->early_ns) {
        st->early_ns = late;
    }
    if (late > st->worst_late_ns) {
        st->worst_late_ns = late;
    }
    if (st->fired == STORM_TIMERS) {
        if (st->with_fd) {
            ASSERT_OK(evl_fd_stop(loop, st->p[0]));
        }
        ASSERT_OK(evl_loop_unref(loop));
    }
}

static void storm_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)events;
    struct storm *st = arg;
    ASSERT_EQ(status, 0);
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        st->reads += (int)n;
    }
}

static void run_storm(enum evl_backend_kind backend, int with_fd)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_storm_signal; /* no SA_RESTART: every blocking call gets EINTR */
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGUSR2, &sa, &old), 0);
    struct storm st;
    memset(&st, 0, sizeof(st));
    st.loop = new_loop(backend);
    st.loop_thread = pthread_self();
    test_pipe(st.p);
    st.with_fd = with_fd;
    if (with_fd) {
        ASSERT_OK(evl_fd_start(st.loop, st.p[0], EVL_READABLE, storm_fd, &st));
    }
    ASSERT_OK(evl_loop_ref(st.loop)); /* held until the last timer, so the tasks all run */
    st.start_ns = evl_loop_now_ns(st.loop);
    for (int i = 1; i <= STORM_TIMERS; i++) {
        /* Each set measured from start_ns: the deadline is start + 50 ms * i or later. */
        uint64_t elapsed_ms = (evl_loop_now_ns(st.loop) - st.start_ns) / 1000000u;
        ASSERT_OK(evl_timer_set(st.loop, storm_timer, &st, (uint64_t)i * 50 - elapsed_ms, 0, NULL));
    }
    pthread_t sig_thread, writer;
    ASSERT_EQ(pthread_create(&sig_thread, NULL, storm_signaller, &st), 0);
    ASSERT_EQ(pthread_create(&writer, NULL, storm_writer, &st), 0);
    ASSERT_EQ(evl_loop_run(st.loop, EVL_RUN_DEFAULT), 0);
    atomic_store(&st.stop, 1);
    pthread_join(sig_thread, NULL);
    pthread_join(writer, NULL);
    /* Tasks submitted after the last timer still run: the writer is done now. */
    ASSERT_EQ(evl_loop_run(st.loop, EVL_RUN_DEFAULT), 0);
    fprintf(stderr, "storm: %ld signals, %ld of %ld waits interrupted, worst late %.3f ms\n",
            atomic_load(&st.signals), atomic_load(&F.eintr), atomic_load(&F.waits),
            (double)st.worst_late_ns / 1e6);
    ASSERT_EQ(st.fired, STORM_TIMERS);
    ASSERT_EQ(st.early_ns, 0);
    /* valgrind runs one thread at a time, and the signaller competes with the loop. */
    int64_t bound_ms = evl_test_under_valgrind() ? 10 * STORM_LATE_MS : STORM_LATE_MS;
    ASSERT_LT(st.worst_late_ns, bound_ms * 1000000);
    ASSERT_EQ(st.tasks[0], atomic_load(&st.writes));
    if (with_fd) {
        ASSERT_GT(st.reads, 0);
    }
    ASSERT_GT(atomic_load(&st.signals), 100);
    ASSERT_GT(atomic_load(&F.eintr), 0); /* the storm did reach the waits */
    ASSERT_EQ(atomic_load(&errors_logged), 0);
    free_loop(st.loop);
    close(st.p[0]);
    close(st.p[1]);
    ASSERT_EQ(sigaction(SIGUSR2, &old, NULL), 0);
}

BACKEND_TEST(fault_eintr_storm_fds_and_timers) /* labels: real-time */
{
    run_storm(test_backend(), 1);
}

/* No fd registered: the loop sleeps on its wake-up channel alone (the fast path). */
TEST(fault_eintr_storm_timers_only) /* labels: real-time */
{
    run_storm(EVL_BACKEND_DEFAULT, 0);
}

/* Injected EINTR on every wait for a while: the backends retry with the time left, so a
 * timer still fires once, on time, and nothing is reported. */
BACKEND_TEST(fault_eintr_injected_retries)
{
    struct evl_loop *loop = new_loop(test_backend());
    int p[2];
    test_pipe(p);
    struct fd_seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    ASSERT_OK(evl_fd_unref(loop, p[0]));
    F.wait_errno = EINTR;
    atomic_store(&F.wait_fails, 50);
    _Atomic long ran[2] = {0, 0};
    ASSERT_OK(evl_loop_submit(loop, count_task, ran));
    test_write1(p[1]);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_EQ(ran[0], 1);
    ASSERT_EQ(s.calls, 1); /* the wait was retried until it succeeded */
    ASSERT_EQ(atomic_load(&F.wait_fails), 0);
    ASSERT_EQ(atomic_load(&errors_logged), 0);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    free_loop(loop);
    close(p[0]);
    close(p[1]);
}

/* ---- closed and reused fds in the poll set ------------------------------------------------ */

/* Inside one batch: the first callback closes the second registration's fd without stopping
 * it and puts another file under the same number (dup2). The event already collected for
 * the old registration must not reach the new file's owner. epoll retires the dead
 * registration (its owner hears EVL_EBADF) and watches the new file; poll keeps watching
 * the number, so the new registration is EVL_EEXIST (docs/platforms.md). */
struct reuse {
    int a[2], b[2], c[2];
    int num; /* b[0]'s number, reused for c's read end */
    struct fd_seen sb, sc;
    int start_rc;
};

static void reuse_a(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct reuse *r = arg;
    char buf[8];
    ASSERT_EQ(read(fd, buf, sizeof(buf)), 1);
    if (r->start_rc != 1) {
        return; /* done once */
    }
    ASSERT_EQ(dup2(r->c[0], r->num), r->num); /* closes b[0]'s file: number reused */
    r->start_rc = evl_fd_start(loop, r->num, EVL_READABLE, fd_cb, &r->sc);
}

static void reuse_b(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    fd_cb(loop, fd, status, events, &((struct reuse *)arg)->sb);
}

BACKEND_TEST(fault_fd_reused_inside_a_batch)
{
    struct evl_loop *loop = new_loop(test_backend());
    struct reuse r;
    memset(&r, 0, sizeof(r));
    test_pipe(r.a);
    test_pipe(r.b);
    test_pipe(r.c);
    r.num = r.b[0];
    r.start_rc = 1;
    /* a's callback must come first in the batch: under epoll the order is the kernel's, so
     * the test registers a first and checks both orders' outcomes below. */
    ASSERT_OK(evl_fd_start(loop, r.a[0], EVL_READABLE, reuse_a, &r));
    ASSERT_OK(evl_fd_start(loop, r.num, EVL_READABLE, reuse_b, &r));
    test_write1(r.a[1]);
    test_write1(r.b[1]);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    int b_first = r.sb.calls == 1 && r.sb.status == 0;
    if (evl_loop_backend(loop) == EVL_BACKEND_EPOLL) {
        ASSERT_OK(r.start_rc);
        ASSERT_EQ(r.sc.calls, 0); /* the stale event was dropped: c is still empty */
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* pending phase: b hears EBADF */
        ASSERT_EQ(r.sb.calls, 1 + b_first);
        ASSERT_EQ(r.sb.status, EVL_EBADF);
        ASSERT_EQ(r.sc.calls, 0);
        test_write1(r.c[1]);
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
        ASSERT_EQ(r.sc.calls, 1);
        ASSERT_UEQ(r.sc.events, EVL_READABLE);
        ASSERT_EQ(r.sb.calls, 1 + b_first);
        ASSERT_OK(evl_fd_stop(loop, r.num));
    } else {
        ASSERT_ERR(EVL_EEXIST, r.start_rc);
        ASSERT_EQ(r.sc.calls, 0);
        ASSERT_OK(evl_fd_stop(loop, r.num));
    }
    ASSERT_OK(evl_fd_stop(loop, r.a[0]));
    ASSERT_FALSE(evl_loop_alive(loop));
    free_loop(loop);
    int all[] = {r.a[0], r.a[1], r.b[1], r.c[0], r.c[1], r.num};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        close(all[i]);
    }
}

/* A registered fd closed while a dup of its file stays open: epoll keeps the file in its set
 * under the old number (the kernel keys entries by file, and the number now names another
 * file or nothing), poll watches the number. Either way the loop neither crashes nor
 * delivers the dup's readiness to a later registration of the number, and evl_fd_stop
 * cleans up. */
BACKEND_TEST(fault_fd_closed_with_dup_open)
{
    struct evl_loop *loop = new_loop(test_backend());
    int p[2], q[2];
    test_pipe(p);
    struct fd_seen old = {0}, fresh = {0};
    int num = p[0];
    ASSERT_OK(evl_fd_start(loop, num, EVL_READABLE, fd_cb, &old));
    int dup_fd = dup(num);
    ASSERT_TRUE(dup_fd >= 0);
    test_pipe(q);
    ASSERT_EQ(dup2(q[0], num), num); /* closes num's file (open through dup_fd) */
    close(q[0]);
    test_write1(p[1]); /* the old file (still open through dup_fd) becomes readable */
    int rc = evl_fd_start(loop, num, EVL_READABLE, fd_cb, &fresh);
    if (evl_loop_backend(loop) == EVL_BACKEND_EPOLL) {
        ASSERT_OK(rc); /* the old registration is retired */
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
        }
        /* The old file's readiness carries the old generation: dropped. */
        ASSERT_EQ(fresh.calls, 0);
        ASSERT_EQ(old.calls, 1);
        ASSERT_EQ(old.status, EVL_EBADF);
        test_write1(q[1]);
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
        ASSERT_EQ(fresh.calls, 1);
        ASSERT_EQ(fresh.status, 0);
        char c;
        ASSERT_EQ(read(num, &c, 1), 1); /* the new file is quiet again */
        /* The old file is still readable through dup_fd and no remove can reach its entry:
         * the loop moved to a fresh epoll set, so it does not wake every wait for nothing. A
         * 30 ms timer takes a few iterations, not thousands. */
        ASSERT_OK(evl_fd_unref(loop, num));
        int fired = 0;
        struct evl__loop_stats before, after;
        evl__loop_get_stats(loop, &before);
        ASSERT_OK(evl_timer_set(loop, count_timer, &fired, 30, 0, NULL));
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
        evl__loop_get_stats(loop, &after);
        ASSERT_EQ(fired, 1);
        ASSERT_ULT(after.iterations - before.iterations, 20);
        ASSERT_EQ(fresh.calls, 1);
    } else {
        ASSERT_ERR(EVL_EEXIST, rc);
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
        ASSERT_EQ(old.calls, 0); /* poll watches the number: q is empty */
    }
    ASSERT_OK(evl_fd_stop(loop, num));
    ASSERT_FALSE(evl_loop_alive(loop));
    close(dup_fd); /* the last reference: epoll drops the old file now */
    free_loop(loop);
    close(num);
    close(p[1]);
    close(q[1]);
}

/* ---- EAGAIN from the wake-up write ----------------------------------------------------------- */

/* Producers on four threads submit while the loop sleeps; every wake-up write finds the
 * channel full (the kernel's EAGAIN: an eventfd counter at its maximum, or a full pipe), which
 * means it is readable already. Every task runs: deduplication writes once per sleep, and a
 * full channel still wakes the loop. */
#define EAGAIN_PRODUCERS 4
#define EAGAIN_TASKS     2000

struct eagain_run {
    struct evl_loop *loop;
    _Atomic long counters[2]; /* run, discarded */
};

static void *eagain_producer(void *arg)
{
    struct eagain_run *er = arg;
    for (int i = 0; i < EAGAIN_TASKS; i++) {
        ASSERT_OK(evl_loop_submit_ex(er->loop, count_task, count_discard, er->counters));
        if (i % 64 == 0) {
            sleep_us(200); /* let the loop fall asleep now and then */
        }
    }
    return NULL;
}

static void *one_submit(void *arg)
{
    struct eagain_run *er = arg;
    ASSERT_OK(evl_loop_submit_ex(er->loop, count_task, count_discard, er->counters));
    return NULL;
}

static void eagain_case(enum evl_backend_kind backend, int use_pipe, int with_fd)
{
    if (use_pipe) {
        F.eventfd_errno = ENOSYS;
    }
    struct eagain_run er;
    memset(&er, 0, sizeof(er));
    er.loop = new_loop(backend);
    F.eventfd_errno = 0;
    atomic_store(&F.wake_fd, er.loop->wakeup.wfd);
    F.wake_is_pipe = er.loop->wakeup.wfd != er.loop->wakeup.rfd;
    ASSERT_EQ(F.wake_is_pipe, use_pipe);
    atomic_store(&F.saturate, 1);
    int p[2];
    test_pipe(p);
    struct fd_seen s = {0};
    if (with_fd) {
        ASSERT_OK(evl_fd_start(er.loop, p[0], EVL_READABLE, fd_cb, &s));
    }
    ASSERT_OK(evl_loop_ref(er.loop));
    /* First without a race: the loop announces a sleep (as an embedding host's poll would)
     * and is not running, so the one wake-up write surely meets the full channel; the run
     * that follows is woken by it and runs the task. */
    ASSERT_EQ(evl_loop_next_timeout_ns(er.loop), -1);
    pthread_t one;
    ASSERT_EQ(pthread_create(&one, NULL, one_submit, &er), 0);
    ASSERT_EQ(pthread_join(one, NULL), 0);
    ASSERT_EQ(atomic_load(&F.writes), 1);
    ASSERT_EQ(atomic_load(&F.eagain), 1);
    ASSERT_EQ(evl_loop_run(er.loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(atomic_load(&er.counters[0]), 1);
    pthread_t t[EAGAIN_PRODUCERS];
    for (int i = 0; i < EAGAIN_PRODUCERS; i++) {
        ASSERT_EQ(pthread_create(&t[i], NULL, eagain_producer, &er), 0);
    }
    long want = (long)EAGAIN_PRODUCERS * EAGAIN_TASKS + 1;
    uint64_t deadline = evl_loop_now_ns(er.loop) + 20000000000u;
    while (atomic_load(&er.counters[0]) < want && evl_loop_now_ns(er.loop) < deadline) {
        ASSERT_TRUE(evl_loop_run(er.loop, EVL_RUN_ONCE) >= 0);
    }
    for (int i = 0; i < EAGAIN_PRODUCERS; i++) {
        pthread_join(t[i], NULL);
    }
    ASSERT_EQ(atomic_load(&er.counters[0]), want);
    ASSERT_EQ(atomic_load(&er.counters[1]), 0);
    struct evl__loop_stats stats;
    evl__loop_get_stats(er.loop, &stats);
    fprintf(stderr, "wake-up writes %ld, EAGAIN %ld, sleeps %ju\n", atomic_load(&F.writes),
            atomic_load(&F.eagain), (uintmax_t)stats.sleeps);
    /* Later writes race with the loop's drain between the fill and themselves, so not
     * every one meets a full channel (most do); the channel is readable either way. */
    ASSERT_GE(atomic_load(&F.eagain), 1);
    ASSERT_LE(atomic_load(&F.eagain), atomic_load(&F.writes));
    ASSERT_UEQ(stats.wake_writes, (uint64_t)atomic_load(&F.writes));
    /* At most one per sleep: the loop's own, plus the announcement above (a host's sleep,
     * which the loop does not count). */
    ASSERT_ULE(stats.wake_writes, stats.sleeps + 1);
    ASSERT_EQ(atomic_load(&errors_logged), 0);
    if (with_fd) {
        ASSERT_OK(evl_fd_stop(er.loop, p[0]));
    }
    ASSERT_OK(evl_loop_unref(er.loop));
    ASSERT_EQ(evl_loop_run(er.loop, EVL_RUN_DEFAULT), 0);
    free_loop(er.loop);
    close(p[0]);
    close(p[1]);
}

TEST(fault_wake_eagain_eventfd) /* labels: real-time */
{
    eagain_case(EVL_BACKEND_DEFAULT, 0, 0);
}

TEST(fault_wake_eagain_pipe) /* labels: real-time */
{
    eagain_case(EVL_BACKEND_DEFAULT, 1, 0);
}

BACKEND_TEST(fault_wake_eagain_with_fds) /* labels: real-time */
{
    eagain_case(test_backend(), 0, 1);
}

/* ---- the wait fails ------------------------------------------------------------------------ */

/* epoll_wait / poll fails with something other than EINTR: the error is logged (poll_error),
 * evl_loop_run returns it, nothing queued is lost: a run after the fault clears runs every
 * accepted task, and a close discards them with their callbacks. */
static void wait_fails_case(enum evl_backend_kind backend, int with_fd, int err)
{
    struct evl_loop *loop = new_loop(backend);
    int p[2];
    test_pipe(p);
    struct fd_seen s = {0};
    if (with_fd) {
        ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &s));
    } else {
        ASSERT_OK(evl_loop_ref(loop)); /* a sleep on the wake-up channel alone */
    }
    F.wait_errno = err;
    atomic_store(&F.wait_fails, 1);
    ASSERT_ERR(EVL_ESYS(err), evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(atomic_load(&errors_logged), 1);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_AWAKE);
    /* Accepted while the wait fails again: a run still reports it, then runs them. */
    _Atomic long counters[2] = {0, 0};
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, count_task, count_discard, counters));
    }
    test_write1(p[1]);
    atomic_store(&F.wait_fails, 1000000);
    if (with_fd) {
        /* The fds are polled (without blocking) before the tasks run: that poll fails. */
        ASSERT_ERR(EVL_ESYS(err), evl_loop_run(loop, EVL_RUN_ONCE));
        ASSERT_EQ(atomic_load(&errors_logged), 2);
        ASSERT_EQ(s.calls, 0);
    } else {
        /* Tasks ready: the fast path runs them without a wait. */
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
        ASSERT_EQ(atomic_load(&errors_logged), 1);
    }
    atomic_store(&F.wait_fails, 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(counters[0], 10);
    if (with_fd) {
        ASSERT_EQ(s.calls, 1);
    }
    /* Persistent failure, then close: every accepted task is run or discarded, once. */
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, count_task, count_discard, counters));
    }
    atomic_store(&F.wait_fails, 1000000);
    char buf[8];
    ASSERT_EQ(read(p[0], buf, sizeof(buf)), 1); /* so the poll phase would block */
    ASSERT_ERR(EVL_ESYS(err), evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_ERR(EVL_ESYS(err), evl_loop_run(loop, EVL_RUN_DEFAULT)); /* and again */
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(counters[0] + counters[1], 20);
    ASSERT_UEQ(evl_loop_discarded(loop), (uint64_t)counters[1]);
    atomic_store(&F.wait_fails, 0);
    free_loop(loop);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(fault_wait_fails_with_fds)
{
    wait_fails_case(test_backend(), 1, ENOMEM);
}

BACKEND_TEST(fault_wait_fails_ebadf)
{
    wait_fails_case(test_backend(), 1, EBADF);
}

TEST(fault_wait_fails_fast_path)
{
    wait_fails_case(EVL_BACKEND_DEFAULT, 0, ENOMEM);
}

/* A shutdown draining for in-flight work sleeps too: a failing wait there ends the run with
 * the error, the loop stays TERMINATING, and a later run finishes the drain. */
static void *finish_inflight(void *arg)
{
    sleep_us(20000);
    evl__loop_inflight_done(arg);
    return NULL;
}

TEST(fault_wait_fails_during_shutdown_drain)
{
    struct evl_loop *loop = new_loop(EVL_BACKEND_DEFAULT);
    _Atomic long counters[2] = {0, 0};
    ASSERT_OK(evl_loop_submit_ex(loop, count_task, count_discard, counters));
    evl__loop_inflight_add(loop); /* as a pool job would */
    F.wait_errno = ENOMEM;
    /* On the loop thread of a loop that is not running, shutdown drains right there: its
     * wait fails (logged; shutdown itself only begins the termination), the loop stays
     * TERMINATING. */
    atomic_store(&F.wait_fails, 1);
    ASSERT_OK(evl_loop_shutdown(loop));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATING);
    ASSERT_EQ(counters[0], 1); /* the accepted task ran before the wait */
    ASSERT_EQ(atomic_load(&errors_logged), 1);
    /* A run resuming the drain gets the next failure itself. */
    atomic_store(&F.wait_fails, 1);
    ASSERT_ERR(EVL_ESYS(ENOMEM), evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATING);
    ASSERT_EQ(atomic_load(&errors_logged), 2);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, finish_inflight, loop), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    pthread_join(t, NULL);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(counters[0], 1);
    ASSERT_EQ(counters[1], 0);
    ASSERT_EQ(atomic_load(&errors_logged), 2);
    free_loop(loop);
}
