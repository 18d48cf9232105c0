/* The public fd API (include/evl/io.h) on a running loop, once per backend. */
#include "test_cpu.h"
#include "test_fd_common.h"

#include "core/loop_state.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/* What callbacks saw. */
struct seen {
    int calls;
    int fd;
    int status;
    unsigned events;
    int stop_self;  /* stop the registration from inside the callback */
    int close_self; /* and close the fd too */
    int drain;      /* read what is there */
};

static void record_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    struct seen *s = arg;
    s->calls++;
    s->fd = fd;
    s->status = status;
    s->events = events;
    if (s->drain) {
        char buf[64];
        while (read(fd, buf, sizeof(buf)) > 0) {
        }
    }
    if (s->stop_self) {
        ASSERT_OK(evl_fd_stop(loop, fd));
    }
    if (s->close_self) {
        close(fd);
    }
}

/*
 * The fixture every case starts from: a loop on the backend under test and the fds the case
 * watches. fix_deinit frees the loop (which must succeed: nothing half-torn-down) and then
 * closes every fd still open; a case that closes one of them itself uses fix_close, so no
 * number is closed twice.
 */
enum fix_fds {
    FIX_LOOP_ONLY,  /* the case makes its own fds */
    FIX_PIPE,       /* p: a non-blocking pipe */
    FIX_TWO_PIPES,  /* p and q: two non-blocking pipes */
    FIX_SOCKETPAIR, /* p: a blocking AF_UNIX stream socketpair */
};

struct fix {
    struct evl_loop *loop;
    struct evl_test_clock clock; /* the loop's clock after fix_init_fake_clock */
    int p[2];
    int q[2]; /* a second pipe: FIX_TWO_PIPES, or filled by the case */
};

/* Like fix_init, with the caller's options (test_loop_options() plus what the case needs). */
static void fix_init_opts(struct fix *f, enum fix_fds fds, const struct evl_loop_options *o)
{
    f->loop = NULL;
    f->p[0] = f->p[1] = f->q[0] = f->q[1] = -1;
    ASSERT_OK(evl_loop_new(&f->loop, o));
    if (fds == FIX_PIPE || fds == FIX_TWO_PIPES) {
        test_pipe(f->p);
    }
    if (fds == FIX_TWO_PIPES) {
        test_pipe(f->q);
    }
    if (fds == FIX_SOCKETPAIR) {
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, f->p), 0);
    }
}

static void fix_init(struct fix *f, enum fix_fds fds)
{
    struct evl_loop_options o;
    test_loop_options(&o);
    fix_init_opts(f, fds, &o);
}

/* The loop reads f->clock, starting at 1 s: the case moves time with
 * evl_test_clock_advance_ms(&f->clock, ms). */
static void fix_init_fake_clock(struct fix *f, enum fix_fds fds)
{
    struct evl_loop_options o;
    test_loop_options(&o);
    f->clock.now_ns = 1000000000;
    o.clock = evl_test_clock_read;
    o.clock_ud = &f->clock;
    fix_init_opts(f, fds, &o);
}

static void fix_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void fix_deinit(struct fix *f)
{
    ASSERT_OK(evl_loop_free(f->loop));
    f->loop = NULL;
    fix_close(&f->p[0]);
    fix_close(&f->p[1]);
    fix_close(&f->q[0]);
    fix_close(&f->q[1]);
}

BACKEND_TEST(fd_backend_selected)
{
    struct fix f;
    fix_init(&f, FIX_LOOP_ONLY);
    struct evl_loop *loop = f.loop;
    enum evl_backend_kind want = test_backend();
    enum evl_backend_kind got = evl_loop_backend(loop);
    if (want == EVL_BACKEND_DEFAULT) {
        ASSERT_NE(got, EVL_BACKEND_DEFAULT);
    } else {
        ASSERT_EQ(got, want);
    }
    fix_deinit(&f);
}

TEST(backend_parse_names)
{
    enum evl_backend_kind k = EVL_BACKEND_EPOLL;
    ASSERT_OK(evl_backend_parse(NULL, &k));
    ASSERT_EQ(k, EVL_BACKEND_DEFAULT);
    ASSERT_OK(evl_backend_parse("poll", &k));
    ASSERT_EQ(k, EVL_BACKEND_POLL);
    ASSERT_ERR(EVL_EINVAL, evl_backend_parse("kqueue-ish", &k));
    ASSERT_EQ(k, EVL_BACKEND_POLL); /* unchanged on error */
    ASSERT_ERR(EVL_EINVAL, evl_backend_parse("poll", NULL));
#if defined(__linux__)
    ASSERT_OK(evl_backend_parse("epoll", &k));
    ASSERT_EQ(k, EVL_BACKEND_EPOLL);
#endif
    ASSERT_STR_EQ(evl_backend_name(EVL_BACKEND_POLL), "poll");
    ASSERT_STR_EQ(evl_backend_name((enum evl_backend_kind)42), "unknown");
}

