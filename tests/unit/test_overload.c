/* Overload controls: shutdown under a flood and with a deadline, the bounded queue, token
 * buckets, batch budgets and sandbox limits (docs/overload.md). */
#include "evl_test.h"

#include "core/overload/overload_internal.h"

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
            sched_yield(); /* back-pressure: let the loop (2 cores, 18 threads) catch up */
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

/* Starts the loop on a thread of its own and waits until it runs there: until then this
 * (creating) thread is the loop thread, and a shutdown from it would drain right here. */
static void start_loop_thread(struct evl_loop *loop, pthread_t *lt)
{
    ASSERT_EQ(pthread_create(lt, NULL, run_loop_thread, loop), 0);
    while (evl_loop_state(loop) == EVL_LOOP_AWAKE) {
        sched_yield();
    }
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
    start_loop_thread(loop, &lt);
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

/* ---- the queue bound ------------------------------------------------------------------------ */

static struct evl_loop *bounded_loop(uint32_t max_tasks)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_queued_tasks = max_tasks;
    o.log_level = EVL_LOG_OFF; /* the refusals warn; not in the test output */
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    runs = 0;
    atomic_store(&discards, 0);
    return loop;
}

struct fill {
    struct evl_loop *loop;
    uint64_t accepted;
    int rc; /* the refusal */
    int two_slots;
};

/* Submits until refused (the loop is not running). */
static void *fill_until_refused(void *p)
{
    struct fill *f = p;
    for (;;) {
        int rc = f->two_slots ? evl_loop_submit_ex(f->loop, count_task, count_discard, NULL)
                              : evl_loop_submit(f->loop, count_task, NULL);
        if (rc != 0) {
            f->rc = rc;
            return NULL;
        }
        f->accepted++;
    }
}

TEST(bound_refuses_with_eagain_then_admits_after_the_loop_ran)
{
    struct evl_loop *loop = bounded_loop(256);
    struct evl__overload *v = loop->ovl;
    ASSERT_NOT_NULL(v);
    struct fill f = {loop, 0, 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fill_until_refused, &f), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_ERR(EVL_EAGAIN, f.rc);
    /* One producer: its lane's reserve and the shared pool; the other lanes' reserves stay
     * free for other producers. */
    ASSERT_UEQ(f.accepted, v->reserve + v->shared_cap);
    ASSERT_UEQ(v->reserve, 256 / 16);
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.refused_full, 1);
    ASSERT_UEQ(st.queued_slots, f.accepted);
    ASSERT_UEQ(st.queue_limit_slots, 256);
    ASSERT_UEQ(runs, 0);
    /* A second producer still gets its own lane's reserve. */
    struct fill g = {loop, 0, 0, 0};
    ASSERT_EQ(pthread_create(&t, NULL, fill_until_refused, &g), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_UEQ(g.accepted, v->reserve);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_UEQ(runs, f.accepted + g.accepted);
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, 0);
    /* Space again; a task with a discard callback counts two slots. */
    struct fill h = {loop, 0, 0, 1};
    ASSERT_EQ(pthread_create(&t, NULL, fill_until_refused, &h), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_UEQ(h.accepted, (v->reserve + v->shared_cap) / 2);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_UEQ(atomic_load(&discards), h.accepted);
    ASSERT_UEQ(evl_loop_discarded(loop), h.accepted);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(bound_in_bytes_and_loop_thread_submits)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_queued_bytes = 8; /* less than a slot */
    struct evl_loop *loop;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    o.max_queued_bytes = 16 * 64;
    o.max_queued_tasks = 1000; /* the smaller one wins */
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_UEQ(loop->ovl->limit, 64);
    /* The loop thread's own submissions are not bounded (they cannot wait for themselves). */
    for (int i = 0; i < 1000; i++) {
        ASSERT_OK(evl_loop_submit_wait(loop, count_task, NULL, NULL, 1000));
    }
    runs = 0;
    /* The iteration's time budget may leave some for the next iteration on a slow host. */
    int more;
    while ((more = evl_loop_run(loop, EVL_RUN_NOWAIT)) == 1) {
    }
    ASSERT_EQ(more, 0);
    ASSERT_UEQ(runs, 1000);
    ASSERT_OK(evl_loop_free(loop));
}

struct waiter_arg {
    struct evl_loop *loop;
    uint64_t timeout_ns;
    int rc;
    uint64_t took_ns;
};

static void *submit_wait_thread(void *p)
{
    struct waiter_arg *w = p;
    uint64_t t0 = mono_ns();
    w->rc = evl_loop_submit_wait(w->loop, count_task, NULL, NULL, w->timeout_ns);
    w->took_ns = mono_ns() - t0;
    return NULL;
}

/* Fills the queue from one thread, then starts a waiter on another lane's... same lane: a
 * new thread gets a new lane, so fill through the waiter's lane by letting it fill first. */
static void *fill_then_wait(void *p)
{
    struct waiter_arg *w = p;
    while (evl_loop_submit(w->loop, count_task, NULL) == 0) {
    }
    return submit_wait_thread(p);
}

