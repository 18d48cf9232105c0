/* Overload controls: shutdown under a flood and with a deadline, the bounded queue, token
 * buckets, batch budgets and sandbox limits (docs/overload.md). */
#include "evl_test.h"

#include "core/loop_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static uint64_t runs;
static _Atomic uint64_t discards;

static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    runs++;
}

static void count_discard(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    atomic_fetch_add(&discards, 1);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- producers at full speed ---------------------------------------------------------------- */

struct flood {
    struct evl_loop *loop;
    _Atomic int *stop;
    uint64_t attempted;
    uint64_t accepted;
    uint64_t refused; /* EVL_EAGAIN */
    uint64_t closed;  /* EVL_ECLOSED (the last attempt) */
    int wait;         /* use evl_loop_submit_wait */
};

/* Submits without pause until the loop refuses with EVL_ECLOSED (or *stop is set). */
static void *flood_producer(void *p)
{
    struct flood *f = p;
    while (!atomic_load_explicit(f->stop, memory_order_relaxed)) {
        f->attempted++;
        int rc = f->wait ? evl_loop_submit_wait(f->loop, count_task, count_discard, NULL,
                                                UINT64_C(1000000000))
                         : evl_loop_submit_ex(f->loop, count_task, count_discard, NULL);
        if (rc == 0) {
            f->accepted++;
        } else if (rc == EVL_EAGAIN || rc == EVL_ETIMEDOUT) {
            f->refused++;
        } else {
            ASSERT_ERR(EVL_ECLOSED, rc);
            f->closed++;
            return NULL;
        }
    }
    return NULL;
}

static void *run_loop_thread(void *p)
{
    struct evl_loop *loop = p;
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    return NULL;
}

/* Runs n producers against a loop running on its own thread for ms, then shuts it down
 * from this thread; returns the sums over the producers in *sum. */
static void flood_then_shutdown(struct evl_loop *loop, int n, unsigned ms, int wait,
                                uint64_t timeout_ns, struct flood *sum)
{
    _Atomic int stop = 0;
    struct flood f[16];
    pthread_t th[16];
    pthread_t lt;
    runs = 0;
    atomic_store(&discards, 0);
    ASSERT_OK(evl_loop_ref(loop)); /* alive while producers pause */
    ASSERT_EQ(pthread_create(&lt, NULL, run_loop_thread, loop), 0);
    for (int i = 0; i < n; i++) {
        f[i] = (struct flood){loop, &stop, 0, 0, 0, 0, wait};
        ASSERT_EQ(pthread_create(&th[i], NULL, flood_producer, &f[i]), 0);
    }
    sleep_ms(ms);
    uint64_t t0 = mono_ns();
    ASSERT_OK(evl_loop_shutdown_ex(loop, timeout_ns));
    uint64_t t1 = mono_ns();
    /* Admission closed at the call: a submit starting now is refused. */
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(loop, count_task, NULL));
    ASSERT_ULT(t1 - t0, UINT64_C(1000000000));
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    }
    ASSERT_EQ(pthread_join(lt, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    memset(sum, 0, sizeof(*sum));
    for (int i = 0; i < n; i++) {
        ASSERT_UEQ(f[i].closed, 1); /* every producer saw the shutdown */
        sum->attempted += f[i].attempted;
        sum->accepted += f[i].accepted;
        sum->refused += f[i].refused;
        sum->closed += f[i].closed;
    }
    /* Every attempt is accounted for, and every accepted task ran or was discarded. */
    ASSERT_UEQ(sum->accepted + sum->refused + sum->closed, sum->attempted);
    ASSERT_UEQ(runs + atomic_load(&discards), sum->accepted);
    ASSERT_UEQ(evl_loop_discarded(loop), atomic_load(&discards));
}

/* The reported hang: producers faster than the loop kept a shutdown from ever finishing. */
TEST(shutdown_under_flood_of_16_producers_conserves_tasks) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct flood sum;
    flood_then_shutdown(loop, 16, 30, 0, 0, &sum);
    ASSERT_UEQ(atomic_load(&discards), 0); /* no deadline: everything accepted ran */
    ASSERT_UEQ(runs, sum.accepted);
    ASSERT_UGE(sum.accepted, 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(shutdown_under_flood_with_deadline_returns_in_time) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    struct flood sum;
    uint64_t t0 = mono_ns();
    flood_then_shutdown(loop, 16, 30, 0, UINT64_C(20000000), &sum);
    /* 30 ms of flood, a 20 ms deadline: well under a second even on a loaded machine. */
    ASSERT_ULT(mono_ns() - t0, UINT64_C(2000000000));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- deadlines on a fake clock ------------------------------------------------------------- */

static struct evl_test_clock fake;

static struct evl_loop *fake_loop(const struct evl_loop_options *base)
{
    struct evl_loop_options o;
    if (base) {
        o = *base;
    } else {
        evl_loop_options_init(&o);
    }
    fake.now_ns = UINT64_C(1000000000);
    o.clock = evl_test_clock_read;
    o.clock_ud = &fake;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    runs = 0;
    atomic_store(&discards, 0);
    return loop;
}

/* A 1 ms task: advances the fake clock. */
static void slow_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    runs++;
    fake.now_ns += UINT64_C(1000000);
}

/* Queues itself again, forever: only a deadline ends a shutdown drain of it. */
static void requeue_task(struct evl_loop *loop, void *arg)
{
    slow_task(loop, arg);
    ASSERT_OK(evl_loop_submit_ex(loop, requeue_task, count_discard, arg));
}

TEST(shutdown_deadline_discards_the_rest_and_counts_it)
{
    struct evl_loop *loop = fake_loop(NULL);
    for (int i = 0; i < 1000; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, slow_task, count_discard, NULL));
    }
    uint64_t start = fake.now_ns;
    /* On the loop thread of a loop that is not running: drains right here. */
    ASSERT_OK(evl_loop_shutdown_ex(loop, UINT64_C(10000000)));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs + atomic_load(&discards), 1000);
    ASSERT_UEQ(evl_loop_discarded(loop), atomic_load(&discards));
    /* The deadline is seen between batches: past it by at most one task batch budget. */
    ASSERT_UGE(runs, 10);
    ASSERT_ULE(fake.now_ns - start, UINT64_C(10000000) + UINT64_C(2000000));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown_ex(loop, 1));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(shutdown_deadline_ends_work_that_requeues_itself)
{
    struct evl_loop *loop = fake_loop(NULL);
    ASSERT_OK(evl_loop_submit_ex(loop, requeue_task, count_discard, NULL));
    ASSERT_OK(evl_loop_shutdown_ex(loop, UINT64_C(50000000)));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UGE(runs, 50);
    ASSERT_ULE(runs, 53);
    ASSERT_UEQ(atomic_load(&discards), 1); /* the one queued when the deadline passed */
    ASSERT_UEQ(evl_loop_discarded(loop), 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(shutdown_without_deadline_runs_everything_accepted)
{
    struct evl_loop *loop = fake_loop(NULL);
    for (int i = 0; i < 1000; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, slow_task, count_discard, NULL));
    }
    ASSERT_OK(evl_loop_shutdown(loop));
    ASSERT_UEQ(runs, 1000);
    ASSERT_UEQ(atomic_load(&discards), 0);
    ASSERT_UEQ(evl_loop_discarded(loop), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void *submit_from_thread(void *p)
{
    struct evl_loop *loop = p;
    for (int i = 0; i < 100; i++) {
        ASSERT_OK(evl_loop_submit(loop, count_task, NULL));
    }
    return NULL;
}

static void *shutdown_from_thread(void *p)
{
    ASSERT_OK(evl_loop_shutdown(p));
    return NULL;
}

static void *submit_refused_from_thread(void *p)
{
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(p, count_task, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit_ex(p, count_task, count_discard, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit_wait(p, count_task, NULL, NULL, 1000));
    return NULL;
}

TEST(shutdown_closes_admission_at_the_call)
{
    struct evl_loop *loop = fake_loop(NULL);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, submit_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(pthread_create(&t, NULL, shutdown_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATING);
    ASSERT_EQ(pthread_create(&t, NULL, submit_refused_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_UEQ(runs, 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* the drain */
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs, 100);
    ASSERT_OK(evl_loop_free(loop));
}

static void *inflight_done_later(void *p)
{
    sleep_ms(300);
    evl__loop_inflight_done(p);
    return NULL;
}

TEST(shutdown_deadline_bounds_the_wait_for_inflight_work) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    evl__loop_inflight_add(loop);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, inflight_done_later, loop), 0);
    uint64_t t0 = mono_ns();
    ASSERT_OK(evl_loop_shutdown_ex(loop, UINT64_C(20000000)));
    uint64_t took = mono_ns() - t0;
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UGE(took, UINT64_C(20000000));
    ASSERT_ULT(took, UINT64_C(250000000));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_free(loop));
}
