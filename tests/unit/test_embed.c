/*
 * Embedding in a host loop: the backend fd, the next timeout and the wake-up it arms, driven
 * from a plain ppoll() loop as a GUI toolkit or another event library would; and the phase
 * hooks (idle, prepare, check) embedders use to flush their own queues.
 */
#include "evl_test.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One host wait on the backend fd (and an optional host fd) for the loop's next timeout.
 * Returns the number of ready fds (0: timeout). */
static int host_wait(struct evl_loop *loop, int bfd, int host_fd, short *host_revents)
{
    struct pollfd p[2] = {{bfd, POLLIN, 0}, {host_fd, POLLIN, 0}};
    int64_t ns = evl_loop_next_timeout_ns(loop);
    struct timespec ts;
    struct timespec *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        tsp = &ts;
    }
    int n = ppoll(p, host_fd >= 0 ? 2 : 1, tsp, NULL);
    ASSERT_TRUE(n >= 0);
    if (host_revents) {
        *host_revents = p[1].revents;
    }
    return n;
}

/* A loop on the fake clock (nothing sleeps for a deadline). */
static struct evl_loop *new_fake_clock_loop(struct evl_test_clock *clock)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.clock = evl_test_clock_read;
    o.clock_ud = clock;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    return loop;
}

TEST(backend_fd_checks_its_caller)
{
    ASSERT_ERR(EVL_EINVAL, evl_loop_backend_fd(NULL));
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.backend = EVL_BACKEND_POLL;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_ERR(EVL_ENOSYS, evl_loop_backend_fd(loop));
    ASSERT_OK(evl_loop_free(loop));
    ASSERT_EQ(evl_loop_next_timeout_ns(NULL), 0);
}

static void *backend_fd_off_thread(void *arg)
{
    return (void *)(intptr_t)evl_loop_backend_fd(arg);
}

TEST(backend_fd_is_loop_thread_only_and_stable)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    int fd = evl_loop_backend_fd(loop);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(evl_loop_backend_fd(loop), fd);
    pthread_t th;
    void *rc = NULL;
    ASSERT_EQ(pthread_create(&th, NULL, backend_fd_off_thread, loop), 0);
    ASSERT_EQ(pthread_join(th, &rc), 0);
    ASSERT_EQ((intptr_t)rc, EVL_EPERM);
    /* Nothing scheduled: the host may block forever, and the loop is not alive. */
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), -1);
    ASSERT_EQ(evl_loop_next_timeout_ms(loop), -1);
    ASSERT_OK(evl_loop_free(loop));
}

static void count_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (*(int *)arg)++;
}

TEST(next_timeout_reports_ready_work_and_the_next_timer)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop *loop = new_fake_clock_loop(&clock);
    int fired = 0;
    ASSERT_OK(evl_timer_set(loop, count_cb, &fired, 25, 0, NULL));
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 25000000);
    ASSERT_EQ(evl_loop_next_timeout_ms(loop), 25);
    evl_test_clock_advance_ms(&clock, 10);
    ASSERT_EQ(evl_loop_next_timeout_ms(loop), 15);
    clock.now_ns += 1; /* rounds up: never early */
    ASSERT_EQ(evl_loop_next_timeout_ms(loop), 15);
    /* An immediate is runnable now. */
    int imm = 0;
    ASSERT_OK(evl_immediate_set(loop, count_cb, &imm, NULL));
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(imm, 1);
    ASSERT_EQ(fired, 0);
    evl_test_clock_advance_ms(&clock, 15);
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 0);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_EQ(fired, 1);
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), -1);
    ASSERT_OK(evl_loop_free(loop));
}

/* A host event: one byte written to wfd at at_ns. */
struct host_event {
    int wfd;
    uint64_t at_ns;
};

static void *host_event_thread(void *arg)
{
    struct host_event *ev = arg;
    uint64_t now = mono_ns();
    if (ev->at_ns > now) {
        uint64_t d = ev->at_ns - now;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        nanosleep(&ts, NULL);
    }
    char c = 'x';
    ASSERT_EQ(write(ev->wfd, &c, 1), 1);
    return NULL;
}

static uint64_t timer_ran_ns;

static void note_time(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    (void)arg;
    timer_ran_ns = mono_ns();
}

/* One run of the host loop of the issue; returns how long after the host handled its event
 * the timer ran, in tenths of a millisecond. */
