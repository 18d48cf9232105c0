/* The backend contract (src/backend/backend.h), exercised directly without a loop, once per
 * backend. */
#include "test_fd_common.h"

#include "backend/backend.h"
#include "base/clock.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

static const struct evl__backend_ops *ops_under_test(void)
{
    const struct evl__backend_ops *ops = evl__backend_get(test_backend());
    ASSERT_NOT_NULL(ops);
    return ops;
}

/* One wait; returns the count and copies the first event out. */
static int wait1(const struct evl__backend_ops *ops, void *be, int64_t timeout_ns,
                 struct evl__backend_event *first)
{
    const struct evl__backend_event *evs = NULL;
    int n = ops->wait(be, timeout_ns, &evs);
    ASSERT_GE(n, 0);
    if (n > 0) {
        ASSERT_NOT_NULL(evs);
        *first = evs[0];
    }
    return n;
}

BACKEND_TEST(backend_name_and_kind)
{
    const struct evl__backend_ops *ops = ops_under_test();
    ASSERT_STR_EQ(ops->name, evl_backend_name(ops->kind));
    if (test_backend() != EVL_BACKEND_DEFAULT) {
        ASSERT_EQ(ops->kind, test_backend());
    }
}

BACKEND_TEST(backend_pipe_readiness)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int p[2];
    test_pipe(p);
    ASSERT_OK(ops->add(be, p[0], EVL_READABLE, 0x1234567800000042u));
    struct evl__backend_event ev = {0, 0};
    ASSERT_EQ(wait1(ops, be, 0, &ev), 0);
    test_write1(p[1]);
    ASSERT_EQ(wait1(ops, be, -1, &ev), 1);
    ASSERT_UEQ(ev.tag, 0x1234567800000042u);
    ASSERT_UEQ(ev.events, EVL_READABLE);
    /* Level-triggered: still ready while unread. */
    ASSERT_EQ(wait1(ops, be, 0, &ev), 1);
    char c;
    ASSERT_EQ(read(p[0], &c, 1), 1);
    ASSERT_EQ(wait1(ops, be, 0, &ev), 0);
    ASSERT_OK(ops->remove(be, p[0]));
    ops->free(be);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(backend_modify_and_remove)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_OK(ops->add(be, sv[0], EVL_READABLE, 1));
    struct evl__backend_event ev = {0, 0};
    ASSERT_EQ(wait1(ops, be, 0, &ev), 0);
    ASSERT_OK(ops->modify(be, sv[0], EVL_WRITABLE, 2));
    ASSERT_EQ(wait1(ops, be, 0, &ev), 1);
    ASSERT_UEQ(ev.tag, 2);
    ASSERT_UEQ(ev.events, EVL_WRITABLE);
    /* Both directions ready: one event with the flags merged. */
    test_write1(sv[1]);
    ASSERT_OK(ops->modify(be, sv[0], EVL_READABLE | EVL_WRITABLE, 3));
    ASSERT_EQ(wait1(ops, be, 0, &ev), 1);
    ASSERT_UEQ(ev.events, EVL_READABLE | EVL_WRITABLE);
    ASSERT_OK(ops->remove(be, sv[0]));
    ASSERT_EQ(wait1(ops, be, 0, &ev), 0);
    /* Removed fds can be added again. */
    ASSERT_OK(ops->add(be, sv[0], EVL_READABLE, 4));
    ASSERT_EQ(wait1(ops, be, 0, &ev), 1);
    ASSERT_UEQ(ev.tag, 4);
    ops->free(be);
    close(sv[0]);
    close(sv[1]);
}

BACKEND_TEST(backend_hangup_and_error)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int a[2];
    int b[2];
    test_pipe(a);
    test_pipe(b);
    close(a[1]); /* a's reader sees the writer gone */
    close(b[0]); /* b's writer sees the reader gone */
    ASSERT_OK(ops->add(be, a[0], EVL_READABLE, 10));
    ASSERT_OK(ops->add(be, b[1], EVL_WRITABLE, 20));
    const struct evl__backend_event *evs = NULL;
    int n = ops->wait(be, -1, &evs);
    ASSERT_EQ(n, 2);
    for (int i = 0; i < n; i++) {
        if (evs[i].tag == 10) {
            ASSERT_TRUE(evs[i].events & EVL_HANGUP);
        } else {
            ASSERT_UEQ(evs[i].tag, 20);
            ASSERT_TRUE(evs[i].events & EVL_ERROR);
        }
    }
    ops->free(be);
    close(a[0]);
    close(b[1]);
}