TEST(submit_wait_times_out_when_the_loop_does_not_run) /* labels: real-time */
{
    struct evl_loop *loop = bounded_loop(64);
    struct waiter_arg w = {loop, UINT64_C(30000000), 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fill_then_wait, &w), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_ERR(EVL_ETIMEDOUT, w.rc);
    ASSERT_UGE(w.took_ns, UINT64_C(30000000));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.waits, 1);
    ASSERT_UEQ(st.wait_timeouts, 1);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(submit_wait_is_woken_when_the_loop_frees_space) /* labels: real-time */
{
    struct evl_loop *loop = bounded_loop(64);
    struct waiter_arg w = {loop, UINT64_C(10000000000), 1, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fill_then_wait, &w), 0);
    struct evl_overload_stats st;
    do {
        sleep_ms(1);
        ASSERT_OK(evl_loop_overload_stats(loop, &st));
    } while (st.waits == 0);
    sleep_ms(5);
    ASSERT_EQ(w.rc, 1); /* still waiting */
    /* Frees the space (1 if the woken waiter's task arrived during the run). */
    ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(w.rc);
    ASSERT_ULT(w.took_ns, UINT64_C(5000000000));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, 0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(submit_wait_gets_eclosed_when_shutdown_begins) /* labels: real-time */
{
    struct evl_loop *loop = bounded_loop(64);
    struct waiter_arg w = {loop, UINT64_C(10000000000), 1, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fill_then_wait, &w), 0);
    struct evl_overload_stats st;
    do {
        sleep_ms(1);
        ASSERT_OK(evl_loop_overload_stats(loop, &st));
    } while (st.waits == 0);
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t s;
    ASSERT_EQ(pthread_create(&s, NULL, shutdown_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(s, NULL), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_ERR(EVL_ECLOSED, w.rc);
    ASSERT_ULT(w.took_ns, UINT64_C(5000000000));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* drains what was accepted */
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_OK(evl_loop_free(loop));
}

/* Flood tests: n producers at full speed against a bound; the queue never holds more than
 * the bound, memory stays near it, and every attempt is accounted for. */
static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        return 0;
    }
    unsigned long size = 0;
    unsigned long res = 0;
    int n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return n == 2 ? (uint64_t)res * 4096u : 0;
}

static void bounded_flood(int producers, int wait)
{
    enum { BOUND = 65536 }; /* slots: 1 MiB */
    struct evl_loop *loop = bounded_loop(BOUND);
    uint64_t rss0 = rss_bytes();
    _Atomic int stop = 0;
    struct flood f[16];
    pthread_t th[16];
    pthread_t lt;
    ASSERT_OK(evl_loop_ref(loop));
    start_loop_thread(loop, &lt);
    for (int i = 0; i < producers; i++) {
        f[i] = (struct flood){loop, &stop, 0, 0, 0, 0, wait};
        ASSERT_EQ(pthread_create(&th[i], NULL, flood_producer, &f[i]), 0);
    }
    uint64_t peak_queued = 0;
    uint64_t peak_rss = 0;
    for (int i = 0; i < 40; i++) {
        sleep_ms(5);
        struct evl_overload_stats st;
        ASSERT_OK(evl_loop_overload_stats(loop, &st));
        if (st.queued_slots > peak_queued) {
            peak_queued = st.queued_slots;
        }
        uint64_t r = rss_bytes();
        if (r > peak_rss) {
            peak_rss = r;
        }
    }
    ASSERT_OK(evl_loop_shutdown(loop));
    for (int i = 0; i < producers; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
    }
    ASSERT_EQ(pthread_join(lt, NULL), 0);
    uint64_t attempted = 0;
    uint64_t accepted = 0;
    uint64_t refused = 0;
    uint64_t closed = 0;
    for (int i = 0; i < producers; i++) {
        attempted += f[i].attempted;
        accepted += f[i].accepted;
        refused += f[i].refused;
        closed += f[i].closed;
        ASSERT_UGE(f[i].accepted, 1); /* nobody starved */
    }
    ASSERT_UEQ(accepted + refused + closed, attempted);
    ASSERT_UEQ(runs, accepted);
    ASSERT_UEQ(atomic_load(&discards), 0);
    ASSERT_ULE(peak_queued, BOUND);
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    if (!wait) {
        ASSERT_UEQ(st.refused_full, refused);
    }
    /* The queue's memory is at most the bound (16 bytes a slot) plus chunk rounding; the
     * constant covers the producers' stacks and the allocator's arenas. */
    if (rss0 && peak_rss > rss0) {
        ASSERT_ULT(peak_rss - rss0, UINT64_C(16) * BOUND + UINT64_C(64) * 1024 * 1024);
    }
    ASSERT_OK(evl_loop_free(loop));
}

TEST(bounded_flood_of_4_producers) /* labels: real-time */
{
    bounded_flood(4, 0);
}

