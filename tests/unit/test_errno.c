/* The error table and the system-code family: evl codes and errno values kept apart, every
 * errno name round-trips, messages carry the OS text, and the places that call the system
 * report its reason (fd kinds epoll refuses, fd exhaustion at loop and backend creation, a
 * failing poll). */
#include "test_fd_common.h"

#include "backend/backend.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

TEST(evl_codes_are_not_system_codes)
{
    int count = 0;
#define CHECK_CODE(name, value, msg)                       \
    ASSERT_FALSE(evl_err_is_sys(EVL_##name));              \
    ASSERT_EQ(evl_err_errno(EVL_##name), 0);               \
    ASSERT_STR_EQ(evl_err_name(EVL_##name), "EVL_" #name); \
    ASSERT_STR_EQ(evl_strerror(EVL_##name), msg);          \
    ASSERT_GT(EVL_##name, EVL_ESYS_BASE);                  \
    count++;
    EVL_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
    ASSERT_EQ(count, 21);
    ASSERT_STR_EQ(evl_err_name(0), "EVL_OK");
    ASSERT_STR_EQ(evl_strerror(0), "success");
    ASSERT_STR_EQ(evl_err_name(-500), "EVL_UNKNOWN");
    ASSERT_STR_EQ(evl_strerror(-500), "unknown error");
    ASSERT_STR_EQ(evl_err_name(7), "EVL_UNKNOWN");
}

TEST(errno_range_boundaries)
{
    /* Not an errno: the generic code, never a system code that would print nonsense. */
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(0));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(-ENOENT));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(EVL_ESYS_ERRNO_MAX + 1));
    ASSERT_EQ(evl_err_from_errno(1), EVL_ESYS_BASE - 1);
    ASSERT_EQ(evl_err_from_errno(EVL_ESYS_ERRNO_MAX), EVL_ESYS_BASE - EVL_ESYS_ERRNO_MAX);
    ASSERT_FALSE(evl_err_is_sys(EVL_ESYS_BASE));
    ASSERT_FALSE(evl_err_is_sys(EVL_ESYS_BASE - EVL_ESYS_ERRNO_MAX - 1));
    ASSERT_FALSE(evl_err_is_sys(0));
    ASSERT_FALSE(evl_err_is_sys(ENOENT));
    ASSERT_EQ(evl_err_errno(EVL_ESYS_BASE), 0);
    ASSERT_EQ(evl_err_errno(EVL_ESYS(EVL_ESYS_ERRNO_MAX)), EVL_ESYS_ERRNO_MAX);
    /* A valid but unnumbered errno still says it is a system error. */
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(EVL_ESYS_ERRNO_MAX)), "ESYS");
    ASSERT_TRUE(starts_with(evl_strerror(EVL_ESYS(EVL_ESYS_ERRNO_MAX)), "system error"));
    ASSERT_STR_EQ(evl_strerror(EVL_ESYS_BASE), "unknown error");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS_BASE), "EVL_UNKNOWN");
    /* The macro is a constant expression: usable as a case label. */
    switch (evl_err_from_errno(ECONNREFUSED)) {
    case EVL_ESYS(ECONNREFUSED):
        break;
    default:
        evl_test_fail(__FILE__, __LINE__, "EVL_ESYS(ECONNREFUSED) did not match");
    }
}

static const struct {
    int num;
    const char *name;
} known[] = {
#define ERRNO_NAME(e) {(e), #e},
#include "base/errno_names.h"
#undef ERRNO_NAME
};

TEST(every_errno_name_round_trips)
{
    size_t n = sizeof(known) / sizeof(known[0]);
    ASSERT_GT(n, 30);
    for (size_t i = 0; i < n; i++) {
        int code = evl_err_from_errno(known[i].num);
        ASSERT_TRUE(evl_err_is_sys(code));
        ASSERT_EQ(evl_err_errno(code), known[i].num);
        /* The name is this one, or the first listed of an alias pair (EAGAIN for
         * EWOULDBLOCK), which is what Node reports. */
        const char *want = known[i].name;
        for (size_t j = 0; j < i; j++) {
            if (known[j].num == known[i].num) {
                want = known[j].name;
                break;
            }
        }
        ASSERT_STR_EQ(evl_err_name(code), want);
        /* The message ends with the name in parentheses and has an OS text before it. */
        const char *msg = evl_strerror(code);
        char tail[64];
        snprintf(tail, sizeof(tail), " (%s)", want);
        ASSERT_TRUE(ends_with(msg, tail));
        ASSERT_GT(strlen(msg), strlen(tail));
    }
    /* Every number in the table's range has a name and maps back to itself. */
    for (int e = 1; e < 256; e++) {
        const char *name = evl_err_name(EVL_ESYS(e));
        ASSERT_TRUE(name[0] == 'E');
        ASSERT_EQ(evl_err_errno(EVL_ESYS(e)), e);
    }
}

TEST(node_names_for_aliases)
{
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(EAGAIN)), "EAGAIN");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(EWOULDBLOCK)), "EAGAIN");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(ENOTSUP)), "ENOTSUP");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(ECONNREFUSED)), "ECONNREFUSED");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(EMFILE)), "EMFILE");
    /* The system family never answers with an evl name, even for errnos evl has a code
     * of its own for (EINVAL, ENOMEM). */
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(EINVAL)), "EINVAL");
    ASSERT_STR_EQ(evl_err_name(EVL_ESYS(ENOMEM)), "ENOMEM");
}

