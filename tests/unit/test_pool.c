/*
 * The worker pool and the thread-safe resolver: settling on the loop thread, keeping the loop
 * alive, sharing a pool across loops, racing shutdown and close, and resolvers used from 8
 * threads at once (run these under the tsan preset).
 */
#include "test_promise_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static _Atomic int work_runs;

static int work_value(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    atomic_fetch_add(&work_runs, 1);
    int *v = evl_malloc(sizeof(*v));
    if (!v) {
        return EVL_ENOMEM;
    }
    *v = (int)(intptr_t)arg;
    *value_out = v;
    *dtor_out = free_int;
    return 0;
}

static int work_fail(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    atomic_fetch_add(&work_runs, 1);
    return EVL_EIO;
}

static int work_fail_with_reason(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    struct evl_error *err = NULL;
    int rc = evl_error_new(&err, -4242, "custom %s", (const char *)arg);
    if (rc != 0) {
        return rc;
    }
    *value_out = err;
    *dtor_out = evl_error_dtor;
    return -4242;
}

TEST(pool_settles_on_loop_thread_and_keeps_loop_alive)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 2));
    ASSERT_EQ(evl_pool_threads(pool), 2);
    struct evl_promise *a = NULL, *b = NULL, *c = NULL;
    ASSERT_OK(evl_pool_submit(pool, loop, work_value, (void *)(intptr_t)7, &a));
    ASSERT_OK(evl_pool_submit(pool, loop, work_fail, NULL, &b));
    ASSERT_OK(evl_pool_submit(pool, loop, work_fail_with_reason, S("why"), &c));
    evl_promise_mark_handled(b);
    evl_promise_mark_handled(c);
    /* Pending pool work keeps the loop alive: run returns only once all three settled. */
    ASSERT_TRUE(evl_loop_alive(loop));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(a), EVL_PROMISE_FULFILLED);
    ASSERT_EQ(*(int *)evl_promise_value(a), 7);
    ASSERT_EQ(evl_promise_state(b), EVL_PROMISE_REJECTED);
    ASSERT_EQ(evl_error_code(evl_promise_reason_as_error(b)), EVL_EIO);
    ASSERT_EQ(evl_promise_state(c), EVL_PROMISE_REJECTED);
    ASSERT_STR_EQ(evl_error_message(evl_promise_reason_as_error(c)), "custom why");
    evl_promise_release(a);
    evl_promise_release(b);
    evl_promise_release(c);
    ASSERT_OK(evl_pool_free(pool));
    free_loop(loop);
}

/* Runs on a worker: from here on every allocation fails, so the hand-off of this result to
 * the loop cannot allocate a task slot. */
static int work_then_exhaust_memory(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)dtor_out;
    *value_out = arg;
    evl_alloc_fail_at(1, 1);
    return 0;
}

TEST(result_handed_back_while_memory_is_exhausted_still_settles)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 1));
    struct evl_alloc_stats before;
    evl_alloc_stats(&before);
    struct evl_promise *p = NULL;
    static const char result[] = "result";
    ASSERT_OK(evl_pool_submit(pool, loop, work_then_exhaust_memory, S(result), &p));
    /* Before the fallback the job was left orphaned and this run never returned. */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    struct evl_alloc_stats after;
    evl_alloc_stats(&after);
    evl_alloc_fail_at(0, 0);
    ASSERT_TRUE(after.failed_allocs > before.failed_allocs); /* the hand-off did fail */
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    ASSERT_PTR_EQ(evl_promise_value(p), S(result));
    evl_promise_release(p);
    ASSERT_OK(evl_pool_free(pool));
    free_loop(loop);
}

/* The same run, but the loop closes before it takes the result: the note is discarded with
 * the loop's other queued work and the promise is rejected, never left pending. */
static _Atomic int exhausted;
static void close_now_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_close(loop));
}

static int work_exhaust_and_signal(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    evl_alloc_fail_at(1, 1);
    atomic_store(&exhausted, 1);
    return 0;
}

