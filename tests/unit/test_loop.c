/* Loop lifecycle, run modes, ordering pins and liveness. */
#include "evl_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* A log of tokens recorded by callbacks, compared against the expected order. */
struct trace {
    char buf[256];
    size_t len;
};

static struct trace tr;

static void rec(char c)
{
    if (tr.len + 1 < sizeof(tr.buf)) {
        tr.buf[tr.len++] = c;
        tr.buf[tr.len] = '\0';
    }
}

static void task_rec(struct evl_loop *loop, void *arg)
{
    (void)loop;
    rec((char)(uintptr_t)arg);
}

static void task_a_queues_m(struct evl_loop *loop, void *arg)
{
    (void)arg;
    rec('A');
    ASSERT_OK(evl_queue_microtask(loop, task_rec, (void *)(uintptr_t)'M'));
}

TEST(options_init_new_free)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    ASSERT_UEQ(o.size, sizeof(o));
    ASSERT_EQ(o.log_level, EVL_LOG_WARN);
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_NOT_NULL(loop);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_AWAKE);
    ASSERT_TRUE(evl_loop_on_thread(loop));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(new_rejects_bad_options)
{
    struct evl_loop *loop = NULL;
    struct evl_loop_options o;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(NULL, NULL));
    evl_loop_options_init(&o);
    o.size = sizeof(o) + 8;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    o.timer_clamp = (enum evl_timer_clamp)7;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    o.first_id = EVL_TIMER_ID_MAX + 1;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    ASSERT_NULL(loop);
}

TEST(run_empty_returns_at_once)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_ONCE));
    ASSERT_OK(evl_loop_free(loop));
}

/* Ordering pin: task A queues microtask M, then task B => A, M, B. */
TEST(task_microtask_task_order)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    tr.len = 0;
    ASSERT_OK(evl_loop_submit(loop, task_a_queues_m, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'B'));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(tr.buf, "AMB");
    ASSERT_OK(evl_loop_free(loop));
}

static void tick_then_micro(struct evl_loop *loop, void *arg)
{
    (void)arg;
    rec('T');
    /* Queued in reverse: the nextTick still runs before the microtask. */
    ASSERT_OK(evl_queue_microtask(loop, task_rec, (void *)(uintptr_t)'m'));
    ASSERT_OK(evl_next_tick(loop, task_rec, (void *)(uintptr_t)'n'));
}

static void micro_queues_tick(struct evl_loop *loop, void *arg)
{
    (void)arg;
    rec('1');
    ASSERT_OK(evl_next_tick(loop, task_rec, (void *)(uintptr_t)'t'));
    ASSERT_OK(evl_queue_microtask(loop, task_rec, (void *)(uintptr_t)'2'));
}

TEST(next_tick_before_microtasks)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    tr.len = 0;
    ASSERT_OK(evl_loop_submit(loop, tick_then_micro, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(tr.buf, "Tnm");
    /* A nextTick queued by a microtask waits until the microtask queue is empty (Node). */
    tr.len = 0;
    ASSERT_OK(evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'S'));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_queue_microtask(loop, micro_queues_tick, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_STR_EQ(tr.buf, "S12t");
    ASSERT_OK(evl_loop_free(loop));
}

static int hook_calls;

static void hook(struct evl_loop *loop, void *ud)
{
    (void)loop;
    (void)ud;
    hook_calls++;
    rec('h');
}

TEST(checkpoint_hook_runs_after_every_callback)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    tr.len = 0;
    hook_calls = 0;
    evl_loop_set_checkpoint_hook(loop, hook, NULL);
    ASSERT_OK(evl_loop_submit(loop, task_a_queues_m, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'B'));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    /* The hook runs after A and its microtask M, and after B. */
    ASSERT_STR_EQ(tr.buf, "AMhBh");
    evl_loop_set_checkpoint_hook(loop, NULL, NULL);
    ASSERT_OK(evl_loop_free(loop));
}

static void stop_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    rec('s');
    ASSERT_OK(evl_loop_stop(loop));
}

TEST(stop_from_callback_returns_after_it)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    tr.len = 0;
    ASSERT_OK(evl_loop_submit(loop, stop_task, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'x'));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(tr.buf, "s");
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_STR_EQ(tr.buf, "sx");
    ASSERT_OK(evl_loop_free(loop));
}

static int nested_rc;
static int free_rc;

