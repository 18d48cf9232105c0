/*
 * Bad input in C: every public function of the public headers (include/evl) called with what a
 * careless or hostile caller passes (NULL pointers, a terminated loop, the wrong thread,
 * out-of-range and NaN numbers, fds that are -1, INT_MAX or closed, ids near 2^53, a second release
 * where it can be detected). Each call must return the error its header documents (or, for
 * a function without an error return, do nothing harmful), and nothing accepted before the
 * bad call may be lost: each case ends by running what was accepted.
 *
 * scripts/check-badinput.sh (ctest unit.badinput_covers_every_public_function) fails when a
 * function declared EVL_API is never called in this file, so a new public function needs a
 * case here.
 */
#include "evl_test.h"
#include "test_fd_common.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static struct evl_loop *new_loop(void)
{
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, NULL));
    return loop;
}

static void task_cb(struct evl_loop *loop, void *arg)
{
    (void)loop;
    ++*(int *)arg;
}

static void timer_cb(struct evl_loop *loop, uint64_t id, void *arg)
{
    (void)loop;
    (void)id;
    ++*(int *)arg;
}

static void fd_cb(struct evl_loop *loop, int fd, int status, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)status;
    (void)events;
    ++*(int *)arg;
}

static void hook_cb(struct evl_loop *loop, enum evl_hook_kind kind, void *arg)
{
    (void)loop;
    (void)kind;
    (void)arg;
}

static void signal_cb(struct evl_loop *loop, uint64_t id, int signum, uint32_t count, void *arg)
{
    (void)loop;
    (void)id;
    (void)signum;
    (void)count;
    (void)arg;
}

static void child_cb(struct evl_loop *loop, uint64_t id, pid_t pid, int status, int term_signal,
                     void *arg)
{
    (void)loop;
    (void)id;
    (void)pid;
    (void)status;
    (void)term_signal;
    (void)arg;
}

static void reaction_cb(struct evl_loop *loop, void *value, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)value;
    (void)arg;
    (void)result;
}

static void fn_cb(struct evl_loop *loop, void *arg, struct evl_result *result)
{
    (void)loop;
    (void)arg;
    (void)result;
}

static int work_cb(void *arg, void **value_out, evl_dtor_cb *dtor_out)
{
    (void)arg;
    (void)value_out;
    (void)dtor_out;
    return 0;
}

static void log_sink(void *ud, const struct evl_log_record *record)
{
    (void)ud;
    (void)record;
}

/* ---- errno.h, common.h, alloc.h ------------------------------------------------------------ */

TEST(badinput_errno_and_version)
{
    ASSERT_NOT_NULL(evl_version());
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(0));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(-5));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(EVL_ESYS_ERRNO_MAX + 1));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(INT_MAX));
    ASSERT_ERR(EVL_EIO, evl_err_from_errno(INT_MIN));
    ASSERT_EQ(evl_err_is_sys(INT_MIN), 0);
    ASSERT_EQ(evl_err_is_sys(INT_MAX), 0);
    ASSERT_EQ(evl_err_is_sys(EVL_EINVAL), 0);
    ASSERT_EQ(evl_err_errno(INT_MIN), 0);
    ASSERT_EQ(evl_err_errno(EVL_EINVAL), 0);
    ASSERT_STR_EQ(evl_strerror(INT_MIN), "unknown error");
    ASSERT_STR_EQ(evl_strerror(INT_MAX), "unknown error");
    ASSERT_STR_EQ(evl_err_name(INT_MIN), "EVL_UNKNOWN");
    ASSERT_STR_EQ(evl_err_name(1), "EVL_UNKNOWN");
}

TEST(badinput_alloc)
{
    evl_get_allocator(NULL);
    evl_alloc_stats(NULL);
    ASSERT_NULL(evl_malloc(SIZE_MAX));
    ASSERT_NULL(evl_calloc(SIZE_MAX, 2));
    ASSERT_NULL(evl_calloc(2, SIZE_MAX / 2 + 1));
    ASSERT_NULL(evl_realloc(NULL, SIZE_MAX));
    evl_free(NULL);
    /* A failed realloc keeps the block. */
    char *p = evl_malloc(8);
    ASSERT_NOT_NULL(p);
    ASSERT_NULL(evl_realloc(p, SIZE_MAX));
    /* Switching allocators with live blocks under tracking: refused. */
    ASSERT_TRUE(evl_alloc_tracking_enabled());
    ASSERT_ERR(EVL_EBUSY, evl_set_allocator(NULL));
    evl_free(p);
    /* Disarmed injection and no cap are harmless. */
    evl_alloc_fail_at(0, 1);
    evl_alloc_set_limit(0);
    ASSERT_NOT_NULL(p = evl_malloc(1));
    evl_free(p);
    /* Enabling twice and disabling twice are harmless; done in a child, since the harness
     * counts this process's blocks. */
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        evl_alloc_tracking_enable();
        evl_alloc_tracking_disable();
        evl_alloc_tracking_disable();
        _exit(evl_alloc_tracking_enabled() == 0 ? 0 : 1);
    }
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- loop.h ----------------------------------------------------------------------------- */