TEST(result_queued_without_memory_is_rejected_when_the_loop_closes)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 1));
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_pool_submit(pool, loop, work_exhaust_and_signal, NULL, &p));
    evl_promise_mark_handled(p);
    while (!atomic_load(&exhausted)) {
        sched_yield();
    }
    /* The worker posts the note right after its work returns (its task allocation failed). */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    struct evl_alloc_stats st;
    evl_alloc_stats(&st);
    evl_alloc_fail_at(0, 0);
    ASSERT_TRUE(st.failed_allocs > 0);
    /* The close runs before the note (loop-thread tasks come first in the tasks phase). */
    ASSERT_OK(evl_loop_submit(loop, close_now_task, NULL));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_REJECTED);
    ASSERT_EQ(evl_error_code(evl_promise_reason_as_error(p)), EVL_ECANCELED);
    evl_promise_release(p);
    ASSERT_OK(evl_pool_free(pool));
    free_loop(loop);
}

TEST(pool_arguments_are_checked)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    struct evl_promise *p = NULL;
    ASSERT_ERR(EVL_ERANGE, evl_pool_new(&pool, 1000));
    ASSERT_ERR(EVL_EINVAL, evl_pool_new(NULL, 1));
    ASSERT_OK(evl_pool_new(&pool, 0));
    ASSERT_EQ(evl_pool_threads(pool), 4);
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(pool, loop, NULL, NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(NULL, loop, work_value, NULL, &p));
    ASSERT_OK(evl_pool_free(pool));
    ASSERT_ERR(EVL_EINVAL, evl_pool_free(NULL));
    free_loop(loop);
}

/* ---- One pool, two loops on two threads --------------------------------------------------- */

#define PER_LOOP 200

static void *loop_thread_main(void *arg)
{
    struct evl_pool *pool = arg;
    struct evl_loop *loop = NULL;
    if (evl_loop_new(&loop, NULL) != 0) {
        return (void *)1;
    }
    struct evl_promise *ps[PER_LOOP];
    for (int i = 0; i < PER_LOOP; i++) {
        if (evl_pool_submit(pool, loop, work_value, (void *)(intptr_t)i, &ps[i]) != 0) {
            return (void *)2;
        }
    }
    if (evl_loop_run(loop, EVL_RUN_DEFAULT) != 0) {
        return (void *)3;
    }
    intptr_t bad = 0;
    for (int i = 0; i < PER_LOOP; i++) {
        if (evl_promise_state(ps[i]) != EVL_PROMISE_FULFILLED ||
            *(int *)evl_promise_value(ps[i]) != i) {
            bad = 4;
        }
        evl_promise_release(ps[i]);
    }
    if (evl_loop_free(loop) != 0) {
        bad = 5;
    }
    return (void *)bad;
}

TEST(pool_shared_by_two_loops)
{
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 3));
    pthread_t t1, t2;
    ASSERT_EQ(pthread_create(&t1, NULL, loop_thread_main, pool), 0);
    ASSERT_EQ(pthread_create(&t2, NULL, loop_thread_main, pool), 0);
    void *r1 = NULL, *r2 = NULL;
    ASSERT_EQ(pthread_join(t1, &r1), 0);
    ASSERT_EQ(pthread_join(t2, &r2), 0);
    ASSERT_EQ((intptr_t)r1, 0);
    ASSERT_EQ((intptr_t)r2, 0);
    ASSERT_OK(evl_pool_free(pool));
}

/* ---- Racing shutdown and close --------------------------------------------------------- */

/* A gate the test opens to let blocked work finish. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static _Atomic int gate_waiting;

static int work_blocked(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)dtor_out;
    atomic_fetch_add(&work_runs, 1);
    pthread_mutex_lock(&gate_lock);
    atomic_fetch_add(&gate_waiting, 1);
    while (!gate_open) {
        pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    *value_out = arg;
    return 0;
}

static void gate_reset(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = 0;
    pthread_mutex_unlock(&gate_lock);
    atomic_store(&gate_waiting, 0);
}

static void gate_release(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static void wait_for_blocked(int n)
{
    while (atomic_load(&gate_waiting) < n) {
        sched_yield();
    }
}

static void *open_gate_later(void *arg)
{
    (void)arg;
    wait_for_blocked(1);
    gate_release();
    return NULL;
}

/* A pool of n workers with the gate closed and the run counter reset. */
static struct evl_pool *gated_pool_new(unsigned n)
{
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, n));
    gate_reset();
    atomic_store(&work_runs, 0);
    return pool;
}

