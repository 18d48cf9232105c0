/* Loop metrics: the histogram, the recording points, publication and the snapshot. The
 * recording points are driven by hand here (as the loop calls them), so every figure is
 * known exactly. */
#include "evl_test.h"

#include "core/metrics/metrics_internal.h"

#include <pthread.h>
#include <time.h>

static struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct evl__metrics *state(struct evl_loop *loop)
{
    return atomic_load(&evl__obs_peek(loop)->metrics);
}

static void snap(struct evl_loop *loop, struct evl_metrics_snapshot *s)
{
    memset(s, 0, sizeof(*s));
    s->size = sizeof(*s);
    ASSERT_OK(evl_metrics_snapshot(loop, s));
}

struct foreign {
    struct evl_loop *loop;
    struct evl_metrics_snapshot s;
    int rc;
};

static void *foreign_snapshot(void *arg)
{
    struct foreign *f = arg;
    f->s.size = sizeof(f->s);
    f->rc = evl_metrics_snapshot(f->loop, &f->s);
    return NULL;
}

static void enable(struct evl_loop *loop, uint32_t every, uint64_t slow_ns)
{
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.sample_every = every;
    o.slow_ns = slow_ns;
    o.delay_resolution_ms = UINT32_MAX;
    ASSERT_OK(evl_metrics_enable(loop, &o));
}

TEST(hist_buckets_tile_the_range)
{
    for (unsigned i = 0; i + 1 < EVL__HIST_BUCKETS; i++) {
        uint64_t lo = evl__hist_bucket_low(i);
        uint64_t w = evl__hist_bucket_width(i);
        ASSERT_EQ(evl__hist_index(lo), i);
        ASSERT_EQ(evl__hist_index(lo + w - 1), i);
        ASSERT_UEQ(evl__hist_bucket_low(i + 1), lo + w);
        if (lo >= 16) {
            ASSERT_TRUE(w * 16 <= lo); /* width at most 1/16 of the bound */
        }
    }
    ASSERT_EQ(evl__hist_index(UINT64_MAX), EVL__HIST_BUCKETS - 1);
}

TEST(hist_small_counts_exact)
{
    struct evl__hist *h = calloc(1, sizeof(*h));
    uint64_t vals[] = {900, 100, 500, 300, 700, 200, 1000, 400, 800, 600};
    for (size_t i = 0; i < 10; i++) {
        evl__hist_add(h, vals[i] * 1000003u);
    }
    ASSERT_UEQ(evl__hist_quantile(h, 0.5), 500u * 1000003u);
    ASSERT_UEQ(evl__hist_quantile(h, 0.9), 900u * 1000003u);
    ASSERT_UEQ(evl__hist_quantile(h, 0.99), 1000u * 1000003u);
    ASSERT_UEQ(evl__hist_quantile(h, 0.1), 100u * 1000003u);
    ASSERT_UEQ(h->min, 100u * 1000003u);
    ASSERT_UEQ(h->max, 1000u * 1000003u);
    free(h);
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

TEST(hist_large_counts_within_bound)
{
    enum { N = 200000 };
    struct evl__hist *h = calloc(1, sizeof(*h));
    uint64_t *v = malloc(N * sizeof(*v));
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* log-uniform between 100 ns and ~100 ms */
        v[i] = 100u << (x % 20) | (x >> 40 & 1023);
        evl__hist_add(h, v[i]);
    }
    qsort(v, N, sizeof(*v), cmp);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (int i = 0; i < 4; i++) {
        uint64_t exact = v[(size_t)(qs[i] * N + 0.999999) - 1];
        uint64_t est = evl__hist_quantile(h, qs[i]);
        double err = (double)(est > exact ? est - exact : exact - est) / (double)exact;
        ASSERT_TRUE(err <= 1.0 / 32);
    }
    ASSERT_UEQ(h->n, N);
    free(v);
    free(h);
}

