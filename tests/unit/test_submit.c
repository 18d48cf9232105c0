/* Thread-safe submission: per-producer FIFO, conservation, discard on close, wake dedup. */
#include "evl_test.h"
#include "test_cpu.h"

#include "core/loop_state.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

enum { NPROD = 4, NTASKS = 20000 };

struct prod {
    struct evl_loop *loop;
    int index;
    uint64_t accepted;
};

static uint64_t last_seen[16];
static uint64_t runs;
static int order_errors;

/* arg encodes producer index (high bits) and sequence number (low 40 bits). */
static void count_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    uint64_t v = (uint64_t)(uintptr_t)arg;
    unsigned p = (unsigned)(v >> 40);
    uint64_t seq = v & ((UINT64_C(1) << 40) - 1);
    if (seq != last_seen[p] + 1) {
        order_errors++;
    }
    last_seen[p] = seq;
    runs++;
}

static void *producer(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= NTASKS; i++) {
        uint64_t v = ((uint64_t)pr->index << 40) | i;
        while (evl_loop_submit(pr->loop, count_task, (void *)(uintptr_t)v) != 0) {
            /* only ENOMEM could get here; never expected */
            evl_test_fail(__FILE__, __LINE__, "submit failed");
        }
        pr->accepted++;
    }
    return NULL;
}

static void unref_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_unref(loop));
}

struct waiter {
    pthread_t *threads;
    int n;
    struct evl_loop *loop;
};

static void *join_then_unref(void *p)
{
    struct waiter *w = p;
    for (int i = 0; i < w->n; i++) {
        pthread_join(w->threads[i], NULL);
    }
    /* Submitted after every producer's last task: runs after all of them (FIFO). */
    ASSERT_OK(evl_loop_submit(w->loop, unref_task, NULL));
    return NULL;
}

/* A new loop with the FIFO-check counters (last_seen, runs, order_errors) reset. */
static struct evl_loop *counting_loop_new(void)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    memset(last_seen, 0, sizeof(last_seen));
    runs = 0;
    order_errors = 0;
    return loop;
}

TEST(producers_all_tasks_run_in_fifo) /* labels: real-time */
{
    struct evl_loop *loop = counting_loop_new();
    ASSERT_OK(evl_loop_ref(loop));
    struct prod prods[NPROD];
    pthread_t th[NPROD];
    for (int i = 0; i < NPROD; i++) {
        prods[i] = (struct prod){loop, i, 0};
        ASSERT_EQ(pthread_create(&th[i], NULL, producer, &prods[i]), 0);
    }
    struct waiter w = {th, NPROD, loop};
    pthread_t wt;
    ASSERT_EQ(pthread_create(&wt, NULL, join_then_unref, &w), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(wt, NULL), 0);
    ASSERT_UEQ(runs, (uint64_t)NPROD * NTASKS);
    ASSERT_EQ(order_errors, 0);
    ASSERT_OK(evl_loop_free(loop));
}

enum { GROW_ROUNDS = 12, GROW_TASKS = 150000 };

/* A task slower than a submit, so the producer runs ahead and the backlog keeps growing. */
static void slow_task(struct evl_loop *loop, void *arg)
{
    for (volatile int i = 0; i < 50; i++) {
    }
    count_task(loop, arg);
}

static void *grow_producer(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= GROW_TASKS; i++) {
        ASSERT_OK(evl_loop_submit(pr->loop, slow_task, (void *)(uintptr_t)i));
    }
    ASSERT_OK(evl_loop_submit(pr->loop, unref_task, NULL));
    return NULL;
}

/* A producer far ahead of a running loop makes the lane's chunk directory grow again and again
 * while the loop reads it, and FIFO and conservation must hold throughout. It guards against
 * a directory freed under the loop (once a crash in about one in a thousand runs of the submit
 * benchmark under load): this test makes that race possible on every run, not certain, so it
 * is a stress test rather than a reproducer. Each round is a new loop and a new producer
 * thread, so the rounds visit every lane. */