static void shutdown_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_shutdown(loop));
}

TEST(shutdown_waits_for_in_flight_pool_work) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = gated_pool_new(2);
    struct evl_promise *ps[8];
    for (int i = 0; i < 8; i++) {
        ASSERT_OK(evl_pool_submit(pool, loop, work_blocked, S("done"), &ps[i]));
    }
    /* Shut down from a task while the work is blocked; a helper thread opens the gate. */
    ASSERT_OK(evl_loop_submit(loop, shutdown_task, NULL));
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, open_gate_later, NULL), 0);
    run_loop(loop);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_EQ(atomic_load(&work_runs), 8);
    for (int i = 0; i < 8; i++) {
        ASSERT_EQ(evl_promise_state(ps[i]), EVL_PROMISE_FULFILLED);
        ASSERT_STR_EQ(evl_promise_value(ps[i]), "done");
        evl_promise_release(ps[i]);
    }
    ASSERT_OK(evl_pool_free(pool));
    ASSERT_OK(evl_loop_free(loop));
}

static void close_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    ASSERT_OK(evl_loop_close(loop));
}

/* Opens the gate 20 ms after the loop (arg) began to close: counting from the close, not from
 * the thread's start, so a loaded host that delays the loop thread cannot let the blocked
 * work finish, and the worker take its next item, before the close has cancelled them. */
static void *open_gate_after_20ms(void *arg)
{
    struct evl_loop *loop = arg;
    struct timespec poll = {0, 1000 * 1000};
    while (evl_loop_state(loop) < EVL_LOOP_TERMINATING) {
        nanosleep(&poll, NULL);
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    gate_release();
    return NULL;
}

/* After a close while one worker was blocked in the first of six items (a helper thread,
 * gate, opens the gate 20 ms later: the close waits for that item's work to return): the
 * loop is terminated, all six promises are rejected with EVL_ECANCELED, and only that first
 * item ran. Frees the loop and the pool. */
static void expect_six_cancelled(struct evl_loop *loop, struct evl_pool *pool,
                                 struct evl_promise **ps, pthread_t gate)
{
    ASSERT_EQ(pthread_join(gate, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(evl_promise_state(ps[i]), EVL_PROMISE_REJECTED);
        ASSERT_EQ(evl_error_code(evl_promise_reason_as_error(ps[i])), EVL_ECANCELED);
        evl_promise_release(ps[i]);
    }
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_pool_free(pool));
    ASSERT_EQ(atomic_load(&work_runs), 1); /* the other five never ran */
}

TEST(close_cancels_queued_work_without_running_it) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = gated_pool_new(1);
    struct evl_promise *ps[6];
    for (int i = 0; i < 6; i++) {
        ASSERT_OK(evl_pool_submit(pool, loop, work_blocked, S("x"), &ps[i]));
    }
    /* The single worker is blocked in the first item; the other five are queued. */
    wait_for_blocked(1);
    ASSERT_OK(evl_loop_submit(loop, close_task, NULL));
    pthread_t gate;
    ASSERT_EQ(pthread_create(&gate, NULL, open_gate_after_20ms, loop), 0);
    run_loop(loop);
    expect_six_cancelled(loop, pool, ps, gate);
}

static void *close_from_thread(void *arg)
{
    struct evl_loop *loop = arg;
    wait_for_blocked(2);
    evl_loop_close(loop);
    gate_release();
    return NULL;
}