static uint64_t host_loop_once(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    int bfd = evl_loop_backend_fd(loop);
    ASSERT_GE(bfd, 0);
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    uint64_t start = mono_ns();
    struct host_event ev = {pfd[1], start + 70000000u};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, host_event_thread, &ev), 0);
    int wakeups = 0;
    int host_events = 0;
    timer_ran_ns = 0;
    uint64_t handled_ns = 0;
    while (timer_ran_ns == 0) {
        short host = 0;
        int n = host_wait(loop, bfd, pfd[0], &host);
        if (n > 0) {
            wakeups++;
        }
        if (host & POLLIN) {
            char c;
            ASSERT_EQ(read(pfd[0], &c, 1), 1);
            host_events++;
            handled_ns = mono_ns();
            ASSERT_OK(evl_timer_set(loop, note_time, NULL, 10, 0, NULL));
        }
        ASSERT_TRUE(evl_loop_run(loop, EVL_RUN_NOWAIT) >= 0);
        ASSERT_TRUE(mono_ns() - start < 2000000000u);
    }
    ASSERT_EQ(pthread_join(th, NULL), 0);
    ASSERT_UGE((handled_ns - start) / 100000u, 700);
    ASSERT_EQ(host_events, 1);
    ASSERT_EQ(wakeups, 1); /* the host event only: the timer ends a timeout, not a wake-up */
    close(pfd[0]);
    close(pfd[1]);
    ASSERT_OK(evl_loop_free(loop));
    uint64_t after = (timer_ran_ns - handled_ns) / 100000u;
    ASSERT_UGE(after, 100); /* never early */
    return after;
}

/* The host loop of the issue: a host event at 70 ms schedules a 10 ms timer, which must run
 * at 80 ms (+- 1 ms) without any periodic tick, and the idle host wakes for nothing else.
 * Measured from when the host handled its event (the event thread's own sleep may be late),
 * best of up to five runs, since a busy machine can delay any one wake-up. */
TEST(host_poll_loop_runs_a_timer_on_time_and_never_wakes_idle) /* labels: real-time */
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5 && best > 110; i++) {
        uint64_t after = host_loop_once();
        best = after < best ? after : best;
    }
    ASSERT_ULE(best, 110);
}

static _Atomic int submitted_ran;

static void submitted(struct evl_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    atomic_fetch_add(&submitted_ran, 1);
}

static void *submit_later(void *arg)
{
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    ASSERT_OK(evl_loop_submit(arg, submitted, NULL));
    return NULL;
}

TEST(backend_fd_wakes_the_host_for_work_from_another_thread) /* labels: real-time */
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    ASSERT_OK(evl_loop_ref(loop)); /* a server loop: alive without timers */
    int bfd = evl_loop_backend_fd(loop);
    atomic_store(&submitted_ran, 0);
    uint64_t start = mono_ns(); /* before the thread: its 20 ms sleep starts after this */
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, submit_later, loop), 0);
    /* No timer: the host blocks with no timeout until the producer's wake-up. */
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), -1);
    ASSERT_EQ(host_wait(loop, bfd, -1, NULL), 1);
    ASSERT_UGE(mono_ns() - start, 20000000u);
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(atomic_load(&submitted_ran), 1);
    ASSERT_EQ(pthread_join(th, NULL), 0);
    /* The wake-up was drained: the fd is quiet again. */
    struct pollfd p = {bfd, POLLIN, 0};
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), -1);
    ASSERT_EQ(poll(&p, 1, 0), 0);
    ASSERT_OK(evl_loop_unref(loop));
    ASSERT_OK(evl_loop_free(loop));
}

static int fd_events;

static void on_readable(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)status;
    (void)events;
    (void)arg;
    char c;
    ASSERT_EQ(read(fd, &c, 1), 1);
    fd_events++;
}

TEST(backend_fd_reports_registered_fds)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    int bfd = evl_loop_backend_fd(loop);
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    ASSERT_OK(evl_fd_start(loop, pfd[0], EVL_READABLE, on_readable, NULL));
    struct pollfd p = {bfd, POLLIN, 0};
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), -1);
    ASSERT_EQ(poll(&p, 1, 0), 0);
    ASSERT_EQ(write(pfd[1], "x", 1), 1);
    ASSERT_EQ(poll(&p, 1, 1000), 1);
    fd_events = 0;
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1);
    ASSERT_EQ(fd_events, 1);
    ASSERT_OK(evl_fd_stop(loop, pfd[0]));
    /* With no registration left, the loop still waits on the backend (the host polls it). */
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    close(pfd[0]);
    close(pfd[1]);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- phase hooks -------------------------------------------------------------------------- */