TEST(bounded_flood_of_16_producers) /* labels: real-time */
{
    bounded_flood(16, 0);
}

TEST(bounded_flood_of_16_waiting_producers) /* labels: real-time */
{
    bounded_flood(16, 1);
}

/* A producer submitting one task at a time next to a greedy one is never refused: its lane's
 * reserve is its own. */
struct gentle {
    struct evl_loop *loop;
    _Atomic int *stop;
    uint64_t accepted;
    uint64_t refused;
};

static _Atomic uint64_t gentle_done;

static void gentle_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    atomic_fetch_add(&gentle_done, 1);
}

static void *gentle_producer(void *p)
{
    struct gentle *g = p;
    while (!atomic_load(g->stop)) {
        uint64_t before = atomic_load(&gentle_done);
        int rc = evl_loop_submit(g->loop, gentle_task, NULL);
        if (rc == EVL_ECLOSED) {
            return NULL;
        }
        if (rc != 0) {
            g->refused++;
            continue;
        }
        g->accepted++;
        while (atomic_load(&gentle_done) == before && !atomic_load(g->stop)) {
            sched_yield(); /* one task in flight at a time */
        }
    }
    return NULL;
}

TEST(bound_is_fair_to_a_gentle_producer_next_to_a_flood) /* labels: real-time */
{
    struct evl_loop *loop = bounded_loop(4096);
    atomic_store(&gentle_done, 0);
    _Atomic int stop = 0;
    struct flood greedy = {loop, &stop, 0, 0, 0, 0, 0};
    struct gentle g = {loop, &stop, 0, 0};
    pthread_t lt;
    pthread_t tg;
    pthread_t tf;
    ASSERT_OK(evl_loop_ref(loop));
    start_loop_thread(loop, &lt);
    ASSERT_EQ(pthread_create(&tf, NULL, flood_producer, &greedy), 0);
    ASSERT_EQ(pthread_create(&tg, NULL, gentle_producer, &g), 0);
    sleep_ms(200);
    atomic_store(&stop, 1);
    ASSERT_EQ(pthread_join(tf, NULL), 0);
    ASSERT_EQ(pthread_join(tg, NULL), 0);
    ASSERT_OK(evl_loop_shutdown(loop));
    ASSERT_EQ(pthread_join(lt, NULL), 0);
    ASSERT_UGE(greedy.refused, 1); /* the flood did hit the bound */
    ASSERT_UGE(g.accepted, 2);     /* progress (the machine may be loaded) */
    ASSERT_UEQ(g.refused, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* The bound is charged in batches: the lane keeps the surplus as credit for its fast path,
 * and the queue's figure in the stats is what is queued, not what is charged. */
struct probe {
    struct evl_loop *loop;
    uint64_t accepted;
    int rc;
    uintptr_t me;   /* the producer's thread id */
    uintptr_t seen; /* the lane owner it saw after BIAS_PROBE tasks */
};

enum { BIAS_PROBE = 5000 };

static void *submit_one_task(void *p)
{
    struct probe *pr = p;
    pr->rc = evl_loop_submit(pr->loop, count_task, NULL);
    return NULL;
}

TEST(bound_charges_in_batches_and_reports_what_is_queued)
{
    struct evl_loop *loop = bounded_loop(4096);
    struct evl__overload *v = loop->ovl;
    ASSERT_UEQ(v->reserve, 256);
    ASSERT_UEQ(v->batch, 64);
    struct probe pr = {loop, 0, 1, 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, submit_one_task, &pr), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(pr.rc);
    uint64_t charged = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        charged += atomic_load(&v->lane[i].count);
    }
    ASSERT_UEQ(charged, 1 + v->batch); /* the task and the lane's credit */
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_UEQ(runs, 1);
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, 0);
    charged = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        charged += atomic_load(&v->lane[i].count);
    }
    ASSERT_UEQ(charged, v->batch); /* the credit stays with the lane, within its reserve */
    ASSERT_OK(evl_loop_free(loop));
}

/* Fills until refused, noting the lane's owner after BIAS_PROBE tasks. */
static void *bias_then_fill(void *p)
{
    struct probe *pr = p;
    pr->me = evl__thread_id();
    for (;;) {
        int rc = evl_loop_submit(pr->loop, count_task, NULL);
        if (rc != 0) {
            pr->rc = rc;
            return NULL;
        }
        if (++pr->accepted == BIAS_PROBE) {
            for (unsigned i = 0; i < EVL__LANES; i++) {
                uintptr_t o = atomic_load(&pr->loop->q.lanes[i].owner);
                if (o == pr->me) {
                    pr->seen = o;
                }
            }
        }
    }
}

/* A bound no longer keeps a hot lane locked: the producer gets the lane's bias (plain stores
 * per task) and the bound still holds to the slot. */