TEST(badinput_loop_new_options)
{
    evl_loop_options_init(NULL);
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(NULL, NULL));
    struct evl_loop *loop = (struct evl_loop *)&loop;
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.size = 0;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    ASSERT_NULL(loop);
    o.size = SIZE_MAX;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    o.timer_clamp = (enum evl_timer_clamp)99;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    o.backend = (enum evl_backend_kind) - 1;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    o.first_id = EVL_TIMER_ID_MAX + 1;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    evl_loop_options_init(&o);
    struct evl_allocator half = {NULL, NULL, NULL, NULL};
    o.allocator = &half;
    ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
    /* Rates: NaN, negative and infinite are not rates. */
    const double bad_rates[] = {NAN, -1.0, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        evl_loop_options_init(&o);
        o.submit_rate = bad_rates[i];
        ASSERT_ERR(EVL_EINVAL, evl_loop_new(&loop, &o));
        ASSERT_NULL(loop);
    }
    evl_loop_options_init(&o);
    o.log_level = INT_MAX; /* every level filtered: legal */
    ASSERT_OK(evl_loop_new(&loop, &o));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(badinput_loop_null)
{
    ASSERT_ERR(EVL_EINVAL, evl_loop_free(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_run(NULL, EVL_RUN_DEFAULT));
    ASSERT_ERR(EVL_EINVAL, evl_loop_stop(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_shutdown(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_shutdown_ex(NULL, UINT64_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_loop_close(NULL));
    ASSERT_UEQ(evl_loop_discarded(NULL), 0);
    ASSERT_EQ(evl_loop_alive(NULL), 0);
    ASSERT_EQ(evl_loop_state(NULL), EVL_LOOP_TERMINATED);
    ASSERT_UEQ(evl_loop_now_ns(NULL), 0);
    ASSERT_EQ(evl_loop_on_thread(NULL), 0);
    ASSERT_ERR(EVL_EINVAL, evl_loop_ref(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_unref(NULL));
    evl_loop_set_checkpoint_hook(NULL, NULL, NULL);
    ASSERT_ERR(EVL_EINVAL, evl_loop_backend_fd(NULL));
    ASSERT_EQ(evl_loop_next_timeout_ns(NULL), 0);
    ASSERT_EQ(evl_loop_next_timeout_ms(NULL), 0);
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(NULL, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_remove_hook(NULL, EVL_HOOK_CHECK, hook_cb, NULL));
    evl_loop_set_data(NULL, &errno);
    ASSERT_NULL(evl_loop_get_data(NULL));
}

TEST(badinput_loop_values)
{
    struct evl_loop *loop = new_loop();
    int ran = 0;
    ASSERT_OK(evl_loop_submit(loop, task_cb, &ran)); /* accepted before the bad calls */
    ASSERT_ERR(EVL_EINVAL, evl_loop_run(loop, (enum evl_run_mode)3));
    ASSERT_ERR(EVL_EINVAL, evl_loop_run(loop, (enum evl_run_mode) - 1));
    ASSERT_ERR(EVL_EINVAL, evl_loop_unref(loop)); /* below zero */
    ASSERT_OK(evl_loop_ref(loop));
    ASSERT_OK(evl_loop_unref(loop));
    ASSERT_ERR(EVL_EINVAL, evl_loop_unref(loop)); /* a second unref of one ref */
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, 0, hook_cb, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, 0x200, hook_cb, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_add_hook(loop, EVL_HOOK_CHECK, NULL, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_OK(evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_EEXIST, evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_OK(evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    evl_loop_set_checkpoint_hook(loop, NULL, NULL); /* removing none: harmless */
    evl_loop_set_data(loop, NULL);
    ASSERT_NULL(evl_loop_get_data(loop));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 1);
    /* Shutdown deadlines at the extremes: a huge one saturates instead of wrapping. */
    ASSERT_OK(evl_loop_submit(loop, task_cb, &ran));
    ASSERT_OK(evl_loop_shutdown_ex(loop, UINT64_MAX));
    ASSERT_EQ(ran, 2);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_OK(evl_loop_free(loop));
}

/* A terminated loop (not yet freed): every call that may be made on it says so. */
TEST(badinput_terminated_loop)
{
    struct evl_loop *loop = new_loop();
    int ran = 0;
    ASSERT_OK(evl_loop_submit(loop, task_cb, &ran));
    ASSERT_OK(evl_loop_shutdown(loop)); /* drains here: the loop is not running */
    ASSERT_EQ(ran, 1);
    ASSERT_EQ(evl_loop_state(loop), EVL_LOOP_TERMINATED);
    ASSERT_ERR(EVL_ECLOSED, evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_stop(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown(loop));
    ASSERT_ERR(EVL_EALREADY, evl_loop_shutdown_ex(loop, 1));
    ASSERT_ERR(EVL_EALREADY, evl_loop_close(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_ref(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit(loop, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit_ex(loop, task_cb, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_submit_wait(loop, task_cb, NULL, &ran, 0));
    ASSERT_ERR(EVL_ECLOSED, evl_queue_microtask(loop, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_next_tick(loop, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_queue_microtask_ex(loop, task_cb, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_next_tick_ex(loop, task_cb, task_cb, &ran));
    ASSERT_ERR(EVL_ECLOSED, evl_timer_set(loop, timer_cb, &ran, 1, 0, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_immediate_set(loop, timer_cb, &ran, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_backend_fd(loop));
    ASSERT_ERR(EVL_ECLOSED, evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_ECLOSED, evl_metrics_enable(loop, NULL));
    int p[2];
    test_pipe(p);
    ASSERT_ERR(EVL_ECLOSED, evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &ran));
    uint64_t id = 0;
    ASSERT_ERR(EVL_ECLOSED, evl_signal_start(loop, SIGUSR1, signal_cb, NULL, &id));
    struct evl_promise *pr = NULL;
    ASSERT_ERR(EVL_ECLOSED, evl_promise_new(loop, &pr));
    ASSERT_NULL(pr);
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 0);
    ASSERT_EQ(evl_loop_alive(loop), 0);
    ASSERT_EQ(ran, 1);
    ASSERT_OK(evl_loop_free(loop));
    close(p[0]);
    close(p[1]);
}

static void *cap_none(void *ud)
{
    (void)ud;
    return NULL;
}
static void *enter_none(void *ud, void *value)
{
    (void)ud;
    (void)value;
    return NULL;
}
static void leave_none(void *ud, void *previous)
{
    (void)ud;
    (void)previous;
}

/* ---- the wrong thread ------------------------------------------------------------------- */

struct other {
    struct evl_loop *loop;
    struct evl_promise *p;
    int fd;
    int ran;
};

static void *wrong_thread(void *arg)
{
    struct other *o = arg;
    struct evl_loop *loop = o->loop;
    uint64_t id = 0;
    int slot = 0;
    unsigned char uuid[16] = {0};
    struct evl_promise *p = NULL;
    struct evl_promise_resolvers *rs = NULL;
    struct evl_resolver *r = NULL;
    struct evl_context_frame *frame = NULL;
    struct evl_metrics_serve_stats ss;
    pid_t pid = 0;
    struct evl_spawn_options so;
    evl_spawn_options_init(&so);
    const char *argv[] = {"true", NULL};
    so.file = "true";
    so.argv = argv;
    static const struct evl_context_hooks ch = {sizeof(ch), cap_none, enter_none, leave_none, NULL};
    ASSERT_EQ(evl_loop_on_thread(loop), 0);
    ASSERT_ERR(EVL_EPERM, evl_fd_start(loop, o->fd, EVL_READABLE, fd_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_fd_start_timeout(loop, o->fd, EVL_READABLE, 1, fd_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_fd_modify(loop, o->fd, EVL_WRITABLE));
    ASSERT_ERR(EVL_EPERM, evl_fd_stop(loop, o->fd));
    ASSERT_ERR(EVL_EPERM, evl_fd_ref(loop, o->fd));
    ASSERT_ERR(EVL_EPERM, evl_fd_unref(loop, o->fd));
    ASSERT_ERR(EVL_EPERM, evl_fd_active(loop, o->fd));
    ASSERT_ERR(EVL_EPERM, evl_timer_refresh(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_timer_ref(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_timer_unref(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_timer_has_ref(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_queue_microtask(loop, task_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_next_tick(loop, task_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_queue_microtask_ex(loop, task_cb, task_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_next_tick_ex(loop, task_cb, task_cb, &o->ran));
    ASSERT_ERR(EVL_EPERM, evl_loop_checkpoint(loop));
    ASSERT_ERR(EVL_EPERM, evl_loop_add_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_EPERM, evl_loop_remove_hook(loop, EVL_HOOK_CHECK, hook_cb, NULL));
    ASSERT_ERR(EVL_EPERM, evl_loop_backend_fd(loop));
    ASSERT_EQ(evl_loop_next_timeout_ns(loop), 0);
    ASSERT_ERR(EVL_EPERM, evl_loop_set_checkpoint_cap(loop, 5));
    ASSERT_ERR(EVL_EPERM, evl_signal_start(loop, SIGUSR1, signal_cb, NULL, &id));
    ASSERT_ERR(EVL_EPERM, evl_signal_stop(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_signal_ref(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_signal_unref(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_child_watch(loop, getpid(), child_cb, NULL, &id));
    ASSERT_ERR(EVL_EPERM, evl_child_unwatch(loop, 1));
    ASSERT_ERR(EVL_EPERM, evl_spawn(loop, &so, &pid, NULL));
    ASSERT_ERR(EVL_EPERM, evl_context_add_slot(loop, &ch, NULL, &slot));
    ASSERT_ERR(EVL_EPERM, evl_context_remove_slot(loop, 0));
    ASSERT_ERR(EVL_EPERM, evl_context_capture(loop, &frame));
    ASSERT_ERR(EVL_EPERM, evl_correlation_set(loop, uuid));
    ASSERT_EQ(evl_correlation_get(loop, uuid), 0);
    ASSERT_ERR(EVL_EPERM, evl_logger_add_fd(loop, 2, EVL_LOG_FORMAT_JSON, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EPERM, evl_logger_add_callback(loop, log_sink, NULL, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EPERM, evl_logger_add_redaction(loop, "x", NULL));
    ASSERT_ERR(EVL_EPERM, evl_metrics_reset(loop));
    ASSERT_ERR(EVL_EPERM, evl_metrics_serve(loop, "127.0.0.1:0"));
    ASSERT_ERR(EVL_EPERM, evl_metrics_serve_stop(loop));
    ASSERT_ERR(EVL_EPERM, evl_metrics_serve_stats(loop, &ss));
    ASSERT_ERR(EVL_EPERM, evl_promise_new(loop, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_resolved(loop, NULL, NULL, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_rejected(loop, NULL, NULL, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_with_resolvers(loop, &p, &rs));
    ASSERT_ERR(EVL_EPERM, evl_promise_try(loop, fn_cb, NULL, NULL, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_all(loop, NULL, 0, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_all_settled(loop, NULL, 0, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_any(loop, NULL, 0, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_race(loop, NULL, 0, &p));
    ASSERT_ERR(EVL_EPERM, evl_promise_resolve(o->p, NULL, NULL));
    ASSERT_ERR(EVL_EPERM, evl_promise_reject(o->p, NULL, NULL));
    ASSERT_ERR(EVL_EPERM, evl_promise_then(o->p, reaction_cb, NULL, NULL, NULL, &p));
    ASSERT_ERR(EVL_EPERM, evl_resolver_new(o->p, &r));
    ASSERT_ERR(EVL_EPERM, evl_loop_run(loop, EVL_RUN_NOWAIT)); /* ran on the main thread */
    ASSERT_NULL(p);
    ASSERT_NULL(rs);
    ASSERT_NULL(r);
    /* What other threads may do still works: a submit is accepted and will run. */
    ASSERT_OK(evl_loop_submit(loop, task_cb, &o->ran));
    return NULL;
}

TEST(badinput_wrong_thread)
{
    struct evl_loop *loop = new_loop();
    struct other o = {.loop = loop};
    ASSERT_OK(evl_promise_new(loop, &o.p));
    int p[2];
    test_pipe(p);
    o.fd = p[0];
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &o.ran));
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_NOWAIT), 1); /* this thread is the loop thread */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, wrong_thread, &o), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    /* Nothing changed: the registration is intact and the promise still pending. */
    ASSERT_EQ(evl_fd_active(loop, p[0]), 1);
    ASSERT_EQ(evl_promise_state(o.p), EVL_PROMISE_PENDING);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    evl_promise_release(o.p);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(o.ran, 1);
    ASSERT_OK(evl_loop_free(loop));
    close(p[0]);
    close(p[1]);
}

/* ---- task.h, timer.h ---------------------------------------------------------------------- */

TEST(badinput_tasks)
{
    struct evl_loop *loop = new_loop();
    int ran = 0;
    ASSERT_OK(evl_loop_submit(loop, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit(loop, NULL, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_ex(NULL, task_cb, NULL, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_ex(loop, NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_wait(NULL, task_cb, NULL, &ran, 0));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_wait(loop, NULL, NULL, &ran, UINT64_MAX));
    struct evl_submit_options so;
    evl_submit_options_init(NULL);
    evl_submit_options_init(&so);
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_opts(NULL, task_cb, &ran, &so));
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_opts(loop, NULL, &ran, &so));
    so.size = 1;
    ASSERT_ERR(EVL_EINVAL, evl_loop_submit_opts(loop, task_cb, &ran, &so));
    ASSERT_ERR(EVL_EINVAL, evl_queue_microtask(NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_queue_microtask(loop, NULL, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_next_tick(NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_next_tick(loop, NULL, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_queue_microtask_ex(NULL, task_cb, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_queue_microtask_ex(loop, NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_next_tick_ex(NULL, task_cb, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_next_tick_ex(loop, NULL, task_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_loop_checkpoint(NULL));
    ASSERT_OK(evl_loop_submit_wait(loop, task_cb, NULL, &ran, UINT64_MAX)); /* no bound */
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 2);
    ASSERT_OK(evl_loop_free(loop));
}

TEST(badinput_timers)
{
    struct evl_loop *loop = new_loop();
    int fired = 0;
    uint64_t good = 0, id = 0;
    ASSERT_OK(evl_timer_set(loop, timer_cb, &fired, 1, 0, &good));
    ASSERT_ERR(EVL_EINVAL, evl_timer_set(NULL, timer_cb, &fired, 1, 0, &id));
    ASSERT_ERR(EVL_EINVAL, evl_timer_set(loop, NULL, &fired, 1, 0, &id));
    /* Negative delays (as unsigned), huge ones, and NaN cast by a careless caller. */
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, (uint64_t)-1, 0, &id));
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, EVL_TIMER_DELAY_MAX + 1, 0, &id));
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, 1, (uint64_t)-5, &id));
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, 1, EVL_TIMER_DELAY_MAX + 1, &id));
    ASSERT_OK(evl_timer_set(loop, timer_cb, &fired, EVL_TIMER_DELAY_MAX, 0, &id)); /* the max */
    ASSERT_OK(evl_timer_unref(loop, id));
    ASSERT_ERR(EVL_EINVAL, evl_timer_clear(NULL, good));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, 0));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, UINT64_MAX));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, EVL_TIMER_ID_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_timer_refresh(NULL, good));
    ASSERT_ERR(EVL_ENOENT, evl_timer_refresh(loop, UINT64_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_timer_ref(NULL, good));
    ASSERT_ERR(EVL_ENOENT, evl_timer_ref(loop, 0));
    ASSERT_ERR(EVL_EINVAL, evl_timer_unref(NULL, good));
    ASSERT_ERR(EVL_ENOENT, evl_timer_unref(loop, UINT64_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_timer_has_ref(NULL, good));
    ASSERT_ERR(EVL_ENOENT, evl_timer_has_ref(loop, UINT64_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_immediate_set(NULL, timer_cb, &fired, &id));
    ASSERT_ERR(EVL_EINVAL, evl_immediate_set(loop, NULL, &fired, &id));
    ASSERT_ERR(EVL_EINVAL, evl_immediate_clear(NULL, 1));
    ASSERT_ERR(EVL_ENOENT, evl_immediate_clear(loop, UINT64_MAX));
    /* Double clear. */
    uint64_t imm = 0;
    ASSERT_OK(evl_immediate_set(loop, timer_cb, &fired, &imm));
    ASSERT_OK(evl_immediate_clear(loop, imm));
    ASSERT_ERR(EVL_ENOENT, evl_immediate_clear(loop, imm));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, imm));
    ASSERT_OK(evl_timer_clear(loop, id));
    ASSERT_ERR(EVL_ENOENT, evl_timer_clear(loop, id));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(fired, 1); /* the accepted timer */
    ASSERT_OK(evl_loop_free(loop));
}

/* Ids near 2^53 (options.first_id): the last ids are handed out, then EVL_ERANGE; what was
 * accepted still fires, and the refusals touch nothing. */
static void *set_from_thread(void *arg)
{
    struct evl_loop *loop = arg;
    static int dummy;
    uint64_t id = 0;
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &dummy, 0, 0, &id));
    ASSERT_ERR(EVL_ERANGE, evl_immediate_set(loop, timer_cb, &dummy, &id));
    return NULL;
}

TEST(badinput_id_exhaustion)
{
    struct evl_loop_options o;
    evl_loop_options_init(&o);
    o.first_id = EVL_TIMER_ID_MAX - 1;
    struct evl_loop *loop = NULL;
    ASSERT_OK(evl_loop_new(&loop, &o));
    int fired = 0;
    uint64_t a = 0, b = 0, c = 0;
    ASSERT_OK(evl_timer_set(loop, timer_cb, &fired, 1, 0, &a));
    ASSERT_OK(evl_immediate_set(loop, timer_cb, &fired, &b));
    ASSERT_UEQ(a, EVL_TIMER_ID_MAX - 1);
    ASSERT_UEQ(b, EVL_TIMER_ID_MAX);
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, 1, 0, &c));
    ASSERT_ERR(EVL_ERANGE, evl_immediate_set(loop, timer_cb, &fired, &c));
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, 1, 1, NULL));
    ASSERT_UEQ(c, 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, set_from_thread, loop), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(fired, 2);
    ASSERT_ERR(EVL_ERANGE, evl_timer_set(loop, timer_cb, &fired, 1, 0, &c)); /* for good */
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- io.h --------------------------------------------------------------------------------- */

TEST(badinput_fds)
{
    struct evl_loop *loop = new_loop();
    int ran = 0;
    int p[2];
    test_pipe(p);
    test_write1(p[1]);
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(NULL, p[0], EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], EVL_READABLE, NULL, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], 0, fd_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], EVL_HANGUP, fd_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start(loop, p[0], 0x100, fd_cb, &ran));
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, -1, EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, INT_MIN, EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, INT_MAX, EVL_READABLE, fd_cb, &ran));
    int closed = dup(p[0]);
    close(closed);
    ASSERT_ERR(EVL_EBADF, evl_fd_start(loop, closed, EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_ERANGE,
               evl_fd_start_timeout(loop, p[0], EVL_READABLE, (uint64_t)-1, fd_cb, &ran));
    ASSERT_ERR(EVL_EBADF, evl_fd_start_timeout(loop, -1, EVL_READABLE, 1, fd_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_start_timeout(NULL, p[0], EVL_READABLE, 1, fd_cb, &ran));
    ASSERT_EQ(evl_loop_alive(loop), 0); /* nothing half-registered */
    ASSERT_OK(evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_EEXIST, evl_fd_start(loop, p[0], EVL_READABLE, fd_cb, &ran));
    ASSERT_ERR(EVL_EINVAL, evl_fd_modify(NULL, p[0], EVL_READABLE));
    ASSERT_ERR(EVL_EINVAL, evl_fd_modify(loop, p[0], 0));
    ASSERT_ERR(EVL_EINVAL, evl_fd_modify(loop, p[0], EVL_ERROR));
    ASSERT_ERR(EVL_ENOENT, evl_fd_modify(loop, -1, EVL_READABLE));
    ASSERT_ERR(EVL_ENOENT, evl_fd_modify(loop, INT_MAX, EVL_READABLE));
    ASSERT_ERR(EVL_EINVAL, evl_fd_stop(NULL, p[0]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, -1));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, INT_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_fd_ref(NULL, p[0]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_ref(loop, INT_MIN));
    ASSERT_ERR(EVL_EINVAL, evl_fd_unref(NULL, p[0]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_unref(loop, INT_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_fd_active(NULL, p[0]));
    ASSERT_EQ(evl_fd_active(loop, -1), 0);
    ASSERT_EQ(evl_fd_active(loop, INT_MAX), 0);
    ASSERT_EQ(evl_loop_backend(NULL), EVL_BACKEND_DEFAULT);
    ASSERT_STR_EQ(evl_backend_name((enum evl_backend_kind)99), "unknown");
    ASSERT_STR_EQ(evl_backend_name((enum evl_backend_kind) - 1), "unknown");
    enum evl_backend_kind kind = EVL_BACKEND_POLL;
    ASSERT_ERR(EVL_EINVAL, evl_backend_parse("epoll", NULL));
    ASSERT_ERR(EVL_EINVAL, evl_backend_parse("kqueue-ish", &kind));
    ASSERT_EQ(kind, EVL_BACKEND_POLL); /* left unchanged */
    /* The accepted registration still works; stop twice: the second is EVL_ENOENT. */
    ASSERT_EQ(evl_loop_run(loop, EVL_RUN_ONCE), 1);
    ASSERT_EQ(ran, 1);
    ASSERT_OK(evl_fd_stop(loop, p[0]));
    ASSERT_ERR(EVL_ENOENT, evl_fd_stop(loop, p[0]));
    ASSERT_OK(evl_loop_free(loop));
    close(p[0]);
    close(p[1]);
}

/* ---- signal.h, process.h --------------------------------------------------------------- */

TEST(badinput_signals_and_children)
{
    struct evl_loop *loop = new_loop();
    uint64_t id = 0;
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(NULL, SIGUSR1, signal_cb, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, SIGUSR1, NULL, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, SIGUSR1, signal_cb, NULL, NULL));
    const int bad[] = {0, -1, 65, INT_MAX, INT_MIN, SIGKILL, SIGSTOP};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_ERR(EVL_EINVAL, evl_signal_start(loop, bad[i], signal_cb, NULL, &id));
    }
    ASSERT_ERR(EVL_EINVAL, evl_signal_stop(NULL, 1));
    ASSERT_ERR(EVL_ENOENT, evl_signal_stop(loop, 1));
    ASSERT_ERR(EVL_EINVAL, evl_signal_ref(NULL, 1));
    ASSERT_ERR(EVL_ENOENT, evl_signal_ref(loop, UINT64_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_signal_unref(NULL, 1));
    ASSERT_ERR(EVL_ENOENT, evl_signal_unref(loop, 0));
    ASSERT_OK(evl_signal_start(loop, SIGUSR1, signal_cb, NULL, &id));
    ASSERT_OK(evl_signal_stop(loop, id));
    ASSERT_ERR(EVL_ENOENT, evl_signal_stop(loop, id)); /* double stop */
    ASSERT_ERR(EVL_ENOENT, evl_signal_ref(loop, id));

    ASSERT_ERR(EVL_EINVAL, evl_child_watch(NULL, 1, child_cb, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, 1, NULL, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, 0, child_cb, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, -1, child_cb, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_child_watch(loop, INT_MIN, child_cb, NULL, &id));
    ASSERT_ERR(EVL_ENOENT, evl_child_watch(loop, INT_MAX, child_cb, NULL, &id));
    ASSERT_ERR(EVL_EINVAL, evl_child_unwatch(NULL, 1));
    ASSERT_ERR(EVL_ENOENT, evl_child_unwatch(loop, UINT64_MAX));
    evl_spawn_options_init(NULL);
    struct evl_spawn_options so;
    evl_spawn_options_init(&so);
    pid_t pid = 0;
    ASSERT_ERR(EVL_EINVAL, evl_spawn(NULL, &so, &pid, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, NULL, &pid, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, &so, &pid, NULL)); /* no file */
    so.file = "/nonexistent/evl-badinput";
    so.stdio[0].kind = (enum evl_stdio_kind)99;
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, &so, &pid, NULL));
    evl_spawn_options_init(&so);
    so.size = 1;
    so.file = "true";
    ASSERT_ERR(EVL_EINVAL, evl_spawn(loop, &so, &pid, NULL));
    ASSERT_EQ(evl_loop_alive(loop), 0);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- pool.h, overload.h ------------------------------------------------------------------ */

TEST(badinput_pool_and_overload)
{
    struct evl_loop *loop = new_loop();
    struct evl_pool *pool = (struct evl_pool *)&pool;
    ASSERT_ERR(EVL_EINVAL, evl_pool_new(NULL, 1));
    ASSERT_ERR(EVL_ERANGE, evl_pool_new(&pool, 257));
    ASSERT_ERR(EVL_ERANGE, evl_pool_new(&pool, UINT_MAX));
    ASSERT_ERR(EVL_EINVAL, evl_pool_free(NULL));
    ASSERT_UEQ(evl_pool_threads(NULL), 0);
    ASSERT_OK(evl_pool_new(&pool, 1));
    struct evl_promise *p = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(NULL, loop, work_cb, NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(pool, NULL, work_cb, NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(pool, loop, NULL, NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_pool_submit(pool, loop, work_cb, NULL, NULL));
    ASSERT_NULL(p);
    ASSERT_OK(evl_pool_submit(pool, loop, work_cb, NULL, &p));
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED); /* accepted work settled */
    evl_promise_release(p);
    ASSERT_OK(evl_pool_free(pool));

    struct evl_overload_stats os;
    ASSERT_ERR(EVL_EINVAL, evl_loop_overload_stats(NULL, &os));
    ASSERT_ERR(EVL_EINVAL, evl_loop_overload_stats(loop, NULL));
    (void)evl_loop_submit_retry_ns();
    evl_loop_set_limit_hook(NULL, NULL, NULL);
    evl_loop_set_limit_hook(loop, NULL, NULL);
    ASSERT_ERR(EVL_EINVAL, evl_loop_set_checkpoint_cap(NULL, 1));
    struct evl_submit_group *g = (struct evl_submit_group *)&g;
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(NULL, "g", 10, 1, &g));
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(loop, "g", 10, 1, NULL));
    const double bad_rates[] = {NAN, -NAN, 0.0, -1.0, 1e9 * 2, INFINITY};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(loop, "g", bad_rates[i], 1, &g));
    }
    char longname[100];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_new(loop, longname, 10, 1, &g));
    ASSERT_NULL(g);
    evl_submit_group_free(NULL);
    ASSERT_NULL(evl_submit_group_name(NULL));
    int ran = 0;
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_submit(NULL, task_cb, NULL, &ran));
    uint64_t acc = 0, ref = 0;
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_stats(NULL, &acc, &ref));
    ASSERT_OK(evl_submit_group_new(loop, "g", 1000, 10, &g));
    ASSERT_ERR(EVL_EINVAL, evl_submit_group_submit(g, NULL, NULL, &ran));
    ASSERT_OK(evl_submit_group_submit(g, task_cb, NULL, &ran));
    ASSERT_OK(evl_submit_group_stats(g, NULL, NULL));
    ASSERT_OK(evl_submit_group_stats(g, &acc, &ref));
    ASSERT_UEQ(acc, 1);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(ran, 1);
    evl_submit_group_free(g);
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- metrics.h, log.h ------------------------------------------------------------------- */

TEST(badinput_metrics)
{
    struct evl_loop *loop = new_loop();
    evl_metrics_options_init(NULL);
    evl_metrics_serve_options_init(NULL);
    ASSERT_ERR(EVL_EINVAL, evl_metrics_enable(NULL, NULL));
    struct evl_metrics_options mo;
    evl_metrics_options_init(&mo);
    mo.size = 1;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_enable(loop, &mo));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_disable(NULL));
    ASSERT_EQ(evl_metrics_enabled(NULL), 0);
    ASSERT_ERR(EVL_EINVAL, evl_metrics_reset(NULL));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_reset(loop)); /* never enabled */
    struct evl_metrics_snapshot snap;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_snapshot(NULL, &snap));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_snapshot(loop, NULL));
    memset(&snap, 0, sizeof(snap));
    snap.size = 1;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_snapshot(loop, &snap));
    size_t needed = 0;
    char buf[8];
    ASSERT_ERR(EVL_EINVAL, evl_metrics_write_prometheus(NULL, buf, sizeof(buf), &needed));
    ASSERT_ERR(EVL_ERANGE, evl_metrics_write_prometheus(loop, NULL, 0, &needed));
    ASSERT_TRUE(needed > 0);
    ASSERT_ERR(EVL_ERANGE, evl_metrics_write_prometheus(loop, buf, sizeof(buf), NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(NULL, "127.0.0.1:0"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "not an address"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve(loop, "127.0.0.1:99999"));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve_ex(NULL, "127.0.0.1:0", NULL));
    struct evl_metrics_serve_options so;
    evl_metrics_serve_options_init(&so);
    so.size = 1;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve_ex(loop, "127.0.0.1:0", &so));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_serve_port(loop));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve_port(NULL));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_serve_stop(loop));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve_stop(NULL));
    struct evl_metrics_serve_stats ss;
    ASSERT_ERR(EVL_ENOENT, evl_metrics_serve_stats(loop, &ss));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_serve_stats(NULL, &ss));
    (void)evl_thread_cpu_ns();
    uint64_t idle = 0;
    ASSERT_ERR(EVL_EINVAL, evl_metrics_idle_enable(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_idle_time(NULL, &idle, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_metrics_idle_time(loop, NULL, NULL));
    ASSERT_ERR(EVL_ENOENT, evl_metrics_idle_time(loop, &idle, NULL)); /* not enabled */
    ASSERT_OK(evl_metrics_idle_enable(loop));
    ASSERT_OK(evl_metrics_idle_enable(loop)); /* idempotent */
    ASSERT_OK(evl_metrics_idle_time(loop, &idle, NULL));
    /* Double disable is harmless. */
    ASSERT_OK(evl_metrics_enable(loop, NULL));
    ASSERT_OK(evl_metrics_disable(loop));
    ASSERT_OK(evl_metrics_disable(loop));
    ASSERT_OK(evl_loop_free(loop));
}

TEST(badinput_log)
{
    struct evl_loop *loop = new_loop();
    ASSERT_NOT_NULL(evl_log_level_name(INT_MIN));
    ASSERT_NOT_NULL(evl_log_level_name(12345));
    int level = EVL_LOG_INFO;
    ASSERT_ERR(EVL_EINVAL, evl_log_level_parse(NULL, &level));
    ASSERT_ERR(EVL_EINVAL, evl_log_level_parse("loud", &level));
    ASSERT_ERR(EVL_EINVAL, evl_log_level_parse("warn", NULL));
    ASSERT_EQ(level, EVL_LOG_INFO);
    evl_log(NULL, EVL_LOG_ERROR, "c", "%s", "no loop: nothing happens");
    ASSERT_EQ(evl_log_enabled(NULL, EVL_LOG_ERROR), 0);
    evl_log_event(NULL, EVL_LOG_ERROR, "c", "e", "m", NULL, 0);
    ASSERT_ERR(EVL_EINVAL, evl_log_timer_audit(NULL, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_log_timer_audit(loop, -1));
    ASSERT_EQ(evl_log_timer_audit_level(NULL), EVL_LOG_OFF);
    ASSERT_EQ(evl_log_timer_audit_level(loop), EVL_LOG_OFF);
    ASSERT_ERR(EVL_EINVAL, evl_logger_set_level(NULL, EVL_LOG_INFO));
    ASSERT_EQ(evl_logger_level(NULL), EVL_LOG_OFF);
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_fd(NULL, 2, EVL_LOG_FORMAT_JSON, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_fd(loop, -1, EVL_LOG_FORMAT_JSON, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_fd(loop, 2, (enum evl_log_format)99, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_callback(NULL, log_sink, NULL, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_callback(loop, NULL, NULL, EVL_LOG_INFO));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_redaction(NULL, "x", NULL));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_redaction(loop, NULL, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_logger_add_redaction(loop, "(unclosed", NULL));
    for (int i = 0; i < EVL_LOG_MAX_REDACTIONS; i++) {
        ASSERT_OK(evl_logger_add_redaction(loop, "secret", "***"));
    }
    ASSERT_ERR(EVL_ELIMIT, evl_logger_add_redaction(loop, "secret", "***"));
    /* A structured record with NULL strings everywhere they may be NULL. */
    ASSERT_OK(evl_logger_add_callback(loop, log_sink, NULL, EVL_LOG_DEBUG));
    const struct evl_log_field f[] = {EVL_LF_STR("s", NULL), EVL_LF_DOUBLE("d", NAN),
                                      EVL_LF_ERROR("e", INT_MIN)};
    evl_log_event(loop, EVL_LOG_ERROR, "c", NULL, NULL, f, 3);
    ASSERT_OK(evl_logger_set_level(loop, EVL_LOG_OFF));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- context.h ----------------------------------------------------------------------------- */

TEST(badinput_context)
{
    struct evl_loop *loop = new_loop();
    struct evl_context_hooks h = {sizeof(h), cap_none, enter_none, leave_none, NULL};
    int slot = -1;
    unsigned char cid[16];
    ASSERT_EQ(evl_context_frame_correlation(NULL, cid), 0);
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(NULL, &h, NULL, &slot));
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, NULL, NULL, &slot));
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &h, NULL, NULL));
    h.size = 1;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &h, NULL, &slot));
    h.size = sizeof(h);
    h.enter = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_context_add_slot(loop, &h, NULL, &slot));
    h.enter = enter_none;
    ASSERT_ERR(EVL_EINVAL, evl_context_remove_slot(NULL, 0));
    ASSERT_TRUE(evl_context_remove_slot(loop, -1) == EVL_EINVAL ||
                evl_context_remove_slot(loop, -1) == EVL_ENOENT);
    ASSERT_TRUE(evl_context_remove_slot(loop, INT_MAX) == EVL_EINVAL ||
                evl_context_remove_slot(loop, INT_MAX) == EVL_ENOENT);
    ASSERT_OK(evl_context_add_slot(loop, &h, NULL, &slot));
    ASSERT_OK(evl_context_remove_slot(loop, slot));
    ASSERT_ERR(EVL_ENOENT, evl_context_remove_slot(loop, slot)); /* double remove */
    struct evl_context_frame *frame = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_context_capture(NULL, &frame));
    ASSERT_ERR(EVL_EINVAL, evl_context_capture(loop, NULL));
    ASSERT_NULL(evl_context_retain(NULL));
    evl_context_release(loop, NULL);
    evl_context_release(NULL, NULL);
    struct evl_context_scope scope;
    evl_context_enter(loop, NULL, &scope);
    evl_context_leave(loop, &scope);
    evl_context_leave(loop, &scope); /* a second leave of one scope: harmless */
    evl_context_enter(NULL, NULL, &scope);
    evl_context_leave(NULL, &scope);
    evl_context_enter(loop, NULL, NULL);
    evl_context_leave(loop, NULL);
    unsigned char id[16];
    ASSERT_ERR(EVL_EINVAL, evl_correlation_new(NULL, id));
    ASSERT_ERR(EVL_EINVAL, evl_correlation_new(loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_correlation_set(NULL, id));
    ASSERT_OK(evl_correlation_set(loop, NULL)); /* none */
    ASSERT_EQ(evl_correlation_get(NULL, id), 0);
    ASSERT_EQ(evl_correlation_get(loop, NULL), 0);
    char text[37] = "unchanged";
    evl_uuid_format(NULL, text);
    ASSERT_STR_EQ(text, "");
    evl_uuid_format(id, NULL);
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse(NULL, id));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-0000-7000-8000-00000000000", id));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-0000-7000-8000-00000000000g", id));
    ASSERT_ERR(EVL_EINVAL, evl_uuid_parse("0190b6b2-0000-7000-8000-000000000000", NULL));
    ASSERT_OK(evl_loop_free(loop));
}