BACKEND_TEST(fd_pipe_readable)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {.stop_self = 1, .drain = 1};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    ASSERT_EQ(evl_fd_active(loop, p[0]), 1);
    ASSERT_TRUE(evl_loop_alive(loop));
    test_write1(p[1]);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* returns once the fd is stopped */
    ASSERT_EQ(s.calls, 1);
    ASSERT_EQ(s.fd, p[0]);
    ASSERT_EQ(s.status, 0);
    ASSERT_UEQ(s.events, EVL_READABLE);
    ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    fix_deinit(&f);
}

/* A socketpair ping: a writes when writable, b reads when readable. */
struct ping {
    int a;
    int b;
    int wrote;
    char got[8];
};

static void ping_write_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    struct ping *p = arg;
    ASSERT_EQ(status, 0);
    ASSERT_TRUE(events & EVL_WRITABLE);
    ASSERT_EQ(write(fd, "ping", 4), 4);
    p->wrote++;
    ASSERT_OK(evl_fd_stop(loop, fd));
}

static void ping_read_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    struct ping *p = arg;
    ASSERT_EQ(status, 0);
    ASSERT_UEQ(events, EVL_READABLE);
    ASSERT_EQ(read(fd, p->got, 4), 4);
    ASSERT_OK(evl_fd_stop(loop, fd));
}

BACKEND_TEST(fd_socketpair_readiness)
{
    struct fix f;
    fix_init(&f, FIX_SOCKETPAIR);
    struct evl_loop *loop = f.loop;
    int *sv = f.p;
    struct ping p = {.a = sv[0], .b = sv[1]};
    ASSERT_OK(evl_fd_start(loop, sv[1], EVL_READABLE, ping_read_cb, &p));
    ASSERT_OK(evl_fd_start(loop, sv[0], EVL_WRITABLE, ping_write_cb, &p));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(p.wrote, 1);
    ASSERT_STR_EQ(p.got, "ping");
    fix_deinit(&f);
}

BACKEND_TEST(fd_level_triggered_merged_flags)
{
    struct fix f;
    fix_init(&f, FIX_SOCKETPAIR);
    struct evl_loop *loop = f.loop;
    int *sv = f.p;
    test_write1(sv[1]);
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, sv[0], EVL_READABLE | EVL_WRITABLE, record_cb, &s));
    /* Unread data keeps the fd ready: one callback per iteration, both flags in it. */
    for (int i = 1; i <= 3; i++) {
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
        ASSERT_EQ(s.calls, i);
        ASSERT_UEQ(s.events, EVL_READABLE | EVL_WRITABLE);
    }
    ASSERT_OK(evl_fd_stop(loop, sv[0]));
    fix_deinit(&f);
}

BACKEND_TEST(fd_hangup_and_error)
{
    struct fix f;
    fix_init(&f, FIX_TWO_PIPES);
    struct evl_loop *loop = f.loop;
    int *a = f.p;
    int *b = f.q;
    fix_close(&a[1]);
    fix_close(&b[0]);
    struct seen hup = {.stop_self = 1};
    struct seen err = {.stop_self = 1};
    ASSERT_OK(evl_fd_start(loop, a[0], EVL_READABLE, record_cb, &hup));
    ASSERT_OK(evl_fd_start(loop, b[1], EVL_WRITABLE, record_cb, &err));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(hup.calls, 1);
    ASSERT_EQ(hup.status, 0);
    ASSERT_TRUE(hup.events & EVL_HANGUP);
    ASSERT_EQ(err.calls, 1);
    ASSERT_EQ(err.status, 0);
    ASSERT_TRUE(err.events & EVL_ERROR);
    fix_deinit(&f);
}

BACKEND_TEST(fd_modify_read_to_write)
{
    struct fix f;
    fix_init(&f, FIX_SOCKETPAIR);
    struct evl_loop *loop = f.loop;
    int *sv = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, sv[0], EVL_READABLE, record_cb, &s));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(s.calls, 0); /* nothing to read */
    ASSERT_OK(evl_fd_modify(loop, sv[0], EVL_WRITABLE));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_UEQ(s.events, EVL_WRITABLE);
    ASSERT_OK(evl_fd_modify(loop, sv[0], EVL_READABLE));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_ERR(EVL_EINVAL, evl_fd_modify(loop, sv[0], 0));
    ASSERT_ERR(EVL_EINVAL, evl_fd_modify(loop, sv[0], EVL_HANGUP));
    ASSERT_ERR(EVL_ENOENT, evl_fd_modify(loop, sv[1], EVL_READABLE));
    ASSERT_OK(evl_fd_stop(loop, sv[0]));
    fix_deinit(&f);
}

BACKEND_TEST(fd_stop_and_close_in_own_callback)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    test_write1(p[1]);
    struct seen s = {.stop_self = 1, .close_self = 1};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.calls, 1);
    ASSERT_FALSE(evl_loop_alive(loop));
    p[0] = -1; /* closed by the callback */
    fix_deinit(&f);
}

/*
 * Two registrations ready in the same batch; whichever runs first stops the other, closes
 * its pipe and registers a fresh, never-ready pipe, which usually gets the same fd numbers.
 * The stale readiness collected for the stopped registration must reach nobody.
 */