TEST(bounded_lane_is_biased_and_the_bound_stays_exact)
{
    struct evl_loop *loop = bounded_loop(65536);
    struct evl__overload *v = loop->ovl;
    struct probe pr = {loop, 0, 0, 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, bias_then_fill, &pr), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_ERR(EVL_EAGAIN, pr.rc);
    ASSERT_UEQ(pr.accepted, v->reserve + v->shared_cap);
    if (evl__submit_asym_available()) {
        ASSERT_TRUE(pr.seen == pr.me);
    }
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, pr.accepted);
    ASSERT_UEQ(st.refused_full, 1);
    int more;
    while ((more = evl_loop_run(loop, EVL_RUN_NOWAIT)) == 1) {
    }
    ASSERT_EQ(more, 0);
    ASSERT_UEQ(runs, pr.accepted);
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.queued_slots, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* Waiters in evl_loop_submit_wait are served in arrival order. They share one lane (so the
 * loop runs their tasks in the order they were admitted): a thread's lane is assigned round
 * robin on its first submit, so EVL__LANES - 1 other threads take a lane between two
 * waiters. */
enum { FIFO_WAITERS = 4 };

static int fifo_order[FIFO_WAITERS];
static int fifo_n;

static void order_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    if (fifo_n < FIFO_WAITERS) {
        fifo_order[fifo_n] = (int)(intptr_t)arg;
    }
    fifo_n++;
}

struct fifo_waiter {
    struct evl_loop *loop;
    int id;
    int fill; /* fill the queue first (the first waiter) */
    int rc;
};

static void *fifo_waiter_main(void *p)
{
    struct fifo_waiter *w = p;
    if (w->fill) {
        while (evl_loop_submit(w->loop, count_task, NULL) == 0) {
        }
    }
    w->rc = evl_loop_submit_wait(w->loop, order_task, NULL, (void *)(intptr_t)w->id,
                                 UINT64_C(20000000000));
    return NULL;
}

static void noop_task(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static void *take_a_lane(void *p)
{
    ASSERT_OK(evl_loop_submit((struct evl_loop *)p, noop_task, NULL));
    return NULL;
}

TEST(submit_wait_serves_waiters_in_arrival_order) /* labels: real-time */
{
    struct evl_loop *loop = bounded_loop(16); /* reserve 1 per lane, shared 8, no credit */
    struct evl_loop *other;
    ASSERT_OK(evl_loop_new(&other, NULL));
    fifo_n = 0;
    struct fifo_waiter w[FIFO_WAITERS];
    pthread_t t[FIFO_WAITERS];
    for (int k = 0; k < FIFO_WAITERS; k++) {
        if (k > 0) {
            for (int j = 0; j < EVL__LANES - 1; j++) {
                pthread_t d;
                ASSERT_EQ(pthread_create(&d, NULL, take_a_lane, other), 0);
                ASSERT_EQ(pthread_join(d, NULL), 0);
            }
        }
        w[k] = (struct fifo_waiter){loop, k + 1, k == 0, 1};
        ASSERT_EQ(pthread_create(&t[k], NULL, fifo_waiter_main, &w[k]), 0);
        struct evl_overload_stats st;
        do { /* in line before the next one starts */
            sleep_ms(1);
            ASSERT_OK(evl_loop_overload_stats(loop, &st));
        } while (st.waits < (uint64_t)k + 1);
    }
    uint64_t filled = runs;
    ASSERT_UEQ(filled, 0);
    /* Frees the filler's slots; the waiters get in one by one, first come first served. */
    while (fifo_n < FIFO_WAITERS) {
        ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
        sleep_ms(1);
    }
    for (int k = 0; k < FIFO_WAITERS; k++) {
        ASSERT_EQ(pthread_join(t[k], NULL), 0);
        ASSERT_OK(w[k].rc);
        ASSERT_EQ(fifo_order[k], k + 1);
    }
    /* The premise: every task of the test went through one lane. */
    int lanes_used = 0;
    for (unsigned i = 0; i < EVL__LANES; i++) {
        lanes_used += atomic_load(&loop->q.lanes[i].tail) != 0;
    }
    ASSERT_EQ(lanes_used, 1);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_loop_close(other)); /* the lane takers' tasks are dropped */
    ASSERT_OK(evl_loop_free(other));
}

/* ---- token buckets -------------------------------------------------------------------------- */

static struct evl_loop *rate_loop(double rate, uint32_t burst)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.submit_rate = rate;
    o.submit_burst = burst;
    o.log_level = EVL_LOG_OFF;
    struct evl_loop *loop = fake_loop(&o);
    return loop;
}

struct rate_run {
    struct evl_loop *loop;
    struct evl_submit_group *group;
    uint64_t step_ns;
    uint64_t total_ns;
    uint64_t accepted;
    uint64_t refused;
    uint64_t max_retry_ns;
    int bad_retry;
};

/* Attempts one submit every step_ns of fake time for total_ns (this thread drives the
 * clock; it is not the loop thread, so the loop's bucket applies). */