TEST(disabled_records_nothing)
{
    struct evl_loop *loop = new_loop();
    ASSERT_EQ(evl_metrics_enabled(loop), 0);
    uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_TIMER);
    ASSERT_UEQ(t, 0);
    evl__metrics_cb_end(loop, EVL_METRICS_TIMER, t);
    evl__metrics_poll_begin(loop, 1);
    evl__metrics_poll_end(loop, EVL_METRICS_WAKE_IO);
    evl__metrics_queue_depth(loop, EVL_METRICS_Q_SUBMIT, 5);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_EQ(s.enabled, 0);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 0);
    ASSERT_PTR_EQ(evl__obs_peek(loop), NULL); /* nothing was even allocated */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(counts_exact_latency_sampled)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 4, 0);
    for (int i = 0; i < 100; i++) {
        uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_IMMEDIATE);
        evl__metrics_cb_end(loop, EVL_METRICS_IMMEDIATE, t);
    }
    for (int i = 0; i < 7; i++) {
        uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_IO);
        evl__metrics_cb_end(loop, EVL_METRICS_IO, t);
    }
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_EQ(s.enabled, 1);
    ASSERT_UEQ(s.sample_every, 4);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].count, 100);
    ASSERT_UEQ(s.kind[EVL_METRICS_IO].count, 7);
    /* one in four callbacks of each kind: the 4th, 8th, ... 100th; the 4th I/O callback */
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].sampled, 25);
    ASSERT_UEQ(s.kind[EVL_METRICS_IO].sampled, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void run_kind(struct evl_loop *loop, enum evl_metrics_kind kind)
{
    evl__metrics_cb_end(loop, kind, evl__metrics_cb_begin(loop, kind));
}

TEST(counts_exact_between_samples)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 5, 0);
    struct evl_metrics_snapshot s;
    for (int i = 0; i < 23; i++) {
        run_kind(loop, EVL_METRICS_IMMEDIATE);
        if (i % 3 == 0) {
            run_kind(loop, EVL_METRICS_IO);
        }
        if (i == 11) { /* between two timed callbacks of either kind */
            snap(loop, &s);
            ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].count, 12);
            ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].sampled, 2); /* the 5th and 10th */
            ASSERT_UEQ(s.kind[EVL_METRICS_IO].count, 4);
            ASSERT_UEQ(s.kind[EVL_METRICS_IO].sampled, 0);
        }
    }
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].count, 23);
    ASSERT_UEQ(s.kind[EVL_METRICS_IMMEDIATE].sampled, 4);
    ASSERT_UEQ(s.kind[EVL_METRICS_IO].count, 8);
    ASSERT_UEQ(s.kind[EVL_METRICS_IO].sampled, 1);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 0);
    /* Another thread sees the same exact counts once they are published. */
    evl__metrics_publish(loop, state(loop), 1);
    struct foreign f;
    memset(&f, 0, sizeof(f));
    f.loop = loop;
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, foreign_snapshot, &f), 0);
    pthread_join(th, NULL);
    ASSERT_OK(f.rc);
    ASSERT_UEQ(f.s.kind[EVL_METRICS_IMMEDIATE].count, 23);
    ASSERT_UEQ(f.s.kind[EVL_METRICS_IO].count, 8);
    ASSERT_UEQ(f.s.kind[EVL_METRICS_IO].sampled, 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(reset_keeps_counts_exact)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 4, 0);
    for (int i = 0; i < 6; i++) {
        run_kind(loop, EVL_METRICS_TASK);
        evl__metrics_iteration(loop);
    }
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 6);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 1);
    ASSERT_UEQ(s.iterations, 6);
    ASSERT_OK(evl_metrics_reset(loop)); /* two callbacks into the countdown */
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 0);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 0);
    ASSERT_UEQ(s.iterations, 0);
    for (int i = 0; i < 3; i++) {
        run_kind(loop, EVL_METRICS_TASK);
        evl__metrics_iteration(loop);
    }
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 3);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 1); /* the 8th since enabling */
    ASSERT_UEQ(s.iterations, 3);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(smaller_sample_every_applies_at_once)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1000, 0);
    for (int i = 0; i < 10; i++) {
        run_kind(loop, EVL_METRICS_TIMER);
    }
    enable(loop, 2, 0); /* on the loop thread: the countdowns are cut to 2 */
    for (int i = 0; i < 4; i++) {
        run_kind(loop, EVL_METRICS_TIMER);
    }
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].count, 14);
    ASSERT_UEQ(s.kind[EVL_METRICS_TIMER].sampled, 2);
    ASSERT_UEQ(s.sample_every, 2);
    ASSERT_OK(evl_loop_free(loop));
}

static void *set_every_2(void *arg)
{
    struct evl_loop *loop = arg;
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.sample_every = 2;
    o.delay_resolution_ms = UINT32_MAX;
    intptr_t rc = evl_metrics_enable(loop, &o);
    return (void *)rc;
}