TEST(close_from_another_thread_races_completions) /* labels: real-time */
{
    for (int round = 0; round < 20; round++) {
        struct evl_loop *loop = new_loop();
        struct evl_pool *pool = NULL;
        ASSERT_OK(evl_pool_new(&pool, 2));
        gate_reset();
        struct evl_promise *ps[40];
        for (int i = 0; i < 40; i++) {
            ASSERT_OK(evl_pool_submit(pool, loop, i % 2 ? work_blocked : work_value,
                                      (void *)(intptr_t)i, &ps[i]));
        }
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, close_from_thread, loop), 0);
        run_loop(loop);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        dtor_calls = 0;
        for (int i = 0; i < 40; i++) {
            /* Every promise settled exactly one way: fulfilled before the close, or
             * cancelled by it. */
            enum evl_promise_state st = evl_promise_state(ps[i]);
            ASSERT_TRUE(st == EVL_PROMISE_FULFILLED ||
                        (st == EVL_PROMISE_REJECTED &&
                         evl_error_code(evl_promise_reason_as_error(ps[i])) == EVL_ECANCELED));
            evl_promise_release(ps[i]);
        }
        ASSERT_OK(evl_loop_free(loop));
        ASSERT_OK(evl_pool_free(pool));
    }
}

/* ---- Thread-safe resolvers ---------------------------------------------------------------- */

#define THREADS    8
#define PER_THREAD 500

struct resolver_set {
    struct evl_resolver *r[THREADS * PER_THREAD];
    _Atomic int wins;
    _Atomic int already;
};

static struct resolver_set rs;

static void *resolver_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    /* Each thread settles its own slice and also tries a neighbour's: exactly one call per
     * resolver may win. */
    for (int i = 0; i < PER_THREAD; i++) {
        int mine = id * PER_THREAD + i;
        int other = ((id + 1) % THREADS) * PER_THREAD + i;
        int *v = evl_malloc(sizeof(*v));
        *v = mine;
        int rc = (i % 7 == 0) ? evl_resolver_reject(rs.r[mine], v, free_int)
                              : evl_resolver_resolve(rs.r[mine], v, free_int);
        if (rc == 0) {
            atomic_fetch_add(&rs.wins, 1);
        } else {
            atomic_fetch_add(&rs.already, 1);
            evl_free(v);
        }
        rc = evl_resolver_resolve(rs.r[other], NULL, NULL);
        if (rc == 0) {
            atomic_fetch_add(&rs.wins, 1);
        } else if (rc == EVL_EALREADY) {
            atomic_fetch_add(&rs.already, 1);
        }
    }
    return NULL;
}

static int settled_count;

static void h_count(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)value;
    (void)arg;
    (void)result;
    if (++settled_count == THREADS * PER_THREAD) {
        ASSERT_OK(evl_loop_unref(loop));
    }
}

TEST(concurrent_resolvers_from_eight_threads)
{
    struct evl_loop *loop = new_loop();
    static struct evl_promise *ps[THREADS * PER_THREAD];
    settled_count = 0;
    atomic_store(&rs.wins, 0);
    atomic_store(&rs.already, 0);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        ASSERT_OK(evl_promise_new(loop, &ps[i]));
        ASSERT_OK(evl_resolver_new(ps[i], &rs.r[i]));
        ASSERT_OK(evl_promise_then(ps[i], h_count, h_count, NULL, NULL, NULL));
    }
    ASSERT_OK(evl_loop_ref(loop)); /* pending promises do not keep the loop alive */
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ASSERT_EQ(pthread_create(&th[t], NULL, resolver_thread, (void *)(intptr_t)t), 0);
    }
    run_loop(loop);
    for (int t = 0; t < THREADS; t++) {
        ASSERT_EQ(pthread_join(th[t], NULL), 0);
    }
    ASSERT_EQ(settled_count, THREADS * PER_THREAD);
    ASSERT_EQ(atomic_load(&rs.wins), THREADS * PER_THREAD); /* exactly once each */
    ASSERT_EQ(atomic_load(&rs.already), THREADS * PER_THREAD);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        ASSERT_NE(evl_promise_state(ps[i]), EVL_PROMISE_PENDING);
        evl_resolver_release(rs.r[i]);
        evl_promise_release(ps[i]);
    }
    checkpoint(loop); /* deliver (and drop) the rejection reports */
    free_loop(loop);
}