static void nested_run(struct evl_loop *loop, void *arg)
{
    (void)arg;
    nested_rc = evl_loop_run(loop, EVL_RUN_NOWAIT);
    free_rc = evl_loop_free(loop);
}

struct other {
    struct evl_loop *loop;
    int rc;
    int on_thread;
};

static void *run_other(void *p)
{
    struct other *o = p;
    o->rc = evl_loop_run(o->loop, EVL_RUN_NOWAIT);
    return NULL;
}

static void run_from_other_thread(struct evl_loop *loop, void *arg)
{
    (void)loop;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, run_other, arg), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
}

TEST(run_refusals)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_run(loop, (enum evl_run_mode)9));
    ASSERT_OK(evl_loop_submit(loop, nested_run, NULL));
    struct other o = {loop, 0, 0};
    ASSERT_OK(evl_loop_submit(loop, run_from_other_thread, &o));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_ERR(EVL_ERECURSE, nested_rc);
    ASSERT_ERR(EVL_ERECURSE, free_rc);
    ASSERT_ERR(EVL_EBUSY, o.rc);
    ASSERT_OK(evl_loop_free(loop));
}

static void *run_nowait_thread(void *arg)
{
    struct other *o = arg;
    o->rc = evl_loop_run(o->loop, EVL_RUN_NOWAIT);
    o->on_thread = evl_loop_on_thread(o->loop);
    return NULL;
}

static int run_on_new_thread(struct evl_loop *loop, int *on_thread)
{
    struct other o = {loop, 0, 0};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, run_nowait_thread, &o), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    *on_thread = o.on_thread;
    return o.rc;
}

TEST(run_from_a_second_thread_after_a_run_is_refused)
{
    struct evl_loop *loop;
    int on_thread = 0;
    /* Created here, first run elsewhere: that thread becomes the loop thread. */
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(run_on_new_thread(loop, &on_thread));
    ASSERT_TRUE(on_thread);
    ASSERT_FALSE(evl_loop_on_thread(loop));
    /* ... for good: the creating thread may not run it now. (A third thread is not tried
     * here: a thread made after the first was joined may get the same thread pointer.) */
    ASSERT_ERR(EVL_EPERM, evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_free(loop));
    /* Run here first: a later run from another thread does not take the loop over. */
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_ERR(EVL_EPERM, run_on_new_thread(loop, &on_thread));
    ASSERT_FALSE(on_thread);
    ASSERT_TRUE(evl_loop_on_thread(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_NOWAIT));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(ref_unref_keep_alive)
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_ref(loop));
    ASSERT_TRUE(evl_loop_alive(loop));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_ERR(EVL_EBUSY, evl_loop_free(loop));
    ASSERT_OK(evl_loop_unref(loop));
    ASSERT_ERR(EVL_EINVAL, evl_loop_unref(loop));
    ASSERT_FALSE(evl_loop_alive(loop));
    ASSERT_OK(evl_loop_free(loop));
}

static void count_immediate(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (*(int *)arg)++;
}

static void timer_sets_unref_immediate(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    uint64_t imm = 0;
    if (evl_immediate_set(loop, count_immediate, arg, &imm) == 0) {
        (void)evl_timer_unref(loop, imm);
    }
}

/* Node's rule: an unref'd immediate runs only while other work keeps the loop going; one
 * set from the last ref'd callback never runs. */
TEST(unref_immediate_runs_only_with_other_work)
{
    struct evl_loop *loop;
    int ran = 0;
    uint64_t id = 0;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_immediate_set(loop, count_immediate, &ran, &id));
    ASSERT_OK(evl_timer_unref(loop, id));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 0);
    ASSERT_OK(evl_immediate_set(loop, count_immediate, &ran, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 2); /* the ref'd one lets the check phase run both */
    ASSERT_OK(evl_timer_set(loop, timer_sets_unref_immediate, &ran, 1, 0, NULL));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 2);
    ASSERT_OK(evl_loop_close(loop));
    (void)evl_loop_run(loop, EVL_RUN_NOWAIT);
    ASSERT_OK(evl_loop_free(loop));
}

static void *unref_later(void *p)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ASSERT_OK(evl_loop_unref(p));
    return NULL;
}

TEST(unref_from_other_thread_wakes_loop) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, unref_later, loop), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT)); /* returns once the ref is gone */
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_free(loop));
}

static void *stop_later(void *p)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ASSERT_OK(evl_loop_stop(p));
    return NULL;
}