TEST(unnamed_errno_gets_a_number)
{
    /* 200 is no errno on the platforms evl runs on. */
    int code = EVL_ESYS(200);
    ASSERT_STR_EQ(evl_err_name(code), "ESYS200");
    ASSERT_TRUE(ends_with(evl_strerror(code), " (ESYS200)"));
}

TEST(strerror_gives_the_os_message)
{
#if defined(__GLIBC__)
    ASSERT_STR_EQ(evl_strerror(EVL_ESYS(ECONNREFUSED)), "connection refused (ECONNREFUSED)");
    ASSERT_STR_EQ(evl_strerror(EVL_ESYS(ENOENT)), "no such file or directory (ENOENT)");
    ASSERT_STR_EQ(evl_strerror(EVL_ESYS(EMFILE)), "too many open files (EMFILE)");
    /* A capital that belongs to an acronym stays. */
    ASSERT_STR_EQ(evl_strerror(EVL_ESYS(EIO)), "input/output error (EIO)");
#else
    ASSERT_TRUE(ends_with(evl_strerror(EVL_ESYS(ECONNREFUSED)), " (ECONNREFUSED)"));
#endif
    /* The string is static: the same pointer every time, from any thread. */
    ASSERT_PTR_EQ(evl_strerror(EVL_ESYS(ENOENT)), evl_strerror(EVL_ESYS(ENOENT)));
}

static void *strerror_thread(void *arg)
{
    const char **out = arg;
    for (int e = 255; e >= 1; e--) {
        out[e] = evl_strerror(EVL_ESYS(e));
    }
    return NULL;
}