TEST(sample_every_from_another_thread_applies_within_iterations)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1000, 0);
    evl__metrics_iteration(loop); /* the first iteration samples the queues */
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, set_every_2, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, 0);
    /* The loop has not run the task that applies the options: the old countdown holds for
     * the rest of this stretch of iterations. */
    for (unsigned i = 1; i < EVL__METRICS_ITER_SAMPLE; i++) {
        evl__metrics_iteration(loop);
    }
    run_kind(loop, EVL_METRICS_TASK);
    run_kind(loop, EVL_METRICS_TASK);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 0);
    evl__metrics_iteration(loop); /* the next queue sample cuts the countdowns */
    run_kind(loop, EVL_METRICS_TASK);
    run_kind(loop, EVL_METRICS_TASK);
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 4);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].sampled, 1);
    ASSERT_UEQ(s.iterations, EVL__METRICS_ITER_SAMPLE + 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* runs the options task */
    ASSERT_OK(evl_loop_free(loop));
}

/* Every word of the published copy equals the live data's. */
static void assert_published_whole(struct evl__metrics *m)
{
    const unsigned char *live = (const unsigned char *)&m->live;
    for (size_t i = 0; i < EVL__MDATA_WORDS; i++) {
        uint64_t w;
        memcpy(&w, live + i * sizeof(w), sizeof(w));
        ASSERT_UEQ(atomic_load(&m->pub[i]), w);
    }
}

