/* Idle-time accounting on its own (evl_metrics_idle_enable / evl_metrics_idle_time, what the
 * adapter's performance.eventLoopUtilization reads): off until enabled, independent of the
 * full metrics, the start set by the first run, blocking waits counted as idle and busy
 * work not. */
#include "evl_test.h"

#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nop_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

static void spin_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    uint64_t until = mono_ns() + *(uint64_t *)arg;
    while (mono_ns() < until) {
    }
}

static void enable_task(struct evl_loop *loop, void *arg)
{
    *(uint64_t *)arg = mono_ns();
    ASSERT_OK(evl_metrics_idle_enable(loop));
}

TEST(idle_time_needs_enabling)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    uint64_t idle = 7;
    uint64_t start = 7;
    ASSERT_EQ(EVL_ENOENT, evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_EQ(EVL_EINVAL, evl_metrics_idle_time(NULL, &idle, &start));
    ASSERT_EQ(EVL_EINVAL, evl_metrics_idle_time(loop, NULL, &start));
    ASSERT_EQ(EVL_EINVAL, evl_metrics_idle_enable(NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    ASSERT_OK(evl_metrics_idle_enable(loop)); /* idempotent */
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_UEQ(0, idle);
    ASSERT_UEQ(0, start); /* not run yet */
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(independent_of_metrics)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    ASSERT_EQ(0, evl_metrics_enabled(loop));
    ASSERT_OK(evl_metrics_enable(loop, NULL));
    ASSERT_EQ(1, evl_metrics_enabled(loop));
    ASSERT_OK(evl_metrics_disable(loop));
    ASSERT_EQ(0, evl_metrics_enabled(loop));
    uint64_t idle = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, NULL)); /* still accounting */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(blocking_wait_counts_as_idle) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    uint64_t before = mono_ns();
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 100, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    uint64_t after = mono_ns();
    uint64_t idle = 0;
    uint64_t start = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_UGE(start, before);
    ASSERT_ULE(start, after);
    ASSERT_UGE(idle, 50000000u);     /* most of the 100 ms was spent waiting */
    ASSERT_ULE(idle, after - start); /* never more than the run */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(busy_callback_is_not_idle) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    uint64_t spin_ns = 30000000u;
    ASSERT_OK(evl_loop_submit(loop, spin_task, &spin_ns));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    uint64_t now = mono_ns();
    uint64_t idle = 0;
    uint64_t start = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_NE(0, start);
    ASSERT_ULT(idle, 5000000u);              /* nothing to wait for */
    ASSERT_UGE(now - start - idle, spin_ns); /* busy = now - start - idle */
    ASSERT_OK(evl_loop_free(loop));
}

static void spin_fd_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    char c;
    ASSERT_EQ(read(fd, &c, 1), 1);
    spin_task(loop, arg);
    ASSERT_OK(evl_fd_stop(loop, fd));
}

/* The wait ends when the backend returns, before the fd callbacks the same call runs: their
 * time is busy, as in libuv (epoll_wait returning stops the idle clock). */
TEST(fd_callback_after_a_wait_is_not_idle) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    uint64_t spin_ns = 40000000u;
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, spin_fd_cb, &spin_ns));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    uint64_t now = mono_ns();
    uint64_t idle = 0;
    uint64_t start = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_ULT(idle, 10000000u); /* the fd was ready at once: the 40 ms are busy */
    ASSERT_UGE(now - start - idle, spin_ns);
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(start_is_the_first_run)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_metrics_idle_enable(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    uint64_t first = 0;
    uint64_t idle = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &first));
    ASSERT_NE(0, first);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    uint64_t second = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &second));
    ASSERT_UEQ(first, second);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(enabled_during_a_run_starts_then)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    uint64_t enabled_at = 0;
    ASSERT_OK(evl_loop_submit(loop, enable_task, &enabled_at));
    uint64_t before = mono_ns();
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    uint64_t idle = 0;
    uint64_t start = 0;
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, &start));
    ASSERT_UGE(start, before);
    ASSERT_UGE(start, enabled_at);
    ASSERT_ULE(start, mono_ns());
    ASSERT_OK(evl_loop_free(loop));
}