/* The table is built on first use; racing first uses must all see it complete. */
TEST(first_use_from_many_threads)
{
    enum { THREADS = 4 };
    static const char *seen[THREADS][256];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ASSERT_EQ(pthread_create(&t[i], NULL, strerror_thread, seen[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    }
    for (int e = 1; e < 256; e++) {
        for (int i = 1; i < THREADS; i++) {
            ASSERT_PTR_EQ(seen[i][e], seen[0][e]);
        }
        ASSERT_TRUE(ends_with(seen[0][e], ")"));
    }
}

TEST(error_object_carries_syscall)
{
    struct evl_error *err = NULL;
    ASSERT_OK(evl_error_new_sys(&err, ECONNREFUSED, "connect", NULL));
    ASSERT_EQ(evl_error_code(err), EVL_ESYS(ECONNREFUSED));
    ASSERT_STR_EQ(evl_error_syscall(err), "connect");
    char want[128];
    snprintf(want, sizeof(want), "connect: %s", evl_strerror(EVL_ESYS(ECONNREFUSED)));
    ASSERT_STR_EQ(evl_error_message(err), want);
    /* Clearing and setting again; a long name is cut, never overflows. */
    ASSERT_OK(evl_error_set_syscall(err, NULL));
    ASSERT_NULL(evl_error_syscall(err));
    ASSERT_OK(evl_error_set_syscall(err, "a_system_call_with_a_name_much_longer_than_kept"));
    ASSERT_EQ(strlen(evl_error_syscall(err)), EVL_ERROR_SYSCALL_MAX - 1);
    ASSERT_TRUE(
        starts_with("a_system_call_with_a_name_much_longer_than_kept", evl_error_syscall(err)));
    evl_error_free(err);

    ASSERT_OK(evl_error_new_sys(&err, ENOENT, "open", "open '%s' failed", "/nope"));
    ASSERT_STR_EQ(evl_error_message(err), "open '/nope' failed");
    ASSERT_STR_EQ(evl_error_syscall(err), "open");
    evl_error_free(err);

    /* No syscall: the plain system message. A lost errno: EVL_EIO, still an error. */
    ASSERT_OK(evl_error_new_sys(&err, EPIPE, NULL, NULL));
    ASSERT_STR_EQ(evl_error_message(err), evl_strerror(EVL_ESYS(EPIPE)));
    ASSERT_NULL(evl_error_syscall(err));
    evl_error_free(err);
    ASSERT_OK(evl_error_new_sys(&err, 0, "read", NULL));
    ASSERT_EQ(evl_error_code(err), EVL_EIO);
    evl_error_free(err);

    /* An ordinary error has no syscall until one is set. */
    ASSERT_OK(evl_error_new(&err, EVL_ESYS(EPIPE), NULL));
    ASSERT_NULL(evl_error_syscall(err));
    ASSERT_OK(evl_error_set_syscall(err, "write"));
    ASSERT_STR_EQ(evl_error_syscall(err), "write");
    evl_error_free(err);

    ASSERT_ERR(EVL_EINVAL, evl_error_new_sys(NULL, EPIPE, "write", NULL));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_syscall(NULL, "write"));
    ASSERT_NULL(evl_error_syscall(NULL));
}

static void never_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)status;
    (void)events;
    (void)arg;
    evl_test_fail(__FILE__, __LINE__, "callback of a failed registration ran (fd %d)", fd);
}

/* epoll refuses regular files with EPERM: the caller hears the kernel's reason. */
TEST(regular_file_under_epoll_reports_eperm)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    if (evl_backend_parse("epoll", &o.backend) != 0) {
        TEST_SKIP("no epoll here");
    }
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    ASSERT_GE(fd, 0);
    int rc = evl_fd_start(loop, fd, EVL_READABLE, NULL, NULL);
    ASSERT_ERR(EVL_EINVAL, rc); /* argument checks still come first */
    rc = evl_fd_start(loop, fd, EVL_READABLE, never_cb, NULL);
    ASSERT_ERR(EVL_ESYS(EPERM), rc);
    ASSERT_STR_EQ(evl_err_name(rc), "EPERM");
    ASSERT_TRUE(ends_with(evl_strerror(rc), "(EPERM)"));
    ASSERT_EQ(evl_fd_active(loop, fd), 0);
    close(fd);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

/* Lowers RLIMIT_NOFILE's soft limit so that the next fd the process opens fails with
 * EMFILE (every number below the lowest free one is taken); restore_fds undoes it. */
static struct rlimit saved_nofile;

static void exhaust_fds(void)
{
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
    int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(lowest, 0);
    close(lowest);
    struct rlimit lim = saved_nofile;
    lim.rlim_cur = (rlim_t)lowest;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_EQ(probe, -1);
    ASSERT_EQ(errno, EMFILE);
}

static void restore_fds(void)
{
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
}