/* ---- error.h ----------------------------------------------------------------------------- */

TEST(badinput_errors)
{
    struct evl_error *e = (struct evl_error *)&e;
    ASSERT_ERR(EVL_EINVAL, evl_error_new(NULL, EVL_EIO, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_error_new(&e, 0, "zero"));
    ASSERT_ERR(EVL_EINVAL, evl_error_new_sys(NULL, EIO, "read", NULL));
    unsigned char cid[16] = {0};
    ASSERT_EQ(evl_error_correlation(NULL, cid), 0);
    ASSERT_ERR(EVL_EINVAL, evl_error_set_correlation(NULL, cid));
    ASSERT_OK(evl_error_new_sys(&e, 0, NULL, NULL));
    ASSERT_ERR(EVL_EIO, evl_error_code(e)); /* errnum 0: no errno to keep */
    ASSERT_NULL(evl_error_syscall(e));
    evl_error_free(e);
    char longcall[200];
    memset(longcall, 'c', sizeof(longcall) - 1);
    longcall[sizeof(longcall) - 1] = '\0';
    ASSERT_OK(evl_error_new_sys(&e, -7, longcall, NULL));
    ASSERT_ERR(EVL_EIO, evl_error_code(e));
    ASSERT_TRUE(strlen(evl_error_syscall(e)) < sizeof(longcall) - 1); /* cut */
    ASSERT_OK(evl_error_set_syscall(e, NULL));
    ASSERT_NULL(evl_error_syscall(e));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_syscall(NULL, "x"));
    evl_error_free(e);
    evl_error_free(NULL);
    evl_error_dtor(NULL, NULL);
    ASSERT_EQ(evl_error_code(NULL), 0);
    ASSERT_NULL(evl_error_message(NULL));
    ASSERT_NULL(evl_error_cause(NULL));
    ASSERT_NULL(evl_error_context(NULL));
    ASSERT_NULL(evl_error_syscall(NULL));
    ASSERT_NULL(evl_error_errors(NULL));
    ASSERT_NULL(evl_error_find(NULL, EVL_EIO));
    ASSERT_NULL(evl_error_root(NULL));
    evl_error_set_context(NULL, NULL, NULL);
    /* Causes: NULL err, a cycle through the chain, the error itself. */
    struct evl_error *a = NULL, *b = NULL, *c = NULL;
    ASSERT_OK(evl_error_new(&a, EVL_EIO, "a"));
    ASSERT_OK(evl_error_new(&b, EVL_ETYPE, "b"));
    ASSERT_OK(evl_error_new(&c, EVL_ERANGE, "c"));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(NULL, a));
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(a, a));
    ASSERT_OK(evl_error_set_cause(a, b));              /* a -> b */
    ASSERT_OK(evl_error_set_cause(b, c));              /* a -> b -> c */
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(c, a)); /* c -> a would close a cycle */
    ASSERT_ERR(EVL_EINVAL, evl_error_set_cause(b, a));
    ASSERT_NULL(evl_error_find(a, EVL_EAGAIN)); /* terminates */
    ASSERT_PTR_EQ(evl_error_root(a), c);
    ASSERT_OK(evl_error_set_cause(a, NULL)); /* frees b and c */
    ASSERT_NULL(evl_error_cause(a));
    evl_error_free(a);
}