TEST(directory_growth_while_the_loop_reads) /* labels: real-time */
{
    for (int round = 0; round < GROW_ROUNDS; round++) {
        struct evl_loop *loop = counting_loop_new();
        ASSERT_OK(evl_loop_ref(loop));
        struct prod pr = {loop, 0, 0};
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, grow_producer, &pr), 0);
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_UEQ(runs, (uint64_t)GROW_TASKS);
        ASSERT_EQ(order_errors, 0);
        ASSERT_OK(evl_loop_free(loop));
    }
}

static int discarded;
static int ran_after_close;

static void never(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    ran_after_close++;
}

static void discard_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    evl_free(arg);
    discarded++;
}

TEST(close_discards_queued_tasks)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    discarded = 0;
    ran_after_close = 0;
    for (int i = 0; i < 600; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, never, discard_cb, evl_malloc(8)));
    }
    ASSERT_OK(evl_loop_submit(loop, never, NULL));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(discarded, 600);
    ASSERT_EQ(ran_after_close, 0);
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(loop, never, NULL));
    ASSERT_ERR(EVL_EALREADY, evl_loop_close(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

static void *submit_from_thread(void *p)
{
    struct evl_loop *loop = p;
    for (int i = 0; i < 300; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, never, discard_cb, evl_malloc(8)));
    }
    return NULL;
}

TEST(close_discards_cross_thread_tasks)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    discarded = 0;
    ran_after_close = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, submit_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(discarded, 300);
    ASSERT_EQ(ran_after_close, 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void unbounded(struct evl_loop *loop, void *arg);

static void *submit_many(void *p)
{
    for (int i = 0; i < 2000; i++) {
        ASSERT_OK(evl_loop_submit(p, unbounded, NULL));
    }
    return NULL;
}

static int chain_left;

static void chain(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (chain_left-- > 0) {
        ASSERT_OK(evl_loop_submit(loop, chain, NULL));
    }
}

TEST(shutdown_runs_work_queued_by_work)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    chain_left = 1000;
    ASSERT_OK(evl_loop_submit(loop, chain, NULL));
    /* On the loop thread with the loop idle, shutdown drains right here. */
    ASSERT_OK(evl_loop_shutdown(loop));
    ASSERT_UEQ(runs, 1001);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(submit_rejects_null)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(NULL, never, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(loop, NULL, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

enum { WAKE_PRODUCERS = 8, WAKE_BURSTS = 40, WAKE_BURST = 50 };

static _Atomic int wake_done;

static void *wake_producer(void *p)
{
    struct evl_loop *loop = p;
    for (int b = 0; b < WAKE_BURSTS; b++) {
        for (int i = 0; i < WAKE_BURST; i++) {
            ASSERT_OK(evl_loop_submit(loop, chain, NULL));
        }
        /* Let the loop drain and fall asleep again between bursts. */
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
    if (atomic_fetch_add(&wake_done, 1) == WAKE_PRODUCERS - 1) {
        ASSERT_OK(evl_loop_submit(loop, unref_task, NULL));
    }
    return NULL;
}

/* Wake-up deduplication: while 8 producers hammer a loop that keeps falling asleep, the
 * number of wake-up writes never exceeds the number of sleep episodes. */
TEST(wake_dedup_with_8_producers) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    chain_left = 0;
    atomic_store(&wake_done, 0);
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t th[WAKE_PRODUCERS];
    for (int i = 0; i < WAKE_PRODUCERS; i++) {
        ASSERT_EQ(pthread_create(&th[i], NULL, wake_producer, loop), 0);
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    for (int i = 0; i < WAKE_PRODUCERS; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    }
    struct evl__loop_stats st;
    evl__loop_get_stats(loop, &st);
    ASSERT_UEQ(runs, (uint64_t)WAKE_PRODUCERS * WAKE_BURSTS * WAKE_BURST);
    ASSERT_UGE(st.wake_writes, 1);
    ASSERT_ULE(st.wake_writes, st.sleeps);
    ASSERT_ULT(st.wake_writes, runs / 4); /* far fewer writes than tasks */
    ASSERT_OK(evl_loop_free(loop));
}

static void unbounded(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    runs++;
}

TEST(batch_bound_per_iteration)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_tasks_per_iteration = 10;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    runs = 0;
    for (int i = 0; i < 25; i++) {
        ASSERT_OK(evl_loop_submit(loop, unbounded, NULL));
    }
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_UEQ(runs, 10);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_UEQ(runs, 20);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_UEQ(runs, 25);
    ASSERT_OK(evl_loop_free(loop));
}

/* The loop thread's own submissions take no lock and never write the wake-up fd. */
TEST(loop_thread_submit_fast_path)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    for (int i = 0; i < 1000; i++) {
        ASSERT_OK(evl_loop_submit(loop, unbounded, NULL));
    }
    ASSERT_UEQ(evl__submitq_lanes_used(&loop->q), 0); /* no lane was used */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, 1000);
    struct evl__loop_stats st;
    evl__loop_get_stats(loop, &st);
    ASSERT_UEQ(st.wake_writes, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* Steady state allocates nothing: after warm-up rounds, more rounds of the same size add no
 * allocation. Each round's producer is a new thread, and threads are spread over the lanes
 * round robin, so warm-up lasts until every lane has seen its peak backlog (three turns). */
TEST(steady_state_submit_allocates_nothing)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    const int rounds = 3 * EVL__LANES + 2;
    for (int round = 0; round < rounds; round++) {
        struct evl_alloc_stats a;
        evl_alloc_stats(&a);
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, submit_many, loop), 0);
        ASSERT_EQ(pthread_join(t, NULL), 0);
        for (int i = 0; i < 2000; i++) {
            ASSERT_OK(evl_loop_submit(loop, unbounded, NULL));
        }
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        struct evl_alloc_stats b;
        evl_alloc_stats(&b);
        if (round >= 3 * EVL__LANES) { /* after warm-up */
            ASSERT_UEQ(b.total_allocs, a.total_allocs);
        }
    }
    ASSERT_UEQ(runs, (uint64_t)rounds * 4000);
    ASSERT_OK(evl_loop_free(loop));
}