TEST(loop_new_out_of_fds_reports_emfile)
{
    struct evl_loop *loop = NULL;
    exhaust_fds();
    int rc = evl_loop_new(&loop, NULL);
    restore_fds();
    ASSERT_ERR(EVL_ESYS(EMFILE), rc);
    ASSERT_NULL(loop);
    ASSERT_STR_EQ(evl_err_name(rc), "EMFILE");
    /* Nothing half-done: with fds back, a loop opens and frees cleanly. */
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

/* The first registration creates the backend (epoll_create1 under epoll); out of fds it
 * fails with the reason and leaves the loop as it was. */
BACKEND_TEST(backend_creation_out_of_fds_reports_emfile)
{
    struct evl_loop_options o;
    test_loop_options(&o);
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    int p[2];
    test_pipe(p);
    exhaust_fds();
    int rc = evl_fd_start(loop, p[0], EVL_READABLE, never_cb, NULL);
    restore_fds();
    if (evl_loop_backend(loop) == EVL_BACKEND_EPOLL) {
        ASSERT_ERR(EVL_ESYS(EMFILE), rc);
        ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    } else {
        ASSERT_OK(rc); /* poll needs no fd of its own */
        ASSERT_OK(evl_fd_stop(loop, p[0]));
    }
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

/* poll() refuses more fds than RLIMIT_NOFILE allows with EINVAL: wait says so. */
TEST(poll_wait_failure_keeps_errno)
{
    const struct evl__backend_ops *ops = evl__backend_get(EVL_BACKEND_POLL);
    ASSERT_NOT_NULL(ops);
    void *be = NULL;
    ASSERT_OK(ops->init(&be, NULL));
    int p[2], q[2];
    test_pipe(p);
    test_pipe(q);
    ASSERT_OK(ops->add(be, p[0], EVL_READABLE, 1));
    ASSERT_OK(ops->add(be, p[1], EVL_WRITABLE, 2));
    ASSERT_OK(ops->add(be, q[0], EVL_READABLE, 3));
    ASSERT_OK(ops->add(be, q[1], EVL_WRITABLE, 4));
    if (evl_test_under_valgrind()) {
        ops->free(be);
        close(p[0]);
        close(p[1]);
        close(q[0]);
        close(q[1]);
        TEST_SKIP("valgrind emulates RLIMIT_NOFILE: poll does not see the lowered limit");
    }
    struct rlimit saved, lim;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 2;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    const struct evl__backend_event *evs = NULL;
    int rc = ops->wait(be, 0, &evs);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
    ASSERT_ERR(EVL_ESYS(EINVAL), rc);
    ops->free(be);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EVL_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EVL_TEST_SANITIZED 1
#endif
#endif

/* A worker's stack cannot be mapped once the address space is capped just above what the
 * process uses: pthread_create fails with EAGAIN, and evl_pool_new says so, leaving nothing
 * running. */
TEST(pool_thread_creation_failure_keeps_errno)
{
#ifdef EVL_TEST_SANITIZED
    TEST_SKIP("sanitizers reserve address space on their own: RLIMIT_AS cannot be capped");
#else
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        TEST_SKIP("no /proc/self/statm");
    }
    unsigned long pages = 0;
    int got = fscanf(f, "%lu", &pages);
    fclose(f);
    ASSERT_EQ(got, 1);
    struct rlimit saved, lim;
    ASSERT_EQ(getrlimit(RLIMIT_AS, &saved), 0);
    lim = saved;
    lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)(1u << 20);
    struct evl_pool *pool = NULL;
    ASSERT_EQ(setrlimit(RLIMIT_AS, &lim), 0);
    int rc = evl_pool_new(&pool, 2);
    ASSERT_EQ(setrlimit(RLIMIT_AS, &saved), 0);
    ASSERT_ERR(EVL_ESYS(EAGAIN), rc);
    ASSERT_NULL(pool);
    ASSERT_STR_EQ(evl_err_name(rc), "EAGAIN");
    /* With the address space back, a pool starts and stops cleanly. */
    ASSERT_OK(evl_pool_new(&pool, 2));
    ASSERT_OK(evl_pool_free(pool));
#endif
}