static void *release_unused(void *arg)
{
    evl_resolver_release(arg);
    return NULL;
}

TEST(unused_resolver_released_from_another_thread_leaks_nothing)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    struct evl_resolver *r1 = NULL, *r2 = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_resolver_new(p, &r1));
    ASSERT_OK(evl_resolver_new(p, &r2));
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, release_unused, r1), 0);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    evl_resolver_release(r2); /* on the loop thread: immediate */
    run_loop(loop);           /* runs the hop that drops r1's promise reference */
    evl_promise_release(p);
    free_loop(loop);
}

TEST(resolver_on_closed_loop_is_refused_and_value_stays_with_caller)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    struct evl_resolver *r = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_resolver_new(p, &r));
    ASSERT_OK(evl_loop_close(loop));
    (void)evl_loop_run(loop, EVL_RUN_DEFAULT); /* terminates it if close did not already */
    dtor_calls = 0;
    int v = 1;
    ASSERT_ERR(EVL_ECLOSED, evl_resolver_resolve(r, &v, count_dtor));
    ASSERT_EQ(dtor_calls, 0);
    evl_resolver_release(r);
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_PENDING);
    evl_promise_release(p);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(resolver_settle_dropped_by_close_destroys_value)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL;
    struct evl_resolver *r = NULL;
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_OK(evl_resolver_new(p, &r));
    dtor_calls = 0;
    ASSERT_OK(evl_resolver_resolve(r, new_int(3), free_int));
    ASSERT_ERR(EVL_EALREADY, evl_resolver_resolve(r, NULL, NULL));
    evl_resolver_release(r);
    ASSERT_OK(evl_loop_close(loop)); /* the hop is still queued: its discard frees the value */
    evl_promise_release(p);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(dtor_calls, 1);
}

/* ---- Batching ------------------------------------------------------------------------------ */

#define BURST 3000

static struct evl_pool *burst_pool;
static struct evl_promise *burst_ps[BURST];
static int burst_ok;

static void burst_done(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)result;
    if (*(int *)value == (int)(intptr_t)arg) {
        burst_ok++;
    }
}

static void burst_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    /* Inside a callback: the wake-up is deferred to a microtask (or made once a batch's
     * worth is queued), and workers take many jobs per lock. */
    for (int i = 0; i < BURST; i++) {
        ASSERT_OK(evl_pool_submit(burst_pool, loop, work_value, (void *)(intptr_t)i, &burst_ps[i]));
        ASSERT_OK(evl_promise_then(burst_ps[i], burst_done, NULL, (void *)(intptr_t)i, NULL, NULL));
    }
}

TEST(burst_submitted_in_one_callback_all_settle)
{
    struct evl_loop *loop = new_loop();
    ASSERT_OK(evl_pool_new(&burst_pool, 3));
    burst_ok = 0;
    ASSERT_OK(evl_loop_submit(loop, burst_task, NULL));
    run_loop(loop);
    ASSERT_EQ(burst_ok, BURST);
    for (int i = 0; i < BURST; i++) {
        evl_promise_release(burst_ps[i]);
    }
    /* A second burst reuses the recycled job records. */
    burst_ok = 0;
    ASSERT_OK(evl_loop_submit(loop, burst_task, NULL));
    run_loop(loop);
    ASSERT_EQ(burst_ok, BURST);
    for (int i = 0; i < BURST; i++) {
        evl_promise_release(burst_ps[i]);
    }
    free_loop(loop);
    ASSERT_OK(evl_pool_free(burst_pool));
}

static struct evl_promise *taken_ps[6];

static void submit_six_blocked(struct evl_loop *loop, void *arg)
{
    struct evl_pool *pool = arg;
    /* All six are queued before the (deferred) wake-up: the worker takes them as one batch
     * and blocks in the first; the close must cancel the five it took but did not start. */
    for (int i = 0; i < 6; i++) {
        ASSERT_OK(evl_pool_submit(pool, loop, work_blocked, S("x"), &taken_ps[i]));
    }
}