BACKEND_TEST(backend_closed_fd)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int p[2];
    test_pipe(p);
    test_write1(p[1]);
    ASSERT_OK(ops->add(be, p[0], EVL_READABLE, 7));
    close(p[0]);
    struct evl__backend_event ev = {0, 0};
    int n = wait1(ops, be, 0, &ev);
    if (ops->kind == EVL_BACKEND_POLL) {
        /* poll sees the closed fd: POLLNVAL. */
        ASSERT_EQ(n, 1);
        ASSERT_UEQ(ev.tag, 7);
        ASSERT_TRUE(ev.events & EVL__BE_INVALID);
        ASSERT_TRUE(ev.events & EVL_ERROR);
        ASSERT_OK(ops->remove(be, p[0]));
    } else {
        /* epoll drops a closed fd silently; removal reports it for diagnostics. */
        ASSERT_EQ(n, 0);
        int rc = ops->modify(be, p[0], EVL_READABLE, 7);
        ASSERT_TRUE(rc == EVL_EBADF || rc == EVL_ENOENT);
        ASSERT_ERR(EVL_EBADF, ops->remove(be, p[0]));
    }
    ASSERT_EQ(wait1(ops, be, 0, &ev), 0);
    ops->free(be);
    close(p[1]);
}

BACKEND_TEST(backend_regular_file)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ops->free(be);
        TEST_SKIP("no /proc/self/stat");
    }
    int rc = ops->add(be, fd, EVL_READABLE, 1);
    if (ops->kind == EVL_BACKEND_EPOLL) {
        ASSERT_ERR(EVL_ESYS(EPERM), rc); /* epoll refuses regular files, and says so */
    } else {
        ASSERT_OK(rc); /* poll reports regular files always ready */
        struct evl__backend_event ev = {0, 0};
        ASSERT_EQ(wait1(ops, be, 0, &ev), 1);
        ASSERT_TRUE(ev.events & EVL_READABLE);
    }
    ops->free(be);
    close(fd);
}

BACKEND_TEST(backend_batch_of_many)
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    enum { N = 200 };
    int p[N][2];
    for (int i = 0; i < N; i++) {
        test_pipe(p[i]);
        test_write1(p[i][1]);
        ASSERT_OK(ops->add(be, p[i][0], EVL_READABLE, (uint64_t)i));
    }
    const struct evl__backend_event *evs = NULL;
    int n = ops->wait(be, -1, &evs);
    ASSERT_EQ(n, N);
    unsigned char seen[N] = {0};
    for (int i = 0; i < n; i++) {
        ASSERT_ULT(evs[i].tag, N);
        ASSERT_EQ(seen[evs[i].tag], 0);
        seen[evs[i].tag] = 1;
    }
    /* Remove from the middle and the ends: the rest keeps reporting under its own tag. */
    for (int i = 0; i < N; i += 3) {
        ASSERT_OK(ops->remove(be, p[i][0]));
    }
    n = ops->wait(be, 0, &evs);
    ASSERT_EQ(n, N - (N + 2) / 3);
    for (int i = 0; i < n; i++) {
        ASSERT_NE(evs[i].tag % 3, 0);
    }
    ops->free(be);
    for (int i = 0; i < N; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

BACKEND_TEST(backend_timeout_not_early) /* labels: real-time */
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int p[2];
    test_pipe(p);
    ASSERT_OK(ops->add(be, p[0], EVL_READABLE, 1));
    struct evl__backend_event ev = {0, 0};
    uint64_t t0 = evl__monotonic_ns();
    ASSERT_EQ(wait1(ops, be, 20000000, &ev), 0);
    ASSERT_UGE(evl__monotonic_ns() - t0, 20000000u);
    ops->free(be);
    close(p[0]);
    close(p[1]);
}

static int alarm_pipe = -1;
static volatile sig_atomic_t alarm_hits;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    alarm_hits++;
    /* Readiness arrives only after the signal: a wait that gave up on EINTR would return no
     * event. */
    char c = 's';
    (void)!write(alarm_pipe, &c, 1);
    errno = saved;
}

BACKEND_TEST(backend_eintr_is_retried) /* labels: real-time */
{
    const struct evl__backend_ops *ops = ops_under_test();
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int p[2];
    test_pipe(p);
    ASSERT_OK(ops->add(be, p[0], EVL_READABLE, 5));
    alarm_pipe = p[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the wait really sees EINTR */
    struct sigaction old;
    ASSERT_EQ(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_usec = 20000;
    ASSERT_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
    struct evl__backend_event ev = {0, 0};
    ASSERT_EQ(wait1(ops, be, -1, &ev), 1);
    ASSERT_UEQ(ev.tag, 5);
    ASSERT_EQ(alarm_hits, 1);
    ASSERT_EQ(sigaction(SIGALRM, &old, NULL), 0);
    ops->free(be);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(backend_init_out_of_memory)
{
    const struct evl__backend_ops *ops = ops_under_test();
    for (uint64_t k = 1; k <= 6; k++) {
        void *be = NULL;
        evl_alloc_fail_at(k, 0);
        int rc = ops->init(&be, NULL);
        evl_alloc_fail_at(0, 0);
        if (rc == 0) {
            ops->free(be);
        } else {
            ASSERT_ERR(EVL_ENOMEM, rc);
        }
        ASSERT_UEQ(evl_test_live_blocks(), 0);
    }
}