TEST(stop_from_other_thread_wakes_sleeping_loop) /* labels: real-time */
{
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_ref(loop));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, stop_later, loop), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_unref(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(data_pointer)
{
    struct evl_loop *loop;
    int x;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_NULL(evl_loop_get_data(loop));
    evl_loop_set_data(loop, &x);
    ASSERT_PTR_EQ(evl_loop_get_data(loop), &x);
    ASSERT_OK(evl_loop_free(loop));
}

struct logrec {
    int calls;
    int level;
    char msg[128];
};

static void log_hook(void *ud, int level, const char *component, const char *msg)
{
    struct logrec *l = ud;
    (void)component;
    l->calls++;
    l->level = level;
    snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

TEST(log_goes_to_loop_hook)
{
    struct logrec lr = {0, 0, ""};
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.log = log_hook;
    o.log_ud = &lr;
    o.log_level = EVL_LOG_INFO;
    struct evl_loop *loop;
    ASSERT_OK(evl_loop_new(&loop, &o));
    evl_log(loop, EVL_LOG_DEBUG, "test", "hidden %d", 1);
    ASSERT_EQ(lr.calls, 0);
    evl_log(loop, EVL_LOG_INFO, "test", "shown %d", 2);
    ASSERT_EQ(lr.calls, 1);
    ASSERT_EQ(lr.level, EVL_LOG_INFO);
    ASSERT_STR_EQ(lr.msg, "shown 2");
    ASSERT_STR_EQ(evl_log_level_name(EVL_LOG_WARN), "warn");
    ASSERT_OK(evl_loop_free(loop));
}

static void noop_timer(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    rec('t');
}

/* Out of memory at every allocation in turn: each failing call reports EVL_ENOMEM, runs
 * nothing, and leaves the loop usable and leak-free. */
TEST(oom_at_every_allocation)
{
    for (uint64_t n = 1; n < 40; n++) {
        tr.len = 0;
        tr.buf[0] = '\0';
        evl_alloc_fail_at(n, 0);
        struct evl_loop *loop = NULL;
        int rc = evl_loop_new(&loop, NULL);
        if (rc != 0) {
            ASSERT_ERR(EVL_ENOMEM, rc);
            ASSERT_NULL(loop);
            continue;
        }
        size_t expect = 0;
        rc = evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'s');
        ASSERT_TRUE(rc == 0 || rc == EVL_ENOMEM);
        expect += rc == 0;
        rc = evl_queue_microtask(loop, task_rec, (void *)(uintptr_t)'m');
        ASSERT_TRUE(rc == 0 || rc == EVL_ENOMEM);
        expect += rc == 0;
        rc = evl_timer_set(loop, noop_timer, NULL, 0, 0, NULL);
        ASSERT_TRUE(rc == 0 || rc == EVL_ENOMEM);
        expect += rc == 0;
        rc = evl_immediate_set(loop, noop_timer, NULL, NULL);
        ASSERT_TRUE(rc == 0 || rc == EVL_ENOMEM);
        expect += rc == 0;
        ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
        ASSERT_UEQ(tr.len, expect);
        evl_alloc_fail_at(0, 0);
        ASSERT_OK(evl_loop_free(loop));
    }
    evl_alloc_fail_at(0, 0);
}

static _Atomic int custom_allocs;

static void *c_malloc(void *ud, size_t n)
{
    (void)ud;
    atomic_fetch_add(&custom_allocs, 1);
    return evl_malloc(n);
}

static void *c_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    if (!p) {
        atomic_fetch_add(&custom_allocs, 1);
    }
    return evl_realloc(p, n);
}

static void c_free(void *ud, void *p)
{
    (void)ud;
    if (p) {
        atomic_fetch_sub(&custom_allocs, 1);
    }
    evl_free(p);
}

TEST(loop_uses_options_allocator)
{
    struct evl_allocator a = {c_malloc, c_realloc, c_free, NULL};
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.allocator = &a;
    struct evl_loop *loop;
    atomic_store(&custom_allocs, 0);
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_OK(evl_loop_submit(loop, task_rec, (void *)(uintptr_t)'x'));
    ASSERT_OK(evl_timer_set(loop, noop_timer, NULL, 0, 0, NULL));
    ASSERT_GT(atomic_load(&custom_allocs), 2);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(atomic_load(&custom_allocs), 0); /* every block went back through it */
}