static void close_when_blocked(struct evl_loop *loop, void *arg)
{
    (void)arg;
    wait_for_blocked(1);
    ASSERT_OK(evl_loop_close(loop));
}

TEST(close_cancels_work_a_worker_took_in_a_batch) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = gated_pool_new(1);
    ASSERT_OK(evl_loop_submit(loop, submit_six_blocked, pool));
    ASSERT_OK(evl_loop_submit(loop, close_when_blocked, NULL));
    pthread_t gate;
    ASSERT_EQ(pthread_create(&gate, NULL, open_gate_after_20ms, loop), 0);
    run_loop(loop);
    expect_six_cancelled(loop, pool, taken_ps, gate);
}

static void *free_pool_thread(void *arg)
{
    return (void *)(intptr_t)evl_pool_free(arg);
}

TEST(pool_free_finishes_queued_work)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = gated_pool_new(1);
    struct evl_promise *ps[5];
    for (int i = 0; i < 5; i++) {
        ASSERT_OK(evl_pool_submit(pool, loop, work_blocked, S("done"), &ps[i]));
    }
    wait_for_blocked(1);
    /* evl_pool_free blocks until the queue is done: run it on a helper thread. */
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, free_pool_thread, pool), 0);
    gate_release();
    run_loop(loop);
    void *rc = NULL;
    ASSERT_EQ(pthread_join(th, &rc), 0);
    ASSERT_EQ((intptr_t)rc, 0);
    ASSERT_EQ(atomic_load(&work_runs), 5);
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(evl_promise_state(ps[i]), EVL_PROMISE_FULFILLED);
        evl_promise_release(ps[i]);
    }
    free_loop(loop);
}

static struct evl_promise *unpublished;

static void submit_then_free_pool(struct evl_loop *loop, void *arg)
{
    struct evl_pool *pool = arg;
    /* Inside a callback the job waits for the end of the callback to reach the pool; the
     * pool is freed first, so the job is rejected with EVL_ECANCELED and never runs. */
    ASSERT_OK(evl_pool_submit(pool, loop, work_value, (void *)(intptr_t)1, &unpublished));
    ASSERT_OK(evl_pool_free(pool));
}

TEST(work_collected_in_a_callback_is_cancelled_if_the_pool_is_freed_first)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 2));
    atomic_store(&work_runs, 0);
    ASSERT_OK(evl_loop_submit(loop, submit_then_free_pool, pool));
    run_loop(loop);
    ASSERT_EQ(evl_promise_state(unpublished), EVL_PROMISE_REJECTED);
    ASSERT_EQ(evl_error_code(evl_promise_reason_as_error(unpublished)), EVL_ECANCELED);
    ASSERT_EQ(atomic_load(&work_runs), 0);
    evl_promise_release(unpublished);
    free_loop(loop);
}

/* ---- Argument lifetime and fairness ------------------------------------------------------ */

/* What a job's reaction frees: the work writes into it after a long wait. */
struct owned_arg {
    _Atomic int work_returned;
    int written;
};

static _Atomic int owned_freed_after_return;

static int work_blocked_then_write(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)value_out;
    (void)dtor_out;
    struct owned_arg *a = arg;
    work_blocked(NULL, value_out, dtor_out);
    a->written = 42; /* a use-after-free if the loop released a before the work returned */
    atomic_store(&a->work_returned, 1);
    return 0;
}

static void owned_arg_free(struct evl_loop *loop, void *arg)
{
    (void)loop;
    struct owned_arg *a = arg;
    if (atomic_load(&a->work_returned) && a->written == 42) {
        atomic_fetch_add(&owned_freed_after_return, 1);
    }
    evl_free(a);
}

static void never_called(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    (void)result;
    ASSERT_TRUE(0);
}

static struct evl_promise *owned_derived;