/* More producer threads than lanes, so lanes are shared, each mixing one-slot tasks with
 * two-slot ones (a discard callback) so that tasks straddle chunk boundaries; the backlog
 * grows chunk directories while the loop reads them. Every task runs once, FIFO per
 * producer, and nothing is discarded. */
enum { SHARE_PRODUCERS = EVL__LANES + 4, SHARE_TASKS = 3000 };

static void *mixed_producer(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= SHARE_TASKS; i++) {
        uint64_t v = ((uint64_t)pr->index << 40) | i;
        int rc = (i % 3 == 0)
                     ? evl_loop_submit_ex(pr->loop, count_task, discard_cb, (void *)(uintptr_t)v)
                     : evl_loop_submit(pr->loop, count_task, (void *)(uintptr_t)v);
        if (rc != 0) {
            evl_test_fail(__FILE__, __LINE__, "submit failed");
        }
        pr->accepted++;
    }
    return NULL;
}

TEST(shared_lanes_and_two_slot_tasks_keep_fifo) /* labels: real-time */
{
    struct evl_loop *loop = counting_loop_new();
    discarded = 0;
    ASSERT_OK(evl_loop_ref(loop));
    struct prod prods[SHARE_PRODUCERS];
    pthread_t th[SHARE_PRODUCERS];
    for (int i = 0; i < SHARE_PRODUCERS; i++) {
        prods[i] = (struct prod){loop, i, 0};
        ASSERT_EQ(pthread_create(&th[i], NULL, mixed_producer, &prods[i]), 0);
    }
    struct waiter w = {th, SHARE_PRODUCERS, loop};
    pthread_t wt;
    ASSERT_EQ(pthread_create(&wt, NULL, join_then_unref, &w), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(wt, NULL), 0);
    ASSERT_UEQ(runs, (uint64_t)SHARE_PRODUCERS * SHARE_TASKS);
    ASSERT_EQ(order_errors, 0);
    ASSERT_EQ(discarded, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* A queued backlog from one thread, far beyond one chunk, taken before the loop runs: the
 * directory grows while nothing is consumed, then everything runs in order. */
static void *backlog_producer(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= 5000; i++) {
        uint64_t v = ((uint64_t)pr->index << 40) | i;
        if (evl_loop_submit(pr->loop, count_task, (void *)(uintptr_t)v) != 0) {
            evl_test_fail(__FILE__, __LINE__, "submit failed");
        }
    }
    return NULL;
}

TEST(backlog_before_run_keeps_fifo)
{
    struct evl_loop *loop = counting_loop_new();
    struct prod pr = {loop, 1, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, backlog_producer, &pr), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, 5000);
    ASSERT_EQ(order_errors, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- spinning before sleeping ---- */

static atomic_uint_fast64_t pong;

static void ping_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    atomic_store(&pong, (uint64_t)(uintptr_t)arg);
}

struct pinger {
    struct evl_loop *loop;
    int rounds;
    uint64_t gap_ns; /* pause between rounds */
    int cpu;         /* pin the client to this CPU, or -1 */
};

static void pause_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* A client that submits a task and waits (spinning) for its answer, round after round. */
static void *pinger_main(void *p)
{
    struct pinger *pg = p;
    test_pin_self(pg->cpu);
    for (int i = 1; i <= pg->rounds; i++) {
        if (pg->gap_ns) {
            pause_ns(pg->gap_ns);
        }
        ASSERT_OK(evl_loop_submit(pg->loop, ping_task, (void *)(uintptr_t)i));
        while (atomic_load(&pong) != (uint64_t)i) {
            sched_yield();
        }
    }
    ASSERT_OK(evl_loop_submit(pg->loop, unref_task, NULL));
    return NULL;
}

static void run_pinger(uint32_t spin_ns, int rounds, uint64_t gap_ns, struct evl__loop_stats *st,
                       int pin)
{
    int loop_cpu = -1;
    int client_cpu = -1;
    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
    if (pin) {
        /* The loop and its client on different CPUs (a spinning loop cannot help a client
         * that shares its CPU, and does not try), or (pin < 0) on the same one. */
        test_two_cpus(&loop_cpu, &client_cpu);
        if (pin < 0) {
            client_cpu = loop_cpu;
        }
        test_pin_self(loop_cpu);
    }
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.spin_ns = spin_ns;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    atomic_store(&pong, 0);
    ASSERT_OK(evl_loop_ref(loop));
    struct pinger pg = {loop, rounds, gap_ns, client_cpu};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, pinger_main, &pg), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    evl__loop_get_stats(loop, st);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

/* The default adaptive spin never spins on a loop whose tasks come rarely: every sleep ends
 * long after the loop went idle. */
TEST(adaptive_spin_stays_off_for_rare_tasks) /* labels: real-time */
{
    struct evl__loop_stats st;
    run_pinger(0, 20, 2000000, &st, 0); /* 2 ms apart */
    ASSERT_UGE(st.sleeps, 20);
    ASSERT_UEQ(st.spins, 0);
}

/* An idle loop (a timer far away, nothing submitted) sleeps without spinning. */
static void idle_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    (void)loop;
    runs++;
}