struct sibling {
    int pipes[2][2];
    int calls[2];
    int fresh[2];
    int fresh_calls;
};

static void fresh_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    struct sibling *sb = arg;
    sb->fresh_calls++;
}

static void sibling_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    struct sibling *sb = arg;
    int me = fd == sb->pipes[0][0] ? 0 : 1;
    int other = 1 - me;
    sb->calls[me]++;
    ASSERT_OK(evl_fd_stop(loop, sb->pipes[other][0]));
    close(sb->pipes[other][0]);
    close(sb->pipes[other][1]);
    test_pipe(sb->fresh);
    ASSERT_OK(evl_fd_start(loop, sb->fresh[0], EVL_READABLE, fresh_cb, sb));
    ASSERT_OK(evl_fd_stop(loop, fd));
}

BACKEND_TEST(fd_stop_sibling_in_same_batch)
{
    struct fix f;
    fix_init(&f, FIX_LOOP_ONLY);
    struct evl_loop *loop = f.loop;
    struct sibling sb;
    memset(&sb, 0, sizeof(sb));
    for (int i = 0; i < 2; i++) {
        test_pipe(sb.pipes[i]);
        test_write1(sb.pipes[i][1]);
    }
    /* Make sure both are in one batch: both ready before the loop looks. */
    ASSERT_OK(evl_fd_start(loop, sb.pipes[0][0], EVL_READABLE, sibling_cb, &sb));
    ASSERT_OK(evl_fd_start(loop, sb.pipes[1][0], EVL_READABLE, sibling_cb, &sb));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1); /* the fresh pipe is still registered */
    ASSERT_EQ(sb.calls[0] + sb.calls[1], 1);
    ASSERT_EQ(sb.fresh_calls, 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(sb.calls[0] + sb.calls[1], 1);
    ASSERT_EQ(sb.fresh_calls, 0);
    ASSERT_OK(evl_fd_stop(loop, sb.fresh[0]));
    fix_deinit(&f);
    int survivor = sb.calls[0] ? 0 : 1;
    close(sb.pipes[survivor][0]);
    close(sb.pipes[survivor][1]);
    close(sb.fresh[0]);
    close(sb.fresh[1]);
}

/* A microtask queued by one fd callback runs before the next fd callback (checkpoint). */
static char order[8];
static size_t order_len;

static void micro_rec(struct evl_loop *loop, void *arg)
{
    (void)loop;
    order[order_len++] = (char)(uintptr_t)arg;
}

static void queue_micro_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    (void)arg;
    order[order_len++] = 'F';
    ASSERT_OK(evl_queue_microtask(loop, micro_rec, (void *)(uintptr_t)'m'));
    ASSERT_OK(evl_fd_stop(loop, fd));
}

BACKEND_TEST(fd_checkpoint_after_each_callback)
{
    struct fix f;
    fix_init(&f, FIX_TWO_PIPES);
    struct evl_loop *loop = f.loop;
    int *a = f.p;
    int *b = f.q;
    test_write1(a[1]);
    test_write1(b[1]);
    ASSERT_OK(evl_fd_start(loop, a[0], EVL_READABLE, queue_micro_cb, NULL));
    ASSERT_OK(evl_fd_start(loop, b[0], EVL_READABLE, queue_micro_cb, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(order, "FmFm");
    fix_deinit(&f);
}

static void *other_thread_start(void *arg)
{
    struct evl_loop *loop = arg;
    int p[2];
    test_pipe(p);
    struct seen s = {0};
    intptr_t rc = evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s);
    close(p[0]);
    close(p[1]);
    return (void *)rc;
}

BACKEND_TEST(fd_argument_errors)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(NULL, p[0], EVL_READABLE, record_cb, &s));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], EVL_READABLE, NULL, &s));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], 0, record_cb, &s));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], EVL_ERROR, record_cb, &s));
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, -1, EVL_READABLE, record_cb, &s));
    int closed = dup(p[0]);
    ASSERT_TRUE(closed >= 0);
    close(closed);
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, closed, EVL_READABLE, record_cb, &s));
    ASSERT_ERR(EVL_ERANGE, evl_fd_start_timeout(loop, p[0], EVL_READABLE, EVL_TIMER_DELAY_MAX + 1,
                                                record_cb, &s));
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    ASSERT_ERR(EVL_EEXIST, evl_fd_start(loop, p[0], EVL_WRITABLE, record_cb, &s));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, p[1]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, -5));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, 1 << 20));
    ASSERT_ERR(EVL_ENOENT, evl_fd_ref(loop, p[1]));
    ASSERT_EQ(evl_fd_active(loop, p[1]), 0);
    ASSERT_ERR(EVL_EINVAL, evl_fd_stop(NULL, p[0]));
    pthread_t t;
    void *res = NULL;
    ASSERT_EQ(pthread_create(&t, NULL, other_thread_start, loop), 0);
    ASSERT_EQ(pthread_join(t, &res), 0);
    ASSERT_EQ((intptr_t)res, EVL_EPERM);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, p[0]));
    ASSERT_EQ(s.calls, 0); /* failed calls never run the callback */
    fix_deinit(&f);
}