static void submit_owned_then_close(struct evl_loop *loop, void *arg)
{
    struct evl_pool *pool = arg;
    struct owned_arg *a = evl_calloc(1, sizeof(*a));
    ASSERT_TRUE(a != NULL);
    struct evl_promise *work = NULL;
    ASSERT_OK(evl_pool_submit(pool, loop, work_blocked_then_write, a, &work));
    /* The pattern of examples/duk_pool_promise.c: the reaction owns the argument. */
    ASSERT_OK(evl_promise_then(work, never_called, NULL, a, owned_arg_free, &owned_derived));
    evl_promise_release(work);
}

/* Regression: close used to reject a running job's promise at once, so the reaction's argument
 * destructor freed what the work was still writing (heap-use-after-free under ASan). */
TEST(close_keeps_a_running_jobs_argument_until_its_work_returns) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = gated_pool_new(1);
    atomic_store(&owned_freed_after_return, 0);
    ASSERT_OK(evl_loop_submit(loop, submit_owned_then_close, pool));
    ASSERT_OK(evl_loop_submit(loop, close_when_blocked, NULL));
    pthread_t gate;
    ASSERT_EQ(pthread_create(&gate, NULL, open_gate_after_20ms, loop), 0);
    run_loop(loop);
    ASSERT_EQ(pthread_join(gate, NULL), 0);
    ASSERT_EQ(atomic_load(&owned_freed_after_return), 1);
    /* Close drops the reaction (its argument destructor ran): the derived promise stays
     * pending. */
    ASSERT_EQ(evl_promise_state(owned_derived), EVL_PROMISE_PENDING);
    evl_promise_release(owned_derived);
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_pool_free(pool));
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int work_sleep_ms(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)value_out;
    (void)dtor_out;
    intptr_t ms = (intptr_t)arg;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

static uint64_t settled_at[4];
static uint64_t fair_start;

static void note_settled(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)result;
    settled_at[(intptr_t)arg] = mono_ms() - fair_start;
}

/* Submits jobs sleeping ms[0..n) in one callback (one push, so one worker may take them as
 * one batch); note_settled records when each one's promise settles. */
static void submit_timed_jobs(struct evl_loop *loop, struct evl_pool *pool, const intptr_t *ms,
                              intptr_t n)
{
    fair_start = mono_ms();
    for (intptr_t i = 0; i < n; i++) {
        struct evl_promise *p = NULL;
        struct evl_promise *d = NULL;
        ASSERT_OK(evl_pool_submit(pool, loop, work_sleep_ms, (void *)ms[i], &p));
        ASSERT_OK(evl_promise_then(p, note_settled, NULL, (void *)i, NULL, &d));
        evl_promise_release(p);
        evl_promise_release(d);
    }
}

static void submit_long_then_short(struct evl_loop *loop, void *arg)
{
    static const intptr_t ms[4] = {300, 0, 0, 0};
    submit_timed_jobs(loop, arg, ms, 4);
}

/* Regression: a worker took the long job with the short ones behind it in one batch, and the
 * short ones waited 300 ms while the other worker was idle. */
TEST(no_job_waits_behind_a_long_one_while_a_worker_is_idle) /* labels: real-time */
{
    for (int round = 0; round < 5; round++) {
        struct evl_loop *loop = new_loop();
        struct evl_pool *pool = NULL;
        ASSERT_OK(evl_pool_new(&pool, 2));
        ASSERT_OK(evl_loop_submit(loop, submit_long_then_short, pool));
        run_loop(loop);
        ASSERT_TRUE(settled_at[0] >= 300);
        for (int i = 1; i < 4; i++) {
            ASSERT_TRUE(settled_at[i] < 150); /* not behind the 300 ms job */
        }
        free_loop(loop);
        ASSERT_OK(evl_pool_free(pool));
    }
}

static void submit_short_then_long(struct evl_loop *loop, void *arg)
{
    /* The reverse order of the test above: the short job runs first, and its result must
     * not wait in the worker while the long one runs. */
    static const intptr_t ms[2] = {0, 300};
    submit_timed_jobs(loop, arg, ms, 2);
}

/* Regression: both jobs went to one worker as a batch and the instant one's result was handed
 * back only after the 300 ms one had run. */