/* ---- promise.h ---------------------------------------------------------------------------- */

static int dtor_calls;
static void count_dtor(struct evl_loop *loop, void *ptr)
{
    (void)loop;
    (void)ptr;
    dtor_calls++;
}

static int never_thenable(struct evl_loop *loop, void *ud, void *value, void **then_out,
                          evl_dtor_cb *then_dtor)
{
    (void)loop;
    (void)ud;
    (void)value;
    (void)then_out;
    (void)then_dtor;
    return 0;
}

static void rejection_cb(struct evl_loop *loop, struct evl_promise *p, void *ud)
{
    (void)loop;
    (void)p;
    (void)ud;
}

static void site_cb(struct evl_promise *p, const char *file, int line, void *ud)
{
    (void)p;
    (void)file;
    (void)line;
    ++*(size_t *)ud;
}

TEST(badinput_promises)
{
    struct evl_loop *loop = new_loop();
    struct evl_promise *p = NULL, *q = NULL;
    int v = 0;
    ASSERT_ERR(EVL_EINVAL, evl_promise_new(NULL, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_new(loop, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolved(NULL, &v, count_dtor, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolved(loop, &v, count_dtor, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_promise_rejected(NULL, &v, count_dtor, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_rejected(loop, &v, count_dtor, NULL));
    ASSERT_EQ(dtor_calls, 0); /* refused: the value stays the caller's */
    ASSERT_NULL(evl_promise_resolved_promise(NULL));
    ASSERT_NULL(evl_promise_retain(NULL));
    evl_promise_release(NULL);
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolve(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_promise_reject(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolve_promise(NULL, NULL));
    ASSERT_OK(evl_promise_new(loop, &p));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolve_promise(p, NULL));
    struct evl_promise_resolvers *rs = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_promise_with_resolvers(NULL, &q, &rs));
    ASSERT_ERR(EVL_EINVAL, evl_promise_with_resolvers(loop, NULL, &rs));
    ASSERT_ERR(EVL_EINVAL, evl_promise_with_resolvers(loop, &q, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolvers_get(NULL, &rs));
    ASSERT_ERR(EVL_EINVAL, evl_promise_resolvers_get(p, NULL));
    ASSERT_NULL(evl_promise_resolvers_retain(NULL));
    evl_promise_resolvers_release(NULL);
    ASSERT_NULL(evl_promise_resolvers_promise(NULL));
    ASSERT_EQ(evl_promise_resolvers_done(NULL), 1);
    ASSERT_ERR(EVL_EINVAL, evl_resolvers_resolve(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_resolvers_resolve_promise(NULL, p));
    ASSERT_ERR(EVL_EINVAL, evl_resolvers_reject(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_promise_then(NULL, reaction_cb, NULL, NULL, NULL, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_catch(NULL, reaction_cb, NULL, NULL, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_finally(NULL, fn_cb, NULL, NULL, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_try(NULL, fn_cb, NULL, NULL, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_try(loop, NULL, NULL, NULL, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_try(loop, fn_cb, NULL, NULL, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_result_resolve(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_result_resolve_promise(NULL, p));
    ASSERT_ERR(EVL_EINVAL, evl_result_reject(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_result_forward(NULL));
    ASSERT_NULL(evl_result_source(NULL));
    ASSERT_EQ(evl_promise_state(NULL), EVL_PROMISE_PENDING);
    ASSERT_NULL(evl_promise_value(NULL));
    ASSERT_NULL(evl_promise_loop(NULL));
    ASSERT_NULL(evl_promise_reason_as_error(NULL));
    ASSERT_EQ(evl_promise_is_handled(NULL), 0);
    evl_promise_mark_handled(NULL);
    evl_promise_mark_exposed(NULL);
    ASSERT_EQ(evl_promise_is_exposed(NULL), 0);
    ASSERT_ERR(EVL_EINVAL, evl_promise_all(NULL, NULL, 0, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_all(loop, NULL, 3, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_all(loop, NULL, 0, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_promise_all_settled(loop, NULL, 2, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_any(loop, NULL, SIZE_MAX, &q));
    ASSERT_ERR(EVL_EINVAL, evl_promise_race(NULL, NULL, 0, &q));
    ASSERT_UEQ(evl_values_count(NULL), 0);
    ASSERT_NULL(evl_values_get(NULL, 0));
    ASSERT_EQ(evl_values_status(NULL, SIZE_MAX), EVL_PROMISE_PENDING);
    ASSERT_NULL(evl_values_error(NULL, 0));
    struct evl_resolver *r = NULL;
    ASSERT_ERR(EVL_EINVAL, evl_resolver_new(NULL, &r));
    ASSERT_ERR(EVL_EINVAL, evl_resolver_new(p, NULL));
    ASSERT_ERR(EVL_EINVAL, evl_resolver_resolve(NULL, &v, count_dtor));
    ASSERT_ERR(EVL_EINVAL, evl_resolver_reject(NULL, &v, count_dtor));
    evl_resolver_release(NULL);
    ASSERT_ERR(EVL_EINVAL, evl_loop_set_thenable_hooks(NULL, NULL));
    /* get_then without call_then: the first thenable would call NULL. */
    struct evl_thenable_hooks th = {never_thenable, NULL, NULL};
    ASSERT_ERR(EVL_EINVAL, evl_loop_set_thenable_hooks(loop, &th));
    ASSERT_OK(evl_loop_set_thenable_hooks(loop, NULL));
    ASSERT_NULL(evl_loop_thenable_ud(NULL));
    ASSERT_ERR(EVL_EINVAL, evl_loop_set_rejection_hooks(NULL, rejection_cb, NULL, NULL));
    struct evl_promise_stats ps;
    evl_loop_promise_stats(NULL, &ps);
    evl_loop_promise_stats(loop, NULL);
    ASSERT_ERR(EVL_EINVAL, evl_loop_promise_registry(NULL, 1));
    ASSERT_UEQ(evl_loop_promise_dump(NULL, site_cb, NULL), 0);
    /* A NULL callback only counts (the registry is on by default in debug builds). */
    size_t listed = 0;
    ASSERT_UEQ(evl_loop_promise_dump(loop, NULL, NULL),
               evl_loop_promise_dump(loop, site_cb, &listed));
    ASSERT_UEQ(listed, evl_loop_promise_dump(loop, NULL, NULL));
    const char *file = "x";
    int line = 7;
    evl_promise_site(NULL, &file, &line);
    ASSERT_NULL(file);
    evl_promise_site(p, NULL, NULL);
    evl_promise_set_site(NULL, -1);
    ASSERT_EQ(dtor_calls, 0);

    /* Double settlement and double use are detected; the first settlement stands. */
    ASSERT_OK(evl_resolver_new(p, &r));
    ASSERT_OK(evl_promise_resolve(p, &v, count_dtor));
    ASSERT_ERR(EVL_EALREADY, evl_promise_resolve(p, &v, count_dtor));
    ASSERT_ERR(EVL_EALREADY, evl_promise_reject(p, &v, count_dtor));
    ASSERT_OK(evl_promise_resolvers_get(p, &rs));
    ASSERT_EQ(evl_promise_resolvers_done(rs), 1);
    ASSERT_ERR(EVL_EALREADY, evl_resolvers_resolve(rs, &v, count_dtor));
    evl_promise_resolvers_release(rs);
    ASSERT_OK(evl_resolver_resolve(r, &v, count_dtor)); /* hops; the promise ignores it */
    ASSERT_ERR(EVL_EALREADY, evl_resolver_resolve(r, &v, count_dtor));
    ASSERT_ERR(EVL_EALREADY, evl_resolver_reject(r, &v, count_dtor));
    evl_resolver_release(r);
    ASSERT_OK(evl_loop_run(loop, EVL_RUN_DEFAULT));
    ASSERT_EQ(evl_promise_state(p), EVL_PROMISE_FULFILLED);
    ASSERT_PTR_EQ(evl_promise_value(p), &v);
    evl_promise_release(p);
    /* The value p owned and the resolver's unused one: two destructor runs, no more. */
    ASSERT_EQ(dtor_calls, 2);
    ASSERT_OK(evl_loop_free(loop));
}