BACKEND_TEST(fd_ref_unref)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_fd_unref(loop, p[0]));
    ASSERT_OK(evl_fd_unref(loop, p[0])); /* idempotent */
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* returns: nothing ref'd */
    ASSERT_OK(evl_fd_ref(loop, p[0]));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_fd_unref(loop, p[0]));
    /* An unref'd registration is still served while something else runs the loop. */
    test_write1(p[1]);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_EQ(s.calls, 1);
    /* Freeing the loop with an unref'd registration drops it. */
    fix_deinit(&f);
}

BACKEND_TEST(fd_thousand_at_once)
{
    enum { PIPES = 500, FDS = 2 * PIPES };
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t need = FDS + 64;
    if (rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
            TEST_SKIP("RLIMIT_NOFILE hard limit below 1064");
        }
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            TEST_SKIP("cannot raise RLIMIT_NOFILE");
        }
    }
    struct fix f;
    fix_init(&f, FIX_LOOP_ONLY);
    struct evl_loop *loop = f.loop;
    static int p[PIPES][2];
    static struct seen s[PIPES][2];
    memset(s, 0, sizeof(s));
    for (int i = 0; i < PIPES; i++) {
        test_pipe(p[i]);
        test_write1(p[i][1]);
    }
    /* The first registration creates the backend; the other 999 show the cost of one. */
    ASSERT_OK(evl_fd_start(loop, p[0][0], EVL_READABLE, record_cb, &s[0][0]));
    struct evl_alloc_stats before;
    evl_alloc_stats(&before);
    for (int i = 0; i < PIPES; i++) {
        s[i][0].stop_self = 1;
        s[i][1].stop_self = 1;
        if (i > 0) {
            ASSERT_OK(evl_fd_start(loop, p[i][0], EVL_READABLE, record_cb, &s[i][0]));
        }
        ASSERT_OK(evl_fd_start(loop, p[i][1], EVL_WRITABLE, record_cb, &s[i][1]));
    }
    struct evl_alloc_stats after;
    evl_alloc_stats(&after);
    printf("bytes per registration (%s, %d fds, tracking allocator): %.1f\n",
           evl_backend_name(evl_loop_backend(loop)), FDS - 1,
           (double)(after.live_bytes - before.live_bytes) / (FDS - 1));
    /* Each registration stops itself in its callback, so the loop ends when all 1,000 ran;
     * the first wait also grows the backend's event array for the batch. */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    evl_alloc_stats(&after);
    printf("peak bytes after the first batch: %" PRIu64 "\n", after.peak_bytes);
    for (int i = 0; i < PIPES; i++) {
        ASSERT_EQ(s[i][0].calls, 1);
        ASSERT_UEQ(s[i][0].events, EVL_READABLE);
        ASSERT_EQ(s[i][1].calls, 1);
        ASSERT_UEQ(s[i][1].events, EVL_WRITABLE);
    }
    fix_deinit(&f);
    for (int i = 0; i < PIPES; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}

BACKEND_TEST(fd_timeout_fires)
{
    struct fix f;
    fix_init_fake_clock(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start_timeout(loop, p[0], EVL_READABLE, 50, record_cb, &s));
    evl_test_clock_advance_ms(&f.clock, 49);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(s.calls, 0);
    evl_test_clock_advance_ms(&f.clock, 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.calls, 1);
    ASSERT_EQ(s.status, EVL_ETIMEDOUT);
    ASSERT_UEQ(s.events, 0);
    ASSERT_EQ(evl_fd_active(loop, p[0]), 0); /* stopped by the loop */
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, p[0]));
    ASSERT_FALSE(evl_loop_alive(loop));
    fix_deinit(&f);
}

BACKEND_TEST(fd_timeout_cancelled_by_readiness)
{
    struct fix f;
    fix_init_fake_clock(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {.drain = 1};
    ASSERT_OK(evl_fd_start_timeout(loop, p[0], EVL_READABLE, 50, record_cb, &s));
    test_write1(p[1]);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(s.calls, 1);
    ASSERT_EQ(s.status, 0);
    evl_test_clock_advance_ms(&f.clock, 500);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(s.calls, 1); /* no late EVL_ETIMEDOUT */
    ASSERT_EQ(evl_fd_active(loop, p[0]), 1);
    /* Stopping a registration with a pending timeout cancels the timer too. */
    ASSERT_OK(evl_fd_start_timeout(loop, p[1], EVL_WRITABLE, 10, record_cb, &s));
    ASSERT_OK(evl_fd_stop(loop, p[1]));
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    evl_test_clock_advance_ms(&f.clock, 500);
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.calls, 1);
    fix_deinit(&f);
}

BACKEND_TEST(fd_timeout_follows_ref)
{
    struct fix f;
    fix_init_fake_clock(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start_timeout(loop, p[0], EVL_READABLE, 50, record_cb, &s));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_fd_unref(loop, p[0]));
    ASSERT_FALSE(evl_loop_alive(loop)); /* the timeout's timer is unref'd with it */
    ASSERT_OK(evl_fd_ref(loop, p[0]));
    ASSERT_TRUE(evl_loop_alive(loop));
    evl_test_clock_advance_ms(&f.clock, 50);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.status, EVL_ETIMEDOUT);
    fix_deinit(&f);
}