static void *rate_driver(void *p)
{
    struct rate_run *r = p;
    for (uint64_t t = 0; t < r->total_ns; t += r->step_ns) {
        int rc = r->group ? evl_submit_group_submit(r->group, count_task, NULL, NULL)
                          : evl_loop_submit(r->loop, count_task, NULL);
        if (rc == 0) {
            r->accepted++;
        } else {
            ASSERT_ERR(EVL_EAGAIN, rc);
            r->refused++;
            uint64_t retry = evl_loop_submit_retry_ns();
            if (retry == 0) {
                r->bad_retry = 1;
            }
            if (retry > r->max_retry_ns) {
                r->max_retry_ns = retry;
            }
        }
        fake.now_ns += r->step_ns;
    }
    return NULL;
}

static void run_rate(struct rate_run *r)
{
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, rate_driver, r), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
}

TEST(loop_rate_limit_is_accurate_over_10s_of_fake_time)
{
    struct evl_loop *loop = rate_loop(1000.0, 10);
    /* An attempt every 100 us for 10 s: 100,000 attempts for 10,000 tokens + the burst. */
    struct rate_run r = {loop, NULL, UINT64_C(100000), UINT64_C(10000000000), 0, 0, 0, 0};
    run_rate(&r);
    ASSERT_UEQ(r.accepted + r.refused, 100000);
    double expect = 1000.0 * 10 + 10;
    ASSERT_TRUE(r.accepted >= expect * 0.99 && r.accepted <= expect * 1.01);
    ASSERT_EQ(r.bad_retry, 0);
    ASSERT_ULE(r.max_retry_ns, UINT64_C(1000000)); /* never more than one interval */
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.refused_rate, r.refused);
    ASSERT_UEQ(st.refused_full, 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, r.accepted);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(loop_rate_limit_burst_then_retry_time)
{
    struct evl_loop *loop = rate_loop(10.0, 3);
    /* Three at once (the burst), then refused until 100 ms later. */
    struct rate_run r = {loop, NULL, 1, 4, 0, 0, 0, 0};
    run_rate(&r);
    ASSERT_UEQ(r.accepted, 3);
    ASSERT_UEQ(r.refused, 1);
    ASSERT_UGE(r.max_retry_ns, UINT64_C(99999990));
    ASSERT_ULE(r.max_retry_ns, UINT64_C(100000000));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(group_rate_limit_is_accurate_and_counted)
{
    struct evl_loop *loop = fake_loop(NULL);
    struct evl_submit_group *g;
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(loop, "x", 0.0, 1, &g));
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(loop, NULL, 1.0, 1, &g));
    ASSERT_ERR(
        EVL_EINVAL,
        evl_submit_group_new(
            loop, "a name much longer than sixty-four bytes, which is the limit here", 1.0, 1, &g));
    ASSERT_OK(evl_submit_group_new(loop, "ingest", 333.0, 5, &g));
    ASSERT_STR_EQ(evl_submit_group_name(g), "ingest");
    struct rate_run r = {loop, g, UINT64_C(250000), UINT64_C(10000000000), 0, 0, 0, 0};
    run_rate(&r);
    double expect = 333.0 * 10 + 5;
    ASSERT_TRUE(r.accepted >= expect * 0.99 && r.accepted <= expect * 1.01);
    ASSERT_EQ(r.bad_retry, 0);
    uint64_t acc = 0;
    uint64_t ref = 0;
    ASSERT_OK(evl_submit_group_stats(g, &acc, &ref));
    ASSERT_UEQ(acc, r.accepted);
    ASSERT_UEQ(ref, r.refused);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, r.accepted);
    evl_submit_group_free(g);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(group_and_loop_buckets_combine)
{
    /* The loop allows 100/s, the group 1000/s: the loop's bucket decides, and a group token
     * is not spent on a submit the loop refused. */
    struct evl_loop *loop = rate_loop(100.0, 1);
    struct evl_submit_group *g;
    ASSERT_OK(evl_submit_group_new(loop, "fast", 1000.0, 1, &g));
    struct rate_run r = {loop, g, UINT64_C(1000000), UINT64_C(1000000000), 0, 0, 0, 0};
    run_rate(&r);
    ASSERT_TRUE(r.accepted >= 99 && r.accepted <= 102);
    ASSERT_EQ(r.bad_retry, 0);
    ASSERT_OK(evl_loop_close(loop));
    evl_submit_group_free(g);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(rate_options_are_validated)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    struct evl_loop *loop;
    o.submit_rate = -1.0;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    o.submit_rate = 0.0;
    o.submit_burst = 5; /* a burst without a rate */
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    o.submit_burst = 0;
    ASSERT_OK(evl_loop_new(&loop, &o));
    /* no control asked for: the fast paths stay as they are */
    ASSERT_FALSE(evl__overload_active(loop));
    ASSERT_EQ(loop->q.lanes[0].closed, 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- batch budgets (fake clock) ------------------------------------------------------------ */

#include <unistd.h>

enum { FLOOD = 100000, TICK_MS = 10 };

static uint64_t next_due;
static uint64_t max_late;
static uint64_t timer_runs;
static uint64_t timer_id;

/* An interval timer that measures how late each run is (intervals re-arm from their start). */
static void lateness_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)arg;
    uint64_t late = fake.now_ns - next_due;
    if (late > max_late) {
        max_late = late;
    }
    timer_runs++;
    next_due = fake.now_ns + UINT64_C(1000000) * TICK_MS;
    if (runs >= FLOOD) {
        ASSERT_OK(evl_timer_clear(loop, id));
    }
}

