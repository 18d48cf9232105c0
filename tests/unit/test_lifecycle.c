/* Lifecycle: shutdown and close from every state and thread, conservation of accepted tasks,
 * and resource hygiene over many loops. */
#include "evl_test.h"

#include <dirent.h>
#include <pthread.h>
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

enum { RACERS = 16 };

struct racer {
    struct evl_loop *loop;
    uint64_t accepted;
    int use_ex;
};

static void *racer(void *p)
{
    struct racer *r = p;
    for (;;) {
        int rc = r->use_ex ? evl_loop_submit_ex(r->loop, count_task, count_discard, NULL)
                           : evl_loop_submit(r->loop, count_task, NULL);
        if (rc == EVL_ECLOSED) {
            return NULL;
        }
        ASSERT_OK(rc);
        r->accepted++;
        if ((r->accepted & 255) == 0) {
            sched_yield(); /* keep the backlog moderate on a 2-core machine */
        }
    }
}

static _Atomic int started;

static void maybe_terminate(struct evl_loop *loop, void *arg)
{
    int drop = (int)(uintptr_t)arg;
    runs++;
    if (runs >= 20000 && !atomic_exchange(&started, 1)) {
        /* From a callback: must not deadlock; the loop finishes it after this task. */
        ASSERT_OK(drop ? evl_loop_close(loop) : evl_loop_shutdown(loop));
    }
}

static void *racer_trigger(void *p)
{
    struct racer *r = p;
    for (;;) {
        int rc = evl_loop_submit_ex(r->loop, maybe_terminate, count_discard,
                                    (void *)(uintptr_t)r->use_ex);
        if (rc == EVL_ECLOSED) {
            return NULL;
        }
        ASSERT_OK(rc);
        r->accepted++;
        if ((r->accepted & 255) == 0) {
            sched_yield();
        }
    }
}

static void race(int drop)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    atomic_store(&discards, 0);
    atomic_store(&started, 0);
    ASSERT_OK(evl_loop_ref(loop)); /* a ref never holds up termination */
    struct racer r[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){loop, 0, drop};
        ASSERT_EQ(pthread_create(&th[i], NULL, i == 0 ? racer_trigger : racer, &r[i]), 0);
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    uint64_t accepted = 0;
    for (int i = 0; i < RACERS; i++) {
        ASSERT_EQ(pthread_join(th[i], NULL), 0);
        accepted += r[i].accepted;
    }
    /* Conservation: every submit that returned 0 ran exactly once (or was discarded). */
    ASSERT_UEQ(runs + atomic_load(&discards), accepted);
    if (!drop) {
        ASSERT_UEQ(atomic_load(&discards), 0);
    }
    ASSERT_OK(evl_loop_free(loop));
}

TEST(shutdown_racing_16_producers_conserves_tasks) /* labels: real-time */
{
    race(0);
}

TEST(close_racing_16_producers_discards_the_rest) /* labels: real-time */
{
    race(1);
}

/* GUIDE §3.9: shutdown drains on the loop thread, including work queued by that work. */
static _Atomic int wrong_thread;
static int chain_left;

static void chain(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    if (!evl_loop_on_thread(loop)) {
        atomic_store(&wrong_thread, 1);
    }
    if (chain_left > 0) {
        chain_left--;
        ASSERT_OK(evl_loop_submit(loop, chain, NULL));
        ASSERT_OK(evl_queue_microtask(loop, count_task, NULL));
    }
}

struct shut {
    struct evl_loop *loop;
    _Atomic int go;
};

static void *shutdown_thread(void *p)
{
    struct shut *s = p;
    while (!atomic_load(&s->go)) {
        sched_yield();
    }
    ASSERT_OK(evl_loop_shutdown(s->loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(s->loop));
    return NULL;
}

static void start_chain(struct evl_loop *loop, void *arg)
{
    struct shut *s = arg;
    chain(loop, NULL);
    atomic_store(&s->go, 1);
}

TEST(shutdown_from_other_thread_drains_on_loop_thread)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    chain_left = 500;
    atomic_store(&wrong_thread, 0);
    ASSERT_OK(evl_loop_ref(loop));
    struct shut s = {loop, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, shutdown_thread, &s), 0);
    ASSERT_OK(evl_loop_submit(loop, start_chain, &s));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs, 501 + 500); /* 501 chain tasks + 500 microtasks */
    ASSERT_EQ(atomic_load(&wrong_thread), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void *shutdown_idle(void *p)
{
    ASSERT_OK(evl_loop_shutdown(p));
    return NULL;
}

TEST(shutdown_from_other_thread_of_idle_loop_leaves_drain_to_run)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    chain_left = 10;
    atomic_store(&wrong_thread, 0);
    ASSERT_OK(evl_loop_submit(loop, chain, NULL));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, shutdown_idle, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATING);
    ASSERT_UEQ(runs, 0); /* nothing ran on the caller's thread */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs, 11 + 10);
    ASSERT_EQ(atomic_load(&wrong_thread), 0);
    ASSERT_OK(evl_loop_free(loop));
}