/* Restarting from the timeout callback works: the registration is already gone. */
static void restart_on_timeout(struct evl_loop *loop, int fd, int status, unsigned events,
                               void *arg)
{
    struct seen *s = arg;
    (void)events;
    s->calls++;
    ASSERT_EQ(status, EVL_ETIMEDOUT);
    if (s->calls < 3) {
        ASSERT_OK(evl_fd_start_timeout(loop, fd, EVL_READABLE, 10, restart_on_timeout, s));
    }
}

BACKEND_TEST(fd_timeout_restart_from_callback) /* labels: real-time */
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start_timeout(loop, p[0], EVL_READABLE, 10, restart_on_timeout, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(s.calls, 3);
    fix_deinit(&f);
}

BACKEND_TEST(fd_close_before_stop)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    test_write1(p[1]);
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    close(p[0]);
    ASSERT_OK(evl_fd_stop(loop, p[0])); /* stopping an fd already closed is fine */
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_EQ(s.calls, 0);
    /* The loop still works. */
    int *q = f.q;
    test_pipe(q);
    test_write1(q[1]);
    struct seen t = {.stop_self = 1};
    ASSERT_OK(evl_fd_start(loop, q[0], EVL_READABLE, record_cb, &t));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(t.calls, 1);
    p[0] = -1; /* closed above */
    fix_deinit(&f);
}

BACKEND_TEST(fd_closed_under_live_registration)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    close(p[0]);
    int more = evl_loop_run(loop, EVL_RUN_NOWAIT);
    ASSERT_EQ(more, evl_fd_active(loop, p[0])); /* alive only while still registered */
    if (evl_loop_backend(loop) == EVL_BACKEND_POLL) {
        /* poll sees it: the owner hears EVL_EBADF, the registration is gone, the loop
         * lives on. */
        ASSERT_EQ(s.calls, 1);
        ASSERT_EQ(s.status, EVL_EBADF);
        ASSERT_UEQ(s.events, EVL_ERROR);
        ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    } else {
        /* epoll drops closed fds silently (docs/platforms.md): no callback; modify
         * reports the closed fd and stop still cleans up. */
        ASSERT_EQ(s.calls, 0);
        ASSERT_ERR(EVL_EBADF, evl_fd_modify(loop, p[0], EVL_WRITABLE));
        ASSERT_OK(evl_fd_stop(loop, p[0]));
    }
    ASSERT_FALSE(evl_loop_alive(loop));
    p[0] = -1; /* closed above */
    fix_deinit(&f);
}

/* Closing a registered fd without stopping it, then getting the same number back from the
 * kernel: epoll can tell the number names another file now; poll cannot (docs/platforms.md). */
BACKEND_TEST(fd_closed_and_number_reused)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen old = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &old));
    int num = p[0];
    fix_close(&p[0]);
    int *q = f.q;
    test_pipe(q);
    if (q[0] != num) {
        ASSERT_OK(evl_fd_stop(loop, num));
        fix_deinit(&f);
        TEST_SKIP("the kernel did not reuse the lowest fd number");
    }
    struct seen fresh = {.drain = 1};
    int rc = evl_fd_start(loop, q[0], EVL_READABLE, record_cb, &fresh);
    if (evl_loop_backend(loop) == EVL_BACKEND_EPOLL) {
        /* The dead registration is retired; its owner hears EVL_EBADF in the pending phase
         * of the next iteration, and the new one works. */
        ASSERT_OK(rc);
        ASSERT_EQ(old.calls, 0);
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
        ASSERT_EQ(old.calls, 1);
        ASSERT_EQ(old.status, EVL_EBADF);
        ASSERT_UEQ(old.events, EVL_ERROR);
        ASSERT_EQ(fresh.calls, 0);
        test_write1(q[1]);
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
        ASSERT_EQ(fresh.calls, 1);
        ASSERT_EQ(old.calls, 1);
    } else {
        /* poll watches numbers: the old registration now watches the new file. */
        ASSERT_ERR(EVL_EEXIST, rc);
        ASSERT_OK(evl_fd_stop(loop, num));
        ASSERT_OK(evl_fd_start(loop, q[0], EVL_READABLE, record_cb, &fresh));
        ASSERT_EQ(old.calls, 0);
    }
    ASSERT_OK(evl_fd_stop(loop, q[0]));
    fix_deinit(&f);
}

/* A loop blocked in the poller (a never-ready fd, no deadline) is woken by a task from
 * another thread, which stops the registration: the loop then has nothing left and returns. */
static int blocked_fd;

static void stop_blocked(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_fd_stop(loop, blocked_fd));
}

static void *submit_stop_later(void *arg)
{
    struct evl_loop *loop = arg;
    /* Give the loop time to block; the test is correct whether it did or not. */
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    ASSERT_OK(evl_loop_submit(loop, stop_blocked, NULL));
    return NULL;
}