static void start_lateness_timer(struct evl_loop *loop)
{
    max_late = 0;
    timer_runs = 0;
    next_due = fake.now_ns + UINT64_C(1000000) * TICK_MS;
    ASSERT_OK(evl_timer_set(loop, lateness_timer, NULL, TICK_MS, TICK_MS, &timer_id));
    /* The flood keeps the loop alive; once it is done the fake clock stops moving. */
    ASSERT_OK(evl_timer_unref(loop, timer_id));
}

static void *queue_flood(void *p)
{
    for (int i = 0; i < FLOOD; i++) {
        ASSERT_OK(evl_loop_submit(p, slow_task, NULL));
    }
    return NULL;
}

/* 100,000 queued 1 ms tasks delay a due timer by at most one budget (2 ms by default). */
TEST(task_flood_delays_a_due_timer_by_at_most_one_budget)
{
    struct evl_loop *loop = fake_loop(NULL);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, queue_flood, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    start_lateness_timer(loop);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, FLOOD);
    ASSERT_UGE(timer_runs, FLOOD / TICK_MS * 9 / 10);
    ASSERT_ULE(max_late, UINT64_C(2000000));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(loop_thread_task_flood_delays_a_due_timer_by_at_most_one_budget)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_task_ns_per_iteration = UINT64_C(3000000); /* phases end at 3, 6, 9, 12 ms ... */
    struct evl_loop *loop = fake_loop(&o);
    for (int i = 0; i < FLOOD; i++) {
        ASSERT_OK(evl_loop_submit(loop, slow_task, NULL));
    }
    start_lateness_timer(loop);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, FLOOD);
    ASSERT_ULE(max_late, UINT64_C(3000000));
    ASSERT_UGE(max_late, UINT64_C(1000000)); /* a timer did wait for a phase to end */
    ASSERT_OK(evl_loop_free(loop));
}

static void slow_immediate(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    slow_task(loop, arg);
}

TEST(immediate_flood_delays_a_due_timer_by_at_most_one_budget)
{
    struct evl_loop *loop = fake_loop(NULL);
    for (int i = 0; i < FLOOD; i++) {
        ASSERT_OK(evl_immediate_set(loop, slow_immediate, NULL, NULL));
    }
    start_lateness_timer(loop);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_UEQ(runs, FLOOD);
    ASSERT_ULE(max_late, UINT64_C(2000000));
    ASSERT_OK(evl_loop_free(loop));
}

static uint64_t order_log[8];
static int order_n;

static void order_immediate(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)loop;
    if (order_n < 8) {
        order_log[order_n++] = (uint64_t)(uintptr_t)arg;
    }
}

static void queue_late_immediate(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    ASSERT_OK(evl_immediate_set(loop, order_immediate, (void *)(uintptr_t)9, NULL));
}

TEST(immediates_past_the_budget_stay_first_in_line)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_immediates_per_iteration = 2;
    struct evl_loop *loop = fake_loop(&o);
    order_n = 0;
    ASSERT_OK(evl_immediate_set(loop, queue_late_immediate, NULL, NULL));
    for (uintptr_t i = 1; i <= 4; i++) {
        ASSERT_OK(evl_immediate_set(loop, order_immediate, (void *)i, NULL));
    }
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1); /* two ran, more remain */
    ASSERT_EQ(order_n, 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(order_n, 5);
    uint64_t want[5] = {1, 2, 3, 4, 9}; /* the one queued by an immediate comes last */
    for (int i = 0; i < 5; i++) {
        ASSERT_UEQ(order_log[i], want[i]);
    }
    ASSERT_OK(evl_loop_free(loop));
}

static int fds_left;

static void slow_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)status;
    (void)events;
    (void)arg;
    slow_task(loop, NULL);
    if (runs >= 20000) {
        ASSERT_OK(evl_fd_stop(loop, fd));
        fds_left--;
    }
}