/* Teardown hooks and in-flight work are internal seams; exercised here through the loop. */
#include "core/loop_state.h"

static int teardown_seen;
static int teardown_closing;

static void on_teardown(struct evl_loop *loop, void *arg)
{
    (void)arg;
    teardown_seen++;
    teardown_closing = evl__loop_closing(loop);
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(loop, count_task, NULL));
}

struct job {
    struct evl_loop *loop;
};

static void *pool_job(void *p)
{
    struct job *j = p;
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* As the pool hands results back: admitted while the shutdown waits for it (a plain
     * submit from this thread would be refused since the shutdown began). */
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(j->loop, count_task, NULL));
    ASSERT_OK(evl__loop_submit_internal(j->loop, count_task, NULL, NULL));
    evl__loop_inflight_done(j->loop);
    return NULL;
}

TEST(shutdown_waits_for_inflight_work) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    teardown_seen = 0;
    ASSERT_OK(evl__loop_at_teardown(loop, on_teardown, NULL));
    evl__loop_inflight_add(loop);
    ASSERT_TRUE(evl_loop_alive(loop));
    struct job j = {loop};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, pool_job, &j), 0);
    ASSERT_OK(evl_loop_shutdown(loop)); /* on the loop thread, idle: drains here */
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_UEQ(runs, 1); /* the completion ran before teardown */
    ASSERT_EQ(teardown_seen, 1);
    ASSERT_EQ(teardown_closing, 0);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(close_runs_teardown_with_closing_flag)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    teardown_seen = 0;
    ASSERT_OK(evl__loop_at_teardown(loop, on_teardown, NULL));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_EQ(teardown_seen, 1);
    ASSERT_EQ(teardown_closing, 1);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(free_runs_teardown_once)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    teardown_seen = 0;
    ASSERT_OK(evl__loop_at_teardown(loop, on_teardown, NULL));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(teardown_seen, 1);
    ASSERT_EQ(teardown_closing, 1);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static void noop_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    runs++;
}

TEST(thousand_new_run_free_cycles_leak_nothing)
{
    int before = open_fds();
    if (before < 0) {
        TEST_SKIP("no /proc/self/fd");
    }
    uint64_t blocks = evl_test_live_blocks();
    runs = 0;
    for (int i = 0; i < 1000; i++) {
        struct evl_loop *loop;
        ASSERT_OK(evl_loop_new(&loop, NULL));
        ASSERT_OK(evl_loop_submit(loop, count_task, NULL));
        ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 0, 0, NULL));
        ASSERT_OK(evl_immediate_set(loop, noop_timer, NULL, NULL));
        ASSERT_OK(evl_queue_microtask(loop, count_task, NULL));
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        ASSERT_OK(evl_loop_free(loop));
    }
    ASSERT_UEQ(runs, 4000);
    ASSERT_EQ(open_fds(), before);
    ASSERT_UEQ(evl_test_live_blocks(), blocks);
}

/* ---- model-based: random lifecycle calls from this thread, other threads and callbacks ---- */

static uint64_t seed;
static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

enum op {
    OP_SUBMIT,
    OP_SUBMIT_THREAD,
    OP_RUN_NOWAIT,
    OP_RUN_DEFAULT,
    OP_STOP,
    OP_STOP_THREAD,
    OP_SHUTDOWN,
    OP_SHUTDOWN_THREAD,
    OP_CLOSE,
    OP_CLOSE_THREAD,
    OP_CB_STOP,
    OP_CB_SHUTDOWN,
    OP_CB_CLOSE,
    OP_IMMEDIATE,
    OP_FREE_TRY,
    OP_COUNT
};

static uint64_t accepted;

static void imm_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
}

struct thread_op {
    struct evl_loop *loop;
    int op;
    int rc;
    int accepted;
};

static int do_lifecycle(struct evl_loop *loop, int op)
{
    switch (op) {
    case OP_STOP:
    case OP_STOP_THREAD:
    case OP_CB_STOP:
        return evl_loop_stop(loop);
    case OP_SHUTDOWN:
    case OP_SHUTDOWN_THREAD:
    case OP_CB_SHUTDOWN:
        return evl_loop_shutdown(loop);
    default:
        return evl_loop_close(loop);
    }
}

static void *thread_op(void *p)
{
    struct thread_op *t = p;
    if (t->op == OP_SUBMIT_THREAD) {
        for (int i = 0; i < 5; i++) {
            if (evl_loop_submit_ex(t->loop, count_task, count_discard, NULL) == 0) {
                t->accepted++;
            }
        }
        return NULL;
    }
    t->rc = do_lifecycle(t->loop, t->op);
    return NULL;
}

static void cb_op(struct evl_loop *loop, void *arg)
{
    int op = (int)(uintptr_t)arg;
    runs++;
    int rc = do_lifecycle(loop, op);
    ASSERT_TRUE(rc == 0 || rc == EVL_EALREADY || rc == EVL_ECLOSED);
}