BACKEND_TEST(fd_poller_woken_by_submit)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    blocked_fd = p[0];
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, submit_stop_later, loop), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(s.calls, 0);
    ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
    fix_deinit(&f);
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    int n = 0;
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

BACKEND_TEST(fd_no_leak_over_repeated_loops)
{
    int base = count_open_fds();
    if (base < 0) {
        TEST_SKIP("no /proc/self/fd");
    }
    for (int round = 0; round < 20; round++) {
        struct fix f;
        fix_init(&f, FIX_PIPE);
        struct evl_loop *loop = f.loop;
        int *p = f.p;
        test_write1(p[1]);
        struct seen s = {.stop_self = 1};
        ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        ASSERT_EQ(s.calls, 1);
        /* Half the rounds leave an unref'd registration for teardown to drop. */
        if (round % 2) {
            ASSERT_OK(evl_fd_start(loop, p[1], EVL_WRITABLE, record_cb, &s));
            ASSERT_OK(evl_fd_unref(loop, p[1]));
        }
        fix_deinit(&f);
        ASSERT_EQ(count_open_fds(), base);
    }
}

BACKEND_TEST(fd_start_out_of_memory)
{
    for (uint64_t k = 1; k <= 8; k++) {
        struct fix f;
        fix_init(&f, FIX_PIPE);
        struct evl_loop *loop = f.loop;
        int *p = f.p;
        test_write1(p[1]);
        struct seen s = {0};
        evl_alloc_fail_at(k, 0);
        int rc = evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s);
        evl_alloc_fail_at(0, 0);
        if (rc == 0) {
            ASSERT_EQ(evl_fd_active(loop, p[0]), 1);
            ASSERT_OK(evl_fd_stop(loop, p[0]));
        } else {
            ASSERT_ERR(EVL_ENOMEM, rc);
            ASSERT_EQ(evl_fd_active(loop, p[0]), 0);
            ASSERT_FALSE(evl_loop_alive(loop));
        }
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
        ASSERT_EQ(s.calls, 0);
        fix_deinit(&f);
    }
}

BACKEND_TEST(fd_start_on_closed_loop)
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    fix_deinit(&f);
}

/* ---- fast path ----------------------------------------------------------------------------- */

struct switch_log {
    _Atomic int to_poller;
    _Atomic int to_fast;
};

static void switch_log_cb(void *ud, int level, const char *component, const char *msg)
{
    struct switch_log *sl = ud;
    if (level != EVL_LOG_DEBUG || strcmp(component, "io") != 0) {
        return;
    }
    if (strstr(msg, "switched to the fast-path sleep")) {
        atomic_fetch_add(&sl->to_fast, 1);
    } else if (strstr(msg, "switched to")) {
        atomic_fetch_add(&sl->to_poller, 1);
    }
}

BACKEND_TEST(fd_fast_path_switch_logged)
{
    struct switch_log sl = {0, 0};
    struct evl_loop_options o;
    test_loop_options(&o);
    o.log = switch_log_cb;
    o.log_ud = &sl;
    o.log_level = EVL_LOG_DEBUG;
    struct fix f;
    fix_init_opts(&f, FIX_TWO_PIPES, &o);
    struct evl_loop *loop = f.loop;
    int *a = f.p;
    int *b = f.q;
    struct seen s = {0};
    ASSERT_NULL(loop->io.hooks);
    ASSERT_OK(evl_fd_start(loop, a[0], EVL_READABLE, record_cb, &s));
    ASSERT_NOT_NULL(loop->io.hooks);
    ASSERT_OK(evl_fd_start(loop, b[0], EVL_READABLE, record_cb, &s));
    ASSERT_EQ(atomic_load(&sl.to_poller), 1);
    ASSERT_OK(evl_fd_stop(loop, a[0]));
    ASSERT_NOT_NULL(loop->io.hooks);
    ASSERT_EQ(atomic_load(&sl.to_fast), 0);
    ASSERT_OK(evl_fd_stop(loop, b[0]));
    ASSERT_NULL(loop->io.hooks); /* back to the loop's own sleep */
    ASSERT_EQ(atomic_load(&sl.to_fast), 1);
    /* The backend instance is kept: switching back costs no allocation. */
    uint64_t blocks = evl_test_live_blocks();
    ASSERT_OK(evl_fd_start(loop, a[0], EVL_READABLE, record_cb, &s));
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
    ASSERT_EQ(atomic_load(&sl.to_poller), 2);
    ASSERT_OK(evl_fd_stop(loop, a[0]));
    ASSERT_EQ(atomic_load(&sl.to_fast), 2);
    fix_deinit(&f);
}

/*
 * Race: producer threads submit tasks that register and unregister fds (through
 * evl_loop_submit, the only way other threads reach the fd API) interleaved with plain
 * tasks, so the loop keeps switching between its fast-path sleep and the poller while
 * wake-ups arrive. Run under TSan by the tsan preset.
 */
enum { RACE_THREADS = 2, RACE_PIPES = 4, RACE_ROUNDS = 2000 };