TEST(fd_callback_flood_delays_a_due_timer_by_at_most_one_budget)
{
    struct evl_loop *loop = fake_loop(NULL);
    int p[8][2];
    fds_left = 8;
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ(pipe(p[i]), 0);
        ASSERT_EQ(write(p[i][1], "x", 1), 1); /* readable until read: always ready */
        ASSERT_OK(evl_fd_start(loop, p[i][0], EVL_READABLE, slow_fd, NULL));
    }
    start_lateness_timer(loop);
    while (fds_left > 0) {
        ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_ONCE) >= 0);
        if (runs >= 20000 && timer_runs > 0) {
            (void)evl_timer_clear(loop, timer_id);
        }
    }
    ASSERT_UGE(timer_runs, 20000 / TICK_MS * 9 / 10);
    ASSERT_ULE(max_late, UINT64_C(2000000));
    for (int i = 0; i < 8; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- sandbox limits ------------------------------------------------------------------------- */

struct log_capture {
    int warns;
    char last[256];
};

static void capture_log(void *ud, int level, const char *component, const char *msg)
{
    struct log_capture *c = ud;
    (void)component;
    if (level >= EVL_LOG_WARN) {
        c->warns++;
        snprintf(c->last, sizeof(c->last), "%s", msg);
    }
}

static void noop_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

static struct evl_loop *limited_loop(struct log_capture *cap, uint32_t timers, uint32_t imms,
                                     uint32_t fds, uint32_t jobs)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_timers = timers;
    o.max_immediates = imms;
    o.max_fds = fds;
    o.max_pool_jobs = jobs;
    o.log = capture_log;
    o.log_ud = cap;
    memset(cap, 0, sizeof(*cap));
    return fake_loop(&o);
}

TEST(limit_on_live_timers_refuses_counts_and_warns_once)
{
    struct log_capture cap;
    struct evl_loop *loop = limited_loop(&cap, 3, 0, 0, 0);
    uint64_t ids[3];
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 10, 0, &ids[0]));
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 10, 5, &ids[1])); /* an interval counts */
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 1, 0, &ids[2]));
    for (int i = 0; i < 5; i++) {
        ASSERT_ERR(EVL_ELIMIT, evl_timer_set(loop, noop_timer, NULL, 10, 0, NULL));
    }
    /* Immediates are limited on their own. */
    ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, NULL));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.limit_timers, 5);
    ASSERT_EQ(cap.warns, 1); /* the warning is itself rate-limited */
    ASSERT_TRUE(strstr(cap.last, "max_timers") != NULL);
    /* A clear frees a place; so does a timeout that fired. */
    ASSERT_OK(evl_timer_clear(loop, ids[0]));
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 10, 0, &ids[0]));
    ASSERT_ERR(EVL_ELIMIT, evl_timer_set(loop, noop_timer, NULL, 10, 0, NULL));
    fake.now_ns += UINT64_C(2000000);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* ids[2] fired */
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 10, 0, NULL));
    ASSERT_ERR(EVL_ELIMIT, evl_timer_set(loop, noop_timer, NULL, 10, 0, NULL));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(limit_on_pending_immediates)
{
    struct log_capture cap;
    struct evl_loop *loop = limited_loop(&cap, 0, 2, 0, 0);
    uint64_t id;
    ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, &id));
    ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, NULL));
    ASSERT_ERR(EVL_ELIMIT, evl_immediate_set(loop, noop_timer, NULL, NULL));
    ASSERT_OK(evl_immediate_clear(loop, id));
    ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, NULL));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.limit_immediates, 1);
    ASSERT_EQ(cap.warns, 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

/* Sets from another thread: the return codes of `n` timer sets and `m` immediate sets. */
struct foreign_sets {
    struct evl_loop *loop;
    int n, m;
    int timer_rc[4];
    int imm_rc[4];
    uint64_t ids[4];
};

static void *set_from_thread(void *arg)
{
    struct foreign_sets *f = arg;
    for (int i = 0; i < f->n; i++) {
        f->timer_rc[i] = evl_timer_set(f->loop, noop_timer, NULL, 10, 0, &f->ids[i]);
    }
    for (int i = 0; i < f->m; i++) {
        f->imm_rc[i] = evl_immediate_set(f->loop, noop_timer, NULL, NULL);
    }
    return NULL;
}

static void set_from_thread_and_wait(struct foreign_sets *f)
{
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, f), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
}

/* A set from another thread over a limit fails at call time (the caller learns it), counting
 * the sets still queued as well as the live ones; a queued set the loop drops gives its place
 * back. */
TEST(limit_refuses_cross_thread_sets_at_call_time)
{
    struct log_capture cap;
    struct evl_loop *loop = limited_loop(&cap, 2, 1, 0, 0);
    struct foreign_sets f = {loop, 3, 2, {0}, {0}, {0}};
    set_from_thread_and_wait(&f);
    ASSERT_OK(f.timer_rc[0]);
    ASSERT_OK(f.timer_rc[1]);
    ASSERT_ERR(EVL_ELIMIT, f.timer_rc[2]);
    ASSERT_OK(f.imm_rc[0]);
    ASSERT_ERR(EVL_ELIMIT, f.imm_rc[1]);
    /* Queued, not yet applied: they hold their places against the loop thread too. */
    ASSERT_ERR(EVL_ELIMIT, evl_timer_set(loop, noop_timer, NULL, 10, 0, NULL));
    ASSERT_ERR(EVL_ELIMIT, evl_immediate_set(loop, noop_timer, NULL, NULL));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.limit_timers, 2);
    ASSERT_UEQ(st.limit_immediates, 2);
    /* Cleared before the loop applied it: the set is dropped and its place freed. */
    ASSERT_OK(evl_timer_clear(loop, f.ids[0]));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* applies; the immediate runs */
    ASSERT_EQ(cap.warns, 2);                          /* one per kind, nothing dropped */
    ASSERT_EQ(evl_timer_has_ref(loop, f.ids[0]), EVL_ENOENT);
    ASSERT_EQ(evl_timer_has_ref(loop, f.ids[1]), 1);
    struct foreign_sets g = {loop, 2, 2, {0}, {0}, {0}};
    set_from_thread_and_wait(&g);
    ASSERT_OK(g.timer_rc[0]);
    ASSERT_ERR(EVL_ELIMIT, g.timer_rc[1]);
    ASSERT_OK(g.imm_rc[0]); /* the first immediate ran: its place is free */
    ASSERT_ERR(EVL_ELIMIT, g.imm_rc[1]);
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_OK(evl_loop_free(loop));
}