TEST(publication_copies_every_change)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    struct evl__metrics *m = state(loop);
    /* Delay values spread over many buckets, past the exact prefix, in three publications,
     * and timed callbacks of two kinds in between. */
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 50; i++) {
            evl__metrics_timer_late(loop, (uint64_t)((i * 7919u + round * 104729u) % 100000u) *
                                              ((uint64_t)1 << (i % 20)));
            run_kind(loop, round == 1 ? EVL_METRICS_POOL : EVL_METRICS_MICROTASK);
        }
        evl__metrics_iteration(loop);
        evl__metrics_publish(loop, m, 1);
        assert_published_whole(m);
    }
    ASSERT_OK(evl_metrics_reset(loop));
    evl__metrics_timer_late(loop, 42);
    evl__metrics_publish(loop, m, 1);
    assert_published_whole(m);
    struct foreign f;
    memset(&f, 0, sizeof(f));
    f.loop = loop;
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, foreign_snapshot, &f), 0);
    pthread_join(th, NULL);
    ASSERT_OK(f.rc);
    ASSERT_UEQ(f.s.delay_count, 1);
    ASSERT_UEQ(f.s.delay_q.p99, 42);
    ASSERT_UEQ(f.s.kind[EVL_METRICS_MICROTASK].count, 0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(slow_callbacks_counted)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 2000000); /* 2 ms */
    uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_TIMER);
    sleep_ms(5);
    evl__metrics_cb_end(loop, EVL_METRICS_TIMER, t);
    t = evl__metrics_cb_begin(loop, EVL_METRICS_TIMER);
    evl__metrics_cb_end(loop, EVL_METRICS_TIMER, t);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    struct evl_metrics_kind_stats *k = &s.kind[EVL_METRICS_TIMER];
    ASSERT_UEQ(k->count, 2);
    ASSERT_UEQ(k->sampled, 2);
    ASSERT_UEQ(k->slow, 1);
    ASSERT_UGE(k->max_ns, 5000000);
    ASSERT_ULT(k->min_ns, 2000000);
    ASSERT_UEQ(k->q.p99, k->max_ns); /* two values: exact */
    ASSERT_TRUE(k->mean_ns * 2 >= (double)k->max_ns);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(cpu_time_sampled)
{
    struct evl_loop *loop = new_loop();
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.sample_every = 1;
    o.cpu_sample_every = 2;
    o.delay_resolution_ms = UINT32_MAX;
    ASSERT_OK(evl_metrics_enable(loop, &o));
    for (int i = 0; i < 4; i++) {
        uint64_t t = evl__metrics_cb_begin(loop, EVL_METRICS_TASK);
        uint64_t start = evl_thread_cpu_ns();
        volatile uint64_t spin = 0;
        while (evl_thread_cpu_ns() - start < 3000000) {
            spin++;
        }
        evl__metrics_cb_end(loop, EVL_METRICS_TASK, t);
    }
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].cpu_sampled, 2);
    ASSERT_UGE(s.kind[EVL_METRICS_TASK].cpu_ns, 6000000);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(queue_gauges)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    evl__metrics_queue_depth(loop, EVL_METRICS_Q_MICROTASK, 16);
    evl__metrics_queue_depth(loop, EVL_METRICS_Q_MICROTASK, 32);
    evl__metrics_queue_depth(loop, EVL_METRICS_Q_MICROTASK, 0);
    evl__metrics_refusal(loop, EVL_METRICS_Q_MICROTASK);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    struct evl_metrics_queue_stats *q = &s.queue[EVL_METRICS_Q_MICROTASK];
    ASSERT_UEQ(q->depth, 0);
    ASSERT_UEQ(q->max, 32);
    ASSERT_UEQ(q->observed, 3);
    ASSERT_UEQ(q->refusals, 1);
    /* 16, then 16 + (32-16)/16 = 17, then 17 - 17/16 */
    ASSERT_DEQ(q->avg, 17.0 - 17.0 / 16.0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(utilization_idle_vs_busy) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    evl__metrics_iteration(loop);
    evl__metrics_poll_begin(loop, 1);
    sleep_ms(30);
    evl__metrics_poll_end(loop, EVL_METRICS_WAKE_IO);
    uint64_t start = evl__monotonic_ns();
    while (evl__monotonic_ns() - start < 10000000) {
    }
    evl__metrics_iteration(loop);
    evl__metrics_poll_begin(loop, 0);
    evl__metrics_poll_end(loop, EVL_METRICS_WAKE_TIMER);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.iterations, 2);
    ASSERT_UGE(s.idle_ns, 30000000);
    ASSERT_UGE(s.busy_ns, 10000000);
    /* Busy over busy plus idle: the shares themselves depend on how a loaded host scheduled
     * this thread, their ratio does not. */
    double expect = (double)s.busy_ns / (double)(s.busy_ns + s.idle_ns);
    ASSERT_TRUE(s.utilization > 0.0 && s.utilization < 1.0);
    ASSERT_TRUE(s.utilization > expect - 0.01 && s.utilization < expect + 0.01);
    ASSERT_UEQ(s.wakeups[EVL_METRICS_WAKE_IO], 1);
    ASSERT_UEQ(s.wakeups[EVL_METRICS_WAKE_TIMER], 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(fastpath_and_rejections)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    evl__metrics_fastpath(loop, 1);
    evl__metrics_fastpath(loop, 0);
    evl__metrics_fastpath(loop, 1);
    evl__metrics_rejection(loop, 0);
    evl__metrics_rejection(loop, 1);
    evl__metrics_timer_late(loop, 3000000);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.fastpath_enter, 2);
    ASSERT_UEQ(s.fastpath_leave, 1);
    ASSERT_UEQ(s.unhandled_rejections, 1);
    ASSERT_UEQ(s.handled_late, 1);
    ASSERT_UEQ(s.delay_count, 1);
    ASSERT_UEQ(s.delay_max_ns, 3000000);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(disable_keeps_data_and_stops_counting)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    evl__metrics_cb_end(loop, EVL_METRICS_TASK, evl__metrics_cb_begin(loop, EVL_METRICS_TASK));
    ASSERT_OK(evl_metrics_disable(loop));
    ASSERT_EQ(evl_metrics_enabled(loop), 0);
    evl__metrics_cb_end(loop, EVL_METRICS_TASK, evl__metrics_cb_begin(loop, EVL_METRICS_TASK));
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_EQ(s.enabled, 0);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 1);
    enable(loop, 1, 0);
    evl__metrics_cb_end(loop, EVL_METRICS_TASK, evl__metrics_cb_begin(loop, EVL_METRICS_TASK));
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 2);
    ASSERT_OK(evl_metrics_reset(loop));
    snap(loop, &s);
    ASSERT_UEQ(s.kind[EVL_METRICS_TASK].count, 0);
    ASSERT_EQ(s.enabled, 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(bad_arguments)
{
    struct evl_loop *loop = new_loop();
    struct evl_metrics_snapshot s;
    s.size = sizeof(s) - 8;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_snapshot(loop, &s));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_snapshot(NULL, &s));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_enable(NULL, NULL));
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.size = 3;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_enable(loop, &o));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_reset(loop));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- publication to other threads ----------------------------------------------------- */

struct reader {
    struct evl_loop *loop;
    _Atomic int stop;
    int reads;
    int torn;
};