struct race {
    struct evl_loop *loop;
    int pipes[RACE_THREADS][RACE_PIPES][2];
    int fd_calls; /* loop thread only */
    int plain;    /* loop thread only */
    int done;     /* loop thread only */
    int toggles;  /* loop thread only */
};

struct race_msg {
    struct race *r;
    int fd;
};

static void race_fd_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    struct race *r = arg;
    r->fd_calls++;
}

static void race_toggle(struct evl_loop *loop, void *arg)
{
    struct race_msg *m = arg;
    m->r->toggles++;
    if (evl_fd_active(loop, m->fd)) {
        ASSERT_OK(evl_fd_stop(loop, m->fd));
    } else {
        ASSERT_OK(evl_fd_start(loop, m->fd, EVL_READABLE, race_fd_cb, m->r));
    }
    evl_free(m);
}

static void race_plain(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct race *r = arg;
    r->plain++;
}

static void race_done(struct evl_loop *loop, void *arg)
{
    struct race *r = arg;
    if (++r->done == RACE_THREADS) {
        ASSERT_OK(evl_loop_unref(loop));
    }
}

static struct race *race_state;
static _Atomic int race_next_thread;

static void *race_producer(void *arg)
{
    (void)arg;
    struct race *r = race_state;
    int t = atomic_fetch_add(&race_next_thread, 1);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        struct race_msg *m = evl_malloc(sizeof(*m));
        ASSERT_NOT_NULL(m);
        m->r = r;
        /* Each pipe is toggled an even number of times overall: all end stopped. */
        m->fd = r->pipes[t][(i / 2) % RACE_PIPES][0];
        ASSERT_OK(evl_loop_submit(r->loop, race_toggle, m));
        ASSERT_OK(evl_loop_submit(r->loop, race_plain, r));
        if ((i & 63) == 0) {
            sched_yield();
        }
    }
    ASSERT_OK(evl_loop_submit(r->loop, race_done, r));
    return NULL;
}

BACKEND_TEST(fd_fast_path_switch_race)
{
    static struct race r;
    memset(&r, 0, sizeof(r));
    struct switch_log sl = {0, 0};
    struct evl_loop_options o;
    test_loop_options(&o);
    o.log = switch_log_cb;
    o.log_ud = &sl;
    o.log_level = EVL_LOG_DEBUG;
    struct fix f;
    fix_init_opts(&f, FIX_LOOP_ONLY, &o);
    r.loop = f.loop;
    for (int t = 0; t < RACE_THREADS; t++) {
        for (int i = 0; i < RACE_PIPES; i++) {
            test_pipe(r.pipes[t][i]);
            if (i % 2 == 0) {
                test_write1(r.pipes[t][i][1]); /* half the pipes are always readable */
            }
        }
    }
    race_state = &r;
    atomic_store(&race_next_thread, 0);
    ASSERT_OK(evl_loop_ref(r.loop)); /* dropped by the last race_done */
    pthread_t th[RACE_THREADS];
    for (int t = 0; t < RACE_THREADS; t++) {
        ASSERT_EQ(pthread_create(&th[t], NULL, race_producer, NULL), 0);
    }
    ASSERT_OK(evl_loop_run(r.loop, EVL_RUN_DEFAULT));
    for (int t = 0; t < RACE_THREADS; t++) {
        ASSERT_EQ(pthread_join(th[t], NULL), 0);
    }
    ASSERT_EQ(r.toggles, RACE_THREADS * RACE_ROUNDS);
    ASSERT_EQ(r.plain, RACE_THREADS * RACE_ROUNDS);
    ASSERT_EQ(r.done, RACE_THREADS);
    ASSERT_NULL(r.loop->io.hooks); /* every pipe ended stopped */
    ASSERT_GE(atomic_load(&sl.to_poller), 1);
    ASSERT_EQ(atomic_load(&sl.to_poller), atomic_load(&sl.to_fast));
    fix_deinit(&f);
    for (int t = 0; t < RACE_THREADS; t++) {
        for (int i = 0; i < RACE_PIPES; i++) {
            close(r.pipes[t][i][0]);
            close(r.pipes[t][i][1]);
        }
    }
}

/* ---- the adaptive I/O spin (poll the fds without blocking before sleeping) ---- */

/* One byte bounced between an fd callback on the loop and a peer thread doing blocking
 * reads and writes (bench fd_pingpong_thread), the peer pausing gap_ns before each answer. */
struct spin_pp {
    int sv[2];
    int rounds;
    int count;
    uint64_t gap_ns;
    int peer_cpu;
};

static void spin_pp_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    struct spin_pp *p = arg;
    ASSERT_EQ(status, 0);
    ASSERT_TRUE(events & EVL_READABLE);
    char c = 0;
    ASSERT_EQ(read(fd, &c, 1), 1);
    if (++p->count >= p->rounds) {
        ASSERT_OK(evl_fd_stop(loop, fd));
        return;
    }
    ASSERT_EQ(write(fd, &c, 1), 1);
}

