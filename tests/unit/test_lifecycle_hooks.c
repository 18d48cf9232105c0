/* Lifecycle (observer) hooks: iteration start/end, before sleep/after wake, shutdown
 * begin/end. Their order against the loop's phases, no checkpoint after them, and hooks
 * added or removed while a run of their kind is in progress. */
#include "evl_test.h"

#include <time.h>

static char order[256];

static void note(char c)
{
    size_t n = strlen(order);
    if (n + 1 < sizeof(order)) {
        order[n] = c;
        order[n + 1] = '\0';
    }
}

static char kind_char(enum evl_hook_kind kind)
{
    switch (kind) {
    case EVL_HOOK_ITERATION_START:
        return '[';
    case EVL_HOOK_ITERATION_END:
        return ']';
    case EVL_HOOK_BEFORE_SLEEP:
        return 'z';
    case EVL_HOOK_AFTER_WAKE:
        return 'w';
    case EVL_HOOK_SHUTDOWN_BEGIN:
        return '<';
    case EVL_HOOK_SHUTDOWN_END:
        return '>';
    case EVL_HOOK_PREPARE:
        return 'p';
    case EVL_HOOK_CHECK:
        return 'c';
    default:
        return '?';
    }
}

static void observer(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)arg;
    note(kind_char(kind));
}

static void micro_note(struct evl_loop *loop, void *arg)
{
    (void)loop;
    note((char)(uintptr_t)arg);
}

static void task_note(struct evl_loop *loop, void *arg)
{
    (void)loop;
    note((char)(uintptr_t)arg);
}

static void timer_note(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    note((char)(uintptr_t)arg);
}

TEST(iteration_hooks_bracket_the_phases)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOKS_LIFECYCLE | EVL_HOOK_PREPARE | EVL_HOOK_CHECK,
                                observer, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_note, (void *)(uintptr_t)'T'));
    ASSERT_OK(evl_immediate_set(loop, timer_note, (void *)(uintptr_t)'I', NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    /* NOWAIT never sleeps; the iteration's end comes as the run returns. */
    ASSERT_STR_EQ(order, "[pTcI]");
    order[0] = '\0';
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "[pc]");
    ASSERT_OK(evl_loop_free(loop));
}

TEST(sleep_and_wake_hooks_around_a_blocking_wait)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.spin_ns = EVL_SPIN_OFF;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOKS_LIFECYCLE, observer, NULL));
    ASSERT_OK(evl_timer_set(loop, timer_note, (void *)(uintptr_t)'t', 50, 0, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    /* The first iteration waits for the timer (perhaps twice if woken early); the timer runs
     * in the next iteration, which ends the run. */
    size_t n = strlen(order);
    ASSERT_TRUE(n >= 7);
    ASSERT_TRUE(strncmp(order, "[zw", 3) == 0);
    ASSERT_STR_EQ(order + n - 4, "][t]");
    ASSERT_OK(evl_loop_free(loop));
}

static void queue_micro_hook(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)arg;
    note(kind_char(kind));
    ASSERT_OK(evl_queue_microtask(loop, micro_note, (void *)(uintptr_t)'m'));
}

TEST(no_checkpoint_after_an_observer)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_ITERATION_START, queue_micro_hook, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_ITERATION_START, observer, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    /* Both observers ran back to back; the microtask waited for the leftovers phase. */
    ASSERT_STR_EQ(order, "[[m");
    ASSERT_OK(evl_loop_free(loop));
}

static void shutdown_task(struct evl_loop *loop, void *arg)
{
    (void)arg;
    note('S');
    ASSERT_OK(evl_loop_shutdown(loop));
}

TEST(shutdown_hooks_bracket_the_drain)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.max_tasks_per_iteration = 1; /* the second task waits for the drain */
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop,
                                EVL_HOOK_ITERATION_START | EVL_HOOK_ITERATION_END |
                                    EVL_HOOK_SHUTDOWN_BEGIN | EVL_HOOK_SHUTDOWN_END,
                                observer, NULL));
    ASSERT_OK(evl_loop_submit(loop, shutdown_task, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_note, (void *)(uintptr_t)'d'));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    ASSERT_STR_EQ(order, "[S]<d>");
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(close_runs_the_shutdown_hooks_too)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    order[0] = '\0';
    ASSERT_OK(
        evl_loop_add_hook(loop, EVL_HOOK_SHUTDOWN_BEGIN | EVL_HOOK_SHUTDOWN_END, observer, NULL));
    ASSERT_OK(evl_loop_close(loop)); /* on the loop thread, not running: finishes here */
    ASSERT_STR_EQ(order, "<>");
    ASSERT_OK(evl_loop_free(loop));
}

