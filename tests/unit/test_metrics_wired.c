/* Loop metrics recorded by a real loop: every callback kind counted at its own site, the
 * iteration and queue observations, the poll wait's idle time and wake-up causes, timer
 * lateness, enabling at creation, and the slow-callback log event. */
#include "evl_test.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static void snap(struct evl_loop *loop, struct evl_metrics_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->size = sizeof(*s);
    ASSERT_OK(evl_metrics_snapshot(loop, s));
}

static struct evl_loop *new_loop_with_metrics(uint32_t every, uint64_t slow_ns,
                                              struct evl_test_clock *clock)
{
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    mo.sample_every = every;
    mo.slow_ns = slow_ns;
    mo.delay_resolution_ms = UINT32_MAX; /* no probe: only the loop's own recording */
    struct evl_loop_options lo;
    evl_loop_options_init(&lo);
    lo.metrics = &mo;
    if (clock) {
        lo.clock = evl_test_clock_read;
        lo.clock_ud = clock;
    }
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &lo));
    return loop;
}

static void nop_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static void nop_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

static void queue_both(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_queue_microtask(loop, nop_task, NULL));
    ASSERT_OK(evl_next_tick(loop, nop_task, NULL));
    ASSERT_OK(evl_next_tick(loop, nop_task, NULL));
}

static void on_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    (void)arg;
    char c;
    ASSERT_EQ(read(fd, &c, 1), 1);
    ASSERT_OK(evl_fd_stop(loop, fd));
}

static int work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    return 0;
}

TEST(options_enable_metrics_at_creation)
{
    struct evl_loop *loop = new_loop_with_metrics(1, 0, NULL);
    ASSERT_EQ(evl_metrics_enabled(loop), 1);
    ASSERT_OK(evl_loop_free(loop));
    struct evl_metrics_options bad;
    evl_metrics_options_init(&bad);
    bad.size = 1; /* refused by evl_metrics_enable: nothing is left half-made */
    struct evl_loop_options lo;
    evl_loop_options_init(&lo);
    lo.metrics = &bad;
    struct evl_loop *l2 = (struct evl_loop *)&lo;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&l2, &lo));
    ASSERT_NULL(l2);
}

TEST(every_kind_counted_at_its_site)
{
    struct evl_loop *loop = new_loop_with_metrics(1, UINT64_MAX, NULL);
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 1));
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, on_fd, NULL));
    ASSERT_OK(evl_loop_submit(loop, queue_both, NULL)); /* 1 task, 1 microtask, 2 ticks */
    ASSERT_OK(evl_loop_submit(loop, nop_task, NULL));
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 1, 0, NULL));
    ASSERT_OK(evl_immediate_set(loop, nop_timer, NULL, NULL));
    ASSERT_OK(evl_immediate_set(loop, nop_timer, NULL, NULL));
    struct evl_promise *pr = NULL;
    ASSERT_OK(evl_pool_submit(pool, loop, work, NULL, &pr));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UGE(s.kind[EVL_METRICS_TASK].count, 3); /* 2 submitted + the pool's completion run */
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].count, 2);
    ASSERT_UEQ(s.kind[EVL_METRICS_IO].count, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_MICROTASK].count, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_NEXTTICK].count, 2);
    ASSERT_UEQ(s.kind[EVL_METRICS_POOL].count, 1);
    /* sample_every 1: every callback was timed. */
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].sampled, 2);
    ASSERT_UEQ(s.kind[EVL_METRICS_NEXTTICK].sampled, 2);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].slow, 0);
    ASSERT_UGE(s.iterations, 1);
    evl_promise_release(pr);
    close(p[0]);
    close(p[1]);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_pool_free(pool));
}

TEST(counts_exact_with_default_sampling)
{
    struct evl_loop *loop = new_loop_with_metrics(16, UINT64_MAX, NULL);
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(evl_loop_submit(loop, nop_task, NULL));
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 100);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 6); /* the 16th, 32nd ... 96th */
    ASSERT_OK(evl_loop_free(loop));
}

static void queue_50_microtasks(struct evl_loop *loop, void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        ASSERT_OK(evl_queue_microtask(loop, nop_task, NULL));
    }
}

/* Phases that run a batch of one kind: each callback is counted, one in 16 of each kind is
 * timed, and a snapshot taken from a callback mid-batch already counts it. */
static void snapshot_mid_batch(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    *(uint64_t *)arg = s.kind[EVL_METRICS_IMMEDIATE].count;
}