static void model_once(void)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    accepted = 0;
    atomic_store(&discards, 0);
    for (int step = 0; step < 25; step++) {
        int op = (int)(rnd() % OP_COUNT);
        int st = evl_loop_state(loop);
        int rc;
        switch (op) {
        case OP_SUBMIT:
            rc = evl_loop_submit_ex(loop, count_task, count_discard, NULL);
            ASSERT_TRUE(rc == 0 || (rc == EVL_ECLOSED && st == EVL_LOOP_TERMINATED));
            accepted += rc == 0;
            break;
        case OP_CB_STOP:
        case OP_CB_SHUTDOWN:
        case OP_CB_CLOSE:
            rc = evl_loop_submit_ex(loop, cb_op, count_discard, (void *)(uintptr_t)op);
            accepted += rc == 0;
            break;
        case OP_IMMEDIATE:
            rc = evl_immediate_set(loop, imm_cb, NULL, NULL);
            ASSERT_TRUE(rc == 0 || (rc == EVL_ECLOSED && st == EVL_LOOP_TERMINATED));
            break;
        case OP_RUN_NOWAIT:
        case OP_RUN_DEFAULT:
            rc = evl_loop_run(loop, op == OP_RUN_NOWAIT ? EVL_RUN_NOWAIT : EVL_RUN_DEFAULT);
            ASSERT_TRUE(rc == 0 || rc == 1 || (rc == EVL_ECLOSED && st == EVL_LOOP_TERMINATED));
            break;
        case OP_FREE_TRY:
            /* Refused while work is live (a closed loop would be freed: not tried here). */
            if (st == EVL_LOOP_AWAKE && evl_loop_alive(loop)) {
                ASSERT_ERR(EVL_EBUSY, evl_loop_free(loop));
            }
            break;
        case OP_SUBMIT_THREAD:
        case OP_STOP_THREAD:
        case OP_SHUTDOWN_THREAD:
        case OP_CLOSE_THREAD: {
            struct thread_op t = {loop, op, 0, 0};
            pthread_t th;
            ASSERT_EQ(pthread_create(&th, NULL, thread_op, &t), 0);
            ASSERT_EQ(pthread_join(th, NULL), 0);
            accepted += (uint64_t)t.accepted;
            if (op != OP_SUBMIT_THREAD) {
                ASSERT_TRUE(t.rc == 0 || t.rc == EVL_EALREADY || t.rc == EVL_ECLOSED);
            }
            break;
        }
        default:
            rc = do_lifecycle(loop, op);
            ASSERT_TRUE(rc == 0 || rc == EVL_EALREADY || rc == EVL_ECLOSED);
            break;
        }
    }
    /* Finish: whatever the state, the loop can always be brought to TERMINATED. */
    if (evl_loop_state(loop) != EVL_LOOP_TERMINATED) {
        int rc = (rnd() & 1) ? evl_loop_shutdown(loop) : evl_loop_close(loop);
        ASSERT_TRUE(rc == 0 || rc == EVL_EALREADY);
        if (evl_loop_state(loop) != EVL_LOOP_TERMINATED) {
            ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        }
    }
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs + atomic_load(&discards), accepted);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(random_lifecycle_model)
{
    for (int i = 0; i < 300; i++) {
        seed = 0x9E3779B97F4A7C15u * (uint64_t)(i + 1);
        model_once();
    }
}

/* Shutdown and close from another thread while the loop is asleep (blocked in poll with a
 * ref and a far timer): the loop wakes, terminates, and run returns. */
struct sleeper {
    struct evl_loop *loop;
    int drop;
    int rc;
};

static void *terminate_when_asleep(void *p)
{
    struct sleeper *s = p;
    while (evl_loop_state(s->loop) != EVL_LOOP_SLEEPING) {
        sched_yield();
    }
    s->rc = s->drop ? evl_loop_close(s->loop) : evl_loop_shutdown(s->loop);
    return NULL;
}

static void terminate_sleeping(int drop)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    ASSERT_OK(evl_loop_ref(loop));
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 3600 * 1000, 0, NULL));
    struct sleeper s = {loop, drop, -1};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, terminate_when_asleep, &s), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(s.rc);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs, 0); /* the hour-long timer was cancelled, not run */
    ASSERT_ERR(EVL_ECLOSED, evl_timer_set(loop, noop_timer, NULL, 1, 0, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_ref(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_stop(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(shutdown_from_other_thread_while_sleeping) /* labels: real-time */
{
    terminate_sleeping(0);
}

TEST(close_from_other_thread_while_sleeping) /* labels: real-time */
{
    terminate_sleeping(1);
}

static void stop_then_close(struct evl_loop *loop, void *arg)
{
    (void)arg;
    runs++;
    ASSERT_OK(evl_loop_stop(loop));
    ASSERT_OK(evl_loop_close(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_close(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
}

TEST(close_from_callback_discards_the_rest)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    runs = 0;
    atomic_store(&discards, 0);
    ASSERT_OK(evl_loop_submit(loop, stop_then_close, NULL));
    for (int i = 0; i < 10; i++) {
        ASSERT_OK(evl_loop_submit_ex(loop, count_task, count_discard, NULL));
    }
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(runs, 1);
    ASSERT_UEQ(atomic_load(&discards), 10);
    ASSERT_OK(evl_loop_free(loop));
}