static char order[64];
static size_t norder;

static void note(char c)
{
    if (norder + 1 < sizeof(order)) {
        order[norder++] = c;
        order[norder] = '\0';
    }
}

static void hook_note(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)arg;
    note(kind == EVL_HOOK_PREPARE ? 'P' : kind == EVL_HOOK_CHECK ? 'C' : 'I');
}

static void micro_note(struct evl_loop *loop, void *arg)
{
    (void)loop;
    note((char)(uintptr_t)arg);
}

static void hook_queues_micro(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)arg;
    note(kind == EVL_HOOK_PREPARE ? 'p' : 'c');
    ASSERT_OK(evl_queue_microtask(loop, micro_note, (void *)(uintptr_t)'m'));
}

static void imm_note(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    note((char)(uintptr_t)arg);
}

static void task_note(struct evl_loop *loop, void *arg)
{
    (void)loop;
    note((char)(uintptr_t)arg);
}

TEST(hooks_run_around_the_poll_phase_with_a_checkpoint_each)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    norder = 0;
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_PREPARE | EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_PREPARE | EVL_HOOK_CHECK, hook_queues_micro, NULL));
    ASSERT_OK(evl_loop_submit(loop, task_note, (void *)(uintptr_t)'T'));
    ASSERT_OK(evl_immediate_set(loop, imm_note, (void *)(uintptr_t)'S', NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    /* prepare hooks, poll, submitted task, check hooks, then immediates; each hook's
     * microtask runs right after it. */
    ASSERT_STR_EQ(order, "PpmTCcmS");
    ASSERT_ERR(EVL_EEXIST, evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, 0, hook_note, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, 512, hook_note, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, EVL_HOOK_CHECK, NULL, NULL));
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_PREPARE | EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_note, NULL));
    norder = 0;
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "pmcm");
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_PREPARE, hook_queues_micro, NULL));
    norder = 0;
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "cm");
    ASSERT_OK(evl_loop_free(loop));
}

static int idle_runs;

static void idle_count(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
    idle_runs++;
}

static void stop_after(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)id;
    (void)arg;
    ASSERT_OK(evl_loop_stop(loop));
}

TEST(idle_hooks_keep_the_poll_phase_from_blocking)
{
    struct evl_test_clock clock = {1000000000};
    struct evl_loop *loop = new_fake_clock_loop(&clock);
    idle_runs = 0;
    ASSERT_OK(evl_timer_set(loop, stop_after, NULL, 1000000, 0, NULL)); /* far away */
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_IDLE, idle_count, NULL));
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 0);
    /* Three blocking-mode iterations that do not block (the fake clock never reaches the
     * timer, so a real wait would last 1000 s); once the hook is gone the next timeout is
     * the timer's again. */
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    }
    ASSERT_EQ(idle_runs, 3);
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_IDLE, idle_count, NULL));
    ASSERT_EQ(evl_loop_next_timeout_ms(loop), 1000000);
    evl_test_clock_advance_ms(&clock, 1000000);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

static void hook_removes_next(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)kind;
    (void)arg;
    note('1');
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_note, (void *)1));
}

TEST(hooks_removed_or_added_during_a_run)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    norder = 0;
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_removes_next, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    /* The removed hook did not run; the added one waits for the next iteration. */
    ASSERT_STR_EQ(order, "1");
    norder = 0;
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_removes_next, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "C");
    ASSERT_OK(evl_loop_free(loop));
}

static void hook_adds_check_to_other(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)kind;
    (void)arg;
    note('A');
    /* hook_note is installed for PREPARE only; CHECK added now starts next iteration. */
    if (evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_note, NULL) == 0) {
        note('+');
    }
}

TEST(a_kind_added_to_a_hook_during_its_run_waits_for_the_next_iteration)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    norder = 0;
    order[0] = '\0';
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_adds_check_to_other, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_PREPARE, hook_note, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "PA+");
    norder = 0;
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_adds_check_to_other, NULL));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 0);
    ASSERT_STR_EQ(order, "PC");
    ASSERT_ERR(EVL_EEXIST, evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_note, NULL));
    ASSERT_OK(evl_loop_free(loop));
}