TEST(batches_counted_exactly)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop *loop = new_loop_with_metrics(16, UINT64_MAX, &clock);
    uint64_t seen = 0;
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(evl_immediate_set(loop, i == 36 ? snapshot_mid_batch : nop_timer,
                                    i == 36 ? &seen : NULL, NULL));
    }
    for (int i = 0; i < 40; i++) {
        ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 5, 0, NULL));
    }
    ASSERT_OK(evl_loop_submit(loop, queue_50_microtasks, NULL));
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0); /* the task, microtasks, immediates */
    evl_test_clock_advance_ms(&clock, 5);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* the 40 timers in one run */
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(seen, 37);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].count, 100);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].sampled, 6);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 40);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].sampled, 2);
    ASSERT_UEQ(s.kind[EVL_METRICS_MICROTASK].count, 50);
    ASSERT_UEQ(s.kind[EVL_METRICS_MICROTASK].sampled, 3);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 0);
    ASSERT_UEQ(s.delay_count, 2); /* lateness of the timed timers */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(queue_depths_observed_each_iteration)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop *loop = new_loop_with_metrics(1, UINT64_MAX, &clock);
    ASSERT_OK(evl_loop_submit(loop, nop_task, NULL));
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(evl_immediate_set(loop, nop_timer, NULL, NULL));
    }
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 50, 0, NULL));
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0); /* observed at the top, then run */
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.iterations, 2);
    ASSERT_UEQ(s.queue[EVL_METRICS_Q_IMMEDIATES].max, 3);
    ASSERT_UEQ(s.queue[EVL_METRICS_Q_IMMEDIATES].depth, 3); /* the last observation */
    ASSERT_UEQ(s.queue[EVL_METRICS_Q_TIMERS].depth, 1);
    ASSERT_UEQ(s.queue[EVL_METRICS_Q_SUBMIT].observed, 1); /* sampled every 256th iteration */
    evl_test_clock_advance_ms(&clock, 50);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(timer_lateness_feeds_the_delay_histogram)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop *loop = new_loop_with_metrics(1, UINT64_MAX, &clock);
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 10, 0, NULL));
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 20, 0, NULL));
    evl_test_clock_advance_ms(&clock, 40); /* 30 ms and 20 ms late */
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.delay_count, 2);
    ASSERT_UEQ(s.delay_max_ns, 30000000);
    ASSERT_UEQ(s.delay_min_ns, 20000000);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(poll_wait_is_idle_time) /* labels: real-time */
{
    struct evl_loop *loop = new_loop_with_metrics(1, UINT64_MAX, NULL);
    ASSERT_OK(evl_timer_set(loop, nop_timer, NULL, 30, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UGE(s.idle_ns, 20000000); /* most of the 30 ms was spent asleep */
    ASSERT_UGE(s.wakeups[EVL_METRICS_WAKE_TIMER], 1);
    ASSERT_TRUE(s.utilization >= 0.0 && s.utilization < 0.5);
    ASSERT_OK(evl_loop_free(loop));
}

struct seen {
    int slow;
    char kind[16];
};

static void sink(void *ud, const struct evl_log_record *r)
{
    struct seen *seen = ud;
    if (r->event && strcmp(r->event, "slow_callback") == 0) {
        seen->slow++;
        for (size_t i = 0; i < r->nfields; i++) {
            if (strcmp(r->fields[i].key, "kind") == 0) {
                snprintf(seen->kind, sizeof(seen->kind), "%s", r->fields[i].v.s);
            }
        }
    }
}

static void slow_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
}

TEST(slow_callback_logged_as_warning) /* labels: real-time */
{
    struct evl_loop *loop = new_loop_with_metrics(1, 1000000, NULL);
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    ASSERT_OK(evl_logger_add_callback(loop, sink, &seen, EVL_LOG_WARN));
    ASSERT_OK(evl_loop_submit(loop, slow_task, NULL));
    ASSERT_OK(evl_loop_submit(loop, nop_task, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(seen.slow, 1);
    ASSERT_STR_EQ(seen.kind, "task");
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].slow, 1);
    ASSERT_OK(evl_loop_free(loop));
}

struct events {
    int start, stop, unhandled;
};

static void event_sink(void *ud, const struct evl_log_record *r)
{
    struct events *e = ud;
    if (r->event == NULL) {
        return;
    }
    if (strcmp(r->event, "start") == 0 && strcmp(r->component, "loop") == 0) {
        e->start++;
    } else if (strcmp(r->event, "stop") == 0 && strcmp(r->component, "loop") == 0) {
        e->stop++;
    } else if (strcmp(r->event, "unhandled_rejection") == 0) {
        ASSERT_EQ(r->level, EVL_LOG_WARN);
        e->unhandled++;
    }
}

TEST(loop_events_and_unhandled_rejection_counted)
{
    struct evl_loop *loop = new_loop_with_metrics(1, UINT64_MAX, NULL);
    struct events e;
    memset(&e, 0, sizeof(e));
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_INFO));
    ASSERT_OK(evl_logger_add_callback(loop, event_sink, &e, EVL_LOG_INFO));
    struct evl_promise *p = NULL;
    static char reason[] = "disk";
    ASSERT_OK(evl_promise_rejected(loop, reason, NULL, &p));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(e.start, 1);
    ASSERT_EQ(e.stop, 1);
    ASSERT_EQ(e.unhandled, 1);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.unhandled_rejections, 1);
    evl_promise_release(p);
    ASSERT_OK(evl_loop_free(loop));
}