static void noop_fd(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    (void)arg;
}

TEST(limit_on_fd_registrations)
{
    struct log_capture cap;
    struct evl_loop *loop = limited_loop(&cap, 0, 0, 2, 0);
    int p[3][2];
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(pipe(p[i]), 0);
    }
    ASSERT_OK(evl_fd_start(loop, p[0][0], EVL_READABLE, noop_fd, NULL));
    ASSERT_OK(evl_fd_start(loop, p[1][0], EVL_READABLE, noop_fd, NULL));
    ASSERT_ERR(EVL_ELIMIT, evl_fd_start(loop, p[2][0], EVL_READABLE, noop_fd, NULL));
    ASSERT_OK(evl_fd_stop(loop, p[0][0]));
    ASSERT_OK(evl_fd_start(loop, p[2][0], EVL_READABLE, noop_fd, NULL));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.limit_fds, 1);
    ASSERT_EQ(cap.warns, 1);
    ASSERT_OK(evl_fd_stop(loop, p[1][0]));
    ASSERT_OK(evl_fd_stop(loop, p[2][0]));
    for (int i = 0; i < 3; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    ASSERT_OK(evl_loop_free(loop));
}

static int quick_work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    return 0;
}

TEST(limit_on_pending_pool_jobs) /* labels: real-time */
{
    struct log_capture cap;
    struct evl_loop *loop = limited_loop(&cap, 0, 0, 0, 2);
    struct evl_pool *pool;
    ASSERT_OK(evl_pool_new(&pool, 1));
    struct evl_promise *a;
    struct evl_promise *b;
    struct evl_promise *c;
    ASSERT_OK(evl_pool_submit(pool, loop, quick_work, NULL, &a));
    ASSERT_OK(evl_pool_submit(pool, loop, quick_work, NULL, &b));
    ASSERT_ERR(EVL_ELIMIT, evl_pool_submit(pool, loop, quick_work, NULL, &c));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* both complete */
    ASSERT_OK(evl_pool_submit(pool, loop, quick_work, NULL, &c));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl_overload_stats st;
    ASSERT_OK(evl_loop_overload_stats(loop, &st));
    ASSERT_UEQ(st.limit_pool_jobs, 1);
    ASSERT_EQ(cap.warns, 1);
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(c);
    ASSERT_OK(evl_pool_free(pool));
    ASSERT_OK(evl_loop_free(loop));
}

static void *rate_then_bound(void *p)
{
    struct evl_loop *loop = p;
    int accepted = 0;
    int rc;
    while ((rc = evl_loop_submit(loop, count_task, NULL)) == 0) {
        accepted++;
    }
    ASSERT_ERR(EVL_EAGAIN, rc);
    ASSERT_UEQ(evl_loop_submit_retry_ns(), 0); /* the bound refused, not the bucket */
    ASSERT_EQ(accepted, 16 / 16 + 8);          /* one lane's reserve and the shared half */
    return NULL;
}

TEST(bound_refusal_gives_the_rate_token_back)
{
    /* A bucket of 100 tokens in front of a bound of 16 slots: the submits the bound refuses
     * leave the bucket as it was. */
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.submit_rate = 1.0;
    o.submit_burst = 100;
    o.max_queued_tasks = 16;
    o.log_level = EVL_LOG_OFF;
    struct evl_loop *loop = fake_loop(&o);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, rate_then_bound, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_UEQ(runs, 9);
    /* 100 - 9 tokens left: 91 more are accepted in bursts the bound allows. */
    uint64_t more = 0;
    for (int round = 0; round < 20; round++) {
        struct fill f = {loop, 0, 0, 0};
        ASSERT_EQ(pthread_create(&t, NULL, fill_until_refused, &f), 0);
        ASSERT_EQ(pthread_join(t, NULL), 0);
        uint64_t before = runs;
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
        more += runs - before;
    }
    ASSERT_UEQ(more, 91);
    ASSERT_OK(evl_loop_free(loop));
}