static void *read_snapshots(void *arg)
{
    struct reader *r = arg;
    struct evl_metrics_snapshot s;
    while (!atomic_load(&r->stop)) {
        memset(&s, 0, sizeof(s));
        s.size = sizeof(s);
        if (evl_metrics_snapshot(r->loop, &s) != 0) {
            r->torn++;
            break;
        }
        /* The writer moves the three counters together between publications. */
        if (s.kind[EVL_METRICS_TASK].count != s.kind[EVL_METRICS_TIMER].count ||
            s.kind[EVL_METRICS_TASK].count != s.iterations) {
            r->torn++;
        }
        r->reads++;
    }
    return NULL;
}

TEST(snapshot_from_another_thread_is_consistent)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 64, 0);
    struct evl__metrics *m = state(loop);
    struct reader r = {loop, 0, 0, 0};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, read_snapshots, &r), 0);
    for (int i = 0; i < 20000 || r.reads < 100; i++) {
        evl__metrics_cb_end(loop, EVL_METRICS_TASK, evl__metrics_cb_begin(loop, EVL_METRICS_TASK));
        evl__metrics_cb_end(loop, EVL_METRICS_TIMER,
                            evl__metrics_cb_begin(loop, EVL_METRICS_TIMER));
        evl__metrics_iteration(loop);
        evl__metrics_publish(loop, m, 1);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    ASSERT_EQ(r.torn, 0);
    ASSERT_GE(r.reads, 100);
    ASSERT_OK(evl_loop_free(loop));
}

/* The submit batch runner counts it (a task kind callback). */
static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

TEST(loop_publishes_before_poll)
{
    struct evl_loop *loop = new_loop();
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.publish_ns = 1; /* publish at every chance */
    o.delay_resolution_ms = UINT32_MAX;
    ASSERT_OK(evl_metrics_enable(loop, &o));
    ASSERT_OK(evl_loop_submit(loop, count_task, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_submit(loop, count_task, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT)); /* a prepare point after the last task */
    struct foreign f;
    memset(&f, 0, sizeof(f));
    f.loop = loop;
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, foreign_snapshot, &f), 0);
    pthread_join(th, NULL);
    ASSERT_OK(f.rc);
    ASSERT_EQ(f.s.enabled, 1);
    ASSERT_UEQ(f.s.kind[EVL_METRICS_TASK].count, 2);
    ASSERT_TRUE(f.s.published_ns != 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void *enable_from_thread(void *arg)
{
    struct evl_loop *loop = arg;
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.delay_resolution_ms = 10; /* with the probe, installed by the loop thread */
    intptr_t rc = evl_metrics_enable(loop, &o);
    return (void *)rc;
}

TEST(enable_from_another_thread)
{
    struct evl_loop *loop = new_loop();
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, enable_from_thread, loop), 0);
    pthread_join(th, &rc);
    ASSERT_EQ((intptr_t)rc, 0);
    ASSERT_EQ(evl_metrics_enabled(loop), 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT)); /* installs the publish hook and probe */
    ASSERT_EQ(state(loop)->hooked, 1);
    ASSERT_TRUE(state(loop)->delay_timer != 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* the unref'd probe keeps nothing alive */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(delay_probe_measures_lateness)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop_options lo;
    evl_loop_options_init(&lo);
    lo.clock = evl_test_clock_read;
    lo.clock_ud = &clock;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &lo));
    struct evl_metrics_options o;
    evl_metrics_options_init(&o);
    o.delay_resolution_ms = 10;
    ASSERT_OK(evl_metrics_enable(loop, &o));
    evl_test_clock_advance_ms(&clock, 35); /* the loop was blocked 25 ms past the probe */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    evl_test_clock_advance_ms(&clock, 10); /* on time */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.delay_count, 2);
    ASSERT_UEQ(s.delay_max_ns, 25000000);
    ASSERT_UEQ(s.delay_min_ns, 0);
    ASSERT_DEQ(s.delay_mean_ns, 12500000.0);
    ASSERT_DEQ(s.delay_stddev_ns, 12500000.0);
    ASSERT_UEQ(s.delay_q.p50, 0);
    ASSERT_UEQ(s.delay_q.p99, 25000000);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(promise_counters_pulled_in)
{
    struct evl_loop *loop = new_loop();
    enable(loop, 1, 0);
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    evl__metrics_publish(loop, state(loop), 1);
    struct evl_metrics_snapshot s;
    snap(loop, &s);
    ASSERT_UEQ(s.promises_created, 1);
    ASSERT_UEQ(s.promises_pending, 1);
    evl_promise_release(p);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}