static void *spin_pp_peer(void *arg)
{
    struct spin_pp *p = arg;
    test_pin_self(p->peer_cpu);
    char c = 0;
    while (read(p->sv[1], &c, 1) == 1) { /* 0 once the loop's end is closed */
        if (p->gap_ns) {
            struct timespec ts = {0, (long)p->gap_ns};
            while (nanosleep(&ts, &ts) != 0) {
            }
        }
        if (write(p->sv[1], &c, 1) != 1) {
            break;
        }
    }
    return NULL;
}

static void spin_pingpong(uint32_t spin_ns, int rounds, uint64_t gap_ns, struct evl__loop_stats *st)
{
    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
    int loop_cpu = -1;
    struct spin_pp p = {{-1, -1}, rounds, 0, gap_ns, -1};
    test_two_cpus(&loop_cpu, &p.peer_cpu);
    test_pin_self(loop_cpu);
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, p.sv), 0);
    test_nonblock(p.sv[0]);
    struct evl_loop_options o;
    test_loop_options(&o);
    o.spin_ns = spin_ns;
    struct fix f;
    fix_init_opts(&f, FIX_LOOP_ONLY, &o);
    struct evl_loop *loop = f.loop;
    ASSERT_OK(evl_fd_start(loop, p.sv[0], EVL_READABLE, spin_pp_cb, &p));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, spin_pp_peer, &p), 0);
    test_write1(p.sv[0]);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    close(p.sv[0]);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    close(p.sv[1]);
    ASSERT_EQ(p.count, rounds);
    evl__loop_get_stats(loop, st);
    fix_deinit(&f);
    ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

/* A quick peer makes the loop poll its fds before sleeping, and some polls find the answer
 * (the sleeps meanwhile end by the fd soon after going idle). Only that it hit at all is
 * checked: a preempted peer makes a spin miss, and speed is the benchmark's business. On a
 * machine loaded enough that every one of 4,000 round trips was preempted, the run is
 * repeated (up to five times) before that counts as a failure. */
BACKEND_TEST(fd_spin_engages_for_quick_peer) /* labels: real-time */
{
    struct evl__loop_stats st;
    for (int attempt = 0; attempt < 5; attempt++) {
        spin_pingpong(0, 4000, 0, &st);
        if (st.io_spin_hits >= 1) {
            break;
        }
    }
    ASSERT_UGE(st.io_spins, 1);
    ASSERT_UGE(st.io_spin_hits, 1);
    ASSERT_ULE(st.io_spin_hits, st.io_spins);
    ASSERT_ULE(st.io_spins, st.spins);
    ASSERT_ULE(st.io_spin_hits, st.spin_hits);
}

/* A peer that answers only every 5 ms: each sleep ends long after going idle, so the loop
 * never spins for it. */
BACKEND_TEST(fd_spin_stays_off_for_slow_peer) /* labels: real-time */
{
    struct evl__loop_stats st;
    spin_pingpong(0, 30, 5000000, &st);
    ASSERT_UGE(st.sleeps, 20);
    ASSERT_UEQ(st.io_spins, 0);
    ASSERT_UEQ(st.spins, 0);
}

/* EVL_SPIN_OFF never spins, even for a peer that answers at once. */
BACKEND_TEST(fd_spin_off_never_spins) /* labels: real-time */
{
    struct evl__loop_stats st;
    spin_pingpong(EVL_SPIN_OFF, 2000, 0, &st);
    ASSERT_UEQ(st.spins, 0);
    ASSERT_UEQ(st.io_spins, 0);
    ASSERT_UEQ(st.spin_hits, 0);
}

/* A fixed spin polls the fds before every sleep it would otherwise take. */
BACKEND_TEST(fd_fixed_spin_polls_fds) /* labels: real-time */
{
    struct evl__loop_stats st;
    spin_pingpong(20000, 200, 0, &st);
    ASSERT_UGE(st.io_spins, 1);
    ASSERT_ULE(st.io_spin_hits, st.io_spins);
}

/* An idle loop with a registered fd that never becomes ready, woken only by a timer, sleeps
 * without spinning. */
struct spin_idle {
    int fd;
    int fires;
};

static void spin_idle_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    struct spin_idle *s = arg;
    if (++s->fires >= 8) {
        ASSERT_OK(evl_timer_clear(loop, id));
        ASSERT_OK(evl_fd_stop(loop, s->fd));
    }
}

BACKEND_TEST(fd_spin_stays_off_on_idle_loop) /* labels: real-time */
{
    struct fix f;
    fix_init(&f, FIX_PIPE);
    struct evl_loop *loop = f.loop;
    int *p = f.p;
    struct seen s = {0};
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, record_cb, &s));
    struct spin_idle si = {p[0], 0};
    ASSERT_OK(evl_timer_set(loop, spin_idle_timer, &si, 5, 5, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl__loop_stats st;
    evl__loop_get_stats(loop, &st);
    ASSERT_EQ(si.fires, 8);
    ASSERT_EQ(s.calls, 0);
    /* Each 5 ms gap is a sleep, except where a loaded host ran the loop so late that the next
     * interval was already due: the point is that none of them spun. */
    ASSERT_UGE(st.sleeps, 1);
    ASSERT_UEQ(st.spins, 0);
    ASSERT_UEQ(st.io_spins, 0);
    fix_deinit(&f);
}