TEST(adaptive_spin_stays_off_on_idle_loop) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(evl_timer_set(loop, idle_timer, NULL, 10, 0, NULL));
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    }
    struct evl__loop_stats st;
    evl__loop_get_stats(loop, &st);
    ASSERT_UEQ(runs, 5);
    ASSERT_UGE(st.sleeps, 1);
    ASSERT_UEQ(st.spins, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* EVL_SPIN_OFF never spins, even for a client that answers at once. */
TEST(spin_off_never_spins) /* labels: real-time */
{
    struct evl__loop_stats st;
    run_pinger(EVL_SPIN_OFF, 300, 0, &st, 1);
    ASSERT_UEQ(st.spins, 0);
}

/* A fixed spin spins before every sleep it would otherwise take. */
TEST(fixed_spin_spins) /* labels: real-time */
{
    struct evl__loop_stats st;
    run_pinger(50000, 50, 0, &st, 1);
    ASSERT_UGE(st.spins, 1);
    ASSERT_ULE(st.spin_hits, st.spins);
}

/* A request/response client on another CPU that comes back at once makes the adaptive spin
 * engage (the sleeps it takes meanwhile end quickly by the client's wake-up). Only that it
 * spun is checked: a preempted client makes a spin miss, and speed is the benchmark's
 * business. With a single CPU there is nothing to check. */
TEST(adaptive_spin_engages_for_quick_client) /* labels: real-time */
{
    int a;
    int b;
    test_two_cpus(&a, &b);
    if (a < 0) {
        return;
    }
    struct evl__loop_stats st;
    run_pinger(0, 2000, 0, &st, 1);
    ASSERT_UGE(st.spins, 1);
    ASSERT_ULE(st.spin_hits, st.spins);
}

/* A hot lane is biased to its thread (where the asymmetric fence exists); a second live
 * thread on the same lane revokes the bias and the lane is shared from then on. All
 * threads' tasks still run once, in order. */
enum { BIAS_TASKS = 5000 }; /* more than EVL__BIAS_AFTER: the lane gets hot */
static _Atomic int bias_submitted;
static _Atomic int bias_release;

static void *bias_probe(void *p)
{
    struct prod *pr = p;
    for (uint64_t i = 1; i <= BIAS_TASKS; i++) {
        uint64_t v = ((uint64_t)pr->index << 40) | i;
        if (evl_loop_submit(pr->loop, count_task, (void *)(uintptr_t)v) != 0) {
            evl_test_fail(__FILE__, __LINE__, "submit failed");
        }
    }
    atomic_fetch_add(&bias_submitted, 1);
    while (!atomic_load(&bias_release)) { /* stay alive: thread ids are not reused */
        sched_yield();
    }
    return NULL;
}

TEST(lane_bias_then_revocation)
{
    struct evl_loop *loop = counting_loop_new();
    atomic_store(&bias_submitted, 0);
    atomic_store(&bias_release, 0);
    /* EVL__LANES + 1 live threads: exactly one lane gets two of them. */
    enum { N = EVL__LANES + 1 };
    struct prod pr[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        pr[i] = (struct prod){loop, i, 0};
        ASSERT_EQ(pthread_create(&t[i], NULL, bias_probe, &pr[i]), 0);
    }
    while (atomic_load(&bias_submitted) < N) {
        sched_yield();
    }
    int biased = 0;
    int shared = 0;
    for (int k = 0; k < EVL__LANES; k++) {
        uintptr_t o = atomic_load(&loop->q.lanes[k].owner);
        biased += o != 0 && o != 1;
        shared += o == 1;
    }
    if (evl__submit_asym_available()) {
        ASSERT_EQ(shared, 1);
        ASSERT_EQ(biased, EVL__LANES - 1);
    } else {
        ASSERT_EQ(biased, 0);
    }
    atomic_store(&bias_release, 1);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, (uint64_t)N * BIAS_TASKS);
    ASSERT_EQ(order_errors, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* A client that shares the loop's CPU cannot run while the loop spins: the adaptive spin
 * stays off (the waker's CPU is recorded with each wake-up). */
TEST(adaptive_spin_off_when_client_shares_cpu) /* labels: real-time */
{
    int a;
    int b;
    test_two_cpus(&a, &b);
    if (a < 0) {
        return;
    }
    struct evl__loop_stats st;
    run_pinger(0, 300, 0, &st, -1);
    ASSERT_UEQ(st.spins, 0);
}