static void add_b(struct evl_loop *loop, enum evl_hook_kind kind, void *arg);
static void hook_b(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    note('B');
}
static void hook_c(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    note('C');
}

/* Adds B (runs from the next iteration) and removes C (added after A: does not run). */
static void add_b(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)kind;
    (void)arg;
    note('A');
    int rc = evl_loop_add_hook(loop, EVL_HOOK_ITERATION_START, hook_b, NULL);
    ASSERT_TRUE(rc == 0 || rc == EVL_EEXIST);
    rc = evl_loop_remove_hook(loop, EVL_HOOK_ITERATION_START, hook_c, NULL);
    ASSERT_TRUE(rc == 0 || rc == EVL_ENOENT);
}

TEST(add_and_remove_during_a_run)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_ITERATION_START, add_b, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_ITERATION_START, hook_c, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "A");
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "AAB");
    /* Removing the last lifecycle hooks: nothing runs any more. */
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_ITERATION_START, add_b, NULL));
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_ITERATION_START, hook_b, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "AAB");
    ASSERT_OK(evl_loop_free(loop));
}

static void clear_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    note('i');
    ASSERT_OK(evl_timer_clear(loop, *(uint64_t *)arg));
}

static int sleeps_seen;
static uint64_t long_timer;

/* The first time the loop is about to sleep, makes an immediate runnable. */
static void wake_hook(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)kind;
    (void)arg;
    if (sleeps_seen++ == 0) {
        ASSERT_OK(evl_immediate_set(loop, clear_cb, &long_timer, NULL));
    }
}

TEST(work_made_before_sleep_cancels_the_sleep)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    order[0] = '\0';
    sleeps_seen = 0;
    ASSERT_OK(evl_timer_set(loop, timer_note, (void *)(uintptr_t)'L', 10000, 0, &long_timer));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_BEFORE_SLEEP, wake_hook, NULL));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_DEFAULT), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ASSERT_STR_EQ(order, "i");
    ASSERT_TRUE(b.tv_sec - a.tv_sec < 5); /* not the 10 s timer */
    ASSERT_OK(evl_loop_free(loop));
}

TEST(lifecycle_kinds_validated)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, 512, observer, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_AFTER_WAKE, observer, NULL));
    ASSERT_ERR(EVL_EEXIST, evl_loop_add_hook(loop, EVL_HOOK_AFTER_WAKE, observer, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_BEFORE_SLEEP, observer, NULL)); /* same entry */
    ASSERT_OK(
        evl_loop_remove_hook(loop, EVL_HOOK_AFTER_WAKE | EVL_HOOK_BEFORE_SLEEP, observer, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_loop_remove_hook(loop, EVL_HOOK_AFTER_WAKE, observer, NULL));
    ASSERT_OK(evl_loop_free(loop));
}

static int sleep_hooks;

static void count_sleep(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    sleep_hooks++;
}

static int slow_work(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

/* A draining loop waiting for in-flight work sleeps, hook or not: an immediate (which a
 * drain never runs) does not count as work the before-sleep hook made runnable. */
TEST(a_draining_loop_still_sleeps_with_a_before_sleep_hook) /* labels: real-time */
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.spin_ns = EVL_SPIN_OFF;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    struct evl_pool *pool = NULL;
    ASSERT_OK(evl_pool_new(&pool, 1));
    sleep_hooks = 0;
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_BEFORE_SLEEP, count_sleep, NULL));
    struct evl_promise *p = NULL;
    ASSERT_OK(evl_pool_submit(pool, loop, slow_work, NULL, &p));
    ASSERT_OK(evl_immediate_set(loop, timer_note, (void *)(uintptr_t)'I', NULL));
    ASSERT_OK(evl_loop_shutdown(loop)); /* not running, loop thread: drains here */
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_TRUE(sleep_hooks >= 1);
    ASSERT_TRUE(sleep_hooks < 50); /* a few sleeps, not a 100 ms busy loop */
    evl_promise_release(p);
    ASSERT_OK(evl_pool_free(pool));
    ASSERT_OK(evl_loop_free(loop));
}