TEST(a_finished_result_does_not_wait_for_the_rest_of_its_batch) /* labels: real-time */
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 2));
    ASSERT_OK(evl_loop_submit(loop, submit_short_then_long, pool));
    run_loop(loop);
    ASSERT_TRUE(settled_at[0] < 150);
    ASSERT_TRUE(settled_at[1] >= 300);
    free_loop(loop);
    ASSERT_OK(evl_pool_free(pool));
}

/* Regression: one worker ran a job of loop A then, in the same batch, a long job of loop B;
 * A's result stayed in the worker, so closing A waited for B's work. */
TEST(closing_a_loop_never_waits_for_another_loops_work) /* labels: real-time */
{
    struct evl_loop *a = new_loop();
    struct evl_loop *b = new_loop();
    struct evl_pool *pool = gated_pool_new(1);
    struct evl_promise *gate_p = NULL;
    struct evl_promise *pa = NULL;
    struct evl_promise *pb = NULL;
    ASSERT_OK(evl_pool_submit(pool, a, work_blocked, S("gate"), &gate_p));
    wait_for_blocked(1);
    /* Queued behind the gate: the worker takes both as one batch when it opens. */
    ASSERT_OK(evl_pool_submit(pool, a, work_sleep_ms, (void *)(intptr_t)20, &pa));
    ASSERT_OK(evl_pool_submit(pool, b, work_sleep_ms, (void *)(intptr_t)1000, &pb));
    gate_release();
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL); /* A's job is done, B's is running */
    uint64_t t0 = mono_ms();
    ASSERT_OK(evl_loop_close(a)); /* not running: the teardown runs here */
    if (evl_loop_state(a) != EVL_LOOP_TERMINATED) {
        (void)evl_loop_run(a, EVL_RUN_DEFAULT);
    }
    ASSERT_TRUE(mono_ms() - t0 < 500);
    ASSERT_EQ(evl_loop_state(a), EVL_LOOP_TERMINATED);
    evl_promise_release(gate_p);
    evl_promise_release(pa);
    ASSERT_OK(evl_loop_free(a));
    run_loop(b);
    ASSERT_EQ(evl_promise_state(pb), EVL_PROMISE_FULFILLED);
    evl_promise_release(pb);
    free_loop(b);
    ASSERT_OK(evl_pool_free(pool));
}

static struct evl_promise *raced;
static struct evl_pool *race_pool;

static void *free_pool_now(void *arg)
{
    (void)arg;
    ASSERT_OK(evl_pool_free(race_pool));
    return NULL;
}

/* evl_pool_free racing a submit: the job is either taken by the close and run, or refused
 * (EVL_ECLOSED or a rejection with EVL_ECANCELED) - never accepted and then lost. The loop has
 * used the pool before (as a loop that submits while another thread frees the pool has), so
 * the pool's memory outlives the free until the loop lets go of it. */
TEST(pool_free_racing_submits_loses_nothing) /* labels: real-time */
{
    for (int round = 0; round < 200; round++) {
        struct evl_loop *loop = new_loop();
        ASSERT_OK(evl_pool_new(&race_pool, 2));
        struct evl_promise *first = NULL;
        ASSERT_OK(evl_pool_submit(race_pool, loop, work_value, (void *)(intptr_t)1, &first));
        run_loop(loop);
        evl_promise_release(first);
        atomic_store(&work_runs, 0);
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, free_pool_now, NULL), 0);
        raced = NULL;
        int rc = evl_pool_submit(race_pool, loop, work_value, (void *)(intptr_t)round, &raced);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        if (rc == 0) {
            run_loop(loop); /* must return: the job settles one way or the other */
            enum evl_promise_state st = evl_promise_state(raced);
            ASSERT_TRUE(st == EVL_PROMISE_FULFILLED ||
                        (st == EVL_PROMISE_REJECTED &&
                         evl_error_code(evl_promise_reason_as_error(raced)) == EVL_ECANCELED));
            evl_promise_release(raced);
        } else {
            ASSERT_EQ(rc, EVL_ECLOSED);
        }
        free_loop(loop);
    }
}
